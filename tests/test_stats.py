"""wikisync stats and log --card: the numbers a roadmap owner asks for, checked by hand on the
bundled example (see the journeys written down in tests/test_lineage.py), in every format."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikisync.cli import cli
from wikisync.errors import WikisyncError
from wikisync.lineage import Lineages, Version, build_lineages
from wikisync.stats import CSV_COLUMNS, SCHEMA_STATS, Stats, compute_stats, render_stats
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, root / EXAMPLE)
    return root


@pytest.fixture(scope="module")
def lineages(store_dir: Path) -> Lineages:
    store = Store(store_dir)
    return build_lineages([Version.of(s, store.roadmap(s)) for s in store.snapshots(EXAMPLE)])


@pytest.fixture(scope="module")
def stats(lineages: Lineages) -> Stats:
    return compute_stats(lineages, EXAMPLE)


def run(store: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--store", str(store), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, err: str) -> str:
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikisync: error: "), err
    return lines[0]


# --------------------------------------------------------------------------- the numbers


def test_summary_matches_the_hand_count(stats: Stats) -> None:
    doc = stats.to_json()["summary"]
    assert {k: doc[k] for k in ("cards", "at_start", "added", "deleted", "on_roadmap")} == {
        "cards": 76,
        "at_start": 71,
        "added": 5,
        "deleted": 3,
        "on_roadmap": 73,
    }
    # Deferred at least once: the eight cards of the hand table; 4+7+4+3+4+2+1+1 rows.
    assert (doc["deferred"], doc["moved_up"], doc["periods_slipped"]) == (8, 5, 26)
    assert [c["title"] for c in doc["most_deferred"]] == [
        "Eventing Standard xAPI/Caliper (OEP-26)",  # 3 deferrals
        "Authn and Authz Standardized",  # 2, 7 rows
        "Backend Plugins Django Event API (OEP-50)",  # 2, 4 rows
        "Backend Plugins Python APIs",  # 2, 3 rows
        "Developer Handbook",  # 1, 4 rows
        "Eventing Inter-service messaging",  # 1, 2 rows
        "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7",  # 1, 1 row, first on the page (Q2)
        "Onboarding Course",  # 1, 1 row, in the Backlog of v1
    ]


def test_per_lane_and_per_organisation(stats: Stats) -> None:
    lanes = {g.name.rsplit(" / ", 1)[-1]: g for g in stats.lanes}
    # Integrate and not modify core: 12 cards in v1 + Backend Plugins Python APIs (v5); five
    # deferred (OEP-26, Authn, OEP-50, Inter-service, Python APIs) by 4+7+4+2+3 rows.
    g = lanes["Integrate and not modify core"]
    assert (g.cards, g.deferred, g.periods_slipped) == (13, 5, 20)
    assert (g.share_deferred, g.mean_periods_slipped) == (0.385, 1.538)
    # Understand the Platform: Onboarding Slides v4, Tech Radar, Developer Handbook (4 rows),
    # Onboarding Course (1 row).
    g = lanes["Understand the Platform"]
    assert (g.cards, g.deferred, g.periods_slipped, g.mean_periods_slipped) == (4, 2, 5, 1.25)
    assert lanes["Deploy change"].deferred == 0
    orgs = {g.name: g for g in stats.organisations}
    # Edly: Test Nose to Pytest and OEP-26 (4 rows).
    assert (orgs["Edly"].cards, orgs["Edly"].deferred, orgs["Edly"].mean_periods_slipped) == (
        2,
        1,
        2.0,
    )
    # EduNext now: OEP-50, Python APIs, Upgrade Python 3.8, MFE Open Deployment.
    assert (orgs["EduNext"].cards, orgs["EduNext"].deferred, orgs["EduNext"].periods_slipped) == (
        4,
        2,
        7,
    )
    assert orgs["Appsembler"].cards == 1 and orgs["Appsembler"].deferred == 1
    assert [g.name for g in stats.organisations][:3] == ["edX", "OpenCraft", "EduNext"]
    assert stats.organisations[-1].name == "(none)"


def test_stages_reached(stats: Stats) -> None:
    stages = dict(stats.stages)
    # Pilot in v1: Devstack decentralized, Toggle Docs, MFE Open Deployment, Conventional
    # Commits, Containerization Phase 1, Inter-service messaging, Pact.io, Eventing Message
    # bus, Frontend Plugins, Tutor-for-Open-edX-Deploys, Tutor-for-Devstack.
    assert stages["Pilot"] == 11
    assert stages["Prototype"] == 1  # Devstack DevData (OEP-37), added in v7


def test_one_card_in_full(stats: Stats) -> None:
    card = next(c for c in stats.to_json()["cards"] if c["title"].startswith("Backend Plugins D"))
    assert {k: v for k, v in card.items() if k not in ("history", "id")} == {
        "title": "Backend Plugins Django Event API (OEP-50)",
        "renamed_from": [
            "Backend Plugins Django Event API (OEP-50), Python APIs",
            "Backend Plugins Django Event API (OEP-50), Python APIs, Plugin Templates",
            "Backend Plugins Django Event API (OEP-50), Plugin Templates",
        ],
        "first_seen": "2020-09-10",
        "first_period": "FY21 Q2 (Oct-Dec)",
        "period": "FY22 H1 (Jul-Dec)",
        "removed": None,
        "deferrals": 2,
        "moved_up": 1,
        "periods_slipped": 4,
        "days_on_roadmap": 264,  # 2020-09-10 to 2021-06-01, the last stored version
        "stage_changes": 0,
        "lane": "Cross-boundary Development (x-repo, x-service, x-org) / "
        "Integrate and not modify core",
        "organisations": ["EduNext"],
        "stage": None,
        "stages": [],
        "replaces": None,
        "replaced_by": None,
    }
    assert [h["version"] for h in card["history"]] == [1, 2, 4, 5, 7]


def test_deleted_and_replaced_cards(stats: Stats) -> None:
    cards = {c["title"]: c for c in stats.to_json()["cards"]}
    gone = cards["Eventing Inter-service messaging"]
    assert (gone["period"], gone["removed"], gone["days_on_roadmap"]) == (None, "2021-06-01", 264)
    old = cards["Decentralized Devstack Adoption"]
    new = cards["Devstack Doc wins, Eval Tutor"]
    assert old["replaced_by"] == {"id": new["id"], "title": new["title"]}
    assert new["replaces"] == {"id": old["id"], "title": old["title"]}
    assert (old["removed"], new["first_seen"], new["first_period"]) == (
        "2021-02-10",
        "2021-02-10",
        "FY21 Q3 (Jan-Mar)",
    )
    assert old["days_on_roadmap"] == 153  # 2020-09-10 to 2021-02-10


def test_since_counts_only_what_happened_from_that_day(lineages: Lineages) -> None:
    stats = compute_stats(lineages, EXAMPLE, since="2021-01-01")
    doc = stats.to_json()["summary"]
    # v6 and v7 only; the version in force on 2021-01-01 is v5 (71 cards + Python APIs).
    assert (doc["at_start"], doc["added"], doc["deleted"]) == (72, 4, 3)
    assert (doc["deferred"], doc["moved_up"], doc["periods_slipped"]) == (8, 1, 21)
    oep26 = next(c for c in stats.cards if c.title.startswith("Eventing Standard"))
    assert (oep26.deferrals, oep26.periods_slipped, oep26.days_on_roadmap) == (2, 3, 151)
    assert len(oep26.lineage.steps) == 4  # the history still shows the whole journey
    assert [p.version for p in stats.timeline] == [6, 7]
    assert stats.timeline[-1].cumulative_periods_slipped == 21


def test_since_leaves_out_cards_gone_before_it(lineages: Lineages) -> None:
    stats = compute_stats(lineages, EXAMPLE, since="2021-03-01")
    titles = {c.title for c in stats.cards}
    assert "Decentralized Devstack Adoption" not in titles  # replaced on 2021-02-10
    assert "Monolith PR Standards" in titles  # deleted on 2021-06-01
    assert stats.to_json()["summary"]["periods_slipped"] == 1 + 2 + 2 + 4 + 1


@pytest.mark.parametrize("since", ["2021-13-01", "yesterday", "2030-01-01"])
def test_bad_since_is_an_error(lineages: Lineages, since: str) -> None:
    with pytest.raises(WikisyncError, match="--since"):
        compute_stats(lineages, EXAMPLE, since=since)


def test_timeline_per_version(stats: Stats) -> None:
    rows = [(p.version, p.deferred, p.periods_slipped, p.added, p.deleted) for p in stats.timeline]
    assert rows == [
        (1, 0, 0, 0, 0),
        (2, 0, 0, 0, 0),
        (3, 1, 2, 0, 0),  # Authn Q2 → Q4
        (4, 2, 3, 0, 0),  # OEP-26 Q1 → Q2, OEP-50 Q2 → Q4
        (5, 0, 0, 1, 0),  # Backend Plugins Python APIs split off
        (6, 5, 11, 3, 1),
        (7, 5, 10, 1, 2),
    ]
    assert stats.timeline[-1].cumulative_periods_slipped == 26


# --------------------------------------------------------------------------- formats


def test_json_is_the_documented_schema_and_deterministic(stats: Stats, lineages: Lineages) -> None:
    text = render_stats(stats, "json")
    doc = json.loads(text)
    assert doc["schema"] == SCHEMA_STATS == "wikisync.stats/1"
    assert set(doc) == {"schema", "page", "since", "versions", "summary", "timeline", "cards"}
    assert doc["versions"] == {
        "count": 7,
        "first": {"version": 1, "date": "2020-09-10"},
        "last": {"version": 7, "date": "2021-06-01"},
    }
    assert render_stats(compute_stats(lineages, EXAMPLE), "json") == text


def test_csv_has_one_row_per_card(stats: Stats) -> None:
    rows = list(csv.DictReader(io.StringIO(render_stats(stats, "csv"))))
    assert len(rows) == 76
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["title"] == "Eventing Standard xAPI/Caliper (OEP-26)"
    assert (rows[0]["deferrals"], rows[0]["periods_slipped"], rows[0]["period"]) == (
        "3",
        "4",
        "FY22 H1 (Jul-Dec)",
    )


def test_table_shows_the_most_deferred_first(stats: Stats) -> None:
    out = render_stats(stats, "table")
    lines = out.splitlines()
    assert lines[0] == (
        "Slippage of openedx-roadmap-example: v1 (2020-09-10) to v7 (2021-06-01), 7 versions"
    )
    assert lines[1] == "76 cards: 71 at the start, 5 added, 3 deleted; 73 on the roadmap now"
    assert lines[2] == "8 deferred at least once (26 periods slipped in all), 5 moved up"
    first = lines[lines.index("Cards that moved (most deferred first)") + 2].split()
    assert first[:3] == ["3", "4", "0"] and "xAPI/Caliper" in " ".join(first)
    assert "  (68 other cards did not move)" in lines


def test_unknown_format_is_an_error(stats: Stats) -> None:
    with pytest.raises(WikisyncError, match="unknown stats format"):
        render_stats(stats, "xml")


# --------------------------------------------------------------------------- the CLI


def test_cli_stats_takes_a_name_or_page(store_dir: Path) -> None:
    code, out, err = run(store_dir, "stats", EXAMPLE)
    assert code == 0, err
    assert out.startswith("Slippage of openedx-roadmap-example")
    code2, out2, _ = run(store_dir, "stats", "--page", EXAMPLE)
    assert (code2, out2) == (0, out)
    code, out, _ = run(store_dir, "stats", EXAMPLE, "--format", "json", "--since", "2021-01-01")
    assert code == 0 and json.loads(out)["since"] == "2021-01-01"


def test_cli_stats_errors_are_one_line(store_dir: Path) -> None:
    code, _, err = run(store_dir, "stats", EXAMPLE, "--since", "01/02/2021")
    assert "--since: not an ISO date" in one_line_error(code, err)
    code, _, err = run(store_dir, "stats", "no-such-page")
    assert "unknown page 'no-such-page'" in one_line_error(code, err)
    code, _, err = run(store_dir, "stats", EXAMPLE, "--page", "other")
    assert code == 2 and "two pages given" in err
    code, _, err = run(store_dir, "stats")
    assert code == 2 and "which page?" in err


def test_cli_log_card(store_dir: Path) -> None:
    code, out, err = run(store_dir, "log", EXAMPLE, "--card", "authn")
    assert code == 0, err
    assert out.splitlines()[0] == "“Authn and Authz Standardized”"
    assert out.splitlines()[-1].endswith("deferred Q3 → Backlog")
    code, out2, _ = run(store_dir, "log", "--page", EXAMPLE, "--card", "AUTHN AND")
    assert (code, out2) == (0, out)
    # Several matches: each lineage, one block each.
    code, out, _ = run(store_dir, "log", EXAMPLE, "--card", "eventing message bus")
    assert code == 0 and out.count("\n\n") == 3  # the four phases of the initiative


def test_cli_log_card_without_a_match_suggests_titles(store_dir: Path) -> None:
    code, out, err = run(store_dir, "log", EXAMPLE, "--card", "Develper Handbok")
    line = one_line_error(code, err)
    assert "no card matches 'Develper Handbok'" in line and "“Developer Handbook”" in line
    assert out == ""


def test_cli_log_without_card_still_lists_versions(store_dir: Path) -> None:
    code, out, _ = run(store_dir, "log", EXAMPLE)
    assert code == 0 and out.splitlines()[0].startswith("v7 ")
    code, out2, _ = run(store_dir, "log", "--page", EXAMPLE)
    assert out2 == out


def test_csv_cells_never_run_as_formulas() -> None:
    """Card titles are page text: a title starting with = + - @ is written with a leading '."""
    from wikisync.lineage import Version, build_lineages
    from wikisync.model import Item, Period, Roadmap
    from wikisync.stats import compute_stats, render_stats

    def version(n: int, period: str) -> Version:
        rm = Roadmap(
            periods=[Period("Q1", "Q1", index=0), Period("Q2", "Q2", index=1)],
            items=[Item(id=f"i{n}", title='=HYPERLINK("http://x","y")', period=period)],
        )
        return Version(roadmap=rm, when=f"2021-0{n}-01T00:00:00Z", version=n)

    stats = compute_stats(build_lineages([version(1, "Q1"), version(2, "Q2")]), "p")
    rows = list(csv.reader(render_stats(stats, "csv").splitlines()))
    assert rows[1][1] == '\'=HYPERLINK("http://x","y")'
