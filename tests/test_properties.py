"""Invariants on random instances (hypothesis): every account exactly once, totals conserved, every band
respected whenever a plan is returned, and the lower bound never above the objective."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_planner import api
from territory_planner.errors import InfeasibleError
from tests.conftest import options_for, write_instance


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[dict], list[dict], float]:
    n = draw(st.integers(4, 24))
    p = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    accounts = [
        {
            "account_id": f"A{i}",
            "lat": float(rng.uniform(35, 45)),
            "lon": float(rng.uniform(-100, -80)),
            "potential": float(rng.integers(1, 100)),
            "workload": float(rng.integers(1, 10)),
            "current_rep": f"R{int(rng.integers(0, p))}",
            "parent_id": "F1" if i in (0, 1) and draw(st.booleans()) else "",
        }
        for i in range(n)
    ]
    reps = [
        {
            "rep_id": f"R{j}",
            "lat": float(rng.uniform(35, 45)),
            "lon": float(rng.uniform(-100, -80)),
            "capacity": float(rng.choice([0.5, 1.0])),
        }
        for j in range(p)
    ]
    tol = draw(st.sampled_from([0.2, 0.4, 0.8]))
    return accounts, reps, tol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_plans_respect_every_invariant(case: tuple[list[dict], list[dict], float]) -> None:
    accounts, reps, tol = case
    with tempfile.TemporaryDirectory() as tmp:
        a, r = write_instance(Path(tmp), accounts, reps)
        try:
            out = api.solve(options_for(a, r, tolerance=tol, gap=0.0, time_limit=20))
        except InfeasibleError:
            return  # lumpy random data may have no plan; the pre-checks and LP said so with numbers
    s = out.summary
    assert s["status"] in {"optimal", "feasible"}
    assert sorted(out.assignments["account_id"]) == sorted(acc["account_id"] for acc in accounts)
    assert out.territories["accounts"].sum() == len(accounts)
    for m in ("potential", "workload"):
        total = sum(acc[m] for acc in accounts)
        assert out.territories[m].sum() == pytest.approx(total)
        lo = (1 - tol) * out.territories[f"{m}_target"]
        hi = (1 + tol) * out.territories[f"{m}_target"]
        assert (out.territories[m] >= lo - 1e-6).all()
        assert (out.territories[m] <= hi + 1e-6).all()
    assert s["lower_bound"] <= s["objective"] * (1 + 1e-9) + 1e-9
    fam = out.assignments[out.assignments["parent_id"] != ""]
    assert fam["rep_id"].nunique() <= 1
