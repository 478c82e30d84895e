"""A rep's quota and forecast rows must not cover a day twice, and bad CRM cells are shown as written.

QA15 H1: a quota row written twice, a second forecast row for the same rep and quarter, and a monthly
quota inside the quarter's were summed without a word (PL01's attainment halved, exit 0). QA15 M7: the
error table showed ``closed won`` for ``Closed Won`` and ``-500.0`` for ``-500``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest_report import TABLES, write_crm

from territory_planner.cli import main
from territory_planner.errors import InputError, Problem
from territory_planner.report.crm import load_crm

QUOTA_HEADER = "rep_id,period_start,period_end,quota\n"


def _problems(tmp_path: Path, **override: str) -> list[Problem]:
    crm = write_crm(tmp_path / "crm", override=override)
    with pytest.raises(InputError) as info:
        load_crm(crm)
    return list(info.value.problems)


def test_a_quota_row_written_twice_is_reported_with_the_first_row(tmp_path: Path) -> None:
    quotas = TABLES["quotas.csv"] + "R1,2026-01-01,2026-03-31,800\n"  # row 5 repeats row 1
    (problem,) = _problems(tmp_path, **{"quotas.csv": quotas})
    assert (Path(problem.file).name, problem.row, problem.column, problem.value) == (
        "quotas.csv",
        5,
        "period_start",
        "2026-01-01",
    )
    assert problem.message.startswith(
        "duplicate quota: rep R1 already has a quota for 2026-01-01 to 2026-03-31 in row 1 (the same row "
        "written twice)"
    )


def test_a_second_forecast_for_the_same_period_is_reported(tmp_path: Path) -> None:
    forecasts = TABLES["forecasts.csv"] + "R2,2026-01-01,2026-03-31,1.0\n"
    (problem,) = _problems(tmp_path, **{"forecasts.csv": forecasts})
    assert (Path(problem.file).name, problem.row, problem.column) == ("forecasts.csv", 3, "period_start")
    assert "rep R2 already has a forecast for 2026-01-01 to 2026-03-31 in row 2" in problem.message
    assert "two forecasts for one period" in problem.message


def test_a_month_inside_the_reps_quarter_is_an_overlap(tmp_path: Path) -> None:
    """A monthly quota beside the quarterly one that holds it: the later-starting row is reported, naming
    the quarter's row, whichever comes first in the file."""
    quarter = "R1,2026-01-01,2026-03-31,800\n"
    month = "R1,2026-02-01,2026-02-28,100\n"
    for rows, month_row, quarter_row in ((quarter + month, 2, 1), (month + quarter, 1, 2)):
        problems = _problems(tmp_path / str(month_row), **{"quotas.csv": QUOTA_HEADER + rows})
        assert [(p.row, p.column, p.value) for p in problems] == [(month_row, "period_start", "2026-02-01")]
        assert (
            "rep R1's quota for 2026-02-01 to 2026-02-28 lies inside its quota for 2026-01-01 to "
            f"2026-03-31 (row {quarter_row}); the days in both would count twice"
        ) in problems[0].message


def test_partial_and_one_day_overlaps_are_reported_but_other_reps_and_adjacent_periods_are_not(
    tmp_path: Path,
) -> None:
    rows = (
        "R1,2026-01-01,2026-03-31,800\n"
        "R1,2026-04-01,2026-06-30,800\n"  # adjacent: fine
        "R2,2026-01-01,2026-03-31,50\n"  # another rep, same period: fine
        "R1,2026-06-30,2026-09-30,800\n"  # shares 2026-06-30 with row 2
        "R2,2026-03-01,2026-05-31,50\n"  # March shared with row 3
    )
    problems = _problems(tmp_path, **{"quotas.csv": QUOTA_HEADER + rows})
    got = {p.row: p.message for p in problems}
    assert set(got) == {4, 5}
    assert "overlaps its quota for 2026-04-01 to 2026-06-30 (row 2) on 1 day(s), 2026-06-30" in got[4]
    assert "is period_end the next period's first day?" in got[4]
    assert "overlaps its quota for 2026-01-01 to 2026-03-31 (row 3) on 31 day(s)" in got[5]


def test_the_report_command_refuses_a_doubled_quota_and_writes_no_kpis(tmp_path: Path) -> None:
    doubled = TABLES["quotas.csv"] + "R1,2026-01-01,2026-03-31,800\n"
    crm = write_crm(tmp_path / "crm", override={"quotas.csv": doubled})
    out = tmp_path / "rep"
    result = CliRunner().invoke(main, ["report", "--crm", str(crm), "--period", "2026Q1", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "duplicate quota" in result.output
    assert not (out / "kpis.csv").exists()
    assert not (out / "report.html").exists()


def test_bad_cells_are_shown_as_written(tmp_path: Path) -> None:
    opps = (
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A1,R1,100,Closed Won,1,2026-01-01,2026-01-10\n"
        "O2,A1,R1,-500,won,1,2026-01-01,2026-01-10\n"
        "O3,A1,R1,100,won,1,2026-02-01T00:00,2026-01-10T00:00\n"
        "O4,A1,R1,100,Won,150%,2026-01-01,2026-01-10\n"
        "O5,A1,R1,100,won,2,2026-01-01,2026-01-10\n"
    )
    tlog = "rep_id,date,selling_hours,total_hours\nR1,2026-01-05,60,40\n"
    leads = "lead_id,rep_id,account_id,contacted_at,responded_at\nL1,R1,A1,2026-01-02,2020-01-01T00:00\n"
    quotas = QUOTA_HEADER + "R1,2026-03-31,2026-01-01,800\nR2,2026-01-01,2026-03-31,-5\n"
    problems = _problems(
        tmp_path,
        **{"opportunities.csv": opps, "time_log.csv": tlog, "leads.csv": leads, "quotas.csv": quotas},
    )
    shown = {(Path(p.file).name, p.row, p.column): p.value for p in problems}
    assert shown[("opportunities.csv", 1, "status")] == "Closed Won"
    assert shown[("opportunities.csv", 2, "amount")] == "-500"
    assert shown[("opportunities.csv", 3, "close_date")] == "2026-01-10T00:00 (created_date 2026-02-01T00:00)"
    assert shown[("opportunities.csv", 5, "probability")] == "2"
    assert shown[("time_log.csv", 1, "selling_hours")] == "60"
    assert shown[("leads.csv", 1, "responded_at")] == "2020-01-01T00:00"
    assert shown[("quotas.csv", 1, "period_end")] == "2026-01-01"
    assert shown[("quotas.csv", 2, "quota")] == "-5"
