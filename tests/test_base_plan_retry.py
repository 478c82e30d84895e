"""With --contiguous, a base plan that finds nothing in its share searches on instead of ending the run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from territory_planner import api
from territory_planner.errors import SolverError
from territory_planner.optimize import pipeline
from territory_planner.optimize.budget import TimeBudget


def _fake_solve(answers: list[Any], budgets: list[TimeBudget], kwargs: list[dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    def solve(_spec, _backend, *, budget, **kw):  # type: ignore[no-untyped-def]
        budgets.append(budget)
        if kwargs is not None:
            kwargs.append(kw)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return solve


def test_the_base_plan_searches_with_the_whole_time_in_one_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until a plan exists the search has the whole budget; the base plan's share applies once one does
    (``after_plan``) and a later plan keeps ``then_share`` of the time left: one solve, not a second one
    from scratch after the share (which built the LP and the whole model again)."""
    budgets: list[TimeBudget] = []
    kwargs: list[dict[str, Any]] = []
    plan = (np.zeros(3, dtype=np.int64), "result")
    monkeypatch.setattr(pipeline, "solve", _fake_solve([plan], budgets, kwargs))
    full = TimeBudget.seconds(60.0)
    share = full.child("base_plan")
    out = api._base_plan(None, None, share, full, {}, 0.0)  # type: ignore[arg-type]
    assert out is plan
    assert budgets == [full]
    assert kwargs[0]["after_plan"] is share
    assert kwargs[0]["then_share"] == "base_plan"
    # no plan in all of it: the failure is told once, with where the time went
    budgets.clear()
    monkeypatch.setattr(pipeline, "solve", _fake_solve([SolverError("no plan found yet")], budgets))
    with pytest.raises(SolverError, match=r"^no plan found yet \(of the 60s"):
        api._base_plan(None, None, share, full, {}, 0.0)  # type: ignore[arg-type]
    assert budgets == [full]


def test_no_second_try_without_a_share_and_the_centres_time_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[TimeBudget] = []
    monkeypatch.setattr(pipeline, "solve", _fake_solve([SolverError("no plan found yet")], budgets))
    full = TimeBudget.seconds(60.0)
    # QA18 F4: what came before the solve is named, out of the limit
    pattern = (
        r"no plan found yet \(of the 60s, -?[0-9.]+s went to reading the inputs, 7.5s to choosing the reps' "
        r"centres and [0-9.]+s are kept for writing the plan and its forecast\)"
    )
    with pytest.raises(SolverError, match=pattern):
        api._base_plan(None, None, full, full, {}, 7.5, forecast=True)  # type: ignore[arg-type]
    assert budgets == [full]
