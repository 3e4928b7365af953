"""How reliable is this roadmap: per-card slippage numbers and a summary. Pure: no I/O.

``compute_stats`` turns lineages (``wikisync.lineage``) into numbers a roadmap owner asks for
at a quarterly review: which cards keep slipping, by how many period rows, since when; which
lanes and organisations deliver when they said. ``render_stats`` writes them as a table, JSON
(``wikisync.stats/1``, docs/schemas.md), CSV or a self-contained SVG chart.

Counting rules (the same in every format):

- A deferral is a step that moved the card to a later period row, a move up one that moved it
  to an earlier row. ``periods_slipped`` adds, over the deferrals, how many rows later the card
  went on the two versions' merged period order, Backlog counting as the last row; moves up
  subtract nothing.
- ``--since DATE`` counts only what happened in versions dated on or after DATE (deferrals,
  moves, stage changes, additions, deletions, days on the roadmap); cards gone before DATE are
  left out; each card's ``history`` still shows its whole journey.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wikisync.errors import WikisyncError
from wikisync.lineage import Lineage, Lineages, Step, days_between, printable
from wikisync.render.jsonout import dumps
from wikisync.render.text import lane_header
from wikisync.safe import csv_cell

SCHEMA_STATS = "wikisync.stats/1"
STATS_FORMATS: tuple[str, ...] = ("table", "json", "csv", "svg")
#: How many cards the summary and the chart call "the most deferred".
TOP = 10
NO_ORG = "(none)"

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "renamed_from",
    "first_seen",
    "first_period",
    "period",
    "removed",
    "deferrals",
    "moved_up",
    "periods_slipped",
    "days_on_roadmap",
    "stage_changes",
    "lane",
    "organisations",
    "stage",
)


@dataclass(slots=True)
class CardStats:
    """One card's numbers (within the window) and its whole journey."""

    lineage: Lineage
    id: str  # the lineage's stable slug: an HTML anchor for the report
    title: str
    renamed_from: list[str]
    first_seen: str
    first_period: str
    first_short: str
    period: str | None
    short: str | None
    removed: str | None
    deferrals: int
    moved_up: int
    periods_slipped: int
    days_on_roadmap: int
    stage_changes: int
    lane: str
    organisations: tuple[str, ...]
    stage: str | None
    stages: tuple[str, ...]
    replaces: tuple[str, str] | None = None  # (id, title)
    replaced_by: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        def link(x: tuple[str, str] | None) -> dict[str, str] | None:
            return {"id": x[0], "title": x[1]} if x else None

        return {
            "id": self.id,
            "title": self.title,
            "renamed_from": self.renamed_from,
            "first_seen": self.first_seen,
            "first_period": self.first_period,
            "period": self.period,
            "removed": self.removed,
            "deferrals": self.deferrals,
            "moved_up": self.moved_up,
            "periods_slipped": self.periods_slipped,
            "days_on_roadmap": self.days_on_roadmap,
            "stage_changes": self.stage_changes,
            "lane": self.lane,
            "organisations": list(self.organisations),
            "stage": self.stage,
            "stages": list(self.stages),
            "replaces": link(self.replaces),
            "replaced_by": link(self.replaced_by),
            "history": [s.to_json() for s in self.lineage.steps],
        }


@dataclass(frozen=True, slots=True)
class Group:
    """Cards of one lane or organisation: how many, how many ever deferred, mean slip."""

    name: str
    cards: int
    deferred: int
    periods_slipped: int

    @property
    def share_deferred(self) -> float:
        return round(self.deferred / self.cards, 3) if self.cards else 0.0

    @property
    def mean_periods_slipped(self) -> float:
        return round(self.periods_slipped / self.cards, 3) if self.cards else 0.0

    def to_json(self, key: str) -> dict[str, Any]:
        return {
            key: self.name,
            "cards": self.cards,
            "deferred": self.deferred,
            "share_deferred": self.share_deferred,
            "periods_slipped": self.periods_slipped,
            "mean_periods_slipped": self.mean_periods_slipped,
        }


@dataclass(frozen=True, slots=True)
class Point:
    """One version on the slippage timeline."""

    version: int | None
    date: str
    cards: int  # on the page in this version
    deferred: int  # cards deferred in this version
    moved_up: int
    added: int
    deleted: int
    periods_slipped: int
    cumulative_periods_slipped: int

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "date": self.date,
            "cards": self.cards,
            "deferred": self.deferred,
            "moved_up": self.moved_up,
            "added": self.added,
            "deleted": self.deleted,
            "periods_slipped": self.periods_slipped,
            "cumulative_periods_slipped": self.cumulative_periods_slipped,
        }


