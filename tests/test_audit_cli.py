"""`wikisync audit` on the bundled example: the command a review gate runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from wikisync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"
BUNDLED = ROOT / "snapshots" / EXAMPLE

Run = Callable[..., tuple[int, str, str]]


def make_run(config: Path) -> Run:
    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    return run


def example_config(root: Path, snapshots: list[str] | None = None) -> Path:
    """A private copy of the bundled example (all its snapshots, or the named ones) and a
    config for it: nothing here depends on the repo's config.toml or on the user's store."""
    page = root / "store" / EXAMPLE
    if snapshots is None:
        shutil.copytree(BUNDLED, page)
    else:
        for name in snapshots:
            shutil.copytree(BUNDLED / name, page / name)
    path = root / "config.toml"
    path.write_text(f'[store]\npath = "store"\n\n[[page]]\nname = "{EXAMPLE}"\n', "utf-8")
    return path


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return make_run(example_config(tmp_path))


def test_audit_of_the_bundled_example_passes_the_default_gate(run: Run) -> None:
    code, out, err = run("audit", "--page", EXAMPLE)
    assert (code, err) == (0, "")  # every written entry is confirmed; later edits are reported
    assert "16 written changes: 16 confirmed, 0 inaccurate, 0 not found, 0 unverifiable" in out
    assert "13 undocumented" in out


def test_audit_json_is_the_documented_schema(run: Run) -> None:
    code, out, _ = run("audit", "--page", EXAMPLE, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.audit/1"
    assert doc["summary"]["confirmed"] == 16 and doc["summary"]["undocumented"] == 13
    assert {e["status"] for e in doc["entries"]} == {"confirmed"}
    assert all(len(u["versions"]) == 2 for u in doc["undocumented"])


def test_audit_of_an_older_history_passes_the_gate(run: Run) -> None:
    # v4's own Change History describes every change up to v4, and nothing is left out
    code, out, _ = run("audit", "--page", EXAMPLE, "--history-from", "v4")
    assert code == 0, out
    assert "0 undocumented" in out


def test_audit_since_and_errors(run: Run) -> None:
    code, out, _ = run("audit", "--page", EXAMPLE, "--since", "2021-01-01", "--format", "json")
    doc = json.loads(out)
    assert {e["date"] for e in doc["entries"]} == {"2021-02-10"}
    code, _, err = run("audit", "--page", EXAMPLE, "--since", "last week")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run("audit", "--page", "no-such-page")
    assert code == 2 and "no-such-page" in err
