"""A departed rep's accounts must move and are outside --max-moved-share: every place that shows the moved
share also shows the share the budget limits, so that "39.5% moved" beside a 30% budget is not read as a
broken budget (QA6: NC counties, R07 leaving; the console said it, report.html, map.html and the
workbook did not)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from scenario_fixtures import write_instance

from territory_planner import api
from territory_planner.export.api import export_plan
from territory_planner.io.scenario import load_scenario
from territory_planner.options import build_options
from territory_planner.report.formatting import budgeted_share


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("departed")
    write_instance(folder)
    scenario = folder / "departure.toml"
    scenario.write_text(
        'extends = "base.toml"\nmax_moved_share = 0.2\n[reps]\nremove = ["R3"]\n', encoding="utf-8"
    )
    out = folder / "plan"
    api.plan(build_options(load_scenario(scenario)), out)
    return out


def test_budgeted_share_is_given_only_when_it_differs() -> None:
    assert budgeted_share({"moved_potential_share": 0.4, "budgeted_moved_share": 0.28}) == 0.28
    assert budgeted_share({"moved_potential_share": 0.4, "budgeted_moved_share": 0.4}) is None
    assert budgeted_share({"moved_potential_share": 0.4}) is None


def test_report_map_and_workbook_show_the_budgeted_share(plan_dir: Path, tmp_path: Path) -> None:
    s = json.loads((plan_dir / "summary.json").read_text())
    total, budgeted = s["moved_potential_share"], s["budgeted_moved_share"]
    assert total > 0.2 >= budgeted - 1e-9  # R3's accounts all moved, outside the budget
    words = f"{100 * budgeted:.1f}% from reps who stay"
    assert words in (plan_dir / "report.html").read_text(encoding="utf-8")
    assert words in (plan_dir / "map.html").read_text(encoding="utf-8")
    book = tmp_path / "plan.xlsx"
    export_plan(plan_dir, "xlsx", book)
    rows = {r[0].value: r[1].value for r in openpyxl.load_workbook(book)["Summary"].iter_rows()}
    assert rows["moved potential share, reps who stay (budgeted)"] == pytest.approx(budgeted)


def test_the_console_names_the_budget_only_when_there_is_one(tmp_path: Path) -> None:
    """QA44 F12: with no --max-moved-share, the console still called the reps-who-stay share "the share
    --max-moved-share limits"."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    write_instance(tmp_path)
    said = {}
    for name, budget in (("free", ""), ("budget", "max_moved_share = 0.2\n")):
        scenario = tmp_path / f"{name}.toml"
        scenario.write_text(f'extends = "base.toml"\n{budget}[reps]\nremove = ["R3"]\n', encoding="utf-8")
        res = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(tmp_path / name), "--quiet"])
        assert res.exit_code == 0, res.output
        said[name] = " ".join(res.output.split())
    assert "from reps who stay" in said["free"]
    assert "--max-moved-share limits" not in said["free"]
    assert "from reps who stay, the share --max-moved-share limits" in said["budget"]


def test_a_tolerance_flag_naming_a_measure_not_balanced_is_a_usage_error(tmp_path: Path) -> None:
    """QA44 F8: `--tolerance potential=0.05,revenue=0.1` over a scenario was blamed on the scenario's
    [tolerance] line with exit 1; the measure is the flag's: the command line's, exit 2."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    write_instance(tmp_path)
    res = CliRunner().invoke(
        main, ["validate", str(tmp_path / "base.toml"), "--tolerance", "potential=0.05,revenue=0.1"]
    )
    assert res.exit_code == 2, res.output
    said = " ".join(res.output.split())
    assert "│ command line │ │ --tolerance │ revenue │ tolerance given for 'revenue'" in said
    assert "base.toml" not in said
