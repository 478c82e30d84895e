"""The whole model in HiGHS beside the other stages (``background``): when it starts, how the run polls
it between stages and takes its plans and bound, the race of a second copy when the run has nothing
else to do, and how it is collected or stopped.

Split from ``pipeline``: every stage module that waits on the whole model beside reads it through
these functions.
"""

from __future__ import annotations

import logging
import time

from territory_planner.optimize import background
from territory_planner.optimize.no_plan import _whole_infeasible
from territory_planner.optimize.run_state import OPTIMALITY_TOL, Run
from territory_planner.solvers.base import SolveStatus

log = logging.getLogger(__name__)
BESIDE_PAIRS = 60_000  # the whole model runs beside the other stages on models of at most this many pairs
# ... and with a disruption budget on models of at most this many, where the heuristic stages often find
# no plan under the budget: QA21 Q7, 1,563 cities x 40 reps (62,520 pairs) at --max-moved-share 0.39,
# 20 s: exit 3 twice, where plain PuLP + HiGHS has a plan at 10 s; with the whole model beside, a plan at
# 8 s (21.4M, plain's at 20 s: 35.4M). Not without a budget: on 3,407 cities x 40 reps, where the stages
# reach the gap in 4.2 s, building the model beside made it 5.7 s.
BESIDE_PAIRS_BUDGET = 150_000
RACE_MIN_SECONDS = 2.0  # a second copy of the whole model (another seed) only with this much time left
# and only with a core to spare over the wait (``background.SPARE_IDLE``, ``SPARE_WINDOW``)


def _stop_beside(run: Run, grace: float = background.GRACE) -> None:
    if run.beside is not None:
        run.beside.finish(stop=True, grace=grace)
        run.beside = None


def _poll_beside(run: Run) -> None:
    """Between stages: HiGHS's bound so far, and the whole model's result once it has ended (a proof,
    its plan)."""
    if run.beside is None:
        return
    if run.beside.running():
        run.raise_bound(run.beside.bound)
        _take_beside_plan(run, run.beside)
    else:
        _collect_beside(run, run.beside, run.source or "whole_model")


def _with_whole_model(source: str) -> str:
    """The source of a plan the whole model found, starting from ``source``'s plan."""
    if source.endswith("whole_model"):
        return source
    return f"{source}+whole_model" if source else "whole_model"


def _take_beside_plan(run: Run, member: background.Member) -> bool:
    """HiGHS's best plan so far, reported by its improving-solution callback while it runs, kept when
    it beats the run's (checked like any plan): the search then works from it at once, where it used to
    see HiGHS's plans only when the whole model ended."""
    plan = member.new_plan()
    if plan is None:
        return False
    kept = run.offer(plan, _with_whole_model(run.source), echo=member is not run.beside)
    if kept:
        if isinstance(member, background.Portfolio):  # the other copies take it up
            member.kept(plan)
        run.progress(f"plan from the whole model beside: objective {run.upper:,.1f}")
    return kept


def _start_beside(run: Run) -> None:
    """On a model HiGHS can take whole and with a second core: the whole model in HiGHS in a thread for
    all the time left (``background``), while the other stages go on; it gets nearly the time plain
    PuLP + HiGHS would. Started once per run, right after the prechecks (the LP and the budget check,
    a few seconds on such models, were time it did not have). It runs HiGHS's default seed whatever
    ``--seed`` says, so that plain PuLP + HiGHS's own path is the member with the most time; the run's
    seed goes to the copy that races it (``_race_beside``). GB, 865 cities x 12 reps at potential +-37%,
    workload +-5%, 8 s (QA14): with seeds 3 and 4 the member ran those seeds from 0.3 s and found no
    plan, and the copy with the default seed, started at 1.9 s, needed until 8.1 s (plain: 6.4 s).
    On a machine with more cores than the search and one copy use, copies with other seeds run too
    (``background.portfolio_size``, ``background.Portfolio``), the run's seed the first of them."""
    spec = run.spec
    budgeted = spec.budget is not None or spec.rep_budget_share is not None
    most = BESIDE_PAIRS_BUDGET if budgeted else BESIDE_PAIRS
    if run.beside is not None or int(spec.allowed.sum()) > most:
        return
    if not background.available(run.backend):
        return
    copies = background.portfolio_size(run.threads)
    gap = max(run.gap, OPTIMALITY_TOL)
    if copies == 1:
        run.progress("the whole model runs in HiGHS beside the other stages")
        run.beside = background.WholeModel(
            spec, run.backend, deadline=run.deadline, gap=gap, seed=0, threads=run.threads
        )
    else:  # cores to spare: copies with other seeds too, the run's own first (``background.Portfolio``)
        seeds = list(dict.fromkeys([0, run.seed or 1, *range(1, copies + 1)]))[:copies]
        run.progress(
            f"the whole model runs in HiGHS beside the other stages, {copies} copies (seeds "
            f"{', '.join(map(str, seeds))})"
        )
        run.beside = background.Portfolio(
            spec, run.backend, deadline=run.deadline, gap=gap, seeds=seeds, threads=run.threads
        )
    if run.incumbent is not None:  # today's alignment
        run.beside.offer(run.incumbent)


