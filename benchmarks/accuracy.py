"""Accuracy: plant edits with known true changes, run wikisync, score precision and recall.

Each version takes a base roadmap (the real page re-rendered, or a synthetic one), applies 1-8
random edits (``generate.plant_edits``), renders both versions, parses them with wikisync, diffs
them and compares the changes with the truth, card by card (cards are identified by the
generator's uids, never by wikisync's ids).

Truth definitions (consistent with wikisync/diff/classify.py):

- A card moved to a later period is Deferred, to an earlier one Moved Up (the Backlog is last),
  whatever else changed about it; else a changed title is Renamed; else any other change
  (stage, organisations, lane, tag, parts of a multi-part card) is Changed.
- Replaced: a card dropped and a *related* card added in the same lane. Related means sharing a
  significant word (4+ letters, not a stage word); the generator's replacement keeps exactly
  one of the old card's words and adds new ones.
- A rename keeps at least one significant word and at least half of the old words. A rewording
  that keeps no word at all (``reword``) is indistinguishable from dropping a card and adding an
  unrelated one, so its truth is Deleted + Added (not Renamed, not Replaced).
- Cards added and dropped independently in one version never share a significant word with
  each other in the same lane (else they would be a replacement by the definition above).

Usage: ``python benchmarks/accuracy.py [--edits 10000] [--seeds N] [--write]``.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import (
    EDIT_KINDS,
    Edit,
    Page,
    Style,
    Truth,
    expected_items,
    generate_page,
    page_from_roadmap,
    plant_edits,
    render,
)
from wikisync.diff import diff_roadmaps
from wikisync.model import CATEGORIES, Change, ChangeSet, Roadmap, VersionRef
from wikisync.parse import parse_text
from wikisync.render import sentences

ROOT = Path(__file__).resolve().parent.parent
REAL_PAGE = ROOT / "tests" / "data" / "openedx" / "current.storage.html"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

#: The brief's targets: precision and recall at least this, per category.
TARGETS: dict[str, float] = {
    "Deferred": 0.99,
    "Moved Up": 0.99,
    "Added": 0.99,
    "Deleted": 0.99,
    "Renamed": 0.95,
    "Replaced": 0.95,
}

# A prediction or truth, comparable: (category, old uid, new uid).
Key = tuple[str, int | None, int | None]


# --------------------------------------------------------------------------- uid mapping


def uid_map(roadmap: Roadmap, page: Page) -> tuple[dict[int, int], int]:
    """``id(item)`` → generator uid for a parsed roadmap; also how many items found no card.

    Cards are keyed by (period, lane, title, stage) in document order; the generator never puts
    two look-alikes in one cell, so the key is unique in practice.
    """
    queues: dict[tuple[str, str, str, str | None], list[int]] = defaultdict(list)
    for e in expected_items(page):
        queues[e.key].append(e.uid)
    for q in queues.values():
        q.reverse()
    out: dict[int, int] = {}
    unmapped = 0
    for it in roadmap.items:
        queue = queues.get((it.period, it.lane, it.title, it.stage))
        if queue:
            out[id(it)] = queue.pop()
        else:
            unmapped += 1
    return out, unmapped


def predictions(
    changes: Iterable[Change], old_uids: dict[int, int], new_uids: dict[int, int]
) -> list[tuple[Key, Change]]:
    """wikisync's changes as (category, old uid, new uid), each with its Change."""
    out: list[tuple[Key, Change]] = []
    for c in changes:
        o = old_uids.get(id(c.old), -1) if c.old is not None else None
        n = new_uids.get(id(c.new), -1) if c.new is not None else None
        out.append(((c.category, o, n), c))
    return out


# --------------------------------------------------------------------------- scoring


