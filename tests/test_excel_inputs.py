"""Excel (.xlsx) inputs: the same tables and the same validation as CSV, with Excel's own positions.

Workbooks are written cell by cell with XlsxWriter (numbers as numbers, dates as Excel dates, text as
text), so each test knows exactly which type every cell has in Excel.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from click.testing import CliRunner
from conftest import options_for, random_accounts, write_instance

from territory_planner import api
from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.excel import NUMBER_NOT_DATE, STORED_AS_TEXT, UNSAVED_FORMULA, column_letter
from territory_planner.io.load import load_inputs
from territory_planner.io.readers import read_table
from territory_planner.report.crm import load_crm

Rows = list[list[Any]]


def write_book(path: Path, sheets: dict[str, Rows], merge: str | None = None) -> Path:
    """One sheet per entry, row 1 the header; ``merge`` merges a range of the first sheet."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif value is not None:
                    sheet.write(r, c, value)
        if merge and name == next(iter(sheets)):
            sheet.merge_range(merge, rows[0][0])
    book.close()
    return path


def frame_rows(frame: pd.DataFrame) -> Rows:
    """Header + rows with numbers as numbers and empty cells left empty."""
    body = [[None if v == "" else v for v in row] for row in frame.astype(object).values.tolist()]
    return [list(frame.columns), *body]


def line_rows() -> tuple[Rows, Rows]:
    accounts = [
        ["account_id", "lat", "lon", "potential", "workload", "current_rep"],
        *[
            [f"A{i}", 0.0, lon, 100, 1, cur]
            for i, (lon, cur) in enumerate(
                [(0.1, "R1"), (0.2, "R1"), (0.3, "R1"), (0.7, "R1"), (0.8, "R2"), (0.9, "R2")], start=1
            )
        ],
    ]
    reps = [["rep_id", "lat", "lon"], ["R1", 0.0, 0.0], ["R2", 0.0, 1.0]]
    return accounts, reps


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> list[tuple[str, int | None, str | None, str]]:
    return [(p.file, p.row, p.column, p.message) for p in exc.value.problems]


def test_column_letters_as_excel_numbers_them() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_accounts_from_xlsx_give_the_same_plan_as_from_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    accounts = pd.DataFrame(random_accounts(rng, 40, current_reps=3))
    reps = pd.DataFrame(
        {"rep_id": ["R0", "R1", "R2"], "lat": [32.0, 38.0, 43.0], "lon": [-95.0, -85.0, -90.0]}
    )
    a_csv, r_csv = write_instance(tmp_path / "csv", accounts.to_dict("records"), reps.to_dict("records"))
    book = write_book(tmp_path / "inputs.xlsx", {"reps": frame_rows(reps), "accounts": frame_rows(accounts)})
    from_csv = api.solve(options_for(a_csv, r_csv, tolerance={"*": 0.1}))
    from_xlsx = api.solve(options_for(book, book, tolerance={"*": 0.1}))
    pd.testing.assert_frame_equal(from_xlsx.assignments, from_csv.assignments)
    pd.testing.assert_frame_equal(from_xlsx.territories, from_csv.territories)
    assert from_xlsx.summary["objective"] == pytest.approx(from_csv.summary["objective"])


