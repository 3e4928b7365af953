"""Configuration: lookup order, the documented example, and one clear error per wrong key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from wikisync.config import Config, PageConfig, load_config, loads_config
from wikisync.errors import ConfigError
from wikisync.model import ParseOptions

REPO = Path(__file__).resolve().parents[1]

EXAMPLE = """\
[store]
path = "snapshots"

[[page]]
name = "openedx-roadmap"
base_url = "https://openedx.atlassian.net/wiki/"
page_id = "1812037671"            # or: space = "AC", title = "…"
api = "auto"                      # auto | v2 | v1
auth = "none"                     # none | basic | bearer | netrc
user_env = "CONFLUENCE_USER"      # names of environment variables, never secrets
token_env = "CONFLUENCE_TOKEN"

[page.parse]                      # all optional
table_heading = "Roadmap supported with the Community"
orientation = "auto"              # auto | rows | columns
period_aliases = { "Koa" = "FY21 Q2 (Oct-Dec)" }

[page.render]
period_names = { "FY21 Q2 (Oct-Dec)" = "Koa" }

[[page]]
name = "openedx-roadmap-example"
"""

# A valid minimal page that the bad-key cases below modify one line at a time.
BASE_PAGE = """\
[[page]]
name = "p"
base_url = "https://wiki.example.com"
page_id = "1"
"""


def write(directory: Path, text: str, name: str = "config.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example(tmp_path: Path) -> None:
    path = write(tmp_path / "conf", EXAMPLE)
    cfg = load_config(path, environ={})
    assert cfg.path == path
    assert cfg.store_path == (tmp_path / "conf").resolve() / "snapshots"
    assert list(cfg.pages) == ["openedx-roadmap", "openedx-roadmap-example"]
    page = cfg.page("openedx-roadmap")
    assert page == PageConfig(
        name="openedx-roadmap",
        base_url="https://openedx.atlassian.net/wiki",
        page_id="1812037671",
        api="auto",
        auth="none",
        user_env="CONFLUENCE_USER",
        token_env="CONFLUENCE_TOKEN",
        parse=ParseOptions(
            table_heading="Roadmap supported with the Community",
            orientation="auto",
            period_aliases={"Koa": "FY21 Q2 (Oct-Dec)"},
        ),
        period_names={"FY21 Q2 (Oct-Dec)": "Koa"},
    )
    example = cfg.page("openedx-roadmap-example")
    assert example.base_url is None and example.parse == ParseOptions()


def test_full_page_options(tmp_path: Path) -> None:
    text = """\
[[page]]
name = "dc-roadmap"
base_url = "https://wiki.corp.example/confluence"
space = "ARCH"
title = "Platform Roadmap"
api = "v1"
auth = "bearer"
token_env = "DC_PAT"
timeout = 12
retries = 2

[page.parse]
table_index = 1
table_header = "Quarter"
orientation = "columns"
backlog_words = ["Someday", "Later"]
history_heading = "Revision log"
legend_heading = "Teams"

