"""Ids with spaces around them are read without the spaces, and said (QA44 F20: " 77" became 77 in every
output without a word, where the README promises that nothing is silently coerced)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner.io.load import load_inputs

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def test_spaced_account_and_rep_ids_are_read_trimmed_and_named_by_row(tmp_path: Path) -> None:
    accounts = pd.read_csv(SAMPLE / "accounts.csv", dtype={"account_id": str})
    first, eighth = accounts.loc[3, "account_id"], accounts.loc[7, "account_id"]
    accounts.loc[3, "account_id"] = " " + first
    accounts.loc[7, "account_id"] = eighth + "\u00a0"  # a non-breaking space pasted from a web page
    current = accounts.loc[5, "current_rep"]
    accounts.loc[5, "current_rep"] = f" {current}\t"
    accounts.to_excel(tmp_path / "accounts.xlsx", index=False)
    reps = pd.read_csv(SAMPLE / "reps.csv", dtype=str)
    third = reps.loc[2, "rep_id"]
    reps.loc[2, "rep_id"] = third + " "
    reps.to_csv(tmp_path / "reps.csv", index=False)
    loaded = load_inputs(tmp_path / "accounts.xlsx", tmp_path / "reps.csv")
    ids = loaded.accounts["account_id"].tolist()
    assert first in ids
    assert eighth in ids
    assert third in loaded.reps["rep_id"].tolist()
    (of_accounts,) = [w for w in loaded.warnings if "account_id(s) with spaces" in w]
    assert "2 account_id(s)" in of_accounts
    assert "rows 4, 8" in of_accounts
    assert repr(" " + first) in of_accounts
    assert loaded.accounts["current_rep"].iloc[5] == current
    (of_current,) = [w for w in loaded.warnings if "current_rep(s) with spaces" in w]
    assert "row 6" in of_current
    (of_reps,) = [w for w in loaded.warnings if "rep_id(s) with spaces" in w]
    assert of_reps.startswith(f"{tmp_path / 'reps.csv'}: 1 rep_id(s)")
    assert "row 3" in of_reps


def test_ids_without_spaces_get_no_such_warning() -> None:
    loaded = load_inputs(SAMPLE / "accounts.csv", SAMPLE / "reps.csv")
    assert not [w for w in loaded.warnings if "with spaces around" in w]


def test_a_duplicate_made_by_trimming_says_which_row_had_the_spaces(tmp_path: Path) -> None:
    """ "A1" and " A1 " are one id once read: the duplicate said so only as "duplicate account_id (first seen
    on row 1)", with " A1 " shown trimmed and the spaces' warning not given (the run stopped)."""
    import pytest

    from territory_planner.errors import InputError

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_id,lat,lon,potential,workload\nA1,0,0,1,1\n A1 ,0,1,1,1\nA2,0,2,1,1\nA2,0,3,1,1\n"
    )
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,lat,lon\nR1,0,0\n")
    with pytest.raises(InputError) as err:
        load_inputs(accounts, reps)
    said = {p.row: p.message for p in err.value.problems}
    assert said[2] == "duplicate account_id (first seen on row 1; row 2's ' A1 ' read without its spaces)"
    assert said[4] == "duplicate account_id (first seen on row 3)"  # written the same twice


def test_district_and_region_labels_with_spaces_are_said(tmp_path: Path) -> None:
    """QA51 F7: "NE " was counted in district NE, " South" in region South, without a word."""
    reps = pd.read_csv(SAMPLE / "reps.csv", dtype=str)
    reps["district"] = reps["region"].str.upper()  # one district per region
    reps.loc[0, "district"] = reps.loc[0, "district"] + " "
    reps.loc[1, "region"] = " " + str(reps.loc[1, "region"])
    reps.to_csv(tmp_path / "reps.csv", index=False)
    loaded = load_inputs(SAMPLE / "accounts.csv", tmp_path / "reps.csv")
    assert set(loaded.reps["district"]) == set(reps["region"].str.strip().str.upper())
    (district,) = [w for w in loaded.warnings if "district(s) with spaces" in w]
    assert "row 1: 'EAST '" in district
    (region,) = [w for w in loaded.warnings if "region(s) with spaces" in w]
    assert "row 2" in region


def test_a_label_written_with_spaces_twice_is_counted_once() -> None:
    """QA53 F9: 'E1 ' on one row and ' E1' on another were "2 district(s) with spaces around them"."""
    from territory_planner.io.load import spaced_ids

    frame = pd.DataFrame({"district": ["E1 ", " E1", "W1"]})
    (said,) = spaced_ids(frame, "district", "reps.csv")
    assert said.startswith("reps.csv: 1 district(s) with spaces around them (rows 1-2:")
