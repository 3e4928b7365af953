"""JSON written through orjson is byte for byte what the standard library writes.

``wikisync.jsondoc`` writes every big document (``render --format json``, the store's
roadmap.json and meta.json, audit and change documents); the bytes must not depend on which
encoder ran. Each representative document is checked twice: orjson really wrote it (no silent
fallback), and its bytes equal ``json.dumps``'s.
"""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikisync import jsondoc
from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Item, Part, Roadmap, VersionRef
from wikisync.parse import parse_text
from wikisync.render import render_changes, render_roadmap

DATA = Path(__file__).resolve().parent / "data" / "openedx"


def stdlib_pretty(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)


def stdlib_compact(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def real_roadmaps() -> tuple[Roadmap, Roadmap]:
    old = parse_text((DATA / "v6.storage.html").read_bytes())
    new = parse_text((DATA / "v7.storage.html").read_bytes())
    return old, new


REPRESENTATIVE: dict[str, Any] = {
    "empty object": {},
    "empty list": [],
    "empty containers inside": {"a": [], "b": {}, "c": [[], {}], "d": ""},
    "non-ASCII and astral": {"Zürich": "“Koa” → Lilac – ½ 😀", "ключ": ["日本語", "\u2028\u00a0"]},
    "keys in code-point order": {"b": 1, "B": 2, "é": 3, "e": 4, "😀": 5, "\uffff": 6, "": 7},
    "control characters": {"text": 'tab\tnew\nline\r\x00\x1f\x7f "quote" back\\slash </script>'},
    "floats": {"score": [87.5, 100.0, 0.1, 1 / 3, -0.0, 12.25, 68.0, 99.9, 1e-4, 123456.789]},
    "integers and literals": {"n": [0, -1, 2**63 - 1, -(2**63)], "t": True, "f": False, "z": None},
    "nested": {"a": {"b": {"c": [{"d": [1, {"e": "f"}]}]}}},
}


@pytest.mark.parametrize("name", sorted(REPRESENTATIVE))
def test_representative_documents_match_the_standard_library(name: str) -> None:
    doc = REPRESENTATIVE[name]
    assert jsondoc._orjson(doc, indent=True) is not None, "orjson did not write it"
    assert jsondoc.dumps(doc) == stdlib_pretty(doc)
    assert jsondoc.dumps_compact(doc) == stdlib_compact(doc)


def test_real_page_documents_match_the_standard_library() -> None:
    old, new = real_roadmaps()
    changes = diff_roadmaps(old, new)
    cs = ChangeSet(VersionRef("v6", 6), VersionRef("v7", 7), changes, "2021-02-10", old, new)
    roadmap_doc = new.to_json()
    assert jsondoc._orjson(roadmap_doc, indent=True) is not None
    assert jsondoc.dumps(roadmap_doc) == stdlib_pretty(roadmap_doc)
    assert jsondoc.dumps_compact(roadmap_doc) == stdlib_compact(roadmap_doc)
    assert render_roadmap(new, "json") == stdlib_pretty(roadmap_doc) + "\n"
    rendered = render_changes(cs, "json")
    assert rendered == stdlib_pretty(json.loads(rendered)) + "\n"
    assert any(c.score is not None for c in changes), "no float score exercised"


@pytest.mark.parametrize(
    "doc",
    [
        {"wide int": 2**70},
        {1: "int key"},
        {"lone surrogate": "\ud800"},
    ],
    ids=repr,
)
def test_what_orjson_refuses_goes_to_the_standard_library(doc: Any) -> None:
    assert jsondoc.dumps(doc) == stdlib_pretty(doc)
    assert jsondoc.dumps_compact(doc) == stdlib_compact(doc)


def test_exponent_floats_are_the_documented_difference() -> None:
    """docs/schemas.md limits numbers to what both encoders write alike; this is why."""
    assert jsondoc.dumps({"x": 1e16}) == '{\n  "x": 1e16\n}'
    assert stdlib_pretty({"x": 1e16}) == '{\n  "x": 1e+16\n}'


def test_loads_reads_what_dumps_wrote() -> None:
    doc = REPRESENTATIVE["non-ASCII and astral"]
    assert jsondoc.loads(jsondoc.dumps(doc).encode("utf-8")) == doc
    with pytest.raises(ValueError):
        jsondoc.loads(b"{not json")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    # The floats a document may hold (docs/schemas.md): repr writes them without an exponent.
    | st.floats(min_value=1e-4, max_value=1e16, exclude_max=True)
    | st.floats(min_value=-1e16, max_value=-1e-4, exclude_min=True)
    | st.just(0.0)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_document_matches_the_standard_library(doc: Any) -> None:
    try:
        expected = stdlib_pretty(doc).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: json writes them, nobody can store them
        return
    assert jsondoc.dumps(doc).encode("utf-8") == expected
    assert jsondoc.dumps_compact(doc) == stdlib_compact(doc)


def test_loading_a_stored_roadmap_builds_ordinary_frozen_items() -> None:
    """from_json skips the frozen __init__ (speed) but must build the very same objects."""
    _, roadmap = real_roadmaps()
    loaded = Roadmap.from_json(jsondoc.loads(jsondoc.dumps_compact(roadmap.to_json())))
    assert loaded == roadmap
    assert [hash(i) for i in loaded.items] == [hash(i) for i in roadmap.items]
    item = loaded.items[0]
    assert type(item) is Item and all(type(p) is Part for i in loaded.items for p in i.parts)
    assert any(i.parts for i in loaded.items)
    with pytest.raises(FrozenInstanceError):
        item.title = "changed"  # type: ignore[misc]
    assert replace(item, title="x").title == "x"
    assert repr(item).startswith("Item(id=")


def test_from_json_fills_every_field_as_the_constructor_does() -> None:
    """The shell path sets all 18 fields: optional ones given, and defaults for missing keys."""
    full = Item(
        "id1", "T", "Beta", ("t",), ("1", "All"), ("Org",), "Q1", "Q2", "Lane", "text", True,
        (Part("a", ("1",)), Part("b")), ("https://x",), ("Ann",), "2021-01-01", "2021-02-01",
        (("Owner", "Ann"),), "k1",
    )  # fmt: skip
    loaded = Item.from_json(jsondoc.loads(jsondoc.dumps_compact(full.to_json())))
    names = Item.__slots__
    assert [getattr(loaded, n) for n in names] == [getattr(full, n) for n in names]
    assert Item.from_json({"id": "i", "title": "t"}) == Item("i", "t")
    assert Part.from_json({"text": "p"}) == Part("p")


@pytest.mark.parametrize("missing", ["id", "title"])
def test_from_json_names_a_missing_required_key(missing: str) -> None:
    """The defaults path fills only what has a default: a card with no id or title is corrupt,
    and the KeyError names the key (the store turns it into a one-line error)."""
    d = Item("i", "t").to_json()
    del d[missing]
    with pytest.raises(KeyError, match=missing):
        Item.from_json(d)


def test_from_json_reads_optional_keys_whatever_else_is_missing() -> None:
    """A card with a planner key but without the usual lists (a hand-written file) keeps both."""
    loaded = Item.from_json({"id": "i", "title": "t", "key": "bar-1", "start": "2021-01-01"})
    assert loaded == Item("i", "t", start="2021-01-01", key="bar-1")
    assert Item.from_json({**Item("i", "t").to_json(), "struck": 1}).struck is True


def test_from_json_takes_null_lists_as_empty() -> None:
    """``null`` where a list belongs (a hand-edited file) reads as empty, as it always did."""
    d = {**Item("i", "t").to_json(), "parts": None, "tags": None, "links": None}
    assert Item.from_json(d) == Item("i", "t")


def test_a_loaded_single_part_shares_the_cards_orgs_only_when_equal() -> None:
    one = Item("i", "t", orgs=("1",), parts=(Part("t", ("1",)),))
    other = Item("i", "t", orgs=("1",), parts=(Part("t", ("2",)),))
    for item in (one, other, Item("i", "t", parts=(Part("t"),))):
        assert Item.from_json(jsondoc.loads(jsondoc.dumps_compact(item.to_json()))) == item
