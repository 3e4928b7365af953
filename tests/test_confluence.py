"""The Confluence client against a real local server (tests/confluence_server.py)."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from confluence_server import UNAUTHORIZED_TEXT, FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.errors import ConfigError, FetchError
from wikisync.wikis.confluence import (
    Auth,
    ConfluenceClient,
    ConfluenceHTTPError,
    VersionInfo,
    auth_from_env,
    retry_after_seconds,
)

PID = "1812037671"
TITLE = "FY21-22 Architecture User Story Roadmap"
STORAGE = (
    "<table><tbody><tr><td><p>Toggle Docs (OEP-17) &lt;Pilot&gt; [5]</p></td></tr></tbody></table>"
)
VIEW = (
    '<div class="table-wrap"><table class="confluenceTable">'
    "<tr><td>Toggle Docs</td></tr></table></div>"
)
TOKEN = "ATATT3xFfGF0-s3cr3t-t0ken-value"
USER = "lead@example.org"
Make = Callable[..., ConfluenceClient]


def _server() -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    a, b = _server(), _server()
    yield a, b
    for s in (a, b):
        s.clear()
        s.stop()


@pytest.fixture
def server(_servers: tuple[HTTPServer, HTTPServer]) -> HTTPServer:
    _servers[0].clear()
    return _servers[0]


@pytest.fixture
def other_server(_servers: tuple[HTTPServer, HTTPServer]) -> HTTPServer:
    _servers[1].clear()
    return _servers[1]


@pytest.fixture
def fake(server: HTTPServer) -> FakeConfluence:
    f = FakeConfluence(server)
    f.add_page(PID, TITLE, "<p>v1</p>", "<p>v1 view</p>", message="first", author=("Ann", "acc-1"))
    f.add_version(PID, "<p>v2</p>", "<p>v2 view</p>", message="second", author=("Bob", "acc-2"))
    f.add_version(PID, STORAGE, VIEW, message="Moved “X” to Q3", author=("Cy", "acc-3"))
    return f


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make(waits: list[float]) -> Iterator[Make]:
    made: list[ConfluenceClient] = []

    def factory(base_url: str, auth: Auth | None = None, **kw: Any) -> ConfluenceClient:
        kw.setdefault("sleep", waits.append)
        kw.setdefault("timeout", (2, 5))
        c = ConfluenceClient(base_url, auth, **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


# --------------------------------------------------------------------------- page fetch


def test_v2_page_fetch_storage_and_meta(fake: FakeConfluence, make: Make) -> None:
    c = make(fake.base_url, cloud=True)
    assert c.api == "v2"
    doc = c.page(PID)
    # No smart link and no mention: the view body would add nothing, so it is not fetched.
    assert doc.bodies == {"storage": STORAGE}
    m = doc.meta
    assert (m.page, m.title, m.version, m.source) == (PID, TITLE, 3, "v2")
    assert m.when == "2021-01-18T09:30:00.000Z"
    assert m.author == "acc-3"
    assert m.message == "Moved “X” to Q3"
    assert m.url == f"{fake.base_url}/spaces/AC/pages/{PID}/FY21-22+Architecture+User+Story+Roadmap"
    got = [(s.path, s.args) for s in fake.requests]
    assert got == [(f"/wiki/api/v2/pages/{PID}", {"body-format": "storage"})]


def test_v2_page_fetches_the_view_for_mentions(fake: FakeConfluence, make: Make) -> None:
    mention = STORAGE.replace(
        "Toggle Docs", 'Toggle Docs <ac:link><ri:user ri:account-id="acc-9"/></ac:link>'
    )
    fake.add_version(PID, mention, VIEW)
    doc = make(fake.base_url, cloud=True).page(PID)
    assert doc.bodies == {"storage": mention, "view": VIEW}
    got = [(s.path, s.args) for s in fake.requests]
    assert got == [
        (f"/wiki/api/v2/pages/{PID}", {"body-format": "storage"}),
        # the view is pinned to the version the storage body came from
        (f"/wiki/api/v2/pages/{PID}", {"body-format": "view", "version": "4"}),
    ]


def test_v1_page_fetch_in_one_request(fake: FakeConfluence, make: Make) -> None:
    c = make(fake.base_url, cloud=False)
    assert c.api == "v1"
    doc = c.page(int(PID))
    assert doc.bodies == {"storage": STORAGE}  # no link or mention: no view
    m = doc.meta
    assert (m.page, m.title, m.version, m.author, m.source) == (PID, TITLE, 3, "Cy", "v1")
    assert m.when == "2021-01-18T09:30:00.000Z"
    assert m.url is not None and m.url.endswith(
        f"/spaces/AC/pages/{PID}/FY21-22+Architecture+User+Story+Roadmap"
    )
    assert len(fake.requests) == 1
    assert fake.requests[0].path == f"/wiki/rest/api/content/{PID}"
    assert fake.requests[0].args == {"expand": "body.storage,body.view,version"}


def test_by_space_and_title_v2(fake: FakeConfluence, make: Make) -> None:
    fake.add_page("42", "Other page", "<p>other</p>", space="AT")
    doc = make(fake.base_url, cloud=True).page(space="AC", title=TITLE)
    assert doc.meta.page == PID and doc.bodies["storage"] == STORAGE
    paths = [s.path for s in fake.requests]
    assert paths[:2] == ["/wiki/api/v2/spaces", "/wiki/api/v2/pages"]
    assert fake.requests[0].args == {"keys": "AC"}
    assert fake.requests[1].args["space-id"] == fake.spaces["AC"]
    assert fake.requests[1].args["title"] == TITLE


def test_by_space_and_title_v1(fake: FakeConfluence, make: Make) -> None:
    doc = make(fake.base_url, cloud=False).page(space="AC", title=TITLE)
    assert doc.meta.page == PID and doc.bodies == {"storage": STORAGE}
    assert len(fake.requests) == 1
    assert fake.requests[0].args["spaceKey"] == "AC"


@pytest.mark.parametrize("cloud", [True, False])
def test_missing_title_is_a_clear_fetch_error(
    fake: FakeConfluence, make: Make, cloud: bool
) -> None:
    with pytest.raises(FetchError, match="no such page"):
        make(fake.base_url, cloud=cloud).page(space="AC", title="Nope")


@pytest.mark.parametrize("cloud", [True, False])
def test_historical_version(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    doc = make(fake.base_url, cloud=cloud).page(PID, version=1)
    assert doc.bodies == {"storage": "<p>v1</p>"}  # no link, no mention: no view needed
    assert doc.meta.version == 1
    assert doc.meta.message == "first"
    assert doc.meta.author == ("acc-1" if cloud else "Ann")
    if not cloud:
        assert fake.requests[0].args["status"] == "historical"
        assert fake.requests[0].args["version"] == "1"


@pytest.mark.parametrize("cloud", [True, False])
def test_historical_version_by_title(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    doc = make(fake.base_url, cloud=cloud).page(space="AC", title=TITLE, version=2)
    assert doc.bodies["storage"] == "<p>v2</p>" and doc.meta.version == 2


@pytest.mark.parametrize("cloud", [True, False])
def test_current_version_is_cheap(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    assert make(fake.base_url, cloud=cloud).current_version(PID) == 3
    assert len(fake.requests) == 1
    args = fake.requests[0].args
    assert "body-format" not in args
    assert args.get("expand", "version") == "version"


# --------------------------------------------------------------------------- versions


def _many(fake: FakeConfluence, n: int) -> None:
    for i in range(4, n + 1):
        fake.add_version(PID, f"<p>v{i}</p>", message=f"m{i}", minor_edit=i % 2 == 0)


@pytest.mark.parametrize("cloud", [True, False])
def test_versions_paginate_newest_first(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    _many(fake, 7)
    got = list(make(fake.base_url, cloud=cloud).versions(PID, limit=2))
    assert [v.number for v in got] == [7, 6, 5, 4, 3, 2, 1]
    assert got[0] == VersionInfo(
        number=7,
        when="2021-02-15T09:30:00.000Z",
        author="557058:0f6b7e3c-aaaa-bbbb-cccc-1234567890ab" if cloud else "Jane Doe",
        message="m7",
        minor_edit=False,
    )
    assert got[1].minor_edit is True
    assert got[-1].author == ("acc-1" if cloud else "Ann")
    listing = [s for s in fake.requests if s.path.endswith("/version" + ("s" if cloud else ""))]
    assert len(listing) == 4  # 2 + 2 + 2 + 1
    if cloud:
        assert listing[0].args == {"limit": "2", "sort": "-modified-date"}
        assert all("cursor" in s.args for s in listing[1:])
    else:
        assert [s.args["start"] for s in listing] == ["0", "2", "4", "6"]


def test_v2_versions_follow_link_header_alone(fake: FakeConfluence, make: Make) -> None:
    _many(fake, 5)
    fake.next_in_body = False
    got = [v.number for v in make(fake.base_url, cloud=True).versions(PID, limit=2)]
    assert got == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("cloud", [True, False])
def test_repeated_cursor_is_a_fetch_error(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    _many(fake, 9)
    fake.sticky_cursor = True
    seen: list[int] = []
    with pytest.raises(FetchError, match="repeated the page cursor"):
        for v in make(fake.base_url, cloud=cloud).versions(PID, limit=2):
            seen.append(v.number)
    assert seen == [9, 8, 7, 6]
    assert len(fake.requests) == 2


# --------------------------------------------------------------------------- auth


def test_anonymous_sends_no_authorization(fake: FakeConfluence, make: Make) -> None:
    fake.auth = ("basic", USER, TOKEN)  # a public space: anonymous reads are allowed
    doc = make(fake.base_url, Auth(), cloud=True).page(PID)
    assert doc.meta.version == 3
    assert all(s.authorization is None for s in fake.requests)
    ua = fake.requests[0].headers["User-Agent"]
    assert ua.startswith("wikisync/") and ua.endswith("(+python-requests)")


def test_basic_auth(fake: FakeConfluence, make: Make) -> None:
    fake.auth = ("basic", USER, TOKEN)
    fake.allow_anonymous = False
    doc = make(fake.base_url, Auth("basic", USER, TOKEN), cloud=True).page(PID)
    assert doc.meta.version == 3
    expected = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    assert {s.authorization for s in fake.requests} == {expected}


def test_bearer_auth(fake: FakeConfluence, make: Make) -> None:
    fake.auth = ("bearer", TOKEN)
    fake.allow_anonymous = False
    doc = make(fake.base_url, Auth("bearer", token=TOKEN), cloud=False).page(PID)
    assert doc.meta.version == 3
    assert {s.authorization for s in fake.requests} == {f"Bearer {TOKEN}"}


def test_netrc_auth(
    fake: FakeConfluence, make: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.auth = ("basic", USER, TOKEN)
    fake.allow_anonymous = False
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n")
    rc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(rc))
    assert make(fake.base_url, Auth("netrc"), cloud=False).current_version(PID) == 3
    monkeypatch.setenv("NETRC", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="netrc"):
        make(fake.base_url, Auth("netrc"), cloud=False)


def test_anonymous_ignores_netrc(
    fake: FakeConfluence, make: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc = tmp_path / "netrc"
    rc.write_text(f"machine 127.0.0.1 login {USER} password {TOKEN}\n")
    monkeypatch.setenv("NETRC", str(rc))
    make(fake.base_url, cloud=False).current_version(PID)
    assert fake.requests[0].authorization is None


def test_wrong_token_is_a_clear_401(fake: FakeConfluence, make: Make) -> None:
    fake.auth = ("basic", USER, TOKEN)
    auth = auth_from_env(
        "basic", "CONF_USER", "CONF_TOKEN", {"CONF_USER": USER, "CONF_TOKEN": "x" + TOKEN}
    )
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, auth, cloud=True).page(PID)
    msg = str(ei.value)
    assert ei.value.status == 401
    assert f"cannot read page {PID}" in msg
    assert f"/wiki/api/v2/pages/{PID}?body-format=storage" in msg
    assert "HTTP 401" in msg and UNAUTHORIZED_TEXT in msg
    assert "check token_env/user_env ($CONF_USER/$CONF_TOKEN)" in msg
    assert TOKEN not in msg and "\n" not in msg
    assert len(fake.requests) == 1  # 401 is not retried


def test_auth_from_env_and_repr() -> None:
    env = {"U": USER, "T": TOKEN}
    a = auth_from_env("basic", "U", "T", env)
    assert (a.kind, a.user, a.token) == ("basic", USER, TOKEN)
    assert TOKEN not in repr(a) and TOKEN not in str(a) and "***" in repr(a)
    assert auth_from_env("bearer", None, "T", env).token == TOKEN
    assert auth_from_env("none", None, None, {}).kind == "none"
    with pytest.raises(ConfigError, match="CONF_TOKEN"):
        auth_from_env("basic", "U", "CONF_TOKEN", env)
    with pytest.raises(ConfigError, match="MISSING_USER"):
        auth_from_env("basic", "MISSING_USER", "T", env)
    with pytest.raises(ConfigError, match=r"auth\.kind"):
        auth_from_env("oauth", "U", "T", env)


# --------------------------------------------------------------------------- errors


def test_404_v2_shape(fake: FakeConfluence, make: Make) -> None:
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, cloud=True).page("999")
    msg = str(ei.value)
    assert ei.value.status == 404
    assert "cannot read page 999" in msg and "HTTP 404: Not Found" in msg
    assert "the page does not exist or the credentials cannot see it" in msg
    # v2 exists here (the probe said so), so no v1 attempt was made
    assert fake.hits("/rest/api/") == 0
    assert fake.hits("/api/v2/pages", "GET") == 2


def test_404_v1_shape(fake: FakeConfluence, make: Make) -> None:
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, cloud=False).page("999")
    msg = str(ei.value)
    assert "HTTP 404: No content found with id: ContentId{id=999}" in msg
    assert "the page does not exist or the credentials cannot see it" in msg


def test_html_and_long_text_errors(fake: FakeConfluence, make: Make) -> None:
    page = (
        "<html><head><title>Unauthorized (401)</title></head><body>" + "x" * 5000 + "</body></html>"
    )
    fake.fail(401, body=page, content_type="text/html")
    with pytest.raises(FetchError, match=r"HTTP 401: Unauthorized \(401\) \("):
        make(fake.base_url, Auth("bearer", token=TOKEN), cloud=False).page(PID)
    fake.fail(400, body="bad request " + "y" * 1000 + "\nsecond line")
    with pytest.raises(FetchError) as ei:
        make(fake.base_url, cloud=False).page(PID)
    server_part = str(ei.value).split("HTTP 400: ", 1)[1]
    assert len(server_part) <= 200 and "second line" not in server_part


@pytest.mark.parametrize("cut", [False, True])
def test_truncated_body_is_a_fetch_error(fake: FakeConfluence, make: Make, cut: bool) -> None:
    fake.truncate(cut=cut)
    with pytest.raises(FetchError) as ei:
        make(fake.base_url, cloud=False).page(PID)
    msg = str(ei.value)
    assert f"cannot read page {PID}" in msg
    assert ("truncated" in msg) and ("not JSON" in msg or "broke mid-response" in msg)


def test_missing_keys_is_a_fetch_error(fake: FakeConfluence, make: Make) -> None:
    fake.fail(200, body={"id": PID, "title": TITLE, "version": {"number": 3}})
    with pytest.raises(FetchError, match=r"has no 'body\.storage\.value'"):
        make(fake.base_url, cloud=False).page(PID)


def test_non_json_success_is_a_fetch_error(fake: FakeConfluence, make: Make) -> None:
    fake.fail(200, body="<html><title>Log in</title></html>", content_type="text/html")
    with pytest.raises(FetchError, match="not JSON"):
        make(fake.base_url, cloud=False).page(PID)


def test_connection_refused_is_a_fetch_error(make: Make) -> None:
    c = make("http://127.0.0.1:9/wiki", cloud=False, retries=1)
    with pytest.raises(FetchError, match="could not connect") as ei:
        c.page(PID)
    assert f"page {PID}" in str(ei.value)


# --------------------------------------------------------------------------- retries


def test_429_retry_after_then_success(fake: FakeConfluence, make: Make, waits: list[float]) -> None:
    fake.rate_limit(times=2, retry_after="3")
    doc = make(fake.base_url, cloud=False).page(PID)
    assert doc.meta.version == 3
    assert waits == [3.0, 3.0]
    assert len(fake.requests) == 3


def test_429_http_date_and_ratelimit_reset(
    fake: FakeConfluence, make: Make, waits: list[float]
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=20)
    fake.rate_limit(retry_after=format_datetime(soon, usegmt=True))
    fake.rate_limit(retry_after=None, reset=(soon + timedelta(seconds=10)).isoformat())
    make(fake.base_url, cloud=False).page(PID)
    assert len(waits) == 2
    assert 17 <= waits[0] <= 20.5
    assert 27 <= waits[1] <= 30.5


def test_retry_after_beyond_max_wait_fails_at_once(
    fake: FakeConfluence, make: Make, waits: list[float]
) -> None:
    fake.rate_limit(times=5, retry_after="3600")
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, cloud=False, max_wait=60).page(PID)
    msg = str(ei.value)
    assert ei.value.status == 429
    assert "asks to wait 3600 s, more than max_wait 60 s" in msg and "try later" in msg
    assert waits == [] and len(fake.requests) == 1


def test_429_exhausted(fake: FakeConfluence, make: Make, waits: list[float]) -> None:
    fake.rate_limit(times=10, retry_after="1")
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, cloud=False, retries=2).page(PID)
    assert "HTTP 429: Rate limit exceeded." in str(ei.value)
    assert "rate limited; try later" in str(ei.value)
    assert len(fake.requests) == 3 and waits == [1.0, 1.0]


def test_500_then_success_with_jittered_backoff(
    fake: FakeConfluence, make: Make, waits: list[float]
) -> None:
    fake.fail(500, times=2, body={"statusCode": 500, "message": "oops"})
    doc = make(fake.base_url, cloud=False, backoff=2.0).page(PID)
    assert doc.meta.version == 3
    assert len(fake.requests) == 3
    assert len(waits) == 2
    assert 2 * 0.7 <= waits[0] <= 2 * 1.3  # the first retry waits too (unlike urllib3's default)
    assert 4 * 0.7 <= waits[1] <= 4 * 1.3


def test_put_is_never_retried(fake: FakeConfluence, make: Make, waits: list[float]) -> None:
    fake.fail(503, times=3, method="PUT", headers={"Retry-After": "1"})
    with pytest.raises(ConfluenceHTTPError) as ei:
        make(fake.base_url, cloud=True).update_page(PID, title=TITLE, body="<p>x</p>", base=3)
    assert ei.value.status == 503
    assert fake.hits("", "PUT") == 1 and waits == []


def test_slow_response_times_out_after_bounded_retries(
    fake: FakeConfluence, make: Make, waits: list[float]
) -> None:
    fake.slow(1.5, times=10)
    c = make(fake.base_url, cloud=False, timeout=(1, 0.3), retries=2, backoff=0.01)
    start = time.monotonic()
    with pytest.raises(FetchError, match="read timed out") as ei:
        c.page(PID)
    assert time.monotonic() - start < 3
    assert f"page {PID}" in str(ei.value)
    assert len(waits) == 2
    time.sleep(0.1)
    assert fake.hits(f"/content/{PID}") == 3


# --------------------------------------------------------------------------- redirects and secrets


@pytest.mark.parametrize("auth", [Auth("basic", USER, TOKEN), Auth("bearer", token=TOKEN)])
def test_redirect_to_other_host_drops_credentials(
    fake: FakeConfluence, other_server: HTTPServer, make: Make, auth: Auth
) -> None:
    target = FakeConfluence(other_server, host="localhost")
    target.add_page(PID, TITLE, STORAGE, VIEW)
    fake.redirect(target.origin, times=5)
    doc = make(fake.base_url, auth, cloud=False).page(PID)
    assert doc.bodies["storage"] == STORAGE
    assert fake.requests[0].authorization is not None  # sent to the host we were given
    assert len(target.requests) == 1
    assert target.requests[0].authorization is None  # ...and not to the other host name


def test_token_never_in_messages_or_logs(
    fake: FakeConfluence, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.auth = ("basic", USER, "another-token")
    auth = Auth("basic", USER, TOKEN, source="$T")
    c = make(fake.base_url, auth, cloud=True, retries=1)
    messages = [repr(c), repr(auth)]
    fake.fail(400, body=f"token {TOKEN} is malformed")  # a server that echoes the secret
    for call in (lambda: c.page(PID), lambda: c.page("999"), lambda: list(c.versions(PID))):
        with pytest.raises(FetchError) as ei:
            call()
        messages.append(str(ei.value))
    fake.auth = None
    fake.rate_limit(times=5, retry_after="0")
    with pytest.raises(FetchError) as ei:
        c.current_version(PID)
    messages.append(str(ei.value))
    assert "***" in messages[2]
    basic = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    for text in [*messages, caplog.text]:
        assert TOKEN not in text and basic not in text
    assert "GET http://127.0.0.1" in caplog.text and "-> 401" in caplog.text


# --------------------------------------------------------------------------- api selection


def test_auto_api_by_host() -> None:
    cloud = ConfluenceClient("https://openedx.atlassian.net")
    assert (cloud.api, cloud.base_url) == ("v2", "https://openedx.atlassian.net/wiki")
    dc = ConfluenceClient("https://wiki.example.org/confluence/")
    assert (dc.api, dc.base_url) == ("v1", "https://wiki.example.org/confluence")
    assert ConfluenceClient("https://wiki.example.org", api="v2").api == "v2"
    for c in (cloud, dc):
        c.close()
    with pytest.raises(ConfigError):
        ConfluenceClient("https://user:pw@x.atlassian.net/wiki")
    with pytest.raises(ConfigError):
        ConfluenceClient("ftp://x")


def test_auto_falls_back_to_v1_when_v2_is_missing(fake: FakeConfluence, make: Make) -> None:
    fake.v2_enabled = False
    c = make(fake.base_url, cloud=True)
    doc = c.page(PID)
    assert doc.meta.source == "v1" and doc.bodies["storage"] == STORAGE
    assert c.api == "v1"
    assert [v.number for v in c.versions(PID)] == [3, 2, 1]
    assert fake.hits("/api/v2/") == 2  # the page attempt and the probe, once per client


def test_auto_fallback_in_versions(fake: FakeConfluence, make: Make) -> None:
    fake.v2_enabled = False
    assert [v.number for v in make(fake.base_url, cloud=True).versions(PID)] == [3, 2, 1]


def test_explicit_v2_does_not_fall_back(fake: FakeConfluence, make: Make) -> None:
    fake.v2_enabled = False
    with pytest.raises(ConfluenceHTTPError, match="Oops - an error has occurred"):
        make(fake.base_url, api="v2", cloud=True).page(PID)
    assert fake.hits("/rest/api/") == 0


# --------------------------------------------------------------------------- titles and updates


def test_page_title_for_url_resolves_and_caches(fake: FakeConfluence, make: Make) -> None:
    fake.add_page("1656815712", "Split On-call Ownership of Monolith", "<p/>", space="AT")
    c = make(fake.base_url, cloud=True)
    url = f"{fake.origin}/wiki/spaces/AT/pages/1656815712"
    assert c.page_title_for_url(url) == "Split On-call Ownership of Monolith"
    assert c.page_title_for_url(url + "/Split+On-call") == "Split On-call Ownership of Monolith"
    assert fake.hits("/pages/1656815712") == 1
    assert c.page_title_for_url(f"{fake.origin}/wiki/spaces/AT/pages/77") is None
    assert c.page_title_for_url(f"{fake.origin}/wiki/display/AT/Some+Page") == "Some Page"
    before = len(fake.requests)
    assert c.page_title_for_url("https://elsewhere.example.org/wiki/spaces/AT/pages/1") is None
    assert len(fake.requests) == before


@pytest.mark.parametrize("cloud", [True, False])
def test_update_page_and_conflict(fake: FakeConfluence, make: Make, cloud: bool) -> None:
    c = make(fake.base_url, cloud=cloud)
    assert c.update_page(PID, title=TITLE, body="<p>new</p>", base=3, message="sync") == 4
    assert fake.pages[PID].current.storage == "<p>new</p>"
    assert fake.pages[PID].current.message == "sync"
    with pytest.raises(ConfluenceHTTPError) as ei:
        c.update_page(PID, title=TITLE, body="<p>stale</p>", base=3)
    assert ei.value.status == 409
    assert "Current version is: 4" in str(ei.value)
    assert "the page changed since it was read" in str(ei.value)


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds(429, {"Retry-After": "7"}, now) == 7.0
    reset = datetime.fromtimestamp(now + 12, UTC).isoformat().replace("+00:00", "Z")
    assert retry_after_seconds(429, {"X-RateLimit-Reset": reset}, now) == pytest.approx(12)
    assert retry_after_seconds(500, {"X-RateLimit-Reset": reset}, now) is None
    assert retry_after_seconds(429, {"Retry-After": "soon"}, now) is None


def test_connection_reset_is_retried_then_reported(make: Make, waits: list[float]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.recv(65536)
            conn.close()  # hang up without an answer

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(FetchError, match="connection was reset") as ei:
            make(f"http://127.0.0.1:{port}/wiki", cloud=False, retries=2).page(PID)
    finally:
        listener.close()
    assert f"page {PID}" in str(ei.value)
    assert len(accepted) == 3 and len(waits) == 2
