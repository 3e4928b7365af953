"""Synthetic roadmap pages in the real page's markup, and versions of them with planted edits.

Benchmarks need pages of any size that look like the real one (rows of periods, lanes under
activities, cards like ``Toggle Docs (OEP-17) <Pilot> [5]`` separated by dash paragraphs, status
lozenges, ``&nbsp;``, spans), and accuracy needs edits whose true classification is known by
construction. Everything is deterministic: the same seed gives the same bytes.

A page is a ``Page`` (periods, lanes, cells of ``CardSpec``); ``render`` writes it as storage or
view markup in either orientation; ``expected_items`` says what a correct parser must read from
it; ``plant_edits`` returns an edited copy plus the true changes (``Truth``), keyed by card uid.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from wikisync.model import Roadmap

# --------------------------------------------------------------------------- vocabulary

#: Stages written as ``<Stage>`` text; the single-word ones may also be a lozenge.
STAGES: tuple[str, ...] = (
    "Pilot",
    "Adopt",
    "Spike",
    "Eval",
    "Implement",
    "Prototype",
    "Evangelize",
    "Sustain",
    "Adopt via Automated-Feedback",
)
LOZENGE_STAGES: tuple[str, ...] = tuple(s for s in STAGES if " " not in s)
#: Phases of one initiative, in the order a card walks through them.
PHASES: tuple[tuple[str, ...], ...] = (
    ("Pilot", "Adopt", "Sustain"),
    ("Spike", "Eval", "Implement"),
    ("Prototype", "Pilot", "Adopt", "Evangelize"),
    ("Pilot", "Evangelize", "Adopt via Automated-Feedback"),
)
TAGS: tuple[str, ...] = ("Test", "Upgrade", "Devstack", "Pylint")
ORGS: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8")
LEGEND: dict[str, str] = {
    "1": "edX",
    "2": "OpenCraft",
    "3": "EduNext",
    "4": "Edly",
    "5": "Overhang.io",
    "6": "Appsembler",
    "7": "Raccoon Gang",
    "8": "MIT",
}
RELEASES: tuple[str, ...] = (
    "Koa",
    "Lilac",
    "Maple",
    "Nutmeg",
    "Olive",
    "Palm",
    "Quince",
    "Redwood",
    "Sumac",
    "Teak",
    "Ulmo",
    "Verawood",
    "Willow",
    "Xylem",
    "Yew",
    "Zelkova",
)
PREFIXES: tuple[str, ...] = (
    "Toggle",
    "Eventing",
    "MFE",
    "Tutor",
    "Frontend",
    "Backend",
    "Observability",
    "Containerization",
    "Onboarding",
    "Django",
    "Celery",
    "Cypress",
    "GitHub",
    "Kubernetes",
    "Redis",
    "Studio",
    "Discovery",
    "Credentials",
    "Ecommerce",
    "Analytics",
    "Insights",
    "Notifications",
    "Payments",
    "Mobile",
    "Forum",
    "Grading",
    "Certificates",
    "Enrollment",
    "Catalog",
    "Theming",
)
NOUNS: tuple[str, ...] = (
    "Docs",
    "Message",
    "Bus",
    "Deployment",
    "Plugins",
    "Report",
    "Dashboard",
    "Alerting",
    "Metrics",
    "Training",
    "Standards",
    "Refinements",
    "Migration",
    "Cleanup",
    "Automation",
    "Templates",
    "Tracing",
    "Mesh",
    "Contracts",
    "Boundaries",
    "Structure",
    "Handbook",
    "Course",
    "Slides",
    "Radar",
    "Commits",
    "Pipelines",
    "Secrets",
    "Caching",
    "Search",
    "Indexing",
    "Quotas",
    "Sandboxes",
    "Fixtures",
    "Linting",
    "Packaging",
    "Releases",
    "Backups",
    "Storage",
    "Logging",
    "Profiling",
    "Auditing",
    "Permissions",
    "Roles",
    "Tokens",
    "Sessions",
    "Cookies",
    "Webhooks",
    "Schemas",
    "Queries",
    "Exports",
    "Imports",
    "Translations",
    "Accessibility",
    "Sitemaps",
    "Emails",
    "Reminders",
    "Badges",
    "Cohorts",
    "Teams",
    "Rubrics",
    "Transcripts",
    "Uploads",
    "Previews",
    "Drafts",
    "Versions",
    "Outlines",
    "Sequences",
    "Units",
    "Blocks",
    "Libraries",
    "Tagging",
    "Ratings",
    "Surveys",
    "Feedback",
    "Onramps",
    "Licensing",
    "Pricing",
    "Invoices",
    "Refunds",
    "Coupons",
    "Programs",
    "Pathways",
    "Records",
    "Transcoding",
    "Streaming",
    "Captions",
    "Glossary",
    "Calendars",
    "Deadlines",
    "Extensions",
    "Proctoring",
    "Integrity",
    "Plagiarism",
    "Mentoring",
    "Tutoring",
    "Chatbots",
    "Recommendations",
    "Personalization",
    "Experiments",
    "Flags",
    "Rollouts",
    "Canaries",
    "Failover",
    "Replication",
    "Sharding",
    "Throttling",
    "Retries",
    "Timeouts",
    "Healthchecks",
    "Probes",
    "Runbooks",
    "Postmortems",
    "Oncall",
    "Ownership",
    "Inventory",
    "Licenses",
    "Dependencies",
    "Vulnerabilities",
    "Hardening",
    "Encryption",
    "Rotation",
    "Compliance",
    "Retention",
    "Anonymization",
    "Consent",
)
SUFFIXES: tuple[str, ...] = (
    "v2",
    "v3",
    "v4",
    "Phase 1",
    "Phase 2",
    "Phase 3",
    "Rollout",
    "Overhaul",
    "Guide",
    "Review",
    "Spec",
    "Playbook",
    "Baseline",
    "Revamp",
)
UPGRADE_PARTS: tuple[str, ...] = (
    "Django",
    "Python",
    "Mongo",
    "MySQL",
    "Ubuntu",
    "Elasticsearch",
    "OpenSearch",
    "Node.js",
    "Redis",
    "Celery",
    "React",
    "Webpack",
    "Babel",
    "Bootstrap",
    "Paragon",
    "Kafka",
    "Nginx",
    "Postgres",
)
ACTIVITIES: tuple[str, ...] = (
    "Learner Experience",
    "Course Authoring",
    "Data and Analytics",
    "Platform Security",
    "Integrations",
    "Operations",
    "Community",
    "Mobile Apps",
    "Accessibility",
    "Internationalization",
    "Commerce",
    "Discovery and Search",
    "Credentialing",
    "Instructor Tools",
    "Administration",
    "Infrastructure",
)
TASKS: tuple[str, ...] = (
    "Discover",
    "Design",
    "Build",
    "Verify",
    "Ship",
    "Measure",
    "Support",
    "Harden",
)
#: The real page's lanes (activity, task, data columns).
REAL_LANES: tuple[tuple[str, str, int], ...] = (
    ("Onboard to (new area of) Platform", "Understand the Platform", 1),
    ("Local Development", "How to Use/Develop", 1),
    ("Local Development", "Make change", 1),
    ("Local Development", "Test change", 1),
    ("Cross-boundary Development (x-repo, x-service, x-org)", "Integrate and not modify core", 2),
    ("Production Development", "Deploy change", 1),
    ("Production Development", "Observe change", 1),
    ("Maintain Long-term", "Assess health & value", 1),
    ("Maintain Long-term", "Removals & upgrades", 1),
)
_MONTHS: tuple[str, ...] = ("Jul-Sep", "Oct-Dec", "Jan-Mar", "Apr-Jun")
BACKLOG_LABEL = "Backlog Grab Bag"
LINK_PREFIX = "https://"

INTRO = (
    "<p>The following User Story Map provides a high-level overview of the work that "
    "edX&rsquo;s Teams and the Open edX Community are collaboratively delivering over the next "
    "few quarters.</p><p>As with any roadmap, there is more uncertainty as you look further into "
    "the future. If you have the interest and time in tackling any of the items still listed in "
    "the &ldquo;Backlog&rdquo; lane, please reach out. Thanks!</p>"
    "<h2>Roadmap supported with the Community</h2>"
)

# Words that make two titles "related" in the sense of classify.py: four letters or more, not a
# stage word. (Titles here use no stopwords of four letters or more.)
_STAGE_WORDS = frozenset(
    {
        "adopt",
        "adoption",
        "automated",
        "eval",
        "evaluate",
        "evangelize",
        "implement",
        "pilot",
        "prototype",
        "spike",
        "sustain",
        "via",
    }
)
_WORD = re.compile(r"[^\W_]+")


def significant_words(title: str) -> frozenset[str]:
    """Words that say what a card is about (the generator's notion of two cards being related)."""
    return frozenset(
        w for w in _WORD.findall(title.casefold()) if len(w) >= 4 and w not in _STAGE_WORDS
    )


def words_of(title: str) -> frozenset[str]:
    """Every word of a title, case-folded."""
    return frozenset(_WORD.findall(title.casefold()))


# --------------------------------------------------------------------------- the page model


@dataclass(frozen=True, slots=True)
class CardSpec:
    """One card. ``parts`` holds (text, orgs); more than one part makes a multi-part card."""

    uid: int
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    stage: str | None = None
    tags: tuple[str, ...] = ()
    lozenge_stage: bool = False  # the stage is a status lozenge instead of ``<Stage>`` text
    link: bool = False  # the (single) part's text is a URL, written as a link

    @property
    def body(self) -> str:
        """The card text without its tags: the part texts joined as the parser joins them."""
        return ", ".join(text for text, _ in self.parts)

    @property
    def title(self) -> str:
        """The title as wikisync reads it: tags first, then the parts."""
        return " ".join((*self.tags, self.body))

    @property
    def orgs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for _, orgs in self.parts for o in orgs))


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """A period row (or column). ``label`` empty makes an unlabelled row, read as ``expect``."""

    label: str
    release: str | None = None
    expect: str = ""
    backlog: bool = False

    @property
    def expected_label(self) -> str:
        return self.expect or self.label


