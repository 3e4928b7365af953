"""The page's own hand-written Change History: the record wikisync learns the page's style from
and checks itself against.

Shape on the real page: nested lists date → category → sentence, older entries date → sentence.
Dates and categories may also be paragraphs or headings with a list below them.

``parse_sentence`` reads one sentence into the changes it claims, so the audit can check the
written record against the stored versions. It is pure and forgiving: a sentence it cannot read
comes back as one ``unparsed`` change, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from lxml import etree

from wikisync._lazy import lazy_re
from wikisync._record import record
from wikisync.model import CATEGORIES, HistoryEntry, Period, WrittenChange
from wikisync.parse.inline import HEADINGS, LISTS, Context, text_of
from wikisync.parse.outline import heading_level, iter_blocks

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%d %B, %Y",
    "%a, %b %d, %Y",
    "%A, %B %d, %Y",
)
_ORDINAL = lazy_re(r"(?<=\d)(?:st|nd|rd|th)\b", re.I)
_CATEGORY = {c.casefold(): c for c in CATEGORIES}
_DATED = lazy_re(r"^(.{6,30}?)\s*(?::|\s[-–—]\s)\s*(\S.*)$")
#: What ``%Y-%m-%d`` reads and ``date.fromisoformat`` reads alike (datetime.strptime imports
#: _strptime and compiles a locale-aware regex per format on first use: ~10 ms a run).
_ISO_DATE = lazy_re(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(text: str) -> str | None:
    """``2021-02-10`` for text that is a date (``Feb 10, 2021``, ``10 February 2021``, …)."""
    cleaned = _ORDINAL.sub("", text.strip().rstrip(":.").strip())
    cleaned = " ".join(cleaned.replace("Sept ", "Sep ").split())
    if not cleaned or len(cleaned) > 40 or not any(ch.isdigit() for ch in cleaned):
        return None
    if _ISO_DATE.fullmatch(cleaned):  # the usual case, without strptime's first-use cost
        try:
            return date.fromisoformat(cleaned).isoformat()
        except ValueError:
            pass  # not a real day: the formats below decide, as they always did
    for fmt in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        return parsed.isoformat()
    return None


def _category(text: str) -> str:
    text = text.strip().rstrip(":").strip()
    return _CATEGORY.get(text.casefold(), text)


class _Reader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.entries: list[HistoryEntry] = []

    def add(self, date_: str | None, category: str | None, text: str) -> None:
        if text and date_ is None:
            m = _DATED.match(text)
            as_date = iso_date(m.group(1)) if m else None
            if m and as_date:
                date_, text = as_date, m.group(2)
        if text:
            self.entries.append(HistoryEntry(date=date_ or "", category=category, text=text))

    def read_list(self, lst: etree._Element, date_: str | None, category: str | None) -> None:
        for li in lst:
            if li.tag != "li":
                continue
            own = text_of(li, self.ctx, skip=LISTS)
            subs = [c for c in li if c.tag in LISTS]
            if not subs:
                self.add(date_, category, own)
                continue
            sub_date, sub_category = date_, category
            if own:
                as_date = iso_date(own)
                if as_date is not None:
                    sub_date, sub_category = as_date, None
                elif date_ is None:
                    sub_date = own.rstrip(":").strip()
                else:
                    sub_category = _category(own)
            for sub in subs:
                self.read_list(sub, sub_date, sub_category)


def parse_history(root: etree._Element, heading: str, ctx: Context) -> list[HistoryEntry]:
    """Entries of the section under ``heading`` in page order; ``[]`` when there is none."""
    needle = heading.casefold().strip()
    if not needle:
        return []
    blocks = list(iter_blocks(root))
    start = None
    level = 0
    for i, block in enumerate(blocks):
        tag = block.tag
        if tag in HEADINGS:
            if needle in text_of(block, ctx).casefold():
                start, level = i, heading_level(block)
                break
        elif tag == "p" and text_of(block, ctx).casefold().rstrip(":").strip() == needle:
            start, level = i, 7  # a paragraph used as a heading: any real heading ends it
            break
    if start is None:
        return []
    reader = _Reader(ctx)
    date_: str | None = None
    category: str | None = None
    for block in blocks[start + 1 :]:
        lvl = heading_level(block)
        if lvl and lvl <= level:
            break
        tag = block.tag
        if tag in LISTS:
            reader.read_list(block, date_, category)
        elif tag == "table":
            continue
        else:
            text = text_of(block, ctx)
            if not text:
                continue
            as_date = iso_date(text)
            if as_date is not None:
                date_, category = as_date, None
            elif text.rstrip(":").strip().casefold() in _CATEGORY:
                category = _category(text)
            elif date_ is not None:
                reader.add(date_, category, text)
    return reader.entries


# --------------------------------------------------------------------------- sentences

# Quoted card names: curly, straight, low-high and guillemets. Each becomes a placeholder so the
# grammar below never looks inside a title (titles hold "from", "to", ";", parentheses, ...).
_QUOTED = lazy_re(r"“([^“”]*)”|\"([^\"]*)\"|„([^“”„]*)[“”]|«([^«»]*)»|‘([^‘’]*)’")
_PH = "\ue000{}\ue001"
_PH_AT = lazy_re(r"\s*(?:the\s+)?\ue000(\d+)\ue001(?:\s+card\b)?", re.I)
_PH_ANY = lazy_re(r"\ue000(\d+)\ue001")
_VERB = lazy_re(
    r"(?P<verb>moved(?:\s+up)?|move|deferred|postponed|pushed|pulled|brought|"
    r"deleted|removed|dropped|added|renamed|changed|updated)\b\s*(?P<rest>.*)",
    re.I | re.S,
)
_MOVED = {"moved", "moved up", "move", "deferred", "postponed", "pushed", "pulled", "brought"}
_DELETED = {"deleted", "removed", "dropped"}
_CHANGED = {"changed", "updated"}
_FROM = lazy_re(r"\s*from\s+", re.I)
_TO = lazy_re(r"\s*(?:back\s+|up\s+)?(?:to|into)\s+", re.I)
_IN = lazy_re(r"\s*(?:to|in|into|for|on)\s+", re.I)
_CARD_FORM = lazy_re(
    r"(?P<what>.+?)\s+(?:to|into|on)\s+(?:the\s+)?\ue000(?P<q>\d+)\ue001(?:\s+card\b)?(?P<tail>.*)",
    re.I | re.S,
)
_CLAUSE_SPLIT = lazy_re(r",?\s+and\s+(?=\ue000\d+\ue001\s+from\s)|,\s*(?=\ue000\d+\ue001\s+from\s)")
_CLAUSE_LEAD = lazy_re(r"(?:and\s+)?(?:moved\s+)?", re.I)
_ASSIGNED = lazy_re(r"(?:and\s+)?assigned\s+to\s+(?P<orgs>[^,;()]+?)\s*(?=$|[,;(])", re.I)
_NAMES_SPLIT = lazy_re(r"\s*(?:,|\band\b|&)\s*", re.I)
_RANGE_DASH = lazy_re(r"\s*[–—-]\s*")
_GENERIC_FROM = lazy_re(r"([^,;()\ue000]+?)(?=\s+(?:to|into)\s|\s*[,;(]|\s*$)", re.I)
_GENERIC_TO = lazy_re(r"([^,;()\ue000]+?)(?=\s*[,;(]|\s*$)")
_ADDED_PART = lazy_re(r"\badded\s+\ue000(\d+)\ue001", re.I)
_ORGS_ARROW = lazy_re(r"\borgani[sz]ations?\s+(?P<old>.+?)\s*→\s*(?P<new>[^;]+)", re.I)


class _NoParse(Exception):
    """The sentence does not fit the grammar: it is kept as ``unparsed``."""


@record(frozen=True, slots=True)
class _Taken:
    name: str  # as written
    label: str | None  # Period.label, None when no period has that name
    rest: str


@record(frozen=True, slots=True)
class _Claim:
    """One change a sentence claims, before it is dated and categorised."""

    kind: str
    title: str
    src: _Taken | None = None
    dst: _Taken | None = None
    orgs: tuple[str, ...] = ()
    part: str | None = None
    new_title: str | None = None
    note: str | None = None


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def lane_claim(details: str | None, words: Iterable[str]) -> tuple[str, str] | None:
    """``team Platform → Payments`` in a sentence's details: (old lane, new lane) as written.

    ``lane`` is always a lane word (wikisync's own, and what older entries say); ``words`` adds
    the page's (a row table's ``Team`` header), in any case."""
    if not details or "→" not in details:
        return None
    alts = sorted({" ".join(w.split()).lower() for w in ("lane", *words) if w.strip()}, key=len)
    pattern = "|".join(r"\s+".join(map(re.escape, w.split())) for w in reversed(alts))
    value = r"[^;,()→]+?"  # a lane as written: up to the arrow, or to the next detail
    m = re.search(
        rf"(?:^|[;,:(]\s*)(?:{pattern})\s+(?P<old>{value})\s*→\s*(?P<new>{value})\s*(?=$|[;,)])",
        details,
        re.I,
    )
    return (m.group("old"), m.group("new")) if m else None


def period_names(periods: Iterable[Period]) -> dict[str, str]:
    """Every name a period goes by (label, short, release alias, label without its months),
    lower-cased, to its label; the first period to claim a name keeps it."""
    names: dict[str, str] = {}
    for p in periods:
        bare = re.sub(r"\s*\([^()]*\)\s*$", "", p.label)
        for name in (p.label, p.short, *p.aliases, bare):
            key = _fold(name)
            if key:
                names.setdefault(key, p.label)
    for p in periods:
        if p.backlog:
            names.setdefault("backlog", p.label)
    return names


class _Grammar:
    """One sentence's parser: placeholders for the quoted titles, the period names to resolve."""

    def __init__(self, quotes: list[str], names: dict[str, str]) -> None:
        self.quotes = quotes
        self.names = names
        self.keys = sorted(names, key=lambda k: (-len(k), k))

    # pieces ------------------------------------------------------------------

    def restore(self, text: str) -> str:
        """Placeholders back to “quoted” text, for notes and unquoted titles."""
        return _PH_ANY.sub(lambda m: f"“{self.quotes[int(m.group(1))]}”", text).strip()

    def known(self, s: str) -> tuple[str, str, str] | None:
        """A known period name at the start of ``s``: (as written, label, rest)."""
        low = s.lower()
        for key in self.keys:
            n = len(key)
            if low.startswith(key) and (n == len(s) or not s[n].isalnum()):
                return s[:n], self.names[key], s[n:]
        return None

    def period(self, s: str, *, before_to: bool) -> _Taken:
        """The period at the start of ``s``; a name no period has is kept, unresolved."""
        s = s.lstrip()
        for body in (s, re.sub(r"^the\s+", "", s, flags=re.I)):
            hit = self.known(body)
            if hit is None:
                continue
            name, label, rest = hit
            dash = _RANGE_DASH.match(rest)
            if dash:  # "Q3–Q4": a card spanning periods is named by its first one
                end = self.known(rest[dash.end() :])
                if end is not None:
                    name, rest = name + rest[: dash.end()] + end[0], end[2]
            return _Taken(name, label, rest)
        m = (_GENERIC_FROM if before_to else _GENERIC_TO).match(s)
        if m is None or not m.group(1).strip():
            raise _NoParse
        return _Taken(m.group(1).strip(), None, s[m.end() :])

    def title(self, s: str, preps: re.Pattern[str]) -> tuple[str, str]:
        """The card name at the start of ``s`` and what follows it.

        Quoted names are certain. An unquoted name runs up to the first preposition that is
        followed by a known period, else up to the first preposition at all.
        """
        m = _PH_AT.match(s)
        if m:
            return self.quotes[int(m.group(1))], s[m.end() :]
        cuts = [m.start() for m in re.finditer(r"\s", s) if preps.match(s, m.start())]
        chosen = None
        for cut in cuts:
            after = s[preps.match(s, cut).end() :]  # type: ignore[union-attr]
            if self.known(after) or self.known(re.sub(r"^the\s+", "", after, flags=re.I)):
                chosen = cut
                break
        if chosen is None:
            if not cuts:
                raise _NoParse
            chosen = cuts[0]
        name = self.restore(s[:chosen]).strip(" “”\"'")
        if not name:
            raise _NoParse
        return name, s[chosen:]

    def tail(self, rest: str) -> tuple[tuple[str, ...], str | None]:
        """What may follow the periods: ``, assigned to ORG`` and a remark (even unclosed)."""
        rest = rest.strip()
        orgs: tuple[str, ...] = ()
        if not rest:
            return orgs, None
        if rest.startswith(","):
            rest = rest[1:].strip()
            m = _ASSIGNED.match(rest)
            if m:
                orgs = _names(m.group("orgs"))
                rest = rest[m.end() :].lstrip(" ,")
        elif rest[0] not in "(-–—:":
            raise _NoParse
        note = self.restore(rest).strip(" -–—:")
        if note.startswith("("):
            note = note[1:]
            if note.endswith(")") and "(" not in note:
                note = note[:-1]
        return orgs, (note.strip() or None)

    # forms -------------------------------------------------------------------

    def moved(self, rest: str) -> list[_Claim]:
        out: list[_Claim] = []
        for i, clause in enumerate(_clauses(rest)):
            clause = clause.strip()
            if i:
                clause = clause[_CLAUSE_LEAD.match(clause).end() :]  # type: ignore[union-attr]
            title, after = self.title(clause, _FROM_OR_TO)
            src = dst = None
            m = _FROM.match(after)
            if m:
                src = self.period(after[m.end() :], before_to=True)
                after = src.rest
            m = _TO.match(after)
            if m:
                dst = self.period(after[m.end() :], before_to=False)
                after = dst.rest
            if src is None and dst is None:
                raise _NoParse
            orgs, note = self.tail(after)
            out.append(_Claim("moved", title, src=src, dst=dst, orgs=orgs, note=note))
        return out

    def added(self, rest: str) -> list[_Claim]:
        m = _CARD_FORM.fullmatch(rest)
        if m:  # "Added “X” and ORG to the “Y” card": a part and organisations on a card
            parts: list[str] = []
            orgs: list[str] = []
            for bit in _NAMES_SPLIT.split(m.group("what")):
                ph = _PH_ANY.fullmatch(bit.strip())
                if ph:
                    parts.append(self.quotes[int(ph.group(1))])
                elif bit.strip():
                    orgs.append(self.restore(bit).strip(" “”\"'"))
            after = m.group("tail")
            where = None
            inm = _IN.match(after)
            if inm:
                where = self.period(after[inm.end() :], before_to=False)
                after = where.rest
            more, note = self.tail(after)
            return [
                _Claim(
                    "changed",
                    self.quotes[int(m.group("q"))],
                    dst=where,
                    orgs=(*orgs, *more),
                    part=", ".join(parts) or None,
                    note=note,
                )
            ]
        title, after = self.title(rest, _IN_PREP)
        dst = None
        inm = _IN.match(after)
        if inm:
            dst = self.period(after[inm.end() :], before_to=False)
            after = dst.rest
        orgs2, note = self.tail(after)
        return [_Claim("added", title, dst=dst, orgs=orgs2, note=note)]

    def deleted(self, rest: str) -> list[_Claim]:
        title, after = self.title(rest, _FROM_OR_IN)
        src = None
        m = _FROM.match(after) or _IN.match(after)
        if m:
            src = self.period(after[m.end() :], before_to=False)
            after = src.rest
        _, note = self.tail(after)
        return [_Claim("deleted", title, src=src, note=note)]

    def _where_in_parens(self, after: str) -> tuple[_Taken | None, str]:
        m = re.match(r"\s*\(", after)
        if m:
            try:
                where = self.period(after[m.end() :], before_to=False)
            except _NoParse:
                return None, after
            close = re.match(r"\s*\)", where.rest)
            if where.label is not None and close:
                return where, where.rest[close.end() :]
        return None, after

    def renamed(self, rest: str) -> list[_Claim]:
        title, after = self.title(rest, _TO_PREP)
        m = re.match(r"\s*to\s+\ue000(\d+)\ue001", after, re.I)
        if m is None:
            raise _NoParse
        where, after = self._where_in_parens(after[m.end() :])
        _, note = self.tail(after)
        new_title = self.quotes[int(m.group(1))]
        return [_Claim("changed", title, dst=where, new_title=new_title, note=note)]

    def changed(self, rest: str) -> list[_Claim]:
        m = _PH_AT.match(rest)
        if m is None:
            raise _NoParse
        title = self.quotes[int(m.group(1))]
        where, after = self._where_in_parens(rest[m.end() :])
        part = None
        orgs: tuple[str, ...] = ()
        note = None
        after = after.strip()
        if after.startswith(":"):
            details = after[1:].strip()
            pm = _ADDED_PART.search(details)
            if pm:
                part = self.quotes[int(pm.group(1))]
            om = _ORGS_ARROW.search(details)
            if om:
                old = {n.casefold() for n in _names(om.group("old"))}
                orgs = tuple(n for n in _names(om.group("new")) if n.casefold() not in old)
            note = self.restore(details) or None
        elif after:
            orgs, note = self.tail(after)
        return [_Claim("changed", title, dst=where, orgs=orgs, part=part, note=note)]

    def sentence(self, s: str) -> list[_Claim]:
        m = _VERB.fullmatch(s)
        if m is None:
            raise _NoParse
        verb = " ".join(m.group("verb").lower().split())
        rest = m.group("rest")
        if verb in _MOVED:
            return self.moved(rest)
        if verb in _DELETED:
            return self.deleted(rest)
        if verb == "added":
            return self.added(rest)
        if verb == "renamed":
            return self.renamed(rest)
        if verb in _CHANGED:
            return self.changed(rest)
        raise _NoParse  # pragma: no cover - every verb of _VERB is handled above


