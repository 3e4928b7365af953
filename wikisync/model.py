"""The small typed model every stage shares.

Data flows one way: a ``Document`` (raw bodies as received) is parsed into a ``Roadmap``; two
roadmaps are diffed into a ``ChangeSet`` of ``Change`` objects; renderers turn those into text.
Everything here is plain data: no I/O, no parsing, no rendering. JSON shapes are versioned by the
``SCHEMA_*`` constants and documented in ``docs/schemas.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import field, fields, make_dataclass
from operator import itemgetter
from typing import Any, Literal, TypeVar, cast

from wikisync._gc import paused_gc
from wikisync._record import record

SCHEMA_ROADMAP = "wikisync.roadmap/1"
SCHEMA_CHANGES = "wikisync.changes/1"
SCHEMA_AUDIT = "wikisync.audit/1"

#: Categories in the order a reader cares about them (and the order they are rendered in).
CATEGORIES: tuple[str, ...] = (
    "Deferred",
    "Moved Up",
    "Replaced",
    "Added",
    "Deleted",
    "Renamed",
    "Changed",
)

#: Aspects a single change can have; one change can have several (moved and renamed, ...).
ASPECTS: tuple[str, ...] = (
    "added",
    "deleted",
    "replaced",
    "deferred",
    "moved_up",
    "renamed",
    "stage",
    "orgs",
    "lane",
    "tags",
    "text",
    "struck",
    "span",
    "fields",
)

Orientation = Literal["rows", "columns"]
BodyFormat = Literal["storage", "view", "html"]


# --------------------------------------------------------------------------- roadmap


@record(frozen=True, slots=True)
class Period:
    """One period of the roadmap (a row, or a column when the table is turned)."""

    label: str  # as written in the table; "(after FY22 H2)" for an unlabelled one
    short: str  # shortest unambiguous name: "Q2", "H1", "Backlog"
    aliases: tuple[str, ...] = ()  # release names from lozenges ("Koa") and config aliases
    index: int = 0  # 0-based order; backlog-like periods are last
    backlog: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "short": self.short,
            "aliases": list(self.aliases),
            "index": self.index,
            "backlog": self.backlog,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Period:
        return cls(
            label=d["label"],
            short=d["short"],
            aliases=tuple(d.get("aliases", ())),
            index=int(d.get("index", 0)),
            backlog=bool(d.get("backlog", False)),
        )


@record(frozen=True, slots=True)
class Lane:
    """One lane: the path of its header cells, activity → task."""

    label: str  # the path joined with " / "; unique within a roadmap
    path: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "path": list(self.path)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Lane:
        return cls(label=d["label"], path=tuple(d.get("path", ())))


def lane_section(lane: str, sections: Sequence[str]) -> str | None:
    """Which roadmap of a page of several (``Roadmap.sections``) a lane belongs to: its lanes
    are prefixed ``Name / ``. One rule for the renderer, which leads sentences with the name,
    and the audit, which reads the name back."""
    for name in sections:
        if lane.startswith(f"{name} / "):
            return name
    return None


@record(frozen=True, slots=True)
class Part:
    """One part of a multi-part card (``Elasticsearch7.8 [7]``), with its own organisations."""

    text: str
    orgs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "orgs": list(self.orgs)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Part:
        if cls is not Part or not _PART_SHELL_FITS:
            return _builder(cls)(d["text"], tuple(d.get("orgs", ())))
        return _part_from_json(d)


@record(frozen=True, slots=True)
class Item:
    """One card on the roadmap."""

    id: str  # deterministic within a version (hash of period, lane, title, stage, ordinal)
    title: str  # card text without stage and organisations, a leading tag included
    stage: str | None = None
    tags: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()  # legend numbers as written ("1", "All"), parts' orgs merged
    org_names: tuple[str, ...] = ()  # resolved through the legend
    period: str = ""  # Period.label
    period_end: str | None = None  # Period.label of the last period when the cell spans several
    lane: str = ""  # Lane.label
    text: str = ""  # the whole card, normalised, as a reader sees it
    struck: bool = False
    parts: tuple[Part, ...] = ()
    links: tuple[str, ...] = ()  # hrefs / smart-link URLs in the card
    mentions: tuple[str, ...] = ()  # user mentions (display name or account id)
    # Optional, set by shapes that have them (written to JSON only when set):
    start: str | None = None  # ISO date the item starts (a Roadmap Planner bar)
    end: str | None = None  # ISO date it ends
    fields: tuple[tuple[str, str], ...] = ()  # (column, value) of a row-per-item table
    key: str | None = None  # identity the source gives (a planner bar id): same key, same item

    def to_json(self) -> dict[str, Any]:
        d = self._base_json()
        if self.start is not None:
            d["start"] = self.start
        if self.end is not None:
            d["end"] = self.end
        if self.fields:
            d["fields"] = dict(self.fields)
        if self.key is not None:
            d["key"] = self.key
        return d

    def _base_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "stage": self.stage,
            "tags": list(self.tags),
            "orgs": list(self.orgs),
            "org_names": list(self.org_names),
            "period": self.period,
            "period_end": self.period_end,
            "lane": self.lane,
            "text": self.text,
            "struck": self.struck,
            "parts": [p.to_json() for p in self.parts],
            "links": list(self.links),
            "mentions": list(self.mentions),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Item:
        """Loads a stored card as cheaply as the parse builds one (``_item_from_json``)."""
        if cls is Item and _ITEM_SHELL_FITS:
            return _item_from_json(d)
        return _builder(cls)(*_item_fields(d))


def _item_fields(d: dict[str, Any]) -> tuple[Any, ...]:
    """``Item``'s fields in order from its JSON, for a class the shell does not fit."""
    get = d.get
    f = get("fields")
    return (
        d["id"],
        d["title"],
        get("stage"),
        tuple(get("tags", ())),
        tuple(get("orgs", ())),
        tuple(get("org_names", ())),
        get("period", ""),
        get("period_end"),
        get("lane", ""),
        get("text", ""),
        bool(get("struck", False)),
        tuple([Part.from_json(p) for p in get("parts", ())]),
        tuple(get("links", ())),
        tuple(get("mentions", ())),
        get("start"),
        get("end"),
        tuple([(str(k), str(v)) for k, v in f.items()]) if f else (),
        get("key"),
    )


