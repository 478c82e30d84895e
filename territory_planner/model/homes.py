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
import pandas as pd
from scipy.spatial import cKDTree

from territory_planner.io.labels import account_label, group_label
from territory_planner.model.geo import EARTH_RADIUS_KM
from territory_planner.model.problem import TerritoryProblem

HOME_KM = 1.0  # "at a rep's home" for the note on a plan that gives home accounts away
SHOW = 5  # homes named in that note; the rest are counted


@dataclass(frozen=True)
class KeptHomes:
    km: float
    units: int  # units kept near a home (locked or narrowed to the reps based within km)
    shared: int  # of them, units within km of several reps' homes (any of those reps may take them)
    user_locked: int  # units within km of a home but locked by the user to a rep based elsewhere
    unserved: int  # units within km of a home whose reps based there may not serve (segments)

    def notes(self) -> list[str]:
        """What --keep-home did: the count of units it kept (a note), then ``warnings``."""
        shared = f" ({self.shared} near several homes, shared by their reps)" if self.shared else ""
        count = (
            f"--keep-home {self.km:g}: {self.units} unit(s) within {self.km:g} km of a rep's home stay "
            f"with a rep based there{shared}"
        )
        return [count, *self.warnings()]

    def warnings(self) -> list[str]:
        """Units near a home that --keep-home could not keep: logged as warnings."""
        out = []
        if self.user_locked:
            out.append(
                f"--keep-home: {self.user_locked} unit(s) near a home are locked to a rep based elsewhere "
                "(the locked_rep column, or the edits that edit --rebalance locks); the lock wins"
            )
        if self.unserved:
            out.append(
                f"--keep-home: {self.unserved} unit(s) near a home are of a segment no rep based there "
                "serves; they go to any rep that serves them"
            )
        return out


def note_km(lat: np.ndarray, lon: np.ndarray) -> float:
    """How near a rep's home an account must lie to be "at" it, for the note on homes given away
    (without --keep-home): ``HOME_KM``, or the accounts' typical spacing when that is smaller (the median
    distance from each account location to its nearest neighbour, to two significant digits). QA15 L8:
    in a city (2,203 Berlin listings 25 m apart) 2,090 accounts lie within 1 km of some rep's home, and
    the note named 59 of them as home accounts given away."""
    ok = np.isfinite(lat) & np.isfinite(lon)
    points = np.unique(np.column_stack([lat[ok], lon[ok]]), axis=0)
    if len(points) < 2:
        return HOME_KM
    xyz = _xyz(points[:, 0], points[:, 1])
    chord = cKDTree(xyz).query(xyz, k=2)[0][:, 1]
    spacing = float(np.median(2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))))
    if not spacing < HOME_KM:
        return HOME_KM
    return float(f"{spacing:.2g}") if spacing > 0 else HOME_KM


def _within(km: float) -> str:
    """``within 1 km``, ``within 25 m``."""
    return f"within {km:g} km" if km >= 1 else f"within {1000 * km:,.0f} m"


def _km_text(km: float) -> str:
    """A distance with one decimal under 10 km (1.449 -> ``1.4 km``, not the ``1 km`` of the threshold)."""
    return f"{km:,.1f} km" if km < 10 else f"{km:,.0f} km"


