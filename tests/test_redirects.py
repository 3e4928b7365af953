"""Credentials go to the configured scheme, host and port only: never through a redirect, never
from ~/.netrc unless ``auth = "netrc"``, never with a URL source, never over a downgrade.

Real servers on loopback: "127.0.0.1" and "localhost" are two host names for the same server
(the ``Host`` header tells them apart), and a TLS server with a certificate made by trustme.
A netrc with an entry for each name and a ``default`` entry is planted in a temporary HOME.
"""

from __future__ import annotations

import base64
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner
from confluence_server import FakeConfluence, Fault
from pytest_httpserver import HTTPServer
from test_sync import PID, TITLE, VIEW, WHEN, V
from werkzeug import Request, Response

from wikisync.cli import cli
from wikisync.errors import FetchError
from wikisync.http import get_url
from wikisync.wikis.confluence import Auth, ConfluenceClient

NETRC_PW = {"127.0.0.1": "netrc-pw-for-127", "localhost": "netrc-pw-for-localhost"}
DEFAULT_PW = "netrc-pw-default"
TOKEN = "ATATT3xFfGF0-redirect-t0ken-4711"
AUTHS = {
    "none": Auth("none"),
    "basic": Auth("basic", "me@example.org", TOKEN),
    "bearer": Auth("bearer", token=TOKEN),
    "netrc": Auth("netrc"),
}


@pytest.fixture(autouse=True)
def planted_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A netrc that knows both host names, and a ``default`` entry for every other host."""
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    lines = [f"machine {host} login me password {pw}" for host, pw in NETRC_PW.items()]
    netrc.write_text("\n".join([*lines, f"default login me password {DEFAULT_PW}", ""]))
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(netrc))
    return netrc


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1])
    return fake


def host_of(seen_headers: dict[str, str]) -> str:
    return seen_headers["Host"].rsplit(":", 1)[0]


def credentials_seen(fake: FakeConfluence) -> list[tuple[str, str | None]]:
    """(host name asked for, Authorization) of every request the server got."""
    return [(host_of(s.headers), s.authorization) for s in fake.requests]


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"me:{password}".encode()).decode()


def other_origin(fake: FakeConfluence) -> str:
    return f"http://localhost:{fake.server.port}"


# --------------------------------------------------------------------------- another host name


@pytest.mark.parametrize("kind", list(AUTHS))
def test_redirect_to_another_host_carries_no_credentials(fake: FakeConfluence, kind: str) -> None:
    fake.redirect(other_origin(fake), times=1)
    with ConfluenceClient(fake.base_url, AUTHS[kind], cloud=False) as client:
        assert client.page(PID).meta.version == 1
    seen = credentials_seen(fake)
    assert [host for host, _ in seen] == ["127.0.0.1", "localhost"]
    first, second = seen[0][1], seen[1][1]
    assert second is None, f"{kind}: the other host got {second!r}"
    if kind == "none":
        assert first is None  # netrc is not read for auth = "none"
    elif kind == "netrc":
        assert first == basic(NETRC_PW["127.0.0.1"])  # its own host's entry, not default
    elif kind == "basic":
        assert first == "Basic " + base64.b64encode(f"me@example.org:{TOKEN}".encode()).decode()
    else:
        assert first == f"Bearer {TOKEN}"


def test_same_origin_redirect_keeps_the_credentials(fake: FakeConfluence) -> None:
    fake.redirect(fake.origin, times=1)  # the same URL once more: same scheme, host and port
    with ConfluenceClient(fake.base_url, AUTHS["netrc"], cloud=False) as client:
        client.page(PID)
    assert credentials_seen(fake)[:2] == [("127.0.0.1", basic(NETRC_PW["127.0.0.1"]))] * 2


def test_401_after_a_redirect_says_where_credentials_stopped(fake: FakeConfluence) -> None:
    fake.auth = ("basic", "me@example.org", TOKEN)
    fake.allow_anonymous = False
    fake.redirect(other_origin(fake), times=1)
    with (
        ConfluenceClient(fake.base_url, AUTHS["basic"], cloud=False, retries=0) as client,
        pytest.raises(FetchError) as ei,
    ):
        client.page(PID)
    msg = str(ei.value)
    assert "HTTP 401" in msg and f"redirected to localhost:{fake.server.port}" in msg, msg
    assert "set base_url" in msg and TOKEN not in msg


def test_netrc_not_read_with_auth_none_even_for_the_configured_host(fake: FakeConfluence) -> None:
    with ConfluenceClient(fake.base_url, AUTHS["none"], cloud=False) as client:
        client.page(PID)
    assert fake.requests and all(auth is None for _, auth in credentials_seen(fake))


# --------------------------------------------------------------------------- URL sources


def test_url_source_sends_no_netrc_credentials(fake: FakeConfluence) -> None:
    url = fake.add_file("/exports/roadmap.html", V[1])
    assert b"<table" in get_url(url.replace("127.0.0.1", "localhost"))
    assert b"<table" in get_url(url)
    assert [auth for _, auth in credentials_seen(fake)] == [None, None]


def test_parse_of_a_url_sends_no_netrc_credentials_and_follows_without_them(
    fake: FakeConfluence, tmp_path: Path
) -> None:
    url = fake.add_file("/wiki/roadmap.html", V[1])
    fake._add_fault(
        Fault("redirect", 1, re.compile("^/wiki/roadmap"), status=302, location=other_origin(fake))
    )
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "empty.toml"), "parse", url])
    assert result.exit_code == 0, result.stderr
    assert "Onboarding" in result.stdout or result.stdout.count("\n") > 5
    assert credentials_seen(fake) == [("127.0.0.1", None), ("localhost", None)]


# --------------------------------------------------------------------------- https -> http


@pytest.fixture(scope="module")
def _tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HTTPServer, Path]]:
    """A TLS server on loopback whose CA the client trusts through REQUESTS_CA_BUNDLE."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx, threaded=True)
    server.start()
    yield server, bundle
    server.clear()
    server.stop()


