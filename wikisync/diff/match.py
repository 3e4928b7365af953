"""Identity across versions: which card of the new version is which card of the old one.

Matching is one-to-one and runs in stages, each on what the earlier ones left over, from the most
certain evidence to the least: the exact card in the same cell, the exact card elsewhere, the same
title up to case and punctuation, and finally a fuzzy title score. An unchanged card is paired in
the first stage, so a later, looser stage can never hand it to a different card.

Ties are broken by the cards' content (never by list position), and every preference is
symmetric in old and new: shuffling a version changes nothing, and ``match(b, a)`` is the mirror
of ``match(a, b)``.

The fuzzy stage is bounded, so one hostile edit cannot stall every sync: it compares at most
``FUZZY_CHARS`` characters of each title, scores a block of leftovers as a full matrix only up
to ``MATRIX_PAIRS`` pairs and ``PAIR_BUDGET`` in all; beyond that, only pairs sharing a word
held by at most ``COMMON_WORD`` cards of each side, rarest words first, up to
``WORD_PAIR_BUDGET`` pairs; and it weighs at most ``HIT_BUDGET`` look-alike pairs. A card left
without a scored pair falls back to Deleted / Added (the safe reading: nothing is claimed to be
renamed; ``Matching.unscored`` counts them). Every cut depends on block sizes and word counts,
never on card order, so the result stays order-free.
"""

from __future__ import annotations

import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.diff.periods import PeriodOrder
from wikisync.model import Item, Roadmap

if TYPE_CHECKING:  # numpy and rapidfuzz load when a fuzzy stage runs, not with every command
    import numpy as np
    import numpy.typing as npt

#: Score of a pair matched on its exact or normalised title.
EXACT = 100.0
#: A fuzzy pair (similarity plus bonuses) at or above this is the same card, renamed.
RENAME_THRESHOLD = 80.0
#: ... and its title similarity alone must reach this: context bonuses cannot make a match.
MIN_SIMILARITY = 68.0
LANE_BONUS = 5.0
PERIOD_BONUS = 3.0
STAGE_BONUS = 2.0
ORGS_BONUS = 2.0
MAX_BONUS = LANE_BONUS + PERIOD_BONUS + STAGE_BONUS + ORGS_BONUS
#: Above this many leftover pairs, fuzzy matching runs lane by lane.
BLOCK_ABOVE = 40_000
#: Above this many pairs in one group of look-alikes, they are paired in content order.
GROUP_LIMIT = 4_096
#: Above this many token-sharing pairs, token_set_ratio runs over the whole block in C.
SHARED_LIMIT = 20_000
#: Characters of a title's fuzzy text that are compared (cut at a word boundary): a real title
#: is under 100; a 5,000-character one costs no more than this.
FUZZY_CHARS = 256
#: A block of leftovers up to this many pairs is scored as a full matrix (4 MB of float32).
MATRIX_PAIRS = 1_000_000
#: In a larger block only pairs sharing a word are scored, and a word held by more than this
#: many cards of either side is too common to count as evidence.
COMMON_WORD = 50
#: At most this many pairs are scored as matrices in one match (cheap: in C, titles prepared
#: once) ...
PAIR_BUDGET = 2_000_000
#: ... and at most this many word-sharing pairs (each prepared on its own, ~10× the cost).
WORD_PAIR_BUDGET = 200_000
#: At most this many pairs above the similarity floor are weighed (bonuses, ties); a block with
#: more look-alikes than what is left falls back to Deleted/Added.
HIT_BUDGET = 200_000
#: Above this many pairs in a block, scores come from numpy matrices; below, importing numpy
#: (60-120 ms) costs more than scoring pair by pair in Python (1-5 µs a pair).
NUMPY_ABOVE = 10_000
#: Up to this many pairs, scores come from ``ratios`` (plain Python, rapidfuzz's numbers):
#: importing rapidfuzz (15-40 ms) costs more than scoring a few hundred pairs (~10 µs each).
PURE_PYTHON_UPTO = 400

_NON_WORD = lazy_re(r"[\W_]+")

if TYPE_CHECKING:
    Similarity = npt.NDArray[np.float32]


