"""The audit and publish on a page with several roadmaps (`Roadmap.sections`).

wikisync leads each sentence on such a page with the roadmap's name (`Product features: Moved
“Audit log export” from 15 Nov 2021 to Q1 2022.`). The audit used to read none of those
sentences ("could not read the sentence"), so a history written by `wikisync publish` failed its
own audit, and publish, which asks the audit what is already written, wrote the same sentences
again on the next edit. A name of one of the page's roadmaps is now read as a prefix, and the
sentence is matched only against that roadmap's changes; any other `Word:` stays text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.audit import audit_page, documented_changes, render_audit
from wikisync.cli import cli
from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Document, HistoryEntry, SourceMeta, VersionRef
from wikisync.parse import parse_document, parse_text
from wikisync.parse.history import parse_sentence
from wikisync.render.markdown import escape_markdown
from wikisync.store import Store

SHAPES = Path(__file__).parent / "data" / "shapes"
HISTORY = "<h2>Change History</h2><p>Edits to the roadmaps above.</p>"
MULTI = {
    n: (SHAPES / f"multi-v{n}.storage.html").read_text(encoding="utf-8") + HISTORY for n in (1, 2)
}
PID = "5150"
PAGE = "multi"
# What `wikisync publish` writes for multi v1 → v2 (the fake dates v2 2021-01-11), in page order.
PUBLISHED = [
    ("Deferred", "Platform plan: Moved “Training” from 1 Sep 2015 to 2 Nov 2015 (+2 months)."),
    ("Deferred", "Product features: Moved “Audit log export” from 15 Nov 2021 to Q1 2022."),
    ("Moved Up", "Product features: Moved “Mobile offline mode” from H2 2022 to H1 2022."),
    ("Added", "Platform plan: Added “Partner API” in Feb 2016–Apr 2016."),
    ("Added", "Product features: Added “Usage analytics” in Q2 2022."),
    ("Renamed", "Platform plan: Renamed “Search v2” to “Search v2 (Elastic)” (Jul 2015–Sep 2015)."),
    (
        "Renamed",
        "Product features: Renamed “Dark theme” to “Night mode for the web app” (Backlog).",
    ),
    (
        "Changed",
        "Platform plan: Changed “Launch campaign” (Oct 2015–Dec 2015): "
        "ends 15 Nov 2015 → 16 Dec 2015 (+1 month).",
    ),
    (
        "Changed",
        "Platform plan: Changed “Webinar series” (Jan 2016–Feb 2016): "
        "lane Marketing → Engineering.",
    ),
    ("Changed", "Product features: Changed “Single sign-on” (Q3 2021): status In progress → Done."),
    ("Changed", "Product features: Changed “Billing revamp” (Q4 2021): team Platform → Payments."),
]


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, "Engineering roadmaps", MULTI[1])  # v1, 2021-01-04
    return fake


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    """v1 stored; then someone edits the roadmaps (v2) and wikisync publishes the entry (v3)."""
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID), encoding="utf-8")
    assert run(path, "sync")[0] == 0
    fake.add_version(PID, MULTI[2])
    code, out, err = run(path, "publish", "--yes")
    assert (code, err) == (0, ""), out
    assert out == f"{PAGE}: page {PID}: published the 2021-01-11 entry as v3\n"
    return path


def _published(fake: FakeConfluence) -> str:
    return fake.pages[PID].current.storage


# --------------------------------------------------------------------------- audit


def test_a_history_written_by_publish_passes_its_own_audit(fake: FakeConfluence, cfg: Path) -> None:
    body = _published(fake)
    assert all(f"<li><p>{s}</p></li>" in body for _, s in PUBLISHED)  # the sentences, as above
    assert run(cfg, "backfill")[0] == 0
    store = Store(cfg.parent / "store")
    report = audit_page(store, PAGE)

    got = [(e.written.category, e.written.sentence) for e in report.entries]
    assert got == PUBLISHED
    assert [(e.written.section, e.written.title) for e in report.entries][:3] == [
        ("Platform plan", "Training"),
        ("Product features", "Audit log export"),
        ("Product features", "Mobile offline mode"),
    ]
    for e in report.entries:
        assert e.versions == (1, 2), e
        assert e.change is not None and e.change.title in e.written.sentence, e
        assert e.written.sentence.startswith(f"{e.written.section}: ")
    assert {e.status for e in report.entries} == {"confirmed"}
    assert report.undocumented == []
    assert report.exit_code == 0

    # every format shows the sentence as written, prefix included
    text = render_audit(report, "text")
    audit_line = "✓ 2021-01-11 Deferred: " + PUBLISHED[1][1]
    assert f"\n{audit_line}\n" in text
    assert "    confirmed (v1→v2): matched “Audit log export” (title similarity 100" in text
    assert escape_markdown(PUBLISHED[1][1]) in render_audit(report, "markdown")
    doc = json.loads(render_audit(report, "json"))
    entry = doc["entries"][1]
    assert entry["text"] == entry["written"]["sentence"] == PUBLISHED[1][1]
    assert (entry["written"]["section"], entry["written"]["title"]) == (
        "Product features",
        "Audit log export",
    )
    assert entry["change"]["text"] == PUBLISHED[1][1]


def _table(rows: list[tuple[str, str, str]]) -> str:
    head = "<tr><th><p>Feature</p></th><th><p>Team</p></th><th><p>Target</p></th></tr>"
    cells = "".join(
        f"<tr><td><p>{f}</p></td><td><p>{t}</p></td><td><p>{q}</p></td></tr>" for f, t, q in rows
    )
    return f"<table><tbody>{head}{cells}</tbody></table>"


def _two_roadmaps(web: list[tuple[str, str, str]], mobile: list[tuple[str, str, str]]) -> str:
    return f"<h2>Web</h2>{_table(web)}<h2>Mobile</h2>{_table(mobile)}"


def _history(date: str, sentences: list[str]) -> str:
    items = "".join(f"<li><p>{s}</p></li>" for s in sentences)
    return f"<h2>Change History</h2><ul><li><p>{date}</p><ul>{items}</ul></li></ul>"


# Both roadmaps have an "Offline mode": the web one moves Q1 → Q2, the mobile one Q1 → Q3.
OLD = _two_roadmaps(
    [("Offline mode", "Web", "Q1 2022"), ("Dark theme", "Web", "Q2 2022")],
    [("Offline mode", "Apps", "Q1 2022"), ("Push alerts", "Apps", "Q3 2022")],
)
NEW = _two_roadmaps(
    [("Offline mode", "Web", "Q2 2022"), ("Dark theme", "Web", "Q2 2022")],
    [("Offline mode", "Apps", "Q3 2022"), ("Doc: Toggle Docs", "Apps", "Q4 2022")],
)


def _stored(root: Path, versions: list[tuple[str, str]]) -> Store:
    """Versions 1..n of the page: (UTC time, storage body)."""
    store = Store(root)
    for n, (when, body) in enumerate(versions, start=1):
        doc = Document({"storage": body}, SourceMeta(version=n, when=when, author="pm"))
        store.put(PAGE, doc, parse_document(doc))
    return store


def _store(tmp_path: Path, sentences: list[str]) -> Store:
    written = NEW + _history("2022-03-08", sentences)
    return _stored(
        tmp_path / "store", [("2022-03-01T10:00:00Z", OLD), ("2022-03-08T10:00:00Z", written)]
    )


def test_a_prefix_limits_the_match_to_its_roadmap(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            # true of Web's card, written as Mobile's: Mobile's card went to Q3
            "Mobile: Moved “Offline mode” from Q1 2022 to Q2 2022.",
            "Web: Deleted “Push alerts” from Q3 2022.",  # Mobile deleted it, not Web
            "mobile: deleted “Push alerts” from Q3 2022.",  # any case
        ],
    )
    report = audit_page(store, PAGE)
    got = [(e.written.section, e.status, e.note) for e in report.entries]
    assert got == [
        (
            "Mobile",
            "inaccurate",
            "matched “Offline mode” (title similarity 100); written to Q2 2022, really to Q3 2022",
        ),
        ("Web", "not found", "no change to a card like “Push alerts” in Web between v1 and v2"),
        ("Mobile", "confirmed", "matched “Push alerts” (title similarity 100, periods agree)"),
    ]
    assert report.entries[0].change is not None
    assert report.entries[0].change.to is not None
    assert report.entries[0].change.to.lane == "Mobile / Apps"
    assert [(u.change.category, u.text) for u in report.undocumented] == [
        ("Deferred", "Web: Moved “Offline mode” from Q1 2022 to Q2 2022."),
        ("Added", "Mobile: Added “Doc: Toggle Docs” in Q4 2022."),
    ]


def test_no_prefix_matches_any_roadmap_and_an_unknown_one_is_text(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            "Moved “Offline mode” from Q1 2022 to Q3 2022.",  # no prefix: Mobile's, by periods
            "Doc: Added “Toggle Docs” in Q4 2022.",  # "Doc" names no roadmap: not a prefix
            "Mobile: Added “Doc: Toggle Docs” in Q4 2022.",  # a colon inside the title
            "Web: Moved “Offline mode” from Q1 2022 to Q2 2022.",
        ],
    )
    report = audit_page(store, PAGE)
    got = [(e.written.section, e.written.kind, e.written.title, e.status) for e in report.entries]
    assert got == [
        (None, "moved", "Offline mode", "confirmed"),
        (None, "unparsed", "", "not found"),
        ("Mobile", "added", "Doc: Toggle Docs", "confirmed"),
        ("Web", "moved", "Offline mode", "confirmed"),
    ]
    assert report.entries[0].change is not None and report.entries[0].change.to is not None
    assert report.entries[0].change.to.lane == "Mobile / Apps"
    unparsed = report.entries[1]
    assert unparsed.written.sentence == "Doc: Added “Toggle Docs” in Q4 2022."
    assert "✗ 2022-03-08 Doc: Added “Toggle Docs” in Q4 2022.\n" in render_audit(report, "text")
    assert [u.text for u in report.undocumented] == ["Mobile: Deleted “Push alerts” from Q3 2022."]


def test_sentences_read_a_roadmap_name_only_as_a_prefix() -> None:
    periods = parse_text(NEW, "storage").periods
    sections = ("Web", "Mobile")

    def read(text: str) -> list[tuple[str | None, str, str, str | None]]:
        return [
            (w.section, w.kind, w.title, w.to_period)
            for w in parse_sentence(
                HistoryEntry("2022-03-08", None, text), periods, sections=sections
            )
        ]

    assert read("Web:  Added “Offline mode” in Q2 2022.") == [
        ("Web", "added", "Offline mode", "Q2 2022")
    ]
    assert read("WEB: Added “Offline mode” in Q2 2022.") == [
        ("Web", "added", "Offline mode", "Q2 2022")
    ]
    assert read("Added “Web: Offline mode” in Q2 2022.") == [
        (None, "added", "Web: Offline mode", "Q2 2022")
    ]
    assert read("Webinar: Added “Offline mode” in Q2 2022.") == [(None, "unparsed", "", None)]
    assert read("Web:") == [(None, "unparsed", "", None)]
    [w] = parse_sentence(
        HistoryEntry("", None, "Web: Added “X” in Q2 2022."), periods, sections=sections
    )
    assert w.sentence == "Web: Added “X” in Q2 2022."
    assert w.to_json()["section"] == "Web"
    [plain] = parse_sentence(
        HistoryEntry("", None, "Added “X” in Q2 2022."), periods, sections=sections
    )
    assert "section" not in plain.to_json()  # single-roadmap JSON stays as it was


def _planner_verdict(root: Path, sentence: str) -> tuple[str, str]:
    old, new = ((SHAPES / f"planner-v{n}.storage.html").read_text(encoding="utf-8") for n in (1, 2))
    written = new + _history("2022-03-08", [sentence])
    store = _stored(root, [("2022-03-01T10:00:00Z", old), ("2022-03-08T10:00:00Z", written)])
    [entry] = audit_page(store, PAGE).entries
    return entry.status, entry.note


def test_a_dated_move_as_wikisync_writes_it_names_the_days(tmp_path: Path) -> None:
    """A planner bar's move is written with its start days, which name no period (months)."""
    wikisync = "Moved “Training” from 1 Sep 2015 to 2 Nov 2015 (+2 months)."
    assert _planner_verdict(tmp_path / "a", wikisync) == (
        "confirmed",
        "matched “Training” (title similarity 100, periods agree)",
    )
    wrong_day = "Moved “Training” from 2015-09-01 to 9 Nov 2015."
    assert _planner_verdict(tmp_path / "b", wrong_day) == (
        "inaccurate",
        "matched “Training” (title similarity 100); "
        "written to 9 Nov 2015 (no period of these versions), really to Nov 2015",
    )


