"""Configuration: where the store is and how to reach and read each page.

Looked up in order: ``--config PATH``, ``$WIKISYNC_CONFIG``, ``./config.toml`` if it exists,
else built-in defaults. Every key is checked: a typo or a wrong value is one ConfigError naming
the key (``page[0].api: expected one of auto, v2, v1, mediawiki, got 'v3'``). Secrets never go
in the file; a page names the environment variables that hold them (``user_env``, ``token_env``).
Relative paths (``store.path``, ``page.render.template_dir``) are relative to the config file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.errors import ConfigError
from wikisync.model import ParseOptions

if TYPE_CHECKING:
    from wikisync.notify import NotifyConfig

ENV_VAR = "WIKISYNC_CONFIG"
DEFAULT_FILE = "config.toml"
DEFAULT_STORE = "snapshots"

API_CHOICES = ("auto", "v2", "v1", "mediawiki")
AUTH_CHOICES = ("none", "basic", "bearer", "netrc", "password")
ORIENTATION_CHOICES = ("auto", "rows", "columns")
SHAPE_CHOICES = ("auto", "grid", "rows", "matrix", "planner")

#: Key names that can only mean a secret was pasted into the file.
SECRET_KEYS = frozenset(
    {"token", "password", "passwd", "secret", "api_token", "api_key", "apikey", "pat"}
)
_SECRET_MESSAGE = "secrets never go in the config file; name an environment variable in token_env"

_NAME_RE = lazy_re(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_ENV_NAME_RE = lazy_re(r"[A-Za-z_][A-Za-z0-9_]*")

_TOP_KEYS = ("store", "page", "notify", "watch", "fetch")
_FETCH_KEYS = ("concurrency",)
_NOTIFY_KEYS = ("url", "url_env", "pages", "format", "report_url")
_STORE_KEYS = ("path",)
_PAGE_KEYS = (
    "name",
    "base_url",
    "page_id",
    "space",
    "title",
    "api",
    "auth",
    "user_env",
    "token_env",
    "timeout",
    "retries",
    "parse",
    "render",
)
_PARSE_KEYS = (
    "table_heading",
    "table_index",
    "table_header",
    "orientation",
    "period_aliases",
    "backlog_words",
    "history_heading",
    "legend_heading",
    "max_bytes",
    "shape",
    "key_column",
)
_RENDER_KEYS = ("period_names", "template_dir")


@record(frozen=True)
class PageConfig:
    """One page: where it lives, how to authenticate, how to read and render it."""

    name: str
    base_url: str | None = None  # "https://openedx.atlassian.net/wiki", no trailing slash
    page_id: str | None = None
    space: str | None = None
    title: str | None = None
    api: str = "auto"  # auto | v2 | v1 | mediawiki
    auth: str = "none"  # none | basic | bearer | netrc | password (MediaWiki bot password)
    user_env: str = "CONFLUENCE_USER"  # names of environment variables, never the secrets
    token_env: str = "CONFLUENCE_TOKEN"
    timeout: float = 30.0  # seconds per HTTP request
    retries: int = 4  # retries on 429/503 (Atlassian suggests at most 4)
    parse: ParseOptions = field(default_factory=ParseOptions)
    period_names: dict[str, str] = field(default_factory=dict)  # period label/short -> name
    template_dir: Path | None = None
    history_heading: str = "Change History"  # where the page keeps its Change History


@record(frozen=True)
class WatchConfig:
    """A ``[[watch]]``: every page a CQL query finds is synced as a page of its own."""

    name: str
    cql: str
    template: PageConfig  # what each discovered page inherits (site, auth, parse, render)

    def page(self, page_id: str) -> PageConfig:
        """The discovered page ``page_id``: named by the watch and the id (a title can change)."""
        return replace(self.template, name=f"{self.name}-{page_id}", page_id=page_id)


@record(frozen=True)
class Config:
    """The whole configuration; ``path`` is the file it came from (None for defaults)."""

    store_path: Path
    pages: dict[str, PageConfig] = field(default_factory=dict)
    path: Path | None = None
    notify: tuple[NotifyConfig, ...] = ()
    watches: tuple[WatchConfig, ...] = ()
    concurrency: int = 4  # [fetch] concurrency: pages fetched at once (one budget per site)

    def page(self, name: str) -> PageConfig:
        """The configured page, or an error listing the pages that are configured."""
        try:
            return self.pages[name]
        except KeyError:
            known = ", ".join(self.pages) or "none"
            where = f" in {self.path}" if self.path else ""
            raise ConfigError(f"unknown page {name!r}{where} (configured pages: {known})") from None

    def page_or_default(self, name: str) -> PageConfig:
        """Pages not in the config still work for store operations, with default options."""
        return self.pages.get(name) or PageConfig(name=name)


# --------------------------------------------------------------------------- permissions


def credentials_warning(config: Config) -> str | None:
    """One line when the config file that names credentials can be read by other users.

    The file holds no secret (those keys are refused) but it tells which account and which
    environment variables do; like ssh with its own files, it should be 0600. "Can be read"
    means the mode allows it and every directory above lets that class of user through, so a
    file in a private directory (0700) is not reported.
    """
    if config.path is None:
        return None
    named = [p for p in config.pages.values() if p.auth in ("basic", "bearer", "password")]
    if not named:
        return None
    path = Path(config.path).resolve()
    try:
        mode = os.stat(path).st_mode & 0o777
        dirs = [os.stat(d).st_mode for d in path.parents]
    except OSError:
        return None
    who = []
    if mode & 0o040 and all(m & 0o011 for m in dirs):
        who.append("its group")
    if mode & 0o004 and all(m & 0o001 for m in dirs):
        who.append("other users")
    if not who:
        return None
    page = named[0]
    return (
        f"{config.path} names credentials (page {page.name!r}: auth = {page.auth!r}) and is "
        f"readable by {' and '.join(who)} (mode {mode:04o}); run: chmod 600 {config.path}"
    )


# --------------------------------------------------------------------------- loading


def find_config_file(
    explicit: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path | None:
    """Which file to read: explicit, then $WIKISYNC_CONFIG, then ./config.toml, else None."""
    env = os.environ if environ is None else environ
    if explicit is not None and str(explicit) != "":
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from --config)")
        return path
    from_env = env.get(ENV_VAR)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path} (from ${ENV_VAR})")
        return path
    local = (cwd or Path.cwd()) / DEFAULT_FILE
    return local if local.is_file() else None


def load_config(
    explicit: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Find and read the configuration (see the module docstring for the lookup order)."""
    path = find_config_file(explicit, environ=environ, cwd=cwd)
    if path is None:
        return Config(store_path=(cwd or Path.cwd()) / DEFAULT_STORE, pages={}, path=None)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    return loads_config(text, path=path)


