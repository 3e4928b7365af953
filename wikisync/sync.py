"""Live pages: fetch them, keep the store in step with them (sync), fill in their past (backfill).

Why one module: every network read of a configured page goes through ``client_for``, so auth,
timeouts and retries are decided in one place; sync and backfill share the bookkeeping of which
version numbers the store already holds and the CHANGELOG markers that make a killed run
repairable.

Crash consistency. A snapshot appears atomically (``Store.put``); the CHANGELOG is rewritten
atomically (``Store.append_changelog``). What ties them together is a marker in every entry
sync appends, ``<!-- wikisync: OLDID..NEWID -->`` (the pair of snapshots the entry covers;
written even when the roadmap did not change), and ``<!-- wikisync: start ID -->`` where the
CHANGELOG starts (the latest snapshot when sync first saw the page). Before and after storing a
new version, ``catch_up_changelog`` appends the entries missing for consecutive stored pairs
after the newest marked snapshot, so a run killed between ``put`` and the append is repaired by
the next run, and nothing is appended twice.

Identical bodies. A version whose bodies equal the latest snapshot's (a title-only edit) gets
no snapshot of its own. Its number is recorded in ``NAME/.wikisync-versions.json`` so sync
does not download it again on every run. (A restore of an older content is a new snapshot.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wikisync import __version__
from wikisync._faults import point
from wikisync.config import Config, PageConfig
from wikisync.diff import diff_roadmaps
from wikisync.errors import ConfigError, FetchError, ParseError, StoreError, WikisyncError
from wikisync.feed import write_feed
from wikisync.http import MAX_URL_BYTES, get_url
from wikisync.logsetup import logger
from wikisync.model import ChangeSet, Document, Roadmap, VersionRef
from wikisync.notify import Message, Outbox, Target, apprise_send
from wikisync.parse import parse_document
from wikisync.publish import PublishResult, publish
from wikisync.render import RenderOptions, render_changes
from wikisync.store import (
    CHANGELOG_NAME,
    Snapshot,
    Store,
    replace_file,
    validate_page_name,
)
from wikisync.wikis import Wiki, diff_url, open_wiki, response_cap
from wikisync.wikis.confluence import BadServerValue

__all__ = [
    "BackfillResult",
    "Entry",
    "SyncResult",
    "backfill",
    "catch_up_changelog",
    "client_for",
    "deliver_notifications",
    "fetch_document",
    "http_get",
    "known_versions",
    "live_changeset",
    "live_page",
    "live_pages",
    "publish_page",
    "response_cap",
    "store_lock",
    "sync_page",
    "sync_pages",
]

log = logger("wikisync.sync")  # applies the CLI's pending logging set-up

USER_AGENT = f"wikisync/{__version__} (+python-requests)"
VERSIONS_NAME = ".wikisync-versions.json"
SCHEMA_VERSIONS = "wikisync.versions/1"

_ID = r"\d{8}T\d{6}Z-v\d+-[0-9a-f]{12}"
_DIGITS = re.compile(r"[0-9]{1,10}")
#: A marker is a whole line of its own; entries are Markdown-escaped (``<`` → ``\\<``), so page
#: text can never write one.
MARKER_RE = re.compile(
    rf"^<!-- wikisync: (?:(?P<old>{_ID})\.\.(?P<new>{_ID})|start (?P<start>{_ID})) -->$",
    re.MULTILINE,
)


# --------------------------------------------------------------------------- pages and clients


def live_pages(config: Config, names: tuple[str, ...] | list[str] = ()) -> list[PageConfig]:
    """The pages to sync: the named ones (each must have a base_url), else every fetchable one."""
    if names:
        return [live_page(config, name) for name in dict.fromkeys(names)]
    found = [p for p in config.pages.values() if p.base_url]
    if not found:
        where = f" in {config.path}" if config.path else " (no config file found)"
        raise ConfigError(f"no configured page has a base_url{where}: nothing to fetch")
    return found


def live_page(config: Config, name: str | None) -> PageConfig:
    """One fetchable page: the named one, else the only configured page with a base_url."""
    if name is not None:
        cfg = config.page(name)
        if not cfg.base_url:
            raise ConfigError(
                f"page {name!r} has no base_url, so it cannot be fetched (it is read from "
                "files); set page.base_url and page_id in the config"
            )
        return cfg
    found = live_pages(config)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ConfigError(f"several pages can be fetched ({names}): choose one with --page NAME")
    return found[0]


def client_for(cfg: PageConfig, *, environ: Mapping[str, str] | None = None) -> Wiki:
    """The one place a page's client is built: secrets come from the environment or netrc only."""
    return open_wiki(cfg, environ=environ)


