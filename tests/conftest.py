"""Shared fixtures: one threaded HTTP server on 127.0.0.1 per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def _server() -> Iterator[HTTPServer]:
    """A real HTTP server on loopback; each test's ``fake`` fixture clears and re-arms it."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def require(ok: bool, reason: str) -> None:
    """Skip with a one-line reason when a real part (browser, wiki) is missing locally.

    Under ``CI=true`` a missing part is a failure, never a skip: CI installs every part.
    """
    if ok:
        return
    import os

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole run (tests/browser.py); skips locally without it."""
    from browser import MISSING, Browser, available

    require(available(), MISSING)
    b = Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(autouse=True)
def _fresh_site_gates() -> Iterator[None]:
    """Each test starts with no site asking to wait: a Retry-After planted by one test (whose
    clients record their sleeps instead of sleeping) must not hold the next one."""
    from wikisync import http

    http._gates.clear()
    yield
    http._gates.clear()
