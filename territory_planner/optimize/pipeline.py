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
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import numpy as np
import pulp

from territory_planner.errors import Conflict, InfeasibleError, SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import aggregate, background, construct, hierarchy, prechecks, proofs, repair
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.optimize.spec import ModelSpec, band_rows
from territory_planner.solvers.base import Backend, SolveOutcome, SolveStatus

log = logging.getLogger(__name__)
OPTIMALITY_TOL = 1e-4
REGION_REPS = 25  # above this many reps, the LP is rounded region by region
# the LP that guides rounding is solved with each band narrowed by this share of its width on both
# sides, so its vertex leaves room to round whole units; the bound is still that of the real bands
BAND_MARGIN = 0.05
WHOLE_MODEL_PAIRS = 400_000  # up to this many allowed pairs, the whole-model MIP keeps every pair
BUILD_SECONDS_PER_PAIR = 3e-5  # PuLP model and its transfer to HiGHS, measured (26 us per pair)
PRESOLVE_SECONDS_PER_PAIR = 3e-5  # HiGHS's MIP presolve, which ignores its time limit (measured 18-25 us)
EXACT_PAIRS = 60_000  # the exact stage runs whenever reduced-cost fixing keeps at most this many pairs
BESIDE_PAIRS = 60_000  # the whole model runs beside the other stages on models of at most this many pairs
# ... and with a disruption budget on models of at most this many, where the heuristic stages often find
# no plan under the budget: QA21 Q7, 1,563 cities x 40 reps (62,520 pairs) at --max-moved-share 0.39,
# 20 s: exit 3 twice, where plain PuLP + HiGHS has a plan at 10 s; with the whole model beside, a plan at
# 8 s (21.4M, plain's at 20 s: 35.4M). Not without a budget: on 3,407 cities x 40 reps, where the stages
# reach the gap in 4.2 s, building the model beside made it 5.7 s.
BESIDE_PAIRS_BUDGET = 150_000
ROUND_GAP = 0.01  # on a model of at most EXACT_PAIRS, the rounding MIPs stop within a quarter of this
RACE_MIN_SECONDS = 2.0  # a second copy of the whole model (another seed) only with this much time left
RELAX_VIOLATION_SHARE = 0.5  # --relax: the elastic MIP on the violation alone, before travel joins it
# --relax: up to this many allowed pairs, the MIP on the violation has every pair (its least violation and
# bound then hold for every plan); above, the LP's pairs and each unit's nearest reps (QA25 F1: 1,139
# German cities x 25 reps, the nearest reps' pool reached 0.33 targets where 0.27 exists)
RELAX_WHOLE_PAIRS = 60_000
RELAX_MIP_SECONDS = 0.5  # --relax: time left below which the MIP on the violation is not begun
RELAX_TRAVEL_SECONDS = 2.0  # --relax: time left below which the least-violation plan's travel is not improved
RELAX_WIDE_SHARE = 0.15  # --relax, every pair: the balancing search over all of them before the MIP
RELAX_SEARCH_SHARE = 0.3  # --relax, no partial plan yet: the least-violation search before the MIP
SEARCH_CANDIDATES = 10  # reps per unit the balancing search may move it to (plus the LP's support)
ELASTIC_SHARE = 0.6  # of the whole model's time, for its elastic form started from the best near-plan
TINY_SEARCH_SHARE = 0.05  # of the time left: the one balancing search on a model of at most SMALL_PAIRS
NO_LP_SEARCH_SHARE = 0.5  # of the time left: the balancing search when there is no LP to round
LNS_SHARE = 0.7  # of the improve stage's time, on a model of at most EXACT_PAIRS (then the exact MIP)
WHOLE_WITH_PLAN_SHARE = 0.3  # of the time left: the whole model once a plan exists (then the search)
MIN_LNS_UNITS = 20  # the search's neighbourhoods shrink down to this many free units when steps time out
BUDGET_TIGHT = 1e-3  # the disruption budget counts as used up within this share of it
BUDGET_PARTNER_REPS = 3  # reps added to a cluster to trade moves against (see _budget_partner)
STEP_GAP_RUN = 10  # neighbourhood steps in a row without a gain before their MIPs' stopping gap is cut
STEP_GAP_DIVISOR = 4.0
LNS_REPS = (3, 6, 12)  # neighbours per rep in the search's clusters, grown each time a pass finds nothing
IMPROVE_RESERVE = 0.1  # of the time left, kept for improving a plan the last balancing search finds
WIDE_MARGINS = (0.3, 0.15)  # further narrowings tried when the first LP's rounding cannot be balanced
Progress = Callable[[str], None]


