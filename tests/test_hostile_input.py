"""Hostile and broken input through the CLI: one clear line, exit code 2, nothing stored changed.

Every case goes through ``wikisync parse``, ``wikisync snapshot`` and ``wikisync diff`` against a
store that already holds a snapshot; the store's files are compared before and after. Inputs
that must be readable (conflicting spans, entity tricks, deep but legal nesting) must parse to
the right cards, quickly. Big inputs are generated at test time, never committed.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wikisync.cli import cli
from wikisync.errors import ParseError
from wikisync.model import ParseOptions
from wikisync.parse import parse_text

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "data" / "hostile"
GOOD = ROOT / "tests" / "data" / "openedx" / "v1.storage.html"
PAGE = "hostile-page"

ROW = "<tr><th><p>{period}</p></th><td>{cell}</td></tr>"
HEAD = "<tr><th><p>Quarter</p></th><th><p>Work</p></th></tr>"


def table(*cells: str, periods: tuple[str, ...] = ("FY21 Q1", "FY21 Q2", "FY21 Q3")) -> str:
    """A two-column roadmap whose rows hold ``cells`` (storage markup, already escaped)."""
    rows = "".join(ROW.format(period=p, cell=c) for p, c in zip(periods, cells, strict=False))
    return f"<table><tbody>{HEAD}{rows}</tbody></table>"


def nested(open_tag: str, close_tag: str, depth: int, inner: str) -> str:
    return open_tag * depth + inner + close_tag * depth


# --------------------------------------------------------------------------- running the CLI


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Path]:
    """A config, and a store that already holds one snapshot of a good page."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "store"\n', encoding="utf-8")
    store = tmp_path / "store"
    code, out, err = run(config, store, "snapshot", str(GOOD), "--page", PAGE, "--version", "1")
    assert code == 0, err
    assert out.startswith("stored ")
    return {"config": config, "store": store, "tmp": tmp_path}


