"""`diff --format html`: the new grid with every change marked in place (markup contract).

Read back with lxml, the way a team's script would read it: cells by ``data-period`` /
``data-lane``, cards by ``data-title`` / ``data-change`` (docs/schemas.md, "HTML diff"). What a
person sees in a real browser is checked in tests/test_html_browser.py.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from roadmaps import PAGE_PERIODS, card, lane_label, period_label, roadmap

from wikisync.cli import cli
from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Lane, Roadmap, VersionRef
from wikisync.render import RenderOptions
from wikisync.render.html import CHANGE_KINDS, render_diff_html

ROOT = Path(__file__).resolve().parent.parent
V5 = ROOT / "tests" / "data" / "openedx" / "v5.storage.html"
V6 = ROOT / "tests" / "data" / "openedx" / "v6.storage.html"
MAKE = lane_label("make")
CARD = "//li[contains(concat(' ', @class, ' '), ' card ')]"
USE = lane_label("use")


def changeset(old: Roadmap, new: Roadmap) -> ChangeSet:
    return ChangeSet(
        old=VersionRef("page@v5", 5, "2020-12-15T16:00:00Z", "Ada"),
        new=VersionRef("page@v6", 6, "2021-02-10T16:00:00Z", "Grace"),
        changes=diff_roadmaps(old, new),
        date="2021-02-10",
        old_roadmap=old,
        new_roadmap=new,
    )


def every_kind() -> ChangeSet:
    """One card of each kind of change, all in the make-change lane."""
    old = roadmap(
        card("Monolith Structure <Pilot> [1]", "Q1"),
        card("Eventing Inter-service messaging <Pilot> [1]", "Q2"),
        card("Developer Handbook", "Backlog"),
        card("Decentralized Devstack Adoption [1]", "Q2"),
        card("Toggle Docs (OEP-17) <Pilot> [5]", "Q3"),
        card("Nose to Pytest [4]", "Q3"),
        card("Remove Shopping Cart", "Q4"),
    )
    new = roadmap(
        card("Monolith Structure <Pilot> [1]", "Q1"),
        card("Eventing Inter-service messaging <Pilot> [1]", "Q4"),
        card("Developer Handbook", "Q4"),
        card("Devstack Doc wins, Data Provision, Eval Tutor", "Q2"),
        card("Toggle Docs (OEP-17) <Adopt> [5]", "Q3"),
        card("Nose to Pytest migration [4]", "Q3"),
        card("Monolith PR Standards", "Q3"),
    )
    return changeset(old, new)


def doc(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def cards(tree: lxml.html.HtmlElement, change: str | None = None) -> list[lxml.html.HtmlElement]:
    if change is None:
        return tree.xpath(CARD)
    return [c for c in tree.xpath(CARD) if c.get("data-change") == change]


def one(tree: lxml.html.HtmlElement, title: str, change: str) -> lxml.html.HtmlElement:
    found = [c for c in cards(tree, change) if c.get("data-title") == title]
    assert len(found) == 1, (
        title,
        change,
        [(c.get("data-title"), c.get("data-change")) for c in cards(tree)],
    )
    return found[0]


def cell_of(el: lxml.html.HtmlElement) -> tuple[str | None, str | None]:
    td = next(a for a in el.iterancestors() if a.tag == "td")
    return td.get("data-period"), td.get("data-lane")


def text(el: lxml.html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def test_every_card_and_cell_carries_the_contract_attributes() -> None:
    tree = doc(render_diff_html(every_kind()))
    tds = tree.xpath("//table[@class='grid']//td")
    assert len(tds) == 8 * 9  # every period × every lane, no spans here
    labels = {p.label for p in PAGE_PERIODS}
    for td in tds:
        assert td.get("data-period") in labels
        assert td.get("data-lane")
    for c in cards(tree):
        assert c.get("data-title")
        assert c.get("data-change") in CHANGE_KINDS


def test_each_change_is_marked_in_place_with_words() -> None:
    tree = doc(render_diff_html(every_kind()))
    deferred = one(tree, "Eventing Inter-service messaging", "deferred")
    assert cell_of(deferred) == (period_label("Q4"), MAKE)
    assert "from Q2" in text(deferred) and "↓" in text(deferred)
    ghost = one(tree, "Eventing Inter-service messaging", "moved-away")
    assert cell_of(ghost) == (period_label("Q2"), MAKE)
    assert "→ Q4" in text(ghost)
    up = one(tree, "Developer Handbook", "moved-up")
    assert cell_of(up) == (period_label("Q4"), MAKE) and "moved up from Backlog" in text(up)
    assert cell_of(one(tree, "Developer Handbook", "moved-away")) == (period_label("Backlog"), MAKE)
    old = one(tree, "Decentralized Devstack Adoption", "replaced")
    new = one(tree, "Devstack Doc wins, Data Provision, Eval Tutor", "replaced")
    assert "struck" in old.get("class") and "struck" not in new.get("class")
    assert "replaced by “Devstack Doc wins, Data Provision, Eval Tutor”" in text(old)
    assert "replaces “Decentralized Devstack Adoption”" in text(new)
    assert "was “Nose to Pytest”" in text(one(tree, "Nose to Pytest migration", "renamed"))
    assert "stage Pilot → Adopt" in text(one(tree, "Toggle Docs (OEP-17)", "changed"))
    added = one(tree, "Monolith PR Standards", "added")
    assert cell_of(added) == (period_label("Q3"), MAKE) and "+ added" in text(added)
    deleted = one(tree, "Remove Shopping Cart", "deleted")
    assert cell_of(deleted) == (period_label("Q4"), MAKE)
    assert "struck" in deleted.get("class") and "✗ deleted" in text(deleted)
    assert cell_of(one(tree, "Monolith Structure", "unchanged")) == (period_label("Q1"), MAKE)


def test_legend_counts_and_the_change_history_entry_sit_above_the_grid() -> None:
    cs = every_kind()
    html = render_diff_html(cs)
    tree = doc(html)
    rows = {r.get("data-kind"): r for r in tree.xpath("//table[@class='legend']/tbody/tr")}
    expect = {"deferred": 1, "moved-up": 1, "replaced": 1, "added": 1, "deleted": 1,
              "renamed": 1, "changed": 1}  # fmt: skip
    for kind, n in expect.items():
        assert rows[kind].xpath("td[@class='n']")[0].text == str(n)
        assert int(rows[kind].xpath("td[@class='n']")[0].get("data-count")) == len(
            cards(tree, kind)
        )
    assert len(cards(tree, "replaced")) == 2
    assert rows["moved-away"].xpath("td[@class='n']")[0].text == "2"
    entry = text(tree.xpath("//section[@class='entry']")[0])
    assert "Moved “Eventing Inter-service messaging” from Q2 to Q4." in entry
    assert "Deleted “Remove Shopping Cart” from Q4." in entry
    versions = text(tree.xpath("//p[@class='versions']")[0])
    assert "v5" in versions and "v6" in versions and "Ada" in versions and "Grace" in versions
    assert html.index('class="legend"') < html.index('class="grid"')


def test_period_names_follow_the_configured_aliases() -> None:
    options = RenderOptions(period_names={"FY21 Q2 (Oct-Dec)": "Koa", "Q4": "Lilac"})
    tree = doc(render_diff_html(every_kind(), options))
    assert "deferred from Koa" in text(one(tree, "Eventing Inter-service messaging", "deferred"))
    assert "→ Lilac" in text(one(tree, "Eventing Inter-service messaging", "moved-away"))


def test_self_contained_deterministic_and_scriptless() -> None:
    cs = every_kind()
    html = render_diff_html(cs)
    assert html == render_diff_html(every_kind())
    assert html.startswith("<!DOCTYPE html>")
    tree = doc(html)
    assert not tree.xpath("//script|//link|//img|//iframe|//object|//embed")
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']")[0].get("content")
    assert "default-src 'none'" in csp
    assert "http://" not in html and "https://" not in html


def test_a_card_spanning_periods_spans_its_cell() -> None:
    old = roadmap(card("Observability Training [1]", "Q1", "observe"))
    new = roadmap(
        card("Observability Training [1]", "Q1", "observe"),
        card("Django 3.2 upgrade [All]", "Q3", "upgrade", until="Q4"),
        card("Python 3.8 [3]", "Q3", "use", until="Q4"),
        card("Toggle Docs", "Q4", "use"),  # occupies the cell the Python card would cover
    )
    tree = doc(render_diff_html(changeset(old, new)))
    span = one(tree, "Django 3.2 upgrade", "added")
    td = next(a for a in span.iterancestors() if a.tag == "td")
    assert td.get("rowspan") == "2" and td.get("data-period-end") == period_label("Q4")
    upgrade = [t for t in tree.xpath("//td") if t.get("data-lane") == lane_label("upgrade")]
    assert len(upgrade) == 7  # 8 periods, one cell covering two
    python = one(tree, "Python 3.8", "added")
    assert next(a for a in python.iterancestors() if a.tag == "td").get("rowspan") is None
    assert "(Q3–Q4)" in text(python)


def test_turned_table_puts_periods_across_and_spans_columns() -> None:
    lanes = [Lane("Platform", ("Platform",)), Lane("Frontend", ("Frontend",))]
    old = replace(
        roadmap(card("MFE Theming", "Q1", "Frontend"), lanes=lanes), orientation="columns"
    )
    new = replace(
        roadmap(card("MFE Theming", "Q2", "Frontend", until="Q3"), lanes=lanes),
        orientation="columns",
    )
    tree = doc(render_diff_html(changeset(old, new)))
    head = [th.get("data-period") for th in tree.xpath("//table[@class='grid']/thead//th")][1:]
    assert head == [p.label for p in PAGE_PERIODS]
    rows = tree.xpath("//table[@class='grid']/tbody/tr")
    assert [r.xpath("th")[0].text_content() for r in rows] == ["Platform", "Frontend"]
    moved = one(tree, "MFE Theming", "deferred")
    td = next(a for a in moved.iterancestors() if a.tag == "td")
    assert td.get("colspan") == "2" and td.get("data-lane") == "Frontend"
    assert cell_of(one(tree, "MFE Theming", "moved-away")) == (period_label("Q1"), "Frontend")


def test_cards_whose_period_is_gone_are_listed_below_the_grid() -> None:
    periods = [p for p in PAGE_PERIODS if p.short != "Q1"]
    old = roadmap(card("Remove Shopping Cart", "Q1", "upgrade"), card("Keep", "Q2"))
    new = roadmap(card("Keep", "Q2"), periods=periods)
    tree = doc(render_diff_html(changeset(old, new)))
    gone = one(tree, "Remove Shopping Cart", "deleted")
    assert not list(a for a in gone.iterancestors() if a.tag == "td")
    assert "was in Q1" in text(tree.xpath("//section[@class='offgrid']")[0])


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "{{ 7*7 }} {% raw %}",
        "\u202egnp.exe \u2066RTL\u2069",
        "' onmouseover='alert(1)",
    ],
)
def test_markup_in_a_card_stays_text(title: str) -> None:
    old = roadmap(card("Toggle Docs", "Q1"))
    hostile = replace(card("x", "Q2"), title=title, text=title, stage=title, orgs=(title,))
    new = roadmap(card("Toggle Docs", "Q1"), hostile)
    html = render_diff_html(changeset(old, new))
    tree = doc(html)
    assert not tree.xpath("//script|//img")
    added = cards(tree, "added")
    assert [c.get("data-title") for c in added] == [title]
    assert title in added[0].xpath(".//bdi")[0].text_content()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.toml"), *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_writes_one_page_to_stdout_or_a_file(tmp_path: Path) -> None:
    code, out, err = run("diff", str(V5), str(V6), "--format", "html")
    assert code == 0, err
    target = tmp_path / "diff.html"
    code, out2, err = run("diff", str(V5), str(V6), "--format", "html", "-o", str(target))
    assert code == 0 and out2 == "", err
    assert target.read_text(encoding="utf-8") == out
    tree = doc(out)
    moved = one(tree, "Backend Plugins Python APIs", "deferred")
    assert cell_of(moved)[0] == "FY21 Q4 (Apr-Jun)" and "deferred from Q3" in text(moved)


def test_cli_output_to_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    code, out, err = run(
        "diff", str(V5), str(V6), "--format", "html", "-o", str(tmp_path / "no" / "x.html")
    )
    assert code == 2 and out == ""
    assert err.startswith("wikisync: error: ") and len(err.strip().splitlines()) == 1
    assert "does not exist" in err and "Traceback" not in err


def test_cli_does_not_import_the_html_renderer_at_startup() -> None:
    code = (
        "import sys, wikisync.cli; "
        "bad = [m for m in ('wikisync.render.html', 'wikisync.report') if m in sys.modules]; "
        "print(bad); raise SystemExit(bool(bad))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_the_markup_contract_is_documented() -> None:
    schemas = (ROOT / "docs" / "schemas.md").read_text(encoding="utf-8")
    section = schemas.split("## `wikisync.html/1`", 1)[1].split("\n## ", 1)[0]
    for kind in CHANGE_KINDS:
        assert f"| `{kind}` |" in section, kind
    for attribute in ("data-period", "data-lane", "data-title", "data-change", "data-count"):
        assert f"`{attribute}`" in section, attribute
    assert 'content="wikisync.html/1"' in render_diff_html(every_kind())
