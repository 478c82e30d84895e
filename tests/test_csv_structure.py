"""QA5: what pandas reads wrongly without a word from a CSV as spreadsheets and CRMs write it.

A column name used twice was renamed ``current_rep.1`` by pandas and the first (blank) column was read,
so every account silently had no current rep; values under a column with no name were dropped; data rows
with one cell more than the header made pandas take account_id as the index and shift every column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from territory_planner.io.readers import read_table

REPS = "rep_id,lat,lon\nR1,40.7,-74.0\nR2,42.4,-71.1\n"


def _load(tmp_path: Path, accounts: str) -> list[tuple[int | None, str | None, str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    a = tmp_path / "accounts.csv"
    a.write_text(accounts, encoding="utf-8")
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    with pytest.raises(InputError) as info:
        load_inputs(a, r)
    return [(p.row, p.column, p.message) for p in info.value.problems]


def test_a_column_named_twice_is_reported_not_renamed(tmp_path: Path) -> None:
    problems = _load(
        tmp_path,
        "account_id,current_rep,lat,lon,potential,Current_Rep\nA1,,40.7,-74.0,5,R1\nA2,,42.3,-71.0,5,R2\n",
    )
    assert len(problems) == 1
    row, column, message = problems[0]
    assert row is None
    assert column == "F (Current_Rep)"
    assert "'Current_Rep' twice (columns B and F" in message


def test_values_under_a_column_without_a_name_are_reported(tmp_path: Path) -> None:
    problems = _load(
        tmp_path, "account_id,lat,lon,potential,\nA1,40.7,-74.0,5,\nA2,42.3,-71.0,5,key account\n"
    )
    assert problems == [
        (2, "E (no name)", "the column has values but no name in the header row: name it or delete it")
    ]


def test_a_row_with_a_cell_too_many_is_reported_with_its_row(tmp_path: Path) -> None:
    problems = _load(
        tmp_path,
        "account_id,lat,lon,potential\nA1,40.7,-74.0,5\n\nA2,42.3,-71.0,1,234\nA3,42.3,-71.0,5\n",
    )
    assert len(problems) == 1
    row, column, message = problems[0]
    assert (row, column) == (2, "E")  # the blank line is not a row; E: the first cell past the header
    assert "the row has 5 cells but the header names 4 columns" in message


def test_a_trailing_separator_on_every_data_row_does_not_shift_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("account_id;lat;lon;potential\nA1;40,7;-74,0;5;\nA2;42,3;-71,0;6;\n")
    frame = read_table(path).frame
    assert list(frame.columns) == ["account_id", "lat", "lon", "potential"]
    assert frame["account_id"].tolist() == ["A1", "A2"]
    assert frame["potential"].tolist() == ["5", "6"]


def test_blank_unnamed_columns_and_a_bom_are_still_accepted(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("\ufeffaccount_id,lat,lon,potential,,\nA1,40.7,-74.0,5,,\n", encoding="utf-8")
    frame = read_table(path).frame
    assert frame["account_id"].tolist() == ["A1"]


def test_known_columns_written_with_spaces_are_read_as_them(tmp_path: Path) -> None:
    """QA5: 'Current Rep' (as a CRM export or a hand-made sheet names it) was not current_rep, and being
    optional it was ignored without a word: every account was planned as new. A known name written with
    spaces or hyphens is that column; other names keep their spaces; both spellings at once are a problem."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        "Account ID,lat,lon,potential,Current Rep,Locked-Rep,Sales 2025\n"
        "A1,40.7,-74.0,5,R1,,3\nA2,42.3,-71.0,5,R2,R2,4\n"
    )
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    accounts = load_inputs(a, r).accounts
    assert accounts["account_id"].tolist() == ["A1", "A2"]
    assert accounts["current_rep"].tolist() == ["R1", "R2"]
    assert accounts["locked_rep"].tolist() == ["", "R2"]
    assert "sales 2025" in accounts.columns
    problems = _load(tmp_path / "both", "account_id,lat,lon,current_rep,Current Rep\nA1,40.7,-74.0,R1,R1\n")
    assert any(c == "current_rep" and "appears 2 times" in m for _, c, m in problems)


def test_crm_headers_as_a_crm_exports_them_are_read(tmp_path: Path) -> None:
    from territory_planner.report.crm import load_crm

    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text(
        "Opportunity ID,Account ID,Rep ID,Amount,Status,Probability,Created Date,Close Date\n"
        "O1,A1,R1,100,won,1,2026-01-01,2026-01-10\n"
    )
    opps = load_crm(crm).get("opportunities")
    assert opps is not None
    assert opps["close_date"].tolist() == [pd.Timestamp("2026-01-10")]


