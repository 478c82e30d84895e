"""Small inline-SVG charts (no JavaScript, no CDN): the report stays one file that opens offline.

Every label is escaped; every function returns ``markupsafe.Markup`` ready for the template.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

from territory_planner.report.formatting import column_texts

PALETTE = ("#2f6db5", "#e08a2c", "#3a9a5b", "#b03a48", "#7a5bb0")
Formatter = Callable[[float], str]
#: Width of one character at the charts' font size (11 px sans-serif), a generous estimate.
CHAR_W = 6.2
#: A bar chart's label column: at least this wide, wider for long labels up to the maximum, beyond which
#: a label is cut with an ellipsis (the full text in its tooltip).
LABEL_W, MAX_LABEL_W = 170, 320
#: A bar chart with more rows than this shows its scale above the bars too.
TICKS_ABOVE_ROWS = 25
#: A chart shrinks with a narrow page down to this share of its size (11-px labels stay 8.8 px), then
#: scrolls sideways in its box: on a 390-px phone the deviation chart's labels were 6 px (QA7 O5).
MIN_SCALE = 0.8


#: A wide character (CJK ideographs, kana, full-width forms) takes a whole em at 11 px.
WIDE_CHAR_W = 11.0


def _char_width(ch: str) -> float:
    return WIDE_CHAR_W if unicodedata.east_asian_width(ch) in ("W", "F") else CHAR_W


def _text_width(text: str) -> float:
    """Estimated width in px: counting characters put a label of Japanese names at half its width, and
    its start ran off the chart's left edge (QA7: "R12 吉田 一郎兵衛..." showed as "兵衛左衛門之助 (...")."""
    return sum(_char_width(ch) for ch in text)


def _label_width(labels: Sequence[str]) -> int:
    widest = max((_text_width(t) for t in labels), default=0.0)
    return int(min(max(LABEL_W, math.ceil(widest) + 12), MAX_LABEL_W))


def _fit_label(label: str, width: float) -> str:
    room = max(width - 12, 4 * CHAR_W)
    if _text_width(label) <= room:
        return label
    out, used = "", CHAR_W  # the ellipsis
    for ch in label:
        used += _char_width(ch)
        if used > room:
            break
        out += ch
    return out.rstrip() + "\u2026"


