"""Cross-version period order: rows added, removed, renamed; backlog last."""

from __future__ import annotations

from roadmaps import PAGE_PERIODS, card, roadmap

from wikisync.diff import PeriodOrder, diff_roadmaps, map_periods
from wikisync.model import Period, Where


def _periods(*specs: tuple[str, ...]) -> list[Period]:
    """(label, short, *aliases) in table order; a label with 'Backlog' is backlog-like."""
    return [
        Period(label, short, tuple(aliases), i, backlog="Backlog" in label)
        for i, (label, short, *aliases) in enumerate(specs)
    ]


def test_same_periods_rank_in_table_order_with_backlog_last() -> None:
    rm = roadmap()
    order = PeriodOrder(rm, rm)
    ranks = [order.rank(p.label, "new") for p in PAGE_PERIODS]
    assert ranks == list(range(len(PAGE_PERIODS)))
    assert [order.rank(p.label, "old") for p in PAGE_PERIODS] == ranks
    assert order.rank("Backlog Grab Bag", "old") == 7
    assert order.mapping == {p.label: p.label for p in PAGE_PERIODS}


def test_renamed_row_maps_by_short_name() -> None:
    old = _periods(("FY21 Q1", "Q1"), ("FY21 Q2", "Q2"), ("Backlog", "Backlog"))
    new = _periods(("FY21 Q1", "Q1"), ("FY21 Q2 (Oct-Dec) Koa", "Q2"), ("Backlog", "Backlog"))
    assert map_periods(old, new) == {
        "FY21 Q1": "FY21 Q1",
        "FY21 Q2": "FY21 Q2 (Oct-Dec) Koa",
        "Backlog": "Backlog",
    }


def test_release_alias_maps_when_label_and_short_differ() -> None:
    old = _periods(("Q1", "Q1"), ("Koa release", "Koa release", "Koa"))
    new = _periods(("FY21 Q1", "Q1"), ("FY21 Q2", "Q2", "Koa"))
    assert map_periods(old, new) == {"Q1": "FY21 Q1", "Koa release": "FY21 Q2"}


def test_short_name_match_must_keep_order() -> None:
    # FY21 Q2 vanished; a new FY22 Q2 called "Q2" sits after FY22 Q1 and must not take its place.
    old = _periods(("FY21 Q2", "Q2"), ("FY22 Q1", "Q1"), ("Backlog", "Backlog"))
    new = _periods(("FY22 Q1", "Q1"), ("FY22 Q2", "Q2"), ("Backlog", "Backlog"))
    assert map_periods(old, new) == {"FY22 Q1": "FY22 Q1", "Backlog": "Backlog"}


def test_removed_row_keeps_its_place_and_added_row_gets_its_own() -> None:
    old = _periods(("Q1", "Q1"), ("Q2", "Q2"), ("Q3", "Q3"), ("Backlog", "Backlog"))
    new = _periods(("Q1", "Q1"), ("Q3", "Q3"), ("Q4", "Q4"), ("Backlog", "Backlog"))
    order = PeriodOrder(roadmap(periods=old), roadmap(periods=new))
    ranks = {
        "old Q1": order.rank("Q1", "old"),
        "old Q2": order.rank("Q2", "old"),
        "old Q3": order.rank("Q3", "old"),
        "new Q3": order.rank("Q3", "new"),
        "new Q4": order.rank("Q4", "new"),
        "old Backlog": order.rank("Backlog", "old"),
        "new Backlog": order.rank("Backlog", "new"),
    }
    assert ranks == {
        "old Q1": 0,
        "old Q2": 1,
        "old Q3": 2,
        "new Q3": 2,
        "new Q4": 3,
        "old Backlog": 4,
        "new Backlog": 4,
    }


def test_vanished_backlog_row_stays_after_dated_rows() -> None:
    # Its old neighbour is Q1, but it must not land between Q1 and the new Q2.
    old = _periods(("Q1", "Q1"), ("Backlog icebox", "Icebox"))
    new = _periods(("Q1", "Q1"), ("Q2", "Q2"), ("Backlog later", "Later"))
    order = PeriodOrder(roadmap(periods=old), roadmap(periods=new))
    assert order.mapping == {"Q1": "Q1"}
    assert order.rank("Q2", "new") == 1
    assert order.rank("Backlog icebox", "old") == 2
    assert order.rank("Backlog later", "new") == 3


def test_card_in_removed_row_moved_to_next_row_is_deferred() -> None:
    old_p = _periods(("FY21 Q1", "Q1"), ("FY21 Q2", "Q2"), ("FY21 Q3", "Q3"))
    new_p = _periods(("FY21 Q1", "Q1"), ("FY21 Q3", "Q3"))
    old = roadmap(card("Python 3.8 [3]", "FY21 Q2"), periods=old_p)
    new = roadmap(card("Python 3.8 [3]", "FY21 Q3"), periods=new_p)
    assert [c.category for c in diff_roadmaps(old, new)] == ["Deferred"]
    assert [c.category for c in diff_roadmaps(new, old)] == ["Moved Up"]


def test_renamed_row_alone_is_no_change() -> None:
    old_p = _periods(("FY21 Q2", "Q2"), ("Backlog", "Backlog"))
    new_p = _periods(("FY21 Q2 (Oct-Dec)", "Q2", "Koa"), ("Backlog", "Backlog"))
    old = roadmap(card("Python 3.8 [3]", "FY21 Q2"), periods=old_p)
    new = roadmap(card("Python 3.8 [3]", "FY21 Q2 (Oct-Dec)"), periods=new_p)
    assert diff_roadmaps(old, new) == []


def test_where_gives_the_short_name_and_unknown_labels_sort_last() -> None:
    rm = roadmap(card("Tech Radar", "H1", "understand", until="H2"))
    order = PeriodOrder(rm, rm)
    assert order.where(rm.items[0], rm) == Where(
        period="FY22 H1 (Jul-Dec)",
        short="H1",
        lane="Onboard to (new area of) Platform / Understand the Platform",
        period_end="FY22 H2 (Jan-Jun)",
    )
    assert order.rank("no such row", "new") == len(PAGE_PERIODS)
    assert order.rank("koa", "new") == order.rank("FY21 Q2 (Oct-Dec)", "new") == 1
