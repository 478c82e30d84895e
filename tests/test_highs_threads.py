"""HiGHS keeps one thread scheduler per process, made by its first run; a run asking for another number
of threads used to end at once with the model status "Not Set". A PuLP model solved with HiGHS's
defaults before the planner in the same process, or the planner at ``--threads 2`` beside its own
one-thread runs (the flow model, the proofs' phase 1), made such runs fail: "the LP relaxation did not
solve (Not Set)". The backend now runs again on the scheduler as it is (``solvers.highs._run``)."""

from __future__ import annotations

import pytest

from territory_planner.solvers import SolveStatus, get_backend
from tests.test_highs_ranged import _band_model


@pytest.mark.parametrize("mip", [False, True])
def test_runs_asking_for_different_thread_counts_in_one_process_all_solve(mip: bool) -> None:
    backend = get_backend("highs")
    objectives = []
    # whatever count the process's scheduler was made with (by an earlier test, or here), one of 1 and 2
    # differs from it; each run must still solve, to the same optimum
    for threads in (1, 2, 1, None, 2):
        prob, variables, rows = _band_model()
        out = backend.solve(prob, variables, rows, mip=mip, time_limit=10.0, gap=0.0, seed=0, threads=threads)
        assert out.status == SolveStatus.OPTIMAL, (threads, out.message)
        objectives.append(out.objective)
    assert max(objectives) - min(objectives) < 1e-9


def test_a_live_lp_asking_for_another_thread_count_solves() -> None:
    backend = get_backend("highs")
    for threads in (2, 1):
        prob, variables, rows = _band_model()
        live = backend.open_lp(prob, variables, rows, seed=0, threads=threads)
        out = live.run(10.0)
        assert out.status == SolveStatus.OPTIMAL, (threads, out.message)
