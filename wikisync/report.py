"""A static report site for one page's whole stored history, regenerated in place.

``build_site`` turns the store into file names and bytes (deterministic: same store, same bytes);
``write_site`` puts them in a directory, rewriting only files whose bytes changed and removing
only files an earlier run wrote (listed in ``.wikisync-report``), so a cron job can follow it
with an rsync or a git push. Pages, all relative links, nothing loaded from the network:

- ``index.html``: the current grid with the latest change marked, every stored version;
- ``diff-vA-vB.html``: one page per consecutive pair of versions that changed the roadmap;
- ``history.html``: the generated Change History, newest first.

Other reports (the slippage chart, per-card history pages) plug in through ``Extras``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from wikisync.diff import changesets, diff_roadmaps
from wikisync.errors import WikisyncError
from wikisync.model import CATEGORIES, ChangeSet, Item, Roadmap
from wikisync.render.html import (
    CardHref,
    DiffPage,
    HtmlSection,
    Link,
    Side,
    diff_context,
    render_page,
    safe_url,
)
from wikisync.render.text import RenderOptions, build_entry, lane_header
from wikisync.store import Snapshot, Store

MANIFEST = ".wikisync-report"
INDEX = "index.html"
HISTORY = "history.html"


@dataclass(frozen=True)
class Extras:
    """What another report adds to the site: sections on index.html (trusted HTML such as an
    SVG chart), more files (site-relative names), and a link from each card to its history."""

    sections: tuple[HtmlSection, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)
    card_href: CardHref | None = None


#: Called once per build with the store and the page: the hook for the slippage report.
ExtrasHook = Callable[[Store, str], Extras]


@dataclass(frozen=True)
class Step:
    """One consecutive pair of stored versions and what changed between them."""

    old: Snapshot
    new: Snapshot
    cs: ChangeSet

    @property
    def file(self) -> str:
        return f"diff-{label(self.old)}-{label(self.new)}.html"


@dataclass(frozen=True)
class SiteResult:
    """What ``write_site`` did, by file name."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    def summary(self, out: Path) -> str:
        return (
            f"{out}: {len(self.written)} written, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed"
        )


def label(snap: Snapshot) -> str:
    """A version's short name: ``v6``, else its snapshot id."""
    return f"v{snap.version}" if snap.version is not None else snap.id


def steps(store: Store, page: str) -> tuple[list[Snapshot], list[Roadmap], list[Step]]:
    """Every stored version of ``page`` (store order), its roadmap, and each consecutive diff."""
    snaps = store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {store.root}")
    roadmaps = list(store.roadmaps(snaps))  # unchanged cards shared, not built again
    return snaps, roadmaps, [Step(a, b, cs) for a, b, cs in changesets(snaps, roadmaps)]


def _counts(cs: ChangeSet) -> list[int]:
    per = Counter(c.category for c in cs.changes)
    return [per.get(cat, 0) for cat in CATEGORIES]


_CLOUD_PAGE = re.compile(r"^(https?://[^/?#]+(?:/[^/?#]+)?)/spaces/[^/?#]+/pages/(\d+)(?:[/?#]|$)")
_PAGE_ID = re.compile(r"^(https?://[^?#]+/pages/viewpage\.action\?(?:[^#]*&)?pageId=\d+)")


def version_url(url: str | None, version: int | None) -> str | None:
    """The wiki's own view of one version (Confluence ``viewpage.action?pageId=…&pageVersion=N``)
    when the page URL says the page id; None when it does not (or is not http(s))."""
    url = safe_url(url)
    if url is None or version is None:
        return None
    m = _CLOUD_PAGE.match(url)
    if m:
        return f"{m.group(1)}/pages/viewpage.action?pageId={m.group(2)}&pageVersion={version}"
    m = _PAGE_ID.match(url)
    if m:
        return f"{m.group(1)}&pageVersion={version}"
    return None


def _wiki(snap: Snapshot) -> Link | None:
    """A link to this version on the wiki, else to the page itself, else nothing."""
    url = version_url(snap.url, snap.version)
    if url is not None:
        return Link(url, f"{label(snap)} on the wiki")
    page = safe_url(snap.url)
    return Link(page, "the page on the wiki") if page else None