# --------------------------------------------------------------------------- publish


def test_publishing_twice_on_a_multi_page_writes_nothing_the_second_time(
    fake: FakeConfluence, cfg: Path
) -> None:
    code, out, err = run(cfg, "publish", "--yes")
    assert (code, err) == (0, "")
    assert out.startswith("Left out, already in the page's Change History (11):\n")
    assert out.endswith(
        f"{PAGE}: page {PID} v3: nothing to publish: the Change History already describes "
        "all 11 changes of the 2021-01-18 entry\n"
    )
    assert fake.hits(method="PUT") == 1 and len(fake.pages[PID].versions) == 3


def test_after_another_edit_only_the_new_change_is_published(
    fake: FakeConfluence, cfg: Path
) -> None:
    row = "<tr><td><p>Tax reports</p></td><td><p>Payments</p></td><td><p>Q3 2022</p></td>"
    edited = _published(fake).replace("</tbody></table>", row + "<td /><td /></tr></tbody></table>")
    fake.add_version(PID, edited)  # v4: one more row, nobody writes it down
    code, out, err = run(cfg, "publish", "--yes")
    assert (code, err) == (0, ""), out
    assert "Left out, already in the page's Change History (11):\n" in out
    assert f"{PAGE}: page {PID}: published the 2021-01-25 entry as v5\n" in out
    body = _published(fake)
    assert "<li><p>Product features: Added “Tax reports” in Q3 2022.</p></li>" in body
    for _, sentence in PUBLISHED:
        assert body.count(sentence) == 1, sentence


