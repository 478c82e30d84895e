"""Point accounts joined to area polygons: border points, points outside every area, named accounts."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from territory_planner import api
from territory_planner.errors import InfeasibleError, InputError
from territory_planner.geo.areas import join_points, nearest_area, read_areas
from territory_planner.options import build_options


def areas_file(folder: Path) -> Path:
    """Four 0.1-degree squares::

    Z3 Z4
    Z1 Z2     (Z1 at lon 0..0.1, lat 0..0.1)
    """
    boxes = [shapely.box(0.1 * c, 0.1 * r, 0.1 * (c + 1), 0.1 * (r + 1)) for r in range(2) for c in range(2)]
    gdf = gpd.GeoDataFrame({"area_id": ["Z1", "Z2", "Z3", "Z4"]}, geometry=boxes, crs="EPSG:4326")
    path = folder / "areas.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def write(folder: Path, rows: list[dict]) -> tuple[Path, Path]:
    a, r = folder / "accounts.csv", folder / "reps.csv"
    pd.DataFrame(rows).to_csv(a, index=False)
    pd.DataFrame(
        [{"rep_id": "R1", "lat": 0.05, "lon": 0.05}, {"rep_id": "R2", "lat": 0.15, "lon": 0.15}]
    ).to_csv(r, index=False)
    return a, r


def acc(i: str, lat: float, lon: float, **kw: object) -> dict:
    return {
        "account_id": i,
        "lat": lat,
        "lon": lon,
        "potential": 10.0,
        "workload": 1.0,
        "locked_rep": "",
        **kw,
    }


def test_outside_points_reported_with_rows(tmp_path: Path) -> None:
    a, r = write(
        tmp_path, [acc("A", 0.05, 0.05), acc("B", 0.5, 0.5), acc("C", 0.15, 0.15), acc("D", -1, 0.0)]
    )
    opts = build_options({"accounts": a, "reps": r, "areas": areas_file(tmp_path), "time_limit": 10})
    with pytest.raises(InputError) as exc:
        api.solve(opts)
    assert [(p.file, p.row) for p in exc.value.problems] == [(str(a), 2), (str(a), 4)]
    assert all("outside every area" in p.message for p in exc.value.problems)


def test_areas_become_units_border_tie_break_and_named(tmp_path: Path) -> None:
    rows = [
        acc("A1", 0.05, 0.05),
        acc("A2", 0.02, 0.03),
        acc("B", 0.05, 0.10),  # on the Z1/Z2 border: goes to Z1 (smallest id)
        acc("C", 0.05, 0.15),
        acc("D", 0.15, 0.05),
        acc("E", 0.15, 0.15),
        acc("N", 0.16, 0.16, locked_rep="R1"),  # named: stays a unit of its own inside Z4
    ]
    a, r = write(tmp_path, rows)
    opts = build_options(
        {
            "accounts": a,
            "reps": r,
            "areas": areas_file(tmp_path),
            "time_limit": 10,
            "balance": "potential",
            "tolerance": 0.5,
        }
    )
    out_dir = tmp_path / "plan"
    out = api.plan(opts, out_dir)
    p = out.problem
    unit = dict(zip(p.account_ids.tolist(), p.acc_unit.tolist(), strict=True))
    assert unit["A1"] == unit["A2"] == unit["B"]  # one Z1 unit, border point included
    assert len({unit["C"], unit["D"], unit["E"], unit["N"], unit["A1"]}) == 5
    assert p.n_units == 5
    rep = dict(zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True))
    assert rep["A1"] == rep["A2"] == rep["B"]
    assert rep["N"] == "R1"
    assert set(out.assignments["account_id"]) == {r["account_id"] for r in rows}  # nothing dropped
    units = json.loads((out_dir / "units.geojson").read_text(encoding="utf-8"))
    got = {f["properties"]["area_id"]: f["properties"]["account_id"] for f in units["features"]}
    assert got == {"Z1": "A1", "Z2": "C", "Z3": "D", "Z4": "E"}
    assert (out_dir / "map.html").is_file()


def _rook_contiguous(folder: Path, a: Path, r: Path):  # type: ignore[no-untyped-def]
    """Options for a plan by the four areas, rook adjacency, connected territories, potential +-5%."""
    return build_options(
        {
            "accounts": a,
            "reps": r,
            "areas": areas_file(folder),
            "contiguous": True,
            "rook": True,
            "time_limit": 10,
            "balance": "potential",
            "tolerance": 0.05,
        }
    )


def test_contiguous_by_area(tmp_path: Path) -> None:
    """Rook adjacency of the four areas; each rep's territory must be one piece of areas."""
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    a, r = write(tmp_path, rows)
    opts = _rook_contiguous(tmp_path, a, r)
    out = api.solve(opts)
    c = out.summary["contiguity"]
    assert c["contiguous"] is True
    assert c["pieces"] == {"R1": 1, "R2": 1}


