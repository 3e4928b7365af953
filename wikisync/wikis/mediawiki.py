"""MediaWiki through its Action API: read revisions as rendered HTML + wikitext, edit safely.

Why the Action API (``api.php``) and not REST: it is on every MediaWiki since 1.x, it renders an
old revision (``action=parse&oldid=N``), lists the history with continuation, and its edits take
``baserevid``/``basetimestamp`` so that a concurrent edit is an ``editconflict`` instead of a
silent overwrite.

A page's id is MediaWiki's ``pageid`` (stable across moves, as a Confluence page id is); a
version number is a revision id (the ``oldid`` in URLs), so ``NAME@v123`` is ``oldid=123``.
Revision ids grow over the whole wiki, not per page, so they order a page's versions as version
numbers do, with gaps.

Etiquette (https://www.mediawiki.org/wiki/API:Etiquette): a descriptive User-Agent, ``maxlag=5``
on every request (a lagged wiki answers ``maxlag`` with ``Retry-After``; we wait and retry, a
bounded number of times), one request at a time per client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from wikisync import __version__
from wikisync.errors import ConfigError, FetchError, WikiHTTPError
from wikisync.http import (
    PoliteRetry,
    Transport,
    TransportClient,
    TransportError,
    gate_for,
    retry_after_seconds,
    safe_url,
)
from wikisync.logsetup import logger
from wikisync.model import Document, SourceMeta
from wikisync.wikis.confluence import Auth, VersionInfo

__all__ = ["MediaWikiClient", "MediaWikiError"]

log = logger("wikisync.mediawiki")  # applies the CLI's pending logging set-up

#: Largest answer read from the wiki (a roadmap page's HTML plus wikitext is a few MB).
MAX_BYTES = 64 * 1024 * 1024
#: A history longer than this is not a roadmap page's (and an endless listing is a broken server).
MAX_LISTING_REQUESTS = 2_000
MAXLAG = 5
_FORM = "application/x-www-form-urlencoded"

#: API error codes → (HTTP-like status for the caller, what the user should do).
_CODES: dict[str, tuple[int, str]] = {
    "badtoken": (403, "the session or CSRF token was refused; try again"),
    "editconflict": (409, "someone else edited the page in between"),
    "protectedpage": (403, "the page is protected: the bot account may not edit it"),
    "permissiondenied": (403, "the account lacks the right for this"),
    "readapidenied": (401, 'the wiki does not allow anonymous reading: set auth = "password"'),
    "missingtitle": (404, "no such page on the wiki (check title)"),
    "nosuchpageid": (404, "no such page id on the wiki"),
    "nosuchrevid": (404, "no such revision on the wiki"),
    "missingcontent": (404, "the revision's content is hidden or missing"),
    "ratelimited": (429, "the wiki rate-limited this account; try again later"),
    "maxlag": (503, "the wiki's database replicas are lagging; try again later"),
    "assertuserfailed": (401, "the login session expired; try again"),
    "assertbotfailed": (403, "the account is not a bot"),
}


class MediaWikiError(WikiHTTPError):
    """An API error: ``code`` is MediaWiki's (``editconflict``, ``badtoken`` …)."""

    def __init__(self, message: str, *, code: str, status: int, url: str) -> None:
        super().__init__(message, status=status, url=url)
        self.code = code


