"""The card grammar: splitting a cell into cards and reading each card."""

from __future__ import annotations

from pathlib import Path

import pytest

from wikisync.model import Document, Item, Part
from wikisync.parse import parse_document, parse_text
from wikisync.parse.cards import Card, parse_cell
from wikisync.parse.inline import Context
from wikisync.parse.load import parse_tree

DATA = Path(__file__).parent / "data" / "parse"


def cell(html: str, fmt: str = "storage", ctx: Context | None = None) -> list[Card]:
    root = parse_tree(f"<table><tr><td>{html}</td></tr></table>", fmt)
    return parse_cell(next(root.iter("td")), ctx or Context())


def items(name: str) -> list[Item]:
    return parse_text((DATA / name).read_bytes()).items


def by_title(found: list[Item], title: str) -> Item:
    matches = [i for i in found if i.title == title]
    assert len(matches) == 1, [i.title for i in found]
    return matches[0]


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize("empty", ["<p />", "<p><br/></p>", "<p>&nbsp;</p>", "", "  "])
def test_empty_cells_have_no_cards(empty: str) -> None:
    assert cell(empty) == []


def test_dash_paragraphs_separate_cards() -> None:
    cards = cell("<p>A [1]</p><p>---------</p><p>B</p><p>—</p><p>C</p><p>___</p><p>D</p>")
    assert [c.title for c in cards] == ["A", "B", "C", "D"]


def test_hr_and_dash_lines_inside_a_paragraph() -> None:
    assert [i.title for i in items("hr.storage.html")] == [
        "Alpha",
        "Beta",
        "Gamma",
        "Delta",
        "Epsilon",
        "Zeta",
    ]


def test_each_paragraph_is_a_card_and_br_continues_one() -> None:
    cards = cell("<p>First</p><p>Backend Plugins<br />Python APIs [3]</p>")
    assert [c.title for c in cards] == ["First", "Backend Plugins Python APIs"]
    assert cards[1].orgs == ("3",)


def test_list_items_are_cards_and_nested_lists_stay_inside() -> None:
    found = items("lists.storage.html")
    assert [(i.lane, i.title) for i in found] == [
        ("Docs", "Write onboarding guide"),
        ("Docs", "API reference REST GraphQL"),
        ("Tooling", "Linter rules"),
        ("Tooling", "Formatter"),
        ("Docs", "Tutorials"),
    ]
    assert found[0].stage == "Pilot"
    assert found[1].orgs == ("2",)


def test_loose_inline_content_without_paragraphs() -> None:
    cards = cell("Alpha <span>[1]</span><br/>---<br/>Beta")
    assert [(c.title, c.orgs) for c in cards] == [("Alpha", ("1",)), ("Beta", ())]


def test_orgs_only_paragraph_continues_the_previous_card() -> None:
    cards = cell("<p>Long title here</p><p>&lt;Pilot&gt; [2]</p>")
    assert [(c.title, c.stage, c.orgs) for c in cards] == [("Long title here", "Pilot", ("2",))]


# --------------------------------------------------------------------------- grammar


def test_stage_and_orgs() -> None:
    (c,) = cell("<p>Toggle Docs (OEP-17) &lt;Pilot&gt; <span style='color: red'>[5]</span></p>")
    assert (c.title, c.stage, c.orgs) == ("Toggle Docs (OEP-17)", "Pilot", ("5",))
    assert c.text == "Toggle Docs (OEP-17) <Pilot> [5]"
    assert c.parts == (Part("Toggle Docs (OEP-17)", ("5",)),)


@pytest.mark.parametrize(
    ("html", "title", "stage", "orgs"),
    [
        (
            "Containerization Phase 4 &lt;Sustain&gt;<span>[1]</span>",
            "Containerization Phase 4",
            "Sustain",
            ("1",),
        ),
        ("Tutor-for-Open-edX-Deploys&lt;Eval&gt;[5]", "Tutor-for-Open-edX-Deploys", "Eval", ("5",)),
        (
            "Conventional Commits &lt;Adopt via Automated-Feedback&gt; [1]",
            "Conventional Commits",
            "Adopt via Automated-Feedback",
            ("1",),
        ),
        (
            "MFE Open Deployment &lt;Pilot&gt; [3, 5, 2]",
            "MFE Open Deployment",
            "Pilot",
            ("3", "5", "2"),
        ),
        ("Everyone [all]", "Everyone", None, ("All",)),
        ("Trailing comma [1, 2,]", "Trailing comma", None, ("1", "2")),
        ("Not orgs [WIP] [v2]", "Not orgs [WIP] [v2]", None, ()),
        ("Maths 1 &lt; 2", "Maths 1 < 2", None, ()),
    ],
)
def test_grammar_variants(html: str, title: str, stage: str | None, orgs: tuple[str, ...]) -> None:
    (c,) = cell(f"<p>{html}</p>")
    assert (c.title, c.stage, c.orgs) == (title, stage, orgs)


