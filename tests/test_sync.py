"""`wikisync sync`: snapshots and CHANGELOG kept in step with the live page, even when killed.

Against the fake Confluence on 127.0.0.1 with the reconstructed versions of the real page; the
kill test runs `python -m wikisync sync` as real processes and SIGKILLs them mid-run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.cli import cli
from wikisync.model import Document, SourceMeta
from wikisync.render.markdown import escape_markdown
from wikisync.store import Store
from wikisync.sync import MARKER_RE

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
V = {n: (DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)}
VIEW = (DATA / "current.view.html").read_text(encoding="utf-8")
WHEN = {
    n: v["when"].replace("Z", ".000Z")
    for n, v in ((v["version"], v) for v in json.loads((DATA / "versions.json").read_text()))
}
PID = "1812037671"
TITLE = "FY21-22 Architecture User Story Roadmap"
PAGE = "roadmap"


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1], author=("Ann", "a-1"))
    return fake


def edit(fake: FakeConfluence, n: int, page_id: str = PID) -> int:
    """Save the reconstructed version n as the page's next version."""
    return fake.add_version(page_id, V[n], VIEW, when=WHEN[n], author=("Bob", "b-2"))


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID), encoding="utf-8")
    return path


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def changelog(cfg: Path, page: str = PAGE) -> str:
    path = cfg.parent / "store" / page / "CHANGELOG.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def check_consistent(root: Path, page: str = PAGE) -> None:
    """Every listed snapshot complete, versions unique, each CHANGELOG pair once and adjacent."""
    store = Store(root)
    snaps = store.snapshots(page)
    for snap in snaps:
        assert not snap.id.startswith(".")
        names = {p.name for p in snap.path.iterdir()}
        assert names == {"meta.json", "roadmap.json", "body.storage.xml", "body.view.html"}
        store.roadmap(snap)
        store.document(snap)
    versions = [s.version for s in snaps]
    assert len(versions) == len(set(versions)), versions
    path = root / page / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pairs = [(m["old"], m["new"]) for m in MARKER_RE.finditer(text) if m["old"]]
    assert len(pairs) == len(set(pairs)), pairs
    adjacent = {(a.id, b.id) for a, b in itertools.pairwise(snaps)}
    assert set(pairs) <= adjacent
    assert text.count("<!-- wikisync: start ") <= 1


# --------------------------------------------------------------------------- the main cycle


def test_first_run_then_edit_then_up_to_date(fake: FakeConfluence, cfg: Path) -> None:
    code, out, err = run(cfg, "sync", "--exit-code")
    assert (code, out, err) == (0, f"{PAGE}: first snapshot v1 stored\n", "")
    assert MARKER_RE.search(changelog(cfg))["start"].startswith("20200910T160000Z-v1-")  # type: ignore[index]

    edit(fake, 2)
    edit(fake, 3)  # two edits between runs: one entry for the pair of stored versions
    code, out, _ = run(cfg, "sync", "--exit-code")
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [f"{PAGE}: v3 stored", f"{PAGE}: changes from v1 to v3", "- 2020-09-25"]
    assert "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler." in out
    log = changelog(cfg)
    entry = out.split("\n", 2)[2].strip()
    # The printed entry is the one in CHANGELOG.md, there written as escaped Markdown.
    for line in entry.splitlines():
        assert escape_markdown(line.strip().removeprefix("- ")) in log, line
    assert log.startswith(f"# Change History — {PAGE}\n\n<!-- wikisync: 20200910T160000Z-v1-")
    snaps = Store(cfg.parent / "store").snapshots(PAGE)
    assert [s.version for s in snaps] == [1, 3]
    assert snaps[-1].when == "2020-09-25T16:00:00Z" and snaps[-1].author == "Bob"
    assert snaps[-1].meta.url and snaps[-1].meta.url.startswith(fake.base_url)

    bodies = len(fake.body_requests())
    code, out, _ = run(cfg, "sync", "--exit-code")
    assert (code, out) == (0, f"{PAGE}: up to date (v3)\n")
    assert len(fake.body_requests()) == bodies  # only the version number was asked for
    assert changelog(cfg) == log
    code, out, err = run(cfg, "sync", "--quiet", "--exit-code")
    assert (code, out, err) == (0, "", "")
    check_consistent(cfg.parent / "store")


def test_quiet_prints_only_changes(fake: FakeConfluence, cfg: Path) -> None:
    assert run(cfg, "sync", "-q") == (0, "", "")
    edit(fake, 2)
    code, out, _ = run(cfg, "sync", "-q")
    assert code == 0
    assert out.startswith(f"{PAGE}: changes from v1 to v2\n- 2020-09-11\n")
    assert "stored" not in out


