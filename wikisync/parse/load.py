"""Page text in any supported format → an lxml element tree, safely and fast.

One HTML parser handles all three formats: libxml2's HTML parser keeps Confluence's prefixed tag
and attribute names (``ac:structured-macro``, ``ri:account-id``) and knows the HTML named
entities (``&nbsp;``, ``&rsquo;``) that make storage XHTML invalid XML. What it does not keep is
CDATA, so CDATA sections are turned into escaped text first. It never fetches anything and never
expands entities declared in a DOCTYPE (the internal subset is removed before parsing).

Everything here sees untrusted input, so every step is linear in the input size (plain scans with
``str.find`` and anchored matches, no backtracking over the whole text), the input size is capped
(``ParseOptions.max_bytes``), and libxml2's own limits (255 levels of nesting, 10 MB text
nodes) are errors rather than the silently truncated tree libxml2 would otherwise return.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from wikisync._lazy import lazy_re
from wikisync.errors import ParseError
from wikisync.parse.inline import STRIP_CHARS

FORMATS: tuple[str, ...] = ("storage", "view", "html")

_MARKUP = lazy_re(r"<[A-Za-z!?/]")
_STORAGE_TAG = lazy_re(r"<(?:ac|ri):[A-Za-z]")
_VIEW_CLASS = lazy_re(
    r"""class\s*=\s*["'][^"'>]*\b(?:confluenceTable|confluenceTd|confluenceTh|aui-lozenge"""
    r"""|status-macro|confluence-userlink)\b"""
)
_WHOLE_DOC = lazy_re(r"<!DOCTYPE\s+html|<html[\s>]", re.IGNORECASE)
_CDATA_OPEN, _CDATA_CLOSE = "<![CDATA[", "]]>"
# A DOCTYPE (or a comment to skip): its start; what can end its head (a quote, the internal
# subset or ">"); what to skip inside the subset (quoted values, comments); the subset's end.
_DOCTYPE_OPEN = lazy_re(r"<!DOCTYPE|<!--", re.IGNORECASE)
_DOCTYPE_HEAD = lazy_re(r"[\[>\"']")
_SUBSET_STOP = lazy_re(r"[\]\"']|<!--")
_SUBSET_END = lazy_re(r"\]\s*>")
_CONTROL = lazy_re(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")

#: libxml2's nesting limit without XML_PARSE_HUGE: deeper content is cut off, so it is an error.
MAX_DEPTH = 255


def _check_size(size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and max_bytes > 0 and size > max_bytes:
        raise ParseError(
            f"input is {_mb(size)}, over the {_mb(max_bytes)} limit; raise "
            "[page.parse] max_bytes in the config to read it"
        )


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n} bytes"


def decode(data: str | bytes, max_bytes: int | None = None) -> str:
    """Validate and decode raw input; every failure is a one-line ParseError.

    ``max_bytes`` (UTF-8 bytes; None or ≤ 0: no limit) is checked before any other work, so
    an oversized page is refused in constant time and memory.
    """
    return decode_raw(data, max_bytes)[0]


def decode_raw(data: str | bytes, max_bytes: int | None = None) -> tuple[str, bytes | None]:
    """``decode``, plus the text's UTF-8 bytes when the input was bytes (``None`` for text), so
    ``parse_tree`` need not encode 3 MB again."""
    raw: bytes | None = None
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        _check_size(len(raw), max_bytes)
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ParseError("input is UTF-16 text; save it as UTF-8")
        if b"\x00" in raw:
            raise ParseError("input is binary data, not HTML or XML text")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError("input is not UTF-8 text") from exc
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]  # what text.encode() gives: valid UTF-8 round-trips
    elif isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
        if max_bytes is not None and max_bytes > 0:
            _check_size(len(text), max_bytes)  # characters ≤ bytes: refuses early, cheaply
            if not text.isascii():
                _check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes)
    else:
        raise ParseError(f"cannot parse a {type(data).__name__}; expected text or bytes")
    if not text or text.isspace():  # (not text.strip(), without copying the page)
        raise ParseError("input is empty")
    if raw is None and "\x00" in text:  # bytes were checked above
        raise ParseError("input is binary data, not HTML or XML text")
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise ParseError("input is binary data, not HTML or XML text")
    if not _MARKUP.search(text):
        raise ParseError("input is not HTML or XML (no tags found)")
    return text, raw


def detect_format(text: str) -> str:
    """Guess the body format of page text.

    Heuristic, in this order:
    1. ``storage`` if it has Confluence storage tags (``<ac:…>`` / ``<ri:…>``);
    2. ``view`` if it carries the classes Confluence renders (``confluenceTable``,
       ``confluenceTd``/``Th``, ``aui-lozenge``, ``status-macro``, ``confluence-userlink``);
    3. ``html`` if it is a whole document (``<!DOCTYPE html`` or ``<html``);
    4. ``storage`` otherwise: a bare fragment with no Confluence classes is what the storage
       format looks like when a page uses no macros.
    Raises ParseError for empty, binary or non-markup text.
    """
    return sniff(decode(text))


def sniff(text: str) -> str:
    """detect_format on text that ``decode`` already validated."""
    if _STORAGE_TAG.search(text):
        return "storage"
    if _VIEW_CLASS.search(text):
        return "view"
    if _WHOLE_DOC.search(text[:4096]):
        return "html"
    return "storage"