_FROM_OR_TO = lazy_re(r"\s+(?:from|to|into)\s+", re.I)
_FROM_OR_IN = lazy_re(r"\s+(?:from|in)\s+", re.I)
_IN_PREP = lazy_re(r"\s+(?:to|in|into|for)\s+", re.I)
_TO_PREP = lazy_re(r"\s+to\s+", re.I)


def _names(text: str) -> tuple[str, ...]:
    """``Appsembler and edX`` → ("Appsembler", "edX")."""
    return tuple(n.strip(" .“”\"'") for n in _NAMES_SPLIT.split(text) if n.strip(" .“”\"'"))


def _clauses(rest: str) -> list[str]:
    """Several moves in one sentence: split on ``;`` (outside parentheses) and on
    ``, “Y” from`` / ``and “Y” from``."""
    pieces: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(rest):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            pieces.append(rest[start:i])
            start = i + 1
    pieces.append(rest[start:])
    out: list[str] = []
    for piece in pieces:
        out.extend(p for p in _CLAUSE_SPLIT.split(piece) if p.strip())
    if not out:
        raise _NoParse
    return out


def section_prefix(text: str, sections: Iterable[str]) -> tuple[str | None, str]:
    """The roadmap a sentence is led by and the rest: ``Product features: Moved “X” …`` on a
    page of several roadmaps, as wikisync writes it. Only a name of ``sections`` (any case)
    is a prefix; any other ``Word:`` is part of the sentence (a title can hold a colon)."""
    written = {" ".join(name.split()): name for name in sections}  # as ``text``: one space
    for key in sorted(written, key=lambda k: (-len(k), k)):
        n = len(key)
        if key and text[:n].casefold() == key.casefold() and text[n : n + 1] == ":":
            rest = text[n + 1 :].strip()
            if rest:
                return written[key], rest
    return None, text


