"""Properties over generated pages: the parser only ever raises ParseError, the differ is
symmetric on parsed roadmaps, and rendering never loses a change in any format.

Pages are generated as storage markup (tag soup, or well-formed roadmap tables with random spans
and cards) and always go through ``parse_text``, so these properties cover the whole path a real
page takes, not just the model objects.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from wikisync.diff import diff_roadmaps
from wikisync.errors import ParseError
from wikisync.model import ASPECTS, Change, ChangeSet, FieldChange, Roadmap, VersionRef
from wikisync.parse import parse_text
from wikisync.render import render_changes, sentences

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- tag soup

_TAGS = [
    "table",
    "tbody",
    "thead",
    "tr",
    "td",
    "th",
    "p",
    "br",
    "hr",
    "span",
    "div",
    "ul",
    "ol",
    "li",
    "s",
    "del",
    "strong",
    "a",
    "h2",
    "time",
    "script",
    "ac:structured-macro",
    "ac:parameter",
    "ac:rich-text-body",
    "ac:link",
    "ac:plain-text-link-body",
    "ri:user",
    "ri:page",
    "ac:task-list",
    "ac:task",
]
_ATTRS = st.sampled_from(
    [
        "",
        ' rowspan="0"',
        ' rowspan="2"',
        ' rowspan="1000000"',
        ' colspan="3"',
        ' colspan="1000000"',
        ' colspan="-1"',
        ' colspan="2.5"',
        ' rowspan="x"',
        ' colspan="99999999999999999999"',
        ' ac:name="status"',
        ' ac:name="title"',
        ' ac:name="info"',
        ' ac:name="jira"',
        ' class="confluenceTh"',
        ' class="status-macro aui-lozenge"',
        ' class="confluence-userlink" data-account-id="42"',
        ' href="https://example.org/x"',
        ' style="text-decoration: line-through"',
        ' ri:account-id="5b10"',
        ' ri:content-title="Page &amp; title"',
        ' datetime="2021-02-10"',
    ]
)
_SPECIAL = st.sampled_from(
    [
        "FY21 Q1",
        "Q2 (Oct-Dec)",
        "Backlog",
        "Sprint 4",
        "&lt;Pilot&gt;",
        "<Pilot>",
        "[1]",
        "[3, 5, 2]",
        "[All]",
        "---------",
        "&nbsp;",
        "&amp;",
        "&rsquo;",
        "&bogus;",
        "&#0;",
        "&#xE002;",
        "\ue003",
        "\u200b",
        "]]>",
        "<![CDATA[x < y]]>",
        "<![CDATA[",
        "<!DOCTYPE x [<!ENTITY e 'E'>]>",
        "<!DOCTYPE",
        "<!-- c -->",
        "<!--",
        "<?pi x?>",
        "<",
        ">",
        "&",
        "\x01",
        "\t\n",
        "Change History",
        "Organizations listed above",
        "2021-02-10",
    ]
)
_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=12,
)


@st.composite
def _tokens(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return f"<{draw(st.sampled_from(_TAGS))}{draw(_ATTRS)}>"
    if kind == 1:
        return f"</{draw(st.sampled_from(_TAGS))}>"
    if kind == 2:
        return f"<{draw(st.sampled_from(_TAGS))}{draw(_ATTRS)} />"
    if kind == 3:
        return draw(_SPECIAL)
    return draw(_TEXT)


_SOUP = st.lists(_tokens(), max_size=60).map("".join)


def _parses_or_parse_error(text: str | bytes, fmt: str | None = None) -> Roadmap | None:
    try:
        return parse_text(text, fmt)
    except ParseError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return None


@SETTINGS
@given(_SOUP, st.sampled_from([None, "storage", "view", "html"]))
@example("<table><tr>", None)  # a row without cells once crashed the grid (IndexError)
@example("<table><tr><th rowspan='9'>Q1</th><td colspan='1000000'>x</td></tr></table>", None)
def test_tag_soup_only_ever_raises_parse_error(soup: str, fmt: str | None) -> None:
    roadmap = _parses_or_parse_error(soup, fmt)
    if roadmap is not None:
        _check_invariants(roadmap)
        # deterministic: the same input gives the same roadmap
        again = parse_text(soup, fmt)
        assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(
            roadmap.to_json(), sort_keys=True
        )


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_ever_raise_parse_error(data: bytes) -> None:
    roadmap = _parses_or_parse_error(data)
    if roadmap is not None:
        _check_invariants(roadmap)


def _check_invariants(roadmap: Roadmap) -> None:
    labels = [p.label for p in roadmap.periods]
    assert len(set(labels)) == len(labels)
    assert sorted(p.index for p in roadmap.periods) == list(range(len(labels)))
    lanes = {lane.label for lane in roadmap.lanes}
    assert len(lanes) == len(roadmap.lanes)
    ids = [i.id for i in roadmap.items]
    assert len(set(ids)) == len(ids)
    for item in roadmap.items:
        assert item.period in labels
        assert item.period_end is None or item.period_end in labels
        assert item.lane in lanes
        assert item.title == " ".join(item.title.split())
        assert not re.search("[\ue000-\ue008]", item.title + item.text)


# --------------------------------------------------------------------------- generated tables

_PERIOD_LABELS = ["FY21 Q1 (Jul-Sep)", "FY21 Q2 (Oct-Dec)", "FY21 Q3 (Jan-Mar)", "Backlog"]
_LANES = ["Use", "Make", "Upgrade"]
_TITLES = [
    "Tech Radar",
    "Tech Radar v2",
    "Devstack Metrics",
    "Devstack DevData",
    "Onboarding Course",
    "Doc Onboarding Course",
    "Remove Notifier",
    "Frontend Plugins",
    "Backend Plugins",
]
_HOSTILE_TITLES = [
    "</li><script>alert(1)</script>",
    "*x* _y_ [a](b)",
    "{{ 7*7 }} and {% raw %}",
    "]]> & <![CDATA[x]]>",
    "a | b ~ `c` \\ d",
    "# not a heading",
    "1. not a list",
    "Café “quoted” — ünïcode",
]
_BOTH = _TITLES + _HOSTILE_TITLES


@st.composite
def _card(draw: st.DrawFn, titles: list[str]) -> str:
    """One card as storage markup: title, optional <Stage>, optional [orgs], maybe struck."""
    title = draw(st.sampled_from(titles))
    stage = draw(st.sampled_from([None, "Pilot", "Adopt", "Spike"]))
    orgs = draw(st.sampled_from([None, "1", "2", "3, 5, 2", "All"]))
    text = html.escape(title, quote=False)
    if stage:
        text += f" &lt;{stage}&gt;"
    if orgs:
        text += f' <span style="color: rgb(255,0,0);">[{orgs}]</span>'
    if draw(st.booleans()) and draw(st.booleans()):
        text = f"<s>{text}</s>"
    return f"<p>{text}</p>"


@st.composite
def _page(draw: st.DrawFn, titles: list[str] = _TITLES, spans: bool = False) -> str:
    """A roadmap table: header row, a subset of the periods (in order), random cells."""
    keep = draw(st.lists(st.booleans(), min_size=4, max_size=4).filter(any))
    periods = [p for p, k in zip(_PERIOD_LABELS, keep, strict=True) if k]
    head = "".join(f"<th><p>{lane}</p></th>" for lane in _LANES)
    rows = [f"<tr><th><p>Quarter</p></th>{head}</tr>"]
    for period in periods:
        cells = []
        for _ in _LANES:
            cards = draw(st.lists(_card(titles), max_size=3))
            attrs = ""
            if spans:
                attrs = draw(
                    st.sampled_from(
                        ["", "", "", ' rowspan="2"', ' colspan="2"', ' rowspan="0"', ' colspan="9"']
                    )
                )
            body = "<p>---------</p>".join(cards) or "<p />"
            cells.append(f"<td{attrs}>{body}</td>")
        rows.append(f"<tr><th><p>{period}</p></th>{''.join(cells)}</tr>")
    return f"<h2>Roadmap</h2><table><tbody>{''.join(rows)}</tbody></table>"


@pytest.mark.slow  # 150 generated pages: 10 s
@SETTINGS
@given(_page(spans=True))
def test_random_tables_with_spans_parse_to_consistent_roadmaps(page: str) -> None:
    roadmap = _parses_or_parse_error(page)
    assert roadmap is not None  # a well-formed roadmap table always reads
    _check_invariants(roadmap)
    # a colspan can push cells past the last header: they get a lane of their own
    assert [lane.label for lane in roadmap.lanes][:3] == _LANES
    assert all(re.fullmatch(r"Column \d+", lane.label) for lane in roadmap.lanes[3:])
    assert {p.label for p in roadmap.periods} <= set(_PERIOD_LABELS)
    cards = page.count("<p>") - page.count("<p>---------</p>") - page.count("<th><p>")
    assert len(roadmap.items) == cards


# --------------------------------------------------------------------------- diff symmetry

_FLIP = {"Deferred": "Moved Up", "Moved Up": "Deferred", "Added": "Deleted", "Deleted": "Added"}
_FLIP_ASPECT = {
    "deferred": "moved_up",
    "moved_up": "deferred",
    "added": "deleted",
    "deleted": "added",
}


def _mirror(c: Change) -> str:
    """The change as the reverse diff must report it, as comparable JSON."""
    mirrored = Change(
        category=_FLIP.get(c.category, c.category),
        title=c.old.title if c.old else c.title,
        old_title=(c.new.title if c.new else None)
        if c.category == "Replaced" or c.old_title
        else None,
        from_=c.to,
        to=c.from_,
        aspects=tuple(sorted((_FLIP_ASPECT.get(a, a) for a in c.aspects), key=list(ASPECTS).index)),
        fields=tuple(FieldChange(f.field, f.new, f.old) for f in c.fields),
        old=c.new,
        new=c.old,
        score=c.score,
    )
    return json.dumps(mirrored.to_json(), sort_keys=True)


def _as_json(changes: list[Change]) -> list[str]:
    return sorted(json.dumps(c.to_json(), sort_keys=True) for c in changes)


@pytest.mark.slow  # 150 generated pairs of pages: 10-30 s
@SETTINGS
@given(_page(spans=True), _page(spans=True))
def test_diff_of_parsed_pages_is_empty_with_itself_and_mirrors(page_a: str, page_b: str) -> None:
    a, b = parse_text(page_a), parse_text(page_b)
    assert diff_roadmaps(a, a) == []
    assert diff_roadmaps(b, parse_text(page_b)) == []
    forward = diff_roadmaps(a, b)
    backward = diff_roadmaps(b, a)
    assert len(forward) == len(backward)
    counts = {cat: sum(c.category == cat for c in forward) for cat in _FLIP}
    back_counts = {cat: sum(c.category == cat for c in backward) for cat in _FLIP}
    assert counts == {cat: back_counts[_FLIP[cat]] for cat in _FLIP}
    assert sorted(_mirror(c) for c in forward) == _as_json(backward)


# --------------------------------------------------------------------------- rendering

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")


def _md(text: str) -> str:
    """CommonMark inline escaping, written independently of the renderer's own."""
    return _MD_INLINE.sub(r"\\\1", text)


