"""Contiguous territories: hand-drawn instances with a known answer, and a property on random grids."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_planner import api
from territory_planner.cli import main
from territory_planner.errors import InfeasibleError, InputError
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import contiguity, contiguity_stage, home_conflicts
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import background, contiguous, contiguous_flow, contiguous_lns, repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import build_options
from territory_planner.solvers import get_backend

POT = [1.5, 1.0, 1.0, 1.0, 1.5]


def strip_instance(folder: Path) -> tuple[Path, Path]:
    """Five 0.1-degree cells in a row, potentials 1.5 1 1 1 1.5; R1's home in c2, R2's 1 degree north::

                  R2
        c0  c1  c2  c3  c4
                R1

    With +-20% on potential the cheapest plan gives R1 the middle (c1 c2 c3) and R2 the two ends: R2 in
    two pieces. Contiguous, with R1 holding c2 and R2 its nearest other cell c1, the answer is R2 = c0 c1.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cells = [shapely.box(0.1 * i, 0.0, 0.1 * (i + 1), 0.1) for i in range(5)]
    acc = gpd.GeoDataFrame(
        {"account_id": [f"c{i}" for i in range(5)], "potential": POT, "workload": 1.0},
        geometry=cells,
        crs="EPSG:4326",
    )
    a = folder / "accounts.geojson"
    acc.to_file(a, driver="GeoJSON")
    r = folder / "reps.csv"
    pd.DataFrame(
        [{"rep_id": "R1", "lat": 0.05, "lon": 0.25}, {"rep_id": "R2", "lat": 1.05, "lon": 0.24}]
    ).to_csv(r, index=False)
    return a, r


def opts(a: Path, r: Path, **kw: object):  # noqa: ANN201
    values = {
        "accounts": a,
        "reps": r,
        "time_limit": 20,
        "gap": 0.0,
        "balance": "potential",
        "tolerance": 0.2,
    }
    values.update(kw)
    return build_options(values)


def owners(out: api.PlanOutput) -> dict[str, str]:
    return dict(zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True))


def test_strip_contiguous_from_polygons(tmp_path: Path) -> None:
    a, r = strip_instance(tmp_path)
    free = api.solve(opts(a, r))
    assert sorted(k for k, v in owners(free).items() if v == "R2") == ["c0", "c4"]  # the fixture bites
    out = api.solve(opts(a, r, contiguous=True))
    assert sorted(k for k, v in owners(out).items() if v == "R2") == ["c0", "c1"]
    c = out.summary["contiguity"]
    assert c["pieces"] == {"R1": 1, "R2": 1}
    assert c["contiguous"] is True
    assert c["method"] in ("cuts", "flow")  # whichever exact member settles it first
    s = out.summary
    assert s["lower_bound"] <= s["objective"] + 1e-6
    assert s["objective"] >= free.summary["objective"] - 1e-6
    assert s["max_abs_dev_pct"]["potential"] <= 20 + 1e-6
    last = s["stages"][-1]  # the contiguity stage is in the stage log too, not only in stages_seconds
    assert last["stage"] == "contiguity"
    assert last["seconds"] == s["stages_seconds"]["contiguity"]
    assert "every territory one piece" in last["outcome"]
    json.dumps(s, default=str)


