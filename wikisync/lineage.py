"""Card lineage: each card followed through every stored version of a page. Pure: no I/O.

The differ already knows, between two versions, which card is which (``match``) and what
happened to it (``classify``). A lineage chains those pairings version to version, so a card
renamed in v29 and moved in v30 is one card. A replacement ends one lineage and starts another,
and each names the other. A card deleted and later added again under the same title (up to
case and punctuation) is one lineage with a gap, not two.

``build_lineages`` takes the versions in the store's order (``Store.snapshots``: the caller
never sorts by date) and returns every lineage with its steps; ``render_log`` writes the
history of some of them, like ``git log -- path``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import not_
from typing import TYPE_CHECKING, Any

from wikisync._gc import paused_gc
from wikisync.diff import (
    PeriodOrder,
    classify,
    match_items,
    match_roadmaps,
    normalize_title,
)
from wikisync.diff.classify import org_names
from wikisync.errors import WikisyncError
from wikisync.model import Change, Item, Roadmap
from wikisync.render.text import lane_header, lane_word

if TYPE_CHECKING:
    from wikisync.store import Snapshot

#: What can happen to a card in one version, in the order a step's text lists them.
EVENTS: tuple[str, ...] = (
    "added",
    "readded",
    "replaces",
    "deferred",
    "moved_up",
    "renamed",
    "stage",
    "lane",
    "orgs",
    "changed",
    "deleted",
    "replaced",
)
_EVENT_RANK = {e: n for n, e in enumerate(EVENTS)}


@dataclass(frozen=True, slots=True)
class Version:
    """One stored version as lineage needs it: the roadmap and when it was saved."""

    roadmap: Roadmap
    when: str  # ISO-8601 datetime (the snapshot's ``when``)
    version: int | None = None
    ref: str = ""  # the snapshot id, for people

    @property
    def date(self) -> str:
        return self.when[:10]

    @classmethod
    def of(cls, snap: Snapshot, roadmap: Roadmap) -> Version:
        """A stored snapshot and its roadmap (``Store.roadmap(snap)``)."""
        return cls(roadmap=roadmap, when=snap.when, version=snap.version, ref=snap.id)


@dataclass(frozen=True, slots=True)
class Step:
    """What happened to one card in one version.

    ``period``/``short``/``lane``/``stage``/``title`` say where the card is after the step (for
    a deletion or a replacement: where it was). ``slip`` is how many period rows later (+) or
    earlier (-) the card went on the two versions' merged period order (Backlog last).
    """

    index: int  # position of the version in the store's order
    version: int | None
    date: str  # YYYY-MM-DD
    title: str
    period: str  # Period.label
    short: str  # Period.short, as the history writes it
    lane: str
    stage: str | None
    events: tuple[str, ...]
    slip: int = 0
    text: str = ""  # "deferred Q1 → Q2, renamed from “X”"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "date": self.date,
            "title": self.title,
            "period": self.period,
            "short": self.short,
            "lane": self.lane,
            "stage": self.stage,
            "events": list(self.events),
            "slip": self.slip,
            "text": self.text,
        }


@dataclass(slots=True)
class Lineage:
    """One card across versions: its steps and the spans of versions it was on the page."""

    number: int  # 1-based, in order of first appearance (then document order)
    steps: list[Step] = field(default_factory=list)
    last: Item | None = None  # the card as last seen (kept after a deletion)
    orgs: tuple[str, ...] = ()  # organisation names as last seen, through the legend
    present: list[list[int]] = field(default_factory=list)  # [first, end) version indices
    replaces: int | None = None  # number of the lineage this one replaced
    replaced_by: int | None = None

    @property
    def titles(self) -> list[str]:
        """Every title the card had, oldest first, each once."""
        return list(dict.fromkeys(s.title for s in self.steps))

    @property
    def title(self) -> str:
        return self.steps[-1].title

    @property
    def first(self) -> Step:
        return self.steps[0]

    @property
    def alive(self) -> bool:
        return bool(self.present) and self.present[-1][1] < 0

    @property
    def slug(self) -> str:
        """A stable anchor for this card (``card-eventing-standard-xapi-3f9a1c``): it depends
        only on where the card first appeared, so it survives new versions being stored."""
        first = self.first
        words = "-".join(normalize_title(first.title).split())[:40].strip("-") or "card"
        words = re.sub(r"[^a-z0-9-]", "", words) or "card"
        key = f"{first.index}\0{first.version}\0{first.title}\0{first.period}\0{first.lane}"
        key += f"\0{self.number}"
        return f"card-{words}-{hashlib.sha1(key.encode()).hexdigest()[:6]}"


@dataclass(slots=True)
class Lineages:
    """Every lineage of a page, plus the versions they were built from."""

    versions: list[Version]
    lineages: list[Lineage]
    #: ``Item.id`` → lineage number, for every card of every version (an id names one card
    #: key in a version; a card unchanged across versions keeps its id and its lineage).
    ids: dict[str, int] = field(default_factory=dict)

    def by_number(self, number: int) -> Lineage:
        return self.lineages[number - 1]


# --------------------------------------------------------------------------- building


def _lane_name(label: str) -> str:
    return label.rsplit(" / ", 1)[-1]


def _not_in(items: list[Item], ids: set[int]) -> list[Item]:
    """The cards of ``items`` whose ``id()`` is not in ``ids``, in order: all in C, no Python
    step per card (a long history compares every card of every version this way)."""
    return list(compress(items, map(not_, map(ids.__contains__, map(id, items)))))


def _orgs_text(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


class _Builder:
    def __init__(self, versions: Sequence[Version]) -> None:
        self.versions = versions
        self.lineages: list[Lineage] = []
        # Lineages ended by a plain deletion, by normalised title, for a later re-addition.
        self.gone: dict[str, list[int]] = {}
        self.ids: dict[str, int] = {}
        self._last_order: tuple[Any, PeriodOrder] | None = None
        self._last_ids: tuple[list[Item], dict[int, int]] | None = None

    def _step(
        self,
        k: int,
        item: Item,
        roadmap: Roadmap,
        events: list[str],
        texts: list[str],
        slip: int = 0,
    ) -> Step:
        v = self.versions[k]
        period = roadmap.period(item.period)
        return Step(
            index=k,
            version=v.version,
            date=v.date,
            title=item.title,
            period=item.period,
            short=period.short if period is not None else item.period,
            lane=item.lane,
            stage=item.stage,
            events=tuple(sorted(dict.fromkeys(events), key=_EVENT_RANK.__getitem__)),
            slip=slip,
            text=", ".join(texts),
        )

    def _start(self, k: int, item: Item, roadmap: Roadmap, replaces: Lineage | None) -> Lineage:
        lin = Lineage(number=len(self.lineages) + 1)
        self.lineages.append(lin)
        short = self._short(item, roadmap)
        events, texts = ["added"], [f"added in {short}"]
        if replaces is not None:
            events.append("replaces")
            texts.append(f"replacing “{replaces.title}”")
            lin.replaces = replaces.number
        lin.steps.append(self._step(k, item, roadmap, events, texts))
        lin.present.append([k, -1])
        self._seen(lin, item, roadmap)
        return lin

    @staticmethod
    def _short(item: Item, roadmap: Roadmap) -> str:
        period = roadmap.period(item.period)
        return period.short if period is not None else item.period

    def _seen(self, lin: Lineage, item: Item, roadmap: Roadmap) -> None:
        lin.last = item
        lin.orgs = org_names(item, roadmap)
        self.ids[item.id] = lin.number

    def _end(self, k: int, lin: Lineage, events: list[str], texts: list[str]) -> None:
        assert lin.last is not None
        old = self.versions[k - 1].roadmap
        lin.steps.append(self._step(k, lin.last, old, events, texts))
        lin.present[-1][1] = k

    def first(self, roadmap: Roadmap) -> dict[int, Lineage]:
        return {id(item): self._start(0, item, roadmap, None) for item in roadmap.items}

    def next(self, k: int, current: dict[int, Lineage]) -> dict[int, Lineage]:
        """Carry ``current`` (id of a card of version k-1 → its lineage) on to version k.

        Cards that are the very same object in both versions (``Store.roadmaps`` shares
        unchanged cards) keep their entry as they are; only the others are matched: the first
        thing the matcher does is pair identical cards of one cell anyway. Every version stays
        alive while lineages are built, so an ``id`` never names two cards.
        """
        old, new = self.versions[k - 1].roadmap, self.versions[k].roadmap
        left, came = self._unshared(old.items, new.items)
        if len(left) < len(old.items):  # shared cards: match only the rest
            if not left and not came:
                return current
            order = self._order(old, new)
            matching = match_items(left, came, order)
            nxt = current
        elif old.items == new.items:  # equal cards, position for position
            return {id(n): current[id(o)] for o, n in zip(old.items, new.items, strict=True)}
        else:
            left, came = old.items, new.items
            order = self._order(old, new)
            matching = match_roadmaps(old, new, order)
            nxt = {}
        changes = classify(matching, old, new, order)
        by_new: dict[int, Change] = {}
        replaced_old: dict[int, Change] = {}
        for c in changes:
            if c.new is not None:
                by_new[id(c.new)] = c
            if c.category == "Replaced" and c.old is not None:
                replaced_old[id(c.old)] = c
        paired = {id(n): current[id(o)] for o, n, _ in matching.pairs}
        replaced = {key: current[key] for key in replaced_old}
        # Deletions and replacements first, so a card re-added in this very version can find
        # a lineage that ends here.
        for o in matching.deleted:
            lin = current[id(o)]
            rc = replaced_old.get(id(o))
            if rc is not None:
                assert rc.new is not None
                self._end(k, lin, ["replaced"], [f"replaced by “{rc.new.title}”"])
            else:
                self._end(k, lin, ["deleted"], [f"deleted from {self._short(o, old)}"])
                self.gone.setdefault(normalize_title(o.title), []).append(lin.number)
        for o in left:
            nxt.pop(id(o), None)
        successors: list[tuple[Lineage, Lineage]] = []
        for n in came:
            key = id(n)
            change = by_new.get(key)
            if key in paired:
                lin = paired[key]
                if change is not None:
                    self._changed(k, lin, change, order, new)
                    self._seen(lin, n, new)
                else:
                    lin.last = n
                    self.ids[n.id] = lin.number
            elif change is not None and change.category == "Replaced":
                assert change.old is not None
                before = replaced[id(change.old)]
                lin = self._start(k, n, new, before)
                successors.append((before, lin))
            else:
                lin = self._readded(k, n, new) or self._start(k, n, new, None)
            nxt[key] = lin
        for before, after in successors:
            before.replaced_by = after.number
        return nxt

    def _unshared(self, old: list[Item], new: list[Item]) -> tuple[list[Item], list[Item]]:
        """The cards of ``old`` that are not in ``new`` (by identity), and those of ``new``
        not in ``old``, each in order. Compared as sets of ``id()`` kept from one version to
        the next (each list's ids are made once): no Python step per card, and only the few
        cards that differ are looked at; a list holding one object twice is compared card by
        card."""
        olds, news = self._ids(old), self._ids(new)
        if len(olds) < len(old) or len(news) < len(new):
            return _not_in(old, set(news)), _not_in(new, set(olds))
        left = sorted(map(olds.__getitem__, olds.keys() - news.keys()))
        came = sorted(map(news.__getitem__, news.keys() - olds.keys()))
        return [old[n] for n in left], [new[n] for n in came]

    def _ids(self, items: list[Item]) -> dict[int, int]:
        """``id()`` of each card of ``items`` → its position; the last list's is kept (it is
        the old side of the next version)."""
        last = self._last_ids
        if last is not None and last[0] is items:
            return last[1]
        ids = dict(zip(map(id, items), range(len(items)), strict=True))
        self._last_ids = (items, ids)
        return ids

    def _order(self, old: Roadmap, new: Roadmap) -> PeriodOrder:
        """The merged period order of two versions; reused while the periods stay the same."""
        key = (tuple(old.periods), tuple(new.periods))
        if self._last_order is None or self._last_order[0] != key:
            self._last_order = (key, PeriodOrder(old, new))
        return self._last_order[1]

    def _readded(self, k: int, item: Item, roadmap: Roadmap) -> Lineage | None:
        """The lineage a re-added card continues: the latest deleted one with its title."""
        numbers = self.gone.get(normalize_title(item.title))
        if not numbers:
            return None
        lin = self.lineages[numbers.pop() - 1]
        short = self._short(item, roadmap)
        gap_from = self.versions[lin.present[-1][1]].date
        lin.steps.append(
            self._step(k, item, roadmap, ["readded"], [f"re-added in {short} (deleted {gap_from})"])
        )
        lin.present.append([k, -1])
        self._seen(lin, item, roadmap)
        return lin

    def _changed(self, k: int, lin: Lineage, c: Change, order: PeriodOrder, new: Roadmap) -> None:
        assert c.old is not None and c.new is not None and c.from_ and c.to
        o, n = c.old, c.new
        events: list[str] = []
        texts: list[str] = []
        slip = 0
        if "deferred" in c.aspects or "moved_up" in c.aspects:
            slip = order.rank(n.period, "new") - order.rank(o.period, "old")
            what = "deferred" if slip > 0 else "moved up"
            events.append("deferred" if slip > 0 else "moved_up")
            texts.append(f"{what} {c.from_.short} → {c.to.short}")
        if o.title != n.title:
            events.append("renamed")
            texts.append(f"renamed from “{o.title}”")
        if o.stage != n.stage:
            events.append("stage")
            texts.append(f"stage {o.stage or 'none'} → {n.stage or 'none'}")
        if o.lane != n.lane:
            events.append("lane")
            word = lane_word(None, new, o.lane, n.lane)  # a row table's "team"
            texts.append(f"{word} {_lane_name(o.lane)} → {_lane_name(n.lane)}")
        if "orgs" in c.aspects:
            for f in c.fields:
                if f.field == "orgs":
                    events.append("orgs")
                    texts.append(f"organisations {_orgs_text(f.old)} → {_orgs_text(f.new)}")
        if not events:
            events.append("changed")
            texts.append("struck through" if n.struck and not o.struck else "changed")
        lin.steps.append(self._step(k, n, new, events, texts, slip))


def build_lineages(versions: Iterable[Version]) -> Lineages:
    """Every card's lineage across ``versions`` (in the store's order, oldest first).

    ``versions`` may be lazy (``Version.of(s, r) for s, r in zip(snaps, store.roadmaps(snaps))``):
    it is read with the collector paused too. A long history is tens of thousands of acyclic
    objects that all stay alive; collecting while they are read re-scanned them all several
    times, a quarter of ``wikisync stats``."""
    with paused_gc():
        versions = list(versions)
        builder = _Builder(versions)
        if versions:
            current = builder.first(versions[0].roadmap)
            for k in range(1, len(versions)):
                current = builder.next(k, current)
    return Lineages(versions=versions, lineages=builder.lineages, ids=builder.ids)


# --------------------------------------------------------------------------- finding


def _words(text: str) -> list[str]:
    return normalize_title(text).split()


def matches(lin: Lineage, query: str) -> bool:
    """Does every word of ``query`` start a word of one of the card's titles (any case)?"""
    want = _words(query)
    if not want:
        return False
    for title in lin.titles:
        have = _words(title)
        if all(any(h.startswith(w) for h in have) for w in want):
            return True
    return False


