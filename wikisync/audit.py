"""Audit the page's hand-written Change History against the stored versions (issue 4).

People keep the Change History by hand; wikisync keeps every version. The audit reads each
written sentence (``parse.history.parse_sentence``), finds the stored versions around the
entry's date, diffs them and says whether the sentence is true: ``confirmed``, ``inaccurate``
(it happened, but the periods, category or card are off), ``not found`` or ``unverifiable`` (no
stored versions cover that date). Every computed change no sentence accounts for is reported as
``undocumented``. The CLI calls ``audit_page`` and ``render_audit``; the JSON shape
(``wikisync.audit/1``) is documented in docs/audit.md.

Dates: an entry dated D is checked against the last version stored before D (UTC day) and the
last version stored on D, or, when none was stored on D, the first one stored after D. Without
a version before D, or any version on or after D (up to the version the history is read from),
the entry is ``unverifiable``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from wikisync.diff import diff_roadmaps
from wikisync.errors import WikisyncError
from wikisync.model import (
    SCHEMA_AUDIT,
    Change,
    ChangeSet,
    Item,
    Roadmap,
    Where,
    WrittenChange,
    lane_section,
)
from wikisync.parse.history import parse_sentence
from wikisync.render import sentences
from wikisync.render.jsonout import dumps
from wikisync.render.markdown import escape_markdown
from wikisync.render.text import lane_word
from wikisync.safe import safe_text
from wikisync.store import Snapshot, Store
from wikisync.timeline import iso_date, show_date

__all__ = [
    "AUDIT_FORMATS",
    "DEFAULT_FAIL_ON",
    "EXIT_FAILED",
    "EXIT_NOTHING_VERIFIED",
    "EXIT_PASSED",
    "GATES",
    "STATUSES",
    "AuditError",
    "AuditReport",
    "AuditedEntry",
    "Documented",
    "GateResult",
    "Undocumented",
    "WrittenChange",
    "audit_page",
    "documented_changes",
    "gate",
    "parse_fail_on",
    "render_audit",
]

#: Statuses of written entries, in the order reports list their counts.
STATUSES: tuple[str, ...] = ("confirmed", "inaccurate", "not found", "unverifiable")
UNDOCUMENTED = "undocumented"
AUDIT_FORMATS: tuple[str, ...] = ("text", "markdown", "json")
MARKS = {
    "confirmed": "✓",
    "inaccurate": "!",
    "not found": "✗",
    "unverifiable": "?",
    UNDOCUMENTED: "+",
}

#: What ``--fail-on`` can name (``not-found`` is the status ``not found``).
GATES: tuple[str, ...] = ("inaccurate", "not-found", "undocumented", "unverifiable")
#: The gate a CI job gets by default: every written entry that could be checked is true.
#: Undocumented changes (edits nobody wrote down) and unverifiable entries (no stored versions
#: around their date) are reported, and fail the gate only when named.
DEFAULT_FAIL_ON: tuple[str, ...] = ("inaccurate", "not-found")
#: Exit codes of the gate (2 stays "error", as for every command).
EXIT_PASSED, EXIT_FAILED, EXIT_NOTHING_VERIFIED = 0, 1, 3

#: A written title this similar to a card's name (0-100, token_set_ratio) names that card ...
TITLE_MATCH = 80.0
#: ... and this similar names it when a written period also agrees and none disagrees.
TITLE_WITH_PERIODS = 60.0
#: Score bonus per agreeing written period (minus per disagreeing one) when ranking pairs.
PERIOD_WEIGHT = 10.0
KIND_WEIGHT = 5.0
#: Organisation and part names written this similar to the real ones are the same.
NAME_MATCH = 85.0

_NON_WORD = re.compile(r"[\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_KIND_WORDS = {
    "moved": "a move",
    "added": "an addition",
    "deleted": "a deletion",
    "changed": "a change to the card",
}


class AuditError(WikisyncError):
    """The audit cannot run as asked (bad --since date, reference to another page, ...)."""


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class AuditedEntry:
    """One written change and the verdict on it."""

    written: WrittenChange
    status: str  # one of STATUSES
    note: str
    change: Change | None = None
    change_text: str | None = None  # the sentence(s) wikisync writes for the change
    versions: tuple[int | None, int | None] | None = None
    snapshots: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.written.date,
            "category": self.written.category,
            "text": self.written.sentence,
            "status": self.status,
            "change": self.change.to_json(text=self.change_text) if self.change else None,
            "versions": list(self.versions) if self.versions else None,
            "snapshots": list(self.snapshots) if self.snapshots else None,
            "note": self.note,
            "written": self.written.to_json(),
        }


@dataclass(frozen=True)
class Undocumented:
    """A change between two consecutive stored versions that no written entry accounts for."""

    date: str  # UTC day of the newer version
    versions: tuple[int | None, int | None]
    snapshots: tuple[str, str]
    author: str | None
    change: Change
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "versions": list(self.versions),
            "snapshots": list(self.snapshots),
            "author": self.author,
            "change": self.change.to_json(text=self.text),
        }


@dataclass
class AuditReport:
    """Everything the audit found; ``render_audit`` turns it into text, Markdown or JSON."""

    page: str
    history_from: str  # the snapshot reference the written history was read from
    history_version: int | None
    history_date: str
    since: str | None
    versions: int  # how many stored versions the audit could use
    compared: int = 0  # pairs of consecutive versions searched for undocumented changes
    entries: list[AuditedEntry] = field(default_factory=list)
    undocumented: list[Undocumented] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys((*STATUSES, UNDOCUMENTED), 0)
        for e in self.entries:
            counts[e.status] += 1
        counts[UNDOCUMENTED] = len(self.undocumented)
        return counts

    @property
    def exit_code(self) -> int:
        """The exit code of the default gate (``DEFAULT_FAIL_ON``); see ``gate``."""
        return gate(self).code

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_AUDIT,
            "page": self.page,
            "history_from": self.history_from,
            "since": self.since,
            "entries": [e.to_json() for e in self.entries],
            "undocumented": [u.to_json() for u in self.undocumented],
            "summary": self.summary,
        }


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class GateResult:
    """What the gate decided: its exit code, and one line saying why ("" when it passed)."""

    code: int
    reason: str


def parse_fail_on(text: str) -> tuple[str, ...]:
    """``--fail-on``: a comma-separated list of ``GATES``, ``all``, or ``none``."""
    names = [n.strip().lower().replace(" ", "-") for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return GATES
    if names == ["none"]:
        return ()
    unknown = [n for n in names if n not in GATES]
    if unknown or not names:
        raise AuditError(
            f"--fail-on: unknown value {', '.join(unknown) or repr(text)} "
            f"(expected a comma-separated list of {', '.join(GATES)}, or all, or none)"
        )
    return tuple(g for g in GATES if g in names)


def gate(report: AuditReport, fail_on: Sequence[str] = DEFAULT_FAIL_ON) -> GateResult:
    """Decide the audit's exit code: 1 when a status named in ``fail_on`` occurs, else 3 when
    the audit verified nothing, else 0.

    Verified nothing: no written entry could be checked against stored versions (none was
    confirmed, inaccurate or not found), and, unless ``undocumented`` is gated and two
    versions were compared, nothing else was checked either. A gate that checked nothing must
    not look like one that passed: one stored version, or a ``--since`` after every entry.
    """
    s = report.summary
    failed = [
        f"{s[status]} {status}"
        for status in (g.replace("-", " ") for g in GATES if g in fail_on)
        if s[status]
    ]
    named = ",".join(g for g in GATES if g in fail_on) or "none"
    if failed:
        return GateResult(EXIT_FAILED, f"audit failed: {', '.join(failed)} (--fail-on {named})")
    checked = s["confirmed"] + s["inaccurate"] + s["not found"]
    if checked == 0 and not ("undocumented" in fail_on and report.compared):
        what = (
            f"{len(report.entries)} written change(s), none of them covered by stored versions"
            if report.entries
            else "no written change to check"
        )
        noun = "version" if report.versions == 1 else "versions"
        return GateResult(
            EXIT_NOTHING_VERIFIED,
            f"audit verified nothing: {what} ({report.versions} stored {noun}; "
            "`wikisync backfill` stores a page's older versions)",
        )
    return GateResult(EXIT_PASSED, "")


# --------------------------------------------------------------------------- versions


#: A card's title within its roadmap (None on a page of one roadmap).
_Titled = tuple[str | None, str]


def _sections(old: Roadmap, new: Roadmap) -> tuple[str, ...]:
    """The roadmaps of a page of several, as the renderer names them (new version first)."""
    return tuple(dict.fromkeys((*new.sections, *old.sections)))


def _card_section(c: Change, side: str, sections: tuple[str, ...]) -> str | None:
    """The roadmap change ``c``'s card is in on ``side`` ("old" or "new")."""
    if not sections:
        return None
    item = c.old if side == "old" else c.new
    where = c.from_ if side == "old" else c.to
    lane = item.lane if item is not None else where.lane if where is not None else ""
    return lane_section(lane, sections)