def test_documented_changes_tell_two_roadmaps_apart() -> None:
    """What publish asks: the sentence documents Mobile's move (wrongly), not Web's."""
    old, new = parse_text(OLD, "storage"), parse_text(NEW, "storage")
    sentence = "Mobile: Moved “Offline mode” from Q1 2022 to Q2 2022."  # Web's periods
    new.history = [HistoryEntry("2022-03-08", None, sentence)]
    cs = ChangeSet(
        VersionRef("a"), VersionRef("b"), diff_roadmaps(old, new), "2022-03-08", old, new
    )
    [d] = documented_changes(cs)
    c = cs.changes[d.index]
    assert (d.status, c.to.lane if c.to else None) == ("inaccurate", "Mobile / Apps")
    assert d.note.endswith("written to Q2 2022, really to Q3 2022")


def test_the_same_title_in_the_other_roadmap_stays_undocumented(tmp_path: Path) -> None:
    """Two versions on the entry's day: the sentence is checked against the wider pair, and it
    accounts for the steps of its own card inside it, not for those of a namesake."""
    web_moved = _two_roadmaps(
        [("Offline mode", "Web", "Q2 2022"), ("Dark theme", "Web", "Q2 2022")],
        [("Offline mode", "Apps", "Q1 2022"), ("Push alerts", "Apps", "Q3 2022")],
    )
    both_moved = _two_roadmaps(
        [("Offline mode", "Web", "Q2 2022"), ("Dark theme", "Web", "Q2 2022")],
        [("Offline mode", "Apps", "Q3 2022"), ("Push alerts", "Apps", "Q3 2022")],
    )
    written = _history("2022-03-08", ["Mobile: Moved “Offline mode” from Q1 2022 to Q3 2022."])
    versions = [
        ("2022-03-01T10:00:00Z", OLD),
        ("2022-03-08T10:00:00Z", web_moved),
        ("2022-03-08T12:00:00Z", both_moved + written),
    ]
    report = audit_page(_stored(tmp_path / "store", versions), PAGE)
    assert [(e.status, e.versions) for e in report.entries] == [("confirmed", (1, 3))]
    assert [(u.versions, u.text) for u in report.undocumented] == [
        ((1, 2), "Web: Moved “Offline mode” from Q1 2022 to Q2 2022.")
    ]


