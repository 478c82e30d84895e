"""units.geojson, the polygons the map draws: every polygon account, family members included, with the
borders that neighbours share still shared.

The hand-drawn map (lon/lat, 0.1 degree squares)::

    +----+----+----+
    | A  | B  | C  |      B and C are one family (parent_id H): one unit for the model,
    +----+----+----+      but three counties to draw

QA6: on the 100 North Carolina counties, Orange and Chatham (family UNC-Health with Alamance) were left
blank in map.html: units.geojson held one feature per unit, the family's first member's polygon.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territory_planner import api
from territory_planner.geo.areas import units_geojson
from territory_planner.options import PlanOptions
from territory_planner.render.plan_folder import read_plan_folder

BOXES = {k: shapely.box(0.1 * i, 0.0, 0.1 * (i + 1), 0.1) for i, k in enumerate("ABC")}


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    accounts = tmp_path / "counties.geojson"
    gpd.GeoDataFrame(
        {
            "account_id": list(BOXES),
            "potential": [10.0, 5.0, 5.0],
            "workload": [1.0, 1.0, 1.0],
            "parent_id": ["", "H", "H"],
        },
        geometry=list(BOXES.values()),
        crs="EPSG:4326",
    ).to_file(accounts, driver="GeoJSON")
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,0.05,0.05\nR2,0.05,0.25\n")
    return accounts, reps


def test_every_family_member_keeps_its_own_polygon_in_the_plan_folder(tmp_path: Path) -> None:
    accounts, reps = _inputs(tmp_path)
    out = tmp_path / "plan"
    api.plan(
        PlanOptions(accounts=accounts, reps=reps, balance=("potential",), tolerance={"potential": 0.5}), out
    )
    feats = json.loads((out / "units.geojson").read_text())["features"]
    drawn = {f["properties"]["account_id"]: shapely.geometry.shape(f["geometry"]) for f in feats}
    assert sorted(drawn) == ["A", "B", "C"]
    for k, box in BOXES.items():
        assert drawn[k].symmetric_difference(box).area < 1e-6 * box.area
    assert sorted(read_plan_folder(out).units or {}) == ["A", "B", "C"]
    html = (out / "map.html").read_text(encoding="utf-8")
    assert html.count('"row":[0,1,2]') + html.count('"row": [0, 1, 2]') == 1  # the map draws all three


def test_neighbours_keep_their_shared_border_when_simplified_for_display() -> None:
    """Two units of a 1-degree square split by a wiggly border (x = 0.5 + dx * 1e-4); the left ring
    starts on the border. Simplified one by one (QA6: NC counties), the two sides of the border came
    out different: a gap between them, and the map's territory outline (their union) showed a spike
    into the territory along the Edgecombe-Pitt border."""
    dx = [0.0, -0.9, -1.8, -1.9, 1.3, 1.7, 0.4, 0.9, 0.2, 1.7, 1.3, -2.0, 1.4, -1.9, 0.0]
    border = [(0.5 + d * 1e-4, k / 14) for k, d in enumerate(dx)]
    ring = [(0.0, 0.0), *border, (0.0, 1.0)][::-1]
    left = shapely.Polygon(ring[14:] + ring[:14])
    right = shapely.Polygon([(1.0, 0.0), (1.0, 1.0), *border[::-1]])
    assert shapely.coverage_is_valid(np.array([left, right], dtype=object))
    shapes = units_geojson(np.array(["L", "R"]), np.array([0, 1]), {0: left, 1: right}, {})
    feats = json.loads(shapes.geojson)["features"]
    drawn = np.array([shapely.geometry.shape(f["geometry"]) for f in feats], dtype=object)
    assert shapely.coverage_is_valid(drawn)
    assert shapely.union_all(drawn).area == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("off", [-1e-7, 3e-5])
def test_neighbours_that_almost_tile_are_cleaned_before_they_are_simplified(off: float) -> None:
    """The same wiggly border, digitised twice: the right unit's copy of it is off by a hair, overlapping
    the left unit (-1e-7 degree) or leaving a gap narrower than the display's tolerance (3e-5 degree, as
    two states' maps joined do). Simplified one by one (QA110 F3: 98 pairs of Missouri and Kansas counties
    no longer met, and the map drew outlines through the inside of territories, districts and regions):
    the two are now cleaned into one coverage first and still meet after the simplification."""
    dx = [0.0, -0.9, -1.8, -1.9, 1.3, 1.7, 0.4, 0.9, 0.2, 1.7, 1.3, -2.0, 1.4, -1.9, 0.0]
    border = [(0.5 + d * 1e-4, k / 14) for k, d in enumerate(dx)]
    twin = [(x + (off if 0 < k < 14 else 0.0), y) for k, (x, y) in enumerate(border)]
    ring = [(0.0, 0.0), *border, (0.0, 1.0)][::-1]
    left = shapely.Polygon(ring[14:] + ring[:14])
    right = shapely.Polygon([(1.0, 0.0), (1.0, 1.0), *twin[::-1]])
    assert not shapely.coverage_is_valid(np.array([left, right], dtype=object), gap_width=1e-4)
    if not hasattr(shapely, "coverage_clean"):
        pytest.skip("GEOS without coverage cleaning")
    shapes = units_geojson(np.array(["L", "R"]), np.array([0, 1]), {0: left, 1: right}, {})
    feats = json.loads(shapes.geojson)["features"]
    drawn = np.array([shapely.geometry.shape(f["geometry"]) for f in feats], dtype=object)
    assert shapely.coverage_is_valid(drawn, gap_width=1e-4)
    union = shapely.union_all(drawn)
    assert union.geom_type == "Polygon"
    assert not list(union.interiors)
    assert union.area == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("west", [0.4, 0.9])  # inside its neighbour (emptied), or 91% under it (a sliver)
def test_an_enclave_drawn_on_top_of_its_neighbour_is_kept_when_the_rest_is_cleaned(west: float) -> None:
    """us-atlas draws Falls Church on top of Fairfax (no hole for it): the cleaning merges it into Fairfax
    and leaves it empty. It is kept as it was, and its neighbours are still simplified as one coverage."""
    from territory_planner.geo.areas import simplify_coverage

    if not hasattr(shapely, "coverage_clean"):
        pytest.skip("GEOS without coverage cleaning")
    fairfax, east = shapely.box(0, 0, 1, 1), shapely.box(0, 1, 1, 2)  # "east" to the north here
    falls_church = shapely.box(west, 0.4, 0.45 if west < 0.45 else 1.01, 0.45)  # QA111 F3: 91% under
    out, shared = simplify_coverage(np.array([fairfax, falls_church, east], dtype=object), 1e-4)
    assert not shared  # the enclave overlaps Fairfax: the map's outlines come from the originals
    assert out[1].area == pytest.approx(falls_church.area, rel=1e-6)
    assert shapely.coverage_is_valid(np.array([out[0], out[2]], dtype=object))
    assert shapely.union_all([out[0], out[2]]).area == pytest.approx(2.0)
