"""The pre-checks' messages give the band the user asked for, not the band rounded to whole multiples.

QA9 F2: workloads that are whole multiples of 3 (3, 6, 3, 3, 0) and three reps at +-5% give each rep
the workload band 4.75 to 5.25; rounded inwards to multiples of 3 (``spec.integral_bands``) it holds
nothing (6 to 3), which the first conflict says. The second said "account A1 alone has 6 workload, more
than any band it may go to holds: the widest is R0's, 6 to 3": a band from 6 to 3 that no planner asked
for. The claim is the same with the real band (6 > 5.25), which the message now gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError
from tests.conftest import options_for, write_instance


def _account(i: int, lon: float, potential: float, workload: float, **extra: str) -> dict:
    return {
        "account_id": f"A{i}",
        "lat": 35.0,
        "lon": lon,
        "potential": potential,
        "workload": workload,
        **extra,
    }


def _refused(tmp_path: Path, accounts: list[dict[str, object]], homes: tuple[float, ...]) -> list[str]:
    """The messages of the conflicts that refuse the model (reps R0.. at longitudes ``homes``, potential
    within 95%, workload within 5%)."""
    reps = [{"rep_id": f"R{j}", "lat": 35.0, "lon": lon} for j, lon in enumerate(homes)]
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InfeasibleError) as info:
        api.solve(options_for(a, r, time_limit=10, tolerance={"potential": 0.95, "workload": 0.05}))
    return [c.message for c in info.value.conflicts]


def test_an_account_over_every_band_is_compared_with_the_band_asked_for(tmp_path: Path) -> None:
    accounts = [
        _account(0, -98.0, 57.0, 3.0),
        _account(1, -91.0, 7.0, 6.0),
        _account(2, -97.0, 9.0, 3.0),
        _account(3, -96.0, 24.5, 3.0),
        _account(4, -83.0, 26.0, 0.0),
    ]
    messages = _refused(tmp_path, accounts, (-85.0, -84.0, -98.0))
    alone = [m for m in messages if m.startswith("account A1 alone has 6 workload")]
    assert alone, messages
    assert alone[0].endswith("the widest is R0's, 4.75 to 5.25"), alone[0]


def test_locked_accounts_are_compared_with_the_band_asked_for(tmp_path: Path) -> None:
    """Two accounts of workload 2 locked to R0; the band 3.17 to 3.5 (rounded to multiples of 2: 4 to 2)."""
    accounts = [
        _account(0, -98.0, 10.0, 2.0, locked_rep="R0"),
        _account(1, -97.0, 10.0, 2.0, locked_rep="R0"),
        _account(2, -91.0, 10.0, 2.0),
        _account(3, -90.0, 10.0, 2.0),
        _account(4, -85.0, 10.0, 2.0),
        _account(5, -84.0, 10.0, 0.0),
    ]
    messages = _refused(tmp_path, accounts, (-98.0, -90.0, -84.0))
    lock = [m for m in messages if m.startswith("accounts locked to R0")]
    assert lock, messages
    assert lock[0].endswith("above the band's maximum 3.5"), lock[0]


def test_a_rep_whose_band_lies_below_every_account_is_named_with_its_numbers(tmp_path: Path) -> None:
    """QA61 F3: a rep of capacity 0.01 (typed for 1.0) whose workload band lies below every account's
    workload: the model was refused after the LP and the search with an empty conflict row, and
    ``validate`` said the inputs were valid. The pre-check names the rep, its band and the smallest
    account it may take."""
    accounts = [_account(i, -98.0 + i, 10.0 + i, 2.0 + 0.013 * i) for i in range(12)]
    reps = [{"rep_id": "R0", "lat": 35.0, "lon": -98.0, "capacity": 0.01}]
    reps += [{"rep_id": f"R{j}", "lat": 35.0, "lon": -98.0 + 4 * j, "capacity": 1.0} for j in (1, 2)]
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InfeasibleError) as info:
        api.solve(options_for(a, r, time_limit=10, tolerance=0.05))
    named = [c for c in info.value.conflicts if c.rep_id == "R0" and c.measure == "workload"]
    assert named, [c.message for c in info.value.conflicts]
    # workload 24.858 in all, R0's share 0.01/2.01 of it: 0.1237, band 0.1175 to 0.1299
    message = named[0].message
    assert "R0's workload band (capacity 0.01), 0.1175 to 0.1299, lies below every account" in message
    assert "the smallest is account A0 with 2" in named[0].message
    assert named[0].amount == pytest.approx(2.0 - 24.858 * 0.01 / 2.01 * 1.05, rel=1e-6)
    with pytest.raises(InfeasibleError) as checked:  # validate says it too (it said the inputs were valid)
        api.validate(options_for(a, r, tolerance=0.05))
    assert any("lies below every account it may take" in c.message for c in checked.value.conflicts)
