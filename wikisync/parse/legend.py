"""The organisation legend: ``[1]`` on a card means the first organisation listed under
"Organizations listed above …"."""

from __future__ import annotations

from lxml import etree

from wikisync._lazy import lazy_re
from wikisync.parse.inline import LISTS, Context, lines_of, text_of
from wikisync.parse.outline import heading_level, iter_blocks

# "1. edX", "1 - edX", "1) edX", "1: edX", "[1] edX"
_NUMBERED = lazy_re(r"^\[?(\d{1,4})\]?\s*[.):\-–—=]?\s+(\S.*)$")


def _list_items(lst: etree._Element, ctx: Context) -> dict[str, str]:
    out: dict[str, str] = {}
    start_attr = (lst.get("start") or "1").strip()
    n = int(start_attr) if start_attr.isdigit() else 1
    for li in lst:
        if li.tag != "li":
            continue
        text = text_of(li, ctx, skip=LISTS)
        if text:
            m = _NUMBERED.match(text)
            if m and (lst.tag == "ul" or m.group(1).lstrip("0") == str(n)):
                out.setdefault(m.group(1).lstrip("0") or "0", m.group(2).strip())
            else:
                out.setdefault(str(n), text)
        n += 1
    return out


def _numbered_lines(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        m = _NUMBERED.match(line)
        if m:
            out.setdefault(m.group(1).lstrip("0") or "0", m.group(2).strip())
    return out


def parse_legend(root: etree._Element, heading: str, ctx: Context) -> dict[str, str]:
    """``{"1": "edX", ...}`` from the legend after ``heading``; ``{}`` when there is none."""
    needle = heading.casefold().strip()
    if not needle:
        return {}
    blocks = list(iter_blocks(root))
    for i, block in enumerate(blocks):
        if block.tag in LISTS or block.tag == "table":
            continue
        lines = lines_of(block, ctx)
        hit = next((j for j, line in enumerate(lines) if needle in line.casefold()), None)
        if hit is None:
            continue
        # Lines after the heading text in the same block: "Organizations…:<br/>1. edX<br/>…"
        legend = _numbered_lines(lines[hit + 1 :])
        for nxt in blocks[i + 1 :]:
            if nxt.tag == "table" or heading_level(nxt):
                break
            if nxt.tag in LISTS:
                found = _list_items(nxt, ctx)
            else:
                nxt_lines = lines_of(nxt, ctx)
                if not nxt_lines:
                    continue
                found = _numbered_lines(nxt_lines)
            if not found:
                break
            for key, name in found.items():
                legend.setdefault(key, name)
        if legend:
            return legend
    return {}
