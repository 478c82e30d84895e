"""Ids a spreadsheet mangled are input problems with their row, never ids that match nothing in the CRM:
an id Excel turned into a date (QA22 M6, typed ``1-1`` or ``MAR1``) and an id saved in scientific
notation with its last digits gone (QA22 M15, ``1.23457E+11``; when two collided only "duplicate" was
said)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from tests.conftest import line_instance, write_instance


def test_ids_in_scientific_notation_are_named(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["account_id"] = "1.23456E+11"
    accounts[1]["current_rep"] = "1.2E+15"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    found = [(p.row, p.column, p.message) for p in exc.value.problems]
    assert any(
        (row, col) == (1, "account_id") and "account_id '1.23456E+11' is in scientific notation" in m
        for row, col, m in found
    )
    assert any(
        (row, col) == (2, "current_rep") and "current_rep '1.2E+15' is in scientific notation" in m
        for row, col, m in found
    )
    # ids that only hold an E are ids
    accounts, reps = line_instance()
    accounts[0]["account_id"] = "2E4"
    accounts[1]["account_id"] = "A1E+5"
    a, r = write_instance(tmp_path / "ok", accounts, reps)
    assert load_inputs(a, r).accounts["account_id"].tolist()[:2] == ["2E4", "A1E+5"]


def test_a_date_cell_in_an_id_column_of_a_workbook_is_named(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    accounts, reps = line_instance()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "accounts"
    columns = list(accounts[0])
    sheet.append(columns)
    for i, row in enumerate(accounts):
        values = [row[c] for c in columns]
        if i == 1:
            values[0] = dt.datetime(2026, 1, 2)  # what Excel makes of an id typed 1-2
        sheet.append(values)
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    r = write_instance(tmp_path, [], reps)[1]
    with pytest.raises(InputError) as exc:
        load_inputs(path, r)
    (problem,) = [p for p in exc.value.problems if "a date where an id is expected" in p.message]
    assert problem.row == 3  # the Excel row: header on row 1
    assert problem.column == "A (account_id)"


def test_an_account_at_lat_0_lon_0_far_from_the_others_is_warned_about(tmp_path: Path) -> None:
    """QA22 M3: an account a geocoder left at (0, 0) went to another rep "for compactness", unnamed."""
    accounts, reps = line_instance()
    for row in accounts:
        row["lat"] = 43.2
        row["lon"] -= 2.9  # the Bay of Biscay's coast
    for rep in reps:
        rep["lat"] = 43.2
        rep["lon"] -= 2.9
    accounts[3].update(lat=0.0, lon=0.0)  # row 4
    a, r = write_instance(tmp_path, accounts, reps)
    warned = [w for w in load_inputs(a, r).warnings if "lat 0, lon 0" in w]
    assert len(warned) == 1
    assert "row 4 (account A4) at lat 0, lon 0, 4,8" in warned[0]
    assert "a geocoder's missing value?" in warned[0]
    # on the equator, beside the others (the tests' own line of accounts): nothing to say
    a, r = write_instance(tmp_path / "line", *line_instance())
    assert not [w for w in load_inputs(a, r).warnings if "lat 0, lon 0" in w]


@pytest.mark.parametrize(
    ("rep_id", "written", "hint"),
    [
        ("1", "1.0", "did you mean '1'?"),  # a float export of a whole-number id
        ("007", "7", "did you mean '007'?"),  # leading zeros lost
        ("R1", "#N/A", "an Excel error value"),
    ],
)
def test_a_current_rep_written_otherwise_than_its_rep_id_gets_a_hint(
    tmp_path: Path, rep_id: str, written: str, hint: str
) -> None:
    """QA22 M2, M5, M25: such cells were called "a rep who left?", with advice to add that id."""
    accounts, reps = line_instance()
    reps[0]["rep_id"] = rep_id
    for row in accounts:
        row["current_rep"] = rep_id
    accounts[2]["current_rep"] = written
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (problem,) = exc.value.problems
    assert (problem.row, problem.column) == (3, "current_rep")
    assert hint in problem.message
    assert "a rep who left" not in problem.message


@pytest.mark.parametrize("blank_rows", [0, 1])
def test_a_title_row_above_a_workbooks_header_is_named(tmp_path: Path, blank_rows: int) -> None:
    """QA22 M7: a title in A1 with the header below it was reported as columns with "values but no name
    in the header row"; the row taken as the header and the one that seems to be it are named."""
    openpyxl = pytest.importorskip("openpyxl")
    accounts, reps = line_instance()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "accounts"
    sheet.append(["Accounts FY2027 (EUR)"])
    for _ in range(blank_rows):
        sheet.append([])
    columns = list(accounts[0])
    sheet.append(columns)
    for row in accounts:
        sheet.append([row[c] for c in columns])
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    r = write_instance(tmp_path, [], reps)[1]
    with pytest.raises(InputError) as exc:
        load_inputs(path, r)
    (problem,) = exc.value.problems
    assert problem.row == 1
    assert (
        f"row 1 ('Accounts FY2027 (EUR)') is taken as the header, but the header seems to be row "
        f"{2 + blank_rows} (account_id, lat, lon, potential, workload, current_rep): delete the rows above it"
    ) in problem.message


def test_a_current_rep_in_another_unicode_form_is_its_rep(tmp_path: Path) -> None:
    """QA22 M25 hinted "did you mean 'José'?" for a macOS tool's decomposed "José"; QA32 F-t found the
    hint asking the user to replace a text with an identical-looking one: ids are read in composed form."""
    accounts, reps = line_instance()
    reps[0]["rep_id"] = "Jos\u00e9"
    for row in accounts:
        row["current_rep"] = "Jos\u00e9"
    accounts[2]["current_rep"] = "Jose\u0301"
    a, r = write_instance(tmp_path, accounts, reps)
    assert set(load_inputs(a, r).accounts["current_rep"]) == {"Jos\u00e9"}
