"""QA14 10: when the whole model is proven infeasible with a disruption budget, the message gave the
budget but not the least share balancing must move, which the budget stage's LP had already proved.

Two reps, four accounts of potential 10, 10, 10 and 13, all R1's today, bands +-5% of 21.5 (20.43 to
22.57, rounded inwards to 21 to 22 for integer potentials): no two of them make 21 or 22, so no plan of
whole accounts exists, while the LP meets the bands by splitting an account. R2 must receive at least
21 of the 43 (48.8%), within a 60% budget: the budget alone proves nothing, and the message tells the
share so the planner knows what to try.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError
from tests.conftest import options_for, write_instance


def test_the_whole_model_proof_tells_the_least_share_the_lp_proves(tmp_path: Path) -> None:
    accounts = [
        {"account_id": f"A{i}", "lat": 38.0 + 0.1 * i, "lon": -95.0, "potential": p, "current_rep": "R1"}
        for i, p in enumerate([10, 10, 10, 13])
    ]
    reps = [{"rep_id": "R1", "lat": 38.0, "lon": -95.0}, {"rep_id": "R2", "lat": 38.3, "lon": -95.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, balance="potential", tolerance=0.05, max_moved_share=0.6, time_limit=10)
    with pytest.raises(InfeasibleError) as err:
        api.solve(opts)
    families = [c.family for c in err.value.conflicts]
    assert families[:2] == ["balance", "disruption_budget"]
    # QA21 Q3: the bands' row is true only with the budget's (whole accounts meet the bands alone)
    first = err.value.conflicts[0].message
    assert first.startswith("no assignment of whole accounts meets every band together with the rows below")
    budget = err.value.conflicts[1]
    told = "at most $25.8 potential may move (60.0% of the potential, --max-moved-share 0.6)"
    assert told in budget.message
    assert "the LP proves balancing must move at least $21 (48.8%)" in budget.message
    assert budget.extra["least_moved_share"] == pytest.approx(21 / 43)


def test_validate_checks_the_budget_as_plan_does(tmp_path: Path) -> None:
    """QA28 F16: validate passed a disruption budget below what balancing needs, which plan refused in
    2 s. Everything is R1's today: R2 must receive about half of the potential."""
    accounts = [
        {"account_id": f"A{i}", "lat": 38.0 + 0.1 * i, "lon": -95.0, "potential": p, "current_rep": "R1"}
        for i, p in enumerate([10, 11, 12, 13])
    ]
    reps = [{"rep_id": "R1", "lat": 38.0, "lon": -95.0}, {"rep_id": "R2", "lat": 38.3, "lon": -95.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InfeasibleError) as err:
        api.validate(options_for(a, r, balance="potential", tolerance=0.1, max_moved_share=0.2))
    assert "the disruption budget is too small: balancing needs at least" in str(err.value)
    # within it: the least share is said too (QA29 F5: only a budget below it showed the number); R2's
    # band starts at 0.9 x 23 = 20.7 of the 46, 21 for whole potentials
    info = api.validate(options_for(a, r, balance="potential", tolerance=0.1, max_moved_share=0.6))
    assert info["least_moved_share"] == pytest.approx(21 / 46, rel=1e-6)
    assert info["budget_share"] == pytest.approx(0.6)


def test_a_budget_too_small_is_told_the_least_share_of_whole_accounts(tmp_path: Path) -> None:
    """QA102 F4: the advice was the LP's least share (accounts may be split), and a user who raised the
    budget to it was refused again. Five accounts of potential 8, 8, 8, 17 and 9, all R1's; R2's band is
    25 +-10%, 23 to 27 for whole potentials: the LP moves 23, whole accounts at least 24 (8 + 8 + 8),
    which HiGHS proves; the advice is that share, and a budget of it has a plan."""
    accounts = [
        {"account_id": f"A{i}", "lat": 38.0 + 0.1 * i, "lon": -95.0, "potential": p, "current_rep": "R1"}
        for i, p in enumerate([8, 8, 8, 17, 9])
    ]
    reps = [{"rep_id": "R1", "lat": 38.0, "lon": -95.0}, {"rep_id": "R2", "lat": 38.3, "lon": -95.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, balance="potential", tolerance=0.1, max_moved_share=0.2, time_limit=20)
    with pytest.raises(InfeasibleError) as err:
        api.solve(opts)
    text = str(err.value)
    assert "balancing needs at least 48.0% of the potential" in text
    assert "raise it to at least 0.48 (the least share of any plan of whole accounts" in text
    budget = next(c for c in err.value.conflicts if c.family == "disruption_budget")
    assert budget.extra["least_moved_share"] == pytest.approx(24 / 50)
    assert budget.extra["whole_plan_moved_share"] == pytest.approx(24 / 50)
    assert budget.extra["proven_by"] == "MIP"
    out = api.solve(
        options_for(a, r, balance="potential", tolerance=0.1, max_moved_share=0.48, time_limit=20)
    )
    assert out.summary["moved_potential_share"] == pytest.approx(24 / 50)


def test_with_contiguous_the_whole_accounts_share_is_said_to_leave_connectivity_out(tmp_path: Path) -> None:
    """QA103 F1: with --contiguous the advice "raise it to at least 0.47 (the least share of any plan of
    whole accounts within the bands ...)" read as enough, and at 0.47 no connected plan existed. The same
    five accounts on a path A0 - A1 - A2 - A3 - A4 with R2's home at A3: the least share of whole
    accounts is 0.48 (A0, A1 and A2), and a connected R2 holding A3 needs 0.52 (A3 and A4)."""
    import pandas as pd

    accounts = [
        {"account_id": f"A{i}", "lat": 38.0 + 0.1 * i, "lon": -95.0, "potential": p, "current_rep": "R1"}
        for i, p in enumerate([8, 8, 8, 17, 9])
    ]
    reps = [{"rep_id": "R1", "lat": 38.0, "lon": -95.0}, {"rep_id": "R2", "lat": 38.3, "lon": -95.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    edges = tmp_path / "edges.csv"
    pd.DataFrame([(f"A{i}", f"A{i + 1}") for i in range(4)], columns=["u", "v"]).to_csv(edges, index=False)
    opts = options_for(
        a, r, balance="potential", tolerance=0.1, max_moved_share=0.2, time_limit=20, contiguous=True,
        adjacency=edges,
    )  # fmt: skip
    with pytest.raises(InfeasibleError) as err:
        api.solve(opts)
    text = str(err.value)
    assert "raise it to at least 0.48 (the least share of any plan of whole accounts" in text
    assert text.endswith(
        "; with --contiguous that share does not count connectivity: a plan of connected territories may "
        "need more"
    )
    # without --contiguous, no such words
    with pytest.raises(InfeasibleError) as plain:
        api.solve(options_for(a, r, balance="potential", tolerance=0.1, max_moved_share=0.2, time_limit=20))
    assert "connectivity" not in str(plain.value)
