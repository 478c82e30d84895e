"""Centres chosen by the planner (location-allocation), in the plane and through ``plan``, on a grid
whose best centres are known."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from test_geo_contiguity import planar_problem

from territory_planner import api
from territory_planner.optimize import centres
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import build_options
from territory_planner.solvers import get_backend

COLS, ROWS, CELL = 6, 3, 0.1
BEST = {(1, 1), (4, 1)}  # (column, row) of the two centres


def cells() -> list[tuple[int, int]]:
    """A 6 x 3 grid of equal cells; two reps with equal shares::

    . . . . . .
    . C . . C .      the balanced 2-median: the two 3 x 3 halves around their middle cells
    . . . . . .
    """
    return [(c, r) for r in range(ROWS) for c in range(COLS)]


def test_planar_location_allocation_finds_the_known_centres() -> None:
    problem = planar_problem(np.ones(COLS * ROWS), 2, 0.05)
    xy = np.array(cells(), dtype=float)
    points = (xy[:, 1], xy[:, 0])

    def build(cy: np.ndarray, cx: np.ndarray) -> ModelSpec:
        nan = np.full(2, np.nan)
        cost = centres.distance_cost(problem, cy, cx, points, centres.planar_distance)
        return ModelSpec.build(problem, nan, nan, cost=cost)

    cy, cx = centres.choose_centres(
        problem,
        np.ones(2, dtype=bool),
        build,
        get_backend("highs"),
        seed=0,
        threads=1,
        candidates=2,
        deadline=1e18,
        points=points,
        metric=centres.planar_distance,
    )
    assert {(int(x), int(y)) for x, y in zip(cx, cy, strict=True)} == BEST


def boxes() -> gpd.GeoDataFrame:
    geoms = [shapely.box(CELL * c, CELL * r, CELL * (c + 1), CELL * (r + 1)) for c, r in cells()]
    return gpd.GeoDataFrame(
        {"account_id": [f"c{c}_{r}" for c, r in cells()], "potential": 1.0, "workload": 1.0},
        geometry=geoms,
        crs="EPSG:4326",
    )


def chosen(out: api.PlanOutput) -> set[tuple[int, int]]:
    lat, lon = out.plan.home_lat, out.plan.home_lon
    return {(int(round(x / CELL - 0.5)), int(round(y / CELL - 0.5))) for x, y in zip(lon, lat, strict=True)}


def halves(out: api.PlanOutput) -> set[frozenset[str]]:
    groups = out.assignments.groupby("rep_id")["account_id"].apply(frozenset)
    return set(groups.tolist())


def options(a: Path, r: Path, **kw: object):  # noqa: ANN201
    """``plan --contiguous``, both reps' shares of potential within 5% (so exactly 9 cells each)."""
    values = {"accounts": a, "reps": r, "contiguous": True, "balance": "potential", "tolerance": 0.05}
    return build_options({**values, "time_limit": 20, **kw})


EXPECTED = {
    frozenset(f"c{c}_{r}" for c, r in cells() if c < 3),
    frozenset(f"c{c}_{r}" for c, r in cells() if c >= 3),
}


def test_plan_choose_centres_contiguous_polygons(tmp_path: Path) -> None:
    """Polygon accounts, reps with homes far away and ``--choose-centres --contiguous``: the homes are
    replaced by the two known centres and each half is one piece."""
    a = tmp_path / "cells.geojson"
    boxes().to_file(a, driver="GeoJSON")
    r = tmp_path / "reps.csv"
    pd.DataFrame([{"rep_id": "A", "lat": 5.0, "lon": 5.0}, {"rep_id": "B", "lat": 5.0, "lon": 6.0}]).to_csv(
        r, index=False
    )
    out = api.solve(options(a, r, choose_centres=True))
    assert chosen(out) == BEST
    assert halves(out) == EXPECTED
    assert out.summary["contiguity"]["pieces"] == {"A": 1, "B": 1}
    assert sorted(out.summary["chosen_centres"]) == ["A", "B"]  # both homes replaced
    # choosing them is a stage of its own, after the inputs and before the model (QA111 O1)
    stages = out.summary["stages"]
    assert [st["stage"] for st in stages[:3]] == ["inputs", "centres", "model"]
    assert stages[1]["outcome"] == "centres chosen for 2 rep(s) (location-allocation)"
    assert "adjacency" in stages[2]["outcome"]


def test_plan_chosen_centres_with_areas(tmp_path: Path) -> None:
    """Point accounts joined to the grid cells as areas (``--areas``), reps without a home: the same
    centres and halves, one piece each."""
    areas = boxes().rename(columns={"account_id": "area_id"})[["area_id", "geometry"]]
    ap = tmp_path / "areas.geojson"
    areas.to_file(ap, driver="GeoJSON")
    pts = pd.DataFrame(
        {
            "account_id": [f"p{c}_{r}" for c, r in cells()],
            "lat": [CELL * (r + 0.5) for _, r in cells()],
            "lon": [CELL * (c + 0.5) for c, _ in cells()],
            "potential": 1.0,
            "workload": 1.0,
        }
    )
    a = tmp_path / "points.csv"
    pts.to_csv(a, index=False)
    r = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["A", "B"]}).to_csv(r, index=False)
    out = api.solve(options(a, r, areas=ap))
    assert chosen(out) == BEST
    assert {frozenset(x.replace("p", "c") for x in g) for g in halves(out)} == EXPECTED
    assert out.summary["contiguity"]["contiguous"] is True


