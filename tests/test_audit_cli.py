"""`wikisync audit` on the bundled example: the command a review gate runs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from wikisync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "openedx-roadmap-example"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config.toml"), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_audit_of_the_bundled_example_fails_the_gate_on_undocumented_changes() -> None:
    code, out, _ = run("audit", "--page", EXAMPLE)
    assert code == 1
    assert "16 written changes: 16 confirmed, 0 inaccurate, 0 not found, 0 unverifiable" in out
    assert "13 undocumented" in out


def test_audit_json_is_the_documented_schema() -> None:
    code, out, _ = run("audit", "--page", EXAMPLE, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["schema"] == "wikisync.audit/1"
    assert doc["summary"]["confirmed"] == 16 and doc["summary"]["undocumented"] == 13
    assert {e["status"] for e in doc["entries"]} == {"confirmed"}
    assert all(len(u["versions"]) == 2 for u in doc["undocumented"])


def test_audit_of_an_older_history_passes_the_gate() -> None:
    # v4's own Change History describes every change up to v4, and nothing is left out
    code, out, _ = run("audit", "--page", EXAMPLE, "--history-from", "v4")
    assert code == 0, out
    assert "0 undocumented" in out


def test_audit_since_and_errors() -> None:
    code, out, _ = run("audit", "--page", EXAMPLE, "--since", "2021-01-01", "--format", "json")
    doc = json.loads(out)
    assert {e["date"] for e in doc["entries"]} == {"2021-02-10"}
    code, _, err = run("audit", "--page", EXAMPLE, "--since", "last week")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = run("audit", "--page", "no-such-page")
    assert code == 2 and "no-such-page" in err
