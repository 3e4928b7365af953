"""Turn a SOURCE argument into a Document: a file, stdin, a URL, the live page or a snapshot.

Files may hold a storage body, a view/export_view body, a whole HTML page, or a saved Confluence
REST response (v1 content, v1 search result with one page, v2 page, or a JSON list holding one
page object, as space-export scripts save them). Bodies are kept exactly
as decoded: the raw text is the source of truth the roadmap is derived from.

``http(s)://`` URLs are read like files (any wiki's rendered page or export, or a REST
response); ``live`` / ``NAME@live`` is the configured page's current version, read through the
``live`` callable the caller passes, so this module stays free of configuration and HTTP details.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.errors import SourceError, WikisyncError
from wikisync.model import Document, ParseOptions, Roadmap, SourceMeta, VersionRef

if TYPE_CHECKING:
    from wikisync.config import Config, PageConfig
    from wikisync.render import RenderOptions
    from wikisync.store import Snapshot, Store

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
    store: Store | Callable[[], Store] | None = None,
    stdin: BinaryIO | None = None,
    live: LiveReader | None = None,
) -> Document:
    """Read SOURCE: ``-`` (stdin), a file, a URL, ``[NAME@]live`` or a reference ``NAME@...``.

    ``store`` may be a function opening it: only a reference opens (and imports) the store.
    """
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
        if callable(store):
            store = store()
        if store is not None and ("@" in arg or arg in store.pages()):
            return store.document(store.resolve(arg))
        if store is None and "@" in arg:
            raise SourceError(f"no such file or snapshot reference: {arg} (no snapshot store)")
    raise SourceError(f"no such file or snapshot reference: {arg}")


def _load_url(url: str) -> Document:
    """Any page on the web: fetched anonymously by ``http.get_url``, recognised like a file."""
    from wikisync.http import get_url  # the shared transport; requests loads only for URLs

    doc = document_from_bytes(get_url(url), label=url, source="url")
    return Document(bodies=doc.bodies, meta=replace(doc.meta, url=doc.meta.url or url))


def document_from_bytes(data: bytes, *, label: str, source: str) -> Document:
    """Decode and recognise one input: REST JSON, or a storage/view/HTML body."""
    text = decode_bytes(data, label=label)
    if text.lstrip().startswith(("{", "[")):
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
    import json  # only JSON inputs need it: a diff of two XHTML files starts without it

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{label} is truncated or invalid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    if isinstance(data, list):
        # What space-export scripts save (get_all_pages_from_space): a list of page objects.
        if len(data) != 1:
            raise SourceError(
                f"{label} is a JSON list of {len(data)} pages; wikisync reads one page at a "
                "time: save one page, or a list holding just that one"
            )
        data = data[0]
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


# --------------------------------------------------------------------------- the one room


@record(frozen=True)
class Side:
    """One side of a diff: its roadmap, which version it is, and the page it belongs to."""

    roadmap: Roadmap
    ref: VersionRef
    page: str | None


def split_range(arg: str) -> tuple[str, str] | None:
    """``A..B`` as two references (``NAME@v5..v7`` is ``NAME@v5`` and ``NAME@v7``).

    An empty side is the other side's ``NAME@latest``, as git's ``A..`` means ``A..HEAD``.
    Paths (anything with a ``/``) and existing files are never split.
    """
    if ".." not in arg or "/" in arg or Path(arg).exists():
        return None
    left, _, right = arg.partition("..")
    if (not left and not right) or "." in left[:1] or right.startswith("."):
        return None
    name = (left or right).split("@", 1)[0]
    left = left or f"{name}@latest"
    if not right:
        right = f"{name}@latest"
    elif "@" not in right and "@" in left and not Path(right).exists():
        right = f"{name}@{right}"  # NAME@v5..v7
    return left, right


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` when a close choice exists, else nothing."""
    import difflib  # only on an error path: keep it out of every command's start-up

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


