"""``compare`` says how many constraints each plan breaks (QA4): a hand-edited plan (status manual) of the
us_income states broke eight bands, its gap to the original plan's bound was -18.35%, and compare's plan
table showed that negative gap with no word of the broken constraints."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from territory_planner.compare import compare
from tests.test_compare import _plan


def test_plans_table_counts_violations(tmp_path: Path) -> None:
    a = _plan(tmp_path / "plan_a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "plan_b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R2"}, status="manual")
    summary = json.loads((b / "summary.json").read_text())
    summary["gap"] = -0.1835
    summary["violations"] = [
        {"constraint": "balance_min", "rep_id": "R1", "measure": "potential", "violation": 5.0},
        {"constraint": "balance_max", "rep_id": "R2", "measure": "potential", "violation": 5.0},
    ]
    (b / "summary.json").write_text(json.dumps(summary))
    compare([a, b], tmp_path / "cmp")
    plans = pd.read_csv(tmp_path / "cmp" / "plans.csv")
    assert plans.set_index("plan")["violations"].to_dict() == {"plan_a": 0, "plan_b": 2}
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "<th>violations</th>" in page
    assert "negative when the\nedits break constraints" in page
