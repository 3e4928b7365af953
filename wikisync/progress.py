"""Waits are never silent: a spinner on a terminal for whatever takes more than a second.

Light on purpose (standard library only): the CLI turns it on at start-up, before knowing
whether a command will touch the network, and ``wikisync --help`` must stay instant.
``wikisync.http`` wraps every request in ``waiting``; progress bars (backfill) take the line
over with ``suspend_waits``.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

__all__ = ["show_waits", "suspend_waits", "waiting"]


class _Spinner:
    """A one-line spinner on a terminal's stderr for requests that take more than a second.

    Off unless ``show_waits`` turned it on (the CLI does, on a terminal only); never in a pipe,
    a cron mail or a test's captured stderr. ``suspend`` hands the line over to a progress bar.
    """

    FRAMES = "|/-\\"

    def __init__(self) -> None:
        self.stream: IO[str] | None = None
        self.after = 1.0
        self._lock = threading.Lock()
        self._active: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self._shown = False
        self._suspended = 0

    def enable(self, stream: IO[str] | None, after: float = 1.0) -> None:
        self.stream, self.after = stream, after

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        with self._lock:
            self._suspended += 1
            self._clear()
        try:
            yield
        finally:
            with self._lock:
                self._suspended -= 1

    @contextlib.contextmanager
    def waiting(self, label: str) -> Iterator[None]:
        if self.stream is None:
            yield
            return
        key = next(self._ids)
        with self._lock:
            self._active[key] = (label, time.monotonic())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wikisync-spinner")
                self._thread.daemon = True
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                del self._active[key]
                if not self._active:
                    self._clear()

    def line(self, now: float, frame: int) -> str | None:
        """What to show at ``now`` (None: nothing has waited ``after`` seconds yet)."""
        if not self._active or self._suspended:
            return None
        label, since = min(self._active.values(), key=lambda a: a[1])
        waited = now - since
        if waited < self.after:
            return None
        more = len(self._active) - 1
        others = f" (+{more} more)" if more else ""
        return (
            f"{self.FRAMES[frame % len(self.FRAMES)]} waiting for {label}{others}: {waited:.0f} s"
        )

    def _run(self) -> None:
        for frame in itertools.count():
            time.sleep(0.2)
            with self._lock:
                if not self._active:
                    self._thread = None
                    return
                text = self.line(time.monotonic(), frame)
                if text is not None and self.stream is not None:
                    self.stream.write("\r\x1b[K" + text)
                    self.stream.flush()
                    self._shown = True

    def _clear(self) -> None:
        if self._shown and self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


_spinner = _Spinner()


def show_waits(stream: IO[str] | None = None, *, after: float = 1.0) -> None:
    """Show a spinner on ``stream`` (default stderr, when it is a terminal) for slow requests."""
    stream = sys.stderr if stream is None else stream
    _spinner.enable(stream if stream.isatty() else None, after)


def suspend_waits() -> contextlib.AbstractContextManager[None]:
    """No spinner inside this block (a progress bar owns the line)."""
    return _spinner.suspended()


def waiting(label: str) -> contextlib.AbstractContextManager[None]:
    """Around something that may wait (a request): the spinner shows ``label`` after a second."""
    return _spinner.waiting(label)
