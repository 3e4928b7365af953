"""Change History layouts: text, markdown, confluence, json; grouping, escaping, templates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from wikisync.errors import WikisyncError
from wikisync.model import Change, ChangeSet, FieldChange, VersionRef, Where
from wikisync.render import RenderOptions, render_changes, render_history

LANE = "Local Development / Make change"
Q2 = Where("FY21 Q2 (Oct-Dec)", "Q2", LANE)
Q3 = Where("FY21 Q3 (Jan-Mar)", "Q3", LANE)
Q4 = Where("FY21 Q4 (Apr-Jun)", "Q4", LANE)
BACKLOG = Where("Backlog Grab Bag", "Backlog", LANE)

HOSTILE = [
    "</li><script>alert(1)</script>",
    "]]>",
    "*bold* [x](y)",
    "a & b `code` _u_ <b>|t|</b> ~~s~~ &amp;",
]


def page_changes() -> list[Change]:
    """The real page's 2021-02-10 entry, in a scrambled order (grouping must fix it)."""
    return [
        Change("Added", "Monolith PR Standards", to=Q3, aspects=("added",)),
        Change(
            "Replaced",
            "Devstack Doc wins, Data Provision, Eval Tutor",
            old_title="Decentralized Devstack Adoption",
            from_=Q2,
            to=Q3,
            aspects=("replaced",),
        ),
        Change(
            "Changed",
            "Eventing Message bus",
            from_=Q4,
            to=Q4,
            aspects=("stage",),
            fields=(FieldChange("stage", "Spike", "Eval"),),
        ),
        Change(
            "Deferred",
            "Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7",
            from_=Q2,
            to=Q3,
            aspects=("deferred",),
        ),
        Change("Moved Up", "Doc: Developer Handbook", from_=BACKLOG, to=Q4, aspects=("moved_up",)),
        Change("Deferred", "Authentication Standardized", from_=Q3, to=BACKLOG),
    ]


def changeset(changes: list[Change], date: str = "2021-02-10", version: int = 2) -> ChangeSet:
    return ChangeSet(
        VersionRef("openedx-roadmap@v1", version - 1),
        VersionRef(f"openedx-roadmap@v{version}", version),
        changes,
        date,
    )


def hostile_changeset() -> ChangeSet:
    return changeset([Change("Added", t, to=Q3, aspects=("added",)) for t in HOSTILE])


EXPECTED_TEXT = """\
- 2021-02-10
  - Deferred
    - Moved “Upgrade Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” from Q2 to Q3.
    - Moved “Authentication Standardized” from Q3 to Backlog.
  - Moved Up
    - Moved “Doc: Developer Handbook” from Backlog to Q4.
  - Replaced
    - Deleted “Decentralized Devstack Adoption” from Q2.
    - Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3.
  - Added
    - Added “Monolith PR Standards” in Q3.
  - Changed
    - Changed “Eventing Message bus” (Q4): stage Spike → Eval.
"""


# --------------------------------------------------------------------------- text


def test_text_groups_by_category_in_categories_order() -> None:
    assert render_changes(changeset(page_changes())) == EXPECTED_TEXT


def test_text_no_changes() -> None:
    assert render_changes(changeset([])) == "No changes.\n"


def test_unknown_category_goes_last() -> None:
    changes = [Change("Exotic", "X", to=Q3), Change("Added", "Y", to=Q3)]
    out = render_changes(changeset(changes))
    assert out.index("  - Added") < out.index("  - Exotic")


def test_unknown_format_is_a_wikisync_error() -> None:
    with pytest.raises(WikisyncError, match="unknown format 'rst'"):
        render_changes(changeset(page_changes()), "rst")
    with pytest.raises(WikisyncError, match="unknown format"):
        render_history([changeset(page_changes())], "table")


# --------------------------------------------------------------------------- markdown


def test_markdown_nesting() -> None:
    out = render_changes(changeset(page_changes()[:2]), "markdown")
    assert out == (
        "## 2021-02-10\n"
        "\n"
        "**Replaced**\n"
        "\n"
        "- Deleted “Decentralized Devstack Adoption” from Q2.\n"
        "- Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3.\n"
        "\n"
        "**Added**\n"
        "\n"
        "- Added “Monolith PR Standards” in Q3.\n"
    )


def test_markdown_escapes_hostile_titles() -> None:
    out = render_changes(hostile_changeset(), "markdown")
    lines = [ln.strip() for ln in out.splitlines() if ln.startswith("- ")]
    assert lines == [
        r"- Added “\</li\>\<script\>alert(1)\</script\>” in Q3.",
        r"- Added “\]\]\>” in Q3.",
        r"- Added “\*bold\* \[x\](y)” in Q3.",
        r"- Added “a \& b \`code\` \_u\_ \<b\>\|t\|\</b\> \~\~s\~\~ \&amp;” in Q3.",
    ]
    # No markup character is left unescaped.
    for line in lines:
        assert not re.search(r"(?<!\\)[*_\[\]<>`|~&]", line), line


