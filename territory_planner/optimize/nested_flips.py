"""The flip-search levels of ``optimize.nested_districts``: connected districts within their bands,
then connected territories within theirs with the districts' bands and pieces kept (a joint search).

Level 1 is the flip search (``optimize.flip_search``) on the district model: the parts are the
districts, the bands the district rows intersected with the sums of the reps' bands, every rep's home
unit fixed to its district. Level 2 is one search over the whole map whose parts are the reps and whose
groups are the districts: it starts from each district's own connected start (the graph Voronoi of its
reps' homes inside it) and moves units between territories of one district or, when the bands and
pieces of both districts allow it, of two districts, so a territory caught in a pocket of its district
can still reach its band. Both return plain arrays; the caller checks every row of the model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import design, flip_search, parts, repair
from territory_planner.optimize.spec import ModelSpec


def fixed_units(n_units: int, home: np.ndarray, part: np.ndarray) -> np.ndarray:
    """(n,) the part each home unit is fixed to (``part`` (p,) per rep), -1 elsewhere."""
    out = np.full(n_units, -1, dtype=np.int64)
    has = home >= 0
    out[home[has]] = part[has]
    return out


def districts(
    spec1: ModelSpec,
    adj: Adjacency,
    home: np.ndarray,
    of: np.ndarray,
    deadline: float,
    seed: int,
    start: np.ndarray | None = None,
    cost: np.ndarray | None = None,
) -> tuple[np.ndarray | None, bool]:
    """Level 1: (district of each unit, every district one piece, or None without a connected start;
    whether the plan meets every row of the district model). ``start``: the districts to begin from (each
    one piece holding its homes), else grown from the homes; when neither of ``parts.connected_start``'s
    constructions gives one, the reps' own cells (``design.home_cells`` by ``cost`` (n, p), each one piece
    around its home; only when every rep has a home) joined by district, when that makes every district
    one piece holding its homes (QA96 F2: 254 Texas counties x 16 reps, a grouping of connected cells that
    both constructions, grown by district from the homes, left in pieces)."""
    pp1 = parts.from_spec(spec1, adj.csr(), fixed_units(spec1.problem.n_units, home, of))
    begin = parts.connected_start(pp1) if start is None else start
    if begin is None and cost is not None and (home >= 0).all():
        begin = _joined_cells(pp1, spec1, of[design.home_cells(adj, home, cost)])
    if begin is None:
        return None, False
    plan = flip_search.balance(pp1, begin, deadline, seed)
    return plan, repair.feasible(spec1, plan)


def _joined_cells(pp1: parts.PartProblem, spec1: ModelSpec, joined: np.ndarray) -> np.ndarray | None:
    """``joined`` (a district per unit) when it is a start of level 1: every unit in a district it may
    join, every home in its own district, every district one piece; else None."""
    fixed = pp1.fixed >= 0
    if (joined[fixed] != pp1.fixed[fixed]).any() or not spec1.allowed[np.arange(len(joined)), joined].all():
        return None
    return joined if parts.pieces_of(pp1, joined) == pp1.k else None


def joint_problem(
    spec: ModelSpec, adj: Adjacency, home: np.ndarray, of: np.ndarray, spec1: ModelSpec
) -> parts.PartProblem:
    """Parts = reps (homes fixed), groups = districts with the district model's bands and targets."""
    pp = parts.from_spec(spec, adj.csr(), fixed_units(spec.problem.n_units, home, np.arange(len(of))))
    groups = parts.Groups(of, spec1.lower, spec1.upper, spec1.problem.target)
    return dataclasses.replace(pp, groups=groups)


def territories(
    pp: parts.PartProblem, of: np.ndarray, unit_district: np.ndarray, deadline: float, seed: int
) -> tuple[np.ndarray | None, float]:
    """Level 2: (rep of each unit, every territory and district one piece: the plan with the least band
    violation found, None without a connected start; that violation, 0 when every band holds)."""
    start = np.full(pp.n, -1, dtype=np.int64)
    for d in range(int(of.max()) + 1):
        units, reps = np.flatnonzero(unit_district == d), np.flatnonzero(of == d)
        local = parts.connected_start(parts.restrict(pp, units, reps))
        if local is None:
            return None, float("inf")
        start[units] = reps[local]
    plan = flip_search.balance(pp, start, deadline, seed)
    return plan, flip_search.Search(pp, plan).violation()


def off_target(pp: parts.PartProblem, plan: np.ndarray) -> tuple[float, float]:
    """Largest relative distance from target of any territory and of any district (group)."""
    s = flip_search.Search(pp, plan)
    rep = float(np.nanmax(np.abs(s.load / np.where(pp.target > 0, pp.target, np.nan) - 1.0)))
    gt = s.gtarget
    grp = float(np.nanmax(np.abs(s.gload / np.where(gt > 0, gt, np.nan) - 1.0)))
    return rep, grp
