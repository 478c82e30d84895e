"""A scenario's ``[reps] remove`` / ``[[reps.add]]`` edit the roster before it is validated; a problem must
still name the reps file's own row (and a workbook's Excel row and column letter), and a problem of an added
rep must name that ``[[reps.add]]`` entry, not a row the file does not have.

Before: the edited roster was renumbered, so with R03 removed a blank district of R13 (data row 13) was
reported on row 12, the message's "on row 10" pointed one row up as well, an added rep's problem named a
row past the end of reps.csv, and an .xlsx roster lost its sheet, Excel rows and column letters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError, Problem
from territory_planner.io.load import ADDED_REPS, RosterEdits, load_inputs
from tests.conftest import line_instance, write_instance


def _roster(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{i:02d}" for i in range(1, n + 1)],
            "lat": 0.0,
            "lon": [i / n for i in range(n)],
            "capacity": 1.0,
            "district": ["D1", "D1", "D1", "D2", "D2", "D2"][:n],
            "region": ["East", "East", "East", "West", "West", "East"][:n],
        }
    )


def _problems(accounts: Path, reps: Path, edits: RosterEdits) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_inputs(accounts, reps, roster_edits=edits, hierarchy_needs={"district": "--district-tolerance"})
    return info.value.problems


def _files(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    accounts, _ = write_instance(tmp_path, *line_instance())
    roster = _roster()
    roster.loc[4, "district"] = ""  # R05, data row 5: no district
    return accounts, roster


def test_a_csv_roster_keeps_its_rows_after_a_removal(tmp_path: Path) -> None:
    accounts, roster = _files(tmp_path)
    reps = tmp_path / "reps.csv"
    roster.to_csv(reps, index=False)
    found = _problems(accounts, reps, RosterEdits(remove=("R02",)))
    where = {(p.row, p.column): p.message for p in found if p.file == str(reps)}
    assert (5, "district") in where  # R05 is on data row 5 of the file, whatever was removed above it
    assert "R05" in where[(5, "district")]
    # R06 (row 6) puts D2 in another region than the first D2 rep of the file, R04 on row 4
    assert "on row 4" in where[(6, "region")]


def test_an_added_reps_problem_names_its_entry(tmp_path: Path) -> None:
    accounts, roster = _files(tmp_path)
    reps = tmp_path / "reps.csv"
    roster.to_csv(reps, index=False)
    added = (
        {"rep_id": "R07", "lat": 0, "lon": 1, "district": "D1", "region": "East"},
        {"rep_id": "R08", "lat": 0, "lon": 1, "capacity": -1},
    )
    found = _problems(accounts, reps, RosterEdits(remove=("R01", "R99"), add=added))
    of_added = {(p.column, p.value) for p in found if p.file == ADDED_REPS}
    assert of_added == {("reps.add[2].capacity", "-1"), ("reps.add[2].district", "")}
    assert all(p.row is None or p.row <= len(roster) for p in found if p.file == str(reps))
    unknown = [p for p in found if "R99" in p.message]
    assert [(p.file, p.row, p.column) for p in unknown] == [(str(reps), None, "rep_id")]


def test_a_workbook_roster_keeps_its_excel_rows_and_letters(tmp_path: Path) -> None:
    accounts, roster = _files(tmp_path)
    roster["capacity"] = roster["capacity"].astype(object)
    roster.loc[5, "capacity"] = "many"  # R06: data row 6, Excel row 7
    reps = tmp_path / "reps.xlsx"
    roster.to_excel(reps, sheet_name="reps", index=False)
    found = _problems(accounts, reps, RosterEdits(remove=("R03",)))
    book = [p for p in found if p.file == f"{reps} (sheet 'reps')"]
    cells = {(p.row, p.column) for p in book}
    # the letters: rep_id A, lat B, lon C, capacity D, district E, region F; Excel row = data row + 1
    assert (7, "D (capacity)") in cells
    assert (6, "E (district)") in cells  # a cross-table check of the roster, located like the others
    assert not any(p.row == 4 for p in book)  # R03's row is gone from the plan, not reported
    assert all(p.file == str(accounts) for p in found if p not in book)  # nothing else is about the roster
    assert any("on row 5" in p.message for p in book)  # R04, the first D2 rep: data row 4, Excel row 5


def test_an_added_reps_problem_names_the_scenario_file_and_line_along_a_chain(tmp_path: Path) -> None:
    """QA44 F10: problems of ``[[reps.add]]`` named "scenario [[reps.add]]" with no row, so along an
    ``extends`` chain the planner could not tell which file; a bad lat was also said twice."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    accounts, roster = _files(tmp_path)
    roster.loc[4, "district"] = "D2"
    reps = tmp_path / "reps.csv"
    roster.to_csv(reps, index=False)
    base = tmp_path / "base.toml"
    base.write_text(
        f'accounts = "{accounts}"\n\n[reps]\npath = "{reps}"\n\n'
        '[[reps.add]]\nrep_id = "R07"\nlat = 0\nlon = 1\n'
        'district = "D1"\nregion = "East"\ncapacity = -1\n',
        encoding="utf-8",
    )
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "base.toml"\n# a new hire\n[[reps.add]]\nrep_id = "R08"\nlat = "north"\nlon = 1\n'
        'district = "D2"\nregion = "West"\n',
        encoding="utf-8",
    )
    errors = tmp_path / "problems.csv"
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(errors)])
    assert res.exit_code == 1, res.output
    found = pd.read_csv(errors, dtype=str, keep_default_na=False)
    where = {(r.file, r.row, r.column) for r in found.itertuples()}
    # the root's table comes first in the merged roster: reps.add[1] is base.toml's
    assert (str(base.resolve()), "12", "reps.add[1].capacity") in where
    assert (str(child), "5", "reps.add[2].lat") in where
    of_scenarios = found[found["file"].isin([str(base.resolve()), str(child)])]
    assert len(of_scenarios) == 2, found.to_string()  # the bad lat once, not also as half a home
    # an added rep the reps table already has (checked before the tables are read)
    again = '\n[[reps.add]]\nrep_id = "R03"\nlat = 0\nlon = 0.5\ndistrict = "D1"\nregion = "East"\n'
    child.write_text(child.read_text(encoding="utf-8").replace('"north"', "0") + again, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(errors)])
    assert res.exit_code == 1, res.output
    found = pd.read_csv(errors, dtype=str, keep_default_na=False)
    where = [(r.file, r.row, r.column) for r in found.itertuples()]
    assert where[0] == (str(child), "11", "reps.add[3].rep_id")
    # the inputs' other problems in the same run, the duplicate id not again
    assert (str(base.resolve()), "12", "reps.add[1].capacity") in where
    assert sum(column == "reps.add[3].rep_id" for _, _, column in where) == 1


