"""The whole model in HiGHS beside the other stages (``optimize.background``)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from territory_planner import api
from territory_planner.optimize import background, repair
from territory_planner.solvers import get_backend
from territory_planner.solvers.base import SolveStatus
from territory_planner.solvers.cbc import CbcBackend
from tests.conftest import assignment_mip, options_for, random_accounts, write_instance


@pytest.fixture(autouse=True)
def _a_core_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core idle for a copy racing the whole model, whatever else runs on the machine the tests run on
    (the test of a machine with none says so)."""
    monkeypatch.setattr(background, "idle_cores", lambda *_a, **_k: 1.0)


def _spec(tmp: Path, n: int, reps: int, seed: int, tolerance: float):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    rep_rows = [
        {"rep_id": f"R{j}", "lat": float(rng.uniform(31, 44)), "lon": float(rng.uniform(-110, -78))}
        for j in range(reps)
    ]
    a, r = write_instance(tmp, random_accounts(rng, n), rep_rows)
    opts = options_for(a, r, tolerance=tolerance)
    _, problem = api.load(opts)
    return opts, api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


def test_the_whole_model_beside_gives_a_plan_and_a_valid_bound(tmp_path: Path) -> None:
    _, spec = _spec(tmp_path, 120, 4, 3, 0.08)
    beside = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 60, gap=1e-4, seed=0, threads=1
    )
    res = beside.finish(stop=False)  # lets it prove its gap
    assert not beside.running()
    assert res is not None
    assert res.unit_rep is not None
    assert res.status == SolveStatus.OPTIMAL
    assert repair.feasible(spec, res.unit_rep)
    objective = float(spec.objective[np.arange(len(res.unit_rep)), res.unit_rep].sum())
    assert res.bound is not None
    assert res.bound <= objective * (1 + 1e-9)
    assert objective <= res.bound * (1 + 2e-4)


def test_a_cancelled_whole_model_stops_long_before_its_deadline(tmp_path: Path) -> None:
    """Cancelling reaches HiGHS through its interrupt callbacks while it solves in the thread."""
    _, spec = _spec(tmp_path, 700, 24, 5, 0.01)
    beside = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 600, gap=0.0, seed=0, threads=1
    )
    time.sleep(1.5)
    assert beside.running()  # 16,800 binaries within +-1%: far from proven after 1.5 s
    beside.finish(stop=True)  # a cancel that did not reach HiGHS would wait for the 600 s deadline
    assert not beside.running()


def test_only_highs_runs_beside() -> None:
    assert not background.available(CbcBackend())  # a CBC run cannot be cancelled from here
    assert background.available(get_backend("highs")) == (background.cores() >= 2)


@pytest.mark.skipif(background.cores() < 2, reason="the whole model runs beside only with two cores")
def test_a_run_with_the_whole_model_beside_ends_with_its_bound(tmp_path: Path) -> None:
    """A small model, a second core: the whole model ran beside the search, and the summary says so."""
    opts, spec = _spec(tmp_path, 300, 8, 11, 0.03)
    out = api.solve(options_for(opts.accounts, opts.reps, tolerance=0.03, time_limit=8, gap=0.0))
    s = out.summary
    assert s["lower_bound"] <= s["objective"] * (1 + 1e-9)
    assert any(e["event"] == "bound" for e in s["history"])
    assert s["gap"] <= 0.02
    assert any("beside" in note for note in s["notes"])


