"""Snapshot store: atomic puts, references, corruption, reparse, lock, changelog."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import wikisync
from wikisync.errors import StoreError
from wikisync.model import Document, Item, Lane, Period, Roadmap, SourceMeta
from wikisync.store import Snapshot, Store, content_hash

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path("/work/shared/fixtures")
PAGE = "openedx-roadmap"


def _storage() -> str:
    path = FIXTURES / "roadmap-current.storage.html"
    if path.exists():
        return path.read_text(encoding="utf-8")
    return "<p>Toggle Docs (OEP-17) &lt;Pilot&gt; [5]</p>"


def roadmap(title: str = "Toggle Docs (OEP-17)", period: str = "FY21 Q2 (Oct-Dec)") -> Roadmap:
    return Roadmap(
        periods=[Period(label=period, short="Q2", aliases=("Koa",))],
        lanes=[Lane(label="Local Development / Make change", path=("Local Development",))],
        items=[
            Item(
                id="abc123abc123",
                title=title,
                stage="Pilot",
                orgs=("5",),
                period=period,
                lane="Local Development / Make change",
                text=f"{title} <Pilot> [5]",
            )
        ],
        legend={"5": "Overhang.io", "1": "edX"},
        title="Roadmap supported with the Community",
    )


def doc(body: str, version: int | None = None, when: str | None = None, **bodies: str) -> Document:
    return Document(
        bodies={"storage": body, **bodies},
        meta=SourceMeta(page="1812037671", version=version, when=when, author="Ann", source="v1"),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def three(store: Store) -> list[Snapshot]:
    """Three versions: v1 on Jan 5, v2 and v3 on Feb 10 (09:00 and 15:30 UTC)."""
    out = []
    for n, when in ((1, "2021-01-05T10:00:00.000Z"), (2, "2021-02-10T09:00:00Z"), (3, None)):
        d = doc(f"<p>version {n}</p>", version=n, when=when or "2021-02-10T16:30:00+01:00")
        snap, created = store.put(PAGE, d, roadmap(f"Card {n}"))
        assert created
        out.append(snap)
    return out


def dirs(store: Store, page: str = PAGE) -> list[str]:
    return sorted(p.name for p in (store.root / page).iterdir())


# ---------------------------------------------------------------- put


def test_put_writes_layout_and_round_trips(store: Store) -> None:
    body = _storage() + "\r\nnon-ASCII: “Backlog” é\n"
    d = doc(body, version=30, when="2021-02-10T15:04:05.123Z", view="<div>view</div>")
    snap, created = store.put(PAGE, d, roadmap())
    assert created
    digest = content_hash(d.bodies)
    assert snap.id == f"20210210T150405Z-v30-{digest[:12]}"
    assert snap.hash == digest
    assert snap.when == "2021-02-10T15:04:05.123Z"
    assert snap.version == 30 and snap.author == "Ann"
    assert snap.formats == ("storage", "view")
    files = sorted(p.name for p in snap.path.iterdir())
    assert files == ["body.storage.xml", "body.view.html", "meta.json", "roadmap.json"]
    assert (snap.path / "body.storage.xml").read_bytes() == body.encode("utf-8")
    meta = json.loads((snap.path / "meta.json").read_text())
    assert meta["schema"] == "wikisync.snapshot/1"
    assert meta["hash"] == digest and meta["page"] == PAGE
    assert meta["formats"] == ["storage", "view"]
    assert meta["parser"] == wikisync.__version__
    assert meta["source"] == d.meta.to_json()
    assert meta["stored_at"].endswith("Z")
    rm_text = (snap.path / "roadmap.json").read_text()
    assert rm_text == json.dumps(roadmap().to_json(), sort_keys=True, separators=(",", ":")) + "\n"
    assert store.document(snap) == d
    assert store.roadmap(snap) == roadmap()
    assert store.pages() == [PAGE]


def test_content_hash_is_sorted_by_format() -> None:
    a = content_hash({"view": "V", "storage": "S"})
    b = content_hash({"storage": "S", "view": "V"})
    assert a == b == hashlib.sha256(b"storage\0S\0view\0V\0").hexdigest()


def test_identical_bodies_are_a_no_op(store: Store) -> None:
    first, created = store.put(
        PAGE, doc("<p>a</p>", version=3, when="2021-01-01T00:00:00Z"), roadmap()
    )
    assert created
    before = dirs(store)
    # Same bodies fetched again later, with other metadata and another roadmap: nothing written.
    again, created = store.put(PAGE, doc("<p>a</p>", version=4), roadmap("Other"))
    assert not created
    assert again == first
    assert dirs(store) == before
    assert store.roadmap(again) == roadmap()


def test_a_restore_is_a_version_of_its_own(store: Store) -> None:
    a1, _ = store.put(PAGE, doc("<p>a</p>", version=1, when="2021-01-01T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>b</p>", version=2, when="2021-01-02T00:00:00Z"), roadmap("B"))
    # v1's content again, as v3: a revert, stored so the history shows it
    a3, created = store.put(
        PAGE, doc("<p>a</p>", version=3, when="2021-01-03T00:00:00Z"), roadmap()
    )
    assert created and a3.hash == a1.hash and a3.version == 3
    # the same version (or an unversioned copy) again: a no-op
    assert store.put(PAGE, doc("<p>a</p>", version=3), roadmap())[1] is False
    assert store.put(PAGE, doc("<p>a</p>", version=1), roadmap())[1] is False
    assert store.put(PAGE, doc("<p>b</p>"), roadmap("B"))[1] is False
    assert [s.version for s in store.snapshots(PAGE)] == [1, 2, 3]


def test_two_stores_see_each_others_puts(store: Store) -> None:
    """put() keeps its own index of the page; a write by another Store (another process, in
    real life) must still count, for deduplication and for which snapshot is the latest."""
    other = Store(store.root)
    store.put(PAGE, doc("<p>a</p>", version=1, when="2021-01-01T00:00:00Z"), roadmap())
    other.put(PAGE, doc("<p>b</p>", version=2, when="2021-01-02T00:00:00Z"), roadmap("B"))
    # the other Store's v2 is the latest: the same bodies again are a no-op here too
    assert store.put(PAGE, doc("<p>b</p>"), roadmap("B"))[1] is False
    # and v1's bodies as v3 are a restore, not "the same as the latest"
    assert store.put(PAGE, doc("<p>a</p>", 3, "2021-01-03T00:00:00Z"), roadmap())[1] is True
    assert other.put(PAGE, doc("<p>a</p>", version=3), roadmap())[1] is False
    assert [s.version for s in other.snapshots(PAGE)] == [1, 2, 3]
    # a snapshot removed behind the Store's back is not used for deduplication any more
    gone = store.resolve(f"{PAGE}@v2")
    shutil.rmtree(gone.path)
    again, created = store.put(PAGE, doc("<p>b</p>", 2, "2021-01-02T00:00:00Z"), roadmap("B"))
    assert created and again.id == gone.id


def test_put_answers_as_a_fresh_store_would(store: Store) -> None:
    """Versions stored out of date order: the Store that stored them and a fresh one pick the
    same existing snapshot for an identical unversioned body (the oldest)."""
    store.put(PAGE, doc("<p>a</p>", 3, "2021-01-03T00:00:00Z"), roadmap())
    store.put(PAGE, doc("<p>b</p>", 4, "2021-01-04T00:00:00Z"), roadmap("B"))
    v1, created = store.put(PAGE, doc("<p>a</p>", 1, "2021-01-01T00:00:00Z"), roadmap())
    assert created
    again, created = store.put(PAGE, doc("<p>a</p>"), roadmap())
    assert not created and again.id == v1.id
    assert Store(store.root).put(PAGE, doc("<p>a</p>"), roadmap())[0].id == v1.id


def test_put_lists_the_page_once_not_on_every_put(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill of N versions must not list N snapshots N times (O(N²) stats)."""
    Store(store.root).put(PAGE, doc("<p>first</p>", 0, "2020-12-31T00:00:00Z"), roadmap())
    listings = []
    original = Store.snapshots

    def counting(self: Store, page: str) -> list[Snapshot]:
        listings.append(page)
        return original(self, page)

    monkeypatch.setattr(Store, "snapshots", counting)
    for n in range(1, 31):
        body = f"<p>{n % 20}</p>"  # versions 21-30 restore the bodies of 1-10
        store.put(PAGE, doc(body, n, f"2021-01-{n:02d}T00:00:00Z"), roadmap(f"C{n}"))
        assert store.put(PAGE, doc(body, n), roadmap(f"C{n}"))[1] is False
    assert listings == [PAGE]
    monkeypatch.setattr(Store, "snapshots", original)
    assert [s.version for s in store.snapshots(PAGE)] == list(range(31))


