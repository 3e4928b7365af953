"""Watch every roadmap a CQL query finds: discovery, with what was found kept in the store.

Each ``[[watch]]`` runs its query on every sync; every page found is synced as a page of its
own, named ``WATCH-PAGEID`` (a title can change, an id does not). What was found is kept in
``STORE/.wikisync-watch/WATCH.json``, so ``wikisync pages`` lists discovered pages without a
request, and so a page that leaves the result set is reported once, not on every run: it is
either deleted (the wiki answers 404) or no longer matches (it lost its label, moved space…).
Its snapshots stay either way. A search that fails is one error line for that watch; the pages
it found before are still synced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wikisync.config import Config, PageConfig, WatchConfig
from wikisync.errors import StoreError, WikisyncError
from wikisync.store import Store

__all__ = ["STATE_DIR", "Discovery", "discover", "known_pages"]

STATE_DIR = ".wikisync-watch"
SCHEMA = "wikisync.watch/1"

Search = Callable[[WatchConfig], Iterable[tuple[str, str]]]  # → (page id, title)
Exists = Callable[[WatchConfig, str], bool]  # is page id still on the wiki?


@dataclass
class Discovery:
    """The pages to sync, and what to tell the person running it."""

    pages: list[PageConfig] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class _State:
    pages: dict[str, str] = field(default_factory=dict)  # id → latest title seen
    gone: dict[str, str] = field(default_factory=dict)  # id → "deleted" | "unmatched"


def _path(store: Store, watch: WatchConfig) -> Any:
    return store.root / STATE_DIR / f"{watch.name}.json"


def _load(store: Store, watch: WatchConfig) -> _State:
    path = _path(store, watch)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return _State()
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise StoreError(f"{path} is not a wikisync watch state ({SCHEMA})")
    pages = data.get("pages")
    gone = data.get("gone")
    pages = pages if isinstance(pages, dict) else {}
    gone = gone if isinstance(gone, dict) else {}
    return _State(
        {str(k): str(v) for k, v in pages.items() if str(k).isdigit()},
        {str(k): str(v) for k, v in gone.items() if str(k).isdigit()},
    )


def _save(store: Store, watch: WatchConfig, state: _State) -> None:
    from wikisync.store import replace_file

    path = _path(store, watch)
    data = {"schema": SCHEMA, "watch": watch.name, "pages": state.pages, "gone": state.gone}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from None
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    replace_file(path, text.encode())  # refuses a symlink in its place


def known_pages(store: Store, config: Config) -> list[PageConfig]:
    """Discovered pages that still match, from the store alone (no request)."""
    out: list[PageConfig] = []
    for watch in config.watches:
        state = _load(store, watch)
        still = [pid for pid in sorted(state.pages, key=int) if pid not in state.gone]
        out += [watch.page(pid) for pid in still]
    return out


def titles(store: Store, config: Config) -> dict[str, str]:
    """Page name → the title the search last reported, for every discovered page."""
    out: dict[str, str] = {}
    for watch in config.watches:
        for pid, title in _load(store, watch).pages.items():
            out[watch.page(pid).name] = title
    return out


def discover(store: Store, config: Config, search: Search, exists: Exists) -> Discovery:
    """Run each watch's query; update what the store knows; return the pages to sync."""
    result = Discovery()
    for watch in config.watches:
        state = _load(store, watch)
        try:
            found = dict(search(watch))
        except WikisyncError as exc:
            result.errors.append(f"watch {watch.name}: {exc}")
            result.pages += [
                watch.page(p) for p in sorted(state.pages, key=int) if p not in state.gone
            ]
            continue
        for pid in sorted(set(state.pages) - set(found) - set(state.gone), key=int):
            title = state.pages[pid]
            try:
                alive = exists(watch, pid)
            except WikisyncError:
                alive = True  # cannot tell now: say "no longer matches", never "deleted"
            state.gone[pid] = "unmatched" if alive else "deleted"
            what = "no longer matches the query" if alive else "was deleted"
            result.notes.append(
                f"{watch.page(pid).name}: page {pid} “{title}” {what}; no longer synced, "
                "its snapshots stay"
            )
        for pid in sorted(found, key=int):
            if state.gone.pop(pid, None) is not None:
                result.notes.append(f"{watch.page(pid).name}: page {pid} matches again")
            state.pages[pid] = found[pid]
            cfg = watch.page(pid)
            if cfg.name in config.pages:
                result.errors.append(
                    f"watch {watch.name}: page {pid} would be named {cfg.name!r}, which a "
                    "[[page]] already uses; rename one of them"
                )
                continue
            result.pages.append(cfg)
        _save(store, watch, state)
    return result


def run_discovery(store: Store, config: Config) -> Discovery:
    """``discover`` against the wikis themselves: a CQL search per watch, a 404 check per
    page that left its results."""
    from wikisync.errors import WikiHTTPError
    from wikisync.sync import client_for

    def search(watch: WatchConfig) -> list[tuple[str, str]]:
        with client_for(watch.template) as client:
            return list(client.search(watch.cql))  # type: ignore[attr-defined]

    def exists(watch: WatchConfig, page_id: str) -> bool:
        with client_for(watch.template) as client:
            try:
                client.current_version(page_id)
            except WikiHTTPError as exc:
                if exc.status == 404:
                    return False
                raise
        return True

    return discover(store, config, search, exists)


def pages_to_sync(
    store: Store,
    config: Config,
    names: Iterable[str] = (),
    *,
    resolve: Callable[[str], PageConfig] | None = None,
) -> Discovery:
    """The pages a sync covers: ``names`` (configured or discovered before), else every
    configured page with a base_url and every page the watches find now. ``resolve`` turns a
    configured name into its page (the CLI's, which suggests a name for a typo)."""
    from wikisync.sync import live_page, live_pages

    names = list(dict.fromkeys(names))
    resolve = resolve or (lambda name: live_page(config, name))
    if names:
        known = {c.name: c for c in known_pages(store, config)} if config.watches else {}
        return Discovery(
            pages=[known[n] if n in known and n not in config.pages else resolve(n) for n in names]
        )
    if not config.watches:
        return Discovery(pages=live_pages(config))
    found = run_discovery(store, config)
    found.pages = [p for p in config.pages.values() if p.base_url] + found.pages
    return found
