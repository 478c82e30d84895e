"""Invalid polygons are repaired with make_valid (every part kept) and reported, never changed silently.

The hand-drawn map (lon/lat, 0.01 degree squares)::

    +----+\\  /|        A: a square (row 1), home of the only rep
    | A  | \\/ |        B: a bow-tie (row 2), its ring crossing itself at (0.01, 0.01)
    |    | /\\ |
    +----+/  \\|        B touches A only along x = 0, the edge of B's left lobe

``buffer(0)`` keeps B's right lobe only: B would touch no other account and ``--contiguous`` would
"prove" that the map is in pieces.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from territory_planner import api
from territory_planner.errors import InputError
from territory_planner.geo.repair import STRUCTURE, repair_polygons
from territory_planner.options import PlanOptions

SQUARE = shapely.box(-0.02, 0.0, 0.0, 0.02)
BOWTIE = shapely.Polygon([(0, 0), (0.02, 0.02), (0.02, 0), (0, 0.02), (0, 0)])


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    accounts = tmp_path / "units.gpkg"
    gpd.GeoDataFrame(
        {"account_id": ["A", "B"], "potential": [10.0, 10.0], "workload": [1.0, 1.0]},
        geometry=[SQUARE, BOWTIE],
        crs="EPSG:4326",
    ).to_file(accounts, driver="GPKG")
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,0.01,-0.01\n")
    return accounts, reps


def test_the_picture() -> None:
    assert not BOWTIE.is_valid
    assert not BOWTIE.buffer(0).intersects(SQUARE)  # the lossy repair cuts B off
    assert shapely.make_valid(BOWTIE).intersects(SQUARE)


def test_validate_contiguous_sees_the_repaired_bowtie_touch_its_neighbour(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    accounts, reps = _inputs(tmp_path)
    info = api.validate(PlanOptions(accounts=accounts, reps=reps, contiguous=True))
    assert info["map_pieces"] == 1  # no "map in pieces" proof about a map the user never gave
    (note,) = info["repaired_geometries"]
    assert f"{accounts} row 2:" in note
    assert "Self-intersection" in note
    assert "make_valid" in note
    assert "row 2 (Self-intersection" in caplog.text  # the console hears it too


def test_plan_summary_lists_the_repair(tmp_path: Path) -> None:
    accounts, reps = _inputs(tmp_path)
    out = tmp_path / "plan"
    api.plan(PlanOptions(accounts=accounts, reps=reps, contiguous=True, time_limit=20), out)
    summary = json.loads((out / "summary.json").read_text())
    (repair,) = summary["repaired_geometries"]
    assert (repair["row"], repair["column"]) == (2, "geometry")
    assert repair["value"].startswith("Self-intersection")
    assert any("row 2: invalid polygon (Self-intersection" in n for n in summary["notes"])
    units = json.loads((out / "units.geojson").read_text())
    drawn = shapely.from_geojson(json.dumps(units["features"][1]["geometry"]))
    assert drawn.area == pytest.approx(shapely.make_valid(BOWTIE).area, rel=1e-6)  # both lobes


def test_valid_polygons_are_left_alone() -> None:
    series = gpd.GeoSeries([SQUARE, None], crs="EPSG:4326")
    fixed = repair_polygons(series, "units.gpkg")
    assert fixed.geometry is series
    assert fixed.repaired == ()


def test_a_polygon_with_no_area_is_bad_input_with_file_row_column() -> None:
    flat = shapely.Polygon([(0, 0), (1, 0), (2, 0), (0, 0)])  # collapses to a line
    series = gpd.GeoSeries([SQUARE, BOWTIE, flat], crs="EPSG:4326")
    with pytest.raises(InputError) as exc:
        repair_polygons(series, "units.gpkg")
    (problem,) = exc.value.problems
    assert (problem.file, problem.row, problem.column) == ("units.gpkg", 3, "geometry")
    assert "no area" in problem.message


@pytest.mark.skipif(not STRUCTURE, reason="make_valid's 'structure' method needs shapely 2.1 and GEOS 3.10")
def test_a_shell_nested_in_its_own_shell_stays_whole() -> None:
    # a county drawn as a square with a second, smaller square inside it (GEOS: "Nested shells"): the
    # even-odd rule would cut the inner square out as a hole; the unit keeps its whole area
    outer = shapely.box(0.0, 0.0, 0.04, 0.04)
    nested = shapely.MultiPolygon([outer, shapely.box(0.01, 0.01, 0.02, 0.02)])
    assert not nested.is_valid
    fixed = repair_polygons(gpd.GeoSeries([nested, BOWTIE], crs="EPSG:4326"), "units.gpkg")
    assert fixed.geometry.iloc[0].area == pytest.approx(outer.area)
    assert fixed.geometry.iloc[1].area == pytest.approx(BOWTIE.envelope.area / 2)  # both lobes
    assert "overlapping shells united" in fixed.repaired[0].message


# A bow-tie whose ring crosses itself at its centre with the crossing on the horizontal midline: GEOS
# puts the representative point of the invalid ring on a corner (0, 0), outside both repaired lobes.
MIDLINE_BOWTIE = shapely.Polygon([(0, 0), (0.02, 0), (0, 0.02), (0.02, 0.02), (0, 0)])


def test_an_accounts_point_is_taken_from_its_repaired_polygon(tmp_path: Path) -> None:
    assert not MIDLINE_BOWTIE.is_valid
    repaired = shapely.make_valid(MIDLINE_BOWTIE)
    assert not repaired.contains(MIDLINE_BOWTIE.representative_point())  # the trap this test guards
    accounts = tmp_path / "units.gpkg"
    gpd.GeoDataFrame(
        {"account_id": ["A", "B"], "potential": [10.0, 10.0], "workload": [1.0, 1.0]},
        geometry=[SQUARE, MIDLINE_BOWTIE],
        crs="EPSG:4326",
    ).to_file(accounts, driver="GPKG")
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,0.01,-0.01\n")
    inputs, _problem = api.load(PlanOptions(accounts=accounts, reps=reps))
    b = inputs.accounts.set_index("account_id").loc["B"]
    assert repaired.contains(shapely.Point(b["lon"], b["lat"]))
    assert [p.row for p in inputs.repaired] == [2]


def _wrapped_ring() -> shapely.Polygon:
    """An island at the antimeridian drawn as on a sphere (as world-atlas draws Fiji and Russia): its
    ring goes from 179.5 E straight on to 179.5 W, a 359-degree jump on a flat map."""
    return shapely.Polygon([(179.5, -17.0), (-179.5, -17.0), (-179.5, -16.0), (179.5, -16.0)])


def test_a_polygon_wrapped_across_the_antimeridian_is_an_input_error(tmp_path: Path) -> None:
    accounts = tmp_path / "world.geojson"
    gpd.GeoDataFrame(
        {"account_id": ["NZ", "FJ"], "potential": [10.0, 10.0], "workload": [1.0, 1.0]},
        geometry=[shapely.box(172.0, -41.0, 175.0, -38.0), _wrapped_ring()],
        crs="EPSG:4326",
    ).to_file(accounts, driver="GeoJSON")
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,-41.3,174.8\n")
    with pytest.raises(InputError) as err:
        api.validate(PlanOptions(accounts=accounts, reps=reps))
    (problem,) = err.value.problems
    assert (problem.file, problem.row, problem.column) == (str(accounts), 2, "geometry")
    assert "antimeridian" in problem.message
    assert problem.value == "359.0"


def test_a_wrapped_polygon_that_is_also_invalid_is_not_repaired_into_a_world_band() -> None:
    wrapped = shapely.Polygon([(179.5, 0), (-179.5, 1), (-179.5, 0), (179.5, 1)])  # a bow-tie too
    assert not wrapped.is_valid
    with pytest.raises(InputError) as err:
        repair_polygons(gpd.GeoSeries([SQUARE, wrapped], crs="EPSG:4326"), "units.gpkg")
    assert [(p.row, "antimeridian" in p.message) for p in err.value.problems] == [(2, True)]