@pytest.fixture
def tls(_tls: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    server, bundle = _tls
    server.clear()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return server


def test_https_to_http_redirect_is_refused(fake: FakeConfluence, tls: HTTPServer) -> None:
    server = tls
    got: list[str | None] = []

    def downgrade(request: Request) -> Response:
        got.append(request.headers.get("Authorization"))
        qs = request.query_string.decode()
        target = f"{fake.origin}{request.path}" + (f"?{qs}" if qs else "")
        return Response("", 302, headers={"Location": target})

    server.expect_request(re.compile("^/")).respond_with_handler(downgrade)
    base = f"https://localhost:{server.port}/wiki"
    for kind in ("basic", "netrc"):
        with (
            ConfluenceClient(base, AUTHS[kind], cloud=False, retries=0) as client,
            pytest.raises(FetchError) as ei,
        ):
            client.page(PID)
        msg = str(ei.value)
        assert "from https to plain http" in msg and "refusing" in msg, msg
        assert "\n" not in msg and TOKEN not in msg
    assert got[0] is not None and got[1] == basic(NETRC_PW["localhost"])  # TLS: fine
    assert fake.requests == []  # nothing, credentials or not, went out in clear text


def test_url_source_https_to_http_is_refused(fake: FakeConfluence, tls: HTTPServer) -> None:
    server = tls
    plain = fake.add_file("/page.html", V[1])
    server.expect_request("/page.html").respond_with_response(
        Response("", 301, headers={"Location": plain})
    )
    with pytest.raises(FetchError, match="refusing to follow a downgrade"):
        get_url(f"https://localhost:{server.port}/page.html")
    assert fake.requests == []


# --------------------------------------------------------------------------- writes


@pytest.mark.parametrize("status", [307, 308, 302])
def test_a_put_is_never_redirected(fake: FakeConfluence, status: int) -> None:
    fake._add_fault(
        Fault(
            "redirect", 1, re.compile("/pages/"), "PUT", status=status, location=other_origin(fake)
        )
    )
    with (
        ConfluenceClient(fake.base_url, AUTHS["basic"], cloud=True) as client,
        pytest.raises(FetchError) as ei,
    ):
        client.update_page(PID, title=TITLE, body="<p>new body</p>", base=1)
    msg = str(ei.value)
    assert f"HTTP {status} redirect to http://localhost:{fake.server.port}/" in msg, msg
    assert "a write is never re-sent" in msg
    puts = [(host_of(s.headers), s.method) for s in fake.requests if s.method != "GET"]
    assert puts == [("127.0.0.1", "PUT")]  # one PUT, to the configured host; none re-sent
    assert len(fake.pages[PID].versions) == 1


def test_v1_links_base_on_a_lookalike_origin_is_not_trusted(fake: FakeConfluence) -> None:
    """``http://127.0.0.1:4000`` is a prefix of ``http://127.0.0.1:40001``: not the same site."""
    for n in (2, 3, 4):
        fake.add_version(PID, V[n], VIEW, when=WHEN[n])
    fake.max_limit = 2  # forces a next link
    fake.links_base = f"{fake.origin}1/wiki"
    with ConfluenceClient(fake.base_url, AUTHS["netrc"], cloud=False) as client:
        assert [v.number for v in client.versions(PID)] == [4, 3, 2, 1]
    assert {host for host, _ in credentials_seen(fake)} == {"127.0.0.1"}
