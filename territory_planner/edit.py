"""``territory-planner edit``: apply hand edits (``edits.csv`` from the map) to a plan folder.

Without ``rebalance`` the edited plan is written as it is, status ``manual``: the accounts named in the
edits go to their new rep and nothing else changes. Its objective is recomputed exactly as the planner
defines it (workload x great-circle km to the rep's home, plus the plan's disruption price times the
moved potential), its gap is measured against the original plan's lower bound (a bound on every plan of
the same model, so also on this one), and every band, count and budget it breaks is listed in
summary.json's ``violations`` and in the report: a manual plan may break a band on purpose. What the plan's
summary.json says of the run that made it (the solver's notes, stages and history) is not carried over,
nor is proven optimality once an account changes rep; its notes on the inputs are, with the homes given
away found again by the plan's rule (``model.homes.home_pairs``, units.geojson's polygons included).

With ``rebalance`` (``edit_rebalance``) the edits become locks and the plan is solved again under its own
manifest (the same inputs and options), so the planner rebalances everything the edits did not fix.

Bad edits are reported like any bad input, every one at once, with file, row and column: unknown
accounts or reps, duplicates, empty cells, locked accounts given to another rep, accounts given to a rep
who does not serve their segment (territories.csv's ``segments``; a plan folder written before that
column existed cannot say, and its edits are not checked against segments: the summary's notes say so).
A segment, like a lock, decides which reps an account may go to at all: the model never crosses it, not
even with ``--relax``, and ``--rebalance`` could not keep such an edit as a lock. Bands, families, counts
and budgets are what a manual plan may break on purpose; they are listed as violations instead.
The edits file is read and checked in ``edit_input``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.edit_input import read_edits, workbook_sheet
from territory_planner.edit_violations import group_pieces, violations
from territory_planner.errors import InputError, Problem
from territory_planner.io.labels import first_few, group_label
from territory_planner.io.writers import (
    atomic_write_text,
    json_text,
    staged_output_dir,
    unneutralise,
    write_csv,
)
from territory_planner.level_outputs import edited_levels
from territory_planner.model.geo import haversine_km
from territory_planner.options import MAX_NUMBER
from territory_planner.outputs import _dev_pct
from territory_planner.render.edit_payload import balanced_measures
from territory_planner.render.plan_folder import (
    ADJACENCY,
    PlanFolder,
    read_plan_folder,
    unchecked_segments_note,
    usable_adjacency,
)
from territory_planner.report.formatting import counted

log = logging.getLogger(__name__)

MANUAL = "manual"
COPIED = ("units.geojson", ADJACENCY)  # the map's polygons, the graph pieces are counted on


@dataclass(frozen=True)
class EditedPlan:
    assignments: pd.DataFrame  # the plan folder's assignments.csv columns, edited
    territories: pd.DataFrame
    summary: dict[str, Any]
    edits: dict[str, str]  # account_id -> rep_id (only the accounts whose rep changes)
    level_files: dict[str, pd.DataFrame] = field(default_factory=dict)  # districts.csv, regions.csv
    warnings: list[str] = field(default_factory=list)  # what was not checked (also in summary notes)
    listed: dict[str, str] = field(default_factory=dict)  # every row of the edits file (kept as locks)
    keeps_graph: bool = False  # the plan's adjacency.csv is the graph it wrote: handed on (QA49 F2)


def _raw_assignments(plan_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(plan_dir / "assignments.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame.map(unneutralise)


def _require_measures(plan_dir: Path, raw: pd.DataFrame, territories: pd.DataFrame) -> None:
    """assignments.csv must hold workload and every balanced measure (territories.csv's ``*_target``
    columns): the edited plan's objective and bands are recomputed from them (QA57 F14: a folder without
    workload was read as 1 per account, an objective 69% below the plan's proven bound)."""
    needed = ["workload"] + [c[: -len("_target")] for c in territories.columns if str(c).endswith("_target")]
    missing = [m for m in dict.fromkeys(needed) if m not in raw.columns]
    if missing:
        raise InputError(
            [
                Problem(
                    str(plan_dir / "assignments.csv"),
                    None,
                    m,
                    "required column is missing: edit recomputes the plan's objective (workload x km) and "
                    "its bands from it",
                )
                for m in missing
            ]
        )


