"""From the fractional LP vertex to an integer plan, and from a plan to a proof.

``repair``: fix the units the LP assigned integrally, free the fractional ones plus a neighbourhood
of cheap-to-move units (smallest Lagrangian reduced cost), and solve the small MIP over them; widen
the neighbourhood when that MIP is infeasible or finds nothing.

``exact``: reduced-cost fixing. For any feasible plan x, obj(x) >= L(y) + sum_u delta_u(j(u)), so a
plan cheaper than the incumbent UB only uses pairs with delta_uj <= UB - L(y). The MIP over those pairs
(units left with one pair are fixed) is the whole problem restricted to where improvements can be;
solving it to optimality proves the plan optimal, and its dual bound is a bound on the full model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from territory_planner.optimize import construct, formulation, hierarchy
from territory_planner.optimize.lp import LpResult
from territory_planner.optimize.spec import BandRows, ModelSpec, band_rows
from territory_planner.solvers.base import Backend, LiveMip, SolveStatus

FRACTIONAL = 1e-6
# Sub-MIPs stop after this many improving solutions: a work limit, so the same inputs and seed give the
# same plan on any machine (time caps remain only as a safety net); the first few solutions carry most
# of the gain, proving optimality of a neighbourhood is not worth its time.
SOLUTION_LIMIT = 4
log = logging.getLogger(__name__)


@dataclass
class MipResult:
    unit_rep: np.ndarray | None
    objective: float | None
    bound: float | None  # valid lower bound on the full model from this stage, if any
    status: SolveStatus
    free_units: int
    columns: int
    seconds: float
    # a neighbourhood step's: how far its own bound lay below the plan it ended with (0 when it proved
    # that plan the neighbourhood's best); its bound is no bound on the model, so ``bound`` is None
    room: float = 0.0


def lp_assignment(spec: ModelSpec, lp: LpResult) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: the rep with the largest LP share, and that share."""
    n = spec.problem.n_units
    share = np.zeros(n)
    rep = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((lp.col_rep, -lp.x, lp.col_unit))  # per unit, largest x first, ties by rep index
    first = np.ones(len(order), dtype=bool)
    first[1:] = lp.col_unit[order][1:] != lp.col_unit[order][:-1]
    pick = order[first]
    rep[lp.col_unit[pick]] = lp.col_rep[pick]
    share[lp.col_unit[pick]] = lp.x[pick]
    return rep, share


def delta(lp: LpResult, moves: bool = False) -> np.ndarray:
    """How much a plan's cost bound rises per pair above each unit's best; ``moves``: for choosing units
    cheap to move (``rc_move``), else the reduced costs of the bound's own duals (for fixing)."""
    rc = lp.rc_move if moves and lp.rc_move is not None else lp.rc_lagr
    out: np.ndarray = rc - rc.min(axis=1, keepdims=True)
    return out