def _renames(changes: Iterable[Change], sections: tuple[str, ...]) -> dict[_Titled, set[_Titled]]:
    """The renames among one pair's ``changes``: a card's (roadmap, title) before, to after."""
    out: dict[_Titled, set[_Titled]] = {}
    for c in changes:
        if c.old_title and c.old_title != c.title and c.category != "Replaced":
            before = (_card_section(c, "old", sections), c.old_title)
            out.setdefault(before, set()).add((_card_section(c, "new", sections), c.title))
    return out


@dataclass
class _Versions:
    """The stored versions the audit may use, with their diffs computed once."""

    snaps: list[Snapshot]
    roadmaps: list[Roadmap]
    _diffs: dict[tuple[int, int], list[Change]] = field(default_factory=dict)
    _sets: dict[tuple[int, int], ChangeSet] = field(default_factory=dict)
    _texts: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    _pairs: dict[tuple[int, int], _Pair] = field(default_factory=dict)

    @property
    def consecutive(self) -> list[tuple[int, int]]:
        return [(i, i + 1) for i in range(len(self.snaps) - 1)]

    @functools.cached_property
    def later(self) -> dict[_Titled, set[str]]:
        """Every title a card went on to have, from the renames between consecutive versions,
        by (roadmap, title): on a page of several roadmaps, a rename in one lends no name to a
        card of the same title in another (the roadmap is None on a page of one)."""
        step: dict[_Titled, set[_Titled]] = {}
        for a, b in self.consecutive:
            sections = _sections(self.roadmaps[a], self.roadmaps[b])
            for before, after in _renames(self.diff(a, b), sections).items():
                step.setdefault(before, set()).update(after)
        out: dict[_Titled, set[str]] = {}
        for start in step:
            seen: set[_Titled] = set()
            todo = list(step[start])
            while todo:
                t = todo.pop()
                if t in seen or t == start:
                    continue
                seen.add(t)
                todo.extend(step.get(t, ()))
            out[start] = {title for _section, title in seen}
        return out

    def day(self, i: int) -> str:
        return self.snaps[i].when[:10]

    def name(self, i: int) -> str:
        v = self.snaps[i].version
        return f"v{v}" if v is not None else self.snaps[i].id

    def diff(self, a: int, b: int) -> list[Change]:
        if (a, b) not in self._diffs:
            self._diffs[(a, b)] = diff_roadmaps(self.roadmaps[a], self.roadmaps[b])
        return self._diffs[(a, b)]

    def pair(self, a: int, b: int) -> _Pair:
        if (a, b) not in self._pairs:
            old, new = self.roadmaps[a], self.roadmaps[b]
            self._pairs[(a, b)] = _Pair(
                self.diff(a, b), old, new, self.later, _multi_part(old), _multi_part(new)
            )
        return self._pairs[(a, b)]

    def changeset(self, a: int, b: int) -> ChangeSet:
        if (a, b) not in self._sets:
            self._sets[(a, b)] = ChangeSet(
                old=self.snaps[a].version_ref(),
                new=self.snaps[b].version_ref(),
                changes=self.diff(a, b),
                date=self.day(b),
                old_roadmap=self.roadmaps[a],
                new_roadmap=self.roadmaps[b],
            )
        return self._sets[(a, b)]

    def text(self, a: int, b: int, ci: int) -> str:
        """The sentence(s) wikisync writes for change ``ci`` of the pair, joined by a space."""
        if (a, b) not in self._texts:
            cs = self.changeset(a, b)
            self._texts[(a, b)] = [" ".join(sentences(c, cs)) for c in cs.changes]
        return self._texts[(a, b)][ci]

    def cover(self, date: str) -> tuple[int, int] | str:
        """The pair of versions around an edit made on ``date``, or why there is none."""
        if not _ISO_DAY.fullmatch(date):
            return "the entry has no date" if not date else f"“{date}” is not a date"
        before = [i for i in range(len(self.snaps)) if self.day(i) < date]
        if not before:
            return f"no stored version before {date} (the first is {self.name(0)} of {self.day(0)})"
        # Versions are in version order; a date can run backwards (a server clock, a restore),
        # so the new side is looked for only after the old one.
        on = [i for i in range(before[-1] + 1, len(self.snaps)) if self.day(i) == date]
        after = [i for i in range(before[-1] + 1, len(self.snaps)) if self.day(i) > date]
        if on:
            return before[-1], on[-1]
        if after:
            return before[-1], after[0]
        last = len(self.snaps) - 1
        return (
            f"no stored version on or after {date} "
            f"(the last is {self.name(last)} of {self.day(last)})"
        )


