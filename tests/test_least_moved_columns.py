"""The least-moved LP (the budget check's proof, and the start of plans that must move little).

Up to ``LEAST_MOVED_WHOLE_PAIRS`` it is one LP over every pair, its slacks held at 0 (QA21 Q1: with them
the simplex took over 60 s on 2,223 European cities x 80 reps), its first master built by PuLP over a cover of
the columns and the rest added as arrays (QA20 F10: the PuLP build took most of 14 s on 3,407 cities x 60
reps with district and region rows). Above it, column generation from each unit's current rep and its
nearest reps. All of them must give the same least share and the same proof."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize import master, proofs
from territory_planner.solvers import get_backend
from tests.conftest import options_for, write_instance


def _spec(tmp_path: Path, seed: int, share: float, districts: bool, district_tol: float = 0.05):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    n, k = 160, 8
    lat, lon = 33 + 6 * rng.random(n), -100 + 12 * rng.random(n)
    homes = rng.choice(n, k, replace=False)
    # today's alignment: nearest home, then a fifth of the accounts drifted to a random rep
    d = (lat[:, None] - lat[homes][None, :]) ** 2 + (lon[:, None] - lon[homes][None, :]) ** 2
    cur = d.argmin(axis=1)
    drift = rng.random(n) < 0.2
    cur[drift] = rng.integers(0, k, int(drift.sum()))
    accounts = [
        {"account_id": f"A{i}", "lat": lat[i], "lon": lon[i],
         "potential": round(float(rng.lognormal(3, 1.0)), 2),
         "workload": round(float(rng.lognormal(1, 0.4)), 2),
         "current_rep": f"R{cur[i]}"}
        for i in range(n)
    ]  # fmt: skip
    reps = [
        {"rep_id": f"R{j}", "lat": lat[homes[j]], "lon": lon[homes[j]], "district": f"D{j % 2}"}
        for j in range(k)
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    extra = {"district_tolerance": {"potential": district_tol, "workload": district_tol}} if districts else {}
    opts = options_for(a, r, tolerance=0.08, max_moved_share=share, time_limit=30, **extra)
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon), opts


@pytest.mark.parametrize(("seed", "districts"), [(1, False), (2, True), (3, True)])
def test_column_generation_gives_the_whole_lps_least_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, districts: bool
) -> None:
    backend = get_backend("highs")
    spec, opts = _spec(tmp_path, seed, 0.5, districts)
    assert int(spec.allowed.sum()) > 1_000
    # the least-moved LP's own threshold decides, not the other proof LPs' (over every pair, slacks held)
    monkeypatch.setattr(proofs, "WHOLE_LP_PAIRS", 0)
    whole = proofs.least_moved(spec, backend, deadline=1e12, seed=0, threads=1)
    assert whole is not None
    total = float(spec.problem.acc_potential.sum())
    assert whole[0] / total > 0.01  # the drift leaves something to move
    assert whole[1].converged
    assert whole[0] == pytest.approx(whole[1].objective, rel=1e-6)  # every pair: the bound is the LP value
    monkeypatch.setattr(proofs, "LEAST_MOVED_WHOLE_PAIRS", 0)
    monkeypatch.setattr(proofs, "LEAST_MOVED_NEAREST", 1)  # few first columns: pricing must bring the rest
    # a budget just below the least share: column generation goes on until its bound proves it
    below = dataclasses.replace(spec, budget=0.999 * whole[0])
    cg = proofs.least_moved(below, backend, deadline=1e12, seed=0, threads=1)
    assert cg is not None
    assert cg[1].rounds > 1  # it did start from a part of the pairs
    assert proofs.above_budget(below, cg[0])
    assert cg[0] <= whole[0] * (1 + 1e-9) + 1e-9  # a bound, never above the LP value
    # just above: its master (a plan of the LP) moves no more than the budget
    above = dataclasses.replace(spec, budget=1.001 * whole[0])
    cg = proofs.least_moved(above, backend, deadline=1e12, seed=0, threads=1)
    assert cg is not None
    assert not proofs.above_budget(above, cg[0])
    assert cg[1].objective <= above.budget + 1e-6
    # a budget below the least share: the run's budget check (column generation) proves it
    share = 0.95 * whole[0] / total
    monkeypatch.setattr(proofs, "WHOLE_LEAST_PAIRS", 0)  # the LP's bound, not the MIP's over whole accounts
    with pytest.raises(InfeasibleError) as err:
        api.solve(dataclasses.replace(opts, max_moved_share=share))
    budget = next(c for c in err.value.conflicts if c.family == "disruption_budget")
    assert share < budget.extra["least_moved_share"] <= whole[0] / total + 1e-9


def test_the_whole_lp_built_in_part_by_arrays_is_the_pulp_built_lp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first master above ``ARRAY_COLUMNS_ABOVE`` columns: PuLP writes a cover, the rest enter as
    arrays. The district rows must all be there (a district row is left out when no column of its reps
    has an amount: the cover keeps each rep's largest), so the LP is the same."""
    backend = get_backend("highs")
    spec, _ = _spec(tmp_path, 4, 0.5, True, district_tol=0.005)
    pulp_only = proofs.least_moved(spec, backend, deadline=1e12, seed=0, threads=1)
    monkeypatch.setattr(master, "ARRAY_COLUMNS_ABOVE", 0)
    cover = master._row_cover(spec, *np.nonzero(spec.allowed))
    assert 0 < int(cover.sum()) < int(spec.allowed.sum()) // 2  # most columns go in as arrays
    arrays = proofs.least_moved(spec, backend, deadline=1e12, seed=0, threads=1)
    assert pulp_only is not None
    assert arrays is not None
    assert arrays[1].objective == pytest.approx(pulp_only[1].objective, rel=1e-9)
    assert arrays[0] == pytest.approx(pulp_only[0], rel=1e-6)
    # every district row is in the master built in part by arrays, as in the one PuLP built whole
    unit, rep = np.nonzero(spec.allowed)
    fixed = np.full(spec.problem.n_units, -1)
    prices = lpmod.slack_prices(spec)
    built = master.Master(spec, backend, unit, rep, fixed, prices, cuts=None, seed=0, threads=1)
    assert built.form.n_cols == int(cover.sum())
    assert built.n_cols == len(unit)
    assert spec.groups is not None
    assert (built.rows.grp_lo >= 0).all()
    assert (built.rows.grp_hi >= 0).all()


def test_a_whole_lp_with_no_solution_gives_no_least_share(tmp_path: Path) -> None:
    """Slacks held at 0: balance alone infeasible (a band no plan meets) is no bound, not a number."""
    backend = get_backend("highs")
    spec, _ = _spec(tmp_path, 5, 0.5, False)
    impossible = dataclasses.replace(spec, lower=spec.lower * 1.2)  # every rep 20% above its band's floor
    assert proofs.least_moved(impossible, backend, deadline=1e12, seed=0, threads=1) is None
    res = proofs.phase1(impossible, backend, deadline=1e12, seed=0, threads=1)
    assert res is not None
    assert proofs.scaled_violation(impossible, res) > proofs.FEASIBILITY_TOL
