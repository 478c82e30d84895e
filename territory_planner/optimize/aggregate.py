"""Duals of a large instance from an exact restriction of its LP: compact clusters of units.

The LP of 33,000 ZIPs x 100 reps has 3.3 million columns and does not solve in a couple of minutes.
Grouping the units into a few thousand compact clusters, and letting each cluster split among the reps
in shares that all its units share, gives an LP of the same form over the clusters (a cluster is one
divisible unit whose amounts, costs and moved potential are the sums of its units'). Every solution of
that LP is a solution of the full LP, so it is a restriction: nothing is sampled or scaled, every band
keeps its real value, and a rep far from everything (an island) sees every unit it could take.

Its band duals price every real pair: the Lagrangian bound they give (``lp.lagrangian``) is a valid lower
bound on the full model whatever the clusters are, and their reduced costs pick a pool that already
holds nearly all of the full LP's support.

Clusters: units are first grouped by the set of reps they may go to (segments, locks), so a cluster never
narrows a unit's choice; each group is then split in two at the weighted median of its wider axis, level
after level (a k-d tree), until there are enough clusters. The weight mixes the unit count and every
measure's share, so a heavy unit ends up alone and sparse regions get large clusters.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from territory_planner.optimize import lp as lpmod
from territory_planner.optimize import repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

log = logging.getLogger(__name__)

MIN_CLUSTERS = 2000
CLUSTERS_PER_REP = 25
MAX_CLUSTERS = 4000  # the aggregated LP stays the size of a county map


UNITS_PER_CLUSTER = 3  # at least: fewer would not make the LP smaller
COARSE_PAIRS = 100_000  # the coarse LP over every pair: one simplex solve of about this many columns
CLUSTER_PAIRS = 500_000  # above this many (unit, rep) pairs the LP starts from the clusters' LP


def applies(n_units: int, n_reps: int, large_units: int) -> bool:
    """Whether the full LP should start from the clusters' LP: many units, or many pairs (3,142 counties x
    200 reps: the LP over 1,047 clusters and then the full LP converge in 14 s, the full LP alone in 63)."""
    return n_units > large_units or (n_units * n_reps > CLUSTER_PAIRS and n_units >= 2 * MIN_CLUSTERS // 3)


def n_clusters(n_units: int, n_reps: int) -> int:
    wanted = max(MIN_CLUSTERS, min(MAX_CLUSTERS, CLUSTERS_PER_REP * n_reps))
    return int(min(wanted, n_units // UNITS_PER_CLUSTER))


def unit_coordinates(spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of every unit: the mean of its accounts'."""
    p = spec.problem
    size = np.maximum(np.bincount(p.acc_unit, minlength=p.n_units), 1)
    lat = np.bincount(p.acc_unit, weights=p.acc_lat, minlength=p.n_units) / size
    lon = np.bincount(p.acc_unit, weights=p.acc_lon, minlength=p.n_units) / size
    return lat, lon


def clusters(spec: ModelSpec, target: int) -> np.ndarray:
    """(n_units,) cluster label in 0..K-1, K about ``target`` (never fewer labels than allowed-rep
    patterns, never more than units)."""
    p = spec.problem
    n = p.n_units
    lat, lon = unit_coordinates(spec)
    total = np.maximum(p.unit_amount.sum(axis=0), 1e-12)
    weight = 1.0 / max(n, 1) + (np.maximum(p.unit_amount, 0.0) / total).sum(axis=1)
    packed = np.packbits(spec.allowed, axis=1)
    _, label = np.unique(packed, axis=0, return_inverse=True)
    label = np.asarray(label, dtype=np.int64).ravel()
    while True:
        k = int(label.max()) + 1 if n else 0
        if k >= target or k >= n:
            return label
        lat_lo, lat_hi = _extent(label, lat, k)
        lon_lo, lon_hi = _extent(label, lon, k)
        mid = np.radians(0.5 * (lat_lo + lat_hi))
        along_lon = (lon_hi - lon_lo) * np.cos(mid) > lat_hi - lat_lo
        coord = np.where(along_lon[label], lon, lat)
        order = np.lexsort((coord, label))
        w = weight[order]
        lab = label[order]
        cum = np.cumsum(w)
        start = np.concatenate([[0.0], cum])[np.searchsorted(lab, np.arange(k))]  # weight before each label
        before = cum - w - start[lab]  # weight of the label's units before this one
        tot = np.bincount(label, weights=weight, minlength=k)
        upper = np.zeros(n, dtype=bool)
        upper[order] = before + 0.5 * w >= 0.5 * tot[lab]  # both halves non-empty when >= 2 units
        if 2 * k > target:  # the last level: split only the heaviest clusters
            size = np.bincount(label, minlength=k)
            heavy = np.where(size > 1, tot, -np.inf)
            keep = np.argsort(-heavy, kind="stable")[target - k :]
            upper[np.isin(label, keep)] = False
        _, label = np.unique(2 * label + upper, return_inverse=True)
        label = np.asarray(label, dtype=np.int64).ravel()


