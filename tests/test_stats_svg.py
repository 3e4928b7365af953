"""The slippage chart: a self-contained, deterministic SVG whose text is escaped, and that a
real browser opens and draws (headless Chromium)."""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from wikisync.chart import render_svg, segments
from wikisync.lineage import Version, build_lineages
from wikisync.parse import parse_text
from wikisync.stats import Stats, compute_stats, render_stats
from wikisync.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"
SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    "</text><script>alert(1)</script>",
    "]]> & <![CDATA[x]]>",
    "\"quoted\" 'single' <b>bold</b>",
    "{{ 7*7 }} &amp; &lt;Pilot&gt;",
]


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> Stats:
    root = tmp_path_factory.mktemp("store")
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, root / EXAMPLE)
    store = Store(root)
    lineages = build_lineages([Version.of(s, store.roadmap(s)) for s in store.snapshots(EXAMPLE)])
    return compute_stats(lineages, EXAMPLE)


def _page(cells: dict[str, list[str]]) -> str:
    """A storage page with one lane; card texts escaped as Confluence stores them."""
    rows = ["<tr><th><p>Quarter</p></th><th><p>Build</p></th></tr>"]
    for period in ("FY21 Q1 (Jul-Sep)", "FY21 Q2 (Oct-Dec)", "FY21 Q3 (Jan-Mar)", "Backlog"):
        cards = [f"<p>{html.escape(c, quote=False)}</p>" for c in cells.get(period, [])]
        rows.append(
            f"<tr><th><p>{period}</p></th><td>{'<p>---------</p>'.join(cards) or '<p />'}</td></tr>"
        )
    return f"<h2>Roadmap</h2><table><tbody>{''.join(rows)}</tbody></table>"


def hostile_stats() -> Stats:
    pages = [
        _page({"FY21 Q1 (Jul-Sep)": HOSTILE}),
        _page({"FY21 Q2 (Oct-Dec)": HOSTILE}),
        _page({"FY21 Q3 (Jan-Mar)": HOSTILE[:2], "Backlog": HOSTILE[2:]}),
    ]
    versions = [
        Version(parse_text(p), when=f"2021-0{k + 1}-01T00:00:00Z", version=k + 1)
        for k, p in enumerate(pages)
    ]
    return compute_stats(build_lineages(versions), "<page & name>")


def parse_svg(text: str) -> Any:
    return etree.fromstring(text.encode("utf-8"))


# --------------------------------------------------------------------------- the document


def test_svg_is_well_formed_self_contained_and_deterministic(stats: Stats) -> None:
    text = render_stats(stats, "svg")
    root = parse_svg(text)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox", "").startswith("0 0 960 ")
    # Nothing to fetch, nothing to run.
    for el in root.iter():
        assert etree.QName(el).localname not in ("script", "image", "foreignObject", "use")
        assert not any("href" in k for k in el.attrib), el.attrib
    assert "url(" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert render_stats(stats, "svg") == text


def test_svg_marks_the_hand_counted_numbers(stats: Stats) -> None:
    root = parse_svg(render_svg(stats))
    bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
    # Deferrals in v3 (1), v4 (2), v6 (5) and v7 (5): four bars, tallest two equal.
    assert [b.find(f"{SVG_NS}title").text.split(":")[0] for b in bars] == [
        "v3 2020-09-25",
        "v4 2020-10-26",
        "v6 2021-02-10",
        "v7 2021-06-01",
    ]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] < heights[1] < heights[2] == heights[3]
    line = root.find(f".//{SVG_NS}polyline[@class='cumulative']")
    assert line is not None and len(line.get("points").split()) == 7
    cards = root.findall(f".//{SVG_NS}g[@class='card']")
    assert len(cards) == 8  # every card deferred at least once
    first = "".join(cards[0].itertext())
    assert "Eventing Standard xAPI/Caliper (OEP-26)" in first and "×3" in first


def test_segments_follow_the_periods_a_card_was_planned_in(stats: Stats) -> None:
    authn = next(c for c in stats.cards if c.title == "Authn and Authz Standardized")
    segs = segments(authn)
    assert [(s.short, s.late) for s in segs] == [("Q2", 0), ("Q4", 2), ("Q3", 1), ("Backlog", 6)]
    assert [(s.start, s.end) for s in segs] == [(0, 2), (2, 4), (4, 5), (5, -1)]
    gone = next(c for c in stats.cards if c.title == "Eventing Inter-service messaging")
    assert segments(gone)[-1].end == 6  # deleted in v7: the bar stops there


def test_hostile_titles_stay_text() -> None:
    st = hostile_stats()
    assert len(st.deferred) == len(HOSTILE)
    text = render_svg(st)
    root = parse_svg(text)  # well-formed whatever the titles hold
    assert not [el for el in root.iter() if etree.QName(el).localname in ("script", "b")]
    shown = "".join(root.itertext())
    assert "<page & name>" in shown
    for title in HOSTILE:
        label = title if len(title) <= 40 else title[:39] + "…"
        assert label in shown, title


def test_the_report_hook_links_each_card_to_its_history(stats: Stats) -> None:
    root = parse_svg(render_svg(stats, link=lambda card_id: f"#{card_id}"))
    links = [a.get("href") for a in root.iter(f"{SVG_NS}a")]
    assert links == [f"#{c.id}" for c in stats.deferred]


def test_no_deferral_draws_an_empty_chart() -> None:
    page = _page({"FY21 Q1 (Jul-Sep)": ["Only card"]})
    versions = [Version(parse_text(page), when="2021-01-01T00:00:00Z", version=1)]
    root = parse_svg(render_svg(compute_stats(build_lineages(versions), "p")))
    assert "No card was deferred." in "".join(root.itertext())
    assert root.findall(f".//{SVG_NS}rect[@class='bar']") == []


# --------------------------------------------------------------------------- in a browser


MARKS_JS = """
const q = (s) => Array.from(document.querySelectorAll(s));
const drawn = (els) => els.filter((e) => {
  const b = e.getBBox();
  return b.width > 0 && b.height > 0;
}).length;
return {
  root: document.documentElement.localName,
  bars: q('rect.bar').length, barsDrawn: drawn(q('rect.bar')),
  segs: q('rect.seg').length, segsDrawn: drawn(q('rect.seg')),
  cards: q('g.card').length, line: drawn(q('polyline.cumulative')),
  titles: q('text.card-title').map((t) => t.textContent),
  scripts: q('script').length,
};
"""


@pytest.mark.browser
def test_chromium_opens_the_svg_and_draws_its_marks(
    browser: Any, stats: Stats, tmp_path: Path
) -> None:
    path = tmp_path / "slippage.svg"
    path.write_text(render_svg(stats), encoding="utf-8")
    got = browser.open(path).execute_script(MARKS_JS)
    assert browser.requests() == []  # nothing left the machine
    assert got["root"] == "svg"
    assert got["bars"] == got["barsDrawn"] == 4
    assert got["cards"] == 8 and got["line"] == 1
    assert got["segs"] == got["segsDrawn"] > 8
    assert got["titles"][0].startswith("Eventing Standard xAPI/Caliper (OEP-26)")


@pytest.mark.browser
def test_chromium_shows_hostile_titles_as_text(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "hostile.svg"
    path.write_text(render_svg(hostile_stats()), encoding="utf-8")
    got = browser.open(path).execute_script(MARKS_JS)
    assert got["root"] == "svg" and got["scripts"] == 0
    assert got["cards"] == len(HOSTILE)
    assert any(t.startswith("</text><script>alert(1)</script>") for t in got["titles"])
