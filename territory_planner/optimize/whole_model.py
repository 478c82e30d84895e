"""The whole-model stage: the model as one MIP with the time left (every allowed pair when affordable,
else the pairs the LP ranks best), its elastic form started from a near-plan, and the wait on the whole
model beside when it is already running. ``_elastic_mip`` is also the --relax path's MIP.

Split from ``pipeline`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pulp

from territory_planner.optimize import construct, repair
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.beside import _race_beside
from territory_planner.optimize.first_plan import _mark_support
from territory_planner.optimize.no_plan import _whole_infeasible
from territory_planner.optimize.run_state import (
    OPTIMALITY_TOL,
    WHOLE_MODEL_PAIRS,
    Run,
    _affordable_pairs,
    _mip_fits,
    _whole_affordable,
)
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import SolveOutcome, SolveStatus

ELASTIC_SHARE = 0.6  # of the whole model's time, for its elastic form started from the best near-plan
WHOLE_WITH_PLAN_SHARE = 0.3  # of the time left: the whole model once a plan exists (then the search)


def stage_whole(run: Run) -> None:
    """The whole model as one MIP with all the time left: every allowed pair when that is affordable,
    else the pairs the LP's reduced costs rank best for each unit (and its current and LP reps), with the
    best partial assignment as a start. Only a whole model over every pair can prove infeasibility."""
    spec = run.spec
    p = spec.problem
    if run.budget.expired(0.5):
        return
    with run.stage("whole_model"):
        n_pairs = int(spec.allowed.sum())
        affordable = _affordable_pairs(run)
        if not _whole_affordable(run):
            run.outcome(f"skipped: {run.budget.remaining():.1f}s left cannot build the model")
            return
        every = n_pairs <= min(WHOLE_MODEL_PAIRS, affordable)
        if every:
            cols = spec.allowed.copy()
        else:
            k = max(2, min(p.n_reps, min(WHOLE_MODEL_PAIRS, affordable) // max(p.n_units, 1)))
            if run.lp is None:  # no reduced costs: the cheapest reps, and the reps that can fill a band
                cols = construct.candidate_reps(spec, max(2, k // 2))
                if int(cols.sum()) > min(WHOLE_MODEL_PAIRS, affordable):  # reaching pairs do not fit
                    cols = construct.candidate_reps(spec, k, reach=False)
            else:
                d = repair.delta(run.lp, moves=False)
                near = np.argpartition(d, k - 1, axis=1)[:, :k] if k < p.n_reps else None
                cols = np.zeros_like(spec.allowed)
                if near is None:
                    cols[:] = True
                else:
                    cols[np.arange(p.n_units)[:, None], near] = True
                _mark_support(cols, run.lp)
            if run.partial is not None:
                cols[np.arange(p.n_units), run.partial] = True
            if run.current_unit_rep is not None:
                ok = run.current_unit_rep >= 0
                cols[np.flatnonzero(ok), run.current_unit_rep[ok]] = True
            cols &= spec.allowed
        start = run.partial
        if start is not None and not cols[np.arange(p.n_units), start].all():
            start = None
        run.progress(f"whole model: {int(cols.sum()):,} pairs, {run.budget.remaining():.0f}s left")
        free = np.arange(p.n_units)
        fixed_none = np.full(p.n_units, -1, dtype=np.int64)
        res = repair.MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 0.0)
        if spec.budget is not None:
            # a budget close to the least share makes any plan hard to find: the whole model with moved
            # potential as its objective finds one first (its own objective is irrelevant here)
            moving = dataclasses.replace(spec, cost=spec.moved, disruption_price=0.0)
            res = repair._solve_restricted(
                moving,
                run.backend,
                cols,
                fixed_none,
                free,
                deadline=time.perf_counter() + 0.5 * run.budget.remaining(),
                gap=1.0,
                seed=run.seed,
                threads=run.threads,
                name="whole_least_moving",
                solution_limit=1,
            )
            if run.offer(res.unit_rep, "whole_model"):
                start = run.incumbent
                run.progress(f"plan found by the least-moving whole model: objective {run.upper:,.1f}")
        if run.beside is not None:  # the whole model has been running beside since the prechecks
            if run.incumbent is None:  # it has the time plain HiGHS would; this thread would only wait
                began = run.beside.started
                raced = _race_beside(run, run.beside)
                if run.incumbent is not None:
                    run.outcome("plan from the whole model beside" + (f" ({raced})" if raced else ""))
                else:  # what the time went to: QA79 read "no plan" as if the member beside had not run
                    ran = time.perf_counter() - began
                    run.outcome(
                        f"no plan: the whole model beside found none in its {ran:.1f}s"
                        + (f"; {raced}" if raced else "")
                    )
            else:
                run.outcome("plan; the whole model goes on beside the search")
            return
        if run.incumbent is None and start is not None:
            # a near-plan (a few band rows short) is no MIP start for the model, but it is one for the
            # elastic model, whose heuristics then work from it towards zero violation
            _elastic_whole(run, cols, start, time.perf_counter() + ELASTIC_SHARE * run.budget.remaining())
            if run.incumbent is not None:
                start = run.incumbent
        if not _mip_fits(run, int(cols.sum())):
            left = run.budget.remaining()
            run.outcome(f"stopped: {left:.1f}s left cannot build and presolve the model again")
            return
        # from a plan, the whole model's tree search is one member of the portfolio: it gets a share,
        # then the neighbourhood search works from its best plan, then the exact MIP again
        with_plan = run.incumbent is not None and run.lp is not None
        res = repair._solve_restricted(
            spec,
            run.backend,
            cols,
            fixed_none,
            free,
            deadline=time.perf_counter() + WHOLE_WITH_PLAN_SHARE * run.budget.remaining()
            if with_plan
            else run.deadline,
            gap=max(run.gap, OPTIMALITY_TOL),
            seed=run.seed,
            threads=run.threads,
            name="whole",
            incumbent=start,
        )
        if every and res.status == SolveStatus.INFEASIBLE:
            run.outcome("proven infeasible")
            raise _whole_infeasible(spec, run.moved_least)
        if run.offer(res.unit_rep, "whole_model"):
            run.progress(f"plan found by the whole model: objective {run.upper:,.1f}")
        if every:  # a bound on the whole model
            run.raise_bound(res.bound)
            if res.status == SolveStatus.OPTIMAL and run.source == "whole_model":
                run.proven = True
        run.whole_unproven = with_plan and res.status not in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)
        run.outcome(f"{res.status.value}, {int(cols.sum()):,} pairs" + ("" if every else " (pruned)"))


def _elastic_whole(run: Run, cols: np.ndarray, start: np.ndarray, deadline: float) -> None:
    """Phase 1 of the whole model: its elastic form (band rows may give, at a price) with the violation
    as the only objective, started from the near-plan ``start``. Any solution with no violation left is
    optimal for it, so HiGHS stops at the first plan; the plain model then improves that plan. Its bound
    proves nothing about the plan's objective and is not used."""
    violation_only = run.spec.without_objective()
    _, unit_rep = _elastic_mip(
        run,
        violation_only,
        cols,
        start,
        name="elastic",
        deadline=deadline,
        gap=max(run.gap, OPTIMALITY_TOL),
    )
    if unit_rep is not None and (unit_rep >= 0).all() and run.offer(unit_rep, "whole_model"):
        run.progress(f"plan found by the elastic whole model (phase 1): objective {run.upper:,.1f}")


