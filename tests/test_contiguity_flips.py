"""The contiguity stage's flip search (``contiguous.flip_plan``, method "flips"): a connected plan from
territories that are one piece from the start, for maps where mending the compact plan leaves them split
(QA10 O1: 761 Brazilian cities x 16 reps at +-8%, exit 3 at 60 s and 180 s before).

The map: a 10 x 10 grid of accounts; potential crowds into a metro near one corner while workload spreads
evenly, so each territory needs a share of the metro and a share of the hinterland."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from territory_planner import api
from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import contiguous, flip_search, parts, repair
from territory_planner.solvers import get_backend
from tests.conftest import options_for, write_instance

W = H = 10
HOMES = [(0, 0), (9, 0), (0, 9), (9, 9), (5, 2)]  # (x, y) cells of the five reps' homes


def _instance(tmp_path: Path, districts: bool = False) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    accounts = []
    for y in range(H):
        for x in range(W):
            metro = np.exp(-((x - 2) ** 2 + (y - 7) ** 2) / 4.0)
            accounts.append(
                {
                    "account_id": f"A{x}_{y}",
                    "lat": 35.0 + 0.1 * y,
                    "lon": -90.0 + 0.1 * x,
                    "potential": round(5.0 + 400.0 * metro, 1),
                    "workload": round(float(rng.uniform(4.0, 6.0)), 2),
                }
            )
    reps = [
        {"rep_id": f"R{j}", "lat": 35.0 + 0.1 * y, "lon": -90.0 + 0.1 * x}
        | ({"district": "West" if x < 5 else "East"} if districts else {})
        for j, (x, y) in enumerate(HOMES)
    ]
    return write_instance(tmp_path, accounts, reps)


def _model(tmp_path: Path, districts: bool = False, tolerance: float = 0.10, **kw: object):  # type: ignore[no-untyped-def]
    a, r = _instance(tmp_path, districts)
    opts = options_for(a, r, tolerance=tolerance, **kw)
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    ids = {a: i for i, a in enumerate(problem.account_ids)}
    u, v = [], []
    for y in range(H):
        for x in range(W):
            if x + 1 < W:
                u.append(ids[f"A{x}_{y}"])
                v.append(ids[f"A{x + 1}_{y}"])
            if y + 1 < H:
                u.append(ids[f"A{x}_{y}"])
                v.append(ids[f"A{x}_{y + 1}"])
    adj = Adjacency.from_edges(problem.n_units, u, v)
    centre = np.array([ids[f"A{x}_{y}"] for x, y in HOMES])
    return spec, adj, centre


def _connected_and_feasible(spec, adj, centre, plan) -> None:  # type: ignore[no-untyped-def]
    assert plan is not None
    assert (contiguity.count_pieces(adj, plan, spec.problem.n_reps) == 1).all()
    assert (plan[centre] == np.arange(len(centre))).all()  # every territory holds its home
    assert repair.feasible(spec, plan)


def test_the_compact_plan_is_split_and_the_flips_connect_it(tmp_path: Path) -> None:
    """The instance is one the stage is for: the plan of least travel within the bands (no contiguity)
    splits a territory. The flip search returns a plan with every territory one piece, holding its home,
    within every band."""
    spec, adj, centre = _model(tmp_path)
    spec_c = contiguous.with_centres(spec, centre)
    out = api.solve(options_for(*_instance(tmp_path / "plain"), tolerance=0.10, time_limit=20))
    rep_of = dict(zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True))
    unit_rep = np.array([int(rep_of[a][1:]) for a in spec.problem.account_ids])
    assert (contiguity.count_pieces(adj, unit_rep, spec.problem.n_reps) > 1).any()
    plan = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 20.0, seed=0)
    _connected_and_feasible(spec_c, adj, centre, plan)


def test_the_flips_keep_the_district_bands(tmp_path: Path) -> None:
    """Reps in two districts with a +-4% district band: the flip search balances the districts' sums as
    one level of groups (not required to be one piece), and its plan meets the district rows."""
    spec, adj, centre = _model(tmp_path, districts=True, district_tolerance=0.04)
    assert spec.groups is not None
    spec_c = contiguous.with_centres(spec, centre)
    groups = contiguous._band_groups(spec_c, spec.problem.unit_amount.shape[1])
    assert groups is not None
    assert not groups.whole
    assert groups.of.tolist() == [0, 1, 0, 1, 1]  # West: R0, R2; East: R1, R3, R4 (x = 5)
    plan = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 20.0, seed=0)
    _connected_and_feasible(spec_c, adj, centre, plan)
    load = spec.problem.unit_amount.T @ (plan[:, None] == np.arange(5)[None, :])  # (M, p)
    for g, members in enumerate(([0, 2], [1, 3, 4])):
        total = load[:, members].sum(axis=1)
        assert (total >= spec.groups.lower[:, g] - 1e-6).all()
        assert (total <= spec.groups.upper[:, g] + 1e-6).all()


def test_the_stage_makes_the_plan_when_there_is_none_to_mend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a plan to mend (and no cut loop: ``exact=False``), the first connected plan comes from the
    flip search and the LNS polishes it: method "flips+lns", every territory one piece, every row held,
    the polish no worse than the flips' plan."""
    spec, adj, centre = _model(tmp_path)
    made: list[np.ndarray] = []  # the stage's own flip plan (a search of its own would have other time)
    flip_plan = contiguous.flip_plan

    def recorded(*args: Any, **kw: Any) -> np.ndarray | None:
        plan = flip_plan(*args, **kw)
        if plan is not None:
            made.append(plan.copy())
        return plan

    monkeypatch.setattr(contiguous, "flip_plan", recorded)
    out = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=10.0, gap=1e-4, seed=0, threads=1,
        exact=False,
    )  # fmt: skip
    assert out.method == "flips+lns"
    _connected_and_feasible(contiguous.with_centres(spec, centre), adj, centre, out.unit_rep)
    assert out.objective is not None
    assert made
    flips = made[0]
    assert out.objective <= float(spec.objective[np.arange(len(flips)), flips].sum()) + 1e-6


