"""Hierarchy on the map: district and region colours, rep hues grouped by district, district outlines.

``level_payload`` adds ``levels`` to the map's JSON: per level present in territories.csv, the group
index of each rep and one colour per group (neighbouring groups differ). ``grouped_colours`` gives
each rep a shade of its district's hue, so the districts of a point plan read at a glance in the
territory view; area plans get dissolved district outlines instead (``district_labels``).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from territory_planner.render.palette import PALETTE, assign_colours

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


def grouped_colours(levels: dict[str, Any] | None, colours: list[str]) -> list[str]:
    """Each rep a shade of its district's colour (lighter and darker steps around it); reps without a
    district keep their own colour."""
    if not levels or "district" not in levels:
        return colours
    d = levels["district"]
    out = list(colours)
    members: dict[int, list[int]] = {}
    for j, g in enumerate(d["of"]):
        if g >= 0:
            members.setdefault(g, []).append(j)
    for g, reps in members.items():
        base = d["color"][g]
        for k, j in enumerate(reps):
            out[j] = shade(base, k, len(reps))
    return out


def shade(colour: str, k: int, n: int) -> str:
    """The k-th of n shades of ``colour``: lightness spread over 0.3-0.75, hue kept."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    light = 0.52 if n <= 1 else 0.3 + 0.45 * k / (n - 1)
    r2, g2, b2 = colorsys.hls_to_rgb(h, light, max(s, 0.45))
    return "#" + "".join(f"{round(255 * c):02x}" for c in (r2, g2, b2))


__all__ = ["LEVELS", "PALETTE", "grouped_colours", "level_payload", "rep_groups", "shade"]