def _elastic_mip(
    run: Run,
    spec: ModelSpec,
    cols: np.ndarray,
    start: np.ndarray | None,
    *,
    name: str,
    deadline: float,
    gap: float,
    prices: dict[str, np.ndarray] | None = None,
    cap_at_start: bool = False,
) -> tuple[SolveOutcome, np.ndarray | None]:
    """The elastic MIP of ``spec`` over the pairs ``cols`` (every band row may give, at the real model's
    slack prices or ``prices``), started from ``start`` with the slacks it needs; HiGHS's outcome (status,
    objective, bound) and the assignment (-1: a unit with no column at 1). ``cap_at_start``: the violation
    (the priced slacks) may not exceed the start's."""
    from territory_planner.optimize import formulation

    col_unit, col_rep = np.nonzero(cols)
    form = formulation.build(
        spec,
        col_unit,
        col_rep,
        integer=True,
        elastic=True,
        slack_price=prices if prices is not None else lpmod.slack_prices(run.spec),
        name=name,
    )
    warm = (
        None if start is None else formulation.elastic_start(form, (start[col_unit] == col_rep).astype(float))
    )
    if cap_at_start and warm is not None:
        cost = {id(v): c for v, c in form.prob.objective.items()}
        priced = [(s, cost.get(id(s), 0.0)) for s in form.variables[form.n_cols :]]
        violation = float(sum(c * warm[form.n_cols + k] for k, (_, c) in enumerate(priced)))
        limit = violation * (1 + 1e-9) + 1e-9
        cap = pulp.LpConstraint(pulp.LpAffineExpression(priced), pulp.LpConstraintLE, "violation_cap", limit)
        form.prob += cap
        form.constraints.append(cap)
    out = run.backend.solve(
        form.prob,
        form.variables,
        form.constraints,
        mip=True,
        time_limit=max(deadline - time.perf_counter(), 0.5),  # building the model took time too
        gap=gap,
        seed=run.seed,
        threads=run.threads,
        start=warm,
    )
    if not out.has_solution:
        return out, None
    x = out.values[: form.n_cols] > 0.5
    unit_rep = np.full(spec.problem.n_units, -1, dtype=np.int64)
    unit_rep[col_unit[x]] = col_rep[x]
    return out, unit_rep
