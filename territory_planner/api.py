"""Library entry points shared by the CLI, notebooks and tests."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from territory_planner.currency import currency_context, currency_prefix
from territory_planner.errors import Conflict, InfeasibleError, InputError, Problem, SolverError
from territory_planner.geo.repair import repair_notes
from territory_planner.io.load import LoadedInputs, RosterEdits, load_inputs
from territory_planner.io.writers import atomic_write_text, csv_text, json_text, staged_output_dir, write_csv
from territory_planner.model.plan import Plan, SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import centres, pipeline, prechecks, unit_fit
from territory_planner.optimize.budget import (
    OUTPUT_SECONDS_PER_ACCOUNT,
    WORKBOOK_SECONDS_PER_ACCOUNT,
    TimeBudget,
    output_reserve,
)
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import PATH_OPTIONS, PlanOptions
from territory_planner.outputs import assignments_frame, summary_dict, territories_frame
from territory_planner.render.plan_folder import ADJACENCY
from territory_planner.report.formatting import home_rule, listed
from territory_planner.solvers import get_backend

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
# a contiguity proof over a model that holds --design-districts' grouping (its district rows, or each unit
# kept in its district): no proof for the user's model, where any grouping may be chosen
DESIGNED_ONLY = "proven for the designed districts"


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


P = ParamSpec("P")
R = TypeVar("R")


# the KPI report a plan writes with --crm and --period: 1.58 s for the sample's 2,000 accounts and CRM on
# 2 loaded cores (2026-12-03; 0.09 s without the CRM), beside the folder's other files
KPI_REPORT_SECONDS = 1.2


def _preload_outputs(options: PlanOptions) -> None:
    """Import what writing the folder needs (folium, the report's templates, the workbook) before the
    solve: since the command line stopped importing them for --help, they loaded inside the output
    phase, after the solve's deadline (QA18 F5: 0.4-1.5 s over the limit on the sample data)."""
    import territory_planner.render.map
    import territory_planner.report.api  # noqa: F401

    if options.xlsx:
        import territory_planner.export.workbook  # noqa: F401


def _require_paths(options: PlanOptions) -> tuple[Path, Path]:
    problems = []
    if options.accounts is None:
        problems.append(
            Problem("options", None, "accounts", "no accounts table: give --accounts or a scenario")
        )
    if options.reps is None:
        problems.append(Problem("options", None, "reps", "no reps table: give --reps or a scenario"))
    if problems:
        raise InputError(problems)
    assert options.accounts is not None
    assert options.reps is not None
    return options.accounts, options.reps


def load(options: PlanOptions) -> tuple[LoadedInputs, TerritoryProblem]:
    inputs, problem, _ = load_with_areas(options)
    return inputs, problem


def load_with_areas(options: PlanOptions) -> tuple[LoadedInputs, TerritoryProblem, Any]:
    """Inputs and problem; with ``--areas``, non-named accounts are merged into their area's unit
    (the third item is the ``geo.planning.AreaUnits`` of the join, else None)."""
    inputs, problem, joined, _ = _load(options)
    return inputs, problem, joined


def _load(options: PlanOptions) -> tuple[LoadedInputs, TerritoryProblem, Any, list[Problem]]:
    """``load_with_areas`` and the rows whose invalid polygon was repaired (``geo.repair``), accounts
    file first, then the areas file."""
    accounts_path, reps_path = _require_paths(options)
    edits = (
        RosterEdits(options.reps_remove, options.reps_add)
        if options.reps_add or options.reps_remove
        else None
    )
    inputs = load_inputs(
        accounts_path,
        reps_path,
        options.balance,
        departed_reps=set(options.reps_remove),
        roster_edits=edits,
        hierarchy_needs=_hierarchy_needs(options),
        locks=options.locks,
        districts_ignored=bool(options.design_districts),
    )
    _disruption_needs_current(options, inputs.accounts, accounts_path)
    repaired = list(inputs.repaired)  # load_inputs repairs the polygons before taking their points
    tol = {m: options.tol(m) for m in options.balance}
    accounts, joined = inputs.accounts, None
    if options.areas is not None:
        from territory_planner.geo import planning

        accounts, joined = planning.join_areas(inputs.accounts, accounts_path, options.areas)
        repaired += joined.areas.repaired
        apart = planning.families_apart(accounts, joined)
        for note in apart:
            log.warning(note)
        inputs = dataclasses.replace(inputs, warnings=(*inputs.warnings, *apart))
    problem = TerritoryProblem.from_frames(accounts, inputs.reps, options.balance, tol)
    if options.design_districts:  # the planner draws the districts: any district column is ignored
        problem = dataclasses.replace(problem, rep_districts=None)
    if joined is not None or inputs.geometry is not None:  # a home's unit is the polygon that holds it
        from territory_planner.geo import planning

        problem = dataclasses.replace(
            problem, home_unit=planning.home_unit_polygons(problem, inputs.geometry, joined)
        )
    if options.keep_home is not None:  # accounts at a rep's home stay with a rep based there
        from territory_planner.model.homes import keep_homes

        problem, kept = keep_homes(problem, options.keep_home)
        for note in kept.warnings():
            log.warning(note)
        inputs = dataclasses.replace(inputs, warnings=(*inputs.warnings, *kept.notes()))
    return inputs, problem, joined, repaired


def _disruption_needs_current(options: PlanOptions, accounts: pd.DataFrame, path: Path) -> None:
    """A disruption budget or weight measures what moves from today's alignment: with no account holding
    a current rep it means nothing, and the plan said "moved 0 accounts" (QA22 M21)."""
    asked = [
        (flag, value)
        for flag, value in (
            ("--max-moved-share", options.max_moved_share),
            ("--max-moved-share-per-rep", options.max_moved_share_per_rep),
            ("--disruption-weight", options.disruption_weight or None),
        )
        if value is not None
    ]
    current = accounts["current_rep"] if "current_rep" in accounts.columns else None
    if not asked or (current is not None and (current.astype(str).str.strip() != "").any()):
        return
    flag, value = asked[0]
    raise InputError(
        [
            Problem(
                str(path),
                None,
                "current_rep",
                f"{flag} {value:g} measures what moves from today's alignment, but no account has a current "
                "rep (the current_rep column is missing or empty): give each account's current rep, or drop "
                f"{flag}",
            )
        ]
    )


def _hierarchy_needs(options: PlanOptions) -> dict[str, str]:
    """Hierarchy columns the options need on every rep (designed districts need none)."""
    out: dict[str, str] = {}
    if not options.design_districts:
        if options.district_tolerance:
            out["district"] = "--district-tolerance"
        elif options.district_contiguous:
            out["district"] = "--district-contiguous"
    if options.region_tolerance:
        out["region"] = "--region-tolerance"
    return out


def build_spec(
    problem: TerritoryProblem, options: PlanOptions, lat: np.ndarray, lon: np.ndarray
) -> ModelSpec:
    return ModelSpec.build(
        problem,
        lat,
        lon,
        max_moved_share=options.max_moved_share,
        max_moved_share_per_rep=options.max_moved_share_per_rep,
        disruption_weight=options.disruption_weight,
        min_accounts=options.min_accounts,
        max_accounts=options.max_accounts,
        group_tolerance=options.group_tolerance(),
    )


def check_crm(options: PlanOptions, problem_accounts: pd.Series) -> None:
    """The CRM history of ``crm`` read and checked before any solve: every problem in its tables (file, row,
    column) and, with ``forecast_horizon``, whether it holds anything to forecast from. The KPI report and
    the forecast are written after the solve, so a bad table used to end the run only then (exit 1 after
    the whole time limit, no plan). The console's warnings about the history (departed reps, ...) come
    once, with the report; rep ids are checked against the plan's roster there too."""
    if options.crm is None:
        return
    from territory_planner.report.crm import load_crm

    crm_log = logging.getLogger("territory_planner.report.crm")
    level = crm_log.level
    crm_log.setLevel(logging.ERROR)
    try:
        data = load_crm(options.crm)
    finally:
        crm_log.setLevel(level)
    if options.forecast_horizon is not None:
        from territory_planner.forecast.api import forecast_history

        forecast_history(data, options.forecast_horizon)
    from territory_planner.report.api import require_shared_accounts

    require_shared_accounts(data, problem_accounts, str(options.accounts))


def _in_currency(fn: Callable[Concatenate[PlanOptions, P], R]) -> Callable[Concatenate[PlanOptions, P], R]:
    """Run ``fn(options, ...)`` with money in its messages (pre-checks, proofs, budgets) in the run's
    --currency: "at most ¥9,651.49M potential may move", not "$". A ``currency_context``, so it holds in
    this thread only, as each sweep point's own solve does."""

    @functools.wraps(fn)
    def wrapped(options: PlanOptions, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with currency_context(options.currency):
            try:
                return fn(options, *args, **kwargs)
            except InfeasibleError as exc:
                # not where the proof tested --keep-home and found it plays no part (QA48 F2)
                if (
                    options.keep_home is not None
                    and "--keep-home" not in exc.cleared
                    and not any(c.family == "keep_home" for c in exc.conflicts)
                ):
                    exc.conflicts.append(_keep_home_lever(options.keep_home))
                exc.money_prefix = currency_prefix()
                raise

    return wrapped


def _keep_home_lever(km: float) -> Conflict:
    """--keep-home's rows in an infeasible model: its locks act as the user's own, and the pre-checks and
    proofs above count them without naming the option (QA11 O3: "a rep is walled in" at --keep-home 30,
    a valid model at 20)."""
    return Conflict(
        "keep_home",
        f"--keep-home {km:g} was in force: every account within {km:g} km of a rep's home may go only to a "
        "rep based there, and the rows above hold with that. Where they involve such accounts, a smaller "
        "--keep-home (or none) frees them",
    )


VALIDATE_LP_SECONDS = 60.0  # validate: the budget check's LP (the least share balancing must move)


@_in_currency
def validate(options: PlanOptions) -> dict[str, Any]:
    """Load and check the inputs and run the pre-solve infeasibility checks (with ``contiguous``, the map's
    too: pieces no connected plan covers, reps walled in by other homes). Raises on any problem."""
    inputs, problem, joined, repaired = _load(options)
    check_crm(options, pd.Series(problem.account_ids))
    lat, lon = problem.home_lat.copy(), problem.home_lon.copy()
    missing = problem.missing_homes
    if missing.any():  # any centre will do for the checks: they do not depend on distances
        lat[missing], lon[missing] = float(np.nanmean(problem.acc_lat)), float(np.nanmean(problem.acc_lon))
    spec = build_spec(problem, options, lat, lon)
    district_homes = options.district_contiguous and not options.design_districts and not options.relax
    adj, unusable = None, None
    if (options.contiguous and not options.relax) or district_homes:
        try:  # an option the data cannot carry (contiguity of point accounts) is said with any proof below
            adj = _adjacency(options, problem, inputs, joined)
        except InputError as exc:
            unusable = exc
    conflicts = prechecks.check(spec)
    if options.design_districts:
        from territory_planner.design_flow import check_count, nesting_conflict, step_conflict

        check_count(problem, options.design_districts)
        n = options.design_districts
        found = (
            nesting_conflict(problem, n),
            step_conflict(problem, n, options.group_tolerance()["district"]),
        )
        conflicts = [*conflicts, *(c for c in found if c is not None)]
    proof = None
    if conflicts:
        from territory_planner.optimize.proofs import keep_home_cleared

        deadline = time.perf_counter() + VALIDATE_LP_SECONDS
        cleared = keep_home_cleared(spec, get_backend(options.solver), deadline=deadline, seed=options.seed)
        proof = InfeasibleError("no plan can satisfy the model", conflicts, cleared)
    if unusable is not None:  # QA13 7: the proof alone was shown, the option's problem only once it passed
        raise InputError(unusable.problems, proof=proof)
    if proof is not None:
        raise proof
    least = None
    if spec.budget is not None:  # the disruption budget's LP bound, as `plan` checks it first (QA28 F16)
        from territory_planner.optimize import proofs

        backend = get_backend(options.solver)
        threads = options.threads or 1
        least_deadline = time.perf_counter() + VALIDATE_LP_SECONDS
        least = proofs.least_moved(spec, backend, deadline=least_deadline, seed=options.seed, threads=threads)
        if least is not None and proofs.above_budget(spec, least[0]):
            deadline = time.perf_counter() + 30.0
            raise proofs.budget_error(
                spec, least[0], backend, deadline=deadline, seed=options.seed, threads=threads
            )
    checked: dict[str, Any] = {}
    if spec.budget is not None and least is None:
        # no bound from the budget check's LP: it did not finish (QA37 F3: 3,779 cities x 60 reps, 63 s,
        # then "inputs are valid" with the budget's rows gone), or it has no solution: the model without
        # the budget is infeasible even as a fractional LP, proven here with the rows in conflict, as `plan`
        # proves it (QA38 F5: exit 0 where `plan` gave exit 1)
        if time.perf_counter() >= least_deadline:
            why = f"its LP did not finish in {VALIDATE_LP_SECONDS:.0f}s (plan checks it in its own time)"
        else:
            why = proofs.prove_by_phase1(
                spec, backend, None, deadline=time.perf_counter() + 30.0, seed=options.seed, threads=threads
            )
        checked["least_moved_unknown"] = why
    total = float(problem.acc_potential.sum())
    if spec.budget is not None and least is not None and total > 0:  # QA29 F5: said when it passes too
        checked["least_moved_share"] = max(least[0], 0.0) / total
        checked["budget_share"] = spec.budget / total
    free = np.ones_like(missing) if options.choose_centres else missing  # centres the planner chooses
    # the map checks of `plan --contiguous` (and its pieces check for `--district-contiguous`)
    if (options.contiguous or options.district_contiguous) and not options.relax and adj is not None:
        of = "territory" if options.contiguous else "district"
        walls = _check_map_pieces(spec, adj, lat, lon, free, of)
        checked.update(map_pieces=int(adj.components().max(initial=0)) + 1, bridged_edges=len(adj.bridged))
        if options.contiguous:
            checked["walled_in_checked"] = walls
    warnings = []
    if district_homes and adj is not None:  # and of `plan --district-contiguous`
        warnings = _check_district_homes(spec, adj, lat, lon, free)
        checked["district_homes_checked"] = not warnings  # not checked when two homes share a unit
    warnings += _district_home_notes(problem, options)
    # the load's warnings are printed above the table too (QA12 N6), not --keep-home's count of kept units
    from territory_planner.model.homes import is_kept_count

    warnings += [w for w in inputs.warnings if not is_kept_count(w)]
    if warnings:
        checked["warnings"] = warnings
    if problem.unit_home_kept is not None:  # QA11 O13: validate said nothing of what --keep-home keeps
        checked["kept_near_homes"] = int(problem.unit_home_kept.sum())
    return {
        **checked,
        "accounts": problem.n_accounts,
        "units": problem.n_units,
        "reps": problem.n_reps,
        "reps_without_home": int(missing.sum()),
        # the least tolerance with the other bands held (QA14 9), not the largest unit alone
        "balance_floor": unit_fit.least_tolerance(spec, deadline=time.perf_counter() + prechecks.FIT_SECONDS),
        "totals": {m: float(problem.acc_amount[:, k].sum()) for k, m in enumerate(problem.measures)},
        "repaired_geometries": repair_notes(repaired),
    }


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


@dataclass
class _Design:
    """``--design-districts``: its info for summary.json, the model before the grouping's rows and the
    bound that holds for any grouping (the model without district rows)."""

    info: dict[str, Any] | None = None
    designed_from: Any = None
    bound: float = float("nan")


@_in_currency
def solve(
    options: PlanOptions,
    progress: Progress = lambda _m: None,
    *,
    started: float | None = None,
    warm_start: Mapping[str, str] | None = None,
) -> PlanOutput:
    """Load, solve and build the output tables (nothing written). ``started`` (a ``perf_counter``
    reading) is when the command began: ``--time-limit`` counts from there, outputs included (with
    ``options.xlsx``, the workbook too). ``warm_start`` (account_id -> rep_id, e.g. the plan of a sweep
    point this one relaxes) is kept instead of the search's plan when it is a plan of this model and a
    better one (``seeding.keep_better``; not with contiguity, whose stages describe their own plan).

    The stages, in order: inputs and the time budget (``_start_run``), centres for reps without a home
    (``_place_centres``), the model and its map (``_build_model``), the first plan (``_first_plan``:
    the solve pipeline, or the district design), the contiguity stages (``_connected_plan``), and the
    output tables (``_plan_output``)."""
    run = _start_run(options, progress, time.perf_counter() if started is None else started)
    _place_centres(run)
    base_budget, base_share, district_notes = _build_model(run)
    design = _Design()
    unit_rep, result = _first_plan(run, base_budget, base_share, design, warm_start)
    unit_rep, result, contiguity_info, district_info = _connected_plan(run, unit_rep, result, design)
    return _plan_output(run, unit_rep, result, contiguity_info, district_info, design, district_notes)


def _start_run(options: PlanOptions, progress: Progress, start: float) -> _Run:
    """Inputs loaded and the command's one time budget, with the time kept for the outputs (the map's
    polygons, made first, set it), the KPI report and the forecast."""
    _preload_outputs(options)
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


def _build_model(run: _Run) -> tuple[TimeBudget, str, list[str]]:
    """The model (``spec``), the solver's settings and, with contiguity asked, the map and the proofs
    that need no solve (pieces no plan covers, district homes walled in). Returns the first plan's budget,
    its share's name and the notes on district homes."""
    options, problem = run.options, run.problem
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
    return base_budget, base_share, district_notes


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
        from territory_planner.geo import planning

        assert adj is not None
        unit_rep, result, contiguity_info = planning.make_contiguous(
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
        unit_rep, result, contiguity_info, district_info = _districts_stage(
            run, unit_rep, result, design, contiguity_info
        )
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
    elapsed = time.perf_counter() - run.start
    result = _connected_or_relaxed(
        result, contiguity_info, district_info, options, problem.n_reps, elapsed=elapsed
    )
    if design.info is not None:
        from territory_planner.design_flow import with_rule_violations

        result = with_rule_violations(result, design.info)
    return unit_rep, _with_total_time(result, time.perf_counter() - run.start), contiguity_info, district_info


def _districts_stage(
    run: _Run,
    unit_rep: np.ndarray,
    result: SolveResult,
    design: _Design,
    contiguity_info: dict[str, Any] | None,
) -> tuple[np.ndarray, SolveResult, dict[str, Any] | None, dict[str, Any]]:
    """``--district-contiguous``: each district one piece (and, on a nested map, its territories too),
    with the territories' pieces counted again on the plan it returns."""
    from territory_planner.geo import planning
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
    if "territories" in district_info:
        contiguity_info = district_info.pop("territories")
    elif contiguity_info is not None:
        # the district stage may change the plan the contiguity stage counted: its territories'
        # pieces are counted again on the plan returned (the brute-force property test: R0 held
        # two units with no edge between them after the district stage, reported as one piece
        # each and written as a feasible connected plan)
        from territory_planner.geo import contiguity as contiguity_count

        pieces = contiguity_count.count_pieces(adj, unit_rep, run.problem.n_reps)
        contiguity_info = planning.with_pieces(contiguity_info, run.problem, pieces)
    return unit_rep, result, contiguity_info, district_info


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
    from territory_planner.geo import planning
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
        return Attempt((moved, res) if found else None, str(info.get("infeasible", "")).startswith("proven"))

    def territories(spec: Any, plan: np.ndarray, result: Any, seconds: float) -> Attempt:
        moved, res, info = planning.make_contiguous(
            spec, adj, plan, result, backend, lat=lat, lon=lon, time_limit=seconds, chosen=free, **kw
        )
        if info.get("infeasible") == "proven" and not options.relax:  # the user's model, before any
            _connected_or_relaxed(res, info, None, options, spec.problem.n_reps)  # grouping: raises
        found = info.get("contiguous") and repair.feasible(spec, moved)
        return Attempt((moved, res) if found else None)

    return districts, territories if options.contiguous else None


def _adjacency(options: PlanOptions, problem: Any, inputs: Any, joined: Any) -> Any:
    """The units' adjacency from ``--adjacency``, the account polygons or the areas, as the options say."""
    from territory_planner.geo import planning

    return planning.unit_adjacency(
        problem,
        inputs.geometry,
        edges=options.adjacency,
        rook=options.rook,
        bridge=options.bridge_islands,
        areas=joined,
        option="--contiguous" if options.contiguous else "--district-contiguous",
    )


def _bridged_note(problem: Any, adj: Any) -> str:
    """What --bridge-islands joined, and how far (QA72 F3: an island 563 km from the rest was joined
    without a word, and summary.json said "islands": 0): each edge between the two units' points, the
    distance the bridge spans."""
    from territory_planner.geo.planning import unit_points
    from territory_planner.io.labels import first_few
    from territory_planner.model.homes import arc_km

    lat, lon = unit_points(problem)
    edges = (
        f"{problem.unit_label(int(u))} - {problem.unit_label(int(v))} "
        f"({float(arc_km(lat[u], lon[u], lat[v], lon[v])):,.0f} km)"
        for u, v in adj.bridged
    )
    n = len(adj.bridged)
    return (
        f"--bridge-islands joined {n} piece{'' if n == 1 else 's'} of the map cut off from the rest, each to "
        f"its nearest unit by one edge that a territory may cross: {first_few(edges, 5)} "
        "(summary.json contiguity.bridged_edges)"
    )


def _design_adjacency(options: PlanOptions, problem: Any, inputs: Any, joined: Any) -> tuple[Any, str | None]:
    """The adjacency that ``--design-districts`` connects its districts over (no territory or district
    contiguity asked), and a note when it bridged islands. An island (a unit or piece with no neighbour in
    the rest of the map) keeps the district that holds it in two pieces whatever the grouping, so HiGHS
    proved every grouping unconnectable and all the districts were left split (QA13 5: Albuquerque's
    tracts, one island, 3 of 3 districts split after 16 groupings): the design joins each island to its
    nearest unit, as --bridge-islands does, and says so."""
    from territory_planner.geo import planning

    adj = _adjacency(options, problem, inputs, joined)
    islands = [] if options.bridge_islands else adj.islands()
    if not islands:
        return adj, None
    units = np.concatenate(islands)
    names = ", ".join(problem.unit_label(int(u)) for u in units[:3])
    more = f" and {len(units) - 3} more unit(s)" if len(units) > 3 else ""
    note = (
        f"the map has {len(islands)} island(s) apart from the rest ({names}{more}): the designed districts "
        "join each to its nearest unit, as --bridge-islands does, so a district holding one is one piece "
        "with it across the gap (districts.csv, column contiguous, counts it so)"
    )
    return planning.bridged(problem, adj), note


def _check_map_pieces(
    spec: ModelSpec, adj: Any, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray, of: str = "territory"
) -> bool:
    """Pieces of the adjacency that no plan of connected territories (``of`` "territory") or districts
    ("district") can cover (``component_conflicts``) and, for territories, reps walled in by other homes
    (``walled_in_conflicts``) end the run at once with exit 1 and the numbers, instead of a search that
    cannot succeed (QA77 F3: Nantucket and Staten Island under --district-contiguous, "proven infeasible"
    by the flow model with the bands blamed, even at +-50%). False when the walled-in check could not run
    (a given home's unit is not its own: another home is nearer that unit)."""
    from territory_planner.geo import planning

    centre, own = planning.home_units_owned(spec, lat, lon, chosen)
    conflicts = planning.component_conflicts(spec, adj, centre, chosen, of=of)
    if conflicts:
        _bands_first(spec)
        kinds = {"territory": "territories", "district": "districts"}[of]
        raise InfeasibleError(f"no plan of connected {kinds} exists: the map is in pieces", conflicts)
    if of != "territory" or not own:  # a given home moved to a runner-up unit: the walls are not its own
        return False
    conflicts = planning.walled_in_conflicts(spec, adj, centre, chosen)
    if conflicts:
        _bands_first(spec)
        raise InfeasibleError(
            f"no plan of connected territories{home_rule('territories')} exists: a rep is walled in",
            conflicts,
        )
    return True


def _bands_first(spec: ModelSpec) -> None:
    """Before a map check's proof: the model's own pre-checks, which need no map. When the bands alone
    leave no plan, that is the cause to name (QA19 F4: Mecklenburg, a rep's home county, above every
    territory's potential band, was reported as "a rep is walled in ... reaches only 89 unit(s)", 89 being
    every county but the other homes, and the user told to move a home), as ``validate`` does."""
    conflicts = prechecks.check(spec)
    if conflicts:
        raise InfeasibleError("no plan can satisfy the model (found before solving)", conflicts)


def _check_district_homes(
    spec: ModelSpec, adj: Any, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray, relax: bool = False
) -> list[str]:
    """``--district-contiguous``: a district whose reps' home units the other districts' homes cut apart
    ends the run at once with exit 1, naming the reps and the walls (``district_home_conflicts``: a
    connected district holds its reps' home units and none of another district's), instead of a search
    that cannot succeed (QA10 O10: the plan ran 60 s into exit 3). Not when a given home's unit is not
    its own (another home is nearer it), as for the territories' walls. With ``relax`` the conflicts
    are returned as notes for the least-violation plan (QA11 O2: its notes did not say why)."""
    from territory_planner.geo import planning
    from territory_planner.geo.district_homes import district_home_conflicts

    centre, own = planning.home_units_owned(spec, lat, lon, chosen)
    conflicts = district_home_conflicts(spec, adj, centre, chosen) if own else []
    shared = [] if own else _shared_home_units(spec, lat, lon, chosen)
    for note in shared:
        log.warning(note)
    if conflicts and not relax:
        raise InfeasibleError(
            "no plan of connected districts (each holding its reps' home units) exists: a district's homes "
            "are walled apart",
            conflicts,
        )
    proofs = [
        f"no plan of connected districts (each holding its reps' home units) exists (proven before solving): "
        f"{c.message}"
        for c in conflicts
    ]
    return proofs + shared


def _shared_home_units(spec: ModelSpec, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray) -> list[str]:
    """Reps of different districts whose given homes are nearest the same unit (QA11 O12: R13 of
    D-Ribeirão based on Guarulhos, R01's home of D-Guarulhos, passed `validate` in silence and the plan
    ran into exit 3): a connected district holds its reps' home units and no other district's, so one of
    them is planned from a runner-up unit and the walls are not checked."""
    from territory_planner.geo import planning

    p = spec.problem
    nearest = planning._home_distance(spec, lat, lon).argmin(axis=0)
    districts = p.districts
    out = []
    for u in np.unique(nearest[~chosen]).tolist():
        reps = np.flatnonzero((nearest == u) & ~chosen)
        if len({str(districts[j]) for j in reps.tolist()}) > 1:
            who = ", ".join(f"{p.rep_ids[j]} ({districts[j]})" for j in reps.tolist())
            out.append(
                f"the homes of {who} lie nearest one unit ({p.unit_label(u)}): a connected district holds "
                "its reps' home units and no other district's, so one of them is planned from the next "
                "nearest unit and the districts' walls are not checked; give those reps one district or "
                "move a home"
            )
    return out


def _district_home_notes(problem: TerritoryProblem, options: PlanOptions) -> list[str]:
    """Reps whose district's nearest home lies beyond the homes of two other districts (QA10 O10: R15
    moved into a district 820 km east, and validate said nothing): logged, and in the notes."""
    if not options.district_contiguous or options.design_districts:
        return []
    from territory_planner.geo.district_homes import district_home_warnings

    notes = district_home_warnings(problem)
    for note in notes:
        log.warning(note)
    return notes


def _level_shape(labels: np.ndarray, adj: Any, unit_rep: np.ndarray) -> dict[str, Any]:
    """Pieces of each district (or region: ``labels`` per rep) on the units' adjacency, for a plan that did
    not ask for connected ones: districts.csv's (regions.csv's) ``contiguous`` column then says what the
    plan is instead of staying blank."""
    from territory_planner.optimize.district_contiguity import district_pieces
    from territory_planner.optimize.hierarchy import labels_index

    of, names = labels_index(labels)
    pieces = district_pieces(adj, unit_rep, of, len(names))
    return {
        "pieces": {n: int(k) for n, k in zip(names, pieces.tolist(), strict=True)},
        "contiguous": bool((pieces <= 1).all()),
    }


@dataclass(frozen=True)
class _Split:
    """The split territories and districts of a plan, as its messages name them, with the proof (if any)
    that no connected plan exists and the level it is for."""

    groups: list[tuple[str, str, int, int]]  # (level, group, pieces, reps without their home unit)
    n_t: int  # split territories
    n_d: int  # split districts
    what: str  # "2 territories and 1 district"
    pieces_text: str  # "in several pieces" (" or without a rep's home unit")
    proof: Any  # the contiguity stages' ``infeasible``: "proven", DESIGNED_ONLY, another proof, or None
    of: str  # the level the proof is for: "territories", "districts" or "districts and territories"
    both: bool  # a district proof that holds for both levels at once

    @property
    def were(self) -> str:
        """The verb for the split groups: "was" or "were"."""
        return "was" if len(self.groups) == 1 else "were"


def _connected_or_relaxed(
    result: SolveResult,
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
    options: PlanOptions,
    n_reps: int,
    elapsed: float | None = None,
) -> SolveResult:
    """A plan whose territories (``--contiguous``) or districts (``--district-contiguous``) are still in
    several pieces when the time is up breaks a constraint the user asked for: it is no plan (exit 3,
    "not found yet", never "infeasible"), unless ``--relax`` asked for the least-violation plan, which is
    then written with status ``relaxed`` and one violation per split territory or district."""
    groups = _split_groups(contiguity, districts)
    if not groups:
        return result
    split = _split_of(groups, contiguity, districts)
    if split.proof == "proven" and not options.relax:
        raise _proven_disconnected(split, contiguity, options)
    if not options.relax:
        narrow = _proof_for_less(split, n_reps)
        if narrow is not None:
            raise narrow
        raise _not_found_yet(split, result, contiguity, districts, options, n_reps, elapsed)
    return _relaxed_in_pieces(result, split)


def _split_groups(
    contiguity: dict[str, Any] | None, districts: dict[str, Any] | None
) -> list[tuple[str, str, int, int]]:
    """Every territory and district in several pieces, or whose rep is without its home unit."""
    split: list[tuple[str, str, int, int]] = []  # (level, group, pieces, reps without their home unit)
    for level, info in (("territory", contiguity), ("district", districts)):
        if info is not None and not info.get("contiguous", True):
            # a district's rep without its home unit breaks the model's district rule too: a violation of
            # its own (QA77 F2: it was counted as a piece more, 13 pieces where the map had 9)
            away = {g: len(reps) for g, reps in (info.get("homes_elsewhere") or {}).items()}
            split += [
                (level, k, int(v), away.get(k, 0))
                for k, v in info.get("pieces", {}).items()
                if int(v) > 1 or away.get(k, 0)
            ]
    return split


def _split_of(
    groups: list[tuple[str, str, int, int]],
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
) -> _Split:
    """The split groups counted and named, and the proof of the contiguity stages with its level."""
    n_t = sum(level == "territory" for level, *_ in groups)
    n_d = len(groups) - n_t
    parts = [f"{n_t} territor{'y' if n_t == 1 else 'ies'}"] * bool(n_t)
    parts += [f"{n_d} district{'' if n_d == 1 else 's'}"] * bool(n_d)
    what = " and ".join(parts)
    # a district in one piece whose rep gave its home unit away is not "in several pieces" (QA77 F2)
    pieces_text = "in several pieces" + (
        " or without a rep's home unit" if any(k <= 1 for level, _, k, _ in groups) else ""
    )
    proof = (contiguity or {}).get("infeasible") or (districts or {}).get("infeasible")
    of = "territories" if (contiguity or {}).get("infeasible") else "districts"
    # with --contiguous the district stage's model keeps the territories connected too: its proof is
    # for both levels at once (each alone may have a plan, as in the brute-force test's example)
    both = of == "districts" and (districts or {}).get("proven_for") == "districts and territories"
    if both:
        of = "districts and territories"
    return _Split(groups, n_t, n_d, what, pieces_text, proof, of, both)


def _proven_disconnected(
    split: _Split, contiguity: dict[str, Any] | None, options: PlanOptions
) -> InfeasibleError:
    """HiGHS proved that no connected plan meets the bands: the error names the shape asked for, the rows
    besides the bands the proof rests on, and the options that loosen them."""
    of = split.of
    territory_shape = "every territory is one piece holding the unit at its rep's home"
    district_shape = "every district's territories together form one piece holding its reps' home units"
    shape = (
        territory_shape
        if of == "territories"
        else f"{district_shape} and {territory_shape}"
        if split.both
        else district_shape
    )
    # --district-tolerance only where district bands are in the model (QA11 O13)
    banded = bool(options.district_tolerance or options.design_districts)
    widen = "--tolerance or --district-tolerance" if of != "territories" and banded else "--tolerance"
    rows = _other_rows(options)
    # the proof checked again without those rows (territories only): True, none plays a part (QA30 F8)
    without = (contiguity or {}).get("infeasible_without_other_rows") if of == "territories" else None
    texts = [text for _, text, _ in rows]
    others = listed(texts, "or") if texts else ""
    after = ""
    if without is True:
        after = f" with {others} and without: {'they play' if len(rows) > 1 else 'it plays'} no part"
        rows = []
    elif without is False:
        after = f"; without {others} a connected plan exists"
    asks = ["every band", *(text for _, text, _ in rows)]
    meets = listed(asks)
    levers = [flag for _, _, flag in rows if flag not in widen]
    if levers:
        widen = f"{widen}, {listed(levers, 'or')}"
    part = "part of the model HiGHS proved infeasible with contiguity" + (
        "; without them a connected plan exists"
        if without is False
        # a district proof is not checked again without the other rows: they may play no part (QA64
        # F5: the district bands named and --district-tolerance advised where the proof holds without)
        else " (whether the model is infeasible without them was not checked)"
        if of != "territories"
        else " (whether the model is infeasible without them was not settled in the time)"
    )
    held = home_rule(of)
    return InfeasibleError(
        f"no plan of connected {of}{held} exists",
        [
            Conflict(
                "contiguity",
                f"no plan in which {shape} meets {meets}: HiGHS proved the exact model (the plan's "
                "rows with flow rows for connectivity, or with separator cuts that every connected plan "
                f"meets) infeasible{after}. {'Loosen' if levers else 'Widen'} "
                f"{widen}, move a rep's home, or --relax to write the best plan with the split {of} "
                "marked",
            ),
            *_least_rows((contiguity or {}).get("least_violation") if of == "territories" else None),
            *(Conflict(family, f"{text}: {part}") for family, text, _ in rows),
        ],
    )


def _proof_for_less(split: _Split, n_reps: int) -> SolverError | None:
    """No connected plan, without --relax, and a proof that holds for less than the user's model: for the
    designed districts only, or for the centres used only. None: no proof at all."""
    of, what, pieces_text, were = split.of, split.what, split.pieces_text, split.were
    if split.proof == DESIGNED_ONLY:
        return SolverError(
            f"no connected plan within the designed districts: HiGHS proved that no plan of connected "
            f"{of}{home_rule(of)} meets the bands with the grouping --design-districts chose; {what} of "
            "the best plan "
            f"{were} {pieces_text}. This is no proof for other groupings: try another number of "
            "districts, a wider --tolerance or --district-tolerance, or --relax to write that plan with "
            f"the split {of} marked"
        )
    if split.proof:  # proven for the centres used: more time gives the same centres and the same proof
        return SolverError(
            f"no connected plan for the centres used: HiGHS proved that no plan of connected {of} "
            f"around them meets the bands ({what} of the best plan {were} {pieces_text}, {n_reps} "
            "territories in all). The planner chose those centres (--choose-centres, reps without a "
            "home, two homes nearest one unit, or a home whose unit the rep may not serve: locked to "
            "another rep or of a segment it does not serve), so this is no proof for every choice of "
            "centres; more "
            "time helps only through other centres. Give the reps home bases (lat, lon in the reps "
            "table), widen --tolerance, or --relax to write that plan with the split territories "
            "marked"
        )
    return None


def _not_found_yet(
    split: _Split,
    result: SolveResult,
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
    options: PlanOptions,
    n_reps: int,
    elapsed: float | None,
) -> SolverError:
    """The stages ended without a connected plan or a proof: no proof that none exists; the error says
    when they ended, what is split out of how many, which stages used the time, and what to try."""
    n_t, n_d, what, pieces_text, were = split.n_t, split.n_d, split.what, split.pieces_text, split.were
    limit = options.time_limit or 120.0
    # the stages may also end early without a plan or a proof (QA9 O6: at 1.8 s of 5)
    # the command's seconds so far (``elapsed``): the result's are the pipeline's, before the
    # contiguity stages (QA10: "when the search ended" at 179.7 s of 180)
    spent = max(result.seconds, elapsed or 0.0)
    when = "when the time ran out" if spent >= 0.8 * limit else "when the search ended"
    # name what is split, out of how many (QA10: 4 split districts read "(16 territories in all)",
    # "the split territories marked")
    n_groups = len((districts or {}).get("pieces", {}))
    among = [f"{n_reps} territories"] * bool(n_t) + [f"{n_groups} districts"] * bool(n_d)
    kinds = " and ".join(["territories"] * bool(n_t) + ["districts"] * bool(n_d))
    # the flip search's connected plan out of some bands, the other plan --relax may write (QA25: its
    # progress line named "8 territories out of band", the error "10 ... in several pieces" alone)
    near = (contiguity or {}).get("near_out_of_band") if districts is None else None
    near_text = (
        f"; the best connected plan found leaves {near} territor{'y' if near == 1 else 'ies'} out of "
        + ("its band" if near == 1 else "their bands")
        if near
        else ""
    )
    relax_text = (
        ", or --relax to write whichever of the two breaks less, marked"
        if near
        else f", or --relax to write that plan with the split {kinds} marked"
    )
    # which stages used the time (QA72 F6: the message suggested a limit and named none of them)
    took = [(float(str(e.get("seconds") or 0.0)), str(e.get("stage"))) for e in result.stage_log]
    stages = ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(took, reverse=True)[:3])
    return SolverError(
        f"no connected plan found yet{f' (of {spent:.0f}s: {stages})' if stages else ''}: {when}, {what} "
        f"of the best plan within the bands {were} still "
        f"{pieces_text} (of {' and '.join(among)}){near_text}. This is not a proof that no "
        f"connected plan exists: try --time-limit {int(2 * limit)}, a wider --tolerance"
        + (" or --district-tolerance" if n_d else "")
        + relax_text
    )


def _relaxed_in_pieces(result: SolveResult, split: _Split) -> SolveResult:
    """--relax: the plan written as it is, status ``relaxed``, with one violation per split territory or
    district (pieces beyond the first, reps without their home unit) and the notes that say so."""
    violations = tuple(
        pipeline._violation(f"{level}_contiguity", key, "pieces", float(k - 1))
        for level, key, k, _ in split.groups
        if k > 1
    ) + tuple(
        pipeline._violation(f"{level}_contiguity", key, "reps without their home unit", float(n))
        for level, key, _, n in split.groups
        if n
    )
    # a stage's own count of split territories or districts, made before a later stage changed the plan,
    # gives way to the final one (QA26 F8: "contiguity not reached for 8 territories" where 10 were split)
    stale = ("contiguity not reached for ", "district contiguity not reached for ")
    notes = (
        *(n for n in result.notes if not n.startswith(stale)),
        f"relaxed: {split.what} {split.pieces_text} (see violations)",
    )
    if split.proof:  # the level the proof is for (QA11 O2: "territories" after a proof for districts)
        notes += (f"contiguity: no plan of connected {split.of} meets the bands ({split.proof})",)
    return result.relaxed(  # a plan in pieces has no gap (QA26 F8: 11.49% after --design-districts)
        # a proof for the user's model came first (QA12 N3: false after a district-level proof)
        proven_infeasible=result.proven_infeasible or split.proof == "proven",
        violations=(*result.violations, *violations),
        notes=notes,
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
    from territory_planner.geo import planning

    p = spec.problem
    centre, _ = planning.home_units_owned(spec, lat, lon)
    pieces = planning._home_pieces(adj, unit_rep2, centre, p.n_reps)
    n_before = sum(int(v) > 1 for v in info.get("pieces", {}).values())
    info = planning.with_pieces(info, p, pieces)
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


def _other_rows(options: PlanOptions) -> list[tuple[str, str, str]]:
    """The rows of the model besides the rep bands that a proof over the whole model also rests on:
    (conflict family, what they ask, the option that loosens them). QA9 F3: with --max-moved-share 0.25
    the flow model's proof said only "meets every band ... widen --tolerance", where the budget was the
    row to loosen."""
    out: list[tuple[str, str, str]] = []
    if options.max_moved_share is not None:
        share = f"{options.max_moved_share:g}"
        out.append(("disruption_budget", f"the disruption budget ({share})", "--max-moved-share"))
    if options.max_moved_share_per_rep is not None:
        share = f"{options.max_moved_share_per_rep:g}"
        out.append(("disruption_budget", f"the per-rep budget ({share})", "--max-moved-share-per-rep"))
    if options.min_accounts is not None:
        out.append(("min_accounts", f"at least {options.min_accounts} accounts per rep", "--min-accounts"))
    if options.max_accounts is not None:
        out.append(("max_accounts", f"at most {options.max_accounts} accounts per rep", "--max-accounts"))
    for level in options.group_tolerance():
        out.append((level, f"the {level} bands", f"--{level}-tolerance"))
    return out


def _base_share(options: PlanOptions, nested: bool, adj: Any, n_reps: int, backend: Any) -> str:
    """The share of the plan before the contiguity stages: smaller on a map whose exact flow model runs
    beside those stages (``contiguous_flow.fits_beside``), which settles contiguity itself."""
    if nested:
        return "nested_base"
    if options.contiguous and adj is not None:
        from territory_planner.optimize import contiguous_flow

        if contiguous_flow.fits_beside(adj, n_reps, backend):
            return "base_plan_exact"
    return "base_plan"


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


def _least_rows(least: Mapping[str, Any] | None) -> list[Conflict]:
    """A contiguity proof's numbers: the bands the connected plan of least violation breaks, each with its
    rep, measure and amount (``planning._least_after_proof``; QA66 F5: London's boroughs, exit 1 naming no
    rep, measure or amount)."""
    if not least:
        return []
    how = "proven least" if least["proven"] else "the least found in the time, not proven least"
    out = []
    for v in least["violations"]:
        rep, measure, by = str(v["rep_id"]), str(v["measure"]), float(v["violation"])
        side = "below" if v["constraint"] == "balance_min" else "above"
        out.append(
            Conflict(
                "balance",
                f"the connected plan that breaks the bands least ({how}) leaves {rep}'s {measure} "
                f"{prechecks.amount(by, measure)} {side} its band",
                rep_id=rep,
                measure=measure,
                amount=by,
            )
        )
    return out


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


def plan(
    options: PlanOptions,
    out: Path,
    *,
    force: bool = False,
    progress: Progress = lambda _m: None,
    extra: dict[str, Any] | None = None,
    warm_start: Mapping[str, str] | None = None,
    begun: float | None = None,
    name: str | None = None,
) -> PlanOutput:
    """Solve and write the plan folder atomically (never overwriting a plan without ``force``);
    ``options.xlsx`` adds the plan as a workbook, ``plan.xlsx``; ``warm_start`` as for ``solve``.
    ``begun``: the ``perf_counter`` at which the command began (the CLI's start, its imports included),
    from which ``--time-limit`` counts; by default, now. ``name``: the plan's name when ``out`` is not
    its final folder (``edit --rebalance`` solves into a working folder)."""
    from territory_planner.io.writers import check_replace, refuse_replacing_inputs

    begin = time.perf_counter() if begun is None else begun  # --time-limit covers the whole command
    inputs = (*_input_paths(options), *((extra or {}).get(k) for k in ("scenario", "from_manifest")))
    refuse_replacing_inputs(Path(out), inputs)
    check_replace(Path(out), force, "the previous plan is kept", "plan")
    import datetime as dt

    from territory_planner.manifest import build_manifest, write_manifest

    started = dt.datetime.now(dt.UTC)
    output = solve(options, progress, started=begin, warm_start=warm_start)
    # which plan this is, for the pages forwarded to leadership (QA27 F27: neither page named it)
    scenario = (extra or {}).get("scenario")
    origin = (extra or {}).get("rebalanced_from")
    output.summary["plan"] = {
        "name": name or Path(out).resolve().name,
        "scenario": str(scenario) if scenario else None,
        # QA29 F9: a rebalanced plan was named "plan" (its working folder) and not said to come from one
        **({"rebalanced_from": Path(str(origin["plan"])).name} if isinstance(origin, dict) else {}),
    }
    # the inputs were checked before the solve
    with staged_output_dir(Path(out), force=force, kind="plan") as stage:
        write_plan(output, stage, options, extra)
        write_manifest(stage, build_manifest(options, output.summary, stage, started=started, context=extra))
        if options.xlsx and WORKBOOK_LEFT_OUT not in output.summary.get("notes", []):
            from territory_planner.export.api import write_plan_workbook

            write_plan_workbook(stage, Path(out))
    output.out = Path(out)
    return output
