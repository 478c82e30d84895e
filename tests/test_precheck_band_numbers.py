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