def test_edit_without_roadmap_changes(fake: FakeConfluence, cfg: Path) -> None:
    run(cfg, "sync")
    fake.add_version(PID, V[1] + "<p>A note below the table.</p>", VIEW)
    code, out, _ = run(cfg, "sync", "--exit-code")
    assert (code, out) == (0, f"{PAGE}: v2 stored, no roadmap changes\n")
    assert run(cfg, "sync", "-q") == (0, "", "")
    # the pair is recorded all the same, so it is never diffed again
    assert len([m for m in MARKER_RE.finditer(changelog(cfg)) if m["old"]]) == 1


def test_same_content_is_recorded_not_refetched(fake: FakeConfluence, cfg: Path) -> None:
    run(cfg, "sync")
    fake.add_version(PID, V[1], VIEW, title="Renamed page")  # a title-only edit
    code, out, _ = run(cfg, "sync")
    assert (code, out) == (0, f"{PAGE}: up to date (v2, same content as v1)\n")
    bodies = len(fake.body_requests())
    assert run(cfg, "sync")[1] == f"{PAGE}: up to date (v2)\n"
    assert len(fake.body_requests()) == bodies
    # a restore of an older content is a version of its own: the revert is in the history
    edit(fake, 3)
    run(cfg, "sync")
    fake.add_version(PID, V[1], VIEW)
    code, out, err = run(cfg, "sync", "--exit-code")
    assert (code, err) == (1, "")
    assert out.startswith(f"{PAGE}: v4 stored\n{PAGE}: changes from v3 to v4\n")
    assert "Moved “Onboarding Course” from Q4 to Backlog, organisations Appsembler → none." in out
    check_consistent(cfg.parent / "store")


def test_page_by_space_and_title(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[[page]]\nname = "{PAGE}"\nbase_url = "{fake.base_url}"\nspace = "AC"\n'
        f'title = "{TITLE}"\napi = "v2"\n',
        encoding="utf-8",
    )
    assert (
        run(cfg, "--store", str(tmp_path / "store"), "sync")[1]
        == f"{PAGE}: first snapshot v1 stored\n"
    )
    bodies = len(fake.body_requests())
    code, out, _ = run(cfg, "--store", str(tmp_path / "store"), "sync")
    assert (code, out) == (0, f"{PAGE}: up to date (v1)\n")
    assert len(fake.body_requests()) == bodies  # the stored page id made the check cheap


# --------------------------------------------------------------------------- failures


