"""With --contiguous, a base plan that found nothing in its share searches on instead of ending the run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from territory_planner import api
from territory_planner.errors import SolverError
from territory_planner.optimize.budget import TimeBudget


def _fake_solve(answers: list[Any], budgets: list[TimeBudget]):  # type: ignore[no-untyped-def]
    def solve(_spec, _backend, *, budget, **_kw):  # type: ignore[no-untyped-def]
        budgets.append(budget)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return solve


def test_the_base_plan_searches_on_with_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[TimeBudget] = []
    plan = (np.zeros(3, dtype=np.int64), "result")
    monkeypatch.setattr(api.pipeline, "solve", _fake_solve([SolverError("no plan found yet"), plan], budgets))
    full = TimeBudget.seconds(60.0)
    share = full.child("base_plan")
    out = api._base_plan(None, None, share, full, {}, 0.0, lambda _m: None)  # type: ignore[arg-type]
    assert out is plan
    assert budgets == [share, full]


def test_no_second_try_without_a_share_and_the_centres_time_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[TimeBudget] = []
    monkeypatch.setattr(api.pipeline, "solve", _fake_solve([SolverError("no plan found yet")], budgets))
    full = TimeBudget.seconds(60.0)
    # QA18 F4: what came before the solve is named, out of the limit
    pattern = (
        r"no plan found yet \(of the 60s, -?[0-9.]+s went to reading the inputs, 7.5s to choosing the reps' "
        r"centres and [0-9.]+s are kept for writing the plan and its forecast\)"
    )
    with pytest.raises(SolverError, match=pattern):
        api._base_plan(None, None, full, full, {}, 7.5, lambda _m: None, forecast=True)  # type: ignore[arg-type]
    assert budgets == [full]
    # a share that failed twice: the second failure is the one told
    budgets.clear()
    errors = [SolverError("first"), SolverError("second")]
    monkeypatch.setattr(api.pipeline, "solve", _fake_solve(errors, budgets))
    with pytest.raises(SolverError, match=r"^second \(of the 60s"):
        api._base_plan(None, None, full.child("base_plan"), full, {}, 0.0, lambda _m: None)  # type: ignore[arg-type]
    assert len(budgets) == 2
