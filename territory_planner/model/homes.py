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

from territory_planner.io.labels import account_label
from territory_planner.model.geo import haversine_km
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


def near_homes(problem: TerritoryProblem, km: float) -> np.ndarray:
    """(n_units, p) bool: some account of the unit lies within ``km`` of the rep's home (reps without a
    home: never), or the unit is the polygon that holds the rep's home."""
    p = problem
    has = ~p.missing_homes
    near = np.zeros((p.n_units, p.n_reps), dtype=bool)
    if has.any():
        d = haversine_km(p.acc_lat, p.acc_lon, p.home_lat[has], p.home_lon[has])
        close = np.zeros((p.n_accounts, p.n_reps), dtype=bool)
        close[:, has] = d <= km
        acc, rep = np.nonzero(close)
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
    has = given & ~p.missing_homes
    if not has.any():
        return []
    home = np.full((p.n_accounts, p.n_reps), np.inf)
    home[:, has] = haversine_km(p.acc_lat, p.acc_lon, p.home_lat[has], p.home_lon[has])
    near = home <= km
    owner = np.asarray(account_rep)
    lost = near.any(axis=1) & ~near[np.arange(p.n_accounts), owner]
    if not lost.any():
        return []
    order = np.flatnonzero(lost)[np.argsort(-p.acc_potential[lost], kind="stable")]
    to = haversine_km(p.acc_lat[order[:show]], p.acc_lon[order[:show]], centre_lat, centre_lon)
    lines = []
    for k, i in enumerate(order[:show].tolist()):
        at = int(np.argmin(home[i]))
        j = int(owner[i])
        lines.append(
            f"{p.rep_ids[at]}'s home {account_label(p.account_ids[i], p.account_names[i])} goes to "
            f"{p.rep_ids[j]}, {to[k, j]:,.0f} km from it"
        )
    more = f"; and {len(order) - show} more" if len(order) > show else ""
    return [
        f"{len(order)} account(s) within {km:g} km of a rep's home go to a rep based elsewhere: "
        + "; ".join(lines)
        + more
        + (
            " (the locked_rep column, or a segment no rep based there serves)"
            if kept
            else f". --keep-home {km:g} keeps them with a rep based there"
        )
    ]