def _gap(upper: float, lower: float) -> float:
    if not np.isfinite(lower):
        return float("inf")
    if upper <= 0:
        return 0.0 if lower >= upper - 1e-9 else float("inf")
    return max(0.0, (upper - lower) / upper)


def _narrowed(spec: ModelSpec, margin: float) -> ModelSpec:
    """The same model with every band narrowed by ``margin`` of its width on each side (a restriction)."""
    width = spec.upper - spec.lower
    narrow = dataclasses.replace(spec, lower=spec.lower + margin * width, upper=spec.upper - margin * width)
    return hierarchy.narrowed_spec(narrow, margin)


@dataclass
class Stage:
    name: str
    seconds: float
    outcome: str

    def as_dict(self) -> dict[str, object]:
        return {"stage": self.name, "seconds": round(self.seconds, 3), "outcome": self.outcome}


@dataclass
class Run:
    """What the stages share: the model, the clock, the best plan and the best bound so far."""

    spec: ModelSpec
    backend: Backend
    budget: TimeBudget
    gap: float
    seed: int
    threads: int | None
    candidates: int
    progress: Progress
    current_unit_rep: np.ndarray | None = None
    current_name: str = "today's alignment"  # what ``current_unit_rep`` is, as the progress lines say it
    incumbent: np.ndarray | None = None
    upper: float = float("inf")
    bound: float = -float("inf")
    source: str = ""  # the stage that produced the incumbent
    lp: lpmod.LpResult | None = None
    moved_lp: lpmod.LpResult | None = None  # the least-moved-potential LP (with a disruption budget)
    moved_least: float | None = None  # that LP's bound: the least potential any plan must move
    partial: np.ndarray | None = None  # the best assignment that is not (yet) a plan: a MIP start
    estimate: lpmod.Duals | None = None  # duals of the clustered LP (large instances): prices without an LP
    cluster_lp: lpmod.LpResult | None = None  # the clustered LP's solution on the units (``aggregate``)
    cluster_plan: np.ndarray | None = None  # that solution in whole units
    proven: bool = False
    whole_unproven: bool = False  # the whole model ran from a plan and stopped short of a proof
    beside: background.Member | None = None  # the whole model in HiGHS beside the other stages
    stages: list[Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    history: list[dict[str, object]] = field(default_factory=list)  # each new plan or bound, in order
    first_plan_at: float | None = None  # time.perf_counter() when the first plan came
    _outcome: str = ""

    @property
    def deadline(self) -> float:
        return self.budget.deadline

    def objective_of(self, plan: np.ndarray) -> float:
        return float(self.spec.objective[np.arange(len(plan)), plan].sum())

    def offer(self, plan: np.ndarray | None, source: str, *, echo: bool = True) -> bool:
        """Keep ``plan`` if it satisfies every constraint and beats the incumbent. ``echo``: hand it to the
        whole model beside (not for a plan that came from it)."""
        if plan is None or not repair.feasible(self.spec, plan):
            return False
        value = self.objective_of(plan)
        if value < self.upper - 1e-9 * max(abs(self.upper), 1.0) or self.incumbent is None:
            if self.incumbent is None:
                self.first_plan_at = time.perf_counter()
            self.incumbent, self.upper, self.source = plan.copy(), value, source
            self._record(source)
            if self.beside is not None and echo:  # the whole model's tree search prunes with it
                self.beside.offer(self.incumbent)
            return True
        return False

    def raise_bound(self, value: float | None) -> None:
        if value is not None and np.isfinite(value):
            before = self.bound
            self.bound = max(self.bound, min(value, self.upper))
            if self.bound > before:
                self._record("bound")

    def _record(self, what: str) -> None:
        """One line of the run's history: when (seconds since the command started), the best plan's
        objective, the best bound and the gap between them after ``what`` (a stage's plan or "bound")."""
        has_plan, has_bound = self.incumbent is not None, np.isfinite(self.bound)
        self.history.append(
            {
                "seconds": round(time.perf_counter() - self.budget.began, 3),
                "event": what,
                "objective": self.upper if has_plan else None,
                "lower_bound": self.bound if has_bound else None,
                "gap": self.current_gap if has_plan and has_bound else None,
            }
        )

    @property
    def current_gap(self) -> float:
        return _gap(self.upper, self.bound) if self.incumbent is not None else float("inf")

    def done(self) -> bool:
        return self.incumbent is not None and self.current_gap <= max(self.gap, OPTIMALITY_TOL)

    def outcome(self, text: str) -> None:
        self._outcome = text

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        self._outcome = ""
        try:
            yield
        finally:
            outcome = self._outcome or ("plan" if self.source == name else "no plan")
            self.stages.append(Stage(name, time.perf_counter() - t, outcome))
            log.info("stage %s: %.2fs, %s", name, time.perf_counter() - t, outcome)


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
) -> tuple[np.ndarray, SolveResult]:
    """Return (rep index per unit, result). Raises InfeasibleError (with a proof) or SolverError (no plan
    in the time given, with the stages that used it). ``start_plan``, when it satisfies the model, is the
    first incumbent. ``then_share`` (a ``budget.SHARES`` name): once a plan exists (with ``after_plan``:
    one found after its end), the improve stage ends at that share of the time left (the stages after
    this solve keep the rest). ``current_name``: what
    ``current_unit_rep`` is, when it is not today's alignment (a plan of an earlier solve: QA26 F2,
    "today's alignment satisfies the model" where there was none). ``after_plan``: the budget once a plan
    exists, when ``budget`` is longer only while there is none (a plan's forecast keeps the rest; with no
    plan there is no forecast, and its time is the search's: QA38 F11, QA39 F0)."""
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
        return _relaxed(run, err.conflicts, start, full.deadline)
    except KeyboardInterrupt:  # Ctrl-C: cancelled, not waited for (HiGHS's presolve does not look)
        _stop_beside(run, grace=0.0)
        raise
    except BaseException:  # a failed stage leaves no HiGHS run behind in the thread
        _stop_beside(run)
        raise
    if run.incumbent is None:
        if relax:
            return _relaxed(run, [], start, full.deadline)
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


