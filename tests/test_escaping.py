"""Card text that looks like markup, CDATA, Markdown or Jinja stays text end to end.

Each hostile name is written into a storage page properly escaped (so it is card TEXT, as
Confluence would store it), then goes parse → diff → render in every format: plain text and
JSON carry it verbatim, Markdown escapes it, Confluence storage is well-formed XML whose text
gives the name back (and wikisync reads its own output back to the same sentences).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from lxml import etree

from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, Roadmap, VersionRef
from wikisync.parse import parse_text
from wikisync.render import RenderOptions, render_changes, render_roadmap, sentences

HOSTILE = [
    "</li><script>alert(1)</script>",
    "]]>",
    "<![CDATA[x]]>",
    "&amp;",
    "*x* _y_ [a](b)",
    "{{ 7*7 }}",
    "{% raw %}",
    "{% endraw %}{# open comment",
    "<!-- not a comment -->",
    '<a href="javascript:alert(1)">click</a>',
    "# heading? | table | ~strike~ `code` \\",
    "&lt;Pilot&gt; &nbsp; &#x41;",
]
LANES = ("Use", "Make")
PERIODS = ("FY21 Q1 (Jul-Sep)", "FY21 Q2 (Oct-Dec)", "Backlog")
LQ, RQ = "“", "”"


def page(cells: dict[tuple[str, str], list[str]]) -> str:
    """A storage page: (period, lane) → card texts, each escaped the way Confluence stores it."""
    head = "".join(f"<th><p>{lane}</p></th>" for lane in LANES)
    rows = [f"<tr><th><p>Quarter</p></th>{head}</tr>"]
    for period in PERIODS:
        tds = []
        for lane in LANES:
            cards = [f"<p>{html.escape(c, quote=False)}</p>" for c in cells.get((period, lane), [])]
            tds.append(f"<td>{'<p>---------</p>'.join(cards) or '<p />'}</td>")
        rows.append(f"<tr><th><p>{period}</p></th>{''.join(tds)}</tr>")
    return f"<h2>Roadmap</h2><table><tbody>{''.join(rows)}</tbody></table>"


def changeset(old: str, new: str) -> ChangeSet:
    a, b = parse_text(old), parse_text(new)
    return ChangeSet(
        old=VersionRef("old"),
        new=VersionRef("new"),
        changes=diff_roadmaps(a, b),
        date="2021-02-10",
        old_roadmap=a,
        new_roadmap=b,
    )


def md_escaped(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|~&])", r"\\\1", text)


def confluence_sentences(out: str) -> list[str]:
    """Sentences of a rendered storage fragment, read with a strict XML parser."""
    parser = etree.XMLParser(strip_cdata=False, resolve_entities=False, no_network=True)
    root = etree.fromstring(out.encode("utf-8"), parser)
    assert root.tag == "ul"
    # Only the template's own elements: nothing in a card name became markup.
    assert {el.tag for el in root.iter()} <= {"ul", "li", "p"}
    return ["".join(str(t) for t in p.itertext()) for p in root.iterfind("./li/ul/li/ul/li/p")]


# --------------------------------------------------------------------------- parse


def test_hostile_names_parse_as_card_text_verbatim() -> None:
    roadmap = parse_text(page({(PERIODS[0], "Use"): HOSTILE}))
    assert [i.title for i in roadmap.items] == HOSTILE
    assert [i.text for i in roadmap.items] == HOSTILE
    assert all(i.stage is None and i.orgs == () for i in roadmap.items)


def test_hostile_names_with_stage_and_orgs_keep_the_grammar() -> None:
    cards = [f"{name} <Pilot> [1, 2]" for name in HOSTILE]
    roadmap = parse_text(page({(PERIODS[1], "Make"): cards}))
    assert [(i.title, i.stage, i.orgs) for i in roadmap.items] == [
        (name, "Pilot", ("1", "2")) for name in HOSTILE
    ]


# --------------------------------------------------------------------------- every format

SCENARIOS = {
    # name: (old cells, new cells, category)
    "added": ({}, {(PERIODS[0], "Use"): HOSTILE}, "Added"),
    "deleted": ({(PERIODS[0], "Use"): HOSTILE}, {}, "Deleted"),
    "deferred": ({(PERIODS[0], "Use"): HOSTILE}, {(PERIODS[1], "Use"): HOSTILE}, "Deferred"),
    "moved-up": ({(PERIODS[2], "Make"): HOSTILE}, {(PERIODS[0], "Make"): HOSTILE}, "Moved Up"),
    "changed": (
        {(PERIODS[0], "Use"): [f"{n} <Spike> [1]" for n in HOSTILE]},
        {(PERIODS[0], "Use"): [f"{n} <Eval> [1]" for n in HOSTILE]},
        "Changed",
    ),
}


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest) -> tuple[ChangeSet, str]:
    old, new, category = SCENARIOS[request.param]
    cs = changeset(page(old), page(new))
    assert sorted(c.title for c in cs.changes) == sorted(HOSTILE)
    assert {c.category for c in cs.changes} == {category}
    return cs, category


def expected_sentences(cs: ChangeSet) -> list[str]:
    return [s for c in cs.changes for s in sentences(c, cs)]


def test_text_carries_names_verbatim(scenario: tuple[ChangeSet, str]) -> None:
    cs, category = scenario
    out = render_changes(cs, "text")
    lines = [line[6:] for line in out.splitlines() if line.startswith("    - ")]
    assert lines == expected_sentences(cs)
    assert f"  - {category}" in out.splitlines()
    for name in HOSTILE:
        assert f"{LQ}{name}{RQ}" in out
    assert "49" not in out  # {{ 7*7 }} was never evaluated


def test_markdown_escapes_names(scenario: tuple[ChangeSet, str]) -> None:
    cs, _ = scenario
    out = render_changes(cs, "markdown")
    lines = [line[2:] for line in out.splitlines() if line.startswith("- ")]
    assert lines == [md_escaped(s) for s in expected_sentences(cs)]
    for name in HOSTILE:
        assert f"{LQ}{md_escaped(name)}{RQ}" in out
    markup = ["<script>", "</li>", "*x*", "_y_", "[a](b)", "<!--", "<a href", "`code`", "~strike"]
    for raw in markup:  # each may appear only with its first character backslash-escaped
        assert not re.search(r"(?<!\\)" + re.escape(raw), out), raw
    assert "{{ 7\\*7 }}" in out and "49" not in out  # Jinja syntax is just text in the output


def test_confluence_storage_is_well_formed_and_gives_the_names_back(
    scenario: tuple[ChangeSet, str],
) -> None:
    cs, _ = scenario
    out = render_changes(cs, "confluence")
    assert "<script" not in out and "<![CDATA[" not in out and "<!--" not in out
    assert "]]>" not in out  # would end a CDATA section around the fragment
    assert confluence_sentences(out) == expected_sentences(cs)
    assert "49" not in out


def test_confluence_output_reads_back_as_the_same_history(
    scenario: tuple[ChangeSet, str],
) -> None:
    cs, category = scenario
    out = render_changes(cs, "confluence")
    again = parse_text(page({}) + "<h2>Change History</h2>" + out)
    assert [h.text for h in again.history] == expected_sentences(cs)
    assert {(h.date, h.category) for h in again.history} == {("2021-02-10", category)}


def test_json_carries_names_verbatim(scenario: tuple[ChangeSet, str]) -> None:
    cs, _ = scenario
    doc = json.loads(render_changes(cs, "json"))
    assert [c["title"] for c in doc["changes"]] == [c.title for c in cs.changes]
    assert sorted(c["title"] for c in doc["changes"]) == sorted(HOSTILE)
    for out, change in zip(doc["changes"], cs.changes, strict=True):
        assert out["text"] == " ".join(sentences(change, cs))
        assert f"{LQ}{change.title}{RQ}" in out["text"]
        item = out["new"] or out["old"]
        assert item["title"] == change.title


# --------------------------------------------------------------------------- other text that flows


def test_hostile_lane_and_period_names_are_escaped_too() -> None:
    lanes_old = page({(PERIODS[0], "Use"): ["Plain card [1]"]})
    lanes_new = page({(PERIODS[0], "Make"): ["Plain card [1]"]})
    hostile_lane = "<b>Make</b> & *more*"
    cs = changeset(
        lanes_old, lanes_new.replace("<p>Make</p>", f"<p>{html.escape(hostile_lane)}</p>")
    )
    (change,) = cs.changes
    assert change.to is not None and change.to.lane == hostile_lane
    options = RenderOptions(period_names={PERIODS[0]: "<i>Koa</i> {{ x }}"})
    text = render_changes(cs, "text", options)
    assert hostile_lane in text and "<i>Koa</i> {{ x }}" in text
    confluence = render_changes(cs, "confluence", options)
    (sentence,) = confluence_sentences(confluence)
    assert hostile_lane in sentence and "<i>Koa</i> {{ x }}" in sentence
    markdown = render_changes(cs, "markdown", options)
    assert md_escaped(hostile_lane) in markdown and "<i>" not in markdown


def roadmap_with_hostile_cards() -> Roadmap:
    return parse_text(page({(PERIODS[0], "Use"): HOSTILE, (PERIODS[2], "Make"): ["Other [2]"]}))


def test_roadmap_json_and_csv_round_trip_hostile_names() -> None:
    roadmap = roadmap_with_hostile_cards()
    doc = json.loads(render_roadmap(roadmap, "json"))
    assert [i["title"] for i in doc["items"]] == [*HOSTILE, "Other"]
    rows = list(csv.DictReader(io.StringIO(render_roadmap(roadmap, "csv"))))
    assert [r["title"] for r in rows] == [*HOSTILE, "Other"]
    table = render_roadmap(roadmap, "table")
    for name in HOSTILE:
        assert name in table
