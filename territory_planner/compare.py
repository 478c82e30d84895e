"""Compare plan folders: which accounts move, who gains and loses what, and the balance side by side.

The first plan is the baseline; every other plan is compared with it. Plans may have different rosters
(a scenario that adds or removes reps): reps present in only one plan are listed as added or removed, and
accounts present in only one plan appear in ``moves.csv`` with an empty rep on the other side.

Outputs (written atomically into one folder):
    moves.csv            plan_a, plan_b, account_id[, name], rep_a, rep_b, potential, workload[, pipeline]
                         [, district_a, district_b when a plan has districts]
    district_moves.csv   (plans with districts) accounts and measures moving from one district to another:
                         every account whose district differs, moved to a rep of another district or kept
                         by a rep who changed district (``accounts_same_rep`` counts those)
    rep_statement.csv    per rep and pair: roster status, accounts/potential/workload[/pipeline] in and out
    balance.csv          per rep: accounts, potential, workload, deviations and travel in every plan
    plans.csv            one row per plan: status, objective, gap, violations, max deviation, moved share,
                         then ``option_<name>`` for each option whose value differs between the plans
    options.csv          every option the plans were made with (summary.json -> config), one row per
                         option, a column per plan ("not recorded" for a plan written before the option
                         existed) and ``differs``
    compare.html         the tables and the plans' maps side by side (copies under maps/; a rep has the
                         baseline's colour in every map)
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.compare_html import render_html
from territory_planner.compare_options import NOT_RECORDED, option_flag, options_table
from territory_planner.errors import InputError, Problem
from territory_planner.io.labels import first_few
from territory_planner.io.writers import (
    atomic_write_text,
    refuse_replacing_inputs,
    staged_output_dir,
    unneutralise,
    write_csv,
)
from territory_planner.level_outputs import has_level, level_labels
from territory_planner.report.formatting import unaligned

MEASURES = ("potential", "workload")
BALANCE_COLUMNS = ("accounts", "potential", "workload", "potential_dev_pct", "workload_dev_pct", "travel_km")


@dataclass(frozen=True)
class PlanFolder:
    label: str
    path: Path
    assignments: pd.DataFrame
    territories: pd.DataFrame
    summary: dict[str, Any]
    pipeline: pd.Series | None  # weighted open pipeline per account_id, when the plan has CRM history
    pipeline_warning: str | None = None  # why the plan's CRM gave no pipeline (its opportunities' problems)


@dataclass(frozen=True)
class Comparison:
    plans: list[PlanFolder]
    moves: pd.DataFrame
    statement: pd.DataFrame
    balance: pd.DataFrame
    overview: pd.DataFrame
    warnings: tuple[str, ...] = ()  # e.g. plans of different accounts
    options: pd.DataFrame = field(default_factory=pd.DataFrame)  # options_table's
    # every account whose district differs between the baseline and a plan (``district_changes``)
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    # how designed districts were matched to the baseline's (``district_match_note``)
    district_notes: tuple[str, ...] = ()

    def differing_options(self) -> list[str]:
        """The options whose recorded values differ between the plans, in options.csv's order."""
        if self.options.empty:
            return []
        return [str(n) for n in self.options.loc[self.options["differs"], "option"]]

    def options_line(self) -> str:
        """One line for the console: which options differ."""
        differ = self.differing_options()
        if differ:
            return "options that differ: " + ", ".join(option_flag(n) for n in differ)
        unrecorded = not self.options.empty and (self.options[self.labels()] == NOT_RECORDED).any(axis=None)
        return "all recorded options are equal" if unrecorded else "all options are equal"

    def labels(self) -> list[str]:
        return [p.label for p in self.plans]


def _weighted_pipeline(summary: dict[str, Any]) -> tuple[pd.Series | None, str | None]:
    """Per account, amount x probability of its open opportunities in the plan's CRM folder (read by the
    CRM's own rules, ``report.crm.read_opportunities``), and a warning when that table cannot be read:
    the pipeline columns are then left out, never shown as 0 (QA27 F4)."""
    crm = (summary.get("config") or {}).get("crm")
    if not crm or not Path(crm).is_dir():
        return None, None
    folder = Path(crm).resolve()
    stamp = tuple(
        (f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.glob("opportunities.*"))
    )
    pipeline, warning = _crm_pipeline(str(folder), crm, stamp)
    return (None if pipeline is None else pipeline.copy()), warning


