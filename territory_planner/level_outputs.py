"""districts.csv and regions.csv: the plan's totals per district and region, against the sum of their
reps' targets, and the ``hierarchy`` block of summary.json."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.options import PlanOptions


def _measures(territories: pd.DataFrame) -> list[str]:
    return [c[: -len("_target")] for c in territories.columns if c.endswith("_target")]


def level_frame(
    territories: pd.DataFrame, level: str, contiguous: dict[str, bool] | None = None
) -> pd.DataFrame:
    """One row per group of ``level`` ("district" or "region"): its reps, accounts, each measure with
    target and dev_pct, travel_km and (with an adjacency) whether its territories form one piece."""
    labels = level_labels(territories, level)
    rows = []
    # in label order, numbers by value (D1, D2, ..., D10), not the roster's order of first appearance
    # (QA102 F5: "D1, D3, D2" in the report and the map's panel)
    for key in sorted(dict.fromkeys(v for v in labels if v), key=label_order):
        grp = territories[labels == key]
        row: dict[str, Any] = {level: key}
        if level == "district":
            # a district spanning regions (--relax, more regions than districts) names each of them
            regions = dict.fromkeys(v for v in level_labels(grp, "region") if v) if "region" in grp else {}
            row["region"] = ";".join(regions)
        row["reps"] = len(grp)
        # a plan folder written by hand may lack the derived columns: left blank, never a crash
        row["accounts"] = int(grp["accounts"].sum()) if "accounts" in grp else ""
        for m in _measures(territories):
            value, target = float(grp[m].sum()), float(grp[f"{m}_target"].sum())
            row[m] = value
            row[f"{m}_target"] = target
            row[f"{m}_dev_pct"] = round(100 * (value - target) / target, 4) if target else float("nan")
        row["travel_km"] = round(float(grp["travel_km"].sum()), 3) if "travel_km" in grp else ""
        row["contiguous"] = "" if contiguous is None else bool(contiguous.get(key, False))
        rows.append(row)
    return pd.DataFrame(rows)


def label_order(label: str) -> list[str | int]:
    """A sort key for group labels: text case-folded, runs of digits by value ("D2" before "D10")."""
    return [int(t) if i % 2 else t.casefold() for i, t in enumerate(re.split(r"(\d+)", label))]


def level_labels(territories: pd.DataFrame, level: str) -> pd.Series:
    """The level's labels as stripped text ('' for an empty or missing cell)."""
    out: pd.Series = territories[level].astype(object).fillna("").astype(str).str.strip()
    return out.where(out.str.lower() != "nan", "")


def has_level(territories: pd.DataFrame, level: str) -> bool:
    return level in territories and bool((level_labels(territories, level) != "").any())


def summary_block(
    territories: pd.DataFrame, options: PlanOptions, contiguous: dict[str, dict[str, bool]]
) -> dict[str, Any] | None:
    """summary.json -> hierarchy: per level the tolerance, the largest deviation per measure, and
    whether every group is one piece (when an adjacency is known)."""
    out: dict[str, Any] = {}
    tolerance = options.group_tolerance()
    for level in ("district", "region"):
        if not has_level(territories, level):
            continue
        frame = level_frame(territories, level)
        dev = {}
        for m in _measures(territories):  # a measure whose targets are all 0 has no deviation ("nan%")
            values = np.abs(frame[f"{m}_dev_pct"].to_numpy(float))
            if np.isfinite(values).any():
                dev[m] = float(np.nanmax(values))
        block: dict[str, Any] = {
            "groups": len(frame),
            "tolerance": tolerance.get(level, {}),
            "max_abs_dev_pct": dev,
        }
        if level in contiguous:
            block["contiguous"] = all(contiguous[level].values())
        out[level] = block
    return out or None


LEVEL_FILES = {"district": "districts.csv", "region": "regions.csv"}


def edited_levels(
    territories: pd.DataFrame,
    hierarchy: dict[str, Any] | None,
    pieces: dict[str, dict[str, int]] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any] | None]:
    """districts.csv / regions.csv of a plan edited by hand, and its summary.json -> hierarchy: the
    plan's bands kept, groups and largest deviations recomputed, and ``pieces`` {level: {group: pieces}}
    counted on the plan's adjacency when the folder gives one (QA31 F8: districts.csv's contiguous column
    went blank and hierarchy.district.pieces null), else whether each group is one piece left out."""
    frames: dict[str, pd.DataFrame] = {}
    out: dict[str, Any] = {}
    territories = territories.copy()  # an edited plan keeps territories.csv's cells as text
    numbers = ["accounts", "travel_km", *(c for m in _measures(territories) for c in (m, f"{m}_target"))]
    for column in numbers:
        if column in territories:
            territories[column] = pd.to_numeric(territories[column], errors="coerce")  # "" -> NaN
    for level, name in LEVEL_FILES.items():
        if not has_level(territories, level):
            continue
        counted = (pieces or {}).get(level)
        shape = {g: k <= 1 for g, k in counted.items()} if counted is not None else None
        frame = frames[name] = level_frame(territories, level, shape)
        before = (hierarchy or {}).get(level)
        block = {k: v for k, v in (before if isinstance(before, dict) else {}).items() if k in ("tolerance",)}
        if counted is not None:
            block["pieces"], block["contiguous"] = counted, all(k <= 1 for k in counted.values())
        block["groups"] = len(frame)
        block["max_abs_dev_pct"] = {
            m: float(np.nanmax(np.abs(frame[f"{m}_dev_pct"].to_numpy(float)))) for m in _measures(territories)
        }
        out[level] = block
    return frames, out or None
