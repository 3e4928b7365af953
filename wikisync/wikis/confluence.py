"""A small Confluence REST client: one ``requests.Session`` per run, Cloud v2 first, v1 otherwise.

Why a hand-written client: wikisync needs exactly four reads (a page's storage and view bodies, an
old version, the version list, a page title) and one write, and it needs them to fail in one clear
line, never leak a token, and back off politely when Atlassian rate-limits.

API choice (``api="auto"``): Cloud hosts (``*.atlassian.net``) use v2; every other host is taken
for Server/Data Center and uses v1. When v2 answers 404, the client cannot tell a missing page from
a site without v2 by the status alone, so it probes ``GET /api/v2/pages?limit=1`` once: a 404 there
means the v2 endpoint family is absent, and the client switches to v1 for the rest of the run;
anything else means the page itself is missing (or hidden) and the 404 is reported.

The wire itself (one session, retries with Atlassian's backoff and ``Retry-After``, the total time
bound of a request, the size cap on answers, where credentials may go on a redirect, request
logging) is ``wikisync.http``'s: this module only knows what Confluence's REST API asks. GETs are
retried, writes never (and never redirected). Every value the server sends that ends up in a
snapshot id, a date or a CHANGELOG (version numbers, dates) is checked here (``version_number``,
``version_date``): sync, backfill and publish read pages through this client only, so they all
get the same checks.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote, unquote_plus, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import get_netrc_auth

from wikisync import __version__
from wikisync.errors import ConfigError, FetchError, WikiHTTPError
from wikisync.http import (
    DeadlineAdapter,
    NoAuth,
    PoliteRetry,
    Transport,
    TransportClient,
    TransportError,
    deadline,
    gate_for,
    origin_of,
    retry_after_seconds,
    safe_url,
    warn_plain_http,
)
from wikisync.logsetup import logger
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

log = logger("wikisync.wikis.confluence")  # applies the CLI's pending logging set-up

AUTH_KINDS = ("none", "basic", "bearer", "netrc", "password")  # password: MediaWiki only
#: The largest answer read, decompressed: a REST reply holds the storage and the view body of a
#: page (JSON-escaped), so three times the parser's 50 MB page limit, plus room for metadata.
MAX_RESPONSE_BYTES = 3 * 50_000_000 + (1 << 20)
#: Where a version listing stops: far beyond any real page's history (a page edited every hour
#: for ten years has 87,600 versions; Confluence lists 200-250 a page).
MAX_VERSIONS = 100_000
MAX_LISTING_PAGES = 2_000
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
            if looks_like_secret(var):
                # A token pasted where its variable's name belongs: never echo it (cron mail).
                raise ConfigError(
                    f"auth.{key} must name an environment variable; it holds something that "
                    "looks like a secret (not shown) and no variable of that name is set: put "
                    f"the secret in an environment variable and name that variable in {key}"
                )
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


_TOKEN_PREFIXES = ("ATATT", "ATCTT", "ghp_", "gho_", "github_pat_", "glpat-", "xox")


def looks_like_secret(name: str) -> bool:
    """True when ``name`` is more likely a pasted token than an environment variable's name.

    Variable names are words (``CONFLUENCE_TOKEN``, ``wiki_pat``); tokens are long runs that mix
    upper and lower case with digits, long hex or base64 runs, or carry a vendor's prefix.
    """
    if name.startswith(_TOKEN_PREFIXES):
        return True
    if len(name) < 16:
        return False
    mixed = (
        any(c.islower() for c in name)
        and any(c.isupper() for c in name)
        and any(c.isdigit() for c in name)
    )
    return mixed or (len(name) >= 24 and "_" not in name)


class _BearerAuth(AuthBase):
    """``Authorization: Bearer`` as a requests auth, so redirects strip it like basic auth."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(token='***')"


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


# --------------------------------------------------------------------------- helpers


_safe_url = safe_url


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


#: The largest version number taken from a server (Confluence stores it as a 32-bit int).
MAX_VERSION_NUMBER = 2**31 - 1


class BadServerValue(FetchError):
    """The server sent a version number or date wikisync will not store; one page fails."""


