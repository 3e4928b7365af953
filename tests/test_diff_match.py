"""Identity across versions: the matching stages, one-to-one, order-free."""

from __future__ import annotations

import random

from roadmaps import card, page, roadmap

from wikisync.diff import Matching, match_roadmaps, normalize_title
from wikisync.diff.match import compact_title, fuzzy_text, similarity
from wikisync.model import Item, Roadmap


def _titles(m: Matching) -> list[tuple[str, str, str, str]]:
    """Pairs as (old title, old short stage/period, new title, new stage/period), sorted."""
    return sorted(
        (o.title, f"{o.stage}@{o.period[:7]}", n.title, f"{n.stage}@{n.period[:7]}")
        for o, n, _ in m.pairs
    )


def _changed_pairs(m: Matching) -> list[tuple[str, str]]:
    return sorted((o.title, n.title) for o, n, _ in m.pairs if o.title != n.title)


def test_normalisation() -> None:
    assert (
        normalize_title("Doc: Developer “Handbook” – v2 & more")
        == "doc developer handbook v2 and more"
    )
    assert (
        compact_title("Tutor-for-Devstack")
        == compact_title("Tutor for devstack")
        == "tutorfordevstack"
    )
    assert fuzzy_text("API apis API") == "api apis"


def test_similarity_separates_renames_from_neighbours() -> None:
    renames = [
        ("Doc OEP Refinements", "OEP Refinements"),
        ("Doc: Developer Handbook", "Developer Handbook"),
    ]
    neighbours = [
        ("Monolith PR Standards", "Monolith Structure & Boundaries"),
        ("MFE Theming", "MFE Open Deployment"),
    ]
    sim = similarity(
        [fuzzy_text(a) for a, _ in renames + neighbours],
        [fuzzy_text(b) for _, b in renames + neighbours],
    )
    assert [round(float(sim[k, k])) for k in range(4)] == [94, 95, 50, 43]


def test_every_card_of_an_unchanged_page_pairs_with_itself() -> None:
    rm = page()
    m = match_roadmaps(rm, rm)
    assert m.deleted == [] and m.added == []
    assert all(o is n and s == 100.0 for o, n, s in m.pairs)
    assert len(m.pairs) == len(rm.items)


def test_identical_duplicates_pair_and_differing_duplicates_pair_by_content() -> None:
    old = roadmap(
        card("Observability Training [1]", "Q1"), card("Observability Training [2]", "Q1")
    )
    new = roadmap(
        card("Observability Training [2]", "Q1"), card("Observability Training [1, 3]", "Q1")
    )
    m = match_roadmaps(old, new)
    assert sorted((o.orgs, n.orgs) for o, n, _ in m.pairs) == [
        (("1",), ("1", "3")),
        (("2",), ("2",)),
    ]


def test_moved_card_prefers_same_lane_then_nearest_period() -> None:
    old = roadmap(card("Tech Radar", "Q2", "understand"), card("Tech Radar", "Q2", "assess"))
    new = roadmap(
        card("Tech Radar", "H2", "assess"),
        card("Tech Radar", "Q3", "assess"),
        card("Tech Radar", "Q3", "understand"),
    )
    m = match_roadmaps(old, new)
    pairs = sorted((o.lane[:5], n.lane[:5], n.period[:7]) for o, n, _ in m.pairs)
    assert pairs == [("Maint", "Maint", "FY21 Q3"), ("Onboa", "Onboa", "FY21 Q3")]
    assert [(a.period[:7], a.lane[:5]) for a in m.added] == [("FY22 H2", "Maint")]


def test_stage_change_and_case_edit_match_on_normalised_title() -> None:
    old = roadmap(card("Eventing Message bus <Spike> [1]", "Q1", "integrate"))
    new = roadmap(card("Eventing message-bus <Eval> [1]", "Q2", "integrate"))
    m = match_roadmaps(old, new)
    assert _titles(m) == [
        ("Eventing Message bus", "Spike@FY21 Q1", "Eventing message-bus", "Eval@FY21 Q2"),
    ]


def test_phases_stay_with_their_own_phase_when_one_is_deleted() -> None:
    cc = "Conventional Commits (OEP-51)"
    old = roadmap(
        card(f"{cc} <Pilot> [1]", "Q3"),
        card(f"{cc} <Evangelize> [1]", "Q4"),
        card(f"{cc} <Adopt via Automated-Feedback> [1]", "H1"),
    )
    # Evangelize phase deleted; the other two were retitled (so stage 1 cannot pair them).
    new = roadmap(
        card("Conventional commits (OEP-51) <Pilot> [1]", "Q3"),
        card("Conventional commits (OEP-51) <Adopt via Automated-Feedback> [1]", "H1"),
    )
    m = match_roadmaps(old, new)
    assert [(o.stage, n.stage) for o, n, _ in m.pairs] == [
        ("Pilot", "Pilot"),
        ("Adopt via Automated-Feedback", "Adopt via Automated-Feedback"),
    ]
    assert [(d.stage, d.period) for d in m.deleted] == [("Evangelize", "FY21 Q4 (Apr-Jun)")]


