"""The card grammar: a table cell → its cards.

A cell holds cards separated by paragraphs of dashes, ``<hr>``, list items or separate
paragraphs; a card continues over ``<br>`` lines. One card reads
``[tag lozenge(s)] title [<Stage>] [[orgs]]``, or several ``text [orgs]`` parts in a row
(``Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]``). Cards travel as the
marked-up strings of ``inline.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from wikisync.model import Part
from wikisync.parse.inline import (
    BLOCKS,
    BREAK,
    EMPTY_CONTEXT,
    HEADINGS,
    LINK_OPEN,
    LINK_RE,
    LISTS,
    LOZ_OPEN,
    LOZENGE_RE,
    MENTION_OPEN,
    MENTION_RE,
    SENTINEL_RE,
    STRIKE_OPEN,
    STRUCK_RE,
    Context,
    clean,
    norm,
    plain,
    walk,
    walk_element,
)

# <Stage>: starts with a letter, no markup-ish characters, at most 60 characters; only the last
# one, and only when nothing but [orgs] and punctuation follows it (``Title <Pilot> [5]``).
_STAGE = re.compile(r"<\s*([A-Za-z][^<>\[\]=\"'{}]{0,59}?)\s*>")
# [orgs]: numbers and/or "All", separated by commas (or ; & /).
_ORGS = re.compile(r"\[\s*((?:\d{1,4}|all)(?:\s*[,;&/]\s*(?:\d{1,4}|all))*)\s*,?\s*\]", re.I)
_ORG_SPLIT = re.compile(r"\s*[,;&/]\s*")
_ENTITY_TAIL = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*)$")
_DASHY = re.compile("[-‐‑‒–—―_]")
_DASH_LINE = re.compile("[\\s\ue004\ue005]*[-‐‑‒–—―_][-‐‑‒–—―_\\s\ue004\ue005]*")
_CARD_BLOCKS = HEADINGS | {"p", "pre", "dt", "dd", "caption"}
_ITEMS = frozenset({"li", "ac:task"})
_CONTAINERS = (BLOCKS - _CARD_BLOCKS - LISTS) - {"hr", "li", "ac:task", "ac:task-list"}


@dataclass(slots=True)
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
    if SENTINEL_RE.search(marked) is None:
        return not marked.isspace() and bool(marked)
    return LOZ_OPEN in marked or bool(plain(marked).strip())


def _add(cards: list[str], marked: str) -> None:
    """Add a block's text as card(s), splitting at lines made only of dashes."""
    if _DASHY.search(marked) is None:
        if _has_content(marked):
            cards.append(marked)
        return
    current: list[str] = []
    for line in marked.split(BREAK):
        if _DASH_LINE.fullmatch(line):
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
            if tag in _CARD_BLOCKS or tag in _ITEMS:
                if loose:
                    _add(cards, "".join(loose))
                    loose.clear()
                buf: list[str] = []
                walk(child, buf, ctx)
                _add(cards, "".join(buf))
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
    if group.isdigit():
        return (str(int(group)),)
    return tuple(
        "All" if raw.lower() == "all" else str(int(raw))
        for raw in _ORG_SPLIT.split(group.strip())
        if raw
    )


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
    return any(ch.isalnum() for ch in rest)


def _lozenges(marked: str) -> tuple[list[str], list[str]]:
    """Lozenges before any text (tags) and after text (stage candidates)."""
    tags: list[str] = []
    late: list[str] = []
    pos = 0
    seen_text = False
    for m in LOZENGE_RE.finditer(marked):
        if not seen_text and plain(marked[pos : m.start()]).strip():
            seen_text = True
        (late if seen_text else tags).append(m.group(1))
        pos = m.end()
    return tags, late


def parse_card(marked: str) -> Card | None:
    """Read one card's marked-up text with the card grammar; None when there is nothing."""
    links: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    tags: list[str] = []
    late: list[str] = []
    struck = False
    if SENTINEL_RE.search(marked) is None:
        text = body = norm(marked)
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
        if LOZ_OPEN in marked:
            tags, late = _lozenges(marked)
        text = norm(plain(marked))
        body = norm(plain(marked, lozenges=False))
    if not text:
        return None
    stage: str | None = None
    extra: list[str] = []  # lozenges after the text that are not the stage: tags, not title
    stages = list(_STAGE.finditer(body)) if "<" in body else []
    m = stages[-1] if stages else None  # the last one: "title <Stage> [orgs]"
    if m and _is_text(_ORGS.sub("", body[m.end() :])):
        m = None  # words after it: "<script> text" is title text, not a stage
    if m:
        stage = " ".join(m.group(1).split())
        body = body[: m.start()] + " " + body[m.end() :]
        extra = late
    elif late:
        stage = late[0]
        extra = late[1:]
    pieces = _parts(body)
    if tags:
        first_text, first_orgs = pieces[0]
        pieces[0] = (" ".join([*tags, first_text]).strip(), first_orgs)
    tags.extend(extra)
    if len(pieces) == 1:
        title, orgs = pieces[0]
        parts: tuple[Part, ...] = (Part(text=title, orgs=orgs),)
    else:
        parts = tuple(Part(text=t, orgs=o) for t, o in pieces)
        title = ", ".join(p.text for p in parts if p.text)
        orgs = _merge_orgs([p.orgs for p in parts])
    return Card(title, stage, tuple(tags), orgs, text, struck, parts, links, mentions)


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
