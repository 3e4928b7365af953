"""Speed of ``wikisync stats`` over a 1,000-version store, beside baselines run side by side.

Usage: ``python benchmarks/stats.py [--versions 1000] [--cards 75] [--runs 3] [--store DIR]``

Builds a store of ``--versions`` versions of one synthetic page (benchmarks/generate.py), each
version a few planted edits (moves, additions, deletions, renames, stage changes) after the
one before, stored as wikisync stores them (raw body + roadmap.json). Then times, in rounds
(each contender once per round, in turn; the median is shown):

- ``decode``: only ``json.loads`` of every roadmap.json: the floor under any reader;
- ``read``: reading every stored roadmap one by one (``Store.roadmap``), as ``history`` does;
- ``stats``: ``compute_stats`` from a fresh ``Store`` (reads every roadmap, chains the matches
  into lineages, computes the numbers) and renders every format (table, json, csv, svg);
- ``history``: ``wikisync history`` computed the same way (read + diff every consecutive pair +
  render): the existing command doing the most similar work;
- ``stats (CLI)``: ``python -m wikisync --store DIR stats NAME`` in a fresh process, start-up
  included: what a user waits for.

It also checks the planted journeys at this scale: every card's deferrals, moves up and periods
slipped against where the generator put it. Exits 1 when stats takes 2 s of CPU or more (wall
time is shown beside it: on a shared machine it is several times the CPU time), or when any
planted count comes out wrong. Nothing is reparsed: stats reads the stored roadmaps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import Page, expected_items, generate_page, plant_edits, render
from wikisync.diff import diff_roadmaps, normalize_title
from wikisync.lineage import Lineages, Version, build_lineages
from wikisync.model import ChangeSet, Document, SourceMeta
from wikisync.parse import parse_text
from wikisync.render import render_history
from wikisync.stats import compute_stats, render_stats
from wikisync.store import Store

PAGE = "bench-roadmap"
TARGET_SECONDS = 2.0
KINDS = (
    "defer",
    "move_up",
    "to_backlog",
    "from_backlog",
    "add",
    "delete",
    "stage",
    "rename_small",
)


def build_store(root: Path, versions: int, cards: int, seed: int = 7) -> list[Page]:
    """Store ``versions`` versions of one page under ``root`` (kept when already there);
    returns the generator's pages."""
    store = Store(root)
    page = generate_page(cards, seed=seed, spans=0.0)
    pages = [page]
    for k in range(1, versions):
        edited, _ = plant_edits(pages[-1], 2, seed=seed * 10_000 + k, kinds=KINDS)
        pages.append(edited)
    stored = len(store.snapshots(PAGE)) if PAGE in store.pages() else 0
    if stored == versions:
        return pages
    with store.lock():
        for k, p in enumerate(pages):
            body = render(p)
            day = time.gmtime(1_600_000_000 + 86_400 * k)
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", day)
            doc = Document({"storage": body}, SourceMeta(version=k + 1, when=when, source="file"))
            store.put(PAGE, doc, parse_text(body))
    return pages


def decode_only(root: Path) -> int:
    """The floor under any reader of stored roadmaps: decoding every roadmap.json."""
    return sum(
        len(json.loads(p.read_bytes())["items"])
        for p in sorted((root / PAGE).glob("*/roadmap.json"))
    )


def read_all(root: Path) -> int:
    store = Store(root)
    return sum(len(store.roadmap(s).items) for s in store.snapshots(PAGE))


def lineages_of(root: Path) -> Lineages:
    store = Store(root)
    snaps = store.snapshots(PAGE)
    roadmaps = store.roadmaps(snaps)
    return build_lineages(Version.of(s, r) for s, r in zip(snaps, roadmaps, strict=True))


def stats_all_formats(root: Path) -> int:
    stats = compute_stats(lineages_of(root), PAGE)
    return sum(len(render_stats(stats, fmt)) for fmt in ("table", "json", "csv", "svg"))


def history(root: Path) -> int:
    store = Store(root)
    snaps = store.snapshots(PAGE)
    prev_snap, prev = snaps[0], store.roadmap(snaps[0])
    sets = []
    for snap in snaps[1:]:
        cur = store.roadmap(snap)
        sets.append(
            ChangeSet(
                old=prev_snap.version_ref(),
                new=snap.version_ref(),
                changes=diff_roadmaps(prev, cur),
                date=snap.when[:10],
                old_roadmap=prev,
                new_roadmap=cur,
            )
        )
        prev_snap, prev = snap, cur
    sets.reverse()
    return len(render_history(sets, "text"))


