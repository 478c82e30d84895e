"""What the map's Edit mode needs on top of the drawing payload.

``edit_data`` adds, to the JSON the map embeds: the plan's hash (the key under which the browser keeps
the edits), the balance measures with each rep's target and band, the locked accounts (refused by the
editor) and the account families (moved together, as the planner moves them), and the segments each rep
serves (an account of another segment is refused; ``None`` when the plan folder does not record them, and
then the editor says segments are not checked). Row numbers refer to the payload's account columns, rep
numbers to its rep list; the accounts' segments are the drawing payload's ``acc.seg``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from territory_planner.currency import is_money
from territory_planner.render.bands import balanced_measures, group_band_pct, measure_band_pct
from territory_planner.render.bands import band_pct as band_pct  # edit_violations imports it from here
from territory_planner.render.levels import rep_groups
from territory_planner.render.plan_folder import (
    PlanFolder,
    extra_measures,
    plan_adjacency,
    served_segments,
    unchecked_segments_note,
)

MEASURES = (("potential", "Potential", "Pot.", "pot"), ("workload", "Workload", "Work", "wl"))


def plan_hash(plan: PlanFolder) -> str:
    """A short fingerprint of the plan as written: its reps and every account's rep."""
    from territory_planner.manifest import assignment_fingerprint

    return assignment_fingerprint(
        plan.territories["rep_id"], plan.assignments["account_id"], plan.assignments["rep_id"]
    )


def _targets(plan: PlanFolder, measure: str) -> list[float]:
    t = plan.territories
    given = t[f"{measure}_target"].to_numpy(float) if f"{measure}_target" in t.columns else None
    capacity = t["capacity"].to_numpy(float) if "capacity" in t.columns else np.ones(len(t))
    share = capacity / capacity.sum() if capacity.sum() > 0 else np.full(len(t), 1.0 / max(len(t), 1))
    derived = float(plan.assignments[measure].sum()) * share
    out = derived if given is None else np.where(np.isfinite(given), given, derived)
    return [round(float(v), 6) for v in out]


def measure_specs(plan: PlanFolder) -> list[dict[str, Any]]:
    """Potential and workload (their values are in the drawing payload), then every other measure the
    plan balances (its values per account come along here)."""
    balanced = balanced_measures(plan.summary)
    specs: list[dict[str, Any]] = [
        {"key": key, "label": label, "short": short, "col": col} for key, label, short, col in MEASURES
    ]
    for m in extra_measures(plan.territories):
        if m in plan.assignments.columns:
            values = [round(float(v), 6) if math.isfinite(v) else 0 for v in plan.assignments[m]]
            specs.append({"key": m, "label": m, "short": m[:8], "values": values})
    for spec in specs:
        spec.update(
            target=_targets(plan, spec["key"]),
            tol=measure_band_pct(plan.summary, spec["key"]),  # None: not balanced, no band
            balanced=spec["key"] in balanced,
            money=is_money(spec["key"]),  # shown with the plan's currency
        )
    return specs


def edit_data(plan: PlanFolder) -> dict[str, Any]:
    a = plan.assignments
    rep_index = {r: j for j, r in enumerate(plan.territories["rep_id"])}
    locked = [i for i, rep in enumerate(a["locked_rep"]) if rep]
    families: dict[str, list[int]] = {}
    for i, parent in enumerate(a["parent_id"]):
        if parent:
            families.setdefault(parent, []).append(i)
    return {
        "hash": plan_hash(plan),
        "measures": measure_specs(plan),
        "lock": {
            "row": locked,
            "rep": [rep_index.get(a["locked_rep"].iloc[i], -2) for i in locked],
            "id": [a["locked_rep"].iloc[i] for i in locked],
        },
        "fam": [[name, rows] for name, rows in sorted(families.items()) if len(rows) > 1],
        "seg": _segments(plan),
        "segNote": unchecked_segments_note(plan) or "",
        "contig": _contiguity(plan),
        # the disruption budget (--max-moved-share), for the live line: the potential of accounts moved from
        # a current rep of the plan against that share of the total, as `edit` checks it (QA38 F3: the
        # editor showed no broken budget, `edit` then listed it)
        "budget": _budget_share(plan),
        # per level the plan has, its band per measure in percent (None: no band): the level tables of the
        # summary panel follow the edits with it (QA20 F9: they kept their values from before the edits)
        "levelTol": {
            level: {m: group_band_pct(plan.summary, level, m) for m in ("potential", "workload")}
            for level in ("district", "region")
            if rep_groups(plan.territories, level) is not None
        },
    }


def _budget_share(plan: PlanFolder) -> float | None:
    config = plan.summary.get("config")
    share = config.get("max_moved_share") if isinstance(config, dict) else None
    return float(share) if isinstance(share, int | float) and not isinstance(share, bool) else None


def _contiguity(plan: PlanFolder) -> dict[str, Any] | None:
    """With ``--contiguous`` (``--district-contiguous``), what the editor needs to count each territory's
    (district's) pieces as ``edit`` does (QA26 F7: a hand edit that cut a territory in two was flagged
    by ``edit`` and not in the map): the levels checked, the adjacency between account rows (``u``,
    ``v``) and each rep's district (an index into ``districts``, -1 for none). ``note`` says why nothing
    is checked when the folder cannot give the adjacency (its edge list moved away). None when the plan
    asked for no contiguity."""
    config = plan.summary.get("config") or {}
    levels = ["territory"] if config.get("contiguous") else []
    groups = rep_groups(plan.territories, "district")
    if config.get("district_contiguous") and groups is not None:
        levels.append("district")
    if not levels:
        return None
    adj = plan_adjacency(plan, plan.summary)
    if adj is None:
        return {
            "levels": [],
            "note": "Contiguity is not checked here: the plan's adjacency (its --adjacency file, or a "
            "polygon for every account) is not in the plan folder.",
        }
    out: dict[str, Any] = {"levels": levels, "u": adj.u.tolist(), "v": adj.v.tolist(), "note": ""}
    if "district" in levels and groups is not None:
        out["district"], out["districts"] = groups
    return out


def _segments(plan: PlanFolder) -> list[list[str]] | None:
    """Per rep, the segments it serves in lower case ([] = every segment); None when not recorded or when
    no account has a segment (nothing to check)."""
    served = served_segments(plan.territories)
    if served is None or not (plan.assignments["segment"] != "").any():
        return None
    return [sorted(s) for s in served]
