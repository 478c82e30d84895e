"""CSV files as spreadsheets in other locales write them: separators, decimal commas, grouping, blank rows.

Found on holdout data (benchmarks/holdout.py): a quoted ``"51,7"`` used to be read as 517, a semicolon
file failed with "required column 'account_id' is missing", Excel's trailing ``,,,,`` rows gave one
problem per column, and ``latitude``/``longitude`` columns were reported without saying what was found.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from territory_planner.io.numbers import parse_numbers
from territory_planner.report.crm import load_crm
from tests.conftest import line_instance, write_instance


def _reps(tmp_path: Path) -> Path:
    _, reps = line_instance()
    return write_instance(tmp_path, [], reps)[1]


def test_semicolon_file_with_decimal_commas_reads_like_the_comma_file(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    a = tmp_path / "accounts_de.csv"
    a.write_text(
        "account_id;name;lat;lon;potential;workload\n"
        "A1;Düsseldorf;0,0;0,1;1.234,5;1,5\n"
        "A2;Köln;0,0;0,9;51,7;2\n",
        encoding="utf-8",
    )
    acc = load_inputs(a, r).accounts
    assert acc["potential"].tolist() == [1234.5, 51.7]
    assert acc["lon"].tolist() == [0.1, 0.9]
    assert acc["workload"].tolist() == [1.5, 2.0]
    assert acc["name"].tolist() == ["Düsseldorf", "Köln"]


def test_tab_separated_file_is_read(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    a = tmp_path / "accounts.csv"
    a.write_text("account_id\tlat\tlon\tpotential\nA1\t0\t0.1\t1,200\nA2\t0\t0.9\t7.5\n", encoding="utf-8")
    assert load_inputs(a, r).accounts["potential"].tolist() == [1200.0, 7.5]


@pytest.mark.parametrize("ext", [".tsv", ".tab", ".txt"])
def test_a_tab_separated_export_is_read_under_its_own_extension(tmp_path: Path, ext: str) -> None:
    # a CRM's or a BI tool's tab-separated export keeps its .tsv / .txt name; it was "unsupported file
    # type" and had to be renamed to .csv, where the same bytes read fine. Bad cells still name their row
    r = tmp_path / f"reps{ext}"
    r.write_text("rep_id\tlat\tlon\n007\t0\t0\n008\t0\t1\n", encoding="utf-8")
    a = tmp_path / f"accounts{ext}"
    rows = "account_id\tlat\tlon\tpotential\n00001\t0\t0.1\t1,200\n00002\t0\t0.9\t7.5\n"
    a.write_text(rows, encoding="utf-8")
    inputs = load_inputs(a, r)
    assert inputs.accounts["potential"].tolist() == [1200.0, 7.5]
    assert inputs.accounts["account_id"].tolist() == ["00001", "00002"]  # ids kept as written
    assert inputs.reps["rep_id"].tolist() == ["007", "008"]
    a.write_text("account_id\tlat\tlon\tpotential\n00001\t0\t0.1\tlots\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_inputs(a, r)
    bad = [(Path(p.file).name, p.row, p.column) for p in err.value.problems]
    assert (a.name, 1, "potential") in bad


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_excels_unicode_text_export_is_read_as_utf16(tmp_path: Path, encoding: str) -> None:
    # Excel's "Unicode Text (*.txt)" writes tab-separated UTF-16 with a byte-order mark; it was "not valid
    # UTF-8 (byte 0xff at offset 0)"
    r = _reps(tmp_path)
    a = tmp_path / "accounts.txt"
    rows = (
        "account_id\tname\tlat\tlon\tpotential\r\n"
        "00001\tZürich AG\t0\t0.1\t1200\r\n00002\tKöln\t0\t0.9\t7.5\r\n"
    )
    bom = "\ufeff" if encoding == "utf-16-be" else ""  # Python's utf-16 writes the mark itself
    a.write_bytes((bom + rows).encode(encoding))
    acc = load_inputs(a, r).accounts
    assert acc["name"].tolist() == ["Zürich AG", "Köln"]
    assert acc["account_id"].tolist() == ["00001", "00002"]
    assert acc["potential"].tolist() == [1200.0, 7.5]
    a.write_bytes(a.read_bytes()[:-1])  # cut short: an odd number of bytes
    with pytest.raises(InputError) as err:
        load_inputs(a, r)
    assert "not valid UTF-16" in err.value.problems[0].message
    # a damaged character (a lone surrogate) in the second row's name: its row and column, not only the
    # byte offset (QA108 O1)
    codec, mark, lone = (
        ("utf-16-le", codecs.BOM_UTF16_LE, b"\x00\xd8")
        if encoding == "utf-16"
        else ("utf-16-be", codecs.BOM_UTF16_BE, b"\xd8\x00")
    )
    head, tail = rows.split("Köln")
    a.write_bytes(mark + (head + "K").encode(codec) + lone + ("ln" + tail).encode(codec))
    with pytest.raises(InputError) as err:
        load_inputs(a, r)
    problem = err.value.problems[0]
    assert "not valid UTF-16" in problem.message
    assert "line 3" in problem.message
    assert (problem.row, problem.column, problem.value) == (2, "B (name)", "K\ufffd")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_without_its_mark_and_utf32_are_read_not_taken_for_utf8(tmp_path: Path, encoding: str) -> None:
    # QA108 F1/F3: UTF-16 with no byte-order mark was read as UTF-8 (a NUL in every column name, "the row
    # has 11 cells" on every other row) and UTF-32 as UTF-16 (its mark opens with UTF-16's)
    r = _reps(tmp_path)
    a = tmp_path / "accounts.txt"
    rows = (
        "account_id\tname\tlat\tlon\tpotential\r\n00001\tZürich\t0\t0.1\t1200\r\n00002\t東京\t0\t0.9\t7.5\r\n"
    )
    a.write_bytes(rows.encode(encoding))
    acc = load_inputs(a, r).accounts
    assert acc["name"].tolist() == ["Zürich", "東京"]
    assert acc["potential"].tolist() == [1200.0, 7.5]
    a.write_bytes(rows.replace("1200", "12OO").encode(encoding))
    with pytest.raises(InputError) as err:
        load_inputs(a, r)
    assert [(p.row, p.column) for p in err.value.problems] == [(1, "potential")]


def test_a_crm_table_exported_tab_separated_is_found_and_read(tmp_path: Path) -> None:
    (tmp_path / "time_log.tsv").write_text(
        "rep_id\tdate\tselling_hours\ttotal_hours\nR1\t2026-01-05\t6\t8\n", encoding="utf-8"
    )
    time_log = load_crm(tmp_path).get("time_log")
    assert time_log is not None
    assert time_log["selling_hours"].tolist() == [6.0]
    pd.DataFrame({"rep_id": ["R1"], "date": ["2026-01-05"], "selling_hours": [6], "total_hours": [8]}).to_csv(
        tmp_path / "time_log.csv", index=False
    )
    with pytest.raises(InputError) as exc:  # two files for one table: neither is picked silently
        load_crm(tmp_path)
    assert "time_log.csv and time_log.tsv both exist" in exc.value.problems[0].message
    (tmp_path / "time_log.csv").unlink()
    (tmp_path / "time_log.tsv").rename(tmp_path / "Time_Log.TXT")  # QA108 F2: passed over without a word
    time_log = load_crm(tmp_path).get("time_log")
    assert time_log is not None
    assert time_log["selling_hours"].tolist() == [6.0]


def test_decimal_comma_in_a_comma_file_is_a_problem_not_ten_times_the_value(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["potential"] = "51,7"  # quoted by to_csv: a German decimal in a comma-separated file
    accounts[1]["potential"] = "1,234,567.5"  # thousands grouping is fine
    accounts[2]["potential"] = "12,34,567"  # neither
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    bad = {p.row: p for p in exc.value.problems}
    assert set(bad) == {1, 3}
    assert "decimal comma" in bad[1].message
    assert bad[1].column == "potential"
    assert bad[3].message == "potential is not a number"


def test_dot_grouping_under_the_decimal_comma_is_thousands() -> None:
    # was "ambiguous next to decimal commas in the same column"; with the comma as the file's decimal
    # separator a dot can only group thousands (tests/test_csv_decimal_convention.py has the file rule)
    values, hints = parse_numbers(pd.Series(["51,7", "1.234", "2.5", "1.234,5"]), ",")
    assert values.tolist()[0] == 51.7
    assert values.tolist()[1] == 1234.0
    assert values.tolist()[3] == 1234.5
    assert pd.isna(values.iloc[2])
    assert "a decimal point in a file whose decimal separator is the comma? write 2,5" in hints[2]
    plain, none = parse_numbers(pd.Series(["1.234", ""]), ",")  # no decimal comma in the column
    assert plain.iloc[0] == 1234.0
    assert pd.isna(plain.iloc[1])
    assert none == {}


def test_trailing_blank_rows_are_one_problem_each(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path, accounts, reps)
    with a.open("a", encoding="utf-8") as fh:
        fh.write(",,,,,\n , ,,,,\n")
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert [(p.row, p.column) for p in exc.value.problems] == [(7, None), (8, None)]
    assert all("row is empty" in p.message for p in exc.value.problems)


def test_latitude_longitude_columns_are_named_in_the_message(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    frame = pd.DataFrame(accounts).rename(columns={"lat": "Latitude", "lon": "lng"})
    a, r = write_instance(tmp_path, [], reps)
    frame.to_csv(a, index=False)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    messages = {p.column: p.message for p in exc.value.problems}
    assert "found 'latitude'" in messages["lat"]
    assert "found 'lng'" in messages["lon"]


def test_a_header_of_one_column_names_the_separator_problem(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    a = tmp_path / "accounts.csv"
    a.write_text("account_id|lat|lon\nA1|0|0.1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert "header is one column" in exc.value.problems[0].message


def test_a_missing_id_column_lists_the_columns_the_file_has(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    a = tmp_path / "accounts.csv"
    a.write_text("FIPS,NAME,lat,lon\n37001,Alamance,36.0,-79.4\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (problem,) = exc.value.problems
    assert problem.column == "account_id"
    assert "the file has 'fips', 'name', 'lat', 'lon'" in problem.message
