"""Card lineage: each card followed through every stored version, through renames,
replacements and gaps; checked against journeys a person read off the bundled example, and
against journeys planted with benchmarks/generate.py whose counts are known by construction.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import (
    CardSpec,
    Page,
    expected_items,
    generate_page,
    plant_edits,
    render,
)
from wikisync.errors import WikisyncError
from wikisync.lineage import (
    Lineage,
    Lineages,
    Version,
    build_lineages,
    find_cards,
    printable,
    render_log,
)
from wikisync.parse import parse_text
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"

# --------------------------------------------------------------------------- the example, by hand
#
# Written down first, by reading the seven versions of the bundled example side by side
# (`wikisync parse openedx-roadmap-example@vN` for N = 1..7, compared row by row). Periods of
# every version: Q1 Q2 Q3 Q4 H1 H2 (after H2) Backlog, so "rows later" is plain counting.
# Dates: v1 2020-09-10, v2 09-11, v3 09-25, v4 10-26, v5 12-15, v6 2021-02-10, v7 06-01.
#
# card (latest title)                       journey                                  def up slip
# Eventing Standard xAPI/Caliper (OEP-26)    Q1; v4 →Q2; v6 →Q4 (2 rows); v7 →H1       3  0   4
# Authn and Authz Standardized               Q2; v3 →Q4 (2); v5 ↑Q3; v6 →Backlog (5)   2  1   7
# Backend Plugins Django Event API (OEP-50)  Q2 "…, Python APIs"; v2 +Plugin Templates;
#                                            v4 →Q4 (2); v5 ↑Q3 −Python APIs;
#                                            v7 →H1 (2) −Plugin Templates              2  1   4
# Backend Plugins Python APIs                added v5 in Q3; v6 →Q4; v7 →H2 (2)        2  0   3
# Developer Handbook                         Backlog; v6 ↑Q4; v7 →Backlog (4)          1  1   4
# Eventing Inter-service messaging           Q4; v3 ↑Q2; v6 →Q4 (2); v7 deleted        1  1   2
# Onboarding Course                          Backlog; v3 ↑Q4 (+Appsembler); v7 →H1     1  1   1
# Upgrade Elasticsearch7.8, Ubuntu 20.04, …  Q2; v6 →Q3                                1  0   1
# Decentralized Devstack Adoption            Q2; v6 replaced by "Devstack Doc wins, Data
#                                            Provision, Eval Tutor" (Q3), renamed in v7 to
#                                            "Devstack Doc wins, Eval Tutor"
# Eventing Message bus <Pilot> (H1)          v7 renamed "Eventing Message bus (OEP-52)"; its
#                                            other phases (Q1 Spike, H2 Adopt, after H2
#                                            Sustain) are separate cards, untouched
# Monolith PR Standards                      added v6 in Q3, deleted v7
# Pylint as effective feedback loop          added v6 in Q3
# Devstack DevData (OEP-37)                  added v7 in Q4
#
# 71 cards in v1; 5 lineages start later (Python APIs, Devstack Doc wins, Monolith PR,
# Pylint, DevData): 76 in all; 3 end (Decentralized Devstack Adoption, Monolith PR Standards,
# Eventing Inter-service messaging): 73 on v7, which has 73 cards.

HAND: dict[str, tuple[int, int, int, str, str | None]] = {
    # latest title: (deferrals, moves up, periods slipped, first period, period now)
    "Eventing Standard xAPI/Caliper (OEP-26)": (3, 0, 4, "Q1", "H1"),
    "Authn and Authz Standardized": (2, 1, 7, "Q2", "Backlog"),
    "Backend Plugins Django Event API (OEP-50)": (2, 1, 4, "Q2", "H1"),
    "Backend Plugins Python APIs": (2, 0, 3, "Q3", "H2"),
    "Developer Handbook": (1, 1, 4, "Backlog", "Backlog"),
    "Eventing Inter-service messaging": (1, 1, 2, "Q4", None),
    "Onboarding Course": (1, 1, 1, "Backlog", "H1"),
    "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7": (1, 0, 1, "Q2", "Q3"),
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Lineages:
    store_dir = tmp_path_factory.mktemp("store")
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, store_dir / EXAMPLE)
    store = Store(store_dir)
    return build_lineages([Version.of(s, store.roadmap(s)) for s in store.snapshots(EXAMPLE)])


def counts(lin: Lineage) -> tuple[int, int, int]:
    steps = lin.steps
    return (
        sum("deferred" in s.events for s in steps),
        sum("moved_up" in s.events for s in steps),
        sum(s.slip for s in steps if "deferred" in s.events),
    )


def by_title(lineages: Lineages, title: str) -> Lineage:
    found = [lin for lin in lineages.lineages if lin.title == title]
    assert len(found) == 1, (title, [lin.titles for lin in found])
    return found[0]


def test_example_has_the_hand_counted_cards(example: Lineages) -> None:
    assert len(example.lineages) == 76
    assert sum(lin.alive for lin in example.lineages) == 73
    later = sorted(lin.title for lin in example.lineages if lin.first.index > 0)
    assert later == [
        "Backend Plugins Python APIs",
        "Devstack DevData (OEP-37)",
        "Devstack Doc wins, Eval Tutor",
        "Monolith PR Standards",
        "Pylint as effective feedback loop",
    ]
    gone = sorted(lin.title for lin in example.lineages if not lin.alive)
    assert gone == [
        "Decentralized Devstack Adoption",
        "Eventing Inter-service messaging",
        "Monolith PR Standards",
    ]


@pytest.mark.parametrize("title", sorted(HAND))
def test_example_journeys_match_the_hand_reading(example: Lineages, title: str) -> None:
    deferrals, up, slipped, first, now = HAND[title]
    lin = by_title(example, title)
    assert counts(lin) == (deferrals, up, slipped)
    assert lin.first.short == first
    assert (lin.steps[-1].short if lin.alive else None) == now


def test_no_other_card_of_the_example_moved(example: Lineages) -> None:
    moved = {lin.title for lin in example.lineages if any(counts(lin))}
    assert moved == set(HAND)


def test_renames_and_moves_chain_into_one_card(example: Lineages) -> None:
    lin = by_title(example, "Backend Plugins Django Event API (OEP-50)")
    assert lin.titles == [
        "Backend Plugins Django Event API (OEP-50), Python APIs",
        "Backend Plugins Django Event API (OEP-50), Python APIs, Plugin Templates",
        "Backend Plugins Django Event API (OEP-50), Plugin Templates",
        "Backend Plugins Django Event API (OEP-50)",
    ]
    assert [s.version for s in lin.steps] == [1, 2, 4, 5, 7]
    assert [s.text for s in lin.steps][2:4] == [
        "deferred Q2 → Q4",
        "moved up Q4 → Q3, renamed from “Backend Plugins Django Event API (OEP-50), Python APIs,"
        " Plugin Templates”",
    ]
    bus = by_title(example, "Eventing Message bus (OEP-52)")
    assert bus.titles == ["Eventing Message bus", "Eventing Message bus (OEP-52)"]
    assert bus.first.stage == "Pilot" and bus.first.short == "H1"
    # The other phases of the same initiative are cards of their own, never touched.
    phases = [lin for lin in example.lineages if lin.title == "Eventing Message bus"]
    assert sorted(p.first.stage or "" for p in phases) == ["Adopt", "Spike", "Sustain"]
    assert all(len(p.steps) == 1 for p in phases)


def test_a_replacement_ends_one_lineage_and_starts_another_each_naming_the_other(
    example: Lineages,
) -> None:
    old = by_title(example, "Decentralized Devstack Adoption")
    new = by_title(example, "Devstack Doc wins, Eval Tutor")
    assert old.replaced_by == new.number and new.replaces == old.number
    assert old.steps[-1].events == ("replaced",) and old.steps[-1].version == 6
    assert old.steps[-1].text == "replaced by “Devstack Doc wins, Data Provision, Eval Tutor”"
    assert new.first.events == ("added", "replaces")
    assert new.first.text == "added in Q3, replacing “Decentralized Devstack Adoption”"
    assert not old.alive and new.alive


def test_a_deleted_card_and_a_card_never_moved(example: Lineages) -> None:
    lin = by_title(example, "Eventing Inter-service messaging")
    assert [s.text for s in lin.steps] == [
        "added in Q4",
        "moved up Q4 → Q2",
        "deferred Q2 → Q4",
        "deleted from Q4",
    ]
    assert lin.present == [[0, 6]]
    pylint = by_title(example, "Pylint as effective feedback loop")
    assert [s.text for s in pylint.steps] == ["added in Q3"] and pylint.first.version == 6


def test_slugs_are_stable_unique_anchors(example: Lineages) -> None:
    slugs = [lin.slug for lin in example.lineages]
    assert len(set(slugs)) == len(slugs)
    assert all(s.startswith("card-") and s.replace("-", "").isalnum() for s in slugs)
    again = build_lineages(example.versions[:-1])  # one version fewer: same anchors
    assert {lin.slug for lin in again.lineages} <= set(slugs)


# --------------------------------------------------------------------------- find and log


def test_find_matches_any_title_the_card_ever_had(example: Lineages) -> None:
    found = find_cards(example, "python apis")
    assert [lin.title for lin in found] == [
        "Backend Plugins Django Event API (OEP-50)",  # was "…, Python APIs"
        "Backend Plugins Python APIs",
    ]
    assert [lin.title for lin in find_cards(example, "DATA PROVISION")] == [
        "Devstack Doc wins, Eval Tutor"
    ]


def test_no_match_is_one_error_with_the_closest_titles(example: Lineages) -> None:
    with pytest.raises(WikisyncError) as exc:
        find_cards(example, "Onbording Cours", "ex")
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("no card matches 'Onbording Cours' in ex; closest: “Onboarding Course”")


def test_log_lists_every_version_a_card_appeared_or_changed_in(example: Lineages) -> None:
    out = render_log(example, find_cards(example, "xAPI"))
    assert out == (
        "“Eventing Standard xAPI/Caliper (OEP-26)”\n"
        "  date        version  period  lane                           stage  what\n"
        "  2020-09-10  v1       Q1      Integrate and not modify core  -      added in Q1\n"
        "  2020-10-26  v4       Q2      Integrate and not modify core  -      deferred Q1 → Q2\n"
        "  2021-02-10  v6       Q4      Integrate and not modify core  -      deferred Q2 → Q4\n"
        "  2021-06-01  v7       H1      Integrate and not modify core  -      deferred Q4 → H1\n"
    )


def test_log_names_replacements_and_earlier_titles(example: Lineages) -> None:
    out = render_log(example, find_cards(example, "devstack doc wins"))
    head = out.splitlines()[0]
    assert head == (
        "“Devstack Doc wins, Eval Tutor” (was “Devstack Doc wins, Data Provision, Eval Tutor”);"
        " replaces “Decentralized Devstack Adoption”"
    )


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable("plain “text” é") == "plain “text” é"
    assert printable("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"
    assert printable("bidi\u202eevil") == "bidi\\u202eevil"


# --------------------------------------------------------------------------- planted journeys


def _versions(pages: list[Page]) -> list[Version]:
    return [
        Version(parse_text(render(p)), when=f"2021-01-{k + 1:02d}T12:00:00Z", version=k + 1)
        for k, p in enumerate(pages)
    ]


def _uid_of(pages: list[Page], lin: Lineage) -> int:
    """The planted card a lineage starts as: its first step's cell, title and stage."""
    first = lin.first
    keys = {e.key: e.uid for e in expected_items(pages[first.index])}
    return keys[(first.period, first.lane, first.title, first.stage)]


