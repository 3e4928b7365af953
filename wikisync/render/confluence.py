"""Confluence storage-format output: what has to hold beyond Jinja2's autoescaping.

The layout lives in ``templates/confluence.j2`` (rendered with autoescape on, so ``<``, ``>``,
``&``, quotes and ``]]>`` come out as text). Curly quotes are written as the literal characters
“ and ” rather than ``&ldquo;``/``&rdquo;``: the fragment then stays well-formed XML for any
parser (``&ldquo;`` is an HTML entity, undefined in plain XML) and Confluence stores both the same.
"""

from __future__ import annotations

from wikisync._lazy import lazy_re

# XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF; autoescaping does not
# remove them and Confluence rejects a body that contains them.
_XML_INVALID = lazy_re("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Drop characters that cannot appear in an XML document at all."""
    return _XML_INVALID.sub("", text)
