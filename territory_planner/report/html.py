"""Build report.html: one self-contained page (inline CSS and SVG, no script, no network).

The Python side prepares plain rows of already formatted, *unescaped* strings; the Jinja template
escapes every value (``autoescape``), so names from the inputs show as text and run nothing. Only the
SVG charts are passed as ``Markup`` (they escape their own labels).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from territory_planner.currency import is_money
from territory_planner.report import charts, level_balance
from territory_planner.report import formatting as fm
from territory_planner.report.levels import KPI_DEFINITIONS, KPI_ORDER, REBUILT, TEAM_ID, LevelResult
from territory_planner.report.periods import Period
from territory_planner.report.plan import PlanData

MAX_MOVED_ROWS = 50


@dataclass
class KpiSection:
    period: Period
    results: list[LevelResult]
    skipped_levels: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # rep_id -> display name
    warnings: list[str] = field(default_factory=list)  # shown above the KPIs (e.g. CRM and plan disagree)
    notes: list[str] = field(default_factory=list)  # how a figure was taken (quotas pro rata), not a problem

    def level(self, name: str) -> LevelResult | None:
        return next((r for r in self.results if r.level == name), None)


def _f(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _tolerances(summary: dict[str, Any]) -> dict[str, float]:
    tol = (summary.get("config") or {}).get("tolerance")
    if isinstance(tol, int | float):
        return {"potential": float(tol), "workload": float(tol)}
    if isinstance(tol, dict):
        return {str(k): _f(v) for k, v in tol.items()}
    return {}


def _moved_share_text(s: dict[str, Any]) -> str:
    """The moved share, and the share the budget limits when a departed rep's accounts make them differ."""
    text = fm.percent(_f(s.get("moved_potential_share")))
    budgeted = fm.budgeted_share(s)
    return text if budgeted is None else f"{text} ({fm.percent(budgeted)} from reps who stay)"


def _gap_text(s: dict[str, Any]) -> str:
    """The gap; a hand-edited plan below its plan's lower bound says why (the bound holds only for plans
    that keep every constraint, and the edits break some)."""
    text = fm.percent(_f(s.get("gap")), 2) + fm.design_gap_note(s)
    gap = _f(s.get("gap"))
    if s.get("status") == "manual" and math.isfinite(gap) and gap < 0:
        text += " (below the plan's bound: the edits break constraints it assumes)"
    return text


def _objective_cards(s: dict[str, Any]) -> list[tuple[str, str]]:
    """The objective's card; with a disruption penalty (--disruption-weight) it is travel + penalty, and
    the travel gets its own card (QA28 F6: the sum was labelled workload-weighted km)."""
    price, travel = _f(s.get("disruption_price")), _f(s.get("compactness"))
    if not (math.isfinite(price) and price > 0 and math.isfinite(travel)):
        return [("Objective (workload-weighted km)", fm.number(_f(s.get("objective"))))]
    return [
        ("Objective (travel + disruption penalty)", fm.number(_f(s.get("objective")))),
        ("Travel (workload-weighted km)", fm.number(travel)),
    ]


