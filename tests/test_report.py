"""`wikisync report NAME --out DIR`: a static site of a page's stored history.

Built from a copy of the bundled example's store (never the repository's own snapshots/).
Checks: the pages and their links (relative, every one resolves), determinism, regeneration in
place (only changed files rewritten, only our own stale files removed, a foreign directory
refused), the hook other reports plug into. The browser view: tests/test_html_browser.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from wikisync.cli import cli
from wikisync.errors import WikisyncError
from wikisync.model import Document, Item, SourceMeta
from wikisync.parse import parse_document
from wikisync.render.html import HtmlSection
from wikisync.report import (
    MANIFEST,
    Extras,
    build_site,
    version_url,
    write_report,
    write_site,
)
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"
DATA = ROOT / "tests" / "data" / "openedx"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, tmp_path / "snapshots" / EXAMPLE)
    return Store(tmp_path / "snapshots")


def run(store: Store, *args: str) -> tuple[int, str, str]:
    argv = ["--config", str(ROOT / "config.toml"), "--store", str(store.root), *args]
    result = CliRunner().invoke(cli, argv)
    return result.exit_code, result.stdout, result.stderr


def links(path: Path) -> list[str]:
    tree = lxml.html.document_fromstring(path.read_bytes())
    return [a.get("href") for a in tree.iter("a")]


def test_site_has_index_history_and_one_page_per_change(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, stdout, err = run(store, "report", EXAMPLE, "--out", str(out))
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    diffs = [f"diff-v{n}-v{n + 1}.html" for n in range(1, 7)]
    assert names == sorted([MANIFEST, "cards.html", "history.html", "index.html", *diffs])
    assert stdout.strip() == f"{out}: 9 written, 0 unchanged, 0 removed"
    index = (out / "index.html").read_text(encoding="utf-8")
    for n in range(2, 8):
        assert f'href="diff-v{n - 1}-v{n}.html">v{n}</a>' in index
    assert "first stored version" in index
    history = lxml.html.document_fromstring((out / "history.html").read_bytes())
    dates = [t.get("datetime") for t in history.xpath("//section/h2/time")]
    assert dates == sorted(dates, reverse=True) and len(dates) == 6
    v6 = (out / "diff-v5-v6.html").read_text(encoding="utf-8")
    assert 'rel="prev"' in v6 and 'href="diff-v4-v5.html"' in v6
    assert 'rel="next"' in v6 and 'href="diff-v6-v7.html"' in v6


def test_every_link_is_relative_and_resolves(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_report(store, EXAMPLE, out)
    pages = sorted(out.glob("*.html"))
    assert pages
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "src=" not in html and "<link" not in html
        for href in links(page):
            assert "://" not in href and not href.startswith("/"), (page.name, href)
            assert (out / href.split("#")[0]).is_file(), (page.name, href)


def test_the_report_meets_the_slippage_report(store: Store, tmp_path: Path) -> None:
    """The chart on index.html, cards.html with every card's history, and every card of every
    grid linked to its own history there (the card's lineage, renames included)."""
    out = tmp_path / "site"
    assert run(store, "report", EXAMPLE, "--out", str(out))[0] == 0
    index = lxml.html.document_fromstring((out / "index.html").read_bytes())
    assert index.xpath("//section[@id='slippage']//*[local-name()='svg']")
    cards = lxml.html.document_fromstring((out / "cards.html").read_bytes())
    anchors = {s.get("id"): s for s in cards.xpath("//section[@class='card-history']")}
    assert len(anchors) >= 73  # every card that was ever on the page
    for page in sorted(out.glob("*.html")):
        tree = lxml.html.document_fromstring(page.read_bytes())
        for card in tree.xpath("//*[@data-change and @data-title]"):
            hrefs = [a.get("href") for a in card.iter("a") if a.get("href", "").startswith("cards")]
            for href in hrefs:
                section = anchors[href.split("#", 1)[1]]
                titles = section.get("data-title") + " " + section.text_content()
                assert card.get("data-title") in titles, (page.name, card.get("data-title"))
    # A card renamed along the way is one history under its latest title, naming the old one.
    renamed = [
        s
        for s in anchors.values()
        if " · " in s.xpath("string(p)") and "was “" in s.xpath("string(p)")
    ]
    assert renamed


def test_the_index_marks_the_latest_change_on_the_current_grid(store: Store) -> None:
    files = build_site(store, EXAMPLE)
    index = lxml.html.document_fromstring(files["index.html"])
    latest = lxml.html.document_fromstring(files["diff-v6-v7.html"])

    def marks(tree: lxml.html.HtmlElement) -> list[tuple[str | None, str | None]]:
        return [(c.get("data-title"), c.get("data-change")) for c in tree.xpath("//li")
                if c.get("data-change")]  # fmt: skip

    assert marks(index) == marks(latest)
    assert any(change != "unchanged" for _, change in marks(index))


def test_same_store_same_bytes(store: Store) -> None:
    assert build_site(store, EXAMPLE) == build_site(store, EXAMPLE)


def test_regenerating_rewrites_only_what_changed(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_report(store, EXAMPLE, out)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    again = write_report(store, EXAMPLE, out)
    assert again.written == () and again.removed == ()
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()} == before

    # a new version (v7 with one more card) changes the index, the history, v6→v7's "next"
    # link and adds one page; nothing else is touched
    snaps = store.snapshots(EXAMPLE)
    body = store.document(snaps[-1]).bodies["storage"]
    body = body.replace(
        "<p>Remove Shopping Cart</p>", "<p>Remove Shopping Cart</p><p>---------</p><p>Brand new</p>"
    )
    doc = Document({"storage": body}, SourceMeta(version=8, when="2021-07-01T16:00:00Z"))
    store.put(EXAMPLE, doc, parse_document(doc))
    result = write_report(store, EXAMPLE, out)
    assert set(result.written) == {"index.html", "history.html", "diff-v6-v7.html",
                                   "diff-v7-v8.html"}  # fmt: skip
    for name, stamp in before.items():
        if name not in result.written and name != MANIFEST:
            p = out / name
            assert (p.stat().st_ino, p.stat().st_mtime_ns) == stamp, name


def test_only_our_own_stale_files_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, {"a.html": b"a", "b.html": b"b"})
    (out / "mine.txt").write_text("a user's file")
    result = write_site(out, {"a.html": b"a2"})
    assert result.written == ("a.html",) and result.removed == ("b.html",)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.html", "mine.txt"]
    (out / MANIFEST).write_text("a.html\n../outside.txt\n/etc/passwd\n")
    (tmp_path / "outside.txt").write_text("keep")
    write_site(out, {"c.html": b"c"})
    assert (tmp_path / "outside.txt").read_text() == "keep"


