"""JSON documents for changes (``wikisync.changes/1``) and histories (``wikisync.history/1``).

Named ``jsonout`` so ``import json`` inside this package can never pick it up by mistake.
Field-by-field description: docs/schemas.md.
"""

from __future__ import annotations

from typing import Any

from wikisync import jsondoc
from wikisync.model import SCHEMA_CHANGES, ChangeSet
from wikisync.render.text import RenderOptions, changeset_sentences

SCHEMA_HISTORY = "wikisync.history/1"


def dumps(doc: Any) -> str:
    """The one JSON style wikisync writes: stable keys, readable, UTF-8 kept, final newline."""
    return jsondoc.dumps(doc) + "\n"


def changes_doc(cs: ChangeSet, options: RenderOptions) -> dict[str, Any]:
    """A changeset as plain data; each change carries the text the page would show."""
    return {
        "schema": SCHEMA_CHANGES,
        "old": cs.old.to_json(),
        "new": cs.new.to_json(),
        "date": cs.date,
        "changes": [
            change.to_json(text=" ".join(lines))
            for change, lines in changeset_sentences(cs, options)
        ],
    }


def history_doc(changesets: list[ChangeSet], options: RenderOptions) -> dict[str, Any]:
    """Several changesets (already ordered newest first, empty ones already dropped)."""
    return {"schema": SCHEMA_HISTORY, "entries": [changes_doc(cs, options) for cs in changesets]}
