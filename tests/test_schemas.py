"""Input contracts: every problem at once, with file, row and column; nothing coerced or dropped."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from tests.conftest import line_instance, write_instance


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in exc.value.problems}


def test_valid_inputs_load_with_case_insensitive_columns(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    frame = pd.DataFrame(accounts).rename(columns={"account_id": "Account_ID", "lat": "LAT"})
    a, r = write_instance(tmp_path, [], reps)
    frame.to_csv(a, index=False)
    loaded = load_inputs(a, r)
    assert list(loaded.accounts["account_id"]) == [f"A{i}" for i in range(1, 7)]
    assert loaded.accounts["lat"].dtype == float


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[1]["account_id"] = "A1"  # duplicate of row 1
    accounts[2]["lat"] = 95.0  # out of range
    accounts[3]["potential"] = -5.0  # negative
    accounts[4]["workload"] = "lots"  # not a number
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    found = problems_of(exc)
    assert {(2, "account_id"), (3, "lat"), (4, "potential"), (5, "workload")} <= found
    assert all(p.file == str(a) for p in exc.value.problems)
    dup = next(p for p in exc.value.problems if p.column == "account_id")
    assert "first seen on row 1" in dup.message


def test_empty_cells_and_unknown_reps_are_problems(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["account_id"] = ""
    accounts[1]["current_rep"] = "R9"
    accounts[2]["lon"] = None
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    found = problems_of(exc)
    assert (1, "account_id") in found
    assert (3, "lon") in found


def test_unknown_current_rep_is_reported_with_row(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[1]["current_rep"] = "R9"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (p,) = exc.value.problems
    assert (p.row, p.column, p.value) == (2, "current_rep", "R9")


def test_family_locked_to_two_reps(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    for k, lock in ((0, "R1"), (1, "R2")):
        accounts[k]["parent_id"] = "F1"
        accounts[k]["locked_rep"] = lock
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert {p.row for p in exc.value.problems} == {1, 2}
    assert "locked to 2 different reps" in exc.value.problems[0].message


def test_segment_nobody_serves(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["segment"] = "federal"
    for rep in reps:
        rep["segments"] = "commercial"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert any("no rep serves segment 'federal'" in p.message and p.row == 1 for p in exc.value.problems)


def test_a_segment_nobody_serves_is_shown_as_written(tmp_path: Path) -> None:
    """QA46 F3: the cell `GOV` was shown as `gov` (segments are compared without case, shown as written)."""
    accounts, reps = line_instance()
    accounts[0]["segment"] = "GOV"
    accounts[1]["segment"] = "Gov"
    for rep in reps:
        rep["segments"] = "commercial"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    shown = {(p.row, p.value, p.message) for p in exc.value.problems if p.column == "segment"}
    assert shown == {(1, "GOV", "no rep serves segment 'GOV'"), (2, "Gov", "no rep serves segment 'Gov'")}


def test_empty_file_and_wrong_encoding(tmp_path: Path) -> None:
    _, reps = line_instance()
    a, r = write_instance(tmp_path, [], reps)
    a.write_text("")
    with pytest.raises(InputError, match="empty"):
        load_inputs(a, r)
    a.write_bytes("account_id,lat,lon\nCaf\xe9,0,0\n".encode("latin-1"))
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert "not valid UTF-8" in exc.value.problems[0].message
    assert exc.value.problems[0].row == 1
    # on the header line: no data row (QA29 F13: it was row 1, the first data row's number too)
    a.write_bytes("account_id,lat,lon,n\xe4me\nA1,0,0,x\n".encode("latin-1"))
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert exc.value.problems[0].row is None
    assert "(in the header)" in exc.value.problems[0].message
    # in Excel's sep= first line: not the header, the line after it (QA111 O2); UTF-16 alike
    for data in (
        b"sep=\xa7\naccount_id\xa7lat\xa7lon\nA1\xa70\xa70\n",
        "sep=;\n".encode("utf-16")[:-2] + b"\x00\xd8",
    ):
        a.write_bytes(data)
        with pytest.raises(InputError) as exc:
            load_inputs(a, r)
        (problem,) = exc.value.problems
        assert problem.row is None
        assert "(in the first line, Excel's 'sep=' line)" in problem.message, problem.message
        assert "header" not in problem.message
    # the header's first byte after a sep= line is the header's (QA112 F2), in UTF-8 and UTF-16 alike
    for data in (b"sep=;\n\xffaccount_id;lat;lon\n", "sep=;\n".encode("utf-16") + b"\x00\xd8"):
        a.write_bytes(data)
        with pytest.raises(InputError) as exc:
            load_inputs(a, r)
        (problem,) = exc.value.problems
        assert "line 2" in problem.message, problem.message
        assert problem.message.endswith("(in the header)"), problem.message


def test_missing_required_columns(tmp_path: Path) -> None:
    _, reps = line_instance()
    a, r = write_instance(tmp_path, [{"account_id": "A1", "potential": 3}], reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert {p.column for p in exc.value.problems} == {"lat", "lon"}


def test_rep_with_half_a_home(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    reps[1]["lon"] = None
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert (2, "lon") in problems_of(exc)


def test_parquet_and_geojson_inputs(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    accounts, reps = line_instance()
    _, r = write_instance(tmp_path, accounts, reps)
    pq = tmp_path / "accounts.parquet"
    pd.DataFrame(accounts).to_parquet(pq)
    assert len(load_inputs(pq, r).accounts) == 6
    frame = pd.DataFrame(accounts).drop(columns=["lat", "lon"])
    geo = gpd.GeoDataFrame(
        frame,
        geometry=[box(a["lon"] - 0.05, -0.05, a["lon"] + 0.05, 0.05) for a in accounts],
        crs="EPSG:4326",
    )
    gj = tmp_path / "accounts.geojson"
    geo.to_file(gj, driver="GeoJSON")
    loaded = load_inputs(gj, r)
    assert loaded.accounts["lon"].tolist() == pytest.approx([a["lon"] for a in accounts], abs=1e-6)
    assert loaded.geometry is not None
    nocrs = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):  # pyogrio warns that the file will have no CRS: the point
        geo.set_crs(None, allow_override=True).to_file(nocrs, driver="GPKG")
    with pytest.raises(InputError, match="no coordinate reference system.*fit longitude/latitude") as err:
        load_inputs(nocrs, r)
    # the examples name the code to set and the file, not a placeholder (QA36 F6)
    assert "gdf.set_crs('EPSG:4326')" in str(err.value)
    assert "-a_srs EPSG:4326 out.gpkg nocrs.gpkg" in str(err.value)
    # the same polygons in metres (a state plane without its .prj): the message says they are projected
    projected = tmp_path / "projected.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        geo.to_crs(3857).set_crs(None, allow_override=True).to_file(projected, driver="GPKG")
    with pytest.raises(InputError, match="projected .metres or feet.: set the EPSG code of that projection"):
        load_inputs(projected, r)


def test_a_file_without_crs_has_its_columns_checked_in_the_same_run(tmp_path: Path) -> None:
    """QA37 F4: a polygon file with no CRS and no account_id column needed two runs: the CRS first, the
    column after it was set."""
    import geopandas as gpd
    from shapely.geometry import box

    accounts, reps = line_instance()
    _, r = write_instance(tmp_path, accounts, reps)
    frame = pd.DataFrame(accounts).drop(columns=["lat", "lon", "account_id"])
    geo = gpd.GeoDataFrame(
        frame, geometry=[box(a["lon"] - 0.05, -0.05, a["lon"] + 0.05, 0.05) for a in accounts], crs=None
    )
    nocrs = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        geo.to_file(nocrs, driver="GPKG")
    with pytest.raises(InputError) as err:
        load_inputs(nocrs, r)
    said = [(p.column, p.message) for p in err.value.problems]
    assert any("no coordinate reference system" in m for _, m in said)
    assert ("account_id", next(m for c, m in said if c == "account_id")) in said
    assert not any(c in ("lat", "lon") for c, _ in said)  # the polygons give them
    # a bad cell: reported in the same run too (QA39 F5)
    cells = geo.assign(account_id=[a["account_id"] for a in accounts])
    cells.loc[3, "potential"] = -5.0
    bad = tmp_path / "nocrs_cell.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        cells.to_file(bad, driver="GPKG")
    with pytest.raises(InputError) as err:
        load_inputs(bad, r)
    assert any("no coordinate reference system" in p.message for p in err.value.problems)
    assert any(p.column == "potential" and p.row == 4 for p in err.value.problems)
