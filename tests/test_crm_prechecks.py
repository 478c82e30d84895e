"""The CRM options of `plan` are checked before the solve (QA4): a CRM folder the report or the forecast
cannot use, or a missing KPI period, used to end the run with exit 1 only after the whole solve; and an
empty string in a child scenario unsets its parent's CRM instead of naming the scenario's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner import api, plan_first
from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.scenario import load_scenario
from territory_planner.options import build_options


def _no_solve(*_a: object, **_k: object) -> None:
    raise AssertionError("the solve ran before the CRM options were checked")


def test_crm_without_period_is_refused_before_solving() -> None:
    with pytest.raises(InputError) as err:
        build_options({"crm": "crm"})
    assert [p.column for p in err.value.problems] == ["period"]
    with pytest.raises(InputError) as err:
        build_options({"crm": "crm", "period": "2026Q5"})
    assert err.value.problems[0].column == "period"
    assert build_options({"crm": "crm", "period": "2026Q3"}).period == "2026Q3"


def test_forecast_without_opportunities_fails_before_the_solve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = write_instance(tmp_path / "inst")
    empty = tmp_path / "crm"
    empty.mkdir()
    monkeypatch.setattr(plan_first, "_base_plan", _no_solve)  # where _first_plan calls it
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        main,
        [
            "plan", str(scenario), "--crm", str(empty), "--period", "2025Q4",
            "--forecast-horizon", "2026Q1", "--out", str(out), "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "opportunities.csv" in result.output
    assert not (out / "summary.json").exists()


def test_empty_string_in_a_child_scenario_unsets_the_parents_crm(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path)
    crm = tmp_path / "crm"
    crm.mkdir()
    with scenario.open("a") as fh:
        fh.write('crm = "crm"\nperiod = "2025Q4"\nforecast_horizon = "2026Q1"\n')
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\ncrm = ""\nperiod = ""\nforecast_horizon = ""\n'
    )
    assert load_scenario(scenario)["crm"] == crm.resolve()
    values = load_scenario(tmp_path / "child.toml")
    assert values["crm"] is None  # not the scenario's folder
    options = build_options(values)
    assert options.crm is None
    assert options.period is None
    assert options.forecast_horizon is None


def test_split_plan_proven_for_chosen_centres_does_not_blame_the_time_limit() -> None:
    """QA4: `--contiguous --choose-centres` on the us_income states ended after 19 s of a 60-s limit, the
    flow model having proven that no connected plan exists around the chosen centres, yet the message said
    "when the time ran out" and suggested --time-limit 120."""
    from territory_planner.errors import SolverError
    from territory_planner.model.plan import SolveResult

    result = SolveResult("feasible", False, 1.0, 1.0, 1.0, 0.0, 19.0, "HiGHS", "round")
    options = build_options({"contiguous": True, "choose_centres": True, "time_limit": 60})
    info = {"contiguous": False, "pieces": {"R1": 2, "R2": 1}, "infeasible": "proven for the centres chosen"}
    with pytest.raises(SolverError) as err:
        api._connected_or_relaxed(result, info, None, options, 2)
    text = str(err.value)
    assert "time ran out" not in text
    assert "--time-limit 120" not in text
    assert "proved" in text
    assert "home bases" in text
    unproven = {"contiguous": False, "pieces": {"R1": 2, "R2": 1}}
    # no proof: more time may help; the time ran out only when the run used it (QA9 O6)
    with pytest.raises(SolverError, match="when the search ended.*--time-limit 120"):
        api._connected_or_relaxed(result, unproven, None, options, 2)
    late = SolveResult("feasible", False, 1.0, 1.0, 1.0, 0.0, 59.0, "HiGHS", "round")
    with pytest.raises(SolverError, match="when the time ran out.*--time-limit 120"):
        api._connected_or_relaxed(late, unproven, None, options, 2)