def test_when_defaults_to_now(store: Store) -> None:
    snap, _ = store.put(PAGE, doc("<p>a</p>"), roadmap())
    assert snap.when == snap.stored_at and snap.when.endswith("Z")
    assert snap.version is None and "-v0-" in snap.id


def test_leftover_tmp_dir_is_ignored_and_cleaned(store: Store) -> None:
    store.put(PAGE, doc("<p>a</p>", 1, "2021-01-01T00:00:00Z"), roadmap())
    # A killed put left a half-written directory behind (no meta.json).
    tmp = store.root / PAGE / ".tmp-0123456789abcdef"
    tmp.mkdir()
    (tmp / "body.storage.xml").write_text("<p>half")
    assert [s.version for s in store.snapshots(PAGE)] == [1]
    assert store.resolve(PAGE).version == 1
    _, created = store.put(PAGE, doc("<p>b</p>", 2, "2021-01-02T00:00:00Z"), roadmap())
    assert created
    assert not tmp.exists()
    assert not [n for n in dirs(store) if n.startswith(".")]
    assert [s.version for s in store.snapshots(PAGE)] == [1, 2]


def test_crash_before_rename_leaves_no_snapshot(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "rename", boom)
    with pytest.raises(StoreError, match="cannot write snapshot"):
        store.put(PAGE, doc("<p>a</p>"), roadmap())
    monkeypatch.undo()
    assert dirs(store) == []
    assert store.snapshots(PAGE) == []