def _race_beside(run: Run, beside: background.Member) -> str:
    """With no plan yet, this thread has nothing left to do but wait for the whole model beside. Instead
    a second copy of it runs with another seed (the run's own, or 1 when that is HiGHS's default one
    the member beside already runs), and the first to end gives its plan or proof, the
    other its plan too when it has one (then stopped). On 254 Texas counties x 10 reps with --seed 1,
    HiGHS alone found no plan in 10 s where its default seed did (QA). Returns what raced it ("raced for
    3.2s by a copy with another seed", the portfolio's copies), or "" when nothing did."""
    left = run.deadline - time.perf_counter()
    if not background.available(run.backend) or left < RACE_MIN_SECONDS:
        # no copy; the wait ends at the member's first plan as the other waits do (the search then works
        # on it on this core), where it used to wait for the member's end
        _wait_beside(run, beside)
        return ""
    if isinstance(beside, background.Portfolio):  # its copies with other seeds race already
        seeds = ", ".join(str(m.seed) for m in beside.members)
        run.progress("waiting for the whole model beside (its copies race with their seeds)")
        _wait_beside(run, beside)
        return f"{len(beside.members)} copies, seeds {seeds}"
    idle = background.idle_cores(background.SPARE_WINDOW)
    if not background.enough_idle(idle):
        # no core to spare: a second copy would only take half of the first one's (QA98 F1, 72 Wisconsin
        # counties x 6 reps with a budget just below the least share, beside two other busy processes on
        # two cores: exit 3 at 20 s in 2 runs of 3 with the race, the proof at 20.3-21.1 s in 3 of 3
        # without it, plain HiGHS's in 16.4 s)
        run.progress(f"waiting for the whole model beside (no copy with another seed: {idle:.1f} cores idle)")
        _wait_beside(run, beside)
        return ""
    run.progress("waiting for the whole model beside, raced by a copy with another seed")
    raced = "raced for {:.1f}s by a copy with another seed"
    twin = background.WholeModel(
        run.spec,
        run.backend,
        deadline=run.deadline,
        gap=max(run.gap, OPTIMALITY_TOL),
        seed=run.seed or 1,
        threads=run.threads,
    )
    beside.raced = twin.raced = True
    kept: background.WholeModel | None = None  # the member that found the first plan, kept beside
    try:
        while beside.running() and twin.running() and time.perf_counter() < run.deadline:
            time.sleep(0.1)
            run.raise_bound(max(beside.bound, twin.bound))  # each dual bound holds for the model
            finders = [member for member in (beside, twin) if _take_beside_plan(run, member)]
            if finders and run.lp is not None and not run.done():
                # a plan: the neighbourhood search works on it on this core, beside the member that
                # found it (fz1-17, 73 Minnesota cities x 20 reps at +-2%: both copies ran to the end and
                # their first plans, 6.9% above plain HiGHS's, were all the run had)
                kept = finders[0]
                other = f"stopped when the copy with seed {kept.seed} found a plan first"
                _collect_beside(run, twin if kept is beside else beside, "whole_model", stop=True, why=other)
                return raced.format(time.perf_counter() - twin.started)
        first, second = (twin, beside) if beside.running() else (beside, twin)
        _collect_beside(run, first, "whole_model", stop=False)  # proven infeasible: raises
        ended = f"stopped when the copy with seed {first.seed} ended first"
        _collect_beside(run, second, "whole_model", stop=run.incumbent is not None or run.done(), why=ended)
    finally:
        # the others are cancelled and not waited for: their results are not used, and waiting (up to
        # GRACE each, HiGHS in its presolve does not look at the cancel) took the search's time or, at
        # the deadline, ran an exit 3 to 34.9 s at --time-limit 30 (QA20 F11)
        for member in (beside, twin):
            if member is not kept and member.running():
                member.finish(stop=True, grace=0.0)
        run.beside = kept
    return raced.format(time.perf_counter() - twin.started)