@pytest.mark.skipif(background.cores() < 2, reason="the whole model runs beside only with two cores")
def test_the_whole_model_beside_proves_an_integer_infeasibility(tmp_path: Path) -> None:
    """Three accounts of 1.2, 1.9 and 1.9 for two reps within 5% (2.375 to 2.625 each): the LP splits
    them, no whole-account plan exists. The whole model running beside since the LP proves it, and the
    run ends with exit 1 and that proof, not with "no plan yet"."""
    from territory_planner.errors import InfeasibleError

    accounts = [
        {"account_id": f"A{i}", "lat": 35.0, "lon": -90.0 + i, "potential": v, "workload": 1.0}
        for i, v in enumerate([1.2, 1.9, 1.9])
    ]
    reps = [{"rep_id": "R0", "lat": 35.0, "lon": -90.0}, {"rep_id": "R1", "lat": 35.0, "lon": -88.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    messages: list[str] = []
    with pytest.raises(InfeasibleError) as err:
        api.solve(options_for(a, r, tolerance=0.05, balance=("potential",), time_limit=20), messages.append)
    assert err.value.exit_code == 1
    assert "every allowed (account, rep) pair is infeasible" in str(err.value)
    assert any("beside" in m for m in messages)


def test_the_bound_read_while_the_whole_model_runs_is_valid(tmp_path: Path) -> None:
    """HiGHS reports its dual bound through the interrupt callback while it solves: every value read
    there is at most the objective of the plan it ends with, and at most its final bound."""
    _, spec = _spec(tmp_path, 300, 8, 11, 0.03)
    begin = time.perf_counter()
    beside = background.WholeModel(
        spec, get_backend("highs"), deadline=begin + 600, gap=0.0, seed=0, threads=1
    )
    seen: list[float] = []
    while (
        beside.running()
        and (len(seen) < 3 or time.perf_counter() - begin < 5)
        and time.perf_counter() - begin < 60
    ):
        if np.isfinite(beside.bound) and (not seen or beside.bound != seen[-1]):
            seen.append(beside.bound)
        time.sleep(0.01)
    res = beside.finish(stop=True, grace=60.0)  # HiGHS may take a while to stop on a loaded machine (QA81)
    assert len(seen) >= 3  # 2,400 binaries within +-3%: HiGHS is still raising its bound after 5 s
    assert seen == sorted(seen)
    assert res is not None
    assert res.unit_rep is not None
    assert res.bound is not None
    objective = float(spec.objective[np.arange(len(res.unit_rep)), res.unit_rep].sum())
    assert max(seen) <= min(objective, res.bound) * (1 + 1e-9)


def test_a_plan_handed_to_a_running_mip_is_taken_up() -> None:
    """A MIP that stops at its first solution (``solution_limit=1``) ends with the plan handed to it
    through ``LiveMip`` (the optimum, found by a first run), not with the worse plan it finds alone."""
    from territory_planner.solvers.base import LiveMip

    prob, columns, rows, _ = assignment_mip(0, 150, 8, 1.01)
    backend = get_backend("highs")
    kw = {"mip": True, "time_limit": 60.0, "gap": None, "seed": 0, "threads": 1}
    best = backend.solve(prob, columns, rows, **kw)  # type: ignore[arg-type]
    alone = backend.solve(prob, columns, rows, solution_limit=1, **kw)  # type: ignore[arg-type]
    assert best.status == SolveStatus.OPTIMAL
    assert best.objective is not None
    assert alone.objective is not None
    assert alone.objective > best.objective + 0.5
    live = LiveMip()
    live.post(best.values)
    handed = backend.solve(prob, columns, rows, solution_limit=1, live=live, **kw)  # type: ignore[arg-type]
    assert live.taken == 1
    assert handed.objective == pytest.approx(best.objective)


def _solved(tmp: Path):  # type: ignore[no-untyped-def]
    """A small spec and the whole model's plan of it."""
    _, spec = _spec(tmp, 60, 3, 5, 0.1)
    plan = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 30, gap=1e-4, seed=0, threads=1
    ).finish(stop=False)
    assert plan is not None
    assert plan.unit_rep is not None
    return spec, plan


class _Member:
    """A stand-in for a whole model in a thread: running until ``ends`` (perf_counter), then its result."""

    def __init__(self, result: repair.MipResult | None, ends: float) -> None:
        self.result, self.ends, self.bound, self.stopped = result, ends, -np.inf, False
        self.deadline = ends
        self.started = time.perf_counter()
        self.seed = 0
        self.live = SimpleNamespace(taken=0)
        self.taken = 0
        self.waits: list[float] = []  # the grace of each ``finish(stop=True)``

    def running(self) -> bool:
        return not self.stopped and time.perf_counter() < self.ends

    def finish(self, *, stop: bool, grace: float = background.GRACE) -> repair.MipResult | None:
        if stop:
            self.waits.append(grace)
        self.stopped = self.stopped or stop
        return None if stop and time.perf_counter() < self.ends else self.result

    def new_plan(self) -> np.ndarray | None:  # no plan reported by a callback while it ran
        return None


def test_the_member_beside_runs_highs_default_seed_and_the_copy_racing_it_the_runs_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain PuLP + HiGHS's own path (HiGHS's default seed) is the member started first, whatever
    --seed says; with no plan yet the wait is raced by a copy with the run's seed (1 when the run has
    the default one), and the first plan ends the race."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    spec, plan = _solved(tmp_path)
    seeds: list[int] = []
    slow = _Member(None, time.perf_counter() + 60)  # nothing for a long time
    fast = _Member(plan, time.perf_counter())  # ends at once with the plan

    def member(*_args: object, seed: int, **_kw: object) -> _Member:
        seeds.append(seed)
        chosen = slow if len(seeds) == 1 else fast
        chosen.seed = seed
        return chosen

    monkeypatch.setattr(background, "WholeModel", member)
    monkeypatch.setattr(background, "available", lambda _backend: True)
    for run_seed, copy_seed in ((7, 7), (0, 1)):
        seeds.clear()
        slow.stopped = False
        slow.waits.clear()
        run = pipeline.Run(
            spec, get_backend("highs"), TimeBudget.seconds(20), 1e-3, run_seed, 1, 8, lambda _m: None
        )
        pipeline._start_beside(run)
        assert run.beside is slow
        started = time.perf_counter()
        assert pipeline._race_beside(run, slow)  # type: ignore[arg-type]
        assert seeds == [0, copy_seed]
        assert run.incumbent is not None
        assert (run.incumbent == plan.unit_rep).all()
        assert slow.stopped  # the slower member is stopped once a plan is in
        assert time.perf_counter() - started < 5
        # each copy's note names it, and the slower one's says why it stopped (QA37 F5: "stopped once the
        # run met its gap" of a run far from its gap)
        said = [n for n in run.notes if n.startswith("the whole model")]
        assert said
        assert said[0].startswith(f"the whole model (the copy with seed {copy_seed}) ran")
        assert not any("met its gap" in n for n in said)