def test_a_directory_the_report_did_not_write_is_refused(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "index.html").write_text("someone's page")
    code, stdout, err = run(store, "report", "--page", EXAMPLE, "--out", str(out))
    assert code == 2 and stdout == ""
    assert err.startswith("wikisync: error: --out") and len(err.strip().splitlines()) == 1
    assert (out / "index.html").read_text() == "someone's page"


def test_a_symlinked_file_in_the_site_is_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, {"a.html": b"a"})
    target = tmp_path / "precious"
    target.write_text("keep")
    (out / "a.html").unlink()
    os.symlink(target, out / "a.html")
    write_site(out, {"a.html": b"new"})
    assert target.read_text() == "keep" and (out / "a.html").read_bytes() == b"new"


def test_an_unknown_page_is_one_line(store: Store, tmp_path: Path) -> None:
    code, _, err = run(store, "report", "nope", "--out", str(tmp_path / "x"))
    assert code == 2 and err.startswith("wikisync: error: unknown page 'nope'")


def test_extras_add_sections_files_and_card_links(store: Store) -> None:
    """The hook the slippage report uses: a chart on the index, card history pages, links."""

    def href(item: Item) -> str:
        return f"cards/{item.id}.html"

    def extras(s: Store, page: str) -> Extras:
        assert page == EXAMPLE and s is store
        svg = '<svg xmlns="http://www.w3.org/2000/svg" id="slip"><text>3 slipped</text></svg>'
        return Extras(
            sections=(HtmlSection("Slippage", svg, "slippage"),),
            files={"cards/x.html": b"<p>history</p>"},
            card_href=href,
        )

    files = build_site(store, EXAMPLE, extras=extras)
    index = files["index.html"].decode()
    assert '<section id="slippage">' in index and "<text>3 slipped</text>" in index
    assert files["cards/x.html"] == b"<p>history</p>"
    card_links = [h for h in links_of(files["diff-v5-v6.html"]) if h.startswith("cards/")]
    assert card_links and all(h.endswith(".html") for h in card_links)

    def bad(s: Store, page: str) -> Extras:
        return Extras(files={"../escape.html": b"x"})

    with pytest.raises(WikisyncError, match="outside the site"):
        build_site(store, EXAMPLE, extras=bad)


