"""The HTTP transport every wiki client and URL source shares: one place for the wire's rules.

Why a module of its own: what Confluence's API asks (paths, JSON shapes, versions) changes per
wiki; how wikisync talks HTTP must not. Here, once:

- **Credentials go to one origin only** (scheme, host and port of the configured base URL).
  requests, left to itself, reads ``~/.netrc`` for any host a request or a redirect reaches
  (``trust_env``: ``prepare_request`` and ``rebuild_auth``). A ``guard_session`` never does:
  netrc is read only by the Confluence client when ``auth = "netrc"``, for its own host; a
  redirect to another origin is followed without any ``Authorization``; a redirect from https
  to http is refused (one line), whoever asked; a write (PUT/POST) is never redirected.
  Proxies and CA bundles from the environment still apply.
- **Bounded reads.** Every body is streamed and its *decompressed* size checked while it
  arrives (an endless body, a gzip bomb), besides the total time bound of a request
  (``deadline``: socket timeouts bound each read, not the request).
- **Polite retries** (``PoliteRetry``): jittered backoff, ``Retry-After``, a wait cap; a refused
  connection is not retried (nothing listens: waiting will not help).
- **Never silent.** ``-v`` logs each request (method, URL without secrets, status, time,
  bytes); on a terminal a request that waits more than a second shows a spinner on stderr.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from wikisync import __version__
from wikisync.errors import FetchError
from wikisync.logsetup import logger
from wikisync.progress import waiting

__all__ = [
    "MAX_REDIRECTS",
    "Deadline",
    "DeadlineAdapter",
    "PoliteRetry",
    "Transport",
    "TransportError",
    "deadline",
    "guard_session",
    "is_loopback",
    "origin_of",
    "retry_after_seconds",
    "safe_url",
    "warn_plain_http",
]

log = logger("wikisync.http")  # applies the CLI's pending logging set-up

#: Redirects followed for one read (requests' default is 30: a loop would cost 30 requests).
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Query parameters whose values never reach a log line or a message.
_SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "password",
        "os_password",
        "jwt",
        "sig",
        "signature",
        "secret",
        "auth",
    }
)


# --------------------------------------------------------------------------- URLs


def safe_url(url: str) -> str:
    """The URL for messages and logs: no ``user:password@``, secret query values masked."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*/:"
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_SECRET_QUERY = re.compile(r"(?i)([?&](?:" + "|".join(sorted(_SECRET_PARAMS)) + r")=)[^&#\s\"']*")


class _MaskSecrets(logging.Filter):
    """urllib3's debug lines (``-vv``) show each request line, query string included: mask
    the values of secret-looking parameters there as ``safe_url`` does in ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = _SECRET_QUERY.sub(r"\1***", text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskSecrets())


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the port spelled out, to compare where requests go."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "?"
    return f"{host}:{port}" if port else host


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: traffic that never leaves the machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_warned_plain: set[str] = set()
_warned_lock = threading.Lock()


def warn_plain_http(base_url: str) -> bool:
    """Warn once per run and origin that credentials go out unencrypted; True when it warned."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http" or is_loopback(parts.hostname or ""):
        return False
    where = origin_of(base_url)
    with _warned_lock:
        if where in _warned_plain:
            return False
        _warned_plain.add(where)
    log.warning(
        "credentials are sent to %s over plain http://: anyone on the network path can read "
        "them; use https:// in base_url",
        safe_url(f"{parts.scheme}://{parts.netloc}"),
    )
    return True


# --------------------------------------------------------------------------- sessions


