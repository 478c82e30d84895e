"""report.html's "Notes on the inputs" (QA7): the polygons a run repaired are one note per file.

Tokyo's 262 municipalities (libpysal tokyo, GPKG) have ten self-intersecting rings: the report showed ten
boxes of "/tmp/qa7/tokyo/accounts.gpkg row 3: invalid polygon (Ring Self-intersection[140.15... 35.89...])
repaired with ..." before the balance table, the planner's absolute path in each.
"""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path

from map_fixtures import sample_plan

from territory_planner.report.api import write_report

KEPT = "every part kept, overlapping shells united"


def repaired(row: int) -> dict[str, object]:
    reason = f"Ring Self-intersection[140.{row} 35.{row}]"
    return {
        "file": "/home/someone/private/accounts.gpkg",
        "row": row,
        "column": "geometry",
        "value": reason,
        "message": f"invalid polygon ({reason}) repaired with shapely.make_valid into 2 polygon(s): {KEPT}",
    }


def test_repaired_polygons_are_one_note_without_the_folder(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "p")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    rows = [repaired(r) for r in (3, 10, 22, 74, 116, 123, 125, 136, 140, 151, 160, 170, 180, 190)]
    other = "5 district(s) in several pieces: they were not asked to be connected (add --district-contiguous)"
    summary["repaired_geometries"] = rows
    summary["input_warnings"] = [other, *(f"{r['file']} row {r['row']}: {r['message']}" for r in rows)]
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    write_report(tmp_path / "out", plan_dir=plan)
    html = unescape((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    notes = html.count('<p class="warning">')
    assert notes == 2, notes
    assert other in html
    assert (
        "14 invalid polygons in accounts.gpkg (rows 3, 10, 22, 74, 116, 123, 125, 136, 140, 151, 160, 170 "
        f"and 2 more) repaired with shapely.make_valid: {KEPT}; each row's reason is in summary.json "
        "(repaired_geometries)"
    ) in html
    assert "/home/someone" not in html
    assert "Self-intersection" not in html
