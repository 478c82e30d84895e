"""Connected districts: each district's territories together form one piece of the map.

A district's membership of unit i is z[i, D] = sum_{j in D} x[i, j]. Every rep's home unit stays with
its rep (as for ``--contiguous``), so each district holds a known root unit (its first rep's home).
For a piece S of district D without that root, any connected district holding the root and a unit of S
also holds a unit of the boundary N(S):

    z[i, D] <= sum_{k in N(S)} z[k, D]        for i in S

These are ``formulation.Cut`` rows with ``reps`` = the district's reps; they pass through the same
formulation, column entries and Lagrangian terms as the per-territory cuts. ``solve`` runs the cut loop
on the whole model (every allowed pair), warm-started from the best connected plan known, separating the
district pieces (and the territory pieces with ``--contiguous``) of each answer. The MIP's dual bound
with the cuts is a lower bound on the model with connected districts; when the loop does not settle in
the time given, the plan with the fewest stray pieces is kept and reported as not connected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.contiguous import with_centres
from territory_planner.optimize.formulation import Cut
from territory_planner.optimize.hierarchy import labels_index
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend


@dataclass(frozen=True)
class DistrictResult:
    unit_rep: np.ndarray
    pieces: dict[str, int]  # per district
    lower_bound: float
    proven_optimal: bool
    rounds: int
    cuts: int
    seconds: float


def district_pieces(adj: Adjacency, unit_rep: np.ndarray, of: np.ndarray, n_districts: int) -> np.ndarray:
    """(D,) connected pieces of each district (reps without a district are left out)."""
    label = np.where(of[unit_rep] >= 0, of[unit_rep], n_districts)
    return contiguity.count_pieces(adj, label, n_districts + 1)[:n_districts]


def separate(
    adj: Adjacency, unit_rep: np.ndarray, of: np.ndarray, root: np.ndarray, members: list[tuple[int, ...]]
) -> list[Cut]:
    """Cuts for every piece of a district that does not hold its root unit."""
    n_d = len(members)
    label = np.where(of[unit_rep] >= 0, of[unit_rep], n_d)
    out: list[Cut] = []
    for d, piece in contiguity.stray_pieces(adj, label, n_d + 1, np.append(root, -1)):
        if d >= n_d:
            continue
        nb = tuple(int(k) for k in contiguity.boundary(adj, piece))
        out.extend(Cut(members[d][0], int(i), nb, members[d]) for i in piece.tolist())
    return out


def solve(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    centre: np.ndarray,
    start_plan: np.ndarray,
    *,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    bound: float,
) -> DistrictResult:
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    p = spec.problem
    of, names = labels_index(p.districts)
    members = [tuple(np.flatnonzero(of == d).tolist()) for d in range(len(names))]
    root = np.array([centre[m[0]] for m in members], dtype=np.int64)
    spec_c = with_centres(spec, centre)
    col_unit, col_rep = np.nonzero(spec_c.allowed)
    pool = lns.CutPool()

    def stray(plan: np.ndarray) -> list[Cut]:
        cuts = separate(adj, plan, of, root, members)
        if territories_too:
            cuts += lns.separate(adj, plan, centre)
        return cuts

    best: np.ndarray | None = None
    last = start_plan
    lower, proven, rounds = bound, False, 0
    if not stray(start_plan) and (start_plan[centre[centre >= 0]] == np.flatnonzero(centre >= 0)).all():
        best = start_plan
        value = lns.objective(spec, best)
        if np.isfinite(lower) and value - lower <= gap * max(abs(value), 1e-9):
            deadline = t0  # connected already, and within --gap of the bound: nothing left to do
    while best is None or not proven:
        if time.perf_counter() > deadline - 0.5:
            break
        rounds += 1
        plan, out = lns.solve_mip(
            spec_c, col_unit, col_rep, pool.cuts, backend,
            time_limit=deadline - time.perf_counter(), gap=gap, seed=seed, threads=threads, warm=best,
        )  # fmt: skip
        if plan is None:
            break
        if out.bound is not None:
            lower = max(lower, float(out.bound))
        new = pool.add(stray(plan))
        if not new:
            if best is None or lns.objective(spec, plan) <= lns.objective(spec, best):
                best = plan
            proven = out.status.name == "OPTIMAL"
            break
        last = plan
    final = best if best is not None else last
    pieces = district_pieces(adj, final, of, len(names))
    return DistrictResult(
        final,
        {n: int(k) for n, k in zip(names, pieces.tolist(), strict=True)},
        lower,
        proven and best is not None,
        rounds,
        len(pool.cuts),
        time.perf_counter() - t0,
    )
