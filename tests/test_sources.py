"""SOURCE arguments: files, stdin, saved REST responses (v1, v2) and snapshot references."""

from __future__ import annotations

import copy
import importlib
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from wikisync.errors import SourceError, StoreError
from wikisync.model import Document, Roadmap, SourceMeta
from wikisync.sources import load_source
from wikisync.store import Store

FIXTURES = Path("/work/shared/fixtures")
STORAGE = (FIXTURES / "roadmap-current.storage.html").read_text(encoding="utf-8")
VIEW = (FIXTURES / "roadmap-current.view.html").read_text(encoding="utf-8")
BASE = "https://openedx.atlassian.net/wiki"
WEBUI = "/spaces/AC/pages/1812037671/FY21-22+Architecture+User+Story+Roadmap"


def _stub_detect_format(text: str) -> str:
    """Stand-in used only while the parser is not importable yet."""
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html")):
        return "html"
    return "storage" if "<ac:" in text or "<ri:" in text else "view"


@pytest.fixture(autouse=True)
def _detect_format(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        available = hasattr(importlib.import_module("wikisync.parse"), "detect_format")
    except ImportError:
        available = False
    if not available:
        mod = types.ModuleType("wikisync.parse")
        mod.detect_format = _stub_detect_format  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "wikisync.parse", mod)


def v1_content() -> dict[str, Any]:
    """The shape of GET /wiki/rest/api/content/{id}?expand=body.storage,body.view,version."""
    return {
        "id": "1812037671",
        "type": "page",
        "status": "current",
        "title": "FY21-22 Architecture User Story Roadmap",
        "space": {"id": 1234, "key": "AC", "name": "Architecture"},
        "version": {
            "by": {
                "type": "known",
                "accountId": "557058:0a1b2c3d",
                "accountType": "atlassian",
                "displayName": "Nimisha Asthagiri (Deactivated)",
                "publicName": "Nimisha Asthagiri",
            },
            "when": "2021-02-10T15:04:05.123Z",
            "friendlyWhen": "Feb 10, 2021",
            "message": "Moved Toggle Docs",
            "number": 30,
            "minorEdit": False,
        },
        "body": {
            "storage": {"value": STORAGE, "representation": "storage", "embeddedContent": []},
            "view": {"value": VIEW, "representation": "storage", "embeddedContent": []},
            "_expandable": {"editor": "", "export_view": "", "styled_view": ""},
        },
        "extensions": {"position": 123},
        "_links": {
            "webui": WEBUI,
            "edit": "/pages/resumedraft.action?draftId=1812037671",
            "tinyui": "/x/J4AA",
            "self": f"{BASE}/rest/api/content/1812037671",
            "base": BASE,
            "context": "/wiki",
        },
        "_expandable": {"children": "", "ancestors": ""},
    }


def v2_page(body_format: str = "storage", value: str = STORAGE) -> dict[str, Any]:
    """The shape of GET /wiki/api/v2/pages/{id}?body-format=..."""
    return {
        "parentType": "page",
        "parentId": "1165461538",
        "spaceId": "98306",
        "ownerId": "557058:0a1b2c3d",
        "lastOwnerId": None,
        "createdAt": "2020-09-01T12:00:00.000Z",
        "authorId": "557058:0a1b2c3d",
        "position": 123,
        "version": {
            "number": 31,
            "message": "",
            "minorEdit": False,
            "authorId": "5b0a1b2c3d4e5f",
            "createdAt": "2021-03-01T08:00:00.000Z",
        },
        "body": {body_format: {"representation": body_format, "value": value}},
        "status": "current",
        "title": "FY21-22 Architecture User Story Roadmap",
        "id": "1812037671",
        "_links": {
            "editui": "/pages/resumedraft.action?draftId=1812037671",
            "webui": WEBUI,
            "tinyui": "/x/J4AA",
            "base": BASE,
        },
    }


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


# ---------------------------------------------------------------- plain bodies


def test_storage_file(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "page.xml", STORAGE))
    assert doc.bodies == {"storage": STORAGE}
    assert doc.meta == SourceMeta(source="file")


