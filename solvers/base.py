"""What every back-end returns: an explicit, honest outcome object."""

from __future__ import annotations

import enum
import math
import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pulp


class SolveStatus(enum.Enum):
    OPTIMAL = "optimal"  # the solver proved optimality (within its gap tolerance)
    FEASIBLE = "feasible"  # a solution exists but optimality is not proven (time limit, gap limit)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # stopped (time limit, error) without any solution


@dataclass
class SolveOutcome:
    status: SolveStatus
    objective: float | None
    bound: float | None  # the solver's proven dual bound (MIP) or LP objective
    seconds: float
    values: np.ndarray  # variable values, in ``variables`` order
    row_duals: np.ndarray | None = None  # constraint duals (LP only), in ``constraints`` order
    message: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


class LiveMip:
    """What a MIP solving in another thread shares with its caller while it runs: ``cancel`` stops it
    (with its best solution and bound), it reports its proven dual bound and each new best solution as
    they come, and the caller hands it better solutions (values in variable order) for its tree search to
    prune with."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.cancel = threading.Event() if cancel is None else cancel  # may be shared by several runs
        self._lock = threading.Lock()
        self._bound = -math.inf
        self._pending: np.ndarray | None = None
        self._pending_counted = True  # whether the pending solution counts in ``taken`` when taken
        self._solution: np.ndarray | None = None
        self.taken = 0  # solutions handed over so far
        self.found = 0  # improving solutions the solver reported so far

    @property
    def bound(self) -> float:
        return self._bound

    def report_bound(self, value: float) -> None:
        if math.isfinite(value) and value > self._bound:
            self._bound = value

    def post(self, values: np.ndarray, *, counted: bool = True) -> None:
        """A better solution for the solver; it replaces one not taken yet. ``counted``: it counts in
        ``taken`` once the solver takes it up (a plan of the caller's search; not one another copy of
        the same model found)."""
        with self._lock:
            self._pending = np.asarray(values, dtype=float)
            self._pending_counted = counted

    def report_solution(self, values: np.ndarray) -> None:
        """The solver's new best solution (values in variable order), readable while it runs."""
        copy = np.array(values, dtype=float)
        with self._lock:
            self._solution = copy
            self.found += 1

    def solution(self) -> tuple[int, np.ndarray | None]:
        """(how many improving solutions so far, the last one or None)."""
        with self._lock:
            return self.found, self._solution

    def take(self) -> np.ndarray | None:
        with self._lock:
            values, self._pending = self._pending, None
            counted = self._pending_counted
        if values is not None and counted:
            self.taken += 1
        return values


class Backend(Protocol):
    name: str

    def available(self) -> bool: ...

    def version(self) -> str: ...

    def solve(
        self,
        prob: pulp.LpProblem,
        variables: list[pulp.LpVariable],
        constraints: list[pulp.LpConstraint],
        *,
        mip: bool,
        time_limit: float | None,
        gap: float | None,
        seed: int,
        threads: int | None,
        lp_method: str = "simplex",
        abs_gap: float | None = None,
        start: np.ndarray | None = None,
        node_limit: int | None = None,
        solution_limit: int | None = None,
        live: LiveMip | None = None,
    ) -> SolveOutcome: ...
