"""Classify matched and unmatched cards into the changes a reader of the roadmap cares about.

A matched pair becomes at most one ``Change`` however many things changed about it, filed under
what matters most (the period, then the title, then anything else). Unmatched cards become
Replaced when a deleted and an added card in one lane are plainly related (the page's own
history writes "Replaced: Deleted X … Added Y"), else Added or Deleted.
"""

from __future__ import annotations

from typing import Any

from wikisync.diff.match import (
    EXACT,
    PURE_PYTHON_UPTO,
    Matching,
    compact_title,
    content_key,
    fuzzy_text,
    normalize_title,
    similar_pairs,
    similarity,
)
from wikisync.diff.periods import PeriodOrder, Side, lane_ranks
from wikisync.model import ASPECTS, CATEGORIES, Change, FieldChange, Item, Roadmap


def _similarity(a: list[str], b: list[str]) -> Any:
    """``similarity(a, b)``, read as ``sim[r, c]``; a small block (most lanes of a version:
    a deletion and an addition or two) is scored by ``similar_pairs`` in plain Python, the same
    float32 numbers, without importing numpy and rapidfuzz (~80 ms of a command such as
    ``wikisync stats``, whose lineages classify every version)."""
    if len(a) * len(b) > PURE_PYTHON_UPTO:
        return similarity(a, b)
    return {(r, c): score for r, c, score in similar_pairs(a, b, 0.0)}


#: A deleted and an added card in one lane with at least this title similarity are related.
RELATED_THRESHOLD = 60.0
#: Each shared significant word (up to three) counts this much towards relatedness.
SHARED_WORD_WEIGHT = 10.0

STAGE_WORDS = frozenset(
    {
        "adopt",
        "adoption",
        "automated",
        "eval",
        "evaluate",
        "evangelize",
        "implement",
        "pilot",
        "prototype",
        "spike",
        "sustain",
        "via",
    }
)
STOPWORDS = frozenset(
    {
        "about",
        "after",
        "also",
        "before",
        "between",
        "does",
        "each",
        "from",
        "have",
        "into",
        "more",
        "most",
        "only",
        "onto",
        "other",
        "over",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "upon",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "within",
        "without",
        "your",
    }
)

_CATEGORY_RANK = {c: i for i, c in enumerate(CATEGORIES)}


def significant_words(title: str) -> frozenset[str]:
    """Words that say what a card is about: four letters or more, no stopwords, no stages."""
    return frozenset(
        w
        for w in normalize_title(title).split()
        if len(w) >= 4 and w not in STOPWORDS and w not in STAGE_WORDS
    )


def _part_texts(item: Item) -> list[str]:
    return (
        [compact_title(p.text) for p in item.parts] if item.parts else [compact_title(item.title)]
    )


def parts_only(old: Item, new: Item) -> bool:
    """True when a title change only adds, drops or reorders parts of a multi-part card."""
    a, b = _part_texts(old), _part_texts(new)
    sa, sb = set(a), set(b)
    if sa == sb:
        return len(a) > 1 or len(b) > 1
    return sa < sb or sb < sa


def _untagged(item: Item) -> str:
    """The title without its leading tag lozenges: adding a ``Test`` tag is not a rename."""
    prefix = " ".join(item.tags)
    if prefix and item.title.startswith(prefix):
        return item.title[len(prefix) :].lstrip()
    return item.title


def org_names(item: Item, roadmap: Roadmap) -> tuple[str, ...]:
    """Organisations as a reader knows them: legend names where known, else as written."""
    if item.org_names and len(item.org_names) == len(item.orgs):
        return item.org_names
    return tuple(roadmap.legend.get(o, o) for o in item.orgs)


def _same(o: Item, n: Item) -> bool:
    """Cheap test for the common case: nothing but (perhaps) the id differs."""
    return (
        o.title == n.title
        and o.period == n.period
        and o.lane == n.lane
        and o.stage == n.stage
        and o.orgs == n.orgs
        and o.text == n.text
        and o.tags == n.tags
        and o.struck == n.struck
        and o.period_end == n.period_end
        and o.parts == n.parts
        and o.links == n.links
        and o.mentions == n.mentions
        and o.start == n.start
        and o.end == n.end
        and o.fields == n.fields
    )


