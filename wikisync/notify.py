"""Tell people when a roadmap changes: an outbox in the store, delivered through Apprise.

Never lost, never twice in a normal run. A message is written to the outbox
(``STORE/.wikisync-outbox/``) before sync appends the CHANGELOG entry it announces, one file per
(entry, target); the file name is derived from the pair of snapshots and the target, so a run
killed in between writes the same file again on the next run instead of a second message.
Delivery sends each queued file and removes it once the channel accepted it. A receiver that is
down leaves its files queued, and the next sync delivers them first. A crash between a channel's
acceptance and the removal of the file sends that one message again: delivery is *at least
once*, which is the honest promise of any outbox.

Channels are Apprise URLs (``slack://``, ``msteams://``, ``mailto://``, ``json://`` …): Apprise
speaks each service's API, escaping and limits. A URL often holds a secret (a webhook token), so
it can come from an environment variable (``url_env``), is never written to the outbox (files
name the target by a hash) and never shown: logs and errors name a target by its label
(``json://127.0.0.1`` or ``$SLACK_URL``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from wikisync.errors import ConfigError, StoreError
from wikisync.logsetup import logger

__all__ = [
    "OUTBOX_NAME",
    "SCHEMA",
    "Delivery",
    "Message",
    "NotifyConfig",
    "Outbox",
    "Target",
    "apprise_send",
    "resolve_targets",
]

log = logger("wikisync.notify")  # applies the CLI's pending logging set-up

SCHEMA = "wikisync.notification/1"
OUTBOX_NAME = ".wikisync-outbox"
FORMATS = ("markdown", "text")  # the first is the default


@dataclass(frozen=True)
class NotifyConfig:
    """One ``[[notify]]`` table: where to send, for which pages, in which format."""

    url: str | None = field(default=None, repr=False)
    url_env: str | None = None
    pages: tuple[str, ...] = ("*",)
    format: str = "markdown"
    report_url: str | None = None  # where `wikisync report` is published: "https://…/{page}/"


@dataclass(frozen=True)
class Target:
    """A resolved channel: ``key`` names it in the outbox, ``label`` in messages to people."""

    key: str
    label: str
    url: str = field(repr=False)
    format: str
    pages: tuple[str, ...]
    report_url: str | None = None

    def wants(self, page: str) -> bool:
        return any(fnmatch.fnmatchcase(page, pattern) for pattern in self.pages)


def _label(url: str, env: str | None) -> str:
    if env:
        return f"${env}"
    parts = urlsplit(url)
    host = (parts.hostname or "").strip()
    return f"{parts.scheme}://{host}" if host else f"{parts.scheme}://"


def resolve_targets(
    configs: Sequence[NotifyConfig], environ: Mapping[str, str] | None = None
) -> list[Target]:
    """Each ``[[notify]]`` with its URL (from the environment when ``url_env``)."""
    env = os.environ if environ is None else environ
    out: list[Target] = []
    for i, cfg in enumerate(configs):
        url = cfg.url
        if cfg.url_env is not None:
            url = env.get(cfg.url_env, "").strip()
            if not url:
                raise ConfigError(
                    f"notify[{i}].url_env: environment variable {cfg.url_env} is not set "
                    "(it must hold the notification URL)"
                )
        if not url or "://" not in url:
            raise ConfigError(f"notify[{i}]: expected an Apprise URL (scheme://…)")
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        label = _label(url, cfg.url_env)
        out.append(Target(key, label, url, cfg.format, cfg.pages, cfg.report_url))
    return out


@dataclass(frozen=True)
class Message:
    """One Change History entry to announce: what a channel shows, in both formats."""

    page: str
    pair: str  # "OLDID..NEWID": the snapshots the entry covers (its identity)
    title: str  # "Roadmap changed: FY21-22 Architecture User Story Roadmap"
    date: str
    text: str  # the entry as plain text
    markdown: str  # the entry as Markdown
    url: str | None = None  # the page on its wiki
    links: tuple[tuple[str, str], ...] = ()  # (label, url): the wiki's comparison of versions
    report_file: str | None = None  # this change's page in the report site (diff-vA-vB.html)

    def body(self, fmt: str, report_url: str | None = None) -> str:
        """The message: the entry, the page, the wiki's comparison, and (with ``report_url``,
        where the channel's team publishes ``wikisync report``) this change's report page."""
        entry = self.markdown if fmt == "markdown" else self.text
        lines = [entry.rstrip("\n")]
        if self.url:
            lines.append("")
            lines.append(f"[{self.page}]({self.url})" if fmt == "markdown" else self.url)
        links = list(self.links)
        if report_url and self.report_file:
            base = report_url.replace("{page}", quote(self.page, safe=""))
            links.append(("report", base.rstrip("/") + "/" + self.report_file))
        for label, link in links:
            lines.append(f"[{label}]({link})" if fmt == "markdown" else f"{label}: {link}")
        return "\n".join(lines) + "\n"

    def to_json(self, target: Target) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "page": self.page,
            "pair": self.pair,
            "target": target.key,
            "title": self.title,
            "date": self.date,
            "text": self.text,
            "markdown": self.markdown,
            "url": self.url,
            "links": [list(link) for link in self.links],
            "report_file": self.report_file,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        report_file = data.get("report_file")
        return cls(
            page=str(data["page"]),
            pair=str(data["pair"]),
            title=str(data["title"]),
            date=str(data["date"]),
            text=str(data["text"]),
            markdown=str(data["markdown"]),
            url=data.get("url") if isinstance(data.get("url"), str) else None,
            links=tuple((str(a), str(b)) for a, b in data.get("links") or ()),
            report_file=report_file if isinstance(report_file, str) else None,
        )


@dataclass(frozen=True)
class Pending:
    """A queued file: its message and the target key it waits for."""

    path: Path
    target: str
    message: Message


@dataclass
class Delivery:
    """What one delivery run did."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (page, target label)
    failed: list[tuple[str, str]] = field(default_factory=list)
    orphaned: int = 0  # queued for a target that is no longer configured

    def summary(self) -> str | None:
        if not self.failed:
            return None
        labels = ", ".join(sorted({label for _page, label in self.failed}))
        n = len(self.failed)
        return (
            f"notify: {n} message{'s' if n != 1 else ''} could not be delivered ({labels}); "
            "queued for the next sync (wikisync notify --pending lists them)"
        )


