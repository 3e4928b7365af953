"""The terminal edge: colour only where a person reads it, and a pager with git's rules.

Colour is on when the stream is a terminal, ``NO_COLOR`` is unset (https://no-color.org) and
``TERM`` is not ``dumb``; ``--color always|never`` overrides. Long output goes through
``$WIKISYNC_PAGER``, else ``$PAGER``, else ``less``, only when stdout is a terminal; like git,
``LESS=FRX`` is set when the user has not set ``LESS``, so output shorter than a screen is
printed as is and colours pass through.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from wikisync._lazy import lazy_re

COLOR_CHOICES = ("auto", "always", "never")

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_CATEGORY_COLOURS = {
    "Deferred": "\x1b[33m",  # yellow
    "Moved Up": "\x1b[32m",  # green
    "Replaced": "\x1b[35m",  # magenta
    "Added": "\x1b[32m",
    "Deleted": "\x1b[31m",  # red
    "Renamed": "\x1b[36m",  # cyan
    "Changed": "\x1b[34m",  # blue
}
_DATE_LINE = lazy_re(r"^(- )(\d{4}-\d{2}-\d{2}|undated)$")
_CATEGORY_LINE = lazy_re(r"^(  - )(.+)$")


def colour_wanted(
    stream: TextIO, when: str = "auto", environ: Mapping[str, str] | None = None
) -> bool:
    """Whether to write ANSI colours to ``stream``."""
    env = os.environ if environ is None else environ
    if when == "always":
        return True
    if when == "never" or "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_history(text: str) -> str:
    """Bold dates and coloured category lines of the text Change History layout.

    Only lines that are exactly a date bullet or a known category bullet are touched, so a
    team's own template is never garbled.
    """
    out = []
    for line in text.split("\n"):
        m = _DATE_LINE.match(line)
        if m:
            line = f"{m.group(1)}{_BOLD}{m.group(2)}{_RESET}"
        else:
            m = _CATEGORY_LINE.match(line)
            if m and m.group(2) in _CATEGORY_COLOURS:
                line = f"{m.group(1)}{_CATEGORY_COLOURS[m.group(2)]}{m.group(2)}{_RESET}"
        out.append(line)
    return "\n".join(out)


def red(text: str) -> str:
    return f"\x1b[31m{text}{_RESET}"


def pager_command(environ: Mapping[str, str] | None = None) -> str | None:
    """The pager to run (git's order), or None for none (``cat``, empty, or no ``less``)."""
    import shlex
    import shutil

    env = os.environ if environ is None else environ
    cmd = env.get("WIKISYNC_PAGER", env.get("PAGER", "less")).strip()
    if not cmd or cmd == "cat":
        return None
    try:
        first = shlex.split(cmd)[0]
    except (ValueError, IndexError):
        return None
    if "/" not in first and shutil.which(first) is None and first == "less":
        return None  # the default is missing: print, like git does without a pager
    return cmd


class Pager:
    """Redirects ``sys.stdout`` into a pager process until :meth:`close`."""

    def __init__(self, cmd: str, environ: Mapping[str, str] | None = None) -> None:
        import subprocess  # only when output is paged: not on every start

        env = dict(os.environ if environ is None else environ)
        env.setdefault("LESS", "FRX")
        env.setdefault("LV", "-c")
        # The pager is the user's own command line, run by the shell as git runs it.
        self.proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, env=env)
        assert self.proc.stdin is not None
        self.saved = sys.stdout
        sys.stdout = io.TextIOWrapper(self.proc.stdin, encoding="utf-8", errors="replace")

    def close(self) -> None:
        """Flush, let the pager finish (the user quits it), and restore stdout."""
        stream, sys.stdout = sys.stdout, self.saved
        with contextlib.suppress(BrokenPipeError, OSError):
            stream.close()
        self.proc.wait()


def start_pager(environ: Mapping[str, str] | None = None) -> Pager | None:
    """A pager on stdout when stdout is a terminal and a pager is configured."""
    if not sys.stdout.isatty():
        return None
    cmd = pager_command(environ)
    return Pager(cmd, environ) if cmd else None