@record(frozen=True, slots=True)
class HistoryEntry:
    """One sentence of the page's hand-written Change History."""

    date: str  # ISO date as written ("2021-02-10"); "" when the entry has none
    category: str | None  # "Deferred", "Moved Up", ...; None for older, flat entries
    text: str  # the sentence, whitespace-normalised

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date, "category": self.category, "text": self.text}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HistoryEntry:
        return cls(date=d.get("date", ""), category=d.get("category"), text=d["text"])


@record(slots=True)
class Roadmap:
    """A parsed roadmap table plus what the page says around it (legend, Change History)."""

    orientation: Orientation = "rows"
    periods: list[Period] = field(default_factory=list)
    lanes: list[Lane] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    legend: dict[str, str] = field(default_factory=dict)  # "1" -> "edX"
    history: list[HistoryEntry] = field(default_factory=list)
    title: str | None = None  # the heading above the table, if any
    shape: str = "grid"  # grid | rows | matrix | planner | mixed (several shapes on one page)
    sections: tuple[
        str, ...
    ] = ()  # names of the roadmaps when a page holds several (lane prefixes)
    # The header of the column lanes were read from (a row table's "Team"), by roadmap: the
    # section name, "" when the page holds one. A roadmap not named here calls them lanes.
    lane_names: dict[str, str] = field(default_factory=dict)

    def period(self, label: str) -> Period | None:
        for p in self.periods:
            if p.label == label:
                return p
        return None

    def section(self, lane: str) -> str | None:
        """Which roadmap of a page of several ``lane`` belongs to (its prefix), else None."""
        return lane_section(lane, self.sections)

    def lane_name(self, lane: str) -> str | None:
        """The header of the column ``lane`` was read from (``Team``): the page's word for it.
        None when the roadmap's lanes are its own (grid, planner, group rows): say "lane"."""
        if not self.lane_names:
            return None
        return self.lane_names.get(self.section(lane) or "")

    def to_json(self) -> dict[str, Any]:
        d = self._base_json()
        if self.shape != "grid":
            d["shape"] = self.shape
        if self.sections:
            d["sections"] = list(self.sections)
        if self.lane_names:
            d["lane_names"] = dict(self.lane_names)
        return d

    def _base_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ROADMAP,
            "title": self.title,
            "orientation": self.orientation,
            "periods": [p.to_json() for p in self.periods],
            "lanes": [lane.to_json() for lane in self.lanes],
            "items": [i.to_json() for i in self.items],
            "legend": dict(sorted(self.legend.items(), key=lambda kv: _legend_key(kv[0]))),
            "history": [h.to_json() for h in self.history],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Roadmap:
        if d.get("schema") != SCHEMA_ROADMAP:
            raise ValueError(f"not a {SCHEMA_ROADMAP} document (schema={d.get('schema')!r})")
        orientation = d.get("orientation", "rows")
        if orientation not in ("rows", "columns"):
            raise ValueError(f"bad orientation {orientation!r}")
        with paused_gc():  # thousands of acyclic Items: nothing for the collector to find
            return cls(
                orientation=orientation,
                periods=[Period.from_json(p) for p in d.get("periods", ())],
                lanes=[Lane.from_json(x) for x in d.get("lanes", ())],
                items=list(map(Item.from_json, d.get("items", ()))),
                legend={str(k): str(v) for k, v in d.get("legend", {}).items()},
                history=[HistoryEntry.from_json(h) for h in d.get("history", ())],
                title=d.get("title"),
                shape=str(d.get("shape", "grid")),
                sections=tuple(str(x) for x in d.get("sections", ())),
                lane_names={str(k): str(v) for k, v in d.get("lane_names", {}).items()},
            )


