"""Publishing the Change History entry into the page (wikisync/publish.py).

Surgery tests check the one promise that matters most: every byte outside the inserted spans is
the page exactly as it was. Publish tests run against the fake Confluence on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from confluence_server import FakeConfluence
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from wikisync.diff import diff_roadmaps
from wikisync.errors import FetchError, WikisyncError
from wikisync.model import Change, ChangeSet, Document, HistoryEntry, Item, Roadmap, VersionRef
from wikisync.parse import parse_text
from wikisync.parse.history import parse_history
from wikisync.parse.inline import Context
from wikisync.parse.load import parse_tree
from wikisync.publish import (
    Insertion,
    already_published,
    entry_message,
    insert_entry,
    plan_publish,
    publish,
    splice_entry,
    unified_diff,
)
from wikisync.render import render_changes
from wikisync.wikis.confluence import ConfluenceClient

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "publish"
OPENEDX = HERE / "data" / "openedx"
REAL = Path("/work/shared/fixtures/roadmap-current.storage.html")
CURRENT = (OPENEDX / "current.storage.html").read_text(encoding="utf-8")
VIEW = (OPENEDX / "current.view.html").read_text(encoding="utf-8")
PID = "1812037671"
TITLE = "FY21-22 Architecture User Story Roadmap"
DATE = "2021-03-01"

# The shape render_changes(cs, "confluence") produces.
NEW_ENTRY = (
    "<ul><li><p>2021-03-01</p><ul>"
    "<li><p>Replaced</p><ul><li><p>Deleted “X” from Q2.</p></li>"
    "<li><p>Added “Y” to Q3.</p></li></ul></li>"
    "<li><p>Added</p><ul><li><p>Added “B” in Q3.</p></li>"
    "<li><p>Added “Z” in Q4.</p></li></ul></li>"
    "</ul></li></ul>\n"
)


def bodies() -> list[tuple[str, str]]:
    out = [("real-page", CURRENT)]
    if REAL.exists():
        out.append(("shared-fixture", REAL.read_text(encoding="utf-8")))
    for name in ("v1", "v3", "v6"):
        out.append((f"openedx-{name}", (OPENEDX / f"{name}.storage.html").read_text("utf-8")))
    for path in sorted(DATA.glob("*.storage.html")):
        out.append((path.stem, path.read_text(encoding="utf-8")))
    return out


def remove_insertions(new_body: str, insertions: tuple[Insertion, ...]) -> str:
    """Take the inserted spans out of the new body, checking each sits where it was recorded."""
    shift = 0
    out: list[str] = []
    at = 0
    for ins in insertions:
        pos = ins.offset + shift
        assert new_body[pos : pos + len(ins.text)] == ins.text
        out.append(new_body[at:pos])
        at = pos + len(ins.text)
        shift += len(ins.text)
    out.append(new_body[at:])
    return "".join(out)


def history(body: str, heading: str = "Change History") -> list[HistoryEntry]:
    """The Change History as wikisync's own parser reads it back."""
    return parse_history(parse_tree(body, "storage"), heading, Context())


def triples(entries: list[HistoryEntry]) -> list[tuple[str, str | None, str]]:
    return [(h.date, h.category, h.text) for h in entries]


OURS = [
    (DATE, "Replaced", "Deleted “X” from Q2."),
    (DATE, "Replaced", "Added “Y” to Q3."),
    (DATE, "Added", "Added “B” in Q3."),
    (DATE, "Added", "Added “Z” in Q4."),
]


# --------------------------------------------------------------------------- byte-for-byte


@pytest.mark.parametrize(("name", "body"), bodies(), ids=[n for n, _ in bodies()])
def test_everything_outside_the_insertion_is_byte_identical(name: str, body: str) -> None:
    splice = splice_entry(body, NEW_ENTRY)
    assert splice.insertions, name
    assert splice.body != body
    assert remove_insertions(splice.body, splice.insertions) == body
    assert insert_entry(body, NEW_ENTRY) == splice.body
    # Read back with wikisync's own parser: our sentences are there, dated, and nothing else
    # of the history changed.
    read = triples(history(splice.body))
    before = triples(history(body))
    assert all(t in read for t in OURS), name
    assert [t for t in read if t not in OURS] == [t for t in before if t not in OURS]
    if not any(t[0] == DATE for t in before):  # a new date: the entry is the newest one
        assert read[: len(OURS)] == OURS, name


