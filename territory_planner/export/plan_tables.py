"""A plan folder read back as typed tables, for the hand-off files (workbook, changes, CRM imports).

Cells are read as text and typed by column: ids and labels stay text whatever they look like (an
account id ``00123`` is not the number 123), true/false columns become booleans, every other column
becomes numbers when each of its cells is a number. The CSV-injection guard of ``write_csv`` (``'=x``
written for ``=x``) is undone, so a name is the planner's name again; the writers decide how to keep it
inert. Every problem is reported at once, with file, row and column.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.writers import unneutralise

TEXT_COLUMNS = frozenset(
    {
        "account_id",
        "rep_id",
        "current_rep",
        "reason",
        "name",
        "parent_id",
        "segment",
        "locked_rep",
        "region",
        "district",
        "crm_user_id",
        "from_rep",
        "to_rep",
    }
)
BOOL_COLUMNS = frozenset({"moved", "home_chosen", "contiguous", "named"})
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
NEW_OWNER_REASON = "new owner: the account had no current rep"


@dataclass(frozen=True)
class PlanTables:
    folder: Path
    summary: dict[str, Any]
    assignments: pd.DataFrame  # one row per account, typed
    territories: pd.DataFrame  # one row per rep, typed
    districts: pd.DataFrame | None  # when the plan has districts (districts.csv)
    plan_date: dt.date  # the day the plan was made (manifest), else the day summary.json was written
    regions: pd.DataFrame | None = None  # when the plan has regions (regions.csv)

    @property
    def measures(self) -> list[str]:
        """Measures with a dev_pct column in territories.csv, in their order there."""
        return [c[: -len("_dev_pct")] for c in self.territories.columns if c.endswith("_dev_pct")]

    def tolerance(self, measure: str) -> float | None:
        """The band of a balanced measure (0.05 = +-5%), None for a measure that is not balanced."""
        value = (self.summary.get("tolerance") or {}).get(measure)
        return float(value) if isinstance(value, int | float) else None

    def level_bands(self, level: str) -> dict[str, float]:
        """The band of each measure at ``level`` ("district" or "region"): the tolerance the plan was
        made with (summary.json -> hierarchy -> level -> tolerance, ``*`` for every measure); a measure
        without a band at that level, or one the plan does not balance (no band at any level), is left
        out."""
        hierarchy = self.summary.get("hierarchy")
        block = hierarchy.get(level) if isinstance(hierarchy, dict) else None
        raw = block.get("tolerance") if isinstance(block, dict) else None
        if not isinstance(raw, dict):
            return {}
        out = {}
        for measure in self.measures:
            if self.tolerance(measure) is None:  # not balanced: "*" does not give it a band
                continue
            value = raw.get(measure, raw.get("*"))
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[measure] = float(value)
        return out

    def moves(self) -> pd.DataFrame:
        """Accounts whose owner changes: moved from another rep, or given one for the first time."""
        a = self.assignments
        current = a["current_rep"] if "current_rep" in a.columns else pd.Series("", index=a.index)
        changed = current.ne(a["rep_id"])
        reason = a["reason"] if "reason" in a.columns else pd.Series("", index=a.index)
        reason = reason.where(current.ne("") | reason.ne(""), NEW_OWNER_REASON)
        out = pd.DataFrame(
            {
                "account_id": a["account_id"],
                "name": a["name"] if "name" in a.columns else "",
                "from_rep": current,
                "to_rep": a["rep_id"],
            }
        )
        for col in ("potential", "workload", "distance_km"):
            if col in a.columns:
                out[col] = a[col]
        out["reason"] = reason
        return out[changed.to_numpy()].reset_index(drop=True)


def _read_text(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(path.name, None, None, f"missing from the plan folder {path.parent}"))
        return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(path.name, None, None, f"not UTF-8 text ({exc.reason})"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(path.name, None, None, f"not a readable CSV: {exc}"))
        return None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for col in sorted(set(frame.columns[frame.columns.duplicated()])):
        problems.append(Problem(path.name, None, col, "the column appears more than once"))
    return frame


def typed(frame: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame:
    """Text, boolean or number columns (see the module docstring); bad true/false cells reported."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        text = frame[col].astype(str).map(unneutralise)
        if col in TEXT_COLUMNS:
            out[col] = text.str.strip()
            continue
        stripped = text.str.strip()
        if col in BOOL_COLUMNS:
            lower = stripped.str.lower()
            for idx in np.flatnonzero(~lower.isin(_TRUE | _FALSE | {""}).to_numpy()):
                problems.append(Problem(file, int(idx) + 1, col, "not true/false", str(text.iloc[idx])))
            flags = lower.isin(_TRUE).astype("boolean")
            out[col] = flags.mask(lower.eq(""))  # an empty cell is unknown (no adjacency), not false
            continue
        numbers = pd.to_numeric(stripped.where(stripped != "", None), errors="coerce").astype(float)
        is_number = numbers.notna() | (stripped == "")
        out[col] = numbers if bool(is_number.all()) and bool(numbers.notna().any()) else text
    return out