def test_strip_large_model_path_reports_lns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path ``plan --contiguous`` takes on large models (no whole-model cut loop), forced on the strip:
    the neighbourhood search mends R2 to the same contiguous answer, and summary.json says it did."""
    monkeypatch.setattr(contiguity_stage, "MAX_CUT_COLUMNS", 0)
    a, r = strip_instance(tmp_path)
    out = api.solve(opts(a, r, contiguous=True))
    assert sorted(k for k, v in owners(out).items() if v == "R2") == ["c0", "c1"]
    c = out.summary["contiguity"]
    assert c["method"] == "lns"
    assert c["pieces"] == {"R1": 1, "R2": 1}
    assert c["neighbourhoods"] >= 1
    assert out.summary["method"].endswith("+contiguity-lns")
    assert out.summary["proven_optimal"] is False
    assert out.summary["lower_bound"] <= out.summary["objective"] + 1e-6


def test_strip_contiguous_from_edge_list(tmp_path: Path) -> None:
    pts, r, e = _strip_points(tmp_path, "c0,c1\nc1,c2\nc2,c3\nc3,c4\n")
    out = api.solve(opts(pts, r, contiguous=True, adjacency=e))
    assert sorted(k for k, v in owners(out).items() if v == "R2") == ["c0", "c1"]
    assert out.summary["contiguity"]["pieces"] == {"R1": 1, "R2": 1}


def test_contiguous_needs_polygons_or_edges(tmp_path: Path) -> None:
    _, r = strip_instance(tmp_path)
    pts = tmp_path / "points.csv"
    pd.DataFrame({"account_id": ["x", "y"], "lat": 0.0, "lon": [0.0, 0.1], "potential": 1.0}).to_csv(
        pts, index=False
    )
    with pytest.raises(InputError, match="--contiguous needs polygons"):
        api.solve(opts(pts, r, contiguous=True))


def test_pieces_and_enclaves() -> None:
    """3x3 rook grid, rep 1 holds the centre cell only: an enclave inside rep 0.

    0 0 0
    0 1 0
    0 0 1     rep 1 in two pieces (centre, corner); its main piece is the lowest-numbered of equal size
    """
    g = [shapely.box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)]
    adj = adjmod.from_geometries(g, rook=True)
    plan = np.array([0, 0, 0, 0, 1, 0, 0, 0, 1])
    assert contiguity.count_pieces(adj, plan, 2).tolist() == [1, 2]
    enc = contiguity.enclaves(adj, plan)
    assert sorted((j, k, p.tolist()) for j, k, p in enc) == [(1, 0, [8])]
    queen = adjmod.from_geometries(g)
    assert contiguity.count_pieces(queen, plan, 2).tolist() == [1, 1]  # diagonal contact joins them


def planar_problem(
    amount: np.ndarray, p: int, tol: float, current_rep: list[str] | None = None
) -> TerritoryProblem:
    """Accounts "0".."n-1" with potential ``amount`` (workload 1) and reps T0..T{p-1} without homes (the
    caller gives the cost); ``current_rep``: today's rep id of each account."""
    n = len(amount)
    accounts = pd.DataFrame(
        {
            "account_id": [str(i) for i in range(n)],
            "lat": 0.0,
            "lon": 0.0,
            "workload": 1.0,
            "potential": amount,
            "current_rep": "" if current_rep is None else current_rep,
            "locked_rep": "",
            "parent_id": "",
            "segment": "",
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"T{j}" for j in range(p)],
            "name": "",
            "region": "",
            "capacity": 1.0,
            "lat": np.nan,
            "lon": np.nan,
            "segments": "",
        }
    )
    return TerritoryProblem.from_frames(accounts, reps, ("potential",), np.array([tol]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    side=st.integers(3, 5),
    p=st.integers(2, 3),
    seed=st.integers(0, 10_000),
)
def test_reported_contiguous_is_connected(side: int, p: int, seed: int) -> None:
    """Random weights on a rook grid: whatever the solver returns as 'cuts' is connected per territory,
    holds its centre, and stays within the band."""
    rng = np.random.default_rng(seed)
    n = side * side
    xy = np.array([(c, r) for r in range(side) for c in range(side)], dtype=float)
    adj = adjmod.from_geometries([shapely.box(x, y, x + 1, y + 1) for x, y in xy], rook=True)
    problem = planar_problem(rng.uniform(1, 3, n), p, 0.3)
    centre = rng.choice(n, size=p, replace=False)
    d = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    nan = np.full(p, np.nan)
    spec = ModelSpec.build(problem, nan, nan, cost=d + rng.uniform(0.0, 4.0, (n, p)))  # noisy: cuts needed
    res = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=10, gap=0.0, seed=0, threads=1
    )
    if res.unit_rep is None:  # the band may be out of reach for contiguous plans: nothing claimed
        return
    if res.method in ("cuts", "flow"):
        plan = res.unit_rep
        assert (res.pieces == 1).all()
        assert contiguity.is_contiguous(adj, plan, p)
        assert (plan[centre] == np.arange(p)).all()
        loads = np.bincount(plan, weights=problem.unit_amount[:, 0], minlength=p)
        assert (loads >= spec.lower[0] - 1e-6).all()
        assert (loads <= spec.upper[0] + 1e-6).all()
        assert res.lower_bound <= res.objective + 1e-6


def test_repair_moves_a_stray_piece_within_bands() -> None:
    """Strip c0..c4 with amounts 1 1 2 2 1; rep 0 (centre c0) holds c0 c1 c4 (3), rep 1 (centre c3) c2 c3
    (4): c4 is a stray piece of rep 0, adjacent only to rep 1. Target 3.5: at +-50% the move fits both
    bands, so repair gives c4 to rep 1; at +-20% rep 0 would fall to 2 < 2.8, so the piece stays."""
    adj = adjmod.Adjacency.from_edges(5, [0, 1, 2, 3], [1, 2, 3, 4])
    amounts = np.array([1.0, 1.0, 2.0, 2.0, 1.0])
    problem = planar_problem(amounts, 2, 0.5)
    nan = np.full(2, np.nan)
    spec = ModelSpec.build(problem, nan, nan, cost=np.zeros((5, 2)))
    plan = contiguous.repair_pieces(spec, adj, np.array([0, 0, 1, 1, 0]), np.array([0, 3]))
    assert plan.tolist() == [0, 0, 1, 1, 1]
    tight = ModelSpec.build(planar_problem(amounts, 2, 0.2), nan, nan, cost=np.zeros((5, 2)))
    kept = contiguous.repair_pieces(tight, adj, np.array([0, 0, 1, 1, 0]), np.array([0, 3]))
    assert kept.tolist() == [0, 0, 1, 1, 0]
    assert contiguity.count_pieces(adj, kept, 2).tolist() == [2, 1]


def test_lns_mends_what_the_piece_repair_cannot() -> None:
    """The strip of the repair test at +-20%: moving c4 alone would drop rep 0 below its band, so the
    neighbourhood search has to rebalance: rep 0 takes c2 and gives c4 to rep 1 (both 4 and 3 lie in
    [2.8, 4.2])::

        start   0 0 1 1 0      rep 0 in two pieces
        lns     0 0 0 1 1
    """
    adj = adjmod.Adjacency.from_edges(5, [0, 1, 2, 3], [1, 2, 3, 4])
    amounts = np.array([1.0, 1.0, 2.0, 2.0, 1.0])
    nan = np.full(2, np.nan)
    spec = ModelSpec.build(planar_problem(amounts, 2, 0.2), nan, nan, cost=np.zeros((5, 2)))
    res = contiguous.solve_contiguous(
        spec,
        adj,
        get_backend("highs"),
        centre=np.array([0, 3]),
        time_limit=10,
        gap=0.0,
        seed=0,
        threads=1,
        start_plan=np.array([0, 0, 1, 1, 0]),
        bound=1.0,
        exact=False,
    )
    assert res.method == "lns"
    assert res.unit_rep is not None
    assert res.unit_rep.tolist() == [0, 0, 0, 1, 1]
    assert res.pieces.tolist() == [1, 1]
    assert res.lower_bound == 1.0  # the bound it was given: no whole-model MIP ran
    assert not res.proven_optimal


