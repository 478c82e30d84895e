"""The exact flow model beside the contiguity cut loop: its proofs checked by brute force on tiny maps."""

from __future__ import annotations

import dataclasses
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_geo_contiguity import planar_problem

from territory_planner.cli import main
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import contiguity, contiguity_stage, home_conflicts
from territory_planner.optimize import background, contiguous, contiguous_flow, pipeline, repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers import get_backend

needs_flow = pytest.mark.skipif(
    not background.available(get_backend("highs")), reason="the flow model runs beside: needs two cores"
)


def grid(cols: int, rows: int) -> tuple[np.ndarray, adjmod.Adjacency]:
    xy = np.array([(c, r) for r in range(rows) for c in range(cols)], dtype=float)
    return xy, adjmod.from_geometries([shapely.box(x, y, x + 1, y + 1) for x, y in xy], rook=True)


def brute_force(spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray) -> float:
    """Least objective over every plan of connected territories holding their centres within the bands and
    the other rows (budgets, account counts, group bands; inf: none)."""
    p = spec.problem
    free = [u for u in range(p.n_units) if u not in set(centre.tolist())]
    best = np.inf
    for choice in itertools.product(range(p.n_reps), repeat=len(free)):
        plan = np.empty(p.n_units, dtype=np.int64)
        plan[centre] = np.arange(p.n_reps)
        plan[free] = choice
        if not spec.allowed[np.arange(p.n_units), plan].all():
            continue
        loads = np.stack(
            [
                np.bincount(plan, weights=p.unit_amount[:, m], minlength=p.n_reps)
                for m in range(len(p.measures))
            ]
        )
        if (loads < spec.lower - 1e-9).any() or (loads > spec.upper + 1e-9).any():
            continue
        if not contiguity.is_contiguous(adj, plan, p.n_reps) or not all(repair.other_rows(spec, plan)):
            continue
        best = min(best, float(spec.objective[np.arange(p.n_units), plan].sum()))
    return best


def solve(spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray) -> contiguous.ContiguousResult:
    return contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=20, gap=0.0, seed=0, threads=1
    )


@needs_flow
def test_a_path_where_the_far_rep_is_walled_in_is_proven_infeasible() -> None:
    """0 - 1 - 2 - 3, rep T0 at 0 and T1 at 1, each must hold two units: T0 cannot reach past T1's
    centre, so no connected plan exists (the split plan {0, 2}, {1, 3} meets the bands)."""
    xy, adj = grid(4, 1)
    problem = planar_problem(np.ones(4), 2, 0.01)
    centre = np.array([0, 1])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=np.abs(xy[:, :1] - xy[centre, 0])
    )
    assert brute_force(spec, adj, centre) == np.inf
    (walled,) = home_conflicts.walled_in_conflicts(spec, adj, centre)  # the quick proof, with the numbers
    assert walled.rep_id == "T0"
    assert walled.amount == pytest.approx(1.0)  # it reaches one unit of potential, its band needs two
    assert "(T1)" in walled.message
    res = solve(spec, adj, centre)
    assert res.infeasible
    assert res.unit_rep is None or (res.pieces > 1).any()  # at most a plan with its pieces marked
    assert not res.proven_optimal


@needs_flow
@pytest.mark.parametrize(
    ("units", "tol", "min_accounts", "without"),
    [
        (4, 0.01, 1, True),  # T0 walled in at 0 needs two units: infeasible with the minimum and without it
        (6, 0.67, 2, False),  # T0 alone at 0 meets its band; the minimum of two accounts is the conflict
    ],
)
def test_a_proof_is_checked_again_without_the_rows_besides_the_bands(
    units: int, tol: float, min_accounts: int, without: bool
) -> None:
    """QA30 F8: a proof over a model with a disruption budget or account counts named them among the rows
    in conflict, and offered their flags as levers, where the model had no connected plan without them
    either. A path 0 - 1 - ..., T0's home at 0 and T1's at 1: T0 can hold unit 0 and nothing else."""
    xy, adj = grid(units, 1)
    problem = planar_problem(np.ones(units), 2, tol)
    centre = np.array([0, 1])
    cost = np.abs(xy[:, :1] - xy[centre, 0])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=cost, min_accounts=min_accounts
    )
    bare = contiguous_flow.bare(spec)
    assert bare is not None
    assert bare.min_accounts is None
    assert not bare.cost.any()
    assert brute_force(spec, adj, centre) == np.inf
    assert (brute_force(bare, adj, centre) == np.inf) is without
    res = solve(spec, adj, centre)
    assert res.infeasible
    assert res.infeasible_without_rows is without
    # without any row besides the bands there is nothing to check again
    assert contiguous_flow.bare(dataclasses.replace(spec, min_accounts=None)) is None


