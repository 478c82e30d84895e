"""report.html's district and region tables shade a deviation only for a measure the plan balances
(QA8 O1's report side: with balance = ["potential"] and --district-tolerance 0.1, the district table
shaded workload's deviation, which has no band)."""

from __future__ import annotations

import pandas as pd

from territory_planner.report.level_balance import level_tables


def _territories() -> pd.DataFrame:
    # two districts of two reps; D1 is 20% over on potential and 50% over on workload
    rows = []
    for rep, district, pot, work in (("R1", "D1", 120.0, 15.0), ("R2", "D1", 120.0, 15.0)):
        rows.append((rep, district, pot, work))
    for rep, district, pot, work in (("R3", "D2", 80.0, 5.0), ("R4", "D2", 80.0, 5.0)):
        rows.append((rep, district, pot, work))
    frame = pd.DataFrame(rows, columns=["rep_id", "district", "potential", "workload"])
    frame["potential_target"] = 100.0
    frame["workload_target"] = 10.0
    for m in ("potential", "workload"):
        frame[f"{m}_dev_pct"] = 100 * (frame[m] - frame[f"{m}_target"]) / frame[f"{m}_target"]
    frame["accounts"] = 3
    frame["travel_km"] = 10.0
    return frame


def _shaded(balance: list[str] | None) -> dict[str, bool]:
    summary: dict[str, object] = {"hierarchy": {"district": {"tolerance": {"*": 0.1}}}}
    if balance is not None:
        summary["config"] = {"balance": balance}
    (table,) = level_tables(_territories(), summary)
    d1 = table["rows"][0]
    cols = table["columns"]
    return {m: "below" in d1[cols.index(f"{m} dev.")][1] for m in ("potential", "workload")}


def test_an_unbalanced_measure_is_not_shaded_at_the_district_level() -> None:
    assert _shaded(["potential"]) == {"potential": True, "workload": False}


def test_both_measures_are_shaded_when_both_are_balanced() -> None:
    assert _shaded(["potential", "workload"]) == {"potential": True, "workload": True}
    assert _shaded(None) == {"potential": True, "workload": True}  # the default balances both


def test_the_workbook_gives_an_unbalanced_measure_no_district_band() -> None:
    """plan.xlsx's Districts sheet shades dev_pct by ``PlanTables.level_bands``: a "*" district tolerance
    gives a band to the balanced measures only."""
    import datetime as dt
    from pathlib import Path

    from territory_planner.export.plan_tables import PlanTables

    def bands(balanced: dict[str, float]) -> dict[str, float]:
        summary = {"tolerance": balanced, "hierarchy": {"district": {"tolerance": {"*": 0.1}}}}
        t = _territories()
        plan = PlanTables(Path("."), summary, pd.DataFrame(), t, None, dt.date(2026, 1, 1))
        return plan.level_bands("district")

    assert bands({"potential": 0.05}) == {"potential": 0.1}
    assert bands({"potential": 0.05, "workload": 0.05}) == {"potential": 0.1, "workload": 0.1}


def test_a_measure_with_no_target_has_no_level_deviation() -> None:
    """A measure whose targets are all 0 (potential left at 0 while revenue is balanced) has no deviation
    at a level: the console printed 'max deviation: potential nan%' (and numpy warned)."""
    import warnings

    from territory_planner.level_outputs import summary_block
    from territory_planner.options import build_options

    t = _territories()
    t["potential"] = 0.0
    t["potential_target"] = 0.0
    t["potential_dev_pct"] = float("nan")
    options = build_options({"balance": "workload", "district_tolerance": 0.1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block = summary_block(t, options, {})
    assert block is not None
    assert set(block["district"]["max_abs_dev_pct"]) == {"workload"}
    assert block["district"]["max_abs_dev_pct"]["workload"] == 50.0


def test_a_plan_with_its_own_districts_gets_a_district_plan_level() -> None:
    """QA17 F17: under a plan with designed districts the district KPIs followed the roster's districts
    while the balance table showed the plan's. The history is regrouped by the plan's districts too
    (each account by its proposed rep's district), as a level of its own; none when they are the
    roster's."""
    import pandas as pd

    from territory_planner.report.levels import build_levels, compute_levels
    from territory_planner.report.periods import parse_period

    roster = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "district": ["Old", "Old", "Other"]}, dtype="string")
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3"],
            "account_id": ["A1", "A2", "A3"],
            "rep_id": ["R1", "R2", "R3"],
            "amount": [100.0, 200.0, 400.0],
            "status": ["won", "won", "won"],
            "probability": [1.0, 1.0, 1.0],
            "created_date": pd.to_datetime(["2026-01-02"] * 3),
            "close_date": pd.to_datetime(["2026-02-01"] * 3),
        }
    ).astype({"opportunity_id": "string", "account_id": "string", "rep_id": "string", "status": "string"})
    assignments = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3"],
            "rep_id": ["R1", "R3", "R3"],
            "current_rep": ["R1", "R2", "R3"],
            "potential": [1.0, 1.0, 1.0],
        }  # fmt: skip
    )
    designed = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "district": ["D01", "D01", "D02"]})
    tables = {"reps": roster, "opportunities": opps}
    levels, _ = build_levels(tables, assignments=assignments, territories=designed)
    assert [lv.name for lv in levels][-1] == "district_plan"
    long, _ = compute_levels(levels, tables, {}, parse_period("2026Q1"))
    won = long[(long["level"] == "district_plan") & (long["kpi"] == "won_amount")].set_index("id")["value"]
    assert won.to_dict() == {"D01": 100.0, "D02": 600.0}  # A2 goes to R3, so to D02
    same = designed.assign(district=["Old", "Old", "Other"])
    levels, _ = build_levels(tables, assignments=assignments, territories=same)
    assert "district_plan" not in [lv.name for lv in levels]