def found_after(history: Sequence[Mapping[str, object]], budget: TimeBudget, slack: float = 0.0) -> bool:
    """Whether the first plan of a run's ``history`` (its seconds counted from ``budget.began``) came more
    than ``slack`` seconds after ``budget``'s deadline: by when the plan came, not by when the solve ended
    (QA68 F3: a plan at 4.4 s of a 10-s --xlsx run, the whole model beside collected at 9.9 s, was taken
    for one found in the workbook's time and the workbook left out)."""
    first = next((h["seconds"] for h in history if h.get("objective") is not None), None)
    return isinstance(first, int | float) and budget.began + float(first) > budget.deadline + slack


class _PastPromiseError(Exception):
    """No plan yet, and the command's promise (``TimeBudget.last``) reached: no stage may start."""


def _keep_promise(run: Run) -> None:
    """Ends the search when it has no plan yet and any further stage would run past the moment the
    command must end by to keep ``--time-limit`` (QA28 F7: at --time-limit 1, an LP round begun after
    the inputs took 1.7 s made the command 4.2 s long where 3.05 s were promised): exit 3 now."""
    if run.incumbent is None and run.budget.past_last():
        _poll_beside(run)  # the whole model beside may have a plan (or a proof) by now
        if run.incumbent is None:
            run.outcome("stopped: the time limit is up")
            raise _PastPromiseError


def _settle(run: Run) -> None:
    """Accounts that cost nothing wherever they go (zero workload) back with their current rep, or to the
    nearest rep, where the plan stays feasible (``settle``; QA28 F15): the objective stays, moves and
    distances fall. Given a second at most, the time kept for writing the plan being another's."""
    from territory_planner.optimize import settle

    assert run.incumbent is not None
    deadline = (
        min(time.perf_counter() + 1.0, run.budget.deadline)
        if run.budget.limited
        else time.perf_counter() + 1.0
    )
    plan, moved = settle.settle(run.spec, run.incumbent, deadline=deadline)
    if not moved:
        return
    accounts = int(run.spec.problem.unit_size[plan != run.incumbent].sum())
    run.incumbent = plan
    run.notes.append(
        # not only zero workload: accounts at one point with every home there cost none either (QA61 F6)
        f"{accounts:,} account(s) that cost the same travel wherever they may go (zero workload, or every "
        "rep they may go to as far away) were kept with "
        "their current rep, or given to the nearest, where the plan stays feasible: the objective is "
        "the same"
    )


