"""Inline content of an element as one marked-up string, the same for storage, view and html.

Every reader of cell, label, legend and history text goes through ``walk`` so that lozenges,
links, mentions, strikethrough and whitespace mean the same thing everywhere. Text is joined
exactly as written (``<span>Contain</span><span>erization</span>`` stays one word); only
``<br>`` and block boundaries become breaks.

Structure travels inside the string as private-use sentinel characters (``load`` strips them from
the page, so they cannot be forged): a break, ``LOZ title /LOZ``, ``LINK url /LINK``,
``MENTION name /MENTION`` and ``STRIKE … /STRIKE`` around struck runs. Strings and regular
expressions keep per-card work in C, which is what makes a 3 MB page parse fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from lxml import etree

from wikisync._lazy import lazy_re
from wikisync._record import record

BREAK = "\ue008"  # <br> or a block boundary
LOZ_OPEN, LOZ_CLOSE = "\ue000", "\ue001"  # a status macro / aui-lozenge; its title inside
LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"  # href / URL inside; the link text follows
STRIKE_OPEN, STRIKE_CLOSE = "\ue004", "\ue005"  # around struck-through text
MENTION_OPEN, MENTION_CLOSE = "\ue006", "\ue007"  # display name (or account id) inside

SENTINEL_RE = lazy_re("[\ue000-\ue008]")
LOZENGE_RE = lazy_re("\ue000([^\ue001]*)\ue001")
LINK_RE = lazy_re("\ue002([^\ue003]*)\ue003")
MENTION_RE = lazy_re("\ue006([^\ue007]*)\ue007")
STRUCK_RE = lazy_re("\ue004([^\ue005]*)\ue005")

#: Invisible characters that split words in copied text (``&#8203;``, ``&shy;``, ...).
INVISIBLE: dict[int, None] = {
    0x200B: None,
    0x200C: None,
    0x200D: None,
    0x2060: None,
    0xFEFF: None,
    0x00AD: None,
}
INVISIBLE_RE = lazy_re("[" + "".join(map(chr, INVISIBLE)) + "]")
_SENTINELS: dict[int, None] = {cp: None for cp in range(0xE000, 0xE009)}
#: Characters ``load`` removes from a page: our sentinels, and the invisible ones.
STRIP_CHARS: dict[int, None] = {**_SENTINELS, **INVISIBLE}

HEADINGS: frozenset[str] = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LISTS: frozenset[str] = frozenset({"ul", "ol"})
BLOCKS: frozenset[str] = frozenset(
    {
        "p",
        "div",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "hr",
        "dl",
        "dt",
        "dd",
        "figure",
        "center",
        "ac:rich-text-body",
        "ac:task-list",
        "ac:task",
        "ac:task-body",
        "ac:layout",
        "ac:layout-section",
        "ac:layout-cell",
        *HEADINGS,
    }
)
_SKIP: frozenset[str] = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "colgroup",
        "col",
        "img",
        "ac:parameter",
        "ac:emoticon",
        "ac:image",
        "ac:placeholder",
        "ac:task-id",
        "ac:task-uuid",
        "ac:task-status",
        "ac:adf-fallback",
    }
)
_STRIKE: frozenset[str] = frozenset({"s", "del", "strike"})
# Where editors put ``style="text-decoration: line-through"``.
_STYLED: frozenset[str] = frozenset({"span", "p", "div", "font", "li", "a", "strong", "em", "u"})
# Plain inline formatting: just walk into it.
_INLINE: frozenset[str] = frozenset(
    {
        "strong",
        "b",
        "em",
        "i",
        "u",
        "code",
        "font",
        "sup",
        "sub",
        "small",
        "big",
        "mark",
        "abbr",
        "cite",
        "q",
        "kbd",
        "samp",
        "var",
        "tt",
        "ins",
        "label",
        "nobr",
        "wbr",
    }
)
_NO_SKIP: frozenset[str] = frozenset()


@record(frozen=True, slots=True)
class Context:
    """What the view body knows that the storage body does not."""

    link_titles: Mapping[str, str] = field(default_factory=dict)  # smart-link URL -> title
    users: Mapping[str, str] = field(default_factory=dict)  # account id / username -> name


EMPTY_CONTEXT = Context()


def norm(text: str) -> str:
    """Collapse all whitespace, ``&nbsp;`` included (str.split knows Unicode spaces), and drop
    invisible characters (isascii() is O(1), so plain ASCII text pays nothing; a C scan spares
    the per-character ``translate`` when there is nothing to drop)."""
    if not text.isascii() and INVISIBLE_RE.search(text) is not None:
        text = text.translate(INVISIBLE)
    return " ".join(text.split())


def clean(text: str) -> str:
    """Drop sentinel characters from page text (a no-op for ASCII)."""
    # Character references (&#xE002;) are resolved by the parser, after ``load`` stripped the
    # sentinels from the source: drop them again so page text can never forge structure.
    if not text.isascii() and SENTINEL_RE.search(text):
        return text.translate(_SENTINELS)
    return text


def raw_text(el: etree._Element) -> str:
    """All text inside an element, as written (HTML parsing always yields str)."""
    if len(el) == 0:  # no children: itertext() would yield just the text
        return el.text or ""
    texts: Any = el.itertext()  # str pieces (HTML parsing), typed here: no cast() call
    return "".join(texts)


def element_text(el: etree._Element) -> str:
    """Plain text of an element, whitespace-normalised (for attribute-like children)."""
    if len(el) == 0:
        text = el.text
        if not text:
            return ""
        got = _NORMED.get(text)
        return got if got is not None else _memoised(_NORMED, _norm_clean, text)
    return clean(norm(raw_text(el)))


# Lozenge and parameter texts repeat across a page ("Pilot", "Grey"): each is normalised once.
# Only short texts are kept, and only so many: a memo must not keep a hostile page's huge or
# countless strings alive.
_MEMO_MAX_LEN = 200
_MEMO_MAX_SIZE = 4096


def _memoised(memo: dict[str, str], fn: Callable[[str], str], raw: str) -> str:
    """``fn(raw)``, remembered in ``memo`` (callers try ``memo.get(raw)`` first, inline)."""
    got = fn(raw)
    if len(raw) <= _MEMO_MAX_LEN and len(memo) < _MEMO_MAX_SIZE:
        memo[raw] = got
    return got


def _norm_clean(text: str) -> str:
    return clean(norm(text))


def lozenge_title(text: str) -> str:
    """View format upper-cases lozenges (``PYLINT``); give them back their title case."""
    text = clean(norm(text))
    if text.isupper():
        return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())
    return text


def _lozenge_mark(raw: str) -> str:
    """The marked lozenge of a view-format lozenge's raw text ("" when it has no title)."""
    title = lozenge_title(raw)
    return f"{LOZ_OPEN}{title}{LOZ_CLOSE}" if title else ""