def _legend_key(k: str) -> tuple[int, int, str]:
    return (0, int(k), "") if k.isdigit() else (1, 0, k)


# --------------------------------------------------------------------------- documents


@record(frozen=True, slots=True)
class SourceMeta:
    """What the source said about the version: all optional, all kept in the snapshot."""

    page: str | None = None  # page id or configured name
    title: str | None = None  # page title
    version: int | None = None
    when: str | None = None  # ISO-8601 datetime of the version
    author: str | None = None
    message: str | None = None  # version message
    url: str | None = None
    source: str | None = None  # how it was obtained: "file", "stdin", "v2", "v1", "url", ...

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "title": self.title,
            "version": self.version,
            "when": self.when,
            "author": self.author,
            "message": self.message,
            "url": self.url,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SourceMeta:
        version = d.get("version")
        return cls(
            page=d.get("page"),
            title=d.get("title"),
            version=int(version) if version is not None else None,
            when=d.get("when"),
            author=d.get("author"),
            message=d.get("message"),
            url=d.get("url"),
            source=d.get("source"),
        )


@record(frozen=True, slots=True)
class Document:
    """Raw page bodies exactly as received, keyed by format, plus metadata.

    ``bodies`` holds one or more of ``storage`` (Confluence storage XHTML), ``view`` (rendered
    HTML, view or export_view) and ``html`` (any other HTML page or export). The raw body is the
    source of truth: the roadmap is always re-derivable from it.
    """

    bodies: dict[str, str]
    meta: SourceMeta = SourceMeta()

    @property
    def primary_format(self) -> str:
        for fmt in ("storage", "view", "html"):
            if fmt in self.bodies:
                return fmt
        raise ValueError("document has no body")


# --------------------------------------------------------------------------- options