@dataclass(slots=True)
class Stats:
    """Everything ``wikisync stats`` reports about one page."""

    page: str
    since: str | None
    versions: int
    first: tuple[int | None, str]  # (version, date) of the first and last stored version
    last: tuple[int | None, str]
    cards: list[CardStats]  # the most deferred first
    at_start: int
    added: int
    readded: int
    deleted: int
    on_roadmap: int
    lanes: list[Group]
    organisations: list[Group]
    stages: list[tuple[str, int]]
    timeline: list[Point] = field(default_factory=list)
    version_dates: list[str] = field(default_factory=list)  # every stored version, by index
    lane_word: str = "lane"  # the page's word for its lanes in the table ("team"); not in JSON

    @property
    def deferred(self) -> list[CardStats]:
        return [c for c in self.cards if c.deferrals]

    @property
    def moved_up(self) -> int:
        return sum(1 for c in self.cards if c.moved_up)

    @property
    def periods_slipped(self) -> int:
        return sum(c.periods_slipped for c in self.cards)

    def to_json(self) -> dict[str, Any]:
        def ref(v: tuple[int | None, str]) -> dict[str, Any]:
            return {"version": v[0], "date": v[1]}

        return {
            "schema": SCHEMA_STATS,
            "page": self.page,
            "since": self.since,
            "versions": {"count": self.versions, "first": ref(self.first), "last": ref(self.last)},
            "summary": {
                "cards": len(self.cards),
                "at_start": self.at_start,
                "added": self.added,
                "readded": self.readded,
                "deleted": self.deleted,
                "on_roadmap": self.on_roadmap,
                "deferred": len(self.deferred),
                "moved_up": self.moved_up,
                "periods_slipped": self.periods_slipped,
                "most_deferred": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "deferrals": c.deferrals,
                        "periods_slipped": c.periods_slipped,
                    }
                    for c in self.deferred[:TOP]
                ],
                "lanes": [g.to_json("lane") for g in self.lanes],
                "organisations": [g.to_json("organisation") for g in self.organisations],
                "stages": [{"stage": s, "cards": n} for s, n in self.stages],
            },
            "timeline": [p.to_json() for p in self.timeline],
            "cards": [c.to_json() for c in self.cards],
        }


# --------------------------------------------------------------------------- computing


def _check_date(since: str | None) -> str | None:
    if since is None:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(since).isoformat()
    except ValueError:
        raise WikisyncError(f"--since: not an ISO date (YYYY-MM-DD): {since!r}") from None


def most_deferred_key(c: CardStats) -> tuple[Any, ...]:
    """The order every format lists cards in: most deferrals, then most periods slipped,
    then the earliest seen, then order of first appearance (period, lane, position)."""
    return (-c.deferrals, -c.periods_slipped, c.first_seen, c.lineage.number)


def _card(lineages: Lineages, lin: Lineage, since: str) -> CardStats:
    versions = lineages.versions
    steps = [s for s in lin.steps if s.date >= since]
    last_date = versions[-1].date
    days = 0
    for a, b in lin.present:
        start = max(versions[a].date, since)
        end = versions[b].date if b >= 0 else last_date
        if end > start:
            days += days_between(start, end)
    last = lin.last
    assert last is not None
    alive = lin.alive
    last_roadmap = versions[-1].roadmap
    now = last_roadmap.period(last.period) if alive else None
    stages = tuple(dict.fromkeys(s.stage for s in lin.steps if s.stage))

    def link(number: int | None) -> tuple[str, str] | None:
        if number is None:
            return None
        other = lineages.by_number(number)
        return other.slug, other.title

    removed = None if alive else lin.steps[-1].date
    return CardStats(
        lineage=lin,
        id=lin.slug,
        title=lin.title,
        renamed_from=lin.titles[:-1],
        first_seen=lin.first.date,
        first_period=lin.first.period,
        first_short=lin.first.short,
        period=last.period if alive else None,
        short=(now.short if now is not None else last.period) if alive else None,
        removed=removed,
        deferrals=sum(1 for s in steps if "deferred" in s.events),
        moved_up=sum(1 for s in steps if "moved_up" in s.events),
        periods_slipped=sum(s.slip for s in steps if "deferred" in s.events),
        days_on_roadmap=days,
        stage_changes=sum(1 for s in steps if "stage" in s.events),
        lane=last.lane,
        organisations=lin.orgs,
        stage=last.stage,
        stages=stages,
        replaces=link(lin.replaces),
        replaced_by=link(lin.replaced_by),
    )


