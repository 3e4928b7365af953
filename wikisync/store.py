"""Snapshots on disk: every version of a page we have seen, raw bodies first.

The raw bodies are the source of truth; ``roadmap.json`` is a derived cache that ``reparse``
can rebuild at any time with a newer parser. Layout::

    <root>/
      .wikisync.lock                    exclusive flock held by lock() (one writer at a time)
      NAME/                             NAME = page name: [A-Za-z0-9._-]+, not starting with "."
        <id>/                           id = "<YYYYmmddTHHMMSSZ>-v<version|0>-<hash12>"
          meta.json                     {"schema": "wikisync.snapshot/1", "hash", "page",
                                         "formats", "stored_at", "parser", "source": SourceMeta}
          body.storage.xml              raw bodies exactly as received (utf-8), one per format:
          body.view.html                  storage / view / html
          body.html
          roadmap.json                  Roadmap.to_json(), sort_keys, indent=2
        .tmp-<random>/                  a put in progress (or killed): never listed, cleaned
                                        when a put next lists the page
        CHANGELOG.md                    Change History entries, newest on top

``hash`` is sha256 over ``fmt + "\\0" + body + "\\0"`` for the bodies sorted by format, so the
same bodies always give the same snapshot and storing them twice is a no-op. A snapshot's
``when`` is the version date the source reported (normalised to UTC), else the time it was
stored. Snapshots are written into a temporary directory and renamed into place, so a crash
never leaves a half-written snapshot that looks real; an existing snapshot is never
overwritten. Concurrent writers must hold ``lock()``.

Order. A page's snapshots are ordered by the page's own version number (Confluence's version,
a wiki's revision id), never by date: a server clock, an import or a restore can date a newer
version before an older one, and the date is for display only. Snapshots of one number go by
date, then id. A versionless snapshot (``snapshot FILE`` without ``--version``) falls back to
its date: it goes right after the highest version dated on or before it (first when none is),
and versionless snapshots with the same such version go by date, then id.

References (``resolve``): ``NAME`` / ``NAME@latest``, ``NAME@latest~N``, ``NAME@vN``,
``NAME@<id>`` or a unique hash prefix of at least 6 hex digits, ``NAME@YYYY-MM-DD`` or a full
ISO datetime (the version in force at the end of that day / at that instant: the last one, in
the order above, dated on or before it).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import field
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from operator import attrgetter, is_
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from wikisync import __version__, jsondoc
from wikisync._faults import point
from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.errors import ParseError, StoreError
from wikisync.model import Document, Item, Roadmap, SourceMeta, VersionRef

if TYPE_CHECKING:
    from wikisync._cardspans import Cards, Split

SCHEMA_SNAPSHOT = "wikisync.snapshot/1"
LOCK_NAME = ".wikisync.lock"
CHANGELOG_NAME = "CHANGELOG.md"
TMP_PREFIX = ".tmp-"

#: Body file name per format; the only formats a Document may carry.
BODY_FILES: dict[str, str] = {
    "storage": "body.storage.xml",
    "view": "body.view.html",
    "html": "body.html",
    "wikitext": "body.wikitext.txt",  # MediaWiki's source, kept because publish edits it
}

_NAME_RE = lazy_re(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_ID_RE = lazy_re(r"\d{8}T\d{6}Z-v\d+-[0-9a-f]{12}")
_LATEST_RE = lazy_re(r"latest(?:~(\d+))?")
_VERSION_RE = lazy_re(r"v(\d+)")
_DATE_RE = lazy_re(r"\d{4}-\d{2}-\d{2}")
_HEX_RE = lazy_re(r"[0-9a-fA-F]{6,64}")

_REF_FORMS = "NAME, NAME@latest, NAME@latest~N, NAME@vN, NAME@<id or hash>, NAME@YYYY-MM-DD"


_SortKey = tuple[datetime, int, str]  # (when, version, id): the order of a page's snapshots


@record(frozen=True)
class Snapshot:
    """One stored version of a page, as described by its meta.json."""

    page: str
    id: str
    path: Path
    hash: str
    version: int | None
    when: str  # UTC ISO-8601 with Z: the version date, else when it was stored
    author: str | None
    url: str | None
    stored_at: str
    formats: tuple[str, ...]
    meta: SourceMeta

    def version_ref(self) -> VersionRef:
        """This snapshot as one side of a diff."""
        return VersionRef(
            ref=f"{self.page}@{self.id}",
            version=self.version,
            when=self.when,
            author=self.author,
            hash=self.hash,
        )


def validate_page_name(page: str) -> str:
    """Refuse names that could escape the store (``..``, ``/``, hidden files)."""
    if not isinstance(page, str) or not _NAME_RE.fullmatch(page):
        raise StoreError(
            f"invalid page name {page!r}: use letters, digits, '.', '_' and '-' "
            "(not starting with '.')"
        )
    return page


def content_hash(bodies: dict[str, str]) -> str:
    """The identity of a version: its raw bodies, independent of dict order."""
    h = hashlib.sha256()
    for fmt in sorted(bodies):
        h.update(f"{fmt}\0{bodies[fmt]}\0".encode())
    return h.hexdigest()


def _utc_iso(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    if dt.microsecond == 0:
        spec = "seconds"
    elif dt.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return dt.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _parse_when(text: str) -> datetime:
    """Parse an ISO-8601 datetime; a naive one is taken as UTC (what Confluence means)."""
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Modes of a private page (one fetched with credentials): only the owner reads its snapshots.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def _is_private(directory: Path) -> bool:
    """A directory no one but its owner may read: what it holds is written 0600."""
    try:
        return not os.stat(directory).st_mode & 0o077
    except OSError:
        return False


def _refuse_symlink(path: Path) -> None:
    """Never write through a symlink planted in the store: it could point anywhere."""
    if path.is_symlink():
        raise StoreError(f"refusing to write through the symlink {path}")


def _write_file(path: Path, data: bytes, mode: int = 0o666) -> None:
    # O_EXCL | O_NOFOLLOW: a new file, never a planted symlink's target.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    with os.fdopen(os.open(path, flags, mode), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _replace_file(path: Path, data: bytes) -> None:
    """Write a whole file atomically: a reader sees the old or the new content, never half.
    A symlink in its place is refused; in a private directory the file is 0600."""
    _refuse_symlink(path.parent)
    _refuse_symlink(path)
    tmp = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        _write_file(tmp, data, PRIVATE_FILE if _is_private(path.parent) else 0o666)
        point("file:tmp-written")
        os.replace(tmp, path)
        point("file:replaced")
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def replace_file(path: Path, data: bytes) -> None:
    """``_replace_file`` for a file beside the snapshots (refuses symlinks, keeps privacy)."""
    try:
        _replace_file(path, data)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {_os_message(exc)}") from exc


def _roadmap_bytes(roadmap: Roadmap) -> bytes:
    """Compact, so the file stays small; ``wikisync parse NAME@vN --format json`` prints it
    readably. Written by orjson (``jsondoc``): the same bytes as ``json``, ~20× faster."""
    return (jsondoc.dumps_compact(roadmap.to_json()) + "\n").encode("utf-8")


def _checked(roadmap: Roadmap) -> Roadmap:
    """Refuse a hand-edited roadmap.json whose values have the wrong types (``"title": 5``):
    from_json only checks the shape, and the differ would fail deep inside on such values."""

    def text(value: object, where: str, optional: bool = False) -> None:
        if not (isinstance(value, str) or (optional and value is None)):
            raise ValueError(f"{where} is {value!r}, expected text")

    def texts(values: tuple[object, ...], where: str) -> None:
        for value in values:
            text(value, where)

    text(roadmap.title, "title", optional=True)
    for p in roadmap.periods:
        text(p.label, "a period label")
        text(p.short, f"period {p.label!r} short")
        texts(p.aliases, f"period {p.label!r} aliases")
    for lane in roadmap.lanes:
        text(lane.label, "a lane label")
        texts(lane.path, f"lane {lane.label!r} path")
    for i in roadmap.items:
        for where, value in (("id", i.id), ("title", i.title), ("period", i.period)):
            text(value, f"an item's {where}")
        for where, value in (("lane", i.lane), ("text", i.text)):
            text(value, f"item {i.id!r} {where}")
        text(i.stage, f"item {i.id!r} stage", optional=True)
        text(i.period_end, f"item {i.id!r} period_end", optional=True)
        for where, values in (
            ("tags", i.tags),
            ("orgs", i.orgs),
            ("org_names", i.org_names),
            ("links", i.links),
            ("mentions", i.mentions),
        ):
            texts(values, f"item {i.id!r} {where}")
        for part in i.parts:
            text(part.text, f"item {i.id!r} part text")
            texts(part.orgs, f"item {i.id!r} part orgs")
    for h in roadmap.history:
        text(h.date, "a history date")
        text(h.text, "a history sentence")
        text(h.category, "a history category", optional=True)
    return roadmap


_ITEM_ID = attrgetter("id")
#: The lists of a roadmap beside its cards, shared with the roadmap read before when unchanged.
_PARTS: tuple[str, ...] = ("periods", "lanes", "history")


class ItemReuse:
    """What ``Store.roadmaps`` keeps of the roadmap.json read last: its cards (the ``Item``
    objects, their JSON and, when the file was canonical, their bytes: ``wikisync._cardspans``)
    and its periods, lanes and history, so the next file builds only what changed."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.raws: list[Any] = []  # each card's JSON
        self.cards: Cards | None = None  # their bytes (None: the file was not canonical)
        self.by_id: dict[Any, int] = {}  # card id -> position of the last card with it
        self.parts: dict[str, tuple[Any, list[Any]]] = {}  # "periods" -> (JSON, objects), ...
        self.whole: tuple[bytes, dict[str, Any]] | None = None  # last file decoded whole

    def read(self, data: bytes) -> Roadmap:
        """``_checked(Roadmap.from_json(...))`` of a whole roadmap.json, decoding only the cards
        whose bytes changed since the file read last (``_cardspans.split``); a file that is not
        canonical is decoded whole (and the same bytes again are not decoded again)."""
        from wikisync._cardspans import split

        spans = split(data, self.cards)
        if spans is not None:
            try:
                return self._spliced(spans)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                pass  # decoded whole below, which says what is wrong
        whole = self.whole
        d = whole[1] if whole is not None and whole[0] == data else jsondoc.loads(data)
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        roadmap = self.build(d)
        self.whole = (data, d)
        return roadmap

    def build(self, d: dict[str, Any]) -> Roadmap:
        """``_checked(Roadmap.from_json(d))``, reusing every card whose JSON is unchanged."""
        raws = d.get("items", [])
        if not isinstance(raws, list):
            raise ValueError("items is not a list")
        return self._assemble(d, raws, self._reused(raws, None), None)

    def _spliced(self, spans: Split) -> Roadmap:
        """The roadmap of a canonical file: the cards found unchanged by their bytes are the
        cards read last, the new ones are compared by id as ``_reused`` does."""
        known = spans.known
        previous = [*self.raws, None].__getitem__  # -1 (a new card) -> None
        raws: list[Any] = list(map(previous, known))
        for at, raw in spans.fresh:
            raws[at] = raw
        hits: list[Item | None] | None = None
        if len(self.by_id) == len(self.items):  # ids unique: a found card is its id's card
            hits = list(map([*self.items, None].__getitem__, known))
            found = set(known)
            used: set[int] = set()
            for at, raw in spans.fresh:
                k = self.by_id.get(raw.get("id")) if isinstance(raw, dict) else None
                if k is None or k in used:
                    continue
                if k in found:  # a new card with the id of one found: decide in order
                    hits = None
                    break
                if self._same(k, raw, spans.cards, at):
                    used.add(k)
                    hits[at] = self.items[k]
        if hits is None:
            hits = self._reused(raws, spans.cards)
        return self._assemble(spans.rest, raws, hits, spans.cards)

    def _same(self, k: int, raw: Any, cards: Cards | None, at: int) -> bool:
        """Is card ``raw`` (at position ``at`` of ``cards``) the card read last at ``k``?
        Canonical bytes are equal exactly when the JSON is: compared without walking dicts."""
        if cards is None or self.cards is None:
            return bool(self.raws[k] == raw)
        return self.cards.card(k) == cards.card(at)

    def _reused(self, raws: list[Any], cards: Cards | None) -> list[Item | None]:
        """Per card, the card read last it is, in order: the last one with its id whose JSON is
        equal, unless already used (a card listed twice is built twice: never one object
        twice); None for a card to build."""
        hits: list[Item | None] = []
        used: set[int] = set()
        for at, raw in enumerate(raws):
            k = self.by_id.get(raw.get("id")) if isinstance(raw, dict) else None
            if k is not None and k not in used and self._same(k, raw, cards, at):
                used.add(k)
                hits.append(self.items[k])
            else:
                hits.append(None)
        return hits

    def _assemble(
        self, d: dict[str, Any], raws: list[Any], hits: list[Item | None], cards: Cards | None
    ) -> Roadmap:
        """The roadmap of ``d`` with the cards ``raws``, of which ``hits`` are built already;
        only the rest, and the periods, lanes and history that changed, are built and checked."""
        # Positions of the cards to build, without a Python step per card (most are hits).
        at = list(compress(range(len(hits)), map(is_, hits, repeat(None))))
        fresh = [raws[n] for n in at]
        same = {
            key: self.parts[key][1]
            for key in _PARTS
            if key in self.parts and self.parts[key][0] == d.get(key, [])
        }
        roadmap = _checked(Roadmap.from_json({**d, "items": fresh, **{key: [] for key in same}}))
        for key, objects in same.items():
            setattr(roadmap, key, list(objects))
        items = cast("list[Item]", hits)
        for n, item in zip(at, roadmap.items, strict=True):
            items[n] = item
        roadmap.items = items
        self.items, self.raws, self.cards = items, raws, cards
        self.by_id = dict(zip(map(_ITEM_ID, items), range(len(items)), strict=True))
        self.parts = {key: (d.get(key, []), getattr(roadmap, key)) for key in _PARTS}
        self.whole = None
        return roadmap