def is_kept_count(note: str) -> bool:
    """The first of ``KeptHomes.notes``, the count of units kept, which is not a warning."""
    return note.startswith("--keep-home ") and " km of a rep's home stay with a rep based there" in note


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
    acc_lat: np.ndarray, acc_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray, reps: np.ndarray, km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(account, rep, km) of every account within ``km`` of the point (lat, lon) of a rep in ``reps``
    (indices), by a k-d tree on the unit sphere: no accounts x reps matrix (33,791 ZIPs x 200 reps would be
    54 MB per temporary)."""
    if not len(reps):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    # the chord of the arc on the unit sphere, a hair wider: the arc re-checks every pair found
    chord = 2.0 * np.sin(min(km / (2.0 * EARTH_RADIUS_KM), np.pi / 2)) * 1.000001
    hits = cKDTree(_xyz(lat[reps], lon[reps])).query_ball_point(_xyz(acc_lat, acc_lon), chord)
    acc = np.repeat(np.arange(len(acc_lat)), [len(h) for h in hits])
    rep = reps[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])] if len(acc) else acc
    d = arc_km(acc_lat[acc], acc_lon[acc], lat[rep], lon[rep])
    keep = d <= km
    return acc[keep], rep[keep], d[keep]


def home_pairs(
    acc_lat: np.ndarray,
    acc_lon: np.ndarray,
    acc_unit: np.ndarray,
    home_lat: np.ndarray,
    home_lon: np.ndarray,
    reps: np.ndarray,
    km: float,
    home_unit: np.ndarray | None = None,
    held_only: bool = False,
) -> dict[int, list[tuple[float, int, int]]]:
    """The rule for a unit "at a rep's home", written once for ``plan`` (``near_homes`` for --keep-home,
    ``lost_homes`` for the note) and ``edit`` (``edited_notes``): a unit is at the home of a rep in
    ``reps`` (indices, homes given) when one of its accounts lies within ``km`` of it, or when its polygon
    holds it (``home_unit``: per rep, the unit whose polygon holds its home, -1 none; None: no polygons),
    counted at 0 km. ``held_only``: a rep whose home a polygon holds has that unit alone at its home (the
    note on homes given away: QA30 F7, a neighbouring polygon whose point lay 0.8 km from the home was
    called R06's home account, while R06 kept the polygon holding its home). Per such unit: (km, rep,
    account) for each of those reps, nearest first, with the unit's account nearest that home."""
    out: dict[int, dict[int, tuple[float, int, int]]] = {}
    acc, rep, d = within(acc_lat, acc_lon, home_lat, home_lon, reps, km)
    if held_only and home_unit is not None and len(rep):
        keep = home_unit[rep] < 0
        acc, rep, d = acc[keep], rep[keep], d[keep]
    for i, j, dist in zip(acc.tolist(), rep.tolist(), d.tolist(), strict=True):
        u = int(acc_unit[i])
        if j not in out.setdefault(u, {}) or dist < out[u][j][0]:
            out[u][j] = (dist, j, i)
    if home_unit is not None:
        for j in reps.tolist():
            u = int(home_unit[j])
            if u >= 0:
                members = np.flatnonzero(acc_unit == u)
                near = arc_km(acc_lat[members], acc_lon[members], home_lat[j], home_lon[j])
                out.setdefault(u, {})[j] = (0.0, j, int(members[np.argmin(near)]))
    return {u: sorted(v.values()) for u, v in out.items()}


def family_units(parent_id: np.ndarray) -> np.ndarray:
    """Each account's unit as ``TerritoryProblem.from_frames`` numbers them: one per family
    (``parent_id``), one per account without one, in order of first appearance; for a plan folder, whose
    assignments.csv lists the accounts in input order (an area's accounts carry ``area:ID``)."""
    family = np.asarray(parent_id, dtype=str)
    keys = np.where(
        family != "", np.char.add("F:", family), np.char.add("A:", np.arange(len(family)).astype(str))
    )
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    out: np.ndarray = rank[inverse.reshape(-1)]
    return out


def near_homes(problem: TerritoryProblem, km: float) -> np.ndarray:
    """(n_units, p) bool: the unit is at the rep's home (``home_pairs``; reps without a home: never)."""
    p = problem
    near = np.zeros((p.n_units, p.n_reps), dtype=bool)
    for u, pairs in _home_pairs(p, np.flatnonzero(~p.missing_homes), km).items():
        near[u, [j for _, j, _ in pairs]] = True
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
    out = dataclasses.replace(p, allowed=allowed, unit_locked=unit_locked, unit_home_kept=keep, home_km=km)
    return out, info


def _home_pairs(
    problem: TerritoryProblem, reps: np.ndarray, km: float, held_only: bool = False
) -> dict[int, list[tuple[float, int, int]]]:
    """``home_pairs`` on the problem's units and homes."""
    p = problem
    return home_pairs(
        p.acc_lat, p.acc_lon, p.acc_unit, p.home_lat, p.home_lon, reps, km, p.home_unit, held_only
    )