def test_an_area_plans_edge_list_may_name_the_areas(tmp_path: Path) -> None:
    """QA54 F2: an --adjacency file of area-id pairs (a county adjacency file) was refused, row by row, as
    "unknown unit id '37009'". Here the list joins Z1-Z2 and Z3-Z4 only (not the squares' rook edges), so
    the connected plan is R1 = {Z1, Z2} and R2 = {Z3, Z4}."""
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    a, r = write(tmp_path, rows)
    edges = tmp_path / "edges.csv"
    edges.write_text("u,v\nZ1,Z2\nZ3,Z4\n", encoding="utf-8")
    opts = build_options(
        {
            "accounts": a,
            "reps": r,
            "areas": areas_file(tmp_path),
            "adjacency": edges,
            "contiguous": True,
            "time_limit": 10,
            "balance": "potential",
            "tolerance": 0.05,
        }
    )
    out = api.solve(opts)
    assert out.summary["contiguity"]["pieces"] == {"R1": 1, "R2": 1}
    got = dict(zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True))
    assert got == {"P0": "R1", "P2": "R1", "P1": "R2", "P3": "R2"}  # P0 in Z1, P2 in Z2, P1 in Z3, P3 in Z4


def test_an_outside_point_names_the_account_and_the_nearest_area(tmp_path: Path) -> None:
    """QA8 O5: Puerto Peñasco, 0.5 km off the coarse Sonora polygon, was "the account lies outside every
    area". Around the four squares (Z1..Z4, 0..0.2 degrees)::

        D is at lon 0.5, lat 0.5 (far: 47.2 km from Z4's corner 0.2, 0.2)
        Z3 Z4
        Z1 Z2 .B      B: 0.01 degrees of longitude east of Z2 (1.1 km at the equator)
        E (lat -1, lon 0.05, no name): one degree of latitude south of Z1, 111.2 km
    """
    rows = [
        acc("A", 0.05, 0.05, name="Inland"),
        acc("B", 0.05, 0.21, name="Puerto Peñasco"),
        acc("D", 0.5, 0.5, name="Far away"),
        acc("E", -1.0, 0.05, name=""),
    ]
    a, r = write(tmp_path, rows)
    opts = build_options({"accounts": a, "reps": r, "areas": areas_file(tmp_path), "time_limit": 10})
    with pytest.raises(InputError) as exc:
        api.validate(opts)
    got = [(p.file, p.row, p.column, p.message) for p in exc.value.problems]
    assert got == [
        (
            str(a),
            2,
            "lat/lon",
            "account B (Puerto Peñasco) lies 1.1 km outside every area; the nearest area is Z2: a coastal or "
            "border point on a coarse polygon? (move it inside, or use finer areas)",
        ),
        (
            str(a),
            3,
            "lat/lon",
            "account D (Far away) lies 47.2 km outside every area; the nearest area is Z4: the areas file "
            "does not cover it",
        ),
        (
            str(a),
            4,
            "lat/lon",
            "account E lies 111.2 km outside every area; the nearest area is Z1: the areas file does not "
            "cover it",
        ),
    ]


