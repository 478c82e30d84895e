"""Turn a validated plan folder into the compact JSON the map's script draws.

Only what the tooltips and the before/after switch need is embedded, column by column (arrays, not one
object per account), with coordinates rounded to 5 decimals (about 1 m) and area units simplified.
Reps are referred to by index; rep indices >= ``n_reps`` are former reps that appear only as a
``current_rep`` (they are drawn grey, in the "no current rep" layer, in the before view).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from territory_planner.render.levels import grouped_colours, level_payload
from territory_planner.render.palette import NO_REP_COLOUR, PALETTE, greedy_colouring, rep_adjacency
from territory_planner.render.plan_folder import PlanFolder
from territory_planner.render.wrap import Shift, antimeridian_shift, unwrap

COORD_DECIMALS = 5
BIG_PLAN = 5_000  # accounts: above this, markers get smaller


@dataclass(frozen=True)
class MapPayload:
    data: dict[str, Any]  # JSON-able, embedded in the page
    rep_ids: list[str]  # the plan's reps, in territories.csv order
    rep_names: list[str]
    colours: list[str]  # one per plan rep
    has_other: bool  # some account has no current rep, or a current rep that left
    bounds: list[list[float]]  # [[south, west], [north, east]]
    places: (
        np.ndarray
    )  # (n, 4) west, south, east, north of every account, unit and home (boundaries.lines_near)
    no_current: int  # accounts with no current rep
    former: list[str]  # current reps no longer on the roster
    n_accounts: int
    n_moved: int
    view: list[list[float]] | None = None  # the opening view when it leaves a few far accounts out
    outside_view: int = 0  # the accounts it leaves out


OUTSIDE_SHARE = 0.02  # at most this share of the accounts may lie outside the opening view
VIEW_MIN_ACCOUNTS = 100  # below, every account is in the opening view


def opening_view(
    lat: np.ndarray, lon: np.ndarray, homes: np.ndarray | None = None
) -> tuple[list[list[float]] | None, int]:
    """The view a map opens on when a few accounts (at most 2%) lie far from the rest, and how many it
    leaves out; (None, 0) when the whole plan is the view. Far: in a group of accounts that lies more
    than ``FAR_SHARE`` of the plan's size (the diagonal of its 5th to 95th percentiles) from every other
    account (``_groups``), the smallest such groups first, and only when the rest fit in under half the
    whole plan's box (QA45: 33,791 ZIPs with Alaska, Hawaii, Guam and American Samoa left the 48 states a
    third of the map's width; the map's "Whole plan" button shows them). Groups, not a percentile box:
    3,407 US cities hold 52 in Alaska and Hawaii (1.5%), and the box of the 1st to 99th percentiles
    reached into Alaska, so the map opened on the whole plan (QA48 F6). ``homes`` (k, 2) lat, lon of
    the reps' homes: a group holding one stays in view, as do the homes (QA53 F6: Tamanrasset, a rep's
    home 1,500 km south of Algeria's other cities, was left out, and its territory with it)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if len(lat) < VIEW_MIN_ACCOUNTS:
        return None, 0
    if homes is not None and len(homes):
        homes = np.asarray(homes, dtype=float).reshape(-1, 2)
        homes = homes[np.isfinite(homes).all(axis=1)]
    else:
        homes = np.empty((0, 2))
    n = len(lat)
    label = _groups(np.concatenate([lat, homes[:, 0]]), np.concatenate([lon, homes[:, 1]]))
    sizes = np.bincount(label[:n], minlength=int(label.max()) + 1)
    anchored = np.unique(label[n:])  # the groups of the homes
    order = np.argsort(sizes, kind="stable")
    order = order[(order != int(np.argmax(sizes))) & ~np.isin(order, anchored)]  # always in view
    out = order[np.cumsum(sizes[order]) <= OUTSIDE_SHARE * n]
    kept = ~np.isin(label[:n], out)
    if len(homes):  # the homes are in the view's box
        lat, lon = np.concatenate([lat, homes[:, 0]]), np.concatenate([lon, homes[:, 1]])
        kept = np.concatenate([kept, np.ones(len(homes), dtype=bool)])
    box = [[float(lat[kept].min()), float(lon[kept].min())], [float(lat[kept].max()), float(lon[kept].max())]]
    inside = (lat >= box[0][0]) & (lat <= box[1][0]) & (lon >= box[0][1]) & (lon <= box[1][1])
    outside = int(n - inside[:n].sum())
    if outside == 0:
        return None, 0
    area = (box[1][0] - box[0][0]) * (box[1][1] - box[0][1])
    whole = (lat.max() - lat.min()) * (lon.max() - lon.min())
    return (box, outside) if area < 0.5 * whole else (None, 0)


