"""The stages that look for a first plan from the LP: the balancing search from the LP's rounding (or
another start), its retries from LPs with narrower bands, the search that goes on with the time left,
and the rounding by neighbourhood MIPs with the mends of the search's best assignment.

Split from ``pipeline`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from territory_planner.errors import SolverError
from territory_planner.optimize import construct, repair
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.bound_stages import REGION_REPS, _narrowed
from territory_planner.optimize.run_state import EXACT_PAIRS, OPTIMALITY_TOL, Run, _whole_affordable
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.optimize.spec import ModelSpec, band_rows
from territory_planner.solvers.base import SolveStatus

ROUND_GAP = 0.01  # on a model of at most EXACT_PAIRS, the rounding MIPs stop within a quarter of this
SEARCH_CANDIDATES = 10  # reps per unit the balancing search may move it to (plus the LP's support)
TINY_SEARCH_SHARE = 0.05  # of the time left: the one balancing search on a model of at most SMALL_PAIRS
NO_LP_SEARCH_SHARE = 0.5  # of the time left: the balancing search when there is no LP to round
IMPROVE_RESERVE = 0.1  # of the time left, kept for improving a plan the last balancing search finds
WIDE_MARGINS = (0.3, 0.15)  # further narrowings tried when the first LP's rounding cannot be balanced


def stage_construct(run: Run) -> None:
    """Round the LP (or take today's alignment, or the nearest reps) and search for balance."""
    spec = run.spec
    p = spec.problem
    with run.stage("construct"):
        extra = np.zeros((p.n_units, p.n_reps), dtype=bool)
        if run.lp is not None and run.lp is run.cluster_lp and run.cluster_plan is not None:
            start, origin = run.cluster_plan, "the LP over clusters, in whole accounts"
            _mark_support(extra, run.lp)
        elif run.lp is not None:
            start, origin = _lp_start(spec, run.lp, extra), "the LP rounding"
        elif run.moved_lp is not None:
            # the LP did not solve in its time, the budget check's least-moving LP did: with a budget near
            # the least share, its rounding is the start that moves little (from today's alignment, 3,142
            # counties x 40 reps at --max-moved-share 0.45 and --relax, 12 s: 39 targets of violation left)
            start, origin = _lp_start(spec, run.moved_lp, extra), "the least-moving LP"
        elif construct.current_plan(spec, run.current_unit_rep) is not None:
            assert run.current_unit_rep is not None
            start, origin = run.current_unit_rep.astype(np.int64), run.current_name
        elif run.estimate is not None:
            # no LP, but prices from the clustered LP: the capacity-aware greedy ranks each unit's reps by
            # the reduced costs at those prices (the cheapest rep alone piles ties onto one rep), and each
            # unit's two best reps are candidates
            rc, _ = lpmod.lagrangian(spec, run.estimate)
            two = (
                np.argpartition(rc, 1, axis=1)[:, :2]
                if p.n_reps > 2
                else np.tile(np.arange(p.n_reps), (p.n_units, 1))
            )
            extra[np.arange(p.n_units)[:, None], two] = True
            start, origin = construct.greedy_plan(spec, rank=rc), "the clustered LP's prices"
        else:
            start, origin = construct.greedy_plan(spec), "the capacity-aware nearest reps"
        if run.current_unit_rep is not None:
            ok = run.current_unit_rep >= 0
            extra[np.flatnonzero(ok), run.current_unit_rep[ok]] = True
        cand = construct.candidate_reps(spec, SEARCH_CANDIDATES, extra)
        run.progress(f"balancing search from {origin}")
        stage_end = run.budget.share("construct")  # every try of this stage ends by then
        first_end = time.perf_counter() + 0.5 * (stage_end - time.perf_counter())
        tiny = int(spec.allowed.sum()) <= SMALL_PAIRS  # HiGHS takes the whole model: one short search
        if tiny:
            first_end = min(first_end, time.perf_counter() + TINY_SEARCH_SHARE * run.budget.remaining())
        elif run.lp is None:  # nothing to round: the search is the main way to a plan (it stops at one)
            first_end = time.perf_counter() + NO_LP_SEARCH_SHARE * run.budget.remaining()
        plan, violation = construct.balance_search(spec, start, cand, deadline=first_end)
        found = run.offer(plan, "construct")
        best_plan, best_violation = plan, violation
        if not found and run.lp is None and not _whole_affordable(run) and not run.budget.expired():
            # no LP to round and no whole model to hand over: the search is the only way to a plan left,
            # so it goes on from its best plan with the time the later stages could not use
            run.progress("balancing search: no LP, so it keeps the time left")
            plan, violation = construct.balance_search(
                spec, best_plan, cand, deadline=run.budget.deadline - IMPROVE_RESERVE * run.budget.remaining()
            )
            found = run.offer(plan, "construct")
            if violation < best_violation:
                best_plan, best_violation = plan, violation
        # lumpy accounts: a rounding that broke a band by more than the LP's margin; an LP with bands
        # narrowed further leaves each rep more room to absorb a whole account
        # with a disruption budget, the least-moving LP's rounding starts from a plan that moves little; on a
        # tiny model too (the narrowed LPs are left to the whole model there): with a budget just above the
        # least share, the travel LP's rounding moves too much for any mend, and HiGHS's first plan is a
        # matter of its path (QA16: 735 Spanish cities x 12 reps, budget 0.13 points above the least share,
        # 8 s: exit 3 in 9 runs of 9 before, a plan in 4 of 5 after; 269 Nigerian cities x 25 reps at 20 s:
        # a plan with seeds 0 and 1, exit 3 with seed 0 before)
        tries: list[tuple[float, lpmod.LpResult | None]] = [(-1.0, run.moved_lp)] if run.moved_lp else []
        tries += [(m, None) for m in WIDE_MARGINS]
        small = int(spec.allowed.sum()) <= EXACT_PAIRS  # the whole model will do better: keep tries short
        for margin, given in tries:
            if found or run.lp is None or violation <= 0 or run.budget.expired(1.0):
                break
            if tiny and margin >= 0:
                break
            if not small:  # each retry gets its own share of the time left
                stage_end = run.budget.share("construct")
            try:
                wide = given if given is not None else _wide_lp(run, margin, stage_end)
            except SolverError:
                break
            if wide is None:
                break
            start = _lp_start(spec, wide, extra)
            cand = construct.candidate_reps(spec, SEARCH_CANDIDATES, extra)
            what = (
                "the least-moving LP" if margin < 0 else f"an LP with bands narrowed by {100 * margin:.0f}%"
            )
            run.progress(f"balancing search from {what}")
            plan, violation = construct.balance_search(spec, start, cand, deadline=stage_end)
            found = run.offer(plan, "construct")
            origin = what
            if violation < best_violation:
                best_plan, best_violation = plan, violation
        if found:  # the search stops at the first balanced plan: shorten its travel, keeping every row
            assert run.incumbent is not None
            run.offer(construct.travel_descent(spec, run.incumbent, cand, deadline=stage_end), "construct")
            run.progress(f"plan found by the balancing search: objective {run.upper:,.1f}")
            run.outcome(f"plan from {origin}")
        else:
            run.partial = best_plan if run.partial is None else run.partial
            run.outcome(f"from {origin}: {best_violation:.3g} targets of violation left")


def _lp_start(spec: ModelSpec, lp: lpmod.LpResult, extra: np.ndarray) -> np.ndarray:
    """The balancing search's start from an LP: its rounding, a unit it splits at its nearest rep; the
    LP's support joins the search's candidate pairs (``extra``)."""
    start, _ = repair.lp_assignment(spec, lp)
    _mark_support(extra, lp)
    return np.where(start >= 0, start, construct.nearest_plan(spec))


def stage_search_rest(run: Run) -> None:
    """No plan after every stage, and time left (the whole model could not be built in it, QA5: 33,791
    ZIPs x 150 reps ended 8 s early with no plan): the balancing search goes on from its best assignment
    until the deadline, keeping a tenth of the time left for improving a plan it finds."""
    if run.partial is None or run.budget.expired(2.0):
        return
    spec = run.spec
    p = spec.problem
    with run.stage("search_rest"):
        extra = np.zeros((p.n_units, p.n_reps), dtype=bool)
        if run.lp is not None:
            _mark_support(extra, run.lp)
        cand = construct.candidate_reps(spec, SEARCH_CANDIDATES, extra)
        before = construct.violation_of(spec, run.partial)
        run.progress(f"balancing search goes on with the time left ({before:.3g} targets of violation)")
        deadline = run.budget.deadline - IMPROVE_RESERVE * run.budget.remaining()
        plan, violation = construct.balance_search(spec, run.partial, cand, deadline=deadline)
        if run.offer(plan, "construct"):
            run.progress(f"plan found by the balancing search: objective {run.upper:,.1f}")
            run.outcome("plan")
            return
        if violation < before:
            run.partial = plan
        run.outcome(f"{min(violation, before):.3g} targets of violation left")


def _mark_support(pairs: np.ndarray, lp: lpmod.LpResult) -> None:
    """Set the (unit, rep) pairs of ``lp``'s solution (its support) in the bool matrix ``pairs``."""
    used = lp.x > 1e-9
    pairs[lp.col_unit[used], lp.col_rep[used]] = True


def _wide_lp(run: Run, margin: float, deadline: float) -> lpmod.LpResult | None:
    """The LP over the first LP's columns (priced to convergence) with bands narrowed by ``margin``;
    None when those bands leave no fractional plan."""
    assert run.lp is not None
    spec = run.spec
    pool = np.zeros_like(spec.allowed)
    pool[run.lp.col_unit, run.lp.col_rep] = True
    lp = lpmod.solve_lp(
        _narrowed(spec, margin),
        run.backend,
        pool,
        deadline=deadline,
        seed=run.seed,
        threads=run.threads,
        stop_gap=max(run.gap, 0.01),
        escalate=False,
    )
    return None if lp.slack_total > 1e-6 else lp


def stage_round(run: Run) -> None:
    """Decomposition: round the LP with neighbourhood MIPs (region by region when there are many reps)."""
    if run.lp is None or run.budget.expired(0.5):
        return
    spec = run.spec
    with run.stage("round"):
        # with a plan already (the balancing search's), the rounding is a second start, not the way to a
        # first plan: a smaller share, so the neighbourhood search keeps more time
        deadline = run.budget.share("round" if run.incumbent is None else "round_with_plan")
        small = int(spec.allowed.sum()) <= EXACT_PAIRS
        if small:  # a small model: the whole model is the better tool, and the mend of a near-plan the
            # other member of the portfolio (the whole model runs beside, or after it without a plan)
            deadline = run.budget.share("mend_small" if run.incumbent is None else "round_small")
        # on a small model the rounding is a start for the search and the exact MIP, which prove: it stops
        # at a quarter of ROUND_GAP (ma-cities-5, superstore-10: the first plan in 0.5-2 s, not 3.5 s)
        rel_gap = max(run.gap, OPTIMALITY_TOL, ROUND_GAP if small else 0.0)
        abs_gap = rel_gap * max(abs(run.bound), 1.0) * 0.25
        if run.incumbent is None:
            if run.partial is not None:  # the console said nothing for the mends' seconds (QA79: 14.5 s)
                left = construct.violation_of(spec, run.partial)
                run.progress(f"mending the search's best assignment ({left:.3g} targets of violation)")
                if _mend_in_groups(run):
                    run.outcome("plan from mending the search's best assignment, a few reps at a time")
                    return
            # the search's best assignment, a few bands short, is mended by a small MIP around the reps
            # that break them (seconds), on a tiny model too: the whole model beside may take long to
            # find a first plan (a loaded machine left 692 French cities x 10 reps without one in 20 s)
            if run.partial is not None and _mend_partial(run, run.partial, deadline, abs_gap):
                run.outcome("plan from mending the search's best assignment")
                return
            # the outcome says what the time went to: the mends of the search's best assignment, when
            # they ran and found nothing (QA16 F4: "tiny model: ..." read as if the stage had been skipped)
            mended = "mending the search's best assignment found no plan; " if run.partial is not None else ""
            if int(spec.allowed.sum()) <= SMALL_PAIRS:
                run.outcome(f"{mended}tiny model: the rounding is left to the whole model")
                return
            if int(spec.allowed.sum()) <= EXACT_PAIRS:
                run.outcome(f"{mended}small model: the rounding is left to the whole model")
                return
        res = repair.MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 0.0)
        regions = spec.problem.n_reps > REGION_REPS
        run.progress("rounding the LP with neighbourhood MIPs" + (", region by region" if regions else ""))
        kw: dict[str, Any] = {
            "deadline": deadline,
            "seed": run.seed,
            "threads": run.threads,
            "abs_gap": abs_gap,
        }
        if regions:
            res = repair.repair_by_regions(spec, run.lp, run.backend, max_reps=REGION_REPS, **kw)
        if res.unit_rep is None:
            res = repair.repair(spec, run.lp, run.backend, **kw)
        if run.offer(res.unit_rep, "round"):
            run.progress(f"plan found by rounding: objective {run.upper:,.1f}")


