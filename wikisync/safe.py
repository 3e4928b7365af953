"""Text safe to print, mail or write: the one place page and server text is neutralised.

Page text and server messages reach terminals (``diff``, ``sync`` in cron mail), files
(CHANGELOG.md, CSV) and wikis. A C0 or C1 control (ESC starts terminal sequences that set the
title or clear the screen; U+009B is a one-byte CSI) or a bidirectional override (which makes
text read backwards in an editor or a review) must never take effect there. ``safe_text``
replaces each with a visible ``\\uXXXX`` escape; newline and tab, the layout's own, stay. The
escape is also a valid JSON escape, so JSON output read back gives the original characters.
"""

from __future__ import annotations

import re

from wikisync._lazy import lazy_re

#: Longest title generated text quotes (CHANGELOG, history, publish); longer ones are cut and
#: end with "…". Real titles are under 100 characters.
TITLE_CAP = 300

# C0 controls but tab and newline, DEL and C1, and the Unicode bidi controls (marks,
# embeddings, overrides, isolates) plus the line/paragraph separators that break layouts.
_UNSAFE = lazy_re(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def safe_text(text: str) -> str:
    """``text`` with every control and bidi character shown as ``\\uXXXX`` (idempotent).
    Every such character is one ``str.isprintable`` refuses (Cc, Cf, Zl, Zp): text that is
    printable but for its newlines and tabs is returned as it is, without the regex."""
    if text.replace("\n", " ").replace("\t", " ").isprintable():
        return text
    return _UNSAFE.sub(_visible, text)


def cap_title(title: str, limit: int = TITLE_CAP) -> str:
    """A title cut to ``limit`` characters (ending "…") so one card cannot flood an entry."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


#: Cell starts a spreadsheet reads as a formula (OWASP "CSV injection"), tab and CR included.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a formula-like start gets a leading ``'``."""
    return "'" + value if value.startswith(_FORMULA_START) else value
