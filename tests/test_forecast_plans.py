"""The forecast's team, regions and reps are the CRM's: a plan adds its territories and changes nothing else.

QA6 O1: on one CRM the team's 2026Q1 forecast was 9,398,793 without a plan, 9,247,383 under the base plan
and 9,403,553 under a plan without rep R07: the regions (and the roster) came from each plan's roster, and
the reconciliation moved the team total with them. Here three CRMs, each forecast alone and under three plans
(every account with its current rep; rep R008 removed, its accounts to R001; the same made from an
accounts file where they were R001's already):

    CRM                            what a plan used to change
    opportunities + accounts.csv   regions from the plan's territories (the CRM has none)
    reps.csv without R008          R008's deals placed by a plan's current_rep (the CRM has no accounts.csv)
    reps.csv + accounts.csv        nothing (the CRM's own roster and owners were used already)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.forecast.api import ForecastReport, compute_forecast
from territory_planner.report.plan import load_plan
from tests.forecast_fixtures import synthetic_crm
from tests.test_forecast import _plan

HORIZON = "2026Q3"


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_crm(tmp_path_factory.mktemp("crm"), reps=8, years=3.0, regions=2, seed=3)


def _crm(full: Path, folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "opportunities.csv").write_bytes((full / "opportunities.csv").read_bytes())
    if kind in ("no roster", "roster and accounts"):
        (folder / "accounts.csv").write_bytes((full / "accounts.csv").read_bytes())
    if kind == "roster without R008":
        reps = pd.read_csv(full / "reps.csv", dtype=str)
        reps[reps["rep_id"] != "R008"].to_csv(folder / "reps.csv", index=False)
    elif kind == "roster and accounts":
        (folder / "reps.csv").write_bytes((full / "reps.csv").read_bytes())
    return folder


def _plans(full: Path, folder: Path) -> dict[str, Path]:
    """The base plan; one without R008 (its accounts to R001; no territory R008); and the same made from
    an accounts file where R008's accounts were already R001's (``current_rep`` R001)."""
    base = _plan(folder / "base", full, {})
    plans = {"base": base}
    for name in ("removed", "realigned"):
        plan = plans[name] = _plan(folder / name, full, {"R008": "R001"})
        territories = pd.read_csv(plan / "territories.csv", dtype=str)
        territories[territories["rep_id"] != "R008"].to_csv(plan / "territories.csv", index=False)
    assignments = pd.read_csv(plans["realigned"] / "assignments.csv", dtype=str)
    assignments["current_rep"] = assignments["current_rep"].replace({"R008": "R001"})
    assignments["moved"] = False
    assignments.to_csv(plans["realigned"] / "assignments.csv", index=False)
    return plans


def _hierarchy(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame[frame["level"] != "territory"].drop(columns=["name"], errors="ignore")
    return rows.reset_index(drop=True)


def _team(report: ForecastReport) -> float:
    return float(report.forecast.iloc[0]["forecast"])


@pytest.mark.parametrize("kind", ["no roster", "roster without R008", "roster and accounts"])
def test_the_team_regions_and_reps_are_the_same_under_any_plan(full: Path, tmp_path: Path, kind: str) -> None:
    crm = _crm(full, tmp_path / "crm", kind)
    alone = compute_forecast(crm, HORIZON, workers=1)
    for name, folder in _plans(full, tmp_path / "plans").items():
        under = compute_forecast(crm, HORIZON, plan=load_plan(folder), workers=1)
        assert _team(under) == _team(alone), name  # to the cent
        pd.testing.assert_frame_equal(_hierarchy(under.forecast), _hierarchy(alone.forecast))
        pd.testing.assert_frame_equal(_hierarchy(under.backtest), _hierarchy(alone.backtest))
        territories = under.forecast[under.forecast["level"] == "territory"]
        assert ("R008" in set(territories["id"])) == (name == "base")
        assert territories["forecast"].sum() == pytest.approx(_team(alone), abs=0.005 * len(territories))
        bt = under.backtest
        for period, part in bt.groupby("period"):
            team = float(part.loc[part["level"] == "team", "forecast"].iloc[0])
            terr = part.loc[part["level"] == "territory", "forecast"]
            assert terr.sum() == pytest.approx(team, abs=0.005 * len(terr)), period


def test_a_rep_the_plan_removes_keeps_its_row_and_its_accounts_history_moves(
    full: Path, tmp_path: Path
) -> None:
    """Under the plan without R008 the rep level still has R008 (the CRM's roster has it), and a note says
    where its accounts' history goes; the territories inherit it (R001 gets R008's actuals)."""
    crm = _crm(full, tmp_path / "crm", "roster and accounts")
    under = compute_forecast(
        crm, HORIZON, plan=load_plan(_plans(full, tmp_path / "plans")["removed"]), workers=1
    )
    fc = under.forecast
    assert "R008" in set(fc.loc[fc["level"] == "rep", "id"])
    bt = under.backtest.set_index(["level", "id", "period"])["actual"]
    for period in under.backtest["period"].unique():
        inherited = bt[("rep", "R001", period)] + bt[("rep", "R008", period)]
        assert bt[("territory", "R001", period)] == pytest.approx(inherited)
    notes = [n for n in under.fallback_notes() if n.startswith("rep R008 has no territory in the plan")]
    assert len(notes) == 1
    assert notes[0].endswith("follow their accounts to the territories R001")
    alone = compute_forecast(crm, HORIZON, workers=1)
    assert not [n for n in alone.fallback_notes() if "no territory" in n]


def test_the_forecast_command_prints_one_team_forecast_with_or_without_a_plan(
    full: Path, tmp_path: Path
) -> None:
    crm = _crm(full, tmp_path / "crm", "no roster")
    lines = []
    for k, plan in enumerate([None, *_plans(full, tmp_path / "plans").values()]):
        args = ["forecast", "--crm", str(crm), "--horizon", HORIZON, "--out", str(tmp_path / f"fc{k}")]
        args += ["--workers", "1"] + (["--plan", str(plan)] if plan is not None else [])
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        lines.append(next(line for line in result.output.splitlines() if "team forecast" in line))
        fc = pd.read_csv(tmp_path / f"fc{k}" / "forecast.csv")
        assert "region" not in set(fc["level"])  # the plan's regions are not the CRM's
    assert lines[1:] == lines[:1] * 3


def test_the_report_forecasts_the_same_team_as_the_forecast_command(full: Path, tmp_path: Path) -> None:
    """`report --plan P --crm C --forecast-horizon H` (and `plan --crm ... --forecast-horizon`, which writes
    the report the same way) loaded the CRM with the plan's roster for its forecast: a CRM without a roster
    got the plan's regions, and the team total moved with the plan (QA6 O1, left there by the forecast
    command's fix). The plan made from accounts already realigned away from R008 has no R008 anywhere,
    while the roster-less CRM's accounts.csv still names it: checked against the plan's roster it was
    refused as an unknown rep; it is a rep the plan dropped, which a warning names."""
    from territory_planner.report.api import load_crm_for, write_report

    crm = _crm(full, tmp_path / "crm", "no roster")
    alone = _team(compute_forecast(crm, HORIZON, workers=1))
    plans = _plans(full, tmp_path / "plans")
    for name in ("base", "removed", "realigned"):
        out = tmp_path / f"report_{name}"
        write_report(out, plan_dir=plans[name], crm_dir=crm, period="2026Q2", forecast_horizon=HORIZON)
        fc = pd.read_csv(out / "forecast.csv")
        assert float(fc.loc[fc["level"] == "team", "forecast"].iloc[0]) == pytest.approx(alone, abs=0.005)
        assert "region" not in set(fc["level"])
    data = load_crm_for(crm, plan=load_plan(plans["realigned"]))
    assert any(w.startswith("rep R008 owns") and "taken as a rep who left" in w for w in data.warnings)


def test_every_table_of_the_forecast_page_scrolls_in_its_box(full: Path, tmp_path: Path) -> None:
    """QA7: forecast.html was 479 px wide on a 390-px phone: the backtest accuracy table was the one
    table not in a scrolling box (report.html's `.scroll`)."""
    import re

    crm = _crm(full, tmp_path / "crm", "roster and accounts")
    result = CliRunner().invoke(
        main,
        [
            "forecast",
            "--crm",
            str(crm),
            "--horizon",
            HORIZON,
            "--out",
            str(tmp_path / "fc"),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "fc" / "forecast.html").read_text(encoding="utf-8")
    tables = [m.start() for m in re.finditer(r"<table[ >]", html)]
    assert len(tables) >= 3
    for at in tables:
        assert html[:at].rstrip().endswith('<div class="scroll">'), html[at - 80 : at + 40]
    assert ".scroll {" in html or ".scroll{" in html
