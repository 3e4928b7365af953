"""Table choice, header rows and columns, orientation, periods, lanes and card placement."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from wikisync.errors import ParseError
from wikisync.model import ParseOptions, Roadmap
from wikisync.parse import parse_text
from wikisync.parse.roadmap import is_period_like

DATA = Path(__file__).parent / "data" / "parse"


def parse(name: str, **options: Any) -> Roadmap:
    return parse_text((DATA / name).read_bytes(), None, ParseOptions(**options))


def placed(roadmap: Roadmap) -> list[tuple[str, str | None, str, str]]:
    return [(i.period, i.period_end, i.lane, i.title) for i in roadmap.items]


# --------------------------------------------------------------------------- orientation


def test_periods_across_the_columns() -> None:
    r = parse("columns.storage.html")
    assert r.orientation == "columns"
    assert r.title == "Platform roadmap"
    assert [(p.label, p.short, p.index, p.backlog) for p in r.periods] == [
        ("2021 H1", "2021 H1", 0, False),  # "H1" is ambiguous (2021 and 2022)
        ("2021 H2", "H2", 1, False),
        ("2022 H1", "2022 H1", 2, False),
        ("Later", "Backlog", 3, True),
    ]
    # Two header columns: activity (rowspan) then task; "Backend" spans both.
    assert [lane.path for lane in r.lanes] == [
        ("Frontend", "Design system"),
        ("Frontend", "Micro-frontends"),
        ("Backend",),
    ]
    assert placed(r) == [
        ("2021 H1", None, "Frontend / Design system", "Paragon v2"),
        ("2022 H1", None, "Frontend / Design system", "Tokens"),
        ("Later", None, "Frontend / Design system", "Dark mode"),
        ("2021 H1", None, "Frontend / Micro-frontends", "MFE Login"),
        ("2021 H1", None, "Frontend / Micro-frontends", "MFE Account"),
        ("2021 H2", "2022 H1", "Frontend / Micro-frontends", "Module federation"),
        ("2021 H1", None, "Backend", "Django 3.2"),
        ("2021 H2", None, "Backend", "Python 3.11"),
        ("Later", None, "Backend", "Event bus"),
    ]


def test_orientation_override() -> None:
    r = parse("columns.storage.html", orientation="rows")
    assert r.orientation == "rows"
    assert [p.label for p in r.periods] == [
        "Frontend Design system",
        "Frontend Micro-frontends",
        "Backend",
    ]
    assert [lane.label for lane in r.lanes] == ["2021 H1", "2021 H2", "2022 H1", "Later"]


def test_rowspan_card_spans_periods() -> None:
    r = parse("rowspan.storage.html")
    assert r.orientation == "rows"
    assert placed(r) == [
        ("Q1 2024", "Q2 2024", "Build", "Long migration"),
        ("Q1 2024", None, "Run", "Alerts"),
        ("Q2 2024", None, "Run", "Dashboards"),
        ("Q3 2024", None, "Build", "Cleanup"),
    ]
    assert [p.short for p in r.periods] == ["Q1", "Q2", "Q3"]


def test_three_level_header_with_td_confluence_th() -> None:
    r = parse("three-levels.html")
    assert [lane.path for lane in r.lanes] == [
        ("Build", "Code", "Write"),
        ("Build", "Code", "Review"),
        ("Build", "Test"),
        ("Operate", "Observe", "Metrics"),
    ]
    assert [p.label for p in r.periods] == ["January 2025", "February 2025"]
    assert placed(r)[-1] == ("February 2025", None, "Build / Test", "Contract tests")
    assert r.title == "Engineering map"


def test_nested_table_inside_a_cell() -> None:
    r = parse("nested.storage.html")
    assert [p.label for p in r.periods] == ["H1", "H2"]
    assert [lane.label for lane in r.lanes] == ["Platform", "Apps"]
    titles = [(i.period, i.lane, i.title) for i in r.items]
    assert ("H1", "Platform", "Inner card B") in titles
    assert ("H2", "Platform", "Second card") in titles
    assert len(r.items) == 6


def test_hostile_spans_still_parse() -> None:
    r = parse("hostile-spans.storage.html")
    assert [p.label for p in r.periods] == ["Q1", "Q2", "Q3"]
    assert [lane.label for lane in r.lanes] == ["Everything", "Ops"]
    spans = {i.title: (i.period, i.period_end) for i in r.items}
    assert spans["Tall card"] == ("Q1", "Q3")
    assert spans["Overlap card"] == ("Q2", "Q3")
    assert spans["Last card"] == ("Q3", None)


@pytest.mark.parametrize(
    "table",
    [
        "<tr><th rowspan='0' colspan='0'>Q1</th><td colspan='99999999999999999999'>x</td></tr>"
        "<tr><td rowspan='-5'>Q2</td><td>y</td></tr>",
        "<tr><td colspan='1000'>Q1</td></tr>" * 50 + "<tr><th>FY21</th><td>z</td></tr>",
        "<tr><th>Q1</th>" + "<td rowspan='3' colspan='3'>o</td>" * 5 + "</tr><tr><td>Q2</td></tr>",
    ],
)
def test_hostile_tables_never_crash(table: str) -> None:
    try:
        r = parse_text(f"<table>{table}</table>")
    except ParseError:
        return
    assert r.periods


# --------------------------------------------------------------------------- table choice


def test_both_roadmaps_are_read_and_the_contacts_table_is_not() -> None:
    # Issue 14: several roadmaps on one page are all read, each lane named after its heading.
    r = parse("two-tables.storage.html")
    assert r.title == "Delivery roadmap"
    assert [p.label for p in r.periods] == ["Q1 2025", "Q2 2025", "Q3 2025"]
    assert [lane.label for lane in r.lanes] == [
        "Delivery roadmap / Platform",
        "Delivery roadmap / Apps",
        "Ideas roadmap / Research",
    ]


def test_table_heading_index_and_header_options() -> None:
    by_heading = parse("two-tables.storage.html", table_heading="ideas")
    assert [i.title for i in by_heading.items] == ["LLM triage"]
    by_index = parse("two-tables.storage.html", table_index=2)
    assert by_index.title == "Ideas roadmap"
    by_header = parse("two-tables.storage.html", table_header="Research")
    assert [lane.label for lane in by_header.lanes] == ["Research"]
    # An explicit choice may pick a table without period labels.
    contacts = parse("two-tables.storage.html", table_index=0, orientation="rows")
    assert [p.label for p in contacts.periods] == ["Platform", "Apps"]


def test_option_errors() -> None:
    with pytest.raises(ParseError, match="table_index 7 is out of range"):
        parse("two-tables.storage.html", table_index=7)
    with pytest.raises(ParseError, match="table_heading='Nope'"):
        parse("two-tables.storage.html", table_heading="Nope")


@pytest.mark.parametrize(
    "page",
    [
        "<p>No tables here at all.</p>",
        "<table><tr><th>Q1</th><td>only one row</td></tr></table>",
        "<table><tr><th>Name</th><th>Role</th></tr><tr><td>Ana</td><td>Lead</td></tr></table>",
        "<table><tr><td>single column</td></tr><tr><td>Q1</td></tr></table>",
    ],
)
def test_no_roadmap_table(page: str) -> None:
    with pytest.raises(ParseError, match=r"no (roadmap )?table"):
        parse_text(page)


# --------------------------------------------------------------------------- periods


def test_period_aliases_backlog_and_unlabelled_rows() -> None:
    page = (
        "<table><tr><th>When</th><th>Work</th></tr>"
        "<tr><th>Icebox</th><td>Someday</td></tr>"
        "<tr><th><p><strong>FY24 Q1</strong><br/>"
        '<span class="status-macro aui-lozenge">REDWOOD</span></p></th><td>A</td></tr>'
        "<tr><th>FY24 Q2</th><td>B</td></tr>"
        "<tr><th>&nbsp;</th><td>C [1]</td></tr>"
        "<tr><th></th><td></td></tr>"
        "<tr><th>FY25 Q1</th><td>D</td></tr></table>"
    )
    r = parse_text(page, "view", ParseOptions(period_aliases={"Sumac": "Q2", "X": "nowhere"}))
    assert [(p.label, p.short, p.aliases, p.index, p.backlog) for p in r.periods] == [
        ("FY24 Q1", "FY24 Q1", ("Redwood",), 0, False),
        ("FY24 Q2", "Q2", ("Sumac",), 1, False),
        ("(after Q2)", "(after Q2)", (), 2, False),
        ("FY25 Q1", "FY25 Q1", (), 3, False),
        ("Icebox", "Backlog", (), 4, True),
    ]
    assert [(i.period, i.title) for i in r.items] == [
        ("Icebox", "Someday"),
        ("FY24 Q1", "A"),
        ("FY24 Q2", "B"),
        ("(after Q2)", "C"),
        ("FY25 Q1", "D"),
    ]


def test_backlog_words_option() -> None:
    page = (
        "<table><tr><th>Q</th><th>W</th></tr><tr><th>Q1</th><td>a</td></tr>"
        "<tr><th>Parked 2030</th><td>b</td></tr></table>"
    )
    r = parse_text(page, None, ParseOptions(backlog_words=("parked",)))
    assert [(p.label, p.short, p.backlog) for p in r.periods][-1] == (
        "Parked 2030",
        "Backlog",
        True,
    )


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("FY21 Q1 (Jul-Sep)", True),
        ("Q3", True),
        ("H2", True),
        ("2021", True),
        ("March", True),
        ("Sprint 14", True),
        ("Backlog Grab Bag", True),
        ("Now", True),
        ("Next", True),
        ("Local Development", False),
        ("Make change", False),
        ("Marketing", False),
        ("Assess health & value", False),
    ],
)
def test_period_likeness(label: str, expected: bool) -> None:
    assert is_period_like(label, (), ("backlog", "grab bag")) is expected


# --------------------------------------------------------------------------- ids


def test_ids_are_deterministic_hashes_with_ordinals() -> None:
    page = (
        "<table><tr><th>Q</th><th>Lane</th></tr>"
        "<tr><th>Q1</th><td><p>Same &lt;Pilot&gt;</p><p>Same &lt;Pilot&gt;</p>"
        "<p>Other</p></td></tr></table>"
    )
    r = parse_text(page)
    key = "Q1|Lane|Same|Pilot"
    assert [i.id for i in r.items[:2]] == [
        hashlib.sha1(f"{key}|{n}".encode()).hexdigest()[:12] for n in (0, 1)
    ]
    assert len({i.id for i in r.items}) == 3
    assert parse_text(page).to_json() == r.to_json()


# --------------------------------------------------------------------------- header detection


def test_strong_only_td_cells_are_headers() -> None:
    page = (
        "<table><tbody><tr><td><strong>Quarter</strong></td><td><strong>Build</strong></td>"
        "<td><b>Run</b></td></tr>"
        "<tr><td><strong>Q1</strong></td><td>Alpha [1]</td><td><strong>Bold</strong> card</td></tr>"
        "<tr><td><p><strong>Q2</strong></p></td><td>Beta</td><td></td></tr></tbody></table>"
    )
    r = parse_text(page)
    assert [lane.label for lane in r.lanes] == ["Build", "Run"]
    assert placed(r) == [
        ("Q1", None, "Build", "Alpha"),
        ("Q1", None, "Run", "Bold card"),
        ("Q2", None, "Build", "Beta"),
    ]


def test_tables_without_header_markup() -> None:
    plain = (
        "<table><tr><td>When</td><td>Build</td></tr><tr><td>Q1</td><td>Alpha</td></tr>"
        "<tr><td>Q2</td><td>Beta</td></tr></table>"
    )
    assert placed(parse_text(plain)) == [
        ("Q1", None, "Build", "Alpha"),
        ("Q2", None, "Build", "Beta"),
    ]
    headless = (
        "<table><tr><th>Q1</th><td>Alpha</td><td>Gamma</td></tr>"
        "<tr><th>Q2</th><td>Beta</td><td></td></tr></table>"
    )
    r = parse_text(headless)
    assert [lane.label for lane in r.lanes] == ["Column 2", "Column 3"]
    assert [p.label for p in r.periods] == ["Q1", "Q2"]


def test_repeated_header_and_full_width_rows_are_not_periods() -> None:
    page = (
        "<table><tr><th>Q</th><th>A</th><th>B</th></tr>"
        "<tr><th>Q1</th><td>Search</td><td>Billing</td></tr>"
        "<tr><td colspan='3'><strong>Second half</strong></td></tr>"
        "<tr><th>Q</th><th>A</th><th>B</th></tr><tr><th>Q3</th><td>Tutor</td><td></td></tr></table>"
    )
    r = parse_text(page)
    assert [p.label for p in r.periods] == ["Q1", "Q3"]
    # (card names, not "x"/"y": a lone mark such as "x" in a cell is never a card)
    assert [i.title for i in r.items] == ["Search", "Billing", "Tutor"]


def test_unlabelled_rows_are_named_after_their_neighbours() -> None:
    page = (
        "<table><tr><th>Q</th><th>A</th></tr><tr><th></th><td>first</td></tr>"
        "<tr><th>Q1</th><td>x</td></tr><tr><th></th><td>y</td></tr>"
        "<tr><th>&nbsp;</th><td>z</td></tr><tr><th>Backlog</th><td>w</td></tr></table>"
    )
    r = parse_text(page)
    assert [(p.label, p.short) for p in r.periods] == [
        ("(before Q1)", "(before Q1)"),
        ("Q1", "Q1"),
        ("(after Q1)", "(after Q1)"),
        ("(after Q1) (2)", "(after Q1) (2)"),
        ("Backlog", "Backlog"),
    ]