def lost_homes(
    problem: TerritoryProblem,
    unit_rep: np.ndarray,
    centre_lat: np.ndarray,
    centre_lon: np.ndarray,
    given: np.ndarray,
    km: float = HOME_KM,
    show: int = SHOW,
    kept: bool = False,
) -> list[str]:
    """Notes on the units at a rep's own home (an account within ``km`` of it, or the polygon that holds
    it; ``given``: reps whose home the user gave, not a centre the planner chose) that the plan gives to
    a rep based elsewhere: "R08's home account BH (Belo Horizonte) goes to R10, 354 km from it" (to
    R10's centre in the plan), with the reason when a lock or a segment forced it; the first ``show`` by
    potential, then how many more. ``kept``: --keep-home was given, so only those reasons are left."""
    p = problem
    pairs = _home_pairs(p, np.flatnonzero(given & ~p.missing_homes), km, held_only=True)
    owner = np.asarray(unit_rep)
    lost = [(u, near) for u, near in pairs.items() if int(owner[u]) not in {j for _, j, _ in near}]
    if not lost:
        return []
    potential = p.unit_sum(p.acc_potential)
    lost.sort(key=lambda item: -float(potential[item[0]]))
    lines, free = [], 0
    for k, (u, near) in enumerate(lost):
        _, at, i = near[0]
        j = int(owner[u])
        why = _forced(p, u, [r for _, r, _ in near])
        free += not why
        if k >= show:
            continue
        single = p.unit_size[u] == 1 and (p.home_unit is None or at not in np.flatnonzero(p.home_unit == u))
        what = account_label(p.account_ids[i], p.account_names[i]) if single else p.unit_label(u)
        to = float(arc_km(p.acc_lat[i], p.acc_lon[i], centre_lat[j], centre_lon[j]))
        # every rep whose home the unit holds (QA28 F3: a family holding Naples and Genoa, R02's and
        # R05's homes, named R02's alone)
        homes = list(dict.fromkeys(str(p.rep_ids[r]) for _, r, _ in near))
        whose = " and ".join(
            [", ".join(f"{h}'s" for h in homes[:-1]), f"{homes[-1]}'s"]
            if len(homes) > 1
            else [f"{homes[0]}'s"]
        )
        lines.append(f"{whose} home {what} goes to {p.rep_ids[j]}, {_km_text(to)} from it{why}")
    hint = ""
    if free and not kept:
        them = "them" if free == len(lost) else f"the {free} not forced away (a lock, a segment, a band)"
        hint = f". --keep-home {km:g} keeps {them} with a rep based there"
    what = "unit(s)" if any(p.unit_size[u] > 1 for u, _ in lost) or p.home_unit is not None else "account(s)"
    # QA12 N5: "(within 0 km)" for a polygon that holds the home
    where = f"its polygon, or {_within(km)}" if p.home_unit is not None else _within(km)
    return [_lost_note(len(lost), f"{what} at a rep's home ({where})", "", lines, show) + hint]


def _lost_note(count: int, what: str, plan: str, lines: list[str], show: int) -> str:
    """The one note naming the homes a plan gives away (``lost_homes``, ``edited_notes``): "5 account(s)
    at a rep's home (within 1 km) go to a rep based elsewhere: ...; and 2 more"."""
    more = f"; and {count - show} more" if count > show else ""
    return f"{count} {what} go to a rep based elsewhere{plan}: " + "; ".join(lines[:show]) + more


def _forced(p: TerritoryProblem, u: int, near: list[int]) -> str:
    """Why unit ``u`` cannot go to the reps based near it: " (locked to R2)", " (no rep based there
    serves its segment)", or "" (nothing forces it)."""
    locked = p.acc_locked[p.acc_unit == u]
    locked = locked[locked >= 0]
    if len(locked):
        return f" (locked to {p.rep_ids[int(locked[0])]})"
    if not p.allowed[u, near].any():
        return " (no rep based there serves its segment)"
    over = p.unit_amount[u][:, None] > p.upper_band[:, near] * (1 + 1e-9)  # (measures, near reps)
    if over.any(axis=0).all():  # alone above the band of every rep based there (QA56 F3: São Paulo)
        from territory_planner.optimize.prechecks import amount

        r = near[0]
        m = int(np.flatnonzero(over[:, 0])[0])
        measure = p.measures[m]
        alone, most = amount(float(p.unit_amount[u, m]), measure), amount(float(p.upper_band[m, r]), measure)
        return f" (alone it is above {p.rep_ids[r]}'s band: {measure} {alone}, at most {most})"
    return ""


def given_homes(territories: pd.DataFrame) -> np.ndarray:
    """A plan folder's reps (indices into territories.csv) whose home the user gave, with coordinates
    (a home the planner chose is no rep's office)."""
    chosen = territories["home_chosen"].astype(str).str.lower().eq("true").to_numpy()
    lat, lon = territories["home_lat"].to_numpy(float), territories["home_lon"].to_numpy(float)
    out: np.ndarray = np.flatnonzero(~chosen & np.isfinite(lat) & np.isfinite(lon))
    return out