def _km(lat: np.ndarray, lon: np.ndarray, hlat: np.ndarray, hlon: np.ndarray) -> np.ndarray:
    """Great-circle km between matching rows (``haversine_km`` is pairwise; this is element by element)."""
    out = np.full(len(lat), np.nan)
    for j in np.unique(np.flatnonzero(np.isfinite(hlat) & np.isfinite(hlon))):
        rows = np.flatnonzero((hlat == hlat[j]) & (hlon == hlon[j]))
        out[rows] = haversine_km(lat[rows], lon[rows], hlat[j : j + 1], hlon[j : j + 1])[:, 0]
    return out


def _territories(
    plan_dir: Path, plan: PlanFolder, rep: np.ndarray, moved: np.ndarray, dist: np.ndarray
) -> pd.DataFrame:
    """territories.csv with every column the edits change recomputed (the others as written)."""
    out = pd.read_csv(plan_dir / "territories.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    out.columns = [str(c).strip().lower() for c in out.columns]
    out = out.map(unneutralise)
    a = plan.assignments
    p = len(out)
    out["accounts"] = np.bincount(rep, minlength=p)
    raw = _raw_assignments(plan_dir)
    for m in [c[: -len("_target")] for c in out.columns if c.endswith("_target")]:
        if m not in raw.columns:
            continue
        values = a[m].to_numpy(float) if m in a.columns else pd.to_numeric(raw[m]).to_numpy(float)
        total = np.bincount(rep, weights=values, minlength=p)
        out[m] = total
        out[f"{m}_dev_pct"] = np.round(_dev_pct(total, pd.to_numeric(out[f"{m}_target"]).to_numpy(float)), 4)
    out["travel_km"] = np.round(
        np.bincount(rep, weights=a["workload"].to_numpy(float) * dist, minlength=p), 3
    )
    index = {r: j for j, r in enumerate(out["rep_id"])}
    cur = np.array([index.get(c, -1) for c in a["current_rep"]], dtype=np.int64)
    out["moved_in"] = np.bincount(rep[moved], minlength=p)
    out["moved_out"] = np.bincount(cur[moved & (cur >= 0)], minlength=p)
    return out


def apply_edits(plan_dir: Path, edits_path: Path) -> EditedPlan:
    """The plan in ``plan_dir`` with the edits applied as they are (status ``manual``)."""
    plan_dir, edits_path = Path(plan_dir), Path(edits_path)
    plan = read_plan_folder(plan_dir)
    sheet = workbook_sheet(edits_path)
    edits = read_edits(edits_path, plan, sheet=sheet)
    a, t = plan.assignments, plan.territories
    index = {r: j for j, r in enumerate(t["rep_id"])}
    row_of = {acc: k for k, acc in enumerate(a["account_id"])}
    old = np.array([index[r] for r in a["rep_id"]], dtype=np.int64)
    rep = old.copy()
    for acc, rep_id in edits.items():
        rep[row_of[acc]] = index[rep_id]
    changed = rep != old
    rep_ids = np.array(t["rep_id"], dtype=object)
    lat, lon = a["lat"].to_numpy(float), a["lon"].to_numpy(float)
    km = _km(lat, lon, t["home_lat"].to_numpy(float)[rep], t["home_lon"].to_numpy(float)[rep])
    current = a["current_rep"].to_numpy(dtype=object)
    moved = (current != "") & (current != rep_ids[rep])

    out = _raw_assignments(plan_dir)
    _require_measures(plan_dir, out, t)
    written_km = a["distance_km"].to_numpy(float)
    # a row without its distance gets it from its rep's home (QA57 F14: every travel_km read 0.0)
    dist = np.where(changed | ~np.isfinite(written_km), np.round(km, 3), written_km)
    out["rep_id"] = rep_ids[rep]
    out["moved"] = np.where(moved, "True", "False")
    out["distance_km"] = [f"{d:.3f}".rstrip("0").rstrip(".") if math.isfinite(d) else "" for d in dist]
    if "reason" in out.columns:
        # an edit back to today's rep is no move, but it is a hand edit all the same (QA17 F4: its row
        # was left without a reason); "kept with" only then: an account with no current rep is given
        # (QA26 F5: "kept with R04 by hand" of an account moved from the plan's R10, no current rep)
        back = current == rep_ids[rep]
        manual = [
            f"manual: {'kept with' if back[k] else 'given to'} {rep_ids[rep[k]]} by hand "
            f"(the plan gave {rep_ids[old[k]]})"
            for k in range(len(out))
        ]
        out["reason"] = np.where(changed, manual, out["reason"])
    territories = _territories(plan_dir, plan, rep, moved, np.nan_to_num(dist))
    summary = _manual_summary(plan_dir, edits_path, plan, rep, km, moved, territories, int(changed.sum()))
    # pieces of the levels (and of the territories with --contiguous), over the plan's map built once
    wanted = [  # the levels the plan has: a plan without them has their columns, blank (QA50 F2)
        level
        for level in ("district", "region")
        if level in territories.columns and territories[level].fillna("").astype(str).str.strip().ne("").any()
    ]
    wanted += ["rep_id"] * bool((summary.get("config") or {}).get("contiguous"))
    pieces = group_pieces(plan, rep, territories, summary, wanted) if wanted else None
    summary["violations"] = violations(plan, rep, territories, summary, pieces)
    bound = _bound_note(summary)
    if bound is not None:
        summary["notes"].append(bound)
    level_files, summary["hierarchy"] = edited_levels(territories, summary.get("hierarchy"), pieces)
    unchecked = unchecked_segments_note(plan)
    told = _split_families(a, rep, rep_ids, edits, sheet == "assignments")  # notes said as warnings too
    config = summary.get("config") or {}
    # pieces the plan had: areas or polygons, an edge list, a graph written, contiguity asked (QA52 F4: a
    # point plan with districts was told on every edit that its adjacency.csv was missing or changed)
    had_pieces = plan.units is not None or any(
        config.get(k) for k in ("adjacency", "contiguous", "district_contiguous")
    )
    if wanted and pieces is None and (had_pieces or bool(summary.get("adjacency_sha256"))):
        # QA49 F2: an area plan without its adjacency.csv checked none, unsaid
        told.append(
            "the pieces of the territories, districts and regions are not counted: the plan folder gives no "
            "graph of its units (its adjacency.csv is missing or changed, and its accounts have no polygons "
            "of their own)"
        )
    if (plan_dir / "forecast.csv").is_file():  # QA18 F13: the edited folder had none, without a word
        told.append(
            "the plan's forecast is not made again for the hand edits: run `territory-planner forecast "
            f"--crm {config.get('crm') or 'CRM'} --horizon {config.get('forecast_horizon') or 'PERIOD'} "
            "--plan <this folder> --out <a folder>` for the new territories' forecast"
        )
    target = config.get("company_target")
    if isinstance(target, int | float) and not 0 < target <= MAX_NUMBER:  # a hand-edited record (QA59)
        told.append(f"the plan's company target {target:g} is no amount in cents: no suggested quotas")
    if config.get("company_target") is not None and config.get("quota_method") == "forecast":
        told.append(
            "the plan's suggested quotas (split by forecast) are not made again for the hand edits: run "
            f"`territory-planner report --plan <this folder> --crm {config.get('crm') or 'CRM'} --period "
            f"{config.get('period') or 'PERIOD'} --forecast-horizon "
            f"{config.get('forecast_horizon') or 'PERIOD'} "
            f"--company-target {config.get('company_target')} --quota-method forecast --out <a folder>` for "
            "the new territories' quotas"
        )
    summary["notes"] += told
    return EditedPlan(
        out,
        territories,
        summary,
        {k: v for k, v in edits.items() if v != a["rep_id"].iloc[row_of[k]]},
        level_files,
        ([unchecked] if unchecked else []) + told,
        dict(edits),
        usable_adjacency(plan, plan.summary) is not None,
    )


def _home_km(summary: dict[str, Any], assignments: pd.DataFrame) -> float:
    """The plan's --keep-home distance, else the distance of the note on home accounts given away (1 km,
    or the accounts' typical spacing when smaller: ``model.homes.note_km``, as ``plan`` takes it)."""
    from territory_planner.model.homes import note_km

    km = _number((summary.get("config") or {}).get("keep_home"))
    if km is not None:
        return km
    return note_km(assignments["lat"].to_numpy(float), assignments["lon"].to_numpy(float))


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


# what summary.json says of the run that made the plan (how it was solved), not of its assignment: an
# edited plan is made by no run, so these are emptied (the plan's own summary.json keeps them)
RUN_RECORD: dict[str, Any] = {
    "solver": None,
    "solve_seconds": 0.0,
    "method": MANUAL,
    "plan_source": MANUAL,
    "stages": [],
    "stages_seconds": {},
    "history": [],
}
# summary.json's "contiguity" entries that hold for the model whatever the assignment (the others, the
# pieces of each territory and how the solver joined them, were about the plan before the edits)
CONTIGUITY_KEPT = ("islands", "bridged_edges", "infeasible")


def _split_families(
    a: pd.DataFrame, rep: np.ndarray, rep_ids: np.ndarray, edits: dict[str, str], sheet: bool = False
) -> list[str]:
    """A note per family an edit split: the map moves a family whole, an edits file moves the rows it
    lists (QA17 F21: the same single-member edit gave two plans), so the file's user is told how."""
    if "parent_id" not in a.columns:
        return []
    parents = a["parent_id"].fillna("").astype(str).to_numpy()
    ids = a["account_id"].astype(str).to_numpy()
    out = []
    for parent in sorted({parents[k] for k, acc in enumerate(ids) if acc in edits and parents[k]}):
        members = np.flatnonzero(parents == parent)
        held = sorted({str(rep_ids[rep[k]]) for k in members})
        if len(held) > 1:
            left = [str(ids[k]) for k in members if ids[k] not in edits]
            shown = first_few(left)
            # a workbook's Assignments sheet lists every account: its unchanged rows are no edits (QA53
            # F4: "not listed... list every member", of members on the sheet with their rep unchanged)
            split = f"{group_label(parent)} is split between {', '.join(held)}"
            out.append(
                f"{split}: the edits file moves only the rows it lists ({shown} not listed); the map moves a "
                "family whole, so list every member to do the same"
                if not sheet
                else f"{split}: the workbook moves only the rows whose rep_id it changes ({shown} left with "
                "the plan's rep); the map moves a family whole, so give every member the same rep to do the "
                "same"
            )
    return out


def _plan_notes(summary: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A plan's notes in two kinds: on its inputs and what came of them (summary.json's
    ``input_warnings``: accepted inputs, repaired polygons, far chosen centres, homes given away), and
    on how it was solved (the rest: solver stages, bounds, proofs, what was tried), which hold for that
    plan only."""
    inputs = [str(n) for n in summary.get("input_warnings") or []]
    on_inputs = set(inputs)
    return inputs, [str(n) for n in summary.get("notes") or [] if str(n) not in on_inputs]


def _about_the_assignment(note: str) -> bool:
    """An input note that describes the plan's assignment and that the edits may make untrue: the
    districts in several pieces (``edit`` has no adjacency to count them again)."""
    return " district(s) in several pieces: " in note


def _polygon_homes(plan: PlanFolder) -> np.ndarray | None:
    """Per rep, the unit (``family_units``) whose polygon in units.geojson holds its home, -1 none (on a
    border, the lowest unit, as ``plan`` picks: ``geo.planning.units_at_points``); None when the plan
    has no polygons. Only homes the user gave are looked up. units.geojson's polygons are the plan's
    simplified for display (by about 1e-4 of the map's extent), so a home that close to a border may
    fall on its other side."""
    if not plan.units:
        return None
    import shapely

    from territory_planner.geo.planning import units_at_points
    from territory_planner.model.homes import family_units, given_homes

    t, a = plan.territories, plan.assignments
    out = np.full(len(t), -1, dtype=np.int64)
    reps = given_homes(t)
    unit = family_units(a["parent_id"].fillna("").astype(str).to_numpy())
    row_of = {acc: k for k, acc in enumerate(a["account_id"])}
    unit_of = np.array([unit[row_of[acc]] for acc in plan.units], dtype=np.int64)
    polys = list(shapely.from_geojson([json.dumps(g) for g in plan.units.values()]))
    lat, lon = t["home_lat"].to_numpy(float), t["home_lon"].to_numpy(float)
    out[reps] = units_at_points(polys, unit_of, lat[reps], lon[reps])
    return out


def _manual_summary(
    plan_dir: Path,
    edits_path: Path,
    plan: PlanFolder,
    rep: np.ndarray,
    km: np.ndarray,
    moved: np.ndarray,
    territories: pd.DataFrame,
    n_changed: int,
) -> dict[str, Any]:
    """summary.json of the edited plan: the plan's, with what the edits change recomputed and what no
    longer holds dropped. The objective is evaluated again; the plan's lower bound stays (a bound on
    every plan of the same model); the record of the run that made the plan (the solver's notes, stages
    and history) is left in the plan's summary.json, and its proven optimality holds only when the edits
    change no account's rep."""
    from territory_planner.manifest import file_sha256
    from territory_planner.model.homes import edited_notes

    s = dict(plan.summary)
    a = plan.assignments
    pot = a["potential"].to_numpy(float)
    compactness = float(np.nansum(a["workload"].to_numpy(float) * km))
    index = {r: j for j, r in enumerate(territories["rep_id"])}
    cur = np.array([index.get(c, -1) for c in a["current_rep"]], dtype=np.int64)
    price = _number(s.get("disruption_price")) or 0.0
    budgeted = float(pot[(cur >= 0) & (cur != rep)].sum())  # what --max-moved-share limits
    objective = compactness + price * budgeted
    lower = _number(s.get("lower_bound"))
    gap = (objective - lower) / objective if lower is not None and objective > 0 else None
    on_inputs, on_the_solve = _plan_notes(s)
    inputs = edited_notes(
        [n for n in on_inputs if not _about_the_assignment(n)],
        a,
        territories,
        rep,
        _home_km(s, a),
        _polygon_homes(plan),
    )
    notes = [
        f"hand-edited: {n_changed} account(s) given to another rep by hand ({edits_path.name}) from the "
        f"plan in {plan_dir}"
    ]
    unchecked = unchecked_segments_note(plan)
    if unchecked:
        notes.append(unchecked)
    unchanged = n_changed == 0
    if unchanged:
        gap_was = _number(s.get("gap"))
        was = f"{s.get('status')}" + ("" if gap_was is None else f", gap {100 * gap_was:.2f}%")
        where = plan_dir / "summary.json"
        made = (
            f"; its {counted(len(on_the_solve), 'note')} on how it was made are in {where}"
            if on_the_solve
            else ""
        )
        notes.append(f"the edits change no account's rep: this is the plan as solved ({was}){made}")
    elif on_the_solve:  # the plan's status and gap are in edited_from (QA45 F6: "the plan's 0 note(s)")
        notes.append(
            f"the plan's {counted(len(on_the_solve), 'note')} on how it was made (solver stages, bounds, "
            f"proofs) hold for that plan, not this one: see {plan_dir / 'summary.json'}"
        )
    measures = sorted(
        balanced_measures(s) & {c[: -len("_dev_pct")] for c in territories.columns if c.endswith("_dev_pct")}
    )
    total = float(pot.sum())
    if isinstance(s.get("contiguity"), dict):
        s["contiguity"] = {k: v for k, v in s["contiguity"].items() if k in CONTIGUITY_KEPT}
    s.update(RUN_RECORD)
    s.update(
        {
            "status": MANUAL,
            "proven_optimal": bool(unchanged and s.get("proven_optimal") is True),
            "objective": objective,
            "compactness": compactness,
            "lower_bound": lower,
            "gap": gap,
            "max_abs_dev_pct": {
                m: float(np.nanmax(np.abs(territories[f"{m}_dev_pct"].to_numpy(float)))) for m in measures
            },
            "moved_accounts": int(moved.sum()),
            "current_accounts": int((a["current_rep"].astype(str) != "").sum()),
            "moved_potential_share": float(pot[moved].sum() / total) if total else 0.0,
            "budgeted_moved_share": budgeted / total if total else 0.0,
            "notes": [*inputs, *notes],
            # what report.html shows (QA12 N1: it still said Belo Horizonte "goes to R10" after the edit)
            "input_warnings": inputs,
            "edits": {
                "file": str(edits_path.resolve()),
                "sha256": file_sha256(edits_path),
                "accounts": n_changed,
            },
            "edited_from": {
                "plan": str(plan_dir.resolve()),
                "status": plan.summary.get("status"),
                "objective": plan.summary.get("objective"),
                "gap": plan.summary.get("gap"),
            },
        }
    )
    return s


def _bound_note(summary: dict[str, Any]) -> str | None:
    """What the plan's lower bound says of the edited plan: a bound on every plan of the same model, so
    on this one when the edits break none of the model's constraints; the objective above it by the
    gap, never called optimal for it."""
    lower, objective, gap = summary.get("lower_bound"), summary["objective"], summary.get("gap")
    if lower is None or gap is None:
        return None
    was = summary["edited_from"].get("objective")
    text = (
        f"objective {objective:,.1f} evaluated again for the edited plan"
        + (f" (the plan's: {was:,.1f})" if isinstance(was, int | float) else "")
        + f"; the plan's lower bound {lower:,.1f} bounds every plan of the same model"
    )
    broken = len(summary.get("violations") or [])
    config = summary.get("config") or {}
    if broken:
        text += (
            f", and the edits break {broken} of its constraint(s) (violations), so it need not bound this one"
        )
    elif config.get("contiguous") or config.get("district_contiguous"):
        text += ", if the edited territories are still connected (not checked: no adjacency in the plan)"
    else:
        text += ", this one too"
    if gap < 0:
        return (
            text
            + f": the objective is {below_bound_pct(objective, lower):.2f}% below it (gap {100 * gap:.2f}%)"
        )
    return text + f": the objective is {100 * gap:.2f}% above it"


def below_bound_pct(objective: float, lower: float) -> float:
    """How far below the bound an objective lies, in % of the bound (QA17 F10: the gap, which is relative
    to the objective, read "108.80% below" for an objective at 48% of the bound)."""
    return 100.0 * (lower - objective) / abs(lower) if lower else 0.0


def write_edited(
    edited: EditedPlan, plan_dir: Path, out: Path, *, force: bool = False, command_line: str | None = None
) -> Path:
    """Write the edited plan as a plan folder, atomically (the map and report included), with a
    manifest when the plan has one (``_edited_manifest``)."""
    from territory_planner.render.map import write_map
    from territory_planner.report.api import write_report

    config = edited.summary.get("config") or {}
    was = edited.summary.get("plan")  # the edited plan's own (its summary is copied from it)
    edited.summary["plan"] = {
        "name": Path(out).resolve().name,
        "scenario": was.get("scenario") if isinstance(was, dict) else None,
        "edited_from": Path(plan_dir).resolve().name,
    }
    with staged_output_dir(Path(out), force=force, kind="plan", inputs=(plan_dir,)) as stage:
        write_csv(edited.assignments, stage / "assignments.csv")
        write_csv(edited.territories, stage / "territories.csv")
        atomic_write_text(stage / "summary.json", json_text(edited.summary))
        edits = pd.DataFrame({"account_id": list(edited.edits), "rep_id": list(edited.edits.values())})
        write_csv(edits, stage / "edits.csv")
        _edited_manifest(edited, Path(plan_dir), stage, Path(out), command_line)
        for name, frame in edited.level_files.items():
            write_csv(frame, stage / name)
        for name in COPIED:
            if name == ADJACENCY and not edited.keeps_graph:
                continue  # a changed graph is not handed on (QA49 F2)
            if (Path(plan_dir) / name).is_file():
                atomic_write_text(stage / name, (Path(plan_dir) / name).read_text(encoding="utf-8"))
        write_map(stage, stage / "map.html", offline=bool(config.get("offline")))
        if config.get("xlsx"):  # the plan was made with --xlsx: its edited version gets a workbook too
            from territory_planner.export.api import write_plan_workbook

            write_plan_workbook(stage, Path(out))
        crm = config.get("crm")
        target = config.get("company_target")
        by_potential = config.get("quota_method", "potential") != "forecast"  # no forecast is remade
        write_report(
            stage,
            plan_dir=stage,
            crm_dir=Path(crm) if crm and config.get("period") and Path(crm).is_dir() else None,
            period=config.get("period") if crm and Path(crm).is_dir() else None,
            # the edited territories' suggested quotas, as the plan split its target (QA58 F5: none)
            company_target=float(target)
            if isinstance(target, int | float) and 0 < target <= MAX_NUMBER and by_potential
            else None,
            quota_history_weight=config.get("quota_history_weight"),
        )
    return Path(out)


def _edited_manifest(
    edited: EditedPlan, plan_dir: Path, stage: Path, out: Path, command_line: str | None
) -> None:
    """The edited folder's manifest.json (QA17 F3: it had none, so a hand-edited plan could never be
    rebalanced, and an edit in place dropped the plan's): the plan's own, with the locks the plan was
    solved with (assignments.csv's ``locked_rep``) and the hand edits laid over them kept as locks.csv.
    So ``edit --rebalance`` on the edited folder keeps this round's edits, and ``plan --from-manifest``
    re-solves the model around them. Its result is the edited plan's (status manual)."""
    import datetime as dt

    from territory_planner.manifest import MANIFEST_NAME, file_sha256, rows_sha256

    source = plan_dir / MANIFEST_NAME
    try:
        manifest = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return  # no manifest (or none readable): the edited folder has none either, as before
    if not isinstance(manifest, dict) or not isinstance(manifest.get("options"), dict):
        return
    a = edited.assignments
    held = a["locked_rep"].fillna("").astype(str) if "locked_rep" in a else pd.Series("", index=a.index)
    locks = dict(zip(a["account_id"][held != ""].astype(str), held[held != ""], strict=True))
    previous = manifest["options"].get("locks")  # an earlier round's hand edits (QA18 F1: they were lost)
    if previous and Path(str(previous)).is_file():
        from territory_planner.io.locks import read_locks

        problems: list[Problem] = []
        earlier = read_locks(Path(str(previous)), problems)
        if not problems:
            locks.update(earlier)
    locks.update(edited.listed or edited.edits)  # every row the file lists, a confirmation too (QA18 F2)
    write_csv(pd.DataFrame({"account_id": list(locks), "rep_id": list(locks.values())}), stage / "locks.csv")
    kept = str(out.resolve() / "locks.csv")
    manifest["options"]["locks"] = kept
    manifest.setdefault("inputs", {})["locks"] = {"path": kept, "sha256": file_sha256(stage / "locks.csv")}
    manifest["command_line"] = command_line
    manifest["started_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")  # the edited plan's date
    manifest["edited_from"] = {"plan": str(plan_dir.resolve()), "manifest_sha256": file_sha256(source)}
    summary = edited.summary
    manifest["result"] = {
        "status": summary.get("status"),
        "objective": summary.get("objective"),
        "assignments_sha256": file_sha256(stage / "assignments.csv"),
        "assignments_rows_sha256": rows_sha256(stage / "assignments.csv"),
    }
    atomic_write_text(stage / MANIFEST_NAME, json_text(manifest))
