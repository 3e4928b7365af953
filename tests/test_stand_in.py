"""scripts/fake_confluence.py: the README's stand-in, and its `edit` sub-command.

Real processes on 127.0.0.1: the stand-in serves two bundled versions, `edit` saves the next
one as someone editing the page would, and `wikisync sync` sees exactly that edit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fake_confluence.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def stand_in() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0", "--versions", "2"],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    port = 0
    for line in proc.stdout:
        m = re.match(r"fake Confluence at http://127\.0\.0\.1:(\d+)/wiki", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "the stand-in did not start"
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def edit(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "edit", "--port", str(port), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=30,
    )


def wikisync(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wikisync", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )


def test_edit_saves_the_next_bundled_version_and_sync_sees_it(
    stand_in: int, tmp_path: Path
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[store]\npath = "store"\n\n[[page]]\nname = "openedx-roadmap"\n'
        f'base_url = "http://127.0.0.1:{stand_in}/wiki"\npage_id = "1812037671"\n',
        encoding="utf-8",
    )
    assert wikisync(cfg, "sync").stdout == "openedx-roadmap: first snapshot v2 stored\n"
    done = edit(stand_in)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("page 1812037671: saved version 3 (Onboarding Course")
    synced = wikisync(cfg, "sync", "--exit-code")
    assert synced.returncode == 1
    assert "openedx-roadmap: changes from v2 to v3\n- 2020-09-25\n" in synced.stdout
    # an edit with your own body; a one-line error when no stand-in listens
    body = tmp_path / "mine.html"
    body.write_text((ROOT / "tests/data/openedx/v3.storage.html").read_text(), encoding="utf-8")
    mine = edit(stand_in, "--file", str(body), "-m", "no roadmap change")
    assert mine.stdout == "page 1812037671: saved version 4 (no roadmap change)\n"
    assert wikisync(cfg, "sync").stdout == "openedx-roadmap: up to date (v4, same content as v3)\n"
    for _ in range(3):
        assert edit(stand_in).returncode == 0  # bundled v5..v7
    full = edit(stand_in)
    assert full.returncode == 2 and "all 7 bundled versions are served" in full.stderr
    closed = edit(1, "-m", "x")
    assert closed.returncode == 2 and closed.stderr.startswith(
        "fake_confluence: error: no stand-in"
    )
