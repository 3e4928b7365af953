"""Renderers: Change History text in the page's own style, and parsed roadmaps for inspection.

Pure: the only I/O is loading Jinja2 templates (a team's ``template_dir`` first, then the
package's own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wikisync.errors import WikisyncError
from wikisync.model import ChangeSet, Roadmap
from wikisync.render.text import (
    TEMPLATE_FORMATS,
    RenderOptions,
    build_entry,
    newest_first,
    render_entries,
    sentences,
)
from wikisync.safe import safe_text

if TYPE_CHECKING:  # at run time through __getattr__: json and csv load only for their formats
    from wikisync.render.jsonout import SCHEMA_HISTORY
    from wikisync.render.roadmap import ROADMAP_FORMATS

CHANGE_FORMATS: tuple[str, ...] = (*TEMPLATE_FORMATS, "json")

__all__ = [
    "CHANGE_FORMATS",
    "ROADMAP_FORMATS",
    "SCHEMA_HISTORY",
    "RenderOptions",
    "render_changes",
    "render_history",
    "render_roadmap",
    "sentences",
]


def __getattr__(name: str) -> Any:
    """ROADMAP_FORMATS and SCHEMA_HISTORY, imported on first use (a text diff needs neither)."""
    if name == "ROADMAP_FORMATS":
        from wikisync.render.roadmap import ROADMAP_FORMATS

        return ROADMAP_FORMATS
    if name == "SCHEMA_HISTORY":
        from wikisync.render.jsonout import SCHEMA_HISTORY

        return SCHEMA_HISTORY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check(fmt: str, known: tuple[str, ...]) -> None:
    if fmt not in known:
        raise WikisyncError(f"unknown format {fmt!r} (expected one of {', '.join(known)})")


def render_changes(cs: ChangeSet, fmt: str = "text", options: RenderOptions | None = None) -> str:
    """One changeset as a dated Change History entry (``No changes.`` when empty)."""
    _check(fmt, CHANGE_FORMATS)
    opts = options or RenderOptions()
    if fmt == "json":
        from wikisync.render.jsonout import changes_doc, dumps

        return safe_text(dumps(changes_doc(cs, opts)))
    entry = build_entry(cs, opts)
    return safe_text(render_entries([entry] if entry is not None else [], fmt, opts))


def render_history(
    changesets: list[ChangeSet], fmt: str = "text", options: RenderOptions | None = None
) -> str:
    """Several changesets newest first, one dated entry per changeset that has changes."""
    _check(fmt, CHANGE_FORMATS)
    opts = options or RenderOptions()
    kept = [cs for cs in newest_first(changesets) if cs.changes]
    if fmt == "json":
        from wikisync.render.jsonout import dumps, history_doc

        return safe_text(dumps(history_doc(kept, opts)))
    entries = [e for e in (build_entry(cs, opts) for cs in kept) if e is not None]
    return safe_text(render_entries(entries, fmt, opts))


def render_roadmap(roadmap: Roadmap, fmt: str = "table") -> str:
    """A parsed roadmap as an aligned table, JSON (``wikisync.roadmap/1``) or CSV; page text
    is never printed raw (``safe_text``)."""
    from wikisync.render.roadmap import ROADMAP_FORMATS, render_csv, render_json, render_table

    _check(fmt, ROADMAP_FORMATS)
    if fmt == "json":
        return safe_text(render_json(roadmap))
    if fmt == "csv":
        return safe_text(render_csv(roadmap))
    return safe_text(render_table(roadmap))
