"""What every back-end returns: an explicit, honest outcome object."""

from __future__ import annotations

import enum
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
        cancel: threading.Event | None = None,
    ) -> SolveOutcome: ...
