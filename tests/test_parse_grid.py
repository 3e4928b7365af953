"""rowspan/colspan expansion into a grid of shared cell references."""

from __future__ import annotations

import time

from lxml import etree

from wikisync.parse.grid import MAX_COLS, Cell, build_grid, transpose
from wikisync.parse.inline import raw_text
from wikisync.parse.load import parse_tree


def _table(html: str) -> etree._Element:
    root = parse_tree(html, "storage")
    return next(root.iter("table"))


def _names(rows: list[list[Cell | None]]) -> list[list[str]]:
    return [[raw_text(c.el) if c is not None else "-" for c in row] for row in rows]


def test_spans_share_one_cell_object() -> None:
    grid = build_grid(
        _table(
            "<table><tr><th rowspan='2'>A</th><th colspan='2'>B</th></tr>"
            "<tr><td>c</td><td>d</td></tr><tr><td>e</td><td>f</td><td>g</td></tr></table>"
        )
    )
    assert _names(grid.rows) == [["A", "B", "B"], ["A", "c", "d"], ["e", "f", "g"]]
    assert grid.rows[0][0] is grid.rows[1][0]
    assert grid.rows[0][1] is grid.rows[0][2]
    assert len(grid.cells) == 7  # each spanning cell once, in document order
    assert [c.header for c in grid.cells[:2]] == [True, True]


def test_ragged_rows_are_padded() -> None:
    grid = build_grid(_table("<table><tr><td>a</td></tr><tr><td>b</td><td>c</td></tr></table>"))
    assert _names(grid.rows) == [["a", "-"], ["b", "c"]]


def test_sections_and_thead_rows() -> None:
    grid = build_grid(
        _table(
            "<table><thead><tr><td>H</td></tr></thead><tbody><tr><td>x</td></tr></tbody>"
            "<tfoot><tr><td>f</td></tr></tfoot></table>"
        )
    )
    assert _names(grid.rows) == [["H"], ["x"], ["f"]]
    assert [c.in_thead for c in grid.cells] == [True, False, False]


def test_nested_table_rows_are_ignored() -> None:
    grid = build_grid(
        _table(
            "<table><tr><td>outer<table><tr><td>in1</td></tr><tr><td>in2</td></tr></table>"
            "</td><td>b</td></tr></table>"
        )
    )
    assert grid.height == 1
    assert grid.width == 2
    assert len(grid.cells) == 2


def test_confluence_th_class_is_a_header() -> None:
    grid = build_grid(_table("<table><tr><td class='confluenceTh'>h</td><td>d</td></tr></table>"))
    assert [c.header for c in grid.cells] == [True, False]


def test_hostile_spans_are_clamped() -> None:
    grid = build_grid(
        _table(
            "<table><tr><td rowspan='0'>a</td><td rowspan='-2'>b</td><td colspan='x'>c</td>"
            "<td rowspan='1e9' colspan='2.7'>d</td></tr><tr><td>e</td></tr></table>"
        )
    )
    a, b, c, d = grid.cells[:4]
    assert (a.rowspan, b.rowspan, c.colspan) == (1, 1, 1)
    assert d.rowspan == 2  # capped at the rows left
    assert d.colspan == 2
    # d's second column starts no cell in any row, so it is dropped as redundant.
    assert _names(grid.rows) == [["a", "b", "c", "d"], ["e", "-", "-", "d"]]


def test_huge_colspan_is_bounded_and_leaves_room() -> None:
    start = time.perf_counter()
    grid = build_grid(
        _table(
            "<table><tr><th>Q</th><th colspan='1000000'>All</th><th>Ops</th></tr>"
            "<tr><th>Q1</th><td>x</td><td>y</td></tr></table>"
        )
    )
    assert time.perf_counter() - start < 1.0
    span = grid.cells[1]
    assert span.colspan < MAX_COLS
    # Columns no cell starts in are dropped; "Ops" keeps its own column.
    assert _names(grid.rows) == [["Q", "All", "All", "Ops"], ["Q1", "x", "y", "-"]]


def test_overlapping_spans_take_the_next_free_slot() -> None:
    grid = build_grid(
        _table(
            "<table><tr><td>a</td><td rowspan='3'>tall</td></tr>"
            "<tr><td colspan='3'>wide</td></tr><tr><td>b</td><td>c</td></tr></table>"
        )
    )
    assert _names(grid.rows) == [
        ["a", "tall", "-"],
        ["wide", "tall", "wide"],
        ["b", "tall", "c"],
    ]


def test_transpose_keeps_identity() -> None:
    grid = build_grid(
        _table("<table><tr><td colspan='2'>a</td></tr><tr><td>b</td><td>c</td></tr></table>")
    )
    turned = transpose(grid.rows)
    assert _names(turned) == [["a", "b"], ["a", "c"]]
    assert turned[0][0] is turned[1][0]
