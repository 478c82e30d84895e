"""The forecast section of report.html and forecast.html (rendered to ``Markup`` for the report page)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from importlib import resources
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from territory_planner.forecast.api import ForecastReport
from territory_planner.forecast.charts import PeriodPoint, period_chart
from territory_planner.forecast.layout import MIN_WINDOWS, open_periods, past_periods
from territory_planner.report import formatting as fm

#: Past periods drawn in the chart (backtest periods and older history).
CHART_PERIODS = 12
LEVEL_ORDER = ("team", "region", "rep", "territory")


def _f(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _chart(report: ForecastReport) -> Markup:
    history = report.history
    backtest = report.backtest[report.backtest["level"] == "team"].set_index("period")
    points = []
    for label, start, end in past_periods(history.layout, CHART_PERIODS):
        actual = float(history.won_between(start, end)[0])
        row = backtest.loc[label] if label in backtest.index else None
        points.append(
            PeriodPoint(
                label,
                actual,
                _f(row["forecast"]) if row is not None else math.nan,
                _f(row["lower"]) if row is not None else math.nan,
                _f(row["upper"]) if row is not None else math.nan,
                _f(row["baseline_forecast"]) if row is not None else math.nan,
            )
        )
    for period in open_periods(history.layout):  # the export ends in (or before) them: what is known
        known = period.known_to
        when = f"{period.start.date().isoformat()} to {period.end.date().isoformat()}"
        if known is None:
            points.append(
                PeriodPoint(
                    period.label,
                    math.nan,
                    partial="no data",
                    detail=f"{period.label} ({when}): not in the CRM export, whose latest date is "
                    f"{history.layout.as_of.date().isoformat()}",
                )
            )
            continue
        so_far = float(history.won_between(period.start, known)[0])
        points.append(
            PeriodPoint(
                period.label,
                so_far,
                partial="partial",
                detail=f"{period.label} ({when}) partial: {fm.money(so_far)} won to "
                f"{known.date().isoformat()}, the CRM export's latest date; the rest is not known yet",
            )
        )
    team = report.forecast.iloc[0]
    points.append(
        PeriodPoint(
            report.horizon.label,
            math.nan,
            _f(team["forecast"]),
            _f(team["lower"]),
            _f(team["upper"]),
            _f(team["baseline_forecast"]),
        )
    )
    return period_chart(points, fmt=fm.money_short, title="Team won amount per period and forecast")


def accuracy_text(value: float) -> str:
    """A forecast accuracy (1 - |forecast - actual| / actual) as a percentage; below -100% (a series that
    won next to nothing in the backtest, such as a new hire's: -1449.2% in the demo) as "below -100%",
    a figure no reader can use. forecast_backtest.csv keeps the number."""
    return "below -100%" if math.isfinite(value) and value < -1.0 else fm.percent(value)


def _node_accuracy(backtest: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """(level, id) -> pooled backtest accuracy of the product and of seasonal naive."""

    def pooled(part: pd.DataFrame, col: str) -> float:
        total = part["actual"].sum()
        return float(1 - np.abs(part[col] - part["actual"]).sum() / total) if total > 0 else math.nan

    return {
        (str(level), str(ident)): (pooled(part, "forecast"), pooled(part, "baseline_forecast"))
        for (level, ident), part in backtest.groupby(["level", "id"], sort=False)
    }


#: A reconciled forecast this far (relative) from its base method's own number is labelled as reconciled.
RECONCILED_TOLERANCE = 0.005


def method_label(rec: Mapping[Hashable, Any]) -> str:
    """The series' method, and when reconciliation moved its number, by how much from the method's own
    forecast (``base_forecast``): a reader must not take a reconciled figure for the method's."""
    method = str(rec["method"])
    fc, base = _f(rec.get("forecast")), _f(rec.get("base_forecast"))
    if not (math.isfinite(fc) and math.isfinite(base)) or abs(fc - base) <= RECONCILED_TOLERANCE * max(
        abs(base), 1.0
    ):
        return method
    change = f" {fm.signed_percent(100 * (fc - base) / base)}" if base > 0 else ""
    return f"{method}, reconciled{change} (its own forecast {fm.money(base)})"


def _level_rows(
    report: ForecastReport, level: str, node_acc: dict[tuple[str, str], tuple[float, float]]
) -> list[list[tuple[str, str]]]:
    rows = []
    frame = report.forecast[report.forecast["level"] == level].sort_values("forecast", ascending=False)
    for rec in frame.to_dict("records"):
        prod, base = node_acc.get((level, str(rec["id"])), (math.nan, math.nan))
        better = "above" if prod > base else "below" if prod < base else ""
        rows.append(
            [
                (str(rec["id"]), ""),
                (str(rec.get("name") or ""), ""),
                (fm.money(_f(rec["forecast"])), "num"),
                (f"{fm.money(_f(rec['lower']))} – {fm.money(_f(rec['upper']))}", "num"),
                (method_label(rec), "note"),
                (fm.money(_f(rec["baseline_forecast"])), "num"),
                (fm.money(_f(rec["pipeline"])), "num"),
                (accuracy_text(prod), f"num {better}".strip()),
                (accuracy_text(base), "num"),
            ]
        )
    return rows


def forecast_context(report: ForecastReport) -> dict[str, Any]:
    layout = report.history.layout
    team = report.forecast.iloc[0]
    acc = report.accuracy.set_index("level") if not report.accuracy.empty else pd.DataFrame()
    summary = [
        [
            level,
            str(int(r["series"])),
            str(int(r["periods"])),
            accuracy_text(_f(r["forecast_accuracy"])),
            accuracy_text(_f(r["baseline_accuracy"])),
            fm.percent(_f(r["interval_coverage"]), 0),
        ]
        for level, r in acc.iterrows()
    ]
    team_bt = report.backtest[report.backtest["level"] == "team"]
    team_rows = [
        [
            str(r["period"]),
            fm.money(_f(r["actual"])),
            fm.money(_f(r["forecast"])),
            f"{fm.money(_f(r['lower']))} – {fm.money(_f(r['upper']))}",
            accuracy_text(_f(r["forecast_accuracy"])),
            fm.money(_f(r["baseline_forecast"])),
            accuracy_text(_f(r["baseline_accuracy"])),
            method_label(r),
        ]
        for r in team_bt.to_dict("records")
    ]
    node_acc = _node_accuracy(report.backtest)
    levels = []
    for level in LEVEL_ORDER[1:]:
        if not (report.forecast["level"] == level).any():
            continue
        rows = _level_rows(report, level, node_acc)
        named = any(row[1][0] for row in rows)  # regions have no names: no empty column (QA40 F10)
        levels.append({"name": level, "named": named, "rows": [r if named else r[:1] + r[2:] for r in rows]})
    team_acc = acc.loc["team"] if "team" in acc.index else None
    beats = team_acc is not None and _f(team_acc["forecast_accuracy"]) > _f(team_acc["baseline_accuracy"])
    cards = [
        ("Horizon", f"{report.horizon.label} ({report.horizon.start} to {report.horizon.end})"),
        ("Team forecast", fm.money(_f(team["forecast"]))),
        ("80% interval", f"{fm.money_short(_f(team['lower']))} – {fm.money_short(_f(team['upper']))}"),
        ("Team method", method_label(team.to_dict())),
        ("Open pipeline, expected", fm.money(_f(team["pipeline"]))),
        (
            "Backtest accuracy (team)",
            accuracy_text(_f(team_acc["forecast_accuracy"])) if team_acc is not None else fm.NA,
        ),
        (
            "Seasonal naive (team)",
            accuracy_text(_f(team_acc["baseline_accuracy"])) if team_acc is not None else fm.NA,
        ),
    ]
    return {
        "cards": cards,
        "cutoff": layout.cutoff.date().isoformat(),
        "as_of": layout.as_of.date().isoformat(),
        "gap": layout.gap,
        "chart": _chart(report),
        "summary": summary,
        "team_rows": team_rows,
        "levels": levels,
        "beats": beats,
        "windows": len(layout.backtest),
        "min_windows": MIN_WINDOWS,
        "notes": report.fallback_notes(fm.money),
        "open_notes": [note[0].upper() + note[1:] for note in report.open_period_notes(fm.money)],
    }


def render_forecast_section(report: ForecastReport) -> Markup:
    text = resources.files("territory_planner.forecast").joinpath("templates/forecast_section.html.j2")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(text.read_text("utf-8"))
    return Markup(template.render(fc=forecast_context(report)))