def _require(frame: pd.DataFrame, file: str, columns: tuple[str, ...], problems: list[Problem]) -> bool:
    missing = [c for c in columns if c not in frame.columns]
    problems.extend(Problem(file, None, c, "required column is missing") for c in missing)
    return not missing


def _ids(frame: pd.DataFrame, file: str, col: str, problems: list[Problem]) -> None:
    ids = frame[col]
    for idx in np.flatnonzero(ids.eq("").to_numpy()):
        problems.append(Problem(file, int(idx) + 1, col, "empty id"))
    for idx in np.flatnonzero((ids.duplicated(keep="first") & ids.ne("")).to_numpy()):
        problems.append(Problem(file, int(idx) + 1, col, "duplicate id", str(ids.iloc[idx])))


def _plan_date(folder: Path) -> dt.date:
    """The day the plan was made, in this machine's time zone (the manifest records it in UTC: a plan made
    at 20:35 in St John's on 6 December was dated the 7th, QA86 F9)."""
    try:
        started = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("started_at")
        return dt.datetime.fromisoformat(str(started)).astimezone().date()
    except (OSError, ValueError, AttributeError):
        return dt.datetime.fromtimestamp((folder / "summary.json").stat().st_mtime).date()


def read_plan_tables(folder: Path | str) -> PlanTables:
    """Read and check ``assignments.csv``, ``territories.csv``, ``summary.json`` (and ``districts.csv``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, None, "the plan folder does not exist"))
    from territory_planner.manifest import changed_by_hand

    problems: list[Problem] = [p] if (p := changed_by_hand(folder)) else []
    summary: dict[str, Any] = {}
    try:
        loaded = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        summary = loaded if isinstance(loaded, dict) else {}
        if not summary:
            problems.append(Problem("summary.json", None, None, "must hold a JSON object"))
    except FileNotFoundError:
        problems.append(Problem("summary.json", None, None, f"missing from the plan folder {folder}"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem("summary.json", None, None, f"not valid JSON: {exc}"))
    tables: dict[str, pd.DataFrame] = {}
    for name, key in (("assignments", "account_id"), ("territories", "rep_id")):
        file = f"{name}.csv"
        raw = _read_text(folder / file, problems)
        if raw is None or not _require(raw, file, (key, "rep_id"), problems):
            continue
        tables[name] = typed(raw, file, problems)
        _ids(tables[name], file, key, problems)
    if {"assignments", "territories"} <= tables.keys():
        reps = set(tables["territories"]["rep_id"])
        unknown = ~tables["assignments"]["rep_id"].isin(reps)
        for idx in np.flatnonzero(unknown.to_numpy()):
            value = str(tables["assignments"]["rep_id"].iloc[idx])
            problems.append(
                Problem("assignments.csv", int(idx) + 1, "rep_id", "rep not in territories.csv", value)
            )
    levels = {name: _level_table(folder, name, problems) for name in ("districts", "regions")}
    if problems:
        raise InputError(problems)
    return PlanTables(
        folder,
        summary,
        tables["assignments"],
        tables["territories"],
        levels["districts"],
        _plan_date(folder),
        levels["regions"],
    )


def _level_table(folder: Path, name: str, problems: list[Problem]) -> pd.DataFrame | None:
    """``districts.csv`` / ``regions.csv`` typed, None when the plan has no such level."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        return None
    raw = _read_text(path, problems)
    return None if raw is None else typed(raw, path.name, problems)