@functools.lru_cache(maxsize=8)
def _crm_pipeline(
    folder: str, crm: str, stamp: tuple[tuple[str, int, int], ...]
) -> tuple[pd.Series | None, str | None]:
    """``_weighted_pipeline`` of one CRM folder, read once for the plans that share it (they usually
    do: every plan of a comparison was made on the same CRM); ``stamp``, its opportunities files' names,
    times and sizes, keys the cache so that a file changed since is read again."""
    del stamp  # the cache key only
    from territory_planner.report.crm import read_opportunities

    opps, problems = read_opportunities(Path(folder))
    if problems:
        first = problems[0]
        where = ", ".join(
            f"{label}{v}"
            for label, v in (("", first.file), ("row ", first.row), ("column ", first.column))
            if v not in (None, "")
        )
        return None, (
            f"no pipeline columns: the plan's CRM opportunities ({crm}) have {len(problems)} problem(s), "
            f"the first at {where}: {first.message} (`territory-planner report --crm {crm} ...` lists them)"
        )
    if opps is None or not {"account_id", "amount", "probability", "status"} <= set(opps.columns):
        return None, None
    open_ = opps[opps["status"] == "open"]
    value = open_["amount"].astype(float) * open_["probability"].astype(float)
    return value.groupby(open_["account_id"].astype(str)).sum(), None


def read_plan(path: Path | str, label: str | None = None) -> PlanFolder:
    """Read a plan folder written by ``plan`` (assignments.csv, territories.csv, summary.json)."""
    path = Path(path)
    missing = [n for n in ("assignments.csv", "territories.csv", "summary.json") if not (path / n).is_file()]
    if missing:
        raise InputError(Problem(str(path), None, None, f"not a plan folder: missing {', '.join(missing)}"))
    from territory_planner.manifest import changed_by_hand

    if changed := changed_by_hand(path):
        raise InputError(changed)
    text = {"account_id": str, "rep_id": str, "current_rep": str, "name": str}
    assignments = pd.read_csv(path / "assignments.csv", dtype=text, keep_default_na=False)
    territories = pd.read_csv(
        path / "territories.csv", dtype={"rep_id": str, "name": str}, keep_default_na=False
    )
    for frame in (assignments, territories):  # the spreadsheet guard is the CSV's, not the name's (QA17 F11)
        for col in ("name", "reason"):
            if col in frame.columns:
                frame[col] = frame[col].astype(str).map(unneutralise)
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(Problem(str(path / "summary.json"), None, None, f"not valid JSON: {exc}")) from None
    for col in MEASURES:
        if col not in assignments.columns:
            assignments[col] = 0.0
    pipeline, warning = _weighted_pipeline(summary)
    return PlanFolder(label or path.name, path, assignments, territories, summary, pipeline, warning)


def _side_by_side(a: PlanFolder, b: PlanFolder) -> pd.DataFrame:
    """Every account of either plan: its rep in each (``rep_a``, ``rep_b``; "" where it is not in the
    plan) and its measures (plan ``a``'s, else ``b``'s)."""
    left = a.assignments[["account_id", "rep_id", *MEASURES]].rename(columns={"rep_id": "rep_a"})
    right = b.assignments[["account_id", "rep_id", *MEASURES]].rename(columns={"rep_id": "rep_b"})
    merged = left.merge(right, on="account_id", how="outer", suffixes=("", "_b"))
    for m in MEASURES:
        merged[m] = merged[m].fillna(merged[f"{m}_b"])
    merged[["rep_a", "rep_b"]] = merged[["rep_a", "rep_b"]].fillna("")
    return merged


