"""The roadmap diff as a web page: the newer grid with every change marked in place.

Pure: a ``ChangeSet`` (with both roadmaps) in, one self-contained HTML5 document out. Python
lays the grid out (cells, spans, the card marks and their words); the Jinja2 templates in
``templates/`` (autoescaped) only write it down, so a team can restyle it. The markup is a
contract (docs/schemas.md, "HTML diff"): cells carry ``data-period``/``data-lane``, cards carry
``data-title``/``data-change``. Jinja2 is imported on first use: ``wikisync --help`` must not
pay for it.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikisync import __version__
from wikisync.diff.periods import map_periods
from wikisync.model import CATEGORIES, Change, ChangeSet, Item, Roadmap, VersionRef
from wikisync.model import _legend_key as legend_key
from wikisync.render.text import ChangeWords, Entry, RenderOptions, build_entry, lane_words

if TYPE_CHECKING:
    import jinja2

SCHEMA_HTML = "wikisync.html/1"
BIG_GRID = 1000  # cards
_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_LQ, _RQ = "“", "”"

#: ``data-change`` values, in legend order.
CHANGE_KINDS: tuple[str, ...] = (
    "deferred",
    "moved-up",
    "moved-away",
    "replaced",
    "added",
    "deleted",
    "renamed",
    "changed",
    "unchanged",
)
#: What each kind looks like in the legend: a symbol and words (colour is never the only signal).
KIND_LEGEND: dict[str, tuple[str, str]] = {
    "deferred": ("↓", "deferred: in its new, later period; badge names where it came from"),
    "moved-up": ("↑", "moved up: in its new, earlier period; badge names where it came from"),
    "moved-away": ("→", "ghost: where a moved card was; badge names where it went"),
    "replaced": ("⇄", "replaced: the old card struck, the new one marked; each names the other"),
    "added": ("+", "added"),
    "deleted": ("✗", "deleted: struck through in its old cell"),
    "renamed": ("✎", "renamed: the old title is shown"),
    "changed": ("Δ", "changed: what changed, in words"),
}
_CATEGORY_KIND = {
    "Deferred": "deferred",
    "Moved Up": "moved-up",
    "Replaced": "replaced",
    "Added": "added",
    "Deleted": "deleted",
    "Renamed": "renamed",
    "Changed": "changed",
}

#: A card's history page, given the card (the slippage report's hook); None: no link.
CardHref = Callable[[Item], str | None]


# --------------------------------------------------------------------------- the view model


@dataclass(frozen=True)
class Mark:
    """One badge on a card: a symbol and words."""

    symbol: str
    words: str
    kind: str  # CSS hook: from, to, was, details, ...


@dataclass
class CardView:
    """One card as drawn: the item's text plus its change and marks."""

    title: str
    change: str  # one of CHANGE_KINDS
    stage: str | None = None
    orgs: str = ""  # "[1, 5]" as written
    org_names: str = ""  # "edX, Overhang.io", for the tooltip
    struck: bool = False  # shown struck through (deleted, replaced old, struck on the page)
    marks: list[Mark] = field(default_factory=list)
    span: str | None = None  # "Q3–Q4" when the card spans periods its cell does not
    href: str | None = None  # the card's history page (report hook)


@dataclass
class Cell:
    """One table cell: a header (``th``) or a grid cell with cards."""

    header: bool
    text: str = ""
    aliases: tuple[str, ...] = ()
    period: str | None = None
    period_end: str | None = None
    lane: str | None = None
    rowspan: int = 1
    colspan: int = 1
    scope: str | None = None  # "row" / "col" / "colgroup" / "rowgroup" for header cells
    cards: list[CardView] = field(default_factory=list)


@dataclass
class Grid:
    """The laid-out table: header rows then body rows, plus cards with no cell on it."""

    head: list[list[Cell]]
    body: list[list[Cell]]
    off_grid: list[tuple[str, CardView]]  # (where it was, card) for vanished periods/lanes
    counts: Counter[str]  # cards per data-change value
    where_words: str = "period or lane"  # what an off-grid card lost, in the page's words

    @property
    def big(self) -> bool:
        """Big grids let the browser skip laying out cells off screen (CSS content-visibility)."""
        return sum(self.counts.values()) > BIG_GRID


@dataclass(frozen=True)
class Side:
    """One version in the header: number, date and author."""

    label: str
    version: int | None
    when: str | None
    author: str | None

    @classmethod
    def of(cls, ref: VersionRef) -> Side:
        label = f"v{ref.version}" if ref.version is not None else ref.ref
        return cls(label, ref.version, ref.when, ref.author)

    @property
    def shown(self) -> str:
        """``2021-02-10 16:00 UTC`` for a stored UTC time; anything else as given."""
        w = self.when or ""
        if len(w) >= 17 and w.endswith("Z") and w[10] == "T":
            return f"{w[:10]} {w[11:16]} UTC"
        return w


