"""Sentences in the page's own Change History style, one per change form."""

from __future__ import annotations

from dataclasses import replace

from wikisync.model import (
    Change,
    ChangeSet,
    FieldChange,
    Item,
    Lane,
    Part,
    Period,
    Roadmap,
    VersionRef,
    Where,
)
from wikisync.render import RenderOptions, sentences

LANE = "Local Development / Make change"
PERIODS = [
    Period("FY21 Q2 (Oct-Dec)", "Q2", ("Koa",), 0),
    Period("FY21 Q3 (Jan-Mar)", "Q3", (), 1),
    Period("FY21 Q4 (Apr-Jun)", "Q4", ("Lilac",), 2),
    Period("FY22 H1 (Jul-Dec)", "H1", ("Maple",), 3),
    Period("Backlog Grab Bag", "Backlog", (), 4, True),
]
BY_SHORT = {p.short: p for p in PERIODS}


def where(short: str, lane: str = LANE, end: str | None = None) -> Where:
    end_label = BY_SHORT[end].label if end else None
    return Where(BY_SHORT[short].label, short, lane, end_label)


def item(
    title: str,
    short: str,
    stage: str | None = None,
    orgs: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    lane: str = LANE,
    parts: tuple[Part, ...] = (),
) -> Item:
    return Item(
        id=f"{title}|{short}|{stage}",
        title=title,
        stage=stage,
        orgs=orgs,
        org_names=names,
        period=BY_SHORT[short].label,
        lane=lane,
        text=title,
        parts=parts,
    )


def roadmap(*items: Item) -> Roadmap:
    return Roadmap(
        periods=list(PERIODS), lanes=[Lane(LANE, tuple(LANE.split(" / ")))], items=list(items)
    )


def cs_of(*changes: Change, old: Roadmap | None = None, new: Roadmap | None = None) -> ChangeSet:
    return ChangeSet(
        VersionRef("p@v1", 1), VersionRef("p@v2", 2), list(changes), "2021-02-10", old, new
    )


def say(
    change: Change, cs: ChangeSet | None = None, options: RenderOptions | None = None
) -> list[str]:
    return sentences(change, cs if cs is not None else cs_of(change), options)


# --------------------------------------------------------------------------- moves


def test_deferred() -> None:
    c = Change(
        "Deferred",
        "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7",
        from_=where("Q2"),
        to=where("Q3"),
        aspects=("deferred",),
    )
    assert say(c) == ["Moved “Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” from Q2 to Q3."]


def test_deferred_into_backlog() -> None:
    c = Change("Deferred", "Authentication Standardized", from_=where("Q3"), to=where("Backlog"))
    assert say(c) == ["Moved “Authentication Standardized” from Q3 to Backlog."]


def test_moved_up_assigned_to_one_org() -> None:
    old = item("Doc Onboarding Course", "Backlog")
    new = item("Doc Onboarding Course", "Q4", orgs=("6",), names=("Appsembler",))
    c = Change(
        "Moved Up",
        "Doc Onboarding Course",
        from_=where("Backlog"),
        to=where("Q4"),
        aspects=("moved_up", "orgs"),
        fields=(FieldChange("orgs", [], ["Appsembler"]),),
        old=old,
        new=new,
    )
    assert say(c) == ["Moved “Doc Onboarding Course” from Backlog to Q4, assigned to Appsembler."]


def test_moved_up_assigned_to_several_orgs_from_fields() -> None:
    c = Change(
        "Moved Up",
        "Doc: Developer Handbook",
        from_=where("Backlog"),
        to=where("Q4"),
        aspects=("moved_up", "orgs"),
        fields=(FieldChange("orgs", ["edX"], ["edX", "OpenCraft", "EduNext", "Edly"]),),
    )
    assert say(c) == [
        "Moved “Doc: Developer Handbook” from Backlog to Q4, "
        "assigned to OpenCraft, EduNext and Edly."
    ]


def test_moved_with_org_lost_uses_arrow() -> None:
    c = Change(
        "Deferred",
        "X",
        from_=where("Q2"),
        to=where("Q3"),
        aspects=("deferred", "orgs"),
        old=item("X", "Q2", orgs=("1", "2"), names=("edX", "OpenCraft")),
        new=item("X", "Q3", orgs=("2",), names=("OpenCraft",)),
    )
    assert say(c) == ["Moved “X” from Q2 to Q3, organisations edX, OpenCraft → OpenCraft."]