def test_real_page_new_date_goes_on_top() -> None:
    splice = splice_entry(CURRENT, NEW_ENTRY)
    (ins,) = splice.insertions
    assert CURRENT[ins.offset :].startswith("<li><p>2021-02-10</p>")
    assert CURRENT[: ins.offset].endswith("change history information.)</p><ul>")
    assert ins.text == NEW_ENTRY[len("<ul>") : -len("</ul>\n")]


def test_decoys_in_cdata_comments_and_tables_are_not_the_section() -> None:
    body = (DATA / "macros.storage.html").read_text(encoding="utf-8")
    (ins,) = splice_entry(body, NEW_ENTRY).insertions
    assert body[: ins.offset].endswith('<p>(Newest first.)</p>\n<ul class="history">')
    assert body.index("2099-01-03") < ins.offset  # after the table, the comment and the CDATA


def test_heading_match_ignores_case_nbsp_and_a_trailing_colon() -> None:
    body = "<h3>CHANGE&nbsp;&nbsp;history&#58;</h3><ul><li><p>2020-01-01</p></li></ul>"
    (ins,) = splice_entry(body, NEW_ENTRY).insertions
    assert body[ins.offset :].startswith("<li><p>2020-01-01")
    custom = "<h2>Änderungen</h2><ul></ul>"
    (ins,) = splice_entry(custom, NEW_ENTRY, heading="änderungen").insertions
    assert custom[ins.offset :] == "</ul>"


def test_the_section_ends_at_the_next_heading_of_its_level() -> None:
    body = (
        "<h2>Change History</h2><p>none yet</p><h3>Details</h3><p>x</p>"
        "<h2>Other</h2><ul><li><p>2020-01-01</p></li></ul>"
    )
    splice = splice_entry(body, NEW_ENTRY)
    (ins,) = splice.insertions
    assert ins.offset == body.index("<h3>")  # after the intro paragraph, not in "Other"
    assert ins.text == NEW_ENTRY.rstrip("\n")


# --------------------------------------------------------------------------- merging


def test_same_date_merges_into_existing_and_new_categories_without_duplicates() -> None:
    body = (DATA / "categories.storage.html").read_text(encoding="utf-8")
    splice = splice_entry(body, NEW_ENTRY)
    assert remove_insertions(splice.body, splice.insertions) == body
    replaced, added = splice.insertions
    # New category "Replaced" goes between Deferred and Added (CATEGORIES order) ...
    assert body[: replaced.offset].endswith("from Q2 to Q3.</p></li></ul></li>")
    assert body[replaced.offset :].startswith("<li><p>Added:</p>")
    assert replaced.text.startswith("<li><p>Replaced</p><ul>")
    # ... and only "Z" is added to the existing "Added:" item ("B" is there already).
    assert added.text == "<li><p>Added “Z” in Q4.</p></li>"
    assert body[: added.offset].endswith("<li><p>Added &ldquo;B&rdquo; in Q3.</p></li>")
    assert triples(history(splice.body))[:5] == [
        (DATE, "Deferred", "Moved “A” from Q2 to Q3."),
        (DATE, "Replaced", "Deleted “X” from Q2."),
        (DATE, "Replaced", "Added “Y” to Q3."),
        (DATE, "Added", "Added “B” in Q3."),
        (DATE, "Added", "Added “Z” in Q4."),
    ]
    assert [t for t in triples(history(splice.body)) if t[2] == "Added “B” in Q3."] == [
        (DATE, "Added", "Added “B” in Q3.")
    ]


