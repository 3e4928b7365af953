"""JSON text for every document wikisync writes, through orjson, byte for byte what ``json`` writes.

``json.dumps(indent=2, sort_keys=True)`` falls back to CPython's pure-Python encoder (``indent``
disables the C one): ~200 ms for an 8,000-card roadmap, as long as parsing the page. orjson writes
the same bytes in a few milliseconds: same key order (code points), same escapes with UTF-8 kept,
same separators, the same shortest round-trip digits for every float in fixed notation.

What orjson refuses (integers beyond 64 bits, non-string keys, lone surrogates, dataclasses and
datetimes, which ``json`` refuses too) goes to the standard library, so it behaves as before.
Two differences remain, for numbers no wikisync document holds (its floats are 0-100 scores
rounded to 0.1): a float that ``repr`` writes in exponent form (below 1e-4 or from 1e16:
``json`` ``1e-05`` / ``1e+16``, orjson ``0.00001`` / ``1e16``), and NaN or infinities (``json``
``NaN``, which is not JSON; orjson ``null``). Scanning every output for them cost as much as
writing it, so the contract (docs/schemas.md) limits numbers instead.
"""

from __future__ import annotations

import json
from typing import Any

from wikisync._gc import paused_gc


def _orjson(doc: Any, indent: bool) -> str | None:
    """``doc`` as orjson writes it (sorted keys), or None where ``json`` must write it."""
    try:
        import orjson
    except ImportError:  # a bare checkout without the dependency: the standard library works
        return None
    # Passthrough: dataclasses and datetimes go to ``default`` (none given), so orjson refuses
    # them as json does, instead of writing them its own way.
    option = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
    option |= orjson.OPT_PASSTHROUGH_DATETIME
    if indent:
        option |= orjson.OPT_INDENT_2
    try:
        return orjson.dumps(doc, option=option).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        return None


def dumps(doc: Any) -> str:
    """Readable JSON: keys sorted, two-space indent, UTF-8 kept (``ensure_ascii=False``)."""
    text = _orjson(doc, indent=True)
    if text is None:
        text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)
    return text


def dumps_compact(doc: Any) -> str:
    """Compact JSON (no spaces), keys sorted, UTF-8 kept: for caches nobody reads by eye."""
    text = _orjson(doc, indent=False)
    if text is None:
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text


def loads(data: bytes | str) -> Any:
    """Parse JSON text; raises ``ValueError`` (``json.JSONDecodeError``) on bad input."""
    try:
        import orjson
    except ImportError:
        return json.loads(data)
    with paused_gc():  # a big document is thousands of acyclic containers
        return orjson.loads(data)