@record(frozen=True, slots=True)
class ParseOptions:
    """How to find and read the roadmap table; every field has a working automatic default."""

    table_heading: str | None = None  # the heading text right above the table
    table_index: int | None = None  # 0-based index among the page's top-level tables
    table_header: str | None = None  # text that appears in the table's header cells
    orientation: Literal["auto", "rows", "columns"] = "auto"
    period_aliases: dict[str, str] = field(default_factory=dict)  # alias -> period label/short
    backlog_words: tuple[str, ...] = (
        "backlog",
        "grab bag",
        "icebox",
        "parking lot",
        "later",
        "unscheduled",
    )
    history_heading: str = "Change History"
    legend_heading: str = "Organizations listed above"
    max_bytes: int = 50_000_000  # bigger inputs are refused (UTF-8 bytes); 0 = no limit
    shape: str = "auto"  # auto | grid | rows | matrix | planner: which roadmap shape to read
    key_column: str | None = None  # row-per-item tables: the header of the title column


# --------------------------------------------------------------------------- changes


@record(frozen=True, slots=True)
class Where:
    """Where an item sits: its period (label and short name) and lane."""

    period: str
    short: str
    lane: str
    period_end: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"period": self.period, "short": self.short, "lane": self.lane}
        if self.period_end is not None:
            d["period_end"] = self.period_end
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Where:
        return cls(
            period=d["period"], short=d["short"], lane=d["lane"], period_end=d.get("period_end")
        )


@record(frozen=True, slots=True)
class FieldChange:
    """One field-level difference of a matched item (``stage``: ``Spike`` → ``Eval``)."""

    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@record(frozen=True, slots=True)
class Change:
    """One classified change.

    A replacement is ONE change with ``old`` and ``new`` (rendered as a Deleted and an Added
    sentence); a move-and-rename is one change with both aspects, categorised by what a reader
    cares about most.
    """

    category: str  # one of CATEGORIES
    title: str  # the new title (the old one for a deletion)
    old_title: str | None = None
    from_: Where | None = None
    to: Where | None = None
    aspects: tuple[str, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    old: Item | None = None
    new: Item | None = None
    score: float | None = None  # match similarity (0-100) for fuzzy matches

    def to_json(self, text: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {
            "category": self.category,
            "title": self.title,
            "old_title": self.old_title,
            "from": self.from_.to_json() if self.from_ else None,
            "to": self.to.to_json() if self.to else None,
            "aspects": list(self.aspects),
            "fields": [f.to_json() for f in self.fields],
            "old": self.old.to_json() if self.old else None,
            "new": self.new.to_json() if self.new else None,
            "score": self.score,
        }
        if text is not None:
            d["text"] = text
        return d


@record(frozen=True, slots=True)
class VersionRef:
    """Which version a side of a diff is: what the user typed plus what the source knew."""

    ref: str  # "openedx-roadmap@v30", "old.html", "-"
    version: int | None = None
    when: str | None = None
    author: str | None = None
    hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "when": self.when,
            "author": self.author,
            "hash": self.hash,
        }


@record(slots=True)
class ChangeSet:
    """The changes between two versions, dated (the entry's date in the Change History)."""

    old: VersionRef
    new: VersionRef
    changes: list[Change]
    date: str  # ISO date of the entry
    old_roadmap: Roadmap | None = None
    new_roadmap: Roadmap | None = None


# --------------------------------------------------------------------------- audit

#: Kinds of change a hand-written sentence can claim; "unparsed" keeps what could not be read.
WRITTEN_KINDS: tuple[str, ...] = ("moved", "added", "deleted", "changed", "unparsed")


@record(frozen=True, slots=True)
class WrittenChange:
    """One change a hand-written Change History sentence claims (one sentence can claim several).

    Produced by ``parse.history.parse_sentence``, checked against computed changes by the audit.
    Periods are ``Period.label`` once resolved; the names as written are kept to explain a miss.
    """

    date: str  # the entry's date ("" when it has none)
    category: str | None  # the entry's category heading; None for older, flat entries
    kind: str  # one of WRITTEN_KINDS
    title: str  # the card as written ("" when unparsed)
    from_period: str | None = None  # Period.label, None when not written or not a known period
    to_period: str | None = None
    orgs: tuple[str, ...] = ()  # organisation names as written ("assigned to Appsembler")
    sentence: str = ""  # the whole sentence as written
    from_name: str | None = None  # the period as written ("Koa", "Q2")
    to_name: str | None = None
    part: str | None = None  # the part added to a card ("Added “X” … to the “Y” card")
    new_title: str | None = None  # the new name in "Renamed “X” to “Y”"
    note: str | None = None  # a trailing remark ("(Django Signals remains in Q3.")
    # the roadmap a sentence is led by on a page of several ("Product features: Moved …")
    section: str | None = None
    # A lane change the sentence states ("lane A → B", a row table's "team Platform → Payments"),
    # the lanes as written; written to JSON only when stated.
    from_lane: str | None = None
    to_lane: str | None = None

    def to_json(self) -> dict[str, Any]:
        d = self._base_json()
        if self.section is not None:
            d["section"] = self.section
        if self.to_lane is not None:
            d["from_lane"] = self.from_lane
            d["to_lane"] = self.to_lane
        return d

    def _base_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "category": self.category,
            "kind": self.kind,
            "title": self.title,
            "from_period": self.from_period,
            "to_period": self.to_period,
            "orgs": list(self.orgs),
            "sentence": self.sentence,
            "from_name": self.from_name,
            "to_name": self.to_name,
            "part": self.part,
            "new_title": self.new_title,
            "note": self.note,
        }


