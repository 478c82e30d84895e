"""``compare``'s moves between districts count every account whose district changes, those kept by a rep
who changed district too (QA20 F6: one rep moved from D0 to D3 took 56 accounts with it; the table listed
only the 2 accounts that changed rep, and its net did not match districts.csv)."""

from __future__ import annotations

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
