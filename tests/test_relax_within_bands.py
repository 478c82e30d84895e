"""``--contiguous --relax``: when the contiguity stages end with split territories and the plan they were
given breaks bands, the time left goes to a plan within every band (QA19 F12).

Six units on a line, potential 4 1 1 4 1 3 (total 14), two reps with homes at the ends, +-10% (6.3 to
7.7 each). Every connected plan gives rep 0 a prefix: 4, 5, 6, 10 or 11, none within the band, so no
connected plan meets the bands; {c0, c1, c2, c4} and {c3, c5} (7 and 7) do, split::

    c0 - c1 - c2 - c3 - c4 - c5
    R0 home                  R1 home
"""

from __future__ import annotations

import time

import numpy as np

from territory_planner import api
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import contiguity
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import pipeline
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers import get_backend
from tests.conftest import problem_from_rows

LON = [-90.0 + 0.1 * k for k in range(6)]


def _case(amounts: list[float], tolerance: float) -> tuple[ModelSpec, adjmod.Adjacency]:
    accounts = [
        {"account_id": f"c{k}", "lat": 35.0, "lon": LON[k], "potential": a, "workload": 1.0}
        for k, a in enumerate(amounts)
    ]
    reps = [
        {"rep_id": "R0", "lat": 35.0, "lon": LON[0]},
        {"rep_id": "R1", "lat": 35.0, "lon": LON[5]},
    ]
    problem = problem_from_rows(accounts, reps, ("potential",), {"potential": tolerance})
    spec = ModelSpec.build(problem, np.array([35.0, 35.0]), np.array([LON[0], LON[5]]))
    return spec, adjmod.Adjacency.from_edges(6, [0, 1, 2, 3, 4], [1, 2, 3, 4, 5])


def _relaxed(spec: ModelSpec, plan: np.ndarray) -> SolveResult:
    objective = float(spec.objective[np.arange(len(plan)), plan].sum())
    return SolveResult(
        status="relaxed",
        proven_optimal=False,
        objective=objective,
        compactness=objective,
        lower_bound=float("nan"),
        gap=float("nan"),
        seconds=0.1,
        solver="highs",
        method="relaxed",
        violations=tuple(pipeline._violations(spec, plan)),
    )


def _run(
    spec: ModelSpec, adj: adjmod.Adjacency, plan: np.ndarray, info: dict
) -> tuple[np.ndarray, SolveResult, dict]:
    kw = {"gap": 0.0, "seed": 0, "threads": 1, "candidates": 2, "relax": True, "progress": lambda _m: None}
    budget = TimeBudget.for_command(10, started=time.perf_counter(), reserve=0.0)
    lat, lon = np.array([35.0, 35.0]), np.array([LON[0], LON[5]])
    return api._within_bands(
        spec,
        adj,
        plan,
        _relaxed(spec, plan),
        info,
        get_backend("highs"),
        budget,
        kw,
        lat,
        lon,
        lambda _m: None,
    )


def test_a_split_plan_within_the_bands_replaces_one_that_breaks_them() -> None:
    spec, adj = _case([4, 1, 1, 4, 1, 3], 0.10)
    start = np.array([0, 1, 0, 1, 1, 0])  # 8 in 3 pieces and 6 in 2: both bands broken
    assert pipeline._violations(spec, start)
    info = {"contiguous": False, "pieces": {"R0": 3, "R1": 2}, "infeasible": "proven"}
    plan, result, out = _run(spec, adj, start, dict(info))
    assert not pipeline._violations(spec, plan)  # every band met
    loads = np.bincount(plan, weights=[4, 1, 1, 4, 1, 3], minlength=2)
    assert np.all(np.abs(loads - 7.0) <= 0.7 + 1e-9)
    pieces = contiguity.count_pieces(adj, plan, 2)
    assert (pieces > 1).any()  # no connected plan meets the bands
    assert out["pieces"] == {"R0": int(pieces[0]), "R1": int(pieces[1])}
    assert out["infeasible"] == "proven"
    assert out["contiguous"] is False
    assert result.violations == ()
    assert result.objective == float(spec.objective[np.arange(6), plan].sum())
    assert any("meets every band" in n for n in result.notes)
    # the split territories are then the plan's only violations
    final = api._connected_or_relaxed(result, out, None, _options(), 2)
    assert final.status == "relaxed"
    assert {v["constraint"] for v in final.violations} == {"territory_contiguity"}


def test_the_plan_is_kept_when_no_plan_meets_the_bands() -> None:
    spec, adj = _case([4, 1, 1, 4, 1, 4], 0.001)  # 7.5 each: no subset of integers sums to it
    start = np.array([0, 0, 0, 1, 1, 1])
    info = {"contiguous": False, "pieces": {"R0": 1, "R1": 1}, "infeasible": "proven"}
    plan, result, out = _run(spec, adj, start, dict(info))
    assert plan.tolist() == start.tolist()
    assert result.violations
    assert out == info
    assert any("no plan within every band" in n for n in result.notes)


def test_nothing_is_searched_when_the_territories_are_connected() -> None:
    spec, adj = _case([4, 1, 1, 4, 1, 3], 0.10)
    start = np.array([0, 0, 0, 1, 1, 1])
    info = {"contiguous": True, "pieces": {"R0": 1, "R1": 1}}
    plan, result, out = _run(spec, adj, start, dict(info))
    assert plan.tolist() == start.tolist()
    assert out == info
    before = _relaxed(spec, start)
    assert result.notes == ()
    assert result.stage_log == ()
    assert result.violations == before.violations


def _options():  # type: ignore[no-untyped-def]
    from territory_planner.options import build_options

    return build_options({"accounts": "a.csv", "reps": "r.csv", "contiguous": True, "relax": True})