FAR_SHARE = 0.1  # a group of accounts this share of the plan's size from the rest lies far from it


def _groups(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Per account, its group: accounts linked by steps shorter than ``FAR_SHARE`` of the diagonal of
    the box of their 5th to 95th percentiles (or twice the 95th percentile of the distance to the
    nearest account, when that is longer: a sparse plan stays one group), on a plane with longitudes
    scaled at the plan's middle latitude, over cells an eighth of that step wide."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    (s, n), (w, e) = np.quantile(lat, [0.05, 0.95]), np.quantile(lon, [0.05, 0.95])
    scale = max(math.cos(math.radians(float(np.median(lat)))), 0.1)
    xy = np.column_stack([lon * scale, lat])
    step = FAR_SHARE * math.hypot((e - w) * scale, n - s)
    cells, of = np.unique(np.floor(xy / max(step / 8, 1e-9)).astype(np.int64), axis=0, return_inverse=True)
    centres = (cells + 0.5) * max(step / 8, 1e-9)
    tree = cKDTree(centres)
    if len(centres) > 1:
        near, _ = tree.query(centres, k=2)
        step = max(step, 2.0 * float(np.quantile(near[:, 1], 0.95)))
    pairs = tree.query_pairs(step, output_type="ndarray")
    m = len(centres)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    out: np.ndarray = label[of.ravel()]
    return out


MEASURE_DECIMALS = 6


def _unit_current(a: pd.DataFrame, rows: list[int], cur_col: list[int]) -> list[int]:
    """Per unit drawn (its first account's row in ``rows``): the current rep (index, -1: none) holding
    most of the potential of its accounts (an area's or a family's: the same ``parent_id``). One pass over
    the accounts, not one per unit (tens of thousands of ZIP areas)."""
    cur = np.asarray(cur_col, dtype=np.int64)
    at = np.asarray(rows, dtype=np.int64)
    if "parent_id" not in a.columns or not len(at):
        return cur[at].tolist()
    parent = a["parent_id"].fillna("").astype(str).to_numpy()
    pot = np.nan_to_num(pd.to_numeric(a["potential"], errors="coerce").to_numpy(float))
    _, group = np.unique(parent, return_inverse=True)
    group = group.ravel()
    has = cur >= 0
    held = np.zeros((int(group.max()) + 1, int(cur.max(initial=-1)) + 1))
    np.add.at(held, (group[has], cur[has]), np.maximum(pot[has], 0.0) + 1e-12)
    best = np.where(held.sum(axis=1) > 0, held.argmax(axis=1) if held.shape[1] else -1, -1)
    out: list[int] = np.where(parent[at] == "", cur[at], best[group[at]]).tolist()
    return out


def _num(values: Iterable[float], decimals: int) -> list[float | int | None]:
    out: list[float | int | None] = []
    for v in values:
        f = float(v)
        if not math.isfinite(f):
            out.append(None)
            continue
        r = round(f, decimals)
        out.append(int(r) if r.is_integer() and abs(r) < 2**53 else r)
    return out


def _round_geom(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.round(c, COORD_DECIMALS))


def simplification_tolerance(geoms: np.ndarray) -> float:
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    return float(max(xmax - xmin, ymax - ymin, 1e-6) * 2e-4)


def simplify_units(geoms: list[shapely.Geometry]) -> tuple[list[shapely.Geometry], bool]:
    """Simplify area units so a ZIP-level plan stays light (``areas.simplify_coverage``: as one coverage,
    cleaned into one first when the units almost tile, so the map's outlines and its editor see
    neighbours share their borders).

    Returns the simplified units and whether neighbours still share their borders exactly.
    """
    from territory_planner.geo.areas import simplify_coverage

    if not geoms:
        return [], True
    arr = np.array(shapely.make_valid(np.array(geoms, dtype=object)), dtype=object)
    simplified, shared = simplify_coverage(arr, simplification_tolerance(arr))
    return [_round_geom(g) for g in simplified], shared


def _geom_json(geom: shapely.Geometry) -> list[Any] | None:
    """[depth, coordinates] with depth 1 for a Polygon and 2 for a MultiPolygon; None when empty. The
    polygons of a collection are found at any depth (QA30 F6: Russia, a MultiPolygon inside the collection
    its simplification made, was left out of the map)."""
    parts = [geom]
    while any(hasattr(g, "geoms") for g in parts):
        parts = [q for g in parts for q in (g.geoms if hasattr(g, "geoms") else [g])]
    polys = [g for g in parts if g.geom_type == "Polygon" and not g.is_empty]
    if not polys:
        return None
    if len(polys) == 1:
        return [1, mapping(polys[0])["coordinates"]]
    return [2, [mapping(p)["coordinates"] for p in polys]]


def _drop_specks(
    geom: shapely.Geometry, grid: float, occupied: shapely.STRtree | None = None
) -> shapely.Geometry:
    """Remove holes and parts smaller than a few grid cells (left over where units do not quite meet),
    and, with ``occupied`` (a tree of one interior point per unit), every hole holding no unit: a gap
    between units that were digitised apart (census tracts often are), not another territory's enclave.
    Such gaps would otherwise be drawn as stray outline strokes inside the territory."""
    min_area = (50 * grid) ** 2
    polys = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type != "Polygon" or part.area < min_area:
            continue
        holes = [
            ring
            for ring in part.interiors
            if (hole := shapely.Polygon(ring)).area >= min_area
            and (occupied is None or len(occupied.query(hole, predicate="contains")) > 0)
        ]
        polys.append(shapely.Polygon(part.exterior, holes))
    return shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())