@dataclass(frozen=True)
class Link:
    """A navigation link of a report page (relative) or the wiki's own version (absolute)."""

    href: str
    text: str
    rel: str | None = None


@dataclass(frozen=True)
class HtmlSection:
    """An extra section a caller adds below the grid (the slippage chart): trusted HTML."""

    title: str
    html: str
    id: str = ""


@dataclass(frozen=True)
class DiffPage:
    """Everything a diff page shows besides the grid; all optional."""

    title: str | None = None  # page heading (default: the roadmap's title)
    nav: tuple[Link, ...] = ()  # index / previous / next change
    wiki: Link | None = None  # the wiki's own version of NEW
    sections: tuple[HtmlSection, ...] = ()
    card_href: CardHref | None = None


# --------------------------------------------------------------------------- building the grid


def _orgs(item: Item) -> str:
    return f"[{', '.join(item.orgs)}]" if item.orgs else ""


def _quoted(title: str) -> str:
    return f"{_LQ}{title}{_RQ}"


class _Builder:
    """Lays the new roadmap out and files every change's marks into its cells."""

    def __init__(self, cs: ChangeSet, options: RenderOptions, card_href: CardHref | None) -> None:
        self.cs = cs
        self.new: Roadmap = cs.new_roadmap or Roadmap()
        self.old: Roadmap = cs.old_roadmap or Roadmap()
        self.words = ChangeWords(cs, options)
        self.card_href = card_href
        self.periods = list(self.new.periods)
        self.pos = {p.label: i for i, p in enumerate(self.periods)}
        paths = {lane.label: lane.path or (lane.label,) for lane in self.new.lanes}
        for item in self.new.items:  # a card in a lane the header does not name still shows
            paths.setdefault(item.lane, (item.lane,))
        self.lanes = list(paths)
        self.paths = list(paths.values())
        self.period_map = map_periods(self.old.periods, self.new.periods)
        self.cells: dict[tuple[str, str], list[CardView]] = {}
        self.off_grid: list[tuple[str, CardView]] = []
        self.counts: Counter[str] = Counter()

    # names ------------------------------------------------------------------

    def name(self, label: str, roadmap: Roadmap) -> str:
        p = roadmap.period(label)
        return self.words.period(label, p.short if p is not None else None)

    def range(self, item: Item, roadmap: Roadmap) -> str:
        name = self.name(item.period, roadmap)
        if item.period_end and item.period_end != item.period:
            name += "–" + self.name(item.period_end, roadmap)
        return name

    # cards ------------------------------------------------------------------

    def card(self, item: Item, change: str, roadmap: Roadmap, *, struck: bool = False) -> CardView:
        self.counts[change] += 1
        spans = bool(item.period_end and item.period_end != item.period)
        return CardView(
            title=item.title,
            change=change,
            stage=item.stage,
            orgs=_orgs(item),
            org_names=", ".join(item.org_names),
            struck=struck or item.struck,
            span=self.range(item, roadmap) if spans else None,
            href=self.card_href(item) if self.card_href is not None else None,
        )

    def put(self, item: Item, view: CardView, *, old: bool) -> None:
        """File a card in its cell; an old card goes to the new cell of its old period."""
        period = self.period_map.get(item.period) if old else item.period
        if period is None or period not in self.pos or item.lane not in self.lanes:
            where = self.range(item, self.old if old else self.new)
            self.off_grid.append((f"{where}, {item.lane}", view))
            return
        self.cells.setdefault((period, item.lane), []).append(view)

    def details(self, c: Change, view: CardView) -> None:
        if c.old_title is not None and "renamed" in c.aspects:
            view.marks.append(Mark("✎", f"was {_quoted(c.old_title)}", "was"))
        details = self.words.details(c)
        if details:
            view.marks.append(Mark("Δ", "; ".join(details), "details"))

    def new_card(self, item: Item, c: Change | None) -> CardView:
        if c is None:
            return self.card(item, "unchanged", self.new)
        kind = _CATEGORY_KIND.get(c.category, "changed")
        view = self.card(item, kind, self.new)
        if kind in ("deferred", "moved-up") and c.old is not None:
            arrow, verb = ("↓", "deferred") if kind == "deferred" else ("↑", "moved up")
            view.marks.append(Mark(arrow, f"{verb} from {self.range(c.old, self.old)}", "from"))
            self.details(c, view)
        elif kind == "replaced" and c.old is not None:
            view.marks.append(Mark("⇄", f"replaces {_quoted(c.old.title)}", "replaces"))
        elif kind == "added":
            view.marks.append(Mark("+", "added", "added"))
        else:
            self.details(c, view)
        return view

    def old_card(self, c: Change) -> CardView | None:
        """The struck or ghost card at an old place, or None when the change leaves none."""
        kind = _CATEGORY_KIND.get(c.category, "changed")
        if c.old is None:
            return None
        if kind == "deleted":
            view = self.card(c.old, "deleted", self.old, struck=True)
            view.marks.append(Mark("✗", "deleted", "deleted"))
        elif kind == "replaced" and c.new is not None:
            view = self.card(c.old, "replaced", self.old, struck=True)
            view.marks.append(Mark("⇄", f"replaced by {_quoted(c.new.title)}", "replaced-by"))
        elif kind in ("deferred", "moved-up") and c.new is not None:
            view = self.card(c.old, "moved-away", self.old)
            view.marks.append(Mark("→", self.range(c.new, self.new), "to"))
        else:
            return None
        return view

    def build(self) -> Grid:
        by_new = {c.new.id: c for c in self.cs.changes if c.new is not None}
        for item in self.new.items:
            self.put(item, self.new_card(item, by_new.get(item.id)), old=False)
        for c in self.cs.changes:
            view = self.old_card(c)
            if view is not None and c.old is not None:
                self.put(c.old, view, old=True)
        head, body = self.layout()
        return Grid(head, body, self.off_grid, self.counts, self.where_words())

    def where_words(self) -> str:
        """``period or team`` for a row table; ``period, lane or team`` for a page of several."""
        words = lane_words(self.old, self.new, self.lanes)
        return ", ".join(["period", *words[:-1]]) + f" or {words[-1] if words else 'lane'}"

    # layout -----------------------------------------------------------------

    def spans(self, lane: str) -> list[int]:
        """Per period position, how many periods its cell covers in ``lane`` (covered: 0).

        A cell spans when every card in it spans to the same later period and the cells it
        would cover are empty, as on the page; a card that cannot span says its range in words.
        """
        ends: dict[str, set[str | None]] = {}
        for item in self.new.items:
            if item.lane == lane:
                ends.setdefault(item.period, set()).add(item.period_end)
        n = len(self.periods)
        out = [1] * n
        i = 0
        while i < n:
            found = ends.get(self.periods[i].label, set())
            end = next(iter(found)) if len(found) == 1 else None
            j = self.pos.get(end, i) if end is not None else i
            if j > i and not any(
                self.cells.get((self.periods[k].label, lane)) for k in range(i + 1, j + 1)
            ):
                out[i] = j - i + 1
                for k in range(i + 1, j + 1):
                    out[k] = 0
                i = j
            i += 1
        return out

    def grid_cell(self, i: int, lane: str, span: int, rows: bool) -> Cell:
        label = self.periods[i].label
        return Cell(
            header=False,
            period=label,
            period_end=self.periods[i + span - 1].label if span > 1 else None,
            lane=lane,
            rowspan=span if rows else 1,
            colspan=1 if rows else span,
            cards=self.cells.get((label, lane), []),
        )

    def layout(self) -> tuple[list[list[Cell]], list[list[Cell]]]:
        rows = self.new.orientation != "columns"
        depth = max((len(p) for p in self.paths), default=1)
        groups = _header_groups(self.paths, depth)
        spans = {lane: self.spans(lane) for lane in self.lanes}

        def period_head(label: str, aliases: tuple[str, ...]) -> Cell:
            return Cell(
                header=True,
                text=label,
                aliases=aliases,
                period=label,
                scope="row" if rows else "col",
            )

        heads = [period_head(p.label, p.aliases) for p in self.periods]
        if rows:
            head = []
            for level, row in enumerate(groups):
                cells = [Cell(header=True, rowspan=depth)] if level == 0 else []
                cells += [
                    Cell(header=True, text=g.text, colspan=g.width, rowspan=g.height, scope="col")
                    for g in row
                ]
                head.append(cells)
            body = []
            for i, ph in enumerate(heads):
                cells = [ph]
                cells += [
                    self.grid_cell(i, lane, spans[lane][i], rows=True)
                    for lane in self.lanes
                    if spans[lane][i]
                ]
                body.append(cells)
            return head, body
        # turned: periods across, lanes down; the lane header levels become row headers
        starts: dict[int, list[Cell]] = {}
        for row in groups:
            for g in row:
                starts.setdefault(g.start, []).append(
                    Cell(header=True, text=g.text, rowspan=g.width, colspan=g.height, scope="row")
                )
        body = []
        for k, lane in enumerate(self.lanes):
            cells = list(starts.get(k, []))
            cells += [
                self.grid_cell(i, lane, spans[lane][i], rows=False)
                for i in range(len(self.periods))
                if spans[lane][i]
            ]
            body.append(cells)
        return [[Cell(header=True, colspan=depth), *heads]], body


