"""Ctrl-C stops a HiGHS solve at once and ends the command (QA29 F8: a KeyboardInterrupt raised in one
of HiGHS's Python callbacks was swallowed, the run went on to its time limit and wrote its plan)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pulp
import pytest

from territory_planner.interrupt import USER_INTERRUPT, on_sigint
from territory_planner.solvers import get_backend
from territory_planner.solvers.base import LiveMip
from tests.conftest import assignment_mip


@pytest.fixture(autouse=True)
def _clear_interrupt() -> Iterator[None]:
    USER_INTERRUPT.clear()
    yield
    USER_INTERRUPT.clear()


def _mip() -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[pulp.LpConstraint]]:
    """A generalised assignment MIP HiGHS does not settle at its root (tight capacities)."""
    prob, columns, rows, _ = assignment_mip(3, 200, 8, 1.005)
    return prob, columns, rows


KW: dict[str, Any] = {"mip": True, "time_limit": 60.0, "gap": 0.0, "seed": 0, "threads": 1}


@pytest.mark.parametrize("live", [False, True])
def test_a_solve_after_ctrl_c_raises_keyboard_interrupt(live: bool) -> None:
    """With the Ctrl-C flag set, a MIP in the main thread (with or without a caller's ``LiveMip``) is
    interrupted by its callbacks and raises KeyboardInterrupt instead of returning a result."""
    prob, columns, rows = _mip()
    USER_INTERRUPT.set()
    with pytest.raises(KeyboardInterrupt):
        get_backend("highs").solve(prob, columns, rows, live=LiveMip() if live else None, **KW)


def test_a_solver_thread_returns_and_leaves_the_interrupt_to_the_main_thread() -> None:
    """A member solving beside the search is stopped by the flag and returns (an exception in a thread
    would only be printed); the main thread raises."""
    prob, columns, rows = _mip()
    USER_INTERRUPT.set()
    out: dict[str, Any] = {}

    def member() -> None:
        try:
            out["result"] = get_backend("highs").solve(prob, columns, rows, live=LiveMip(), **KW)
        except BaseException as exc:  # noqa: BLE001 - what the thread saw is the assertion
            out["error"] = exc

    t = threading.Thread(target=member)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive()
    assert "error" not in out
    assert out["result"].status.value in ("feasible", "no_solution")  # stopped, not proven


def test_the_sigint_handler_sets_the_flag_and_raises() -> None:
    with pytest.raises(KeyboardInterrupt):
        on_sigint(signal.SIGINT, None)
    assert USER_INTERRUPT.is_set()


def test_without_ctrl_c_the_same_mip_is_solved() -> None:
    """The control: the interrupt callbacks leave an uninterrupted solve alone (proven optimal)."""
    prob, columns, rows = _mip()
    res = get_backend("highs").solve(prob, columns, rows, **KW)
    assert res.status.value == "optimal"
