"""Invalid polygons (self-intersecting rings, nested shells ...) repaired without losing any of their area.

A bow-tie ring drawn by hand is common in edited shapefiles. ``buffer(0)``-style fixes keep one lobe and
drop the other, which can cut a unit off from its neighbours and turn into a false "the map is in
pieces" proof. ``shapely.make_valid`` with its "structure" method (shapely 2.1, GEOS 3.10) keeps
every lobe and takes the union of overlapping shells, minus the holes: a county drawn as a shell nested
in its own shell stays whole (the older "linework" method, used where "structure" is missing, applies
the even-odd rule and leaves the inner shell out as a hole). Its polygonal parts are the repaired unit. Every
repair is reported (file, row, the reason ``shapely.is_valid_reason`` gives), and a geometry that has no
area left once valid (a ring collapsed to a line) is an input error, never dropped or changed silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from territory_planner.errors import InputError, Problem

log = logging.getLogger(__name__)

POLYGONAL = ("Polygon", "MultiPolygon")
SHOWN = 10  # repaired rows named in the console warning (summary.json lists them all)


@dataclass(frozen=True)
class Repairs:
    geometry: Any  # the GeoSeries with every invalid polygon replaced by its repair (same index)
    repaired: tuple[Problem, ...]  # one per repaired row: file, row, "geometry", what was wrong and done


def repair_notes(repaired: list[Problem] | tuple[Problem, ...]) -> list[str]:
    """One line per repaired row, for summary.json's notes and ``validate``."""
    return [f"{p.file} row {p.row}: {p.message}" for p in repaired]


def _polygonal(geom: Any) -> Any:
    """The polygonal parts of ``make_valid``'s result (lines and points of a collapsed ring dropped)."""
    import shapely

    parts = [geom]
    polys = []
    while parts:
        g = parts.pop()
        if g.geom_type == "Polygon" and not g.is_empty:
            polys.append(g)
        elif g.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(shapely.get_parts(g).tolist())
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys[::-1])


def _structure_supported() -> bool:
    import shapely

    try:
        shapely.make_valid(shapely.Point(0, 0), method="structure")
    except Exception:  # noqa: BLE001 - an older shapely (no ``method``) or GEOS (before 3.10)
        return False
    return True


STRUCTURE = _structure_supported()


def make_valid(geom: Any) -> Any:
    """``shapely.make_valid`` with the "structure" method where shapely and GEOS have it."""
    import shapely

    if STRUCTURE:
        return shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return shapely.make_valid(geom)


ANTIMERIDIAN_JUMP = 180.0  # degrees of longitude between two consecutive vertices of a ring


