"""Faults a real site and a real disk produce, against `wikisync sync`: each run ends within a
bound, says what went wrong in one line, exits 2, and leaves the store as it was.

Network faults come from the fake Confluence on 127.0.0.1 (tests/confluence_server.py): server
errors, 429/503 storms, connection resets, read timeouts, a body trickled a few bytes at a time,
truncated bodies, a failure on the second body of a two-request fetch. A full disk is a small
tmpfs mounted by the test (root only; CI runs as root) and, everywhere, ENOSPC injected at each
fsync in turn; a read-only store is a read-only bind mount and, everywhere, EROFS injected.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_sync import PAGE, PID, TITLE, VIEW, WHEN, V, _state, check_consistent

from wikisync.cli import cli
from wikisync.errors import FetchError
from wikisync.store import Store
from wikisync.sync import http_get
from wikisync.wikis.confluence import ConfluenceClient

ROOT = Path(__file__).resolve().parent.parent
BIG = 10**6  # "every request from now on"


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1], author=("Ann", "a-1"))
    return fake


def write_config(path: Path, fake: FakeConfluence, **extra: str | int) -> Path:
    path.write_text(fake.config_toml(PAGE, PID, **extra), encoding="utf-8")
    return path


def run(cfg: Path, store: Path, *args: str) -> tuple[int, str, str, float]:
    """An in-process `wikisync sync` (the CLI's whole error path), timed."""
    t0 = time.monotonic()
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--store", str(store), "sync", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr, time.monotonic() - t0


def tree(root: Path) -> dict[str, bytes | None]:
    """Every directory (None) and file (its bytes) under root: "byte-identical" means equal."""
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def one_line(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"wikisync: error: {PAGE}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def base(fake: FakeConfluence, tmp_path: Path) -> Path:
    """A store holding v1, with v2 waiting on the wiki: a sync has a version to fetch."""
    root = tmp_path / "base"
    cfg = write_config(tmp_path / "base.toml", fake)
    assert run(cfg, root)[0] == 0
    fake.add_version(PID, V[2], VIEW, when=WHEN[2], author=("Bob", "b-2"))
    return root


@pytest.fixture
def clean(base: Path, fake: FakeConfluence, tmp_path: Path) -> dict[str, object]:
    """What a fault-free sync leaves: every recovered store must end up exactly like it."""
    root = tmp_path / "clean"
    shutil.copytree(base, root)
    code, out, err, _ = run(write_config(tmp_path / "clean.toml", fake), root)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{PAGE}: v2 stored\n")
    fake.requests.clear()
    return _state(root)


# --------------------------------------------------------------------------- network faults

Arm = Callable[[FakeConfluence], object]

# (id, how to break the server, config, what the one line says, bound in seconds)
FAULTS: list[tuple[str, Arm, dict[str, str | int], str, float]] = [
    ("500-storm", lambda f: f.fail(500, BIG), {}, "HTTP 500", 12),
    (
        "503-retry-after",
        lambda f: f.fail(503, BIG, headers={"Retry-After": "1"}, body="Service Unavailable"),
        {},
        "HTTP 503",
        8,
    ),
    ("429-storm", lambda f: f.storm(60), {}, "HTTP 429", 8),
    ("429-retry-after-too-long", lambda f: f.rate_limit(BIG, retry_after="3600"), {}, "3600", 3),
    ("connection-reset", lambda f: f.hangup(BIG), {}, "connection was reset", 10),
    ("read-timeout", lambda f: f.slow(2.5, BIG), {}, "read timed out", 15),
    ("slow-drip", lambda f: f.drip(0.05, BIG, chunk=8), {"retries": 0}, "within 2 s", 4),
    ("truncated-json", lambda f: f.truncate(BIG), {}, "not JSON", 3),
    ("cut-mid-body", lambda f: f.truncate(BIG, cut=True), {}, "broke mid-response", 12),
    # the version check succeeds and the body request fails
    ("body-reset", lambda f: setattr(f.hangup(BIG), "skip", 1), {}, "connection was reset", 10),
    ("body-drip", lambda f: setattr(f.drip(0.05, BIG), "skip", 1), {"retries": 0}, "2 s", 4),
    # v2 reads storage and view in two requests: the storage arrives, the view never does
    ("view-500", lambda f: setattr(f.fail(500, BIG), "skip", 2), {"api": "v2"}, "HTTP 500", 12),
    ("view-cut", lambda f: setattr(f.truncate(BIG), "skip", 2), {"api": "v2"}, "not JSON", 3),
]


#: The faults whose retries and waits take seconds of wall time (real backoff, real timeouts):
#: .ci/run's `-m slow` runs them; the fast default keeps one of each kind of answer.
SLOW_FAULTS = frozenset(
    {"503-retry-after", "429-storm", "read-timeout", "slow-drip", "body-reset", "body-drip",
     "view-500", "connection-reset"}
)  # fmt: skip


@pytest.mark.parametrize(
    ("arm", "extra", "needle", "bound"),
    [
        pytest.param(*f[1:], id=f[0], marks=[pytest.mark.slow] if f[0] in SLOW_FAULTS else [])
        for f in FAULTS
    ],
)
def test_fault_is_one_line_exit_2_and_stores_nothing(
    fake: FakeConfluence,
    base: Path,
    clean: dict[str, object],
    tmp_path: Path,
    arm: Arm,
    extra: dict[str, str | int],
    needle: str,
    bound: float,
) -> None:
    config = {"retries": 2, "timeout": 1, **extra}
    cfg = write_config(tmp_path / "config.toml", fake, **config)  # type: ignore[arg-type]
    before = tree(base)
    arm(fake)
    code, out, err, took = run(cfg, base)
    line = one_line(code, err, needle)
    assert out == ""
    assert took < bound, f"{took:.1f} s: {line}"
    attempts = 1 + int(config["retries"])
    assert 1 <= len(fake.requests) <= 3 * attempts  # bounded retries (v2: three requests)
    assert tree(base) == before  # no partial snapshot, no leftovers, CHANGELOG untouched

    fake.clear_faults()  # the site recovers: the next run (clean's config) stores the version
    code, out, err, _ = run(write_config(tmp_path / "plain.toml", fake), base)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{PAGE}: v2 stored\n")
    check_consistent(base)
    assert _state(base) == clean


@pytest.mark.parametrize(
    "arm",
    [
        pytest.param(lambda f: f.storm(1.5), id="429-storm-shorter-than-the-retries"),
        pytest.param(
            lambda f: f.fail(503, 2, headers={"Retry-After": "1"}),
            id="503-twice",
            marks=pytest.mark.slow,  # real Retry-After waits: run by .ci/run
        ),
        pytest.param(lambda f: f.hangup(2), id="two-resets", marks=pytest.mark.slow),
        pytest.param(lambda f: f.fail(502, 2), id="502-twice", marks=pytest.mark.slow),
        pytest.param(lambda f: f.slow(1.5, 1), id="one-read-timeout", marks=pytest.mark.slow),
    ],
)
def test_transient_fault_is_retried_and_the_run_completes(
    fake: FakeConfluence, base: Path, clean: dict[str, object], tmp_path: Path, arm: Arm
) -> None:
    cfg = write_config(tmp_path / "config.toml", fake, retries=3, timeout=1)
    arm(fake)
    code, out, err, took = run(cfg, base)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{PAGE}: v2 stored\n")
    assert took < 10
    assert _state(base) == clean


@pytest.mark.slow  # four real processes, each run to its time bound: 20 s
def test_faults_in_real_processes(
    fake: FakeConfluence, base: Path, clean: dict[str, object], tmp_path: Path
) -> None:
    """The same through `python -m wikisync sync`: the process ends within its bound."""
    cfg = write_config(tmp_path / "config.toml", fake, retries=2, timeout=1)
    drip_cfg = write_config(tmp_path / "drip.toml", fake, retries=0, timeout=1)
    before = tree(base)
    cases: list[tuple[Arm, Path, str, float]] = [
        (lambda f: f.storm(60), cfg, "HTTP 429", 10),
        (lambda f: f.hangup(BIG), cfg, "connection was reset", 12),
        (lambda f: f.drip(0.05, BIG, chunk=8), drip_cfg, "no complete answer within 2 s", 6),
        (lambda f: f.fail(500, BIG), cfg, "HTTP 500", 14),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for arm, config, needle, bound in cases:
        fake.clear_faults()
        arm(fake)
        argv = [sys.executable, "-m", "wikisync", "--config", str(config), "--store", str(base)]
        t0 = time.monotonic()
        proc = subprocess.run(
            [*argv, "sync"], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        took = time.monotonic() - t0
        one_line(proc.returncode, proc.stderr, needle)
        assert took < bound, (took, proc.stderr)
        assert proc.stdout == ""
        assert tree(base) == before
    fake.clear_faults()
    assert run(cfg, base)[0] == 0
    assert _state(base) == clean


# --------------------------------------------------------------------------- the total bound


def test_total_bound_holds_across_retries(fake: FakeConfluence) -> None:
    """A trickle on every attempt: the bound covers the retries and their waits too."""
    fake.drip(0.05, BIG, chunk=8)
    client = ConfluenceClient(
        fake.base_url, cloud=False, timeout=(1, 1), retries=3, backoff=0.01, total=1.5
    )
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete answer within 1\.5 s") as ei:
        client.page(PID)
    assert time.monotonic() - t0 < 2.5
    assert f"page {PID}" in str(ei.value) and "\n" not in str(ei.value)
    client.close()


def test_default_total_is_the_worst_case_of_the_other_settings() -> None:
    c = ConfluenceClient("http://127.0.0.1:9/wiki", timeout=(2, 5), retries=3, max_wait=10)
    assert c.total == 4 * (2 + 5) + 3 * 10
    assert ConfluenceClient("http://127.0.0.1:9/wiki", retries=0, timeout=1).total == 2


def test_headers_trickled_forever_are_cut(fake: FakeConfluence) -> None:
    """A server that never finishes its headers (a raw socket): only the total bound ends it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.is_set():
                conn.sendall(b"a")
                time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    client = ConfluenceClient(
        f"http://127.0.0.1:{port}/wiki", cloud=False, timeout=(1, 1), retries=0, total=1.5
    )
    t0 = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"within 1\.5 s"):
            client.current_version(PID)
        assert time.monotonic() - t0 < 2.5
    finally:
        stop.set()
        listener.close()
        client.close()


@pytest.mark.slow  # three seconds of trickle on purpose: run by .ci/run
def test_url_source_trickle_is_cut(fake: FakeConfluence) -> None:
    """`http(s)://` sources (any rendered page) have the same bound."""
    url = fake.add_file("/page.html", "<html><body>" + "x" * 20_000 + "</body></html>")
    fake.drip(0.05, BIG, chunk=64, path="^/page.html$")
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete answer within 3 s"):
        http_get(url, timeout=(0.5, 0.5))
    assert time.monotonic() - t0 < 4.5


# --------------------------------------------------------------------------- a full disk


@contextlib.contextmanager
def mounted(*args: str, target: Path) -> Iterator[bool]:
    """`mount ARGS TARGET` for the block; False when mounting is not possible here."""
    ok = (
        hasattr(os, "geteuid")
        and os.geteuid() == 0
        and shutil.which("mount") is not None
        and subprocess.run(
            ["mount", *args, str(target)], capture_output=True, check=False
        ).returncode
        == 0
    )
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file so that about ``leave`` bytes stay free on the file system."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def check_failed_write(root: Path, before: dict[str, bytes | None], line: str) -> None:
    """Nothing half-written, nothing existing lost: old files identical, only whole snapshots
    added, no temporary leftovers. The CHANGELOG may hold one whole new entry on top (when only
    the fsync of its directory failed, after the atomic rename)."""
    after = tree(root)
    for rel, data in before.items():
        now = after.get(rel, b"<gone>")
        if rel.endswith(("feed.atom", ".wikisync-feed")):
            continue  # derived from the snapshots, replaced whole; the next run rewrites it
        if rel.endswith("CHANGELOG.md") and now != data:
            assert data is not None and now is not None, (rel, line)
            title, _, rest = data.partition(b"\n\n")
            assert now.startswith(title + b"\n\n<!-- wikisync: ") and now.endswith(rest), line
            continue
        assert now == data, (rel, line)
    assert not [rel for rel in after if ".tmp-" in rel], line
    check_consistent(root)


def test_full_disk_at_every_point(
    fake: FakeConfluence, base: Path, clean: dict[str, object], tmp_path: Path
) -> None:
    """A real full file system (tmpfs), with the free space stepped 4 KB at a time, so the
    disk fills up in the snapshot's bodies, its roadmap, its metadata and the CHANGELOG."""
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=2m", "tmpfs", target=disk) as ok:
        if not ok:
            pytest.skip("cannot mount a tmpfs here (not root?); see the simulated ENOSPC test")
        cfg = write_config(tmp_path / "config.toml", fake)
        store = disk / "store"
        failures: list[str] = []
        for leave in range(0, 200_000, 4096):
            if store.exists():
                shutil.rmtree(store)
            (disk / "filler").unlink(missing_ok=True)
            shutil.copytree(base, store)
            filler = fill(disk, leave)
            before = tree(store)
            code, _, err, _ = run(cfg, store)
            if code == 0:
                break
            line = one_line(code, err, "the disk is full")
            failures.append(line)
            check_failed_write(store, before, line)
            filler.unlink()  # space again: the next run completes and repairs
            code, _, err, _ = run(cfg, store)
            assert (code, err) == (0, ""), err
            assert _state(store) == clean, line
        else:
            pytest.fail("the sync never succeeded, even with 200 KB free")
        assert _state(store) == clean
        where = {"snapshot" if "snapshot of" in f else "CHANGELOG" for f in failures}
        assert len(failures) >= 5 and where == {"snapshot", "CHANGELOG"}, failures
        in_put = sum("snapshot of" in f for f in failures)
        print(
            f"full tmpfs: {len(failures)} fill levels failed ({in_put} in the snapshot, "
            f"{len(failures) - in_put} in the CHANGELOG), each recovered; ok from {leave} B free"
        )


def test_full_disk_simulated_at_each_fsync(
    fake: FakeConfluence,
    base: Path,
    clean: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ENOSPC from the k-th fsync, for every k a sync reaches: works without root too."""
    cfg = write_config(tmp_path / "config.toml", fake)
    real_fsync = os.fsync
    k = 0
    for k in range(40):
        work = tmp_path / f"work{k}"
        shutil.copytree(base, work)
        before = tree(work)
        calls = [0]

        def failing_fsync(fd: int, calls: list[int] = calls, at: int = k) -> None:
            calls[0] += 1
            if calls[0] > at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", failing_fsync)
        code, _, err, _ = run(cfg, work)
        monkeypatch.setattr(os, "fsync", real_fsync)
        if code == 0:
            break
        line = one_line(code, err, "the disk is full")
        check_failed_write(work, before, line)
        assert run(cfg, work)[0] == 0
        assert _state(work) == clean, line
    assert k >= 6, "a sync makes at least six fsyncs (bodies, roadmap, meta, dirs, CHANGELOG)"
    print(f"simulated ENOSPC: failed at each of the {k} fsyncs of a sync, each recovered")


# --------------------------------------------------------------------------- a read-only store


def test_read_only_store(
    fake: FakeConfluence, base: Path, clean: dict[str, object], tmp_path: Path
) -> None:
    """A read-only bind mount of the whole store, then of the page's directory only."""
    cfg = write_config(tmp_path / "config.toml", fake)
    before = tree(base)
    page_dir = base / PAGE
    for target, needle in ((base, "lock file"), (page_dir, "snapshot of")):
        with mounted("--bind", str(target), target=target) as ok:
            if not ok:
                pytest.skip("cannot bind-mount here (not root?); see the simulated EROFS test")
            remount = ["mount", "-o", "remount,bind,ro", str(target)]
            assert subprocess.run(remount, capture_output=True, check=False).returncode == 0
            with pytest.raises(OSError):
                (target / "probe").write_bytes(b"")  # really read-only, even for root
            code, out, err, _ = run(cfg, base)
        assert code == 2 and out == "", err
        line = err.strip()
        assert "\n" not in line and line.startswith("wikisync: error: "), err
        assert "read-only" in line and needle in line, line
        assert tree(base) == before
    assert run(cfg, base)[0] == 0  # writable again: nothing was lost, the run completes
    assert _state(base) == clean


def test_read_only_store_simulated(
    fake: FakeConfluence,
    base: Path,
    clean: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EROFS from every directory or file creation (what a read-only file system says)."""
    cfg = write_config(tmp_path / "config.toml", fake)
    before = tree(base)

    def erofs(*args: object, **kw: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "mkdir", erofs)
    code, out, err, _ = run(cfg, base)
    one_line(code, err, "cannot write snapshot", "read-only")
    assert out == "" and tree(base) == before
    monkeypatch.undo()
    assert run(cfg, base)[0] == 0
    assert _state(base) == clean
    assert [s.version for s in Store(base).snapshots(PAGE)] == [1, 2]
