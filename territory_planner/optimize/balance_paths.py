"""Balance connected parts by re-solving chains of them, each part staying one piece.

A start where every part (territory or district) is one piece but some are outside their band is
balanced by neighbourhood MIPs over *paths* of touching parts: from the part furthest outside its
band to a part on the other side of its target in that measure (over -> under), the units of every
part on the path are freed (all others fixed) and re-assigned among those parts with

- order rows (``contiguous_lns.add_order_rows``: a unit joins a part only through a neighbour nearer
  the part's root), so every part stays one piece by construction;
- elastic band rows: each unit of band violation costs 1 / the measure's mean target, and the travel
  cost is scaled so that all of it weighs less than 0.1% of one target, so the MIP first moves load
  along the path from the over part to the under part, then keeps the parts compact.

A path is accepted when it lowers the total violation; the search stops when every band holds, when
no path helps, or at the deadline.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize import formulation
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

PARTNERS = 3  # parts on the other side of the target tried per step
PATH_TIME_CAP = 30.0  # seconds per path MIP
COST_WEIGHT = 1e-3  # all the travel weighs this share of one target's violation


@dataclass(frozen=True)
class PathBalance:
    unit_rep: np.ndarray
    within_bands: bool
    solves: int
    violation: float  # total, in targets


def loads(spec: ModelSpec, plan: np.ndarray) -> np.ndarray:
    p = spec.problem
    amount = p.unit_amount
    return np.stack(
        [np.bincount(plan, weights=amount[:, m], minlength=p.n_reps) for m in range(amount.shape[1])]
    )


def violation(spec: ModelSpec, load: np.ndarray) -> np.ndarray:
    """(M, p) signed band violation relative to the target: > 0 above the band, < 0 below."""
    scale = np.maximum(np.abs(spec.problem.target), 1e-12)
    over = np.maximum(load - spec.upper, 0.0)
    under = np.maximum(spec.lower - load, 0.0)
    out: np.ndarray = (over - under) / scale
    return np.where(np.abs(out) < 1e-9, 0.0, out)


def touching(adj: Adjacency, plan: np.ndarray, p: int) -> list[set[int]]:
    nb: list[set[int]] = [set() for _ in range(p)]
    a, b = plan[adj.u], plan[adj.v]
    for x, y in {(int(x), int(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True) if x != y}:
        nb[x].add(y)
        nb[y].add(x)
    return nb


def path(nb: list[set[int]], a: int, b: int) -> list[int]:
    """Parts on a shortest chain of touching parts from a to b ([] when none)."""
    prev = {a: a}
    queue = deque([a])
    while queue:
        x = queue.popleft()
        if x == b:
            out = [b]
            while out[-1] != a:
                out.append(prev[out[-1]])
            return out[::-1]
        for y in sorted(nb[x]):
            if y not in prev:
                prev[y] = x
                queue.append(y)
    return []


def solve_path(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    plan: np.ndarray,
    parts: np.ndarray,
    root: np.ndarray,
    *,
    time_limit: float,
    seed: int,
    threads: int | None,
) -> np.ndarray | None:
    """The units of ``parts`` re-assigned among them (elastic bands, order rows); None if no answer."""
    p = spec.problem
    inside = np.zeros(p.n_reps, dtype=bool)
    inside[parts] = True
    free = np.flatnonzero(inside[plan])
    fixed = plan.copy()
    fixed[free] = -1
    cu, cr = np.nonzero(spec.allowed[free][:, parts])
    col_unit, col_rep = free[cu], parts[cr]
    travel = float(spec.objective[free, plan[free]].sum())
    scaled = dataclasses.replace(
        spec, cost=spec.objective * (COST_WEIGHT / max(travel, 1e-12)), disruption_price=0.0
    )
    mean_target = np.maximum(np.abs(p.target).mean(axis=1), 1e-12)
    prices = {"balance": 1.0 / mean_target, "count": np.array([1.0]), "budget": np.array([1.0])}
    form = formulation.build(
        scaled, col_unit, col_rep, free=free, fixed_rep=fixed, integer=True, elastic=True,
        slack_price=prices, name="path", reps=parts,
    )  # fmt: skip
    lns.add_order_rows(form, spec, adj, root)
    out = backend.solve(
        form.prob, form.variables, form.constraints, mip=True, time_limit=max(time_limit, 0.5), gap=1e-3,
        seed=seed, threads=threads,
    )  # fmt: skip
    if not out.has_solution:
        return None
    x = out.values[: form.n_cols] > 0.5
    new = fixed.copy()
    new[col_unit[x]] = col_rep[x]
    return None if (new < 0).any() else new


def balance(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    plan: np.ndarray,
    root: np.ndarray,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
) -> PathBalance:
    """Paths from the worst part to parts on the other side of its target until every band holds.
    ``plan`` has every part in one piece holding its ``root`` unit; so does the result."""
    p = spec.problem.n_reps
    plan = plan.copy()
    solves = 0
    tried: set[tuple[int, ...]] = set()
    while time.perf_counter() < deadline - 0.5:
        v = violation(spec, loads(spec, plan))
        total = float(np.abs(v).sum())
        if total == 0.0:
            return PathBalance(plan, True, solves, 0.0)
        m, d = np.unravel_index(int(np.abs(v).argmax()), v.shape)
        sign = np.sign(v[m, d])
        rel = loads(spec, plan)[m] / np.maximum(spec.problem.target[m], 1e-12)
        nb = touching(adj, plan, p)
        improved = False
        for e in [int(e) for e in np.argsort(sign * rel) if e != d][:PARTNERS]:
            parts = path(nb, int(d), e)
            key = tuple(sorted(parts)) + (round(total, 9),)
            if not parts or key in tried:
                continue
            tried.add(key)
            left = deadline - time.perf_counter()
            new = solve_path(
                spec, adj, backend, plan, np.array(parts), root,
                time_limit=min(left, PATH_TIME_CAP), seed=seed, threads=threads,
            )  # fmt: skip
            solves += 1
            if new is None or (contiguity.count_pieces(adj, new, p)[parts] > 1).any():
                continue
            if float(np.abs(violation(spec, loads(spec, new))).sum()) < total - 1e-9:
                plan, improved = new, True
                break
        if not improved:
            break
    v = violation(spec, loads(spec, plan))
    return PathBalance(plan, bool((v == 0).all()), solves, float(np.abs(v).sum()))