@record(slots=True)
class Matching:
    """Pairs (old, new, score 0-100) plus the cards only one side has, each in document order."""

    pairs: list[tuple[Item, Item, float]]
    deleted: list[Item]
    added: list[Item]
    compared: int = 0  # pairs the fuzzy stage scored (its work, bounded by PAIR_BUDGET)
    unscored: int = 0  # leftover cards in blocks over the budget: Deleted/Added, unscored


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")


def normalize_title(title: str) -> str:
    """Title as words: case, punctuation, dashes and quotes gone, ``&`` read as ``and``."""
    return " ".join(_NON_WORD.sub(" ", _fold(title)).split())


def compact_title(title: str) -> str:
    """Title with nothing but letters and digits, so ``Tutor-for-Devstack`` equals
    ``Tutor for Devstack`` and ``Doc: Handbook`` equals ``Doc Handbook``."""
    return _NON_WORD.sub("", _fold(title))


def fuzzy_text(title: str) -> str:
    """The string fuzzy scores compare: normalised words, each once (as token_set_ratio sees
    them, which keeps token_sort_ratio equal to it for titles sharing no word), cut to
    ``FUZZY_CHARS`` at a word boundary so a huge title costs what a long one does."""
    text = " ".join(dict.fromkeys(normalize_title(title).split()))
    if len(text) > FUZZY_CHARS:
        cut = text[: FUZZY_CHARS + 1]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut[:FUZZY_CHARS]
    return text


def content_key(item: Item) -> tuple[Any, ...]:
    """Everything about a card, orderable: the tie-breaker that makes results independent of
    list order."""
    return (
        item.title,
        item.stage is not None,
        item.stage or "",
        item.period,
        item.lane,
        item.period_end or "",
        item.tags,
        item.orgs,
        item.org_names,
        item.text,
        item.struck,
        tuple((p.text, p.orgs) for p in item.parts),
        item.links,
        item.mentions,
        item.start or "",
        item.end or "",
        item.fields,
        item.key or "",
        item.id,
    )


def _stage_key(stage: str | None) -> str | None:
    return None if stage is None else " ".join(stage.casefold().split())


def similarity(a: Sequence[str], b: Sequence[str]) -> Similarity:
    """Title similarity (0-100) of every pair of ``fuzzy_text`` strings.

    The mean of token_sort_ratio (whole titles, word order ignored) and token_set_ratio (100 when
    one title's words contain the other's: ``Doc OEP Refinements`` → ``OEP Refinements``).
    token_set alone calls ``Tutor`` and ``Tutor for Devstack`` identical; WRatio gives 85 to any
    two short titles sharing a first word (``MFE Theming`` / ``MFE Open Deployment``); the mean
    puts the page's real renames at 85-97 and unrelated neighbours at ≤ 65. token_set only
    differs from token_sort for titles that share a word, so it is computed for those pairs
    alone: token_sort in C over the whole matrix is ~40× cheaper than token_set.
    """
    import numpy as np
    from rapidfuzz import fuzz, process

    sim: Similarity = process.cdist(a, b, scorer=fuzz.token_sort_ratio, dtype=np.float32)
    index: dict[str, list[int]] = {}
    for j, text in enumerate(b):
        for token in text.split():
            index.setdefault(token, []).append(j)
    shared: list[tuple[int, int]] = []
    for i, text in enumerate(a):
        cols: set[int] = set()
        for token in text.split():
            cols.update(index.get(token, ()))
        shared.extend((i, j) for j in cols)
        if len(shared) > SHARED_LIMIT:
            full = process.cdist(a, b, scorer=fuzz.token_set_ratio, dtype=np.float32)
            mean: Similarity = (sim + full) / 2
            return mean
    if shared:
        # The same mean as (float(sim[i, j]) + fuzz.token_set_ratio(a[i], b[j])) / 2 pair by
        # pair (float64, stored as float32), read and written as arrays, not scalar by scalar.
        at_i = np.fromiter((i for i, _ in shared), dtype=np.intp, count=len(shared))
        at_j = np.fromiter((j for _, j in shared), dtype=np.intp, count=len(shared))
        token_set = process.cpdist(
            [a[i] for i, _ in shared],
            [b[j] for _, j in shared],
            scorer=fuzz.token_set_ratio,
            dtype=np.float64,
        )
        sim[at_i, at_j] = (sim[at_i, at_j].astype(np.float64) + token_set) / 2
    return sim


