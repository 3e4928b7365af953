"""The Change History entry in MediaWiki wikitext: render it, find the section, splice it in.

Pure text work, the wikitext twin of publish.py's storage splice: the entry goes at the top of the
``== Change History ==`` section as list items (``* date`` / ``** category`` / ``*** sentence``),
and every other byte of the page stays as it was.

Card titles are page text: each character that could start markup (links, templates, tables,
tags, bold/italic, signatures ``~~~~``, magic words ``__TOC__``, free links ``http:``) is written
as a numeric character reference, so the sentence shows verbatim and never runs as wikitext.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from wikisync.errors import WikisyncError
from wikisync.model import ChangeSet
from wikisync.publish import PublishPlan, split_documented, unified_diff
from wikisync.render import RenderOptions
from wikisync.render.text import Entry, build_entry

__all__ = [
    "already_published",
    "escape_wikitext",
    "plan_wikitext",
    "render_wikitext",
]

_MARKUP = re.compile(r"[&<>\[\]{}|'~_:=*#;!]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$")
_ITEM = re.compile(r"^(\*+)\s*(.*?)\s*$")


def escape_wikitext(text: str) -> str:
    """``text`` as inert wikitext on one line: markup characters become ``&#NN;``."""
    one = " ".join(_CONTROLS.sub(" ", text).split())
    return _MARKUP.sub(lambda m: f"&#{ord(m.group())};", one)


def _entry_lines(entry: Entry) -> list[str]:
    lines = [f"* {escape_wikitext(entry.date)}"]
    for group in entry.groups:
        lines.append(f"** {escape_wikitext(group.category)}")
        lines += [f"*** {escape_wikitext(s)}" for s in group.sentences]
    return lines


def render_wikitext(cs: ChangeSet, options: RenderOptions | None = None) -> str:
    """The dated entry as wikitext list items ("" when the changeset is empty)."""
    entry = build_entry(cs, options or RenderOptions())
    return "\n".join(_entry_lines(entry)) + "\n" if entry is not None else ""


def _key(text: str) -> str:
    """What two sentences are compared by: the text a reader sees, whitespace and quotes folded."""
    shown = html.unescape(re.sub(r"<[^>]*>|'{2,}", "", text))
    shown = shown.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    return " ".join(shown.split()).casefold()


@dataclass(frozen=True)
class _Section:
    start: int  # line index of the heading
    end: int  # line index after the section's last line


def _section(lines: list[str], heading: str) -> _Section | None:
    want = _key(heading)
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if m and _key(m.group(2)) == want:
            level = len(m.group(1))
            end = len(lines)
            for j in range(i + 1, len(lines)):
                n = _HEADING.match(lines[j])
                if n and len(n.group(1)) <= level:
                    end = j
                    break
            return _Section(i, end)
    return None


def _written(lines: list[str], sec: _Section) -> dict[str, set[str]]:
    """Sentences already in the section, by the date item they sit under."""
    found: dict[str, set[str]] = {}
    date = ""
    for line in lines[sec.start + 1 : sec.end]:
        m = _ITEM.match(line)
        if not m:
            continue
        depth, text = len(m.group(1)), m.group(2)
        if depth == 1:
            date = _key(text)[:10]
        found.setdefault(date, set()).add(_key(text))
    return found


def already_published(wikitext: str, entry: str, *, heading: str) -> bool:
    """True when the section already holds every sentence of ``entry`` under its date."""
    lines = wikitext.split("\n")
    sec = _section(lines, heading)
    if sec is None:
        return False
    written = _written(lines, sec)
    date = ""
    for line in entry.split("\n"):
        m = _ITEM.match(line)
        if not m:
            continue
        if len(m.group(1)) == 1:
            date = _key(m.group(2))[:10]
        elif len(m.group(1)) == 3 and _key(m.group(2)) not in written.get(date, set()):
            return False
    return True


def plan_wikitext(
    wikitext: str,
    cs: ChangeSet,
    *,
    heading: str,
    create_section: bool = False,
    options: RenderOptions | None = None,
) -> PublishPlan:
    """The page's wikitext with the entry at the top of its Change History section."""
    date = cs.date
    cs, left = split_documented(cs, options)  # what the page's own history already says
    fragment = render_wikitext(cs, options)
    if not fragment:
        reason = "already documented" if left else "no changes"
        return PublishPlan(
            date, "", wikitext, wikitext, "", True, reason, left_out=left, changeset=cs
        )
    if already_published(wikitext, fragment, heading=heading):
        return PublishPlan(
            date, fragment, wikitext, wikitext, "", True, "already published", (), left, cs
        )
    lines = wikitext.split("\n")
    sec = _section(lines, heading)
    if sec is None:
        if not create_section:
            raise WikisyncError(
                f"the page has no {heading!r} section: add one (== {heading} ==) or run "
                "publish --create-section"
            )
        tail = "" if wikitext.endswith("\n") or not wikitext else "\n"
        body = f"{wikitext}{tail}\n== {heading} ==\n{fragment}"
    else:
        at = sec.start + 1
        for j in range(sec.start + 1, sec.end):
            if _ITEM.match(lines[j]):
                at = j
                break
        new = fragment.rstrip("\n").split("\n")
        body = "\n".join(lines[:at] + new + lines[at:])
    diff = unified_diff(wikitext, body, label="wikitext")
    return PublishPlan(date, fragment, wikitext, body, diff, False, "", (), left, cs)
