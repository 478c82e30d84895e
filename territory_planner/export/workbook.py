"""The plan as one Excel workbook for the people who read plans in Excel.

Sheets: Summary, Territories, Assignments, Moves (and Districts, Regions when the plan has them). Every cell
has its type (numbers are numbers, true/false are booleans, ids are text), headers are styled, frozen
and filterable, columns have widths and number formats, and a dev_pct outside the measure's band is
highlighted by a conditional format (so it stays right if someone edits a value): the reps' band on
Territories, the band the plan was made with at each level on Districts and Regions (summary.json ->
hierarchy). Money columns (``currency.is_money``: potential, revenue, quotas and their targets) show the
plan's currency (summary.json -> config.currency) in their number format: ``€12,345``, ``EUR 12,345``,
or a plain ``12,345`` for ``none``. A column without any value is left out, and so are the moved columns
of a plan made without a current alignment; every sheet prints one page wide. No cell is ever a formula:
text is written as text cells, and text that Excel would run as a formula once edited (``=``, ``+``, ``-``,
``@`` first) also gets Excel's quote prefix.

Written with XlsxWriter into a temporary file that replaces the destination in one rename.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.currency import chosen_currency, currency_prefix, excel_format, is_money
from territory_planner.export.plan_tables import PlanTables
from territory_planner.report.formatting import NO_ALIGNMENT, budgeted_share, group_repair_notes, unaligned

_FORMULA_START = tuple("=+-@")
_INTEGER_COLUMNS = {"accounts", "moved_in", "moved_out", "reps", "units"}
_COORDINATES = {"lat", "lon", "home_lat", "home_lon"}
DEV_FORMAT = '+0.00"%";-0.00"%";0.00"%"'
BOOL_FORMAT = '"TRUE";"TRUE";"FALSE"'
SUMMARY_VALUE = {"align": "left", "valign": "top", "indent": 1}  # the Summary: items and values
HEADER = {"bold": True, "bg_color": "#1F3A5F", "font_color": "#FFFFFF", "border": 1, "valign": "top"}
BAND_FORMAT = "0.0##%"  # 5.0%, 0.05%
SUMMARY_WIDTH = 60  # characters of the Summary's value column
MAX_WIDTH = 60


def number_format(column: str, currency: str = "") -> str:
    """Excel number format of a plan column, chosen by its name; money in ``currency`` (from
    ``currency.parse_currency``; "" for plain numbers)."""
    if is_money(column):
        return excel_format(currency)
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
    return "#,##0.00"


class _Styles:
    """The workbook's cell formats, created once (XlsxWriter formats belong to one workbook)."""

    def __init__(self, book: Any, currency: str = "") -> None:
        self.book = book
        self.currency = currency  # money columns' currency (currency.parse_currency), "" for none
        self.header = book.add_format(HEADER | {"align": "left", "indent": 1})
        self.header_number = book.add_format(HEADER | {"align": "right"})  # over right-aligned numbers
        # text one space in from the cell's edge, so it never touches a right-aligned number beside it
        self.text = book.add_format({"indent": 1})
        self.quoted = book.add_format({"quote_prefix": True, "indent": 1})
        # an id column's cells are Text, so an id typed over one stays as typed (QA52 F7: rep 007 typed
        # into a General cell became the number 7, and `edit` refused it)
        self.id_text = book.add_format({"indent": 1, "num_format": "@"})
        self.id_quoted = book.add_format({"quote_prefix": True, "indent": 1, "num_format": "@"})
        self.wrap = book.add_format({"text_wrap": True} | SUMMARY_VALUE)
        self.quoted_wrap = book.add_format({"quote_prefix": True, "text_wrap": True} | SUMMARY_VALUE)
        # LibreOffice shows a boolean without a format as 0/1; Excel shows TRUE/FALSE whatever the format
        self.flag = book.add_format({"num_format": BOOL_FORMAT, "align": "center"})
        self.flag_left = book.add_format({"num_format": BOOL_FORMAT} | SUMMARY_VALUE)
        self.date = book.add_format({"num_format": "yyyy-mm-dd"} | SUMMARY_VALUE)
        self.out_of_band = book.add_format({"bg_color": "#F8D7DA", "font_color": "#9C0006", "bold": True})
        self.label = book.add_format(SUMMARY_VALUE)
        self._numbers: dict[tuple[str, bool], Any] = {}

    def number(self, fmt: str, *, left: bool = False) -> Any:
        """The format showing numbers as ``fmt`` (``left``: aligned left, as in the Summary)."""
        if (fmt, left) not in self._numbers:
            spec: dict[str, Any] = {"num_format": fmt}
            if left:
                spec |= SUMMARY_VALUE
            self._numbers[fmt, left] = self.book.add_format(spec)
        return self._numbers[fmt, left]


