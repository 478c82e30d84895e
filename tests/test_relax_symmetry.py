"""--relax with one account above every band: it goes to the nearest of the interchangeable reps.

QA25 F1: 1,139 German cities x 25 reps, Berlin alone above every band. The MIP on the violation alone
prices travel at zero, so it named any rep of the widest band for Berlin (one based 150 km away), and the
travel stage after it keeps each rep's band as wide as that plan needs, so Berlin stayed there while the
rep based in Berlin had the same band. ``pipeline._largest_unit_at_nearest`` swaps two interchangeable
reps' territories in the MIP's start (no violation changes) and keeps the largest unit with the nearest.

The instance: eight towns on a line, a metro at R0's home holding more potential than a band, three reps
of equal capacity (interchangeable) and a fourth at half capacity::

    R0/M(0.0)  A1(0.5) A2(1.0)  R1(2.0) A3(2.5) A4(3.0)  R2(4.0) A5(4.5) A6(5.0)  R3(6.0) A7(6.5)
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from territory_planner import api
from territory_planner.optimize import pipeline
from tests.conftest import options_for, targets_violation, write_instance

TOWNS = [("M", 0.0, 900.0), ("A1", 0.5, 60.0), ("A2", 1.0, 80.0), ("A3", 2.5, 70.0), ("A4", 3.0, 90.0)]
TOWNS += [("A5", 4.5, 50.0), ("A6", 5.0, 100.0), ("A7", 6.5, 40.0)]
REPS = [("R0", 0.0, 1.0), ("R1", 2.0, 1.0), ("R2", 4.0, 1.0), ("R3", 6.0, 0.5)]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    accounts = [
        {"account_id": a, "lat": 0.0, "lon": lon, "potential": pot, "workload": 1.0} for a, lon, pot in TOWNS
    ]
    reps = [{"rep_id": r, "lat": 0.0, "lon": lon, "capacity": cap} for r, lon, cap in REPS]
    return write_instance(tmp_path, accounts, reps)


def _spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    opts = options_for(*_files(tmp_path), tolerance=0.05, relax=True)
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


def test_the_start_gives_the_largest_unit_to_its_nearest_twin(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    p = spec.problem
    ids = list(p.account_ids)
    m = ids.index("M")
    guess = np.array([2, 0, 0, 1, 1, 0, 3, 3])[np.argsort(np.argsort(ids))]  # the metro with R2
    guess[m] = 2
    pool = spec.allowed.copy()
    out = pipeline._largest_unit_at_nearest(spec, pool, guess.copy())
    assert out[m] == 0  # R0, based at the metro, has R2's band and may serve what R2 may
    # R0's and R2's territories swapped whole, so every band is broken exactly as before
    assert (out == np.where(guess == 0, 2, np.where(guess == 2, 0, guess))).all()
    assert targets_violation(spec, out) == targets_violation(spec, guess)
    assert pool[m].tolist() == [True, False, False, True]  # R3 (half capacity) is no twin: still open
    assert pool[np.arange(p.n_units), out].all()  # the start stays within the pool
    assert pool[np.arange(p.n_units) != m].all()  # no other unit loses a rep


def test_a_relaxed_plan_keeps_the_metro_with_the_rep_based_there(tmp_path: Path) -> None:
    out = api.solve(options_for(*_files(tmp_path), tolerance=0.05, relax=True, time_limit=20))
    s = out.summary
    assert s["status"] == "relaxed"
    rep_of = dict(zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True))
    assert rep_of["M"] == "R0"
    # the least violation, by brute force over all 4^8 plans
    spec = _spec(tmp_path / "again")
    p = spec.problem
    order = [list(p.account_ids).index(a) for a, _, _ in TOWNS]
    least = min(
        targets_violation(spec, np.array(plan)[np.argsort(order)])
        for plan in itertools.product(range(p.n_reps), repeat=p.n_units)
    )
    plan = np.array([int(rep_of[a][1:]) for a in p.account_ids])
    assert targets_violation(spec, plan) <= least * (1 + 1e-6) + 1e-9


def test_the_least_violation_is_claimed_only_with_every_pair_and_a_proof(tmp_path: Path) -> None:
    """The note on whether the violation is least: proven only when the MIP on it had every allowed pair
    and ended optimal; with every pair but no proof, HiGHS's bound as a share of it; else "not proven"."""
    from territory_planner.solvers.base import SolveOutcome, SolveStatus

    spec = _spec(tmp_path)
    every, some = True, False

    def outcome(status: SolveStatus, bound: float) -> SolveOutcome:
        return SolveOutcome(status, 200.0, bound, 1.0, np.zeros(0))

    optimal, stopped = outcome(SolveStatus.OPTIMAL, 199.9), outcome(SolveStatus.FEASIBLE, 150.0)
    assert pipeline._least_proof(spec, every, optimal, True).endswith("proven least (HiGHS, within 0.1%)")
    assert "at least 75.0% of it (HiGHS's bound)" in pipeline._least_proof(spec, every, stopped, True)
    # a bound of 0 says nothing: no "at least 0.0% of it" (QA37 F6)
    zero = pipeline._least_proof(spec, every, outcome(SolveStatus.FEASIBLE, 0.0), True)
    assert zero.endswith("the least found in the time, not proven least")
    for said in (
        pipeline._least_proof(spec, some, optimal, True),  # a pair left out: its bound proves nothing
        pipeline._least_proof(spec, every, optimal, False),  # the plan is not the MIP's
    ):
        assert "not proven least" in said
        assert "HiGHS's bound" not in said
