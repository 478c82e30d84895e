"""The plan before any contiguity stage: the districts' design (with the contiguity stages it runs
as functions, ``_connectors``), the districts-first start of a nested map, or the solve pipeline's plan
with its share of the time (``_base_plan``), kept against a warm start when that is better.

Split from ``api`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from territory_planner.errors import SolverError
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import pipeline
from territory_planner.optimize.budget import TimeBudget
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import PlanOptions
from territory_planner.plan_endings import _connected_or_relaxed
from territory_planner.plan_inputs import Progress, build_spec
from territory_planner.plan_map import _design_adjacency
from territory_planner.plan_run import FORECAST_LEFT_OUT, _Design, _Run, _time_spent


def _first_plan(
    run: _Run,
    base_budget: TimeBudget,
    base_share: str,
    design: _Design,
    warm_start: Mapping[str, str] | None,
) -> tuple[np.ndarray, SolveResult]:
    """The plan before any contiguity stage: the districts' design (``--design-districts``, which sets
    ``run.problem``/``run.spec`` to the chosen grouping and fills ``design``), the districts-first start
    of a nested map, or the solve pipeline's plan (kept against a warm start when that is better)."""
    options = run.options
    if options.design_districts:
        from territory_planner.design_flow import design_districts

        island_note = None
        if run.known and run.adj is None:  # designed districts are connected when an adjacency is known
            run.adj, island_note = _design_adjacency(options, run.problem, run.inputs, run.joined)
        if run.adj is not None and base_budget is not run.budget:  # the design connects them itself
            base_budget = run.budget.child("design_on_map")
        connect = shape = centre = None
        if run.adj is not None:
            connect, shape = _connectors(
                run.adj, run.backend, options, run.lat, run.lon, run.free, run.progress, run.gap
            )
            from territory_planner.geo import planning

            centre = planning.home_units_owned(run.spec, run.lat, run.lon, run.free)[0]
        design.designed_from = run.spec
        run.problem, run.spec, unit_rep, result, design.info = design_districts(
            run.problem,
            run.spec,
            lambda pr: build_spec(pr, options, run.lat, run.lon),
            options.group_tolerance()["district"],
            options.design_districts,
            run.backend,
            base_budget,
            run.solve_kw,
            run.adj,
            connect,
            shape,
            centre,
        )
        if island_note is not None:
            result = dataclasses.replace(result, notes=(*result.notes, island_note))
        design.bound = result.lower_bound  # the model without district rows: valid for any grouping
        return unit_rep, result
    if run.nested:  # the two levels can start without a plan of the full model
        from territory_planner.geo.districts import base_plan

        start_plan, result = base_plan(run.spec, run.backend, base_budget, run.solve_kw)
        if start_plan is None:
            return np.full(run.problem.n_units, -1, dtype=np.int64), result
        return start_plan, result
    unit_rep, result = _base_plan(
        run.spec, run.backend, base_budget, run.budget, run.solve_kw, run.centres_seconds,
        forecast=run.forecast, share=base_share, without_extras=run.without_extras, late_notes=run.late_notes,
    )  # fmt: skip
    if warm_start and not (options.contiguous or options.district_contiguous):
        from territory_planner import seeding

        seed = seeding.start_plan(run.spec, warm_start)
        elapsed = time.perf_counter() - run.start
        unit_rep, result = seeding.keep_better(run.spec, unit_rep, result, seed, elapsed)
    return unit_rep, result


