"""QA90 F4: a ``PlanOptions`` built by hand (a library caller's) was solved as it stood: ``tolerance=
{"potential": 3}`` within +-300% and no word, ``tolerance=0.05`` an AttributeError, ``balance="potential"``
nine problems about columns 'p', 'o', ..., ``max_moved_share=-1`` a proof of infeasibility. ``api.solve``
now checks it as a scenario's values are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from territory_planner import api
from territory_planner.errors import InputError
from territory_planner.options import PlanOptions, build_options, checked

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _options(**kw: object) -> PlanOptions:
    return PlanOptions(accounts=SAMPLE / "accounts.csv", reps=SAMPLE / "reps.csv", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"tolerance": {"potential": 3}}, "tolerance for potential 3.0 must be in [0, 1)"),
        ({"max_moved_share": -1}, "max_moved_share must be in [0, 1]"),
        ({"time_limit": float("nan")}, "time_limit must be a finite number"),
        ({"quota_method": "guess"}, "quota_method must be one of"),
        ({"contiguous": "yes"}, "contiguous must be true or false"),
    ],
)
def test_a_hand_built_option_out_of_range_is_an_input_error_before_any_solve(
    kw: dict[str, object], words: str
) -> None:
    with pytest.raises(InputError) as err:
        api.solve(_options(**kw))
    assert any(words in p.message and p.file == "PlanOptions" for p in err.value.problems), err.value.problems


def test_hand_built_values_are_read_as_a_scenario_would_write_them() -> None:
    hand = PlanOptions(accounts=str(SAMPLE / "accounts.csv"), tolerance=0.05, balance="potential")  # type: ignore[arg-type]
    made = checked(hand)
    assert made.tolerance == {"*": 0.05}
    assert made.balance == ("potential",)
    assert made.accounts == SAMPLE / "accounts.csv"  # a path, not a text
    assert checked(_options(time_limit=None)).time_limit is None  # no limit stays no limit


def test_options_built_by_build_options_come_back_the_same() -> None:
    values = {
        "accounts": SAMPLE / "accounts.csv",
        "reps": SAMPLE / "reps.csv",
        "tolerance": "potential=0.04,workload=0.1",
        "max_moved_share": 0.3,
        "time_limit": 20,
        "district_tolerance": 0.05,
        "currency": "EUR",
        "reps_remove": ["R03"],
    }
    made = build_options(values)
    assert checked(made) == made


def test_numpy_numbers_are_numbers() -> None:
    """QA93 F1: ``time_limit=np.int64(8)`` (a value read from a DataFrame) solved before the check and was
    then "time_limit must be a number, not int64"."""
    import numpy as np

    made = checked(
        _options(
            time_limit=np.int64(8),
            seed=np.int64(3),
            min_accounts=np.int64(2),
            gap=np.float64(0.01),
            tolerance={"potential": np.float64(0.04)},
            relax=np.bool_(True),
        )
    )
    assert (made.time_limit, made.seed, made.min_accounts, made.gap) == (8, 3, 2, 0.01)
    assert made.tolerance == {"potential": 0.04}
    assert made.relax is True


def test_a_hand_built_plan_is_written_from_its_checked_options(tmp_path: Path) -> None:
    """``api.plan`` checked the options only in the solve, and wrote the folder from the ones given: a
    hand-built ``tolerance=0.05`` solved, then summary.json's config failed on it (AttributeError)."""
    hand = _options(tolerance=0.05, time_limit=20, gap=0.05)
    out = api.plan(hand, tmp_path / "plan")
    assert out.summary["status"] in {"feasible", "optimal"}
    config = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))["config"]
    assert config["tolerance"] == {"potential": 0.05, "workload": 0.05}
