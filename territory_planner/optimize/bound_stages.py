"""The pipeline's first stages, before any search: the pre-checks' cheap proofs, the disruption
budget's least-moved bound, today's alignment as a plan to beat, and the LP relaxation (the lower bound
and the guide of every later stage, with its infeasibility proof when it needs slack); and the
promise check that ends a run with no plan once no further stage may start.

Split from ``pipeline`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError, SolverError
from territory_planner.optimize import aggregate, construct, hierarchy, prechecks, proofs
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.beside import _poll_beside
from territory_planner.optimize.run_state import Run, _PastPromiseError
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import counted

REGION_REPS = 25  # above this many reps, the LP is rounded region by region
# the LP that guides rounding is solved with each band narrowed by this share of its width on both
# sides, so its vertex leaves room to round whole units; the bound is still that of the real bands
BAND_MARGIN = 0.05


def _narrowed(spec: ModelSpec, margin: float) -> ModelSpec:
    """The same model with every band narrowed by ``margin`` of its width on each side (a restriction)."""
    width = spec.upper - spec.lower
    narrow = dataclasses.replace(spec, lower=spec.lower + margin * width, upper=spec.upper - margin * width)
    return hierarchy.narrowed_spec(narrow, margin)


def _keep_promise(run: Run) -> None:
    """Ends the search when it has no plan yet and any further stage would run past the moment the
    command must end by to keep ``--time-limit`` (QA28 F7: at --time-limit 1, an LP round begun after
    the inputs took 1.7 s made the command 4.2 s long where 3.05 s were promised): exit 3 now."""
    if run.incumbent is None and run.budget.past_last():
        _poll_beside(run)  # the whole model beside may have a plan (or a proof) by now
        if run.incumbent is None:
            run.outcome("stopped: the time limit is up")
            raise _PastPromiseError


def stage_prechecks(run: Run) -> None:
    """Cheap proofs of infeasibility, with numbers (with --relax, ``solve`` turns them into the
    least-violation plan)."""
    with run.stage("prechecks"):
        conflicts = prechecks.check(run.spec, fit_deadline=run.budget.share("unit_fit"))
        run.outcome(f"{len(conflicts)} conflict(s)" if conflicts else "passed")
    if conflicts:
        conflicts += _budget_too(run, conflicts)
        cleared = proofs.keep_home_cleared(
            run.spec, run.backend, deadline=run.budget.share("proof"), seed=run.seed
        )
        raise InfeasibleError("no plan can satisfy the model (found before solving)", conflicts, cleared)


def _budget_too(run: Run, conflicts: list[Conflict]) -> list[Conflict]:
    """With pre-check conflicts (an account that fits in no band, ...) and a disruption budget they do
    not name: whether the budget is too small as well, by the same LP bound as the budget check, so one
    run names both (fz4-07: Georgia counties with a budget below the least share were refused for an
    account alone; with that fixed, the next run refused the budget). Nothing when the LP says nothing."""
    spec = run.spec
    total = float(spec.problem.acc_potential.sum())
    if spec.budget is None or total <= 0 or any(c.family == "disruption_budget" for c in conflicts):
        return []
    least = proofs.least_moved(
        spec, run.backend, deadline=run.budget.share("proof"), seed=run.seed, threads=run.threads
    )
    if least is None or not proofs.above_budget(spec, least[0]):
        return []
    deadline = run.budget.share("proof")
    err = proofs.budget_error(
        spec, least[0], run.backend, deadline=deadline, seed=run.seed, threads=run.threads
    )
    return list(err.conflicts)


def stage_budget(run: Run) -> None:
    """With a disruption budget and no plan within it yet: the least share of potential that balancing
    must move (a Lagrangian bound of the min-moved LP). Above the budget it is a proof, found before the
    LP with its slack; below, it is noted, so the planner knows how much room the budget leaves."""
    spec = run.spec
    total = float(spec.problem.acc_potential.sum())
    if spec.budget is None or total <= 0 or run.incumbent is not None:
        return
    with run.stage("budget_check"):
        least = proofs.least_moved(
            spec, run.backend, deadline=run.budget.share("proof"), seed=run.seed, threads=run.threads
        )
        if least is None or least[0] <= 0:
            run.outcome("no useful bound in time")
            return
        run.moved_lp, run.moved_least = least[1], least[0]
        if proofs.above_budget(spec, least[0]):
            run.outcome("proven infeasible")
            raise proofs.budget_error(
                spec, least[0], run.backend, deadline=run.budget.share("proof"), seed=run.seed,
                threads=run.threads,
            )  # fmt: skip
        run.notes.append(
            f"balancing needs at least {100 * least[0] / total:.1f}% of the potential to move; the budget "
            f"allows {100 * spec.budget / total:.1f}%"
        )
        run.outcome(f"least moved share {least[0] / total:.4f} <= budget {spec.budget / total:.4f}")


def stage_current(run: Run) -> None:
    """Today's alignment, when it already satisfies the model, is a plan to beat."""
    plan = construct.current_plan(run.spec, run.current_unit_rep)
    if plan is None:
        return
    with run.stage("current_alignment"):
        if run.offer(plan, "current_alignment"):
            run.progress(f"{run.current_name} satisfies the model: objective {run.upper:,.1f}")
        else:
            run.outcome("does not satisfy the model")


