"""Values a server sends are checked where every page read passes (the REST client): a bad
version number or date is one line for that page, and the other pages go on.

Before: a version ``-5`` made snapshot ids the CHANGELOG markers cannot name (the same entry
appended on every run); ``when`` = ``9999-12-31T23:59:59-01:00`` (OverflowError), a numeric
``when``, a version ``"2b"`` or a ``.wikisync-versions.json`` key ``"²"`` were an ``internal
error`` that skipped the remaining pages; publish used a live date ``2021-13-45`` as the entry's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_sync import PID, TITLE, VIEW, WHEN, V

from wikisync.cli import cli
from wikisync.store import Store
from wikisync.wikis.confluence import version_date, version_number

BAD = "1234"  # the page whose server values are bad
GOOD = PID


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server, v2=False)
    fake.add_page(GOOD, TITLE, V[1], VIEW, when=WHEN[1])
    return fake


def serve_v1_page(fake: FakeConfluence, pid: str, version: dict[str, Any]) -> None:
    """A v1 content answer for page ``pid`` with this ``version`` object."""
    doc = {
        "id": pid,
        "type": "page",
        "title": "Other roadmap",
        "body": {"storage": {"value": V[2]}, "view": {"value": VIEW}},
        "version": version,
        "_links": {"base": fake.base_url, "webui": f"/pages/{pid}"},
    }
    fake.add_file(f"/wiki/rest/api/content/{pid}", json.dumps(doc), "application/json")


def config(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    text = fake.config_toml("bad", BAD) + "\n" + fake.config_toml("good", GOOD)
    path.write_text('[store]\npath = "store"\n\n' + text, encoding="utf-8")
    return path


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- the checks


@pytest.mark.parametrize("value", [1, 31, "7", 2**31 - 1])
def test_good_version_numbers(value: int | str) -> None:
    assert version_number(value) == int(value)


@pytest.mark.parametrize("value", [-5, 0, "2b", "-5", "²", True, 2.0, None, 2**31, "9" * 20])
def test_bad_version_numbers(value: object) -> None:
    with pytest.raises(ValueError):
        version_number(value)


@pytest.mark.parametrize(
    "value", ["2021-01-04T09:30:00.000Z", "2021-01-04T09:30:00+02:00", "2021-01-04T09:30:00", None]
)
def test_good_dates(value: str | None) -> None:
    assert version_date(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-01:00",  # overflows on the way to UTC
        "0001-01-01T00:00:00+01:00",  # underflows
        "1900-01-01T00:00:00Z",  # before 1970
        20210104,
        1609459200.0,
        "2021-13-45",
        "<ac:struct",
        "",
        "\x1b]0;pwned\x07",
    ],
)
def test_bad_dates(value: object) -> None:
    with pytest.raises(ValueError):
        version_date(value)


# --------------------------------------------------------------------------- sync goes on


BAD_VERSIONS = [
    {"number": -5, "when": WHEN[2]},
    {"number": "2b", "when": WHEN[2]},
    {"number": 0, "when": WHEN[2]},
    {"number": 2, "when": "9999-12-31T23:59:59-01:00"},
    {"number": 2, "when": 20210104},
    {"number": 2, "when": "2021-13-45"},
    {"number": 2, "when": "<ac:struct"},
    {"number": 2, "when": WHEN[2], "message": {"not": "text"}},
]


@pytest.mark.parametrize("version", BAD_VERSIONS, ids=lambda v: repr(v)[:40])
def test_a_bad_server_value_fails_that_page_only(
    fake: FakeConfluence, tmp_path: Path, version: dict[str, Any]
) -> None:
    serve_v1_page(fake, BAD, version)
    cfg = config(fake, tmp_path)
    code, out, err = run(cfg, "sync")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("wikisync: error: bad: cannot read page 1234")
    assert "refusing to store it" in err and "internal error" not in err
    assert "\x1b" not in err
    assert out == "good: first snapshot v1 stored\n"  # the next page went on
    store = Store(cfg.parent / "store")
    assert store.pages() == ["good"]


def test_negative_version_never_reaches_the_changelog(fake: FakeConfluence, tmp_path: Path) -> None:
    serve_v1_page(fake, BAD, {"number": -5, "when": WHEN[2]})
    cfg = config(fake, tmp_path)
    for _ in range(3):
        assert run(cfg, "sync", "--page", "bad")[0] == 2
    assert not (cfg.parent / "store" / "bad").exists()


def test_versions_file_with_a_non_ascii_digit_key(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    assert run(cfg, "sync", "--page", "good")[0] == 0
    same = cfg.parent / "store" / "good" / ".wikisync-versions.json"
    same.write_text(json.dumps({"schema": "wikisync.versions/1", "same": {"²": "x", "3": "y"}}))
    fake.add_version(GOOD, V[3], VIEW, when=WHEN[3])
    code, out, err = run(cfg, "sync", "--page", "good")
    assert (code, err) == (0, ""), err
    assert out.startswith("good: v2 stored")


# --------------------------------------------------------------------------- publish, backfill


@pytest.mark.parametrize("when", ["2021-13-45", "<ac:struct", "9999-12-31T23:59:59-01:00"])
def test_publish_checks_the_live_date_like_sync(
    fake: FakeConfluence, tmp_path: Path, when: str
) -> None:
    cfg = config(fake, tmp_path)
    assert run(cfg, "sync", "--page", "good")[0] == 0
    fake.add_version(GOOD, V[3], VIEW, when=when)
    for args in (["publish", "--page", "good", "--yes"], ["sync", "--page", "good"]):
        code, out, err = run(cfg, *args)
        assert code == 2 and out == "", out
        assert "version.when" in err and "refusing to store it" in err and err.count("\n") == 1
    assert not [s for s in fake.requests if s.method == "PUT"]


def test_backfill_skips_an_old_version_with_a_bad_date(
    fake: FakeConfluence, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_version(GOOD, V[2], VIEW, when="2021-13-45")
    fake.add_version(GOOD, V[3], VIEW, when=WHEN[3])
    cfg = config(fake, tmp_path)
    code, out, err = run(cfg, "backfill", "--page", "good", "--jobs", "1")
    assert code == 0, err
    assert out.startswith("good: stored 2 new versions (v1..v3)") and "(v2)" in out, out
    assert "good: v2 skipped" in caplog.text and "'2021-13-45'" in caplog.text
    assert [s.version for s in Store(cfg.parent / "store").snapshots("good")] == [1, 3]
