"""The MediaWiki client's etiquette and errors, against a scripted loopback server.

What a real MediaWiki cannot be made to do on demand — lag its replicas, rate-limit, answer
garbage — is scripted here with pytest-httpserver; everything else is in test_mediawiki.py.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from wikisync.errors import FetchError
from wikisync.wikis.confluence import Auth
from wikisync.wikis.mediawiki import MediaWikiClient, MediaWikiError

REV = {
    "revid": 7,
    "timestamp": "2026-12-01T10:00:00Z",
    "user": "Alice",
    "comment": "plan",
    "slots": {"main": {"content": "{| class=wikitable\n|}"}},
}
QUERY = {"query": {"pages": [{"pageid": 3, "title": "Roadmap", "revisions": [REV]}]}}


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers, mimetype="application/json")


@pytest.fixture
def server(_server: HTTPServer) -> HTTPServer:
    _server.clear()
    return _server


def test_maxlag_is_waited_out_then_answered(server: HTTPServer) -> None:
    calls: list[dict[str, str]] = []
    lag = {"errors": [{"code": "maxlag", "text": "Waiting for db: 7 seconds lagged."}]}

    def handler(request: Request) -> Response:
        calls.append(dict(request.args))
        if len(calls) == 1:
            return _json(lag, headers={"MediaWiki-API-Error": "maxlag", "Retry-After": "7"})
        return _json(QUERY)

    server.expect_request("/w/api.php").respond_with_handler(handler)
    waits: list[float] = []
    client = MediaWikiClient(server.url_for("/w"), sleep=waits.append)
    assert client.current_version(3) == 7
    assert waits[0] == 7.0  # then the site gate holds the next request for what is left
    assert all(c["maxlag"] == "5" and c["formatversion"] == "2" for c in calls)


def test_user_agent_is_descriptive(server: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("User-Agent", ""))
        return _json(QUERY)

    server.expect_request("/w/api.php").respond_with_handler(handler)
    MediaWikiClient(server.url_for("/w/")).current_version(3)
    assert seen and seen[0].startswith("wikisync/") and "bot" in seen[0]


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("ratelimited", 429, "rate-limited"),
        ("readapidenied", 401, 'auth = "password"'),
        ("protectedpage", 403, "protected"),
        ("badtoken", 403, "token"),
    ],
)
def test_api_errors_are_one_line(server: HTTPServer, code: str, status: int, words: str) -> None:
    body = {"errors": [{"code": code, "text": "The wiki says\nno."}]}
    server.expect_request("/w/api.php").respond_with_json(body)
    client = MediaWikiClient(server.url_for("/w"), retries=0)
    with pytest.raises(MediaWikiError) as err:
        client.current_version(3)
    assert err.value.code == code and err.value.status == status
    assert words in str(err.value) and "\n" not in str(err.value)


def test_not_an_api_answer(server: HTTPServer) -> None:
    server.expect_request("/w/api.php").respond_with_data("<html>login</html>", status=200)
    with pytest.raises(FetchError, match="not a MediaWiki API answer"):
        MediaWikiClient(server.url_for("/w")).current_version(3)


def test_the_login_is_never_redirected(server: HTTPServer) -> None:
    """The password goes in a POST; a redirect of it to another address is refused, not
    followed (the transport never re-sends a write)."""
    other = server.url_for("/elsewhere").replace("127.0.0.1", "localhost")

    def handler(request: Request) -> Response:
        if request.method == "GET":
            return _json({"query": {"tokens": {"logintoken": "t+\\"}}})
        return Response("", status=307, headers={"Location": other})

    server.expect_request("/w/api.php").respond_with_handler(handler)
    secret = "0123456789abcdefghijklmnopqrstuv"
    client = MediaWikiClient(server.url_for("/w"), Auth("password", "Bot@ci", secret))
    with pytest.raises(FetchError, match="never re-sent") as err:
        client.current_version(3)
    assert secret not in str(err.value)


def test_endless_continuation_is_cut(server: HTTPServer) -> None:
    n = iter(range(1, 10_000))

    def handler(request: Request) -> Response:
        i = next(n)
        page = {"pageid": 3, "title": "R", "revisions": [{**REV, "revid": i}]}
        return _json(
            {"continue": {"rvcontinue": str(i % 3), "continue": "||"}, "query": {"pages": [page]}}
        )

    server.expect_request("/w/api.php").respond_with_handler(handler)
    with pytest.raises(FetchError, match="repeated a continuation token"):
        list(MediaWikiClient(server.url_for("/w")).versions(3))


def test_the_password_never_shows(server: HTTPServer) -> None:
    secret = "0123456789abcdefghijklmnopqrstuv"

    def handler(request: Request) -> Response:
        if request.args.get("type") == "login":
            return _json({"query": {"tokens": {"logintoken": "t+\\"}}})
        text = f"Incorrect password {request.form.get('lgpassword')}"
        return _json({"login": {"result": "Failed", "reason": text}})

    server.expect_request("/w/api.php").respond_with_handler(handler)
    client = MediaWikiClient(server.url_for("/w"), Auth("password", "Bot@ci", secret))
    assert secret not in repr(client)
    with pytest.raises(FetchError) as err:
        client.current_version(3)
    assert "cannot log in" in str(err.value) and secret not in str(err.value)


def test_an_edit_newer_than_the_base_is_a_conflict_before_saving(server: HTTPServer) -> None:
    """MediaWiki's own check compares one-second timestamps: an edit saved in the same second as
    the base revision would be overwritten. The client checks the latest revision id first."""
    posts: list[str] = []

    def handler(request: Request) -> Response:
        if request.method == "POST":
            posts.append(request.form.get("action", ""))
            return _json({"edit": {"result": "Success", "newrevid": 9}})
        if request.args.get("meta") == "tokens":
            return _json({"query": {"tokens": {"csrftoken": "t+\\"}}})
        return _json(QUERY)  # the latest revision is 7

    server.expect_request("/w/api.php").respond_with_handler(handler)
    client = MediaWikiClient(server.url_for("/w"))
    with pytest.raises(MediaWikiError) as err:
        client.update_page(3, title="Roadmap", body="x", base=6)
    assert err.value.status == 409 and err.value.code == "editconflict"
    assert posts == []  # nothing was sent to save
    assert client.update_page(3, title="Roadmap", body="x", base=7) == 9