@dataclass(frozen=True)
class _Group:
    start: int  # first lane it covers
    text: str
    width: int  # lanes covered
    height: int  # header levels covered


def _header_groups(paths: Sequence[tuple[str, ...]], depth: int) -> list[list[_Group]]:
    """Header rows from lane paths: at each level, runs of lanes sharing that path prefix."""
    rows: list[list[_Group]] = []
    for level in range(depth):
        row: list[_Group] = []
        k = 0
        while k < len(paths):
            path = paths[k]
            if len(path) <= level:  # covered by its parent's height
                k += 1
                continue
            width = 1
            last = len(path) == level + 1
            while (
                not last
                and k + width < len(paths)
                and len(paths[k + width]) > level + 1
                and paths[k + width][: level + 1] == path[: level + 1]
            ):
                width += 1
            row.append(_Group(k, path[level], width, depth - level if last else 1))
            k += width
        rows.append(row)
    return rows


def build_grid(
    cs: ChangeSet, options: RenderOptions | None = None, card_href: CardHref | None = None
) -> Grid:
    """The new roadmap's grid with the changes of ``cs`` filed into its cells."""
    return _Builder(cs, options or RenderOptions(), card_href).build()


# --------------------------------------------------------------------------- the page


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def safe_url(url: str | None) -> str | None:
    """An absolute link is kept only when it is http(s): never ``javascript:`` from a page."""
    if url and url.split(":", 1)[0].lower() in ("http", "https") and "://" in url:
        return url
    return None


