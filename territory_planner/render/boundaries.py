"""Small packaged boundary layers for maps drawn without tiles: US states and counties, world countries.

``assets/us_boundaries.json`` is built by ``tools/build_boundaries.py`` from us-atlas (US Census Bureau
cartographic boundaries, ISC licence): every state border and county border once, as a line simplified to
about 2 km and quantised to a 0.01 degree grid, delta-encoded (``[x0, y0, dx1, dy1, ...]`` in grid steps).
``assets/world_boundaries.json`` (``tools/build_boundaries.py --world``) holds every country border and
coastline of world-atlas (Natural Earth 1:50m, ISC licence) the same way, simplified to about 3 km and cut
into pieces at most 3 degrees across, except those of the United States and its territories: the US layer
draws them, in more detail, and the same place gets one line, not two a little apart. Its lines never cross
the antimeridian (they end at 180 and resume at -180).

Only the lines near the plan's accounts, units and homes are embedded in its map, still encoded; the map's
script decodes them. A plan drawn across the antimeridian (``render.wrap``: longitudes beyond 180) gets the
lines near its places a whole turn away too, moved by that turn (Fiji's eastern islands at 180.2, not -179.8).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely

ASSET = "us_boundaries.json"
WORLD_ASSET = "world_boundaries.json"
PAD_DEGREES = 2.0  # lines this far outside the plan's bounds are still drawn (the view is wider)
KINDS = ("countries", "states", "counties")  # the order they are drawn in (the script draws counties first)


@cache
def _layer(asset: str = ASSET) -> dict[str, Any]:
    text = resources.files("territory_planner.render").joinpath("assets", asset).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _lines(kind: str) -> list[list[int]]:
    lines: list[list[int]] = _layer(WORLD_ASSET if kind == "countries" else ASSET)[kind]
    return lines


@cache
def _line_bounds(kind: str) -> np.ndarray:
    """(n, 4) xmin, ymin, xmax, ymax of every line, in grid steps."""
    lines = _lines(kind)
    out = np.empty((len(lines), 4))
    for k, line in enumerate(lines):
        xy = np.cumsum(np.asarray(line, dtype=np.int64).reshape(-1, 2), axis=0)
        out[k] = (*xy.min(axis=0), *xy.max(axis=0))
    return out


@cache
def _tree(kind: str) -> shapely.STRtree:
    b = _line_bounds(kind)
    pad = PAD_DEGREES / float(_layer()["grid"])
    return shapely.STRtree(shapely.box(b[:, 0] - pad, b[:, 1] - pad, b[:, 2] + pad, b[:, 3] + pad))


def boundary_lines(bounds: list[list[float]], *, counties: bool) -> dict[str, Any] | None:
    """The encoded country, state (and county) lines that come within ``PAD_DEGREES`` of ``bounds``
    (``[[south, west], [north, east]]``); None when none does."""
    (south, west), (north, east) = bounds
    return lines_near(np.array([[west, south, east, north]], dtype=float), counties=counties)


def lines_near(boxes: np.ndarray, *, counties: bool) -> dict[str, Any] | None:
    """The encoded country, state (and county) lines that come within ``PAD_DEGREES`` of one of ``boxes``
    (``(n, 4)`` west, south, east, north in degrees: one per account point, unit or home); None when
    none does. Near the plan's places, not inside its bounding box: a plan of Europe with one account
    in Hawaii gets Hawaii's lines and Europe's, not the whole United States between them (QA3a).

    A box beyond the antimeridian (a plan drawn across it has longitudes below -180 or above 180) finds
    the lines a whole turn away, returned moved by that turn so they are drawn beside it.
    """
    grid = float(_layer()["grid"])
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    out: dict[str, Any] = {"grid": grid}
    if not len(boxes):
        return None
    turn = round(360.0 / grid)
    for kind in KINDS if counties else KINDS[:2]:
        lines = _lines(kind)
        found: list[list[int]] = []
        for shift in (0, turn, -turn):  # the places as they are, a turn east, a turn west
            places = shapely.box(*(boxes / grid + [shift, 0, shift, 0]).T)
            near = np.unique(_tree(kind).query(places)[1])
            for k in near:
                line = lines[k]
                found.append(line if not shift else [line[0] - shift, *line[1:]])
        if found:
            out[kind] = found
    if not any(out.get(kind) for kind in KINDS):
        return None
    return out