def test_moved_and_renamed_and_stage() -> None:
    c = Change(
        "Deferred",
        "OEP Refinements",
        old_title="Doc OEP Refinements",
        from_=where("Q2"),
        to=where("Q3"),
        aspects=("deferred", "renamed", "stage"),
        fields=(FieldChange("stage", "Pilot", "Adopt"),),
    )
    assert say(c) == [
        "Moved “Doc OEP Refinements” from Q2 to Q3, renamed to “OEP Refinements”, "
        "stage Pilot → Adopt."
    ]


def test_moved_lane_from_wheres_when_no_fields() -> None:
    c = Change(
        "Deferred",
        "X",
        from_=where("Q2", lane="A"),
        to=where("Q3", lane="B"),
        aspects=("deferred", "lane"),
    )
    assert say(c) == ["Moved “X” from Q2 to Q3, lane A → B."]


def test_move_falls_back_to_items_when_wheres_missing() -> None:
    old, new = item("X", "Q2"), item("X", "H1")
    c = Change("Deferred", "X", aspects=("deferred",), old=old, new=new)
    cs = cs_of(c, old=roadmap(old), new=roadmap(new))
    assert say(c, cs) == ["Moved “X” from Q2 to H1."]


def test_period_range_uses_en_dash() -> None:
    old = item("Span", "Q2")
    new = replace(item("Span", "Q3"), period_end=BY_SHORT["Q4"].label)
    c = Change(
        "Deferred",
        "Span",
        from_=where("Q2"),
        to=where("Q3", end="Q4"),
        aspects=("deferred", "span"),
        old=old,
        new=new,
    )
    cs = cs_of(c, old=roadmap(old), new=roadmap(new))
    assert say(c, cs) == ["Moved “Span” from Q2 to Q3–Q4."]


# ------------------------------------------------------------------- replaced, added, deleted


def test_replaced_is_two_sentences() -> None:
    c = Change(
        "Replaced",
        "Devstack Doc wins, Data Provision, Eval Tutor",
        old_title="Decentralized Devstack Adoption",
        from_=where("Q2"),
        to=where("Q3"),
        aspects=("replaced",),
    )
    assert say(c) == [
        "Deleted “Decentralized Devstack Adoption” from Q2.",
        "Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3.",
    ]


def test_added_in_period() -> None:
    c = Change("Added", "Pylint as effective feedback loop", to=where("Q3"), aspects=("added",))
    assert say(c) == ["Added “Pylint as effective feedback loop” in Q3."]


def test_deleted_from_period() -> None:
    c = Change("Deleted", "Remove Notifier", from_=where("Q2"), aspects=("deleted",))
    assert say(c) == ["Deleted “Remove Notifier” from Q2."]


def test_deleted_uses_old_item_title() -> None:
    old = item("Remove Shopping Cart", "Q2")
    c = Change("Deleted", "Remove Shopping Cart", old=old)
    cs = cs_of(c, old=roadmap(old), new=roadmap())
    assert say(c, cs) == ["Deleted “Remove Shopping Cart” from Q2."]


# --------------------------------------------------------------------------- renamed / changed


def test_renamed() -> None:
    c = Change(
        "Renamed",
        "OEP Refinements",
        old_title="Doc OEP Refinements",
        from_=where("Q3"),
        to=where("Q3"),
        aspects=("renamed",),
    )
    assert say(c) == ["Renamed “Doc OEP Refinements” to “OEP Refinements” (Q3)."]


def test_changed_stage() -> None:
    c = Change(
        "Changed",
        "Eventing Message bus",
        from_=where("Q4"),
        to=where("Q4"),
        aspects=("stage",),
        fields=(FieldChange("stage", "Spike", "Eval"),),
    )
    assert say(c) == ["Changed “Eventing Message bus” (Q4): stage Spike → Eval."]


def test_changed_several_fields_joined_with_semicolons() -> None:
    c = Change(
        "Changed",
        "X",
        from_=where("Q4"),
        to=where("Q4"),
        aspects=("stage", "orgs", "lane", "tags", "struck"),
        fields=(
            FieldChange("stage", "Spike", "Eval"),
            FieldChange("orgs", ["edX"], ["edX", "OpenCraft"]),
            FieldChange("lane", "A", "B"),
            FieldChange("tags", [], ["Test"]),
            FieldChange("struck", False, True),
        ),
    )
    assert say(c) == [
        "Changed “X” (Q4): stage Spike → Eval; organisations edX → edX, OpenCraft; "
        "lane A → B; tags none → Test; struck through."
    ]