def test_existing_snapshot_is_never_overwritten(store: Store) -> None:
    old_doc = doc("<p>old</p>", 5, "2021-03-01T00:00:00Z")
    old, _ = store.put(PAGE, old_doc, roadmap())
    new_doc = doc("<p>new</p>", 5, "2021-03-01T00:00:00Z")
    target = store.root / PAGE / f"20210301T000000Z-v5-{content_hash(new_doc.bodies)[:12]}"
    old.path.rename(target)  # a valid snapshot already sits where the new one would go
    with pytest.raises(StoreError, match="already exists; refusing to overwrite"):
        store.put(PAGE, new_doc, roadmap())
    assert (target / "body.storage.xml").read_text() == "<p>old</p>"
    assert dirs(store) == [target.name]


def test_full_disk_leaves_nothing_half_written(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(PAGE, doc("<p>a</p>", 1, "2021-01-01T00:00:00Z"), roadmap())
    before = dirs(store)
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StoreError, match="disk is full") as info:
        store.put(PAGE, doc("<p>b</p>", 2, "2021-01-02T00:00:00Z"), roadmap())
    assert "\n" not in str(info.value)
    monkeypatch.undo()
    assert dirs(store) == before
    assert [s.version for s in store.snapshots(PAGE)] == [1]


def test_read_only_store(store: Store) -> None:
    store.put(PAGE, doc("<p>a</p>", 1, "2021-01-01T00:00:00Z"), roadmap())
    pdir = store.root / PAGE
    before = dirs(store)
    pdir.chmod(0o555)
    store.root.chmod(0o555)
    try:
        if os.access(pdir, os.W_OK):
            pytest.skip("running as root: chmod does not make the store read-only")
        with pytest.raises(StoreError, match="read-only"):
            store.put(PAGE, doc("<p>b</p>", 2), roadmap())
        with pytest.raises(StoreError, match="read-only"):
            store.put("other-page", doc("<p>b</p>", 2), roadmap())
        with pytest.raises(StoreError):
            store.append_changelog(PAGE, "entry")
        assert dirs(store) == before
        assert store.pages() == [PAGE]
    finally:
        store.root.chmod(0o755)
        pdir.chmod(0o755)


def test_invalid_page_names_are_refused(store: Store) -> None:
    for name in ("..", ".", "../etc", "a/b", ".hidden", "", "a b"):
        with pytest.raises(StoreError, match="invalid page name"):
            store.put(name, doc("<p>a</p>"), roadmap())
    assert not store.root.exists() or store.pages() == []


def test_unknown_body_format_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown body format"):
        store.put(PAGE, Document(bodies={"pdf": "x"}), roadmap())


# ---------------------------------------------------------------- listing and references


def test_snapshots_oldest_first(store: Store, three: list[Snapshot]) -> None:
    assert [s.version for s in store.snapshots(PAGE)] == [1, 2, 3]
    assert store.snapshots("unknown-page") == []
    assert three[2].when == "2021-02-10T15:30:00Z"  # normalised to UTC
    assert three[0].when == "2021-01-05T10:00:00Z"


def test_snapshots_order_ties_by_version(store: Store) -> None:
    when = "2021-05-01T00:00:00Z"
    store.put(PAGE, doc("<p>b</p>", 12, when), roadmap())
    store.put(PAGE, doc("<p>a</p>", 11, when), roadmap())
    assert [s.version for s in store.snapshots(PAGE)] == [11, 12]


