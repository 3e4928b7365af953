"""Bounded fuzzy matching: hostile pages cost work proportional to the page, not its square.

Every assertion is on work done (``Matching.compared``: pairs scored) and on the result, never
on time: the adversarial pages at full size live in benchmarks/ (``run.py --only bounds``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace

import pytest
from roadmaps import card, roadmap

from wikisync.diff import match as match_mod
from wikisync.diff import match_roadmaps
from wikisync.diff.match import FUZZY_CHARS, fuzzy_text
from wikisync.model import Item, Roadmap

_VOCAB = [f"w{k:04d}" for k in range(4000)]


def _titled(title: str) -> Item:
    """A Q2 card titled ``title``, built directly: the test builder's card grammar is for
    short cards."""
    ident = hashlib.sha1(title.encode()).hexdigest()[:12]
    return replace(card("placeholder", "Q2", "make"), id=ident, title=title, text=title)


def _long_titles(n: int, words: int, seed: int) -> tuple[Roadmap, Roadmap]:
    """``n`` cards with titles of ``words`` words, each edited by its last word."""
    rng = random.Random(seed)
    old, new = [], []
    for _ in range(n):
        title = " ".join(rng.choice(_VOCAB) for _ in range(words))
        old.append(_titled(title))
        new.append(_titled(title.rsplit(" ", 1)[0] + " edited"))
    return roadmap(*old), roadmap(*new)


def _renamed(n: int, seed: int) -> tuple[Roadmap, Roadmap]:
    """``n`` short cards in one cell, every one renamed by one of its four words."""
    rng = random.Random(seed)
    old, new = [], []
    for _ in range(n):
        words = rng.sample(_VOCAB, 4)
        old.append(card(" ".join(words), "Q2", "make"))
        words[rng.randrange(4)] = rng.choice(_VOCAB) + "x"
        new.append(card(" ".join(words), "Q2", "make"))
    return roadmap(*old), roadmap(*new)


def test_a_huge_title_is_compared_by_its_first_characters_only() -> None:
    title = " ".join(_VOCAB[:1000])  # 5,999 characters
    text = fuzzy_text(title)
    assert len(text) <= FUZZY_CHARS
    assert title.startswith(text) and not text.endswith(" ")


def test_long_titles_edited_by_one_word_are_renames_at_the_cost_of_the_pairs() -> None:
    old, new = _long_titles(40, 800, seed=1)
    m = match_roadmaps(old, new)
    assert m.added == [] and m.deleted == []
    assert all(o.title.rsplit(" ", 1)[0] == n.title.rsplit(" ", 1)[0] for o, n, _ in m.pairs)
    assert m.compared == 40 * 40 and m.unscored == 0


def test_a_block_over_the_matrix_limit_scores_word_sharing_pairs_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(match_mod, "MATRIX_PAIRS", 10_000)
    old, new = _renamed(400, seed=2)  # 160,000 pairs in one lane
    m = match_roadmaps(old, new)
    assert m.added == [] and m.deleted == [] and m.unscored == 0
    assert len({(o.title, n.title) for o, n, _ in m.pairs}) == 400
    # Each card shares three words with its own rename and few with anyone else.
    assert 400 <= m.compared <= 4_000


def test_the_default_bounds_hold_on_thousands_of_renamed_cards_in_one_cell() -> None:
    old, new = _renamed(3_000, seed=3)  # 9,000,000 pairs: over MATRIX_PAIRS
    m = match_roadmaps(old, new)
    assert m.compared <= match_mod.WORD_PAIR_BUDGET
    assert len(m.pairs) >= 2_950 and m.unscored == 0  # a few renames are truly ambiguous


def test_over_the_word_budget_the_rarest_words_count_and_the_rest_fall_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(match_mod, "MATRIX_PAIRS", 100)
    monkeypatch.setattr(match_mod, "WORD_PAIR_BUDGET", 300)
    old, new = _renamed(200, seed=4)
    m = match_roadmaps(old, new)
    assert m.compared <= 300
    assert m.unscored > 0
    # Nothing is lost: every card is paired, added or deleted.
    assert len(m.pairs) + len(m.deleted) == 200 and len(m.pairs) + len(m.added) == 200
    shuffled = Roadmap(
        periods=new.periods, lanes=new.lanes, items=list(reversed(new.items)), legend=new.legend
    )
    again = match_roadmaps(old, shuffled)
    assert sorted((o.title, n.title) for o, n, _ in again.pairs) == sorted(
        (o.title, n.title) for o, n, _ in m.pairs
    )


def test_too_many_look_alikes_fall_back_to_deleted_and_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(match_mod, "HIT_BUDGET", 50)
    olds = [card(f"Upgrade the platform part {k:03d}", "Q2", "make") for k in range(20)]
    news = [card(f"Upgrade the platform piece {k:03d}", "Q2", "make") for k in range(20)]
    m = match_roadmaps(roadmap(*olds), roadmap(*news))
    assert m.pairs == [] and len(m.added) == len(m.deleted) == 20
    assert m.unscored == 40
