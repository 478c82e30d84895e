"""QA32: input as ops people really produce it, read wrongly without a word before.

Each case is a small file of the kind named (a GeoPackage of two layers, a reps layer of points, a county
layer with centroid columns joined one row off, ...); each asserts what is read and what is reported,
with file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs

REPS = "rep_id,lat,lon\nR1,0.5,0.5\nR2,0.5,3.5\n"


def squares(n: int = 4, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """``n`` unit squares in a row (0..n degrees east), potential 1 each."""
    return gpd.GeoDataFrame(
        {"account_id": [f"A{i}" for i in range(n)], "potential": 1.0},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)],
        crs=crs,
    )


def _reps(tmp_path: Path) -> Path:
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    return r


def _problems(accounts: Path, reps: Path, **kw: object) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(InputError) as info:
        load_inputs(accounts, reps, **kw)  # type: ignore[arg-type]
    return [(p.file, p.row, p.column, p.message) for p in info.value.problems]


def test_a_geopackage_is_read_from_the_layer_named_like_the_table(tmp_path: Path) -> None:
    """F-f: an older 90-county layer first, the 'accounts' layer second: the first was read."""
    path = tmp_path / "book.gpkg"
    squares(3).to_file(path, layer="counties_2025")
    squares(4).to_file(path, layer="accounts")
    loaded = load_inputs(path, _reps(tmp_path))
    assert len(loaded.accounts) == 4


def test_a_geopackage_of_layers_none_named_like_the_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.gpkg"
    squares(1).to_file(path, layer="states")
    squares(4).to_file(path, layer="counties")
    ((file, row, _, message),) = _problems(path, _reps(tmp_path))
    assert (file, row) == (str(path), None)
    assert "2 layers ('states', 'counties') and none is named 'accounts'" in message


def test_projected_metres_in_a_geojson_without_a_crs_member_are_named(tmp_path: Path) -> None:
    """F-r: UTM metres read as degrees gave one antimeridian and two range problems per county."""
    path = tmp_path / "utm.geojson"
    metres = squares(3).set_geometry(
        [shapely.box(500_000 + i * 1000, 4e6, 501_000 + i * 1000, 4.001e6) for i in range(3)]
    )
    path.write_text(metres.to_json(drop_id=True))  # RFC 7946: no crs member, taken as EPSG:4326
    ((_, row, _, message),) = _problems(path, _reps(tmp_path))
    assert row is None
    assert "so they are projected (metres or feet)" in message
    assert "(500,000, 4,000,000) to (503,000, 4,001,000)" in message


def test_a_line_or_a_collection_among_polygons_is_an_input_problem_with_its_row(tmp_path: Path) -> None:
    """F-w: validate passed them; plan failed after its solve naming its own units.geojson."""
    gdf = squares(4)
    gdf.loc[1, "geometry"] = shapely.LineString([(1, 0), (2, 1)])
    gdf.loc[2, "geometry"] = shapely.GeometryCollection([shapely.box(2, 0, 3, 1), shapely.Point(2.5, 0.5)])
    path = tmp_path / "accounts.geojson"
    gdf.to_file(path)
    found = {(row, column): message for _, row, column, message in _problems(path, _reps(tmp_path))}
    assert set(found) == {(2, "geometry"), (3, "geometry")}
    assert found[2, "geometry"].startswith("a LineString where an account's area")
    assert "keep its polygon(s) only" in found[3, "geometry"]


def test_lat_lon_columns_far_outside_their_polygons_are_reported(tmp_path: Path) -> None:
    """F-g: centroid columns joined one row off replaced the polygons' points for distances unchecked."""
    gdf = squares(4)
    gdf["lat"] = 0.5
    gdf["lon"] = [1.5, 2.5, 3.5, 0.5]  # each the next square's centre
    path = tmp_path / "accounts.geojson"
    gdf.to_file(path)
    found = _problems(path, _reps(tmp_path))
    assert [(row, column) for _, row, column, _ in found] == [(i, "lat/lon") for i in range(1, 5)]
    assert "lie 56 km outside the row's polygon" in found[0][3]  # half a degree out, ~55.5 km
    gdf["lon"] = [0.5, 1.5, 2.5, 3.5]  # inside: used as they are
    gdf.to_file(path)
    assert len(load_inputs(path, _reps(tmp_path)).accounts) == 4


