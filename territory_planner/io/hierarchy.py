"""Checks of the reps' hierarchy columns: a district belongs to one region; the options that need a
level need every rep to carry it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_planner.errors import Problem


def check_reps(reps: pd.DataFrame, file: str, need: dict[str, str]) -> list[Problem]:
    """``need`` {column: option that needs it}: every rep must carry that label."""
    problems: list[Problem] = []
    district = reps["district"] if "district" in reps else pd.Series([""] * len(reps))
    region = reps["region"] if "region" in reps else pd.Series([""] * len(reps))
    first: dict[str, tuple[str, int]] = {}
    for idx, (d, r) in enumerate(zip(district.tolist(), region.tolist(), strict=True)):
        if not d:
            continue
        if d not in first:
            first[d] = (r, idx + 1)
        elif first[d][0] != r:
            seen, row = first[d]
            problems.append(
                Problem(
                    file,
                    idx + 1,
                    "region",
                    f"district {d!r} is in region {seen!r} on row {row} and in {r!r} here; a district "
                    "belongs to one region",
                    r,
                )
            )
    for column, option in need.items():
        values = reps[column] if column in reps else pd.Series([""] * len(reps))
        if column not in reps or (values == "").all():
            problems.append(
                Problem(file, None, column, f"{option} needs a {column!r} column in the reps table")
            )
            continue
        for idx in np.flatnonzero((values == "").to_numpy())[:50]:
            problems.append(
                Problem(
                    file, int(idx) + 1, column, f"rep {reps['rep_id'].iloc[idx]!r} has no {column} ({option})"
                )
            )
    return problems
