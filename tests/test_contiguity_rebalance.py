"""The contiguity stage when the flip search stalls just outside the bands: ``Lns.rebalance`` re-solves
each territory out of its band with its neighbours (bands hard, every territory one piece), and
``contiguous.cost_flips`` then shortens the travel with every band kept (3,142 US counties x 100 reps at
+-5%: the flips ended connected with territories up to 0.9% over the band, each ringed by full ones and
made of metro counties of 10-18% of a territory; two neighbourhoods put them within it).

The map is the flip tests' 10 x 10 grid (potential crowded into a metro, workload spread evenly)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from territory_planner.geo import contiguity
from territory_planner.optimize import contiguous, contiguous_flow, flip_search, parts, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.contiguous_flow import LeastConnected
from territory_planner.solvers import get_backend
from tests.test_contiguity_flips import _connected_and_feasible, _model


def _voronoi(spec_c, adj, centre) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The graph Voronoi of the homes: connected, each territory holding its home, far out of the bands."""
    plan = parts.connected_start(contiguous._flip_problem(spec_c, adj, centre))
    assert plan is not None
    return plan


def _near(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The model, and a connected plan just outside its bands: the flips' plan (within them) with
    boundary units moved one at a time from a territory to a neighbour, each territory kept one piece,
    until two or more territories are out of band."""
    spec, adj, centre = _model(tmp_path)
    spec_c = contiguous.with_centres(spec, centre)
    plan = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 20, 0)
    assert plan is not None
    s = flip_search.Search(contiguous._flip_problem(spec_c, adj, centre), plan)
    u, b = s.candidates()
    for x, k in zip(u.tolist(), b.tolist(), strict=True):
        units = s.movable(x, k)
        if units is not None and len(units) == 1:
            s.move(units, k)
            if (repair.band_excess(spec_c, s.assign) > 0).sum() >= 2:
                break
    start = s.assign.copy()
    assert not lns.count_split(adj, start, centre)
    assert (repair.band_excess(spec_c, start) > 0).sum() >= 2
    return spec, spec_c, adj, centre, start


def _flips_stall_on(monkeypatch: pytest.MonkeyPatch, start: np.ndarray) -> None:
    """The flip search stalls at once on ``start``: its connected start is that plan, its balancing keeps
    it."""
    monkeypatch.setattr(parts, "connected_start", lambda _pp: start.copy())
    monkeypatch.setattr(flip_search, "balance", lambda _pp, assign, *_a, **_k: assign.copy())


def test_band_excess_is_what_feasible_counts(tmp_path: Path) -> None:
    spec, adj, centre = _model(tmp_path)
    plan = _voronoi(contiguous.with_centres(spec, centre), adj, centre)
    miss = repair.band_excess(spec, plan)
    p = spec.problem
    load = np.stack([np.bincount(plan, weights=p.unit_amount[:, m], minlength=p.n_reps) for m in range(2)])
    outside = ((load > spec.upper + 1e-6) | (load < spec.lower - 1e-6)).any(axis=0)
    assert ((miss > 0) == outside).all()
    assert outside.any()  # the metro's territory holds far too much potential
    j = int(np.argmax(miss))
    worst = max((load[:, j] - spec.upper[:, j]).max(), (spec.lower[:, j] - load[:, j]).max())
    assert miss[j] == pytest.approx(worst / max(spec.upper[:, j].max(), 1.0), rel=0.5)
    assert repair.feasible(spec, plan) == (not outside.any())


def test_rebalance_brings_a_connected_plan_within_its_bands(tmp_path: Path) -> None:
    _, spec_c, adj, centre, start = _near(tmp_path)
    said: list[str] = []
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1, said.append)
    plan = search.rebalance(start, time.perf_counter() + 30.0)
    _connected_and_feasible(spec_c, adj, centre, plan)
    assert search.accepted >= 1
    assert any("brought within its band" in m for m in said)


def test_rebalance_says_none_when_no_neighbourhood_can(tmp_path: Path) -> None:
    """Bands no plan meets (+-0.01% on 100 lumpy accounts): every attempt fails, and the answer is None,
    never the start plan passed off as within the bands. The attempts on the whole map take 10-30 s each,
    so the answer comes at the deadline, whichever it is."""
    spec, adj, centre = _model(tmp_path, tolerance=0.0001)
    spec_c = contiguous.with_centres(spec, centre)
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1)
    assert search.rebalance(_voronoi(spec_c, adj, centre), time.perf_counter() + 6.0) is None


def test_the_stage_rebalances_when_the_flips_stall_out_of_band(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flips made to stall at once (they return their start): the stage takes their connected plan
    out of band, rebalances it and shortens it; the plan meets every row and every territory is one
    piece, and the travel is no longer than the rebalanced plan's."""
    spec, _, adj, centre, start = _near(tmp_path)
    # the flips stall at once, on the plan they start from: the near plan given as their start
    _flips_stall_on(monkeypatch, start)
    rebalanced: list[np.ndarray] = []
    rebalance = lns.Lns.rebalance

    def recorded(self: lns.Lns, plan: np.ndarray, deadline: float) -> np.ndarray | None:
        out = rebalance(self, plan, deadline)
        if out is not None:
            rebalanced.append(out.copy())
        return out

    monkeypatch.setattr(lns.Lns, "rebalance", recorded)
    said: list[str] = []
    out = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=20.0, gap=1e-4, seed=0, threads=1,
        exact=False, progress=said.append,
    )  # fmt: skip
    assert any("out of band: rebalancing" in m for m in said)
    assert rebalanced
    assert out.method == "flips+lns"
    _connected_and_feasible(contiguous.with_centres(spec, centre), adj, centre, out.unit_rep)
    assert (contiguity.count_pieces(adj, out.unit_rep, spec.problem.n_reps) == 1).all()
    assert out.objective is not None
    assert out.objective <= lns.objective(spec, rebalanced[0]) + 1e-6


