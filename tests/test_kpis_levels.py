"""Every KPI at every level on the hand-computed fixture of ``conftest_report`` (period 2026Q1)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest_report import write_crm, write_plan

from territory_planner.report.api import compute_kpis
from territory_planner.report.plan import load_plan

NAN = math.nan
# 2026Q1 ended before the export (O7 created 2026-04-02): its pipeline is weighted by each rep's win rate
# over the deals closed in the year before 2026-04-01 (O1-O4, O8; O5 closed on 2026-04-01), shrunk
# toward the team's 4/5 by 10 deals: R2 won 2 of 2, (2 + 10 * 0.8) / (2 + 10).
R2_RATE = (2 + 10 * 0.8) / (2 + 10)

# (level, id) -> {kpi: value}; NaN = empty denominator (blank in kpis.csv)
EXPECTED: dict[tuple[str, str], dict[str, float]] = {
    ("team", "all"): {
        "quota_attainment": 460 / (800 + 36 + 100),  # R2's yearly 146 prorated: 146 * 90 / 365 = 36
        "quota_attainment_rate": 1 / 3,  # only R2 (60 / 36) reaches its quota
        "win_rate": 3 / 4,  # pooled: O1, O3, O8 won; O2 lost (not the mean of rep rates, 5/6)
        "avg_sales_cycle_days": (40 + 30 + 10) / 3,
        "avg_deal_size": (100 + 300 + 60) / 3,
        "selling_time_share": 35 / 130,
        "lead_response_hours": (3 + 2) / 2,
        "weighted_pipeline_rebuilt": (1000 + 50)
        * R2_RATE,  # O5 (lost after the end) and O6 were open at the end
        "pipeline_velocity": 2 * 0.75 * (460 / 3) / (80 / 3),
        "forecast_accuracy": 1 - (100 + 30) / (400 + 60),
        "prospect_meetings": 3 / 3,  # M1, M4, M7 over 3 reps
        "won_amount": 460,
        "open_opportunities": 2,
    },
    ("rep", "R1"): {
        "quota_attainment": 400 / 800,
        "win_rate": 2 / 3,
        "avg_sales_cycle_days": 35,
        "avg_deal_size": 200,
        "selling_time_share": 30 / 80,  # the row dated on the period end counts
        "lead_response_hours": 2.5,
        "weighted_pipeline_rebuilt": 0,
        "pipeline_velocity": 0,
        "forecast_accuracy": 1 - 100 / 400,
        "prospect_meetings": 2,  # M1 (before A1's first win), M7 (same day as A2's win: not *before*)
        "won_amount": 400,
        "open_opportunities": 0,
    },
    ("rep", "R2"): {
        "quota_attainment": 60 / 36,
        "win_rate": 1,
        "avg_sales_cycle_days": 10,
        "avg_deal_size": 60,
        "selling_time_share": 0.1,
        "lead_response_hours": NAN,  # L3 never responded, L4 contacted before the period
        "weighted_pipeline_rebuilt": (1000 + 50) * R2_RATE,
        "pipeline_velocity": 2 * 1 * 60 / 10,
        "forecast_accuracy": 1 - 30 / 60,
        "prospect_meetings": 1,
        "won_amount": 60,
        "open_opportunities": 2,
    },
    ("rep", "R3"): {  # a rep with no deals: ratios blank, sums 0
        "quota_attainment": 0,
        "win_rate": NAN,
        "avg_sales_cycle_days": NAN,
        "avg_deal_size": NAN,
        "selling_time_share": NAN,
        "lead_response_hours": NAN,
        "weighted_pipeline_rebuilt": 0,
        "pipeline_velocity": NAN,
        "forecast_accuracy": NAN,
        "prospect_meetings": 0,
        "won_amount": 0,
        "open_opportunities": 0,
    },
    ("region", "East"): {
        "quota_attainment": 460 / 836,
        "quota_attainment_rate": 1 / 2,
        "win_rate": 3 / 4,
        "forecast_accuracy": 1 - 130 / 460,
        "prospect_meetings": 3 / 2,
        "weighted_pipeline_rebuilt": (1000 + 50) * R2_RATE,
        "selling_time_share": 35 / 130,
    },
    ("region", "West"): {
        "quota_attainment": 0,
        "quota_attainment_rate": 0,
        "win_rate": NAN,
        "forecast_accuracy": NAN,
        "prospect_meetings": 0,
        "weighted_pipeline_rebuilt": 0,
    },
    ("territory", "R1"): {
        "accounts": 1,
        "potential": 10,
        "won_amount": 100,
        "win_rate": 1 / 2,
        "weighted_pipeline_rebuilt": 0,
        "lead_response_hours": 3,
        "prospect_meetings": 1,
    },
    ("territory", "R2"): {
        "accounts": 1,
        "potential": 30,
        "won_amount": 60,
        "win_rate": 1,
        "weighted_pipeline_rebuilt": 50 * R2_RATE,
        "open_opportunities": 1,
        "lead_response_hours": NAN,
        "prospect_meetings": 0,
    },
    ("territory", "R3"): {
        "accounts": 2,
        "potential": 60,
        "won_amount": 300,
        "win_rate": 1,
        "avg_sales_cycle_days": 30,
        "weighted_pipeline_rebuilt": 1000 * R2_RATE,
        "open_opportunities": 1,
        "lead_response_hours": 2,
        "prospect_meetings": 2,
    },
    ("territory_current", "R1"): {
        "accounts": 2,
        "potential": 30,
        "won_amount": 400,
        "weighted_pipeline_rebuilt": 0,
    },
    ("territory_current", "R2"): {
        "accounts": 2,
        "potential": 70,
        "won_amount": 60,
        "weighted_pipeline_rebuilt": 875,
    },
    ("territory_current", "R3"): {"accounts": 0, "potential": 0, "won_amount": 0, "win_rate": NAN},
}


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("kpis")
    crm = write_crm(root / "crm")
    plan = load_plan(write_plan(root / "plan"))
    return compute_kpis(crm, "2026Q1", plan=plan).long


def _value(kpis: pd.DataFrame, level: str, ident: str, kpi: str) -> float:
    rows = kpis[(kpis["level"] == level) & (kpis["id"] == ident) & (kpis["kpi"] == kpi)]
    assert len(rows) == 1, f"{level}/{ident}/{kpi}: {len(rows)} rows"
    return float(rows["value"].iloc[0])


@pytest.mark.parametrize(
    ("level", "ident", "kpi", "expected"),
    [(lvl, i, k, v) for (lvl, i), kv in EXPECTED.items() for k, v in kv.items()],
)
def test_kpi_value(kpis: pd.DataFrame, level: str, ident: str, kpi: str, expected: float) -> None:
    got = _value(kpis, level, ident, kpi)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-9, rel=1e-12)


def test_levels_and_ids(kpis: pd.DataFrame) -> None:
    ids = kpis.groupby("level")["id"].unique().map(sorted).to_dict()
    assert ids == {
        "team": ["all"],
        "rep": ["R1", "R2", "R3"],
        "region": ["East", "West"],
        "territory": ["R1", "R2", "R3"],
        "territory_current": ["R1", "R2", "R3"],
    }


def test_rep_keyed_kpis_absent_at_territory_levels(kpis: pd.DataFrame) -> None:
    terr = kpis[kpis["level"].str.startswith("territory")]
    assert not terr["kpi"].isin(["quota_attainment", "selling_time_share", "forecast_accuracy"]).any()
    assert not kpis.loc[kpis["level"] == "rep", "kpi"].eq("quota_attainment_rate").any()


def test_team_sums_match_rep_sums(kpis: pd.DataFrame) -> None:
    for kpi in ("won_amount", "weighted_pipeline_rebuilt", "open_opportunities"):
        team = _value(kpis, "team", "all", kpi)
        for level in ("rep", "region", "territory", "territory_current"):
            part = kpis[(kpis["level"] == level) & (kpis["kpi"] == kpi)]["value"].sum()
            assert part == pytest.approx(team, abs=1e-9), (kpi, level)


def test_period_boundary_shifts_deals(tmp_path: Path) -> None:
    """2025Q4 sees O4 (won on 2025-12-31, its last day) and not O1 (closed 2026-01-10)."""
    long = compute_kpis(write_crm(tmp_path / "crm"), "2025-10-01:2025-12-31").long
    assert _value(long, "rep", "R2", "won_amount") == 400
    assert _value(long, "rep", "R1", "won_amount") == 0
    assert _value(long, "rep", "R1", "quota_attainment") == 0  # 0 / 999
    assert _value(long, "team", "all", "avg_sales_cycle_days") == pytest.approx(91, abs=1e-9)
    # open at 2025-12-31: O1 (created 2025-12-01), nothing else was created yet
    assert _value(long, "team", "all", "open_opportunities") == 1
    # O1 was won since: no hindsight weight of 1; R1 closed nothing in 2025, so the team's rate, 1/1 (O4)
    assert _value(long, "team", "all", "weighted_pipeline_rebuilt") == pytest.approx(100, abs=1e-9)
    # the key is there, blank: a dashboard reading it finds the row (QA17 F5)
    assert long.loc[long["kpi"].eq("weighted_pipeline"), "value"].isna().all()
    assert long["kpi"].eq("weighted_pipeline").any()


def test_missing_tables_make_kpis_unavailable(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm", skip=("quotas.csv", "time_log.csv", "leads.csv"))
    report = compute_kpis(crm, "2026Q1")
    long = report.long
    gone = {"quota_attainment", "quota_attainment_rate", "selling_time_share", "lead_response_hours"}
    # blank rows, not absent ones (QA27 F22: a dashboard could not tell a missing table from a KPI this
    # version does not compute)
    team = long[long["level"] == "team"].set_index("kpi")["value"]
    assert gone <= set(team.index)
    assert team[list(gone)].isna().all()
    assert team["win_rate"] == team["win_rate"]  # a number
    rep_rows = long[long["level"] == "rep"]
    assert not rep_rows["kpi"].eq("quota_attainment_rate").any()  # defined for groups of reps only
    team = report.section.level("team")
    assert team is not None
    assert "quotas.csv not found" in team.unavailable["quota_attainment"]
    assert "leads.csv not found" in team.unavailable["lead_response_hours"]


def test_no_plan_means_no_territory_levels(tmp_path: Path) -> None:
    report = compute_kpis(write_crm(tmp_path / "crm"), "2026Q1")
    assert set(report.long["level"]) == {"team", "rep", "region"}
    assert "territory" in report.section.skipped_levels


def test_team_quota_attainment_counts_only_reps_with_a_quota(tmp_path: Path) -> None:
    """QA2 E9: R1 has a quota of 0 for 2026Q1 but wins 400 (O1 100 + O3 300); R2 wins 60 against its
    prorated yearly quota 146 x 90 / 365 = 36; R3 wins nothing against 100. Team and region figures pool
    the reps with a quota only, the same reps ``quota_attainment_rate`` counts:
    team 60 / (36 + 100) (it was (400 + 60) / 136 = 3.38 when R1's won counted without its quota),
    East 60 / 36 (R2 alone), West 0 / 100; rate 1 / 2 (R2 of R2, R3)."""
    quotas = """rep_id,period_start,period_end,quota
R1,2026-01-01,2026-03-31,0
R2,2026-01-01,2026-12-31,146
R3,2026-01-01,2026-03-31,100
"""
    long = compute_kpis(write_crm(tmp_path / "crm", override={"quotas.csv": quotas}), "2026Q1").long
    assert _value(long, "team", "all", "quota_attainment") == pytest.approx(60 / 136, rel=1e-12)
    assert _value(long, "team", "all", "quota_attainment_rate") == pytest.approx(1 / 2, rel=1e-12)
    assert _value(long, "region", "East", "quota_attainment") == pytest.approx(60 / 36, rel=1e-12)
    assert _value(long, "region", "East", "quota_attainment_rate") == 1
    assert _value(long, "region", "West", "quota_attainment") == 0
    assert math.isnan(_value(long, "rep", "R1", "quota_attainment"))  # no quota: n/a, not 400 / 0
    assert _value(long, "team", "all", "won_amount") == 460  # the won amount itself still counts everyone
