"""The neighbourhood search does not solve the same neighbourhood MIP twice: the same reps freed from
the same plan with the same cuts is the same model, and HiGHS's path is fixed by its seed. With few
reps the rings of every territory are the same reps (often all of them): on the flip tests' 10 x 10 grid
x 5 reps at +-0.01%, ``Lns.rebalance`` solved the whole map 5 times over, 10.5 s each, to the same "no
plan", before any other attempt ran."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from territory_planner.optimize import contiguous
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.formulation import Cut
from territory_planner.solvers import get_backend
from tests.test_contiguity_flips import _model
from tests.test_contiguity_rebalance import _voronoi


def _search(tmp_path: Path, tolerance: float = 0.0001):  # type: ignore[no-untyped-def]
    spec, adj, centre = _model(tmp_path, tolerance=tolerance)
    spec_c = contiguous.with_centres(spec, centre)
    search = lns.Lns(spec_c, adj, get_backend("highs"), centre, lns.CutPool(), 1e-4, 0, 1)
    return search, _voronoi(spec_c, adj, centre)


def _record(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.0) -> list[tuple[bytes, bytes, bool, int]]:
    """Every neighbourhood solved (its plan, its reps, ordered, the cuts in the pool), answered "no plan"
    after ``seconds`` (or at its deadline, when that comes first)."""
    calls: list[tuple[bytes, bytes, bool, int]] = []

    def solve(_spec, _adj, _backend, plan, reps, _centre, pool, *, deadline, ordered=False, **_k):  # type: ignore[no-untyped-def]
        calls.append((plan.tobytes(), np.sort(reps).tobytes(), ordered, len(pool.cuts)))
        time.sleep(max(0.0, min(seconds, deadline - time.perf_counter())))
        return None, 1

    monkeypatch.setattr(lns, "solve_neighbourhood", solve)
    return calls


def test_rebalance_solves_each_neighbourhood_once_and_ends_before_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search, plan = _search(tmp_path)
    calls = _record(monkeypatch)
    began = time.perf_counter()
    assert search.rebalance(plan, began + 30.0) is None
    assert time.perf_counter() - began < 10.0  # every attempt failed: no attempt is left, the time is
    assert calls  # not waited out
    assert len(set(calls)) == len(calls)
    assert search.repeats >= 1  # the grid's 5 reps: the rings of several territories are the same reps
    assert search.solves == len(calls)


def test_a_neighbourhood_cut_short_by_its_deadline_is_solved_again_with_more_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search, plan = _search(tmp_path)
    calls = _record(monkeypatch, seconds=60.0)  # every solve runs until its deadline
    reps = np.arange(5)
    now = time.perf_counter()
    assert search._step(plan, reps, True, now + 1.5) is None
    assert len(calls) == 1
    assert search._step(plan, reps, True, time.perf_counter() + 1.0) is None  # less time: the same answer
    assert len(calls) == 1
    assert search._step(plan, reps, True, time.perf_counter() + 3.0) is None  # more time: solved again
    assert len(calls) == 2
    assert search._step(plan, reps, False, time.perf_counter() + 1.0) is None  # another model: the cut loop
    assert len(calls) == 3


def test_a_neighbourhood_is_solved_again_once_the_pool_has_new_cuts_or_the_plan_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search, plan = _search(tmp_path)
    calls = _record(monkeypatch)
    reps = np.array([0, 1])
    deadline = time.perf_counter() + 30.0
    search._step(plan, reps, True, deadline)
    search._step(plan, reps[::-1].copy(), True, deadline)  # the same reps in another order
    assert len(calls) == 1
    search.pool.add([Cut(0, 1, (2, 3))])
    search._step(plan, reps, True, deadline)
    assert len(calls) == 2
    other = plan.copy()
    unit = int(np.flatnonzero(plan == 0)[-1])
    other[unit] = 1
    search._step(other, reps, True, deadline)
    assert len(calls) == 3


def test_a_plan_found_is_given_again_as_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    search, plan = _search(tmp_path, tolerance=0.10)
    answers: list[np.ndarray] = []

    def solve(_spec, _adj, _backend, start, *_a, **_k):  # type: ignore[no-untyped-def]
        answers.append(start[::-1].copy())
        return answers[-1], 1

    monkeypatch.setattr(lns, "solve_neighbourhood", solve)
    first = search._step(plan, np.arange(5), True, time.perf_counter() + 30.0)
    assert first is not None
    expected = first.copy()
    first[:] = -1  # the caller's plan, changed after the step
    again = search._step(plan, np.arange(5), True, time.perf_counter() + 30.0)
    assert len(answers) == 1
    assert again is not None
    assert (again == expected).all()
