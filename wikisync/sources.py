"""Turn a SOURCE argument into a Document: a file, stdin, a URL, the live page or a snapshot.

Files may hold a storage body, a view/export_view body, a whole HTML page, or a saved Confluence
REST response (v1 content, v1 search result with one page, or v2 page). Bodies are kept exactly
as decoded: the raw text is the source of truth the roadmap is derived from.

``http(s)://`` URLs are read like files (any wiki's rendered page or export, or a REST
response); ``live`` / ``NAME@live`` is the configured page's current version, read through the
``live`` callable the caller passes, so this module stays free of configuration and HTTP details.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from wikisync._lazy import lazy_re
from wikisync.errors import SourceError, WikisyncError
from wikisync.model import Document, SourceMeta

if TYPE_CHECKING:
    from wikisync.store import Store

_REF_RE = lazy_re(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(@\S+)?")
_NAME_RE = lazy_re(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")

#: Reads a configured page's current version: the page name, or None for "the only one".
LiveReader = Callable[[str | None], Document]


def is_live(arg: str) -> bool:
    """``live`` or ``NAME@live``: the configured page as it is now."""
    return arg == "live" or arg.endswith("@live")


def load_source(
    arg: str,
    *,
    store: Store | None = None,
    stdin: BinaryIO | None = None,
    live: LiveReader | None = None,
) -> Document:
    """Read SOURCE: ``-`` (stdin), a file, a URL, ``[NAME@]live`` or a reference ``NAME@...``."""
    if arg == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read()
        except OSError as exc:
            raise SourceError(f"cannot read standard input: {exc}") from exc
        return document_from_bytes(data, label="standard input", source="stdin")

    if arg.startswith(("http://", "https://")):
        return _load_url(arg)

    path = Path(arg)
    if path.exists():
        if path.is_dir():
            raise SourceError(f"{arg} is a directory, not a page")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {arg}: {exc.strerror or exc}") from exc
        return document_from_bytes(data, label=arg, source="file")

    if is_live(arg):
        name = None if arg == "live" else arg[: -len("@live")]
        if name is not None and not _NAME_RE.fullmatch(name):
            raise SourceError(f"malformed live reference {arg!r} (expected live or NAME@live)")
        if live is None:
            raise SourceError(
                f"reading {arg} needs a configured page with a base_url (no configuration given)"
            )
        return live(name)

    if _REF_RE.fullmatch(arg):
        if store is not None and ("@" in arg or arg in store.pages()):
            return store.document(store.resolve(arg))
        if store is None and "@" in arg:
            raise SourceError(f"no such file or snapshot reference: {arg} (no snapshot store)")
    raise SourceError(f"no such file or snapshot reference: {arg}")


def _load_url(url: str) -> Document:
    """Any page on the web: fetched by ``sync.http_get``, recognised like a file."""
    from wikisync.sync import http_get  # the HTTP side lives with the other fetching code

    doc = document_from_bytes(http_get(url), label=url, source="url")
    return Document(bodies=doc.bodies, meta=replace(doc.meta, url=doc.meta.url or url))


def document_from_bytes(data: bytes, *, label: str, source: str) -> Document:
    """Decode and recognise one input: REST JSON, or a storage/view/HTML body."""
    text = decode_bytes(data, label=label)
    if text.lstrip().startswith("{"):
        return _document_from_json(text, label=label)
    from wikisync.parse import detect_format  # the parser lands in parallel; import lazily

    try:
        fmt = detect_format(text)
    except WikisyncError as exc:
        raise SourceError(f"{label}: {exc}") from None
    return Document(bodies={fmt: text}, meta=SourceMeta(source=source))


def decode_bytes(data: bytes, *, label: str) -> str:
    """UTF-8 only (BOM dropped): a wrong encoding is an error, never silent mojibake."""
    if not data.strip():
        raise SourceError(f"{label} is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{label} is UTF-16; save it as UTF-8")
    if b"\0" in data:
        raise SourceError(f"{label} is binary, not a page")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise SourceError(
            f"{label} is not valid UTF-8 (byte 0x{bad} at offset {exc.start})"
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SourceError(f"{label} is empty")
    return text


def _not_a_page(label: str, why: str) -> SourceError:
    return SourceError(f"{label} is JSON but not a Confluence page response ({why})")


def _get(d: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _document_from_json(text: str, *, label: str) -> Document:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{label} is truncated or invalid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise _not_a_page(label, "not an object")

    if "results" in data and "body" not in data:
        results = data["results"]
        if not isinstance(results, list):
            raise _not_a_page(label, "results is not a list")
        if len(results) != 1:
            raise _not_a_page(label, f"a search result with {len(results)} pages, expected 1")
        page = results[0]
        if not isinstance(page, dict):
            raise _not_a_page(label, "results[0] is not an object")
        base = _get(data, "_links", "base")
    else:
        page = data
        base = None

    body = page.get("body")
    if not isinstance(body, dict):
        raise _not_a_page(label, "no body")
    bodies: dict[str, str] = {}
    for key, fmt in (("storage", "storage"), ("view", "view"), ("export_view", "view")):
        value = _get(body, key, "value")
        if value is None or fmt in bodies:
            continue
        if not isinstance(value, str):
            raise _not_a_page(label, f"body.{key}.value is not a string")
        if not value.strip():
            raise _not_a_page(label, f"body.{key}.value is empty")
        bodies[fmt] = value
    if not bodies:
        have = ", ".join(sorted(str(k) for k in body)) or "nothing"
        raise _not_a_page(
            label, f"no body.storage, body.view or body.export_view value; body has {have}"
        )

    version = page.get("version")
    if not isinstance(version, dict):
        version = {}
    is_v2 = "createdAt" in version or "authorId" in version or "spaceId" in page
    number = version.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise _not_a_page(label, f"version.number is {number!r}") from None
    if is_v2:
        when = _str_or_none(version.get("createdAt"))
        author = _str_or_none(version.get("authorId"))
    else:
        when = _str_or_none(version.get("when"))
        by = version.get("by")
        author = None
        if isinstance(by, dict):
            author = _str_or_none(
                by.get("displayName")
                or by.get("publicName")
                or by.get("username")
                or by.get("accountId")
            )

    links = page.get("_links")
    if not isinstance(links, dict):
        links = {}
    base = links.get("base") or base
    webui = links.get("webui")
    url = None
    if isinstance(webui, str) and webui:
        url = (str(base).rstrip("/") + webui) if isinstance(base, str) and base else webui

    meta = SourceMeta(
        page=_str_or_none(page.get("id")),
        title=_str_or_none(page.get("title")),
        version=number,
        when=when,
        author=author,
        message=_str_or_none(version.get("message")),
        url=url,
        source="v2" if is_v2 else "v1",
    )
    return Document(bodies=bodies, meta=meta)
