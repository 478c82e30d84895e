"""sweep.html: the trade-off chart (inline SVG: travel against the largest deviation, by moved share)
and the results table of a parameter sweep."""

from __future__ import annotations

import html
import re

import pandas as pd

from territory_planner.report.charts import label_offsets
from territory_planner.sweep_grid import SOLVED


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    """Ticks from 0 to at least ``top`` at a round step (1, 2, 2.5 or 5 times a power of ten)."""
    import math

    if top <= 0:
        return [0.0, 1.0]
    raw = top / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(k * step, 10) for k in range(n + 1)]


def _svg(table: pd.DataFrame) -> str:
    """Balance against disruption, both axes from 0 (QA17 F14: min-max axes made a one-point difference
    span the chart), circle area proportional to travel, with a size key."""
    ok = table[
        table["status"].isin(["optimal", "feasible"])
        & table["max_dev_pct"].notna()
        & table["moved_share"].notna()
    ]
    if ok.empty:
        return "<p>No successful points to chart.</p>"
    w, h, pad = 640, 400, 56
    xs = 100 * ok["moved_share"].astype(float)
    ys = ok["max_dev_pct"].astype(float)
    travel = ok["travel"].astype(float)
    x_ticks, y_ticks = _nice_ticks(float(xs.max())), _nice_ticks(float(ys.max()))
    x1, y1 = x_ticks[-1], y_ticks[-1]
    t1 = max(float(travel.max()), 1e-12)
    r_max = 14.0

    def radius(t: float) -> float:  # area proportional to travel
        return max(2.0, r_max * (max(t, 0.0) / t1) ** 0.5)

    def sx(v: float) -> float:
        return pad + 10 + (w - 1.5 * pad - 10 - 90) * v / x1  # 90 px on the right for the size key

    def sy(v: float) -> float:
        return h - pad - 10 - (h - 1.5 * pad - 10) * v / y1

    parts = [
        # scales down to a phone's width (QA7: a fixed 640 px made the page scroll sideways at 390 px)
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'style="max-width: 100%; height: auto" aria-label="balance versus disruption, circle area = travel">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{sx(x1) + 6:.1f}" y2="{h - pad}" stroke="#444"/>',
        f'<line x1="{pad}" y1="{pad / 2}" x2="{pad}" y2="{h - pad}" stroke="#444"/>',
        f'<text x="{(pad + sx(x1)) / 2:.1f}" y="{h - 14}" text-anchor="middle" font-size="13">'
        "moved potential (%)</text>",
        f'<text x="16" y="{h / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 16 {h / 2})">'
        "max deviation from target (%)</text>",
    ]
    for v in x_ticks:
        parts.append(
            f'<line x1="{sx(v):.1f}" y1="{h - pad}" x2="{sx(v):.1f}" y2="{h - pad + 4}" stroke="#444"/>'
            f'<text x="{sx(v):.1f}" y="{h - pad + 16}" font-size="11" text-anchor="middle">{v:g}</text>'
        )
    for v in y_ticks:
        parts.append(
            f'<line x1="{pad - 4}" y1="{sy(v):.1f}" x2="{pad}" y2="{sy(v):.1f}" stroke="#444"/>'
            f'<text x="{pad - 6}" y="{sy(v) + 4:.1f}" font-size="11" text-anchor="end">{v:g}</text>'
        )
    # the size key: the largest travel and half of it, as circles of those areas
    kx, ky = w - 60, pad + 4
    parts.append(
        f'<text class="size-key" x="{kx}" y="{ky}" font-size="11" text-anchor="middle">travel</text>'
    )
    for k, t in enumerate((t1, t1 / 2)):
        cy = ky + 22 + 40 * k
        parts.append(
            f'<circle class="size-key" cx="{kx}" cy="{cy}" r="{radius(t):.1f}" fill="none" stroke="#666"/>'
            f'<text class="size-key" x="{kx}" y="{cy + radius(t1) + 12:.1f}" font-size="10" '
            f'text-anchor="middle">{t:,.0f}</text>'
        )
    circles = [(sx(float(x)), sy(float(y)), radius(float(t))) for x, y, t in zip(xs, ys, travel, strict=True)]
    # each circle names its point as the table's first column starts ("p003"): on paper, and for 20 points,
    # a tooltip alone does not say which plan a circle is (QA7)
    labels = [str(p).split("_", 1)[0] for p in ok["point"]]
    offsets = label_offsets([(cx, cy, lab) for (cx, cy, _), lab in zip(circles, labels, strict=True)])
    for (_, r), x, y, t, (cx, cy, rad), lab, (dx, dy) in zip(
        ok.iterrows(), xs, ys, travel, circles, labels, offsets, strict=True
    ):
        tip = html.escape(f"{r['point']}: moved {x:.1f}%, max dev {y:.2f}%, travel {t:,.0f}")
        cls = "pareto" if bool(r["pareto"]) else "dominated"
        fill = "#d9480f" if cls == "pareto" else "#adb5bd"
        parts.append(
            f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="{rad:.1f}" fill="{fill}" '
            f'fill-opacity="0.75" stroke="#222"><title>{tip}</title></circle>'
        )
        lx = cx + dx + (rad - 4 if dx > 0 else 4 - rad)  # clear of the circle's edge
        parts.append(
            f'<text class="point-label" x="{lx:.1f}" y="{cy + dy:.1f}" font-size="11" fill="#333" '
            f'text-anchor="{"start" if dx > 0 else "end"}">{html.escape(lab)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _param(value: object) -> str:
    """A grid value as written in the grid: 0.05, EUR, true."""
    if isinstance(value, float):
        return html.escape(f"{value:g}")
    return "" if value is None else html.escape(str(value))


def _options(text: str) -> str:
    """Command-line options in a message as unbreakable code: ``--time-limit`` never wraps at its dash."""
    return re.sub(r"(?<![\w-])(--[a-z][\w-]*)", r"<code>\1</code>", text)


def _table(table: pd.DataFrame, params: list[str]) -> str:
    """The points as a readable table (amounts with separators, shares as percentages, empty cells for
    what a failed point does not have), then the reason of each point without a plan."""
    from territory_planner.compare_html import Formatter, table_html

    columns = [c for c in table.columns if c != "error"]
    shown = table[columns].astype(object).where(table[columns].notna(), None)
    formats: dict[str, Formatter] = dict.fromkeys(params, _param)
    # points by their labels, as the chart names them (QA41: the folder names, which repeat the grid's
    # columns, took a third of a 1,940 px table that hid its last columns); the folders said below it
    for column in ("point", "plan_from"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: v.split("_", 1)[0] if isinstance(v, str) else v)
    solved = table[table["status"].isin(SOLVED)]["point"]  # a point without a plan has no folder (QA47 F7)
    first = str(solved.iloc[0]) if len(solved) else ""
    where = (
        f"<p>Each point's plan is in <code>points/</code> under its full name, as sweep.csv's point column "
        f"gives it: {_param(first.split('_', 1)[0])} in <code>points/{_param(first)}</code>.</p>"
        if first
        else ""
    )
    formats["max_dev_pct"] = lambda v: f"{v:.2f}%" if isinstance(v, int | float) else ""  # a magnitude
    formats["pareto"] = formats["resumed"] = lambda v: "yes" if v is not None and bool(v) else ""
    failed = table[table["error"].astype(str).str.strip() != ""]
    notes = "".join(
        f"<li><b>{_param(r.point)}</b> ({_param(r.status)}): {_options(_param(r.error))}</li>"
        for r in failed.itertuples(index=False)
    )
    listed = f"<h2>Points without a plan</h2><ul>{notes}</ul>" if notes else ""
    return table_html(shown, "points", formats=formats) + where + listed


def _departed_note(table: pd.DataFrame) -> str:
    """Why a point's moved share can exceed its --max-moved-share: accounts of reps no longer in the roster
    must move and are outside the budget (QA6: "max moved share 0.2, moved share 31.2%")."""
    both = table[["moved_share", "budgeted_share"]].apply(pd.to_numeric, errors="coerce").dropna()
    if not (both["moved_share"] - both["budgeted_share"] > 5e-4).any():
        return ""
    from territory_planner.report.formatting import departed_moves_note

    return f"<p>{departed_moves_note('moved share', 'budgeted share')}</p>"


def render_html(table: pd.DataFrame, params: list[str]) -> str:
    from territory_planner.compare_html import SCROLL_CUES, WIDE_TABLES_CSS

    n_ok = int(table["status"].isin(["optimal", "feasible"]).sum())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep: {html.escape(", ".join(params))}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.scroll {{ max-width: 100%; overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 0.2rem 0.45rem; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap;
  vertical-align: top; }}
th {{ background: #f4f4f4; }}
td:first-child, th:first-child {{ text-align: left; }}
li {{ margin-bottom: 0.4rem; max-width: 60rem; }}
code {{ white-space: nowrap; }}
/* a table wider than the screen: the point's name stays in view, a line says how many columns lie past
   the edge (QA91 F6: at 320 px, 3 of 13 columns and no hint); on paper, every column on a landscape page */
.more-hint {{ font-size: 0.75rem; color: #666; margin: 0.2rem 0 1rem; }}
svg {{ max-width: 100%; height: auto; }}
{WIDE_TABLES_CSS}
@media print {{
  table {{ font-size: 6.5pt; }}
  tr, svg {{ break-inside: avoid; }}
  tbody td:first-child {{ position: static; }}
}}
</style></head><body>
<h1>Trade-off sweep over {html.escape(", ".join(params))}</h1>
<p>{len(table)} points, {n_ok} solved. Orange circles are Pareto-efficient: no other plan is at least as good
on balance (max deviation), disruption (moved potential) and travel (circle area), and better on one.</p>
{_svg(table)}
{_departed_note(table)}
{_table(table, params)}
<script>{SCROLL_CUES}</script>
</body></html>
"""
