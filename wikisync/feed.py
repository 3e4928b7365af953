"""An Atom feed per page (``STORE/NAME/feed.atom``): one entry per dated Change History entry.

Built from the stored snapshots (the source of truth), not from CHANGELOG.md: each consecutive
pair of versions whose roadmaps differ is one entry, newest first, at most ``MAX_ENTRIES``. An
entry's id is a UUID derived from the page and the pair of snapshot ids, so the same entry keeps
its id on every rewrite and a feed reader never shows it twice. The XML is written by feedgen;
the feed's ``updated`` is the newest entry's date (never "now"), so the same store gives the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Roadmap
from wikisync.render import RenderOptions, render_changes
from wikisync.store import Snapshot, Store

__all__ = ["FEED_NAME", "MAX_ENTRIES", "FeedEntry", "feed_entries", "render_feed", "write_feed"]

FEED_NAME = "feed.atom"
FEED_MARK = ".wikisync-feed"
MAX_ENTRIES = 50
#: Pairs looked at, newest first, to find MAX_ENTRIES with changes (a bound for long histories).
MAX_PAIRS = 2_000


@dataclass(frozen=True)
class FeedEntry:
    """One dated entry: the pair of snapshots it covers and the entry in both forms."""

    id: str
    date: str
    updated: dt.datetime
    title: str
    text: str
    html: str
    link: str | None


def _when(snap: Snapshot) -> dt.datetime:
    text = snap.when or "1970-01-01T00:00:00Z"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def entry_id(page: str, old: Snapshot, new: Snapshot) -> str:
    """Stable across rewrites: a name-based UUID of the page and the two snapshot ids."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"wikisync:{page}:{old.id}..{new.id}").urn


def feed_entries(
    store: Store,
    page: str,
    options: RenderOptions | None = None,
    *,
    link: Callable[[Snapshot, Snapshot], str | None] = lambda _old, _new: None,
) -> list[FeedEntry]:
    """The newest ``MAX_ENTRIES`` entries with changes, newest first."""
    snaps = store.snapshots(page)[-(MAX_PAIRS + 1) :]
    out: list[FeedEntry] = []
    carried: Roadmap | None = None  # walking backwards, each pair's old side is the next's new

    for old, new in reversed(list(itertools.pairwise(snaps))):
        new_rm = carried if carried is not None else store.roadmap(new)
        old_rm = carried = store.roadmap(old)
        changes = diff_roadmaps(old_rm, new_rm)
        if not changes:
            continue
        date = (new.when or "")[:10] or "undated"
        cs = ChangeSet(old.version_ref(), new.version_ref(), changes, date, old_rm, new_rm)
        n = len(changes)
        out.append(
            FeedEntry(
                id=entry_id(page, old, new),
                date=date,
                updated=_when(new),
                title=f"{page}: {date}, {n} change{'s' if n != 1 else ''}",
                text=render_changes(cs, "text", options),
                html=render_changes(cs, "confluence", options),
                link=link(old, new),
            )
        )
        if len(out) >= MAX_ENTRIES:
            break
    return out


def render_feed(
    page: str, title: str, entries: list[FeedEntry], *, page_url: str | None = None
) -> bytes:
    """Atom 1.0 XML for ``entries`` (newest first), deterministic for the same entries."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(uuid.uuid5(uuid.NAMESPACE_URL, f"wikisync:{page}").urn)
    fg.title(f"Roadmap changes: {title}")
    fg.author({"name": "wikisync"})
    fg.generator("wikisync")
    if page_url:
        fg.link(href=page_url, rel="alternate")
    fg.updated(entries[0].updated if entries else dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    for e in reversed(entries):  # feedgen prepends: add oldest first to list newest first
        fe = fg.add_entry()
        fe.id(e.id)
        fe.title(e.title)
        fe.updated(e.updated)
        fe.summary(e.text)
        fe.content(e.html, type="html")
        if e.link:
            fe.link(href=e.link, rel="alternate")
    return bytes(fg.atom_str(pretty=True))


def write_feed(
    store: Store,
    page: str,
    options: RenderOptions | None = None,
    *,
    link: Callable[[Snapshot, Snapshot], str | None] = lambda _old, _new: None,
    force: bool = False,
) -> bool:
    """Rewrite ``NAME/feed.atom`` unless it already covers the newest snapshot (``force``: in
    any case); True when it was written.

    ``NAME/.wikisync-feed`` records the snapshot the feed was built up to, written after the
    feed: a run that stopped in between leaves it stale, and the next run rewrites the feed.
    """
    from wikisync.store import replace_file

    snaps = store.snapshots(page)
    if not snaps:
        return False
    latest = snaps[-1]
    mark = store.root / page / FEED_MARK
    path = store.root / page / FEED_NAME
    try:
        if not force and path.exists() and mark.read_text(encoding="ascii").strip() == latest.id:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    title = latest.meta.title or page
    data = render_feed(
        page, title, feed_entries(store, page, options, link=link), page_url=latest.meta.url
    )
    try:
        same = path.read_bytes() == data
    except FileNotFoundError:
        same = False
    if not same:
        replace_file(path, data)
    replace_file(mark, f"{latest.id}\n".encode("ascii"))
    return not same