# --------------------------------------------------------------------------- similarity


@functools.lru_cache(maxsize=65536)
def _norm(text: str) -> str:
    """Words only, lower case, letters apart from digits (``Elasticsearch7.8``: 3 words)."""
    text = _LETTER_DIGIT.sub(" ", text.casefold())
    return " ".join(_NON_WORD.sub(" ", text).split())


def _similarity(written: str, name: str) -> tuple[float, float]:
    """(lenient, strict) similarity of two titles, 0-100.

    Lenient is token_set_ratio: a shortened title, a ``Doc:`` prefix or a stage in the text
    still scores 100. A one-word title is held to the strict score, or it would name every
    card containing that word.
    """
    a, b = _norm(written), _norm(name)
    if not a or not b:
        return 0.0, 0.0
    strict = float(fuzz.token_sort_ratio(a, b))
    lenient = float(fuzz.token_set_ratio(a, b))
    if len(a.split()) == 1 and len(b.split()) > 1:
        lenient = max(strict, float(fuzz.ratio(a, b)))
    return lenient, strict


def _same_name(written: str, names: Iterable[str]) -> bool:
    a = _norm(written)
    return any(a and (a == _norm(n) or fuzz.ratio(a, _norm(n)) >= NAME_MATCH) for n in names)


@dataclass(frozen=True)
class _Name:
    """A name a change's card goes by, and how to explain a match on it."""

    text: str
    via: str = ""  # "" for the card's own title; else "via its part “X”", ...


def _item_names(item: Item | None) -> list[_Name]:
    if item is None:
        return []
    out = [_Name(item.title)]
    if item.stage:
        out.append(_Name(f"{item.title} {item.stage}"))
    if item.tags:  # a tag lozenge is part of the title; people may leave it out
        bare = item.title
        for tag in item.tags:
            if bare.casefold().startswith(tag.casefold() + " "):
                bare = bare[len(tag) + 1 :]
        if bare != item.title:
            out.append(_Name(bare))
    if len(item.parts) > 1:
        out.extend(_Name(p.text, f"via its part “{p.text}”") for p in item.parts)
    return out


def _side_names(c: Change, side: str) -> list[_Name]:
    """Names of the card on one side (``old``/``new``) of a change, or both (``*``)."""
    out: list[_Name] = []
    if side in ("old", "*"):
        if c.old_title:
            out.append(_Name(c.old_title))
        out.extend(_item_names(c.old))
        if c.old is None and c.new is None and c.category == "Deleted":
            out.append(_Name(c.title))
    if side in ("new", "*"):
        out.append(_Name(c.title))
        out.extend(_item_names(c.new))
    return out


@dataclass
class _Pair:
    """What matching needs about one pair of versions."""

    changes: list[Change]
    old: Roadmap
    new: Roadmap
    later: dict[_Titled, set[str]]  # (roadmap, title) -> the card's later titles
    old_multi: dict[str, list[Item]]  # period label -> multi-part cards (split sources)
    new_multi: dict[str, list[Item]]  # ... (merge targets)
    _flat: tuple[list[str], npt.NDArray[np.intp]] | None = None

    @functools.cached_property
    def sections(self) -> tuple[str, ...]:
        """The roadmaps of a page of several, as the renderer names them (new version first)."""
        return _sections(self.old, self.new)

    @functools.cached_property
    def _change_sections(self) -> list[set[str | None]]:
        out: list[set[str | None]] = []
        for c in self.changes:
            lanes = [w.lane for w in (c.from_, c.to) if w is not None]
            lanes += [i.lane for i in (c.old, c.new) if i is not None]
            out.append({lane_section(lane, self.sections) for lane in lanes})
        return out

    def in_section(self, ci: int, section: str | None) -> bool:
        """A sentence led by a roadmap's name speaks only of that roadmap's changes."""
        return section is None or section in self._change_sections[ci]

    def sections_of(self, ci: int) -> set[str | None]:
        """The roadmaps change ``ci`` is in (``{None}`` on a page of one)."""
        return self._change_sections[ci]

    def item_in_section(self, item: Item, section: str | None) -> bool:
        return section is None or lane_section(item.lane, self.sections) == section

    def names(self, ci: int, side: str) -> list[_Name]:
        """Every name the card of change ``ci`` goes by on ``side``, later names included."""
        names = _side_names(self.changes[ci], side)
        sections = self.sections_of(ci)
        for n in list(names):  # a card renamed later: people write the name it has now
            later = sorted({t for sec in sections for t in self.later.get((sec, n.text), ())})
            names.extend(_Name(t, f"by its later name “{t}”") for t in later)
        return names

    def shortlist(self, w: WrittenChange, *, by_periods: bool = False) -> list[int]:
        """The changes worth scoring in full for ``w``.

        By title (one vectorised pass): any of its names reaches TITLE_WITH_PERIODS, an upper
        bound of what ``_candidate`` can score. By periods (the card-differs fallback): a move
        whose written periods no period of the change contradicts. Either way only changes of
        the roadmap the sentence is led by, if any (``WrittenChange.section``).
        """
        if self._flat is None:
            flat: list[str] = []
            owners: list[int] = []
            for ci in range(len(self.changes)):
                for n in self.names(ci, "*"):
                    flat.append(_norm(n.text))
                    owners.append(ci)
            self._flat = (flat, np.asarray(owners, dtype=np.intp))
        texts, owner = self._flat
        keep: set[int] = set()
        query = _norm(w.title)
        if not by_periods:
            if texts and query:
                scores = process.cdist([query], texts, scorer=fuzz.token_set_ratio, workers=1)[0]
                keep.update(int(ci) for ci in owner[scores >= TITLE_WITH_PERIODS])
        elif w.kind == "moved" and w.from_period is not None and w.to_period is not None:
            for ci, c in enumerate(self.changes):
                src = c.from_.period if c.from_ is not None else None
                dst = c.to.period if c.to is not None else None
                if (src == w.from_period or src is None) and (dst == w.to_period or dst is None):
                    keep.add(ci)
        return sorted(ci for ci in keep if self.in_section(ci, w.section))


