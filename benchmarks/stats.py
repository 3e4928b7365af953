"""Speed of ``wikisync stats`` over a 1,000-version store, beside baselines run side by side.

Usage: ``python benchmarks/stats.py [--versions 1000] [--cards 75,150,300] [--runs 3]
[--store DIR] [--baseline TREE] [--steps]``

Builds a store of ``--versions`` versions of one synthetic page (benchmarks/generate.py), each
version a few planted edits (moves, additions, deletions, renames, stage changes) after the
one before, stored as wikisync stores them (raw body + roadmap.json). Then times, in rounds
(each contender once per round, in turn; the median is shown):

- ``decode``: only ``json.loads`` of every roadmap.json: the floor under any reader;
- ``read``: reading every stored roadmap one by one (``Store.roadmap``), as ``history`` did;
- ``stats``: ``compute_stats`` from a fresh ``Store`` (reads every roadmap, chains the matches
  into lineages, computes the numbers) and renders every format (table, json, csv, svg);
- ``history``: ``wikisync history`` computed the same way (read + diff every consecutive pair +
  render): the existing command doing the most similar work;
- ``stats (CLI)``: ``python -m wikisync --store DIR stats NAME`` in a fresh process, start-up
  included: what a user waits for.

With ``--baseline TREE`` (another wikisync, e.g. ``git archive COMMIT | tar -x -C TREE``), the
same rounds also run that tree's ``stats`` in process (its own benchmark's ``stats_all_formats``,
timed by a fresh interpreter, as this tree's is beside it) and as a command, plus
``python -c pass`` as a load reference: before and after, side by side on one machine.
``--steps`` adds where the time goes, one step at a time (listing, reading, decoding and building
the roadmaps, lineages, stats, the collector), for this tree and the baseline's.

One store per ``--cards`` size. It also checks the planted journeys at each scale: every card's
deferrals, moves up and periods slipped against where the generator put it. Exits 1 when stats
takes 2 s of CPU or more at 75 or 150 cards (wall time is shown beside it: on a shared machine it
is several times the CPU time), or when any planted count comes out wrong. Nothing is reparsed:
stats reads the stored roadmaps.
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
from wikisync.diff import changesets, normalize_title
from wikisync.lineage import Lineages, Version, build_lineages
from wikisync.model import Document, SourceMeta
from wikisync.parse import parse_text
from wikisync.render import render_history
from wikisync.stats import compute_stats, render_stats
from wikisync.store import Store

PAGE = "bench-roadmap"
TARGET_SECONDS = 2.0
TARGET_CARDS = (75, 150)  # the sizes the 2 s target is checked at (the real page has 73)
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
    walk = changesets(snaps, store.roadmaps(snaps))  # as `wikisync history` walks them
    return len(render_history([cs for _old, _new, cs in walk][::-1], "text"))


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


class Timed(tuple[float, float]):
    """(wall, CPU) seconds a contender measured itself."""


def rounds(
    contenders: dict[str, Callable[[], object]], runs: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each contender, timed once per round, in turn.

    CPU time is what the work costs whatever else the machine runs; wall time is what a user
    waits for on this machine now (on a shared box, several times the CPU time). A contender
    that times itself (in a child process) returns its own ``Timed``."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            c0, t0 = _cpu(), time.perf_counter()
            got = fn()
            took = (time.perf_counter() - t0, _cpu() - c0)
            times[name].append(got if isinstance(got, Timed) else took)
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
        planted = keys[first.index].get((first.period, first.lane, first.title, first.stage))
        steps = lin.steps
        got = [
            sum("deferred" in s.events for s in steps),
            sum("moved_up" in s.events for s in steps),
            sum(s.slip for s in steps if "deferred" in s.events),
        ]
        if planted is None or expect.get(planted, [0, 0, 0]) != got:
            wrong += 1
    return wrong, len(lineages.lineages)


#: Timed in a fresh interpreter, for a tree given as ``--baseline`` and this one alike: the
#: in-process ``stats`` of that tree's own benchmark (its read, lineages, every format).
CHILD = """
import resource, sys, time
from pathlib import Path
from benchmarks.stats import stats_all_formats
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c, t = cpu(), time.perf_counter()
stats_all_formats(Path(sys.argv[1]))
print(time.perf_counter() - t, cpu() - c)
"""


#: Where ``stats`` spends its time, one step at a time, in any tree (this one reads through
#: ``ItemReuse.read``, older ones decoded each file whole and then built it): CPU seconds, the
#: collector paused within the steps and its own cost measured as the whole with it on minus off.
STEPS = """
import gc, resource, statistics, sys, time
from pathlib import Path
from benchmarks.stats import PAGE, stats_all_formats
from wikisync import jsondoc
from wikisync.lineage import Version, build_lineages
from wikisync.stats import compute_stats, render_stats
from wikisync.store import ItemReuse, Store
root, runs = Path(sys.argv[1]), int(sys.argv[2])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
rows = {}
def took(name, since):
    rows.setdefault(name, []).append(cpu() - since)