def _nav(changed: list[Step], k: int) -> tuple[Link, ...]:
    """Links of the k-th change's page: home, history, the previous and the next change."""
    nav = [Link(INDEX, "Report home"), Link(HISTORY, "Change History")]
    if k > 0:
        prev = changed[k - 1]
        nav.append(Link(prev.file, f"← previous change ({label(prev.new)})", "prev"))
    if k + 1 < len(changed):
        nxt = changed[k + 1]
        nav.append(Link(nxt.file, f"next change ({label(nxt.new)}) →", "next"))
    return tuple(nav)


def _index_changes(snap: Snapshot, rm: Roadmap, changed: list[Step]) -> ChangeSet:
    """The current grid against the version before the latest change (later versions that did
    not change the roadmap leave the same grid); no changes when nothing ever changed."""
    if not changed:
        ref = snap.version_ref()
        return ChangeSet(ref, ref, [], snap.when[:10], rm, rm)
    last = changed[-1].cs
    old_rm = last.old_roadmap or Roadmap()
    return ChangeSet(
        old=last.old,
        new=snap.version_ref(),
        changes=diff_roadmaps(old_rm, rm),
        date=snap.when[:10],
        old_roadmap=old_rm,
        new_roadmap=rm,
    )


def _versions(snaps: list[Snapshot], roadmaps: list[Roadmap], all_steps: list[Step]) -> list[Any]:
    """Rows of the versions table, newest first."""
    by_new = {s.new.id: s for s in all_steps}
    rows: list[dict[str, Any]] = []
    for snap, rm in zip(reversed(snaps), reversed(roadmaps), strict=True):
        step = by_new.get(snap.id)
        rows.append(
            {
                "side": Side.of(snap.version_ref()),
                "message": snap.meta.message,
                "counts": _counts(step.cs) if step is not None else None,
                "file": step.file if step is not None and step.cs.changes else None,
                "cards": len(rm.items),
            }
        )
    return rows


def build_site(
    store: Store,
    page: str,
    options: RenderOptions | None = None,
    *,
    extras: ExtrasHook | None = None,
) -> dict[str, bytes]:
    """Every file of the site, by relative name. Deterministic: no clock, no randomness."""
    opts = options or RenderOptions()
    snaps, roadmaps, all_steps = steps(store, page)
    more = extras(store, page) if extras is not None else Extras()
    changed = [s for s in all_steps if s.cs.changes]
    title = roadmaps[-1].title or page
    files: dict[str, bytes] = {}
    for k, step in enumerate(changed):
        diff_page = DiffPage(
            title=title, nav=_nav(changed, k), wiki=_wiki(step.new), card_href=more.card_href
        )
        ctx = diff_context(step.cs, opts, diff_page)
        files[step.file] = render_page("html/diff.html.j2", **ctx).encode()

    hist = Link(HISTORY, "Change History")
    nav: tuple[Link, ...] = (hist,)
    if changed:
        last = changed[-1]
        nav = (hist, Link(last.file, f"latest change ({label(last.old)} → {label(last.new)})"))
    index_page = DiffPage(
        title=title,
        nav=nav,
        wiki=_wiki(snaps[-1]),
        sections=more.sections,
        card_href=more.card_href,
    )
    ctx = diff_context(_index_changes(snaps[-1], roadmaps[-1], changed), opts, index_page)
    ctx.update(
        versions=_versions(snaps, roadmaps, all_steps),
        categories=CATEGORIES,
        latest=changed[-1] if changed else None,
    )
    files[INDEX] = render_page("html/index.html.j2", **ctx).encode()

    entries = [
        {
            "step": s,
            "entry": build_entry(s.cs, opts),
            "old": Side.of(s.cs.old),
            "new": Side.of(s.cs.new),
        }
        for s in reversed(changed)
    ]
    files[HISTORY] = render_page(
        "html/history.html.j2",
        title=title,
        entries=entries,
        nav=(Link(INDEX, "Report home"),),
        wiki=None,
    ).encode()
    for name, data in sorted(more.files.items()):
        files[_site_name(name)] = data
    return files


def _site_name(name: str) -> str:
    """A relative name inside the site, or an error: extras never write outside it."""
    p = PurePosixPath(name)
    if not name or p.is_absolute() or ".." in p.parts or name.startswith(".") or "\\" in name:
        raise WikisyncError(f"report: refusing file name {name!r} outside the site")
    return str(p)


