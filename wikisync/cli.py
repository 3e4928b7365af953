"""The command line: a thin layer over the library.

Every command turns its arguments into library calls and prints what they return. Every
``WikisyncError`` becomes one line on stderr and exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import click

from wikisync import __version__
from wikisync.config import Config, PageConfig, credentials_warning, load_config
from wikisync.diff import diff_roadmaps
from wikisync.errors import ParseError, WikisyncError
from wikisync.model import ChangeSet, Document, Roadmap, VersionRef
from wikisync.parse import parse_document
from wikisync.render import RenderOptions, render_changes, render_history, render_roadmap
from wikisync.sources import LiveReader, is_live, load_source
from wikisync.store import Snapshot, Store

# wikisync.sync (requests, the REST client) is imported inside the commands that talk to a
# wiki, so offline commands (parse, diff of files, history) start without it.

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
            warning = credentials_warning(self._config)  # once per run: the config is cached
            if warning:
                click.echo(f"wikisync: warning: {warning}", err=True)
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

    def live(self, default: str | None) -> LiveReader:
        """Reads ``live`` (the ``default`` page, else the only fetchable one) or ``NAME@live``."""

        def read(name: str | None) -> Document:
            from wikisync.sync import fetch_document

            return fetch_document(self.live_page(name or default))

        return read

    def live_page(self, name: str | None) -> PageConfig:
        """The fetchable page NAME, else the only configured page with a base_url."""
        from wikisync.sync import live_page

        return live_page(self.config, name)

    def snapshot_of(self, arg: str) -> Snapshot | None:
        """The stored snapshot ARG names, or None when ARG is a file, stdin, a URL or live."""
        if arg == "-" or Path(arg).exists() or is_live(arg) or "://" in arg:
            return None
        name = arg.split("@", 1)[0]
        if "@" in arg or name in self.store.pages():
            return self.store.resolve(arg)
        return None

    def side(
        self, arg: str, page: str | None, *, hint: str | None = None
    ) -> tuple[Roadmap, VersionRef, str | None]:
        """One side of a diff: its roadmap, what it is, and the page it belongs to.

        ``hint`` is the page of the other side: ``live`` in ``diff NAME@latest live`` is NAME.
        """
        if is_live(arg) and not Path(arg).exists():
            cfg = self.live_page(arg[: -len("@live")] if arg != "live" else page or hint)
            doc = load_source(arg, store=self.store, live=self.live(cfg.name))
            meta = doc.meta
            ref = VersionRef(
                ref=f"{cfg.name}@live", version=meta.version, when=meta.when, author=meta.author
            )
            return self.parse(doc, cfg.name, label=f"{cfg.name}@live"), ref, cfg.name
        snap = self.snapshot_of(arg)
        if snap is not None:
            return self.store.roadmap(snap), snap.version_ref(), snap.page
        doc = load_source(arg, store=self.store, stdin=sys.stdin.buffer, live=self.live(page))
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
    # urllib3 announces each retry as a warning; our own error line says what finally happened.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR)
    ctx.obj = App(config_path=config_path, store_override=store_path, debug=debug)


@cli.command("parse")
@click.argument("source")
@click.option(
    "--format", "fmt", type=click.Choice(ROADMAP_FORMATS), default="table", show_default=True
)
@click.option("--page", metavar="NAME", help="Use this configured page's parser options.")
@click.pass_obj
def parse_cmd(app: App, source: str, fmt: str, page: str | None) -> None:
    """Print the roadmap of SOURCE: a file, - for stdin, a URL, live / NAME@live, or a snapshot
    reference (NAME@latest)."""
    roadmap, _ref, _page = app.side(source, page)
    click.echo(render_roadmap(roadmap, fmt), nl=False)


@cli.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
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
    app: App,
    old: str | None,
    new: str | None,
    fmt: str,
    date: str | None,
    page: str | None,
    exit_code: bool,
) -> None:
    """Write the Change History entry for the edit from OLD to NEW.

    With no arguments: the live page (--page NAME, or the only configured page with a base_url)
    against its latest snapshot, i.e. what your edit changed. OLD and NEW may be files, -, URLs,
    snapshot references (NAME@latest) or live / NAME@live.
    """
    if old is None:
        name = app.live_page(page).name
        old, new = f"{name}@latest", f"{name}@live"
        if not app.store.snapshots(name):
            raise WikisyncError(
                f"no snapshots of page {name!r} in {app.store.root}: run wikisync sync first"
            )
    elif new is None:
        raise click.UsageError("give both OLD and NEW, or neither (live page vs latest snapshot)")
    old_roadmap, old_ref, old_page = app.side(old, page)
    new_roadmap, new_ref, new_page = app.side(new, page, hint=old_page)
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
    doc = load_source(source, store=app.store, stdin=sys.stdin.buffer, live=app.live(page))
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
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--page", "page", metavar="NAME")
@click.option(
    "--card", metavar="TEXT", help="The history of the card(s) any of whose titles match TEXT."
)
@click.pass_obj
def log_cmd(app: App, name: str | None, page: str | None, card: str | None) -> None:
    """List the stored versions of a page, newest first; with --card, one card's history."""
    page = _one_page(name, page)
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
        old_ref, new_ref = prev_snap.version_ref(), snap.version_ref()
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