def _field_changes(o: Item, n: Item) -> list[FieldChange]:
    """One FieldChange per column whose value differs (``status``: ``IN PROGRESS`` → ``DONE``),
    in the new version's column order, then columns only the old one had."""
    old, new = dict(o.fields), dict(n.fields)
    names = list(dict.fromkeys([*new, *old]))
    return [
        FieldChange(f"fields.{k}", old.get(k), new.get(k))
        for k in names
        if old.get(k) != new.get(k)
    ]


class _Classifier:
    def __init__(self, old: Roadmap, new: Roadmap, order: PeriodOrder) -> None:
        self.old = old
        self.new = new
        self.order = order
        self.lanes_old, self.lanes_new = lane_ranks(old.lanes, new.lanes)
        self.unknown_lane = len(old.lanes) + len(new.lanes)  # sorts after every known lane

    def _end(self, item: Item, side: Side) -> int | None:
        """Rank of the last period a spanning card covers; None when it covers one."""
        if item.period_end is None or item.period_end == item.period:
            return None
        return self.order.rank(item.period_end, side)

    def pair(self, o: Item, n: Item, score: float) -> Change | None:
        """The one change a matched pair amounts to, or None when nothing a reader sees moved."""
        if o is n or _same(o, n):
            return None
        aspects: set[str] = set()
        fields: list[FieldChange] = []
        if o.start is not None and n.start is not None:
            # Dated items (planner bars) move by their start date; a new end alone is a
            # longer or shorter bar.
            if n.start != o.start:
                aspects.add("deferred" if n.start > o.start else "moved_up")
                fields.append(FieldChange("start", o.start, n.start))
            elif o.end != n.end:
                aspects.add("span")
                fields.append(FieldChange("end", o.end, n.end))
        else:
            old_rank = self.order.rank(o.period, "old")
            new_rank = self.order.rank(n.period, "new")
            if new_rank != old_rank:
                aspects.add("deferred" if new_rank > old_rank else "moved_up")
                fields.append(FieldChange("period", o.period, n.period))
            if self._end(o, "old") != self._end(n, "new"):
                aspects.add("span")
                fields.append(FieldChange("period_end", o.period_end, n.period_end))
        if o.lane != n.lane:
            aspects.add("lane")
            fields.append(FieldChange("lane", o.lane, n.lane))
        if o.title != n.title:
            if _untagged(o) != _untagged(n):
                aspects.add("text" if parts_only(o, n) else "renamed")
            fields.append(FieldChange("title", o.title, n.title))
        if o.stage != n.stage:
            aspects.add("stage")
            fields.append(FieldChange("stage", o.stage, n.stage))
        if set(o.orgs) != set(n.orgs):
            aspects.add("orgs")
            fields.append(FieldChange("orgs", org_names(o, self.old), org_names(n, self.new)))
        if o.tags != n.tags:
            aspects.add("tags")
            fields.append(FieldChange("tags", o.tags, n.tags))
        if o.struck != n.struck:
            aspects.add("struck")
            fields.append(FieldChange("struck", o.struck, n.struck))
        if o.fields != n.fields:
            aspects.add("fields")
            fields.extend(_field_changes(o, n))
        # Mentions in a row's columns are already in its fields.
        if o.links != n.links or (o.mentions != n.mentions and not (o.fields or n.fields)):
            aspects.add("text")
        if not aspects and (o.text != n.text or o.parts != n.parts):
            aspects.add("text")
        if not aspects:
            return None
        if "deferred" in aspects:
            category = "Deferred"
        elif "moved_up" in aspects:
            category = "Moved Up"
        elif "renamed" in aspects:
            category = "Renamed"
        else:
            category = "Changed"
        return Change(
            category=category,
            title=n.title,
            old_title=o.title if o.title != n.title else None,
            from_=self.order.where(o, self.old),
            to=self.order.where(n, self.new),
            aspects=tuple(a for a in ASPECTS if a in aspects),
            fields=tuple(fields),
            old=o,
            new=n,
            score=score if score < EXACT else None,
        )

    def replacements(self, deleted: list[Item], added: list[Item]) -> list[tuple[int, int]]:
        """Indices of related deleted and added cards of one lane, most related paired first."""
        lanes: dict[str, tuple[list[int], list[int]]] = {}
        for i, o in enumerate(deleted):
            lanes.setdefault(o.lane, ([], []))[0].append(i)
        for j, n in enumerate(added):
            if n.lane in lanes:
                lanes[n.lane][1].append(j)
        candidates: list[tuple[tuple[Any, ...], int, int]] = []
        for gold, gnew in lanes.values():
            if not gnew:
                continue
            sim = _similarity(
                [fuzzy_text(deleted[i].title) for i in gold],
                [fuzzy_text(added[j].title) for j in gnew],
            )
            words_new = [significant_words(added[j].title) for j in gnew]
            for r, i in enumerate(gold):
                words = significant_words(deleted[i].title)
                for c, j in enumerate(gnew):
                    shared = len(words & words_new[c])
                    score = round(float(sim[r, c]), 1)
                    if shared or score >= RELATED_THRESHOLD:
                        a, b = content_key(deleted[i]), content_key(added[j])
                        tie = (a, b) if a <= b else (b, a)
                        related = score + SHARED_WORD_WEIGHT * min(shared, 3)
                        candidates.append(((-related, *tie), i, j))
        candidates.sort(key=lambda t: t[0])
        used_old: set[int] = set()
        used_new: set[int] = set()
        pairs: list[tuple[int, int]] = []
        for _, i, j in candidates:
            if i not in used_old and j not in used_new:
                used_old.add(i)
                used_new.add(j)
                pairs.append((i, j))
        return pairs

    def sort_key(self, change: Change) -> tuple[Any, ...]:
        """CATEGORIES order, then period, lane and title: the order the history is written in."""
        if change.to is not None:
            period = self.order.rank(change.to.period, "new")
            lane = self.lanes_new.get(change.to.lane, self.unknown_lane)
        else:
            assert change.from_ is not None
            period = self.order.rank(change.from_.period, "old")
            lane = self.lanes_old.get(change.from_.lane, self.unknown_lane)
        return (
            _CATEGORY_RANK[change.category],
            period,
            lane,
            change.title,
            change.old_title or "",
            content_key(change.new) if change.new else (),
            content_key(change.old) if change.old else (),
        )