@dataclass(frozen=True, slots=True)
class LaneSpec:
    """A lane: activity and task headers; ``columns`` = 2 for a task spanning two columns."""

    activity: str
    task: str
    columns: int = 1

    @property
    def label(self) -> str:
        return f"{self.activity} / {self.task}"


Cell = tuple[int, int]  # (period index, lane index)


@dataclass(slots=True)
class Page:
    """A roadmap page: periods in table order (backlog last), lanes, and cards per cell.

    ``spans[(p, l)] = k`` makes cell (p, l) cover periods p … p+k-1 (rowspan, or colspan when
    turned); covered cells hold nothing.
    """

    periods: list[PeriodSpec]
    lanes: list[LaneSpec]
    cells: dict[Cell, list[CardSpec]]
    spans: dict[Cell, int] = field(default_factory=dict)
    history: list[tuple[str, str, str]] = field(default_factory=list)  # date, category, sentence
    next_uid: int = 0

    def copy(self) -> Page:
        return Page(
            periods=list(self.periods),
            lanes=list(self.lanes),
            cells={k: list(v) for k, v in self.cells.items()},
            spans=dict(self.spans),
            history=list(self.history),
            next_uid=self.next_uid,
        )

    def cards(self) -> Iterator[tuple[Cell, CardSpec]]:
        """Every card with its cell, in a stable order (period, lane, position)."""
        for key in sorted(self.cells):
            for card in self.cells[key]:
                yield key, card

    def n_cards(self) -> int:
        return sum(len(v) for v in self.cells.values())

    def covered(self, cell: Cell) -> bool:
        """Is ``cell`` hidden under a span starting in an earlier period?"""
        return cell in self.hidden_cells()

    def hidden_cells(self) -> frozenset[Cell]:
        """Every cell some span covers (its start excluded)."""
        return frozenset(
            (q + d, lane) for (q, lane), k in self.spans.items() for d in range(1, max(k, 1))
        )

    def new_uid(self) -> int:
        uid = self.next_uid
        self.next_uid += 1
        return uid


# --------------------------------------------------------------------------- building pages


class _Titles:
    """Fresh, unique titles drawn from the vocabulary."""

    def __init__(self, rng: random.Random, used: Iterable[str] = ()) -> None:
        self.rng = rng
        self.used: set[str] = {t.casefold() for t in used}

    def draw(self, avoid: frozenset[str] = frozenset(), keep: str | None = None) -> str:
        """A new title sharing no word with ``avoid``; with ``keep``, built around that word."""
        rng = self.rng
        kept = words_of(keep) if keep else frozenset()
        for _ in range(10_000):
            p, n, n2 = rng.choice(PREFIXES), rng.choice(NOUNS), rng.choice(NOUNS)
            s = rng.choice(SUFFIXES)
            form = rng.randrange(7)
            if keep is not None:
                title = (
                    f"{keep} {n}",
                    f"{keep} {n} {n2}",
                    f"{n} {keep}",
                    f"{keep} {n} {s}",
                    f"{n2} {keep} {n}",
                    f"{p} {keep}",
                    f"{keep} {n} & {n2}",
                )[form]
            else:
                title = (
                    f"{p} {n}",
                    f"{p} {n} {n2}",
                    f"{p} {n} {s}",
                    f"{n} {n2} {s}",
                    f"{p} {n} (OEP-{rng.randrange(10, 99)})",
                    f"{n} for {p} {n2}",
                    f"{p} {n} & {n2}",
                )[form]
            mine = words_of(title)
            if len(mine) < len(title.replace("&", " ").split()):
                continue  # a word twice
            if (mine - kept) & avoid or title.casefold() in self.used:
                continue
            self.used.add(title.casefold())
            return title
        raise RuntimeError("title vocabulary exhausted")

    def claim(self, title: str) -> bool:
        """Reserve ``title``; False when it is taken."""
        if title.casefold() in self.used:
            return False
        self.used.add(title.casefold())
        return True


