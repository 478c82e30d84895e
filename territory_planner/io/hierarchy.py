"""Checks of the reps' hierarchy columns: a district belongs to one region; the options that need a
level need every rep to carry it."""

from __future__ import annotations

import difflib
import re
from collections import Counter

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


def lone_labels(reps: pd.DataFrame, file: str) -> list[str]:
    """A warning per district or region label held by one rep whose name is close to another label's
    (``D-Nvoa`` beside ``D-Nova``): a typo makes a district of one rep, which every band accepts (QA10)."""
    warnings: list[str] = []
    for column in ("district", "region"):
        if column not in reps:
            continue
        values = reps[column].astype(str).tolist()
        counts = Counter(v for v in values if v)
        for label, n in counts.items():
            if n != 1:
                continue
            close = [
                other
                for other in counts
                if other != label
                and re.sub(r"\d", "#", other) != re.sub(r"\d", "#", label)  # District 1 beside District 2
                and (
                    sorted(other.strip().casefold()) == sorted(label.strip().casefold())  # D-nova, Esat
                    or (  # a typo keeps the first letter: Oeste and Leste (west, east) are two names
                        other[:1].casefold() == label[:1].casefold()
                        and difflib.SequenceMatcher(None, other.casefold(), label.casefold()).ratio() >= 0.8
                    )
                )
            ]
            if not close:
                continue
            row = values.index(label)
            others = " or ".join(f"{o!r} ({counts[o]} rep{'' if counts[o] == 1 else 's'})" for o in close[:3])
            warnings.append(
                f"{file}: row {row + 1}, column {column}: {column} {label!r} has one rep "
                f"({reps['rep_id'].iloc[row]}); {others} is close: a typo?"
            )
    return warnings
