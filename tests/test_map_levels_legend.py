"""The map's legend follows "Colour by" (QA E7), rep colours never look alike (QA E8), popups open clear
of the map's controls (QA E10). Browser tests run in headless Chromium (skipped without it).

The plan: the sample plan of map_fixtures with R1 and R2 in district "West" (region "All") and R3 in
district "East" (region "All").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from map_fixtures import CHROMIUM, assignments_frame, territories_frame, write_plan

from territory_planner.render.colour_space import delta_e00, hex_to_lab, min_pairwise_delta_e
from territory_planner.render.legend import legend_html
from territory_planner.render.levels import grouped_colours, level_payload
from territory_planner.render.palette import PALETTE, greedy_colouring, rep_adjacency
from territory_planner.render.payload import build_payload
from territory_planner.render.plan_folder import read_plan_folder


def district_plan(folder: Path) -> Path:
    a = assignments_frame()
    t = territories_frame(a)
    t["district"] = ["West", "West", "East"]
    t["region"] = ["All", "All", "All"]
    return write_plan(folder, a, t)


# ---- E8: rep colours ---------------------------------------------------------------------------------


def grid_plan(n_districts: int, per_district: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Reps on a grid of cells (5 accounts each), a district = ``per_district`` consecutive cells::

    row 1 | r5 r6 r7 r8 r9       (districts in runs of per_district reps)
    row 0 | r0 r1 r2 r3 r4
    """
    rng = np.random.default_rng(1)
    n = n_districts * per_district
    cols = int(np.ceil(np.sqrt(n)))
    lat, lon, lab = [], [], []
    for k in range(n):
        for _ in range(5):
            lon.append(k % cols + rng.uniform(0.1, 0.9))
            lat.append(k // cols + rng.uniform(0.1, 0.9))
            lab.append(k)
    territories = pd.DataFrame(
        {"rep_id": [f"R{k}" for k in range(n)], "district": [f"D{k // per_district}" for k in range(n)]}
    )
    return territories, np.array(lat), np.array(lon), np.array(lab)


def rep_colours(territories: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, lab: np.ndarray) -> list[str]:
    """As payload._rep_colours does for a point plan."""
    neighbours = rep_adjacency(len(territories), lat, lon, lab)
    levels = level_payload(territories, lat, lon, list(lab))
    return grouped_colours(levels, [PALETTE[c] for c in greedy_colouring(neighbours)], neighbours)


@pytest.mark.parametrize(
    ("n_districts", "per_district", "min_delta_e"),
    [(8, 2, 18.0), (6, 4, 15.0), (8, 5, 12.0), (3, 10, 12.0)],
)
def test_every_pair_of_rep_colours_differs_clearly(
    n_districts: int, per_district: int, min_delta_e: float
) -> None:
    """All reps share one legend: every pair, across districts too, at least ``min_delta_e`` apart
    (CIEDE2000; about 2 is just noticeable). The former district shading gave 5 (QA E8: San Antonio
    #821719 vs Los Angeles #990010)."""
    territories, lat, lon, lab = grid_plan(n_districts, per_district)
    colours = rep_colours(territories, lat, lon, lab)
    assert min_pairwise_delta_e(colours) >= min_delta_e


def test_rep_colours_stay_in_their_district_family() -> None:
    """Each rep's colour is nearer its own district's colour than any other district's."""
    territories, lat, lon, lab = grid_plan(6, 4)
    levels = level_payload(territories, lat, lon, list(lab))
    assert levels is not None
    d = levels["district"]
    colours = rep_colours(territories, lat, lon, lab)
    centres = hex_to_lab(d["color"])
    for colour, g in zip(colours, d["of"], strict=True):
        dist = delta_e00(hex_to_lab(colour)[None, :], centres)
        assert int(np.argmin(dist)) == g


def test_neighbours_differ_clearly_in_a_large_plan() -> None:
    """100 reps in 20 districts: too many for every pair, but touching territories stay apart."""
    territories, lat, lon, lab = grid_plan(20, 5)
    colours = rep_colours(territories, lat, lon, lab)
    nb = rep_adjacency(100, lat, lon, lab)
    worst = min(
        float(delta_e00(hex_to_lab(colours[i]), hex_to_lab(colours[j]))) for i in range(100) for j in nb[i]
    )
    assert worst >= 8.0


def test_plan_without_districts_has_no_look_alikes() -> None:
    """17 reps and no district: the 20-colour palette holds pairs 3 apart (#76b7b2 / #86bcb6)."""
    territories, lat, lon, lab = grid_plan(17, 1)
    territories = territories.drop(columns="district")
    colours = rep_colours(territories, lat, lon, lab)
    assert min_pairwise_delta_e(colours) >= 18.0


def test_delta_e00_matches_the_published_test_data() -> None:
    """Sharma, Wu and Dalal (2005), pairs 1, 7 and 24 of their table."""
    pairs = [
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ]
    for a, b, expected in pairs:
        assert float(delta_e00(np.array(a), np.array(b))) == pytest.approx(expected, abs=1e-4)


# ---- E7: the legend of each level --------------------------------------------------------------------


def test_legend_has_a_table_per_level(tmp_path: Path) -> None:
    plan = read_plan_folder(district_plan(tmp_path / "p"))
    payload = build_payload(plan)
    levels = payload.data["levels"]
    html = legend_html(
        plan.territories, payload.colours, plan.summary, n_accounts=9, n_moved=1, levels=levels
    )
    assert '<table data-level="territory">' in html
    district = html[html.index('<table data-level="district" hidden>') :].split("</table>")[0]
    assert district.count("<tr data-group=") == 2
    west = district[district.index('data-group="West"') :].split("</tr>")[0]
    assert f"background:{levels['district']['color'][0]}" in west
    assert "R1, R2" in west
    # West: R1 + R2 hold A1-A6 and A9, 450,000 of potential against two thirds of 610,000: +10.7%
    assert "<td>7</td>" in west
    assert "$450k" in west
    assert "<td>+10.7</td>" in west
    assert '<table data-level="region" hidden>' in html
    # no levels, no level tables
    plain = legend_html(plan.territories, payload.colours, plan.summary, n_accounts=9, n_moved=1)
    assert 'data-level="district"' not in plain


# ---- browser -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    from territory_planner.render.map import write_map

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed")
    url = write_map(district_plan(tmp_path_factory.mktemp("lv") / "p"), offline=True).resolve().as_uri()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = b.new_page(viewport={"width": 1100, "height": 620})
        pg.goto(url)
        pg.wait_for_selector('#tp-status[data-ready="1"]', state="attached")
        pg.url_base = url  # type: ignore[attr-defined]
        yield pg
        b.close()


LEVELS_JS = "JSON.parse(document.getElementById('tp-data').textContent).levels"


def legend_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#tp-legend table[data-level] tbody tr",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.innerText.split('\\t')[0].trim())",
    )


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_legend_follows_the_colour_by_switch(page: Any) -> None:
    """Colour by district: the panel lists West and East with their map colour and reps; by region:
    All; back to territory: the three reps."""
    assert legend_rows(page)[:1] == ["R1 Alice"]
    page.select_option("select.tp-level-select", "district")
    assert legend_rows(page) == ["West", "East"]
    assert page.get_attribute("#tp-status", "data-legend-level") == "district"
    west = page.eval_on_selector(
        '#tp-legend tr[data-group="West"] .tp-swatch', "e => getComputedStyle(e).backgroundColor"
    )
    colour = page.evaluate(
        "JSON.parse(document.getElementById('tp-data').textContent).levels.district.color[0]"
    )
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    assert west == f"rgb({r}, {g}, {b})"
    assert "R1, R2" in page.inner_text('#tp-legend tr[data-group="West"]')
    page.select_option("select.tp-level-select", "region")
    assert legend_rows(page) == ["All"]
    # the rep homes take the level's colour too
    home = page.eval_on_selector(".tp-home span", "e => e.style.background")
    region = page.evaluate(
        "JSON.parse(document.getElementById('tp-data').textContent).levels.region.color[0]"
    )
    r, g, b = (int(region[i : i + 2], 16) for i in (1, 3, 5))
    assert home == f"rgb({r}, {g}, {b})"
    page.select_option("select.tp-level-select", "territory")
    assert legend_rows(page)[0].startswith("R1 Alice")
    assert len(legend_rows(page)) == 3


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_layer_control_swatches_follow_the_colour_by_switch(page: Any) -> None:
    """QA13 12: coloured by district, the layer control still showed each territory in its own colour.
    Its swatches now take the level's colours (R1 and R2 in West's, R3 in East's) and return to the reps'
    colours with the territory level."""
    data = page.evaluate("JSON.parse(document.getElementById('tp-data').textContent)")

    def swatches() -> list[str]:
        return page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label .tp-swatch",
            "els => els.slice(0, 3).map(e => getComputedStyle(e).backgroundColor)",
        )

    page.select_option("select.tp-level-select", "district")
    district = data["levels"]["district"]
    assert swatches() == [_rgb(district["color"][district["of"][j]]) for j in range(3)]
    page.select_option("select.tp-level-select", "territory")
    assert swatches() == [_rgb(c) for c in data["reps"]["color"][:3]]


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_popups_open_clear_of_the_map_controls(page: Any) -> None:
    """A7 is the top-left-most account of the northern row: its popup opens above it, where the
    Proposed/Current, "Colour by" and Edit controls are; the map pans so that none covers it."""
    page.goto(page.url_base + "#probe=A7&popup=1")
    page.reload()
    page.wait_for_selector(".leaflet-popup", state="visible")
    page.wait_for_timeout(200)
    boxes = page.evaluate(
        """() => {
        const r = e => { const b = e.getBoundingClientRect();
                         return [b.left, b.top, b.right, b.bottom]; };
        return {
          popup: r(document.querySelector('.leaflet-popup')),
          map: r(document.querySelector('.folium-map')),
          controls: Array.from(document.querySelectorAll('.leaflet-top .leaflet-control')).map(r),
        };
    }"""
    )
    p = boxes["popup"]
    m = boxes["map"]
    assert m[0] <= p[0]
    assert m[1] <= p[1]
    assert p[2] <= m[2]
    assert p[3] <= m[3]
    for c in boxes["controls"]:
        overlap = not (p[0] >= c[2] or p[2] <= c[0] or p[1] >= c[3] or p[3] <= c[1])
        assert not overlap, (p, c)
