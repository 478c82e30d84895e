"""The report's balance table and chart per hierarchy level (district, region) of a plan."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from territory_planner.currency import is_money
from territory_planner.level_outputs import has_level, level_frame
from territory_planner.report import charts
from territory_planner.report import formatting as fm

# travel_km (SPEC's column) sums workload x km to the rep's home, not kilometres driven: the header says so
TRAVEL = "Travel (workload \u00d7 km)"


def _f(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def level_tables(territories: pd.DataFrame, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per level present in territories.csv: columns, rows (cells outside the level's band shaded) and
    the deviation chart."""
    from territory_planner.render.bands import balanced_measures

    out = []
    measures = [c[: -len("_dev_pct")] for c in territories.columns if c.endswith("_dev_pct")]
    balanced = balanced_measures(summary)
    for level in ("district", "region"):
        if not has_level(territories, level):
            continue
        frame = level_frame(territories, level)
        tol_spec = ((summary.get("hierarchy") or {}).get(level) or {}).get("tolerance") or {}
        # a measure the plan does not balance has no band at any level, whatever "*" says (QA8 O1)
        tol = {m: _f(tol_spec.get(m, tol_spec.get("*"))) if m in balanced else math.nan for m in measures}
        columns = [level.capitalize(), "Reps", "Accounts"]
        for m in measures:
            columns += [m.capitalize(), f"{m} target", f"{m} dev."]
        columns.append(TRAVEL)
        # the pieces on the map, when the plan knows its map (QA10: two designed districts in 5 and 9
        # pieces showed as any other row; only a note said "2 district(s) in several pieces")
        pieces = ((summary.get("hierarchy") or {}).get(level) or {}).get("pieces") or {}
        if pieces:
            columns.append("Pieces")
        rows = []
        for rec in frame.to_dict("records"):
            cells: list[tuple[str, str]] = [(str(rec[level]), ""), (fm.number(_f(rec["reps"])), "num")]
            cells.append((fm.number(_f(rec["accounts"])), "num"))
            for m in measures:
                fmt = fm.money if is_money(m) else fm.number
                dev = _f(rec.get(f"{m}_dev_pct"))
                out_of_band = math.isfinite(tol[m]) and math.isfinite(dev) and abs(dev) > 100 * tol[m] + 1e-9
                cells += [
                    (fmt(_f(rec.get(m))), "num"),
                    (fmt(_f(rec.get(f"{m}_target"))), "num"),
                    (fm.signed_percent(dev), "num below" if out_of_band else "num"),
                ]
            cells.append((fm.number(_f(rec.get("travel_km"))), "num"))
            if pieces:
                k = pieces.get(str(rec[level]))
                cells.append(("" if k is None else str(k), "num below" if k is not None and k > 1 else "num"))
            rows.append(cells)
        band = {m: (-100 * tol[m], 100 * tol[m]) for m in measures if m in tol and math.isfinite(tol[m])}
        chart = charts.bar_chart(
            [str(v) for v in frame[level]],
            {m: [_f(v) for v in frame[f"{m}_dev_pct"]] for m in measures},
            fmt=fm.signed_percent,
            title=f"Deviation from target per {level} (%)",
            band=band,
        )
        out.append({"name": level, "columns": columns, "rows": rows, "chart": chart})
    return out