def plan_context(plan: PlanData) -> dict[str, Any]:
    s = plan.summary
    terr = plan.territories
    measures = [c[: -len("_dev_pct")] for c in terr.columns if c.endswith("_dev_pct")]
    tol = _tolerances(s)
    found = s.get("plan")
    identity: dict[str, Any] = found if isinstance(found, dict) else {}
    # without a current alignment no account moves in or out: "0 moved" read as a perfectly stable plan
    unaligned = fm.unaligned(s)
    cards = [
        # which plan this is (QA27 F27: forwarded reports of three scenarios could not be told apart)
        *([("Plan", str(identity["name"]))] if identity.get("name") else []),
        *([("Scenario", Path(str(identity["scenario"])).name)] if identity.get("scenario") else []),
        *([("Rebalanced from", str(identity["rebalanced_from"]))] if identity.get("rebalanced_from") else []),
        ("Status", str(s.get("status", fm.NA))),
        ("Proven optimal", "yes" if s.get("proven_optimal") else "no"),
        *_objective_cards(s),
        ("Lower bound", fm.number(_f(s.get("lower_bound"))) + fm.bound_qualifier(s)),
        ("Gap", _gap_text(s)),
        (
            ("Edited from", str((s.get("edited_from") or {}).get("plan", fm.NA)))
            if s.get("status") == "manual"  # moved by hand: no solver ran
            else ("Solver", f"{s.get('solver', fm.NA)} in {fm.number(_f(s.get('solve_seconds')), 1)} s")
        ),
        ("Accounts / reps", f"{fm.number(_f(s.get('accounts', len(plan.assignments))))} / {len(terr)}"),
        *(
            [("Moved accounts", fm.NO_ALIGNMENT)]  # QA63 F2
            if unaligned
            else [
                ("Moved accounts", fm.number(_f(s.get("moved_accounts", int(plan.moved.shape[0]))))),
                ("Moved potential", _moved_share_text(s)),
            ]
        ),
    ]
    for m, v in (s.get("max_abs_dev_pct") or {}).items():
        cards.append((f"Largest {m} deviation", f"{_f(v):.1f}%"))
    columns = ["Rep", "Name", "Accounts"]
    for m in measures:
        columns += [m.capitalize(), f"{m} target", f"{m} dev."]
    # without one, the moved in/out columns would be all 0 (QA63 F2's rest)
    columns += [level_balance.TRAVEL] + ([] if unaligned else ["Moved in", "Moved out"])
    rows = []
    for rec in terr.to_dict("records"):
        cells: list[tuple[str, str]] = [(str(rec.get("rep_id")), ""), (_text(rec.get("name")), "")]
        cells.append((fm.number(_f(rec.get("accounts"))), "num"))
        for m in measures:
            fmt = fm.money if is_money(m) else fm.number
            dev = _f(rec.get(f"{m}_dev_pct"))
            out_of_band = m in tol and math.isfinite(dev) and abs(dev) > 100 * tol[m] + 1e-9
            cells += [
                (fmt(_f(rec.get(m))), "num"),
                (fmt(_f(rec.get(f"{m}_target"))), "num"),
                (fm.signed_percent(dev), "num below" if out_of_band else "num"),
            ]
        for c in ("travel_km",) if unaligned else ("travel_km", "moved_in", "moved_out"):
            cells.append((fm.number(_f(rec.get(c))), "num"))
        rows.append(cells)
    labels = [f"{r} {n}".strip() for r, n in zip(terr["rep_id"], terr["name"].fillna(""), strict=True)]
    dev_series = {m: [_f(v) for v in terr[f"{m}_dev_pct"]] for m in measures}
    deviation = charts.bar_chart(
        labels,
        dev_series,
        fmt=fm.signed_percent,
        title="Deviation from target per rep (%)",
        band={m: (-100 * tol[m], 100 * tol[m]) for m in measures if m in tol},
    )
    moved = plan.moved.sort_values("potential", ascending=False)
    moved_rows = [
        [
            str(r.get("account_id")),
            str(r.get("name", "") if isinstance(r.get("name"), str) else ""),
            str(r.get("current_rep") or ""),
            str(r.get("rep_id")),
            fm.money(_f(r.get("potential"))),
            fm.number(_f(r.get("distance_km")), 1),
            str(r.get("reason", "") if isinstance(r.get("reason"), str) else ""),
        ]
        for r in moved.head(MAX_MOVED_ROWS).to_dict("records")
    ]
    total_potential = float(plan.assignments["potential"].sum())
    return {
        "cards": cards,
        "columns": columns,
        "rows": rows,
        "deviation_chart": deviation,
        "moved_rows": moved_rows,
        "unaligned": unaligned,
        "moved_count": fm.counted(int(moved.shape[0]), "account moves", "accounts move"),
        "moved_potential": fm.money(float(moved["potential"].sum())),
        "moved_share": fm.percent(
            float(moved["potential"].sum()) / total_potential if total_potential else math.nan
        ),
        "moved_truncated": max(int(moved.shape[0]) - MAX_MOVED_ROWS, 0),
        "levels": level_balance.level_tables(terr, s),
        "violations": violation_rows(s, terr),
        "relaxed_because": relaxed_because(s),
        # inputs accepted with a warning (coordinates typed wrong, blank current reps, repaired polygons, far
        # chosen centres): leadership reads the report, not the console (QA5)
        "input_warnings": input_notes(s),
    }


