"""Row-per-item tables: ``Feature | Team | Target | Status | Notes``.

Each body row is one item. The key column (the first, or ``[page.parse] key_column``) is its
title; a column of period-like values (``Q3 2021``, ``H2 2022``, ``2022-09``, a date picker's
date, a configured release name, ``Backlog``) is its period, ordered as time; a team-like column
is its lane, and its header the word sentences use for lanes (``team Platform → Payments``);
every other column is a field (status lozenges and painted status cells included). A row that
is one cell across the table is a group header: the lane of the rows under it (called a lane).
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from wikisync.model import Item, Lane, ParseOptions, Period
from wikisync.parse.cards import parse_cell
from wikisync.parse.grid import Cell
from wikisync.parse.inline import Context
from wikisync.parse.roadmap import Reader, is_period_like, item_id
from wikisync.parse.tables import (
    Section,
    cell_value,
    group_label,
    is_backlog,
    row_fields,
    row_title,
    table_head,
    time_order,
)
from wikisync.timeline import iso_date, period_start, show_date

NO_TARGET = "(no target)"


@functools.cache
def _words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    target = re.compile(
        r"\b(?:target|when|due|eta|date|deadline|release|quarter|timeframe|time\s+frame"
        r"|timeline|period|milestone|delivery|launch|planned|sprint|month|half|horizon|schedule)",
        re.IGNORECASE,
    )
    lane = re.compile(
        r"\b(?:team|lane|area|theme|stream|workstream|squad|track|pillar)s?\b", re.IGNORECASE
    )
    return target, lane


def _timely(value: str, options: ParseOptions) -> bool:
    """A value that names a time: a period label, a date, a release name from the config."""
    if not value:
        return False
    if period_start(value) is not None or is_period_like(value, (), options.backlog_words):
        return True
    return value.casefold() in {k.casefold() for k in options.period_aliases}


def read_rows(
    table: etree._Element, reader: Reader, options: ParseOptions, ctx: Context, forced: bool
) -> Section | None:
    """The table as a row-per-item roadmap, or None when it is not one."""
    head = table_head(reader, table)
    if head is None:
        return None
    grid, h, labels = head
    if not forced and sum(is_period_like(x, (), options.backlog_words) for x in labels) >= 2:
        return None  # periods across the columns: a grid or a tick matrix
    key = 0
    if options.key_column:
        wanted = options.key_column.casefold()
        key = next((c for c, x in enumerate(labels) if x.casefold() == wanted), 0)
    body: list[tuple[list[Cell | None], str | None]] = []
    for row in grid.rows[h:]:
        body.append((row, group_label(row, reader)))
    items = [row for row, group in body if group is None]
    # The key column first: a first column of periods (a grid) is refused before any other
    # cell is read.
    keys = [cell_value(k, reader) for row in items if (k := row[key]) is not None]
    keys = [x for x in keys if x]
    if not keys:
        return None
    if not forced and sum(_timely(k, options) for k in keys) * 2 >= len(keys):
        return None  # the first column names periods: a grid
    values = [[cell_value(c, reader) if c is not None else "" for c in row] for row in items]
    target_re, lane_re = _words()
    best: tuple[int, float, int] | None = None
    for c in range(grid.width):
        if c == key:
            continue
        filled = [v[c] for v in values if v[c]]
        if not filled:
            continue
        frac = sum(_timely(x, options) for x in filled) / len(filled)
        named = 1 if target_re.search(labels[c]) else 0
        if frac >= (0.5 if named else 0.6) and (best is None or (named, frac) > best[:2]):
            best = (named, frac, c)
    if best is None:
        return None
    pc = best[2]
    lane_col = next(
        (c for c, x in enumerate(labels) if c not in (key, pc) and lane_re.search(x)), None
    )
    return _section(body, labels, key, pc, lane_col, options, reader)


def _short(label: str) -> str:
    """How a sentence names a target: an ISO date as people write it (``15 Nov 2021``)."""
    iso = iso_date(label)
    return show_date(iso) if iso is not None and iso == label.strip() else label


def _section(
    body: list[tuple[list[Cell | None], str | None]],
    labels: list[str],
    key: int,
    pc: int,
    lane_col: int | None,
    options: ParseOptions,
    reader: Reader,
) -> Section:
    ctx = reader.ctx
    default_lane = labels[key] or "Items"
    if lane_col is not None:  # a row whose Team cell is empty: "(no team)", not the title header
        header = labels[lane_col].strip() or "lane"
        acronym = header[:2] == header[:2].upper()  # "ETA" stays, as render.text words columns
        default_lane = f"(no {header if acronym else header[:1].lower() + header[1:]})"
    group: str | None = None
    raw: list[tuple[str, str, str, Cell, list[tuple[str, str]], tuple[str, ...]]] = []
    for row, label in body:
        if label is not None:
            group = label
            continue
        titled = row_title(row, key, labels, reader)
        if titled is None:
            continue  # an empty row, or the header repeated
        title_cell, title = titled
        target_cell = row[pc]
        target = cell_value(target_cell, reader) if target_cell is not None else ""
        team_cell = row[lane_col] if lane_col is not None else None
        team = cell_value(team_cell, reader) if team_cell is not None else ""
        lane = " / ".join(x for x in (group, team) if x) or default_lane
        fields, found = row_fields(row, (key, pc, lane_col), title_cell, labels, reader)
        raw.append((title, target or NO_TARGET, lane, title_cell, fields, found))
    targets = list(dict.fromkeys(t for _, t, *_ in raw))
    backlog = [t == NO_TARGET or is_backlog(t, options.backlog_words) for t in targets]
    order = time_order(targets, backlog, options.period_aliases)
    periods = [
        Period(label=targets[i], short=_short(targets[i]), index=n, backlog=backlog[i])
        for n, i in enumerate(order)
    ]
    lanes = [Lane(label=x, path=tuple(x.split(" / "))) for x in dict.fromkeys(r[2] for r in raw)]
    items: list[Item] = []
    seen: dict[tuple[str, str, str], int] = {}
    for title, target, lane, cell, fields, mentions in raw:
        n = seen.get((target, lane, title), 0)
        seen[(target, lane, title)] = n + 1
        cards = parse_cell(cell.el, ctx)
        links = tuple(link for card in cards for link in card.links)
        items.append(
            Item(
                id=item_id(target, lane, title, None, n),
                title=title,
                period=target,
                lane=lane,
                text=title,
                struck=bool(cards) and all(card.struck for card in cards),
                links=links,
                mentions=mentions,
                fields=tuple(fields),
            )
        )
    # The page's word for its lanes, when they are a column's values and nothing else: group
    # header rows make lanes the column cannot name ("Web / Platform").
    grouped = any(label is not None for _, label in body)
    named = (labels[lane_col] or None) if lane_col is not None and not grouped else None
    return Section(
        shape="rows", title=None, periods=periods, lanes=lanes, items=items, lane_name=named
    )
