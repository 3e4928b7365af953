"""The slippage chart: one self-contained, deterministic SVG. Pure: no I/O.

Two panels a roadmap owner reads at a glance:

1. Slippage over time: bars of cards deferred per version, and a line of the periods slipped
   so far (cumulative), on a version axis.
2. The most deferred cards as a timeline of their periods: one row per card, one bar segment
   per period it was planned in, on a date axis, coloured by how many rows it had slipped from
   where it was first planned.

Every text from the page is XML-escaped and stripped of characters XML forbids; numbers are
written with fixed precision, so the same stats give the same bytes. ``render_svg(stats,
link=...)`` is the hook the HTML report uses: ``link(card_id)`` gives the href each card row
points to (``#card-…``, the card's history in the report).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from wikisync.render.confluence import xml_safe
from wikisync.stats import TOP, CardStats, Stats

WIDTH = 960
LEFT = 64  # panel 1 plot area starts here
RIGHT = 64
TOP_MARGIN = 48
PANEL1_H = 200
ROW_H = 26
LABEL_W = 300  # panel 2: card titles left of this
MAX_LABEL = 40  # characters of a title shown in panel 2 (the whole title is its tooltip)
NOW_SHARE = 0.1  # panel 2: the share of the width after the last version
DATE_GAP = 72.0  # panel 2: the least room between two date labels
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"

#: Slip from the first planned row → colour: on plan (or earlier), 1, 2, 3 or more rows late.
COLOURS: tuple[tuple[str, str], ...] = (
    ("#4e79a7", "as first planned or earlier"),
    ("#edc948", "1 period late"),
    ("#f28e2b", "2 periods late"),
    ("#e15759", "3 or more periods late"),
)
BAR_COLOUR = "#e15759"
LINE_COLOUR = "#2f4b7c"
AXIS_COLOUR = "#888888"


def _t(text: str) -> str:
    """Text for an SVG element or attribute: XML-valid and escaped."""
    return escape(xml_safe(text), quote=True)


def _n(x: float) -> str:
    """A coordinate with fixed precision (deterministic, short)."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


@dataclass(frozen=True, slots=True)
class Segment:
    """A card planned in one period from version ``start`` to version ``end`` (indices)."""

    start: int
    end: int  # the version it left the period in; -1: still there at the last version
    short: str
    late: int  # rows later than first planned (negative: earlier)


def segments(card: CardStats) -> list[Segment]:
    """Where ``card`` was planned, version span by version span."""
    out: list[Segment] = []
    late = 0
    cur: tuple[int, str, int] | None = None
    for s in card.lineage.steps:
        if "deleted" in s.events or "replaced" in s.events:
            if cur is not None:
                out.append(Segment(cur[0], s.index, cur[1], cur[2]))
            cur = None
            continue
        late += s.slip
        if cur is None:
            cur = (s.index, s.short, late)
        elif s.short != cur[1] or late != cur[2]:
            out.append(Segment(cur[0], s.index, cur[1], cur[2]))
            cur = (s.index, s.short, late)
    if cur is not None:
        out.append(Segment(cur[0], -1, cur[1], cur[2]))
    return out


def _colour(late: int) -> str:
    return COLOURS[max(0, min(late, len(COLOURS) - 1))][0]


def _ticks(top: int) -> list[int]:
    """Up to five round tick values from 0 to at least ``top``."""
    top = max(top, 1)
    step = 1
    while top / step > 5:
        for mult in (2, 5, 10):
            if top / (step * mult) <= 5:
                step *= mult
                break
        else:
            step *= 10
    return list(range(0, top + step, step)) if top % step else list(range(0, top + 1, step))


def _label_indices(n: int, most: int = 8) -> list[int]:
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def render_svg(stats: Stats, link: Callable[[str], str] | None = None) -> str:
    """The chart as a standalone SVG document (UTF-8 text, final newline)."""
    cards = stats.deferred[:TOP]
    panel2_top = TOP_MARGIN + PANEL1_H + 70
    rows_h = ROW_H * max(len(cards), 1)
    height = panel2_top + 34 + rows_h + 50
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title" '
        f'style="{FONT};font-size:12px;background:#ffffff">',
        f'<title id="chart-title">{_t(_heading(stats))}</title>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{_t(_heading(stats))}</text>',
    ]
    out += _panel_timeline(stats)
    out += _panel_cards(stats, cards, panel2_top, link)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _heading(stats: Stats) -> str:
    name = stats.page or "roadmap"
    head = f"Slippage of {name}: {len(stats.deferred)} of {len(stats.cards)} cards deferred, "
    head += f"{stats.periods_slipped} periods slipped"
    if stats.since:
        head += f" since {stats.since}"
    return head


