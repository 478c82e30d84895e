"""Tiny hand-drawn hierarchy instances and an exhaustive solver for them (no optimiser code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from territory_planner.model.geo import haversine_km
from tests.conftest import write_instance

# 4 x 4 grid, one degree apart on the equator; potential per column (west -> east), workload 1 each::
#
#     lat 3   R2  4  4  1  1  R4        districts: West = R1, R2   East = R3, R4
#     lat 2       4  4  1  1
#     lat 1       4  4  1  1            every rep holds exactly 4 accounts (workload band +-0)
#     lat 0   R1  4  4  1  1  R3        (reps sit on the corner accounts)
#
# Without district rows the four 2 x 2 quadrants are optimal: West holds 32 of the 40 potential. With
# the West and East potential within +-10% of 20, West must trade heavy accounts for light ones.
GRID_POTENTIAL = (4.0, 4.0, 1.0, 1.0)
GRID_REPS = (("R1", 0, 0, "West"), ("R2", 3, 0, "West"), ("R3", 0, 3, "East"), ("R4", 3, 3, "East"))


def grid_rows() -> tuple[list[dict], list[dict]]:
    accounts = [
        {
            "account_id": f"A{r}{c}",
            "lat": float(r),
            "lon": float(c),
            "potential": GRID_POTENTIAL[c],
            "workload": 1.0,
        }
        for r in range(4)
        for c in range(4)
    ]
    reps = [
        {"rep_id": rid, "lat": float(la), "lon": float(lo), "district": d, "region": "All"}
        for rid, la, lo, d in GRID_REPS
    ]
    return accounts, reps


def write_grid(folder: Path) -> tuple[Path, Path]:
    accounts, reps = grid_rows()
    return write_instance(folder, accounts, reps)


def brute_force(
    accounts: list[dict],
    reps: list[dict],
    rep_tol: dict[str, float],
    group_tol: float | None,
    group_key: str = "district",
) -> float:
    """Least total workload x km over every assignment meeting the rep bands (potential, workload) and,
    with ``group_tol``, the potential band of each group; by dynamic programming over the accounts
    (states: the loads of every rep). Integer measures only."""
    lat = np.array([a["lat"] for a in accounts])
    lon = np.array([a["lon"] for a in accounts])
    pot = np.array([int(a["potential"]) for a in accounts])
    wl = np.array([int(a["workload"]) for a in accounts])
    cost = haversine_km(lat, lon, np.array([r["lat"] for r in reps]), np.array([r["lon"] for r in reps]))
    cost = cost * wl[:, None]
    p = len(reps)
    t_pot, t_wl = pot.sum() / p, wl.sum() / p
    hi_pot, hi_wl = (1 + rep_tol["potential"]) * t_pot, (1 + rep_tol["workload"]) * t_wl
    lo_pot, lo_wl = (1 - rep_tol["potential"]) * t_pot, (1 - rep_tol["workload"]) * t_wl
    states: dict[tuple[int, ...], float] = {(0,) * (2 * p): 0.0}
    for i in range(len(accounts)):
        nxt: dict[tuple[int, ...], float] = {}
        for s, c in states.items():
            for j in range(p):
                new = list(s)
                new[j] += int(pot[i])
                new[p + j] += int(wl[i])
                if new[j] > hi_pot + 1e-9 or new[p + j] > hi_wl + 1e-9:
                    continue
                key = tuple(new)
                v = c + float(cost[i, j])
                if v < nxt.get(key, np.inf):
                    nxt[key] = v
        states = nxt
    groups: dict[str, list[int]] = {}
    for j, r in enumerate(reps):
        groups.setdefault(str(r[group_key]), []).append(j)
    best = np.inf
    for s, c in states.items():
        if any(s[j] < lo_pot - 1e-9 or s[p + j] < lo_wl - 1e-9 for j in range(p)):
            continue
        if group_tol is not None:
            ok = True
            for members in groups.values():
                load, target = sum(s[j] for j in members), t_pot * len(members)
                if not (1 - group_tol) * target - 1e-9 <= load <= (1 + group_tol) * target + 1e-9:
                    ok = False
            if not ok:
                continue
        best = min(best, c)
    return float(best)
