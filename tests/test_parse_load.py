"""Loading: format detection, decoding, and the safety of turning page text into a tree."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from wikisync.errors import ParseError
from wikisync.parse import detect_format, parse_text
from wikisync.parse.load import decode, parse_tree

DATA = Path(__file__).parent / "data" / "parse"

TABLE = (
    "<table><tr><th>Quarter</th><th>Work</th></tr>"
    "<tr><th>Q1</th><td><p>{card}</p></td></tr></table>"
)


def _titles(text: str | bytes, fmt: str | None = None) -> list[str]:
    return [i.title for i in parse_text(text, fmt).items]


# --------------------------------------------------------------------------- detect_format


def test_detect_real_storage_and_view() -> None:
    assert (
        detect_format((DATA.parent / "openedx" / "current.storage.html").read_text()) == "storage"
    )
    assert detect_format((DATA.parent / "openedx" / "current.view.html").read_text()) == "view"


def test_detect_whole_html_document() -> None:
    assert detect_format((DATA / "three-levels.html").read_text()) == "view"  # confluenceTh
    page = "<!DOCTYPE html><html><body>" + TABLE.format(card="x") + "</body></html>"
    assert detect_format(page) == "html"
    assert detect_format("<html lang='en'><body><p>x</p></body></html>") == "html"


def test_detect_bare_fragment_is_storage() -> None:
    assert detect_format(TABLE.format(card="Card [1]")) == "storage"


def test_storage_tags_win_over_view_classes() -> None:
    text = '<p class="confluenceTd"><ac:structured-macro ac:name="toc"/></p>'
    assert detect_format(text) == "storage"


@pytest.mark.parametrize(
    "bad",
    ["", "   \n\t ", "just some words, no markup", "\x00\x01\x02<p>"],
)
def test_detect_rejects_non_markup(bad: str) -> None:
    with pytest.raises(ParseError):
        detect_format(bad)


# --------------------------------------------------------------------------- decoding


def test_bytes_with_bom_decode() -> None:
    raw = codecs.BOM_UTF8 + TABLE.format(card="Café crème [1]").encode("utf-8")
    assert _titles(raw) == ["Café crème"]


def test_invalid_utf8_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        parse_text(TABLE.format(card="caf").encode() + b"\xe9\xff")


def test_binary_bytes_are_a_parse_error() -> None:
    with pytest.raises(ParseError, match="binary"):
        parse_text(bytes(range(256)) * 4)


def test_utf16_is_refused_with_a_hint() -> None:
    with pytest.raises(ParseError, match="UTF-16"):
        parse_text(TABLE.format(card="x").encode("utf-16"))


@pytest.mark.parametrize("bad", [b"", b"   \n ", "", "\n\t  "])
def test_empty_input_is_a_parse_error(bad: str | bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_text(bad)


def test_parse_errors_are_one_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_text(b"\xff\xfe\xfa not text")
    assert "\n" not in str(info.value)


def test_unknown_format_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unknown format"):
        parse_text(TABLE.format(card="x"), "markdown")


def test_decode_strips_leading_bom_from_str() -> None:
    assert decode("\ufeff<p>x</p>") == "<p>x</p>"


# --------------------------------------------------------------------------- tree building


def test_prefixed_tags_and_attributes_survive() -> None:
    root = parse_tree(
        '<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="title">Koa'
        '</ac:parameter></ac:structured-macro><ac:link><ri:user ri:account-id="42" />'
        "</ac:link>tail</p>",
        "storage",
    )
    macro = next(root.iter("ac:structured-macro"))
    assert macro.get("ac:name") == "status"
    user = next(root.iter("ri:user"))
    assert user.get("ri:account-id") == "42"
    assert len(user) == 0  # self-closing: the following text is not swallowed


def test_cdata_link_body_is_kept_as_text() -> None:
    titles = _titles(
        TABLE.format(
            card='<ac:link><ri:page ri:content-title="P" /><ac:plain-text-link-body>'
            "<![CDATA[Plan 1 < 2 &amp; more]]></ac:plain-text-link-body></ac:link> [1]"
        ),
        "storage",
    )
    assert titles == ["Plan 1 < 2 &amp; more"]


def test_named_entities_resolve() -> None:
    assert _titles(TABLE.format(card="edX&rsquo;s&nbsp;plan &amp; more")) == ["edX’s plan & more"]


def test_doctype_entities_are_never_expanded() -> None:
    page = (
        '<!DOCTYPE html [<!ENTITY boom "EXPANDED"><!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        + TABLE.format(card="Safe &boom; &ext; card")
    )
    (title,) = _titles(page)
    assert "EXPANDED" not in title
    assert "root:" not in title
    assert title.startswith("Safe")


def test_xml_declaration_is_accepted() -> None:
    page = '<?xml version="1.0" encoding="utf-8"?>' + TABLE.format(card="Déjà vu")
    assert _titles(page) == ["Déjà vu"]


def test_forged_sentinel_characters_cannot_create_structure() -> None:
    # Private-use characters are the parser's internal markers; page text must not forge them.
    titles = _titles(TABLE.format(card="A&#xE002;http://x&#xE003;B \ue000Tag\ue001 C"))
    assert titles == ["Ahttp://xB Tag C"]


def test_plain_text_without_table_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_text("Roadmap\n\nQ1: things\nQ2: more things\n")
