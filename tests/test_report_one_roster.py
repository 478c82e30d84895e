"""The rep, region and district KPIs come from one roster, the CRM's; ``--plan`` adds the territory levels.

QA15 H3: with a plan that removes a rep, the district level came from the plan's territories and the region
level from the CRM's reps.csv, so the removed rep's history left its district ("(no district)") but stayed
in its region: districts no longer added up to their region. The departed-rep warning also called the
roster "(the plan)" when the CRM had its own reps.csv.

Fixture (``conftest_report``, period 2026Q1): R1 won 400, R2 won 60, R3 nothing. The CRM's roster puts R1 in
district E1 and R2 in E2 (both East), R3 in W1 (West). The plan removes R2 and puts R1 in a district "Big"
of its own design.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest_report import TABLES, write_crm, write_plan

from territory_planner.cli import main
from territory_planner.report.api import compute_kpis
from territory_planner.report.plan import load_plan

REPS = """rep_id,name,region,district,quota
R1,Ann East,East,E1,3200
R2,Bob East,East,E2,146
R3,Cy West,West,W1,400
"""
ASSIGNMENTS = """account_id,rep_id,current_rep,moved,distance_km,potential,workload,reason,name,lat,lon
A1,R1,R1,False,5.0,10,1,kept,Acme,40.0,-74.0
A2,R3,R1,True,12.5,20,1,closer to R3,Bolt,40.1,-74.1
A3,R1,R2,True,3.0,30,1,rep removed,Corex,41.0,-75.0
A4,R3,R2,True,8.0,40,1,rep removed,Dyna,41.1,-75.1
"""
TERRITORIES = """rep_id,name,accounts,potential,workload,potential_target,workload_target,potential_dev_pct,\
workload_dev_pct,travel_km,moved_in,moved_out,capacity,region,district,home_lat,home_lon
R1,Ann East,2,40,2,50,2,-20.0,0.0,5.0,1,0,1.0,East,Big,40.0,-74.0
R3,Cy West,2,60,2,50,2,20.0,0.0,20.5,2,0,1.0,West,W1,40.5,-74.5
"""


def _won(long: pd.DataFrame, level: str) -> dict[str, float]:
    rows = long[(long["level"] == level) & (long["kpi"] == "won_amount")]
    return dict(zip(rows["id"], rows["value"], strict=True))


def _plan(tmp_path: Path) -> Path:
    return write_plan(tmp_path / "plan", assignments=ASSIGNMENTS, territories=TERRITORIES)


def test_districts_and_regions_come_from_the_crms_roster_under_a_plan(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm", override={"reps.csv": REPS})
    report = compute_kpis(crm, "2026Q1", plan=load_plan(_plan(tmp_path)))
    long = report.long
    assert _won(long, "district") == {"E1": 400, "E2": 60, "W1": 0}  # not "(no district)": 60, not "Big"
    assert _won(long, "region") == {"East": 460, "West": 0}
    # the plan adds its territory levels: R2's accounts follow their new reps
    assert _won(long, "territory") == {"R1": 160, "R3": 300}
    # every district adds up to its region, and both to the team
    assert sum(_won(long, "district").values()) == _won(long, "team")["all"] == 460


def test_without_a_crm_roster_the_plans_roster_gives_every_level(tmp_path: Path) -> None:
    """The plan's roster is used only when the CRM has none, and then for regions and districts alike:
    the removed rep R2 (only a current_rep of the plan) is in no region and no district."""
    crm = write_crm(tmp_path / "crm", skip=("reps.csv",))
    report = compute_kpis(crm, "2026Q1", plan=load_plan(_plan(tmp_path)))
    long = report.long
    assert _won(long, "district") == {"Big": 400, "W1": 0, "(no district)": 60}
    assert _won(long, "region") == {"East": 400, "West": 0, "(no region)": 60}


def test_the_departed_rep_warning_names_the_roster_used(tmp_path: Path) -> None:
    opps = TABLES["opportunities.csv"].replace("O2,A1,R1,", "O2,A1,R77,")
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    plan = load_plan(_plan(tmp_path))
    with_roster = compute_kpis(crm, "2026Q1", plan=plan).section.warnings
    assert any("rep R77" in w and "is not in the reps roster (crm/reps.csv)" in w for w in with_roster)
    (crm / "reps.csv").unlink()
    without = compute_kpis(crm, "2026Q1", plan=plan).section.warnings
    assert any("rep R77" in w and "is not in the reps roster (the plan)" in w for w in without)


def test_reps_given_beside_the_crms_own_roster_is_said_to_be_unused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The CRM's reps.csv wins over --reps (documented), but the console said nothing: the command now
    names both files and the one used."""
    crm = write_crm(tmp_path / "crm", override={"reps.csv": REPS})
    given = tmp_path / "roster.csv"
    given.write_text(TABLES["reps.csv"], encoding="utf-8")
    out = tmp_path / "report"
    args = ["report", "--crm", str(crm), "--period", "2026Q1", "--reps", str(given), "--out", str(out)]
    with caplog.at_level("WARNING"):
        res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    said = f"--reps {given} is not used: the CRM folder has its own roster crm/reps.csv, which is used"
    assert any(r.getMessage().startswith(said) for r in caplog.records if r.levelname == "WARNING")
    (crm / "reps.csv").unlink()  # without the CRM's roster, --reps is the roster and nothing is said
    caplog.clear()
    with caplog.at_level("WARNING"):
        res = CliRunner().invoke(main, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert not any("is not used" in r.getMessage() for r in caplog.records)


def test_the_plans_roster_beside_the_crms_own_is_not_warned_about(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm", override={"reps.csv": REPS})
    warnings = compute_kpis(crm, "2026Q1", plan=load_plan(_plan(tmp_path))).section.warnings
    assert not any("is not used" in w for w in warnings)
