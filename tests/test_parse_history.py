"""The page text around the table: the hand-written Change History and the organisation legend."""

from __future__ import annotations

import pytest

from wikisync.model import HistoryEntry, ParseOptions
from wikisync.parse import parse_text
from wikisync.parse.history import iso_date, parse_history
from wikisync.parse.inline import Context
from wikisync.parse.legend import parse_legend
from wikisync.parse.load import parse_tree

TABLE = (
    "<table><tr><th>Q</th><th>Lane</th></tr><tr><th>Q1</th><td>Card [1, 2]</td></tr>"
    "<tr><th>Q2</th><td>Other [9]</td></tr></table>"
)


def history(html: str, heading: str = "Change History") -> list[HistoryEntry]:
    return parse_history(parse_tree(html, "storage"), heading, Context())


def legend(html: str) -> dict[str, str]:
    return parse_legend(parse_tree(html, "storage"), "Organizations listed above", Context())


# --------------------------------------------------------------------------- history


def test_nested_date_category_sentence_and_flat_entries() -> None:
    entries = history(
        "<h2>Change History</h2><p>(intro that is not an entry)</p>"
        "<ul><li><p>2021-02-10</p><ul>"
        "<li><p>Deferred</p><ul><li><p>Moved &ldquo;A&rdquo; from Q2 to Q3.</p></li>"
        "<li><p>Moved   &ldquo;B&rdquo;\n from Q3 to Backlog.</p></li></ul></li>"
        "<li><p>moved up</p><ul><li><p>Moved &ldquo;C&rdquo; from Backlog to Q4.</p></li></ul></li>"
        "</ul></li>"
        "<li><p>Sep 11, 2020</p><ul><li><p>Added &ldquo;D&rdquo; to the card.</p></li></ul></li>"
        "</ul><h2>Next section</h2><ul><li>not history</li></ul>"
    )
    assert entries == [
        HistoryEntry("2021-02-10", "Deferred", "Moved “A” from Q2 to Q3."),
        HistoryEntry("2021-02-10", "Deferred", "Moved “B” from Q3 to Backlog."),
        HistoryEntry("2021-02-10", "Moved Up", "Moved “C” from Backlog to Q4."),
        HistoryEntry("2020-09-11", None, "Added “D” to the card."),
    ]


def test_dates_and_categories_as_paragraphs_and_headings() -> None:
    entries = history(
        "<h1>Change History</h1><h3>10 February 2021</h3><p><strong>Added</strong></p>"
        "<ul><li>Added X in Q3.</li></ul><p>Replaced:</p><ul><li>Deleted Y from Q2.</li></ul>"
        "<ul><li>2020-01-05: Flat dated line.</li></ul>"
        "<h1>Elsewhere</h1><ul><li>ignored</li></ul>"
    )
    assert entries == [
        HistoryEntry("2021-02-10", "Added", "Added X in Q3."),
        HistoryEntry("2021-02-10", "Replaced", "Deleted Y from Q2."),
        HistoryEntry("2021-02-10", "Replaced", "2020-01-05: Flat dated line."),
    ]


def test_undated_flat_list_splits_a_leading_date() -> None:
    entries = history(
        "<h2>Change history</h2><ul><li>2020-01-05 - Did a thing.</li><li>No date.</li></ul>"
    )
    assert entries == [
        HistoryEntry("2020-01-05", None, "Did a thing."),
        HistoryEntry("", None, "No date."),
    ]


def test_non_date_labels_are_kept_as_written() -> None:
    entries = history(
        "<h2>Change History</h2><ul><li>Early 2020<ul><li>Started.</li></ul></li></ul>"
    )
    assert entries == [HistoryEntry("Early 2020", None, "Started.")]


def test_missing_history_and_custom_heading() -> None:
    assert history("<p>nothing here</p>") == []
    entries = history(
        "<h2>Revisions</h2><ul><li>2022-03-04<ul><li>X.</li></ul></li></ul>", "Revisions"
    )
    assert entries == [HistoryEntry("2022-03-04", None, "X.")]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2021-02-10", "2021-02-10"),
        ("2021/02/10", "2021-02-10"),
        ("Feb 10, 2021", "2021-02-10"),
        ("February 10th, 2021:", "2021-02-10"),
        ("10 Feb 2021", "2021-02-10"),
        ("Sept 3, 2020", "2020-09-03"),
        ("Deferred", None),
        ("Q3 2021", None),
        ("2021-13-45", None),
    ],
)
def test_iso_date(text: str, iso: str | None) -> None:
    assert iso_date(text) == iso


# --------------------------------------------------------------------------- legend


def test_legend_ordered_list() -> None:
    got = legend(
        '<p><span style="color: red">Organizations listed above in red</span></p>'
        "<ol><li><p>edX</p></li><li><p>OpenCraft</p></li><li><p>Edu<b>Next</b></p></li></ol>"
    )
    assert got == {"1": "edX", "2": "OpenCraft", "3": "EduNext"}


def test_legend_numbered_lines_and_start_attribute() -> None:
    assert legend(
        "<p>Organizations listed above:<br/>1. edX<br/>2 - OpenCraft</p><p>3) MIT</p>"
    ) == {
        "1": "edX",
        "2": "OpenCraft",
        "3": "MIT",
    }
    assert legend("<h3>Organizations listed above</h3><ol start='5'><li>Overhang.io</li></ol>") == {
        "5": "Overhang.io"
    }


def test_missing_legend() -> None:
    assert legend("<p>Organizations listed above</p><p>(none yet)</p>") == {}
    assert legend("<ol><li>edX</li></ol>") == {}


def test_legend_resolves_org_names_on_items() -> None:
    page = TABLE + "<p>Organizations listed above</p><ol><li>edX</li><li>OpenCraft</li></ol>"
    r = parse_text(page, None, ParseOptions())
    assert r.legend == {"1": "edX", "2": "OpenCraft"}
    assert [(i.orgs, i.org_names) for i in r.items] == [
        (("1", "2"), ("edX", "OpenCraft")),
        (("9",), ("9",)),  # unknown numbers stay numbers
    ]
