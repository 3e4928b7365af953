"""`kill -9` of `wikisync sync` at random points, and two syncs at once on one store.

Real processes (`python -m wikisync sync`) against the fake Confluence on 127.0.0.1. The kill
loop runs at least 50 killed runs: the wiki gets a new version before each, the server is slowed
so the run spends time in every phase (start-up, version check, body download, parse, snapshot,
diff, CHANGELOG), and the kill lands at a seeded random moment of the whole run. After each kill
the store must be consistent and the next run must complete; at the end the store must equal the
one a never-killed twin run built (same snapshot ids, same CHANGELOG).

    WIKISYNC_KILL_SEED=123 python -m pytest tests/test_crash.py -s   # replay one sequence
"""

from __future__ import annotations

import hashlib
import json
import os
import random
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
from test_sync import PAGE, PID, TITLE, VIEW, WHEN, V, _state, check_consistent

from wikisync.cli import cli
from wikisync.store import BODY_FILES, Store, content_hash

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MIN_KILLS = 50
SLOW = 0.05  # seconds the server waits before each answer (three requests per stored version)


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


def start(cfg: Path, store: Path, *args: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "wikisync", "--config", str(cfg), "--store", str(store)]
    return subprocess.Popen(
        [*argv, "sync", *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


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


def test_kill_9_at_random_points(fake: FakeConfluence, cfg: Path, tmp_path: Path) -> None:
    seed = int(os.environ.get("WIKISYNC_KILL_SEED", "0") or 0) or random.randrange(1, 10**9)
    print(f"kill loop seed: {seed} (replay: WIKISYNC_KILL_SEED={seed})")
    rng = random.Random(seed)
    work, twin = tmp_path / "work", tmp_path / "twin"
    assert run(cfg, work)[0] == 0 and run(cfg, twin)[0] == 0
    slow = fake.slow(SLOW, times=0)

    # Time whole runs from outside (start-up included; the quickest of three, as the machine
    # may be busy): kills are drawn over all of it, half of them in the writing phase.
    fake.add_version(PID, next_content(1), VIEW)
    timings = []
    for k in range(3):
        probe = tmp_path / f"probe{k}"
        shutil.copytree(work, probe)
        slow.times = 10**6
        seen = len(fake.requests)
        t0 = time.monotonic()
        proc = start(cfg, probe)
        out, err = proc.communicate(timeout=60)
        span = time.monotonic() - t0
        assert proc.returncode == 0, err
        assert out.decode().startswith(f"{PAGE}: v2 stored\n")
        _, body = (r.at - t0 for r in fake.requests[seen:])  # v1: the version check, the body
        timings.append((span, body + SLOW))
    span, body_done = min(timings)  # after body_done: parse, snapshot, diff, CHANGELOG
    print(f"probe runs (whole run, body received): {timings}")

    killed = completed = step = 0
    points: list[float] = []
    phases = {"start-up": 0, "network": 0, "parse/store/diff/append": 0}
    stored_then_killed = leftovers = 0
    t_loop = time.monotonic()
    while killed < MIN_KILLS or phases["parse/store/diff/append"] < MIN_KILLS // 4:
        step += 1
        assert step <= 3 * MIN_KILLS, f"only {killed} of {step} runs were killed mid-run"
        if step > 1:
            fake.add_version(PID, next_content(step), VIEW)
        before = [s.version for s in Store(work).snapshots(PAGE)]

        slow.times = 10**6
        seen = len(fake.requests)
        t0 = time.monotonic()
        proc = start(cfg, work)
        # Half the kills anywhere in the run, half in its short writing phase.
        delay = rng.uniform(0.0, span) if step % 2 else rng.uniform(body_done, span)
        time.sleep(max(0.0, delay - (time.monotonic() - t0)))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        slow.times = 0
        made = [r.at - t0 for r in fake.requests[seen:]]
        if proc.returncode == -signal.SIGKILL:
            killed += 1
            points.append(delay)
            # Where it died, from this run's own requests as the server saw them.
            if not made:
                phases["start-up"] += 1
            elif len(made) < 2 or delay < made[1] + SLOW:
                phases["network"] += 1
            else:
                phases["parse/store/diff/append"] += 1
        else:
            assert proc.returncode == 0, err
            completed += 1
            span = max(body_done + 0.05, span * 0.97)  # runs got quicker than the probes

        # Whatever the kill interrupted, the store is consistent and kept what it had.
        check_store(work)
        after_kill = [s.version for s in Store(work).snapshots(PAGE)]
        assert after_kill[: len(before)] == before, (delay, before, after_kill)
        assert len(after_kill) - len(before) <= 1
        stored_then_killed += proc.returncode != 0 and len(after_kill) > len(before)
        leftovers += any((work / PAGE).glob(".tmp-*"))

        # The next run completes, and matches a twin that was never killed.
        code, _, text = run(cfg, work)
        assert code == 0, (delay, text)
        check_store(work)
        assert run(cfg, twin)[0] == 0
        versions = [s.version for s in Store(work).snapshots(PAGE)]
        assert versions == [s.version for s in Store(twin).snapshots(PAGE)], delay
        assert versions[-1] == step + 1  # the live version: nothing lost
        assert len(versions) == len(set(versions))  # nothing duplicated
        log = (work / PAGE / "CHANGELOG.md").read_bytes()
        assert log == (twin / PAGE / "CHANGELOG.md").read_bytes(), delay  # repaired at once

    assert _state(work) == _state(twin)  # same snapshot ids, bodies, roadmaps and CHANGELOG
    text = (work / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.count("<!-- wikisync: 2") == step  # one entry per stored pair, each once
    points.sort()
    assert points[0] < span * 0.25 and points[-1] > span * 0.75  # spread over the whole run
    print(
        f"kill loop: {step} runs, {killed} killed by SIGKILL (at {points[0]:.2f}..{points[-1]:.2f}"
        f" s of a {span:.2f} s run; {phases}), {completed} finished first; "
        f"{stored_then_killed} killed after storing the snapshot, {leftovers} left a "
        f"half-written temporary; {time.monotonic() - t_loop:.0f} s; seed {seed}"
    )


# --------------------------------------------------------------------------- two runs at once


def _pair(fake: FakeConfluence, cfg: Path, store: Path, *args: str) -> list[tuple[int, str, str]]:
    """Two runs at once: the second starts as soon as the first is talking to the server (so
    it holds the lock, whatever the start-up times on a busy machine), and overlaps it."""
    seen = len(fake.requests)
    procs = [start(cfg, store, *args)]
    deadline = time.monotonic() + 30
    while len(fake.requests) == seen and time.monotonic() < deadline:
        time.sleep(0.01)
    procs.append(start(cfg, store, *args))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        results.append((proc.returncode, out.decode(), err.decode()))
    return results


def test_two_syncs_at_once_one_fails_cleanly(
    fake: FakeConfluence, cfg: Path, tmp_path: Path
) -> None:
    store, single = tmp_path / "store", tmp_path / "single"
    assert run(cfg, store)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    shutil.copytree(store, single)
    assert run(cfg, single)[0] == 0
    fake.slow(1.0, times=10**6)  # the first run holds the lock for two seconds more
    results = sorted(_pair(fake, cfg, store))
    (ok, out, err), (failed, out2, err2) = results
    assert (ok, err) == (0, "") and out.startswith(f"{PAGE}: v2 stored\n"), results
    assert (failed, out2) == (2, ""), results
    lines = err2.strip().splitlines()
    assert len(lines) == 1, err2
    assert lines[0].startswith("wikisync: error: another wikisync run holds the lock on ")
    assert lines[0].endswith("(use --wait SECONDS to wait)")
    check_store(store)
    assert _state(store) == _state(single)


def test_two_syncs_at_once_with_wait(fake: FakeConfluence, cfg: Path, tmp_path: Path) -> None:
    store, single = tmp_path / "store", tmp_path / "single"
    assert run(cfg, store)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    shutil.copytree(store, single)
    assert run(cfg, single)[0] == 0
    fake.slow(1.0, times=10**6)
    results = _pair(fake, cfg, store, "--wait", "30")
    assert all(code == 0 and err == "" for code, _, err in results), results
    outs = sorted(out.splitlines()[0] for _, out, _ in results)
    assert outs == [f"{PAGE}: up to date (v2)", f"{PAGE}: v2 stored"]  # the second one waited
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
    fake.slow(2.0, times=10**6)  # the first run holds the lock 4 s after its first request
    seen = len(fake.requests)
    first = start(cfg, store)
    deadline = time.monotonic() + 30
    while len(fake.requests) == seen and time.monotonic() < deadline:
        time.sleep(0.01)  # it is talking to the server: it holds the lock
    t0 = time.monotonic()
    second = start(cfg, store, "--wait", "0.5")
    out, err = second.communicate(timeout=60)
    took = time.monotonic() - t0
    assert (second.returncode, out) == (2, b""), err
    assert err.decode().strip().endswith("(gave up after waiting 0.5 s)")
    assert took < 3.5  # start-up and half a second, not the other run's 4 s
    assert first.wait(timeout=60) == 0
    check_store(store)
    assert [s.version for s in Store(store).snapshots(PAGE)] == [1, 2]