def test_merge_on_the_real_page_appends_to_its_categories() -> None:
    entry = (
        "<ul><li><p>2021-02-10</p><ul>"
        "<li><p>Moved Up</p><ul><li><p>Moved “Tech Radar” from H2 to H1.</p></li></ul></li>"
        "<li><p>Added</p><ul><li><p>Added “Monolith PR Standards” in Q3.</p></li>"
        "<li><p>Added “Tech Radar” in H1.</p></li></ul></li>"
        "<li><p>Renamed</p><ul><li><p>Renamed “A” to “B” (Q4).</p></li></ul></li>"
        "</ul></li></ul>"
    )
    splice = splice_entry(CURRENT, entry)
    assert remove_insertions(splice.body, splice.insertions) == CURRENT
    moved_up, added, renamed = splice.insertions
    assert CURRENT[: moved_up.offset].endswith(
        "Developer Handbook&rdquo; from Backlog to Q4.</p></li>\n"
    )
    assert added.text == "<li><p>Added “Tech Radar” in H1.</p></li>"  # PR Standards is there
    assert CURRENT[: added.offset].endswith("Monolith PR Standards&rdquo; in Q3.</p></li>\n")
    # Renamed comes after Added (the last category of the day), before the next date.
    assert CURRENT[renamed.offset :].startswith("</ul></li><li><p>2020-10-26</p>")
    assert (
        renamed.text == "<li><p>Renamed</p><ul><li><p>Renamed “A” to “B” (Q4).</p></li></ul></li>"
    )
    dated = [t for t in triples(history(splice.body)) if t[0] == "2021-02-10"]
    assert len(dated) == 13
    assert ("2021-02-10", "Renamed", "Renamed “A” to “B” (Q4).") in dated


def test_merge_into_an_old_flat_entry() -> None:
    body = (OPENEDX / "v3.storage.html").read_text(encoding="utf-8")
    entry = (
        "<ul><li><p>2020-09-25</p><ul><li><p>Added</p><ul>"
        "<li><p>Moved “Doc Onboarding Course” from Backlog to Lilac, assigned to Appsembler.</p>"
        "</li><li><p>Added “New” in Q1.</p></li></ul></li></ul></li></ul>"
    )
    splice = splice_entry(body, entry)
    (ins,) = splice.insertions
    assert remove_insertions(splice.body, splice.insertions) == body
    # No categories under that date yet: the new one closes its list, the duplicate is dropped.
    assert ins.text == "<li><p>Added</p><ul><li><p>Added “New” in Q1.</p></li></ul></li>"
    assert body[ins.offset :].startswith("</ul></li><li><p>2020-09-11</p>")


def test_everything_already_there_changes_nothing() -> None:
    once = insert_entry(CURRENT, NEW_ENTRY)
    twice = splice_entry(once, NEW_ENTRY)
    assert twice.body == once
    assert twice.insertions == ()


def test_dates_written_as_paragraphs_get_a_dated_list_above_the_newest() -> None:
    body = (DATA / "paragraph-dates.storage.html").read_text(encoding="utf-8")
    (ins,) = splice_entry(body, NEW_ENTRY).insertions
    assert body[ins.offset :].startswith("<p>Feb 10, 2021</p>")
    assert ins.text == NEW_ENTRY.rstrip("\n")
    assert triples(history(insert_entry(body, NEW_ENTRY)))[:4] == OURS


# --------------------------------------------------------------------------- no section


def test_no_section_is_an_error_that_names_the_option() -> None:
    body = "<p>Just a page.</p>"
    with pytest.raises(WikisyncError, match=r"no “Change History” section.*--create-section"):
        insert_entry(body, NEW_ENTRY)
    with pytest.raises(WikisyncError, match="no “Log” section"):
        insert_entry(CURRENT, NEW_ENTRY, heading="Log")


def test_create_section_appends_heading_and_list() -> None:
    body = "<p>Just a page.</p>\n"
    splice = splice_entry(body, NEW_ENTRY, create_section=True)
    assert splice.body == (
        "<p>Just a page.</p><h2>Change History</h2>" + NEW_ENTRY.rstrip("\n") + "\n"
    )
    assert triples(history(splice.body)) == OURS
    named = insert_entry("<p>x</p>", NEW_ENTRY, heading="Log & <Notes>", create_section=True)
    assert "<h2>Log &amp; &lt;Notes&gt;</h2>" in named


def test_create_section_stays_inside_the_page_layout() -> None:
    body = (
        '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><p>a</p>'
        "</ac:layout-cell></ac:layout-section></ac:layout>"
    )
    splice = splice_entry(body, NEW_ENTRY, create_section=True)
    (ins,) = splice.insertions
    assert body[ins.offset :] == "</ac:layout-cell></ac:layout-section></ac:layout>"
    assert remove_insertions(splice.body, splice.insertions) == body
    # An existing section wins over create_section.
    assert insert_entry(CURRENT, NEW_ENTRY, create_section=True) == insert_entry(CURRENT, NEW_ENTRY)