for _ in range(runs):
    t = cpu(); store = Store(root); snaps = store.snapshots(PAGE); took("list the snapshots", t)
    gc.disable()
    t = cpu(); data = [(s.path / "roadmap.json").read_bytes() for s in snaps]
    took("read the roadmap.json files", t)
    reuse = ItemReuse()
    if hasattr(reuse, "read"):
        t = cpu(); roadmaps = [reuse.read(d) for d in data]; took("decode + build roadmaps", t)
    else:
        decode = build = 0.0
        roadmaps = []
        for d in data:
            t0 = cpu(); doc = jsondoc.loads(d); t1 = cpu()
            roadmaps.append(reuse.build(doc)); t2 = cpu()
            decode += t1 - t0; build += t2 - t1
        rows.setdefault("decode (orjson)", []).append(decode)
        rows.setdefault("build roadmaps (ItemReuse)", []).append(build)
    t = cpu(); lin = build_lineages([Version.of(s, r) for s, r in zip(snaps, roadmaps)])
    took("lineages", t)
    t = cpu(); stats = compute_stats(lin, PAGE)
    [render_stats(stats, f) for f in ("table", "json", "csv", "svg")]
    took("compute_stats + render 4 formats", t)
    gc.enable()
    del store, snaps, data, reuse, roadmaps, lin, stats
    gc.collect()
    t = cpu(); stats_all_formats(root); on = cpu() - t
    gc.disable(); t = cpu(); stats_all_formats(root); off = cpu() - t; gc.enable()
    rows.setdefault("the cyclic collector", []).append(on - off)
for name, values in rows.items():
    print(f"{name}\t{statistics.median(values):.3f}")
"""


STEP_ORDER = (
    "list the snapshots",
    "read the roadmap.json files",
    "decode (orjson)",
    "build roadmaps (ItemReuse)",
    "decode + build roadmaps",
    "lineages",
    "compute_stats + render 4 formats",
    "the cyclic collector",
)


def steps(tree: Path, root: Path, runs: int) -> dict[str, float]:
    """``STEPS`` run by ``tree``'s code in a fresh interpreter: step -> median CPU seconds."""
    proc = subprocess.run(
        [sys.executable, "-c", STEPS, str(root), str(runs)],
        capture_output=True,
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        text=True,
    )
    return {name: float(v) for name, v in (line.split("\t") for line in proc.stdout.splitlines())}


def report_steps(root: Path, runs: int, baseline: Path | None) -> None:
    here = Path(__file__).resolve().parent.parent
    trees = {"this tree": here} | ({"baseline": baseline} if baseline is not None else {})
    got = {name: steps(tree, root, runs) for name, tree in trees.items()}
    names = sorted(
        {step for rows in got.values() for step in rows}, key=lambda step: STEP_ORDER.index(step)
    )
    print(f"{'step (CPU s, medians of ' + str(runs) + ')':36}" + "".join(f"{t:>12}" for t in got))
    for step in names:
        cells = "".join(f"{got[t][step]:12.3f}" if step in got[t] else f"{'':>12}" for t in got)
        print(f"{step:36}{cells}")


