"""The ``territory-planner`` command line: parse options, call ``api``, print. Nothing else lives here.

Exit codes: 0 success, 1 bad input or infeasible, 2 usage error, 3 solver failure / no plan in time.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shlex
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from territory_planner import __version__
from territory_planner.cli_support import (
    FINITE,
    MAX_ROWS_SHOWN,
    FiniteFloatRange,
    check_errors_file,
    check_out,
    currency_option,
    handle_errors,
    live_console,
    out_folder_option,
    stderr_console,
)
from territory_planner.currency import currency_context, is_money
from territory_planner.errors import COMMAND_LINE, InputError, Problem
from territory_planner.io.scenario import load_scenario
from territory_planner.io.scenario_lines import ADDED_REPS, locate, locate_added
from territory_planner.optimize.sizes import SMALL_PAIRS
from territory_planner.options import (
    BAND_OPTIONS,
    PATH_OPTIONS,
    PlanOptions,
    build_options,
    flag_name,
    names_measures,
    parse_tolerance,
)
from territory_planner.report.formatting import (
    bound_qualifier,
    budgeted_share,
    count_or_mean,
    counted,
    home_rule,
    money,
    unaligned,
)
from territory_planner.streams import guard_console_streams

IMPORTED = time.perf_counter()  # the console script's start, near enough (the interpreter's own is ~50 ms)
COMMAND_BEGUN: float | None = None  # set by ``run``: --time-limit then counts the solver's imports too
_RUNS = 0  # commands ``run`` has started in this process


def sample_dir() -> Path:
    """The demo's data: a checkout's ``sample_data/`` (an editable install), else the copy a plain
    ``pip install .`` ships inside the package (QA29 F1: the demo failed there, "run the demo from a
    checkout", from within the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sample_data", here / "sample_data"):
        if (candidate / "scenarios" / "base.toml").is_file():
            return candidate
    return here.parent / "sample_data"


def hierarchy_options() -> list[Callable[..., Any]]:
    """Districts and regions (reps.csv ``district``, ``region``), shared by ``plan`` and ``validate``."""
    return [
        click.option(
            "--district-tolerance",
            help="Each district's totals within (1 +- T) x its reps' targets: 0.04 or potential=0.04,...",
        ),
        click.option("--region-tolerance", help="Likewise for each region."),
        click.option(
            "--district-contiguous",
            is_flag=True,
            default=None,
            help="Each district's territories together form one connected piece (needs polygons/adjacency).",
        ),
        click.option(
            "--design-districts",
            type=int,
            help="Group the reps into N districts (ignores reps.csv district; potential +-10% by default).",
        ),
    ]