def moves_frame(a: PlanFolder, b: PlanFolder) -> pd.DataFrame:
    """Every account whose rep differs between ``a`` and ``b`` (including accounts in only one plan)."""
    merged = _side_by_side(a, b)
    moved = merged[merged["rep_a"] != merged["rep_b"]].copy()
    out = moved[["account_id", "rep_a", "rep_b", *MEASURES]].sort_values("account_id", kind="stable")
    named = [
        p.assignments.loc[p.assignments["name"] != "", ["account_id", "name"]]
        for p in (b, a)
        if "name" in p.assignments
    ]
    if any(len(n) for n in named):  # the account's name, as the plans give it (plan b's first)
        name = pd.concat(named).drop_duplicates("account_id").set_index("account_id")["name"]
        out.insert(1, "name", out["account_id"].map(name).fillna(""))
    out.insert(0, "plan_b", b.label)
    out.insert(0, "plan_a", a.label)
    pipeline = a.pipeline if a.pipeline is not None else b.pipeline
    if pipeline is not None:
        out["pipeline"] = out["account_id"].map(pipeline).fillna(0.0).astype(float)  # QA27 F6: str when empty
    if _with_districts(a, b):
        _add_districts(out, a, b)
        out["district_b_as"] = _stands_for(out["district_b"], district_match(a, b))
    return out.reset_index(drop=True)


def _stands_for(labels: pd.Series, match: dict[str, tuple[str, int, int]]) -> pd.Series:
    """``district_b_as``: the baseline's district each of ``b``'s stands for (``district_match``); its own
    name when the names are compared as they are, "" for a district matched to none (QA114 F4: the column
    was there in some comparisons only, and moves.csv had none, so "D01 -> D01" read as no change)."""
    if not match:
        return labels
    return labels.map(lambda x: match[x][0] if x in match else "")


def _with_districts(a: PlanFolder, b: PlanFolder) -> bool:
    return has_level(a.territories, "district") or has_level(b.territories, "district")


def _add_districts(frame: pd.DataFrame, a: PlanFolder, b: PlanFolder) -> None:
    """``district_a`` and ``district_b``: the district of each side's rep ("" for none) in ``frame``."""
    for plan, side in ((a, "a"), (b, "b")):
        t = plan.territories
        district = dict(zip(t["rep_id"], level_labels(t, "district"), strict=True)) if "district" in t else {}
        frame[f"district_{side}"] = frame[f"rep_{side}"].map(district).fillna("").astype(str)


def _designed(plan: PlanFolder) -> bool:
    """Whether ``plan``'s districts were made by ``--design-districts`` (named D01, D02, ...)."""
    return bool((plan.summary.get("config") or {}).get("design_districts"))


def _district_reps(plan: PlanFolder) -> dict[str, set[str]]:
    t = plan.territories
    if "district" not in t:
        return {}
    out: dict[str, set[str]] = {}
    for rep, label in zip(t["rep_id"].astype(str), level_labels(t, "district"), strict=True):
        if label:
            out.setdefault(label, set()).add(rep)
    return out


def district_match(a: PlanFolder, b: PlanFolder) -> dict[str, tuple[str, int, int]]:
    """``b``'s districts as ``a``'s they stand for, when either plan's districts were designed or the
    two plans share no district name: designed names (D01, D02, ... in the design's order) say nothing of
    who is in them, and districts renamed throughout are the same teams (QA110 O4: given districts
    against designed ones of the same reps listed every account as changing district). A district is the
    baseline's that shares the most reps with it, one to one, the most shared reps in all; among matchings
    as good, the one that keeps the most potential in its district (QA112 F3: two given districts merged
    into one designed one tied on reps, and the tie went by name). Per matched label of ``b``: (``a``'s
    label, reps shared, reps in ``b``'s). Empty when both plans' districts are given and share a name:
    their names are the user's, compared as they are."""
    ra, rb = _district_reps(a), _district_reps(b)
    if not ra or not rb or not (_designed(a) or _designed(b) or not set(ra) & set(rb)):
        return {}
    from scipy.optimize import linear_sum_assignment

    la, lb = sorted(ra), sorted(rb)
    shared = np.array([[len(ra[x] & rb[y]) for x in la] for y in lb], dtype=float)
    # the potential both plans keep in each pair of districts, as a fraction below one shared rep
    merged = _side_by_side(a, b)
    _add_districts(merged, a, b)
    kept = merged.groupby(["district_b", "district_a"])["potential"].sum()
    total = float(merged["potential"].astype(float).abs().sum()) + 1.0
    weight = np.array([[float(kept.get((y, x), 0.0)) / total for x in la] for y in lb])
    rows, cols = linear_sum_assignment(shared + 0.5 * weight, maximize=True)
    return {
        lb[i]: (la[j], int(shared[i, j]), len(rb[lb[i]]))
        for i, j in zip(rows, cols, strict=True)
        if shared[i, j]
    }