# --------------------------------------------------------------------------- fast building


class ItemSlots:
    """An object with ``Item``'s slot layout, filled by plain attribute stores and then turned
    into an ``Item`` (``Item.from_json``, the parse's ``_fast_item``): a frozen ``__init__``
    sets each field through ``object.__setattr__``, the bulk of building thousands of cards."""

    __slots__ = Item.__slots__
    id: str
    title: str
    stage: str | None
    tags: tuple[str, ...]
    orgs: tuple[str, ...]
    org_names: tuple[str, ...]
    period: str
    period_end: str | None
    lane: str
    text: str
    struck: bool
    parts: tuple[Part, ...]
    links: tuple[str, ...]
    mentions: tuple[str, ...]
    start: str | None
    end: str | None
    fields: tuple[tuple[str, str], ...]
    key: str | None


class _PartSlots:
    """``Part``'s slot layout (see ``ItemSlots``)."""

    __slots__ = Part.__slots__
    text: str
    orgs: tuple[str, ...]


def _shell_fits(shell: type, cls: Any) -> bool:
    """Whether a ``shell`` object may become a ``cls``: same fields as slots, no
    ``__post_init__``, and a layout ``__class__`` assignment accepts."""
    if tuple(f.name for f in fields(cls)) != cls.__slots__ or hasattr(cls, "__post_init__"):
        return False
    try:
        object.__new__(shell).__class__ = cls
    except TypeError:  # "object layout differs"
        return False
    return True


_ITEM_SHELL_FITS = _shell_fits(ItemSlots, Item)
_PART_SHELL_FITS = _shell_fits(_PartSlots, Part)

#: Item.from_json reads every key a stored card always has in two C calls.
_ITEM_SCALARS = itemgetter(
    "id", "title", "stage", "period", "period_end", "lane", "text", "struck", "parts"
)
_ITEM_LISTS = itemgetter("tags", "orgs", "org_names", "links", "mentions")
_ITEM_BASE_KEYS = 14  # the keys Item._base_json writes; start, end, fields, key only when set
_ITEM_DEFAULTS: dict[str, Any] = {
    "stage": None,
    "tags": [],
    "orgs": [],
    "org_names": [],
    "period": "",
    "period_end": None,
    "lane": "",
    "text": "",
    "struck": False,
    "parts": [],
    "links": [],
    "mentions": [],
}


