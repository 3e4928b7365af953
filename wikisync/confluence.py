"""A small Confluence REST client: one ``requests.Session`` per run, Cloud v2 first, v1 otherwise.

Why a hand-written client: wikisync needs exactly four reads (a page's storage and view bodies, an
old version, the version list, a page title) and one write, and it needs them to fail in one clear
line, never leak a token, and back off politely when Atlassian rate-limits.

API choice (``api="auto"``): Cloud hosts (``*.atlassian.net``) use v2; every other host is taken
for Server/Data Center and uses v1. When v2 answers 404, the client cannot tell a missing page from
a site without v2 by the status alone, so it probes ``GET /api/v2/pages?limit=1`` once: a 404 there
means the v2 endpoint family is absent, and the client switches to v1 for the rest of the run;
anything else means the page itself is missing (or hidden) and the 404 is reported.

Retries live in urllib3 (``_PoliteRetry``, mounted for GET only): 429/500/502/503/504, connect and
read errors, a bounded count, exponential backoff with ×0.7–1.3 jitter (urllib3's own backoff waits
0 s before the first retry, which is exactly what Atlassian asks clients not to do), ``Retry-After``
(seconds or HTTP date) and, for 429 without it, Cloud's ``X-RateLimit-Reset`` (ISO date). A server
that asks for a longer wait than ``max_wait`` is not waited for: the 429 is reported at once.

A total time bound per request (``total``): the socket timeouts only bound each read, so a server
that trickles a byte every few seconds would hold a cron run for hours. A watchdog timer shuts
the request's socket down when the bound passes (connect, headers, body, retries and waits
included), and the request fails with one line saying so.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import html
import json
import logging
import os
import random
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, quote, unquote, unquote_plus, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import get_netrc_auth
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from wikisync import __version__
from wikisync.errors import ConfigError, FetchError, WikiHTTPError
from wikisync.model import Document, SourceMeta
from wikisync.parse import needs_view

__all__ = [
    "Auth",
    "ConfluenceClient",
    "ConfluenceHTTPError",
    "DeadlineAdapter",
    "VersionInfo",
    "auth_from_env",
    "deadline",
    "retry_after_seconds",
]

log = logging.getLogger("wikisync.confluence")

AUTH_KINDS = ("none", "basic", "bearer", "netrc", "password")  # password: MediaWiki only
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MESSAGE_MAX = 200
_TITLE_CACHE_SIZE = 512
#: A CQL search that finds more pages than this is not a set of roadmaps (and bounds a loop).
MAX_SEARCH_RESULTS = 5_000
MAX_SEARCH_PAGES = 200


# --------------------------------------------------------------------------- auth


@dataclass(frozen=True)
class Auth:
    """How to authenticate. The token never shows in ``repr`` (configs and errors get printed)."""

    kind: str = "none"  # none | basic | bearer | netrc
    user: str | None = None  # account email (Cloud) or user name, for basic
    token: str | None = field(default=None, repr=False)  # API token, PAT or password
    source: str | None = None  # where the credentials came from, for hints ("$CONF_TOKEN")

    def __post_init__(self) -> None:
        if self.kind not in AUTH_KINDS:
            raise ConfigError(
                f"auth.kind must be one of {', '.join(AUTH_KINDS)}, not {self.kind!r}"
            )
        if self.kind == "basic" and (not self.user or not self.token):
            raise ConfigError("auth.kind=basic needs a user (account email) and a token")
        if self.kind == "password" and (not self.user or not self.token):
            raise ConfigError("auth = password needs a user (User@appid) and a bot password")
        if self.kind == "bearer" and not self.token:
            raise ConfigError("auth.kind=bearer needs a token")

    def __repr__(self) -> str:
        token = "'***'" if self.token else "None"
        return (
            f"Auth(kind={self.kind!r}, user={self.user!r}, token={token}, source={self.source!r})"
        )


def auth_from_env(
    kind: str,
    user_env: str | None,
    token_env: str | None,
    environ: Mapping[str, str] = os.environ,
) -> Auth:
    """Read credentials from the environment, so they never live in the config file."""
    if kind not in AUTH_KINDS:
        raise ConfigError(f"auth.kind must be one of {', '.join(AUTH_KINDS)}, not {kind!r}")
    if kind in ("none", "netrc"):
        return Auth(kind=kind)

    def need(var: str | None, key: str, what: str) -> str:
        if not var:
            raise ConfigError(
                f"auth.{key} is not set: name the environment variable holding {what}"
            )
        value = environ.get(var, "")
        if not value.strip():
            raise ConfigError(
                f"environment variable {var} (auth.{key}) is not set: it must hold {what}"
            )
        return value.strip()

    token = need(token_env, "token_env", "the API token")
    if kind == "password":
        user = need(user_env, "user_env", "the bot login name (User@appid)")
        return Auth(kind="password", user=user, token=token, source=f"${user_env}/${token_env}")
    if kind == "bearer":
        return Auth(kind="bearer", token=token, source=f"${token_env}")
    user = need(user_env, "user_env", "the account email or user name")
    return Auth(kind="basic", user=user, token=token, source=f"${user_env}/${token_env}")


class _BearerAuth(AuthBase):
    """``Authorization: Bearer`` as a requests auth, so redirects strip it like basic auth."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(token='***')"