def test_a_walled_in_rep_whose_region_has_each_measure_but_not_both_is_proven() -> None:
    """0 - 1 - ... - 7, T0 at 0 and T1 at 4: T0 reaches 0..3 only. They hold 12 potential (band 5.25 to
    8.75) and 4 workload (band 3 to 5), enough of each; but three of them (workload 3) already carry 9
    potential, so no territory of them meets both bands."""
    xy, adj = grid(8, 1)
    one = planar_problem(np.array([3.0, 3, 3, 3, 0.5, 0.5, 0.5, 0.5]), 2, 0.25)  # potential only
    problem = dataclasses.replace(
        one,
        measures=("potential", "workload"),
        tolerance=np.array([0.25, 0.25]),
        unit_amount=np.column_stack([one.unit_amount[:, 0], np.ones(8)]),
        acc_amount=np.column_stack([one.acc_amount[:, 0], np.ones(8)]),
        target=np.vstack([one.target, np.full(2, 4.0)]),
    )
    centre = np.array([0, 4])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=np.abs(xy[:, :1] - xy[centre, 0])
    )
    assert brute_force(spec, adj, centre) == np.inf
    (walled,) = home_conflicts.walled_in_conflicts(spec, adj, centre)
    assert walled.rep_id == "T0"
    assert walled.measure == "potential"
    assert walled.amount == pytest.approx(9.0 - 8.75)
    assert "with its workload band met, any territory of them holds at least $9 potential" in walled.message
    # one more unit of workload in reach (T1 one unit further) and the proof is gone, as it should be
    assert home_conflicts.walled_in_conflicts(spec, adj, np.array([0, 5])) == []


@needs_flow
def test_a_connected_optimum_is_proven_by_one_exact_member() -> None:
    xy, adj = grid(3, 3)
    problem = planar_problem(np.array([1.0, 2, 1, 3, 1, 1, 2, 1, 1]), 3, 0.2)
    centre = np.array([0, 4, 8])
    cost = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    spec = ModelSpec.build(problem, np.full(3, np.nan), np.full(3, np.nan), cost=cost)
    res = solve(spec, adj, centre)
    best = brute_force(spec, adj, centre)
    assert np.isfinite(best)
    assert not res.infeasible
    assert res.objective == pytest.approx(best, rel=1e-6)
    assert res.proven_optimal
    assert res.method in ("cuts", "flow")
    assert res.lower_bound <= res.objective + 1e-6


