"""How input problems reach the planner: every one reachable, each saying what is wrong.

Found by QA: ``validate`` cut its table with "... and N more (see input_errors.csv)" but wrote no such file
(only ``plan`` does, in its --out folder); a polygon row without geometry was reported as "lat is empty".
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.cli_support import MAX_ROWS_SHOWN
from territory_planner.errors import InputError, Problem
from territory_planner.io.load import load_inputs
from tests.conftest import line_instance, write_instance


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _many_problems(tmp_path: Path, n: int = MAX_ROWS_SHOWN + 7) -> tuple[Path, Path]:
    """``n`` accounts, each with another negative potential: ``n`` problems, each a row on screen."""
    accounts = [
        {"account_id": f"A{i}", "lat": 0.0, "lon": 0.5, "potential": -1 - i, "workload": 1} for i in range(n)
    ]
    return write_instance(tmp_path, accounts, line_instance()[1])


def test_validate_does_not_point_at_a_file_it_did_not_write(tmp_path: Path) -> None:
    a, r = _many_problems(tmp_path)
    res = run("validate", "--accounts", str(a), "--reps", str(r))
    assert res.exit_code == 1
    assert "... and 7 more (pass --errors FILE to write them all)" in res.output
    assert "input_errors.csv" not in res.output
    assert not list(tmp_path.rglob("input_errors.csv"))


def test_validate_errors_writes_every_problem(tmp_path: Path) -> None:
    a, r = _many_problems(tmp_path)
    errors = tmp_path / "checks" / "problems.csv"
    res = run("validate", "--accounts", str(a), "--reps", str(r), "--errors", str(errors))
    assert res.exit_code == 1
    assert f"... and 7 more (all {MAX_ROWS_SHOWN + 7} are in {errors}, after them 1 warning)" in res.output
    table = pd.read_csv(errors, keep_default_na=False)
    assert list(table.columns) == ["file", "row", "column", "value", "message"]
    # R1's home at lat 0, lon 0 is warned of after the problems (QA114 F3)
    warned = table["message"].str.startswith("warning (accepted, not a problem): ")
    assert warned.tolist() == [False] * (MAX_ROWS_SHOWN + 7) + [True]
    assert table["row"][~warned].astype(int).tolist() == list(range(1, MAX_ROWS_SHOWN + 8))
    assert set(table["message"][~warned]) == {"potential must be >= 0"}
    # the inputs fixed: the file says so rather than keeping the old list
    a, r = write_instance(tmp_path, *line_instance())
    res = run("validate", "--accounts", str(a), "--reps", str(r), "--errors", str(errors))
    assert res.exit_code == 0, res.output
    assert errors.read_text(encoding="utf-8").splitlines() == ["file,row,column,value,message"]


def test_plan_names_the_input_errors_file_it_wrote(tmp_path: Path) -> None:
    a, r = _many_problems(tmp_path)
    out = tmp_path / "plan"
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q")
    assert res.exit_code == 1
    written = out / "input_errors.csv"
    assert f"... and 7 more (all {MAX_ROWS_SHOWN + 7} are in {written}, after them 1 warning)" in res.output
    assert len(pd.read_csv(written)) == MAX_ROWS_SHOWN + 7 + 1


def test_a_polygon_row_without_geometry_is_reported_as_such(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Polygon, box

    accounts, reps = line_instance()
    _, r = write_instance(tmp_path, [], reps)
    shapes = [box(a["lon"] - 0.05, -0.05, a["lon"] + 0.05, 0.05) for a in accounts]
    shapes[1] = None  # the row has no geometry
    shapes[4] = Polygon()  # an empty one
    frame = pd.DataFrame(accounts).drop(columns=["lat", "lon"])
    path = tmp_path / "accounts.gpkg"
    gpd.GeoDataFrame(frame, geometry=shapes, crs="EPSG:4326").to_file(path, driver="GPKG")
    with pytest.raises(InputError) as exc:
        load_inputs(path, r)
    found = [(p.row, p.column, p.message.split(":")[0]) for p in exc.value.problems]
    assert found == [
        (2, "geometry", "the geometry is missing (the row has none)"),
        (5, "geometry", "the geometry is empty"),
    ]


def test_swapped_coordinates_get_a_hint(tmp_path: Path) -> None:
    accounts = tmp_path / "a.csv"
    accounts.write_text(
        "account_id,lat,lon,potential,workload\nA1,-97.7,30.3,10,1\nA2,30.1,-97.5,10,1\nA3,95.0,120.0,10,1\n"
    )
    reps = tmp_path / "r.csv"
    reps.write_text("rep_id,lat,lon\nR1,30.2,-97.6\n")
    res = CliRunner().invoke(main, ["validate", "--accounts", str(accounts), "--reps", str(reps)])
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "(lat and lon swapped? this row's lon is 30.3)" in text
    assert text.count("swapped?") == 1  # row 3's lon (120) is no latitude: no hint there


def _load_problems(folder: Path, accounts: list[dict], reps: list[dict]) -> tuple[list[Problem], Path, Path]:
    """The problems ``load_inputs`` raises for these rows, and the accounts and reps files written."""
    a, r = write_instance(folder, accounts, reps)
    with pytest.raises(InputError) as info:
        load_inputs(a, r)
    return info.value.problems, a, r


def test_a_number_cell_is_shown_as_written(tmp_path: Path) -> None:
    """QA3b: a potential of 1e400 was shown as "inf" in the problems table, a latitude of 91 as 91.0."""
    accounts, reps = line_instance()
    accounts[1]["potential"] = "1e400"
    accounts[2]["lat"] = "91"
    problems, _, _ = _load_problems(tmp_path, accounts, reps)
    shown = {(p.row, p.column): p.value for p in problems}
    assert shown[(2, "potential")] == "1e400"
    assert shown[(3, "lat")] == "91"


def test_a_family_spanning_the_country_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA3b: a parent_id made of a city name joined Portland, Maine and Portland, Oregon (4,000 km) into
    one family, accepted silently. The load warns, naming the family, the distance and the rows."""
    accounts, reps = line_instance()
    for acc in accounts:
        acc["parent_id"] = ""
    accounts[0].update(parent_id="CITY-Portland", lat=43.65, lon=-70.26)  # Portland, Maine
    accounts[1].update(parent_id="CITY-Portland", lat=45.52, lon=-122.68)  # Portland, Oregon
    accounts[2]["parent_id"] = accounts[3]["parent_id"] = "NEAR"  # a family of neighbours: no warning
    a, r = write_instance(tmp_path, accounts, reps)
    with caplog.at_level("WARNING"):
        loaded = load_inputs(a, r)
    assert len(loaded.warnings) == 1
    warning = loaded.warnings[0]
    assert "'CITY-Portland'" in warning
    km = float(warning.split(" spans ")[1].split(" km")[0].replace(",", ""))
    assert km == pytest.approx(4_070, rel=0.02)
    assert "rows 1 and 2" in warning
    assert warning in caplog.text


