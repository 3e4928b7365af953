"""The HTML diff and the report site in a real headless Chromium: what a person sees.

The moved card is visible inside the cell of its new period, its ghost in the old cell, the
badges say where each went, the legend counts match the marked cards, the filter hides
unchanged cards, links work, no request leaves the machine, and markup in card text is shown as
text, never run. Needs Debian's chromium + chromium-driver (skips locally without, fails under
CI=true).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from roadmaps import card, roadmap

from wikisync.diff import diff_roadmaps
from wikisync.model import ChangeSet, VersionRef
from wikisync.render.html import render_diff_html
from wikisync.report import write_report
from wikisync.store import Store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    shutil.copytree(ROOT / "snapshots" / EXAMPLE, root / "snapshots" / EXAMPLE)
    write_report(Store(root / "snapshots"), EXAMPLE, root / "site")
    return root / "site"


FIND_CARD = """
const [title, change] = arguments;
const el = [...document.querySelectorAll('li.card')]
  .find(c => c.dataset.title === title && c.dataset.change === change);
if (!el) return null;
const td = el.closest('td');
const r = el.getBoundingClientRect(), t = td ? td.getBoundingClientRect() : null;
const style = getComputedStyle(el);
return {
  period: td ? td.dataset.period : null,
  lane: td ? td.dataset.lane : null,
  text: el.innerText,
  visible: r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none',
  inside: !!t && r.left >= t.left - 1 && r.right <= t.right + 1 && r.top >= t.top - 1
          && r.bottom <= t.bottom + 1,
  opacity: parseFloat(style.opacity),
  line: getComputedStyle(el.querySelector('.t')).textDecorationLine,
};
"""


def find(driver: Any, title: str, change: str) -> dict[str, Any]:
    found = driver.execute_script(FIND_CARD, title, change)
    assert found is not None, (title, change)
    return found


def test_a_moved_card_sits_in_its_new_cell_and_its_ghost_in_the_old(
    browser: Any, site: Path
) -> None:
    d = browser.open(site / "diff-v5-v6.html")
    moved = find(d, "Backend Plugins Python APIs", "deferred")
    assert moved["period"] == "FY21 Q4 (Apr-Jun)"
    assert moved["visible"] and moved["inside"]
    assert "deferred from Q3" in moved["text"]
    ghost = find(d, "Backend Plugins Python APIs", "moved-away")
    assert ghost["period"] == "FY21 Q3 (Jan-Mar)" and ghost["lane"] == moved["lane"]
    assert ghost["visible"] and ghost["inside"] and ghost["opacity"] < 1
    assert "→ Q4" in ghost["text"]
    old = find(d, "Decentralized Devstack Adoption", "replaced")
    assert "line-through" in old["line"] and "replaced by" in old["text"]
    assert browser.requests() == [] and browser.console_errors() == []


def test_legend_counts_match_the_marked_cards(browser: Any, site: Path) -> None:
    d = browser.open(site / "diff-v5-v6.html")
    rows = d.execute_script(
        """return [...document.querySelectorAll('table.legend tbody tr')].map(r => ({
             kind: r.dataset.kind, shown: r.querySelector('td.n').innerText,
             marked: document.querySelectorAll(`li.card[data-change="${r.dataset.kind}"]`).length,
             counted: +r.querySelector('td.n').dataset.count }));"""
    )
    by_kind = {r["kind"]: r for r in rows}
    for r in rows:
        assert r["marked"] == r["counted"], r
    assert by_kind["deferred"]["shown"] == "5" and by_kind["deferred"]["marked"] == 5
    assert by_kind["replaced"]["marked"] == 2 * int(by_kind["replaced"]["shown"])
    ghosts = by_kind["deferred"]["marked"] + by_kind["moved-up"]["marked"]
    assert by_kind["moved-away"]["marked"] == ghosts == int(by_kind["moved-away"]["shown"])


def test_the_filter_hides_unchanged_cards_without_script(browser: Any, site: Path) -> None:
    d = browser.open(site / "index.html")
    visible = """return [...document.querySelectorAll('li.card')]
                   .filter(c => c.getBoundingClientRect().height > 0).map(c => c.dataset.change);"""
    before = d.execute_script(visible)
    assert "unchanged" in before
    d.find_element("id", "only-changes").click()
    after = d.execute_script(visible)
    assert "unchanged" not in after and after == [c for c in before if c != "unchanged"]
    assert d.execute_script("return document.scripts.length") == 0


def test_report_links_lead_somewhere(browser: Any, site: Path) -> None:
    d = browser.open(site / "index.html")
    d.find_element("link text", "Change History").click()
    assert d.current_url.endswith("/history.html")
    assert "Change History" in d.find_element("tag name", "h1").text
    first = d.find_element("css selector", "section.entry h2 a")
    target = first.get_attribute("href")
    first.click()
    assert d.current_url == target
    assert d.find_elements("css selector", "li.card[data-change='moved-away']")
    d.find_element("css selector", "a[rel='prev']").click()
    assert d.find_element("css selector", "table.grid")
    assert browser.requests() == [] and browser.console_errors() == []


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '"><img src=x onerror="window.__pwned = 2">',
    '<svg onload="window.__pwned = 3"></svg>',
    "{{ 7*7 }} {% raw %}",
    "\u202egnp.exe \u2066right-to-left\u2069 tail",
    "' autofocus onfocus='window.__pwned = 4",
    '<a href="javascript:window.__pwned = 5">click</a>',
]


def test_markup_in_cards_is_shown_as_text_never_run(browser: Any, tmp_path: Path) -> None:
    base = card("Toggle Docs", "Q1")
    old = roadmap(base, *(replace(card("x", "Q2"), title=f"old {t}", text=t) for t in HOSTILE))
    new = roadmap(
        base,
        *(replace(card("x", "Q3"), title=t, text=t, stage=t, orgs=(t,)) for t in HOSTILE),
    )
    cs = ChangeSet(
        VersionRef("a", author=HOSTILE[0]), VersionRef("b", author=HOSTILE[1]),
        diff_roadmaps(old, new), "2024-01-01", old, new,
    )  # fmt: skip
    page = tmp_path / "hostile.html"
    page.write_text(render_diff_html(cs), encoding="utf-8")
    d = browser.open(page)
    state = d.execute_script(
        """return {pwned: window.__pwned === undefined ? null : window.__pwned,
                   elements: document.querySelectorAll('script, img, svg, iframe').length,
                   titles: [...document.querySelectorAll('li.card')].map(c => c.dataset.title),
                   texts: [...document.querySelectorAll('li.card .t')].map(c => c.textContent)};"""
    )
    assert state["pwned"] is None and state["elements"] == 0
    for t in HOSTILE:
        assert t in state["titles"] and t in state["texts"]
    assert browser.requests() == []


def test_the_harness_sees_and_blocks_a_request_for_the_network(
    browser: Any, tmp_path: Path
) -> None:
    """The check "no request left the machine" can fail: a page that asks is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://192.0.2.1/pixel.png">', encoding="utf-8")
    browser.open(page)
    assert browser.requests() == ["http://192.0.2.1/pixel.png"]
    browser.open(page.with_name("leaky.html"))
    assert browser.requests() == ["http://192.0.2.1/pixel.png"]  # per page, not cumulative
