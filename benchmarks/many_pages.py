"""Many pages from one site: sequential against concurrent fetching, under a rate limit.

Usage: ``python benchmarks/many_pages.py [--quick] [--write]``

The loopback Confluence stand-in (tests/confluence_server.py) serves 50 pages × 40 versions
(``--quick``: 20 × 10) with a fixed service time per request (``LATENCY``, the round trip a real
site costs) and a sliding-window rate limit: more than ``LIMIT`` requests in one second are
answered 429 with ``Retry-After: 1``. Three jobs, each run with one worker and with four, side by
side in the same process:

- ``first sync``: every page's current version, stored (the [[watch]] of a new space);
- ``cron sync``: the same 50 pages unchanged: one cheap request each;
- ``backfill``: every stored page's 40 versions (``--jobs 1`` against ``--jobs 4``).

Each row says the wall time, the requests the site saw, how many it refused with 429, and the
speed-up of four workers over one. The per-site gate (``wikisync.http.SiteGate``) makes a 429
to one worker hold all of them, so four workers never turn one "slow down" into four. ``--write``
puts the table between ``<!-- many:begin/end -->`` in RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from benchmarks.accuracy import RESULTS, replace_section
from wikisync.config import PageConfig
from wikisync.http import gate_for
from wikisync.store import Store
from wikisync.sync import backfill, sync_pages

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "openedx"
LATENCY = 0.02  # seconds the stand-in takes per answer
LIMITS = (80, 45)  # requests a second before it answers 429: above, then below what 4 reach


class LimitedConfluence(FakeConfluence):
    """The stand-in with a service time and a sliding-window rate limit."""

    def __init__(self, server: HTTPServer, limit: int) -> None:
        super().__init__(server)
        self.limit = limit
        self.window: deque[float] = deque()
        self.refused = 0
        self.served = 0
        self._gate = threading.Lock()

    def _dispatch(self, request: Request) -> Response:
        now = time.monotonic()
        with self._gate:
            while self.window and now - self.window[0] > 1.0:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.refused += 1
                return Response("Rate limit exceeded.", 429, headers={"Retry-After": "1"})
            self.window.append(now)
            self.served += 1
        time.sleep(LATENCY)
        return super()._dispatch(request)


def _site(server: HTTPServer, pages: int, versions: int, limit: int) -> LimitedConfluence:
    bodies = [(DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)]
    fake = LimitedConfluence(server, limit)
    for p in range(pages):
        pid = str(5000 + p)
        fake.add_page(pid, f"Roadmap {p}", bodies[0])
        for v in range(1, versions):
            fake.add_version(pid, bodies[v % len(bodies)])
    return fake


def _cfgs(fake: FakeConfluence, pages: int) -> list[PageConfig]:
    return [
        PageConfig(name=f"p{p}", base_url=fake.base_url, page_id=str(5000 + p), api="v1")
        for p in range(pages)
    ]


def _run(fake: LimitedConfluence, job: Any) -> tuple[float, int, int]:
    fake.refused = fake.served = 0
    fake.window.clear()
    gate_for(fake.base_url).clear()
    time.sleep(1.1)  # an empty window: each run starts from the same state
    started = time.perf_counter()
    job()
    return time.perf_counter() - started, fake.served, fake.refused


def measure(pages: int, versions: int, limit: int) -> list[dict[str | int, Any]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    rows: list[dict[str | int, Any]] = []
    try:
        fake = _site(server, pages, versions, limit)
        cfgs = _cfgs(fake, pages)
        with tempfile.TemporaryDirectory() as tmp:
            stores = {w: Store(Path(tmp) / f"w{w}") for w in (1, 4)}
            for name in ("first sync", "cron sync", "backfill"):
                row: dict[str | int, Any] = {"job": name}
                for workers in (1, 4):
                    store = stores[workers]

                    def job(store: Store = store, workers: int = workers, name: str = name) -> None:
                        if name == "backfill":
                            for cfg in cfgs:
                                result = backfill(store, cfg, jobs=workers)
                                assert (
                                    len(result.stored) + result.skipped + len(result.same)
                                    >= versions - 1
                                ), result.summary()
                        else:
                            results = list(sync_pages(store, cfgs, concurrency=workers))
                            errors = [r.error for r in results if r.error]
                            assert not errors, errors[:3]

                    row[workers] = _run(fake, job)
                rows.append(row)
    finally:
        server.clear()
        server.stop()
    return rows


def table(rows: list[dict[str | int, Any]], pages: int, versions: int, limit: int) -> str:
    lines = [
        f"{pages} pages × {versions} versions from one site on loopback, {LATENCY * 1000:.0f} ms "
        f"a request, at most {limit} requests a second (then 429, Retry-After: 1).",
        "",
        "| job | 1 worker | 4 workers | requests (1 / 4) | 429s (1 / 4) | speed-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        (t1, n1, x1), (t4, n4, x4) = r[1], r[4]
        lines.append(
            f"| {r['job']} | {t1:.2f} s | {t4:.2f} s | {n1} / {n4} | {x1} / {x4} | {t1 / t4:.1f}× |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 pages × 10 versions")
    ap.add_argument("--write", action="store_true", help="write the table into RESULTS.md")
    args = ap.parse_args(argv)
    pages, versions = (20, 10) if args.quick else (50, 40)
    texts: list[str] = []
    missed = False
    for limit in LIMITS:
        rows = measure(pages, versions, limit)
        texts.append(table(rows, pages, versions, limit))
        print(texts[-1])
        cron = next(r for r in rows if r["job"] == "cron sync")
        if cron[1][1] != pages or cron[4][1] != pages:
            print(f"MISS: a cron sync of {pages} unchanged pages should cost {pages} requests")
            missed = True
    if args.write:
        body = "## Many pages: sequential vs concurrent\n\n" + "\n".join(texts) + NOTE
        replace_section(RESULTS, "many", body)
    return 1 if missed else 0


NOTE = """
Below the site's limit, four workers take about a half to a third of the time of one. When
the limit binds, no number of workers beats it: the per-site gate makes every worker wait out
a `Retry-After`, so the site sees a handful of refused requests (a few percent) rather than a
storm, at about the speed of one worker. `python benchmarks/many_pages.py --write`.
"""


if __name__ == "__main__":
    raise SystemExit(main())
