"""Which of the restrictions on who may take an account an infeasibility rests on (QA46 F2: "dropping any
of these makes it feasible: locks and segments", with a lock conflict, where no account was locked and the
segments alone were the cause). Twelve accounts of $100 on a line, four reps of target $300 +-5%."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from territory_planner import api
from territory_planner.optimize import proofs
from territory_planner.solvers import get_backend
from tests.conftest import options_for, write_instance


def _spec(
    tmp_path: Path, segment: list[str], serves: list[str], locked: dict[int, str], **options: object
) -> Any:
    accounts = [
        {"account_id": f"A{i:02d}", "lat": 0.0, "lon": 0.1 * i, "potential": 100.0, "workload": 1.0,
         "segment": segment[i], "locked_rep": locked.get(i, "")}
        for i in range(12)
    ]  # fmt: skip
    reps = [{"rep_id": f"R{j + 1}", "lat": 0.0, "lon": 0.3 * j, "segments": serves[j]} for j in range(4)]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, tolerance=0.05, balance="potential", **options)
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


def _families(spec: Any) -> list[str]:
    return proofs.families_in_conflict(spec, get_backend("highs"), 0, time.perf_counter() + 60)


HALL = (["a"] * 4 + ["b"] * 8, ["a", "a", "b", "b"])  # R1 and R2 need $570 of the $400 of segment a


@pytest.mark.parametrize("lock", [{}, {4: "R3"}], ids=["no lock", "a harmless lock"])
def test_segments_alone_are_named(tmp_path: Path, lock: dict[int, str]) -> None:
    spec = _spec(tmp_path, *HALL, lock)
    assert _families(spec) == ["segments"]
    (named,) = proofs._named_families(spec, ["segments"], [])
    assert named.family == "segment"


def test_locks_alone_are_named(tmp_path: Path) -> None:
    # four accounts ($400) locked to R1, whose band holds $315; R4 serving segment b only plays no part
    spec = _spec(tmp_path, ["a"] * 6 + ["b"] * 6, ["a;b", "a;b", "a;b", "b"], dict.fromkeys(range(4), "R1"))
    assert _families(spec) == ["locks"]
    (named,) = proofs._named_families(spec, ["locks"], [])
    assert named.family == "lock"


def test_locks_and_segments_together(tmp_path: Path) -> None:
    # the segments alone are infeasible (HALL), and so are the locks ($400 of segment b locked to R4, whose
    # band holds $315): neither dropped alone helps, both dropped do
    spec = _spec(tmp_path, *HALL, dict.fromkeys(range(4, 8), "R4"))
    assert _families(spec) == ["locks and segments together"]
    (named,) = proofs._named_families(spec, ["locks and segments together"], [])
    assert named.family == "lock"


def test_keep_home_is_named_only_when_it_plays_a_part(tmp_path: Path) -> None:
    """QA47 F4: "segments and --keep-home" where --keep-home played no part. The reps' homes are on A00,
    A03, A06 and A09, each kept with a rep serving its segment."""
    spec = _spec(tmp_path, *HALL, {}, keep_home=1)
    assert spec.problem.unit_home_kept.sum() == 4
    assert _families(spec) == ["segments"]


@pytest.mark.parametrize("locked", [{}, {0: "R1"}], ids=["no lock", "a lock"])
def test_a_rep_short_of_its_band_names_what_restricts_it(tmp_path: Path, locked: dict[int, str]) -> None:
    from territory_planner.optimize import prechecks

    segment = ["a"] * 2 + ["b"] * 10
    spec = _spec(tmp_path, segment, ["a", "a;b", "a;b", "a;b"], locked)
    (short,) = [c for c in prechecks.check(spec) if c.rep_id == "R1" and "may serve only" in c.message]
    restricted = "what segments and locks allow" if locked else "what segments allow"
    assert f"in total ({restricted}), below the band's minimum" in short.message


def test_a_group_confined_by_its_segments_is_not_put_down_to_keep_home(tmp_path: Path) -> None:
    """QA48 F2: a group of accounts that only some reps may take was labelled keep_home as soon as one of
    them was kept at a home, though segments alone confine it: here segment b ($800) goes only to R3 and R4
    ($630 at most), and A06 and A09 are kept at their homes, inside that group."""
    from territory_planner.optimize import prechecks

    spec = _spec(tmp_path, *HALL, {}, keep_home=1)
    (group,) = [c for c in prechecks.check(spec) if "can only go to R3, R4" in c.message]
    assert group.family == "segment"
    assert "(2 of them kept at their reps' homes by --keep-home)" in group.message


def test_locks_and_segments_each_overflowing_a_rep_are_both_said(tmp_path: Path) -> None:
    """QA48 F3: $400 locked to R1 and another $400 of segment a that only R1 serves, R1's band at most
    $315: each alone overflows it, and only the locks' row was shown, so mending the locks as it said left
    the model infeasible."""
    from territory_planner.optimize import prechecks

    segment = ["a"] * 8 + ["b"] * 4
    spec = _spec(tmp_path, segment, ["a;b", "b", "b", "b"], dict.fromkeys(range(4), "R1"))
    found = prechecks.check(spec)
    (lock,) = [c for c in found if c.family == "lock"]
    assert "accounts locked to R1 carry $400 potential" in lock.message
    (confined,) = [c for c in found if "can only go to R1" in c.message]
    assert confined.message.startswith("4 accounts can only go to R1; they carry $400 potential")
    assert confined.family == "segment"


@pytest.mark.parametrize("home", [True, False], ids=["kept at the home", "no account near a home"])
def test_the_keep_home_lever_only_where_it_plays_a_part(tmp_path: Path, home: bool) -> None:
    """Pre-checks' conflicts with --keep-home: its row ("a smaller --keep-home (or none) frees them") only
    where the model without its confinement is feasible (QA48 F3: it came beside a lock and a segment
    overflow that involved no account near a home)."""
    from territory_planner.errors import InfeasibleError

    segment = ["a"] * 8 + ["b"] * 4
    serves = ["a;b", "b", "b", "b"] if not home else ["a;b", "a;b", "a;b", "a;b"]
    accounts = [
        {"account_id": f"A{i:02d}", "lat": 0.0, "lon": 0.1 * i + (0.0 if home else 0.05), "potential": 100.0,
         "workload": 1.0, "segment": segment[i], "locked_rep": ""}
        for i in range(12)
    ]  # fmt: skip
    if home:  # R1's home holds four accounts of $100 each: kept there, they overflow its $315
        for i in (1, 2, 3):
            accounts[i]["lon"] = 0.0
    reps = [{"rep_id": f"R{j + 1}", "lat": 0.0, "lon": 0.3 * j, "segments": serves[j]} for j in range(4)]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, tolerance=0.05, balance="potential", keep_home=1)
    with pytest.raises(InfeasibleError) as err:
        api.validate(opts)
    levers = [c for c in err.value.conflicts if "was in force" in c.message]
    assert len(levers) == (1 if home else 0), [c.message for c in err.value.conflicts]


def test_accounts_that_fit_alone_beside_overflowing_locks_are_said(tmp_path: Path) -> None:
    """QA53 F2: $400 locked to R1 (its band at most $315) and $100 of segment a only R1 serves: the $100 fit
    alone, but unlocking down to $315, as the locks' row alone said, left the model infeasible. The row
    says what the band leaves for the locked accounts."""
    from territory_planner.optimize import prechecks

    segment = ["b"] * 4 + ["a"] + ["b"] * 7
    spec = _spec(tmp_path, segment, ["a;b", "b", "b", "b"], dict.fromkeys(range(4), "R1"))
    found = prechecks.check(spec)
    (other,) = [c for c in found if c.message.startswith("1 other accounts can only go to R1")]
    assert "they carry $100 potential, so its band ($315 at most) leaves $215 for its locked accounts" in (
        other.message
    )


def test_a_unit_no_rep_may_take_whole_is_said_once_and_plainly(tmp_path: Path) -> None:
    """QA54 F5: an area (or family) whose accounts are of segments no one rep serves was explained as
    "alone has $85.2k potential, more than any band it may go to holds" (amount $inf), once per measure,
    beside "14 units can only go to ; ..." naming no rep."""
    from territory_planner.optimize import prechecks

    accounts = [
        {"account_id": f"A{i}", "lat": 0.0, "lon": 0.1 * i, "potential": 100.0, "workload": 1.0,
         "segment": "a" if i % 2 else "b", "parent_id": "F" if i < 2 else ""}
        for i in range(8)
    ]  # fmt: skip
    reps = [{"rep_id": f"R{j + 1}", "lat": 0.0, "lon": 0.3 * j, "segments": "ab"[j % 2]} for j in range(2)]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(a, r, tolerance=0.5)
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    found = prechecks.check(spec)
    (whole,) = [c for c in found if c.message.startswith("no rep may take")]
    assert "its accounts are of segments a and b, which no one rep serves" in whole.message
    assert whole.amount == 0.0
    assert not [c for c in found if "alone has" in c.message or "can only go to ;" in c.message]
