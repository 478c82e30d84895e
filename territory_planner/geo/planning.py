"""The geo adapter between loaded inputs and the contiguity solver (GeoDataFrames stop here).

``unit_adjacency`` turns an edge-list file or the accounts' polygons into an ``Adjacency`` over units
(accounts merged by family); ``home_units`` and ``home_units_owned`` find the unit each territory must
hold. The checks before any solve are in ``geo.home_conflicts``; the contiguity stage that runs from the
pipeline's plan (``make_contiguous``) in ``geo.contiguity_stage``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import areas as areamod
from territory_planner.model.geo import haversine_km
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize.centres import Metric
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import listed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AreaUnits:
    areas: areamod.Areas
    area_of: np.ndarray  # (n_acc,) area index of each account
    named: np.ndarray  # (n_acc,) bool: kept as a unit of its own
    notes: tuple[str, ...] = ()  # warnings of the join: areas that overlap where accounts lie


def join_areas(
    accounts: pd.DataFrame, accounts_path: Path, areas_path: Path
) -> tuple[pd.DataFrame, AreaUnits]:
    """Accounts with non-named ones put in their area's family, and the join (see ``geo.areas``)."""
    from territory_planner.errors import InputError
    from territory_planner.io.excel import relocate
    from territory_planner.io.readers import read_table

    areas = areamod.read_areas(areas_path)
    raw = read_table(accounts_path, "accounts")
    try:
        area_of = areamod.join_points(
            areas, accounts["lat"].to_numpy(float), accounts["lon"].to_numpy(float), str(accounts_path)
        )
    except InputError as exc:
        raise InputError(relocate(exc.problems, [raw.excel])) from None
    named = areamod.named_flags(accounts, raw.frame)
    notes = areamod.overlap_notes(
        areas,
        accounts["lat"].to_numpy(float),
        accounts["lon"].to_numpy(float),
        area_of,
        accounts["account_id"].astype(str).to_numpy(),
    )
    joined = AreaUnits(areas, area_of, named, tuple(notes))
    return areamod.assign_families(accounts, area_of, areas, named), joined


def families_apart(accounts: pd.DataFrame, joined: AreaUnits) -> list[str]:
    """A note per area holding an account of a family beside accounts of the area's unit: the family
    member stays with its family (one unit wherever its members lie), so the area may go to two reps and
    a territory holding the family counts as one piece through it (QA54 F1: Mecklenburg went to R2 but
    A0101, of a family, to R5, without a word)."""
    from territory_planner.io.labels import AREA_PREFIX, first_few

    parent = accounts["parent_id"].fillna("").astype(str).to_numpy()
    family = (parent != "") & ~np.char.startswith(parent.astype(str), AREA_PREFIX) & ~joined.named
    if not family.any():
        return []
    merged = np.char.startswith(parent.astype(str), AREA_PREFIX)
    areas_with_unit = set(joined.area_of[merged].tolist())
    out: dict[int, list[str]] = {}
    ids = accounts["account_id"].astype(str).to_numpy()
    for i in np.flatnonzero(family).tolist():
        k = int(joined.area_of[i])
        if k in areas_with_unit:
            out.setdefault(k, []).append(f"{ids[i]} of family {parent[i]}")
    names = joined.areas.names
    notes = []
    for k, members in sorted(out.items()):
        area = str(joined.areas.ids[k]) + (f" ({names[k]})" if names is not None and names[k] else "")
        notes.append(
            f"--areas: area {area} holds {first_few(members, 3)}, which goes with its family, not with the "
            "area's other accounts: the area may be split between two reps, and a territory holding the "
            "family counts as one piece through it"
        )
    return notes


def units_geojson(problem: TerritoryProblem, geometry: Any, joined: AreaUnits | None) -> areamod.UnitShapes:
    """The unit polygons for the map: the area of every area unit, or each polygon account's own polygon
    (a family of polygon accounts is one unit for the model but every member is drawn: QA6, Orange and
    Chatham counties were blank beside their family's first member, Alamance), and each area holding named
    accounts only, with their ids and the area's name (``areas.units_geojson``)."""
    geoms: dict[int, Any] = {}
    area_id: dict[int, str] = {}
    named_only: dict[str, tuple[Any, list[str]]] = {}  # areas holding named accounts only (no unit)
    names: dict[str, str] = {}  # their names, when the areas file has a name column
    acc_unit = problem.acc_unit
    if joined is not None:
        polys = list(joined.areas.geometry)
        for acc in np.flatnonzero(~joined.named).tolist():
            u = int(problem.acc_unit[acc])
            if u not in geoms:
                geoms[u] = polys[int(joined.area_of[acc])]
                area_id[u] = str(joined.areas.ids[joined.area_of[acc]])
        drawn = set(area_id.values())
        for acc in np.flatnonzero(joined.named).tolist():
            k = int(joined.area_of[acc])
            if str(joined.areas.ids[k]) not in drawn:
                named_only.setdefault(str(joined.areas.ids[k]), (polys[k], []))[1].append(
                    str(problem.account_ids[acc])
                )
                if joined.areas.names is not None:
                    names[str(joined.areas.ids[k])] = str(joined.areas.names[k])
    elif geometry is not None:
        geoms = dict(enumerate(geometry))
        acc_unit = np.arange(len(problem.account_ids))
    return areamod.units_geojson(problem.account_ids, acc_unit, geoms, area_id, named_only, names)


