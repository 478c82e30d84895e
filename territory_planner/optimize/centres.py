"""Location-allocation for reps without a home base (and for every rep with ``--choose-centres``).

Start: every rep with a home base at its home (with ``--choose-centres`` too); the first centre without
one at the workload-weighted medoid of all accounts (when no rep has a home), the others at
workload-weighted farthest points from the centres so far (deterministic). Then
alternate: solve the LP relaxation with the centres fixed, give each unit to its largest LP share, move
each free centre to its territory's weighted medoid (the account minimising sum workload x distance),
until no centre moves. The centres with the best LP objective are kept.

Distances are great-circle km between (lat, lon) by default; ``points`` and ``metric`` put the same
algorithm in the plane (e.g. ``planar_distance`` over projected x, y), as the benchmarks do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from territory_planner.errors import SolverError
from territory_planner.model.geo import haversine_km
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize import repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

log = logging.getLogger(__name__)
MEDOID_SAMPLE = 2500
Metric = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def planar_distance(y1: np.ndarray, x1: np.ndarray, y2: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distance between points 1 (rows) and points 2 (columns), in the plane
    (argument order as ``haversine_km``: the second coordinate is x)."""
    dy = np.asarray(y1, dtype=float)[:, None] - np.asarray(y2, dtype=float)[None, :]
    dx = np.asarray(x1, dtype=float)[:, None] - np.asarray(x2, dtype=float)[None, :]
    out: np.ndarray = np.hypot(dx, dy)
    return out


def distance_cost(
    problem: TerritoryProblem,
    lat: np.ndarray,
    lon: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
    metric: Metric,
) -> np.ndarray:
    """(n_units, p) compactness cost under any metric: sum over each unit's accounts of workload x
    distance to the rep's centre (``TerritoryProblem.unit_cost`` with great-circle km)."""
    d = metric(points[0], points[1], lat, lon) * problem.acc_workload[:, None]
    return problem.unit_sum(d)


def _sample(n: int, seed: int) -> np.ndarray:
    if n <= MEDOID_SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MEDOID_SAMPLE, replace=False))


def weighted_medoid(
    lat: np.ndarray, lon: np.ndarray, w: np.ndarray, seed: int, metric: Metric = haversine_km
) -> tuple[float, float]:
    """The point (among a sample of at most ``MEDOID_SAMPLE`` candidates) minimising sum w x distance."""
    cand = _sample(len(lat), seed)
    d = metric(lat[cand], lon[cand], lat, lon)
    best = cand[int(np.argmin(d @ w))]
    return float(lat[best]), float(lon[best])


def initial_centres(
    problem: TerritoryProblem,
    free: np.ndarray,
    seed: int,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    metric: Metric = haversine_km,
) -> tuple[np.ndarray, np.ndarray]:
    a, b = (problem.acc_lat, problem.acc_lon) if points is None else points
    lat, lon = problem.home_lat.copy(), problem.home_lon.copy()
    w = problem.acc_workload + 1e-9
    # a rep with a home base starts there even when its centre is chosen (--choose-centres): the search
    # then only moves it where the LP gains (QA6: from farthest points, Raleigh's rep ended in Asheville
    # and the plan cost 947k against 807k at the reps' own homes)
    free = free & problem.missing_homes
    fixed = ~free
    if not fixed.any():  # no home to start from: the first centre at the medoid of a sample
        first = int(np.flatnonzero(free)[0])
        some = _sample(len(a), seed)
        lat[first], lon[first] = weighted_medoid(a[some], b[some], w[some], seed, metric)
        free[first] = False
        fixed = ~free
    dmin = metric(a, b, lat[fixed], lon[fixed]).min(axis=1)
    for j in np.flatnonzero(free):
        pick = int(np.argmax(w * dmin))
        lat[j], lon[j] = a[pick], b[pick]
        dmin = np.minimum(dmin, metric(a, b, lat[[j]], lon[[j]]).ravel())
    return lat, lon


@dataclass
class Search:
    """How the location search went: the LP objective of each iteration, and whether it ``settled`` (no
    centre moved) rather than stopped at its deadline or its iteration cap."""

    lps: list[float] = field(default_factory=list)
    settled: bool = False
    capped: bool = False  # it ran its most iterations without settling (else: stopped by the clock)


