"""scripts/readme.py: README's console blocks are real runs, and the README is up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import readme  # noqa: E402

SAMPLE = """# Sample

<!-- readme: session=offline lines=2 -->
```console
$ wikisync log openedx-roadmap-example
stale output
$ false
$ echo $?
```

<!-- readme: skip -->
```console
$ wikisync sync
written by hand
```

```console
$ wikisync log openedx-roadmap-exmaple
```
"""

V7 = "v7  2021-06-01T16:00:00Z  73 cards  Open edX Architecture (reconstructed)  "
V6 = "v6  2021-02-10T16:00:00Z  74 cards  Open edX Architecture (reconstructed)  "
UNKNOWN = (
    "wikisync: error: unknown page 'openedx-roadmap-exmaple' (did you mean "
    "openedx-roadmap-example?) (known pages: openedx-roadmap, openedx-roadmap-example)"
)
#: SAMPLE as regenerated: real output, two lines and an ellipsis, `$?` of `false`, skip kept.
EXPECTED = (
    SAMPLE.replace(
        "stale output\n",
        f"{V7}20210601T160000Z-v7-f66efcc51617\n{V6}20210210T160000Z-v6-9795ff5a1e2d\n…\n",
    )
    .replace("$ echo $?\n", "$ echo $?\n1\n")
    .replace("openedx-roadmap-exmaple\n```", f"openedx-roadmap-exmaple\n{UNKNOWN}\n```")
)


def test_blocks_are_rerun_abridged_skipped_and_idempotent() -> None:
    fresh = readme.regenerate(SAMPLE)
    assert fresh == EXPECTED
    assert readme.regenerate(fresh) == fresh


def test_directives_are_read_from_the_line_before_the_fence() -> None:
    lines = SAMPLE.split("\n")
    blocks = readme.find_blocks(lines)
    assert [b.options for b in blocks] == [{"session": "offline", "lines": "2"}, {"skip": ""}, {}]
    assert readme.commands(lines[blocks[0].start + 1 : blocks[0].end]) == [
        "wikisync log openedx-roadmap-example",
        "false",
        "echo $?",
    ]


@pytest.mark.slow
def test_the_readme_is_up_to_date() -> None:
    """Fails when an output in README.md is no longer what the command prints."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