def edited_notes(
    notes: list[str],
    assignments: pd.DataFrame,
    territories: pd.DataFrame,
    owner: np.ndarray,
    km: float,
    home_unit: np.ndarray | None = None,
) -> list[str]:
    """An edited plan's notes (``edit`` without ``--rebalance``): the plan's notes on home accounts were
    about the plan before the edits (QA11 O5: "16 unit(s) ... stay" after Belo Horizonte was given away
    by hand), so they are dropped and the homes the edited plan gives to a rep based elsewhere are named
    again, by the plan's rule (``home_pairs``; QA12 N2): a unit (an account, or its family or area by
    ``parent_id``) with an account within ``km`` of a given home, or whose polygon holds it
    (``home_unit``: per rep, the unit of ``family_units`` whose polygon holds its home, -1 none; None: the
    plan has no polygons), and what forced it (a lock, a segment). ``owner``: each account's rep (index
    into ``territories``) in the edited plan."""
    kept = [n for n in notes if not _home_note(n)]
    lat, lon = territories["home_lat"].to_numpy(float), territories["home_lon"].to_numpy(float)
    reps = given_homes(territories)
    a_lat, a_lon = assignments["lat"].to_numpy(float), assignments["lon"].to_numpy(float)
    unit = family_units(_column(assignments, "parent_id").astype(str))
    near = home_pairs(a_lat, a_lon, unit, lat, lon, reps, km, home_unit, held_only=True)
    potential = np.bincount(unit, weights=np.nan_to_num(assignments["potential"].to_numpy(float)))
    rep_ids = territories["rep_id"].astype(str).to_numpy()
    ids = assignments["account_id"].astype(str).to_numpy()
    names = _column(assignments, "name")
    locked, segment = _column(assignments, "locked_rep"), _column(assignments, "segment")
    serves = _column(territories, "segments")
    lines: list[str] = []
    lost = 0
    index = {r: j for j, r in enumerate(rep_ids.tolist())}
    before = np.array([index.get(str(r), -1) for r in assignments["rep_id"].astype(str)], dtype=np.int64)
    edited = set(unit[before != owner].tolist())  # the units the edits moved: named first (QA53 F3)
    sizes = np.bincount(unit)
    parents = _column(assignments, "parent_id")
    # the units the edits moved first, then the largest, as ``lost_homes``
    for u in sorted(near, key=lambda u: (u not in edited, -float(potential[u]), u)):
        pairs = near[u]
        _, at, i = pairs[0]
        o = int(owner[i])
        if o in {j for _, j, _ in pairs}:
            continue
        lost += 1
        if len(lines) >= SHOW:
            continue
        locks = [x for x in locked[unit == u] if x]
        why = ""
        if locks:
            why = f" (locked to {locks[0]})"
        elif segment[i] and all(
            serves[j] and segment[i].lower() not in serves[j].lower().split(";") for _, j, _ in pairs
        ):
            why = " (no rep based there serves its segment)"
        to = float(arc_km(a_lat[i], a_lon[i], lat[o], lon[o]))
        label = account_label(ids[i], names[i] or None)
        if sizes[u] > 1 and parents[i]:  # as `plan` names it: "R04's home family F021 (4 accounts)"
            label = f"{group_label(parents[i])} ({sizes[u]} accounts)"  # "area 37067" in an area plan
        lines.append(f"{rep_ids[at]}'s home {label} goes to {rep_ids[o]}, {_km_text(to)} from it{why}")
    if not lost:
        return kept
    where = f"its polygon, or {_within(km)}" if home_unit is not None else _within(km)
    return [*kept, _lost_note(lost, f"unit(s) at a rep's home ({where})", _EDITED, lines, SHOW)]


_EDITED = " in the edited plan"


def edited_lost(notes: list[str]) -> list[str]:
    """The note of ``edited_notes`` naming the homes an edited plan gives away, for the console."""
    return [n for n in notes if f"go to a rep based elsewhere{_EDITED}:" in n]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A text column of a plan table as strings, "" where empty or absent."""
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[name].fillna("").astype(str).to_numpy()


def _home_note(note: str) -> bool:
    """A note on home accounts: --keep-home's own, or one that names homes given away."""
    return note.startswith("--keep-home") or "at a rep's home (" in note