def model_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``plan`` and ``validate``."""
    decorators = [
        click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path)),
        click.option(
            "--accounts",
            type=click.Path(path_type=Path),
            help="Accounts table (CSV or tab-separated .tsv/.tab/.txt, XLSX, Parquet, GeoJSON, GPKG).",
        ),
        click.option("--reps", type=click.Path(path_type=Path), help="Reps table."),
        click.option(
            "--locks",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Locks table (account_id, rep_id) laid over the accounts' locked_rep.",
        ),
        click.option(
            "--areas",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Area polygons (GeoJSON/GPKG/Shapefile, area_id column): point accounts are planned by "
            "area.",
        ),
        click.option("--balance", help="Comma-separated measures to balance [default: potential,workload]."),
        click.option(
            "--tolerance", help="0.05, or per measure: potential=0.05,workload=0.1 [default: 0.05]."
        ),
        click.option(
            "--max-moved-share",
            type=FINITE,
            help="At most this share of potential changes rep (0..1); the accounts of a rep no longer in "
            "the roster must move and do not count.",
        ),
        click.option(
            "--max-moved-share-per-rep",
            type=FINITE,
            help="Each rep loses at most this share of what it holds.",
        ),
        click.option(
            "--disruption-weight",
            type=FINITE,
            help="Penalty on moved potential; 1 prices moving 1% of potential like 1% of today's travel.",
        ),
        click.option("--min-accounts", type=int, help="Minimum accounts per rep."),
        click.option("--max-accounts", type=int, help="Maximum accounts per rep."),
        click.option(
            "--keep-home",
            type=FiniteFloatRange(min=0),
            metavar="KM",
            help="Accounts within KM km of a rep's home stay with a rep based there (one rep: a lock; "
            "reps sharing an office: one of them). A locked_rep of the user's wins.",
        ),
        click.option(
            "--contiguous",
            is_flag=True,
            default=None,
            help="Make every territory one connected piece of the map.",
        ),
        click.option(
            "--adjacency",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Edge list CSV or XLSX (u,v account ids) for --contiguous [default: from the account "
            "polygons].",
        ),
        click.option(
            "--rook",
            is_flag=True,
            default=None,
            help="Rook adjacency (shared edge), not queen (shared point).",
        ),
        click.option(
            "--bridge-islands",
            is_flag=True,
            default=None,
            help="Join islands to their nearest neighbour for --contiguous.",
        ),
        *hierarchy_options(),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def _given(flags: dict[str, Any]) -> frozenset[str]:
    """The options given on the command line (their problems name it, not the scenario file)."""
    return frozenset(k for k, v in flags.items() if v is not None and v is not False)


def _collect(
    scenario: Path | None,
    flags: dict[str, Any],
    base: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
) -> dict[str, Any]:
    """The scenario's (or ``base``'s) values with the flags given on top. A tolerance flag that names its
    measures overrides those measures only (QA6: `--tolerance potential=0.05` on a scenario with workload
    0.15 planned workload at the default 0.05). With ``problems``, the scenario's bad keys go there."""
    values: dict[str, Any] = (
        dict(base) if base is not None else load_scenario(scenario, problems) if scenario else {}
    )
    for key, value in flags.items():
        if value is None or value is False:
            continue
        if key in BAND_OPTIONS and values.get(key) not in (None, "", {}) and names_measures(value):
            source = str(scenario or COMMAND_LINE)
            value = {
                **parse_tolerance(values[key], source, key),
                **parse_tolerance(value, COMMAND_LINE, flag_name(key)),
            }
        values[key] = value
    return values


def _options(scenario: Path | None, flags: dict[str, Any]) -> PlanOptions:
    """The options of a scenario file and flags, every problem of both reported at once (QA13 7: the
    scenario's unknown keys first, its bad values in a second run, a tolerance for a measure not
    balanced in a third), a scenario's with the file of its chain and the line that writes the key."""
    problems: list[Problem] = []
    values = _collect(scenario, flags, problems=problems)
    try:
        options = build_options(
            values, source=str(scenario or COMMAND_LINE), flags=_given(flags), drop_unbalanced=True
        )
    except InputError as exc:
        problems.extend(_flag_measures(exc.problems, flags))
    if scenario and not problems:
        edits = _roster_edit_problems(scenario, options)
        if edits:
            problems += edits + _inputs_beside(options, edits)
    elif scenario:
        problems += _tables_beside(scenario, values, problems)
    if problems:
        raise InputError(locate(scenario, locate_added(scenario, problems)) if scenario else problems)
    return options


def _flag_measures(problems: list[Problem], flags: dict[str, Any]) -> list[Problem]:
    """A tolerance flag naming a measure that is not balanced is merged into the scenario's table, whose
    problem then named the scenario file's line (QA44 F8: `--tolerance potential=0.05,revenue=0.1` blamed
    on base.toml line 10, exit 1): a measure the flag names is the command line's (a usage error)."""
    out = []
    for p in problems:
        value = flags.get(str(p.column)) if p.column in BAND_OPTIONS else None
        if value is not None and names_measures(value) and "not a balance measure" in p.message:
            named = parse_tolerance(value, COMMAND_LINE, flag_name(str(p.column)))
            if p.value in named:
                p = dataclasses.replace(p, file=COMMAND_LINE, row=None, column=flag_name(str(p.column)))
        out.append(p)
    return out


