"""The store never writes through a planted symlink, keeps private pages private, and reads
any date reference as one line (issue 13, low items)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from roadmaps import card, page, roadmap

from wikisync.cli import cli
from wikisync.errors import StoreError
from wikisync.model import Document, Roadmap, SourceMeta
from wikisync.store import Store

PAGE = "road"
ROADMAP_HTML = (Path(__file__).parent / "data" / "openedx" / "v1.storage.html").read_text(
    encoding="utf-8"
)


def _doc(version: int) -> Document:
    return Document(
        bodies={"storage": f"<p>v{version}</p>"},
        meta=SourceMeta(version=version, when=f"2021-0{version}-01T00:00:00Z"),
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_changelog_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    store.put(PAGE, _doc(1), page())
    secret = tmp_path / "private.txt"
    secret.write_text("ssh key\n")
    secret.chmod(0o600)
    link = tmp_path / "store" / PAGE / "CHANGELOG.md"
    link.symlink_to(secret)
    with pytest.raises(StoreError, match="symlink"):
        store.append_changelog(PAGE, "- 2021-02-10")
    assert link.is_symlink() and secret.read_text() == "ssh key\n" and _mode(secret) == 0o600


def test_a_dangling_lock_symlink_is_refused_and_its_target_not_created(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    target = tmp_path / "created-by-wikisync"
    (root / ".wikisync.lock").symlink_to(target)
    with pytest.raises(StoreError, match="symlink"), Store(root).lock():
        pass
    assert not target.exists()


def test_a_page_directory_symlink_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / PAGE).symlink_to(elsewhere, target_is_directory=True)
    store = Store(root)
    with pytest.raises(StoreError, match="symlink"):
        store.put(PAGE, _doc(1), page())
    with pytest.raises(StoreError, match="symlink"):
        store.append_changelog(PAGE, "- 2021-02-10")
    assert list(elsewhere.iterdir()) == []


def test_a_private_page_is_stored_0700_and_0600(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    snap, _ = store.put(PAGE, _doc(1), page(), private=True)
    pdir = tmp_path / "store" / PAGE
    assert _mode(pdir) == 0o700 and _mode(snap.path) == 0o700
    assert {_mode(f) for f in snap.path.iterdir()} == {0o600}
    later, _ = store.put(PAGE, _doc(2), page())  # a private page stays private
    assert {_mode(f) for f in later.path.iterdir()} == {0o600}
    store.append_changelog(PAGE, "- 2021-02-10")
    assert _mode(pdir / "CHANGELOG.md") == 0o600


def test_the_last_day_of_the_calendar_is_a_reference_not_an_internal_error(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "store")
    snap, _ = store.put(PAGE, _doc(1), page())
    assert store.resolve(f"{PAGE}@9999-12-31") == snap
    with pytest.raises(StoreError, match="out of range"):
        store.resolve(f"{PAGE}@9999-12-31T23:59:59-01:00")
    runner = CliRunner()
    ok = runner.invoke(cli, ["--store", str(tmp_path / "store"), "parse", f"{PAGE}@9999-12-31"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        cli, ["--store", str(tmp_path / "store"), "parse", f"{PAGE}@9999-12-31T23:59:59-01:00"]
    )
    assert bad.exit_code == 2 and "internal error" not in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_a_snapshot_of_a_page_with_credentials_is_private(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\npath = "store"\n\n[[page]]\nname = "road"\n'
        'base_url = "https://wiki.example.org/wiki"\npage_id = "42"\nauth = "bearer"\n',
        encoding="utf-8",
    )
    config.chmod(0o600)
    source = tmp_path / "page.html"
    source.write_text(ROADMAP_HTML, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "snapshot", str(source), "--page", PAGE]
    )
    assert result.exit_code == 0, result.output
    (snap,) = Store(tmp_path / "store").snapshots(PAGE)
    assert _mode(tmp_path / "store" / PAGE) == 0o700
    assert {_mode(f) for f in snap.path.iterdir()} == {0o600}


def test_reparse_never_writes_through_a_symlinked_snapshot(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    snap, _ = store.put(PAGE, _doc(1), page())
    elsewhere = tmp_path / "elsewhere"
    snap.path.rename(elsewhere)
    snap.path.symlink_to(elsewhere, target_is_directory=True)
    before = (elsewhere / "roadmap.json").read_bytes()
    with pytest.raises(StoreError, match="symlink"):
        store.reparse(PAGE, lambda doc: roadmap_of_one())
    assert (elsewhere / "roadmap.json").read_bytes() == before


def roadmap_of_one() -> Roadmap:
    """A roadmap unlike the stored one, so reparse would rewrite roadmap.json."""
    return roadmap(card("Only card", "Q2", "make"))