class MediaWikiClient(TransportClient):
    """One wiki, one ``requests.Session`` (it keeps the login cookies)."""

    markup = "wikitext"  # the body publish edits

    def __init__(
        self,
        base_url: str,
        auth: Auth | None = None,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 4,
        max_wait: float = 60.0,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        total: float | None = None,
        max_bytes: int | None = MAX_BYTES,
    ) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"base_url must be an http(s) URL, not {base_url!r}")
        if "@" in parts.netloc or parts.query or parts.fragment:
            raise ConfigError(
                "base_url must be the wiki's script path (no credentials, query or fragment)"
            )
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        if self.base_url.endswith("/api.php"):
            self.base_url = self.base_url[: -len("/api.php")]
        self.api_url = self.base_url + "/api.php"
        self.host = parts.hostname.lower()
        self.auth = auth or Auth()
        if self.auth.kind not in ("none", "password"):
            raise ConfigError(f"a MediaWiki page takes auth = none or password, not {auth!r}")
        if retries < 0 or max_wait < 0:
            raise ConfigError("retries and max_wait must not be negative")
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.total = total or (retries + 1) * (connect + read) + retries * max_wait
        self._sleep = sleep
        self.user_agent = user_agent or (
            f"wikisync/{__version__} (roadmap Change History bot; +https://pypi.org/project/"
            "wikisync/) python-requests"
        )
        retry = PoliteRetry.for_reads(retries, backoff=1.0, max_wait=max_wait, sleep=sleep)
        # The login lives in the session's cookies, which requests sends to their own host only;
        # a POST (the login with its password, an edit) is never redirected by the transport.
        self.transport = Transport(
            retry=retry,
            timeout=timeout,
            total=self.total,
            max_bytes=max_bytes,
            user_agent=self.user_agent,
            credentials_origin=None,
            gate=gate_for(self.base_url),
        )
        self.session = self.transport.session
        self._logged_in = False
        self._secrets = [s for s in (self.auth.token,) if s]

    # ----------------------------------------------------------------- lifecycle

    def __repr__(self) -> str:
        return f"MediaWikiClient({self.base_url!r}, auth={self.auth!r})"

    # ----------------------------------------------------------------- reads

    def page(
        self,
        page_id: str | int | None = None,
        *,
        space: str | None = None,
        title: str | None = None,
        version: int | None = None,
    ) -> Document:
        """A revision (the current one, or ``version`` = oldid) as rendered HTML + wikitext."""
        del space  # a MediaWiki title is unique in the wiki
        if version is not None and (not isinstance(version, int) or version < 1):
            raise ConfigError(f"a revision id is a positive number, not {version!r}")
        params: dict[str, Any] = {
            "action": "query",
            "prop": "revisions|info",
            "rvprop": "ids|timestamp|user|comment|content",
            "rvslots": "main",
            "inprop": "url",
        }
        if version is not None:
            params["revids"] = version
            what = f"revision {version}"
        elif page_id is not None:
            params["pageids"] = _page_id(page_id)
            what = f"page id {page_id}"
        elif title:
            params["titles"] = title
            what = f"page {title!r}"
        else:
            raise ConfigError("name the MediaWiki page by title (or page_id)")
        data = self._call("GET", params, what)
        page = _first_page(data, what, self.api_url)
        revs = page.get("revisions") or []
        if not revs or not isinstance(revs[0], dict):
            raise FetchError(f"cannot read {what}: the wiki returned no revision")
        rev = revs[0]
        revid = _int(rev.get("revid"), "revid", what)
        slot = (rev.get("slots") or {}).get("main") or {}
        wikitext = slot.get("content")
        if not isinstance(wikitext, str):
            raise FetchError(f"cannot read {what}: the revision's wikitext is hidden or missing")
        parsed = self._call(
            "GET",
            {
                "action": "parse",
                "oldid": revid,
                "prop": "text|revid|displaytitle",
                "disableeditsection": 1,
                "disablelimitreport": 1,
            },
            f"revision {revid}",
        )
        html = (parsed.get("parse") or {}).get("text")
        if not isinstance(html, str):
            raise FetchError(f"cannot read revision {revid}: the wiki returned no HTML")
        meta = SourceMeta(
            page=str(_int(page.get("pageid"), "pageid", what)),
            title=str(page.get("title") or title or ""),
            version=revid,
            when=_when(rev.get("timestamp")),
            author=_str_or_none(rev.get("user")),
            message=_str_or_none(rev.get("comment")) or "",
            url=_str_or_none(page.get("fullurl")),
            source="mediawiki",
        )
        return Document(bodies={"html": html, "wikitext": wikitext}, meta=meta)

    def current_version(self, page_id: str | int) -> int:
        """The latest revision id, without any content (one cheap request for cron)."""
        what = f"page id {page_id}"
        data = self._call(
            "GET",
            {"action": "query", "prop": "revisions", "rvprop": "ids", "pageids": _page_id(page_id)},
            what,
        )
        revs = _first_page(data, what, self.api_url).get("revisions") or [{}]
        return _int(revs[0].get("revid"), "revid", what)

    def versions(self, page_id: str | int, *, limit: int | None = None) -> Iterator[VersionInfo]:
        """Every revision of the page, oldest first (``rvlimit=max``, following ``rvcontinue``)."""
        what = f"the history of page id {page_id}"
        params: dict[str, Any] = {
            "action": "query",
            "prop": "revisions",
            "pageids": _page_id(page_id),
            "rvprop": "ids|timestamp|user|comment|flags",
            "rvlimit": "max",
            "rvdir": "newer",
        }
        seen: set[str] = set()
        count = 0
        for _ in range(MAX_LISTING_REQUESTS):
            data = self._call("GET", params, what)
            for rev in _first_page(data, what, self.api_url).get("revisions") or []:
                if not isinstance(rev, dict):
                    continue
                yield VersionInfo(
                    number=_int(rev.get("revid"), "revid", what),
                    when=_when(rev.get("timestamp")),
                    author=_str_or_none(rev.get("user")),
                    message=_str_or_none(rev.get("comment")) or "",
                    minor_edit=bool(rev.get("minor")),
                )
                count += 1
                if limit is not None and count >= limit:
                    return
            cont = data.get("continue")
            if not isinstance(cont, dict) or "rvcontinue" not in cont:
                return
            token = str(cont["rvcontinue"])
            if token in seen:
                raise FetchError(f"cannot list {what}: the wiki repeated a continuation token")
            seen.add(token)
            params = {**params, **{k: v for k, v in cont.items() if isinstance(v, str | int)}}
        raise FetchError(
            f"cannot list {what}: more than {MAX_LISTING_REQUESTS} listing requests; "
            "the history is endless or the wiki is broken"
        )

    # ----------------------------------------------------------------- write

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
        """Save ``body`` (wikitext) over revision ``base``; returns the new revision id.

        ``baserevid`` and ``basetimestamp`` make an edit made in between an ``editconflict``
        (status 409), which the caller answers by reading the page again. Never retried here.

        MediaWiki compares timestamps, which have one-second resolution: an edit saved in the
        same second as ``base`` goes unnoticed and would be overwritten. So the latest revision
        id is checked first, and anything newer than ``base`` is a conflict too.
        """
        what = f"page {title!r}"
        latest = self._call(
            "GET",
            {"action": "query", "prop": "revisions", "rvprop": "ids", "titles": title},
            what,
        )
        revs = _first_page(latest, what, self.api_url).get("revisions") or [{}]
        if _int(revs[0].get("revid"), "revid", what) != base:
            raise MediaWikiError(
                f"cannot edit {what}: it changed since revision {base} was read",
                code="editconflict",
                status=409,
                url=self.api_url,
            )
        del page_id  # the title names the page for action=edit
        token = self._token("csrf")
        params: dict[str, Any] = {
            "action": "edit",
            "title": title,
            "text": body,
            "summary": message,
            "baserevid": base,
            "nocreate": 1,
            "token": token,
        }
        if base_when:
            params["basetimestamp"] = base_when
        if minor_edit:
            params["minor"] = 1
        if self._logged_in:
            params["bot"] = 1
            params["assert"] = "user"
        data = self._call("POST", params, f"page {title!r}", action="edit")
        edit = data.get("edit") or {}
        if edit.get("result") != "Success":
            raise FetchError(f"cannot edit page {title!r}: the wiki answered {edit!r:.200}")
        if edit.get("nochange"):
            return base
        return _int(edit.get("newrevid"), "newrevid", f"page {title!r}")

    # ----------------------------------------------------------------- session

    def _login(self) -> None:
        """``action=login`` with a bot password; the session cookie then carries the login."""
        assert self.auth.user is not None and self.auth.token is not None
        self._logged_in = True  # set first: the token calls below must not log in again
        try:
            token = self._token("login")
            data = self._call(
                "POST",
                {
                    "action": "login",
                    "lgname": self.auth.user,
                    "lgpassword": self.auth.token,
                    "lgtoken": token,
                },
                "the login",
                action="log in for",
            )
        except BaseException:
            self._logged_in = False
            raise
        result = (data.get("login") or {}).get("result")
        if result != "Success":
            self._logged_in = False
            reason = (data.get("login") or {}).get("reason") or result
            raise FetchError(
                f"cannot log in to {self.base_url} as {self.auth.user}: "
                f"{_short(self._redact(str(reason)))} "
                "(a bot password: user_env holds User@appid, token_env the password)"
            )

    def _token(self, kind: str) -> str:
        data = self._call("GET", {"action": "query", "meta": "tokens", "type": kind}, "a token")
        token = ((data.get("query") or {}).get("tokens") or {}).get(f"{kind}token")
        if not isinstance(token, str) or not token:
            raise FetchError(f"cannot get a {kind} token from {self.base_url}")
        return token

    def _call(
        self, method: str, params: Mapping[str, Any], what: str, *, action: str = "read"
    ) -> dict[str, Any]:
        if self.auth.kind == "password" and not self._logged_in:
            self._login()
        full = {
            **params,
            "format": "json",
            "formatversion": 2,
            "errorformat": "plaintext",
            "maxlag": MAXLAG,
        }
        for attempt in range(self.retries + 1):
            resp = self._send(method, full, what, action)
            lagged = resp.headers.get("MediaWiki-API-Error") == "maxlag"
            # maxlag (HTTP 200 with an API error) and a 429 are refusals before any work, so even
            # an edit may be sent again; the transport retries GETs on 429/5xx by itself, and a
            # 5xx on an edit may or may not have saved: the caller re-reads instead.
            refused = lagged or (method != "GET" and resp.status_code == 429)
            if refused and attempt < self.retries:
                wait = retry_after_seconds(resp.status_code, resp.headers)
                wait = min(2.0**attempt, self.max_wait) if wait is None else wait
                if wait <= self.max_wait:
                    if self.transport.gate is not None:
                        self.transport.gate.hold(wait)  # every worker on this wiki waits
                    log.info("%s: HTTP %s, waiting %.0f s", what, resp.status_code, wait)
                    self._sleep(wait)
                    continue
            data = self._json(resp, method, what, action)
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                raise self._api_error(errors[0], what, action)
            return data
        raise FetchError(f"cannot {action} {what}: the wiki kept asking to wait; try later")

    def _send(
        self, method: str, params: Mapping[str, Any], what: str, action: str
    ) -> requests.Response:
        try:
            return self.transport.request(
                method,
                self.api_url,
                params=params if method == "GET" else None,
                data=urlencode(params) if method != "GET" else None,
                headers={
                    "Accept": "application/json",
                    **({} if method == "GET" else {"Content-Type": _FORM}),
                },
            )
        except TransportError as e:
            raise FetchError(
                f"cannot {action} {what}: {e.method} {self._redact(safe_url(e.url))} -> {e.reason}"
            ) from None

    def _json(self, resp: requests.Response, method: str, what: str, action: str) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise WikiHTTPError(
                f"cannot {action} {what}: {method} {self.api_url} -> HTTP {resp.status_code}, "
                "not a MediaWiki API answer (is base_url the script path, where api.php is?)",
                status=resp.status_code if resp.status_code >= 400 else 502,
                url=self.api_url,
            )
        return data

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _api_error(self, err: Any, what: str, action: str) -> MediaWikiError:
        code = str(err.get("code", "unknown")) if isinstance(err, dict) else "unknown"
        text = self._redact(str(err.get("text", "")) if isinstance(err, dict) else "")
        status, hint = _CODES.get(code, (400, ""))
        message = f"cannot {action} {what}: MediaWiki {code}: {_short(text)}"
        if hint:
            message += f" ({hint})"
        return MediaWikiError(message, code=code, status=status, url=self.api_url)


