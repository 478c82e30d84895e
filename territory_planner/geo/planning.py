"""The geo adapter between loaded inputs and the contiguity solver (GeoDataFrames stop here).

``unit_adjacency`` turns an edge-list file or the accounts' polygons into an ``Adjacency`` over units
(accounts merged by family); ``make_contiguous`` runs the cut loop (the neighbourhood search on large
instances) from the pipeline's plan and returns the plan, an updated ``SolveResult`` and the
``contiguity`` block of summary.json.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components

from territory_planner.currency import currency_prefix, is_money
from territory_planner.errors import Conflict, InputError, Problem
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import areas as areamod
from territory_planner.geo import contiguity
from territory_planner.model.geo import haversine_km
from territory_planner.model.plan import SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import contiguous, contiguous_flow, pipeline, repair, unit_fit
from territory_planner.optimize.centres import Metric
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import home_rule
from territory_planner.solvers.base import Backend

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


MAX_CUT_COLUMNS = 150_000  # above this many (unit, rep) pairs, no whole-model cut loop
# --contiguous --relax on a map the flow model fits: the share of the contiguity stage's time kept for the
# least violation of connected plans, and of that, the MIP on the violation's (the rest: its travel)
RELAX_CONNECTED_SHARE = 0.35
RELAX_LEAST_SHARE = 0.75
# after a proof that no connected plan meets the bands (without --relax): the least violation of connected
# plans, for the proof's numbers, in this share of the time left, at most LEAST_AFTER_PROOF_SECONDS, and
# only with LEAST_AFTER_PROOF_MIN left (QA66 F5: London's boroughs, exit 1 at 6.7 s of 20 naming no rep,
# measure or amount, where --relax shows Croydon short on potential and Bromley over on workload)
LEAST_AFTER_PROOF_SHARE = 0.5
LEAST_AFTER_PROOF_SECONDS = 15.0
LEAST_AFTER_PROOF_MIN = 3.0
BAND_VIOLATIONS = ("balance_min", "balance_max")
OPTIMALITY_TOL = 1e-4


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


def component_conflicts(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    chosen: np.ndarray | None = None,
    of: str = "territory",
) -> list[Conflict]:
    """Pieces of the map (connected components) that no plan of connected territories (``of``
    "territory") or districts ("district": each one piece holding its reps' home units, so each of its
    territories lies in the piece of its rep's home too) can cover, with the numbers. A territory holds
    its rep's home unit and is one piece, so it lies inside the piece that holds that home. A piece with
    no home can only be covered by reps whose centre the planner chooses (``chosen``), each territory then
    lying inside it: none of them fits if the piece is below every such rep's band. A piece holding homes
    must reach the sum of their reps' lower bands, and, when no rep's centre is chosen, stay within the
    sum of their upper bands. Empty when the map is one piece or a rep with a given home has no home unit.
    """
    p = spec.problem
    chosen = np.zeros(p.n_reps, dtype=bool) if chosen is None else chosen
    if (centre[~chosen] < 0).any():
        return []
    label = adj.components()
    if int(label.max(initial=0)) == 0:
        return []
    out: list[Conflict] = []
    unit_name = _unit_names(p)
    fixed = np.flatnonzero(~chosen)
    for c in range(int(label.max()) + 1):
        units = np.flatnonzero(label == c)
        total = p.unit_amount[units].sum(axis=0)
        reps = fixed[label[centre[fixed]] == c]
        shown = _listed(np.asarray([p.unit_label(int(u)) for u in units[:5]] + [""] * (len(units) - 5)))
        where = f"the piece of the map made of {len(units)} unit(s) ({shown}) touches no other account"
        hint = "; --bridge-islands joins each such piece to its nearest neighbour (or give --adjacency)"
        empty = sorted({name for u, name in adj.empty_borders if label[u] == c})
        if empty:  # cut off by areas with no account, not by the sea (QA54 F6)
            where += (
                f" (it borders area(s) {_listed(np.asarray(empty))} that hold no account, so are no units a "
                "territory can cross)"
            )
        if not len(reps):
            fits = (spec.lower[:, chosen] <= total[:, None] + 1e-9).all(axis=0)
            if not fits.any():
                what = "and holds no rep's home" + (
                    ", and is below every band of the reps whose centre is chosen" if chosen.any() else ""
                )
                out.append(
                    Conflict(
                        "contiguity",
                        f"{where} {what}, so no {of} holding it can be one piece{hint}",
                        extra={"accounts": unit_name[units].tolist()},
                    )
                )
            continue
        who = ", ".join(np.asarray(p.rep_ids)[reps].astype(str))
        # one rep's home and band, or several's (QA92 F5: "the homes of R08, whose territories")
        one = len(reps) == 1
        homes = f"the home of {who}, whose territory" if one else f"the homes of {who}, whose territories"
        bands = "its band needs" if one else "their bands together need"
        for m, measure in enumerate(p.measures):
            lo, hi = float(spec.lower[m, reps].sum()), float(spec.upper[m, reps].sum())
            short = total[m] < lo - 1e-9 * max(1.0, abs(lo))
            over = not chosen.any() and total[m] > hi + 1e-9 * max(1.0, abs(hi))
            if short or over:
                # money in the run's currency, as the conflict table's amount column writes it (QA92 F5)
                unit = currency_prefix() if is_money(measure) else ""
                limit = f"at least {unit}{lo:,.2f}" if short else f"at most {unit}{hi:,.2f}"
                out.append(
                    Conflict(
                        "contiguity",
                        f"{where} and holds {homes} must lie inside it: its "
                        f"{measure} is {unit}{total[m]:,.2f}, {bands} {limit}{hint}",
                        measure=measure,
                        amount=float(lo - total[m] if short else total[m] - hi),
                    )
                )
    return out


def _unit_names(p: TerritoryProblem) -> np.ndarray:
    """The first account id of each unit."""
    first_acc = np.full(p.n_units, -1, dtype=np.int64)
    first_acc[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    out: np.ndarray = np.asarray(p.account_ids).astype(str)[first_acc]
    return out


def _unit_titles(p: TerritoryProblem) -> np.ndarray:
    """How messages name each unit: its first account id, with the account's name when it has another
    one ("VA51059 (Fairfax)"; QA11 O13: the walls named "MXMX03" where other pre-checks say the name)."""
    ids = _unit_names(p)
    first_acc = np.full(p.n_units, -1, dtype=np.int64)
    first_acc[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    names = np.asarray(p.account_names).astype(str)[first_acc]
    named = (names != ids) & (np.char.strip(names) != "") & (np.char.lower(names) != "nan")
    out: np.ndarray = np.where(named, np.char.add(np.char.add(ids, " ("), np.char.add(names, ")")), ids)
    return out


def _listed(names: np.ndarray, k: int = 5) -> str:
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def walled_in_conflicts(
    spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray, chosen: np.ndarray | None = None
) -> list[Conflict]:
    """Reps walled in by other reps' homes, with the numbers. A territory is one piece holding its rep's
    home unit and no other rep's, so it lies in the part of the map its home reaches without crossing
    another home unit (here: the home unit and the pieces of the map, homes taken out, that touch it):
    when that part holds less of a measure than the rep's band needs, no connected plan exists. Only
    reps with a given home count (a chosen centre can move); empty when a given home has no unit."""
    p = spec.problem
    chosen = np.zeros(p.n_reps, dtype=bool) if chosen is None else chosen
    fixed = np.flatnonzero(~chosen)
    if len(fixed) < 2 or (centre[fixed] < 0).any():
        return []
    walls = np.zeros(p.n_units, dtype=bool)
    walls[centre[fixed]] = True
    keep = ~walls[adj.u] & ~walls[adj.v]
    _, label = connected_components(
        adjmod.Adjacency(p.n_units, adj.u[keep], adj.v[keep]).csr(), directed=False
    )
    neighbours = adj.neighbours()
    unit_name, unit_title = _unit_names(p), _unit_titles(p)
    owner = np.full(p.n_units, -1, dtype=np.int64)
    owner[centre[fixed]] = fixed
    out: list[Conflict] = []
    for j in fixed.tolist():
        home = int(centre[j])
        near = neighbours[home]
        reach = np.flatnonzero(np.isin(label, np.unique(label[near[~walls[near]]])) & ~walls)
        reach = np.concatenate([[home], reach])
        total = p.unit_amount[reach].sum(axis=0)
        border = np.unique(np.concatenate([neighbours[u] for u in reach.tolist()]))
        by = np.asarray(p.rep_ids)[owner[border[walls[border] & (border != home)]]].astype(str)
        head = (
            f"the home unit of {p.rep_ids[j]} ({unit_title[home]}) reaches only {len(reach)} unit(s) "
            f"without crossing the home unit of another rep ({_listed(by)}): {_listed(unit_title[reach])}."
        )
        tail = (
            "--contiguous makes each territory one piece holding its rep's home unit (and no other rep's), "
            "so no such plan exists (a plan of connected territories that gives a rep's home unit to "
            "another rep does not count). Move a home, widen --tolerance, or --relax"
        )
        short = False
        for m, measure in enumerate(p.measures):
            lo = float(spec.lower[m, j])
            if total[m] < lo - 1e-9 * max(1.0, abs(lo)):
                short = True
                out.append(
                    Conflict(
                        "contiguity",
                        f"{head} They hold {total[m]:,.2f} {measure}, its band needs at least {lo:,.2f}; "
                        + tail,
                        rep_id=str(p.rep_ids[j]),
                        measure=measure,
                        amount=lo - float(total[m]),
                        extra={"accounts": unit_name[reach].tolist()},
                    )
                )
        if short or len(p.measures) < 2:
            continue
        # enough of each measure, but not of both at once (a region too rich in potential for its
        # workload): the LP over fractions of the units it reaches, home unit included
        within = np.zeros(p.n_units, dtype=bool)
        within[reach] = True
        why = unit_fit.shortfall(spec, home, j, within)
        if why is not None:
            out.append(
                Conflict(
                    "contiguity",
                    f"{head} {why.text('any territory of them')}; {tail}",
                    rep_id=str(p.rep_ids[j]),
                    measure=why.name if why.row < len(p.measures) else None,
                    amount=why.amount,
                    extra={"accounts": unit_name[reach].tolist()},
                )
            )
    return out


def _home_pieces(adj: adjmod.Adjacency, plan: np.ndarray, centre: np.ndarray, n_reps: int) -> np.ndarray:
    """Pieces per territory, one more where the rep's home unit went to another rep (the model is "one
    piece holding the home's unit")."""
    pieces: np.ndarray = contiguity.count_pieces(adj, plan, n_reps)
    pieces += np.array([c >= 0 and plan[c] != j for j, c in enumerate(centre.tolist())], dtype=np.int64)
    return pieces


def _split_key(spec: ModelSpec, plan: np.ndarray, pieces: np.ndarray) -> tuple[int, int, float]:
    """How far a plan is from connected, for choosing the least-violation one: stray pieces, territories
    split, then the objective."""
    stray = int(np.maximum(pieces - 1, 0).sum())
    objective = float(spec.objective[np.arange(len(plan)), plan].sum())
    return stray, int((pieces > 1).sum()), objective


def _stray_share(spec: ModelSpec, adj: adjmod.Adjacency, plan: np.ndarray, centre: np.ndarray) -> float:
    """How much of the territories lies outside the piece holding the home unit: per stray piece, its
    largest measure relative to its rep's upper band, summed (a whole territory elsewhere counts 1)."""
    p = spec.problem
    out = 0.0
    for j, units in contiguity.stray_pieces(adj, plan, p.n_reps, centre):
        load = p.unit_amount[units].sum(axis=0)
        out += float((load / np.maximum(spec.upper[:, j], 1.0)).max())
    return out


def _near_is_less(
    spec: ModelSpec, adj: adjmod.Adjacency, plan: np.ndarray, near: np.ndarray, centre: np.ndarray
) -> tuple[bool, float, float]:
    """Whether the flip search's connected plan (``near``, each territory one piece holding its home unit,
    a few out of their bands) breaks less than ``plan`` (split): its band excess over the territories,
    relative to each upper band, against the split plan's stray share plus its own band excess. Both are
    parts of a territory's band: a territory 3% over its band against a county group of 20% of one lying
    apart. Only a plan that keeps every other row (budgets, counts, district bands) is a candidate."""
    apart = (_home_pieces(adj, near, centre, spec.problem.n_reps) > 1).any()
    if apart or not all(repair.other_rows(spec, near)):
        return False, np.inf, np.inf
    near_miss = float(repair.band_excess(spec, near).sum())
    split_miss = _stray_share(spec, adj, plan, centre) + float(repair.band_excess(spec, plan).sum())
    return near_miss < split_miss, near_miss, split_miss


HOMES_NOTE = (
    "contiguity: every territory holds the unit at its rep's home (for a rep who may not serve that unit, a "
    "locked or other-segment account, the nearest unit it may serve); the lower bound is valid for "
    "contiguous plans of that kind"
)


def outside_homes(
    spec: ModelSpec, lat: np.ndarray, lon: np.ndarray, centre: np.ndarray, chosen: np.ndarray | None
) -> list[str]:
    """A note naming each given home that no polygon holds and the unit its territory is anchored to, with
    the distance (QA72 F4: a home in Chicago, 214 km outside Iowa's counties, was anchored to the county
    nearest it without a word, and the county its territory had to hold was named nowhere); said on the
    console too."""
    from territory_planner.io.labels import first_few
    from territory_planner.model.homes import arc_km

    p = spec.problem
    if p.home_unit is None:
        return []
    point_lat, point_lon = unit_points(p)
    said = []
    for j in range(p.n_reps):
        c = int(centre[j])
        if p.home_unit[j] >= 0 or c < 0 or not np.isfinite(lat[j]) or (chosen is not None and chosen[j]):
            continue
        km = float(arc_km(lat[j], lon[j], point_lat[c], point_lon[c]))
        said.append(f"{p.rep_ids[j]}'s to {p.unit_label(c)} ({km:,.0f} km from the home)")
    if not said:
        return []
    note = (
        f"contiguity: {len(said)} home(s) lie in no polygon of the map, each territory anchored to the unit "
        f"nearest its home that no other home took: {first_few(said, 5)}"
    )
    logger.warning(note)
    return [note]


def make_contiguous(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    unit_rep: np.ndarray,
    result: SolveResult,
    backend: Backend,
    *,
    lat: np.ndarray,
    lon: np.ndarray,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None] = lambda _m: None,
    chosen: np.ndarray | None = None,
    relax: bool = False,
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    """``chosen``: reps whose centre the planner chose (``lat``/``lon`` hold it): a proof that no connected
    plan exists then holds for those centres only. ``relax`` (``--relax``): when no connected plan meets
    the bands, the least-violation plan is the split one or the flip search's connected one out of a few
    bands, whichever breaks less (``_near_is_less``); the latter comes back with status ``relaxed``."""
    p = spec.problem
    start = time.perf_counter()
    centre, own = home_units_owned(spec, lat, lon)
    islands = adj.islands()
    info: dict[str, Any] = {
        "islands": len(islands) + len(adj.bridged),  # the map's, bridged or not (QA72 F3: 0 of 1)
        "bridged_edges": [
            [str(p.account_ids[np.flatnonzero(p.acc_unit == a)[0]]) for a in e] for e in adj.bridged
        ],
    }
    before = contiguity.count_pieces(adj, unit_rep, p.n_reps)
    if (before <= 1).all() and all(unit_rep[c] == j for j, c in enumerate(centre.tolist()) if c >= 0):
        # nothing to do: said as it is, not as the cut loop's (QA26 F3: --design-districts made the
        # territories connected with the flow model, and summary.json said "cuts", 0 rounds)
        info.update(method="already connected", rounds=0, cuts=0, neighbourhoods=0)
        if anchored_elsewhere(spec, lat, lon):  # said on this path too (QA9 O1's note)
            result = dataclasses.replace(result, notes=(*result.notes, HOMES_NOTE))
        outside = outside_homes(spec, lat, lon, centre, chosen)
        result = dataclasses.replace(result, notes=(*result.notes, *outside))
        return unit_rep, result, with_pieces(info, p, before)
    # small: the cut loop over the whole model first; large: straight to the neighbourhood search
    exact = int(spec.allowed.sum()) <= MAX_CUT_COLUMNS
    progress("enforcing contiguity (" + ("separator cuts" if exact else "neighbourhood search") + ")")
    # --relax on a small map: the end of the time is kept for the least violation of connected plans
    elastic = bool(relax and (centre >= 0).all() and contiguous_flow.fits_beside(adj, p.n_reps, backend))
    res = contiguous.solve_contiguous(
        spec,
        adj,
        backend,
        centre=centre,
        time_limit=time_limit * (1.0 - RELAX_CONNECTED_SHARE) if elastic else time_limit,
        gap=gap,
        seed=seed,
        threads=threads,
        start_plan=unit_rep,
        bound=result.lower_bound,
        progress=progress,
        exact=exact,
        relax=relax,
    )
    plan, method = res.unit_rep, res.method
    if plan is None:
        plan = contiguous.repair_pieces(spec, adj, unit_rep, centre)
        method = "repair"
    if res.infeasible:
        # HiGHS's proof holds for the centres the model used: it is the user's model when each is the
        # unit at its rep's home (two homes nearest one unit: one rep got the runner-up, no proof)
        own = own and (chosen is None or not chosen.any())
        info.update(
            _proof_info(spec, adj, centre, backend, res, own, relax, start + time_limit, seed, threads)
        )
        progress(
            f"contiguity: no plan of connected territories{home_rule('territories')} meets the bands (proven)"
            if own
            else "contiguity: no connected plan with the centres chosen (chosen by the planner, or two homes "
            "nearest one unit)"
        )
    # a territory without its home's unit misses the piece that must hold it: one more piece (the model
    # is "one piece holding the home's unit", and its bounds and proofs are for that model)
    pieces = _home_pieces(adj, plan, centre, p.n_reps)
    if (pieces > 1).any():
        # no connected plan: the least-violation plan is the one with the fewest stray pieces, then split
        # territories, then travel, and the plan before the stage may be it (QA14: 48 US states, the
        # stage's plan split 7 territories at 410,622 where the plan before it split 6 at 368,778)
        at_start = _home_pieces(adj, unit_rep, centre, p.n_reps)
        if _split_key(spec, unit_rep, at_start) < _split_key(spec, plan, pieces):
            plan, pieces, method = unit_rep, at_start, "start-kept"
    kept = _Kept(plan, pieces, method)
    near_note = _least_violation(
        spec, adj, centre, backend, res, kept, info, elastic=elastic, relax=relax,
        deadline=start + time_limit, seed=seed, threads=threads, progress=progress,
    )  # fmt: skip
    new = _with_contiguity(spec, result, res, kept, near_note, lat, lon, centre, chosen, start)
    info.update(method=kept.method, rounds=res.rounds, cuts=res.cuts, neighbourhoods=res.neighbourhoods)
    return kept.plan, new, with_pieces(info, p, kept.pieces)


@dataclass
class _Kept:
    """The plan ``make_contiguous`` keeps so far, its pieces per territory and the method that made it."""

    plan: np.ndarray
    pieces: np.ndarray
    method: str


def _proof_info(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    res: contiguous.ContiguousResult,
    own: bool,
    relax: bool,
    deadline: float,
    seed: int,
    threads: int | None,
) -> dict[str, Any]:
    """summary.json's account of a proof that no connected plan exists: for whose centres, whether it
    holds without the other rows, and (the user's own centres, no --relax) the least band violation of
    connected plans, with numbers."""
    info: dict[str, Any] = {"infeasible": "proven" if own else "proven for the centres chosen"}
    if res.infeasible_without_rows is not None:
        info["infeasible_without_other_rows"] = res.infeasible_without_rows
    if own and not relax:  # the proof with numbers: which bands the connected plans break least
        numbers = _least_after_proof(spec, adj, centre, backend, res.near, deadline, seed, threads)
        if numbers is not None:
            info["least_violation"] = numbers
    return info


def _least_violation(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    res: contiguous.ContiguousResult,
    kept: _Kept,
    info: dict[str, Any],
    *,
    elastic: bool,
    relax: bool,
    deadline: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None],
) -> str | None:
    """Territories still split: with --relax on a small map, the flow model's least violation of connected
    plans (a connected plan within every band, when it finds one, is kept as such); the connected plan
    out of the fewest bands is named (``info``) and, with --relax, kept when it breaks less than the split
    one. Updates ``kept``; returns the note of a connected plan kept out of some bands, else None."""
    p = spec.problem
    near, least_note = res.near, None
    if elastic and (kept.pieces > 1).any():
        least = _least_connected(
            spec, adj, centre, backend, near, deadline=deadline, seed=seed, threads=threads
        )
        if least is not None:
            near, least_note = least
            near_pieces = _home_pieces(adj, near, centre, p.n_reps)
            if (near_pieces <= 1).all() and repair.feasible(spec, near):
                # no violation at all: a connected plan within every band, which the stage's share of the
                # time had not found; written as such, not as a relaxed plan
                kept.plan, kept.pieces, kept.method, least_note = (
                    near,
                    near_pieces,
                    "flow-least-violation",
                    None,
                )
                progress("contiguity: the flow model found a connected plan within every band")
            else:
                progress(least_note)
    if not (kept.pieces > 1).any() or near is None:
        return None
    # named when the run ends without a plan (QA25); with --relax, the plan written if it breaks less
    n_out = info["near_out_of_band"] = int((repair.band_excess(spec, near) > 0).sum())
    less, near_miss, split_miss = (
        _near_is_less(spec, adj, kept.plan, near, centre) if relax else (False, 0.0, 0.0)
    )
    if not less:
        return None
    n_split = int((kept.pieces > 1).sum())
    # the split plan meets the bands, unless the plan before the stage broke them (QA26)
    split_bands = float(repair.band_excess(spec, kept.plan).sum())
    # the flow model's, when it broke less than the flips' plan it started from
    lowered = res.near is None or (
        repair.band_excess(spec, near).sum() < repair.band_excess(spec, res.near).sum() - 1e-9
    )
    kept.method = "flow-least-violation" if least_note is not None and lowered else "flips-near"
    kept.plan, kept.pieces = near, _home_pieces(adj, near, centre, p.n_reps)
    # amounts in shares of a band's maximum, summed (QA26: "of a band" read as of its width)
    top = "of a territory's band maximum"
    broke = f" and broke bands by {split_bands:.1%} {top}" if split_bands > 0 else ""
    near_note = (
        f"relaxed: every territory is one piece and {n_out} break their bands by {near_miss:.1%} "
        f"{top} in all (see violations), where the best plan in pieces split {n_split} "
        f"territories with {split_miss - split_bands:.1%} {top} outside their home pieces{broke}"
        + (
            f"; no plan of connected territories{home_rule('territories')} within every band exists (proven)"
            if res.infeasible
            else ""
        )
        + (f"; {least_note}" if least_note is not None else "")
    )
    progress(near_note)
    return near_note