def _union(members: list[shapely.Geometry], grid: float) -> shapely.Geometry:
    """The units' union. On a fine grid the shared borders of neighbouring units cancel exactly; where
    snapping to it breaks GEOS ("unable to assign free hole to a shell", seen on Florida's counties), the
    units are made valid and unioned without the grid, and as a last resort each is buffered by 0."""
    try:
        return shapely.union_all(members, grid_size=grid)
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.union_all(shapely.make_valid(np.asarray(members, dtype=object)))
    except shapely.errors.GEOSException:
        return shapely.union_all(shapely.buffer(np.asarray(members, dtype=object), 0))


def _outlines(
    geoms: list[shapely.Geometry], labels: list[int], tol: float, occupied: shapely.STRtree | None = None
) -> list[list[Any]]:
    """Dissolved territory outlines: [[rep_index, depth, coordinates], ...]; ``occupied`` as in
    ``_drop_specks`` (one point per unit of the map, so a hole around a unit left out here stays)."""
    out: list[list[Any]] = []
    grid = 10.0**-COORD_DECIMALS
    for rep in sorted(set(labels)):
        members = [g for g, lab in zip(geoms, labels, strict=True) if lab == rep]
        merged = _union(members, grid)
        cleaned = _drop_specks(merged, grid, occupied)
        merged = _round_geom(shapely.simplify(cleaned, tol, preserve_topology=True))
        encoded = _geom_json(merged)
        if encoded is not None:
            out.append([rep, *encoded])
    return out


