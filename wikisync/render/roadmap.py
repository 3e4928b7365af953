"""A parsed Roadmap as a readable table, JSON or CSV: for checking what the parser saw."""

from __future__ import annotations

import csv
import io

from wikisync.model import Item, Roadmap
from wikisync.render.jsonout import dumps
from wikisync.render.text import lane_header
from wikisync.safe import csv_cell, safe_text

ROADMAP_FORMATS: tuple[str, ...] = ("table", "json", "csv")
CSV_COLUMNS: tuple[str, ...] = (
    "period",
    "period_end",
    "lane",
    "title",
    "stage",
    "tags",
    "orgs",
    "org_names",
    "struck",
    "text",
    "id",
)
_TABLE_HEADER: tuple[str, ...] = ("period", "lane", "title", "stage", "orgs")
_GAP = "  "


def ordered_items(roadmap: Roadmap) -> list[Item]:
    """Items by period order, then lane order, then document order (stable)."""
    period_rank = {p.label: (p.index, n) for n, p in enumerate(roadmap.periods)}
    lane_rank = {lane.label: n for n, lane in enumerate(roadmap.lanes)}
    unknown_p = (len(roadmap.periods) + 1, len(roadmap.periods) + 1)
    unknown_l = len(roadmap.lanes) + 1
    return sorted(
        roadmap.items,
        key=lambda i: (period_rank.get(i.period, unknown_p), lane_rank.get(i.lane, unknown_l)),
    )


def _period_name(roadmap: Roadmap, item: Item) -> str:
    p = roadmap.period(item.period)
    name = p.short if p is not None else item.period
    if item.period_end and item.period_end != item.period:
        end = roadmap.period(item.period_end)
        name += "–" + (end.short if end is not None else item.period_end)
    return name


def _lane_names(roadmap: Roadmap) -> dict[str, str]:
    """Each lane by its task (the last header) when that is unambiguous, else its full path."""
    tasks = [lane.path[-1] if lane.path else lane.label for lane in roadmap.lanes]
    return {
        lane.label: task if tasks.count(task) == 1 else lane.label
        for lane, task in zip(roadmap.lanes, tasks, strict=True)
    }


def render_table(roadmap: Roadmap) -> str:
    """An aligned plain-text table, one line per card; struck cards are marked."""
    rows: list[tuple[str, ...]] = [(_TABLE_HEADER[0], lane_header(roadmap), *_TABLE_HEADER[2:])]
    lanes = _lane_names(roadmap)
    for item in ordered_items(roadmap):
        title = item.title + (" (struck)" if item.struck else "")
        orgs = ", ".join(item.org_names or item.orgs)
        lane = lanes.get(item.lane, item.lane)
        rows.append((_period_name(roadmap, item), lane, title, item.stage or "", orgs))
    rows = [tuple(safe_text(" ".join(c.split())) for c in row) for row in rows]
    widths = [max(len(row[k]) for row in rows) for k in range(len(_TABLE_HEADER))]
    lines = [
        _GAP.join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, _GAP.join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_csv(roadmap: Roadmap) -> str:
    """CSV with list fields joined by ``; `` and ``\\n`` line endings; a cell a spreadsheet
    would run as a formula starts with ``'`` (``csv_cell``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in ordered_items(roadmap):
        writer.writerow(
            csv_cell(cell)
            for cell in (
                i.period,
                i.period_end or "",
                i.lane,
                i.title,
                i.stage or "",
                "; ".join(i.tags),
                "; ".join(i.orgs),
                "; ".join(i.org_names),
                "true" if i.struck else "false",
                i.text,
                i.id,
            )
        )
    return out.getvalue()


def render_json(roadmap: Roadmap) -> str:
    """``Roadmap.to_json()`` in wikisync's JSON style."""
    return dumps(roadmap.to_json())
