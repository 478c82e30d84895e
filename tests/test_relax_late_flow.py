"""``--contiguous --relax`` on a map the flow model fits: the flow model keeps the whole contiguity stage,
as it does without --relax, and its connected plan wins over the least violation looked for beside it.

QA102 F2: 78 Thai provinces x 8 reps, workload +-5%, a disruption budget, 30 s: the flow model was
stopped at 65% of the stage so that the least violation of connected plans had the rest, and --relax wrote
a plan with two territories in pieces where the flow model (plain PuLP's) proves a connected plan within
every band optimal in 11-23 s.

The flow model here is a stand-in that finds a connected plan within every band at a fixed moment of the
stage (70% of it: after the 65% the search keeps without a plan), as HiGHS finds one when its path gets
there whatever its deadline; the search's own steps are switched off, so that nothing else finds a plan.
The map is the flip tests' 10 x 10 grid."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from territory_planner.geo import contiguity, contiguity_stage
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import background, contiguous, contiguous_flow, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.repair import MipResult
from territory_planner.solvers import get_backend
from territory_planner.solvers.base import SolveStatus
from tests.test_contiguity_flips import _model

LIMIT = 8.0  # the stage's seconds: the flow model's deadline is LIMIT - GRACE (6 s), 65% of it 3.2 s
FOUND_AT = 0.7  # share of the stage at which the stand-in has its plan


class _Flow:
    """A flow model that has ``plan`` from ``at`` (a moment) on and runs to its deadline."""

    def __init__(self, plan: np.ndarray, value: float, at: float, deadline: float) -> None:
        self.plan, self.value, self.at, self.deadline = plan, value, at, deadline
        self.proved = threading.Event()
        self.found: np.ndarray | None = None
        self.stopped_at: float | None = None

    def _now_has(self) -> bool:
        return time.perf_counter() >= self.at and time.perf_counter() <= self.deadline + 0.05

    def running(self) -> bool:
        return self.stopped_at is None and time.perf_counter() < self.deadline

    def has_plan(self) -> bool:
        return self._now_has()

    def settled(self) -> bool:
        return False

    def wants_core(self) -> bool:
        return False

    def offer(self, plan: np.ndarray) -> None:
        pass

    def finish(self, *, stop: bool) -> MipResult | None:
        if stop:
            self.stopped_at = time.perf_counter()
        else:
            while time.perf_counter() < self.deadline:
                time.sleep(0.02)
        if self.stopped_at is not None and self.stopped_at < self.at:
            return None
        if time.perf_counter() < self.at:
            return None
        return MipResult(self.plan, self.value, 0.95 * self.value, SolveStatus.FEASIBLE, 0, 0, 1.0)


def _stage(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Any, Any, np.ndarray, np.ndarray, list[_Flow], list[float], float]:
    spec, adj, centre = _model(tmp_path)
    spec_c = contiguous.with_centres(spec, centre)
    within = contiguous.flip_plan(spec_c, adj, centre, time.perf_counter() + 20.0, 0)
    assert within is not None
    assert repair.feasible(spec_c, within)
    assert (contiguity.count_pieces(adj, within, spec.problem.n_reps) == 1).all()
    # the plan before the stage: the connected one with a unit next to a home given across the map
    split = within.copy()
    far = int(np.flatnonzero(within == 0)[-1])
    split[far] = 3 if within[far] != 3 else 1
    flows: list[_Flow] = []
    begin = [0.0]

    def start_phased(*_a: Any, deadline: float, **_k: Any) -> _Flow:
        flow = _Flow(within, lns.objective(spec, within), begin[0] + FOUND_AT * LIMIT, deadline)
        flows.append(flow)
        return flow

    def least(*_a: Any, deadline: float, cancel: threading.Event | None = None, **_k: Any) -> None:
        """The least violation of connected plans: it finds nothing, until cancelled or its deadline."""
        while time.perf_counter() < deadline and not (cancel is not None and cancel.is_set()):
            time.sleep(0.02)
        ended.append(time.perf_counter())

    ended: list[float] = []
    # the search's own steps find nothing (the piece repair mends nothing): only the flow model can
    monkeypatch.setattr(contiguous_flow, "start_phased", start_phased)
    monkeypatch.setattr(contiguous_flow, "least_violation_connected", least)
    monkeypatch.setattr(contiguous, "repair_pieces", lambda *a: a[2].copy())
    monkeypatch.setattr(contiguous, "_mend_start", lambda st, plan: setattr(st, "last_plan", plan))
    monkeypatch.setattr(contiguous, "_flips", lambda *_a: None)
    monkeypatch.setattr(contiguous, "_flow_twin", lambda *_a, **_k: True)
    monkeypatch.setattr(contiguous, "_lns_finish", lambda *_a: "cuts")
    begin[0] = time.perf_counter()
    return spec, adj, split, within, flows, ended, begin[0]


def _run(spec: Any, adj: Any, split: np.ndarray) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    p = spec.problem
    value = lns.objective(spec, split)
    result = SolveResult("feasible", False, value, value, 0.9 * value, 0.1, 1.0, "highs", "round")
    lat = np.array([float(p.home_lat[j]) for j in range(p.n_reps)])
    lon = np.array([float(p.home_lon[j]) for j in range(p.n_reps)])
    return contiguity_stage.make_contiguous(
        spec, adj, split, result, get_backend("highs"), lat=lat, lon=lon,
        time_limit=LIMIT, gap=1e-4, seed=0, threads=1, relax=True,
    )  # fmt: skip


def test_relax_keeps_the_flow_model_to_the_end_of_the_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, adj, split, within, flows, _, begin = _stage(monkeypatch, tmp_path)
    assert (contiguity.count_pieces(adj, split, spec.problem.n_reps) > 1).any()
    plan, result, info = _run(spec, adj, split)
    assert len(flows) == 1
    # its deadline is the stage's end (less the time HiGHS may take to stop), not 65% of the stage
    assert flows[0].deadline == pytest.approx(begin + LIMIT - background.GRACE, abs=0.3)
    assert flows[0].stopped_at is None or flows[0].stopped_at >= flows[0].at
    # its connected plan within every band is the plan written, not a relaxed one
    assert np.array_equal(plan, within)
    assert info["contiguous"]
    assert result.status in ("feasible", "optimal")
    assert result.violations == ()
    assert result.objective == pytest.approx(lns.objective(spec, within))


def test_the_least_violation_stops_once_the_flow_model_has_a_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The least violation of connected plans, looked for beside the flow model, is cancelled by its plan
    (nothing is left to relax), and the stage ends with the flow model's deadline."""
    spec, adj, split, within, flows, ended, begin = _stage(monkeypatch, tmp_path)
    plan, result, _ = _run(spec, adj, split)
    assert np.array_equal(plan, within)
    assert len(ended) == 1
    assert ended[0] == pytest.approx(flows[0].at, abs=0.5)  # the watch polls every 0.1 s
    assert time.perf_counter() - begin < LIMIT - 0.5