def _status_mark(raw: str) -> str:
    """The marked lozenge of a status macro's raw title parameter ("" when it is empty)."""
    title = clean(norm(raw))
    return f"{LOZ_OPEN}{title}{LOZ_CLOSE}" if title else ""


_NORMED: dict[str, str] = {}
_LOZENGE_MARKS: dict[str, str] = {}
_STATUS_MARKS: dict[str, str] = {}


# How ``_child`` treats a tag: a base kind, plus flags for the strikethrough test (a strike tag,
# or a tag editors put ``style="text-decoration: line-through"`` on). One dict lookup replaces
# a chain of set tests per element.
_K_WALK, _K_SKIP, _K_BR, _K_SPAN, _K_A, _K_MACRO, _K_LINK, _K_TIME, _K_BLOCK = range(9)
_F_STYLED, _F_STRIKE = 16, 32
_BASE = 15
_KIND: dict[str, int] = {
    **{tag: _K_WALK for tag in _INLINE},
    **{tag: _K_BLOCK for tag in BLOCKS},
    "span": _K_SPAN,
    "a": _K_A,
    "ac:structured-macro": _K_MACRO,
    "ac:macro": _K_MACRO,
    "ac:link": _K_LINK,
    "time": _K_TIME,
    "br": _K_BR,
    **{tag: _K_SKIP for tag in _SKIP},
}
for _tag in _STYLED:
    _KIND[_tag] |= _F_STYLED
for _tag in _STRIKE:
    _KIND[_tag] = _K_WALK | _F_STRIKE  # once struck, a strike tag is plain inline content


