"""`validate` with --max-moved-share runs the budget's LP (the least share balancing must move). When that
LP has no solution, the model without the budget is infeasible even as a fractional LP: `validate` now
says so with the rows in conflict and exit 1, as `plan` does (QA38 F5: "inputs are valid", exit 0, with
the budget's rows silently gone, where `plan` proved the model infeasible 4 s later)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import write_instance


def _instance(tmp_path: Path) -> tuple[Path, Path]:
    """40 accounts of workload 0.5 to 1.5; R2 at half capacity: its workload band (about 7.4 to 9.0)
    cannot hold 13 accounts of the smallest workloads, which no count pre-check sees."""
    rng = np.random.default_rng(1)
    n = 40
    accounts = [
        {
            "account_id": f"A{i}",
            "lat": float(rng.uniform(30, 45)),
            "lon": float(rng.uniform(-100, -80)),
            "potential": float(rng.integers(10, 100)),
            "workload": 0.0,
            "current_rep": f"R{i % 3}",
        }
        for i in range(n)
    ]
    for acc, w in zip(accounts, rng.uniform(0.5, 1.5, n).round(2), strict=True):
        acc["workload"] = float(w)
    reps = [
        {"rep_id": "R0", "lat": 35.0, "lon": -95.0, "capacity": 1.0},
        {"rep_id": "R1", "lat": 40.0, "lon": -85.0, "capacity": 1.0},
        {"rep_id": "R2", "lat": 38.0, "lon": -90.0, "capacity": 0.5},
    ]
    return write_instance(tmp_path, accounts, reps)


def _validate(a: Path, r: Path, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(
        main, ["validate", "--accounts", str(a), "--reps", str(r), "--tolerance", "0.1", *extra]
    )
    return res.exit_code, " ".join(res.output.split())


def test_validate_proves_what_the_budgets_lp_found(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    code, said = _validate(a, r, "--min-accounts", "10", "--max-moved-share", "0.5")
    assert code == 0
    assert "share of potential balancing must move (LP bound)" in said
    code, said = _validate(a, r, "--min-accounts", "13", "--max-moved-share", "0.5")
    assert code == 1
    assert "infeasible even as a fractional LP" in said
    assert "min/max accounts" in said
    assert "inputs are valid" not in said


def test_validate_with_contiguity_keeps_the_budgets_rows(tmp_path: Path) -> None:
    """The map checks' rows replaced the budget's in `validate --contiguous` (found on the way to F5)."""
    import pandas as pd

    a, r = _instance(tmp_path)
    edges = tmp_path / "edges.csv"
    pairs = [(f"A{i}", f"A{j}") for i in range(40) for j in range(i + 1, min(i + 6, 40))]  # no walls
    pd.DataFrame(pairs, columns=["u", "v"]).to_csv(edges, index=False)
    code, said = _validate(a, r, "--max-moved-share", "0.5", "--contiguous", "--adjacency", str(edges))
    assert code == 0, said
    assert "pieces of the map" in said
    assert "share of potential balancing must move (LP bound)" in said


def test_validate_says_when_the_budgets_lp_did_not_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA37 F3: 3,779 cities x 60 reps, the LP unfinished after 63 s, then "inputs are valid" with the
    budget's rows simply gone."""
    from territory_planner import api, plan_inputs
    from territory_planner.optimize import proofs

    monkeypatch.setattr(plan_inputs, "VALIDATE_LP_SECONDS", 0.0)  # where validate reads it
    monkeypatch.setattr(proofs, "least_moved", lambda *_a, **_k: None)  # unfinished: no bound
    a, r = _instance(tmp_path)
    code, said = _validate(a, r, "--max-moved-share", "0.5")
    assert code == 0
    assert "not computed: its LP did not" in said  # the table wraps its cells at 80 columns
    assert "(LP bound)" not in said
    from tests.conftest import options_for

    info = api.validate(options_for(a, r, tolerance=0.1, max_moved_share=0.5))
    assert info["least_moved_unknown"].startswith("its LP did not finish in 0s")
