"""A fake Confluence on pytest-httpserver, speaking Cloud v2 and v1 JSON shapes.

Reusable by every feature that talks to a wiki: pages live in memory as lists of versions, the
routes answer with the shapes the real REST API uses (see /work/shared/REFERENCE.md §3), and hooks
inject the faults a real site produces (429 with Retry-After, 5xx, slow answers, truncated bodies,
redirects, a looping cursor, a body trickled a few bytes at a time, a connection hung up
without an answer, a rate-limit storm lasting a given time). PUT checks the version number like
Confluence does (409).

    fake = FakeConfluence(httpserver)
    fake.add_page("1812037671", "Roadmap", storage, view, space="AC")
    client = ConfluenceClient(fake.base_url, cloud=True)

Use a threaded server (``HTTPServer(threaded=True)``) when a test makes the server slow, so one
sleeping answer does not hold up the next request.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

JSON = "application/json"
UNAUTHORIZED_TEXT = "Client must be authenticated to access this resource."


@dataclass
class FakeVersion:
    """One saved version of a page."""

    number: int
    title: str
    storage: str
    view: str
    when: str
    message: str = ""
    minor_edit: bool = False
    author_name: str = "Jane Doe"
    author_id: str = "557058:0f6b7e3c-aaaa-bbbb-cccc-1234567890ab"


@dataclass
class FakePage:
    """A page: its space and its versions, oldest first."""

    id: str
    space_key: str
    versions: list[FakeVersion] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)

    @property
    def current(self) -> FakeVersion:
        return self.versions[-1]

    def version(self, number: int) -> FakeVersion | None:
        for v in self.versions:
            if v.number == number:
                return v
        return None


@dataclass
class Fault:
    """A planned misbehaviour for the next ``times`` requests whose path matches ``path``."""

    kind: str  # status | slow | truncate | cut | redirect | drip | hangup
    times: int
    path: re.Pattern[str] | None = None
    method: str | None = None
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = "text/plain"
    seconds: float = 0.0
    location: str = ""
    chunk: int = 0  # drip: bytes per write
    until: float | None = None  # time.monotonic() after which the fault stops
    skip: int = 0  # let this many matching requests through first

    def matches(self, request: Request) -> bool:
        if self.times <= 0:
            return False
        if self.until is not None and time.monotonic() >= self.until:
            return False
        if self.method and request.method != self.method:
            return False
        if self.path is not None and not self.path.search(request.path):
            return False
        if self.skip > 0:  # called once per request, under the server's lock
            self.skip -= 1
            return False
        return True


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived, to time a client's phases

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


def _when(number: int) -> str:
    t = datetime(2021, 1, 4, 9, 30, tzinfo=UTC) + timedelta(days=7 * (number - 1))
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeConfluence:
    """In-memory Confluence (Cloud v2 + v1) served from a pytest-httpserver ``HTTPServer``."""

    def __init__(
        self,
        httpserver: HTTPServer,
        *,
        context: str = "/wiki",
        auth: tuple[str, ...] | None = None,
        allow_anonymous: bool = True,
        v2: bool = True,
        host: str | None = None,
    ) -> None:
        """``auth``: None (no checking), ``("basic", user, token)`` or ``("bearer", token)``.

        ``allow_anonymous``: requests without credentials are served (a public space); wrong
        credentials always get 401. ``v2=False`` makes the v2 family answer a bare 404, like a
        Server/DC site. ``host`` names the host in ``base_url`` (default: the server's).
        """
        self.server = httpserver
        self.context = context.rstrip("/")
        self.auth = auth
        self.allow_anonymous = allow_anonymous
        self.v2_enabled = v2
        self.host = host or httpserver.host
        self.pages: dict[str, FakePage] = {}
        self.spaces: dict[str, str] = {}  # key -> id
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.sticky_cursor = False  # the versions listing always links to the same next page
        self.next_in_body = True  # v2 listing: put the next link in _links.next
        self.next_in_header = True  # v2 listing: and in a Link header
        self.default_limit = 25
        self.max_limit: int | None = None  # cap the page size a listing honours (forces paging)
        self.next_origin: str | None = None  # listings' next links: absolute, on this origin
        self.links_base: str | None = None  # v1 ``_links.base`` as another host reports it
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type), any path
        self._lock = threading.RLock()
        httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(self._dispatch)

    # ----------------------------------------------------------------- setup

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.server.port}"

    @property
    def base_url(self) -> str:
        return self.origin + self.context

    def add_space(self, key: str, space_id: str | None = None) -> str:
        with self._lock:
            if key not in self.spaces:
                self.spaces[key] = space_id or str(98000 + len(self.spaces) + 1)
            return self.spaces[key]

    def add_page(
        self,
        page_id: str,
        title: str,
        storage: str,
        view: str | None = None,
        *,
        space: str = "AC",
        message: str = "",
        when: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> FakePage:
        """Create a page with its version 1."""
        with self._lock:
            self.add_space(space)
            page = FakePage(id=str(page_id), space_key=space)
            self.pages[page.id] = page
            self.add_version(
                page.id, storage, view, title=title, message=message, when=when, author=author
            )
            return page

    def add_version(
        self,
        page_id: str,
        storage: str,
        view: str | None = None,
        *,
        title: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        when: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> int:
        """Save a new version (number = current + 1); returns its number."""
        with self._lock:
            page = self.pages[str(page_id)]
            number = len(page.versions) + 1
            name, account = author or ("Jane Doe", "557058:0f6b7e3c-aaaa-bbbb-cccc-1234567890ab")
            page.versions.append(
                FakeVersion(
                    number=number,
                    title=title or (page.current.title if page.versions else "Untitled"),
                    storage=storage,
                    view=view if view is not None else f'<div class="view">{storage}</div>',
                    when=when or _when(number),
                    message=message,
                    minor_edit=minor_edit,
                    author_name=name,
                    author_id=account,
                )
            )
            return number

    # ----------------------------------------------------------------- fault hooks

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail(
        self,
        status: int,
        times: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        body: str | dict[str, Any] = "",
        content_type: str | None = None,
    ) -> Fault:
        """The next ``times`` matching requests get ``status`` (and this body/headers)."""
        if isinstance(body, dict):
            text, ctype = json.dumps(body), content_type or JSON
        else:
            text, ctype = body, content_type or "text/plain"
        return self._add_fault(
            Fault("status", times, _rx(path), method, status, dict(headers or {}), text, ctype)
        )

    def rate_limit(
        self,
        times: int = 1,
        *,
        retry_after: str | None = "1",
        reset: str | None = None,
        status: int = 429,
        path: str | None = None,
    ) -> Fault:
        """429 (or 503) with ``Retry-After`` and/or ``X-RateLimit-Reset``, Cloud style."""
        headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if reset is not None:
            headers["X-RateLimit-Reset"] = reset
        return self.fail(status, times, path=path, headers=headers, body="Rate limit exceeded.")

    def slow(self, seconds: float, times: int = 1, *, path: str | None = None) -> Fault:
        """Sleep before answering normally."""
        return self._add_fault(Fault("slow", times, _rx(path), seconds=seconds))

    def truncate(self, times: int = 1, *, path: str | None = None, cut: bool = False) -> Fault:
        """Answer with half of the JSON body; ``cut=True`` also keeps the full Content-Length,
        so the connection ends mid-body."""
        return self._add_fault(Fault("cut" if cut else "truncate", times, _rx(path)))

    def redirect(
        self, to_origin: str, times: int = 1, *, path: str | None = None, status: int = 302
    ) -> Fault:
        """Redirect to the same path and query on ``to_origin`` (e.g. another host name)."""
        return self._add_fault(
            Fault("redirect", times, _rx(path), status=status, location=to_origin.rstrip("/"))
        )

    def storm(
        self,
        seconds: float,
        *,
        status: int = 429,
        retry_after: str | None = "1",
        path: str | None = None,
    ) -> Fault:
        """Every matching request gets ``status`` (with ``Retry-After``) for ``seconds``."""
        fault = self.rate_limit(10**9, retry_after=retry_after, status=status, path=path)
        fault.until = time.monotonic() + seconds
        return fault

    def drip(
        self, interval: float, times: int = 1, *, chunk: int = 16, path: str | None = None
    ) -> Fault:
        """Answer normally (full Content-Length) but send ``chunk`` bytes every ``interval``
        seconds: each read is quick, the whole body takes ``size / chunk * interval``."""
        return self._add_fault(Fault("drip", times, _rx(path), seconds=interval, chunk=chunk))

    def hangup(self, times: int = 1, *, path: str | None = None) -> Fault:
        """Read the request, then drop the connection without a byte of answer (a reset)."""
        return self._add_fault(Fault("hangup", times, _rx(path)))

    def clear_faults(self) -> None:
        """Forget every planned fault (the server behaves from now on)."""
        with self._lock:
            self.faults.clear()

    def add_file(self, path: str, body: str | bytes, content_type: str = "text/html") -> str:
        """Serve a plain file (a rendered page, an export) at ``path``; returns its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.files[path] = (data, content_type)
        return self.origin + path

    def body_requests(self) -> list[Seen]:
        """Requests that asked for a page body (v2 body-format, v1 expand=body.*)."""
        return [
            s
            for s in self.requests
            if "body-format" in s.args or "body." in s.args.get("expand", "")
        ]

    def config_toml(self, name: str, page_id: str, **extra: str | int) -> str:
        """A wikisync ``[[page]]`` table pointing at this fake (strings quoted, ints bare)."""
        lines = ["[[page]]", f'name = "{name}"', f'base_url = "{self.base_url}"']
        lines.append(f'page_id = "{page_id}"')
        for key, value in extra.items():
            lines.append(f"{key} = {value}" if isinstance(value, int) else f'{key} = "{value}"')
        return "\n".join(lines) + "\n"

    def hits(self, path_part: str = "", method: str | None = None) -> int:
        """How many requests had ``path_part`` in their path."""
        return sum(
            1
            for s in self.requests
            if path_part in s.path and (method is None or s.method == method)
        )

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(
                Seen(
                    request.method,
                    request.path,
                    {k: v for k, v in request.args.items()},
                    {k: v for k, v in request.headers.items()},
                    request.get_data(),
                    time.monotonic(),
                )
            )
            fault = next((f for f in self.faults if f.matches(request)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.kind == "status":
                return Response(
                    fault.body, fault.status, headers=fault.headers, content_type=fault.content_type
                )
            if fault.kind == "redirect":
                qs = request.query_string.decode()
                location = fault.location + request.path + (f"?{qs}" if qs else "")
                return Response("", fault.status, headers={"Location": location})
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault.kind == "hangup":
                _hang_up(request)
                return Response("", 500)  # never reaches the client: the socket is shut
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        with self._lock:
            response = self._route(request)
        if fault is not None and fault.kind in ("truncate", "cut"):
            data = response.get_data()
            half = data[: max(1, len(data) // 2)]
            response.set_data(half)
            if fault.kind == "cut":
                response.headers["Content-Length"] = str(len(data))
        if fault is not None and fault.kind == "drip":
            data = response.get_data()
            headers = dict(response.headers)
            headers["Content-Length"] = str(len(data))
            return Response(
                _trickle(data, fault.chunk, fault.seconds), response.status_code, headers=headers
            )
        return response

    def _check_auth(self, request: Request) -> Response | None:
        if self.auth is None:
            return None
        given = request.headers.get("Authorization")
        if given is None:
            return None if self.allow_anonymous else _unauthorized()
        if self.auth[0] == "basic":
            pair = f"{self.auth[1]}:{self.auth[2]}".encode()
            expected = "Basic " + base64.b64encode(pair).decode()
        else:
            expected = f"Bearer {self.auth[1]}"
        return None if given == expected else _unauthorized()

    def _route(self, request: Request) -> Response:
        path = request.path
        if path in self.files:
            data, ctype = self.files[path]
            return Response(data, 200, content_type=ctype)
        if not path.startswith(self.context + "/"):
            return Response(
                "<html><head><title>Not Found</title></head></html>", 404, content_type="text/html"
            )
        rest = path[len(self.context) :]
        if rest.startswith("/api/v2/"):
            if not self.v2_enabled:
                return Response(
                    "<html><head><title>Oops - an error has occurred</title></head>"
                    "<body>Page not found</body></html>",
                    404,
                    content_type="text/html",
                )
            return self._v2(request, rest[len("/api/v2") :])
        if rest.startswith("/rest/api/"):
            return self._v1(request, rest[len("/rest/api") :])
        return _v1_error(404, "Not Found", f"No resource at {path}")

    # ----------------------------------------------------------------- v2

    def _v2(self, request: Request, route: str) -> Response:
        args = request.args
        m = re.fullmatch(r"/pages/(\d+)", route)
        if m and request.method == "GET":
            page = self.pages.get(m.group(1))
            if page is None:
                return _v2_error(404, "NOT_FOUND", "Not Found")
            ver = page.current
            if "version" in args:
                found = page.version(_int(args["version"]))
                if found is None:
                    return _v2_error(404, "NOT_FOUND", "Not Found")
                ver = found
            fmt = args.get("body-format")
            if fmt not in (None, "storage", "view"):
                return _v2_error(400, "INVALID_REQUEST_PARAMETER", f"Unsupported body-format {fmt}")
            return _json(self._v2_page(page, ver, fmt))
        if m and request.method == "PUT":
            return self._put(request, m.group(1), v2=True)
        m = re.fullmatch(r"/pages/(\d+)/versions", route)
        if m and request.method == "GET":
            return self._v2_versions(request, m.group(1))
        if route == "/spaces" and request.method == "GET":
            keys = [k for k in args.get("keys", "").split(",") if k]
            results = [
                {
                    "id": sid,
                    "key": key,
                    "name": f"{key} space",
                    "type": "global",
                    "status": "current",
                    "_links": {"webui": f"/spaces/{key}"},
                }
                for key, sid in sorted(self.spaces.items())
                if not keys or key in keys
            ]
            return _json({"results": results, "_links": {"base": self.base_url}})
        if route == "/pages" and request.method == "GET":
            space_ids = [s for s in args.get("space-id", "").split(",") if s]
            title = args.get("title")
            limit = _int(args.get("limit", "25"))
            results = []
            for page in self.pages.values():
                if space_ids and self.spaces.get(page.space_key) not in space_ids:
                    continue
                if title is not None and page.current.title != title:
                    continue
                results.append(self._v2_page(page, page.current, None))
            return _json({"results": results[:limit], "_links": {"base": self.base_url}})
        return _v2_error(404, "NOT_FOUND", "Not Found")

    def _v2_page(self, page: FakePage, ver: FakeVersion, fmt: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if fmt == "storage":
            body = {"storage": {"representation": "storage", "value": ver.storage}}
        elif fmt == "view":
            body = {"view": {"representation": "view", "value": ver.view}}
        return {
            "id": page.id,
            "status": "current" if ver is page.current else "historical",
            "title": ver.title,
            "spaceId": self.spaces[page.space_key],
            "parentId": None,
            "parentType": None,
            "authorId": page.versions[0].author_id,
            "ownerId": page.versions[0].author_id,
            "createdAt": page.versions[0].when,
            "version": self._v2_version(ver),
            "body": body,
            "_links": {
                "webui": f"/spaces/{page.space_key}/pages/{page.id}/{_slug(ver.title)}",
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{page.id}",
                "base": self.base_url,
            },
        }

    @staticmethod
    def _v2_version(ver: FakeVersion) -> dict[str, Any]:
        return {
            "createdAt": ver.when,
            "message": ver.message,
            "number": ver.number,
            "minorEdit": ver.minor_edit,
            "authorId": ver.author_id,
        }

    def _v2_versions(self, request: Request, page_id: str) -> Response:
        page = self.pages.get(page_id)
        if page is None:
            return _v2_error(404, "NOT_FOUND", "Not Found")
        limit = max(1, min(250, _int(request.args.get("limit", str(self.default_limit)))))
        limit = min(limit, self.max_limit or limit)
        sort = request.args.get("sort", "-modified-date")
        ordered = list(reversed(page.versions)) if sort.startswith("-") else list(page.versions)
        cursor = request.args.get("cursor")
        offset = _decode_cursor(cursor) if cursor else 0
        chunk = ordered[offset : offset + limit]
        results = []
        for ver in chunk:
            item = self._v2_version(ver)
            item["page"] = {"id": page.id, "title": ver.title}
            results.append(item)
        links: dict[str, Any] = {"base": self.base_url}
        headers: dict[str, str] = {}
        if offset + limit < len(ordered):
            nxt_offset = offset if self.sticky_cursor and cursor else offset + limit
            nxt = (
                f"{self.context}/api/v2/pages/{page.id}/versions?limit={limit}&sort={sort}"
                f"&cursor={_encode_cursor(nxt_offset)}"
            )
            if self.next_origin:
                nxt = self.next_origin.rstrip("/") + nxt
            if self.next_in_body:
                links["next"] = nxt
            if self.next_in_header:
                headers["Link"] = f'<{nxt}>; rel="next", <{self.base_url}>; rel="base"'
        return _json({"results": results, "_links": links}, headers=headers)

    # ----------------------------------------------------------------- v1

    def _search(self, request: Request) -> Response:
        """``content/search``: a CQL subset (``space = "K"``, ``label = "L"``, joined by and),
        paged by an opaque cursor that holds ``+``, ``/`` and ``=`` as Cloud's do."""
        args = request.args
        cql = args.get("cql", "")
        spaces = re.findall(r'space\s*=\s*"([^"]*)"', cql)
        labels = re.findall(r'label\s*=\s*"([^"]*)"', cql)
        found = [
            p
            for _, p in sorted(self.pages.items(), key=lambda kv: int(kv[0]))
            if all(p.space_key == k for k in spaces) and all(lb in p.labels for lb in labels)
        ]
        limit = min(_int(args.get("limit", "25")), self.max_limit or 1000)
        start = 0
        if "cursor" in args:
            cursor = args["cursor"]
            if not cursor.startswith("+/="):
                return _v1_error(400, "Bad Request", "cursor is not valid (was it URL-encoded?)")
            start = int(cursor[3:])
        chunk = found[start : start + limit]
        links: dict[str, str] = {"base": self.base_url, "context": self.context}
        if start + limit < len(found):
            # Raw, as Cloud sends it: a client that does not encode the cursor loses its "+".
            links["next"] = (
                f"/rest/api/content/search?cql={quote(cql)}&limit={limit}&cursor=+/={start + limit}"
            )
        results = [
            {"id": p.id, "type": "page", "status": "current", "title": p.current.title}
            for p in chunk
        ]
        return Response(
            json.dumps({"results": results, "size": len(results), "_links": links}),
            200,
            content_type="application/json",
        )

    def _v1(self, request: Request, route: str) -> Response:
        args = request.args
        if route == "/content/search" and request.method == "GET":
            return self._search(request)
        m = re.fullmatch(r"/content/(\d+)", route)
        if m and request.method == "GET":
            page = self.pages.get(m.group(1))
            if page is None:
                return _v1_error(
                    404, "Not Found", f"No content found with id: ContentId{{id={m.group(1)}}}"
                )
            ver = page.current
            if "version" in args:
                found = page.version(_int(args["version"]))
                if found is None:
                    return _v1_error(
                        404,
                        "Not Found",
                        f"No content found with id: ContentId{{id={page.id}}} "
                        f"and version {args['version']}",
                    )
                ver = found
            return _json(self._v1_content(page, ver, _expand(args)))
        if m and request.method == "PUT":
            return self._put(request, m.group(1), v2=False)
        m = re.fullmatch(r"/content/(\d+)/version", route)
        if m and request.method == "GET":
            return self._v1_versions(request, m.group(1))
        if route == "/content" and request.method == "GET":
            key, title = args.get("spaceKey"), args.get("title")
            expand = _expand(args)
            results = [
                self._v1_content(p, p.current, expand)
                for p in self.pages.values()
                if (key is None or p.space_key == key)
                and (title is None or p.current.title == title)
            ]
            return _json(
                {
                    "results": results,
                    "start": 0,
                    "limit": 25,
                    "size": len(results),
                    "_links": self._v1_links("/rest/api/content"),
                }
            )
        return _v1_error(404, "Not Found", f"No resource for {request.path}")

    def _v1_links(self, self_path: str) -> dict[str, str]:
        return {"base": self.base_url, "context": self.context, "self": self.base_url + self_path}

    def _v1_version(self, ver: FakeVersion) -> dict[str, Any]:
        return {
            "by": {
                "type": "known",
                "accountId": ver.author_id,
                "accountType": "atlassian",
                "displayName": ver.author_name,
                "publicName": ver.author_name,
            },
            "when": ver.when,
            "friendlyWhen": ver.when[:10],
            "message": ver.message,
            "number": ver.number,
            "minorEdit": ver.minor_edit,
            "_links": {"self": f"{self.base_url}/rest/experimental/content/version/{ver.number}"},
        }

    def _v1_content(self, page: FakePage, ver: FakeVersion, expand: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": page.id,
            "type": "page",
            "status": "current" if ver is page.current else "historical",
            "title": ver.title,
            "_links": {
                "webui": f"/spaces/{page.space_key}/pages/{page.id}/{_slug(ver.title)}",
                "edit": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{page.id}",
                **self._v1_links(f"/rest/api/content/{page.id}"),
            },
            "_expandable": {"space": f"/rest/api/space/{page.space_key}"},
        }
        body: dict[str, Any] = {}
        if "body.storage" in expand:
            body["storage"] = {"value": ver.storage, "representation": "storage"}
        if "body.view" in expand:
            body["view"] = {"value": ver.view, "representation": "view"}
        if body:
            data["body"] = body
        if "version" in expand:
            data["version"] = self._v1_version(ver)
        return data

    def _v1_versions(self, request: Request, page_id: str) -> Response:
        page = self.pages.get(page_id)
        if page is None:
            return _v1_error(
                404, "Not Found", f"No content found with id: ContentId{{id={page_id}}}"
            )
        start = max(0, _int(request.args.get("start", "0")))
        limit = max(1, min(200, _int(request.args.get("limit", str(self.default_limit)))))
        limit = min(limit, self.max_limit or limit)
        ordered = list(reversed(page.versions))
        chunk = ordered[start : start + limit]
        links = self._v1_links(f"/rest/api/content/{page.id}/version?start={start}&limit={limit}")
        if start + limit < len(ordered):
            nxt = start if self.sticky_cursor and start else start + limit
            links["next"] = f"/rest/api/content/{page.id}/version?start={nxt}&limit={limit}"
            if self.next_origin:
                links["next"] = self.next_origin.rstrip("/") + self.context + links["next"]
        if self.links_base:
            links["base"] = self.links_base
        if start > 0:
            links["prev"] = f"/rest/api/content/{page.id}/version?start={max(0, start - limit)}"
        return _json(
            {
                "results": [self._v1_version(v) for v in chunk],
                "start": start,
                "limit": limit,
                "size": len(chunk),
                "_links": links,
            }
        )

    # ----------------------------------------------------------------- PUT

    def _put(self, request: Request, page_id: str, *, v2: bool) -> Response:
        page = self.pages.get(page_id)
        if page is None:
            if v2:
                return _v2_error(404, "NOT_FOUND", "Not Found")
            return _v1_error(
                404, "Not Found", f"No content found with id: ContentId{{id={page_id}}}"
            )
        try:
            doc = json.loads(request.get_data())
            number = int(doc["version"]["number"])
            title = str(doc["title"])
            value = str(doc["body"]["value"]) if v2 else str(doc["body"]["storage"]["value"])
        except (ValueError, KeyError, TypeError):
            if v2:
                return _v2_error(400, "INVALID_REQUEST_PARAMETER", "Invalid request body")
            return _v1_error(400, "Bad Request", "Could not parse the request body")
        current = page.current.number
        if number != current + 1:
            text = f"Version must be incremented on update. Current version is: {current}"
            if v2:
                return _v2_error(409, "CONFLICT", text)
            return _v1_error(409, "Conflict", text)
        message = str(doc["version"].get("message") or "")
        self.add_version(
            page.id,
            value,
            None,
            title=title,
            message=message,
            minor_edit=bool(doc["version"].get("minorEdit", False)),
        )
        ver = page.current
        if v2:
            return _json(self._v2_page(page, ver, "storage"))
        return _json(self._v1_content(page, ver, {"body.storage", "version"}))


# --------------------------------------------------------------------------- helpers


def _trickle(data: bytes, chunk: int, interval: float) -> Iterator[bytes]:
    for i in range(0, len(data), max(1, chunk)):
        yield data[i : i + max(1, chunk)]
        time.sleep(interval)


def _hang_up(request: Request) -> None:
    """Reset the connection: linger 0 makes the close that follows send RST, not FIN."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)


def _rx(path: str | None) -> re.Pattern[str] | None:
    return re.compile(path) if path else None


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _expand(args: Any) -> set[str]:
    return {e.strip() for e in args.get("expand", "").split(",") if e.strip()}


def _slug(title: str) -> str:
    return re.sub(r"\s+", "+", title.strip())


def _encode_cursor(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return int(json.loads(raw)["offset"])
    except (ValueError, KeyError, TypeError):
        return 0


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status, headers=headers or {}, content_type=JSON)


def _v2_error(status: int, code: str, title: str, detail: str | None = None) -> Response:
    return _json(
        {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}, status
    )


def _v1_error(status: int, reason: str, message: str) -> Response:
    return _json(
        {
            "statusCode": status,
            "data": {
                "authorized": status not in (401, 403),
                "valid": True,
                "allowedInReadOnlyMode": True,
                "errors": [],
                "successful": False,
            },
            "message": message,
            "reason": reason,
        },
        status,
    )


def _unauthorized() -> Response:
    return Response(
        UNAUTHORIZED_TEXT,
        401,
        content_type="text/plain",
        headers={"WWW-Authenticate": 'Basic realm="Protected"'},
    )