def _result(run: Run, start: float) -> SolveResult:
    assert run.incumbent is not None
    if not repair.feasible(run.spec, run.incumbent):  # offer() checked it; a last independent check
        raise SolverError(
            "internal error: the solver returned a plan that violates the model; please report it"
        )
    # no plan costs less than nothing when no cost is negative: a Lagrangian bound below 0 (duals of an
    # LP cut short by a tight budget) says less than that (QA63 F8: "lower bound -60,431,269", gap 609%)
    if np.isfinite(run.bound) and run.bound < 0 and float(run.spec.objective.min(initial=0.0)) >= 0:
        run.raise_bound(0.0)
    g = run.current_gap
    optimal = g <= OPTIMALITY_TOL
    compact = float(run.spec.cost[np.arange(len(run.incumbent)), run.incumbent].sum())
    notes = list(run.notes)
    if not np.isfinite(run.bound):
        notes.append("no lower bound was proven in the time given: the gap is unknown")
    return SolveResult(
        status="optimal" if optimal else "feasible",
        proven_optimal=optimal,
        objective=run.upper,
        compactness=compact,
        lower_bound=run.bound if np.isfinite(run.bound) else float("nan"),
        gap=g if np.isfinite(g) else float("nan"),
        seconds=time.perf_counter() - start,
        solver=run.backend.version(),
        method=run.source,
        stages=_stage_seconds(run),
        notes=tuple(notes),
        stage_log=tuple(s.as_dict() for s in run.stages),
        history=tuple(run.history),
    )


def _stage_seconds(run: Run) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in run.stages:
        out[s.name] = out.get(s.name, 0.0) + s.seconds
    return out


def _no_plan_message(run: Run) -> str:
    used = sorted(run.stages, key=lambda s: -s.seconds)
    spent = ", ".join(f"{s.name} {s.seconds:.1f}s ({s.outcome})" for s in used[:4])
    looser = ", ".join(_looser(run.spec))
    if run.budget.limited:
        return (
            f"no plan found yet in the time limit of {run.budget.limit:g}s ({spent}); this is not a proof "
            f"that no plan exists: try --time-limit {run.budget.suggest():.0f}, {looser}, or --relax for "
            "the least-violation plan"
        )
    return f"no plan found ({spent}); try {looser}, or --relax for the least-violation plan"


def _looser(spec: ModelSpec) -> list[str]:
    """The options whose loosening may let a plan be found, of those the model has (QA56 F2: a run whose
    disruption budget was what bound was told only "a wider --tolerance")."""
    out = ["a wider --tolerance"]
    if spec.budget is not None:
        out.append("a larger --max-moved-share")
    if spec.rep_budget_share is not None:
        out.append("a larger --max-moved-share-per-rep")
    if spec.groups is not None:
        out += [f"a wider --{level}-tolerance" for level in spec.groups.levels]
    if spec.min_accounts is not None or spec.max_accounts is not None:
        out.append("looser --min-accounts / --max-accounts")
    p = spec.problem
    if p.unit_home_kept is not None and p.home_km is not None and p.unit_home_kept.any():
        out.append(f"a smaller --keep-home than {p.home_km:g} (or none)")  # QA59: in force, unnamed
    return out


# ----------------------------------------------------------------------------------------------- stages


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
                f"column generation stopped after {lp.rounds} rounds before converging; the lower bound is "
                "the Lagrangian bound of the best duals"
            )
        if lp.slack_total <= 1e-6:
            run.raise_bound(lp.bound)
            run.outcome(f"bound {lp.bound:,.1f} after {lp.rounds} rounds")
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
        if regions:
            res = repair.repair_by_regions(
                spec,
                run.lp,
                run.backend,
                deadline=deadline,
                seed=run.seed,
                threads=run.threads,
                abs_gap=abs_gap,
                max_reps=REGION_REPS,
            )
        if res.unit_rep is None:
            res = repair.repair(
                spec,
                run.lp,
                run.backend,
                deadline=deadline,
                seed=run.seed,
                threads=run.threads,
                abs_gap=abs_gap,
            )
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


def _affordable_pairs(run: Run) -> int:
    """Building the model takes time too: never more pairs than a quarter of the time left can build at
    the measured speed (a loaded machine builds two to three times slower)."""
    return int(0.25 * run.budget.remaining() / BUILD_SECONDS_PER_PAIR)


def _mip_fits(run: Run, pairs: int) -> bool:
    """Whether the time left builds a MIP over ``pairs`` pairs and lets HiGHS presolve it, at half the
    measured speed: HiGHS does not stop its presolve at the time limit (a 396,795-pair model started
    with 14 s left ran 42 s)."""
    return run.budget.remaining() >= 2 * pairs * (BUILD_SECONDS_PER_PAIR + PRESOLVE_SECONDS_PER_PAIR)


def _whole_affordable(run: Run) -> bool:
    """Whether the whole-model stage has time to build a model with two reps per unit."""
    return _affordable_pairs(run) >= 2 * run.spec.problem.n_units


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


