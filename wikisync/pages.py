"""``wikisync pages``: every configured and discovered page, and what the store holds of it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from wikisync.config import Config
from wikisync.safe import safe_text
from wikisync.store import Store

__all__ = ["SCHEMA", "PageRow", "list_pages", "render_pages"]

SCHEMA = "wikisync.pages/1"


@dataclass(frozen=True)
class PageRow:
    """One page: where it comes from and how much of it is stored."""

    name: str
    page_id: str | None
    title: str | None
    versions: int  # stored snapshots
    latest: str | None  # the date of the newest stored version
    source: str  # "config", or "watch NAME"


def list_pages(store: Store, config: Config) -> list[PageRow]:
    """Configured pages in config order, then discovered ones by watch and page id, then pages
    only the store knows (files stored with ``snapshot``)."""
    from wikisync.watch import known_pages, titles

    found = titles(store, config) if config.watches else {}
    rows: list[PageRow] = []
    seen: set[str] = set()
    discovered = known_pages(store, config) if config.watches else []
    sources = [(c, "config") for c in config.pages.values()]
    for cfg in discovered:
        watch = next(w.name for w in config.watches if cfg.name.startswith(f"{w.name}-"))
        sources.append((cfg, f"watch {watch}"))
    for cfg, source in sources:
        seen.add(cfg.name)
        rows.append(_row(store, cfg.name, cfg.page_id, found.get(cfg.name) or cfg.title, source))
    for name in store.pages():
        if name not in seen:
            rows.append(_row(store, name, None, None, "store"))
    return rows


def _row(store: Store, name: str, page_id: str | None, title: str | None, source: str) -> PageRow:
    snaps = store.snapshots(name)
    latest = snaps[-1] if snaps else None
    if latest is not None:
        page_id = page_id or latest.meta.page
        title = latest.meta.title or title
    when = latest.when[:10] if latest is not None and latest.when else None
    return PageRow(name, page_id, title, len(snaps), when, source)


def render_pages(rows: list[PageRow], fmt: str = "table") -> str:
    """An aligned table, or JSON ``wikisync.pages/1``."""
    if fmt == "json":
        doc = {"schema": SCHEMA, "pages": [asdict(r) for r in rows]}
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    head = ("name", "page_id", "title", "versions", "latest", "source")
    body = [
        (r.name, r.page_id or "-", r.title or "-", str(r.versions), r.latest or "-", r.source)
        for r in rows
    ]
    table = [head, *[tuple(safe_text(c) for c in row) for row in body]]  # titles: wiki text
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    return "\n".join(lines) + "\n"