@dataclass(frozen=True)
class _Candidate:
    """A computed change a written one may describe, with the evidence for it."""

    ci: int
    slots: tuple[tuple[int, str], ...]
    similarity: float
    strict: float
    name: _Name
    src: Where | None  # where the card really came from (a split: the card it was part of)
    dst: Where | None  # where it really went (a merge: the card it became part of)
    agree: int
    disagree: int
    kind_ok: bool
    category: str = ""  # the category a reader would file it under (a split's: by direction)
    how: str = ""  # "split from “X”", "merged into “X”"
    also: tuple[int, ...] = ()  # the other change of a split or merge, accounted for too

    @property
    def rank(self) -> tuple[float, float, int]:
        score = (
            self.similarity
            + PERIOD_WEIGHT * (self.agree - self.disagree)
            + (KIND_WEIGHT if self.kind_ok else 0.0)
        )
        return (-score, -self.strict, self.ci)

    @property
    def acceptable(self) -> bool:
        if self.similarity >= TITLE_MATCH:
            return True
        return self.similarity >= TITLE_WITH_PERIODS and self.agree > 0 and self.disagree == 0


def _side(w: WrittenChange, c: Change) -> str:
    """Which side of a change a written sentence talks about."""
    if c.category == "Replaced":
        if w.kind == "deleted":
            return "old"
        if w.kind == "added":
            return "new"
    return "*"


def _slots(ci: int, c: Change, side: str) -> tuple[tuple[int, str], ...]:
    """What a match uses up: a replacement has two halves, each one sentence may claim."""
    if c.category != "Replaced":
        return ((ci, "*"),)
    if side == "*":
        return ((ci, "old"), (ci, "new"))
    return ((ci, side),)


def _expected_kinds(c: Change, side: str) -> set[str]:
    if c.category == "Replaced":
        return {"deleted"} if side == "old" else {"added"} if side == "new" else set()
    kinds = {
        "Deferred": {"moved"},
        "Moved Up": {"moved"},
        "Added": {"added"},
        "Deleted": {"deleted"},
    }.get(c.category, {"changed"})
    if {"deferred", "moved_up"} & set(c.aspects):
        kinds = kinds | {"moved"}
    if c.old is not None and c.new is not None:
        kinds = kinds | {"changed"}  # "Added “X” to the “Y” card" is true of a moved card too
    return kinds


Claim = tuple[str, str | None, str, Where | None, str | None]


def _period_claims(
    w: WrittenChange, src: Where | None, dst: Where | None, c: Change | None = None
) -> list[Claim]:
    """(word, written label, written name, real Where, real start day) for every period the
    sentence states; the days (ISO) are the card's starts in the change ``c``, when given."""
    old_day = c.old.start if c is not None and c.old is not None else None
    new_day = c.new.start if c is not None and c.new is not None else None
    claims: list[Claim] = []
    if w.kind == "changed":
        if w.to_name is not None:
            claims.append(("in", w.to_period, w.to_name, dst or src, new_day or old_day))
        return claims
    if w.from_name is not None:
        claims.append(("from", w.from_period, w.from_name, src, old_day))
    if w.to_name is not None:
        word = "to" if w.kind == "moved" else "in"
        claims.append((word, w.to_period, w.to_name, dst, new_day))
    return claims


def _item_where(rm: Roadmap, item: Item) -> Where:
    p = rm.period(item.period)
    return Where(item.period, p.short if p else item.period, item.lane, item.period_end)


def _multi_part(rm: Roadmap) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for item in rm.items:
        if len(item.parts) > 1:
            out.setdefault(item.period, []).append(item)
    return out


def _carrier(
    multi: dict[str, list[Item]],
    period: str | None,
    names: Sequence[str],
    keep: Callable[[Item], bool],
) -> Item | None:
    """The multi-part card in ``period`` (one ``keep`` accepts) with a part called like one of
    ``names``."""
    if period is None:
        return None
    for item in multi.get(period, ()):
        if not keep(item):
            continue
        for part in item.parts:
            if any(_similarity(n, part.text)[0] >= NAME_MATCH for n in names if n):
                return item
    return None


@dataclass(frozen=True)
class _Special:
    src: Where | None
    dst: Where | None
    category: str
    how: str
    also: tuple[int, ...]


def _direction(pair: _Pair, src: Where | None, dst: Where | None) -> str:
    """Deferred or Moved Up, by the periods' order (the newer version's order first)."""
    order = {p.label: p.index for p in pair.old.periods}
    order.update((p.label, p.index) for p in pair.new.periods)
    a = order.get(src.period) if src else None
    b = order.get(dst.period) if dst else None
    if a is None or b is None or a == b:
        return "Changed"
    return "Deferred" if b > a else "Moved Up"


