"""Stages begun with their time already up on a large model (QA77: 20,000 ZIPs x 100 reps and 33,300 x 200
at --time-limit 5 to 12, the inputs read in 3 to 6 s): the balancing search ran sixteen steps (0.13 s each
there) past a deadline already passed, the full LP's first master was built after the clustered LP had used
the stage's time, and the command ended 1 to 5 s past its promise of 1.05 x limit + 2 s."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from territory_planner.errors import SolverError
from territory_planner.optimize import aggregate, construct, pipeline
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.budget import TimeBudget
from territory_planner.solvers import get_backend
from tests.test_background import _spec


def test_the_balancing_search_takes_no_step_long_past_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, spec = _spec(tmp_path, 300, 6, 2, 0.02)
    start = construct.greedy_plan(spec)
    cand = construct.candidate_reps(spec, 6, np.zeros(spec.allowed.shape, dtype=bool))
    steps: list[int] = []
    real = construct._apply_batch

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        steps.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(construct, "_apply_batch", counted)
    # a search begun with its deadline passed takes the steps that end within OVERRUN of its start, at
    # most fifteen (a small model's all end within it, as before), and none when each takes longer
    construct.balance_search(spec, start, cand, deadline=time.perf_counter() - 1.0)
    assert 0 < len(steps) <= 15
    steps.clear()
    monkeypatch.setattr(construct, "OVERRUN", 0.0)
    plan, violation = construct.balance_search(spec, start, cand, deadline=time.perf_counter() - 1.0)
    assert not steps
    assert (plan == start).all()
    # with time, the same search does take steps (the start is out of balance)
    assert violation > 0
    construct.balance_search(spec, start, cand, deadline=time.perf_counter() + 5.0)
    assert steps


def _run(spec, budget: TimeBudget) -> pipeline.Run:  # type: ignore[no-untyped-def]
    return pipeline.Run(spec, get_backend("highs"), budget, 1e-3, 0, 1, 8, lambda _m: None)


def test_no_full_lp_is_begun_when_the_clustered_lp_used_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large model (the clustered LP first): the clustered LP ended past the stage's deadline, the
    promise still ahead: no full LP (its first master alone takes seconds to build there)."""
    _, spec = _spec(tmp_path, 200, 5, 3, 0.05)
    begun: list[int] = []
    monkeypatch.setattr(lpmod, "solve_lp", lambda *_a, **_k: begun.append(1))
    monkeypatch.setattr(aggregate, "applies", lambda *_a: True)
    monkeypatch.setattr(aggregate, "aggregated_duals", lambda *_a, **_k: None)
    run = _run(spec, TimeBudget.seconds(60.0))
    with pytest.raises(SolverError, match="its time was up before the full LP's first round"):
        pipeline._solve_lp(run, time.perf_counter() - 0.1)
    assert not begun


def test_past_the_promise_after_the_clustered_lp_the_run_ends_with_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large model's clustered LP that ends past the moment the command must end by: no full LP, and,
    with no plan yet, the run ends there (exit 3)."""
    _, spec = _spec(tmp_path, 200, 5, 3, 0.05)
    begun: list[int] = []
    monkeypatch.setattr(lpmod, "solve_lp", lambda *_a, **_k: begun.append(1))
    monkeypatch.setattr(aggregate, "applies", lambda *_a: True)
    monkeypatch.setattr(aggregate, "aggregated_duals", lambda *_a, **_k: None)
    now = time.perf_counter()
    run = _run(spec, TimeBudget(now - 10.0, now + 30.0, 40.0, now - 0.1))
    with pytest.raises(pipeline._PastPromiseError):
        pipeline._solve_lp(run, now + 30.0)
    assert not begun
