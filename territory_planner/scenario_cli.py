"""``territory-planner compare`` and ``sweep``: thin click layers over ``compare`` and ``sweep``."""

from __future__ import annotations

import math
import numbers
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from territory_planner.cli_support import FINITE, handle_errors, out_folder_option, stderr_console, working


@click.command(name="compare")
@click.argument(
    "plans", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@out_folder_option("Folder to write.")
@click.option("--force", is_flag=True, help="Replace an existing comparison folder.")
@handle_errors(None)
def compare_command(plans: tuple[Path, ...], out: Path, force: bool) -> None:
    """Compare two or more plan folders (the first is the baseline).

    Writes moves.csv (accounts whose rep differs), rep_statement.csv (per rep: accounts, potential and
    workload in and out; reps added or removed between plans are listed), balance.csv and plans.csv (side by
    side), options.csv (the options each plan was made with; those that differ are printed too) and
    compare.html with the maps next to each other.

    \b
    Example:
      territory-planner compare plans/base plans/texas --out plans/base-vs-texas
    """
    from territory_planner.compare import compare

    if len(plans) < 2:
        raise click.UsageError("compare needs at least two plan folders")
    with working(f"comparing {len(plans)} plans"):
        result = compare(list(plans), out, force=force)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for note in result.district_notes:
        click.echo(f"note: {note}", err=True)
    for row in result.overview.itertuples(index=False):
        objective = row.objective
        known = isinstance(objective, numbers.Real) and math.isfinite(objective)
        shown = f"{objective:,.1f}" if known else "n/a"
        reps = f"{row.reps} rep{'' if row.reps == 1 else 's'}"  # QA61 F1: "1 reps"
        click.echo(f"{row.plan}: {row.status}, {reps}, objective {shown}")
    click.echo(result.options_line())
    added = result.statement[result.statement["roster"] != "kept"]
    for row in added.itertuples(index=False):
        click.echo(f"rep {row.rep_id} {row.roster} in {row.plan_b}")
    written = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in Path(out).iterdir()))
    click.echo(f"{len(result.moves):,} account moves; wrote {out}/ ({written})")


@click.command(name="sweep")
@click.argument("scenario", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    help=(
        "NAME=V1,V2,... (a scenario key); repeat for more dimensions; every combination runs. A balance "
        "value joins its measures with +: balance=potential,potential+workload."
    ),
)
@out_folder_option("Sweep folder.")
@click.option("--workers", type=int, default=1, show_default=True, help="Points solved in parallel.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Local process pool, or a Dask cluster (see --address).",
)
@click.option("--address", help="Dask scheduler, e.g. tcp://HOST:8786 (default: a local Dask cluster).")
@click.option("--time-limit", type=FINITE, help="Seconds per point (overrides the scenario).")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress bar, and no point's notes (they are in its summary.json).",
)
@handle_errors(None)
def sweep_command(
    scenario: Path,
    grids: tuple[str, ...],
    out: Path,
    workers: int,
    executor: str,
    address: str | None,
    time_limit: float | None,
    quiet: bool,
) -> None:
    """Solve one plan per combination of grid values and chart the balance/disruption/travel trade-off.

    Writes one plan folder per point under OUT/points/, OUT/sweep.csv and OUT/sweep.html (Pareto-efficient
    plans marked). Failed or infeasible points are recorded with their reason. Re-running the same command
    skips points that are already complete: solved from the same scenario, input files and options (a
    point solved from others is solved again, and a note says why); Ctrl-C keeps the finished points.
    Every grid name and value is checked before any point is solved (a bad one is a usage error, exit 2);
    a value listed twice is solved once.

    \b
    Examples:
      territory-planner sweep sample_data/scenarios/base.toml --grid tolerance=0.03,0.05,0.1 \\
          --grid max_moved_share=0,0.05,0.1,0.2,1 --out sweeps/base --workers 4
      territory-planner sweep base.toml --grid tolerance=0.03,0.05 --out sweeps/b \\
          --executor dask --address tcp://scheduler:8786
    """
    from territory_planner.sweep import check_out, prepare_sweep, run_sweep
    from territory_planner.sweep_grid import parse_grid

    if workers < 1:
        raise click.UsageError("--workers must be at least 1")
    grid = parse_grid(grids)
    overrides: dict[str, Any] = {"time_limit": time_limit} if time_limit else {}
    prepare_sweep(scenario, grid, overrides)  # a bad grid value stops here, before the progress bar
    check_out(out)  # and a folder that is not a sweep's
    progress = Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr_console(),
        disable=quiet,
    )
    task = progress.add_task("sweep", total=None)

    def on_point(_row: dict[str, Any], done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    def on_note(message: str) -> None:  # above the progress bar, as it goes
        progress.console.print(escape(f"note: {message}"))

    try:
        with progress:
            table = run_sweep(
                scenario,
                grid,
                out,
                overrides=overrides,
                workers=workers,
                executor=executor,
                address=address,
                on_point=on_point,
                on_note=on_note,
                quiet=quiet,  # each point's notes stay in its summary.json
            )
    except KeyboardInterrupt:
        from territory_planner.interrupt import stopped_by

        what, code = stopped_by()  # Ctrl-C 130, SIGTERM 143 (QA59: a SIGTERM read "interrupted", 130)
        click.echo(
            f"{what[0].lower() + what[1:]}: finished points are kept in {out}/points; run the same command "
            "to resume",
            err=True,
        )
        sys.exit(code)
    counts = table["status"].value_counts().to_dict()
    resumed = int(table["resumed"].sum())
    same = "solved earlier from the same scenario, inputs and options"
    kept = f" | {resumed} resumed ({same})" if resumed else ""
    click.echo(
        ", ".join(f"{n} {s}" for s, n in counts.items())
        + f" | {int(table['pareto'].sum())} Pareto-efficient"
        + kept
    )
    click.echo(f"wrote {out}/sweep.csv and {out}/sweep.html")
    code = sweep_exit_code(table["status"])
    if code:
        click.echo("no point of the sweep has a plan (reasons in sweep.csv and sweep.html)", err=True)
        sys.exit(code)


def sweep_exit_code(statuses: Any) -> int:
    """0 when some point has a plan; otherwise the plan command's code for the points: 1 when every
    point is bad input or proven infeasible, else 3 (no plan yet: a solver failure or the time limit)."""
    done = set(statuses.astype(str))
    if done & {"optimal", "feasible", "relaxed"}:
        return 0
    return 1 if done and done <= {"infeasible", "input_error"} else 3