def _mend_in_groups(run: Run) -> bool:
    """The search's best assignment mended a few reps at a time (``repair.mend_in_groups``); a plan is
    offered, a smaller violation kept as the next mend's start."""
    assert run.partial is not None
    mended = repair.mend_in_groups(
        run.spec, run.partial, run.backend, deadline=run.budget.share("mend_groups"), seed=run.seed,
        threads=run.threads,
    )  # fmt: skip
    if run.offer(mended, "round"):
        run.progress(f"plan found by mending the search's assignment in small groups: {run.upper:,.1f}")
        return True
    run.partial = mended  # the input when nothing helped
    return False


def _mend_partial(run: Run, partial: np.ndarray, deadline: float, abs_gap: float) -> bool:
    """The balancing search's best assignment breaks a few bands: re-solve the boundary units of the reps
    that break them and of their neighbours as one MIP (everything else fixed), with more neighbours
    each time it fails."""
    assert run.lp is not None
    spec = run.spec
    state = construct._State(spec, band_rows(spec), partial)
    bad = np.flatnonzero(state.rep_violation() > construct.EPS)
    if not len(bad) or len(bad) > 10:
        return False
    for k in (3, 6):
        if time.perf_counter() > deadline:
            return False
        near = repair.rep_neighbours(spec, partial, k)
        cluster = np.unique(np.concatenate([bad, near[bad].ravel()]))
        res = repair.improve_cluster(
            spec,
            run.lp,
            partial,
            cluster,
            run.backend,
            max_units=min(3000, 120 * len(cluster)),
            deadline=deadline,
            seed=run.seed,
            threads=run.threads,
            abs_gap=abs_gap,
            time_cap=max(1.0, deadline - time.perf_counter()),
        )
        if run.offer(res.unit_rep, "round"):
            return True
    return False