def _orgs(rng: random.Random) -> tuple[str, ...]:
    r = rng.random()
    if r < 0.3:
        return ()
    if r < 0.34:
        return ("All",)
    return tuple(rng.sample(ORGS, rng.choice((1, 1, 1, 2, 3))))


def _upgrade_parts(rng: random.Random) -> tuple[tuple[str, tuple[str, ...]], ...]:
    names = rng.sample(UPGRADE_PARTS, rng.choice((2, 2, 3, 4)))
    parts = []
    for name in names:
        version = f"{rng.randrange(1, 20)}.{rng.randrange(0, 12)}"
        parts.append((f"{name} {version}", (rng.choice((*ORGS[:3], "All")),)))
    return tuple(parts)


def synthetic_layout(n_cards: int) -> tuple[list[PeriodSpec], list[LaneSpec]]:
    """Periods and lanes for a page of about ``n_cards`` cards: a few cards per cell."""
    n_lanes = max(9, min(30, round(n_cards**0.5 / 4)))
    n_periods = max(7, min(80, round(n_cards / (n_lanes * 5)))) + 1
    periods: list[PeriodSpec] = []
    for i in range(n_periods - 1):
        label = f"FY{21 + i // 4} Q{i % 4 + 1} ({_MONTHS[i % 4]})"
        release = RELEASES[i // 2] if i % 2 == 1 and i // 2 < len(RELEASES) else None
        periods.append(PeriodSpec(label, release))
    periods.append(PeriodSpec(BACKLOG_LABEL, backlog=True))
    lanes = [LaneSpec(a, t, c) for a, t, c in REAL_LANES]
    k = 0
    while len(lanes) < n_lanes:
        activity = ACTIVITIES[k % len(ACTIVITIES)]
        if k >= len(ACTIVITIES):
            activity = f"{activity} {k // len(ACTIVITIES) + 1}"
        for t in range(2 + k % 2):
            if len(lanes) < n_lanes:
                lanes.append(LaneSpec(activity, TASKS[(k + t) % len(TASKS)]))
        k += 1
    return periods, lanes


def generate_page(
    n_cards: int,
    seed: int = 0,
    *,
    phases: float = 0.1,
    multipart: float = 0.04,
    tags: float = 0.08,
    stages: float = 0.5,
    lozenge_stages: float = 0.15,
    spans: float = 0.01,
    history: int | None = None,
) -> Page:
    """A synthetic roadmap of ``n_cards`` cards, deterministic in ``seed``."""
    rng = random.Random(seed)
    periods, lanes = synthetic_layout(n_cards)
    page = Page(periods=periods, lanes=lanes, cells={})
    titles = _Titles(rng)
    timed = [i for i, p in enumerate(periods) if not p.backlog]
    backlog = len(periods) - 1
    # Spanning cells first (single-column lanes only), so cards avoid the cells they cover.
    n_spans = round(n_cards * spans / 2)
    for _ in range(n_spans):
        lane = rng.randrange(len(lanes))
        if lanes[lane].columns != 1:
            continue
        p = rng.choice(timed[:-1])
        cell = (p, lane)
        if cell in page.spans or page.covered(cell) or (p + 1, lane) in page.spans:
            continue
        page.spans[cell] = 2
    hidden = page.hidden_cells()
    open_cells = [
        (p, lane)
        for p in range(len(periods))
        for lane in range(len(lanes))
        if (p, lane) not in hidden
    ]
    count = 0
    while count < n_cards:
        p, lane = rng.choice(open_cells)
        if rng.random() < 0.12:
            p = backlog
        r = rng.random()
        card_tags: tuple[str, ...] = ()
        stage: str | None = None
        loz = False
        if r < multipart:
            parts = _upgrade_parts(rng)
            if not titles.claim(", ".join(t for t, _ in parts)):
                continue
        else:
            parts = ((titles.draw(), _orgs(rng)),)
            if rng.random() < tags:
                card_tags = (rng.choice(TAGS),)
            if p != backlog and rng.random() < stages:
                stage = rng.choice(STAGES)
                loz = stage in LOZENGE_STAGES and rng.random() < lozenge_stages
        card = CardSpec(page.new_uid(), parts, stage, card_tags, loz)
        page.cells.setdefault((p, lane), []).append(card)
        count += 1
        # Phases of one initiative: the same title in later periods of the lane, new stages.
        if p != backlog and len(parts) == 1 and rng.random() < phases:
            chain = rng.choice(PHASES)
            q = p
            for st in chain[1:]:
                q += 1
                if q >= backlog or (q, lane) in hidden or count >= n_cards:
                    break
                follow = CardSpec(page.new_uid(), parts, st, card_tags, False)
                page.cells.setdefault((q, lane), []).append(follow)
                count += 1
            page.cells[(p, lane)][-1] = replace(card, stage=chain[0], lozenge_stage=False)
    n_hist = history if history is not None else min(40, max(3, n_cards // 200))
    for k in range(n_hist):
        (p, _), card = rng.choice(list(page.cards()))
        date = f"20{20 + k // 12}-{k % 12 + 1:02d}-{rng.randrange(1, 28):02d}"
        page.history.append((date, "Added", f"Added “{card.title}” in {periods[p].label}."))
    page.history.sort(reverse=True)
    return page


#: The hostile edits of issue 13 (the fuzzy stage's worst cases), by name: (cards, words a title).
ADVERSARIAL: dict[str, tuple[int, int]] = {
    "long-titles": (200, 400),  # 200 cards of ~5,000 characters, each edited by one word
    "renamed": (8_000, 4),  # 8,000 short cards in one cell, every one renamed by one word
}


def adversarial_pair(kind: str, seed: int = 0, scale: float = 1.0) -> tuple[Page, Page]:
    """Two versions of a hostile page (``ADVERSARIAL[kind]``, ``scale`` × the cards), all
    cards in one cell so that neither lanes nor periods split the fuzzy stage's work."""
    n, words = ADVERSARIAL[kind]
    n = max(1, round(n * scale))
    rng = random.Random(seed)
    vocab = [f"{rng.choice(NOUNS)}{k}" for k in range(max(2_000, n // 2))]
    periods, lanes = synthetic_layout(n)
    old = Page(periods=periods, lanes=lanes, cells={})
    new = Page(periods=list(periods), lanes=list(lanes), cells={})
    seen: set[str] = set()
    while len(seen) < n:
        title = " ".join(rng.sample(vocab, words))
        if title in seen:
            continue
        seen.add(title)
        parts = title.split()
        parts[rng.randrange(len(parts)) if kind == "renamed" else -1] = rng.choice(vocab) + "x"
        uid = old.new_uid()
        new.next_uid = old.next_uid
        old.cells.setdefault((0, 0), []).append(CardSpec(uid, ((title, ("1",)),)))
        new.cells.setdefault((0, 0), []).append(CardSpec(uid, ((" ".join(parts), ("1",)),)))
    return old, new


def page_from_roadmap(roadmap: Roadmap) -> Page:
    """A ``Page`` holding a parsed roadmap's cards (used to re-render the real page); lanes
    named like the real page's get its column layout."""
    two_columns = {f"{a} / {t}" for a, t, c in REAL_LANES if c == 2}
    periods = []
    for i, p in enumerate(roadmap.periods):
        unlabelled = p.label.startswith("(after ")
        periods.append(
            PeriodSpec(
                "" if unlabelled else p.label,
                p.aliases[0] if p.aliases else None,
                expect=p.label if unlabelled else "",
                backlog=p.backlog,
            )
        )
        assert p.index == i, "periods must be in table order"
    lanes = [
        LaneSpec(
            lane.path[0],
            " / ".join(lane.path[1:]) or lane.path[0],
            2 if lane.label in two_columns else 1,
        )
        for lane in roadmap.lanes
    ]
    p_index = {p.label: i for i, p in enumerate(roadmap.periods)}
    l_index = {lane.label: i for i, lane in enumerate(roadmap.lanes)}
    page = Page(periods=periods, lanes=lanes, cells={})
    for it in roadmap.items:
        prefix = " ".join(it.tags)
        parts = tuple((p.text, p.orgs) for p in it.parts) or ((it.title, it.orgs),)
        if prefix and parts[0][0].startswith(prefix + " "):
            parts = ((parts[0][0][len(prefix) + 1 :], parts[0][1]), *parts[1:])
        card = CardSpec(
            page.new_uid(),
            parts,
            it.stage,
            it.tags,
            link=bool(it.links) and it.title.startswith(LINK_PREFIX),
        )
        page.cells.setdefault((p_index[it.period], l_index[it.lane]), []).append(card)
    for h in roadmap.history:
        page.history.append((h.date, h.category or "", h.text))
    return page


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class Style:
    """How to write a page: body format, orientation and card separator."""

    fmt: str = "storage"  # storage | view
    orientation: str = "rows"  # rows | columns
    separator: str = "dashes"  # dashes | list
    nbsp: int = 8  # about one space in ``nbsp`` inside card text becomes ``&nbsp;``


_EMPTY = ("<p>&nbsp;</p>", "<p />", "<p><br /></p>", "<p>&nbsp;</p>")
_RED = '<span style="color: rgb(255,0,0);">'
_VIEW_COLOURS = {"Green": " aui-lozenge-success", "Grey": "", "Blue": " aui-lozenge-complete"}


def _text(text: str, salt: int, nbsp: int) -> str:
    """Escaped text with some spaces written as ``&nbsp;`` (deterministically, by salt)."""
    words = html.escape(text, quote=False).split(" ")
    if nbsp <= 0 or len(words) < 2:
        return " ".join(words)
    out = [words[0]]
    for i, w in enumerate(words[1:], 1):
        out.append("&nbsp;" if (salt * 31 + i * 17) % nbsp == 0 else " ")
        out.append(w)
    return "".join(out)


def _lozenge(title: str, colour: str, fmt: str, salt: int) -> str:
    if fmt == "view":
        cls = _VIEW_COLOURS.get(colour, "")
        return (
            f'<span class="status-macro aui-lozenge{cls} conf-macro output-inline" '
            f'data-hasbody="false" data-macro-name="status">{html.escape(title.upper())}</span>'
        )
    return (
        f'<ac:structured-macro ac:name="status" ac:schema-version="1" '
        f'ac:macro-id="{salt:08x}-5b1e-4c2a-9d7f-{salt * 2654435761 % 2**48:012x}">'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter>'
        f'<ac:parameter ac:name="title">{html.escape(title)}</ac:parameter>'
        f"</ac:structured-macro>"
    )


def _orgs_html(orgs: tuple[str, ...], tight: bool) -> str:
    if not orgs:
        return ""
    return f"{'' if tight else ' '}{_RED}[{', '.join(orgs)}]</span>"


def card_html(card: CardSpec, style: Style) -> str:
    """One card's inline markup, in the page's own style."""
    out: list[str] = [_lozenge(t, "Grey", style.fmt, card.uid) + " " for t in card.tags]
    n = len(card.parts)
    for i, (text, orgs) in enumerate(card.parts):
        if i:
            out.append(",<br />" if i == n - 1 and n > 2 else ", ")
        if card.link:
            url = html.escape(text)
            out.append(f'<a href="{url}" data-card-appearance="inline">{url}</a>')
        else:
            out.append(_text(text, card.uid + i, style.nbsp))
        if i == n - 1 and card.stage:
            if card.lozenge_stage:
                out.append(" " + _lozenge(card.stage, "Blue", style.fmt, card.uid + 7))
            else:
                out.append(f" &lt;{html.escape(card.stage)}&gt;")
        out.append(_orgs_html(orgs, tight=card.uid % 13 == 0 and card.stage is not None))
    return "".join(out)


def cell_html(cards: list[CardSpec], style: Style, salt: int) -> str:
    """A cell's content: cards as paragraphs separated by dashes, or as a list."""
    if not cards:
        return _EMPTY[salt % len(_EMPTY)]
    if style.separator == "list":
        return "<ul>" + "".join(f"<li><p>{card_html(c, style)}</p></li>" for c in cards) + "</ul>"
    return "<p>---------</p>".join(f"<p>{card_html(c, style)}</p>" for c in cards)


def _th(content: str, style: Style, span: str = "") -> str:
    cls = ' class="confluenceTh"' if style.fmt == "view" else ""
    return f"<th{cls}{span}>{content}</th>"


def _td(content: str, style: Style, span: str = "") -> str:
    cls = ' class="confluenceTd"' if style.fmt == "view" else ""
    return f"<td{cls}{span}>{content}</td>"


def _strong(text: str) -> str:
    return f"<p><strong>{html.escape(text, quote=False)}</strong></p>"


def _period_head(period: PeriodSpec, style: Style, salt: int) -> str:
    if not period.label:
        return "<p>&nbsp;</p>"
    inner = f"<strong>{html.escape(period.label, quote=False)}</strong>"
    if period.release:
        inner += "<br />" + _lozenge(period.release, "Green", style.fmt, salt)
    return f"<p>{inner}</p>"


def _span(name: str, k: int) -> str:
    return f' {name}="{k}"' if k > 1 else ""


def _sub_cells(page: Page, p: int, lane: int) -> list[list[CardSpec]]:
    """The card lists of a lane's data columns in period ``p`` (a card's column by uid)."""
    cols = page.lanes[lane].columns
    cards = page.cells.get((p, lane), [])
    return [[c for c in cards if c.uid % cols == k] for k in range(cols)]


def _activity_groups(lanes: list[LaneSpec]) -> list[tuple[str, list[int]]]:
    groups: list[tuple[str, list[int]]] = []
    for i, lane in enumerate(lanes):
        if groups and groups[-1][0] == lane.activity:
            groups[-1][1].append(i)
        else:
            groups.append((lane.activity, [i]))
    return groups


def _table_rows(page: Page, style: Style) -> list[str]:
    rows: list[str] = []
    hidden = page.hidden_cells()
    groups = _activity_groups(page.lanes)
    head1 = [_th("<p><strong>User<br />Activity</strong></p>", style)]
    for activity, members in groups:
        width = sum(page.lanes[i].columns for i in members)
        head1.append(_th(_strong(activity), style, _span("colspan", width)))
    head2 = [_th("<p><strong>User<br />Task</strong></p>", style)]
    for spec in page.lanes:
        head2.append(_th(_strong(spec.task), style, _span("colspan", spec.columns)))
    rows += ["<tr>" + "".join(head1) + "</tr>", "<tr>" + "".join(head2) + "</tr>"]
    for p, period in enumerate(page.periods):
        cells = [_th(_period_head(period, style, p), style)]
        for lane in range(len(page.lanes)):
            if (p, lane) in hidden:
                continue
            span = _span("rowspan", page.spans.get((p, lane), 1))
            for k, cards in enumerate(_sub_cells(page, p, lane)):
                cells.append(_td(cell_html(cards, style, p * 31 + lane + k), style, span))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return rows


def _table_columns(page: Page, style: Style) -> list[str]:
    rows: list[str] = []
    hidden = page.hidden_cells()
    head = [_th("<p><strong>User Activity / Task</strong></p>", style, ' colspan="2"')]
    head += [_th(_period_head(pd, style, p), style) for p, pd in enumerate(page.periods)]
    rows.append("<tr>" + "".join(head) + "</tr>")
    for activity, members in _activity_groups(page.lanes):
        height = sum(page.lanes[i].columns for i in members)
        for n, lane in enumerate(members):
            spec = page.lanes[lane]
            subs = [_sub_cells(page, p, lane) for p in range(len(page.periods))]
            for k in range(spec.columns):
                row: list[str] = []
                if n == 0 and k == 0:
                    row.append(_th(_strong(activity), style, _span("rowspan", height)))
                if k == 0:
                    row.append(_th(_strong(spec.task), style, _span("rowspan", spec.columns)))
                for p in range(len(page.periods)):
                    if (p, lane) in hidden:
                        continue
                    span = _span("colspan", page.spans.get((p, lane), 1))
                    row.append(_td(cell_html(subs[p][k], style, p * 31 + lane + k), style, span))
                rows.append("<tr>" + "".join(row) + "</tr>")
    return rows


def _legend_and_history(page: Page) -> str:
    out = [f"<p>{_RED}Organizations listed above in red</span></p><ol>"]
    out += [f"<li><p>{html.escape(name)}</p></li>" for name in LEGEND.values()]
    out.append("</ol><h2>Change History</h2>")
    if page.history:
        out.append("<ul>")
        for date, category, sentence in page.history:
            text = html.escape(sentence, quote=False)
            if category:
                out.append(
                    f"<li><p>{date}</p><ul><li><p>{html.escape(category)}</p><ul>"
                    f"<li><p>{text}</p></li></ul></li></ul></li>"
                )
            else:
                out.append(f"<li><p>{date}</p><ul><li><p>{text}</p></li></ul></li>")
        out.append("</ul>")
    return "".join(out)


def render(page: Page, style: Style | None = None) -> str:
    """The page body in ``style``: storage XHTML or view HTML, periods as rows or columns."""
    style = style or Style()
    ncols = 1 + sum(lane.columns for lane in page.lanes)
    if style.orientation == "columns":
        ncols = 2 + len(page.periods)
        rows = _table_columns(page, style)
    else:
        rows = _table_rows(page, style)
    colgroup = "<colgroup>" + "<col />" * ncols + "</colgroup>"
    if style.fmt == "view":
        table = (
            f'<div class="table-wrap"><table data-layout="full-width" class="confluenceTable">'
            f"{colgroup}<tbody>{''.join(rows)}</tbody></table></div>"
        )
    else:
        table = (
            f'<table data-layout="full-width" ac:local-id="7c1f0b9e-2d3a">'
            f"{colgroup}<tbody>{''.join(rows)}</tbody></table>"
        )
    return INTRO + table + _legend_and_history(page)


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True, slots=True)
class Expected:
    """What a correct parser reads for one card."""

    uid: int
    title: str
    stage: str | None
    tags: tuple[str, ...]
    orgs: tuple[str, ...]
    period: str
    period_end: str | None
    lane: str

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        return (self.period, self.lane, self.title, self.stage)


def expected_items(page: Page) -> list[Expected]:
    """Every card as the parser should read it, in the order of ``Page.cards``."""
    out: list[Expected] = []
    for (p, lane), card in page.cards():
        k = page.spans.get((p, lane), 1)
        end = page.periods[p + k - 1].expected_label if k > 1 else None
        out.append(
            Expected(
                uid=card.uid,
                title=card.title,
                stage=card.stage,
                tags=card.tags,
                orgs=card.orgs,
                period=page.periods[p].expected_label,
                period_end=end,
                lane=page.lanes[lane].label,
            )
        )
    return out


# --------------------------------------------------------------------------- planted edits

#: Edit kinds and the category each one is true for (``None``: no change; ``*``: depends).
EDIT_KINDS: dict[str, str | None] = {
    "defer": "Deferred",
    "move_up": "Moved Up",
    "to_backlog": "Deferred",
    "from_backlog": "Moved Up",
    "rename_small": "Renamed",
    "rename_large": "Renamed",
    "reword": "Deleted+Added",
    "replace": "Replaced",
    "add": "Added",
    "delete": "Deleted",
    "stage": "Changed",
    "orgs": "Changed",
    "lane": "Changed",
    "tag": "Changed",
    "parts": "Changed",
    "move_rename": "*",
    "move_stage": "*",
    "move_lane": "*",
    "rename_stage": "Renamed",
    "rename_lane": "Renamed",
    "stage_orgs": "Changed",
    "reorder": None,
}


@dataclass(frozen=True, slots=True)
class Truth:
    """One true change: its category and the uids of the card before and after."""

    category: str
    old: int | None
    new: int | None
    kind: str  # the edit kind that made it


@dataclass(frozen=True, slots=True)
class Edit:
    """A planted edit, described for people (the examples in RESULTS.md)."""

    kind: str
    description: str
    truths: tuple[Truth, ...]


_MOVES = ("defer", "move_up", "to_backlog", "from_backlog", "move_rename", "move_stage")


class _Editor:
    """Applies edits to a copy of a page, each to a card no other edit touched."""

    def __init__(self, page: Page, rng: random.Random) -> None:
        self.page = page.copy()
        self.rng = rng
        self.touched: set[int] = set()
        self.titles = _Titles(rng, (c.body for _, c in page.cards()))
        self.backlog = next((i for i, p in enumerate(page.periods) if p.backlog), None)
        self.removed: dict[int, list[CardSpec]] = {}  # lane -> cards taken away (not replaced)
        self.added: dict[int, list[CardSpec]] = {}  # lane -> cards put in (not replacements)
        self.hidden = page.hidden_cells()
        self.pool = list(self.page.cards())  # untouched cards never move: sample from here

    # -------------------------------------------------------------- helpers

    def _name(self, p: int) -> str:
        return self.page.periods[p].expected_label

    def _pick(self, want: str = "any") -> tuple[Cell, CardSpec] | None:
        """A random untouched card; ``want``: any | single (one part) | multi | backlog | timed."""

        def ok(cell: Cell, card: CardSpec) -> bool:
            is_backlog = cell[0] == self.backlog
            return not (
                card.uid in self.touched
                or (want == "single" and (len(card.parts) != 1 or card.link))
                or (want == "multi" and len(card.parts) < 2)
                or (want == "backlog" and not is_backlog)
                or (want == "timed" and is_backlog)
            )

        for _ in range(64):  # rejection sampling keeps big pages cheap
            cell, card = self.rng.choice(self.pool)
            if ok(cell, card):
                return cell, card
        choices = [(cell, card) for cell, card in self.pool if ok(cell, card)]
        return self.rng.choice(choices) if choices else None

    def _fits(self, cell: Cell, card: CardSpec, ignore: int | None = None) -> bool:
        """Can ``card`` sit in ``cell`` without being a look-alike of a card already there?"""
        if cell in self.hidden:
            return False
        key = (card.title.casefold(), card.stage)
        return all(
            (c.title.casefold(), c.stage) != key
            for c in self.page.cells.get(cell, [])
            if c.uid != ignore
        )

    def _remove(self, cell: Cell, card: CardSpec) -> int:
        cards = self.page.cells[cell]
        pos = next(i for i, c in enumerate(cards) if c.uid == card.uid)
        del cards[pos]
        return pos

    def _put(self, cell: Cell, card: CardSpec, pos: int | None = None) -> None:
        cards = self.page.cells.setdefault(cell, [])
        cards.insert(self.rng.randint(0, len(cards)) if pos is None else pos, card)

    def _targets(self, cell: Cell, card: CardSpec, periods: Iterable[int]) -> list[int]:
        return [q for q in periods if q != cell[0] and self._fits((q, cell[1]), card)]

    def _move_category(self, p: int, q: int) -> str:
        return "Deferred" if q > p else "Moved Up"

    def _new_card(self, avoid: frozenset[str], keep: str | None = None) -> CardSpec:
        rng = self.rng
        stage = rng.choice(STAGES) if rng.random() < 0.5 else None
        return CardSpec(self.page.new_uid(), ((self.titles.draw(avoid, keep), _orgs(rng)),), stage)

    # -------------------------------------------------------------- title edits

    def _retitle(self, card: CardSpec, text: str) -> CardSpec | None:
        if not text or not self.titles.claim(text):
            return None
        return replace(card, parts=((text, card.parts[0][1]),))

    def _small(self, text: str) -> str:
        """One small wording change: a typo, a word added or dropped, two words swapped, or
        punctuation and case."""
        rng = self.rng
        words = text.split()
        op = rng.randrange(6)
        if op == 0:
            long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
            if long:
                i = rng.choice(long)
                w = words[i]
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
                return " ".join(words)
        if op == 1:
            return f"{text} {rng.choice(SUFFIXES)}"
        if op == 2 and len(words) >= 3:
            del words[rng.randrange(1, len(words))]
            return " ".join(words)
        if op == 3 and len(words) >= 2:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
            return " ".join(words)
        if op == 4 and len(words) >= 2:
            return f"{words[0]}: {' '.join(words[1:])}"
        if op == 5 and len(words) >= 2:
            return "-".join(words[:2]) + (" " + " ".join(words[2:]) if len(words) > 2 else "")
        return f"{text} {rng.choice(SUFFIXES)}"

    def _large(self, text: str) -> str | None:
        """Two or three word-level changes (words added, dropped or replaced) that keep at least
        half of the old words, at least two of them, and two significant ones (or the only one):
        a replacement keeps one word, so the two never look alike. None when the draw did not."""
        rng = self.rng
        words: list[tuple[str, bool]] = [(w, True) for w in text.split()]
        for _ in range(rng.choice((2, 3))):
            op = rng.randrange(3)
            if op == 0 or len(words) < 2:
                words.insert(rng.randrange(len(words) + 1), (rng.choice(NOUNS), False))
            elif op == 1:
                del words[rng.randrange(len(words))]
            else:
                words[rng.randrange(len(words))] = (rng.choice(NOUNS), False)
        kept = sum(1 for _, original in words if original)
        new = " ".join(w for w, _ in words)
        old_sig = significant_words(text)
        kept_sig = old_sig & significant_words(new)
        if kept * 2 < len(text.split()) or kept < 2:
            return None
        if len(kept_sig) < 2 and not (len(old_sig) == 1 and kept_sig == old_sig):
            return None
        return new

    # -------------------------------------------------------------- the edits

    def edit(self, kind: str) -> Edit | None:
        """Apply one edit of ``kind``; None when this page offers no candidate for it."""
        for kinds, method in (
            (_MOVES, self._move),
            (("lane", "move_lane", "rename_lane"), self._lane),
            (("rename_small", "rename_large", "rename_stage"), self._rename),
            (("reword",), self._reword),
            (("replace",), self._replace),
            (("add",), self._add),
            (("delete",), self._delete),
            (("stage", "orgs", "tag", "parts", "stage_orgs"), self._attrs),
            (("reorder",), self._reorder),
        ):
            if kind in kinds:
                return method(kind)
        raise ValueError(f"unknown edit kind {kind!r}")

    def _move(self, kind: str) -> Edit | None:
        rng, page = self.rng, self.page
        if self.backlog is None and kind in ("to_backlog", "from_backlog"):
            return None
        want = "backlog" if kind == "from_backlog" else "timed"
        if kind in ("move_rename",):
            want = "single"
        got = self._pick(want)
        if got is None:
            return None
        cell, card = got
        p = cell[0]
        timed = [i for i, pd in enumerate(page.periods) if not pd.backlog]
        if kind == "defer":
            options = [q for q in timed if q > p]
        elif kind == "move_up":
            options = [q for q in timed if q < p]
        elif kind == "to_backlog":
            options = [self.backlog] if self.backlog is not None else []
        elif kind == "from_backlog":
            options = timed
        else:
            options = list(range(len(page.periods)))
        new = card
        what: list[str] = []
        if kind == "move_rename":
            renamed = self._retitle(card, self._small(card.body))
            if renamed is None:
                return None
            new = renamed
            what.append(f"renamed to “{new.title}”")
        if kind == "move_stage":
            stage = rng.choice([s for s in STAGES if s != card.stage])
            new = replace(card, stage=stage, lozenge_stage=False)
            what.append(f"stage {card.stage} → {stage}")
        targets = self._targets(cell, new, [q for q in options if q is not None])
        if not targets:
            return None
        q = rng.choice(targets)
        self._remove(cell, card)
        self._put((q, cell[1]), new)
        self.touched.add(card.uid)
        cat = self._move_category(p, q)
        desc = f"“{card.title}” moved {self._name(p)} → {self._name(q)}"
        if what:
            desc += ", " + ", ".join(what)
        return Edit(kind, desc, (Truth(cat, card.uid, card.uid, kind),))

    def _lane(self, kind: str) -> Edit | None:
        rng, page = self.rng, self.page
        got = self._pick("single" if kind == "rename_lane" else "any")
        if got is None:
            return None
        cell, card = got
        p, lane = cell
        new = card
        if kind == "rename_lane":
            renamed = self._retitle(card, self._small(card.body))
            if renamed is None:
                return None
            new = renamed
        periods = [p]
        if kind == "move_lane":
            periods = [q for q in range(len(page.periods)) if q != p]
        lanes = [m for m in range(len(page.lanes)) if m != lane]
        for _ in range(64):
            q, m = rng.choice(periods), rng.choice(lanes)
            if self._fits((q, m), new):
                break
        else:
            return None
        self._remove(cell, card)
        self._put((q, m), new)
        self.touched.add(card.uid)
        cat = "Changed" if q == p else self._move_category(p, q)
        if kind == "rename_lane":
            cat = "Renamed"
        desc = (
            f"“{card.title}” ({self._name(p)}) lane {page.lanes[lane].label} → "
            f"{page.lanes[m].label}"
            + (f", period → {self._name(q)}" if q != p else "")
            + (f", renamed to “{new.title}”" if new is not card else "")
        )
        return Edit(kind, desc, (Truth(cat, card.uid, card.uid, kind),))

    def _rename(self, kind: str) -> Edit | None:
        rng = self.rng
        got = self._pick("single")
        if got is None:
            return None
        cell, card = got
        text = self._large(card.body) if kind == "rename_large" else self._small(card.body)
        if text is None or not significant_words(text) & significant_words(card.body):
            return None
        new = self._retitle(card, text)
        if new is None:
            return None
        if kind == "rename_stage":
            new = replace(new, stage=rng.choice([s for s in STAGES if s != card.stage]))
        if not self._fits(cell, new, ignore=card.uid):
            return None
        pos = self._remove(cell, card)
        self._put(cell, new, pos)
        self.touched.add(card.uid)
        desc = f"“{card.title}” → “{new.title}” in {self._name(cell[0])}"
        if kind == "rename_stage":
            desc += f", stage {card.stage} → {new.stage}"
        return Edit(kind, desc, (Truth("Renamed", card.uid, card.uid, kind),))

    def _reword(self, kind: str) -> Edit | None:
        page = self.page
        got = self._pick("single")
        if got is None:
            return None
        cell, card = got
        new = replace(
            card,
            uid=page.new_uid(),
            parts=((self.titles.draw(words_of(card.title)), card.parts[0][1]),),
            tags=(),
        )
        if significant_words(new.title) & self._related_to_removed(cell[1]) or (
            significant_words(card.title) & self._related_to_added(cell[1])
        ):
            return None
        pos = self._remove(cell, card)
        self._put(cell, new, pos)
        self.touched.update((card.uid, new.uid))
        self.removed.setdefault(cell[1], []).append(card)
        self.added.setdefault(cell[1], []).append(new)
        desc = f"“{card.title}” reworded to “{new.title}” in {self._name(cell[0])}"
        return Edit(
            kind,
            desc,
            (Truth("Deleted", card.uid, None, kind), Truth("Added", None, new.uid, kind)),
        )

    def _replace(self, kind: str) -> Edit | None:
        rng, page = self.rng, self.page
        got = self._pick("single")
        if got is None:
            return None
        cell, card = got
        keys = sorted(significant_words(card.body))
        if not keys:
            return None
        key = rng.choice(keys)
        keep = next(w for w in _WORD.findall(card.body) if w.casefold() == key)
        avoid = words_of(card.title) - words_of(keep)
        if significant_words(card.title) & self._related_to_added(cell[1]):
            return None
        if key in self._related_to_removed(cell[1]):
            return None  # the kept word would relate the new card to another dropped one
        new = self._new_card(avoid | self._related_to_removed(cell[1]), keep=keep)
        p, lane = cell
        q = min(len(page.periods) - 1, max(0, p + rng.choice((0, 0, 1, 1, -1))))
        if not self._fits((q, lane), new):
            return None
        self._remove(cell, card)
        self._put((q, lane), new)
        self.touched.update((card.uid, new.uid))
        self.removed.setdefault(lane, []).append(card)
        self.added.setdefault(lane, []).append(new)
        desc = f"“{card.title}” ({self._name(p)}) replaced by “{new.title}” ({self._name(q)})"
        return Edit(kind, desc, (Truth("Replaced", card.uid, new.uid, kind),))

    def _add(self, kind: str) -> Edit | None:
        rng, page = self.rng, self.page
        open_cells = [
            (p, m)
            for p in range(len(page.periods))
            for m in range(len(page.lanes))
            if (p, m) not in self.hidden
        ]
        p, lane = rng.choice(open_cells)
        new = self._new_card(self._related_to_removed(lane))
        self._put((p, lane), new)
        self.touched.add(new.uid)
        self.added.setdefault(lane, []).append(new)
        desc = f"added “{new.title}” in {self._name(p)} / {page.lanes[lane].task}"
        return Edit(kind, desc, (Truth("Added", None, new.uid, kind),))

    def _delete(self, kind: str) -> Edit | None:
        got = self._pick()
        if got is None:
            return None
        cell, card = got
        if significant_words(card.title) & self._related_to_added(cell[1]):
            return None
        self._remove(cell, card)
        self.touched.add(card.uid)
        self.removed.setdefault(cell[1], []).append(card)
        desc = f"deleted “{card.title}” from {self._name(cell[0])}"
        return Edit(kind, desc, (Truth("Deleted", card.uid, None, kind),))

    def _attrs(self, kind: str) -> Edit | None:
        rng = self.rng
        got = self._pick("multi" if kind == "parts" else "single")
        if kind == "stage" and got is not None and got[0][0] == self.backlog:
            got = self._pick("timed")
        if got is None:
            return None
        cell, card = got
        new = card
        what = []
        if kind in ("stage", "stage_orgs"):
            stage = rng.choice([s for s in (*STAGES, None) if s != card.stage])
            new = replace(new, stage=stage, lozenge_stage=False)
            what.append(f"stage {card.stage} → {stage}")
        if kind in ("orgs", "stage_orgs"):
            orgs = card.orgs
            while set(orgs) == set(card.orgs):
                orgs = _orgs(rng)
            new = replace(new, parts=((new.parts[0][0], orgs),))
            what.append(f"orgs {list(card.orgs)} → {list(orgs)}")
        if kind == "tag":
            tags = () if card.tags else (rng.choice(TAGS),)
            if tags and card.body.split()[0] == tags[0]:
                return None
            new = replace(new, tags=tags)
            what.append(f"tags {list(card.tags)} → {list(tags)}")
        if kind == "parts":
            parts = list(card.parts)
            if len(parts) > 2 and rng.random() < 0.5:
                del parts[rng.randrange(1, len(parts))]
            else:
                name = rng.choice([n for n in UPGRADE_PARTS if n not in card.body])
                parts.append((f"{name} {rng.randrange(1, 20)}.0", (rng.choice(ORGS),)))
            new = replace(new, parts=tuple(parts))
            what.append(f"parts → “{new.body}”")
        if not self._fits(cell, new, ignore=card.uid):
            return None
        pos = self._remove(cell, card)
        self._put(cell, new, pos)
        self.touched.add(card.uid)
        desc = f"“{card.title}” in {self._name(cell[0])}: " + ", ".join(what)
        return Edit(kind, desc, (Truth("Changed", card.uid, card.uid, kind),))

    def _reorder(self, kind: str) -> Edit | None:
        rng, page = self.rng, self.page
        cells = [k for k, v in page.cells.items() if len(v) >= 2]
        if not cells:
            return None
        cell = rng.choice(cells)
        cards = page.cells[cell]
        if any(c.uid in self.touched for c in cards):
            return None
        before = [c.uid for c in cards]
        while [c.uid for c in cards] == before:
            rng.shuffle(cards)
        self.touched.update(before)
        return Edit(kind, f"reordered {len(cards)} cards in {self._name(cell[0])}", ())

    def _related_to_removed(self, lane: int) -> frozenset[str]:
        """Words an independent new card in ``lane`` must not use (no accidental replacement)."""
        return frozenset(w for c in self.removed.get(lane, []) for w in significant_words(c.title))

    def _related_to_added(self, lane: int) -> frozenset[str]:
        """Words a card taken from ``lane`` must not share with cards put there."""
        return frozenset(w for c in self.added.get(lane, []) for w in significant_words(c.title))


def plant_edits(
    page: Page,
    n: int,
    seed: int,
    kinds: tuple[str, ...] | None = None,
    weights: dict[str, float] | None = None,
) -> tuple[Page, list[Edit]]:
    """An edited copy of ``page`` with ``n`` edits (fewer if the page runs out of candidates).

    Each edit touches its own card(s), so every true change is known: ``Edit.truths``.
    """
    rng = random.Random(seed)
    editor = _Editor(page, rng)
    pool = list(kinds or EDIT_KINDS)
    w = [(weights or {}).get(k, 1.0) for k in pool]
    edits: list[Edit] = []
    attempts = 0
    while len(edits) < n and attempts < n * 30:
        attempts += 1
        got = editor.edit(rng.choices(pool, w)[0])
        if got is not None:
            edits.append(got)
    return editor.page, edits


def truths_of(edits: Iterable[Edit]) -> list[Truth]:
    return [t for e in edits for t in e.truths]


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Write a synthetic page (and optionally an edited version) to files, for inspection."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--cards", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=("storage", "view"), default="storage")
    ap.add_argument("--orientation", choices=("rows", "columns"), default="rows")
    ap.add_argument("--separator", choices=("dashes", "list"), default="dashes")
    ap.add_argument("--edits", type=int, default=0, help="also write an edited version")
    ap.add_argument("--out", type=Path, default=Path("."))
    args = ap.parse_args(argv)
    style = Style(args.format, args.orientation, args.separator)
    page = generate_page(args.cards, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    old = args.out / f"synthetic-{args.cards}-{args.seed}.{args.format}.html"
    old.write_text(render(page, style), encoding="utf-8")
    print(f"{old} ({old.stat().st_size:,} bytes, {page.n_cards()} cards)")
    if args.edits:
        edited, edits = plant_edits(page, args.edits, args.seed + 1)
        new = old.with_name(old.name.replace(".html", ".edited.html"))
        new.write_text(render(edited, style), encoding="utf-8")
        print(f"{new} ({len(edits)} edits)")
        for e in edits:
            print(f"  {e.kind:13} {e.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