class _NoAuth(AuthBase):
    """Anonymous on purpose: a truthy auth keeps requests from quietly using ~/.netrc."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a page's version history (no body: listing bodies is what makes it slow)."""

    number: int
    when: str | None = None
    author: str | None = None  # display name (v1) or account id (v2)
    message: str = ""
    minor_edit: bool = False


class ConfluenceHTTPError(WikiHTTPError):
    """The server answered with an error status; ``status`` lets callers tell 404 from 409."""


# --------------------------------------------------------------------------- total time bound


class Deadline:
    """The wall-clock bound of one request: shuts its sockets down when the time is up.

    Socket timeouts bound each read, not the request: a server that sends a byte now and then
    never trips them. The watchdog timer breaks the blocked read from outside (``shutdown`` wakes
    a thread blocked in ``recv``), and the retry policy stops retrying once the bound is near.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False  # the watchdog fired: whatever failed after it, failed because of it
        self.cut_short = False  # a retry was not made because its wait would pass the bound
        self._conns: list[HTTPConnection] = []
        self._socks: list[socket.socket] = []  # a response may outlive its connection's sock
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def watch(self, conn: HTTPConnection) -> None:
        """Track a connection this request uses; refuse to start one after the bound."""
        with self._lock:
            if self.expired:
                _shut(conn.sock)
                raise _DeadlinePassed(f"no complete answer within {self.seconds:g} s")
            if conn not in self._conns:
                self._conns.append(conn)
            sock = conn.sock
            if isinstance(sock, socket.socket) and sock not in self._socks:
                self._socks.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            socks = [*self._socks, *(c.sock for c in self._conns)]
        for sock in socks:
            _shut(sock)


class _DeadlinePassed(OSError):
    """Raised inside urllib3 (which retries OSErrors) when a request starts after its bound."""


def _shut(sock: object) -> None:
    if isinstance(sock, socket.socket):
        # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would unwrap the TLS
        # object under the reading thread's feet.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_active = threading.local()


def _current_deadline() -> Deadline | None:
    return getattr(_active, "deadline", None)


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[Deadline | None]:
    """Bound every request made on this thread (through a ``DeadlineAdapter``) to ``seconds``."""
    if seconds is None:
        yield None
        return
    dl = Deadline(seconds)
    previous = _current_deadline()
    _active.deadline = dl
    dl._timer.start()
    try:
        yield dl
    finally:
        dl._timer.cancel()
        _active.deadline = previous


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kw: Any) -> None:
        dl = _current_deadline()
        if dl is not None:
            dl.watch(self)
        super().request(*args, **kw)
        if dl is not None:
            dl.watch(self)  # connected by now: if the bound passed meanwhile, stop here


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    pass  # the MRO puts the watching request() in front of HTTPSConnection's


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections obey ``deadline()`` (also through an HTTP proxy)."""

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


# --------------------------------------------------------------------------- retry policy


def _parse_retry_after(value: str, now: float) -> float | None:
    """``Retry-After`` as seconds (delta or HTTP date); None when unreadable."""
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - now)


def _parse_reset(value: str, now: float) -> float | None:
    """Cloud's ``X-RateLimit-Reset``: an ISO-8601 instant (epoch seconds tolerated)."""
    value = value.strip()
    if re.fullmatch(r"\d{9,}(\.\d+)?", value):
        return max(0.0, float(value) - now)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def retry_after_seconds(
    status: int, headers: Mapping[str, str], now: float | None = None
) -> float | None:
    """How long the server asked us to wait, from ``Retry-After`` or (429) ``X-RateLimit-Reset``."""
    now = time.time() if now is None else now
    ra = headers.get("Retry-After")
    if ra:
        seconds = _parse_retry_after(ra, now)
        if seconds is not None:
            return seconds
    reset = headers.get("X-RateLimit-Reset")
    if reset and status == 429:
        return _parse_reset(reset, now)
    return None