def _decimals(fmt: str) -> int:
    """Digits after the decimal point of a number format (its positive part)."""
    positive = fmt.split(";")[0]
    return positive.split(".")[1].count("0") if "." in positive else 0


def _width(header: str, values: pd.Series, currency: str = "") -> float:
    """Column width in characters: the header (and its filter button) or the widest value as shown."""
    if pd.api.types.is_bool_dtype(values):
        longest = 6
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(float)
        numbers = numbers[np.isfinite(numbers)]
        big = float(np.abs(numbers).max()) if len(numbers) else 0.0
        fmt = number_format(header, currency)
        longest = len(f"{-big:,.{_decimals(fmt)}f}") + 1  # sign, and the % of dev_pct
        if is_money(header):
            longest += len(currency_prefix(currency))  # "€", "EUR "
    else:
        sample = values.iloc[:2000].astype(str)
        longest = int(sample.str.len().max()) if len(sample) else 0
    return float(min(MAX_WIDTH, max(len(header) + 3, longest + 2, 8)))


def _page_setup(sheet: Any) -> None:
    """Printing (and PDF export): landscape, one page wide, the header row on every page."""
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    sheet.set_footer("&L&A&RPage &P of &N")


def write_text(
    sheet: Any, row: int, col: int, value: str, styles: _Styles, *, wrap: bool = False, ident: bool = False
) -> None:
    """A text cell that stays text, even when its content looks like a formula (empty: no cell);
    ``ident``: an id's cell, formatted Text."""
    if value.startswith(_FORMULA_START):
        quoted = styles.id_quoted if ident else styles.quoted
        sheet.write_string(row, col, value, styles.quoted_wrap if wrap else quoted)
    elif value:
        sheet.write_string(row, col, value, styles.wrap if wrap else styles.id_text if ident else styles.text)


# columns of ids: formatted Text, cells and column, so that an id typed into them keeps its zeros
ID_COLUMNS = frozenset(
    {"account_id", "rep_id", "current_rep", "locked_rep", "parent_id", "from_rep", "to_rep", "crm_user_id"}
)


def _empty(values: pd.Series) -> bool:
    """A column without a single value: ``district`` of a plan without districts, ``contiguous`` of a
    plan without adjacency. The workbook leaves it out rather than show an empty (or FALSE) column."""
    if len(values) == 0:
        return False
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return bool(values.isna().all())
    return bool(values.astype(str).str.strip().eq("").all())


# what a header's name does not say (QA27 F1: travel_km read as 2.7 million km of driving)
HEADER_NOTES = {
    "travel_km": "workload x km from each account to the rep's home, summed (the plan's objective "
    "terms): not kilometres driven",
}


def write_frame(
    book: Any, styles: _Styles, name: str, frame: pd.DataFrame, bands: dict[str, float] | None = None
) -> Any:
    """One sheet holding ``frame``: typed cells, styled frozen header, widths, filter, and the
    ``<measure>_dev_pct`` cells outside ``bands`` shaded."""
    sheet = book.add_worksheet(name)
    frame = frame.drop(columns=[c for c in frame.columns if _empty(frame[c])])
    for c, column in enumerate(frame.columns):
        series = frame[column]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        sheet.write_string(0, c, str(column), styles.header_number if numeric else styles.header)
        if str(column) in HEADER_NOTES:  # the column keeps its CSV name; its note says what it sums
            sheet.write_comment(0, c, HEADER_NOTES[str(column)])
        if pd.api.types.is_bool_dtype(series):
            for r, flag in enumerate(series.tolist(), start=1):
                if flag is not pd.NA:  # unknown (an empty cell in the plan's CSV) stays empty
                    sheet.write_boolean(r, c, bool(flag), styles.flag)
        elif pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
            fmt = styles.number(number_format(str(column), styles.currency))
            for r, value in enumerate(series.astype(float).tolist(), start=1):
                if math.isfinite(value):  # a missing number is an empty cell
                    sheet.write_number(r, c, value, fmt)
        else:
            ident = str(column) in ID_COLUMNS
            for r, text in enumerate(series.astype(str).tolist(), start=1):
                write_text(sheet, r, c, text, styles, ident=ident)
            if ident:  # rows typed below the plan's take the column's format
                sheet.set_column(c, c, _width(str(column), series, styles.currency), styles.id_text)
                continue
        sheet.set_column(c, c, _width(str(column), series, styles.currency))
    sheet.freeze_panes(1, 1 if len(frame.columns) > 6 else 0)
    _page_setup(sheet)
    if len(frame.columns):
        sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
    highlight_bands(sheet, frame, bands or {}, styles)
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