def _one_won_deal() -> pd.DataFrame:
    """An opportunities table with one won deal (A9, R1, in 2026Q1): the meeting tests' history."""
    return pd.DataFrame(
        {
            "opportunity_id": ["O1"],
            "account_id": ["A9"],
            "rep_id": ["R1"],
            "amount": [100.0],
            "status": ["won"],
            "probability": [1.0],
            "created_date": pd.to_datetime(["2026-01-02"]),
            "close_date": pd.to_datetime(["2026-02-01"]),
        }
    ).astype({"opportunity_id": "string", "account_id": "string", "rep_id": "string", "status": "string"})


def test_the_plans_districts_give_prospect_meetings_per_rep() -> None:
    """QA38 F1: the designed districts' prospect_meetings was the sum of their territories' (D04's four
    reps: 9) beside the team's, regions' and roster districts' mean per rep (SPEC: per rep)."""
    from territory_planner.report.levels import TEAM_ID, build_levels, compute_levels
    from territory_planner.report.periods import parse_period

    roster = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "district": ["Old", "Old", "Other"]}, dtype="string")
    opps = _one_won_deal()
    acts = pd.DataFrame(
        {
            "rep_id": ["R1", "R1", "R2", "R3", "R3", "R3"],
            "account_id": ["A1", "A1", "A2", "A3", "A3", "A3"],
            "date": pd.to_datetime(["2026-01-10"] * 6),
            "meeting": [True] * 6,
        }
    ).astype({"rep_id": "string", "account_id": "string"})
    assignments = pd.DataFrame(
        {"account_id": ["A1", "A2", "A3"], "rep_id": ["R1", "R2", "R3"], "current_rep": ["R1", "R2", "R3"],
         "potential": [1.0, 1.0, 1.0]}
    )  # fmt: skip
    designed = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "district": ["D01", "D01", "D02"]})
    tables = {"reps": roster, "opportunities": opps, "activities": acts}
    levels, _ = build_levels(tables, assignments=assignments, territories=designed)
    long, _ = compute_levels(levels, tables, {}, parse_period("2026Q1"))
    pm = long[long["kpi"] == "prospect_meetings"]
    value = {(lv, i): v for lv, i, v in zip(pm["level"], pm["id"], pm["value"], strict=True)}
    assert value[("district_plan", "D01")] == 1.5  # 3 meetings, 2 reps
    assert value[("district_plan", "D02")] == 3.0
    assert value[("district", "Old")] == 1.5  # the roster's districts: the same rule
    assert value[("team", TEAM_ID)] == 2.0


def test_a_departed_reps_meetings_count_with_the_rep() -> None:
    """QA38 F12: a departed rep's meetings were in the team's numerator, the rep not in its denominator
    (17 meetings of 13 rep rows read 17 / 12): the team's figure is now the mean of the rep rows."""
    from territory_planner.report.levels import TEAM_ID, build_levels, compute_levels
    from territory_planner.report.periods import parse_period

    roster = pd.DataFrame({"rep_id": ["R1", "R2"], "region": ["N", "N"]}, dtype="string")
    opps = _one_won_deal()
    acts = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R2", "R9", "R9", "R9"],  # R9 left: not on the roster
            "account_id": ["A1", "A2", "A2", "A3", "A3", "A3"],
            "date": pd.to_datetime(["2026-01-10"] * 6),
            "meeting": [True] * 6,
        }
    ).astype({"rep_id": "string", "account_id": "string"})
    tables = {"reps": roster, "opportunities": opps, "activities": acts}
    levels, _ = build_levels(tables)
    long, _ = compute_levels(levels, tables, {}, parse_period("2026Q1"))
    pm = long[long["kpi"] == "prospect_meetings"]
    value = {(lv, i): v for lv, i, v in zip(pm["level"], pm["id"], pm["value"], strict=True)}
    reps = [v for (lv, _), v in value.items() if lv == "rep"]
    assert sorted(reps) == [1.0, 2.0, 3.0]
    assert value[("team", TEAM_ID)] == 2.0  # 6 meetings, 3 reps: the mean of the rep rows
    assert value[("region", "N")] == 1.5  # R9 has no region: N's two reps, 3 meetings
