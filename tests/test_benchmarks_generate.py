"""The benchmark generator (synthetic pages, planted edits) and the scorers.

No timing here: these tests pin down that the synthetic pages read back exactly as generated,
that every planted edit is what its truth says, and that precision / recall are counted right.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import Tally, predictions, replace_section, run, uid_map  # noqa: E402
from benchmarks.generate import (  # noqa: E402
    EDIT_KINDS,
    CardSpec,
    Edit,
    Page,
    Style,
    Truth,
    expected_items,
    generate_page,
    page_from_roadmap,
    plant_edits,
    render,
    significant_words,
    words_of,
)
from benchmarks.run import Quality, deepdiff_keys  # noqa: E402
from wikisync.model import Change, Item, Roadmap  # noqa: E402
from wikisync.parse import parse_text  # noqa: E402

REAL = ROOT / "tests" / "data" / "openedx" / "current.storage.html"
STYLES = [
    Style(fmt, orientation, separator)
    for fmt in ("storage", "view")
    for orientation in ("rows", "columns")
    for separator in ("dashes", "list")
]


def _read(roadmap: Roadmap) -> Counter[tuple[object, ...]]:
    return Counter(
        (i.period, i.lane, i.title, i.stage, i.tags, i.orgs, i.period_end) for i in roadmap.items
    )


def _want(page: Page) -> Counter[tuple[object, ...]]:
    return Counter(
        (e.period, e.lane, e.title, e.stage, e.tags, e.orgs, e.period_end)
        for e in expected_items(page)
    )


def _card(page: Page, uid: int | None) -> tuple[tuple[int, int], CardSpec] | None:
    for cell, card in page.cards():
        if card.uid == uid:
            return cell, card
    return None


def _must(page: Page, uid: int | None) -> tuple[tuple[int, int], CardSpec]:
    got = _card(page, uid)
    assert got is not None, f"card {uid} not on the page"
    return got


@pytest.fixture(scope="module")
def page() -> Page:
    return generate_page(400, 11, spans=0.05, multipart=0.08, tags=0.15, lozenge_stages=0.5)


# --------------------------------------------------------------------------- pages


def test_same_seed_same_bytes_other_seed_other_page() -> None:
    a = render(generate_page(300, 5))
    assert a == render(generate_page(300, 5))
    assert a != render(generate_page(300, 6))


@pytest.mark.parametrize("n", [100, 1_000, 5_000])
def test_page_has_the_requested_number_of_cards(n: int) -> None:
    assert generate_page(n, 1).n_cards() == n


def test_page_uses_every_feature_of_the_real_page(page: Page) -> None:
    cards = [c for _, c in page.cards()]
    text = render(page)
    assert page.spans, "no spanning cells"
    assert any(len(c.parts) > 1 for c in cards), "no multi-part cards"
    assert any(c.tags for c in cards), "no tag lozenges"
    assert any(c.lozenge_stage for c in cards), "no stage lozenges"
    assert any(lane.columns == 2 for lane in page.lanes), "no lane spanning two columns"
    assert any(p.release for p in page.periods) and page.periods[-1].backlog
    titles = Counter(c.title for c in cards)
    assert any(n > 1 for n in titles.values()), "no phases of one initiative"
    assert ("&nbsp;" in text and "&lt;Pilot&gt;" in text) or "&lt;Adopt&gt;" in text
    assert 'ac:name="status"' in text and "<p>---------</p>" in text
    assert "rowspan=" in text and 'colspan="2"' in text
    assert "rowspan=" in render(page, Style(orientation="columns"))


@pytest.mark.parametrize("style", STYLES, ids=lambda s: f"{s.fmt}-{s.orientation}-{s.separator}")
def test_wikisync_reads_back_exactly_what_was_generated(page: Page, style: Style) -> None:
    roadmap = parse_text(render(page, style), style.fmt)
    assert roadmap.orientation == style.orientation
    assert [p.label for p in roadmap.periods] == [p.expected_label for p in page.periods]
    assert [lane.label for lane in roadmap.lanes] == [lane.label for lane in page.lanes]
    assert _read(roadmap) == _want(page)
    assert any(i.period_end for i in roadmap.items)


def test_real_page_rerendered_reads_like_the_original() -> None:
    original = parse_text(REAL.read_bytes())
    page = page_from_roadmap(original)
    assert page.n_cards() == len(original.items) == 73
    for style in (Style(), Style("view", "columns")):
        again = parse_text(render(page, style), style.fmt)
        assert _read(again) == _read(original)
        assert [p.label for p in again.periods] == [p.label for p in original.periods]
        assert [p.aliases for p in again.periods] == [p.aliases for p in original.periods]


# --------------------------------------------------------------------------- planted edits


def test_plant_edits_is_deterministic_and_leaves_the_base_alone(page: Page) -> None:
    before = render(page)
    a, edits_a = plant_edits(page, 8, 3)
    b, edits_b = plant_edits(page, 8, 3)
    assert render(a) == render(b) and edits_a == edits_b and len(edits_a) == 8
    assert render(page) == before
    assert render(a) != before


@pytest.mark.parametrize("kind", [k for k in EDIT_KINDS if k != "reorder"])
def test_each_edit_kind_has_the_truth_it_claims(page: Page, kind: str) -> None:
    for seed in range(5):
        new, edits = plant_edits(page, 1, seed, kinds=(kind,))
        assert len(edits) == 1
        edit = edits[0]
        assert edit.kind == kind
        truth = EDIT_KINDS[kind]
        cats = "+".join(sorted(t.category for t in edit.truths))
        if truth == "*":
            assert cats in ("Deferred", "Moved Up")
        else:
            assert cats == "+".join(sorted(str(truth).split("+")))
        for t in edit.truths:
            if t.new is None:  # deleted: gone from the new page
                assert _card(new, t.old) is None
                _must(page, t.old)
                continue
            if t.old is None:  # added: not on the old page
                assert _card(page, t.new) is None
                _must(new, t.new)
                continue
            (p, lane), before = _must(page, t.old)
            (q, lane2), after = _must(new, t.new)
            assert before.uid == after.uid or t.category == "Replaced"
            if t.category == "Deferred":
                assert q > p
            elif t.category == "Moved Up":
                assert q < p
            elif t.category in ("Renamed", "Changed"):
                assert q == p
            if t.category == "Renamed":
                old_t, new_t = before.body, after.body
                assert old_t != new_t and significant_words(old_t) & significant_words(new_t)
            if t.category == "Replaced":
                assert lane == lane2
                shared = words_of(before.title) & words_of(after.title)
                assert len(shared) == 1 and shared <= significant_words(after.title)
            if kind in ("defer", "to_backlog", "move_up", "from_backlog"):
                assert lane2 == lane
            if kind == "to_backlog":
                assert new.periods[q].backlog and not page.periods[p].backlog
            if kind == "from_backlog":
                assert page.periods[p].backlog and not new.periods[q].backlog
        if kind == "reword":
            _, gone = _must(page, edit.truths[0].old)
            _, came = _must(new, edit.truths[1].new)
            assert not words_of(gone.title) & words_of(came.title)


def test_reorder_changes_order_only(page: Page) -> None:
    new, edits = plant_edits(page, 1, 2, kinds=("reorder",))
    assert edits[0].truths == ()
    assert render(new) != render(page)
    assert _want(new) == _want(page)


def test_independent_additions_and_deletions_are_unrelated() -> None:
    """No accidental replacement: what one version adds and drops in a lane share no word,
    except the intended replacement pairs."""
    base = generate_page(150, 4)
    for seed in range(150):
        new, edits = plant_edits(base, 8, seed, kinds=("add", "delete", "reword", "replace"))
        removed: list[tuple[int, int, str]] = []  # (lane, uid, title)
        added: list[tuple[int, int, str]] = []
        pairs = set()
        for e in edits:
            for t in e.truths:
                if t.old is not None:
                    (_, lane), card = _must(base, t.old)
                    removed.append((lane, card.uid, card.title))
                if t.new is not None:
                    (_, lane), card = _must(new, t.new)
                    added.append((lane, card.uid, card.title))
                if t.category == "Replaced":
                    pairs.add((t.old, t.new))
        for lane, new_uid, a in added:
            for lane_r, old_uid, r in removed:
                if lane == lane_r and (old_uid, new_uid) not in pairs:
                    assert not significant_words(a) & significant_words(r), (seed, a, r)


# --------------------------------------------------------------------------- scoring


def _item(title: str, period: str = "Q1") -> Item:
    return Item(id=title, title=title, period=period, lane="L")


def test_uid_map_finds_every_generated_card_and_counts_strangers(page: Page) -> None:
    roadmap = parse_text(render(page))
    uids, unmapped = uid_map(roadmap, page)
    assert unmapped == 0
    assert sorted(uids.values()) == sorted(c.uid for _, c in page.cards())
    roadmap.items.append(_item("Not on the page"))
    assert uid_map(roadmap, page)[1] == 1


def test_tally_counts_precision_recall_and_names_the_misses() -> None:
    a, b, c = _item("A"), _item("B"), _item("C", "Q2")
    moved = Change("Deferred", "A", old=a, new=a)
    replaced = Change("Replaced", "C", old=b, new=c)
    uids_old, uids_new = {id(a): 1, id(b): 2}, {id(a): 1, id(c): 5}
    preds = predictions([moved, replaced], uids_old, uids_new)
    assert [k for k, _ in preds] == [("Deferred", 1, 1), ("Replaced", 2, 5)]
    edits = [
        Edit("defer", "A moved", (Truth("Deferred", 1, 1, "defer"),)),
        Edit("delete", "B deleted", (Truth("Deleted", 2, None, "delete"),)),
        Edit("add", "C added", (Truth("Added", None, 5, "add"),)),
    ]
    tally = Tally()
    tally.add(edits, preds, "test page")
    assert (tally.tp["Deferred"], tally.fn["Deleted"], tally.fn["Added"]) == (1, 1, 1)
    assert tally.fp["Replaced"] == 1 and tally.tp["Replaced"] == 0
    assert tally.precision("Deferred") == 1.0 and tally.recall("Deferred") == 1.0
    assert tally.precision("Replaced") == 0.0 and tally.recall("Deleted") == 0.0
    assert tally.precision("Renamed") is None
    assert tally.kinds_exact == Counter({"defer": 1})
    assert tally.misses == Counter(
        {"delete: truth Deleted, wikisync Replaced": 1, "add: truth Added, wikisync Replaced": 1}
    )
    assert "B deleted" in tally.examples["delete: truth Deleted, wikisync Replaced"]


def test_tally_flags_changes_to_unedited_cards() -> None:
    a = _item("A")
    tally = Tally()
    tally.add([], predictions([Change("Changed", "A", old=a, new=a)], {id(a): 9}, {id(a): 9}), "x")
    assert tally.fp["Changed"] == 1
    assert tally.misses == Counter({"unedited card: wikisync Changed": 1})


def test_small_accuracy_run_scores_every_planted_edit() -> None:
    tally = run(edits=60, seed=3)
    assert tally.edits == 60 and tally.versions >= 60 // 8
    assert tally.unmapped == 0
    assert sum(tally.kinds.values()) == 60
    truths = sum(tally.tp.values()) + sum(tally.fn.values())
    per_kind = {"reorder": 0, "reword": 2}  # a reword is a deletion and an addition
    assert truths == sum(n * per_kind.get(k, 1) for k, n in tally.kinds.items())
    assert run(edits=60, seed=3).tp == tally.tp  # deterministic


def test_deepdiff_answers_are_mapped_to_categories() -> None:
    def d(i: int, title: str, period: str = "Q1", tags: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            "id": i,
            "title": title,
            "stage": None,
            "tags": list(tags),
            "orgs": [],
            "period": period,
            "period_end": None,
            "lane": "L",
        }

    rank = {"Q1": 0, "Q2": 1}
    old = [d(1, "Alpha"), d(2, "Beta", "Q2"), d(3, "Gamma"), d(4, "Delta"), d(5, "Eta")]
    new = [
        d(1, "Alpha", "Q2"),
        d(2, "Beta", "Q1"),
        d(3, "Gamma Rays"),
        d(4, "Test Delta", tags=("Test",)),
        d(6, "Zeta"),
    ]
    keys = sorted(deepdiff_keys(old, new, rank, group_by="id"), key=str)
    assert keys == sorted(
        [
            ("Deferred", 1, 1),
            ("Moved Up", 2, 2),
            ("Renamed", 3, 3),
            ("Changed", 4, 4),
            ("Deleted", 5, None),
            ("Added", None, 6),
        ],
        key=str,
    )
    q = Quality.score([Edit("x", "", (Truth("Renamed", 3, 3, "x"),))], keys)
    assert q.found["Renamed"] == 1 and q.false["Deferred"] == 1


def test_replace_section_rewrites_only_its_own_block(tmp_path: Path) -> None:
    path = tmp_path / "R.md"
    path.write_text("# Results\n\nhand-written\n", encoding="utf-8")
    replace_section(path, "speed", "one")
    replace_section(path, "accuracy", "two")
    replace_section(path, "speed", "three")
    text = path.read_text(encoding="utf-8")
    assert text.count("<!-- speed:begin -->") == 1 and "three" in text and "one" not in text
    assert "two" in text and text.startswith("# Results\n\nhand-written\n")


# --------------------------------------------------------------------------- timing helpers


def test_interleaved_times_take_turns_and_do_not_time_freeing() -> None:
    """The parse benchmark's timer: contenders alternate within each round, slow ones sit out
    the later rounds, and freeing a result is off the clock (a result whose finaliser sleeps
    50 ms must not be measured as 50 ms)."""
    import time

    from benchmarks.run import interleaved_times

    order: list[str] = []

    class SlowToFree:
        def __del__(self) -> None:
            time.sleep(0.05)

    def make(name: str) -> Any:
        def fn() -> object:
            order.append(name)
            return SlowToFree()

        return fn

    got = interleaved_times({"a": make("a"), "b": make("b"), "c": make("c")}, 3, {"c": 1})
    assert order == ["a", "b", "c", "a", "b", "a", "b"]
    assert set(got) == {"a", "b", "c"}
    assert all(0 <= t < 0.04 for t in got.values()), got


def test_the_c_route_of_the_steps_table_does_the_walks_job_on_the_benchmark_page() -> None:
    """The steps table sets the walk beside a C-only route: it is a fair yardstick only if,
    on that page's markup, it produces exactly the marked text the walk does, block by block
    (lozenge titles, organisation spans, breaks, escaped text); and it must not pass for the
    walk where it is not (a struck or linked card)."""
    import lxml.html

    from benchmarks.run import _c_marks, parse_page
    from wikisync.parse.inline import BREAK, marked_of

    root = lxml.html.fromstring(render(parse_page(300)).encode())
    blocks = [p for td in root.iter("td") for p in td if p.tag == "p"]
    assert len(blocks) > 300
    assert any("\ue000" in marked_of(p) for p in blocks)  # lozenges are there to be read
    assert any("&lt;" in lxml.html.tostring(p, encoding=str) for p in blocks)
    for p in blocks:
        assert _c_marks([p]) == f"{BREAK}{marked_of(p)}{BREAK}"

    for other in ("<p><s>Gone</s> [1]</p>", '<p><a href="https://x.org/">Docs</a> [2]</p>'):
        p = lxml.html.fromstring(f"<table><tr><td>{other}</td></tr></table>").find(".//p")
        assert _c_marks([p]) != f"{BREAK}{marked_of(p)}{BREAK}"


def test_the_c_card_route_of_the_steps_table_reads_common_cards_as_the_grammar_does() -> None:
    """The steps table's grammar yardstick must read the cards it claims to read exactly as
    the card grammar does (tags, title, stage, organisations), most of the page's cards, and
    admit the ones it cannot read."""
    import lxml.html

    from benchmarks.run import _c_cards, parse_page
    from wikisync.parse.cards import parse_card, split_cell

    root = lxml.html.fromstring(render(parse_page(300)).encode())
    marked = [m for td in root.iter("td") for m in split_cell(td)]
    got = _c_cards(marked)
    whole = 0
    for text, (tags, title, stage, orgs, read_whole) in zip(marked, got, strict=True):
        card = parse_card(text)
        assert card is not None
        if not read_whole:
            assert len(card.parts) > 1 or "<" in card.text or "[" in card.title, text
            continue
        whole += 1
        assert (tags, stage, orgs) == (card.tags, card.stage, card.orgs), text
        assert " ".join([*tags, title]).strip() == card.title, text
    assert whole >= 0.9 * len(marked)
    ((*_, read_whole),) = _c_cards(["Django 3.2 [All], Mongo 4.2 [1]"])
    assert not read_whole