@needs_flow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from([(3, 2), (4, 2), (3, 3), (5, 1)]),
    p=st.integers(2, 3),
    tol=st.sampled_from([0.02, 0.1, 0.3]),
    seed=st.integers(0, 10_000),
)
def test_every_infeasibility_claim_and_every_proof_matches_brute_force(
    shape: tuple[int, int], p: int, tol: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    xy, adj = grid(*shape)
    n = len(xy)
    problem = planar_problem(np.round(rng.pareto(1.5, n) + 1, 2), p, tol)  # heavy-tailed
    centre = rng.choice(n, size=p, replace=False)
    cost = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    spec = ModelSpec.build(
        problem, np.full(p, np.nan), np.full(p, np.nan), cost=cost + rng.uniform(0, 2, (n, p))
    )
    best = brute_force(spec, adj, centre)
    if home_conflicts.walled_in_conflicts(spec, adj, centre):
        assert best == np.inf
    res = solve(spec, adj, centre)
    if res.infeasible:
        assert best == np.inf  # a claim of "no connected plan" is true
    if np.isfinite(best):
        assert not res.infeasible
    if res.unit_rep is not None and (res.pieces <= 1).all():
        assert res.objective is not None
        assert res.objective >= best - 1e-6
        if res.proven_optimal:
            assert res.objective == pytest.approx(best, rel=1e-6)
    if res.proven_optimal:
        assert res.unit_rep is not None
        assert contiguity.is_contiguous(adj, res.unit_rep, p)


def test_validate_and_plan_name_the_walled_in_rep(tmp_path: Path) -> None:
    """c0 - c1 - c2 - c3 with R1's home at c0 and R2's at c1: R1 can only hold c0, a quarter of the
    potential, where its band needs about half. `validate --contiguous` and `plan --contiguous` end with
    exit 1 naming R1, the rep walling it in and the numbers; without --contiguous the inputs are valid."""
    a = tmp_path / "accounts.csv"
    pd.DataFrame(
        {"account_id": ["c0", "c1", "c2", "c3"], "lat": 0.0, "lon": [0.0, 0.1, 0.2, 0.3], "potential": 1.0}
    ).to_csv(a, index=False)
    r = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["R1", "R2"], "lat": 0.0, "lon": [0.0, 0.1]}).to_csv(r, index=False)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\nc0,c1\nc1,c2\nc2,c3\n", encoding="utf-8")
    base = ["--accounts", str(a), "--reps", str(r), "--tolerance", "0.1", "--balance", "potential"]
    assert CliRunner().invoke(main, ["validate", *base]).exit_code == 0
    contiguous = [*base, "--contiguous", "--adjacency", str(e)]
    for cmd in (["validate"], ["plan", "--out", str(tmp_path / "plan"), "--time-limit", "10"]):
        res = CliRunner().invoke(main, [*cmd, *contiguous])
        assert res.exit_code == 1, res.output
        text = " ".join(res.output.split())
        assert "walled in" in text
        assert "the home unit of R1 (c0) reaches only 1 unit(s)" in text
        assert "(R2)" in text
        # QA83 F1: the plan c0,c1 -> R1, c2,c3 -> R2 is connected and within the bands; the proof is for
        # the rule --contiguous adds (each territory holds its rep's home unit), and says so
        assert "so no connected plan exists" not in text
        text = " ".join(res.output.replace("│", " ").split())  # the table's cells, their lines joined
        assert "--contiguous makes each territory one piece holding its rep's home unit" in text
        assert (
            "a plan of connected territories that gives a rep's home unit to another rep does not count"
            in text
        )
    assert not (tmp_path / "plan").exists()
    # a band R1 can meet alone (+-60%: at least 0.8 of the 2 units a rep is due): the checks pass, and say so
    wide = [*contiguous[: contiguous.index("--tolerance")], "--tolerance", "0.6", "--balance", "potential"]
    wide += ["--contiguous", "--adjacency", str(e)]
    res = CliRunner().invoke(main, ["validate", *wide])
    assert res.exit_code == 0, res.output
    assert "pieces of the map" in res.output
    assert "reps walled in by other homes" in res.output
    assert res.output.split("reps walled in by other homes")[1].split()[1] == "none"


