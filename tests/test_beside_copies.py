"""Copies of the whole model with other seeds beside the search, on machines with cores to spare
(``optimize.background.Portfolio``), and the cores a run counts (control-group quotas, a sweep's share)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from territory_planner import api
from territory_planner.optimize import background, repair
from territory_planner.solvers import get_backend
from territory_planner.solvers.base import SolveStatus
from tests.conftest import options_for
from tests.test_background import _spec

pytestmark = pytest.mark.portfolio


@pytest.mark.parametrize(
    ("files", "cpus"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"quota": "-1\n", "period": "100000\n"}, None),
        ({"quota": "400000\n", "period": "100000\n"}, 4.0),
        ({}, None),  # no control group files: unknown
    ],
)
def test_the_control_groups_cpu_quota_is_read(
    tmp_path: Path, files: dict[str, str], cpus: float | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="ascii")
    layout = [(str(tmp_path / "cpu.max"), None), (str(tmp_path / "quota"), str(tmp_path / "period"))]
    assert background.cgroup_cpus(layout) == cpus


@pytest.mark.parametrize("text", ["inf 100000\n", "1e400 100000\n", "nan 100000\n", "100000\n", "x y\n"])
def test_a_quota_file_that_is_no_quota_is_unknown_not_an_error(tmp_path: Path, text: str) -> None:
    """QA73 F8: "inf 100000" made cores() raise OverflowError (every plan would fail), a byte outside ASCII
    a UnicodeDecodeError: anything but two positive numbers is no quota."""
    (tmp_path / "cpu.max").write_text(text, encoding="ascii")
    (tmp_path / "bad.max").write_bytes(b"\xff\xfe 100000")
    files: list[tuple[str, str | None]] = [(str(tmp_path / n), None) for n in ("cpu.max", "bad.max")]
    assert background.cgroup_cpus(files) is None


def test_the_quota_of_the_process_own_control_group_and_those_above_it_counts(tmp_path: Path) -> None:
    """QA73 F5: only the namespace root's files were read; a process in a sub-group (a systemd scope
    with CPUQuota, a batch job's group, a container without its own cgroup namespace) had no cap. The
    least quota on the way from its group to the root counts, for cgroup v2 and for v1's cpu controller."""
    v2 = tmp_path / "v2"
    (v2 / "job.slice" / "job-1.scope").mkdir(parents=True)
    (v2 / "job.slice" / "cpu.max").write_text("300000 100000\n", encoding="ascii")
    (v2 / "job.slice" / "job-1.scope" / "cpu.max").write_text("max 100000\n", encoding="ascii")
    membership = tmp_path / "cgroup_v2"
    membership.write_text("0::/job.slice/job-1.scope\n", encoding="ascii")
    files = background.cgroup_files(str(v2), str(membership))
    assert (str(v2 / "job.slice" / "job-1.scope" / "cpu.max"), None) in files
    assert background.cgroup_cpus(files) == 3.0
    v1 = tmp_path / "v1"
    group = v1 / "cpu,cpuacct" / "slurm" / "job_7"
    group.mkdir(parents=True)
    (group / "cpu.cfs_quota_us").write_text("150000\n", encoding="ascii")
    (group / "cpu.cfs_period_us").write_text("100000\n", encoding="ascii")
    membership = tmp_path / "cgroup_v1"
    membership.write_text("4:memory:/slurm/job_7\n3:cpu,cpuacct:/slurm/job_7\n", encoding="ascii")
    assert background.cgroup_cpus(background.cgroup_files(str(v1), str(membership))) == 1.5
    assert background.cgroup_cpus(background.cgroup_files(str(v1), str(tmp_path / "none"))) is None