Send = Callable[[Target, str, str], bool]  # (target, title, body) -> accepted


class Outbox:
    """The queued notifications of a store (one JSON file per message and target)."""

    def __init__(self, store_root: Path) -> None:
        self.dir = store_root / OUTBOX_NAME

    def _name(self, message: Message, target: Target) -> str:
        pair = hashlib.sha256(f"{message.page}\0{message.pair}".encode()).hexdigest()[:24]
        return f"{pair}.{target.key}.json"

    def enqueue(self, message: Message, targets: Iterable[Target]) -> int:
        """Queue ``message`` for every target that wants its page; returns how many."""
        from wikisync.store import replace_file

        wanted = [t for t in targets if t.wants(message.page)]
        if not wanted:
            return 0
        try:
            self.dir.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot queue a notification in {self.dir}: {exc}") from exc
        for target in wanted:  # replace_file refuses a symlinked folder or file
            data = json.dumps(message.to_json(target), ensure_ascii=False, sort_keys=True)
            replace_file(self.dir / self._name(message, target), (data + "\n").encode())
        return len(wanted)

    def pending(self) -> list[Pending]:
        """Every queued message, oldest file first (by name within equal times: stable)."""
        try:
            entries = [e for e in os.scandir(self.dir) if e.name.endswith(".json") and e.is_file()]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read {self.dir}: {exc}") from exc
        out: list[Pending] = []
        for e in sorted(entries, key=lambda e: (e.stat().st_mtime_ns, e.name)):
            path = Path(e.path)
            try:
                data = json.loads(path.read_bytes())
                if data.get("schema") != SCHEMA:
                    raise ValueError("unknown schema")
                out.append(Pending(path, str(data["target"]), Message.from_json(data)))
            except (ValueError, KeyError, TypeError, OSError):
                log.warning("notify: %s is not a readable notification; left alone", path.name)
        return out

    def deliver(self, targets: Sequence[Target], send: Send) -> Delivery:
        """Send every queued message whose target is configured; remove each one sent."""
        by_key = {t.key: t for t in targets}
        report = Delivery()
        down: set[str] = set()  # a target that failed once this run is not tried again
        for item in self.pending():
            target = by_key.get(item.target)
            if target is None:
                report.orphaned += 1
                continue
            if target.key in down:
                report.failed.append((item.message.page, target.label))
                continue
            body = item.message.body(target.format, target.report_url)
            try:
                ok = send(target, item.message.title, body)
            except Exception as exc:  # a channel library's own error: the message stays queued
                log.info("notify: %s raised %s", target.label, type(exc).__name__)
                ok = False
            if not ok:
                down.add(target.key)
                report.failed.append((item.message.page, target.label))
                continue
            with contextlib.suppress(FileNotFoundError):
                item.path.unlink()
            report.sent.append((item.message.page, target.label))
        return report


def apprise_send(target: Target, title: str, body: str) -> bool:
    """Send through Apprise (imported here: it takes most of a second to import)."""
    import apprise

    # Apprise logs service URLs at some levels; wikisync reports failures by label only.
    logging.getLogger("apprise").setLevel(logging.CRITICAL)
    ap = apprise.Apprise()
    if not ap.add(target.url):
        return False
    markdown = target.format == "markdown"
    fmt = apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT
    return bool(ap.notify(title=title, body=body, body_format=fmt))
