"""Plan -> the tables and summary of SPEC "Outputs of plan", and the reason behind every move."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner import __version__
from territory_planner.io.labels import group_label
from territory_planner.model.plan import Plan
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize.prechecks import balance_floor
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import PlanOptions
from territory_planner.report.formatting import no_negative_zero


def _dev_pct(value: np.ndarray, target: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(target > 0, 100.0 * (value - target) / target, np.nan)
    return out


def move_reasons(
    problem: TerritoryProblem, plan: Plan, account_km: np.ndarray, current_raw: np.ndarray
) -> np.ndarray:
    """Why each moved account moved: lock, segment, rep left, family, compactness, balance or chain."""
    n = problem.n_accounts
    new = plan.account_rep
    cur = problem.acc_current
    reasons = np.full(n, "", dtype=object)
    moved = (cur != new) & ((cur >= 0) | (current_raw != ""))
    cur_dev = {}
    has = cur >= 0
    for m, measure in enumerate(problem.measures):
        held = np.bincount(cur[has], weights=problem.acc_amount[has, m], minlength=problem.n_reps)
        cur_dev[measure] = _dev_pct(held, problem.target[m])
    final_dev = {
        measure: _dev_pct(
            np.bincount(new, weights=problem.acc_amount[:, m], minlength=problem.n_reps), problem.target[m]
        )
        for m, measure in enumerate(problem.measures)
    }
    first = problem.measures[0]
    # each unit's lock from its accounts' own, not --keep-home's, which locks a unit too and has its reason
    user_locked = problem.unit_user_lock()
    gave = np.bincount(cur[moved & has], minlength=problem.n_reps)  # accounts each rep passes on
    took = np.bincount(new[moved], minlength=problem.n_reps)  # and takes in
    kept = problem.unit_home_kept
    office = None  # (units, reps): the reps based at a unit --keep-home keeps, who share it
    if kept is not None and kept.any() and problem.home_km is not None:
        from territory_planner.model.homes import near_homes

        office = near_homes(problem, problem.home_km)
    for i in np.flatnonzero(moved).tolist():
        j_new, j_cur = int(new[i]), int(cur[i])
        new_id = problem.rep_ids[j_new]
        km = _km_change(float(account_km[i, j_cur]), float(account_km[i, j_new])) if j_cur >= 0 else ""
        unit = problem.acc_unit[i]
        # a move between two reps based where --keep-home keeps it is not the option's doing (QA50 F3:
        # "kept by --keep-home" for Medias, at the office of R06, its rep, and of the new hire N01)
        mates = office is not None and j_cur >= 0 and bool(office[unit, j_cur] and office[unit, j_new])
        if problem.acc_locked[i] == j_new:
            reasons[i] = f"lock: locked to {new_id}"
        elif user_locked[unit] == j_new:  # a member's lock takes the family along
            reasons[i] = _family_lock_reason(problem, i, j_new)
        elif kept is not None and kept[unit] and not mates:
            reasons[i] = _home_reason(problem, i, j_new)
        elif j_cur < 0:
            reasons[i] = f"rep left: {current_raw[i]} is not in the roster" + _why_not_nearest(
                problem, i, j_new, account_km, final_dev
            )
        elif (
            problem.rep_segments[j_cur]
            and problem.acc_segment[i].lower() not in problem.rep_segments[j_cur]
            and problem.acc_segment[i]
        ):
            reasons[i] = f"segment: {problem.rep_ids[j_cur]} does not serve {str(problem.acc_segment[i])!r}"
        elif (
            problem.acc_family[i]
            and problem.unit_size[problem.acc_unit[i]] > 1
            and bool(np.any((problem.acc_unit == problem.acc_unit[i]) & (cur == j_new)))
        ):
            reasons[i] = f"family: joins {group_label(problem.acc_family[i])} with {new_id}"
        elif account_km[i, j_new] < account_km[i, j_cur] - 1e-6:
            reasons[i] = f"compactness: {km}"
        else:
            reasons[i] = _balance_reason(
                problem, j_cur, j_new, cur_dev, gave[j_new], took[j_cur], problem.acc_amount[i]
            ) or (
                f"plan: neither toward balance ({_held(problem, j_cur, j_new, cur_dev, first)}) nor closer "
                f"({km}) on its own; part of the plan as a whole"
            )
        if mates and problem.acc_locked[i] != j_new and user_locked[unit] != j_new:
            reasons[i] += (
                f" ({problem.rep_ids[j_cur]} and {new_id} are both based there: --keep-home allows either)"
            )
    return reasons


def _family_lock_reason(problem: TerritoryProblem, i: int, j: int) -> str:
    """Account ``i`` follows a member of its family locked to rep ``j`` (a ``locked_rep``, ``--locks`` or
    an edit that ``edit --rebalance`` keeps as a lock): QA15 M6, PLA0101 went to PL05 with PLA0100 locked
    there and said "balance: PL01 held +105% potential vs target"."""
    from territory_planner.io.labels import account_label, first_few

    unit = problem.acc_unit[i]
    locked = np.flatnonzero((problem.acc_unit == unit) & (problem.acc_locked == j)).tolist()
    shown = first_few(
        (
            account_label(problem.account_ids[k], problem.account_names[k]).removeprefix("account ")
            for k in locked
        ),
        3,
    )
    family = group_label(problem.acc_family[i]) if problem.acc_family[i] else "its group"
    rep = problem.rep_ids[j]
    who = "its member {} is" if len(locked) == 1 else "its members {} are"
    return f"family: joins {family} with {rep}: {who.format(shown)} locked to {rep}"


def _apart(a: float, b: float, sign: str) -> tuple[str, str]:
    """Two numbers with the fewest decimals (up to 2) that tell them apart (none if nothing does), in the
    format ``sign`` (``+``: a deviation's sign, ``,``: thousands separated)."""
    for d in (0, 1, 2):
        if f"{a:{sign}.{d}f}" != f"{b:{sign}.{d}f}":
            return f"{a:{sign}.{d}f}", f"{b:{sign}.{d}f}"
    return f"{a:{sign}.0f}", f"{b:{sign}.0f}"


def _km_change(a: float, b: float) -> str:
    """``412 km -> 35 km``, with the decimals that tell the two apart (QA50 F5: "1 km -> 1 km" for
    1.48 -> 0.89 km at city scale)."""
    before, after = _apart(a, b, ",")
    return f"{before} km -> {after} km"


def _pcts(a: float, b: float) -> tuple[str, str]:
    """Two deviations shown with the fewest decimals (up to 2) that tell them apart (none if nothing does)."""
    return _apart(a, b, "+")


def _held(
    problem: TerritoryProblem, j_cur: int, j_new: int, cur_dev: dict[str, np.ndarray], measure: str
) -> str:
    dc, dn = _pcts(float(cur_dev[measure][j_cur]), float(cur_dev[measure][j_new]))
    return f"{problem.rep_ids[j_cur]} held {dc}% {measure} vs target, {problem.rep_ids[j_new]} {dn}%"


def _balance_reason(
    problem: TerritoryProblem,
    j_cur: int,
    j_new: int,
    cur_dev: dict[str, np.ndarray],
    gave: int,
    took: int,
    amount: np.ndarray,
) -> str:
    """A move that is neither closer nor forced: "balance" on the first measure on which the giver held
    more against its target than the receiver (told apart at the precision shown) and the account holds
    some of it (``amount``, per measure: QA72 F8, an account of zero potential moved "for balance: R05
    held +152% potential vs target", which its move does not change), else "chain" when the receiver
    passes accounts on or the giver takes others in (QA13 item 4: "balance: IT04 held +45% potential vs
    target, IT02 +65%" for Aosta, which went to the rep further over target), else ""."""
    for m, measure in enumerate(problem.measures):
        dc, dn = float(cur_dev[measure][j_cur]), float(cur_dev[measure][j_new])
        if float(amount[m]) > 0 and dc > dn and len({*_pcts(dc, dn)}) == 2:
            return f"balance: {_held(problem, j_cur, j_new, cur_dev, measure)}"
    if not gave and not took:
        return ""
    cur_id, new_id = problem.rep_ids[j_cur], problem.rep_ids[j_new]
    chain = [f"{new_id} gives {gave} account(s) to others"] * bool(gave) + [
        f"{cur_id} receives {took} from others"
    ] * bool(took)
    held = _held(problem, j_cur, j_new, cur_dev, problem.measures[0])
    return f"chain: {held}; part of a chain of moves that rebalances several reps ({', '.join(chain)})"


def _home_reason(problem: TerritoryProblem, i: int, j: int) -> str:
    """Why --keep-home took account ``i`` to rep ``j``: it lies at j's home (the distance to the home the
    user gave, not to a chosen centre: QA11 O11), or its family or area does (QA11 O1: "at R10's home base
    (526.7 km)" for a family member 527 km away)."""
    from territory_planner.model.homes import arc_km

    p, rep = problem, problem.rep_ids[j]
    d = float(arc_km(p.acc_lat[i], p.acc_lon[i], p.home_lat[j], p.home_lon[j]))
    in_polygon = p.home_unit is not None and p.home_unit[j] == p.acc_unit[i]
    if in_polygon or (p.home_km is not None and d <= p.home_km):
        return f"home: at {rep}'s home base ({d:,.1f} km), kept by --keep-home"
    whose = group_label(p.acc_family[i]) if p.acc_family[i] else "area"
    return f"home: its {whose} is at {rep}'s home base, kept by --keep-home ({d:,.0f} km from that home)"


def _why_not_nearest(
    problem: TerritoryProblem, i: int, j_new: int, account_km: np.ndarray, final_dev: dict[str, np.ndarray]
) -> str:
    """For an account of a rep who left that went to another rep than the nearest one it may go to: the
    distances, and where the nearest rep ends on each measure against its band (QA6: Gaston County, next
    to Charlotte, went to Wilmington 318 km away with only "rep left" as its reason; Charlotte's rep was
    at +9.6% of a +-10% band)."""
    allowed = np.flatnonzero(problem.allowed[problem.acc_unit[i]])
    if not len(allowed):
        return ""
    near = int(allowed[np.argmin(account_km[i, allowed])])
    if near == j_new or account_km[i, near] >= account_km[i, j_new] - 1e-6:
        return ""
    stands = []
    for m, measure in enumerate(problem.measures):
        target = float(problem.target[m, near])
        lo, hi = float(problem.lower_band[m, near]), float(problem.upper_band[m, near])
        band = ""
        if target > 0 and np.isfinite(hi) and np.isfinite(lo):
            down, up = 100 * (target - lo) / target, 100 * (hi - target) / target
            size = 100 * float(problem.acc_amount[i, m]) / target
            band = f"band +-{up:.1f}%" if abs(up - down) < 0.05 else f"band -{down:.1f}% to +{up:.1f}%"
            band = f" ({band}; this account is {size:.1f}% of its target)"
        stands.append(f"{measure} {no_negative_zero(final_dev[measure][near], 1):+.1f}%{band}")  # QA43 F8
    return (
        f"; to {problem.rep_ids[j_new]} ({account_km[i, j_new]:,.0f} km), not the nearest rep "
        f"{problem.rep_ids[near]} ({account_km[i, near]:,.0f} km), who ends at {', '.join(stands)}"
        + _which_band(problem, i, near, j_new, final_dev)
    )


def _which_band(
    problem: TerritoryProblem, i: int, near: int, j_new: int, final_dev: dict[str, np.ndarray]
) -> str:
    """The band that keeps the account from its nearest rep, when one does: the nearest rep's with the
    account, else the receiver's without it (QA50 F1: "not the nearest rep R06 (156 km), who ends at
    potential -9.7%" where R06 could take Sohag within its band and R02 would have ended at workload -13.3%
    without it, outside its own); nothing when neither band does (the plan's travel and the other moves
    decide it)."""
    for j, sign, who in ((near, 1.0, "with it"), (j_new, -1.0, "without it")):
        for m, measure in enumerate(problem.measures):
            target = float(problem.target[m, j])
            if target <= 0:
                continue
            dev = float(final_dev[measure][j]) + sign * 100 * float(problem.acc_amount[i, m]) / target
            lo = 100 * (float(problem.lower_band[m, j]) - target) / target
            hi = 100 * (float(problem.upper_band[m, j]) - target) / target
            if dev > hi + 1e-6 or dev < lo - 1e-6:
                edge = f"{hi:+.1f}%" if dev > hi else f"{lo:+.1f}%"
                ends = f"{measure} {no_negative_zero(dev, 1):+.1f}%"
                return f"; {who} {problem.rep_ids[j]} would end at {ends}, past its band's {edge}"
    return ""


def assignments_frame(problem: TerritoryProblem, plan: Plan, accounts: pd.DataFrame) -> pd.DataFrame:
    km = problem.account_distance(plan.home_lat, plan.home_lon)
    new = plan.account_rep
    current_raw = accounts["current_rep"].to_numpy(dtype=str)
    moved = (current_raw != "") & (current_raw != problem.rep_ids[new])
    frame = pd.DataFrame(
        {
            "account_id": problem.account_ids,
            "rep_id": problem.rep_ids[new],
            "current_rep": current_raw,
            "moved": moved,
            "distance_km": np.round(km[np.arange(problem.n_accounts), new], 3),
            "potential": problem.acc_potential,
            "workload": problem.acc_workload,
            "reason": move_reasons(problem, plan, km, current_raw),
            "name": problem.account_names,
            "lat": problem.acc_lat,
            "lon": problem.acc_lon,
            "parent_id": problem.acc_family,
            "segment": problem.acc_segment,
            "locked_rep": accounts["locked_rep"].to_numpy(dtype=str),
        }
    )
    for m, measure in enumerate(problem.measures):
        if measure not in frame.columns:
            frame[measure] = problem.acc_amount[:, m]
    return frame


def territories_frame(problem: TerritoryProblem, plan: Plan, assignments: pd.DataFrame) -> pd.DataFrame:
    p = problem.n_reps
    new = plan.account_rep
    out = pd.DataFrame({"rep_id": problem.rep_ids, "name": problem.rep_names})
    out["accounts"] = np.bincount(new, minlength=p)
    measures = list(dict.fromkeys(["potential", "workload", *problem.measures]))
    share = problem.capacity / problem.capacity.sum()
    values = {m: np.bincount(new, weights=assignments[m].to_numpy(float), minlength=p) for m in measures}
    targets = {m: assignments[m].to_numpy(float).sum() * share for m in measures}
    # SPEC order first (values, targets, deviations of potential and workload), then extra measures
    for group in (["potential", "workload"], measures[2:]):
        for m in group:
            out[m] = values[m]
        for m in group:
            out[f"{m}_target"] = targets[m]
        for m in group:
            out[f"{m}_dev_pct"] = np.round(_dev_pct(values[m], targets[m]), 4)
    travel = np.bincount(
        new,
        weights=assignments["workload"].to_numpy(float) * assignments["distance_km"].to_numpy(float),
        minlength=p,
    )
    out["travel_km"] = np.round(travel, 3)
    moved = assignments["moved"].to_numpy(bool)
    out["moved_in"] = np.bincount(new[moved], minlength=p)
    cur_idx = pd.Series(problem.acc_current)
    out["moved_out"] = np.bincount(
        cur_idx[moved & (cur_idx.to_numpy() >= 0)].to_numpy(dtype=np.int64), minlength=p
    )
    out["capacity"] = problem.capacity
    out["district"] = problem.districts
    out["region"] = problem.rep_regions
    out["home_lat"] = np.round(plan.home_lat, 6)
    out["home_lon"] = np.round(plan.home_lon, 6)
    out["home_chosen"] = plan.home_chosen
    out["segments"] = served_segments_column(problem, assignments)
    return out


def served_segments_column(problem: TerritoryProblem, assignments: pd.DataFrame) -> list[str]:
    """Each rep's served segments as ``;``-separated text (empty = every segment), for territories.csv:
    ``edit`` and the map's editor check hand edits against it. The model compares segments without case;
    a segment is spelled as the accounts spell it where one does (else in lower case), in sorted order."""
    spelling: dict[str, str] = {}
    if "segment" in assignments.columns:
        for value in assignments["segment"].astype(str):
            if value.strip():
                spelling.setdefault(value.strip().lower(), value.strip())
    return [";".join(spelling.get(s, s) for s in sorted(segs)) for segs in problem.rep_segments]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _clean(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def summary_dict(
    problem: TerritoryProblem,
    spec: ModelSpec,
    plan: Plan,
    assignments: pd.DataFrame,
    territories: pd.DataFrame,
    options: PlanOptions,
    inputs: dict[str, Path],
) -> dict[str, Any]:
    r = plan.result
    moved = assignments["moved"].to_numpy(bool)
    total_pot = float(assignments["potential"].sum())
    max_dev = {
        m: float(np.nanmax(np.abs(territories[f"{m}_dev_pct"].to_numpy(float)))) for m in problem.measures
    }
    return {
        "status": r.status,
        "proven_optimal": r.proven_optimal,
        "proven_infeasible": r.proven_infeasible,
        "objective": _clean(r.objective),
        "lower_bound": _clean(r.lower_bound),
        "gap": _clean(r.gap),
        "solve_seconds": round(r.seconds, 3),
        "solver": r.solver,
        "accounts": problem.n_accounts,
        "reps": problem.n_reps,
        "max_abs_dev_pct": max_dev,
        "moved_accounts": int(moved.sum()),
        # accounts with a rep today: 0 when the accounts file gives no current alignment at all
        "current_accounts": int((assignments["current_rep"].astype(str) != "").sum()),
        "moved_potential_share": float(assignments.loc[moved, "potential"].sum() / total_pot)
        if total_pot
        else 0.0,
        # what --max-moved-share limits: moves away from a rep still on the roster (the accounts of a
        # rep who left must move, and are not counted against the budget)
        "budgeted_moved_share": float(spec.moved[np.arange(problem.n_units), plan.unit_rep].sum() / total_pot)
        if total_pot
        else 0.0,
        "config": options.to_json(),
        "inputs_sha256": {k: file_sha256(v) for k, v in inputs.items()},
        "version": __version__,
        "compactness": _clean(r.compactness),
        "disruption_price": spec.disruption_price,
        "method": r.method,
        "stages_seconds": {k: round(v, 3) for k, v in r.stages.items()},
        "stages": list(r.stage_log),  # every stage in order: what it cost and what came of it
        "plan_source": r.method,  # the stage that produced the plan
        "history": list(r.history),  # when each better plan or bound came: the run's gap over time
        "balance_floor": balance_floor(spec),
        "tolerance": {m: float(t) for m, t in zip(problem.measures, problem.tolerance, strict=False)},
        "units": problem.n_units,
        "notes": list(r.notes),
        "violations": list(r.violations),
        "chosen_centres": [str(x) for x in problem.rep_ids[plan.home_chosen]],
    }