def _page_doc(client: Wiki, cfg: PageConfig, page_id: str | None, version: int | None) -> Document:
    if page_id is not None:
        return client.page(page_id, version=version)
    if cfg.title and (cfg.space or cfg.api == "mediawiki"):
        return client.page(space=cfg.space, title=cfg.title, version=version)
    raise ConfigError(f"page {cfg.name!r}: give page_id, or space and title, to fetch it")


def fetch_document(
    cfg: PageConfig, *, version: int | None = None, client: Wiki | None = None
) -> Document:
    """The configured page (current, or ``version``) with its storage and view bodies."""
    if client is not None:
        return _page_doc(client, cfg, cfg.page_id, version)
    with client_for(cfg) as own:
        return _page_doc(own, cfg, cfg.page_id, version)


# --------------------------------------------------------------------------- plain URLs


def http_get(
    url: str,
    *,
    timeout: tuple[float, float] = (10.0, 60.0),
    max_bytes: int = MAX_URL_BYTES,
) -> bytes:
    """GET a URL source anonymously (see ``wikisync.http.get_url``)."""
    return get_url(url, timeout=timeout, max_bytes=max_bytes, user_agent=USER_AGENT)


# --------------------------------------------------------------------------- store bookkeeping


@contextlib.contextmanager
def store_lock(store: Store, wait: float = 0) -> Iterator[None]:
    """``store.lock`` with a hint on how to wait for the other run."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(store.lock(wait))
        except StoreError as exc:
            if "holds the lock" not in str(exc):
                raise
            hint = f"gave up after waiting {wait:g} s" if wait else "use --wait SECONDS to wait"
            raise StoreError(f"{exc} ({hint})") from None
        yield


def _versions_path(store: Store, page: str) -> Path:
    return store.root / validate_page_name(page) / VERSIONS_NAME


def _read_same(store: Store, page: str) -> dict[int, str]:
    """Version numbers whose bodies equal a stored snapshot's: number -> that snapshot's id."""
    path = _versions_path(store, page)
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, UnicodeDecodeError):
        return {}  # a cache: losing it only costs one more download
    same = data.get("same") if isinstance(data, dict) else None
    if not isinstance(same, dict):
        return {}
    # ASCII digits only: "²".isdigit() is True, yet int("²") fails (a hand-edited file).
    return {int(k): str(v) for k, v in same.items() if _DIGITS.fullmatch(str(k))}


def _record_same(store: Store, page: str, version: int, snap_id: str) -> None:
    same = _read_same(store, page)
    if same.get(version) == snap_id:
        return
    same[version] = snap_id
    path = _versions_path(store, page)
    doc = {"schema": SCHEMA_VERSIONS, "same": {str(k): same[k] for k in sorted(same)}}
    data = (json.dumps(doc, sort_keys=True, indent=2) + "\n").encode("utf-8")
    replace_file(path, data)


def known_versions(store: Store, page: str, snaps: list[Snapshot] | None = None) -> set[int]:
    """Version numbers the store holds: its snapshots' plus those identical to one of them."""
    snaps = store.snapshots(page) if snaps is None else snaps
    ids = {s.id for s in snaps}
    known = {s.version for s in snaps if s.version is not None}
    known.update(n for n, sid in _read_same(store, page).items() if sid in ids)
    return known


def _stored_page_id(snaps: list[Snapshot]) -> str | None:
    for snap in reversed(snaps):
        pid = snap.meta.page
        if pid and pid.isdigit():
            return pid
    return None


def _label(snap: Snapshot) -> str:
    return f"v{snap.version}" if snap.version is not None else snap.id


def render_options(cfg: PageConfig) -> RenderOptions:
    return RenderOptions(period_names=dict(cfg.period_names), template_dir=cfg.template_dir)


# --------------------------------------------------------------------------- the CHANGELOG


@dataclass(frozen=True)
class Entry:
    """One CHANGELOG entry sync wrote: the pair it covers and its text ("" when no changes),
    plain for the terminal and Markdown-escaped for CHANGELOG.md."""

    page: str
    old: Snapshot
    new: Snapshot
    changes: int
    text: str
    markdown: str = ""

    @property
    def header(self) -> str:
        return f"{self.page}: changes from {_label(self.old)} to {_label(self.new)}"