def test_ordered_rows_grow_territories_from_their_centres() -> None:
    """The Zoltners-Sinha rows alone (no cuts) keep a territory in one piece: on the strip with costs
    that favour giving rep 1 both ends, the MIP with order rows must keep rep 1 contiguous::

        cost to rep 1:  0 9 9 0 0     (cheap: c0, c3, c4) ; rep 0 centre c1, rep 1 centre c3
    """
    adj = adjmod.Adjacency.from_edges(5, [0, 1, 2, 3], [1, 2, 3, 4])
    nan = np.full(2, np.nan)
    cost = np.array([[5.0, 0.0], [0.0, 9.0], [0.0, 9.0], [9.0, 0.0], [9.0, 0.0]])
    spec = ModelSpec.build(planar_problem(np.ones(5), 2, 0.6), nan, nan, cost=cost)
    centre = np.array([1, 3])
    spec_c = contiguous.with_centres(spec, centre)
    col_unit, col_rep = np.nonzero(spec_c.allowed)
    backend = get_backend("highs")
    free, _ = contiguous_lns.solve_mip(
        spec_c, col_unit, col_rep, [], backend, time_limit=5, gap=0.0, seed=0, threads=1
    )
    assert free is not None
    assert free.tolist() == [1, 0, 0, 1, 1]  # the fixture bites: rep 1 in two pieces
    plan, _ = contiguous_lns.solve_mip(
        spec_c, col_unit, col_rep, [], backend, time_limit=5, gap=0.0, seed=0, threads=1, order=(adj, centre)
    )
    assert plan is not None
    assert plan.tolist() == [0, 0, 0, 1, 1]


def connected(adj: adjmod.Adjacency, units: np.ndarray) -> bool:
    """Breadth-first search over the induced subgraph (independent of ``geo.contiguity``)."""
    nb = adj.neighbours()
    inside = set(units.tolist())
    seen = {int(units[0])}
    todo = [int(units[0])]
    while todo:
        u = todo.pop()
        for v in nb[u].tolist():
            if v in inside and v not in seen:
                seen.add(v)
                todo.append(v)
    return seen == inside


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    side=st.integers(4, 5),
    p=st.integers(2, 3),
    seed=st.integers(0, 10_000),
    exact=st.booleans(),
)
def test_every_territory_reported_in_one_piece_is_connected(
    side: int, p: int, seed: int, exact: bool
) -> None:
    """From a random balanced but scattered start plan, whatever the method (cuts, lns or repair): the
    reported piece count is the true one, a territory reported as one piece is connected in the
    adjacency graph, and the plan keeps every constraint of the full model."""
    rng = np.random.default_rng(seed)
    n = side * side
    xy = np.array([(c, r) for r in range(side) for c in range(side)], dtype=float)
    adj = adjmod.from_geometries([shapely.box(x, y, x + 1, y + 1) for x, y in xy], rook=True)
    problem = planar_problem(np.ones(n), p, 0.25)
    start = rng.permutation(np.arange(n) % p)  # within the band, rarely contiguous
    centre = np.array([int(np.flatnonzero(start == j)[0]) for j in range(p)])
    d = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    nan = np.full(p, np.nan)
    spec = ModelSpec.build(problem, nan, nan, cost=d + rng.uniform(0.0, 2.0, (n, p)))
    res = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=3, gap=1e-3, seed=0, threads=1,
        start_plan=start, exact=exact,
    )  # fmt: skip
    assert res.unit_rep is not None
    plan = res.unit_rep
    assert repair.feasible(spec, plan)
    for j in range(p):
        units = np.flatnonzero(plan == j)
        assert res.pieces[j] == contiguity.count_pieces(adj, plan, p)[j]
        if res.pieces[j] == 1:
            assert connected(adj, units)
    if res.method in ("cuts", "lns", "flow"):
        assert (res.pieces == 1).all()
        assert (plan[centre] == np.arange(p)).all()


def _two_islands(tmp_path: Path, potential: list[float], homes_lon: list[float]) -> list[str]:
    """``plan --contiguous`` arguments for accounts c0 - c1 and c2 - c3 on two islands (an edge list), with
    ``potential`` and reps R1, R2 at ``homes_lon``."""
    a = tmp_path / "accounts.csv"
    pd.DataFrame(
        {"account_id": ["c0", "c1", "c2", "c3"], "lat": 0.0, "lon": [0.0, 0.1, 1.0, 1.1],
         "potential": potential, "workload": 1.0}
    ).to_csv(a, index=False)  # fmt: skip
    r = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["R1", "R2"], "lat": 0.0, "lon": homes_lon}).to_csv(r, index=False)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\nc0,c1\nc2,c3\n", encoding="utf-8")
    return ["plan", "--accounts", str(a), "--reps", str(r), "--adjacency", str(e), "--contiguous"]


