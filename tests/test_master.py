"""The column-generation master grown in place (HiGHS) is the same LP as one built whole by PuLP."""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner import api
from territory_planner.optimize import formulation
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.master import Master
from territory_planner.solvers.registry import available_backends, get_backend
from tests.conftest import options_for, random_accounts, write_instance


def _spec(tmp_path, **kw):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    accounts = random_accounts(rng, 240, current_reps=6)
    reps = [
        {"rep_id": f"R{j}", "lat": 31.0 + 2.5 * j, "lon": -98.0 + 3.0 * j, "capacity": 1.0} for j in range(6)
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, **kw)
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"min_accounts": 30, "max_accounts": 50, "max_moved_share": 0.6, "max_moved_share_per_rep": 0.7},
    ],
    ids=["bands", "counts-and-budgets"],
)
def test_grown_master_equals_master_built_whole(tmp_path, kw) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, **kw)
    p = spec.problem
    backend = get_backend("highs")
    prices = lpmod.slack_prices(spec)
    small = lpmod.initial_candidates(spec, 2)
    full = lpmod.initial_candidates(spec, 6)
    # a contiguity-style cut, so that added columns must also get their cut coefficients
    cuts = [formulation.Cut(rep=0, unit=5, neighbours=(6, 7, 8))]
    full[[5, 6, 7, 8], 0] = True
    fixed = np.full(p.n_units, -1, dtype=np.int64)
    fixed[:20] = np.argmin(np.where(spec.allowed[:20], spec.cost[:20], np.inf), axis=1)
    small[np.arange(20), fixed[:20]] = True
    full[np.arange(20), fixed[:20]] = True
    su, sr = np.nonzero(small)
    grown = Master(spec, backend, su, sr, fixed, prices, cuts=cuts, seed=1, threads=1)
    assert grown.live is not None
    first, _, _ = grown.solve(60)
    extra_u, extra_r = np.nonzero(full & ~small)
    grown.add(extra_u, extra_r)
    grown.unfix(np.arange(10))  # half of the fixed units are freed
    out, x, slack = grown.solve(60)

    fixed_whole = fixed.copy()
    fixed_whole[:10] = -1
    fu, fr = np.nonzero(full)
    whole = Master(spec, backend, fu, fr, fixed_whole, prices, cuts=cuts, seed=1, threads=1)
    ref, _, _ = whole.solve(60)
    assert out.objective == pytest.approx(ref.objective, rel=1e-9)
    assert first.objective is not None
    assert first.objective >= ref.objective - 1e-6  # fewer columns: no better
    # the grown master's x, read back by (unit, rep), is a solution of the whole LP with the same value
    assert len(whole.col_unit) == len(grown.col_unit)
    per_unit = np.bincount(grown.col_unit, weights=x, minlength=p.n_units)
    assert np.allclose(per_unit, 1.0, atol=1e-7)
    cost = float(spec.objective[grown.col_unit, grown.col_rep] @ x) + float(slack @ grown.slack_cost)
    assert cost == pytest.approx(ref.objective, rel=1e-9)
    assert x[grown.key[np.arange(10, 20), fixed[10:20]]] == pytest.approx(1.0)  # still held at 1


@pytest.mark.skipif(
    "cbc" not in available_backends(),
    reason="no CBC back-end (no cbc binary: apt-get install coinor-cbc, or pip install 'pulp[cbc]')",
)
def test_rebuilt_master_on_cbc_matches_highs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cbc = get_backend("cbc")
    spec = _spec(tmp_path)
    prices = lpmod.slack_prices(spec)
    fixed = np.full(spec.problem.n_units, -1, dtype=np.int64)
    pool = lpmod.initial_candidates(spec, 3)
    u, r = np.nonzero(pool)
    results = []
    for backend in (get_backend("highs"), cbc):
        m = Master(spec, backend, u, r, fixed, prices, cuts=None, seed=1, threads=1)
        extra_u, extra_r = np.nonzero(lpmod.initial_candidates(spec, 5) & ~pool)
        m.add(extra_u, extra_r)
        out, _, _ = m.solve(60)
        results.append(out.objective)
    assert results[0] == pytest.approx(results[1], rel=1e-7)


def test_column_generation_reaches_the_lp_over_all_pairs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, min_accounts=30)
    backend = get_backend("highs")
    p = spec.problem
    res = lpmod.solve_lp(spec, backend, lpmod.initial_candidates(spec, 1), deadline=1e12, seed=1, threads=1)
    everything = np.ones((p.n_units, p.n_reps), dtype=bool) & spec.allowed
    u, r = np.nonzero(everything)
    whole = Master(
        spec, backend, u, r, np.full(p.n_units, -1), lpmod.slack_prices(spec), cuts=None, seed=1, threads=1
    )
    ref, _, _ = whole.solve(60)
    assert res.converged
    assert res.objective == pytest.approx(ref.objective, rel=1e-7)
    assert res.bound == pytest.approx(ref.objective, rel=1e-6)  # Lagrangian bound meets the LP at the end


def test_many_reps_bound_is_that_of_the_real_bands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Above REGION_REPS the LP is solved with narrowed bands; the reported bound must still be a bound
    for the real bands (at most their LP value), and the plan must use the real bands' room."""
    from territory_planner.optimize import pipeline

    rng = np.random.default_rng(3)
    accounts = random_accounts(rng, 900)
    reps = [
        {"rep_id": f"R{j}", "lat": float(rng.uniform(31, 44)), "lon": float(rng.uniform(-99, -81))}
        for j in range(pipeline.REGION_REPS + 5)
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, gap=0.01, tolerance=0.1)
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    backend = get_backend("highs")
    real = lpmod.solve_lp(spec, backend, lpmod.initial_candidates(spec, 8), deadline=1e12, seed=1, threads=1)
    narrow = lpmod.solve_lp(
        pipeline._narrowed(spec, pipeline.BAND_MARGIN),
        backend,
        lpmod.initial_candidates(spec, 8),
        deadline=1e12,
        seed=1,
        threads=1,
    )
    assert real.converged
    assert narrow.objective > real.objective * (1 + 1e-6)  # the narrowing does bind on this instance
    out = api.solve(opts)
    s = out.summary
    assert s["lower_bound"] <= real.objective * (1 + 1e-7)
    assert s["lower_bound"] <= s["objective"]
    assert s["max_abs_dev_pct"]["potential"] <= 10.0 + 1e-6