def _rows(n: int) -> list[str]:
    return [f"A{i},Town {i},{40 + i / 100:.2f},-74.0,{i + 1},R{1 + i % 2}" for i in range(n)]


def test_two_stray_quotes_that_swallow_the_rows_between_them_are_reported(tmp_path: Path) -> None:
    """QA32 F-s: a quote typed at the start of row 4's name and another at the end of row 8's made the
    rows between one name cell: four accounts gone, A3 with A7's values, "inputs are valid"."""
    rows = _rows(10)
    rows[3] = rows[3].replace("Town 3", '"Town 3')
    rows[7] = rows[7].replace("Town 7", 'Town 7"')
    problems = _load(tmp_path, "account_id,name,lat,lon,potential,current_rep\n" + "\n".join(rows) + "\n")
    assert len(problems) == 1
    row, column, message = problems[0]
    assert (row, column) == (4, "B (name)")
    assert "holds what look like 3 whole rows" in message
    assert "stray double quote" in message


def test_a_multi_line_address_is_no_stray_quote(tmp_path: Path) -> None:
    """A CRM's quoted street address over three lines is one cell, as it should be."""
    rows = _rows(4)
    text = "account_id,name,lat,lon,potential,current_rep\n" + "\n".join(rows) + "\n"
    text = text.replace("Town 2", '"Hauptstr. 2\nFloor 2\nBerlin"')
    a = tmp_path / "accounts.csv"
    a.write_text(text, encoding="utf-8")
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    loaded = load_inputs(a, r)
    assert len(loaded.accounts) == 4
    assert loaded.accounts["account_id"].tolist() == ["A0", "A1", "A2", "A3"]


@pytest.mark.parametrize(
    ("newline", "multiline"), [("\r", False), ("\r\n", False), ("\n", True)], ids=["mac", "windows", "crm"]
)
def test_a_bad_byte_is_blamed_on_its_data_row(tmp_path: Path, newline: str, multiline: bool) -> None:
    """QA32 F-c / F-d: in an Excel-for-Mac file (CR line ends) a bad byte of data row 3 was put "in the
    header"; in a file with multi-line quoted cells it got the physical line's number (row 499 for 299)."""
    rows = _rows(5)
    if multiline:
        rows = [r.replace("Town", '"Street\nFloor 2\nTown').replace(",40.", '",40.') for r in rows]
    rows[2] = rows[2].replace("Town 2", "K\xf6ln")
    text = newline.join(["account_id,name,lat,lon,potential,current_rep", *rows]) + newline
    a = tmp_path / "accounts.csv"
    a.write_bytes(text.encode("latin-1"))
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    with pytest.raises(InputError) as info:
        load_inputs(a, r)
    (problem,) = info.value.problems
    assert problem.row == 3
    assert "not valid UTF-8" in problem.message
    assert "(in the header)" not in problem.message
    assert problem.column == "B (name)"  # QA57 F7: the cell's column, and its text as cp1252 reads it
    assert problem.value is not None
    assert problem.value.endswith("Kö")


def test_a_row_with_a_cell_too_many_comes_with_the_tables_other_problems(tmp_path: Path) -> None:
    """QA57 F6: a row with a cell too many hid a duplicate id and a negative potential on other rows until
    the next run. The row is reported (its extra cell not read) beside every other problem."""
    a = tmp_path / "accounts.csv"
    a.write_text(
        "account_id,lat,lon,potential\nA1,0,0,1\nA2,0,1,2,extra\nA3,1,1,3\nA3,1,2,-4\n", encoding="utf-8"
    )
    r = tmp_path / "reps.csv"
    r.write_text(REPS)
    with pytest.raises(InputError) as info:
        load_inputs(a, r)
    found = {(p.row, p.column) for p in info.value.problems if Path(p.file).name == "accounts.csv"}
    assert {(2, "E"), (4, "account_id"), (4, "potential")} <= found


def test_a_crm_amount_above_1e15_is_reported_by_row(tmp_path: Path) -> None:
    """QA59: the 1e15 cap of the accounts' numbers did not cover the CRM: two won deals of 1e308 summed
    to inf KPIs, and the forecast read "n/a" without naming the cell."""
    from territory_planner.report.crm import load_crm

    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text(
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A1,R1,100,won,1,2026-01-01,2026-01-10\n"
        "O2,A1,R1,1e308,won,1,2026-01-01,2026-01-10\n"
    )
    with pytest.raises(InputError) as info:
        load_crm(crm)
    (problem,) = info.value.problems
    assert (problem.row, problem.column, problem.message) == (2, "amount", "too large: at most 1e15 in size")