def _rank_within_rep(rep: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Rank (0 = best, by ascending score) of each element among the elements with the same rep."""
    order = np.lexsort((score, rep))
    rank = np.empty(len(rep), dtype=np.int64)
    starts = np.searchsorted(rep[order], rep[order], side="left")
    rank[order] = np.arange(len(rep)) - starts
    return rank


def _nearest(d_rows: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest entries of each row (all columns when k >= their number)."""
    if k < d_rows.shape[1]:
        out: np.ndarray = np.argpartition(d_rows, k - 1, axis=1)[:, :k]
        return out
    return np.tile(np.arange(d_rows.shape[1]), (d_rows.shape[0], 1))


def restricted_columns(cols: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (unit, rep) of each x column of the restricted MIP, in the model's column order."""
    only_free = np.zeros(cols.shape[0], dtype=bool)
    only_free[free] = True
    unit, rep = np.nonzero(cols & only_free[:, None])
    return unit, rep


def _solve_restricted(
    spec: ModelSpec,
    backend: Backend,
    cols: np.ndarray,
    fixed_rep: np.ndarray,
    free: np.ndarray,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    name: str,
    abs_gap: float | None = None,
    incumbent: np.ndarray | None = None,
    time_cap: float | None = None,
    reps: np.ndarray | None = None,
    node_limit: int | None = None,
    solution_limit: int | None = None,
    live: LiveMip | None = None,
    extend: Callable[[formulation.Formulation], None] | None = None,
) -> MipResult:
    """``extend`` adds rows (and variables, after the model's own) to the formulation before the solve."""
    start = time.perf_counter()
    col_unit, col_rep = restricted_columns(cols, free)
    form = formulation.build(
        spec, col_unit, col_rep, free=free, fixed_rep=fixed_rep, integer=True, name=name, reps=reps
    )
    if extend is not None:
        extend(form)
    remaining = deadline - time.perf_counter()
    if time_cap is not None:
        remaining = min(remaining, time_cap)
    if remaining <= 0.05:
        return MipResult(None, None, None, SolveStatus.NO_SOLUTION, len(free), len(col_unit), 0.0)
    warm = None
    if incumbent is not None:
        warm = np.zeros(len(form.variables))
        warm[: form.n_cols] = (incumbent[col_unit] == col_rep).astype(float)
    out = backend.solve(
        form.prob,
        form.variables,
        form.constraints,
        mip=True,
        time_limit=remaining,
        gap=gap,
        seed=seed,
        threads=threads,
        abs_gap=abs_gap,
        start=warm,
        node_limit=node_limit,
        solution_limit=solution_limit,
        live=live,
    )
    if not out.has_solution:
        return MipResult(None, None, None, out.status, len(free), len(col_unit), time.perf_counter() - start)
    x = out.values[: form.n_cols] > 0.5
    unit_rep = fixed_rep.copy()
    unit_rep[col_unit[x]] = col_rep[x]
    objective = float(spec.objective[np.arange(len(unit_rep)), unit_rep].sum())
    bound = None if out.bound is None else form.fixed_objective + out.bound
    return MipResult(
        unit_rep, objective, bound, out.status, len(free), len(col_unit), time.perf_counter() - start
    )


def repair(
    spec: ModelSpec,
    lp: LpResult,
    backend: Backend,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    size: int | None = None,
    reps_per_unit: int = 4,
    abs_gap: float | None = None,
) -> MipResult:
    """Round the LP to a plan with neighbourhood MIPs, widening until one is found or time runs out."""
    p = spec.problem
    n = p.n_units
    rep0, share = lp_assignment(spec, lp)
    frac = share < 1 - FRACTIONAL
    d = delta(lp, moves=True)
    d_alt = d.copy()
    d_alt[np.arange(n), rep0] = np.inf
    cheapest_alt = d_alt.min(axis=1)
    size = size or max(200, 8 * int(frac.sum()), n // 50)
    support = np.zeros((n, p.n_reps), dtype=bool)
    support[lp.col_unit[lp.x > 1e-9], lp.col_rep[lp.x > 1e-9]] = True
    last = MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 0.0)
    attempt = 0
    while True:
        size = min(size, n)
        # free units spread over every rep (each needs room both ways), cheapest to move first
        per_rep = max(2, size // max(p.n_reps, 1))
        rank = _rank_within_rep(rep0, np.where(frac, -np.inf, cheapest_alt))
        chosen = frac | (rank < per_rep)
        free = np.flatnonzero(chosen)
        fixed_rep = rep0.copy()
        fixed_rep[free] = -1
        near = _nearest(d[free], reps_per_unit)
        cols = np.zeros((n, p.n_reps), dtype=bool)
        cols[free[:, None], near] = True
        cols[free] |= support[free]
        cols[free, rep0[free]] = True
        cols &= spec.allowed
        cap = (0.6 + len(free) / 800) * 2**attempt  # first answers come fast; proving is left to later stages
        attempt += 1
        last = _solve_restricted(
            spec,
            backend,
            cols,
            fixed_rep,
            free,
            deadline=deadline,
            gap=1e-4,
            seed=seed,
            threads=threads,
            name="repair",
            abs_gap=abs_gap,
            time_cap=5 * cap,  # a safety net; the solution limit normally ends the search
            solution_limit=SOLUTION_LIMIT,
        )
        log.debug("repair attempt: %d units, %d columns -> %s", len(free), last.columns, last.status)
        if last.unit_rep is not None:
            last.bound = None  # a neighbourhood MIP bounds nothing outside it
            return last
        if time.perf_counter() >= deadline or (size >= n and reps_per_unit >= p.n_reps):
            return last
        size *= 4
        reps_per_unit += 2


def rep_regions(spec: ModelSpec, unit_rep: np.ndarray, max_reps: int) -> list[np.ndarray]:
    """Split the reps into compact groups of at most ``max_reps`` (recursive bisection of their
    territories' centroids along the longer axis)."""
    p = spec.problem
    acc_rep = unit_rep[p.acc_unit]
    w = p.acc_workload + 1e-9
    tot = np.bincount(acc_rep, weights=w, minlength=p.n_reps) + 1e-12
    lat = np.bincount(acc_rep, weights=w * p.acc_lat, minlength=p.n_reps) / tot
    lon = np.bincount(acc_rep, weights=w * p.acc_lon, minlength=p.n_reps) / tot
    groups: list[np.ndarray] = []
    stack = [np.arange(p.n_reps)]
    while stack:
        g = stack.pop()
        if len(g) <= max_reps:
            groups.append(np.sort(g))
            continue
        span_lat = np.ptp(lat[g])
        span_lon = np.ptp(lon[g]) * np.cos(np.radians(np.mean(lat[g])))
        key = lon[g] if span_lon >= span_lat else lat[g]
        order = g[np.argsort(key, kind="stable")]
        half = len(order) // 2
        stack += [order[:half], order[half:]]
    return groups


def repair_by_regions(
    spec: ModelSpec,
    lp: LpResult,
    backend: Backend,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    abs_gap: float | None = None,
    max_reps: int = 25,
    per_rep: int = 12,
) -> MipResult:
    """Round a large LP region by region: each region's reps, its fractional units and each rep's units
    cheapest to move within the region form a small MIP; every other unit stays put, so regions are
    independent and the work grows linearly with the number of reps."""
    start = time.perf_counter()
    p = spec.problem
    n = p.n_units
    rep0, share = lp_assignment(spec, lp)
    frac = share < 1 - FRACTIONAL
    d = delta(lp, moves=True)
    cur = rep0.copy()
    total_free = total_cols = 0
    for group in rep_regions(spec, rep0, max_reps):
        in_group = np.zeros(p.n_reps, dtype=bool)
        in_group[group] = True
        members = np.flatnonzero(in_group[cur])
        dg = np.where(spec.allowed[members][:, group], d[members][:, group], np.inf)
        own = group.searchsorted(cur[members])
        dg_alt = dg.copy()
        dg_alt[np.arange(len(members)), own] = np.inf
        rank = _rank_within_rep(cur[members], np.where(frac[members], -np.inf, dg_alt.min(axis=1)))
        free = members[(rank < per_rep) | frac[members]]
        fixed_rep = cur.copy()
        fixed_rep[free] = -1
        cols = np.zeros((n, p.n_reps), dtype=bool)
        near = _nearest(np.where(spec.allowed[free][:, group], d[free][:, group], np.inf), 4)
        cols[free[:, None], group[near]] = True
        cols[free, cur[free]] = True
        cols &= spec.allowed
        res = _solve_restricted(
            spec,
            backend,
            cols,
            fixed_rep,
            free,
            deadline=deadline,
            gap=1e-4,
            seed=seed,
            threads=threads,
            name="repair_region",
            abs_gap=abs_gap,
            # a safety net (the solution limit normally ends it): a region that finds nothing soon is
            # usually one whose units cannot be rounded inside it, and the global repair takes over
            time_cap=(0.6 + len(free) / 800) * 3,
            reps=group,
            solution_limit=SOLUTION_LIMIT,
        )
        total_free += len(free)
        total_cols += res.columns
        if res.unit_rep is None:
            log.debug("region of %d reps could not be rounded (%s)", len(group), res.status)
            return MipResult(
                None, None, None, res.status, total_free, total_cols, time.perf_counter() - start
            )
        cur = res.unit_rep
    if not feasible(spec, cur):
        return MipResult(
            None, None, None, SolveStatus.INFEASIBLE, total_free, total_cols, time.perf_counter() - start
        )
    objective = float(spec.objective[np.arange(n), cur].sum())
    return MipResult(
        cur, objective, None, SolveStatus.FEASIBLE, total_free, total_cols, time.perf_counter() - start
    )


def rep_neighbours(spec: ModelSpec, unit_rep: np.ndarray, k: int) -> np.ndarray:
    """(p, k) nearest reps of each rep, by the workload-weighted centroids of their territories."""
    p = spec.problem
    acc_rep = unit_rep[p.acc_unit]
    w = p.acc_workload + 1e-9
    tot = np.bincount(acc_rep, weights=w, minlength=p.n_reps) + 1e-12
    lat = np.bincount(acc_rep, weights=w * p.acc_lat, minlength=p.n_reps) / tot
    lon = np.bincount(acc_rep, weights=w * p.acc_lon, minlength=p.n_reps) / tot
    from territory_planner.model.geo import haversine_km

    d = haversine_km(lat, lon, lat, lon)
    np.fill_diagonal(d, np.inf)
    k = min(k, p.n_reps - 1)
    out: np.ndarray = np.argsort(d, axis=1)[:, :k]
    return out


GROUP_MIP_SECONDS = 1.0  # at most, per small group's MIP (about 0.01 s for 150 units x 2-3 reps)


def mend_in_groups(
    spec: ModelSpec,
    plan: np.ndarray,
    backend: Backend,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    neighbours: int = 3,
    largest: int = 3,
) -> np.ndarray:
    """A near-plan mended a few reps at a time: for the rep that breaks its band most, every unit of it
    and of one or two of its ``neighbours`` nearest reps is re-solved as one small MIP with only those
    reps' rows (its first solution), and kept when the plan's total violation falls; until every band
    holds, no group helps, or ``deadline``. Exchanges no single move or swap makes: with both measures
    drawn from one population (potential ~ population, workload ~ sqrt of it), a rep at its potential
    cap and short of workload must trade one big unit for two smaller ones (QA14: 1,139 German cities
    x 16 reps, the search 0.001 targets short, mended in 0.02 s, where the mend of 7 reps took 3-5 s).
    Returns the best plan seen (the input when nothing helped); the caller checks every row."""
    rows = band_rows(spec)
    best = plan.copy()
    state = construct._State(spec, rows, best)
    if state.has_budget and state.moved > state.budget + construct.EPS:
        return best  # a global row the groups' MIPs do not hold (507 Canadian cities: 24 MIPs, 0.5 s, none)
    while time.perf_counter() < deadline:
        better = _helpful_group(
            spec, rows, best, state, backend, neighbours, largest, deadline, seed, threads
        )
        if better is None:
            break
        best, state = better
    return best


def _helpful_group(
    spec: ModelSpec,
    rows: BandRows,
    plan: np.ndarray,
    state: construct._State,
    backend: Backend,
    neighbours: int,
    largest: int,
    deadline: float,
    seed: int,
    threads: int | None,
) -> tuple[np.ndarray, construct._State] | None:
    """The first group (the reps breaking their bands most first, each with one or two of its nearest
    reps) whose MIP lowers the plan's total violation: (its plan, that plan's state), or None."""
    per_rep = state.rep_violation()
    bad = np.flatnonzero(per_rep > construct.EPS)
    near = rep_neighbours(spec, plan, neighbours)
    tried: set[tuple[int, ...]] = set()
    for a in bad[np.argsort(-per_rep[bad], kind="stable")].tolist():
        for size in range(1, largest):
            for others in combinations(near[a].tolist(), size):
                group = tuple(sorted({a, *others}))
                if group in tried or time.perf_counter() >= deadline:
                    continue
                tried.add(group)
                found = _group_mip(spec, plan, np.array(group), backend, deadline, seed, threads)
                if found is None:
                    continue
                after = construct._State(spec, rows, found)
                if after.violation() < state.violation() - construct.EPS:
                    return found, after
    return None


def _group_mip(
    spec: ModelSpec,
    plan: np.ndarray,
    group: np.ndarray,
    backend: Backend,
    deadline: float,
    seed: int,
    threads: int | None,
) -> np.ndarray | None:
    """Every unit of the ``group``'s reps free among them, the rest fixed, only their rows written: the
    first plan HiGHS finds, or None."""
    units = np.flatnonzero(np.isin(plan, group))
    cols = np.zeros_like(spec.allowed)
    cols[units[:, None], group[None, :]] = True
    cols &= spec.allowed
    fixed = plan.copy()
    fixed[units] = -1
    res = _solve_restricted(
        spec, backend, cols, fixed, units, deadline=deadline, gap=1.0, seed=seed, threads=threads,
        name="mend_group", reps=group, time_cap=GROUP_MIP_SECONDS, solution_limit=1,
    )  # fmt: skip
    return res.unit_rep


def improve_cluster(
    spec: ModelSpec,
    lp: LpResult,
    incumbent: np.ndarray,
    cluster: np.ndarray,
    backend: Backend,
    *,
    max_units: int,
    deadline: float,
    seed: int,
    threads: int | None,
    abs_gap: float | None,
    time_cap: float,
    cancel: threading.Event | None = None,
) -> MipResult:
    """Large-neighbourhood step: re-optimise the boundary units among a cluster of neighbouring reps,
    everything else fixed, warm-started from the incumbent (so it never gets worse). ``cancel`` stops
    the step's MIP at once, with its best plan so far (the whole model beside has ended: proven)."""
    p = spec.problem
    n = p.n_units
    in_cluster = np.zeros(p.n_reps, dtype=bool)
    in_cluster[cluster] = True
    mine = np.flatnonzero(in_cluster[incumbent])
    allowed = spec.allowed[mine][:, cluster]
    movable = mine[allowed.sum(axis=1) > 1]
    if len(movable) == 0:
        return MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 0.0)
    d_all = delta(lp, moves=True)
    d = d_all[movable][:, cluster]
    own = d_all[movable, incumbent[movable]]
    alt = np.where(
        spec.allowed[movable][:, cluster] & (cluster[None, :] != incumbent[movable][:, None]), d, np.inf
    )
    slack = alt.min(axis=1) - own
    free = np.sort(movable[np.argsort(slack, kind="stable")[:max_units]])
    fixed_rep = incumbent.copy()
    fixed_rep[free] = -1
    cols = np.zeros((n, p.n_reps), dtype=bool)
    cols[free[:, None], cluster[None, :]] = True
    cols &= spec.allowed
    res = _solve_restricted(
        spec,
        backend,
        cols,
        fixed_rep,
        free,
        deadline=deadline,
        gap=1e-4,
        seed=seed,
        threads=threads,
        name="improve",
        abs_gap=abs_gap,
        incumbent=incumbent,
        time_cap=time_cap,
        solution_limit=SOLUTION_LIMIT,
        live=None if cancel is None else LiveMip(cancel),
    )
    if res.bound is not None and res.objective is not None:
        res.room = max(res.objective - res.bound, 0.0)
    res.bound = None
    log.debug(
        "neighbourhood of %d reps: %d units free, %s in %.2fs",
        len(cluster),
        len(free),
        res.status,
        res.seconds,
    )
    return res


def exact_columns(lp: LpResult, incumbent: np.ndarray, upper: float, bound: float) -> np.ndarray:
    """Pairs that can appear in a plan cheaper than ``upper`` (reduced-cost fixing)."""
    d = delta(lp, moves=False)
    room = max(upper - bound, 0.0) * (1 + 1e-9) + 1e-9 * max(abs(upper), 1.0)
    cols: np.ndarray = d <= room
    cols[np.arange(len(incumbent)), incumbent] = True
    return cols


def exact(
    spec: ModelSpec,
    lp: LpResult,
    incumbent: np.ndarray,
    upper: float,
    bound: float,
    backend: Backend,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
) -> MipResult:
    cols = exact_columns(lp, incumbent, upper, bound)
    per_unit = cols.sum(axis=1)
    free = np.flatnonzero(per_unit > 1)
    fixed_rep = np.where(per_unit > 1, -1, incumbent)
    res = _solve_restricted(
        spec,
        backend,
        cols,
        fixed_rep,
        free,
        deadline=deadline,
        gap=gap,
        seed=seed,
        threads=threads,
        name="exact",
        incumbent=incumbent,  # a warm start: the MIP never ends worse than the plan it was given
    )
    return res


def feasible(spec: ModelSpec, unit_rep: np.ndarray, tol: float = 1e-6) -> bool:
    """Check an integer plan against every constraint of the full model (independently of any solver)."""
    p = spec.problem
    idx = np.arange(p.n_units)
    if (unit_rep < 0).any() or not spec.allowed[idx, unit_rep].all():
        return False
    if (band_excess(spec, unit_rep, tol) > 0).any():
        return False
    return all(other_rows(spec, unit_rep, tol))


def band_excess(spec: ModelSpec, unit_rep: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """(p,) each rep's largest excess outside its band over the measures, relative to the band's upper
    end (0 within the band, as ``feasible`` counts it)."""
    p = spec.problem
    load = hierarchy.rep_loads(p.unit_amount, unit_rep, p.n_reps)
    over = np.maximum(load - spec.upper, spec.lower - load) / np.maximum(spec.upper, 1.0)
    out: np.ndarray = np.where(over > tol, over, 0.0).max(axis=0, initial=0.0)
    return out


def other_rows(spec: ModelSpec, unit_rep: np.ndarray, tol: float = 1e-6) -> tuple[bool, ...]:
    """Whether each family of rows other than the rep bands holds for a plan (every unit assigned):
    the account counts (min, max), the disruption budget overall and per rep, and the district and region
    bands. ``feasible`` needs them all; the piece repair of ``contiguous`` keeps every one that held."""
    p = spec.problem
    idx = np.arange(p.n_units)
    counts = np.bincount(unit_rep, weights=p.unit_size, minlength=p.n_reps)
    kept = np.bincount(unit_rep, weights=spec.stay[idx, unit_rep], minlength=p.n_reps)
    return (
        spec.min_accounts is None or bool((counts >= spec.min_accounts).all()),
        spec.max_accounts is None or bool((counts <= spec.max_accounts).all()),
        spec.budget is None or bool(spec.moved[idx, unit_rep].sum() <= spec.budget * (1 + tol) + tol),
        spec.rep_budget_share is None
        or bool((kept >= (1 - spec.rep_budget_share) * spec.held - tol * np.maximum(spec.held, 1.0)).all()),
        spec.groups is None or hierarchy.feasible(spec, unit_rep, tol),
    )
