"""A printed map is a handout (QA7 O4): the map at a fixed size fitted to the plan, the whole summary table
under it, no buttons; the screen comes back after the print.

Before, the printed page kept the screen's side panel: its table scrolls, so a 16-rep plan printed 13 rows
and a scrollbar, and the Edit / Proposed / Current buttons printed over the map.

The plan: 40 reps, each holding a column of 8 square areas (320 polygons, lat up, lon right)::

    40.7 | U0_7  U1_7  ... U39_7
     ... |  R00   R01  ...  R39      (homes mid-column)
    40.0 | U0_0  U1_0  ... U39_0
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from map_fixtures import CHROMIUM, square, write_plan

from territory_planner.render.map import write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

N_REPS, N_ROWS, SIZE = 40, 8, 0.1
MM = 96 / 25.4  # CSS px per mm


def column_plan(folder: Path) -> Path:
    rows, features, reps = [], [], []
    for k in range(N_REPS):
        rep = f"R{k:02d}"
        for r in range(N_ROWS):
            uid = f"U{k}_{r}"
            lon, lat = -100.0 + SIZE * k, 40.0 + SIZE * r
            rows.append(
                {
                    "account_id": uid,
                    "rep_id": rep,
                    "current_rep": rep,
                    "moved": False,
                    "distance_km": 5.0,
                    "potential": 1000.0,
                    "workload": 1.0,
                    "reason": "",
                    "name": f"Area {uid}",
                    "lat": lat + SIZE / 2,
                    "lon": lon + SIZE / 2,
                }
            )
            features.append(
                {"type": "Feature", "properties": {"account_id": uid}, "geometry": square(lon, lat, SIZE)}
            )
        reps.append(
            {
                "rep_id": rep,
                "name": f"Rep {k}",
                "accounts": N_ROWS,
                "potential": 1000.0 * N_ROWS,
                "workload": 1.0 * N_ROWS,
                "potential_target": 1000.0 * N_ROWS,
                "workload_target": 1.0 * N_ROWS,
                "potential_dev_pct": 0.0,
                "workload_dev_pct": 0.0,
                "travel_km": 10.0,
                "moved_in": 0,
                "moved_out": 0,
                "capacity": 1.0,
                "home_lat": 40.0 + SIZE * N_ROWS / 2,
                "home_lon": -100.0 + SIZE * (k + 0.5),
                "home_chosen": False,
            }
        )
    units = {"type": "FeatureCollection", "features": features}
    return write_plan(folder, pd.DataFrame(rows), pd.DataFrame(reps), units=units)


LAYOUT = """() => {
  const box = document.querySelector('.folium-map').getBoundingClientRect();
  const scroll = document.querySelector('#tp-legend > .tp-scroll');
  const shown = (sel) => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent).length;
  const ids = JSON.parse(document.getElementById('tp-data').textContent).acc.id;
  const outside = ids.filter(id => {
    const p = window.territoryPlanner.point(id);
    return p.x < box.left || p.x > box.right || p.y < box.top || p.y > box.bottom;
  });
  return {
    width: box.width, height: box.height, rows: shown('#tp-legend tr[data-rep]'),
    hiddenByScroll: scroll.scrollHeight - scroll.clientHeight,
    buttons: shown('.tp-switch, .tp-level, .leaflet-control-zoom, .leaflet-control-layers, #tp-edit'),
    outside: outside.length, caption: (document.getElementById('tp-print-view') || {}).innerText,
  };
}"""


def _number(key: bytes, head: bytes) -> int:
    match = re.search(rb"/" + key + rb" (\d+)", head)
    assert match is not None, (key, head)
    return int(match.group(1))


def image_coverage(pdf: bytes) -> list[tuple[int, int, float]]:
    """(width, height, share of painted pixels) of each image in a PDF Chromium wrote: a canvas prints as
    an RGB image with a greyscale soft mask (its alpha), each an uncompressed dictionary and a deflated
    stream."""
    heads = dict(re.findall(rb"\n(\d+) 0 obj\n(<<.*?>>)\s*stream\n", pdf, flags=re.S))
    out = []
    for head in heads.values():
        if b"/Subtype /Image" not in head or b"/SMask" not in head:
            continue
        mask = str(_number(b"SMask", head)).encode()
        start = pdf.index(b"stream\n", pdf.index(b"\n" + mask + b" 0 obj\n")) + len(b"stream\n")
        alpha = zlib.decompress(pdf[start : start + _number(b"Length", heads[mask])])
        painted = sum(1 for a in alpha if a > 0) / len(alpha)
        out.append((_number(b"Width", head), _number(b"Height", head), painted))
    return out


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("print")
    url = write_map(column_plan(root / "plan"), offline=True).resolve().as_uri()
    out: dict[str, Any] = {}
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 600})
        page.goto(url)
        page.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
        out["screen"] = page.evaluate(LAYOUT)
        out["pdf"] = page.pdf(format="A4")
        out["after"] = page.evaluate(LAYOUT)
        # the printed layout, as the print sees it: beforeprint, then the print media
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.emulate_media(media="print")
        out["print"] = page.evaluate(LAYOUT)
        b.close()
    return out


def test_the_whole_table_prints_under_a_map_of_the_plan_without_buttons(printed: dict[str, Any]) -> None:
    screen, paper = printed["screen"], printed["print"]
    # on screen the panel scrolls (40 rows in 600 px) and the buttons show
    assert screen["hiddenByScroll"] > 0
    assert screen["buttons"] >= 4
    # on paper: every row, nothing hidden behind a scrollbar, no button
    assert paper["rows"] == N_REPS
    assert paper["hiddenByScroll"] <= 0
    assert paper["buttons"] == 0
    # the map has its printed size and holds every area of the plan
    assert paper["width"] == pytest.approx(180 * MM, abs=1)
    assert paper["height"] == pytest.approx(125 * MM, abs=1)
    assert paper["outside"] == 0
    assert paper["caption"] == "Map: proposed alignment (the plan), coloured by rep."


def test_the_printed_map_holds_its_areas(printed: dict[str, Any]) -> None:
    """Chromium printed a canvas redrawn for the print from its record of drawing calls, and the areas'
    canvas (320 polygons) came out blank: the PDF held no image of it. Now it prints as an image of the
    printed map's canvas (the map's size and Leaflet's 30% margin on each side), the areas painted
    (a strip 40 x 8 areas across the map: 12% of the canvas)."""
    width, height = round(1.6 * 180 * MM), round(1.6 * 125 * MM)
    images = image_coverage(printed["pdf"])
    sized = [share for w, h, share in images if abs(w - width) <= 2 and abs(h - height) <= 2]
    assert sized, images
    assert max(sized) > 0.08, images


def test_the_screen_comes_back_after_the_print(printed: dict[str, Any]) -> None:
    screen, after = printed["screen"], printed["after"]
    assert after["width"] == screen["width"]
    assert after["height"] == screen["height"]
    assert after["buttons"] == screen["buttons"]