def test_changed_orgs_prefers_org_names_over_numbers() -> None:
    old = item("X", "Q4", orgs=("1",), names=("edX",))
    new = item("X", "Q4", orgs=("1", "2"), names=("edX", "OpenCraft"))
    c = Change(
        "Changed",
        "X",
        from_=where("Q4"),
        to=where("Q4"),
        aspects=("orgs",),
        fields=(FieldChange("orgs", ["1"], ["1", "2"]),),
        old=old,
        new=new,
    )
    assert say(c) == ["Changed “X” (Q4): organisations edX → edX, OpenCraft."]


def test_changed_orgs_numbers_when_no_legend() -> None:
    old = item("X", "Q4", orgs=("1",))
    new = item("X", "Q4", orgs=("1", "5"))
    c = Change("Changed", "X", to=where("Q4"), aspects=("orgs",), old=old, new=new)
    assert say(c) == ["Changed “X” (Q4): organisations 1 → 1, 5."]


def test_changed_unstruck() -> None:
    c = Change(
        "Changed",
        "X",
        to=where("Q4"),
        aspects=("struck",),
        fields=(FieldChange("struck", True, False),),
    )
    assert say(c) == ["Changed “X” (Q4): no longer struck through."]


def test_changed_parts_added() -> None:
    old = item("Backend Plugins API", "Q3", orgs=("2",), names=("OpenCraft",))
    new = item(
        "Backend Plugins API, Plugin Templates",
        "Q3",
        orgs=("2", "3"),
        names=("OpenCraft", "EduNext"),
        parts=(Part("Backend Plugins API", ("2",)), Part("Plugin Templates", ("3",))),
    )
    c = Change(
        "Changed",
        new.title,
        old_title=old.title,
        from_=where("Q3"),
        to=where("Q3"),
        aspects=("text", "orgs"),
        old=old,
        new=new,
    )
    assert say(c) == [
        "Changed “Backend Plugins API” (Q3): added “Plugin Templates”; "
        "organisations OpenCraft → OpenCraft, EduNext."
    ]


def test_aspects_derived_from_fields_when_missing() -> None:
    c = Change("Changed", "X", to=where("Q4"), fields=(FieldChange("stage", None, "Eval"),))
    assert say(c) == ["Changed “X” (Q4): stage none → Eval."]


# --------------------------------------------------------------------------- names and periods


def test_stage_shown_only_for_duplicate_titles() -> None:
    cc = "Conventional Commits (OEP-51)"
    old_items = [
        item(cc, "Q3", "Pilot"),
        item(cc, "Q4", "Evangelize"),
        item(cc, "H1", "Adopt via Automated-Feedback"),
        item("Monolith PR Standards", "Q3", "Pilot"),
    ]
    new_items = [old_items[0], old_items[1]]
    gone = Change("Deleted", cc, from_=where("H1"), old=old_items[2])
    gone2 = Change("Deleted", "Monolith PR Standards", from_=where("Q3"), old=old_items[3])
    cs = cs_of(gone, gone2, old=roadmap(*old_items), new=roadmap(*new_items))
    assert say(gone, cs) == [
        "Deleted “Conventional Commits (OEP-51) <Adopt via Automated-Feedback>” from H1."
    ]
    assert say(gone2, cs) == ["Deleted “Monolith PR Standards” from Q3."]


def test_duplicate_in_new_roadmap_only_also_adds_stage() -> None:
    old = [item("T", "Q3", "Pilot")]
    new = [old[0], item("T", "Q4", "Adopt")]
    c = Change("Added", "T", to=where("Q4"), new=new[1])
    assert say(c, cs_of(c, old=roadmap(*old), new=roadmap(*new))) == ["Added “T <Adopt>” in Q4."]


def test_period_names_by_label_and_short() -> None:
    c = Change("Deferred", "X", from_=where("Q2"), to=where("Q4"), aspects=("deferred",))
    opts = RenderOptions(period_names={"FY21 Q2 (Oct-Dec)": "Koa", "Q4": "Lilac"})
    assert say(c, options=opts) == ["Moved “X” from Koa to Lilac."]


def test_whitespace_in_titles_is_collapsed() -> None:
    c = Change("Added", "Line one\nline  two", to=where("Q3"))
    assert say(c) == ["Added “Line one line two” in Q3."]
