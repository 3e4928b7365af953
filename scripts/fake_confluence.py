"""A stand-in Confluence on 127.0.0.1 serving the bundled example, to try sync and publish by hand.

    python scripts/fake_confluence.py --port 8765 --versions 2 &  # serve v1..v2 of the page
    python scripts/fake_confluence.py edit                         # someone saves the next one
    python scripts/fake_confluence.py edit --file my-page.html -m "moved a card"

``serve`` (the default sub-command) starts the server the tests use (tests/confluence_server.py)
with the first N bundled versions of the real page as page 1812037671; point a config at it:
``base_url = "http://127.0.0.1:8765/wiki"``, ``page_id = "1812037671"``. ``edit`` simulates an
edit in Confluence's editor: the running stand-in saves a new page version, the next bundled
version with its real date and message, or the storage body of ``--file`` dated now. Ctrl-C (or
kill) stops the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
TITLE = "FY21-22 Architecture User Story Roadmap"
PAGE_ID = "1812037671"
#: The stand-in's own control route: not part of Confluence's API.
EDIT_PATH = "/_stand-in/edit"


def serve(port: int, count: int) -> int:
    """Serve the first ``count`` bundled versions until interrupted; ``edit`` adds more."""
    from datetime import UTC, datetime

    from pytest_httpserver import HTTPServer
    from werkzeug import Request, Response

    sys.path.insert(0, str(ROOT / "tests"))
    from confluence_server import FakeConfluence

    versions = json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
    server = HTTPServer(host="127.0.0.1", port=port)
    server.start()

    def edit(request: Request) -> Response:
        try:
            asked = json.loads(request.get_data() or b"{}")
            body, message = asked.get("body"), asked.get("message")
        except (ValueError, AttributeError):
            return Response("expected a JSON object\n", status=400)
        number = len(fake.pages[PAGE_ID].versions) + 1 if PAGE_ID in fake.pages else 1
        if body is None:
            if number > len(versions):
                return Response(f"all {len(versions)} bundled versions are served\n", status=409)
            saved, message = publish(number, message)
        else:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            saved = fake.add_version(PAGE_ID, str(body), message=message or "", when=now)
        info = {"page": PAGE_ID, "version": saved, "message": message or ""}
        return Response(json.dumps(info), content_type="application/json")

    # Registered before the stand-in's catch-all route, so it answers first.
    server.expect_request(EDIT_PATH, method="POST").respond_with_handler(edit)
    fake = FakeConfluence(server)

    def publish(n: int, message: str | None = None) -> tuple[int, str]:
        v = versions[n - 1]
        body = (DATA / v["file"]).read_text(encoding="utf-8")
        text = message if message is not None else v["message"]
        if n == 1:
            fake.add_page(PAGE_ID, TITLE, body, message=text, when=v["when"])
        else:
            fake.add_version(PAGE_ID, body, message=text, when=v["when"])
        print(f"serving bundled v{n} as page version {n}", flush=True)
        return n, text

    for n in range(1, count + 1):
        publish(n)
    print(f"fake Confluence at {fake.base_url} (page {PAGE_ID})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def send_edit(port: int, file: Path | None, message: str | None) -> int:
    """Ask the running stand-in to save a new version; prints what it saved."""
    payload: dict[str, Any] = {"message": message}
    if file is not None:
        payload["body"] = file.read_text(encoding="utf-8")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{EDIT_PATH}",
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            info = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        print(f"fake_confluence: error: {exc.read().decode().strip()}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fake_confluence: error: no stand-in on port {port}: {exc}", file=sys.stderr)
        return 2
    print(f"page {info['page']}: saved version {info['version']} ({info['message']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command")
    # FAKE_CONFLUENCE_PORT: scripts/readme.py runs the stand-in on a free port.
    ap.add_argument("--port", type=int, default=int(os.environ.get("FAKE_CONFLUENCE_PORT", 8765)))
    ap.add_argument("--versions", type=int, default=1, help="bundled versions served at start")
    ed = sub.add_parser("edit", help="save a new version of the page in the running stand-in")
    ed.add_argument("--port", type=int, default=argparse.SUPPRESS)
    ed.add_argument("--file", type=Path, help="a storage-format body (default: next bundled)")
    ed.add_argument("-m", "--message", help="the version message")
    sv = sub.add_parser("serve", help="start the stand-in (the default)")
    sv.add_argument("--port", type=int, default=argparse.SUPPRESS)
    sv.add_argument("--versions", type=int, default=argparse.SUPPRESS, help="as above")
    args = ap.parse_args(argv)
    if args.command == "edit":
        return send_edit(args.port, args.file, args.message)
    return serve(args.port, args.versions)


if __name__ == "__main__":
    raise SystemExit(main())