def stage_lp(run: Run) -> None:
    """The LP relaxation by column generation: the lower bound and the guide for every later stage."""
    spec = run.spec
    with run.stage("lp"):
        run.progress("solving the LP relaxation (column generation)")
        lp_deadline = run.budget.share("lp")
        try:
            lp = _solve_lp(run, lp_deadline)
        except SolverError as err:  # no LP at all: the other stages still look for a plan
            if run.cluster_lp is not None:
                # the clustered LP's solution is a solution of the full LP, and its duals' Lagrangian
                # bound is valid: it guides the later stages in the full LP's place
                run.lp = run.cluster_lp
                run.raise_bound(run.lp.bound)
                run.notes.append(
                    f"the LP relaxation did not solve in its time ({err}); the later stages use the LP over "
                    "clusters of accounts, and the lower bound is the Lagrangian bound of its duals"
                )
                run.outcome(f"stopped: {err}; the LP over clusters, Lagrangian bound {run.lp.bound:,.1f}")
                return
            if run.estimate is None:
                run.notes.append(f"the LP relaxation did not solve ({err}); no bound from it")
                run.outcome(f"failed: {err}")
                return
            # the clustered LP's duals still give a valid (Lagrangian) bound on the full model
            _, bound = lpmod.lagrangian(spec, run.estimate)
            run.raise_bound(bound)
            run.notes.append(
                f"the LP relaxation did not solve ({err}); the lower bound is the Lagrangian bound of "
                "the clustered LP's duals"
            )
            run.outcome(f"failed: {err}; Lagrangian bound {bound:,.1f} from the clustered LP's duals")
            return
        run.lp = lp
        if not lp.converged:
            run.notes.append(
                f"column generation stopped after {counted(lp.rounds, 'round')} before converging; the lower "
                "bound is the Lagrangian bound of the best duals"
            )
        if lp.slack_total <= 1e-6:
            run.raise_bound(lp.bound)
            run.outcome(f"bound {lp.bound:,.1f} after {counted(lp.rounds, 'round')}")
        elif lp.converged:
            run.outcome("needed slack: the bands may not be reachable")
        else:
            run.outcome("stopped before converging, with rows still short")
    if lp.slack_total > 1e-6 and run.budget.expired():
        # the proof's LPs take a second or more to set up on a large model: begun with the time up, they
        # ran past the command's promise (QA34 F2: 1.25 s at --time-limit 5 on 3,142 counties)
        run.notes.append("the LP needed slack (the bands may not be reachable); no time was left to prove it")
    elif lp.slack_total > 1e-6:
        _keep_promise(run)  # slack in an LP cut short by the promise proves nothing either
        with run.stage("proof"):
            try:
                why = proofs.prove_infeasible(
                    spec,
                    run.backend,
                    lp,
                    deadline=run.budget.share("proof"),
                    seed=run.seed,
                    threads=run.threads,
                )
            except InfeasibleError:
                run.outcome("proven infeasible")
                raise
            run.notes.append(why)
            run.outcome(why)