def test_section_without_a_list_gets_one_after_its_intro_paragraphs() -> None:
    body = (DATA / "intro-no-list.storage.html").read_text(encoding="utf-8")
    (ins,) = splice_entry(body, NEW_ENTRY).insertions
    assert body[: ins.offset].endswith("first.</p>")
    assert body[ins.offset :].startswith('<ac:structured-macro ac:name="info">')
    v1 = (OPENEDX / "v1.storage.html").read_text(encoding="utf-8")
    (ins,) = splice_entry(v1, NEW_ENTRY).insertions
    assert ins.offset == len(v1) and v1.endswith("<h2>Change History</h2>")


def test_bad_fragments_are_refused() -> None:
    with pytest.raises(WikisyncError, match="no dated list item"):
        insert_entry(CURRENT, "<p>No changes.</p>\n")
    with pytest.raises(WikisyncError, match="not well-formed"):
        insert_entry(CURRENT, "<ul><li><p>2021-03-01</p><ul><li><p>x</p></ul></li></ul>")


def test_unclosed_history_list_is_refused_not_guessed() -> None:
    body = "<h2>Change History</h2><ul><li><p>2021-03-01</p><ul><li><p>Added</p><ul>"
    with pytest.raises(WikisyncError, match="has no end tag"):
        insert_entry(body, NEW_ENTRY)


# --------------------------------------------------------------------------- the real pipeline


def roadmap_of(storage: str) -> Roadmap:
    return parse_text(storage, "storage")


def previous_of(storage: str) -> Roadmap:
    """The roadmap "before": Tech Radar not there yet, Remove MIT SysAdmin still in Q3."""
    rm = roadmap_of(storage)
    q3 = next(p.label for p in rm.periods if p.short == "Q3")
    items = [i for i in rm.items if i.title != "Tech Radar"]
    items = [replace(i, period=q3) if i.title == "Remove MIT SysAdmin" else i for i in items]
    return replace(rm, items=items)


def changeset(old: Roadmap, new: Roadmap, date: str = DATE) -> ChangeSet:
    return ChangeSet(VersionRef("old"), VersionRef("new"), diff_roadmaps(old, new), date, old, new)


def test_plan_from_a_real_diff_and_the_table_is_untouched() -> None:
    cs = changeset(previous_of(CURRENT), roadmap_of(CURRENT))
    assert {c.category for c in cs.changes} == {"Added", "Deferred"}
    plan = plan_publish(CURRENT, cs)
    assert not plan.noop and plan.reason == ""
    assert plan.fragment == render_changes(cs, "confluence")
    assert plan.old_body == CURRENT
    assert remove_insertions(plan.body, plan.insertions) == CURRENT
    # Our edit changes only the Change History: the next sync must see no roadmap change.
    before, after = roadmap_of(CURRENT), roadmap_of(plan.body)
    assert diff_roadmaps(before, after) == []
    assert after.items == before.items and after.periods == before.periods
    assert triples(after.history)[:2] == [
        (DATE, "Deferred", "Moved “Remove MIT SysAdmin” from Q3 to Q4."),
        (DATE, "Added", "Added “Tech Radar” in H1."),
    ]
    assert after.history[2:] == before.history
    # The dry-run diff: a readable unified diff with only our lines added.
    assert plan.diff.startswith("--- page (now)\n+++ page (with the new entry)\n@@ -")
    added = [ln for ln in plan.diff.splitlines() if ln.startswith("+") and ln[:3] != "+++"]
    removed = [ln for ln in plan.diff.splitlines() if ln.startswith("-") and ln[:3] != "---"]
    assert removed == []
    assert "+<li><p>Added “Tech Radar” in H1.</p></li>" in added
    assert "+<li><p>2021-03-01</p>" in added
    # Deterministic.
    assert plan_publish(CURRENT, cs) == plan


