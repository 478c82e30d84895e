"""The solve pipeline's run state and bookkeeping: the ``Run`` every stage passes along (the model, the
clock, the best plan and bound so far, what each stage cost), the thresholds several stages read, what
the time left affords, and the ``SolveResult`` a run with a plan ends in.

Split from ``pipeline`` (the style guide's ~400-line limit): each stage module reads and writes this
state, and none of them imports ``pipeline``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from territory_planner.errors import SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import background, repair
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

log = logging.getLogger(__name__)
OPTIMALITY_TOL = 1e-4
WHOLE_MODEL_PAIRS = 400_000  # up to this many allowed pairs, the whole-model MIP keeps every pair
BUILD_SECONDS_PER_PAIR = 3e-5  # PuLP model and its transfer to HiGHS, measured (26 us per pair)
PRESOLVE_SECONDS_PER_PAIR = 3e-5  # HiGHS's MIP presolve, which ignores its time limit (measured 18-25 us)
EXACT_PAIRS = 60_000  # the exact stage runs whenever reduced-cost fixing keeps at most this many pairs
Progress = Callable[[str], None]


def _gap(upper: float, lower: float) -> float:
    if not np.isfinite(lower):
        return float("inf")
    if upper <= 0:
        return 0.0 if lower >= upper - 1e-9 else float("inf")
    return max(0.0, (upper - lower) / upper)


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


class _PastPromiseError(Exception):
    """No plan yet, and the command's promise (``TimeBudget.last``) reached: no stage may start."""


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