def test_markdown_escapes_line_start_markers() -> None:
    from wikisync.render.markdown import escape_markdown

    assert escape_markdown("# heading") == r"\# heading"
    assert escape_markdown("- item") == r"\- item"
    assert escape_markdown("1. first") == r"1\. first"
    assert escape_markdown("a\n# b") == "a # b"  # newlines collapsed: cannot start a line


# --------------------------------------------------------------------------- confluence


def test_confluence_nesting_matches_page() -> None:
    out = render_changes(changeset(page_changes()[3:4]), "confluence")
    assert out == (
        "<ul><li><p>2021-02-10</p><ul><li><p>Deferred</p><ul><li><p>Moved “Upgrade "
        "Elasticsearch7.8, Ubuntu 20.04, MySQL 5.7” from Q2 to Q3.</p></li></ul></li></ul>"
        "</li></ul>\n"
    )


def test_confluence_structure_of_full_entry() -> None:
    out = render_changes(changeset(page_changes()), "confluence")
    root = lxml.etree.fromstring(out)
    assert root.tag == "ul"
    (date_li,) = root
    assert date_li.findtext("p") == "2021-02-10"
    cats = [li.findtext("p") for li in date_li.iterfind("ul/li")]
    assert cats == ["Deferred", "Moved Up", "Replaced", "Added", "Changed"]
    sentences = [p.text for p in root.iterfind("li/ul/li/ul/li/p")]
    assert sentences == [ln.strip()[2:] for ln in EXPECTED_TEXT.splitlines() if ln[:4] == "    "]


def test_confluence_escapes_hostile_titles() -> None:
    out = render_changes(hostile_changeset(), "confluence")
    assert "<script" not in out
    assert "]]>" not in out
    for root in (lxml.etree.fromstring(out), lxml.html.fragment_fromstring(out)):
        assert root.xpath("//script") == []
        texts = [p.text_content() if hasattr(p, "text_content") else p.text for p in _leaves(root)]
        assert texts == [f"Added “{t}” in Q3." for t in HOSTILE]


def _leaves(root: lxml.etree._Element) -> list[lxml.etree._Element]:
    return list(root.iterfind("li/ul/li/ul/li/p"))


def test_confluence_drops_xml_invalid_characters() -> None:
    out = render_changes(changeset([Change("Added", "bell\x07 null\x00", to=Q3)]), "confluence")
    assert lxml.etree.fromstring(out).xpath("string(//li/ul/li/ul/li/p)") == (
        "Added “bell null” in Q3."
    )


def test_confluence_no_changes() -> None:
    assert render_changes(changeset([]), "confluence") == "<p>No changes.</p>\n"


# --------------------------------------------------------------------------- json


def test_json_changes_document() -> None:
    cs = changeset(page_changes())
    out = render_changes(cs, "json")
    assert out.endswith("}\n")
    assert "“" in out  # ensure_ascii=False
    doc = json.loads(out)
    assert list(doc) == sorted(doc)
    assert doc["schema"] == "wikisync.changes/1"
    assert doc["date"] == "2021-02-10"
    assert doc["old"] == {
        "ref": "openedx-roadmap@v1",
        "version": 1,
        "when": None,
        "author": None,
        "hash": None,
    }
    assert doc["new"]["version"] == 2
    assert [c["category"] for c in doc["changes"]] == [c.category for c in cs.changes]
    replaced = doc["changes"][1]
    assert replaced["text"] == (
        "Deleted “Decentralized Devstack Adoption” from Q2. "
        "Added “Devstack Doc wins, Data Provision, Eval Tutor” to Q3."
    )
    assert replaced["from"] == {"period": "FY21 Q2 (Oct-Dec)", "short": "Q2", "lane": LANE}
    assert doc["changes"][2]["fields"] == [{"field": "stage", "old": "Spike", "new": "Eval"}]


def test_json_keeps_hostile_titles_verbatim() -> None:
    doc = json.loads(render_changes(hostile_changeset(), "json"))
    assert [c["title"] for c in doc["changes"]] == HOSTILE
    assert doc["changes"][0]["text"] == f"Added “{HOSTILE[0]}” in Q3."


def test_json_no_changes_is_still_a_document() -> None:
    doc = json.loads(render_changes(changeset([]), "json"))
    assert doc["changes"] == []
    assert doc["schema"] == "wikisync.changes/1"


# --------------------------------------------------------------------------- templates, determinism