def test_phases_keep_period_when_stages_all_change() -> None:
    old = roadmap(
        card("Frontend Plugins <Pilot> [1]", "H1"), card("Frontend Plugins <Adopt> [1]", "H2")
    )
    new = roadmap(
        card("Frontend plugins <Eval> [1]", "H1"), card("Frontend plugins <Implement> [1]", "H2")
    )
    m = match_roadmaps(old, new)
    assert [(o.stage, n.stage) for o, n, _ in m.pairs] == [
        ("Pilot", "Eval"),
        ("Adopt", "Implement"),
    ]


def test_fuzzy_rename_is_matched_and_unrelated_cards_are_not() -> None:
    old = roadmap(
        card("Doc OEP Refinements", "Backlog", "use"),
        card("Elasticsearch [7], Ubuntu 20.04 [1], MySql 5.7 [1]", "Q2", "upgrade"),
        card("Remove XServer", "Q3", "upgrade"),
    )
    new = roadmap(
        card("OEP Refinements", "Backlog", "use"),
        card("Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]", "Q3", "upgrade"),
        card("Remove Notifier", "Q3", "upgrade"),
    )
    m = match_roadmaps(old, new)
    assert _changed_pairs(m) == [
        ("Doc OEP Refinements", "OEP Refinements"),
        (
            "Elasticsearch, Ubuntu 20.04, MySql 5.7",
            "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7",
        ),
    ]
    assert all(s < 100.0 for _, _, s in m.pairs)
    assert [d.title for d in m.deleted] == ["Remove XServer"]
    assert [a.title for a in m.added] == ["Remove Notifier"]


def test_fuzzy_assignment_is_global_and_one_to_one() -> None:
    # "Onboarding Course" would be the best partner of both old cards; only the closer one gets it.
    old = roadmap(
        card("Doc Onboarding Course", "H1", "understand"),
        card("Onboarding Courses", "H1", "understand"),
    )
    new = roadmap(card("Onboarding Course", "H1", "understand"))
    m = match_roadmaps(old, new)
    assert _changed_pairs(m) == [("Onboarding Courses", "Onboarding Course")]
    assert [d.title for d in m.deleted] == ["Doc Onboarding Course"]


def test_unchanged_card_is_never_handed_to_a_look_alike() -> None:
    old = roadmap(card("Toggle Docs", "Q2", "use"), card("Toggle Doc", "Q2", "use"))
    new = roadmap(card("Toggle Docs", "Q2", "use"))
    m = match_roadmaps(old, new)
    assert [(o.title, n.title, s) for o, n, s in m.pairs] == [("Toggle Docs", "Toggle Docs", 100.0)]
    assert [d.title for d in m.deleted] == ["Toggle Doc"]


def _big(n: int, seed: int) -> tuple[Roadmap, Roadmap]:
    """Two large versions: 10% of cards renamed with a suffix, lanes varied."""
    rng = random.Random(seed)
    lanes = [
        "understand",
        "use",
        "make",
        "test",
        "integrate",
        "deploy",
        "observe",
        "assess",
        "upgrade",
    ]
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
    ]
    old_cards: list[Item] = []
    new_cards: list[Item] = []
    for k in range(n):
        title = f"{rng.choice(words)} {rng.choice(words)} {k:05d}"
        at, lane = rng.choice(["Q1", "Q2", "Q3", "Q4", "H1"]), rng.choice(lanes)
        old_cards.append(card(title, at, lane))
        new_cards.append(card(title + (" migration" if k % 10 == 0 else ""), at, lane))
    rng.shuffle(new_cards)
    return roadmap(*old_cards), roadmap(*new_cards)


def test_large_leftovers_are_blocked_by_lane_and_still_matched() -> None:
    old, new = _big(3000, seed=7)  # 300 renames each side: 90,000 pairs, above BLOCK_ABOVE
    m = match_roadmaps(old, new)
    assert m.deleted == [] and m.added == []
    renamed = [(o.title, n.title) for o, n, _ in m.pairs if o.title != n.title]
    assert len(renamed) == 300
    assert all(n == o + " migration" for o, n in renamed)


def test_matching_ignores_the_order_of_the_new_version() -> None:
    old, new = _big(400, seed=3)
    shuffled = Roadmap(
        periods=new.periods, lanes=new.lanes, items=list(reversed(new.items)), legend=new.legend
    )
    assert _titles(match_roadmaps(old, new)) == _titles(match_roadmaps(old, shuffled))
