"""The card grammar: a table cell → its cards.

A cell holds cards separated by paragraphs of dashes, ``<hr>``, list items or separate
paragraphs; a card continues over ``<br>`` lines. One card reads
``[tag lozenge(s)] title [<Stage>] [[orgs]]``, or several ``text [orgs]`` parts in a row
(``Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]``). Cards travel as the
marked-up strings of ``inline.py``.
"""

from __future__ import annotations

import re
from collections import deque

from lxml import etree

from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.model import Part
from wikisync.parse.inline import (
    BLOCKS,
    BREAK,
    EMPTY_CONTEXT,
    HEADINGS,
    INVISIBLE,
    INVISIBLE_RE,
    LINK_OPEN,
    LINK_RE,
    LISTS,
    LOZ_OPEN,
    LOZENGE_RE,
    MENTION_OPEN,
    MENTION_RE,
    SENTINEL_RE,
    STRIKE_CLOSE,
    STRIKE_OPEN,
    STRUCK_RE,
    Context,
    clean,
    plain,
    unbreak,
    walk,
    walk_element,
)

# <Stage>: starts with a letter, no markup-ish characters, at most 60 characters; only the last
# one, and only when nothing but [orgs] and punctuation follows it (``Title <Pilot> [5]``).
_STAGE = lazy_re(r"<\s*([A-Za-z][^<>\[\]=\"'{}]{0,59}?)\s*>")
# [orgs]: numbers and/or "All", separated by commas (or ; & /). "All" in any letter case,
# spelled out: re.IGNORECASE makes the pattern twice as dear to compile, and matches the same.
_ORG = r"(?:\d{1,4}|[Aa][Ll][Ll])"
_ORGS = lazy_re(rf"\[\s*({_ORG}(?:\s*[,;&/]\s*{_ORG})*)\s*,?\s*\]")
_ORG_SPLIT = lazy_re(r"\s*[,;&/]\s*")
_ENTITY_TAIL = lazy_re(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*)$")
_ASCII_ALNUM = lazy_re("[A-Za-z0-9]")
#: What a separator line between cards is drawn with: hyphens, dashes, underscores.
_DASHES = "-‐‑‒–—―_"
#: Every character ``str.isspace`` (and a pattern's ``\s``) counts as a space, and the marks
#: around struck-through text: what may surround and separate a separator line's dashes.
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_BLANKS = _SPACES + STRIKE_OPEN + STRIKE_CLOSE
_DASHES_AND_BLANKS = _DASHES + _BLANKS
_CARD_BLOCKS = HEADINGS | {"p", "pre", "dt", "dd", "caption"}
_ITEMS = frozenset({"li", "ac:task"})
_CARD_OR_ITEM = _CARD_BLOCKS | _ITEMS
_CONTAINERS = (BLOCKS - _CARD_BLOCKS - LISTS) - {"hr", "li", "ac:task", "ac:task-list"}


@record(slots=True)
class Card:
    """A parsed card before it is placed in a period and lane."""

    title: str
    stage: str | None
    tags: tuple[str, ...]
    orgs: tuple[str, ...]
    text: str
    struck: bool
    parts: tuple[Part, ...]
    links: tuple[str, ...]
    mentions: tuple[str, ...]


# --------------------------------------------------------------------------- splitting


def _has_content(marked: str) -> bool:
    if marked.isascii():  # no sentinels
        return bool(marked) and not marked.isspace()
    if LOZ_OPEN in marked:
        return True
    if SENTINEL_RE.search(marked) is None:
        return not marked.isspace() and bool(marked)
    return bool(plain(marked).strip())


def _starts_card(marked: str) -> bool:
    """A line that starts with a letter, a digit or a lozenge is a card: it is no dash line,
    and it has content (nothing ``plain`` removes starts with such a character)."""
    first = marked[:1]
    return first.isalnum() or first == LOZ_OPEN