def _split_or_merge(w: WrittenChange, c: Change, pair: _Pair) -> _Special | None:
    """A move of a part, really a split (the part became a card of its own: an Added change)
    or a merge (a card became part of another: a Deleted change)."""
    if w.kind != "moved":
        return None
    names = [w.title, c.title]

    def keep(item: Item) -> bool:
        return pair.item_in_section(item, w.section)

    if c.category == "Added" and c.new is not None:
        item = _carrier(pair.old_multi, w.from_period, names, keep)
        if item is not None:
            src = _item_where(pair.old, item)
            also = tuple(
                i for i, o in enumerate(pair.changes) if o.old is not None and o.old.id == item.id
            )
            how = f"split from “{item.title}”"
            return _Special(src, c.to, _direction(pair, src, c.to), how, also)
    if c.category == "Deleted" and c.old is not None:
        item = _carrier(pair.new_multi, w.to_period, names, keep)
        if item is not None:
            dst = _item_where(pair.new, item)
            also = tuple(
                i for i, o in enumerate(pair.changes) if o.new is not None and o.new.id == item.id
            )
            how = f"merged into “{item.title}”"
            return _Special(c.from_, dst, _direction(pair, c.from_, dst), how, also)
    return None


def _agrees(label: str | None, where: Where | None) -> bool:
    return (
        label is not None
        and where is not None
        and label in (where.period, where.period_end or where.period)
    )


def _claim_agrees(claim: Claim) -> bool:
    """The written period is the real one, or, naming no period, is the day the card starts
    there, as wikisync writes a dated card's move (``from 1 Sep 2015 to 2 Nov 2015``)."""
    _, label, name, where, day = claim
    if _agrees(label, where):
        return True
    iso = iso_date(day) if label is None and day else None
    return iso is not None and " ".join(name.split()).casefold() in (show_date(iso).casefold(), iso)


def _candidate(w: WrittenChange, ci: int, pair: _Pair) -> _Candidate:
    c = pair.changes[ci]
    side = _side(w, c)
    names = pair.names(ci, side)
    # The card's own names win ties: "via its part" only explains a match no own name makes.
    best = max(
        ((*_similarity(w.title, n.text), not n.via, -i, n) for i, n in enumerate(names)),
        key=lambda t: (t[0], t[2], t[1], t[3]),
    )
    src, dst, category = c.from_, c.to, c.category
    kind_ok = w.kind in _expected_kinds(c, side)
    how = ""
    also: tuple[int, ...] = ()
    special = _split_or_merge(w, c, pair) if not kind_ok else None
    if special is not None:
        src, dst, category, how, also = (
            special.src,
            special.dst,
            special.category,
            special.how,
            special.also,
        )
        kind_ok = True
    claims = _period_claims(w, src, dst, None if special else c)
    agree = sum(1 for claim in claims if _claim_agrees(claim))
    return _Candidate(
        ci=ci,
        slots=_slots(ci, c, side),
        similarity=best[0],
        strict=best[1],
        name=best[4],
        src=src,
        dst=dst,
        agree=agree,
        disagree=len(claims) - agree,
        kind_ok=kind_ok,
        category=category,
        how=how,
        also=also,
    )


# --------------------------------------------------------------------------- verdicts


def _short(where: Where | None) -> str:
    return str(where.short) if where is not None else "nowhere"


def _lane_words(*roadmaps: Roadmap) -> list[str]:
    """What these versions call their lanes besides "lane" (a row table's ``Team``)."""
    return [name for rm in roadmaps for name in rm.lane_names.values()]


def _same_lane(written: str | None, real: str) -> bool:
    """A lane as written names the real one: equal, or its last levels (a page of several
    roadmaps writes ``Platform`` for ``Product features / Platform``)."""
    w, r = _fold(written or ""), _fold(real)
    return bool(w) and (w == r or r.endswith(f" / {w}"))


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _lane_problems(w: WrittenChange, c: Change, pair: _Pair | None) -> list[str]:
    """A written lane change (``team Platform → Payments``) checked against the card's lanes."""
    old = c.old.lane if c.old is not None else None
    new = c.new.lane if c.new is not None else None
    word = lane_word(pair.old if pair else None, pair.new if pair else None, old, new)
    written = f"written {word} {w.from_lane} → {w.to_lane}"
    if old is None or new is None or old == new:
        return [f"{written}, really no change of {word}"]
    if _same_lane(w.from_lane, old) and _same_lane(w.to_lane, new):
        return []
    return [f"{written}, really {_lane_tail(old, pair)} → {_lane_tail(new, pair)}"]


def _lane_tail(lane: str, pair: _Pair | None) -> str:
    """A lane as sentences show it: without its roadmap's name on a page of several."""
    for rm in (pair.new, pair.old) if pair else ():
        name = rm.section(lane)
        if name is not None:
            return lane[len(name) + 3 :]
    return lane