def _connectors(
    adj: Any,
    backend: Any,
    options: PlanOptions,
    lat: np.ndarray,
    lon: np.ndarray,
    free: np.ndarray,
    progress: Progress,
    gap: float,
) -> tuple[Any, Any]:
    """For --design-districts on a map: the district contiguity stage (``--district-contiguous``'s) and,
    with --contiguous, the territory contiguity stage (else None), each as a function of (spec, plan,
    result, seconds) giving a plan that is connected at its level and meets every row of ``spec`` with
    the stage's result, or none, and whether HiGHS proved there is none (``design_flow.Attempt``).
    ``gap``: the run's (a small model goes on to a proven optimum, as without the design: QA72 F2, the
    same plan "feasible, gap 0.069%" at 10 s of 30 with the design and "optimal" without)."""
    from territory_planner.design_flow import Attempt
    from territory_planner.geo import contiguity_stage, planning
    from territory_planner.geo.districts import make_districts_contiguous
    from territory_planner.optimize import repair

    kw: dict[str, Any] = {
        "gap": gap,
        "seed": options.seed,
        "threads": options.threads or 1,
        "progress": progress,
    }

    def districts(spec: Any, plan: np.ndarray, result: Any, seconds: float) -> Attempt:
        centre, _ = planning.home_units_owned(spec, lat, lon, free)
        progress("connecting the designed districts (district contiguity)")
        moved, res, info = make_districts_contiguous(
            spec, adj, plan, result, backend, centre=centre, time_limit=seconds,
            territories_too=options.contiguous, **kw,
        )  # fmt: skip
        found = info.get("contiguous") and repair.feasible(spec, moved)
        proven = str(info.get("infeasible", "")).startswith("proven")
        return Attempt((moved, res) if found else None, proven, str(info.get("two_levels", "")))

    def territories(spec: Any, plan: np.ndarray, result: Any, seconds: float) -> Attempt:
        moved, res, info = contiguity_stage.make_contiguous(
            spec, adj, plan, result, backend, lat=lat, lon=lon, time_limit=seconds, chosen=free, **kw
        )
        if info.get("infeasible") == "proven" and not options.relax:  # the user's model, before any
            _connected_or_relaxed(res, info, None, options, spec.problem.n_reps)  # grouping: raises
        found = info.get("contiguous") and repair.feasible(spec, moved)
        return Attempt((moved, res) if found else None)

    return districts, territories if options.contiguous else None


def _base_plan(
    spec: ModelSpec,
    backend: Any,
    base_budget: TimeBudget,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
    centres_seconds: float,
    forecast: bool = False,
    share: str = "base_plan",
    without_extras: TimeBudget | None = None,
    late_notes: tuple[str, ...] = (),
) -> tuple[np.ndarray, SolveResult]:
    """The plan before contiguity. With --contiguous it gets a share of the time (``base_budget``) and the
    contiguity stages the rest; a plan found in that share is improved to its end. Until there is a
    plan at all, those stages have nothing to work on, so the search has all of ``budget`` for one
    instead of ending the run with time unused, in the same solve (its LP, its start plans and the whole
    model beside go on: a second solve from scratch built them again, Texas's 254 counties x 20 reps in
    4 districts spent 3.7 s of its 48 s on that); a plan found later is improved for ``share`` of the
    time then left (QA19 F5: 100 NC counties x 12 reps, --contiguous at 60 s, a first plan at 10.8 s
    and the search improving it until 58.3 s; the contiguity stages had 2 s and the run ended with exit
    3 where they prove in seconds that no connected plan exists). An exit 3 names the time the centres
    took as well. ``without_extras`` (never with contiguity, whose stages need the time): the budget
    before the workbook's and the forecast's time was kept back; while there is no plan the search may
    use that time, and a plan found in it leaves them out (``late_notes`` added to its notes, e.g.
    ``FORECAST_LEFT_OUT``; QA38 F11: exit 3 "in the time limit of 10s" at 5.4 s, with the 5.7 s kept
    for the forecast unused, where the same model had a plan in 9.5 s without a forecast)."""
    began = time.perf_counter()  # what came before the solve is named in an exit 3 (QA18 F4)
    try:
        if without_extras is not None:
            assert base_budget is budget, "the extras' time is never borrowed with contiguity"
            # the stages before a plan may use the extras' time too, in the same solve (QA39 F0: a second
            # solve from scratch in it found none where the same model alone had a plan at 8 s); once a
            # plan exists they keep to ``base_budget`` and the extras have their time, unless the plan
            # came in it
            unit_rep, result = pipeline.solve(
                spec, backend, budget=without_extras, after_plan=base_budget, **solve_kw
            )
            if pipeline.found_after(result.history, base_budget, FORECAST_SLACK):
                result = dataclasses.replace(result, notes=(*result.notes, *late_notes))
            return unit_rep, result
        if base_budget is budget:
            return pipeline.solve(spec, backend, budget=budget, **solve_kw)
        return pipeline.solve(
            spec, backend, budget=budget, after_plan=base_budget, then_share=share, **solve_kw
        )
    except SolverError as err:
        failure = err
        if without_extras is not None:  # their time went to the search
            budget, forecast = without_extras, forecast and FORECAST_LEFT_OUT not in late_notes
    if budget.limited:
        raise SolverError(f"{failure} ({_time_spent(budget, began, centres_seconds, forecast)})") from failure
    if centres_seconds > 0:
        took = f"choosing the reps' centres took {centres_seconds:.1f}s before that"
        raise SolverError(f"{failure} ({took})") from failure
    raise failure


# a first plan found this long after the search's own deadline came in the workbook's or the forecast's
# time (the pipeline's own switch to the longer budget has none)
FORECAST_SLACK = 0.0