def test_a_container_quota_caps_the_cores_a_run_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container given 2 CPUs of a 16-core host sees 16 in its affinity: the run counts 2 (and 1 with
    half a CPU), so it starts no more copies than it has CPUs for."""
    monkeypatch.setattr(background.os, "sched_getaffinity", lambda _pid: set(range(16)))
    monkeypatch.setattr(background, "cgroup_cpus", lambda: 2.0)
    assert background.cores() == 2
    assert background.portfolio_size(1) == 1
    monkeypatch.setattr(background, "cgroup_cpus", lambda: 1.5)
    assert background.cores() == 2  # a part of a CPU counts from a half
    monkeypatch.setattr(background, "cgroup_cpus", lambda: 0.5)
    assert background.cores() == 1
    assert not background.available(get_backend("highs"))  # no second core: nothing runs beside
    monkeypatch.setattr(background, "cgroup_cpus", lambda: None)
    assert background.cores() == 16


@pytest.mark.parametrize(
    ("cores", "threads", "copies"),
    [(1, 1, 1), (2, 1, 1), (3, 1, 2), (4, 1, 3), (16, 1, 4), (8, 2, 3), (8, None, 4)],
)
def test_one_copy_per_core_the_search_leaves(
    monkeypatch: pytest.MonkeyPatch, cores: int, threads: int | None, copies: int
) -> None:
    monkeypatch.setattr(background, "cores", lambda: cores)
    assert background.portfolio_size(threads) == copies
    with background.one_copy():  # a sweep's point
        assert background.portfolio_size(threads) == 1
    assert background.portfolio_size(threads) == copies


def test_a_portfolio_ends_with_a_proven_plan_and_a_valid_bound(tmp_path: Path) -> None:
    _, spec = _spec(tmp_path, 120, 4, 3, 0.08)
    portfolio = background.Portfolio(
        spec, get_backend("highs"), deadline=time.perf_counter() + 60, gap=1e-4, seeds=[0, 1, 2], threads=1
    )
    assert [m.seed for m in portfolio.members] == [0, 1, 2]
    res = portfolio.finish(stop=False)
    assert not portfolio.running()
    assert not any(m.running() for m in portfolio.members)
    assert res is not None
    assert res.status == SolveStatus.OPTIMAL
    assert res.unit_rep is not None
    assert repair.feasible(spec, res.unit_rep)
    objective = float(spec.objective[np.arange(len(res.unit_rep)), res.unit_rep].sum())
    assert res.bound is not None
    assert res.bound <= objective * (1 + 1e-9)
    assert objective <= res.bound * (1 + 2e-4)
    assert portfolio.seed in (0, 1, 2)


class _Copy:
    """A stand-in copy: runs until cancelled, or ends at once with ``result``."""

    def __init__(self, seed: int, result: repair.MipResult | None, plan: np.ndarray | None = None) -> None:
        self.seed, self.result, self.plan = seed, result, plan
        self.live = SimpleNamespace(cancel=threading.Event(), taken=0)
        self.ended = threading.Event()
        self.offered: list[np.ndarray] = []
        self.offered_counted: list[tuple[np.ndarray, bool]] = []
        self.bound = float(seed)
        if result is not None:
            self.ended.set()

    def running(self) -> bool:
        if self.live.cancel.is_set():
            self.ended.set()
        return not self.ended.is_set()

    @property
    def taken(self) -> int:  # the search's plans only, as ``LiveMip`` counts them
        return sum(counted for _, counted in self.offered_counted)

    def offer(self, plan: np.ndarray, *, counted: bool = True) -> None:
        self.offered.append(plan)
        self.offered_counted.append((plan, counted))

    def new_plan(self) -> np.ndarray | None:
        plan, self.plan = self.plan, None
        return plan

    def finish(self, *, stop: bool, grace: float = 0.0) -> repair.MipResult | None:  # noqa: ARG002
        if stop:
            self.live.cancel.set()
        self.running()
        return self.result


def _portfolio(monkeypatch: pytest.MonkeyPatch, copies: list[_Copy], spec: object) -> background.Portfolio:
    made = iter(copies)
    monkeypatch.setattr(background, "WholeModel", lambda *_a, **_k: next(made))
    return background.Portfolio(
        spec,  # type: ignore[arg-type]
        get_backend("highs"),
        deadline=time.perf_counter() + 60,
        gap=1e-4,
        seeds=[c.seed for c in copies],
        threads=1,
    )


def test_the_first_proof_ends_every_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy that proves the optimum ends the others at once (their cancel set), the portfolio says it
    has ended (the search's steps watch ``ended``), and ``finish`` returns the proof, named by its seed."""
    proof = repair.MipResult(np.zeros(3, dtype=np.int64), 5.0, 5.0, SolveStatus.OPTIMAL, 0, 0, 0.1)
    copies = [_Copy(0, None), _Copy(1, None), _Copy(2, proof)]
    portfolio = _portfolio(monkeypatch, copies, None)
    assert portfolio.ended.wait(2.0)
    assert not portfolio.running()
    assert copies[0].live.cancel.is_set()
    assert copies[1].live.cancel.is_set()
    assert portfolio.finish(stop=False) is proof
    assert portfolio.seed == 2
    assert portfolio.bound == 2.0  # the best of the copies' bounds


def test_without_a_proof_the_best_plan_of_the_copies_is_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    worse = repair.MipResult(np.zeros(3, dtype=np.int64), 9.0, 4.0, SolveStatus.FEASIBLE, 0, 0, 1.0)
    better = repair.MipResult(np.ones(3, dtype=np.int64), 7.0, 4.5, SolveStatus.FEASIBLE, 0, 0, 1.0)
    none = repair.MipResult(None, None, 4.2, SolveStatus.NO_SOLUTION, 0, 0, 1.0)
    portfolio = _portfolio(monkeypatch, [_Copy(0, worse), _Copy(1, none), _Copy(3, better)], None)
    assert portfolio.finish(stop=True) is better
    assert portfolio.seed == 3


