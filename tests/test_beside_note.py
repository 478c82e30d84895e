"""The note on the whole model run beside the search says what its plan is to the run (QA28 F4: "its best
plan (118,899.9) was not better than the search's" of the plan written, which HiGHS had reported while it
ran and the search had none; and "optimal" beside a run status "feasible" at a 0.074% gap, where HiGHS
had stopped within its 0.1% gap)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from territory_planner.optimize import pipeline
from territory_planner.optimize.repair import MipResult
from territory_planner.solvers.base import SolveStatus


def _note(source: str, objective: float, status: SolveStatus = SolveStatus.OPTIMAL) -> str:
    notes: list[str] = []
    run: Any = SimpleNamespace(
        done=lambda: False,
        deadline=100.0,
        beside="member",
        raise_bound=lambda _value: None,
        offer=lambda _plan, _source: False,  # the same plan as the run's: not kept again
        incumbent=np.zeros(3, dtype=np.int64),
        upper=118_899.9,
        source=source,
        notes=notes,
        proven=False,
        progress=lambda _message: None,
    )
    result = MipResult(np.zeros(3, dtype=np.int64), objective, 118_811.8, status, 3, 3, 20.0)
    beside: Any = SimpleNamespace(
        deadline=50.0,
        finish=lambda **_kw: result,
        bound=118_811.8,
        gap=0.001,
        taken=0,
    )
    pipeline._collect_beside(run, beside, "lp")
    assert len(notes) == 1
    return notes[0]


def test_the_plan_taken_from_it_while_it_ran_is_called_the_runs_best() -> None:
    note = _note("whole_model", 118_899.9)
    assert "taken while it ran, is the run's best" in note
    assert "not better" not in note
    assert "optimal within its 0.1% gap" in note


def test_a_plan_no_better_than_the_searchs_is_still_said_so() -> None:
    note = _note("construct", 118_950.0, SolveStatus.FEASIBLE)
    assert "its best plan (118,950.0) was not better than the search's" in note
    assert "(feasible," in note