def _groups(
    cards: Sequence[CardStats], keys: dict[str, list[str]], order: list[str]
) -> list[Group]:
    tally: dict[str, list[int]] = {}
    for c in cards:
        for name in keys[c.id]:
            t = tally.setdefault(name, [0, 0, 0])
            t[0] += 1
            t[1] += 1 if c.deferrals else 0
            t[2] += c.periods_slipped
    rank = {name: n for n, name in enumerate(order)}
    names = sorted(tally, key=lambda n: (rank.get(n, len(rank)), n == NO_ORG, n))
    return [Group(n, *tally[n]) for n in names]


def _in_window(step: Step, since: str) -> bool:
    return step.index > 0 and step.date >= since


def compute_stats(lineages: Lineages, page: str = "", since: str | None = None) -> Stats:
    """The numbers of every card and the summary, within versions dated on or after ``since``."""
    since = _check_date(since)
    versions = lineages.versions
    if not versions:
        raise WikisyncError(f"no stored versions of page {page!r}")
    window = since or ""
    if since is not None and since > versions[-1].date:
        raise WikisyncError(
            f"--since {since} is after the latest stored version ({versions[-1].date})"
        )
    # The version in force when the window opens: the last one dated before it.
    base = 0
    for k, v in enumerate(versions):
        if v.date < window:
            base = k
    kept = [
        lin
        for lin in lineages.lineages
        if lin.alive or lin.steps[-1].date >= window or lin.steps[-1].index > base
    ]
    cards = sorted((_card(lineages, lin, window) for lin in kept), key=most_deferred_key)

    def in_base(lin: Lineage) -> bool:
        return any(a <= base and (b < 0 or b > base) for a, b in lin.present)

    def counted(event: str) -> int:
        return sum(
            1 for c in cards for s in c.lineage.steps if event in s.events and _in_window(s, window)
        )

    last = versions[-1].roadmap
    lane_order = [lane.label for lane in last.lanes]
    org_order = [last.legend[k] for k in last.legend] if last.legend else []
    lanes = _groups(cards, {c.id: [c.lane] for c in cards}, lane_order)
    orgs = _groups(cards, {c.id: list(c.organisations) or [NO_ORG] for c in cards}, org_order)
    stage_count: dict[str, int] = {}
    for c in cards:
        for st in c.stages:
            stage_count[st] = stage_count.get(st, 0) + 1
    stages = sorted(stage_count.items(), key=lambda kv: (-kv[1], kv[0]))
    return Stats(
        page=page,
        since=since,
        versions=len(versions),
        first=(versions[0].version, versions[0].date),
        last=(versions[-1].version, versions[-1].date),
        cards=cards,
        at_start=sum(1 for c in cards if in_base(c.lineage)),
        added=counted("added"),
        readded=counted("readded"),
        deleted=counted("deleted") + counted("replaced"),
        on_roadmap=sum(1 for c in cards if c.lineage.alive),
        lanes=lanes,
        organisations=orgs,
        stages=stages,
        timeline=_timeline(lineages, cards, window),
        version_dates=[v.date for v in versions],
        lane_word=lane_header(last),
    )


def _timeline(lineages: Lineages, cards: Sequence[CardStats], since: str) -> list[Point]:
    versions = lineages.versions
    n = len(versions)
    deferred, moved, added, deleted, slipped = ([0] * n for _ in range(5))
    for c in cards:
        for s in c.lineage.steps:
            k = s.index
            if "deferred" in s.events:
                deferred[k] += 1
                slipped[k] += s.slip
            if "moved_up" in s.events:
                moved[k] += 1
            if k > 0 and ("added" in s.events or "readded" in s.events):
                added[k] += 1
            if "deleted" in s.events or "replaced" in s.events:
                deleted[k] += 1
    points: list[Point] = []
    total = 0
    for k, v in enumerate(versions):
        if v.date < since:
            continue
        total += slipped[k]
        points.append(
            Point(
                version=v.version,
                date=v.date,
                cards=len(v.roadmap.items),
                deferred=deferred[k],
                moved_up=moved[k],
                added=added[k],
                deleted=deleted[k],
                periods_slipped=slipped[k],
                cumulative_periods_slipped=total,
            )
        )
    return points