def _where(page: Page) -> dict[int, int]:
    return {card.uid: p for (p, _lane), card in page.cards()}


def _move(page: Page, uid: int, to: int) -> Page:
    page = page.copy()
    for (p, lane), card in list(page.cards()):
        if card.uid == uid:
            page.cells[(p, lane)].remove(card)
            page.cells.setdefault((to, lane), []).append(card)
            return page
    raise AssertionError(uid)


def _timed_card(page: Page, period: int) -> CardSpec:
    title_count: dict[str, int] = {}
    for _cell, c in page.cards():
        title_count[c.title] = title_count.get(c.title, 0) + 1
    for (p, _lane), card in page.cards():
        if p == period and len(card.parts) == 1 and title_count[card.title] == 1:
            return card
    raise AssertionError("no card")


def test_a_card_deferred_k_times_by_known_amounts_comes_out_exactly() -> None:
    page = generate_page(150, seed=11, spans=0.0, phases=0.0)
    backlog = len(page.periods) - 1
    card = _timed_card(page, 0)
    # Known journey: +1, +2, -1, then to the Backlog; unrelated planted edits in between.
    targets = [1, 3, 2, backlog]
    pages = [page]
    for k, to in enumerate(targets):
        noisy, edits = plant_edits(
            pages[-1], 3, seed=100 + k, kinds=("defer", "move_up", "add", "delete", "stage")
        )
        if any(card.uid in (t.old, t.new) for e in edits for t in e.truths):
            noisy = pages[-1]  # never let the noise touch the card under test
        pages.append(_move(noisy, card.uid, to))
    lineages = build_lineages(_versions(pages))
    mine = [lin for lin in lineages.lineages if _uid_of(pages, lin) == card.uid]
    assert len(mine) == 1
    lin = mine[0]
    assert counts(lin) == (3, 1, 1 + 2 + (backlog - 2))
    assert [s.slip for s in lin.steps[1:]] == [1, 2, -1, backlog - 2]


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_moves_come_out_with_exactly_their_counts(seed: int) -> None:
    """Eight versions of planted moves, additions, deletions and stage changes: every card's
    deferrals, moves up and periods slipped are known from where the generator put it."""
    pages = [generate_page(150, seed=seed, spans=0.0)]
    for k in range(7):
        edited, _ = plant_edits(
            pages[-1],
            8,
            seed=seed * 100 + k,
            kinds=("defer", "move_up", "to_backlog", "from_backlog", "add", "delete", "stage"),
        )
        pages.append(edited)
    expect: dict[int, list[int]] = {}
    for k in range(1, len(pages)):
        before, after = _where(pages[k - 1]), _where(pages[k])
        for uid, p in after.items():
            q = before.get(uid)
            e = expect.setdefault(uid, [0, 0, 0])
            if q is not None and p > q:
                e[0] += 1
                e[2] += p - q
            elif q is not None and p < q:
                e[1] += 1
    lineages = build_lineages(_versions(pages))
    got = {_uid_of(pages, lin): list(counts(lin)) for lin in lineages.lineages}
    assert len(got) == len(lineages.lineages)  # one lineage per planted card
    planted = {uid: c for uid, c in expect.items() if any(c)}
    assert len(planted) >= 20, planted
    assert {uid: c for uid, c in got.items() if any(c)} == planted


