"""Serve the bundled example versions as a fake Confluence on 127.0.0.1, to try sync by hand.

    python scripts/fake_confluence.py --port 8765 --versions 3 &
    # config.toml: base_url = "http://127.0.0.1:8765/wiki", page_id = "1812037671", api = "v2"

The server is the one the tests use (tests/confluence_server.py). Type a version number and
Enter to publish the next bundled version as a new page version; Ctrl-C stops.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from confluence_server import FakeConfluence  # noqa: E402

DATA = ROOT / "tests" / "data" / "openedx"
TITLE = "FY21-22 Architecture User Story Roadmap"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--versions", type=int, default=1, help="bundled versions served at start")
    args = ap.parse_args()
    versions = json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
    server = HTTPServer(host="127.0.0.1", port=args.port)
    server.start()
    fake = FakeConfluence(server)
    page_id = "1812037671"

    def publish(n: int) -> None:
        v = versions[n - 1]
        body = (DATA / v["file"]).read_text(encoding="utf-8")
        if n == 1:
            fake.add_page(page_id, TITLE, body, message=v["message"], when=v["when"])
        else:
            fake.add_version(page_id, body, message=v["message"], when=v["when"])
        print(f"serving bundled v{n} as page version {n}", flush=True)

    for n in range(1, args.versions + 1):
        publish(n)
    print(f"fake Confluence at {fake.base_url} (page {page_id})", flush=True)
    try:
        for line in sys.stdin:
            if line.strip().isdigit() and len(fake.pages[page_id].versions) < len(versions):
                publish(len(fake.pages[page_id].versions) + 1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
