"""The HiGHS backend writes a band's two PuLP rows (">=" and "<=" over the same terms) as one ranged row
in a MIP (``solvers.highs._ranged``): HiGHS's MIP search found no plan in 30 s on 1,300 Japanese cities x
40 reps with the bands split, and one 1.2% from the bound with them ranged (QA13 1)."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from solvers.highs import _ranged, _to_highs_lp
from territory_planner.solvers import get_backend


def _band_model() -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[pulp.LpConstraint]]:
    """Six items into two bins; each bin's weight within [8, 10] (two rows each), one "<=" count row
    and a ">=" row with other terms: the optimum puts the cheap items together as far as the bands let."""
    w = [5, 4, 3, 3, 2, 1]
    cost = [[1, 4], [2, 3], [1, 5], [4, 1], [3, 2], [2, 2]]
    prob = pulp.LpProblem("bands", pulp.LpMinimize)
    binary = pulp.const.LpBinary
    x = {(i, j): prob.add_variable(f"x_{i}_{j}", 0, 1, binary) for i in range(6) for j in range(2)}
    prob += pulp.lpSum(cost[i][j] * x[i, j] for i in range(6) for j in range(2))
    rows: list[pulp.LpConstraint] = []

    def add(row: pulp.LpConstraint, name: str) -> None:
        prob.addConstraint(row, name)
        rows.append(row)

    for i in range(6):
        add(pulp.lpSum(x[i, j] for j in range(2)) == 1, f"assign_{i}")
    for j in range(2):
        load = pulp.lpSum(w[i] * x[i, j] for i in range(6))
        add(load >= 8, f"lo_{j}")
        add(load <= 10, f"hi_{j}")
    add(pulp.lpSum(x[i, 0] for i in range(6)) <= 4, "count_0")
    add(pulp.lpSum(x[i, 1] for i in range(3)) >= 1, "some_1")
    variables = list(x.values())
    return prob, variables, rows


def test_a_bands_two_rows_become_one_ranged_row_in_a_mip() -> None:
    prob, variables, rows = _band_model()
    lp, _ = _to_highs_lp(prob, variables, rows, mip=True)
    assert lp.num_row_ == len(rows) - 2  # lo_0 + hi_0 and lo_1 + hi_1 merged, nothing else
    lo, hi = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    ranged = np.flatnonzero(np.isfinite(lo) & np.isfinite(hi) & (lo < hi))
    assert sorted(zip(lo[ranged].tolist(), hi[ranged].tolist(), strict=True)) == [(8.0, 10.0), (8.0, 10.0)]
    assert int((np.isinf(lo) & (hi == 4.0)).sum()) == 1  # count_0 kept as it was
    assert int(((lo == 1.0) & np.isinf(hi)).sum()) == 1  # some_1 kept: no "<=" row with its terms
    lp_only, _ = _to_highs_lp(prob, variables, rows, mip=False)
    assert lp_only.num_row_ == len(rows)  # an LP keeps one row per constraint (its duals are per row)


def test_rows_of_one_sense_or_other_terms_are_not_merged() -> None:
    idx = [np.array([0, 1]), np.array([1, 0]), np.array([0, 1]), np.array([0, 2])]
    val = [np.array([1.0, 2.0]), np.array([2.0, 1.0]), np.array([1.0, 2.0]), np.array([1.0, 2.0])]
    lo = np.array([1.0, 2.0, -np.inf, -np.inf])
    hi = np.array([np.inf, np.inf, 5.0, 6.0])
    i2, v2, lo2, hi2 = _ranged(idx, val, lo, hi)
    # rows 0 and 1 are one ">=" pair (the same terms in another order): both kept; row 2 ("<=") pairs
    # with the first of them; row 3 has other terms
    assert lo2.tolist() == [1.0, 2.0, -np.inf]
    assert hi2.tolist() == [5.0, np.inf, 6.0]
    assert len(i2) == len(v2) == 3


def test_the_optimum_is_the_same_with_ranged_rows() -> None:
    """Brute force over the 2^6 assignments against HiGHS on the ranged form."""
    prob, variables, rows = _band_model()
    w = [5, 4, 3, 3, 2, 1]
    cost = [[1, 4], [2, 3], [1, 5], [4, 1], [3, 2], [2, 2]]
    best = np.inf
    for mask in range(64):
        b = [(mask >> i) & 1 for i in range(6)]
        loads = [sum(w[i] for i in range(6) if b[i] == j) for j in range(2)]
        if not all(8 <= x <= 10 for x in loads) or sum(1 for i in range(6) if b[i] == 0) > 4:
            continue
        if sum(1 for i in range(3) if b[i] == 1) < 1:
            continue
        best = min(best, sum(cost[i][b[i]] for i in range(6)))
    out = get_backend("highs").solve(
        prob, variables, rows, mip=True, time_limit=10, gap=0.0, seed=0, threads=1
    )
    assert np.isfinite(best)
    assert out.objective == pytest.approx(best)


def test_first_highs_built_by_several_threads_at_once_keeps_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ``highspy.Highs`` is built with fd 1 on /dev/null (its banner). Built by several
    threads at once (the whole model beside and the LP start together), fd 1 must still be the
    process's stdout afterwards: without the lock one thread restored the /dev/null another had put
    there, and the run's summary lines were lost."""
    import os
    import threading
    import time

    import highspy

    from solvers import highs

    class Slow:  # a constructor slow enough for the threads to overlap in it
        def __init__(self) -> None:
            time.sleep(0.05)

        def setOptionValue(self, *_args: object) -> None:  # noqa: N802 - highspy's name
            pass

    monkeypatch.setattr(highspy, "Highs", Slow)
    monkeypatch.setattr(highs, "_BANNER_SHOWN", False)
    before = os.fstat(1)
    gate = threading.Barrier(6)

    def build() -> None:
        gate.wait()
        highs.new_highs()

    threads = [threading.Thread(target=build) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(1)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