def test_already_published_and_noop_plans() -> None:
    cs = changeset(previous_of(CURRENT), roadmap_of(CURRENT))
    plan = plan_publish(CURRENT, cs)
    assert not already_published(CURRENT, cs)
    assert not already_published(CURRENT, plan.fragment)
    assert already_published(plan.body, cs)
    assert already_published(plan.body, plan.fragment)
    again = plan_publish(plan.body, cs)
    assert (again.noop, again.reason, again.body, again.diff) == (
        True,
        "already published",
        plan.body,
        "",
    )
    # The same sentences under another date are not "published".
    assert not already_published(plan.body, replace(cs, date="2021-03-02"))
    # No changes: nothing to publish.
    empty = changeset(roadmap_of(CURRENT), roadmap_of(CURRENT))
    assert empty.changes == []
    nothing = plan_publish(CURRENT, empty)
    assert (nothing.noop, nothing.reason, nothing.body, nothing.fragment) == (
        True,
        "no changes",
        CURRENT,
        "",
    )
    assert not already_published("<p>no section</p>", cs)


def test_entry_published_lower_down_still_counts() -> None:
    body = insert_entry(CURRENT, NEW_ENTRY)
    later = insert_entry(body, NEW_ENTRY.replace("2021-03-01", "2021-04-01").replace("“Z”", "“W”"))
    assert already_published(later, NEW_ENTRY)


def hostile_changeset() -> ChangeSet:
    rm = roadmap_of(CURRENT)
    h1 = next(p for p in rm.periods if p.short == "H1")
    title = "</li><script>alert(1)</script> ]]> <![CDATA[x]]> &amp; <ac:link/>"
    item = Item(id="x1", title=title, period=h1.label, lane=rm.lanes[0].label, text=title)
    new = replace(rm, items=[*rm.items, item])
    change = Change(category="Added", title=title, new=item)
    return ChangeSet(VersionRef("a"), VersionRef("b"), [change], DATE, rm, new)


def test_hostile_titles_stay_text() -> None:
    cs = hostile_changeset()
    plan = plan_publish(CURRENT, cs)
    (ins,) = plan.insertions
    # The inserted markup is well-formed XML on its own: nothing in the title opened or closed
    # an element, a CDATA section or a macro.
    fragment = etree.fromstring(f"<root>{ins.text}</root>".encode())
    assert [e.tag for e in fragment.iter()] == ["root", "li", "p", "ul", "li", "p", "ul", "li", "p"]
    tree = parse_tree(plan.body, "storage")
    assert tree.findall(".//script") == []
    expected = f"Added “{cs.changes[0].title}” in H1."
    assert triples(history(plan.body))[0] == (DATE, "Added", expected)
    assert remove_insertions(plan.body, plan.insertions) == CURRENT
    assert diff_roadmaps(roadmap_of(CURRENT), roadmap_of(plan.body)) == []
    assert already_published(plan.body, cs)


def _quickest(work: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t)
    return best


def test_large_page_is_linear() -> None:
    """Splicing and diffing a 2 MB page cost about 10× a page 10× smaller: a ratio of two runs
    side by side, not a wall-clock limit, so a busy machine does not fail it (a quadratic scan
    gives 100×)."""
    start, end = CURRENT.index("<tbody>") + 7, CURRENT.index("</tbody>")
    small = CURRENT[:start] + CURRENT[start:end] * 25 + CURRENT[end:]
    big = CURRENT[:start] + CURRENT[start:end] * 250 + CURRENT[end:]
    assert len(big) > 2_000_000 and len(big) > 9 * len(small)
    splice = splice_entry(big, NEW_ENTRY)
    assert already_published(splice.body, NEW_ENTRY)
    assert remove_insertions(splice.body, splice.insertions) == big
    small_body = splice_entry(small, NEW_ENTRY).body
    diffs: list[str] = []

    def spliced(page: str) -> Callable[[], object]:
        return lambda: already_published(splice_entry(page, NEW_ENTRY).body, NEW_ENTRY)

    ratio = _quickest(spliced(big)) / _quickest(spliced(small))
    assert ratio < 30, ratio
    ratio = _quickest(lambda: diffs.append(unified_diff(big, splice.body)), runs=2) / _quickest(
        lambda: unified_diff(small, small_body), runs=2
    )
    assert ratio < 30, ratio
    assert "+<li><p>Added “Z” in Q4.</p></li>" in diffs[0]


# --------------------------------------------------------------------------- publish()