def _is_dash_line(line: str) -> bool:
    """A line of dashes alone, with spaces and strike-through marks around them: a separator.
    Two ``strip`` calls, not a pattern: its eight dashes made a Unicode class that took 2 M
    instructions to compile in every diff. What is left inside the blanks is a dash (there is
    one) and nothing but dashes and blanks."""
    if not line or line[0].isalnum():  # most lines: a card's text
        return False
    inside = line.strip(_BLANKS)
    return bool(inside) and not inside.strip(_DASHES_AND_BLANKS)


def _add(cards: list[str], marked: str) -> None:
    """Add a block's text as card(s), splitting at lines made only of dashes."""
    if BREAK not in marked:  # one line: a card, or a separator (a dash line needs a dash)
        if _starts_card(marked) or (not _is_dash_line(marked) and _has_content(marked)):
            cards.append(marked)
        return
    if not any(dash in marked for dash in _DASHES):
        if _has_content(marked):
            cards.append(marked)
        return
    current: list[str] = []
    for line in marked.split(BREAK):
        if _is_dash_line(line):
            joined = BREAK.join(current)
            if current and _has_content(joined):
                cards.append(joined)
            current = []
        else:
            current.append(line)
    joined = BREAK.join(current)
    if current and _has_content(joined):
        cards.append(joined)


def split_cell(cell: etree._Element, ctx: Context = EMPTY_CONTEXT) -> list[str]:
    """The marked-up text of each card in a cell (or any container), in document order."""
    cards: list[str] = []
    loose: list[str] = []
    if cell.text:
        loose.append(clean(cell.text))
    for child in cell:
        tag = child.tag
        if tag.__class__ is str:
            if tag in _CARD_OR_ITEM:
                if loose:
                    _add(cards, "".join(loose))
                    loose.clear()
                if len(child):
                    buf: list[str] = []
                    walk(child, buf, ctx)
                    _add(cards, "".join(buf))
                else:  # text only (a dash separator, a plain card): what walk would append
                    text = child.text
                    if text:  # (an empty block adds no card)
                        _add(cards, text if text.isascii() else clean(text))
            elif tag in LISTS or tag == "ac:task-list":
                if loose:
                    _add(cards, "".join(loose))
                    loose.clear()
                for item in child:
                    if item.tag in _ITEMS:
                        buf = []
                        walk(item, buf, ctx)
                        _add(cards, "".join(buf))
            elif tag == "hr":
                if loose:
                    _add(cards, "".join(loose))
                    loose.clear()
            elif tag in _CONTAINERS or (
                tag == "ac:structured-macro" and child.get("ac:name") != "status"
            ):
                if loose:
                    _add(cards, "".join(loose))
                    loose.clear()
                if tag == "ac:structured-macro":
                    for body in child:
                        if body.tag == "ac:rich-text-body":
                            cards.extend(split_cell(body, ctx))
                else:
                    cards.extend(split_cell(child, ctx))
            else:
                walk_element(child, loose, ctx)
        tail = child.tail
        if tail:
            loose.append(clean(tail))
    if loose:
        _add(cards, "".join(loose))
    return cards


# --------------------------------------------------------------------------- grammar


def _orgs_of(group: str) -> tuple[str, ...]:
    # Memoised: a page repeats a few dozen groups ("1", "3, 5, 2") over thousands of cards
    # (short ones only, and only so many, as in inline.py).
    got = _ORG_GROUPS.get(group)
    if got is not None:
        return got
    if group.isdigit():
        got = (str(int(group)),)
    else:
        got = tuple(
            "All" if raw.lower() == "all" else str(int(raw))
            for raw in _ORG_SPLIT.split(group.strip())
            if raw
        )
    if len(group) <= 64 and len(_ORG_GROUPS) < 4096:
        _ORG_GROUPS[group] = got
    return got


_ORG_GROUPS: dict[str, tuple[str, ...]] = {}


def _clean(text: str) -> str:
    text = " ".join(text.split()).lstrip(" ,;")
    end = text.rstrip(" ,;")
    if len(end) < len(text) and text[len(end)] == ";" and _ENTITY_TAIL.search(end):
        return end + ";"  # "&amp;" typed as text keeps its ";": it is not a separator
    return end


