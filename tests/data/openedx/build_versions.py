#!/usr/bin/env python3
"""Rebuild the reconstructed version history of the Open edX roadmap page (stdlib only).

We only have the page's CURRENT storage body (``current.storage.html``). This script walks the
hand-written Change History backwards: starting from the current body it undoes, step by step, the
edits listed in ``STEPS`` (plain string edits on the table cells and on the Change History list)
and writes ``v1.storage.html`` ... ``v7.storage.html`` (v7 is the current body, byte-identical),
``versions.json`` (version metadata), ``expected.json`` (the labelled changes of each consecutive
pair) and ``history.json`` (the hand-written entries, as wikisync should parse them).

The labels in ``STEPS`` are typed by hand (titles as wikisync parses them, see
docs/ARCHITECTURE.md); they are NOT computed by wikisync, so the test that diffs the versions can
catch real mistakes in the parser or the differ. See README.md for the story behind every edit.

Usage: ``python tests/data/openedx/build_versions.py [--out DIR]`` (default: this directory).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "current.storage.html"

# Period rows of the table, top to bottom, by the short names wikisync gives them.
PERIODS: tuple[str, ...] = ("Q1", "Q2", "Q3", "Q4", "H1", "H2", "(after H2)", "Backlog")
N_COLUMNS = 10  # data columns after the header column; 5 and 6 are one lane ("Integrate ...")

EMPTY = "<p>&nbsp;</p>"
SEP = "<p>---------</p>"


# --------------------------------------------------------------------------- card markup


def org(orgs: str) -> str:
    """The page writes organisations as a red bracket after the text."""
    return f'<span style="color: rgb(255,0,0);">[{orgs}]</span>'


def tag(title: str) -> str:
    """A grey status lozenge, written exactly as the page writes its tag lozenges."""
    return (
        '<ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="0f3e2a">'
        '<ac:parameter ac:name="colour">Grey</ac:parameter>'
        f'<ac:parameter ac:name="title">{title}</ac:parameter></ac:structured-macro>'
    )


# Cards as they appear on the current page (byte-exact) ...
ES = f"Upgrade Elasticsearch7.8 {org('7')}, Ubuntu 20.04 {org('1')},<br />MySQL 5.7 {org('1')}"
AUTHN = "Authn and Authz Standardized"
XAPI = f"Eventing Standard xAPI/Caliper (OEP-26) {org('4')}"
MB_PILOT = f"Eventing Message bus (OEP-52) &lt;Pilot&gt; {org('1')}"
BP_DJANGO = f"Backend Plugins Django Event API (OEP-50) {org('3')}"
BP_PY = f"Backend Plugins<br />Python APIs {org('3')}"
DEVHB = "Developer Handbook"
ONB6 = f"Onboarding Course {org('6')}"
DOCWINS = f"{tag('Devstack')} Doc wins,<br />Eval Tutor {org('2')}"
PYLINT = f"{tag('Pylint')} as&nbsp;effective&nbsp;feedback loop {org('1')}"
DEVDATA = f"Devstack DevData (OEP-37) &lt;Prototype&gt; {org('1')}"
# ... and cards that no longer exist (or not in this form): invented in the page's style.
BP_V1 = f"Backend Plugins Django Event API (OEP-50) {org('3')},<br />Python APIs {org('3')}"
BP_V2 = f"{BP_V1},<br />Plugin Templates {org('2')}"
BP_DJANGO_TPL = f"{BP_DJANGO},<br />Plugin Templates {org('2')}"
ISM = f"Eventing Inter-service messaging &lt;Pilot&gt; {org('1')}"
MB_PILOT_OLD = f"Eventing Message bus &lt;Pilot&gt; {org('1')}"
ONB = "Onboarding Course"
DDA = f"Decentralized Devstack Adoption {org('1')}"
DOCWINS_OLD = f"{tag('Devstack')} Doc wins,<br />Data Provision,<br />Eval Tutor {org('2')}"
MPR = f"Monolith PR Standards {org('1')}"

# Titles as wikisync parses them (stage and [orgs] dropped, tag prepended, <br> -> space,
# multi-part titles joined with ", ").
T_BP_V1 = "Backend Plugins Django Event API (OEP-50), Python APIs"
T_BP_V2 = "Backend Plugins Django Event API (OEP-50), Python APIs, Plugin Templates"
T_BP_DJANGO_TPL = "Backend Plugins Django Event API (OEP-50), Plugin Templates"
T_BP_DJANGO = "Backend Plugins Django Event API (OEP-50)"
T_BP_PY = "Backend Plugins Python APIs"
T_ES = "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7"
T_XAPI = "Eventing Standard xAPI/Caliper (OEP-26)"
T_ISM = "Eventing Inter-service messaging"

# Hand-written sentences, as written on the page (curly quotes kept).
HW_0911 = "Added “Plugin Templates” and OpenCraft to the “Backend Plugins API” card."
HW_0925_ONB = "Moved “Doc Onboarding Course” from Backlog to Lilac, assigned to Appsembler."
HW_0925_SWAP = (
    "Moved “Eventing Inter-service messaging” from Lilac to Koa; “Authentication standardized” "
    "from Koa to Lilac."
)
HW_1026_XAPI = "Moved “Eventing Standard xAPI/Caliper” from Q1 to Q2."
HW_1026_BP = "Moved “Backend Plugins API” from Koa to Lilac."
HW_0210_ES = "Moved “Elasticsearch, Ubuntu 20.04, MySql 5.7” from Q2 to Q3."
HW_0210_AUTHN = "Moved “Authentication Standardized” from Q3 to Backlog."
HW_0210_ISM = "Moved “Eventing: Inter-service messaging Pilot” from Q2 to Q4."
HW_0210_XAPI = "Moved “Eventing: Standard xAPI/Caliper” from Q2 to Q4."
HW_0210_BP = "Moved “Backend Plugins API: Python APIs” from Q3 to Q4 (Django Signals remains in Q3."
HW_0210_DEVHB = "Moved “Doc: Developer Handbook” from Backlog to Q4."
HW_0210_REPLACED = (
    "Deleted “Decentralized Devstack Adoption” from Q2. "
    "Added “Devstack: Doc Wins, Data Provision, Eval Tutor” to Q3."
)
HW_0210_PYLINT = "Added “Pylint as effective feedback loop” in Q3."
HW_0210_MPR = "Added “Monolith PR Standards” in Q3."


# --------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class Edit:
    """One card-level edit from version k to k+1, with its label.

    ``old`` is (period, column, index) in version k; ``new`` is (period, column) in version k+1
    (the card's position there is read off the newer body, which we already have).
    """

    category: str
    title: str
    old_title: str | None = None
    old: tuple[str, int, int] | None = None
    old_html: str | None = None
    new: tuple[str, int] | None = None
    new_html: str | None = None
    hand_written: str | None = None


def move(
    category: str,
    title: str,
    html: str,
    src: tuple[str, int, int],
    dst: tuple[str, int],
    hw: str | None = None,
    *,
    new_html: str | None = None,
    old_title: str | None = None,
) -> Edit:
    """A matched card (moved and/or edited); ``new_html`` when its text changed too."""
    return Edit(category, title, old_title, src, html, dst, new_html or html, hw)


@dataclass(frozen=True)
class Step:
    """The edits that turn the previous version into version ``version``."""

    version: int
    when: str
    message: str
    edits: tuple[Edit, ...]


AUTHOR = "Open edX Architecture (reconstructed)"
V1_WHEN = "2020-09-10T16:00:00Z"
V1_MESSAGE = "FY21-22 roadmap as a table (state before the first Change History entry)"

STEPS: tuple[Step, ...] = (
    Step(
        2,
        "2020-09-11T16:00:00Z",
        "Backend Plugins API: add Plugin Templates (OpenCraft)",
        (
            move(
                "Changed",
                T_BP_V2,
                BP_V1,
                ("Q2", 6, 0),
                ("Q2", 6),
                HW_0911,
                new_html=BP_V2,
                old_title=T_BP_V1,
            ),
        ),
    ),
    Step(
        3,
        "2020-09-25T16:00:00Z",
        "Onboarding Course to Lilac (Appsembler); swap Eventing and Authn/Authz (Koa, Lilac)",
        (
            move(
                "Moved Up",
                "Onboarding Course",
                ONB,
                ("Backlog", 1, 1),
                ("Q4", 1),
                HW_0925_ONB,
                new_html=ONB6,
            ),
            move("Moved Up", T_ISM, ISM, ("Q4", 5, 0), ("Q2", 5), HW_0925_SWAP),
            move("Deferred", AUTHN, AUTHN, ("Q2", 5, 0), ("Q4", 5), HW_0925_SWAP),
        ),
    ),
    Step(
        4,
        "2020-10-26T16:00:00Z",
        "Eventing xAPI/Caliper to Koa; Backend Plugins API to Lilac",
        (
            move("Deferred", T_XAPI, XAPI, ("Q1", 5, 1), ("Q2", 5), HW_1026_XAPI),
            move("Deferred", T_BP_V2, BP_V2, ("Q2", 6, 0), ("Q4", 6), HW_1026_BP),
        ),
    ),
    Step(
        5,
        "2020-12-15T16:00:00Z",
        "Backend Plugins: split out Python APIs; Backend Plugins and Authn/Authz up to Q3",
        (
            move(
                "Moved Up",
                T_BP_DJANGO_TPL,
                BP_V2,
                ("Q4", 6, 0),
                ("Q3", 6),
                new_html=BP_DJANGO_TPL,
                old_title=T_BP_V2,
            ),
            Edit("Added", T_BP_PY, new=("Q3", 6), new_html=BP_PY),
            move("Moved Up", AUTHN, AUTHN, ("Q4", 5, 0), ("Q3", 5)),
        ),
    ),
    Step(
        6,
        "2021-02-10T16:00:00Z",
        "Q3 planning: deferrals, Devstack adoption replaced, Pylint and PR standards added",
        (
            move("Deferred", T_ES, ES, ("Q2", 10, 1), ("Q3", 10), HW_0210_ES),
            move("Deferred", AUTHN, AUTHN, ("Q3", 5, 0), ("Backlog", 5), HW_0210_AUTHN),
            move("Deferred", T_ISM, ISM, ("Q2", 5, 0), ("Q4", 5), HW_0210_ISM),
            move("Deferred", T_XAPI, XAPI, ("Q2", 5, 1), ("Q4", 5), HW_0210_XAPI),
            move("Deferred", T_BP_PY, BP_PY, ("Q3", 6, 1), ("Q4", 6), HW_0210_BP),
            move("Moved Up", DEVHB, DEVHB, ("Backlog", 1, 0), ("Q4", 1), HW_0210_DEVHB),
            Edit(
                "Replaced",
                "Devstack Doc wins, Data Provision, Eval Tutor",
                "Decentralized Devstack Adoption",
                ("Q2", 3, 0),
                DDA,
                ("Q3", 3),
                DOCWINS_OLD,
                HW_0210_REPLACED,
            ),
            Edit(
                "Added",
                "Pylint as effective feedback loop",
                None,
                None,
                None,
                ("Q3", 4),
                PYLINT,
                HW_0210_PYLINT,
            ),
            Edit("Added", "Monolith PR Standards", None, None, None, ("Q3", 2), MPR, HW_0210_MPR),
        ),
    ),
    Step(
        7,
        "2021-06-01T16:00:00Z",
        "FY22 planning: Q4 items to H1 (Maple); OEP numbers; stop the hand-written history",
        (
            move("Deferred", T_XAPI, XAPI, ("Q4", 5, 1), ("H1", 5)),
            move("Deferred", "Onboarding Course", ONB6, ("Q4", 1, 1), ("H1", 1)),
            move("Deferred", DEVHB, DEVHB, ("Q4", 1, 2), ("Backlog", 1)),
            move(
                "Deferred",
                T_BP_DJANGO,
                BP_DJANGO_TPL,
                ("Q3", 6, 0),
                ("H1", 6),
                new_html=BP_DJANGO,
                old_title=T_BP_DJANGO_TPL,
            ),
            move("Deferred", T_BP_PY, BP_PY, ("Q4", 6, 0), ("H2", 6)),
            move(
                "Renamed",
                "Devstack Doc wins, Eval Tutor",
                DOCWINS_OLD,
                ("Q3", 3, 0),
                ("Q3", 3),
                new_html=DOCWINS,
                old_title="Devstack Doc wins, Data Provision, Eval Tutor",
            ),
            move(
                "Renamed",
                "Eventing Message bus (OEP-52)",
                MB_PILOT_OLD,
                ("H1", 5, 0),
                ("H1", 5),
                new_html=MB_PILOT,
                old_title="Eventing Message bus",
            ),
            Edit("Added", "Devstack DevData (OEP-37)", new=("Q4", 3), new_html=DEVDATA),
            Edit("Deleted", T_ISM, old=("Q4", 5, 0), old_html=ISM),
            Edit("Deleted", "Monolith PR Standards", old=("Q3", 2, 2), old_html=MPR),
        ),
    ),
)


# --------------------------------------------------------------------------- page model

Cells = dict[tuple[str, int], list[str]]

TABLE_RE = re.compile(r"<table\b.*?</table>", re.S)
ROW_RE = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL_RE = re.compile(r"<(td|th)\b[^>]*>(.*?)</\1>", re.S)
HISTORY_HEADING = "<h2>Change History</h2>"


@dataclass
class Page:
    """The current body cut into: fixed text, editable table cells, and the history list."""

    pieces: list[str]  # fixed text between the cells' contents (len(slots) + 1 pieces)
    slots: list[tuple[str, int]]  # the cell behind each gap, in document order
    cells: Cells
    note: str  # the "(We listed changes here ...)" paragraph under the heading
    entries: list[tuple[str, str]]  # (date, <li> markup) of the history, newest first


def split_cards(inner: str) -> list[str]:
    """A cell's cards: one ``<p>`` each, separated by dash paragraphs (the page's style)."""
    if inner == EMPTY:
        return []
    cards = []
    for chunk in inner.split(SEP):
        m = re.fullmatch(r"<p>(.*)</p>", chunk, re.S)
        if not m or "<p>" in m.group(1):
            raise SystemExit(f"unexpected cell markup: {chunk!r}")
        cards.append(m.group(1))
    return cards


def render_cell(cards: list[str]) -> str:
    return SEP.join(f"<p>{c}</p>" for c in cards) if cards else EMPTY


def top_level_items(ul: str) -> list[str]:
    """The top-level ``<li>`` elements of a ``<ul>`` (nested lists stay inside)."""
    if not (ul.startswith("<ul>") and ul.endswith("</ul>")):
        raise SystemExit("unexpected Change History markup")
    body, items, depth, start = ul[4:-5], [], 0, 0
    for m in re.finditer(r"<(/?)li>", body):
        if m.group(1):
            depth -= 1
            if depth == 0:
                items.append(body[start : m.end()])
        else:
            if depth == 0:
                start = m.start()
            depth += 1
    if "<ul>" + "".join(items) + "</ul>" != ul:
        raise SystemExit("Change History list does not split into items cleanly")
    return items


def load_page(body: str) -> Page:
    tm = TABLE_RE.search(body)
    if not tm:
        raise SystemExit("no table in the source body")
    pieces: list[str] = []
    slots: list[tuple[str, int]] = []
    cells: Cells = {}
    pos = 0
    rows = list(ROW_RE.finditer(body, tm.start(), tm.end()))
    if len(rows) != 2 + len(PERIODS):
        raise SystemExit(f"expected {2 + len(PERIODS)} table rows, found {len(rows)}")
    for period, row in zip(PERIODS, rows[2:], strict=True):
        found = list(CELL_RE.finditer(body, row.start(1), row.end(1)))
        if len(found) != 1 + N_COLUMNS or found[0].group(1) != "th":
            raise SystemExit(f"row {period}: unexpected cells")
        for col, cm in enumerate(found[1:], start=1):
            pieces.append(body[pos : cm.start(2)])
            slots.append((period, col))
            cells[(period, col)] = split_cards(cm.group(2))
            pos = cm.end(2)
    h = body.index(HISTORY_HEADING, tm.end())
    pieces.append(body[pos : h + len(HISTORY_HEADING)])
    rest = body[h + len(HISTORY_HEADING) :]
    nm = re.match(r"<p>[^<]*</p>", rest)
    if not nm:
        raise SystemExit("no note paragraph under the Change History heading")
    items = top_level_items(rest[nm.end() :])
    entries = []
    for item in items:
        dm = re.match(r"<li><p>(\d{4}-\d\d-\d\d)</p>", item)
        if not dm:
            raise SystemExit(f"history item without a date: {item[:40]!r}")
        entries.append((dm.group(1), item))
    return Page(pieces, slots, cells, nm.group(0), entries)


def render(page: Page, cells: Cells, date: str, last: bool) -> str:
    """The body of one version: its table cells and the history entries dated up to ``date``."""
    out = [page.pieces[0]]
    for slot, piece in zip(page.slots, page.pieces[1:], strict=True):
        out.append(render_cell(cells[slot]))
        out.append(piece)
    if last:  # the note was written when the maintainers stopped keeping the list
        out.append(page.note)
    items = [item for d, item in page.entries if d <= date]
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "".join(out)


def undo(cells: Cells, step: Step) -> Cells:
    """The previous version's cells: take the new cards out, put the old ones back."""
    prev = {k: list(v) for k, v in cells.items()}
    for e in step.edits:
        if e.new is not None:
            cell = prev[e.new]
            hits = [i for i, c in enumerate(cell) if c == e.new_html]
            if len(hits) != 1:
                raise SystemExit(f"v{step.version}: {e.title!r} not exactly once in {e.new}")
            del cell[hits[0]]
    puts = sorted((e.old, e.old_html) for e in step.edits if e.old is not None and e.old_html)
    for (period, col, index), html in puts:
        cell = prev[(period, col)]
        if index > len(cell):
            raise SystemExit(f"v{step.version - 1}: index {index} out of range in {period}/{col}")
        cell.insert(index, html)
    return prev


