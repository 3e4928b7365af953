"""A row-per-item table's lanes are named by the column they come from (``team``, not ``lane``).

``Feature | Team | Target | Status | Notes`` (tests/data/shapes/rows-v*.storage.html) takes its
lanes from the Team column, so a reader of that page expects ``team Platform → Payments``, the
way other columns read (``status In progress → Done``). Every output says it: the sentences in
each format, the JSON changes' text, the HTML diff, a card's log, and the audit reads it back.
Grids, planners and group-header lanes keep "lane".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wikisync import jsondoc
from wikisync.audit import audit_page, documented_changes
from wikisync.diff import diff_roadmaps
from wikisync.lineage import Version, build_lineages, find_cards, render_log
from wikisync.model import ChangeSet, Document, HistoryEntry, Roadmap, SourceMeta, VersionRef
from wikisync.parse import parse_document, parse_text
from wikisync.parse.history import parse_sentence
from wikisync.publish import insert_entry
from wikisync.render import render_changes, render_roadmap
from wikisync.render.html import render_diff_html
from wikisync.report import slippage_extras
from wikisync.stats import compute_stats, render_stats
from wikisync.store import Store

DATA = Path(__file__).resolve().parent / "data" / "shapes"
ROOT = Path(__file__).resolve().parent.parent
TEAM = "Changed “Billing revamp” (Q4 2021): team Platform → Payments."


def page(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def changeset(old: Roadmap, new: Roadmap) -> ChangeSet:
    return ChangeSet(
        old=VersionRef("old", version=1, when="2024-05-01T10:00:00Z"),
        new=VersionRef("new", version=2, when="2024-05-02T10:00:00Z"),
        changes=diff_roadmaps(old, new),
        date="2024-05-02",
        old_roadmap=old,
        new_roadmap=new,
    )


def shapes_changeset(old: str, new: str) -> ChangeSet:
    return changeset(parse_text(page(old)), parse_text(page(new)))


def rows_table(rows: list[tuple[str, str, str]], lane_header: str = "Team") -> str:
    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    return f"<table><tr><th>Feature</th><th>{lane_header}</th><th>Target</th></tr>{body}</table>"


# --------------------------------------------------------------------------- the model


def test_the_roadmap_remembers_the_lane_column_header() -> None:
    rm = parse_text(page("rows-v1.storage.html"))
    assert rm.lane_names == {"": "Team"}
    assert rm.lane_name("Platform") == "Team"
    doc = rm.to_json()
    assert doc["lane_names"] == {"": "Team"}
    assert Roadmap.from_json(json.loads(json.dumps(doc))) == rm


def test_a_grid_planner_or_stored_roadmap_has_no_lane_names() -> None:
    grid = parse_text((ROOT / "tests" / "data" / "openedx" / "v1.storage.html").read_bytes())
    stored = jsondoc.dumps(grid.to_json())
    assert grid.lane_names == {} and "lane_names" not in stored
    again = Roadmap.from_json(json.loads(stored))  # as stored before lane names existed
    assert again == grid and jsondoc.dumps(again.to_json()) == stored  # the same bytes
    planner = parse_text(page("planner-v1.storage.html"))
    assert planner.lane_names == {} and "lane_names" not in planner.to_json()


def test_several_roadmaps_name_the_lanes_of_each() -> None:
    rm = parse_text(page("multi-v1.storage.html"))
    assert rm.lane_names == {"Product features": "Team"}
    assert rm.lane_name("Product features / Platform") == "Team"
    assert rm.lane_name("Platform plan / Marketing") is None


# --------------------------------------------------------------------------- sentences


@pytest.mark.parametrize("fmt", ["text", "markdown", "wiki", "confluence"])
def test_every_format_says_team(fmt: str) -> None:
    out = render_changes(shapes_changeset("rows-v1.storage.html", "rows-v2.storage.html"), fmt)
    assert "team Platform → Payments" in out
    assert "lane Platform" not in out


def test_json_changes_keep_the_lane_key_and_say_team() -> None:
    cs = shapes_changeset("rows-v1.storage.html", "rows-v2.storage.html")
    doc = json.loads(render_changes(cs, "json"))
    (change,) = [c for c in doc["changes"] if "lane" in c["aspects"]]
    assert change["text"] == TEAM
    assert [f["field"] for f in change["fields"]] == ["lane"]  # the key stays stable


def test_a_page_of_several_says_team_for_the_table_and_lane_for_the_planner() -> None:
    out = render_changes(shapes_changeset("multi-v1.storage.html", "multi-v2.storage.html"))
    assert f"Product features: {TEAM}" in out
    assert (
        "Platform plan: Changed “Webinar series” (Jan 2016–Feb 2016): "
        "lane Marketing → Engineering." in out
    )


def test_the_word_is_the_column_header() -> None:
    old = parse_text(rows_table([("Search", "Core", "Q1 2024"), ("Billing", "Core", "Q2 2024")]))
    new_rows = [("Search", "Core", "Q1 2024"), ("Billing", "Money", "Q2 2024")]
    new = parse_text(rows_table(new_rows))
    assert render_changes(changeset(old, new)).splitlines()[-1] == (
        "    - Changed “Billing” (Q2 2024): team Core → Money."
    )
    squad_old = parse_text(rows_table([("Search", "Core", "Q1 2024")], "Squad"))
    squad_new = parse_text(rows_table([("Search", "Edge", "Q1 2024")], "Squad"))
    assert "squad Core → Edge." in render_changes(changeset(squad_old, squad_new))


def test_group_header_lanes_keep_lane() -> None:
    def grouped(groups: dict[str, list[str]]) -> str:
        body = "".join(
            f'<tr><td colspan="2">{g}</td></tr>'
            + "".join(f"<tr><td>{t}</td><td>Q1 2024</td></tr>" for t in titles)
            for g, titles in groups.items()
        )
        return f"<table><tr><th>Feature</th><th>Target</th></tr>{body}</table>"

    old = parse_text(grouped({"Web": ["Search", "Billing"], "Mobile": ["Offline"]}))
    new = parse_text(grouped({"Web": ["Search"], "Mobile": ["Offline", "Billing"]}))
    assert old.shape == "rows" and old.lane_names == {}
    assert "lane Web → Mobile." in render_changes(changeset(old, new))


# --------------------------------------------------------------------------- HTML and logs


def test_the_html_diff_says_team() -> None:
    old = parse_text(rows_table([("Search", "Core", "Q1 2024"), ("Offline", "Mobile", "Q1 2024")]))
    new = parse_text(rows_table([("Search", "Web", "Q1 2024")]))
    html = render_diff_html(changeset(old, new))
    assert "team Core → Web" in html
    assert "in a period or team the new version no longer has" in html
    planner = render_diff_html(shapes_changeset("multi-v1.storage.html", "multi-v2.storage.html"))
    assert "team Platform → Payments" in planner and "lane Marketing → Engineering" in planner


def _rows_store(tmp_path: Path, bodies: list[str]) -> Store:
    """Versions 1..n of page ``rows``, a day apart from 1 May 2024."""
    store = Store(tmp_path / "store")
    for n, body in enumerate(bodies, 1):
        doc = Document({"storage": body}, SourceMeta(version=n, when=f"2024-05-0{n}T10:00:00Z"))
        store.put("rows", doc, parse_document(doc))
    return store


def test_a_cards_log_says_team() -> None:
    versions = [
        Version(parse_text(page(f"rows-v{k}.storage.html")), when=f"2024-05-0{k}T10:00:00Z")
        for k in (1, 2)
    ]
    lineages = build_lineages(versions)
    log = render_log(lineages, find_cards(lineages, "Billing revamp"))
    assert "team Platform → Payments" in log and "lane Platform" not in log
    assert log.splitlines()[1].split()[:4] == ["date", "version", "period", "team"]


def test_the_reports_card_histories_head_the_column_team(tmp_path: Path) -> None:
    store = _rows_store(tmp_path, [page("rows-v1.storage.html"), page("rows-v2.storage.html")])
    html = slippage_extras(store, "rows").files["cards.html"].decode()
    assert "<th>period</th><th>team</th>" in html
    assert "team Platform → Payments" in html


def test_the_parsed_table_heads_the_lane_column_with_the_pages_word() -> None:
    assert render_roadmap(parse_text(page("rows-v1.storage.html"))).split()[:2] == [
        "period",
        "team",
    ]
    mixed = render_roadmap(parse_text(page("multi-v1.storage.html")))
    assert mixed.split()[:2] == ["period", "lane"]  # a planner's lanes and a table's teams


# --------------------------------------------------------------------------- the audit


def test_written_team_changes_are_lane_claims() -> None:
    periods = parse_text(page("rows-v2.storage.html")).periods
    (w,) = parse_sentence(HistoryEntry("2024-05-02", "Changed", TEAM), periods, lane_words=["Team"])
    assert (w.kind, w.from_lane, w.to_lane) == ("changed", "Platform", "Payments")
    assert w.to_json()["to_lane"] == "Payments"
    older = TEAM.replace("team", "lane")
    (w,) = parse_sentence(HistoryEntry("2024-05-02", "Changed", older), periods)
    assert (w.from_lane, w.to_lane) == ("Platform", "Payments")
    (w,) = parse_sentence(HistoryEntry("2024-05-02", None, "Changed “X”: status A → B."), periods)
    assert w.to_lane is None and "to_lane" not in w.to_json()


def _history_page(body: str, sentences: list[str]) -> str:
    items = "".join(f"<li><p>{s}</p></li>" for s in sentences)
    history = f"<ul><li><p>2024-05-02</p><ul><li><p>Changed</p><ul>{items}</ul></li></ul></li></ul>"
    intro = "<p>See the page history.</p>"  # the page's Change History section, still empty
    assert intro in body
    return body.replace(intro, history)


def _audited(tmp_path: Path, sentences: list[str]) -> dict[str, tuple[str, str]]:
    v2 = _history_page(page("rows-v2.storage.html"), sentences)
    report = audit_page(_rows_store(tmp_path, [page("rows-v1.storage.html"), v2]), "rows")
    return {e.written.sentence: (e.status, e.note) for e in report.entries}


def test_the_audit_checks_a_written_team_change(tmp_path: Path) -> None:
    wrong = "Changed “Billing revamp” (Q4 2021): team Platform → Ops."
    none = "Changed “Single sign-on” (Q3 2021): status In progress → Done; team Identity → Web."
    assert _audited(tmp_path / "right", [TEAM])[TEAM][0] == "confirmed"
    got = _audited(tmp_path / "wrong", [wrong, none])  # one sentence a change: one store each
    assert got[wrong][0] == "inaccurate"
    assert got[wrong][1].endswith("written team Platform → Ops, really Platform → Payments")
    assert got[none][0] == "inaccurate"
    assert got[none][1].endswith("written team Identity → Web, really no change of team")


def test_what_publish_writes_the_audit_reads_as_the_lane_change() -> None:
    v1, v2 = page("rows-v1.storage.html"), page("rows-v2.storage.html")
    cs = changeset(parse_text(v1), parse_text(v2))
    published = insert_entry(v2, render_changes(cs, "confluence"), create_section=True)
    assert TEAM in published
    again = changeset(parse_text(v1), parse_text(published))
    found = documented_changes(again, since="2024-05-02")
    assert len(found) == len(again.changes)
    assert {d.status for d in found} == {"confirmed"}
    (lane,) = [d for d in found if "lane" in again.changes[d.index].aspects]
    assert (lane.written.from_lane, lane.written.to_lane) == ("Platform", "Payments")


def test_stats_heads_its_lane_table_with_the_pages_word(tmp_path: Path) -> None:
    """``stats``'s table says "By team" for a row table, "By lane" for a grid; JSON keeps
    ``lanes`` (a versioned contract)."""
    store = _rows_store(tmp_path, [page("rows-v1.storage.html"), page("rows-v2.storage.html")])
    snaps = store.snapshots("rows")
    pairs = zip(snaps, store.roadmaps(snaps), strict=True)
    lineages = build_lineages(Version.of(s, r) for s, r in pairs)
    stats = compute_stats(lineages, "rows")
    table = render_stats(stats, "table")
    assert "By team\n" in table and "By lane" not in table
    assert "lanes" in json.loads(render_stats(stats, "json"))["summary"]
    real = (ROOT / "tests" / "data" / "openedx" / "v6.storage.html").read_text(encoding="utf-8")
    grid = [Version(parse_text(real), when="2024-05-01T10:00:00Z")]
    assert "By lane\n" in render_stats(compute_stats(build_lineages(grid), "grid"), "table")


def test_a_row_with_no_team_is_in_no_team_not_in_the_title_column() -> None:
    """An empty Team cell used to put the row in a lane named after the title column
    (``team Feature → Web``); it is "(no team)", and a table without a Team column keeps its
    one lane named after the title column."""
    old = parse_text(rows_table([("Search", "", "Q1 2024"), ("Offline", "Mobile", "Q1 2024")]))
    assert [i.lane for i in old.items] == ["(no team)", "Mobile"]
    new = parse_text(rows_table([("Search", "Web", "Q1 2024"), ("Offline", "Mobile", "Q1 2024")]))
    text = render_changes(changeset(old, new), "text")
    assert "team (no team) → Web" in text and "Feature" not in text
    eta = parse_text(rows_table([("Search", "", "Q1 2024")], lane_header="ETA Team"))
    assert eta.items[0].lane == "(no ETA Team)"
    plain = "<table><tr><th>Feature</th><th>Target</th></tr><tr><td>A</td><td>Q1 2024</td></tr>"
    assert (
        parse_text(plain + "<tr><td>B</td><td>Q2 2024</td></tr></table>").items[0].lane == "Feature"
    )