@dataclass(frozen=True)
class _Layout:
    """Each account's rep index and longitude (shifted across the antimeridian when the plan spans it),
    the reps' home longitudes, each rep's anchor (its home, else the centre of its accounts) and the
    plan's levels (render.levels)."""

    rep_col: list[int]
    lon: list[float]
    home_lon: list[float]
    shift: Shift | None
    levels: dict[str, Any] | None
    anchor: np.ndarray  # (reps, 2) lat, lon


def _anchors(
    t: pd.DataFrame, home_lon: list[float], lat: Any, lon: list[float], rep_col: list[int]
) -> np.ndarray:
    """Each rep's place for colouring: its home, else (no home given or chosen) the mean of its accounts."""
    out = np.column_stack([np.asarray(t["home_lat"], dtype=float), np.asarray(home_lon, dtype=float)])
    lat_a, lon_a, lab = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float), np.asarray(rep_col)
    for j in np.flatnonzero(~np.isfinite(out).all(axis=1)):
        mine = (lab == j) & np.isfinite(lat_a) & np.isfinite(lon_a)
        if mine.any():
            out[j] = [lat_a[mine].mean(), lon_a[mine].mean()]
    return out


def _layout(plan: PlanFolder) -> _Layout:
    a, t = plan.assignments, plan.territories
    rep_index = {r: i for i, r in enumerate(t["rep_id"])}
    rep_col = [rep_index[r] for r in a["rep_id"]]
    shift = antimeridian_shift([*a["lon"], *t["home_lon"]])  # one piece across the antimeridian
    lon = shift.lon(a["lon"]) if shift else list(a["lon"])
    home_lon = shift.lon(t["home_lon"]) if shift else list(t["home_lon"])
    anchor = _anchors(t, home_lon, a["lat"], lon, rep_col)
    # districts / regions (render.levels), coloured by where their reps are, not by the plan's accounts
    levels = level_payload(t, anchor[:, 0], anchor[:, 1], list(range(len(t))))
    return _Layout(rep_col, lon, home_lon, shift, levels, anchor)


def _rep_colours(plan: PlanFolder, layout: _Layout, given: Mapping[str, str] | None) -> list[str]:
    """One colour per plan rep: no two reps look alike (render.rep_colours) and reps next to each other
    differ most; point plans draw each rep in its district's family of colours.

    The colours depend on the roster and where the reps are (homes, or the centre of their accounts for
    a rep without one), never on which accounts the plan gives them: two plans of one roster draw every
    rep alike, in their own map.html and in compare.html (QA3a: the territories swapped colours between
    the two pages). ``given`` (rep id -> colour, from another plan's map) wins for the reps it names
    (compare draws every plan in the baseline's colours, whatever its roster); the other reps get
    colours apart from the given ones."""
    rep_ids = list(plan.territories["rep_id"])
    n = len(rep_ids)
    neighbours = rep_adjacency(n, layout.anchor[:, 0], layout.anchor[:, 1], list(range(n)))
    colours = [PALETTE[c] for c in greedy_colouring(neighbours)]
    fixed = {k: given[r] for k, r in enumerate(rep_ids) if given and r in given}
    # point plans: rep colours grouped by district (area plans get district outlines instead)
    levels = None if plan.units else layout.levels
    return grouped_colours(levels, colours, neighbours, fixed)


def plan_colours(plan: PlanFolder) -> dict[str, str]:
    """The colour of each rep on the plan's map (for drawing other plans' maps in the same colours)."""
    colours = _rep_colours(plan, _layout(plan), None)
    return dict(zip(plan.territories["rep_id"], colours, strict=True))