def loads_config(text: str, *, path: Path | None = None) -> Config:
    """Parse and validate TOML text; ``path`` anchors relative paths and names the file."""
    import tomllib  # its regexes compile on import: only runs that read a config pay for it

    where = str(path) if path else "<config>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            msg = msg[: m.start()].strip()
            raise ConfigError(
                f"{where}:{m.group(1)}: invalid TOML: {msg} (line {m.group(1)}, "
                f"column {m.group(2)})"
            ) from None
        raise ConfigError(f"{where}: invalid TOML: {msg}") from None
    base_dir = path.resolve().parent if path else Path.cwd()
    return config_from_dict(data, base_dir=base_dir, path=path)


def config_from_dict(data: dict[str, Any], *, base_dir: Path, path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    _check_keys(data, _TOP_KEYS, "")
    store = _table(data, "store", "store")
    _check_keys(store, _STORE_KEYS, "store")
    store_rel = _opt_str(store, "path", "store") or DEFAULT_STORE
    store_path = _relative_to(base_dir, store_rel)

    raw_pages = data.get("page", [])
    if isinstance(raw_pages, dict):
        raw_pages = [raw_pages]
    if not isinstance(raw_pages, list):
        raise ConfigError("page: expected a list of [[page]] tables")
    pages: dict[str, PageConfig] = {}
    for i, raw in enumerate(raw_pages):
        key = f"page[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{key}: expected a table")
        page = _page(raw, key, base_dir)
        if page.name in pages:
            raise ConfigError(f"{key}.name: duplicate page name {page.name!r}")
        pages[page.name] = page
    raw_notify = data.get("notify", [])
    if isinstance(raw_notify, dict):
        raw_notify = [raw_notify]
    if not isinstance(raw_notify, list):
        raise ConfigError("notify: expected a list of [[notify]] tables")
    notify = tuple(_notify(raw, f"notify[{i}]") for i, raw in enumerate(raw_notify))
    raw_watch = data.get("watch", [])
    if isinstance(raw_watch, dict):
        raw_watch = [raw_watch]
    if not isinstance(raw_watch, list):
        raise ConfigError("watch: expected a list of [[watch]] tables")
    watches = tuple(_watch(raw, f"watch[{i}]", base_dir) for i, raw in enumerate(raw_watch))
    names = [w.name for w in watches]
    for w in watches:
        if names.count(w.name) > 1:
            raise ConfigError(f"watch: duplicate watch name {w.name!r}")
    fetch = _table(data, "fetch", "fetch")
    _check_keys(fetch, _FETCH_KEYS, "fetch")
    concurrency = fetch.get("concurrency", 4)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= 16
    ):
        raise ConfigError(
            f"fetch.concurrency: expected a whole number from 1 to 16, got {concurrency!r}"
        )
    return Config(
        store_path=store_path,
        pages=pages,
        path=path,
        notify=notify,
        watches=watches,
        concurrency=concurrency,
    )