def test_a_plan_still_split_is_no_plan_unless_relaxed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reps on one island, two accounts on another: every plan splits a territory. The island with
    no home is a proof: exit 1, naming its accounts and --bridge-islands, nothing written. Were it not
    seen (the check switched off), the exact flow model proves it (exit 1); without that model too, the
    search's failure is no proof: exit 3 ("no connected plan found yet", never "infeasible"). With
    --relax the plan is written, status relaxed, one violation per split territory."""
    args = _two_islands(tmp_path, [1.0, 1.0, 1.0, 1.0], [0.0, 0.1])
    args += ["--tolerance", "0.5", "--time-limit", "10", "--quiet"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "proof")])
    assert res.exit_code == 1, res.output
    assert "account c2, account c3" in res.output
    assert "--bridge-islands" in res.output
    assert not (tmp_path / "proof").exists()
    monkeypatch.setattr(home_conflicts, "component_conflicts", lambda *_a, **_k: [])
    if background.available(get_backend("highs")):  # the exact flow model beside proves it too
        res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "flow")])
        assert res.exit_code == 1, res.output
        assert "HiGHS proved the exact model" in " ".join(res.output.split())
        assert not (tmp_path / "flow").exists()
    monkeypatch.setattr(contiguous_flow, "start_phased", lambda *_a, **_k: None)
    # without the flow model, the cut loop's MIP over every pair proves it (QA9 O6)
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "cuts")])
    assert res.exit_code == 1, res.output
    assert "no plan of connected territories (each holding its rep's home unit) exists" in " ".join(
        res.output.split()
    )
    # and when no stage proves anything (the cut loop's MIP stops without an answer), exit 3
    from territory_planner.solvers.base import SolveStatus

    whole_mip = contiguous_lns.solve_mip

    def no_proof(*a: Any, **k: Any) -> Any:
        plan, out = whole_mip(*a, **k)
        if plan is None and k.get("free") is None and out.status is SolveStatus.INFEASIBLE:
            out = dataclasses.replace(out, status=SolveStatus.NO_SOLUTION)
        return plan, out

    monkeypatch.setattr(contiguous_lns, "solve_mip", no_proof)
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "strict")])
    assert res.exit_code == 3, res.output
    assert "no connected plan found yet" in res.output
    # which stages used the time (QA72 F6): the contiguity stage among them, with its seconds
    stages = r"no connected plan found yet \(of \d+s: ([a-z_]+ \d+\.\ds, )*contiguity \d+\.\ds"
    assert re.search(stages, " ".join(res.output.split()))
    assert "infeasible" not in res.output.lower()
    assert not (tmp_path / "strict").exists()
    res = CliRunner().invoke(main, [*args, "--relax", "--out", str(tmp_path / "relaxed")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "relaxed" / "summary.json").read_text())
    assert s["status"] == "relaxed"
    split = [v for v in s["violations"] if v["constraint"] == "territory_contiguity"]
    assert len(split) == 1
    assert split[0]["violation"] == 1.0  # two pieces: one too many
    assert s["contiguity"]["pieces"][split[0]["rep_id"]] == 2
    # a split plan has no gap to the bound of connected plans (QA8, Texas counties with --relax: the bound
    # was cut down to the split plan's objective, and summary/report said gap 0.000%)
    assert s["gap"] is None
    assert s["lower_bound"] is None or s["lower_bound"] >= s["objective"] - 1e-6
    assert (
        "no gap: the plan is split"
        in next(st for st in s["stages"] if st["stage"] == "contiguity")["outcome"]
    )


def test_a_split_plans_bound_is_not_cut_down_to_its_objective() -> None:
    """The contiguity stage's bound holds for connected plans: a connected plan caps it, a split one (written
    only with --relax) keeps it and gets no gap."""
    assert contiguity.bound_and_gap(120.0, 100.0, connected=False)[0] == 120.0
    assert np.isnan(contiguity.bound_and_gap(120.0, 100.0, connected=False)[1])
    assert contiguity.bound_and_gap(120.0, 100.0, connected=True) == (100.0, 0.0)
    assert contiguity.bound_and_gap(90.0, 100.0, connected=True) == (90.0, pytest.approx(0.1))
    assert all(np.isnan(v) for v in contiguity.bound_and_gap(float("nan"), 100.0, connected=True))


def test_cut_loop_keeps_time_when_the_mend_uses_all_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start plan the neighbourhood search cannot mend (here: a mend that only waits out its deadline)
    must not starve the whole-model cut loop: its rounds still run, start at the loose gap, end at the
    run's gap, and their bound (valid for contiguous plans) replaces the weaker one given."""
    side, p = 5, 3
    rng = np.random.default_rng(7)
    xy = np.array([(c, r) for r in range(side) for c in range(side)], dtype=float)
    adj = adjmod.from_geometries([shapely.box(x, y, x + 1, y + 1) for x, y in xy], rook=True)
    problem = planar_problem(rng.uniform(1, 3, side * side), p, 0.3)
    centre = np.array([0, 12, 24])
    d = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    nan = np.full(p, np.nan)
    spec = ModelSpec.build(problem, nan, nan, cost=d + rng.uniform(0.0, 4.0, (side * side, p)))
    mend_deadlines: list[float] = []

    def stuck_mend(_self: contiguous_lns.Lns, plan: np.ndarray, deadline: float, **_kw: object) -> np.ndarray:
        mend_deadlines.append(deadline)
        while time.perf_counter() < deadline:
            time.sleep(0.01)
        return plan

    gaps: list[float] = []
    real_solve = contiguous_lns.solve_mip

    def recording_solve(*args: object, **kw: object):  # noqa: ANN202
        if kw.get("free") is None:  # a round of the whole-model loop, not a neighbourhood of the LNS
            gaps.append(float(kw["gap"]))  # type: ignore[arg-type]
        return real_solve(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(contiguous_lns.Lns, "mend", stuck_mend)
    monkeypatch.setattr(contiguous_lns, "solve_mip", recording_solve)
    monkeypatch.setattr(contiguous_flow, "start_phased", lambda *_a, **_k: None)  # it would settle it first
    start_plan = np.argmin(np.where(np.arange(p)[None, :] == 0, 0.0, 1.0) + d, axis=1)
    begin = time.perf_counter()
    res = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=6, gap=1e-4, seed=0, threads=1,
        start_plan=start_plan, bound=-1.0,
    )  # fmt: skip
    assert mend_deadlines
    assert mend_deadlines[0] - begin <= contiguous.MEND_SHARE * 6 + 0.1
    assert gaps, "the cut loop never ran"
    assert gaps[0] == pytest.approx(contiguous.ROUND_GAP)  # loose first ...
    assert gaps[0] > 1e-4
    assert gaps[-1] == pytest.approx(1e-4)  # ... the run's gap at the end
    assert res.lower_bound > 0.0  # a round's bound, not the -1 given
    if res.unit_rep is not None:
        assert res.lower_bound <= res.objective + 1e-6