def shared_word_pairs(a: Sequence[str], b: Sequence[str], limit: int) -> list[tuple[int, int]]:
    """The pairs (row, column) of ``a`` and ``b`` that share a telling word (in no particular
    order: the assignment sorts what they score).

    A word held by more than ``COMMON_WORD`` strings of either side tells nothing. The others
    are taken rarest first (fewest pairs, then the word itself) while the pairs they bring stay
    within ``limit``: which words count depends on the sets of strings alone, not their order.
    """
    in_a: dict[str, list[int]] = {}
    in_b: dict[str, list[int]] = {}
    for side, texts in ((in_a, a), (in_b, b)):
        for k, text in enumerate(texts):
            for word in text.split():
                side.setdefault(word, []).append(k)
    costs = sorted(
        (len(rows) * len(in_b[w]), w)
        for w, rows in in_a.items()
        if len(rows) <= COMMON_WORD and 0 < len(in_b.get(w, ())) <= COMMON_WORD
    )
    found: set[tuple[int, int]] = set()
    spent = 0
    for cost, w in costs:
        spent += cost
        if spent > limit:
            break
        found.update((r, c) for r in in_a[w] for c in in_b[w])
    return list(found)


def pair_similarity(
    a: Sequence[str], b: Sequence[str], pairs: Sequence[tuple[int, int]]
) -> list[float]:
    """``similarity`` of the listed pairs only (each pair shares a word), scored in C."""
    import numpy as np
    from rapidfuzz import fuzz, process

    left = [a[r] for r, _ in pairs]
    right = [b[c] for _, c in pairs]
    sort = process.cpdist(left, right, scorer=fuzz.token_sort_ratio, dtype=np.float32)
    full = process.cpdist(left, right, scorer=fuzz.token_set_ratio, dtype=np.float64)
    mean = ((sort.astype(np.float64) + full) / 2).astype(np.float32)
    return [float(x) for x in mean.tolist()]


def similar_pairs(a: Sequence[str], b: Sequence[str], floor: float) -> list[tuple[int, int, float]]:
    """The pairs ``(row, column, similarity)`` of ``similarity(a, b)`` at or above ``floor``,
    row by row: the same numbers, float32 included, without importing numpy for small blocks."""
    if len(a) * len(b) > NUMPY_ABOVE:
        import numpy as np

        sim = similarity(a, b)
        rows, cols = np.nonzero(sim >= floor)
        return [(r, c, float(sim[r, c])) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)]
    if len(a) * len(b) <= PURE_PYTHON_UPTO:
        from wikisync.diff import ratios as fuzz  # rapidfuzz's numbers without importing it
    else:
        from rapidfuzz import fuzz  # type: ignore[no-redef]

    f32 = array("f", [0.0])  # rounds each score to float32, as the matrix stores it
    words_b = [set(text.split()) for text in b]
    pairs: list[tuple[int, int, float]] = []
    for r, x in enumerate(a):
        words = set(x.split())
        for c, y in enumerate(b):
            f32[0] = fuzz.token_sort_ratio(x, y)
            score = f32[0]
            if not words.isdisjoint(words_b[c]):
                f32[0] = (score + fuzz.token_set_ratio(x, y)) / 2
                score = f32[0]
            if score >= floor:
                pairs.append((r, c, score))
    return pairs


def match_roadmaps(old: Roadmap, new: Roadmap, order: PeriodOrder | None = None) -> Matching:
    """Match the cards of two versions of a roadmap."""
    return match_items(old.items, new.items, order or PeriodOrder(old, new))


def match_items(old: Sequence[Item], new: Sequence[Item], order: PeriodOrder) -> Matching:
    """Match two versions' cards one-to-one; ``order`` ranks their periods."""
    return _Matcher(old, new, order).run()


# A candidate pair: (sort key, old index, new index, score); lower sort keys are paired first.
_Candidate = tuple[tuple[Any, ...], int, int, float]


def _group(
    indexes: Sequence[int], keys: list[Hashable]
) -> tuple[dict[Hashable, int], dict[Hashable, list[int]]]:
    """Cards by key: the index of each key held by one card, and the indexes (ascending) of
    each key held by several. ``dict(zip())`` groups in C; only duplicates cost a Python loop."""
    single = dict(zip(keys, indexes, strict=True))
    if len(single) == len(keys):
        return single, {}
    multi: dict[Hashable, list[int]] = {k: [] for k, n in Counter(keys).items() if n > 1}
    for k in multi:
        del single[k]
    for i, k in zip(indexes, keys, strict=True):
        group = multi.get(k)
        if group is not None:
            group.append(i)
    return single, multi


