"""The page's own hand-written Change History: the record wikisync learns the page's style from
and checks itself against.

Shape on the real page: nested lists date → category → sentence, older entries date → sentence.
Dates and categories may also be paragraphs or headings with a list below them.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from lxml import etree

from wikisync.model import CATEGORIES, HistoryEntry
from wikisync.parse.inline import HEADINGS, LISTS, Context, text_of
from wikisync.parse.outline import heading_level, iter_blocks

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%d %B, %Y",
    "%a, %b %d, %Y",
    "%A, %B %d, %Y",
)
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b", re.I)
_CATEGORY = {c.casefold(): c for c in CATEGORIES}
_DATED = re.compile(r"^(.{6,30}?)\s*(?::|\s[-–—]\s)\s*(\S.*)$")


def iso_date(text: str) -> str | None:
    """``2021-02-10`` for text that is a date (``Feb 10, 2021``, ``10 February 2021``, …)."""
    cleaned = _ORDINAL.sub("", text.strip().rstrip(":.").strip())
    cleaned = " ".join(cleaned.replace("Sept ", "Sep ").split())
    if not cleaned or len(cleaned) > 40 or not any(ch.isdigit() for ch in cleaned):
        return None
    for fmt in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        return parsed.isoformat()
    return None


def _category(text: str) -> str:
    text = text.strip().rstrip(":").strip()
    return _CATEGORY.get(text.casefold(), text)


class _Reader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.entries: list[HistoryEntry] = []

    def add(self, date_: str | None, category: str | None, text: str) -> None:
        if text and date_ is None:
            m = _DATED.match(text)
            as_date = iso_date(m.group(1)) if m else None
            if m and as_date:
                date_, text = as_date, m.group(2)
        if text:
            self.entries.append(HistoryEntry(date=date_ or "", category=category, text=text))

    def read_list(self, lst: etree._Element, date_: str | None, category: str | None) -> None:
        for li in lst:
            if li.tag != "li":
                continue
            own = text_of(li, self.ctx, skip=LISTS)
            subs = [c for c in li if c.tag in LISTS]
            if not subs:
                self.add(date_, category, own)
                continue
            sub_date, sub_category = date_, category
            if own:
                as_date = iso_date(own)
                if as_date is not None:
                    sub_date, sub_category = as_date, None
                elif date_ is None:
                    sub_date = own.rstrip(":").strip()
                else:
                    sub_category = _category(own)
            for sub in subs:
                self.read_list(sub, sub_date, sub_category)


def parse_history(root: etree._Element, heading: str, ctx: Context) -> list[HistoryEntry]:
    """Entries of the section under ``heading`` in page order; ``[]`` when there is none."""
    needle = heading.casefold().strip()
    if not needle:
        return []
    blocks = list(iter_blocks(root))
    start = None
    level = 0
    for i, block in enumerate(blocks):
        tag = block.tag
        if tag in HEADINGS:
            if needle in text_of(block, ctx).casefold():
                start, level = i, heading_level(block)
                break
        elif tag == "p" and text_of(block, ctx).casefold().rstrip(":").strip() == needle:
            start, level = i, 7  # a paragraph used as a heading: any real heading ends it
            break
    if start is None:
        return []
    reader = _Reader(ctx)
    date_: str | None = None
    category: str | None = None
    for block in blocks[start + 1 :]:
        lvl = heading_level(block)
        if lvl and lvl <= level:
            break
        tag = block.tag
        if tag in LISTS:
            reader.read_list(block, date_, category)
        elif tag == "table":
            continue
        else:
            text = text_of(block, ctx)
            if not text:
                continue
            as_date = iso_date(text)
            if as_date is not None:
                date_, category = as_date, None
            elif text.rstrip(":").strip().casefold() in _CATEGORY:
                category = _category(text)
            elif date_ is not None:
                reader.add(date_, category, text)
    return reader.entries