def _watch(raw: Any, key: str, base_dir: Path) -> WatchConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a table")
    rest = dict(raw)
    cql = rest.pop("cql", None)
    if not isinstance(cql, str) or not cql.strip():
        raise ConfigError(
            f'{key}.cql: expected a CQL query (like \'space = "AC" and label = "roadmap"\')'
        )
    for k in ("page_id", "space", "title"):
        if k in rest:
            raise ConfigError(
                f"{key}.{k}: a watch finds its pages with cql; use [[page]] for one page"
            )
    if rest.get("api") == "mediawiki":
        raise ConfigError(f"{key}.api: a watch runs a Confluence CQL search; MediaWiki has none")
    if not isinstance(rest.get("base_url"), str):
        raise ConfigError(f"{key}.base_url: a watch needs the Confluence base_url")
    template = _page({**rest, "page_id": "1"}, key, base_dir)
    return WatchConfig(
        name=template.name, cql=cql.strip(), template=replace(template, page_id=None)
    )


def _notify(raw: Any, key: str) -> NotifyConfig:
    from wikisync.notify import FORMATS, NotifyConfig

    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a table")
    _check_keys(raw, _NOTIFY_KEYS, key)
    url = _opt_str(raw, "url", key)
    url_env = _opt_str(raw, "url_env", key)
    if (url is None) == (url_env is None):
        raise ConfigError(f"{key}: give url, or url_env naming a variable that holds it (one)")
    if url_env is not None:
        url_env = _env_name(raw, "url_env", key, "SLACK_URL")
    if url is not None and not re.match(r"[a-z][a-z0-9+.-]*://", url):
        raise ConfigError(f"{key}.url: expected an Apprise URL (scheme://…), got {url!r}")
    pages = raw.get("pages", ["*"])
    if isinstance(pages, str):
        pages = [pages]
    if not isinstance(pages, list) or not pages or not all(isinstance(p, str) for p in pages):
        raise ConfigError(f"{key}.pages: expected a list of page-name globs, got {_show(pages)}")
    report_url = _opt_str(raw, "report_url", key)
    if report_url is not None and not re.match(r"https?://[^/\s]+", report_url):
        raise ConfigError(f"{key}.report_url: expected an http(s):// URL, got {report_url!r}")
    return NotifyConfig(
        url=url,
        url_env=url_env,
        pages=tuple(pages),
        format=_choice(raw, "format", key, FORMATS),
        report_url=report_url,
    )


