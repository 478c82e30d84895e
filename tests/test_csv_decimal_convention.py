"""One decimal convention per CSV file: `.` groups thousands wherever the file's decimal is the comma.

Found by QA on a de-DE Excel export (UTF-8 BOM, ``;``, CRLF, ``31,79177``, ``3,96``, whole numbers written
``21.846`` and ``1.188.945``): ``21.846`` was read as 21.846 (x1000 too small, silently) while ``1.188.945``
was rejected, because the decimal was decided per column and a column of whole numbers had no comma.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import RosterEdits, load_inputs
from territory_planner.io.numbers import COMMA, POINT, decide, parse_numbers
from tests.conftest import line_instance, write_instance


def _reps(tmp_path: Path) -> Path:
    return write_instance(tmp_path, [], line_instance()[1])[1]


def _accounts(tmp_path: Path, lines: list[str], sep: str = ";", name: str = "accounts_de.csv") -> Path:
    """An accounts file as Excel writes it: UTF-8 with BOM, CRLF line ends."""
    path = tmp_path / name
    header = sep.join(["account_id", "lat", "lon", "potential", "workload"])
    path.write_bytes(("\ufeff" + "\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))
    return path


def _problems(a: Path, r: Path) -> dict[tuple[int | None, str | None], str]:
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    return {(p.row, p.column): p.message for p in exc.value.problems}


def test_de_excel_export_reads_thousands_dots_in_a_column_of_whole_numbers(tmp_path: Path) -> None:
    # the QA file's shape: decimal commas in lat/lon/workload, potential whole numbers with dot groups
    a = _accounts(
        tmp_path,
        [
            "A1;31,79177;-95,69045;21.846;3,96",
            "A2;32,30412;-102,63789;1.188.945;2,71",
            "A3;31,27575;-94,63288;945;5",
            "A4;28,06146;-97,04638;1.982.505;3,14",
        ],
    )
    acc = load_inputs(a, _reps(tmp_path)).accounts
    assert acc["potential"].tolist() == [21846.0, 1188945.0, 945.0, 1982505.0]
    assert acc["workload"].tolist() == [3.96, 2.71, 5.0, 3.14]
    assert acc["lat"].tolist() == [31.79177, 32.30412, 31.27575, 28.06146]


def test_semicolon_file_of_whole_numbers_only_uses_the_decimal_comma(tmp_path: Path) -> None:
    # no cell shows the decimal separator: the semicolon is Excel's where the decimal is a comma
    a = _accounts(tmp_path, ["A1;0;0;21.846;1", "A2;0;1;945;2"])
    assert load_inputs(a, _reps(tmp_path)).accounts["potential"].tolist() == [21846.0, 945.0]


def test_a_column_mixing_decimal_commas_and_dot_groups_is_read_with_the_comma(tmp_path: Path) -> None:
    a = _accounts(tmp_path, ["A1;0;0;3,96;1", "A2;0;1;21.846;2", "A3;0;1;1.234,5;2"])
    assert load_inputs(a, _reps(tmp_path)).accounts["potential"].tolist() == [3.96, 21846.0, 1234.5]


def test_semicolon_file_with_decimal_points_reads_them_as_points(tmp_path: Path) -> None:
    # a semicolon file written with decimal points (de-CH, some tools): 31.79177 says so for the file
    a = _accounts(tmp_path, ["A1;31.79177;-95.5;21.846;1", "A2;32.1;-95.6;1,234;2"])
    assert load_inputs(a, _reps(tmp_path)).accounts["potential"].tolist() == [21.846, 1234.0]


def test_point_coordinates_do_not_decide_a_column_of_point_grouped_whole_numbers(tmp_path: Path) -> None:
    """QA22 M1: coordinates pasted with decimal points into a de-DE semicolon export whose potential
    column Excel wrote grouped (``92.604`` for 92,604): read as the file's point, every potential was
    1,000 times too small, silently. Such a column is ambiguous, with the reason; a point of its own
    (``12.5``) decides it, and coordinates alone are not evidence against their own column."""
    r = _reps(tmp_path)
    rows = ["A1;52.52437;13.41053;92.604;1", "A2;40.4165;-3.70256;500;2", "A3;48.85;2.35;1.234;3"]
    problems = _problems(_accounts(tmp_path, rows), r)
    assert set(problems) == {(1, "potential"), (3, "potential")}
    message = problems[(1, "potential")]
    assert (
        "ambiguous: 92604 if the file's decimal separator is the comma, 92.604 if it is the point" in message
    )
    assert "the file's other columns use a decimal point (lat '52.52437' on row 1)" in message
    assert "every potential cell with a point, such as '92.604', reads as a whole number grouped" in message
    # a cell only the decimal comma reads (1.234.567) decides the column for the comma
    rows[2] = "A3;48.85;2.35;1.234.567;3"
    assert load_inputs(_accounts(tmp_path, rows), r).accounts["potential"].tolist() == [
        92604.0,
        500.0,
        1234567.0,
    ]
    # the column shows its own decimal point: read as points
    a = _accounts(tmp_path, ["A1;52.52437;13.41053;92.604;1", "A2;40.4165;-3.70256;12.5;2"])
    assert load_inputs(a, r).accounts["potential"].tolist() == [92.604, 12.5]
    # a comma-separated file: the point is the decimal, as always
    a = _accounts(tmp_path, ["A1,52.52437,13.41053,92.604,1", "A2,40.4165,-3.70256,500,2"], sep=",")
    assert load_inputs(a, r).accounts["potential"].tolist() == [92.604, 500.0]


def test_a_file_showing_both_conventions_reports_the_ambiguous_cells(tmp_path: Path) -> None:
    a = _accounts(tmp_path, ["A1;31,79177;-95,5;21.846;1", "A2;32,1;-95,6;945;3.5", "A3;32,2;-95,7;1,234;2"])
    problems = _problems(a, _reps(tmp_path))
    assert set(problems) == {(1, "potential"), (3, "potential")}
    message = problems[(1, "potential")]
    assert (
        "ambiguous: 21846 if the file's decimal separator is the comma, 21.846 if it is the point" in message
    )
    assert "lat '31,79177' on row 1" in message
    assert "workload '3.5' on row 2" in message
    assert (
        "ambiguous: 1.234 if the file's decimal separator is the comma, 1234 if it is the point"
        in problems[(3, "potential")]
    )


def test_tab_file_without_evidence_reports_dot_groups_and_with_evidence_reads_them(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    a = _accounts(tmp_path, ["A1\t0\t0\t21.846\t1", "A2\t0\t1\t945\t2"], sep="\t")
    problems = _problems(a, r)
    assert list(problems) == [(1, "potential")]
    assert "no number in the file shows its decimal separator" in problems[(1, "potential")]
    a = _accounts(tmp_path, ["A1\t0,5\t0\t21.846\t1", "A2\t0\t1\t945\t2"], sep="\t")
    assert load_inputs(a, r).accounts["potential"].tolist() == [21846.0, 945.0]


def test_us_comma_file_keeps_comma_groups_and_refuses_dot_groups(tmp_path: Path) -> None:
    r = _reps(tmp_path)
    accounts, _ = line_instance()
    accounts[0]["potential"] = "1,982,505"  # quoted by to_csv
    accounts[1]["potential"] = "21.846"  # a decimal point in a comma file
    a, _ = write_instance(tmp_path, accounts, line_instance()[1])
    assert load_inputs(a, r).accounts["potential"].tolist()[:2] == [1982505.0, 21.846]
    accounts[2]["potential"] = "1.188.945"
    a, _ = write_instance(tmp_path, accounts, line_instance()[1])
    problems = _problems(a, r)
    assert problems == {
        (3, "potential"): "potential is not a number ('.' for thousands or a decimal comma? write 1188945 "
        "with a decimal point)"
    }


def test_space_and_apostrophe_groups_are_read_in_either_convention(tmp_path: Path) -> None:
    a = _accounts(tmp_path, ["A1;0,5;0;1\u00a0188\u00a0945,5;1", "A2;0;1;1\u202f234;2"])
    assert load_inputs(a, _reps(tmp_path)).accounts["potential"].tolist() == [1188945.5, 1234.0]
    b = _accounts(tmp_path, ["A1;0.5;0;1'188'945.5;1"], name="accounts_ch.csv")
    assert load_inputs(b, _reps(tmp_path)).accounts["potential"].tolist() == [1188945.5]


def test_the_reps_of_a_scenario_keep_their_files_decimal_comma(tmp_path: Path) -> None:
    a = write_instance(tmp_path, line_instance()[0], line_instance()[1])[0]
    r = tmp_path / "reps_de.csv"
    r.write_text("rep_id;lat;lon;capacity;quota\nR1;0;0;0,5;1.200.000\nR2;0;1;1;950.000\n", encoding="utf-8")
    added = ({"rep_id": "R3", "lat": 1, "lon": 1, "capacity": 1},)  # a scenario's [[reps.add]]
    reps = load_inputs(a, r, roster_edits=RosterEdits(add=added)).reps
    assert reps["capacity"].tolist() == [0.5, 1.0, 1.0]
    assert reps["quota"].tolist()[:2] == [1200000.0, 950000.0]


@pytest.mark.parametrize(
    ("cells", "separator", "decimal"),
    [
        (["31,79177"], ";", COMMA),
        (["1.188.945"], "\t", COMMA),
        (["1.234,5"], "\t", COMMA),
        (["0,125"], "\t", COMMA),  # not a thousands group: a group does not start with 0
        (["31.79177"], ";", POINT),
        (["1,982,505"], "\t", POINT),
        (["0.125"], ";", POINT),
        (["21.846", "945"], ";", COMMA),  # no evidence: the semicolon
        (["21.846", "945"], "\t", None),  # no evidence, no default
        (["3,5", "3.5"], ";", None),  # both
        (["3,5", "3.5"], ",", POINT),  # a comma file is always the decimal point
    ],
)
def test_decide(cells: list[str], separator: str, decimal: str | None) -> None:
    assert decide({"x": pd.Series(cells)}, separator).decimal == decimal


def test_parse_numbers_under_each_convention() -> None:
    cells = pd.Series(["21.846", "1,234", "1.234,5", "1,234.5", "945", "", "1e3", "abc"])
    comma, comma_hints = parse_numbers(cells, COMMA)
    point, point_hints = parse_numbers(cells, POINT)
    assert comma.tolist()[:3] == [21846.0, 1.234, 1234.5]
    assert point.tolist()[:2] == [21.846, 1234.0]
    assert point.iloc[3] == 1234.5
    assert comma.tolist()[4] == point.tolist()[4] == 945.0
    assert comma.iloc[6] == point.iloc[6] == 1000.0
    assert comma[[3, 5, 7]].isna().all()
    assert point[[2, 5, 7]].isna().all()
    assert "decimal point" in comma_hints[3]
    assert "decimal comma" in point_hints[2]
    assert 7 not in comma_hints  # not a number at all: no hint to give
    assert 7 not in point_hints