def _strip_points(tmp_path: Path, edges: str, r2_lon: float = 0.24, r2_lat: float = 1.05) -> tuple[Path, ...]:
    pts = tmp_path / "points.csv"
    pd.DataFrame(
        {
            "account_id": [f"c{i}" for i in range(5)],
            "lat": 0.05,
            "lon": [0.05 + 0.1 * i for i in range(5)],
            "potential": POT,
        }
    ).to_csv(pts, index=False)
    r = tmp_path / "reps.csv"
    pd.DataFrame(
        [{"rep_id": "R1", "lat": 0.05, "lon": 0.25}, {"rep_id": "R2", "lat": r2_lat, "lon": r2_lon}]
    ).to_csv(r, index=False)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\n" + edges, encoding="utf-8")
    return pts, r, e


def test_an_island_without_a_home_is_proven_at_once(tmp_path: Path) -> None:
    """The strip with c4 cut off (no edge c3-c4) and the homes in c2 (R1) and c1 (R2): no connected
    territory can hold c4, a proof before any solve that names it; --bridge-islands joins c4 to c3 and
    gives a connected plan; --relax writes the least-violation plan instead of failing."""
    pts, r, e = _strip_points(tmp_path, "c0,c1\nc1,c2\nc2,c3\n")
    with pytest.raises(InfeasibleError) as exc:
        api.solve(opts(pts, r, contiguous=True, adjacency=e))
    assert {c.family for c in exc.value.conflicts} == {"contiguity"}
    (c,) = [c for c in exc.value.conflicts if "accounts" in c.extra]
    assert c.extra["accounts"] == ["c4"]
    assert "--bridge-islands" in c.message
    # and the rest, c0..c3 (4.5), is too little for the bands of R1 and R2 together (2 x 2.4)
    (rest,) = [c for c in exc.value.conflicts if c.measure == "potential"]
    assert rest.amount == pytest.approx(4.8 - 4.5)
    out = api.solve(opts(pts, r, contiguous=True, adjacency=e, bridge_islands=True))
    assert out.summary["contiguity"]["contiguous"]
    # the bridge is said, with the distance it spans, and the island is counted (QA72 F3: 563 km
    # joined without a word, "islands": 0)
    assert out.summary["contiguity"]["islands"] == 1
    assert [sorted(edge) for edge in out.summary["contiguity"]["bridged_edges"]] == [["c3", "c4"]]
    (said,) = [n for n in out.summary["notes"] if n.startswith("--bridge-islands joined 1 piece")]
    assert "c4" in said
    assert "c3" in said
    # c3 and c4 lie 0.1 degrees of longitude apart on latitude 0.05: 11.1 km
    assert "(11 km)" in said
    relaxed = api.solve(opts(pts, r, contiguous=True, adjacency=e, relax=True))
    assert relaxed.summary["status"] == "relaxed"


def test_an_island_without_a_home_is_proven_at_once_for_connected_districts(tmp_path: Path) -> None:
    """QA77 F3: under --district-contiguous an island with no rep's home (Nantucket, Staten Island) was
    "proven infeasible" by the flow model with the bands blamed ("widen --tolerance or
    --district-tolerance"), even at +-50%, and the island never named. A district is one piece holding its
    reps' homes, so no district can hold c4: the map check names it, before any solve, in `plan` and in
    `validate`; --bridge-islands joins it."""
    pts, r, e = _strip_points(tmp_path, "c0,c1\nc1,c2\nc2,c3\n")
    reps = pd.read_csv(r)
    reps["district"] = ["D1", "D2"]
    reps.to_csv(r, index=False)
    for check in (api.solve, api.validate):
        with pytest.raises(
            InfeasibleError,
            match=r"no plan of connected districts \(each holding its reps' home units\) exists: the map "
            "is in pieces",
        ):
            check(opts(pts, r, district_contiguous=True, adjacency=e, tolerance=0.5))
    with pytest.raises(InfeasibleError) as exc:
        api.solve(opts(pts, r, district_contiguous=True, adjacency=e, tolerance=0.5))
    (c,) = [c for c in exc.value.conflicts if "accounts" in c.extra]
    assert c.extra["accounts"] == ["c4"]
    assert "no district holding it can be one piece" in c.message
    assert "--bridge-islands" in c.message
    out = api.solve(opts(pts, r, district_contiguous=True, adjacency=e, tolerance=0.5, bridge_islands=True))
    assert out.summary["status"] in ("optimal", "feasible")


