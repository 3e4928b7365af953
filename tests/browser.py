"""One real headless Chromium for the browser tests (Debian's chromium + chromium-driver).

Generic on purpose (the HTML report and the stats SVG both use it): ``Browser.open(path)`` loads
a local file and returns the Selenium driver. Every request that is not ``file:`` or ``data:``
is blocked in the browser (CDP ``Network.setBlockedURLs``, and a proxy that goes nowhere) and
still recorded from the performance log, so a test can assert that nothing left the machine.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = "no chromium: apt-get install chromium chromium-driver"
LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")


def available() -> bool:
    """True when the browser, its driver and selenium are all installed."""
    if shutil.which(CHROMIUM) is None and shutil.which("chromium") is None:
        return False
    if shutil.which(CHROMEDRIVER) is None and shutil.which("chromedriver") is None:
        return False
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return True


class Browser:
    """A headless Chromium that only reads local files."""

    def __init__(self, width: int = 1600, height: int = 1000) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="wikisync-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = shutil.which(CHROMIUM) or shutil.which("chromium") or CHROMIUM
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--disable-component-update",
            "--disable-default-apps",
            "--metrics-recording-only",
            "--no-pings",
            "--proxy-server=http://127.0.0.1:9",  # anything that escapes the block goes nowhere
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
        ):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(executable_path=shutil.which(CHROMEDRIVER) or CHROMEDRIVER)
        self.driver = webdriver.Chrome(options=opts, service=service)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd(
            "Network.setBlockedURLs",
            {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]},
        )
        self._seen: list[str] = []

    def open(self, target: Path | str) -> Any:
        """Load a local file (a path or a ``file://`` URL) and return the driver."""
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        if not url.startswith("file://"):
            raise ValueError(f"the test browser opens local files only, not {url!r}")
        self.requests()  # start the page's record clean
        self._seen.clear()
        self.driver.get(url)
        return self.driver

    def requests(self) -> list[str]:
        """URLs the page asked for since it was opened that are not local (should be none)."""
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                url = msg["params"]["request"]["url"]
                if not url.startswith(LOCAL_SCHEMES):
                    self._seen.append(url)
        return list(self._seen)

    def console_errors(self) -> list[str]:
        """Severe console messages (script errors, blocked loads, CSP refusals)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
