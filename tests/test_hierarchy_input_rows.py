"""Hierarchy input errors name the row that is wrong (QA20 F2: one rep of district D3 put in region South
beside seven in North flagged the seven rows, not the odd one; a blank region was reported twice)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner import api
from territory_planner.errors import InputError
from territory_planner.io.hierarchy import check_reps
from tests.conftest import line_instance, options_for, write_instance


def _reps(regions: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": [f"R{k:02d}" for k in range(len(regions))],
            "district": ["D3"] * len(regions),
            "region": regions,
        }
    )


def test_the_odd_row_is_flagged_not_the_consistent_ones() -> None:
    regions = ["North"] * 8
    regions[3] = "South"  # row 4
    problems = check_reps(_reps(regions), "reps.csv", {})
    assert [(p.row, p.column, p.value) for p in problems] == [(4, "region", "South")]
    assert "'North' on 7 rows (first: row 1)" in problems[0].message
    assert "'South' here" in problems[0].message


def test_a_blank_region_is_said_once() -> None:
    regions = ["North"] * 5
    regions[2] = ""  # row 3
    needed = check_reps(_reps(regions), "reps.csv", {"region": "--region-tolerance"})
    assert [(p.row, p.column) for p in needed] == [(3, "region")]
    assert "has no region" in needed[0].message
    unneeded = check_reps(_reps(regions), "reps.csv", {})
    assert [(p.row, p.column) for p in unneeded] == [(3, "region")]
    assert "has no region here" in unneeded[0].message


def test_a_tie_keeps_the_first_region_seen() -> None:
    problems = check_reps(_reps(["West", "East"]), "reps.csv", {})
    assert [(p.row, p.value) for p in problems] == [(2, "East")]


def test_more_districts_than_reps_names_the_option_and_its_value(tmp_path: Path) -> None:
    """QA20 F3: the row had file "options", column "design_districts" and no value."""
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        api.solve(options_for(a, r, design_districts=5))
    (p,) = exc.value.problems
    assert (p.column, p.value) == ("--design-districts", "5")
    assert "5 districts for 2 reps: at most 2" in p.message
