"""Checks of the reps' hierarchy columns: a district belongs to one region; the options that need a
level need every rep to carry it."""

from __future__ import annotations

import difflib
import re
from collections import Counter

import numpy as np
import pandas as pd

from territory_planner.errors import Problem


def check_reps(
    reps: pd.DataFrame, file: str, need: dict[str, str], *, districts_ignored: bool = False
) -> list[Problem]:
    """``need`` {column: option that needs it}: every rep must carry that label. ``districts_ignored``
    (``--design-districts``): the district column is not read, so its labels are not checked (QA31 F5: a
    district listed under two regions stopped a design that ignores it)."""
    problems: list[Problem] = []
    use = "district" in reps and not districts_ignored
    district = reps["district"] if use else pd.Series([""] * len(reps))
    region = reps["region"] if "region" in reps else pd.Series([""] * len(reps))
    rows: dict[str, dict[str, list[int]]] = {}  # district -> region -> its rows (1-based)
    for idx, (d, r) in enumerate(zip(district.tolist(), region.tolist(), strict=True)):
        if d:
            rows.setdefault(d, {}).setdefault(r, []).append(idx + 1)
    for d, by_region in rows.items():
        if len(by_region) < 2:
            continue
        # the region of most of the district's rows (the first seen on a tie) is the district's: the rows
        # that differ are flagged, not the consistent ones (QA20 F2: seven rows flagged for one odd row)
        main = max(by_region, key=lambda r: (len(by_region[r]), -by_region[r][0]))
        held = by_region[main]
        where = f"on row {held[0]}" if len(held) == 1 else f"on {len(held)} rows (first: row {held[0]})"
        for r, at in by_region.items():
            if r == main or (not r and "region" in need):  # a blank region needed: said once, below
                continue
            here = f"in {r!r} here" if r else "has no region here"
            for row in at:
                problems.append(
                    Problem(
                        file,
                        row,
                        "region",
                        f"district {d!r} is in region {main!r} {where} and {here}; a district belongs to "
                        "one region",
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


def blank_labels(
    reps: pd.DataFrame, file: str, columns: tuple[str, ...] = ("district", "region")
) -> list[str]:
    """A warning per level where some reps have a label and others none: those are in no district's (or
    region's) totals, which then do not add up to the team (QA31 F4: a new hire not yet placed, silently
    outside districts.csv, the report's district table and the map's district view)."""
    out = []
    for column in columns:
        if column not in reps:
            continue
        blank = (reps[column].astype(str).str.strip() == "").to_numpy()
        if blank.any() and not blank.all():
            rows = np.flatnonzero(blank)
            shown = ", ".join(f"{reps['rep_id'].iloc[i]} (row {i + 1})" for i in rows[:5].tolist())
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            has, are, give = (
                ("has", "it is", "it its") if len(rows) == 1 else ("have", "they are", "them their")
            )
            out.append(
                f"{file}: {shown}{more} {has} no {column} while the other reps have one: {are} in no "
                f"{column}'s totals ({column}s.csv, the report and the map); give {give} {column}"
            )
    return out


def lone_labels(
    reps: pd.DataFrame, file: str, written: pd.DataFrame | None = None, origin: np.ndarray | None = None
) -> list[str]:
    """A warning per district or region label held by one rep whose name is close to another label's
    (``D-Nvoa`` beside ``D-Nova``): a typo makes a district of one rep, which every band accepts (QA10).
    With a scenario's roster edits: ``written``, the reps file's own rows (a label the file gives two reps,
    one of whom the scenario removes, is no typo: QA38 F2), and ``origin``, each row's row in the file
    (or -k for the scenario's k-th added rep)."""
    warnings: list[str] = []
    for column in ("district", "region"):
        if column not in reps:
            continue
        values = reps[column].astype(str).tolist()
        counts = Counter(v for v in values if v)
        in_file = (
            Counter(str(v).strip() for v in written[column])
            if written is not None and column in written
            else None
        )
        for label, n in counts.items():
            if n != 1 or (in_file is not None and in_file[label.strip()] > 1):
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
            at = int(origin[row]) if origin is not None else row + 1
            where = f"{file}: row {at}" if at > 0 else f"the scenario's added rep {reps['rep_id'].iloc[row]}"
            warnings.append(
                f"{where}, column {column}: {column} {label!r} has one rep "
                f"({reps['rep_id'].iloc[row]}); {others} is close: a typo?"
            )
    return warnings
