"""The plan as one Excel workbook for the people who read plans in Excel.

Sheets: Summary, Territories, Assignments, Moves (and Districts when the plan has districts). Every cell
has its type (numbers are numbers, true/false are booleans, ids are text), headers are styled, frozen
and filterable, columns have widths and number formats, and a dev_pct outside the measure's band is
highlighted by a conditional format (so it stays right if someone edits a value). No cell is ever a
formula: text is written as text cells, and text that Excel would run as a formula once edited (``=``,
``+``, ``-``, ``@`` first) also gets Excel's quote prefix.

Written with XlsxWriter into a temporary file that replaces the destination in one rename.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.export.plan_tables import PlanTables

_FORMULA_START = tuple("=+-@")
_INTEGER_COLUMNS = {"accounts", "moved_in", "moved_out", "reps", "units"}
_COORDINATES = {"lat", "lon", "home_lat", "home_lon"}
DEV_FORMAT = '+0.00"%";-0.00"%";0.00"%"'
MAX_WIDTH = 60


def number_format(column: str) -> str:
    """Excel number format of a plan column, chosen by its name."""
    if column in _INTEGER_COLUMNS:
        return "#,##0"
    if column.endswith("_dev_pct"):
        return DEV_FORMAT
    if column in _COORDINATES:
        return "0.000000"
    if column.endswith("_km"):
        return "#,##0.0"
    if column == "capacity":
        return "0.00"
    if any(word in column for word in ("potential", "quota", "amount")):
        return "#,##0"
    return "#,##0.00"


class _Styles:
    """The workbook's cell formats, created once (XlsxWriter formats belong to one workbook)."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.header = book.add_format(
            {"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF", "border": 1, "valign": "top"}
        )
        self.quoted = book.add_format({"quote_prefix": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.out_of_band = book.add_format({"bg_color": "#F8D7DA", "font_color": "#9C0006", "bold": True})
        self._numbers: dict[str, Any] = {}

    def number(self, fmt: str) -> Any:
        if fmt not in self._numbers:
            self._numbers[fmt] = self.book.add_format({"num_format": fmt})
        return self._numbers[fmt]


def _width(header: str, values: pd.Series) -> float:
    sample = values.iloc[:2000]
    if pd.api.types.is_float_dtype(sample):
        longest = 14
    elif pd.api.types.is_bool_dtype(sample):
        longest = 6
    else:
        longest = int(sample.astype(str).str.len().max()) if len(sample) else 0
    return float(min(MAX_WIDTH, max(len(header) + 3, longest + 2, 8)))


def write_text(sheet: Any, row: int, col: int, value: str, styles: _Styles) -> None:
    """A text cell that stays text, even when its content looks like a formula (empty: no cell)."""
    if value.startswith(_FORMULA_START):
        sheet.write_string(row, col, value, styles.quoted)
    elif value:
        sheet.write_string(row, col, value)


def write_frame(book: Any, styles: _Styles, name: str, frame: pd.DataFrame) -> Any:
    """One sheet holding ``frame``: typed cells, styled frozen header, widths, filter."""
    sheet = book.add_worksheet(name)
    for c, column in enumerate(frame.columns):
        sheet.write_string(0, c, str(column), styles.header)
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            for r, flag in enumerate(series.tolist(), start=1):
                sheet.write_boolean(r, c, bool(flag))
        elif pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
            fmt = styles.number(number_format(str(column)))
            for r, value in enumerate(series.astype(float).tolist(), start=1):
                if math.isfinite(value):  # a missing number is an empty cell
                    sheet.write_number(r, c, value, fmt)
        else:
            for r, text in enumerate(series.astype(str).tolist(), start=1):
                write_text(sheet, r, c, text, styles)
        sheet.set_column(c, c, _width(str(column), series))
    sheet.freeze_panes(1, 1 if len(frame.columns) > 6 else 0)
    if len(frame.columns):
        sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
    return sheet


def highlight_bands(sheet: Any, frame: pd.DataFrame, bands: dict[str, float], styles: _Styles) -> None:
    """Conditional format: a ``<measure>_dev_pct`` cell outside +-100 x band is shaded red."""
    if frame.empty:
        return
    for measure, band in bands.items():
        column = f"{measure}_dev_pct"
        if column not in frame.columns:
            continue
        c = list(frame.columns).index(column)
        limit = 100.0 * band + 5e-5  # dev_pct is written rounded to 4 decimals
        sheet.conditional_format(
            1,
            c,
            len(frame),
            c,
            {
                "type": "cell",
                "criteria": "not between",
                "minimum": -limit,
                "maximum": limit,
                "format": styles.out_of_band,
            },
        )


def summary_rows(plan: PlanTables) -> list[tuple[str, Any, str | None]]:
    """(item, value, number format) rows of the Summary sheet."""
    s = plan.summary
    rows: list[tuple[str, Any, str | None]] = [
        ("plan folder", str(plan.folder.resolve()), None),
        ("plan date", plan.plan_date, "date"),
        ("status", s.get("status"), None),
        ("proven optimal", s.get("proven_optimal"), None),
        ("accounts", s.get("accounts", len(plan.assignments)), "#,##0"),
        ("reps", s.get("reps", len(plan.territories)), "#,##0"),
        ("objective (workload x km)", s.get("objective"), "#,##0"),
        ("lower bound", s.get("lower_bound"), "#,##0"),
        ("gap", s.get("gap"), "0.000%"),
    ]
    for measure, value in (s.get("max_abs_dev_pct") or {}).items():
        rows.append((f"max |dev| {measure} (%)", value, "0.00"))
    for measure in plan.measures:
        band = plan.tolerance(measure)
        if band is not None:
            rows.append((f"tolerance {measure}", band, "0.0%"))
    rows += [
        ("moved accounts", s.get("moved_accounts"), "#,##0"),
        ("moved potential share", s.get("moved_potential_share"), "0.0%"),
        ("owner changes (Moves sheet)", len(plan.moves()), "#,##0"),
        ("solver", s.get("solver"), None),
        ("solve seconds", s.get("solve_seconds"), "0.0"),
        ("plan source", s.get("plan_source") or s.get("method"), None),
        ("territory-planner version", s.get("version"), None),
        ("notes", "; ".join(str(n) for n in s.get("notes") or []), None),
    ]
    return rows


def write_summary(book: Any, styles: _Styles, plan: PlanTables) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_string(0, 0, "item", styles.header)
    sheet.write_string(0, 1, "value", styles.header)
    for r, (item, value, fmt) in enumerate(summary_rows(plan), start=1):
        sheet.write_string(r, 0, item)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if isinstance(value, bool):
            sheet.write_boolean(r, 1, value)
        elif isinstance(value, int | float):
            sheet.write_number(r, 1, float(value), styles.number(fmt or "General"))
        elif isinstance(value, dt.date):
            sheet.write_datetime(r, 1, dt.datetime.combine(value, dt.time()), styles.date)
        else:
            write_text(sheet, r, 1, str(value), styles)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 60)
    sheet.freeze_panes(1, 0)


def _district_bands(plan: PlanTables) -> dict[str, float]:
    """Bands of the district level, when summary.json gives them (``district_tolerance``)."""
    raw = plan.summary.get("district_tolerance")
    if isinstance(raw, int | float):
        return dict.fromkeys(plan.measures, float(raw))
    if isinstance(raw, dict):
        return {str(m): float(v) for m, v in raw.items() if isinstance(v, int | float)}
    return {}


def write_workbook(plan: PlanTables, path: Path) -> None:
    """Write the workbook to ``path`` (the caller makes the write atomic)."""
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(path), options)
    try:
        styles = _Styles(book)
        write_summary(book, styles, plan)
        bands = {m: band for m in plan.measures if (band := plan.tolerance(m)) is not None}
        territories = write_frame(book, styles, "Territories", plan.territories)
        highlight_bands(territories, plan.territories, bands, styles)
        write_frame(book, styles, "Assignments", plan.assignments)
        write_frame(book, styles, "Moves", plan.moves())
        if plan.districts is not None:
            districts = write_frame(book, styles, "Districts", plan.districts)
            highlight_bands(districts, plan.districts, _district_bands(plan), styles)
    finally:
        book.close()
