"""The audit: the hand-written Change History checked against the stored versions.

The bundled example (snapshots/openedx-roadmap-example) was rebuilt from the page's own entries,
so those entries must all be confirmed and the audit must report exactly the changes the labels in
tests/data/openedx/expected.json call undocumented. A copy of it with deliberate mistakes
(tests/data/audit/) must yield exactly those mistakes. Small synthetic stores cover the rest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from wikisync.audit import AuditError, AuditReport, audit_page, render_audit
from wikisync.errors import StoreError, WikisyncError
from wikisync.model import SCHEMA_AUDIT, Document, SourceMeta
from wikisync.parse import parse_document
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "snapshots" / "openedx-roadmap-example"
PAGE = "openedx-roadmap-example"
DATA = Path(__file__).parent / "data"
EXPECTED: list[dict[str, Any]] = json.loads(
    (DATA / "openedx" / "expected.json").read_text(encoding="utf-8")
)
MISTAKES = DATA / "audit" / "history-with-mistakes.storage.html"

# (category, title, from short, to short) of a computed change
Key = tuple[str, str, str | None, str | None]


def _key(change: dict[str, Any]) -> Key:
    return (
        change["category"],
        change["title"],
        change["from"]["short"] if change["from"] else None,
        change["to"]["short"] if change["to"] else None,
    )


def _label_key(label: dict[str, Any]) -> Key:
    return (label["category"], label["title"], label["from"], label["to"])


def _undocumented_labels() -> list[tuple[str, int, int, Key]]:
    return sorted(
        (pair["date"], pair["old"], pair["new"], _label_key(c))
        for pair in EXPECTED
        for c in pair["changes"]
        if not c["documented"]
    )


def _undocumented(report: AuditReport) -> list[tuple[str, int, int, Key]]:
    doc = report.to_json()
    return sorted(
        (u["date"], u["versions"][0], u["versions"][1], _key(u["change"]))
        for u in doc["undocumented"]
    )


def _statuses(report: AuditReport) -> list[tuple[str, str, str]]:
    return [(e.written.date, e.written.title, e.status) for e in report.entries]


@pytest.fixture
def example(tmp_path: Path) -> Store:
    """A private copy of the bundled example store: the audit must never need to write."""
    root = tmp_path / "store"
    shutil.copytree(BUNDLED, root / PAGE)
    return Store(root)


# --------------------------------------------------------------------------- bundled example

# Every entry is confirmed: the versions were reconstructed from these very sentences, and the
# loose names the page uses ("Authentication standardized" for “Authn and Authz Standardized”,
# "Doc: Developer Handbook", "Backend Plugins API" for the Django Event API card, ...) are matched
# by similarity plus agreeing periods. The 2020-09-25 sentence claims two moves.
BUNDLED_STATUSES = [
    ("2021-02-10", "Elasticsearch, Ubuntu 20.04, MySql 5.7", "confirmed"),
    ("2021-02-10", "Authentication Standardized", "confirmed"),
    ("2021-02-10", "Eventing: Inter-service messaging Pilot", "confirmed"),
    ("2021-02-10", "Eventing: Standard xAPI/Caliper", "confirmed"),
    ("2021-02-10", "Backend Plugins API: Python APIs", "confirmed"),
    ("2021-02-10", "Doc: Developer Handbook", "confirmed"),
    ("2021-02-10", "Decentralized Devstack Adoption", "confirmed"),
    ("2021-02-10", "Devstack: Doc Wins, Data Provision, Eval Tutor", "confirmed"),
    ("2021-02-10", "Pylint as effective feedback loop", "confirmed"),
    ("2021-02-10", "Monolith PR Standards", "confirmed"),
    ("2020-10-26", "Eventing Standard xAPI/Caliper", "confirmed"),
    ("2020-10-26", "Backend Plugins API", "confirmed"),
    ("2020-09-25", "Doc Onboarding Course", "confirmed"),
    ("2020-09-25", "Eventing Inter-service messaging", "confirmed"),
    ("2020-09-25", "Authentication standardized", "confirmed"),
    ("2020-09-11", "Backend Plugins API", "confirmed"),
]


def test_bundled_entries_are_all_confirmed(example: Store) -> None:
    report = audit_page(example, PAGE)
    assert _statuses(report) == BUNDLED_STATUSES
    assert len({e.written.sentence for e in report.entries}) == 15  # the 15 hand-written entries


def test_bundled_entries_match_their_labelled_changes(example: Store) -> None:
    """Each sentence is matched to the very change expected.json attributes it to."""
    labelled: dict[tuple[str, str], list[tuple[int, int, Key]]] = {}
    for pair in EXPECTED:
        for c in pair["changes"]:
            for sentence in (c["hand_written"] or "").split(". "):
                if sentence:
                    key = (pair["date"], sentence.rstrip("."))
                    labelled.setdefault(key, []).append((pair["old"], pair["new"], _label_key(c)))
    report = audit_page(example, PAGE)
    seen = []
    for e in report.to_json()["entries"]:
        got = (e["versions"][0], e["versions"][1], _key(e["change"]))
        # a sentence claiming two moves backs two labels: its claim must be one of them
        wants = labelled[(e["date"], e["text"].rstrip("."))]
        seen.append(got)
        assert got in wants, (e["text"], got, wants)
    # ... and every documented label is claimed by exactly one sentence (Replaced: by two)
    documented = [v for vs in labelled.values() for v in vs]
    assert sorted(set(seen)) == sorted(set(documented))
    assert len(set(seen)) == 15


def test_bundled_undocumented_are_exactly_the_labelled_ones(example: Store) -> None:
    report = audit_page(example, PAGE)
    assert _undocumented(report) == _undocumented_labels()
    assert len(report.undocumented) == 13
    assert {u.author for u in report.undocumented} == {"Open edX Architecture (reconstructed)"}
    assert report.summary == {
        "confirmed": 16,
        "inaccurate": 0,
        "not found": 0,
        "unverifiable": 0,
        "undocumented": 13,
    }
    assert report.exit_code == 0  # the default gate: every written entry is true


def test_notes_explain_loose_matches(example: Store) -> None:
    report = audit_page(example, PAGE)
    notes = {e.written.title: e.note for e in report.entries}
    assert notes["Authentication Standardized"] == (
        "matched “Authn and Authz Standardized” (title similarity 73, periods agree)"
    )
    assert notes["Elasticsearch, Ubuntu 20.04, MySql 5.7"] == (
        "matched “Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” "
        "(title similarity 100, periods agree)"
    )


# --------------------------------------------------------------------------- deliberate mistakes


def _store_with_mistakes(tmp_path: Path) -> Store:
    """v1-v6 as bundled, v7 with the Change History of tests/data/audit/ spliced in."""
    root = tmp_path / "mistakes"
    shutil.copytree(BUNDLED, root / PAGE)
    store = Store(root)
    latest = store.snapshots(PAGE)[-1]
    body = store.document(latest).bodies["storage"]
    cut = body.index("<h2>Change History</h2>")
    edited = body[:cut] + MISTAKES.read_text(encoding="utf-8")
    original = store.roadmap(latest)
    shutil.rmtree(latest.path)
    doc = Document({"storage": edited}, latest.meta)
    roadmap = parse_document(doc)
    assert roadmap.items == original.items  # only the history was edited
    store.put(PAGE, doc, roadmap)
    return store


def test_deliberate_mistakes_are_found_and_nothing_else(tmp_path: Path) -> None:
    report = audit_page(_store_with_mistakes(tmp_path), PAGE)
    verdicts = {(e.written.date, e.written.title): (e.status, e.note) for e in report.entries}
    wrong = {k: v for k, v in verdicts.items() if v[0] != "confirmed"}
    assert wrong == {
        # written to Q3; the card went from Q1 to Q2
        ("2020-10-26", "Eventing Standard xAPI/Caliper"): (
            "inaccurate",
            "matched “Eventing Standard xAPI/Caliper (OEP-26)” (title similarity 100); "
            "written to Q3, really to Q2",
        ),
        # filed under Deferred; Backlog → Q4 is a move up
        ("2021-02-10", "Doc: Developer Handbook"): (
            "inaccurate",
            "matched “Developer Handbook” (title similarity 100, periods agree); "
            "filed under Deferred, really Moved Up",
        ),
        # no such card anywhere
        ("2021-02-10", "Blockchain Credentials"): (
            "not found",
            "no change to a card like “Blockchain Credentials” between v5 and v6",
        ),
        # v1, the first stored version, is from 2020-09-10
        ("2020-08-01", "Onboarding Course"): (
            "unverifiable",
            "no stored version before 2020-08-01 (the first is v1 of 2020-09-10)",
        ),
    }
    assert len(verdicts) == 17 and len(report.entries) == 17
    # The deleted true entry: its change is now undocumented, on top of the 13 labelled ones.
    monolith = ("2021-02-10", 5, 6, ("Added", "Monolith PR Standards", None, "Q3"))
    assert _undocumented(report) == sorted([*_undocumented_labels(), monolith])
    assert report.summary == {
        "confirmed": 13,
        "inaccurate": 2,
        "not found": 1,
        "unverifiable": 1,
        "undocumented": 14,
    }
    assert report.exit_code == 1


# --------------------------------------------------------------------------- options, exit codes


def test_since_filters_entries_and_undocumented(example: Store) -> None:
    report = audit_page(example, PAGE, since="2021-01-01")
    assert {e.written.date for e in report.entries} == {"2021-02-10"}
    assert len(report.entries) == 10
    assert {(u.versions, u.date) for u in report.undocumented} == {((6, 7), "2021-06-01")}
    assert len(report.undocumented) == 10
    # A change stored on the since day counts: v4→v5 is stored on 2020-12-15.
    report = audit_page(example, PAGE, since="2020-12-15")
    assert len(report.undocumented) == 13 and len(report.entries) == 10
    report = audit_page(example, PAGE, since="2030-01-01")
    assert report.entries == [] and report.undocumented == [] and report.exit_code == 3


def test_history_from_an_older_version(example: Store) -> None:
    report = audit_page(example, PAGE, history_from="v4")
    assert report.history_from == f"{PAGE}@20201026T160000Z-v4-711074b39003"
    assert [e.written.date for e in report.entries] == ["2020-10-26"] * 2 + ["2020-09-25"] * 3 + [
        "2020-09-11"
    ]
    assert report.undocumented == []  # the later versions are not judged by an older history
    assert report.exit_code == 0
    # the same through a full reference, and a clean window gives exit code 0
    report = audit_page(example, PAGE, history_from=f"{PAGE}@v6", since="2021-01-01")
    assert report.summary["confirmed"] == 10 and report.exit_code == 0


def test_bad_arguments_raise_one_line_errors(example: Store) -> None:
    with pytest.raises(AuditError, match="--since must be a date"):
        audit_page(example, PAGE, since="last week")
    with pytest.raises(AuditError):
        audit_page(example, PAGE, since="2021-02-30")
    with pytest.raises(StoreError, match="no such version"):
        audit_page(example, PAGE, history_from="v99")
    with pytest.raises(StoreError, match="unknown page"):
        audit_page(example, "no-such-page")
    with pytest.raises(AuditError, match="not 'other'"):
        audit_page(example, "other", history_from=f"{PAGE}@v2")
    with pytest.raises(WikisyncError, match="unknown format"):
        render_audit(audit_page(example, PAGE), "yaml")


# --------------------------------------------------------------------------- output


def test_json_schema_shape(example: Store) -> None:
    doc = json.loads(render_audit(audit_page(example, PAGE), "json"))
    assert set(doc) == {
        "schema",
        "page",
        "history_from",
        "since",
        "entries",
        "undocumented",
        "summary",
    }
    assert doc["schema"] == SCHEMA_AUDIT == "wikisync.audit/1"
    assert (doc["page"], doc["since"]) == (PAGE, None)
    assert doc["history_from"] == f"{PAGE}@20210601T160000Z-v7-f66efcc51617"
    entry = doc["entries"][0]
    assert set(entry) == {
        "date",
        "category",
        "text",
        "status",
        "change",
        "versions",
        "snapshots",
        "note",
        "written",
    }
    assert entry["versions"] == [5, 6]
    assert entry["change"]["text"] == (
        "Moved “Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” from Q2 to Q3."
    )
    assert entry["written"]["kind"] == "moved"
    replaced = next(e for e in doc["entries"] if e["change"]["category"] == "Replaced")
    assert replaced["change"]["text"] == (
        "Deleted “Decentralized Devstack Adoption” from Q2. "
        "Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3."
    )
    u = doc["undocumented"][0]
    assert set(u) == {"date", "versions", "snapshots", "author", "change"}
    assert (u["date"], u["versions"]) == ("2020-12-15", [4, 5])
    assert set(u["change"]) >= {"category", "title", "from", "to", "text"}
    assert doc["summary"] == {
        "confirmed": 16,
        "inaccurate": 0,
        "not found": 0,
        "unverifiable": 0,
        "undocumented": 13,
    }
    text = render_audit(audit_page(example, PAGE), "json")
    assert (
        text.endswith("}\n")
        and json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text
    )


def test_output_is_deterministic(example: Store, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    shutil.copytree(example.root, other)
    for fmt in ("text", "markdown", "json"):
        first = render_audit(audit_page(example, PAGE), fmt)
        assert render_audit(audit_page(example, PAGE), fmt) == first
        assert render_audit(audit_page(Store(other), PAGE), fmt) == first


def test_text_and_markdown_reports(tmp_path: Path) -> None:
    report = audit_page(_store_with_mistakes(tmp_path), PAGE)
    text = render_audit(report, "text")
    lines = text.splitlines()
    assert lines[2] == (
        "17 written changes: 13 confirmed, 2 inaccurate, 1 not found, 1 unverifiable; "
        "14 undocumented"
    )
    assert "! 2020-10-26 Moved “Eventing Standard xAPI/Caliper” from Q1 to Q3." in lines
    assert "✗ 2021-02-10 Added: Added “Blockchain Credentials” in Q3." in lines
    assert "? 2020-08-01 Moved “Onboarding Course” from Q1 to Q2." in lines
    # undocumented changes grouped by date, each group headed by its versions and author
    start = lines.index("Undocumented changes (14):")
    assert lines[start + 1] == "2020-12-15 (v4→v5, Open edX Architecture (reconstructed))"
    assert "2021-02-10 (v5→v6, Open edX Architecture (reconstructed))" in lines
    assert "+ Added: Added “Monolith PR Standards” in Q3." in lines
    md = render_audit(report, "markdown")
    assert md.startswith("## Change History audit: openedx-roadmap-example\n")
    assert "| 13 | 2 | 1 | 1 | 14 |" in md
    assert "- ! **inaccurate** · 2021-02-10 · Deferred · Moved “Doc: Developer Handbook”" in md
    assert "- **2021-06-01** (v6→v7, Open edX Architecture (reconstructed))" in md


# --------------------------------------------------------------------------- synthetic stores

SYN = "syn"


def _page(cells: dict[str, list[str]], history: str = "") -> str:
    rows = "".join(
        f"<tr><th><p>{period}</p></th><td>"
        + ("<p>---------</p>".join(f"<p>{c}</p>" for c in cards) or "<p />")
        + "</td></tr>"
        for period, cards in cells.items()
    )
    head = "<tr><th><p>Period</p></th><th><p>Lane</p></th></tr>"
    legend = "<p>Organizations listed above</p><ol><li>edX</li><li>OpenCraft</li><li>MIT</li></ol>"
    return f"<table><tbody>{head}{rows}</tbody></table>{legend}<h2>Change History</h2>{history}"


def _history(entries: list[tuple[str, str | None, str]]) -> str:
    """Nested lists as the real page writes them: date → category → sentence."""
    out = ""
    for date, category, sentence in entries:
        item = f"<li><p>{sentence}</p></li>"
        if category:
            item = f"<li><p>{category}</p><ul>{item}</ul></li>"
        out += f"<li><p>{date}</p><ul>{item}</ul></li>" if date else item
    return f"<ul>{out}</ul>"


def _store(tmp_path: Path, versions: list[tuple[str, dict[str, list[str]]]], history: str) -> Store:
    """Versions 1..n at the given UTC times; the last one carries the written history."""
    store = Store(tmp_path / "syn-store")
    for n, (when, cells) in enumerate(versions, start=1):
        body = _page(cells, history if n == len(versions) else "")
        doc = Document({"storage": body}, SourceMeta(version=n, when=when, author=f"author{n}"))
        store.put(SYN, doc, parse_document(doc))
    return store


def test_split_written_as_a_move_of_its_part(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            ("2022-01-03T10:00:00Z", {"Q1": ["Plugins API [3], Python APIs [3]"], "Q2": []}),
            ("2022-01-10T10:00:00Z", {"Q1": ["Plugins API [3]"], "Q2": ["Python APIs [3]"]}),
        ],
        _history([("2022-01-10", "Deferred", "Moved “Python APIs” from Q1 to Q2.")]),
    )
    report = audit_page(store, SYN)
    [e] = report.entries
    assert (e.status, e.note) == (
        "confirmed",
        "matched “Python APIs” (title similarity 100, periods agree, "
        "split from “Plugins API, Python APIs”)",
    )
    assert report.undocumented == []  # the card that lost the part is the same split


def test_merge_written_as_a_move_into_a_card(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            ("2022-01-03T10:00:00Z", {"Q1": ["Plugins API [3]"], "Q2": ["Python APIs [3]"]}),
            ("2022-01-10T10:00:00Z", {"Q1": ["Plugins API [3], Python APIs [3]"], "Q2": []}),
        ],
        _history([("2022-01-10", "Moved Up", "Moved “Python APIs” from Q2 to Q1.")]),
    )
    report = audit_page(store, SYN)
    [e] = report.entries
    # The differ sees a deletion plus a changed card; written as a move up, it is one.
    assert (e.status, e.note) == (
        "confirmed",
        "matched “Python APIs” (title similarity 100, periods agree, "
        "merged into “Plugins API, Python APIs”)",
    )
    assert report.undocumented == []


def test_covering_versions_several_on_a_day_and_none_on_another(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            (
                "2022-01-03T10:00:00Z",
                {"Q1": ["Alpha [1]"], "Q2": ["Beta [2]"], "Backlog": ["Gamma"]},
            ),
            (
                "2022-01-10T09:00:00Z",
                {"Q1": [], "Q2": ["Alpha [1]", "Beta [2]"], "Backlog": ["Gamma"]},
            ),
            (
                "2022-01-10T15:00:00Z",
                {"Q1": [], "Q2": ["Alpha [1]"], "Q3": ["Beta [2]"], "Backlog": ["Gamma"]},
            ),
            (
                "2022-01-20T10:00:00Z",
                {"Q1": ["Gamma"], "Q2": ["Alpha [1]"], "Q3": ["Beta [2]"], "Backlog": []},
            ),
        ],
        _history(
            [
                ("2022-02-01", "Added", "Added “Omega” in Q3."),
                ("2022-01-20", "Deferred", "Moved “Alpha” from Q1 to Q2."),  # wrong date
                ("2022-01-15", "Moved Up", "Moved “Gamma” from Backlog to Q1."),
                ("2022-01-10", "Deferred", "Moved “Alpha” from Q1 to Q2; “Beta” from Q2 to Q3."),
            ]
        ),
    )
    report = audit_page(store, SYN)
    got = [(e.written.title, e.status, e.versions) for e in report.entries]
    assert got == [
        ("Omega", "unverifiable", None),  # nothing stored on or after 2022-02-01
        ("Alpha", "not found", (3, 4)),
        ("Gamma", "confirmed", (3, 4)),  # nothing stored on 2022-01-15: the next version
        ("Alpha", "confirmed", (1, 3)),  # two versions on 2022-01-10: before it → last on it
        ("Beta", "confirmed", (1, 3)),
    ]
    assert report.entries[0].note == (
        "no stored version on or after 2022-02-01 (the last is v4 of 2022-01-20)"
    )
    assert report.entries[1].note == (
        "no change to a card like “Alpha” between v3 and v4; "
        "a change like it (“Alpha”, Deferred) happened between v1 and v2 (2022-01-10)"
    )
    assert report.undocumented == []  # the wide v1→v3 pair accounts for v1→v2 and v2→v3
    assert report.exit_code == 1  # the wrongly dated entry


def test_card_differs_duplicate_unparsed_undated_and_later_name(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            (
                "2022-01-03T10:00:00Z",
                {
                    "Q1": [],
                    "Q2": [],
                    "Q3": [],
                    "Backlog": ["Tutor Eval for Devstack [1]", "Zeta [3]"],
                },
            ),
            (
                "2022-01-10T10:00:00Z",
                {
                    "Q1": [],
                    "Q2": ["Tutor Eval for Devstack [1]"],
                    "Q3": [],
                    "Backlog": ["Zeta [3]"],
                },
            ),
            (
                "2022-01-20T10:00:00Z",
                {
                    "Q1": [],
                    "Q2": ["Tutor for Devstack Adoption [1]"],
                    "Q3": ["Zeta [3]"],
                    "Backlog": [],
                },
            ),
        ],
        _history(
            [
                ("", None, "Renamed “Tutor Eval for Devstack” to “Tutor for Devstack Adoption”."),
                ("2022-01-20", "Moved Up", "Moved “Epsilon” from Backlog to Q3."),
                ("2022-01-20", None, "We tidied up the lanes."),
                (
                    "2022-01-10",
                    "Moved Up",
                    "Moved “Tutor for Devstack Adoption” from Backlog to Q2.",
                ),
                (
                    "2022-01-10",
                    "Moved Up",
                    "Moved “Tutor for Devstack Adoption” from Backlog to Q2.",
                ),
            ]
        ),
    )
    report = audit_page(store, SYN)
    got = [(e.written.date, e.written.kind, e.status, e.note) for e in report.entries]
    assert got == [
        ("", "changed", "unverifiable", "the entry has no date"),
        # only Zeta moved from Backlog to Q3: the sentence names the wrong card
        (
            "2022-01-20",
            "moved",
            "inaccurate",
            "matched “Zeta” (title similarity 18, periods agree); written “Epsilon”, really “Zeta”",
        ),
        ("2022-01-20", "unparsed", "not found", "could not read the sentence"),
        (
            "2022-01-10",
            "moved",
            "confirmed",
            "matched “Tutor Eval for Devstack” (title similarity 100, periods agree, "
            "by its later name “Tutor for Devstack Adoption”)",
        ),
        # the same sentence twice: one change, one entry
        (
            "2022-01-10",
            "moved",
            "not found",
            "no change to a card like “Tutor for Devstack Adoption” between v1 and v2; "
            "“Tutor Eval for Devstack” is already accounted for by another entry",
        ),
    ]
    # the rename itself was only written without a date
    assert [(u.change.category, u.versions, u.author) for u in report.undocumented] == [
        ("Renamed", (2, 3), "author3")
    ]
    assert report.exit_code == 1


def test_only_unverifiable_entries_verify_nothing(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [("2022-01-03T10:00:00Z", {"Q1": ["Alpha"]})],
        _history([("2021-12-01", None, "Added “Alpha” in Q1.")]),
    )
    report = audit_page(store, SYN)
    assert [e.status for e in report.entries] == ["unverifiable"]
    assert report.exit_code == 3  # not a pass: nothing was checked


def test_parts_and_organisations_added_to_a_card(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        [
            ("2022-01-03T10:00:00Z", {"Q1": ["Card [1]"], "Q2": []}),
            ("2022-01-10T10:00:00Z", {"Q1": ["Card [1], Templates [2]"], "Q2": []}),
            ("2022-01-20T10:00:00Z", {"Q1": [], "Q2": ["Card [1], Templates [2], Docs [3]"]}),
        ],
        _history(
            [
                ("2022-01-20", None, "Added “Docs” and edX to the “Card” card."),
                ("2022-01-10", "Added", "Added “Templates” and OpenCraft to the “Card” card."),
            ]
        ),
    )
    report = audit_page(store, SYN)
    assert [(e.status, e.note) for e in report.entries] == [
        # a one-word name matches the card's part, not its whole title; the card also moved
        # (fine: the sentence does not speak of periods), but the organisation added was MIT
        (
            "inaccurate",
            "matched “Card, Templates, Docs” (title similarity 100, via its part “Card”); "
            "written organisations edX, really gained MIT",
        ),
        # filed under Added: fair for a part added to a card
        ("confirmed", "matched “Card, Templates” (title similarity 100)"),  # was “Card”
    ]
    assert report.undocumented == []