def test_a_plan_one_copy_finds_is_handed_to_the_others_once_the_run_kept_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA73 F6: every plan a copy found was handed to the others at once, whatever its value, and replaced
    the search's better plan still pending there. Now only a plan the run kept (better than every plan
    handed over before) goes to the other copies, and the copy that found it is the one the note names
    when several copies end with it."""
    plan = np.array([1, 0, 1])
    copies = [_Copy(0, None), _Copy(1, None, plan), _Copy(2, None)]
    portfolio = _portfolio(monkeypatch, copies, None)
    got = portfolio.new_plan()
    assert got is not None
    assert (got == plan).all()
    assert [len(c.offered) for c in copies] == [0, 0, 0]  # not handed before the run keeps it
    assert portfolio.new_plan() is None  # reported once
    portfolio.kept(got)
    assert [len(c.offered) for c in copies] == [1, 0, 1]
    search_plan = np.array([0, 0, 1])
    portfolio.offer(search_plan)  # the search's plans go to every copy
    assert all(c.offered[-1] is search_plan for c in copies)
    assert portfolio.taken == 1  # the search's one plan, not the copies' shares nor a sum over copies
    same = repair.MipResult(plan, 7.0, 4.0, SolveStatus.FEASIBLE, 0, 0, 1.0)
    for c in copies:  # every copy ends holding the plan copy 1 found
        c.result = same
    assert portfolio.finish(stop=True) is same
    assert portfolio.seed == 1


def test_a_run_on_four_cores_races_three_copies_and_keeps_a_valid_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With four cores the run starts three copies (HiGHS's default seed, then the run's, then the next),
    says so, and ends with a plan within its bands whose bound holds, the note naming the copy."""
    if background.cores() < 2:
        pytest.skip("the whole model runs beside only with two cores")
    monkeypatch.setattr(background, "cores", lambda: 4)
    opts, spec = _spec(tmp_path, 200, 6, 11, 0.04)
    messages: list[str] = []
    options = options_for(opts.accounts, opts.reps, tolerance=0.04, time_limit=20, seed=5)
    out = api.solve(options, messages.append)
    assert any("3 copies (seeds 0, 5, 1)" in m for m in messages)
    s = out.summary
    assert s["lower_bound"] <= s["objective"] * (1 + 1e-9)
    assert repair.feasible(spec, out.plan.unit_rep)
    objective = float(spec.objective[np.arange(len(out.plan.unit_rep)), out.plan.unit_rep].sum())
    assert objective == pytest.approx(s["objective"], rel=1e-9)
    assert any("beside" in note and "the copy with seed" in note for note in s["notes"])


def test_a_plan_another_copy_found_is_not_counted_as_the_searchs() -> None:
    from territory_planner.solvers.base import LiveMip

    live = LiveMip()
    live.post(np.ones(3), counted=False)  # a copy's plan handed to this one
    assert live.take() is not None
    assert live.taken == 0
    live.post(np.zeros(3))  # the search's
    live.post(np.ones(3), counted=False)  # replaced before it was taken by a copy's: not counted
    assert live.take() is not None
    assert live.taken == 0
    live.post(np.zeros(3))
    assert live.take() is not None
    assert live.taken == 1


def test_a_run_waiting_on_copies_says_copies_not_a_racing_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA73 F7: with copies running from the start, the whole-model stage said "raced by a copy with
    another seed", though no such copy was started: it names the copies and their seeds."""
    from territory_planner.optimize import pipeline
    from territory_planner.optimize.budget import TimeBudget

    _, spec = _spec(tmp_path, 20, 2, 5, 0.1)
    none = repair.MipResult(None, None, None, SolveStatus.NO_SOLUTION, 0, 0, 1.0)
    portfolio = _portfolio(monkeypatch, [_Copy(0, none), _Copy(4, none), _Copy(1, none)], spec)
    monkeypatch.setattr(background, "available", lambda _backend: True)
    run = pipeline.Run(spec, get_backend("highs"), TimeBudget.seconds(20), 1e-3, 4, 1, 8, lambda _m: None)
    run.beside = portfolio
    assert pipeline._race_beside(run, portfolio) == "3 copies, seeds 0, 4, 1"
    assert run.beside is None  # ended without a plan: collected
    assert any("the copy with seed" in note for note in run.notes)


def test_the_quota_files_are_closed_when_read(tmp_path: Path) -> None:
    """QA90 F6: the control group's files were opened and left to the garbage collector, a
    ResourceWarning each, which a caller's test suite run with warnings as errors failed on."""
    import gc
    import warnings

    (tmp_path / "cpu.max").write_text("200000 100000\n", encoding="ascii")
    (tmp_path / "quota").write_text("100000\n", encoding="ascii")
    (tmp_path / "period").write_text("100000\n", encoding="ascii")
    membership = tmp_path / "cgroup"
    membership.write_text("0::/\n", encoding="ascii")
    layout = [(str(tmp_path / "cpu.max"), None), (str(tmp_path / "quota"), str(tmp_path / "period"))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert background.cgroup_cpus(layout) == 1.0
        background.cgroup_files(str(tmp_path), str(membership))
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