def _as_baseline(labels: pd.Series, match: dict[str, tuple[str, int, int]]) -> pd.Series:
    """``b``'s district labels as the baseline's (``district_match``): an unmatched one equals none of
    the baseline's, whatever its name."""
    if not match:
        return labels
    return labels.map(lambda x: match[x][0] if x in match else ("\0" + x if x else x))


def district_match_note(a: PlanFolder, b: PlanFolder) -> str:
    """What ``district_match`` did, in words: "" when it matched nothing."""
    match = district_match(a, b)
    if not match:
        return ""
    designed = [p for p in (a, b) if _designed(p)]
    why = (
        " and ".join(f"{p.label}'s" for p in designed)
        + " districts were designed (--design-districts names them in no lasting order)"
        if designed
        else f"{a.label} and {b.label} share no district name"
    )
    pairs = ", ".join(f"{y} as {x} ({k} of {n} reps)" for y, (x, k, n) in sorted(match.items()))
    alone = sorted(set(_district_reps(b)) - set(match))
    none = (
        f"; {', '.join(alone)} stand{'s' if len(alone) == 1 else ''} for none (one to one, and {a.label} "
        f"has fewer districts or none sharing a rep): {'its' if len(alone) == 1 else 'their'} accounts "
        "count as changing district"
        if alone
        else ""
    )
    return (
        f"{why}: each of {b.label}'s districts is compared as the {a.label} district it shares the most "
        f"reps with (district_b_as in moves.csv and district_moves.csv): {pairs}{none}"
    )


def district_changes(a: PlanFolder, b: PlanFolder) -> pd.DataFrame:
    """Every account whose district differs between ``a`` and ``b``: given to a rep of another district,
    or kept by its rep when the rep changed district (a re-organisation: QA20 F6, one rep moved from D0
    to D3 took 56 accounts with it, and a table of rep changes alone showed 2 of the 58 that changed
    district). Accounts in one plan only have an empty district on the other side. Empty when neither
    plan has districts."""
    if not _with_districts(a, b):
        return pd.DataFrame()
    merged = _side_by_side(a, b)
    _add_districts(merged, a, b)
    match = district_match(a, b)
    out = merged[merged["district_a"] != _as_baseline(merged["district_b"], match)]
    out = out[["account_id", "rep_a", "rep_b", "district_a", "district_b", *MEASURES]].copy()
    out.insert(5, "district_b_as", _stands_for(out["district_b"], match))
    out.insert(0, "plan_b", b.label)
    out.insert(0, "plan_a", a.label)
    return out.sort_values("account_id", kind="stable").reset_index(drop=True)


def district_moves(changes: pd.DataFrame) -> pd.DataFrame:
    """Moves between districts: per (plan pair, district_a, district_b) the accounts whose district
    changes (``district_changes``), how many of them keep their rep (the rep changed district), and the
    measures."""
    if "district_a" not in changes:
        return pd.DataFrame()
    cross = changes.copy()  # every row a change (by ``district_match`` when districts were designed)
    cross["same_rep"] = (cross["rep_a"] == cross["rep_b"]).astype(int)
    keys = ["plan_a", "plan_b", "district_a", "district_b"]
    if "district_b_as" in cross:  # what b's district stands for (``district_match``)
        cross["district_b_as"] = cross["district_b_as"].fillna("")
        keys.append("district_b_as")
    out = cross.groupby(keys, sort=True).agg(
        accounts=("account_id", "size"),
        accounts_same_rep=("same_rep", "sum"),
        **{m: (m, "sum") for m in MEASURES},
    )
    return out.reset_index()


def reestimated(a: PlanFolder, b: PlanFolder) -> pd.DataFrame:
    """The accounts in both plans whose potential or workload differ (a refreshed estimate between last
    year's plan and this year's): per account its rep in ``b`` and each measure's change (b - a)."""
    merged = _side_by_side(a, b)
    both = merged[(merged["rep_a"] != "") & (merged["rep_b"] != "")]
    delta = pd.DataFrame({m: both[f"{m}_b"].astype(float) - both[m].astype(float) for m in MEASURES})
    changed = (delta.abs() > 1e-9 * np.maximum(both[list(MEASURES)].abs().astype(float), 1.0)).any(axis=1)
    out = delta[changed].copy()
    out.insert(0, "rep_b", both.loc[changed, "rep_b"])
    out.insert(0, "account_id", both.loc[changed, "account_id"])
    return out.reset_index(drop=True)


