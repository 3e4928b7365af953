"""Confluence wiki markup escaping, for ``--format wiki`` (the editor's Insert → Markup).

In wiki markup almost every punctuation character can start a construct: ``*bold*``,
``_italic_``, ``-strike-``, ``+underline+``, ``^sup^``, ``~sub~``, ``??cite??``, ``{macro}``,
``[link]``, ``|table|``, ``!image!``, ``#`` lists, and emoticons such as ``(y)``, ``:)`` or
``;)``. A backslash makes the next character plain text, so each of them is escaped.
"""

from __future__ import annotations

from urllib.parse import quote

from wikisync._lazy import lazy_re

_SPECIAL = lazy_re(r"([\\*_\-+^~?{}\[\]|!#():;])")


def escape_wiki(text: object) -> str:
    """Backslash-escape ``text`` so wiki markup shows it verbatim, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def wiki_url(url: object) -> str:
    """A link target that cannot close the ``[text|url]`` link or start another construct."""
    return quote(str(url), safe=":/?&=%#~+.,;@$'-_")
