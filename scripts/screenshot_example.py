"""Regenerate the README's screenshot: the bundled example's v5 → v6 diff in headless Chromium.

Writes docs/img/example-diff.png from ``wikisync diff openedx-roadmap-example@v5
openedx-roadmap-example@v6 --format html`` (run through the real CLI), opened in the same
network-blocked browser the tests use (tests/browser.py). Needs Debian's chromium and
chromium-driver. Run: python scripts/screenshot_example.py
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import MISSING, Browser, available  # noqa: E402  (the tests' own browser)

PAGE = "openedx-roadmap-example"
OUT = ROOT / "docs" / "img" / "example-diff.png"
WIDTH, HEIGHT = 1400, 1900  # the legend, the entry and the grid down to the FY22 H1 row


def main() -> int:
    if not available():
        print(f"screenshot_example: {MISSING}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "diff.html"
        cmd = [
            sys.executable, "-m", "wikisync", "--config", str(ROOT / "config.toml"),
            "diff", f"{PAGE}@v5", f"{PAGE}@v6", "--format", "html", "-o", str(html),
        ]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT)
        browser = Browser(WIDTH, HEIGHT)
        try:
            driver = browser.open(html)
            shot = driver.execute_cdp_cmd(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True,
                 "clip": {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT, "scale": 1}},
            )  # fmt: skip
            leaked = browser.requests()
        finally:
            browser.close()
    if leaked:
        print(f"screenshot_example: the page asked for the network: {leaked}", file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
