"""``compare.html``: the plans' maps side by side and the comparison tables, readable on one page.

Every value is formatted for a reader: shares and gaps as percentages (a gap of 0.0029 is "0.29%"),
deviations (already in percent) with their sign, counts with thousands separators, money (potential,
revenue, pipeline) in the baseline plan's currency as the report writes it. Wide tables get grouped
headers (plan, then measure) instead of long ``plan: column`` names and scroll inside their own box, never
the page. Each map is the plan's own map drawn offline (no network needed) and
embedded full-frame, its summary panel folded behind a "Summary" button. Below the plans, "Options that
differ" sets side by side each option whose values differ, as a planner says it (potential ±5%, 1 km, off).
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from territory_planner.currency import chosen_currency, currency_context, is_money
from territory_planner.report import formatting as fm

if TYPE_CHECKING:
    from territory_planner.compare import Comparison
    from territory_planner.compare_options import Setting

Formatter = Callable[[object], str]


def unsigned_zero(text: str, plus: bool = False) -> str:
    """A number that reads as zero without the minus its tiny negative value left (QA15 L4: a workload net
    of -0.3 read "-0"); ``plus``: "+0.00%" as a signed format writes an exact zero."""
    if "-" in text and not any(c in "123456789" for c in text):
        return text.replace("-", "+" if plus else "", 1)
    return text


def _num(digits: int = 0) -> Formatter:
    def fmt(v: object) -> str:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
            # a rep in one plan only: pandas' missing integer (<NA>) is a blank cell, as in balance.csv
            # (QA52 F8: "<NA>" under the accounts of a rep that left, and of one that was added)
            return (
                ""
                if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                else html.escape(str(v))
            )
        return unsigned_zero(f"{v:,.{digits}f}")

    return fmt


def _share(digits: int) -> Formatter:
    """A fraction shown as a percentage."""

    def fmt(v: object) -> str:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
            return ""
        return unsigned_zero(f"{100 * v:.{digits}f}%")

    return fmt


def _pct(v: object) -> str:
    """A value already in percent (dev_pct)."""
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
        return ""
    return unsigned_zero(f"{v:+.2f}%", plus=True)


def _formatter(column: str) -> Formatter:
    if column == "gap":
        return _share(2)
    if column.endswith("_share"):
        return _share(1)
    if column.endswith("dev_pct"):
        return _pct
    if column.startswith(("accounts", "moved_accounts", "reps")) or column in ("accounts_in", "accounts_out"):
        return _num(0)
    if column.startswith("workload"):
        return _num(1)
    return _num(0)


def _cell(value: object, fmt: Formatter) -> str:
    if isinstance(value, str):
        return html.escape(value)
    return fmt(value)


def _header(column: str) -> str:
    """A column's header: travel_km sums workload x km, not kilometres driven (QA27 F1: "travel km"
    read as 2.7 million km of driving), as the report's balance table says."""
    from territory_planner.report.level_balance import TRAVEL

    return TRAVEL if column == "travel_km" else column.replace("_", " ")