# --------------------------------------------------------------------------- rendering


def render_stats(stats: Stats, fmt: str = "table") -> str:
    """``stats`` as ``table`` (for people), ``json`` (wikisync.stats/1), ``csv`` or ``svg``."""
    if fmt == "table":
        return render_table(stats)
    if fmt == "json":
        return dumps(stats.to_json())
    if fmt == "csv":
        return render_csv(stats)
    if fmt == "svg":
        from wikisync.chart import render_svg

        return render_svg(stats)
    raise WikisyncError(f"unknown stats format {fmt!r}: use one of {', '.join(STATS_FORMATS)}")


def _ver(v: tuple[int | None, str]) -> str:
    return f"v{v[0]} ({v[1]})" if v[0] is not None else v[1]


def _aligned(rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    cells = [[printable(" ".join(c.split())) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]

    def fit(i: int, c: str) -> str:
        return c.rjust(widths[i]) if i in right else c.ljust(widths[i])

    return ["  " + "  ".join(fit(i, c) for i, c in enumerate(r)).rstrip() for r in cells]


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def render_table(stats: Stats) -> str:
    """The readable report: summary lines, then the most deferred cards first, then lanes,
    organisations and stages."""
    deferred = stats.deferred
    head = f"Slippage of {printable(stats.page)}: " if stats.page else "Slippage: "
    head += f"{_ver(stats.first)} to {_ver(stats.last)}, {stats.versions} versions"
    if stats.since:
        head += f"; counting changes since {stats.since}"
    lines = [
        head,
        f"{len(stats.cards)} cards: {stats.at_start} at the start, {stats.added} added, "
        f"{stats.deleted} deleted"
        + (f", {stats.readded} re-added" if stats.readded else "")
        + f"; {stats.on_roadmap} on the roadmap now",
        f"{len(deferred)} deferred at least once ({stats.periods_slipped} periods slipped in "
        f"all), {stats.moved_up} moved up",
        "",
    ]
    rows: list[tuple[str, ...]]
    moved = [c for c in stats.cards if c.deferrals or c.moved_up]
    if moved:
        lines.append("Cards that moved (most deferred first)")
        rows = [("deferred", "slipped", "moved up", "card", "first planned", "now", "days")]
        for c in moved:
            now = c.short if c.short is not None else f"deleted {c.removed}"
            rows.append(
                (
                    str(c.deferrals),
                    str(c.periods_slipped),
                    str(c.moved_up),
                    c.title,
                    f"{c.first_short} ({c.first_seen})",
                    now,
                    str(c.days_on_roadmap),
                )
            )
        lines += _aligned(rows, right=frozenset({0, 1, 2, 6}))
        lines.append(f"  ({len(stats.cards) - len(moved)} other cards did not move)")
        lines.append("")
    for title, groups, key in (
        (f"By {stats.lane_word}", stats.lanes, stats.lane_word),
        ("By organisation", stats.organisations, "organisation"),
    ):
        lines.append(title)
        rows = [(key, "cards", "deferred", "share", "mean slipped")]
        for g in groups:
            name = g.name.rsplit(" / ", 1)[-1] if groups is stats.lanes else g.name
            rows.append(
                (
                    name,
                    str(g.cards),
                    str(g.deferred),
                    _pct(g.share_deferred),
                    f"{g.mean_periods_slipped:.2f}",
                )
            )
        lines += _aligned(rows, right=frozenset({1, 2, 3, 4}))
        lines.append("")
    lines.append("Stages reached")
    lines += _aligned([("stage", "cards"), *[(s, str(n)) for s, n in stats.stages]], frozenset({1}))
    return "\n".join(lines) + "\n"


def render_csv(stats: Stats) -> str:
    """One row per card with the scalar fields; lists joined by ``; ``; the most deferred
    first; a cell a spreadsheet would run as a formula starts with ``'`` (``csv_cell``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in stats.cards:
        writer.writerow(
            csv_cell(str(cell))  # page text a spreadsheet must never run as a formula
            for cell in (
                c.id,
                c.title,
                "; ".join(c.renamed_from),
                c.first_seen,
                c.first_period,
                c.period or "",
                c.removed or "",
                c.deferrals,
                c.moved_up,
                c.periods_slipped,
                c.days_on_roadmap,
                c.stage_changes,
                c.lane,
                "; ".join(c.organisations),
                c.stage or "",
            )
        )
    return out.getvalue()
