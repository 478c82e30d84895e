"""Library entry points shared by the CLI, notebooks and tests.

``solve`` runs a plan's stages and ``plan`` writes its folder; the stages live in modules of their own,
in the order they run: ``plan_inputs`` (load, validate, the model), ``plan_map`` (the map and its
checks), ``plan_run`` (the run's start: time budget, centres, model), ``plan_first`` (the plan before
contiguity), ``plan_contiguity`` (the contiguity stages), ``plan_endings`` (a plan still in pieces: proof,
exit 3 or relaxed) and ``plan_output`` (the tables and the folder). This module re-exports the names
other modules and the tests use from it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from territory_planner.errors import InfeasibleError
from territory_planner.interrupt import stoppable
from territory_planner.io.writers import staged_output_dir
from territory_planner.optimize.proofs import connected_caveat
from territory_planner.options import PlanOptions, checked
from territory_planner.plan_contiguity import _connected_plan
from territory_planner.plan_first import _first_plan
from territory_planner.plan_inputs import Progress, _in_currency
from territory_planner.plan_output import PlanOutput, _input_paths, _plan_output, write_plan
from territory_planner.plan_run import WORKBOOK_LEFT_OUT, _build_model, _Design, _place_centres, _start_run

# isort: split
# re-exported: the names other modules and the tests use from here, defined here before the split
from territory_planner.optimize.budget import WORKBOOK_SECONDS_PER_ACCOUNT as WORKBOOK_SECONDS_PER_ACCOUNT
from territory_planner.plan_contiguity import _bound_for_any_grouping as _bound_for_any_grouping
from territory_planner.plan_contiguity import _designed_connected as _designed_connected
from territory_planner.plan_contiguity import _within_bands as _within_bands
from territory_planner.plan_endings import DESIGNED_ONLY as DESIGNED_ONLY
from territory_planner.plan_endings import _connected_or_relaxed as _connected_or_relaxed
from territory_planner.plan_first import _base_plan as _base_plan
from territory_planner.plan_first import _connectors as _connectors
from territory_planner.plan_inputs import _load as _load
from territory_planner.plan_inputs import build_spec as build_spec
from territory_planner.plan_inputs import check_crm as check_crm
from territory_planner.plan_inputs import load as load
from territory_planner.plan_inputs import load_with_areas as load_with_areas
from territory_planner.plan_inputs import validate as validate
from territory_planner.plan_map import _adjacency as _adjacency
from territory_planner.plan_output import account_edges as account_edges
from territory_planner.plan_run import FORECAST_LEFT_OUT as FORECAST_LEFT_OUT
from territory_planner.plan_run import _preload_outputs as _preload_outputs  # benchmarks/bench_real.py


@stoppable
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
    options = checked(options)  # a PlanOptions built by hand is checked as a scenario is (QA90 F4)
    run = _start_run(options, progress, time.perf_counter() if started is None else started)
    _place_centres(run)
    base_budget, base_share, district_notes = _build_model(run)
    design = _Design()
    try:
        unit_rep, result = _first_plan(run, base_budget, base_share, design, warm_start)
    except InfeasibleError as err:
        told = connected_caveat(err, options.contiguous, options.district_contiguous)
        if told is err:
            raise
        raise told from None
    _preload_outputs(options)  # loaded already when the first plan's solve started the whole model beside
    unit_rep, result, contiguity_info, district_info = _connected_plan(run, unit_rep, result, design)
    return _plan_output(run, unit_rep, result, contiguity_info, district_info, design, district_notes)


@stoppable
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
    # checked here, not only in ``solve``: the folder is written from these options too (summary.json's
    # config, the manifest), and a hand-built ``tolerance=0.05`` solved, then failed to be written
    options = checked(options)
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
