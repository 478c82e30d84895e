"""Solver back-ends (installed as ``territory_planner.solvers``).

This package is the only place that names a PuLP solver class. The formulation never builds a solver:
it asks the registry for a back-end by name (``"highs"``, ``"cbc"``) and hands it a PuLP problem.
"""

from territory_planner.solvers.base import Backend, SolveOutcome, SolveStatus
from territory_planner.solvers.registry import available_backends, get_backend

__all__ = ["Backend", "SolveOutcome", "SolveStatus", "available_backends", "get_backend"]