def _panel_timeline(stats: Stats) -> list[str]:
    pts = stats.timeline
    x0, x1 = LEFT, WIDTH - RIGHT
    y0, y1 = TOP_MARGIN + 34, TOP_MARGIN + PANEL1_H  # plot top, baseline
    out = [
        '<g class="panel-timeline">',
        f'<text x="{x0}" y="{TOP_MARGIN + 6}" font-size="13" font-weight="bold">'
        "Slippage over time: cards deferred per version (bars), periods slipped so far (line)"
        "</text>",
    ]
    n = max(len(pts), 1)
    band = (x1 - x0) / n
    bar_w = max(band * 0.6, 1.0)
    max_def = max((p.deferred for p in pts), default=0)
    max_cum = max((p.cumulative_periods_slipped for p in pts), default=0)
    left_ticks, right_ticks = _ticks(max_def), _ticks(max_cum)
    left_top, right_top = left_ticks[-1], right_ticks[-1]

    def yl(v: float) -> float:
        return y1 - (y1 - y0) * v / left_top

    def yr(v: float) -> float:
        return y1 - (y1 - y0) * v / right_top

    for v in left_ticks:
        y = _n(yl(v))
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{y}" y2="{y}" stroke="#eeeeee"/>')
        out.append(
            f'<text class="tick" x="{x0 - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle" fill="{BAR_COLOUR}">{v}</text>'
        )
    for v in right_ticks:
        out.append(
            f'<text class="tick" x="{x1 + 6}" y="{_n(yr(v))}" dominant-baseline="middle" '
            f'fill="{LINE_COLOUR}">{v}</text>'
        )
    out.append(
        f'<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="{AXIS_COLOUR}"/>'
        f'<line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="{AXIS_COLOUR}"/>'
        f'<line x1="{x1}" x2="{x1}" y1="{y0}" y2="{y1}" stroke="{AXIS_COLOUR}"/>'
    )
    line: list[str] = []
    for k, p in enumerate(pts):
        cx = x0 + band * (k + 0.5)
        ver = f"v{p.version}" if p.version is not None else f"#{k + 1}"
        if p.deferred:
            top = yl(p.deferred)
            out.append(
                f'<rect class="bar" x="{_n(cx - bar_w / 2)}" y="{_n(top)}" width="{_n(bar_w)}" '
                f'height="{_n(y1 - top)}" fill="{BAR_COLOUR}">'
                f"<title>{_t(ver)} {p.date}: {p.deferred} deferred, "
                f"{p.periods_slipped} periods slipped</title></rect>"
            )
        line.append(f"{_n(cx)},{_n(yr(p.cumulative_periods_slipped))}")
    if line:
        out.append(
            f'<polyline class="cumulative" points="{" ".join(line)}" fill="none" '
            f'stroke="{LINE_COLOUR}" stroke-width="2"/>'
        )
    for k in _label_indices(len(pts)):
        p = pts[k]
        lx = _n(x0 + band * (k + 0.5))
        ver = f"v{p.version}" if p.version is not None else f"#{k + 1}"
        out.append(
            f'<text class="xlabel" x="{lx}" y="{y1 + 16}" text-anchor="middle">{_t(ver)}</text>'
            f'<text class="xlabel" x="{lx}" y="{y1 + 30}" text-anchor="middle" '
            f'fill="#666666">{p.date}</text>'
        )
    out.append(
        f'<text x="{x0 - 6}" y="{y0 - 12}" text-anchor="end" fill="{BAR_COLOUR}">deferred</text>'
        f'<text x="{x1 + 6}" y="{y0 - 12}" fill="{LINE_COLOUR}">slipped</text>'
    )
    out.append("</g>")
    return out