def walk(
    el: etree._Element,
    out: list[str],
    ctx: Context = EMPTY_CONTEXT,
    struck: bool = False,
    skip: frozenset[str] = _NO_SKIP,
) -> None:
    """Append the marked-up text of ``el``'s content (its text and children, not its tail)."""
    text = el.text
    if text:
        out.append(text if text.isascii() else clean(text))
    for child in el:
        tag: Any = child.tag  # str for an element (checked below); not a cast() call per child
        if tag.__class__ is str and tag not in skip:
            # The two elements nearly every card has are read here, without a call per element:
            # a status macro (never struck itself) and a plain span (the red [orgs]).
            if tag == "ac:structured-macro" and child.get("ac:name") == "status":
                for p in child:  # _status, inline: the first title parameter as a lozenge
                    if p.tag == "ac:parameter" and p.get("ac:name") == "title":
                        raw = p.text if len(p) == 0 else None
                        if raw is None:
                            _status(child, out)
                        elif raw:
                            mark = _STATUS_MARKS.get(raw)
                            if mark is None:
                                mark = _memoised(_STATUS_MARKS, _status_mark, raw)
                            if mark:
                                out.append(mark)
                        break
            elif tag == "span" and (struck or not _struck_style(child)):
                cls = child.get("class")
                if cls is not None and ("status-macro" in cls or "aui-lozenge" in cls):
                    raw = raw_text(child)
                    mark = _LOZENGE_MARKS.get(raw)
                    if mark is None:
                        mark = _memoised(_LOZENGE_MARKS, _lozenge_mark, raw)
                    if mark:
                        out.append(mark)
                elif len(child):
                    walk(child, out, ctx, struck, skip)
                else:
                    text = child.text
                    if text:
                        out.append(text if text.isascii() else clean(text))
            else:
                _child(child, tag, out, ctx, struck, skip)
        tail = child.tail
        if tail:
            out.append(tail if tail.isascii() else clean(tail))


def walk_element(el: etree._Element, out: list[str], ctx: Context = EMPTY_CONTEXT) -> None:
    """Append the marked-up text of ``el`` itself (not its tail), as a child being walked."""
    tag: Any = el.tag
    if tag.__class__ is str:
        _child(el, tag, out, ctx, False, _NO_SKIP)


def _child(
    el: etree._Element,
    tag: str,
    out: list[str],
    ctx: Context,
    struck: bool,
    skip: frozenset[str],
) -> None:
    kind = _KIND.get(tag)
    if kind is None:
        if not tag.startswith("ri:"):
            walk(el, out, ctx, struck, skip)
        return
    if kind > _BASE and not struck and (kind & _F_STRIKE or _struck_style(el)):
        out.append(STRIKE_OPEN)
        _child(el, tag, out, ctx, True, skip)
        out.append(STRIKE_CLOSE)
        return
    kind &= _BASE
    if kind == _K_WALK:
        walk(el, out, ctx, struck, skip)
    elif kind == _K_MACRO:
        _macro(el, out, ctx, struck, skip)
    elif kind == _K_SPAN:
        cls = el.get("class")
        if cls is not None and ("status-macro" in cls or "aui-lozenge" in cls):
            raw = raw_text(el)
            mark = _LOZENGE_MARKS.get(raw)
            if mark is None:
                mark = _memoised(_LOZENGE_MARKS, _lozenge_mark, raw)
            if mark:
                out.append(mark)
            return
        walk(el, out, ctx, struck, skip)
    elif kind == _K_BLOCK:
        out.append(BREAK)
        walk(el, out, ctx, struck, skip)
        out.append(BREAK)
    elif kind == _K_BR:
        out.append(BREAK)
    elif kind == _K_A:
        _anchor(el, out, ctx, struck, skip)
    elif kind == _K_LINK:
        _ac_link(el, out, ctx)
    elif kind == _K_TIME:
        value = el.get("datetime") or raw_text(el)
        if value:
            out.append(clean(value))
    # _K_SKIP: nothing


def _struck_style(el: etree._Element) -> bool:
    style = el.get("style")
    return style is not None and "line-through" in style.lower()


def _anchor(
    el: etree._Element, out: list[str], ctx: Context, struck: bool, skip: frozenset[str]
) -> None:
    cls = el.get("class") or ""
    account = el.get("data-account-id") or el.get("data-username")
    if "confluence-userlink" in cls or "user-mention" in cls or account:
        name = element_text(el)
        if name or account:
            out.append(f"{MENTION_OPEN}{name or account}{MENTION_CLOSE}")
        if name:
            out.append(name)
        return
    href = clean(el.get("href") or "")
    if href:
        out.append(f"{LINK_OPEN}{href}{LINK_CLOSE}")
        title = ctx.link_titles.get(href)
        if title:
            text = element_text(el)
            if not text or text == href or el.get("data-card-appearance"):
                out.append(title)
                return
    walk(el, out, ctx, struck, skip)


def _param(el: etree._Element, name: str) -> str:
    for p in el:
        if p.tag == "ac:parameter" and p.get("ac:name") == name:
            return element_text(p)
    return ""


def _status(el: etree._Element, out: list[str]) -> None:
    """A status macro: its (first) title parameter as a lozenge."""
    for p in el:
        if p.tag == "ac:parameter" and p.get("ac:name") == "title":
            if len(p) == 0:
                raw = p.text
                if not raw:
                    return
                mark = _STATUS_MARKS.get(raw)
                if mark is None:
                    mark = _memoised(_STATUS_MARKS, _status_mark, raw)
            else:
                title = element_text(p)
                mark = f"{LOZ_OPEN}{title}{LOZ_CLOSE}" if title else ""
            if mark:
                out.append(mark)
            return


