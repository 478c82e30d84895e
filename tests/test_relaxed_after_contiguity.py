"""A --relax plan stays "relaxed" through the contiguity stages.

QA9 F4: four accounts on a 2 x 2 grid, three reps in two districts and two regions (+-10% each),
--contiguous --district-contiguous --relax. No plan meets the district bands (a 32-potential account
sits in a family: whichever district holds it is 85% over), so the elastic MIP's plan breaks nine rows;
the district contiguity stage then set its status to "feasible" (summary.json: status "feasible",
violations listed, note "RELAXED PLAN").

    A3 (R2 home, seg a)
    A0 (R1 home, seg a) - A1 (family F1) - A2 (R0 home, family F1)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner import api
from tests.conftest import options_for, write_instance


def test_a_relaxed_plan_is_not_called_feasible(tmp_path: Path) -> None:
    cols = ("account_id", "lat", "lon", "potential", "workload", "parent_id")
    rows = [
        ("A0", 35.0, -90.0, 0.0, 1.0, ""),
        ("A1", 35.0, -89.5, 32.0, 0.0, "F1"),
        ("A2", 35.0, -89.0, 2.4, 0.9, "F1"),
        ("A3", 35.5, -90.0, 2.8, 0.5, ""),
    ]
    accounts = [dict(zip(cols, row, strict=True)) for row in rows]
    for a, seg in zip(accounts, ("a", "", "", "a"), strict=True):
        a["segment"] = seg
    accounts[2]["current_rep"] = "R1"
    reps = [
        {"rep_id": "R0", "lat": 35.0, "lon": -89.0, "capacity": 1.0, "segments": "a;b", "district": "D1"},
        {"rep_id": "R1", "lat": 35.0, "lon": -90.0, "capacity": 0.5, "segments": "a;b", "district": "D2"},
        {"rep_id": "R2", "lat": 35.5, "lon": -90.0, "capacity": 0.5, "segments": "a", "district": "D2"},
    ]
    for r in reps:
        r["region"] = "X" if r["district"] == "D1" else "Y"
    a, r = write_instance(tmp_path, accounts, reps)
    edges = tmp_path / "edges.csv"
    pd.DataFrame([("A0", "A1"), ("A0", "A3"), ("A1", "A2")], columns=["u", "v"]).to_csv(edges, index=False)
    out = api.solve(
        options_for(
            a, r, time_limit=10, tolerance=0.95, district_tolerance={"*": 0.1}, region_tolerance={"*": 0.1},
            contiguous=True, district_contiguous=True, adjacency=edges, relax=True,
        )
    )  # fmt: skip
    s = out.summary
    assert s["violations"], s
    assert s["status"] == "relaxed", s["status"]
    assert not s["proven_optimal"]
    kinds = {v["constraint"] for v in s["violations"]}
    assert {"district_max", "district_min"} <= kinds