def _os_message(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the store is read-only (permission denied)"
    return exc.strerror or str(exc)


def _ordered(dated: list[tuple[datetime, Snapshot]]) -> list[Snapshot]:
    """Snapshots in page order (see the module docstring), from (parsed date, snapshot).

    The key is (version, 0, date, id) for a numbered snapshot and (the highest version dated
    on or before it, else -inf; 1, date, id) for a versionless one.
    """
    numbered = sorted(
        (float(s.version), 0, when, s.id, s) for when, s in dated if s.version is not None
    )
    loose = [(when, s) for when, s in dated if s.version is None]
    if not loose:
        return [row[-1] for row in numbered]
    # The highest version dated on or before each versionless snapshot.
    by_date = sorted((when, number) for number, _, when, _, _ in numbered)
    keyed = list(numbered)
    for when, s in loose:
        anchor = max((number for at, number in by_date if at <= when), default=float("-inf"))
        keyed.append((anchor, 1, when, s.id, s))
    keyed.sort(key=lambda row: row[:4])
    return [row[-1] for row in keyed]


def _hash_row_order(row: tuple[int | None, str]) -> tuple[bool, int, str]:
    """Snapshots of one content in a fixed order: numbered ones by number, then versionless."""
    version, snap_id = row
    return (version is None, version or 0, snap_id)


def _dir_signature(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a directory's entries change (mtime alone has a coarse clock on some
    file systems; the link count and size move with added or removed entries)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {_os_message(exc)}") from exc
    return (st.st_ino, st.st_mtime_ns, st.st_nlink, st.st_size)


@record()
class _PageIndex:
    """All put() needs to decide: which snapshot is the latest, and each hash's snapshots as
    (version, id).

    Plain tuples, not Snapshots: a backfill adds one per version, so this is what grows. The
    latest follows the page order (module docstring) without sorting: the highest version
    (its last snapshot by date and id), unless a versionless snapshot is dated on or after
    that version's first snapshot; then the last of those.
    """

    signature: tuple[int, int, int, int] | None
    by_hash: dict[str, list[tuple[int | None, str]]] = field(default_factory=dict)
    top: int | None = None  # the highest version number stored
    top_first: datetime | None = None  # the earliest date among that version's snapshots
    top_last: tuple[datetime, str] | None = None  # the last (date, id) among them
    loose: list[tuple[datetime, str]] = field(default_factory=list)  # versionless snapshots

    def add(self, when: datetime, snap: Snapshot) -> None:
        self.by_hash.setdefault(snap.hash, []).append((snap.version, snap.id))
        number = snap.version
        if number is None:
            self.loose.append((when, snap.id))
        elif self.top is None or number > self.top:
            self.top, self.top_first, self.top_last = number, when, (when, snap.id)
        elif number == self.top:
            assert self.top_first is not None and self.top_last is not None
            self.top_first = min(self.top_first, when)
            self.top_last = max(self.top_last, (when, snap.id))

    @property
    def latest(self) -> str | None:
        if self.top_first is None or self.top_last is None:
            return max(self.loose)[1] if self.loose else None
        top_first = self.top_first
        after = [row for row in self.loose if row[0] >= top_first]
        return max(after)[1] if after else self.top_last[1]


class Store:
    """A directory of page snapshots; see the module docstring for the layout."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._loaded: dict[Path, tuple[tuple[int, int, int], datetime, Snapshot]] = {}
        self._index: dict[str, _PageIndex] = {}

    # ------------------------------------------------------------------ listing

    def pages(self) -> list[str]:
        """Names of the pages that have a directory in the store, sorted."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read store {self.root}: {_os_message(exc)}") from exc
        return sorted(e.name for e in entries if e.is_dir() and _NAME_RE.fullmatch(e.name))

    def _page_dir(self, page: str) -> Path:
        return self.root / validate_page_name(page)

    def snapshots(self, page: str) -> list[Snapshot]:
        """All snapshots of ``page`` in page order (by version number, see the module docstring),
        oldest first; [] for a page the store does not know."""
        pdir = self._page_dir(page)
        try:
            entries = list(os.scandir(pdir))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read {pdir}: {_os_message(exc)}") from exc
        return _ordered(
            [
                self._cached_snapshot(page, Path(e.path))
                for e in entries
                if e.is_dir() and not e.name.startswith(".")
            ]
        )

    def _page_index(self, page: str, pdir: Path) -> _PageIndex:
        """What put() needs to know of a page, without listing it on every put.

        Built from a full listing, then kept up to date by put() itself; rebuilt whenever the
        page directory changed in a way put() did not make (its stat differs: another process
        wrote, or a file was added beside the snapshots). A backfill of N versions is O(N),
        not O(N²) stats. The rebuild is also when a killed put's temporary directory is
        removed: this process's own puts clean up after themselves.
        """
        sig = _dir_signature(pdir)
        index = self._index.get(page)
        if index is not None and index.signature == sig and sig is not None:
            return index
        index = _PageIndex(signature=sig)
        if sig is not None:
            self._clean_tmp(pdir)
            index.signature = _dir_signature(pdir)
            for snap in self.snapshots(page):
                index.add(_parse_when(snap.when), snap)
        self._index[page] = index
        return index

    def _cached_snapshot(self, page: str, path: Path) -> tuple[datetime, Snapshot]:
        """Each meta.json is parsed once per Store while it is unchanged (a stat tells), so
        listing after each put costs a stat per snapshot, not a parse: a backfill of N
        versions is not quadratic in JSON parsing, and a hand edit is still noticed."""
        try:
            st = os.stat(path / "meta.json")
        except OSError:
            self._load_snapshot(page, path)  # says what is wrong
            raise  # pragma: no cover - _load_snapshot raised already
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._loaded.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        snap = self._load_snapshot(page, path)
        when = _parse_when(snap.when)
        self._loaded[path] = (stamp, when, snap)
        return when, snap

    def _load_snapshot(self, page: str, path: Path) -> Snapshot:
        meta_path = path / "meta.json"
        try:
            raw = meta_path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"corrupt snapshot {path}: meta.json is missing") from None
        except OSError as exc:
            raise StoreError(f"cannot read {meta_path}: {_os_message(exc)}") from exc
        try:
            d = json.loads(raw.decode("utf-8"))
            if not isinstance(d, dict):
                raise ValueError("not a JSON object")
            if d.get("schema") != SCHEMA_SNAPSHOT:
                raise ValueError(f"schema is {d.get('schema')!r}, expected {SCHEMA_SNAPSHOT!r}")
            digest = d["hash"]
            if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError("bad hash")
            formats = d["formats"]
            if (
                not isinstance(formats, list)
                or not formats
                or any(f not in BODY_FILES for f in formats)
            ):
                raise ValueError(f"bad formats {formats!r}")
            source = d.get("source") or {}
            if not isinstance(source, dict):
                raise ValueError("source is not an object")
            meta = SourceMeta.from_json(source)
            stored_at = d["stored_at"]
            if not isinstance(stored_at, str):
                raise ValueError("bad stored_at")
            when = _utc_iso(_parse_when(meta.when or stored_at))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise StoreError(f"corrupt snapshot metadata {meta_path}: {exc}") from None
        return Snapshot(
            page=page,
            id=path.name,
            path=path,
            hash=digest,
            version=meta.version,
            when=when,
            author=meta.author,
            url=meta.url,
            stored_at=stored_at,
            formats=tuple(sorted(formats)),
            meta=meta,
        )

    # ------------------------------------------------------------------ writing

    def put(
        self, page: str, doc: Document, roadmap: Roadmap, *, private: bool = False
    ) -> tuple[Snapshot, bool]:
        """Store a version; returns (snapshot, created).

        ``private`` (a page fetched with credentials) makes the page directory 0700 and its
        files 0600; a page directory that is private already stays so. A page directory that
        is a symlink is refused: snapshot writes never leave the store.

        Storing an identical body again is a no-op: the same as the latest snapshot (a
        title-only edit), or as an older one of the same version number (or of none). An older
        content coming back under a new version number is a restore: it is a version of its
        own, so the history shows the revert.
        """
        pdir = self._page_dir(page)
        _refuse_symlink(pdir)
        if not doc.bodies:
            raise StoreError(f"cannot store a document without a body for page {page!r}")
        unknown = sorted(set(doc.bodies) - set(BODY_FILES))
        if unknown:
            raise StoreError(f"cannot store unknown body format(s) {', '.join(unknown)}")
        digest = content_hash(doc.bodies)
        index = self._page_index(page, pdir)
        latest = index.latest
        for version, snap_id in sorted(index.by_hash.get(digest, ()), key=_hash_row_order):
            if snap_id == latest or doc.meta.version is None or version == doc.meta.version:
                return self._cached_snapshot(page, pdir / snap_id)[1], False

        now = _now()
        if doc.meta.when:
            try:
                when_dt = _parse_when(doc.meta.when)
            except ValueError:
                raise StoreError(
                    f"cannot store page {page!r}: bad version date {doc.meta.when!r}"
                ) from None
        else:
            when_dt = now
        snap_id = f"{when_dt:%Y%m%dT%H%M%SZ}-v{doc.meta.version or 0}-{digest[:12]}"
        final = pdir / snap_id
        meta: dict[str, Any] = {
            "schema": SCHEMA_SNAPSHOT,
            "hash": digest,
            "page": page,
            "formats": sorted(doc.bodies),
            "stored_at": _utc_iso(now),
            "parser": __version__,
            "source": doc.meta.to_json(),
        }

        tmp: Path | None = None
        try:
            pdir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR if private else 0o777)
            if private and not _is_private(pdir):
                os.chmod(pdir, PRIVATE_DIR)
            private = _is_private(pdir)
            dmode, fmode = (PRIVATE_DIR, PRIVATE_FILE) if private else (0o777, 0o666)
            tmp = pdir / f"{TMP_PREFIX}{secrets.token_hex(8)}"
            tmp.mkdir(mode=dmode)
            for fmt in sorted(doc.bodies):
                _write_file(tmp / BODY_FILES[fmt], doc.bodies[fmt].encode("utf-8"), fmode)
            point("store:bodies-written")
            _write_file(tmp / "roadmap.json", _roadmap_bytes(roadmap), fmode)
            meta_bytes = jsondoc.dumps(meta) + "\n"
            _write_file(tmp / "meta.json", meta_bytes.encode("utf-8"), fmode)
            _fsync_dir(tmp)
            point("store:tmp-complete")
            if final.exists():
                raise StoreError(f"snapshot {final} already exists; refusing to overwrite it")
            os.rename(tmp, final)
            tmp = None
            point("store:renamed")
            _fsync_dir(pdir)
        except OSError as exc:
            raise StoreError(
                f"cannot write snapshot of {page!r} to {pdir}: {_os_message(exc)}"
            ) from exc
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        snap = self._load_snapshot(page, final)
        index.add(_parse_when(snap.when), snap)
        index.signature = _dir_signature(pdir)
        return snap, True

    @staticmethod
    def _clean_tmp(pdir: Path) -> None:
        """Remove what a killed put left behind (callers serialise writers with lock())."""
        for entry in os.scandir(pdir):
            if entry.name.startswith(TMP_PREFIX):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    # ------------------------------------------------------------------ resolving

    def resolve(self, ref: str) -> Snapshot:
        """Turn a reference (see module docstring) into one snapshot, or say why not."""
        name, sep, spec = ref.partition("@")
        if not _NAME_RE.fullmatch(name) or (sep and not spec.strip()):
            raise StoreError(f"malformed snapshot reference {ref!r} (expected {_REF_FORMS})")
        spec = spec.strip() if sep else "latest"
        snaps = self.snapshots(name)
        if not snaps:
            if not self._page_dir(name).is_dir():
                known = ", ".join(self.pages()) or "none"
                raise StoreError(
                    f"unknown page {name!r} in store {self.root} (known pages: {known})"
                )
            raise StoreError(f"page {name!r} has no snapshots in store {self.root}")

        m = _LATEST_RE.fullmatch(spec)
        if m:
            back = int(m.group(1) or 0)
            if back >= len(snaps):
                raise StoreError(
                    f"no such version {ref!r}: {name!r} has only {len(snaps)} snapshot(s)"
                )
            return snaps[-1 - back]

        m = _VERSION_RE.fullmatch(spec)
        if m:
            number = int(m.group(1))
            hits = [s for s in snaps if s.version == number]
            if not hits:
                have = sorted({s.version for s in snaps if s.version is not None})
                listed = ", ".join(f"v{v}" for v in have) or "no numbered versions"
                raise StoreError(f"no such version {ref!r} (stored: {listed})")
            return hits[-1]

        for s in snaps:
            if s.id == spec:
                return s
        if _ID_RE.fullmatch(spec):
            raise StoreError(f"no such version {ref!r}: no snapshot with that id")

        if _DATE_RE.match(spec):
            return self._resolve_when(ref, spec, snaps)

        if _HEX_RE.fullmatch(spec):
            prefix = spec.lower()
            hits = [s for s in snaps if s.hash.startswith(prefix)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                ids = ", ".join(s.id for s in hits)
                raise StoreError(f"ambiguous snapshot reference {ref!r}: matches {ids}")
            raise StoreError(f"no such version {ref!r}: no snapshot id or hash matches")

        raise StoreError(f"malformed snapshot reference {ref!r} (expected {_REF_FORMS})")

    def _resolve_when(self, ref: str, spec: str, snaps: list[Snapshot]) -> Snapshot:
        try:
            if _DATE_RE.fullmatch(spec):
                day = datetime.strptime(spec, "%Y-%m-%d").replace(tzinfo=UTC)
                try:
                    limit = day + timedelta(days=1) - timedelta(microseconds=1)
                except OverflowError:  # 9999-12-31: the end of time
                    limit = datetime.max.replace(tzinfo=UTC)
            else:
                limit = _parse_when(spec)
        except OverflowError:
            raise StoreError(
                f"malformed snapshot reference {ref!r}: {spec!r} is out of range"
            ) from None
        except ValueError:
            raise StoreError(
                f"malformed snapshot reference {ref!r}: {spec!r} is not a valid date"
            ) from None
        found: Snapshot | None = None
        for s in snaps:
            if _parse_when(s.when) <= limit:
                found = s
        if found is None:
            raise StoreError(
                f"no version of {snaps[0].page!r} at {spec}: the first snapshot is from "
                f"{snaps[0].when}"
            )
        return found

    # ------------------------------------------------------------------ reading

    def document(self, snap: Snapshot) -> Document:
        """The raw bodies of a snapshot, with the metadata the source gave."""
        bodies: dict[str, str] = {}
        for fmt in snap.formats:
            path = snap.path / BODY_FILES[fmt]
            try:
                bodies[fmt] = path.read_bytes().decode("utf-8")
            except FileNotFoundError:
                raise StoreError(f"corrupt snapshot {snap.path}: {path.name} is missing") from None
            except UnicodeDecodeError as exc:
                raise StoreError(f"corrupt snapshot body {path}: {exc}") from None
            except OSError as exc:
                raise StoreError(f"cannot read {path}: {_os_message(exc)}") from exc
        return Document(bodies=bodies, meta=snap.meta)

    def roadmap(self, snap: Snapshot, reuse: ItemReuse | None = None) -> Roadmap:
        """The roadmap derived when the snapshot was stored (or last reparsed); ``reuse``
        shares unchanged cards with the roadmap read before it (see ``roadmaps``)."""
        path = snap.path / "roadmap.json"
        try:
            data = path.read_bytes()
            if reuse is not None:
                return reuse.read(data)
            d = jsondoc.loads(data)
            if not isinstance(d, dict):
                raise ValueError("not a JSON object")
            return _checked(Roadmap.from_json(d))
        except FileNotFoundError:
            raise StoreError(f"corrupt snapshot {snap.path}: roadmap.json is missing") from None
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise StoreError(
                f"corrupt roadmap {path}: {exc} (run reparse to rebuild it from the raw body)"
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {_os_message(exc)}") from exc

    def roadmaps(self, snaps: Iterable[Snapshot]) -> Iterator[Roadmap]:
        """The roadmaps of ``snaps`` in turn, for reading a long history: a card whose stored
        JSON equals its JSON in the roadmap just before is the very same ``Item`` object, so
        only what changed is built and checked (and ``a is b`` tells an unchanged card)."""
        reuse = ItemReuse()
        for snap in snaps:
            yield self.roadmap(snap, reuse)

    def read_now(self, snap: Snapshot, parse: Callable[[Document], Roadmap]) -> Roadmap:
        """``snap``'s roadmap as ``parse`` reads its body now, to compare it with a page read
        now (roadmap.json may be an older parser's reading); roadmap.json when the body no
        longer parses."""
        try:
            return parse(self.document(snap))
        except ParseError:
            return self.roadmap(snap)

    def reparse(self, page: str, parse: Callable[[Document], Roadmap]) -> int:
        """Re-derive every roadmap.json of a page from its raw bodies; returns how many changed."""
        return sum(self.rederive(snap, parse(self.document(snap))) for snap in self.snapshots(page))

    def rederive(self, snap: Snapshot, roadmap: Roadmap) -> bool:
        """Make ``roadmap`` (parsed again from ``snap``'s body) its roadmap.json; True when the
        stored one differed and was replaced (atomically), False when it already held it."""
        data = _roadmap_bytes(roadmap)
        path = snap.path / "roadmap.json"
        _refuse_symlink(snap.path.parent)
        _refuse_symlink(snap.path)
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = b""
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {_os_message(exc)}") from exc
        if old == data:
            return False
        try:
            _replace_file(path, data)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {_os_message(exc)}") from exc
        return True

    # ------------------------------------------------------------------ lock, changelog

    @contextlib.contextmanager
    def lock(self, wait: float = 0) -> Iterator[None]:
        """Hold an exclusive lock on the store; waits up to ``wait`` seconds, then fails.

        flock locks belong to the open file, so the kernel releases them when the process
        dies; they are not re-entrant (a second lock() in the same process fails too).
        """
        path = self.root / LOCK_NAME
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # O_NOFOLLOW: a planted (even dangling) symlink never makes us create its target.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StoreError(
                    f"refusing to open the lock file {path}: it is a symlink"
                ) from None
            raise StoreError(f"cannot open lock file {path}: {_os_message(exc)}") from exc
        try:
            deadline = time.monotonic() + max(wait, 0)
            busy = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(f"another wikisync run holds the lock on {path}") from None
                    if not busy:
                        busy = True
                        point("lock:busy")
                    time.sleep(min(0.05, max(deadline - time.monotonic(), 0.001)))
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def append_changelog(self, page: str, text: str) -> None:
        """Add a Change History entry at the top of the page's CHANGELOG.md."""
        entry = text.strip()
        if not entry:
            return
        pdir = self._page_dir(page)
        path = pdir / CHANGELOG_NAME
        title = f"# Change History — {page}"
        _refuse_symlink(pdir)
        _refuse_symlink(path)  # its target's content would be copied into the new file
        try:
            old = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            old = ""
        except UnicodeDecodeError as exc:
            raise StoreError(f"cannot read {path}: not UTF-8 ({exc})") from None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {_os_message(exc)}") from exc
        rest = old.lstrip("\ufeff")
        if rest.startswith(title):
            rest = rest[len(title) :]
        rest = rest.strip()
        parts = [title, entry] + ([rest] if rest else [])
        try:
            pdir.mkdir(parents=True, exist_ok=True)
            _replace_file(path, ("\n\n".join(parts) + "\n").encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {_os_message(exc)}") from exc
