"""`wikisync backfill`: every historical version into the store, in parallel, resumable.

The fake Confluence holds a page with 32 versions (each adds one card) and pages its version
listing 10 at a time, so the listing needs several requests.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_server import FakeConfluence, Seen
from pytest_httpserver import HTTPServer

from wikisync.cli import cli
from wikisync.model import Document, Roadmap
from wikisync.parse import parse_text
from wikisync.store import Snapshot, Store

PID = "4242"
PAGE = "roadmap"
N = 32


def body(n: int) -> str:
    """Version n of a small roadmap: cards 1..n in Q1 / Build."""
    cards = "".join(f"<p>Card {i} &lt;Pilot&gt; [1]</p><p>---------</p>" for i in range(1, n + 1))
    return (
        "<h2>Roadmap</h2><table><tbody>"
        "<tr><th><p>User Activity</p></th><th><p>Build</p></th><th><p>Run</p></th></tr>"
        f"<tr><th><p>FY21 Q1 (Jul-Sep)</p></th><td>{cards}</td><td><p>Ops [2]</p></td></tr>"
        "<tr><th><p>FY21 Q2 (Oct-Dec)</p></th><td><p>Later [2]</p></td><td><p>&nbsp;</p></td></tr>"
        "</tbody></table>"
    )


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, "Small roadmap", body(1), message="v1")
    for n in range(2, N + 1):
        fake.add_version(PID, body(n), message=f"add card {n}", author=("Bob", "b-2"))
    fake.max_limit = 10
    return fake


def config(fake: FakeConfluence, tmp_path: Path, **extra: str | int) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID, **extra))
    return cfg


def run(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(cfg), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def historical(fake: FakeConfluence, since: int = 0) -> list[Seen]:
    """Requests for one old version's body."""
    return [s for s in fake.body_requests()[since:] if "version" in s.args]


def snaps(cfg: Path) -> list[Snapshot]:
    return Store(cfg.parent / "store").snapshots(PAGE)


