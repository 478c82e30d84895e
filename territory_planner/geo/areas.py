"""Point accounts joined to area polygons (ZIPs, counties, bricks): areas become the planning units.

Every non-named account goes into the area that contains it (a point on a shared border goes to the
area with the smallest id, so the join is deterministic); a point outside every area is an input error
(file and row, the account's id and name, the nearest area and how far it is), never dropped. Named
accounts (``locked_rep`` set, or a true ``named`` column) stay units of their own. The join works by
families: an area is a family ``area:<id>``, so the problem's unit totals are the sums of the area's
accounts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.labels import AREA_PREFIX  # one spelling for the unit labels

TRUE = {"1", "true", "yes", "y", "t"}


@dataclass(frozen=True)
class Areas:
    ids: np.ndarray  # (k,) str
    geometry: Any  # GeoSeries, EPSG:4326 (invalid polygons repaired, see ``geo.repair``)
    path: Path
    repaired: tuple[Problem, ...] = ()  # the rows whose polygon was invalid and repaired
    names: np.ndarray | None = None  # (k,) str, "" when blank: the file's ``name`` column, if it has one


@dataclass(frozen=True)
class UnitShapes:
    """The unit polygons the map draws (``units.geojson``) and their size, which sets how long the map
    takes to write (``optimize.budget.output_reserve``)."""

    geojson: str
    polygons: int  # features written
    vertices: int  # coordinates written, after the display simplification


def read_areas(path: Path) -> Areas:
    """Areas file (GeoJSON/GeoPackage/Shapefile with a CRS): id column ``area_id`` (or ``id``), and an
    optional display name ``name`` (or ``area_name``), shown for the areas the map draws on their own."""
    from territory_planner.geo.repair import repair_polygons
    from territory_planner.io.readers import read_table

    raw = read_table(Path(path), "areas")
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
    kind = raw.geometry.reset_index(drop=True).geom_type
    # a point or a line where an area belongs (QA32 F-ab: the account in it was told to move inside)
    problems += [
        Problem(
            str(path),
            int(i) + 1,
            "geometry",
            f"an area is a polygon, not a {kind.iloc[i]}",
            str(kind.iloc[i]),
        )
        for i in np.flatnonzero((kind.notna() & ~kind.isin(["Polygon", "MultiPolygon"])).to_numpy())
    ]
    if problems:
        raise InputError(problems)
    fixed = repair_polygons(raw.geometry.reset_index(drop=True), str(path))
    name_col = cols.get("name") or cols.get("area_name")
    names = None
    if name_col is not None:
        names = raw.frame[name_col].fillna("").astype(str).str.strip().to_numpy()
    return Areas(ids, fixed.geometry, Path(path), fixed.repaired, names)


def _id_keys(ids: np.ndarray) -> np.ndarray:
    """Sort keys of area ids: numeric ids by value (9 before 10), then the others as text."""
    text = np.asarray(ids, dtype=str)
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
    if np.isfinite(numbers).all():
        return numbers
    return text


def join_points(areas: Areas, lat: np.ndarray, lon: np.ndarray, accounts_file: str) -> np.ndarray:
    """Area index per point (smallest area id among those touching it); every outside point reported."""
    import shapely
    from shapely.strtree import STRtree

    pts = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    geoms = np.asarray(list(areas.geometry), dtype=object)
    tree = STRtree(geoms)
    pt_idx, area_idx = tree.query(pts, predicate="intersects")
    # rank of each area by id, numbers as numbers (QA54 F8: area 10 before area 9, as text)
    rank = np.argsort(np.argsort(_id_keys(areas.ids), kind="stable"), kind="stable")
    out = np.full(len(pts), -1, dtype=np.int64)
    order = np.lexsort((rank[area_idx], pt_idx))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pt_idx[order][1:] != pt_idx[order][:-1]
    out[pt_idx[order][first]] = area_idx[order][first]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        labels = _account_labels(accounts_file, missing)
        raise InputError(
            [
                Problem(
                    accounts_file,
                    int(i) + 1,
                    "lat/lon",
                    _outside_message(areas, tree, float(lat[i]), float(lon[i]), labels.get(int(i))),
                    f"{lat[i]}, {lon[i]}",
                )
                for i in missing
            ]
        )
    return out


def overlap_notes(
    areas: Areas, lat: np.ndarray, lon: np.ndarray, area_of: np.ndarray, account_ids: np.ndarray
) -> list[str]:
    """A note per pair of areas that overlap where accounts lie: an account strictly inside two areas
    (not on a shared border) was joined to the one with the smaller id (``join_points``) without a word,
    and which area it belongs to is the file's mistake to fix (a county drawn twice, ZIP polygons drawn
    over each other). The overlap is measured as a share of the smaller area, in degrees (a ratio, so the
    projection hardly matters at an area's scale)."""
    import shapely
    from shapely.strtree import STRtree

    from territory_planner.io.labels import first_few

    geoms = np.asarray(list(areas.geometry), dtype=object)
    pts = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    # "within": the point lies in the area's interior; a point on a shared border is within neither
    pt_idx, area_idx = STRtree(geoms).query(pts, predicate="within")
    counts = np.bincount(pt_idx, minlength=len(pts))
    pairs: dict[tuple[int, int], list[str]] = {}
    for i, k in zip(pt_idx.tolist(), area_idx.tolist(), strict=True):
        joined = int(area_of[i])
        if counts[i] >= 2 and k != joined:
            pairs.setdefault((joined, int(k)), []).append(str(account_ids[i]))
    name = areas.path.name
    hubs, single, more = grouped_pairs(list(pairs))
    notes = []
    for hub, others in hubs:
        inside = [m for (a, b), ms in pairs.items() if hub in (a, b) for m in ms]
        named = [f"{_area(areas, k)} (row {k + 1})" for k in others]
        notes.append(
            f"{name}: area {_area(areas, hub)} (row {hub + 1}) overlaps {len(others)} areas where accounts "
            f"lie ({first_few(named, 3)}); {len(inside):,} account(s) inside two areas "
            f"({first_few(inside, 3)}) joined to the smaller id: check the polygons"
        )
    for a, b in single:
        members = pairs[a, b]
        notes.append(
            f"{name}: areas {_area(areas, a)} (row {a + 1}) and {_area(areas, b)} (row {b + 1}) overlap "
            f"({overlap_share(geoms[a], geoms[b]):.1%} of the smaller one); {len(members)} account(s) inside "
            f"both ({first_few(members, 3)}) joined to {_area(areas, a)}, the smaller id: check the polygons"
        )
    if more:
        notes.append(f"{name}: {more} more pairs of areas overlap where accounts lie: check the polygons")
    return notes


OVERLAPS_SHOWN = 10  # pairs of overlapping polygons named one by one; the rest counted
HUB_PAIRS = 3  # a polygon in this many overlapping pairs is named once, with the others it overlaps


def grouped_pairs(
    pairs: list[tuple[int, int]],
) -> tuple[list[tuple[int, list[int]]], list[tuple[int, int]], int]:
    """Overlapping pairs as a note says them (QA95 F2: each state drawn over its counties gave a line per
    county, 3,230 in all): (each polygon in ``HUB_PAIRS`` pairs or more, with the others it overlaps; the
    other pairs, ``OVERLAPS_SHOWN`` at most; how many of those were left out)."""
    from collections import Counter

    count = Counter(k for pair in pairs for k in pair)
    hubs = sorted((k for k, c in count.items() if c >= HUB_PAIRS), key=lambda k: (-count[k], k))
    taken = set(hubs)
    grouped = [(h, sorted({b if a == h else a for a, b in pairs if h in (a, b)})) for h in hubs]
    rest = sorted(pair for pair in pairs if not taken.intersection(pair))
    return grouped, rest[:OVERLAPS_SHOWN], max(0, len(rest) - OVERLAPS_SHOWN)


def overlap_share(a: Any, b: Any) -> float:
    """The area two polygons share, as a share of the smaller one's."""
    import shapely

    smaller = min(float(shapely.area(a)), float(shapely.area(b)))
    return float(shapely.area(shapely.intersection(a, b))) / smaller if smaller > 0 else 0.0


NEAR_EDGE_KM = 25.0  # closer than this to an area, a point outside every area is on a coast or a border


def _outside_message(areas: Areas, tree: Any, lat: float, lon: float, label: str | None) -> str:
    """``account MX3991347 (Puerto Peñasco) lies 0.5 km outside every area; the nearest area is Sonora: a
    coastal or border point on a coarse polygon?``; far from every area, a swapped lat/lon pair that lands
    in an area is pointed out (QA8: two Mexican coastal cities outside the coarse
    state polygons were reported as "the account lies outside every area", with nothing to look for)."""
    import shapely

    who = label or "the account"
    if not (np.isfinite(lat) and np.isfinite(lon)) or not len(areas.ids):
        return f"{who} lies outside every area"
    nearest, km = nearest_area(tree, lat, lon)
    told = f"{who} lies {_km(km)} outside every area; the nearest area is {_area(areas, nearest)}"
    holed = _in_a_hole(tree, lat, lon)
    if holed is not None:  # QA88 F6: "a coastal or border point?" of a point in a lake of an area
        hole = f"{who} lies in a hole of area {_area(areas, holed)}, inside no area"
        return f"{hole}: a lake, or an area cut out of it? (move the account, or fill the hole)"
    if km <= NEAR_EDGE_KM:
        return f"{told}: a coastal or border point on a coarse polygon? (move it inside, or use finer areas)"
    if abs(lon) <= 90:  # lat and lon swapped: the pair read the other way round lands in an area
        inside = tree.query(shapely.points(lat, lon), predicate="intersects")
        if len(inside):
            return f"{told}; lat and lon swapped? ({lon}, {lat}) lies in {_area(areas, int(min(inside)))}"
    return f"{told}: the areas file does not cover it"


def _area(areas: Areas, i: int) -> str:
    """An area as a message names it: its name and id when the file has names (QA92 F5: "the nearest area
    is br-pa" of a file whose name column says Pará), else its id."""
    name = str(areas.names[i]).strip() if areas.names is not None else ""
    ident = str(areas.ids[i])
    return f"{name} ({ident})" if name and name != ident else ident


def _in_a_hole(tree: Any, lat: float, lon: float) -> int | None:
    """The area (index) whose outline holds the point while a hole of it does not, if any."""
    import shapely

    point = shapely.points(lon, lat)
    geoms = tree.geometries
    for k in sorted(tree.query(point).tolist()):  # the areas whose box holds the point
        for part in shapely.get_parts(geoms[k]):
            if shapely.get_num_interior_rings(part) and shapely.contains(
                shapely.polygons(shapely.get_exterior_ring(part)), point
            ):
                return int(k)
    return None


def _km(km: float) -> str:
    return "less than 0.1 km" if km < 0.05 else f"{km:,.1f} km"


def nearest_area(tree: Any, lat: float, lon: float) -> tuple[int, float]:
    """Index of the area nearest the point (``tree``: a shapely STRtree of the areas) and the great-circle
    distance (km) to its nearest edge point.
    Distances are measured in a local equirectangular frame around the point (degrees of longitude scaled
    by cos(lat)), so a nearer area to the east or west is not passed over for one to the north; the
    candidates are the areas within the nearest one's unscaled distance divided by cos(lat)."""
    import shapely

    from territory_planner.model.geo import haversine_km

    geoms = tree.geometries
    point = shapely.points(lon, lat)
    first = int(tree.query_nearest(point)[0])
    scale = max(float(np.cos(np.radians(lat))), 1e-3)
    reach = float(shapely.distance(point, geoms[first])) / scale
    candidates = tree.query(point, predicate="dwithin", distance=reach * (1 + 1e-9) + 1e-12)
    best, best_km = first, np.inf
    for k in sorted(set(candidates.tolist()) | {first}):
        local = shapely.transform(
            geoms[k], lambda xy: np.column_stack(((xy[:, 0] - lon) * scale, xy[:, 1] - lat))
        )
        x, y = shapely.get_coordinates(shapely.shortest_line(shapely.points(0.0, 0.0), local))[1]
        to = (np.array([lat + y]), np.array([lon + x / scale]))  # the area's nearest point, in degrees
        km = float(haversine_km(np.array([lat]), np.array([lon]), *to)[0, 0])
        if km < best_km:
            best, best_km = k, km
    return best, best_km


def _account_labels(accounts_file: str, rows: np.ndarray) -> dict[int, str]:
    """``account <id> (<name>)`` (``io.labels.account_label``) for the given 0-based rows of the accounts
    file; {} when the file cannot be read again."""
    from territory_planner.io.labels import account_label
    from territory_planner.io.readers import read_table

    try:
        frame = read_table(Path(accounts_file), "accounts").frame
    except (InputError, OSError, ValueError):
        return {}
    if "account_id" not in frame.columns:
        return {}
    names = frame["name"] if "name" in frame.columns else None
    return {
        int(i): account_label(frame["account_id"].iloc[i], "" if names is None else names.iloc[i])
        for i in rows.tolist()
        if i < len(frame)
    }


def named_flags(accounts: pd.DataFrame, raw: pd.DataFrame | None) -> np.ndarray:
    named = accounts["locked_rep"].astype(str).str.strip().ne("").to_numpy(dtype=bool)
    if raw is not None:
        cols = {c.lower(): c for c in raw.columns}
        if "named" in cols:  # a new array: pandas 3 hands out read-only ones, `|=` failed on them (QA6)
            flags = raw[cols["named"]].astype(str).str.strip().str.lower().isin(TRUE).to_numpy(dtype=bool)
            named = named | flags
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


DISPLAY_SHARE = 1e-4  # of the map's extent: half the map's own simplification (render/payload.py)
MIN_DISPLAY_TOLERANCE = 1e-4  # degrees, about 10 m


def display_tolerance(geoms: np.ndarray) -> float:
    """How far (degrees) units.geojson may move a vertex: 1e-4 of the units' extent (a US map of counties:
    about 600 m, half of what the map draws), never below 10 m (a city's ZIPs keep their detail)."""
    import shapely

    if not len(geoms):
        return MIN_DISPLAY_TOLERANCE
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return float(max(DISPLAY_SHARE * max(xmax - xmin, ymax - ymin), MIN_DISPLAY_TOLERANCE))


def simplify_for_display(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify the units; a coverage (units that meet along shared borders, as counties do) is simplified
    as one, so neighbours keep one border. Simplified one by one, the two sides of a border came out
    different (QA6, NC counties: a gap between Edgecombe and Pitt, and the map's dissolved territory
    outline showed a spike into the territory there)."""
    return simplify_coverage(geoms, tolerance)[0]


def simplify_coverage(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, bool]:
    """The units simplified as one coverage when they are one, or can be snapped into one: units that
    almost tile (slivers, overlaps, a border digitised twice, two states' maps joined with gaps narrower
    than ``tolerance`` between them) are cleaned into a valid coverage first (QA110 F3: Missouri's and
    Kansas's counties, an invalid coverage, were simplified one by one and 98 pairs of neighbours no longer
    met, so the map drew outlines through territories). A unit the cleaning leaves empty or shrinks below
    half its area (an enclave drawn on top of its neighbour: Falls Church inside Fairfax in us-atlas) is
    kept as it was, simplified on its own. Returns the units and whether neighbours share their borders
    exactly; otherwise each unit is simplified on its own and small gaps may open between neighbours."""
    import shapely

    if len(geoms) and hasattr(shapely, "coverage_simplify"):
        try:
            arr, alone = geoms, np.zeros(len(geoms), dtype=bool)
            if not bool(shapely.coverage_is_valid(arr, gap_width=tolerance)) and hasattr(
                shapely, "coverage_clean"
            ):
                cleaned = np.asarray(shapely.coverage_clean(arr, gap_width=tolerance), dtype=object)
                # a unit the cleaning empties or shrinks below half its area (most of it under a
                # neighbour's polygon: QA111 F3, 91% overlapped, left a sliver) is kept as drawn
                alone = np.array(
                    [
                        g is None or g.is_empty or g.area < 0.5 * o.area
                        for g, o in zip(cleaned, geoms, strict=True)
                    ],
                    dtype=bool,
                )
                arr = np.where(alone, geoms, cleaned)
            if bool(shapely.coverage_is_valid(arr[~alone])):
                out = np.empty(len(arr), dtype=object)
                out[~alone] = shapely.coverage_simplify(arr[~alone], tolerance)
                out[alone] = shapely.simplify(arr[alone], tolerance, preserve_topology=True)
                return out, not alone.any()
        except (shapely.errors.GEOSException, ValueError, TypeError):  # not polygons only, or no coverage
            pass
    return np.asarray(shapely.simplify(geoms, tolerance, preserve_topology=True), dtype=object), False


def units_geojson(
    account_ids: np.ndarray,
    acc_unit: np.ndarray,
    unit_geometry: dict[int, Any],
    unit_area: dict[int, str],
    named_areas: dict[str, tuple[Any, list[str]]] | None = None,
    area_names: dict[str, str] | None = None,
) -> UnitShapes:
    """One feature per unit with a polygon: the unit's first account_id, its area id, WGS84, simplified
    once for display (``display_tolerance``) and serialised once. ``named_areas`` (area id -> polygon and
    the named accounts in it) are the areas that hold named accounts only: no unit, so no account_id, but
    a feature with ``named_accounts`` that the map draws in the colour of the rep holding most of their
    potential (QA6: Guilford, Durham and New Hanover were white holes in the NC cities' map), with the
    area's ``name`` when ``area_names`` (area id -> name) has one, for the map's tooltip."""
    import shapely

    first: dict[int, str] = {}
    for a, u in zip(account_ids.tolist(), acc_unit.tolist(), strict=True):
        first.setdefault(int(u), str(a))
    units = [u for u, geom in unit_geometry.items() if geom is not None and u in first]
    named = [(k, v) for k, v in (named_areas or {}).items() if v[0] is not None and v[1]]
    geoms = np.empty(len(units) + len(named), dtype=object)
    geoms[:] = [unit_geometry[u] for u in units] + [geom for _, (geom, _) in named]
    simple = simplify_for_display(geoms, display_tolerance(geoms))  # one coverage: borders stay shared
    props = [json.dumps({"account_id": first[u], "area_id": unit_area.get(u, "")}) for u in units]
    names = area_names or {}
    props += [
        json.dumps({"area_id": k, **({"name": names[k]} if names.get(k) else {}), "named_accounts": ids})
        for k, (_, ids) in named
    ]
    feats = [
        f'{{"type": "Feature", "properties": {p}, "geometry": {g}}}'
        for p, g in zip(props, shapely.to_geojson(simple).tolist(), strict=True)
    ]
    vertices = int(shapely.get_num_coordinates(simple).sum()) if len(geoms) else 0
    return UnitShapes(
        '{"type": "FeatureCollection", "features": [' + ", ".join(feats) + "]}", len(geoms), vertices
    )