def test_a_relaxed_plan_of_a_walled_in_map_says_the_proof_and_no_bound_of_its_own(tmp_path: Path) -> None:
    """QA72 F1: with --relax the map pre-check was skipped, so the least-violation plan of inputs proven
    infeasible in a second said "not by itself a proof"; and a connected plan out of its bands gave its
    own objective as the lower bound ("Lower bound 933,956" in report.html). The proof is now kept and said
    (console, notes, report), and the bound is that of the plans meeting every constraint, or none."""
    import json

    # c0 - c1 - c2 - c3 with potentials 1.5, 0.5, 0.5, 1.5 and homes at c0 (R1) and c1 (R2): R1 is walled
    # in at 1.5 where its band needs 1.8; the connected plan breaks both bands by 0.3, the split one
    # (R1 c0 + c2, R2 c1 + c3) meets them with pieces away from home worth 2.0: the connected one is written
    a = tmp_path / "accounts.csv"
    pd.DataFrame(
        {
            "account_id": ["c0", "c1", "c2", "c3"],
            "lat": 0.0,
            "lon": [0.0, 0.1, 0.2, 0.3],
            "potential": [1.5, 0.5, 0.5, 1.5],
        }
    ).to_csv(a, index=False)
    r = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["R1", "R2"], "lat": 0.0, "lon": [0.0, 0.1]}).to_csv(r, index=False)
    e = tmp_path / "edges.csv"
    e.write_text("u,v\nc0,c1\nc1,c2\nc2,c3\n", encoding="utf-8")
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--tolerance", "0.1", "--balance", "potential"]
    args += ["--contiguous", "--adjacency", str(e), "--relax", "--time-limit", "10", "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    said = text.split("RELAXED PLAN:")[1]
    assert "no plan meeting every constraint exists" in said
    assert "(proven" in said
    assert "not by itself a proof" not in said
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "relaxed"
    assert s["contiguity"]["contiguous"]  # the connected plan out of its bands
    assert s["proven_infeasible"] is True
    assert s["gap"] is None
    assert s["lower_bound"] is None or s["lower_bound"] > s["objective"] + 1e-9  # not its own objective
    proof = [n for n in s["notes"] if "proven before the solve" in n]
    assert proof
    assert "the home unit of R1 (c0) reaches only 1 unit(s)" in proof[0]
    report = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    assert "proven before the solve" in report


@needs_flow
@pytest.mark.parametrize("chosen", [False, True])
def test_the_proof_is_claimed_only_for_homes_the_user_gave(chosen: bool) -> None:
    """The walled-in path again, through ``make_contiguous`` with the homes at c0 and c1: with given homes
    the flow model's "infeasible" is the user's answer ("proven"); when the planner chose those centres,
    the proof holds for them only, and the info says so."""
    xy, adj = grid(4, 1)
    problem = planar_problem(np.ones(4), 2, 0.01)
    lat, lon = np.zeros(2), np.array([0.0, 1.0])  # homes on units 0 and 1 (the accounts' lat/lon)
    problem = dataclasses.replace(problem, acc_lon=xy[:, 0].copy())
    spec = ModelSpec.build(problem, lat, lon, cost=np.abs(xy[:, :1] - xy[[0, 1], 0]))
    backend = get_backend("highs")
    unit_rep, result = pipeline.solve(
        spec, backend, time_limit=10, gap=0.0, seed=0, threads=1, candidates=2, relax=False
    )
    _, _, info = contiguity_stage.make_contiguous(
        spec, adj, unit_rep, result, backend, lat=lat, lon=lon, time_limit=10, gap=0.0, seed=0, threads=1,
        chosen=np.array([chosen, False]),
    )  # fmt: skip
    assert info["infeasible"] == ("proven for the centres chosen" if chosen else "proven")
    assert not info["contiguous"]


@needs_flow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from([(3, 2), (4, 2), (3, 3), (5, 1)]),
    p=st.integers(2, 3),
    tol=st.sampled_from([0.02, 0.1, 0.3]),
    seed=st.integers(0, 10_000),
    switch=st.sampled_from([0.0, 0.2]),
)
def test_the_phased_flow_model_matches_brute_force(
    shape: tuple[int, int], p: int, tol: float, seed: int, switch: float
) -> None:
    """The flow model with its phases (``switch`` 0: the feasibility phase at once, the objective dropped
    and the neighbour rows added, then the objective back; 0.2: the costed model, which settles these
    before the switch): its "infeasible" holds, its optimum is brute force's, any plan it returns is
    connected and no better than the optimum, and a bound comes only with a costed phase."""

    saved, contiguous_flow.SWITCH_SHARE = contiguous_flow.SWITCH_SHARE, switch
    try:
        _phased_matches_brute_force(shape, p, tol, seed)
    finally:
        contiguous_flow.SWITCH_SHARE = saved


def _phased(
    spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray, seconds: float = 20.0
) -> tuple[contiguous_flow.PhasedFlow, repair.MipResult]:
    """The phased flow model on ``spec`` with its territories rooted at ``centre``, run to its answer
    (``seconds`` at most)."""
    spec_c = contiguous.with_centres(spec, centre)
    flow = contiguous_flow.start_phased(
        spec_c, adj, contiguous_flow.territory_parts(centre), get_backend("highs"),
        deadline=time.perf_counter() + seconds, gap=0.0, seed=0,
    )  # fmt: skip
    assert flow is not None
    res = flow.finish(stop=False)
    assert res is not None
    return flow, res