def legend(counts: Counter[str], changes: Sequence[Change]) -> list[dict[str, Any]]:
    """Legend rows in CATEGORIES order: symbol, words, changes and marked cards per kind."""
    per_category = Counter(c.category for c in changes)
    rows: list[dict[str, Any]] = []
    for category in CATEGORIES:
        kind = _CATEGORY_KIND[category]
        symbol, words = KIND_LEGEND[kind]
        rows.append(
            {
                "kind": kind,
                "category": category,
                "symbol": symbol,
                "words": words,
                "changes": per_category.get(category, 0),
                "cards": counts.get(kind, 0),
            }
        )
    symbol, words = KIND_LEGEND["moved-away"]
    rows.append(
        {
            "kind": "moved-away",
            "category": "Ghost",
            "symbol": symbol,
            "words": words,
            "changes": None,
            "cards": counts.get("moved-away", 0),
        }
    )
    return rows


def render_page(template: str, **context: Any) -> str:
    """Render one of the package's HTML templates (autoescaped) with the shared context."""
    context.setdefault("generator", f"wikisync {__version__}")
    context.setdefault("schema", SCHEMA_HTML)
    return _environment().get_template(template).render(**context)


def diff_context(
    cs: ChangeSet, options: RenderOptions | None = None, page: DiffPage | None = None
) -> dict[str, Any]:
    """What ``diff.html.j2`` shows: versions, legend, the Change History entry, the grid."""
    opts = options or RenderOptions()
    page = page or DiffPage()
    grid = build_grid(cs, opts, page.card_href)
    entry: Entry | None = build_entry(cs, opts)
    roadmap = cs.new_roadmap or Roadmap()
    return {
        "title": page.title or roadmap.title or "Roadmap",
        "old": Side.of(cs.old),
        "new": Side.of(cs.new),
        "date": cs.date,
        "changes": len(cs.changes),
        "legend": legend(grid.counts, cs.changes),
        "entry": entry,
        "grid": grid,
        "nav": page.nav,
        "wiki": page.wiki,
        "sections": page.sections,
        "orgs": sorted(roadmap.legend.items(), key=lambda kv: legend_key(kv[0])),
    }


def render_diff_html(
    cs: ChangeSet, options: RenderOptions | None = None, page: DiffPage | None = None
) -> str:
    """One self-contained HTML5 document: the new grid with every change of ``cs`` marked."""
    if cs.new_roadmap is None:
        raise ValueError("an HTML diff needs the new roadmap (ChangeSet.new_roadmap)")
    return render_page("html/diff.html.j2", **diff_context(cs, options, page))
