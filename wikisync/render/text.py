"""Sentences in the page's own Change History style, grouping, and the Jinja2 layouts.

The page writes its history by hand (``Moved “X” from Q2 to Q3.``); generated entries should be
indistinguishable from it, so sentence shapes follow the page, and everything a reader would not
see on the page (ids, scores) stays out. Python builds the grouped data (date → category →
sentences); the templates only lay it out, so a team can restyle without touching code.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wikisync._record import record
from wikisync.errors import WikisyncError
from wikisync.model import (
    CATEGORIES,
    Change,
    ChangeSet,
    FieldChange,
    Item,
    Roadmap,
    Where,
    lane_section,
)
from wikisync.safe import cap_title
from wikisync.timeline import shift, show_date

if TYPE_CHECKING:
    import jinja2

TEMPLATE_FORMATS: tuple[str, ...] = ("text", "markdown", "confluence", "wiki")
_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_LQ, _RQ = "“", "”"
_ARROW = "→"
_RANGE = "–"  # en dash between the first and last period of a spanning card


@record(frozen=True)
class RenderOptions:
    """How a team wants its history written; every field has a working default."""

    period_names: dict[str, str] = field(default_factory=dict)  # label or short -> "Koa"
    template_dir: Path | None = None  # a team's own text.j2 / markdown.j2 / confluence.j2
    # Confluence's compare-versions page without the numbers, for links in markdown and wiki:
    # ".../pages/diffpagesbyversion.action?pageId=123" (None: no links).
    versions_url: str | None = None


# --------------------------------------------------------------------------- naming


def _quoted(text: str) -> str:
    """“Text”, cut to ``safe.TITLE_CAP``: a 200,000-character title cannot flood an entry."""
    return f"{_LQ}{cap_title(text)}{_RQ}"


class _Namer:
    """Per-ChangeSet naming context, built once so rendering stays linear in the changes."""

    def __init__(self, cs: ChangeSet, options: RenderOptions) -> None:
        self.names = options.period_names
        self.old_rm = cs.old_roadmap
        self.new_rm = cs.new_roadmap
        counts: Counter[str] = Counter()
        dup: set[str] = set()
        for rm in (cs.old_roadmap, cs.new_roadmap):
            if rm is None:
                continue
            counts.clear()
            counts.update(item.title for item in rm.items)
            dup.update(t for t, n in counts.items() if n > 1)
        self.duplicates = dup
        self.sections = tuple(
            dict.fromkeys(
                name for rm in (cs.new_roadmap, cs.old_roadmap) if rm for name in rm.sections
            )
        )
        self.shorts: dict[str, str] = {}
        for rm in (cs.old_roadmap, cs.new_roadmap):  # the new roadmap wins on conflicts
            if rm is not None:
                self.shorts.update((p.label, p.short) for p in rm.periods)

    def section(self, lane: str) -> str | None:
        """Which roadmap of a page of several a lane belongs to (its prefix)."""
        return lane_section(lane, self.sections)

    def lane_word(self, old: Any, new: Any) -> str:
        """What the page calls the lane a card moved between: see ``lane_word``."""
        return lane_word(self.old_rm, self.new_rm, old, new)

    def card(self, title: str, stage: str | None) -> str:
        """“Title”, with the stage when the title alone is ambiguous (phases of an initiative)."""
        if stage and title in self.duplicates:
            return f"{_LQ}{cap_title(title)} <{stage}>{_RQ}"
        return _quoted(title)

    def period(self, label: str, short: str | None = None) -> str:
        short = short if short is not None else self.shorts.get(label, label)
        return self.names.get(label) or self.names.get(short) or short

    def where(self, w: Where) -> str:
        name = self.period(w.period, w.short)
        if w.period_end and w.period_end != w.period:
            name = f"{name}{_RANGE}{self.period(w.period_end)}"
        return name

    def item_where(self, item: Item | None, rm: Roadmap | None) -> Where | None:
        """Where an item sits when the Change carries no Where for that side."""
        if item is None or not item.period:
            return None
        p = rm.period(item.period) if rm is not None else None
        short = p.short if p is not None else self.shorts.get(item.period, item.period)
        return Where(item.period, short, item.lane, item.period_end)


def lane_word(old_rm: Roadmap | None, new_rm: Roadmap | None, old: Any, new: Any) -> str:
    """The page's word for a lane, lower-cased as field names are: a row table's ``team`` (the
    header of the column its lanes come from, the new version's first), else ``lane``."""
    for rm, lane in ((new_rm, new), (old_rm, old)):
        if rm is not None and isinstance(lane, str):
            name = rm.lane_name(lane)
            if name:
                return _column_name(name)
    return "lane"


def lane_words(old_rm: Roadmap | None, new_rm: Roadmap | None, lanes: Iterable[str]) -> list[str]:
    """The words ``lanes`` go by (``lane_word``), each once, in lane order: ``["team"]`` for a
    row table, ``["lane", "team"]`` for a page with a planner and a row table."""
    return list(dict.fromkeys(lane_word(old_rm, new_rm, lane, lane) for lane in lanes))


def lane_header(rm: Roadmap | None) -> str:
    """The head of a column of ``rm``'s lanes: the page's word when all its lanes share one
    (``team``), else ``lane``."""
    words = lane_words(None, rm, [lane.label for lane in rm.lanes]) if rm is not None else []
    return words[0] if len(words) == 1 else "lane"


# --------------------------------------------------------------------------- values


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def _show(value: Any) -> str:
    if value is None or value == "" or value == () or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _and_join(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C`` — as the page writes it."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _org_names(item: Item) -> list[str]:
    return list(item.org_names) if item.org_names else list(item.orgs)


def _field(change: Change, name: str) -> FieldChange | None:
    for f in change.fields:
        if f.field == name:
            return f
    return None


_FIELD_ASPECT = {
    "title": "renamed",
    "stage": "stage",
    "orgs": "orgs",
    "lane": "lane",
    "tags": "tags",
    "struck": "struck",
}


def _aspects(change: Change) -> set[str]:
    """The change's aspects; derived from its fields when a producer left them out."""
    if change.aspects:
        return set(change.aspects)
    return {_FIELD_ASPECT[f.field] for f in change.fields if f.field in _FIELD_ASPECT}


# --------------------------------------------------------------------------- sentences


class _Sentencer:
    """Turns the changes of one ChangeSet into sentences."""

    def __init__(self, cs: ChangeSet, options: RenderOptions) -> None:
        self.namer = _Namer(cs, options)

    # sides of a change ------------------------------------------------------

    def _old_title(self, c: Change) -> str:
        if c.old_title is not None:
            return c.old_title
        return c.old.title if c.old is not None else c.title

    def _new_title(self, c: Change) -> str:
        return c.title

    def _stage(self, c: Change, side: str) -> str | None:
        item = c.old if side == "old" else c.new
        if item is not None:
            return item.stage
        f = _field(c, "stage")
        if f is not None:
            return f.old if side == "old" else f.new
        if c.category in ("Replaced", "Added", "Deleted"):
            return None  # the other side is a different card (or none)
        other = c.new if side == "old" else c.old
        return other.stage if other is not None else None

    def _old_name(self, c: Change) -> str:
        return self.namer.card(self._old_title(c), self._stage(c, "old"))

    def _new_name(self, c: Change) -> str:
        return self.namer.card(self._new_title(c), self._stage(c, "new"))

    def _from(self, c: Change) -> str | None:
        w = c.from_ or self.namer.item_where(c.old, self.namer.old_rm)
        return self.namer.where(w) if w is not None else None

    def _to(self, c: Change) -> str | None:
        w = c.to or self.namer.item_where(c.new, self.namer.new_rm)
        return self.namer.where(w) if w is not None else None

    def _here(self, c: Change) -> str | None:
        return self._to(c) or self._from(c)

    # field details ------------------------------------------------------------

    def _pair(self, c: Change, name: str) -> tuple[Any, Any]:
        if c.old is not None and c.new is not None:
            if name == "orgs":
                return _org_names(c.old), _org_names(c.new)
            return getattr(c.old, name), getattr(c.new, name)
        f = _field(c, name)
        if f is not None:
            return f.old, f.new
        return None, None

    def _orgs(self, c: Change, moved: bool) -> str:
        old, new = (_as_list(v) for v in self._pair(c, "orgs"))
        gained = [o for o in new if o not in old]
        lost = [o for o in old if o not in new]
        if moved and gained and not lost:
            return f"assigned to {_and_join(gained)}"
        return f"organisations {_show(old)} {_ARROW} {_show(new)}"

    def _text(self, c: Change) -> str | None:
        """What changed in a card's text, saying nothing a rename already said."""
        renamed = "renamed" in _aspects(c)
        o, n = c.old, c.new
        if o is not None and n is not None and (o.parts or n.parts):
            old_parts = [p.text for p in o.parts] or [o.title]
            new_parts = [p.text for p in n.parts] or [n.title]
            whole = len(old_parts) == 1 and len(new_parts) == 1
            added = [p for p in new_parts if p not in old_parts]
            removed = [p for p in old_parts if p not in new_parts]
            bits = []
            if added and not (renamed and whole):
                bits.append("added " + _and_join([_quoted(p) for p in added]))
            if removed and not (renamed and whole):
                bits.append("removed " + _and_join([_quoted(p) for p in removed]))
            if bits:
                return ", ".join(bits)
        old_t, new_t = self._old_title(c), self._new_title(c)
        if old_t == new_t and o is not None and n is not None:
            old_t, new_t = o.text, n.text
        if old_t != new_t and not renamed:
            return f"text {_quoted(old_t)} {_ARROW} {_quoted(new_t)}"
        if o is not None and n is not None and o.links != n.links:
            return _links(o.links, n.links)
        if renamed:
            return None
        if o is not None and n is not None and o.mentions != n.mentions:
            return f"mentions {_show(o.mentions)} {_ARROW} {_show(n.mentions)}"
        return "text edited"

    def _span(self, c: Change) -> str:
        o, n = c.old, c.new
        if o is not None and n is not None and o.end and n.end and o.end != n.end:
            return f"ends {show_date(o.end)} {_ARROW} {show_date(n.end)} ({shift(o.end, n.end)})"
        return f"periods {self._from(c) or 'none'} {_ARROW} {self._to(c) or 'none'}"

    def _fields(self, c: Change) -> list[str]:
        """``status IN PROGRESS → DONE`` for each column of a row that changed."""
        out: list[str] = []
        for f in c.fields:
            if f.field.startswith("fields."):
                name = _column_name(f.field[len("fields.") :])
                out.append(f"{name} {_show(f.old)} {_ARROW} {_show(f.new)}")
        return out

    def _dates(self, c: Change) -> str | None:
        """``from 1 Sep 2015 to 2 Nov 2015 (+2 months)`` when both sides have a start date."""
        o, n = c.old, c.new
        if o is None or n is None or not o.start or not n.start or o.start == n.start:
            return None
        return f"from {show_date(o.start)} to {show_date(n.start)} ({shift(o.start, n.start)})"

    def _in_section(self, lane: Any) -> Any:
        """A lane without its roadmap's name (the sentence starts with it)."""
        if isinstance(lane, str):
            name = self.namer.section(lane)
            if name is not None:
                return lane[len(name) + 3 :]
        return lane

    def _details(self, c: Change, skip: set[str], moved: bool) -> list[str]:
        aspects = _aspects(c) - skip
        out: list[str] = []
        if "renamed" in aspects:
            out.append(f"renamed to {self._new_name(c)}")
        if "text" in aspects:
            text = self._text(c)
            if text is not None:
                out.append(text)
        if "stage" in aspects:
            old, new = self._pair(c, "stage")
            out.append(f"stage {_show(old)} {_ARROW} {_show(new)}")
        if "orgs" in aspects:
            out.append(self._orgs(c, moved))
        if "lane" in aspects:
            old, new = self._pair(c, "lane")
            if old is None and new is None and c.from_ and c.to:
                old, new = c.from_.lane, c.to.lane
            word = self.namer.lane_word(old, new)
            old, new = self._in_section(old), self._in_section(new)
            out.append(f"{word} {_show(old)} {_ARROW} {_show(new)}")
        if "tags" in aspects:
            old, new = self._pair(c, "tags")
            out.append(f"tags {_show(old)} {_ARROW} {_show(new)}")
        if "struck" in aspects:
            _, new = self._pair(c, "struck")
            out.append("struck through" if new or new is None else "no longer struck through")
        if "span" in aspects:
            out.append(self._span(c))
        if "fields" in aspects:
            out.extend(self._fields(c))
        return out

    # the sentences ------------------------------------------------------------

    def sentences(self, c: Change) -> list[str]:
        """The sentences, led by the roadmap's name when the page holds several."""
        out = self._sentences(c)
        if self.namer.sections:
            w = c.to or c.from_ or self.namer.item_where(c.new or c.old, None)
            name = self.namer.section(w.lane) if w is not None else None
            if name is not None:
                out = [f"{name}: {s}" for s in out]
        return out

    def _sentences(self, c: Change) -> list[str]:
        cat = c.category
        if cat == "Replaced":
            return [self._deleted(c), self._added(c, "to")]
        if cat == "Added":
            return [self._added(c, "in")]
        if cat == "Deleted":
            return [self._deleted(c)]
        aspects = _aspects(c)
        if cat in ("Deferred", "Moved Up") or ({"deferred", "moved_up"} & aspects):
            head = f"Moved {self._old_name(c)}"
            src, dst = self._from(c), self._to(c)
            dates = self._dates(c)
            if dates is not None:
                head += f" {dates}"
            elif src is not None and dst is not None:
                head += f" from {src} to {dst}"
            elif dst is not None:
                head += f" to {dst}"
            skip = {"deferred", "moved_up", "span"}
            return [_sentence(head, self._details(c, skip, moved=True), ", ")]
        if cat == "Renamed":
            head = f"Renamed {self._old_name(c)} to {self._new_name(c)}"
            here = self._here(c)
            if here is not None:
                head += f" ({here})"
            return [_sentence(head, self._details(c, {"renamed"}, moved=False), ", ")]
        head = f"Changed {self._old_name(c)}"
        here = self._here(c)
        if here is not None:
            head += f" ({here})"
        details = self._details(c, set(), moved=False)
        if not details:
            return [head + "."]
        return [head + ": " + "; ".join(details) + "."]

    def _deleted(self, c: Change) -> str:
        src = self._from(c)
        return f"Deleted {self._old_name(c)}" + (f" from {src}." if src is not None else ".")

    def _added(self, c: Change, prep: str) -> str:
        dst = self._to(c)
        return f"Added {self._new_name(c)}" + (f" {prep} {dst}." if dst is not None else ".")


def _links(old: Sequence[str], new: Sequence[str]) -> str:
    """``link https://… added``: a link change with the visible text unchanged."""
    added = [x for x in new if x not in old]
    removed = [x for x in old if x not in new]
    bits = []
    if added:
        bits.append(f"link{'s' if len(added) > 1 else ''} {', '.join(added)} added")
    if removed:
        bits.append(f"link{'s' if len(removed) > 1 else ''} {', '.join(removed)} removed")
    return ", ".join(bits) or "links reordered"


def _column_name(name: str) -> str:
    """A column header as a word in a sentence: ``Status`` → ``status``, ``ETA`` stays."""
    return name[:1].lower() + name[1:] if name[:2] != name[:2].upper() else name


def _sentence(head: str, details: list[str], sep: str) -> str:
    return sep.join([head, *details]) + "."


def sentences(change: Change, cs: ChangeSet, options: RenderOptions | None = None) -> list[str]:
    """The sentence(s) the page would write for one change (two for a replacement)."""
    return [_one_line(s) for s in _Sentencer(cs, options or RenderOptions()).sentences(change)]


def _one_line(s: str) -> str:
    """Collapse whitespace: a title with a newline must not break the list layout."""
    return " ".join(s.split())


# --------------------------------------------------------------------------- grouping


@record(frozen=True)
class Group:
    """One category of one dated entry, in the order the page lists them."""

    category: str
    sentences: list[str]


@record(frozen=True)
class Entry:
    """One dated entry of the Change History."""

    date: str
    groups: list[Group]
    versions: str | None = None  # "v5 → v6" when both sides have a version number
    link: str | None = None  # Confluence's comparison of those two versions


def _category_rank(category: str) -> int:
    try:
        return CATEGORIES.index(category)
    except ValueError:
        return len(CATEGORIES)


def changeset_sentences(cs: ChangeSet, options: RenderOptions) -> list[tuple[Change, list[str]]]:
    """Every change of ``cs`` with its sentences, sharing one naming context."""
    s = _Sentencer(cs, options)
    return [(c, [_one_line(x) for x in s.sentences(c)]) for c in cs.changes]


def build_entry(cs: ChangeSet, options: RenderOptions) -> Entry | None:
    """Group a changeset's sentences by category (CATEGORIES order); None when it is empty."""
    if not cs.changes:
        return None
    by_cat: dict[str, list[str]] = {}
    for change, lines in changeset_sentences(cs, options):
        by_cat.setdefault(change.category, []).extend(lines)
    # sorted() is stable: unknown categories keep their first-seen order after the known ones.
    order = sorted(by_cat, key=_category_rank)
    groups = [Group(cat, by_cat[cat]) for cat in order]
    old, new = cs.old.version, cs.new.version
    if old is None or new is None:
        return Entry(cs.date or "undated", groups)
    link = None
    if options.versions_url:
        link = f"{options.versions_url}&originalVersion={old}&revisedVersion={new}"
    return Entry(cs.date or "undated", groups, f"v{old} {_ARROW} v{new}", link)


def newest_first(changesets: Sequence[ChangeSet]) -> list[ChangeSet]:
    """Order changesets newest first: by the newer side's version number when every changeset
    has one (a page's own order: its dates can run backwards), else by date, then version;
    ties keep reversed input order."""
    indexed = list(enumerate(changesets))
    if all(cs.new.version is not None for cs in changesets):
        indexed.sort(key=lambda ic: (ic[1].new.version or 0, ic[1].date, ic[0]), reverse=True)
        return [cs for _, cs in indexed]
    indexed.sort(
        key=lambda ic: (
            ic[1].date,
            ic[1].new.version if ic[1].new.version is not None else -1,
            ic[0],
        ),
        reverse=True,
    )
    return [cs for _, cs in indexed]


# --------------------------------------------------------------------------- templates


@functools.lru_cache(maxsize=16)
def _environment(template_dir: Path | None) -> jinja2.Environment:
    import jinja2  # ~25 ms: only the commands that render a Change History pay for it

    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            # A typo would otherwise fall back to the package templates without a word.
            raise WikisyncError(f"template_dir {str(template_dir)!r} is not a directory")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(_TEMPLATES_DIR)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    from wikisync.render.markdown import escape_markdown, markdown_url
    from wikisync.render.wiki import escape_wiki, wiki_url

    env.filters["md"] = escape_markdown
    env.filters["mdurl"] = markdown_url
    env.filters["wiki"] = escape_wiki
    env.filters["wikiurl"] = wiki_url
    return env


def _autoescape(name: str | None) -> bool:
    return name is not None and name.startswith("confluence")


#: sha256 of the shipped text.j2 that ``_render_text`` reproduces. Edit the template and the
#: Jinja2 path takes over (same output, slower start) until _render_text and this are updated;
#: tests/test_startup.py fails meanwhile, comparing both.
TEXT_TEMPLATE_SHA256 = "56efa7b836d5c7ec4dfc4b457e8ffbf9c2ec08b7d300a1af4e000e3f8841cd70"


@functools.cache
def _shipped_text_template_is_known() -> bool:
    from wikisync._digest import sha256

    data = (_TEMPLATES_DIR / "text.j2").read_bytes()
    return bool(sha256(data).hexdigest() == TEXT_TEMPLATE_SHA256)


def _render_text(entries: list[Entry]) -> str:
    """What the shipped text.j2 renders, without importing Jinja2 (~30 ms, plus compiling the
    template, on every ``wikisync diff``): the default format of the commands run most."""
    if not entries:
        return "No changes.\n"
    out: list[str] = []
    for e in entries:
        out.append(f"- {e.date}\n")
        for g in e.groups:
            out.append(f"  - {g.category}\n")
            out.extend(f"    - {s}\n" for s in g.sentences)
    return "".join(out)


def render_entries(entries: list[Entry], fmt: str, options: RenderOptions) -> str:
    """Lay out grouped entries with the ``<fmt>.j2`` template (the team's own first)."""
    if fmt not in TEMPLATE_FORMATS:
        raise ValueError(f"unknown template format {fmt!r}")
    if fmt == "text" and options.template_dir is None and _shipped_text_template_is_known():
        return _render_text(entries)
    if fmt == "confluence":
        from wikisync.render.confluence import xml_safe  # the escapes load with their format

        entries = [
            Entry(
                xml_safe(e.date),
                [Group(xml_safe(g.category), [xml_safe(s) for s in g.sentences]) for g in e.groups],
                e.versions,
                e.link,
            )
            for e in entries
        ]
    import jinja2

    name = f"{fmt}.j2"
    env = _environment(options.template_dir)
    try:
        return env.get_template(name).render(entries=entries)
    except jinja2.TemplateSyntaxError as err:
        raise WikisyncError(
            f"template {err.filename or name}, line {err.lineno}: {err.message}"
        ) from err
    except jinja2.TemplateError as err:
        raise WikisyncError(f"template {name}: {err}") from err


# --------------------------------------------------------------------------- words for layouts


class ChangeWords:
    """Period names and field-level details in the sentences' words, for layouts (HTML) that
    mark changes in place instead of writing sentences: one naming context per changeset."""

    def __init__(self, cs: ChangeSet, options: RenderOptions | None = None) -> None:
        self._s = _Sentencer(cs, options or RenderOptions())

    def period(self, label: str, short: str | None = None) -> str:
        """A period as sentences name it: configured name, else the short name."""
        return self._s.namer.period(label, short)

    def details(self, change: Change) -> list[str]:
        """What changed besides the period and the title (``stage Pilot → Adopt``)."""
        moved = bool({"deferred", "moved_up"} & _aspects(change))
        skip = {"deferred", "moved_up", "renamed"} | ({"span"} if moved else set())
        return [_one_line(d) for d in self._s._details(change, skip, moved=moved)]