def _roster_edit_problems(scenario: Path, options: PlanOptions) -> list[Problem]:
    """The scenario's ``[reps] remove`` entries that its reps table does not have (QA27 F9: blamed on
    reps.csv, with no line and no hint), and ``[[reps.add]]`` entries whose rep is already in it, or is
    removed and added again (QA27 F26: reported without the scenario's file or line, and the re-added rep
    accepted without a word on whether its accounts then count as a departed rep's), each blamed on the
    scenario's line. A reps table that cannot be read is left to the loader, which reports it."""
    if not (options.reps_remove or options.reps_add) or options.reps is None:
        return []
    from territory_planner.io.load import unknown_removals
    from territory_planner.io.readers import read_table

    try:
        frame = read_table(Path(options.reps), "reps").frame
    except (InputError, OSError):
        return []
    if "rep_id" not in frame.columns:
        return []
    ids = [str(r).strip() for r in frame["rep_id"]]
    out = [
        Problem(str(scenario), None, "reps_remove", m, r)
        for r, m in unknown_removals(ids, options.reps_remove)
    ]
    removed = set(options.reps_remove)
    for k, row in enumerate(options.reps_add, start=1):
        rep = str({str(key).lower(): v for key, v in row.items()}.get("rep_id", "")).strip()
        if rep in removed:
            message = (
                f"reps.add[{k}] adds {rep!r}, which reps.remove removes: a removed rep's accounts count as a "
                "departed rep's, an added one's as staying; to move a rep's home, change its row in "
                f"{Path(options.reps).name}, or add the new rep under another id"
            )
        elif rep in ids:
            message = (
                f"reps.add[{k}] adds {rep!r}, which {Path(options.reps).name} already has (row "
                f"{ids.index(rep) + 1}): give the new rep another id, or remove the old one"
            )
        else:
            continue
        out.append(Problem(ADDED_REPS, None, f"reps.add[{k}].rep_id", message, rep))
    return out


# the options that reading the tables takes (``plan_inputs._load``)
_TABLE_KEYS = frozenset(
    {"accounts", "reps", "balance", "locks", "reps_add", "reps_remove", "design_districts",
     "district_tolerance", "district_contiguous", "region_tolerance"}
)  # fmt: skip


def _tables_beside(scenario: Path, values: dict[str, Any], said: list[Problem]) -> list[Problem]:
    """A scenario with bad keys: the tables' problems and its roster edits' too, read with the keys that
    read them when those are good, so that one run says them all (QA113 F1: a misspelt key hid 21
    problems in the accounts table, and four bad keys an unknown ``[reps] remove`` entry)."""
    bad = {str(p.column) for p in said}
    keep = {k: v for k, v in values.items() if k in _TABLE_KEYS and k not in bad}
    if not all(k in keep and Path(str(keep[k])).exists() for k in ("accounts", "reps")):
        return []  # a table not found is said once the keys are fixed, as before
    try:
        options = build_options(keep, source=str(scenario), flags=frozenset(), drop_unbalanced=True)
    except InputError:  # those keys' own problems are said already
        return []
    edits = _roster_edit_problems(scenario, options)
    return edits + _inputs_beside(options, edits)


def _inputs_beside(options: PlanOptions, said: list[Problem]) -> list[Problem]:
    """The inputs' problems beside the roster edits' own, so that one run says them all (an added rep
    already on the roster hid the other ``[[reps.add]]`` entries' problems, a latitude of 140, until it
    was renamed); what ``said`` names is not reported again (an added rep as a duplicate id, an unknown
    removal as the reps table's)."""
    from territory_planner import api

    try:
        api.load(options)
    except InputError as exc:
        named = {str(p.column) for p in said}
        messages = {p.message for p in said}  # an unknown removal, said by both in the same words
        return [
            p
            for p in exc.problems
            if not (p.file == ADDED_REPS and str(p.column) in named) and p.message not in messages
        ]
    except Exception:  # noqa: BLE001 - the roster edits' problems stand; the rest is said once they are fixed
        return []
    return []


