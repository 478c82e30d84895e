"""A CRM whose opportunities are all on accounts the plan does not have is the wrong folder: `report`,
`forecast` and `plan` refuse it with exit 1 naming both sides (QA38 F9: an Italian CRM against an
Australian plan, exit 0 with every territory's forecast 0.00), as `compare` refuses plans of different
accounts. One account in common is enough to go on (the rest is a warning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import random_accounts, write_instance

CRM = Path(__file__).resolve().parents[1] / "sample_data" / "crm"


def _run(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    return res.exit_code, " ".join(res.output.split())


def _instance(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    accounts = random_accounts(rng, 40)  # ids A0..A39: none is a sample CRM account (A00001...)
    reps = [{"rep_id": f"R{j}", "lat": 35.0 + 3 * j, "lon": -95.0 + 4 * j} for j in range(3)]
    return write_instance(tmp_path / "in", accounts, reps)


def test_plan_refuses_a_crm_of_other_accounts_before_solving(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    code, said = _run("plan", "--accounts", a, "--reps", r, "--crm", CRM, "--period", "2026Q2",
                      "--tolerance", "0.2", "--out", tmp_path / "p", "--time-limit", "20")  # fmt: skip
    assert code == 1
    assert "none of the" in said
    assert "opportunities in the CRM is on an account of" in said
    assert not (tmp_path / "p" / "assignments.csv").exists()


def test_report_and_forecast_refuse_a_plan_of_other_accounts(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    code, _ = _run("plan", "--accounts", a, "--reps", r, "--tolerance", "0.2", "--out", tmp_path / "p",
                   "--time-limit", "20")  # fmt: skip
    assert code == 0
    code, said = _run("report", "--crm", CRM, "--period", "2026Q2", "--plan", tmp_path / "p", "--out",
                      tmp_path / "r")  # fmt: skip
    assert code == 1
    assert "assignments.csv" in said
    assert "different accounts" in said
    code, said = _run("forecast", "--crm", CRM, "--horizon", "2026Q3", "--plan", tmp_path / "p", "--out",
                      tmp_path / "f")  # fmt: skip
    assert code == 1
    assert "different accounts" in said
    assert not (tmp_path / "f" / "forecast.csv").exists()
    # one account in common: a warning, not a refusal
    opps = pd.read_csv(CRM / "opportunities.csv", dtype=str)
    crm = tmp_path / "crm"
    crm.mkdir()
    for f in CRM.glob("*.csv"):
        (crm / f.name).write_bytes(f.read_bytes())
    opps.loc[0, "account_id"] = "A0"
    opps.to_csv(crm / "opportunities.csv", index=False)
    code, said = _run("report", "--crm", crm, "--period", "2026Q2", "--plan", tmp_path / "p", "--out",
                      tmp_path / "r2")  # fmt: skip
    assert code == 0, said
