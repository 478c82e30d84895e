"""The improve / prove stage, once a plan exists: large-neighbourhood search around the reps with the
most excess reduced cost (sizes adapted step by step, the stopping gap cut when steps stall), the
exact MIP over the pairs reduced-cost fixing keeps, and the whole model beside's bound and plans.

Split from ``pipeline`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import time

import numpy as np

from territory_planner.optimize import repair
from territory_planner.optimize.beside import _collect_beside, _take_beside_plan
from territory_planner.optimize.run_state import (
    EXACT_PAIRS,
    OPTIMALITY_TOL,
    WHOLE_MODEL_PAIRS,
    Run,
    _mip_fits,
)
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import SolveStatus

LNS_SHARE = 0.7  # of the improve stage's time, on a model of at most EXACT_PAIRS (then the exact MIP)
MIN_LNS_UNITS = 20  # the search's neighbourhoods shrink down to this many free units when steps time out
BUDGET_TIGHT = 1e-3  # the disruption budget counts as used up within this share of it
BUDGET_PARTNER_REPS = 3  # reps added to a cluster to trade moves against (see _budget_partner)
STEP_GAP_RUN = 10  # neighbourhood steps in a row without a gain before their MIPs' stopping gap is cut
STEP_GAP_DIVISOR = 4.0
LNS_REPS = (3, 6, 12)  # neighbours per rep in the search's clusters, grown each time a pass finds nothing


def stage_improve(run: Run) -> None:
    """Improve the plan and prove its gap while the gap is above the target and time remains:
    reduced-cost fixing makes the exact MIP small enough, else large-neighbourhood search."""
    lp = run.lp
    if lp is None or run.incumbent is None or not np.isfinite(run.bound):
        return
    spec = run.spec
    p = spec.problem
    with run.stage("improve"):
        start_source, start_upper = run.source, run.upper
        abs_gap = max(run.gap, OPTIMALITY_TOL) * max(abs(run.bound), 1.0) * 0.25
        exact_units = max(300, p.n_units // 20)
        most_units = max(150, min(600, 3 * p.n_units // max(p.n_reps, 1)))
        lns_units = most_units  # adapted: halved after a step its time cap stopped, grown after a quick proof
        lns_queue: list[int] = []
        without_gain = 0
        # the absolute gap at which a neighbourhood's MIP stops: a quarter of the gap asked for at first,
        # divided by STEP_GAP_DIVISOR after each STEP_GAP_RUN steps in a row that ended at their plan with
        # room left below it (stopped by this gap, not by a proof), down to the
        # neighbourhood's own share of it (its reps of all): with the whole gap every step of a large
        # model stopped at its warm start (50,000 points x 200 reps at +-10%: 298 steps in 60 s, none
        # improving; with its share, 74 steps took the plan from 0.609% to 0.527% above the bound)
        step_gap, no_gain_run = abs_gap, 0
        sizes = [k for k in LNS_REPS if k < p.n_reps - 1] or [max(1, p.n_reps - 1)]
        size = 0  # index into sizes: the clusters grow each time a whole pass finds nothing
        neighbours = repair.rep_neighbours(spec, run.incumbent, sizes[size])
        # a model HiGHS can take whole: the neighbourhood search only gets a share of the time, then the
        # exact MIP warm-started from its plan (a search that keeps finding tiny gains never stalls)
        whole_ok = int(spec.allowed.sum()) <= EXACT_PAIRS
        lns_until = time.perf_counter() + LNS_SHARE * run.budget.remaining()
        beside = run.beside  # the whole model in HiGHS beside the search, on a second core
        if beside is not None:
            lns_until = run.deadline  # the search keeps its time: the exact MIP is already running
        while not run.done() and not run.budget.expired(0.2):
            if beside is not None:
                if not beside.running():
                    break  # HiGHS proved its gap (or stopped): nothing left to search for
                run.raise_bound(beside.bound)  # HiGHS's bound so far, with the search's plan
                _take_beside_plan(run, beside)  # and its best plan, when better: the search goes on from it
                if run.done():
                    break
            incumbent = run.incumbent
            assert incumbent is not None
            if without_gain >= p.n_reps and size + 1 < len(sizes):
                size, without_gain, lns_queue = size + 1, 0, []
            cols = repair.exact_columns(lp, incumbent, run.upper, run.bound)
            n_free = int((cols.sum(axis=1) > 1).sum())
            # the exact MIP over the pairs reduced-cost fixing keeps, warm-started from the plan: when
            # few units are free (unless the whole model has just had its turn), or once the
            # neighbourhood search stalls and the kept pairs are few enough to hand to HiGHS whole
            stalled = without_gain >= p.n_reps or (whole_ok and time.perf_counter() > lns_until)
            few_free = n_free <= exact_units and not run.whole_unproven
            # a search that stalls with time left hands the kept pairs to HiGHS whenever the time left
            # builds them (br-cities-60, 2,347 x 60 at +-3%: the search stalled at 26 s of a 60-s run)
            kept = int(cols.sum())
            fits = kept <= EXACT_PAIRS or (kept <= WHOLE_MODEL_PAIRS and _mip_fits(run, kept))
            if beside is None and (few_free or (stalled and fits)):
                run.progress(f"proving: reduced-cost fixing leaves {n_free:,} units free")
                ex = repair.exact(
                    spec,
                    lp,
                    incumbent,
                    run.upper,
                    run.bound,
                    run.backend,
                    deadline=run.deadline,
                    gap=max(run.gap, OPTIMALITY_TOL) * 0.5,
                    seed=run.seed,
                    threads=run.threads,
                )
                run.offer(ex.unit_rep, f"{start_source}+exact")
                run.raise_bound(ex.bound)
                if ex.status == SolveStatus.INFEASIBLE:  # no plan better than the incumbent exists
                    run.raise_bound(run.upper)
                run.proven = ex.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)
                break
            if stalled:
                break
            if not lns_queue:
                neighbours = repair.rep_neighbours(spec, incumbent, sizes[size])
                excess = np.bincount(
                    incumbent,
                    weights=repair.delta(lp, moves=True)[np.arange(len(incumbent)), incumbent],
                    minlength=p.n_reps,
                )
                lns_queue = [int(j) for j in np.argsort(-excess, kind="stable")]
            j = lns_queue.pop(0)
            cluster = np.unique(np.concatenate([[j], neighbours[j], _budget_partner(spec, incumbent, j)]))
            nb = repair.improve_cluster(
                spec,
                lp,
                incumbent,
                cluster,
                run.backend,
                max_units=lns_units,
                deadline=run.deadline,
                seed=run.seed,
                threads=run.threads,
                abs_gap=step_gap,
                time_cap=(cap := max(1.0, 0.1 * run.budget.remaining())),
                # the step stops when the whole model beside ends (a proof, mostly): 1.7 s of 3.4 on
                # 159 Georgia counties x 4 reps went to a step after HiGHS had proven the optimum
                cancel=None if beside is None else beside.ended,
            )
            lns_units = _adapt(lns_units, most_units, nb, cap)
            if nb.objective is not None and nb.objective < run.upper - 1e-6 * abs(run.upper):
                run.offer(nb.unit_rep, f"{start_source}+lns")
                without_gain = 0
                run.progress(f"improving: objective {run.upper:,.1f}, gap {100 * run.current_gap:.3f}%")
                no_gain_run = 0
            else:
                without_gain += 1
                # only a step that stopped with room below its plan counts: one that proved its plan the
                # neighbourhood's best would prove it at any gap (QA63 F6: on 2,000 cities x 30 reps at
                # +-3% the cuts slowed steps that had nothing to find, 0.007-0.024% worse at 20 s)
                no_gain_run += nb.room > step_gap / STEP_GAP_DIVISOR  # a smaller gap would go on
                if no_gain_run >= STEP_GAP_RUN:
                    step_gap = max(step_gap / STEP_GAP_DIVISOR, abs_gap * len(cluster) / p.n_reps)
                    no_gain_run = 0
        if beside is not None:
            _collect_beside(run, beside, start_source)
        run.outcome(f"objective {start_upper:,.1f} -> {run.upper:,.1f}, gap {100 * run.current_gap:.3f}%")


def _budget_partner(spec: ModelSpec, plan: np.ndarray, j: int) -> np.ndarray:
    """With the disruption budget used up, a cluster can only trade moves inside itself: HiGHS, over the
    whole model, hands an account back to its current rep in one region to pay for a better move in
    another. So the cluster of rep ``j`` gets a partner: of the reps holding at least the median moved
    potential (of those holding any), the one farthest from ``j`` (another region), with its nearest
    reps (``BUDGET_PARTNER_REPS`` in all). Empty when the budget has room or nobody else holds a move."""
    if spec.budget is None:
        return np.zeros(0, dtype=np.int64)
    units = np.arange(len(plan))
    moved = spec.moved[units, plan]
    if spec.budget - moved.sum() > _budget_step(spec, moved):
        return np.zeros(0, dtype=np.int64)
    held = np.bincount(plan, weights=moved, minlength=spec.problem.n_reps)
    held[j] = 0.0
    if not (held > 0).any():
        return np.zeros(0, dtype=np.int64)
    rich = np.flatnonzero(held >= np.median(held[held > 0]))
    # how far apart two reps are: how differently their homes' costs rank the accounts
    far = rich[int(np.argmax(np.abs(spec.cost[:, rich] - spec.cost[:, [j]]).mean(axis=0)))]
    near = np.argsort(np.abs(spec.cost - spec.cost[:, [far]]).mean(axis=0), kind="stable")
    return np.asarray(near[:BUDGET_PARTNER_REPS], dtype=np.int64)


def _budget_step(spec: ModelSpec, moved: np.ndarray) -> float:
    """Room in the disruption budget below which it counts as used up: the median potential an account
    that stays would move (Nigeria's 269 cities at a budget of 0.24: 3.3 of 733 left, every account
    holds at least 9.6, so no account could move without another going back), and at least
    ``BUDGET_TIGHT`` of the budget."""
    assert spec.budget is not None
    staying = moved == 0
    would = spec.moved[staying].max(axis=1) if staying.any() else np.zeros(0)
    would = would[would > 0]
    step = float(np.median(would)) if len(would) else 0.0
    return max(step, BUDGET_TIGHT * spec.budget)


def _adapt(units: int, most: int, step: repair.MipResult, cap: float) -> int:
    """The next neighbourhood's size: a step that HiGHS could not finish within its cap (tight bands, a
    disruption budget) was too big, so the next frees fewer units; one it proved optimal in under a
    fifth of its cap had room to free more (adaptive neighbourhood size, as in SCIP's LNS heuristics)."""
    if step.status == SolveStatus.FEASIBLE and step.seconds >= 0.8 * cap:
        return max(MIN_LNS_UNITS, units // 2)
    if step.status == SolveStatus.OPTIMAL and step.seconds < 0.2 * cap:
        return min(most, int(units * 1.25) + 1)
    return units