def _whole_infeasible(spec: ModelSpec, moved_least: float | None = None) -> InfeasibleError:
    """HiGHS proved the MIP over every allowed pair infeasible. The proof covers the whole model, so the
    message names every family of rows in it besides the bands (any of them may be what to relax: QA4's
    sweep point with a 30% disruption budget said only "widen --tolerance", where 50% made it feasible).
    ``moved_least``: the least potential the min-moved LP proves must move (``stage_budget``), told with
    the budget so the planner sees what share to try (QA14 10)."""
    p = spec.problem
    conflicts = [Conflict("balance", "no assignment of whole accounts meets every band (HiGHS's proof)")]
    fixes = ["widen --tolerance"]
    total = float(p.acc_potential.sum())  # as --max-moved-share is defined (departed reps' included)
    if spec.budget is not None:
        share = f" ({spec.budget / total:.1%} of the potential)" if total > 0 else ""
        if moved_least is not None and moved_least > 0 and total > 0:
            need = (
                f"the LP proves balancing must move at least {prechecks.money(moved_least)} "
                f"({moved_least / total:.1%}), and with whole accounts it may need more"
            )
            extra: dict[str, object] = {"least_moved_share": moved_least / total, "proven_by": "LP bound"}
        else:  # QA34 F8: at --time-limit 5 the least share was not computed, and rounding was blamed
            need = (
                "the least share balancing must move was not computed in the time (`validate` with the "
                "same options computes it)"
            )
            extra = {}
        conflicts.append(
            Conflict(
                "disruption_budget",
                f"at most {prechecks.money(spec.budget)} potential may move{share}; {need}",
                extra=extra,
            )
        )
        fixes.append("raise --max-moved-share")
    if spec.rep_budget_share is not None:
        conflicts.append(
            Conflict(
                "disruption_budget", f"no rep may lose more than {spec.rep_budget_share:.0%} of its potential"
            )
        )
        fixes.append("raise --max-moved-share-per-rep")
    if spec.min_accounts is not None or spec.max_accounts is not None:
        lo = "-" if spec.min_accounts is None else str(spec.min_accounts)
        hi = "-" if spec.max_accounts is None else str(spec.max_accounts)
        conflicts.append(Conflict("account_count", f"every territory holds {lo} to {hi} accounts"))
    if spec.groups is not None:
        for level in spec.groups.levels:
            conflicts.append(Conflict(level, f"every {level}'s sum of territories stays within its band"))
            fixes.append(f"widen --{level}-tolerance")
    locked = int((p.unit_locked >= 0).sum())
    if locked:
        conflicts.append(Conflict("lock", f"{locked} unit(s) locked to their rep"))
    families = len({f for f in p.acc_family.tolist() if f})
    if families:
        conflicts.append(Conflict("family", f"{families} famil{'y' if families == 1 else 'ies'} kept whole"))
    barred = int((~p.allowed & (p.unit_locked < 0)[:, None]).sum())
    if barred:
        conflicts.append(Conflict("segment", f"{barred:,} (unit, rep) pair(s) barred by segments"))
    others = ", ".join(c.family.replace("_", " ") for c in conflicts[1:])
    rows = f"; the model also holds: {others}, and the proof covers them together" if others else ""
    if others:  # QA21 Q3: read alone, the bands' row was false (whole accounts met them without the rest)
        conflicts[0] = Conflict(
            "balance",
            "no assignment of whole accounts meets every band together with the rows below (HiGHS's proof "
            "over them all; which of them is too tight, the proof does not say)",
        )
    return InfeasibleError(
        "no plan of whole accounts satisfies the model: the MIP over every allowed (account, rep) "
        f"pair is infeasible{_floor_text(spec)}{rows}; "
        f"{', '.join(fixes)} or use --relax",
        conflicts,
    )


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
        _collect_beside(run, beside, "whole_model", stop=False)
        return ""
    if isinstance(beside, background.Portfolio):  # its copies with other seeds race already
        seeds = ", ".join(str(m.seed) for m in beside.members)
        run.progress("waiting for the whole model beside (its copies race with their seeds)")
        while beside.running() and time.perf_counter() < run.deadline:
            time.sleep(0.1)
            run.raise_bound(beside.bound)
            if _take_beside_plan(run, beside) and run.lp is not None and not run.done():
                break  # the search works on the plan on this core, the copies go on beside it
        else:
            _collect_beside(run, beside, "whole_model", stop=run.incumbent is not None or run.done())
        return f"{len(beside.members)} copies, seeds {seeds}"
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