def _extent(label: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    np.minimum.at(lo, label, values)
    np.maximum.at(hi, label, values)
    return lo, hi


def aggregated_spec(spec: ModelSpec, label: np.ndarray) -> ModelSpec:
    """The model over clusters: sums of amounts, sizes, costs and moved/kept potential; every band, budget
    and group row as it is. Its LP is the full LP restricted to equal shares within each cluster."""
    p = spec.problem
    k = int(label.max()) + 1
    member = sp.csr_matrix((np.ones(p.n_units), (label, np.arange(p.n_units))), shape=(k, p.n_units))
    first_unit = np.full(k, -1, dtype=np.int64)
    first_unit[label[::-1]] = np.arange(p.n_units)[::-1]
    first_acc = np.full(p.n_units, -1, dtype=np.int64)
    first_acc[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    rep_acc = first_acc[first_unit]
    locked = np.full(k, -1, dtype=np.int64)
    lock_lo = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(lock_lo, label, p.unit_locked)
    lock_hi = np.full(k, np.iinfo(np.int64).min)
    np.maximum.at(lock_hi, label, p.unit_locked)
    same = (lock_lo == lock_hi) & (lock_lo >= 0)
    locked[same] = lock_lo[same]
    allowed = spec.allowed[first_unit]  # a cluster's units share their allowed reps
    cluster_potential = np.bincount(label[p.acc_unit], weights=p.acc_potential, minlength=k)
    problem = dataclasses.replace(
        p,
        unit_amount=np.asarray(member @ p.unit_amount),
        unit_size=np.bincount(label, weights=p.unit_size, minlength=k).astype(p.unit_size.dtype),
        unit_locked=locked,
        allowed=allowed,
        acc_unit=np.arange(k),
        acc_current=np.full(k, -1),
        account_ids=p.account_ids[rep_acc],
        acc_potential=cluster_potential,
    )
    return dataclasses.replace(
        spec,
        problem=problem,
        cost=np.asarray(member @ spec.cost),
        moved=np.asarray(member @ spec.moved),
        stay=np.asarray(member @ spec.stay),
        allowed=allowed,
    )


@dataclass(frozen=True)
class Estimate:
    """What the clustered LP gives the full model."""

    duals: lpmod.Duals  # band duals: prices for every real pair
    clean: bool  # the clustered LP met every band without slack
    lp: lpmod.LpResult | None  # (clean only) its solution on the units: a solution of the full LP
    plan: np.ndarray | None  # (clean only) that solution in whole units: each unit to one rep
    clusters: int  # how many clusters the LP had


def aggregated_duals(
    spec: ModelSpec,
    backend: Backend,
    *,
    seed: int,
    threads: int | None,
    deadline: float,
    candidates: int,
    stop_gap: float,
) -> Estimate | None:
    """The clustered LP's duals, and when it needed no slack its solution on the units (None: no LP)."""
    p = spec.problem
    label = clusters(spec, n_clusters(p.n_units, p.n_reps))
    agg = aggregated_spec(spec, label)
    log.info("aggregated LP: %d units in %d clusters", p.n_units, agg.problem.n_units)
    pool = lpmod.initial_candidates(agg, candidates)
    coarse = coarse_columns(spec, label, backend, seed=seed, threads=threads, deadline=deadline)
    if coarse is not None:
        pool |= coarse
    try:
        res = lpmod.solve_lp(
            agg, backend, pool, deadline=deadline, seed=seed, threads=threads, stop_gap=stop_gap, smooth=0.5
        )
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs the speed-up
        _failed("aggregated LP", exc)
        return None
    if res.slack_total > 1e-6:
        return Estimate(res.duals, False, None, None, agg.problem.n_units)
    full = expanded(spec, label, res)
    return Estimate(res.duals, True, full, whole_units(spec, label, res, full), agg.problem.n_units)


def coarse_columns(
    spec: ModelSpec, label: np.ndarray, backend: Backend, *, seed: int, threads: int | None, deadline: float
) -> np.ndarray | None:
    """(clusters, reps) bool: the support of the LP over coarser clusters (each a union of ``label``'s
    clusters: the k-d splits are nested) with every pair in it, None when the clusters' LP is small
    enough or that LP fails.

    Column generation from each cluster's nearest reps crawls when the reps sit far from where the
    measures are (heavy-tailed ZIPs, 200 reps at 3%: each round moves the shortfall one ring of reps
    further, ten rounds of slack). The coarse LP has every pair, so it needs no pricing, and its
    solution, split equally over the clusters, is a solution of the clusters' LP: their first master
    has no slack (33,791 ZIPs x 200 reps: the clusters' LP in 18 s instead of 90 s)."""
    p = spec.problem
    k = int(label.max()) + 1
    if k * p.n_reps <= 2 * COARSE_PAIRS:
        return None
    coarse = clusters(spec, max(1, COARSE_PAIRS // p.n_reps))
    of_cluster = np.full(k, -1, dtype=np.int64)
    of_cluster[label[::-1]] = coarse[::-1]
    if not (of_cluster[label] == coarse).all():  # not nested: no clean way down
        return None
    cs = aggregated_spec(spec, coarse)
    until = time.perf_counter() + 0.5 * max(deadline - time.perf_counter(), 0.0)
    try:
        res = lpmod.solve_lp(cs, backend, cs.allowed.copy(), deadline=until, seed=seed, threads=threads)
    except Exception as exc:  # noqa: BLE001 - it only picks first columns
        _failed("coarse LP", exc)
        return None
    on = res.x > 1e-9
    support = np.zeros((cs.problem.n_units, p.n_reps), dtype=bool)
    support[res.col_unit[on], res.col_rep[on]] = True
    log.info("coarse LP: %d clusters, %.1fs, slack %.3g", cs.problem.n_units, res.seconds, res.slack_total)
    return support[of_cluster]


def _failed(what: str, exc: Exception) -> None:
    """A warm-up LP that ended without a solution: its time ran out (a ``SolverError``, expected at short
    limits) is said in the log only; anything else as a warning of one line, its traceback in the debug
    log (QA61 F10: "coarse LP failed" and a 6-line traceback on the console of `plan --time-limit 3`)."""
    from territory_planner.errors import SolverError

    if isinstance(exc, SolverError):
        log.info("%s stopped: %s", what, exc)
        return
    log.warning("%s failed (%s: %s); the LP goes on without it", what, type(exc).__name__, exc)
    log.debug("%s failed", what, exc_info=True)


def _columns_per_unit(label: np.ndarray, res: lpmod.LpResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clustered solution's columns (x > 0) repeated for every unit of their cluster:
    (unit, rep, x) sorted by unit."""
    on = res.x > 1e-9
    c_unit, c_rep, c_x = res.col_unit[on], res.col_rep[on], res.x[on]
    by_cluster = np.argsort(c_unit, kind="stable")
    c_unit, c_rep, c_x = c_unit[by_cluster], c_rep[by_cluster], c_x[by_cluster]
    k = int(label.max()) + 1
    per = np.bincount(c_unit, minlength=k)  # columns per cluster
    first = np.concatenate([[0], np.cumsum(per)])[:-1]
    units = np.arange(len(label))
    count = per[label]
    unit = np.repeat(units, count)
    offset = np.arange(len(unit)) - np.repeat(np.cumsum(count) - count, count)
    col = first[label][unit] + offset
    return unit, c_rep[col], c_x[col]


def expanded(spec: ModelSpec, label: np.ndarray, res: lpmod.LpResult) -> lpmod.LpResult:
    """The clustered LP's solution as a solution of the full LP (every unit split like its cluster),
    with the clustered duals' reduced costs and Lagrangian bound (valid for the full model)."""
    unit, rep, x = _columns_per_unit(label, res)
    rc, bound = lpmod.lagrangian(spec, res.duals)
    return lpmod.LpResult(
        col_unit=unit,
        col_rep=rep,
        x=x,
        objective=float((spec.objective[unit, rep] * x).sum()),
        slack_total=0.0,
        slack_by_row=[],
        duals=res.duals,
        rc_lagr=rc,
        bound=bound,
        converged=False,
        rounds=res.rounds,
        seconds=res.seconds,
    )


def whole_units(spec: ModelSpec, label: np.ndarray, res: lpmod.LpResult, full: lpmod.LpResult) -> np.ndarray:
    """Each unit to one rep, following its cluster's shares (``res``, and ``full``: ``expanded``): a
    cluster held by one rep goes to it whole; a split cluster's units, largest first, each go to the rep
    furthest below its share of the cluster (in targets, summed over the measures)."""
    p = spec.problem
    plan, _ = repair.lp_assignment(spec, full)
    target = np.maximum(spec.upper.mean(axis=1), 1e-12)  # (M,)
    size = (p.unit_amount / target).sum(axis=1)
    on = res.x > 1e-9
    split = np.flatnonzero(np.bincount(res.col_unit[on], minlength=int(label.max()) + 1) > 1)
    members = np.argsort(label, kind="stable")
    starts = np.searchsorted(label[members], np.arange(int(label.max()) + 2))
    for c in split:
        mine = members[starts[c] : starts[c + 1]]
        cols = on & (res.col_unit == c)
        reps, share = res.col_rep[cols], res.x[cols]
        left = share * size[mine].sum()
        for u in mine[np.argsort(-size[mine], kind="stable")]:
            ok = spec.allowed[u, reps]
            j = int(np.argmax(np.where(ok, left, -np.inf)))
            plan[u] = reps[j]
            left[j] -= size[u]
    return plan