def _phased_matches_brute_force(shape: tuple[int, int], p: int, tol: float, seed: int) -> None:
    from territory_planner.solvers.base import SolveStatus

    rng = np.random.default_rng(seed)
    xy, adj = grid(*shape)
    n = len(xy)
    problem = planar_problem(np.round(rng.pareto(1.5, n) + 1, 2), p, tol)
    centre = rng.choice(n, size=p, replace=False)
    cost = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    spec = ModelSpec.build(
        problem, np.full(p, np.nan), np.full(p, np.nan), cost=cost + rng.uniform(0, 2, (n, p))
    )
    best = brute_force(spec, adj, centre)
    flow, res = _phased(spec, adj, centre)
    if res.status is SolveStatus.INFEASIBLE:
        assert best == np.inf
        assert flow.proved.is_set()
        return
    assert np.isfinite(best)
    assert res.unit_rep is not None
    assert contiguity.is_contiguous(adj, res.unit_rep, p)
    value = float(spec.objective[np.arange(n), res.unit_rep].sum())
    assert value >= best - 1e-6
    if res.status is SolveStatus.OPTIMAL:
        assert value == pytest.approx(best, rel=1e-6)
        assert res.bound is not None
        assert res.bound <= best + 1e-6


@needs_flow
@pytest.mark.parametrize("switch", [0.0, 0.2])
def test_the_phased_flow_model_finds_the_one_connected_plan_of_a_path(
    switch: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0 - 1 - 2 - 3 - 4 - 5, T0 rooted at 0 and T1 at 5, three units each: only {0, 1, 2} | {3, 4, 5}.
    Each phase must keep it (a neighbour row that looked only at the higher neighbour of unit 1 or 2
    would push T0 past its band and claim "infeasible")."""
    from territory_planner.solvers.base import SolveStatus

    monkeypatch.setattr(contiguous_flow, "SWITCH_SHARE", switch)

    xy, adj = grid(6, 1)
    problem = planar_problem(np.ones(6), 2, 0.01)
    centre = np.array([0, 5])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=np.abs(xy[:, :1] - xy[centre, 0])
    )
    flow, res = _phased(spec, adj, centre)
    assert res.status is SolveStatus.OPTIMAL, res
    assert res.unit_rep is not None
    assert res.unit_rep.tolist() == [0, 0, 0, 1, 1, 1]
    assert flow.proved.is_set()


class _Idle:
    """A feasibility phase that never answers: it runs until it is stopped or its deadline passes."""

    def __init__(self, deadline: float) -> None:
        import threading
        from types import SimpleNamespace

        self.deadline = deadline
        self.live = SimpleNamespace(cancel=threading.Event(), found=0)

    def running(self) -> bool:
        return not self.live.cancel.is_set() and time.perf_counter() < self.deadline

    def finish(self, *, stop: bool) -> None:
        if stop:
            self.live.cancel.set()
        while self.running():
            time.sleep(0.01)

    def built(self) -> bool:
        return True

    def offer(self, _plan: np.ndarray, *, counted: bool = True) -> None:
        del counted


@needs_flow
def test_the_costed_phase_goes_on_beside_the_one_without_objective(monkeypatch: pytest.MonkeyPatch) -> None:
    """QA96 F1: 58 California counties x 6 reps, where the costed flow model proves in 10 s that no
    connected plan exists, ended in exit 3 at 30 s: at the switch (20% of its time) the costed model was
    stopped and the model without objective started over. Here the path 0 - ... - 5 with potentials 2, 2,
    2, 2, 1, 1, T0 rooted at 0 and T1 at 5, each within 1% of 5: no prefix of the path sums to 5 (units
    0, 1 and 4 do, in pieces), so no connected plan exists. The switch comes at once and the phase
    without objective never answers: the costed model's proof must still come."""
    from territory_planner.solvers.base import SolveStatus

    monkeypatch.setattr(contiguous_flow, "SWITCH_SHARE", 0.0)
    monkeypatch.setattr(contiguous_flow.PhasedFlow, "_feasible", lambda self: _Idle(self.deadline))
    xy, adj = grid(6, 1)
    problem = planar_problem(np.array([2.0, 2.0, 2.0, 2.0, 1.0, 1.0]), 2, 0.01)
    centre = np.array([0, 5])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=np.abs(xy[:, :1] - xy[centre, 0])
    )
    flow, res = _phased(spec, adj, centre, seconds=6.0)
    assert res.status is SolveStatus.INFEASIBLE
    assert res.unit_rep is None
    assert flow.proved.is_set()


