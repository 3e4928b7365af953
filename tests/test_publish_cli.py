"""`wikisync publish` and `sync --publish`, against the fake Confluence on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.cli import cli
from wikisync.parse import parse_text
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
V = {n: (DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)}
WHEN = {
    v["version"]: v["when"].replace("Z", ".000Z")
    for v in json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
}
PID = "1812037671"
PAGE = "roadmap"
ENTRY = "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler."
# v3 as an editor saves it before writing its Change History entry: publish has work to do (the
# entry v3 carries by hand is already the history of these moves: publish leaves those out).
HAND = V[3].index("<li><p>2020-09-25</p>")
UNWRITTEN = V[3][:HAND] + V[3][V[3].index("<li><p>2020-09-11</p>") :]


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, "Roadmap", V[2], when=WHEN[2])
    return fake


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID), encoding="utf-8")
    return path


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def storage(fake: FakeConfluence) -> str:
    return fake.pages[PID].current.storage


def test_publish_is_a_dry_run_by_default_then_writes_with_yes(
    fake: FakeConfluence, cfg: Path
) -> None:
    assert run(cfg, "sync")[0] == 0  # v1 stored
    fake.add_version(PID, UNWRITTEN, when=WHEN[3])  # someone edits the roadmap (page v2)

    code, out, err = run(cfg, "publish")
    assert code == 0, err
    assert ENTRY in out  # the entry, as text
    assert "+" in out and "(dry run: nothing was written; add --yes to publish)" in out
    assert fake.hits(method="PUT") == 0
    assert len(fake.pages[PID].versions) == 2

    code, out, err = run(cfg, "publish", "--yes")
    assert code == 0, err
    assert f"{PAGE}: page {PID}: published the 2020-09-25 entry as v3" in out
    assert fake.hits(method="PUT") == 1
    page = fake.pages[PID]
    assert page.current.number == 3
    assert page.current.message == "wikisync: Change History for 2020-09-25"
    body = storage(fake)
    assert ENTRY in body
    # our edit touched only the Change History: the table is the same as v2's
    before, after = parse_text(page.versions[1].storage), parse_text(body)
    assert before.items == after.items

    # publishing again writes nothing
    code, out, _ = run(cfg, "publish", "--yes")
    assert code == 0 and fake.hits(method="PUT") == 1
    assert "nothing to publish" in out or "already in the Change History" in out

    # the next sync stores the page as it is now: the roadmap changed since v1 (the edit), and
    # the entry is not published a second time
    code, out, _ = run(cfg, "sync", "--publish", "--yes", "--exit-code")
    assert code == 1, out
    assert ENTRY in out
    assert fake.hits(method="PUT") == 1 and storage(fake).count(ENTRY) == 1


def test_our_own_edit_is_not_a_roadmap_change(fake: FakeConfluence, cfg: Path) -> None:
    run(cfg, "sync")
    fake.add_version(PID, UNWRITTEN, when=WHEN[3])
    assert run(cfg, "sync", "--exit-code")[0] == 1  # the edit, synced
    code, out, err = run(cfg, "publish", "--yes")
    assert code == 0 and "published" in out, err
    code, out, _ = run(cfg, "sync", "--exit-code")  # our edit: Change History only
    assert code == 0, out
    assert out == f"{PAGE}: v3 stored, no roadmap changes\n"
    code, out, _ = run(cfg, "publish", "--yes")
    assert code == 0 and "nothing to publish" in out
    assert fake.hits(method="PUT") == 1


def test_sync_publish_yes_publishes_each_entry_once(fake: FakeConfluence, cfg: Path) -> None:
    run(cfg, "sync")
    fake.add_version(PID, UNWRITTEN, when=WHEN[3])
    code, out, err = run(cfg, "sync", "--publish", "--yes", "--exit-code")
    assert code == 1, err
    assert ENTRY in out and "published the 2020-09-25 entry" in out
    assert fake.hits(method="PUT") == 1
    assert storage(fake).count(ENTRY) == 1
    # our own edit: stored, no roadmap change, nothing published again
    code, out, _ = run(cfg, "sync", "--publish", "--yes", "--exit-code")
    assert code == 0, out
    assert fake.hits(method="PUT") == 1
    assert storage(fake).count(ENTRY) == 1
    assert len(Store(cfg.parent / "store").snapshots(PAGE)) == 3


def test_publish_without_a_section_refuses_unless_asked(fake: FakeConfluence, cfg: Path) -> None:
    no_history = V[2].split("<h2>Change History</h2>")[0]
    fake.pages[PID].versions.clear()
    fake.add_version(PID, no_history, when=WHEN[2])
    run(cfg, "sync")
    fake.add_version(PID, V[3].split("<h2>Change History</h2>")[0], when=WHEN[3])
    code, _, err = run(cfg, "publish", "--yes")
    assert code == 2 and "--create-section" in err and len(err.strip().splitlines()) == 1
    assert fake.hits(method="PUT") == 0
    code, _, err = run(cfg, "publish", "--yes", "--create-section")
    assert code == 0, err
    assert "<h2>Change History</h2>" in storage(fake) and ENTRY in storage(fake)


def test_read_only_token_is_one_clear_line(fake: FakeConfluence, cfg: Path) -> None:
    run(cfg, "sync")
    fake.add_version(PID, UNWRITTEN, when=WHEN[3])
    fake.fail(403, method="PUT")
    code, _, err = run(cfg, "publish", "--yes")
    assert code == 2
    assert "can read but not edit" in err and len(err.strip().splitlines()) == 1
