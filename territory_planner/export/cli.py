"""``territory-planner export``: the plan as a workbook, a list of changes, or Salesforce import files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from territory_planner.cli_support import check_out, currency_option, handle_errors, working
from territory_planner.currency import parse_currency
from territory_planner.export import FORMATS


@click.command("export")
@click.argument("plan_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="What to write (see above).")
@click.option(
    "--out",
    required=True,
    type=click.Path(),  # as written: a trailing "/" says a folder (QA44 F17)
    callback=check_out,
    help="The workbook file for xlsx (in a folder, given with a trailing / or already there: "
    "FOLDER/plan.xlsx); a folder for changes and salesforce.",
)
@click.option(
    "--effective-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="changes: the date the new owners take over, YYYY-MM-DD [default: the plan's date].",
)
@click.option(
    "--sf-territory-ids",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="salesforce: DeveloperName,Id of the territories already in the org (CSV or .xlsx); "
    "territories are then referred to by Id.",
)
@click.option(
    "--reps",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="salesforce: reps table with crm_user_id (the owners' User Ids), if the plan does not carry it.",
)
@click.option(
    "--shared-owners",
    is_flag=True,
    help="salesforce: let two reps have the same crm_user_id (one person holding both seats); refused "
    "otherwise, since their books would merge under one User.",
)
@click.option("--sf-model-id", default="", help="salesforce: Territory2ModelId of every territory.")
@click.option("--sf-type-id", default="", help="salesforce: Territory2TypeId of every territory.")
@currency_option("the plan's, else $")
@click.option("--force", is_flag=True, help="Replace existing output files.")
@handle_errors(None)
def export_command(
    plan_dir: Path,
    fmt: str,
    out: str,
    effective_date: dt.datetime | None,
    sf_territory_ids: Path | None,
    reps: Path | None,
    shared_owners: bool,
    sf_model_id: str,
    sf_type_id: str,
    currency: str | None,
    force: bool,
) -> None:
    """Hand a plan to the business: an Excel workbook, the owner changes, or Salesforce files.

    \b
    Formats:
      xlsx        one workbook: Summary, Territories, Assignments, Moves (and Districts, Regions)
      changes     OUT/changes.csv (or OUT itself when it ends in .csv): account_id, name, from_rep,
                  to_rep, effective_date, reason
      salesforce  OUT/Account_OwnerId_update.csv (Id, OwnerId) for the accounts that change owner,
                  OUT/Territory2.csv and OUT/ObjectTerritory2Association.csv (one per account)
                  for Enterprise Territory Management

    \b
    Examples:
      territory-planner export plans/base --format xlsx --out plans/base.xlsx
      territory-planner export plans/base --format xlsx --out plans/base-eur.xlsx --currency EUR
      territory-planner export plans/base --format changes --out handoff --effective-date 2027-01-01
      territory-planner export plans/base --format salesforce --out sf --sf-model-id 0MCxx0000000001
          (give your org's Ids: this one has an Id's shape and would go into every row)
      territory-planner export plans/base --format salesforce --out sf --force \\
          --sf-territory-ids territory2_ids.csv
    """
    from territory_planner.export.api import WORKBOOK_NAME, export_plan

    folder = out.endswith(("/", os.sep)) or Path(out).is_dir()
    out_path = Path(out)
    if fmt == "xlsx" and folder:  # QA44 F17: `--out ex/newdir/` wrote ex/newdir.xlsx
        out_path = out_path / WORKBOOK_NAME
    if fmt == "xlsx" and out_path.suffix.lower() not in ("", ".xlsx"):
        raise click.BadParameter(f"{out_path.name}: the workbook is an .xlsx file", param_hint="--out")
    if fmt == "salesforce" and out_path.suffix.lower() == ".csv":
        raise click.BadParameter("salesforce writes three files: give a folder", param_hint="--out")
    if shared_owners and fmt != "salesforce":
        raise click.BadParameter("only the salesforce files have owners", param_hint="--shared-owners")
    if currency is not None and fmt != "xlsx":
        raise click.BadParameter("only the xlsx workbook shows a currency", param_hint="--currency")
    # an option that does not apply to the format is refused, not ignored (QA17 F15)
    if effective_date is not None and fmt != "changes":
        raise click.BadParameter("only the changes list has an effective date", param_hint="--effective-date")
    for given, flag in (
        (sf_territory_ids, "--sf-territory-ids"),
        (reps, "--reps"),
        (sf_model_id.strip(), "--sf-model-id"),
        (sf_type_id.strip(), "--sf-type-id"),
    ):
        if given and fmt != "salesforce":
            raise click.BadParameter("only the salesforce files use it", param_hint=flag)
    if fmt == "salesforce":  # QA81: the README's `0MC...` given as it stands wrote it into every row
        from territory_planner.export.crm_files import SF_RECORDS, id_shape_problem

        given_ids = ((sf_model_id.strip(), "--sf-model-id"), (sf_type_id.strip(), "--sf-type-id"))
        wrong = [
            f"{flag}: {given!r} is {shape}"
            for given, flag in given_ids
            if given and (shape := id_shape_problem(given, *SF_RECORDS[flag])) is not None
        ]
        if wrong:  # both said in one run (QA84 F4)
            raise click.UsageError("; ".join(wrong))
        for given, flag in given_ids:
            kind, prefix = SF_RECORDS[flag]
            if given and not given.startswith(prefix):  # an Id of another record, or the two swapped
                click.echo(
                    f"note: {flag} {given} does not start with {prefix}, the key prefix of {kind} records",
                    err=True,
                )
    with working(f"writing the {fmt} hand-off"):
        exported = export_plan(
            plan_dir,
            fmt,
            out_path,
            force=force,
            effective_date=effective_date.date() if effective_date else None,
            sf_territory_ids=sf_territory_ids,
            reps=reps,
            sf_model_id=sf_model_id.strip(),
            sf_type_id=sf_type_id.strip(),
            currency=None if currency is None else parse_currency(currency),
            shared_owners=shared_owners,
        )
    for path in exported.paths:
        click.echo(f"wrote {path}")
    for note in exported.notes:
        click.echo(f"note: {note}", err=True)