def build_payload(plan: PlanFolder, colours: Mapping[str, str] | None = None) -> MapPayload:
    """The map's data; ``colours`` (rep id -> colour) fixes the colours of the reps it names."""
    a = plan.assignments
    t = plan.territories
    rep_ids = list(t["rep_id"])
    rep_index = {r: i for i, r in enumerate(rep_ids)}
    former = sorted({c for c in a["current_rep"] if c and c not in rep_index})
    all_reps = rep_ids + former
    index_all = {r: i for i, r in enumerate(all_reps)}
    cur_col = [index_all.get(c, -1) if c else -1 for c in a["current_rep"]]

    layout = _layout(plan)
    rep_col, lon, shift, levels = layout.rep_col, layout.lon, layout.shift, layout.levels
    colours_all = _rep_colours(plan, layout, colours) + [NO_REP_COLOUR] * len(former)
    has_other = any(c < 0 or c >= len(rep_ids) for c in cur_col)

    reasons = sorted(set(a["reason"]) - {""})
    reason_index = {r: i + 1 for i, r in enumerate(reasons)}
    names = [n if n and n != i else "" for n, i in zip(a["name"], a["account_id"], strict=True)]
    moved = [bool(m) for m in a["moved"]]

    acc: dict[str, Any] = {
        "id": list(a["account_id"]),
        "name": names,
        "lat": _num(a["lat"], COORD_DECIMALS),
        "lon": _num(lon, COORD_DECIMALS),
        # to the micro-unit: Edit mode sums them into band checks, and at 2 decimals a plan 0.0024 points
        # inside its band read as out of it before any edit (QA20 F8: 629.31 vs the plan's 629.285)
        "pot": _num(a["potential"], MEASURE_DECIMALS),
        "wl": _num(a["workload"], MEASURE_DECIMALS),
        "dist": _num(a["distance_km"], 1),
        "rep": rep_col,
        "cur": cur_col,
        "moved": [1 if m else 0 for m in moved],
        "why": [reason_index.get(r, 0) for r in a["reason"]],
    }
    if (a["segment"] != "").any():
        acc["seg"] = list(a["segment"])

    homes = [
        None if not (math.isfinite(la) and math.isfinite(lo)) else _num([la, lo], COORD_DECIMALS)
        for la, lo in zip(t["home_lat"], layout.home_lon, strict=True)
    ]
    reps: dict[str, Any] = {
        "id": all_reps,
        "name": list(t["name"]) + [""] * len(former),
        "color": colours_all,
        "home": homes + [None] * len(former),
        "chosen": [1 if c else 0 for c in t["home_chosen"]] + [0] * len(former),
        "n": len(rep_ids),
    }

    units: dict[str, Any] | None = None
    lats = [*a["lat"], *(h[0] for h in homes if h)]
    lons: list[Any] = [*lon, *(h[1] for h in homes if h)]
    pts = np.column_stack([np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)])
    places = np.hstack([pts, pts]) if len(pts) else np.empty((0, 4))
    if plan.units or plan.named_areas:
        units_of = plan.units or {}
        rows = [i for i, acc_id in enumerate(a["account_id"]) if acc_id in units_of]
        originals = [shapely.make_valid(shape(units_of[a["account_id"].iloc[i]])) for i in rows]
        # areas holding named accounts only, simplified with the units so that their borders stay shared
        row_of = {acc_id: i for i, acc_id in enumerate(a["account_id"])}
        named_rows = [[row_of[acc] for acc in na.accounts] for na in plan.named_areas]
        named_geoms = [shapely.make_valid(shape(na.geometry)) for na in plan.named_areas]
        originals = [unwrap(g) for g in originals]  # a unit the antimeridian cuts, in one piece
        named_geoms = [unwrap(g) for g in named_geoms]
        if shift:
            originals = [shift.geometry(g) for g in originals]
            named_geoms = [shift.geometry(g) for g in named_geoms]
        simplified, shared = simplify_units(originals + named_geoms)
        geoms, named_simple = simplified[: len(originals)], simplified[len(originals) :]
        named_areas = [
            [shape_json, members, na.area_id, na.name]
            for na, members, g in zip(plan.named_areas, named_rows, named_simple, strict=True)
            if (shape_json := _geom_json(g)) is not None
        ]
        if named_simple:
            named_array = np.array(named_simple, dtype=object)
            places = np.vstack([places, shapely.bounds(named_array)])
            xmin, ymin, xmax, ymax = shapely.total_bounds(named_array)
            lats += [float(ymin), float(ymax)]
            lons += [float(xmin), float(xmax)]
        encoded = [_geom_json(g) for g in geoms]
        keep = [k for k, e in enumerate(encoded) if e is not None]
        # Outlines from the simplified units when their borders still match (fast), else from the
        # original units (exact, slower).
        source = geoms if shared else originals
        tol = simplification_tolerance(np.array(originals, dtype=object)) if originals else 0.0
        if keep:
            kept = np.array([geoms[k] for k in keep], dtype=object)
            places = np.vstack([places, shapely.bounds(kept)])
            xmin, ymin, xmax, ymax = shapely.total_bounds(kept)
            lats += [float(ymin), float(ymax)]
            lons += [float(xmin), float(xmax)]
        # an area's current rep as the Current view draws it: the one holding most of its accounts'
        # potential today (QA54 F4: Wake was grey, "no current rep", for its first account alone, while
        # 5 of its 6 accounts were R1's)
        unit_cur = _unit_current(a, rows, cur_col)
        has_cur = [k for k in keep if unit_cur[k] >= 0]
        inside = shapely.point_on_surface(np.array([source[k] for k in keep], dtype=object))
        occupied = shapely.STRtree(inside)  # one point per unit: a hole holding none is a gap
        units = {
            "row": [rows[k] for k in keep],
            "geom": [encoded[k] for k in keep],
            "after": _outlines([source[k] for k in keep], [rep_col[rows[k]] for k in keep], tol, occupied),
            "before": _outlines([source[k] for k in has_cur], [unit_cur[k] for k in has_cur], tol, occupied),
            "cur": [unit_cur[k] for k in keep],
            "shared": shared,  # neighbours share their simplified edges exactly (the editor relies on it)
            # [[depth, coordinates], [row of each named account], area id, name ("" without one)]: drawn
            # hatched in the colour of the rep holding most of their potential (QA6: they were white holes)
            "named": named_areas,
        }
        if levels and "district" in levels:
            of = levels["district"]["of"]
            with_d = [k for k in keep if of[rep_col[rows[k]]] >= 0]
            units["district"] = _outlines(
                [source[k] for k in with_d], [of[rep_col[rows[k]]] for k in with_d], tol, occupied
            )

    pot = pd.Series(a["potential"], dtype=float)
    bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    home_points = np.column_stack(
        [np.asarray(t["home_lat"], dtype=float), np.asarray(layout.home_lon, dtype=float)]
    )
    view, outside = opening_view(np.asarray(a["lat"], dtype=float), np.asarray(lon, dtype=float), home_points)
    data = {
        "v": 1,
        "reps": reps,
        "acc": acc,
        "reasons": ["", *reasons],
        "units": units,
        "radius": [3, 11 if len(a) <= BIG_PLAN else 7],
        "maxPot": float(pot.max()) if len(pot) and math.isfinite(float(pot.max())) else 0.0,
        "levels": levels,
    }
    return MapPayload(
        data=data,
        rep_ids=rep_ids,
        rep_names=list(t["name"]),
        colours=colours_all[: len(rep_ids)],
        has_other=has_other,
        bounds=bounds,
        view=view,
        outside_view=outside,
        places=places,
        no_current=sum(1 for c in cur_col if c < 0),
        former=former,
        n_accounts=len(a),
        n_moved=sum(moved),
    )


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
