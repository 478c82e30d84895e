"""Plain-array model objects: ``TerritoryProblem`` (inputs), ``Plan`` and ``SolveResult`` (outputs)."""

from territory_planner.model.plan import Plan, SolveResult
from territory_planner.model.problem import TerritoryProblem

__all__ = ["Plan", "SolveResult", "TerritoryProblem"]
