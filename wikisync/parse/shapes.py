"""Which roadmap shapes a page holds, read them all, and join them into one ``Roadmap``.

One detection step per page: every Roadmap Planner macro, then each top-level table as a tick
matrix, a row-per-item table or a story-map grid, in that order (the first two say more about
what they are; a grid reads almost anything). ``[page.parse] shape`` forces one shape. A grid
whose every card is a number or a mark is a summary or a misread matrix, never a roadmap.
With several roadmaps on a page each item's lane is prefixed with its roadmap's heading (or the
macro's title), so a diff says which roadmap moved.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from lxml import etree

from wikisync._digest import sha1
from wikisync._gc import paused_gc
from wikisync.errors import ParseError
from wikisync.model import HistoryEntry, Item, Lane, Orientation, ParseOptions, Period, Roadmap
from wikisync.parse.inline import Context, norm
from wikisync.parse.legend import parse_legend
from wikisync.parse.matrix import read_matrix
from wikisync.parse.outline import heading_before
from wikisync.parse.planner import find_planners, read_planner
from wikisync.parse.roadmap import (
    Reader,
    build_layout,
    grid_candidates,
    layout_table,
    new_reader,
    no_grid_error,
    read_history,
    top_level_tables,
)
from wikisync.parse.rows import read_rows
from wikisync.parse.tables import (
    MARK_WORDS,
    MARKS,
    Section,
    column_labels,
    grid_of,
    header_rows,
    is_mark,
    time_order,
)

SHAPES: tuple[str, ...] = ("grid", "rows", "matrix", "planner")


@functools.cache
def _number() -> re.Pattern[str]:
    return re.compile(r"[\d\s.,%/+-]+")


@functools.cache
def _not_junk() -> re.Pattern[str]:
    """A character no mark, mark word or number has: a title holding one is a real title.
    Case-insensitive as ``is_mark``'s casefold (``ſ`` folds to ``s``)."""
    chars = "".join(sorted({*"".join(MARKS), *"".join(MARK_WORDS)}))
    return re.compile(r"[^\d\s.,%/+\-" + re.escape(chars) + "]", re.IGNORECASE)


def junk_title(title: str) -> bool:
    """A card title nobody would recognise: only a mark or a number (``✓``, ``12``, ``40%``)."""
    if _not_junk().search(title) is not None:  # nearly every title: one C-level scan
        return False
    t = title.strip()
    return not t or is_mark(t) or _number().fullmatch(t) is not None


def read_roadmap(root: etree._Element, options: ParseOptions, ctx: Context) -> Roadmap:
    """Every roadmap on the page, of every shape, as one Roadmap (see the module doc)."""
    with paused_gc():
        return _read_roadmap(root, options, ctx)


def _read_roadmap(root: etree._Element, options: ParseOptions, ctx: Context) -> Roadmap:
    shape = options.shape
    if shape not in ("auto", *SHAPES):
        raise ParseError(f"unknown shape {shape!r}; expected auto or one of {', '.join(SHAPES)}")
    reader = new_reader(ctx, options)
    legend = parse_legend(root, options.legend_heading, ctx)
    sections: list[Section] = []
    if shape in ("auto", "planner") and options.table_index is None:
        for n, macro in enumerate(find_planners(root), 1):
            planned = read_planner(macro, n)
            if _wanted(planned, macro, options, ctx):
                sections.append(planned)
    tables = top_level_tables(root)
    summaries = 0
    if shape != "planner":
        chosen = _selected(tables, reader)
        taken: set[int] = set()
        for i in chosen:
            section = _table_section(tables[i], reader, options, ctx, shape)
            if section is not None:
                section.title = _heading(tables[i], ctx)
                sections.append(section)
                taken.add(i)
        if shape in ("auto", "grid"):
            skip = frozenset(taken | (set(range(len(tables))) - set(chosen)))
            for layout in grid_candidates(tables, reader, skip):
                periods, lanes, items = build_layout(layout, reader, legend)
                junk = [junk_title(it.title) for it in items]
                if items and all(junk):
                    summaries += 1
                    continue
                # A lone mark or number in a cell of a real grid (a tick, a count) is not a
                # card anybody would recognise: never an item, never a sentence.
                if any(junk):
                    items = [it for it, j in zip(items, junk, strict=True) if not j]
                table, _ = layout_table(layout)
                orientation = layout.orientation
                sections.append(
                    Section("grid", _heading(table, ctx), periods, lanes, items, orientation)
                )
    sections = _distinct(sections)
    if not sections:
        raise _refusal(tables, reader, shape, summaries, _rendered_planner(root))
    return _join(sections, legend, read_history(root, options.history_heading, ctx), options)


def _rendered_planner(root: etree._Element) -> bool:
    """A view / export rendering of a Roadmap Planner (its bars are drawn, not written)."""
    return any(
        el.get("data-macro-name") == "roadmap" for el in root.iter() if isinstance(el.tag, str)
    )


def _distinct(sections: list[Section]) -> list[Section]:
    """The same roadmap repeated on a page (an excerpt shown twice) is read once."""
    if len(sections) < 2:
        return sections
    seen: set[tuple[object, ...]] = set()
    out: list[Section] = []
    for s in sections:
        key = (s.shape, s.title, tuple(s.lanes), tuple(s.items))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _wanted(section: Section, macro: etree._Element, options: ParseOptions, ctx: Context) -> bool:
    """Does a planner pass the table options? ``table_heading`` matches its title or the
    heading above it; ``table_header`` never matches (a planner has no header row)."""
    if options.table_header:
        return False
    if not options.table_heading:
        return True
    names = [section.title or "", heading_before(macro, ctx) or ""]
    return any(options.table_heading.casefold() in n.casefold() for n in names)