# --------------------------------------------------------------------------- history.json


class _HistoryReader(HTMLParser):
    """Reads nested ``<li><p>text</p>...`` lists into (text, children) trees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Any] = ["", []]
        self.stack: list[list[Any]] = [self.root]
        self.in_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            node: list[Any] = ["", []]
            self.stack[-1][1].append(node)
            self.stack.append(node)
        elif tag == "p":
            self.in_p = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.stack.pop()
        elif tag == "p":
            self.in_p = False

    def handle_data(self, data: str) -> None:
        if self.in_p:
            self.stack[-1][0] += data


def history_entries(page: Page) -> list[dict[str, Any]]:
    """The hand-written entries as wikisync's HistoryEntry JSON: date, category, text."""
    reader = _HistoryReader()
    reader.feed("<ul>" + "".join(item for _, item in page.entries) + "</ul>")
    out: list[dict[str, Any]] = []

    def norm(s: str) -> str:
        return " ".join(s.split())

    for date_node in reader.root[1]:
        date = norm(date_node[0])
        for node in date_node[1]:
            if node[1]:  # a category level
                for leaf in node[1]:
                    out.append({"date": date, "category": norm(node[0]), "text": norm(leaf[0])})
            else:
                out.append({"date": date, "category": None, "text": norm(node[0])})
    return out


