"""``--design-districts N`` end to end (alternating): territories without district rows, the grouping of
``optimize.design``, territories again with the district rows; the bound stated for what was proven.

The lower bound reported is that of the first solve, the model without district rows: every plan of the
joint problem (any grouping) is a plan of that model, so it bounds the joint problem. The bound of the
second solve holds only for the grouping chosen; summary.json gives both (``hierarchy.district.design``).

The first plan always meets the district band of the chosen grouping (the grouping MIP keeps each
district's first-plan totals within it), so it is the second solve's plan to beat (its warm start), and
the answer when the second solve finds nothing better in time. When the district band is implied by the
territory bands (a district tolerance at least the territory tolerance), the district rows change
nothing: the second solve is skipped and the first one gets most of the time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError, InputError, Problem, SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import design, pipeline, repair
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

FIRST_SHARE = 0.4  # of the time: the territories without district rows
FIRST_SHARE_IMPLIED = 0.85  # the same when the district band is implied by the territory bands
GROUPING_SHARE = 0.15  # of the time left after them: the grouping MIP


def band_implied(problem: TerritoryProblem, spec: ModelSpec, tolerance: np.ndarray) -> bool:
    """Every rep band lies inside its share of the district band ((1 +- T) x its target) for every
    measure with a district tolerance, so every district of every grouping meets the district band
    whenever its reps meet theirs: the district rows change nothing."""
    t = tolerance[:, None]
    finite = np.isfinite(t)
    lo = np.where(finite, (1 - t) * problem.target, -np.inf)
    hi = np.where(finite, (1 + t) * problem.target, np.inf)
    slack = 1e-9 * np.maximum(np.abs(problem.target), 1.0)
    return bool((spec.lower >= lo - slack).all() and (spec.upper <= hi + slack).all())


def nesting_conflict(problem: TerritoryProblem, n: int) -> Conflict | None:
    """The proof, before any solve, that no grouping of the reps into ``n`` districts nests in their
    regions: a district holds mean +- 1 reps by capacity and lies in one region, so a region of capacity C
    holds k districts only if k (mean - 1) <= C <= k (mean + 1), and no choice of k per region adds up to
    ``n`` (``design.nesting_counts``, a necessary condition). None when the reps have no regions or ``n``
    passes that test."""
    regions = np.asarray(problem.rep_regions, dtype=str) if problem.rep_regions is not None else None
    if regions is None or not bool((np.char.strip(regions) != "").any()):
        return None
    counts_ok = design.nesting_counts(problem.capacity, regions)
    if n in counts_ok:
        return None
    mean = float(problem.capacity.sum()) / n
    names = np.unique(regions)
    per_region = ", ".join(
        f"{'(no region)' if not r.strip() else r} {float(problem.capacity[regions == r].sum()):g}"
        for r in names.tolist()
    )
    return Conflict(
        family="district_design",
        message=(
            f"{n} districts hold {mean:.2f} +- 1 reps by capacity each, and a district lies in one region; "
            f"the regions' capacities ({per_region}) cannot be cut into {n} such districts: numbers of "
            f"districts they allow: {', '.join(map(str, counts_ok)) or 'none'}. Choose one of those with "
            "--design-districts, or change the reps' region column"
        ),
        extra={"allowed": counts_ok, "capacity_by_region": per_region},
    )


def _group(
    problem: TerritoryProblem,
    spec: ModelSpec,
    plan: np.ndarray,
    tol: np.ndarray,
    n: int,
    backend: Backend,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
) -> design.Grouping:
    p = problem.n_reps
    measures = range(len(problem.measures))
    load = np.vstack([np.bincount(plan, weights=problem.unit_amount[:, m], minlength=p) for m in measures])
    regions = np.asarray(problem.rep_regions, dtype=str) if problem.rep_regions is not None else None
    nested = regions is not None and bool((np.char.strip(regions) != "").any())
    same = (regions[:, None] == regions[None, :]) if nested and regions is not None else None
    grouping = design.group_nearest_first(
        design.rep_travel(spec.cost, plan, p), problem.capacity, load, problem.target, tol, n, backend,
        time_limit=max(GROUPING_SHARE * budget.remaining(), 1.0),
        seed=solve_kw["seed"], threads=solve_kw["threads"], allowed=same,
    )  # fmt: skip
    if grouping is None:
        within = ""
        if nested and regions is not None:
            names, counts = np.unique(regions, return_counts=True)
            sizes = ", ".join(f"{k} {c}" for k, c in zip(names.tolist(), counts.tolist(), strict=True))
            counts_ok = design.nesting_counts(problem.capacity, regions)
            within = (
                f", each district within one region (reps per region: {sizes}; a district holds "
                f"{problem.capacity.sum() / n:.1f} +- 1 reps by capacity; numbers of districts the "
                f"regions' rep counts allow at best: {', '.join(map(str, counts_ok)) or 'none'})"
            )
        raise SolverError(
            f"no grouping of the {p} reps into {n} districts within the district band{within} was found "
            "for the first territory plan; this is not a proof that none exists: try a wider "
            "--district-tolerance, another number of districts or a longer --time-limit"
        )
    return grouping


def design_districts(
    problem: TerritoryProblem,
    spec: ModelSpec,
    build: Callable[[TerritoryProblem], ModelSpec],
    tolerance: dict[str, float],
    n: int,
    backend: Backend,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
) -> tuple[TerritoryProblem, ModelSpec, np.ndarray, SolveResult, dict[str, Any]]:
    if n > problem.n_reps:
        raise InputError(
            Problem("options", None, "design_districts", f"{n} districts for {problem.n_reps} reps")
        )
    conflict = nesting_conflict(problem, n)
    if conflict is not None:  # proven before any solve: no grouping nests in the regions
        raise InfeasibleError(
            f"no grouping of the {problem.n_reps} reps into {n} districts can keep each district in one "
            "region",
            [conflict],
        )
    tol = np.array([tolerance.get(m, tolerance.get("*", np.inf)) for m in problem.measures], dtype=float)
    implied = band_implied(problem, spec, tol)
    share = FIRST_SHARE_IMPLIED if implied else FIRST_SHARE
    first_budget = (
        TimeBudget.until(time.perf_counter() + share * budget.remaining()) if budget.limited else budget
    )
    plan1, res1 = pipeline.solve(spec, backend, budget=first_budget, **solve_kw)
    band = np.full_like(tol, np.inf) if implied else tol  # implied: every grouping meets it
    grouping = _group(problem, spec, plan1, band, n, backend, budget, solve_kw)
    labels = np.array([f"D{k + 1:02d}" for k in grouping.district], dtype=str)
    problem2 = dataclasses.replace(problem, rep_districts=labels)
    spec2 = build(problem2)
    first_fits = repair.feasible(spec2, plan1)
    obj1 = float(spec2.objective[np.arange(problem.n_units), plan1].sum())
    if first_fits and implied:  # the district rows change nothing: the first plan and bound stand
        plan2, res2, second = (
            plan1,
            dataclasses.replace(res1, objective=obj1),
            "skipped (district band implied)",
        )
    else:
        kw = dict(solve_kw, current_unit_rep=plan1) if first_fits else solve_kw  # a plan to beat
        try:
            plan2, res2 = pipeline.solve(spec2, backend, budget=budget, **kw)
            second = "solved"
            if first_fits and res2.method == "current_alignment":  # the warm start stood
                res2 = dataclasses.replace(res2, method="first_plan")
        except SolverError:
            if not first_fits:
                raise
            plan2, res2, second = plan1, dataclasses.replace(res1, objective=obj1), "no better plan in time"
        if first_fits and obj1 < res2.objective - 1e-9 * max(abs(obj1), 1.0):
            plan2, res2 = plan1, dataclasses.replace(res1, objective=obj1)
    joint = res1.lower_bound
    gap = max(0.0, (res2.objective - joint) / res2.objective) if res2.objective > 0 else 0.0
    optimal = bool(np.isfinite(joint) and gap <= pipeline.OPTIMALITY_TOL)
    note = (
        f"designed districts (alternating): the lower bound is that of the model without district rows "
        f"({joint:,.1f}), valid for any grouping; for the chosen grouping it is {res2.lower_bound:,.1f}"
    )
    result = dataclasses.replace(
        res2,
        status="optimal" if optimal else "feasible",
        proven_optimal=optimal,
        lower_bound=min(joint, res2.objective),
        gap=gap,
        notes=(*res2.notes, note),
        method=f"design({res1.method})+{res2.method}",
    )
    info = {
        "method": "alternating",
        "districts": n,
        "seats": {f"D{k + 1:02d}": str(problem.rep_ids[s]) for k, s in enumerate(grouping.seats.tolist())},
        "seat_travel": grouping.travel,
        "grouping_pairs": grouping.pairs,
        "second_solve": second,
        "joint_lower_bound": joint,
        "grouping_lower_bound": res2.lower_bound,
    }
    return problem2, spec2, plan2, result, info
