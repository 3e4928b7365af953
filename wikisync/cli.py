"""The command line: a thin layer over the library.

Every command turns its arguments into library calls and prints what they return. Every error,
usage errors included, is one line ``wikisync: error: …`` on stderr (with the usage line after
it for usage errors, as git does) and exit code 2; nothing prints a traceback. Global options
(``--config``, ``--store``, ``-v``, ``-q``, ``--no-pager``, ``--color``) work before or after the
command name. Turning arguments into documents and page names is :mod:`wikisync.sources`' job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from wikisync import __version__, logsetup
from wikisync._record import record
from wikisync.config import Config, PageConfig, credentials_warning, load_config
from wikisync.diff import changesets, diff_roadmaps
from wikisync.errors import WikisyncError
from wikisync.model import ChangeSet, Document, Roadmap, VersionRef
from wikisync.parse import parse_document
from wikisync.progress import show_waits, suspend_waits
from wikisync.render import RenderOptions, render_changes, render_history, render_roadmap
from wikisync.safe import safe_text
from wikisync.sources import Sources, did_you_mean
from wikisync.terminal import COLOR_CHOICES, colour_history, colour_wanted, red, start_pager

if TYPE_CHECKING:
    from wikisync.store import Store  # imported on first use: a diff of two files needs none
    from wikisync.sync import BackfillResult

# wikisync.sync (requests, the REST client) is imported inside the commands that talk to a
# wiki, so offline commands (parse, diff of files, history) start without it.


CHANGE_FORMATS = ("text", "markdown", "confluence", "wiki", "json")
DIFF_FORMATS = (*CHANGE_FORMATS, "html")
ROADMAP_FORMATS = ("table", "json", "csv")


def _error_line(message: str) -> str:
    prefix = "wikisync: error:"
    if colour_wanted(sys.stderr):
        prefix = red(prefix)
    return f"{prefix} {safe_text(' '.join(message.split()))}"


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(_error_line(message), err=True)
    raise SystemExit(code)


# Adding a command: put its logic in a library module, then a thin click command at the end of
# this file. A command about one page takes ``@_page_argument`` and ``@_page_option()`` and
# resolves them with ``app.page(name, page)`` (``live=True`` when it fetches); its docstring
# has a one-line summary and an ``Examples:`` block (tests/test_cli_consistent.py checks both).

#: Commands that talk to the wiki; every other command is offline (files, stdin, the store).
#: A new command that fetches adds its name here to be listed with them in ``--help``.
LIVE_COMMANDS = {"fetch", "sync", "backfill", "publish", "notify"}
#: Commands whose output can be long: paged on a terminal (``--no-pager`` turns it off).
PAGED_COMMANDS = {"parse", "diff", "log", "history", "audit", "fetch", "stats", "pages"}

#: Global options and whether they take a value; they may also follow the command name.
_GLOBAL_OPTIONS = {
    "--config": True,
    "--store": True,
    "--color": True,
    "--verbose": False,
    "--quiet": False,
    "--no-pager": False,
    "--debug": False,
}
_SHORT_GLOBALS = set("vq")

REFERENCE_HELP = """\b
References (wherever a SOURCE, OLD or NEW is taken):
  NAME, NAME@latest     the newest stored version of page NAME
  NAME@latest~1         the one before it (~2, ~3, ...)
  NAME@v30              version 30
  NAME@2021-02-10       the version in force on that date (or a full ISO datetime)
  NAME@<id or hash>     one snapshot by its id, or 6+ hex digits of its hash
  A..B                  two references in one: NAME@v5..v7, NAME@v5.. (to the latest)
  live, NAME@live       the page on the wiki now
  FILE, -, URL          a saved page or REST response, standard input, any web page

\b
Shell completion (pages and references):
  eval "$(_WIKISYNC_COMPLETE=bash_source wikisync)"   # in ~/.bashrc
  eval "$(_WIKISYNC_COMPLETE=zsh_source wikisync)"    # in ~/.zshrc
  _WIKISYNC_COMPLETE=fish_source wikisync | source    # in fish
