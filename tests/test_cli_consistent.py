"""One consistent command line: page arguments, global options, errors, diff arguments, help,
completion, colour, pager, and the markdown and wiki formats.

Every test copies the bundled example store to tmp_path; nothing in the repository is touched.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikisync.cli import LIVE_COMMANDS, cli, hoist_globals
from wikisync.sources import split_range

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"
V = {n: ROOT / "tests" / "data" / "openedx" / f"v{n}.storage.html" for n in range(1, 8)}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def make_config(tmp_path: Path, *pages: str, extra: str = "") -> Path:
    """A config with these pages and a copy of the bundled store (only the first page's)."""
    store = tmp_path / "store"
    tmp_path.mkdir(parents=True, exist_ok=True)
    if not store.exists():
        shutil.copytree(ROOT / "snapshots" / EXAMPLE, store / EXAMPLE)
    body = "".join(
        f'[[page]]\nname = "{p}"\n{extra if i == 0 else ""}\n' for i, p in enumerate(pages)
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[store]\npath = "store"\n\n{body}', encoding="utf-8")
    return cfg


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, prog_name="wikisync")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def one(tmp_path: Path) -> str:
    """A config whose only page is the bundled example."""
    return str(make_config(tmp_path / "one", EXAMPLE))


@pytest.fixture
def two(tmp_path: Path) -> str:
    return str(make_config(tmp_path / "two", EXAMPLE, "team-roadmap"))


# --------------------------------------------------------------------------- the page argument


@pytest.mark.parametrize("command", ["log", "history", "audit"])
def test_page_as_argument_option_or_the_only_page(one: str, two: str, command: str) -> None:
    by_name = run("--config", two, command, EXAMPLE)
    by_option = run("--config", two, command, "--page", EXAMPLE)
    only = run("--config", one, command)
    assert by_name == by_option == only
    assert by_name[0] in (0, 1) and by_name[1]


def test_several_pages_and_no_name_asks_which(two: str) -> None:
    code, out, err = run("--config", two, "log")
    assert (code, out) == (2, "")
    assert err == (
        f"wikisync: error: which page? give its name (known pages: {EXAMPLE}, team-roadmap)\n"
    )


def test_a_mistyped_page_lists_the_known_pages(two: str) -> None:
    code, _, err = run("--config", two, "history", "openedx-roadmap-exmaple")
    assert code == 2
    assert err == (
        "wikisync: error: unknown page 'openedx-roadmap-exmaple' "
        f"(did you mean {EXAMPLE}?) (known pages: {EXAMPLE}, team-roadmap)\n"
    )


def test_name_and_a_different_page_option_conflict(two: str) -> None:
    code, _, err = run("--config", two, "log", EXAMPLE, "--page", "team-roadmap")
    assert code == 2 and err.startswith("wikisync: error: two pages given")


# --------------------------------------------------------------------------- global options


def test_global_options_work_after_the_command(tmp_path: Path, one: str) -> None:
    store = tmp_path / "one" / "store"
    before = run("--config", one, "--store", str(store), "log", EXAMPLE)
    after = run("log", EXAMPLE, "--config", one, "--store", str(store))
    mixed = run("--config", one, "log", f"--store={store}", EXAMPLE)
    assert before == after == mixed and before[0] == 0


def test_hoisting_stops_at_double_dash_and_keeps_option_values() -> None:
    assert hoist_globals(["log", "x", "-q", "--config", "c.toml"]) == [
        "-q",
        "--config",
        "c.toml",
        "log",
        "x",
    ]
    assert hoist_globals(["--store", "s", "diff", "a", "-vv", "--", "-q"]) == [
        "--store",
        "s",
        "-vv",
        "diff",
        "a",
        "--",
        "-q",
    ]
    assert hoist_globals(["parse", "--format", "json", "f"]) == ["parse", "--format", "json", "f"]


def test_quiet_after_the_command_silences_notes(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, "p")
    run("--config", str(cfg), "snapshot", str(V[7]), "--page", "p", "--version", "7")
    assert run("--config", str(cfg), "history", "p")[2] != ""
    assert run("--config", str(cfg), "history", "p", "-q")[2] == ""


# --------------------------------------------------------------------------- one error style


def test_usage_errors_are_one_error_line_then_the_usage_line(one: str) -> None:
    code, out, err = run("--config", one, "diff", "--frmat", "json")
    assert (code, out) == (2, "")
    first, usage = err.splitlines()
    assert first.startswith("wikisync: error: no such option '--frmat'")
    assert usage == "usage: wikisync diff [OPTIONS] [OLD] [NEW]"


def test_an_unknown_command_suggests_the_closest(one: str) -> None:
    code, _, err = run("--config", one, "histroy")
    assert code == 2
    assert err.splitlines()[0] == (
        "wikisync: error: unknown command 'histroy' (did you mean history?)"
    )


def test_bare_wikisync_prints_its_help_like_git() -> None:
    code, out, err = run()
    assert (code, err) == (1, "")
    assert out.startswith("Usage: wikisync [OPTIONS] COMMAND") and "Offline commands" in out


def test_a_bad_choice_is_the_same_style(one: str) -> None:
    code, _, err = run("--config", one, "history", "--format", "rst")
    assert code == 2 and err.startswith("wikisync: error: invalid value for '--format'")
    assert err.splitlines()[1].startswith("usage: wikisync history")


# --------------------------------------------------------------------------- diff arguments


def test_a_range_is_two_references(one: str) -> None:
    two_args = run("--config", one, "diff", f"{EXAMPLE}@v5", f"{EXAMPLE}@v6")
    assert two_args[0] == 0 and "Moved “Developer Handbook” from Backlog to Q4." in two_args[1]
    assert run("--config", one, "diff", f"{EXAMPLE}@v5..{EXAMPLE}@v6") == two_args
    assert run("--config", one, "diff", f"{EXAMPLE}@v5..v6") == two_args
    to_latest = run("--config", one, "diff", f"{EXAMPLE}@v6..")
    assert to_latest == run("--config", one, "diff", f"{EXAMPLE}@v6", f"{EXAMPLE}@latest")


def test_split_range_never_splits_paths() -> None:
    assert split_range("p@v5..v7") == ("p@v5", "p@v7")
    assert split_range("p@v5..") == ("p@v5", "p@latest")
    assert split_range("..p@v7") == ("p@latest", "p@v7")
    assert split_range("a@v1..b@v2") == ("a@v1", "b@v2")
    assert split_range("../old.html") is None
    assert split_range("dir/a..b.html") is None
    assert split_range("p@v5") is None


def test_one_reference_without_a_live_page_says_what_is_missing(one: str) -> None:
    code, _, err = run("--config", one, "diff", f"{EXAMPLE}@v5")
    assert code == 2 and "base_url" in err and len(err.splitlines()) == 1


def test_no_changes_prints_nothing_but_json_keeps_its_document(one: str) -> None:
    for fmt in ("text", "markdown", "confluence", "wiki"):
        same = (f"{EXAMPLE}@v7", f"{EXAMPLE}@v7", "--format", fmt)
        assert run("--config", one, "diff", *same) == (0, "", "")
        assert run("--config", one, "diff", *same, "--exit-code") == (0, "", "")
    code, out, _ = run("--config", one, "diff", f"{EXAMPLE}@v7..v7", "--format", "json")
    assert code == 0 and json.loads(out)["changes"] == []
    assert run("--config", one, "diff", f"{EXAMPLE}@v6..v7", "--exit-code")[0] == 1


def test_history_with_one_stored_version_says_so_and_suggests_backfill(tmp_path: Path) -> None:
    cfg = str(make_config(tmp_path, "p"))
    run("--config", cfg, "snapshot", str(V[7]), "--page", "p", "--version", "7")
    code, out, err = run("--config", cfg, "history", "p")
    assert (code, out) == (0, "")
    assert err == (
        "wikisync: p has one stored version (v7): no change to show yet; "
        "`wikisync backfill p` stores its earlier versions\n"
    )
    code, out, _ = run("--config", cfg, "history", "p", "--format", "json")
    assert code == 0 and json.loads(out)["entries"] == []


# --------------------------------------------------------------------------- help and completion


def test_every_command_has_a_description_and_examples(one: str) -> None:
    for name, command in cli.commands.items():
        code, out, _ = run("--config", one, name, "--help")
        assert code == 0, name
        assert command.help and command.help.strip(), name
        examples = out.split("Examples:", 1)
        assert len(examples) == 2, f"{name} --help has no examples"
        lines = [ln for ln in examples[1].splitlines() if ln.strip().startswith("wikisync ")]
        assert 2 <= len(lines) <= 3, (name, lines)


def test_top_help_has_the_reference_grammar_and_groups_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for ref in ("NAME@latest~1", "NAME@v30", "NAME@2021-02-10", "A..B", "_WIKISYNC_COMPLETE"):
        assert ref in out
    offline, live = out.index("Offline commands"), out.index("Live commands")
    for name in cli.commands:
        at = out.index(f"\n  {name} ")
        assert (at > live) == (name in LIVE_COMMANDS), name
        assert at > offline


def complete(cfg: str, *words: str) -> list[str]:
    line = ["wikisync", "--config", cfg, *words]
    env = {
        "_WIKISYNC_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(line),
        "COMP_CWORD": str(len(line) - 1),
    }
    code, out, _ = run(env=env)
    assert code == 0
    return [ln.split(",", 1)[1] for ln in out.splitlines() if ln.startswith("plain,")]


def test_completion_of_pages_and_references(two: str) -> None:
    assert complete(two, "log", "open") == [EXAMPLE]
    assert complete(two, "history", "") == [EXAMPLE, "team-roadmap"]
    refs = complete(two, "diff", f"{EXAMPLE}@")
    assert refs[:3] == [f"{EXAMPLE}@latest", f"{EXAMPLE}@latest~1", f"{EXAMPLE}@live"]
    assert f"{EXAMPLE}@v7" in refs and f"{EXAMPLE}@v1" in refs
    assert complete(two, "diff", f"{EXAMPLE}@v") == [f"{EXAMPLE}@v{n}" for n in range(7, 0, -1)]


# --------------------------------------------------------------------------- colour and pager


def test_colour_only_when_asked_or_on_a_terminal(one: str) -> None:
    piped = run("--config", one, "history", EXAMPLE)[1]
    assert not ANSI.search(piped)
    forced = run("--config", one, "--color", "always", "history", EXAMPLE)[1]
    assert ANSI.search(forced) and ANSI.sub("", forced) == piped
    assert "\x1b[1m2021-06-01\x1b[0m" in forced and "\x1b[33mDeferred\x1b[0m" in forced
    assert not ANSI.search(run("--config", one, "history", EXAMPLE, "--color", "never")[1])


def on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run the real CLI with stdout on a pseudo-terminal; returns what reached the terminal."""
    leader, follower = pty.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikisync", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=full_env,
        cwd=cwd,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_colour_and_the_pager_with_less_frx(tmp_path: Path, one: str) -> None:
    seen = tmp_path / "paged.txt"
    pager = f'echo "LESS=$LESS" > {seen}; cat >> {seen}'
    env = {"PAGER": pager, "LESS": ""}
    del env["LESS"]
    args = ["--config", one, "log", EXAMPLE]
    screen = on_a_terminal(args, {**env, "NO_COLOR": "1"}, tmp_path)
    paged = seen.read_text(encoding="utf-8")
    assert paged.startswith("LESS=FRX\nv7  2021-06-01") and screen == ""
    seen.unlink()
    screen = on_a_terminal([*args, "--no-pager"], env, tmp_path)
    assert not seen.exists() and "v7  2021-06-01" in screen
    # colour on the terminal, through the pager too, and never with NO_COLOR
    on_a_terminal(["--config", one, "history", EXAMPLE], env, tmp_path)
    assert ANSI.search(seen.read_text(encoding="utf-8"))
    on_a_terminal(["--config", one, "history", EXAMPLE], {**env, "NO_COLOR": "1"}, tmp_path)
    assert not ANSI.search(seen.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- formats


def test_markdown_links_each_entry_to_the_version_comparison(tmp_path: Path) -> None:
    extra = 'base_url = "https://wiki.example.org/wiki"\npage_id = "1812037671"\n'
    cfg = str(make_config(tmp_path, EXAMPLE, extra=extra))
    code, out, _ = run("--config", cfg, "history", EXAMPLE, "--format", "markdown")
    assert code == 0
    assert out.startswith("## 2021-06-01\n\n[v6 → v7](https://wiki.example.org/wiki/pages/")
    link = (
        "https://wiki.example.org/wiki/pages/diffpagesbyversion.action"
        "?pageId=1812037671&originalVersion=5&revisedVersion=6"
    )
    assert f"## 2021-02-10\n\n[v5 → v6]({link})\n\n**Deferred**\n\n- Moved" in out
    assert out.count("\n## ") == 5 and "**Moved Up**" in out
    wiki = run("--config", cfg, "history", EXAMPLE, "--format", "wiki")[1]
    assert f"* 2021\\-02\\-10 ([v5 → v6|{link}])\n** Deferred\n*** Moved" in wiki


def test_link_targets_cannot_break_out_of_the_link() -> None:
    from wikisync.render.markdown import markdown_url
    from wikisync.render.wiki import wiki_url

    url = "https://x.org/a b)(<c>|[d]"
    assert markdown_url(url) == "https://x.org/a%20b%29%28%3Cc%3E%7C%5Bd%5D"
    assert not re.search(r"[\s()<>]", markdown_url(url))
    assert not re.search(r"[\s|\[\]!{}]", wiki_url(url + "!{x}"))


def test_wiki_markup_escapes_every_construct() -> None:
    from wikisync.render.wiki import escape_wiki

    hostile = "*b* _i_ -s- +u+ ^p^ ~b~ ??c?? {code} [l|http://x] !i.png! #n (y) :) ;) \\"
    escaped = escape_wiki(hostile + "\nh1. x")
    unescaped = re.sub(r"\\.", "", escaped)
    assert not re.search(r"[*_\-+^~?{}\[\]|!#():;\\]", unescaped), unescaped
    assert "\n" not in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join((hostile + "\nh1. x").split())
