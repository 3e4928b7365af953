"""Notifications and feeds: an outbox delivered through Apprise, and feed.atom per page.

Against the loopback Confluence stand-in and a loopback webhook that records what Apprise's
``json://`` posts: a first sync notifies nobody, an edit notifies once naming the moved card, a
receiver that is down keeps the message queued until a later sync delivers it exactly once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.cli import cli
from wikisync.notify import OUTBOX_NAME
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
V = {n: (DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)}
VIEW = (DATA / "current.view.html").read_text(encoding="utf-8")
PID = "1812037671"
TITLE = "FY21-22 Architecture User Story Roadmap"
PAGE = "roadmap"
WHEN = {n: f"2021-0{n}-10T12:00:00Z" for n in range(1, 8)}


class Receiver:
    """A webhook on 127.0.0.1 that records every POST; ``up = False`` answers 503."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self.up = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.up:
                    outer.posts.append(json.loads(body))
                self.send_response(200 if outer.up else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[5], VIEW, when=WHEN[5], author=("Ann", "a-1"))
    return fake


def edit(fake: FakeConfluence, n: int) -> int:
    return fake.add_version(PID, V[n], VIEW, when=WHEN[n], author=("Bob", "b-2"))


def write_config(fake: FakeConfluence, tmp_path: Path, notify: str) -> Path:
    path = tmp_path / "config.toml"
    text = '[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID) + "\n" + notify
    path.write_text(text, encoding="utf-8")
    return path


def run(cfg: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def queued(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "store" / OUTBOX_NAME).glob("*.json"))


def test_first_sync_notifies_nobody_then_an_edit_once(
    fake: FakeConfluence, receiver: Receiver, tmp_path: Path
) -> None:
    cfg = write_config(
        fake,
        tmp_path,
        f'[[notify]]\nurl = "{receiver.url}"\nreport_url = "https://intranet.example/{{page}}/"\n',
    )
    assert run(cfg, "sync")[0] == 0
    assert receiver.posts == [] and queued(tmp_path) == []
    edit(fake, 6)
    code, _out, err = run(cfg, "sync")
    assert code == 0, err
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post["title"] == f"Roadmap changed: {TITLE}"
    message = str(post["message"])
    assert "Moved “Authn and Authz Standardized” from Q3 to Backlog" in message.replace("\\", "")
    assert "diffpagesbyversion.action?pageId=1812037671&originalVersion=1&revisedVersion=2" in (
        message
    )
    assert "(https://intranet.example/roadmap/diff-v1-v2.html)" in message  # its report page
    assert queued(tmp_path) == []
    # Nothing new: nothing sent again.
    assert run(cfg, "sync")[0] == 0
    assert len(receiver.posts) == 1


def test_receiver_down_queues_then_delivers_exactly_once(
    fake: FakeConfluence, receiver: Receiver, tmp_path: Path
) -> None:
    cfg = write_config(
        fake, tmp_path, '[[notify]]\nurl_env = "HOOK_URL"\npages = ["road*"]\nformat = "text"\n'
    )
    env = {"HOOK_URL": receiver.url}
    assert run(cfg, "sync", env=env)[0] == 0
    receiver.up = False
    edit(fake, 6)
    code, out, err = run(cfg, "sync", env=env)
    assert code == 0
    assert "could not be delivered ($HOOK_URL); queued for the next sync" in err
    assert str(receiver.port) not in err
    assert "v2 stored" in out  # the snapshot is stored whatever the channel does
    assert len(queued(tmp_path)) == 1
    for path in queued(tmp_path):
        assert str(receiver.port) not in path.read_text(encoding="utf-8")  # no URL in the store
    code, out, _ = run(cfg, "notify", "--pending", env=env)
    assert code == 0 and "roadmap  $HOOK_URL" in out
    receiver.up = True
    code, out, err = run(cfg, "sync", env=env)
    assert code == 0 and err == ""
    assert len(receiver.posts) == 1 and queued(tmp_path) == []
    assert "Authn and Authz Standardized" in str(receiver.posts[0]["message"])
    assert run(cfg, "sync", env=env)[0] == 0
    assert len(receiver.posts) == 1