def state(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        if path.is_dir() or path.name.startswith((".tmp-", ".wikisync.lock")):
            continue
        data: object = path.read_bytes()
        if path.name == "meta.json":
            meta = json.loads(path.read_text(encoding="utf-8"))
            meta.pop("stored_at")
            data = meta
        out[path.relative_to(root).as_posix()] = data
    return out


def test_backfill_stores_every_version_then_history_lists_each_change(
    fake: FakeConfluence, tmp_path: Path
) -> None:
    cfg = config(fake, tmp_path)
    code, out, err = run(cfg, "backfill")
    assert (code, err) == (0, "")  # no progress bar when stderr is not a terminal
    assert out == f"{PAGE}: stored {N} new versions (v1..v{N}), skipped 0 already stored\n"
    stored = snaps(cfg)
    assert [s.version for s in stored] == list(range(1, N + 1))
    assert len({s.hash for s in stored}) == N
    listing = [s for s in fake.requests if s.path.endswith("/version")]
    assert len(listing) == 4  # 32 versions, 10 a page
    assert len(historical(fake)) == N
    last = stored[-1]
    assert last.when == "2021-08-09T09:30:00Z" and last.author == "Bob"
    assert last.meta.message == f"add card {N}" and last.meta.url
    assert len(Store(cfg.parent / "store").roadmap(last).items) == N + 2
    assert not (cfg.parent / "store" / PAGE / "CHANGELOG.md").exists()

    code, out, _ = run(cfg, "history", "--page", PAGE)
    assert code == 0
    for n in range(2, N + 1):
        assert out.count(f"Added “Card {n}” in Q1.") == 1, n
    assert out.count("\n- 20") + out.startswith("- 20") == N - 1


def test_resumable_only_the_missing_are_fetched(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    code, out, _ = run(cfg, "backfill", "--to", "10")
    assert out == f"{PAGE}: stored 10 new versions (v1..v10), skipped 0 already stored\n"
    seen = len(fake.body_requests())
    code, out, _ = run(cfg, "backfill", "--jobs", "3")
    assert out == f"{PAGE}: stored 22 new versions (v11..v{N}), skipped 10 already stored\n"
    assert sorted(int(s.args["version"]) for s in historical(fake, seen)) == list(range(11, N + 1))
    seen = len(fake.body_requests())
    code, out, _ = run(cfg, "backfill")
    assert (code, out) == (0, f"{PAGE}: stored 0 new versions, skipped {N} already stored\n")
    assert historical(fake, seen) == []


def test_from_and_to(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    code, out, _ = run(cfg, "backfill", "--from", "5", "--to", "8")
    assert out == f"{PAGE}: stored 4 new versions (v5..v8), skipped 0 already stored\n"
    assert [s.version for s in snaps(cfg)] == [5, 6, 7, 8]
    code, _, err = run(cfg, "backfill", "--from", "9", "--to", "3")
    assert code == 2 and "--from 9 is after --to 3" in err


def test_parallel_equals_one_by_one(fake: FakeConfluence, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = config(fake, tmp_path / "a")
    four = config(fake, tmp_path / "b", api="v2")  # and v2 equals v1, too
    assert run(one, "backfill", "--jobs", "1")[0] == 0
    assert run(four, "backfill", "--jobs", "4")[0] == 0
    a, b = state(tmp_path / "a" / "store"), state(tmp_path / "b" / "store")
    assert a.keys() == b.keys() and len(a) == 3 * N  # meta, roadmap, storage (no view needed)
    for key in a:
        if key.endswith("meta.json"):
            sa, sb = dict(a[key]), dict(b[key])  # type: ignore[call-overload]
            assert sa.pop("source")["version"] == sb.pop("source")["version"]
            assert sa == sb
        else:
            assert a[key] == b[key], key
    # and each stored roadmap is what parsing that version on its own gives
    store = Store(tmp_path / "b" / "store")
    for snap in store.snapshots(PAGE)[::7]:
        assert snap.version is not None
        expected = parse_text(fake.pages[PID].version(snap.version).storage)  # type: ignore[union-attr]
        assert store.roadmap(snap).to_json() == expected.to_json()


def test_rate_limited_backfill_still_completes(fake: FakeConfluence, tmp_path: Path) -> None:
    cfg = config(fake, tmp_path)
    fake.rate_limit(times=3, retry_after="1", path=rf"/content/{PID}$")
    code, out, err = run(cfg, "backfill", "--jobs", "4")
    assert code == 0, err
    assert out.startswith(f"{PAGE}: stored {N} new versions")
    assert len(historical(fake)) == N + 3  # three answered 429, then retried


def test_error_midway_keeps_a_prefix_and_rerun_carries_on(
    fake: FakeConfluence, tmp_path: Path
) -> None:
    cfg = config(fake, tmp_path)
    fake.max_limit = None
    fake.fail(404, times=1, path=rf"/content/{PID}$", body={"message": "gone for a moment"})
    code, out, err = run(cfg, "backfill", "--jobs", "4")
    assert (code, out) == (2, "")
    line = err.strip()
    assert line.startswith("wikisync: error: cannot read page 4242 version ")
    assert "HTTP 404" in line and "run backfill again to carry on" in line
    versions = [s.version for s in snaps(cfg)]
    assert versions == list(range(1, len(versions) + 1))  # stored in order, no gap
    seen = len(fake.body_requests())
    code, out, _ = run(cfg, "backfill")
    assert code == 0
    assert [s.version for s in snaps(cfg)] == list(range(1, N + 1))
    assert len(historical(fake, seen)) == N - len(versions)


def test_memory_stays_within_the_window(
    fake: FakeConfluence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies fetched but not yet stored never exceed 2 * jobs."""
    cfg = config(fake, tmp_path)
    ahead: list[int] = []
    original = Store.put

    def put(
        self: Store, page: str, doc: Document, roadmap: Roadmap, **kw: bool
    ) -> tuple[Snapshot, bool]:
        time.sleep(0.02)  # a slow disk: fetches would run far ahead without the window
        ahead.append(len(historical(fake)) - len(self.snapshots(page)))
        return original(self, page, doc, roadmap, **kw)

    monkeypatch.setattr(Store, "put", put)
    assert run(cfg, "backfill", "--jobs", "2")[0] == 0
    assert len(ahead) == N and max(ahead) <= 4 and max(ahead) >= 2


def test_identical_and_unreadable_versions(fake: FakeConfluence, tmp_path: Path) -> None:
    fake.add_version(PID, body(N), title="Renamed")  # v33: a title-only edit
    fake.add_version(PID, "<p>Roadmap moved to another page.</p>")  # v34: no table
    cfg = config(fake, tmp_path)
    code, out, _ = run(cfg, "backfill", "--from", "30")
    assert code == 0
    assert out == (
        f"{PAGE}: stored 3 new versions (v30..v32), skipped 0 already stored, "
        "1 identical to a stored version, 1 without a readable roadmap (v34)\n"
    )
    seen = len(fake.body_requests())
    code, out, _ = run(cfg, "backfill", "--from", "30")
    assert out.startswith(f"{PAGE}: stored 0 new versions, skipped 4 already stored, ")
    assert [int(s.args["version"]) for s in historical(fake, seen)] == [34]


def test_stored_roadmaps_read_the_old_way_are_re_derived_before_older_versions_join(
    fake: FakeConfluence, tmp_path: Path
) -> None:
    """Backfill stores older versions read the current way; a stored roadmap an older parser
    derived would then differ from them by the parser's change alone (`history` would list it
    as an edit): it is re-derived first, and the summary says so."""
    cfg = config(fake, tmp_path)
    run(cfg, "backfill", "--from", "10", "--to", "10")
    [v10] = snaps(cfg)
    clean = (v10.path / "roadmap.json").read_bytes()
    stale = json.loads(clean)
    stale["items"][0]["lane"] = "Read the old way"
    (v10.path / "roadmap.json").write_text(json.dumps(stale), encoding="utf-8")
    code, out, _ = run(cfg, "backfill", "--from", "8", "--to", "10")
    assert (code, out) == (
        0,
        f"{PAGE}: stored 2 new versions (v8..v9), skipped 1 already stored (first re-derived"
        " 1 stored roadmap from its body: the parser or its options changed)\n",
    )
    assert (v10.path / "roadmap.json").read_bytes() == clean