# --------------------------------------------------------------------------- live pages


@cli.command("fetch")
@click.option(
    "--page", metavar="NAME", help="Configured page (default: the only one with base_url)."
)
@click.option("--version", "version", type=click.IntRange(min=1), help="An older version number.")
@click.option(
    "--format", "fmt", type=click.Choice(ROADMAP_FORMATS), default="table", show_default=True
)
@click.pass_obj
def fetch_cmd(app: App, page: str | None, version: int | None, fmt: str) -> None:
    """Print the parsed roadmap of the live page (current, or --version N)."""
    from wikisync.sync import fetch_document

    cfg = app.live_page(page)
    doc = fetch_document(cfg, version=version)
    label = f"{cfg.name}@v{version}" if version else f"{cfg.name}@live"
    click.echo(render_roadmap(app.parse(doc, cfg.name, label=label), fmt), nl=False)


@cli.command("sync")
@click.option(
    "--page", "pages", multiple=True, metavar="NAME", help="Only these pages (repeatable)."
)
@click.option("-q", "--quiet", is_flag=True, help="Print only changes and errors (for cron).")
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
    pages: tuple[str, ...],
    quiet: bool,
    exit_code: bool,
    wait: float,
    publish_: bool,
    yes: bool,
) -> None:
    """Snapshot each live page that changed and append its entry to snapshots/NAME/CHANGELOG.md.

    Asks only for the current version number when nothing changed. Exit 0 on success, 1 with
    --exit-code when a roadmap changed, 2 when any page failed (the others are still synced).
    """
    from wikisync.sync import live_pages, store_lock, sync_page

    cfgs = live_pages(app.config, pages)
    failed = changed = False
    with store_lock(app.store, wait):
        for cfg in cfgs:
            result = sync_page(app.store, cfg)
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
                click.echo(f"wikisync: error: {' '.join(result.error.split())}", err=True)
            changed = changed or result.changed
    if failed:
        raise SystemExit(2)
    if exit_code and changed:
        raise SystemExit(1)


