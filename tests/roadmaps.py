"""Terse builders for test roadmaps, straight from the model dataclasses (no parser involved).

``card("Toggle Docs (OEP-17) <Pilot> [5]", "Q2", "make")`` reads the page's card grammar well
enough for tests: ``<Stage>``, ``[orgs]`` groups (several groups make a multi-part card).
Periods are given by short name (``Q2``, ``Backlog``) and lanes by a key (``make``); both are the
real page's rows and columns.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import replace

from wikisync.model import Item, Lane, Part, Period, Roadmap

PAGE_PERIODS: list[Period] = [
    Period("FY21 Q1 (Jul-Sep)", "Q1", (), 0),
    Period("FY21 Q2 (Oct-Dec)", "Q2", ("Koa",), 1),
    Period("FY21 Q3 (Jan-Mar)", "Q3", (), 2),
    Period("FY21 Q4 (Apr-Jun)", "Q4", ("Lilac",), 3),
    Period("FY22 H1 (Jul-Dec)", "H1", ("Maple",), 4),
    Period("FY22 H2 (Jan-Jun)", "H2", (), 5),
    Period("(after H2)", "(after H2)", (), 6),
    Period("Backlog Grab Bag", "Backlog", (), 7, backlog=True),
]

LANE_KEYS: dict[str, tuple[str, str]] = {
    "understand": ("Onboard to (new area of) Platform", "Understand the Platform"),
    "use": ("Local Development", "How to Use/Develop"),
    "make": ("Local Development", "Make change"),
    "test": ("Local Development", "Test change"),
    "integrate": (
        "Cross-boundary Development (x-repo, x-service, x-org)",
        "Integrate and not modify core",
    ),
    "deploy": ("Production Development", "Deploy change"),
    "observe": ("Production Development", "Observe change"),
    "assess": ("Maintain Long-term", "Assess health & value"),
    "upgrade": ("Maintain Long-term", "Removals & upgrades"),
}
PAGE_LANES: list[Lane] = [Lane(" / ".join(path), path) for path in LANE_KEYS.values()]

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

_STAGE = re.compile(r"\s*<([^>]*)>\s*")
_PART = re.compile(r"\s*,?\s*([^\[\]]*?)\s*\[([^\]]*)\]")


def period_label(name: str, periods: list[Period] = PAGE_PERIODS) -> str:
    """A period's label from its short name, alias or label."""
    for p in periods:
        if name in (p.short, p.label, *p.aliases):
            return p.label
    return name


def lane_label(key: str) -> str:
    return " / ".join(LANE_KEYS[key]) if key in LANE_KEYS else key


def card(
    text: str,
    at: str = "Q1",
    lane: str = "make",
    *,
    tags: tuple[str, ...] = (),
    struck: bool = False,
    until: str | None = None,
    links: tuple[str, ...] = (),
) -> Item:
    """One card from its page text; ``at``/``until`` are period names, ``lane`` a lane key."""
    stage_match = _STAGE.search(text)
    stage = stage_match.group(1) if stage_match else None
    bare = _STAGE.sub(" ", text).strip()
    groups = _PART.findall(bare)
    parts = tuple(Part(t, tuple(o.strip() for o in orgs.split(","))) for t, orgs in groups)
    if len(parts) > 1:
        title = ", ".join(p.text for p in parts)
    else:
        title = re.sub(r"\s*\[[^\]]*\]", "", bare).strip()
        parts = ()
    orgs = tuple(dict.fromkeys(o.strip() for _, g in groups for o in g.split(",")))
    title = " ".join((*tags, title)) if tags else title
    return Item(
        id="",
        title=title,
        stage=stage,
        tags=tags,
        orgs=orgs,
        org_names=tuple(LEGEND[o] for o in orgs if o in LEGEND),
        period=period_label(at),
        period_end=period_label(until) if until else None,
        lane=lane_label(lane),
        text=" ".join(text.split()),
        struck=struck,
        parts=parts,
        links=links,
    )


