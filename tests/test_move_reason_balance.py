"""QA13 item 4: a "balance" reason only when the giver held more against its target than the receiver.

Italy (it_base.toml): "Aosta IT04 -> IT02 | balance: IT04 held +45% potential vs target, IT02 +65%" sent the
account to the rep further over target; that move is one link of a chain (IT02 passes 37 accounts on).
"""

from __future__ import annotations

import re

import numpy as np

from territory_planner.model.plan import Plan
from territory_planner.outputs import move_reasons
from tests.conftest import problem_from_rows

# three reps on the equator, 111 km apart
_REPS = [{"rep_id": f"R{k + 1}", "lat": 0.0, "lon": float(k)} for k in range(3)]


def _reasons(accounts: str, plan: str) -> dict[str, str]:
    """``accounts``: "id lon potential workload current_rep" per account, comma-separated; ``plan``: the
    new rep of each account, space-separated."""
    rows = [row.split() for row in accounts.split(",")]
    acc = [{"account_id": a, "lat": 0.0, "lon": float(lon), "potential": float(pot), "workload": float(wl),
            "current_rep": rep} for a, lon, pot, wl, rep in rows]  # fmt: skip
    p = problem_from_rows(acc, _REPS, ("potential", "workload"), {"potential": 0.1, "workload": 0.1})
    new = np.array([int(rep[1:]) - 1 for rep in plan.split()])
    result = Plan(new, new, p.home_lat, p.home_lon, np.zeros(3, dtype=bool), None)  # type: ignore[arg-type]
    km = p.account_distance(p.home_lat, p.home_lon)
    current = np.array([row[4] for row in rows])
    reasons = move_reasons(p, result, km, current).tolist()
    for reason in reasons:  # the property: every balance reason's giver held more than its receiver
        if reason.startswith("balance:"):
            m = re.fullmatch(r"balance: R\d held ([-+\d.]+)% \w+ vs target, R\d ([-+\d.]+)%", reason)
            assert m, reason
            assert float(m[1]) > float(m[2]), reason
    return dict(zip(p.account_ids.tolist(), reasons, strict=True))


def test_a_move_to_the_rep_further_over_target_is_a_chain_not_balance() -> None:
    """R1 holds 4 of a 3 target (+33%), R2 5 (+67%), R3 nothing. X, halfway between R1 and R2, goes to R2
    while R2 hands Y on to R3: all end at 3. Before: "balance: R1 held +33% potential vs target, R2 +67%"."""
    reasons = _reasons("X .5 1 1 R1, A 0 3 3 R1, Y 2 3 3 R2, B 1 2 2 R2", "R2 R1 R3 R2")
    assert reasons["X"] == (
        "chain: R1 held +33% potential vs target, R2 +67%; part of a chain of moves that rebalances "
        "several reps (R2 gives 1 account(s) to others)"
    )
    assert reasons["Y"] == "compactness: 111 km -> 0 km"


def test_balance_names_the_measure_on_which_the_giver_held_more() -> None:
    """Potential says R1 held less than R2, workload (6 and 3 of a 3 target) says more."""
    reasons = _reasons("X .5 1 1 R1, A 0 3 5 R1, Y 2 3 1 R2, B 1 2 2 R2", "R2 R1 R3 R2")
    assert reasons["X"] == "balance: R1 held +100% workload vs target, R2 +0%"


def test_deviations_equal_when_rounded_are_shown_apart() -> None:
    """R1 held +34.4%, R2 +34.2%: both "+34%" at no decimals, so that reason shows one."""
    reasons = _reasons(
        "X .5 .1 .1 R1, A 0 1.244 1.244 R1, B 1 .842 .842 R2, Y 1.5 .5 .5 R2, C 2 .314 .314 R3",
        "R2 R1 R2 R3 R3",
    )
    assert reasons["X"] == "balance: R1 held +34.4% potential vs target, R2 +34.2%"
    assert reasons["Y"] == "balance: R2 held +34% potential vs target, R3 -69%"


def test_a_move_with_no_chain_and_no_gain_says_so() -> None:
    """R1 (+0%) gives X to R2 (+0%), nobody else moves: neither balance nor a chain."""
    reasons = _reasons("X .5 1 1 R1, A 0 2 2 R1, B 1 3 3 R2, C 2 3 3 R3", "R2 R1 R2 R3")
    assert reasons["X"] == (
        "plan: neither toward balance (R1 held +0% potential vs target, R2 +0%) nor closer (56 km -> 56 km) "
        "on its own; part of the plan as a whole"
    )


def test_a_family_member_of_a_locked_account_says_family_not_balance() -> None:
    """QA15 M6: PLA0100 (family FAM0) locked to PL05 took PLA0101 along, whose reason read "balance: PL01
    held +105% potential vs target, PL05 -8%". Here F1 and F2 (family F, both R1's, R1 at +100%) go to
    R2 because F1 is locked there: F2's reason is the lock of its family, not balance."""
    acc = [
        {"account_id": a, "name": name, "lat": 0.0, "lon": lon, "potential": pot, "workload": pot,
         "current_rep": "R1", "parent_id": "F" if a.startswith("F") else "", "locked_rep": lock}
        for a, name, lon, pot, lock in (
            ("F1", "Zawiercie", 0.0, 1.0, "R2"), ("F2", "", 0.1, 1.0, ""), ("A", "", 0.0, 4.0, ""),
        )
    ]  # fmt: skip
    reps = [*_REPS[:2], {"rep_id": "R3", "lat": 0.0, "lon": 9.0}]
    p = problem_from_rows(acc, reps, ("potential", "workload"), {"potential": 0.1, "workload": 0.1})
    new = np.array([1, 1, 0])
    result = Plan(new, new, p.home_lat, p.home_lon, np.zeros(3, dtype=bool), None)  # type: ignore[arg-type]
    km = p.account_distance(p.home_lat, p.home_lon)
    reasons = move_reasons(p, result, km, np.array(["R1"] * 3)).tolist()
    assert reasons[0] == "lock: locked to R2"
    assert reasons[1] == ("family: joins family F with R2: its member F1 (Zawiercie) is locked to R2")


def test_an_account_without_potential_is_not_moved_for_potential_balance() -> None:
    """QA72 F8: accounts of zero potential moved "for balance: R05 held +152% potential vs target", a move
    that changes no rep's potential. The reason names a measure the account holds (its workload here),
    and a potential-only imbalance with nothing of it in the account is no balance reason."""
    # X (potential 0, workload 1) goes from R1, over on both measures, to R2, further from it
    reasons = _reasons("X .4 0 1 R1, A 0 5 5 R1, B 1 1 1 R2, C 2 3 3 R3", "R2 R1 R2 R3")
    assert reasons["X"] == "balance: R1 held +80% workload vs target, R2 -70%"
    # Z holds no workload and no potential: whatever R1 held, its move balances nothing
    reasons = _reasons("Z .4 0 0 R1, A 0 5 5 R1, B 1 1 1 R2, C 2 3 3 R3", "R2 R1 R2 R3")
    assert not reasons["Z"].startswith("balance:")
