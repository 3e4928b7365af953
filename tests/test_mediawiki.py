"""MediaWiki end to end, against a real MediaWiki (Debian's package under ``php -S``).

Each module run installs two throwaway wikis (a public one and a private one, where anonymous
reading is off) with scripts/mediawiki_server.py, writes a roadmap page revision by revision
through the API as a person would, and drives wikisync's CLI: backfill, sync, log, diff, audit
and publish, including an edit made by someone else while publish is between its read and its
write.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import requests
from click.testing import CliRunner
from conftest import require

from wikisync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "mediawiki_server", ROOT / "scripts" / "mediawiki_server.py"
)
assert _spec is not None and _spec.loader is not None
mw = importlib.util.module_from_spec(_spec)
sys.modules["mediawiki_server"] = mw
_spec.loader.exec_module(mw)

pytestmark = pytest.mark.wiki

TITLE = "Engineering Roadmap"
PAGE = "mw-roadmap"

TABLE = """{| class="wikitable"
! Period !! Build !! Test !! Deploy
|-
! Q1 2027
| %(q1_build)s
| Nose to Pytest [2]
| Helm charts <Spike> [1]
|-
! Q2 2027
| %(q2_build)s
| Test coverage gate [1, 2]
|
|-
! Backlog
| Event bus <Eval>
|
| Blue-green deploys [2]
|}
"""

V1 = {
    "q1_build": "Toggle Docs (OEP-17) <Pilot> [1]\n----\nDevstack decentralized <Adopt> [2]",
    "q2_build": "Conventional Commits (OEP-51) <Pilot> [1]",
}
# v2: "Devstack decentralized" deferred from Q1 to Q2, a card added in Q2.
V2 = {
    "q1_build": "Toggle Docs (OEP-17) <Pilot> [1]",
    "q2_build": (
        "Conventional Commits (OEP-51) <Pilot> [1]\n----\nDevstack decentralized <Adopt> [2]"
        "\n----\nTutor deploys <Eval> [2]"
    ),
}
# v3: "Toggle Docs (OEP-17)" renamed; the history documents v2's deferral (but not the add).
V3 = {
    "q1_build": "Toggle Docs for every repo (OEP-17) <Pilot> [1]",
    "q2_build": V2["q2_build"],
}
HISTORY_V1 = "* 2026-11-01\n** Added\n*** Added “Event bus” to Backlog.\n"
# v3's hand-written history documents v2's deferral (saved on 2026-12-01), not v2's addition.
HISTORY_V3 = (
    "* 2026-12-01\n** Deferred\n*** Moved “Devstack decentralized” from Q1 to Q2.\n" + HISTORY_V1
)


def page_text(cells: dict[str, str], history: str = HISTORY_V1) -> str:
    return (
        "Our plan for the next quarters. Each card: title, <Stage>, [organisations].\n\n"
        + TABLE % cells
        + "\nOrganizations listed above:\n# edX\n# OpenCraft\n\n"
        + "== Change History ==\n"
        + history
        + "\n== See also ==\n* [[Main Page]]"  # MediaWiki strips trailing newlines on save
    )


class Editor:
    """A person editing the wiki through the API (the test's own client, not wikisync's)."""

    def __init__(self, base_url: str, user: str = "Carol") -> None:
        self.api = base_url + "/api.php"
        self.s = requests.Session()
        self.s.trust_env = False
        token = self._get(action="query", meta="tokens", type="login")["query"]["tokens"]
        r = self.s.post(
            self.api,
            data={
                "action": "login",
                "lgname": f"{user}@{mw.BOT_APPID}",
                "lgpassword": mw.BOT_PASSWORD,
                "lgtoken": token["logintoken"],
                "format": "json",
                "formatversion": 2,
            },
            timeout=30,
        )
        assert r.json()["login"]["result"] == "Success", r.text

    def _get(self, **params: object) -> dict:  # type: ignore[type-arg]
        r = self.s.get(
            self.api, params={**params, "format": "json", "formatversion": 2}, timeout=30
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def edit(self, title: str, text: str, summary: str = "edit") -> int:
        token = self._get(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
        r = self.s.post(
            self.api,
            data={
                "action": "edit",
                "title": title,
                "text": text,
                "summary": summary,
                "token": token,
                "format": "json",
                "formatversion": 2,
            },
            timeout=30,
        )
        data = r.json()
        assert data.get("edit", {}).get("result") == "Success", data
        return int(data["edit"]["newrevid"])

    def wikitext(self, title: str) -> str:
        data = self._get(
            action="query", prop="revisions", titles=title, rvprop="content", rvslots="main"
        )
        return str(data["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"])


def _start(root: Path, *, private: bool) -> Iterator[mw.Wiki]:
    require(mw.missing() is None, str(mw.missing()))
    wiki = mw.start(root, private=private)
    try:
        # A person of their own (not wikisync's bot account): MediaWiki never reports a
        # conflict of an account with itself.
        wiki.maintenance("createAndPromote.php", "Carol", "CarolPass-12345!")
        wiki.maintenance(
            "createBotPassword.php",
            "--appid",
            mw.BOT_APPID,
            "--grants",
            "basic,editpage,createeditmovepage",
            "Carol",
            mw.BOT_PASSWORD,
        )
        yield wiki
    finally:
        wiki.stop()


@pytest.fixture(scope="module")
def wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mw.Wiki]:
    yield from _start(tmp_path_factory.mktemp("mw") / "public", private=False)


@pytest.fixture(scope="module")
def private_wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mw.Wiki]:
    yield from _start(tmp_path_factory.mktemp("mw") / "private", private=True)


def import_revisions(wiki: mw.Wiki, title: str, revisions: list[tuple[str, str, str]]) -> None:
    """Import a page history with chosen dates, as a wiki migration would (importDump.php)."""
    xml = [
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" '
        f'xml:lang="en"><page><title>{escape(title)}</title><ns>0</ns>'
    ]
    for when, user, text in revisions:
        xml.append(
            f"<revision><timestamp>{when}</timestamp><contributor><username>{escape(user)}"
            "</username></contributor><comment>edit</comment><model>wikitext</model>"
            f'<format>text/x-wiki</format><text xml:space="preserve">{escape(text)}</text>'
            "</revision>"
        )
    dump = wiki.root / f"import-{len(list(wiki.root.glob('import-*')))}.xml"
    dump.write_text("".join(xml) + "</page></mediawiki>", encoding="utf-8")
    wiki.maintenance("importDump.php", "--no-updates", str(dump))


@pytest.fixture(scope="module")
def revs(wiki: mw.Wiki) -> list[int]:
    """The roadmap page's three revisions (v1, v2 deferral, v3 rename + hand-written history)."""
    import_revisions(
        wiki,
        TITLE,
        [
            ("2026-11-01T10:00:00Z", "Alice", page_text(V1)),
            ("2026-12-01T10:00:00Z", "Bob", page_text(V2)),
            ("2026-12-02T10:00:00Z", "Alice", page_text(V3, HISTORY_V3)),
        ],
    )
    data = Editor(wiki.base_url)._get(
        action="query", prop="revisions", titles=TITLE, rvprop="ids", rvlimit="max", rvdir="newer"
    )
    return [r["revid"] for r in data["query"]["pages"][0]["revisions"]]


