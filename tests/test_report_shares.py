"""A share of a whole is never written 0% (or 100%) when it is neither (QA15 L5: "1 of 3,532
opportunities (0% of their amount) are on accounts that are not in the plan")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_report import TABLES, write_crm, write_plan

from territory_planner.report import formatting as fm
from territory_planner.report.api import compute_kpis
from territory_planner.report.plan import load_plan


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0%"),
        (0.00004, "<0.1%"),
        (0.0004, "<0.1%"),
        (0.0006, "0.1%"),
        (0.25, "25.0%"),
        (0.9996, ">99.9%"),
    ],
)
def test_share_text(value: float, text: str) -> None:
    assert fm.share(value) == text
    assert fm.share(1.0) == "100.0%"


def test_a_small_deal_outside_the_plan_is_not_zero_percent(tmp_path: Path) -> None:
    opps = TABLES["opportunities.csv"] + "O9,A99,R1,1,won,1,2026-01-05,2026-01-06\n"  # 1 of 2,191
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    report = compute_kpis(crm, "2026Q1", plan=load_plan(write_plan(tmp_path / "plan")))
    (warning,) = [w for w in report.section.warnings if "not in the plan" in w]
    assert warning.startswith("1 of 9 opportunities (<0.1% of their amount)")


def test_accounts_outside_the_plan_are_named_with_the_id_they_may_be(tmp_path: Path) -> None:
    """QA27 F11: forecast --plan counted such deals under (unassigned) without the report's warning, and
    neither named the accounts nor saw that se0021 is SE0021 in another case."""
    from territory_planner.forecast.output import write_forecast

    plan = write_plan(tmp_path / "plan")
    known = load_plan(plan).assignments["account_id"].iloc[0]
    opps = (
        TABLES["opportunities.csv"]
        + f"O9,A99,R1,1,won,1,2026-01-05,2026-01-06\nO10,{known.lower()},R1,1,won,1,2026-01-05,2026-01-06\n"
    )
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    report = compute_kpis(crm, "2026Q1", plan=load_plan(plan))
    (warning,) = [w for w in report.section.warnings if "not in the plan" in w]
    assert (
        f"on 2 account(s) that are not in the plan (A99, {known.lower()} (did you mean {known}?))" in warning
    )
    out = tmp_path / "fc"
    out.mkdir()
    write_forecast(out, crm_dir=crm, horizon="2026Q3", plan_dir=plan)
    assert "on 2 account(s) that are not in the plan" in (out / "forecast.html").read_text(encoding="utf-8")
