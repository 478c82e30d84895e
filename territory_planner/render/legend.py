"""The territory summary panel (legend): plan status and gap, one row per rep, and (with districts or
regions) one table per level, shown when the map is coloured by that level.

Built on the Python side with every input text passed through ``html.escape``. Potential is money: it is
written as the report writes short amounts, in the currency of the current ``currency_context``; each
column with one unit and one number of decimals (``formatting.short_column``: ``€9.00M`` beside ``€8.49M``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.level_outputs import level_frame, level_labels
from territory_planner.render.bands import balanced_measures, group_band_pct, measure_band_pct
from territory_planner.report.formatting import (
    NO_ALIGNMENT,
    budgeted_share,
    counted,
    design_gap_note,
    money_short,
    money_short_column,
    no_negative_zero,
    short_column,
    unaligned,
)


def _pct(value: float) -> str:
    return (
        "n/a" if not math.isfinite(value) else f"{no_negative_zero(value, 1):+.1f}"
    )  # never "-0.0" (QA41 F6)


def _notes(summary: dict[str, Any]) -> str:
    """The plan's notes a reader of the map needs, as report.html gives them: why a relaxed plan breaks
    constraints, and the inputs accepted with a warning (a home account far from its rep, repaired
    polygons); folded under one line, open for a relaxed plan (QA41 F1: the map said none of them)."""
    from territory_planner.report.html import input_notes, relaxed_because

    notes = [*relaxed_because(summary), *input_notes(summary)]
    if not notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    opened = " open" if summary.get("status") == "relaxed" else ""
    return (
        f'<details class="tp-notes"{opened}><summary>{counted(len(notes), "note")} on this plan</summary>'
        f"<ul>{items}</ul></details>"
    )


def _count(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{int(value):,}"


def _status_line(summary: dict[str, Any]) -> str:
    status = escape(str(summary.get("status", "unknown")))
    proven = summary.get("proven_optimal")
    parts = [f"Status <b>{status}</b>" + (" (proven optimal)" if proven is True else "")]
    gap = summary.get("gap")
    if isinstance(gap, int | float) and math.isfinite(gap):
        parts.append(f"gap <b>{100 * gap:.2f}%</b>{escape(design_gap_note(summary))}")
    solver = summary.get("solver")
    if solver:
        parts.append(f"solver {escape(str(solver))}")
    return " &middot; ".join(parts)


def _moved_line(summary: dict[str, Any], n_moved: int, n_accounts: int) -> str:
    moved = summary.get("moved_accounts", n_moved)
    shown_moved = f"{moved:,}" if isinstance(moved, int) and not isinstance(moved, bool) else str(moved)
    text = f"Moved <b>{escape(shown_moved)}</b> of {n_accounts:,} accounts"
    share = summary.get("moved_potential_share")
    if unaligned(summary):  # as the console and report.html say it (QA70 F3: "Moved 0 of 507 accounts")
        text, share = f"Moved accounts: <b>{escape(NO_ALIGNMENT)}</b>", None
    if isinstance(share, int | float) and math.isfinite(share):
        budgeted = budgeted_share(summary)
        stay = "" if budgeted is None else f"; {100 * budgeted:.1f}% from reps who stay, the budgeted share"
        text += f" ({100 * share:.1f}% of potential{stay})"
    devs = summary.get("max_abs_dev_pct")
    if isinstance(devs, dict) and devs:
        shown = ", ".join(f"{escape(str(k))} {v:.1f}%" for k, v in devs.items() if isinstance(v, int | float))
        if shown:
            text += f" &middot; max deviation {shown}"
    return text


def _dev_cell(dev: float, tol_pct: float | None, *, balanced: bool = True) -> str:
    """A deviation cell: shaded outside the band; muted (``tp-unbal``) for a measure the plan does not
    balance, which has no band."""
    if not balanced:
        return '<td class="tp-unbal">' + _pct(dev) + "</td>"
    off = tol_pct is not None and math.isfinite(dev) and abs(dev) > tol_pct + 1e-9
    return ('<td class="tp-off">' if off else "<td>") + _pct(dev) + "</td>"


def _plan_name(summary: dict[str, Any]) -> str:
    """' leave' (the plan folder's name, escaped), '' for a plan folder that does not record it."""
    plan = summary.get("plan")
    name = plan.get("name") if isinstance(plan, dict) else None
    return f" {escape(str(name))}" if name else ""


def _plan_origin(summary: dict[str, Any]) -> str:
    """A line naming the scenario file the plan was made from and the plan it was edited from."""
    plan = summary.get("plan")
    if not isinstance(plan, dict):
        return ""
    parts = []
    if plan.get("scenario"):
        parts.append(f"scenario {escape(Path(str(plan['scenario'])).name)}")
    if plan.get("edited_from"):
        parts.append(f"edited by hand from {escape(str(plan['edited_from']))}")
    if plan.get("rebalanced_from"):
        parts.append(f"rebalanced around hand edits of {escape(str(plan['rebalanced_from']))}")
    return f'<p class="tp-origin">{" · ".join(parts)}</p>' if parts else ""


def _dev_head(measure: str, balanced: bool, title: str) -> str:
    """The Δ% header; for a measure the plan does not balance it says so (muted, like its cells)."""
    if balanced:
        return f'<th title="{title}">Δ%</th>'
    return f'<th class="tp-unbal" title="{title}; {measure} is not balanced in this plan: no band">Δ%</th>'


def unbalanced_key(summary: dict[str, Any], measures: tuple[str, ...] = ("potential", "workload")) -> str:
    """The key line for the shown measures the plan does not balance ("" when it balances them all)."""
    balanced = balanced_measures(summary)
    off = [m for m in measures if m not in balanced]
    if not off:
        return ""
    bands = [f"{m} &plusmn;{_band_text(measure_band_pct(summary, m))}%" for m in measures if m in balanced]
    verb = "is" if len(off) == 1 else "are"
    text = f'<span class="tp-unbal">grey &Delta;%</span>: {" and ".join(off)} {verb} not balanced in this '
    text += "plan (no band; shown for information)"
    if bands:
        text += f'; <span class="tp-off">red</span>: outside the band ({", ".join(bands)})'
    return text


def _band_text(pct: float | None) -> str:
    return "n/a" if pct is None else f"{pct:g}"


def _numbers(row: pd.Series) -> Callable[[str], float]:
    """col -> the row's number (nan when blank or missing)."""

    def num(col: str) -> float:
        value = pd.to_numeric(pd.Series([row.get(col, math.nan)]), errors="coerce").iloc[0]
        return float(value)

    return num


def level_table(
    territories: pd.DataFrame,
    level: str,
    names: list[str],
    colours: list[str],
    summary: dict[str, Any],
    *,
    view: str | None = None,
    note: str = "",
) -> str:
    """The legend of "Colour by district / region": per group its swatch and name, its reps, and its
    totals against the sum of its reps' targets (as in districts.csv / regions.csv); hidden until the
    map's level switch shows it. ``view="before"``: the Current view's table (``territories`` today's,
    ``current_territories``), without the plan's pieces; ``note`` a line under it."""
    frame = level_frame(territories, level).set_index(level)
    labels = level_labels(territories, level)
    bal = balanced_measures(summary)
    nums = []
    for name in names:
        row = frame.loc[name] if name in frame.index else None
        nums.append(_numbers(row if isinstance(row, pd.Series) else pd.Series(dtype=float)))
    potential = money_short_column([num("potential") for num in nums])
    workload = short_column([num("workload") for num in nums])
    rows = []
    for name, colour, num, pot, wl in zip(names, colours, nums, potential, workload, strict=True):
        members = territories[labels == name]
        reps = ", ".join(str(r) for r in members["rep_id"])
        rows.append(
            f'<tr data-group="{escape(name)}">'
            f'<td class="tp-rep" title="{escape(name)}"><span class="tp-swatch" style="background:{colour}">'
            f"</span>{escape(name)}</td>"
            f'<td class="tp-reps" title="{escape(reps)}">{escape(reps)}</td>'
            f"<td>{_count(num('accounts'))}</td>"
            f"<td>{escape(pot)}</td>"
            + _dev_cell(
                num("potential_dev_pct"),
                group_band_pct(summary, level, "potential"),
                balanced="potential" in bal,
            )
            + f"<td>{escape(wl)}</td>"
            + _dev_cell(
                num("workload_dev_pct"),
                group_band_pct(summary, level, "workload"),
                balanced="workload" in bal,
            )
            + "</tr>"
        )
    dev = "deviation from the sum of its reps&#39; targets, %"
    head = (
        f'<tr><th class="tp-rep">{level.capitalize()}</th><th class="tp-reps">Reps</th><th>Accts</th>'
        f'<th>Potential</th>{_dev_head("potential", "potential" in bal, dev)}<th title="workload">Work</th>'
        f"{_dev_head('workload', 'workload' in bal, dev)}</tr>"
    )
    # the groups the map splits (QA10: designed districts in 5 and 9 pieces showed as connected ones)
    pieces = (
        ((summary.get("hierarchy") or {}).get(level) or {}).get("pieces") or {} if view != "before" else {}
    )
    split = ", ".join(f"{escape(str(g))} ({int(k)})" for g, k in pieces.items() if int(k) > 1)
    lines = ([f"In several pieces on the map: {split}"] if split else []) + ([escape(note)] if note else [])
    foot = ""
    if lines:
        foot = f'<tfoot><tr><td colspan="7">{"<br>".join(lines)}</td></tr></tfoot>'
    body = "".join(rows)
    attr = f' data-view="{view}"' if view else ""
    return (
        f'<table data-level="{level}"{attr} hidden><thead>{head}</thead><tbody>{body}</tbody>{foot}</table>'
    )


def _rep_rows(
    territories: pd.DataFrame, colours: list[str], summary: dict[str, Any], *, current: bool = False
) -> list[str]:
    """One row per rep: accounts, potential and workload with their deviation from the rep's target and
    (for the proposed plan) the accounts moved in and out. ``current``: the rows of the Current view
    (``data-cur-rep``, no moves)."""
    bal = balanced_measures(summary)
    tol_pot, tol_wl = measure_band_pct(summary, "potential"), measure_band_pct(summary, "workload")
    potential = money_short_column([float(v) for v in territories["potential"]])
    workload = short_column([float(v) for v in territories["workload"]])
    rows = []
    for (_, t), colour, pot, wl in zip(territories.iterrows(), colours, potential, workload, strict=True):
        rep_id = str(t["rep_id"])
        name = str(t["name"])
        label = f"{name} ({rep_id})" if name and name != rep_id else rep_id
        # the id leads: a long name is cut with an ellipsis, and "José Álvarez – Sen..." no longer hid
        # which of two José Álvarez it was (QA7, 200 reps); the full label is the tooltip
        shown = f"{rep_id} {name}" if name and name != rep_id else rep_id
        if not rep_id:  # the Current view's accounts of no plan rep
            label = shown = name
        pdev = float(t["potential_dev_pct"])
        wdev = float(t["workload_dev_pct"])
        moves = "" if current else f"<td>{_count(float(t['moved_in']))}/{_count(float(t['moved_out']))}</td>"
        rows.append(
            f'<tr data-{"cur-rep" if current else "rep"}="{escape(rep_id)}">'
            f'<td class="tp-rep" title="{escape(label)}"><span class="tp-swatch" style="background:{colour}">'
            f"</span>{escape(shown)}</td>"
            f"<td>{_count(float(t['accounts']))}</td>"
            f"<td>{escape(pot)}</td>"
            + _dev_cell(pdev, tol_pot, balanced="potential" in bal)
            + f"<td>{escape(wl)}</td>"
            + _dev_cell(wdev, tol_wl, balanced="workload" in bal)
            + moves
            + "</tr>"
        )
    return rows


def current_territories(territories: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame | None:
    """Each plan rep's accounts, potential and workload in today's alignment (``current_rep``), with the
    deviation from the rep's target in the plan (so the Current view shows how far from balance today
    is); then a row for the accounts with no current rep and one for those of reps the plan no longer
    has (rep_id "", only when there are some, no target). None when the plan folder gives no targets
    or no account has a current rep."""
    targets = [f"{m}_target" for m in ("potential", "workload")]
    if any(c not in territories or territories[c].isna().all() for c in targets):
        return None
    cur = assignments["current_rep"].astype(str).str.strip()
    if not (cur != "").any():
        return None
    keep = [c for c in ("rep_id", "name", *targets, "district", "region") if c in territories]
    out = territories[keep].copy()
    roster = set(out["rep_id"])
    sums = assignments.assign(_cur=cur).groupby("_cur")[["potential", "workload"]].sum()
    counts = cur.value_counts()
    extra = []
    for label, mask in (
        ("no current rep", cur == ""),
        ("reps no longer in the plan", (cur != "") & ~cur.isin(roster)),
    ):
        if mask.any():
            rows = assignments[mask]
            extra.append(
                {"rep_id": "", "name": label, "accounts": float(mask.sum()),
                 "potential": float(rows["potential"].sum()), "workload": float(rows["workload"].sum())}
            )  # fmt: skip
    out["accounts"] = out["rep_id"].map(counts).fillna(0).astype(float)
    for m in ("potential", "workload"):
        value = out["rep_id"].map(sums[m]).fillna(0.0).astype(float)
        target = out[f"{m}_target"].astype(float)
        out[m] = value
        out[f"{m}_dev_pct"] = (100 * (value - target) / target).where(target > 0)
    return pd.concat([out, pd.DataFrame(extra)], ignore_index=True) if extra else out


def _current_table(current: pd.DataFrame, colours: list[str], summary: dict[str, Any], head: str) -> str:
    """The Current view's rep table (shown in place of the proposed plan's in that view)."""
    reps = current[current["rep_id"] != ""]
    rows = _rep_rows(current, [*colours, *["#9e9e9e"] * (len(current) - len(reps))], summary, current=True)
    for k in range(len(reps), len(current)):  # the accounts of no plan rep: no target, no deviation
        rows[k] = rows[k].replace('data-cur-rep=""', 'class="tp-cur-other"')
    return (
        f'<table data-level="territory" data-view="before"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def legend_html(
    territories: pd.DataFrame,
    colours: list[str],
    summary: dict[str, Any],
    *,
    n_accounts: int,
    n_moved: int,
    levels: dict[str, Any] | None = None,
    no_current_alignment: bool = False,
    named_areas: bool = False,
    assignments: pd.DataFrame | None = None,
) -> str:
    """The summary panel; ``levels`` (the map payload's districts / regions, render.levels) adds a
    table per level that the level switch shows in place of the rep table; ``no_current_alignment``
    (no account has a current rep) says that the Current view has nothing to show; ``named_areas`` (the
    map draws areas holding named accounts only) says what their hatching means; ``assignments`` (the
    plan's accounts with their current rep) adds the Current view's tables: today's alignment against
    the plan's targets, shown in place of the proposed plan's while the map shows today's."""
    bal = balanced_measures(summary)
    rows = _rep_rows(territories, colours, summary)
    dev = "deviation from target, %"
    cells = (
        '<tr><th class="tp-rep">Rep</th><th>Accts</th><th>Potential</th>'
        f'{_dev_head("potential", "potential" in bal, dev)}<th title="workload">Work</th>'
        f"{_dev_head('workload', 'workload' in bal, dev)}"
    )
    head = cells + '<th title="accounts moved in / out">In/out</th></tr>'
    unbalanced = unbalanced_key(summary)
    shown_levels = [(level, lv) for level, lv in (levels or {}).items() if level in territories]
    current = None if assignments is None else current_territories(territories, assignments)
    after = None if current is None else "after"
    groups = "".join(
        level_table(territories, level, lv["names"], lv["color"], summary, view=after)
        for level, lv in shown_levels
    )
    if current is None:
        note = (
            "The map shows the <b>current</b> alignment (before); the tables in this panel are the "
            "<b>proposed</b> plan's (after)."
        )
    else:
        # the Current view shows today's figures against the plan's targets (QA38 F4 had only labelled
        # the proposed plan's table there)
        note = (
            "The map shows the <b>current</b> alignment (before the plan), and the tables each rep's "
            "accounts <b>today</b> against the proposed plan's targets."
            '<span class="tp-before-edited"> The live table is the plan with your hand edits.</span>'
        )
        today = cells.replace(dev, "today's deviation from the plan's target, %") + "</tr>"
        reps, others = current[current["rep_id"] != ""], current[current["rep_id"] == ""]
        # the accounts of no plan rep are in no district or region today: said under each level's table
        # (QA43 F4: 33 of 100 accounts, $72.3M, left out of the district table unsaid)
        outside = ""
        if not others.empty:
            held = money_short(float(others["potential"].sum()))
            count = counted(int(others["accounts"].sum()), "account")
            names = " and ".join(str(n) for n in others["name"])
            outside = f"Not in any {{level}} today: {count} ({held} of potential): {names}"
        groups += _current_table(current, colours, summary, today) + "".join(
            level_table(
                reps,
                level,
                lv["names"],
                lv["color"],
                summary,
                view="before",
                note=outside.format(level=level),
            )
            for level, lv in shown_levels
        )
    view = "" if after is None else ' data-view="after"'
    return (
        '<aside id="tp-legend">'
        f"<h1>Territory plan{_plan_name(summary)}: {counted(len(territories), 'rep')}, "
        f"{counted(n_accounts, 'account')}</h1>" + _plan_origin(summary) +
        # on paper the view switch is gone: tp_print.js writes which view and colouring the map shows
        '<p id="tp-print-view" class="tp-print-only"></p>'
        f'<div class="tp-meta">{_status_line(summary)}<br>{_moved_line(summary, n_moved, n_accounts)}</div>'
        + _notes(summary)
        + f'<p id="tp-before-note" class="tp-before-note">{note}</p>'
        f'<div class="tp-scroll"><table data-level="territory"{view}><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{groups}</div>"
        '<div class="tp-key">'
        + (f'<span class="tp-key-bands">{unbalanced}</span><br>' if unbalanced else "")
        + "&#9670; rep home (dashed: centre chosen by the planner) &middot; circle area: "
        "potential &middot; dashed lines: moved accounts, old home &rarr; account &rarr; new home"
        + (
            " &middot; hatched area, dashed outline: it holds named accounts only (no area unit), in the "
            "colour of the rep holding most of their potential"
            if named_areas
            else ""
        )
        + '<span class="tp-screen-only"> &middot; switch <i>Current</i>/<i>Proposed</i> and the '
        "moved-accounts lines in the layer control; click a rep (or Tab to it, Enter) to zoom to the "
        "territory</span>"
        + (
            " &middot; no account has a current rep (no current_rep column or an empty one): the "
            "<i>Current</i> view draws every account grey"
            if no_current_alignment
            else ""
        )
        + "</div>"
        "</aside>"
    )