# --------------------------------------------------------------------------- validation


def _relative_to(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def _check_keys(d: dict[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    for k in d:
        key = f"{prefix}.{k}" if prefix else k
        if k.lower() in SECRET_KEYS:
            raise ConfigError(f"{key}: {_SECRET_MESSAGE}")
        if k not in allowed:
            raise ConfigError(f"{key}: unknown key (expected one of {', '.join(allowed)})")


def _table(d: dict[str, Any], k: str, key: str) -> dict[str, Any]:
    value = d.get(k, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _opt_str(d: dict[str, Any], k: str, prefix: str) -> str | None:
    value = d.get(k)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{prefix}.{k}: expected a string, got {_show(value)}")
    if not value.strip():
        raise ConfigError(f"{prefix}.{k}: must not be empty")
    return value


def _choice(d: dict[str, Any], k: str, prefix: str, choices: tuple[str, ...]) -> str:
    value = d.get(k, choices[0])
    if value not in choices:
        raise ConfigError(f"{prefix}.{k}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _env_name(d: dict[str, Any], k: str, prefix: str, default: str) -> str:
    value = _opt_str(d, k, prefix)
    if value is None:
        return default
    if not _ENV_NAME_RE.fullmatch(value):
        raise ConfigError(
            f"{prefix}.{k}: expected the name of an environment variable (like "
            f"{default}), got something else; {_SECRET_MESSAGE}"
        )
    return value


def _str_map(d: dict[str, Any], k: str, prefix: str) -> dict[str, str]:
    value = d.get(k, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{prefix}.{k}: expected a table of strings, got {_show(value)}")
    for name, v in value.items():
        if not isinstance(v, str):
            raise ConfigError(f"{prefix}.{k}.{name}: expected a string, got {_show(v)}")
    return dict(value)


def _page(raw: dict[str, Any], key: str, base_dir: Path) -> PageConfig:
    _check_keys(raw, _PAGE_KEYS, key)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{key}.name: expected a page name of letters, digits, '.', '_' and '-', got {name!r}"
        )

    base_url = _opt_str(raw, "base_url", key)
    if base_url is not None:
        if not re.match(r"https?://[^/\s]+", base_url):
            raise ConfigError(f"{key}.base_url: expected an http(s):// URL, got {base_url!r}")
        base_url = base_url.rstrip("/")

    page_id_raw = raw.get("page_id")
    if page_id_raw is None:
        page_id = None
    elif isinstance(page_id_raw, int) and not isinstance(page_id_raw, bool):
        page_id = str(page_id_raw)
    elif isinstance(page_id_raw, str) and page_id_raw.strip().isdigit():
        page_id = page_id_raw.strip()
    else:
        raise ConfigError(f"{key}.page_id: expected a numeric page id, got {page_id_raw!r}")
    space = _opt_str(raw, "space", key)
    title = _opt_str(raw, "title", key)
    api = _choice(raw, "api", key, API_CHOICES)
    auth = _choice(raw, "auth", key, AUTH_CHOICES)
    if api == "mediawiki":
        # A MediaWiki title is unique in its wiki: no space; page_id is the numeric pageid.
        if space is not None:
            raise ConfigError(f"{key}.space: a MediaWiki page is named by title alone")
        if base_url is not None and page_id is None and title is None:
            raise ConfigError(f"{key}.title: base_url is set, so give the page's title")
        if auth not in ("none", "password"):
            raise ConfigError(f"{key}.auth: a MediaWiki page takes none or password, not {auth!r}")
    elif auth == "password":
        raise ConfigError(f'{key}.auth: password is for api = "mediawiki" pages')
    if api != "mediawiki" and page_id is not None and (space is not None or title is not None):
        raise ConfigError(f"{key}.page_id: give page_id, or space and title, not both")
    if api != "mediawiki" and (space is None) != (title is None):
        missing = "title" if title is None else "space"
        raise ConfigError(f"{key}.{missing}: space and title go together")
    if api != "mediawiki" and base_url is not None and page_id is None and space is None:
        raise ConfigError(f"{key}.page_id: base_url is set, so give page_id or space and title")

    timeout = raw.get("timeout", 30.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{key}.timeout: expected a positive number of seconds, got {timeout!r}")
    retries = raw.get("retries", 4)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ConfigError(f"{key}.retries: expected a whole number from 0 to 10, got {retries!r}")

    parse_raw = _table(raw, "parse", f"{key}.parse")
    parse = _parse_options(parse_raw, f"{key}.parse")
    render_raw = _table(raw, "render", f"{key}.render")
    _check_keys(render_raw, _RENDER_KEYS, f"{key}.render")
    period_names = _str_map(render_raw, "period_names", f"{key}.render")
    template_rel = _opt_str(render_raw, "template_dir", f"{key}.render")
    template_dir = _relative_to(base_dir, template_rel) if template_rel else None

    return PageConfig(
        name=name,
        base_url=base_url,
        page_id=page_id,
        space=space,
        title=title,
        api=api,
        auth=auth,
        user_env=_env_name(raw, "user_env", key, "CONFLUENCE_USER"),
        token_env=_env_name(raw, "token_env", key, "CONFLUENCE_TOKEN"),
        timeout=float(timeout),
        retries=retries,
        parse=parse,
        period_names=period_names,
        template_dir=template_dir,
        history_heading=parse.history_heading,
    )


def _parse_options(d: dict[str, Any], prefix: str) -> ParseOptions:
    _check_keys(d, _PARSE_KEYS, prefix)
    defaults = ParseOptions()
    table_index = d.get("table_index")
    if table_index is not None and (
        isinstance(table_index, bool) or not isinstance(table_index, int) or table_index < 0
    ):
        raise ConfigError(f"{prefix}.table_index: expected a whole number ≥ 0, got {table_index!r}")
    backlog = d.get("backlog_words", list(defaults.backlog_words))
    if not isinstance(backlog, list) or not all(isinstance(w, str) and w for w in backlog):
        raise ConfigError(f"{prefix}.backlog_words: expected a list of words, got {backlog!r}")
    orientation = _choice(d, "orientation", prefix, ORIENTATION_CHOICES)
    max_bytes = d.get("max_bytes", defaults.max_bytes)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ConfigError(
            f"{prefix}.max_bytes: expected a whole number of bytes ≥ 0 (0 = no limit), "
            f"got {max_bytes!r}"
        )
    return ParseOptions(
        table_heading=_opt_str(d, "table_heading", prefix),
        table_index=table_index,
        table_header=_opt_str(d, "table_header", prefix),
        orientation=cast(Literal["auto", "rows", "columns"], orientation),
        period_aliases=_str_map(d, "period_aliases", prefix),
        backlog_words=tuple(w.lower() for w in backlog),
        history_heading=_opt_str(d, "history_heading", prefix) or defaults.history_heading,
        legend_heading=_opt_str(d, "legend_heading", prefix) or defaults.legend_heading,
        max_bytes=max_bytes,
        shape=_choice(d, "shape", prefix, SHAPE_CHOICES),
        key_column=_opt_str(d, "key_column", prefix),
    )