[page.render]
template_dir = "templates/dc"
"""
    cfg = load_config(write(tmp_path, text), environ={})
    page = cfg.page("dc-roadmap")
    assert (page.space, page.title, page.page_id) == ("ARCH", "Platform Roadmap", None)
    assert (page.api, page.auth, page.token_env, page.user_env) == (
        "v1",
        "bearer",
        "DC_PAT",
        "CONFLUENCE_USER",
    )
    assert page.timeout == 12.0 and isinstance(page.timeout, float) and page.retries == 2
    assert page.parse.table_index == 1 and page.parse.orientation == "columns"
    assert page.parse.backlog_words == ("someday", "later")
    assert page.history_heading == page.parse.history_heading == "Revision log"
    assert page.template_dir == tmp_path.resolve() / "templates" / "dc"


def test_integer_page_id(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE_PAGE.replace('"1"', "1812037671")), environ={})
    assert cfg.page("p").page_id == "1812037671"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('api = "v3"', "page[0].api: expected one of auto, v2, v1, mediawiki, got 'v3'"),
        (
            'auth = "oauth"',
            "page[0].auth: expected one of none, basic, bearer, netrc, password, got 'oauth'",
        ),
        ('colour = "red"', "page[0].colour: unknown key"),
        ('base_url = "openedx.atlassian.net"', "page[0].base_url: expected an http(s):// URL"),
        ("timeout = -1", "page[0].timeout: expected a positive number of seconds, got -1"),
        ('timeout = "30"', "page[0].timeout: expected a positive number"),
        ("retries = true", "page[0].retries: expected a whole number"),
        ('token_env = "ATATT3xFfGF0-secret"', "page[0].token_env: expected the name of an env"),
        ("user_env = 5", "page[0].user_env: expected a string, got int 5"),
        ('space = "AC"', "page[0].page_id: give page_id, or space and title, not both"),
        ('[page.parse]\norientation = "diagonal"', "page[0].parse.orientation: expected one of"),
        ("[page.parse]\ntable_index = -1", "page[0].parse.table_index: expected a whole number"),
        (
            "[page.parse]\nmax_bytes = -5",
            "page[0].parse.max_bytes: expected a whole number of bytes",
        ),
        ("[page.parse]\nperiod_aliases = { Koa = 2 }", "page[0].parse.period_aliases.Koa"),
        ('[page.parse]\nbacklog_words = "Backlog"', "page[0].parse.backlog_words: expected a"),
        ('[page.parse]\nheading = "x"', "page[0].parse.heading: unknown key"),
        ('[page.render]\nperiod_names = ["Koa"]', "page[0].render.period_names: expected a"),
        ('[page.render]\nstyle = "x"', "page[0].render.style: unknown key"),
        ("parse = 3", "page[0].parse: expected a table"),
    ],
)
def test_wrong_page_keys(tmp_path: Path, change: str, message: str) -> None:
    key = change.split("=")[0].strip()
    lines = [ln for ln in BASE_PAGE.splitlines() if not ln.startswith(key + " ")]
    text = "\n".join(lines) + "\n" + change + "\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'colour = "red"\n',
            "colour: unknown key (expected one of store, page, notify, watch, fetch)",
        ),
        ('[store]\npath = "s"\ndir = "x"\n', "store.dir: unknown key"),
        ("[store]\npath = 3\n", "store.path: expected a string, got int 3"),
        ('store = "snapshots"\n', "store: expected a table"),
        ('[[page]]\nbase_url = "https://h"\npage_id = "1"\n', "page[0].name: expected a page name"),
        ('[[page]]\nname = "../etc"\n', "page[0].name: expected a page name"),
        ('[[page]]\nname = "p"\n[[page]]\nname = "p"\n', "page[1].name: duplicate page name 'p'"),
        ('[[page]]\nname = "p"\nspace = "AC"\n', "page[0].title: space and title go together"),
        (
            '[[page]]\nname = "p"\nbase_url = "https://h"\n',
            "page[0].page_id: base_url is set, so give page_id or space and title",
        ),
        ('[[page]]\nname = "p"\npage_id = "abc"\n', "page[0].page_id: expected a numeric page id"),
        ('page = "p"\n', "page: expected a list of [[page]] tables"),
    ],
)
def test_wrong_top_level(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (BASE_PAGE + 'token = "ATATT3xFfGF0abc"\n', "page[0].token"),
        (BASE_PAGE + 'password = "hunter2"\n', "page[0].password"),
        (BASE_PAGE + 'api_token = "x"\n', "page[0].api_token"),
        ('token = "x"\n', "token"),
        ('[store]\npassword = "x"\n', "store.password"),
    ],
)
def test_secrets_refused(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert str(info.value) == (
        f"{key}: secrets never go in the config file; name an environment variable in token_env"
    )
    assert "hunter2" not in str(info.value) and "ATATT" not in str(info.value)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[store]\npath = "snapshots"\n\n[[page]\nname = "p"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}:4: invalid TOML")
    assert "line 4" in message


def test_relative_store_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "etc" / "wikisync", '[store]\npath = "../data/snaps"\n')
    monkeypatch.chdir(tmp_path)
    cfg = load_config("etc/wikisync/config.toml", environ={})
    assert cfg.store_path == (tmp_path / "etc" / "wikisync").resolve() / "../data/snaps"
    assert cfg.store_path.resolve() == (tmp_path / "etc" / "data" / "snaps").resolve()
    absolute = write(tmp_path / "abs", f'[store]\npath = "{tmp_path / "elsewhere"}"\n')
    assert load_config(absolute, environ={}).store_path == tmp_path / "elsewhere"
    assert path.exists()


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write(tmp_path / "a", '[store]\npath = "from-explicit"\n')
    from_env = write(tmp_path / "b", '[store]\npath = "from-env"\n')
    cwd = tmp_path / "c"
    write(cwd, '[store]\npath = "from-cwd"\n')
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("WIKISYNC_CONFIG", str(from_env))
    assert load_config(explicit).store_path.name == "from-explicit"
    assert load_config().store_path.name == "from-env"
    assert load_config().path == from_env
    monkeypatch.delenv("WIKISYNC_CONFIG")
    assert load_config().store_path.name == "from-cwd"
    (cwd / "config.toml").unlink()
    defaults = load_config()
    assert defaults == Config(store_path=cwd / "snapshots", pages={}, path=None)


def test_environ_mapping(tmp_path: Path) -> None:
    from_env = write(tmp_path, BASE_PAGE)
    cfg = load_config(environ={"WIKISYNC_CONFIG": str(from_env)}, cwd=tmp_path / "nowhere")
    assert list(cfg.pages) == ["p"]


def test_missing_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml \(from --config"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match=r"config file not found: .*gone.toml \(from \$WIKI"):
        load_config(environ={"WIKISYNC_CONFIG": str(tmp_path / "gone.toml")})


def test_page_lookup(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, EXAMPLE), environ={})
    with pytest.raises(ConfigError) as info:
        cfg.page("roadmap")
    assert "unknown page 'roadmap'" in str(info.value)
    assert "configured pages: openedx-roadmap, openedx-roadmap-example" in str(info.value)
    assert cfg.page_or_default("openedx-roadmap") is cfg.page("openedx-roadmap")
    assert cfg.page_or_default("scratch") == PageConfig(name="scratch")
    assert cfg.page_or_default("scratch").parse == ParseOptions()


def test_loads_without_file() -> None:
    cfg = loads_config('[store]\npath = "/var/lib/wikisync"\n')
    assert cfg.store_path == Path("/var/lib/wikisync") and cfg.path is None


def _shipped_config() -> str | None:
    """config.toml as committed, not as the user edited it (the README's live walkthrough
    points it at the stand-in); None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "show", "HEAD:config.toml"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def test_repo_config_toml(tmp_path: Path) -> None:
    shipped = _shipped_config()
    if shipped is None:  # a tarball: the user's own config.toml must load, whatever it says
        load_config(REPO / "config.toml", environ={})
        return
    path = tmp_path / "config.toml"
    path.write_text(shipped, encoding="utf-8")
    cfg = load_config(path, environ={})
    assert cfg.store_path == tmp_path / "snapshots"
    real = cfg.page("openedx-roadmap")
    assert real.base_url == "https://openedx.atlassian.net/wiki"
    assert real.page_id == "1812037671"
    assert real.parse.table_heading == "Roadmap supported with the Community"
    assert real.parse.period_aliases["Koa"] == "FY21 Q2 (Oct-Dec)"
    assert real.period_names == {}  # short names ("Q2") unless a team opts in
    example = cfg.page("openedx-roadmap-example")
    assert example.base_url is None and example.page_id is None


def test_max_bytes_raises_the_parse_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[page]]\nname = "big"\n\n[page.parse]\nmax_bytes = 0\n', encoding="utf-8")
    assert load_config(path, environ={}).page("big").parse.max_bytes == 0