def version_number(value: Any) -> int:
    """A page version number: a whole number from 1 (a JSON int, or ASCII digits).

    ``-5`` would give snapshot ids the CHANGELOG markers cannot name, ``"2b"`` no number at all.
    """
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        number = int(value)
    else:
        raise ValueError("not a whole number")
    if not 1 <= number <= MAX_VERSION_NUMBER:
        raise ValueError(f"outside 1..{MAX_VERSION_NUMBER}")
    return number


def version_date(value: Any) -> str | None:
    """A version's date as the server wrote it, once it is known to be a usable ISO 8601 instant.

    Usable: a string, read by ``datetime.fromisoformat``, that converts to UTC within the years
    1970-9999 (``9999-12-31T23:59:59-01:00`` overflows; ``2021-13-45`` and ``<ac:struct`` are no
    date; before 1970 a snapshot id's date field would not have its 8 digits). None when absent.
    This is the one check every page read goes through: sync, backfill and publish alike.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a string")
    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError("not an ISO 8601 date")
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        utc = when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("not an ISO 8601 date") from None
    if not 1970 <= utc.year <= 9999:
        raise ValueError("outside the years 1970-9999")
    return value


def _shown(value: Any, limit: int = 40) -> str:
    """A server value in a message: repr (controls escaped), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cursor(url: str) -> str:
    """What identifies a listing page: its ``cursor`` (v2) or ``start`` (v1), else the URL."""
    query = parse_qs(urlsplit(url).query)
    for key in ("cursor", "start"):
        if query.get(key):
            return f"{key}={query[key][0]}"
    return url


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


