"""Loading and checking a plan's inputs: the tables read into a ``TerritoryProblem`` (with areas,
repaired polygons and --keep-home's locks), the options' needs checked against them, the ``ModelSpec``
built from it, the CRM history checked before any solve, and ``validate`` (the pre-solve proofs, the
map's checks with contiguity). ``_in_currency`` runs an entry point with money in the run's currency.

Split from ``api`` (the style guide's ~400-line limit); ``api`` re-exports its entry points.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from territory_planner.currency import currency_context, currency_prefix
from territory_planner.errors import Conflict, InfeasibleError, InputError, Problem
from territory_planner.geo.repair import repair_notes
from territory_planner.io.load import LoadedInputs, RosterEdits, load_inputs
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import prechecks, unit_fit
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import PlanOptions
from territory_planner.plan_map import (
    _adjacency,
    _check_district_homes,
    _check_map_pieces,
    _district_home_notes,
)
from territory_planner.solvers import get_backend

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
P = ParamSpec("P")
R = TypeVar("R")


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
        apart = [*joined.notes, *planning.families_apart(accounts, joined)]
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
            err = proofs.budget_error(
                spec, least[0], backend, deadline=deadline, seed=options.seed, threads=threads
            )
            raise proofs.connected_caveat(err, options.contiguous, options.district_contiguous)
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
