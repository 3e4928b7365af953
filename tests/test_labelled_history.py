"""The labelled Open edX history: reconstructed versions must diff into the planted changes.

tests/data/openedx/ holds seven storage bodies rebuilt from the page's hand-written Change History
(see its README.md). expected.json lists every change between consecutive versions, documented by
the maintainers or not; wikisync must find exactly those: nothing missed, nothing invented.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wikisync.model import CATEGORIES, Change, Roadmap

DATA = Path(__file__).parent / "data" / "openedx"
VERSIONS: list[dict[str, Any]] = json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
EXPECTED: list[dict[str, Any]] = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
HISTORY: list[dict[str, Any]] = json.loads((DATA / "history.json").read_text(encoding="utf-8"))
GENERATED = [v["file"] for v in VERSIONS] + ["versions.json", "expected.json", "history.json"]

# (category, title, old_title, from short, to short)
Key = tuple[str, str, str | None, str | None, str | None]


def _pair_id(pair: dict[str, Any]) -> str:
    return f"v{pair['old']}-v{pair['new']}"


def _version(number: int) -> dict[str, Any]:
    return next(v for v in VERSIONS if v["version"] == number)


@functools.cache
def _roadmap(number: int) -> Roadmap:
    from wikisync.parse import parse_text

    body = (DATA / _version(number)["file"]).read_text(encoding="utf-8")
    return parse_text(body, "storage")


def _key(change: Change) -> Key:
    """The comparable part of a change; an old title equal to the new one counts as none."""
    old_title = change.old_title if change.old_title != change.title else None
    return (
        change.category,
        change.title,
        old_title,
        change.from_.short if change.from_ else None,
        change.to.short if change.to else None,
    )


def _label_key(label: dict[str, Any]) -> Key:
    return (label["category"], label["title"], label["old_title"], label["from"], label["to"])


def _sentences(text: str) -> list[str]:
    """Split a hand_written string back into the page's sentences."""
    return [s for s in re.split(r"(?<=\.) (?=[A-Z])", text) if s]


# --------------------------------------------------------------------------- the data itself


def test_build_regenerates_identical_files(tmp_path: Path) -> None:
    script = DATA / "build_versions.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_latest_version_is_the_current_page() -> None:
    latest = DATA / VERSIONS[-1]["file"]
    assert latest.read_bytes() == (DATA / "current.storage.html").read_bytes()
    for v in VERSIONS[:-1]:  # and every older one really is different
        assert (DATA / v["file"]).read_bytes() != latest.read_bytes(), v["file"]


def test_versions_and_pairs_are_consecutive() -> None:
    assert [v["version"] for v in VERSIONS] == list(range(1, len(VERSIONS) + 1))
    whens = [v["when"] for v in VERSIONS]
    assert whens == sorted(whens) and len(set(whens)) == len(whens)
    assert [(p["old"], p["new"]) for p in EXPECTED] == [
        (v["version"], v["version"] + 1) for v in VERSIONS[:-1]
    ]
    for pair in EXPECTED:
        assert pair["date"] == _version(pair["new"])["when"][:10]


@pytest.mark.parametrize("pair", EXPECTED, ids=_pair_id)
def test_labels_are_well_formed(pair: dict[str, Any]) -> None:
    keys = [_label_key(c) for c in pair["changes"]]
    assert len(keys) == len(set(keys)), "duplicate labels"
    for c in pair["changes"]:
        assert c["category"] in CATEGORIES
        assert c["documented"] is (c["hand_written"] is not None)
        assert (c["from"] is None) is (c["category"] == "Added")
        assert (c["to"] is None) is (c["category"] == "Deleted")
        assert c["old_title"] != c["title"]
        if c["category"] in ("Renamed", "Replaced"):
            assert c["old_title"] is not None


@pytest.mark.parametrize("pair", EXPECTED, ids=_pair_id)
def test_labels_cover_the_hand_written_entries(pair: dict[str, Any]) -> None:
    """Every sentence written on the pair's date backs a label, and labels quote nothing else."""
    written = {h["text"] for h in HISTORY if h["date"] == pair["date"]}
    quoted = {
        s for c in pair["changes"] if c["hand_written"] for s in _sentences(c["hand_written"])
    }
    assert quoted == written


# --------------------------------------------------------------------------- parse + diff


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"v{v['version']}")
def test_history_has_the_entries_written_so_far(version: dict[str, Any]) -> None:
    date = version["when"][:10]
    want = [h for h in HISTORY if h["date"] <= date]
    got = [h.to_json() for h in _roadmap(version["version"]).history]
    assert got == want


def _cards(roadmap: Roadmap) -> set[tuple[str, str]]:
    shorts = {p.label: p.short for p in roadmap.periods}
    return {(i.title, shorts.get(i.period, i.period)) for i in roadmap.items}


@pytest.mark.parametrize("pair", EXPECTED, ids=_pair_id)
def test_labelled_cards_exist_where_the_labels_say(pair: dict[str, Any]) -> None:
    """Parser-only check, so a diff failure can be blamed on the right stage."""
    old, new = _cards(_roadmap(pair["old"])), _cards(_roadmap(pair["new"]))
    for c in pair["changes"]:
        if c["to"] is not None:
            assert (c["title"], c["to"]) in new, c
        if c["from"] is not None:
            before = c["old_title"] or c["title"]
            assert (before, c["from"]) in old, c


@pytest.mark.parametrize("pair", EXPECTED, ids=_pair_id)
def test_diff_finds_exactly_the_labelled_changes(pair: dict[str, Any]) -> None:
    from wikisync.diff import diff_roadmaps

    changes = diff_roadmaps(_roadmap(pair["old"]), _roadmap(pair["new"]))
    got = [_key(c) for c in changes]
    want = {_label_key(c) for c in pair["changes"]}
    missing = sorted(want - set(got), key=repr)
    invented = sorted(set(got) - want, key=repr)
    assert not missing and not invented, f"missing: {missing}\ninvented: {invented}"
    assert len(got) == len(want), "the same change reported twice"