class LossyConfluence(FakeConfluence):
    """Applies the next PUT, then answers it with an error: the answer is lost on the way."""

    lose_status: int | None = None

    def _dispatch(self, request: Request) -> Response:
        response = super()._dispatch(request)
        if request.method == "PUT" and response.status_code == 200 and self.lose_status:
            status, self.lose_status = self.lose_status, None
            body = {"statusCode": status, "message": "lost", "reason": "lost"}
            if status == 409:
                body["message"] = (
                    "Version must be incremented on update. Current version is: "
                    f"{self.pages[PID].current.number}"
                )
            return Response(json.dumps(body), status, content_type="application/json")
        return response


@pytest.fixture
def fake(_server: HTTPServer) -> LossyConfluence:
    _server.clear()
    f = LossyConfluence(_server)
    f.add_page(PID, TITLE, CURRENT, VIEW, message="v1")
    return f


@pytest.fixture(params=[True, False], ids=["cloud-v2", "server-v1"])
def client(request: pytest.FixtureRequest, fake: FakeConfluence) -> Iterator[ConfluenceClient]:
    c = ConfluenceClient(fake.base_url, cloud=request.param, timeout=(2, 5), sleep=lambda s: None)
    yield c
    c.close()


class Builder:
    """``build`` for publish(): the live version against a fixed previous roadmap."""

    def __init__(self, previous: Roadmap, hook: Callable[[int, Document], None] | None = None):
        self.previous = previous
        self.hook = hook
        self.seen: list[int | None] = []

    def __call__(self, doc: Document) -> ChangeSet | None:
        self.seen.append(doc.meta.version)
        if self.hook is not None:
            self.hook(len(self.seen), doc)
        new = roadmap_of(doc.bodies["storage"])
        cs = changeset(self.previous, new)
        return cs if cs.changes else None


def puts(fake: FakeConfluence) -> int:
    return fake.hits(method="PUT")


def test_dry_run_sends_no_put(fake: FakeConfluence, client: ConfluenceClient) -> None:
    result = publish(client, PID, Builder(previous_of(CURRENT)))  # dry_run is the default
    assert result.status == "dry-run" and not result.published
    assert puts(fake) == 0
    assert all(s.method == "GET" for s in fake.requests)
    assert len(fake.pages[PID].versions) == 1
    assert result.plan is not None and "Added “Tech Radar” in H1." in result.plan.body
    assert (result.version_read, result.version, result.attempts) == (1, None, 0)
    assert "would publish the 2021-03-01 entry as v2" in result.message


def test_publish_saves_version_plus_one_as_a_minor_edit(
    fake: FakeConfluence, client: ConfluenceClient
) -> None:
    result = publish(client, PID, Builder(previous_of(CURRENT)), dry_run=False)
    assert result.status == "published" and result.published
    assert (result.version_read, result.version, result.attempts, result.conflicts) == (1, 2, 1, 0)
    assert puts(fake) == 1
    put = next(s for s in fake.requests if s.method == "PUT")
    sent = json.loads(put.body)
    assert sent["version"] == {
        "number": 2,
        "message": "wikisync: Change History for 2021-03-01",
        "minorEdit": True,
    }
    assert sent["title"] == TITLE
    saved = fake.pages[PID].current
    assert (saved.number, saved.message, saved.minor_edit) == (2, entry_message(DATE), True)
    assert result.plan is not None and saved.storage == result.plan.body
    assert saved.storage.count("Added “Tech Radar” in H1.") == 1
    # The published body parses to the very same roadmap: the next sync sees no change.
    assert diff_roadmaps(roadmap_of(CURRENT), roadmap_of(saved.storage)) == []
    assert roadmap_of(saved.storage).items == roadmap_of(CURRENT).items
    # Publishing again finds the entry and sends nothing.
    again = publish(client, PID, Builder(previous_of(CURRENT)), dry_run=False)
    assert again.status == "already-published" and puts(fake) == 1
    assert len(fake.pages[PID].versions) == 2


def other_edit(storage: str, n: int = 1) -> str:
    """Someone else's edit: a card renamed in the table."""
    return storage.replace("Remove XServer", f"Remove XServer (done {n})", 1)


