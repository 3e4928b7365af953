"""The command line, end to end: click's runner for most, real subprocesses for the README."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikisync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"
V = {n: DATA / f"v{n}.storage.html" for n in range(1, 8)}
VIEW = DATA / "current.view.html"
EXAMPLE = "openedx-roadmap-example"


def run(
    *args: str, input: bytes | str | None = None, store: Path | None = None
) -> tuple[int, str, str]:
    runner = CliRunner()
    argv = ["--config", str(ROOT / "config.toml")]
    if store is not None:
        argv += ["--store", str(store)]
    result = runner.invoke(cli, [*argv, *args], input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, (code, out, err)
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("wikisync: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --------------------------------------------------------------------------- parse


def test_parse_table_lists_every_card() -> None:
    code, out, _ = run("parse", str(V[7]))
    assert code == 0
    assert "Pylint as effective feedback loop" in out
    assert "Toggle Docs (OEP-17)" in out
    # one line a card plus header and rule
    assert len(out.strip().splitlines()) == 73 + 2


def test_parse_json_is_the_documented_schema() -> None:
    code, out, _ = run("parse", str(V[7]), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.roadmap/1"
    assert doc["orientation"] == "rows"
    assert [p["short"] for p in doc["periods"]][:4] == ["Q1", "Q2", "Q3", "Q4"]
    assert doc["periods"][-1]["backlog"] is True
    koa = next(p for p in doc["periods"] if p["label"] == "FY21 Q2 (Oct-Dec)")
    assert "Koa" in koa["aliases"]
    assert doc["legend"]["6"] == "Appsembler"
    assert len(doc["items"]) == 73
    item = next(i for i in doc["items"] if i["title"] == "MFE Open Deployment")
    assert item["orgs"] == ["3", "5", "2"]
    assert item["org_names"] == ["EduNext", "Overhang.io", "OpenCraft"]
    assert {k: doc["history"][-1][k] for k in ("date", "category")} == {
        "date": "2020-09-11",
        "category": None,
    }


def test_parse_csv_round_trips() -> None:
    code, out, _ = run("parse", str(V[7]), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 73
    es = next(r for r in rows if r["title"].startswith("Upgrade Elasticsearch"))
    assert es["orgs"] == "7; 1"
    assert es["period"] == "FY21 Q3 (Jan-Mar)"


def test_parse_reads_stdin_and_view_format() -> None:
    code, out, _ = run("parse", "-", "--format", "json", input=VIEW.read_bytes())
    assert code == 0
    titles = {i["title"] for i in json.loads(out)["items"]}
    assert "Split On-call Ownership of Monolith" in titles  # the smart link's title, from view


def test_parse_reads_a_rest_json_response(tmp_path: Path) -> None:
    body = {
        "id": "1812037671",
        "title": "FY21-22 Architecture User Story Roadmap",
        "version": {"number": 30, "when": "2021-06-01T16:00:00.000Z", "by": {"displayName": "A"}},
        "body": {
            "storage": {"value": V[7].read_text(encoding="utf-8"), "representation": "storage"},
            "view": {"value": VIEW.read_text(encoding="utf-8"), "representation": "view"},
        },
        "_links": {"base": "https://openedx.atlassian.net/wiki", "webui": "/spaces/AC/pages/1"},
    }
    f = tmp_path / "page.json"
    f.write_text(json.dumps(body), encoding="utf-8")
    code, out, _ = run("parse", str(f), "--format", "json")
    assert code == 0
    titles = {i["title"] for i in json.loads(out)["items"]}
    # storage is the source, view names the smart link
    assert "Split On-call Ownership of Monolith" in titles


# --------------------------------------------------------------------------- diff


def test_diff_writes_the_page_entry_in_its_own_style() -> None:
    code, out, _ = run("diff", str(V[5]), str(V[6]), "--date", "2021-02-10")
    assert code == 0
    assert out.startswith("- 2021-02-10\n  - Deferred\n")
    for sentence in (
        "Moved “Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” from Q2 to Q3.",
        "Moved “Authn and Authz Standardized” from Q3 to Backlog.",
        "Moved “Developer Handbook” from Backlog to Q4.",
        "Deleted “Decentralized Devstack Adoption” from Q2.",
        "Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3.",
        "Added “Pylint as effective feedback loop” in Q3.",
    ):
        assert sentence in out
    order = [out.index(c) for c in ("Deferred", "Moved Up", "Replaced", "Added")]
    assert order == sorted(order)


def test_diff_formats() -> None:
    code, md, _ = run("diff", str(V[2]), str(V[3]), "--format", "markdown", "--date", "2020-09-25")
    assert code == 0 and md.startswith("## 2020-09-25\n\n**Deferred**\n")
    code, xml, _ = run(
        "diff", str(V[2]), str(V[3]), "--format", "confluence", "--date", "2020-09-25"
    )
    assert code == 0 and xml.startswith("<ul><li><p>2020-09-25</p>")
    code, js, _ = run("diff", str(V[2]), str(V[3]), "--format", "json")
    doc = json.loads(js)
    assert doc["schema"] == "wikisync.changes/1"
    assert {c["category"] for c in doc["changes"]} == {"Deferred", "Moved Up"}
    moved = next(c for c in doc["changes"] if c["title"] == "Onboarding Course")
    assert moved["from"]["period"] == "Backlog Grab Bag"
    assert moved["to"]["period"] == "FY21 Q4 (Apr-Jun)"
    assert moved["text"] == "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler."


def test_diff_date_defaults_to_the_newer_version_then_today(tmp_path: Path) -> None:
    store = tmp_path / "s"
    run("snapshot", str(V[1]), "--page", "p", "--at", "2020-09-10T10:00:00Z", store=store)
    run("snapshot", str(V[2]), "--page", "p", "--at", "2020-09-11T10:00:00Z", store=store)
    code, out, _ = run("diff", "p@latest~1", "p@latest", store=store)
    assert code == 0 and out.startswith("- 2020-09-11\n")


def test_diff_exit_code_like_git_diff() -> None:
    code, out, _ = run("diff", str(V[6]), str(V[6]), "--exit-code")
    assert (code, out) == (0, "")  # nothing to paste: scripts need no guard
    code, _, _ = run("diff", str(V[5]), str(V[6]), "--exit-code")
    assert code == 1
    code, _, _ = run("diff", str(V[5]), str(V[6]))
    assert code == 0


def test_diff_is_deterministic() -> None:
    outs = {run("diff", str(V[6]), str(V[7]), "--format", "json")[1] for _ in range(3)}
    assert len(outs) == 1


# --------------------------------------------------------------------------- snapshots


def test_snapshot_log_history_and_references(tmp_path: Path) -> None:
    store = tmp_path / "store"
    for n, day in ((1, "2020-09-10"), (2, "2020-09-11"), (3, "2020-09-25")):
        code, out, _ = run(
            "snapshot", str(V[n]), "--page", "demo", "--at", f"{day}T12:00:00Z",
            "--version", str(n), store=store,
        )  # fmt: skip
        assert code == 0 and out.startswith("stored demo@"), out
    # identical body again: a no-op
    before = sorted(p.name for p in (store / "demo").iterdir())
    code, out, _ = run("snapshot", str(V[3]), "--page", "demo", store=store)
    assert code == 0 and out.startswith("unchanged")
    assert sorted(p.name for p in (store / "demo").iterdir()) == before

    code, out, _ = run("log", "--page", "demo", store=store)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["v3", "v2", "v1"]

    for ref, version in (
        ("demo@latest", 3), ("demo@latest~1", 2), ("demo@v1", 1),
        ("demo@2020-09-24", 2), ("demo@2020-09-25", 3), ("demo", 3),
    ):  # fmt: skip
        code, out, _ = run("parse", ref, "--format", "json", store=store)
        assert code == 0, (ref, out)
        code, out, _ = run("diff", ref, str(V[version]), "--exit-code", store=store)
        assert code == 0, (ref, version, out)

    code, out, _ = run("history", "--page", "demo", store=store)
    assert code == 0
    assert out.index("- 2020-09-25") < out.index("- 2020-09-11")
    code, out, _ = run("history", "--page", "demo", "--format", "json", store=store)
    assert [e["date"] for e in json.loads(out)["entries"]] == ["2020-09-25", "2020-09-11"]


def test_reparse_rederives_roadmaps_from_raw_bodies(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run("snapshot", str(V[1]), "--page", "demo", store=store)
    (snap,) = [p for p in (store / "demo").iterdir() if p.is_dir()]
    good = (snap / "roadmap.json").read_text(encoding="utf-8")
    doc = json.loads(good)
    doc["items"] = doc["items"][:3]  # an older parser that saw less
    (snap / "roadmap.json").write_text(json.dumps(doc), encoding="utf-8")
    body = (snap / "body.storage.xml").read_bytes()
    code, out, _ = run("reparse", store=store)
    assert code == 0 and "demo: 1 of 1 roadmaps changed" in out
    assert json.loads((snap / "roadmap.json").read_text(encoding="utf-8")) == json.loads(good)
    assert (snap / "body.storage.xml").read_bytes() == body


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"just some words, no markup at all\n", "not"),
        (b"<p>a page</p><h2>no table here</h2>", "table"),
        (b"<table><tr><td>one row</td></tr></table>", "table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"<p>caf\xe9</p>", "UTF-8"),
        (b'{"id": "1", "body": {}}', "JSON"),
        (b'{"id": "1", "body": {"storage": {"val', "JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    f = tmp_path / "page.html"
    f.write_bytes(content)
    code, out, err = run("parse", str(f))
    assert_one_line_error(code, out, err, needle)
    code, out, err = run("diff", str(f), str(V[1]))
    assert_one_line_error(code, out, err)


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        ("nosuchpage@latest", "nosuchpage"),
        ("demo@v99", "v99"),
        ("demo@latest~5", "latest~5"),
        ("demo@1999-01-01", "1999-01-01"),
        ("demo@notaref!", "demo@notaref!"),
        ("missing-file.html", "missing-file.html"),
    ],
)
def test_broken_references_are_one_line_and_exit_2(tmp_path: Path, ref: str, needle: str) -> None:
    store = tmp_path / "store"
    run("snapshot", str(V[1]), "--page", "demo", "--at", "2020-09-10T00:00:00Z", store=store)
    code, out, err = run("diff", ref, str(V[1]), store=store)
    assert_one_line_error(code, out, err, needle)


def test_bad_input_never_touches_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run("snapshot", str(V[1]), "--page", "demo", store=store)
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.html"
    bad.write_text("<p>no table</p>", encoding="utf-8")
    code, out, err = run("snapshot", str(bad), "--page", "demo", store=store)
    assert_one_line_error(code, out, err, "table")
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before


def test_bad_options_exit_2() -> None:
    code, _, err = run("diff", str(V[1]), str(V[2]), "--date", "yesterday")
    assert_one_line_error(code, "", err, "--date")
    code, _, _ = run("diff", str(V[1]), str(V[2]), "--format", "pdf")
    assert code == 2


# --------------------------------------------------------------------------- the README


def test_readme_main_command_prints_the_bundled_history_offline(tmp_path: Path) -> None:
    """`wikisync history openedx-roadmap-example` from the repo, as a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIKISYNC_", "HTTP"))}
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"  # any network use would fail
    proc = subprocess.run(
        [sys.executable, "-m", "wikisync", "history", EXAMPLE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    dates = [line[2:] for line in out.splitlines() if line.startswith("- ")]
    assert dates == [
        "2021-06-01",
        "2021-02-10",
        "2020-12-15",
        "2020-10-26",
        "2020-09-25",
        "2020-09-11",
    ]
    assert "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler." in out
    assert "Deleted “Decentralized Devstack Adoption” from Q2." in out


def test_bundled_example_is_complete_and_separate() -> None:
    example = ROOT / "snapshots" / EXAMPLE
    snaps = sorted(p for p in example.iterdir() if p.is_dir())
    assert len(snaps) == len(V)
    for snap in snaps:
        assert {p.name for p in snap.iterdir()} == {"meta.json", "body.storage.xml", "roadmap.json"}
    # the live page's store never holds the example
    live = ROOT / "snapshots" / "openedx-roadmap"
    assert not live.exists() or not any(
        (p / "body.storage.xml").read_bytes() == (snaps[0] / "body.storage.xml").read_bytes()
        for p in live.iterdir()
        if p.is_dir()
    )


def test_bundled_example_is_current_with_the_parser(tmp_path: Path) -> None:
    """Stored roadmaps are derived data: re-deriving them must change nothing."""
    copy = tmp_path / "snapshots"
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, copy / EXAMPLE)
    code, out, _ = run("reparse", store=copy)
    assert code == 0
    assert f"{EXAMPLE}: 0 of {len(V)} roadmaps changed" in out


def test_a_closed_pipe_is_not_an_error() -> None:
    """`wikisync history | head`: the reader left; no error line, no traceback."""
    proc = subprocess.run(
        f"{sys.executable} -m wikisync history --page {EXAMPLE} | true",
        shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.stderr == ""