"""


def _is_global(arg: str) -> bool:
    name = arg.split("=", 1)[0]
    if name in _GLOBAL_OPTIONS:
        return True
    return len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= _SHORT_GLOBALS


def hoist_globals(args: Sequence[str]) -> list[str]:
    """Move global options written after the command name in front of it (git-style).

    Stops at ``--``; a value of ``--config``/``--store`` travels with its option.
    """
    args = list(args)
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        takes_value = _GLOBAL_OPTIONS.get(args[i], False)
        i += 2 if takes_value else 1
    if i >= len(args) or args[i] == "--":
        return args
    moved: list[str] = []
    kept: list[str] = []
    j = i + 1
    while j < len(args):
        arg = args[j]
        if arg == "--":
            kept.extend(args[j:])
            break
        if _is_global(arg):
            moved.append(arg)
            if _GLOBAL_OPTIONS.get(arg, False) and j + 1 < len(args):
                moved.append(args[j + 1])
                j += 1
        else:
            kept.append(arg)
        j += 1
    return [*args[:i], *moved, args[i], *kept]


class _NeverRaised(click.UsageError):
    """Stands in for NoArgsIsHelpError on a click that prints a bare group's help itself."""


#: click ≥ 8.2 raises this for a bare `wikisync`.
_NO_ARGS: type[click.UsageError] = getattr(click.exceptions, "NoArgsIsHelpError", _NeverRaised)


class _Group(click.Group):
    """One error style for everything; global options anywhere; commands listed by kind."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            rv = super().main(hoist_globals(argv), standalone_mode=False, **extra)
        except _NO_ARGS as exc:  # bare `wikisync`: the help, as `git` alone prints its usage
            click.echo(exc.ctx.get_help() if exc.ctx is not None else "")
            raise SystemExit(1) from None
        except click.UsageError as exc:
            click.echo(_error_line(_lower_first(exc.format_message())), err=True)
            if exc.ctx is not None:
                usage = exc.ctx.get_usage().replace("Usage: ", "usage: ", 1)
                click.echo(usage, err=True)
            raise SystemExit(2) from None
        except click.ClickException as exc:
            click.echo(_error_line(_lower_first(exc.format_message())), err=True)
            raise SystemExit(2 if exc.exit_code == 1 else exc.exit_code) from None
        except click.Abort:
            _fail("interrupted", 130)
        raise SystemExit(rv if isinstance(rv, int) else 0)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if args and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            hint = did_you_mean(name, self.list_commands(ctx))
            raise click.UsageError(f"unknown command {name!r}{hint}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[bool, list[tuple[str, str]]] = {False: [], True: []}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows[name in LIVE_COMMANDS].append((name, cmd.get_short_help_str(limit=200)))
        for live, title in (
            (False, "Offline commands (files, standard input, the snapshot store)"),
            (True, "Live commands (talk to the wiki)"),
        ):
            if rows[live]:
                with formatter.section(title):
                    formatter.write_dl(rows[live])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WikisyncError as exc:
            _fail(str(exc), exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SystemExit:
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            # `wikisync history | head`: the reader left; say nothing, like any Unix filter.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(141) from None
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except Exception as exc:
            if ctx.obj is not None and getattr(ctx.obj, "debug", False):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


@record()
class App:
    """What every command needs, built lazily so `--help` never reads a config or a store."""

    config_path: str | None
    store_override: str | None
    debug: bool = False
    quiet: bool = False
    colour: bool = False
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(Path(self.config_path) if self.config_path else None)
            warning = credentials_warning(self._config)  # once per run: the config is cached
            if warning:
                click.echo(f"wikisync: warning: {warning}", err=True)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            root = Path(self.store_override) if self.store_override else self.config.store_path
            from wikisync.store import Store

            self._store = Store(root)
        return self._store

    @property
    def sources(self) -> Sources:
        """Where arguments become documents, roadmaps and page names."""
        return Sources(self.config, lambda: self.store, sys.stdin.buffer)

    def page(self, name: str | None, option: str | None = None, *, live: bool = False) -> str:
        """The page of a one-page command: NAME, --page NAME, else the only one."""
        return self.sources.page(name, option, live=live)

    def render_options(self, page: str | None) -> RenderOptions:
        return self.sources.render_options(page)

    def note(self, message: str) -> None:
        """A hint for the person at the terminal, on stderr; -q silences it."""
        if not self.quiet:
            click.echo(f"wikisync: {message}", err=True)

    def echo_changes(self, text: str, fmt: str) -> None:
        """Change History text, coloured on a terminal."""
        if self.colour and fmt == "text":
            text = colour_history(text)
        click.echo(text, nl=False)


def _app_from(ctx: click.Context) -> App:
    """The App during shell completion, where the group callback has not run."""
    root = ctx.find_root()
    if isinstance(root.obj, App):
        return root.obj
    return App(root.params.get("config_path"), root.params.get("store_path"))


def complete_page(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Page names: configured and stored."""
    from click.shell_completion import CompletionItem  # only when completing: 2 M instructions

    try:
        pages = _app_from(ctx).sources.known_pages()
    except WikisyncError:
        return []
    return [CompletionItem(p) for p in pages if p.startswith(incomplete)]