def run() -> None:
    """The console script: the CLI, then its exit code. When HiGHS still runs in a thread (a member
    cancelled at the deadline, still in its presolve), the process ends at once with ``os._exit`` after
    flushing: leaving the interpreter with it running aborts the process (SIGABRT, exit 134) after the
    plan was written."""
    global COMMAND_BEGUN, _RUNS
    from territory_planner.utf8_mode import rerun_in_utf8_mode

    rerun_in_utf8_mode()  # `--out plän` where Python read the command line as ASCII (LC_ALL=C, PYTHONUTF8=0)
    # the process's first command counts from its start-up; a later one in the same process (a test)
    # from its own; a caller of the click group (CliRunner, a library) from the command itself
    COMMAND_BEGUN = IMPORTED if _RUNS == 0 else time.perf_counter()
    _RUNS += 1
    code = 0
    guard_console_streams()  # `plan ... | head -2`: the run keeps its own end and exit code
    if threading.current_thread() is threading.main_thread():
        from territory_planner.interrupt import on_sigint

        signal.signal(signal.SIGINT, on_sigint)
        signal.signal(signal.SIGTERM, on_sigint)
    try:
        main.main(standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:  # outside a command's own handling (which says "Interrupted")
        from territory_planner.interrupt import stopped_by

        what, code = stopped_by()
        # said here too (QA60: a SIGTERM after `forecast` wrote its folder ended it with 143 and no word)
        print(
            f"{what}: the command was stopped; an output folder is only ever moved into place whole",
            file=sys.stderr,
        )
    except BaseException:  # noqa: BLE001 - shown as Python would, then the same safe exit
        traceback.print_exc()
        code = 1
    COMMAND_BEGUN = None  # no later command in this process counts from this one's start
    if (threading.active_count() > 1 and _solver_running()) or _stopped_in_a_solve():
        cbc = sys.modules.get("territory_planner.solvers.cbc")
        if cbc is not None:  # os._exit runs no atexit: its model files go now
            cbc.remove_files()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _solver_running() -> bool:
    from territory_planner.optimize import background

    return background.solver_running()


def _stopped_in_a_solve() -> bool:
    """A signal stopped a command that had loaded HiGHS, and no worker process of a sweep is left to
    wait for. Leaving the interpreter then aborted the process in 2 of 10 SIGTERMs just after the
    balancing search's plan (QA84 F7: "terminate called without an active exception", exit 134 where
    143 is due: HiGHS's own threads at the interpreter's teardown), so it ends with ``os._exit``."""
    from territory_planner.interrupt import RECEIVED

    if not RECEIVED or "highspy" not in sys.modules:
        return False
    import multiprocessing

    return not multiprocessing.active_children()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="territory-planner")
def main() -> None:
    """Design balanced, compact, stable sales territories with an integer program.

    \b
    Quick start:
      territory-planner demo --out demo_plan
      territory-planner plan sample_data/scenarios/base.toml --out plans/base
    """


