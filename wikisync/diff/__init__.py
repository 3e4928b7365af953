"""The differ: two versions of a roadmap in, classified changes out. Pure: no I/O.

Stages: ``periods`` lays both versions' periods on one order, ``match`` pairs cards across
versions, ``classify`` turns pairs and leftovers into ``Change`` objects in reading order.
"""

from __future__ import annotations

from wikisync._gc import paused_gc
from wikisync.diff.classify import classify
from wikisync.diff.match import Matching, match_items, match_roadmaps, normalize_title
from wikisync.diff.periods import PeriodOrder, map_periods
from wikisync.model import Change, Roadmap

__all__ = [
    "Matching",
    "PeriodOrder",
    "classify",
    "diff_roadmaps",
    "map_periods",
    "match_items",
    "match_roadmaps",
    "normalize_title",
]


def diff_roadmaps(old: Roadmap, new: Roadmap) -> list[Change]:
    """Classified changes from ``old`` to ``new``, in CATEGORIES / period / lane / title order."""
    with paused_gc():
        order = PeriodOrder(old, new)
        return classify(match_roadmaps(old, new, order), old, new, order)
