"""Money on the console in the run's currency, as the explanations and pages beside it (QA38 F8): the
amount column of the conflicts table, `forecast`'s team line and `edit`'s broken-constraint lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import random_accounts, write_instance

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _run(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res.exit_code, res.output


def _instance(tmp_path: Path) -> tuple[Path, Path]:
    accounts = random_accounts(np.random.default_rng(5), 40, current_reps=3)
    reps = [{"rep_id": f"R{j}", "lat": 33.0 + 4 * j, "lon": -96.0 + 6 * j} for j in range(3)]
    return write_instance(tmp_path / "in", accounts, reps)


def test_the_conflicts_amount_is_in_the_runs_currency(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    code, out = _run("validate", "--accounts", a, "--reps", r, "--tolerance", "0.05", "--max-moved-share",
                     "0.001", "--currency", "€")  # fmt: skip
    assert code == 1
    row = next(line for line in out.splitlines() if "disruption_budget" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1].startswith("€")  # family, amount, explanation (no rep, no measure)
    assert "€" in cells[2]


def test_forecast_line_is_in_the_plans_currency(tmp_path: Path) -> None:
    code, out = _run(
        "plan", "--accounts", SAMPLE / "accounts.csv", "--reps", SAMPLE / "reps.csv", "--tolerance", "0.1",
        "--max-moved-share", "0.35", "--currency", "€", "--time-limit", "30", "--gap", "0.05",
        "--out", tmp_path / "p",
    )  # fmt: skip
    assert code == 0, out
    code, out = _run(
        "forecast", "--crm", SAMPLE / "crm", "--horizon", "2026Q3", "--plan", tmp_path / "p",
        "--out", tmp_path / "f",
    )  # fmt: skip
    assert code == 0, out
    line = next(x for x in out.splitlines() if "team forecast" in x)
    assert "team forecast €" in line
    assert "80% interval €" in line


def test_edit_lines_are_in_the_plans_currency(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    code, out = _run(
        "plan", "--accounts", a, "--reps", r, "--tolerance", "0.2", "--max-moved-share", "0.3",
        "--currency", "€", "--time-limit", "20", "--out", tmp_path / "p",
    )  # fmt: skip
    assert code == 0, out
    # an edit that breaks the budget: every account of R0 today to R1
    plan = pd.read_csv(tmp_path / "p" / "assignments.csv", dtype=str)
    plan[plan["current_rep"] == "R0"][["account_id"]].assign(rep_id="R1").to_csv(
        tmp_path / "edits.csv", index=False
    )
    code, out = _run("edit", tmp_path / "p", "--edits", tmp_path / "edits.csv", "--out", tmp_path / "e")
    assert code == 0, out
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert any(v["constraint"] == "budget" for v in summary["violations"])
    budget_line = next(x for x in out.splitlines() if x.strip().startswith("budget potential"))
    assert "by €" in budget_line
    work = [x for x in out.splitlines() if "workload: by" in x]
    assert work
    assert all("€" not in x for x in work)


def test_a_conflicts_small_amount_cannot_read_as_thousands() -> None:
    """QA42 F6: "$4.173" beside "$4,409" read as 4,173 where a comma marks decimals."""
    from territory_planner.cli_support import _conflict_amount

    assert [_conflict_amount(v) for v in (4409.2, 4.173, -12.5, 0.012345, 0.0, 10.0)] == [
        "4,409",
        "4.17",
        "-12.50",
        "0.0123",
        "0",
        "10",
    ]