class ConfluenceClient(TransportClient):
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
        max_bytes: int | None = MAX_RESPONSE_BYTES,
        max_listing_pages: int = MAX_LISTING_PAGES,
        max_versions: int = MAX_VERSIONS,
    ) -> None:
        """``total``: seconds one request may take, retries and waits included; by default
        the worst case the other settings allow a merely slow server, so only a server that
        trickles its answer is cut short. ``max_bytes``: the largest (decompressed) answer read;
        ``max_listing_pages``/``max_versions``: where a version listing stops."""
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
        if max_listing_pages < 1 or max_versions < 1:
            raise ConfigError("the caps of a version listing must be at least 1")
        self.max_listing_pages = max_listing_pages
        self.max_versions = max_versions
        self.auth = auth or Auth()
        self._secrets: list[str] = []
        self._auth = self._requests_auth(self.auth)
        self.user_agent = user_agent or f"wikisync/{__version__} (+python-requests)"
        if self.auth.kind != "none":
            warn_plain_http(self.base_url)

        retry = PoliteRetry.for_reads(retries, backoff=backoff, max_wait=max_wait, sleep=sleep)
        # Proxies and CA bundles from the environment apply; ~/.netrc never does on its own.
        self.transport = Transport(
            retry=retry,
            timeout=timeout,
            total=total,
            max_bytes=max_bytes,
            user_agent=self.user_agent,
            auth=self._auth,
            credentials_origin=origin_of(self.origin),
            session=session,
            gate=gate_for(self.origin),
        )
        self.session = self.transport.session
        self._titles: OrderedDict[str, str | None] = OrderedDict()

    # ----------------------------------------------------------------- lifecycle

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
            return self._version(r, "version.number")

        def v1() -> int:
            r = self._get(f"{self._v1}/content/{pid}", {"expand": "version"}, what)
            return self._version(r, "version.number")

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
            data = {
                "id": pid,
                "status": "current",
                "title": title,
                "body": {"representation": "storage", "value": storage},
                "version": {"number": version, "message": message, "minorEdit": minor_edit},
            }
            r = self._send_json("PUT", f"{self._v2}/pages/{pid}", None, data, what, "update")
            return self._version(r, "version.number")

        def v1() -> int:
            data = {
                "id": pid,
                "type": "page",
                "title": title,
                "status": "current",
                "version": {"number": version, "message": message, "minorEdit": minor_edit},
                "body": {"storage": {"value": storage, "representation": "storage"}},
            }
            r = self._send_json("PUT", f"{self._v1}/content/{pid}", None, data, what, "update")
            return self._version(r, "version.number")

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
        number = self._version(s, "version.number")
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
            when=self._date(s, "version.createdAt", ver.get("createdAt")),
            author=self._text(s, "version.authorId", ver.get("authorId") or s.data.get("authorId")),
            message=self._text(s, "version.message", ver.get("message")) or "",
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
                number=item["number"],
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
        """Every listed version, page after page, within the caps; a repeated cursor or number
        stops it (a server whose pagination never ends would keep a backfill going forever)."""
        reply = first
        seen_cursors: set[str] = {_cursor(reply.url)}
        seen_numbers: set[int] = set()
        pages = 1
        while True:
            for item in self._list(reply, "results"):
                if not isinstance(item, dict) or "number" not in item:
                    raise self._bad_shape(reply, "results[].number")
                number = self._version(reply, "results[].number", item["number"])
                when = item.get("createdAt", item.get("when"))
                item = {**item, "number": number}
                if not isinstance(when, str):
                    item.pop("createdAt", None)
                    item.pop("when", None)
                version = info(item)
                self._check_new(version.number, seen_numbers, reply)
                if len(seen_numbers) > self.max_versions:
                    raise FetchError(
                        f"cannot list versions of page {pid}: the server lists more than "
                        f"{self.max_versions} versions, far more than any real page has; "
                        "stopping instead of going on forever"
                    )
                yield version
            url = next_url(reply)
            if url is None:
                return
            cursor = _cursor(url)
            if cursor in seen_cursors:
                raise FetchError(
                    f"cannot list versions of page {pid}: the server repeated the page cursor "
                    f"({_safe_url(url)}); stopping instead of looping"
                )
            pages += 1
            if pages > self.max_listing_pages:
                raise FetchError(
                    f"cannot list versions of page {pid}: the listing goes on past "
                    f"{self.max_listing_pages} pages ({len(seen_numbers)} versions so far), far "
                    "more than any real page's history; stopping instead of going on forever"
                )
            seen_cursors.add(cursor)
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
        number = self._version(r, "version.number")
        ver = r.data["version"]
        meta = SourceMeta(
            page=str(r.data.get("id") or pid),
            title=self._str(r, "title"),
            version=number,
            when=self._date(r, "version.when", ver.get("when")),
            author=_author_v1(ver),
            message=self._text(r, "version.message", ver.get("message")) or "",
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
                number=item["number"],
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
            if not isinstance(base, str) or origin_of(base) != origin_of(self.origin):
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
        return NoAuth()

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
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = self.transport.request(
                method,
                url,
                params=params,
                data=None if body is None else json.dumps(body),
                headers=headers,
            )
        except TransportError as e:
            raise self._fail(
                f"cannot {action} {what}: {e.method} {self._redact(e.url)} -> {e.reason}"
            ) from None
        if resp.headers.get("Warning", "").startswith("299"):
            log.debug("server warning: %s", _one_line(resp.headers["Warning"]))
        return resp

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
        moved = resp.history and origin_of(resp.url) != origin_of(self.origin)
        if status == 401 and moved and self.auth.kind != "none":
            hint = (
                f"the server redirected to {_safe_url(resp.url).split('/', 3)[2]}, where no "
                "credentials are sent (only to base_url's scheme, host and port): set base_url "
                "to the address the site redirects to"
            )
        elif status == 401:
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

    def _gave_up(self) -> str:
        dl = self.transport.last_deadline
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

    def _bad_value(self, r: _Reply, path: str, value: Any, why: str) -> BadServerValue:
        return BadServerValue(
            self._redact(
                f"cannot read {r.what}: {r.method} {r.url} -> the server sent {path} = "
                f"{_shown(value)} ({why}); refusing to store it"
            )
        )

    def _version(self, r: _Reply, path: str, value: Any = None) -> int:
        """A version number from the reply (``path``), or ``value`` found at ``path``."""
        value = self._dig(r, path) if value is None else value
        try:
            return version_number(value)
        except ValueError as e:
            raise self._bad_value(r, path, value, str(e)) from None

    def _date(self, r: _Reply, path: str, value: Any) -> str | None:
        try:
            return version_date(value)
        except ValueError as e:
            raise self._bad_value(r, path, value, str(e)) from None

    def _text(self, r: _Reply, path: str, value: Any) -> str | None:
        """An optional text field (author, message): a string or nothing."""
        if value is None or isinstance(value, str):
            return value or None
        raise self._bad_value(r, path, value, "not a string")

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
