"""Periods, proration and the suggested quota split."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territory_planner.report.kpis import prorate
from territory_planner.report.periods import PeriodError, parse_period
from territory_planner.report.quota import allocate_cents, suggest_quotas


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-01-15:2026-01-15", date(2026, 1, 15), date(2026, 1, 15)),
    ],
)
def test_parse_period(text: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["", "2026Q5", "2026-13", "26", "2026-02-30:2026-03-01", "2026-03-01:2026-02-01"]
)
def test_bad_periods(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_prorate_by_days() -> None:
    rows = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "period_start": pd.to_datetime(["2026-01-01", "2026-01-01", "2025-10-01"]),
            "period_end": pd.to_datetime(["2026-03-31", "2026-12-31", "2025-12-31"]),
            "quota": [900.0, 365.0, 50.0],
        }
    )
    got = prorate(rows, "quota", parse_period("2026-01"))
    assert got["rep_id"].tolist() == ["R1", "R2"]  # R3's quarter does not overlap
    assert got["quota"].tolist() == pytest.approx([900 * 31 / 90, 31.0], abs=1e-9)


@given(
    st.floats(0, 1e9, allow_nan=False),
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30).filter(lambda v: sum(v) > 0),
)
def test_allocate_cents_sums_exactly(target: float, weights: list[float]) -> None:
    shares = pd.Series(weights) / sum(weights)
    cents = (allocate_cents(target, shares) * 100).round().astype("int64")
    assert int(cents.sum()) == round(target * 100)


def test_suggest_quotas_by_potential_and_capacity_fallback() -> None:
    terr = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "potential": [1.0, 1.0, 1.0], "capacity": [1, 1, 1]})
    q = suggest_quotas(terr, 100.0)
    assert q["suggested_quota"].sum() == pytest.approx(100.0, abs=1e-9)
    assert sorted(q["suggested_quota"].tolist()) == [33.33, 33.33, 33.34]
    zero = terr.assign(potential=0.0, capacity=[1.0, 0.5, 0.5])
    assert suggest_quotas(zero, 10.0)["suggested_quota"].tolist() == [5.0, 2.5, 2.5]


def test_a_period_holding_part_of_a_quota_row_says_it_is_pro_rata(tmp_path: Path) -> None:
    """QA17 F7: a month's report took 28/90 of the quarter's quota and forecast without a word. R1's
    and R3's quotas are 2026Q1's, R2's the year's."""
    from conftest_report import write_crm

    from territory_planner.report.crm import load_crm
    from territory_planner.report.kpis import prorated_notes

    crm = load_crm(write_crm(tmp_path / "crm"))
    month = [n for n in prorated_notes(crm.tables, parse_period("2026-02")) if n.startswith("quotas.csv")]
    assert month == [
        "quotas.csv: 2026-02 holds only part of 3 quota row(s), counted pro rata by days "
        "(e.g. R1's 2026-01-01 to 2026-03-31: 28 of 90 days)"
    ]
    from territory_planner.report.api import compute_kpis

    section = compute_kpis(write_crm(tmp_path / "crm2"), "2026-02").section
    assert month[0] in section.notes  # report.html's note under the KPIs, not a warning
    assert month[0] not in section.warnings
    quarter = [n for n in prorated_notes(crm.tables, parse_period("2026Q1")) if n.startswith("quotas.csv")]
    assert quarter == [
        "quotas.csv: 2026Q1 holds only part of 1 quota row(s), counted pro rata by days "
        "(e.g. R2's 2026-01-01 to 2026-12-31: 90 of 365 days)"
    ]