def child(tree: Path, root: Path) -> Timed:
    """(wall, CPU) of ``stats_all_formats`` as ``tree``'s own benchmark runs it, measured in
    a fresh interpreter by the interpreter itself (start-up and imports left out)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(root)],
        capture_output=True,
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        text=True,
    )
    wall, cpu = proc.stdout.split()
    return Timed((float(wall), float(cpu)))


def cli_of(tree: Path, root: Path) -> int:
    """``wikisync stats`` of ``tree`` in a fresh process, as ``cli`` runs this tree's."""
    proc = subprocess.run(
        [sys.executable, "-m", "wikisync", "--store", str(root), "stats", PAGE],
        capture_output=True,
        check=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    return len(proc.stdout)


def python_pass() -> None:
    """The load reference: a bare interpreter's start."""
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def one_size(
    root: Path, versions: int, cards: int, runs: int, baseline: Path | None
) -> tuple[dict[str, tuple[float, float]], int, int]:
    """Build (or reuse) the store of one size, time every contender in rounds; returns the
    medians and (wrong, total) planted journeys."""
    t0 = time.perf_counter()
    pages = build_store(root, versions, cards)
    print(f"store: {versions} versions of ~{cards} cards in {root} (built in "
          f"{time.perf_counter() - t0:.1f} s)")  # fmt: skip
    here = Path(__file__).resolve().parent.parent
    contenders: dict[str, Callable[[], object]] = {
        "decode": lambda: decode_only(root),
        "read": lambda: read_all(root),
        "stats": lambda: stats_all_formats(root),
        "history": lambda: history(root),
        "stats (CLI)": lambda: cli(root),
    }
    if baseline is not None:
        contenders |= {
            "stats [child]": lambda: child(here, root),
            "stats [child, baseline]": lambda: child(baseline, root),
            "stats (CLI), baseline": lambda: cli_of(baseline, root),
            "python -c pass": python_pass,
        }
    med = rounds(contenders, runs)
    wrong, total = planted_errors(pages, lineages_of(root))
    return med, wrong, total


def report(med: dict[str, tuple[float, float]], runs: int) -> None:
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs; medians of {runs} rounds")
    print(f"{'':24}{'wall':>8}  {'CPU':>7}  {'CPU × decode':>12}  {'CPU × history':>13}")
    floor, history_cpu = med["decode"][1], med["history"][1]
    for name, (wall, cpu) in med.items():
        print(f"{name:24}{wall:7.2f}s  {cpu:6.2f}s  {cpu / floor:12.2f}  {cpu / history_cpu:13.2f}")
    if "stats [child, baseline]" in med:
        for what, mine, theirs in (
            ("in-process", "stats [child]", "stats [child, baseline]"),
            ("CLI", "stats (CLI)", "stats (CLI), baseline"),
        ):
            print(
                f"baseline ÷ this tree, {what}: CPU {med[theirs][1] / med[mine][1]:.2f}×, "
                f"wall {med[theirs][0] / med[mine][0]:.2f}×"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument(
        "--cards",
        default="75,150,300",
        help="cards a page, one store per size (the real page: 73)",
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--store", type=Path, help="build (or reuse) the stores here: DIR/cards-N")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="a tree of another wikisync (git archive COMMIT | tar -x -C DIR) timed side by side",
    )
    ap.add_argument(
        "--steps",
        action="store_true",
        help="also time stats one step at a time (and the baseline's, with --baseline)",
    )
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.cards.split(",")]
    ok = True
    with tempfile.TemporaryDirectory(prefix="wikisync-stats-") as tmp:
        for cards in sizes:
            root = (args.store or Path(tmp)) / f"cards-{cards}"
            med, wrong, total = one_size(root, args.versions, cards, args.runs, args.baseline)
            report(med, args.runs)
            if args.steps:
                report_steps(root, args.runs, args.baseline)
            print(f"planted journeys: {total - wrong} of {total} cards with exactly their counts")
            worst = max(med["stats"][1], med["stats (CLI)"][1])
            if cards in TARGET_CARDS:
                met = worst < TARGET_SECONDS and not wrong
                print(f"target at {cards} cards: stats under {TARGET_SECONDS:.0f} s of CPU, "
                      f"every planted count exact: {'met' if met else 'MISSED'}")  # fmt: skip
                ok = ok and met
            else:
                ok = ok and not wrong
            print()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
