"""Accounts given as a layer of points (GeoJSON, GeoPackage): point accounts at those points (QA14: a
GeoPackage of 324 Soho addresses passed validate, then plan solved it and exited 1 on its own
units.geojson, 'expected a Polygon or MultiPolygon')."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from click.testing import CliRunner
from shapely.geometry import Point, box

from territory_planner.cli import main
from tests.conftest import random_accounts, write_instance


def _files(tmp: Path) -> tuple[Path, Path, list[dict]]:
    rng = np.random.default_rng(3)
    rows = random_accounts(rng, 40)
    reps = [{"rep_id": f"R{j}", "lat": 33.0 + 4 * j, "lon": -95.0 + 5 * j} for j in range(3)]
    a, r = write_instance(tmp, rows, reps)
    return a, r, rows


def _plan(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["plan", *args, "--tolerance", "0.3", "--offline", "--quiet"])
    return res.exit_code, res.output


def test_a_layer_of_points_is_planned_as_point_accounts(tmp_path: Path) -> None:
    a, r, rows = _files(tmp_path)
    frame = pd.DataFrame(rows).drop(columns=["lat", "lon"])
    layer = gpd.GeoDataFrame(frame, geometry=[Point(x["lon"], x["lat"]) for x in rows], crs="EPSG:4326")
    layer.to_file(tmp_path / "points.geojson", driver="GeoJSON")
    code, out = _plan("--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "csv"))
    assert code == 0, out
    code, out = _plan(
        "--accounts", str(tmp_path / "points.geojson"), "--reps", str(r), "--out", str(tmp_path / "pts")
    )
    assert code == 0, out
    assert not (tmp_path / "pts" / "units.geojson").exists()  # no areas drawn for points
    by_csv = pd.read_csv(tmp_path / "csv" / "assignments.csv").set_index("account_id")["rep_id"]
    by_pts = pd.read_csv(tmp_path / "pts" / "assignments.csv").set_index("account_id")["rep_id"]
    assert by_pts.sort_index().equals(by_csv.sort_index())  # the same accounts at the same places


def test_points_among_areas_are_named_with_the_users_file_and_row(tmp_path: Path) -> None:
    a, r, rows = _files(tmp_path)
    frame = pd.DataFrame(rows).drop(columns=["lat", "lon"])
    shapes = [box(x["lon"] - 0.1, x["lat"] - 0.1, x["lon"] + 0.1, x["lat"] + 0.1) for x in rows]
    shapes[4] = Point(rows[4]["lon"], rows[4]["lat"])
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(frame, geometry=shapes, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    code, out = _plan("--accounts", str(path), "--reps", str(r), "--out", str(tmp_path / "o"))
    assert code == 1
    errors = pd.read_csv(tmp_path / "o" / "input_errors.csv", keep_default_na=False)
    assert list(errors["file"].map(lambda f: Path(f).name)) == ["mixed.geojson"]
    assert errors["row"].tolist() == [5]
    assert "a point among areas" in errors["message"].iloc[0]


def test_an_area_among_points_is_the_row_named(tmp_path: Path) -> None:
    """QA25 F6: one polygon among 690 points named the 690 points, "a point among areas", one row each,
    and never the polygon. The fewer kind is the one named."""
    a, r, rows = _files(tmp_path)
    frame = pd.DataFrame(rows).drop(columns=["lat", "lon"])
    shapes = [Point(x["lon"], x["lat"]) for x in rows]
    shapes[2] = box(rows[2]["lon"] - 0.1, rows[2]["lat"] - 0.1, rows[2]["lon"] + 0.1, rows[2]["lat"] + 0.1)
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(frame, geometry=shapes, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    code, out = _plan("--accounts", str(path), "--reps", str(r), "--out", str(tmp_path / "o"))
    assert code == 1
    errors = pd.read_csv(tmp_path / "o" / "input_errors.csv", keep_default_na=False)
    assert errors["row"].tolist() == [3]
    assert errors["value"].tolist() == ["Polygon"]
    said = "an area among points: every account of a file is an area or every one a point, and "
    assert errors["message"].iloc[0].startswith(f"{said}{len(rows) - 1} of this file's are points")
