"""When a period label or a date value starts, so periods written as text sort as time.

Row-per-item tables write targets as ``Q3 2021``, ``H2 2022``, ``2022-09``, ``15 Sep 2022`` or a
date picker's ``<time datetime>``; the order they appear in on the page means nothing. Pure text
functions, regexes compiled on first use (importing the parser stays cheap).
"""

from __future__ import annotations

import re

from wikisync._lazy import lazy_re

#: (year, 0-based month, day): what a label says about when it starts.
When = tuple[int, int, int]

_MONTHS = {
    "jan": 0,
    "feb": 1,
    "mar": 2,
    "apr": 3,
    "may": 4,
    "jun": 5,
    "jul": 6,
    "aug": 7,
    "sep": 8,
    "oct": 9,
    "nov": 10,
    "dec": 11,
}
_MONTH_NAMES = tuple(m.capitalize() for m in _MONTHS)  # never the locale's names
_MONTHS_PER_PART = {"q": 3, "h": 6, "t": 4}


_ISO = lazy_re(r"\b((?:19|20)\d{2})-(\d{1,2})(?:-(\d{1,2}))?\b")
_DMY = lazy_re(
    r"\b(?:(\d{1,2})\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+"
    r"(?:(\d{1,2}),?\s+)?((?:19|20)\d{2})\b",
    re.IGNORECASE,
)
# Letter case spelled out: re.IGNORECASE makes compiling dearer, and matches the same here.
_YEAR = lazy_re(r"\b(?:[Ff][Yy]\s?'?(\d{4}|\d{2})|((?:19|20)\d{2}))\b")
_PART = lazy_re(r"\b([QHTqht])([1-4])\b")
#: What both dated forms (``2022-09``, ``15 Sep 2022``) hold: without it, neither can match.
_CALENDAR_YEAR = lazy_re(r"\b(?:19|20)\d{2}\b")


def period_start(label: str) -> When | None:
    """(year, month, day) a dated label starts at: ``FY21 Q2`` → (2021, 3, 1), ``2022-09`` →
    (2022, 8, 1), ``15 Sep 2022`` → (2022, 8, 15); None when the label names no year."""
    if _CALENDAR_YEAR.search(label) is not None:  # else ``FY21 Q2``: no date to compile for
        m = _ISO.search(label)
        if m is not None and 1 <= int(m.group(2)) <= 12:
            return int(m.group(1)), int(m.group(2)) - 1, int(m.group(3) or 1)
        m = _DMY.search(label)
        if m is not None:
            day = int(m.group(1) or m.group(3) or 1)
            return int(m.group(4)), _MONTHS[m.group(2).lower()], day
    y = _YEAR.search(label)
    if y is None:
        return None
    year = int(y.group(1) or y.group(2))
    if year < 100:
        year += 2000
    p = _PART.search(label)
    month = 0
    if p is not None:
        month = _MONTHS_PER_PART[p.group(1).lower()] * (int(p.group(2)) - 1)
    return year, month, 1


def iso_date(value: str) -> str | None:
    """``2015-09-01 00:00:00`` (the Roadmap Planner's format) or ``2015-09-01`` → ``2015-09-01``."""
    from datetime import date  # lazily: importing the parser stays cheap

    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def show_date(iso: str) -> str:
    """``2015-09-01`` → ``1 Sep 2015``: how a person writes a date in a sentence."""
    from datetime import date

    d = date.fromisoformat(iso)
    return f"{d.day} {_MONTH_NAMES[d.month - 1]} {d.year}"


def month_label(iso: str) -> str:
    """The month an ISO date falls in, as a period label: ``2015-09-14`` → ``Sep 2015``."""
    from datetime import date

    d = date.fromisoformat(iso)
    return f"{_MONTH_NAMES[d.month - 1]} {d.year}"


def shift(old: str, new: str) -> str:
    """How far a date moved, as a person says it: ``+2 months``, ``-3 days``, ``+1 week``."""
    from datetime import date

    days = (date.fromisoformat(new) - date.fromisoformat(old)).days
    sign = "+" if days > 0 else "-"
    n = abs(days)
    if n >= 28:
        months = round(n / 30.44)
        return f"{sign}{months} month{'s' if months != 1 else ''}"
    if n and n % 7 == 0:
        weeks = n // 7
        return f"{sign}{weeks} week{'s' if weeks != 1 else ''}"
    return f"{sign}{n} day{'s' if n != 1 else ''}"
