"""Cross-version order of periods (and lanes).

"Deferred" and "Moved Up" are statements about order, and rows come and go between versions: a
quarter is added, an old one removed, a label gains a release name. So both versions' periods
are laid on one merged order: old periods are mapped onto new ones (label, then short name, then
alias), and old periods that vanished keep their place next to their old neighbours, and,
when labels tell the time (``FY21 Q2``, ``2021 H1``), never before a new period that is earlier:
a vanished ``FY21 Q3`` sorts after a new ``FY21 Q2``, so moving a card from it to Q2 is "Moved Up"
whichever way round the two versions are diffed.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

from wikisync._lazy import lazy_re
from wikisync.model import Item, Lane, Period, Roadmap, Where

Side = Literal["old", "new"]


def _norm(text: str) -> str:
    """Compare labels the way a reader does: case, width and spacing do not matter."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_YEAR = lazy_re(r"\b(?:FY\s?'?(\d{4}|\d{2})|((?:19|20)\d{2}))\b", re.IGNORECASE)
_PART = lazy_re(r"\b([QHT])([1-4])\b", re.IGNORECASE)
_MONTHS_PER_PART = {"q": 3, "h": 6, "t": 4}


def chrono(period: Period) -> tuple[int, int] | None:
    """(year, first month) a dated label names: ``FY21 Q2 (Oct-Dec)`` → (2021, 3); else None."""
    if period.backlog:
        return None
    y = _YEAR.search(period.label)
    if y is None:
        return None
    year = int(y.group(1) or y.group(2))
    if year < 100:
        year += 2000
    part = _PART.search(period.label)
    month = 0
    if part is not None:
        month = _MONTHS_PER_PART[part.group(1).lower()] * (int(part.group(2)) - 1)
    return year, month


def _chrono_floor(olds: Sequence[Period], news: Sequence[Period]) -> list[int]:
    """For each old period, the last new position whose label is strictly earlier (-1: none)."""
    dated = sorted((k, j) for j, p in enumerate(news) if (k := chrono(p)) is not None)
    keys = [k for k, _ in dated]
    best: list[int] = []  # best[n]: the last position among the n+1 earliest new periods
    for _, j in dated:
        best.append(max(j, best[-1]) if best else j)
    out: list[int] = []
    for p in olds:
        k = chrono(p)
        n = bisect.bisect_left(keys, k) if k is not None else 0
        out.append(best[n - 1] if n else -1)
    return out


def _merge(
    n_old: int,
    n_new: int,
    mapping: dict[int, int],
    floor: Callable[[int], int] | None = None,
) -> tuple[list[int], list[int]]:
    """Ranks on one merged order: the new order, with unmapped old entries after their old
    predecessor. ``floor(i)`` is the lowest new position an unmapped old entry may follow."""
    keys: list[tuple[int, int, int]] = [(j, 0, 0) for j in range(n_new)]
    old_keys: dict[int, tuple[int, int, int]] = {}
    anchor = -1
    for i in range(n_old):
        if i in mapping:
            anchor = mapping[i]
            continue
        at = anchor if floor is None else max(anchor, floor(i))
        old_keys[i] = (at, 1, i)
    ordered = sorted([*keys, *old_keys.values()])
    position = {k: r for r, k in enumerate(ordered)}
    new_ranks = [position[k] for k in keys]
    old_ranks = [
        new_ranks[mapping[i]] if i in mapping else position[old_keys[i]] for i in range(n_old)
    ]
    return old_ranks, new_ranks


def map_periods(old: Sequence[Period], new: Sequence[Period]) -> dict[str, str]:
    """Old period label → new period label, one-to-one.

    By label first (rows keep their label most of the time), then by short name, then by alias
    (``Koa``). Short-name and alias matches must keep the order of the matches already made, so a
    removed ``FY21 Q2`` is not mistaken for a new ``FY22 Q2`` that happens to be called ``Q2``.
    """
    olds = sorted(old, key=lambda p: p.index)
    news = sorted(new, key=lambda p: p.index)
    pairs: dict[int, int] = {}
    taken: set[int] = set()

    def consistent(i: int, j: int) -> bool:
        return all((i2 < i) == (j2 < j) for i2, j2 in pairs.items())

    def step(keys: Callable[[Period], set[str]], ordered: bool) -> None:
        new_keys = [keys(n) for n in news]
        for i, o in enumerate(olds):
            if i in pairs:
                continue
            mine = keys(o)
            for j, theirs in enumerate(new_keys):
                if j not in taken and mine & theirs and (not ordered or consistent(i, j)):
                    pairs[i] = j
                    taken.add(j)
                    break

    step(lambda p: {_norm(p.label)}, ordered=False)
    step(lambda p: {_norm(p.short), _norm(p.label)}, ordered=True)
    step(lambda p: {_norm(a) for a in (p.label, p.short, *p.aliases) if a}, ordered=True)
    return {olds[i].label: news[j].label for i, j in sorted(pairs.items())}


class PeriodOrder:
    """Ranks of both versions' periods on one merged order (smaller = earlier)."""

    def __init__(self, old: Roadmap, new: Roadmap) -> None:
        self.old = old
        self.new = new
        olds = sorted(old.periods, key=lambda p: p.index)
        news = sorted(new.periods, key=lambda p: p.index)
        self.mapping = map_periods(olds, news)
        new_pos = {p.label: j for j, p in enumerate(news)}
        pos = {olds[i].label: i for i in range(len(olds))}
        mapping = {pos[o]: new_pos[n] for o, n in self.mapping.items()}
        first_backlog = next((j for j, p in enumerate(news) if p.backlog), len(news))
        earlier = _chrono_floor(olds, news)
        # The new position of the next mapped old period: a vanished row never jumps past it.
        ceiling = [len(news)] * len(olds)
        nxt = len(news)
        for i in range(len(olds) - 1, -1, -1):
            ceiling[i] = nxt
            if i in mapping:
                nxt = mapping[i]

        def floor(i: int) -> int:
            # A vanished backlog-like row stays behind every dated row of the new version; a
            # vanished dated row stays behind the new rows its label says are earlier.
            if olds[i].backlog:
                return first_backlog - 1
            return min(earlier[i], ceiling[i] - 1)

        old_ranks, new_ranks = _merge(len(olds), len(news), mapping, floor)
        self.size = len(olds) + len(news) - len(mapping)
        self._periods: dict[Side, dict[str, Period]] = {
            "old": {p.label: p for p in olds},
            "new": {p.label: p for p in news},
        }
        self._ranks: dict[Side, dict[str, int]] = {
            "old": {p.label: r for p, r in zip(olds, old_ranks, strict=True)},
            "new": {p.label: r for p, r in zip(news, new_ranks, strict=True)},
        }
        # Fallbacks for labels an item carries but its roadmap does not list verbatim.
        self._loose: dict[Side, dict[str, int]] = {"old": {}, "new": {}}
        sides: tuple[tuple[Side, list[Period]], ...] = (("old", olds), ("new", news))
        for side, periods in sides:
            for p in reversed(periods):  # the first period wins on a clash
                for name in (p.short, *p.aliases, p.label):
                    self._loose[side][_norm(name)] = self._ranks[side][p.label]

    def rank(self, label: str, side: Side) -> int:
        """Position of a period of ``side`` on the merged order; unknown labels sort last."""
        rank = self._ranks[side].get(label)
        if rank is None:
            rank = self._loose[side].get(_norm(label), self.size)
        return rank

    def period(self, label: str, side: Side) -> Period | None:
        return self._periods[side].get(label)

    def where(self, item: Item, roadmap: Roadmap) -> Where:
        """Where ``item`` sits in ``roadmap`` (one of the two versions), with the short name."""
        if roadmap is self.old:
            period = self._periods["old"].get(item.period)
        elif roadmap is self.new:
            period = self._periods["new"].get(item.period)
        else:
            period = roadmap.period(item.period)
        short = period.short if period is not None else item.period
        return Where(period=item.period, short=short, lane=item.lane, period_end=item.period_end)


def lane_ranks(old: Sequence[Lane], new: Sequence[Lane]) -> tuple[dict[str, int], dict[str, int]]:
    """Ranks of both versions' lanes (by label) on one merged order, for stable output order."""
    new_pos = {lane.label: j for j, lane in enumerate(new)}
    mapping = {i: new_pos[lane.label] for i, lane in enumerate(old) if lane.label in new_pos}
    old_ranks, new_ranks = _merge(len(old), len(new), mapping)
    return (
        {lane.label: r for lane, r in zip(old, old_ranks, strict=True)},
        {lane.label: r for lane, r in zip(new, new_ranks, strict=True)},
    )
