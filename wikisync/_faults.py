"""Fault injection for the crash tests: stop at a named point, so a test can kill -9 right there.

A kill at a random moment lands where the machine's load puts it; a test that must hit the
writing phase then depends on timing. Instead, the code that writes names its risky moments
(``point("store:renamed")``), and a test runs wikisync with::

    WIKISYNC_FAULT_POINT=store:renamed      the point (or several, comma-separated) to stop at
    WIKISYNC_FAULT_MARKER=/tmp/x/marker     a file the process creates when it gets there

On reaching a named point the process writes the point's name to the marker file and waits
there as long as the marker exists: the test waits for the marker, then either sends SIGKILL
(a crash exactly there) or deletes the marker (the run carries on: a race staged exactly, such
as a second run meeting the lock). Without both variables ``point`` returns at once (one
environment lookup): production runs never stop.

Points (in the order a sync reaches them; see docs/reliability.md): ``sync:start``,
``sync:checked``, ``sync:fetched``, ``sync:parsed``, ``store:bodies-written``,
``store:tmp-complete``, ``store:renamed``, ``sync:stored``, ``file:tmp-written``,
``file:replaced``, ``sync:done``; and ``lock:busy`` (a run found the store locked and is
about to wait for it).
"""

from __future__ import annotations

import os
import time

ENV_POINT = "WIKISYNC_FAULT_POINT"
ENV_MARKER = "WIKISYNC_FAULT_MARKER"

#: Every point the code names, in the order one sync that stores a new version reaches them.
POINTS: tuple[str, ...] = (
    "sync:start",  # the lock is held, nothing read yet
    "sync:checked",  # the server said which version is current
    "sync:fetched",  # the body is downloaded, not parsed
    "sync:parsed",  # parsed, nothing written
    "store:bodies-written",  # a put's temporary directory holds the bodies only
    "store:tmp-complete",  # ... every file, synced; not renamed into place
    "store:renamed",  # the snapshot is in place; its directory entry not synced yet
    "sync:stored",  # the snapshot is stored; no CHANGELOG entry for it yet
    "file:tmp-written",  # a whole-file rewrite (CHANGELOG.md) is in its temporary file
    "file:replaced",  # ... renamed over the old file; the directory not synced yet
    "sync:done",  # the page is done; the process has not printed or exited yet
)


#: Points off that path: a second run meeting the lock.
OTHER_POINTS: tuple[str, ...] = ("lock:busy",)


def point(name: str) -> None:
    """Wait here while the marker exists, when the environment names this point (see the
    module docstring)."""
    wanted = os.environ.get(ENV_POINT)
    if not wanted or name not in wanted.split(","):
        return
    marker = os.environ.get(ENV_MARKER)
    if not marker:
        return
    tmp = f"{marker}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name)
    os.replace(tmp, marker)  # the test never reads a half-written marker
    while os.path.exists(marker):  # until the test kills this process or lets it go on
        time.sleep(0.01)