def complete_source(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """References (NAME@latest, NAME@latest~1, NAME@vN, NAME@live), then files."""
    from click.shell_completion import CompletionItem

    try:
        app = _app_from(ctx)
        found: list[str] = []
        for page in app.sources.known_pages():
            if "@" not in incomplete and page.startswith(incomplete):
                found.append(page)
            if not incomplete.startswith(f"{page}@") and incomplete != page:
                continue
            found += [f"{page}@latest", f"{page}@latest~1", f"{page}@live"]
            if page in app.store.pages():
                snaps = app.store.snapshots(page)
                found += [f"{page}@v{s.version}" for s in reversed(snaps) if s.version]
        items: list[Any] = [CompletionItem(r) for r in found if r.startswith(incomplete)]
    except WikisyncError:
        items = []
    if "@" not in incomplete:
        items.append(CompletionItem(incomplete, type="file"))
    return items


def _page_argument(f: Any) -> Any:
    """NAME: the page a one-page command is about (``--page NAME`` works too)."""
    return click.argument("name", required=False, shell_complete=complete_page)(f)


def _page_option(help_: str = "The page (same as NAME; scripts use it).") -> Any:
    return click.option("--page", "page", metavar="NAME", help=help_, shell_complete=complete_page)


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _entry_date(explicit: str | None, newer: VersionRef) -> str:
    if explicit:
        try:
            return dt.date.fromisoformat(explicit).isoformat()
        except ValueError:
            raise WikisyncError(f"--date: not an ISO date (YYYY-MM-DD): {explicit!r}") from None
    if newer.when:
        return newer.when[:10]
    return _today()


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=REFERENCE_HELP,
)
@click.option(
    "--config",
    "config_path",
    envvar="WIKISYNC_CONFIG",
    metavar="PATH",
    help="Config file (default: $WIKISYNC_CONFIG, else ./config.toml if present).",
)
@click.option(
    "--store", "store_path", metavar="DIR", help="Snapshot store (overrides [store].path)."
)
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors (for cron).")
@click.option("--no-pager", is_flag=True, help="Never page long output on a terminal.")
@click.option(
    "--color",
    "color",
    type=click.Choice(COLOR_CHOICES),
    default="auto",
    show_default=True,
    help="Colour: on a terminal unless NO_COLOR is set (auto), always or never.",
)
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of internal errors.")
@click.version_option(__version__, prog_name="wikisync")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    store_path: str | None,
    verbose: int,
    quiet: bool,
    no_pager: bool,
    color: str,
    debug: bool,
) -> None:
    """Keep a wiki roadmap honest: parse, snapshot, diff and write its Change History.

    Global options work before or after the command name. A command about one page takes the
    page as NAME (or --page NAME), and needs neither when the config has exactly one page.

    \b
    Examples:
      wikisync history openedx-roadmap-example
      wikisync diff openedx-roadmap-example@v5..v6 --format markdown
      wikisync sync --quiet --exit-code
    """
    if verbose or ctx.invoked_subcommand in LIVE_COMMANDS:
        logsetup.configure(verbose)
    else:  # offline: no logging import unless a module that logs is loaded (NAME@live, a URL)
        logsetup.defer(verbose)
    show_waits()  # a spinner for requests over a second, on a terminal's stderr only
    colour = colour_wanted(sys.stdout, color)
    ctx.color = colour  # click.echo keeps (or strips) ANSI codes by this, also into a pager
    ctx.obj = App(
        config_path=config_path,
        store_override=store_path,
        debug=debug,
        quiet=quiet,
        colour=colour,
    )
    if ctx.invoked_subcommand in PAGED_COMMANDS and not no_pager:
        pager = start_pager()
        if pager is not None:
            ctx.call_on_close(pager.close)


_FORMAT_CHANGES = click.option(
    "--format",
    "fmt",
    type=click.Choice(CHANGE_FORMATS),
    default="text",
    show_default=True,
    help="wiki is Confluence wiki markup (Insert → Markup); confluence is storage XHTML.",
)