def rep_statement(a: PlanFolder, b: PlanFolder, moves: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Per rep: what it gains and loses going from plan ``a`` to plan ``b``: accounts in and out at plan
    ``a``'s amounts and, when some accounts' amounts differ between the plans (``changes``, the frame
    ``reestimated`` gives), their change under the rep holding them in ``b``, so that ``net`` is the
    change of the rep's total (QA27 F12: a re-estimated Nashville made SE08's net -273,040 where its
    total rose by 110,130)."""
    reps_a, reps_b = (
        set(a.assignments["rep_id"]) | set(a.territories["rep_id"]),
        set(b.assignments["rep_id"]) | set(b.territories["rep_id"]),
    )
    measures = [*MEASURES, *(["pipeline"] if "pipeline" in moves.columns else [])]
    rows = []
    for rep in sorted(reps_a | reps_b):
        status = "kept" if rep in reps_a and rep in reps_b else ("removed" if rep in reps_a else "added")
        gained, lost = moves[moves["rep_b"] == rep], moves[moves["rep_a"] == rep]
        row: dict[str, Any] = {
            "plan_a": a.label,
            "plan_b": b.label,
            "rep_id": rep,
            "roster": status,
            "accounts_a": int((a.assignments["rep_id"] == rep).sum()),
            "accounts_b": int((b.assignments["rep_id"] == rep).sum()),
            "accounts_in": len(gained),
            "accounts_out": len(lost),
        }
        for m in measures:
            row[f"{m}_in"] = float(gained[m].sum())
            row[f"{m}_out"] = float(lost[m].sum())
            net = row[f"{m}_in"] - row[f"{m}_out"]
            if m in MEASURES and len(changes):
                row[f"{m}_reestimated"] = round(float(changes.loc[changes["rep_b"] == rep, m].sum()), 6)
                net += row[f"{m}_reestimated"]
            row[f"{m}_net"] = round(net, 6)
            row[f"{m}_in"], row[f"{m}_out"] = round(row[f"{m}_in"], 6), round(row[f"{m}_out"], 6)
        rows.append(row)
    return pd.DataFrame(rows)


def balance_table(plans: list[PlanFolder]) -> pd.DataFrame:
    """Rep by rep, the balance columns of every plan side by side (``label: column``); blank = not in plan."""
    reps = sorted(set().union(*(set(p.territories["rep_id"]) for p in plans)))
    out = pd.DataFrame({"rep_id": reps})
    for p in plans:
        cols = [c for c in BALANCE_COLUMNS if c in p.territories.columns]
        t = p.territories.set_index("rep_id")[cols]
        for c in cols:
            column = out["rep_id"].map(t[c])
            if c in WHOLE_COLUMNS:  # counts stay whole where a rep is blank (QA44 F19: "24.0")
                column = pd.to_numeric(column, errors="coerce").round().astype("Int64")
            out[f"{p.label}: {c}"] = column
    return out


#: Balance columns that are counts.
WHOLE_COLUMNS = frozenset({"accounts"})


def overview_table(plans: list[PlanFolder], options: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per plan; with ``options`` (``options_table``'s) a column ``option_<name>`` per option that
    differs between the plans."""
    rows = []
    for p in plans:
        s = p.summary
        devs = dict(s.get("max_abs_dev_pct") or {})
        # a measure the plan does not balance has its deviations all the same, for information (QA27 F25:
        # a potential-only plan's workload at -74% to +85% of target showed blank)
        unbalanced = [m for m in MEASURES if m not in devs and f"{m}_dev_pct" in p.territories.columns]
        for m in unbalanced:
            values = pd.to_numeric(p.territories[f"{m}_dev_pct"], errors="coerce").abs()
            if values.notna().any():
                devs[m] = round(float(values.max()), 4)
        rows.append(
            {
                "plan": p.label,
                "status": s.get("status"),
                "reps": s.get("reps"),
                "accounts": s.get("accounts"),
                "objective": s.get("objective"),
                "gap": s.get("gap"),
                # a manual (edited) or relaxed plan may break bands: its gap can then be negative
                "violations": len(s.get("violations") or []),
                **{f"max_{m}_dev_pct": v for m, v in devs.items()},
                "not_balanced": ", ".join(m for m in unbalanced if m in devs),
                # a plan made without a current alignment moved nothing and nothing can be said to move:
                # blank, not 0 (summary.json ``current_accounts`` 0; the console and report say so)
                **_moved(s, p.assignments),
            }
        )
    out = pd.DataFrame(rows)
    if options is not None and not options.empty:
        for _, row in options[options["differs"]].iterrows():
            out[f"option_{row['option']}"] = [row[p.label] for p in plans]
    return out


