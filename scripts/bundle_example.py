"""Rebuild the bundled offline example, snapshots/openedx-roadmap-example/, from tests/data/openedx.

The versions are reconstructions of the real page's history (see tests/data/openedx/README.md);
they are stored through the real CLI, exactly as a user would store them.
Run: python scripts/bundle_example.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
PAGE = "openedx-roadmap-example"


def main() -> int:
    versions = json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
    for v in versions:
        cmd = [
            sys.executable, "-m", "wikisync", "--config", str(ROOT / "config.toml"),
            "snapshot", str(DATA / v["file"]), "--page", PAGE,
            "--at", v["when"], "--version", str(v["version"]),
            "--author", v["author"], "--message", v["message"],
        ]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