def test_pages_glob_filters(fake: FakeConfluence, receiver: Receiver, tmp_path: Path) -> None:
    cfg = write_config(fake, tmp_path, f'[[notify]]\nurl = "{receiver.url}"\npages = ["ac-*"]\n')
    assert run(cfg, "sync")[0] == 0
    edit(fake, 6)
    assert run(cfg, "sync")[0] == 0
    assert receiver.posts == [] and queued(tmp_path) == []


def test_killed_before_the_changelog_queues_the_same_message(
    fake: FakeConfluence, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(fake, tmp_path, f'[[notify]]\nurl = "{receiver.url}"\n')
    assert run(cfg, "sync")[0] == 0
    receiver.up = False
    edit(fake, 6)
    real = Store.append_changelog

    def die(self: Store, page: str, text: str) -> None:
        if "wikisync: " in text and ".." in text:
            raise KeyboardInterrupt  # killed after queueing, before the CHANGELOG entry
        real(self, page, text)

    monkeypatch.setattr(Store, "append_changelog", die)
    run(cfg, "sync")
    assert len(queued(tmp_path)) == 1
    monkeypatch.setattr(Store, "append_changelog", real)
    receiver.up = True
    assert run(cfg, "sync")[0] == 0  # the catch-up queues the same file again, then delivers
    assert len(receiver.posts) == 1 and queued(tmp_path) == []


def test_notify_test_and_missing_env(receiver: Receiver, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[[notify]]\nurl_env = "HOOK_URL"\n', encoding="utf-8")
    code, out, _ = run(cfg, "notify", "--test", env={"HOOK_URL": receiver.url})
    assert code == 0 and out == "$HOOK_URL: sent\n"
    assert receiver.posts[0]["title"] == "wikisync test"
    code, out, err = run(cfg, "notify", "--test", env={"HOOK_URL": ""})
    assert code == 2 and "HOOK_URL is not set" in err
    receiver.up = False
    code, out, _ = run(cfg, "notify", "--test", env={"HOOK_URL": receiver.url})
    assert code == 2 and out == "$HOOK_URL: FAILED\n"


def test_feed_is_valid_atom_with_stable_ids(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = write_config(fake, tmp_path, "")
    assert run(cfg, "sync")[0] == 0
    feed_path = tmp_path / "store" / PAGE / "feed.atom"
    first = feedparser.parse(feed_path.read_bytes())
    assert not first.bozo and first.version == "atom10" and first.entries == []
    edit(fake, 6)
    assert run(cfg, "sync")[0] == 0
    one = feedparser.parse(feed_path.read_bytes())
    assert not one.bozo and len(one.entries) == 1
    entry_id = one.entries[0].id
    assert "Authn and Authz Standardized" in one.entries[0].summary
    assert "<li>" in one.entries[0].content[0].value
    edit(fake, 7)
    assert run(cfg, "sync")[0] == 0
    data = feed_path.read_bytes()
    two = feedparser.parse(data)
    assert [e.updated[:10] for e in two.entries] == ["2021-07-10", "2021-06-10"]  # newest first
    assert two.entries[1].id == entry_id  # the same entry keeps its id
    # Written anew from the same store, the feed has the same bytes.
    feed_path.unlink()
    assert run(cfg, "sync")[0] == 0
    assert feed_path.read_bytes() == data


def test_bad_notify_config_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    for text, words in [
        ('[[notify]]\nurl = "slack://a/b/c"\nurl_env = "X"\n', "give url, or url_env"),
        ('[[notify]]\nurl = "not a url"\n', "expected an Apprise URL"),
        ('[[notify]]\nurl = "json://h"\nformat = "html"\n', "notify[0].format"),
        ('[[notify]]\nurl_env = "https://hooks.slack.com/x"\n', "name of an environment"),
    ]:
        cfg.write_text(text, encoding="utf-8")
        code, _out, err = run(cfg, "notify", "--pending")
        assert code == 2 and words in err and err.count("\n") == 1, (text, err)