def _merge_orgs(groups: list[tuple[str, ...]]) -> tuple[str, ...]:
    if len(groups) == 1:
        return groups[0]
    return tuple(dict.fromkeys(org for group in groups for org in group))


def _parts(body: str) -> list[tuple[str, tuple[str, ...]]]:
    matches = list(_ORGS.finditer(body))
    if not matches:
        return [(_clean(body), ())]
    if len(matches) == 1:
        m = matches[0]
        return [(_clean(body[: m.start()] + " " + body[m.end() :]), _orgs_of(m.group(1)))]
    pieces: list[tuple[str, tuple[str, ...]]] = []
    pos = 0
    for m in matches:
        pieces.append((_clean(body[pos : m.start()]), _orgs_of(m.group(1))))
        pos = m.end()
    trailing = _clean(body[pos:])
    if any(ch.isalnum() for ch in trailing):
        pieces.append((trailing, ()))
    grouped: list[tuple[str, list[tuple[str, ...]]]] = []
    for text, orgs in pieces:
        if not text and grouped:  # "[1], [2]" after a part: more orgs for the same part
            grouped[-1][1].append(orgs)
        else:
            grouped.append((text, [orgs]))
    if len(grouped) > 1 and not grouped[0][0]:  # orgs before any text belong to the next part
        _, orgs0 = grouped.pop(0)
        grouped[0] = (grouped[0][0], orgs0 + grouped[0][1])
    return [(text, _merge_orgs(groups)) for text, groups in grouped]


def _is_text(rest: str) -> bool:
    if rest.isascii():
        return _ASCII_ALNUM.search(rest) is not None
    return any(ch.isalnum() for ch in rest)


def _norm_unbroken(marked: str) -> str:
    """``norm(unbreak(marked))`` in one call (it runs twice per card)."""
    if marked.isascii():
        return " ".join(marked.split())
    if BREAK in marked:
        marked = marked.replace(BREAK, " ")
    if STRIKE_OPEN in marked:
        marked = marked.replace(STRIKE_OPEN, "")
    if STRIKE_CLOSE in marked:
        marked = marked.replace(STRIKE_CLOSE, "")
    if INVISIBLE_RE.search(marked) is not None:
        marked = marked.translate(INVISIBLE)
    return " ".join(marked.split())