def test_a_reps_layer_of_points_gives_the_homes(tmp_path: Path) -> None:
    """F-l: the points were dropped and the planner chose every home."""
    accounts = tmp_path / "accounts.geojson"
    squares(4).to_file(accounts)
    reps = gpd.GeoDataFrame(
        {"rep_id": ["R1", "R2"]}, geometry=[shapely.Point(0.5, 0.5), shapely.Point(3.5, 0.5)], crs=4326
    ).to_crs(3857)
    path = tmp_path / "reps.gpkg"
    reps.to_file(path)
    loaded = load_inputs(accounts, path)
    assert loaded.reps["lon"].tolist() == pytest.approx([0.5, 3.5])
    assert loaded.reps["lat"].tolist() == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize(("lat", "lon"), [("Latitude", "Longitude"), ("home_lat", "home_lon")])
def test_rep_homes_under_another_header_are_named(tmp_path: Path, lat: str, lon: str) -> None:
    """F-q: the homes were dropped without a word (home_lat/home_lon: territories.csv's own columns)."""
    accounts = tmp_path / "accounts.geojson"
    squares(4).to_file(accounts)
    reps = tmp_path / "reps.csv"
    reps.write_text(f"rep_id,{lat},{lon}\nR1,0.5,0.5\nR2,0.5,3.5\n")
    found = {column: message for _, _, column, message in _problems(accounts, reps)}
    assert set(found) == {lat.lower(), lon.lower()}
    assert "the planner reads 'lat'" in found[lat.lower()]
    assert "every rep's home would be chosen by the planner" in found[lat.lower()]


def test_an_owner_column_under_another_name_is_named(tmp_path: Path) -> None:
    """F-p: HubSpot's "Company owner", and any column holding nothing but the roster's rep ids."""
    accounts = tmp_path / "accounts.csv"
    base = "account_id,lat,lon,potential,{}\nA1,0.5,0.5,1,R1\nA2,0.5,1.5,1,R1\nA3,0.5,2.5,1,R2\n"
    for header in ("Company owner", "Betreuer"):
        accounts.write_text(base.format(header))
        ((_, row, column, message),) = _problems(accounts, _reps(tmp_path))
        assert (row, column) == (None, header.lower())
        assert "'current_rep'" in message
    accounts.write_text(base.format("Visits per year").replace(",R1", ",12").replace(",R2", ",30"))
    ((_, _, column, message),) = _problems(accounts, _reps(tmp_path))
    assert column == "visits per year"
    assert "every account's workload would be 1" in message


def test_a_point_or_a_line_in_an_areas_file_is_named_by_its_row(tmp_path: Path) -> None:
    """F-ab: the account lying in it was told to move inside every area."""
    from territory_planner.geo.areas import read_areas

    gdf = squares(3).rename(columns={"account_id": "area_id"})
    gdf.loc[1, "geometry"] = shapely.Point(1.5, 0.5)
    path = tmp_path / "areas.geojson"
    gdf.to_file(path)
    with pytest.raises(InputError) as info:
        read_areas(path)
    ((problem),) = info.value.problems
    assert (problem.row, problem.column) == (2, "geometry")
    assert problem.message == "an area is a polygon, not a Point"


def _roster(tmp_path: Path, text: str) -> Path:
    r = tmp_path / "reps.csv"
    r.write_text(text, encoding="utf-8")
    return r