def test_a_whole_model_stage_without_a_plan_says_how_long_the_member_beside_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA79: "whole_model 17.7s (no plan (raced by a copy with another seed))" read as if the whole model
    beside, started at 1.4 s of a 40-s run, had not run: the stage says how long it ran, and the copy."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    _, spec = _spec(tmp_path, 30, 3, 5, 0.1)
    beside = _Member(None, time.perf_counter() + 0.6)  # ends without a plan
    beside.started -= 5.0  # it has run for 5 s already
    monkeypatch.setattr(background, "WholeModel", lambda *_a, **_k: _Member(None, time.perf_counter() + 0.3))
    monkeypatch.setattr(background, "available", lambda _backend: True)
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(10), 1e-3, 0, 1, 8, lambda _m: None)
    run.beside = beside  # type: ignore[assignment]
    pipeline.stage_whole(run)
    assert run.incumbent is None
    outcome = run.stages[-1].outcome
    assert outcome.startswith("no plan: the whole model beside found none in its ")
    ran = float(outcome.split("in its ")[1].split("s")[0])
    assert 5.2 <= ran <= 8.0
    assert "; raced for 0." in outcome  # the copy ran about 0.3 s
    assert outcome.endswith("s by a copy with another seed")


def test_members_still_running_at_the_deadline_are_cancelled_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA20 F11: with no plan at the deadline, both copies were stopped with a wait of up to ``GRACE``
    each (HiGHS in its presolve does not look at the cancel): an exit 3 at --time-limit 30 took 34.9 s.
    Their results are not used: they are cancelled and the run goes on at once."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    _, spec = _spec(tmp_path, 20, 2, 5, 0.1)
    members = [_Member(None, time.perf_counter() + 60), _Member(None, time.perf_counter() + 60)]
    monkeypatch.setattr(background, "WholeModel", lambda *_a, **_k: members[1])
    monkeypatch.setattr(background, "available", lambda _backend: True)
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(2.5), 1e-3, 0, 1, 8, lambda _m: None)
    for member in members:  # given the run's deadline, and ignoring it and the cancel, as HiGHS in presolve
        member.deadline = run.deadline
    assert pipeline._race_beside(run, members[0])  # type: ignore[arg-type]
    assert run.incumbent is None
    for member in members:
        assert member.stopped
        assert member.waits  # cancelled
        assert max(member.waits) <= background.HANDBACK  # never GRACE


