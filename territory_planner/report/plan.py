"""Read a plan folder (assignments.csv, territories.csv, summary.json) for the report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.writers import unneutralise

ID_COLUMNS = ("account_id", "rep_id", "current_rep", "name", "region", "reason", "parent_id", "segment")
REQUIRED = {
    "assignments.csv": ("account_id", "rep_id"),
    "territories.csv": ("rep_id",),
}


@dataclass(frozen=True)
class PlanData:
    assignments: pd.DataFrame
    territories: pd.DataFrame
    summary: dict[str, Any]

    @property
    def moved(self) -> pd.DataFrame:
        return self.assignments[self.assignments["moved"]]


GUARDED = r"^'[=+\-@\t\r]"  # a cell ``io.writers.neutralise_formulas`` prefixed


def _read(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    if not path.is_file():
        problems.append(Problem(path.name, None, None, f"not found in the plan folder {path.parent}"))
        return None
    try:
        frame = pd.read_csv(path, dtype=dict.fromkeys(ID_COLUMNS, "string"), encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(path.name, None, None, f"cannot read the file: {exc}"))
        return None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for col in frame.columns:  # the spreadsheet guard is the CSV's, not the name's (QA17 F11)
        if not pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
            text = frame[col].astype("string")
            guarded = text.str.match(GUARDED, na=False)  # the column keeps its dtype (all-blank names too)
            if guarded.any():
                frame.loc[guarded, col] = text[guarded].map(unneutralise)
    for col in REQUIRED.get(path.name, ()):
        if col not in frame.columns:
            problems.append(Problem(path.name, None, col, "required column is missing"))
    return frame


def _as_bool(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool)
    return series.astype("string").str.strip().str.lower().isin(["true", "1", "yes"]).astype(bool)


def load_plan(plan_dir: Path) -> PlanData:
    """Load the three plan files; raises ``InputError`` naming every missing file or column."""
    from territory_planner.manifest import changed_by_hand

    plan_dir = Path(plan_dir)
    problems: list[Problem] = [p] if (p := changed_by_hand(plan_dir)) else []
    assignments = _read(plan_dir / "assignments.csv", problems)
    territories = _read(plan_dir / "territories.csv", problems)
    summary: dict[str, Any] = {}
    summary_path = plan_dir / "summary.json"
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem("summary.json", None, None, f"not valid JSON: {exc}"))
    else:
        problems.append(Problem("summary.json", None, None, f"not found in the plan folder {plan_dir}"))
    if problems or assignments is None or territories is None:
        raise InputError(problems)
    if "current_rep" not in assignments.columns:
        assignments["current_rep"] = pd.Series(pd.NA, index=assignments.index, dtype="string")
    if "moved" in assignments.columns:
        assignments["moved"] = _as_bool(assignments["moved"])
    else:
        current = assignments["current_rep"]
        assignments["moved"] = (current.notna() & current.ne(assignments["rep_id"])).astype(bool)
    for col in ("potential", "workload"):
        if col not in assignments.columns:
            assignments[col] = 0.0
    if "name" not in territories.columns:
        territories["name"] = territories["rep_id"]
    return PlanData(assignments=assignments, territories=territories, summary=summary)
