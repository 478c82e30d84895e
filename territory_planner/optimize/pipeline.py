"""The solve pipeline: pre-checks -> LP by column generation -> repair MIP -> improve/prove.

status "optimal"  : the gap to a proven lower bound on the full model is <= 1e-4
status "feasible" : a plan within every constraint, with its proven gap (time limit, --gap reached)
status "relaxed"  : --relax on an infeasible model: the least-violation plan, violations listed
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError, SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize import prechecks, repair
from territory_planner.optimize.prechecks import fmt
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, SolveStatus

log = logging.getLogger(__name__)
OPTIMALITY_TOL = 1e-4
REGION_REPS = 25  # above this many reps, the LP is rounded region by region
BAND_MARGIN = 0.02  # ... and solved with each band narrowed by this share of its width on both sides
Progress = Callable[[str], None]


def _gap(upper: float, lower: float) -> float:
    if upper <= 0:
        return 0.0 if lower >= upper - 1e-9 else float("inf")
    return max(0.0, (upper - lower) / upper)


def explain_slack(spec: ModelSpec, lp: lpmod.LpResult) -> list[Conflict]:
    p = spec.problem
    out = []
    for info, amount in sorted(lp.slack_by_row, key=lambda t: -t[1])[:30]:
        rep = str(p.rep_ids[info.rep]) if info.rep >= 0 else None
        if info.family.startswith("balance"):
            m = p.measures[info.measure]
            lo, hi = spec.lower[info.measure, info.rep], spec.upper[info.measure, info.rep]
            side = "short of the minimum" if info.family == "balance_min" else "above the maximum"
            msg = f"{rep} {m}: band {fmt(lo)} to {fmt(hi)}; the best fractional plan is {fmt(amount)} {side}"
            out.append(Conflict(info.family, msg, rep_id=rep, measure=m, amount=amount))
        elif info.family == "budget" and spec.budget is not None:
            total = float(p.acc_potential.sum())
            msg = (
                f"at most {fmt(spec.budget)} potential may move ({100 * spec.budget / total:.1f}%); the "
                f"least-violation fractional plan exceeds that by {fmt(amount)}"
            )
            out.append(Conflict("disruption_budget", msg, amount=amount))
        elif info.family == "rep_budget" and spec.rep_budget_share is not None:
            msg = (
                f"{rep} may lose at most {100 * spec.rep_budget_share:.0f}% of the "
                f"{fmt(spec.held[info.rep])} potential it holds; balance needs {fmt(amount)} more to move"
            )
            out.append(Conflict("disruption_budget", msg, rep_id=rep, amount=amount))
        else:
            limit = spec.min_accounts if info.family == "min_accounts" else spec.max_accounts
            msg = f"{rep}: {info.family.replace('_', ' ')} {limit} missed by {fmt(amount)} accounts"
            out.append(Conflict(info.family, msg, rep_id=rep, amount=amount))
    return out


def _families_in_conflict(spec: ModelSpec, backend: Backend, seed: int, deadline: float) -> list[str]:
    """Which families, when dropped, make the LP feasible (each test is one more LP)."""
    import dataclasses

    p = spec.problem
    tests: dict[str, ModelSpec] = {}
    if spec.budget is not None or spec.rep_budget_share is not None:
        tests["disruption budget"] = dataclasses.replace(spec, budget=None, rep_budget_share=None)
    if spec.min_accounts is not None or spec.max_accounts is not None:
        tests["min/max accounts"] = dataclasses.replace(spec, min_accounts=None, max_accounts=None)
    if (p.unit_locked >= 0).any() or not spec.allowed.all():
        tests["locks and segments"] = dataclasses.replace(spec, allowed=np.ones_like(spec.allowed))
    found = []
    for name, test in tests.items():
        if time.perf_counter() > deadline:
            break
        res = lpmod.solve_lp(
            test, backend, lpmod.initial_candidates(test, 8), deadline=deadline, seed=seed, threads=1
        )
        if res.slack_total <= 1e-6:
            found.append(name)
    return found


def _narrowed(spec: ModelSpec, margin: float) -> ModelSpec:
    """The same model with every band narrowed by ``margin`` of its width on each side (a restriction)."""
    import dataclasses

    width = spec.upper - spec.lower
    return dataclasses.replace(spec, lower=spec.lower + margin * width, upper=spec.upper - margin * width)


def solve(
    spec: ModelSpec,
    backend: Backend,
    *,
    time_limit: float | None,
    gap: float,
    seed: int,
    threads: int | None,
    candidates: int,
    relax: bool,
    progress: Progress = lambda _m: None,
    current_unit_rep: np.ndarray | None = None,
) -> tuple[np.ndarray, SolveResult]:
    """Return (rep index per unit, result). Raises InfeasibleError / SolverError."""
    start = time.perf_counter()
    deadline = start + (time_limit if time_limit is not None else 1e9)
    stages: dict[str, float] = {}
    notes: list[str] = []

    conflicts = prechecks.check(spec)
    if conflicts and not relax:
        raise InfeasibleError("no plan can satisfy the model (found before solving)", conflicts)

    progress("solving the LP relaxation (column generation)")
    t = time.perf_counter()
    lp_deadline = start + 0.75 * (deadline - start)  # rounding and improving are cheap next to the LP
    pool = lpmod.initial_candidates(spec, candidates, current_unit_rep)
    duals = None
    first_method = "simplex"
    if spec.problem.n_units > lpmod.LARGE_UNITS:
        # large instance: duals from a sampled LP pick the pool and give a first bound; pricing over all
        # pairs then makes the LP exact
        progress("estimating duals on a sample of the accounts")
        duals = lpmod.sampled_duals(
            spec,
            backend,
            sample_units=max(2000, 40 * spec.problem.n_reps),
            seed=seed,
            threads=threads,
            deadline=lp_deadline,
            candidates=candidates,
        )
        if duals is not None:
            # the two best reps of every unit by those duals (and its current rep) hold nearly all of the
            # LP's support; one interior-point solve of that master replaces many simplex rounds
            pool = lpmod.priced_candidates(spec, duals, 2, 0, current_unit_rep)
            first_method = "ipm"
    # the LP only needs to be as exact as the gap asked for: stop column generation once its bound is
    # within a quarter of that gap of the master's value (the bound stays valid for the full model).
    # With many reps the plan is rounded region by region, and an LP vertex leaves most reps exactly on
    # a band edge, with no room to round; the LP is then solved with bands a tenth narrower (its
    # solution fits the real bands with room to spare) while the bound is still that of the real bands.
    lp_spec = _narrowed(spec, BAND_MARGIN) if spec.problem.n_reps > REGION_REPS else spec
    lp = lpmod.solve_lp(
        lp_spec,
        backend,
        pool,
        deadline=lp_deadline,
        seed=seed,
        threads=threads,
        progress=progress,
        stop_gap=gap / 4,
        smooth=0.5,
        first_method=first_method,
        bound_duals=duals,
        prices=None if duals is None else lpmod.prices_from(spec, duals),
        bound_spec=spec,
    )
    if lp.slack_total > 1e-6 and lp_spec is not spec:  # narrower bands do not fit: the real ones decide
        pool = np.zeros_like(spec.allowed)
        pool[lp.col_unit, lp.col_rep] = True
        lp = lpmod.solve_lp(
            spec,
            backend,
            pool,
            deadline=lp_deadline,
            seed=seed,
            threads=threads,
            progress=progress,
            stop_gap=gap / 4,
            smooth=0.5,
            bound_duals=lp.duals,
        )
    stages["lp"] = time.perf_counter() - t
    if not lp.converged:
        notes.append(
            f"column generation stopped after {lp.rounds} rounds before converging; the lower bound is "
            "the Lagrangian bound of the last duals"
        )
    if lp.slack_total > 1e-6:
        conflicts = explain_slack(spec, lp)
        if not relax:
            fams = _families_in_conflict(spec, backend, seed, deadline)
            msg = "the model is infeasible even as a fractional LP"
            if fams:
                msg += "; dropping any of these makes it feasible: " + ", ".join(fams)
            raise InfeasibleError(msg, conflicts)
        return _relaxed(spec, lp, backend, start, deadline, seed, threads, conflicts, stages)

    bound = lp.bound
    progress(
        f"LP bound {bound:,.1f}; repairing {int((repair.lp_assignment(spec, lp)[1] < 1 - 1e-6).sum())} "
        "fractional units"
    )
    t = time.perf_counter()
    abs_gap = max(gap, OPTIMALITY_TOL) * max(abs(bound), 1.0) * 0.25
    res = repair.MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 0.0)
    if spec.problem.n_reps > REGION_REPS:
        res = repair.repair_by_regions(
            spec,
            lp,
            backend,
            deadline=deadline,
            seed=seed,
            threads=threads,
            abs_gap=abs_gap,
            max_reps=REGION_REPS,
        )
    if res.unit_rep is None:
        res = repair.repair(spec, lp, backend, deadline=deadline, seed=seed, threads=threads, abs_gap=abs_gap)
    stages["repair"] = time.perf_counter() - t
    if res.unit_rep is None or res.objective is None:
        if time.perf_counter() >= deadline:
            raise SolverError("the time limit was reached before any plan was found; raise --time-limit")
        raise InfeasibleError(
            "the LP relaxation is feasible but no whole-account plan fits every band: "
            "the accounts are too lumpy "
            f"for this tolerance (balance floor: {_floor_text(spec)}); widen --tolerance or use --relax",
            [Conflict("balance", "integer rounding: no assignment of whole accounts meets every band")],
        )
    incumbent, upper = res.unit_rep, res.objective
    method = "lp+repair"
    proven = False
    progress(f"plan found: objective {upper:,.1f}, gap {100 * _gap(upper, bound):.3f}%")

    # improve / prove while the gap is above the target and time remains
    t = time.perf_counter()
    lns_queue: list[int] | None = None
    exact_units = max(300, spec.problem.n_units // 20)
    lns_pass_without_gain = 0
    lns_units = max(150, min(600, 3 * spec.problem.n_units // max(spec.problem.n_reps, 1)))
    neighbours = repair.rep_neighbours(spec, incumbent, 3)
    while _gap(upper, bound) > max(gap, OPTIMALITY_TOL) and time.perf_counter() < deadline - 0.2:
        cols = repair.exact_columns(lp, incumbent, upper, bound)
        n_free = int((cols.sum(axis=1) > 1).sum())
        if n_free <= exact_units:
            progress(f"proving: reduced-cost fixing leaves {n_free:,} units free")
            ex = repair.exact(
                spec,
                lp,
                incumbent,
                upper,
                bound,
                backend,
                deadline=deadline,
                gap=max(gap, OPTIMALITY_TOL) * 0.5,
                seed=seed,
                threads=threads,
            )
            if ex.unit_rep is not None and ex.objective is not None and ex.objective < upper - 1e-9:
                incumbent, upper = ex.unit_rep, ex.objective
                method = "lp+repair+exact"
            if ex.bound is not None:
                bound = max(bound, min(ex.bound, upper))
            proven = ex.status == SolveStatus.OPTIMAL
            break
        if lns_pass_without_gain >= spec.problem.n_reps:
            break
        if lns_queue is None or not lns_queue:
            neighbours = repair.rep_neighbours(spec, incumbent, 3)
            excess = np.bincount(
                incumbent,
                weights=repair.delta(lp, moves=True)[np.arange(len(incumbent)), incumbent],
                minlength=spec.problem.n_reps,
            )
            lns_queue = [int(j) for j in np.argsort(-excess, kind="stable")]
        j = lns_queue.pop(0)
        cluster = np.unique(np.concatenate([[j], neighbours[j]]))
        nb = repair.improve_cluster(
            spec,
            lp,
            incumbent,
            cluster,
            backend,
            max_units=lns_units,
            deadline=deadline,
            seed=seed,
            threads=threads,
            abs_gap=abs_gap,
            time_cap=max(1.0, 0.1 * (deadline - time.perf_counter())),
        )
        if nb.unit_rep is not None and nb.objective is not None and nb.objective < upper - 1e-6 * abs(upper):
            incumbent, upper = nb.unit_rep, nb.objective
            method = "lp+repair+lns"
            lns_pass_without_gain = 0
            progress(f"improving: objective {upper:,.1f}, gap {100 * _gap(upper, bound):.3f}%")
        else:
            lns_pass_without_gain += 1
    stages["improve"] = time.perf_counter() - t

    if not repair.feasible(spec, incumbent):  # an independent check of the solver's answer
        raise SolverError(
            "internal error: the solver returned a plan that violates the model; please report it"
        )
    g = _gap(upper, bound)
    optimal = g <= OPTIMALITY_TOL or (proven and g <= OPTIMALITY_TOL * 1.0001)
    compact = float(spec.cost[np.arange(len(incumbent)), incumbent].sum())
    result = SolveResult(
        status="optimal" if optimal else "feasible",
        proven_optimal=optimal,
        objective=upper,
        compactness=compact,
        lower_bound=bound,
        gap=g,
        seconds=time.perf_counter() - start,
        solver=backend.version(),
        method=method,
        stages=stages,
        notes=tuple(notes),
    )
    return incumbent, result


def _floor_text(spec: ModelSpec) -> str:
    return ", ".join(f"{m} +-{100 * v:.1f}%" for m, v in prechecks.balance_floor(spec).items())


def _relaxed(
    spec: ModelSpec,
    lp: lpmod.LpResult,
    backend: Backend,
    start: float,
    deadline: float,
    seed: int,
    threads: int | None,
    conflicts: list[Conflict],
    stages: dict[str, float],
) -> tuple[np.ndarray, SolveResult]:
    """--relax: the least-violation integer plan (elastic MIP over the LP's pool)."""
    from territory_planner.optimize import formulation

    pool = np.zeros(spec.allowed.shape, dtype=bool)
    pool[lp.col_unit, lp.col_rep] = True
    col_unit, col_rep = np.nonzero(pool)
    form = formulation.build(
        spec,
        col_unit,
        col_rep,
        integer=True,
        elastic=True,
        slack_price=lpmod.slack_prices(spec),
        name="relaxed",
    )
    out = backend.solve(
        form.prob,
        form.variables,
        form.constraints,
        mip=True,
        time_limit=max(deadline - time.perf_counter(), 1.0),
        gap=1e-3,
        seed=seed,
        threads=threads,
    )
    if not out.has_solution:
        raise InfeasibleError("infeasible, and no least-violation plan was found in time", conflicts)
    x = out.values[: form.n_cols] > 0.5
    unit_rep = np.full(spec.problem.n_units, -1, dtype=np.int64)
    unit_rep[col_unit[x]] = col_rep[x]
    p = spec.problem
    violations = []
    for r, v in zip(form.slack_rows, out.values[form.n_cols :], strict=False):
        if v > 1e-6:
            info = form.rows[r]
            violations.append(
                {
                    "constraint": info.family,
                    "rep_id": str(p.rep_ids[info.rep]) if info.rep >= 0 else "",
                    "measure": p.measures[info.measure] if info.measure >= 0 else "",
                    "violation": float(v),
                }
            )
    compact = float(spec.cost[np.arange(len(unit_rep)), unit_rep].sum())
    objective = float(spec.objective[np.arange(len(unit_rep)), unit_rep].sum())
    return unit_rep, SolveResult(
        status="relaxed",
        proven_optimal=False,
        objective=objective,
        compactness=compact,
        lower_bound=float("nan"),
        gap=float("nan"),
        seconds=time.perf_counter() - start,
        solver=backend.version(),
        method="elastic-mip",
        stages=stages,
        notes=(
            "RELAXED PLAN: the model is infeasible; this plan violates the constraints listed in violations",
        ),
        violations=tuple(violations),
    )
