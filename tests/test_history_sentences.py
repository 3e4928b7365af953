"""The sentence grammar of the hand-written Change History: what each sentence claims happened.

The real page's sentences (tests/data/openedx/history.json, the same as the seed text) must all be
read; our own cover the other forms. Periods are resolved by label, short name or release alias.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, HistoryEntry, Period, VersionRef, WrittenChange
from wikisync.parse import parse_text
from wikisync.parse.history import parse_sentence, period_names
from wikisync.render import sentences

DATA = Path(__file__).parent / "data" / "openedx"
HISTORY: list[dict[str, Any]] = json.loads((DATA / "history.json").read_text(encoding="utf-8"))

Q1 = "FY21 Q1 (Jul-Sep)"
Q2 = "FY21 Q2 (Oct-Dec)"
Q3 = "FY21 Q3 (Jan-Mar)"
Q4 = "FY21 Q4 (Apr-Jun)"
H1 = "FY22 H1 (Jul-Dec)"
BACKLOG = "Backlog Grab Bag"
PERIODS = [
    Period(Q1, "Q1", (), 0),
    Period(Q2, "Q2", ("Koa",), 1),
    Period(Q3, "Q3", (), 2),
    Period(Q4, "Q4", ("Lilac",), 3),
    Period(H1, "H1", ("Maple",), 4),
    Period("FY22 H2 (Jan-Jun)", "H2", (), 5),
    Period(BACKLOG, "Backlog", (), 6, backlog=True),
]


def read(text: str, category: str | None = None, date: str = "2021-02-10") -> list[WrittenChange]:
    return parse_sentence(HistoryEntry(date, category, text), PERIODS)


def claims(text: str) -> list[tuple[str, str, str | None, str | None]]:
    return [(w.kind, w.title, w.from_period, w.to_period) for w in read(text)]


# --------------------------------------------------------------------------- the real page

DJANGO = "Django Signals remains in Q3"

# (kind, title, from label, to label, orgs, part, note) per claim, in the page's order.
REAL: dict[str, list[tuple[Any, ...]]] = {
    "Moved “Elasticsearch, Ubuntu 20.04, MySql 5.7” from Q2 to Q3.": [
        ("moved", "Elasticsearch, Ubuntu 20.04, MySql 5.7", Q2, Q3, (), None, None)
    ],
    "Moved “Authentication Standardized” from Q3 to Backlog.": [
        ("moved", "Authentication Standardized", Q3, BACKLOG, (), None, None)
    ],
    "Moved “Eventing: Inter-service messaging Pilot” from Q2 to Q4.": [
        ("moved", "Eventing: Inter-service messaging Pilot", Q2, Q4, (), None, None)
    ],
    "Moved “Eventing: Standard xAPI/Caliper” from Q2 to Q4.": [
        ("moved", "Eventing: Standard xAPI/Caliper", Q2, Q4, (), None, None)
    ],
    # An unclosed parenthesis: the remark is kept as a note, the move is read.
    "Moved “Backend Plugins API: Python APIs” from Q3 to Q4 (Django Signals remains in Q3.": [
        (
            "moved",
            "Backend Plugins API: Python APIs",
            Q3,
            Q4,
            (),
            None,
            "Django Signals remains in Q3",
        )
    ],
    "Moved “Doc: Developer Handbook” from Backlog to Q4.": [
        ("moved", "Doc: Developer Handbook", BACKLOG, Q4, (), None, None)
    ],
    "Deleted “Decentralized Devstack Adoption” from Q2.": [
        ("deleted", "Decentralized Devstack Adoption", Q2, None, (), None, None)
    ],
    "Added “Devstack: Doc Wins, Data Provision, Eval Tutor” to Q3.": [
        ("added", "Devstack: Doc Wins, Data Provision, Eval Tutor", None, Q3, (), None, None)
    ],
    "Added “Pylint as effective feedback loop” in Q3.": [
        ("added", "Pylint as effective feedback loop", None, Q3, (), None, None)
    ],
    "Added “Monolith PR Standards” in Q3.": [
        ("added", "Monolith PR Standards", None, Q3, (), None, None)
    ],
    "Moved “Eventing Standard xAPI/Caliper” from Q1 to Q2.": [
        ("moved", "Eventing Standard xAPI/Caliper", Q1, Q2, (), None, None)
    ],
    "Moved “Backend Plugins API” from Koa to Lilac.": [
        ("moved", "Backend Plugins API", Q2, Q4, (), None, None)
    ],
    "Moved “Doc Onboarding Course” from Backlog to Lilac, assigned to Appsembler.": [
        ("moved", "Doc Onboarding Course", BACKLOG, Q4, ("Appsembler",), None, None)
    ],
    "Moved “Eventing Inter-service messaging” from Lilac to Koa; “Authentication standardized” "
    "from Koa to Lilac.": [
        ("moved", "Eventing Inter-service messaging", Q4, Q2, (), None, None),
        ("moved", "Authentication standardized", Q2, Q4, (), None, None),
    ],
    "Added “Plugin Templates” and OpenCraft to the “Backend Plugins API” card.": [
        ("changed", "Backend Plugins API", None, None, ("OpenCraft",), "Plugin Templates", None)
    ],
}


def test_every_real_sentence_is_covered_here() -> None:
    assert {h["text"] for h in HISTORY} == set(REAL)


@pytest.mark.parametrize("entry", HISTORY, ids=lambda h: h["text"][:40])
def test_real_page_sentences(entry: dict[str, Any]) -> None:
    got = parse_sentence(HistoryEntry.from_json(entry), PERIODS)
    assert [
        (w.kind, w.title, w.from_period, w.to_period, w.orgs, w.part, w.note) for w in got
    ] == REAL[entry["text"]]
    for w in got:  # date, category and the sentence come from the entry, unchanged
        assert (w.date, w.category, w.sentence) == (entry["date"], entry["category"], entry["text"])


def test_names_as_written_are_kept() -> None:
    [w] = read("Moved “Backend Plugins API” from Koa to Lilac.")
    assert (w.from_name, w.to_name) == ("Koa", "Lilac")
    assert (w.from_period, w.to_period) == (Q2, Q4)


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Q2", Q2),  # short
        ("q2", Q2),  # any case
        ("Koa", Q2),  # release alias
        ("KOA", Q2),
        ("FY21 Q2 (Oct-Dec)", Q2),  # the label itself, parentheses and all
        ("fy21 q2", Q2),  # the label without its months
        ("Backlog", BACKLOG),
        ("Backlog Grab Bag", BACKLOG),
        ("the Backlog", BACKLOG),
        ("Maple", H1),
    ],
)
def test_period_by_label_short_or_alias(name: str, label: str) -> None:
    [w] = read(f"Moved “X” from {name} to Q3.")
    assert (w.kind, w.from_period, w.to_period, w.from_name) == (
        "moved",
        label,
        Q3,
        name.removeprefix("the "),
    )
    [w] = read(f"Added “X” in {name}.")
    assert w.to_period == label


def test_period_names_table() -> None:
    names = period_names(PERIODS)
    assert names["koa"] == Q2 and names["q4"] == Q4 and names["fy22 h1"] == H1
    assert names["backlog"] == BACKLOG and names["fy21 q1 (jul-sep)"] == Q1
    # The first period to claim a name keeps it.
    dup = [Period("A (x)", "Q1"), Period("B (y)", "Q1")]
    assert period_names(dup)["q1"] == "A (x)"


def test_unknown_period_is_kept_unresolved() -> None:
    [w] = read("Moved “X” from Q2 to Nutmeg.")
    assert (w.kind, w.from_period, w.to_period, w.to_name) == ("moved", Q2, None, "Nutmeg")


def test_period_range_is_named_by_its_first_period() -> None:
    [w] = read("Moved “Y” from Q3–Q4 to H1.")
    assert (w.from_period, w.from_name, w.to_period) == (Q3, "Q3–Q4", H1)


# --------------------------------------------------------------------------- other forms


def test_straight_and_other_quotes() -> None:
    assert claims('Moved "A" from Q1 to Q2.') == [("moved", "A", Q1, Q2)]
    assert claims("Moved „A“ from Q1 to Q2.") == [("moved", "A", Q1, Q2)]
    assert claims("Deleted «A» from Q1.") == [("deleted", "A", Q1, None)]
    # Whatever the quotes hide is the title: "from", ";" and parentheses included.
    assert claims("Moved “Move from X to Y; (maybe)” from Q1 to Q2.") == [
        ("moved", "Move from X to Y; (maybe)", Q1, Q2)
    ]


def test_several_moves_in_one_sentence() -> None:
    assert claims("Moved “A” from Lilac to Koa; “B” from Koa to Lilac; “C” from Q1 to H1.") == [
        ("moved", "A", Q4, Q2),
        ("moved", "B", Q2, Q4),
        ("moved", "C", Q1, H1),
    ]
    assert claims("Moved “A” from Q1 to Q2 and “B” from Q3 to Q4.") == [
        ("moved", "A", Q1, Q2),
        ("moved", "B", Q3, Q4),
    ]
    assert claims("Moved “A” from Q1 to Q2; moved “B” from Q3 to Q4.") == [
        ("moved", "A", Q1, Q2),
        ("moved", "B", Q3, Q4),
    ]


def test_assigned_to_several_organisations_and_notes() -> None:
    [w] = read("Moved “X” from Backlog to Q3, assigned to edX and MIT (see the notes).")
    assert (w.orgs, w.note, w.to_period) == (("edX", "MIT"), "see the notes", Q3)
    [w] = read("Moved “X” from Q1 to Q2 (closed remark).")
    assert w.note == "closed remark"
    [w] = read("Moved “X” to Q2.")
    assert (w.from_period, w.to_period) == (None, Q2)


def test_added_to_and_in_a_period() -> None:
    assert claims("Added “Y” to Q3.") == [("added", "Y", None, Q3)]
    assert claims("Added “Y” in Q3.") == [("added", "Y", None, Q3)]
    assert claims("Added “Y”.") == [("added", "Y", None, None)]
    assert claims("Deleted “X”.") == [("deleted", "X", None, None)]
    assert claims("Removed “X” from Q2.") == [("deleted", "X", Q2, None)]


def test_a_part_and_organisations_added_to_a_card() -> None:
    [w] = read("Added “P” and OpenCraft, EduNext to the “Card” card.")
    assert (w.kind, w.title, w.part, w.orgs) == ("changed", "Card", "P", ("OpenCraft", "EduNext"))
    [w] = read("Added OpenCraft to the “Card” card.")
    assert (w.kind, w.title, w.part, w.orgs) == ("changed", "Card", None, ("OpenCraft",))


def test_unquoted_titles() -> None:
    assert claims("Added X in Q3.") == [("added", "X", None, Q3)]
    assert claims("Deleted Y from Q2.") == [("deleted", "Y", Q2, None)]
    # The cut is made before the preposition that names a period, not the first one.
    assert claims("Added Move to Python 3 in Q3.") == [("added", "Move to Python 3", None, Q3)]


def test_wikisync_own_forms() -> None:
    [w] = read("Renamed “Old name” to “New name” (Q3).")
    assert (w.kind, w.title, w.new_title, w.to_period) == ("changed", "Old name", "New name", Q3)
    [w] = read(
        "Changed “Card, Python APIs” (Q2): added “Plugin Templates”; "
        "organisations EduNext → EduNext, OpenCraft."
    )
    assert (w.kind, w.title, w.part, w.orgs, w.to_period) == (
        "changed",
        "Card, Python APIs",
        "Plugin Templates",
        ("OpenCraft",),
        Q2,
    )
    [w] = read("Moved “Card” from Q3 to H1, removed “Part”, organisations A, B → A.")
    assert (w.kind, w.from_period, w.to_period, w.note) == (
        "moved",
        Q3,
        H1,
        "removed “Part”, organisations A, B → A",
    )


@pytest.mark.parametrize(
    "text",
    [
        "We reshuffled the roadmap after the planning meeting.",
        "Moved “Z”.",  # a move with no period
        "Moved “Z” from Q1 to Q2 because of staffing",  # trailing words it cannot place
        "Renamed “A”.",
        "",
    ],
)
def test_unparsed_is_kept(text: str) -> None:
    [w] = read(text, category="Deferred")
    assert w == WrittenChange(
        date="2021-02-10", category="Deferred", kind="unparsed", title="", sentence=text
    )


def test_whitespace_is_normalised() -> None:
    [w] = read("Moved   “A  B”\n from  Q1 to\tQ2.")
    assert (w.title, w.from_period, w.to_period, w.sentence) == (
        "A B",
        Q1,
        Q2,
        "Moved “A B” from Q1 to Q2.",
    )


def test_json_shape() -> None:
    [w] = read("Moved “A” from Koa to Q3, assigned to edX.", category="Deferred")
    assert w.to_json() == {
        "date": "2021-02-10",
        "category": "Deferred",
        "kind": "moved",
        "title": "A",
        "from_period": Q2,
        "to_period": Q3,
        "orgs": ["edX"],
        "sentence": "Moved “A” from Koa to Q3, assigned to edX.",
        "from_name": "Koa",
        "to_name": "Q3",
        "part": None,
        "new_title": None,
        "note": None,
    }


# --------------------------------------------------------------------------- round trip


def _roadmap(n: int) -> Any:
    return parse_text((DATA / f"v{n}.storage.html").read_text(encoding="utf-8"), "storage")


@pytest.mark.parametrize("n", range(1, 7))
def test_wikisync_sentences_read_back(n: int) -> None:
    """Every sentence wikisync writes for the bundled history reads back as what it says."""
    old, new = _roadmap(n), _roadmap(n + 1)
    cs = ChangeSet(VersionRef("a"), VersionRef("b"), diff_roadmaps(old, new), "", old, new)
    periods = [*new.periods, *old.periods]
    kinds = {"Deferred": "moved", "Moved Up": "moved", "Added": "added", "Deleted": "deleted"}
    assert cs.changes
    for c in cs.changes:
        got = [
            w for s in sentences(c, cs) for w in parse_sentence(HistoryEntry("", None, s), periods)
        ]
        if c.category == "Replaced":
            assert c.from_ is not None and c.to is not None
            assert [(w.kind, w.from_period, w.to_period) for w in got] == [
                ("deleted", c.from_.period, None),
                ("added", None, c.to.period),
            ]
            continue
        [w] = got
        assert w.kind == kinds.get(c.category, "changed"), (c, w)
        want = c.title if w.kind == "added" else (c.old_title or c.title)
        assert w.title == want or w.title.startswith(want + " <"), (c, w)  # "<Stage>" if ambiguous
        if w.kind == "moved":
            assert c.from_ is not None and c.to is not None
            assert (w.from_period, w.to_period) == (c.from_.period, c.to.period)
        elif w.kind == "added":
            assert c.to is not None and w.to_period == c.to.period
        elif w.kind == "deleted":
            assert c.from_ is not None and w.from_period == c.from_.period