def _date_scale(stats: Stats, x0: float, x1: float) -> Callable[[int], float]:
    """Version index → x on a date axis (an index axis when every version has one date)."""
    dates = [dt.date.fromisoformat(d) for d in stats.version_dates]
    first, last = dates[0], dates[-1]
    span = (last - first).days
    if span <= 0:
        n = max(len(dates) - 1, 1)
        return lambda k: x0 + (x1 - x0) * k / n
    return lambda k: x0 + (x1 - x0) * (dates[k] - first).days / span


def _panel_cards(
    stats: Stats, cards: Sequence[CardStats], top: int, link: Callable[[str], str] | None
) -> list[str]:
    x0, x1 = float(LABEL_W), float(WIDTH - 20)
    out = [
        '<g class="panel-cards">',
        f'<text x="{LEFT}" y="{top}" font-size="13" font-weight="bold">'
        f"The {len(cards)} most deferred cards: the period each was planned in, over time"
        "</text>",
    ]
    if not cards:
        out.append(f'<text x="{LEFT}" y="{top + 30}" fill="#666666">No card was deferred.</text>')
        out.append("</g>")
        return out
    # The last version's state runs on to the right edge ("now"), so it is visible.
    tail = (x1 - x0) * NOW_SHARE
    x = _date_scale(stats, x0, x1 - tail)
    y = top + 24
    for card in cards:
        row: list[str] = []
        title = card.title if len(card.title) <= MAX_LABEL else card.title[: MAX_LABEL - 1] + "…"
        tip = (
            f"{card.title}: deferred {card.deferrals}×, {card.periods_slipped} periods slipped, "
            f"first planned {card.first_short} ({card.first_seen})"
        )
        row.append(
            f'<text class="card-title" x="{x0 - 8}" y="{_n(y + ROW_H / 2)}" text-anchor="end" '
            f'dominant-baseline="middle"><title>{_t(tip)}</title>{_t(title)}'
            f' <tspan fill="#666666">×{card.deferrals}</tspan></text>'
        )
        for seg in segments(card):
            a = x(seg.start)
            b = x(seg.end) if seg.end >= 0 else x1
            w = max(b - a, 4.0)
            row.append(
                f'<rect class="seg" x="{_n(a)}" y="{_n(y + 3)}" width="{_n(w)}" '
                f'height="{ROW_H - 6}" fill="{_colour(seg.late)}" stroke="#ffffff">'
                f"<title>{_t(seg.short)}</title></rect>"
            )
            if w >= 7 * len(seg.short) + 6:
                row.append(
                    f'<text class="seg-label" x="{_n(a + w / 2)}" y="{_n(y + ROW_H / 2)}" '
                    f'text-anchor="middle" dominant-baseline="middle" fill="#ffffff" '
                    f'font-size="11">{_t(seg.short)}</text>'
                )
        body = "".join(row)
        if link is not None:
            body = f'<a href="{_t(link(card.id))}">{body}</a>'
        out.append(f'<g class="card" id="chart-{_t(card.id)}">{body}</g>')
        y += ROW_H
    # The date axis and the colour legend.
    out.append(
        f'<line x1="{_n(x0)}" x2="{_n(x1)}" y1="{y + 2}" y2="{y + 2}" stroke="{AXIS_COLOUR}"/>'
    )
    dates = stats.version_dates
    shown = -1e9
    for k in _label_indices(len(dates), len(dates)):
        if x(k) - shown < DATE_GAP:
            continue
        shown = x(k)
        out.append(
            f'<text class="xlabel" x="{_n(x(k))}" y="{y + 16}" text-anchor="middle" '
            f'fill="#666666">{dates[k]}</text>'
        )
    out.append(
        f'<text class="xlabel" x="{_n(x1)}" y="{y + 16}" text-anchor="end" '
        f'fill="#666666">now</text>'
    )
    lx = float(LEFT)
    ly = y + 36
    for colour, label in COLOURS:
        out.append(
            f'<rect x="{_n(lx)}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_n(lx + 16)}" y="{ly + 1}">{_t(label)}</text>'
        )
        lx += 28 + 7 * len(label)
    out.append("</g>")
    return out
