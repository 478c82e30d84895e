"""A CRM roster without districts takes them from the other roster (``--reps`` or the plan's) when the two
agree on the reps' regions (QA20 F1: reps.csv with 7 districts and the sample CRM's roster without the
column: kpis.csv had no district level and nothing said why).

Fixture (``conftest_report``, period 2026Q1): R1 won 400 of a quota of 800, R2 60, R3 nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest_report import write_crm

from territory_planner.cli import main
from territory_planner.report.crm import districts_from_other_roster

CRM_REPS = """rep_id,name,region,quota
R1,Ann East,East,3200
R2,Bob East,East,146
R3,Cy West,West,400
"""
GIVEN = """rep_id,name,region,district
R1,Ann East,East,E1
R2,Bob East,East,E1
R3,Cy West,West,W1
"""


def _report(tmp_path: Path, given: str, caplog: pytest.LogCaptureFixture) -> pd.DataFrame:
    crm = write_crm(tmp_path / "crm", override={"reps.csv": CRM_REPS})
    roster = tmp_path / "roster.csv"
    roster.write_text(given, encoding="utf-8")
    out = tmp_path / "report"
    args = ["report", "--crm", str(crm), "--period", "2026Q1", "--reps", str(roster), "--out", str(out)]
    with caplog.at_level("WARNING"):
        res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    return pd.read_csv(out / "kpis.csv", keep_default_na=False)


def test_the_other_rosters_districts_give_the_district_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kpis = _report(tmp_path, GIVEN, caplog)
    district = kpis[kpis["level"] == "district"]
    attainment = district[district["kpi"] == "quota_attainment"].set_index("id")["value"].astype(float)
    # R1 won 400 of its Q1 quota of 800, R2 60 of 146 a year, 36 for the quarter's 90 days of 365
    assert attainment["E1"] == pytest.approx((400 + 60) / (800 + 146 * 90 / 365))
    assert attainment["W1"] == pytest.approx(0.0)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("has no district column: the districts of" in m for m in said), said
    assert not any("is not used" in m for m in said)  # its districts are


def test_rosters_that_disagree_on_regions_give_no_district_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kpis = _report(tmp_path, GIVEN.replace("R2,Bob East,East,E1", "R2,Bob East,West,E1"), caplog)
    assert "district" not in set(kpis["level"])
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("put 1 rep(s) in different regions (e.g. R2: East in" in m for m in said), said


def test_a_roster_with_districts_keeps_its_own() -> None:
    own = pd.DataFrame({"rep_id": ["R1", "R2"], "region": ["E", "E"], "district": ["D1", ""]})
    other = pd.DataFrame({"rep_id": ["R1", "R2"], "region": ["E", "E"], "district": ["X", "Y"]})
    out, notes = districts_from_other_roster(own, "crm/reps.csv", other, "reps.csv")
    assert out["district"].tolist() == ["D1", ""]
    assert notes == []
