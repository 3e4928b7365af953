"""The command line: a thin layer over the library.

Every command turns its arguments into library calls and prints what they return. Every
``WikisyncError`` becomes one line on stderr and exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import click

from wikisync import __version__
from wikisync.config import Config, load_config
from wikisync.diff import diff_roadmaps
from wikisync.errors import ParseError, WikisyncError
from wikisync.model import ChangeSet, Document, Roadmap, VersionRef
from wikisync.parse import parse_document
from wikisync.render import RenderOptions, render_changes, render_history, render_roadmap
from wikisync.sources import load_source
from wikisync.store import Snapshot, Store

log = logging.getLogger("wikisync")

CHANGE_FORMATS = ("text", "markdown", "confluence", "json")
ROADMAP_FORMATS = ("table", "json", "csv")


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"wikisync: error: {' '.join(message.split())}", err=True)
    raise SystemExit(code)


class _Group(click.Group):
    """Turns every error into one line and exit code 2."""

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
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except Exception as exc:
            if ctx.obj is not None and getattr(ctx.obj, "debug", False):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")


@dataclass
class App:
    """What every command needs, built lazily so `--help` never reads a config or a store."""

    config_path: str | None
    store_override: str | None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(Path(self.config_path) if self.config_path else None)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            root = Path(self.store_override) if self.store_override else self.config.store_path
            self._store = Store(root)
        return self._store

    def parse(self, doc: Document, page: str | None, *, label: str | None = None) -> Roadmap:
        """Parse with the page's configured options; errors name the input they came from."""
        options = self.config.page_or_default(page).parse if page else None
        try:
            return parse_document(doc, options)
        except ParseError as exc:
            if not label or str(exc).startswith(label):
                raise
            where = "standard input" if label == "-" else label
            raise ParseError(f"{where}: {exc}") from None

    def render_options(self, page: str | None) -> RenderOptions:
        if not page:
            return RenderOptions()
        cfg = self.config.page_or_default(page)
        return RenderOptions(period_names=dict(cfg.period_names), template_dir=cfg.template_dir)

    def snapshot_of(self, arg: str) -> Snapshot | None:
        """The stored snapshot ARG names, or None when ARG is a file or stdin."""
        if arg == "-" or Path(arg).exists():
            return None
        name = arg.split("@", 1)[0]
        if "@" in arg or name in self.store.pages():
            return self.store.resolve(arg)
        return None

    def side(self, arg: str, page: str | None) -> tuple[Roadmap, VersionRef, str | None]:
        """One side of a diff: its roadmap, what it is, and the page it belongs to."""
        snap = self.snapshot_of(arg)
        if snap is not None:
            ref = VersionRef(
                ref=f"{snap.page}@{snap.id}",
                version=snap.version,
                when=snap.when,
                author=snap.author,
                hash=snap.hash,
            )
            return self.store.roadmap(snap), ref, snap.page
        doc = load_source(arg, store=self.store, stdin=sys.stdin.buffer)
        meta = doc.meta
        ref = VersionRef(ref=arg, version=meta.version, when=meta.when, author=meta.author)
        return self.parse(doc, page, label=arg), ref, page


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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of internal errors.")
@click.version_option(__version__, prog_name="wikisync")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, store_path: str | None, verbose: int, debug: bool
) -> None:
    """Keep a wiki roadmap honest: parse, snapshot, diff and write its Change History."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="wikisync: %(levelname)s: %(message)s")
    ctx.obj = App(config_path=config_path, store_override=store_path, debug=debug)


@cli.command("parse")
@click.argument("source")
@click.option(
    "--format", "fmt", type=click.Choice(ROADMAP_FORMATS), default="table", show_default=True
)
@click.option("--page", metavar="NAME", help="Use this configured page's parser options.")
@click.pass_obj
def parse_cmd(app: App, source: str, fmt: str, page: str | None) -> None:
    """Print the roadmap of SOURCE: a file, - for stdin, or a snapshot reference (NAME@latest)."""
    roadmap, _ref, _page = app.side(source, page)
    click.echo(render_roadmap(roadmap, fmt), nl=False)


@cli.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(CHANGE_FORMATS), default="text", show_default=True
)
@click.option(
    "--date", "date", metavar="YYYY-MM-DD", help="Date of the entry (default: NEW's date)."
)
@click.option("--page", metavar="NAME", help="Use this configured page's options for files.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes (like git diff).")
@click.pass_obj
def diff_cmd(
    app: App, old: str, new: str, fmt: str, date: str | None, page: str | None, exit_code: bool
) -> None:
    """Write the Change History entry for the edit from OLD to NEW."""
    old_roadmap, old_ref, old_page = app.side(old, page)
    new_roadmap, new_ref, new_page = app.side(new, page)
    changes = diff_roadmaps(old_roadmap, new_roadmap)
    cs = ChangeSet(
        old=old_ref,
        new=new_ref,
        changes=changes,
        date=_entry_date(date, new_ref),
        old_roadmap=old_roadmap,
        new_roadmap=new_roadmap,
    )
    click.echo(render_changes(cs, fmt, app.render_options(page or new_page or old_page)), nl=False)
    if exit_code and changes:
        raise SystemExit(1)


@cli.command("snapshot")
@click.argument("source")
@click.option("--page", "page", required=True, metavar="NAME", help="Page name in the store.")
@click.option("--at", "at", metavar="ISO-DATETIME", help="When this version was saved.")
@click.option("--version", "version", type=click.IntRange(min=1), help="Its version number.")
@click.option("--author", "author", metavar="NAME", help="Who saved this version.")
@click.option("--message", "message", metavar="TEXT", help="The version message.")
@click.pass_obj
def snapshot_cmd(
    app: App,
    source: str,
    page: str,
    at: str | None,
    version: int | None,
    author: str | None,
    message: str | None,
) -> None:
    """Store one version of a page under snapshots/NAME/ (an identical body is a no-op)."""
    doc = load_source(source, store=app.store, stdin=sys.stdin.buffer)
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
    roadmap = app.parse(doc, page, label=source)
    with app.store.lock():
        snap, created = app.store.put(page, doc, roadmap)
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
@click.option("--page", "page", required=True, metavar="NAME")
@click.pass_obj
def log_cmd(app: App, page: str) -> None:
    """List the stored versions of a page, newest first."""
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
                snap.author or "-",
                snap.id,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])


@cli.command("history")
@click.option("--page", "page", required=True, metavar="NAME")
@click.option(
    "--format", "fmt", type=click.Choice(CHANGE_FORMATS), default="text", show_default=True
)
@click.pass_obj
def history_cmd(app: App, page: str, fmt: str) -> None:
    """Regenerate the whole Change History across every stored version, newest first."""
    snaps = app.store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {app.store.root}")
    changesets = []
    prev_snap, prev = snaps[0], app.store.roadmap(snaps[0])
    for snap in snaps[1:]:
        cur = app.store.roadmap(snap)
        old_ref, new_ref = _ref(prev_snap), _ref(snap)
        changesets.append(
            ChangeSet(
                old=old_ref,
                new=new_ref,
                changes=diff_roadmaps(prev, cur),
                date=_entry_date(None, new_ref),
                old_roadmap=prev,
                new_roadmap=cur,
            )
        )
        prev_snap, prev = snap, cur
    changesets.reverse()
    click.echo(render_history(changesets, fmt, app.render_options(page)), nl=False)


def _ref(snap: Snapshot) -> VersionRef:
    return VersionRef(
        ref=f"{snap.page}@{snap.id}",
        version=snap.version,
        when=snap.when,
        author=snap.author,
        hash=snap.hash,
    )


@cli.command("reparse")
@click.option("--page", "pages", multiple=True, metavar="NAME", help="Only these pages.")
@click.pass_obj
def reparse_cmd(app: App, pages: tuple[str, ...]) -> None:
    """Re-derive every stored roadmap from its raw body with the current parser."""
    names = list(pages) or app.store.pages()
    with app.store.lock():
        for name in names:
            options = app.config.page_or_default(name).parse

            def _parse(doc: Document, options: Any = options) -> Roadmap:
                return parse_document(doc, options)

            count = app.store.reparse(name, _parse)
            total = len(app.store.snapshots(name))
            click.echo(f"{name}: {count} of {total} roadmaps changed")


def main() -> None:
    cli(prog_name="wikisync")
