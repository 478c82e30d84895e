"""The start of one ``api.solve``: the ``_Run`` its stages share, the inputs loaded with the command's
one time budget (the time kept for the outputs, the workbook and the forecast), the reps' centres, and
the model with its map and the proofs that need no solve; what an exit 3 before the solve says.

Split from ``api`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InfeasibleError, Problem, SolverError
from territory_planner.io.load import LoadedInputs
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import centres, pipeline
from territory_planner.optimize.budget import (
    OUTPUT_SECONDS_PER_ACCOUNT,
    WORKBOOK_SECONDS_PER_ACCOUNT,
    TimeBudget,
    output_reserve,
)
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.options import PlanOptions
from territory_planner.plan_inputs import Progress, _load, build_spec, check_crm
from territory_planner.plan_map import (
    _adjacency,
    _bridged_note,
    _check_district_homes,
    _check_map_pieces,
    _district_home_notes,
)
from territory_planner.solvers import get_backend

log = logging.getLogger(__name__)
# the KPI report a plan writes with --crm and --period: 1.58 s for the sample's 2,000 accounts and CRM on
# 2 loaded cores (2026-12-03; 0.09 s without the CRM), beside the folder's other files
KPI_REPORT_SECONDS = 1.2


def _preload_outputs(options: PlanOptions) -> None:
    """Import what writing the folder needs (folium, the report's templates, the workbook) before the
    outputs' time: since the command line stopped importing them for --help, they loaded inside the
    output phase, after the solve's deadline (QA18 F5: 0.4-1.5 s over the limit on the sample data).
    Called once the whole model beside has started (``pipeline.solve``'s ``after_beside``: before it
    they held the GIL 0.2-0.3 s that HiGHS's start waited for) and again after the first plan (a run
    that ended before it, or paths without that solve: at once, the modules being loaded)."""
    import territory_planner.render.map
    import territory_planner.report.api  # noqa: F401

    if options.xlsx:
        import territory_planner.export.workbook  # noqa: F401


@dataclass
class _Run:
    """What the stages of one ``solve`` share: the inputs and the model (``problem`` and ``spec`` change
    when ``--design-districts`` adds its grouping), the one time budget of the command, the homes (given
    or chosen) and the adjacency when the run needs one."""

    options: PlanOptions
    progress: Progress
    start: float
    inputs: LoadedInputs
    problem: TerritoryProblem
    joined: Any  # ``geo.planning.AreaUnits`` of an area plan, else None
    repaired: list[Problem]
    backend: Any
    units: Any  # the map's unit polygons (``geo.planning.UnitShapes``), or None for a point plan
    budget: TimeBudget
    # the budget before the workbook's and the forecast's time was kept back: while there is no plan the
    # search may use it, and a plan found only in it leaves them out (``late_notes`` say which)
    without_extras: TimeBudget | None
    late_notes: tuple[str, ...]
    forecast: bool
    threads: int
    free: np.ndarray  # (p,) bool: reps whose centre the planner chooses
    lat: np.ndarray
    lon: np.ndarray
    centres_seconds: float = 0.0
    centre_notes: list[str] = dataclasses.field(default_factory=list)
    spec: Any = None  # ``ModelSpec``, once built
    nested: bool = False  # large maps with --district-contiguous: districts first, then territories
    gap: float = 0.0
    solve_kw: dict[str, Any] = dataclasses.field(default_factory=dict)
    adj: Any = None
    map_proof: str | None = None  # with --relax: the map pre-check's proof that no connected plan exists
    known: bool = False  # an adjacency can be had (an edge list, account polygons or areas)
    # the stages before the solve (``told``): reading the inputs, the centres, the model
    before: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def told(self, stage: str, began: float, outcome: str) -> None:
        """A stage before the solve, begun at ``began``, in summary.json's stages (QA111 O1: reading the
        inputs, 2.8 s of the demo's 8, was in ``solve_seconds`` and in no stage)."""
        seconds = time.perf_counter() - began
        self.before.append({"stage": stage, "seconds": round(seconds, 3), "outcome": outcome})
        log.info("stage %s: %.2fs, %s", stage, seconds, outcome)


@dataclass
class _Design:
    """``--design-districts``: its info for summary.json, the model before the grouping's rows and the
    bound that holds for any grouping (the model without district rows)."""

    info: dict[str, Any] | None = None
    designed_from: Any = None
    bound: float = float("nan")


def _start_run(options: PlanOptions, progress: Progress, start: float) -> _Run:
    """Inputs loaded and the command's one time budget, with the time kept for the outputs (the map's
    polygons, made first, set it), the KPI report and the forecast."""
    inputs, problem, joined, repaired = _load(options)
    check_crm(options, pd.Series(problem.account_ids))
    backend = get_backend(options.solver)
    units = None  # the map's unit polygons, made first: their size sets the time kept for the outputs
    if joined is not None or inputs.geometry is not None:
        from territory_planner.geo import planning

        units = planning.units_geojson(problem, inputs.geometry, joined)

    def kept(per_account: float) -> TimeBudget:
        reserve = output_reserve(
            problem.n_accounts,
            per_account=per_account,
            polygons=0 if units is None else units.polygons,
            vertices=0 if units is None else units.vertices,
        )
        if options.crm is not None and options.period is not None:
            reserve += KPI_REPORT_SECONDS  # the plan's report.html computes the period's KPIs too
        return TimeBudget.for_command(options.time_limit, started=start, reserve=reserve)

    budget = kept(OUTPUT_SECONDS_PER_ACCOUNT)
    # no plan when the search's time is up: the time kept for the workbook and the forecast goes on
    # searching, and they are left out if the plan comes only in it (QA38 F11 for the forecast; QA67 F3:
    # 33,300 ZIPs x 200 reps with --xlsx at 60 s, exit 3 at 47 s in 6 runs of 6 with 12.5 s kept for the
    # workbook, where 4 runs of 5 without it had a plan at 38-43 s). Not on a map with contiguity, whose
    # later stages need the time the plan before them leaves.
    borrow = not (options.contiguous or options.district_contiguous)
    without_extras: TimeBudget | None = None
    late: list[str] = []
    if options.xlsx:
        if borrow:
            without_extras, late = budget, [WORKBOOK_LEFT_OUT]
        budget = kept(OUTPUT_SECONDS_PER_ACCOUNT + WORKBOOK_SECONDS_PER_ACCOUNT)
    if options.forecast_horizon is not None and options.crm is not None:
        from territory_planner.forecast.api import forecast_reserve

        runs = 2 if options.quota_method == "forecast" and options.company_target is not None else 1
        reserve = forecast_reserve(problem.n_reps, options.time_limit, runs)

        def less(b: TimeBudget) -> TimeBudget:
            return dataclasses.replace(b, deadline=b.deadline - reserve, last=b.last - reserve)

        if options.quota_method != "forecast" and borrow:
            without_extras, late = without_extras or budget, [*late, FORECAST_LEFT_OUT]
        elif without_extras is not None:  # the quotas need the forecast: its time is not the search's
            without_extras = less(without_extras)
        budget = less(budget)
    free = problem.missing_homes.copy()
    if options.choose_centres:
        free[:] = True
    run = _Run(
        options, progress, start, inputs, problem, joined, repaired, backend, units, budget, without_extras,
        tuple(late),
        forecast=options.forecast_horizon is not None and options.crm is not None,
        threads=options.threads or 1, free=free, lat=problem.home_lat.copy(), lon=problem.home_lon.copy(),
    )  # fmt: skip
    _promise_before_solve(run.without_extras or budget, 0.0, run.forecast and FORECAST_LEFT_OUT not in late)
    run.told(
        "inputs",
        start,
        f"{problem.n_accounts:,} accounts and {problem.n_reps:,} reps read and checked"
        + (", the map's polygons made" if units is not None else "")
        + " (from the command's start: its imports too)",
    )
    return run


def _place_centres(run: _Run) -> None:
    """Centres for the reps without a home (or every rep with --choose-centres), by location-allocation."""
    if not run.free.any():
        return
    began = time.perf_counter()
    run.progress(f"choosing centres for {int(run.free.sum())} rep(s) (location-allocation)")
    search = centres.Search()
    run.lat, run.lon = centres.choose_centres(
        run.problem,
        run.free,
        lambda la, lo: build_spec(run.problem, run.options, la, lo),
        run.backend,
        seed=run.options.seed,
        threads=run.threads,
        candidates=run.options.candidates,
        deadline=run.budget.share("centres"),
        progress=run.progress,
        search=search,
    )
    run.centres_seconds = time.perf_counter() - began
    budget = run.without_extras or run.budget
    forecast_kept = run.forecast and FORECAST_LEFT_OUT not in run.late_notes
    _promise_before_solve(budget, run.centres_seconds, forecast_kept)
    notes, warnings = centres.search_notes(run.problem, run.free, search)
    warnings += centres.far_from_district(run.problem, run.free, run.lat, run.lon)
    for note in warnings:
        log.warning(note)
    run.centre_notes = [*notes, *warnings]
    run.told("centres", began, f"centres chosen for {int(run.free.sum())} rep(s) (location-allocation)")


def _build_model(run: _Run) -> tuple[TimeBudget, str, list[str]]:
    """The model (``spec``), the solver's settings and, with contiguity asked, the map and the proofs
    that need no solve (pieces no plan covers, district homes walled in). Returns the first plan's budget,
    its share's name and the notes on district homes."""
    options, problem = run.options, run.problem
    began = time.perf_counter()
    run.spec = spec = build_spec(problem, options, run.lat, run.lon)
    if options.district_contiguous:
        from territory_planner.geo.districts import nested_applies

        run.nested = nested_applies(spec)
    cur_unit = np.full(problem.n_units, -1, dtype=np.int64)
    has = problem.acc_current >= 0
    cur_unit[problem.acc_unit[has]] = problem.acc_current[has]
    # a small model goes on to a proven optimum whatever --gap says (its help): the contiguity stages too
    # (QA30 F1: 51 African countries x 6 reps, --contiguous, stopped at 0.097% with half the time left)
    small = int(spec.allowed.sum()) <= SMALL_PAIRS
    run.gap = min(options.gap, pipeline.OPTIMALITY_TOL) if small else options.gap
    run.solve_kw = {
        "gap": run.gap,
        "seed": options.seed,
        "threads": run.threads,
        "candidates": options.candidates,
        "relax": options.relax,
        "progress": run.progress,
        "current_unit_rep": cur_unit,
        # the output modules load once HiGHS has the whole model beside (``_preload_outputs``)
        "after_beside": lambda: _preload_outputs(options),
    }
    if options.contiguous or options.district_contiguous:
        run.adj = _adjacency(options, problem, run.inputs, run.joined)
        try:  # a proof before any solve: pieces no plan covers, reps walled in
            of = "territory" if options.contiguous else "district"
            _check_map_pieces(spec, run.adj, run.lat, run.lon, run.free, of)
        except InfeasibleError as proof:
            if not options.relax:
                raise
            # --relax goes on to the least violation, which the proof says no plan avoids (QA72 F1:
            # "not by itself a proof" of a relaxed plan whose inputs are proven infeasible in 2.5 s)
            run.map_proof = "; ".join([str(proof), *(c.message for c in proof.conflicts[:3])])
    # with --contiguous the base plan gets its share and the contiguity stages the rest
    base_share = _base_share(options, run.nested, run.adj, problem.n_reps, run.backend)
    contiguity = options.contiguous or options.district_contiguous
    base_budget = run.budget.child(base_share) if contiguity and run.budget.limited else run.budget
    district_notes = _district_home_notes(problem, options)
    if run.adj is not None and run.adj.bridged:
        note = _bridged_note(problem, run.adj)
        log.warning(note)
        district_notes = [note, *district_notes]
    if run.adj is not None and options.district_contiguous and not options.design_districts:
        homes = _check_district_homes(spec, run.adj, run.lat, run.lon, run.free, options.relax)
        district_notes = homes + district_notes
    run.known = options.adjacency is not None or run.inputs.geometry is not None or run.joined is not None
    run.told(
        "model",
        began,
        f"{int(spec.allowed.sum()):,} unit-rep pairs over {problem.n_units:,} units"
        + (f", the map's adjacency ({len(run.adj.u):,} edges)" if run.adj is not None else ""),
    )
    return base_budget, base_share, district_notes


def _base_share(options: PlanOptions, nested: bool, adj: Any, n_reps: int, backend: Any) -> str:
    """The share of the plan before the contiguity stages: smaller on a map whose exact flow model runs
    beside those stages (``contiguous_flow.fits_beside``), which settles contiguity itself."""
    if nested:
        return "nested_base"
    # QA92 F1/F3: with --district-contiguous alone the flow model needs the time as much (84 Russian
    # regions: its proof took 26 s, and the plan before it 22-36 s of 80-120 s at 0.40)
    if (options.contiguous or options.district_contiguous) and adj is not None:
        from territory_planner.optimize import contiguous_flow

        if contiguous_flow.fits_beside(adj, n_reps, backend):
            return "base_plan_exact"
    return "base_plan"


# the note of a plan found in the time kept for its workbook (``_base_plan``): ``plan`` then writes no
# plan.xlsx
WORKBOOK_LEFT_OUT = (
    "workbook left out: the plan was found only in the time kept for writing plan.xlsx; make it with "
    "`territory-planner export PLAN --format xlsx --out plan.xlsx`, or give a longer --time-limit"
)
# the note of a plan found in the time kept for its forecast (``_base_plan``): ``write_plan`` then leaves
# the forecast out
FORECAST_LEFT_OUT = (
    "forecast left out: the plan was found only in the time kept for the forecast; make it with "
    "`territory-planner forecast` or `report --forecast-horizon` on this plan, or give a longer --time-limit"
)


def _time_spent(budget: TimeBudget, began: float, centres_seconds: float, forecast: bool) -> str:
    """Where a limited run's time went before its solve began at ``began`` (QA18 F4)."""
    assert budget.limit is not None
    parts = [f"{began - budget.start - centres_seconds:.1f}s went to reading the inputs"]
    if centres_seconds > 0:
        parts.append(f"{centres_seconds:.1f}s to choosing the reps' centres")
    kept = budget.start + budget.limit - budget.deadline
    parts.append(f"{kept:.1f}s are kept for writing the plan" + (" and its forecast" if forecast else ""))
    return f"of the {budget.limit:g}s, {', '.join(parts[:-1])} and {parts[-1]}"


def _promise_before_solve(budget: TimeBudget, centres_seconds: float, forecast: bool) -> None:
    """Exit 3 before any solving stage starts once the command would end past its promise (1.05 x
    --time-limit + 2 s): QA29 F12, `--time-limit 1` with the sample CRM's forecast, 3.0 s of inputs and
    then the reps' centres and the budget check, the command ending at 4.2-4.7 s of the 3.05 s. Also once
    the solve's own deadline has passed: no stage has time left, and the first (the LP) cannot stop
    midway (QA42 F3: 2,106 Chinese cities x 60 reps at --time-limit 3, 3.4 s of reading, then 0.9-1.9 s
    of LP, the command ending at 5.35 s of the 5.15 s promised)."""
    if budget.past_last() or budget.expired():
        raise SolverError(
            f"no plan found yet: the time limit is used up before the solve "
            f"({_time_spent(budget, time.perf_counter(), centres_seconds, forecast)}); this is not a proof "
            f"that no plan exists: try --time-limit {budget.suggest():.0f}"
        )