def antimeridian_jumps(geoms: np.ndarray) -> dict[int, float]:
    """{index: largest jump} of the (Multi)Polygons (EPSG:4326) with a ring edge longer than 180 degrees
    of longitude: a ring drawn across the antimeridian as on a sphere (world-atlas' Russia, Fiji and
    Antarctica go from 179.9 to -179.9), which a flat map reads as a band around the whole world."""
    import shapely

    polygonal = np.array(
        [g is not None and g.geom_type in POLYGONAL and not g.is_empty for g in geoms], dtype=bool
    )
    rows = np.flatnonzero(polygonal)
    if not len(rows):
        return {}
    parts, part_row = shapely.get_parts(geoms[rows], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if len(xy) < 2:
        return {}
    same = coord_ring[1:] == coord_ring[:-1]
    jump = np.abs(np.diff(xy[:, 0]))
    hit = same & (jump > ANTIMERIDIAN_JUMP)
    out: dict[int, float] = {}
    for k in np.flatnonzero(hit):
        row = int(rows[part_row[ring_part[coord_ring[k]]]])
        out[row] = max(out.get(row, 0.0), float(jump[k]))
    return out


DUPLICATES_SHOWN = 10  # groups of accounts with the same polygon named one by one; the rest counted


def duplicate_polygons(geometry: Any, ids: Any, file: str) -> list[str]:
    """One warning per group of accounts whose polygons are the same shape (vertices in any order or
    start): the same area entered twice under two ids counts its potential and workload twice, and nothing
    said so (QA88 F5: Orange County twice, ``validate`` said the inputs were valid). ``ids``: the account
    ids, row by row as ``geometry``."""
    import shapely

    if geometry is None:
        return []
    arr = np.asarray(geometry.to_numpy(), dtype=object)
    rows = [i for i, g in enumerate(arr) if g is not None and g.geom_type in POLYGONAL and not g.is_empty]
    if len(rows) < 2:
        return []
    keys = shapely.to_wkb(shapely.normalize(arr[rows]))
    groups: dict[bytes, list[int]] = {}
    for i, key in zip(rows, keys, strict=True):
        groups.setdefault(key, []).append(i)
    same = [g for g in groups.values() if len(g) > 1]
    names = [str(x) for x in ids]
    out = [
        f"{file} rows {', '.join(str(i + 1) for i in g[:5])}{', ...' if len(g) > 5 else ''}: accounts "
        f"{', '.join(names[i] for i in g[:5])} have the same polygon: the same area entered twice? Each "
        "counts its own potential and workload"
        for g in same[:DUPLICATES_SHOWN]
    ]
    if len(same) > DUPLICATES_SHOWN:
        out.append(
            f"{file}: and {len(same) - DUPLICATES_SHOWN} more groups of accounts with the same polygon"
        )
    return out


def repair_polygons(geometry: Any, file: str) -> Repairs:
    """Repair every invalid (Multi)Polygon of ``geometry`` (a GeoSeries, or None) with ``make_valid``.

    Raises ``InputError`` naming file, row and column for each polygon that has no area once valid, and
    for each polygon drawn across the antimeridian (``antimeridian_jumps``: no repair makes it right).
    Rows are 1-based data rows, as in every other input problem."""
    import shapely

    if geometry is None:
        return Repairs(None, ())
    arr = np.asarray(geometry.to_numpy(), dtype=object)
    present = np.array([g is not None for g in arr], dtype=bool)
    valid = np.ones(len(arr), dtype=bool)
    valid[present] = shapely.is_valid(arr[present])
    wrapped = antimeridian_jumps(arr)
    problems: list[Problem] = [
        Problem(
            file,
            i + 1,
            "geometry",
            "the polygon crosses the antimeridian (180 degrees of longitude) without being cut there: one "
            f"of its edges jumps {jump:.1f} degrees of longitude, so on a flat map it wraps around the whole "
            "world (its point for distances would be far from the area): split it into parts on either "
            "side of +-180 degrees (the `antimeridian` Python package does: fix_geojson, or its command line "
            "`antimeridian fix in.json > out.json`)",
            f"{jump:.1f}",
        )
        for i, jump in sorted(wrapped.items())
    ]
    bad = [
        int(i)
        for i in np.flatnonzero(~valid)
        if arr[i].geom_type in POLYGONAL and not arr[i].is_empty and int(i) not in wrapped
    ]
    if not bad:
        if problems:
            raise InputError(problems)
        return Repairs(geometry, ())
    fixed = arr.copy()
    repaired: list[Problem] = []
    for i in bad:
        reason = str(shapely.is_valid_reason(arr[i]))
        poly = _polygonal(make_valid(arr[i]))
        if poly is None:
            problems.append(
                Problem(
                    file,
                    i + 1,
                    "geometry",
                    f"invalid polygon ({reason}) with no area once made valid "
                    "(shapely.make_valid leaves only lines or points): redraw it",
                    reason,
                )
            )
            continue
        fixed[i] = poly
        n = len(shapely.get_parts(poly))
        repaired.append(
            Problem(
                file,
                i + 1,
                "geometry",
                f"invalid polygon ({reason}) repaired with shapely.make_valid into {n} polygon(s): "
                + (
                    "every part kept, overlapping shells united"
                    if STRUCTURE
                    else "every ring kept, area inside an even number of rings (a nested shell) left out"
                ),
                reason,
            )
        )
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))
    shown = "; ".join(f"row {p.row} ({p.value})" for p in repaired[:SHOWN])
    more = f" and {len(repaired) - SHOWN} more" if len(repaired) > SHOWN else ""
    log.warning(
        "%s: %d invalid polygon(s) repaired with shapely.make_valid (every part kept): %s%s",
        file,
        len(repaired),
        shown,
        more,
    )
    import geopandas as gpd

    return Repairs(gpd.GeoSeries(fixed, index=geometry.index, crs=geometry.crs), tuple(repaired))