def _accounts(tmp_path: Path, current: tuple[str, ...] = ("R1", "R1", "R2", "R2")) -> Path:
    a = tmp_path / "accounts.csv"
    rows = [f"A{i},0.5,{i + 0.5},1,{rep}" for i, rep in enumerate(current)]
    a.write_text("account_id,lat,lon,potential,current_rep\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return a


def test_a_total_row_under_the_roster_is_refused(tmp_path: Path) -> None:
    """F-u: "Total" with the capacities' sum was planned as a 7th rep taking 46% of the potential."""
    reps = _roster(tmp_path, "rep_id,lat,lon,capacity\nR1,0.5,0.5,1\nR2,0.5,3.5,1\nR3,0.5,2,1\nTotal,,,3\n")
    ((_, row, column, message),) = _problems(_accounts(tmp_path), reps)
    assert (row, column) == (4, "rep_id")
    assert message.startswith("a total row of the spreadsheet")


def test_a_capacity_far_above_the_others_and_ids_differing_in_case_are_warned_about(tmp_path: Path) -> None:
    """F-u: 80 typed for 80%; F-k: R1 and r1, one rep twice, planned as two seats."""
    reps = _roster(
        tmp_path, "rep_id,lat,lon,capacity\nR1,0.5,0.5,1\nR2,0.5,3.5,80\nR3,0.5,2,1\nr1,0.5,0.5,1\n"
    )
    warnings = load_inputs(_accounts(tmp_path), reps).warnings
    assert any("rep R2's capacity 80 is 80 times the roster's median (1)" in w for w in warnings)
    assert any("'R1' (row 1) and 'r1' (row 4) differ only in letter case" in w for w in warnings)
    # a rep of 1.5 beside 1 and 0.5 is no total row: it has a home
    plain = _roster(tmp_path, "rep_id,lat,lon,capacity\nR1,0.5,0.5,1\nR2,0.5,3.5,1.5\nR3,0.5,2,0.5\n")
    assert not any("capacity" in w or "case" in w for w in load_inputs(_accounts(tmp_path), plain).warnings)
    summed = _roster(tmp_path, "rep_id,lat,lon,capacity\nR1,0.5,0.5,1\nR2,0.5,3.5,1\nR3,0.5,2,1\nAll,,,3\n")
    assert any(
        "the sum of the other reps' capacities and it has no home" in w
        for w in load_inputs(_accounts(tmp_path), summed).warnings
    )


def test_a_rep_name_where_its_id_belongs_is_said_to_be_a_name(tmp_path: Path) -> None:
    """F-y: "a rep who left? keep Rep Hamburg in the reps file", where Rep Hamburg is R2's name."""
    reps = _roster(tmp_path, "rep_id,name,lat,lon\nR1,Rep Berlin,0.5,0.5\nR2,Rep Hamburg,0.5,3.5\n")
    found = _problems(_accounts(tmp_path, ("R1", "R1", "Rep Hamburg", "R2")), reps)
    ((_, row, column, message),) = found
    assert (row, column) == (3, "current_rep")
    assert "'Rep Hamburg' is the name of rep R2: current_rep takes rep ids, not names" in message


def test_ids_in_another_unicode_form_or_with_a_zero_width_space_match(tmp_path: Path) -> None:
    """F-t: a Mac tool's decomposed "Müller" was no rep "Müller"; F-b: "\\u200bR2" pasted from a web page."""
    reps = _roster(tmp_path, "rep_id,lat,lon\nM\u00fcller,0.5,0.5\n\u200bR2,0.5,3.5\n")
    loaded = load_inputs(_accounts(tmp_path, ("Mu\u0308ller", "M\u00fcller", "R2", "R2")), reps)
    assert loaded.reps["rep_id"].tolist() == ["M\u00fcller", "R2"]
    assert set(loaded.accounts["current_rep"]) == {"M\u00fcller", "R2"}


def test_whole_float_ids_read_as_whole_numbers_and_long_ones_are_refused(tmp_path: Path) -> None:
    """F-i: a Parquet float id 1000.0 was written "1000.0" into the plan; F-m: 16-digit numbers lost their
    last digits (a float keeps 15) and were read as "4000000000000000.0"."""
    frame = pd.DataFrame(
        {"account_id": [1000.0, 1001.0, 1002.0], "lat": 0.5, "lon": [0.5, 1.5, 2.5], "potential": 1.0}
    )
    path = tmp_path / "accounts.parquet"
    frame.to_parquet(path)
    assert load_inputs(path, _reps(tmp_path)).accounts["account_id"].tolist() == ["1000", "1001", "1002"]
    frame["account_id"] = [4e15, 4e15 + 1000, 4e15 + 2000]
    frame.to_parquet(path)
    found = _problems(path, _reps(tmp_path))
    assert [(row, column) for _, row, column, _ in found] == [
        (1, "account_id"),
        (2, "account_id"),
        (3, "account_id"),
    ]
    assert "a number of 16 or more digits" in found[0][3]


def test_a_title_line_above_the_header_is_one_problem(tmp_path: Path) -> None:
    """F-v: a CRM report's title line made every data row "a separator too many"."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        '"Accounts by Owner - FY27"\n\naccount_id,lat,lon,potential\n'
        "A1,0.5,0.5,1\nA2,0.5,1.5,1\nA3,0.5,2.5,1\n"
    )
    ((_, row, _, message),) = _problems(a, _reps(tmp_path))
    assert row is None
    assert message.startswith("the first line ('Accounts by Owner - FY27') is taken as the header")
    assert "data row 1 (account_id, lat, lon, potential, ...)" in message


def test_a_title_line_with_a_comma_in_it_is_one_problem(tmp_path: Path) -> None:
    """QA33: "Accounts export, Q3 2026" names two columns, so each data row was "a separator too many";
    the first data row, all names and wider than that header, is the header. A file whose rows are wider
    than the header but hold values (not names) is still reported row by row."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        "Accounts export, Q3 2026\naccount_id,lat,lon,potential\nA1,0.5,0.5,1\nA2,0.5,1.5,1\nA3,0.5,2.5,1\n"
    )
    ((_, row, _, message),) = _problems(a, _reps(tmp_path))
    assert row is None
    assert message.startswith("the first line ('Accounts export, Q3 2026') is taken as the header")
    assert "data row 1 (account_id, lat, lon, potential, ...)" in message
    a.write_text("account_id,lat,lon,potential\n")  # a header and no rows: no title line to look for
    ((_, row, _, message),) = _problems(a, _reps(tmp_path))
    assert message == "the file has a header but no data rows"
    a.write_text("account_id,lat\nA1,0.5,0.5,1\nA2,0.5,1.5,1\nA3,0.5,2.5,1\n")
    rows = [row for _, row, _, message in _problems(a, _reps(tmp_path)) if "a separator too" in message]
    assert rows == [1, 2, 3]


