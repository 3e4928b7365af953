"""A parsed roadmap as table, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from wikisync.errors import WikisyncError
from wikisync.model import HistoryEntry, Item, Lane, Part, Period, Roadmap
from wikisync.render import render_roadmap

MAKE = Lane("Local Development / Make change", ("Local Development", "Make change"))
DOCS = Lane("Onboard / Understand the Platform", ("Onboard", "Understand the Platform"))


def small_roadmap() -> Roadmap:
    periods = [
        Period("FY21 Q2 (Oct-Dec)", "Q2", ("Koa",), 0),
        Period("FY21 Q3 (Jan-Mar)", "Q3", (), 1),
        Period("Backlog Grab Bag", "Backlog", (), 2, True),
    ]
    items = [  # deliberately not in period/lane order
        Item(
            "b1",
            "Remove Notifier",
            period="Backlog Grab Bag",
            lane=MAKE.label,
            text="Remove Notifier",
        ),
        Item(
            "q3a",
            "Pylint as effective feedback loop",
            stage="Pilot",
            tags=("Pylint",),
            orgs=("1",),
            org_names=("edX",),
            period="FY21 Q3 (Jan-Mar)",
            lane=MAKE.label,
            text="Pylint as effective feedback loop <Pilot> [1]",
        ),
        Item(
            "q2m",
            "MFE Open Deployment, with, commas",
            stage="Pilot",
            orgs=("3", "5", "2"),
            org_names=("EduNext", "Overhang.io", "OpenCraft"),
            period="FY21 Q2 (Oct-Dec)",
            period_end="FY21 Q3 (Jan-Mar)",
            lane=MAKE.label,
            text='MFE Open Deployment, with, commas "quoted" <Pilot> [3, 5, 2]',
            struck=True,
            parts=(Part("MFE Open Deployment", ("3",)),),
        ),
        Item(
            "q2d",
            "Toggle Docs (OEP-17)",
            stage="Adopt",
            orgs=("5",),
            period="FY21 Q2 (Oct-Dec)",
            lane=DOCS.label,
            text="Toggle Docs (OEP-17) <Adopt> [5]",
        ),
    ]
    return Roadmap(
        periods=periods,
        lanes=[DOCS, MAKE],
        items=items,
        legend={"10": "Ten", "2": "OpenCraft", "1": "edX"},
        history=[HistoryEntry("2021-02-10", "Added", "Added “X” in Q3.")],
        title="Roadmap supported with the Community",
    )


EXPECTED_TABLE = """\
period   lane                     title                                       stage  orgs
-------  -----------------------  ------------------------------------------  -----  -------------------------------
Q2       Understand the Platform  Toggle Docs (OEP-17)                        Adopt  5
Q2–Q3    Make change              MFE Open Deployment, with, commas (struck)  Pilot  EduNext, Overhang.io, OpenCraft
Q3       Make change              Pylint as effective feedback loop           Pilot  edX
Backlog  Make change              Remove Notifier
"""  # noqa: E501


def test_table() -> None:
    assert render_roadmap(small_roadmap()) == EXPECTED_TABLE


def test_table_is_aligned_and_ordered() -> None:
    lines = render_roadmap(small_roadmap(), "table").splitlines()
    assert lines[0].split() == ["period", "lane", "title", "stage", "orgs"]
    assert set(lines[1]) == {"-", " "}
    # Period order, then lane order (DOCS before MAKE), then document order.
    assert [ln.split()[0] for ln in lines[2:]] == ["Q2", "Q2–Q3", "Q3", "Backlog"]
    assert "Toggle Docs" in lines[2]
    # Every column starts at the same offset on every line.
    title_col = lines[0].index("title")
    assert all(ln[title_col - 2 : title_col] == "  " for ln in lines[2:])
    assert all(ln[title_col] != " " for ln in lines[2:])


def test_table_empty_roadmap_has_header() -> None:
    out = render_roadmap(Roadmap())
    assert out.splitlines()[0].split() == ["period", "lane", "title", "stage", "orgs"]
    assert len(out.splitlines()) == 2


def test_json_round_trips() -> None:
    rm = small_roadmap()
    out = render_roadmap(rm, "json")
    assert out.endswith("}\n")
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.roadmap/1"
    assert list(doc) == sorted(doc)
    assert list(doc["legend"]) == ["1", "10", "2"]  # sort_keys sorts the legend as strings
    assert Roadmap.from_json(doc) == rm
    assert "“X”" in out  # ensure_ascii=False


def test_csv_parses_back() -> None:
    out = render_roadmap(small_roadmap(), "csv")
    assert "\r" not in out
    assert out.splitlines()[0] == (
        "period,period_end,lane,title,stage,tags,orgs,org_names,struck,text,id"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["q2d", "q2m", "q3a", "b1"]
    mfe = rows[1]
    assert mfe == {
        "period": "FY21 Q2 (Oct-Dec)",
        "period_end": "FY21 Q3 (Jan-Mar)",
        "lane": "Local Development / Make change",
        "title": "MFE Open Deployment, with, commas",
        "stage": "Pilot",
        "tags": "",
        "orgs": "3; 5; 2",
        "org_names": "EduNext; Overhang.io; OpenCraft",
        "struck": "true",
        "text": 'MFE Open Deployment, with, commas "quoted" <Pilot> [3, 5, 2]',
        "id": "q2m",
    }
    assert rows[2]["tags"] == "Pylint"
    assert rows[3]["stage"] == ""
    assert rows[3]["struck"] == "false"


def test_deterministic() -> None:
    for fmt in ("table", "json", "csv"):
        assert render_roadmap(small_roadmap(), fmt) == render_roadmap(small_roadmap(), fmt)


def test_unknown_format() -> None:
    with pytest.raises(WikisyncError, match="unknown format 'xml'"):
        render_roadmap(small_roadmap(), "xml")


def test_table_names_lanes_by_full_path_when_tasks_repeat() -> None:
    rm = small_roadmap()
    twin = Lane(label="Other / Make change", path=("Other", "Make change"))
    rm.lanes.append(twin)
    rm.items.append(Item(id="t", title="Twin", period="FY21 Q2 (Oct-Dec)", lane=twin.label))
    out = render_roadmap(rm)
    assert "Other / Make change" in out and "Local Development / Make change" in out
    assert "  Understand the Platform  " in out
