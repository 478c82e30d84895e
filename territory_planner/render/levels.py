"""Hierarchy on the map: district and region colours, rep hues grouped by district, district outlines.

``level_payload`` adds ``levels`` to the map's JSON: per level present in territories.csv, the group
index of each rep and one colour per group (neighbouring groups differ). ``grouped_colours`` gives
each rep a colour of its district's family, clearly apart from every other rep's (render.rep_colours),
so the districts of a point plan read at a glance in the territory view without two reps looking
alike; area plans get dissolved district outlines instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from territory_planner.render.palette import PALETTE, assign_colours
from territory_planner.render.rep_colours import distinct_colours

LEVELS = ("district", "region")


def rep_groups(territories: pd.DataFrame, level: str) -> tuple[list[int], list[str]] | None:
    """Group index of each rep (-1 none) and the group names, or None when the level is absent."""
    if level not in territories:
        return None
    labels = territories[level].fillna("").astype(str).str.strip().tolist()
    names = list(dict.fromkeys(v for v in labels if v))
    if not names:
        return None
    index = {v: k for k, v in enumerate(names)}
    return [index.get(v, -1) for v in labels], names


def level_payload(
    territories: pd.DataFrame, lat: ArrayLike, lon: ArrayLike, account_rep: Sequence[int]
) -> dict[str, Any] | None:
    """{level: {"names", "of" (per rep), "color" (per group)}} for the levels the plan has."""
    out: dict[str, Any] = {}
    for level in LEVELS:
        found = rep_groups(territories, level)
        if found is None:
            continue
        of, names = found
        labels = [of[r] if r >= 0 else -1 for r in account_rep]
        keep = [k for k, g in enumerate(labels) if g >= 0]
        colours = assign_colours(
            [str(k) for k in range(len(names))],
            lat=np.asarray(lat, dtype=float)[keep],
            lon=np.asarray(lon, dtype=float)[keep],
            labels=np.asarray(labels)[keep],
        )
        out[level] = {"names": names, "of": of, "color": [colours[str(k)] for k in range(len(names))]}
    return out or None


def grouped_colours(
    levels: dict[str, Any] | None,
    colours: list[str],
    neighbours: Sequence[set[int]] | None = None,
    fixed: Mapping[int, str] | None = None,
) -> list[str]:
    """Each rep a colour of its district's family (nearer its district's colour than any other's) and
    clearly apart from every other rep's (render.rep_colours); reps without a district prefer their own
    colour. Without districts: the given colours, moved apart where two look alike."""
    d = levels.get("district") if levels else None
    if not d:
        return distinct_colours(colours, neighbours=neighbours, fixed=fixed)
    preferred = [d["color"][g] if g >= 0 else c for g, c in zip(d["of"], colours, strict=True)]
    return distinct_colours(preferred, neighbours=neighbours, groups=d["of"], centres=d["color"], fixed=fixed)


__all__ = ["LEVELS", "PALETTE", "grouped_colours", "level_payload", "rep_groups"]
