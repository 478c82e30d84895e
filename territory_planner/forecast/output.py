"""``write_forecast``: the files of the ``forecast`` command (forecast.csv, forecast_backtest.csv, .html)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from territory_planner.currency import DEFAULT_CURRENCY, currency_context
from territory_planner.forecast.api import (
    FORECAST_TABLES,
    ForecastReport,
    compute_forecast,
    write_forecast_tables,
)
from territory_planner.forecast.html import render_forecast_section
from territory_planner.io.writers import atomic_write_text
from territory_planner.report.api import (
    currency_warning,
    load_crm_for,
    report_currency,
    require_shared_accounts,
    unplanned_opportunities,
)
from territory_planner.report.html import render_report
from territory_planner.report.plan import load_plan

log = logging.getLogger(__name__)


def forecast_page(
    report: ForecastReport, currency: str = DEFAULT_CURRENCY, warnings: Sequence[str] = ()
) -> str:
    """forecast.html: the report page with the forecast section only, money in ``currency``."""
    with currency_context(currency):
        return render_report(
            warnings=warnings,
            plan=None,
            kpis=None,
            quotas=None,
            forecast=render_forecast_section(report),
            title=f"Sales forecast {report.horizon.label}",
        )


def write_forecast(
    out_dir: Path,
    *,
    crm_dir: Path,
    horizon: str,
    plan_dir: Path | None = None,
    reps_path: Path | None = None,
    workers: int | None = None,
    currency: str | None = None,
) -> tuple[ForecastReport, list[Path], str]:
    """Compute the forecast and write its three files into ``out_dir`` (a staging folder); money in
    ``currency`` (``None``: the plan's own currency, else the CRM's ``currency`` column, else ``$``),
    which is returned with the report and the files written."""
    plan = load_plan(Path(plan_dir)) if plan_dir is not None else None
    # the CRM's own roster (the plan adds territories), the tables the forecast reads
    crm = load_crm_for(Path(crm_dir), reps_path=reps_path, only=FORECAST_TABLES)
    currency = report_currency(currency, plan, crm)
    warnings = [w for w in [currency_warning(currency, crm)] if w]
    if plan is not None:  # QA27 F11: said by report, not by forecast
        require_shared_accounts(crm, plan.assignments["account_id"], "the plan's assignments.csv")
        unplanned = unplanned_opportunities(crm, plan)
        for warning in unplanned:
            log.warning("%s", warning)
        warnings += unplanned
    report = compute_forecast(crm, horizon, plan=plan, workers=workers)
    written = write_forecast_tables(report, Path(out_dir))
    page = Path(out_dir) / "forecast.html"
    atomic_write_text(page, forecast_page(report, currency, warnings))
    return report, [*written, page], currency
