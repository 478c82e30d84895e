"""The flow model's proof that no connected plan exists names every row it rests on.

QA9 F3: a 2 x 3 grid, two reps, --contiguous --tolerance 0.8 --max-moved-share 0.25 --min-accounts 2.
Brute force: without the budget one connected plan meets every row; with it none. The run ended with
exit 1 and "no plan in which every territory is one piece ... meets every band: HiGHS proved the exact
model ... infeasible. Widen --tolerance, ...": the conflict named contiguity alone and pointed at the
tolerance, while the exact model also held the disruption budget and the account minimum.
"""

from __future__ import annotations

import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError
from territory_planner.model.plan import SolveResult
from territory_planner.options import build_options

RESULT = SolveResult("feasible", False, 1.0, 1.0, 0.5, 0.5, 0.1, "HiGHS", "test")
SPLIT = {"contiguous": False, "pieces": {"R0": 2, "R1": 1}, "infeasible": "proven"}


def _proof(**kw: object) -> InfeasibleError:
    options = build_options({"accounts": "a.csv", "reps": "r.csv", "contiguous": True, **kw})
    with pytest.raises(InfeasibleError) as info:
        api._connected_or_relaxed(RESULT, dict(SPLIT), None, options, 2)
    return info.value


def test_the_budget_and_the_account_minimum_are_named_beside_contiguity() -> None:
    error = _proof(tolerance=0.8, max_moved_share=0.25, min_accounts=2)
    families = [c.family for c in error.conflicts]
    assert families == ["contiguity", "disruption_budget", "min_accounts"]
    first = error.conflicts[0].message
    assert "meets every band, the disruption budget (0.25) and at least 2 accounts per rep:" in first
    assert "Loosen --tolerance, --max-moved-share or --min-accounts, move a rep's home" in first


def test_without_other_rows_the_message_is_as_before() -> None:
    error = _proof(tolerance=0.1)
    assert [c.family for c in error.conflicts] == ["contiguity"]
    assert "meets every band: HiGHS proved" in error.conflicts[0].message
    assert "Widen --tolerance, move a rep's home" in error.conflicts[0].message


def test_district_bands_are_named_once_for_split_districts() -> None:
    options = build_options(
        {"accounts": "a.csv", "reps": "r.csv", "district_contiguous": True, "district_tolerance": 0.1}
    )
    split = {"contiguous": False, "pieces": {"D1": 2}, "infeasible": "proven"}
    with pytest.raises(InfeasibleError) as info:
        api._connected_or_relaxed(RESULT, None, split, options, 2)
    first = info.value.conflicts[0].message
    assert "meets every band and the district bands:" in first
    assert "Widen --tolerance or --district-tolerance, move" in first


def test_rows_the_proof_holds_without_are_not_offered_as_levers() -> None:
    """QA30 F8 (Columbus, 49 neighbourhoods, --max-moved-share 0.25): the model is infeasible without the
    budget too, so the budget is not in conflict and --max-moved-share is no lever."""
    options = build_options(
        {"accounts": "a.csv", "reps": "r.csv", "contiguous": True, "max_moved_share": 0.25}
    )
    split = {**SPLIT, "infeasible_without_other_rows": True}
    with pytest.raises(InfeasibleError) as info:
        api._connected_or_relaxed(RESULT, split, None, options, 2)
    assert [c.family for c in info.value.conflicts] == ["contiguity"]
    first = info.value.conflicts[0].message
    assert "infeasible with the disruption budget (0.25) and without: it plays no part" in first
    assert "--max-moved-share" not in first
    assert "Widen --tolerance, move a rep's home" in first


def test_rows_without_which_a_connected_plan_exists_are_said_to_be_in_conflict() -> None:
    options = build_options(
        {"accounts": "a.csv", "reps": "r.csv", "contiguous": True, "max_moved_share": 0.25, "min_accounts": 2}
    )
    split = {**SPLIT, "infeasible_without_other_rows": False}
    with pytest.raises(InfeasibleError) as info:
        api._connected_or_relaxed(RESULT, split, None, options, 2)
    conflicts = info.value.conflicts
    assert [c.family for c in conflicts] == ["contiguity", "disruption_budget", "min_accounts"]
    assert "without the disruption budget (0.25) or at least 2 accounts per rep a connected plan exists" in (
        conflicts[0].message
    )
    assert "Loosen --tolerance, --max-moved-share or --min-accounts" in conflicts[0].message
    assert conflicts[1].message.endswith("without them a connected plan exists")


def test_an_unsettled_check_says_so() -> None:
    error = _proof(tolerance=0.8, max_moved_share=0.25)
    assert error.conflicts[1].message.endswith(
        "(whether the model is infeasible without them was not settled in the time)"
    )
