"""Accounts at a rep's home: ``--keep-home KM`` keeps them with a rep based there, and a plan that hands a
rep's home account to a rep based elsewhere says so.

QA10 (761 Brazilian cities, 16 reps): the optimum gave Guarulhos, where R01 lives, to a rep 543 km away,
and Belo Horizonte, R08's home, to one 354 km away. The balance bands made it optimal (a big city is the
cheapest way to fill a sparse rep's potential), and a sales organisation would never do it. With
``--keep-home KM`` every account within KM km of one or more reps' homes goes to one of those reps: a rep
alone there keeps it (a lock), reps sharing an office share it (the unit's allowed reps narrowed to them).
A user's own lock (``locked_rep``) wins; a unit that no rep based near it may serve (segments) keeps its
reps, and both are counted in the notes. Without the option, ``lost_homes`` names the home accounts a plan
gives away, with the distance, so the choice is the user's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from territory_planner.io.labels import account_label
from territory_planner.model.geo import EARTH_RADIUS_KM
from territory_planner.model.problem import TerritoryProblem

HOME_KM = 1.0  # "at a rep's home" for the note on a plan that gives home accounts away


@dataclass(frozen=True)
class KeptHomes:
    km: float
    units: int  # units kept near a home (locked or narrowed to the reps based within km)
    shared: int  # of them, units within km of several reps' homes (any of those reps may take them)
    user_locked: int  # units within km of a home but locked by the user to a rep based elsewhere
    unserved: int  # units within km of a home whose reps based there may not serve (segments)

    def notes(self) -> list[str]:
        shared = f" ({self.shared} near several homes, shared by their reps)" if self.shared else ""
        out = [
            f"--keep-home {self.km:g}: {self.units} unit(s) within {self.km:g} km of a rep's home stay "
            f"with a rep based there{shared}"
        ]
        if self.user_locked:
            out.append(
                f"--keep-home: {self.user_locked} unit(s) near a home are locked by the locked_rep column to "
                "a rep based elsewhere; the lock wins"
            )
        if self.unserved:
            out.append(
                f"--keep-home: {self.unserved} unit(s) near a home are of a segment no rep based there "
                "serves; they go to any rep that serves them"
            )
        return out


def arc_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle km between points 1 and points 2, element by element (``haversine_km`` is pairwise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def within(
    problem: TerritoryProblem, lat: np.ndarray, lon: np.ndarray, reps: np.ndarray, km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(account, rep, km) of every account within ``km`` of the point (lat, lon) of a rep in ``reps``
    (indices), by a k-d tree on the unit sphere: no accounts x reps matrix (33,791 ZIPs x 200 reps would be
    54 MB per temporary)."""
    p = problem
    if not len(reps):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    chord = (
        2.0 * np.sin(min(km / (2.0 * EARTH_RADIUS_KM), np.pi / 2)) * 1.000001
    )  # the arc's chord, a hair wider
    hits = cKDTree(_xyz(lat[reps], lon[reps])).query_ball_point(_xyz(p.acc_lat, p.acc_lon), chord)
    acc = np.repeat(np.arange(p.n_accounts), [len(h) for h in hits])
    rep = reps[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])] if len(acc) else acc
    d = arc_km(p.acc_lat[acc], p.acc_lon[acc], lat[rep], lon[rep])
    keep = d <= km
    return acc[keep], rep[keep], d[keep]


def near_homes(problem: TerritoryProblem, km: float) -> np.ndarray:
    """(n_units, p) bool: some account of the unit lies within ``km`` of the rep's home (reps without a
    home: never), or the unit is the polygon that holds the rep's home."""
    p = problem
    near = np.zeros((p.n_units, p.n_reps), dtype=bool)
    acc, rep, _ = within(p, p.home_lat, p.home_lon, np.flatnonzero(~p.missing_homes), km)
    near[p.acc_unit[acc], rep] = True
    if p.home_unit is not None:
        j = np.flatnonzero(p.home_unit >= 0)
        near[p.home_unit[j], j] = True
    return near


def keep_homes(problem: TerritoryProblem, km: float) -> tuple[TerritoryProblem, KeptHomes]:
    """``problem`` with every unit within ``km`` of one or more reps' homes confined to those reps (locked
    when one rep), and what was done."""
    p = problem
    near = near_homes(p, km)
    hit = near.any(axis=1)
    user = p.unit_locked >= 0
    narrowed = p.allowed & near
    unserved = hit & ~user & ~narrowed.any(axis=1)
    keep = hit & ~user & ~unserved
    user_locked = hit & user & ~near[np.arange(p.n_units), np.maximum(p.unit_locked, 0)]
    allowed = p.allowed.copy()
    allowed[keep] = narrowed[keep]
    unit_locked = p.unit_locked.copy()
    alone = keep & (allowed.sum(axis=1) == 1)
    unit_locked[alone] = np.argmax(allowed[alone], axis=1)
    info = KeptHomes(
        km=km,
        units=int(keep.sum()),
        shared=int((keep & (near.sum(axis=1) > 1)).sum()),
        user_locked=int(user_locked.sum()),
        unserved=int(unserved.sum()),
    )
    return dataclasses.replace(p, allowed=allowed, unit_locked=unit_locked, unit_home_kept=keep), info


def lost_homes(
    problem: TerritoryProblem,
    account_rep: np.ndarray,
    centre_lat: np.ndarray,
    centre_lon: np.ndarray,
    given: np.ndarray,
    km: float = HOME_KM,
    show: int = 5,
    kept: bool = False,
) -> list[str]:
    """Notes on accounts within ``km`` of a rep's own home (``given``: reps whose home the user gave, not
    a centre the planner chose) that the plan gives to a rep based farther than ``km`` from them: "R08's
    home account BH (Belo Horizonte) goes to R10, 354 km from it" (to R10's centre in the plan); the first
    ``show`` by potential, then how many more. ``kept``: --keep-home was given (what is left are locks
    and segments)."""
    p = problem
    acc, rep, d = within(p, p.home_lat, p.home_lon, np.flatnonzero(given & ~p.missing_homes), km)
    owner = np.asarray(account_rep)
    held = np.zeros(p.n_accounts, dtype=bool)
    held[acc[owner[acc] == rep]] = True  # a rep based within km of it has it
    order = np.lexsort((d, acc))  # per account, the nearest home first
    acc, rep = acc[order], rep[order]
    first = np.r_[True, acc[1:] != acc[:-1]] if len(acc) else np.zeros(0, dtype=bool)
    lost, at = acc[first], rep[first]
    gone = ~held[lost]
    lost, at = lost[gone], at[gone]
    if not len(lost):
        return []
    by = np.argsort(-p.acc_potential[lost], kind="stable")
    lost, at = lost[by], at[by]
    to = arc_km(p.acc_lat[lost], p.acc_lon[lost], centre_lat[owner[lost]], centre_lon[owner[lost]])
    lines = [
        f"{p.rep_ids[j]}'s home {account_label(p.account_ids[i], p.account_names[i])} goes to "
        f"{p.rep_ids[owner[i]]}, {to[k]:,.0f} km from it"
        for k, (i, j) in enumerate(zip(lost[:show].tolist(), at[:show].tolist(), strict=True))
    ]
    more = f"; and {len(lost) - show} more" if len(lost) > show else ""
    return [
        f"{len(lost)} account(s) within {km:g} km of a rep's home go to a rep based elsewhere: "
        + "; ".join(lines)
        + more
        + (
            " (the locked_rep column, or a segment no rep based there serves)"
            if kept
            else f". --keep-home {km:g} keeps them with a rep based there"
        )
    ]