def test_a_card_deleted_and_re_added_is_one_lineage_with_a_gap() -> None:
    page = generate_page(80, seed=5, spans=0.0, phases=0.0)
    card = _timed_card(page, 1)
    cell = next(c for c, x in page.cards() if x.uid == card.uid)
    without = page.copy()
    without.cells[cell].remove(card)
    back = without.copy()
    # Re-added two versions later, one period later, as a new card with the same title.
    again = replace(card, uid=back.new_uid())
    back.cells.setdefault((cell[0] + 1, cell[1]), []).append(again)
    pages = [page, without, without.copy(), back]
    versions = _versions(pages)
    lineages = build_lineages(versions)
    mine = [lin for lin in lineages.lineages if card.title in lin.titles]
    assert len(mine) == 1
    lin = mine[0]
    assert [s.events for s in lin.steps] == [("added",), ("deleted",), ("readded",)]
    assert lin.present == [[0, 1], [3, -1]]
    assert lin.steps[-1].text.startswith("re-added in ")
    assert lin.alive
    assert len(lineages.lineages) == page.n_cards()


def test_lineages_are_deterministic_and_ignore_card_order_within_a_cell() -> None:
    page = generate_page(120, seed=9, spans=0.0)
    edited, _ = plant_edits(page, 10, seed=4)
    shuffled = edited.copy()
    rng = random.Random(0)
    for cards in shuffled.cells.values():
        rng.shuffle(cards)
    a = build_lineages(_versions([page, edited]))
    b = build_lineages(_versions([page, edited]))
    c = build_lineages(_versions([page, shuffled]))
    assert [lin.steps for lin in a.lineages] == [lin.steps for lin in b.lineages]
    key = sorted((lin.first.title, tuple(s.text for s in lin.steps)) for lin in a.lineages)
    assert key == sorted((lin.first.title, tuple(s.text for s in lin.steps)) for lin in c.lineages)