def test_a_member_not_ended_by_its_deadline_is_not_waited_for(tmp_path: Path) -> None:
    """QA13 2: the run waited for the whole model to end and hand back its solution, up to two
    ``GRACE`` past its deadline (2.9 s on 1,300 cities x 40 reps; --time-limit 30 took 35.7 s). With the
    run's short ``grace`` it waits at most twice that past the deadline and gets None (the caller takes
    the member's best plan from its callback instead)."""

    class Slow(background.WholeModel):
        def _solve(self, *_args: object) -> None:  # a run that ignores its deadline and the cancel
            time.sleep(3.0)

    _, spec = _spec(tmp_path, 20, 2, 5, 0.1)
    member = Slow(spec, get_backend("highs"), deadline=time.perf_counter() + 0.2, gap=1e-4, seed=0, threads=1)
    began = time.perf_counter()
    assert member.finish(stop=False, grace=background.HANDBACK) is None
    assert time.perf_counter() - began < 0.2 + 2 * background.HANDBACK + 0.3
    assert member.live.cancel.is_set()  # it was told to stop


def test_the_exit_hook_cancels_the_members_still_running_and_waits_for_them(tmp_path: Path) -> None:
    """At interpreter exit a member still running (never cancelled, its deadline far off) would be torn
    down inside HiGHS (SIGABRT). The exit hook cancels it and waits for its thread, long before the
    deadline."""
    _, spec = _spec(tmp_path, 700, 24, 5, 0.01)
    beside = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 600, gap=0.0, seed=0, threads=1
    )
    time.sleep(1.5)
    assert background.solver_running()
    start = time.perf_counter()
    background._join_solvers()
    assert not beside.running()
    assert not background.solver_running()
    assert time.perf_counter() - start < background.EXIT_WAIT


def test_the_interpreter_hands_the_gil_over_quickly_while_a_member_solves(tmp_path: Path) -> None:
    """HiGHS's callbacks from the member's thread wait for the GIL; while a member runs, the switch
    interval is FAST_SWITCH, and the interpreter's own value comes back when the last member ends."""
    import sys

    _, spec = _spec(tmp_path, 700, 24, 5, 0.01)
    before = sys.getswitchinterval()
    assert before > background.FAST_SWITCH
    members = [
        background.WholeModel(
            spec, get_backend("highs"), deadline=time.perf_counter() + 600, gap=0.0, seed=s, threads=1
        )
        for s in (0, 1)
    ]
    time.sleep(1.0)
    assert all(m.running() for m in members)
    assert sys.getswitchinterval() == pytest.approx(background.FAST_SWITCH)
    assert not any(m.ended.is_set() for m in members)
    members[0].finish(stop=True)
    assert members[0].ended.is_set()
    assert sys.getswitchinterval() == pytest.approx(background.FAST_SWITCH)  # the other one still runs
    members[1].finish(stop=True)
    assert members[1].ended.is_set()
    assert sys.getswitchinterval() == pytest.approx(before)


def test_a_neighbourhood_step_whose_cancel_is_set_stops_with_the_incumbent(tmp_path: Path) -> None:
    """An improve step told to stop (the whole model beside has ended) is interrupted at once and ends
    with the plan it was warm-started from; the same step not told to stop improves that plan."""
    import threading

    from territory_planner.optimize import lp as lpmod

    _, spec = _spec(tmp_path, 300, 6, 11, 0.02)
    beside = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 60, gap=0.05, seed=0, threads=1
    )
    first = beside.finish(stop=False)
    assert first is not None
    assert first.unit_rep is not None
    plan = first.unit_rep
    pool = spec.allowed.copy()
    lp = lpmod.solve_lp(
        spec, get_backend("highs"), pool, deadline=time.perf_counter() + 60, seed=0, threads=1
    )
    before = float(spec.objective[np.arange(len(plan)), plan].sum())
    outcomes = {}
    for told in (True, False):
        cancel = threading.Event()
        if told:
            cancel.set()
        step = repair.improve_cluster(
            spec,
            lp,
            plan,
            np.arange(spec.problem.n_reps),
            get_backend("highs"),
            max_units=300,
            deadline=time.perf_counter() + 120,
            seed=0,
            threads=1,
            abs_gap=None,
            time_cap=120.0,
            cancel=cancel,
        )
        assert step.unit_rep is not None
        assert repair.feasible(spec, step.unit_rep)
        after = float(spec.objective[np.arange(len(plan)), step.unit_rep].sum())
        assert after <= before * (1 + 1e-9)
        outcomes[told] = after
    assert outcomes[True] == pytest.approx(before, rel=1e-12)  # interrupted at once: the start
    assert outcomes[False] < before * (1 - 1e-6)  # the same step, not told to stop, improves it