def parse_card(marked: str) -> Card | None:
    """Read one card's marked-up text with the card grammar; None when there is nothing."""
    links: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    tags: list[str] = []
    late: list[str] = []
    struck = False
    if marked.isascii():  # no sentinels: no marks to read
        text = body = " ".join(marked.split())
    else:
        if LINK_OPEN in marked:
            links = tuple(dict.fromkeys(LINK_RE.findall(marked)))
            marked = LINK_RE.sub("", marked)
        if MENTION_OPEN in marked:
            mentions = tuple(dict.fromkeys(MENTION_RE.findall(marked)))
            marked = MENTION_RE.sub("", marked)
        if STRIKE_OPEN in marked:
            inside = plain("".join(STRUCK_RE.findall(marked)), lozenges=False)
            outside = plain(STRUCK_RE.sub("", marked), lozenges=False)
            struck = bool(inside.strip()) and not outside.strip()
        # Links and mentions are gone (and cannot reappear: a removal only deletes
        # characters), so what ``plain`` would do is: lozenges as words or as spaces, then
        # breaks as spaces. One split serves the tags, the text and the body.
        pieces = LOZENGE_RE.split(marked) if LOZ_OPEN in marked else None
        if pieces is not None and len(pieces) > 1:
            # Tags: the lozenges before the first text segment with something besides
            # breaks and strike marks (segments sit at the even indexes, titles at the odd).
            n = len(pieces) // 2
            k = 0
            while k < n:
                seg = pieces[2 * k]
                if seg and (seg.strip() if seg.isascii() else unbreak(seg).strip()):
                    break
                k += 1
            if k:
                tags = pieces[1 : 2 * k : 2]
            late = pieces[2 * k + 1 :: 2]
            text = " ".join(pieces)
            text = " ".join(text.split()) if text.isascii() else _norm_unbroken(text)
            body = " ".join(pieces[::2])
            body = " ".join(body.split()) if body.isascii() else _norm_unbroken(body)
        else:
            text = body = _norm_unbroken(marked)
    if not text:
        return None
    stage: str | None = None
    m: re.Match[str] | None = None
    lt = body.find("<")
    if lt >= 0:
        if body.find("<", lt + 1) < 0:  # one "<": one possible <Stage>
            m = _STAGE.search(body, lt)
        else:  # the last one: "title <Stage> [orgs]"
            last = deque(_STAGE.finditer(body), maxlen=1)
            m = last[0] if last else None
        if m is not None:
            rest = body[m.end() :]
            if _is_text(_ORGS.sub("", rest) if "[" in rest else rest):
                m = None  # words after it: "<script> text" is title text, not a stage
    if m is not None:
        stage = " ".join(m.group(1).split())
        body = body[: m.start()] + " " + body[m.end() :]
        extra = late  # lozenges after the text that are not the stage: tags, not title
    elif late:
        stage = late[0]
        extra = late[1:]
    else:
        extra = late
    at = body.find("[")
    if at < 0 or body.find("[", at + 1) < 0:  # at most one [orgs] group: one part (= _parts)
        om = _ORGS.match(body, at) if at >= 0 else None
        orgs: tuple[str, ...]
        if om is None:
            title, orgs = _clean(body), ()
        else:
            rest = body[om.end() :]
            title = _clean(f"{body[:at]} {rest}" if rest else body[:at])
            orgs = _orgs_of(om.group(1))
        if tags:
            title = " ".join([*tags, title]).strip()
        parts: tuple[Part, ...] = (Part(title, orgs),)
    elif len(found := _parts(body)) == 1:  # several "[", one of them a group
        title, orgs = found[0]
        if tags:
            title = " ".join([*tags, title]).strip()
        parts = (Part(title, orgs),)
    else:
        if tags:
            first_text, first_orgs = found[0]
            found[0] = (" ".join([*tags, first_text]).strip(), first_orgs)
        parts = tuple([Part(t, o) for t, o in found])
        title = ", ".join([p.text for p in parts if p.text])
        orgs = _merge_orgs([p.orgs for p in parts])
    return Card(title, stage, tuple(tags + extra), orgs, text, struck, parts, links, mentions)


def _blank(cell: etree._Element) -> bool:
    # Most cells of a big roadmap are ``<td><p>&nbsp;</p></td>``: recognise that shape without
    # walking it (anything else goes through split_cell, which finds no cards in it either).
    if len(cell) != 1 or (cell.text and not cell.text.isspace()):
        return False
    p = cell[0]
    return (
        p.tag == "p"
        and len(p) == 0
        and (not p.text or p.text.isspace())
        and (not p.tail or p.tail.isspace())
    )


def parse_cell(cell: etree._Element, ctx: Context = EMPTY_CONTEXT) -> list[Card]:
    """All cards of a cell. A block with no title (only ``<Stage>``/``[orgs]``) continues the
    card before it."""
    if _blank(cell):
        return []
    cards: list[Card] = []
    run: list[str] = []  # the blocks of cards[-1]: a block, then the title-less ones after it
    for marked in split_cell(cell, ctx):
        card = parse_card(marked)
        if card is None:
            continue
        if not card.title and cards:
            run.append(marked)
            continue
        if len(run) > 1:
            _flush(cards, run)
        cards.append(card)
        run = [marked]
    _flush(cards, run)
    return cards


def _flush(cards: list[Card], run: list[str]) -> None:
    """Re-read the last card with its continuation blocks, once per run (not once per block:
    a cell of thousands of ``[1]`` paragraphs must stay linear)."""
    if len(run) > 1:
        merged = parse_card(BREAK.join(run))
        if merged is not None:
            cards[-1] = merged