def search_notes(problem: TerritoryProblem, free: np.ndarray, search: Search) -> tuple[list[str], list[str]]:
    """What to say of centres the planner chose: the lower bound holds for them (a note), and, when the
    search stopped before its centres settled, that they may not be the best it would find (a warning,
    QA81 F1: the sample's new hire placed in Baton Rouge at --time-limit 20 under load, after 2
    iterations, with a "lower bound" 6.9% above the plan a 60-s run found with the hire near Orlando).
    Returns (notes, warnings)."""
    if not free.any():
        return [], []
    ids = [str(x) for x in problem.rep_ids[free]]
    whose = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    notes = [
        f"the lower bound and gap hold for the centres the planner chose ({whose}): with a centre placed "
        "elsewhere a better plan may exist"
    ]
    if search.settled:
        return notes, []
    done = len(search.lps)
    fell = ""
    if done >= 2:
        fell = f"; its LP objective fell from {search.lps[0]:,.1f} to {min(search.lps):,.1f} in them"
    iterations = f"{done} iteration{'s' if done != 1 else ''}"
    if search.capped:
        stop, more = f"after its most {iterations}", "home bases in reps.csv fix them"
    else:
        stop, more = (
            f"at its share of the time after {iterations}",
            ("a longer --time-limit may place them better, or home bases in reps.csv fix them"),
        )
    warning = f"the search for the centres of {whose} stopped {stop}, before they settled{fell}: {more}"
    return notes, [warning]


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
    points: tuple[np.ndarray, np.ndarray] | None = None,
    metric: Metric = haversine_km,
    search: Search | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lat, lon) of every rep: the given homes of reps not in ``free``, chosen ones for the
    rest (each at an account). ``points`` are per-account coordinates for ``metric`` (default: the
    accounts' lat, lon and great-circle km); ``build_spec`` turns centres into a model. ``search``, when
    given, is filled with how the search went (``Search``)."""
    a, b = (problem.acc_lat, problem.acc_lon) if points is None else points
    w = problem.acc_workload + 1e-9
    lat, lon = initial_centres(problem, free, seed, (a, b), metric)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    search = Search() if search is None else search
    for it in range(max_iterations):
        if it and time.perf_counter() > deadline:  # no time for another LP: the centres have not settled
            break
        spec = build_spec(lat, lon)
        try:
            res = lpmod.solve_lp(
                spec,
                backend,
                lpmod.initial_candidates(spec, candidates),
                deadline=deadline,
                seed=seed,
                threads=threads,
            )
        except SolverError:  # out of time: the centres so far (at worst the initial ones) are kept
            break
        value = res.objective + (1e12 * res.slack_total)
        progress(f"centres iteration {it + 1}: LP objective {res.objective:,.1f}")
        search.lps.append(float(res.objective))
        if best is None or value < best[0] - 1e-9:
            best = (value, lat.copy(), lon.copy())
        unit_rep, _ = repair.lp_assignment(spec, res)
        acc_rep = unit_rep[problem.acc_unit]
        new_lat, new_lon = lat.copy(), lon.copy()
        for j in np.flatnonzero(free):
            mine = np.flatnonzero(acc_rep == j)
            if len(mine) == 0:
                continue
            new_lat[j], new_lon[j] = weighted_medoid(a[mine], b[mine], w[mine], int(seed + j), metric)
        moved = np.nanmax(np.abs(np.concatenate([new_lat - lat, new_lon - lon])))
        lat, lon = new_lat, new_lon
        if moved < 1e-9:
            search.settled = True
            break
    else:
        search.capped = True
    if best is None:
        return lat, lon
    return best[1], best[2]


FAR_FLOOR_KM = 500.0  # a chosen centre this close to its district's nearest home is never worth a note


def far_from_district(
    problem: TerritoryProblem, free: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> list[str]:
    """A note per chosen centre that lies farther from every given home of its rep's district than that
    district's given homes lie apart (and over ``FAR_FLOOR_KM``): the model's best place, yet likely not
    where the planner meant the hire to sit (QA: a new hire of district Texas got a centre in interior
    Alaska, its objective 1.5% better than Houston's). Nothing is changed; a home base in reps.csv
    fixes it."""
    districts = problem.districts
    notes: list[str] = []
    for j in np.flatnonzero(free):
        label = str(districts[j])
        given = np.flatnonzero(~free & (districts == label)) if label else np.array([], dtype=np.int64)
        if not len(given):
            continue
        to_given = haversine_km(lat[[j]], lon[[j]], lat[given], lon[given])[0]
        spread = haversine_km(lat[given], lon[given], lat[given], lon[given]).max()
        if to_given.min() > max(spread, FAR_FLOOR_KM):
            near = given[int(np.argmin(to_given))]
            apart = (
                f", farther than that district's homes lie apart ({spread:,.0f} km)" if len(given) > 1 else ""
            )
            notes.append(
                f"rep {problem.rep_ids[j]} (district {label}) has no home base: its chosen centre "
                f"({lat[j]:.2f}, {lon[j]:.2f}) is {to_given.min():,.0f} km from the nearest home of its "
                f"district ({problem.rep_ids[near]}){apart}; give it a home base in the reps file to keep "
                "it in the district"
            )
    return notes