def test_custom_template_dir_overrides_one_template(tmp_path: Path) -> None:
    (tmp_path / "text.j2").write_text(
        "{% for e in entries %}{% for g in e.groups %}{% for s in g.sentences %}"
        "{{ e.date }} [{{ g.category }}] {{ s }}\n"
        "{% endfor %}{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    opts = RenderOptions(template_dir=tmp_path)
    cs = changeset(page_changes()[:1])
    assert render_changes(cs, "text", opts) == (
        "2021-02-10 [Added] Added “Monolith PR Standards” in Q3.\n"
    )
    # Templates the team did not supply still come from the package.
    assert render_changes(cs, "markdown", opts) == render_changes(cs, "markdown")


def test_custom_confluence_template_is_still_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "confluence.j2").write_text(
        "{% for e in entries %}{% for g in e.groups %}{% for s in g.sentences %}"
        "<p>{{ s }}</p>{% endfor %}{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    out = render_changes(hostile_changeset(), "confluence", RenderOptions(template_dir=tmp_path))
    assert "<script>" not in out
    assert "&lt;script&gt;" in out


def test_broken_custom_template_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "text.j2").write_text("{% for e in entries %}\n{{ e.nope }}\n", encoding="utf-8")
    with pytest.raises(WikisyncError, match=r"text\.j2, line 2: .*endfor"):
        render_changes(changeset(page_changes()), "text", RenderOptions(template_dir=tmp_path))
    (tmp_path / "text.j2").write_text("{{ entries[0].nope }}", encoding="utf-8")
    with pytest.raises(WikisyncError, match=r"template text\.j2: .*nope"):
        render_changes(changeset(page_changes()), "text", RenderOptions(template_dir=tmp_path))


def test_missing_template_dir_is_an_error(tmp_path: Path) -> None:
    opts = RenderOptions(template_dir=tmp_path / "missing")
    with pytest.raises(WikisyncError, match="is not a directory"):
        render_changes(changeset(page_changes()), "text", opts)


@pytest.mark.parametrize("fmt", ["text", "markdown", "confluence", "json"])
def test_deterministic(fmt: str) -> None:
    opts = RenderOptions(period_names={"Q2": "Koa"})
    first = render_changes(changeset(page_changes()), fmt, opts)
    second = render_changes(
        changeset(page_changes()), fmt, RenderOptions(period_names={"Q2": "Koa"})
    )
    assert first == second
    assert "Koa" in first


# --------------------------------------------------------------------------- history


def history() -> list[ChangeSet]:
    """Oldest first, as the store lists snapshots; one changeset is empty."""
    return [
        changeset([Change("Added", "Plugin Templates", to=Q3)], "2020-09-11", 3),
        changeset([], "2020-09-20", 4),
        changeset([Change("Deferred", "Backend Plugins API", from_=Q2, to=Q4)], "2020-10-26", 5),
        changeset([Change("Deleted", "Remove Notifier", from_=Q2)], "2021-02-10", 6),
    ]


def test_history_text_newest_first_skipping_empty() -> None:
    assert render_history(history()) == (
        "- 2021-02-10\n"
        "  - Deleted\n"
        "    - Deleted “Remove Notifier” from Q2.\n"
        "- 2020-10-26\n"
        "  - Deferred\n"
        "    - Moved “Backend Plugins API” from Q2 to Q4.\n"
        "- 2020-09-11\n"
        "  - Added\n"
        "    - Added “Plugin Templates” in Q3.\n"
    )
    assert render_history(list(reversed(history()))) == render_history(history())


def test_history_same_date_ordered_by_version() -> None:
    a = changeset([Change("Added", "A", to=Q3)], "2021-02-10", 7)
    b = changeset([Change("Added", "B", to=Q3)], "2021-02-10", 8)
    out = render_history([a, b])
    assert out.index("“B”") < out.index("“A”")


def test_history_all_empty() -> None:
    empty = [changeset([], "2021-01-01"), changeset([], "2021-01-02")]
    assert render_history(empty) == "No changes.\n"
    assert render_history([]) == "No changes.\n"
    assert json.loads(render_history(empty, "json")) == {
        "schema": "wikisync.history/1",
        "entries": [],
    }


def test_history_confluence_one_list_one_item_per_date() -> None:
    root = lxml.etree.fromstring(render_history(history(), "confluence"))
    assert root.tag == "ul"
    assert [li.findtext("p") for li in root] == ["2021-02-10", "2020-10-26", "2020-09-11"]


def test_history_json_newest_first() -> None:
    doc = json.loads(render_history(history(), "json"))
    assert doc["schema"] == "wikisync.history/1"
    assert [e["date"] for e in doc["entries"]] == ["2021-02-10", "2020-10-26", "2020-09-11"]
    assert all(e["schema"] == "wikisync.changes/1" for e in doc["entries"])
    assert doc["entries"][1]["changes"][0]["text"] == ("Moved “Backend Plugins API” from Q2 to Q4.")


def test_history_markdown() -> None:
    out = render_history(history()[:2], "markdown")
    assert out == "## 2020-09-11\n\n**Added**\n\n- Added “Plugin Templates” in Q3.\n"