def parse_sentence(
    entry: HistoryEntry,
    periods: Iterable[Period],
    *,
    sections: Iterable[str] = (),
    lane_words: Iterable[str] = (),
) -> list[WrittenChange]:
    """The changes one hand-written sentence claims, in the order it names them.

    Period names (label, short name, release alias; any case) are resolved against ``periods``
    — the versions the sentence will be checked against. On a page of several roadmaps a
    sentence may be led by one's name (``sections``: ``Roadmap.sections``); the name is kept in
    ``WrittenChange.section`` and the rest is read. ``lane_words`` are what those versions call
    their lanes besides ``lane`` (``Roadmap.lane_names``: a row table's ``Team``). A sentence
    outside the grammar is returned as a single ``unparsed`` change so that nothing written is
    ever dropped.
    """
    words = tuple(lane_words)
    text = " ".join(entry.text.split())
    section, claim = section_prefix(text, sections)
    quotes: list[str] = []

    def hide(m: re.Match[str]) -> str:
        quotes.append(" ".join(next(g for g in m.groups() if g is not None).split()))
        return _PH.format(len(quotes) - 1)

    s = _QUOTED.sub(hide, claim).strip()
    if s.endswith("."):
        s = s[:-1].rstrip()
    base = WrittenChange(
        date=entry.date,
        category=entry.category,
        kind="unparsed",
        title="",
        sentence=text,
        section=section,
    )
    try:
        found = _Grammar(quotes, period_names(periods)).sentence(s)
    except _NoParse:
        return [base]
    claims = [(c, lane_claim(c.note, words)) for c in found]
    return [
        WrittenChange(
            date=entry.date,
            category=entry.category,
            kind=c.kind,
            title=c.title,
            from_period=c.src.label if c.src else None,
            to_period=c.dst.label if c.dst else None,
            orgs=c.orgs,
            sentence=text,
            from_name=c.src.name if c.src else None,
            to_name=c.dst.name if c.dst else None,
            part=c.part,
            new_title=c.new_title,
            note=c.note,
            section=section,
            from_lane=lane[0] if lane else None,
            to_lane=lane[1] if lane else None,
        )
        for c, lane in claims
    ]
