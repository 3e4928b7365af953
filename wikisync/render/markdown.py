"""Markdown escaping: card titles are user text and must never turn into markup.

The markdown layout itself lives in ``templates/markdown.j2``; templates call the ``md`` filter
(registered by :mod:`wikisync.render.text`) on every piece of text they print.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from wikisync._lazy import lazy_re

# Characters that can start inline markup anywhere in a line (CommonMark and GitHub flavour):
# emphasis, code spans, links/images, raw HTML/autolinks, entities, tables, strikethrough.
_INLINE = lazy_re(r"([\\`*_\[\]<>|~&])")
# Constructs that only count at the start of a line: headings, quotes, list markers, rules.
_LINE_START = lazy_re(r"^([#>+=-])|^(\d+)([.)])")


def escape_markdown(text: object) -> str:
    """Backslash-escape ``text`` so a Markdown renderer shows it verbatim.

    Whitespace (newlines included) is collapsed first: a title can never start a new line, so it
    can never become a heading, list item or code block.
    """
    s = " ".join(str(text).split())
    s = _INLINE.sub(r"\\\1", s)
    return _LINE_START.sub(_escape_line_start, s)


def _escape_line_start(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return "\\" + m.group(1)
    return m.group(2) + "\\" + m.group(3)


def markdown_url(url: object) -> str:
    """A link destination that cannot end the link early: spaces, parentheses, ``<>`` encoded."""
    return quote(str(url), safe=":/?&=%#~+.,;@!$'*-_")
