"""rapidfuzz's ``token_sort_ratio`` and ``token_set_ratio`` in plain Python, same numbers.

A daily diff has a handful of renamed-card candidates; importing rapidfuzz to score them took
longer (~15-40 ms: it detects CPU features and loads a dozen extension modules) than the whole
diff. These follow rapidfuzz's own reference implementation (``rapidfuzz.fuzz_py``) step for
step, with the Indel distance from a bit-parallel LCS; ``tests/test_startup.py`` checks they
return rapidfuzz's floats exactly. Inputs are ``match.fuzzy_text`` strings (words separated by
single spaces). Larger blocks still use rapidfuzz.
"""

from __future__ import annotations


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence (Allison-Dix / Hyyrö bit-parallel)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    s = full
    for ch in b:
        u = s & masks.get(ch, 0)
        s = ((s + u) | (s - u)) & full
    return len(a) - s.bit_count()


def _indel(a: str, b: str) -> int:
    return len(a) + len(b) - 2 * _lcs(a, b)


def ratio(a: str, b: str) -> float:
    """``fuzz.ratio``: the normalised Indel similarity, 0-100."""
    lensum = len(a) + len(b)
    norm_dist = _indel(a, b) / lensum if lensum else 0.0
    return (1.0 - norm_dist) * 100


def token_sort_ratio(a: str, b: str) -> float:
    """``fuzz.token_sort_ratio``: ``ratio`` of the words sorted."""
    return ratio(" ".join(sorted(a.split())), " ".join(sorted(b.split())))


def _norm_distance(dist: int, lensum: int) -> float:
    return (100 - 100 * dist / lensum) if lensum else 100


def token_set_ratio(a: str, b: str) -> float:
    """``fuzz.token_set_ratio``: 100 when one title's words hold the other's, else the best of
    the differences compared and each side against the shared words."""
    tokens_a, tokens_b = set(a.split()), set(b.split())
    if not tokens_a or not tokens_b:
        return 0
    intersect = tokens_a & tokens_b
    diff_ab, diff_ba = tokens_a - tokens_b, tokens_b - tokens_a
    if intersect and (not diff_ab or not diff_ba):
        return 100
    diff_ab_joined = " ".join(sorted(diff_ab))
    diff_ba_joined = " ".join(sorted(diff_ba))
    ab_len, ba_len = len(diff_ab_joined), len(diff_ba_joined)
    sect_len = len(" ".join(intersect))
    sect_ab_len = sect_len + (sect_len != 0) + ab_len
    sect_ba_len = sect_len + (sect_len != 0) + ba_len
    result = _norm_distance(_indel(diff_ab_joined, diff_ba_joined), sect_ab_len + sect_ba_len)
    if not sect_len:
        return result
    sect_ab_ratio = _norm_distance((sect_len != 0) + ab_len, sect_len + sect_ab_len)
    sect_ba_ratio = _norm_distance((sect_len != 0) + ba_len, sect_len + sect_ba_len)
    return max(result, sect_ab_ratio, sect_ba_ratio)