@cli.command("parse")
@click.argument("source", shell_complete=complete_source)
@click.option(
    "--format", "fmt", type=click.Choice(ROADMAP_FORMATS), default="table", show_default=True
)
@_page_option("Use this configured page's parser options.")
@click.pass_obj
def parse_cmd(app: App, source: str, fmt: str, page: str | None) -> None:
    """Print the roadmap of SOURCE: a file, -, a URL, live or a reference.

    \b
    Examples:
      wikisync parse tests/data/openedx/v7.storage.html
      wikisync parse openedx-roadmap-example@v3 --format csv
      curl -s https://example.org/roadmap.html | wikisync parse -
    """
    side = app.sources.side(source, page)
    click.echo(render_roadmap(side.roadmap, fmt), nl=False)


@cli.command("diff")
@click.argument("old", required=False, shell_complete=complete_source)
@click.argument("new", required=False, shell_complete=complete_source)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DIFF_FORMATS),
    default="text",
    show_default=True,
    help="wiki is Confluence wiki markup (Insert → Markup); confluence is storage XHTML; html "
    "draws the new grid with every change marked.",
)
@click.option(
    "-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output."
)
@click.option(
    "--date", "date", metavar="YYYY-MM-DD", help="Date of the entry (default: NEW's date)."
)
@_page_option("Use this configured page's options for files.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes (like git diff).")
@click.pass_obj
def diff_cmd(
    app: App,
    old: str | None,
    new: str | None,
    fmt: str,
    date: str | None,
    page: str | None,
    exit_code: bool,
    output: str | None,
) -> None:
    """Write the Change History entry for the edit from OLD to NEW (--format html: the new
    grid with every change marked in place, one self-contained page).

    Like git diff: no argument compares the latest snapshot with the live page (what your
    edit changed); one compares OLD with the live page, or takes A..B; two compare OLD with
    NEW. No changes prints nothing (JSON still prints its document).

    \b
    Examples:
      wikisync diff openedx-roadmap-example@v5 openedx-roadmap-example@v6
      wikisync diff openedx-roadmap-example@latest~1.. --format markdown
      wikisync diff --exit-code            # after saving the page: what did I change?
    """
    old, new = app.sources.pair(old, new, page)
    a, b = app.sources.sides(old, new, page, history=False)  # the entry is new: no old ones
    changes = diff_roadmaps(a.roadmap, b.roadmap)
    cs = ChangeSet(
        old=a.ref,
        new=b.ref,
        changes=changes,
        date=_entry_date(date, b.ref),
        old_roadmap=a.roadmap,
        new_roadmap=b.roadmap,
    )
    options = app.render_options(page or b.page or a.page)
    if fmt == "html":
        from wikisync.render.html import render_diff_html

        text = render_diff_html(cs, options)
        if output is not None:
            from wikisync.report import write_text

            write_text(Path(output), text)
        else:
            click.echo(text, nl=False)
    elif changes or fmt == "json":
        text = render_changes(cs, fmt, options)
        if output is not None:
            from wikisync.report import write_text

            write_text(Path(output), text)
        else:
            app.echo_changes(text, fmt)
    if exit_code and changes:
        raise SystemExit(1)


@cli.command("snapshot")
@click.argument("source", shell_complete=complete_source)
@_page_option("Page name in the store (default: the only configured page).")
@click.option("--at", "at", metavar="ISO-DATETIME", help="When this version was saved.")
@click.option("--version", "version", type=click.IntRange(min=1), help="Its version number.")
@click.option("--author", "author", metavar="NAME", help="Who saved this version.")
@click.option("--message", "message", metavar="TEXT", help="The version message.")
@click.pass_obj
def snapshot_cmd(
    app: App,
    source: str,
    page: str | None,
    at: str | None,
    version: int | None,
    author: str | None,
    message: str | None,
) -> None:
    """Store one version of a page under snapshots/NAME/ (an identical body is a no-op).

    \b
    Examples:
      wikisync snapshot saved-page.html --page team-roadmap --version 12
      wikisync snapshot - --page team-roadmap --at 2021-02-10 < export.html
    """
    page = page or app.page(None)
    doc = app.sources.document(source, page)
    meta = doc.meta
    if at is not None:
        meta = replace(meta, when=_iso_datetime(at))
    if version is not None:
        meta = replace(meta, version=version)
    if author is not None:
        meta = replace(meta, author=author)
    if message is not None:
        meta = replace(meta, message=message)
    doc = Document(bodies=doc.bodies, meta=meta)
    roadmap = app.sources.parse(doc, page, label=source)
    private = app.config.page_or_default(page).auth != "none"  # fetched with credentials
    with app.store.lock():
        snap, created = app.store.put(page, doc, roadmap, private=private)
    what = "stored" if created else "unchanged, already stored as"
    click.echo(f"{what} {snap.page}@{snap.id} ({len(roadmap.items)} cards)")


