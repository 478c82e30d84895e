"""A plan's outputs: the tables and summary.json built from the plan (``PlanOutput``, with each
level's shape and every note on the inputs), the graph its pieces were counted on (adjacency.csv), and
the plan folder's files written (``write_plan``).

Split from ``api`` (the style guide's ~400-line limit); ``api`` re-exports ``PlanOutput``,
``write_plan`` and ``account_edges``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.geo.repair import repair_notes
from territory_planner.io.writers import atomic_write_text, csv_text, json_text, write_csv
from territory_planner.model.plan import Plan, SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.options import PATH_OPTIONS, PlanOptions
from territory_planner.outputs import assignments_frame, summary_dict, territories_frame
from territory_planner.plan_map import _adjacency, _level_shape
from territory_planner.plan_run import FORECAST_LEFT_OUT, WORKBOOK_LEFT_OUT, _Design, _Run
from territory_planner.render.plan_folder import ADJACENCY

log = logging.getLogger(__name__)


@dataclass
class PlanOutput:
    plan: Plan
    problem: TerritoryProblem
    assignments: pd.DataFrame
    territories: pd.DataFrame
    summary: dict[str, Any]
    out: Path | None
    units_geojson: str | None = None  # unit polygons (areas or polygon accounts) for the map
    adjacency_csv: str | None = None  # the edges the plan counted pieces over (``account_edges``)


def _plan_output(
    run: _Run,
    unit_rep: np.ndarray,
    result: SolveResult,
    contiguity_info: dict[str, Any] | None,
    district_info: dict[str, Any] | None,
    design: _Design,
    district_notes: list[str],
) -> PlanOutput:
    """The plan's tables, summary.json (with the levels' shape and every note on the inputs), the map's
    polygons and the graph its pieces were counted on."""
    options, problem, inputs = run.options, run.problem, run.inputs
    plan = Plan(
        unit_rep=unit_rep,
        account_rep=unit_rep[problem.acc_unit],
        home_lat=run.lat,
        home_lon=run.lon,
        home_chosen=run.free,
        result=result,
    )
    assignments = assignments_frame(problem, plan, inputs.accounts)
    territories = territories_frame(problem, plan, assignments)
    if "crm_user_id" in inputs.reps.columns:  # the owners' CRM user ids, for `export --format salesforce`
        owner = dict(
            zip(inputs.reps["rep_id"], inputs.reps["crm_user_id"].fillna("").astype(str), strict=True)
        )
        territories["crm_user_id"] = territories["rep_id"].map(owner).fillna("").str.strip()
    summary = summary_dict(
        problem,
        run.spec,
        plan,
        assignments,
        territories,
        options,
        {"accounts": inputs.accounts_path, "reps": inputs.reps_path},
    )
    if contiguity_info is not None:
        summary["contiguity"] = contiguity_info
    design_notes = _levels_summary(run, summary, territories, unit_rep, district_info, design)
    # accepted inputs worth a look (families spanning the country), chosen centres far from their
    # district's homes, and repaired polygons (never a silent change: the rows, and why each was invalid)
    from territory_planner.model.homes import lost_homes, note_km

    km = note_km(problem.acc_lat, problem.acc_lon) if options.keep_home is None else options.keep_home
    kept = options.keep_home is not None
    home_notes = lost_homes(problem, unit_rep, run.lat, run.lon, ~run.free, km=km, kept=kept)
    for note in home_notes:  # QA10 O7: Guarulhos, R01's home, went to a rep 543 km away unremarked
        log.warning(note)
    extra_notes = [*inputs.warnings, *run.centre_notes, *district_notes, *design_notes, *home_notes]
    extra_notes += repair_notes(run.repaired)
    if extra_notes:
        summary["notes"] = [*summary.get("notes", []), *extra_notes]
        # the same, apart from the solver's own notes: report.html shows these to its readers
        summary["input_warnings"] = extra_notes
    for left_out in (FORECAST_LEFT_OUT, WORKBOOK_LEFT_OUT):
        if left_out in result.notes:  # said on the console and in report.html too (QA39 F2)
            log.warning(left_out)
            summary["input_warnings"] = [*summary.get("input_warnings", []), left_out]
    if run.repaired:
        summary["repaired_geometries"] = [p.as_dict() for p in run.repaired]
    geojson = None if run.units is None else run.units.geojson
    edges = None if run.adj is None else account_edges(problem, run.adj)
    if edges is not None:  # edit and the map use adjacency.csv only as written (QA49 F3: a cut file)
        import hashlib

        summary["adjacency_sha256"] = hashlib.sha256(edges.encode("utf-8")).hexdigest()
    return PlanOutput(plan, problem, assignments, territories, summary, None, geojson, edges)


def _levels_summary(
    run: _Run,
    summary: dict[str, Any],
    territories: pd.DataFrame,
    unit_rep: np.ndarray,
    district_info: dict[str, Any] | None,
    design: _Design,
) -> list[str]:
    """summary.json's ``hierarchy``: each level's sums, with the district stage's and the design's info,
    and the shape (pieces) of districts and regions when an adjacency can be had (built here when the run
    had none). Returns the notes on districts left in pieces."""
    from territory_planner import level_outputs

    options, problem = run.options, run.problem
    hierarchy_info = level_outputs.summary_block(territories, options, {})
    if hierarchy_info is None:
        return []
    notes: list[str] = []
    if district_info is not None and "district" in hierarchy_info:
        hierarchy_info["district"].update(district_info)
    if design.info is not None and "district" in hierarchy_info:
        hierarchy_info["district"]["design"] = design.info
    shaped_district = district_info is None and "district" in hierarchy_info
    shaped_region = "region" in hierarchy_info and problem.rep_regions is not None
    if run.known and run.adj is None and (shaped_district or shaped_region):
        run.adj = _adjacency(options, problem, run.inputs, run.joined)
    if shaped_district and run.known:
        hierarchy_info["district"].update(_level_shape(problem.districts, run.adj, unit_rep))
        if not hierarchy_info["district"]["contiguous"]:
            split = sum(v > 1 for v in hierarchy_info["district"]["pieces"].values())
            notes.append(
                f"{split} district(s) in several pieces: --design-districts found no plan of connected "
                "districts (what was tried: the notes in summary.json)"
                if options.design_districts
                else f"{split} district(s) in several pieces: they were not asked to be connected (add "
                "--district-contiguous)"
            )
    if shaped_region and run.known:  # QA6: regions.csv's contiguous column was blank
        hierarchy_info["region"].update(_level_shape(problem.rep_regions, run.adj, unit_rep))
    summary["hierarchy"] = hierarchy_info
    return notes


# an area plan's adjacency.csv beyond this many edges is not written (edit counts on polygons then)
MAX_ACCOUNT_EDGES = 1_000_000


def account_edges(problem: TerritoryProblem, adj: Any) -> str | None:
    """adjacency.csv: the graph the plan counted pieces on, as edges between account ids, so that ``edit``
    and the map's editor count on it (QA45 F1: they rebuilt it from units.geojson, whose polygons are
    simplified for display; on 3,142 counties 874 of 9,154 shared borders were lost, and an edit that
    moved nothing split four districts). The accounts' own graph when the units' was made from one
    (polygons, an edge list); for areas, every account of a unit is a neighbour of every other and of
    every account of the units next to it (QA48 F1: the members hung off the unit's first account, so an
    edit moving that one split the rest), None when that is more than ``MAX_ACCOUNT_EDGES`` edges."""
    ids = problem.account_ids
    members: list[list[int]] = [[] for _ in range(problem.n_units)]
    for acc, unit in enumerate(problem.acc_unit.tolist()):
        members[unit].append(acc)
    own = getattr(adj, "accounts", None)
    if own is None:  # areas: every pair within and between neighbouring units, within the cap
        size = np.array([len(m) for m in members], dtype=np.int64)
        if int((size * (size - 1) // 2).sum() + (size[adj.u] * size[adj.v]).sum()) > MAX_ACCOUNT_EDGES:
            return None
    # a unit's accounts are one place: an area's, or a family's wherever its polygons lie (QA49 F1: members
    # that do not touch made a plan of connected territories 2 pieces in edit and the editor)
    pairs = [(a, b) for m in members for i, a in enumerate(m) for b in m[i + 1 :]]
    if own is not None:  # with the islands the units' graph was bridged by, between their first accounts
        pairs += list(zip(own.u.tolist(), own.v.tolist(), strict=True))
        pairs += [(members[u][0], members[v][0]) for u, v in adj.bridged]
    else:
        pairs += [
            (a, b)
            for u, v in zip(adj.u.tolist(), adj.v.tolist(), strict=True)
            for a in members[u]
            for b in members[v]
        ]
    rows = [(str(ids[a]), str(ids[b])) for a, b in pairs]
    return csv_text(pd.DataFrame(rows, columns=["u", "v"]))


def write_plan(
    output: PlanOutput, folder: Path, options: PlanOptions, extra: dict[str, Any] | None = None
) -> None:
    """Write every plan file into ``folder`` (a staging folder: the caller renames it into place)."""
    write_csv(output.assignments, folder / "assignments.csv")
    write_csv(output.territories, folder / "territories.csv")
    from territory_planner import level_outputs

    for level, name in (("district", "districts.csv"), ("region", "regions.csv")):
        if level_outputs.has_level(output.territories, level):
            pieces = output.summary.get("hierarchy", {}).get(level, {}).get("pieces")
            contiguous = None if pieces is None else {k: v <= 1 for k, v in pieces.items()}
            write_csv(level_outputs.level_frame(output.territories, level, contiguous), folder / name)
    summary = dict(output.summary)
    if extra:
        summary.update(extra)
    atomic_write_text(folder / "summary.json", json_text(summary))
    if output.units_geojson is not None:
        atomic_write_text(folder / "units.geojson", output.units_geojson)
    if output.adjacency_csv is not None:
        atomic_write_text(folder / ADJACENCY, output.adjacency_csv)
    from territory_planner.render.map import write_map

    write_map(folder, folder / "map.html", offline=options.offline)
    from territory_planner.report.api import write_report

    write_report(
        folder,
        plan_dir=folder,
        crm_dir=options.crm,
        period=options.period,
        company_target=options.company_target,
        forecast_horizon=None if FORECAST_LEFT_OUT in summary.get("notes", []) else options.forecast_horizon,
        quota_method=options.quota_method,
        quota_history_weight=options.quota_history_weight,
        currency=options.currency,
    )


def _input_paths(options: PlanOptions) -> list[Path | None]:
    """The files a plan run reads (``PATH_OPTIONS``)."""
    return [getattr(options, name) for name in sorted(PATH_OPTIONS)]
