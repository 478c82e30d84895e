"""``compare``'s moves between districts count every account whose district changes, those kept by a rep
who changed district too (QA20 F6: one rep moved from D0 to D3 took 56 accounts with it; the table listed
only the 2 accounts that changed rep, and its net did not match districts.csv)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from territory_planner import compare
from territory_planner.compare import PlanFolder, district_changes, district_moves
from territory_planner.compare_html import render_html


def _plan(label: str, account_rep: dict[str, str], rep_district: dict[str, str]) -> PlanFolder:
    ids = sorted(account_rep)
    assignments = pd.DataFrame(
        {
            "account_id": ids,
            "rep_id": [account_rep[a] for a in ids],
            "potential": [10.0 * (k + 1) for k in range(len(ids))],
            "workload": 1.0,
            "name": "",
        }
    )
    reps = sorted(rep_district)
    territories = pd.DataFrame({"rep_id": reps, "name": "", "district": [rep_district[r] for r in reps]})
    return PlanFolder(label, Path(label), assignments, territories, {}, None)


def test_a_rep_who_changes_district_takes_its_accounts_along() -> None:
    # A1-A3 with R1, A4 with R2; in plan b R1 moves from D0 to D1 and A4 goes to R3 (D0 -> D1 by a move)
    a = _plan("a", {"A1": "R1", "A2": "R1", "A3": "R1", "A4": "R2"}, {"R1": "D0", "R2": "D0", "R3": "D1"})
    b = _plan("b", {"A1": "R1", "A2": "R1", "A3": "R1", "A4": "R3"}, {"R1": "D1", "R2": "D0", "R3": "D1"})
    changes = district_changes(a, b)
    assert sorted(changes["account_id"]) == ["A1", "A2", "A3", "A4"]
    table = district_moves(changes)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["district_a"], row["district_b"]) == ("D0", "D1")
    assert row["accounts"] == 4
    assert row["accounts_same_rep"] == 3
    assert row["potential"] == 10.0 + 20.0 + 30.0 + 40.0

    # the table's net per district is the change of the district's potential between the plans
    def totals(p: PlanFolder) -> pd.Series:
        district = p.assignments["rep_id"].map(
            dict(zip(p.territories["rep_id"], p.territories["district"], strict=True))
        )
        return p.assignments.groupby(district)["potential"].sum()

    assert totals(a).get("D0", 0.0) - totals(b).get("D0", 0.0) == row["potential"]
    assert totals(b).get("D1", 0.0) - totals(a).get("D1", 0.0) == row["potential"]


def test_the_comparison_page_counts_the_reorganisation(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _plan("a", {"A1": "R1", "A2": "R1", "A3": "R2"}, {"R1": "D0", "R2": "D1"})
    b = _plan("b", {"A1": "R1", "A2": "R1", "A3": "R2"}, {"R1": "D1", "R2": "D1"})
    monkeypatch.setattr(compare, "read_plan", lambda path, _label=None: {"a": a, "b": b}[str(path)])
    comparison = compare.compare_plans([Path("a"), Path("b")])
    assert comparison.moves.empty  # no account changed rep
    assert comparison.districts["account_id"].tolist() == ["A1", "A2"]
    page = render_html(comparison, {})
    assert "Moves between districts" in page
    assert "accounts_same_rep" in page


def test_no_district_change_no_row() -> None:
    a = _plan("a", {"A1": "R1", "A2": "R2"}, {"R1": "D0", "R2": "D1"})
    b = _plan("b", {"A1": "R1", "A2": "R1"}, {"R1": "D0", "R2": "D1"})
    changes = district_changes(a, b)
    assert changes["account_id"].tolist() == ["A2"]  # D1 -> D0 by a move; A1 stays in D0
    assert district_moves(changes)["accounts_same_rep"].tolist() == [0]


def _designed(plan: PlanFolder) -> PlanFolder:
    return dataclasses.replace(plan, summary={"config": {"design_districts": 2}})


def test_designed_districts_are_matched_to_the_baselines_by_their_reps() -> None:
    """QA110 O4: given districts against designed ones (named D01, D02 by the design) of the same reps
    listed every account as changing district. A designed district is the baseline's that shares the most
    reps with it; a rep who really changed district still moves its accounts."""
    accounts = {"A1": "R1", "A2": "R2", "A3": "R3", "A4": "R4"}
    given = _plan("given", accounts, {"R1": "East", "R2": "East", "R3": "West", "R4": "West"})
    same = _designed(_plan("designed", accounts, {"R1": "D02", "R2": "D02", "R3": "D01", "R4": "D01"}))
    assert district_changes(given, same).empty
    assert district_changes(same, given).empty  # the designed plan as the baseline
    # two designed plans whose labels swapped: no change either (by label, all four accounts)
    swapped = _designed(_plan("again", accounts, {"R1": "D01", "R2": "D01", "R3": "D02", "R4": "D02"}))
    assert district_changes(same, swapped).empty
    # R2 goes over to the other district: its account alone changes, East -> D01 (West's match)
    moved = _designed(_plan("moved", accounts, {"R1": "D02", "R2": "D01", "R3": "D01", "R4": "D01"}))
    changes = district_changes(given, moved)
    assert changes["account_id"].tolist() == ["A2"]
    assert changes[["district_a", "district_b"]].values.tolist() == [["East", "D01"]]
    note = compare.district_match_note(given, moved)
    assert "D01 as West (2 of 3 reps)" in note
    assert "D02 as East (1 of 1 reps)" in note
    # given districts renamed throughout (no name shared) are the same teams: matched too (QA112 O5)
    renamed = _plan("renamed", accounts, {"R1": "North", "R2": "North", "R3": "South", "R4": "South"})
    assert district_changes(given, renamed).empty
    assert compare.district_match_note(given, renamed).startswith("given and renamed share no district name")
    # given districts sharing a name are compared by name, as the user named them
    partly = _plan("partly", accounts, {"R1": "East", "R2": "East", "R3": "South", "R4": "South"})
    assert len(district_changes(given, partly)) == 2
    assert compare.district_match_note(given, partly) == ""


def test_a_tie_on_shared_reps_goes_to_the_district_that_keeps_the_most_potential() -> None:
    """QA112 F3: two given districts merged into one designed district tie on shared reps; the tie went
    by name, and the district of more accounts was listed as moving. Here D01 holds K (3 reps, potential
    10 + 20 + 30) and M (3 reps, potential 40 + 50 + 60 + 70): D01 stands for M, and K's accounts move."""
    reps_a = {f"K{i}": "K" for i in range(3)} | {f"M{i}": "M" for i in range(3)} | {"S0": "S", "S1": "S"}
    accounts = {"A1": "K0", "A2": "K1", "A3": "K2", "A4": "M0", "A5": "M1", "A6": "M2", "A7": "M0"}
    accounts |= {"A8": "S0", "A9": "S1"}
    a = _plan("a", accounts, reps_a)
    b = _designed(_plan("b", accounts, {r: ("D02" if r.startswith("S") else "D01") for r in reps_a}))
    assert compare.district_match(a, b)["D01"] == ("M", 3, 6)
    changes = district_changes(a, b)
    assert changes["account_id"].tolist() == ["A1", "A2", "A3"]
    assert set(changes["district_b_as"]) == {"M"}
    table = district_moves(changes)
    assert table[["district_a", "district_b", "district_b_as", "accounts"]].values.tolist() == [
        ["K", "D01", "M", 3]
    ]
    # moves.csv says what b's district stands for too (QA114 F4: "D01 -> D01" read as no change)
    assert "district_b_as" in compare.moves_frame(a, b)
    # a district of b matched to none (more districts than the baseline's) is named in the note
    two = _plan("two", accounts, {r: ("X" if r in ("K0", "M0") else "Y") for r in reps_a})
    thirds = {"K0": "D01", "K1": "D01", "K2": "D02", "M0": "D02", "M1": "D03", "M2": "D03", "S0": "D03"}
    three = _designed(_plan("three", accounts, {**thirds, "S1": "D03"}))
    note = compare.district_match_note(two, three)
    assert "stands for none" in note
    assert note.endswith("its accounts count as changing district")
    assert "" in set(district_changes(two, three)["district_b_as"])