def home_unit_polygons(
    problem: TerritoryProblem, geometry: Any, joined: AreaUnits | None
) -> np.ndarray | None:
    """(p,) per rep, the unit whose polygon holds its home (the lowest unit when the home lies on a
    border), -1 when no polygon holds it or the home is not given; None without polygons. The unit whose
    account point lies nearest is not always it: on the lower-48 states, Chicago is nearer Indiana's
    representative point than Illinois's, and Dallas nearer Oklahoma's than Texas's (QA4)."""
    if joined is not None:
        polys = list(joined.areas.geometry)
        unit_of = np.full(len(polys), -1, dtype=np.int64)  # an area's unit: its accounts not kept apart
        for acc in np.flatnonzero(~joined.named).tolist():
            a = int(joined.area_of[acc])
            if unit_of[a] < 0:
                unit_of[a] = int(problem.acc_unit[acc])
    elif geometry is not None:
        polys = list(geometry)
        unit_of = problem.acc_unit.astype(np.int64)
    else:
        return None
    out = np.full(problem.n_reps, -1, dtype=np.int64)
    given = np.flatnonzero(np.isfinite(problem.home_lat) & np.isfinite(problem.home_lon))
    out[given] = units_at_points(polys, unit_of, problem.home_lat[given], problem.home_lon[given])
    return out


