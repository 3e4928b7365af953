"""Decode only the cards whose bytes changed: reading a long history of roadmap.json files.

wikisync writes roadmap.json canonically (``Store``'s ``_roadmap_bytes``: orjson, keys sorted,
compact, a final newline), so a card unchanged since the version before is the very same bytes
in the next file; over a long history nearly every card of a version is. Decoding every file
whole, then comparing each card's JSON with the one before, was most of what ``wikisync stats``
spent. ``split`` walks the new file's ``items`` array beside the previous file's cards, takes
each run of cards it finds unchanged (compared as one block of bytes) without decoding it, and
decodes only what is between: the cards added, changed or moved.

Nothing here is trusted, so a file written by hand or by another writer is never misread:

- a run of new cards is decoded, re-encoded canonically and must give back exactly its bytes;
- the rest of the document (``items`` emptied) is decoded, re-encoded canonically and must give
  back exactly its bytes, with the emptied array exactly where the top-level ``items`` belongs.

Then every piece is a complete JSON value, the pieces joined by commas are the array, and the
array sits where the top-level ``items`` is: since the JSON grammar is unambiguous, the file
decodes to exactly the document ``split`` describes. Anything else (indented or hand-edited
JSON, an older writer's bytes, corrupt input) returns None, and the caller decodes the whole
file. Pure: no I/O.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from wikisync._record import record

_OPEN = b'"items":['  # the top-level cards (keys sorted: only "history" comes before)
_CLOSE = b'],"lanes":'  # where they end when the last card is a new one ("lanes" always follows)
_ITEMS_KEY = len(b'"items":')
_COMMA, _BRACKET = 44, 93  # "," and "]"
_SEARCH = 4  # previous cards looked for past a change: a few, so a change costs a few scans
_NEAR = 16384  # bytes searched past a change (a card is a few hundred)
_SORT_KEYS = 1 << 5  # orjson.OPT_SORT_KEYS, as jsondoc writes (checked on use)


@record(frozen=True, slots=True)
class Cards:
    """The cards of one canonical roadmap.json: the bytes between the ``items`` brackets (the
    cards joined by commas), each card's length, and where each starts, plus one past the end
    (``len(body) + 1``): card ``k`` is ``body[starts[k] : starts[k + 1] - 1]``."""

    body: bytes
    lens: list[int]
    starts: list[int]

    @classmethod
    def of(cls, body: bytes, lens: list[int]) -> Cards:
        return cls(body, lens, list(accumulate(map((1).__add__, lens), initial=0)))

    def card(self, k: int) -> bytes:
        return self.body[self.starts[k] : self.starts[k + 1] - 1]


@record(slots=True)
class Split:
    """A roadmap.json as the previous version's cards found unchanged plus the new ones."""

    rest: dict[str, Any]  # the document with "items": [] (periods, lanes, legend, history, ...)
    cards: Cards  # this file's cards, for reading the next one
    known: list[int]  # per card: its index among the previous cards, or -1 for a new one
    fresh: list[tuple[int, Any]]  # (position, decoded card) of each new card, in order


