"""The parser: a Confluence page (storage, view or any HTML) → a ``Roadmap``.

Pure: no I/O. ``parse_document`` prefers the storage body (exact, round-trippable) and borrows
from the view body only what storage cannot know: smart-link titles and mention display names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wikisync.errors import ParseError
from wikisync.model import Document, ParseOptions, Roadmap

if TYPE_CHECKING:  # the parser's modules (and lxml) load on the first parse, not on import:
    from lxml import etree  # `wikisync --help` and the commands that never parse skip them

    from wikisync.parse.inline import Context

__all__ = ["detect_format", "parse_document", "parse_text", "view_context"]


def detect_format(text: str) -> str:
    """``"storage"``, ``"view"`` or ``"html"`` (raises ``ParseError``): see ``parse.load``."""
    from wikisync.parse.load import detect_format as detect

    return detect(text)


def parse_text(
    text: str | bytes, fmt: str | None = None, options: ParseOptions | None = None
) -> Roadmap:
    """Parse one page body; ``fmt`` is guessed with ``detect_format`` when not given."""
    from wikisync.parse.inline import Context

    return _parse(text, fmt, options, Context())


def _parse(
    text: str | bytes, fmt: str | None, options: ParseOptions | None, ctx: Context
) -> Roadmap:
    from wikisync.parse.load import FORMATS, decode_raw, parse_tree, sniff
    from wikisync.parse.roadmap import build_roadmap
    from wikisync.parse.shapes import read_roadmap

    options = options or ParseOptions()
    decoded, raw = decode_raw(text, options.max_bytes)
    if fmt is None:
        fmt = sniff(decoded)
    elif fmt not in FORMATS:
        raise ParseError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    root = parse_tree(decoded, fmt, raw)
    try:
        if options.shape == "grid":
            return build_roadmap(root, options, ctx)  # the story-map grid alone, as ever
        return read_roadmap(root, options, ctx)
    except RecursionError:
        # The tree is at most 255 levels deep (load refuses deeper), which the readers handle
        # with room to spare; this only fires when the caller's own stack is nearly full.
        raise ParseError("input is nested too deeply to read") from None


def view_context(root: etree._Element) -> Context:
    """Smart-link titles and mention names, read from a parsed view body."""
    from wikisync.parse.inline import Context, element_text

    links: dict[str, str] = {}
    users: dict[str, str] = {}
    for a in root.iter("a"):
        text = element_text(a)
        if not text:
            continue
        cls = a.get("class") or ""
        account = a.get("data-account-id") or a.get("data-username") or a.get("data-user-key")
        if account or "confluence-userlink" in cls:
            if account:
                users.setdefault(account, text)
            continue
        href = a.get("href")
        if href and text != href:
            links.setdefault(href, text)
    return Context(link_titles=links, users=users)


def needs_view(storage: str) -> bool:
    """Whether a storage body reads better with its view body: smart links (a URL in storage,
    the linked page's title in view) and mentions (an account id in storage, a name in view).
    A fetch that asks for the view only then halves the requests for most pages."""
    return "<a " in storage or "ri:user" in storage


def parse_document(doc: Document, options: ParseOptions | None = None) -> Roadmap:
    """Parse a document's best body; with storage + view, view supplies link titles and names."""
    try:
        fmt = doc.primary_format
    except ValueError as exc:
        raise ParseError("document has no body to parse") from exc
    from wikisync.parse.inline import Context
    from wikisync.parse.load import decode, parse_tree

    body = doc.bodies[fmt]
    ctx = Context()
    view = doc.bodies.get("view")
    if fmt == "storage" and view and needs_view(body):
        try:
            max_bytes = options.max_bytes if options else ParseOptions().max_bytes
            ctx = view_context(parse_tree(decode(view, max_bytes), "view"))
        except ParseError:
            ctx = Context()  # an unreadable view body only costs the nicer titles
    return _parse(body, fmt, options, ctx)