def _selected(tables: list[etree._Element], reader: Reader) -> list[int]:
    """Indexes of the tables the options allow (table_index, table_heading)."""
    options = reader.options
    if options.table_index is not None and not 0 <= options.table_index < len(tables):
        raise ParseError(
            f"table_index {options.table_index} is out of range: the page has "
            f"{len(tables)} top-level table(s)"
        )
    out: list[int] = []
    for i, table in enumerate(tables):
        if options.table_index is not None and i != options.table_index:
            continue
        if options.table_heading:
            heading = heading_before(table, reader.ctx) or ""
            if options.table_heading.casefold() not in heading.casefold():
                continue
        out.append(i)
    return out


def _table_section(
    table: etree._Element, reader: Reader, options: ParseOptions, ctx: Context, shape: str
) -> Section | None:
    try:
        if options.table_header:
            grid = grid_of(reader, table)
            header = " | ".join(column_labels(grid, header_rows(grid, reader), reader))
            if options.table_header.casefold() not in header.casefold():
                return None
        if shape in ("auto", "matrix"):
            got = read_matrix(table, reader, options, ctx, forced=shape == "matrix")
            if got is not None:
                return got
        if shape in ("auto", "rows"):
            return read_rows(table, reader, options, ctx, forced=shape == "rows")
    except ParseError as exc:  # too big to read: the grid reader says so if nothing else reads
        reader.refused = reader.refused or exc
    return None


def _heading(table: etree._Element, ctx: Context) -> str | None:
    text = heading_before(table, ctx)
    return norm(text) if text else None


def _refusal(
    tables: list[etree._Element],
    reader: Reader,
    shape: str,
    summaries: int,
    planner_only_rendered: bool = False,
) -> ParseError:
    """One line that says what was seen and what would have been read."""
    if shape == "planner":
        return ParseError("no Roadmap Planner macro found in the page ([page.parse] shape)")
    if planner_only_rendered:
        return ParseError(
            "the page's roadmap is a Roadmap Planner macro, which only the storage format "
            "holds: read the page's storage body (a saved REST response, or wikisync fetch), "
            "not its rendered HTML"
        )
    if not tables:
        return ParseError(
            "no table found in the page, and no Roadmap Planner macro: nothing to read as a roadmap"
        )
    if shape in ("rows", "matrix"):
        what = "a column of target periods" if shape == "rows" else "period columns with marks"
        return ParseError(f"no table reads as shape {shape!r}: none has {what}")
    if summaries:
        n = len(tables)
        return ParseError(
            f"no roadmap table found: {n} table{'s' if n != 1 else ''}; "
            f"{summaries} only count{'s' if summaries == 1 else ''} per period (numbers or "
            "marks, no item names), which is a summary, not a roadmap"
        )
    return no_grid_error(tables, reader)


def _join(
    sections: list[Section],
    legend: dict[str, str],
    history: list[HistoryEntry],
    options: ParseOptions,
) -> Roadmap:
    """One roadmap of all sections; lanes (and ids) prefixed with each section's name when
    there are several."""
    first = sections[0]
    orientation: Orientation = "columns" if first.orientation == "columns" else "rows"
    shapes = {s.shape for s in sections}
    shape = first.shape if len(shapes) == 1 else "mixed"
    if len(sections) == 1:
        return Roadmap(
            orientation=orientation,
            periods=first.periods,
            lanes=first.lanes,
            items=first.items,
            legend=legend,
            history=history,
            title=first.title,
            shape=shape,
            lane_names={"": first.lane_name} if first.lane_name else {},
        )
    names = _names(sections)
    lanes: list[Lane] = []
    items: list[Item] = []
    periods: dict[str, Period] = {}
    for name, section in zip(names, sections, strict=True):
        lanes.extend(Lane(f"{name} / {x.label}", (name, *x.path)) for x in section.lanes)
        items.extend(
            replace(
                it,
                lane=f"{name} / {it.lane}",
                id=sha1(f"{name}|{it.id}".encode()).hexdigest()[:12],
            )
            for it in section.items
        )
        for p in sorted(section.periods, key=lambda p: p.index):
            periods.setdefault(p.label, p)
    merged = list(periods.values())
    order = time_order(
        [p.label for p in merged], [p.backlog for p in merged], options.period_aliases
    )
    return Roadmap(
        orientation=orientation,
        periods=[replace(merged[i], index=n) for n, i in enumerate(order)],
        lanes=lanes,
        items=items,
        legend=legend,
        history=history,
        title=first.title,
        shape=shape,
        sections=tuple(names),
        lane_names={n: s.lane_name for n, s in zip(names, sections, strict=True) if s.lane_name},
    )


def _names(sections: list[Section]) -> list[str]:
    """Each section's name for lane prefixes: its heading or title, made unique."""
    out: list[str] = []
    for k, s in enumerate(sections, 1):
        base = s.title or ("Roadmap Planner" if s.shape == "planner" else "Table") + f" {k}"
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base} ({n})"
        out.append(name)
    return out