def test_units_and_multipliers_are_not_called_currencies(tmp_path: Path) -> None:
    """F-a: "1.0 FTE" and "20 HRS" were "a currency sign" with --currency advice; "1.5 MIO" was told to
    be written 1.5, a millionfold error."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        "account_id,lat,lon,potential,workload\n"
        "A1,0.5,0.5,1.5 MIO,1\nA2,0.5,1.5,EUR 12,20 HRS\nA3,0.5,2.5,1,1\n"
    )
    found = {(row, column): message for _, row, column, message in _problems(a, _reps(tmp_path))}
    assert "'MIO' for 1,000,000? write the amount in full, 1500000" in found[1, "potential"]
    assert "a currency sign 'EUR' in the cell? write the amount alone, 12" in found[2, "potential"]
    assert "a unit 'HRS' in the cell? write the number alone, 20" in found[2, "workload"]


def test_a_reps_segment_list_written_with_commas_is_named(tmp_path: Path) -> None:
    """F-aa: "commercial, public" was one segment no account has, reported as an infeasible band."""
    a = tmp_path / "accounts.csv"
    a.write_text("account_id,lat,lon,potential,segment\nA1,0.5,0.5,1,commercial\nA2,0.5,1.5,1,public\n")
    reps = _roster(tmp_path, 'rep_id,lat,lon,segments\nR1,0.5,0.5,"commercial, public"\nR2,0.5,3.5,public\n')
    found = {(file, row, column): message for file, row, column, message in _problems(a, reps)}
    assert "segments are separated by ';' (commercial;public)" in found[str(reps), 1, "segments"]


def test_utf8_text_read_as_latin1_from_a_shapefile_without_its_cpg_is_refused(tmp_path: Path) -> None:
    """F-z: ids "ZÃ¼rich" planned and matching no lock or CRM, exit 0."""
    gdf = squares(2)
    gdf["account_id"] = ["Z\u00fcrich", "Gen\u00e8ve"]
    path = tmp_path / "areas.shp"
    gdf.to_file(path, encoding="utf-8")
    path.with_suffix(".cpg").write_text("ISO-8859-1")  # as good as missing: GDAL then reads Latin-1
    ((_, _, column, message),) = _problems(path, _reps(tmp_path))
    assert column == "account_id"
    assert "UTF-8 read as Latin-1 ('Z\u00c3\u00bcrich' for 'Z\u00fcrich')" in message
    path.with_suffix(".cpg").write_text("UTF-8")
    assert load_inputs(path, _reps(tmp_path)).accounts["account_id"].tolist() == [
        "Z\u00fcrich",
        "Gen\u00e8ve",
    ]


# QA33: the checks above, tried on legitimate files; each of these was refused or misread by them.


def test_columns_that_merely_equal_rep_ids_are_no_owner_column(tmp_path: Path) -> None:
    """F2 / F12: rep ids 1, 2, 3 beside a priority column of 1 to 3 or a balanced 'visits' column, and a
    region column whose labels are also rep ids, were refused as a hidden current_rep."""
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_id,lat,lon,potential,priority,visits,sales_region\n"
        "A1,0.5,0.5,1,1,2,North\nA2,0.5,1.5,1,2,3,South\nA3,0.5,2.5,1,3,1,North\n"
    )
    numeric = _roster(tmp_path, "rep_id,lat,lon\n1,0.5,0.5\n2,0.5,3.5\n3,0.5,2\n")
    assert len(load_inputs(accounts, numeric, ("potential", "visits")).accounts) == 3
    named = _roster(tmp_path, "rep_id,lat,lon\nNorth,0.5,0.5\nSouth,0.5,3.5\n")
    assert len(load_inputs(accounts, named).accounts) == 3


def test_a_multi_line_cell_with_commas_is_no_stray_quote(tmp_path: Path) -> None:
    """F1: "Industriepark Nord, Halle 3, Tor 2, Rampe 5" as a line of a 4-column file's address cell."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        'account_id,lat,lon,potential,address\nA1,0.5,0.5,1,"Industriepark Nord, Halle 3, Tor 2, Rampe 5\n'
        'Suite 5, Floor 2, Berlin, DE, Tor 3"\nA2,0.5,1.5,1,x\nA3,0.5,2.5,1,y\n'
    )
    assert load_inputs(a, _reps(tmp_path)).accounts["account_id"].tolist() == ["A1", "A2", "A3"]


