"""Location-allocation for reps without a home base (and for every rep with ``--choose-centres``).

Start: free centres at workload-weighted farthest points from the fixed homes (deterministic). Then
alternate: solve the LP relaxation with the centres fixed, give each unit to its largest LP share, move
each free centre to its territory's weighted medoid (the account minimising sum workload x km), until
no centre moves. The centres with the best LP objective are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from territory_planner.model.geo import haversine_km
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize import repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

log = logging.getLogger(__name__)
MEDOID_SAMPLE = 2500


def initial_centres(problem: TerritoryProblem, free: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = problem.home_lat.copy(), problem.home_lon.copy()
    rng = np.random.default_rng(seed)
    w = problem.acc_workload + 1e-9
    fixed = ~free
    if fixed.any():
        dmin = haversine_km(problem.acc_lat, problem.acc_lon, lat[fixed], lon[fixed]).min(axis=1)
    else:
        first = int(rng.choice(problem.n_accounts, p=w / w.sum()))
        lat[np.flatnonzero(free)[0]], lon[np.flatnonzero(free)[0]] = (
            problem.acc_lat[first],
            problem.acc_lon[first],
        )
        dmin = haversine_km(
            problem.acc_lat, problem.acc_lon, lat[[np.flatnonzero(free)[0]]], lon[[np.flatnonzero(free)[0]]]
        ).ravel()
        free = free.copy()
        free[np.flatnonzero(free)[0]] = False
    for j in np.flatnonzero(free):
        pick = int(np.argmax(w * dmin))
        lat[j], lon[j] = problem.acc_lat[pick], problem.acc_lon[pick]
        dmin = np.minimum(dmin, haversine_km(problem.acc_lat, problem.acc_lon, lat[[j]], lon[[j]]).ravel())
    return lat, lon


def weighted_medoid(lat: np.ndarray, lon: np.ndarray, w: np.ndarray, seed: int) -> tuple[float, float]:
    cand = np.arange(len(lat))
    if len(cand) > MEDOID_SAMPLE:
        cand = np.sort(np.random.default_rng(seed).choice(len(lat), MEDOID_SAMPLE, replace=False))
    d = haversine_km(lat[cand], lon[cand], lat, lon)
    best = cand[int(np.argmin(d @ w))]
    return float(lat[best]), float(lon[best])


def choose_centres(
    problem: TerritoryProblem,
    free: np.ndarray,
    build_spec: Callable[[np.ndarray, np.ndarray], ModelSpec],
    backend: Backend,
    *,
    seed: int,
    threads: int | None,
    candidates: int,
    deadline: float,
    max_iterations: int = 8,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = initial_centres(problem, free, seed)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for it in range(max_iterations):
        spec = build_spec(lat, lon)
        res = lpmod.solve_lp(
            spec,
            backend,
            lpmod.initial_candidates(spec, candidates),
            deadline=deadline,
            seed=seed,
            threads=threads,
        )
        value = res.objective + (1e12 * res.slack_total)
        progress(f"centres iteration {it + 1}: LP objective {res.objective:,.1f}")
        if best is None or value < best[0] - 1e-9:
            best = (value, lat.copy(), lon.copy())
        unit_rep, _ = repair.lp_assignment(spec, res)
        acc_rep = unit_rep[problem.acc_unit]
        new_lat, new_lon = lat.copy(), lon.copy()
        for j in np.flatnonzero(free):
            mine = np.flatnonzero(acc_rep == j)
            if len(mine) == 0:
                continue
            new_lat[j], new_lon[j] = weighted_medoid(
                problem.acc_lat[mine], problem.acc_lon[mine], problem.acc_workload[mine] + 1e-9, int(seed + j)
            )
        moved = np.nanmax(np.abs(np.concatenate([new_lat - lat, new_lon - lon])))
        lat, lon = new_lat, new_lon
        if moved < 1e-9 or time.perf_counter() > deadline:
            break
    assert best is not None
    return best[1], best[2]
