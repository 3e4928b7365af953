"""JSON text for every document wikisync writes, through orjson, byte for byte what ``json`` writes.

``json.dumps(indent=2, sort_keys=True)`` falls back to CPython's pure-Python encoder (``indent``
disables the C one): ~200 ms for an 8,000-card roadmap, as long as parsing the page. orjson writes
the same bytes in a few milliseconds. Where the two could differ, the standard library writes the
document instead, so the bytes never depend on which encoder ran:

- a float in exponent form (``1e-05`` / ``1e16``; orjson writes ``1e-5`` / ``0.00001`` / ``1e16``):
  caught by scanning orjson's output for a number with an ``e`` or starting ``0.0000`` where a
  value starts (after ``:``, ``,`` or ``[``); text that happens to look like one (``"Q1, 3e5"``)
  only costs the slower encoder, never different bytes;
- what orjson refuses (integers beyond 64 bits, non-string keys, lone surrogates, objects it
  would serialise on its own such as dataclasses and datetimes: ``json`` raises for those, and
  still does).

NaN and infinities are the one difference: orjson writes ``null`` where ``json`` writes ``NaN``,
which is not JSON. No wikisync document holds them.
"""

from __future__ import annotations

import json
from typing import Any

from wikisync._lazy import lazy_re

#: A value orjson may have formatted unlike ``repr(float)``: exponent form, or a tiny fraction.
#: Anchored where a value starts, so hex ids (``"3e4a…"``) inside strings do not count.
_RISKY_NUMBER = lazy_re(r"(?:^|[:,\[])\s*-?(?:[0-9][0-9.]*[eE]|0\.0000)")


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
        text = orjson.dumps(doc, option=option).decode("utf-8")
    except (orjson.JSONEncodeError, TypeError):
        return None
    if _RISKY_NUMBER.search(text):
        return None
    return text


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
    return orjson.loads(data)