def test_a_designed_district_sharing_no_rep_matches_no_baseline_district_of_its_name() -> None:
    # R3 is new in b and alone in D02; the baseline has a D02 too (designed): the names must not pair them
    a = _designed(_plan("a", {"A1": "R1", "A2": "R2"}, {"R1": "D01", "R2": "D02"}))
    b = _designed(_plan("b", {"A1": "R1", "A2": "R3"}, {"R1": "D01", "R3": "D02", "R2": "D01"}))
    changes = district_changes(a, b)
    # R2 (D02 in a) joined R1's district; A2 went to R3, in a district that shares no rep with a's D02
    assert changes["account_id"].tolist() == ["A2"]


def test_the_comparison_page_shows_the_warnings_and_the_district_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = {"A1": "R1", "A2": "R2"}
    a = _plan("a", accounts, {"R1": "East", "R2": "West"})
    b = _designed(_plan("b", {**accounts, "A3": "R2"}, {"R1": "D02", "R2": "D01"}))
    monkeypatch.setattr(compare, "read_plan", lambda path, _label=None: {"a": a, "b": b}[str(path)])
    comparison = compare.compare_plans([Path("a"), Path("b")])
    assert comparison.districts["account_id"].tolist() == ["A3"]  # in b only: from no district
    assert comparison.warnings
    assert comparison.district_notes
    page = render_html(comparison, {})
    assert "one of a and b only (A3)" in page  # the warning, as the terminal has it
    assert "D01 as West (1 of 1 reps)" in page
