"""The contiguity stages after the first plan (territories, then districts) and what they leave: the
plan within every band searched again under --relax, the status and violations recomputed, the design's
bound for any grouping, and the result's history closed with the command's time.

Split from ``api`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from territory_planner.errors import InfeasibleError, SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import pipeline
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.spec import ModelSpec
from territory_planner.plan_endings import DESIGNED_ONLY, _connected_or_relaxed
from territory_planner.plan_run import _Design, _Run


def _connected_plan(
    run: _Run, unit_rep: np.ndarray, result: SolveResult, design: _Design
) -> tuple[np.ndarray, SolveResult, dict[str, Any] | None, dict[str, Any] | None]:
    """The contiguity stages (territories, then districts), the bounds and status they leave (a plan
    still in pieces is no plan, or ``relaxed`` with --relax) and the run's total time: the plan, its
    result and the two stages' info for summary.json."""
    options, problem, adj = run.options, run.problem, run.adj
    contiguity_info = district_info = None
    relaxed = result.status == "relaxed"
    if (options.contiguous or options.district_contiguous) and not options.design_districts:
        result = _before_contiguity(result)
    if options.contiguous and not run.nested:  # the two-level search makes territories connected too
        from territory_planner.geo import contiguity_stage

        assert adj is not None
        unit_rep, result, contiguity_info = contiguity_stage.make_contiguous(
            run.spec,
            adj,
            unit_rep,
            result,
            run.backend,
            lat=run.lat,
            lon=run.lon,
            time_limit=max(run.budget.remaining(), 1.0),
            gap=run.gap,
            seed=options.seed,
            threads=run.threads,
            progress=run.progress,
            chosen=run.free,
            # the connected plan out of some bands is weighed against the split one for territories alone:
            # the district stage after it works from one plan (QA26 F4)
            relax=options.relax and not options.district_contiguous,
        )
    if options.district_contiguous:
        before = unit_rep
        unit_rep, result, contiguity_info, district_info = _districts_stage(
            run, unit_rep, result, design, contiguity_info
        )
        if relaxed and not options.contiguous and design.info is None and not run.nested:
            unit_rep, result = _travel_after_districts(run, before, unit_rep, result, district_info)
    if design.info is not None:
        result = _designed_connected(result, design.info, district_info)
    if design.designed_from is not None:
        kept = bool((run.spec.allowed != design.designed_from.allowed).any())  # units kept in districts
        result = _bound_for_any_grouping(result, design.bound, kept)
    if design.info is not None and (design.info["connected"] or not design.info["band_implied"]):
        for info in (contiguity_info, district_info):  # the model holds the grouping's rows
            if info is not None and info.get("infeasible"):
                info["infeasible"] = DESIGNED_ONLY
    if relaxed and contiguity_info is not None and district_info is None and not run.nested:
        assert adj is not None
        unit_rep, result, contiguity_info = _within_bands(
            run.spec, adj, unit_rep, result, contiguity_info, run.backend, run.budget, run.solve_kw,
            run.lat, run.lon, run.progress,
        )  # fmt: skip
    if relaxed and (contiguity_info is not None or district_info is not None):
        result = _still_relaxed(run.spec, unit_rep, result)
    if run.map_proof is not None and result.status == "relaxed" and not result.proven_infeasible:
        note = f"relaxed: no plan meeting every constraint exists, proven before the solve: {run.map_proof}"
        result = dataclasses.replace(result, proven_infeasible=True, notes=(*result.notes, note))
    # the stages before the solve first, so that an exit 3 names them among the stages that used the time
    # (QA112 O3: "of 4s: improve 1.4s, contiguity 1.0s, lp 0.0s", reading the inputs, 1.2-2.1 s, left out)
    result = _with_stages_before(result, run.before)
    elapsed = time.perf_counter() - run.start
    result = _connected_or_relaxed(
        result, contiguity_info, district_info, options, problem.n_reps, elapsed=elapsed
    )
    if design.info is not None:
        from territory_planner.design_flow import with_rule_violations

        result = with_rule_violations(result, design.info)
    return unit_rep, _with_total_time(result, time.perf_counter() - run.start), contiguity_info, district_info


def _with_stages_before(result: SolveResult, before: list[dict[str, Any]]) -> SolveResult:
    """The result with the stages before the solve first (``_Run.before``: inputs, centres, model), so
    the stages tell the whole of ``solve_seconds`` but what the stages' joins and the outputs took."""
    if not before:
        return result
    stages = {**{str(e["stage"]): float(e["seconds"]) for e in before}, **result.stages}
    return dataclasses.replace(result, stages=stages, stage_log=(*before, *result.stage_log))