def _changelog_text(store: Store, page: str) -> str:
    path = store.root / validate_page_name(page) / CHANGELOG_NAME
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _entry(
    cfg: PageConfig, old: Snapshot, new: Snapshot, old_rm: Roadmap, new_rm: Roadmap
) -> tuple[Entry, ChangeSet | None]:
    changes = diff_roadmaps(old_rm, new_rm)
    text = markdown = ""
    cs = None
    if changes:
        cs = ChangeSet(
            old=old.version_ref(),
            new=new.version_ref(),
            changes=changes,
            date=new.when[:10],
            old_roadmap=old_rm,
            new_roadmap=new_rm,
        )
        options = render_options(cfg)
        text = render_changes(cs, "text", options).strip()
        # A team's own markdown.j2 might print a title raw: no line of it may open a comment.
        markdown = render_changes(cs, "markdown", options).strip().replace("<!--", "\\<!--")
    return Entry(cfg.name, old, new, len(changes), text, markdown), cs


def _message(cfg: PageConfig, entry: Entry, cs: ChangeSet) -> Message:
    """What a notification says about ``entry``: title, entry, links to the page and the diff."""
    meta = entry.new.meta
    title = meta.title or cfg.name
    links: list[tuple[str, str]] = []
    page_id = meta.page or cfg.page_id
    if page_id and entry.old.version is not None and entry.new.version is not None:
        url = diff_url(cfg, page_id, entry.old.version, entry.new.version)
        if url:
            links.append((f"changes v{entry.old.version} → v{entry.new.version}", url))
    return Message(
        page=cfg.name,
        pair=f"{entry.old.id}..{entry.new.id}",
        title=f"Roadmap changed: {title}",
        date=cs.date,
        text=entry.text + "\n",
        markdown=render_changes(cs, "markdown", render_options(cfg)),
        url=meta.url,
        links=tuple(links),
        report_file=f"diff-{_label(entry.old)}-{_label(entry.new)}.html",  # as report.label
    )


def catch_up_changelog(
    store: Store, cfg: PageConfig, targets: Sequence[Target] = ()
) -> list[Entry]:
    """Append the entries missing since the newest marked snapshot; returns what it appended.

    An entry with changes is queued for each notification target that wants the page before
    it is appended: a run killed in between queues the same message (same file) again.

    With no marker at all (a page first stored by ``snapshot``/``backfill``, or a first sync
    killed before its marker) the CHANGELOG starts at the latest snapshot: older history is
    what ``wikisync history`` regenerates.
    """
    page = cfg.name
    snaps = store.snapshots(page)
    if not snaps:
        return []
    index = {s.id: i for i, s in enumerate(snaps)}
    recorded: set[tuple[str, str]] = set()
    last = -1
    for m in MARKER_RE.finditer(_changelog_text(store, page)):
        new = m.group("new") or m.group("start")
        if m.group("old"):
            recorded.add((m.group("old"), new))
        if new in index:
            last = max(last, index[new])
    if last < 0:
        store.append_changelog(page, f"<!-- wikisync: start {snaps[-1].id} -->")
        return []
    entries: list[Entry] = []
    old_rm: Roadmap | None = None
    for old, new in itertools.pairwise(snaps[last:]):
        new_rm = store.roadmap(new)
        if (old.id, new.id) not in recorded:
            entry, cs = _entry(cfg, old, new, old_rm or store.roadmap(old), new_rm)
            if cs is not None and targets:
                Outbox(store.root).enqueue(_message(cfg, entry, cs), targets)
            marker = f"<!-- wikisync: {old.id}..{new.id} -->"
            body = entry.markdown
            store.append_changelog(page, f"{marker}\n{body}" if body else marker)
            entries.append(entry)
        old_rm = new_rm  # one roadmap carried over: memory stays flat on long catch-ups
    return entries


# --------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    """What one page's sync did; ``note`` is its one-line summary, ``error`` its failure."""

    page: str
    status: str = "error"  # up to date | first | stored | error
    version: int | None = None
    entries: list[Entry] = field(default_factory=list)
    note: str = ""
    error: str | None = None
    rederived: int = 0  # stored roadmaps read again first: the parser or its options changed

    @property
    def changed(self) -> bool:
        return any(e.text for e in self.entries)