@pytest.mark.parametrize(
    ("roadmap", "later_name"), [("Mobile", True), ("Web", False)], ids=["own", "namesake"]
)
def test_a_later_name_comes_from_the_cards_own_roadmap(
    tmp_path: Path, roadmap: str, later_name: bool
) -> None:
    """Both roadmaps move their "Dark theme" on 03-08; only Mobile's is renamed "Dark mode"
    afterwards. A sentence naming "Dark mode" may use that later name for Mobile's card, never
    for Web's namesake (the audit used to key later names by title alone)."""
    v1 = _two_roadmaps([("Dark theme", "Web", "Q2 2022")], [("Dark theme", "Apps", "Q2 2022")])
    v2 = _two_roadmaps([("Dark theme", "Web", "Q3 2022")], [("Dark theme", "Apps", "Q3 2022")])
    v3 = _two_roadmaps([("Dark theme", "Web", "Q3 2022")], [("Dark mode", "Apps", "Q3 2022")])
    written = _history("2022-03-08", [f"{roadmap}: Moved “Dark mode” from Q2 2022 to Q3 2022."])
    versions = [
        ("2022-03-01T10:00:00Z", v1),
        ("2022-03-08T10:00:00Z", v2),
        ("2022-03-15T10:00:00Z", v3 + written),
    ]
    [entry] = audit_page(_stored(tmp_path / "store", versions), PAGE).entries
    assert entry.versions == (1, 2)
    assert ("by its later name “Dark mode”" in entry.note) is later_name, entry.note


def test_publish_lends_no_later_name_across_roadmaps() -> None:
    """The same within one edit (``documented_changes``, what publish asks): Mobile renames its
    "Dark theme" while Web moves its own."""
    old = parse_text(
        _two_roadmaps([("Dark theme", "Web", "Q2 2022")], [("Dark theme", "Apps", "Q2 2022")]),
        "storage",
    )
    new = parse_text(
        _two_roadmaps([("Dark theme", "Web", "Q3 2022")], [("Dark mode", "Apps", "Q2 2022")]),
        "storage",
    )
    sentence = "Web: Moved “Dark mode” from Q2 2022 to Q3 2022."
    new.history = [HistoryEntry("2022-03-08", None, sentence)]
    cs = ChangeSet(
        VersionRef("a"), VersionRef("b"), diff_roadmaps(old, new), "2022-03-08", old, new
    )
    notes = [d.note for d in documented_changes(cs)]
    assert notes and not any("later name" in n for n in notes), notes