def units_at_points(polys: list[Any], unit_of: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Per point, the unit (``unit_of`` per polygon, -1 = none) whose polygon holds it: the lowest when
    the point lies on a border, -1 when none does. ``home_unit_polygons`` for ``plan``, and ``edit`` on
    units.geojson."""
    import shapely

    out = np.full(len(lat), -1, dtype=np.int64)
    if not len(lat) or not len(polys):
        return out
    k_of, poly_k = shapely.STRtree(polys).query(shapely.points(lon, lat), predicate="intersects")
    units = unit_of[poly_k]
    keep = units >= 0
    for k, u in sorted(zip(k_of[keep].tolist(), units[keep].tolist(), strict=True), reverse=True):
        out[k] = u  # sorted descending: the lowest unit of each point is written last
    return out


def _area_unit_adjacency(
    problem: TerritoryProblem, joined: AreaUnits, area_adj: adjmod.Adjacency
) -> adjmod.Adjacency:
    """Units in the same area are neighbours, and every unit of an area neighbours every unit of the
    areas next to it (a named account sits inside its area)."""
    k = len(joined.areas.ids)
    members: list[set[int]] = [set() for _ in range(k)]
    for acc, a in enumerate(joined.area_of.tolist()):
        members[a].add(int(problem.acc_unit[acc]))
    u: list[int] = []
    v: list[int] = []
    for m in members:
        lst = sorted(m)
        for i, x in enumerate(lst):
            for y in lst[i + 1 :]:
                u.append(x)
                v.append(y)
    empty: set[tuple[int, str]] = set()
    names = joined.areas.names
    for a, b in zip(area_adj.u.tolist(), area_adj.v.tolist(), strict=True):
        for x in members[a]:
            for y in members[b]:
                u.append(x)
                v.append(y)
        for full, blank in ((a, b), (b, a)):
            if members[full] and not members[blank]:
                name = str(names[blank]) if names is not None and str(names[blank]) else ""
                label = str(joined.areas.ids[blank]) + (f" ({name})" if name else "")
                empty.update((x, label) for x in members[full])
    adj = adjmod.Adjacency.from_edges(problem.n_units, u, v)
    return dataclasses.replace(adj, empty_borders=tuple(sorted(empty)))


def unit_adjacency(
    problem: TerritoryProblem,
    geometry: Any,
    *,
    edges: Path | None,
    rook: bool,
    bridge: bool,
    tolerance_m: float = 1.0,
    areas: AreaUnits | None = None,
    option: str = "--contiguous",
) -> adjmod.Adjacency:
    """Adjacency between units from an edge list of account ids (or, in an area plan, of area ids), the
    area polygons or the accounts' polygons (in that order of preference). ``option``: the flag that
    asked for it, named when there is none of them."""
    if edges is not None and areas is not None:  # an area plan's edge list may name the areas (QA54 F2)
        try:
            area_edges = adjmod.read_edge_list(edges, [str(a) for a in areas.areas.ids])
        except InputError as by_area:
            try:
                acc = adjmod.read_edge_list(edges, [str(a) for a in problem.account_ids])
            except InputError as by_account:
                # the problems of the reading with fewer: a county list with a pair beyond the areas
                # file was 464 "unknown unit id" rows, one per area (QA55 F3)
                raise (by_area if len(by_area.problems) <= len(by_account.problems) else by_account) from None
        else:
            adj = _area_unit_adjacency(problem, areas, area_edges)
            return bridged(problem, adj) if bridge else adj
    elif edges is not None:
        acc = adjmod.read_edge_list(edges, [str(a) for a in problem.account_ids])
    elif areas is not None:
        area_adj = adjmod.from_geoseries(areas.areas.geometry, rook=rook, tolerance_m=tolerance_m)
        adj = _area_unit_adjacency(problem, areas, area_adj)
        return bridged(problem, adj) if bridge else adj
    elif geometry is not None:
        acc = adjmod.from_geoseries(geometry, rook=rook, tolerance_m=tolerance_m)
    else:
        raise InputError(
            Problem(
                "options",
                None,
                option,
                f"{option} needs polygons: give accounts as polygons (GeoJSON/GeoPackage/Shapefile), "
                "--areas with polygons, or an --adjacency edge list (u,v account ids)",
            )
        )
    adj = adjmod.Adjacency.from_edges(problem.n_units, problem.acc_unit[acc.u], problem.acc_unit[acc.v])
    return dataclasses.replace(bridged(problem, adj) if bridge else adj, accounts=acc)


def unit_points(problem: TerritoryProblem) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) per unit: an account's of it (the last written), as islands are bridged between them."""
    lat = np.zeros(problem.n_units)
    lon = np.zeros(problem.n_units)
    lat[problem.acc_unit] = problem.acc_lat
    lon[problem.acc_unit] = problem.acc_lon
    return lat, lon


def bridged(problem: TerritoryProblem, adj: adjmod.Adjacency) -> adjmod.Adjacency:
    """``adj`` with each island (a piece of the map apart from the rest) joined to its nearest unit, as
    ``--bridge-islands`` does."""
    lat, lon = unit_points(problem)
    return adjmod.bridge_islands(adj, lat, lon)


def home_units(
    spec: ModelSpec,
    lat: np.ndarray,
    lon: np.ndarray,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    metric: Metric = haversine_km,
) -> np.ndarray:
    """Per rep, the allowed unit whose polygon holds its home, else whose account lies nearest it
    (distinct units, -1 if none);
    ``points``/``metric`` as in ``optimize.centres`` (default: accounts' lat, lon, great-circle km)."""
    return _distinct_nearest(_home_distance(spec, lat, lon, points, metric))


def home_units_owned(
    spec: ModelSpec, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """``home_units``, and whether every home the user gave (reps not ``chosen``) got the unit nearest it
    (no runner-up because another home is nearer that unit): the contiguous model is then exactly "each
    territory holds its home's unit" for those reps."""
    unit_d = _home_distance(spec, lat, lon)
    centre = _distinct_nearest(unit_d)
    given = np.flatnonzero(~chosen) if chosen is not None else np.arange(len(centre))
    if (centre[given] < 0).any():
        return centre, False
    nearest = unit_d[:, given].min(axis=0)
    return centre, bool((unit_d[centre[given], given] <= nearest + 1e-9).all())


def centres_moved(
    spec: ModelSpec, centre: np.ndarray, chosen: np.ndarray | None = None
) -> list[tuple[str, str, str]]:
    """Each rep whose territory is anchored to a unit other than its home's, and why, as (kind, text, who):
    ``chosen`` (no home base given: the planner chose it), ``option`` (a home base given, and the centre
    chosen by --choose-centres), ``shared`` (another rep's home is in the same unit, which that rep holds)
    or ``barred`` (the rep may not serve its home's unit); the homes are the problem's. A proof that no
    connected plan holds these centres is no proof for the user's model; these name why. ``who``: the reps
    concerned ("SLC1 and SLC2"; for ``shared``, every rep of that home, the same in each of their entries)."""
    p = spec.problem
    home_lat, home_lon = np.asarray(p.home_lat, dtype=float), np.asarray(p.home_lon, dtype=float)
    unit_d = _home_distance(spec, home_lat, home_lon, allowed_only=False)
    out: list[tuple[str, str, str]] = []
    sharing: dict[str, list[str]] = {}  # the rep holding a shared home's unit: the others of that home
    for j in range(p.n_reps):
        c = int(centre[j])
        if c < 0:
            continue
        rep = str(p.rep_ids[j])
        if not (np.isfinite(home_lat[j]) and np.isfinite(home_lon[j])):
            out.append(("chosen", f"{rep} has no home base: the planner chose {p.unit_label(c)}", rep))
            continue
        if not np.isfinite(unit_d[:, j]).any():
            continue
        home = int(np.argmin(np.where(np.isfinite(unit_d[:, j]), unit_d[:, j], np.inf)))
        if home == c:
            continue
        holder = np.flatnonzero(centre == home)
        if chosen is not None and chosen[j]:
            out.append(
                (
                    "option",
                    f"{rep}'s territory was anchored by --choose-centres to {p.unit_label(c)}, not to "
                    f"{p.unit_label(home)} where its home is",
                    rep,
                )
            )
        elif len(holder):
            other = str(p.rep_ids[holder[0]])
            sharing.setdefault(other, []).append(rep)
            out.append(
                (
                    "shared",
                    f"{rep}'s home is in {p.unit_label(home)}, as {other}'s, and one unit is in one "
                    f"territory: {rep}'s was anchored to {p.unit_label(c)}",
                    other,
                )
            )
        elif not spec.allowed[home, j]:
            out.append(
                (
                    "barred",
                    f"{rep} may not serve {p.unit_label(home)}, its home's unit (locked to another rep or "
                    f"of a segment it does not serve): anchored to {p.unit_label(c)}",
                    rep,
                )
            )
    # every rep of one shared home in one ``who`` (three reps in one unit: "give SLC1, SLC2 and SLC3 homes
    # in different units", not "SLC1 and SLC2, SLC1 and SLC3")
    return [(k, text, listed([who, *sharing[who]]) if k == "shared" else who) for k, text, who in out]


def _distinct_nearest(unit_d: np.ndarray) -> np.ndarray:
    """Per rep (column), its nearest finite unit (row) not taken by a rep nearer its own; -1 if none."""
    n_units, n_reps = unit_d.shape
    centre = np.full(n_reps, -1, dtype=np.int64)
    taken = np.zeros(n_units, dtype=bool)
    for j in np.argsort(unit_d.min(axis=0), kind="stable").tolist():
        for u in np.argsort(unit_d[:, j], kind="stable").tolist():
            if not np.isfinite(unit_d[u, j]):
                break
            if not taken[u]:
                centre[j], taken[u] = u, True
                break
    return centre


def _home_distance(
    spec: ModelSpec,
    lat: np.ndarray,
    lon: np.ndarray,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    metric: Metric = haversine_km,
    *,
    allowed_only: bool = True,
) -> np.ndarray:
    """(n_units, p): distance from each rep's home to the nearest account of each allowed unit (inf if
    not allowed, unless ``allowed_only`` is False); 0 to the unit whose polygon holds a home the user gave
    (``home_unit_polygons``)."""
    p = spec.problem
    a, b = (p.acc_lat, p.acc_lon) if points is None else points
    d = metric(a, b, lat, lon)  # (n_acc, p)
    unit_d = np.full((p.n_units, p.n_reps), np.inf)
    np.minimum.at(unit_d, p.acc_unit, d)
    if p.home_unit is not None:  # the polygon that holds a given home is its unit, whatever lies nearer
        j = np.flatnonzero((p.home_unit >= 0) & (lat == p.home_lat) & (lon == p.home_lon))
        unit_d[p.home_unit[j], j] = 0.0
    return np.where(spec.allowed, unit_d, np.inf) if allowed_only else unit_d


def anchored_elsewhere(spec: ModelSpec, lat: np.ndarray, lon: np.ndarray) -> bool:
    """Whether some rep may not serve the unit at its home (locked to another rep, or of a segment it
    does not serve), so that its territory is anchored at the nearest unit it may serve."""
    raw = _home_distance(spec, lat, lon, allowed_only=False)
    has = np.isfinite(raw).any(axis=0)
    home = np.argmin(np.where(np.isfinite(raw), raw, np.inf), axis=0)
    reps = np.flatnonzero(has)
    return bool((~spec.allowed[home[reps], reps]).any())
