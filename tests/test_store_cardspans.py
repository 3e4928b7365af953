"""Reading a long history by bytes (``Store.roadmaps``, ``wikisync._cardspans``): every roadmap
read next to the one before it is exactly the roadmap read alone, the same cards are shared as
when every file was decoded whole and compared card by card, and files that are not canonical
(written by hand, indented, corrupt) are read, or refused, as before.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import generate_page, plant_edits, render
from wikisync import jsondoc
from wikisync._cardspans import split
from wikisync.errors import StoreError
from wikisync.lineage import Version, build_lineages
from wikisync.model import Document, Item, Lane, Part, Period, Roadmap, SourceMeta
from wikisync.parse import parse_text
from wikisync.stats import compute_stats, render_stats
from wikisync.store import ItemReuse, Store, _roadmap_bytes

PAGE = "planted"
EDITS = (
    "defer",
    "move_up",
    "to_backlog",
    "add",
    "delete",
    "rename_small",
    "replace",
    "reword",
    "stage",
    "orgs",
    "lane",
    "tag",
    "parts",
    "reorder",
    "move_rename",
)


def _sharing(roadmaps: list[Roadmap]) -> list[list[int | None]]:
    """Per version after the first, per card: the position of the very same object among the
    cards of the version before, or None."""
    out = []
    for old, new in pairwise(roadmaps):
        where = {id(item): k for k, item in enumerate(old.items)}
        out.append([where.get(id(item)) for item in new.items])
    return out


def _by_bytes(files: list[bytes]) -> list[Roadmap]:
    reuse = ItemReuse()
    return [reuse.read(data) for data in files]


def _by_dicts(files: list[bytes]) -> list[Roadmap]:
    """What Store.roadmaps did before reading by bytes: every file decoded whole, each card's
    JSON compared with the card of its id read last."""
    reuse = ItemReuse()
    return [reuse.build(json.loads(data)) for data in files]


def _alone(files: list[bytes]) -> list[Roadmap]:
    return [Roadmap.from_json(json.loads(data)) for data in files]


def _check(files: list[bytes], round_trip: bool = True) -> list[Roadmap]:
    got = _by_bytes(files)
    assert got == _alone(files)
    if round_trip:  # nothing in the files that from_json leaves out
        assert [r.to_json() for r in got] == [json.loads(data) for data in files]
    assert _sharing(got) == _sharing(_by_dicts(files))
    for roadmap in got:  # never one object twice in a version
        assert len({id(i) for i in roadmap.items}) == len(roadmap.items)
    return got


def _planted(versions: int, cards: int, seed: int, edits: int = 3) -> list[Roadmap]:
    page = generate_page(cards, seed=seed, spans=0.0)
    pages = [page]
    for k in range(versions - 1):
        pages.append(plant_edits(pages[-1], edits, seed=seed * 100 + k, kinds=EDITS)[0])
    return [parse_text(render(p)) for p in pages]


# --------------------------------------------------------------------------- canonical files


def test_planted_history_reads_as_each_file_alone_sharing_the_same_cards() -> None:
    roadmaps = _planted(25, 90, seed=5)
    files = [_roadmap_bytes(r) for r in roadmaps]
    got = _check(files)
    shared = sum(k is not None for row in _sharing(got) for k in row)
    assert shared > 20 * 80  # nearly every card is the card of the version before


def test_unchanged_cards_are_not_decoded() -> None:
    roadmaps = _planted(2, 60, seed=8, edits=2)
    first, second = (_roadmap_bytes(r) for r in roadmaps)
    before = split(first, None)
    assert before is not None and len(before.fresh) == len(roadmaps[0].items)
    after = split(second, before.cards)
    assert after is not None
    assert 0 < len(after.fresh) <= 4  # two edits: at most a deletion and an addition each
    assert len(after.known) == len(roadmaps[1].items)


def _roadmap(titles: list[str], period: str = "Q1") -> Roadmap:
    periods = [Period("Q1", "Q1", index=0), Period("Q2", "Q2", index=1)]
    lanes = [Lane("A / B", ("A", "B"))]
    items = [
        Item(
            id=f"{n:012x}",
            title=t,
            period=period if n % 2 else "Q1",
            lane="A / B",
            text=t,
            parts=(Part(t, ("1",)),),
            orgs=("1",),
        )
        for n, t in enumerate(titles)
    ]
    return Roadmap(periods=periods, lanes=lanes, items=items, legend={"1": "edX"})


# Text that looks like the structure the reader walks: brackets, the keys it searches for,
# escapes, quotes, control and non-ASCII characters.
NASTY = [
    '},{"id":"000000000001"',
    '"items":[',
    '],"lanes":',
    "],[",
    "\\",
    '\\"',
    "a]",
    "{",
    "\u2028 line \x07 bell",
    "“quoted” Ünïcode 🙂",
    ",",
    "",
]


def test_card_text_that_looks_like_json_structure() -> None:
    versions = [
        _roadmap(NASTY),
        _roadmap(NASTY[1:]),
        _roadmap(["x", *NASTY[1:]]),
        _roadmap(["x", *NASTY[1:]], period="Q2"),
        _roadmap(list(reversed(NASTY))),
        _roadmap(NASTY + NASTY[:3]),
    ]
    _check([_roadmap_bytes(r) for r in versions])


_titles = st.lists(
    st.sampled_from([*NASTY, "alpha", "beta", "gamma", "delta"]), min_size=0, max_size=12
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(_titles, st.sampled_from(["Q1", "Q2"])), min_size=1, max_size=6))
def test_any_history_reads_as_each_file_alone(steps: list[tuple[list[str], str]]) -> None:
    _check([_roadmap_bytes(_roadmap(titles, period)) for titles, period in steps])


# --------------------------------------------------------------------------- other files


def _indented(data: bytes) -> bytes:
    return (json.dumps(json.loads(data), indent=2, ensure_ascii=False) + "\n").encode()


def _unsorted(data: bytes) -> bytes:
    doc = json.loads(data)
    return (json.dumps(dict(reversed(doc.items())), separators=(",", ":")) + "\n").encode()


def test_files_not_written_canonically_read_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [_roadmap_bytes(r) for r in _planted(12, 50, seed=9)]
    files[3] = _indented(files[3])
    files[4] = _indented(files[4])
    files[7] = _unsorted(files[7])
    files[8] = files[8].rstrip(b"\n")  # no final newline
    files[10] = files[10].replace(b'"items":[', b'"items": [')
    doc = json.loads(files[5])  # one card not canonical, the rest of the file canonical
    card = json.dumps(doc["items"][2], separators=(",", ":"), ensure_ascii=False).encode()
    files[5] = files[5].replace(_canonical(doc["items"][2]), bytes(reversed(card)), 1)
    files[5] = files[5].replace(bytes(reversed(card)), json.dumps(doc["items"][2]).encode())
    assert all(split(files[k], None) is None for k in (3, 4, 5, 7, 8, 10))
    files += [files[-1], _indented(files[-1])]  # the same canonical bytes again, then indented
    files += [files[-1]]  # the same indented bytes again: not decoded again
    got = _check(files)
    assert got[-1] == got[-2]
    assert all(a is b for a, b in zip(got[-1].items, got[-2].items, strict=True))
    decoded: list[bytes] = []
    loads = jsondoc.loads

    def counted(data: bytes) -> Any:
        decoded.append(data)
        return loads(data)

    monkeypatch.setattr(jsondoc, "loads", counted)
    _by_bytes(files)
    assert len(decoded) == 7  # the seven files not canonical, the repeated one once


def _canonical(value: Any) -> bytes:
    return jsondoc.dumps_compact(value).encode()


def test_cards_listed_elsewhere_than_the_top_level_are_not_read_as_cards() -> None:
    """A hand-written file may hold an "items" list inside a history entry (from_json ignores
    such keys): only the top-level one is the cards."""
    roadmaps = _planted(3, 20, seed=3, edits=1)
    files = [_roadmap_bytes(r) for r in roadmaps]
    doc = json.loads(files[1])
    doc["history"] = [{"category": None, "date": "", "items": doc["items"][:2], "text": "x"}]
    doc["items"] = []
    files[1] = (jsondoc.dumps_compact(doc) + "\n").encode()
    assert files[1].count(b'"items":[') == 2
    got = _check(files, round_trip=False)
    assert got[1].items == []


def test_a_card_listed_twice_shares_as_before() -> None:
    roadmaps = _planted(4, 30, seed=4, edits=1)
    files = []
    for k, r in enumerate(roadmaps):
        doc = r.to_json()
        if k >= 1:
            doc["items"].insert(3, doc["items"][0])  # the same card again, canonical bytes
        files.append((jsondoc.dumps_compact(doc) + "\n").encode())
    _check(files)


def test_a_number_where_text_belongs_is_refused_as_before(tmp_path: Path) -> None:
    roadmaps = _planted(3, 30, seed=6, edits=1)
    store = Store(tmp_path / "store")
    for k, r in enumerate(roadmaps):
        meta = SourceMeta(version=k + 1, when=f"2021-01-{k + 1:02d}T12:00:00Z")
        store.put(PAGE, Document({"storage": f"<p>{k}</p>"}, meta), r)
    snaps = store.snapshots(PAGE)
    path = snaps[2].path / "roadmap.json"
    doc = json.loads(path.read_bytes())
    doc["items"][5]["title"] = 5
    path.write_bytes((jsondoc.dumps_compact(doc) + "\n").encode())  # still canonical
    with pytest.raises(StoreError, match=r"corrupt roadmap .*item's title is 5") as alone:
        store.roadmap(snaps[2])
    with pytest.raises(StoreError) as read:
        list(store.roadmaps(snaps))
    assert str(read.value) == str(alone.value)
    path.write_bytes(path.read_bytes()[:-200])  # cut short
    with pytest.raises(StoreError, match="corrupt roadmap"):
        list(store.roadmaps(snaps))
    data = _roadmap_bytes(roadmaps[1])
    card = _canonical(roadmaps[1].items[4].to_json())
    path.write_bytes(data.replace(card + b",", card + b"x", 1))  # no comma after a card
    with pytest.raises(StoreError, match="corrupt roadmap"):
        store.roadmap(snaps[2])
    with pytest.raises(StoreError, match="corrupt roadmap"):
        list(store.roadmaps(snaps))


# --------------------------------------------------------------------------- repeated versions


def _store(root: Path, roadmaps: list[Roadmap], repeat: set[int]) -> Store:
    """Each roadmap stored as a version; those in ``repeat`` stored again right after, as a
    later version whose body differs only outside the roadmap (the same roadmap.json)."""
    store = Store(root)
    number = 0
    for k, r in enumerate(roadmaps):
        for again in (False, True) if k in repeat else (False,):
            number += 1
            hour = 18 if again else 12
            meta = SourceMeta(version=number, when=f"2021-{k + 1:02d}-01T{hour}:00:00Z")
            body = f"<p>version {k}{' (typo fixed)' if again else ''}</p>"
            store.put(PAGE, Document({"storage": body}, meta), r)
    return store


def _stats(store: Store) -> dict[str, Any]:
    snaps = store.snapshots(PAGE)
    lineages = build_lineages(
        Version.of(s, r) for s, r in zip(snaps, store.roadmaps(snaps), strict=True)
    )
    stats = compute_stats(lineages, PAGE)
    doc: dict[str, Any] = json.loads(render_stats(stats, "json"))
    # Numbered differently when versions are repeated: the version numbers, and the anchors
    # (Lineage.slug hashes where in the store's order a card first appeared).
    for card in [*doc["cards"], *doc["summary"]["most_deferred"]]:
        card.pop("id")
        for link in ("replaces", "replaced_by"):
            if card.get(link):
                card[link].pop("id")
        for step in card.get("history", ()):
            step.pop("version")
    return doc


def test_repeated_identical_versions_give_the_same_stats(tmp_path: Path) -> None:
    roadmaps = _planted(10, 40, seed=12)
    plain = _store(tmp_path / "plain", roadmaps, set())
    repeated = _store(tmp_path / "repeated", roadmaps, {0, 2, 3, 7, 9})
    snaps = repeated.snapshots(PAGE)
    assert len(snaps) == 15
    files = [(s.path / "roadmap.json").read_bytes() for s in snaps]
    assert files[0] == files[1] and files[3] == files[4]
    read = list(repeated.roadmaps(snaps))
    assert all(a is b for a, b in zip(read[0].items, read[1].items, strict=True))
    assert read[3].periods == read[4].periods and read[3] == read[4]
    a, b = _stats(plain), _stats(repeated)
    assert a["cards"] == b["cards"]
    assert a["summary"] == b["summary"]
    assert a["cards"] and any(c["deferrals"] for c in a["cards"])
    assert b["versions"]["count"] == a["versions"]["count"] + 5


# --------------------------------------------------------------------------- shared cards


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 7), max_size=10), min_size=2, max_size=5))
def test_lineages_tell_shared_cards_apart_as_by_identity(lists: list[list[int]]) -> None:
    """``_Builder._unshared`` over consecutive versions (its id maps kept from one to the
    next) is the plain definition, lists holding one object twice included."""
    from wikisync.lineage import _Builder

    pool = [Item(id=f"{n:012x}", title=f"card {n}") for n in range(8)]
    versions = [[pool[n] for n in picks] for picks in lists]
    builder = _Builder([])
    for old, new in pairwise(versions):
        left = [o for o in old if all(o is not n for n in new)]
        came = [n for n in new if all(n is not o for o in old)]
        assert builder._unshared(old, new) == (left, came)