def _changeset(page_a: str, page_b: str) -> ChangeSet:
    a, b = parse_text(page_a), parse_text(page_b)
    return ChangeSet(
        old=VersionRef("old.html"),
        new=VersionRef("new.html"),
        changes=diff_roadmaps(a, b),
        date="2021-02-10",
        old_roadmap=a,
        new_roadmap=b,
    )


def _confluence_sentences(out: str) -> list[str]:
    root = etree.fromstring(out.encode("utf-8"))  # strict XML: well-formed or it fails
    assert root.tag == "ul"
    assert not list(root.iter("script"))
    paragraphs = [p for p in root.iterfind("./li/ul/li/ul/li/p")]
    return ["".join(str(t) for t in p.itertext()) for p in paragraphs]


@pytest.mark.slow  # 150 generated pairs of pages: 10-30 s
@SETTINGS
@given(_page(_BOTH, spans=True), _page(_BOTH, spans=True))
def test_rendering_never_loses_a_change(page_a: str, page_b: str) -> None:
    cs = _changeset(page_a, page_b)
    per_change = [sentences(c, cs) for c in cs.changes]
    expected = sorted(s for lines in per_change for s in lines)
    assert all(lines for lines in per_change)
    for c, lines in zip(cs.changes, per_change, strict=True):
        assert c.title in " ".join(lines), (c.title, lines)
        if c.category == "Replaced":
            assert len(lines) == 2

    text = render_changes(cs, "text")
    markdown = render_changes(cs, "markdown")
    confluence = render_changes(cs, "confluence")
    doc = json.loads(render_changes(cs, "json"))

    if not cs.changes:
        assert text.strip() == markdown.strip() == "No changes."
        assert doc["changes"] == []
        return
    text_lines = sorted(line[6:] for line in text.splitlines() if line.startswith("    - "))
    assert text_lines == expected
    md_lines = sorted(line[2:] for line in markdown.splitlines() if line.startswith("- "))
    assert md_lines == sorted(_md(s) for s in expected)
    wiki = render_changes(cs, "wiki")
    wiki_lines = [line[4:] for line in wiki.splitlines() if line.startswith("*** ")]
    assert sorted(re.sub(r"\\(.)", r"\1", line) for line in wiki_lines) == expected
    assert sorted(_confluence_sentences(confluence)) == expected
    assert len(doc["changes"]) == len(cs.changes)
    for c, lines, out in zip(cs.changes, per_change, doc["changes"], strict=True):
        assert out["title"] == c.title
        assert out["category"] == c.category
        assert out["text"] == " ".join(lines)
        assert c.title in text
        assert _md(c.title) in markdown
