"""Connected districts on large maps, level by level: districts first, then territories inside them.

The whole-model district cut loop (``district_contiguity``) needs a MIP over every (unit, rep) pair:
on 3,100 counties and 100 reps that is 310,000 binaries per round, far too many. Here the plan is built
in two levels that each stay small:

1. **Districts as territories.** A model with one column per (unit, district): the district's band
   (its rows ``district_min/max_*``, intersected with the sum of its reps' bands) as the band, the
   least cost of the unit to any of the district's reps as the cost, every rep's home unit confined to
   its district. 3,100 units x 10 districts = 31,000 pairs: the pipeline balances it and
   ``contiguous.solve_contiguous`` makes every district one piece (the whole-model cut loop fits).
2. **Territories inside each district.** The full model with each unit allowed only to the reps of
   its district. One district at a time, the units of the district are re-solved with the others
   fixed (``contiguous_lns.solve_neighbourhood``: every row of the full model, and with
   ``--contiguous`` the separator-cut loop until each territory is one piece). A unit never leaves its
   district, so the district totals and pieces of step 1 stay as they are; the polishing pass of the
   neighbourhood search then improves the territories (units still only move inside their district).

The plan meets every constraint of the full model (checked with ``repair.feasible``), the district
contiguity and, with ``--contiguous``, the territory contiguity. Both levels restrict the model, so no
bound comes from them: the bound reported stays the one given (the LP of the full model without
contiguity), a valid lower bound whose gap also holds what the two levels and contiguity cost.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_planner.errors import TerritoryPlannerError
from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import contiguous, flip_search, parts, pipeline, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.hierarchy import GroupBands, labels_index
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

LEVEL1_SHARE = 0.45  # of the time: connected, balanced districts
FLIP_SHARE = 0.6  # of level 1: the flip search (the rest: its neighbourhood polish)
LEVEL2_SHARE = 0.6  # of each district's even share of the time left: its territories (the rest: polish)
DISTRICT_ATTEMPTS = (False, True)  # per district: the cut loop, then order rows (one solve)


@dataclass(frozen=True)
class NestedResult:
    unit_rep: np.ndarray | None  # None when a level found no plan in time (``reason`` says which)
    reason: str
    district_pieces: np.ndarray  # (D,)
    territory_pieces: np.ndarray  # (p,)
    solves: int
    seconds: float


def _district_bands(spec: ModelSpec, of: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, D) bands of each district: its rows' band within the sum of its reps' bands."""
    member = np.zeros((n, spec.problem.n_reps))
    member[of, np.arange(len(of))] = 1.0
    lower, upper = spec.lower @ member.T, spec.upper @ member.T
    g = spec.groups
    if g is not None:
        for k, (level, name) in enumerate(zip(g.level, g.names, strict=True)):
            if level != "district":
                continue
            d = int(of[np.flatnonzero(g.member[k])[0]])
            lower[:, d] = np.maximum(lower[:, d], g.lower[:, k])
            upper[:, d] = np.minimum(upper[:, d], g.upper[:, k])
            del name
    return lower, upper


def _region_groups(spec: ModelSpec, of: np.ndarray, n: int) -> GroupBands | None:
    """The region rows of ``spec`` over districts (a district's region is its reps' region)."""
    g = spec.groups
    if g is None or "region" not in g.levels:
        return None
    keep = [k for k, lv in enumerate(g.level) if lv == "region"]
    row = g.group_of[g.levels.index("region")]
    of_district = np.full(n, -1, dtype=np.int64)
    of_district[of] = row
    first = min(keep)  # region groups are numbered after the district groups
    return GroupBands(
        ("region",),
        np.where(of_district >= 0, of_district - first, -1)[None, :],
        tuple(g.level[k] for k in keep),
        tuple(g.names[k] for k in keep),
        g.target[:, keep],
        g.lower[:, keep],
        g.upper[:, keep],
    )


def district_level(spec: ModelSpec, of: np.ndarray, names: list[str], home: np.ndarray) -> ModelSpec:
    """Level 1: the model whose "reps" are the districts (``of`` (p,) district of each rep, ``home``
    (p,) each rep's home unit, kept in its district)."""
    p, n = spec.problem, len(names)
    member = np.zeros((n, p.n_reps), dtype=bool)
    member[of, np.arange(p.n_reps)] = True
    allowed = (spec.allowed.astype(np.int64) @ member.T.astype(np.int64)) > 0
    cost = np.stack([np.where(spec.allowed[:, m], spec.cost[:, m], np.inf).min(axis=1) for m in member], 1)
    cost = np.where(allowed, cost, 0.0)
    stay = spec.stay @ member.T.astype(float)
    for j, u in enumerate(home.tolist()):
        if u >= 0:
            allowed[u] = False
            allowed[u, of[j]] = True
    lower, upper = _district_bands(spec, of, n)
    first = [int(np.flatnonzero(m)[0]) for m in member]
    problem = dataclasses.replace(
        p,
        acc_current=np.where(p.acc_current >= 0, of[np.maximum(p.acc_current, 0)], -1),
        acc_locked=np.where(p.acc_locked >= 0, of[np.maximum(p.acc_locked, 0)], -1),
        unit_locked=np.where(p.unit_locked >= 0, of[np.maximum(p.unit_locked, 0)], -1),
        allowed=allowed,
        rep_ids=np.array(names, dtype=str),
        rep_names=np.array(names, dtype=str),
        rep_regions=p.rep_regions[first],
        capacity=member.astype(float) @ p.capacity,
        home_lat=p.home_lat[first],
        home_lon=p.home_lon[first],
        rep_segments=tuple(
            frozenset().union(*(p.rep_segments[j] for j in np.flatnonzero(m))) for m in member
        ),
        target=p.target @ member.T.astype(float),
        rep_districts=None,
    )
    return ModelSpec(
        problem=problem,
        cost=cost,
        moved=stay.sum(axis=1, keepdims=True) - stay,
        stay=stay,
        held=member.astype(float) @ spec.held,
        disruption_price=spec.disruption_price,
        lower=lower,
        upper=upper,
        budget=spec.budget,  # moves between districts are a part of all moves: a relaxation
        rep_budget_share=None,  # per rep: kept by level 2
        min_accounts=None,
        max_accounts=None,
        allowed=allowed,
        groups=_region_groups(spec, of, n),
    )