def test_one_failing_page_does_not_stop_the_others(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(fake.config_toml("gone", "999") + fake.config_toml(PAGE, PID), encoding="utf-8")
    code, out, err = run(cfg, "sync")
    assert code == 2
    assert out == f"{PAGE}: first snapshot v1 stored\n"
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("wikisync: error: gone: cannot read page 999")
    assert "HTTP 404" in lines[0]
    # --page picks pages; an unknown one is a one-line config error
    assert run(cfg, "sync", "--page", PAGE)[:2] == (0, f"{PAGE}: up to date (v1)\n")
    code, _, err = run(cfg, "sync", "--page", "nope")
    assert code == 2 and "unknown page 'nope'" in err


def test_lock_held_by_another_process(fake: FakeConfluence, cfg: Path) -> None:
    root = cfg.parent / "store"
    code = (
        "import sys\nfrom wikisync.store import Store\n"
        f"with Store({str(root)!r}).lock():\n"
        "    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code_, out, err = run(cfg, "sync")
        assert (code_, out) == (2, "")
        assert err.startswith("wikisync: error: another wikisync run holds the lock on ")
        assert "--wait SECONDS" in err and len(err.strip().splitlines()) == 1
        assert fake.requests == []
        assert holder.stdin is not None
        holder.stdin.close()  # released shortly: --wait gets through
        code_, out, _ = run(cfg, "sync", "--wait", "10")
        assert (code_, out) == (0, f"{PAGE}: first snapshot v1 stored\n")
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=10)


class Killed(BaseException):
    """Stands in for SIGKILL at a precise point of an in-process run."""


def test_killed_between_put_and_append_is_repaired(
    fake: FakeConfluence, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(cfg, "sync")
    edit(fake, 2)
    original = Store.append_changelog

    def die_on_pair(self: Store, page: str, text: str) -> None:
        if ".." in text.splitlines()[0]:
            raise Killed
        original(self, page, text)

    monkeypatch.setattr(Store, "append_changelog", die_on_pair)
    with pytest.raises(Killed):
        CliRunner().invoke(cli, ["--config", str(cfg), "sync"])
    monkeypatch.setattr(Store, "append_changelog", original)
    assert [s.version for s in Store(cfg.parent / "store").snapshots(PAGE)] == [1, 2]
    assert ".." not in changelog(cfg)

    code, out, _ = run(cfg, "sync")  # nothing new on the wiki: the entry is written now
    assert code == 0
    assert out.startswith(f"{PAGE}: up to date (v2)\n{PAGE}: changes from v1 to v2\n- 2020-09-11")
    log = changelog(cfg)
    assert log.count("<!-- wikisync: ") == 2
    assert run(cfg, "sync")[1] == f"{PAGE}: up to date (v2)\n"
    assert changelog(cfg) == log
    check_consistent(cfg.parent / "store")


def _state(root: Path) -> dict[str, object]:
    """What a run leaves that matters: files (not the lock, not tmp leftovers), meta sans time."""
    state: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() or path.name == ".wikisync.lock" or path.name.startswith(".tmp-"):
            continue
        if path.name == "meta.json":
            meta = json.loads(path.read_text(encoding="utf-8"))
            meta.pop("stored_at")
            state[rel] = meta
        else:
            state[rel] = path.read_bytes()
    return state


def stopped_at(
    argv: list[str], point: str, marker: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """A real ``wikisync`` process that has reached fault point ``point`` and sleeps there
    (wikisync/_faults.py): waits for its marker, not for a clock, so where a kill lands does
    not depend on the machine's load. The deadline only turns a hang into a failure."""
    from wikisync._faults import ENV_MARKER, ENV_POINT

    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(
        argv,
        env={**env, ENV_POINT: point, ENV_MARKER: str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended ({proc.returncode}) before {point}: {out!r} {err!r}")
        if time.monotonic() > deadline:  # pragma: no cover - a hang, not a slow machine
            proc.kill()
            pytest.fail(f"the run never reached {point}")
        time.sleep(0.005)
    assert marker.read_text(encoding="utf-8") == point
    return proc


#: The writing phase: bodies half written, complete but not renamed, renamed, the CHANGELOG's
#: temporary file, and replaced. (tests/test_crash.py kills at every point, 55 times, -m slow.)
KILL_POINTS = (
    "store:bodies-written",
    "store:tmp-complete",
    "store:renamed",
    "file:tmp-written",
    "file:replaced",
)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_in_the_writing_phase_leaves_a_consistent_store(
    fake: FakeConfluence, cfg: Path, tmp_path: Path, point: str
) -> None:
    """Kill a real run at one point of its writing phase; the next run repairs and carries on,
    and the store ends as a run that was never killed leaves it."""
    base = tmp_path / "base"
    assert run(cfg, "--store", str(base), "sync")[0] == 0
    edit(fake, 2)
    clean, work = tmp_path / "clean", tmp_path / "work"
    shutil.copytree(base, clean)
    shutil.copytree(base, work)
    assert run(cfg, "--store", str(clean), "sync")[0] == 0

    argv = [sys.executable, "-m", "wikisync", "--config", str(cfg), "--store", str(work), "sync"]
    proc = stopped_at(argv, point, tmp_path / "marker", {**os.environ, "PYTHONPATH": str(ROOT)})
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    check_consistent(work)
    stored = [s.version for s in Store(work).snapshots(PAGE)]
    assert stored == ([1, 2] if KILL_POINTS.index(point) >= 2 else [1])
    code, _, text = run(cfg, "--store", str(work), "sync")
    assert code == 0, text
    check_consistent(work)
    assert _state(work) == _state(clean), f"kill at {point}"
    log = (work / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert log.count("## 2020-09-11") == 1  # CHANGELOG.md is Markdown


# --------------------------------------------------------------------------- a newer parser


def test_stored_roadmaps_read_the_old_way_are_re_derived_before_the_entry(
    fake: FakeConfluence, cfg: Path
) -> None:
    """After an upgrade (or a change of parse options) the stored roadmaps were read the old
    way while the new version is read the new way: the entry would report the parser's change
    as an edit. Sync reads the latest stored body again first and, when it reads differently,
    re-derives the stored roadmaps; the entry is the one a consistent store gives."""
    root = cfg.parent / "store"
    assert run(cfg, "sync")[0] == 0
    [v1] = Store(root).snapshots(PAGE)
    clean = (v1.path / "roadmap.json").read_bytes()
    stale = json.loads(clean)  # as if an older parser had put the first card in another lane
    stale["items"][0]["lane"] = "Read the old way"
    (v1.path / "roadmap.json").write_text(json.dumps(stale), encoding="utf-8")

    edit(fake, 2)
    code, out, _ = run(cfg, "sync")
    assert code == 0
    assert out.splitlines()[0] == (
        f"{PAGE}: v2 stored (first re-derived 1 stored roadmap from its body: the parser or "
        "its options changed)"
    )
    assert "Read the old way" not in out and "Read the old way" not in changelog(cfg)
    assert (v1.path / "roadmap.json").read_bytes() == clean

    edit(fake, 3)  # the store is current now: nothing to re-derive, nothing said
    code, out, _ = run(cfg, "sync")
    assert out.splitlines()[0] == f"{PAGE}: v3 stored"
    check_consistent(root)


def _stale_first_version(root: Path) -> bytes:
    """Rewrite v1's roadmap.json as an older parser might have read it; returns the clean one."""
    v1 = Store(root).snapshots(PAGE)[0]
    clean = (v1.path / "roadmap.json").read_bytes()
    stale = json.loads(clean)
    stale["items"][0]["lane"] = "Read the old way"
    (v1.path / "roadmap.json").write_text(json.dumps(stale), encoding="utf-8")
    return clean


def test_a_stored_version_against_the_live_page_is_read_as_the_live_page_is(
    fake: FakeConfluence, cfg: Path, tmp_path: Path
) -> None:
    """`diff` (latest against live), `diff NAME@v1 FILE` and publish's entry read the stored
    side from its body, as the other side is read now: a stale roadmap.json cannot put the
    parser's change into the entry. Two stored versions are still compared as stored."""
    from wikisync.config import load_config
    from wikisync.sync import live_changeset

    root = cfg.parent / "store"
    assert run(cfg, "sync")[0] == 0
    clean = _stale_first_version(root)
    edit(fake, 2)
    code, out, _ = run(cfg, "diff")
    assert code == 0 and "Changed" in out and "Read the old way" not in out
    body = tmp_path / "v2.storage.html"
    body.write_text(V[2], encoding="utf-8")
    code, same, _ = run(cfg, "diff", f"{PAGE}@v1", str(body))
    assert code == 0 and "Read the old way" not in same

    store, page_cfg = Store(root), load_config(cfg).pages[PAGE]
    cs = live_changeset(store, page_cfg, Document({"storage": V[2]}, SourceMeta(version=2)))
    assert cs is not None and cs.changes
    lanes = {w.lane for c in cs.changes for w in (c.from_, c.to) if w is not None}
    assert "Read the old way" not in lanes
    # read in memory: the stored file is left as it is (sync or reparse rewrites it)
    assert (store.snapshots(PAGE)[0].path / "roadmap.json").read_bytes() != clean


def test_a_broken_latest_roadmap_is_rebuilt_before_the_next_version(
    fake: FakeConfluence, cfg: Path
) -> None:
    root = cfg.parent / "store"
    assert run(cfg, "sync")[0] == 0
    [v1] = Store(root).snapshots(PAGE)
    clean = (v1.path / "roadmap.json").read_bytes()
    (v1.path / "roadmap.json").write_text("not json", encoding="utf-8")
    edit(fake, 2)
    code, out, err = run(cfg, "sync")
    assert (code, err) == (0, "") and "first re-derived 1 stored roadmap" in out
    assert (v1.path / "roadmap.json").read_bytes() == clean
    check_consistent(root)


def test_an_unreadable_latest_body_does_not_stop_sync(fake: FakeConfluence, cfg: Path) -> None:
    """The newest body that can be read tells whether the store is current; a body gone
    missing is logged and its roadmap kept, and the cron job goes on."""
    root = cfg.parent / "store"
    run(cfg, "sync")
    clean = _stale_first_version(root)
    edit(fake, 2)
    run(cfg, "sync")  # re-derives v1, stores v2
    _stale_first_version(root)
    v2 = Store(root).snapshots(PAGE)[-1]
    (v2.path / "body.storage.xml").unlink()
    edit(fake, 3)
    code, out, _ = run(cfg, "sync")
    assert code == 0, out
    assert out.splitlines()[0].startswith(f"{PAGE}: v3 stored")
    assert "first re-derived 1 stored roadmap" in out
    assert (Store(root).snapshots(PAGE)[0].path / "roadmap.json").read_bytes() == clean