@needs_flow
def test_the_phase_without_objective_waits_for_an_idle_core_or_one_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA102 F1: on two cores busy with the search, the phase without objective took a third of the
    costed phase's core (78 Thai provinces x 8 reps: exit 3 at 30 s where the costed phase alone proves
    in 11-23 s). Without an idle core it does not start; the search's thread gives its core
    (``take_core``) and it starts at once."""
    started: list[float] = []

    def feasible(self: contiguous_flow.PhasedFlow) -> _Idle:
        started.append(time.perf_counter())
        return _Idle(self.deadline)

    monkeypatch.setattr(contiguous_flow, "SWITCH_SHARE", 0.0)
    monkeypatch.setattr(contiguous_flow.PhasedFlow, "_costed", lambda self: _Idle(self.deadline))
    monkeypatch.setattr(contiguous_flow.PhasedFlow, "_feasible", feasible)
    monkeypatch.setattr(background, "core_to_spare", lambda: False)
    xy, adj = grid(6, 1)
    centre = np.array([0, 5])
    spec = ModelSpec.build(
        planar_problem(np.ones(6), 2, 0.01), np.full(2, np.nan), np.full(2, np.nan),
        cost=np.abs(xy[:, :1] - xy[centre, 0]),
    )  # fmt: skip
    spec_c = contiguous.with_centres(spec, centre)
    flow = contiguous_flow.start_phased(
        spec_c, adj, contiguous_flow.territory_parts(centre), get_backend("highs"),
        deadline=time.perf_counter() + 20.0, gap=0.0, seed=0,
    )  # fmt: skip
    assert flow is not None
    try:
        time.sleep(1.0)
        assert started == []  # no core for it
        assert flow.wants_core()
        assert not flow.feasibility_running()
        given = time.perf_counter()
        flow.take_core()
        while not started and time.perf_counter() < given + 5.0:
            time.sleep(0.02)
        assert started
        assert started[0] - given < 1.0
        assert flow.feasibility_running()
        assert not flow.wants_core()
    finally:
        flow.finish(stop=True)


def test_the_first_phase_s_plan_proves_nothing() -> None:
    """With the objective dropped every connected plan is "optimal" at 0: as the stage's answer it is a
    plan with its real objective, status feasible and no bound."""
    from territory_planner.solvers.base import SolveStatus

    xy, adj = grid(3, 1)
    problem = planar_problem(np.ones(3), 2, 0.6)
    centre = np.array([0, 2])
    spec = ModelSpec.build(
        problem, np.full(2, np.nan), np.full(2, np.nan), cost=np.abs(xy[:, :1] - xy[centre, 0])
    )
    plan = np.array([0, 0, 1])
    first = repair.MipResult(plan, 0.0, 0.0, SolveStatus.OPTIMAL, 3, 6, 0.1)
    out = contiguous_flow._unproven(spec, first)
    assert out is not None
    assert out.status is SolveStatus.FEASIBLE
    assert out.bound is None
    assert out.objective == pytest.approx(float(spec.objective[np.arange(3), plan].sum()))
    assert contiguous_flow._unproven(spec, None) is None


def test_with_no_connected_plan_the_least_split_plan_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the contiguity stage ends without a connected plan, the plan written (with --relax) is the
    least split of the stage's and the one before it: fewest stray pieces, then split territories, then
    travel (QA14: 48 US states, the stage's plan split 7 territories at 410,622 where the plan before it
    split 6 at 368,778). Here a path of 6 units, homes at both ends: the start plan has one stray piece per
    rep, the stage's (made up) three."""
    xy, adj = grid(6, 1)
    problem = planar_problem(np.ones(6), 2, 0.01)
    lat, lon = np.zeros(2), np.array([0.0, 5.0])
    problem = dataclasses.replace(problem, acc_lon=xy[:, 0].copy())
    spec = ModelSpec.build(problem, lat, lon, cost=np.abs(xy[:, :1] - xy[[0, 5], 0]))
    start = np.array([0, 0, 1, 0, 1, 1])
    worse = np.array([0, 1, 0, 1, 0, 1])
    assert repair.feasible(spec, start)
    assert repair.feasible(spec, worse)

    def stage(*_a, **_k):  # type: ignore[no-untyped-def]
        return contiguous.ContiguousResult(worse, None, 0.0, "lns", np.array([3, 3]), 1, 0, False, 0.1)

    monkeypatch.setattr(contiguous, "solve_contiguous", stage)
    _, result = pipeline.solve(
        spec, get_backend("highs"), time_limit=5, gap=0.0, seed=0, threads=1, candidates=2, relax=True
    )
    plan, out, info = contiguity_stage.make_contiguous(
        spec, adj, start, result, get_backend("highs"), lat=lat, lon=lon, time_limit=5, gap=0.0, seed=0,
        threads=1,
    )  # fmt: skip
    assert plan.tolist() == start.tolist()
    assert not info["contiguous"]
    assert info["method"] == "start-kept"
    assert out.method.endswith("contiguity-start-kept")