def test_cost_flips_shorten_and_keep_every_band(tmp_path: Path) -> None:
    spec, spec_c, adj, centre, start = _near(tmp_path)
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1)
    plan = search.rebalance(start, time.perf_counter() + 30.0)
    assert plan is not None
    out = contiguous.cost_flips(spec_c, adj, centre, plan, time.perf_counter() + 10.0, 0)
    _connected_and_feasible(spec_c, adj, centre, out)
    assert lns.objective(spec, out) <= lns.objective(spec, plan) + 1e-9


def test_a_mend_that_may_give_up_stops_when_its_first_neighbourhoods_all_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large model the start plan's mend gives up after ``GIVE_UP_TRIES`` failed neighbourhoods with
    none mended (3,142 counties x 100 reps: 106 s with none mended, which the flips then lacked); without
    ``give_up`` it tries every attempt of every split territory."""
    spec, spec_c, adj, centre, start = _near(tmp_path)
    split = start.copy()
    homes = set(centre.tolist())
    for a, b in ((0, 3), (3, 0), (1, 4)):  # a stray unit of b deep inside a: b's territory in two pieces
        inside = [u for u in range(len(split)) if split[u] == a and u not in homes]
        inside = [u for u in inside if all(start[v] == a for v in adj.csr()[u].indices)]
        split[inside[0]] = b
    assert len(lns.ATTEMPTS) * len(lns.split_reps(adj, split, centre)) > lns.GIVE_UP_TRIES
    calls: list[int] = []

    def failing(_self: lns.Lns, _plan: np.ndarray, reps: np.ndarray, *_a: object, **_k: object) -> None:
        calls.append(len(reps))

    monkeypatch.setattr(lns.Lns, "_step", failing)
    said: list[str] = []
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1, said.append)
    begin = time.perf_counter()
    out = search.mend(split, begin + 60.0, give_up=True)
    assert time.perf_counter() - begin < 30.0
    assert len(calls) == lns.GIVE_UP_TRIES
    assert (out == split).all()
    calls.clear()
    search.mend(split, time.perf_counter() + 60.0)
    assert len(calls) == len(lns.ATTEMPTS) * len(lns.split_reps(adj, split, centre))


def test_the_path_neighbourhood_runs_to_the_nearest_territory_with_room(tmp_path: Path) -> None:
    """A territory ringed by full ones passes its surplus along a chain: j, the territories on a shortest
    path to the nearest one with room, and the touching ones of both ends; None when none has room."""
    spec, spec_c, adj, centre, start = _near(tmp_path)
    p = spec.problem.n_reps
    touching = lns._rep_graph(adj, start, p)
    j = 0
    far = [k for k in range(p) if k != j and not touching[j, k]]
    assert far  # the grid's five territories: some do not touch territory 0
    room = np.zeros(p, dtype=bool)
    room[far[0]] = True
    reps = lns.path_neighbourhood(adj, start, centre, j, room)
    assert reps is not None
    assert {j, far[0]} <= set(reps.tolist())
    assert set(np.flatnonzero(touching[j]).tolist()) <= set(reps.tolist())
    assert lns.path_neighbourhood(adj, start, centre, j, np.zeros(p, dtype=bool)) is None
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1)
    over = int(np.argmax(repair.band_excess(spec_c, start)))
    room = search._room(start, over)
    assert not room[over]
    load = spec.problem.unit_amount.T @ (start[:, None] == np.arange(p)[None, :])
    for k in np.flatnonzero(room).tolist():  # each can take the excess within its own band
        need = np.maximum(load[:, over] - spec_c.upper[:, over], 0.0)
        assert (spec_c.upper[:, k] - load[:, k] >= need - 1e-9).all()


def test_on_a_map_the_flow_model_fits_the_elastic_flow_model_brings_the_flips_plan_within_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """78 St Louis counties x 5 reps (QA36): the flips ended connected with a territory out of band; the
    neighbourhood MIPs and the cut loop found no connected plan within the bands in 60, 90 or 120 s,
    where the flow model on the violation, started from the flips' plan, found one in 13.5-17.6 s. On a
    map the flow model fits, that model runs first, from the flips' plan with the model's bands, and its
    plan within every band is the stage's first connected plan (no neighbourhood MIP needed), its travel
    then shortened by the flips."""
    spec, spec_c, adj, centre, start = _near(tmp_path)
    # a deadline a loaded machine cannot reach: the flips stop when they settle (QA81: None at 20 s, load 5-6)
    within = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 120, 0)
    assert within is not None
    assert repair.feasible(spec_c, within)
    _flips_stall_on(monkeypatch, start)
    rebalanced: list[bool] = []
    monkeypatch.setattr(lns.Lns, "rebalance", lambda *_a, **_k: rebalanced.append(True))
    starts: list[np.ndarray] = []

    def least(*_a: object, start: np.ndarray, model_bands: bool, **_k: object) -> LeastConnected:
        assert model_bands  # a violation of 0 must be a plan of the model, not only of the user's bands
        starts.append(start.copy())
        return LeastConnected(within.copy(), 0.0, True, 0.0)

    monkeypatch.setattr(contiguous_flow, "least_violation_connected", least)
    said: list[str] = []
    out = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=10.0, gap=1e-4, seed=0, threads=1,
        exact=True, progress=said.append,
    )  # fmt: skip
    assert len(starts) == 1
    assert (starts[0] == start).all()
    assert "contiguity: the flow model found a connected plan within every band" in said
    assert not rebalanced
    assert any(m.startswith("contiguity: every band met; travel shortened by the flips") for m in said)
    _connected_and_feasible(spec_c, adj, centre, out.unit_rep)
    assert out.objective is not None
    assert out.objective <= lns.objective(spec, within) + 1e-6


def test_when_the_elastic_flow_model_finds_none_the_neighbourhood_mips_follow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10 x 10 grid where the flow model on the violation stays at the flips' plan: the neighbourhood
    MIPs then bring it within the bands (0.6 s here)."""
    spec, spec_c, adj, centre, start = _near(tmp_path)
    _flips_stall_on(monkeypatch, start)
    monkeypatch.setattr(
        contiguous_flow,
        "least_violation_connected",
        lambda *_a, start, **_k: LeastConnected(start.copy(), 1.0, False, 0.0),
    )
    said: list[str] = []
    out = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=10.0, gap=1e-4, seed=0, threads=1,
        exact=True, progress=said.append,
    )  # fmt: skip
    assert any("out of band: rebalancing" in m for m in said)
    _connected_and_feasible(spec_c, adj, centre, out.unit_rep)


