"""Confluence's Roadmap Planner macro (``<ac:structured-macro ac:name="roadmap">``).

Its ``source`` parameter is URL-encoded JSON: ``{title, timeline: {startDate, endDate,
displayOption}, lanes: [{title, color, bars: [{id, title, description, startDate, duration,
rowIndex, pageLink}]}], markers: [...]}``. Each bar is an item whose identity is its ``id`` (so a
renamed bar is Renamed), lane is its lane's title, ``start`` / ``end`` its first and last day,
and period the month it starts in (``Sep 2015``; ``period_end`` the month it ends in). Markers
are milestones, not items; ``rowIndex`` and colours are layout and never read.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lxml import etree

from wikisync._digest import sha1
from wikisync.errors import ParseError
from wikisync.model import Item, Lane, Period
from wikisync.parse.inline import clean, norm, raw_text
from wikisync.parse.tables import Section
from wikisync.timeline import iso_date, month_label

if TYPE_CHECKING:
    from datetime import date

#: More months than this between the first and the last bar is not a plan anyone draws.
MAX_MONTHS = 1200


def find_planners(root: etree._Element) -> list[etree._Element]:
    """Every Roadmap Planner macro on the page, in document order."""
    return [el for el in root.iter("ac:structured-macro") if (el.get("ac:name") or "") == "roadmap"]


def _param(macro: etree._Element, name: str) -> str:
    for p in macro:
        if p.tag == "ac:parameter" and p.get("ac:name") == name:
            return raw_text(p).strip()
    return ""


def source_json(macro: etree._Element, n: int) -> dict[str, Any]:
    """The macro's decoded ``source`` (URL-encoded JSON; plain JSON is accepted too)."""
    raw = _param(macro, "source")
    if not raw:
        raise ParseError(f"Roadmap Planner macro {n} has no source parameter")
    import json  # only a Planner macro needs it: a table page's parse starts without it

    text = raw if raw.lstrip().startswith("{") else unquote(raw)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ParseError(
            f"Roadmap Planner macro {n}: its source parameter is not readable JSON"
        ) from None
    if not isinstance(data, dict):
        raise ParseError(f"Roadmap Planner macro {n}: its source is not a JSON object")
    return data


def _add_months(d: date, months: int) -> date:
    import calendar
    from datetime import date

    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def bar_end(start: str, duration: float, unit: str) -> str:
    """The last day of a bar: ``duration`` months (or weeks) from ``start``, fractions kept."""
    import calendar
    from datetime import date, timedelta

    d = date.fromisoformat(start)
    if unit.upper().startswith("WEEK"):
        after = d + timedelta(days=round(duration * 7))
    else:
        whole = math.floor(duration)
        after = _add_months(d, whole)
        days = calendar.monthrange(after.year, after.month)[1]
        after += timedelta(days=round((duration - whole) * days))
    return max(d, after - timedelta(days=1)).isoformat()


def _text(value: Any) -> str:
    """A JSON string as page text: whitespace collapsed, control and sentinel characters gone
    (JSON escapes such as ``\\u001b`` never went through the HTML parser's checks)."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    text = clean(norm(str(value)))
    if not text.isprintable():
        text = norm("".join(ch if ch.isprintable() else " " for ch in text))
    return text


def read_planner(macro: etree._Element, n: int) -> Section:
    """One macro as a roadmap section (``n`` counts macros from 1, for messages)."""
    data = source_json(macro, n)
    timeline = data.get("timeline") if isinstance(data.get("timeline"), dict) else {}
    assert isinstance(timeline, dict)
    unit = _text(timeline.get("displayOption")) or "MONTH"
    lanes_raw = data.get("lanes")
    if not isinstance(lanes_raw, list):
        raise ParseError(f"Roadmap Planner macro {n}: its source has no list of lanes")
    lanes: list[Lane] = []
    items: list[Item] = []
    months: set[str] = set()
    used: dict[str, int] = {}
    for li, lane_raw in enumerate(lanes_raw):
        if not isinstance(lane_raw, dict):
            continue
        name = _text(lane_raw.get("title")) or f"Lane {li + 1}"
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{name} ({used[name]})"
        lanes.append(Lane(label=name, path=(name,)))
        bars = lane_raw.get("bars")
        for bar in bars if isinstance(bars, list) else ():
            if not isinstance(bar, dict):
                continue
            item = _bar_item(bar, name, unit, n)
            if item is not None:
                items.append(item)
                months.add(item.period)
                if item.period_end:
                    months.add(item.period_end)
    title = _param(macro, "title") or _text(data.get("title")) or None
    return Section(shape="planner", title=title, periods=_months(items), lanes=lanes, items=items)


def _bar_item(bar: dict[str, Any], lane: str, unit: str, n: int) -> Item | None:
    title = _text(bar.get("title"))
    start = iso_date(_text(bar.get("startDate")))
    if not title or start is None:
        return None
    duration = bar.get("duration")
    if isinstance(duration, str):
        try:
            duration = float(duration)
        except ValueError:
            duration = None
    if (
        not isinstance(duration, (int, float))
        or isinstance(duration, bool)
        or not (0 <= duration <= MAX_MONTHS)
    ):
        raise ParseError(f"Roadmap Planner macro {n}: bar {title!r} has no usable duration")
    end = bar_end(start, float(duration), unit)
    key = _text(bar.get("id")) or f"{lane}|{title}|{start}"
    fields: list[tuple[str, str]] = []
    description = _text(bar.get("description"))
    if description:
        fields.append(("description", description))
    link = bar.get("pageLink")
    links: tuple[str, ...] = ()
    if isinstance(link, dict):
        page = _text(link.get("title"))
        if page:
            fields.append(("page", page))
        url = _text(link.get("wikiLink") or link.get("url"))
        links = (url,) if url else ()
    first, last = month_label(start), month_label(end)
    return Item(
        id=sha1(f"planner|{key}".encode()).hexdigest()[:12],
        title=title,
        period=first,
        period_end=last if last != first else None,
        lane=lane,
        text=title,
        links=links,
        start=start,
        end=end,
        fields=tuple(fields),
        key=key,
    )


def _months(items: list[Item]) -> list[Period]:
    """Every month from the first bar's start to the last bar's end, in order."""
    from datetime import date

    if not items:
        return []
    first = min(date.fromisoformat(i.start or "") for i in items)
    last = max(date.fromisoformat(i.end or i.start or "") for i in items)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MAX_MONTHS:
        raise ParseError(f"Roadmap Planner bars span {count} months, over {MAX_MONTHS}")
    periods: list[Period] = []
    d = first.replace(day=1)
    for index in range(count):
        label = month_label(d.isoformat())
        periods.append(Period(label=label, short=label, index=index))
        d = _add_months(d, 1)
    return periods