def test_a_swapped_lat_lon_pair_is_pointed_out(tmp_path: Path) -> None:
    boxes = gpd.GeoDataFrame({"area_id": ["Lyon"]}, geometry=[shapely.box(4.7, 45.6, 4.9, 45.9)], crs=4326)
    boxes.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    a, _ = write(tmp_path, [acc("A", 4.8, 45.7, name="Swapped")])
    areas = read_areas(tmp_path / "areas.geojson")
    with pytest.raises(InputError) as exc:
        join_points(areas, np.array([4.8]), np.array([45.7]), str(a))
    assert exc.value.problems[0].message.endswith(
        "the nearest area is Lyon; lat and lon swapped? (45.7, 4.8) lies in Lyon"
    )
    assert exc.value.problems[0].message.startswith("account A (Swapped) lies 6,0")  # about 6,000 km


def test_an_area_with_a_name_is_named_by_it(tmp_path: Path) -> None:
    """QA92 F5: "the nearest area is br-pa" of an areas file whose name column says Pará."""
    boxes = gpd.GeoDataFrame(
        {"area_id": ["br-pa", "br-ap"], "name": ["Pará", ""]},
        geometry=[shapely.box(-56.0, -9.0, -46.0, 2.0), shapely.box(-54.0, 2.5, -50.0, 4.0)],
        crs=4326,
    )
    boxes.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    a, _ = write(tmp_path, [acc("A", -1.3, -45.5, name="Coast"), acc("B", 4.2, -51.0, name="North")])
    areas = read_areas(tmp_path / "areas.geojson")
    with pytest.raises(InputError) as exc:
        join_points(areas, np.array([-1.3, 4.2]), np.array([-45.5, -51.0]), str(a))
    first, second = (p.message for p in exc.value.problems)
    assert "the nearest area is Pará (br-pa):" in first
    assert "the nearest area is br-ap:" in second  # no name: its id


def test_the_nearest_area_is_nearest_in_km_not_in_degrees() -> None:
    """At 60 degrees north a degree of longitude is half a degree of latitude long::

    N            N: 0.2 degrees north of the point (22.2 km)
    .   E        E: 0.3 degrees of longitude east (0.3 x cos 60 x 111.2 = 16.7 km): the nearest
    """
    from shapely.strtree import STRtree

    north = shapely.box(-0.1, 60.2, 0.1, 60.4)
    east = shapely.box(0.3, 59.9, 0.5, 60.1)
    nearest, km = nearest_area(STRtree([north, east]), 60.0, 0.0)
    assert nearest == 1
    assert km == pytest.approx(0.3 * np.cos(np.radians(60)) * 111.195, rel=2e-3)