_CONFLICT_NOTE = re.compile(r"^[a-z_]+: ")  # "balance: account A1 alone has ...": a conflict, as noted


def relaxed_because(summary: dict[str, Any]) -> list[str]:
    """Why a relaxed plan breaks constraints, for the report (QA13 13: the console and summary.json gave
    the proof, "account JP1850147 (Tokyo) alone has $121.67M potential, more than any band it may go
    to holds", the report only the violations): the "RELAXED PLAN" note and the conflicts noted right
    after it, and the note of the territories or districts left in pieces. Empty for other plans."""
    if summary.get("status") != "relaxed":
        return []
    notes = [str(n) for n in summary.get("notes") or []]
    out: list[str] = []
    for i, note in enumerate(notes):
        if note.startswith("RELAXED PLAN"):
            out.append(note)
            out += itertools.takewhile(lambda n: bool(_CONFLICT_NOTE.match(n)), notes[i + 1 :])
        elif note.startswith("relaxed: "):
            out.append(note)
    return list(dict.fromkeys(out))


def _text(value: object) -> str:
    """A cell's text: empty for a missing value (a reps file without names showed "None")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def input_notes(summary: dict[str, Any]) -> list[str]:
    """summary.json's input warnings for the report, with the repaired polygons of a file in one note.

    QA7, Tokyo's 262 municipalities: ten boxes of "/tmp/.../accounts.gpkg row 3: invalid polygon (Ring
    Self-intersection[140.153190404306 35.8960078280465]) repaired with ..." came before the balance table
    (1,700 px on a phone), with the planner's absolute path.
    """
    return fm.group_repair_notes([str(w) for w in summary.get("input_warnings") or []], summary)


def _amount(measure: str, value: float, digits: int = 0) -> str:
    """An amount of ``measure`` in the report's words: money in the plan's currency, else a number."""
    return fm.money(value) if is_money(measure) else fm.number(value, digits)


def _band_detail(v: dict[str, Any], territories: pd.DataFrame | None, tol: dict[str, float]) -> str:
    """A rep's value against its band, from territories.csv and the plan's tolerance, for a violation
    that does not carry them (a relaxed plan's)."""
    measure, rep = str(v.get("measure", "")), str(v.get("rep_id") or "")
    if territories is None or not rep or measure not in territories or measure not in tol:
        return ""
    row = territories[territories["rep_id"].astype(str) == rep]
    if row.empty or f"{measure}_target" not in row:
        return ""
    value, target = float(row[measure].iloc[0]), float(row[f"{measure}_target"].iloc[0])
    if not (math.isfinite(value) and math.isfinite(target) and target):
        return ""
    low, high = (1 - tol[measure]) * target, (1 + tol[measure]) * target
    dev = 100 * (value - target) / target
    # as many decimals as it takes for the value to read outside the edge it crossed (QA30 F11: "98 ...
    # (band 80 to 98)" for 98.2 against 97.6)
    edge = high if value > high else low
    digits = next((d for d in range(4) if round(value, d) != round(edge, d)), 3)
    return (
        f"{_amount(measure, value, digits)}, {fm.signed_percent(dev)} vs target "
        f"(band {_amount(measure, low, digits)} to {_amount(measure, high, digits)})"
    )


def violation_rows(summary: dict[str, Any], territories: pd.DataFrame | None = None) -> list[list[str]]:
    """The constraints a relaxed or hand-edited plan breaks: family, rep, measure, by how much, detail.

    Amounts of a money measure (potential) and of the disruption budget are in the plan's currency; a
    relaxed plan's band and budget rows say where the rep or the plan stands (QA7: a relaxed Tokyo plan
    listed "balance_min R01 potential 300,699,509.68" and "budget 7,228,201,500.00" with no detail).
    """
    tol = _tolerances(summary)
    rows = []
    for v in summary.get("violations") or []:
        if not isinstance(v, dict):
            continue
        measure = str(v.get("measure", ""))
        detail = ""
        if isinstance(v.get("dev_pct"), int | float):
            detail = (
                f"{fm.signed_percent(_f(v['dev_pct']))} vs target (band {_amount(measure, _f(v.get('low')))} "
                f"to {_amount(measure, _f(v.get('high')))})"
            )
        elif v.get("reps"):
            detail = f"family {v.get('parent_id', '')} split between {', '.join(map(str, v['reps']))}"
        elif measure == "pieces":  # a territory (district) in several pieces: relaxed, or cut apart by hand
            detail = f"{int(_f(v.get('violation'))) + 1} pieces, not one"
            # QA26: a relaxed plan's count was 11 here, 10 on the map; a hand-edited plan counts the pieces
            # alone, so it has no such note (QA70: said of every edited plan, its home units all kept)
            if v.get("constraint") == "territory_contiguity" and summary.get("status") != "manual":
                detail += " (one more when its rep's home unit went to another rep)"
        elif v.get("limit") is not None:  # the budget's: potential that may move, in the plan's currency
            limit = _f(v["limit"])
            detail = (
                f"limit {fm.money(limit) if v.get('constraint') == 'budget' else _amount(measure, limit)}"
            )
        elif v.get("constraint") == "budget":
            share = fm.budgeted_share(summary)
            share = _f(summary.get("moved_potential_share")) if share is None else share
            limit = _f((summary.get("config") or {}).get("max_moved_share"))
            if math.isfinite(share) and math.isfinite(limit):
                detail = f"moved {fm.percent(share)} of potential; the budget is {fm.percent(limit)}"
        elif str(v.get("constraint", "")).startswith("balance"):
            detail = _band_detail(v, territories, tol)
        budget = v.get("constraint") == "budget"
        rows.append(
            [
                str(v.get("constraint", "")),
                str(v.get("rep_id") or v.get("group") or ""),  # a district / region band: its name
                measure,
                fm.money(_f(v.get("violation"))) if budget else _amount(measure, _f(v.get("violation")), 2),
                detail,
            ]
        )
    return rows


def _better(kpi: str, value: float, team: float) -> str:
    """``above`` / ``below`` the team value (the CSS class of a rep, region or district cell), or ``""``
    for a total (``fm.TOTAL_KPIS``), which grows with the group's size and has nothing to compare."""
    if kpi in fm.TOTAL_KPIS or not (math.isfinite(value) and math.isfinite(team)) or value == team:
        return ""
    higher = value > team
    return "above" if higher != (kpi in fm.LOWER_IS_BETTER) else "below"


def unavailable_rows(items: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(levels, KPIs, why) rows of the "Not available" table: the (level, kpi, reason) items grouped by
    reason, and the levels missing the same KPIs for that reason in one row. One row per level and KPI
    said "plan levels only" eight times over on a report with a plan (QA leftover)."""
    by_reason: dict[str, dict[str, list[str]]] = {}
    for level, kpi, reason in items:
        by_reason.setdefault(reason, {}).setdefault(level, []).append(kpi)
    rows = []
    for reason, levels in by_reason.items():
        groups: dict[tuple[str, ...], list[str]] = {}
        for level, kpis in levels.items():
            groups.setdefault(tuple(kpis), []).append(level)
        rows += [(", ".join(lvls), ", ".join(kpis), reason) for kpis, lvls in groups.items()]
    return rows


def kpi_context(section: KpiSection) -> dict[str, Any]:
    team = section.level("team")
    rep = section.level("rep")
    team_values = team.values.loc[TEAM_ID] if team is not None else pd.Series(dtype="float64")
    team_rows = [
        (kpi, fm.format_kpi(kpi, _f(team_values.get(kpi))), KPI_DEFINITIONS[kpi])
        for kpi in KPI_ORDER
        if team is not None and kpi in team.values.columns
    ]
    unavailable = unavailable_rows(
        [(r.level, kpi, reason) for r in section.results for kpi, reason in r.unavailable.items()]
        + [(lvl, "all KPIs", reason) for lvl, reason in section.skipped_levels.items()]
    )
    ctx: dict[str, Any] = {
        "period": section.period,
        "team_rows": team_rows,
        "unavailable": unavailable,
        "attainment_chart": None,
        "scatter_chart": None,
        "warnings": section.warnings,
        "notes": section.notes,
    }
    ctx["levels"] = []
    for res in section.results:
        if res.level == "team" or res.values.empty:
            continue
        values = res.values
        sort_key = next(k for k in ("quota_attainment", "won_amount", *values.columns) if k in values.columns)
        values = values.sort_values(sort_key, ascending=False, na_position="last")
        cols = list(values.columns)
        rows = []
        for ident, rec in values.iterrows():
            groups = ("region", "district", "district_plan")
            name = section.names.get(str(ident), "") if res.level not in groups else ""
            cells = [(str(ident), ""), (name, "")]
            for kpi in cols:
                v = _f(rec[kpi])
                cls = (
                    _better(kpi, v, _f(team_values.get(kpi)))
                    if res.level in ("rep", "region", "district")
                    else ""
                )
                cells.append((fm.format_kpi(kpi, v), f"num {cls}".strip()))
            rows.append(cells)
        ctx["levels"].append({"name": res.level, "columns": cols, "rows": rows})
    # a chart of nothing but n/a (a period without closed deals or quotas) is left out, said in one line
    # (QA27 F14: eleven "n/a" bars, and a scatter whose axis read "USD 0 / USD 1 / USD 1")
    if (
        rep is not None
        and "quota_attainment" in rep.values.columns
        and rep.values["quota_attainment"].notna().any()
    ):
        qa = rep.values["quota_attainment"].sort_values(ascending=False, na_position="last")
        ctx["attainment_chart"] = charts.bar_chart(
            [f"{i} {section.names.get(str(i), '')}".strip() for i in qa.index],
            {"quota attainment": [_f(v) for v in qa]},
            fmt=fm.percent,
            title="Quota attainment per rep",
            reference=1.0,
        )
    pairs = (
        rep.values[["win_rate", "avg_deal_size"]].notna().all(axis=1).any()
        if rep is not None and {"win_rate", "avg_deal_size"} <= set(rep.values.columns)
        else False
    )
    ctx["no_chart"] = [
        what
        for what, kpis in (
            ("quota attainment (no rep has both a quota and closed deals in it)", ("quota_attainment",)),
            ("win rate against deal size (no rep closed a deal in it)", ("win_rate", "avg_deal_size")),
        )
        if rep is not None
        and set(kpis) <= set(rep.values.columns)
        and not (rep.values[list(kpis)].notna().all(axis=1).any())
    ]
    if rep is not None and pairs:
        ctx["scatter_chart"] = charts.scatter_chart(
            [str(i) for i in rep.values.index],
            [_f(v) for v in rep.values["avg_deal_size"]],
            [_f(v) for v in rep.values["win_rate"]],
            x_title="average deal size",
            y_title="win rate",
            x_fmt=fm.money_short,
            y_fmt=lambda v: fm.percent(v, 0),
            title="Win rate vs deal size per rep",
            y_max=1.0,  # a rate: the axis ends at 100%
        )
    ctx["inherit"] = inherit_context(section)
    return ctx


def inherit_context(section: KpiSection) -> dict[str, Any] | None:
    """What each new territory inherits, beside the same numbers under the current alignment."""
    new, cur = section.level("territory"), section.level("territory_current")
    if new is None or cur is None:
        return None
    pipeline = next((k for k in ("weighted_pipeline", REBUILT) if k in new.values.columns), None)
    kpis = [k for k in ("accounts", "potential", "won_amount", pipeline) if k and k in new.values.columns]
    ids = new.values.index
    rows = []
    for ident in ids:
        cells = [(str(ident), ""), (section.names.get(str(ident), ""), "")]
        for k in kpis:
            before = _f(cur.values[k].get(ident)) if k in cur.values.columns else math.nan
            after = _f(new.values.at[ident, k])
            cells += [(fm.format_kpi(k, before), "num"), (fm.format_kpi(k, after), "num")]
        rows.append(cells)
    chart, chart_title = None, ""
    if pipeline is not None and pipeline in cur.values.columns:
        rebuilt = " (probabilities rebuilt as of the period's end)" if pipeline == REBUILT else ""
        # said above the chart too: the SVG's own title shows only as a tooltip (QA27 F23: read as won
        # revenue beside a table whose first money columns are potential and won_amount)
        chart_title = f"Weighted pipeline by territory, before and after{rebuilt}"
        chart = charts.bar_chart(
            [f"{i} {section.names.get(str(i), '')}".strip() for i in ids],
            {
                "current alignment": [_f(cur.values[pipeline].get(i)) for i in ids],
                "proposed territory": [_f(new.values.at[i, pipeline]) for i in ids],
            },
            fmt=fm.money_short,
            title=chart_title,
        )
    return {"kpis": kpis, "rows": rows, "chart": chart, "chart_title": chart_title}


def quota_context(quotas: pd.DataFrame) -> dict[str, Any]:
    rows = [
        [
            (str(r["rep_id"]), ""),
            (_text(r["name"]), ""),
            (fm.money(_f(r["potential"])), "num"),
            (fm.percent(_f(r["potential_share"]), 2), "num"),
            (fm.percent(_f(r["history_share"]), 2), "num"),
            *([(fm.percent(_f(r["forecast_share"]), 2), "num")] if "forecast_share" in r else []),
            (fm.money_cents(_f(r["suggested_quota"])), "num"),
        ]
        for r in quotas.to_dict("records")
    ]
    return {
        "rows": rows,
        "total": fm.money_cents(float(quotas["suggested_quota"].sum())),
        "forecast": "forecast_share" in quotas.columns,
    }


def _environment() -> jinja2.Environment:
    text = resources.files("territory_planner.report").joinpath("templates/report.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals["definitions"] = KPI_DEFINITIONS
    env.globals["template_text"] = text
    return env


def render_report(
    *,
    plan: PlanData | None,
    kpis: KpiSection | None,
    quotas: pd.DataFrame | None,
    quota_note: str = "",
    title: str = "Territory plan and sales KPI report",
    forecast: Markup | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The page; ``warnings`` are shown under its title (the CRM's amounts in another currency)."""
    env = _environment()
    template = env.from_string(env.globals["template_text"])  # type: ignore[arg-type]
    return template.render(
        title=title,
        page_warnings=list(warnings),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        plan=plan_context(plan) if plan is not None else None,
        kpi=kpi_context(kpis) if kpis is not None else None,
        quotas=quota_context(quotas) if quotas is not None else None,
        quota_note=quota_note,
        forecast=forecast,
        na=Markup("<span class='na'>n/a</span>"),
    )