def _iso_datetime(value: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WikisyncError(f"--at: not an ISO date or datetime: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@cli.command("log")
@_page_argument
@_page_option()
@click.option(
    "--card", metavar="TEXT", help="The history of the card(s) any of whose titles match TEXT."
)
@click.pass_obj
def log_cmd(app: App, name: str | None, page: str | None, card: str | None) -> None:
    """List the stored versions of a page, newest first; with --card, one card's history.

    --card TEXT follows a card through every stored version (renames and replacements
    included), like git log -- path: TEXT matches any title the card ever had.

    \b
    Examples:
      wikisync log openedx-roadmap-example
      wikisync log openedx-roadmap-example --card "conventional commits"
    """
    page = app.page(name, page)
    if card is not None:
        from wikisync.lineage import find_cards, render_log

        lineages = _lineages(app, page)
        click.echo(render_log(lineages, find_cards(lineages, card, page)), nl=False)
        return
    snaps = app.store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {app.store.root}")
    rows = []
    for snap in reversed(snaps):
        roadmap = app.store.roadmap(snap)
        rows.append(
            (
                f"v{snap.version}" if snap.version is not None else "-",
                snap.when or "-",
                f"{len(roadmap.items)} cards",
                safe_text(snap.author or "-"),
                snap.id,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])


@cli.command("history")
@_page_argument
@_page_option()
@_FORMAT_CHANGES
@click.pass_obj
def history_cmd(app: App, name: str | None, page: str | None, fmt: str) -> None:
    """Regenerate the whole Change History across every stored version, newest first.

    \b
    Examples:
      wikisync history openedx-roadmap-example
      wikisync history openedx-roadmap-example --format markdown > HISTORY.md
      wikisync history openedx-roadmap-example --format wiki
    """
    page = app.page(name, page)
    snaps = app.store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {app.store.root}")
    if len(snaps) == 1:
        only = f"v{snaps[0].version}" if snaps[0].version is not None else snaps[0].id
        app.note(
            f"{page} has one stored version ({only}): no change to show yet; "
            f"`wikisync backfill {page}` stores its earlier versions"
        )
    walk = changesets(snaps, app.store.roadmaps(snaps), undated=_today())
    newest_first = [cs for _old, _new, cs in walk][::-1]
    if any(cs.changes for cs in newest_first) or fmt == "json":
        app.echo_changes(render_history(newest_first, fmt, app.render_options(page)), fmt)


@cli.command("reparse")
@click.argument("names", nargs=-1, metavar="[NAME]...", shell_complete=complete_page)
@click.option("--page", "pages", multiple=True, metavar="NAME", help="Only these pages.")
@click.pass_obj
def reparse_cmd(app: App, names: tuple[str, ...], pages: tuple[str, ...]) -> None:
    """Re-derive every stored roadmap from its raw body with the current parser.

    \b
    Examples:
      wikisync reparse
      wikisync reparse openedx-roadmap-example
    """
    chosen = [app.page(n) for n in (*names, *pages)] or app.store.pages()
    with app.store.lock():
        for name in chosen:
            options = app.config.page_or_default(name).parse

            def _parse(doc: Document, options: Any = options) -> Roadmap:
                return parse_document(doc, options)

            count = app.store.reparse(name, _parse)
            total = len(app.store.snapshots(name))
            click.echo(f"{name}: {count} of {total} roadmaps changed")


# --------------------------------------------------------------------------- live pages


@cli.command("fetch")
@_page_argument
@_page_option()
@click.option("--version", "version", type=click.IntRange(min=1), help="An older version number.")
@click.option(
    "--format", "fmt", type=click.Choice(ROADMAP_FORMATS), default="table", show_default=True
)
@click.pass_obj
def fetch_cmd(app: App, name: str | None, page: str | None, version: int | None, fmt: str) -> None:
    """Print the parsed roadmap of the live page (current, or --version N).

    \b
    Examples:
      wikisync fetch openedx-roadmap
      wikisync fetch openedx-roadmap --version 3 --format csv
    """
    from wikisync.sync import fetch_document

    cfg = app.sources.live_page(app.page(name, page, live=True))
    doc = fetch_document(cfg, version=version)
    label = f"{cfg.name}@v{version}" if version else f"{cfg.name}@live"
    click.echo(render_roadmap(app.sources.parse(doc, cfg.name, label=label), fmt), nl=False)


@cli.command("sync")
@click.argument("names", nargs=-1, metavar="[NAME]...", shell_complete=complete_page)
@click.option(
    "--page", "pages", multiple=True, metavar="NAME", help="Only these pages (repeatable)."
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the roadmap changed.")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another run's lock instead of failing at once.",
)
@click.option(
    "--publish", "publish_", is_flag=True, help="Also put each new entry into the page itself."
)
@click.option("--yes", is_flag=True, help="With --publish: really write (default: a dry run).")
@click.pass_obj
def sync_cmd(
    app: App,
    names: tuple[str, ...],
    pages: tuple[str, ...],
    exit_code: bool,
    wait: float,
    publish_: bool,
    yes: bool,
) -> None:
    """Snapshot each live page that changed and append its entry to snapshots/NAME/CHANGELOG.md.

    Asks only for the current version number when nothing changed. Exit 0 on success, 1 with
    --exit-code when a roadmap changed, 2 when any page failed (the others are still synced).

    \b
    Examples:
      wikisync sync
      wikisync sync --quiet --wait 60      # from cron
      wikisync sync openedx-roadmap --publish --yes
    """
    from wikisync.notify import resolve_targets
    from wikisync.sync import deliver_notifications, store_lock, sync_pages
    from wikisync.watch import pages_to_sync

    quiet = app.quiet
    config = app.config
    targets = resolve_targets(config.notify)
    failed = changed = False
    with store_lock(app.store, wait):
        found = pages_to_sync(app.store, config, (*names, *pages), resolve=app.sources.live_page)
        for note in [] if quiet else found.notes:
            click.echo(note)
        for error in found.errors:
            failed = True
            click.echo(_error_line(error), err=True)
        cfgs = found.pages
        for cfg, result in zip(
            cfgs,
            sync_pages(app.store, cfgs, concurrency=config.concurrency, targets=targets),
            strict=True,
        ):
            if not quiet and result.note:
                click.echo(result.note)
            for entry in result.entries:
                if entry.text:
                    click.echo(entry.header)
                    click.echo(entry.text)
            if publish_ and result.error is None and result.changed:
                try:
                    _publish_one(app, cfg, yes=yes, create_section=False, quiet=quiet)
                except WikisyncError as exc:
                    result.error = f"{cfg.name}: publish: {exc}"
            if result.error is not None:
                failed = True
                click.echo(_error_line(result.error), err=True)
            changed = changed or result.changed
        if targets:
            warning = deliver_notifications(app.store, targets)
            if warning:
                click.echo(f"wikisync: warning: {warning}", err=True)
    if failed:
        raise SystemExit(2)
    if exit_code and changed:
        raise SystemExit(1)


@cli.command("backfill")
@_page_argument
@_page_option()
@click.option("--from", "start", type=click.IntRange(min=1), help="First version to fetch.")
@click.option("--to", "end", type=click.IntRange(min=1), help="Last version to fetch.")
@click.option(
    "--jobs", type=click.IntRange(1, 16), default=4, show_default=True, help="Parallel fetches."
)
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS")
@click.option("--all", "all_", is_flag=True, help="Every configured and watched page.")
@click.pass_obj
def backfill_cmd(
    app: App,
    name: str | None,
    page: str | None,
    start: int | None,
    end: int | None,
    jobs: int,
    wait: float,
    all_: bool,
) -> None:
    """Store every historical version of a page that is not stored yet (resumable).

    Writes no CHANGELOG entries: `wikisync history NAME` regenerates them all. --all backfills
    every configured page and every page a [[watch]] finds.

    \b
    Examples:
      wikisync backfill openedx-roadmap
      wikisync backfill openedx-roadmap --from 20 --to 40 --jobs 2
      wikisync backfill --all
    """
    from wikisync.sync import store_lock
    from wikisync.watch import pages_to_sync

    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")
    failed = False
    with store_lock(app.store, wait):
        if all_:
            found = pages_to_sync(app.store, app.config, (), resolve=app.sources.live_page)
            for note in [] if app.quiet else found.notes:
                click.echo(note)
            for error in found.errors:
                failed = True
                click.echo(_error_line(error), err=True)
            cfgs = found.pages
        elif name or page:
            wanted = [app.page(name, page)]
            cfgs = pages_to_sync(app.store, app.config, wanted, resolve=app.sources.live_page).pages
        else:
            cfgs = [app.sources.live_page(app.page(name, page, live=True))]
        for cfg in cfgs:
            try:
                click.echo(_backfill_one(app, cfg, start, end, jobs).summary())
            except WikisyncError as exc:
                if not all_:
                    raise
                failed = True
                click.echo(_error_line(f"{cfg.name}: {exc}"), err=True)
    if failed:
        raise SystemExit(2)


def _backfill_one(
    app: App, cfg: PageConfig, start: int | None, end: int | None, jobs: int
) -> BackfillResult:
    from wikisync.sync import backfill, client_for

    client_for(cfg).close()  # missing credentials fail here, before the pool
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if not sys.stderr.isatty() or total == 0:
                return
            bar = click.progressbar(length=total, label=cfg.name, file=sys.stderr, show_pos=True)
            quiet_spinner.enter_context(suspend_waits())  # the bar owns the line now
            bar.__enter__()
        bar.update(done - bar.pos)

    quiet_spinner = contextlib.ExitStack()
    try:
        with quiet_spinner:
            return backfill(app.store, cfg, start=start, end=end, jobs=jobs, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _publish_one(app: App, cfg: PageConfig, *, yes: bool, create_section: bool, quiet: bool) -> str:
    from wikisync.publish import left_out_lines
    from wikisync.sync import publish_page

    outcome = publish_page(app.store, cfg, dry_run=not yes, create_section=create_section)
    result = outcome.result
    plan = result.plan
    if result.status == "dry-run" and plan is not None and not quiet:
        published = plan.changeset or outcome.changeset
        if published is not None:
            click.echo(render_changes(published, "text", app.render_options(cfg.name)))
        click.echo(plan.diff, nl=False)
    if plan is not None and not quiet:
        for line in left_out_lines(plan):
            click.echo(line)
    if not quiet or result.status == "published":
        click.echo(f"{cfg.name}: {result.message}")
    if result.status == "dry-run" and not quiet:
        click.echo("(dry run: nothing was written; add --yes to publish)")
    return result.status


@cli.command("publish")
@_page_argument
@_page_option()
@click.option("--yes", is_flag=True, help="Really write the page (default: a dry run).")
@click.option(
    "--create-section",
    is_flag=True,
    help="Add a Change History section at the end of the page when it has none.",
)
@click.pass_obj
def publish_cmd(
    app: App, name: str | None, page: str | None, yes: bool, create_section: bool
) -> None:
    """Put the Change History entry of the latest edit at the top of the page's own history.

    The entry covers the live version against the newest stored version older than it. A dry
    run by default: shows the entry and the diff of the page body; --yes writes it as the
    version read + 1 (a minor edit), never over someone else's edit.

    \b
    Examples:
      wikisync publish openedx-roadmap          # dry run: the entry and the body diff
      wikisync publish openedx-roadmap --yes
    """
    cfg = app.sources.live_page(app.page(name, page, live=True))
    _publish_one(app, cfg, yes=yes, create_section=create_section, quiet=app.quiet)


@cli.command("audit")
@_page_argument
@_page_option()
@click.option("--since", metavar="YYYY-MM-DD", help="Only entries and changes from this day on.")
@click.option(
    "--history-from",
    metavar="REF",
    help="The snapshot whose written Change History is audited (default: the latest).",
)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "markdown", "json")), default="text",
    show_default=True,
)  # fmt: skip
@click.option(
    "--fail-on",
    "fail_on",
    default="inaccurate,not-found",
    show_default=True,
    metavar="LIST",
    help="Exit 1 when any of these occur: inaccurate, not-found, undocumented, unverifiable "
    "(comma-separated), all, or none.",
)
@click.pass_obj
def audit_cmd(
    app: App,
    name: str | None,
    page: str | None,
    since: str | None,
    history_from: str | None,
    fmt: str,
    fail_on: str,
) -> None:
    """Check the page's hand-written Change History against what really changed.

    Exit 0 when the gate passes, 1 when a status named by --fail-on occurs, 3 when the audit
    verified nothing (no written entry could be checked against stored versions), 2 on error.

    \b
    Examples:
      wikisync audit openedx-roadmap-example
      wikisync audit openedx-roadmap-example --fail-on all --format json
    """
    from wikisync.audit import audit_page, gate, parse_fail_on, render_audit

    gates = parse_fail_on(fail_on)
    page = app.page(name, page)
    report = audit_page(app.store, page, since=since, history_from=history_from)
    click.echo(render_audit(report, fmt), nl=False)
    result = gate(report, gates)
    if result.reason:
        click.echo(f"wikisync: {result.reason}", err=True)
    if result.code:
        raise SystemExit(result.code)


