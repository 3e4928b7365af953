"""Publish leaves out what the maintainers already wrote by hand (issue 12.2).

The stand-in as `scripts/fake_confluence.py --versions 2` serves it: sync stores v2, then the
editor saves v3 together with its hand-written Change History sentences for the three moves.
`audit` reports those sentences as confirmed; publish used to insert its own entry for the
same moves right below them. It now matches sentences to changes as the audit does, publishes
only the undocumented changes, and the dry run says what it left out and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluence_server import FakeConfluence
from pytest_httpserver import HTTPServer
from test_publish_cli import PID, WHEN, V, run, storage

from wikisync.audit import audit_page
from wikisync.store import Store

PAGE = "roadmap"
ONBOARDING = "Moved “Onboarding Course” from Backlog to Q4, assigned to Appsembler."
HAND_ONBOARDING = (
    "<li><p>Moved &ldquo;Doc Onboarding Course&rdquo; from Backlog to Lilac, assigned to "
    "Appsembler.</p></li>\n"
)
EVENTING = "Moved “Eventing Inter-service messaging” from Q4 to Q2."


@pytest.fixture
def fake(_server: HTTPServer) -> FakeConfluence:
    _server.clear()
    fake = FakeConfluence(_server)
    fake.add_page(PID, "Roadmap", V[1], when=WHEN[1])
    fake.add_version(PID, V[2], when=WHEN[2])
    return fake


@pytest.fixture
def cfg(fake: FakeConfluence, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "store"\n\n' + fake.config_toml(PAGE, PID), encoding="utf-8")
    assert run(path, "sync")[0] == 0  # v2 stored
    return path


def test_changes_written_by_hand_are_not_published_again(fake: FakeConfluence, cfg: Path) -> None:
    assert HAND_ONBOARDING in V[3]
    fake.add_version(PID, V[3], when=WHEN[3])  # the edit, with its hand-written entry
    code, out, err = run(cfg, "publish")
    assert (code, err) == (0, "")
    assert out.startswith("Left out, already in the page's Change History (3):\n")
    assert f"- {ONBOARDING}\n" in out
    assert (
        "    written 2020-09-25: Moved “Doc Onboarding Course” from Backlog to Lilac, "
        "assigned to Appsembler.\n"
        "    confirmed: matched “Onboarding Course” (title similarity 100, periods agree)\n"
    ) in out
    assert out.endswith(
        f"{PAGE}: page {PID} v3: nothing to publish: the Change History already describes "
        "all 3 changes of the 2020-09-25 entry\n"
    )
    assert run(cfg, "publish", "--yes")[0] == 0
    assert fake.hits(method="PUT") == 0 and storage(fake) == V[3]

    # the audit agrees: the same three sentences, confirmed
    assert run(cfg, "sync")[0] == 0
    report = audit_page(Store(cfg.parent / "store"), PAGE)
    assert [e.status for e in report.entries if e.written.date == "2020-09-25"] == ["confirmed"] * 3


def test_only_the_undocumented_change_is_published(fake: FakeConfluence, cfg: Path) -> None:
    fake.add_version(PID, V[3].replace(HAND_ONBOARDING, ""), when=WHEN[3])
    code, out, err = run(cfg, "publish")
    assert (code, err) == (0, "")
    entry, rest = out.split("--- page (now)", 1)
    assert ONBOARDING in entry and "Eventing" not in entry and "Authn" not in entry
    assert "Left out, already in the page's Change History (2):\n" in rest
    assert f"- {EVENTING}\n" in rest
    assert "(dry run: nothing was written; add --yes to publish)" in rest

    code, out, err = run(cfg, "publish", "--yes")
    assert (code, err) == (0, ""), out
    assert fake.hits(method="PUT") == 1
    body = storage(fake)
    assert ONBOARDING in body and EVENTING not in body


def test_an_inaccurate_hand_written_sentence_is_left_out_and_says_so(
    fake: FakeConfluence, cfg: Path
) -> None:
    wrong = HAND_ONBOARDING.replace("to Lilac", "to Maple")
    fake.add_version(PID, V[3].replace(HAND_ONBOARDING, wrong), when=WHEN[3])
    code, out, _ = run(cfg, "publish")
    assert code == 0
    assert f"- {ONBOARDING}\n" in out
    assert "    inaccurate: matched “Onboarding Course” " in out
    assert "written to Maple, really to Q4" in out
    assert fake.hits(method="PUT") == 0