@main.command()
@model_options
@out_folder_option("Plan folder to write.")
@click.option("--solver", type=click.Choice(["highs", "cbc"]), help="Solver back-end [default: highs].")
@click.option(
    "--time-limit", type=FINITE, help="Seconds; the best plan found so far is returned [default: 120]."
)
@click.option(
    "--gap",
    type=FINITE,
    help=f"Stop once the proven gap is at most this [default: 0.001]. A model of at most {SMALL_PAIRS:,} "
    "allowed (unit, rep) pairs is not stopped at this gap: it goes on toward a proven optimum (gap 0.01%) "
    "until --time-limit, which is often reached first on hard models (the gap is then reported). A gap "
    "of at most 0.01% counts as optimal (HiGHS's own tolerance), with --gap 0 too.",
)
@click.option(
    "--seed",
    type=int,
    help="Random seed. The search and HiGHS run side by side against the clock, so the same inputs, "
    "options and seed may give another plan: a run that ends by a proof gives a plan optimal within its "
    "gap (or the same proof of infeasibility), not always the same one; a run stopped by the clock, "
    "another equally valid plan.",
)
@click.option("--candidates", type=int, help="Nearest reps per account to start from [default: 8].")
@click.option("--threads", type=int, help="Solver threads [default: 1].")
@click.option(
    "--choose-centres", is_flag=True, default=None, help="Let the planner choose every rep's centre."
)
@click.option(
    "--relax", is_flag=True, default=None, help="If infeasible, write the least-violation plan, marked."
)
@click.option("--offline", is_flag=True, default=None, help="Self-contained map.html (no CDN, no tiles).")
@click.option(
    "--crm", type=click.Path(file_okay=False, path_type=Path), help="CRM history folder for the KPI report."
)
@click.option("--period", help="KPI period: 2026Q2, 2026-07, 2026 or START:END.")
@click.option("--company-target", type=FINITE, help="Company quota target to split into suggested quotas.")
@click.option("--forecast-horizon", help="With --crm: forecast this period (2026Q3, ...) in report.html.")
@click.option(
    "--quota-method",
    type=click.Choice(["potential", "forecast"]),
    help="Suggested quotas by potential [default] or by potential blended with each territory's forecast for "
    "the 12 months from the horizon's start (see --quota-history-weight).",
)
@click.option(
    "--quota-history-weight",
    type=FiniteFloatRange(0, 1),
    help="Weight w of the history (inherited won revenue, or the forecast with --quota-method forecast) in "
    "the quota shares, against potential; forecast shares stay within 1/1.5 to 1.5 x the potential share "
    "[default: 0, or 0.5 with --quota-method forecast].",
)
@click.option("--force", is_flag=True, help="Replace an existing plan folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.option(
    "--xlsx",
    is_flag=True,
    default=None,
    help="Also write the plan as an Excel workbook, OUT/plan.xlsx (scenario key: xlsx = true).",
)
@currency_option("$")
@click.option(
    "--from-manifest",
    type=click.Path(exists=True, path_type=Path),
    help="Re-run the plan recorded in PLAN_DIR/manifest.json (flags still override).",
)
@handle_errors("out")
def plan(
    scenario: Path | None,
    out: Path,
    force: bool,
    quiet: bool,
    from_manifest: Path | None = None,
    **flags: Any,
) -> None:
    """Solve a territory plan and write it to OUT.

    \b
    Examples:
      territory-planner plan sample_data/scenarios/base.toml --out plans/base
      territory-planner plan --accounts accounts.csv --reps reps.csv --tolerance 0.03 \\
          --max-moved-share 0.1 --out plans/tight --time-limit 60
    """
    extra: dict[str, Any] = {}
    if from_manifest is not None:
        if scenario is not None:
            raise click.UsageError("give either a SCENARIO or --from-manifest, not both")
        from territory_planner.manifest import load_manifest, manifest_path, recorded_scenario

        values, warnings = load_manifest(from_manifest)
        # the rerun is made from the same scenario: record it (compare reads it) and the manifest it came by
        extra["scenario"] = recorded_scenario(from_manifest)
        extra["from_manifest"] = str(manifest_path(from_manifest).resolve())
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        options = build_options(_collect(None, flags, values), source=str(from_manifest))
    else:
        options = _options(scenario, flags)
    from territory_planner import api  # the solver's stack loads for a plan, not for --help

    console = stderr_console()
    # the progress lines count from where --time-limit counts (the command's start-up, imports included),
    # so that their seconds and the summary's agree (they were 1.7 s apart: the solver's imports)
    started = COMMAND_BEGUN if COMMAND_BEGUN is not None else time.perf_counter()
    command = "territory-planner " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    extra["command_line"] = command
    if scenario is not None:
        extra["scenario"] = str(Path(scenario).resolve())
    if quiet:
        output = api.plan(options, out, force=force, extra=extra, begun=COMMAND_BEGUN)
    elif not live_console(console):  # a log, a pipe, TERM=dumb: no spinner shows there, so lines instead
        output = api.plan(
            options, out, force=force, progress=_log_lines(console, started), extra=extra, begun=COMMAND_BEGUN
        )
    else:
        with console.status("loading inputs", spinner="dots") as status:

            def progress(message: str) -> None:
                status.update(f"[{time.perf_counter() - started:5.1f}s] {message}")

            output = api.plan(options, out, force=force, progress=progress, extra=extra, begun=COMMAND_BEGUN)
    s = output.summary
    click.echo(
        f"{s['status']}: {counted(s['accounts'], 'account')} -> {counted(s['reps'], 'rep')} "
        f"| objective {_shown(s['objective'], ',.1f')}{_objective_parts(s)} "
        f"| lower bound {_shown(s['lower_bound'], ',.1f')}{bound_qualifier(s)} "
        f"| gap {_shown(s['gap'], '.3%')} | {s['solve_seconds']:.1f}s"
    )
    devs = ", ".join(f"{m} {v:.2f}%" for m, v in s["max_abs_dev_pct"].items())
    budgeted = budgeted_share(s)
    departed = (
        f"; {100 * budgeted:.1f}% from reps who stay"
        # that share is the budget's only when there is one (QA44 F12)
        + (
            ", the share --max-moved-share limits"
            if (s.get("config") or {}).get("max_moved_share") is not None
            else ""
        )
        if budgeted is not None
        else ""
    )
    moves = (
        "no current alignment given (no account has a current_rep): nothing moved"
        if unaligned(s)
        else f"moved {counted(s['moved_accounts'], 'account')} "
        f"({100 * s['moved_potential_share']:.1f}% of potential{departed})"
    )
    click.echo(f"max deviation from target: {devs} | {moves}")
    for level, block in (s.get("hierarchy") or {}).items():
        devs = ", ".join(f"{m} {v:.2f}%" for m, v in block["max_abs_dev_pct"].items())
        n = block["groups"]
        ruled = level == "district" and bool((s.get("config") or {}).get("district_contiguous"))
        note = _pieces_note(level, block, ruled and s.get("status") != "relaxed")
        click.echo(f"{n} {level}{'' if n == 1 else 's'} | max deviation: {devs}{note}")
    if "contiguity" in s:
        c = s["contiguity"]
        split = sum(1 for k in c["pieces"].values() if k > 1)
        click.echo(
            f"contiguity ({c['method']}): "
            + (
                "every territory is one piece"
                if c["contiguous"]
                else f"{counted(split, 'territory', 'territories')} in several pieces"
            )
            + (f"; {c['islands']} island(s) in the map" if c["islands"] else "")
            + (
                f", {len(c['bridged_edges'])} joined by --bridge-islands (see the note above)"
                if c.get("bridged_edges")
                else ""
            )
        )
    if s["status"] == "relaxed":
        from territory_planner.optimize import pipeline  # loaded with the solver's stack above

        district = (s.get("hierarchy") or {}).get("district") or {}
        proven = (
            "territories"
            if (s.get("contiguity") or {}).get("infeasible") == "proven"
            else district.get("proven_for", "districts")
            if district.get("infeasible") == "proven"
            else None
        )  # QA11 O2: a proof for districts read "not by itself a proof"
        click.echo(
            f"RELAXED PLAN: it breaks {counted(len(s.get('violations') or []), 'constraint')} (see "
            "violations in summary.json); "
            + (
                f"no plan meeting every constraint exists: no plan of connected {proven}{home_rule(proven)} "
                "meets the bands "
                "(proven; the notes in summary.json say how)"  # a pre-check or HiGHS (QA12 N7)
                if proven
                else "no plan meeting every constraint exists (proven; the notes in summary.json say why)"
                if s.get("proven_infeasible")
                else "no plan meeting every constraint was found, which is not by itself a proof that none "
                "exists"
            )
            + "".join(  # whether this violation is the least (QA25 F1: nothing said it was not proven)
                f"; {n.removeprefix('relaxed: ')}"
                for n in s.get("notes", [])
                if n.startswith(pipeline.LEAST_NOTE)
            ),
            err=True,
        )
    click.echo(f"wrote {out}/ ({_written(Path(out))})")