def test_coordinates_in_range_but_typed_wrong_are_warned_about(tmp_path: Path) -> None:
    """QA5: a Boston account written lat -71.5, lon 41.6 (swapped, both in range: the Southern Ocean) and a
    New York one with lon +73.9 (the sign lost: Pakistan) passed without a word, and the plan sent a rep
    13,819 km for them. They are accepted and named, in the log and in summary.json's notes; a far
    account that no typo explains (Honolulu) is not."""
    accounts = tmp_path / "a.csv"
    accounts.write_text(
        "account_id,lat,lon,potential,workload\n"
        "A1,42.36,-71.06,10,1\nA2,-71.48,41.64,10,1\nA3,40.66,73.90,10,1\nA4,21.31,-157.86,10,1\n"
        "A5,41.88,-87.63,10,1\nA6,42.0,-71.5,10,1\n"
    )
    reps = tmp_path / "r.csv"
    reps.write_text("rep_id,lat,lon\nR1,42.36,-71.06\nR2,40.71,-74.01\nR3,-87.6,41.9\n")
    loaded = load_inputs(accounts, reps)
    text = "\n".join(loaded.warnings)
    assert "row 2 (account A2, lat -71.48, lon 41.64) lies" in text
    assert "with lat and lon swapped it would lie" in text
    assert "row 3 (account A3, lat 40.66, lon 73.9)" in text
    assert "with the sign of lon flipped it would lie 11 km from R2's" in text
    assert "A4" not in text
    assert "row 3 (rep R3, lat -87.6, lon 41.9) lies" in text  # a home typed swapped, far from every account
    out = tmp_path / "plan"
    res = run("plan", "--accounts", str(accounts), "--reps", str(reps), "--out", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    import json

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("account A2" in n for n in summary["notes"])
    # the report leadership reads shows them too, without the solver's own notes (QA5)
    assert any("account A2" in n for n in summary["input_warnings"])
    assert not any("HiGHS" in n for n in summary["input_warnings"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Notes on the inputs and the plan" in report
    assert "row 3 (account A3, lat 40.66, lon 73.9)" in report


def test_coordinates_typed_wrong_are_named_in_the_same_run_as_the_input_problems(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA113 F2: a row with lat and lon swapped beside bad rows was named only once they were fixed; the
    user had a second round of fixes. It is said beside the problems (which still end the run)."""
    accounts = tmp_path / "a.csv"
    accounts.write_text(
        "account_id,lat,lon,potential,workload\n"
        "A1,42.36,-71.06,10,1\nA2,-71.48,41.64,10,1\nA3,40.7,-74.0,-5,1\nA4,41.0,-73.0,abc,1\n"
    )
    reps = tmp_path / "r.csv"
    reps.write_text("rep_id,lat,lon\nR1,42.36,-71.06\nR2,40.71,-74.01\n")
    with caplog.at_level("WARNING"), pytest.raises(InputError) as err:
        load_inputs(accounts, reps)
    assert {(p.row, p.column) for p in err.value.problems} == {(3, "potential"), (4, "potential")}
    assert "row 2 (account A2, lat -71.48, lon 41.64) lies" in caplog.text
    assert "with lat and lon swapped it would lie" in caplog.text
    # and in the problems file, which --quiet or a scheduled job works from (QA114 F3)
    errors = tmp_path / "problems.csv"
    res = run("validate", "--accounts", str(accounts), "--reps", str(reps), "--errors", str(errors))
    assert res.exit_code == 1, res.output
    table = pd.read_csv(errors, dtype=str, keep_default_na=False)
    assert list(table["row"][:2]) == ["3", "4"]
    (warned,) = [m for m in table["message"] if m.startswith("warning (accepted, not a problem): ")]
    assert "row 2 (account A2, lat -71.48, lon 41.64) lies" in warned


def test_accounts_without_a_current_rep_among_accounts_with_one_are_named(tmp_path: Path) -> None:
    """QA5: an accounts sheet with current_rep written once per block (merged cells), saved as CSV, has
    blank cells under each rep; those accounts were planned as new (never moved, outside the budget)
    without a word. A file with no current reps at all (a first plan) gets no warning."""
    accounts, reps = line_instance()
    for i, acc in enumerate(accounts):
        acc["current_rep"] = (
            reps[0]["rep_id"] if i in (0, 3) else ("" if i in (1, 2, 4) else reps[1]["rep_id"])
        )
    a, r = write_instance(tmp_path, accounts, reps)
    warnings = [w for w in load_inputs(a, r).warnings if "no current_rep" in w]
    assert len(warnings) == 1
    assert f"3 of {len(accounts)} accounts have no current_rep (rows 2-3, 5)" in warnings[0]
    for acc in accounts:
        acc["current_rep"] = ""
    a, r = write_instance(tmp_path / "none", accounts, reps)
    assert not [w for w in load_inputs(a, r).warnings if "no current_rep" in w]


def _sample_crm_copy(tmp_path: Path) -> Path:
    crm = Path(__file__).resolve().parents[1] / "sample_data" / "crm"
    copy = tmp_path / "crm"
    copy.mkdir()
    for f in crm.glob("*.csv"):
        (copy / f.name).write_bytes(f.read_bytes())
    return copy


def test_every_bad_crm_row_is_in_input_errors_csv_and_counted(tmp_path: Path) -> None:
    """QA22 M13 ("all 201 are in input_errors.csv" where 18,668 rows were bad) was met by listing 200 rows
    per check and "... and N more rows"; QA38 F10: the README promises every problem in input_errors.csv,
    and the console's count was of that cut list (201 of 3,244). Every bad row is listed and counted."""
    copy = _sample_crm_copy(tmp_path)
    opps = pd.read_csv(copy / "opportunities.csv", dtype=str, keep_default_na=False)
    assert len(opps) > 1000
    opps["status"] = "closed"
    opps.to_csv(copy / "opportunities.csv", index=False)
    out = tmp_path / "report"
    res = run("report", "--crm", str(copy), "--period", "2026Q1", "--out", str(out))
    assert res.exit_code == 1
    said = " ".join(res.output.split())
    table = pd.read_csv(out / "input_errors.csv", keep_default_na=False)
    status = table[(table["file"] == str(copy / "opportunities.csv")) & (table["column"] == "status")]
    assert sorted(status["row"].astype(int)) == list(range(1, len(opps) + 1))
    assert not table["message"].str.startswith("... and ").any()
    assert f"all {len(table)} are in" in said


def test_an_open_deals_stage_as_status_is_told_to_write_open(tmp_path: Path) -> None:
    """QA38: Salesforce's Closed Won / Closed Lost got a hint, its open stages (Prospecting) none."""
    copy = _sample_crm_copy(tmp_path)
    opps = pd.read_csv(copy / "opportunities.csv", dtype=str, keep_default_na=False)
    opps.loc[0, "status"] = "Prospecting"
    opps.loc[1, "status"] = "Closed Won"
    opps.loc[2, "status"] = "closd"
    opps.to_csv(copy / "opportunities.csv", index=False)
    out = tmp_path / "report"
    assert run("report", "--crm", str(copy), "--period", "2026Q1", "--out", str(out)).exit_code == 1
    table = pd.read_csv(out / "input_errors.csv", keep_default_na=False)
    said = dict(zip(table["row"].astype(str), table["message"], strict=False))
    assert said["1"].endswith("(a stage of a deal still open: write open)")
    assert said["2"].endswith("(write won)")
    assert said["3"] == "status must be open, won or lost"


def test_over_50_problems_every_kind_is_on_screen_and_counted() -> None:
    """QA39 F6: the console's first 50 of 100,100 CRM problems were all "not a number": the stage names
    and the bad probabilities never reached the screen. The kinds take turns, in the files' order."""
    from rich.console import Console

    from territory_planner.cli_support import MAX_ROWS_SHOWN, print_input_error
    from territory_planner.errors import InputError, Problem

    problems = [Problem("opps.csv", k + 1, "amount", "amount is not a number", f"x{k}") for k in range(300)]
    problems += [
        Problem("opps.csv", k + 1, "status", "status must be open, won or lost", f"Hot{k}") for k in range(40)
    ]
    problems += [Problem("opps.csv", 7, "probability", "probability must be between 0 and 1", "7")]
    console = Console(record=True, width=300)
    print_input_error(InputError(problems), console)
    text = console.export_text()
    rows = [line for line in text.splitlines() if "opps.csv" in line and "│" in line]
    assert len(rows) == MAX_ROWS_SHOWN
    assert any("probability must be between 0 and 1" in r for r in rows)
    assert sum("status must be" in r for r in rows) >= 10
    assert "341 problem(s)" in text
    assert "300 x opps.csv amount: amount is not a number" in text


def test_the_same_problem_on_many_rows_is_one_row_on_screen() -> None:
    """QA45 F5: one rep id overwritten in reps.csv gave 66 rows of the same 200-character current_rep
    message, most of the table; the same value and message is one row naming its rows (input_errors.csv
    keeps every row). Different values stay rows of their own."""
    from rich.console import Console

    from territory_planner.cli_support import print_input_error
    from territory_planner.errors import InputError, Problem

    unknown = "current_rep 'Z021' is not a rep in the reps file"
    problems = [Problem("a.csv", r, "current_rep", unknown, "Z021") for r in (*range(10, 40), 45, 50)]
    problems += [
        Problem("a.csv", r, "potential", "potential is not a number", v) for r, v in ((3, "x"), (4, "y"))
    ]
    problems += [Problem("a.csv", r, "lat", "lat is not a number", "n") for r in (5, 6, 7)]  # 3: not folded
    console = Console(record=True, width=300)
    print_input_error(InputError(problems), console)
    text = console.export_text()
    rows = [line for line in text.splitlines() if "a.csv" in line and "│" in line]
    assert len(rows) == 1 + 2 + 3
    (folded,) = [r for r in rows if "Z021" in r]
    assert "32 rows: 10-39, 45, 50" in folded
    assert "37 problem(s)" in text


def test_numbers_whose_sum_overflows_are_reported_by_row_and_nothing_warns(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    """QA57 F5: two potentials (or capacities) of 1e308, each finite, summed to inf: numpy's overflow
    warnings were printed and a proof read "bands hold at most $0" or "$nan". Each such cell is an
    input problem with its row; a capacity of inf no longer warns from the capacity checks."""
    accounts, reps = line_instance()
    accounts[0]["potential"] = "1e308"
    accounts[1]["potential"] = "1e308"
    reps.append({**reps[1], "rep_id": "R3"})  # three reps: the capacity checks' sums run
    for rep in reps:
        rep["capacity"] = "1"
    reps[0]["capacity"] = "inf"
    problems, a, r = _load_problems(tmp_path, accounts, reps)
    found = {(Path(p.file).name, p.row, p.column) for p in problems}
    assert {(a.name, 1, "potential"), (a.name, 2, "potential"), (r.name, 1, "capacity")} <= found
    sized = [p for p in problems if p.column in ("potential", "capacity")]
    assert all("at most 1e15" in p.message for p in sized)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_an_id_with_a_control_character_is_reported(tmp_path: Path) -> None:
    """QA57 F10: account ids holding a NUL or a vertical tab were accepted without a word, and the
    workbook wrote them as A_x0000_B, matching nothing in the CSV or the CRM."""
    accounts, reps = line_instance()
    accounts[1]["account_id"] = "A\x00B"
    accounts[2]["account_id"] = "C\x0bD"
    problems, _, _ = _load_problems(tmp_path, accounts, reps)
    found = {(p.row, p.column): p.message for p in problems}
    assert found[(2, "account_id")] == "account_id 'A?B' holds a control character (\\x00): remove it"
    assert found[(3, "account_id")] == "account_id 'C?D' holds a control character (\\x0b): remove it"


def test_a_name_with_a_nul_is_reported_and_a_line_break_is_text(tmp_path: Path) -> None:
    """QA59: control characters were refused in ids only: a name holding a NUL was accepted and written
    as Bad_x0000_Name in the workbook. In text a tab or a line break (a quoted multi-line name) is text."""
    accounts, reps = line_instance()
    accounts[1]["name"] = "Bad\x00Name"
    accounts[2]["name"] = "Street\nFloor 2"
    problems, _, _ = _load_problems(tmp_path, accounts, reps)
    found = {(p.row, p.column): p.message for p in problems}
    assert found == {(2, "name"): "name 'Bad?Name' holds a control character (\\x00): remove it"}