def sync_page(
    store: Store,
    cfg: PageConfig,
    *,
    client: Wiki | None = None,
    targets: Sequence[Target] = (),
    guard: AbstractContextManager[Any] | None = None,
) -> SyncResult:
    """Bring one page's snapshots, CHANGELOG, feed and outbox up to date; never raises a
    WikisyncError.

    The caller holds ``store.lock()``. Costs one cheap request when nothing changed. With
    ``guard`` (a lock shared by the threads of ``sync_pages``) only the requests run
    concurrently: every store read and write happens under it.
    """
    result = SyncResult(page=cfg.name)
    own: Wiki | None = None
    guard = guard or contextlib.nullcontext()
    point("sync:start")
    try:
        with guard:
            result.entries += catch_up_changelog(store, cfg, targets)
        if client is None:
            client = own = client_for(cfg)
        _sync(store, cfg, client, result, targets, guard)
        with guard:
            write_feed(store, cfg.name, render_options(cfg), link=_diff_link(cfg))
    except WikisyncError as exc:
        result.status = "error"
        result.error = f"{cfg.name}: {exc}"
    finally:
        if own is not None:
            own.close()
    point("sync:done")
    return result


def _diff_link(cfg: PageConfig) -> Callable[[Snapshot, Snapshot], str | None]:
    def link(old: Snapshot, new: Snapshot) -> str | None:
        page_id = new.meta.page or cfg.page_id
        if not page_id or old.version is None or new.version is None:
            return None
        return diff_url(cfg, page_id, old.version, new.version)

    return link


def _sync(
    store: Store,
    cfg: PageConfig,
    client: Wiki,
    result: SyncResult,
    targets: Sequence[Target],
    guard: AbstractContextManager[Any],
) -> None:
    name = cfg.name
    with guard:
        snaps = store.snapshots(name)
        known = known_versions(store, name, snaps)
    page_id = cfg.page_id or _stored_page_id(snaps)
    if page_id is not None:
        current = client.current_version(page_id)
        point("sync:checked")
        if current in known:
            result.status, result.version = "up to date", current
            result.note = f"{name}: up to date (v{current})"
            return
    doc = _page_doc(client, cfg, page_id, None)
    point("sync:fetched")
    version = doc.meta.version
    result.version = version
    shown = f"v{version}" if version is not None else "the current version"
    if version is not None and version in known:
        result.status, result.note = "up to date", f"{name}: up to date ({shown})"
        return
    try:
        roadmap = parse_document(doc, cfg.parse)
    except ParseError as exc:
        raise ParseError(f"{shown}: {exc}") from None
    point("sync:parsed")
    with guard:
        result.rederived = rederive_stale(store, cfg, snaps)
        _store_new(store, cfg, doc, roadmap, snaps, result, targets)


def rederive_stale(store: Store, cfg: PageConfig, snaps: Sequence[Snapshot]) -> int:
    """Re-derive the page's stored roadmaps when the latest no longer reads as it is stored.

    A roadmap.json is derived from its body: a newer wikisync, or changed parse options, can
    read the same body differently. The version about to be stored is read the new way, so a
    CHANGELOG entry between it and a roadmap read the old way would report the parser's change
    as the page's. One parse of the latest body that parses tells; when it differs, every
    stored roadmap is read again (a body that no longer parses, or cannot be read, keeps its
    roadmap). Returns how many changed.
    """
    rewritten = 0
    probed = False
    for snap in reversed(snaps):
        try:
            roadmap = parse_document(store.document(snap), cfg.parse)
        except ParseError:
            continue
        except StoreError as exc:  # a body gone or unreadable: not this job's to stop on
            log.warning("%s: %s (its stored roadmap is kept)", cfg.name, exc)
            continue
        changed = store.rederive(snap, roadmap)
        if not probed and not changed:
            return 0  # the newest readable body reads as stored: same parser, same options
        probed = True
        rewritten += changed
    if rewritten:
        log.info("%s: re-derived %d stored roadmaps from their bodies", cfg.name, rewritten)
    return rewritten


def _store_new(
    store: Store,
    cfg: PageConfig,
    doc: Document,
    roadmap: Roadmap,
    snaps: list[Snapshot],
    result: SyncResult,
    targets: Sequence[Target],
) -> None:
    name, version = cfg.name, doc.meta.version
    shown = f"v{version}" if version is not None else "the current version"
    snap, created = store.put(name, doc, roadmap, private=cfg.auth != "none")
    if not created:
        if version is not None:
            _record_same(store, name, version, snap.id)
        result.status = "up to date"
        result.note = f"{name}: up to date ({shown}, same content as {_label(snap)})"
        return
    point("sync:stored")
    result.entries += catch_up_changelog(store, cfg, targets)
    if not snaps:
        result.status, result.note = "first", f"{name}: first snapshot {shown} stored"
    else:
        result.status = "stored"
        changed = any(e.new.id == snap.id and e.text for e in result.entries)
        result.note = f"{name}: {shown} stored" + ("" if changed else ", no roadmap changes")
    result.note += _rederived_note(result.rederived)


