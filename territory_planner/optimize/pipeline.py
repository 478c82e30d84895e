"""The solve pipeline: a portfolio of stages that pass one ``Run`` along.

    prechecks -> current alignment -> LP bound -> [infeasibility proof] -> balancing search
              -> rounding MIPs -> whole model -> improve / prove

Every stage may offer a plan; ``Run.offer`` keeps it only if the independent ``repair.feasible`` check
passes, so no single heuristic decides whether a plan exists. Each stage's deadline is its named share
of the time left (``budget.SHARES``); the whole model gets all the time that remains when nothing else
found a plan. ``Run.stages`` records what ran, what it cost and what came of it; ``source`` names the
stage that produced the final plan.

status "optimal"  : the gap to a proven lower bound on the full model is <= 1e-4
status "feasible" : a plan within every constraint, with its proven gap (time limit, --gap reached)
status "relaxed"  : --relax on a model with no plan found: the least-violation plan, violations listed

The stages live in modules of their own, in the order they run: ``run_state`` (the ``Run`` they share,
its bookkeeping and its result), ``bound_stages`` (prechecks, budget check, today's alignment, the LP),
``first_plan`` (balancing search, rounding, mends), ``whole_model``, ``improve``, ``beside`` (the whole
model in HiGHS beside them), ``no_plan`` (what a run without a plan says) and ``relaxed`` (the pieces of
the least-violation plan). This module holds their order (``solve``) and the --relax ending, which
solves again on widened bands; it re-exports the names other modules and the tests use from it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError, SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import construct
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.beside import _collect_beside, _poll_beside, _start_beside, _stop_beside
from territory_planner.optimize.bound_stages import (
    _keep_promise,
    stage_budget,
    stage_current,
    stage_lp,
    stage_prechecks,
)
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.first_plan import (
    SEARCH_CANDIDATES,
    stage_construct,
    stage_round,
    stage_search_rest,
)
from territory_planner.optimize.improve import stage_improve
from territory_planner.optimize.no_plan import _no_plan_message
from territory_planner.optimize.relaxed import (
    RELAXED_NOTE,
    _largest_unit_at_nearest,
    _least_proof,
    _least_travel_at,
    _polished,
    _violations,
    _widened,
)
from territory_planner.optimize.run_state import (
    OPTIMALITY_TOL,
    Progress,
    Run,
    Stage,
    _PastPromiseError,
    _result,
    _settle,
    _stage_seconds,
)
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.optimize.spec import ModelSpec
from territory_planner.optimize.whole_model import _elastic_mip, stage_whole
from territory_planner.solvers.base import Backend, SolveOutcome

# isort: split
# re-exported: the names other modules and the tests use from here, defined here before the split
from territory_planner.optimize.beside import BESIDE_PAIRS as BESIDE_PAIRS
from territory_planner.optimize.beside import _race_beside as _race_beside
from territory_planner.optimize.bound_stages import BAND_MARGIN as BAND_MARGIN
from territory_planner.optimize.bound_stages import REGION_REPS as REGION_REPS
from territory_planner.optimize.bound_stages import _narrowed as _narrowed
from territory_planner.optimize.bound_stages import _solve_lp as _solve_lp
from territory_planner.optimize.first_plan import ROUND_GAP as ROUND_GAP
from territory_planner.optimize.improve import STEP_GAP_DIVISOR as STEP_GAP_DIVISOR
from territory_planner.optimize.improve import STEP_GAP_RUN as STEP_GAP_RUN
from territory_planner.optimize.improve import _budget_partner as _budget_partner
from territory_planner.optimize.no_plan import _floor_text as _floor_text
from territory_planner.optimize.no_plan import _looser as _looser
from territory_planner.optimize.no_plan import _whole_infeasible as _whole_infeasible
from territory_planner.optimize.relaxed import LEAST_NOTE as LEAST_NOTE
from territory_planner.optimize.relaxed import _violation as _violation
from territory_planner.optimize.run_state import _gap as _gap

RELAX_VIOLATION_SHARE = 0.5  # --relax: the elastic MIP on the violation alone, before travel joins it
# --relax: up to this many allowed pairs, the MIP on the violation has every pair (its least violation and
# bound then hold for every plan); above, the LP's pairs and each unit's nearest reps (QA25 F1: 1,139
# German cities x 25 reps, the nearest reps' pool reached 0.33 targets where 0.27 exists)
RELAX_WHOLE_PAIRS = 60_000
RELAX_MIP_SECONDS = 0.5  # --relax: time left below which the MIP on the violation is not begun
RELAX_TRAVEL_SECONDS = 2.0  # --relax: time left below which the least-violation plan's travel is not improved
RELAX_POLISH_SECONDS = 0.5  # --relax: at most this (3% of the travel stage's time) kept for _polished
RELAX_WIDE_SHARE = 0.15  # --relax, every pair: the balancing search over all of them before the MIP
RELAX_SEARCH_SHARE = 0.3  # --relax, no partial plan yet: the least-violation search before the MIP


def solve(
    spec: ModelSpec,
    backend: Backend,
    *,
    time_limit: float | None = None,
    budget: TimeBudget | None = None,
    gap: float,
    seed: int,
    threads: int | None,
    candidates: int,
    relax: bool,
    progress: Progress = lambda _m: None,
    current_unit_rep: np.ndarray | None = None,
    start_plan: np.ndarray | None = None,
    then_share: str | None = None,
    current_name: str = "today's alignment",
    after_plan: TimeBudget | None = None,
    after_beside: Callable[[], None] | None = None,
) -> tuple[np.ndarray, SolveResult]:
    """Return (rep index per unit, result). Raises InfeasibleError (with a proof) or SolverError (no plan
    in the time given, with the stages that used it). ``start_plan``, when it satisfies the model, is the
    first incumbent. ``then_share`` (a ``budget.SHARES`` name): once a plan exists (with ``after_plan``:
    one found after its end), the improve stage ends at that share of the time left (the stages after
    this solve keep the rest). ``current_name``: what
    ``current_unit_rep`` is, when it is not today's alignment (a plan of an earlier solve: QA26 F2,
    "today's alignment satisfies the model" where there was none). ``after_plan``: the budget once a plan
    exists, when ``budget`` is longer only while there is none (a plan's forecast keeps the rest; with no
    plan there is no forecast, and its time is the search's: QA38 F11, QA39 F0). ``after_beside``: work
    of the caller's that can wait until the whole model beside has started (the output modules' imports:
    0.2-0.3 s of the GIL that delayed HiGHS's start by as much at short limits)."""
    full = budget if budget is not None else TimeBudget.seconds(time_limit)
    if int(spec.allowed.sum()) <= SMALL_PAIRS:  # proving the optimum is cheap: do not stop short of it
        gap = min(gap, OPTIMALITY_TOL)
    # with --relax, the least-violation MIP needs time of its own if no plan is found: it is kept back
    budget = full.child("before_relax") if relax and full.limited else full
    run = Run(spec, backend, budget, gap, seed, threads, candidates, progress, current_unit_rep, current_name)
    start = time.perf_counter()
    try:
        stage_prechecks(run)
        stage_current(run)
        if start_plan is not None:
            run.offer(start_plan, "start")
        _keep_promise(run)
        _start_beside(run)
        if after_beside is not None:
            after_beside()
        stage_budget(run)
        _keep_promise(run)
        stage_lp(run)
        _keep_promise(run)
        stage_construct(run)
        _poll_beside(run)
        _keep_promise(run)
        # a plan: the stages after it keep to the budget once a plan exists (QA78 F3: under --contiguous
        # the rounding stage took its share of the whole budget, 5.6 s where the base plan's share left it
        # 0.8 s, out of the contiguity stages' time); the time kept back for --relax is the search's again
        _switch_on_plan(run, budget, full, after_plan, then_share)
        if run.incumbent is None or not run.done():  # rounding the LP may also give a better plan
            stage_round(run)
        _poll_beside(run)
        _keep_promise(run)
        _switch_on_plan(run, budget, full, after_plan, then_share)
        if run.incumbent is None:
            stage_whole(run)
        if run.incumbent is None:
            stage_search_rest(run)
        _switch_on_plan(run, budget, full, after_plan, then_share)
        if run.incumbent is not None and not run.done():
            stage_improve(run)
        if run.beside is not None:  # the improve stage collects it; else it is stopped here
            _collect_beside(run, run.beside, run.source)
    except _PastPromiseError:
        _stop_beside(run, grace=0.0)  # not waited for: the promise is due (it ends on its own)
        if not relax:
            raise SolverError(_no_plan_message(run)) from None
    except InfeasibleError as err:
        _stop_beside(run)
        if not relax:
            raise
        if run.lp is None and run.partial is None and full.remaining() > RELAX_TRAVEL_SECONDS:
            # a pre-check's proof: the LP-guided search's least-violation assignment is a far better MIP
            # start (not begun with the time nearly up: an LP round runs to its end, QA34 F2)
            _least_violation_start(run)
        return _relaxed(
            run, err.conflicts, start, full.deadline, lambda: _after_least(full, after_plan, then_share)
        )
    except KeyboardInterrupt:  # Ctrl-C: cancelled, not waited for (HiGHS's presolve does not look)
        _stop_beside(run, grace=0.0)
        raise
    except BaseException:  # a failed stage leaves no HiGHS run behind in the thread
        _stop_beside(run)
        raise
    if run.incumbent is None:
        if relax:
            return _relaxed(run, [], start, full.deadline, lambda: _after_least(full, after_plan, then_share))
        raise SolverError(_no_plan_message(run))
    _settle(run)
    return run.incumbent, _result(run, start)


def _switch_on_plan(
    run: Run, before: TimeBudget, full: TimeBudget, after_plan: TimeBudget | None, then_share: str | None
) -> None:
    """Once the run has a plan, its budget ``before`` one becomes the one for the stages after it
    (``_budget_with_plan``), once (when that is ``full`` itself, taking it again changes nothing)."""
    if run.incumbent is not None and run.budget is before:
        run.budget = _budget_with_plan(run, full, after_plan, then_share)


def _budget_with_plan(
    run: Run, full: TimeBudget, after_plan: TimeBudget | None, then_share: str | None
) -> TimeBudget:
    """The budget of the stages after the first plan: ``after_plan`` when that plan came by its end;
    else (a plan only after it: its time is the search's, and a forecast is left out) ``full``, ending at
    ``then_share`` of the time left when that is given (the stages after this solve keep the rest). By
    when the plan came, not by when the stage that found it ended (QA68 F3)."""
    if after_plan is not None and run.first_plan_at is not None and run.first_plan_at <= after_plan.deadline:
        return after_plan
    if then_share is None:
        return full
    return TimeBudget(full.start, full.share(then_share), full.limit, full.last, full.origin)


def _after_least(full: TimeBudget, after_plan: TimeBudget | None, then_share: str | None) -> float:
    """--relax: the end of the travel stages once a least-violation plan exists, as for any first plan
    (``_budget_with_plan``): ``after_plan``'s end when the plan came by then, else ``then_share`` of the
    time left, else the whole budget's. A plan exists, and the stages after this solve keep their time
    (the relaxed travel pass ran to the end of the whole budget: with --contiguous --relax on a loaded
    machine it took 16.8 s of a 20-s run and left the contiguity stage 0.04 s)."""
    if after_plan is not None and time.perf_counter() <= after_plan.deadline:
        return after_plan.deadline
    return full.deadline if then_share is None else full.share(then_share)


def found_after(history: Sequence[Mapping[str, object]], budget: TimeBudget, slack: float = 0.0) -> bool:
    """Whether the first plan of a run's ``history`` (its seconds counted from ``budget.began``) came more
    than ``slack`` seconds after ``budget``'s deadline: by when the plan came, not by when the solve ended
    (QA68 F3: a plan at 4.4 s of a 10-s --xlsx run, the whole model beside collected at 9.9 s, was taken
    for one found in the workbook's time and the workbook left out)."""
    first = next((h["seconds"] for h in history if h.get("objective") is not None), None)
    return isinstance(first, int | float) and budget.began + float(first) > budget.deadline + slack


def _least_violation_start(run: Run) -> None:
    """After a pre-check's proof under --relax: the LP and the balancing search, for ``run.partial``
    (their own proofs or failures only mean there is no such start). The search runs also when the LP
    stage ends in a proof: the LP it solved, needing slack, and the budget check's least-moving LP are
    its starts (1,989 Texas ZIPs x 40 reps, a budget of 3.4% where balancing needs 3.7%: from the nearest
    reps, a relaxed plan 1.27 targets of violation out, bands broken by up to 29%)."""
    for stage in (stage_lp, stage_construct):
        with suppress(InfeasibleError, SolverError):
            stage(run)


@dataclasses.dataclass
class _Least:
    """The least-violation stage's outcome, for the travel stage and the result."""

    spec: ModelSpec  # the model on the user's bands
    pool: np.ndarray  # the pairs the elastic MIPs may use
    every_pair: bool  # the pool is every allowed pair (a small model)
    guess: np.ndarray  # the balancing search's least-violation assignment (the MIP's start)
    fits: bool  # that assignment uses allowed pairs only
    least: np.ndarray | None  # the least-violation plan found, if any
    proof: str  # what is proven of its violation
    prices: dict[str, np.ndarray]  # the violation's price per row family (lp.relax_prices)


def _relaxed(
    run: Run, conflicts: list[Conflict], start: float, deadline: float, after: Callable[[], float]
) -> tuple[np.ndarray, SolveResult]:
    """--relax: the least-violation integer plan (elastic MIP over the LP's pool, or every pair), then
    the least travel at that violation, polished; or a plan within every band when the least violation
    is none. Once there is a least-violation plan its travel stages end by ``after()`` (``_after_least``)."""
    least = _least_violation(run, deadline)
    if least.least is not None:
        deadline = min(deadline, after())
    found, method, pooled = _relaxed_travel(run, least, deadline)
    if found is None:  # the search's least-violation assignment is still the best there is
        unit_rep = least.guess.astype(np.int64)
        method = "least-violation search (the elastic MIP found nothing in time)"
    else:
        unit_rep = found
    unit_rep = _polished(run, least.spec, unit_rep, deadline, also=pooled)
    if not conflicts and run.offer(unit_rep, f"{method} (no violation)"):
        # the least violation is none: a plan within every band, which the stages before found no plan
        # like in their time; it is written as the plan it is (658 Italian cities x 8 reps at +-0.5%, 40 s:
        # "RELAXED PLAN: no plan meets every constraint" beside an empty list of violations)
        run.notes.append(
            "--relax: the least-violation stage found a plan within every band (the stages before it had "
            "found none in their time)"
        )
        _settle(run)
        assert run.incumbent is not None
        return run.incumbent, _result(run, start)
    return unit_rep, _relaxed_result(run, least, unit_rep, method, conflicts, start)


def _least_violation(run: Run, deadline: float) -> _Least:
    """The stage ``relaxed_violation``: the elastic MIP on the violation alone, from the balancing
    search's least-violation assignment.

    The violation is measured against the user's bands, not the model's rounded inwards to a measure's
    step (``integral_bands``): rounding keeps every plan of a feasible model, but it can leave both reps'
    bands empty and make every plan break them alike, so travel chose (the brute-force property test: a
    plan 2.8 targets out where 1.2 was the least)."""
    spec = run.spec.as_given()
    every_pair = int(spec.allowed.sum()) <= RELAX_WHOLE_PAIRS  # the least violation is within reach
    if every_pair:
        pool = spec.allowed.copy()
    elif run.lp is not None:
        pool = np.zeros(spec.allowed.shape, dtype=bool)
        pool[run.lp.col_unit, run.lp.col_rep] = True
        pool |= construct.candidate_reps(spec, SEARCH_CANDIDATES)
    else:
        pool = construct.candidate_reps(spec, max(SEARCH_CANDIDATES, run.candidates))
    t = time.perf_counter()
    guess = run.partial
    if guess is None:  # stopped before any stage made one (a pre-check's proof): the search's, from scratch
        guess, _ = construct.balance_search(
            spec,
            construct.greedy_plan(spec),
            construct.candidate_reps(spec, SEARCH_CANDIDATES),
            deadline=t + RELAX_SEARCH_SHARE * max(deadline - t, 0.0),
        )
    # the search's least-violation assignment is the MIP's start, so the plan written is never worse than
    # it (its pairs were not always in the pool: 3,779 cities x 150 reps got a plan breaking 173 bands by
    # up to 21%, where the search's was 0.6 targets short in all)
    fits = bool(spec.allowed[np.arange(len(guess)), guess].all())
    if fits and every_pair:
        # the search again, free to give any unit to any rep it may serve: a rep holding an account above
        # every band needs the units of least potential per workload from anywhere (QA25 F1: 1,139 German
        # cities x 25 reps, 0.334 targets of violation over the nearest reps, 0.269 over all in 5.7 s,
        # where the MIP on the violation had stayed at the start's for its 18 s)
        now = time.perf_counter()
        guess, _ = construct.balance_search(
            spec, guess, spec.allowed, deadline=now + RELAX_WIDE_SHARE * max(deadline - now, 0.0)
        )
    pool[np.arange(len(guess)), guess] = True
    whole = bool(pool[spec.allowed].all())  # the MIP's bound holds for every plan (the fix below is WLOG)
    if fits:
        guess = _largest_unit_at_nearest(spec, pool, guess)
    prices = lpmod.relax_prices(spec)
    # first the violation alone (travel priced at zero: HiGHS's heuristics then aim at the violation only;
    # with travel in, 254 Texas counties x 10 reps kept the search's 0.27 targets for 12 s, where the
    # violation alone reaches 0.07 in 9 s), then travel as well, started from that plan
    first: SolveOutcome | None = None
    first_plan: np.ndarray | None = None
    if deadline - time.perf_counter() >= RELAX_MIP_SECONDS:
        first, first_plan = _elastic_mip(
            run,
            spec.without_objective(),
            pool & spec.allowed,
            guess if fits else None,
            name="relaxed_violation",
            deadline=t + RELAX_VIOLATION_SHARE * max(deadline - t, 0.0),
            gap=1e-3,
            prices=prices,
        )
        outcome = first.status.value
    else:  # the search's least-violation assignment stands: a MIP begun now would break the promise
        outcome = f"skipped: {max(deadline - time.perf_counter(), 0.0):.1f}s left"
    run.stages.append(Stage("relaxed_violation", time.perf_counter() - t, outcome))
    least = first_plan if first_plan is not None and (first_plan >= 0).all() else (guess if fits else None)
    proof = _least_proof(spec, whole, first, least is not None and least is first_plan)
    return _Least(spec, pool, every_pair, guess, fits, least, proof, prices)


def _relaxed_travel(
    run: Run, lv: _Least, deadline: float
) -> tuple[np.ndarray | None, str, np.ndarray | None]:
    """The least travel at the least violation: the plan, its method, and the travel pass's plan over
    the pool when one over every pair followed it (both are polished)."""
    t = time.perf_counter()
    spec, pool, least, prices = lv.spec, lv.pool, lv.least, lv.prices
    wide = None if least is None else _widened(spec, least)
    found: np.ndarray | None
    pooled: np.ndarray | None = None
    left = deadline - time.perf_counter()
    end = deadline - min(RELAX_POLISH_SECONDS, 0.03 * max(left, 0.0))  # the travel stage's, then _polished
    if least is not None and left < RELAX_TRAVEL_SECONDS:
        # no time for a travel stage: a solve begun now (its LP, the whole model beside) would run past
        # the command's promise (QA34 F2: --time-limit 5 took 8.1 s, 10 took 13.5 s on 3,142 counties)
        run.stages.append(Stage("relaxed_travel", 0.0, f"skipped: {max(left, 0.0):.1f}s left"))
        return least, "elastic-mip", None
    if least is not None and lv.every_pair:
        # a model small enough for every pair: the elastic MIP with travel, its total violation capped at
        # the least plan's (QA42 F2: with each band widened to that plan's loads, its spread of the
        # violation over the bands was frozen, and 180 Moroccan cities x 15 reps kept 51,526 of travel
        # where plans of the same violation have 24,087)
        found, outcome = _least_travel_at(run, spec, pool & spec.allowed, least, prices, end)
        if not pool[spec.allowed].all():
            # the pool kept the largest unit at the nearest of its interchangeable reps (no loss for the
            # violation), which travel may not want: the same MIP over every pair, started from that plan
            # (QA100 F3: 67 Florida counties x 5 reps, 116,220.8 "optimal" over the pool, where plans of
            # the same violation have 101,890.7); both are polished, the one of less travel kept (QA101 F1)
            outcome += " over the pairs that keep the largest unit with its nearest interchangeable rep"
            if end - time.perf_counter() >= RELAX_TRAVEL_SECONDS:
                again, more = _least_travel_at(run, spec, spec.allowed, found, prices, end, "the pool's plan")
                outcome += f"; over every pair: {more}"
                if again is not found:
                    pooled, found = found, again
            else:
                outcome += f" (no time for every pair: {max(end - time.perf_counter(), 0.0):.1f}s left)"
        run.stages.append(Stage("relaxed_travel", time.perf_counter() - t, outcome))
        return found, "elastic-mip+travel", pooled
    if wide is not None and least is not None:
        # travel with no band's violation above the least one's: the model with each band widened just
        # enough for that plan, solved by this pipeline (its travel stages), started from that plan
        try:
            found, res = solve(
                wide, run.backend, budget=TimeBudget.until(end), gap=run.gap, seed=run.seed,
                threads=run.threads, candidates=run.candidates, relax=False, progress=run.progress,
                start_plan=least,
            )  # fmt: skip
            outcome = f"{res.status}, travel {run.objective_of(least):,.1f} -> {res.objective:,.1f}"
        except (InfeasibleError, SolverError) as err:  # cannot happen (least fits): keep least, say why
            found, outcome = least, f"kept the least-violation plan ({err})"
        run.stages.append(Stage("relaxed_travel", time.perf_counter() - t, outcome))
        return found, "elastic-mip+travel", None
    # it breaks a count or budget row, which cannot be widened per rep: the elastic MIP with travel
    second, found = _elastic_mip(
        run,
        spec,
        pool & spec.allowed,
        least,
        name="relaxed",
        deadline=end,
        gap=1e-3,
        prices=prices,
    )
    if found is None or (found < 0).any():  # the travel pass found nothing: the violation pass's plan
        found = least
    run.stages.append(Stage("relaxed", time.perf_counter() - t, second.status.value))
    return found, "elastic-mip", None


def _relaxed_result(
    run: Run, lv: _Least, unit_rep: np.ndarray, method: str, conflicts: list[Conflict], start: float
) -> SolveResult:
    """The result of a relaxed plan: its violations listed, no bound, the proof's note."""
    spec = lv.spec
    compact = float(spec.cost[np.arange(len(unit_rep)), unit_rep].sum())
    return SolveResult(
        status="relaxed",
        proven_optimal=False,
        objective=run.objective_of(unit_rep),
        compactness=compact,
        lower_bound=float("nan"),
        gap=float("nan"),
        seconds=time.perf_counter() - start,
        solver=run.backend.version(),
        method=method,
        stages=_stage_seconds(run),
        notes=(
            RELAXED_NOTE,
            lv.proof,
            *(f"{c.family}: {c.message}" for c in conflicts),
        ),
        violations=tuple(_violations(spec, unit_rep)),
        stage_log=tuple(s.as_dict() for s in run.stages),
        proven_infeasible=bool(conflicts),  # they come with an InfeasibleError: a proof
    )