@needs_flow
def test_a_second_copy_of_the_flow_model_with_another_seed_races_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA82 F1: on 78 St Louis counties x 5 reps the flow model with seed 0 stayed at 12,762.2 for 12 s
    where seeds 1 to 3 proved 12,517.1 in 4.6 to 8.8 s (plain PuLP + HiGHS: 4.5 s). In the cut loop's
    share a copy with the next seed races it: here the run's own copy (seed 5) is made to find nothing,
    and the copy with seed 6 proves the brute-force optimum, its plan the one returned."""
    started: list[int] = []
    real = contiguous_flow.start_phased

    def spy(*args: object, seed: int, deadline: float, **kw: object) -> contiguous_flow.PhasedFlow | None:
        started.append(seed)
        if seed == 5:  # the run's own copy, as if its path were stuck: it ends at once with nothing
            deadline = time.perf_counter()
        return real(*args, seed=seed, deadline=deadline, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(contiguous_flow, "start_phased", spy)
    xy, adj = grid(3, 3)
    problem = planar_problem(np.array([1.0, 2, 1, 3, 1, 1, 2, 1, 1]), 3, 0.2)
    centre = np.array([0, 4, 8])
    cost = np.hypot(xy[:, None, 0] - xy[None, centre, 0], xy[:, None, 1] - xy[None, centre, 1])
    spec = ModelSpec.build(problem, np.full(3, np.nan), np.full(3, np.nan), cost=cost)
    res = contiguous.solve_contiguous(
        spec, adj, get_backend("highs"), centre=centre, time_limit=20, gap=0.0, seed=5, threads=1
    )
    assert started == [5, 6]
    assert res.proven_optimal
    assert res.method == "flow"
    assert res.objective == pytest.approx(brute_force(spec, adj, centre), rel=1e-6)


def test_no_neighbourhood_search_after_the_flow_model_settled_the_question() -> None:
    """QA102 F3: after the flow model's proof that no connected plan exists, the neighbourhood search
    still mended the plan with fewest stray pieces for 6.7 s. Once the flow model has settled it, the
    search does not run."""
    from types import SimpleNamespace

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("the neighbourhood search ran")

    said: list[str] = []
    st = SimpleNamespace(
        settled=False, cut_infeasible=False, twin_infeasible=False, from_twin=False, best=None,
        last_plan=np.zeros(6, dtype=np.int64), done=lambda: True, progress=said.append,
        search=SimpleNamespace(mend=never, polish=never),
    )  # fmt: skip
    assert contiguous._lns_finish(st) == "cuts"  # type: ignore[arg-type]
    assert said == []
