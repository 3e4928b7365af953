"""Start instantly: a command imports only what it uses.

``wikisync --help`` must not import numpy, requests, jinja2 or rapidfuzz; a text diff of two
versions of the real page must not import numpy or requests. Checked through ``-X importtime``
in a fresh interpreter (a subprocess), so nothing this test process already imported can hide
an import. Timings live in benchmarks/ (``--only startup``), never here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikisync.diff import match
from wikisync.diff.match import similar_pairs

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"


def imported_by(*args: str, cwd: Path) -> set[str]:
    """Top-level package names a ``python -m wikisync ARGS`` run imports."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wikisync", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names: set[str] = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    assert "wikisync" in names, "no -X importtime output"
    return names


def test_help_imports_no_heavy_package(tmp_path: Path) -> None:
    heavy = {"numpy", "requests", "jinja2", "rapidfuzz"}
    assert imported_by("--help", cwd=tmp_path) & heavy == set()


def test_text_diff_of_the_real_page_imports_no_numpy(tmp_path: Path) -> None:
    old, new = DATA / "v6.storage.html", DATA / "v7.storage.html"
    names = imported_by("diff", str(old), str(new), cwd=tmp_path)
    assert names & {"numpy", "requests"} == set()


titles = st.lists(
    st.lists(
        st.sampled_from(["mfe", "theming", "tutor", "devstack", "django", "upgrade", "5", "x"]),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(titles, titles, st.sampled_from([0.0, 50.0, 68.0, 75.0]))
def test_small_blocks_score_like_the_numpy_matrix(a: list[str], b: list[str], floor: float) -> None:
    """Pair-by-pair scoring (no numpy) gives the matrix's pairs and float32 numbers exactly."""
    pytest.importorskip("numpy")
    small = similar_pairs(a, b, floor)
    saved = match.NUMPY_ABOVE
    match.NUMPY_ABOVE = -1
    try:
        big = similar_pairs(a, b, floor)
    finally:
        match.NUMPY_ABOVE = saved
    assert small == big
