"""``territory-planner map``: re-render the map of an existing plan folder."""

from __future__ import annotations

from pathlib import Path

import click

from territory_planner.cli_support import check_out, currency_option, handle_errors
from territory_planner.currency import parse_currency


@click.command(name="map")
@click.argument("plan_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--offline",
    is_flag=True,
    help="Self-contained file: Leaflet inlined, no tile layer, no network request when opened.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=check_out,
    help="Where to write the map (default: PLAN_DIR/map.html).",
)
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
@currency_option("the plan's, else $")
@handle_errors(out_param=None)
def map_command(plan_dir: Path, offline: bool, out: Path | None, force: bool, currency: str | None) -> None:
    """Draw the interactive HTML map of a plan folder written by `plan`.

    One colour and one layer per territory, rep homes, a before/after switch (current vs proposed
    alignment), the moved accounts, and a summary panel with each rep's balance and the plan's gap.
    The plan's own map.html is replaced only once the new one is complete; a file already at --out
    only with --force.

    \b
    Examples:
      territory-planner map plans/2025
      territory-planner map plans/2025 --offline --out board/map.html
      territory-planner map plans/2025 --currency EUR --out board/map-eur.html
    """
    from territory_planner.render.map import write_map  # folium: loaded for a map, not for --help

    unit = None if currency is None else parse_currency(currency)
    if out is not None and out.suffix.lower() not in (".html", ".htm"):  # QA57 F8: --out accounts.csv
        raise click.BadParameter(f"{out.name}: the map is an .html file", param_hint="--out")
    if out is not None:  # QA29 F16: a user's file at --out was replaced without a word
        from territory_planner.io.writers import check_replace_file, refuse_into_plan

        refuse_into_plan(plan_dir, [out], own="map.html")
        check_replace_file(out, force)
    written = write_map(plan_dir, out, offline=offline, currency=unit)
    click.echo(f"map written to {written}")
