"""Units that cost nothing wherever they go, settled where a planner expects them.

A unit whose objective is the same for every rep it may go to (an account of zero workload, with no
disruption price: it adds no travel anywhere) is free ballast to the solver: any rep will do, so the
plan's search moves it to fix a band and never moves it back (QA28 F15: 29 of 30 zero-workload accounts
changed rep, their median distance to their rep from 146 to 749 km, where the same objective needed 11
moves). ``settle`` gives each such unit back to its current rep, or to the nearest rep's home when it has
none, wherever the plan stays feasible, one unit at a time and then by swapping two such units: the
objective does not change, the moves and the distances do.
"""

from __future__ import annotations

import time

import numpy as np

from territory_planner.model.geo import haversine_km
from territory_planner.optimize import repair
from territory_planner.optimize.spec import ModelSpec

MAX_TRIES = 2_000  # feasibility checks, each over the whole plan


def free_units(spec: ModelSpec) -> np.ndarray:
    """(n_units,) bool: units whose objective is the same for every rep they may go to."""
    obj = spec.objective
    masked_hi = np.where(spec.allowed, obj, -np.inf).max(axis=1)
    masked_lo = np.where(spec.allowed, obj, np.inf).min(axis=1)
    scale = np.maximum(np.abs(masked_hi), 1.0)
    return np.asarray((masked_hi - masked_lo) <= 1e-12 * scale, dtype=bool) & spec.allowed.any(axis=1)


def _distances(spec: ModelSpec, units: np.ndarray) -> np.ndarray:
    """(len(units), p) km from each unit's first account to each rep's home (inf: no home, or not allowed)."""
    p = spec.problem
    first = np.full(p.n_units, -1, dtype=np.int64)
    first[p.acc_unit[::-1]] = np.arange(len(p.acc_unit))[::-1]
    acc = first[units]
    km = haversine_km(p.acc_lat[acc], p.acc_lon[acc], p.home_lat, p.home_lon)  # pairwise
    km = np.where(np.isfinite(km) & spec.allowed[units], km, np.inf)
    return np.asarray(km)


def preferred(spec: ModelSpec, units: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Per unit: its current rep when it may stay there, else the nearest rep home it may go to (-1:
    none known); ``km`` is ``_distances(spec, units)``."""
    if not len(units):
        return np.zeros(0, dtype=np.int64)
    allowed = spec.allowed[units]
    moved = spec.moved[units]
    has_current = moved.max(axis=1) > 0  # a rep gains potential it did not hold: the unit has a current rep
    staying = np.where(allowed, moved, np.inf)
    current = np.argmin(staying, axis=1)
    stays = has_current & (staying[np.arange(len(units)), current] <= 1e-12)
    nearest = np.where(np.isfinite(km).any(axis=1), np.argmin(km, axis=1), -1)
    return np.where(stays, current, nearest).astype(np.int64)


def settle(spec: ModelSpec, plan: np.ndarray, *, deadline: float) -> tuple[np.ndarray, int]:
    """The plan with its free units moved to their preferred reps where it stays feasible, and how many
    units moved. The objective is unchanged (free units cost the same everywhere)."""
    if spec.disruption_price > 0:  # moves are priced: no unit with a current rep is free to move
        return plan, 0
    free = np.flatnonzero(free_units(spec))
    if not len(free) or not repair.feasible(spec, plan):
        return plan, 0
    km = _distances(spec, free)
    want = preferred(spec, free, km)
    off = (want >= 0) & (want != plan[free])
    units, want, km = free[off], want[off], km[off]
    if not len(units):
        return plan, 0
    rows = np.arange(len(units))
    gain = km[rows, plan[units]] - km[rows, want]
    order = np.argsort(-np.nan_to_num(gain, nan=0.0, posinf=1e12), kind="stable")
    out = plan.copy()
    tries, moved = 0, 0
    waiting: list[int] = []
    for k in order.tolist():
        if tries >= MAX_TRIES or time.perf_counter() >= deadline:
            break
        u, j, was = int(units[k]), int(want[k]), int(out[units[k]])
        out[u] = j
        tries += 1
        if repair.feasible(spec, out):
            moved += 1
        else:
            out[u] = was
            waiting.append(k)
    # two free units each where the other wants to be: swapped together (one alone breaks a band)
    by_pair: dict[tuple[int, int], list[int]] = {}
    for k in waiting:
        by_pair.setdefault((int(out[units[k]]), int(want[k])), []).append(k)
    for k in waiting:
        if tries >= MAX_TRIES or time.perf_counter() >= deadline:
            break
        u, a, b = int(units[k]), int(out[units[k]]), int(want[k])
        if a == b:
            continue
        partners = [q for q in by_pair.get((b, a), []) if int(out[units[q]]) == b]
        for q in partners:
            v = int(units[q])
            out[u], out[v] = b, a
            tries += 1
            if repair.feasible(spec, out):
                moved += 2
                break
            out[u], out[v] = a, b
    return out, moved