def _moved(s: dict[str, Any], assignments: pd.DataFrame) -> dict[str, Any]:
    """plans.csv's moved columns from a plan's summary: None where the plan had no current alignment
    (summary.json ``current_accounts`` 0; a folder written before that key, when no account of its
    assignments.csv has a current_rep: QA65 F3, the same plan read both ways in one plans.csv)."""
    older = (
        "current_accounts" not in s and not s.get("moved_accounts") and "current_rep" in assignments.columns
    )
    if unaligned(s) or (
        older and (assignments["current_rep"].fillna("").astype(str).str.strip() == "").all()
    ):
        return dict.fromkeys(("moved_accounts", "moved_potential_share", "budgeted_moved_share"))
    return {
        "moved_accounts": s.get("moved_accounts"),
        "moved_potential_share": s.get("moved_potential_share"),
        # the share --max-moved-share limits (a departed rep's accounts must move, outside it)
        "budgeted_moved_share": s.get("budgeted_moved_share", s.get("moved_potential_share")),
    }


def _labels(paths: list[Path]) -> list[str]:
    labels = [p.resolve().name or str(p) for p in paths]
    if len(set(labels)) < len(labels):
        labels = [f"{i + 1}-{lab}" for i, lab in enumerate(labels)]
    return labels


def compare_plans(paths: list[Path]) -> Comparison:
    if len(paths) < 2:
        raise InputError(Problem("compare", None, None, "compare needs at least two plan folders"))
    problems: list[Problem] = []
    plans: list[PlanFolder] = []
    for path, label in zip(paths, _labels(paths), strict=True):
        try:
            plans.append(read_plan(path, label))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    base = plans[0]
    ids = set(base.assignments["account_id"])
    apart = [other for other in plans[1:] if ids.isdisjoint(other.assignments["account_id"])]
    if apart:  # every account a "move": nothing the comparison would say means anything (QA25 F5)
        raise InputError(
            [
                Problem(
                    str(other.path),
                    None,
                    None,
                    f"{other.label} has no account in common with {base.label} (the baseline): they are "
                    "plans of different accounts, so no account moves between them; compare plans of the "
                    "same accounts",
                )
                for other in apart
            ]
        )
    moves = [moves_frame(base, other) for other in plans[1:]]
    estimates = [reestimated(base, other) for other in plans[1:]]
    statements = [
        rep_statement(base, other, mv, ch) for other, mv, ch in zip(plans[1:], moves, estimates, strict=True)
    ]
    options = options_table(plans)
    changes = [district_changes(base, other) for other in plans[1:]]
    return Comparison(
        plans,
        pd.concat(moves, ignore_index=True),
        pd.concat(statements, ignore_index=True),
        balance_table(plans),
        overview_table(plans, options),
        tuple(w for other in plans[1:] if (w := _overlap_warning(base, other)))
        + tuple(
            w
            for other, ch in zip(plans[1:], estimates, strict=True)
            if (w := _reestimate_warning(base, other, ch))
        )
        + _currency_warning(plans)
        + _pipeline_warnings(plans),
        options,
        pd.concat(changes, ignore_index=True),
        tuple(n for other in plans[1:] if (n := district_match_note(base, other))),
    )


def _pipeline_warnings(plans: list[PlanFolder]) -> tuple[str, ...]:
    """Why no plan's CRM gave the pipeline columns, when a CRM's opportunities could not be read."""
    if any(p.pipeline is not None for p in plans):
        return ()
    return tuple(dict.fromkeys(p.pipeline_warning for p in plans if p.pipeline_warning))