def test_concurrent_edit_is_rebuilt_and_preserved(
    fake: FakeConfluence, client: ConfluenceClient
) -> None:
    def someone_saves(call: int, doc: Document) -> None:
        if call == 1:  # between our read of v1 and our write
            fake.add_version(PID, other_edit(doc.bodies["storage"]), message="Bob's edit")

    build = Builder(previous_of(CURRENT), someone_saves)
    result = publish(client, PID, build, dry_run=False)
    assert result.status == "published"
    assert build.seen == [1, 2]  # rebuilt from the new version
    assert (result.version_read, result.version, result.attempts, result.conflicts) == (2, 3, 2, 1)
    assert puts(fake) == 2
    versions = fake.pages[PID].versions
    assert [v.message for v in versions] == ["v1", "Bob's edit", entry_message(DATE)]
    final = versions[-1].storage
    assert "Remove XServer (done 1)" in final  # Bob's edit survived
    assert roadmap_of(final).items == roadmap_of(versions[1].storage).items
    sentences = [h.text for h in roadmap_of(final).history if h.date == DATE]
    # The entry describes Bob's version too (his rename is part of what changed since before).
    assert any("Remove XServer (done 1)" in s for s in sentences)
    assert "Added “Tech Radar” in H1." in sentences


@pytest.mark.parametrize("status", [409, 500])
def test_lost_answer_after_a_successful_save_is_not_a_duplicate(
    fake: LossyConfluence, client: ConfluenceClient, status: int
) -> None:
    fake.lose_status = status
    result = publish(client, PID, Builder(previous_of(CURRENT)), dry_run=False)
    assert result.status == "published"
    assert (result.version, result.attempts) == (2, 1)
    assert puts(fake) == 1
    assert "answer was lost" in result.message
    versions = fake.pages[PID].versions
    assert len(versions) == 2
    assert versions[-1].storage.count("Added “Tech Radar” in H1.") == 1


def test_server_error_without_a_save_is_retried(
    fake: FakeConfluence, client: ConfluenceClient
) -> None:
    fake.fail(500, method="PUT", body={"statusCode": 500, "message": "boom"})
    result = publish(client, PID, Builder(previous_of(CURRENT)), dry_run=False)
    assert result.status == "published"
    assert (result.version, result.attempts, result.conflicts) == (2, 2, 0)
    assert puts(fake) == 2
    assert len(fake.pages[PID].versions) == 2


def test_forbidden_says_the_token_cannot_edit(
    fake: FakeConfluence, client: ConfluenceClient
) -> None:
    fake.fail(403, method="PUT", body={"statusCode": 403, "message": "Not permitted"})
    with pytest.raises(FetchError, match=f"the token can read but not edit page {PID}") as err:
        publish(client, PID, Builder(previous_of(CURRENT)), dry_run=False)
    assert "\n" not in str(err.value)
    assert puts(fake) == 1
    assert len(fake.pages[PID].versions) == 1


def test_retries_exhausted_is_a_clear_error(fake: FakeConfluence, client: ConfluenceClient) -> None:
    def always_someone(call: int, doc: Document) -> None:
        fake.add_version(PID, other_edit(doc.bodies["storage"], call), message=f"edit {call}")

    build = Builder(previous_of(CURRENT), always_someone)
    with pytest.raises(FetchError, match=r"could not publish .* page 1812037671.*3 attempts"):
        publish(client, PID, build, dry_run=False, retries=2)
    assert puts(fake) == 3
    assert len(build.seen) == 3
    assert all(v.message != entry_message(DATE) for v in fake.pages[PID].versions)


def test_nothing_to_publish(fake: FakeConfluence, client: ConfluenceClient) -> None:
    result = publish(client, PID, lambda doc: None, dry_run=False)
    assert result.status == "no-changes" and result.plan is None
    same = Builder(roadmap_of(CURRENT))
    assert publish(client, PID, same, dry_run=False).status == "no-changes"
    assert puts(fake) == 0


def test_missing_section_fails_before_any_put(
    fake: FakeConfluence, client: ConfluenceClient
) -> None:
    no_history = CURRENT[: CURRENT.index("<h2>Change History</h2>")]
    fake.add_version(PID, no_history, message="history removed")
    build = Builder(previous_of(CURRENT))
    with pytest.raises(WikisyncError, match="--create-section"):
        publish(client, PID, build, dry_run=False)
    assert puts(fake) == 0
    result = publish(client, PID, build, dry_run=False, create_section=True)
    assert result.status == "published" and result.version == 3
    assert fake.pages[PID].current.storage.startswith(no_history + "<h2>Change History</h2><ul>")