# --------------------------------------------------------------------------- reading a long history


def _stored(tmp_path: Path, pages: list[Page]) -> tuple[Store, list[Any]]:
    from wikisync.model import Document, SourceMeta

    store = Store(tmp_path / "store")
    for k, p in enumerate(pages):
        body = render(p)
        meta = SourceMeta(version=k + 1, when=f"2021-01-{k + 1:02d}T12:00:00Z", source="file")
        store.put("planted", Document({"storage": body}, meta), parse_text(body))
    return store, store.snapshots("planted")


def test_roadmaps_share_unchanged_cards_and_give_the_same_lineages(tmp_path: Path) -> None:
    pages = [generate_page(120, seed=21, spans=0.0)]
    for k in range(9):
        pages.append(plant_edits(pages[-1], 3, seed=300 + k)[0])
    store, snaps = _stored(tmp_path, pages)
    shared = list(store.roadmaps(snaps))
    alone = [store.roadmap(s) for s in snaps]
    assert [r.to_json() for r in shared] == [r.to_json() for r in alone]
    same = sum(a is b for a, b in zip(shared[0].items, shared[1].items, strict=False))
    assert same > 100  # most cards are the very same object from one version to the next
    assert not any(a is b for a, b in zip(alone[0].items, alone[1].items, strict=False))

    def steps(roadmaps: list[Any]) -> list[Any]:
        versions = [Version.of(s, r) for s, r in zip(snaps, roadmaps, strict=True)]
        return [
            (lin.steps, lin.replaces, lin.replaced_by) for lin in build_lineages(versions).lineages
        ]

    assert steps(shared) == steps(alone)


def test_roadmaps_still_refuse_a_corrupt_roadmap(tmp_path: Path) -> None:
    import json

    from wikisync.errors import StoreError

    page = generate_page(40, seed=2, spans=0.0)
    store, snaps = _stored(tmp_path, [page, plant_edits(page, 2, seed=1)[0]])
    path = snaps[1].path / "roadmap.json"
    doc = json.loads(path.read_text())
    doc["items"][3]["title"] = 5
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match=r"corrupt roadmap .*item's title is 5"):
        list(store.roadmaps(snaps))


def test_a_card_listed_twice_is_never_one_object_twice(tmp_path: Path) -> None:
    import json

    page = generate_page(40, seed=3, spans=0.0)
    store, snaps = _stored(tmp_path, [page, plant_edits(page, 1, seed=2)[0]])
    path = snaps[1].path / "roadmap.json"
    doc = json.loads(path.read_text())
    doc["items"].append(doc["items"][0])
    path.write_text(json.dumps(doc))
    second = list(store.roadmaps(snaps))[1]
    assert len({id(i) for i in second.items}) == len(second.items)