def _currency_warning(plans: list[PlanFolder]) -> tuple[str, ...]:
    """A warning when the plans were written in different currencies: their amounts are compared as
    numbers, shown in the baseline's currency (QA25 F5: $ beside EUR without a word)."""
    from territory_planner.currency import plan_currency

    signs = [plan_currency(p.summary) for p in plans]
    if len(set(signs)) < 2:
        return ()
    each = ", ".join(f"{p.label} in {s}" for p, s in zip(plans, signs, strict=True))
    return (
        f"the plans were written in different currencies ({each}): amounts are compared as numbers and "
        f"shown in {signs[0]}, the baseline's, without conversion",
    )


def _overlap_warning(a: PlanFolder, b: PlanFolder) -> str:
    """A warning when two plans hold different accounts: those in one plan only count as moves to or
    from nobody (QA27 F12: one dropped account was a silent move; 452 of 511 were warned about)."""
    ids_a, ids_b = set(a.assignments["account_id"]), set(b.assignments["account_id"])
    both, either = len(ids_a & ids_b), len(ids_a | ids_b)
    if either == 0 or both == either:
        return ""
    if both < 0.5 * either:
        return (
            f"{a.label} and {b.label} have only {both:,} of {either:,} accounts in common: the accounts in "
            "one plan only count as moves"
        )
    only = sorted((ids_a | ids_b) - (ids_a & ids_b))
    return (
        f"{len(only):,} account(s) are in one of {a.label} and {b.label} only ({first_few(only)}): they "
        "count as moves from or to no rep (rep blank in moves.csv)"
    )


def _reestimate_warning(a: PlanFolder, b: PlanFolder, changes: pd.DataFrame) -> str:
    """A note when accounts in both plans have other amounts in each (``changes``, ``reestimated``'s):
    the rep statement's ``reestimated`` columns carry their change."""
    if changes.empty:
        return ""
    return (
        f"{len(changes):,} account(s) have another potential or workload in {b.label} than in {a.label} "
        f"({first_few(changes['account_id'].tolist())}): moves count at {a.label}'s amounts, and each "
        "rep's change of amounts is its 'reestimated' column, so that net is the change of its total"
    )


def _baseline_colours(plan: PlanFolder) -> dict[str, str] | None:
    """The colour of each rep on the baseline's map, so every map of the page draws a rep alike."""
    from territory_planner.render.payload import plan_colours
    from territory_planner.render.plan_folder import read_plan_folder

    try:
        return plan_colours(read_plan_folder(plan.path))
    except InputError:  # not drawable: its map.html (if any) is copied as is
        return None


def _offline_map(plan: PlanFolder, target: Path, colours: dict[str, str] | None) -> bool:
    """The plan's map drawn again offline (it must show without network), its reps in ``colours``,
    else its map.html as is."""
    from territory_planner.render.map import write_map

    target.parent.mkdir(exist_ok=True)
    try:
        write_map(plan.path, target, offline=True, colours=colours, small=True)
        return True
    except InputError:
        if not (plan.path / "map.html").is_file():
            return False
        shutil.copyfile(plan.path / "map.html", target)
        return True


def compare(paths: list[Path], out: Path, *, force: bool = False) -> Comparison:
    """Compare plan folders and write the comparison folder ``out`` atomically."""
    refuse_replacing_inputs(Path(out), paths)  # before reading them
    comparison = compare_plans([Path(p) for p in paths])
    with staged_output_dir(Path(out), force=force, kind="comparison") as stage:
        write_csv(comparison.moves, stage / "moves.csv")
        if "district_a" in comparison.districts:
            write_csv(district_moves(comparison.districts), stage / "district_moves.csv")
        write_csv(comparison.statement, stage / "rep_statement.csv")
        write_csv(comparison.balance, stage / "balance.csv")
        write_csv(comparison.overview, stage / "plans.csv")
        write_csv(comparison.options, stage / "options.csv")
        maps: dict[str, str] = {}
        colours = _baseline_colours(comparison.plans[0])
        for i, p in enumerate(comparison.plans):
            name = f"maps/{i + 1}_{''.join(c if c.isalnum() or c in '-_' else '_' for c in p.label)}.html"
            if _offline_map(p, stage / name, colours):
                maps[p.label] = name
        atomic_write_text(stage / "compare.html", render_html(comparison, maps))
    return comparison


__all__ = ["Comparison", "PlanFolder", "compare", "compare_plans", "read_plan"]
