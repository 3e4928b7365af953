"""From a page tree to a Roadmap: choose the table, read its header rows and column, decide the
orientation, and place every card in a period and a lane.

Everything works on the grid of cell references (``grid.py``); a table whose periods run across
the columns is transposed first (the same cell objects), so one code path reads both layouts:
after that, periods are rows (labelled by the header columns) and lanes are columns (labelled by
the header rows).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Hashable
from dataclasses import field, fields
from typing import Any

from lxml import etree

from wikisync._digest import sha1
from wikisync._gc import paused_gc
from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.errors import ParseError
from wikisync.model import (
    HistoryEntry,
    Item,
    ItemSlots,
    Lane,
    ParseOptions,
    Part,
    Period,
    Roadmap,
)
from wikisync.parse.cards import Card, parse_cell
from wikisync.parse.grid import Cell, Grid, build_grid, transpose
from wikisync.parse.inline import Context, label_of, norm, raw_text, text_of
from wikisync.parse.legend import parse_legend
from wikisync.parse.outline import heading_before

_PERIOD = lazy_re(
    r"""
      \bFY\s?'?\d{2,4}\b
    | \b(?:Q[1-4]|H[12]|T[1-3])\b
    | \b(?:19|20)\d{2}\b
    | \b(?:jan|january|feb|february|mar|march|apr|april|jun|june|jul|july|aug|august
         |sep|sept|september|oct|october|nov|november|dec|december)\b
    | \b(?:sprint|iteration|increment|pi|release|milestone|phase|wave|quarter|half|week|wk
         |cycle|term|semester|month)\s*[#-]?\s*\d+
    | \b(?:now|next|later|soon|future|current|upcoming|someday|backlog|icebox|unscheduled
         |parking\s+lot|grab\s+bag)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Letter case spelled out rather than re.IGNORECASE, which makes compiling several times
# dearer (these letters have no other case-insensitive matches, so they match the same).
_SUB_PERIOD = lazy_re(r"\b([Qq][1-4]|[Hh][12]|[Tt][1-3])\b")
_YEAR = lazy_re(r"\b(?:[Ff][Yy]\s?'?(\d{2,4})|((?:19|20)\d{2}))\b")


def is_period_like(
    text: str, lozenges: tuple[str, ...] = (), backlog: tuple[str, ...] = ()
) -> bool:
    """Does a header label name a time period (FY21, Q1, 2021, Sprint 4, Backlog, Now, ...)?

    A label carrying a lozenge counts too: release names (``Koa``) sit on period labels.
    """
    if lozenges and text:
        return True
    if _PERIOD.search(text):
        return True
    low = text.casefold()
    return any(w and w.casefold() in low for w in backlog)


def read_history(root: etree._Element, heading: str, ctx: Context) -> list[HistoryEntry]:
    """The page's Change History (``parse.history``), loaded only when a heading is asked for:
    a diff asks for none."""
    if not heading.strip():
        return []
    from wikisync.parse.history import parse_history

    return parse_history(root, heading, ctx)


# --------------------------------------------------------------------------- cell reading


class _Reader:
    """Per-parse memo of cell labels and header tests."""

    def __init__(self, ctx: Context, options: ParseOptions) -> None:
        self.ctx = ctx
        self.options = options
        self._labels: dict[Cell, tuple[str, tuple[str, ...]]] = {}
        self._headers: dict[Cell, bool] = {}
        self.small_tables = 0  # tables skipped for having fewer than 2 rows or columns
        self.refused: ParseError | None = None  # a table too big to read
        self._grids: dict[etree._Element, Grid] = {}

    def grid(self, table: etree._Element) -> Grid:
        """``build_grid(table)``, once per parse (each shape's detection reads the grid)."""
        got = self._grids.get(table)
        if got is None:
            got = self._grids[table] = build_grid(table)
        return got

    def label(self, cell: Cell) -> tuple[str, tuple[str, ...]]:
        got = self._labels.get(cell)
        if got is None:
            got = self._labels[cell] = label_of(cell.el, self.ctx)
        return got

    def blank(self, cell: Cell | None) -> bool:
        if cell is None:
            return True
        text, lozenges = self.label(cell)
        return not text and not lozenges

    def header(self, cell: Cell) -> bool:
        got = self._headers.get(cell)
        if got is None:
            got = self._headers[cell] = cell.header or cell.in_thead or self._strong_only(cell)
        return got

    def _strong_only(self, cell: Cell) -> bool:
        text = "".join(self.label(cell)[0].split())
        if not text:
            return False
        strong = "".join(
            text_of(s, self.ctx, lozenges=False)
            for s in cell.el.iter("strong", "b")
            if not any(a.tag in ("strong", "b") for a in _ancestors_within(s, cell.el))
        )
        return "".join(strong.split()) == text

    def period_like(self, text: str, lozenges: tuple[str, ...]) -> bool:
        return is_period_like(text, lozenges, self.options.backlog_words)


def _ancestors_within(el: etree._Element, stop: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    node = el.getparent()
    while node is not None and node is not stop:
        out.append(node)
        node = node.getparent()
    return out


def _distinct(cells: list[Cell | None]) -> list[Cell | None]:
    out: list[Cell | None] = []
    for cell in cells:
        if not out or cell is None or cell is not out[-1]:
            out.append(cell)
    return out


def _joined(reader: _Reader, cells: list[Cell | None]) -> tuple[str, tuple[str, ...]]:
    texts: list[str] = []
    lozenges: list[str] = []
    seen: set[int] = set()
    for cell in cells:
        if cell is None or id(cell) in seen:
            continue
        seen.add(id(cell))
        text, loz = reader.label(cell)
        if text and (not texts or texts[-1] != text):
            texts.append(text)
        lozenges.extend(loz)
    return " ".join(texts), tuple(lozenges)


# --------------------------------------------------------------------------- layout


@record(eq=False)
class _Layout:
    table: etree._Element
    index: int
    grid: Grid
    h: int  # header rows (original orientation)
    hc: int  # header columns
    orientation: str
    score: int  # period-like labels along the chosen axis
    filled: int = -1  # data cells with text; computed only to break ties


def _header_row(reader: _Reader, row: list[Cell | None]) -> bool:
    """All cells header-or-empty, and at least one non-empty header beyond the corner (so a
    period row whose cards are all empty is not mistaken for a header)."""
    found = False
    for i, cell in enumerate(_distinct(row)):
        if reader.blank(cell):
            continue
        assert cell is not None
        if not reader.header(cell):
            return False
        if cell.col + cell.colspan > 1 or i > 0:
            found = True
    return found


def _header_col(reader: _Reader, rows: list[list[Cell | None]], c: int, h: int) -> bool:
    """Column ``c`` below the header rows holds only header-or-empty cells, one non-empty."""
    found = False
    for cell in _distinct([rows[r][c] for r in range(h, len(rows))]):
        if reader.blank(cell):
            continue
        assert cell is not None
        if not reader.header(cell):
            return False
        found = True
    return found


def _analyse(table: etree._Element, index: int, reader: _Reader, explicit: bool) -> _Layout | None:
    grid = reader.grid(table)
    rows = grid.rows
    height, width = grid.height, grid.width
    if height < 2 or width < 2:
        reader.small_tables += 1
        return None
    h = 0
    while h < height - 1 and (
        any(c is not None and c.in_thead and c.row == h for c in rows[h])
        or _header_row(reader, rows[h])
    ):
        h += 1
    hc = 0
    while hc < width - 1 and _header_col(reader, rows, hc, h):
        hc += 1
    if h == 0:
        first = rows[0][0]
        h = 0 if first is not None and reader.period_like(*reader.label(first)) else 1
    hc = max(hc, 1)
    if h >= height or hc >= width:
        return None
    row_labels = [_joined(reader, rows[r][:hc]) for r in range(h, height)]
    col_labels = [_joined(reader, [rows[r][c] for r in range(h)]) for c in range(hc, width)]
    row_hits = sum(reader.period_like(t, z) for t, z in row_labels if t or z)
    col_hits = sum(reader.period_like(t, z) for t, z in col_labels if t or z)
    row_frac = row_hits / max(1, sum(1 for t, z in row_labels if t or z))
    col_frac = col_hits / max(1, sum(1 for t, z in col_labels if t or z))
    orientation = reader.options.orientation
    if orientation == "auto":
        orientation = "rows" if (row_frac, row_hits) >= (col_frac, col_hits) else "columns"
    if orientation == "columns" and h == 0:
        h = 1
    score = row_hits if orientation == "rows" else col_hits
    if score == 0 and not explicit:
        return None
    return _Layout(table, index, grid, h, hc, orientation, score)


def _filled(layout: _Layout) -> int:
    if layout.filled < 0:
        seen: set[int] = set()
        n = 0
        for row in layout.grid.rows[layout.h :]:
            for cell in row[layout.hc :]:
                if cell is not None and id(cell) not in seen:
                    seen.add(id(cell))
                    n += bool(raw_text(cell.el).strip())
        layout.filled = n
    return layout.filled


def _header_text(layout: _Layout, reader: _Reader) -> str:
    rows = layout.grid.rows
    cells = [c for row in rows[: layout.h] for c in row]
    cells += [c for row in rows[layout.h :] for c in row[: layout.hc]]
    cells += [c for c in layout.grid.cells if c.header]
    return " | ".join(reader.label(c)[0] for c in _distinct(cells) if c is not None)


def top_level_tables(root: etree._Element) -> list[etree._Element]:
    """Tables not nested inside another table, in document order."""
    if root.tag == "table" or next(root.iterancestors("table"), None) is not None:
        return [t for t in root.iter("table") if next(t.iterancestors("table"), None) is None]
    # Never entering a table skips almost the whole page: the cards are inside the table.
    tables: list[etree._Element] = []
    stack = [iter(root)]
    while stack:
        for el in stack[-1]:
            if el.tag == "table":
                tables.append(el)
            elif len(el):
                stack.append(iter(el))
                break
        else:
            stack.pop()
    return tables


def _choose(root: etree._Element, reader: _Reader) -> _Layout:
    tables = top_level_tables(root)
    if not tables:
        raise ParseError("no table found in the page")
    candidates = grid_candidates(tables, reader)
    if not candidates:
        raise no_grid_error(tables, reader)
    if len(candidates) == 1:
        return candidates[0]
    return max(candidates, key=lambda lay: (lay.score, _filled(lay), -lay.index))


def grid_candidates(
    tables: list[etree._Element], reader: _Reader, skip: frozenset[int] = frozenset()
) -> list[_Layout]:
    """Every table (by index, except ``skip``) that reads as a story-map grid, under the
    table options; a table too big to read is remembered in ``reader.refused``."""
    options = reader.options
    # When the user said which table or which way round, period-like labels are not required.
    explicit = (
        bool(options.table_heading or options.table_header)
        or options.table_index is not None
        or options.orientation != "auto"
    )
    if options.table_index is not None and not 0 <= options.table_index < len(tables):
        raise ParseError(
            f"table_index {options.table_index} is out of range: the page has "
            f"{len(tables)} top-level table(s)"
        )
    candidates: list[_Layout] = []
    for i, table in enumerate(tables):
        if i in skip or (options.table_index is not None and i != options.table_index):
            continue
        if options.table_heading:
            heading = heading_before(table, reader.ctx) or ""
            if options.table_heading.casefold() not in heading.casefold():
                continue
        try:
            layout = _analyse(table, i, reader, explicit)
        except ParseError as exc:
            reader.refused = reader.refused or exc
            continue
        if layout is None:
            continue
        if options.table_header:
            header = _header_text(layout, reader)
            if options.table_header.casefold() not in header.casefold():
                continue
        candidates.append(layout)
    return candidates


def no_grid_error(tables: list[etree._Element], reader: _Reader) -> ParseError:
    """Why no table of the page is a roadmap, in one line."""
    options = reader.options
    if reader.refused is not None:
        return reader.refused
    if reader.small_tables == len(tables):
        return ParseError(
            "no roadmap table found: a roadmap needs a header and at least one period, "
            "but every table on the page has fewer than 2 rows or 2 columns"
        )
    wanted = [
        f"{k}={v!r}"
        for k, v in (
            ("table_heading", options.table_heading),
            ("table_index", options.table_index),
            ("table_header", options.table_header),
        )
        if v is not None and v != ""
    ]
    if wanted:
        return ParseError(f"no roadmap table found matching {', '.join(wanted)}")
    n = len(tables)
    return ParseError(
        f"no roadmap table found: {n} table{'s' if n != 1 else ''}, none has period labels "
        "(such as FY21 Q1, 2021, Sprint 3 or Backlog) in its first column or first row, "
        "a column of target dates or a row of period columns with marks; a Roadmap Planner "
        "macro would be read, and [page.parse] shape or table_index can pick a table"
    )


# --------------------------------------------------------------------------- periods


@record(eq=False)
class _Group:
    """Rows (in the rows-form grid) that share one period label cell."""

    rows: list[int]
    label: str
    lozenges: tuple[str, ...]
    separator: bool = False  # a full-width row: a section title or note, not a period
    repeated_header: bool = False
    has_cards: bool = False


def _short_candidates(label: str) -> tuple[str | None, str | None]:
    m = _SUB_PERIOD.search(label)
    if not m:
        return None, None
    token = m.group(1).upper()
    y = _YEAR.search(label)
    if not y:
        return token, None
    year = f"FY{y.group(1)}" if y.group(1) else y.group(2)
    return token, f"{year} {token}"


def _shorts(labels: list[str], backlog: list[bool]) -> list[str]:
    cands = [_short_candidates(label) for label in labels]
    first: dict[str, int] = {}
    second: dict[str, int] = {}
    for (a, b), is_backlog in zip(cands, backlog, strict=True):
        if is_backlog:
            continue
        if a:
            first[a] = first.get(a, 0) + 1
        if b:
            second[b] = second.get(b, 0) + 1
    n_backlog = sum(backlog)
    label_set = set(labels)
    out: list[str] = []
    for label, (a, b), is_backlog in zip(labels, cands, backlog, strict=True):
        if is_backlog:
            short = "Backlog" if n_backlog == 1 else label
        elif a and first[a] == 1:
            short = a
        elif b and second[b] == 1:
            short = b
        else:
            short = label
        if short != label and short in label_set:
            short = label
        out.append(short)
    if len(set(out)) != len(out):  # a short clashes with another row's: fall back to labels
        counts: dict[str, int] = {}
        for s in out:
            counts[s] = counts.get(s, 0) + 1
        out = [label if counts[s] > 1 else s for s, label in zip(out, labels, strict=True)]
    return out


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    taken = set(names)
    for name in names:
        n = seen.get(name, 0) + 1
        seen[name] = n
        if n == 1:
            out.append(name)
            continue
        candidate = f"{name} ({n})"
        while candidate in taken:
            n += 1
            candidate = f"{name} ({n})"
        taken.add(candidate)
        out.append(candidate)
    return out


# --------------------------------------------------------------------------- assembly


@record()
class _Built:
    periods: list[Period] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


def _lanes(
    rows: list[list[Cell | None]], h: int, hc: int, turned: bool, reader: _Reader
) -> tuple[list[Lane], list[int]]:
    """One lane per bottom header cell (a task spanning two columns is one lane); its path is
    the header cells above it, top → bottom. Returns the lanes and each data column's lane."""
    data_cols = range(hc, len(rows[0]))
    # A header row that is one cell over every data column is a table title, not a level.
    title_rows = {
        r
        for r in range(h)
        if h > 1
        and len(data_cols) > 1
        and rows[r][hc] is not None
        and all(rows[r][c] is rows[r][hc] for c in data_cols)
    }
    paths: list[list[str]] = []
    lane_of_col: list[int] = []
    keys: dict[Hashable, int] = {}
    for c in data_cols:
        bottom = rows[h - 1][c] if h else None
        key: Hashable = bottom if bottom is not None else ("col", c)
        if key in keys:
            lane_of_col.append(keys[key])
            continue
        path: list[str] = []
        prev: Cell | None = None
        for r in range(h):
            cell = rows[r][c]
            if r in title_rows or cell is None or cell is prev:
                continue
            prev = cell
            text = reader.label(cell)[0]
            if text and (not path or path[-1] != text):
                path.append(text)
        if not path:
            path = [f"{'Row' if turned else 'Column'} {c + 1}"]
        keys[key] = len(paths)
        lane_of_col.append(len(paths))
        paths.append(path)
    lanes: list[Lane] = []
    for path, label in zip(paths, _unique([" / ".join(p) for p in paths]), strict=True):
        if label != " / ".join(path):  # a duplicate got " (2)": keep label == joined path
            path = [*path[:-1], label.rsplit(" / ", 1)[-1]]
        lanes.append(Lane(label=label, path=tuple(path)))
    return lanes, lane_of_col


def _row_groups(
    rows: list[list[Cell | None]], h: int, hc: int, reader: _Reader
) -> tuple[list[_Group], list[int]]:
    """Rows sharing one label cell (a label with rowspan) are one period candidate."""
    groups: list[_Group] = []
    keys: dict[Hashable, int] = {}
    group_of_row = [-1] * len(rows)
    for r in range(h, len(rows)):
        label_cell = rows[r][hc - 1]
        key: Hashable = label_cell if label_cell is not None else ("row", r)
        gi = keys.get(key)
        if gi is not None:
            groups[gi].rows.append(r)
            group_of_row[r] = gi
            continue
        text, lozenges = _joined(reader, rows[r][:hc])
        separator = label_cell is not None and rows[r][hc] is label_cell
        keys[key] = group_of_row[r] = len(groups)
        groups.append(_Group([r], text, lozenges, separator))
    return groups, group_of_row


def _data_cells(
    rows: list[list[Cell | None]],
    h: int,
    hc: int,
    turned: bool,
    groups: list[_Group],
    group_of_row: list[int],
    lane_of_col: list[int],
    reader: _Reader,
) -> dict[Cell, list[int]]:
    """Each data cell once: [first group, last group, lane]. Also marks repeated header rows."""
    info: dict[Cell, list[int]] = {}
    n_cells = [0] * len(groups)
    n_headers = [0] * len(groups)
    for r in range(h, len(rows)):
        gi = group_of_row[r]
        if groups[gi].separator:
            continue
        row = rows[r]
        label_cell = row[hc - 1]
        for c in range(hc, len(row)):
            cell = row[c]
            if cell is None or cell is label_cell:
                continue
            got = info.get(cell)
            if got is None:
                # A header cell spanning down/right into the data area is not a card cell.
                if (cell.col < h or cell.row < hc) if turned else (cell.row < h or cell.col < hc):
                    continue
                info[cell] = [gi, gi, lane_of_col[c - hc]]
                n_cells[gi] += 1
                n_headers[gi] += cell.header
            elif gi > got[1]:
                got[1] = gi
    for gi, group in enumerate(groups):
        if (
            n_cells[gi]
            and n_headers[gi] == n_cells[gi]
            and not reader.period_like(group.label, group.lozenges)
            and any(not reader.blank(c) for c, v in info.items() if v[0] == gi)
        ):
            group.repeated_header = True
    return info


def _periods(groups: list[_Group], kept: list[int], options: ParseOptions) -> list[Period]:
    """Periods of the kept groups, in table order (``index`` puts backlog-like ones last)."""
    raw = [groups[gi].label or " ".join(groups[gi].lozenges) for gi in kept]
    named = [i for i, label in enumerate(raw) if label]
    labels_named = _unique([raw[i] for i in named])
    words = tuple(w.casefold() for w in options.backlog_words if w)
    backlog_named = [
        any(w in (label + " " + " ".join(groups[kept[i]].lozenges)).casefold() for w in words)
        for i, label in zip(named, labels_named, strict=True)
    ]
    shorts_named = _shorts(labels_named, backlog_named)
    labels = [""] * len(kept)
    shorts = [""] * len(kept)
    backlog = [False] * len(kept)
    for j, i in enumerate(named):
        labels[i], shorts[i], backlog[i] = labels_named[j], shorts_named[j], backlog_named[j]
    for i in range(len(kept)):
        if labels[i]:
            continue
        # An unlabelled row with cards is named after its labelled neighbour.
        at = bisect.bisect_left(named, i)
        before = shorts[named[at - 1]] if at > 0 else None
        after = shorts[named[at]] if at < len(named) else None
        labels[i] = f"(after {before})" if before else f"(before {after})" if after else ""
        labels[i] = labels[i] or "(unlabelled)"
    labels = _unique(labels)
    named_set = set(named)
    for i, label in enumerate(labels):
        if i not in named_set or not shorts[i]:
            shorts[i] = label
    order = [i for i in range(len(kept)) if not backlog[i]]
    order += [i for i in range(len(kept)) if backlog[i]]
    index_of = {i: n for n, i in enumerate(order)}
    periods: list[Period] = []
    for i, gi in enumerate(kept):
        aliases = [z for z in groups[gi].lozenges if z != labels[i]]
        for alias, target in options.period_aliases.items():
            if target.casefold() in (labels[i].casefold(), shorts[i].casefold()):
                aliases.append(alias)
        periods.append(
            Period(
                label=labels[i],
                short=shorts[i],
                aliases=tuple(dict.fromkeys(aliases)),
                index=index_of[i],
                backlog=backlog[i],
            )
        )
    return periods


def _fast_item(
    id_: str,
    title: str,
    stage: str | None,
    tags: tuple[str, ...],
    orgs: tuple[str, ...],
    org_names: tuple[str, ...],
    period: str,
    period_end: str | None,
    lane: str,
    text: str,
    struck: bool,
    parts: tuple[Part, ...],
    links: tuple[str, ...],
    mentions: tuple[str, ...],
    start: str | None = None,
    end: str | None = None,
    fields: tuple[tuple[str, str], ...] = (),
    key: str | None = None,
) -> Item:
    """``Item(...)`` in a sixth of the time: a frozen dataclass's ``__init__`` sets each of its
    14 fields through ``object.__setattr__``, ~1.3 µs a card on a page of thousands. The result
    is an ordinary Item (same class, same slots, equal to the one ``Item(...)`` builds);
    ``_new_item`` falls back to ``Item`` if the model ever stops being plain slots."""
    o: Any = ItemSlots()  # typed Any: no cast() call on the way out
    o.id = id_
    o.title = title
    o.stage = stage
    o.tags = tags
    o.orgs = orgs
    o.org_names = org_names
    o.period = period
    o.period_end = period_end
    o.lane = lane
    o.text = text
    o.struck = struck
    o.parts = parts
    o.links = links
    o.mentions = mentions
    o.start = start
    o.end = end
    o.fields = fields
    o.key = key
    object.__setattr__(o, "__class__", Item)
    return o


def _fast_item_works() -> bool:
    names = tuple(f.name for f in fields(Item))
    if names != Item.__slots__ or hasattr(Item, "__post_init__"):
        return False
    sample = Item(
        "id", "t", "s", ("a",), ("1",), ("n",), "p", "e", "l", "x", True, (Part("t"),), ("u",), ()
    )
    try:
        made = _fast_item(*[getattr(sample, name) for name in names])
    except TypeError:  # a layout __class__ assignment refuses
        return False
    return type(made) is Item and made == sample


_new_item: Callable[..., Item] = _fast_item if _fast_item_works() else Item


def _items(
    cells: list[Cell],
    cards: dict[Cell, list[Card]],
    info: dict[Cell, list[int]],
    period_of_group: dict[int, str],
    lanes: list[Lane],
    legend: dict[str, str],
) -> list[Item]:
    """Items in document order, with ids = sha1(period|lane|title|stage|n)[:12]."""
    items: list[Item] = []
    ordinals: dict[str, int] = {}
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    new_item = _new_item
    for cell in cells:
        cell_cards = cards.get(cell)
        if not cell_cards:
            continue
        g0, g1, lane_index = info[cell]
        covered = [period_of_group[g] for g in range(g0, g1 + 1) if g in period_of_group]
        if not covered:
            continue
        period = covered[0]
        period_end = covered[-1] if covered[-1] != period else None
        lane = lanes[lane_index].label
        prefix = f"{period}|{lane}|"
        for card in cell_cards:
            key = f"{prefix}{card.title}|{card.stage or ''}"
            n = ordinals.get(key, 0)
            ordinals[key] = n + 1
            orgs = card.orgs
            org_names = names.get(orgs)
            if org_names is None:
                org_names = names[orgs] = tuple([legend.get(o, o) for o in orgs])
            items.append(
                new_item(  # positional: this loop runs once per card of a possibly huge page
                    sha1(f"{key}|{n}".encode()).hexdigest()[:12],
                    card.title,
                    card.stage,
                    card.tags,
                    orgs,
                    org_names,
                    period,
                    period_end,
                    lane,
                    card.text,
                    card.struck,
                    card.parts,
                    card.links,
                    card.mentions,
                )
            )
    return items


def _build(layout: _Layout, reader: _Reader, legend: dict[str, str]) -> _Built:
    turned = layout.orientation == "columns"
    rows = transpose(layout.grid.rows) if turned else layout.grid.rows
    h, hc = (layout.hc, layout.h) if turned else (layout.h, layout.hc)
    lanes, lane_of_col = _lanes(rows, h, hc, turned, reader)
    groups, group_of_row = _row_groups(rows, h, hc, reader)
    info = _data_cells(rows, h, hc, turned, groups, group_of_row, lane_of_col, reader)
    cards: dict[Cell, list[Card]] = {}
    for cell in layout.grid.cells:
        span = info.get(cell)
        if span is None or groups[span[0]].repeated_header:
            continue
        found = parse_cell(cell.el, reader.ctx)
        if found:
            cards[cell] = found
            for gi in range(span[0], span[1] + 1):
                groups[gi].has_cards = True
    # Corner/legend rows without a label or cards are not periods; unlabelled rows with cards are.
    kept = [
        gi
        for gi, g in enumerate(groups)
        if not g.separator and not g.repeated_header and (g.label or g.lozenges or g.has_cards)
    ]
    if not kept:
        raise ParseError("no roadmap table found: the table has no period rows")
    periods = _periods(groups, kept, reader.options)
    period_of_group = {gi: periods[i].label for i, gi in enumerate(kept)}
    items = _items(layout.grid.cells, cards, info, period_of_group, lanes, legend)
    return _Built(periods=sorted(periods, key=lambda p: p.index), lanes=lanes, items=items)


def build_roadmap(root: etree._Element, options: ParseOptions, ctx: Context) -> Roadmap:
    """The roadmap of a parsed page: its table, legend and Change History."""
    with paused_gc():
        return _build_roadmap(root, options, ctx)


def _build_roadmap(root: etree._Element, options: ParseOptions, ctx: Context) -> Roadmap:
    reader = _Reader(ctx, options)
    layout = _choose(root, reader)
    legend = parse_legend(root, options.legend_heading, ctx)
    built = _build(layout, reader, legend)
    title = heading_before(layout.table, ctx)
    return Roadmap(
        orientation="columns" if layout.orientation == "columns" else "rows",
        periods=built.periods,
        lanes=built.lanes,
        items=built.items,
        legend=legend,
        history=read_history(root, options.history_heading, ctx),
        title=norm(title) if title else None,
    )


# --------------------------------------------------------------------------- for other shapes


Reader = _Reader  # the type, for the other shapes' signatures


def new_reader(ctx: Context, options: ParseOptions) -> _Reader:
    """A cell reader for ``grid_candidates`` and the other shapes' detection."""
    return _Reader(ctx, options)


def build_layout(
    layout: _Layout, reader: _Reader, legend: dict[str, str]
) -> tuple[list[Period], list[Lane], list[Item]]:
    """Periods, lanes and cards of one grid table (``grid_candidates`` found it)."""
    built = _build(layout, reader, legend)
    return built.periods, built.lanes, built.items


def layout_table(layout: _Layout) -> tuple[etree._Element, int]:
    """The table element of a layout and its index among the page's top-level tables."""
    return layout.table, layout.index


def is_header_row(reader: _Reader, row: list[Cell | None]) -> bool:
    """A row of header cells (th, thead or all-bold), for the other shapes' tables."""
    return _header_row(reader, row)


def item_id(period: str, lane: str, title: str, stage: str | None, n: int) -> str:
    """The grid's id formula, shared by every table shape: sha1(period|lane|title|stage|n)."""
    return sha1(f"{period}|{lane}|{title}|{stage or ''}|{n}".encode()).hexdigest()[:12]


def short_names(labels: list[str], backlog: list[bool]) -> list[str]:
    """Shortest unambiguous period names (``Q2`` when unique), as the grid names its rows."""
    return _shorts(labels, backlog)