class _PoliteRetry(Retry):
    """urllib3 ``Retry`` with Atlassian's advice: jittered backoff, X-RateLimit-Reset, a wait cap.

    ``new()`` is how urllib3 copies a Retry after each attempt; it only knows the base class's
    arguments, so the extra settings are carried over by hand.
    """

    def __init__(
        self,
        *args: Any,
        max_wait: float = 60.0,
        sleep_fn: Callable[[float], None] = time.sleep,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.max_wait = max_wait
        self.sleep_fn = sleep_fn

    def new(self, **kw: Any) -> Self:
        kw.setdefault("max_wait", self.max_wait)
        kw.setdefault("sleep_fn", self.sleep_fn)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        return retry_after_seconds(int(response.status or 0), response.headers)

    def get_backoff_time(self) -> float:
        # Count the consecutive failures so far (urllib3 would return 0 for the first retry).
        n = 0
        for h in reversed(self.history):
            if h.redirect_location is not None:
                break
            n += 1
        if n == 0 or self.backoff_factor <= 0:
            return 0.0
        wait = self.backoff_factor * (2 ** (n - 1)) * random.uniform(0.7, 1.3)
        return float(min(self.max_wait, self.backoff_max, wait))

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        dl = _current_deadline()
        if dl is not None and dl.expired:
            raise MaxRetryError(_pool, url or "", error or ResponseError("total time bound"))
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                # Give up now: with raise_on_status=False urllib3 hands back this response and the
                # client reports it with the wait the server asked for.
                raise MaxRetryError(_pool, url or "", ResponseError("Retry-After above max_wait"))
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if dl is not None:
            wait = None if response is None else new.get_retry_after(response)
            if min(self.max_wait, new.get_backoff_time() if wait is None else wait) >= (
                dl.remaining()
            ):
                # Waiting would use up the request's time bound: report what we have now.
                dl.cut_short = True
                raise MaxRetryError(_pool, url or "", error or ResponseError("total time bound"))
        return new

    def sleep(self, response: Any = None) -> None:
        wait: float | None = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = self.get_backoff_time()
        wait = min(wait, self.max_wait)
        if wait > 0:
            log.debug("retrying in %.2f s", wait)
            self.sleep_fn(wait)


# --------------------------------------------------------------------------- helpers


def _safe_url(url: str) -> str:
    """The URL without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _one_line(text: str, limit: int = _MESSAGE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _server_message(resp: requests.Response) -> str:
    """The server's own explanation: v1 ``message``, v2 ``errors[0]``, plain text, or HTML title."""
    body = resp.content or b""
    text = body.decode(resp.encoding or "utf-8", errors="replace").strip()
    if not text:
        return resp.reason or ""
    ctype = resp.headers.get("Content-Type", "").lower()
    if "json" in ctype or text[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            errors = data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                bits = [str(first[k]) for k in ("title", "detail") if first.get(k)]
                if bits:
                    return _one_line(": ".join(bits))
            for key in ("message", "errorMessage", "error", "reason"):
                if isinstance(data.get(key), str) and data[key].strip():
                    return _one_line(data[key])
    if "html" in ctype or text[:1] == "<":
        m = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if m and m.group(1).strip():
            return _one_line(html.unescape(m.group(1)))
        return resp.reason or ""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return _one_line(first_line)


def network_reason(
    e: requests.RequestException, timeout: float | tuple[float, float], retries: int
) -> str:
    """Name what went wrong on the wire, without urllib3's long pool/URL repr."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        if isinstance(cause, ReadTimeoutError | requests.ReadTimeout):
            return (
                f"read timed out (timeout {timeout}, {retries} retries); "
                "the server is slow or unreachable; try later or raise the timeout"
            )
        if isinstance(cause, NewConnectionError):
            return (
                "could not connect (connection refused or name not resolved); "
                "check base_url and the network/proxy settings"
            )
        if isinstance(cause, ConnectTimeoutError | requests.ConnectTimeout):
            return (
                f"connect timed out (timeout {timeout}, {retries} retries); "
                "check base_url and the network/proxy settings"
            )
        if isinstance(cause, requests.TooManyRedirects):
            return "too many redirects; check base_url"
        if isinstance(cause, ProtocolError | requests.exceptions.ChunkedEncodingError):
            return (
                f"the connection was reset or broke mid-response ({retries} retries; "
                "truncated body?); try again later"
            )
        if isinstance(cause, requests.exceptions.SSLError):
            return "TLS/SSL error; check the certificate settings (REQUESTS_CA_BUNDLE)"
        if isinstance(cause, requests.exceptions.ProxyError):
            return "proxy error; check HTTPS_PROXY/HTTP_PROXY"
        nested = cause.args[0] if cause.args else None
        cause = nested if isinstance(nested, BaseException) else cause.__context__
    return f"request failed ({type(e).__name__}); check base_url and the network"


def _encode_cursor(url: str) -> str:
    """``_links.next`` with its ``cursor`` percent-encoded: Cloud hands it back raw, and a raw
    ``+`` or ``/`` in it would be read as something else."""
    parts = urlsplit(url)
    pairs = []
    for pair in parts.query.split("&"):
        key, sep, value = pair.partition("=")
        if key == "cursor":
            value = quote(unquote(value), safe="")
        pairs.append(f"{key}{sep}{value}")
    return urlunsplit(parts._replace(query="&".join(pairs)))


def _check_page_id(page_id: str | int) -> str:
    pid = str(page_id).strip()
    if not pid.isdigit():
        raise ConfigError(f"a Confluence page id is a number, not {page_id!r}")
    return pid


def _author_v1(version: Mapping[str, Any]) -> str | None:
    by = version.get("by")
    if not isinstance(by, dict):
        return None
    for key in ("displayName", "publicName", "accountId", "username"):
        if by.get(key):
            return str(by[key])
    return None


@dataclass(frozen=True)
class _Reply:
    """A decoded JSON reply plus what is needed to blame it in an error."""

    data: Any
    method: str
    url: str
    what: str
    response: requests.Response


# --------------------------------------------------------------------------- client


class ConfluenceClient:
    """Reads (and, for publishing, updates) Confluence pages over REST; one Session per client."""

    markup = "storage"  # the body publish edits

    def __init__(
        self,
        base_url: str,
        auth: Auth | None = None,
        *,
        api: str = "auto",
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cloud: bool | None = None,
        total: float | None = None,
    ) -> None:
        """``total``: seconds one request may take, retries and waits included; by default
        the worst case the other settings allow a merely slow server, so only a server that
        trickles its answer is cut short."""
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"base_url must be an http(s) URL, not {base_url!r}")
        if "@" in parts.netloc:
            raise ConfigError("base_url must not contain credentials: use the auth settings")
        if parts.query or parts.fragment:
            raise ConfigError(f"base_url must not have a query or fragment: {base_url!r}")
        self.host = parts.hostname.lower()
        self.cloud = self.host.endswith(".atlassian.net") if cloud is None else cloud
        path = parts.path.rstrip("/")
        if self.cloud and not path and self.host.endswith(".atlassian.net"):
            path = "/wiki"  # Cloud serves Confluence under /wiki; people often omit it
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_url = self.origin + path
        self._v2 = self.base_url + "/api/v2"
        self._v1 = self.base_url + "/rest/api"

        if api not in ("auto", "v1", "v2"):
            raise ConfigError(f"api must be auto, v1 or v2, not {api!r}")
        self._requested_api = api
        self.api = api if api != "auto" else ("v2" if self.cloud else "v1")
        self._v2_probe: bool | None = None

        if retries < 0 or max_wait < 0 or backoff < 0:
            raise ConfigError("retries, backoff and max_wait must not be negative")
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if total is None:
            total = (retries + 1) * (connect + read) + retries * max_wait
        if total <= 0:
            raise ConfigError("the total time bound of a request must be positive")
        self.total = total
        self._last = threading.local()  # the Deadline of this thread's latest request
        self.auth = auth or Auth()
        self._secrets: list[str] = []
        self._auth = self._requests_auth(self.auth)
        self.user_agent = user_agent or f"wikisync/{__version__} (+python-requests)"

        retry = _PoliteRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            backoff_max=max_wait,
            respect_retry_after_header=True,
            raise_on_status=False,
            max_wait=max_wait,
            sleep_fn=sleep,
        )
        self._owns_session = session is None
        self.session = session or requests.Session()  # trust_env: proxies from the environment
        adapter = DeadlineAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._titles: OrderedDict[str, str | None] = OrderedDict()

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Release pooled connections (only a session this client created)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> ConfluenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConfluenceClient({self.base_url!r}, api={self.api!r}, auth={self.auth!r})"

    # ----------------------------------------------------------------- public reads

    def page(
        self,
        page_id: str | int | None = None,
        *,
        space: str | None = None,
        title: str | None = None,
        version: int | None = None,
    ) -> Document:
        """A page's storage and view bodies with its version metadata (current or ``version``)."""
        if version is not None and (not isinstance(version, int) or version < 1):
            raise ConfigError(f"a page version is a positive number, not {version!r}")
        if page_id is not None:
            pid = _check_page_id(page_id)
            return self._call(
                lambda: self._page_v2(pid, version), lambda: self._page_v1(pid, version)
            )
        if not space or not title:
            raise ConfigError("name the page by id, or by space key and title")
        return self._call(
            lambda: self._page_by_title_v2(space, title, version),
            lambda: self._page_by_title_v1(space, title, version),
        )

    def current_version(self, page_id: str | int) -> int:
        """The latest version number, without downloading any body (cheap polling)."""
        pid = _check_page_id(page_id)
        what = f"page {pid}"

        def v2() -> int:
            r = self._get(f"{self._v2}/pages/{pid}", None, what)
            return self._int(r, "version.number")

        def v1() -> int:
            r = self._get(f"{self._v1}/content/{pid}", {"expand": "version"}, what)
            return self._int(r, "version.number")

        return self._call(v2, v1)

    def versions(self, page_id: str | int, *, limit: int | None = None) -> Iterator[VersionInfo]:
        """Every version of the page, newest first, following pagination to the end."""
        pid = _check_page_id(page_id)
        if limit is not None and limit < 1:
            raise ConfigError("the page size of a version listing must be at least 1")
        return self._versions(pid, limit)

    def search(self, cql: str, *, limit: int = 100) -> Iterator[tuple[str, str]]:
        """(page id, title) of every page a CQL query finds (v1 ``content/search``: Cloud and
        Server/DC alike), following ``_links.next`` with its cursor re-encoded."""
        what = "the CQL search"
        url: str | None = f"{self._v1}/content/search"
        params: dict[str, Any] | None = {"cql": cql, "limit": limit}
        seen: set[str] = set()
        found = 0
        for _ in range(MAX_SEARCH_PAGES):
            assert url is not None
            r = self._get(url, params, what)
            for item in self._list(r, "results"):
                if not isinstance(item, dict) or item.get("type", "page") != "page":
                    continue
                pid, title = item.get("id"), item.get("title")
                if isinstance(pid, str | int) and str(pid).isdigit() and isinstance(title, str):
                    found += 1
                    yield str(pid), title
            links = r.data.get("_links")
            nxt = links.get("next") if isinstance(links, dict) else None
            if not isinstance(nxt, str) or not nxt or found >= MAX_SEARCH_RESULTS:
                return
            base = links.get("base") if isinstance(links, dict) else None
            if not isinstance(base, str) or not base.startswith(self.origin):
                base = self.base_url
            url = self._next_url(
                _encode_cursor(nxt if "://" in nxt else base.rstrip("/") + nxt), self.origin, r
            )
            if url in seen:
                raise self._fail(f"cannot run {what}: the server repeated the page cursor")
            seen.add(url)
            params = None
        raise self._fail(f"cannot run {what}: more than {MAX_SEARCH_PAGES} result pages")

    def page_title_for_url(self, url: str) -> str | None:
        """The title of the page a (smart) link points to on this site; None when unknowable."""
        parts = urlsplit(url.strip())
        if (parts.hostname or "").lower() != self.host:
            return None  # another site: never send our credentials there
        m = re.search(r"/pages/(\d+)(?:/|$)", parts.path)
        pid = m.group(1) if m else None
        if pid is None:
            ids = parse_qs(parts.query).get("pageId")
            pid = ids[0] if ids and ids[0].isdigit() else None
        if pid is None:
            d = re.search(r"/display/[^/]+/([^/]+)$", parts.path)
            return unquote_plus(d.group(1)) if d else None
        if pid in self._titles:
            self._titles.move_to_end(pid)
            return self._titles[pid]
        what = f"page {pid} (linked)"

        def v2() -> str:
            return self._str(self._get(f"{self._v2}/pages/{pid}", None, what), "title")

        def v1() -> str:
            return self._str(self._get(f"{self._v1}/content/{pid}", None, what), "title")

        title: str | None
        try:
            title = self._call(v2, v1)
        except ConfluenceHTTPError as e:
            if e.status not in (401, 403, 404, 410):
                raise
            title = None
        self._titles[pid] = title
        if len(self._titles) > _TITLE_CACHE_SIZE:
            self._titles.popitem(last=False)
        return title

    # ----------------------------------------------------------------- public write

    def update_page(
        self,
        page_id: str | int,
        *,
        title: str,
        body: str,
        base: int,
        base_when: str | None = None,
        message: str = "",
        minor_edit: bool = False,
    ) -> int:
        """Save ``body`` (storage XHTML) as version ``base + 1``; returns the new number.

        Never retried, and ``base`` must be the version the edit was based on: a 409 means
        someone saved in between, and re-reading to "fix" it would overwrite their edit.
        """
        del base_when  # Confluence detects a conflict by the version number alone
        storage, version = body, base + 1
        pid = _check_page_id(page_id)
        what = f"page {pid}"

        def v2() -> int:
            body = {
                "id": pid,
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": storage},
                "version": {"number": version, "message": message, "minorEdit": minor_edit},
            }
            r = self._send_json("PUT", f"{self._v2}/pages/{pid}", None, body, what, "update")
            return self._int(r, "version.number")

        def v1() -> int:
            body = {
                "id": pid,
                "type": "page",
                "title": title,
                "status": "current",
                "version": {"number": version, "message": message, "minorEdit": minor_edit},
                "body": {"storage": {"value": storage, "representation": "storage"}},
            }
            r = self._send_json("PUT", f"{self._v1}/content/{pid}", None, body, what, "update")
            return self._int(r, "version.number")

        return self._call(v2, v1)

    # ----------------------------------------------------------------- v2

    def _page_v2(self, pid: str, version: int | None) -> Document:
        what = f"page {pid}" + (f" version {version}" if version else "")
        url = f"{self._v2}/pages/{pid}"
        params: dict[str, Any] = {"body-format": "storage"}
        if version is not None:
            params["version"] = version
        s = self._get(url, params, what)
        storage = self._str(s, "body.storage.value")
        number = self._int(s, "version.number")
        bodies = {"storage": storage}
        if needs_view(storage):
            # Pin the view to the version just read: the page may be saved between the calls.
            v = self._get(url, {"body-format": "view", "version": number}, what)
            bodies["view"] = self._str(v, "body.view.value")
        ver = s.data["version"]
        meta = SourceMeta(
            page=pid,
            title=self._str(s, "title"),
            version=number,
            when=ver.get("createdAt"),
            author=ver.get("authorId") or s.data.get("authorId"),
            message=ver.get("message") or "",
            url=self._webui(s.data),
            source="v2",
        )
        return Document(bodies=bodies, meta=meta)

    def _page_by_title_v2(self, space: str, title: str, version: int | None) -> Document:
        what = f"page {title!r} in space {space}"
        sp = self._get(f"{self._v2}/spaces", {"keys": space}, what)
        spaces = self._list(sp, "results")
        match = [s for s in spaces if isinstance(s, dict) and s.get("key") == space] or spaces
        if not match or not isinstance(match[0], dict) or not match[0].get("id"):
            raise FetchError(
                f"cannot read {what}: no space with key {space} at {self.base_url} "
                "(the space does not exist or the credentials cannot see it)"
            )
        params = {"space-id": str(match[0]["id"]), "title": title, "status": "current"}
        pages = self._list(self._get(f"{self._v2}/pages", params, what), "results")
        found = [p for p in pages if isinstance(p, dict) and p.get("id")]
        if not found:
            raise FetchError(
                f"cannot read {what}: no such page at {self.base_url} "
                "(check the title, or the credentials cannot see it)"
            )
        return self._page_v2(_check_page_id(found[0]["id"]), version)

    def _versions_v2_first(self, pid: str, limit: int | None) -> _Reply:
        params = {"limit": limit or 250, "sort": "-modified-date"}
        return self._get(f"{self._v2}/pages/{pid}/versions", params, f"versions of page {pid}")

    def _iter_v2(self, pid: str, first: _Reply) -> Iterator[VersionInfo]:
        def info(item: dict[str, Any]) -> VersionInfo:
            return VersionInfo(
                number=int(item["number"]),
                when=item.get("createdAt"),
                author=item.get("authorId"),
                message=item.get("message") or "",
                minor_edit=bool(item.get("minorEdit", False)),
            )

        def next_url(reply: _Reply) -> str | None:
            # a site-relative path that already holds /wiki: built from scheme + host
            links = reply.data.get("_links") if isinstance(reply.data, dict) else None
            nxt = links.get("next") if isinstance(links, dict) else None
            if not nxt:
                nxt = reply.response.links.get("next", {}).get("url")
            return self._next_url(str(nxt), self.origin, reply) if nxt else None

        return self._paginate(pid, first, info, next_url)

    def _paginate(
        self,
        pid: str,
        first: _Reply,
        info: Callable[[dict[str, Any]], VersionInfo],
        next_url: Callable[[_Reply], str | None],
    ) -> Iterator[VersionInfo]:
        """Every listed version, page after page, refusing a repeated cursor or number."""
        reply = first
        seen_urls: set[str] = {reply.url}
        seen_numbers: set[int] = set()
        while True:
            for item in self._list(reply, "results"):
                if not isinstance(item, dict) or "number" not in item:
                    raise self._bad_shape(reply, "results[].number")
                version = info(item)
                self._check_new(version.number, seen_numbers, reply)
                yield version
            url = next_url(reply)
            if url is None:
                return
            if url in seen_urls:
                raise FetchError(
                    f"cannot list versions of page {pid}: the server repeated the page cursor "
                    f"({_safe_url(url)}); stopping instead of looping"
                )
            seen_urls.add(url)
            reply = self._get(url, None, reply.what)

    # ----------------------------------------------------------------- v1

    _V1_EXPAND = "body.storage,body.view,version"

    def _page_v1(self, pid: str, version: int | None) -> Document:
        what = f"page {pid}" + (f" version {version}" if version else "")
        params: dict[str, Any] = {"expand": self._V1_EXPAND}
        if version is not None:
            params["status"] = "historical"
            params["version"] = version
        return self._doc_v1(self._get(f"{self._v1}/content/{pid}", params, what), pid)

    def _page_by_title_v1(self, space: str, title: str, version: int | None) -> Document:
        what = f"page {title!r} in space {space}"
        params = {"spaceKey": space, "title": title, "type": "page"}
        if version is None:
            params["expand"] = self._V1_EXPAND
        r = self._get(f"{self._v1}/content", params, what)
        found = [p for p in self._list(r, "results") if isinstance(p, dict) and p.get("id")]
        if not found:
            raise FetchError(
                f"cannot read {what}: no such page at {self.base_url} "
                "(check the space key and title, or the credentials cannot see it)"
            )
        pid = _check_page_id(found[0]["id"])
        if version is not None:
            return self._page_v1(pid, version)
        return self._doc_v1(_Reply(found[0], r.method, r.url, what, r.response), pid)

    def _doc_v1(self, r: _Reply, pid: str) -> Document:
        storage = self._str(r, "body.storage.value")
        bodies = {"storage": storage}
        if needs_view(storage):  # the same bodies v2 keeps, so both APIs store one snapshot
            bodies["view"] = self._str(r, "body.view.value")
        number = self._int(r, "version.number")
        ver = r.data["version"]
        meta = SourceMeta(
            page=str(r.data.get("id") or pid),
            title=self._str(r, "title"),
            version=number,
            when=ver.get("when"),
            author=_author_v1(ver),
            message=ver.get("message") or "",
            url=self._webui(r.data),
            source="v1",
        )
        return Document(bodies=bodies, meta=meta)

    def _iter_v1(self, pid: str, limit: int | None) -> Iterator[VersionInfo]:
        what = f"versions of page {pid}"
        url = f"{self._v1}/content/{pid}/version"
        first = self._get(url, {"start": 0, "limit": limit or 200}, what)

        def info(item: dict[str, Any]) -> VersionInfo:
            return VersionInfo(
                number=int(item["number"]),
                when=item.get("when"),
                author=_author_v1(item),
                message=item.get("message") or "",
                minor_edit=bool(item.get("minorEdit", False)),
            )

        def next_url(reply: _Reply) -> str | None:
            links = reply.data.get("_links") if isinstance(reply.data, dict) else None
            nxt = links.get("next") if isinstance(links, dict) else None
            if not nxt:
                return None
            # v1 ``next`` is relative to ``_links.base``; only trust that base on our own origin
            # (behind a proxy Server/DC often reports an internal host name).
            base = links.get("base") if isinstance(links, dict) else None
            if not isinstance(base, str) or not base.startswith(self.origin):
                base = self.base_url
            nxt = str(nxt)
            return self._next_url(
                nxt if "://" in nxt else base.rstrip("/") + nxt, self.origin, reply
            )

        return self._paginate(pid, first, info, next_url)

    # ----------------------------------------------------------------- api selection

    def _call(self, v2: Callable[[], Any], v1: Callable[[], Any]) -> Any:
        """Run the v2 flavour, or v1; on Cloud-auto fall back to v1 when v2 itself is missing."""
        if self.api == "v1":
            return v1()
        try:
            return v2()
        except ConfluenceHTTPError as e:
            if not self._falls_back(e):
                raise
        return v1()

    def _falls_back(self, e: ConfluenceHTTPError) -> bool:
        if e.status != 404 or self._requested_api != "auto" or self.api != "v2":
            return False
        if self._v2_probe is None:
            probe = self._request("GET", f"{self._v2}/pages", {"limit": 1}, None, "the v2 API")
            self._v2_probe = probe.status_code != 404
            if not self._v2_probe:
                log.info("no v2 REST API at %s; using v1", self.base_url)
                self.api = "v1"
        return not self._v2_probe

    def _versions(self, pid: str, limit: int | None) -> Iterator[VersionInfo]:
        if self.api == "v2":
            try:
                first = self._versions_v2_first(pid, limit)
            except ConfluenceHTTPError as e:
                if not self._falls_back(e):
                    raise
            else:
                yield from self._iter_v2(pid, first)
                return
        yield from self._iter_v1(pid, limit)

    # ----------------------------------------------------------------- transport

    def _requests_auth(self, auth: Auth) -> AuthBase:
        if auth.kind == "basic":
            assert auth.user is not None and auth.token is not None
            pair = f"{auth.user}:{auth.token}".encode()
            self._secrets += [auth.token, base64.b64encode(pair).decode()]
            return HTTPBasicAuth(auth.user, auth.token)
        if auth.kind == "bearer":
            assert auth.token is not None
            self._secrets.append(auth.token)
            return _BearerAuth(auth.token)
        if auth.kind == "netrc":
            try:
                found = get_netrc_auth(self.base_url, raise_errors=True)
            except Exception as e:  # netrc.NetrcParseError, OSError
                raise ConfigError(f"cannot read the netrc file: {type(e).__name__}") from None
            if not found:
                raise ConfigError(
                    f"auth.kind=netrc but no ~/.netrc (or $NETRC) entry for {self.host}"
                )
            login, password = found
            pair = f"{login}:{password}".encode()
            self._secrets += [password, base64.b64encode(pair).decode()]
            return HTTPBasicAuth(login, password)
        if auth.kind == "password":
            raise ConfigError(
                "auth = password is for MediaWiki pages; Confluence takes basic, bearer or netrc"
            )
        return _NoAuth()

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _fail(self, message: str) -> FetchError:
        return FetchError(self._redact(message))

    def _request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        what: str,
        action: str = "read",
    ) -> requests.Response:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        safe = _safe_url(url)
        try:
            with deadline(self.total) as dl:
                self._last.deadline = dl
                resp = self.session.request(
                    method,
                    url,
                    params=params,
                    data=None if body is None else json.dumps(body),
                    headers=headers,
                    auth=self._auth,
                    timeout=self.timeout,
                    allow_redirects=True,
                )
        except requests.RequestException as e:
            full = _safe_url(e.request.url) if e.request is not None and e.request.url else safe
            log.debug("%s %s -> %s", method, self._redact(full), type(e).__name__)
            reason = self._network_reason(e)
            if dl is not None and (dl.expired or dl.cut_short):
                reason = self._too_slow()
            raise self._fail(f"cannot {action} {what}: {method} {full} -> {reason}") from None
        if dl is not None and dl.expired:
            # The watchdog cut the socket yet an answer came through: headers or a body without
            # a length end at EOF, so what arrived may be cut short. Never use it.
            raise self._fail(f"cannot {action} {what}: {method} {safe} -> {self._too_slow()}")
        for hop in resp.history:
            log.debug("%s %s -> %s (redirect)", method, _safe_url(hop.url), hop.status_code)
        log.debug("%s %s -> %s", method, self._redact(_safe_url(resp.url)), resp.status_code)
        if resp.headers.get("Warning", "").startswith("299"):
            log.debug("server warning: %s", _one_line(resp.headers["Warning"]))
        return resp

    def _network_reason(self, e: requests.RequestException) -> str:
        return network_reason(e, self.timeout, self.retries)

    def _send_json(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        what: str,
        action: str = "read",
    ) -> _Reply:
        resp = self._request(method, url, params, body, what, action)
        shown = _safe_url(resp.url or url)
        if not 200 <= resp.status_code < 300:
            raise self._http_error(resp, method, shown, what, action)
        try:
            data = json.loads(resp.content)
        except (ValueError, UnicodeDecodeError):
            ctype = resp.headers.get("Content-Type", "?")
            raise self._fail(
                f"cannot {action} {what}: {method} {shown} -> HTTP {resp.status_code} but the "
                f"body is not JSON ({len(resp.content)} bytes of {ctype}: truncated, or base_url "
                "is not a Confluence REST root)"
            ) from None
        if not isinstance(data, dict):
            raise self._fail(
                f"cannot {action} {what}: {method} {shown} -> HTTP {resp.status_code} but the "
                "body is not a JSON object"
            )
        return _Reply(data, method, shown, what, resp)

    def _get(self, url: str, params: Mapping[str, Any] | None, what: str) -> _Reply:
        return self._send_json("GET", url, params, None, what)

    def _http_error(
        self, resp: requests.Response, method: str, url: str, what: str, action: str
    ) -> ConfluenceHTTPError:
        status = resp.status_code
        server = self._redact(_server_message(resp))
        if status == 401:
            if self.auth.kind == "none":
                hint = "the page needs credentials: configure auth (user_env/token_env)"
            elif self.auth.kind == "netrc":
                hint = f"check the ~/.netrc entry for {self.host}"
            else:
                src = f" ({self.auth.source})" if self.auth.source else ""
                hint = f"check token_env/user_env{src}: the token may be wrong or expired"
        elif status in (403, 404):
            hint = "the page does not exist or the credentials cannot see it"
        elif status == 409:
            hint = "the page changed since it was read; fetch it again and redo the edit"
        elif status in (429, 503):
            wait = retry_after_seconds(status, resp.headers)
            if wait is not None and wait > self.max_wait:
                hint = (
                    f"the server asks to wait {wait:.0f} s, more than max_wait "
                    f"{self.max_wait:g} s; rate limited; try later"
                )
            else:
                hint = f"rate limited; try later (gave up {self._gave_up()})"
        elif status >= 500:
            hint = f"server error; try later (gave up {self._gave_up()})"
        else:
            hint = ""
        msg = f"cannot {action} {what}: {method} {url} -> HTTP {status}"
        if server:
            msg += f": {server}"
        if hint:
            msg += f" ({hint})"
        return ConfluenceHTTPError(self._redact(msg), status=status, url=url, server_message=server)

    def _too_slow(self) -> str:
        return (
            f"no complete answer within {self.total:g} s, the time bound of one request; "
            "the server is too slow or trickles its answer; try later"
        )

    def _gave_up(self) -> str:
        dl: Deadline | None = getattr(self._last, "deadline", None)
        if dl is not None and (dl.expired or dl.cut_short):
            return f"before the {self.total:g} s time bound of one request"
        return f"after {self.retries} retries"

    # ----------------------------------------------------------------- JSON access

    def _bad_shape(self, r: _Reply, path: str) -> FetchError:
        return self._fail(
            f"cannot read {r.what}: {r.method} {r.url} -> the response has no '{path}' "
            "(truncated, or not a Confluence page)"
        )

    def _dig(self, r: _Reply, path: str) -> Any:
        cur = r.data
        for key in path.split("."):
            if not isinstance(cur, dict) or cur.get(key) is None:
                raise self._bad_shape(r, path)
            cur = cur[key]
        return cur

    def _str(self, r: _Reply, path: str) -> str:
        value = self._dig(r, path)
        if not isinstance(value, str):
            raise self._bad_shape(r, path)
        return value

    def _int(self, r: _Reply, path: str) -> int:
        value = self._dig(r, path)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self._bad_shape(r, path)
        try:
            return int(value)
        except ValueError:
            raise self._bad_shape(r, path) from None

    def _list(self, r: _Reply, path: str) -> list[Any]:
        value = self._dig(r, path)
        if not isinstance(value, list):
            raise self._bad_shape(r, path)
        return value

    def _check_new(self, number: int, seen: set[int], r: _Reply) -> None:
        if number in seen:
            raise self._fail(
                f"cannot list {r.what}: version {number} came twice ({r.url}); "
                "the server's pagination loops"
            )
        seen.add(number)

    def _next_url(self, nxt: str, origin: str, r: _Reply) -> str:
        """Absolute URL of a ``next`` link; never one on another host (our credentials go along)."""
        if nxt.startswith("/"):
            return origin + nxt
        parts = urlsplit(nxt)
        if f"{parts.scheme}://{parts.netloc}".lower() != origin.lower():
            raise self._fail(
                f"cannot list {r.what}: the next-page link points to another site "
                f"({_safe_url(nxt)}); refusing to follow it"
            )
        return nxt

    def _webui(self, data: Mapping[str, Any]) -> str | None:
        links = data.get("_links")
        if not isinstance(links, dict) or not isinstance(links.get("webui"), str):
            return None
        webui: str = links["webui"]
        if "://" in webui:
            return _safe_url(webui)
        base = links.get("base") if isinstance(links.get("base"), str) else self.base_url
        return _safe_url(str(base).rstrip("/") + webui)
