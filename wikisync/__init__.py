"""wikisync: keep a wiki roadmap honest.

The small public API: parse a page into a roadmap, diff two roadmaps, render the changes.
"""

from __future__ import annotations

__version__ = "0.1.0"
