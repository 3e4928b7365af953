"""The HTML diff at 75 and 10,000 cards: render time in Python, load and use in a browser.

Usage: ``python benchmarks/html_report.py [--quick] [--write]``

Each number is taken beside a floor measured in the same run, the same way:

- render: ``render_diff_html`` (grid layout + marks + Jinja2) against the least any HTML page
  of those cards must do: ``html.escape`` each title into a bare ``<table>`` of the same cells
  (no marks, no legend). Both timed in rounds (``interleaved_times``), medians.
- browser (10,000 cards): Debian's headless Chromium (tests/browser.py, network blocked) loads
  each page from ``file://`` (navigation start → load event), then ticks "show only changed
  cards" and jumps to the bottom, each timed to the next frame the browser paints (a tiny
  screenshot waits for it; an idle frame's time is taken off); medians of 3, pages taking turns,
  the floor page the same way. Needs chromium + chromium-driver; skipped with a note without them.

``--write`` puts the table between ``<!-- html:begin/end -->`` in RESULTS.md. Exit 1 when a
target is missed: 75 cards < 100 ms; 10,000 cards loads in < 3 s and the filter responds in
< 500 ms (usable: the page opens and reacts while you look at it).
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.accuracy import RESULTS, replace_section
from benchmarks.run import SEED, interleaved_times, machine, make_pair
from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Roadmap, VersionRef
from wikisync.render.html import render_diff_html

ROOT = Path(__file__).resolve().parent.parent
TARGET_SMALL_MS = 100.0
TARGET_LOAD_MS = 3000.0
TARGET_FILTER_MS = 500.0


def changeset(cards: int) -> ChangeSet:
    """Two synthetic versions, ~5% of the cards edited (moves, renames, replacements, ...)."""
    pair = make_pair(cards, SEED, shuffle=False)
    changes = diff_roadmaps(pair.old, pair.new)
    return ChangeSet(VersionRef("old", 1), VersionRef("new", 2), changes, "2024-06-01",
                     pair.old, pair.new)  # fmt: skip


def floor_html(roadmap: Roadmap) -> str:
    """The least an HTML page of these cards must do: escape every title into its cell."""
    cells: dict[tuple[str, str], list[str]] = {}
    for item in roadmap.items:
        cells.setdefault((item.period, item.lane), []).append(html.escape(item.title))
    rows = []
    for p in roadmap.periods:
        tds = "".join(
            "<td><ul>"
            + "".join(f"<li>{t}</li>" for t in cells.get((p.label, lane.label), []))
            + "</ul></td>"
            for lane in roadmap.lanes
        )
        rows.append(f"<tr><th>{html.escape(p.label)}</th>{tds}</tr>")
    return "<!DOCTYPE html><meta charset=utf-8><table>" + "".join(rows) + "</table>"


LOAD = """const n = performance.getEntriesByType('navigation')[0];
return n.loadEventEnd - n.startTime;"""
HIDDEN = """const u = document.querySelector('li.card[data-change="unchanged"]');
return {hidden: !!u && getComputedStyle(u).display === 'none',
        left: document.querySelectorAll('li.card:not([data-change="unchanged"])').length};"""


def painted(driver: Any, script: str | None = None) -> float:
    """Seconds from running ``script`` to the next frame the browser produces (a 10×10 px
    screenshot waits for it: style, layout and paint of whatever changed)."""
    t0 = time.perf_counter()
    if script:
        driver.execute_script(script)
    driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "clip": {"x": 0, "y": 0, "width": 10, "height": 10, "scale": 1}},
    )
    return time.perf_counter() - t0


def in_browser(pages: dict[str, Path], runs: int) -> dict[str, dict[str, float]] | None:
    """Medians per page (pages taking turns, a fresh load each time): load event, the filter
    on, a jump to the bottom, each to its next painted frame; None without a browser."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import Browser, available

    if not available():
        return None
    browser = Browser(1600, 1000)
    got: dict[str, dict[str, list[float]]] = {n: {} for n in pages}
    try:
        for _ in range(runs):
            for name, path in pages.items():
                d = browser.open(path)
                r = got[name]
                r.setdefault("load", []).append(d.execute_script(LOAD))
                idle = min(painted(d) for _ in range(3))  # a frame with nothing to do
                if d.find_elements("id", "only-changes"):
                    click = "document.getElementById('only-changes').click()"
                    r.setdefault("filter", []).append((painted(d, click) - idle) * 1e3)
                    state = d.execute_script(HIDDEN)
                    assert state["hidden"], "the filter did not hide unchanged cards"
                    r.setdefault("left", []).append(state["left"])
                    painted(d, click)
                step = "window.scrollBy(0, window.innerHeight)"
                r.setdefault("page", []).append(
                    statistics.median((painted(d, step) - idle) * 1e3 for _ in range(5))
                )
                bottom = "window.scrollTo(0, document.body.scrollHeight)"
                r.setdefault("scroll", []).append((painted(d, bottom) - idle) * 1e3)
                assert browser.requests() == [], "the page asked for the network"
    finally:
        browser.close()
    return {n: {k: statistics.median(v) for k, v in r.items()} for n, r in got.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    ap.add_argument("--write", action="store_true", help="write the table into RESULTS.md")
    args = ap.parse_args(argv)
    runs = 5 if args.quick else 21
    lines = ["| measure | wikisync | floor | ratio | target |", "|---|---:|---:|---:|---|"]
    ok = True
    sizes: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pages: dict[str, Path] = {}
        for cards in (75, 10_000):
            cs = changeset(cards)
            assert cs.new_roadmap is not None
            new = cs.new_roadmap
            jobs: dict[str, Callable[[], object]] = {
                "wikisync": partial(render_diff_html, cs),
                "floor": partial(floor_html, new),
            }
            t = interleaved_times(jobs, runs if cards < 1000 else max(3, runs // 4))
            page = render_diff_html(cs)
            sizes[cards] = f"{len(page.encode()) / 1e6:.2f} MB, {len(cs.changes)} changes"
            ms, floor = t["wikisync"] * 1e3, t["floor"] * 1e3
            verdict = ""
            if cards == 75:
                passed = ms < TARGET_SMALL_MS
                ok &= passed
                verdict = f"< {TARGET_SMALL_MS:.0f} ms: {'PASS' if passed else 'MISS'}"
            lines.append(
                f"| render the HTML diff, {cards:,} cards ({sizes[cards]}) | {ms:.1f} ms "
                f"| {floor:.1f} ms | {ms / floor:.1f}× | {verdict} |"
            )
            if cards == 10_000:
                pages["wikisync"] = Path(tmp) / "diff.html"
                pages["wikisync"].write_text(page, encoding="utf-8")
                pages["floor"] = Path(tmp) / "floor.html"
                pages["floor"].write_text(floor_html(new), encoding="utf-8")
        b = in_browser(pages, 3)
    if b is None:
        lines.append("| 10,000 cards in headless Chromium | not measured: no chromium | | | |")
    else:
        w, f = b["wikisync"], b["floor"]
        load_ok = w["load"] < TARGET_LOAD_MS
        filter_ok = w["filter"] < TARGET_FILTER_MS
        ok &= load_ok and filter_ok
        lines.append(
            f"| 10,000 cards: open from file:// to the load event | {w['load']:.0f} ms "
            f"| {f['load']:.0f} ms | {w['load'] / f['load']:.1f}× "
            f"| < {TARGET_LOAD_MS:.0f} ms: {'PASS' if load_ok else 'MISS'} |"
        )
        lines.append(
            f'| 10,000 cards: tick "show only changed cards" → next painted frame '
            f"({w['left']:.0f} cards left) | {w['filter']:.0f} ms | | "
            f"| < {TARGET_FILTER_MS:.0f} ms: {'PASS' if filter_ok else 'MISS'} |"
        )
        lines.append(
            f"| 10,000 cards: scroll down one screen → next painted frame | {w['page']:.0f} ms "
            f"| {f['page']:.0f} ms | | |"
        )
        lines.append(
            f"| 10,000 cards: jump to the bottom → next painted frame | {w['scroll']:.0f} ms "
            f"| {f['scroll']:.0f} ms | | |"
        )
    m = machine()
    body = "\n".join(
        [
            f"Measured {m['date']} on {m['cpu']}, {m['python']}; "
            f"`python benchmarks/html_report.py{' --quick' if args.quick else ''}`.",
            "",
            *lines,
        ]
    )
    print(body)
    if args.write:
        replace_section(RESULTS, "html", body)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