def _problems(
    w: WrittenChange, c: Change, cand: _Candidate, pair: _Pair | None = None
) -> list[str]:
    """How a matched sentence differs from what happened; [] when it is exact. ``pair`` (the
    versions compared) names lanes in the page's words."""
    side = _side(w, c)
    out: list[str] = []
    if not cand.kind_ok:
        really = {"Added": "an addition", "Deleted": "a deletion"}.get(
            c.category, c.category.lower()
        )
        out.append(f"written as {_KIND_WORDS.get(w.kind, w.kind)}, really {really}")
    real = cand.category or c.category
    # The page may file "Added “X” and ORG to the “Y” card." under Added: that is fair.
    added_to_card = w.kind == "changed" and w.category == "Added" and bool(w.part or w.orgs)
    if w.category is not None and w.category != real and not added_to_card:
        out.append(f"filed under {w.category}, really {real}")
    for claim in _period_claims(w, cand.src, cand.dst, None if cand.how else c):
        word, label, name, where, _ = claim
        if where is None or _claim_agrees(claim):
            continue
        unknown = " (no period of these versions)" if label is None else ""
        out.append(f"written {word} {name}{unknown}, really {word} {_short(where)}")
    if w.orgs:
        old_names = _org_names(c.old) if side != "new" else []
        gained = [o for o in _org_names(c.new) if o not in old_names]
        missing = [o for o in w.orgs if not _same_name(o, gained)]
        if missing:
            really = ", ".join(gained) if gained else "none"
            out.append(f"written organisations {', '.join(missing)}, really gained {really}")
    if w.part:
        old_parts = [p.text for p in c.old.parts] if c.old else []
        added = [p.text for p in c.new.parts if p.text not in old_parts] if c.new else []
        if not any(_similarity(w.part, p)[0] >= NAME_MATCH for p in added):
            really = ", ".join(f"“{p}”" for p in added) if added else "none"
            out.append(f"written added part “{w.part}”, really added {really}")
    if w.to_lane is not None:
        out.extend(_lane_problems(w, c, pair))
    if w.new_title is not None and _similarity(w.new_title, c.title)[0] < NAME_MATCH:
        out.append(f"written renamed to “{w.new_title}”, really “{c.title}”")
    if not cand.acceptable:
        out.append(f"written “{w.title}”, really “{cand.name.text}”")
    return out


def _org_names(item: Item | None) -> list[str]:
    if item is None:
        return []
    return list(item.org_names) if item.org_names else list(item.orgs)


def _match_note(cand: _Candidate, c: Change, problems: list[str]) -> str:
    title = c.old_title if cand.slots == ((cand.ci, "old"),) and c.old_title else c.title
    bits = [f"title similarity {cand.similarity:.0f}"]
    if cand.agree and not cand.disagree:
        bits.append("periods agree")
    if cand.name.via:
        bits.append(cand.name.via)
    if cand.how:
        bits.append(cand.how)
    note = f"matched “{title}” ({', '.join(bits)})"
    return "; ".join([note, *problems])


def _assign(written: list[tuple[int, WrittenChange]], pair: _Pair) -> dict[int, _Candidate]:
    """One-to-one assignment of written changes to computed ones for one pair of versions.

    Greedy on the best evidence first (title similarity, periods, kind), which is stable and
    explainable. Then a move whose two periods agree exactly with the move of a single
    still-unclaimed card is taken as that card under another name (reported as inaccurate).
    Returns entry index -> candidate.
    """
    cands: list[tuple[tuple[float, float, int, int], _Candidate]] = []
    for ei, w in written:
        for ci in pair.shortlist(w):
            cand = _candidate(w, ci, pair)
            if cand.acceptable:
                cands.append(((*cand.rank[:2], ei, ci), cand))
    cands.sort(key=lambda t: t[0])
    taken: set[tuple[int, str]] = set()
    out: dict[int, _Candidate] = {}
    for (_, _, ei, _), cand in cands:
        if ei in out or taken & set(cand.slots):
            continue
        out[ei] = cand
        taken.update(cand.slots)
    for ei, w in written:  # the card-differs fallback
        if ei in out or w.kind != "moved" or w.from_period is None or w.to_period is None:
            continue
        fits = []
        for ci in pair.shortlist(w, by_periods=True):
            cand = _candidate(w, ci, pair)
            if cand.kind_ok and cand.agree == 2 and not taken & set(cand.slots):
                fits.append(cand)
        if len(fits) == 1:
            out[ei] = fits[0]
            taken.update(fits[0].slots)
    return out


# --------------------------------------------------------------------------- the audit


def _check_since(since: str | None) -> str | None:
    if since is None:
        return None
    since = since.strip()
    try:
        if not _ISO_DAY.fullmatch(since):
            raise ValueError
        datetime.strptime(since, "%Y-%m-%d")
    except ValueError:
        raise AuditError(f"--since must be a date like 2021-01-31, not {since!r}") from None
    return since


def _history_snapshot(store: Store, page: str, history_from: str | None) -> Snapshot:
    ref = history_from.strip() if history_from else "latest"
    if "@" not in ref:
        ref = f"{page}@{ref}"
    snap = store.resolve(ref)
    if snap.page != page:
        raise AuditError(
            f"history_from {history_from!r} is a version of {snap.page!r}, not {page!r}"
        )
    return snap


def audit_page(
    store: Store, page: str, *, since: str | None = None, history_from: str | None = None
) -> AuditReport:
    """Check the written Change History of ``page`` against its stored versions.

    ``history_from`` names the snapshot whose Change History is audited (``NAME@v6``, ``v6``,
    ``latest~1``, a date; default the latest); versions stored after it are not used, since
    its history cannot describe them. ``since`` (``YYYY-MM-DD``) limits the audit to entries
    dated on or after that day and to changes stored on or after it.
    """
    since = _check_since(since)
    head = _history_snapshot(store, page, history_from)
    snaps = store.snapshots(page)
    snaps = snaps[: next(i for i, s in enumerate(snaps) if s.id == head.id) + 1]
    v = _Versions(snaps, list(store.roadmaps(snaps)))  # unchanged cards shared
    history = v.roadmaps[-1].history
    report = AuditReport(
        page=page,
        history_from=f"{page}@{head.id}",
        history_version=head.version,
        history_date=head.when[:10],
        since=since,
        versions=len(snaps),
    )

    # Read each sentence against the periods of the versions it will be checked with.
    written: list[tuple[WrittenChange, tuple[int, int] | str]] = []
    for entry in history:
        if since is not None and not (_ISO_DAY.fullmatch(entry.date) and entry.date >= since):
            continue
        cover = v.cover(entry.date)
        near = [v.roadmaps[cover[1]], v.roadmaps[cover[0]]] if isinstance(cover, tuple) else []
        periods = [p for rm in near or v.roadmaps[-1:] for p in rm.periods]
        words = _lane_words(*(near or v.roadmaps[-1:]))
        # a sentence may be led by the name of a roadmap of the page, then or now
        sections = [s for rm in (*near, v.roadmaps[-1]) for s in rm.sections]
        written.extend(
            (w, cover) for w in parse_sentence(entry, periods, sections=sections, lane_words=words)
        )

    by_pair: dict[tuple[int, int], list[tuple[int, WrittenChange]]] = {}
    for ei, (w, cover) in enumerate(written):
        if isinstance(cover, tuple) and w.kind != "unparsed":
            by_pair.setdefault(cover, []).append((ei, w))
    matched: dict[int, tuple[tuple[int, int], _Candidate]] = {}
    for pair in sorted(by_pair):
        for ei, cand in _assign(by_pair[pair], v.pair(*pair)).items():
            matched[ei] = (pair, cand)

    for ei, (w, cover) in enumerate(written):
        report.entries.append(_verdict(v, w, cover, matched.get(ei)))

    report.undocumented = _undocumented(v, matched, since)
    report.compared = sum(1 for _, b in v.consecutive if since is None or v.day(b) >= since)
    return report