def classify(
    matching: Matching, old: Roadmap, new: Roadmap, order: PeriodOrder | None = None
) -> list[Change]:
    """Turn a matching into classified changes, in a deterministic reading order."""
    clf = _Classifier(old, new, order or PeriodOrder(old, new))
    where = clf.order.where
    changes: list[Change] = []
    for o, n, score in matching.pairs:
        change = clf.pair(o, n, score)
        if change is not None:
            changes.append(change)
    deleted, added = matching.deleted, matching.added
    replaced = clf.replacements(deleted, added)
    for i, j in replaced:
        o, n = deleted[i], added[j]
        changes.append(
            Change(
                category="Replaced",
                title=n.title,
                old_title=o.title,
                from_=where(o, old),
                to=where(n, new),
                aspects=("replaced",),
                old=o,
                new=n,
            )
        )
    gone = {i for i, _ in replaced}
    came = {j for _, j in replaced}
    changes.extend(
        Change(category="Added", title=n.title, to=where(n, new), aspects=("added",), new=n)
        for j, n in enumerate(added)
        if j not in came
    )
    changes.extend(
        Change(category="Deleted", title=o.title, from_=where(o, old), aspects=("deleted",), old=o)
        for i, o in enumerate(deleted)
        if i not in gone
    )
    changes.sort(key=clf.sort_key)
    return changes