def _item_from_json(d: dict[str, Any]) -> Item:
    """Fills an ``ItemSlots`` shell that then becomes an Item, as the parse builds its items:
    no frozen ``__init__`` (~5 µs a card). What it adds to the parse's building is reading
    JSON: the keys in two C calls, each non-empty list turned into a tuple, and a card's one
    part (nearly every card has one, with the card's orgs) built inline, sharing the tuple.
    test_json_output checks a loaded roadmap equals the parsed one, field by field."""
    try:
        id_, title, stage, period, period_end, lane, text, struck, parts = _ITEM_SCALARS(d)
        tags, orgs, org_names, links, mentions = _ITEM_LISTS(d)
    except KeyError:  # a roadmap.json written by hand or by an older wikisync: defaults
        for required in ("id", "title"):
            if required not in d:
                raise KeyError(required) from None
        return _item_from_json({**_ITEM_DEFAULTS, **d})
    o: Any = ItemSlots()  # typed Any, not cast() calls: a Python call per card each
    o.id = id_
    o.title = title
    o.stage = stage
    o.tags = tuple(tags) if tags else ()
    o.orgs = tuple(orgs) if orgs else ()
    o.org_names = tuple(org_names) if org_names else ()
    o.period = period
    o.period_end = period_end
    o.lane = lane
    o.text = text
    o.struck = bool(struck)
    if not parts:
        o.parts = ()
    elif len(parts) == 1 and _PART_SHELL_FITS:
        p = parts[0]
        part: Any = _PartSlots()
        part.text = p["text"]
        part_orgs = p.get("orgs")
        part.orgs = (o.orgs if part_orgs == orgs else tuple(part_orgs)) if part_orgs else ()
        part.__class__ = Part
        o.parts = (part,)
    else:
        o.parts = tuple([Part.from_json(p) for p in parts])
    o.links = tuple(links) if links else ()
    o.mentions = tuple(mentions) if mentions else ()
    if len(d) == _ITEM_BASE_KEYS:  # no optional field
        o.start = o.end = o.key = None
        o.fields = ()
    else:
        get = d.get
        o.start = get("start")
        o.end = get("end")
        f = get("fields")
        o.fields = tuple([(str(k), str(v)) for k, v in f.items()]) if f else ()
        o.key = get("key")
    o.__class__ = Item
    return o


def _part_from_json(d: dict[str, Any]) -> Part:
    """``Part.from_json`` through a ``_PartSlots`` shell (see ``ItemSlots``)."""
    o: Any = _PartSlots()
    o.text = d["text"]
    orgs = d.get("orgs")
    o.orgs = tuple(orgs) if orgs else ()  # most parts have none: no call
    o.__class__ = Part
    return o


_T = TypeVar("_T")


_BUILDERS: dict[type, Callable[..., Any]] = {}


def _builder(cls: type[_T]) -> Callable[..., _T]:
    """``cls(...)`` for a frozen slots dataclass, without its ``__init__``'s cost.

    A frozen ``__init__`` stores each field through ``object.__setattr__`` (~5 µs for an Item,
    the bulk of loading a stored roadmap.json). A plain slots dataclass with the same fields
    stores them directly; the object then becomes a ``cls`` (same slot layout): an ordinary,
    frozen, equal instance. Built on first use (no cost at import); ``cls`` itself when the
    layouts are not interchangeable or ``cls`` has a ``__post_init__``.
    """
    got = _BUILDERS.get(cls)
    if got is None:
        got = _BUILDERS[cls] = _make_builder(cls)
    return got


def _make_builder(cls: Any) -> Callable[..., Any]:
    if hasattr(cls, "__post_init__"):
        return cast("Callable[..., Any]", cls)
    shadow: Any = make_dataclass(
        f"_{cls.__name__}Builder",
        [
            (f.name, f.type, field(default=f.default, default_factory=f.default_factory))
            for f in fields(cls)
        ],
        slots=True,
    )
    try:
        object.__setattr__(object.__new__(shadow), "__class__", cls)
    except TypeError:  # "object layout differs": build through cls
        return cast("Callable[..., Any]", cls)

    def build(*args: Any, **kwargs: Any) -> Any:
        made = shadow(*args, **kwargs)
        made.__class__ = cls
        return made

    return build