@dataclass(frozen=True)
class Documented:
    """A change of an entry that the page's hand-written Change History already accounts for."""

    index: int  # the change's index in the ChangeSet
    status: str  # "confirmed", or "inaccurate" (written, but the note says what differs)
    written: WrittenChange
    note: str


def documented_changes(cs: ChangeSet, *, since: str | None = None) -> list[Documented]:
    """The changes of ``cs`` that sentences of its new version's written Change History already
    describe, matched as ``audit_page`` matches them (so publish and audit agree).

    Sentences dated from ``since`` on (default: the day of the old version, else the entry's
    own date) are read against the periods of both versions: older ones describe older edits.
    An undated or unreadable sentence documents nothing. Needs the changeset's roadmaps;
    without them nothing is documented. In change order.
    """
    old, new = cs.old_roadmap, cs.new_roadmap
    if old is None or new is None or not cs.changes:
        return []
    if since is None:
        since = cs.old.when[:10] if cs.old.when else cs.date
    periods = [*new.periods, *old.periods]
    sections = [*new.sections, *old.sections]
    words = _lane_words(new, old)
    written = [
        w
        for entry in new.history
        if _ISO_DAY.fullmatch(entry.date) and (since is None or entry.date >= since)
        for w in parse_sentence(entry, periods, sections=sections, lane_words=words)
        if w.kind != "unparsed"
    ]
    if not written:
        return []
    changes = list(cs.changes)
    renamed = _renames(changes, _sections(old, new))
    later = {before: {title for _section, title in after} for before, after in renamed.items()}
    pair = _Pair(changes, old, new, later, _multi_part(old), _multi_part(new))
    out: dict[int, Documented] = {}
    for ei, cand in sorted(_assign(list(enumerate(written)), pair).items()):
        w, c = written[ei], changes[cand.ci]
        problems = _problems(w, c, cand, pair)
        status = "inaccurate" if problems else "confirmed"
        for ci in (cand.ci, *cand.also):
            if ci not in out or (status == "confirmed" and out[ci].status != "confirmed"):
                out[ci] = Documented(ci, status, w, _match_note(cand, c, problems))
    return [out[ci] for ci in sorted(out)]


def _versions_of(v: _Versions, a: int, b: int) -> tuple[int | None, int | None]:
    return (v.snaps[a].version, v.snaps[b].version)


def _verdict(
    v: _Versions,
    w: WrittenChange,
    cover: tuple[int, int] | str,
    match: tuple[tuple[int, int], _Candidate] | None,
) -> AuditedEntry:
    if w.kind == "unparsed":
        return AuditedEntry(w, "not found", "could not read the sentence")
    if isinstance(cover, str):
        return AuditedEntry(w, "unverifiable", cover)
    a, b = cover
    ids = (v.snaps[a].id, v.snaps[b].id)
    if match is not None:
        _, cand = match
        c = v.diff(a, b)[cand.ci]
        problems = _problems(w, c, cand, v.pair(a, b))
        return AuditedEntry(
            w,
            "inaccurate" if problems else "confirmed",
            _match_note(cand, c, problems),
            change=c,
            change_text=v.text(a, b, cand.ci),
            versions=_versions_of(v, a, b),
            snapshots=ids,
        )
    within = f" in {w.section}" if w.section else ""
    note = f"no change to a card like “{w.title}”{within} between {v.name(a)} and {v.name(b)}"
    hint = _elsewhere(v, w, (a, b))
    return AuditedEntry(
        w,
        "not found",
        note + (f"; {hint}" if hint else ""),
        versions=_versions_of(v, a, b),
        snapshots=ids,
    )


def _elsewhere(v: _Versions, w: WrittenChange, pair: tuple[int, int]) -> str:
    """Why nothing matched: the change was taken by another sentence, or happened elsewhen."""
    here = v.pair(*pair)
    taken = [c for c in (_candidate(w, ci, here) for ci in here.shortlist(w)) if c.acceptable]
    if taken:
        best = max(taken, key=lambda c: (c.similarity, -c.ci))
        return f"“{here.changes[best.ci].title}” is already accounted for by another entry"
    for a, b in v.consecutive:
        if (a, b) == pair or (pair[0] <= a and b <= pair[1]):
            continue
        other = v.pair(a, b)
        for ci in other.shortlist(w):
            c = other.changes[ci]
            cand = _candidate(w, ci, other)
            if cand.similarity >= TITLE_MATCH and cand.kind_ok and not cand.disagree:
                return (
                    f"a change like it (“{c.title}”, {c.category}) happened between "
                    f"{v.name(a)} and {v.name(b)} ({v.day(b)})"
                )
    return ""