def _pieces_note(level: str, block: dict[str, Any], ruled: bool = False) -> str:
    """' | 2 districts in several pieces (D03: 5 pieces, ...)' for a level whose groups the plan's map
    splits (QA10: a --design-districts plan with split districts said so only in summary.json); '' when
    the map is unknown or every group is one piece. ``ruled``: the plan was made with
    --district-contiguous (not relaxed), whose status and bound hold for districts holding their reps'
    home units: said when every district is one piece."""
    away = block.get("homes_elsewhere") or {}
    split = {g: k for g, k in (block.get("pieces") or {}).items() if k > 1 or g in away}
    if not split and ruled and block.get("contiguous") is True:
        # --district-contiguous keeps each rep's home unit in its territory: the status and the bound are
        # for such plans (QA64 F3: "optimal" where a plan giving a home unit to another rep of the same
        # district costs 0.12% less; said in summary.json's notes only)
        return " | each one piece holding its reps' home units (the lower bound is for such plans)"
    if not split:
        return ""

    def said(g: str, k: int) -> str:  # a rep without its home unit is said with the pieces (QA31 F2)
        reps = away.get(g, [])
        if not reps:
            return f"{g}: {k} pieces"
        whose = "its home unit" if len(reps) == 1 else "their home units"
        return f"{g}: {k} piece{'' if k == 1 else 's'}, {' and '.join(reps)} without {whose}"

    shown = ", ".join(said(g, k) for g, k in list(split.items())[:5])
    more = f", ... {len(split) - 5} more" if len(split) > 5 else ""
    how = "not one piece holding their reps' home units" if away else "in several pieces"
    return f" | {len(split)} {level}{'' if len(split) == 1 else 's'} {how} ({shown}{more})"


