"""[[watch]]: every page a CQL query finds is synced as a page of its own; `wikisync pages`.

Against the loopback Confluence stand-in with several pages, labels and its CQL endpoint (whose
cursors, like Cloud's, hold characters that must be URL-encoded).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.cli import cli

DATA = Path(__file__).resolve().parent / "data" / "openedx"
V = {n: (DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)}
VIEW = (DATA / "current.view.html").read_text(encoding="utf-8")


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.max_limit = 2  # three result pages for five pages: the cursor is exercised
    for i, pid in enumerate(("101", "102", "103", "104", "105")):
        page = fake.add_page(pid, f"Roadmap {pid}", V[5], VIEW, when="2021-05-10T12:00:00Z")
        if i < 4:
            page.labels.add("roadmap")
    fake.add_page("201", "Other space roadmap", V[5], VIEW, space="XX").labels.add("roadmap")
    return fake


def config(fake: FakeConfluence, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[store]\npath = "store"\n\n[[watch]]\nname = "ac"\n'
        f'base_url = "{fake.base_url}"\ncql = \'space = "AC" and label = "roadmap"\'\n' + extra,
        encoding="utf-8",
    )
    return path


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_discovers_and_syncs_each_page(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    code, out, err = run(cfg, "sync")
    assert code == 0, err
    for pid in ("101", "102", "103", "104"):
        assert f"ac-{pid}: first snapshot v1 stored" in out
    assert "ac-105" not in out and "ac-201" not in out  # no label / another space
    assert fake.hits("/content/search") == 2  # limit 2: two result pages
    # Unchanged: one cheap request per page (plus the search), nothing stored.
    fake.requests.clear()
    code, out, _ = run(cfg, "sync")
    assert code == 0 and out.count("up to date (v1)") == 4
    assert fake.hits("/content/search") == 2
    assert fake.hits("/content/10") == 4  # ?expand=version for each page
    # An edit of one page is synced under its stable name.
    fake.add_version("103", V[6], VIEW, when="2021-06-10T12:00:00Z", title="Renamed roadmap")
    code, out, _ = run(cfg, "sync", "--exit-code")
    assert code == 1
    assert "ac-103: v2 stored" in out and "Authn and Authz Standardized" in out


def test_pages_lists_configured_and_discovered(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path, "\n" + fake.config_toml("main", "105"))
    assert run(cfg, "sync")[0] == 0
    code, out, _ = run(cfg, "pages", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.pages/1"
    names = [(p["name"], p["page_id"], p["versions"], p["source"]) for p in doc["pages"]]
    assert names == [
        ("main", "105", 1, "config"),
        ("ac-101", "101", 1, "watch ac"),
        ("ac-102", "102", 1, "watch ac"),
        ("ac-103", "103", 1, "watch ac"),
        ("ac-104", "104", 1, "watch ac"),
    ]
    assert doc["pages"][1]["title"] == "Roadmap 101" and doc["pages"][1]["latest"] == "2021-05-10"
    code, out, _ = run(cfg, "pages")
    assert out.splitlines()[0].split() == [
        "name",
        "page_id",
        "title",
        "versions",
        "latest",
        "source",
    ]


def test_a_page_that_leaves_is_reported_once(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    assert run(cfg, "sync")[0] == 0
    fake.pages["102"].labels.clear()  # no longer matches
    del fake.pages["104"]  # deleted
    code, out, _ = run(cfg, "sync")
    assert code == 0
    assert "ac-102: page 102 “Roadmap 102” no longer matches the query" in out
    assert "ac-104: page 104 “Roadmap 104” was deleted" in out
    assert (tmp_path / "store" / "ac-104").is_dir()  # its snapshots stay
    code, out, _ = run(cfg, "sync")
    assert "no longer matches" not in out and "was deleted" not in out  # once
    assert "ac-102" not in out and "ac-104" not in out  # no longer synced
    fake.pages["102"].labels.add("roadmap")
    code, out, _ = run(cfg, "sync")
    assert "ac-102: page 102 matches again" in out


def test_one_failing_page_does_not_stop_the_others(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    fake.fail(403, path="/content/102", times=100)
    code, out, err = run(cfg, "sync")
    assert code == 2
    assert "ac-101: first snapshot" in out and "ac-103: first snapshot" in out
    assert err.count("wikisync: error: ac-102:") == 1


def test_a_failing_search_is_one_line(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path, "retries = 0\n")
    assert run(cfg, "sync")[0] == 0
    fake.fail(500, path="/content/search", times=100)
    code, out, err = run(cfg, "sync")
    assert code == 2 and err.startswith("wikisync: error: watch ac: ")
    assert out.count("up to date") == 4  # the pages found before are still synced


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[[watch]]\nname = "w"\nbase_url = "http://x"\n', "watch[0].cql"),
        ('[[watch]]\nname = "w"\ncql = "x"\n', "watch[0].base_url"),
        ('[[watch]]\nname = "w"\nbase_url = "http://x"\ncql = "x"\npage_id = 3\n', "use [[page]]"),
        ("[fetch]\nconcurrency = 0\n", "fetch.concurrency"),
    ],
)
def test_bad_watch_config(tmp_path: Path, toml: str, words: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml, encoding="utf-8")
    code, _out, err = run(cfg, "pages")
    assert code == 2 and words in err and err.count("\n") == 1


def test_backfill_all_covers_discovered_pages(fake: FakeConfluence, tmp_path: Path) -> None:
    for pid in ("101", "104"):
        fake.add_version(pid, V[6], VIEW, when="2021-06-10T12:00:00Z")
    cfg = config(fake, tmp_path)
    code, out, err = run(cfg, "backfill", "--all")
    assert code == 0, err
    assert "ac-101: stored 2 new versions (v1..v2)" in out
    assert "ac-102: stored 1 new version (v1..v1)" in out
    assert "ac-104: stored 2 new versions (v1..v2)" in out
    code, out, _ = run(cfg, "backfill", "ac-104")  # a discovered page by its name
    assert code == 0 and "ac-104: stored 0 new versions, skipped 2 already stored" in out


def test_a_retry_after_holds_every_client_of_the_site(fake: FakeConfluence) -> None:
    """A 429 answered to one worker makes the next request of another worker on the same site
    wait too (recorded through the clients' sleep, so the test does not wait)."""
    from wikisync.http import gate_for
    from wikisync.wikis.confluence import ConfluenceClient

    first: list[float] = []
    second: list[float] = []
    fake.rate_limit(times=1, retry_after="30", path="/content/101")
    a = ConfluenceClient(fake.base_url, cloud=False, sleep=first.append)
    b = ConfluenceClient(fake.base_url, cloud=False, sleep=second.append)
    try:
        assert a.current_version("101") == 1
        assert first == [30.0]  # a waited as the site asked, then retried
        worker = threading.Thread(target=b.current_version, args=("102",))  # another worker
        worker.start()
        worker.join(10)
        assert len(second) == 1 and 25 < second[0] <= 30  # b waited for the rest of it
        assert first == [30.0]  # a's own next request does not wait again: it already did
        assert a.current_version("103") == 1 and first == [30.0]
        other = fake.base_url.replace("127.0.0.1", "localhost")  # another site, another gate
        assert gate_for(other) is not gate_for(fake.base_url)
        assert gate_for(fake.base_url + "/rest/api") is gate_for(fake.base_url)
    finally:
        a.close()
        b.close()
        gate_for(fake.base_url).clear()