def test_a_chosen_centre_far_from_its_districts_homes_is_noted(tmp_path: Path) -> None:
    """Two Texas reps with homes in Houston and Dallas and a hire of district Texas without one: a centre
    in Austin is fine, one in interior Alaska (QA: the model's best place for far-flung airports) is
    noted with the distance to the nearest Texas home; nothing is moved."""
    from tests.conftest import write_instance

    accounts = [
        {"account_id": f"A{i}", "lat": 30.0 + i / 10, "lon": -97.0, "potential": 1.0} for i in range(6)
    ]
    reps = [
        {"rep_id": "HOU", "lat": 29.76, "lon": -95.37, "district": "Texas"},
        {"rep_id": "DAL", "lat": 32.78, "lon": -96.80, "district": "Texas"},
        {"rep_id": "NEW", "district": "Texas"},
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    _, problem = api.load(build_options({"accounts": a, "reps": r}))
    free = problem.missing_homes.copy()
    assert free.tolist() == [False, False, True]
    lat, lon = problem.home_lat.copy(), problem.home_lon.copy()
    lat[2], lon[2] = 30.27, -97.74  # Austin
    assert centres.far_from_district(problem, free, lat, lon) == []
    lat[2], lon[2] = 65.99, -153.70  # interior Alaska
    (note,) = centres.far_from_district(problem, free, lat, lon)
    assert "rep NEW (district Texas)" in note
    assert "nearest home of its district (DAL)" in note
    km = float(note.split(" km from")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert 4500 < km < 5500


def test_choose_centres_starts_each_rep_with_a_home_at_it_and_never_ends_worse(tmp_path: Path) -> None:
    """--choose-centres keeps the search's start at the reps' own homes (QA6: from farthest points the
    NC plan cost 947k against 807k at the homes, Raleigh's rep centred in Asheville): the homes are the
    first centres tried, and a rep without a home still gets a farthest point. The chosen centres' plan
    is then no worse than the homes' (both solved to the optimum on this small case)."""
    from tests.conftest import random_accounts, write_instance

    rng = np.random.default_rng(11)
    rows = random_accounts(rng, 60)
    reps = [
        {"rep_id": "R0", "lat": 33.0, "lon": -95.0},
        {"rep_id": "R1", "lat": 42.0, "lon": -85.0},
        {"rep_id": "R2", "lat": 36.0, "lon": -88.0},
        {"rep_id": "R3"},  # no home
    ]
    a, r = write_instance(tmp_path, rows, reps)
    base = {"accounts": a, "reps": r, "time_limit": 30, "gap": 0.0, "tolerance": 0.15}
    _, problem = api.load(build_options({**base, "choose_centres": True}))
    lat, lon = centres.initial_centres(problem, np.ones(4, dtype=bool), seed=0)
    assert lat[:3].tolist() == [33.0, 42.0, 36.0]
    assert lon[:3].tolist() == [-95.0, -85.0, -88.0]
    assert np.isfinite(lat[3])  # a farthest point for the rep without a home
    assert float(lat[3]) in problem.acc_lat.tolist()
    reps[3].update(lat=39.0, lon=-92.0)  # the same roster with a home for R3, for the comparison
    a2, r2 = write_instance(tmp_path / "homes", rows, reps)
    at_homes = api.solve(build_options({**base, "accounts": a2, "reps": r2})).summary["objective"]
    chosen = api.solve(build_options({**base, "accounts": a2, "reps": r2, "choose_centres": True}))
    assert chosen.summary["objective"] <= at_homes * (1 + 1e-6)


def test_chosen_centres_say_the_bound_is_theirs_and_a_search_cut_short_warns(tmp_path: Path) -> None:
    """QA81 F1: the sample's new hire placed after 2 of its iterations at --time-limit 20 under load, its
    plan's "lower bound" 6.9% above a plan the 60-s run found; nothing said the bound holds for the
    centre chosen or that the search was cut short. Through ``plan``: the note is in summary.json. The
    search alone: a deadline already past stops it after its first LP (unsettled: a warning naming the
    rep and the iterations); no deadline lets it settle (no warning)."""
    from tests.conftest import random_accounts, write_instance

    rows = random_accounts(np.random.default_rng(5), 40)
    reps = [{"rep_id": "R0", "lat": 33.0, "lon": -95.0}, {"rep_id": "R1", "lat": 42.0, "lon": -85.0}]
    reps.append({"rep_id": "NEW"})
    a, r = write_instance(tmp_path, rows, reps)
    opts = build_options({"accounts": a, "reps": r, "time_limit": 20, "tolerance": 0.2})
    out = api.solve(opts)
    assert out.summary["chosen_centres"] == ["NEW"]
    assert any(
        n.startswith("the lower bound and gap hold for the centres the planner chose (NEW)")
        for n in out.summary["notes"]
    )
    _, problem = api.load(opts)
    free = problem.missing_homes.copy()

    def run(deadline: float) -> centres.Search:
        search = centres.Search()
        centres.choose_centres(
            problem,
            free,
            lambda la, lo: api.build_spec(problem, opts, la, lo),
            get_backend("highs"),
            seed=0,
            threads=1,
            candidates=4,
            deadline=deadline,
            search=search,
        )
        return search

    cut = run(0.0)
    assert len(cut.lps) == 1
    assert not cut.settled
    assert not cut.capped
    notes, (warning,) = centres.search_notes(problem, free, cut)
    assert "centres the planner chose (NEW)" in notes[0]
    assert "the search for the centres of NEW stopped at its share of the time after 1 iteration," in warning
    assert "--time-limit" in warning
    full = run(1e18)
    assert full.settled
    assert len(full.lps) >= 2
    assert centres.search_notes(problem, free, full)[1] == []
    capped = centres.Search(lps=[3.0, 2.0], capped=True)
    (warning,) = centres.search_notes(problem, free, capped)[1]
    assert "stopped after its most 2 iterations" in warning
    assert "LP objective fell from 3.0 to 2.0" in warning
