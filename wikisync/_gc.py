"""One shared helper of the pure core: pause the cyclic garbage collector for a bulk build."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Parsing or diffing a big page allocates hundreds of thousands of small acyclic objects;
    the cyclic collector would re-scan them all many times for nothing (~20% of a parse, and a
    diff that grows faster than linearly). Re-entrant: only the outermost caller re-enables it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