def _wait_beside(run: Run, beside: background.Member) -> None:
    """This thread waits for the whole model beside until it ends, the run's deadline or its first plan
    (the search then works on it on this core while the model goes on beside it)."""
    while beside.running() and time.perf_counter() < run.deadline:
        time.sleep(0.1)
        run.raise_bound(beside.bound)
        if _take_beside_plan(run, beside) and run.lp is not None and not run.done():
            return
    _collect_beside(run, beside, "whole_model", stop=run.incumbent is not None or run.done())


def _collect_beside(
    run: Run,
    beside: background.Member,
    start_source: str,
    *,
    stop: bool | None = None,
    why: str | None = None,
) -> None:
    """The whole model's plan and bound (every pair: its bound holds for the model), once it is proven
    or its time is up; it is cancelled at once when the search already met the gap. Proven infeasible
    over every allowed pair, with no plan found: the proof. ``why``: why ``stop`` stops it, when not
    because the run met its gap (the other copy of a race found a plan first: QA37 F5, "stopped once
    the run met its gap" of a run that ended on the clock at 3.17%)."""
    stopped = run.done() if stop is None else stop
    # a run whose budget ends before the member's (``then_share``) does not wait for it
    cut = not stopped and beside.deadline > run.deadline + background.GRACE
    res = beside.finish(stop=stopped or cut, grace=background.HANDBACK)
    run.beside = None
    run.raise_bound(beside.bound)  # its last bound, also when it found no plan
    if res is None:  # not ended in time: its best plan so far, as its callback reported it
        _take_beside_plan(run, beside)
        return
    if res.status == SolveStatus.INFEASIBLE and run.incumbent is None:
        raise _whole_infeasible(run.spec, run.moved_least)
    log.info(
        "whole model beside: %s, objective %s, bound %s, %.1fs",
        res.status,
        res.objective,
        res.bound,
        res.seconds,
    )
    kept = run.offer(res.unit_rep, _with_whole_model(start_source))
    if kept:
        run.progress(f"plan found by the whole model: objective {run.upper:,.1f}")
    run.raise_bound(res.bound)
    if res.status == SolveStatus.OPTIMAL:
        run.proven = True
    # its plan may already be the run's: reported by HiGHS while it ran (QA28 F4: "not better than the
    # search's" of the plan written, where the search had found none)
    taken = (
        res.objective is not None
        and run.source.endswith("whole_model")
        and abs(res.objective - run.upper) <= 1e-9 * max(abs(run.upper), 1.0)
    )
    if res.objective is None:
        found = "no plan of its own"
    elif kept:
        found = f"its plan ({res.objective:,.1f}) was better than the search's"
    elif taken:
        found = f"its plan ({res.objective:,.1f}), taken while it ran, is the run's best"
    else:
        found = f"its best plan ({res.objective:,.1f}) was not better than the search's"
    how = (why or "stopped once the run met its gap") if stopped else res.status.value
    gap = getattr(beside, "gap", 0.0)  # a member that does not say its gap (a test's) says "optimal"
    if not stopped and res.status == SolveStatus.OPTIMAL and gap > 0:  # HiGHS: "within its gap"
        how = f"optimal within its {100 * gap:g}% gap"
    if cut and res.status not in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE):
        how = "stopped at the end of the time given to this solve"
    copy = f" (the copy with seed {beside.seed})" if getattr(beside, "raced", False) else ""
    run.notes.append(
        f"the whole model{copy} ran in HiGHS beside the other stages ({how}, {beside.taken} plan(s) "
        f"of the search handed to it): {found}"
    )
