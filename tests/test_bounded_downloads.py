"""Every answer is read as a stream and capped on its decompressed size; version listings end.

An endless body, a gzip bomb and an answer declaring a size over the cap each stop with one
line, for the REST client and for URL sources; the page's own ``[page.parse] max_bytes`` sets
the REST cap; a listing that never ends (new versions and a new cursor on every page) stops at
the listing caps, and a cursor that comes back under other parameters stops it at once.
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_sync import PID, TITLE, VIEW, WHEN, V
from werkzeug import Request, Response

from wikisync.cli import cli
from wikisync.errors import FetchError
from wikisync.http import get_url
from wikisync.sync import response_cap
from wikisync.wikis.confluence import MAX_LISTING_PAGES, MAX_VERSIONS, ConfluenceClient

CAP = 1 << 20
CONTENT = re.compile(r"^/wiki/rest/api/content/\d+$")


@pytest.fixture
def server(_server: HTTPServer) -> HTTPServer:
    _server.clear()
    return _server


def base(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}/wiki"


def client(server: HTTPServer, **kw: int) -> ConfluenceClient:
    return ConfluenceClient(base(server), cloud=False, retries=0, **kw)


def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of JSON-looking zeros, gzip-compressed (about 1,000 : 1)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [z.compress(b'{"results": "')]
    parts += [z.compress(b"0" * (1 << 20)) for _ in range(megabytes)]
    return b"".join([*parts, z.flush()])


# --------------------------------------------------------------------------- bodies


def test_endless_body_stops_at_the_cap(server: HTTPServer) -> None:
    sent = [0]

    def forever() -> Iterator[bytes]:
        chunk = b'{"x": "' + b"y" * 65536
        while True:
            sent[0] += len(chunk)
            yield chunk

    server.expect_request(CONTENT).respond_with_handler(
        lambda _r: Response(forever(), 200, content_type="application/json")
    )
    with client(server, max_bytes=CAP) as c, pytest.raises(FetchError) as ei:
        c.page(PID)
    msg = str(ei.value)
    assert f"passed the {CAP}-byte limit; stopped reading" in msg, msg
    assert msg.startswith(f"cannot read page {PID}: GET http://127.0.0.1:") and "\n" not in msg


@pytest.mark.parametrize("through", ["rest", "url"])
def test_gzip_bomb_is_capped_on_decompressed_bytes(server: HTTPServer, through: str) -> None:
    bomb = gzip_bomb(64)
    assert len(bomb) < CAP // 4  # small on the wire: a cap on wire bytes would let it through
    server.expect_request(re.compile("^/")).respond_with_response(
        Response(bomb, 200, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    )
    with pytest.raises(FetchError) as ei:
        if through == "rest":
            with client(server, max_bytes=CAP) as c:
                c.page(PID)
        else:
            get_url(f"http://127.0.0.1:{server.port}/page.html", max_bytes=CAP)
    assert f"the decompressed answer passed the {CAP}-byte limit" in str(ei.value)


def test_declared_length_over_the_cap_is_refused_before_reading(server: HTTPServer) -> None:
    server.expect_request(CONTENT).respond_with_response(
        Response(b"{" + b" " * (2 * CAP) + b"}", 200, content_type="application/json")
    )
    with client(server, max_bytes=CAP) as c, pytest.raises(FetchError) as ei:
        c.page(PID)
    assert f"the answer is {2 * CAP + 2} bytes, over the {CAP}-byte limit" in str(ei.value)


def test_under_the_cap_reads_as_before(server: HTTPServer) -> None:
    fake = FakeConfluence(server, v2=False)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1])
    big = len(json.dumps({"s": V[1], "v": VIEW}))
    with client(server, max_bytes=big + 4096) as c:
        assert c.page(PID).bodies["storage"] == V[1]


def test_the_page_limit_in_the_config_caps_the_download(server: HTTPServer, tmp_path: Path) -> None:
    fake = FakeConfluence(server, v2=False)
    huge = V[1].replace("</table>", "</table><p>" + "x" * 2_500_000 + "</p>", 1)
    fake.add_page(PID, TITLE, huge, "<p>view</p>", when=WHEN[1])
    cfg = tmp_path / "config.toml"
    toml = fake.config_toml("roadmap", PID) + "\n[page.parse]\nmax_bytes = 100000\n"
    cfg.write_text('[store]\npath = "store"\n\n' + toml, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(cfg), "sync"])
    assert result.exit_code == 2
    cap = response_cap(100_000)
    assert f"over the {cap}-byte limit" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "store" / "roadmap").exists()
    assert response_cap(0) is None and response_cap(50_000_000) == 151_048_576


# --------------------------------------------------------------------------- listings


def endless_listing(server: HTTPServer, per_page: int, *, sticky: bool = False) -> list[int]:
    """v1 version listing that always has a next page with new versions; returns hit counter."""
    hits = [0]
    numbers = itertools.count(1)

    def listing(request: Request) -> Response:
        hits[0] += 1
        start = int(request.args.get("start", "0"))
        nxt = start if sticky and start else start + per_page
        results = [{"number": next(numbers), "when": WHEN[1]} for _ in range(per_page)]
        links = {
            "next": f"/rest/api/content/{PID}/version?start={nxt}&limit={per_page}&n={hits[0]}"
        }
        return Response(json.dumps({"results": results, "_links": links}), 200,
                        content_type="application/json")  # fmt: skip

    server.expect_request(f"/wiki/rest/api/content/{PID}/version").respond_with_handler(listing)
    return hits


def test_endless_pagination_stops_at_the_page_cap(server: HTTPServer) -> None:
    hits = endless_listing(server, 3)
    with client(server, max_listing_pages=40) as c, pytest.raises(FetchError) as ei:
        list(c.versions(PID))
    msg = str(ei.value)
    assert "the listing goes on past 40 pages (120 versions so far)" in msg, msg
    assert hits == [40]


def test_endless_pagination_stops_at_the_version_cap(server: HTTPServer) -> None:
    hits = endless_listing(server, 50)
    with client(server, max_versions=120) as c, pytest.raises(FetchError) as ei:
        list(c.versions(PID))
    assert "lists more than 120 versions" in str(ei.value)
    assert hits == [3]


def test_a_cursor_repeated_under_other_parameters_stops_at_once(server: HTTPServer) -> None:
    hits = endless_listing(server, 2, sticky=True)
    with client(server) as c, pytest.raises(FetchError, match="repeated the page cursor"):
        list(c.versions(PID))
    assert hits == [2]  # start=0, start=2; the next start=2 (with another &n=) is not asked


def test_the_caps_are_far_above_a_real_history() -> None:
    # A page saved every hour for ten years has 87,600 versions; Confluence lists 25-250 a page.
    assert MAX_VERSIONS >= 100_000 and MAX_LISTING_PAGES * 25 >= 50_000
