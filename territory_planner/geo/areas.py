"""Point accounts joined to area polygons (ZIPs, counties, bricks): areas become the planning units.

Every non-named account goes into the area that contains it (a point on a shared border goes to the
area with the smallest id, so the join is deterministic); a point outside every area is an input error
(file and row), never dropped. Named accounts (``locked_rep`` set, or a true ``named`` column) stay
units of their own. The join works by families: an area is a family ``area:<id>``, so the problem's
unit totals are the sums of the area's accounts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem

TRUE = {"1", "true", "yes", "y", "t"}
AREA_PREFIX = "area:"


@dataclass(frozen=True)
class Areas:
    ids: np.ndarray  # (k,) str
    geometry: Any  # GeoSeries, EPSG:4326
    path: Path


def read_areas(path: Path) -> Areas:
    """Areas file (GeoJSON/GeoPackage/Shapefile with a CRS): id column ``area_id`` (or ``id``)."""
    from territory_planner.io.readers import read_table

    raw = read_table(Path(path))
    if raw.geometry is None:
        raise InputError(Problem(str(path), None, "geometry", "the areas file has no polygons"))
    cols = {c.lower(): c for c in raw.frame.columns}
    key = cols.get("area_id") or cols.get("id")
    if key is None:
        raise InputError(Problem(str(path), None, "area_id", "the areas file needs an area_id column"))
    ids = raw.frame[key].astype(str).str.strip().to_numpy()
    problems = [
        Problem(str(path), i + 1, "area_id", "empty or duplicate area_id", v)
        for i, v in enumerate(ids)
        if not v or (ids[:i] == v).any()
    ]
    if problems:
        raise InputError(problems)
    return Areas(ids, raw.geometry.reset_index(drop=True), Path(path))


def join_points(areas: Areas, lat: np.ndarray, lon: np.ndarray, accounts_file: str) -> np.ndarray:
    """Area index per point (smallest area id among those touching it); every outside point reported."""
    import shapely
    from shapely.strtree import STRtree

    pts = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    geoms = np.asarray(list(areas.geometry), dtype=object)
    pt_idx, area_idx = STRtree(geoms).query(pts, predicate="intersects")
    rank = np.argsort(np.argsort(areas.ids, kind="stable"), kind="stable")  # rank of each area by id
    out = np.full(len(pts), -1, dtype=np.int64)
    order = np.lexsort((rank[area_idx], pt_idx))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pt_idx[order][1:] != pt_idx[order][:-1]
    out[pt_idx[order][first]] = area_idx[order][first]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        raise InputError(
            [
                Problem(
                    accounts_file,
                    int(i) + 1,
                    "lat/lon",
                    "the account lies outside every area",
                    f"{lat[i]}, {lon[i]}",
                )
                for i in missing
            ]
        )
    return out


def named_flags(accounts: pd.DataFrame, raw: pd.DataFrame | None) -> np.ndarray:
    named = accounts["locked_rep"].astype(str).str.strip().ne("").to_numpy()
    if raw is not None:
        cols = {c.lower(): c for c in raw.columns}
        if "named" in cols:
            named |= raw[cols["named"]].astype(str).str.strip().str.lower().isin(TRUE).to_numpy()
    return np.asarray(named, dtype=bool)


def assign_families(
    accounts: pd.DataFrame, area_of: np.ndarray, areas: Areas, named: np.ndarray
) -> pd.DataFrame:
    """Accounts with ``parent_id`` set to their area (unless named or already in a family)."""
    out = accounts.copy()
    parent = out["parent_id"].astype(str).to_numpy()
    merge = ~named & (parent == "")
    parent = np.where(merge, np.char.add(AREA_PREFIX, areas.ids[area_of].astype(str)), parent)
    out["parent_id"] = parent
    return out


def units_geojson(
    account_ids: np.ndarray, acc_unit: np.ndarray, unit_geometry: dict[int, Any], unit_area: dict[int, str]
) -> str:
    """One feature per unit with a polygon: the unit's first account_id, its area id, WGS84, simplified."""
    import shapely

    first: dict[int, str] = {}
    for a, u in zip(account_ids.tolist(), acc_unit.tolist(), strict=True):
        first.setdefault(int(u), str(a))
    feats = []
    for u, geom in unit_geometry.items():
        if geom is None or u not in first:
            continue
        g = shapely.simplify(geom, 1e-4, preserve_topology=True)
        feats.append(
            {
                "type": "Feature",
                "properties": {"account_id": first[u], "area_id": unit_area.get(u, "")},
                "geometry": json.loads(shapely.to_geojson(g)),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": feats})
