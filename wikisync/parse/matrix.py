"""Tick matrices and painted Gantt tables: rows are items, columns are periods.

A mark (``✓ ✔ X x ●``, or a cell painted with a background colour, text or not) says the item
is planned in that period: its period is the first marked column, ``period_end`` the last. A row
that is one cell across the table is a group header, the lane of the rows under it. Columns that
are not periods (owner, status) are fields; their user mentions are fields too, never items.
"""

from __future__ import annotations

from lxml import etree

from wikisync.model import Item, Lane, ParseOptions, Period
from wikisync.parse.cards import parse_cell
from wikisync.parse.grid import Cell
from wikisync.parse.inline import Context
from wikisync.parse.roadmap import Reader, is_period_like, item_id, short_names
from wikisync.parse.tables import (
    Section,
    group_label,
    is_mark,
    paint,
    row_fields,
    row_title,
    table_head,
)

UNSCHEDULED = "(unmarked)"


def read_matrix(
    table: etree._Element, reader: Reader, options: ParseOptions, ctx: Context, forced: bool
) -> Section | None:
    """The table as a tick matrix, or None when it is not one."""
    head = table_head(reader, table)
    if head is None:
        return None
    grid, h, labels = head
    pcols = [
        c for c in range(1, grid.width) if is_period_like(labels[c], (), options.backlog_words)
    ]
    if len(pcols) < (1 if forced else 2):
        return None
    key = next(c for c in range(grid.width) if c not in pcols)
    marks = 0
    group: str | None = None
    rows: list[tuple[str, str, Cell, list[int], list[tuple[str, str]], tuple[str, ...]]] = []
    for row in grid.rows[h:]:
        label = group_label(row, reader)
        if label is not None:
            group = label
            continue
        titled = row_title(row, key, labels, reader)
        if titled is None:
            continue
        title_cell, title = titled
        marked: list[int] = []
        for c in pcols:
            cell = row[c]
            if cell is None or cell is title_cell:
                continue
            words, lozenges = reader.label(cell)
            text = words or " ".join(lozenges)
            if paint(cell.el) or is_mark(text):
                marked.append(c)
            elif text.strip() and not forced:
                return None  # words in a period column: cards of a grid, not marks
        marks += len(marked)
        fields, mentions = row_fields(row, {key, *pcols}, title_cell, labels, reader)
        lane = group or labels[key] or "Items"
        rows.append((title, lane, title_cell, marked, fields, mentions))
    if marks == 0 and not forced:
        return None
    return _section(labels, pcols, rows, options, ctx)


def _section(
    labels: list[str],
    pcols: list[int],
    rows: list[tuple[str, str, Cell, list[int], list[tuple[str, str]], tuple[str, ...]]],
    options: ParseOptions,
    ctx: Context,
) -> Section:
    names = [labels[c] for c in pcols]
    backlog = [any(w in n.casefold() for w in options.backlog_words if w) for n in names]
    shorts = short_names(names, backlog)
    order = [i for i in range(len(pcols)) if not backlog[i]]
    order += [i for i in range(len(pcols)) if backlog[i]]
    periods = [
        Period(label=names[i], short=shorts[i], index=n, backlog=backlog[i])
        for n, i in enumerate(order)
    ]
    label_of_col = dict(zip(pcols, names, strict=True))
    if any(not r[3] for r in rows):
        periods.append(Period(UNSCHEDULED, UNSCHEDULED, index=len(periods), backlog=True))
    lanes = [Lane(label=x, path=(x,)) for x in dict.fromkeys(r[1] for r in rows)]
    items: list[Item] = []
    seen: dict[tuple[str, str, str], int] = {}
    for title, lane, cell, marked, fields, mentions in rows:
        period = label_of_col[marked[0]] if marked else UNSCHEDULED
        end = label_of_col[marked[-1]] if len(marked) > 1 else None
        n = seen.get((period, lane, title), 0)
        seen[(period, lane, title)] = n + 1
        cards = parse_cell(cell.el, ctx)
        items.append(
            Item(
                id=item_id(period, lane, title, None, n),
                title=title,
                period=period,
                period_end=end,
                lane=lane,
                text=title,
                struck=bool(cards) and all(card.struck for card in cards),
                links=tuple(link for card in cards for link in card.links),
                mentions=mentions,
                fields=tuple(fields),
            )
        )
    return Section(shape="matrix", title=None, periods=periods, lanes=lanes, items=items)
