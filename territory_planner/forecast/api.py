"""Library entry points of the forecast: ``compute_forecast`` (frames) and ``write_forecast`` (files)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.forecast import engine
from territory_planner.forecast.history import History, as_of_date, build_history, first_close_date
from territory_planner.forecast.layout import Layout, build_layout, month_label, open_periods
from territory_planner.io.writers import write_csv
from territory_planner.report.api import load_crm_for
from territory_planner.report.crm import MONEY_TABLES, CrmData
from territory_planner.report.formatting import counted
from territory_planner.report.levels import UNASSIGNED
from territory_planner.report.periods import Period, PeriodError, parse_period
from territory_planner.report.plan import PlanData, load_plan

log = logging.getLogger(__name__)

#: A departed rep's note names at most this many of the reps who take over its accounts.
MAX_HEIRS_LISTED = 6
#: The CRM tables a forecast reads: the history, the roster, the accounts' owners and the money tables
#: whose currency column names the page's currency; a bad activities, leads or time-log table, which it
#: never reads, does not stop it (QA67)
FORECAST_TABLES = ("opportunities", "reps", "accounts", *MONEY_TABLES)

FORECAST_COLUMNS = ["level", "id", "period_start", "period_end", "forecast", "lower", "upper", "method"]
BACKTEST_COLUMNS = [
    "level",
    "id",
    "period",
    "forecast",
    "actual",
    "forecast_accuracy",
    "baseline_forecast",
    "baseline_accuracy",
]


def _listed(ids: list[str]) -> str:
    """The first ``MAX_HEIRS_LISTED`` ids, "and N more" for the rest."""
    more = len(ids) - MAX_HEIRS_LISTED
    return ", ".join(ids[:MAX_HEIRS_LISTED]) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class ForecastReport:
    horizon: Period
    history: History
    result: engine.EngineResult
    forecast: pd.DataFrame  # forecast.csv
    backtest: pd.DataFrame  # forecast_backtest.csv
    accuracy: pd.DataFrame  # per level: pooled accuracy of the product and of the baseline
    # won in the horizon up to the export's latest date, every deal counted (those created after the
    # cut-off too, which the history leaves out); None when the export ends before the horizon
    won_so_far: float | None = None

    def fallback_notes(self, money: Callable[[float], str] = "{:,.0f}".format) -> list[str]:
        """What a reader must know when the history is too short: no backtest period, and the team's
        simpler method (the ``forecast`` command prints these; the HTML says the same); amounts by
        ``money`` (the run's currency)."""
        notes = []
        team_method = str(self.forecast.iloc[0]["method"]) if len(self.forecast) else ""
        if " (" in team_method:  # "mean month (short history: 10 months)", "seasonal_naive (sparse ...)"
            kind, why = team_method.split(" (", 1)
            note = f"the team forecast falls back to {kind.replace('_', ' ')} ({why}"
            if kind == "mean month":
                note += "; seasonal naive needs 12 months"
            notes.append(note)
        notes += self.departed_notes(money)
        notes += self.without_territory_notes()
        notes += self.stale_notes(money)
        notes += self.thin_pipeline_notes(money)
        notes += self.backtest_method_notes()
        if self.backtest.empty:
            notes.append(
                "no backtest: no past period of the horizon's length has a year of history before it, "
                "so the forecast's accuracy cannot be measured yet"
            )
        return notes

    def open_period_notes(self, money: Callable[[float], str] = "{:,.0f}".format) -> list[str]:
        """What is known and what is forecast when the export ends before the horizon: one note per period
        like the horizon that is only partly known (its won amount so far) or not known at all, and the
        months forecast besides the horizon (the ``forecast`` command prints these, the page shows them by
        the chart, which draws such a period marked partial)."""
        layout = self.history.layout
        notes = self._started_notes(money)
        periods = open_periods(layout)
        if not periods:
            return notes
        as_of = layout.as_of.date().isoformat()
        for p in periods:
            if p.known_to is None:
                notes.append(f"{p.label} is not in the CRM export (its latest date is {as_of})")
                continue
            won = float(self.history.won_between(p.start, p.known_to)[0])
            notes.append(
                f"{p.label} is only partly known: the CRM export ends {as_of}, and {money(won)} was won from "
                f"{p.start.date().isoformat()} to {p.known_to.date().isoformat()} (the chart marks it "
                "partial); it is no backtest period until it ends"
            )
        if layout.gap:
            first, last = month_label(layout.end_month), month_label(layout.end_month + layout.gap - 1)
            partly = f" (known only to {as_of})" if layout.cutoff.day != 1 else ""
            months = f"{first}{partly}" + (f" to {last} are" if layout.gap > 1 else " is")
            notes.append(
                f"the models learn from whole months only, up to {month_label(layout.end_month - 1)}; "
                f"{months} forecast too, outside the {self.horizon.label} figure"
            )
        return notes

    def _started_notes(self, money: Callable[[float], str]) -> list[str]:
        """A horizon the CRM export already reaches into is forecast as of its start (the cut-off: nothing
        after it is used, as in the backtest), so what was won in it so far is not in the figure: said,
        with that amount (QA27 F19: 2026Q4 forecast on 4 December, 1,058,023 of it already won)."""
        layout = self.history.layout
        start = self.horizon.start_ts
        if layout.as_of < start or self.won_so_far is None:
            return []
        known_to = min(layout.as_of, self.horizon.stop_ts - pd.Timedelta(days=1))
        won = self.won_so_far
        return [
            f"{self.horizon.label} has begun in the CRM export (its latest date is "
            f"{layout.as_of.date().isoformat()}): the forecast is made as of {start.date().isoformat()}, "
            f"its start, and uses nothing after it; {money(won)} was already won from "
            f"{start.date().isoformat()} to {known_to.date().isoformat()}, in the period but not used"
        ]

    def backtest_method_notes(self) -> list[str]:
        """When no backtest period of the team used the method of the team's forecast (e.g. a history
        too short at those cut-offs for it), the backtest accuracy is that of other methods: said, so that
        it is not read as the forecast method's (QA25 F8: "holt_winters+pipeline" beside a backtest
        accuracy that six periods of seasonal naive made)."""
        team = self.forecast[self.forecast["level"] == "team"]
        past = self.backtest[self.backtest["level"] == "team"] if not self.backtest.empty else self.backtest
        if team.empty or past.empty or "method" not in past:
            return []
        live = str(team.iloc[0]["method"]).split(" (", 1)[0]
        used = past["method"].astype(str).str.split(" (", n=1, regex=False).str[0]
        if (used == live).any():
            return []
        counts = used.value_counts()
        names = [str(m).replace("_", " ") for m in counts.index]
        methods = ", ".join(f"{m} in {k} of {len(used)}" for m, k in zip(names, counts.tolist(), strict=True))
        return [
            f"the team's backtest accuracy is that of {methods} past periods, not of "
            f"{live.replace('_', ' ')}, the forecast's method, which no past period used"
        ]

    def thin_pipeline_notes(self, money: Callable[[float], str] = "{:,.0f}".format) -> list[str]:
        """When the export's open pipeline is far thinner than the backtest's rebuilt ones (``engine.
        _thin_pipeline``): the forecast is made without the pipeline methods, and says why."""
        thin = self.result.thin_pipeline
        if thin is None:
            return []
        amount, share, typical = thin
        team = self.backtest[self.backtest["level"] == "team"]["method"].astype(str)
        used = bool(team.str.contains("+pipeline", regex=False).any())
        return [
            f"the CRM export's open deals are expected to bring {money(amount)} in {self.horizon.label} "
            f"(amount x probability), {100 * share:.0f}% of what the team won in the same period a year "
            f"before, where the pipelines rebuilt at the same point of the backtest periods brought "
            f"{100 * typical:.0f}% (median): the methods with the pipeline, scored on those, are left out of "
            "this forecast (an export without its open deals, or with their probabilities far below the "
            "win rates, does this)"
            + (
                ", while the team's backtest accuracy is partly that of forecasts made with them"
                if used
                else ""
            )
        ]

    def stale_notes(self, money: Callable[[float], str] = "{:,.0f}".format) -> list[str]:
        """The open deals the forecast leaves out as stale (``pipeline.stale_open``): how many, their amount,
        and the age beyond which a deal counts as stale."""
        from territory_planner.forecast.pipeline import STALE_TAIL, stale_open

        layout = self.history.layout
        if layout.cutoff <= layout.as_of:  # no live forecast: the backtest's pipeline is rebuilt
            return []
        stale, oldest = stale_open(self.history, layout.cutoff)
        if not stale.any():
            return []
        d = self.history.deals
        amount = d["amount"].to_numpy(dtype="float64")[stale]
        weighted = amount * d["probability"].to_numpy(dtype="float64")[stale]
        return [
            f"{int(stale.sum()):,} open deals ({money(np.nansum(amount))} in all, "
            f"{money(np.nansum(weighted))} weighted by their probability) are past their expected close "
            f"date and older than {oldest:,.0f} days, longer than {100 * (1 - STALE_TAIL):g}% of the deals "
            "closed in the two years before the cut-off took: stale, they are left out of the forecast's "
            "open pipeline (close or update them in the CRM)"
        ]

    def departed_notes(self, money: Callable[[float], str] = "{:,.0f}".format) -> list[str]:
        """One note per rep in the history but not in the roster: it has no forecast row, its deals are
        forecast under its accounts' current reps (and, under a plan, follow them to the new territories)."""
        moved = self.history.reassigned
        if moved.empty:
            return []
        plan = self.history.nodes.n_territories > 0
        notes = []
        for rep, part in moved.groupby("departed_rep", sort=True):
            heirs = [r for r in part["rep_id"] if r != UNASSIGNED]
            where = f"their accounts' current reps ({_listed(heirs)})" if heirs else ""
            orphans = part[part["rep_id"] == UNASSIGNED]
            if len(orphans):
                lost = f"{int(orphans['deals'].sum()):,} deals of accounts with no current rep in the roster"
                where += (" and " if where else "") + f"the rep row {UNASSIGNED} ({lost})"
            deals = int(part["deals"].sum())
            notes.append(
                f"rep {rep} is not in the roster (departed): no forecast of its own; its "
                f"{counted(deals, 'deal')} ({money(part['won_amount'].sum())} won before the cut-off) "
                f"{'is' if deals == 1 else 'are'} forecast under {where}"
                + ("; under the plan they follow their accounts to the new territories" if plan else "")
            )
        return notes

    def without_territory_notes(self) -> list[str]:
        """Under a plan, one note per rep of the rep level that has no territory in it (a rep the plan
        removes, or one the CRM has no roster to call departed): the rep level is the CRM's, so the rep keeps
        its row there, while its accounts' history follows them to the plan's territories."""
        nodes, deals = self.history.nodes, self.history.deals
        if not nodes.n_territories:
            return []
        territories = list(nodes.ids[nodes.territory_slice])
        won = deals["status"].eq("won") & deals["close_date"].lt(self.history.layout.cutoff)
        amount = deals["amount"].astype("float64").where(won, 0.0)
        notes = []
        for code, rep in enumerate(nodes.ids[nodes.rep_slice]):
            mine = deals["rep_code"].eq(code).to_numpy(bool)
            if rep in territories or rep == UNASSIGNED or not mine.any():
                continue
            codes = deals.loc[mine, "territory_code"].to_numpy()
            to = amount[mine].groupby(codes).sum().sort_values(ascending=False, kind="stable")
            listed = _listed([territories[int(c)] for c in to.index])
            notes.append(
                f"rep {rep} has no territory in the plan: its rep row forecasts its accounts as they are "
                f"today (the team, region and rep forecasts do not depend on the plan); under the plan its "
                f"{int(mine.sum()):,} deals follow their accounts to the territories {listed}"
            )
        return notes

    def level_forecast(self, level: str) -> pd.Series:
        rows = self.forecast[self.forecast["level"] == level]
        return pd.Series(rows["forecast"].to_numpy(), index=rows["id"].astype(str).to_numpy())


#: Seconds of a plan's time limit kept for its forecast: fixed, and per rep (a rep and a territory series,
#: each at every backtest window). The demo's forecast (20 reps, 20 territories) costs 9.3 CPU seconds,
#: about 6 s on two quiet cores; 3 + 0.35 x 20 = 10 s are kept.
RESERVE_FIXED, RESERVE_PER_REP, RESERVE_MAX_SHARE = 3.0, 0.35, 0.4


def forecast_reserve(reps: int, time_limit: float | None, runs: int = 1) -> float:
    """Seconds ``plan --forecast-horizon`` keeps for the forecast out of ``--time-limit`` (``runs`` = 2
    when ``--quota-method forecast`` forecasts the quota year too)."""
    if time_limit is None:
        return 0.0
    return min(runs * (RESERVE_FIXED + RESERVE_PER_REP * reps), RESERVE_MAX_SHARE * time_limit)


def quota_year(horizon: Period) -> Period:
    """The period ``--quota-method forecast`` splits an annual target by: the 12 months from the horizon's
    start (the horizon itself when it is a year or longer)."""
    if horizon.days >= 365:
        return horizon
    start = pd.Timestamp(horizon.start)
    end = (start + pd.DateOffset(months=12) - pd.Timedelta(days=1)).date()
    label = str(start.year) if (start.month, start.day) == (1, 1) else f"{horizon.start.isoformat()}:{end}"
    return Period(horizon.start, end, label)


def as_horizon(horizon: str | Period) -> Period:
    if isinstance(horizon, Period):
        return horizon
    try:
        return parse_period(horizon)
    except PeriodError as exc:
        raise InputError(Problem("", None, "horizon", str(exc), str(horizon))) from exc


def accuracy(forecast: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """1 - |forecast - actual| / actual (the KPI's definition); NaN when nothing was won."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(actual > 0, 1.0 - np.abs(forecast - actual) / actual, np.nan)


def _forecast_frame(history: History, res: engine.EngineResult, horizon: Period) -> pd.DataFrame:
    nodes = history.nodes
    frame = pd.DataFrame(
        {
            "level": nodes.level,
            "id": nodes.ids,
            "period_start": horizon.start.isoformat(),
            "period_end": horizon.end.isoformat(),
            "forecast": res.forecast[0].round(2),
            "lower": res.lower[0].round(2),
            "upper": res.upper[0].round(2),
            "method": res.method[0],
            "name": [nodes.names.get(i, "") for i in nodes.ids],
            "base_forecast": res.base[0].round(2),
            "baseline_forecast": res.candidates[0, :, 0].round(2),
            "pipeline": res.pipeline[0].round(2),
        }
    )
    return frame


def _backtest_frame(history: History, res: engine.EngineResult) -> pd.DataFrame:
    nodes = history.nodes
    parts = []
    for w, window in enumerate(res.layout.windows):
        if w == 0:
            continue
        fc, act, base = res.forecast[w], res.actual[w], res.candidates[w, :, 0]
        parts.append(
            pd.DataFrame(
                {
                    "level": nodes.level,
                    "id": nodes.ids,
                    "period": window.label,
                    "forecast": fc.round(2),
                    "actual": act.round(2),
                    "forecast_accuracy": accuracy(fc, act).round(6),
                    "baseline_forecast": base.round(2),
                    "baseline_accuracy": accuracy(base, act).round(6),
                    "lower": res.lower[w].round(2),
                    "upper": res.upper[w].round(2),
                    "method": res.method[w],
                    # the method's own number before reconciliation (QA40 F6: "seasonal_naive" beside a
                    # forecast reconciliation had cut to half of seasonal naive's)
                    "base_forecast": res.base[w].round(2),
                    "period_start": window.start.date().isoformat(),
                    "period_end": window.end.date().isoformat(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[*BACKTEST_COLUMNS, "lower", "upper", "method", "base_forecast"])
    frame = pd.concat(parts, ignore_index=True)
    order = {name: k for k, name in enumerate(dict.fromkeys(nodes.level))}
    frame["_l"] = frame["level"].map(order)
    frame = frame.sort_values(["_l", "id", "period_start"], kind="stable").drop(columns="_l")
    return frame.reset_index(drop=True)


ACCURACY_COLUMNS = [
    "level",
    "series",
    "periods",
    "forecast_accuracy",
    "baseline_accuracy",
    "interval_coverage",
]


def _accuracy_table(backtest: pd.DataFrame) -> pd.DataFrame:
    """Per level, pooled over ids and windows: 1 - sum|error| / sum actual, product vs baseline (no rows,
    same columns, when the history is too short for any backtest period)."""
    rows = []
    for level, part in backtest.groupby("level", sort=False):
        act = part["actual"].to_numpy(dtype="float64")
        total = act.sum()
        inside = (part["actual"] >= part["lower"]) & (part["actual"] <= part["upper"])
        rows.append(
            {
                "level": level,
                "series": part["id"].nunique(),
                "periods": part["period"].nunique(),
                "forecast_accuracy": 1 - np.abs(part["forecast"] - act).sum() / total if total else np.nan,
                "baseline_accuracy": 1 - np.abs(part["baseline_forecast"] - act).sum() / total
                if total
                else np.nan,
                "interval_coverage": float(inside.mean()) if len(part) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def current_owners(accounts: pd.DataFrame | None) -> pd.Series:
    """account_id -> current rep, from the CRM's accounts.csv (a plan's ``current_rep`` is not read: the
    rep level is the same with or without a plan)."""
    if accounts is None or not {"account_id", "current_rep"} <= set(accounts.columns):
        return pd.Series(dtype=str)
    rep = accounts["current_rep"].astype("string")
    keep = rep.notna() & rep.ne("")
    out = pd.Series(rep[keep].to_numpy(str), index=accounts.loc[keep, "account_id"].astype(str))
    return out[~out.index.duplicated(keep="last")]


def forecast_history(data: CrmData, horizon: str | Period) -> tuple[pd.DataFrame, Layout]:
    """The opportunities and the monthly layout a forecast of ``horizon`` needs from the loaded CRM;
    an ``InputError`` when there is nothing to forecast from (no opportunities table, or no whole month
    of closed deals before the cut-off). ``plan --forecast-horizon`` checks this before solving."""
    period = as_horizon(horizon)
    opps = data.get("opportunities")
    if opps is None:
        reason = data.missing.get("opportunities", "opportunities.csv not found")
        raise InputError(Problem("opportunities.csv", None, None, f"the forecast needs won deals: {reason}"))
    if opps.empty or opps["created_date"].isna().all():  # a header and no rows (QA17 F12: a traceback)
        raise InputError(
            Problem("opportunities.csv", None, None, "no opportunities: nothing to forecast from")
        )
    layout = build_layout(period, first_close_date(opps), as_of_date(opps))
    if layout.end_month <= layout.first_month:
        raise InputError(
            Problem(
                "opportunities.csv",
                None,
                "close_date",
                f"no whole month of closed deals before the cut-off {layout.cutoff.date()}: "
                "nothing to forecast from",
            )
        )
    return opps, layout


def compute_forecast(
    crm: CrmData | Path,
    horizon: str | Period,
    *,
    plan: PlanData | Path | None = None,
    reps_path: Path | None = None,
    accounts_path: Path | None = None,
    workers: int | None = None,
    said: Collection[str] = (),
) -> ForecastReport:
    """Forecast won amount for ``horizon`` per team, region, rep (and territory under ``plan``).

    The team, regions and reps are the CRM's own: its roster (reps.csv, else ``reps_path``), its accounts'
    current reps and its history, so they are one set of numbers per CRM and horizon whatever ``plan`` is
    given; ``plan`` only adds its territories, reconciled to add up to the same team total (QA6 O1: the
    team's forecast was 9,398,793 without a plan, 9,247,383 under one and 9,403,553 under another, because
    the regions and the roster came from each plan). A ``crm`` folder is loaded without the plan's roster;
    a loaded ``CrmData`` is taken as it is, so load it without the plan too
    (``load_crm_for(crm_dir, reps_path=...)``): one loaded with ``plan=`` carries the plan's roster."""
    period = as_horizon(horizon)
    if isinstance(plan, Path):
        plan = load_plan(plan)
    data = load_crm_for(
        crm, reps_path=reps_path, accounts_path=accounts_path, said=said, only=FORECAST_TABLES
    )
    opps, layout = forecast_history(data, period)
    history = build_history(
        opps,
        layout,
        roster=data.roster,
        assignments=plan.assignments if plan is not None else None,
        territories=plan.territories if plan is not None else None,
        owners=current_owners(data.get("accounts")),
    )
    result = engine.run(history, workers=workers)
    backtest = _backtest_frame(history, result)
    log.info(
        "forecast %s: %d series, %d backtest windows", period.label, len(history.nodes), len(layout.backtest)
    )
    return ForecastReport(
        horizon=period,
        history=history,
        result=result,
        forecast=_forecast_frame(history, result, period),
        backtest=backtest,
        accuracy=_accuracy_table(backtest),
        won_so_far=_won_so_far(opps, layout, period),
    )


def _won_so_far(opps: pd.DataFrame, layout: Layout, period: Period) -> float | None:
    if layout.as_of < period.start_ts:
        return None
    close = opps["close_date"]
    won = opps["status"].eq("won") & (close >= period.start_ts) & (close < period.stop_ts)
    return float(pd.to_numeric(opps.loc[won, "amount"], errors="coerce").sum())


def write_forecast_tables(report: ForecastReport, out_dir: Path) -> list[Path]:
    paths = [Path(out_dir) / "forecast.csv", Path(out_dir) / "forecast_backtest.csv"]
    write_csv(report.forecast, paths[0])
    write_csv(report.backtest, paths[1])
    return paths
