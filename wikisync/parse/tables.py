"""What the row-per-item and tick-matrix readers share: one roadmap section, cell values,
marks, painted cells, header rows and group rows.

A *section* is one roadmap found on a page (a table or a Roadmap Planner macro); ``shapes.py``
joins the sections of a page into one ``Roadmap``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container
from dataclasses import field

from lxml import etree

from wikisync._record import record
from wikisync.model import Item, Lane, Period
from wikisync.parse.cards import parse_cell
from wikisync.parse.grid import Cell, Grid
from wikisync.parse.inline import norm
from wikisync.parse.roadmap import Reader, is_header_row
from wikisync.timeline import period_start

#: What people put in a cell to say "planned here".
MARKS = frozenset(
    {"✓", "✔", "✔️", "✅", "☑", "☑️", "✗", "✘", "x", "X", "●", "•", "◉", "■", "█", "★", "*", "+"}
)
#: Words a mark cell may hold instead of a symbol.
MARK_WORDS = frozenset({"yes", "y", "planned"})


@record()
class Section:
    """One roadmap on a page: its shape, heading, periods (in time order), lanes and items."""

    shape: str
    title: str | None
    periods: list[Period] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    orientation: str = "rows"
    lane_name: str | None = None  # the header of the column lanes come from (``Team``)


@functools.cache
def _paint_re() -> re.Pattern[str]:
    return re.compile(r"background(?:-color)?\s*:\s*([^;\"']+)", re.IGNORECASE)


def paint(el: etree._Element) -> str | None:
    """The background colour a cell is painted with (storage, view or plain HTML), else None."""
    colour = el.get("data-highlight-colour") or el.get("bgcolor")
    if colour:
        return colour.strip()
    style = el.get("style")
    m = _paint_re().search(style) if style else None
    if m is not None:
        value = m.group(1).strip()
        if value.lower() not in ("none", "transparent", "inherit", "initial", "#fff", "#ffffff"):
            return value
    for cls in (el.get("class") or "").split():
        if cls.startswith("highlight-") and cls != "highlight-grey":
            return cls[len("highlight-") :]
    return None


def is_mark(text: str) -> bool:
    """``✓``, ``x``, ``●``, ``yes``: a cell saying the item is planned in this period."""
    t = text.strip()
    return bool(t) and (t in MARKS or t.casefold() in MARK_WORDS or set(t) <= MARKS)


def cell_value(cell: Cell, reader: Reader) -> str:
    """A field value as a reader sees it: text, status lozenges, mentions, else the colour."""
    ctx = reader.ctx
    text, lozenges = reader.label(cell)
    parts = [text] if text else []
    parts.extend(z for z in lozenges if z not in parts)
    if not parts:
        for card in parse_cell(cell.el, ctx):
            parts.extend(card.mentions)
    if not parts:
        colour = paint(cell.el)
        if colour:
            return colour
    return norm(" ".join(parts))


def row_title(
    row: list[Cell | None], key: int, labels: list[str], reader: Reader
) -> tuple[Cell, str] | None:
    """A data row's title cell and title (its text, else its lozenges); None for a row with
    no title or the header row repeated (what the rows and matrix readers both skip)."""
    cell = row[key]
    if cell is None:
        return None
    title, lozenges = reader.label(cell)
    title = title or " ".join(lozenges)
    if not title or title == labels[key]:
        return None
    return cell, title


def row_fields(
    row: list[Cell | None],
    skip: Container[int | None],
    title_cell: Cell,
    labels: list[str],
    reader: Reader,
) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """The row's other cells (not in ``skip``, a spanned cell once) as ``(column, value)``
    fields, and the user mentions written in them."""
    fields: list[tuple[str, str]] = []
    mentions: list[str] = []
    prev: Cell | None = title_cell
    for c, cell in enumerate(row):
        if c in skip or cell is None or cell is prev:
            continue
        prev = cell
        value = cell_value(cell, reader)
        if value:
            fields.append((labels[c] or f"Column {c + 1}", value))
        for card in parse_cell(cell.el, reader.ctx):
            mentions.extend(card.mentions)
    return fields, tuple(mentions)


def grid_of(reader: Reader, table: etree._Element) -> Grid:
    """The table's grid, built once per parse whichever shapes try it."""
    return reader.grid(table)


def header_rows(grid: Grid, reader: Reader) -> int:
    """How many leading rows are headers (at least one: a plain table's first row is)."""
    h = 0
    while h < grid.height - 1 and is_header_row(reader, grid.rows[h]):
        row = grid.rows[h]
        if h and all(c is row[0] for c in row):
            break  # one bold cell across the table below the header: a group row
        h += 1
    return max(h, 1)


def column_labels(grid: Grid, h: int, reader: Reader) -> list[str]:
    """Each column's label: its header cells top → bottom, repeats dropped (``2021 Q1``)."""
    labels: list[str] = []
    for c in range(grid.width):
        texts: list[str] = []
        prev: Cell | None = None
        for r in range(h):
            cell = grid.rows[r][c]
            if cell is None or cell is prev:
                continue
            prev = cell
            text, lozenges = reader.label(cell)
            text = text or " ".join(lozenges)
            if text and text not in texts:
                texts.append(text)
        labels.append(" ".join(texts))
    return labels


def table_head(reader: Reader, table: etree._Element) -> tuple[Grid, int, list[str]] | None:
    """The grid of a table, its header row count and its column labels; None for a table too
    small to be a roadmap (what the rows and matrix readers both start from)."""
    grid = grid_of(reader, table)
    if grid.height < 2 or grid.width < 2:
        return None
    h = header_rows(grid, reader)
    return grid, h, column_labels(grid, h, reader)


def group_label(row: list[Cell | None], reader: Reader) -> str | None:
    """The label of a group row (one cell across the whole table), else None."""
    first = row[0] if row else None
    if first is None or len(row) < 2 or any(c is not first for c in row):
        return None
    text, lozenges = reader.label(first)
    return text or " ".join(lozenges) or None


def time_order(labels: list[str], backlog: list[bool], aliases: dict[str, str]) -> list[int]:
    """Indexes of ``labels`` in time order: dated labels by date (a configured release name
    by its target's date), then undated ones as they appear, then backlog-like ones."""
    keys: list[tuple[int, tuple[int, int, int], int]] = []
    folded = {k.casefold(): v for k, v in aliases.items()}
    for i, label in enumerate(labels):
        when = period_start(label) or period_start(folded.get(label.casefold(), ""))
        if backlog[i]:
            keys.append((2, (0, 0, 0), i))
        elif when is not None:
            keys.append((0, when, i))
        else:
            keys.append((1, (0, 0, 0), i))
    return [k[2] for k in sorted(keys)]


def is_backlog(label: str, words: tuple[str, ...]) -> bool:
    low = label.casefold()
    return any(w and w.casefold() in low for w in words)