def _rederived_note(n: int) -> str:
    if not n:
        return ""
    return (
        f" (first re-derived {n} stored roadmap{'s' if n != 1 else ''} from"
        f" {'their bodies' if n != 1 else 'its body'}: the parser or its options changed)"
    )


def sync_pages(
    store: Store,
    cfgs: Sequence[PageConfig],
    *,
    concurrency: int = 4,
    targets: Sequence[Target] = (),
) -> Iterator[SyncResult]:
    """Sync every page, ``concurrency`` at a time; results come in ``cfgs`` order.

    Requests overlap; store reads and writes do not (one lock). A rate limit from a site slows
    every worker that talks to it (the transport's per-site gate), not only the one it hit.
    """
    if concurrency <= 1 or len(cfgs) <= 1:
        for cfg in cfgs:
            yield sync_page(store, cfg, targets=targets)
        return
    guard = threading.Lock()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wikisync-sync") as pool:
        futures = [pool.submit(sync_page, store, c, targets=targets, guard=guard) for c in cfgs]
        for fut in futures:
            yield fut.result()


def deliver_notifications(store: Store, targets: Sequence[Target]) -> str | None:
    """Send what the outbox holds (this run's messages and any left by earlier runs).

    Returns a warning line when some could not be delivered (they stay queued), else None.
    """
    return Outbox(store.root).deliver(targets, apprise_send).summary()


# --------------------------------------------------------------------------- backfill


@dataclass
class BackfillResult:
    """What a backfill stored, found identical, could not read, and skipped."""

    page: str
    stored: list[int] = field(default_factory=list)
    same: list[int] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)
    skipped: int = 0
    rederived: int = 0  # stored roadmaps read again first (see rederive_stale)

    def summary(self) -> str:
        n = len(self.stored)
        noun = "version" if n == 1 else "versions"
        span = f" (v{self.stored[0]}..v{self.stored[-1]})" if self.stored else ""
        text = f"{self.page}: stored {n} new {noun}{span}, skipped {self.skipped} already stored"
        if self.same:
            text += f", {len(self.same)} identical to a stored version"
        if self.unreadable:
            shown = ", ".join(f"v{v}" for v in self.unreadable[:5])
            more = ", …" if len(self.unreadable) > 5 else ""
            text += f", {len(self.unreadable)} without a readable roadmap ({shown}{more})"
        return text + _rederived_note(self.rederived)


Progress = Callable[[int, int], None]  # (done, total)


def backfill(
    store: Store,
    cfg: PageConfig,
    *,
    start: int | None = None,
    end: int | None = None,
    jobs: int = 4,
    progress: Progress | None = None,
    clients: Callable[[], Wiki] | None = None,
) -> BackfillResult:
    """Store every historical version not stored yet, oldest first; the caller holds the lock.

    Fetches run on ``jobs`` threads (one client each, so retries and Retry-After apply per
    request) within a window of ``2 * jobs`` versions ahead of the next one to store, so memory
    stays flat however long the history. Versions are stored in version order as they arrive;
    on an error, what came before it is kept and a rerun carries on. Writes no CHANGELOG
    entries: ``wikisync history`` regenerates the history from the snapshots.
    """
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    make = clients or (lambda: client_for(cfg))
    result = BackfillResult(page=cfg.name)
    made: list[Wiki] = []
    made_lock = threading.Lock()
    local = threading.local()

    def client() -> Wiki:
        c: Wiki | None = getattr(local, "client", None)
        if c is None:
            c = make()
            local.client = c
            with made_lock:
                made.append(c)
        return c

    try:
        snaps = store.snapshots(cfg.name)
        page_id = cfg.page_id or _stored_page_id(snaps)
        if page_id is None:
            page_id = _page_doc(client(), cfg, None, None).meta.page
            if not page_id:
                raise FetchError(f"cannot tell the page id of {cfg.name!r} from the server")
        numbers = sorted(
            {
                v.number
                for v in client().versions(page_id)
                if (start is None or v.number >= start) and (end is None or v.number <= end)
            }
        )
        known = known_versions(store, cfg.name, snaps)
        todo = [n for n in numbers if n not in known]
        result.skipped = len(numbers) - len(todo)
        if todo:  # the versions about to be stored are read the current way: so must these be
            result.rederived = rederive_stale(store, cfg, snaps)
        if progress is not None:
            progress(0, len(todo))

        def fetch(number: int) -> tuple[Document | None, Roadmap | None]:
            try:
                doc = client().page(page_id, version=number)
            except BadServerValue as exc:
                log.warning("%s: v%d skipped: %s", cfg.name, number, exc)
                return None, None  # one bad old version must not stop every later one
            try:
                return doc, parse_document(doc, cfg.parse)
            except ParseError:
                return None, None  # drop the body at once: nothing to store

        _run_window(store, cfg, todo, jobs, fetch, result, progress)
    finally:
        for c in made:
            c.close()
    return result