def _adapt(units: int, most: int, step: repair.MipResult, cap: float) -> int:
    """The next neighbourhood's size: a step that HiGHS could not finish within its cap (tight bands, a
    disruption budget) was too big, so the next frees fewer units; one it proved optimal in under a
    fifth of its cap had room to free more (adaptive neighbourhood size, as in SCIP's LNS heuristics)."""
    if step.status == SolveStatus.FEASIBLE and step.seconds >= 0.8 * cap:
        return max(MIN_LNS_UNITS, units // 2)
    if step.status == SolveStatus.OPTIMAL and step.seconds < 0.2 * cap:
        return min(most, int(units * 1.25) + 1)
    return units


def _floor_text(spec: ModelSpec) -> str:
    """The least tolerance the largest accounts force on each measure, when any does and it is above the
    measure's own tolerance (QA6: "balance floor: +-0.0%" read as if the bands were +-0%; QA19 F9: "need
    bands of at least potential +-1.9%" under --tolerance 0.15, which explains nothing)."""
    tolerance = spec.problem.tolerance
    floor = {
        measure: v
        for m, (measure, v) in enumerate(prechecks.balance_floor(spec).items())
        if v >= 5e-4 and v > tolerance[m]
    }
    if not floor:
        return ""
    need = ", ".join(f"{m} +-{100 * v:.1f}%" for m, v in floor.items())
    return f" (the largest accounts alone need bands of at least {need})"


def _least_violation_start(run: Run) -> None:
    """After a pre-check's proof under --relax: the LP and the balancing search, for ``run.partial``
    (their own proofs or failures only mean there is no such start). The search runs also when the LP
    stage ends in a proof: the LP it solved, needing slack, and the budget check's least-moving LP are
    its starts (1,989 Texas ZIPs x 40 reps, a budget of 3.4% where balancing needs 3.7%: from the nearest
    reps, a relaxed plan 1.27 targets of violation out, bands broken by up to 29%)."""
    for stage in (stage_lp, stage_construct):
        with suppress(InfeasibleError, SolverError):
            stage(run)


def _relaxed(
    run: Run, conflicts: list[Conflict], start: float, deadline: float
) -> tuple[np.ndarray, SolveResult]:
    """--relax: the least-violation integer plan (elastic MIP over the LP's pool, or every pair).

    The violation is measured against the user's bands, not the model's rounded inwards to a measure's
    step (``integral_bands``): rounding keeps every plan of a feasible model, but it can leave both reps'
    bands empty and make every plan break them alike, so travel chose (the brute-force property test: a
    plan 2.8 targets out where 1.2 was the least)."""

    p = run.spec.problem
    spec = dataclasses.replace(run.spec, lower=p.lower_band.copy(), upper=p.upper_band.copy())
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
    t = time.perf_counter()
    least = first_plan if first_plan is not None and (first_plan >= 0).all() else (guess if fits else None)
    proof = _least_proof(spec, whole, first, least is not None and least is first_plan)
    wide = None if least is None else _widened(spec, least)
    found: np.ndarray | None
    left = deadline - time.perf_counter()
    if least is not None and left < RELAX_TRAVEL_SECONDS:
        # no time for a travel stage: a solve begun now (its LP, the whole model beside) would run past
        # the command's promise (QA34 F2: --time-limit 5 took 8.1 s, 10 took 13.5 s on 3,142 counties)
        found, method = least, "elastic-mip"
        run.stages.append(Stage("relaxed_travel", 0.0, f"skipped: {max(left, 0.0):.1f}s left"))
    elif least is not None and every_pair:
        # a model small enough for every pair: the elastic MIP with travel, its total violation capped at
        # the least plan's (QA42 F2: with each band widened to that plan's loads, its spread of the
        # violation over the bands was frozen, and 180 Moroccan cities x 15 reps kept 51,526 of travel
        # where plans of the same violation have 24,087)
        found, outcome = _least_travel_at(run, spec, pool & spec.allowed, least, prices, deadline)
        run.stages.append(Stage("relaxed_travel", time.perf_counter() - t, outcome))
        method = "elastic-mip+travel"
    elif wide is not None and least is not None:
        # travel with no band's violation above the least one's: the model with each band widened just
        # enough for that plan, solved by this pipeline (its travel stages), started from that plan
        try:
            found, res = solve(
                wide, run.backend, budget=TimeBudget.until(deadline), gap=run.gap, seed=run.seed,
                threads=run.threads, candidates=run.candidates, relax=False, progress=run.progress,
                start_plan=least,
            )  # fmt: skip
            outcome = f"{res.status}, travel {run.objective_of(least):,.1f} -> {res.objective:,.1f}"
        except (InfeasibleError, SolverError) as err:  # cannot happen (least fits): keep least, say why
            found, outcome = least, f"kept the least-violation plan ({err})"
        run.stages.append(Stage("relaxed_travel", time.perf_counter() - t, outcome))
        method = "elastic-mip+travel"
    else:  # it breaks a count or budget row, which cannot be widened per rep: the elastic MIP with travel
        second, found = _elastic_mip(
            run,
            spec,
            pool & spec.allowed,
            least,
            name="relaxed",
            deadline=deadline,
            gap=1e-3,
            prices=prices,
        )
        if found is None or (found < 0).any():  # the travel pass found nothing: the violation pass's plan
            found = least
        run.stages.append(Stage("relaxed", time.perf_counter() - t, second.status.value))
        method = "elastic-mip"
    if found is None:  # the search's least-violation assignment is still the best there is
        unit_rep = guess.astype(np.int64)
        method = "least-violation search (the elastic MIP found nothing in time)"
    else:
        unit_rep = found
    compact = float(spec.cost[np.arange(len(unit_rep)), unit_rep].sum())
    return unit_rep, SolveResult(
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
            proof,
            *(f"{c.family}: {c.message}" for c in conflicts),
        ),
        violations=tuple(_violations(spec, unit_rep)),
        stage_log=tuple(s.as_dict() for s in run.stages),
        proven_infeasible=bool(conflicts),  # they come with an InfeasibleError: a proof
    )