@dataclass
class Tally:
    """Counts per category, and what went wrong, with examples."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # edits planted, by kind
    kinds_exact: Counter[str] = field(default_factory=Counter)  # ... reported exactly
    misses: Counter[str] = field(default_factory=Counter)  # miss class -> count
    examples: dict[str, str] = field(default_factory=dict)  # miss class -> first example
    versions: int = 0
    edits: int = 0
    unmapped: int = 0

    def add(
        self,
        edits: Sequence[Edit],
        preds: Sequence[tuple[Key, Change]],
        base: str,
    ) -> None:
        """Score one version: its planted edits against wikisync's predictions."""
        self.versions += 1
        self.edits += len(edits)
        truth: dict[Key, Truth] = {(t.category, t.old, t.new): t for e in edits for t in e.truths}
        predicted = {k: c for k, c in preds}
        for key in truth:
            (self.tp if key in predicted else self.fn)[key[0]] += 1
        for key in predicted:
            if key not in truth:
                self.fp[key[0]] += 1
        by_uid: dict[int, list[tuple[Key, Change]]] = defaultdict(list)
        for key, c in preds:
            for uid in key[1:]:
                if uid is not None:
                    by_uid[uid].append((key, c))
        edit_of: dict[int, Edit] = {}
        for e in edits:
            for t in e.truths:
                for uid in (t.old, t.new):
                    if uid is not None:
                        edit_of[uid] = e
        for e in edits:
            self.kinds[e.kind] += 1
            uids = {u for t in e.truths for u in (t.old, t.new) if u is not None}
            said = {k for u in uids for k, _ in by_uid.get(u, [])}
            want = {(t.category, t.old, t.new) for t in e.truths}
            if said == want:
                self.kinds_exact[e.kind] += 1
                continue
            got = sorted({k[0] for k in said}) or ["nothing"]
            expect = "+".join(sorted(k[0] for k in want)) or "nothing"
            cls = f"{e.kind}: truth {expect}, wikisync {'+'.join(got)}"
            if expect == "+".join(got):
                cls += " (other cards)"
            self._example(cls, e, [c for k, c in preds if k in said])
        for key, c in preds:
            if key in truth:
                continue
            if any(u in edit_of for u in key[1:] if u is not None):
                continue  # counted with its edit above
            cls = f"unedited card: wikisync {key[0]}"
            self._example(cls, None, [c], f"an unedited card of the {base}")

    def _example(
        self, cls: str, edit: Edit | None, changes: Sequence[Change], note: str = ""
    ) -> None:
        self.misses[cls] += 1
        if cls in self.examples:
            return
        said = "; ".join(_said(c) for c in changes) or "no change for this card"
        planted = f"planted {edit.kind}: {edit.description}" if edit else note
        self.examples[cls] = f"{planted} — wikisync: {said}"

    def precision(self, cat: str) -> float | None:
        n = self.tp[cat] + self.fp[cat]
        return self.tp[cat] / n if n else None

    def recall(self, cat: str) -> float | None:
        n = self.tp[cat] + self.fn[cat]
        return self.tp[cat] / n if n else None


def _said(c: Change) -> str:
    cs = ChangeSet(VersionRef("old"), VersionRef("new"), [c], "2000-01-01")
    try:
        text = " ".join(sentences(c, cs))
    except Exception as exc:  # the example must not hide the score
        text = f"(render failed: {exc})"
    score = f", score {c.score:.0f}" if c.score is not None else ""
    return f"{c.category} [{', '.join(c.aspects)}{score}] {text}"


# --------------------------------------------------------------------------- the run


@dataclass
class Base:
    """A base roadmap, its parsed old version per style (parsed once, edited many times)."""

    name: str
    page: Page
    parsed: dict[Style, tuple[Roadmap, dict[int, int]]] = field(default_factory=dict)


def real_base() -> Base:
    roadmap = parse_text(REAL_PAGE.read_bytes())
    return Base("real page", page_from_roadmap(roadmap))


def _style(rng: random.Random) -> Style:
    fmt = "view" if rng.random() < 0.25 else "storage"
    orientation = "columns" if rng.random() < 0.25 else "rows"
    separator = "list" if rng.random() < 0.2 else "dashes"
    return Style(fmt, orientation, separator)


def run(
    edits: int = 10_000,
    seeds: int | None = None,
    seed: int = 0,
    kinds: tuple[str, ...] | None = None,
    progress: bool = False,
) -> Tally:
    """Plant edits over many versions until ``edits`` are scored (or ``seeds`` versions ran)."""
    tally = Tally()
    bases: list[Base] = [real_base()]
    bases += [
        Base(f"synthetic {n} cards", generate_page(n, 1000 + k))
        for k, n in enumerate((60, 80, 100, 120, 150, 200, 250, 300, 400, 500))
    ]
    version = 0
    t0 = time.perf_counter()
    while tally.edits < edits and (seeds is None or version < seeds):
        rng = random.Random(seed * 1_000_003 + version)
        base = bases[0] if version % 3 == 0 else bases[1 + rng.randrange(len(bases) - 1)]
        style = _style(rng)
        n = min(rng.randint(1, 8), edits - tally.edits)
        edited, planted = plant_edits(base.page, n, rng.randrange(2**31), kinds)
        if style not in base.parsed:
            old_rm = parse_text(render(base.page, style), style.fmt)
            base.parsed[style] = (old_rm, uid_map(old_rm, base.page)[0])
        old_rm, old_uids = base.parsed[style]
        new_rm = parse_text(render(edited, style), style.fmt)
        new_uids, unmapped = uid_map(new_rm, edited)
        tally.unmapped += unmapped
        changes = diff_roadmaps(old_rm, new_rm)
        tally.add(planted, predictions(changes, old_uids, new_uids), base.name)
        version += 1
        if progress and version % 200 == 0:
            print(
                f"  {version} versions, {tally.edits} edits, {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
            )
    return tally