def _run_window(
    store: Store,
    cfg: PageConfig,
    todo: list[int],
    jobs: int,
    fetch: Callable[[int], tuple[Document | None, Roadmap | None]],
    result: BackfillResult,
    progress: Progress | None,
) -> None:
    window = 2 * jobs
    futures: dict[int, Future[tuple[Document | None, Roadmap | None]]] = {}
    submitted = 0
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="wikisync-backfill") as pool:
        try:
            for i, number in enumerate(todo):
                while submitted < len(todo) and submitted < i + window:
                    futures[submitted] = pool.submit(fetch, todo[submitted])
                    submitted += 1
                try:
                    doc, roadmap = futures.pop(i).result()
                except WikisyncError as exc:
                    done = len(result.stored)
                    raise FetchError(
                        f"{exc} (stored {done} new version{'s' if done != 1 else ''} before "
                        "stopping; run backfill again to carry on)"
                    ) from None
                if doc is None or roadmap is None:
                    result.unreadable.append(number)
                else:
                    snap, created = store.put(cfg.name, doc, roadmap, private=cfg.auth != "none")
                    if created:
                        result.stored.append(number)
                    else:
                        _record_same(store, cfg.name, number, snap.id)
                        result.same.append(number)
                if progress is not None:
                    progress(i + 1, len(todo))
        except BaseException:
            for fut in futures.values():
                fut.cancel()
            raise


# --------------------------------------------------------------------------- publish


@dataclass
class PublishOutcome:
    """A publish of one page: the library's result, and the entry it was built from."""

    result: PublishResult
    changeset: ChangeSet | None


def live_changeset(store: Store, cfg: PageConfig, doc: Document) -> ChangeSet | None:
    """The entry for the live version ``doc``: from the newest stored version older than it.

    Right after an edit (not synced yet) that is the latest snapshot; after ``sync`` stored the
    live version it is the one before. None when nothing older is stored.
    """
    version = doc.meta.version
    older = [
        s
        for s in store.snapshots(cfg.name)
        if version is None or s.version is None or s.version < version
    ]
    if not older:
        return None
    base = older[-1]
    live = parse_document(doc, cfg.parse)
    base_rm = store.read_now(base, lambda d: parse_document(d, cfg.parse))  # as live is read
    when = doc.meta.when
    new_ref = VersionRef(ref=f"{cfg.name}@live", version=version, when=when, author=doc.meta.author)
    return ChangeSet(
        old=base.version_ref(),
        new=new_ref,
        changes=diff_roadmaps(base_rm, live),
        date=when[:10] if when else _today(),
        old_roadmap=base_rm,
        new_roadmap=live,
    )


def publish_page(
    store: Store,
    cfg: PageConfig,
    *,
    dry_run: bool = True,
    create_section: bool = False,
    client: Wiki | None = None,
) -> PublishOutcome:
    """Publish the live version's entry into the page's own Change History (see publish.py)."""
    own: Wiki | None = None
    if client is None:
        client = own = client_for(cfg)
    built: list[ChangeSet | None] = []

    def build(doc: Document) -> ChangeSet | None:
        cs = live_changeset(store, cfg, doc)
        built.append(cs)
        return cs

    try:
        page_id = cfg.page_id or _stored_page_id(store.snapshots(cfg.name))
        if page_id is None:
            page_id = _page_doc(client, cfg, None, None).meta.page
        if not page_id:
            raise ConfigError(f"page {cfg.name!r}: cannot tell its page id; set page_id")
        result = publish(
            client,
            page_id,
            build,
            heading=cfg.history_heading,
            create_section=create_section,
            dry_run=dry_run,
            options=render_options(cfg),
        )
    finally:
        if own is not None:
            own.close()
    return PublishOutcome(result, built[-1] if built else None)


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