FINGERPRINT_ITEM = "plan fingerprint"


def plan_fingerprint(plan: PlanTables) -> str:
    from territory_planner.manifest import assignment_fingerprint

    t, a = plan.territories, plan.assignments
    return assignment_fingerprint(
        t["rep_id"].astype(str), a["account_id"].astype(str), a["rep_id"].astype(str)
    )


def summary_rows(plan: PlanTables) -> list[tuple[str, Any, str | None]]:
    """(item, value, number format) rows of the Summary sheet."""
    s = plan.summary
    rows: list[tuple[str, Any, str | None]] = [
        ("plan folder", str(plan.folder.resolve()), None),
        # which plan the Assignments sheet is: `edit --edits` on this workbook checks it (QA27 F8)
        (FINGERPRINT_ITEM, plan_fingerprint(plan), None),
        ("plan date", plan.plan_date, "date"),
        ("status", s.get("status"), None),
        ("proven optimal", s.get("proven_optimal"), None),
        ("accounts", s.get("accounts", len(plan.assignments)), "#,##0"),
        ("reps", s.get("reps", len(plan.territories)), "#,##0"),
        ("objective (workload x km)", s.get("objective"), "#,##0"),
        ("lower bound", s.get("lower_bound"), "#,##0"),
        ("gap", s.get("gap"), "0.000%"),
    ]
    if s.get("violations"):  # a --relax plan: how many constraints it breaks (listed in summary.json)
        rows.append(("violated constraints", len(s["violations"]), "#,##0"))
    for measure, value in (s.get("max_abs_dev_pct") or {}).items():
        rows.append((f"max |dev| {measure} (%)", value, "0.00"))
    for measure in plan.measures:
        band = plan.tolerance(measure)
        if band is not None:
            rows.append((f"tolerance {measure}", band, BAND_FORMAT))
    rows += level_rows(plan)
    rows += [
        *(
            [("moved accounts", NO_ALIGNMENT, None)]  # not "0" (QA63 F2)
            if unaligned(s)
            else [
                ("moved accounts", s.get("moved_accounts"), "#,##0"),
                ("moved potential share", s.get("moved_potential_share"), "0.0%"),
            ]
        ),
        # the budget the moves were held to (QA44 F15: the Summary gave the share moved, not the limit)
        *(
            [("disruption budget (--max-moved-share)", budget, "0.0%")]
            if isinstance(budget := (s.get("config") or {}).get("max_moved_share"), int | float)
            else []
        ),
        *(
            [("moved potential share, reps who stay (budgeted)", budgeted, "0.0%")]
            if (budgeted := budgeted_share(s)) is not None
            else []
        ),
        ("owner changes (Moves sheet)", len(plan.moves()), "#,##0"),
        ("solver", s.get("solver"), None),
        ("solve seconds", s.get("solve_seconds"), "0.0"),
        ("plan source", s.get("plan_source") or s.get("method"), None),
        ("territory-planner version", s.get("version"), None),
        # repaired polygons as one note per file, as report.html gives them (QA7: ten GEOS lines in one cell)
        ("notes", "; ".join(group_repair_notes([str(n) for n in s.get("notes") or []], s)), None),
    ]
    return rows