# --------------------------------------------------------------------------- report


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.4f}"


def report(tally: Tally, seconds: float, command: str) -> str:
    """The accuracy section of RESULTS.md (Markdown)."""
    lines = [
        f"Command: `{command}` — {tally.edits} planted edits over {tally.versions} versions "
        f"({seconds:.0f} s). Bases: the real page (re-rendered, every third version) and "
        "synthetic pages of 60-500 cards; formats storage/view, periods as rows/columns, dash "
        "or list separators, chosen per version.",
        "",
        "| category | truth | found | false | P | R | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for cat in CATEGORIES:
        p, r = tally.precision(cat), tally.recall(cat)
        target = TARGETS.get(cat)
        verdict = ""
        if target is not None and p is not None and r is not None:
            verdict = "PASS" if p >= target and r >= target else "MISS"
        lines.append(
            f"| {cat} | {tally.tp[cat] + tally.fn[cat]} | {tally.tp[cat]} | {tally.fp[cat]} "
            f"| {_fmt(p)} | {_fmt(r)} | {target if target else '—'} | {verdict} |"
        )
    lines += [
        "",
        "Per edit kind: the share of planted edits whose cards got exactly the true changes "
        "(nothing more, nothing less).",
        "",
        "| edit kind | truth | planted | exact | rate |",
        "|---|---|---:|---:|---:|",
    ]
    for kind in EDIT_KINDS:
        n = tally.kinds[kind]
        if n:
            ok = tally.kinds_exact[kind]
            truth = EDIT_KINDS[kind] or "no change"
            if truth == "*":
                truth = "Deferred / Moved Up"
            lines.append(f"| {kind} | {truth} | {n} | {ok} | {ok / n:.4f} |")
    lines += ["", f"Parsed cards that matched no generated card: {tally.unmapped}.", ""]
    if tally.misses:
        lines += ["Miss classes (count, then the first example):", ""]
        for cls, n in sorted(tally.misses.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"- **{cls}** — {n}. {tally.examples[cls]}")
    else:
        lines.append("No misses.")
    return "\n".join(lines) + "\n"


def replace_section(path: Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in ``path``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def what_if(spec: str) -> None:
    """Set a numeric module constant of wikisync.diff (``classify.RELATED_THRESHOLD=60``) for
    this process: how a proposed threshold would score, without editing wikisync."""
    name, _, value = spec.partition("=")
    module_name, _, const = name.partition(".")
    try:
        module = importlib.import_module(f"wikisync.diff.{module_name}")
    except ImportError:
        raise ValueError(f"--what-if: no module wikisync.diff.{module_name}") from None
    current = getattr(module, const, None)
    if not isinstance(current, int | float) or not value:
        raise ValueError(f"--what-if: wikisync.diff.{name} is not a numeric constant")
    setattr(module, const, type(current)(float(value)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Score wikisync's classification on planted edits.")
    ap.add_argument("--edits", type=int, default=10_000, help="planted edits to score in total")
    ap.add_argument("--seeds", type=int, default=None, help="stop after this many versions")
    ap.add_argument("--seed", type=int, default=0, help="base seed (runs are deterministic)")
    ap.add_argument("--kinds", default=None, help="comma-separated edit kinds (default: all)")
    ap.add_argument("--write", action="store_true", help="write the table into RESULTS.md")
    ap.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="MODULE.NAME=VALUE",
        help="measure with a wikisync.diff constant changed, e.g. classify.RELATED_THRESHOLD=60 "
        "(this process only; never with --write)",
    )
    args = ap.parse_args(argv)
    if args.what_if and args.write:
        ap.error("--what-if results are not written to RESULTS.md")
    for spec in args.what_if:
        try:
            what_if(spec)
        except ValueError as exc:
            ap.error(str(exc))
    kinds = tuple(args.kinds.split(",")) if args.kinds else None
    for k in kinds or ():
        if k not in EDIT_KINDS:
            ap.error(f"unknown edit kind {k!r}; known: {', '.join(EDIT_KINDS)}")
    words = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/accuracy.py", *words])
    t0 = time.perf_counter()
    tally = run(args.edits, args.seeds, args.seed, kinds, progress=True)
    text = report(tally, time.perf_counter() - t0, command)
    print(text)
    if args.write:
        replace_section(RESULTS, "accuracy", text)
        print(f"wrote {RESULTS}")
    failed = any(
        (p := tally.precision(c)) is not None
        and (r := tally.recall(c)) is not None
        and (p < t or r < t)
        for c, t in TARGETS.items()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