def _undocumented(
    v: _Versions,
    matched: dict[int, tuple[tuple[int, int], _Candidate]],
    since: str | None,
) -> list[Undocumented]:
    """Changes between consecutive versions that no matched sentence accounts for.

    A sentence checked against a wider pair of versions (several stored on one day, or none on
    its day) accounts for the consecutive changes to the same card inside that pair: same
    title, same roadmap of the page.
    """
    direct: set[tuple[int, int, int]] = set()
    wide: list[tuple[tuple[int, int], set[str], set[str | None]]] = []
    for pair, cand in matched.values():
        a, b = pair
        for ci in (cand.ci, *cand.also):
            if b == a + 1:
                direct.add((a, b, ci))
            else:
                c = v.diff(a, b)[ci]
                names = {t for t in (c.title, c.old_title) if t}
                wide.append((pair, names, v.pair(a, b).sections_of(ci)))
    out: list[Undocumented] = []
    for a, b in v.consecutive:
        if since is not None and v.day(b) < since:
            continue
        for ci, c in enumerate(v.diff(a, b)):
            if (a, b, ci) in direct:
                continue
            names = {t for t in (c.title, c.old_title) if t}
            if any(
                p[0] <= a and b <= p[1] and names & n and v.pair(a, b).sections_of(ci) & s
                for p, n, s in wide
            ):
                continue
            out.append(
                Undocumented(
                    date=v.day(b),
                    versions=_versions_of(v, a, b),
                    snapshots=(v.snaps[a].id, v.snaps[b].id),
                    author=v.snaps[b].author,
                    change=c,
                    text=v.text(a, b, ci),
                )
            )
    return out


# --------------------------------------------------------------------------- rendering


def render_audit(report: AuditReport, fmt: str = "text") -> str:
    """The report as plain text, Markdown or JSON (``wikisync.audit/1``, sorted keys)."""
    if fmt == "json":
        return safe_text(dumps(report.to_json()))
    if fmt == "text":
        return safe_text(_render_text(report))
    if fmt == "markdown":
        return safe_text(_render_markdown(report))
    raise AuditError(f"unknown format {fmt!r} (expected one of {', '.join(AUDIT_FORMATS)})")


def _summary_line(report: AuditReport) -> str:
    s = report.summary
    counts = ", ".join(f"{s[k]} {k}" for k in STATUSES)
    return f"{len(report.entries)} written changes: {counts}; {s[UNDOCUMENTED]} undocumented"


def _head_line(report: AuditReport) -> str:
    v = f"v{report.history_version}, " if report.history_version is not None else ""
    since = f"; since {report.since}" if report.since else ""
    return (
        f"history from {report.history_from} ({v}{report.history_date}); "
        f"{report.versions} stored versions{since}"
    )


def _multi(report: AuditReport) -> set[tuple[str, str]]:
    """Sentences that claim several changes: their verdict lines name the card."""
    seen: dict[tuple[str, str], int] = {}
    for e in report.entries:
        key = (e.written.date, e.written.sentence)
        seen[key] = seen.get(key, 0) + 1
    return {k for k, n in seen.items() if n > 1}


def _by_date(items: list[Undocumented]) -> list[list[Undocumented]]:
    groups: list[list[Undocumented]] = []
    for u in items:
        if groups and (groups[-1][0].date, groups[-1][0].versions) == (u.date, u.versions):
            groups[-1].append(u)
        else:
            groups.append([u])
    return groups


def _span(versions: tuple[int | None, int | None] | None, snapshots: tuple[str, str] | None) -> str:
    """``v5→v6`` (snapshot ids when the versions are unnumbered); "" when not compared."""
    if versions is None or snapshots is None:
        return ""
    old, new = versions
    if old is None or new is None:
        return f"{snapshots[0]}→{snapshots[1]}"
    return f"v{old}→v{new}"


def _where(e: AuditedEntry) -> str:
    return _span(e.versions, e.snapshots)


def _render_text(report: AuditReport) -> str:
    lines = [f"Change History audit of {report.page}", _head_line(report), _summary_line(report)]
    multi = _multi(report)
    if report.entries:
        lines += ["", "Written entries:"]
    for e in report.entries:
        w = e.written
        cat = f" {w.category}:" if w.category else ""
        lines.append(f"{MARKS[e.status]} {w.date or 'undated'}{cat} {w.sentence}")
        about = f"“{w.title}”: " if (w.date, w.sentence) in multi and w.title else ""
        where = f" ({_where(e)})" if _where(e) else ""
        lines.append(f"    {e.status}{where}: {about}{e.note}")
    if report.undocumented:
        lines += ["", f"Undocumented changes ({len(report.undocumented)}):"]
    for group in _by_date(report.undocumented):
        u0 = group[0]
        by = f", {u0.author}" if u0.author else ""
        lines.append(f"{u0.date} ({_span(u0.versions, u0.snapshots)}{by})")
        lines.extend(f"{MARKS[UNDOCUMENTED]} {u.change.category}: {u.text}" for u in group)
    return "\n".join(lines) + "\n"


def _render_markdown(report: AuditReport) -> str:
    md = escape_markdown
    s = report.summary
    lines = [
        f"## Change History audit: {md(report.page)}",
        "",
        md(_head_line(report)[0].upper() + _head_line(report)[1:]) + ".",
        "",
        "| " + " | ".join([*STATUSES, UNDOCUMENTED]) + " |",
        "|" + "---:|" * (len(STATUSES) + 1),
        "| " + " | ".join(str(s[k]) for k in (*STATUSES, UNDOCUMENTED)) + " |",
    ]
    multi = _multi(report)
    if report.entries:
        lines += ["", "### Written entries", ""]
    for e in report.entries:
        w = e.written
        cat = f" · {md(w.category)}" if w.category else ""
        about = f"“{w.title}”: " if (w.date, w.sentence) in multi and w.title else ""
        lines.append(
            f"- {MARKS[e.status]} **{e.status}** · {md(w.date or 'undated')}{cat} · "
            f"{md(w.sentence)}  \n  {md((_where(e) + ': ' if _where(e) else '') + about + e.note)}"
        )
    if report.undocumented:
        lines += ["", "### Undocumented changes", ""]
    for group in _by_date(report.undocumented):
        u0 = group[0]
        by = f", {md(u0.author)}" if u0.author else ""
        lines.append(f"- **{md(u0.date)}** ({md(_span(u0.versions, u0.snapshots))}{by})")
        lines.extend(f"  - {md(u.change.category)}: {md(u.text)}" for u in group)
    return "\n".join(lines) + "\n"