# --------------------------------------------------------------------------- helpers


def _first_page(data: Mapping[str, Any], what: str, url: str) -> dict[str, Any]:
    pages = (data.get("query") or {}).get("pages")
    if not isinstance(pages, list) or not pages or not isinstance(pages[0], dict):
        bad = (data.get("query") or {}).get("badrevids")
        if bad:
            raise MediaWikiError(
                f"cannot read {what}: no such revision", code="nosuchrevid", status=404, url=url
            )
        raise FetchError(f"cannot read {what}: the wiki's answer has no page")
    page = pages[0]
    if page.get("missing") or page.get("invalid"):
        raise MediaWikiError(
            f"cannot read {what}: no such page on the wiki (check title)",
            code="missingtitle",
            status=404,
            url=url,
        )
    return page


def _page_id(value: str | int) -> int:
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise ConfigError(f"a MediaWiki page id is a number, not {value!r}")
    return int(text)


def _int(value: Any, key: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FetchError(f"cannot read {what}: the wiki sent a bad {key} ({value!r:.40})")
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _when(value: Any) -> str | None:
    """MediaWiki's timestamps are already ISO 8601 in UTC (``2026-12-04T10:00:00Z``)."""
    from datetime import UTC, datetime

    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(text: str, limit: int = 200) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
