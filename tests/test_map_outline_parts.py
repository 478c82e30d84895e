"""Outlines of area plans leave out the parts too small on screen to show their fill (QA92 F5c)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from map_fixtures import area_plan, checked_map, status_attributes

from territory_planner.render.map import write_map

# folium's Leaflet map is the page's global map_<hash>; centred on the island at a zoom
ZOOM = (
    "window[Object.keys(window).find((k) => /^map_[0-9a-f]+$/.test(k))]"
    ".setView([40.1025, -73.9975], %d, {animate: false})"
)


def test_a_tiny_island_is_outlined_only_once_a_zoom_makes_it_large(browser: Any, tmp_path: Path) -> None:
    """QA92 F5c: at 1400 px the Sulu islands and Fiji were near black, their 2-px outline covering a
    fill a few pixels wide. R1's island (500 m across) is left out of its outline at the opening zoom, where
    the grid's two territories keep theirs, and drawn again when zoomed in to it; its fill is drawn at
    every zoom."""
    url = write_map(area_plan(tmp_path / "plan", island=True), offline=True).resolve().as_uri()
    with checked_map(browser, url) as page:
        s = status_attributes(page.content())
        # per view (the plan and the current alignment): R1's grid part, not its island, and R2's part
        assert s["outline-parts"] == "4/6", s
        assert s["polygons"] == "7"
        page.evaluate(ZOOM % 15)
        page.wait_for_function("document.getElementById('tp-status').dataset.outlineParts === '6/6'")
        page.evaluate(ZOOM % 8)
        page.wait_for_function("document.getElementById('tp-status').dataset.outlineParts === '4/6'")


def test_outlines_redrawn_by_an_edit_leave_out_the_tiny_island_too(browser: Any, tmp_path: Path) -> None:
    """QA95 F1: after a hand edit (even undone) the touched territory's outline was redrawn around every
    islet at every zoom. U3 goes to R1: R1's redrawn outline has its row's 8 edges and the island's 4,
    which are drawn only when zoomed in to it; R2's has 8."""
    url = write_map(area_plan(tmp_path / "plan", island=True), offline=True).resolve().as_uri()
    with checked_map(browser, url) as page:
        page.click("#tp-edit-toggle")
        page.evaluate("territoryPlanner.assign(['U3'], 'R1')")
        page.wait_for_function(
            "JSON.parse(document.getElementById('tp-status').dataset.outlineSegments || '{}').R1 === 12"
        )
        s = status_attributes(page.content())
        assert s["outline-edges"] == "16", s  # R1's 8 (its island's 4 left out) and R2's 8
        page.evaluate(ZOOM % 15)
        page.wait_for_function("document.getElementById('tp-status').dataset.outlineEdges === '20'")
