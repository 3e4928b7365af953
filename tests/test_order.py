"""A page's versions are ordered by its own version number; a date is display only (issue 12.1).

Reproduces the stand-in's ``--versions 7`` case: the seven bundled versions carry dates up to
2021-06-01, while an edit saved afterwards (the fake server dates version N at 2021-01-04 + N
weeks) carries an earlier date. A server clock, an import or a restored version does the same
on a real wiki. Versionless snapshots (``snapshot FILE`` without ``--version``) fall back to
their date: each goes right after the highest version dated on or before it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_store import doc, roadmap
from test_sync import PID, TITLE, VIEW, WHEN, V, cfg, run

from wikisync.audit import audit_page
from wikisync.store import Store
from wikisync.sync import MARKER_RE

PAGE = "roadmap"
__all__ = ["cfg"]  # the stand-in's config, on this module's `fake`


# --------------------------------------------------------------------------- the store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


def versions(store: Store, page: str = PAGE) -> list[int | None]:
    return [s.version for s in store.snapshots(page)]


def test_version_number_orders_not_the_date(store: Store) -> None:
    store.put(PAGE, doc("<p>7</p>", 7, "2021-06-01T16:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>8</p>", 8, "2021-02-22T09:30:00Z"), roadmap())  # dated earlier
    store.put(PAGE, doc("<p>9</p>", 9, "2021-03-01T09:30:00Z"), roadmap())
    assert versions(store) == [7, 8, 9]
    assert store.resolve(PAGE).version == 9
    assert store.resolve(f"{PAGE}@latest~1").version == 8
    assert store.resolve(f"{PAGE}@latest~2").version == 7
    # @DATE: the newest version (in version order) dated on or before that day.
    assert store.resolve(f"{PAGE}@2021-02-22").version == 8
    assert store.resolve(f"{PAGE}@2021-05-31").version == 9
    assert store.resolve(f"{PAGE}@2021-06-01").version == 9


def test_a_fresh_store_and_the_writing_store_agree_on_latest(store: Store, tmp_path: Path) -> None:
    """put() keeps its own idea of the latest snapshot: it must be the listing's last one."""
    for n, when in ((3, "2021-05-01"), (1, "2021-07-01"), (2, "2021-01-01")):
        store.put(PAGE, doc(f"<p>{n}</p>", n, f"{when}T00:00:00Z"), roadmap())
    # The same body as the latest (v3) again, without a number: a no-op only if v3 is latest.
    snap, created = store.put(PAGE, doc("<p>3</p>"), roadmap())
    assert (snap.version, created) == (3, False)
    snap, created = store.put(PAGE, doc("<p>1</p>"), roadmap())  # v1's body: an old one
    assert (snap.version, created) == (1, False)
    assert versions(Store(tmp_path / "store")) == [1, 2, 3]


def test_versionless_snapshots_fall_back_to_their_date(store: Store, tmp_path: Path) -> None:
    store.put(PAGE, doc("<p>a</p>", None, "2021-01-01T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>v2</p>", 2, "2021-03-01T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>b</p>", None, "2021-04-01T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>v1</p>", 1, "2021-05-01T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>c</p>", None, "2021-02-01T00:00:00Z"), roadmap())
    got = [(s.version, s.when[:10]) for s in store.snapshots(PAGE)]
    # "a" and "c" are older than every numbered version; "b" follows v2 (dated before it);
    # v1 is dated after "b" but a lower number than v2, so it cannot come after v2.
    assert got == [
        (None, "2021-01-01"),
        (None, "2021-02-01"),
        (1, "2021-05-01"),
        (2, "2021-03-01"),
        (None, "2021-04-01"),
    ]
    assert store.resolve(PAGE).when.startswith("2021-04-01")
    snap, created = store.put(PAGE, doc("<p>b</p>"), roadmap())  # the latest again: a no-op
    assert (snap.when[:10], created) == ("2021-04-01", False)
    assert [s.id for s in Store(tmp_path / "store").snapshots(PAGE)] == [
        s.id for s in store.snapshots(PAGE)
    ]


def test_only_versionless_snapshots_go_by_date(store: Store) -> None:
    for day in ("03", "01", "02"):
        store.put(PAGE, doc(f"<p>{day}</p>", None, f"2021-01-{day}T00:00:00Z"), roadmap())
    assert [s.when[8:10] for s in store.snapshots(PAGE)] == ["01", "02", "03"]
    assert store.resolve(PAGE).when.startswith("2021-01-03")


