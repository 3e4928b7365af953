"""`kill -9` of `wikisync sync` at every point where it writes, and two syncs at once on one store.

Real processes (`python -m wikisync sync`) against the fake Confluence on 127.0.0.1. The kill
loop is deterministic: each run is told through the fault-injection hook (wikisync/_faults.py)
to stop at one named point — from "lock held, nothing read" through the snapshot's temporary
directory, its rename, the CHANGELOG's temporary file and its replace, to "page done" — and is
SIGKILLed once it has written the marker saying it got there. Every point is hit the same
number of times, at least 50 kills in all, whatever the machine's load. After each kill the
store must be consistent and hold exactly what that point implies; the next run must complete;
at the end the store must equal the one a never-killed twin run built (same snapshot ids, same
CHANGELOG).
"""

from __future__ import annotations

import hashlib
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
from test_sync import PAGE, PID, TITLE, VIEW, WHEN, V, _state, check_consistent, stopped_at

from wikisync._faults import POINTS
from wikisync.cli import cli
from wikisync.store import BODY_FILES, Store, content_hash

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MIN_KILLS = 50
#: From this point on the new snapshot is in place; from the next the CHANGELOG has its entry.
STORED_FROM = POINTS.index("store:renamed")
LOGGED_FROM = POINTS.index("file:replaced")


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1], author=("Ann", "a-1"))
    return fake


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(fake.config_toml(PAGE, PID), encoding="utf-8")
    return path


