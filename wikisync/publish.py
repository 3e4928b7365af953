"""Publish a dated Change History entry into the page itself, and save it back safely.

Two halves. The pure half (``insert_entry``, ``splice_entry``, ``plan_publish``,
``already_published``) edits the storage body as a *string*: a small scanner finds byte offsets
(tags, comments, CDATA, ``ac:`` tags, quoted attributes) and the new markup is spliced in, so every
byte outside the inserted spans stays exactly as Confluence stored it. Re-serialising with a parser
would rewrite entities, attribute quoting, CDATA and macro markup all over the page.

Only what nobody wrote yet is published: a change the page's hand-written Change History already
describes (matched as ``wikisync audit`` matches sentences to changes: confirmed, or written
inaccurately) is left out of the entry, and the plan lists it with the reason.

The I/O half (``publish``) reads the page, builds the entry for exactly the version it read and
saves with ``version = read + 1``. A 409 means someone saved in between: the page is read again
and the entry rebuilt from *their* version (never "latest + 1" on our old body, which would
silently overwrite their edit). When an answer is lost (409/5xx/network after the server applied
our save), the re-read shows our entry and the publish counts as done, without a duplicate.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from wikisync.errors import FetchError, WikiHTTPError, WikisyncError
from wikisync.logsetup import logger
from wikisync.model import CATEGORIES, ChangeSet, Document
from wikisync.parse.history import iso_date
from wikisync.render import RenderOptions, render_changes, sentences
from wikisync.safe import safe_text

if TYPE_CHECKING:
    from wikisync.wikis import Wiki

__all__ = [
    "DEFAULT_HEADING",
    "Insertion",
    "LeftOut",
    "PublishPlan",
    "PublishResult",
    "Splice",
    "already_published",
    "entry_message",
    "insert_entry",
    "left_out_lines",
    "plan_publish",
    "publish",
    "splice_entry",
    "unified_diff",
]

log = logger("wikisync.publish")  # applies the CLI's pending logging set-up

DEFAULT_HEADING = "Change History"

# --------------------------------------------------------------------------- scanner

# One token of markup; the text between tokens is character data. Attribute values may hold ``>``
# (quoted), comments and CDATA may hold anything, and an unterminated one runs to the end.
# Possessive quantifiers: a malformed tag fails in linear time instead of backtracking.
_TOKEN = re.compile(
    r"""<!--.*?(?:-->|\Z)
    |<!\[CDATA\[.*?(?:\]\]>|\Z)
    |<\?.*?(?:\?>|\Z)
    |<![^>]*+>
    |</(?P<end>[A-Za-z][^\s>/]*+)\s*+>
    |<(?P<start>[A-Za-z][^\s>/]*+)(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""",
    re.S | re.X,
)
# Inside a table only the table's own end matters (the Change History is never in the roadmap
# table): jumping from one table tag to the next keeps a 3 MB page fast.
_IN_TABLE = re.compile(
    r"""<!--.*?(?:-->|\Z)
    |<!\[CDATA\[.*?(?:\]\]>|\Z)
    |<(?P<open>table)(?=[\s>/])(?:[^>"']++|"[^"]*+"|'[^']*+')*+>
    |</(?P<close>table)\s*+>""",
    re.S | re.X | re.I,
)
# Elements scanned as one opaque node, like a table: a macro's parameters and plain-text body
# are never page content, whatever elements they hold, so nothing is ever inserted there.
_OPAQUE_MACRO = ("ac:parameter", "ac:plain-text-body")
_IN_OPAQUE = {
    tag: re.compile(
        rf"""<!--.*?(?:-->|\Z)
    |<!\[CDATA\[.*?(?:\]\]>|\Z)
    |<(?P<open>{re.escape(tag)})(?=[\s>/])(?:[^>"']++|"[^"]*+"|'[^']*+')*+>
    |</(?P<close>{re.escape(tag)})\s*+>""",
        re.S | re.X | re.I,
    )
    for tag in _OPAQUE_MACRO
} | {"table": _IN_TABLE}
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LISTS = frozenset({"ul", "ol"})
# Elements whose text a reader never sees as part of the surrounding sentence.
_HIDDEN = frozenset({"ac:parameter", "ac:plain-text-body", "script", "style"})
# Elements that separate words even when written without spaces between them.
_BREAKS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "hr"} | _HEADINGS
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_TEXT, _CDATA = 0, 1


class _Node:
    """An element of the scanned body: its offsets in the raw string, and its content."""

    __slots__ = ("closed", "content", "end", "inner", "parent", "start", "tag", "tail")

    def __init__(self, tag: str, start: int, inner: int, parent: _Node | None) -> None:
        self.tag = tag
        self.start = start  # offset of "<" of the start tag
        self.inner = inner  # offset just after the start tag
        self.tail = inner  # offset of "<" of the end tag (== end when self-closed)
        self.end = inner  # offset just after the end tag
        self.closed = False  # True when closed by its own end tag or "/>"
        self.parent = parent
        self.content: list[_Node | tuple[int, int, int]] = []

    @property
    def elements(self) -> Iterator[_Node]:
        return (c for c in self.content if isinstance(c, _Node))

    def children(self, tags: frozenset[str]) -> list[_Node]:
        return [c for c in self.elements if c.tag in tags]

    def first_list(self) -> _Node | None:
        """The first list below, in document order (usually a direct child)."""
        stack = list(reversed(list(self.elements)))
        while stack:
            n = stack.pop()
            if n.tag in _LISTS:
                return n
            stack.extend(reversed(list(n.elements)))
        return None

    def has_list(self) -> bool:
        """An item with a list below it is a group (date, category), not a sentence."""
        return self.first_list() is not None


@dataclass
class _Scan:
    text: str
    root: _Node
    nodes: list[_Node]  # document order
    balanced: bool  # every element closed by its own end tag, no stray end tags


def _scan(text: str) -> _Scan:
    """Elements with offsets, tolerant like a browser (implicit closes) but reporting it.

    A table, a macro parameter and a macro's plain-text body are each one node with no
    children: nothing inside them is ever edited or searched.
    """
    root = _Node("#root", 0, 0, None)
    stack = [root]
    nodes: list[_Node] = []
    balanced = True
    pos = 0
    size = len(text)
    search = _TOKEN.search
    while True:
        m = search(text, pos)
        if m is None:
            break
        s, e = m.span()
        top = stack[-1]
        if s > pos:
            top.content.append((pos, s, _TEXT))
        pos = e
        name = m.group("start")
        if name is not None:
            node = _Node(name.lower(), s, e, top)
            top.content.append(node)
            nodes.append(node)
            if text[e - 2] == "/" or node.tag in _VOID:
                node.closed = True
            elif node.tag in _IN_OPAQUE:
                pos = _skip_table(text, node)
                balanced = balanced and node.closed
            else:
                stack.append(node)
            continue
        name = m.group("end")
        if name is not None:
            name = name.lower()
            if top.tag == name:
                stack.pop()
                top.tail, top.end, top.closed = s, e, True
                continue
            balanced = False
            if any(n.tag == name for n in stack[1:]):
                while stack[-1].tag != name:
                    lost = stack.pop()
                    lost.tail = lost.end = s
                match = stack.pop()
                match.tail, match.end, match.closed = s, e, True
            continue  # a stray end tag (or </br>) is ignored, like a browser does
        if text.startswith("<![CDATA[", s):
            top.content.append((s, e, _CDATA))
        # comments, processing instructions and declarations carry no content
    if pos < size:
        stack[-1].content.append((pos, size, _TEXT))
    if len(stack) > 1:
        balanced = False
        for lost in stack[1:]:
            lost.tail = lost.end = size
    root.tail = root.end = size
    root.closed = True
    return _Scan(text, root, nodes, balanced)


def _skip_table(text: str, table: _Node) -> int:
    """Find the end of ``table`` (or of an opaque macro part; nested ones counted); returns
    the offset to scan on from."""
    depth = 1
    pos = table.inner
    for m in _IN_OPAQUE[table.tag].finditer(text, pos):
        if m.group("open") is not None:
            if text[m.end() - 2] != "/":
                depth += 1
        elif m.group("close") is not None:
            depth -= 1
            if depth == 0:
                table.tail, table.end, table.closed = m.start(), m.end(), True
                return m.end()
    table.tail = table.end = len(text)  # never closed: the rest of the page is the table
    return len(text)


def _norm(text: str) -> str:
    return " ".join(text.translate(_INVISIBLE).split())


def _text(scan: _Scan, node: _Node, skip: frozenset[str] = frozenset()) -> str:
    """What a reader sees in ``node`` (entities decoded, CDATA as is), without ``skip`` subtrees."""
    parts: list[str] = []
    raw = scan.text
    # An explicit stack: hostile nesting depth must not hit the recursion limit.
    stack: list[_Node | tuple[int, int, int] | str] = list(reversed(node.content))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, tuple):
            s, e, kind = item
            if kind == _TEXT:
                parts.append(html.unescape(raw[s:e]))
            else:
                chunk = raw[s + 9 : e]
                parts.append(chunk[:-3] if chunk.endswith("]]>") else chunk)
        elif item.tag not in skip and item.tag not in _HIDDEN:
            sep = " " if item.tag in _BREAKS else ""
            stack.append(sep)
            stack.extend(reversed(item.content))
            stack.append(sep)
    return _norm("".join(parts))


def _own(scan: _Scan, node: _Node) -> str:
    """An item's own text: its nested lists are its children's business."""
    return _text(scan, node, _LISTS)


def _key(text: str) -> str:
    """Comparison key: ``&ldquo;`` and “ compare equal once decoded; case and spacing don't."""
    return _norm(text).casefold()


def _label_key(text: str) -> str:
    return _key(text).rstrip(":").strip()


def _date_key(text: str) -> str:
    return iso_date(text) or _label_key(text)


_RANK = {c.casefold(): i for i, c in enumerate(CATEGORIES)}


def _rank(label: str) -> int:
    return _RANK.get(_label_key(label), len(CATEGORIES))


def _leaves(node: _Node) -> Iterator[_Node]:
    """The sentence items under ``node``: list items without a list below them."""
    stack = [node]
    while stack:
        n = stack.pop()
        kids = list(n.elements)
        if n.tag == "li" and n is not node and not n.has_list():
            yield n
            continue
        stack.extend(reversed(kids))


# --------------------------------------------------------------------------- the section


@dataclass
class _Section:
    heading: _Node
    level: int  # 1-6; 7 for a paragraph used as a heading
    limit: int  # offset where the section ends (the next heading of the same or higher level)
    lst: _Node | None  # the history list


def _find_section(scan: _Scan, heading: str) -> _Section | None:
    """The heading titled ``heading`` and the first list of its section (outside tables)."""
    needle = _label_key(heading)
    if not needle:
        raise WikisyncError("the Change History heading to look for is empty")
    heads = [n for n in scan.nodes if n.tag in _HEADINGS]
    exact = [h for h in heads if _label_key(_text(scan, h)) == needle]
    found: _Node | None = None
    level = 7
    if exact:
        found = exact[0]
    else:
        # Like the parser: a heading that contains the words, then a paragraph used as heading.
        loose = [h for h in heads if needle in _key(_text(scan, h))]
        if loose:
            found = loose[0]
        else:
            paras = [n for n in scan.nodes if n.tag == "p" and _label_key(_text(scan, n)) == needle]
            found = paras[0] if paras else None
    if found is None:
        return None
    if found.tag in _HEADINGS:
        level = int(found.tag[1])
    limit = len(scan.text)
    for h in heads:
        if h.start >= found.end and int(h.tag[1]) <= level:
            limit = h.start
            break
    lst = next(
        (n for n in scan.nodes if n.tag in _LISTS and found.end <= n.start < limit),
        None,
    )
    return _Section(found, level, limit, lst)


def _after_intro(scan: _Scan, sec: _Section) -> int:
    """Where a new list goes in a section without one: after the paragraphs below the heading."""
    node = sec.heading
    parent = node.parent
    at = node.end
    if parent is None:  # pragma: no cover - every scanned element has a parent
        return at
    idx = parent.content.index(node)
    for item in parent.content[idx + 1 :]:
        if isinstance(item, tuple):
            if item[2] == _TEXT and not scan.text[item[0] : item[1]].strip():
                continue
            break
        if item.tag != "p" or not item.closed or item.start >= sec.limit:
            break
        at = item.end
    return at


def _dated_paragraph(scan: _Scan, sec: _Section) -> _Node | None:
    """A date written as a paragraph above the first list (dates-as-paragraphs layout)."""
    if sec.lst is None:
        return None
    for n in scan.nodes:
        if n.start < sec.heading.end:
            continue
        if n.start >= sec.lst.start:
            break
        if n.tag in ("p", *_HEADINGS) and iso_date(_text(scan, n)) is not None:
            return n
    return None


# --------------------------------------------------------------------------- the fragment


@dataclass
class _Entry:
    node: _Node
    date: str  # date key
    groups: list[_Group]


@dataclass
class _Group:
    node: _Node | None  # the category item; None for sentences without a category level
    label: str
    sentences: list[_Node]


def _read_fragment(fragment: str) -> tuple[_Scan, _Node, list[_Entry]]:
    scan = _scan(fragment)
    if not scan.balanced:
        raise WikisyncError(
            "the Change History entry is not well-formed markup (an element is not closed)"
        )
    top = next((n for n in scan.nodes if n.tag in _LISTS), None)
    items = top.children(frozenset({"li"})) if top is not None else []
    if top is None or not items:
        raise WikisyncError("the Change History entry has no dated list item to insert")
    entries: list[_Entry] = []
    for li in items:
        groups: list[_Group] = []
        sub = li.first_list()
        if sub is not None:
            loose: list[_Node] = []
            for cat in sub.children(frozenset({"li"})):
                if cat.has_list():
                    groups.append(_Group(cat, _own(scan, cat), list(_leaves(cat))))
                else:
                    loose.append(cat)
            if loose:
                groups.insert(0, _Group(None, "", loose))
        entries.append(_Entry(li, _date_key(_own(scan, li)), groups))
    return scan, top, entries


def _cut(text: str, start: int, end: int, drop: list[_Node]) -> str:
    """``text[start:end]`` without the spans of the ``drop`` items (sorted, not nested)."""
    out: list[str] = []
    at = start
    for n in drop:
        if n.start < at or n.end > end:
            continue
        out.append(text[at : n.start])
        at = n.end
    out.append(text[at:end])
    return "".join(out)


def _dropped_items(node: _Node, keep: set[int]) -> list[_Node]:
    """Outermost items below ``node`` whose every sentence is dropped (kept: ids of leaves)."""
    out: list[_Node] = []
    stack = list(reversed(list(node.elements)))
    while stack:
        n = stack.pop()
        if n.tag == "li":
            leaves = [n] if not n.has_list() else list(_leaves(n))
            if leaves and not any(id(x) in keep for x in leaves):
                out.append(n)
                continue
        stack.extend(reversed(list(n.elements)))
    out.sort(key=lambda n: n.start)
    return out


# --------------------------------------------------------------------------- splicing


@dataclass(frozen=True)
class Insertion:
    """Markup inserted at ``offset`` of the ORIGINAL body (everything else is untouched)."""

    offset: int
    text: str


@dataclass(frozen=True)
class Splice:
    """The new body and exactly what was inserted where (for checks and for ``--dry-run``)."""

    body: str
    insertions: tuple[Insertion, ...]

    @property
    def changed(self) -> bool:
        return bool(self.insertions)


def _apply(storage: str, inserts: list[Insertion]) -> Splice:
    # Stable sort: several insertions at one offset keep the order they were planned in.
    ordered = sorted(inserts, key=lambda i: i.offset)
    merged: list[Insertion] = []
    for ins in ordered:
        if not ins.text:
            continue
        if merged and merged[-1].offset == ins.offset:
            merged[-1] = Insertion(ins.offset, merged[-1].text + ins.text)
        else:
            merged.append(ins)
    out: list[str] = []
    at = 0
    for ins in merged:
        out.append(storage[at : ins.offset])
        out.append(ins.text)
        at = ins.offset
    out.append(storage[at:])
    return Splice("".join(out), tuple(merged))


def _need_close(node: _Node, what: str) -> int:
    """Offset of ``node``'s end tag; the section must be well-formed where we write into it."""
    if not node.closed or node.tail == node.end:
        raise WikisyncError(
            f"cannot edit the Change History: its {what} (<{node.tag}> at offset {node.start}) "
            "has no end tag; fix the page markup by hand"
        )
    return node.tail


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _existing_sentences(scan: _Scan, lst: _Node, date: str, since: str | None = None) -> set[str]:
    """Sentences under ``date``, and under any date from ``since`` on when it is given."""
    seen: set[str] = set()
    for li in lst.children(frozenset({"li"})):
        key = _date_key(_own(scan, li))
        later = since is not None and _ISO_DAY.fullmatch(key) is not None and key >= since
        if key == date or later:
            seen.update(_key(_own(scan, leaf)) for leaf in _leaves(li))
    return seen


def _merge(
    body: _Scan, target: _Node, frag: _Scan, entry: _Entry, keep: set[int]
) -> list[Insertion]:
    """Add the kept sentences of ``entry`` into the page's item ``target`` of the same date."""
    ftext = frag.text
    sub = target.first_list()
    if sub is None:
        # A date item without a list yet: give it one holding the new groups.
        parts = []
        for g in entry.groups:
            if not any(id(s) in keep for s in g.sentences):
                continue
            if g.node is None:
                parts += [ftext[s.start : s.end] for s in g.sentences if id(s) in keep]
            else:
                parts.append(_cut(ftext, g.node.start, g.node.end, _dropped_items(g.node, keep)))
        return [Insertion(_need_close(target, "dated item"), "<ul>" + "".join(parts) + "</ul>")]
    inserts: list[Insertion] = []
    items = sub.children(frozenset({"li"}))
    groups = [li for li in items if li.has_list()]
    for g in entry.groups:
        kept = [s for s in g.sentences if id(s) in keep]
        if not kept:
            continue
        sentences = "".join(ftext[s.start : s.end] for s in kept)
        if g.node is None:
            inserts.append(Insertion(_need_close(sub, "dated list"), sentences))
            continue
        same = next((c for c in groups if _label_key(_own(body, c)) == _label_key(g.label)), None)
        if same is not None:
            inner = same.first_list()
            assert inner is not None  # ``groups`` only holds items with a list
            inserts.append(Insertion(_need_close(inner, "category list"), sentences))
            continue
        new_item = _cut(ftext, g.node.start, g.node.end, _dropped_items(g.node, keep))
        rank = _rank(g.label)
        after = next((c for c in groups if _rank(_own(body, c)) > rank), None)
        if after is not None:
            at = after.start
        elif groups:
            at = groups[-1].end
        else:
            at = _need_close(sub, "dated list")
        inserts.append(Insertion(at, new_item))
    return inserts


def _create_section(storage: str, scan: _Scan, heading: str, frag: _Scan, top: _Node) -> Splice:
    """Append heading + list at the end, inside the last layout cell when the page has layouts."""
    new = f"<h2>{html.escape(heading, quote=False)}</h2>" + frag.text[top.start : top.end]
    at = len(storage)
    layouts = [n for n in scan.root.elements if n.tag == "ac:layout"]
    if layouts:
        cells = [n for n in scan.nodes if n.tag == "ac:layout-cell" and n.closed]
        inside = [c for c in cells if layouts[-1].start < c.start < layouts[-1].end]
        if inside:
            at = inside[-1].tail
    elif storage.endswith("\n"):
        at = len(storage.rstrip("\n"))
    return _apply(storage, [Insertion(at, new)])


def splice_entry(
    storage: str,
    fragment: str,
    *,
    heading: str = DEFAULT_HEADING,
    create_section: bool = False,
) -> Splice:
    """Insert a Change History entry (storage markup) into a page body, recording the spans.

    Where it goes: the first ``<ul>``/``<ol>`` after the heading titled ``heading`` (h1–h6,
    outside tables; intro paragraphs skipped) and before the next heading of the same or higher
    level. The fragment's dated ``<li>`` goes at the top of that list. If the list's first item
    has the same date, the new sentences are merged into it instead: into the existing category
    item, or as a new category item at its CATEGORIES position; a sentence already written under
    that date is not repeated. A section without a list gets a new ``<ul>`` after the paragraphs
    that follow the heading. No section: WikisyncError, or with ``create_section`` an ``<h2>``
    and the list appended at the end of the body.
    """
    frag, top, entries = _read_fragment(fragment)
    scan = _scan(storage)
    sec = _find_section(scan, heading)
    if sec is None:
        if not create_section:
            raise WikisyncError(
                f"no “{heading}” section (a heading with that title) in the page; "
                "use --create-section to add one at the end"
            )
        return _create_section(storage, scan, heading, frag, top)
    if sec.lst is None:
        return _apply(storage, [Insertion(_after_intro(scan, sec), frag.text[top.start : top.end])])
    lst = sec.lst
    items = lst.children(frozenset({"li"}))
    first = items[0] if items else None
    first_date = _date_key(_own(scan, first)) if first is not None else None
    dated_para = None
    if first is not None and iso_date(_own(scan, first)) is None:
        dated_para = _dated_paragraph(scan, sec)

    inserts: list[Insertion] = []
    on_top: list[str] = []
    for entry in entries:
        seen = _existing_sentences(scan, lst, entry.date)
        keep = {id(s) for g in entry.groups for s in g.sentences if _key(_own(frag, s)) not in seen}
        if not entry.groups:
            # A bare dated item (no sentences below it): add it once.
            if not any(_date_key(_own(scan, li)) == entry.date for li in items):
                on_top.append(frag.text[entry.node.start : entry.node.end])
            continue
        if not keep:
            continue  # every sentence of this entry is already on the page
        if first is not None and entry.date == first_date and dated_para is None:
            inserts += _merge(scan, first, frag, entry, keep)
        else:
            drop = _dropped_items(entry.node, keep)
            on_top.append(_cut(frag.text, entry.node.start, entry.node.end, drop))
    if on_top:
        if dated_para is not None:
            # Dates written as paragraphs: a dated list of our own above the newest one.
            open_tag = frag.text[top.start : top.inner]
            close_tag = frag.text[top.tail : top.end]
            inserts.append(Insertion(dated_para.start, open_tag + "".join(on_top) + close_tag))
        else:
            at = first.start if first is not None else _need_close(lst, "list")
            inserts.insert(0, Insertion(at, "".join(on_top)))
    return _apply(storage, inserts)


def insert_entry(
    storage: str,
    fragment: str,
    *,
    heading: str = DEFAULT_HEADING,
    create_section: bool = False,
) -> str:
    """The page body with the entry inserted; every other byte as it was (see ``splice_entry``)."""
    return splice_entry(storage, fragment, heading=heading, create_section=create_section).body


def _old_day(cs: ChangeSet) -> str | None:
    return cs.old.when[:10] if cs.old.when else None


def _fragment_of(cs: ChangeSet, options: RenderOptions | None) -> str:
    return render_changes(cs, "confluence", options) if cs.changes else ""


def already_published(
    storage: str,
    fragment_or_changeset: str | ChangeSet,
    *,
    heading: str = DEFAULT_HEADING,
    options: RenderOptions | None = None,
    since: str | None = None,
) -> bool:
    """True when the page's Change History already holds every sentence of the entry, under its
    date (wherever that date sits in the list). An entry with nothing to say counts as published:
    there is nothing left to add. A page without the section has published nothing.

    ``since`` (an ISO day) also accepts the sentences under any date from that day on: an entry
    rebuilt later (from our own edit's version, so dated later) is still the one we wrote. For a
    ChangeSet it defaults to the day of its old version."""
    if isinstance(fragment_or_changeset, ChangeSet):
        fragment = _fragment_of(fragment_or_changeset, options)
        if not fragment:
            return True
        if since is None:
            since = _old_day(fragment_or_changeset)
    else:
        fragment = fragment_or_changeset
    frag, _top, entries = _read_fragment(fragment)
    scan = _scan(storage)
    sec = _find_section(scan, heading)
    if sec is None or sec.lst is None:
        return False
    for entry in entries:
        seen = _existing_sentences(scan, sec.lst, entry.date, since)
        wanted = {_key(_own(frag, s)) for g in entry.groups for s in g.sentences}
        if not wanted:
            # An entry with no sentence level: its own text must be there as an item.
            if not any(
                _date_key(_own(scan, li)) == entry.date
                for li in sec.lst.children(frozenset({"li"}))
            ):
                return False
            continue
        if not wanted <= seen:
            return False
    return True


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class LeftOut:
    """A change left out of the entry: the page's own Change History already describes it."""

    text: str  # what wikisync would have written for it
    status: str  # "confirmed" | "inaccurate" (as ``wikisync audit`` would say)
    date: str  # the date of the hand-written sentence
    sentence: str  # the hand-written sentence that describes it
    note: str  # the audit's note: how it matched, and what differs when inaccurate


@dataclass(frozen=True)
class PublishPlan:
    """What a publish would do to the body: enough for ``--dry-run`` to show and for the PUT."""

    date: str
    fragment: str  # the entry as storage markup ("" when there are no changes)
    old_body: str
    body: str  # the new body (the old one when noop)
    diff: str  # unified diff of old → new, lines split between block tags ("" when noop)
    noop: bool
    reason: str = ""  # "no changes" | "already published" | "already documented" when noop
    insertions: tuple[Insertion, ...] = ()
    left_out: tuple[LeftOut, ...] = ()  # changes already written by hand, not published
    changeset: ChangeSet | None = None  # what is published: the changes not left out


def split_documented(
    cs: ChangeSet, options: RenderOptions | None
) -> tuple[ChangeSet, tuple[LeftOut, ...]]:
    """Split ``cs`` into what nobody wrote yet and what the page's Change History describes."""
    from wikisync.audit import documented_changes  # rapidfuzz and numpy: only when publishing

    found = documented_changes(cs)
    if not found:
        return cs, ()
    left = tuple(
        LeftOut(
            text=" ".join(sentences(cs.changes[d.index], cs, options)),
            status=d.status,
            date=d.written.date,
            sentence=d.written.sentence,
            note=d.note,
        )
        for d in found
    )
    gone = {d.index for d in found}
    kept = [c for i, c in enumerate(cs.changes) if i not in gone]
    return replace(cs, changes=kept), left


def left_out_lines(plan: PublishPlan) -> list[str]:
    """The dry run's account of what was left out of the entry, and why (one line a change,
    then the hand-written sentence and the audit's verdict)."""
    if not plan.left_out:
        return []
    lines = [f"Left out, already in the page's Change History ({len(plan.left_out)}):"]
    for lo in plan.left_out:
        lines.append(f"- {lo.text}")
        lines.append(f"    written {lo.date}: {lo.sentence}")
        lines.append(f"    {lo.status}: {lo.note}")
    return lines


_SPLIT = re.compile(
    r"\n|(?=<(?:li|ul|ol|/ul|/ol|h[1-6]|table|/table|tr|ac:layout[\w-]*|/ac:layout[\w-]*)[\s>/])"
    r"|(?<!<li>)(?=<p[\s>/])"
)


def _lines(body: str) -> list[str]:
    """Display lines for a diff: storage bodies are often one huge line."""
    return [line for line in _SPLIT.split(body) if line]


_HUNK = re.compile(r"^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@$")


def unified_diff(old: str, new: str, *, label: str = "page", context: int = 3) -> str:
    """Readable diff of two storage bodies (the bodies themselves are never reformatted).

    The common head and tail are cut off before difflib sees the lines (a big page is tens of
    thousands of lines and an insertion touches a handful); hunk line numbers are shifted back.
    """
    a, b = _lines(old), _lines(new)
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    start = max(0, head - context)
    keep_tail = max(0, tail - context)
    lines = difflib.unified_diff(
        a[start : len(a) - keep_tail],
        b[start : len(b) - keep_tail],
        fromfile=f"{label} (now)",
        tofile=f"{label} (with the new entry)",
        n=context,
        lineterm="",
    )
    out = []
    for line in lines:
        m = _HUNK.match(line) if line.startswith("@@") else None
        if m is not None:
            line = (
                f"@@ -{int(m.group(1)) + start}{m.group(2)} "
                f"+{int(m.group(3)) + start}{m.group(4)} @@"
            )
        out.append(safe_text(line))  # the page's own text, shown on a terminal
    return "\n".join(out) + "\n" if out else ""


def plan_publish(
    storage: str,
    changeset: ChangeSet,
    *,
    heading: str = DEFAULT_HEADING,
    create_section: bool = False,
    options: RenderOptions | None = None,
) -> PublishPlan:
    """The new body for publishing ``changeset``'s entry, or a noop (nothing new to say).

    Changes the page's Change History already describes are left out (``PublishPlan.left_out``).
    """
    date = changeset.date
    changeset, left = split_documented(changeset, options)
    fragment = _fragment_of(changeset, options)
    if not fragment:
        reason = "already documented" if left else "no changes"
        return PublishPlan(
            date, "", storage, storage, "", True, reason, left_out=left, changeset=changeset
        )
    if already_published(storage, fragment, heading=heading, since=_old_day(changeset)):
        return PublishPlan(
            date, fragment, storage, storage, "", True, "already published", (), left, changeset
        )
    splice = splice_entry(storage, fragment, heading=heading, create_section=create_section)
    if not splice.changed:  # pragma: no cover - already_published() caught it
        return PublishPlan(
            date, fragment, storage, storage, "", True, "already published", (), left, changeset
        )
    diff = unified_diff(storage, splice.body)
    return PublishPlan(
        date, fragment, storage, splice.body, diff, False, "", splice.insertions, left, changeset
    )


def entry_message(date: str) -> str:
    """The version message of our edit: people scanning page history see who and why."""
    return f"wikisync: Change History for {date}"


# --------------------------------------------------------------------------- publishing


Status = Literal["published", "already-published", "no-changes", "dry-run"]


@dataclass(frozen=True)
class PublishResult:
    """How a publish ended; ``message`` is the one line the CLI prints."""

    page_id: str
    status: Status
    version_read: int  # the version the entry was built from (the last one read)
    version: int | None  # the version that holds the entry (None: dry run / nothing to publish)
    attempts: int  # PUT requests sent
    plan: PublishPlan | None
    message: str
    conflicts: int = 0  # 409s met on the way (someone saved between our read and our write)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def published(self) -> bool:
        return self.status == "published"


def _version_of(doc: Document, pid: str) -> int:
    if doc.meta.version is None:
        raise FetchError(f"page {pid} came without a version number; cannot update it safely")
    return doc.meta.version


def _storage_of(doc: Document, pid: str, markup: str = "storage") -> str:
    storage = doc.bodies.get(markup)
    if storage is None:
        raise FetchError(f"page {pid} came without its {markup} body; cannot edit it")
    return storage


def _plan(
    markup: str,
    body: str,
    cs: ChangeSet,
    *,
    heading: str,
    create_section: bool,
    options: RenderOptions | None,
) -> PublishPlan:
    """The plan in the wiki's own markup: storage XHTML (Confluence) or wikitext (MediaWiki)."""
    if markup == "wikitext":
        from wikisync.wikitext import plan_wikitext

        return plan_wikitext(
            body, cs, heading=heading, create_section=create_section, options=options
        )
    return plan_publish(body, cs, heading=heading, create_section=create_section, options=options)


def _holds(markup: str, body: str, fragment: str, heading: str) -> bool:
    if markup == "wikitext":
        from wikisync import wikitext

        return wikitext.already_published(body, fragment, heading=heading)
    return already_published(body, fragment, heading=heading)


def publish(
    client: Wiki,
    page_id: str,
    build: Callable[[Document], ChangeSet | None],
    *,
    heading: str = DEFAULT_HEADING,
    create_section: bool = False,
    dry_run: bool = True,
    retries: int = 3,
    options: RenderOptions | None = None,
) -> PublishResult:
    """Read the page, build its entry, and save it as ``version read + 1`` (a minor edit).

    ``build(doc)`` returns the ChangeSet to publish for the version just read (None: nothing).
    On 409 (someone saved in between), a lost answer (5xx, network) or a save race, the page is
    read again: if it already holds our entry the earlier save went through; otherwise the entry
    is rebuilt from the new version and saved again, at most ``retries`` more times. 403 means
    the credentials can read but not edit. A dry run stops after the plan and sends no PUT.
    """
    pid = str(page_id)
    if retries < 0:
        raise WikisyncError("publish retries must not be negative")
    attempts = 0
    conflicts = 0
    notes: list[str] = []
    markup = client.markup
    doc = client.page(pid)
    while True:
        version = _version_of(doc, pid)
        storage = _storage_of(doc, pid, markup)
        cs = build(doc)
        if cs is None or not cs.changes:
            return PublishResult(
                pid,
                "no-changes",
                version,
                None,
                attempts,
                None,
                f"page {pid} v{version}: nothing to publish (no changes)",
                conflicts,
                tuple(notes),
            )
        plan = _plan(
            markup, storage, cs, heading=heading, create_section=create_section, options=options
        )
        if plan.noop:
            already = f"the {plan.date} entry is already in the Change History"
            if plan.reason == "already documented":
                n = len(plan.left_out)
                already = (
                    f"nothing to publish: the Change History already describes "
                    f"{'the change' if n == 1 else f'all {n} changes'} of the {plan.date} entry"
                )
            return PublishResult(
                pid,
                "already-published",
                version,
                version,
                attempts,
                plan,
                f"page {pid} v{version}: {already}",
                conflicts,
                tuple(notes),
            )
        if dry_run:
            return PublishResult(
                pid,
                "dry-run",
                version,
                None,
                attempts,
                plan,
                f"page {pid} v{version}: would publish the {plan.date} entry as "
                f"v{version + 1} (dry run, nothing sent)",
                conflicts,
                tuple(notes),
            )
        title = doc.meta.title
        if not title:
            raise FetchError(f"page {pid} came without a title; cannot update it")
        attempts += 1
        try:
            saved = client.update_page(
                pid,
                title=title,
                body=plan.body,
                base=version,
                base_when=doc.meta.when,
                message=entry_message(plan.date),
                minor_edit=True,
            )
        except WikiHTTPError as e:
            if e.status == 403:
                raise FetchError(
                    f"the token can read but not edit page {pid} (HTTP 403 on {e.url}): "
                    "ask for edit permission on the page or its space"
                ) from None
            if e.status != 409 and e.status < 500:
                raise
            if e.status == 409:
                conflicts += 1
            notes.append(f"attempt {attempts}: HTTP {e.status}")
            log.info("publish to page %s: HTTP %s on save, reading it again", pid, e.status)
        except FetchError as e:
            # No answer at all: the save may or may not have happened; the re-read tells.
            notes.append(f"attempt {attempts}: {e}")
            log.info("publish to page %s: no answer on save (%s), reading it again", pid, e)
        else:
            return PublishResult(
                pid,
                "published",
                version,
                saved,
                attempts,
                plan,
                f"page {pid}: published the {plan.date} entry as v{saved}",
                conflicts,
                tuple(notes),
            )
        doc = client.page(pid)
        fresh = _storage_of(doc, pid, markup)
        if _holds(markup, fresh, plan.fragment, heading):
            now = _version_of(doc, pid)
            notes.append(f"v{now} already holds the entry: the save went through")
            return PublishResult(
                pid,
                "published",
                version,
                now,
                attempts,
                plan,
                f"page {pid}: published the {plan.date} entry as v{now} "
                "(the server's answer was lost; the page holds the entry)",
                conflicts,
                tuple(notes),
            )
        if attempts > retries:
            raise FetchError(
                f"could not publish the Change History to page {pid}: the page changed or the "
                f"save failed on each of {attempts} attempts ({conflicts} conflicts); "
                "try again later"
            )
