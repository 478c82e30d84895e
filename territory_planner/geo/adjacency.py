"""Adjacency between polygon units (queen / rook), from geometry or from an edge-list file.

Pure arrays out: an ``Adjacency`` holds undirected edges (u < v) over ``n`` units; the optimiser never
sees a GeoDataFrame. Geometry is compared in a metric CRS (the local UTM zone) so the sliver/gap
tolerance is in metres.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_planner.errors import InputError, Problem
from territory_planner.geo.repair import make_valid
from territory_planner.io.excel import EXCEL_EXTENSIONS, column_letter, read_sheet, relocate
from territory_planner.io.labels import alike_ids, did_you_mean


@dataclass(frozen=True)
class Adjacency:
    n: int
    u: np.ndarray  # (m,) int, u < v
    v: np.ndarray  # (m,) int
    bridged: tuple[tuple[int, int], ...] = ()  # edges added by ``bridge_islands``
    # the accounts' own graph this units' graph was made from (polygons or an edge list), when there is one:
    # what an edited plan's pieces are counted on, where a hand edit may split a unit (QA48 F1)
    accounts: Adjacency | None = None
    # in an area plan, the areas that hold no account (no units: a territory cannot cross them) next to a
    # unit, as (unit, area label) pairs: named when they cut a piece of the map off (QA54 F6)
    empty_borders: tuple[tuple[int, str], ...] = ()

    @classmethod
    def from_edges(cls, n: int, u: Sequence[int] | np.ndarray, v: Sequence[int] | np.ndarray) -> Adjacency:
        a, b = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        keep = a != b
        lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
        pairs = np.unique(np.stack([lo, hi], axis=1), axis=0) if len(lo) else np.zeros((0, 2), np.int64)
        return cls(n, pairs[:, 0].copy(), pairs[:, 1].copy())

    def csr(self) -> sp.csr_matrix:
        data = np.ones(2 * len(self.u))
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        return sp.csr_matrix((data, (rows, cols)), shape=(self.n, self.n))

    def neighbours(self) -> list[np.ndarray]:
        m = self.csr()
        return [m.indices[m.indptr[i] : m.indptr[i + 1]] for i in range(self.n)]

    def components(self) -> np.ndarray:
        """Component label per unit (0..k-1, numbered by first unit)."""
        _, labels = connected_components(self.csr(), directed=False)
        return np.asarray(labels, dtype=np.int64)

    def islands(self) -> list[np.ndarray]:
        """Every connected component but the largest (units sorted), smallest first."""
        labels = self.components()
        counts = np.bincount(labels)
        if len(counts) <= 1:
            return []
        main = int(np.argmax(counts))
        out = [np.flatnonzero(labels == c) for c in range(len(counts)) if c != main]
        return sorted(out, key=lambda a: (len(a), int(a[0])))


def from_geometries(geoms: Sequence[Any], *, rook: bool = False, tolerance: float = 0.0) -> Adjacency:
    """Queen (touching at a point is enough) or rook (shared boundary longer than ``tolerance``) adjacency.

    ``tolerance`` (in the geometries' units) absorbs slivers and gaps: two polygons whose buffered
    shapes overlap are neighbours. Rook additionally needs the shared (buffered) boundary to be longer
    than ``3 * tolerance`` (and than a tiny epsilon when tolerance is 0), and two polygons that meet in
    points only to overlap, grown, farther than ``CORNER_REACH`` tolerances from them (``_corners``), so
    corner contacts do not count."""
    import shapely
    from shapely.strtree import STRtree

    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    if n == 0:
        return Adjacency.from_edges(0, [], [])
    bad = ~shapely.is_valid(arr)
    if bad.any():  # made invalid by the projection (the inputs are repaired when read, geo.repair):
        arr = arr.copy()  # buffering an invalid polygon can drop part of it, make_valid keeps all
        valid = np.empty(int(bad.sum()), dtype=object)
        valid[:] = [make_valid(g) for g in arr[bad]]
        arr[bad] = valid
    grown = shapely.buffer(arr, tolerance) if tolerance > 0 else arr
    tree = STRtree(grown)
    left, right = tree.query(grown, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if rook and len(left):
        extent = shapely.bounds(arr)
        size = float(np.nanmax(extent[:, 2:] - extent[:, :2])) if n else 1.0
        eps = max(3.0 * tolerance, 1e-9 * max(size, 1.0))  # a corner overlap is 2 x tolerance long
        if tolerance > 0:
            # length of the shared strip: its area over the strip width
            shared = shapely.area(shapely.intersection(grown[left], grown[right])) / (2.0 * tolerance)
        else:
            shared = shapely.length(
                shapely.intersection(shapely.boundary(arr[left]), shapely.boundary(arr[right]))
            )
        ok = shared > eps
        if tolerance > 0:
            ok &= ~_corners(arr, grown, left, right, shared, tolerance)
        left, right = left[ok], right[ok]
    return Adjacency.from_edges(n, left, right)


# A strip of overlap that stays within this many tolerances of the one point (or points) where two polygons
# meet is a corner, however long: two boundaries leaving a corner at a shallow angle stay within the
# tolerance of each other for a while (QA72 F7: Pocahontas and Sac counties, Iowa, meet at one point and
# their grown shapes overlap along 6 m, twice the 3 m a corner's strip was taken to be at most; Texas
# had one of 4.3 m). Measured on bokeh-sampledata's counties of Iowa, Ohio and Texas, the lower-48 states
# and Mexico's states at 1 m: every corner's strip lies within 7.6 m of its point, the shortest shared
# border is 20 m long.
CORNER_REACH = 25.0


def _corners(
    arr: np.ndarray,
    grown: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    shared: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """Per candidate pair: the polygons meet in one point only (no shared line, no overlap; points within
    a tolerance of each other count as one) and the strip where their grown shapes overlap lies within
    ``CORNER_REACH`` tolerances of it: a corner. Pairs that do not meet at all (a gap or sliver within the
    tolerance), and pairs that meet at points apart (a border drawn with a gap between its two ends, QA75
    F1: a 40-m border with a 0.5-m gap, touching at both ends, was dropped and the map called in pieces),
    are never corners. A border with such a gap that meets the other outline at one end only is one up to
    ``CORNER_REACH`` tolerances long: it is drawn as a corner is."""
    import shapely

    corner = np.zeros(len(left), dtype=bool)
    short = np.flatnonzero(shared < 2 * CORNER_REACH * tolerance)  # a longer strip reaches farther
    if not len(short):
        return corner
    a, b = arr[left[short]], arr[right[short]]
    meet = shapely.intersection(a, b)
    points = ~shapely.is_empty(meet) & (shapely.length(meet) == 0) & (shapely.area(meet) == 0)
    points &= shapely.minimum_bounding_radius(meet) <= tolerance  # one point, not points along a border
    if not points.any():
        return corner
    at = short[points]
    strip = shapely.intersection(grown[left[at]], grown[right[at]])
    corner[at] = shapely.hausdorff_distance(strip, meet[points]) <= CORNER_REACH * tolerance
    return corner


# A layer wider than this (degrees of longitude) is not charted in one UTM zone: transverse Mercator folds
# shapes far from its central meridian, and polygons that do not touch come to overlap (QA30 F5: the 137
# countries of Africa, Asia and Europe in zone 30N, Indonesia overlapping Somalia and Madagascar, a
# district in three pieces called contiguous). Such a layer gets a world equal-area chart: any
# projection is one-to-one away from the antimeridian, so it keeps who touches whom.
UTM_MAX_SPAN = 30.0
WORLD_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global, cylindrical equal-area


# Shapes cut at the antimeridian (as the README asks: Fiji, Chukotka, the Aleutians) meet along it, at
# longitude 180 on one side and -180 on the other, and every chart above has its seam there: the pairs
# across it were never neighbours (QA88 F1: a grid over 177 to 183 degrees, cut at 180, was "in pieces",
# and a connected plan exists). A layer with shapes within ``SEAM_DEGREES`` of both sides is charted
# with its seam where it has no shape (the widest empty span of longitudes), or, when its shapes go all
# the way round, its pairs across the antimeridian are found on a second chart whose seam is at 0.
SEAM_DEGREES = 1e-6


def metric_crs(series: Any) -> Any:
    """A CRS in metres for the adjacency of a layer in geographic coordinates: its UTM zone when it spans
    at most ``UTM_MAX_SPAN`` degrees of longitude, else ``WORLD_CRS``; a layer cut at the antimeridian is
    charted around the longitudes it covers (``_around``), ``WORLD_CRS`` when it covers them all."""
    return _chart(series, series.to_crs(4326))


def _chart(series: Any, geo: Any) -> Any:
    """``metric_crs`` of ``series``, given it in EPSG:4326 (``geo``)."""
    west, _, east, _ = geo.total_bounds
    if west <= -180 + SEAM_DEGREES and east >= 180 - SEAM_DEGREES:
        return _around(geo)
    return series.estimate_utm_crs() if east - west <= UTM_MAX_SPAN else WORLD_CRS


def _around(geo: Any) -> Any:
    """The chart of a layer (in EPSG:4326) whose shapes touch both sides of the antimeridian: centred on
    the longitudes it covers, its seam in the widest span with no shape (a UTM zone when they span at
    most ``UTM_MAX_SPAN`` degrees, else a cylindrical equal-area chart); ``WORLD_CRS`` when no span is
    empty."""
    from pyproj import CRS

    bounds = np.asarray(geo.bounds)[:, [0, 2]]
    bounds = bounds[np.isfinite(bounds).all(axis=1)]
    edges = np.sort(np.concatenate([[-180.0], bounds.ravel(), [180.0]]))
    covered = np.zeros(len(edges) - 1, dtype=bool)
    middle = (edges[:-1] + edges[1:]) / 2
    for lo, hi in bounds:
        covered |= (middle > lo) & (middle < hi)
    gaps = np.where(covered, 0.0, np.diff(edges))
    if not len(gaps) or gaps.max() <= SEAM_DEGREES:
        return WORLD_CRS
    k = int(np.argmax(gaps))
    seam = float(middle[k])
    centre = (seam + 360.0) % 360.0 - 180.0  # the meridian opposite the seam
    if 360.0 - float(gaps[k]) <= UTM_MAX_SPAN:
        zone = int((centre + 180.0) // 6.0) % 60 + 1
        south = float(np.nanmean(np.asarray(geo.bounds)[:, [1, 3]])) < 0
        return CRS.from_epsg((32700 if south else 32600) + zone)
    return CRS.from_proj4(f"+proj=cea +lon_0={centre:.6f} +lat_ts=30 +datum=WGS84 +units=m +no_defs")


# of longitude: the part of a shape beside the antimeridian that meets the shapes across it
STRIP_DEGREES = 0.5


def _across_the_antimeridian(geo: Any, *, rook: bool, tolerance_m: float) -> list[tuple[int, int]]:
    """For a layer (EPSG:4326) that goes all the way round: the pairs of shapes that meet across the
    antimeridian. Each shape's strip within ``STRIP_DEGREES`` of it, the western strips moved 360 degrees
    east, charted with the seam at 0, far from them: a pair of strips from either side that meet is a pair
    of shapes that do (QA89 F1: taking whole shapes, only those lying beyond 90 degrees either way, lost
    Russia's mainland and Chukotka, and every shape wider than that)."""
    import shapely
    from shapely.geometry import box

    bounds = np.asarray(geo.bounds)
    east = np.flatnonzero(bounds[:, 2] >= 180 - SEAM_DEGREES)
    west = np.flatnonzero(bounds[:, 0] <= -180 + SEAM_DEGREES)
    if not (len(east) and len(west)):
        return []
    arr = np.asarray(geo.geometry.values, dtype=object)
    strips = np.concatenate(
        [
            shapely.intersection(arr[east], box(180 - STRIP_DEGREES, -90, 180, 90)),
            shapely.transform(
                shapely.intersection(arr[west], box(-180, -90, -180 + STRIP_DEGREES, 90)),
                lambda xy: xy + np.array([360.0, 0.0]),
            ),
        ]
    )
    owner = np.concatenate([east, west])
    side = np.concatenate([np.zeros(len(east), bool), np.ones(len(west), bool)])
    keep = ~shapely.is_empty(strips) & (shapely.area(strips) > 0)
    if not (keep & side).any() or not (keep & ~side).any():
        return []
    import geopandas as gpd

    chart = "+proj=cea +lon_0=180 +lat_ts=30 +datum=WGS84 +units=m +no_defs"
    charted = gpd.GeoSeries(strips[keep], crs=4326).to_crs(chart)
    local = from_geometries(list(charted), rook=rook, tolerance=tolerance_m)
    owner, side = owner[keep], side[keep]
    across = (side[local.u] != side[local.v]) & (owner[local.u] != owner[local.v])
    a, b = owner[local.u][across], owner[local.v][across]
    return sorted({(min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)})


def from_geoseries(series: Any, *, rook: bool = False, tolerance_m: float = 1.0) -> Adjacency:
    """Adjacency of a GeoSeries in any CRS: charted in metres (``metric_crs``), tolerance in metres;
    shapes that meet across the antimeridian are neighbours."""
    if series.crs is None:
        raise InputError(
            Problem("geometry", None, "geometry", "the polygons have no CRS; set one (e.g. EPSG:4326)")
        )
    if not series.crs.is_geographic:
        return from_geometries(list(series.geometry), rook=rook, tolerance=tolerance_m)
    geo = series.to_crs(4326)  # read for the chart, and for the pairs across the antimeridian
    crs = _chart(series, geo)
    adj = from_geometries(list(series.to_crs(crs).geometry), rook=rook, tolerance=tolerance_m)
    if crs != WORLD_CRS:
        return adj
    across = _across_the_antimeridian(geo, rook=rook, tolerance_m=tolerance_m)
    if not across:
        return adj
    u, v = zip(*across, strict=True)
    return Adjacency.from_edges(adj.n, [*adj.u.tolist(), *u], [*adj.v.tolist(), *v])


BRIDGE_ROWS = 256  # units of the piece being joined per distance block


def bridge_islands(adj: Adjacency, lat: np.ndarray, lon: np.ndarray) -> Adjacency:
    """Join every component to its nearest other component (the closest pair of unit points by great-circle
    distance), repeatedly, until the graph is connected. Only call when the user asked for it: the edges
    are recorded. (Distances on a plane of longitude x cos(mean latitude) joined an island at 70 N to a unit
    78 km away where one at 46 km was nearest, and across the antimeridian the two farthest cells: QA88
    F2, F3.)"""
    from territory_planner.model.geo import haversine_km

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    u, v = list(adj.u.tolist()), list(adj.v.tolist())
    added: list[tuple[int, int]] = list(adj.bridged)
    # the pieces' labels, merged in place as edges are added: the graph's components are not counted again
    # per join (QA89 F3: 2,000 one-unit islands among 40,000 units took 58 s, nearly all of it there)
    labels = adj.components()
    while adj.n:
        counts = np.bincount(labels, minlength=adj.n)
        alive = counts[counts > 0]
        if len(alive) <= 1:
            break
        # the smallest piece first; of pieces as small, the one with the lowest unit (as when the
        # components were numbered by their first unit)
        small = int(labels[int(np.argmax(counts[labels] == alive.min()))])
        inside = np.flatnonzero(labels == small)
        outside = np.flatnonzero(labels != small)
        best, a, b = np.inf, 0, 0
        for s in range(0, len(inside), BRIDGE_ROWS):  # a few rows at a time: two halves of a large map
            d = haversine_km(
                lat[inside[s : s + BRIDGE_ROWS]], lon[inside[s : s + BRIDGE_ROWS]], lat[outside], lon[outside]
            )
            i, j = np.unravel_index(int(np.argmin(d)), d.shape)
            if d[i, j] < best:
                best, a, b = float(d[i, j]), s + int(i), int(j)
        e = (int(min(inside[a], outside[b])), int(max(inside[a], outside[b])))
        u.append(e[0])
        v.append(e[1])
        added.append(e)
        labels[labels == labels[outside[b]]] = small
    cur = adj if len(added) == len(adj.bridged) else Adjacency.from_edges(adj.n, u, v)
    return Adjacency(cur.n, cur.u, cur.v, tuple(added))


RESPELT_SUMMARY = 10  # this many unknown ids, each a unit's id respelt, and nothing else: one problem


def read_edge_list(path: Path, ids: Sequence[str]) -> Adjacency:
    """A CSV of undirected edges between unit ids (header ``u,v``, or two unnamed columns).

    Every id that is not a known unit is reported (file, row, column) in one ``InputError``."""
    index = {str(k): i for i, k in enumerate(ids)}
    problems: list[Problem] = []
    u: list[int] = []
    v: list[int] = []
    sheet = None
    if Path(path).suffix.lower() in EXCEL_EXTENSIONS:  # the sheet "adjacency", else the first one
        frame, sheet = read_sheet(Path(path), "adjacency")
        rows = [list(frame.columns), *frame.to_numpy(dtype=str).tolist()]
    else:  # as every CSV is read: a byte-order mark, any line ends, Excel's sep= line, ';' or a tab
        from territory_planner.io.readers import csv_text, not_utf8

        data = Path(path).read_bytes()
        try:
            text, sep = csv_text(data)
        except UnicodeDecodeError as exc:
            raise InputError(not_utf8(str(path), data, exc)) from None
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    if not rows:
        raise InputError(Problem(str(path), None, None, "the edge list is empty"))
    header = [c.strip().lower() for c in rows[0]]
    names = ("u", "v")
    start = 1
    if len(header) >= 2 and not all(h in index for h in header[:2]):
        if not {"u", "v"} <= set(header):
            names = (header[0], header[1])
        cols = (header.index(names[0]), header.index(names[1]))
    else:
        cols, start = (0, 1), 0
    alike: dict[str, list[str]] | None = None
    respelt = 0  # unknown ids that are a unit's id in another spelling
    for r, row in enumerate(rows[start:], start=1):  # 1-based data row, header excluded
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(cols):
            problems.append(Problem(str(path), r, None, "expected two ids on this row"))
            continue
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            # QA60: `A,B,C` was read as the edge A-B, C dropped without a word
            problems.append(
                Problem(
                    str(path),
                    r,
                    column_letter(len(header)),
                    f"the row has {len(row)} cells but the first row names {len(header)}: one edge (u,v) per "
                    "row",
                    ",".join(row),
                )
            )
            continue
        pair = []
        for name, c in zip(names, cols, strict=True):
            key = row[c].strip()
            if not key:  # QA13 11: reported as "unknown unit id ''"
                problems.append(Problem(str(path), r, name, "the unit id is empty", key))
            elif key not in index:
                alike = alike if alike is not None else alike_ids(index)  # '01003' for 1003 (QA32 F-x)
                hint = did_you_mean(key, alike, "unit")
                text = f"unknown unit id {key!r}{hint}"
                problems.append(Problem(str(path), r, name, text, key))
                respelt += bool(hint)
            else:
                pair.append(index[key])
        if len(pair) == 2 and pair[0] == pair[1]:  # QA13 11: a unit next to itself was taken silently
            key = row[cols[0]].strip()
            text = f"an edge from {key!r} to itself: an edge joins two units"
            problems.append(Problem(str(path), r, names[1], text, key))
        elif len(pair) == 2:
            u.append(pair[0])
            v.append(pair[1])
    if respelt >= RESPELT_SUMMARY and respelt == len(problems):
        # a spreadsheet wrote every id as a number (QA33: 9,000 cells "did you mean '01001'?"): one problem
        first = problems[0]
        text = (
            f"{respelt} ids in the edge list are unit ids in another spelling (row {first.row}, "
            f"{first.column}: {first.message.removeprefix('unknown ')}); a spreadsheet that read the ids "
            "as numbers drops leading zeros and writes 1001.0: write the ids as text, as the units have them"
        )
        problems = [Problem(str(path), None, None, text)]
    if problems:  # a workbook's rows are renumbered as Excel shows them when the sheet has a header
        raise InputError(relocate(problems, [sheet]) if start == 1 else problems)
    return Adjacency.from_edges(len(index), u, v)
