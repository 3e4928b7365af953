"""The differ: two versions of a roadmap in, classified changes out. Pure: no I/O.

Stages: ``periods`` lays both versions' periods on one order, ``match`` pairs cards across
versions, ``classify`` turns pairs and leftovers into ``Change`` objects in reading order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from wikisync._gc import paused_gc
from wikisync.diff.classify import classify
from wikisync.diff.match import Matching, match_items, match_roadmaps, normalize_title
from wikisync.diff.periods import PeriodOrder, map_periods
from wikisync.model import Change, ChangeSet, Roadmap, VersionRef

__all__ = [
    "Matching",
    "PeriodOrder",
    "changesets",
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


if TYPE_CHECKING:  # a Protocol class costs every command's start; type checkers alone need it

    class Version(Protocol):
        """A stored version as a side of a diff (``store.Snapshot``)."""

        def version_ref(self) -> VersionRef: ...


V = TypeVar("V", bound="Version")


def changesets(
    versions: Sequence[V], roadmaps: Iterable[Roadmap], *, undated: str = ""
) -> Iterator[tuple[V, V, ChangeSet]]:
    """Each consecutive pair of ``versions`` (oldest first, ``roadmaps`` their roadmaps in the
    same order) with the ChangeSet between them, dated by the newer version's day, else
    ``undated``. A generator: given ``Store.roadmaps``, a long history holds two roadmaps at a
    time, and a card unchanged since the version before is the same object on both sides."""
    pairs = zip(versions, roadmaps, strict=True)
    try:
        old, old_rm = next(pairs)
    except StopIteration:
        return
    old_ref = old.version_ref()
    for new, new_rm in pairs:
        new_ref = new.version_ref()
        changes = diff_roadmaps(old_rm, new_rm)
        date = (new_ref.when or "")[:10] or undated
        yield old, new, ChangeSet(old_ref, new_ref, changes, date, old_rm, new_rm)
        old, old_rm, old_ref = new, new_rm, new_ref