def test_view_file_kept_exactly(tmp_path: Path) -> None:
    raw = VIEW.replace("\n", "\r\n") + "\n  "
    doc = load_source(write(tmp_path, "page.html", raw))
    assert doc.bodies == {"view": raw}


def test_bom_is_stripped(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "bom.xml", b"\xef\xbb\xbf" + STORAGE.encode()))
    assert doc.bodies == {"storage": STORAGE}


def test_stdin() -> None:
    doc = load_source("-", stdin=io.BytesIO(STORAGE.encode("utf-8")))
    assert doc.bodies == {"storage": STORAGE}
    assert doc.meta.source == "stdin"


def test_stdin_json() -> None:
    doc = load_source("-", stdin=io.BytesIO(json.dumps(v2_page()).encode()))
    assert doc.bodies == {"storage": STORAGE}
    assert doc.meta.version == 31


# ---------------------------------------------------------------- REST JSON


def test_v1_content(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "v1.json", json.dumps(v1_content(), indent=2)))
    assert doc.bodies == {"storage": STORAGE, "view": VIEW}
    assert doc.meta == SourceMeta(
        page="1812037671",
        title="FY21-22 Architecture User Story Roadmap",
        version=30,
        when="2021-02-10T15:04:05.123Z",
        author="Nimisha Asthagiri (Deactivated)",
        message="Moved Toggle Docs",
        url=BASE + WEBUI,
        source="v1",
    )


def test_v1_export_view_is_the_view_body(tmp_path: Path) -> None:
    page = v1_content()
    del page["body"]["view"]
    page["body"]["export_view"] = {"value": VIEW, "representation": "storage"}
    doc = load_source(write(tmp_path, "v1.json", json.dumps(page)))
    assert doc.bodies == {"storage": STORAGE, "view": VIEW}


def test_v1_search_result(tmp_path: Path) -> None:
    page = v1_content()
    page["_links"] = {"webui": WEBUI}  # search results carry the base at the top level
    result = {
        "results": [page],
        "start": 0,
        "limit": 25,
        "size": 1,
        "_links": {"base": BASE, "context": "/wiki", "self": f"{BASE}/rest/api/content"},
    }
    doc = load_source(write(tmp_path, "search.json", json.dumps(result)))
    assert doc.bodies == {"storage": STORAGE, "view": VIEW}
    assert doc.meta.version == 30
    assert doc.meta.url == BASE + WEBUI
    assert doc.meta.source == "v1"


@pytest.mark.parametrize("count", [0, 2])
def test_v1_search_result_needs_one_page(tmp_path: Path, count: int) -> None:
    result = {"results": [v1_content()] * count, "size": count}
    with pytest.raises(SourceError, match=f"search result with {count} pages"):
        load_source(write(tmp_path, "search.json", json.dumps(result)))


def test_v2_storage(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "v2.json", json.dumps(v2_page())))
    assert doc.bodies == {"storage": STORAGE}
    assert doc.meta == SourceMeta(
        page="1812037671",
        title="FY21-22 Architecture User Story Roadmap",
        version=31,
        when="2021-03-01T08:00:00.000Z",
        author="5b0a1b2c3d4e5f",
        message=None,
        url=BASE + WEBUI,
        source="v2",
    )


def test_v2_export_view(tmp_path: Path) -> None:
    doc = load_source(write(tmp_path, "v2.json", json.dumps(v2_page("export_view", VIEW))))
    assert doc.bodies == {"view": VIEW}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found"}]}, "no body"),
        (
            {"statusCode": 404, "message": "No content found with id", "reason": "Not Found"},
            "no body",
        ),
        (v2_page("atlas_doc_format", '{"type": "doc"}'), "body has atlas_doc_format"),
        ({"id": "1", "body": {"storage": {"value": 42}}}, "body.storage.value is not a string"),
        ({"id": "1", "body": {"storage": {"value": "  "}}}, "body.storage.value is empty"),
        ({"id": "1", "body": "text"}, "no body"),
        (
            {**v2_page(), "version": {"number": "thirty", "createdAt": "x"}},
            "version.number is 'thirty'",
        ),
    ],
)
def test_wrong_shape_json(tmp_path: Path, data: dict[str, Any], why: str) -> None:
    path = write(tmp_path, "wrong.json", json.dumps(data))
    with pytest.raises(SourceError, match="is JSON but not a Confluence page response") as info:
        load_source(path)
    assert why in str(info.value)
    assert path in str(info.value)