@pytest.mark.parametrize(
    ("ref", "version"),
    [
        (PAGE, 3),
        (f"{PAGE}@latest", 3),
        (f"{PAGE}@latest~0", 3),
        (f"{PAGE}@latest~1", 2),
        (f"{PAGE}@latest~2", 1),
        (f"{PAGE}@v2", 2),
        (f"{PAGE}@v1", 1),
        (f"{PAGE}@2021-02-10", 3),
        (f"{PAGE}@2021-02-09", 1),
        (f"{PAGE}@2021-01-05", 1),
        (f"{PAGE}@2021-12-31", 3),
        (f"{PAGE}@2021-02-10T12:00:00Z", 2),
        (f"{PAGE}@2021-02-10T09:00:00Z", 2),
        (f"{PAGE}@2021-02-10T08:59:59Z", 1),
        (f"{PAGE}@2021-02-10T12:00:00+05:00", 1),  # 07:00 UTC
        (f"{PAGE}@2021-02-10T15:30:00", 3),  # naive = UTC
    ],
)
def test_resolve_forms(store: Store, three: list[Snapshot], ref: str, version: int) -> None:
    assert store.resolve(ref).version == version


def test_resolve_by_id_and_hash_prefix(store: Store, three: list[Snapshot]) -> None:
    snap = three[1]
    assert store.resolve(f"{PAGE}@{snap.id}") == snap
    assert store.resolve(f"{PAGE}@{snap.hash[:6]}") == snap
    assert store.resolve(f"{PAGE}@{snap.hash.upper()}") == snap


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope@latest", "unknown page 'nope' .*known pages: openedx-roadmap"),
        ("nope", "unknown page 'nope'"),
        (f"{PAGE}@latest~3", "no such version .*only 3 snapshot"),
        (f"{PAGE}@v9", r"no such version .*stored: v1, v2, v3"),
        (f"{PAGE}@ffffff", "no such version"),
        (f"{PAGE}@20990101T000000Z-v1-0123456789ab", "no snapshot with that id"),
        (f"{PAGE}@2021-01-04", "no version .* at 2021-01-04: the first snapshot is from"),
        (f"{PAGE}@2021-01-05T09:59:59Z", "the first snapshot is from 2021-01-05T10:00:00Z"),
        (f"{PAGE}@2021-13-01", "malformed snapshot reference .*not a valid date"),
        (f"{PAGE}@", "malformed snapshot reference"),
        (f"{PAGE}@yesterday", "malformed snapshot reference"),
        (f"{PAGE}@abcde", "malformed snapshot reference"),  # hash prefix too short
        (f"{PAGE}@v", "malformed snapshot reference"),
        ("../x@latest", "malformed snapshot reference"),
        ("@latest", "malformed snapshot reference"),
    ],
)
def test_resolve_errors(store: Store, three: list[Snapshot], ref: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        store.resolve(ref)
    assert "\n" not in str(info.value)


def test_resolve_ambiguous_hash_prefix(store: Store) -> None:
    seen: dict[str, str] = {}
    pair: tuple[str, str] | None = None
    for i in range(200_000):
        body = f"<p>{i}</p>"
        prefix = content_hash({"storage": body})[:6]
        if prefix in seen:
            pair = (seen[prefix], body)
            break
        seen[prefix] = body
    assert pair is not None
    for n, body in enumerate(pair):
        store.put(PAGE, doc(body, n + 1, f"2021-01-0{n + 1}T00:00:00Z"), roadmap())
    prefix = content_hash({"storage": pair[0]})[:6]
    with pytest.raises(StoreError, match="ambiguous snapshot reference"):
        store.resolve(f"{PAGE}@{prefix}")


def test_page_without_snapshots(store: Store) -> None:
    (store.root / PAGE).mkdir(parents=True)
    with pytest.raises(StoreError, match="has no snapshots"):
        store.resolve(PAGE)


# ---------------------------------------------------------------- corruption


def test_corrupt_meta_is_an_error(store: Store, three: list[Snapshot]) -> None:
    meta = three[1].path / "meta.json"
    meta.write_text('{"schema": "wikisync.snapshot/1", "hash": ')
    with pytest.raises(StoreError, match="corrupt snapshot metadata") as info:
        store.snapshots(PAGE)
    assert str(meta) in str(info.value)
    with pytest.raises(StoreError, match="corrupt"):
        store.resolve(f"{PAGE}@latest")


def test_missing_meta_is_an_error(store: Store, three: list[Snapshot]) -> None:
    (three[0].path / "meta.json").unlink()
    with pytest.raises(StoreError, match=r"meta\.json is missing") as info:
        store.snapshots(PAGE)
    assert str(three[0].path) in str(info.value)


def test_meta_with_wrong_schema(store: Store, three: list[Snapshot]) -> None:
    meta = three[0].path / "meta.json"
    d = json.loads(meta.read_text())
    d["schema"] = "something/2"
    meta.write_text(json.dumps(d))
    with pytest.raises(StoreError, match="schema"):
        store.snapshots(PAGE)


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"schema": "wikisync.roadmap/1", "items": [{"title": "no id"}]}', "[]", "{}"],
)
def test_corrupt_roadmap_is_an_error(store: Store, three: list[Snapshot], content: str) -> None:
    path = three[0].path / "roadmap.json"
    path.write_text(content)
    with pytest.raises(StoreError, match="corrupt roadmap") as info:
        store.roadmap(three[0])
    assert str(path) in str(info.value)