def _svg_open(width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-size="11" style="min-width: {round(MIN_SCALE * width)}px">'
    )


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for k, name in enumerate(names):
        xx = x + k * 170
        parts.append(
            f'<rect x="{xx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
            f'<text x="{xx + 14:.1f}" y="{y:.1f}">{escape(name)}</text>'
        )
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    fmt: Formatter,
    title: str,
    reference: float | None = None,
    band: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
) -> Markup:
    """Horizontal grouped bars, one row per label; values may be negative (bars grow from 0).

    ``reference`` draws a dashed vertical line (e.g. 100% attainment); ``band`` shades an interval
    (e.g. the +-tolerance band of the plan): one for every series, or per series name (a series
    without one has none). When the series' bands differ, each bar is shaded in its own series' band,
    not behind the whole chart: one band for all made workload bars at +8% of a +-10% band look out of
    a +-5% potential band. Missing values (NaN) are drawn as "n/a".
    """
    names = list(series)
    bands = dict.fromkeys(names, band) if band is None or isinstance(band, tuple) else dict(band)
    edges = sorted({e for b in bands.values() if b for e in b})
    # one band behind the whole chart when every series has the same one
    same = {bands.get(n) for n in names}
    shared = same.pop() if len(same) == 1 else None
    k = max(len(names), 1)
    bar_h, gap, value_w, plot_w = 12, 8, 90, 420
    label_w = _label_width(labels)  # a fixed 170 px cut "R16 (departed: not in the roster)" to "6 (dep..."
    row_h = k * bar_h + gap
    # a tall chart (200 reps: 6,400 px) repeats its scale above the bars, where the reader starts (QA7)
    ticks_above = len(labels) > TICKS_ABOVE_ROWS
    top = 34 + (16 if ticks_above else 0)
    bottom = top + len(labels) * row_h  # the axis' tick labels go below the bars
    height = bottom + 22
    values = [v for s in series.values() for v in _finite(s)]
    extra = [reference] if reference is not None else []
    extra += edges
    lo = min([0.0, *values, *extra])
    hi = max([0.0, *values, *extra])
    if hi == lo:
        hi = lo + 1.0

    total_w = label_w + plot_w + value_w

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    out = [
        _svg_open(total_w, height),
        f"<title>{escape(title)}</title>",
    ]
    if len(names) > 1:
        out.append(_legend(names, label_w, 14))
    if shared:
        out.append(
            f'<rect x="{x(shared[0]):.1f}" y="{top - 4}" width="{x(shared[1]) - x(shared[0]):.1f}"'
            f' height="{height - top}" fill="#e8f3e8"/>'
        )
    # the lines stop above the tick labels: the zero line ran through "+0.0%" (QA7)
    out.append(f'<line x1="{x(0):.1f}" y1="{top - 4}" x2="{x(0):.1f}" y2="{bottom}" stroke="#888"/>')
    if reference is not None:
        out.append(
            f'<line x1="{x(reference):.1f}" y1="{top - 4}" x2="{x(reference):.1f}" y2="{bottom}"'
            ' stroke="#b03a48" stroke-dasharray="4 3"/>'
        )
    # the value labels of a single series are one column: one unit and one number of decimals (QA8 O7)
    column = column_texts(fmt, list(series[names[0]])) if k == 1 and names else []
    for i, label in enumerate(labels):
        y0 = top + i * row_h
        out.append(
            f'<text x="{label_w - 6}" y="{y0 + k * bar_h / 2 + 4:.1f}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_fit_label(label, label_w))}</text>"
        )
        for j, name in enumerate(names):
            v = series[name][i]
            yy = y0 + j * bar_h
            own = bands.get(name)
            if own and not shared:
                left_b, width_b = x(own[0]), x(own[1]) - x(own[0])
                out.append(
                    f'<rect class="tp-band" x="{left_b:.1f}" y="{yy - 1}" width="{width_b:.1f}"'
                    f' height="{bar_h}" fill="#e8f3e8"><title>{escape(name)} band</title></rect>'
                )
            if v is None or not math.isfinite(v):
                out.append(f'<text x="{x(0) + 4:.1f}" y="{yy + 10}" fill="#888">n/a</text>')
                continue
            left, right = sorted((x(0), x(v)))
            colour = PALETTE[j % len(PALETTE)]
            out.append(
                f'<rect x="{left:.1f}" y="{yy}" width="{max(right - left, 0.5):.1f}" height="{bar_h - 2}"'
                f' fill="{colour}"><title>{escape(label)} · {escape(name)}: {escape(fmt(v))}</title></rect>'
            )
            if k == 1:
                out.append(f'<text x="{label_w + plot_w + 6}" y="{yy + 10}">{escape(column[i])}</text>')
    marks = [0.0, *edges, *([reference] if reference is not None else []), lo, hi]
    out += _axis_ticks(marks, x, fmt, bottom + 12)
    if ticks_above:
        out += _axis_ticks(marks, x, fmt, top - 8)
    out.append("</svg>")
    return Markup("".join(out))


def _axis_ticks(values: Sequence[float], x: Callable[[float], float], fmt: Formatter, y: float) -> list[str]:
    """Tick labels under a bar chart, in the order of ``values`` (zero, the band's edges, the ends), each
    left out when it would come closer than 44 px to one already placed (no overlapping labels)."""
    placed: list[float] = []
    kept = []
    for v in dict.fromkeys(values):
        px = x(v)
        if any(abs(px - q) < 44 for q in placed):
            continue
        placed.append(px)
        kept.append(v)
    # one scale, one unit and one number of decimals ("$0", "$0.50M", "$1.25M"; QA8 O7)
    return [
        f'<text x="{px:.1f}" y="{y:.1f}" text-anchor="middle" fill="#555">{escape(text)}</text>'
        for px, text in zip(placed, column_texts(fmt, kept), strict=True)
    ]


def label_offsets(points: list[tuple[float, float, str]]) -> list[tuple[float, float]]:
    """Where each point's label goes (dx, dy from the point): right and above, unless that covers a
    label already placed, then the next free one of a few spots around the point."""
    spots = ((6, -4), (6, 11), (-6, -4), (-6, 11), (6, -15), (-6, -15), (6, 22), (-6, 22))
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float]] = []
    for x, y, text in points:
        w, h = 6.2 * len(text) + 2, 11.0
        choice: tuple[float, float] = spots[0]
        for dx, dy in spots:
            x0 = x + dx if dx > 0 else x + dx - w
            box = (x0, y + dy - h + 2, x0 + w, y + dy + 2)
            if all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in placed):
                choice = (dx, dy)
                break
        cx, cy = choice
        x0 = x + cx if cx > 0 else x + cx - w
        placed.append((x0, y + cy - h + 2, x0 + w, y + cy + 2))
        out.append(choice)
    return out


