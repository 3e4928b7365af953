"""The page outside its tables: blocks in reading order, and the heading above an element.

The legend and the Change History live in ordinary paragraphs, headings and lists around the
roadmap table, often inside layout sections or macros; walking only that outline keeps their
search cheap however large the table is.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from wikisync.parse.inline import HEADINGS, LISTS, Context, text_of

# Elements whose children are blocks of the page (Confluence layouts, panels, wrappers).
_CONTAINERS = frozenset(
    {
        "html",
        "body",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "blockquote",
        "center",
        "ac:layout",
        "ac:layout-section",
        "ac:layout-cell",
        "ac:rich-text-body",
        "ac:structured-macro",
    }
)
# Leaf blocks the outline yields.
_LEAVES = HEADINGS | LISTS | {"p", "pre", "table", "hr", "dl"}


def iter_blocks(root: etree._Element) -> Iterator[etree._Element]:
    """Leaf blocks (p, h1-h6, ul/ol, table, ...) in document order; tables are not entered.

    A container with no block children (a ``<div>`` holding only text) counts as a paragraph.
    """
    for child in root:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in _LEAVES:
            yield child
        elif tag in _CONTAINERS:
            if tag == "ac:structured-macro":
                for body in child:
                    if body.tag == "ac:rich-text-body":
                        yield from iter_blocks(body)
            elif any(
                isinstance(c.tag, str) and (c.tag in _LEAVES or c.tag in _CONTAINERS) for c in child
            ):
                yield from iter_blocks(child)
            elif tag not in ("html", "body"):
                yield child


def heading_level(el: etree._Element) -> int:
    """1-6 for h1-h6, else 0."""
    tag = el.tag
    return int(tag[1]) if isinstance(tag, str) and tag in HEADINGS else 0


def heading_before(el: etree._Element, ctx: Context) -> str | None:
    """Text of the nearest heading (h1-h6) before ``el`` in document order, outside tables."""
    node: etree._Element | None = el
    while node is not None:
        sib = node.getprevious()
        while sib is not None:
            tag = sib.tag
            if isinstance(tag, str) and tag != "table":
                if tag in HEADINGS:
                    text = text_of(sib, ctx)
                    if text:
                        return text
                else:
                    found = [
                        h
                        for h in sib.iter(*HEADINGS)
                        if not any(a.tag == "table" for a in h.iterancestors())
                    ]
                    for h in reversed(found):
                        text = text_of(h, ctx)
                        if text:
                            return text
            sib = sib.getprevious()
        node = node.getparent()
    return None