def find_cards(lineages: Lineages, query: str, page: str = "") -> list[Lineage]:
    """The lineages whose titles (any of them) match ``query``; none is a WikisyncError that
    suggests the closest titles."""
    found = [lin for lin in lineages.lineages if matches(lin, query)]
    if found:
        return found
    from rapidfuzz import fuzz, process

    titles = list(dict.fromkeys(t for lin in lineages.lineages for t in lin.titles))
    best = process.extract(query, titles, scorer=fuzz.WRatio, limit=3)
    close = sorted(best, key=lambda b: (-b[1], b[0]))
    hint = ", ".join(f"“{printable(t)}”" for t, _score, _i in close)
    where = f" in {page}" if page else ""
    msg = f"no card matches {printable(query)!r}{where}"
    raise WikisyncError(f"{msg}; closest: {hint}" if hint else msg)


# --------------------------------------------------------------------------- the log


def printable(text: str) -> str:
    """Text safe for a terminal: control and format characters become ``\\xNN`` / ``\\uNNNN``."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == " " or unicodedata.category(ch)[0] not in "CZ" or ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def days_between(a: str, b: str) -> int:
    """Whole days from date ``a`` to date ``b`` (YYYY-MM-DD…)."""
    return (dt.date.fromisoformat(b[:10]) - dt.date.fromisoformat(a[:10])).days


def render_log(lineages: Lineages, found: Sequence[Lineage]) -> str:
    """The history of each lineage in ``found``: one line per version it appeared or changed
    in (date, version, period, lane, stage, what happened), oldest first."""
    blocks: list[str] = []
    for lin in found:
        head = f"“{printable(lin.title)}”"
        if len(lin.titles) > 1:
            head += " (was " + ", ".join(f"“{printable(t)}”" for t in lin.titles[:-1]) + ")"
        links = []
        if lin.replaces is not None:
            links.append(f"replaces “{printable(lineages.by_number(lin.replaces).title)}”")
        if lin.replaced_by is not None:
            links.append(f"replaced by “{printable(lineages.by_number(lin.replaced_by).title)}”")
        if links:
            head += "; " + "; ".join(links)
        lane_head = lane_header(lineages.versions[-1].roadmap if lineages.versions else None)
        rows: list[tuple[str, ...]] = [("date", "version", "period", lane_head, "stage", "what")]
        for s in lin.steps:
            rows.append(
                (
                    s.date,
                    f"v{s.version}" if s.version is not None else "-",
                    s.short,
                    _lane_name(s.lane),
                    s.stage or "-",
                    s.text,
                )
            )
        rows = [tuple(printable(c) for c in row) for row in rows]
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = [head]
        for r in rows:
            lines.append(
                "  "
                + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True))
                + "  "
                + r[5]
            )
        blocks.append("\n".join(line.rstrip() for line in lines))
    return "\n\n".join(blocks) + "\n"