# --------------------------------------------------------------------------- main


def short(where: tuple[Any, ...] | None) -> str | None:
    return None if where is None else str(where[0])


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build(out: Path) -> list[Path]:
    source = SOURCE.read_text(encoding="utf-8")
    page = load_page(source)
    dates = [V1_WHEN[:10]] + [s.when[:10] for s in STEPS]
    n = len(STEPS) + 1
    if render(page, page.cells, dates[-1], last=True) != source:
        raise SystemExit("round trip failed: the latest version would not equal the source")

    states: list[Cells] = [page.cells]
    for step in reversed(STEPS):
        states.insert(0, undo(states[0], step))

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        path = out / name
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written.append(path)

    for v in range(1, n + 1):
        write(f"v{v}.storage.html", render(page, states[v - 1], dates[v - 1], last=v == n))

    versions = [
        {
            "file": "v1.storage.html",
            "version": 1,
            "when": V1_WHEN,
            "author": AUTHOR,
            "message": V1_MESSAGE,
        },
    ]
    expected = []
    for step in STEPS:
        versions.append(
            {
                "file": f"v{step.version}.storage.html",
                "version": step.version,
                "when": step.when,
                "author": AUTHOR,
                "message": step.message,
            }
        )
        changes = [
            {
                "category": e.category,
                "title": e.title,
                "old_title": e.old_title,
                "from": short(e.old),
                "to": short(e.new),
                "hand_written": e.hand_written,
                "documented": e.hand_written is not None,
            }
            for e in step.edits
        ]
        expected.append(
            {
                "old": step.version - 1,
                "new": step.version,
                "date": step.when[:10],
                "changes": changes,
            }
        )
    write("versions.json", dump(versions))
    write("expected.json", dump(expected))
    write("history.json", dump(history_entries(page)))
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: here)")
    args = ap.parse_args()
    for path in build(args.out):
        print(path)


if __name__ == "__main__":
    main()
