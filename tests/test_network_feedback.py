"""Network waits are never silent, and never say too much.

``-v`` logs each request (method, URL without secrets, status, time, bytes); on a terminal a
request that waits more than a second shows a spinner on stderr (never in a pipe); a refused
connection is reported at once (no retries), a timeout names the host and the seconds;
credentials sent over plain http to another machine are warned about once; a token pasted into
``token_env`` is never echoed.
"""

from __future__ import annotations

import logging
import os
import pty
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_sync import PID, TITLE, VIEW, WHEN, V
from werkzeug import Request, Response

from wikisync import http, progress
from wikisync.cli import cli
from wikisync.errors import ConfigError, FetchError
from wikisync.http import get_url
from wikisync.progress import _Spinner
from wikisync.wikis.confluence import Auth, ConfluenceClient, auth_from_env, looks_like_secret

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server, v2=False)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1])
    return fake


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store"\n\n' + fake.config_toml("roadmap", PID))
    return path


def wikisync(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "wikisync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kw,  # type: ignore[arg-type]
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- -v


def test_verbose_logs_each_request(fake: FakeConfluence, cfg: Path) -> None:
    proc = wikisync("-v", "--config", str(cfg), "fetch", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    pattern = (
        rf"wikisync: INFO: GET http://127\.0\.0\.1:{fake.server.port}/wiki/rest/api/content/"
        rf"{PID}\?expand=\S+ -> 200 \(\d+\.\d\d s, \d+ bytes\)"
    )
    assert any(re.fullmatch(pattern, line) for line in lines), lines
    assert len([line for line in lines if " -> 200 " in line]) == len(fake.requests)
    assert "waiting for" not in proc.stderr  # a pipe never gets the spinner
    quiet = wikisync("--config", str(cfg), "fetch", "--format", "json")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_verbose_log_masks_secret_query_values(fake: FakeConfluence, tmp_path: Path) -> None:
    url = fake.add_file("/export.html", V[1]) + "?token=s3cret-in-url&space=AC"
    (tmp_path / "empty.toml").write_text("")
    proc = wikisync("-v", "--config", str(tmp_path / "empty.toml"), "parse", url)
    assert proc.returncode == 0, proc.stderr
    assert "s3cret-in-url" not in proc.stderr
    assert "/export.html?token=***&space=AC -> 200" in proc.stderr, proc.stderr
    debug = wikisync("-vv", "--config", str(tmp_path / "empty.toml"), "parse", url)
    assert debug.returncode == 0, debug.stderr
    assert '"GET /export.html?token=***&space=AC HTTP/1.1" 200' in debug.stderr, debug.stderr
    assert "s3cret-in-url" not in debug.stderr  # urllib3's own request lines are masked too


# --------------------------------------------------------------------------- waits


def test_connection_refused_is_reported_at_once() -> None:
    port = closed_port()
    waits: list[float] = []
    client = ConfluenceClient(f"http://127.0.0.1:{port}/wiki", cloud=False, sleep=waits.append)
    with client, pytest.raises(FetchError) as ei:
        client.page(PID)
    assert f"connection refused by 127.0.0.1:{port} (nothing listens there)" in str(ei.value)
    assert waits == []  # 4 retries with backoff before: seconds burnt on a dead port
    with pytest.raises(FetchError, match=f"connection refused by 127.0.0.1:{port}"):
        get_url(f"http://127.0.0.1:{port}/page.html")


def test_a_timeout_names_the_host_and_the_seconds(fake: FakeConfluence) -> None:
    fake.slow(2.0, times=5)
    client = ConfluenceClient(fake.base_url, cloud=False, timeout=(1, 0.25), retries=0)
    with client, pytest.raises(FetchError) as ei:
        client.page(PID)
    msg = str(ei.value)
    assert f"read timed out: 127.0.0.1:{fake.server.port} sent nothing for 0.25 s" in msg, msg


def test_the_time_bound_names_the_host_and_the_seconds(fake: FakeConfluence) -> None:
    fake.drip(0.05, times=5, chunk=8)  # each read quick, the whole answer slow
    client = ConfluenceClient(fake.base_url, cloud=False, retries=0, total=1.0)
    with client, pytest.raises(FetchError) as ei:
        client.page(PID)
    assert f"no complete answer within 1 s from 127.0.0.1:{fake.server.port}" in str(ei.value)


class _Terminal:
    """A stand-in for a terminal's stderr (the spinner only draws on one)."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


def test_spinner_line_after_a_second_with_counts() -> None:
    spinner = _Spinner()
    spinner.enable(_Terminal(), after=1.0)  # type: ignore[arg-type]
    spinner._active = {1: ("GET wiki:443", 100.0), 2: ("GET wiki:443", 100.5)}
    assert spinner.line(100.9, 0) is None  # under a second: nothing
    assert spinner.line(103.2, 1) == "/ waiting for GET wiki:443 (+1 more): 3 s"
    with spinner.suspended():
        assert spinner.line(103.2, 1) is None  # a progress bar owns the line


def test_no_spinner_off_a_terminal() -> None:
    class Pipe(_Terminal):
        def isatty(self) -> bool:
            return False

    try:
        progress.show_waits(Pipe())  # type: ignore[arg-type]
        assert progress._spinner.stream is None
        progress.show_waits(_Terminal())  # type: ignore[arg-type]
        assert progress._spinner.stream is not None
    finally:
        progress._spinner.enable(None)


def test_spinner_shows_on_a_real_terminal(fake: FakeConfluence, cfg: Path) -> None:
    """A real pty as stderr: the server answers only once the spinner has been drawn."""
    drawn = threading.Event()
    label = f"waiting for GET 127.0.0.1:{fake.server.port}"

    def held(request: Request) -> Response:
        drawn.wait(60)
        return fake._dispatch(request)

    fake.server.expect_oneshot_request(re.compile(rf".*/content/{PID}$")).respond_with_handler(held)
    master, slave = pty.openpty()
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            seen.append(data)
            if label.encode() in b"".join(seen):
                drawn.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "wikisync", "--config", str(cfg), "fetch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=slave,
        timeout=120,
        check=False,
    )
    os.close(slave)
    reader.join(5)
    os.close(master)
    assert drawn.is_set(), b"".join(seen)
    assert proc.returncode == 0
    assert b"\r\x1b[K" in b"".join(seen)  # the line is cleared when the answer arrives
    assert b"waiting" not in proc.stdout  # stderr only


# --------------------------------------------------------------------------- credentials


@pytest.fixture
def fresh_warnings() -> Iterator[None]:
    http._warned_plain.clear()
    yield
    http._warned_plain.clear()


def test_plain_http_credentials_warned_once(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "wikisync.http")
    auth = Auth("basic", "me@example.org", "t0ken")
    for _ in range(3):
        ConfluenceClient("http://wiki.example.org/confluence", auth).close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "wikisync.http"]
    assert warnings == [
        "credentials are sent to http://wiki.example.org over plain http://: anyone on the "
        "network path can read them; use https:// in base_url"
    ]
    assert "t0ken" not in caplog.text


@pytest.mark.parametrize(
    ("base", "auth"),
    [
        ("http://127.0.0.1:8090/wiki", Auth("basic", "me", "t")),
        ("http://localhost:8090", Auth("bearer", token="t")),
        ("http://[::1]:8090", Auth("bearer", token="t")),
        ("https://wiki.example.org", Auth("basic", "me", "t")),
        ("http://wiki.example.org", Auth("none")),
    ],
)
def test_no_warning_for_loopback_https_or_anonymous(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture, base: str, auth: Auth
) -> None:
    caplog.set_level(logging.WARNING, "wikisync.http")
    ConfluenceClient(base, auth).close()
    assert not [r for r in caplog.records if r.name == "wikisync.http"]


PASTED = "ATATT3xFfGF0T4ZlbWluZ3Rva2VuMTIzNDU2Nzg5MA"


@pytest.mark.parametrize("token", [PASTED, "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "a3f9" * 10])
def test_a_token_pasted_into_token_env_is_not_echoed(
    fake: FakeConfluence, tmp_path: Path, token: str
) -> None:
    path = tmp_path / "config.toml"
    toml = fake.config_toml("roadmap", PID, auth="bearer", token_env=token)
    path.write_text('[store]\npath = "store"\n\n' + toml)
    path.chmod(0o600)
    result = CliRunner().invoke(cli, ["--config", str(path), "sync"], env={token: ""})
    assert result.exit_code == 2
    assert "token_env must name an environment variable" in result.stderr, result.stderr
    assert token not in result.stderr and token[:12] not in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_real_variable_name_is_still_named() -> None:
    with pytest.raises(ConfigError, match=r"environment variable WIKI_BOT_TOKEN .* is not set"):
        auth_from_env("bearer", None, "WIKI_BOT_TOKEN", {})


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("CONFLUENCE_TOKEN", False),
        ("WIKI_BOT_PAT_2024", False),
        ("confluence_api_token", False),
        ("MyToken", False),
        (PASTED, True),
        ("glpat-xxxxxxxxxxxxxxxxxxxx", True),
        ("0123456789abcdef0123456789abcdef", True),
        ("Zm9vYmFyYmF6cXV4MTIzNDU2", True),
    ],
)
def test_looks_like_secret(name: str, secret: bool) -> None:
    assert looks_like_secret(name) is secret