def test_an_island_holding_a_home_below_its_band_is_proven(tmp_path: Path) -> None:
    """R2's home is c4, cut off from the rest: R2's territory is c4 alone, potential 1.5, where its band
    (+-20% of 3) needs at least 2.4 (and R1 alone would hold c0..c3, 4.5 > 3.6). The conflict gives those
    numbers; with the edge c3-c4 there is a plan."""
    pts, r, e = _strip_points(tmp_path, "c0,c1\nc1,c2\nc2,c3\n", r2_lon=0.45, r2_lat=0.05)
    with pytest.raises(InfeasibleError) as exc:
        api.solve(opts(pts, r, contiguous=True, adjacency=e))
    (c,) = [c for c in exc.value.conflicts if "R2" in c.message]
    assert c.measure == "potential"
    assert c.amount == pytest.approx(2.4 - 1.5)
    assert "R2" in c.message
    assert "1.50" in c.message
    assert "2.40" in c.message
    e.write_text("u,v\nc0,c1\nc1,c2\nc2,c3\nc3,c4\n", encoding="utf-8")
    out = api.solve(opts(pts, r, contiguous=True, adjacency=e))
    assert out.summary["contiguity"]["contiguous"]


def test_a_home_whose_account_is_locked_elsewhere_is_anchored_and_says_so(tmp_path: Path) -> None:
    """QA9 O1: R1's home lies at A1, which is locked to R0. R1's territory cannot hold it; it is anchored
    at the nearest unit R1 may serve, and the summary's note says so instead of claiming that every
    territory holds its rep's home unit."""
    from tests.conftest import write_instance

    grid = [(35.0, -90.0), (35.0, -89.5), (35.0, -89.0), (35.5, -90.0), (35.5, -89.5), (35.5, -89.0)]
    pot = [1.5, 21.0, 13.0, 17.0, 0.0, 51.0]
    work = [0.0, 6.0, 0.0, 4.0, 0.0, 6.0]
    accounts = [
        {"account_id": f"A{i}", "lat": la, "lon": lo, "potential": pot[i], "workload": work[i],
         "locked_rep": "R0" if i == 1 else ""}
        for i, (la, lo) in enumerate(grid)
    ]  # fmt: skip
    reps = [
        {"rep_id": "R0", "lat": 35.0, "lon": -89.0, "capacity": 1.0},
        {"rep_id": "R1", "lat": 35.0, "lon": -89.5, "capacity": 1.5},
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\nA0,A1\nA0,A3\nA1,A2\nA1,A4\nA2,A5\nA3,A4\nA4,A5\n")
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--adjacency", str(e), "--contiguous"]
    res = CliRunner().invoke(main, [*args, "--tolerance", "0.8", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    owner = pd.read_csv(out / "assignments.csv").set_index("account_id")["rep_id"]
    assert owner["A1"] == "R0"  # the lock holds: R1's home unit is not R1's
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("nearest unit it may serve" in n for n in notes), notes


def test_the_first_solves_history_and_notes_say_they_are_without_contiguity(tmp_path: Path) -> None:
    """QA19 F1: with --contiguous the history listed the first solve's plans (split territories, lower
    objectives) as the run's, and its whole-model note called a plan below the final one "not better".
    Every history entry before the final one is marked as of the model without contiguity, every note
    of the first solve says so, and the final entry is the plan written."""
    from tests.conftest import write_instance

    grid = [(35.0 + 0.1 * i, -90.0 + 0.1 * j) for i in range(6) for j in range(6)]
    rng = np.random.default_rng(4)
    accounts = [
        {"account_id": f"A{k}", "lat": la, "lon": lo, "potential": float(rng.uniform(1, 9)),
         "workload": float(rng.uniform(1, 9))}
        for k, (la, lo) in enumerate(grid)
    ]  # fmt: skip
    reps = [
        {"rep_id": f"R{j}", "lat": grid[k][0], "lon": grid[k][1], "capacity": 1.0}
        for j, k in enumerate((0, 5, 30, 35))
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    edges = [(k, k + 1) for k in range(36) if k % 6 != 5] + [(k, k + 6) for k in range(30)]
    e = tmp_path / "edges.csv"
    e.write_text("u,v\n" + "".join(f"A{u},A{v}\n" for u, v in edges))
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--adjacency", str(e), "--contiguous"]
    res = CliRunner().invoke(main, [*args, "--tolerance", "0.15", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    history = summary["history"]
    assert len(history) >= 2
    assert all(h.get("model") == "without contiguity" for h in history[:-1]), history
    assert history[-1]["event"] == "final"
    assert "model" not in history[-1]
    assert history[-1]["objective"] == pytest.approx(summary["objective"])
    solver_notes = [n for n in summary["notes"] if n not in summary.get("input_warnings", [])]
    assert any(n.startswith("contiguity: every territory holds") for n in solver_notes)
    whole = [n for n in solver_notes if "whole model ran in HiGHS" in n]
    assert all(n.startswith("before contiguity: the whole model ran") for n in whole), whole
    if background.available(get_backend("highs")):  # the whole model runs beside on a second core
        assert whole


def test_a_home_unit_above_every_band_is_named_as_a_balance_problem_not_a_wall(tmp_path: Path) -> None:
    """QA19 F4: a rep's home county above every territory's potential band was reported with
    --contiguous as "a rep is walled in" (its home reaching every unit but the other homes) and the user
    told to move a home; the bands alone leave no plan, and that is what is said, as without --contiguous.
    A line A0-A5, R0's home A0 holding 10 of 15 potential: 7.5 +-10% each."""
    from tests.conftest import write_instance

    pot = [10.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    accounts = [
        {"account_id": f"A{i}", "lat": 35.0, "lon": -90.0 + 0.2 * i, "potential": pot[i], "workload": 1.0}
        for i in range(6)
    ]
    reps = [
        {"rep_id": "R0", "lat": 35.0, "lon": -90.0, "capacity": 1.0},
        {"rep_id": "R1", "lat": 35.0, "lon": -89.0, "capacity": 1.0},
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\n" + "".join(f"A{i},A{i + 1}\n" for i in range(5)))
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--adjacency", str(e), "--contiguous"]
    res = CliRunner().invoke(main, [*args, "--tolerance", "0.1", "--out", str(tmp_path / "plan")])
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "walled in" not in text
    assert "Move a home" not in text
    assert "account A0" in text
    assert "balance" in text
    assert "alone has $10 potential, more than any band" in text


def test_the_cut_loop_proves_a_tiny_map_has_no_connected_plan(tmp_path: Path) -> None:
    """QA9 O6 (found by test_properties_brute): R0's home at A0, R1's at A2; A3 hangs off A2 only and
    carries R1's workload, so R1 cannot also reach A5 (potential) past A1. Brute force: no connected plan.
    The cut loop's MIP over every pair became infeasible and the run ended with exit 3, 'when the time
    ran out', at 1.8 s of 5; that infeasibility is a proof (every cut holds for any connected plan)."""
    from tests.conftest import write_instance

    spots = [(35.0, -90.0), (35.0, -89.5), (35.0, -89.0), (35.0, -88.5), (35.5, -90.0), (35.5, -89.5)]
    pot, work = [0, 1, 0, 0, 0, 1], [0, 1, 0, 1, 0, 0]
    accounts = [
        {"account_id": f"A{i}", "lat": la, "lon": lo, "potential": pot[i], "workload": work[i]}
        for i, (la, lo) in enumerate(spots)
    ]
    reps = [{"rep_id": "R0", "lat": 35.0, "lon": -90.0}, {"rep_id": "R1", "lat": 35.0, "lon": -89.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\nA0,A1\nA0,A4\nA1,A2\nA1,A5\nA2,A3\nA4,A5\n")
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--adjacency", str(e), "--contiguous"]
    args += ["--tolerance", "0.5", "--time-limit", "5", "--gap", "0", "--quiet"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "plan")])
    assert res.exit_code == 1, res.output
    assert "no plan of connected territories (each holding its rep's home unit) exists" in " ".join(
        res.output.split()
    )
    assert not (tmp_path / "plan").exists()


def test_a_plan_before_the_stage_below_its_bound_is_explained() -> None:
    """QA12 N7: the notes called the whole model's plan (187,664.4) better, and the relaxed plan's bound
    was 188,289.2: a plan made before a contiguity stage may lie below that stage's bound, and says why."""
    (note,) = contiguity.below_bound("contiguity", 187_664.4, 188_289.2, "splits a territory")
    assert "(187,664.4) lies below its lower bound (188,289.2)" in note
    assert "splits a territory" in note
    assert contiguity.below_bound("contiguity", 188_289.2, 188_289.2, "x") == []  # at the bound: nothing
    assert contiguity.below_bound("contiguity", 190_000.0, 188_289.2, "x") == []
    assert contiguity.below_bound("contiguity", None, 188_289.2, "x") == []
    assert contiguity.below_bound("contiguity", 1.0, float("nan"), "x") == []


def test_a_small_models_contiguity_stage_aims_at_a_proven_optimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--gap's help: a model of at most SMALL_PAIRS pairs goes on to a proven optimum whatever --gap says;
    the contiguity stage was handed --gap itself (QA30 F1: 51 African countries x 6 reps stopped at a
    0.097% gap, "feasible", with half its time left)."""

    a, r = strip_instance(tmp_path)
    seen: list[float] = []
    real = contiguity_stage.make_contiguous

    def spy(*args: object, **kw: object):  # noqa: ANN202
        seen.append(float(kw["gap"]))  # type: ignore[arg-type]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(contiguity_stage, "make_contiguous", spy)
    out = api.solve(opts(a, r, contiguous=True, gap=0.05))
    assert seen == [pytest.approx(1e-4)]
    assert out.summary["status"] == "optimal"


def test_a_contiguity_proof_gives_the_bands_its_least_connected_plan_breaks(tmp_path: Path) -> None:
    """QA66 F5: a contiguity proof (exit 1) named no rep, measure or amount, where SPEC asks for numbers.
    A 2 x 4 grid, homes at opposite corners, potential and workload drawn so that a plan within +-10%
    exists but no connected one: the proof's rows give the bands the connected plan of least violation
    breaks, with their reps, measures and amounts, and that violation equals brute force's least::

        g00 g01 g02 g03        R1 at g00
        g10 g11 g12 g13        R2 at g13
    """
    import itertools

    if not background.available(get_backend("highs")):
        pytest.skip("the flow model needs HiGHS")
    ids = [f"g{r}{c}" for r in range(2) for c in range(4)]
    pot, wl = [2, 1, 1, 3, 2, 1, 3, 1], [1, 2, 1, 2, 3, 1, 2, 2]
    lat = [0.0 if i[1] == "0" else -0.1 for i in ids]
    lon = [0.1 * int(i[2]) for i in ids]
    a = tmp_path / "accounts.csv"
    pd.DataFrame({"account_id": ids, "lat": lat, "lon": lon, "potential": pot, "workload": wl}).to_csv(
        a, index=False
    )
    r = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["R1", "R2"], "lat": [0.0, -0.1], "lon": [0.0, 0.3]}).to_csv(r, index=False)
    pairs = [(f"g{k}{c}", f"g{k}{c + 1}") for k in range(2) for c in range(3)]
    pairs += [(f"g0{c}", f"g1{c}") for c in range(4)]
    e = tmp_path / "edges.csv"
    e.write_text("u,v\n" + "".join(f"{u},{v}\n" for u, v in pairs), encoding="utf-8")
    with pytest.raises(InfeasibleError) as err:
        api.solve(opts(a, r, adjacency=e, contiguous=True, tolerance=0.1, balance="potential,workload"))
    rows = [c for c in err.value.conflicts if c.family == "balance"]
    assert rows, [c.message for c in err.value.conflicts]
    assert all(c.rep_id in ("R1", "R2") and c.measure in ("potential", "workload") for c in rows)
    assert all("the connected plan that breaks the bands least" in c.message for c in rows)

    # brute force: the least violation (in targets) of the plans whose two territories are connected
    neighbours = {u: set() for u in range(8)}
    for u, v in pairs:
        neighbours[ids.index(u)].add(ids.index(v))
        neighbours[ids.index(v)].add(ids.index(u))

    def connected(units: list[int]) -> bool:
        seen, todo = {units[0]}, [units[0]]
        while todo:
            for n in neighbours[todo.pop()] & set(units) - seen:
                seen.add(n)
                todo.append(n)
        return len(seen) == len(units)

    def violation(plan: tuple[int, ...]) -> float:
        out = 0.0
        for values in (pot, wl):
            target = sum(values) / 2
            for j in (0, 1):
                load = sum(v for v, k in zip(values, plan, strict=True) if k == j)
                out += max(0.9 * target - load, load - 1.1 * target, 0.0) / target
        return out

    least = min(
        violation(plan)
        for plan in itertools.product((0, 1), repeat=8)
        if plan[0] == 0
        and plan[7] == 1
        and all(connected([u for u in range(8) if plan[u] == j]) for j in (0, 1))
    )
    assert least > 0
    targets = {"potential": sum(pot) / 2, "workload": sum(wl) / 2}
    told = sum(float(c.amount or 0.0) / targets[str(c.measure)] for c in rows)
    assert told == pytest.approx(least, abs=1e-6)


def test_a_home_in_no_polygon_is_named_with_the_unit_its_territory_holds(tmp_path: Path) -> None:
    """QA72 F4: a home 214 km outside Iowa's counties was anchored to the county nearest it without a
    word, and the county its territory had to hold was named nowhere. Four squares in a row, R1's home in
    the first, R2's 1 degree east of the last: the note names R2 and the last square, with the distance."""
    from shapely.geometry import box

    squares = gpd.GeoDataFrame(
        {"account_id": [f"s{i}" for i in range(4)], "potential": [1.0, 1.0, 1.0, 1.0]},
        geometry=[box(0.1 * i, 0.0, 0.1 * (i + 1), 0.1) for i in range(4)],
        crs="EPSG:4326",
    )
    a = tmp_path / "squares.geojson"
    squares.to_file(a, driver="GeoJSON")
    r = tmp_path / "reps.csv"
    homes = [{"rep_id": "R1", "lat": 0.05, "lon": 0.05}, {"rep_id": "R2", "lat": 0.05, "lon": 1.35}]
    pd.DataFrame(homes).to_csv(r, index=False)
    out = api.solve(opts(a, r, contiguous=True))
    (said,) = [n for n in out.summary["notes"] if "lie in no polygon" in n]
    assert "1 home(s)" in said
    assert "R2's to" in said
    assert "s3" in said
    assert "R1" not in said
    # from (0.05, 1.35) to s3's point (0.05, 0.35): 1 degree of longitude on the equator, 111 km
    assert "(111 km from the home)" in said


def test_a_piece_below_its_one_reps_band_is_said_in_the_singular_and_in_money(tmp_path: Path) -> None:
    """QA92 F5: "holds the homes of R08, whose territories must lie inside it: its potential is 7,101.95,
    their bands together need ..." of one rep, beside a conflict table writing "$20,816"."""
    args = _two_islands(tmp_path, [1000.0, 1000.0, 9000.0, 9000.0], [0.0, 1.0])
    args += ["--balance", "potential", "--tolerance", "0.1", "--currency", "€", "--time-limit", "10"]
    res = CliRunner().invoke(main, [*args, "--quiet", "--out", str(tmp_path / "proof")])
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.replace("\u2502", " ").split())  # the conflict table's cells, unwrapped
    assert "holds the home of R1, whose territory must lie inside it: its potential is €2,000.00" in said
    assert "its band needs at least €9,000.00" in said
