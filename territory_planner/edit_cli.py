"""``territory-planner edit``: apply the edits made in the map (edits.csv) to a plan folder."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from territory_planner.cli_support import (
    FINITE,
    handle_errors,
    live_console,
    out_folder_option,
    stderr_console,
)
from territory_planner.currency import currency_prefix, is_money, plan_currency
from territory_planner.io.labels import account_label

WARNINGS_SHOWN = 10  # the console's warnings of an edit, the rest in summary.json's notes


@click.command(name="edit")
@click.argument("plan_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--edits",
    "edits_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='CSV or .xlsx account_id,rep_id (the map\'s "Download edits.csv").',
)
@out_folder_option("Plan folder to write.")
@click.option(
    "--rebalance",
    is_flag=True,
    help="Keep the edits as locks and re-optimise the rest under the plan's own manifest.",
)
@click.option("--time-limit", type=FINITE, help="With --rebalance: seconds for the new solve.")
@click.option("--force", is_flag=True, help="Replace an existing folder.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display (with --rebalance).")
@handle_errors("out")
def edit_command(
    plan_dir: Path,
    edits_path: Path,
    out: Path,
    rebalance: bool,
    time_limit: float | None,
    force: bool,
    quiet: bool,
) -> None:
    """Apply hand edits to a plan and write the result as a new plan folder.

    Without --rebalance the accounts simply change rep: the folder gets status `manual`, its objective,
    how far above the plan's lower bound it lies and every band it breaks (in summary.json and the report).
    With --rebalance the edits become locks and the planner rebalances everything else.

    \b
    Examples:
      territory-planner edit plans/2025 --edits edits.csv --out plans/2025-edited
      territory-planner edit plans/2025 --edits edits.csv --out plans/2025-rebalanced --rebalance
    """
    from territory_planner.io.writers import check_replace, refuse_replacing_inputs

    refuse_replacing_inputs(out, (plan_dir, edits_path))
    if not rebalance:  # a rebalance checks its folder against its plan's inputs as well (``edit.py``)
        check_replace(out, force, "nothing was changed", "plan")
    if time_limit is not None and not rebalance:  # QA17 F15: it was ignored without a word
        raise click.BadParameter(
            "only a --rebalance solves: without it nothing is timed", param_hint="--time-limit"
        )
    if rebalance:
        from territory_planner import cli
        from territory_planner.edit_rebalance import rebalance as run_rebalance

        command = "territory-planner " + " ".join(shlex.quote(a) for a in sys.argv[1:])

        def solve(warn: Any, progress: Any = None) -> Any:
            return run_rebalance(
                plan_dir,
                edits_path,
                out,
                force=force,
                overrides={"time_limit": time_limit},
                extra={"command_line": command},
                progress=progress,
                begun=cli.COMMAND_BEGUN,  # QA17 F24: --time-limit counts the command's start-up too
                warn=warn,  # said before the solve, so a failed one says them too (QA74 F4)
            )

        if quiet:
            output, _, moves = solve(lambda warning: click.echo(f"warning: {warning}", err=True))
        else:
            begun = cli.COMMAND_BEGUN
            started = begun if begun is not None else time.perf_counter()  # where --time-limit counts from
            console = stderr_console()

            def warn(warning: str) -> None:
                console.print(f"warning: {warning}", markup=False, highlight=False)

            if not live_console(console):  # a log, a pipe, TERM=dumb: lines, as `plan` writes them there
                output, _, moves = solve(warn, cli._log_lines(console, started))
            else:
                with console.status("loading the plan and the edits", spinner="dots") as status:
                    output, _, moves = solve(
                        warn,
                        lambda message: status.update(f"[{time.perf_counter() - started:5.1f}s] {message}"),
                    )
        s = output.summary
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.2f}%"
        click.echo(
            f"{s['status']}: rebalanced with the edits locked | objective {s['objective']:,.1f} | gap {gap}"
        )
        click.echo(moves)
    else:
        from territory_planner.edit import apply_edits, write_edited

        edited = apply_edits(plan_dir, edits_path)
        command = "territory-planner " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        write_edited(edited, plan_dir, out, force=force, command_line=command)
        s = edited.summary
        if s["gap"] is None:
            gap = "no lower bound recorded"
        elif s["gap"] < 0:  # below a bound that holds only for plans within it
            from territory_planner.edit import below_bound_pct

            gap = (
                f"{below_bound_pct(s['objective'], s['lower_bound']):.2f}% below the plan's lower bound "
                f"(gap {100 * s['gap']:.2f}%; the edits break constraints the bound assumes)"
            )
        else:  # above the bound by a share of the bound (QA67 F6: "26.12% above" where it was 35.35%)
            above = (s["objective"] - s["lower_bound"]) / s["lower_bound"] if s["lower_bound"] > 0 else None
            gap = f"gap {100 * s['gap']:.2f}% to the plan's lower bound" + (
                f" ({100 * above:.2f}% above it)" if above is not None else ""
            )
        was = s["edited_from"]["objective"]
        click.echo(
            f"manual: {len(edited.edits)} account(s) moved by hand | objective {s['objective']:,.1f}"
            + (f" (plan: {was:,.1f})" if isinstance(was, int | float) else "")
            + f" | {gap}"
        )
        # the first ones: every one is in summary.json's notes (QA67 F6: 5,000 edits printed 288 family
        # warnings, where the broken constraints are listed ten at most)
        for warning in edited.warnings[:WARNINGS_SHOWN]:
            click.echo(f"warning: {warning}", err=True)
        if len(edited.warnings) > WARNINGS_SHOWN:
            more = len(edited.warnings) - WARNINGS_SHOWN
            click.echo(f"warning: ... and {more} more (every one in summary.json's notes)", err=True)
        from territory_planner.model.homes import edited_lost

        for note in edited_lost(s.get("notes") or []):  # as `plan` says the homes it gives away (QA50 F4)
            click.echo(note)
        broken = s["violations"]
        a = edited.assignments
        names = dict(zip(a["account_id"], a["name"], strict=True)) if "name" in a.columns else {}
        if broken:
            prefix = currency_prefix(plan_currency(s))  # money in the plan's currency
            click.echo(f"{len(broken)} constraint(s) broken (listed in summary.json and report.html):")
            for v in broken[:10]:
                what = " ".join(str(v[k]) for k in ("constraint", "rep_id", "group", "measure") if v.get(k))
                if v.get("constraint") == "segment":  # accounts with a rep who does not serve their segment
                    held = [str(i) for i in v.get("accounts") or []]
                    shown = ", ".join(
                        account_label(i, names.get(i, "")).removeprefix("account ") for i in held[:5]
                    ) + (", ..." if len(held) > 5 else "")
                    click.echo(
                        f"  {what}: {len(held)} account(s) of a segment the rep does not serve: {shown}"
                    )
                    continue
                if v.get("measure") == "pieces":  # a territory or district cut apart (QA17 F22)
                    click.echo(
                        f"  {v['constraint']} {v['rep_id']}: {int(v['violation']) + 1} pieces, not one"
                    )
                    continue
                if v.get("constraint") == "family":  # as report.html says it (QA17 F4: "family: by 1.00")
                    reps = ", ".join(map(str, v.get("reps") or []))
                    click.echo(f"  family {v.get('parent_id')} split between {reps}")
                    continue
                # money in the plan's currency, as report.html gives it (QA38 F8: "budget potential: by
                # 149,218.00" on a € plan)
                unit = prefix if is_money(str(v.get("measure") or "")) else ""
                click.echo(f"  {what}: by {unit}{v['violation']:,.2f}")
            if len(broken) > 10:
                click.echo(f"  ... and {len(broken) - 10} more")
    click.echo(f"wrote {out}/")
