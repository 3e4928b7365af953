"""Writes planner-v{1,2,3}.storage.html: a Roadmap Planner macro as Confluence saves it.

The macro's ``source`` is ``encodeURIComponent(JSON.stringify(plan))``; run this file to
rebuild the pages after editing the plans below (the pages are committed, tests read them).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent


def bar(id_: str, title: str, start: str, duration: float, row: int, **extra: object) -> dict:
    return {
        "id": id_,
        "title": title,
        "description": extra.get("description", ""),
        "startDate": f"{start} 00:00:00",
        "duration": duration,
        "rowIndex": row,
        "pageLink": extra.get("pageLink", {}),
    }


def plan(version: int) -> dict:
    training = bar("b1", "Training", "2015-09-01", 2, 0, description="Support staff")
    search = bar("b2", "Search v2", "2015-07-01", 3, 1)
    launch = bar("b4", "Launch campaign", "2015-10-01", 1.5, 0)
    webinar = bar("b5", "Webinar series", "2016-01-01", 2, 1)
    eng = [training, search]
    mkt = [launch, webinar]
    markers = [{"title": "Beta", "markerDate": "2015-10-15 00:00:00"}]
    colour = "#3b7fc4"
    if version >= 2:
        training["startDate"] = "2015-11-02 00:00:00"
        search["title"] = "Search v2 (Elastic)"
        launch["duration"] = 2.5
        launch["rowIndex"] = 1  # layout only
        webinar["rowIndex"] = 2
        mkt = [launch]
        eng = [training, search, webinar, bar("b6", "Partner API", "2016-02-01", 3, 3)]
        colour = "#f691b2"  # layout only
    if version >= 3:
        search["startDate"] = "2015-06-15 00:00:00"
        eng = [training, search, eng[3]]
        markers = [{"title": "Beta", "markerDate": "2015-11-01 00:00:00"}]
    return {
        "title": "Platform plan",
        "timeline": {
            "startDate": "2015-06-01 00:00:00",
            "endDate": "2016-06-30 00:00:00",
            "displayOption": "MONTH",
        },
        "lanes": [
            {"title": "Engineering", "color": {"lane": "#3b7fc4", "bar": "#6c9bd2"}, "bars": eng},
            {"title": "Marketing", "color": {"lane": colour, "bar": "#f8b4c9"}, "bars": mkt},
        ],
        "markers": markers,
    }


PAGE = """<h2>Platform plan</h2>
<p>This page is the plan of record. Drag bars in the editor to change it.</p>
<ac:structured-macro ac:name="roadmap" ac:schema-version="1" \
ac:macro-id="5e1c2a8e-7d0b-4f7c-9d43-2f2f5b8b9e10">\
<ac:parameter ac:name="maplinks" /><ac:parameter ac:name="timeline">true</ac:parameter>\
<ac:parameter ac:name="source">{source}</ac:parameter>\
<ac:parameter ac:name="title">Platform plan</ac:parameter>\
<ac:parameter ac:name="hash">{hash}</ac:parameter></ac:structured-macro>
<p>Questions: ask in #platform.</p>
"""


def main() -> None:
    for version in (1, 2, 3):
        text = json.dumps(plan(version), separators=(",", ":"))
        source = quote(text, safe="~()*!.'-_")  # what encodeURIComponent leaves alone
        page = PAGE.format(source=source, hash=f"{version:032x}")
        (HERE / f"planner-v{version}.storage.html").write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