@cli.command("report")
@_page_argument
@_page_option()
@click.option(
    "--out", "out", required=True, metavar="DIR", help="The site's directory (made if missing)."
)
@click.pass_obj
def report_cmd(app: App, name: str | None, page: str | None, out: str) -> None:
    """Write a static report site of a stored page: the current grid, every change, history.

    DIR gets index.html (the current grid with the latest change marked, every stored version,
    the slippage chart), one diff page per change, history.html, and cards.html (every card's
    history; each card on every grid links to it). Regenerated in place: only files whose bytes
    changed are rewritten, so it suits cron followed by rsync or a git push.

    \b
    Examples:
      wikisync report openedx-roadmap-example --out site
      wikisync report --page openedx-roadmap-example --out /var/www/roadmap   # cron, rsync
    """
    from wikisync.report import slippage_extras, write_report

    page = app.page(name, page)
    options = app.render_options(page)
    result = write_report(app.store, page, Path(out), options, extras=slippage_extras)
    click.echo(result.summary(Path(out)))


@cli.command("notify")
@click.option("--test", "test", is_flag=True, help="Send a test message to every [[notify]] url.")
@click.option("--pending", is_flag=True, help="List the queued notifications.")
@click.pass_obj
def notify_cmd(app: App, test: bool, pending: bool) -> None:
    """Check the notification channels, or list what is queued for them.

    Sync queues one message per page and channel when it stores roadmap changes, and delivers
    the queue at the end of every run; a channel that is down keeps its messages queued.

    \b
    Examples:
      wikisync notify --test       # one test message to each channel
      wikisync notify --pending    # what waits for a channel that was down
    """
    from wikisync.notify import Outbox, apprise_send, resolve_targets

    if test == pending:
        raise click.UsageError("give --test or --pending")
    targets = resolve_targets(app.config.notify)
    if pending:
        labels = {t.key: t.label for t in targets}
        for item in Outbox(app.store.root).pending():
            label = labels.get(item.target, "(a channel no longer configured)")
            click.echo(f"{item.message.date}  {item.message.page}  {label}  {item.message.pair}")
        return
    if not targets:
        raise WikisyncError("no [[notify]] channel is configured")
    failed = 0
    for t in targets:
        ok = apprise_send(t, "wikisync test", "wikisync can reach this channel.\n")
        click.echo(f"{t.label}: {'sent' if ok else 'FAILED'}")
        failed += not ok
    if failed:
        raise SystemExit(2)