# --------------------------------------------------------------------------- writing


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (a reader never sees half a page)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise WikisyncError(f"{path}: directory {str(parent)!r} does not exist")
    _replace(path, text.encode())


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)  # replaces a symlink itself, never what it points to
    finally:
        tmp.unlink(missing_ok=True)


def _manifest(out: Path) -> set[str] | None:
    path = out / MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    names = set()
    for line in lines:
        try:
            names.add(_site_name(line.strip()))
        except WikisyncError:
            continue  # a hand-edited manifest never makes us delete outside the site
    return names


def write_site(out: Path, files: Mapping[str, bytes]) -> SiteResult:
    """Put ``files`` under ``out``: rewrite only changed files, remove only our stale ones.

    A directory that is not empty and was not written by a report is refused: the report never
    overwrites files it did not write.
    """
    if out.exists() and not out.is_dir():
        raise WikisyncError(f"--out {out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    before = _manifest(out)
    if before is None and any(out.iterdir()):
        raise WikisyncError(
            f"--out {out}: directory is not empty and holds no wikisync report; "
            "choose a new or empty directory"
        )
    written: list[str] = []
    unchanged: list[str] = []
    for name in sorted(files):
        path = out / _site_name(name)
        data = files[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_symlink() and path.is_file() and path.read_bytes() == data:
            unchanged.append(name)
            continue
        _replace(path, data)
        written.append(name)
    removed = sorted((before or set()) - set(files))
    for name in removed:
        target = out / name
        if target.is_file() or target.is_symlink():
            target.unlink()
    manifest = "".join(f"{n}\n" for n in sorted(files)).encode()
    mpath = out / MANIFEST
    if not mpath.is_file() or mpath.read_bytes() != manifest:
        _replace(mpath, manifest)
    return SiteResult(tuple(written), tuple(unchanged), tuple(removed))


def write_report(
    store: Store,
    page: str,
    out: Path,
    options: RenderOptions | None = None,
    *,
    extras: ExtrasHook | None = None,
) -> SiteResult:
    """Build the site of ``page`` and write it under ``out`` (see ``write_site``)."""
    return write_site(out, build_site(store, page, options, extras=extras))


CARDS = "cards.html"


def slippage_extras(store: Store, page: str) -> Extras:
    """What the slippage report adds to the site: the chart on index.html, ``cards.html`` with
    every card's history (one anchor a card, ``Lineage.slug``), and a link from each card of
    every grid to its history. The ``ExtrasHook`` ``wikisync report`` passes."""
    from wikisync.chart import render_svg
    from wikisync.lineage import Version, build_lineages
    from wikisync.stats import compute_stats

    snaps = store.snapshots(page)
    lineages = build_lineages(
        Version.of(s, r) for s, r in zip(snaps, store.roadmaps(snaps), strict=True)
    )
    stats = compute_stats(lineages, page)
    slugs = {lin.number: lin.slug for lin in lineages.lineages}

    def card_href(item: Item) -> str | None:
        number = lineages.ids.get(item.id)
        return f"{CARDS}#{slugs[number]}" if number is not None else None

    chart = render_svg(stats, link=lambda card_id: f"{CARDS}#{card_id}")
    roadmap = store.roadmap(snaps[-1]) if snaps else None
    title = (roadmap.title if roadmap is not None else None) or page
    cards = [
        {
            "id": c.id,
            "title": c.title,
            "renamed_from": c.renamed_from,
            "deferrals": c.deferrals,
            "moved_up": c.moved_up,
            "periods_slipped": c.periods_slipped,
            "period": c.short or c.period,
            "removed": c.removed,
            "history": [s.to_json() for s in c.lineage.steps],
        }
        for c in stats.cards
    ]
    page_html = render_page(
        "html/cards.html.j2",
        title=title,
        cards=cards,
        nav=(Link(INDEX, "Report home"),),
        lane=lane_header(roadmap),
    )
    deferred = len(stats.deferred)
    return Extras(
        sections=(
            HtmlSection(
                title=f"Slippage: {deferred} of {len(stats.cards)} cards deferred at least once, "
                f"{stats.periods_slipped} periods slipped in all",
                html=chart,
                id="slippage",
            ),
        ),
        files={CARDS: page_html.encode()},
        card_href=card_href,
    )