def _with_contiguity(
    spec: ModelSpec,
    result: SolveResult,
    res: contiguous.ContiguousResult,
    kept: _Kept,
    near_note: str | None,
    lat: np.ndarray,
    lon: np.ndarray,
    centre: np.ndarray,
    chosen: np.ndarray | None,
    start: float,
) -> SolveResult:
    """The run's result after the contiguity stage: the kept plan's objective, the bound and gap for
    connected plans, the notes, the stage's time and outcome; relaxed when ``near_note`` (a connected plan
    out of some bands)."""
    p, plan, pieces, method = spec.problem, kept.plan, kept.pieces, kept.method
    objective = float(spec.objective[np.arange(p.n_units), plan].sum())
    compact = float(spec.cost[np.arange(p.n_units), plan].sum())
    # a connected plan out of some bands (``near_note``) is no plan of the model either: its objective
    # does not cap the bound (QA72 F1: "lower bound 933,956" of a relaxed plan, its own objective)
    lower, g = contiguity.bound_and_gap(
        res.lower_bound, objective, connected=bool((pieces <= 1).all()) and near_note is None
    )
    notes = list(result.notes)
    notes.append(HOMES_NOTE)
    notes += outside_homes(spec, lat, lon, centre, chosen)
    notes += contiguity.below_bound(
        "contiguity", result.objective, lower, "splits a territory or gives a rep's home unit away"
    )
    if (pieces > 1).any():
        notes.append(
            f"contiguity not reached for {int((pieces > 1).sum())} territories "
            + (
                f"(no plan of connected territories{home_rule('territories')} exists)"
                if res.infeasible
                else "within the time limit"
            )
            + " (see contiguity.pieces)"
        )
    # a gap within the tolerance to a valid bound is a proof however the plan came (QA14: a plan equal to
    # its bound was "feasible, gap 0.000%")
    optimal = bool((pieces <= 1).all() and np.isfinite(g) and g <= OPTIMALITY_TOL)
    stages = dict(result.stages)
    stages["contiguity"] = time.perf_counter() - start
    outcome = (
        (
            f"{method}: {int((pieces > 1).sum())} of {p.n_reps} territories split"
            if (pieces > 1).any()
            else f"{method}: every territory one piece"
        )
        + f", objective {result.objective:,.1f} -> {objective:,.1f}, "
        + (f"gap {100 * g:.3f}%" if np.isfinite(g) else "no gap: the plan is split")
    )
    log = (
        *result.stage_log,
        {"stage": "contiguity", "seconds": round(stages["contiguity"], 3), "outcome": outcome},
    )
    new = dataclasses.replace(
        result,
        status="optimal" if optimal else "feasible",
        proven_optimal=bool(optimal),
        objective=objective,
        compactness=compact,
        lower_bound=lower,
        gap=g,
        method=f"{result.method}+contiguity-{method}",
        stages=stages,
        stage_log=log,
        notes=tuple(notes),
    )
    if near_note is not None:  # connected, out of some bands: the least violation, marked
        new = new.relaxed(violations=tuple(pipeline._violations(spec, plan)), notes=(*new.notes, near_note))
    return new