def test_an_inline_added_rep_is_counted_and_named_by_its_add_line(tmp_path: Path) -> None:
    """QA47 F3: a parent writing its adds inline (add = [{...}]) shifted the child's tables by one, so a
    bad lat was put on another rep's line; an inline entry in a child had no file or line at all."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    accounts, roster = _files(tmp_path)
    roster.loc[4, "district"] = "D2"
    reps = tmp_path / "reps.csv"
    roster.to_csv(reps, index=False)
    row = 'district = "D1", region = "East"'
    parent = tmp_path / "parent.toml"
    parent.write_text(
        f'accounts = "{accounts}"\n[reps]\npath = "{reps}"\n'  # 1-3
        f'add = [{{rep_id = "R07", lat = 0, lon = 1, {row}}}]\n',  # 4
        encoding="utf-8",
    )
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "parent.toml"\n\n'  # 1-2
        f'[[reps.add]]\nrep_id = "R08"\nlat = "abc"\nlon = 1\n{row.replace(", ", chr(10))}\n\n'  # 3-9
        f'[[reps.add]]\nrep_id = "R09"\nlat = 0.5\nlon = "east"\n{row.replace(", ", chr(10))}\n',  # 10-16
        encoding="utf-8",
    )
    errors = tmp_path / "problems.csv"
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(errors)])
    assert res.exit_code == 1, res.output
    found = pd.read_csv(errors, dtype=str, keep_default_na=False)
    where = {(r.file, r.row, r.column) for r in found.itertuples() if r.column.startswith("reps.add")}
    assert where == {(str(child), "5", "reps.add[2].lat"), (str(child), "13", "reps.add[3].lon")}
    # an inline entry in the child: its add line
    child.write_text(
        f'extends = "parent.toml"\n[reps]\nadd = [{{rep_id = "R08", lat = "abc", lon = 1, {row}}}]\n'
    )
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(errors)])
    found = pd.read_csv(errors, dtype=str, keep_default_na=False)
    where = {(r.file, r.row, r.column) for r in found.itertuples() if r.column.startswith("reps.add")}
    assert where == {(str(child), "3", "reps.add[2].lat")}
