"""Wikis behind one small interface: sync, backfill and publish never ask which wiki it is.

Every wiki module offers a client with:

- ``page(page_id=None, *, space=None, title=None, version=None) -> Document``: a version's
  bodies (the current one without ``version``) and its metadata;
- ``current_version(page_id) -> int``: the newest version number, cheaply (cron polls it);
- ``versions(page_id) -> Iterator[VersionInfo]``: the page's history;
- ``update_page(page_id, *, title, body, base, base_when, message, minor_edit) -> int``: save
  ``body`` (in the wiki's ``markup``) over version ``base``; an edit made since ``base`` is a
  ``WikiHTTPError`` with status 409, never a silent overwrite;
- ``markup``: which body of a Document publish edits (``storage`` or ``wikitext``);
- ``close()``.

``open_wiki`` is the one place a page's client is built: secrets come from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from wikisync.errors import ConfigError

if TYPE_CHECKING:
    from wikisync.config import PageConfig
    from wikisync.model import Document
    from wikisync.wikis.confluence import VersionInfo

__all__ = ["Wiki", "diff_url", "open_wiki", "response_cap"]


class Wiki(Protocol):
    """What sync, backfill and publish need from a wiki."""

    markup: str

    def page(
        self,
        page_id: str | int | None = None,
        *,
        space: str | None = None,
        title: str | None = None,
        version: int | None = None,
    ) -> Document: ...

    def current_version(self, page_id: str | int) -> int: ...

    def versions(
        self, page_id: str | int, *, limit: int | None = None
    ) -> Iterator[VersionInfo]: ...

    def update_page(
        self,
        page_id: str | int,
        *,
        title: str,
        body: str,
        base: int,
        base_when: str | None = None,
        message: str = "",
        minor_edit: bool = False,
    ) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Wiki: ...

    def __exit__(self, *exc: object) -> None: ...


def open_wiki(cfg: PageConfig, *, environ: Mapping[str, str] | None = None) -> Wiki:
    """The client for a configured page (Confluence or MediaWiki, by ``cfg.api``)."""
    from wikisync.wikis.confluence import auth_from_env

    if not cfg.base_url:
        raise ConfigError(f"page {cfg.name!r} has no base_url, so it cannot be fetched")
    auth = auth_from_env(
        cfg.auth, cfg.user_env, cfg.token_env, os.environ if environ is None else environ
    )
    timeout = (min(10.0, cfg.timeout), cfg.timeout)
    cap = response_cap(cfg.parse.max_bytes)
    if cfg.api == "mediawiki":
        from wikisync.wikis.mediawiki import MediaWikiClient

        return MediaWikiClient(
            cfg.base_url, auth, timeout=timeout, retries=cfg.retries, max_bytes=cap
        )
    from wikisync.wikis.confluence import ConfluenceClient

    return ConfluenceClient(
        cfg.base_url, auth, api=cfg.api, timeout=timeout, retries=cfg.retries, max_bytes=cap
    )


def response_cap(page_bytes: int) -> int | None:
    """The cap on one answer (decompressed) for a page limit of ``page_bytes``.

    An answer holds the page's bodies (JSON-escaped, so up to ~1.5x each: storage and view, or
    HTML and wikitext) and some metadata: three times the page limit plus 1 MiB. ``max_bytes =
    0`` (no page limit) leaves answers uncapped in size; the time bound of a request still ends
    an endless body.
    """
    return 3 * page_bytes + (1 << 20) if page_bytes > 0 else None


def diff_url(cfg: PageConfig, page_id: str, old: int, new: int) -> str | None:
    """The wiki's own page that compares two versions, for people following a link."""
    if not cfg.base_url:
        return None
    from urllib.parse import urlencode

    if cfg.api == "mediawiki":
        return f"{cfg.base_url}/index.php?{urlencode({'diff': new, 'oldid': old})}"
    query = urlencode({"pageId": page_id, "originalVersion": old, "revisedVersion": new})
    return f"{cfg.base_url}/pages/diffpagesbyversion.action?{query}"