def test_a_geopackage_with_a_qgis_style_table_reads_its_one_layer(tmp_path: Path) -> None:
    """F3: QGIS's layer_styles table (no geometry) made a one-layer GeoPackage "2 layers, none named"."""
    import pyogrio

    path = tmp_path / "counties.gpkg"
    squares(4).to_file(path, layer="counties")
    pyogrio.write_dataframe(
        pd.DataFrame({"f_table_name": ["counties"], "styleQML": ["<qgis/>"]}), path, layer="layer_styles"
    )
    assert len(load_inputs(path, _reps(tmp_path)).accounts) == 4


def test_a_multiplier_beside_a_currency_sign_is_written_in_full(tmp_path: Path) -> None:
    """F18: "$1.5MM" was told "write the amount alone, 1.5"; F15: German "Mio."."""
    a = tmp_path / "accounts.csv"
    a.write_text("account_id,lat,lon,potential\nA1,0.5,0.5,$1.5MM\nA2,0.5,1.5,2 Mio.\nA3,0.5,2.5,1\n")
    found = {row: message for _, row, _, message in _problems(a, _reps(tmp_path))}
    assert "'MM' for 1,000,000? write the amount in full, 1500000" in found[1]
    assert "'Mio' for 1,000,000? write the amount in full, 2000000" in found[2]


def test_reps_layers_of_multipoints_and_of_territory_polygons(tmp_path: Path) -> None:
    """F11: a home stored as a MultiPoint of one point was refused; F17: a reps layer of territory
    polygons, valid before (the planner chose the homes), was refused on every row."""
    accounts = tmp_path / "accounts.geojson"
    squares(4).to_file(accounts)
    one = shapely.MultiPoint([(0.5, 0.5)])
    reps = gpd.GeoDataFrame({"rep_id": ["R1", "R2"]}, geometry=[one, shapely.Point(3.5, 0.5)], crs=4326)
    reps.to_file(tmp_path / "reps.gpkg")
    loaded = load_inputs(accounts, tmp_path / "reps.gpkg")
    assert loaded.reps["lon"].tolist() == pytest.approx([0.5, 3.5])
    areas = reps.set_geometry([shapely.box(0, 0, 2, 1), shapely.box(2, 0, 4, 1)])
    areas.to_file(tmp_path / "territories.gpkg")
    assert loaded.reps is not None
    assert load_inputs(accounts, tmp_path / "territories.gpkg").reps["lat"].isna().all()


def test_a_name_with_a_no_break_space_in_a_geojson_is_no_mojibake(tmp_path: Path) -> None:
    """F8: "JOSÉ\\u00a0SILVA" was refused as "JOSɠSILVA" read as Latin-1; a GeoJSON is UTF-8 anyway."""
    gdf = squares(2)
    gdf["name"] = ["JOS\u00c9\u00a0SILVA", "x"]
    path = tmp_path / "accounts.geojson"
    gdf.to_file(path)
    assert len(load_inputs(path, _reps(tmp_path)).accounts) == 2