def _solve_lp(run: Run, deadline: float) -> lpmod.LpResult:
    spec = run.spec
    pool = lpmod.initial_candidates(spec, run.candidates, run.current_unit_rep)
    duals = None
    first_method = "simplex"
    if aggregate.applies(spec.problem.n_units, spec.problem.n_reps, lpmod.LARGE_UNITS):
        # large instance: duals of the LP over clusters of units (``aggregate``) pick the pool and give
        # a first bound; pricing over all pairs then makes the LP exact
        run.progress("estimating duals from the LP over clusters of accounts")
        estimate = aggregate.aggregated_duals(
            spec,
            run.backend,
            seed=run.seed,
            threads=run.threads,
            deadline=deadline,
            candidates=run.candidates,
            stop_gap=run.gap / 4,
        )
        if estimate is not None:
            duals = estimate.duals
            # duals of a clustered LP that still needed slack price the slack, not the bands: they pick a
            # pool but are no start plan
            run.estimate = duals if estimate.clean else None
            run.cluster_lp, run.cluster_plan = estimate.lp, estimate.plan
            run.notes.append(
                f"the LP started from the LP over {estimate.clusters:,} clusters of accounts"
                + ("" if estimate.clean else " (which needed slack: its duals only chose the first columns)")
            )
            # the two best reps of every unit by those duals (and its current rep) hold nearly all of the
            # LP's support; one interior-point solve of that master replaces many simplex rounds. The
            # clustered solution's columns make the first master feasible without slack.
            pool = lpmod.priced_candidates(spec, duals, 2, 0, run.current_unit_rep)
            if estimate.lp is not None:
                pool[estimate.lp.col_unit, estimate.lp.col_rep] = True
            first_method = "ipm"
        # the full LP's first master takes seconds to build and solve on such a model: begun past the
        # command's promise it overran it (QA77: 20,000 ZIPs x 100 reps at --time-limit 5, the inputs read
        # by 4.1 s, the clustered LP over at 6.7 s and the full one at 9.2 s, where 7.25 s were promised)
        _keep_promise(run)  # no plan yet: the run ends here
        if run.budget.past_last() or time.perf_counter() >= deadline:
            # the clustered LP used the stage's time: the full LP's first master alone takes seconds to
            # build on such a model (33,300 ZIPs x 200 reps at 12 s: the clustered LP stopped at 11.0 s,
            # the full LP's setup ran to 13.7 s); with a plan (today's alignment) the clustered LP, if
            # any, guides what follows. A small model's LP round may still run past the deadline (until
            # the promise): it takes a moment
            raise SolverError("its time was up before the full LP's first round")
    # the LP only needs to be as exact as the gap asked for: stop column generation once its bound is
    # within a quarter of that gap of the master's value (the bound stays valid for the full model).
    # An LP vertex leaves most reps exactly on a band edge, with no room to round; the LP is solved with
    # narrowed bands (its solution fits the real bands with room to spare) while the bound is computed
    # for the real bands (reduced costs do not depend on the bands).
    lp_spec = _narrowed(spec, BAND_MARGIN) if spec.problem.n_reps > REGION_REPS else spec
    lp = lpmod.solve_lp(
        lp_spec,
        run.backend,
        pool,
        deadline=deadline,
        seed=run.seed,
        threads=run.threads,
        progress=run.progress,
        stop_gap=run.gap / 4,
        smooth=0.5,
        first_method=first_method,
        bound_duals=duals,
        prices=None if duals is None else lpmod.prices_from(spec, duals),
        bound_spec=spec,
    )
    if lp.slack_total > 1e-6 and lp_spec is not spec:  # the narrower bands do not fit: the real ones decide
        _keep_promise(run)
        pool = np.zeros_like(spec.allowed)
        pool[lp.col_unit, lp.col_rep] = True
        lp = lpmod.solve_lp(
            spec,
            run.backend,
            pool,
            deadline=min(max(deadline, time.perf_counter() + 1.0), run.budget.last),
            seed=run.seed,
            threads=run.threads,
            progress=run.progress,
            stop_gap=run.gap / 4,
            smooth=0.5,
            escalate=False,  # the narrowed LP raised its prices already; slack here goes to the proof
        )
    return lp
