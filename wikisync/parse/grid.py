"""rowspan/colspan → a rectangular grid of cell references.

Every slot a cell covers holds the SAME ``Cell`` object, so a spanning cell stays one cell and
identity (``is``) tells whether two slots belong together. Spans come from untrusted pages, so
they are clamped: non-numeric, zero or negative → 1, rowspan ≤ the rows left, colspan ≤
``MAX_COLS``; overlapping spans never crash (a later cell takes the next free slot and a span
never overwrites an earlier cell's slot). A table needing more than ``MAX_SLOTS`` slots or
``MAX_COLS`` columns is a ParseError, raised before the memory is spent.
"""

from __future__ import annotations

from dataclasses import field

from lxml import etree

from wikisync._record import record
from wikisync.errors import ParseError

MAX_COLS = 1000
MAX_SLOTS = 4_000_000
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})


@record(eq=False, slots=True)
class Cell:
    """One table cell; compared and hashed by identity."""

    el: etree._Element
    row: int  # top-left slot
    col: int
    rowspan: int  # as clamped, before overlaps trimmed it
    colspan: int
    header: bool  # <th>, or <td class="confluenceTh"> in old exports
    in_thead: bool = False


@record(slots=True)
class Grid:
    rows: list[list[Cell | None]]
    cells: list[Cell] = field(default_factory=list)  # document order

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def direct_rows(table: etree._Element) -> list[tuple[etree._Element, bool]]:
    """The table's own rows (not a nested table's), with whether each sits in ``<thead>``."""
    rows: list[tuple[etree._Element, bool]] = []
    for child in table:
        tag = child.tag
        if tag == "tr":
            rows.append((child, False))
        elif tag in _SECTIONS:
            in_head = tag == "thead"
            rows.extend((tr, in_head) for tr in child if tr.tag == "tr")
    return rows


def _span(value: str | None, limit: int) -> int:
    if not value:
        return 1
    value = value.strip()
    if not value.isdigit() or len(value) > 9:
        # lxml gives the raw attribute; "2.0", "-1", "x", "99999999999" all end up here.
        try:
            n = int(float(value))
        except (ValueError, OverflowError):
            return 1
    else:
        n = int(value)
    if n < 1:
        return 1
    return min(n, limit)


def _too_large() -> ParseError:
    return ParseError(f"table is too large: its rows and spans cover more than {MAX_SLOTS:,} cells")


def build_grid(table: etree._Element) -> Grid:
    """Expand the spans of ``table``'s direct rows into a rectangular grid.

    Work and memory are bounded by ``MAX_SLOTS`` whatever the spans say: every slot the grid
    allocates (spanned, padded or plain) is counted, and a table that needs more is an error,
    as is a row with more than ``MAX_COLS`` cells (never a silently cut-off table).
    """
    trs = direct_rows(table)
    n = len(trs)
    slots: list[list[Cell | None]] = [[] for _ in range(n)]
    cells: list[Cell] = []
    allocated = 0  # slots in ``slots``, padding included
    spanned = 0  # slots visited by spanning cells
    for r, (tr, in_head) in enumerate(trs):
        row = slots[r]
        c = 0
        left = sum(1 for td in tr if td.tag == "td" or td.tag == "th")
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue
            while c < len(row) and row[c] is not None:
                c += 1
            if c >= MAX_COLS:
                raise ParseError(f"table is too wide: a row has more than {MAX_COLS} columns")
            left -= 1
            header = tag == "th" or "confluenceTh" in (td.get("class") or "")
            rs_attr = td.get("rowspan")
            cs_attr = td.get("colspan")
            if rs_attr is None and cs_attr is None:  # the common case: one slot
                cell = Cell(td, r, c, 1, 1, header, in_head)
                cells.append(cell)
                if c == len(row):
                    row.append(cell)
                    allocated += 1
                else:
                    row[c] = cell
                c += 1
                continue
            rs = _span(rs_attr, n - r)
            cs = _span(cs_attr, max(1, MAX_COLS - c - left))  # leave room for the rest
            spanned += rs * cs  # overlapping spans revisit slots: bound that work too
            if spanned > MAX_SLOTS:
                raise _too_large()
            cell = Cell(td, r, c, rs, cs, header, in_head)
            cells.append(cell)
            end = c + cs
            for rr in range(r, r + rs):
                target = slots[rr]
                if len(target) < end:
                    allocated += end - len(target)
                    if allocated > MAX_SLOTS:
                        raise _too_large()
                    target.extend([None] * (end - len(target)))
                for cc in range(c, end):
                    if target[cc] is None:
                        target[cc] = cell
            c = end
        if allocated > MAX_SLOTS:
            raise _too_large()
    width = max((len(row) for row in slots), default=0)
    if n * width > MAX_SLOTS:
        raise _too_large()
    for row in slots:
        if len(row) < width:
            row.extend([None] * (width - len(row)))
    return Grid(rows=_drop_spanned_columns(slots, width), cells=cells)


def _drop_spanned_columns(rows: list[list[Cell | None]], width: int) -> list[list[Cell | None]]:
    """Remove columns where no cell starts: every slot continues the cell on its left, or is
    empty. They carry nothing (``colspan="1000"`` over a 3-column table) and dropping a whole
    column keeps every row aligned."""
    if width == 0:  # rows without cells (``<table><tr></tr></table>``)
        return rows
    keep = [0]
    for c in range(1, width):
        for row in rows:
            cell = row[c]
            if cell is not None and cell is not row[c - 1]:
                keep.append(c)
                break
    if len(keep) == width:
        return rows
    new_index = {c: i for i, c in enumerate(keep)}
    for row in rows:
        for c, cell in enumerate(row):
            if cell is not None and cell.col == c:
                cell.col = new_index[c]  # a cell's first column always starts a kept column
    return [[row[c] for c in keep] for row in rows]


def transpose(rows: list[list[Cell | None]]) -> list[list[Cell | None]]:
    """Columns as rows: the same cell objects, so spans stay intact."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else []
