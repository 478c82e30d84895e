"""Inline SVG chart of the forecast: won amount per period, the backtest's forecasts, the forecast's band.

A period the CRM export ends in (or before) is drawn apart: its won amount so far as a hollow dashed dot
off the actual line, and a note ("partial", "no data") under its label, so the axis runs on to the
horizon without a jump and the partial amount does not read as a drop.

Same conventions as ``report.charts``: no script, every label escaped, ``Markup`` out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from territory_planner.report.charts import PALETTE
from territory_planner.report.formatting import column_texts


@dataclass(frozen=True)
class PeriodPoint:
    label: str
    actual: float  # NaN for the forecast period
    forecast: float = math.nan  # the product's forecast (backtest periods and the horizon)
    lower: float = math.nan
    upper: float = math.nan
    baseline: float = math.nan
    partial: str = ""  # an unfinished period: the note under its label ("partial", "no data"); "" whole
    detail: str = ""  # an unfinished period: its tooltip (what is known of it)


_PARTIAL_DOT = f'fill="white" stroke="{PALETTE[0]}" stroke-width="2" stroke-dasharray="2 2"'


def _ok(v: float) -> bool:
    return v is not None and math.isfinite(v)


def period_chart(points: Sequence[PeriodPoint], *, fmt: Callable[[float], str], title: str) -> Markup:
    """Actuals as a line, forecasts as dots with their 80% band, the baseline as hollow dots."""
    width, height, left, right, top, bottom = 760, 300, 80, 20, 34, 46
    values = [v for p in points for v in (p.actual, p.forecast, p.lower, p.upper, p.baseline) if _ok(v)] or [
        0.0,
        1.0,
    ]
    hi = max(values) * 1.08 or 1.0
    n = max(len(points), 1)
    plot_w = width - left - right

    def px(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    def py(v: float) -> float:
        return height - bottom - v / hi * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"'
        ' stroke="#888"/>',
    ]
    legend = [("actual won", PALETTE[0]), ("forecast, 80% band", PALETTE[1]), ("seasonal naive", "#777")]
    so_far = any(p.partial and _ok(p.actual) for p in points)
    if so_far:
        legend.append(("won so far (partial)", ""))
    for k, (name, colour) in enumerate(legend):
        lx = left + k * 160
        mark = (
            f'<rect x="{lx}" y="{top - 24}" width="10" height="10" fill="{colour}"/>'
            if colour
            else f'<circle cx="{lx + 5}" cy="{top - 19}" r="4" {_PARTIAL_DOT}/>'
        )
        out.append(f'{mark}<text x="{lx + 14}" y="{top - 15}">{escape(name)}</text>')
    scale = [frac * hi for frac in (0.0, 0.5, 1.0)]
    for v, text in zip(scale, column_texts(fmt, scale), strict=True):  # one unit and decimals (QA8 O7)
        out.append(
            f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{escape(text)}</text>'
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{width - right}" y2="{py(v):.1f}" stroke="#eee"/>'
        )
    line = [
        f"{px(i):.1f},{py(p.actual):.1f}" for i, p in enumerate(points) if _ok(p.actual) and not p.partial
    ]
    if len(line) > 1:
        out.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>'
        )
    step = max(1, math.ceil(n / 16))
    for i, p in enumerate(points):
        x = px(i)
        if i % step == 0 or i == n - 1 or p.partial:
            out.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(p.label)}</text>'
            )
        if p.partial:
            out.append(
                f'<text class="partial" x="{x:.1f}" y="{height - bottom + 30}" text-anchor="middle"'
                f' font-style="italic" fill="#555">{escape(p.partial)}'
                f"<title>{escape(p.detail)}</title></text>"
            )
            if _ok(p.actual):
                out.append(
                    f'<circle class="partial" cx="{x:.1f}" cy="{py(p.actual):.1f}" r="4" {_PARTIAL_DOT}>'
                    f"<title>{escape(p.detail or p.label)}</title></circle>"
                )
        elif _ok(p.actual):
            out.append(
                f'<circle cx="{x:.1f}" cy="{py(p.actual):.1f}" r="3" fill="{PALETTE[0]}">'
                f"<title>{escape(p.label)} actual: {escape(fmt(p.actual))}</title></circle>"
            )
        if _ok(p.lower) and _ok(p.upper):
            out.append(
                f'<rect x="{x - 7:.1f}" y="{py(p.upper):.1f}" width="14"'
                f' height="{max(py(p.lower) - py(p.upper), 1):.1f}" fill="{PALETTE[1]}" fill-opacity="0.25">'
                f"<title>{escape(p.label)} 80% band: {escape(fmt(p.lower))} to {escape(fmt(p.upper))}</title>"
                "</rect>"
            )
        if _ok(p.forecast):
            out.append(
                f'<circle cx="{x:.1f}" cy="{py(p.forecast):.1f}" r="4" fill="{PALETTE[1]}">'
                f"<title>{escape(p.label)} forecast: {escape(fmt(p.forecast))}</title></circle>"
            )
        if _ok(p.baseline):
            out.append(
                f'<circle cx="{x + 9:.1f}" cy="{py(p.baseline):.1f}" r="3" fill="none" stroke="#777">'
                f"<title>{escape(p.label)} seasonal naive: {escape(fmt(p.baseline))}</title></circle>"
            )
    out.append("</svg>")
    return Markup("".join(out))