@cli.command("backfill")
@click.option(
    "--page", metavar="NAME", help="Configured page (default: the only one with base_url)."
)
@click.option("--from", "start", type=click.IntRange(min=1), help="First version to fetch.")
@click.option("--to", "end", type=click.IntRange(min=1), help="Last version to fetch.")
@click.option(
    "--jobs", type=click.IntRange(1, 16), default=4, show_default=True, help="Parallel fetches."
)
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS")
@click.pass_obj
def backfill_cmd(
    app: App, page: str | None, start: int | None, end: int | None, jobs: int, wait: float
) -> None:
    """Store every historical version of a page that is not stored yet (resumable).

    Writes no CHANGELOG entries: `wikisync history --page NAME` regenerates them all.
    """
    from wikisync.sync import backfill, client_for, store_lock

    cfg = app.live_page(page)
    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")
    client_for(cfg).close()  # missing credentials fail here, before the lock and the pool
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if not sys.stderr.isatty() or total == 0:
                return
            bar = click.progressbar(length=total, label=cfg.name, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        with store_lock(app.store, wait):
            result = backfill(app.store, cfg, start=start, end=end, jobs=jobs, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(result.summary())


def _publish_one(app: App, cfg: PageConfig, *, yes: bool, create_section: bool, quiet: bool) -> str:
    from wikisync.sync import publish_page

    outcome = publish_page(app.store, cfg, dry_run=not yes, create_section=create_section)
    result = outcome.result
    if result.status == "dry-run" and result.plan is not None and not quiet:
        if outcome.changeset is not None:
            click.echo(render_changes(outcome.changeset, "text", app.render_options(cfg.name)))
        click.echo(result.plan.diff, nl=False)
    if not quiet or result.status == "published":
        click.echo(f"{cfg.name}: {result.message}")
    if result.status == "dry-run" and not quiet:
        click.echo("(dry run: nothing was written; add --yes to publish)")
    return result.status


@cli.command("publish")
@click.option(
    "--page", metavar="NAME", help="Configured page (default: the only one with base_url)."
)
@click.option("--yes", is_flag=True, help="Really write the page (default: a dry run).")
@click.option(
    "--create-section",
    is_flag=True,
    help="Add a Change History section at the end of the page when it has none.",
)
@click.pass_obj
def publish_cmd(app: App, page: str | None, yes: bool, create_section: bool) -> None:
    """Put the Change History entry of the latest edit at the top of the page's own history.

    The entry covers the live version against the newest stored version older than it. A dry
    run by default: shows the entry and the diff of the page body; --yes writes it as the
    version read + 1 (a minor edit), never over someone else's edit.
    """
    cfg = app.live_page(page)
    _publish_one(app, cfg, yes=yes, create_section=create_section, quiet=False)


@cli.command("audit")
@click.option("--page", "page", required=True, metavar="NAME")
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
@click.pass_obj
def audit_cmd(app: App, page: str, since: str | None, history_from: str | None, fmt: str) -> None:
    """Check the page's hand-written Change History against what really changed.

    Exit 0 when every entry is confirmed, 1 when anything is undocumented, inaccurate or not
    found (so it can gate a review), 2 on error.
    """
    from wikisync.audit import audit_page, render_audit

    report = audit_page(app.store, page, since=since, history_from=history_from)
    click.echo(render_audit(report, fmt), nl=False)
    if report.exit_code:
        raise SystemExit(report.exit_code)


def _one_page(name: str | None, page: str | None) -> str:
    """The page of a one-page command: NAME or --page NAME (the same when both are given)."""
    if name and page and name != page:
        raise click.UsageError(f"two pages given: {name!r} and --page {page!r}")
    if not (name or page):
        raise click.UsageError("which page? give NAME (or --page NAME)")
    return name or page or ""


def _lineages(app: App, page: str) -> Any:
    """Every card's lineage across the stored versions of PAGE, in the store's order."""
    from wikisync.lineage import Version, build_lineages

    snaps = app.store.snapshots(page)
    if not snaps:
        raise WikisyncError(f"no snapshots of page {page!r} in {app.store.root}")
    roadmaps = app.store.roadmaps(snaps)
    return build_lineages([Version.of(s, r) for s, r in zip(snaps, roadmaps, strict=True)])


@cli.command("stats")
@click.argument("name", required=False, metavar="[NAME]")
@click.option("--page", "page", metavar="NAME")
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
    """How reliable is the roadmap: each card's deferrals and periods slipped, per lane and
    organisation, as a table, JSON (wikisync.stats/1), CSV or an SVG chart."""
    from wikisync.stats import compute_stats, render_stats

    page = _one_page(name, page)
    stats = compute_stats(_lineages(app, page), page, since)
    click.echo(render_stats(stats, fmt), nl=False)


def main() -> None:
    cli(prog_name="wikisync")
