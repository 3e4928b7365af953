"""Logging on stderr, configured only where something can log.

Importing ``logging`` costs ~10 ms, a tenth of an offline command's start-up, and no offline
module logs. So the CLI configures it at once only with ``-v`` or for a command that talks to a
wiki (``configure``), and otherwise leaves the level pending (``defer``): the first module that
logs takes its logger through ``logger``, which applies the pending configuration then, before
anything can be logged (a diff against ``NAME@live`` still prints ``wikisync: WARNING: ...``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

FORMAT = "wikisync: %(levelname)s: %(message)s"

#: The -v count waiting to be applied by the first ``logger`` call; None: nothing pending.
_pending: int | None = None


def configure(verbose: int) -> None:
    """WARNING and up on stderr (-v: INFO, -vv: DEBUG), one ``wikisync: LEVEL:`` line each."""
    global _pending
    _pending = None
    import logging

    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2), format=FORMAT)
    # urllib3 announces each retry as a warning; our own error line says what finally happened.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR)


def defer(verbose: int) -> None:
    """Configure when the first logger is taken; at once if ``logging`` is loaded anyway."""
    global _pending
    if "logging" in sys.modules:  # costs nothing more: keep the configuration eager
        configure(verbose)
    else:
        _pending = verbose


def logger(name: str) -> logging.Logger:
    """The logger NAME, after applying a pending configuration (see the module doc)."""
    import logging

    if _pending is not None:
        configure(_pending)
    return logging.getLogger(name)