def test_sectors_run_from_the_centre_of_the_first_measure() -> None:
    """``parts.sector_start`` on a ring of 12 units around a heavy hub (unit 12, joined to every ring
    unit): each ring unit goes to the part whose fixed unit is nearest in angle, the hub to its own
    fixed part, and every part is one piece."""
    n = 13
    ang = np.arange(12) * (2 * np.pi / 12)
    x, y = np.append(np.cos(ang), 0.0), np.append(np.sin(ang), 0.0)
    u = np.concatenate([np.arange(12), np.arange(12)])
    v = np.concatenate([(np.arange(12) + 1) % 12, np.full(12, 12)])  # the ring, and spokes to the hub
    g = Adjacency.from_edges(n, u, v).csr()
    amount = np.column_stack([np.append(np.ones(12), 100.0), np.ones(n)])
    fixed = np.full(n, -1)
    fixed[[0, 4, 8]] = [0, 1, 2]
    k = 3
    pp = parts.PartProblem(g, amount, np.full((2, k), -np.inf), np.full((2, k), np.inf),
                           np.full((2, k), np.nan), np.zeros((n, k)), fixed)  # fmt: skip
    start = parts.sector_start(pp, x, y)
    assert start is not None
    # ring units at 30-degree steps, fixed at 0, 120 and 240 degrees: units 1 and 11 (30 degrees from
    # unit 0) go to part 0, 3 and 5 to part 1, 7 and 9 to part 2; 2, 6 and 10 lie halfway (either side)
    assert start[[0, 1, 11, 3, 4, 5, 7, 8, 9]].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert parts.pieces_of(pp, start) == k
    # part 1 also holds a locked unit at 180 degrees (unit 6): measured from its last fixed unit, part
    # 1's sector turns to 180 degrees and unit 3 (90 degrees) falls to part 0; from its anchor (the
    # home, unit 4 at 120 degrees) unit 3 stays with part 1
    locked = fixed.copy()
    locked[6] = 1
    pp_lock = dataclasses.replace(pp, fixed=locked)
    turned = parts.sector_start(pp_lock, x, y)
    anchored = parts.sector_start(pp_lock, x, y, np.array([0, 4, 8]))
    assert turned is not None
    assert anchored is not None
    assert turned[3] == 0
    assert anchored[[3, 4, 5, 6]].tolist() == [1, 1, 1, 1]
    assert parts.pieces_of(pp_lock, anchored) == k
    # a fourth part without a fixed unit has no sector: no start
    four = (np.full((2, 4), -np.inf), np.full((2, 4), np.inf), np.full((2, 4), np.nan), np.zeros((n, 4)))
    assert parts.sector_start(parts.PartProblem(g, amount, *four, fixed), x, y) is None


def test_a_stop_request_ends_the_search_at_once() -> None:
    """``flip_search.balance`` asks ``stop()`` every round: when it says stop at once, the start comes
    back unchanged, long before the deadline."""
    from tests.test_flip_search import problem

    homes = np.array([0, 15])
    amount = np.ones((16, 1))
    amount[3] = 5.0
    pp = problem(4, 4, homes, amount, 0.01)
    start = np.where(np.arange(16) < 8, 0, 1)
    began = time.perf_counter()
    plan = flip_search.balance(pp, start, began + 30.0, seed=0, stop=lambda: True)
    assert (plan == start).all()
    assert time.perf_counter() - began < 5.0