def within_districts(spec: ModelSpec, of: np.ndarray, unit_district: np.ndarray) -> ModelSpec:
    """Level 2: the full model with each unit allowed only to the reps of its district."""
    return dataclasses.replace(spec, allowed=spec.allowed & (of[None, :] == unit_district[:, None]))


def _start_within(spec2: ModelSpec, plan: np.ndarray | None) -> np.ndarray:
    """Each unit with its rep in ``plan`` when allowed, else with its cheapest allowed rep."""
    cost = np.where(spec2.allowed, spec2.objective, np.inf)
    out = cost.argmin(axis=1)
    if plan is not None:
        ok = spec2.allowed[np.arange(len(plan)), plan]
        out[ok] = plan[ok]
    return out.astype(np.int64)


def solve(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    home: np.ndarray,
    start_plan: np.ndarray | None,
    *,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    max_cut_columns: int,
    progress: Callable[[str], None] = lambda _m: None,
) -> NestedResult:
    """Connected districts (and with ``territories_too`` connected territories) by the two levels;
    ``home`` (p,) each rep's home unit (kept by its rep); the district model's MIP fallback runs the
    whole-model cut loop when it has at most ``max_cut_columns`` pairs."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    p = spec.problem
    of, names = labels_index(p.districts)
    n = len(names)
    graph = adj.csr()

    def result(plan: np.ndarray | None, reason: str, solves: int) -> NestedResult:
        ref = plan if plan is not None else (start_plan if start_plan is not None else home[:0])
        dp = np.zeros(n, np.int64)
        tp = np.zeros(p.n_reps, np.int64)
        if len(ref):
            dp = contiguity.count_pieces(adj, of[ref], n)
            tp = contiguity.count_pieces(adj, ref, p.n_reps)
        return NestedResult(plan, reason, dp, tp, solves, time.perf_counter() - t0)

    spec1 = district_level(spec, of, names, home)
    progress(f"districts first: {n} districts as territories ({int(spec1.allowed.sum()):,} pairs)")
    unit_district, reason, solves = district_plan(
        spec1, adj, backend, home, of, None if start_plan is None else of[start_plan],
        deadline=t0 + LEVEL1_SHARE * time_limit, gap=gap, seed=seed, threads=threads,
        max_cut_columns=max_cut_columns, progress=progress,
    )  # fmt: skip
    if unit_district is None:
        return result(None, reason, solves)
    progress("districts connected and balanced; territories inside each district")
    spec2 = contiguous.with_centres(within_districts(spec, of, unit_district), home)
    plan = _start_within(spec2, start_plan)
    pp2 = parts.from_spec(spec2, graph, _fixed(p.n_units, home, np.arange(p.n_reps)))
    pool = lns.CutPool()
    for d in range(n):
        reps = np.flatnonzero(of == d)
        units = np.flatnonzero(unit_district == d)
        share = (deadline - time.perf_counter()) / (n - d) * (LEVEL2_SHARE if territories_too else 0.5)
        step_end = time.perf_counter() + share
        if territories_too:
            local = _territories_by_flips(pp2, units, reps, time.perf_counter() + share / 2, seed)
            if local is not None:
                plan = plan.copy()
                plan[units] = local
                continue
        out = None
        for ordered in DISTRICT_ATTEMPTS if territories_too else (False,):
            out, k = _district_step(
                spec2, adj, backend, plan, reps, home, pool, territories_too, ordered,
                deadline=step_end, gap=gap, seed=seed, threads=threads,
            )  # fmt: skip
            solves += k
            if out is not None:
                break
        if out is None:
            return result(None, f"no plan for the territories of district {names[d]} in the time given", solves)
        plan = out
    if territories_too and time.perf_counter() < deadline - 1.0:
        search = lns.Lns(spec2, adj, backend, home, pool, gap, seed, threads, progress)
        plan = search.polish(plan, deadline)
        solves += search.solves
    if not repair.feasible(spec, plan):
        return result(None, "the connected plan breaks a row the local search does not see (a "
                      "disruption budget or a region band)", solves)  # fmt: skip
    return result(plan, "", solves)


def _fixed(n_units: int, home: np.ndarray, part: np.ndarray) -> np.ndarray:
    out = np.full(n_units, -1, dtype=np.int64)
    has = home >= 0
    out[home[has]] = part[has]
    return out


def district_plan(
    spec1: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    home: np.ndarray,
    of: np.ndarray,
    start: np.ndarray | None,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    max_cut_columns: int,
    progress: Callable[[str], None],
) -> tuple[np.ndarray | None, str, int]:
    """Level 1: connected districts within their bands: the flip search from a connected start, then
    (time left) its neighbourhood polish; when the flips miss a band, the MIP route (pipeline, then
    the contiguity machinery) if half the time is left. (plan or None, reason, MIP solves)."""
    t0 = time.perf_counter()
    n = spec1.problem.n_reps
    centre = np.array([home[np.flatnonzero(of == d)[0]] for d in range(n)], dtype=np.int64)
    pp1 = parts.from_spec(spec1, adj.csr(), _fixed(spec1.problem.n_units, home, of))
    begin = parts.connected_start(pp1)
    plan1 = None
    if begin is not None:
        flips_end = t0 + FLIP_SHARE * (deadline - t0)
        cand = flip_search.balance(pp1, begin, flips_end, seed)
        if repair.feasible(spec1, cand):
            plan1 = cand
    if plan1 is not None:
        progress(f"districts: connected and within their bands by flips in {time.perf_counter() - t0:.1f} s")
        if time.perf_counter() < deadline - 1.0:
            spec1c = contiguous.with_centres(spec1, centre)
            search = lns.Lns(spec1c, adj, backend, centre, lns.CutPool(), gap, seed, threads, progress)
            polished = search.polish(plan1, deadline)
            if repair.feasible(spec1, polished) and (contiguity.count_pieces(adj, polished, n) <= 1).all():
                plan1 = polished
            return plan1, "", search.solves
        return plan1, "", 0
    why = (
        "no connected start holding every home" if begin is None
        else "the flip search found no connected districts within the district bands"
    )  # fmt: skip
    if deadline - time.perf_counter() < 0.5 * (deadline - t0):
        return None, why, 0
    progress(f"districts: {why}; the MIP route")
    try:
        bal, _ = pipeline.solve(
            spec1, backend, budget=TimeBudget.until(time.perf_counter() + 0.3 * (deadline - time.perf_counter())),
            candidates=8, relax=False, current_unit_rep=start, gap=gap, seed=seed, threads=threads,
        )  # fmt: skip
    except TerritoryPlannerError as err:
        return None, f"{why}; no balanced districts by the MIP: {err}", 0
    c1 = contiguous.solve_contiguous(
        spec1, adj, backend, centre=centre, start_plan=bal, progress=progress,
        time_limit=deadline - time.perf_counter(), exact=int(spec1.allowed.sum()) <= max_cut_columns,
        gap=gap, seed=seed, threads=threads,
    )  # fmt: skip
    u = c1.unit_rep
    if u is None or (c1.pieces > 1).any() or not repair.feasible(spec1, u):
        return None, f"{why}, nor the MIP route in the time given", c1.rounds
    return u, "", c1.rounds


def _territories_by_flips(
    pp2: parts.PartProblem, units: np.ndarray, reps: np.ndarray, deadline: float, seed: int
) -> np.ndarray | None:
    """The reps of the district's ``units``, each territory one piece within its band, by the flip
    search; None when it misses a band."""
    sub = parts.restrict(pp2, units, reps)
    begin = parts.connected_start(sub)
    if begin is None:
        return None
    out = flip_search.balance(sub, begin, deadline, seed)
    if flip_search.Search(sub, out).violation() > 0.0:
        return None
    return reps[out]


def _district_step(
    spec2: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    plan: np.ndarray,
    reps: np.ndarray,
    home: np.ndarray,
    pool: lns.CutPool,
    territories_too: bool,
    ordered: bool,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
) -> tuple[np.ndarray | None, int]:
    """Re-solve the units of one district (its reps' units) with every other unit fixed."""
    if territories_too:
        return lns.solve_neighbourhood(
            spec2, adj, backend, plan, reps, home, pool,
            deadline=deadline, gap=gap, seed=seed, threads=threads, ordered=ordered,
            time_cap=max(deadline - time.perf_counter(), 1.0),
        )  # fmt: skip
    inside = np.zeros(spec2.problem.n_reps, dtype=bool)
    inside[reps] = True
    free = np.flatnonzero(inside[plan])
    fixed = plan.copy()
    fixed[free] = -1
    cu, cr = np.nonzero(spec2.allowed[free][:, reps])
    out, _ = lns.solve_mip(
        spec2, free[cu], reps[cr], [], backend,
        time_limit=deadline - time.perf_counter(), gap=gap, seed=seed, threads=threads,
        free=free, fixed=fixed, reps=reps,
    )  # fmt: skip
    return out, 1