class NoAuth(AuthBase):
    """Anonymous on purpose: a truthy auth keeps requests from quietly using ~/.netrc."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class _RedirectRefused(requests.RequestException):
    """A redirect wikisync will not follow (https → http)."""


def guard_session(session: requests.Session, credentials_origin: str | None) -> requests.Session:
    """Make ``session`` send credentials to ``credentials_origin`` only and never read netrc.

    ``credentials_origin`` is an ``origin_of`` value (None: credentials go nowhere). A redirect
    elsewhere is followed without ``Authorization``; https → http is refused.
    """
    if not session.auth:
        session.auth = NoAuth()  # prepare_request reads netrc only when no auth is given
    session.max_redirects = MAX_REDIRECTS

    def rebuild_auth(prepared: requests.PreparedRequest, response: requests.Response) -> None:
        old = response.request.url or ""
        new = prepared.url or ""
        if urlsplit(old).scheme.lower() == "https" and urlsplit(new).scheme.lower() == "http":
            raise _RedirectRefused(
                f"redirected from https to plain http ({safe_url(new)}); refusing to follow "
                "a downgrade: check base_url"
            )
        if credentials_origin is None or origin_of(new) != credentials_origin:
            prepared.headers.pop("Authorization", None)
        # Never ~/.netrc: requests' own rebuild_auth would add its entry for the new host.

    session.rebuild_auth = rebuild_auth  # type: ignore[method-assign]
    return session


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


class SiteGate:
    """One politeness budget per site, shared by every client and thread that talks to it.

    When a site answers one worker with ``Retry-After`` (or a 429 whose wait it names), every
    worker's next request to that site waits until then: concurrency must not turn one
    server's "slow down" into four times the requests.
    """

    def __init__(self) -> None:
        self._until = 0.0
        self._holder: int | None = None  # the thread whose retry is sleeping the hold out
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        """Ask every request to this site to wait ``seconds`` from now (the longest ask wins)."""
        if seconds > 0:
            with self._lock:
                until = time.monotonic() + seconds
                if until > self._until:
                    self._until, self._holder = until, threading.get_ident()

    def clear(self) -> None:
        """Forget any pending wait (a test that planted one cleans up after itself)."""
        with self._lock:
            self._until, self._holder = 0.0, None

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait (with the caller's ``sleep``) until the site may be asked again; returns the
        seconds waited."""
        with self._lock:
            remaining = self._until - time.monotonic()
            mine = self._holder == threading.get_ident()  # its own retry already waited
        if remaining <= 0 or mine:
            return 0.0
        sleep(remaining)
        return remaining


_gates: dict[str, SiteGate] = {}
_gates_lock = threading.Lock()


def gate_for(url: str) -> SiteGate:
    """The gate of ``url``'s site (scheme, host and port), made on first use."""
    key = origin_of(url)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = SiteGate()
        return gate