def scatter_chart(
    labels: Sequence[str],
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    x_title: str,
    y_title: str,
    x_fmt: Formatter,
    y_fmt: Formatter,
    title: str,
    y_max: float | None = None,
) -> Markup:
    """A labelled scatter plot; points with a missing coordinate are left out (and listed as such).
    ``y_max``: the largest value y can take (1.0 for a rate): the axis stops there instead of running
    past it; labels that would cover one another are moved to a free spot around their point."""
    width, height, left, bottom, top, right = 620, 360, 70, 40, 16, 20
    pts = [
        (lab, xv, yv)
        for lab, xv, yv in zip(labels, xs, ys, strict=True)
        if xv is not None and yv is not None and math.isfinite(xv) and math.isfinite(yv)
    ]
    skipped = [lab for lab, xv, yv in zip(labels, xs, ys, strict=True) if (lab, xv, yv) not in pts]
    x_lo, x_hi = (min(p[1] for p in pts), max(p[1] for p in pts)) if pts else (0.0, 1.0)
    y_lo, y_hi = (min(p[2] for p in pts), max(p[2] for p in pts)) if pts else (0.0, 1.0)
    x_lo, y_lo = min(x_lo, 0.0), min(y_lo, 0.0)
    x_hi, y_hi = (x_hi if x_hi > x_lo else x_lo + 1) * 1.05, (y_hi if y_hi > y_lo else y_lo + 1) * 1.08
    if y_max is not None and y_lo < y_max and all(p[2] <= y_max for p in pts):
        y_hi = min(y_hi, y_max)

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (v - y_lo) / (y_hi - y_lo) * (height - bottom - top)

    out = [
        _svg_open(width, height),
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"'
        ' stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
        f'<text x="{(left + width) / 2:.0f}" y="{height - 8}" text-anchor="middle">{escape(x_title)}</text>',
        f'<text x="14" y="{(top + height - bottom) / 2:.0f}" text-anchor="middle"'
        f' transform="rotate(-90 14 {(top + height - bottom) / 2:.0f})">{escape(y_title)}</text>',
    ]
    fracs = (0.0, 0.5, 1.0)
    x_ticks = [x_lo + frac * (x_hi - x_lo) for frac in fracs]
    y_ticks = [y_lo + frac * (y_hi - y_lo) for frac in fracs]
    # each axis' scale is one column: one unit and one number of decimals (QA8 O7)
    for xv, yv, x_text, y_text in zip(
        x_ticks, y_ticks, column_texts(x_fmt, x_ticks), column_texts(y_fmt, y_ticks), strict=True
    ):
        # the last tick ends at the axis' end when centred it would run past the chart (QA70 F5: "CAD 33.3k"
        # cut to "CAD 33.3" at the right edge)
        end = px(xv) + _text_width(x_text) / 2 > width - 2
        out.append(
            f'<text class="x-tick" x="{px(xv):.1f}" y="{height - bottom + 14}"'
            f' text-anchor="{"end" if end else "middle"}">{escape(x_text)}</text>'
        )
        out.append(
            f'<text class="y-tick" x="{left - 4}" y="{py(yv) + 4:.1f}" text-anchor="end">'
            f"{escape(y_text)}</text>"
        )
    offsets = label_offsets([(px(xv), py(yv), lab) for lab, xv, yv in pts])
    for (lab, xv, yv), (dx, dy) in zip(pts, offsets, strict=True):
        anchor = "" if dx > 0 else ' text-anchor="end"'
        out.append(
            f'<circle cx="{px(xv):.1f}" cy="{py(yv):.1f}" r="4" fill="{PALETTE[0]}" fill-opacity="0.8">'
            f"<title>{escape(lab)}: {escape(x_fmt(xv))}, {escape(y_fmt(yv))}</title></circle>"
            f'<text x="{px(xv) + dx:.1f}" y="{py(yv) + dy:.1f}" fill="#444"{anchor}>{escape(lab)}</text>'
        )
    out.append("</svg>")
    if skipped:
        out.append(f'<p class="note">Not shown (n/a): {escape(", ".join(skipped))}</p>')
    return Markup("".join(out))
