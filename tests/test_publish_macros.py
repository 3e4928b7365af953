"""Publish never splices the entry inside a macro's parameter or plain-text body, whatever
elements those hold (issue 13: 2 of 17,120 fuzzed layouts did)."""

from __future__ import annotations

import re

import pytest

from wikisync.publish import splice_entry


def _entry(date: str, sentence: str) -> str:
    return (
        f"<ul><li><p>{date}</p><ul><li><p>Added</p><ul><li><p>{sentence}</p></li></ul>"
        "</li></ul></li></ul>"
    )


ENTRY = _entry("2021-03-01", "Added “B” in Q3.")
OLD = _entry("2021-02-10", "Added “A” in Q2.")
HISTORY = f"<h2>Change History</h2>{OLD}"


def _macro(part: str, inner: str) -> str:
    return (
        f'<ac:structured-macro ac:name="x"><{part} ac:name="p">{inner}</{part}>'
        "</ac:structured-macro>"
    )


def _inside_macro_parts(body: str, offset: int) -> bool:
    spans = re.finditer(r"<(ac:parameter|ac:plain-text-body)\b.*?</\1>", body, flags=re.S)
    return any(m.start() < offset < m.end() for m in spans)


PARTS = ("ac:parameter", "ac:plain-text-body")
LAYOUTS = {
    # A whole decoy section (heading and list) inside the macro, the real one after it.
    "decoy-section": lambda part: _macro(part, HISTORY) + HISTORY,
    # The real heading, then a macro holding a list before the real list.
    "list-in-macro": lambda part: (
        "<h2>Change History</h2>" + _macro(part, "<ul><li><p>not history</p></li></ul>") + OLD
    ),
    # The real heading, then only a macro holding a list: a new list goes after the heading.
    "only-macro-list": lambda part: "<h2>Change History</h2><p>Intro.</p>" + _macro(part, OLD),
}


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_entry_never_lands_inside_a_macro(layout: str, part: str) -> None:
    body = "<p>Top.</p>" + LAYOUTS[layout](part) + "<p>End.</p>"
    splice = splice_entry(body, ENTRY)
    assert splice.insertions
    for ins in splice.insertions:
        assert not _inside_macro_parts(body, ins.offset), (layout, part, ins)
    # The macro itself is byte for byte what it was.
    for m in re.finditer(r"<ac:structured-macro.*?</ac:structured-macro>", body, flags=re.S):
        assert m.group() in splice.body