def test_multi_part_card() -> None:
    (c,) = cell(
        "<p>Upgrade Elasticsearch7.8 <span>[7]</span>, Ubuntu 20.04 <span>[1]</span>,<br />"
        "MySQL 5.7 <span>[1]</span></p>"
    )
    assert c.title == "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7"
    assert c.parts == (
        Part("Upgrade Elasticsearch7.8", ("7",)),
        Part("Ubuntu 20.04", ("1",)),
        Part("MySQL 5.7", ("1",)),
    )
    assert c.orgs == ("7", "1")
    assert c.text == "Upgrade Elasticsearch7.8 [7], Ubuntu 20.04 [1], MySQL 5.7 [1]"


def test_storage_tag_lozenge_is_prepended_to_the_title() -> None:
    (c,) = cell(
        '<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="color">Grey'
        '</ac:parameter><ac:parameter ac:name="title">Pylint</ac:parameter>'
        "</ac:structured-macro> as&nbsp;effective&nbsp;feedback loop [1]</p>"
    )
    assert (c.title, c.tags, c.stage) == ("Pylint as effective feedback loop", ("Pylint",), None)
    assert c.parts[0].text == c.title


def test_view_lozenges_are_title_cased_and_late_one_is_the_stage() -> None:
    found = items("stages.view.html")
    sso = by_title(found, "SSO rollout")
    assert (sso.stage, sso.tags, sso.orgs) == ("Adopt", (), ("1",))
    warehouse = by_title(found, "Data Warehouse")
    assert (warehouse.tags, warehouse.stage) == (("Data",), "Pilot")
    # With a <Stage> present, a later lozenge is a tag, not part of the title.
    key = by_title(found, "Key rotation")
    assert (key.stage, key.tags) == ("Spike", ("Blocked",))


def test_strikethrough() -> None:
    found = items("strike.storage.html")
    assert [(i.title, i.struck) for i in found] == [
        ("Dropped idea", True),
        ("Old plan", True),
        ("Half kept", False),
        ("Legacy", True),
    ]


def test_whitespace_nbsp_and_split_words() -> None:
    found = items("whitespace.storage.html")
    assert [i.title for i in found] == [
        "Containerization Phase 5",
        "CloudFront rollout",
        "Zerowidthjoined",
    ]
    assert found[0].text == "Containerization Phase 5 <Adopt>[1]"


# --------------------------------------------------------------------------- links, mentions


def test_storage_links_page_links_and_cdata() -> None:
    found = items("links.storage.html")
    assert [i.title for i in found] == [
        "Auth <design> & plan",
        "Runbook Index owned by",
        "See RFC 7",
        "https://example.atlassian.net/wiki/spaces/X/pages/42",
    ]
    assert found[0].stage == "Eval"  # the last <...> is the stage, not the link text's
    assert found[1].mentions == ("5b10ac8d82e05b22cc7d4ef5",)
    assert found[2].links == ("https://example.org/rfc/7",)
    assert found[3].links == ("https://example.atlassian.net/wiki/spaces/X/pages/42",)


def test_view_body_supplies_smart_link_titles_and_mention_names() -> None:
    doc = Document(
        bodies={
            "storage": (DATA / "links.storage.html").read_text(),
            "view": (DATA / "links.view.html").read_text(),
        }
    )
    found = parse_document(doc).items
    assert found[1].title == "Runbook Index owned by Ada Lovelace"
    assert found[1].mentions == ("Ada Lovelace",)
    assert found[3].title == "Incident Review Process"
    assert found[3].links == ("https://example.atlassian.net/wiki/spaces/X/pages/42",)
    # The storage body stays the source: same ids for cards the view did not change.
    plain = parse_text(doc.bodies["storage"]).items
    assert found[0].id == plain[0].id
    assert found[2].id == plain[2].id


def test_view_userlink_is_a_mention_not_a_link() -> None:
    (c,) = cell(
        '<p>Owner <a class="confluence-userlink" data-account-id="1" href="/people/1">'
        "Grace Hopper (Deactivated)</a> [1]</p>",
        "view",
    )
    assert c.title == "Owner Grace Hopper (Deactivated)"
    assert (c.mentions, c.links) == (("Grace Hopper (Deactivated)",), ())