def run(config: Path, store: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--store", str(store), *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def store_state(store: Path) -> dict[str, str]:
    """Every stored file and its content hash (the lock file is not stored data)."""
    return {
        str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.rglob("*"))
        if p.is_file() and p.name != ".wikisync.lock"
    }


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> str:
    assert code == 2, (code, out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("wikisync: error: ")
    assert "internal error" not in line, line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def check_refused(env: dict[str, Path], path: Path, *needles: str) -> None:
    """parse, snapshot and diff (either side) all refuse ``path`` and leave the store alone."""
    config, store = env["config"], env["store"]
    before = store_state(store)
    assert before  # the fixture stored a snapshot
    for args in (
        ("parse", str(path)),
        ("parse", str(path), "--format", "json"),
        ("snapshot", str(path), "--page", PAGE),
        ("snapshot", str(path), "--page", "other-page"),
        ("diff", str(GOOD), str(path)),
        ("diff", str(path), f"{PAGE}@latest"),
    ):
        code, out, err = run(config, store, *args)
        assert_one_line_error(code, out, err, *needles)
        assert store_state(store) == before, args
    assert not (store / "other-page").exists()


# --------------------------------------------------------------------------- bad input

TOO_WIDE = "<table><tr><th>Quarter</th>" + "<th>L</th>" * 1001 + "</tr></table>"
TOO_MANY_CELLS = (
    "<table><tr><th>Quarter</th>"
    + "<th>L</th>" * 900
    + '<th rowspan="100000">tall</th></tr>'
    + "<tr></tr>" * 9000
    + "</table>"
)

BAD: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "not-html": (lambda: b"Roadmap\n\nQ1: things\nQ2: more things\n", ("no tags found",)),
    "binary": (lambda: bytes(range(256)) * 16, ("binary",)),
    "empty": (lambda: b"", ("empty",)),
    "blank": (lambda: b" \n\t \n", ("empty",)),
    "invalid-utf8": (lambda: table("<p>Caf\xe9 [1]</p>").encode("latin-1"), ("not valid UTF-8",)),
    "utf16": (lambda: table("<p>Card [1]</p>").encode("utf-16"), ("UTF-16",)),
    "no-table": (lambda: b"<h1>Roadmap</h1><p>Nothing planned.</p>", ("no table found",)),
    "no-period-labels": (
        lambda: b"<table><tr><th>Name</th><th>Owner</th></tr><tr><td>A</td><td>B</td></tr></table>",
        ("no roadmap table found", "period labels"),
    ),
    "one-row": (
        lambda: b"<table><tr><th>FY21 Q1</th><td>Card [1]</td></tr></table>",
        ("fewer than 2 rows",),
    ),
    "nested-tables-500": (
        lambda: nested("<table><tr><td>", "</td></tr></table>", 500, "FY21 Q1").encode(),
        ("nested more than 255",),
    ),
    "nested-divs-100000": (
        lambda: nested("<div>", "</div>", 100_000, table("<p>Card [1]</p>")).encode(),
        ("nested more than 255",),
    ),
    "roadmap-after-deep-nesting": (
        lambda: (nested("<span>", "</span>", 300, "x") + table("<p>Card [1]</p>")).encode(),
        ("nested more than 255",),
    ),
    "text-node-over-10mb": (
        lambda: table("<p>" + "word " * 2_200_000 + "</p>", "<p>After [1]</p>").encode(),
        ("over 10 MB",),
    ),
    "too-wide": (lambda: TOO_WIDE.encode(), ("more than 1000 columns",)),
    "too-many-cells": (lambda: TOO_MANY_CELLS.encode(), ("too large",)),
    "doctype-never-ends": (
        lambda: ('<!DOCTYPE x [<!ENTITY a "b">' + table("<p>Card [1]</p>")).encode(),
        ("DOCTYPE", "never ends"),
    ),
    "json-not-a-page": (lambda: b'{"id": "1", "title": "T"}', ("not a Confluence page", "body")),
    "json-list": (lambda: b"[1, 2, 3]", ()),
    "json-body-number": (
        lambda: b'{"body": {"storage": {"value": 42}}}',
        ("body.storage.value is not a string",),
    ),
    "json-empty-body": (lambda: b'{"body": {"storage": {"value": "  "}}}', ("is empty",)),
    "json-truncated": (lambda: b'{"body": {"storage": {"value": "<p>', ("invalid JSON",)),
    "json-two-results": (
        lambda: json.dumps({"results": [{"body": {}}, {"body": {}}]}).encode(),
        ("2 pages",),
    ),
    "json-bad-version": (
        lambda: json.dumps(
            {"body": {"storage": {"value": table("<p>A [1]</p>")}}, "version": {"number": "x"}}
        ).encode(),
        ("version.number",),
    ),
    "json-body-not-html": (
        lambda: json.dumps({"body": {"storage": {"value": "just words"}}}).encode(),
        ("no tags found",),
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_stores_nothing(env: dict[str, Path], name: str) -> None:
    make, needles = BAD[name]
    path = env["tmp"] / f"{name}.in"
    path.write_bytes(make())
    started = time.perf_counter()
    check_refused(env, path, *needles)
    assert time.perf_counter() - started < 30  # six commands; each well under a second


def test_stdin_garbage_is_one_line(env: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        ["--config", str(env["config"]), "--store", str(env["store"]), "parse", "-"],
        input=bytes(range(256)) * 4,
        catch_exceptions=False,
    )
    assert_one_line_error(result.exit_code, result.stdout, result.stderr, "binary")


@pytest.mark.slow  # writes and reads 100 MB
def test_hundred_megabyte_page_is_refused_fast(env: dict[str, Path]) -> None:
    path = env["tmp"] / "huge.storage.html"
    row = ROW.format(period="FY21 Q1", cell="<p>" + "Card [1] " * 100 + "</p>")
    with path.open("w", encoding="utf-8") as f:
        f.write("<table>" + HEAD)
        chunk = row * 1000
        for _ in range(100_000_000 // len(chunk) + 1):
            f.write(chunk)
        f.write("</table>")
    assert path.stat().st_size > 100_000_000
    started = time.perf_counter()
    check_refused(env, path, "over the 50.0 MB limit", "max_bytes")
    assert time.perf_counter() - started < 30


@pytest.mark.slow  # writes and reads 100 MB
def test_hundred_megabyte_page_peak_memory_is_bounded(tmp_path: Path) -> None:
    """In a fresh process: reading and refusing 100 MB stays far below 2 GB and takes seconds."""
    script = (
        "import resource, sys\n"
        "from wikisync.cli import main\n"
        "sys.argv = ['wikisync', '--store', sys.argv[1], 'parse', sys.argv[2]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    path = tmp_path / "huge.html"
    with path.open("wb") as f:
        f.write(b"<table><tr><th>Quarter</th><th>Work</th></tr>")
        block = b"<tr><th>FY21 Q1</th><td><p>Card [1]</p></td></tr>" * 20_000
        while f.tell() < 100_000_000:
            f.write(block)
        f.write(b"</table>")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "store"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    elapsed = time.perf_counter() - started
    code, maxrss_kib = proc.stdout.split()
    assert code == "2", proc.stderr
    assert "over the 50.0 MB limit" in proc.stderr
    assert int(maxrss_kib) < 1024 * 1024  # < 1 GiB (ru_maxrss is in KiB on Linux)
    assert elapsed < 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


# --------------------------------------------------------------------------- size limit


def test_size_limit_is_configurable_and_counts_utf8_bytes() -> None:
    page = table("<p>Café crème [1]</p>", "<p>Second card [2]</p>")
    size = len(page.encode("utf-8"))
    assert size > len(page)  # multi-byte characters
    assert [i.title for i in parse_text(page, options=ParseOptions(max_bytes=size)).items] == [
        "Café crème",
        "Second card",
    ]
    for data in (page, page.encode("utf-8")):
        with pytest.raises(ParseError, match=r"over the .* limit; raise \[page.parse\] max_bytes"):
            parse_text(data, options=ParseOptions(max_bytes=size - 1))
    # 0 means no limit
    assert len(parse_text(page * 3, options=ParseOptions(max_bytes=0)).items) == 2
    assert ParseOptions().max_bytes == 50_000_000


# --------------------------------------------------------------------------- readable oddities


def _parse_json(env: dict[str, Path], path: Path) -> dict[str, Any]:
    code, out, err = run(env["config"], env["store"], "parse", str(path), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def _cards(doc: dict[str, Any]) -> list[tuple[str, str, str | None, str, tuple[str, ...]]]:
    items = doc["items"]
    assert isinstance(items, list)
    return [(i["title"], i["period"], i["period_end"], i["lane"], tuple(i["orgs"])) for i in items]


def test_conflicting_spans_parse_like_a_browser_lays_them_out(env: dict[str, Path]) -> None:
    # rowspan="0" and negative spans count as 1; colspan="1000000" is clamped (a browser caps
    # it at 1000, so "Run" sits far right and every card lands under "Build"); a rowspan past
    # the last row stops there; overlapping cells take the next free slot.
    started = time.perf_counter()
    doc = _parse_json(env, HOSTILE / "spans.storage.html")
    assert time.perf_counter() - started < 2
    assert [lane["label"] for lane in doc["lanes"]] == ["Build", "Run"]
    assert _cards(doc) == [
        ("Zero rowspan card", "FY21 Q1", None, "Build", ("1",)),
        ("Run card", "FY21 Q1", None, "Build", ("2",)),
        ("Overlapping card", "FY21 Q2", "Backlog", "Build", ("3",)),
        ("Wide card", "FY21 Q3", None, "Build", ()),
        ("Last card", "Backlog", None, "Build", ()),
        ("Negative card", "Backlog", None, "Build", ()),
    ]


def test_a_junk_table_too_big_to_read_does_not_hide_the_roadmap(env: dict[str, Path]) -> None:
    path = env["tmp"] / "two-tables.html"
    path.write_text(TOO_WIDE + table("<p>Real card [1]</p>", "<p>Other [2]</p>"), "utf-8")
    assert [c[0] for c in _cards(_parse_json(env, path))] == ["Real card", "Other"]


def _passwd_lines() -> list[str]:
    try:
        text = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ["root:x:0:0"]
    return [line for line in text.splitlines() if line.strip()][:3] or ["root:x:0:0"]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_external_entities_are_never_resolved(env: dict[str, Path], fmt: str) -> None:
    started = time.perf_counter()
    code, out, err = run(
        env["config"], env["store"], "parse", str(HOSTILE / "xxe.storage.html"), "--format", fmt
    )
    assert time.perf_counter() - started < 2
    assert code == 0, err
    for line in _passwd_lines():
        assert line not in out
    assert "root:" not in out
    assert "EXPANDED-INLINE" not in out
    assert "Read &passwd; now" in out  # the reference stays text
    assert "Fetch &remote; too" in out
    assert "Include card" in out


def test_xxe_snapshot_stores_the_body_verbatim_and_nothing_else(env: dict[str, Path]) -> None:
    code, _, err = run(
        env["config"],
        env["store"],
        "snapshot",
        str(HOSTILE / "xxe.storage.html"),
        "--page",
        "xxe",
    )
    assert code == 0, err
    (snap,) = (env["store"] / "xxe").iterdir()
    stored = (snap / "body.storage.xml").read_text(encoding="utf-8")
    assert stored == (HOSTILE / "xxe.storage.html").read_text(encoding="utf-8")
    roadmap = (snap / "roadmap.json").read_text(encoding="utf-8")
    assert "root:" not in roadmap and "EXPANDED-INLINE" not in roadmap


def test_billion_laughs_is_never_expanded(env: dict[str, Path]) -> None:
    started = time.perf_counter()
    doc = _parse_json(env, HOSTILE / "billion-laughs.storage.html")
    assert time.perf_counter() - started < 2
    assert [c[0] for c in _cards(doc)] == ["Laugh &lol10; card", "Quiet card"]
    assert "lollol" not in json.dumps(doc)


def test_entities_in_a_real_doctype_are_stripped_not_expanded() -> None:
    page = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://127.0.0.1:9/x.dtd" '
        '[<!ENTITY boom "BOOM">]>' + table("<p>Keep &boom; &amp; &rsquo;quoted&rsquo; [1]</p>")
    )
    (item,) = parse_text(page).items
    assert item.title == "Keep &boom; & ’quoted’"


def test_doctype_quoted_in_a_comment_is_left_alone() -> None:
    page = "<!-- an example: <!DOCTYPE x [ --><p>intro</p>" + table("<p>Card [1]</p>")
    assert [i.title for i in parse_text(page).items] == ["Card"]


def test_nesting_just_under_the_limit_parses() -> None:
    deep = nested("<span>", "</span>", 240, "Deep card [1]")
    struck = nested("<s><em>", "</em></s>", 120, "Struck card [2]")
    macros = nested(
        '<ac:structured-macro ac:name="info"><ac:rich-text-body>',
        "</ac:rich-text-body></ac:structured-macro>",
        120,
        "<p>Macro card [3]</p>",
    )
    roadmap = parse_text(table(f"<p>{deep}</p>", f"<p>{struck}</p>", macros))
    assert [(i.title, i.orgs, i.struck) for i in roadmap.items] == [
        ("Deep card", ("1",), False),
        ("Struck card", ("2",), True),
        ("Macro card", ("3",), False),
    ]


def test_a_nearly_full_stack_gives_a_parse_error_not_a_recursion_error() -> None:
    page = table("<p>" + nested("<span>", "</span>", 240, "Deep card [1]") + "</p>")

    def frames() -> int:
        n, f = 0, sys._getframe()
        while f.f_back is not None:
            n, f = n + 1, f.f_back
        return n + 1

    def at_headroom(left: int) -> None:
        if sys.getrecursionlimit() - frames() > left:
            at_headroom(left)
            return
        parse_text(page)

    with pytest.raises(ParseError, match="nested too deeply"):
        at_headroom(150)
    assert [i.title for i in parse_text(page).items] == ["Deep card"]


# Inputs that took seconds to hours before the scans were made linear (about 1 MB each).
SLOW_BEFORE = {
    "unterminated-doctypes": lambda: "<!DOCTYPE x [" * 80_000,
    "doctype-heads": lambda: "<!DOCTYPE " * 100_000 + table("<p>A</p>"),
    "unterminated-cdata": lambda: "<![CDATA[" * 100_000 + table("<p>A</p>"),
    "orgs-only-paragraphs": lambda: table("<p>Card</p>" + "<p>[1]</p>" * 100_000),
    "stage-only-paragraphs": lambda: table("<p>Card</p>" + "<p>&lt;Pilot&gt;</p>" * 50_000),
    "many-org-groups": lambda: table("<p>Card " + "[1] " * 100_000 + "</p>"),
    "many-cards": lambda: table("<p>Card [1]</p><p>---------</p>" * 30_000),
}


@pytest.mark.parametrize("name", sorted(SLOW_BEFORE))
def test_pathological_inputs_are_linear(name: str) -> None:
    text = SLOW_BEFORE[name]()
    started = time.perf_counter()
    try:
        parse_text(text)
    except ParseError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - started < 5  # quadratic behaviour would take minutes


# --------------------------------------------------------------------------- a corrupted store


def _snapshots(env: dict[str, Path]) -> list[Path]:
    config, store = env["config"], env["store"]
    v2 = GOOD.with_name("v2.storage.html")
    code, _, err = run(config, store, "snapshot", str(v2), "--page", PAGE, "--version", "2")
    assert code == 0, err
    return sorted((store / PAGE).iterdir())


ROADMAP_GARBAGE = {
    "not-json": b"garbage{",
    "not-utf8": b"\xff\xfe\x00",
    "empty": b"",
    "a-list": b"[]",
    "wrong-schema": b'{"schema": "something/9"}',
    "items-a-string": b'{"schema": "wikisync.roadmap/1", "items": "abc"}',
    "title-a-number": b'{"schema": "wikisync.roadmap/1", "items": [{"id": "x", "title": 5}]}',
    "period-label-a-number": b'{"schema": "wikisync.roadmap/1", "periods": [{"label": 3, '
    b'"short": "Q1"}]}',
    "bad-index": b'{"schema": "wikisync.roadmap/1", "periods": [{"label": "Q1", "short": "Q1", '
    b'"index": "first"}]}',
    "legend-a-list": b'{"schema": "wikisync.roadmap/1", "legend": []}',
    "orgs-numbers": b'{"schema": "wikisync.roadmap/1", "items": [{"id": "x", "title": "t", '
    b'"orgs": [1, 2]}]}',
    "parts-wrong": b'{"schema": "wikisync.roadmap/1", "items": [{"id": "x", "title": "t", '
    b'"parts": [1]}]}',
}


@pytest.mark.parametrize("name", sorted(ROADMAP_GARBAGE))
def test_hand_edited_roadmap_json_is_one_line_and_reparse_repairs_it(
    env: dict[str, Path], name: str
) -> None:
    config, store = env["config"], env["store"]
    first, second = _snapshots(env)
    code, good_diff, err = run(config, store, "diff", f"{PAGE}@v1", f"{PAGE}@v2")
    assert code == 0 and "Changed" in good_diff, err
    original = (second / "roadmap.json").read_bytes()
    (second / "roadmap.json").write_bytes(ROADMAP_GARBAGE[name])
    for args in (
        ("diff", f"{PAGE}@v1", f"{PAGE}@v2"),
        ("parse", f"{PAGE}@v2"),
        ("log", "--page", PAGE),
        ("history", "--page", PAGE),
    ):
        code, out, err = run(config, store, *args)
        assert_one_line_error(code, out, err, "corrupt roadmap", "roadmap.json", "reparse")
    code, out, err = run(config, store, "reparse", "--page", PAGE)
    assert code == 0, err
    assert out == f"{PAGE}: 1 of 2 roadmaps changed\n"
    assert (second / "roadmap.json").read_bytes() == original
    assert run(config, store, "diff", f"{PAGE}@v1", f"{PAGE}@v2")[1] == good_diff
    assert (first / "roadmap.json").is_file()


@pytest.mark.parametrize(
    "garbage",
    [
        b"xx",
        b"{}",
        b'{"schema": "wikisync.snapshot/1", "hash": 5}',
        b'{"schema": "wikisync.snapshot/1", "hash": "' + b"a" * 64 + b'", "formats": ["pdf"]}',
    ],
)
def test_hand_edited_meta_json_is_one_line(env: dict[str, Path], garbage: bytes) -> None:
    config, store = env["config"], env["store"]
    first, _second = _snapshots(env)
    (first / "meta.json").write_bytes(garbage)
    before = store_state(store)
    for args in (
        ("diff", f"{PAGE}@v1", f"{PAGE}@v2"),
        ("log", "--page", PAGE),
        ("parse", f"{PAGE}@latest"),
        ("snapshot", str(GOOD.with_name("v3.storage.html")), "--page", PAGE),
        ("reparse", "--page", PAGE),
    ):
        code, out, err = run(config, store, *args)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "corrupt snapshot metadata" in err and "meta.json" in err
        assert store_state(store) == before, args
