"""A small packaged boundary layer (US states and counties) for maps drawn without tiles.

``assets/us_boundaries.json`` is built by ``tools/build_boundaries.py`` from us-atlas (US Census Bureau
cartographic boundaries, ISC licence): every state border and county border once, as a line simplified to
about 2 km and quantised to a 0.01 degree grid, delta-encoded (``[x0, y0, dx1, dy1, ...]`` in grid steps).
Only the lines near the plan's accounts, units and homes are embedded in its map, still encoded; the map's
script decodes them. Far from the United States there is nothing to draw and nothing is embedded.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely

ASSET = "us_boundaries.json"
PAD_DEGREES = 2.0  # lines this far outside the plan's bounds are still drawn (the view is wider)


@cache
def _layer() -> dict[str, Any]:
    text = resources.files("territory_planner.render").joinpath("assets", ASSET).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _line_bounds(kind: str) -> np.ndarray:
    """(n, 4) xmin, ymin, xmax, ymax of every line, in grid steps."""
    out = np.empty((len(_layer()[kind]), 4))
    for k, line in enumerate(_layer()[kind]):
        xy = np.cumsum(np.asarray(line, dtype=np.int64).reshape(-1, 2), axis=0)
        out[k] = (*xy.min(axis=0), *xy.max(axis=0))
    return out


def boundary_lines(bounds: list[list[float]], *, counties: bool) -> dict[str, Any] | None:
    """The encoded state (and county) lines that come within ``PAD_DEGREES`` of ``bounds``
    (``[[south, west], [north, east]]``); None when none does."""
    (south, west), (north, east) = bounds
    return lines_near(np.array([[west, south, east, north]], dtype=float), counties=counties)


def lines_near(boxes: np.ndarray, *, counties: bool) -> dict[str, Any] | None:
    """The encoded state (and county) lines that come within ``PAD_DEGREES`` of one of ``boxes``
    (``(n, 4)`` west, south, east, north in degrees: one per account point, unit or home); None when
    none does. Near the plan's places, not inside its bounding box: a plan of Europe with one account
    in Hawaii gets Hawaii's lines, not the whole United States between them (QA3a)."""
    layer = _layer()
    grid = float(layer["grid"])
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    out: dict[str, Any] = {"grid": grid}
    if len(boxes):
        places = shapely.box(*(boxes / grid).T)
        for kind in ("states", "counties") if counties else ("states",):
            b = _line_bounds(kind)
            pad = PAD_DEGREES / grid
            tree = shapely.STRtree(shapely.box(b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad))
            near = np.unique(tree.query(places)[1])
            out[kind] = [layer[kind][k] for k in near]
    if not any(out.get(kind) for kind in ("states", "counties")):
        return None
    return out
