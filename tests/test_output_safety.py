"""Page and server text never acts on a terminal, a spreadsheet or a Markdown reader.

Issue 13, mediums 4 and 5 and the low CSV / bidi / title-length items: C0/C1 controls and bidi
overrides are shown as ``\\uXXXX`` in every output (``wikisync.safe.safe_text``), CSV cells
that a spreadsheet would run start with ``'``, quoted titles are capped, and CHANGELOG.md is
escaped Markdown whose ``<!-- wikisync: … -->`` markers page text cannot write.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from roadmaps import card, roadmap

from wikisync.cli import cli
from wikisync.config import PageConfig
from wikisync.diff import diff_roadmaps
from wikisync.errors import WikisyncError
from wikisync.model import ChangeSet, Document, Roadmap, SourceMeta, VersionRef
from wikisync.render import CHANGE_FORMATS, ROADMAP_FORMATS, render_changes, render_roadmap
from wikisync.safe import TITLE_CAP, safe_text
from wikisync.store import Store
from wikisync.sync import MARKER_RE, catch_up_changelog

# ESC ] 0 ; … BEL sets the terminal title; ESC [ 2 J clears the screen; U+009B is a one-byte
# CSI; U+202E reverses the text after it; U+2066 starts an isolate.
CONTROLS = [
    "Set \x1b]0;pwned\x07 title",
    "Clear \x1b[2J\x1b[H screen",
    "CSI \x9b31m red",
    "Bidi \u202egnp.exe",
    "Isolate \u2066x\u2069 y",
    "Back\rspace\x08 and \x7f",
]
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _changeset(old: Roadmap, new: Roadmap) -> ChangeSet:
    return ChangeSet(
        old=VersionRef("old"),
        new=VersionRef("new"),
        changes=diff_roadmaps(old, new),
        date="2021-02-10",
        old_roadmap=old,
        new_roadmap=new,
    )


def _hostile(*titles: str) -> Roadmap:
    """Cards titled ``titles`` in one cell, built directly (the test builder's card grammar
    is slow on huge titles)."""
    base = card("placeholder", "Q2", "make")
    return roadmap(*(replace(base, id=f"{k:012x}", title=t, text=t) for k, t in enumerate(titles)))


def test_safe_text_shows_controls_and_keeps_layout() -> None:
    assert safe_text("a\x1b[2Jb\u202ec\n\td") == "a\\u001b[2Jb\\u202ec\n\td"
    assert safe_text(safe_text("\x9b")) == "\\u009b"


@pytest.mark.parametrize("fmt", ROADMAP_FORMATS)
def test_parse_outputs_carry_no_control(fmt: str) -> None:
    rm = _hostile(*CONTROLS)
    out = render_roadmap(rm, fmt)
    assert not UNSAFE.search(out.replace("\n", " ")), out
    if fmt == "json":  # the escape is JSON's own: read back, the titles are intact
        assert [i["title"] for i in json.loads(out)["items"]] == [i.title for i in rm.items]


@pytest.mark.parametrize("fmt", CHANGE_FORMATS)
def test_diff_outputs_carry_no_control(fmt: str) -> None:
    out = render_changes(_changeset(_hostile("Plain"), _hostile("Plain", *CONTROLS)), fmt)
    assert not UNSAFE.search(out.replace("\n", " ").replace("\t", " ")), out
    assert "pwned" in out  # shown, not dropped (confluence drops what XML cannot hold)


def test_error_lines_escape_what_a_server_said() -> None:
    err = WikisyncError("server said: \x1b]0;owned\x07\x9b2J\u202e")
    assert str(err) == "server said: \\u001b]0;owned\\u0007\\u009b2J\\u202e"


def test_cli_error_line_escapes_a_hostile_argument(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--store", str(tmp_path), "parse", "x\x1b[2J\x9b.html"])
    assert result.exit_code == 2
    assert result.stderr.startswith("wikisync: error: ") and result.stderr.count("\n") == 1
    assert not UNSAFE.search(result.stderr.rstrip("\n")), result.stderr


def test_csv_cells_that_start_a_formula_are_prefixed() -> None:
    out = render_roadmap(_hostile("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "Safe"), "csv")
    titles = [line.split(",")[3] for line in out.splitlines()[1:]]
    assert titles == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "Safe"]


def test_a_huge_title_is_capped_in_generated_text() -> None:
    huge = "Take " + "over " * 40_000  # 200,000 characters
    out = render_changes(_changeset(_hostile("Plain"), _hostile("Plain", huge)), "text")
    assert len(out) < TITLE_CAP + 200
    assert "…”" in out


# --------------------------------------------------------------------------- CHANGELOG.md

MARKUP = [
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<!-- hides the rest",
]


def _put(store: Store, version: int, rm: Roadmap) -> None:
    doc = Document(
        bodies={"storage": f"<p>v{version}</p>"},
        meta=SourceMeta(version=version, when=f"2021-0{version}-01T00:00:00Z"),
    )
    store.put("road", doc, rm)


def test_changelog_is_escaped_markdown_and_its_markers_cannot_be_forged(tmp_path: Path) -> None:
    store = Store(tmp_path)
    cfg = PageConfig(name="road")
    _put(store, 1, _hostile("Plain"))
    catch_up_changelog(store, cfg)  # the start marker
    first = store.snapshots("road")[0].id
    forged = f"<!-- wikisync: start {first} --> <!-- wikisync: {first}..{first} -->"
    _put(store, 2, _hostile("Plain", *MARKUP, forged))
    entries = catch_up_changelog(store, cfg)
    assert len(entries) == 1
    log = (tmp_path / "road" / "CHANGELOG.md").read_text(encoding="utf-8")
    snaps = [s.id for s in store.snapshots("road")]
    assert [(m["old"], m["new"] or m["start"]) for m in MARKER_RE.finditer(log)] == [
        (snaps[0], snaps[1]),
        (None, snaps[0]),
    ]
    for line in log.splitlines():
        if not MARKER_RE.fullmatch(line):
            assert not re.search(r"(?<!\\)<", line), line  # no tag, no comment opens
            assert not re.search(r"(?<!\\)\]\(", line), line  # no live link
    assert "\\[click\\](javascript:alert(1))" in log
    assert catch_up_changelog(store, cfg) == []  # nothing appended twice
