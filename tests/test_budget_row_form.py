"""In a MIP the disruption budget is written as the potential that stays (``formulation.
add_disruption_budget``): one term per unit, where the "moved" form has one per other rep. The two are
the same row over plans that assign each unit once; HiGHS found no plan in 13 s on 507 Canadian cities x
12 reps with the dense form and one with the sparse form (QA13 1). Checked here against brute force."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from territory_planner import api
from territory_planner.optimize import formulation, repair
from territory_planner.solvers import get_backend
from tests.conftest import options_for, write_instance

POT = [40.0, 35.0, 30.0, 20.0, 15.0, 10.0, 8.0]
CUR = ["R0", "R0", "R0", "R0", "R1", "R1", "R2"]


def _spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    accounts = [
        {"account_id": f"A{i}", "lat": 35.0 + 0.2 * i, "lon": -90.0 + 0.3 * (i % 3), "potential": pot,
         "workload": 1.0, "current_rep": CUR[i]}
        for i, pot in enumerate(POT)
    ]  # fmt: skip
    reps = [{"rep_id": f"R{j}", "lat": 35.0 + 0.6 * j, "lon": -89.7} for j in range(3)]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, tolerance=0.5, max_moved_share=0.35, balance="potential")
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


def test_the_mip_budget_row_has_one_term_per_unit_and_the_same_optimum(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    p = spec.problem
    n, k = p.n_units, p.n_reps
    unit, rep = np.nonzero(spec.allowed)
    form = formulation.build(spec, unit, rep, integer=True)
    row = [c for c, info in zip(form.constraints, form.rows, strict=True) if info.family == "budget"]
    assert len(row) == 1
    assert len(row[0]) <= n  # one term per unit (its current rep's column), not one per other rep
    lp_form = formulation.build(spec, unit, rep, integer=False)
    lp_row = [c for c, info in zip(lp_form.constraints, lp_form.rows, strict=True) if info.family == "budget"]
    assert len(lp_row[0]) > n  # the LP keeps the "moved" row its column generation prices with
    best = np.inf
    for plan in itertools.product(range(k), repeat=n):
        a = np.array(plan)
        if repair.feasible(spec, a):
            best = min(best, float(spec.objective[np.arange(n), a].sum()))
    assert np.isfinite(best)
    unbudgeted = dataclasses.replace(spec, budget=None)
    free_best = min(
        float(spec.objective[np.arange(n), np.array(a)].sum())
        for a in itertools.product(range(k), repeat=n)
        if repair.feasible(unbudgeted, np.array(a))
    )
    assert free_best < best - 1e-9  # the budget binds: the row is what makes the optimum
    res = repair._solve_restricted(
        spec, get_backend("highs"), spec.allowed.copy(), np.full(n, -1), np.arange(n),
        deadline=1e18, gap=0.0, seed=0, threads=1, name="whole",
    )  # fmt: skip
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert repair.feasible(spec, res.unit_rep)


def test_no_plan_yet_names_the_disruption_budget_among_what_to_loosen(tmp_path: Path) -> None:
    """QA56 F2: a run with a budget just above the least share ended "no plan found yet ... try a wider
    --tolerance", where the budget was what bound: the options the model has are all named."""
    from territory_planner.optimize import pipeline

    spec = _spec(tmp_path)
    assert pipeline._looser(spec) == ["a wider --tolerance", "a larger --max-moved-share"]
    bare = dataclasses.replace(spec, budget=None)
    assert pipeline._looser(bare) == ["a wider --tolerance"]
    kept = dataclasses.replace(
        spec.problem, unit_home_kept=np.ones(spec.problem.n_units, dtype=bool), home_km=2.0
    )
    assert (
        pipeline._looser(dataclasses.replace(bare, problem=kept))[-1]
        == "a smaller --keep-home than 2 (or none)"
    )
    counted = dataclasses.replace(spec, budget=None, rep_budget_share=0.2, max_accounts=3)
    assert pipeline._looser(counted) == [
        "a wider --tolerance",
        "a larger --max-moved-share-per-rep",
        "looser --min-accounts / --max-accounts",
    ]
