"""Regular expressions compiled on first use, so importing a module compiles none of them.

Compiling the parser's ~60 patterns took ~20 ms of every command's start, ``--help`` included.
``lazy_re`` is a drop-in for a module-level ``re.compile``: the first attribute read compiles the
pattern and stores its bound methods on the proxy, so later calls cost what they cost on the
compiled pattern itself (an instance-dict hit, no extra Python frame).
"""

from __future__ import annotations

import re
from typing import Any, cast

_FORWARDED = (
    "match",
    "fullmatch",
    "search",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _LazyPattern:
    """Stands in for a ``re.Pattern`` until something reads one of its attributes."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probe dunders: answer as an object
            raise AttributeError(name)
        compiled = re.compile(*self._source)
        for attr in _FORWARDED:
            self.__dict__[attr] = getattr(compiled, attr)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re({self._source[0]!r}, {self._source[1]!r})"


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, deferred to the pattern's first use."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
