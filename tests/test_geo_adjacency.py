"""Adjacency from hand-drawn grids (queen vs rook, a hole, two islands) and from edge-list files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from territory_planner.errors import InputError, Problem
from territory_planner.geo import adjacency as adjmod


def grid(cols: int, rows: int, skip: tuple[tuple[int, int], ...] = (), dx: float = 0.0) -> list:
    """Unit boxes, row by row; ``skip`` leaves holes, ``dx`` shifts every box right."""
    return [
        shapely.box(dx + c, r, dx + c + 1, r + 1)
        for r in range(rows)
        for c in range(cols)
        if (c, r) not in skip
    ]


def edges(adj: adjmod.Adjacency) -> set[tuple[int, int]]:
    return set(zip(adj.u.tolist(), adj.v.tolist(), strict=True))


def test_queen_vs_rook_on_2x2() -> None:
    """
    2 3
    0 1      queen: all 6 pairs touch; rook: only the 4 sharing an edge (not 0-3, not 1-2).
    """
    g = grid(2, 2)
    assert edges(adjmod.from_geometries(g)) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}
    assert edges(adjmod.from_geometries(g, rook=True)) == {(0, 1), (0, 2), (1, 3), (2, 3)}
    # with a sliver tolerance, corners still do not count for rook
    assert edges(adjmod.from_geometries(g, rook=True, tolerance=0.01)) == {(0, 1), (0, 2), (1, 3), (2, 3)}


def test_a_corner_left_at_a_shallow_angle_is_not_a_rook_edge() -> None:
    """QA72 F7: two counties that meet at one point, their boundaries leaving it at a shallow angle, stay
    within the tolerance of each other for a few metres, and the strip where the grown shapes overlap
    passed for a 6-m shared border. Here B's bottom edge and A's top edge leave (0, 0) at 8.5 degrees:
    the grown shapes overlap along 13 m at 1 m tolerance. A border with a 0.5-m gap, and one whose gap
    stays within the tolerance for 100 m, are rook edges."""
    b = shapely.box(0, 0, 100, 100)
    shallow = shapely.Polygon([(0, 0), (100, -15), (100, -50), (0, -50)])  # meets B at (0, 0) only
    assert shapely.intersection(shallow, b).geom_type == "Point"
    assert edges(adjmod.from_geometries([shallow, b], tolerance=1.0)) == {(0, 1)}  # queen: a neighbour
    assert edges(adjmod.from_geometries([shallow, b], rook=True, tolerance=1.0)) == set()
    gap = shapely.box(0, -50, 100, -0.5)  # a sliver gap of 0.5 along the whole border
    assert edges(adjmod.from_geometries([gap, b], rook=True, tolerance=1.0)) == {(0, 1)}
    long = shapely.Polygon([(0, 0), (100, -1.5), (100, -50), (0, -50)])  # within 2 x 1 m for 100 m
    assert edges(adjmod.from_geometries([long, b], rook=True, tolerance=1.0)) == {(0, 1)}
    touching = shapely.box(0, -50, 100, 0)
    assert edges(adjmod.from_geometries([touching, b], rook=True, tolerance=1.0)) == {(0, 1)}
    square = shapely.box(-50, -50, 0, 0)  # a right-angled corner, as before
    assert edges(adjmod.from_geometries([square, b], rook=True, tolerance=1.0)) == set()


@pytest.mark.parametrize("length", [10.0, 40.0])
def test_a_border_drawn_with_a_gap_between_two_touching_ends_is_a_rook_edge(length: float) -> None:
    """QA75 F1: A and B share a border whose B side runs 0.5 apart between the two end points where the
    outlines meet, so the polygons meet in two points only; every point of the strip lies within half the
    border of one of them, and the corner rule dropped borders up to 50 tolerances long (a 40-m border
    at 1 m, the map then called in pieces). Points apart are a border, not a corner."""
    a = shapely.Polygon([(-100, 0), (0, 0), (0, length), (-100, length)])
    b = shapely.Polygon([(0, 0), (100, 0), (100, length), (0, length), (0.5, length - 1), (0.5, 1)])
    assert shapely.intersection(a, b).geom_type == "MultiPoint"
    assert edges(adjmod.from_geometries([a, b], rook=True, tolerance=1.0)) == {(0, 1)}


def test_3x3_counts() -> None:
    g = grid(3, 3)
    assert len(adjmod.from_geometries(g).u) == 20  # 12 edges + 8 diagonals
    assert len(adjmod.from_geometries(g, rook=True).u) == 12


def test_gap_closed_by_tolerance() -> None:
    """Two boxes 0.001 apart: neighbours only with a tolerance wider than half the gap."""
    g = [shapely.box(0, 0, 1, 1), shapely.box(1.001, 0, 2, 1)]
    assert len(adjmod.from_geometries(g).u) == 0
    assert edges(adjmod.from_geometries(g, rook=True, tolerance=0.001)) == {(0, 1)}


def test_4x4_with_a_hole() -> None:
    """
    . . . .
    . . X .      X = hole at (2, 2): the cell is missing, the ring around it stays connected.
    . . . .
    . . . .
    """
    g = grid(4, 4, skip=((2, 2),))
    rook = adjmod.from_geometries(g, rook=True)
    assert len(g) == 15
    assert len(rook.u) == 24 - 4  # the hole removes its 4 rook edges
    assert rook.islands() == []


def test_two_islands_reported_and_bridged() -> None:
    g = grid(2, 2) + grid(1, 1, dx=5.0)  # a 2x2 block and one box 3 units east
    adj = adjmod.from_geometries(g)
    islands = adj.islands()
    assert [i.tolist() for i in islands] == [[4]]
    xy = np.array([[c.centroid.x, c.centroid.y] for c in g])
    bridged = adjmod.bridge_islands(adj, xy[:, 1], xy[:, 0])  # (lat, lon): the boxes' y and x in degrees
    assert bridged.islands() == []
    assert bridged.bridged in (((1, 4),), ((3, 4),))  # the nearest box of the block (x = 1.5)


def _edge_list_problems(tmp_path: Path, text: str) -> list[Problem]:
    """The problems read_edge_list reports for an edge list over units A, B, C; each names the file."""
    f = tmp_path / "edges.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        adjmod.read_edge_list(f, ["A", "B", "C"])
    assert all(p.file == str(f) for p in exc.value.problems)
    return exc.value.problems


def test_edge_list_unknown_ids_reported(tmp_path: Path) -> None:
    problems = _edge_list_problems(tmp_path, "u,v\nA,B\nB,Z\nY,C\n")
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "v", "Z"), (3, "u", "Y")]


def test_edge_list_empty_ids_and_self_loops_reported(tmp_path: Path) -> None:
    """QA13 11: an empty id read "unknown unit id ''" and a unit next to itself was taken silently."""
    problems = _edge_list_problems(tmp_path, "u,v\nA,B\n,C\nB,B\n")
    found = [(p.row, p.column, p.message) for p in problems]
    assert found == [
        (2, "u", "the unit id is empty"),
        (3, "v", "an edge from 'B' to itself: an edge joins two units"),
    ]


def test_edge_list_ok(tmp_path: Path) -> None:
    f = tmp_path / "edges.csv"
    f.write_text("u,v\nA,B\nC,B\nA,B\n", encoding="utf-8")
    adj = adjmod.read_edge_list(f, ["A", "B", "C"])
    assert edges(adj) == {(0, 1), (1, 2)}


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffu;v\r\nA;B\r\nC;B\r\n".encode(),  # Excel's de-DE "CSV UTF-8": BOM, ';', CRLF
        b"sep=;\nu;v\nA;B\nC;B\n",  # Excel's sep= line
        b"u\tv\rA\tB\rC\tB\r",  # tabs, CR alone
    ],
    ids=["bom-semicolon-crlf", "sep-line", "tab-cr"],
)
def test_an_edge_list_is_read_as_every_csv_is(tmp_path: Path, data: bytes) -> None:
    """An --adjacency edge list was read with the csv module's defaults: a BOM glued to 'u', ';' and
    tabs not split (found by QA32's locks helper)."""
    f = tmp_path / "edges.csv"
    f.write_bytes(data)
    assert edges(adjmod.read_edge_list(f, ["A", "B", "C"])) == {(0, 1), (1, 2)}


def test_a_continent_wide_layer_is_charted_without_phantom_neighbours() -> None:
    """QA30 F5: one UTM zone for Africa, Asia and Europe folded distant shapes onto each other (Indonesia
    "touched" Somalia). Boxes like Somalia, Indonesia, a Russia spanning 200 degrees and an Africa 1
    degree west of Somalia: none touches; the same Africa reaching Somalia's edge does."""
    import geopandas as gpd

    somalia, indonesia = shapely.box(40, -2, 51, 12), shapely.box(95, -10, 141, 5)
    russia = shapely.box(-20, 35, 180, 80)
    apart = gpd.GeoSeries([somalia, indonesia, russia, shapely.box(-18, -35, 39, 34)], crs=4326)
    assert adjmod.metric_crs(apart) == adjmod.WORLD_CRS
    assert edges(adjmod.from_geoseries(apart)) == set()
    touching = gpd.GeoSeries([somalia, indonesia, russia, shapely.box(-18, -35, 40, 34)], crs=4326)
    assert edges(adjmod.from_geoseries(touching)) == {(0, 3)}
    # a layer of one region keeps its UTM zone (metres true to within a fraction of a percent)
    local = gpd.GeoSeries(grid(3, 2, dx=-84.0), crs=4326)
    assert str(adjmod.metric_crs(local)) == str(local.estimate_utm_crs())


@pytest.mark.parametrize(
    ("ids", "written", "meant"),
    [(["1003", "1025", "1053"], "01003", "1003"), (["01003", "01025", "01053"], "1003", "01003")],
)
def test_edge_list_id_without_or_with_leading_zeros_gets_a_hint(
    tmp_path: Path, ids: list[str], written: str, meant: str
) -> None:
    """QA32 F-x: units read as numbers (a GeoJSON's integer FIPS 1003) and edges as text ("01003"), or
    the reverse, read "unknown unit id '01003'" with no word of the unit it names."""
    f = tmp_path / "edges.csv"
    f.write_text(f"u,v\n{ids[1]},{ids[2]}\n{written},{ids[1]}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        adjmod.read_edge_list(f, ids)
    assert [(p.row, p.column, p.message) for p in exc.value.problems] == [
        (2, "u", f"unknown unit id {written!r} (did you mean {meant!r}? unit ids are matched exactly)")
    ]


def test_an_edge_list_whose_ids_all_lost_their_zeros_is_one_problem(tmp_path: Path) -> None:
    """QA33: a spreadsheet that read every FIPS code as a number gave one problem per cell ("unknown unit
    id '1001' (did you mean '01001'?)" thousands of times); it is one problem that says so. An unknown id
    that is no unit's id in any spelling keeps the cell-by-cell report."""
    ids = [f"0{1001 + k}" for k in range(12)]
    f = tmp_path / "edges.csv"
    f.write_text("u,v\n" + "".join(f"{1001 + k},{1002 + k}\n" for k in range(11)), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        adjmod.read_edge_list(f, ids)
    ((problem,),) = [exc.value.problems]
    assert problem.row is None
    assert problem.message.startswith("22 ids in the edge list are unit ids in another spelling (row 1, u:")
    assert "did you mean '01001'?" in problem.message
    f.write_text(f.read_text() + "9999,01001\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        adjmod.read_edge_list(f, ids)
    assert len(exc.value.problems) == 23


def test_an_edge_list_row_with_a_cell_too_many_is_reported(tmp_path: Path) -> None:
    """QA60: `A,B,C` was read as the edge A-B and C dropped without a word; a trailing blank cell is
    accepted, and a header naming a third column (a weight) keeps its rows."""
    problems = _edge_list_problems(tmp_path, "u,v\nA,B\nA,B,C\nB,C,\n")
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "C", "A,B,C")]
    f = tmp_path / "weighted.csv"
    f.write_text("u,v,weight\nA,B,1\nB,C,2\n", encoding="utf-8")
    assert len(adjmod.read_edge_list(f, ["A", "B", "C"]).u) == 2


def _cells(west: float, east: float, step: float, south: float = -17.0) -> list:  # type: ignore[type-arg]
    """A row of square cells of ``step`` degrees from ``west`` to ``east`` (longitudes past 180 written as
    -180 and beyond, each cell cut at the antimeridian as the README asks)."""
    from shapely.geometry import box

    out = []
    for k in range(round((east - west) / step)):
        lo, hi = west + k * step, west + (k + 1) * step
        if lo >= 180:
            lo, hi = lo - 360, hi - 360
        out.append(box(lo, south, hi, south + step))
    return out


@pytest.mark.parametrize("rook", [False, True])
def test_cells_meeting_at_the_antimeridian_are_neighbours(rook: bool) -> None:
    """QA88 F1: a grid over 177 to 183 degrees, cut at 180, had no pair across it: "the map is in pieces",
    proven, where a connected plan exists."""
    import geopandas as gpd

    row = gpd.GeoSeries(_cells(177.0, 183.0, 0.5), crs=4326)  # 12 cells, a chain across 180
    adj = adjmod.from_geoseries(row, rook=rook)
    assert adj.islands() == []
    assert len(adj.u) == 11
    assert (5, 6) in set(zip(adj.u.tolist(), adj.v.tolist(), strict=True))  # 179.5-180 and -180--179.5


@pytest.mark.parametrize("rook", [False, True])
def test_a_ring_of_cells_round_the_world_is_one_ring(rook: bool) -> None:
    """Shapes all the way round (no empty span for the chart's seam): the pairs across the antimeridian
    are found on a second chart, and none is made up elsewhere."""
    import geopandas as gpd

    ring = gpd.GeoSeries(_cells(-180.0, 180.0, 10.0, south=0.0), crs=4326)
    adj = adjmod.from_geoseries(ring, rook=rook)
    edges = set(zip(adj.u.tolist(), adj.v.tolist(), strict=True))
    assert edges == {(k, k + 1) for k in range(35)} | {(0, 35)}


def test_an_island_is_joined_to_the_unit_nearest_it_on_the_globe() -> None:
    """QA88 F3: longitudes scaled by the cosine of the map's mean latitude (35 N, cells near the equator
    beside an island at 70 N) joined the island to a unit 78 km away, where one 46 km away was nearest;
    F2: across the antimeridian, to the farthest cell."""
    # units: 0 the island (70 N, 20 E); 1 at 70 N 21.2 E (46 km); 2 at 70.7 N 20 E (78 km); 3, 4 at the
    # equator, all but the island in one piece
    lat = np.array([70.0, 70.0, 70.7, 0.0, 0.0])
    lon = np.array([20.0, 21.2, 20.0, 20.0, 21.0])
    adj = adjmod.Adjacency.from_edges(5, [1, 2, 3], [2, 3, 4])
    assert adjmod.bridge_islands(adj, lat, lon).bridged == ((0, 1),)
    # 0 at 179.9 E, alone; 1 at 179.9 W (21 km across 180) and 2 at 178 E (204 km), one piece
    lat, lon = np.array([-17.0, -17.0, -17.0]), np.array([179.9, -179.9, 178.0])
    adj = adjmod.Adjacency.from_edges(3, [1], [2])
    assert adjmod.bridge_islands(adj, lat, lon).bridged == ((0, 1),)


@pytest.mark.parametrize("rook", [False, True])
def test_wide_shapes_and_multipolygons_meeting_at_the_antimeridian_are_neighbours(rook: bool) -> None:
    """QA89 F1: a layer going all the way round found its pairs across 180 among shapes lying wholly beyond
    90 degrees either way: three boxes round the world (AMER -180 to -30, EMEA, APAC 60 to 180) had no
    AMER-APAC pair, and a MultiPolygon with parts either side of 180 none with its neighbour."""
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, box

    world = gpd.GeoSeries([box(-180, -50, -30, 70), box(-30, -50, 60, 70), box(60, -50, 180, 70)], crs=4326)
    adj = adjmod.from_geoseries(world, rook=rook)
    assert set(zip(adj.u.tolist(), adj.v.tolist(), strict=True)) == {(0, 1), (1, 2), (0, 2)}
    multi = gpd.GeoSeries(
        [
            MultiPolygon([box(179, 1, 180, 2), box(-180, 5, -179, 6)]),
            box(-180, 1, -179, 2),
            box(10, 1, 11, 2),
        ],
        crs=4326,
    )
    adj = adjmod.from_geoseries(multi, rook=rook)
    assert set(zip(adj.u.tolist(), adj.v.tolist(), strict=True)) == {(0, 1)}


def _bridged_by_recounting(adj: adjmod.Adjacency, lat: np.ndarray, lon: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """The joins as the components counted again after each one give them (the rule: the smallest piece
    first, of pieces as small the one numbered first, to its nearest unit of any other piece)."""
    from territory_planner.model.geo import haversine_km

    u, v, added = list(adj.u.tolist()), list(adj.v.tolist()), []
    cur = adj
    while True:
        labels = cur.components()
        if labels.max() == 0:
            return tuple(added)
        small = int(np.argmin(np.bincount(labels)))
        inside, outside = np.flatnonzero(labels == small), np.flatnonzero(labels != small)
        d = haversine_km(lat[inside], lon[inside], lat[outside], lon[outside])
        a, b = np.unravel_index(int(np.argmin(d)), d.shape)
        e = (int(min(inside[a], outside[b])), int(max(inside[a], outside[b])))
        u.append(e[0])
        v.append(e[1])
        added.append(e)
        cur = adjmod.Adjacency.from_edges(cur.n, u, v)


def test_pieces_merged_in_place_join_as_the_components_counted_again_do() -> None:
    """QA89 F3: 2,000 one-unit islands among 40,000 units took 58 s, nearly all of it counting the graph's
    components again after each join; the pieces are now merged in place, with the same joins."""
    rng = np.random.default_rng(5)
    for trial in range(120):
        n = int(rng.integers(2, 40))
        lat, lon = rng.uniform(-60, 70, n), rng.uniform(-180, 180, n)
        if trial % 3 == 0:  # ties of distance and of piece size
            lat, lon = np.round(lat / 20) * 20, np.round(lon / 40) * 40
        u, v = rng.integers(0, n, n // 2), rng.integers(0, n, n // 2)
        adj = adjmod.Adjacency.from_edges(n, u[u != v], v[u != v])
        bridged = adjmod.bridge_islands(adj, lat, lon)
        assert bridged.bridged == _bridged_by_recounting(adj, lat, lon)
        assert bridged.islands() == []


def _load_polygons(folder: Path, ids: list[str], shapes: list, homes: str) -> tuple[Path, object]:  # type: ignore[type-arg]
    """Polygon accounts (potential and workload 1 each) and two reps (``homes``: their csv rows), loaded."""
    import geopandas as gpd

    from territory_planner import api
    from tests.conftest import options_for

    ones = [1.0] * len(ids)
    accounts = gpd.GeoDataFrame(
        {"account_id": ids, "potential": ones, "workload": ones}, geometry=shapes, crs=4326
    )
    a = folder / "accounts.geojson"
    accounts.to_file(a, driver="GeoJSON")
    r = folder / "reps.csv"
    r.write_text(f"rep_id,lat,lon\n{homes}\n", encoding="utf-8")
    inputs, _ = api.load(options_for(a, r, tolerance=0.5))
    return a, inputs


def test_accounts_with_the_same_polygon_are_named(tmp_path: Path) -> None:
    """QA88 F5: Orange County twice under two ids passed `validate` without a word (its potential and
    workload count twice). The same shape drawn from another vertex is the same polygon."""
    from shapely.geometry import Polygon, box

    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    shapes = [Polygon(square), box(1, 0, 2, 1), Polygon(square[2:] + square[:2]), box(2, 0, 3, 1)]
    a, inputs = _load_polygons(tmp_path, ["A", "B", "A_AGAIN", "C"], shapes, "R1,0.5,0.5\nR2,0.5,2.5")
    said = [w for w in inputs.warnings if "the same polygon" in w]
    assert said == [f"{a} rows 1, 3: accounts A, A_AGAIN have the same polygon: the same area entered twice? "
                    "Each counts its own potential and workload"]  # fmt: skip
    assert not [w for w in inputs.warnings if "overlap" in w]  # said once, as the same polygon


def test_account_polygons_drawn_over_each_other_are_named(tmp_path: Path) -> None:
    """us-atlas's 10m Fairfax County covers 78.9% of Falls Church, an independent city that should be a
    hole in it: the map drew one over the other without a word. Polygons that only touch are not named."""
    from shapely.geometry import box

    shapes = [box(0, 0, 2, 2), box(0.5, 0.5, 1.0, 1.5), box(2, 0, 3, 1), box(3, 0, 4, 1)]
    a, inputs = _load_polygons(tmp_path, ["COUNTY", "CITY", "B", "C"], shapes, "R1,0.5,0.2\nR2,0.5,3.5")
    said = [w for w in inputs.warnings if "overlap" in w]
    assert said == [f"{a}: the polygons of accounts COUNTY (row 1) and CITY (row 2) overlap (100.0% of the "
                    "smaller one): the map draws one over the other and they count as neighbours; check the "
                    "polygons"]  # fmt: skip


def test_an_account_polygon_drawn_over_many_is_said_once(tmp_path: Path) -> None:
    """QA95 F2: one line per pair flooded the console when one polygon covers many: said once."""
    from shapely.geometry import box

    shapes = [box(0, 0, 3, 1), box(0.2, 0.2, 0.8, 0.8), box(1.2, 0.2, 1.8, 0.8), box(2.2, 0.2, 2.8, 0.8)]
    a, inputs = _load_polygons(tmp_path, ["BIG", "S1", "S2", "S3"], shapes, "R1,0.5,0.5\nR2,0.5,2.5")
    said = [w for w in inputs.warnings if "overlap" in w]
    assert said == [f"{a}: the polygon of account BIG (row 1) overlaps those of 3 accounts (S1 (row 2), "
                    "S2 (row 3), S3 (row 4)): the map draws one over the other and they count as neighbours; "
                    "check the polygons"]  # fmt: skip