def _districts_stage(
    run: _Run,
    unit_rep: np.ndarray,
    result: SolveResult,
    design: _Design,
    contiguity_info: dict[str, Any] | None,
) -> tuple[np.ndarray, SolveResult, dict[str, Any] | None, dict[str, Any]]:
    """``--district-contiguous``: each district one piece (and, on a nested map, its territories too),
    with the territories' pieces counted again on the plan it returns."""
    from territory_planner.geo import contiguity_stage, planning
    from territory_planner.geo.districts import make_districts_contiguous

    adj = run.adj
    assert adj is not None
    if design.designed_from is not None:
        # the chosen grouping's model with every unit free to change district: the design kept each
        # unit in its district so that the districts stayed connected, which this stage does itself;
        # its bound then holds for the grouping, not for that restriction (the design's NC counties:
        # "a lower bound of 7,455.0 for connected plans of the chosen grouping", where the grouping
        # given as districts has a connected plan of 7,447.1)
        run.spec = dataclasses.replace(run.spec, allowed=design.designed_from.allowed)
    centre, own = planning.home_units_owned(run.spec, run.lat, run.lon, run.free)
    unit_rep, result, district_info = make_districts_contiguous(
        run.spec,
        adj,
        None if run.nested and (unit_rep < 0).any() else unit_rep,
        result,
        run.backend,
        centre=centre,
        proof_holds=own and not run.free.any(),
        time_limit=max(run.budget.remaining(), 1.0),
        gap=run.gap,
        seed=run.options.seed,
        threads=run.threads,
        territories_too=run.options.contiguous,
        progress=run.progress,
    )
    district_info.pop("two_levels", None)  # in the result's notes already
    if district_info.get("infeasible") == "proven for the centres chosen":  # why not the homes (QA100 F2)
        moved = planning.centres_moved(run.spec, centre, run.free)
        district_info["centres"] = [list(entry) for entry in moved]
    if "territories" in district_info:
        contiguity_info = district_info.pop("territories")
    elif contiguity_info is not None:
        # the district stage may change the plan the contiguity stage counted: its territories'
        # pieces are counted again on the plan returned (the brute-force property test: R0 held
        # two units with no edge between them after the district stage, reported as one piece
        # each and written as a feasible connected plan)
        from territory_planner.geo import contiguity as contiguity_count

        pieces = contiguity_count.count_pieces(adj, unit_rep, run.problem.n_reps)
        contiguity_info = contiguity_stage.with_pieces(contiguity_info, run.problem, pieces)
    return unit_rep, result, contiguity_info, district_info


def _travel_after_districts(
    run: _Run, before: np.ndarray, unit_rep: np.ndarray, result: SolveResult, info: dict[str, Any]
) -> tuple[np.ndarray, SolveResult]:
    """``--district-contiguous --relax``: when the district stage proved that no plan of connected
    districts meets the bands and kept the relaxed plan as it was, the time it left goes to that plan's
    travel, at no more violation of any band (the model with each band widened to the plan's totals,
    started from it). The relaxed plan's own travel pass ends with its share of the time so that the
    district stage has the rest (QA112 F1: on Missouri+Kansas the stage's proof took 0.65 s and the run
    ended at 26 s of 40 with 4-10% more travel than when that pass had the whole time). ``info``'s
    pieces are counted again on the plan returned."""
    left = run.budget.remaining()
    if (
        info.get("infeasible") != "proven"
        or not np.array_equal(before, unit_rep)
        or left < pipeline.RELAX_TRAVEL_SECONDS
    ):
        return unit_rep, result
    given = run.spec.as_given()
    wide = pipeline._widened(given, unit_rep)
    if wide is None and given.budget is not None:  # the disruption budget broken: widened to the plan's
        moved = float(given.moved[np.arange(len(unit_rep)), unit_rep].sum())  # (QA114 F1: 8 s unused)
        wide = pipeline._widened(dataclasses.replace(given, budget=max(given.budget, moved)), unit_rep)
    if wide is None:  # an account-count or a rep's budget row broken: those are not widened per rep
        entry = {
            "stage": "relaxed_travel_after",
            "seconds": 0.0,
            "outcome": "skipped: the plan breaks an account-count or a rep's budget row",
        }
        return unit_rep, dataclasses.replace(result, stage_log=(*result.stage_log, entry))
    run.progress(f"relaxed plan: less travel at no more violation in the {left:.0f}s the district stage left")
    began = time.perf_counter()
    try:
        found, res = pipeline.solve(
            wide, run.backend, budget=run.budget, start_plan=unit_rep, **{**run.solve_kw, "relax": False}
        )
    except (InfeasibleError, SolverError):  # cannot happen (the plan fits): the plan stands
        return unit_rep, result
    seconds = time.perf_counter() - began
    gain = np.isfinite(result.objective) and res.objective < result.objective - 1e-9 * max(
        abs(result.objective), 1.0
    )
    outcome = f"travel {result.objective:,.1f} -> {res.objective:,.1f}" if gain else "no plan of less travel"
    entry = {"stage": "relaxed_travel_after", "seconds": round(seconds, 3), "outcome": outcome}
    result = dataclasses.replace(
        result,
        stages={**result.stages, "relaxed_travel_after": seconds},
        stage_log=(*result.stage_log, entry),
    )
    if not gain:
        return unit_rep, result
    from territory_planner.geo import planning
    from territory_planner.geo.districts import _pieces_with_homes

    centre, _ = planning.home_units_owned(run.spec, run.lat, run.lon, run.free)
    p = run.problem
    info["pieces"], away = _pieces_with_homes(run.adj, found, centre, p.districts, p.rep_ids)
    if away:
        info["homes_elsewhere"] = away
    else:
        info.pop("homes_elsewhere", None)
    info["contiguous"] = False  # proven: no plan of connected districts meets the bands
    note = (
        f"relaxed: after the district stage's proof, {seconds:.1f}s of the time it left lowered the travel "
        f"from {result.objective:,.1f} to {res.objective:,.1f} at no more violation of any band"
    )
    return found, dataclasses.replace(
        result, objective=res.objective, compactness=res.compactness, notes=(*result.notes, note)
    )