def roadmap(
    *items: Item,
    periods: list[Period] | None = None,
    lanes: list[Lane] | None = None,
    legend: dict[str, str] | None = None,
) -> Roadmap:
    """A roadmap of ``items`` with ids computed the way the parser does (sha1 with ordinal)."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    with_ids: list[Item] = []
    for it in items:
        key = (it.period, it.lane, it.title, it.stage or "")
        n = seen[key]
        seen[key] += 1
        digest = hashlib.sha1("|".join((*key, str(n))).encode()).hexdigest()[:12]
        with_ids.append(replace(it, id=digest))
    return Roadmap(
        periods=list(PAGE_PERIODS if periods is None else periods),
        lanes=list(PAGE_LANES if lanes is None else lanes),
        items=with_ids,
        legend=dict(LEGEND if legend is None else legend),
    )


def page_cards() -> list[Item]:
    """The cards of the current real page (seed text), lanes as best read from the table."""
    c = card
    return [
        c("Devstack decentralized <Pilot> [1]", "Q1", "use"),
        c("Nose to Pytest [4]", "Q1", "test"),
        c("Eventing Message bus <Spike> [1]", "Q1", "integrate"),
        c("Toggle Env Compare Report", "Q1", "deploy"),
        c("Observability Training [1]", "Q1", "observe"),
        c("Tech Health Dashboard v1 [1]", "Q1", "assess"),
        c("Remove Shopping Cart", "Q1", "upgrade"),
        c("Toggle Docs (OEP-17) <Pilot> [5]", "Q2", "use"),
        c("MFE Open Deployment <Pilot> [3, 5, 2]", "Q2", "deploy"),
        c("Split On-call Ownership of Monolith [1]", "Q2", "observe"),
        c("Toggle Removal Report [5]", "Q2", "assess"),
        c("Python 3.8 [3]", "Q2", "upgrade"),
        c("Remove Notifier", "Q2", "upgrade"),
        c("Toggle Docs (OEP-17) <Adopt> [5]", "Q3", "use"),
        c("Conventional Commits (OEP-51) <Pilot> [1]", "Q3", "make"),
        c("Devstack Doc wins, Eval Tutor [2]", "Q3", "use", tags=("Devstack",)),
        c("as effective feedback loop [1]", "Q3", "test", tags=("Pylint",)),
        c("Containerization Phase 1 <Pilot> [1]", "Q3", "deploy"),
        c("Observability of Celery tasks [1]", "Q3", "observe"),
        c("Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]", "Q3", "upgrade"),
        c("Rotatable SECRET_KEY [1]", "Q3", "assess"),
        c("Remove XServer", "Q3", "upgrade"),
        c("Onboarding Slides v4 [1]", "Q4", "understand"),
        c("Conventional Commits (OEP-51) <Evangelize> [1]", "Q4", "make"),
        c("Devstack DevData (OEP-37) <Prototype> [1]", "Q4", "use"),
        c("Devstack Metrics [1]", "Q4", "use"),
        c("MFE Open edX Deployment <Adopt> [All]", "Q4", "deploy"),
        c("Tutor-for-Open-edX-Deploys <Eval> [5]", "Q4", "deploy"),
        c("Tech Health Dashboard v2", "Q4", "assess"),
        c("Upgrade Prep Django 3 [1]", "Q4", "upgrade"),
        c("Remove MIT SysAdmin [8]", "Q4", "upgrade"),
        c("Tech Radar", "H1", "understand"),
        c("Onboarding Course [6]", "H1", "understand"),
        c("Conventional Commits (OEP-51) <Adopt via Automated-Feedback> [1]", "H1", "make"),
        c("Tutor-for-Devstack <Implement> [5]", "H1", "use"),
        c("Pact.io for API Contract-testing <Pilot> [1]", "H1", "test"),
        c("Cypress for end-to-end testing <Adopt> [1]", "H1", "test"),
        c("GitHub Actions, not Jenkins/Travis [1]", "H1", "test"),
        c("Eventing Standard xAPI/Caliper (OEP-26) [4]", "H1", "integrate"),
        c("Eventing Message bus (OEP-52) <Pilot> [1]", "H1", "integrate"),
        c("Backend Plugins Django Event API (OEP-50) [3]", "H1", "integrate"),
        c("Frontend Plugins <Pilot> [1]", "H1", "integrate"),
        c("Tutor-for-Open-edX-Deploys <Pilot> [5]", "H1", "deploy"),
        c("Containerization Phase 2 <Implement> [1]", "H1", "deploy"),
        c("Simplify edx-platform deploys [1]", "H1", "deploy"),
        c("HTTP Cookie Size Alerting [1]", "H1", "observe"),
        c("Django 3.2 [All], Mongo 4.2 [1], ES 7.10 [1], Ubuntu 20.04 [1]", "H1", "upgrade"),
        c("Tutor-for-Devstack <Pilot> [1]", "H2", "use"),
        c("Eventing Message bus <Adopt> [1]", "H2", "integrate"),
        c("Backend Plugins Python APIs [3]", "H2", "integrate"),
        c("Frontend Plugins <Adopt> [1]", "H2", "integrate"),
        c("Tutor-for-Open-edX-Deploys <Adopt> [5]", "H2", "deploy"),
        c("Containerization Phase 3 <Adopt> [1]", "H2", "deploy"),
        c("Node.js [1], OpenSearch [1]", "H2", "upgrade"),
        c("Remove Legacy Account FE Pages", "H2", "upgrade"),
        c("Tutor-for-Devstack <Adopt> [1]", "(after H2)", "use"),
        c("Eventing Message bus <Sustain> [1]", "(after H2)", "integrate"),
        c("Containerization Phase 4 <Sustain>[1]", "(after H2)", "deploy"),
        c("Remove Legacy Courseware FE Pages", "(after H2)", "upgrade"),
        c("Remove SiteConfiguration", "(after H2)", "upgrade"),
        c("Developer Handbook", "Backlog", "understand"),
        c("Monolith Structure & Boundaries", "Backlog", "understand"),
        c("Doc OEP Refinements", "Backlog", "use"),
        c("Speed startup & individual time", "Backlog", "test", tags=("Test",)),
        c("Strategy", "Backlog", "test", tags=("Test",)),
        c("Authn and Authz Standardized", "Backlog", "integrate"),
        c("API Practices", "Backlog", "integrate"),
        c("Frontend APIs for rapid development", "Backlog", "integrate"),
        c("MFE Theming", "Backlog", "integrate"),
        c("Canary Releases in lieu of Stage env", "Backlog", "deploy"),
        c("Distributed Tracing", "Backlog", "observe"),
        c("Service Mesh", "Backlog", "observe"),
        c("Automated Feedback Loops", "Backlog", "assess"),
    ]


def page() -> Roadmap:
    return roadmap(*page_cards())