def _written(folder: Path) -> str:
    """The files of a plan folder, the main ones first, then the others in name order (districts.csv,
    kpis.csv, forecast.csv, plan.xlsx, ... when the plan has them)."""
    main_files = ["assignments.csv", "territories.csv", "summary.json", "map.html", "report.html"]
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    return ", ".join([n for n in main_files if n in names] + [n for n in names if n not in main_files])


def _log_lines(console: Any, started: float, every: float = 5.0) -> Callable[[str], None]:
    """Progress as timestamped lines on stderr (seconds since ``started``, a ``perf_counter`` reading),
    for a run whose stderr is a file or a pipe (a scheduled job's log showed nothing until the end, QA5):
    each new step at once, the repeats of one step (the neighbourhood search's improvements) at most
    every ``every`` seconds."""
    last_step = [""]
    last_at = [-float("inf")]

    def progress(message: str) -> None:
        now = time.perf_counter() - started
        step = message.split(":")[0]
        if step != last_step[0] or now - last_at[0] >= every:
            console.print(f"[{now:5.1f}s] {message}", markup=False, highlight=False)
            last_step[0], last_at[0] = step, now

    return progress


def _objective_parts(s: dict[str, Any]) -> str:
    """' (travel X + disruption Y)' when the objective prices moves (--disruption-weight), else '' (QA28
    F6: the console's objective held the penalty without a word, read as 2.1% more travel)."""
    values = [s.get(k) for k in ("disruption_price", "compactness", "objective")]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) < 3 or not all(math.isfinite(v) for v in numbers) or numbers[0] <= 0:
        return ""
    _, travel, objective = numbers
    return f" (travel {travel:,.1f} + disruption {objective - travel:,.1f})"