def test_validate_takes_the_areas_of_plan(tmp_path: Path) -> None:
    """``validate`` accepts ``--areas`` like ``plan``: the accounts are counted by area, and a point outside
    every area is reported with its row, before any solve."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    def validate(accounts: Path, reps: Path) -> tuple[int, str]:
        args = ["validate", "--accounts", str(accounts), "--reps", str(reps), "--areas", str(areas)]
        res = CliRunner().invoke(main, args)
        return res.exit_code, res.output

    areas = areas_file(tmp_path)
    rows = [acc("A1", 0.05, 0.05), acc("A2", 0.02, 0.03), acc("C", 0.05, 0.15), acc("D", 0.15, 0.05)]
    code, output = validate(*write(tmp_path, rows))
    assert code == 0, output
    units = next(line for line in output.splitlines() if "│ units " in line)
    assert units.split("│")[2].strip() == "3"  # Z1 (A1, A2), Z2 (C), Z3 (D)
    (tmp_path / "bad").mkdir()
    code, output = validate(*write(tmp_path / "bad", [*rows, acc("X", 0.5, 0.5)]))
    assert code == 1
    assert "outside every area" in output


def test_a_named_column_keeps_big_accounts_out_of_their_area(tmp_path: Path) -> None:
    """QA6: NC cities planned by county (--areas) with a `named` column (True for the ten largest, so that
    Raleigh does not make Wake County one unit too big for any band) crashed with a traceback,
    "ValueError: output array is read-only" (pandas 3 hands out read-only arrays)."""
    rows = [
        acc("A1", 0.05, 0.05, named=False),
        acc("A2", 0.02, 0.03, named=True),  # a unit of its own inside Z1
        acc("C", 0.05, 0.15, named=False),
        acc("D", 0.15, 0.05, named=False),
        acc("E", 0.15, 0.15, named=False),
    ]
    a, r = write(tmp_path, rows)
    opts = build_options(
        {"accounts": a, "reps": r, "areas": areas_file(tmp_path), "balance": "potential", "tolerance": 0.5}
    )
    out = api.plan(opts, tmp_path / "plan")
    unit = dict(zip(out.problem.account_ids.tolist(), out.problem.acc_unit.tolist(), strict=True))
    assert unit["A1"] != unit["A2"]
    assert out.problem.n_units == 5


def test_an_area_plans_edit_counts_pieces_on_its_graph_or_says_it_cannot(tmp_path: Path) -> None:
    """QA49 F2 (and QA48 F1): an area plan's edit counts pieces on adjacency.csv, where the accounts of an
    area are one place; without it (removed), nothing can be counted, and the edit says so (it passed a cut
    territory without a word). Two accounts per area: moving one of Z1's to R2 splits nothing."""
    import shutil

    from click.testing import CliRunner

    from territory_planner.cli import main

    rows = [
        acc(f"P{k}{s}", 0.03 + 0.1 * (k % 2) + d, 0.03 + 0.1 * (k // 2))
        for k in range(4)
        for s, d in (("a", 0), ("b", 0.02))
    ]
    a, r = write(tmp_path, rows)
    args = [
        "plan",
        "--accounts",
        str(a),
        "--reps",
        str(r),
        "--areas",
        str(areas_file(tmp_path)),
        "--contiguous",
    ]
    res = CliRunner().invoke(
        main,
        [
            *args,
            "--rook",
            "--tolerance",
            "0.05",
            "--balance",
            "potential",
            "--out",
            str(tmp_path / "p"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    plan = pd.read_csv(tmp_path / "p" / "assignments.csv", dtype=str).set_index("account_id")
    first = plan.index[0]
    other = "R2" if plan.loc[first, "rep_id"] == "R1" else "R1"
    (tmp_path / "e.csv").write_text(f"account_id,rep_id\n{first},{other}\n", encoding="utf-8")
    res = CliRunner().invoke(
        main, ["edit", str(tmp_path / "p"), "--edits", str(tmp_path / "e.csv"), "--out", str(tmp_path / "ed")]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "ed" / "summary.json").read_text(encoding="utf-8"))
    broken = [v for v in summary["violations"] if v["constraint"] == "territory_contiguity"]
    assert broken == []  # the moved account's area partner stays where it was: no territory split
    shutil.copytree(tmp_path / "p", tmp_path / "bare")
    (tmp_path / "bare" / "adjacency.csv").unlink()
    res = CliRunner().invoke(
        main,
        ["edit", str(tmp_path / "bare"), "--edits", str(tmp_path / "e.csv"), "--out", str(tmp_path / "ed2")],
    )
    assert res.exit_code == 0, res.output
    assert "pieces of the territories, districts and regions are not counted" in " ".join(res.output.split())


def test_a_border_point_goes_to_the_smaller_numeric_area_id(tmp_path: Path) -> None:
    """QA54 F8: a point on the border of areas 9 and 10 went to 10, the ids compared as text."""
    boxes = [shapely.box(0.0, 0.0, 0.1, 0.1), shapely.box(0.1, 0.0, 0.2, 0.1)]
    gdf = gpd.GeoDataFrame({"area_id": [10, 9]}, geometry=boxes, crs="EPSG:4326")
    gdf.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    areas = read_areas(tmp_path / "areas.geojson")
    got = join_points(areas, np.array([0.05]), np.array([0.1]), "accounts.csv")
    assert str(areas.ids[got[0]]) == "9"


def test_a_family_member_apart_from_its_area_is_said(tmp_path: Path) -> None:
    """QA54 F1: an account of a family goes with its family, not with its area's other accounts, so the
    area may be split between two reps: it was not said."""
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    rows.append(acc("F1", 0.04, 0.04, parent_id="FAM"))  # in Z1, beside P0
    rows.append(acc("F2", 0.14, 0.14, parent_id="FAM"))  # in Z4, beside P3
    a, r = write(tmp_path, rows)
    opts = build_options({"accounts": a, "reps": r, "areas": areas_file(tmp_path), "balance": "potential"})
    inputs, _ = api.load(opts)
    notes = [w for w in inputs.warnings if w.startswith("--areas: area")]
    assert len(notes) == 2
    assert notes[0].startswith("--areas: area Z1 holds F1 of family FAM, which goes with its family")


def test_an_area_edge_list_with_a_foreign_pair_names_that_pair_only(tmp_path: Path) -> None:
    """QA55 F3: a county list with one pair naming a county beyond the areas file (as a national file
    has) was read as account ids: one "unknown unit id" problem per area."""
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    a, r = write(tmp_path, rows)
    edges = tmp_path / "edges.csv"
    edges.write_text("u,v\nZ1,Z2\nZ3,Z4\nZ4,Z9\n", encoding="utf-8")
    from click.testing import CliRunner

    from territory_planner.cli import main

    args = ["validate", "--accounts", str(a), "--reps", str(r), "--areas", str(areas_file(tmp_path))]
    res = CliRunner().invoke(main, [*args, "--adjacency", str(edges), "--contiguous"], terminal_width=200)
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert said.count("unknown unit id") == 1, said
    assert "unknown unit id 'Z9'" in said


def test_a_piece_cut_off_by_empty_areas_names_them(tmp_path: Path) -> None:
    """QA54 F6: with rook adjacency, accounts in Z1 and Z4 only are cut apart by Z2 and Z3, which hold
    no account (no units): the proof says so, where it spoke of "the map" as if Z1 were an island."""
    rows = [acc("A", 0.05, 0.05), *(acc(f"D{k}", 0.15 + 0.01 * k, 0.15, named=True) for k in range(3))]
    a, r = write(tmp_path, rows)
    opts = _rook_contiguous(tmp_path, a, r)
    with pytest.raises(InfeasibleError) as exc:
        api.solve(opts)
    texts = [c.message for c in exc.value.conflicts]
    assert texts
    assert all("area(s) Z2, Z3 that hold no account" in t for t in texts), texts
    assert any("(account A)" in t for t in texts), texts


def test_a_point_in_a_hole_of_an_area_is_said_to_be_there(tmp_path: Path) -> None:
    """QA88 F6: a point in an unfilled hole of an area (a lake) was "4.5 km outside every area; ... a coastal
    or border point on a coarse polygon?"."""
    ring = shapely.box(0.0, 0.0, 0.3, 0.3)
    lake = shapely.box(0.1, 0.1, 0.2, 0.2)
    gdf = gpd.GeoDataFrame(
        {"area_id": ["Z1", "Z2"]},
        geometry=[
            shapely.Polygon(ring.exterior.coords, [lake.exterior.coords]),
            shapely.box(0.3, 0.0, 0.6, 0.3),
        ],
        crs="EPSG:4326",
    )
    areas = tmp_path / "areas.geojson"
    gdf.to_file(areas, driver="GeoJSON")
    a, r = write(
        tmp_path, [acc("A", 0.05, 0.05), acc("LAKE", 0.15, 0.15), acc("C", 0.15, 0.45), acc("FAR", 0.15, 0.9)]
    )
    with pytest.raises(InputError) as exc:
        api.solve(build_options({"accounts": a, "reps": r, "areas": areas, "time_limit": 10}))
    by_row = {p.row: p.message for p in exc.value.problems}
    assert by_row[2].startswith("account LAKE lies in a hole of area Z1, inside no area: a lake")
    assert "outside every area; the nearest area is Z2" in by_row[4]  # beyond every outline: as before


def test_areas_that_overlap_where_accounts_lie_are_said(tmp_path: Path) -> None:
    """An account strictly inside two areas (a polygon drawn over its neighbour, not a shared border) was
    joined to the smaller id without a word; the join now names both areas, their rows, the overlap's
    share and the accounts inside both. A point on a shared border is no overlap (it is in neither's
    interior), and areas that overlap where no account lies are left alone."""
    boxes = [shapely.box(0.1 * c, 0.1 * r, 0.1 * (c + 1), 0.1 * (r + 1)) for r in range(2) for c in range(2)]
    boxes[1] = shapely.box(0.075, 0.0, 0.2, 0.1)  # Z2 reaches a quarter of the way into Z1
    boxes[3] = shapely.box(0.1, 0.1, 0.2, 0.21)  # Z4 reaches past the map's top: overlaps nothing
    gdf = gpd.GeoDataFrame({"area_id": ["Z1", "Z2", "Z3", "Z4"]}, geometry=boxes, crs="EPSG:4326")
    gdf.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    rows += [acc("IN1", 0.05, 0.09), acc("IN2", 0.06, 0.08)]  # inside Z1 and Z2 both
    rows.append(acc("EDGE", 0.15, 0.1))  # on the border of Z2 and Z4 only
    a, r = write(tmp_path, rows)
    opts = build_options(
        {"accounts": a, "reps": r, "areas": tmp_path / "areas.geojson", "balance": "potential"}
    )
    inputs, _ = api.load(opts)
    notes = [w for w in inputs.warnings if "overlap" in w]
    assert len(notes) == 1, inputs.warnings
    text = notes[0]
    assert "areas Z1 (row 1) and Z2 (row 2) overlap (25.0% of the smaller one)" in text
    assert "2 account(s) inside both (IN1, IN2) joined to Z1" in text
    from click.testing import CliRunner

    from territory_planner.cli import main

    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--areas", str(tmp_path / "areas.geojson"),
            "--tolerance", "0.9", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("areas Z1 (row 1) and Z2 (row 2) overlap" in n for n in summary["notes"]), summary["notes"]


def test_an_area_drawn_over_many_is_said_once(tmp_path: Path) -> None:
    """QA95 F2: each US state drawn over its counties gave a line per county (3,230 in all): an area that
    overlaps three or more is now said once, with the areas it overlaps counted."""
    boxes = [shapely.box(0.1 * c, 0.1 * r, 0.1 * (c + 1), 0.1 * (r + 1)) for r in range(2) for c in range(2)]
    boxes.append(shapely.box(0.0, 0.0, 0.2, 0.2))  # the "state" over its four "counties"
    gdf = gpd.GeoDataFrame({"area_id": ["Z1", "Z2", "Z3", "Z4", "Z9"]}, geometry=boxes, crs="EPSG:4326")
    gdf.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    rows = [acc(f"P{k}", 0.03 + 0.1 * (k % 2), 0.03 + 0.1 * (k // 2)) for k in range(4)]
    a, r = write(tmp_path, rows)
    opts = build_options(
        {"accounts": a, "reps": r, "areas": tmp_path / "areas.geojson", "balance": "potential"}
    )
    inputs, _ = api.load(opts)
    notes = [w for w in inputs.warnings if "overlap" in w]
    assert notes == [
        "areas.geojson: area Z9 (row 5) overlaps 4 areas where accounts lie (Z1 (row 1), Z2 (row 2), "
        "Z3 (row 3), ...); 4 account(s) inside two areas (P0, P1, P2, ...) joined to the smaller id: check "
        "the polygons"
    ]
