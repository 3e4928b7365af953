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