def config(tmp_path: Path, base_url: str, title: str = TITLE, auth: str = "none") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[store]\npath = "store"\n\n[[page]]\nname = "{PAGE}"\napi = "mediawiki"\n'
        f'base_url = "{base_url}"\ntitle = "{title}"\nauth = "{auth}"\n'
        'user_env = "MW_USER"\ntoken_env = "MW_PASSWORD"\n',
        encoding="utf-8",
    )
    return path


def run(cfg: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_backfill_log_and_diff(wiki: mw.Wiki, revs: list[int], tmp_path: Path) -> None:
    cfg = config(tmp_path, wiki.base_url)
    code, out, err = run(cfg, "backfill", "--page", PAGE)
    assert code == 0, err
    assert f"stored 3 new versions (v{revs[0]}..v{revs[2]})" in out
    code, out, _ = run(cfg, "log", "--page", PAGE)
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == [f"v{r}" for r in reversed(revs)]  # revision ids, newest first
    code, out, _ = run(cfg, "diff", f"{PAGE}@v{revs[0]}", f"{PAGE}@v{revs[1]}")
    assert code == 0
    assert "Moved “Devstack decentralized” from Q1 to Q2." in out
    assert "Added “Tutor deploys” in Q2." in out
    code, out, _ = run(cfg, "diff", f"{PAGE}@v{revs[1]}", f"{PAGE}@v{revs[2]}")
    assert "Renamed “Toggle Docs (OEP-17)” to “Toggle Docs for every repo (OEP-17)”" in out
    # Backfill again: nothing new, nothing fetched twice.
    code, out, _ = run(cfg, "backfill", "--page", PAGE)
    assert "stored 0 new versions, skipped 3 already stored" in out


def test_snapshot_keeps_wikitext_and_html(wiki: mw.Wiki, revs: list[int], tmp_path: Path) -> None:
    cfg = config(tmp_path, wiki.base_url)
    assert run(cfg, "backfill", "--page", PAGE)[0] == 0
    snaps = sorted((tmp_path / "store" / PAGE).glob("*-v*"))
    assert len(snaps) == 3
    newest = max(snaps, key=lambda p: int(p.name.split("-v")[1].split("-")[0]))
    wikitext = (newest / "body.wikitext.txt").read_text(encoding="utf-8")
    assert wikitext == page_text(V3, HISTORY_V3)
    assert 'class="wikitable"' in (newest / "body.html").read_text(encoding="utf-8")
    meta = json.loads((newest / "meta.json").read_text(encoding="utf-8"))
    assert meta["source"]["version"] == revs[2]
    assert meta["source"]["source"] == "mediawiki"


def test_sync_then_edit_then_audit(wiki: mw.Wiki, revs: list[int], tmp_path: Path) -> None:
    cfg = config(tmp_path, wiki.base_url)
    code, out, err = run(cfg, "sync")
    assert code == 0, err
    assert f"first snapshot v{revs[2]} stored" in out
    code, out, _ = run(cfg, "sync")
    assert f"up to date (v{revs[2]})" in out
    # Someone defers a card; the next sync stores it and writes the entry.
    ed = Editor(wiki.base_url)
    cells = {**V3, "q1_build": "", "q2_build": V3["q2_build"] + "\n----\n" + V3["q1_build"]}
    new = ed.edit(TITLE, page_text(cells, HISTORY_V3), "defer toggle docs")
    code, out, err = run(cfg, "sync", "--exit-code")
    assert code == 1, err
    assert f"v{new} stored" in out
    assert "Moved “Toggle Docs for every repo (OEP-17)” from Q1 to Q2." in out
    changelog = (tmp_path / "store" / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Toggle Docs for every repo" in changelog
    # The audit reads the page's own history (rendered by MediaWiki) against the snapshots.
    assert run(cfg, "backfill", "--page", PAGE)[0] == 0
    code, out, _ = run(cfg, "audit", "--page", PAGE, "--format", "json")
    report = json.loads(out)
    verdicts = {(e["text"], e["status"]) for e in report["entries"]}
    assert ("Moved “Devstack decentralized” from Q1 to Q2.", "confirmed") in verdicts


def test_publish_writes_wikitext_and_keeps_the_rest(wiki: mw.Wiki, tmp_path: Path) -> None:
    ed = Editor(wiki.base_url)
    title = "Publish Roadmap"
    first = ed.edit(title, page_text(V1), "plan")
    cfg = config(tmp_path, wiki.base_url, title=title, auth="password")
    env = {"MW_USER": mw.BOT_USER, "MW_PASSWORD": mw.BOT_PASSWORD}
    assert run(cfg, "sync", env=env)[0] == 0
    edited = page_text(V2)
    second = ed.edit(title, edited, "defer devstack")
    assert run(cfg, "sync", env=env)[0] == 0  # cron stored the edit; publish follows
    code, out, err = run(cfg, "publish", "--page", PAGE, env=env)  # dry run
    assert code == 0, err
    assert "dry run" in out and "+*** Moved “Devstack decentralized” from Q1 to Q2." in out
    assert ed.wikitext(title) == edited
    code, out, err = run(cfg, "-v", "publish", "--page", PAGE, "--yes", env=env)
    assert code == 0, err
    assert "published" in out
    assert mw.BOT_PASSWORD not in out + err
    text = ed.wikitext(title)
    head, tail = edited.split("== Change History ==\n")
    assert text.startswith(head + "== Change History ==\n* ")
    assert text.endswith(HISTORY_V1 + "\n== See also ==\n* [[Main Page]]")
    added = text[len(head) + len("== Change History ==\n") : -len(tail)]
    assert "** Deferred\n*** Moved “Devstack decentralized” from Q1 to Q2.\n" in added
    assert "** Added\n*** Added “Tutor deploys” in Q2.\n" in added
    # Our own edit is not a roadmap change, and publishing again adds nothing.
    code, out, _ = run(cfg, "sync", "--exit-code", env=env)
    assert code == 0 and "no roadmap changes" in out
    code, out, _ = run(cfg, "publish", "--page", PAGE, "--yes", env=env)
    assert code == 0
    assert ed.wikitext(title) == text
    assert first < second


def test_concurrent_edit_during_publish_is_retried_not_lost(wiki: mw.Wiki, tmp_path: Path) -> None:
    from wikisync.config import load_config
    from wikisync.publish import publish
    from wikisync.store import Store
    from wikisync.sync import client_for, live_changeset

    ed = Editor(wiki.base_url)
    title = "Busy Roadmap"
    ed.edit(title, page_text(V1), "plan")
    cfg_path = config(tmp_path, wiki.base_url, title=title, auth="password")
    env = {"MW_USER": mw.BOT_USER, "MW_PASSWORD": mw.BOT_PASSWORD}
    assert run(cfg_path, "sync", env=env)[0] == 0
    ed.edit(title, page_text(V2), "defer devstack")
    cfg = load_config(cfg_path).page(PAGE)
    store = Store(tmp_path / "store")
    # Their edit adds an entry where ours goes, the top of the section: MediaWiki cannot
    # merge the two, so our save is an editconflict.
    theirs = "* 2026-12-03\n** Added\n*** Added “Carol's note” to Q2."
    calls = []

    def build(doc):  # type: ignore[no-untyped-def]
        calls.append(doc.meta.version)
        if len(calls) == 1:  # between our read and our write, a person saves the page
            text = ed.wikitext(title).replace("* 2026-11-01", theirs + "\n* 2026-11-01")
            ed.edit(title, text, "a person's edit")
        return live_changeset(store, cfg, doc)

    client = client_for(cfg, environ=env)
    try:
        result = publish(client, str(client.page(title=title).meta.page), build, dry_run=False)
    finally:
        client.close()
    assert result.status == "published"
    assert result.conflicts == 1 and len(calls) == 2
    text = ed.wikitext(title)
    assert theirs in text  # their edit survived
    assert "*** Moved “Devstack decentralized” from Q1 to Q2." in text


def test_private_wiki_needs_the_bot_password(private_wiki: mw.Wiki, tmp_path: Path) -> None:
    ed = Editor(private_wiki.base_url)
    rev = ed.edit(TITLE, page_text(V1), "plan")
    anon = config(tmp_path, private_wiki.base_url)
    code, out, err = run(anon, "sync")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "readapidenied" in err and 'auth = "password"' in err
    (tmp_path / "anon").mkdir()
    cfg = config(tmp_path / "anon", private_wiki.base_url, auth="password")
    env = {"MW_USER": mw.BOT_USER, "MW_PASSWORD": mw.BOT_PASSWORD}
    code, out, err = run(cfg, "sync", env=env)
    assert code == 0, err
    assert f"first snapshot v{rev} stored" in out
    bad = {"MW_USER": mw.BOT_USER, "MW_PASSWORD": "0" * 32}
    code, out, err = run(cfg, "fetch", env=bad)
    assert code == 2 and "cannot log in" in err and "0" * 32 not in err


def test_missing_page_is_one_line(wiki: mw.Wiki, tmp_path: Path) -> None:
    cfg = config(tmp_path, wiki.base_url, title="No Such Roadmap")
    code, out, err = run(cfg, "fetch")
    assert code == 2 and out == ""
    assert err.startswith("wikisync: error: ") and err.count("\n") == 1
    assert "no such page" in err
