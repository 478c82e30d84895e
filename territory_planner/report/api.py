"""Library entry points of the report: ``compute_kpis`` (frames) and ``write_report`` (files)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from territory_planner.currency import chosen_currency, currency_context, currency_prefix, parse_currency
from territory_planner.errors import COMMAND_LINE, InputError, Problem
from territory_planner.io.labels import first_few
from territory_planner.io.writers import atomic_write_text, write_csv
from territory_planner.report import formatting as fm
from territory_planner.report.crm import (
    CrmData,
    crm_currency,
    data_range,
    load_crm,
    load_roster,
    roster_from_plan,
)
from territory_planner.report.html import KpiSection, render_report
from territory_planner.report.kpis import prorated_notes, stale_pipeline_notes
from territory_planner.report.levels import build_levels, compute_levels
from territory_planner.report.periods import Period, PeriodError, parse_period
from territory_planner.report.plan import PlanData, load_plan
from territory_planner.report.quota import MAX_SHARE_RATIO, default_history_weight, suggest_quotas

if TYPE_CHECKING:
    from territory_planner.forecast.api import ForecastReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KpiReport:
    """The KPIs of one period: long frame (``level,id,kpi,value``) and the per-level details."""

    period: Period
    long: pd.DataFrame
    section: KpiSection


def as_period(period: str | Period | None) -> Period:
    if isinstance(period, Period):
        return period
    if period is None:
        raise InputError(Problem("", None, "period", "a period is required with CRM history (e.g. 2026Q3)"))
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise InputError(Problem("", None, "period", str(exc), str(period))) from exc


DEPARTED_NAME = "(departed: not in the roster)"


def _names(crm: CrmData, plan: PlanData | None) -> dict[str, str]:
    names: dict[str, str] = dict.fromkeys(crm.departed, DEPARTED_NAME)
    for frame in (crm.roster, plan.territories if plan is not None else None):
        if frame is not None and "name" in frame.columns:
            valid = frame[frame["name"].notna()]
            names.update(zip(valid["rep_id"].astype(str), valid["name"].astype(str), strict=True))
    return names


def period_coverage(crm: CrmData, period: Period) -> tuple[bool, str | None]:
    """Whether ``period`` lies wholly outside the CRM history's date range (then no KPI has data to be
    computed from), and the warning to show when it lies wholly or partly outside."""
    span = data_range(crm.tables)
    if span is None:
        return False, None
    first, last = span
    what = f"the period {period.label} ({period.start} to {period.end})"
    data = f"the CRM history runs from {first.date()} to {last.date()}"
    empty = "there is no data to compute its KPIs from, so they are n/a (not 0)"
    if period.start_ts > last:
        return True, (
            f"{what} lies after the CRM data ({data}): {empty}. Is the export older than the period, "
            "or the period mistyped?"
        )
    if period.stop_ts <= first:
        return True, f"{what} lies before the CRM data ({data}): {empty}. Is the period mistyped?"
    if period.stop_ts - pd.Timedelta(days=1) > last:
        days = (period.stop_ts - pd.Timedelta(days=1) - last).days
        return False, f"{what} ends after the CRM data ({data}): its last {days} day(s) have no data yet."
    if period.start_ts < first:
        days = (first - period.start_ts).days
        return False, f"{what} starts before the CRM data ({data}): its first {days} day(s) have no data."
    return False, None


def load_crm_for(
    crm: CrmData | Path,
    *,
    plan: PlanData | None = None,
    reps_path: Path | None = None,
    accounts_path: Path | None = None,
    said: Collection[str] = (),
    only: Collection[str] | None = None,
) -> CrmData:
    """The CRM folder loaded and checked against the roster (``--reps``, else the plan's, else reps.csv);
    warnings in ``said`` are not logged again; ``only``: the tables to read (``load_crm``)."""
    if isinstance(crm, CrmData):
        return crm
    roster, source = None, "reps.csv"
    if reps_path is not None:
        roster, source = load_roster(reps_path), str(reps_path)
    elif plan is not None:
        roster, source = roster_from_plan(plan.assignments, plan.territories), "the plan"
    return load_crm(
        Path(crm), reps=roster, reps_source=source, accounts_path=accounts_path,
        roster_of_plan=reps_path is None and plan is not None, said=said, only=only,
    )  # fmt: skip


def currency_warning(currency: str, crm: CrmData | None) -> str | None:
    """The CRM's amounts in another currency than the one the page writes (``currency.mismatch``),
    logged as a warning."""
    from territory_planner.currency import mismatch

    warning = mismatch(
        currency, crm_currency(crm) if crm is not None else None, "the CRM (its currency column)"
    )
    if warning is not None:
        log.warning("%s", warning)
    return warning


def report_currency(given: str | None, plan: PlanData | None, crm: CrmData | None) -> str:
    """The currency money is written in: the one given, else the plan's, else the CRM's own ``currency``
    column (one value, the loader refuses mixed ones) when it is an ISO code, else ``$``."""
    if given is None and plan is None and crm is not None and (code := crm_currency(crm)) is not None:
        try:
            return parse_currency(code, "the CRM's currency column")
        except InputError:
            log.warning("the CRM's currency %r is not an ISO 4217 code: money is written with $", code)
    return chosen_currency(given, plan.summary if plan is not None else None)


def compute_kpis(
    crm: CrmData | Path,
    period: str | Period,
    *,
    plan: PlanData | None = None,
    reps_path: Path | None = None,
    accounts_path: Path | None = None,
) -> KpiReport:
    """Every KPI at every level for ``period``. ``crm`` is a loaded ``CrmData`` or the CRM folder."""
    per = as_period(period)
    crm = load_crm_for(crm, plan=plan, reps_path=reps_path, accounts_path=accounts_path)
    if plan is not None:
        require_shared_accounts(crm, plan.assignments["account_id"], "the plan's assignments.csv")
    levels, skipped = build_levels(
        crm.tables,
        assignments=plan.assignments if plan is not None else None,
        territories=plan.territories if plan is not None else None,
        roster_source=crm.roster_source,
    )
    outside, coverage = period_coverage(crm, per)
    long, results = compute_levels(levels, crm.tables, crm.missing, per, no_data=outside)
    warnings = [coverage] if coverage is not None else []
    warnings += unplanned_opportunities(crm, plan) if plan is not None else []
    # how the targets were taken, what the pipeline holds: notes, not warnings
    notes = prorated_notes(crm.tables, per) + stale_pipeline_notes(crm.tables, per)
    for note in notes:
        log.info("%s", note)
    for warning in warnings:
        log.warning("%s", warning)
    warnings += crm.warnings  # logged by the loader
    section = KpiSection(
        period=per,
        results=results,
        skipped_levels=skipped,
        names=_names(crm, plan),
        warnings=warnings,
        notes=notes,
    )
    return KpiReport(period=per, long=long, section=section)


def require_shared_accounts(crm: CrmData, accounts: pd.Series, where: str) -> None:
    """A CRM whose opportunities are all on accounts the plan (``accounts``, named by ``where``) does not
    have is the wrong folder for it: every territory would read 0 and the whole history (unassigned).
    Refused, as ``compare`` refuses plans with no account in common (QA38 F9: an Italian CRM against an
    Australian plan, exit 0 with every territory's forecast 0.00 and the CRM's money in A$)."""
    opps = crm.get("opportunities")
    if opps is None or opps.empty:
        return
    known = set(accounts.astype(str))
    if opps["account_id"].astype(str).isin(known).any():
        return
    raise InputError(
        Problem(
            where,
            None,
            "account_id",
            f"none of the {len(opps):,} opportunities in the CRM is on an account of {where} "
            f"(CRM: {first_few(sorted(set(opps['account_id'].astype(str))))}; {where}: "
            f"{first_few(sorted(known))}): the CRM and the plan are of different accounts; give the CRM "
            "of these accounts, or check that both use the same account ids",
        )
    )


def unplanned_opportunities(crm: CrmData, plan: PlanData) -> list[str]:
    """A warning when opportunities of the CRM are on accounts the plan does not have (another data set,
    or account ids written differently): their KPIs land in the territory ``(unassigned)``."""
    opps = crm.get("opportunities")
    if opps is None or opps.empty:
        return []
    known = set(plan.assignments["account_id"].astype(str))
    ids = opps["account_id"].astype(str)
    outside = ~ids.isin(known)
    if not outside.any():
        return []
    amount = pd.to_numeric(opps["amount"], errors="coerce").fillna(0.0)
    share = float(amount[outside].sum() / amount.sum()) if amount.sum() > 0 else float(outside.mean())
    unknown = sorted(set(ids[outside]))
    folded = {k.strip().casefold(): k for k in known}
    # an id the plan has in another case or with spaces (QA27 F11: se0021 for SE0021)
    shown = [
        f"{u} (did you mean {folded[u.strip().casefold()]}?)" if u.strip().casefold() in folded else u
        for u in unknown
    ]
    return [
        f"{int(outside.sum()):,} of {len(opps):,} opportunities ({fm.share(share)} of their amount) are on "
        f"{len(unknown):,} account(s) that are not in the plan ({first_few(shown)}): their "
        "territory figures are counted under (unassigned). Check that the CRM and the plan use the same "
        "account ids."
    ]


QUOTA_NOTE = (
    "Suggested quota = company target × share, share = (1 − w) × potential share + w × share of the won "
    "revenue the territory inherits in the report period (w = {w:g}); rounded to cents so the quotas sum "
    "exactly to the company target of {unit}{target:,.2f}."
)


FORECAST_QUOTA_NOTE = (
    "Suggested quota = company target × share, share = (1 − w) × potential share + w × the territory's "
    "share of the forecast won amount for the quota year {year} (w = {w:g}; its accounts' history follows "
    "them to the new rep), scaled to sum to 1 with every share kept within 1/{r:g} to {r:g} × its potential "
    "share; rounded to cents so the quotas sum exactly to the company target of {unit}{target:,.2f}."
)
QUOTA_METHODS = ("potential", "forecast")


def check_forecast_options(
    crm_dir: Path | None,
    plan_dir: Path | None,
    forecast_horizon: str | None,
    quota_method: str,
    company_target: float | None,
) -> None:
    """Every inconsistency between the forecast options, reported at once."""
    problems = []
    if forecast_horizon is not None and crm_dir is None:
        problems.append(
            Problem(COMMAND_LINE, None, "--forecast-horizon", "a forecast needs CRM history (--crm)")
        )
    if quota_method not in QUOTA_METHODS:
        problems.append(
            Problem(
                COMMAND_LINE,
                None,
                "--quota-method",
                f"must be one of {', '.join(QUOTA_METHODS)}",
                quota_method,
            )
        )
    elif quota_method == "forecast":
        if forecast_horizon is None:
            problems.append(
                Problem(
                    COMMAND_LINE, None, "--quota-method", "--quota-method forecast needs --forecast-horizon"
                )
            )
        if plan_dir is None or company_target is None:
            problems.append(
                Problem(
                    COMMAND_LINE,
                    None,
                    "--quota-method",
                    "--quota-method forecast needs a plan and --company-target",
                )
            )
    if problems:
        raise InputError(problems)


def forecast_section(report: ForecastReport) -> Markup:
    from territory_planner.forecast.html import render_forecast_section

    return render_forecast_section(report)


def write_report(
    out_dir: Path,
    *,
    plan_dir: Path | None = None,
    crm_dir: Path | None = None,
    period: str | None = None,
    company_target: float | None = None,
    reps_path: Path | None = None,
    accounts_path: Path | None = None,
    quota_history_weight: float | None = None,
    forecast_horizon: str | None = None,
    quota_method: str = "potential",
    currency: str | None = None,
) -> list[Path]:
    """Write report.html (plan balance and/or KPIs), kpis.csv and suggested_quotas.csv into ``out_dir``.

    ``kpis.csv`` is written when ``crm_dir`` is given (then ``period`` is required); unavailable KPIs are
    absent from it (the report lists them with the reason) and empty denominators are blank.
    ``suggested_quotas.csv`` is written when ``company_target`` is given (needs ``plan_dir``).
    With ``forecast_horizon`` (needs ``crm_dir``) the report gains the forecast section and
    ``forecast.csv`` / ``forecast_backtest.csv`` are written; ``quota_method="forecast"`` splits the
    company target by the territories' forecast for the quota year (``quota.py``; needs a plan and a
    horizon). ``quota_history_weight`` None: 0 by potential, ``quota.FORECAST_WEIGHT`` by forecast.
    Money in report.html is written in ``currency`` (a value from ``currency.parse_currency``: "$", "€",
    "EUR", "" for none); ``None`` keeps the currency the plan was made with (``$`` without a plan).
    Returns the paths written.
    """
    # flags that do not go together: usage errors, exit 2, as plan's (QA29 F7: exit 1, "bad input")
    if plan_dir is None and crm_dir is None:
        raise InputError(
            Problem(COMMAND_LINE, None, None, "nothing to report: give a plan folder, a CRM folder, or both")
        )
    if company_target is not None and plan_dir is None:
        raise InputError(
            Problem(
                COMMAND_LINE,
                None,
                "--company-target",
                "suggested quotas need a plan (--plan)",
                str(company_target),
            )
        )
    if crm_dir is not None and period is None:
        raise InputError(
            Problem(COMMAND_LINE, None, "--period", "a period is required with CRM history (e.g. 2026Q3)")
        )
    check_forecast_options(crm_dir, plan_dir, forecast_horizon, quota_method, company_target)
    out_dir = Path(out_dir)
    plan = load_plan(Path(plan_dir)) if plan_dir is not None else None
    crm = (
        load_crm_for(Path(crm_dir), plan=plan, reps_path=reps_path, accounts_path=accounts_path)
        if crm_dir is not None
        else None
    )
    report = compute_kpis(crm, as_period(period), plan=plan) if crm is not None else None
    written: list[Path] = []
    forecast = None
    if forecast_horizon is not None and crm is not None:
        from territory_planner.forecast.api import compute_forecast, write_forecast_tables

        # the CRM's own roster, not the plan's: one forecast per CRM and horizon whatever the plan (QA6 O1)
        source = Path(crm_dir) if crm_dir is not None else crm
        forecast = compute_forecast(
            source,
            forecast_horizon,
            plan=plan,
            reps_path=reps_path,
            accounts_path=accounts_path,
            said=crm.warnings,
        )
        written += write_forecast_tables(forecast, out_dir)
    quotas = None
    weight = default_history_weight(quota_method) if quota_history_weight is None else quota_history_weight
    by_forecast = None
    if forecast is not None and quota_method == "forecast" and crm is not None:
        from territory_planner.forecast.api import compute_forecast, quota_year

        year = quota_year(forecast.horizon)
        by_forecast = (
            forecast
            if year == forecast.horizon
            else compute_forecast(
                source, year, plan=plan, reps_path=reps_path, accounts_path=accounts_path, said=crm.warnings
            )
        )
    if company_target is not None and plan is not None:
        inherited = None
        if report is not None:
            territory = report.section.level("territory")
            if territory is not None and "won_amount" in territory.values.columns:
                inherited = territory.values["won_amount"]
        quotas = suggest_quotas(
            plan.territories,
            company_target,
            inherited_won=inherited,
            history_weight=weight,
            forecast=by_forecast.level_forecast("territory") if by_forecast is not None else None,
        )
        path = out_dir / "suggested_quotas.csv"
        write_csv(quotas, path)
        written.append(path)
    if report is not None:
        path = out_dir / "kpis.csv"
        write_csv(report.long, path)
        written.append(path)
    currency = report_currency(currency, plan, crm)
    target, unit = company_target or 0.0, currency_prefix(currency)
    relabelled = currency_warning(currency, crm)
    with currency_context(currency):
        html = render_report(
            warnings=[relabelled] if relabelled else [],
            plan=plan,
            kpis=report.section if report is not None else None,
            quotas=quotas,
            quota_note=(
                FORECAST_QUOTA_NOTE.format(
                    year=by_forecast.horizon.label, w=weight, r=MAX_SHARE_RATIO, target=target, unit=unit
                )
                if by_forecast is not None
                else QUOTA_NOTE.format(w=weight, target=target, unit=unit)
            ),
            forecast=forecast_section(forecast) if forecast is not None else None,
        )
    path = out_dir / "report.html"
    atomic_write_text(path, html)
    written.append(path)
    log.info("report written to %s", out_dir)
    return written
