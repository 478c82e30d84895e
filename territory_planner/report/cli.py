"""The ``report`` command (registered on the main CLI by ``territory_planner.cli``)."""

from __future__ import annotations

from pathlib import Path

import click

from territory_planner.cli_support import (
    FiniteFloatRange,
    check_period,
    currency_option,
    handle_errors,
    out_folder_option,
    working,
)
from territory_planner.currency import parse_currency
from territory_planner.options import MAX_NUMBER


@click.command("report")
@click.option(
    "--crm",
    "crm",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Folder of CRM history CSVs (opportunities, activities, quotas, forecasts, time_log, leads, reps).",
)
@click.option(
    "--period",
    required=True,
    callback=check_period,
    help="START:END (ISO dates, inclusive), or 2026Q3, 2026-07, 2026.",
)
@click.option(
    "--plan",
    "plan",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A plan folder: adds the balance section and the territory levels.",
)
@click.option(
    "--company-target",
    type=FiniteFloatRange(min=0, max=MAX_NUMBER),
    help="Company revenue target: writes suggested_quotas.csv (needs --plan).",
)
@click.option(
    "--quota-history-weight",
    type=FiniteFloatRange(0, 1),
    help="Weight w of history in the suggested quota shares: (1 - w) x potential share + w x share of the "
    "inherited won revenue, or of the quota year's forecast with --quota-method forecast (then kept within "
    "1/1.5 to 1.5 x the potential share) [default: 0, or 0.5 with --quota-method forecast].",
)
@click.option(
    "--forecast-horizon",
    callback=check_period,
    help="Also forecast this period (2026Q3, ...): forecast section, forecast.csv, forecast_backtest.csv.",
)
@click.option(
    "--quota-method",
    type=click.Choice(["potential", "forecast"]),
    default="potential",
    show_default=True,
    help="Split --company-target by potential (and inherited history) or by potential blended with each "
    "territory's forecast for the 12 months from the horizon's start (see --quota-history-weight).",
)
@click.option(
    "--reps",
    "reps",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Reps roster, when the CRM folder has no reps.csv.",
)
@click.option(
    "--accounts",
    "accounts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accounts table, instead of the CRM folder's accounts.csv.",
)
@out_folder_option("Output folder (written atomically).")
@click.option("--force", is_flag=True, help="Replace an existing, non-empty output folder.")
@currency_option("the plan's, else $")
@handle_errors(out_param="out")
def report_command(
    crm: Path,
    period: str,
    plan: Path | None,
    company_target: float | None,
    quota_history_weight: float | None,
    forecast_horizon: str | None,
    quota_method: str,
    reps: Path | None,
    accounts: Path | None,
    out: Path,
    force: bool,
    currency: str | None,
) -> None:
    """Write the sales KPI report (report.html, kpis.csv) for a period.

    KPIs are computed per team, rep and region, and with --plan per new territory beside the current
    alignment. kpis.csv is long format (level,id,kpi,value); a blank value means an empty denominator.

    \b
    Example:
      territory-planner report --crm sample_data/crm --period 2026Q2 \\
          --plan plans/2026 --out report/
    """
    if company_target is None:  # the quota options shape suggested quotas only (QA17 F15: ignored)
        if quota_history_weight is not None:
            raise click.BadParameter(
                "it weighs the suggested quotas of --company-target", param_hint="--quota-history-weight"
            )
        if quota_method != "potential":
            raise click.BadParameter("it splits --company-target", param_hint="--quota-method")
    from territory_planner.io.writers import staged_output_dir
    from territory_planner.report.api import write_report

    unit = None if currency is None else parse_currency(currency)
    with (
        working("reading the CRM and computing the KPIs"),
        staged_output_dir(out, force=force, kind="report", inputs=(crm, plan, reps, accounts)) as stage,
    ):
        write_report(
            stage,
            plan_dir=plan,
            crm_dir=crm,
            period=period,
            company_target=company_target,
            reps_path=reps,
            accounts_path=accounts,
            quota_history_weight=quota_history_weight,
            forecast_horizon=forecast_horizon,
            quota_method=quota_method,
            currency=unit,
        )
    click.echo(f"report written to {out}")