def _shown(value: Any, spec: str) -> str:
    """A summary number for the console; "n/a" when the plan has none (a relaxed plan has no bound)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return format(value, spec)
    return "n/a"


@main.command()
@model_options
@click.option(
    "--errors",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=check_out,
    help="Write every problem in the inputs to this CSV (file, row, column, value, message); the screen "
    f"shows the first {MAX_ROWS_SHOWN}. Written on every run: the header alone when there is none.",
)
@click.option(
    "--force", is_flag=True, help="Replace a file at --errors other than an earlier list of problems."
)
@currency_option("$")
@handle_errors(None, errors_param="errors")
def validate(scenario: Path | None, errors: Path | None, force: bool, **flags: Any) -> None:
    """Check the inputs and the model's feasibility pre-checks without solving (with --contiguous, the
    map's too: pieces no connected plan can cover, reps walled in by other reps' homes).

    \b
    Example:
      territory-planner validate --accounts accounts.csv --reps reps.csv
      territory-planner validate --accounts counties.geojson --reps reps.csv --contiguous
      territory-planner validate --accounts accounts.csv --reps reps.csv --errors problems.csv
    """
    # before anything is read: the problems are written to --errors whatever happens next
    from territory_planner.io.scenario import scenario_files

    check_errors_file(
        errors, force, [*scenario_files(scenario), *(v for v in flags.values() if isinstance(v, Path))]
    )
    from territory_planner import api

    options = _options(scenario, flags)
    check_errors_file(errors, True, [getattr(options, name) for name in PATH_OPTIONS])  # a scenario's files
    info = api.validate(options)
    table = Table(title="inputs are valid")
    table.add_column("item")
    table.add_column("value", justify="right")
    for key in ("accounts", "units", "reps", "reps_without_home"):
        table.add_row(key, f"{info[key]:,}")
    with currency_context(options.currency):  # money as the report writes it: ¥48,257,455,000, no ".0"
        for m, v in info["totals"].items():
            table.add_row(escape(f"total {m}"), escape(money(v) if is_money(m) else count_or_mean(v)))
    for m, v in info["balance_floor"].items():  # the largest unit against the largest target it may join
        if v > 0:  # only when the largest accounts force a floor ("needs at least 0.00%" read as +-0%)
            table.add_row(escape(f"--tolerance {m} needs at least"), f"{100 * v:.2f}%")
    if "map_pieces" in info:  # --contiguous or --district-contiguous: the map checks ran and passed
        table.add_row("pieces of the map", f"{info['map_pieces']:,}")
        table.add_row("edges bridged (--bridge-islands)", f"{info['bridged_edges']:,}")
    if "walled_in_checked" in info:  # --contiguous
        table.add_row(
            "reps walled in by other homes",
            "none" if info["walled_in_checked"] else "not checked (two homes are nearest one unit)",
        )
    if "kept_near_homes" in info:
        table.add_row("units kept near a rep's home (--keep-home)", f"{info['kept_near_homes']:,}")
    if "least_moved_share" in info:  # the disruption budget passed its check: with how much room
        table.add_row(
            "share of potential balancing must move (LP bound)", f"{100 * info['least_moved_share']:.1f}%"
        )
        table.add_row("--max-moved-share allows", f"{100 * info['budget_share']:.1f}%")
    if "least_moved_unknown" in info:  # the budget's LP had no answer, and no proof came
        table.add_row(
            "share of potential balancing must move", f"not computed: {info['least_moved_unknown']}"
        )
    if "district_homes_checked" in info:  # --district-contiguous: no district's homes walled apart
        table.add_row(
            "districts walled apart by other homes",
            "none" if info["district_homes_checked"] else "not checked (two homes are nearest one unit)",
        )
    if info.get("warnings"):
        table.add_row("warnings (above)", f"{len(info['warnings']):,}")
    Console().print(table)


@main.command()
@out_folder_option("Plan folder to write.")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@click.option("--offline", is_flag=True, help="Self-contained map.html.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@currency_option("$")
@click.pass_context
def demo(
    ctx: click.Context, out: Path, force: bool, offline: bool, quiet: bool, currency: str | None
) -> None:
    """Run the demo scenario on the bundled sample data (2,000 US accounts, 20 reps, CRM history).

    \b
    Example:
      territory-planner demo --out demo_plan
    """
    samples = sample_dir()
    scenario = samples / "scenarios" / "base.toml"
    if not scenario.is_file():
        click.echo(
            f"sample data not found at {samples}: reinstall the package (pip install .), or run the demo "
            "from a checkout of the repository",
            err=True,
        )
        sys.exit(1)
    ctx.invoke(
        plan,
        scenario=scenario,
        out=out,
        force=force,
        quiet=quiet,
        offline=offline or None,
        xlsx=True,
        currency=currency,
    )


def _register() -> None:
    from territory_planner.render.cli import map_command
    from territory_planner.report.cli import report_command

    main.add_command(map_command)
    main.add_command(report_command)
    from territory_planner.forecast.cli import forecast_command
    from territory_planner.scenario_cli import compare_command, sweep_command

    main.add_command(forecast_command)

    main.add_command(compare_command)
    main.add_command(sweep_command)
    from territory_planner.export.cli import export_command

    main.add_command(export_command)

    from territory_planner.edit_cli import edit_command

    main.add_command(edit_command)


_register()
