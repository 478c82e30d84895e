"""Numbers formatted for people: currency, percentages, days, hours. Missing values read "n/a".

Money is written in the currency of the current ``territory_planner.currency.currency_context``
(``$`` outside one): ``€1,234``, ``EUR 1,234`` or a plain ``1,234``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from territory_planner.currency import currency_prefix

NA = "n/a"

PERCENT_KPIS = (
    "quota_attainment",
    "quota_attainment_rate",
    "win_rate",
    "selling_time_share",
    "forecast_accuracy",
)
CURRENCY_KPIS = ("avg_deal_size", "weighted_pipeline", "weighted_pipeline_rebuilt", "won_amount", "potential")
#: KPIs where a smaller value is better (used to colour rep rows against the team value).
LOWER_IS_BETTER = ("avg_sales_cycle_days", "lead_response_hours")
#: Totals that grow with the group's size: a rep's or region's total is never comparable with the team's,
#: so these cells are not coloured (every rep's won amount was "worse" than the team's before).
TOTAL_KPIS = (
    "won_amount",
    "weighted_pipeline",
    "weighted_pipeline_rebuilt",
    "pipeline_velocity",
    "open_opportunities",
    "accounts",
    "potential",
)


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def _sign(value: float, shown: str) -> str:
    """The minus of a negative ``value`` whose magnitude reads as ``shown``; none when ``shown`` is zero
    (-0.4 is ``PLN 0``, never ``-PLN 0``)."""
    return "-" if value < 0 and any(c in "123456789" for c in shown) else ""


def money(value: float | None) -> str:
    """A whole amount with the currency: ``-€1,234``; a tiny negative amount is ``€0``."""
    if _missing(value):
        return NA
    assert value is not None
    shown = f"{abs(value):,.0f}"
    return f"{_sign(value, shown)}{currency_prefix()}{shown}"


def money_cents(value: float | None) -> str:
    """An amount to the cent with the currency: ``€1,234.56`` (suggested quotas, which are rounded to
    cents so that they sum exactly to the company target: whole amounts did not add up on the page)."""
    if _missing(value):
        return NA
    assert value is not None
    shown = f"{abs(value):,.2f}"
    return f"{_sign(value, shown)}{currency_prefix()}{shown}"


_UNITS = (("B", 1e9), ("M", 1e6), ("k", 1e3))


def _unit(value: float) -> tuple[str, float]:
    """The suffix and size for a value as it reads to three significant digits (999,600 is 1.00M, not
    1000k)."""
    shown = float(f"{abs(value):.3g}")
    return next(((suffix, size) for suffix, size in _UNITS if shown >= size), ("", 1.0))


def money_short(value: float | None) -> str:
    """One amount in a sentence: three significant digits, trailing zeros dropped (``€2.5M``, ``€9M``).
    For a column of amounts use ``money_short_column``."""
    if _missing(value):
        return NA
    assert value is not None
    v, unit = abs(value), currency_prefix()
    suffix, size = _unit(v)
    shown = f"{v / size:.3g}{suffix}" if suffix else f"{v:.0f}"
    return f"{_sign(value, shown)}{unit}{shown}"


#: Numbers that are not money keep their digits below this (``short_column``).
PLAIN_BELOW = 10_000.0


def short_column(values: Sequence[float | None], *, money: bool = False) -> list[str]:
    """Short numbers for one column of a table: one unit (B, M or k: the largest value's) and one number
    of decimals (three significant digits for the largest value) in every row, so that ``€9.00M`` stands
    beside ``€8.49M`` (QA8 O7: ``money_short`` wrote ``€9M``). Below 1,000 money and whole numbers stay
    whole; numbers that are not money keep their digits below 10,000 (``1,003`` beside ``473``). Zero
    is ``0``; a value too small to show at the column's precision keeps its own short form rather than
    reading ``0.00M``. ``money``: with the currency, as ``money_short``."""
    shown = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = float(f"{max(shown, default=0.0):.3g}")  # as it reads: 999,600 is 1.00M
    # a count or workload below 10,000 stays as it is (QA41 F6: "0.47k" and "1.00k" where "473" and
    # "1,003" read at once, beside a target of "520")
    suffix, size = _unit(top) if money or top >= PLAIN_BELOW else ("", 1.0)
    if suffix:
        digits = _digits(top / size)
    elif money or all(float(v).is_integer() for v in shown):
        digits = 0
    else:
        digits = _digits(top)
    alone = money_short if money else _short
    prefix = currency_prefix() if money else ""
    out = []
    for value in values:
        if value is None or not math.isfinite(value):
            out.append(NA)
            continue
        text = f"{abs(value) / size:,.{digits}f}"
        if value == 0:
            out.append(f"{prefix}0")
        elif float(text.replace(",", "")) == 0:
            out.append(alone(value))
        else:
            out.append(f"{'-' if value < 0 else ''}{prefix}{text}{suffix}")
    return out


def money_short_column(values: Sequence[float | None]) -> list[str]:
    """``short_column`` of amounts: [9e6, 8.49e6] -> ``['€9.00M', '€8.49M']``."""
    return short_column(values, money=True)


def column_texts(fmt: Callable[[float], str], values: Sequence[float]) -> list[str]:
    """``values`` written with ``fmt`` as one column (a chart's scale, a column of value labels): the
    short amounts of ``money_short`` share a unit and decimals (``money_short_column``); every other
    formatter writes each value alone (it has fixed decimals already)."""
    if fmt is money_short:
        return money_short_column(values)
    return [fmt(v) for v in values]


def _digits(value: float) -> int:
    """Decimals that give ``value`` (> 0) three significant digits, at most 3."""
    return min(max(2 - math.floor(math.log10(value)), 0), 3) if value > 0 else 0


def _short(value: float | None) -> str:
    """A number in three significant digits with a unit suffix (``1.23k``; whole numbers below 1,000 as
    they are)."""
    if _missing(value):
        return NA
    assert value is not None
    suffix, size = _unit(value)
    if suffix:
        return f"{value / size:.3g}{suffix}"
    return f"{int(value)}" if float(value).is_integer() else f"{value:.3g}"


NO_ALIGNMENT = "none: no current alignment given"  # a plan's moved accounts when none had a current rep


def unaligned(summary: Mapping[str, Any]) -> bool:
    """Whether the plan was made without a current alignment (no account had a current_rep): its moves
    are none to speak of, not "0 moved", which reads as a perfectly stable plan (QA63 F2)."""
    return summary.get("current_accounts") == 0


def home_rule(level: str) -> str:
    """The rule --contiguous and --district-contiguous add, for a proof's words: "no plan of connected
    territories (each holding its rep's home unit) exists" (QA64 F3, QA65 F5: said as if for any
    connected plan). ``level``: territories, districts, or districts and territories."""
    return (
        " (each holding its rep's home unit)"
        if level == "territories"
        else " (each holding its reps' home units)"
    )


def bound_qualifier(summary: Mapping[str, Any]) -> str:
    """Why a plan's objective lies below its lower bound, when it does: the bound holds for plans that meet
    every constraint, and this relaxed plan breaks some (QA36 F3: a relaxed plan in pieces, 305,511 beside
    a bound of 306,902 for connected plans, with no word on the console or in the report's cards). Empty
    otherwise; an edited plan's gap says it (``report.html._gap_text``)."""
    objective, bound = summary.get("objective"), summary.get("lower_bound")
    if summary.get("status") == "manual":
        return ""
    if (
        not isinstance(objective, int | float)
        or not isinstance(bound, int | float)
        or not math.isfinite(bound)
    ):
        return ""
    chosen = [str(r) for r in summary.get("chosen_centres") or []]
    # the bound is that of the model with the centres the planner chose (QA81 F1: read as a bound on any
    # plan, 6.9% above a plan with the new hire placed elsewhere)
    whose = ", ".join(chosen) if len(chosen) <= 3 else f"{len(chosen)} reps"
    centres = f"for the centres the planner chose for {whose}" if chosen else ""
    if not objective < bound - 1e-9 * max(abs(bound), 1.0):
        return f" ({centres})" if centres else ""
    below = "for plans meeting every constraint; this plan, below it, breaks some"
    return f" ({below}; {centres})" if centres else f" ({below})"


def design_gap_note(summary: Mapping[str, Any]) -> str:
    """With designed districts whose bound is that of the model without district rows (valid for any
    grouping), what the gap is measured against and the gap to the bound for the chosen districts
    (QA41 F1: map and report headlined "gap 20.45%" where the plan was 0.8% from the bound for its own
    districts, said only in summary.json's notes). Empty otherwise."""
    design = (((summary.get("hierarchy") or {}).get("district") or {}).get("design")) or {}
    values = [summary.get("objective"), summary.get("lower_bound"), design.get("grouping_lower_bound")]
    numbers = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if len(numbers) < len(values):
        return ""
    objective, bound, grouping = numbers
    if not grouping > bound + 1e-9 * max(abs(bound), 1.0) or objective <= 0:
        return ""  # the run's bound is already the chosen districts' (or better)
    gap = max((objective - grouping) / objective, 0.0)
    return (
        f" to the bound for any grouping of the reps into districts; {100 * gap:.2f}% to the bound for "
        "the chosen districts"
    )


def budgeted_share(summary: Mapping[str, Any]) -> float | None:
    """The moved share that --max-moved-share limits (moves from reps who stay), when it differs from the
    plan's moved share: a departed rep's accounts must move and are outside the budget. None otherwise."""
    total, budgeted = summary.get("moved_potential_share"), summary.get("budgeted_moved_share")
    if not isinstance(total, int | float) or not isinstance(budgeted, int | float):
        return None
    return float(budgeted) if abs(budgeted - total) > 5e-4 else None


def departed_moves_note(total: str, budgeted: str) -> str:
    """Why a moved share (column ``total``) can exceed --max-moved-share (column ``budgeted``), as HTML."""
    return (
        f"{total.capitalize()} counts every account that changes rep, including the accounts of reps no "
        f"longer in the roster, which must move; {budgeted} leaves those out: it is the share "
        "<code>--max-moved-share</code> limits."
    )


def percent(value: float | None, digits: int = 1) -> str:
    return NA if _missing(value) else f"{100 * value:.{digits}f}%"  # type: ignore[operator]


def share(value: float | None) -> str:
    """A part of a whole, never 0% or 100% for a part that is neither: ``<0.1%``, ``0.3%``, ``>99.9%``
    (QA15 L5: "1 of 3,532 opportunities (0% of their amount)")."""
    if _missing(value):
        return NA
    assert value is not None
    if 0 < value < 0.0005:
        return "<0.1%"
    if 0.9995 <= value < 1:
        return ">99.9%"
    return percent(value)


def no_negative_zero(value: float, digits: int) -> float:
    """``value`` as it will print at ``digits`` decimals, never -0 (QA41 F6: "-0.0" for -0.04%)."""
    return round(value, digits) + 0.0


def listed(items: list[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c`` (``last``: the word before the last item, "and" or "or")."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 constraint', '3 constraints' (QA28 F13: "breaks 1 constraints"; QA41 F9: "1 reps");
    ``plural`` for a noun that does not take an s ('territories')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def signed_percent(value: float | None) -> str:
    """A value already in percent (``dev_pct``), with its sign."""
    return NA if value is None or _missing(value) else f"{no_negative_zero(value, 1):+.1f}%"


def days(value: float | None) -> str:
    return NA if _missing(value) else f"{value:,.1f} days"


def hours(value: float | None) -> str:
    return NA if _missing(value) else f"{value:,.1f} h"


def number(value: float | None, digits: int = 0) -> str:
    return NA if _missing(value) else f"{value:,.{digits}f}"


def count_or_mean(value: float | None) -> str:
    if _missing(value):
        return NA
    assert value is not None
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def kpi_formatter(kpi: str) -> Callable[[float | None], str]:
    if kpi in PERCENT_KPIS:
        return percent
    if kpi in CURRENCY_KPIS:
        return money
    if kpi == "pipeline_velocity":
        return lambda v: NA if _missing(v) else f"{money(v)}/day"
    if kpi == "avg_sales_cycle_days":
        return days
    if kpi == "lead_response_hours":
        return hours
    return count_or_mean


def format_kpi(kpi: str, value: float | None) -> str:
    return kpi_formatter(kpi)(value)


#: At most this many row numbers of repaired polygons are listed in a note.
MAX_NOTE_ROWS = 12


def group_repair_notes(notes: list[str], summary: Mapping[str, Any]) -> list[str]:
    """``notes`` with the one-line-per-row notes of repaired polygons (summary.json's
    ``repaired_geometries``) replaced by one note per file: how many, the file's name (not its folder), the
    rows and what was kept; each row's reason stays in summary.json. For report.html and the workbook."""
    repaired = [r for r in summary.get("repaired_geometries") or [] if isinstance(r, dict)]
    if not repaired:
        return list(notes)
    one_each = {f"{r.get('file')} row {r.get('row')}: {r.get('message')}" for r in repaired}
    out = [n for n in notes if n not in one_each]
    by_file: dict[str, list[dict[str, Any]]] = {}
    for r in repaired:
        by_file.setdefault(str(r.get("file") or ""), []).append(r)
    for file, rows in by_file.items():
        numbers = [str(r.get("row")) for r in rows]
        shown = ", ".join(numbers[:MAX_NOTE_ROWS])
        if len(numbers) > MAX_NOTE_ROWS:
            shown += f" and {len(numbers) - MAX_NOTE_ROWS} more"
        kept = str(rows[0].get("message") or "").rpartition(": ")[2]
        s = "s" if len(rows) != 1 else ""
        name = PurePath(file).name or "the accounts"
        out.append(
            f"{len(rows)} invalid polygon{s} in {name} (row{s} {shown}) repaired with shapely.make_valid"
            + (f": {kept}" if kept else "")
            + "; each row's reason is in summary.json (repaired_geometries)"
        )
    return out