@cli.command("pages")
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
@click.pass_obj
def pages_cmd(app: App, fmt: str) -> None:
    """List every configured and discovered page with what the store holds of it.

    Discovered pages ([[watch]]) are listed from what the last sync found: no request is sent.

    \b
    Examples:
      wikisync pages
      wikisync pages --format json | jq '.pages[].name'
    """
    from wikisync.pages import list_pages, render_pages

    click.echo(render_pages(list_pages(app.store, app.config), fmt), nl=False)


def _lineages(app: App, page: str) -> Any:
    """Every card's lineage across the stored versions of PAGE, in the store's order."""
    from wikisync.lineage import Version, build_lineages

    snaps = app.store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {app.store.root}")
    roadmaps = app.store.roadmaps(snaps)
    return build_lineages(Version.of(s, r) for s, r in zip(snaps, roadmaps, strict=True))


@cli.command("stats")
@_page_argument
@_page_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv", "svg")),
    default="table",
    show_default=True,
)
@click.option("--since", metavar="YYYY-MM-DD", help="Count only what happened from this day on.")
@click.pass_obj
def stats_cmd(app: App, name: str | None, page: str | None, fmt: str, since: str | None) -> None:
    """How reliable is the roadmap: each card's deferrals and periods slipped.

    Per card, per lane and per organisation, as a table (the most deferred first), JSON
    (wikisync.stats/1), CSV (one row per card) or an SVG chart of slippage over time.

    \b
    Examples:
      wikisync stats openedx-roadmap-example
      wikisync stats openedx-roadmap-example --format svg > slippage.svg
      wikisync stats openedx-roadmap-example --format json --since 2021-01-01
    """
    from wikisync.stats import compute_stats, render_stats

    page = app.page(name, page)
    stats = compute_stats(_lineages(app, page), page, since)
    click.echo(render_stats(stats, fmt), nl=False)


def main() -> None:
    cli(prog_name="wikisync")
