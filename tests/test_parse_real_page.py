"""The real page ("FY21-22 Architecture User Story Roadmap"), storage and view bodies.

Counts were made by hand from tests/data/openedx/current.storage.html (a byte-exact copy of
the shared fixture roadmap-current.storage.html): 8 period rows and 9 lanes (the 10 data
columns include "Integrate and not modify core", which spans 2 columns and is one lane).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wikisync.model import Document, HistoryEntry, Item, Part, Roadmap
from wikisync.parse import parse_document, parse_text

DATA = Path(__file__).parent / "data" / "openedx"
STORAGE = (DATA / "current.storage.html").read_text(encoding="utf-8")
VIEW = (DATA / "current.view.html").read_text(encoding="utf-8")
SMART_URL = "https://openedx.atlassian.net/wiki/spaces/AT/pages/1656815712"
SMART_TITLE = "Split On-call Ownership of Monolith"

# Cards per period row, counted by hand: Q1 7, Q2 6, Q3 9, Q4 9, H1 16, H2 8, (after H2) 5,
# Backlog 13.
CARDS_PER_PERIOD = {
    "FY21 Q1 (Jul-Sep)": 7,
    "FY21 Q2 (Oct-Dec)": 6,
    "FY21 Q3 (Jan-Mar)": 9,
    "FY21 Q4 (Apr-Jun)": 9,
    "FY22 H1 (Jul-Dec)": 16,
    "FY22 H2 (Jan-Jun)": 8,
    "(after H2)": 5,
    "Backlog Grab Bag": 13,
}
INTEGRATE = "Cross-boundary Development (x-repo, x-service, x-org) / Integrate and not modify core"


@pytest.fixture(scope="module", params=["storage", "view"])
def roadmap(request: pytest.FixtureRequest) -> Roadmap:
    return parse_text(STORAGE if request.param == "storage" else VIEW)


def one(r: Roadmap, title: str, period: str | None = None) -> Item:
    found = [i for i in r.items if i.title == title and (period is None or i.period == period)]
    assert len(found) == 1, [i.title for i in r.items]
    return found[0]


def test_periods(roadmap: Roadmap) -> None:
    assert [(p.label, p.short, p.index, p.backlog) for p in roadmap.periods] == [
        ("FY21 Q1 (Jul-Sep)", "Q1", 0, False),
        ("FY21 Q2 (Oct-Dec)", "Q2", 1, False),
        ("FY21 Q3 (Jan-Mar)", "Q3", 2, False),
        ("FY21 Q4 (Apr-Jun)", "Q4", 3, False),
        ("FY22 H1 (Jul-Dec)", "H1", 4, False),
        ("FY22 H2 (Jan-Jun)", "H2", 5, False),
        ("(after H2)", "(after H2)", 6, False),
        ("Backlog Grab Bag", "Backlog", 7, True),
    ]
    aliases = {p.label: p.aliases for p in roadmap.periods if p.aliases}
    assert aliases == {
        "FY21 Q2 (Oct-Dec)": ("Koa",),
        "FY21 Q4 (Apr-Jun)": ("Lilac",),
        "FY22 H1 (Jul-Dec)": ("Maple",),
    }
    assert roadmap.orientation == "rows"
    assert roadmap.title == "Roadmap supported with the Community"


def test_lanes(roadmap: Roadmap) -> None:
    assert [lane.path for lane in roadmap.lanes] == [
        ("Onboard to (new area of) Platform", "Understand the Platform"),
        ("Local Development", "How to Use/Develop"),
        ("Local Development", "Make change"),
        ("Local Development", "Test change"),
        ("Cross-boundary Development (x-repo, x-service, x-org)", "Integrate and not modify core"),
        ("Production Development", "Deploy change"),
        ("Production Development", "Observe change"),
        ("Maintain Long-term", "Assess health & value"),
        ("Maintain Long-term", "Removals & upgrades"),
    ]
    assert all(lane.label == " / ".join(lane.path) for lane in roadmap.lanes)
    # Cards from both columns under the spanning "Integrate" header land in that one lane:
    # "Eventing Message bus <Spike>" (first column, Q1), "Backend Plugins Python APIs" (second, H2).
    assert one(roadmap, "Eventing Message bus", "FY21 Q1 (Jul-Sep)").lane == INTEGRATE
    assert one(roadmap, "Backend Plugins Python APIs").lane == INTEGRATE


def test_item_counts(roadmap: Roadmap) -> None:
    assert len(roadmap.items) == 73
    counts: dict[str, int] = {}
    for item in roadmap.items:
        counts[item.period] = counts.get(item.period, 0) + 1
    assert counts == CARDS_PER_PERIOD
    assert len({i.id for i in roadmap.items}) == 73


def test_spot_checks(roadmap: Roadmap) -> None:
    pylint = one(roadmap, "Pylint as effective feedback loop")
    assert (pylint.tags, pylint.orgs, pylint.org_names) == (("Pylint",), ("1",), ("edX",))
    assert pylint.period == "FY21 Q3 (Jan-Mar)"

    es = one(roadmap, "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7")
    assert es.parts == (
        Part("Upgrade Elasticsearch7.8", ("7",)),
        Part("Ubuntu 20.04", ("1",)),
        Part("MySQL 5.7", ("1",)),
    )
    assert es.orgs == ("7", "1")
    assert es.org_names == ("Raccoon Gang", "edX")

    c4 = one(roadmap, "Containerization Phase 4")
    assert (c4.stage, c4.orgs, c4.period) == ("Sustain", ("1",), "(after H2)")

    tutor = one(roadmap, "Tutor-for-Open-edX-Deploys", "FY21 Q4 (Apr-Jun)")
    assert (tutor.stage, tutor.orgs) == ("Eval", ("5",))

    mfe = one(roadmap, "MFE Open Deployment")
    assert (mfe.stage, mfe.orgs) == ("Pilot", ("3", "5", "2"))
    assert mfe.org_names == ("EduNext", "Overhang.io", "OpenCraft")

    devstack = one(roadmap, "Devstack Doc wins, Eval Tutor")
    assert (devstack.tags, devstack.orgs, devstack.text) == (
        ("Devstack",),
        ("2",),
        "Devstack Doc wins, Eval Tutor [2]",
    )

    phases = [
        (i.period, i.stage) for i in roadmap.items if i.title == "Conventional Commits (OEP-51)"
    ]
    assert phases == [
        ("FY21 Q3 (Jan-Mar)", "Pilot"),
        ("FY21 Q4 (Apr-Jun)", "Evangelize"),
        ("FY22 H1 (Jul-Dec)", "Adopt via Automated-Feedback"),
    ]
    assert one(roadmap, "MFE Open edX Deployment").orgs == ("All",)
    assert one(roadmap, "Remove Shopping Cart").orgs == ()
    assert not any(i.struck for i in roadmap.items)


def test_smart_link() -> None:
    storage = parse_text(STORAGE)
    view = parse_text(VIEW)
    both = parse_document(Document(bodies={"storage": STORAGE, "view": VIEW}))
    assert one(storage, SMART_URL).links == (SMART_URL,)
    assert one(view, SMART_TITLE).links == (SMART_URL,)
    item = one(both, SMART_TITLE)
    assert (item.orgs, item.period, item.links) == (("1",), "FY21 Q2 (Oct-Dec)", (SMART_URL,))


def _comparable(r: Roadmap) -> list[tuple[object, ...]]:
    return [
        (
            i.title,
            i.stage,
            i.tags,
            i.orgs,
            i.org_names,
            i.period,
            i.period_end,
            i.lane,
            i.text,
            i.parts,
        )
        for i in r.items
    ]


def test_storage_and_view_agree() -> None:
    storage = parse_text(STORAGE)
    view = parse_text(VIEW)
    different = [
        (a[0], b[0]) for a, b in zip(_comparable(storage), _comparable(view), strict=True) if a != b
    ]
    assert different == [(SMART_URL, SMART_TITLE)]
    assert storage.periods == view.periods
    assert storage.lanes == view.lanes
    assert storage.legend == view.legend
    assert storage.history == view.history
    both = parse_document(Document(bodies={"storage": STORAGE, "view": VIEW}))
    assert _comparable(both) == _comparable(view)


def test_legend(roadmap: Roadmap) -> None:
    assert roadmap.legend == {
        "1": "edX",
        "2": "OpenCraft",
        "3": "EduNext",
        "4": "Edly",
        "5": "Overhang.io",
        "6": "Appsembler",
        "7": "Raccoon Gang",
        "8": "MIT",
    }


def test_history(roadmap: Roadmap) -> None:
    entries = roadmap.history
    assert len(entries) == 15
    deferred = [e for e in entries if e.date == "2021-02-10" and e.category == "Deferred"]
    assert len(deferred) == 5
    assert deferred[0].text == "Moved “Elasticsearch, Ubuntu 20.04, MySql 5.7” from Q2 to Q3."
    categories = [e.category for e in entries if e.date == "2021-02-10"]
    assert categories == ["Deferred"] * 5 + ["Moved Up"] + ["Replaced"] * 2 + ["Added"] * 2
    assert [e for e in entries if e.date == "2020-09-11"] == [
        HistoryEntry(
            "2020-09-11",
            None,
            "Added “Plugin Templates” and OpenCraft to the “Backend Plugins API” card.",
        )
    ]
    assert [e.date for e in entries][-5:] == ["2020-10-26"] * 2 + ["2020-09-25"] * 2 + [
        "2020-09-11"
    ]


def test_deterministic_json() -> None:
    assert parse_text(STORAGE).to_json() == parse_text(STORAGE.encode("utf-8")).to_json()
    assert (
        Roadmap.from_json(parse_text(STORAGE).to_json()).to_json() == parse_text(STORAGE).to_json()
    )