def links_of(data: bytes) -> list[str]:
    return [a.get("href") for a in lxml.html.document_fromstring(data).iter("a")]


@pytest.mark.parametrize(
    ("url", "version", "expected"),
    [
        (
            "https://openedx.atlassian.net/wiki/spaces/AC/pages/1812037671/FY21-22+Roadmap",
            6,
            "https://openedx.atlassian.net/wiki/pages/viewpage.action?pageId=1812037671&pageVersion=6",
        ),
        (
            "https://wiki.example.org/pages/viewpage.action?pageId=42",
            3,
            "https://wiki.example.org/pages/viewpage.action?pageId=42&pageVersion=3",
        ),
        ("https://wiki.example.org/display/AC/Roadmap", 3, None),
        ("javascript:alert(1)//spaces/A/pages/1", 3, None),
        ("https://openedx.atlassian.net/wiki/spaces/AC/pages/1812037671", None, None),
    ],
)
def test_the_wiki_version_link(url: str, version: int | None, expected: str | None) -> None:
    assert version_url(url, version) == expected


def test_diff_pages_link_the_wiki_version_and_never_a_script_url(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    page = (DATA / "v5.storage.html").read_text(encoding="utf-8")
    urls = ["javascript:alert(1)", "https://w.example/wiki/spaces/AC/pages/7/Roadmap"]
    for n, (name, url) in enumerate(zip(("v5", "v6"), urls, strict=True)):
        body = page if name == "v5" else (DATA / "v6.storage.html").read_text(encoding="utf-8")
        meta = SourceMeta(version=n + 1, when=f"2021-0{n + 1}-01T00:00:00Z", url=url)
        doc = Document({"storage": body}, meta)
        store.put("p", doc, parse_document(doc))
    files = build_site(store, "p")
    hrefs = links_of(files["diff-v1-v2.html"])
    assert "https://w.example/wiki/pages/viewpage.action?pageId=7&pageVersion=2" in hrefs
    assert not any(h.startswith("javascript") for name in files for h in links_of(files[name])
                   if name.endswith(".html"))  # fmt: skip


def test_one_version_and_versions_without_numbers(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    doc = Document({"storage": (DATA / "v5.storage.html").read_text(encoding="utf-8")})
    snap, _ = store.put("p", doc, parse_document(doc))
    files = build_site(store, "p")
    assert sorted(files) == ["history.html", "index.html"]
    assert "No change to the roadmap is stored yet." in files["index.html"].decode()
    doc2 = Document({"storage": (DATA / "v6.storage.html").read_text(encoding="utf-8")})
    snap2, _ = store.put("p", doc2, parse_document(doc2))
    files = build_site(store, "p")
    pair = [n for n in files if n.startswith("diff-")]
    assert len(pair) == 1 and snap.id in pair[0] and snap2.id in pair[0]