def table_html(
    frame: pd.DataFrame,
    table_id: str,
    *,
    formats: dict[str, Formatter] | None = None,
    shaded: dict[object, float] | None = None,
) -> str:
    """A table whose columns may be a two-level index (group, column); text escaped, numbers formatted.
    ``shaded``: per column key, the band (in %) outside which its cells are shaded (``class="off"``)."""
    formats = formats or {}
    shaded = shaded or {}
    grouped = isinstance(frame.columns, pd.MultiIndex)
    keys = list(frame.columns)
    leaf = [k[-1] if grouped else k for k in keys]
    head = ""
    if grouped:
        groups: list[tuple[str, int]] = []
        for k in keys:
            if groups and groups[-1][0] == k[0]:
                groups[-1] = (k[0], groups[-1][1] + 1)
            else:
                groups.append((k[0], 1))
        head += "<tr>" + "".join(
            f'<th colspan="{n}" class="group">{html.escape(str(g))}</th>' for g, n in groups
        )
        head += "</tr>"
    head += "<tr>" + "".join(f"<th>{html.escape(_header(str(c)))}</th>" for c in leaf) + "</tr>"
    # a format named after a column group (a measure of the gains and losses) serves all its columns
    fmts = [
        formats.get(str(k[0]) if grouped else "", formats.get(str(c), _formatter(str(c))))
        for k, c in zip(keys, leaf, strict=True)
    ]
    bands = [shaded.get(k) for k in keys]

    def td(v: object, f: Formatter, band: float | None) -> str:
        off = band is not None and isinstance(v, int | float) and abs(float(v)) > band + 1e-4
        return f'<td class="off">{_cell(v, f)}</td>' if off else f"<td>{_cell(v, f)}</td>"

    body = "".join(
        "<tr>" + "".join(td(v, f, b) for v, f, b in zip(row, fmts, bands, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return (
        f'<div class="scroll"><table id="{table_id}"><thead>{head}</thead><tbody>{body}</tbody></table></div>'
    )


def _bands(comparison: Comparison, balance: pd.DataFrame) -> dict[object, float]:
    """Each plan's band per balanced measure, for its ``<measure>_dev_pct`` columns of the balance table
    (QA27 F16: a manual plan's +24.96% beside a band of 8% looked like every other cell)."""
    from territory_planner.render.bands import balanced_measures, measure_band_pct

    out: dict[object, float] = {}
    for plan in comparison.plans:
        for measure in balanced_measures(plan.summary):
            band = measure_band_pct(plan.summary, measure)
            key = (plan.label, f"{measure}_dev_pct")
            if band is not None and key in balance.columns:
                out[key] = float(band)
    return out


def _statement_frame(statement: pd.DataFrame) -> pd.DataFrame:
    """Per pair of plans, grouped: accounts (before, after, in, out), then each measure (in, out, net)."""
    out = statement.drop(columns=["plan_a", "plan_b"])
    columns = []
    for c in out.columns:
        if c in ("rep_id", "roster"):
            columns.append(("", c))
        elif c.startswith("accounts_"):
            part = c.removeprefix("accounts_")
            columns.append(("accounts", {"a": "before", "b": "after"}.get(part, part)))
        else:
            measure, part = c.rsplit("_", 1)
            columns.append((measure, part))
    out.columns = pd.MultiIndex.from_tuples(columns)
    return out


def _balance_frame(balance: pd.DataFrame) -> pd.DataFrame:
    """``label: column`` headers split into (plan, column)."""
    columns = []
    for c in balance.columns:
        label, _, col = c.rpartition(": ")
        columns.append((label, col) if label else ("", c))
    out = balance.copy()
    out.columns = pd.MultiIndex.from_tuples(columns)
    return out


def _without_same_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without ``district_b_as`` when it only repeats ``district_b`` (names compared as they
    are): said once."""
    if "district_b_as" in frame and (frame["district_b_as"] == frame["district_b"]).all():
        return frame.drop(columns="district_b_as")
    return frame


def _district_section(changes: pd.DataFrame, notes: tuple[str, ...] = ()) -> str:
    """Moves between districts, when the plans have districts: every account whose district changes
    (``compare.district_changes``), those kept by a rep who changed district counted apart."""
    from territory_planner.compare import district_moves  # compare imports this module

    table = district_moves(changes)
    if table.empty and "district_a" not in changes:
        return ""
    table = _without_same_names(table)
    # the potential in the plans' currency, as in the other tables (QA7: "1,038,344,000" beside "¥...")
    table_text = table_html(table, "district-moves", formats=_money_formats(table))
    why = (
        "<p>Every account whose district changes: given to a rep of another district, or kept by its rep "
        "when the rep changed district (<code>accounts_same_rep</code>).</p>\n"
    ) + "".join(f"<p>{html.escape(n)}.</p>\n" for n in notes)
    return "<h2>Moves between districts</h2>\n" + why + table_text + "\n"


def _money(v: object) -> str:
    """An amount in the currency of the current ``currency_context`` (the baseline plan's)."""
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
        return ""
    return html.escape(fm.money(float(v)))  # never a negative zero (fm.money)


def _statement_formats(frame: pd.DataFrame) -> dict[str, Formatter]:
    """Each measure group of a rep statement formatted as the measure (money; workload with one decimal,
    as in the balance table): as bare "in"/"out"/"net" columns, workload's net of -0.5 read "-0" next to
    in 36 and out 36 (QA15 L4)."""
    groups = {str(k[0]) for k in frame.columns} - {"", "accounts"}
    return {**{g: _formatter(g) for g in groups}, **_money_formats(frame)}


def _money_formats(*frames: pd.DataFrame) -> dict[str, Formatter]:
    """The money format for every column or column group that holds money (``currency.is_money``)."""
    names = {str(n) for f in frames for k in f.columns for n in (k if isinstance(k, tuple) else (k,))}
    return dict.fromkeys(sorted(n for n in names if is_money(n)), _money)


def _departed_note(overview: pd.DataFrame) -> str:
    """Said when a plan's moved share differs from its budgeted share (QA6: 39.5% beside a 30% budget)."""
    shares = overview.reindex(columns=["moved_potential_share", "budgeted_moved_share"])
    both = shares.apply(pd.to_numeric, errors="coerce").dropna()
    if not (both.iloc[:, 0] - both.iloc[:, 1] > 5e-4).any():
        return ""
    return f"<p>{fm.departed_moves_note('moved potential share', 'budgeted moved share')}</p>"


def _unaligned_note(overview: pd.DataFrame) -> str:
    """Says why a plan's moved columns are blank: it was made without a current alignment."""
    if "moved_accounts" not in overview.columns:
        return ""
    blank = overview.loc[overview["moved_accounts"].isna(), "plan"].astype(str).tolist()
    if not blank:
        return ""
    names = ", ".join(html.escape(b) for b in blank)
    why = "made without a current alignment (no account had a current_rep)."
    return f"<p>Moved: blank for {names}, {why}</p>"


_NONE_SAYS = {  # what an option left unset means
    "keep_home": "off",
    "max_moved_share": "no limit",
    "max_moved_share_per_rep": "no limit",
    "min_accounts": "no limit",
    "max_accounts": "no limit",
    "threads": "default",
    "quota_history_weight": "default",
    "scenario": "none (flags only)",
}
_SHARES = {"max_moved_share", "max_moved_share_per_rep", "gap"}


def _share_text(v: float) -> str:
    return f"{100 * v:.4g}%"


def setting_text(name: str, value: object) -> str:
    """A setting for a reader: tolerances as bands (potential ±5%), shares as percentages, km and
    seconds with their unit, yes/no, and what an unset option means (--keep-home: off)."""
    if value is None or value == "" or value == [] or value == {}:
        return _NONE_SAYS.get(name, "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and all(isinstance(v, numbers.Real) for v in value.values()):
        return ", ".join(f"{k} ±{_share_text(float(v))}" for k, v in value.items())
    if isinstance(value, list):
        ids = [str(v.get("rep_id", v)) if isinstance(v, dict) else str(v) for v in value]
        return ", ".join(ids)
    if isinstance(value, numbers.Real):
        v = float(value)
        if name in _SHARES:
            return _share_text(v)
        if name == "company_target":
            return fm.money(v)
        unit = {"keep_home": " km", "time_limit": " s"}.get(name, "")
        return f"{v:,.0f}{unit}" if v.is_integer() else f"{v:,g}{unit}"
    if name == "scenario":
        return str(value).replace("\\", "/").rsplit("/", 1)[-1]
    return str(value)


def _options_section(comparison: Comparison) -> str:
    """The options whose values differ between the plans, a row each with every plan's value; a sentence
    when none differ, and which plans do not record which options (written by an older version)."""
    from territory_planner.compare_options import NOT_RECORDED, option_flag, plans_settings

    settings = plans_settings(comparison.plans)
    rows = []
    for name in comparison.differing_options():
        cells = [s.get(name) for s in settings]
        shown = "".join(
            f"<td>{html.escape(t)}</td>" if c is not None else f'<td class="unset">{NOT_RECORDED}</td>'
            for c, t in zip(cells, _told_apart(name, cells), strict=True)
        )
        rows.append(f"<tr><td>{html.escape(option_flag(name))}</td>{shown}</tr>")
    unrecorded = []
    for label, s in zip(comparison.labels(), settings, strict=True):
        missing = [option_flag(n) for n in comparison.options["option"] if n not in s]
        if missing:
            unrecorded.append(f"{label}: {'every option' if not s else ', '.join(missing)}")
    note = (
        f"<p>{NOT_RECORDED.capitalize()} in summary.json (a plan written by an older version), so not "
        f"compared: {html.escape('; '.join(unrecorded))}.</p>"
        if unrecorded
        else ""
    )
    if not rows:
        said = (
            "All recorded options are equal."
            if unrecorded
            else "All options are equal: the plans were made with the same settings."
        )
        return f"<h2>Options that differ</h2>\n<p>{said}</p>{note}\n"
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in comparison.labels())
    return (
        '<h2>Options that differ</h2>\n<div class="scroll"><table id="options">'
        f"<thead><tr><th>option</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note}\n"
    )


def _told_apart(name: str, cells: list[Setting | None]) -> list[str]:
    """Each plan's value of a differing option for a reader; when that would show two different values
    alike (the same path to a changed file, one scenario name in two folders), as a scenario spells
    them, else with what tells them apart (the file's SHA-256)."""
    from territory_planner.compare_options import csv_text

    recorded = [c for c in cells if c is not None]
    for text in (lambda c: setting_text(name, c.value), lambda c: csv_text(c.value)):
        if all(a.key == b.key or text(a) != text(b) for a in recorded for b in recorded):
            return [text(c) if c is not None else "" for c in cells]
    return [f"{csv_text(c.value)} ({c.key[:19]})" if c is not None else "" for c in cells]


def render_html(comparison: Comparison, maps: dict[str, str]) -> str:
    """The page; amounts in the baseline plan's currency (summary.json -> config.currency)."""
    with currency_context(chosen_currency(None, comparison.plans[0].summary)):
        return _page(comparison, maps)


def _page(comparison: Comparison, maps: dict[str, str]) -> str:
    labels = [p.label for p in comparison.plans]
    frames = "".join(
        f"<figure><figcaption>{html.escape(lab)}</figcaption>"
        + (
            f'<iframe src="{html.escape(maps[lab])}#embed=1" title="{html.escape(lab)} map"></iframe>'
            if lab in maps
            else "<p>no map.html in this plan</p>"
        )
        + "</figure>"
        for lab in labels
    )
    pairs: list[str] = []
    for (a, b), part in comparison.statement.groupby(["plan_a", "plan_b"], sort=False):
        title = f"{html.escape(str(a))} &rarr; {html.escape(str(b))}"
        frame = _statement_frame(part)
        table = table_html(frame, f"statement-{len(pairs) + 1}", formats=_statement_formats(frame))
        pairs.append(f"<h3>{title}</h3>" + table)
    balance = _balance_frame(comparison.balance)
    # the options that differ have their own table, a row per option
    overview = comparison.overview.loc[:, ~comparison.overview.columns.str.startswith("option_")]
    moves_shown = _without_same_names(comparison.moves.head(500))
    districts = _district_section(comparison.districts, comparison.district_notes)
    # what the command warns of on the terminal, on the page too (plans of other accounts, currencies)
    warned = "".join(f'<p class="warning">Warning: {html.escape(w)}</p>\n' for w in comparison.warnings)
    note = (
        ""
        if len(comparison.moves) <= 500
        else f"<p>first 500 of {len(comparison.moves):,} moves: see moves.csv</p>"
    )
    title = "Plan comparison: " + " vs ".join(labels)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
.maps {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 1rem; }}
figure {{ margin: 0; }}
figcaption {{ font-weight: 600; margin-bottom: 0.3rem; }}
iframe {{ width: 100%; height: 560px; border: 1px solid #ccc; }}
.scroll {{ max-width: 100%; overflow-x: auto; margin-bottom: 1.5rem; }}
table {{ border-collapse: collapse; font-size: 0.8rem; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 0.2rem 0.5rem; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }}
th {{ background: #f4f4f4; }}
th.group {{ text-align: center; border-left: 2px solid #fff; }}
td:first-child, th:first-child {{ text-align: left; }}
thead tr:last-child th:first-child {{ position: sticky; left: 0; }}
td.off {{ background: #f8d7da; color: #8a1c25; font-weight: 600; }}
#options td, #options th {{ text-align: left; }}
#options td + td {{ white-space: normal; min-width: 8rem; }}
td.unset {{ color: #888; font-style: italic; }}
p.warning {{ color: #8a4b00; }}
.more-hint {{ font-size: 0.75rem; color: #666; margin: -1.2rem 0 1.5rem; }}
/* printed (A4 landscape, 277 mm between the margins): two maps a row, each frame given its printed size
   on beforeprint (body.printing), before the frames' own beforeprint fits each map to its frame (QA91 F2:
   the maps kept their screen view, the West alone, and the second frame ran off the page) */
body.printing .maps {{ grid-template-columns: repeat(2, 134mm); gap: 5mm; }}
body.printing iframe {{ height: 110mm; }}
{WIDE_TABLES_CSS}
@media print {{
  figure, tr {{ break-inside: avoid; }}
  h2, h3 {{ break-after: avoid; }}
  table {{ font-size: 6pt; }}
}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Baseline: {html.escape(labels[0])}. Moves and gains/losses are relative to the baseline.
Gap = (objective &minus; lower bound) / objective; deviations are from each rep's target.
Violations: the constraints a plan breaks (a hand-edited <i>manual</i> plan, or a <i>relaxed</i> one, listed
in its summary.json); a manual plan's gap is to its original plan's lower bound, and is negative when the
edits break constraints that bound assumes.</p>
{warned}<div class="maps">{frames}</div>
<h2>Plans</h2>
{table_html(overview, "plans")}{_departed_note(overview)}{_unaligned_note(overview)}
{_options_section(comparison)}<h2>Gains and losses per rep</h2>
{"".join(pairs)}
<h2>Balance side by side</h2>
{table_html(balance, "balance", formats=_money_formats(balance), shaded=_bands(comparison, balance))}
{districts}<h2>Moved accounts ({len(comparison.moves):,})</h2>
{table_html(moves_shown, "moves", formats=_money_formats(moves_shown))}{note}
<script>{SCROLL_CUES}{PRINT_FRAMES}</script>
</body></html>
"""


# A page of wide tables (compare.html, sweep.html): the first column stays in view while a table scrolls
# (QA27 F16), and on paper every column lies on a landscape page, not scrolled (QA7, QA91 F6)
WIDE_TABLES_CSS = """
tbody td:first-child { position: sticky; left: 0; background: #fff; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { margin: 0; font-size: 9pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .more-hint { display: none; }
  .scroll { overflow: visible; }
  th { white-space: normal; }
  th, td { padding: 0.1rem 0.15rem; }
}
"""


# Paper: the frames take their printed size before the print (a page gets beforeprint before its frames)
PRINT_FRAMES = """
window.addEventListener("beforeprint", function () { document.body.classList.add("printing"); });
window.addEventListener("afterprint", function () { document.body.classList.remove("printing"); });
"""


# A line under each table wider than the page, saying how many columns lie past its edge (QA70 F6: at
# 1,400 px the Plans and the side-by-side balance tables scrolled with no cue, their budgeted moved share
# and the second plan's travel out of sight); the map's panel does the same (render/assets/tp_layout.js)
SCROLL_CUES = """
(function () {
  "use strict";
  document.querySelectorAll(".scroll").forEach(function (scroll) {
    var hint = document.createElement("div");
    hint.className = "more-hint";
    hint.hidden = true;
    scroll.parentNode.insertBefore(hint, scroll.nextSibling);
    function update() {
      var more = scroll.scrollWidth - scroll.clientWidth - scroll.scrollLeft > 1;
      if (more) {
        var right = scroll.getBoundingClientRect().right;
        var head = scroll.querySelector("thead tr:last-child");
        var cut = head ? Array.prototype.filter.call(head.children, function (th) {
          return th.getBoundingClientRect().right > right + 1;
        }).length : 0;
        hint.textContent = "\u2190 scroll the table: " + cut + " more column" + (cut === 1 ? "" : "s") +
          " \u2192";
      }
      hint.hidden = !more;
    }
    scroll.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  });
})();
"""