# --------------------------------------------------------------------------- sync, log, audit


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    """The stand-in as `scripts/fake_confluence.py --versions 7` serves it."""
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, TITLE, V[1], VIEW, when=WHEN[1], author=("Ann", "a-1"))
    for n in range(2, 8):
        fake.add_version(PID, V[n], VIEW, when=WHEN[n], author=("Ann", "a-1"))
    return fake


def test_sync_sees_a_new_version_dated_before_the_newest_stored(
    fake: FakeConfluence, cfg: Path
) -> None:
    assert run(cfg, "sync")[0] == 0  # first snapshot: v7 of 2021-06-01
    # An edit saved now gets the stand-in's date for version 8: 2021-02-22, before v7's.
    number = fake.add_version(PID, V[6], VIEW, author=("Bob", "b-2"))
    assert number == 8 and fake.pages[PID].current.when < WHEN[7]

    code, out, err = run(cfg, "sync", "--exit-code")
    assert (code, err) == (1, ""), out
    lines = out.splitlines()
    assert lines[:2] == [f"{PAGE}: v8 stored", f"{PAGE}: changes from v7 to v8"]
    assert "no roadmap changes" not in out

    store = Store(cfg.parent / "store")
    snaps = store.snapshots(PAGE)
    assert [s.version for s in snaps] == [7, 8]
    log = (cfg.parent / "store" / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    pairs = [(m["old"], m["new"]) for m in MARKER_RE.finditer(log) if m["old"]]
    assert pairs == [(snaps[0].id, snaps[1].id)]
    assert f"## {lines[2].removeprefix('- ')}\n" in log  # the entry's date, in CHANGELOG.md

    code, out, _ = run(cfg, "log", "--page", PAGE)
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["v8", "v7"]

    code, out, _ = run(cfg, "history", "--page", PAGE, "--format", "json")
    assert code == 0 and '"version": 8' in out

    report = audit_page(store, PAGE)
    assert report.history_version == 8

    # A third edit, again dated between the two: still one entry per consecutive pair.
    fake.add_version(PID, V[7], VIEW, author=("Bob", "b-2"))
    code, out, _ = run(cfg, "sync", "--exit-code")
    assert code == 1 and out.splitlines()[:2] == [
        f"{PAGE}: v9 stored",
        f"{PAGE}: changes from v8 to v9",
    ]
    snaps = store.snapshots(PAGE)
    log = (cfg.parent / "store" / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    pairs = [(m["old"], m["new"]) for m in MARKER_RE.finditer(log) if m["old"]]
    assert sorted(pairs) == sorted((a.id, b.id) for a, b in itertools.pairwise(snaps))


def test_audit_never_compares_a_version_with_an_older_one(store: Store) -> None:
    """Dates running backwards (v3 dated before v2) must not make a pair v3→v2."""
    from wikisync.parse import parse_document

    dates = {1: "2020-09-10T16:00:00Z", 2: "2020-09-25T16:00:00Z", 3: "2020-09-11T16:00:00Z"}
    for n, when in dates.items():
        d = doc(V[n], n, when)
        store.put(PAGE, d, parse_document(d))
    report = audit_page(store, PAGE)
    assert report.history_version == 3
    pairs = [e.versions for e in report.entries if e.versions is not None]
    pairs += [u.versions for u in report.undocumented]
    assert pairs and all(a is not None and b is not None and a < b for a, b in pairs), pairs


def test_history_is_newest_version_first_whatever_the_dates() -> None:
    from wikisync.model import Change, ChangeSet, VersionRef, Where
    from wikisync.render import render_history

    q3 = Where("FY21 Q3 (Jan-Mar)", "Q3", "Lane")

    def cs(title: str, date: str, version: int) -> ChangeSet:
        old, new = (
            VersionRef(f"p@v{version - 1}", version - 1),
            VersionRef(f"p@v{version}", version),
        )
        return ChangeSet(old, new, [Change("Added", title, to=q3)], date)

    out = render_history([cs("Seven", "2021-06-01", 7), cs("Eight", "2021-02-22", 8)])
    assert out.index("“Eight”") < out.index("“Seven”")