def test_a_run_whose_time_ends_before_the_members_does_not_wait_for_it(tmp_path: Path) -> None:
    """A solve given less time than the member beside it (``then_share``: the improve stage ends at a
    share of the time left) collects the member at its own end, cancelling it, instead of waiting for
    the member's deadline."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    _, spec = _spec(tmp_path, 700, 24, 5, 0.01)
    member = background.WholeModel(
        spec, get_backend("highs"), deadline=time.perf_counter() + 600, gap=0.0, seed=0, threads=1
    )
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(1.0), 0.0, 0, 1, 8, lambda _m: None)
    time.sleep(1.0)
    assert member.running()
    start = time.perf_counter()
    pipeline._collect_beside(run, member, "whole_model")
    assert time.perf_counter() - start < 60.0  # not the member's 600-s deadline
    assert member.live.cancel.is_set()  # cancelled
    member.finish(stop=True)
    assert not member.running()


@pytest.mark.parametrize("budget", [None, 0.9])
def test_with_a_budget_the_whole_model_runs_beside_on_larger_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget: float | None
) -> None:
    """QA21 Q7: on 62,520 pairs with a tight budget the stages found no plan and the whole model, which
    finds one, did not run (its limit was 60,000 pairs with or without a budget)."""
    from territory_planner.optimize import beside

    rng = np.random.default_rng(5)
    rep_rows = [{"rep_id": f"R{j}", "lat": 35.0 + j, "lon": -95.0 + j} for j in range(4)]
    a, r = write_instance(tmp_path, random_accounts(rng, 60, current_reps=4), rep_rows)
    pairs = 60 * 4
    monkeypatch.setattr(beside, "BESIDE_PAIRS", pairs - 1)  # where _start_beside reads them
    monkeypatch.setattr(beside, "BESIDE_PAIRS_BUDGET", pairs)
    said: list[str] = []
    api.solve(options_for(a, r, tolerance=0.1, max_moved_share=budget, time_limit=20), said.append)
    beside = any("the whole model runs in HiGHS beside" in m for m in said)
    assert beside == (budget is not None)


def test_a_copy_stopped_by_the_race_says_so_not_that_the_run_met_its_gap(tmp_path: Path) -> None:
    """QA37 F5: the copy stopped because the other found a plan first said "stopped once the run met its
    gap" in a run that ended on the clock at a 3.17% gap."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget
    from territory_planner.solvers.base import SolveStatus

    _, spec = _spec(tmp_path, 20, 2, 5, 0.1)
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(20), 1e-3, 0, 1, 8, lambda _m: None)
    done = repair.MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 1.0)
    stopped = _Member(done, time.perf_counter())
    stopped.seed, stopped.raced = 1, True  # type: ignore[attr-defined]
    why = "stopped when the copy with seed 0 found a plan first"
    pipeline._collect_beside(run, stopped, "whole_model", stop=True, why=why)  # type: ignore[arg-type]
    [note] = [n for n in run.notes if n.startswith("the whole model")]
    assert note.startswith(
        f"the whole model (the copy with seed 1) ran in HiGHS beside the other stages ({why}"
    )
    assert "met its gap" not in note


