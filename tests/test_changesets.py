"""The walk over consecutive stored versions that ``history``, the report and the stats
benchmark share (``wikisync.diff.changesets``): pairs in order, dated by the newer version."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from wikisync.diff import changesets, diff_roadmaps
from wikisync.model import Item, Roadmap, VersionRef


@dataclass(frozen=True)
class _Version:
    """A stand-in for store.Snapshot: all the walk asks of a version is its VersionRef."""

    name: str
    when: str | None

    def version_ref(self) -> VersionRef:
        return VersionRef(ref=self.name, when=self.when)


def _roadmap(*titles: str) -> Roadmap:
    return Roadmap(items=[Item(id=t, title=t, period="Q1", lane="L") for t in titles])


def test_each_consecutive_pair_oldest_first_dated_by_the_newer_version() -> None:
    versions = [_Version("v1", "2021-01-05T10:00:00Z"), _Version("v2", None)]
    versions.append(_Version("v3", "2021-03-01T00:00:00Z"))
    roadmaps = [_roadmap("a"), _roadmap("a", "b"), _roadmap("b")]
    walked = list(changesets(versions, iter(roadmaps), undated="2026-12-05"))
    assert [(old.name, new.name) for old, new, _cs in walked] == [("v1", "v2"), ("v2", "v3")]
    assert [cs.date for _o, _n, cs in walked] == ["2026-12-05", "2021-03-01"]
    for (_old, _new, cs), (a, b) in zip(walked, itertools.pairwise(roadmaps), strict=True):
        assert cs.old_roadmap is a and cs.new_roadmap is b
        assert cs.changes == diff_roadmaps(a, b)
    assert [c.category for c in walked[0][2].changes] == ["Added"]
    assert [c.category for c in walked[1][2].changes] == ["Deleted"]


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_versions_make_no_pair(count: int) -> None:
    versions = [_Version(f"v{i}", None) for i in range(count)]
    assert list(changesets(versions, [_roadmap("a")] * count)) == []


def test_roadmaps_must_match_the_versions() -> None:
    with pytest.raises(ValueError):
        list(changesets([_Version("v1", None), _Version("v2", None)], [_roadmap("a")]))


def test_undated_defaults_to_no_date() -> None:
    versions = [_Version("v1", None), _Version("v2", "")]
    ((_o, _n, cs),) = changesets(versions, [_roadmap("a"), _roadmap("a")])
    assert cs.date == "" and cs.changes == []