# the first note of every relaxed plan
RELAXED_NOTE = (
    "RELAXED PLAN: no plan meets every constraint (or none was found in time); this plan violates the "
    "constraints listed in violations"
)
# how every note of _least_proof begins: the CLI shows those notes on its relaxed line
LEAST_NOTE = "relaxed: the violation is"


def _least_proof(spec: ModelSpec, whole: bool, first: SolveOutcome | None, from_mip: bool) -> str:
    """What the MIP on the violation alone proved of the least violation: the violation is least (within
    its 0.1% gap) or at least HiGHS's bound, both only when its columns were every allowed pair (``whole``;
    the largest unit kept with one of its interchangeable reps loses no plan); else that it is the least
    found, not proven (QA25 F1: nothing said so)."""
    if not from_mip or first is None or first.objective is None or spec.groups is not None:
        return f"{LEAST_NOTE} the least found in the time, not proven least"
    if not whole:
        return (
            f"{LEAST_NOTE} the least found in the time, not proven least (the MIP on the "
            f"violation had the pairs of the LP and each account's {SEARCH_CANDIDATES} nearest reps)"
        )
    if first.status is SolveStatus.OPTIMAL:
        return f"{LEAST_NOTE} proven least (HiGHS, within 0.1%)"
    share = 0.0 if first.bound is None or first.objective <= 0 else max(first.bound, 0.0) / first.objective
    if share < 0.001:  # a bound of 0 says nothing (QA37 F6: "at least 0.0% of it")
        return f"{LEAST_NOTE} the least found in the time, not proven least"
    return (
        f"{LEAST_NOTE} the least found in the time, not proven least: every plan's violation (bands, "
        f"budgets and counts together, in targets) is at least {100 * share:.1f}% of it (HiGHS's bound)"
    )