def _macro(
    el: etree._Element, out: list[str], ctx: Context, struck: bool, skip: frozenset[str]
) -> None:
    name = el.get("ac:name") or ""
    if name == "status":
        _status(el, out)
        return
    if name == "jira":
        key = _param(el, "key")
        if key:
            out.append(key)
        return
    for child in el:
        if child.tag in ("ac:rich-text-body", "ac:plain-text-body"):
            out.append(BREAK)
            walk(child, out, ctx, struck, skip)
            out.append(BREAK)


def _ac_link(el: etree._Element, out: list[str], ctx: Context) -> None:
    target: etree._Element | None = None
    body = ""
    for child in el:
        tag: Any = child.tag
        if tag.__class__ is not str:
            continue
        if tag.startswith("ri:") and target is None:
            target = child
        elif tag in ("ac:plain-text-link-body", "ac:link-body"):
            body = element_text(child)
    text = body
    if target is not None:
        kind = target.tag
        if kind == "ri:user":
            uid = clean(
                target.get("ri:account-id")
                or target.get("ri:userkey")
                or target.get("ri:username")
                or ""
            )
            name = ctx.users.get(uid, "")
            if name or uid:
                out.append(f"{MENTION_OPEN}{name or uid}{MENTION_CLOSE}")
            text = name or body
        elif kind == "ri:url":
            url = clean(target.get("ri:value") or "")
            if url:
                out.append(f"{LINK_OPEN}{url}{LINK_CLOSE}")
            text = body or url
        elif kind in ("ri:page", "ri:blog-post"):
            text = body or target.get("ri:content-title") or ""
        elif kind == "ri:attachment":
            text = body or target.get("ri:filename") or ""
        elif kind == "ri:space":
            text = body or target.get("ri:space-key") or ""
    if text:
        out.append(clean(text))


# --------------------------------------------------------------------------- reading marks


def plain(marked: str, lozenges: bool = True) -> str:
    """Marked text as a reader sees it (lozenges as words when asked), not normalised."""
    if marked.isascii():  # sentinels are not ASCII
        return marked
    if LINK_OPEN in marked:
        marked = LINK_RE.sub("", marked)
    if MENTION_OPEN in marked:
        marked = MENTION_RE.sub("", marked)
    if LOZ_OPEN in marked:
        # " ".join(split) = LOZENGE_RE.sub(r" \1 ", ...) without expanding a template per match
        marked = " ".join(LOZENGE_RE.split(marked)) if lozenges else LOZENGE_RE.sub(" ", marked)
    return unbreak(marked)


def unbreak(marked: str) -> str:
    """Breaks as spaces, strikethrough marks dropped (``str.replace`` is a C scan per mark,
    ``str.translate`` a dict lookup per character)."""
    if BREAK in marked:
        marked = marked.replace(BREAK, " ")
    if STRIKE_OPEN in marked:
        marked = marked.replace(STRIKE_OPEN, "")
    if STRIKE_CLOSE in marked:
        marked = marked.replace(STRIKE_CLOSE, "")
    return marked


def marked_of(
    el: etree._Element, ctx: Context = EMPTY_CONTEXT, skip: frozenset[str] = _NO_SKIP
) -> str:
    """The marked-up text of an element's content."""
    out: list[str] = []
    walk(el, out, ctx, False, skip)
    return "".join(out)


def text_of(
    el: etree._Element,
    ctx: Context = EMPTY_CONTEXT,
    lozenges: bool = True,
    skip: frozenset[str] = _NO_SKIP,
) -> str:
    """Normalised text of an element as a reader sees it."""
    return norm(plain(marked_of(el, ctx, skip), lozenges))


def label_of(el: etree._Element, ctx: Context = EMPTY_CONTEXT) -> tuple[str, tuple[str, ...]]:
    """A header cell's text without its lozenges, and the lozenge titles (release names)."""
    marked = marked_of(el, ctx)
    if LOZ_OPEN not in marked:
        return norm(plain(marked)), ()
    return norm(plain(marked, lozenges=False)), tuple(LOZENGE_RE.findall(marked))


def lines_of(el: etree._Element, ctx: Context = EMPTY_CONTEXT) -> list[str]:
    """Non-empty normalised lines of an element, split at ``<br>`` and blocks."""
    return [line for line in (norm(plain(x)) for x in marked_of(el, ctx).split(BREAK)) if line]
