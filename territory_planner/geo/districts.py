"""``--district-contiguous`` between the pipeline's plan and the outputs: run the district cut loop and
update the ``SolveResult`` and summary.json's ``hierarchy.district`` block honestly."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from territory_planner.geo.adjacency import Adjacency
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import district_contiguity, repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

OPTIMALITY_TOL = 1e-4


def make_districts_contiguous(
    spec: ModelSpec,
    adj: Adjacency,
    unit_rep: np.ndarray,
    result: SolveResult,
    backend: Backend,
    *,
    centre: np.ndarray,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    res = district_contiguity.solve(
        spec, adj, backend, centre, unit_rep,
        time_limit=time_limit, gap=gap, seed=seed, threads=threads,
        territories_too=territories_too, bound=result.lower_bound,
    )  # fmt: skip
    plan = res.unit_rep if repair.feasible(spec, res.unit_rep) else unit_rep
    p = spec.problem
    objective = float(spec.objective[np.arange(p.n_units), plan].sum())
    lower = min(res.lower_bound, objective) if np.isfinite(res.lower_bound) else float("nan")
    g = max(0.0, (objective - lower) / objective) if objective > 0 and np.isfinite(lower) else float("nan")
    connected = all(k <= 1 for k in res.pieces.values())
    notes = [
        *result.notes,
        "district contiguity: every rep keeps the unit at its home; the lower bound is valid for plans "
        "of that kind",
    ]
    if not connected:
        split = sum(1 for k in res.pieces.values() if k > 1)
        notes.append(f"district contiguity not reached for {split} districts in the time given")
    optimal = res.proven_optimal and connected and np.isfinite(g) and g <= OPTIMALITY_TOL
    stages = dict(result.stages)
    stages["district_contiguity"] = res.seconds
    new = dataclasses.replace(
        result,
        status="optimal" if optimal else "feasible",
        proven_optimal=bool(optimal),
        objective=objective,
        compactness=float(spec.cost[np.arange(p.n_units), plan].sum()),
        lower_bound=lower,
        gap=g,
        method=f"{result.method}+district-cuts",
        stages=stages,
        notes=tuple(notes),
    )
    info = {"pieces": res.pieces, "contiguous": connected, "rounds": res.rounds, "cuts": res.cuts}
    return plan, new, info
