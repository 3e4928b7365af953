"""Tokens stay secret: never in output at any verbosity, errors, exceptions, the store or argv;
never sent to another host; and a config naming credentials that others can read is flagged.

Every failing run here is a real `python -m wikisync -vv sync` against the fake Confluence on
127.0.0.1 with the token in its environment; stdout, stderr and every file under the store are
searched for the token, its Basic form (base64 of user:token) and its Bearer header.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_sync import PAGE, PID, TITLE, VIEW, WHEN, V

from wikisync.cli import cli
from wikisync.errors import FetchError
from wikisync.wikis.confluence import Auth, ConfluenceClient

ROOT = Path(__file__).resolve().parent.parent
USER = "lead@example.org"
TOKEN = "ATATT3xFfGF0-wikisync-s3cret-t0ken-4711"
WRONG = "ATATT3xFfGF0-wrong-t0ken-0815"
BIG = 10**6
KINDS = ("basic", "bearer")


def forms(token: str) -> list[str]:
    """Every way a token can show: raw, Basic (base64 user:token), the Bearer header."""
    pair = base64.b64encode(f"{USER}:{token}".encode()).decode()
    return [token, pair, f"Bearer {token}", token.encode().hex()]


def server_auth(kind: str) -> tuple[str, ...]:
    return ("basic", USER, TOKEN) if kind == "basic" else ("bearer", TOKEN)


def client_auth(kind: str, token: str) -> Auth:
    return Auth("basic", USER, token) if kind == "basic" else Auth("bearer", token=token)


@pytest.fixture(scope="module")
def _other_server() -> Iterator[HTTPServer]:
    """A second site ("localhost", another port): credentials must never reach it."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(_server: HTTPServer, kind: str) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server, auth=server_auth(kind), allow_anonymous=False)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1], author=("Ann", "a-1"))
    return fake


@pytest.fixture
def other(_other_server: HTTPServer, kind: str) -> FakeConfluence:
    _other_server.clear()
    other = FakeConfluence(_other_server, host="localhost", auth=server_auth(kind))
    other.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1])
    return other


def write_config(tmp_path: Path, fake: FakeConfluence, kind: str, **extra: str | int) -> Path:
    cfg = tmp_path / "config.toml"
    names = {"user_env": "WS_USER", "token_env": "WS_TOKEN"} if kind == "basic" else {}
    if kind == "bearer":
        names = {"token_env": "WS_TOKEN"}
    cfg.write_text(fake.config_toml(PAGE, PID, auth=kind, **names, **extra), encoding="utf-8")
    cfg.chmod(0o600)
    return cfg


def env_with(token: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "WS_USER": USER, "WS_TOKEN": token}


def sync_vv(cfg: Path, store: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "wikisync", "-vv", "--config", str(cfg), "--store", str(store)]
    return subprocess.run(
        [*argv, "sync", *args],
        env=env_with(token),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_nowhere(token: str, texts: list[str], *roots: Path) -> int:
    """No form of the token in the texts or in any file under roots; returns files searched."""
    files = [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
    for needle in forms(token):
        for text in texts:
            assert needle not in text, needle
        for path in files:
            assert needle.encode() not in path.read_bytes(), (needle, path)
    return len(files)


def debug_was_on(err: str) -> None:
    """-vv really logged the requests (else a clean stderr would prove nothing)."""
    assert "wikisync: INFO: GET http://127.0.0.1:" in err, err  # -v logs each request
    assert "urllib3" in err or "Starting new HTTP connection" in err, err


# --------------------------------------------------------------------------- failing runs


def test_wrong_token_401(fake: FakeConfluence, kind: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = sync_vv(write_config(tmp_path, fake, kind), store, WRONG)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("wikisync: error")]
    assert len(errors) == 1 and "HTTP 401" in errors[0], proc.stderr
    assert "$WS_TOKEN" in errors[0]  # names where the token came from, not the token
    debug_was_on(proc.stderr)
    assert_nowhere(WRONG, [proc.stdout, proc.stderr], store, tmp_path)
    assert_nowhere(TOKEN, [proc.stdout, proc.stderr], store, tmp_path)
    assert all(s.authorization for s in fake.requests)  # it did send the (wrong) credentials


@pytest.mark.slow  # a bounded storm of retries with real backoff, for each auth kind
def test_500_storm_echoing_the_credentials(fake: FakeConfluence, kind: str, tmp_path: Path) -> None:
    """A server (or proxy) whose error page repeats the Authorization header it received."""
    cfg = write_config(tmp_path, fake, kind, retries=2)
    header = forms(TOKEN)[1 if kind == "basic" else 2]
    fake.fail(500, BIG, body={"message": f"Internal error; request had Authorization: {header}"})
    store = tmp_path / "store"
    t0 = time.monotonic()
    proc = sync_vv(cfg, store, TOKEN)
    assert time.monotonic() - t0 < 20
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("wikisync: error")]
    assert len(errors) == 1 and "HTTP 500" in errors[0], proc.stderr
    assert "***" in errors[0]  # the server's message is shown, with the secret masked
    debug_was_on(proc.stderr)
    assert_nowhere(TOKEN, [proc.stdout, proc.stderr], store, tmp_path)


def test_redirect_to_another_host(
    fake: FakeConfluence, other: FakeConfluence, kind: str, tmp_path: Path
) -> None:
    other.allow_anonymous = False  # the other host wants credentials: it never gets ours
    fake.redirect(other.origin, times=BIG)
    store = tmp_path / "store"
    proc = sync_vv(write_config(tmp_path, fake, kind), store, TOKEN)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("wikisync: error")]
    assert len(errors) == 1 and "HTTP 401" in errors[0] and "localhost" in errors[0], errors
    debug_was_on(proc.stderr)
    assert_nowhere(TOKEN, [proc.stdout, proc.stderr], store, tmp_path)
    assert fake.requests and all(s.authorization for s in fake.requests)
    assert other.requests and all(s.authorization is None for s in other.requests)


