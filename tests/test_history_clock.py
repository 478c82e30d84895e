"""summary.json's ``history`` counts every event from the command's start, also the events of a solve
given a stage's budget (QA82 F5: with --contiguous the base plan's events were counted from that stage's
own start, 0.28 s after an event at 1.77 s)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from test_portfolio import _spec, _write

from territory_planner.optimize import pipeline
from territory_planner.optimize.budget import TimeBudget
from territory_planner.solvers import get_backend
from tests.conftest import random_accounts


def test_a_stage_budget_keeps_the_command_start_and_the_history_counts_from_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    reps = [{"rep_id": f"R{j}", "lat": 35 + j, "lon": -95 + j} for j in range(4)]
    a, r = _write(tmp_path, random_accounts(rng, 120), reps)
    _, _, spec = _spec(a, r)
    command = TimeBudget.for_command(60.0, started=time.perf_counter() - 5.0)  # 5 s of reading behind it
    for stage in (command.child("base_plan"), command.within(time.perf_counter() + 20.0)):
        assert stage.began == command.start
        kw: dict[str, Any] = {"gap": 1e-4, "seed": 0, "threads": 1, "candidates": 8, "relax": False}
        _, result = pipeline.solve(spec, get_backend("highs"), budget=stage, **kw)
        seconds = [float(h["seconds"]) for h in result.history]
        assert seconds
        assert min(seconds) >= 5.0
        assert seconds == sorted(seconds)
        # the history's seconds are rounded to the millisecond: up to half of one above the clock
        assert max(seconds) <= time.perf_counter() - command.start + 0.0005
        # a plan found in it is placed by the same clock: not after the stage's deadline
        assert not pipeline.found_after(result.history, stage)
