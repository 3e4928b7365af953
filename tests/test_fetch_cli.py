"""`wikisync fetch`, live sources, URL sources and `diff` against the live page.

Everything runs against the fake Confluence on 127.0.0.1 (tests/confluence_server.py) with the
reconstructed versions of the real page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer

from wikisync.cli import cli
from wikisync.errors import SourceError
from wikisync.sources import load_source

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
V = {n: (DATA / f"v{n}.storage.html").read_text(encoding="utf-8") for n in range(1, 8)}
VIEW = (DATA / "current.view.html").read_text(encoding="utf-8")
PID = "1812037671"
TITLE = "FY21-22 Architecture User Story Roadmap"
USER = "lead@example.org"
TOKEN = "ATATT3xFfGF0-s3cr3t-t0ken-value"


def _fake(server: HTTPServer, **kw: object) -> FakeConfluence:
    server.clear()
    fake = FakeConfluence(server, **kw)  # type: ignore[arg-type]
    fake.add_page(PID, TITLE, V[1], VIEW, when="2020-09-10T16:00:00.000Z", author=("Ann", "a-1"))
    fake.add_version(PID, V[2], VIEW, when="2020-09-11T16:00:00.000Z", author=("Bob", "b-2"))
    return fake


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    return _fake(_server)


def write_config(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "store"\n\n{body}', encoding="utf-8")
    return cfg


def run(cfg: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikisync: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# --------------------------------------------------------------------------- fetch


@pytest.mark.parametrize("api", ["v2", "v1"])
def test_fetch_prints_the_live_roadmap(fake: FakeConfluence, tmp_path: Path, api: str) -> None:
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID, api=api))
    code, out, err = run(cfg, "fetch", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.roadmap/1"
    assert len(doc["items"]) == 71  # v2 of the reconstructed page
    titles = {i["title"] for i in doc["items"]}
    assert "Split On-call Ownership of Monolith" in titles  # the view body names the smart link
    used = {s.path for s in fake.requests}
    assert any(("/api/v2/" in p) == (api == "v2") for p in used)
    # nothing was written: fetch only reads
    assert not (tmp_path / "store").exists()


def test_fetch_older_version_and_table(fake: FakeConfluence, tmp_path: Path) -> None:
    fake.add_version(PID, V[6], VIEW)
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID, api="v2"))
    code, out, _ = run(cfg, "fetch", "--page", "roadmap", "--version", "1", "--format", "csv")
    assert code == 0
    assert len(out.strip().splitlines()) == 71 + 1
    code, out, _ = run(cfg, "fetch")
    assert code == 0
    assert "Pylint as effective feedback loop" in out  # v3 = V[6] has it, v1 and v2 do not
    assert len(out.strip().splitlines()) == 74 + 2
    code, _, err = run(cfg, "fetch", "--version", "9")
    one_line_error(code, err, "HTTP 404", "version 9")


def test_fetch_with_basic_auth_from_env(_server: HTTPServer, tmp_path: Path) -> None:
    fake = _fake(_server, auth=("basic", USER, TOKEN), allow_anonymous=False)
    extra = {"auth": "basic", "user_env": "WS_USER", "token_env": "WS_TOKEN"}
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID, **extra))
    code, out, err = run(cfg, "fetch", env={"WS_USER": USER, "WS_TOKEN": TOKEN})
    assert code == 0, err
    assert "Toggle Docs (OEP-17)" in out
    assert all(s.authorization and s.authorization.startswith("Basic ") for s in fake.requests)


def test_wrong_token_is_one_line_without_the_token(_server: HTTPServer, tmp_path: Path) -> None:
    fake = _fake(_server, auth=("basic", USER, TOKEN), allow_anonymous=False)
    wrong = "ATATT3x-wrong-t0ken-42"
    extra = {"auth": "basic", "user_env": "WS_USER", "token_env": "WS_TOKEN"}
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID, **extra))
    code, out, err = run(cfg, "fetch", env={"WS_USER": USER, "WS_TOKEN": wrong})
    line = one_line_error(code, err, "HTTP 401", "$WS_USER/$WS_TOKEN")
    assert wrong not in out + err and TOKEN not in line


def test_missing_env_var_names_it(fake: FakeConfluence, tmp_path: Path) -> None:
    extra = {"auth": "bearer", "token_env": "WS_MISSING_TOKEN"}
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID, **extra))
    code, _, err = run(cfg, "fetch", env={"WS_MISSING_TOKEN": ""})
    one_line_error(code, err, "WS_MISSING_TOKEN")
    assert fake.requests == []  # failed before any request


def test_fetch_needs_a_fetchable_page(fake: FakeConfluence, tmp_path: Path) -> None:
    two = fake.config_toml("a", PID) + fake.config_toml("b", PID) + '[[page]]\nname = "files"\n'
    cfg = write_config(tmp_path, two)
    code, _, err = run(cfg, "fetch")
    one_line_error(code, err, "several pages", "a, b", "--page")
    code, _, err = run(cfg, "fetch", "--page", "files")
    one_line_error(code, err, "'files' has no base_url")
    code, _, err = run(cfg, "fetch", "--page", "nope")
    one_line_error(code, err, "unknown page 'nope'")
    code, out, _ = run(cfg, "fetch", "--page", "b")
    assert code == 0 and "Toggle Docs" in out


# --------------------------------------------------------------------------- live sources


def test_parse_live_and_name_at_live(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID))
    outs = [run(cfg, "parse", ref, "--format", "json") for ref in ("live", "roadmap@live")]
    assert [code for code, _, _ in outs] == [0, 0]
    assert outs[0][1] == outs[1][1]
    assert len(json.loads(outs[0][1])["items"]) == 71


def test_live_without_configuration_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="needs a configured page"):
        load_source("live")
    with pytest.raises(SourceError, match="malformed live reference"):
        load_source("bad name@live", live=lambda name: pytest.fail("not called"))


def test_snapshot_live(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID))
    code, out, err = run(cfg, "snapshot", "live", "--page", "roadmap")
    assert code == 0, err
    assert out.startswith("stored roadmap@20200911T160000Z-v2-")
    meta = json.loads(next((tmp_path / "store" / "roadmap").glob("*/meta.json")).read_text())
    assert meta["source"]["version"] == 2 and meta["source"]["page"] == PID


# --------------------------------------------------------------------------- diff against live


def test_diff_without_arguments_is_live_against_latest(
    fake: FakeConfluence, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, fake.config_toml("roadmap", PID))
    code, _, err = run(cfg, "diff")
    one_line_error(code, err, "no snapshots of page 'roadmap'", "sync")
    assert run(cfg, "sync")[0] == 0
    code, out, _ = run(cfg, "diff")
    assert (code, out) == (0, "")
    # "my edit": v3 of the page is the reconstructed v3 (two moves, dated 2020-09-25)
    fake.add_version(PID, V[3], VIEW, when="2020-09-25T16:00:00.000Z")
    code, out, _ = run(cfg, "diff", "--exit-code")
    assert code == 1
    assert out.startswith("- 2020-09-25\n")
    assert "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler." in out
    # the same through explicit references; `live` is the page of the other side
    assert run(cfg, "diff", "roadmap@latest", "live")[1] == out
    assert run(cfg, "diff", "roadmap@latest", "roadmap@live")[1] == out
    code, js, _ = run(cfg, "diff", "--page", "roadmap", "--format", "json")
    doc = json.loads(js)
    assert doc["new"]["ref"] == "roadmap@live" and doc["new"]["version"] == 3
    assert doc["old"]["version"] == 2
    # diff never writes
    assert len([p for p in (tmp_path / "store" / "roadmap").iterdir() if p.is_dir()]) == 1
    # one reference compares it with the live page, as `git diff REF` does with the worktree
    assert run(cfg, "diff", "roadmap@latest")[1] == out
    assert run(cfg, "diff", "roadmap@v2")[1] == out
    # A..B is two references; an empty side is the latest snapshot
    assert run(cfg, "diff", "roadmap@latest..live")[1] == out
    assert run(cfg, "diff", "roadmap@v2..")[1] == ""
    assert run(cfg, "diff", "live")[1] == run(cfg, "diff", "roadmap@live")[1] == out


# --------------------------------------------------------------------------- URL sources


def test_parse_a_url(fake: FakeConfluence, tmp_path: Path) -> None:
    url = fake.add_file("/exports/page.html", f"<html><body>{VIEW}</body></html>")
    cfg = write_config(tmp_path, "")
    code, out, err = run(cfg, "parse", url, "--format", "json")
    assert code == 0, err
    titles = {i["title"] for i in json.loads(out)["items"]}
    assert "Split On-call Ownership of Monolith" in titles
    seen = [s for s in fake.requests if s.path == "/exports/page.html"]
    assert len(seen) == 1 and seen[0].headers["User-Agent"].startswith("wikisync/")
    doc = load_source(url)
    assert doc.meta.source == "url" and doc.meta.url == url
    # a diff between a URL and a file works like between two files
    old = tmp_path / "v6.storage.html"
    old.write_text(V[6], encoding="utf-8")
    code, out, _ = run(cfg, "diff", str(old), url, "--date", "2021-06-01")
    assert code == 0 and out.startswith("- 2021-06-01\n")


def test_url_in_another_charset_is_transcoded(fake: FakeConfluence, tmp_path: Path) -> None:
    page = V[1].replace("Toggle Docs", "Toggle Docs café")
    url = fake.add_file("/latin1.html", page.encode("latin-1"), "text/html; charset=ISO-8859-1")
    assert "Toggle Docs café" in load_source(url).bodies["storage"]


def test_a_404_url_is_one_line(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "")
    url = f"{fake.origin}/nope.html"
    code, _, err = run(cfg, "parse", url)
    one_line_error(code, err, url, "HTTP 404")


def test_an_unreachable_url_is_one_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "")
    code, _, err = run(cfg, "parse", "http://127.0.0.1:9/page.html")
    one_line_error(code, err, "could not connect")


def test_an_unreachable_wiki_is_one_line_without_retry_noise(tmp_path: Path) -> None:
    """urllib3's own retry warnings stay quiet: the user sees one line, exit code 2."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[[page]]\nname = "p"\nbase_url = "http://127.0.0.1:{port}/wiki"\n'
        'page_id = "1"\napi = "v1"\nretries = 1\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "wikisync", "--config", str(cfg), "fetch"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikisync: error: "), proc.stderr