def test_missing_body_is_an_error(store: Store, three: list[Snapshot]) -> None:
    (three[0].path / "body.storage.xml").unlink()
    with pytest.raises(StoreError, match=r"body\.storage\.xml is missing"):
        store.document(three[0])


# ---------------------------------------------------------------- reparse


def test_reparse_rewrites_roadmaps_only(store: Store, three: list[Snapshot]) -> None:
    def raw_files() -> dict[str, bytes]:
        return {
            str(p): p.read_bytes()
            for s in three
            for p in s.path.iterdir()
            if p.name != "roadmap.json"
        }

    before = raw_files()
    seen: list[str] = []

    def parse(d: Document) -> Roadmap:
        seen.append(d.bodies["storage"])
        # Pretend a newer parser renamed the card of version 2 only.
        text = d.bodies["storage"]
        return roadmap("Renamed" if "version 2" in text else f"Card {text[-5]}")

    assert store.reparse(PAGE, parse) == 1
    assert seen == ["<p>version 1</p>", "<p>version 2</p>", "<p>version 3</p>"]
    assert store.roadmap(three[1]).items[0].title == "Renamed"
    assert store.roadmap(three[0]).items[0].title == "Card 1"
    assert raw_files() == before
    assert not [p for s in three for p in s.path.iterdir() if p.name.startswith(".tmp")]
    assert store.reparse(PAGE, parse) == 0


def test_reparse_repairs_a_corrupt_roadmap(store: Store, three: list[Snapshot]) -> None:
    (three[2].path / "roadmap.json").write_text("garbage")
    assert store.reparse(PAGE, lambda d: roadmap(f"Card {d.bodies['storage'][-5]}")) == 1
    assert store.roadmap(three[2]) == roadmap("Card 3")


# ---------------------------------------------------------------- lock


@pytest.fixture
def holder(store: Store) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the store lock until its stdin closes."""
    code = (
        "import sys\n"
        "from wikisync.store import Store\n"
        f"with Store({str(store.root)!r}).lock():\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_lock_held_by_another_process(store: Store, holder: subprocess.Popen[str]) -> None:
    lock_path = store.root / ".wikisync.lock"
    with (
        pytest.raises(StoreError, match="another wikisync run holds the lock on") as info,
        store.lock(),
    ):
        pass
    assert str(lock_path) in str(info.value)
    start = time.monotonic()
    with pytest.raises(StoreError, match="holds the lock"), store.lock(wait=0.3):
        pass
    assert time.monotonic() - start >= 0.3


def test_lock_waits_for_release(store: Store, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()  # the holder exits and releases the lock shortly
    with store.lock(wait=10):
        assert (store.root / ".wikisync.lock").exists()


def test_lock_released_when_holder_dies(store: Store, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    with store.lock():
        pass


def test_lock_released_on_exit(store: Store) -> None:
    with store.lock():
        pass
    with store.lock():
        pass
    with pytest.raises(RuntimeError), store.lock():
        raise RuntimeError("boom")
    with store.lock():
        pass


# ---------------------------------------------------------------- changelog


def test_changelog_newest_on_top(store: Store) -> None:
    store.append_changelog(PAGE, "## 2021-02-10\n\n- Moved “A” from Q2 to Q3.\n")
    store.append_changelog(PAGE, "## 2021-03-01\n\n- Added “B” to Q4.")
    store.append_changelog(PAGE, "   \n")  # nothing to add
    text = (store.root / PAGE / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text == (
        f"# Change History — {PAGE}\n\n"
        "## 2021-03-01\n\n- Added “B” to Q4.\n\n"
        "## 2021-02-10\n\n- Moved “A” from Q2 to Q3.\n"
    )
    assert text.count("# Change History") == 1
    assert not [n for n in dirs(store) if n.startswith(".tmp")]
    # The changelog is not a snapshot.
    assert store.snapshots(PAGE) == []