def _within_bands(
    spec: ModelSpec,
    adj: Any,
    unit_rep: np.ndarray,
    result: SolveResult,
    info: dict[str, Any],
    backend: Any,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
    lat: np.ndarray,
    lon: np.ndarray,
    progress: Any,
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    """``--contiguous --relax`` when the base plan came out relaxed (its share of the time ended before a
    plan within the bands) and the contiguity stages ended with split territories: the time left goes to
    a plan within every band, which is then written with its split territories marked. A plan that meets
    the bands and splits territories breaks less than one that splits them and breaks bands too, and it is
    the plan an exit 3 offers under --relax (QA19 F12: 100 NC counties x 12 reps at 20 s, the run ended at
    6.2 s with 5 bands broken and 11 territories split, where a plan within the bands exists). Searched
    after the contiguity stages, so that their proof keeps its time (a search for it before them took
    that time and the run lost the proof). The plan is kept as it was when the search finds none, or
    when the base model is proven infeasible (then the relaxed plan is the least violation)."""
    left = budget.remaining()
    broken = pipeline._violations(spec, unit_rep)
    if info.get("contiguous", True) or left < 1.0 or not broken:
        return unit_rep, result, info
    progress(f"relaxed plan breaks bands: searching for a plan within every band in the {left:.0f}s left")
    began = time.perf_counter()
    try:
        unit_rep2, base = pipeline.solve(spec, backend, budget=budget, **{**solve_kw, "relax": False})
    except InfeasibleError as err:  # a proof, not a time-out (QA26: it read as one)
        note = f"relaxed: no plan within every band exists ({err})"
        return unit_rep, dataclasses.replace(result, notes=(*result.notes, note)), info
    except SolverError as err:
        note = f"relaxed: no plan within every band found in the {left:.0f}s left after contiguity ({err})"
        return unit_rep, dataclasses.replace(result, notes=(*result.notes, note)), info
    from territory_planner.geo import contiguity_stage, planning

    p = spec.problem
    centre, _ = planning.home_units_owned(spec, lat, lon)
    pieces = contiguity_stage.home_pieces(adj, unit_rep2, centre, p.n_reps)
    n_before = sum(int(v) > 1 for v in info.get("pieces", {}).values())
    info = contiguity_stage.with_pieces(info, p, pieces)
    info["method"] = "bands kept"
    note = (
        f"relaxed: the plan meets every band and splits {int((pieces > 1).sum())} territories, found after "
        f"the contiguity stages in {time.perf_counter() - began:.1f}s; the plan they left split {n_before} "
        f"and broke {len(broken)} rows"
    )
    history = _before_contiguity(base).history
    return (
        unit_rep2,
        dataclasses.replace(
            result,
            objective=base.objective,
            compactness=base.compactness,
            method=f"{base.method} (bands kept)",
            notes=(*result.notes, note),
            violations=(),
            stage_log=(*result.stage_log, *base.stage_log),
            history=(*result.history, *history),
        ),
        info,
    )


def _still_relaxed(spec: ModelSpec, unit_rep: np.ndarray, result: SolveResult) -> SolveResult:
    """A relaxed plan after the contiguity stages (which set "optimal" or "feasible" for the plans they
    make) stays relaxed while it breaks a row, with its violations recomputed for the plan it now is.
    QA9 F4: a --relax plan that broke 9 bands was written with status "feasible" after the district
    contiguity stage."""
    violations = tuple(pipeline._violations(spec, unit_rep))
    if not violations:
        return result
    return result.relaxed(violations=violations)


def _designed_connected(
    result: SolveResult, design_info: dict[str, Any], district_info: dict[str, Any] | None
) -> SolveResult:
    """Whether the designed districts end up connected: the design's notes of districts in pieces
    (``unconnected_notes``, taken out of ``design_info``) are added when they stay so; when the district
    contiguity stage after the design connected them, that is said instead (QA31 F3: summary.json kept
    "connected": false and the design's note "the districts may not all be connected" beside
    districts.csv's every district one piece)."""
    unconnected = design_info.pop("unconnected_notes", [])
    if design_info["connected"]:
        return result
    if district_info is None or not district_info.get("contiguous"):
        return dataclasses.replace(result, notes=(*result.notes, *unconnected))
    design_info.update(connected=True, connected_by="district_contiguity")
    note = "the district contiguity stage after the design made every district one piece"
    return dataclasses.replace(result, notes=(*result.notes, note))


def _bound_for_any_grouping(result: SolveResult, bound: float, kept: bool) -> SolveResult:
    """With --design-districts the grouping is the planner's choice, so a bound holds only when it holds
    for any grouping: the contiguity stages after the design solve the model with the chosen grouping's
    district rows, and their bound holds for that grouping alone (QA19 F6: 452,586.5 and a 3.44% gap
    reported where the design's note gave 423,968.4 as the bound for any grouping). Their bound is kept in
    a note; the result's bound is the design's when it is lower. ``kept``: their model kept each unit in
    its district of the design's plan, and their bound holds for that restriction only."""
    if not np.isfinite(bound) or not np.isfinite(result.lower_bound) or result.lower_bound <= bound:
        return result
    gap = pipeline._gap(result.objective, bound)
    optimal = bool(np.isfinite(gap) and gap <= pipeline.OPTIMALITY_TOL and result.status != "relaxed")
    note = (
        f"the contiguity stages after the design proved a lower bound of {result.lower_bound:,.1f} for "
        "connected plans of the chosen grouping only"
        + (" with each unit kept in its district of the design's plan" if kept else "")
        + " (the design's bound for that grouping is the model's "
        f"without contiguity); the bound given, {bound:,.1f}, holds for any grouping"
    )
    return dataclasses.replace(
        result,
        lower_bound=bound,
        gap=gap,
        status=result.status if result.status == "relaxed" else ("optimal" if optimal else "feasible"),
        proven_optimal=optimal,
        notes=(*result.notes, note),
    )


def _before_contiguity(result: SolveResult) -> SolveResult:
    """The first solve's result as the contiguity stages take it up: its history and its notes are about
    the model without contiguity, whose plans may split territories (QA19 F1: the history's 29,468.4 at a
    0.67% gap, then a final 29,696.6, and "its best plan (29,468.4) was not better than the search's",
    read as the run losing a better plan). Each history entry says ``"model": "without contiguity"``
    and each note begins "before contiguity:"."""
    history = tuple({**entry, "model": "without contiguity"} for entry in result.history)
    notes = tuple(f"before contiguity: {note}" for note in result.notes)
    return dataclasses.replace(result, history=history, notes=notes)


def _with_total_time(result: Any, seconds: float) -> Any:
    """The result with the command's seconds, and its history closed by the plan and bound written when
    a stage after the pipeline (contiguity, districts) changed them."""

    def finite(v: float) -> float | None:
        return float(v) if v is not None and np.isfinite(v) else None

    last = result.history[-1] if result.history else {}
    now = {"objective": finite(result.objective), "lower_bound": finite(result.lower_bound)}
    history = tuple(result.history)

    def same(a: Any, b: float | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return abs(float(a) - b) <= 1e-9 * max(1.0, abs(b))

    if not all(same(last.get(k), v) for k, v in now.items()):
        history += ({"seconds": round(seconds, 3), "event": "final", **now, "gap": finite(result.gap)},)
    return dataclasses.replace(result, seconds=seconds, history=history)
