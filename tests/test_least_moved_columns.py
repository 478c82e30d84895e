"""Issue 10 / QA20 F10: above ``LEAST_MOVED_WHOLE_PAIRS`` the least-moved LP (the budget check's proof and
the start of plans that must move little) is column generation from each unit's current rep and its
nearest reps, where it was one LP over every pair (14.3 s of a 30-s run on 3,407 cities x 60 reps with
district and region rows). Its value must be the whole LP's: the same least share, the same proof."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError
from territory_planner.optimize import proofs
from territory_planner.solvers import get_backend
from tests.conftest import options_for, write_instance


def _spec(tmp_path: Path, seed: int, share: float, districts: bool):  # type: ignore[no-untyped-def]
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
    extra = {"district_tolerance": {"potential": 0.05, "workload": 0.05}} if districts else {}
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
    whole = proofs.least_moved(spec, backend, deadline=1e12, seed=0, threads=1)
    monkeypatch.setattr(proofs, "LEAST_MOVED_WHOLE_PAIRS", 0)
    monkeypatch.setattr(proofs, "LEAST_MOVED_NEAREST", 1)  # few first columns: pricing must bring the rest
    cg = proofs.least_moved(spec, backend, deadline=1e12, seed=0, threads=1)
    assert whole is not None
    assert cg is not None
    total = float(spec.problem.acc_potential.sum())
    assert whole[0] / total > 0.01  # the drift leaves something to move
    assert cg[1].converged
    assert cg[1].rounds > 1  # it did start from a part of the pairs
    assert cg[0] == pytest.approx(whole[0], rel=1e-6, abs=1e-6 * total)
    assert cg[1].objective == pytest.approx(whole[1].objective, rel=1e-6, abs=1e-6 * total)
    # a budget below the least share: the run's budget check (column generation too) proves it
    share = 0.95 * whole[0] / total
    with pytest.raises(InfeasibleError) as err:
        api.solve(dataclasses.replace(opts, max_moved_share=share))
    budget = next(c for c in err.value.conflicts if c.family == "disruption_budget")
    assert budget.extra["least_moved_share"] == pytest.approx(whole[0] / total, rel=1e-6)