def test_successful_run_stores_no_secret(fake: FakeConfluence, kind: str, tmp_path: Path) -> None:
    cfg, store = write_config(tmp_path, fake, kind), tmp_path / "store"
    first = sync_vv(cfg, store, TOKEN)
    assert first.returncode == 0, first.stderr
    fake.add_version(PID, V[2], VIEW, when=WHEN[2])
    second = sync_vv(cfg, store, TOKEN, "--exit-code")
    assert second.returncode == 1, second.stderr  # a change: a CHANGELOG entry was written
    assert "changes from v1 to v2" in second.stdout
    debug_was_on(second.stderr)
    texts = [first.stdout, first.stderr, second.stdout, second.stderr]
    assert assert_nowhere(TOKEN, texts, store) >= 9  # two snapshots of 4 files, the CHANGELOG


def test_token_not_in_argv_of_a_running_sync(
    fake: FakeConfluence, kind: str, tmp_path: Path
) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("no /proc here")
    fake.slow(1.0, times=BIG)
    argv = [sys.executable, "-m", "wikisync", "--config", str(write_config(tmp_path, fake, kind))]
    proc = subprocess.Popen(
        [*argv, "--store", str(tmp_path / "store"), "sync"],
        env=env_with(TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until it is talking to the server
        assert fake.requests, "the sync never reached the server"
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert b"wikisync" in cmdline and b"sync" in cmdline
    for needle in forms(TOKEN):
        assert needle.encode() not in cmdline
    assert b"WS_TOKEN=" + TOKEN.encode() in environ  # the one place it is: where the user put it


def test_exceptions_carry_no_secret(fake: FakeConfluence, kind: str) -> None:
    """str, repr, args, server_message and the formatted traceback of every failure."""
    header = forms(TOKEN)[1 if kind == "basic" else 2]
    client = ConfluenceClient(
        fake.base_url, client_auth(kind, TOKEN), cloud=False, retries=0, timeout=(2, 2)
    )
    wrong = ConfluenceClient(fake.base_url, client_auth(kind, WRONG), cloud=False, retries=0)
    failures: list[BaseException] = []
    for call in (
        lambda: wrong.page(PID),
        lambda: client.page("999"),
        lambda: fake.fail(500, body=f"echo {header}") and client.page(PID),
        lambda: fake.fail(400, body={"message": f"bad token {TOKEN}"}) and client.page(PID),
        lambda: fake.truncate() and client.page(PID),
        lambda: fake.hangup() and client.current_version(PID),
    ):
        with pytest.raises(FetchError) as ei:
            call()
        failures.append(ei.value)
    texts = [repr(client), repr(wrong), repr(client.auth)]
    for exc in failures:
        texts += [str(exc), repr(exc), repr(exc.args), getattr(exc, "server_message", "")]
        texts.append("".join(traceback.format_exception(exc)))
    assert_nowhere(TOKEN, texts)
    assert_nowhere(WRONG, texts)
    client.close()
    wrong.close()


# --------------------------------------------------------------------------- other hosts


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_pagination_to_another_host_is_refused(
    fake: FakeConfluence, other: FakeConfluence, kind: str, api: str, tmp_path: Path
) -> None:
    for n in range(2, 6):
        fake.add_version(PID, V[n], VIEW, when=WHEN[n])
    fake.max_limit = 2  # several pages of versions
    fake.next_origin = other.origin  # ... and the next one is on another site
    cfg = write_config(tmp_path, fake, kind, api=api)
    result = CliRunner().invoke(
        cli,
        ["--config", str(cfg), "--store", str(tmp_path / "store"), "backfill"],
        env={"WS_USER": USER, "WS_TOKEN": TOKEN},
    )
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "next-page link points to another site" in line and "refusing" in line, line
    assert other.requests == []  # not even an anonymous request went there
    assert_nowhere(TOKEN, [result.stdout, result.stderr], tmp_path)


def test_v1_base_from_another_host_is_not_trusted(
    fake: FakeConfluence, other: FakeConfluence, kind: str, tmp_path: Path
) -> None:
    """v1 ``next`` links are relative to ``_links.base``: a base naming another host (a proxy's
    internal name) is ignored and the listing goes on at the configured host."""
    for n in range(2, 6):
        fake.add_version(PID, V[n], VIEW, when=WHEN[n])
    fake.max_limit = 2
    fake.links_base = other.origin + "/wiki"
    cfg = write_config(tmp_path, fake, kind, api="v1")
    result = CliRunner().invoke(
        cli,
        ["--config", str(cfg), "--store", str(tmp_path / "store"), "backfill", "--jobs", "1"],
        env={"WS_USER": USER, "WS_TOKEN": TOKEN},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{PAGE}: stored 5 new versions (v1..v5)")
    assert other.requests == []
    assert fake.hits("/version") == 3  # three pages of two versions, all on our host


# --------------------------------------------------------------------------- config permissions


def public_dir() -> Path:
    """A fresh directory anyone may enter, like /srv/wikisync (the temp dir's parents must
    let other users through, else no file in it is readable by them)."""
    path = Path(tempfile.mkdtemp(prefix="wikisync-perm-"))
    path.chmod(0o755)
    if not all(os.stat(d).st_mode & 0o001 for d in path.parents):
        shutil.rmtree(path)
        pytest.skip(f"{path.parent} is not open to other users: nothing in it is readable")
    return path


def sync_in_process(cfg: Path, store: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(cfg), "--store", str(store), "sync"],
        env={"WS_USER": USER, "WS_TOKEN": TOKEN},
    )
    return result.exit_code, result.stdout, result.stderr


def test_config_readable_by_others_is_warned_once(
    fake: FakeConfluence, kind: str, tmp_path: Path
) -> None:
    public = public_dir()
    try:
        cfg = write_config(public, fake, kind)
        text = cfg.read_text(encoding="utf-8")
        cfg.write_text(text + fake.config_toml("second", PID, auth=kind, token_env="WS_TOKEN"))
        if kind == "basic":  # the second page needs its user too
            cfg.write_text(cfg.read_text() + 'user_env = "WS_USER"\n')
        store = tmp_path / "store"
        expected = {
            0o644: "readable by its group and other users (mode 0644)",
            0o604: "readable by other users (mode 0604)",
            0o640: "readable by its group (mode 0640)",
        }
        for mode, needle in expected.items():
            cfg.chmod(mode)
            code, out, err = sync_in_process(cfg, store)
            assert code == 0, err
            lines = err.splitlines()
            assert len(lines) == 1, err  # once per run, though two pages name credentials
            assert lines[0].startswith(f"wikisync: warning: {cfg} names credentials")
            assert needle in lines[0] and lines[0].endswith(f"run: chmod 600 {cfg}"), lines[0]
            assert out.startswith(f"{PAGE}: ")
            assert_nowhere(TOKEN, [out, err])
        cfg.chmod(0o600)
        assert sync_in_process(cfg, store)[2] == ""

        cfg.chmod(0o644)  # the same file in a directory only its owner can enter
        private = tmp_path / "private"
        private.mkdir(mode=0o700)
        hidden = Path(shutil.copy(cfg, private / "config.toml"))
        hidden.chmod(0o644)
        assert sync_in_process(hidden, store)[2] == ""
    finally:
        shutil.rmtree(public)


def test_config_without_credentials_is_not_warned(fake: FakeConfluence, tmp_path: Path) -> None:
    public = public_dir()
    try:
        cfg = public / "config.toml"
        fake.allow_anonymous = True
        cfg.write_text(fake.config_toml(PAGE, PID), encoding="utf-8")  # auth = none
        cfg.chmod(0o644)
        code, _, err = sync_in_process(cfg, tmp_path / "store")
        assert (code, err) == (0, "")
    finally:
        shutil.rmtree(public)