def _least_after_proof(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    near: np.ndarray | None,
    deadline: float,
    seed: int,
    threads: int | None,
) -> dict[str, Any] | None:
    """After HiGHS proved that no plan of connected territories meets the bands: the bands the connected
    plan of least violation breaks (``contiguous_flow.least_violation_connected``), each rep, measure and
    amount, and whether that violation is proven least; None without the time or a model that fits."""
    left = deadline - time.perf_counter()
    if left < LEAST_AFTER_PROOF_MIN or (centre < 0).any():
        return None
    if not contiguous_flow.fits_beside(adj, spec.problem.n_reps, backend):
        return None
    least = contiguous_flow.least_violation_connected(
        spec, adj, centre, backend, seed=seed, threads=threads, start=near,
        deadline=time.perf_counter() + min(LEAST_AFTER_PROOF_SHARE * left, LEAST_AFTER_PROOF_SECONDS),
    )  # fmt: skip
    if least is None or not all(repair.other_rows(spec, least.plan)):
        return None
    broken = [v for v in pipeline._violations(spec, least.plan) if v["constraint"] in BAND_VIOLATIONS]
    return {"proven": least.proven, "violations": broken} if broken else None


def _least_connected(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    near: np.ndarray | None,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
) -> tuple[np.ndarray, str] | None:
    """--contiguous --relax when no connected plan within the bands was found: the connected plan of least
    violation (``contiguous_flow.least_violation_connected``, started from the flip search's ``near``) in
    ``RELAX_LEAST_SHARE`` of the time left, then its travel: the flow model with the objective, each band
    widened just enough for that plan, to ``deadline``. The plan and a note saying whether its violation is
    proven least; None when the flow model found no connected plan keeping the other rows."""
    from territory_planner.optimize.contiguous_lns import objective
    from territory_planner.optimize.design import home_cells

    now = time.perf_counter()
    centred = contiguous.with_centres(spec, centre)
    if near is None:  # HiGHS alone found no plan of this model in 15 s on a 10 x 10 grid: the homes' cells
        near = home_cells(adj, centre, centred.cost)
    least = contiguous_flow.least_violation_connected(
        spec, adj, centre, backend, deadline=now + RELAX_LEAST_SHARE * max(deadline - now, 0.0),
        seed=seed, threads=threads, start=near,
    )  # fmt: skip
    if least is None or not all(repair.other_rows(spec, least.plan)):
        return None
    if least.proven:
        note = "the violation is the least of any plan of connected territories (proven, HiGHS within 0.1%)"
    else:
        share = 0.0 if least.violation <= 0 else max(least.bound, 0.0) / least.violation
        note = "the violation is the least found for connected plans in the time, not proven least"
        if share >= 0.001:  # the elastic LP's bound is often 0: said only when it says something
            note += f": every such plan's violation is at least {100 * share:.1f}% of it (HiGHS's bound)"
    plan = least.plan
    wide = pipeline._widened(centred, plan)
    if wide is not None and deadline - time.perf_counter() > 1.0:  # then travel, within those bands
        flow = contiguous_flow.start(
            wide, adj, contiguous_flow.territory_parts(centre), backend, deadline=deadline, gap=1e-4,
            seed=seed,
        )  # fmt: skip
        if flow is not None:
            while flow.running() and not flow.built():  # HiGHS takes a plan once its model is built
                time.sleep(0.05)
            flow.offer(plan)
            found = flow.finish(stop=False)
            shorter = None if found is None else found.unit_rep
            if (
                shorter is not None
                and (shorter >= 0).all()
                and objective(spec, shorter) < objective(spec, plan)
            ):
                plan = shorter
    return plan, note


def with_pieces(info: dict[str, Any], p: TerritoryProblem, pieces: np.ndarray) -> dict[str, Any]:
    info["pieces"] = {str(r): int(k) for r, k in zip(p.rep_ids, pieces.tolist(), strict=True)}
    info["contiguous"] = bool((pieces <= 1).all())
    return info