#: Answers a wiki client retries (a GET): rate limits and server errors that pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class PoliteRetry(Retry):
    """urllib3 ``Retry`` with Atlassian's advice: jittered backoff, X-RateLimit-Reset, a wait cap.

    ``new()`` is how urllib3 copies a Retry after each attempt; it only knows the base class's
    arguments, so the extra settings are carried over by hand.
    """

    def __init__(
        self,
        *args: Any,
        max_wait: float = 60.0,
        sleep_fn: Callable[[float], None] = time.sleep,
        gate: SiteGate | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.max_wait = max_wait
        self.sleep_fn = sleep_fn
        self.gate = gate

    @classmethod
    def for_reads(
        cls,
        retries: int,
        *,
        backoff: float,
        max_wait: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Self:
        """A wiki client's policy: GETs only (a write is never sent twice), 429 and 5xx,
        ``Retry-After`` honoured up to ``max_wait``, ``retries`` of each kind."""
        return cls(
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

    def new(self, **kw: Any) -> Self:
        kw.setdefault("max_wait", self.max_wait)
        kw.setdefault("sleep_fn", self.sleep_fn)
        kw.setdefault("gate", self.gate)
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
        if error is not None and isinstance(error, NewConnectionError) and _refused(error):
            # Nothing listens there: retrying only burns the user's time. Report it at once.
            raise MaxRetryError(_pool, url or "", error)
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                # Give up now: with raise_on_status=False urllib3 hands back this response and the
                # client reports it with the wait the server asked for.
                raise MaxRetryError(_pool, url or "", ResponseError("Retry-After above max_wait"))
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if dl is not None:
            respected = response is not None and self.respect_retry_after_header
            wait = new.get_retry_after(response) if respected else None
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
            if self.gate is not None and response is not None:
                self.gate.hold(wait)  # the site asked: every worker on it waits, not just this one
            log.debug("retrying in %.2f s", wait)
            self.sleep_fn(wait)


# --------------------------------------------------------------------------- the transport


class TransportClient:
    """What every wiki client shares: one ``Transport``, closed on ``close()`` or ``with``."""

    transport: Transport

    def close(self) -> None:
        """Release pooled connections (only a session this client created)."""
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TransportError(FetchError):
    """No usable answer: ``reason`` says why in a few words that name the host (and seconds)."""

    def __init__(self, reason: str, *, method: str, url: str) -> None:
        super().__init__(f"{method} {url} -> {reason}")
        self.reason = reason
        self.method = method
        self.url = url


def _seconds(value: float) -> str:
    return f"{value:g} s"


class Transport:
    """One ``requests.Session`` with the rules above; ``request`` returns a fully read answer.

    ``credentials_origin``: where ``auth`` may go (``origin_of`` of the base URL), None for
    anonymous use (URL sources). ``max_bytes``: the cap on a decompressed body (None: none).
    """

    def __init__(
        self,
        *,
        retry: Retry,
        timeout: float | tuple[float, float],
        total: float,
        max_bytes: int | None,
        user_agent: str,
        auth: AuthBase | None = None,
        credentials_origin: str | None = None,
        session: requests.Session | None = None,
        gate: SiteGate | None = None,
    ) -> None:
        """``gate``: the site's shared politeness budget (``gate_for``); None for none."""
        self.timeout = timeout
        self.gate = gate
        if gate is not None and isinstance(retry, PoliteRetry):
            retry = retry.new(gate=gate)
        self._retry = retry
        self.connect_timeout, self.read_timeout = (
            timeout if isinstance(timeout, tuple) else (timeout, timeout)
        )
        self.retries = int(retry.total or 0) if not isinstance(retry.total, bool) else 0
        self.total = total
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.auth = auth if auth is not None else NoAuth()
        self._owns_session = session is None
        self.session = guard_session(session or requests.Session(), credentials_origin)
        adapter = DeadlineAdapter(max_retries=retry)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._last = threading.local()  # the Deadline of this thread's latest request

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    @property
    def last_deadline(self) -> Deadline | None:
        dl: Deadline | None = getattr(self._last, "deadline", None)
        return dl

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one request (retries, redirects and all) and read its body under the caps.

        Raises ``TransportError`` when no answer came (network, time bound, size cap, refused
        redirect); an HTTP error status is an answer: the caller reads it.
        """
        write = method.upper() not in ("GET", "HEAD")
        shown = safe_url(url)
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        resp: requests.Response | None = None
        if self.gate is not None:
            sleep = getattr(self._retry, "sleep_fn", time.sleep)
            waited = self.gate.wait(sleep)
            if waited:
                log.info("%s %s: waited %.1f s for the site's rate limit", method, shown, waited)
        started = time.monotonic()
        with deadline(self.total) as dl, waiting(f"{method} {_host_port(url)}"):
            self._last.deadline = dl
            try:
                resp = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=sent,
                    auth=self.auth,
                    timeout=self.timeout,
                    allow_redirects=not write,
                    stream=True,
                )
                with contextlib.closing(resp):
                    size = self._read_body(resp, method)
            except requests.RequestException as exc:
                full = (
                    safe_url(exc.request.url)
                    if exc.request is not None and exc.request.url
                    else shown
                )
                if dl is not None and (dl.expired or dl.cut_short):
                    reason = self.too_slow(full)
                else:
                    reason = self.reason(exc, full)
                self._log(method, full, type(exc).__name__, started)
                raise TransportError(reason, method=method, url=full) from None
        full = safe_url(resp.url or url)
        for hop in resp.history:
            log.info("%s %s -> %s (redirect)", method, safe_url(hop.url), hop.status_code)
        if dl is not None and dl.expired:
            # The watchdog cut the socket yet an answer came through: a body without a length
            # ends at EOF, so what arrived may be cut short. Never use it.
            self._log(method, full, "cut by the time bound", started)
            raise TransportError(self.too_slow(full), method=method, url=full)
        self._log(method, full, str(resp.status_code), started, size)
        if write and resp.is_redirect:
            target = safe_url(resp.headers.get("Location", "?"))
            raise TransportError(
                f"HTTP {resp.status_code} redirect to {target}; a write is never re-sent to "
                "another address (check base_url)",
                method=method,
                url=full,
            )
        return resp

    def _read_body(self, resp: requests.Response, method: str) -> int:
        """Stream the body into ``resp`` and stop as soon as it passes ``max_bytes``."""
        cap = self.max_bytes
        declared = resp.headers.get("Content-Length", "")
        encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if cap is not None and declared.isdigit() and int(declared) > cap and not encoded:
            raise TransportError(
                f"the answer is {int(declared)} bytes, over the {cap}-byte limit",
                method=method,
                url=safe_url(resp.url),
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(_CHUNK):  # decompressed, a chunk at a time
            size += len(chunk)
            if cap is not None and size > cap:
                what = "decompressed answer" if encoded else "answer"
                raise TransportError(
                    f"the {what} passed the {cap}-byte limit; stopped reading",
                    method=method,
                    url=safe_url(resp.url),
                )
            chunks.append(chunk)
        resp._content = b"".join(chunks)
        resp._content_consumed = True  # type: ignore[attr-defined]
        return size

    def _log(
        self, method: str, url: str, outcome: str, started: float, size: int | None = None
    ) -> None:
        took = time.monotonic() - started
        extra = f", {size} bytes" if size is not None else ""
        log.info("%s %s -> %s (%.2f s%s)", method, url, outcome, took, extra)

    def too_slow(self, url: str) -> str:
        return (
            f"no complete answer within {_seconds(self.total)} from {_host_port(url)}, the time "
            "bound of one request; the server is too slow or trickles its answer; try later"
        )

    def reason(self, exc: BaseException, url: str) -> str:
        """Name what went wrong on the wire, with the host and the seconds it concerns."""
        where = _host_port(url)
        tries = f"{self.retries} retries"
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, _RedirectRefused):
                return str(cause)
            if isinstance(cause, MaxRetryError) and cause.reason is not None:
                cause = cause.reason
                continue
            if isinstance(cause, ReadTimeoutError | requests.ReadTimeout):
                return (
                    f"read timed out: {where} sent nothing for {_seconds(self.read_timeout)} "
                    f"({tries}); the server is slow or unreachable; try later or raise timeout"
                )
            if isinstance(cause, NameResolutionError):
                return (
                    f"could not connect: the name {urlsplit(url).hostname} is not resolved; "
                    "check base_url and the network/proxy settings"
                )
            if isinstance(cause, NewConnectionError):
                if _refused(cause):
                    return (
                        f"could not connect: connection refused by {where} (nothing listens "
                        "there); check base_url and that the server is up"
                    )
                return (
                    f"could not connect to {where}; check base_url and the network/proxy settings"
                )
            if isinstance(cause, ConnectTimeoutError | requests.ConnectTimeout):
                return (
                    f"connect timed out: no answer from {where} within "
                    f"{_seconds(self.connect_timeout)} ({tries}); check base_url and the "
                    "network/proxy settings"
                )
            if isinstance(cause, requests.TooManyRedirects):
                return f"more than {MAX_REDIRECTS} redirects; check base_url"
            if isinstance(cause, requests.exceptions.ContentDecodingError):
                return "the answer's compressed body is corrupt; try again later"
            if isinstance(cause, ProtocolError | requests.exceptions.ChunkedEncodingError):
                return (
                    f"the connection was reset or broke mid-response ({tries}; "
                    "truncated body?); try again later"
                )
            if isinstance(cause, requests.exceptions.SSLError):
                return "TLS/SSL error; check the certificate settings (REQUESTS_CA_BUNDLE)"
            if isinstance(cause, requests.exceptions.ProxyError):
                return "proxy error; check HTTPS_PROXY/HTTP_PROXY"
            if isinstance(
                cause, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
            ):
                return "not a valid URL"
            nested = cause.args[0] if cause.args else None
            cause = nested if isinstance(nested, BaseException) else cause.__context__
        return f"request failed ({type(exc).__name__}); check base_url and the network"


def _refused(error: BaseException) -> bool:
    cause = error.__cause__ or error.__context__
    return isinstance(cause, ConnectionRefusedError)


# --------------------------------------------------------------------------- plain URLs

#: Largest body a URL source may send: a roadmap page is a few MB; 64 MB is clearly not one.
MAX_URL_BYTES = 64 * 1024 * 1024
USER_AGENT = f"wikisync/{__version__} (+python-requests)"


def _charset(content_type: str) -> str | None:
    m = re.search(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", content_type, re.IGNORECASE)
    return m.group(1).lower() if m else None


def get_url(
    url: str,
    *,
    timeout: tuple[float, float] = (10.0, 60.0),
    max_bytes: int = MAX_URL_BYTES,
    user_agent: str = USER_AGENT,
) -> bytes:
    """GET any page (a wiki's rendered page or export) as UTF-8 bytes; errors are one line.

    Anonymous: no credentials, not even ``~/.netrc``'s, go with a URL source, to any host.
    A declared non-UTF-8 charset is transcoded, so the strict UTF-8 reader downstream accepts
    what the server correctly labelled. Retries only connection failures and 502/503/504. The
    whole request is bounded in time (three times connect + read), so a server trickling its
    answer cannot hold the run; the body is capped at ``max_bytes`` once decompressed.
    """
    shown = safe_url(url)
    retry = PoliteRetry(
        total=2,
        connect=1,
        read=1,
        status=2,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset({502, 503, 504}),
        backoff_factor=0.5,
        respect_retry_after_header=False,
        raise_on_status=False,
        max_wait=5.0,
    )
    transport = Transport(
        retry=retry,
        timeout=timeout,
        total=3 * (timeout[0] + timeout[1]),
        max_bytes=max_bytes,
        user_agent=user_agent,
    )
    headers = {"Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.5"}
    try:
        resp = transport.request("GET", url, headers=headers)
    except TransportError as exc:
        raise FetchError(f"cannot read {shown}: {exc.reason}") from None
    finally:
        transport.close()
    if resp.status_code >= 400:
        reason = f" {resp.reason}" if resp.reason else ""
        raise FetchError(f"cannot read {shown}: HTTP {resp.status_code}{reason}")
    data = resp.content
    charset = _charset(resp.headers.get("Content-Type", ""))
    if charset and charset.replace("-", "").replace("_", "") not in ("utf8", "ascii", "usascii"):
        try:
            data = data.decode(charset).encode("utf-8")
        except (LookupError, UnicodeDecodeError):
            raise FetchError(
                f"cannot read {shown}: the body is not valid {charset} as its Content-Type says"
            ) from None
    return data