def start(
    cfg: Path, store: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "wikisync", "--config", str(cfg), "--store", str(store)]
    return subprocess.Popen(
        [*argv, "sync", *args], env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def stopped_at_point(cfg: Path, store: Path, point: str, marker: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "wikisync", "--config", str(cfg), "--store", str(store), "sync"]
    return stopped_at(argv, point, marker, ENV)


def run(cfg: Path, store: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--store", str(store), "sync", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def check_store(root: Path) -> None:
    """check_consistent, and more: each snapshot's bodies hash to its id and its metadata, its
    roadmap.json is what the parser makes of them, and no temporary file is listed."""
    check_consistent(root)
    store = Store(root)
    for snap in store.snapshots(PAGE):
        doc = store.document(snap)
        digest = content_hash(doc.bodies)
        assert snap.hash == digest and snap.id.endswith(digest[:12]), snap.id
        assert set(doc.bodies) == {"storage", "view"}
        for fmt, name in BODY_FILES.items():
            if fmt in doc.bodies:
                assert (snap.path / name).read_bytes() == doc.bodies[fmt].encode("utf-8")
        json.loads((snap.path / "roadmap.json").read_bytes())
    for path in root.rglob(".tmp-*"):
        # a killed write's leftover: only in the page's directory, where the next put removes it
        assert path.parent == root / PAGE, path


def next_content(step: int) -> str:
    """Versions 2, 3, … 7, 1, 2, …: each differs from the one before (a restore is a version)."""
    return V[step % 7 + 1]


@pytest.mark.slow
def test_kill_9_at_every_point(fake: FakeConfluence, cfg: Path, tmp_path: Path) -> None:
    work, twin, marker = tmp_path / "work", tmp_path / "twin", tmp_path / "marker"
    assert run(cfg, work)[0] == 0 and run(cfg, twin)[0] == 0
    rounds = -(-MIN_KILLS // len(POINTS))  # every point equally often, MIN_KILLS at least
    kills = dict.fromkeys(POINTS, 0)
    leftovers = 0
    t_loop = time.monotonic()
    for step in range(1, rounds * len(POINTS) + 1):
        at = (step - 1) % len(POINTS)
        where = POINTS[at]
        fake.add_version(PID, next_content(step), VIEW)
        before = [s.version for s in Store(work).snapshots(PAGE)]
        log_before = (work / PAGE / "CHANGELOG.md").read_bytes()

        proc = stopped_at_point(cfg, work, where, marker)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, where
        kills[where] += 1

        # Whatever the kill interrupted, the store is consistent and holds what that point
        # implies: the new snapshot exactly from its rename on, the CHANGELOG entry exactly
        # from the file's replace on.
        check_store(work)
        after_kill = [s.version for s in Store(work).snapshots(PAGE)]
        assert after_kill == before + [step + 1] * (at >= STORED_FROM), where
        log_after = (work / PAGE / "CHANGELOG.md").read_bytes()
        assert (log_after != log_before) == (at >= LOGGED_FROM), where
        leftovers += any((work / PAGE).glob(".tmp-*"))

        # The next run completes, and matches a twin that was never killed.
        code, _, text = run(cfg, work)
        assert code == 0, (where, text)
        check_store(work)
        assert run(cfg, twin)[0] == 0
        versions = [s.version for s in Store(work).snapshots(PAGE)]
        assert versions == [s.version for s in Store(twin).snapshots(PAGE)], where
        assert versions[-1] == step + 1  # the live version: nothing lost
        assert len(versions) == len(set(versions))  # nothing duplicated
        log = (work / PAGE / "CHANGELOG.md").read_bytes()
        assert log == (twin / PAGE / "CHANGELOG.md").read_bytes(), where  # repaired at once

    assert sum(kills.values()) >= MIN_KILLS and set(kills.values()) == {rounds}
    assert leftovers >= rounds  # the temporary-directory points left one each time
    assert _state(work) == _state(twin)  # same snapshot ids, bodies, roadmaps and CHANGELOG
    text = (work / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.count("<!-- wikisync: 2") == rounds * len(POINTS)  # one entry per pair, once
    print(
        f"kill loop: {sum(kills.values())} runs killed by SIGKILL, {rounds} at each of "
        f"{len(POINTS)} points; {leftovers} left a half-written temporary; "
        f"{time.monotonic() - t_loop:.0f} s"
    )


# --------------------------------------------------------------------------- two runs at once
# Staged with the same hook instead of a slowed server: the first run stops at "sync:checked"
# (lock held, talking to the server) until the test deletes its marker; a second run that is to
# wait stops at "lock:busy" first, which proves it met the lock. No timing involved.


def _holding_the_lock(cfg: Path, store: Path, marker: Path) -> subprocess.Popen[bytes]:
    return stopped_at_point(cfg, store, "sync:checked", marker)


def _let_go(marker: Path, proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    marker.unlink()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out.decode(), err.decode()


def test_two_syncs_at_once_one_fails_cleanly(
    fake: FakeConfluence, cfg: Path, tmp_path: Path
) -> None:
    store, single = tmp_path / "store", tmp_path / "single"
    assert run(cfg, store)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    shutil.copytree(store, single)
    assert run(cfg, single)[0] == 0
    first = _holding_the_lock(cfg, store, tmp_path / "first")
    second = start(cfg, store)
    out2, err2 = (b.decode() for b in second.communicate(timeout=120))
    assert (second.returncode, out2) == (2, ""), err2
    lines = err2.strip().splitlines()
    assert len(lines) == 1, err2
    assert lines[0].startswith("wikisync: error: another wikisync run holds the lock on ")
    assert lines[0].endswith("(use --wait SECONDS to wait)")
    code, out, err = _let_go(tmp_path / "first", first)
    assert (code, err) == (0, "") and out.startswith(f"{PAGE}: v2 stored\n"), (out, err)
    check_store(store)
    assert _state(store) == _state(single)


def test_two_syncs_at_once_with_wait(fake: FakeConfluence, cfg: Path, tmp_path: Path) -> None:
    store, single = tmp_path / "store", tmp_path / "single"
    assert run(cfg, store)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    shutil.copytree(store, single)
    assert run(cfg, single)[0] == 0
    first = _holding_the_lock(cfg, store, tmp_path / "first")
    argv = [sys.executable, "-m", "wikisync", "--config", str(cfg), "--store", str(store)]
    second = stopped_at([*argv, "sync", "--wait", "600"], "lock:busy", tmp_path / "second", ENV)
    (tmp_path / "second").unlink()  # it met the lock and waits for it
    results = [_let_go(tmp_path / "first", first)]
    out, err = second.communicate(timeout=120)
    results.append((second.returncode, out.decode(), err.decode()))
    assert all(code == 0 and err == "" for code, _, err in results), results
    outs = [out.splitlines()[0] for _, out, _ in results]
    assert outs == [f"{PAGE}: v2 stored", f"{PAGE}: up to date (v2)"]  # the second one waited
    check_store(store)
    assert _state(store) == _state(single)
    digest = hashlib.sha256((store / PAGE / "CHANGELOG.md").read_bytes()).hexdigest()
    assert digest == hashlib.sha256((single / PAGE / "CHANGELOG.md").read_bytes()).hexdigest()


def test_waiting_run_gives_up_after_its_wait(
    fake: FakeConfluence, cfg: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert run(cfg, store)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    first = _holding_the_lock(cfg, store, tmp_path / "first")
    # The first run holds the lock until the test lets it go: the second can only end by
    # giving up after its own wait.
    second = start(cfg, store, "--wait", "0.5")
    out, err = second.communicate(timeout=120)
    assert (second.returncode, out) == (2, b""), err
    assert err.decode().strip().endswith("(gave up after waiting 0.5 s)")
    assert _let_go(tmp_path / "first", first)[0] == 0
    check_store(store)
    assert [s.version for s in Store(store).snapshots(PAGE)] == [1, 2]
