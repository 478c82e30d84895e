"""``--district-contiguous`` between the pipeline's plan and the outputs: run the district cut loop (or,
on large maps, the two-level search of ``optimize.nested_districts``, which also makes the territories
connected with ``--contiguous``) and update the ``SolveResult`` and summary.json's
``hierarchy.district`` block honestly."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from territory_planner.errors import SolverError
from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import contiguous, district_contiguity, nested_districts, pipeline, repair
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.hierarchy import labels_index
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import home_rule
from territory_planner.solvers.base import Backend

OPTIMALITY_TOL = 1e-4
FALLBACK_SECONDS = 5.0  # time left after failed district levels worth giving the territories alone


def nested_applies(spec: ModelSpec) -> bool:
    """Too many (unit, rep) pairs for the whole-model cut loop: the two-level search instead."""
    from territory_planner.geo.contiguity_stage import MAX_CUT_COLUMNS

    return int(spec.allowed.sum()) > MAX_CUT_COLUMNS


def base_plan(
    spec: ModelSpec, backend: Backend, budget: TimeBudget, solve_kw: dict[str, Any]
) -> tuple[np.ndarray | None, SolveResult]:
    """The pipeline's plan and bound for the full model; when it finds no plan in its share of the time,
    no plan and no bound (the two-level search starts from scratch), said in the notes."""
    try:
        return pipeline.solve(spec, backend, budget=budget, **solve_kw)
    except SolverError as err:
        nan = float("nan")
        note = f"no plan of the whole model in its share of the time ({err}); no lower bound"
        return None, SolveResult(
            status="feasible", proven_optimal=False, objective=nan, compactness=nan, lower_bound=nan,
            gap=nan, seconds=budget.elapsed(), solver=backend.version(), method="none", notes=(note,),
        )  # fmt: skip


def make_districts_contiguous(
    spec: ModelSpec,
    adj: Adjacency,
    unit_rep: np.ndarray | None,
    result: SolveResult,
    backend: Backend,
    *,
    centre: np.ndarray,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    progress: Callable[[str], None] = lambda _m: None,
    proof_holds: bool = True,
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    """The plan, its result and the ``hierarchy.district`` additions; on the two-level path with
    ``territories_too`` the latter carry the ``contiguity`` block of summary.json under "territories".
    ``proof_holds``: every centre is the unit at its rep's own home, so a proof that no plan of connected
    districts exists is one for the user's model (else for the centres used only)."""
    if nested_applies(spec):
        return _nested(
            spec, adj, unit_rep, result, backend, centre=centre, time_limit=time_limit, gap=gap, seed=seed,
            threads=threads, territories_too=territories_too, progress=progress,
        )  # fmt: skip
    assert unit_rep is not None  # only the two-level path starts without a plan
    res = district_contiguity.solve(
        spec, adj, backend, centre, unit_rep,
        time_limit=time_limit, gap=gap, seed=seed, threads=threads,
        territories_too=territories_too, bound=result.lower_bound, progress=progress,
    )  # fmt: skip
    plan = res.unit_rep if repair.feasible(spec, res.unit_rep) else unit_rep
    p = spec.problem
    objective = float(spec.objective[np.arange(p.n_units), plan].sum())
    # counted on the plan returned (the stage's, or the start plan when the stage's breaks a row), with
    # every rep keeping its home unit, as the model asks: a district whose rep lost its home unit counts
    # one piece more (the test against brute force: the start plan, with R2's home unit given to a rep of
    # the other district, was reported connected, and "every rep keeps the unit at its home")
    pieces, away = _pieces_with_homes(adj, plan, centre, p.districts, p.rep_ids)
    res = dataclasses.replace(res, pieces=pieces)
    connected = all(k <= 1 for k in res.pieces.values()) and not away
    # the bound holds for connected districts: a split plan (written only with --relax) keeps it, gap n/a
    lower, g = contiguity.bound_and_gap(res.lower_bound, objective, connected=connected)
    notes = [
        *result.notes,
        "district contiguity: the lower bound is valid for plans in which every rep keeps the unit at "
        "its home, as the connected plans of this stage do",
        *contiguity.below_bound(
            "district contiguity", result.objective, lower, "splits a district or gives a home unit away"
        ),
    ]
    levels = "districts and territories" if territories_too else "districts"  # the flow model's rows
    if not connected:
        split = sum(1 for k in res.pieces.values() if k > 1)
        notes.append(
            f"no plan of connected {levels}{home_rule(levels)} exists: HiGHS proved the exact flow model "
            f"infeasible ({split} "
            "districts of this plan are split)"
            if res.infeasible
            else f"district contiguity not reached for {split} districts in the time given"
            + (f" (the two levels, districts first: {res.two_levels})" if res.two_levels else "")
        )
    # a gap within the tolerance to a valid bound is a proof however the plan came (QA14: Chicago's 77
    # areas, a plan equal to its bound said "feasible, gap 0.000%")
    optimal = connected and np.isfinite(g) and g <= OPTIMALITY_TOL
    stages = dict(result.stages)
    stages["district_contiguity"] = res.seconds
    log = _logged(result, res.seconds, list(res.pieces.values()), objective, g)
    new = dataclasses.replace(
        result,
        status="optimal" if optimal else "feasible",
        proven_optimal=bool(optimal),
        objective=objective,
        compactness=float(spec.cost[np.arange(p.n_units), plan].sum()),
        lower_bound=lower,
        gap=g,
        method=f"{result.method}+district-{res.method}",
        stages=stages,
        stage_log=log,
        notes=tuple(notes),
    )
    info: dict[str, Any] = {
        "pieces": res.pieces,
        "contiguous": connected,
        "rounds": res.rounds,
        "cuts": res.cuts,
        "method": res.method,
    }
    if res.two_levels and not connected:  # for the caller's notes (popped: not a summary.json key)
        info["two_levels"] = res.two_levels
    if away:  # reps without their home unit, by district: not connected in the model's sense (QA31 F2)
        info["homes_elsewhere"] = away
    if res.infeasible:
        info["infeasible"] = "proven" if proof_holds else "proven for the centres chosen"
        info["proven_for"] = levels
        progress(
            f"district contiguity: no plan of connected {levels}{home_rule(levels)} meets the bands (proven)"
        )
    return plan, new, info