def level_rows(plan: PlanTables) -> list[tuple[str, Any, str | None]]:
    """Summary rows of the hierarchy (summary.json -> hierarchy): groups, bands, largest deviations."""
    hierarchy = plan.summary.get("hierarchy")
    rows: list[tuple[str, Any, str | None]] = []
    for level in ("district", "region"):
        block = hierarchy.get(level) if isinstance(hierarchy, dict) else None
        if not isinstance(block, dict):
            continue
        rows.append((f"{level}s", block.get("groups"), "#,##0"))
        for measure, band in plan.level_bands(level).items():
            rows.append((f"{level} tolerance {measure}", band, BAND_FORMAT))
        for measure, value in (block.get("max_abs_dev_pct") or {}).items():
            rows.append((f"max |dev| {level} {measure} (%)", value, "0.00"))
        if "contiguous" in block:
            rows.append((f"every {level} one piece", block["contiguous"], None))
    return rows


def _wrapped_lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` characters wide (a little generous)."""
    return sum(max(1, math.ceil(len(line) / (0.9 * width))) for line in text.splitlines() or [""])


def write_summary(book: Any, styles: _Styles, plan: PlanTables) -> None:
    sheet = book.add_worksheet("Summary")
    sheet.write_string(0, 0, "item", styles.header)
    sheet.write_string(0, 1, "value", styles.header)
    for r, (item, value, fmt) in enumerate(summary_rows(plan), start=1):
        sheet.write_string(r, 0, item, styles.label)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if isinstance(value, bool):
            sheet.write_boolean(r, 1, value, styles.flag_left)
        elif isinstance(value, int | float):
            sheet.write_number(r, 1, float(value), styles.number(fmt or "General", left=True))
        elif isinstance(value, dt.date):
            sheet.write_datetime(r, 1, dt.datetime.combine(value, dt.time()), styles.date)
        else:
            write_text(sheet, r, 1, str(value), styles, wrap=True)
            lines = _wrapped_lines(str(value), SUMMARY_WIDTH)
            if lines > 1:  # LibreOffice keeps the default height of a wrapped cell's row
                sheet.set_row(r, 15 * lines)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, SUMMARY_WIDTH, styles.wrap)
    sheet.freeze_panes(1, 0)
    _page_setup(sheet)


def write_workbook(plan: PlanTables, path: Path, currency: str | None = None) -> None:
    """Write the workbook to ``path`` (the caller makes the write atomic); money in ``currency`` (from
    ``currency.parse_currency``), ``None``: the plan's own currency (summary.json), ``$`` for older plans."""
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    book = xlsxwriter.Workbook(str(path), options)
    try:
        styles = _Styles(book, chosen_currency(currency, plan.summary))
        write_summary(book, styles, plan)
        bands = {m: band for m in plan.measures if (band := plan.tolerance(m)) is not None}
        # without a current alignment nothing moves from a rep: territories.csv's all-0 moved_in/out and
        # assignments.csv's all-false moved read as a perfectly stable plan beside the Moves sheet, where
        # every account gets its first owner (the Summary says there was no alignment)
        drop = ["moved_in", "moved_out", "moved"] if unaligned(plan.summary) else []
        territories = plan.territories.drop(columns=drop, errors="ignore")
        write_frame(book, styles, "Territories", territories, bands)
        write_frame(book, styles, "Assignments", plan.assignments.drop(columns=drop, errors="ignore"))
        write_frame(book, styles, "Moves", plan.moves())
        for level, frame in (("district", plan.districts), ("region", plan.regions)):
            if frame is not None:
                write_frame(book, styles, f"{level.title()}s", frame, plan.level_bands(level))
    finally:
        _close(book)


def _close(book: Any) -> None:
    """Close the workbook; its failure (a full disk) comes out as the OSError behind it, with xlsxwriter's
    half-written zip file freed here, quietly: left to the interpreter's exit, its ``__del__`` printed a
    second traceback under the one-line error (QA57 F12)."""
    import gc
    import sys

    try:
        book.close()
    except Exception as exc:  # xlsxwriter's FileCreateError wraps the OSError
        cause = next((a for a in exc.args if isinstance(a, OSError)), None)
        error = OSError(cause.errno, cause.strerror) if cause is not None else None
        hook = sys.unraisablehook
        sys.unraisablehook = lambda _unraisable: None
        try:
            chain: list[BaseException | None] = [exc, exc.__context__, exc.__cause__, cause]
            for e in chain:
                if e is not None:  # the frames holding the zip file go with the tracebacks
                    e.__traceback__ = None
            del exc, chain, cause
            gc.collect()
        finally:
            sys.unraisablehook = hook
        if error is None:
            raise
        raise error from None