def _escape_text(text: str) -> str:
    """``html.escape(text, quote=False)``, without importing ``html`` (its entity table costs
    a few ms of every parse's start)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cdata_to_text(text: str) -> str:
    """Replace each CDATA section by its escaped text (the HTML parser would drop it).

    An unterminated section is left for the HTML parser (it reads it as a bogus comment).
    """
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(_CDATA_OPEN, pos)
        if start < 0:
            break
        end = text.find(_CDATA_CLOSE, start + len(_CDATA_OPEN))
        if end < 0:
            break  # no later section can be terminated either
        out.append(text[pos:start])
        out.append(_escape_text(text[start + len(_CDATA_OPEN) : end]))
        pos = end + len(_CDATA_CLOSE)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def strip_doctypes(text: str) -> str:
    """Remove every ``<!DOCTYPE …>``, internal subset (entity definitions) included.

    Quoted values and comments inside the subset may hold ``]`` and ``>``; they are skipped
    whole. A declaration that never ends is an error: everything after it would be DTD.
    """
    out: list[str] = []
    pos = at = 0  # copied up to ``pos``; searching from ``at``
    while True:
        m = _DOCTYPE_OPEN.search(text, at)
        if m is None:
            break
        if m.group() == "<!--":  # a DOCTYPE quoted in a comment is not one
            close = text.find("-->", m.end())
            if close < 0:
                break
            at = close + 3
            continue
        out.append(text[pos : m.start()])
        pos = at = _doctype_end(text, m.end())
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _doctype_end(text: str, i: int) -> int:
    """Index just after the DOCTYPE whose name starts at ``i``."""
    in_subset = False
    while True:
        stop = (_SUBSET_STOP if in_subset else _DOCTYPE_HEAD).search(text, i)
        if stop is None:
            raise ParseError("input has a <!DOCTYPE> declaration that never ends")
        token = stop.group()
        if token in ("'", '"'):
            close = text.find(token, stop.end())
            if close < 0:
                raise ParseError("input has a <!DOCTYPE> declaration with an unclosed quote")
            i = close + 1
        elif token == "<!--":
            close = text.find("-->", stop.end())
            if close < 0:
                raise ParseError("input has a <!DOCTYPE> declaration that never ends")
            i = close + 3
        elif token == ">":
            return stop.end()
        elif token == "[":
            in_subset = True
            i = stop.end()
        else:  # "]": the subset ends here when "]" is followed by ">"
            end = _SUBSET_END.match(text, stop.start())
            if end is not None:
                return end.end()
            i = stop.end()


def _has_declaration(text: str) -> bool:
    """``"<!" in text``, by way of the rare "!" (a one-character search is a memchr; a
    two-character one, with "<" starting every tag, is ten times slower)."""
    at = text.find("!")
    for _ in range(64):
        if at < 0:
            return False
        if at and text[at - 1] == "<":
            return True
        at = text.find("!", at + 1)
    return "<!" in text  # a page full of "!": scan for the pair


# The characters ``parse_tree`` strips, by the first byte of their UTF-8 encoding: a character
# can only be in the text if that byte is in the raw bytes (one memchr each).
_STRIP_BY_LEAD: tuple[tuple[bytes, tuple[str, ...]], ...] = tuple(
    (bytes([lead]), tuple(chr(cp) for cp in STRIP_CHARS if chr(cp).encode()[0] == lead))
    for lead in sorted({chr(cp).encode()[0] for cp in STRIP_CHARS})
)


def _has_strip_chars(text: str, raw: bytes | None) -> bool:
    """Does ``text`` hold a character of STRIP_CHARS? ``raw`` (``text``'s UTF-8 bytes before
    any rewriting, which only removes characters or adds ASCII) rules most of them out."""
    if raw is None:
        return any(chr(cp) in text for cp in STRIP_CHARS)  # `in` is a C scan per character
    if raw.isascii():
        return False
    return any(lead in raw and any(ch in text for ch in chars) for lead, chars in _STRIP_BY_LEAD)


def parse_tree(text: str, fmt: str, raw: bytes | None = None) -> etree._Element:
    """Parse decoded text of format ``fmt`` into the root ``<html>`` element.

    ``raw``, when given, must be ``text``'s UTF-8 encoding (``decode_raw`` returns it): it is
    what libxml2 reads when the text needs no rewriting.
    """
    if fmt not in FORMATS:
        raise ParseError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    rewritten = False
    if _has_declaration(text):  # both CDATA and DOCTYPE start with "<!"
        if _CDATA_OPEN in text:
            text = cdata_to_text(text)
            rewritten = True
        if "<!" in text:
            stripped = strip_doctypes(text)
            rewritten = rewritten or stripped is not text
            text = stripped
    if _has_strip_chars(text, raw):
        text = text.translate(STRIP_CHARS)
        rewritten = True
    parser = etree.HTMLParser(
        encoding="utf-8",
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    data = raw if raw is not None and not rewritten else text.encode("utf-8", "replace")
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"input is not readable HTML or XML: {exc}") from exc
    _check_fatal(parser)
    if root is None:
        raise ParseError("input is not readable HTML or XML")
    return root


def _check_fatal(parser: etree.HTMLParser) -> None:
    """libxml2 recovers from a fatal error by cutting the tree short; refuse that tree.

    Reading a truncated page would make every card after the cut look deleted. libxml2 keeps
    reporting fatal errors after it stops logging ordinary ones, so the log always has them.
    """
    fatals = parser.error_log.filter_from_fatals()
    if not fatals:
        return
    first = fatals[0]
    message = " ".join(str(first.message).split())
    if first.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        if "depth" in message.lower():
            raise ParseError(
                f"input is nested more than {MAX_DEPTH} elements deep (line {first.line}); "
                "refusing a page the HTML parser would cut short"
            )
        raise ParseError(
            f"input has a text run or attribute over 10 MB (line {first.line}); refusing a "
            "page the HTML parser would cut short"
        )
    raise ParseError(f"input is not readable HTML or XML: {message} (line {first.line})")
