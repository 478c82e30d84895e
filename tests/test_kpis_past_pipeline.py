"""A past period's weighted pipeline is not the export's hindsight (QA15 M5).

A CRM export keeps only today's probabilities: a deal open at the end of 2025Q4 and won since shows 1, so
"the weighted pipeline at the end of 2025Q4" came out as the amount later won. For a period that ended
before the export, ``weighted_pipeline`` is blank in kpis.csv (the report says why) and
``weighted_pipeline_rebuilt`` weights each deal open at the end by its rep's win rate of the year before.

Fixture (``conftest_report``): the export's latest date is 2026-04-02 (O7 created).
"""

from __future__ import annotations

import math
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from conftest_report import write_crm, write_plan

from territory_planner.report.api import compute_kpis, write_report
from territory_planner.report.kpis import rebuilt_probability


def _team(long: pd.DataFrame) -> dict[str, float]:
    rows = long[long["level"] == "team"]
    return dict(zip(rows["kpi"], rows["value"], strict=True))


def test_a_period_ending_at_the_export_uses_the_exports_probabilities(tmp_path: Path) -> None:
    """Open on 2026-04-02: O6 (1000 x 0.5) and O7 (80 x 0.25); O5 was lost on 2026-04-01."""
    team = _team(compute_kpis(write_crm(tmp_path / "crm"), "2026-01-01:2026-04-02").long)
    assert team["weighted_pipeline"] == pytest.approx(1000 * 0.5 + 80 * 0.25, abs=1e-9)
    assert "weighted_pipeline_rebuilt" not in team


def test_a_period_before_the_export_has_no_hindsight_pipeline(tmp_path: Path) -> None:
    """2026Q1: O5 (50, lost on 2026-04-01, probability 0 today) and O6 (1000, 0.5) were open at its end.
    The export's figure would be 500; the rebuilt one weights both by R2's shrunk win rate, 10/12."""
    crm = write_crm(tmp_path / "crm")
    write_report(tmp_path / "out", crm_dir=crm, plan_dir=write_plan(tmp_path / "plan"), period="2026Q1")
    long = pd.read_csv(tmp_path / "out" / "kpis.csv")
    team = _team(long)
    assert math.isnan(team["weighted_pipeline"])  # the key is there, blank (QA17 F5), the reason in the page
    assert team["weighted_pipeline_rebuilt"] == pytest.approx(1050 * 10 / 12, abs=1e-9)
    assert team["pipeline_velocity"] == pytest.approx(2 * 0.75 * (460 / 3) / (80 / 3), abs=1e-9)
    page = unescape((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert (
        "the period ended before the export was taken and a CRM export keeps only today's probabilities: "
        "1 of the 2 deals open at its end have closed since (probability now 1 or 0)"
    ) in page
    assert "rep's win rate over the year before the period's end" in page  # the rebuilt KPI's definition
    assert "Weighted pipeline by territory, before and after (probabilities rebuilt" in page


def test_no_closed_deal_in_the_year_before_gives_no_rebuilt_probability() -> None:
    opps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "status": ["open", "won"],
            "close_date": pd.to_datetime([None, "2024-01-05"]),
        }
    )
    rebuilt = rebuilt_probability(opps, pd.Timestamp("2026-01-01"))
    assert rebuilt.isna().all()
    rebuilt = rebuilt_probability(opps, pd.Timestamp("2024-06-01"))  # R2's win counts; R1 has none
    assert rebuilt.tolist() == [1.0, 1.0]
    assert not math.isnan(rebuilt.iloc[0])


def test_a_period_before_the_history_says_why_without_a_count(tmp_path: Path) -> None:
    """2025Q2 lies before the fixture's history: nothing was open at its end, so no "0 of the 0 deals"."""
    report = compute_kpis(write_crm(tmp_path / "crm"), "2025Q2")
    team = report.section.level("team")
    assert team is not None
    reason = team.unavailable["weighted_pipeline"]
    assert "0 of the 0" not in reason
    assert "the deals open at its end may have changed stage since" in reason


def test_stale_open_deals_in_the_pipeline_are_named_with_their_amount() -> None:
    """QA27 F10: the weighted pipeline counted 103 deals over a year past their close date (16% of it)
    where the forecast named them stale and left them out; the report now says so, by the same rule:
    past the expected close date at the period's end and older than 98% of the recent cycles."""
    import numpy as np

    from territory_planner.report.kpis import stale_pipeline_notes
    from territory_planner.report.periods import parse_period

    rng = np.random.default_rng(0)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 600, 200), unit="D")
    closed = pd.DataFrame(
        {
            "status": "won",
            "created_date": created,
            "close_date": created + pd.to_timedelta(rng.integers(20, 90, 200), unit="D"),
            "amount": 100.0,
            "probability": 1.0,
        }
    )
    open_ = pd.DataFrame(
        {
            "status": "open",
            # two a year old and past their date, one recent and overdue, one old but expected later
            "created_date": pd.to_datetime(["2025-01-10", "2025-02-01", "2025-12-01", "2025-01-05"]),
            "close_date": pd.to_datetime(["2025-04-01", "2025-05-01", "2025-12-20", "2026-06-30"]),
            "amount": [1000.0, 3000.0, 500.0, 700.0],
            "probability": [0.5, 0.25, 0.5, 0.5],
        }
    )
    tables = {"opportunities": pd.concat([closed, open_], ignore_index=True)}
    notes = stale_pipeline_notes(tables, parse_period("2025Q4"))
    assert len(notes) == 1
    assert "2 open deal(s) (4,000 in all, 1,250 weighted)" in notes[0]
    assert stale_pipeline_notes(tables, parse_period("2025Q1")) == []  # none overdue yet by its end