class _Matcher:
    def __init__(self, old: Sequence[Item], new: Sequence[Item], order: PeriodOrder) -> None:
        self.old = old
        self.new = new
        self.order = order
        # Partner index on the other side, -1 while unmatched.
        self.partner_old = [-1] * len(old)
        self.partner_new = [-1] * len(new)
        self.scores: dict[int, float] = {}  # old index -> score, for scores below EXACT
        self._keys_old: dict[int, tuple[Any, ...]] = {}
        self._keys_new: dict[int, tuple[Any, ...]] = {}
        self._compact: dict[str, str] = {}  # title -> compact_title(title), shared by both sides
        self.compared = 0  # pairs the fuzzy stage scored
        self.unscored = 0  # cards in blocks the budget left unscored

    def run(self) -> Matching:
        old, new = self.old, self.new
        if any(it.key is not None for it in old) and any(it.key is not None for it in new):
            self._by_key()
        # Stage 1 sees every card; the later stages only what the earlier ones left, so the
        # free lists are built once (one pass over each side) and then only shrink.
        free_old, free_new = self._free_old(), self._free_new()
        self._stage(
            free_old,
            [(old[i].title, old[i].stage, old[i].period, old[i].lane) for i in free_old],
            free_new,
            [(new[j].title, new[j].stage, new[j].period, new[j].lane) for j in free_new],
            self._same_cell,
        )
        free_old, free_new = self._still_free(free_old, free_new)
        self._stage(
            free_old,
            [(old[i].title, old[i].stage) for i in free_old],
            free_new,
            [(new[j].title, new[j].stage) for j in free_new],
            self._moved,
        )
        free_old, free_new = self._still_free(free_old, free_new)
        self._stage(
            free_old,
            [self._compact_title(old[i].title) for i in free_old],
            free_new,
            [self._compact_title(new[j].title) for j in free_new],
            self._edited,
        )
        free_old, free_new = self._still_free(free_old, free_new)
        self._fuzzy(free_old, free_new)
        free_old, free_new = self._still_free(free_old, free_new)
        self._same_row(free_old, free_new)
        free_old, free_new = self._still_free(free_old, free_new)
        get = self.scores.get
        return Matching(
            pairs=[
                (old[i], new[j], get(i, EXACT)) for i, j in enumerate(self.partner_old) if j >= 0
            ],
            deleted=[old[i] for i in free_old],
            added=[new[j] for j in free_new],
            compared=self.compared,
            unscored=self.unscored,
        )

    # ------------------------------------------------------------------ bookkeeping

    def _pair(self, i: int, j: int, score: float) -> None:
        self.partner_old[i] = j
        self.partner_new[j] = i
        if score != EXACT:
            self.scores[i] = score

    def _free_old(self) -> list[int]:
        return [i for i, j in enumerate(self.partner_old) if j < 0]

    def _free_new(self) -> list[int]:
        return [j for j, i in enumerate(self.partner_new) if i < 0]

    def _still_free(self, olds: list[int], news: list[int]) -> tuple[list[int], list[int]]:
        """The cards of ``olds`` / ``news`` a stage left unmatched, in the same (index) order."""
        po, pn = self.partner_old, self.partner_new
        return [i for i in olds if po[i] < 0], [j for j in news if pn[j] < 0]

    def _compact_title(self, title: str) -> str:
        got = self._compact.get(title)
        if got is None:
            got = self._compact[title] = compact_title(title)
        return got

    def _key_old(self, i: int) -> tuple[Any, ...]:
        key = self._keys_old.get(i)
        if key is None:
            key = self._keys_old[i] = content_key(self.old[i])
        return key

    def _key_new(self, j: int) -> tuple[Any, ...]:
        key = self._keys_new.get(j)
        if key is None:
            key = self._keys_new[j] = content_key(self.new[j])
        return key

    def _tie(self, i: int, j: int) -> tuple[Any, ...]:
        """Order-free and side-free tie-breaker: the pair's two content keys, smaller first."""
        a, b = self._key_old(i), self._key_new(j)
        return (a, b) if a <= b else (b, a)

    def _assign(self, candidates: list[_Candidate]) -> None:
        """Greedy one-to-one assignment, best candidate first."""
        candidates.sort(key=lambda c: c[0])
        for _, i, j, score in candidates:
            if self.partner_old[i] < 0 and self.partner_new[j] < 0:
                self._pair(i, j, score)

    def _distance(self, o: Item, n: Item) -> int:
        return abs(self.order.rank(o.period, "old") - self.order.rank(n.period, "new"))

    # ------------------------------------------------------------------ preferences

    def _same_cell(self, o: Item, n: Item) -> tuple[Any, ...]:
        # Look-alikes in one cell: the card that did not change at all, then the same id.
        return (content_key(o)[:-1] != content_key(n)[:-1], o.id != n.id)

    def _moved(self, o: Item, n: Item) -> tuple[Any, ...]:
        return (o.lane != n.lane, self._distance(o, n))

    def _edited(self, o: Item, n: Item) -> tuple[Any, ...]:
        # Phases of one initiative share a title: keep each with its own stage, then period.
        return (_stage_key(o.stage) != _stage_key(n.stage), self._distance(o, n), o.lane != n.lane)

    # ------------------------------------------------------------------ stages

    def _stage(
        self,
        olds: Sequence[int],
        keys_old: list[Hashable],
        news: Sequence[int],
        keys_new: list[Hashable],
        prefer: Callable[[Item, Item], tuple[Any, ...]],
    ) -> None:
        """Pair cards with equal keys (``keys_old[k]`` is the key of card ``olds[k]``): alone
        with alone directly, look-alikes by ``prefer``."""
        single_new, multi_new = _group(news, keys_new)
        if not multi_new and self._pair_alone(olds, keys_old, single_new):
            return
        single_old, multi_old = _group(olds, keys_old)
        pair = self._pair
        candidates: list[_Candidate] = []
        for k in dict.fromkeys(keys_old):  # keys in order of first appearance
            gnew = multi_new.get(k)
            if gnew is None:
                j = single_new.get(k)
                if j is None:
                    continue
                gnew = [j]
            gold = multi_old.get(k)
            if gold is None:
                gold = [single_old[k]]
            if len(gold) == 1 and len(gnew) == 1:
                pair(gold[0], gnew[0], EXACT)
            elif len(gold) * len(gnew) > GROUP_LIMIT:
                # Too many look-alikes to weigh every pair: pair them in content order.
                by_content = zip(
                    sorted(gold, key=self._key_old), sorted(gnew, key=self._key_new), strict=False
                )
                for i, j in by_content:
                    pair(i, j, EXACT)
            else:
                candidates.extend(
                    (prefer(self.old[i], self.new[j]) + self._tie(i, j), i, j, EXACT)
                    for i in gold
                    for j in gnew
                )
        self._assign(candidates)

    def _pair_alone(
        self, olds: Sequence[int], keys_old: list[Hashable], index_new: dict[Hashable, int]
    ) -> bool:
        """The common case of ``_stage``: every key held by one new card. Pair each old card
        with the new card of its key, unless two old cards share a key that a new card has:
        then undo and return False (their key needs weighing)."""
        po, pn, get = self.partner_old, self.partner_new, index_new.get
        for n, (i, k) in enumerate(zip(olds, keys_old, strict=True)):
            j = get(k)
            if j is None:
                continue
            if pn[j] >= 0:  # taken by an earlier old card of this stage: a shared key
                for paired in olds[:n]:  # every card here was free before this stage
                    if po[paired] >= 0:
                        pn[po[paired]] = -1
                        po[paired] = -1
                return False
            po[i] = j  # an EXACT pair: no score to record
            pn[j] = i
        return True

    def _by_key(self) -> None:
        """Items the source names (a planner bar's id): the same key is the same item, whatever
        else changed. A key held twice on one side proves nothing and is left to the stages."""
        olds = [i for i, it in enumerate(self.old) if it.key is not None]
        news = [j for j, it in enumerate(self.new) if it.key is not None]
        single_old, _ = _group(olds, [self.old[i].key for i in olds])
        single_new, _ = _group(news, [self.new[j].key for j in news])
        for k, i in single_old.items():
            j = single_new.get(k)
            if j is not None:
                self._pair(i, j, EXACT)

    def _same_row(self, olds: list[int], news: list[int]) -> None:
        """A table row whose first cell alone changed, reworded beyond any fuzzy score: same
        period, lane and fields (a row-per-item table's other columns), one such row a side."""
        if not olds or not news:
            return

        def key(it: Item) -> Hashable:
            return (it.period, it.period_end, it.lane, it.fields, it.start, it.end)

        fielded_old = [i for i in olds if self.old[i].fields]
        fielded_new = [j for j in news if self.new[j].fields]
        single_old, _ = _group(fielded_old, [key(self.old[i]) for i in fielded_old])
        single_new, _ = _group(fielded_new, [key(self.new[j]) for j in fielded_new])
        for k, i in single_old.items():
            j = single_new.get(k)
            if j is not None:
                score = round(
                    float(
                        similarity(
                            [fuzzy_text(self.old[i].title)], [fuzzy_text(self.new[j].title)]
                        )[0, 0]
                    ),
                    1,
                )
                self._pair(i, j, min(score, EXACT - 0.1))

    def _bonus(self, o: Item, n: Item) -> float:
        bonus = 0.0
        if o.lane == n.lane:
            bonus += LANE_BONUS
        if self._distance(o, n) == 0:
            bonus += PERIOD_BONUS
        if _stage_key(o.stage) == _stage_key(n.stage):
            bonus += STAGE_BONUS
        if set(o.orgs) & set(n.orgs):
            bonus += ORGS_BONUS
        return bonus

    def _blocks(self, olds: list[int], news: list[int]) -> list[tuple[list[int], list[int]]]:
        """Leftovers to score together: all of them when few, else lane by lane, smallest
        block first (then by lane), so the budget goes as far as it can, in an order-free way."""
        if len(olds) * len(news) <= BLOCK_ABOVE:
            return [(olds, news)]
        by_lane: dict[str, tuple[list[int], list[int]]] = {}
        for i in olds:
            by_lane.setdefault(self.old[i].lane, ([], []))[0].append(i)
        for j in news:
            if self.new[j].lane in by_lane:
                by_lane[self.new[j].lane][1].append(j)
        lanes = sorted(by_lane, key=lambda k: (len(by_lane[k][0]) * len(by_lane[k][1]), k))
        return [by_lane[k] for k in lanes if by_lane[k][1]]

    def _fuzzy(self, olds: list[int], news: list[int]) -> None:
        """Renames: score leftover pairs within the budget, accept the best above the threshold."""
        if not olds or not news:
            return
        floor = max(MIN_SIMILARITY, RENAME_THRESHOLD - MAX_BONUS)
        budget, word_budget, hit_budget = PAIR_BUDGET, WORD_PAIR_BUDGET, HIT_BUDGET
        candidates: list[_Candidate] = []
        for bold, bnew in self._blocks(olds, news):
            a = [fuzzy_text(self.old[i].title) for i in bold]
            b = [fuzzy_text(self.new[j].title) for j in bnew]
            hits: list[tuple[int, int, float]]
            if len(a) * len(b) <= min(MATRIX_PAIRS, budget):
                hits = similar_pairs(a, b, floor)  # numpy only for blocks big enough to need it
                budget -= len(a) * len(b)
            else:
                pairs = shared_word_pairs(a, b, word_budget)
                word_budget -= len(pairs)
                scored = zip(pairs, pair_similarity(a, b, pairs) if pairs else [], strict=True)
                hits = [(r, c, x) for (r, c), x in scored if x >= floor]
                self.compared += len(pairs)
                self.unscored += len(a) - len({r for r, _ in pairs})
                self.unscored += len(b) - len({c for _, c in pairs})
            if len(hits) > hit_budget:  # look-alikes past weighing: Deleted / Added
                self.unscored += len({r for r, _, _ in hits}) + len({c for _, c, _ in hits})
                continue
            hit_budget -= len(hits)
            for r, c, score in hits:
                i, j = bold[r], bnew[c]
                base = round(score, 1)
                total = base + self._bonus(self.old[i], self.new[j])
                if total >= RENAME_THRESHOLD:
                    candidates.append(((-total, -base, *self._tie(i, j)), i, j, base))
        self.compared += PAIR_BUDGET - budget
        self._assign(candidates)