def test_sheet_named_like_the_table_else_the_first(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    both = write_book(tmp_path / "both.xlsx", {"Reps": reps, "ACCOUNTS": accounts})
    assert list(read_table(both, "accounts").frame.columns)[:2] == ["account_id", "lat"]
    assert list(read_table(both, "reps").frame.columns) == ["rep_id", "lat", "lon"]
    single = write_book(tmp_path / "export_2026.xlsx", {"Sheet1": accounts})
    table = read_table(single, "accounts")
    assert table.frame["account_id"].tolist() == [f"A{i}" for i in range(1, 7)]
    assert table.frame["potential"].tolist() == ["100"] * 6  # the text a CSV would hold


def test_bad_cells_name_the_sheet_the_excel_row_and_the_column_letter(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    accounts[2][3] = "north"  # a word in a number column (Excel row 3, column D)
    accounts[4][4] = "2"  # a number stored as text (row 5, column E)
    accounts[5][0] = "A2"  # duplicate id (row 6, column A)
    reps[2][1] = 95.0  # latitude out of range in the other sheet
    book = write_book(tmp_path / "plan.xlsx", {"accounts": accounts, "reps": reps})
    with pytest.raises(InputError) as exc:
        load_inputs(book, book)
    found = problems_of(exc)
    sheet_a, sheet_r = f"{book} (sheet 'accounts')", f"{book} (sheet 'reps')"
    assert (sheet_a, 3, "D (potential)", "potential is not a number") in found
    assert (sheet_a, 5, "E (workload)", STORED_AS_TEXT) in found
    assert (sheet_a, 6, "A (account_id)", "duplicate account_id (first seen on row 3)") in found
    assert any(  # (with a hint: that row's lon, 1, would be a latitude)
        x[:3] == (sheet_r, 3, "B (lat)") and x[3].startswith("lat must be between -90 and 90") for x in found
    )
    assert len(found) == 4  # the number stored as text is reported once, not also as a parse result


def test_blank_rows_keep_excel_row_numbers(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    accounts.insert(3, [None] * 6)  # an empty row between rows 3 and 5
    accounts[5][3] = -5  # data row 4 is Excel row 6 now
    book = write_book(tmp_path / "gap.xlsx", {"accounts": accounts, "reps": reps})
    with pytest.raises(InputError) as exc:
        load_inputs(book, book)
    assert [(p.row, p.column) for p in exc.value.problems] == [(6, "D (potential)")]


def test_merged_header_and_empty_sheet_are_reported_together(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    merged = write_book(tmp_path / "accounts.xlsx", {"accounts": accounts}, merge="A1:B1")
    empty = tmp_path / "reps.xlsx"
    book = xlsxwriter.Workbook(str(empty))
    book.add_worksheet("reps")
    book.close()
    with pytest.raises(InputError) as exc:
        load_inputs(merged, empty)
    found = problems_of(exc)
    assert found[0][:3] == (f"{merged} (sheet 'accounts')", 1, "A (account_id)")
    assert "the header has merged cells A1:B1" in found[0][3]
    assert found[1] == (f"{empty} (sheet 'reps')", None, None, "the sheet is empty")


def test_header_only_sheet_and_unnamed_column(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    accounts[1].append("stray")  # column G has a value but no header
    book = write_book(tmp_path / "x.xlsx", {"accounts": accounts, "reps": [reps[0]]})
    with pytest.raises(InputError) as exc:
        load_inputs(book, book)
    messages = {(p.row, p.column): p.message for p in exc.value.problems}
    assert messages[(1, "G")] == "the column has values but no name in the header row"
    assert messages[(1, None)] == "the sheet has a header but no data rows"


def test_excel_error_cells_are_reported_not_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "reps.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("reps")
    sheet.write_row(0, 0, ["rep_id", "capacity"])
    sheet.write_row(1, 0, ["R1", 1])
    sheet.write_string(2, 0, "R2")
    sheet.write_formula(2, 1, "=NA()", None, "#N/A")
    book.close()
    with pytest.raises(InputError) as exc:
        read_table(path, "reps")
    assert problems_of(exc) == [
        (f"{path} (sheet 'reps')", 3, "B (capacity)", "the cell holds the Excel error #N/A")
    ]


def test_an_error_cell_and_a_number_stored_as_text_are_reported_in_one_run(tmp_path: Path) -> None:
    """QA15 M4: with a #N/A in the sheet, only the #N/A was reported; the number stored as text two rows
    above came out once the #N/A was fixed. Every problem comes at once, the #N/A cell once (not also as
    'workload is not a number'), and a missing column of the other sheet with them."""
    accounts, reps = line_rows()
    accounts[2][3] = "100"  # a number stored as text (Excel row 3, column D)
    path = tmp_path / "plan.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("accounts")
    for r, row in enumerate(accounts):
        sheet.write_row(r, 0, row)
    sheet.write_formula(4, 4, "=NA()", None, "#N/A")  # workload of Excel row 5
    other = book.add_worksheet("reps")
    other.write_row(0, 0, ["id", "lat", "lon", "capacity"])  # rep_id missing
    other.write_row(1, 0, ["R1", 0.0, 0.0])
    other.write_formula(1, 3, "=NA()", None, "#N/A")
    book.close()
    with pytest.raises(InputError) as exc:
        load_inputs(path, path)
    found = problems_of(exc)
    sheet_a, sheet_r = f"{path} (sheet 'accounts')", f"{path} (sheet 'reps')"
    assert (sheet_a, 3, "D (potential)", STORED_AS_TEXT) in found
    assert (sheet_a, 5, "E (workload)", "the cell holds the Excel error #N/A") in found
    assert (sheet_r, 2, "D (capacity)", "the cell holds the Excel error #N/A") in found
    assert any(p[:3] == (sheet_r, None, "rep_id") for p in found)
    assert len(found) == 4, found


def test_a_formula_without_a_saved_value_is_reported_not_read_as_empty(tmp_path: Path) -> None:
    """QA5: a workbook written by openpyxl (or pandas) holds formulas with no computed value until a
    spreadsheet saves it; calamine reads them as empty and the planner said only 'capacity is empty'.
    A formula with its saved value (as Excel writes it) is read as that value."""
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "reps.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "reps"
    sheet.append(["rep_id", "capacity"])
    sheet.append(["R1", 1])
    sheet.append(["R2", "=1/2"])
    book.save(path)
    with pytest.raises(InputError) as exc:
        read_table(path, "reps")
    assert problems_of(exc) == [(f"{path} (sheet 'reps')", 3, "B (capacity)", UNSAVED_FORMULA)]
    saved = tmp_path / "saved.xlsx"
    book2 = xlsxwriter.Workbook(str(saved))
    sheet2 = book2.add_worksheet("reps")
    sheet2.write_row(0, 0, ["rep_id", "capacity"])
    sheet2.write_string(1, 0, "R2")
    sheet2.write_formula(1, 1, "=1/2", None, 0.5)
    book2.close()
    assert read_table(saved, "reps").frame["capacity"].tolist() == ["0.5"]


def test_crm_history_from_xlsx_reads_excel_dates_as_dates(tmp_path: Path) -> None:
    header = [
        "opportunity_id",
        "account_id",
        "rep_id",
        "amount",
        "status",
        "probability",
        "created_date",
        "close_date",
    ]
    rows = [
        ["O1", "A1", "R1", 1000, "won", 1, dt.date(2026, 1, 5), dt.date(2026, 3, 1)],
        ["O2", "A2", "R1", 2500.5, "open", 0.4, dt.date(2026, 2, 1), None],
    ]
    xlsx_dir, csv_dir = tmp_path / "x", tmp_path / "c"
    xlsx_dir.mkdir()
    csv_dir.mkdir()
    write_book(xlsx_dir / "opportunities.xlsx", {"opportunities": [header, *rows]})
    pd.DataFrame(rows, columns=header).to_csv(csv_dir / "opportunities.csv", index=False)
    from_xlsx = load_crm(xlsx_dir).get("opportunities")
    from_csv = load_crm(csv_dir).get("opportunities")
    assert from_xlsx is not None
    assert from_csv is not None
    assert from_xlsx["close_date"].iloc[0] == pd.Timestamp("2026-03-01")
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


def test_crm_xlsx_number_for_a_date_and_amount_as_text(tmp_path: Path) -> None:
    header = ["rep_id", "period_start", "period_end", "quota"]
    rows = [["R1", dt.date(2026, 1, 1), 46112, "90,000"]]  # a serial number with no date format
    write_book(tmp_path / "quotas.xlsx", {"Sheet1": [header, *rows]})
    with pytest.raises(InputError) as exc:
        load_crm(tmp_path)
    where = f"{tmp_path / 'quotas.xlsx'} (sheet 'Sheet1')"  # the workbook's path, as accounts' are
    assert problems_of(exc) == [
        (where, 2, "C (period_end)", NUMBER_NOT_DATE),
        (where, 2, "D (quota)", STORED_AS_TEXT),
    ]


def test_plan_from_bad_xlsx_prints_the_usual_table_and_exits_1(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    accounts[3][3] = "1,000"
    book = write_book(tmp_path / "in.xlsx", {"accounts": accounts, "reps": reps})
    out = tmp_path / "plan"
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(book), "--reps", str(book), "--out", str(out), "-q"]
    )
    assert res.exit_code == 1
    assert "1 problem(s) in the inputs" in res.output
    errors = pd.read_csv(out / "input_errors.csv", dtype=str)
    assert errors[["file", "row", "column", "value"]].values.tolist() == [
        [f"{book} (sheet 'accounts')", "4", "D (potential)", "1,000"]
    ]
    assert not (out / "assignments.csv").exists()


def test_crm_table_in_both_formats_is_ambiguous(tmp_path: Path) -> None:
    rows = [["rep_id", "date", "selling_hours", "total_hours"], ["R1", dt.date(2026, 1, 5), 6, 8]]
    write_book(tmp_path / "time_log.xlsx", {"time_log": rows})
    pd.DataFrame([rows[1]], columns=rows[0]).to_csv(tmp_path / "time_log.csv", index=False)
    with pytest.raises(InputError) as exc:
        load_crm(tmp_path)
    assert "time_log.csv and time_log.xlsx both exist" in exc.value.problems[0].message
    (tmp_path / "time_log.csv").unlink()
    time_log = load_crm(tmp_path).get("time_log")
    assert time_log is not None
    assert time_log["selling_hours"].tolist() == [6.0]


def test_empty_id_cell_is_named_as_empty(tmp_path: Path) -> None:
    accounts, reps = line_rows()
    accounts[3][0] = None
    book = write_book(tmp_path / "ids.xlsx", {"accounts": accounts, "reps": reps})
    with pytest.raises(InputError) as exc:
        load_inputs(book, book)
    assert problems_of(exc) == [(f"{book} (sheet 'accounts')", 4, "A (account_id)", "account_id is empty")]


def test_adjacency_edge_list_from_xlsx(tmp_path: Path) -> None:
    from territory_planner.geo.adjacency import read_edge_list

    rows = [["u", "v"], ["A1", "A2"], ["A2", "A3"], ["A3", "A9"]]
    book = write_book(tmp_path / "edges.xlsx", {"adjacency": rows})
    with pytest.raises(InputError) as exc:
        read_edge_list(book, ["A1", "A2", "A3"])
    assert problems_of(exc) == [(f"{book} (sheet 'adjacency')", 4, "B (v)", "unknown unit id 'A9'")]
    rows[3][1] = "A1"
    adjacency = read_edge_list(write_book(tmp_path / "ok.xlsx", {"Sheet1": rows}), ["A1", "A2", "A3"])
    csv_path = tmp_path / "edges.csv"
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(csv_path, index=False)
    from_csv = read_edge_list(csv_path, ["A1", "A2", "A3"])
    assert (adjacency.u.tolist(), adjacency.v.tolist()) == (from_csv.u.tolist(), from_csv.v.tolist())


def test_a_known_column_with_spaces_in_a_workbook_keeps_its_letter(tmp_path: Path) -> None:
    """QA5: 'Current Rep' in a workbook is current_rep, and its problems still name the cell's column."""
    path = write_book(
        tmp_path / "accounts.xlsx",
        {
            "accounts": [
                ["Account ID", "lat", "lon", "potential", "Current Rep"],
                ["A1", 40.7, -74.0, 5, "R9"],
            ]
        },
    )
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,40.7,-74.0\n")
    with pytest.raises(InputError) as exc:
        load_inputs(path, reps)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "E (current_rep)")]


def test_crm_error_cell_does_not_hide_the_tables_other_problems(tmp_path: Path) -> None:
    """A #N/A in a CRM workbook was the only problem reported (the reader stopped at it); the amount stored
    as text, the bad status and the unknown date came out one run later. Every problem comes at once, the
    #N/A cell once (not also as 'not a number')."""
    header = ["opportunity_id", "account_id", "rep_id", "amount", "status", "probability"]
    header += ["created_date", "close_date"]
    day = dt.date(2026, 1, 5)
    rows = [
        ["O1", "A1", "R1", "1000", "won", 1, day, day],  # amount stored as text
        ["O2", "A2", "R1", 2500, "maybe", 0.4, day, ""],  # not a status
        ["O3", "A3", "R1", 0, "open", 0.5, "soon", ""],  # amount becomes #N/A; created_date is not a date
    ]
    path = tmp_path / "opportunities.xlsx"
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("opportunities")
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write(r, c, value)
    sheet.write_formula(3, 3, "=NA()", None, "#N/A")  # amount of Excel row 4
    book.close()
    with pytest.raises(InputError) as exc:
        load_crm(tmp_path)
    where = f"{tmp_path / 'opportunities.xlsx'} (sheet 'opportunities')"
    found = sorted(problems_of(exc), key=lambda p: (p[1] or 0, p[2] or ""))
    assert [p[:3] for p in found] == [
        (where, 2, "D (amount)"),
        (where, 3, "E (status)"),
        (where, 4, "D (amount)"),
        (where, 4, "G (created_date)"),
    ], found
    assert found[0][3] == STORED_AS_TEXT
    assert found[2][3] == "the cell holds the Excel error #N/A"


def test_zip_codes_formatted_with_leading_zeros_keep_them(tmp_path: Path) -> None:
    """QA22: a ZIP code 00501 typed in a cell formatted "00000" (Excel's Special > Zip Code) is stored as the
    number 501; Excel shows it, and saves it to CSV, as 00501. It was read as 501 and matched no other
    table's 00501. Cells without such a format keep their plain number (a rep id 7 stays "7")."""
    path = tmp_path / "zips.xlsx"
    book = xlsxwriter.Workbook(str(path))
    zip5, zip4 = book.add_format({"num_format": "00000"}), book.add_format({"num_format": "00000\\-0000"})
    decimals = book.add_format({"num_format": "0.00"})
    sheet = book.add_worksheet("accounts")
    sheet.write_row(0, 0, ["account_id", "zip4", "lat", "lon", "potential", "workload", "current_rep"])
    for r, (zip_code, plus4, rep) in enumerate([(501, 12345678, 7), (90210, 902101234, 7), (2134, 5, 8)], 1):
        sheet.write_number(r, 0, zip_code, zip5)
        sheet.write_number(r, 1, plus4, zip4)
        sheet.write_row(r, 2, [40.0 + r, -71.0])
        sheet.write_number(r, 4, 100 * r, decimals)  # a number format without zero padding: plain number
        sheet.write_row(r, 5, [1, rep])
    sheet = book.add_worksheet("reps")
    sheet.write_row(0, 0, ["rep_id", "lat", "lon"])
    sheet.write_row(1, 0, [7, 41.0, -71.0])
    sheet.write_row(2, 0, [8, 43.0, -71.0])
    book.close()
    table = read_table(path, "accounts")
    assert table.frame["account_id"].tolist() == ["00501", "90210", "02134"]
    assert table.frame["zip4"].tolist() == ["01234-5678", "90210-1234", "00000-0005"]
    assert table.frame["potential"].tolist() == ["100", "200", "300"]
    assert table.frame["current_rep"].tolist() == ["7", "7", "8"]
    loaded = load_inputs(path, path)  # the current reps match the reps table's ids
    assert loaded.accounts["account_id"].tolist() == ["00501", "90210", "02134"]
    assert loaded.accounts["current_rep"].tolist() == ["7", "7", "8"]


def test_zip_codes_formatted_with_leading_zeros_keep_them_when_openpyxl_wrote_the_file(
    tmp_path: Path,
) -> None:
    """QA44 F2: openpyxl marks every number cell t="n", which the padded-cell reader took for "not a
    number": 00501 and 000050 were read as 501 and 50, beside the text ids "00501" and "000050" with no
    duplicate reported."""
    import openpyxl

    path = tmp_path / "zips.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "accounts"
    sheet.append(["account_id", "lat", "lon", "potential", "workload"])
    for r, (code, fmt) in enumerate([(501, "00000"), (50, "000000"), (90210, "00000")], 2):
        sheet.append([code, 40.0 + r, -71.0, 100.0, 1.0])
        sheet.cell(r, 1).number_format = fmt
    book.save(path)
    assert b' t="n"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")  # as openpyxl writes it
    assert read_table(path, "accounts").frame["account_id"].tolist() == ["00501", "000050", "90210"]