def test_idle_cores_are_read_from_the_cpus_of_the_process_and_its_quota() -> None:
    """Two readings of /proc/stat: cpu0 idle all along, cpu1 busy, cpu2 (not the process's) idle; the
    quota of a control group caps the idle cores at what it leaves the process."""
    head = "cpu  900 0 300 900 0 0 0 0 0 0\n"
    before = head + "cpu0 0 0 0 100 0 0 0 0 0 0\ncpu1 100 0 0 0 0 0 0 0 0 0\ncpu2 0 0 0 100 0 0 0 0 0 0\n"
    after = head + "cpu0 0 0 0 180 20 0 0 0 0 0\ncpu1 190 0 10 0 0 0 0 0 0 0\ncpu2 0 0 0 200 0 0 0 0 0 0\n"
    assert background.idle_between(before, after, {0, 1}) == pytest.approx(1.0)  # iowait counted idle
    assert background.idle_between(before, after, {1}) == pytest.approx(0.0)
    assert background.idle_between(before, after, {0, 1, 2}) == pytest.approx(2.0)
    assert background.idle_between(before, after, {0, 1}, used=1.2, quota=1.5) == pytest.approx(0.3)
    assert background.idle_between(before, after, {0, 1}, used=1.8, quota=1.5) == 0.0
    assert background.idle_between(before, before, {0, 1}) is None  # no time between the readings
    assert background.idle_between(before, after, {5}) is None  # none of the process's CPUs


def test_no_copy_races_the_whole_model_when_no_core_is_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA98 F1: 72 Wisconsin counties x 6 reps with a budget just below the least share, beside two other
    busy processes on two cores: the copy racing the whole model took half of its core, and the run
    ended with no proof in 6 runs of 7 (plain HiGHS proved it in 16.4 s of 20). With no idle core the
    run waits for the one member beside, and takes its plan."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    spec, plan = _solved(tmp_path)
    started: list[int] = []

    def member(*_args: object, seed: int, **_kw: object) -> _Member:
        started.append(seed)
        return _Member(None, time.perf_counter() + 60)

    monkeypatch.setattr(background, "WholeModel", member)
    monkeypatch.setattr(background, "available", lambda _backend: True)
    monkeypatch.setattr(background, "idle_cores", lambda *_a, **_k: 0.2)
    said: list[str] = []
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(20), 1e-3, 0, 1, 8, said.append)
    beside = _Member(plan, time.perf_counter() + 0.5)  # its plan after half a second
    assert pipeline._race_beside(run, beside) == ""  # type: ignore[arg-type]
    assert started == []  # no copy
    assert run.incumbent is not None
    assert (run.incumbent == plan.unit_rep).all()
    assert any("no copy with another seed: 0.2 cores idle" in m for m in said)


class _Blocking(_Member):
    """A member whose callback reports ``plan`` after ``at`` seconds, and whose ``finish(stop=False)``
    blocks until it ends, as a real member's does."""

    def __init__(self, result: repair.MipResult, at: float, ends: float) -> None:
        super().__init__(result, ends)
        self.at = time.perf_counter() + at

    def new_plan(self) -> np.ndarray | None:
        return self.result.unit_rep if time.perf_counter() >= self.at and self.taken == 0 else None

    def finish(self, *, stop: bool, grace: float = background.GRACE) -> repair.MipResult | None:
        while not stop and self.running():
            time.sleep(0.05)
        return super().finish(stop=stop, grace=grace)


def test_with_too_little_time_to_race_the_wait_ends_at_the_members_first_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no second copy (too little time left for one), the wait hands the member's first plan to the
    search at once, as the other waits do: it used to wait for the member's end, the plan unused until
    then."""
    from territory_planner.optimize import beside as beside_mod
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    spec, plan = _solved(tmp_path)
    monkeypatch.setattr(background, "available", lambda _backend: True)
    monkeypatch.setattr(beside_mod, "RACE_MIN_SECONDS", 1e9)  # never time enough for a copy
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(20), 1e-3, 0, 1, 8, lambda _m: None)
    run.lp = SimpleNamespace()  # type: ignore[assignment]  # a bound to search against
    member = _Blocking(plan, 0.2, time.perf_counter() + 4.0)
    started = time.perf_counter()
    assert pipeline._race_beside(run, member) == ""  # type: ignore[arg-type]
    assert time.perf_counter() - started < 2.0  # not the member's 4 s
    assert run.incumbent is not None
    assert (run.incumbent == plan.unit_rep).all()
    assert member.running()  # it goes on beside the search
    member.stopped = True