def test_empty_json_object(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.json", "{}")
    with pytest.raises(SourceError, match="no body"):
        load_source(path)


def test_truncated_json(tmp_path: Path) -> None:
    text = json.dumps(v1_content())
    path = write(tmp_path, "cut.json", text[: len(text) // 2])
    with pytest.raises(SourceError, match=r"is truncated or invalid JSON \(line 1, column"):
        load_source(path)


def test_json_body_kept_exactly(tmp_path: Path) -> None:
    page = copy.deepcopy(v2_page())
    page["body"]["storage"]["value"] = STORAGE + "\u00a0\r\n"
    doc = load_source(write(tmp_path, "v2.json", json.dumps(page, ensure_ascii=True)))
    assert doc.bodies["storage"] == STORAGE + "\u00a0\r\n"


# ---------------------------------------------------------------- bad bytes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b"\xef\xbb\xbf\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary, not a page"),
        (b"<p>caf\xe9</p>", r"is not valid UTF-8 \(byte 0xe9 at offset 6\)"),
        ("<p>x</p>".encode("utf-16"), "is UTF-16; save it as UTF-8"),
    ],
)
def test_bad_bytes(tmp_path: Path, data: bytes, message: str) -> None:
    path = write(tmp_path, "bad.html", data)
    with pytest.raises(SourceError, match=message) as info:
        load_source(path)
    assert path in str(info.value)


def test_empty_stdin() -> None:
    with pytest.raises(SourceError, match="standard input is empty"):
        load_source("-", stdin=io.BytesIO(b""))


def test_missing_file() -> None:
    with pytest.raises(SourceError, match=r"no such file or snapshot reference: nope/old\.html"):
        load_source("nope/old.html")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a directory"):
        load_source(str(tmp_path))


@pytest.mark.parametrize("arg", ["live", "openedx-roadmap@live"])
def test_live_needs_a_configured_page(arg: str) -> None:
    # URLs and configured live pages are tested against a local server in test_fetch_cli.py
    with pytest.raises(SourceError, match="configured page"):
        load_source(arg)


# ---------------------------------------------------------------- references


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store")
    meta = SourceMeta(page="1812037671", version=29, when="2021-01-01T00:00:00Z", source="v1")
    s.put("openedx-roadmap", Document({"storage": "<p>old</p>"}, meta), Roadmap())
    meta = SourceMeta(page="1812037671", version=30, when="2021-02-10T00:00:00Z", source="v2")
    s.put("openedx-roadmap", Document({"storage": STORAGE, "view": VIEW}, meta), Roadmap())
    return s


def test_reference(store: Store) -> None:
    doc = load_source("openedx-roadmap@v29", store=store)
    assert doc.bodies == {"storage": "<p>old</p>"}
    assert doc.meta.version == 29 and doc.meta.source == "v1"
    latest = load_source("openedx-roadmap@latest", store=store)
    assert latest.bodies == {"storage": STORAGE, "view": VIEW}
    assert latest.meta.when == "2021-02-10T00:00:00Z"


def test_bare_name_is_latest(store: Store) -> None:
    assert load_source("openedx-roadmap", store=store).meta.version == 30


def test_bare_unknown_name(store: Store) -> None:
    with pytest.raises(SourceError, match="no such file or snapshot reference: other"):
        load_source("other", store=store)


def test_reference_errors_name_the_problem(store: Store) -> None:
    with pytest.raises(StoreError, match="no such version"):
        load_source("openedx-roadmap@v99", store=store)
    with pytest.raises(StoreError, match="unknown page 'other'"):
        load_source("other@latest", store=store)


def test_reference_without_store() -> None:
    with pytest.raises(SourceError, match="no snapshot store"):
        load_source("openedx-roadmap@latest")


def test_existing_file_wins_over_reference(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "openedx-roadmap", STORAGE)
    doc = load_source("openedx-roadmap", store=store)
    assert doc.meta.source == "file"
