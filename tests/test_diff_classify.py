"""Classification against the page's own hand-written Change History, plus properties."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from roadmaps import PAGE_PERIODS, card, lane_label, page, page_cards, period_label, roadmap

from wikisync.diff import diff_roadmaps
from wikisync.model import Change, FieldChange, Item, Roadmap


def _summary(changes: list[Change]) -> list[tuple[str, str, str | None, str | None]]:
    """(category, title, from short, to short) in result order."""
    return [
        (c.category, c.title, c.from_.short if c.from_ else None, c.to.short if c.to else None)
        for c in changes
    ]


def _one(old: Roadmap, new: Roadmap) -> Change:
    changes = diff_roadmaps(old, new)
    assert len(changes) == 1, _summary(changes)
    return changes[0]


# --------------------------------------------------------------------------- the 2021-02-10 entry


def test_elasticsearch_card_q2_to_q3_is_deferred() -> None:
    es = "Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]"
    c = _one(roadmap(card(es, "Q2", "upgrade")), roadmap(card(es, "Q3", "upgrade")))
    assert (c.category, c.aspects) == ("Deferred", ("deferred",))
    assert c.fields == (FieldChange("period", "FY21 Q2 (Oct-Dec)", "FY21 Q3 (Jan-Mar)"),)
    assert (c.from_.short if c.from_ else None, c.to.short if c.to else None) == ("Q2", "Q3")


def test_authn_and_authz_q3_to_backlog_is_deferred() -> None:
    t = "Authn and Authz Standardized"
    c = _one(roadmap(card(t, "Q3", "integrate")), roadmap(card(t, "Backlog", "integrate")))
    assert (c.category, c.title, c.to.short if c.to else None) == ("Deferred", t, "Backlog")


def test_developer_handbook_backlog_to_q4_is_moved_up() -> None:
    t = "Developer Handbook"
    c = _one(roadmap(card(t, "Backlog", "understand")), roadmap(card(t, "Q4", "understand")))
    assert (c.category, c.aspects) == ("Moved Up", ("moved_up",))


def test_decentralized_devstack_replaced_by_devstack_doc_wins() -> None:
    old = roadmap(card("Decentralized Devstack Adoption [1]", "Q2", "use"))
    new = roadmap(card("Doc wins, Data Provision, Eval Tutor [2]", "Q3", "use", tags=("Devstack",)))
    c = _one(old, new)
    assert (c.category, c.aspects) == ("Replaced", ("replaced",))
    assert (c.title, c.old_title) == (
        "Devstack Doc wins, Data Provision, Eval Tutor",
        "Decentralized Devstack Adoption",
    )
    assert (c.from_.short if c.from_ else None, c.to.short if c.to else None) == ("Q2", "Q3")
    assert c.old is old.items[0] and c.new is new.items[0]


def test_unrelated_new_card_is_added_and_unrelated_deletion_stays_deleted() -> None:
    old = roadmap(card("Decentralized Devstack Adoption [1]", "Q2", "use"))
    new = roadmap(card("Monolith PR Standards [1]", "Q3", "use"))
    assert _summary(diff_roadmaps(old, new)) == [
        ("Added", "Monolith PR Standards", None, "Q3"),
        ("Deleted", "Decentralized Devstack Adoption", "Q2", None),
    ]


def test_replacement_needs_the_same_lane() -> None:
    old = roadmap(card("Decentralized Devstack Adoption [1]", "Q2", "use"))
    new = roadmap(card("Devstack Metrics [1]", "Q3", "observe"))
    assert [c.category for c in diff_roadmaps(old, new)] == ["Added", "Deleted"]


def test_whole_2021_02_10_entry_in_page_order() -> None:
    es_old = "Elasticsearch [7], Ubuntu 20.04 [1], MySql 5.7 [1]"
    es_new = "Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]"
    keep = [
        card("Toggle Docs (OEP-17) <Pilot> [5]", "Q2", "use"),
        card("Remove XServer", "Q3", "upgrade"),
    ]
    old = roadmap(
        *keep,
        card(es_old, "Q2", "upgrade"),
        card("Authn and Authz Standardized", "Q3", "integrate"),
        card("Eventing Standard xAPI/Caliper [4]", "Q2", "integrate"),
        card("Developer Handbook", "Backlog", "understand"),
        card("Decentralized Devstack Adoption [1]", "Q2", "use"),
    )
    new = roadmap(
        card("Monolith PR Standards [1]", "Q3", "make"),
        card("as effective feedback loop [1]", "Q3", "test", tags=("Pylint",)),
        card("Doc wins, Data Provision, Eval Tutor [2]", "Q3", "use", tags=("Devstack",)),
        card("Developer Handbook", "Q4", "understand"),
        card("Eventing Standard xAPI/Caliper [4]", "Q4", "integrate"),
        card("Authn and Authz Standardized", "Backlog", "integrate"),
        card(es_new, "Q3", "upgrade"),
        *reversed(keep),
    )
    assert _summary(diff_roadmaps(old, new)) == [
        ("Deferred", "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7", "Q2", "Q3"),
        ("Deferred", "Eventing Standard xAPI/Caliper", "Q2", "Q4"),
        ("Deferred", "Authn and Authz Standardized", "Q3", "Backlog"),
        ("Moved Up", "Developer Handbook", "Backlog", "Q4"),
        ("Replaced", "Devstack Doc wins, Data Provision, Eval Tutor", "Q2", "Q3"),
        ("Added", "Monolith PR Standards", None, "Q3"),
        ("Added", "Pylint as effective feedback loop", None, "Q3"),
    ]


# --------------------------------------------------------------------------- several aspects


def test_moved_and_renamed_is_one_deferred_change() -> None:
    old = roadmap(card("Elasticsearch [7], Ubuntu 20.04 [1], MySql 5.7 [1]", "Q2", "upgrade"))
    new = roadmap(
        card("Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]", "Q3", "upgrade")
    )
    c = _one(old, new)
    assert (c.category, c.aspects) == ("Deferred", ("deferred", "renamed"))
    assert c.old_title == "Elasticsearch, Ubuntu 20.04, MySql 5.7"
    assert c.score is not None and 80 <= c.score < 100
    assert [f.field for f in c.fields] == ["period", "title"]


def test_renamed_only() -> None:
    c = _one(
        roadmap(card("Doc OEP Refinements", "Backlog", "use")),
        roadmap(card("OEP Refinements", "Backlog", "use")),
    )
    assert (c.category, c.aspects, c.title, c.old_title) == (
        "Renamed",
        ("renamed",),
        "OEP Refinements",
        "Doc OEP Refinements",
    )
    assert c.fields == (FieldChange("title", "Doc OEP Refinements", "OEP Refinements"),)


def test_stage_spike_to_eval_is_changed() -> None:
    c = _one(
        roadmap(card("Eventing Message bus <Spike> [1]", "Q1", "integrate")),
        roadmap(card("Eventing Message bus <Eval> [1]", "Q1", "integrate")),
    )
    assert (c.category, c.aspects) == ("Changed", ("stage",))
    assert c.fields == (FieldChange("stage", "Spike", "Eval"),)
    assert c.score is None


def test_orgs_added_while_moving_from_backlog_to_lilac() -> None:
    c = _one(
        roadmap(card("Doc Onboarding Course", "Backlog", "understand")),
        roadmap(card("Doc Onboarding Course [6]", "Lilac", "understand")),
    )
    assert (c.category, c.aspects) == ("Moved Up", ("moved_up", "orgs"))
    assert FieldChange("orgs", (), ("Appsembler",)) in c.fields
    assert c.to is not None and c.to.short == "Q4"


def test_adding_a_part_is_changed_not_renamed() -> None:
    c = _one(
        roadmap(card("Backend Plugins API [3]", "Q4", "integrate")),
        roadmap(card("Backend Plugins API [3], Plugin Templates [2]", "Q4", "integrate")),
    )
    assert (c.category, c.aspects) == ("Changed", ("orgs", "text"))
    assert c.fields == (
        FieldChange("title", "Backend Plugins API", "Backend Plugins API, Plugin Templates"),
        FieldChange("orgs", ("EduNext",), ("EduNext", "OpenCraft")),
    )


def test_lane_tags_struck_and_span_are_changed() -> None:
    old = roadmap(
        card("Tech Radar", "H1", "understand"),
        card("Strategy", "Backlog", "test"),
        card("Remove Notifier", "Q2", "upgrade"),
        card("Frontend Plugins <Pilot> [1]", "H1", "integrate"),
    )
    new = roadmap(
        card("Tech Radar", "H1", "assess"),
        card("Strategy", "Backlog", "test", tags=("Test",)),
        card("Remove Notifier", "Q2", "upgrade", struck=True),
        card("Frontend Plugins <Pilot> [1]", "H1", "integrate", until="H2"),
    )
    got = sorted((c.category, c.title, c.aspects) for c in diff_roadmaps(old, new))
    assert got == [
        ("Changed", "Frontend Plugins", ("span",)),
        ("Changed", "Remove Notifier", ("struck",)),
        ("Changed", "Tech Radar", ("lane",)),
        ("Changed", "Test Strategy", ("tags",)),
    ]


def test_tag_added_is_not_a_rename_though_the_title_changes() -> None:
    # A tag lozenge is part of the title by convention; the words after it did not change.
    c = _one(
        roadmap(card("Strategy", "Backlog", "test")),
        roadmap(card("Strategy", "Backlog", "test", tags=("Test",))),
    )
    assert (c.category, c.aspects, c.old_title) == ("Changed", ("tags",), "Strategy")
    assert c.fields == (
        FieldChange("title", "Strategy", "Test Strategy"),
        FieldChange("tags", (), ("Test",)),
    )


def test_phases_of_conventional_commits_survive_one_phase_deleted() -> None:
    cc = "Conventional Commits (OEP-51)"
    phases = [card(f"{cc} <Pilot> [1]", "Q3"), card(f"{cc} <Evangelize> [1]", "Q4")]
    old = roadmap(*phases, card(f"{cc} <Adopt via Automated-Feedback> [1]", "H1"))
    new = roadmap(*phases[:1], card(f"{cc} <Adopt via Automated-Feedback> [1]", "H1"))
    assert _summary(diff_roadmaps(old, new)) == [("Deleted", cc, "Q4", None)]


def test_unchanged_identical_duplicates_produce_nothing() -> None:
    dup = [card("Observability Training [1]", "Q1", "observe")] * 3
    old = roadmap(*dup, card("Tech Radar", "H1"))
    new = roadmap(card("Tech Radar", "H1"), *dup)
    assert diff_roadmaps(old, new) == []


def test_diff_of_the_page_with_itself_is_empty() -> None:
    rm = page()
    assert diff_roadmaps(rm, rm) == []
    assert diff_roadmaps(rm, page()) == []


def test_order_is_categories_then_period_then_lane_then_title() -> None:
    old = roadmap(
        card("Zeta", "Q1", "upgrade"), card("Alpha", "Q1", "upgrade"), card("Beta", "Q1", "use")
    )
    new = roadmap(
        card("Zeta", "Q3", "upgrade"),
        card("Alpha", "Q3", "upgrade"),
        card("Beta", "Q4", "use"),
        card("Omega Q2 thing", "Q2", "upgrade"),
        card("Gamma Q2 thing", "Q2", "use"),
    )
    assert [(c.category, c.title) for c in diff_roadmaps(old, new)] == [
        ("Deferred", "Alpha"),
        ("Deferred", "Zeta"),
        ("Deferred", "Beta"),
        ("Added", "Gamma Q2 thing"),
        ("Added", "Omega Q2 thing"),
    ]


def test_changes_serialise_deterministically() -> None:
    old = page()
    cards = page_cards()
    new = roadmap(
        *[replace(c, period=period_label("Q4")) if "Tutor" in c.title else c for c in cards]
    )
    first = json.dumps([c.to_json() for c in diff_roadmaps(old, new)], sort_keys=True)
    again = json.dumps([c.to_json() for c in diff_roadmaps(page(), new)], sort_keys=True)
    assert first == again
    # Five Tutor phases move up to Q4; "Devstack Doc wins, Eval Tutor" leaves Q3 for Q4.
    assert [c["category"] for c in json.loads(first)] == ["Deferred"] + ["Moved Up"] * 5


# --------------------------------------------------------------------------- properties

_TITLES = [
    "Tech Radar",
    "Tech Radar v2",
    "Devstack Metrics",
    "Devstack DevData",
    "Onboarding Course",
    "Doc Onboarding Course",
    "Remove Notifier",
    "Remove XServer",
    "Frontend Plugins",
    "Backend Plugins",
]
_PERIODS = ["Q1", "Q2", "Q3", "Backlog"]
_LANES = ["use", "make", "upgrade"]

_cards = st.builds(
    card,
    st.builds(
        lambda t, s, o: t + (f" <{s}>" if s else "") + (f" [{o}]" if o else ""),
        st.sampled_from(_TITLES),
        st.sampled_from([None, "Pilot", "Adopt"]),
        st.sampled_from([None, "1", "2", "1, 3"]),
    ),
    st.sampled_from(_PERIODS),
    st.sampled_from(_LANES),
    struck=st.booleans(),
)
_versions = st.lists(_cards, max_size=8)


def _mirror(c: Change) -> str:
    """The change seen from the other side, as comparable JSON."""
    flip = {"Deferred": "Moved Up", "Moved Up": "Deferred", "Added": "Deleted", "Deleted": "Added"}
    aspect = {
        "deferred": "moved_up",
        "moved_up": "deferred",
        "added": "deleted",
        "deleted": "added",
    }
    mirrored = Change(
        category=flip.get(c.category, c.category),
        title=c.old.title if c.old else c.title,
        old_title=(c.new.title if c.new else None)
        if c.category == "Replaced" or c.old_title
        else None,
        from_=c.to,
        to=c.from_,
        aspects=tuple(sorted((aspect.get(a, a) for a in c.aspects), key=_ASPECT_ORDER.index)),
        fields=tuple(FieldChange(f.field, f.new, f.old) for f in c.fields),
        old=c.new,
        new=c.old,
        score=c.score,
    )
    return json.dumps(mirrored.to_json(), sort_keys=True)


_ASPECT_ORDER = list(__import__("wikisync.model", fromlist=["ASPECTS"]).ASPECTS)


def _as_json(changes: list[Change]) -> list[str]:
    return sorted(json.dumps(c.to_json(), sort_keys=True) for c in changes)


@pytest.mark.slow  # 300 generated pairs of roadmaps: 5-15 s
@settings(max_examples=300, deadline=None)
@given(_versions, _versions)
def test_diff_b_a_mirrors_diff_a_b(a_cards: list[Item], b_cards: list[Item]) -> None:
    a, b = roadmap(*a_cards), roadmap(*b_cards)
    forward = diff_roadmaps(a, b)
    backward = diff_roadmaps(b, a)
    assert sorted(_mirror(c) for c in forward) == _as_json(backward)


@pytest.mark.slow  # 200 generated pairs of roadmaps, each diffed five times: 4-11 s
@settings(max_examples=200, deadline=None)
@given(_versions, _versions, st.randoms(use_true_random=False))
def test_order_independence_and_determinism(
    a_cards: list[Item], b_cards: list[Item], rng: random.Random
) -> None:
    a, b = roadmap(*a_cards), roadmap(*b_cards)
    expected = diff_roadmaps(a, b)
    assert diff_roadmaps(a, b) == expected
    shuffled = list(b.items)
    rng.shuffle(shuffled)
    assert diff_roadmaps(a, replace(b, items=shuffled)) == expected
    assert diff_roadmaps(a, a) == [] and diff_roadmaps(b, b) == []


def test_helpers_resolve_page_names() -> None:
    assert period_label("Lilac") == PAGE_PERIODS[3].label
    assert lane_label("use") == "Local Development / How to Use/Develop"