def _pieces_with_homes(
    adj: Adjacency, plan: np.ndarray, centre: np.ndarray, districts: np.ndarray, rep_ids: np.ndarray
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Pieces of each district of ``plan`` (as ``edit`` and the plan's adjacency.csv count them), and by
    district its reps who do not hold the unit at their home (``centre``, -1: none), which the model
    asks of them as well: such a district is not connected in the model's sense, and the outputs say so
    (QA31 F2: "Core: 2 pieces" for a district in one piece whose rep's home state went to another
    district's rep; QA77 F2: each such rep was counted as a piece more, 13 for a district of 9 pieces
    whose adjacency.csv, `edit` and same-county region said 9)."""
    of, names = labels_index(districts)
    pieces = district_contiguity.district_pieces(adj, plan, of, len(names))
    away: dict[str, list[str]] = {}
    for j, c in enumerate(centre.tolist()):
        if c >= 0 and plan[c] != j and of[j] >= 0:
            away.setdefault(str(names[of[j]]), []).append(str(rep_ids[j]))
    return {n: int(k) for n, k in zip(names, pieces.tolist(), strict=True)}, away


def _logged(
    result: SolveResult, seconds: float, pieces: list[int], objective: float, g: float
) -> tuple[dict[str, object], ...]:
    """The stage log with the district contiguity stage appended (summary.json -> stages)."""
    split = sum(1 for k in pieces if k > 1)
    shape = f"{split} of {len(pieces)} districts split" if split else "every district one piece"
    gap = f"gap {100 * g:.3f}%" if np.isfinite(g) else "no gap"
    before = f"{result.objective:,.1f} -> " if np.isfinite(result.objective) else ""
    outcome = f"{shape}, objective {before}{objective:,.1f}, {gap}"
    return (
        *result.stage_log,
        {"stage": "district_contiguity", "seconds": round(seconds, 3), "outcome": outcome},
    )


def _nested(
    spec: ModelSpec,
    adj: Adjacency,
    unit_rep: np.ndarray | None,
    result: SolveResult,
    backend: Backend,
    *,
    centre: np.ndarray,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    progress: Callable[[str], None],
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:

    t0 = time.perf_counter()
    res = nested_districts.solve(
        spec, adj, backend, centre, unit_rep,
        time_limit=time_limit, gap=gap, seed=seed, threads=threads, territories_too=territories_too,
        progress=progress,
    )  # fmt: skip
    plan = res.unit_rep if res.unit_rep is not None else unit_rep
    if plan is None:
        raise SolverError(
            f"no plan found in the time limit: the whole model had none in its share of the time and "
            f"{res.reason}; this is not a proof that no plan exists: try a longer --time-limit or wider "
            "--tolerance / --district-tolerance"
        )
    method = "nested-districts" if res.unit_rep is not None else "district-levels-failed"
    left = time_limit - res.seconds
    if res.unit_rep is None and territories_too and left > FALLBACK_SECONDS:
        progress("districts not connected in time: the territories alone (neighbourhood search)")
        c = contiguous.solve_contiguous(
            spec, adj, backend, centre=centre, time_limit=left, gap=gap, seed=seed, threads=threads,
            start_plan=plan, bound=result.lower_bound, progress=progress, exact=False,
        )  # fmt: skip
        cand = c.unit_rep if c.unit_rep is not None else contiguous.repair_pieces(spec, adj, plan, centre)
        if repair.feasible(spec, cand):
            plan = cand
            method += "+contiguity-" + (c.method if c.unit_rep is not None else "repair")
    p = spec.problem
    of, names = labels_index(p.districts)
    d_pieces = district_contiguity.district_pieces(adj, plan, of, len(names))
    t_pieces = contiguity.count_pieces(adj, plan, p.n_reps)
    objective = float(spec.objective[np.arange(p.n_units), plan].sum())
    lower = min(result.lower_bound, objective) if np.isfinite(result.lower_bound) else float("nan")
    g = max(0.0, (objective - lower) / objective) if objective > 0 and np.isfinite(lower) else float("nan")
    connected = bool((d_pieces <= 1).all())
    notes = [
        *result.notes,
        "district contiguity (districts first, then territories inside them): the lower bound is the "
        "model's without contiguity",
    ]
    if res.unit_rep is None:
        notes.append(f"district contiguity not reached: {res.reason}; the plan is the whole model's")
    if territories_too and (t_pieces > 1).any():
        notes.append(f"contiguity not reached for {int((t_pieces > 1).sum())} territories in the time given")
    contiguous_all = connected and (not territories_too or bool((t_pieces <= 1).all()))
    optimal = res.unit_rep is not None and contiguous_all and np.isfinite(g) and g <= OPTIMALITY_TOL
    stages = dict(result.stages)
    stages["district_contiguity"] = time.perf_counter() - t0
    log = _logged(result, stages["district_contiguity"], d_pieces.tolist(), objective, g)
    new = dataclasses.replace(
        result,
        status="optimal" if optimal else "feasible",
        proven_optimal=bool(optimal),
        objective=objective,
        compactness=float(spec.cost[np.arange(p.n_units), plan].sum()),
        lower_bound=lower,
        gap=g,
        method=f"{result.method}+{method}",
        stages=stages,
        stage_log=log,
        notes=tuple(notes),
    )
    info: dict[str, Any] = {
        "pieces": {n: int(k) for n, k in zip(names, d_pieces.tolist(), strict=True)},
        "contiguous": connected,
        "method": "nested",
        "solves": res.solves,
    }
    if territories_too:
        info["territories"] = {
            "islands": len(adj.islands()) + len(adj.bridged),  # the map's, bridged or not
            "bridged_edges": [
                [str(p.account_ids[np.flatnonzero(p.acc_unit == a)[0]]) for a in e] for e in adj.bridged
            ],
            "method": method,
            "rounds": res.solves,
            "pieces": {str(r): int(k) for r, k in zip(p.rep_ids, t_pieces.tolist(), strict=True)},
            "contiguous": bool((t_pieces <= 1).all()),
        }
    return plan, new, info