def test_one_point_in_a_hole_is_a_warning(tmp_path: Path) -> None:
    """F4: one centroid of 9 polygons outside its polygon (a ring around a city) was a refusal."""
    gdf = squares(9)
    gdf["lat"], gdf["lon"] = 0.5, [i + 0.5 for i in range(9)]
    gdf.loc[0, "lon"] = 2.5  # the first one's point in the third square
    path = tmp_path / "accounts.geojson"
    gdf.to_file(path)
    warnings = load_inputs(path, _reps(tmp_path)).warnings
    assert any("the lat/lon of 1 row(s) (1) lie outside their polygons" in w for w in warnings)


def test_a_title_line_padded_to_the_tables_width_is_one_problem(tmp_path: Path) -> None:
    """F19: Excel pads a title line with separators: "values but no name" for every other column."""
    a = tmp_path / "accounts.csv"
    a.write_text("Accounts by Owner - FY27,,,\naccount_id,lat,lon,potential\nA1,0.5,0.5,1\nA2,0.5,1.5,1\n")
    ((_, row, _, message),) = _problems(a, _reps(tmp_path))
    assert row is None
    assert "but data row 1 (account_id, lat, lon, potential, ...) looks like it" in message


def test_out_dot_and_an_empty_errors_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F9: `plan --out .` passed the early check, solved, and failed at the end ("Device or resource
    busy"); F13: `validate --errors` into an empty file (a script's mktemp) wanted --force."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    accounts = _accounts(tmp_path)
    reps = _reps(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["plan", "--accounts", str(accounts), "--reps", str(reps), "--out", "."])
    assert res.exit_code == 2
    assert "not '.' or '..'" in res.output
    empty = tmp_path / "errors.csv"
    empty.write_text("")
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id,lat,lon\nA1,95,0\n")
    res = CliRunner().invoke(
        main, ["validate", "--accounts", str(bad), "--reps", str(reps), "--errors", str(empty)]
    )
    assert res.exit_code == 1
    assert empty.read_text().startswith("file,row,column,value,message")


def test_three_decimals_in_a_decimal_comma_file_are_said_to_be_read_as_thousands(tmp_path: Path) -> None:
    """QA32 F-o: a semicolon file with coordinates of three decimals ("52.524") is read with the decimal
    comma (no cell shows otherwise), so 52.524 is 52524; the range problem showed 52.524 and said it was
    out of -90..90, without the reading."""
    a = tmp_path / "accounts.csv"
    a.write_text("account_id;lat;lon;potential\nA1;52.524;13.411;342635\nA2;48.137;11.575;1200\n")
    found = {(row, column): message for _, row, column, message in _problems(a, _reps(tmp_path))}
    assert "(read as 52524: the file's decimal separator is taken to be the comma" in found[1, "lat"]
    assert "write 52,524 for 52.524" in found[1, "lat"]


def test_a_collection_of_polygons_is_read_as_a_multipolygon(tmp_path: Path) -> None:
    """QA33 F20: a GeometryCollection made only of polygons was told to "keep its polygon(s) only"."""
    gdf = squares(4)
    gdf.loc[1, "geometry"] = shapely.GeometryCollection(
        [shapely.box(1, 0, 1.5, 1), shapely.box(1.5, 0, 2, 1)]
    )
    path = tmp_path / "accounts.geojson"
    gdf.to_file(path)
    loaded = load_inputs(path, _reps(tmp_path))
    assert loaded.geometry is not None
    assert loaded.geometry.iloc[1].geom_type in ("Polygon", "MultiPolygon")
    assert loaded.geometry.iloc[1].area == pytest.approx(1.0)


def test_a_name_keeps_its_zero_width_joiners_and_an_id_loses_them(tmp_path: Path) -> None:
    """QA61 F5: U+200C and U+200D were taken out of every name ("إلٰه‌آباد" lost its non-joiner, a
    Devanagari half form its joiner); they are spelling in a name. An id still loses them (a zero-width
    character pasted with an id would make it another id), and a name its zero-width spaces."""
    named = "\u0625\u0644\u0670\u0647\u200c\u0622\u0628\u0627\u062f"
    half = "\u0915\u094d\u200d\u0937"
    rows = "account_id,name,lat,lon,potential\nA1\u200c,{},0.5,0.5,1\nA2,{},0.5,1.5,1\nA3,\u200bX,0.5,2.5,1\n"
    path = tmp_path / "named.csv"
    path.write_text(rows.format(named, half), encoding="utf-8")
    loaded = load_inputs(path, _reps(tmp_path))
    assert loaded.accounts["name"].tolist() == [named, half, "X"]
    assert loaded.accounts["account_id"].tolist() == ["A1", "A2", "A3"]