def test_the_elastic_flow_models_plan_out_of_less_band_becomes_the_flips_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow model on the violation ends connected but still out of band: no plan, and its plan is the
    neighbourhood MIPs' (and ``--relax``'s) start only when it is out of less band than the flips'."""
    _, spec_c, adj, centre, start = _near(tmp_path)
    worse = _voronoi(spec_c, adj, centre)
    assert repair.band_excess(spec_c, worse).sum() > repair.band_excess(spec_c, start).sum()
    for given, kept in ((worse, start), (start, start)):
        near = [worse.copy()] if given is start else [start.copy()]
        monkeypatch.setattr(
            contiguous_flow,
            "least_violation_connected",
            lambda *_a, plan=given, **_k: LeastConnected(plan.copy(), 1.0, False, 0.0),
        )
        out = contiguous._elastic_from(
            spec_c, adj, centre, get_backend("highs"), near, time.perf_counter() + 5, 0, 1, lambda _m: None
        )
        assert out is None
        assert (near[0] == kept).all()


def test_a_connected_plan_within_every_band_that_breaks_another_row_is_named_not_rebalanced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA76: with a disruption budget the flips' connected plan met every band and broke the budget; the
    stage said "the flips' connected plan has 0 territories out of band: rebalancing" and the
    neighbourhood MIPs, which mend bands only, had nothing to do. It now names the row broken and does
    not rebalance. Here the row is the account count: at most one account fewer than the largest
    territory of the flips' plan holds."""
    import dataclasses

    spec, adj, centre = _model(tmp_path)
    spec_c = contiguous.with_centres(spec, centre)
    within = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 20, 0)
    assert within is not None
    counts = np.bincount(within, weights=spec.problem.unit_size, minlength=spec.problem.n_reps)
    capped = dataclasses.replace(spec, max_accounts=float(counts.max()) - 1.0)
    assert not repair.band_excess(contiguous.with_centres(capped, centre), within).any()
    assert not repair.feasible(contiguous.with_centres(capped, centre), within)
    _flips_stall_on(monkeypatch, within)
    called: list[int] = []
    monkeypatch.setattr(lns.Lns, "rebalance", lambda *_a: called.append(1))
    said: list[str] = []
    contiguous.solve_contiguous(
        capped, adj, get_backend("highs"), centre=centre, time_limit=5.0, gap=1e-4, seed=0, threads=1,
        exact=False, progress=said.append,
    )  # fmt: skip
    assert not called
    assert not any("out of band: rebalancing" in m for m in said)
    named = "the flips' connected plan meets every band but not the maximum accounts per rep (--max-accounts)"
    assert any(named in m for m in said)