def split(data: bytes, previous: Cards | None) -> Split | None:
    """``data`` (a whole roadmap.json) as the ``previous`` cards (those of the version read
    before; None: none known) found unchanged and the new cards decoded; None when the file is
    not canonical (see the module docstring): decode it whole."""
    try:
        import orjson
    except ImportError:  # a bare checkout: the caller decodes with the standard library
        return None
    if orjson.OPT_SORT_KEYS != _SORT_KEYS:  # pragma: no cover - another orjson
        return None
    start = data.find(_OPEN)
    if start < 0:
        return None
    first = pos = start + len(_OPEN)
    last = data.rfind(_CLOSE)  # the top-level keys after "items" are a few short lists
    if last < pos:
        return None
    if previous is None:
        previous = Cards(b"", [], [0])
    blob, lens, starts = memoryview(previous.body), previous.lens, previous.starts
    n = len(lens)
    known: list[int] = []
    fresh: list[tuple[int, Any]] = []
    new_lens: list[int] = []
    j = 0
    close = pos if data[pos : pos + 1] == b"]" else -1
    while close < 0:
        run = _unchanged(data, pos, blob, starts, j, n)
        if run:
            known += range(j, j + run)
            new_lens += lens[j : j + run]
            end = pos + starts[j + run] - 1 - starts[j]
            j += run
            if data[end] == _BRACKET:
                close = end
            else:
                pos = end + 1
            continue
        at, k = _resync(data, pos, last, previous, j)
        if k >= 0 and at == pos:
            j = k
            continue
        chunk = data[pos : at - 1] if k >= 0 else data[pos:last]
        try:
            cards = orjson.loads(b"[" + chunk + b"]")
            cut = [orjson.dumps(card, option=_SORT_KEYS) for card in cards]
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            return None
        if not cards or b",".join(cut) != chunk:
            return None
        fresh += zip(range(len(known), len(known) + len(cards)), cards, strict=True)
        known += [-1] * len(cards)
        new_lens += map(len, cut)
        if k >= 0:
            j, pos = k, at
        else:
            close = last
    rest = _rest(orjson, data[: start + _ITEMS_KEY], data[close + 1 :])
    if rest is None:
        return None
    return Split(rest=rest, cards=Cards.of(data[first:close], new_lens), known=known, fresh=fresh)


def _resync(data: bytes, pos: int, last: int, previous: Cards, j: int) -> tuple[int, int]:
    """After a change at ``pos``: where the nearest of the next few previous cards still there
    starts, and which it is ((``last``, -1): none, the new cards run to the end). Those skipped
    were deleted or changed, or moved further on. Searched in the next few kilobytes only (a
    search that finds nothing reads all the way to its bound): past a longer run of new cards,
    or when the cards were reordered, the rest is decoded, as a whole file was."""
    candidates = [m for m in (j + 1, j, *range(j + 2, j + _SEARCH)) if m < len(previous.lens)]
    at, k = min(pos + _NEAR, last), -1
    for m in candidates:  # the card after the change first: it bounds the other searches
        card = previous.card(m)
        found = data.find(card, pos, at)
        if (
            found >= 0
            and (found == pos or data[found - 1] == _COMMA)
            and data[found + len(card)] in (_COMMA, _BRACKET)
        ):
            at, k = found, m
    return (at, k) if k >= 0 else (last, -1)


def _unchanged(data: bytes, pos: int, blob: memoryview, starts: list[int], j: int, n: int) -> int:
    """How many of the previous cards from the ``j``-th on are, as one block of bytes, the
    cards at ``pos`` (a complete run: followed by "," or "]"). Galloping, then halving: a long
    run costs a few comparisons of its bytes, not one step per card."""

    def same(r: int) -> bool:
        return data.startswith(blob[starts[j] : starts[j + r] - 1], pos)  # a view: no copy

    if j >= n or not same(1):
        return 0
    good, bad = 1, 2
    while bad <= n - j and same(bad):
        good, bad = bad, bad * 2
    bad = min(bad, n - j + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if same(mid) else (good, mid)
    # Within a matched block the cards are separated by the very commas compared; the last one
    # must end the element too. A shorter block always ends at a comma.
    end = pos + starts[j + good] - 1 - starts[j]
    if end < len(data) and data[end] in (_COMMA, _BRACKET):
        return good
    return good - 1


def _rest(orjson: Any, head: bytes, tail: bytes) -> dict[str, Any] | None:
    """The document around the cards, ``head + "[]" + tail``, when it is canonical and the
    emptied array is its top-level ``items``; else None."""
    doc = head + b"[]" + tail
    try:
        rest = orjson.loads(doc)
        if not isinstance(rest, dict) or rest.get("items") != []:
            return None
        if orjson.dumps(rest, option=_SORT_KEYS) + b"\n" != doc:
            return None
        before = {key: value for key, value in rest.items() if key < "items"}
        prefix = orjson.dumps(before, option=_SORT_KEYS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    # Canonical bytes put the top-level "items" right after the keys sorted before it.
    if len(prefix) - 1 + (1 if before else 0) + _ITEMS_KEY != len(head):
        return None
    return rest