def cli(root: Path) -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "wikisync", "--store", str(root), "stats", PAGE],
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return len(proc.stdout)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def rounds(
    contenders: dict[str, Callable[[], object]], runs: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each contender, timed once per round, in turn.

    CPU time is what the work costs whatever else the machine runs; wall time is what a user
    waits for on this machine now (on a shared box, several times the CPU time)."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            c0, t0 = _cpu(), time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0, _cpu() - c0))
    return {
        name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
        for name, ts in times.items()
    }


def planted_errors(pages: list[Page], lineages: Lineages) -> tuple[int, int]:
    """(cards whose counts differ from the planted ones, cards checked)."""
    expect: dict[int, list[int]] = {}
    # A card deleted and later added again with the same title is one card (the lineage
    # rule): the generator may draw a deleted card's title again, under a new uid.
    same: dict[int, int] = {}
    gone: dict[str, list[int]] = {}
    for k in range(1, len(pages)):
        before = {c.uid: p for (p, _), c in pages[k - 1].cards()}
        now = {c.uid: c for _, c in pages[k].cards()}
        for _cell, card in pages[k - 1].cards():
            if card.uid not in now:
                gone.setdefault(normalize_title(card.title), []).append(
                    same.get(card.uid, card.uid)
                )
        for uid, card in now.items():
            if uid not in before and uid not in same:
                earlier = gone.get(normalize_title(card.title))
                if earlier:
                    same[uid] = earlier.pop()
        for (p, _), card in pages[k].cards():
            q = before.get(card.uid)
            e = expect.setdefault(same.get(card.uid, card.uid), [0, 0, 0])
            if q is not None and p > q:
                e[0] += 1
                e[2] += p - q
            elif q is not None and p < q:
                e[1] += 1
    keys: dict[int, dict[tuple[str, str, str, str | None], int]] = {}
    wrong = 0
    for lin in lineages.lineages:
        first = lin.first
        if first.index not in keys:
            keys[first.index] = {e.key: e.uid for e in expected_items(pages[first.index])}
        uid = keys[first.index].get((first.period, first.lane, first.title, first.stage))
        steps = lin.steps
        got = [
            sum("deferred" in s.events for s in steps),
            sum("moved_up" in s.events for s in steps),
            sum(s.slip for s in steps if "deferred" in s.events),
        ]
        if uid is None or expect.get(uid, [0, 0, 0]) != got:
            wrong += 1
    return wrong, len(lineages.lineages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--cards", type=int, default=75, help="cards a page (the real one: 73)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--store", type=Path, help="build (or reuse) the store here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wikisync-stats-") as tmp:
        root = args.store or Path(tmp)
        t0 = time.perf_counter()
        pages = build_store(root, args.versions, args.cards)
        print(f"store: {args.versions} versions of ~{args.cards} cards in {root} (built in "
              f"{time.perf_counter() - t0:.1f} s)")  # fmt: skip
        med = rounds(
            {
                "decode": lambda: decode_only(root),
                "read": lambda: read_all(root),
                "stats": lambda: stats_all_formats(root),
                "history": lambda: history(root),
                "stats (CLI)": lambda: cli(root),
            },
            args.runs,
        )
        wrong, total = planted_errors(pages, lineages_of(root))
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs; medians of {args.runs} rounds")
    print(f"{'':14}{'wall':>8}  {'CPU':>7}  {'CPU × decode':>12}  {'CPU × history':>13}")
    floor, history_cpu = med["decode"][1], med["history"][1]
    for name, (wall, cpu) in med.items():
        print(f"{name:14}{wall:7.2f}s  {cpu:6.2f}s  {cpu / floor:12.2f}  {cpu / history_cpu:13.2f}")
    print(f"planted journeys: {total - wrong} of {total} cards with exactly their counts")
    worst = max(med["stats"][1], med["stats (CLI)"][1])
    ok = worst < TARGET_SECONDS and not wrong
    print(f"target: stats under {TARGET_SECONDS:.0f} s of CPU, every planted count exact: "
          f"{'met' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
