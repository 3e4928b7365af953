"""`wikisync audit --fail-on …`: an explicit gate; "verified nothing" is no pass (issue 12.3).

Exit codes: 0 the gate passed, 1 a status named by --fail-on occurred, 2 an error, 3 the audit
verified nothing (one stored version: every entry unverifiable).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_audit_cli import BUNDLED, EXAMPLE, example_config, make_run

from wikisync.audit import (
    DEFAULT_FAIL_ON,
    EXIT_NOTHING_VERIFIED,
    GATES,
    AuditError,
    audit_page,
    gate,
    parse_fail_on,
)
from wikisync.store import Store

LATEST = sorted(p.name for p in BUNDLED.iterdir() if p.is_dir())[-1]  # v7


def test_parse_fail_on() -> None:
    assert parse_fail_on("inaccurate,not-found") == DEFAULT_FAIL_ON
    assert parse_fail_on(" Undocumented , not found,inaccurate") == (
        "inaccurate",
        "not-found",
        "undocumented",
    )
    assert parse_fail_on("all") == GATES
    assert parse_fail_on("none") == ()
    for bad in ("", ",", "confirmed", "inaccurate,bogus", "all,none"):
        with pytest.raises(AuditError, match="--fail-on"):
            parse_fail_on(bad)


def test_default_gate_passes_when_every_written_entry_is_true(tmp_path: Path) -> None:
    run = make_run(example_config(tmp_path))
    code, out, err = run("audit", "--page", EXAMPLE)
    assert (code, err) == (0, "")
    assert "13 undocumented" in out


@pytest.mark.parametrize(
    ("fail_on", "code", "reason"),
    [
        ("undocumented", 1, "audit failed: 13 undocumented (--fail-on undocumented)"),
        ("all", 1, "audit failed: 13 undocumented (--fail-on " + ",".join(GATES) + ")"),
        ("inaccurate,unverifiable", 0, ""),
        ("none", 0, ""),
    ],
)
def test_fail_on_names_what_fails(tmp_path: Path, fail_on: str, code: int, reason: str) -> None:
    run = make_run(example_config(tmp_path))
    got, out, err = run("audit", "--page", EXAMPLE, "--fail-on", fail_on)
    assert (got, err) == (code, f"wikisync: {reason}\n" if reason else "")
    assert out.startswith(f"Change History audit of {EXAMPLE}\n")


def test_one_stored_version_verifies_nothing(tmp_path: Path) -> None:
    run = make_run(example_config(tmp_path, [LATEST]))
    code, out, err = run("audit", "--page", EXAMPLE)
    assert "0 confirmed" in out and "16 unverifiable" in out
    assert code == EXIT_NOTHING_VERIFIED == 3
    assert err == (
        "wikisync: audit verified nothing: 16 written change(s), none of them covered by "
        "stored versions (1 stored version; `wikisync backfill` stores a page's older "
        "versions)\n"
    )
    # --format json prints the document on stdout all the same; the reason stays on stderr
    code, out, err = run("audit", "--page", EXAMPLE, "--format", "json")
    assert code == 3 and out.startswith("{") and err.startswith("wikisync: audit verified")
    # gated on unverifiable entries, they are a failure of the gate
    code, _, err = run("audit", "--page", EXAMPLE, "--fail-on", "unverifiable")
    assert (code, err) == (1, "wikisync: audit failed: 16 unverifiable (--fail-on unverifiable)\n")
    # no gate at all still does not call nothing a pass
    assert run("audit", "--page", EXAMPLE, "--fail-on", "none")[0] == 3


def test_undocumented_gate_verifies_the_versions_without_written_entries(tmp_path: Path) -> None:
    """After the last written entry nothing is written to check, but with undocumented gated
    the changes between stored versions were checked: a pass (or a failure), not nothing."""
    store = Store(tmp_path / "store")
    shutil.copytree(BUNDLED, store.root / EXAMPLE)
    report = audit_page(store, EXAMPLE, history_from="v4", since="2020-10-27")
    assert report.entries == [] and report.undocumented == [] and report.compared == 0
    assert gate(report, ("undocumented",)).code == 3  # no pair stored after the since day
    report = audit_page(store, EXAMPLE, since="2021-03-01")
    assert report.entries == [] and report.compared == 1  # v6→v7
    assert gate(report).code == 3
    assert gate(report, ("inaccurate", "undocumented")).code == 1  # v7's edits are unwritten


def test_bad_fail_on_is_one_error_line(tmp_path: Path) -> None:
    run = make_run(example_config(tmp_path))
    code, out, err = run("audit", "--page", EXAMPLE, "--fail-on", "typo")
    assert (code, out) == (2, "")
    assert err.startswith("wikisync: error: --fail-on: unknown value typo")
    assert len(err.strip().splitlines()) == 1