class Sources:
    """Turns SOURCE and page arguments into documents, roadmaps and page names.

    The one place that knows what an argument can be (a file, ``-``, a URL, a snapshot
    reference, ``live`` / ``NAME@live``), so the command line only composes calls. The wiki
    client (``wikisync.sync``, with requests) is imported only when a live page is read.
    """

    def __init__(
        self, config: Config, store: Callable[[], Store], stdin: BinaryIO | None = None
    ) -> None:
        self.config = config
        self._open_store = store
        self.stdin = stdin

    @property
    def store(self) -> Store:
        """Opened on first use: a diff of two files neither reads nor imports the store."""
        return self._open_store()

    # pages ------------------------------------------------------------------

    def known_pages(self) -> list[str]:
        """Configured pages, then pages that only exist in the store."""
        return list(dict.fromkeys([*self.config.pages, *self.store.pages()]))

    def page(self, name: str | None, option: str | None = None, *, live: bool = False) -> str:
        """The one page a command is about: NAME, ``--page NAME``, else the only page.

        ``live`` commands need a page with a base_url; the others accept any configured or
        stored page. A mistyped name lists the known pages.
        """
        if name and option and name != option:
            raise SourceError(f"two pages given: {name!r} and --page {option!r}; give one")
        chosen = name or option
        if live:
            return self.live_page(chosen).name
        known = self.known_pages()
        if chosen is None:
            if len(known) == 1:
                return known[0]
            listed = ", ".join(known) or "none"
            raise SourceError(f"which page? give its name (known pages: {listed})")
        if chosen not in known:
            raise SourceError(self._unknown(chosen, known))
        return chosen

    def _unknown(self, name: str, known: list[str]) -> str:
        listed = ", ".join(known) or "none"
        return f"unknown page {name!r}{did_you_mean(name, known)} (known pages: {listed})"

    def live_page(self, name: str | None) -> PageConfig:
        """The fetchable page NAME, else the only configured page with a base_url."""
        from wikisync.sync import live_page

        if name is not None and name not in self.config.pages:
            raise SourceError(self._unknown(name, list(self.config.pages)))
        return live_page(self.config, name)

    def live(self, default: str | None) -> LiveReader:
        """Reads ``live`` (the ``default`` page, else the only fetchable one) or ``NAME@live``."""

        def read(name: str | None) -> Document:
            from wikisync.sync import fetch_document

            return fetch_document(self.live_page(name or default))

        return read

    # documents and roadmaps ---------------------------------------------------

    def snapshot_of(self, arg: str) -> Snapshot | None:
        """The stored snapshot ARG names, or None when ARG is a file, stdin, a URL or live."""
        if arg == "-" or Path(arg).exists() or is_live(arg) or "://" in arg:
            return None
        name = arg.split("@", 1)[0]
        if "@" in arg or name in self.store.pages():
            return self.store.resolve(arg)
        return None

    def document(self, arg: str, page: str | None = None) -> Document:
        """SOURCE as a document; ``live`` is ``page``'s live version."""
        return load_source(arg, store=self._open_store, stdin=self.stdin, live=self.live(page))

    def parse(
        self, doc: Document, page: str | None, *, label: str | None = None, history: bool = True
    ) -> Roadmap:
        """Parse with the page's configured options; errors name the input they came from.
        ``history=False`` leaves the page's Change History unread (a diff does not show it)."""
        from wikisync.errors import ParseError
        from wikisync.parse import parse_document

        options = self.config.page_or_default(page).parse if page else None
        if not history:
            options = replace(options or ParseOptions(), history_heading="")
        try:
            return parse_document(doc, options)
        except ParseError as exc:
            if not label or str(exc).startswith(label):
                raise
            where = "standard input" if label == "-" else label
            raise ParseError(f"{where}: {exc}") from None

    def side(
        self, arg: str, page: str | None = None, *, hint: str | None = None, history: bool = True
    ) -> Side:
        """One side of a diff, or what ``parse`` reads. ``hint`` is the other side's page:
        ``live`` after NAME@v5. ``history=False``: a page parsed now leaves its Change History
        unread. A stored version is its stored roadmap."""
        return self._side(arg, page, hint, history, False, self._resolved(arg))

    def sides(
        self, old: str, new: str, page: str | None = None, *, history: bool = True
    ) -> tuple[Side, Side]:
        """Both sides of a diff. A stored version against a file or the live page is read from
        its body as they are read now, not from its roadmap.json, which an older parser or other
        options may have derived (its roadmap.json when the body no longer parses); two stored
        versions are compared as they are stored."""
        old_snap, new_snap = self._resolved(old), self._resolved(new)
        a = self._side(old, page, None, history, new_snap is None, old_snap)
        b = self._side(new, page, a.page, history, old_snap is None, new_snap)
        return a, b

    def _resolved(self, arg: str) -> Snapshot | None:
        """The stored snapshot ``arg`` names; None for the live page, a file, stdin or a URL."""
        if is_live(arg) and not Path(arg).exists():
            return None
        return self.snapshot_of(arg)

    def _side(
        self,
        arg: str,
        page: str | None,
        hint: str | None,
        history: bool,
        reread: bool,
        snap: Snapshot | None,
    ) -> Side:
        if snap is not None:
            return Side(self._stored(snap, reread, history), snap.version_ref(), snap.page)
        if is_live(arg) and not Path(arg).exists():
            cfg = self.live_page(arg[: -len("@live")] if arg != "live" else page or hint)
            doc = load_source(arg, store=self._open_store, live=self.live(cfg.name))
            label = f"{cfg.name}@live"
            roadmap = self.parse(doc, cfg.name, label=label, history=history)
            return Side(roadmap, _ref(label, doc), cfg.name)
        doc = self.document(arg, page)
        return Side(self.parse(doc, page, label=arg, history=history), _ref(arg, doc), page)

    def _stored(self, snap: Snapshot, reread: bool, history: bool) -> Roadmap:
        if not reread:
            return self.store.roadmap(snap)
        return self.store.read_now(snap, lambda d: self.parse(d, snap.page, history=history))

    def pair(self, old: str | None, new: str | None, page: str | None) -> tuple[str, str]:
        """What ``diff`` compares, git-style.

        No argument: the page's latest snapshot against the live page (what your edit
        changed). One: ``A..B``, or A against the live page. Two: A against B.
        """
        if old is None:
            name = self.live_page(page).name
            if not self.store.snapshots(name):
                raise SourceError(
                    f"no snapshots of page {name!r} in {self.store.root}: run wikisync sync first"
                )
            return f"{name}@latest", f"{name}@live"
        if new is not None:
            return old, new
        pair = split_range(old)
        if pair is not None:
            return pair
        if is_live(old) and not Path(old).exists():  # `diff live`: what the edit changed
            name = self.live_page(old[: -len("@live")] if old != "live" else page).name
            return f"{name}@latest", f"{name}@live"
        snap_page = old.split("@", 1)[0] if "@" in old and not Path(old).exists() else None
        return old, f"{snap_page}@live" if snap_page else "live"

    def render_options(self, page: str | None) -> RenderOptions:
        """The page's render settings, with links to its versions when it has a URL."""
        from wikisync.render import RenderOptions

        if not page:
            return RenderOptions()
        cfg = self.config.page_or_default(page)
        return RenderOptions(
            period_names=dict(cfg.period_names),
            template_dir=cfg.template_dir,
            versions_url=versions_url(cfg.base_url, cfg.page_id or self._stored_page_id(page)),
        )

    def _stored_page_id(self, page: str) -> str | None:
        if page not in self.store.pages():
            return None
        for snap in reversed(self.store.snapshots(page)):
            if snap.meta.page:
                return snap.meta.page
        return None


def versions_url(base_url: str | None, page_id: str | None) -> str | None:
    """Confluence's page to compare two versions, without the two version numbers."""
    if not base_url or not page_id:
        return None
    from urllib.parse import urlencode

    query = urlencode({"pageId": page_id})
    return f"{base_url.rstrip('/')}/pages/diffpagesbyversion.action?{query}"


def _ref(label: str, doc: Document) -> VersionRef:
    meta = doc.meta
    return VersionRef(ref=label, version=meta.version, when=meta.when, author=meta.author)