def _largest_unit_at_nearest(spec: ModelSpec, pool: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """--relax, before the MIP on the violation alone: the largest unit (against the bands) goes to the
    rep of least cost among the reps interchangeable with the one ``guess`` gives it (the same bands and
    the same units allowed), ``guess`` with those two reps' territories swapped, and ``pool`` keeps no
    other rep of that class for it. Swapping two interchangeable reps changes no violation, so the least
    violation stays within reach; the travel stage after it keeps each rep's band as wide as the least-
    violation plan needs, and can then keep the unit where it is cheapest. QA25 F1: Berlin, above every
    band, went with a rep based 150 km away, as the MIP on the violation alone prices travel at zero, while
    the rep based in Berlin had the same band. Not where a row tells the reps apart (district bands,
    disruption budgets, whose moved potential depends on who holds what)."""
    if spec.groups is not None or spec.budget is not None or spec.rep_budget_share is not None:
        return guess
    p = spec.problem
    size = (p.unit_amount / np.maximum(spec.upper.max(axis=1), 1e-12)[None, :]).max(axis=1)
    u = int(np.argmax(size))
    a = int(guess[u])

    def alike(j: int) -> bool:
        return bool(
            np.array_equal(spec.lower[:, j], spec.lower[:, a])
            and np.array_equal(spec.upper[:, j], spec.upper[:, a])
            and np.array_equal(spec.allowed[:, j], spec.allowed[:, a])
        )

    twins = [j for j in range(p.n_reps) if alike(j)]
    b = min(twins, key=lambda j: (float(spec.objective[u, j]), j))
    pool[u, twins] = False
    pool[u, b] = True
    if b == a:
        return guess
    swapped = guess.copy()
    swapped[guess == a], swapped[guess == b] = b, a
    pool[np.arange(len(swapped)), swapped] = True
    return swapped


def _least_travel_at(
    run: Run,
    spec: ModelSpec,
    cols: np.ndarray,
    least: np.ndarray,
    prices: dict[str, np.ndarray],
    deadline: float,
) -> tuple[np.ndarray, str]:
    """The least-travel plan whose violation (the elastic model's priced slacks) is at most ``least``'s:
    the elastic MIP over ``cols`` with that cap, started from ``least``; ``least`` itself when HiGHS has
    nothing better by ``deadline``. Returns the plan and the stage's outcome."""
    out, plan = _elastic_mip(
        run, spec, cols, least, name="relaxed_travel", deadline=deadline, gap=run.gap, prices=prices,
        cap_at_start=True,
    )  # fmt: skip
    before = run.objective_of(least)
    after = float("inf") if plan is None or (plan < 0).any() else run.objective_of(plan)
    if plan is None or after >= before:
        return least, f"{out.status.value}: kept the least-violation plan"
    return plan, f"{out.status.value}, travel {before:,.1f} -> {after:,.1f}"


def _widened(spec: ModelSpec, plan: np.ndarray) -> ModelSpec | None:
    """``spec`` with each rep's and each district's / region's balance band widened just enough to hold
    ``plan``'s totals; None when the plan breaks a row of another kind (account counts, budgets)."""
    p = spec.problem
    load = hierarchy.rep_loads(p.unit_amount, plan, p.n_reps)
    wide = dataclasses.replace(spec, lower=np.minimum(spec.lower, load), upper=np.maximum(spec.upper, load))
    if spec.groups is not None:
        g = spec.groups
        gload = hierarchy.loads(g, p.unit_amount, plan)
        groups = dataclasses.replace(g, lower=np.minimum(g.lower, gload), upper=np.maximum(g.upper, gload))
        wide = dataclasses.replace(wide, groups=groups)
    return wide if repair.feasible(wide, plan) else None


def _violations(spec: ModelSpec, unit_rep: np.ndarray) -> list[dict[str, object]]:
    """Every band, count and budget the plan breaks, by how much (recomputed from the plan). Bands are the
    user's, not the model's rounded inwards to a measure's step (``integral_bands``): a whole-multiple
    total breaks one exactly when it breaks the other, and the amount is the one `edit` reports (QA6)."""
    p = spec.problem
    out: list[dict[str, object]] = []
    for m, measure in enumerate(p.measures):
        load = np.bincount(unit_rep, weights=p.unit_amount[:, m], minlength=p.n_reps)
        lo, hi = p.lower_band[m], p.upper_band[m]
        for j in range(p.n_reps):
            if load[j] < lo[j] - 1e-6 * max(hi[j], 1.0):
                out.append(_violation("balance_min", p.rep_ids[j], measure, lo[j] - load[j]))
            elif load[j] > hi[j] + 1e-6 * max(hi[j], 1.0):
                out.append(_violation("balance_max", p.rep_ids[j], measure, load[j] - hi[j]))
    counts = np.bincount(unit_rep, weights=p.unit_size, minlength=p.n_reps)
    for j in range(p.n_reps):
        if spec.min_accounts is not None and counts[j] < spec.min_accounts:
            out.append(_violation("min_accounts", p.rep_ids[j], "", spec.min_accounts - counts[j]))
        if spec.max_accounts is not None and counts[j] > spec.max_accounts:
            out.append(_violation("max_accounts", p.rep_ids[j], "", counts[j] - spec.max_accounts))
    idx = np.arange(p.n_units)
    if spec.budget is not None:
        moved = float(spec.moved[idx, unit_rep].sum())
        if proofs.above_budget(spec, moved):
            out.append(_violation("budget", "", "", moved - spec.budget))
    if spec.rep_budget_share is not None:
        kept = np.bincount(unit_rep, weights=spec.stay[idx, unit_rep], minlength=p.n_reps)
        need = (1 - spec.rep_budget_share) * spec.held
        for r in np.flatnonzero(kept < need - 1e-6 * np.maximum(spec.held, 1.0)).tolist():
            out.append(_violation("rep_budget", p.rep_ids[r], "", need[r] - kept[r]))
    return out + hierarchy.violations(spec, unit_rep)


def _violation(family: str, rep: object, measure: str, amount: float) -> dict[str, object]:
    return {"constraint": family, "rep_id": str(rep), "measure": measure, "violation": float(amount)}
