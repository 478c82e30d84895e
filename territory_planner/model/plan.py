"""Result objects: explicit fields, never attributes set on the fly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SolveResult:
    status: str  # "optimal" | "feasible" | "relaxed"
    proven_optimal: bool
    objective: float
    compactness: float  # sum workload * km; equals objective when there is no disruption penalty
    lower_bound: float
    gap: float
    seconds: float
    solver: str
    method: str  # which path produced the plan (e.g. "lp+repair", "full-mip")
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    notes: tuple[str, ...] = ()
    violations: tuple[dict[str, object], ...] = ()  # only for relaxed plans
    stage_log: tuple[dict[str, object], ...] = ()  # every stage that ran: name, seconds, outcome
    history: tuple[dict[str, object], ...] = ()  # every new best plan or bound: seconds, objective, gap
    proven_infeasible: bool = False  # relaxed: no plan meets every constraint, proven (notes say how)

    def relaxed(self, **changes: Any) -> SolveResult:
        """This result as a relaxed plan (``--relax``): a plan that breaks a row of its model has no proven
        optimum and no gap; ``changes`` as for ``dataclasses.replace`` (its violations, notes, ...)."""
        return dataclasses.replace(self, status="relaxed", proven_optimal=False, gap=float("nan"), **changes)


@dataclass(frozen=True)
class Plan:
    unit_rep: np.ndarray  # rep index per unit
    account_rep: np.ndarray  # rep index per account
    home_lat: np.ndarray  # per rep, after centres were chosen
    home_lon: np.ndarray
    home_chosen: np.ndarray  # bool per rep: centre chosen by the planner
    result: SolveResult
