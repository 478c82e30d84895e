"""The contiguity stage's last resort (``contiguous.repair_pieces``) keeps every row of the model.

QA9 F1: on a 3 x 3 grid (two reps, --contiguous, --max-moved-share-per-rep 0.6) the exact flow model
proved that no connected plan exists, yet the run wrote a "feasible" plan: moving a stray piece to a
neighbouring territory checked the bands but not the per-rep disruption budget, and left R1 with none of
the 16 potential it holds today (it must keep 40%, 6.4)::

    row 36.0:  A6 (R0 home, cur R0, seg b)
    row 35.5:  A3 (cur R1)   A4 (seg b)      A5 (cur R0)
    row 35.0:  A0 (cur R0)   A1 (seg a)      A2 (R1 home)

Brute force over the 2^7 plans: none is connected and meets the bands and the per-rep budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError, SolverError
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import contiguous
from tests.conftest import options_for, write_instance

ACCOUNTS = [
    # account_id, lat, lon, potential, workload, current_rep, segment
    ("A0", 35.0, -90.0, 30.0, 7.0, "R0", ""),
    ("A1", 35.0, -89.5, 5.0, 0.2, "", "a"),
    ("A2", 35.0, -89.0, 55.0, 7.0, "", ""),
    ("A3", 35.5, -90.0, 16.0, 2.0, "R1", ""),
    ("A4", 35.5, -89.5, 59.0, 9.0, "", "b"),
    ("A5", 35.5, -89.0, 58.0, 9.0, "R0", ""),
    ("A6", 36.0, -90.0, 60.0, 3.0, "R0", "b"),
]
EDGES = [("A0", "A1"), ("A0", "A3"), ("A1", "A2"), ("A1", "A4"), ("A2", "A5"), ("A3", "A4"), ("A3", "A6")]
EDGES += [("A4", "A5")]


def _write(tmp_path: Path) -> tuple[Path, Path, Path]:
    cols = ("account_id", "lat", "lon", "potential", "workload", "current_rep", "segment")
    accounts = [dict(zip(cols, row, strict=True)) for row in ACCOUNTS]
    reps = [
        {"rep_id": "R0", "lat": 36.0, "lon": -90.0, "capacity": 1.5},
        {"rep_id": "R1", "lat": 35.0, "lon": -89.0, "capacity": 1.0},
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    edges = tmp_path / "edges.csv"
    pd.DataFrame(EDGES, columns=["u", "v"]).to_csv(edges, index=False)
    return a, r, edges


def test_no_plan_breaking_the_per_rep_budget_is_written(tmp_path: Path) -> None:
    a, r, edges = _write(tmp_path)
    opts = options_for(
        a, r, time_limit=10, tolerance=0.5, max_moved_share_per_rep=0.6, contiguous=True, adjacency=edges
    )
    # a proof with the exact flow model beside (a second core), else "no connected plan found yet"
    with pytest.raises((InfeasibleError, SolverError)):
        api.solve(opts)


def test_repair_pieces_keeps_the_per_rep_budget(tmp_path: Path) -> None:
    """The unit level: R1's stray piece {A3} borders R0 only; handing it over fits both bands but takes
    all of R1's current potential, so it stays where it is (split, and reported as such)."""
    a, r, edges = _write(tmp_path)
    opts = options_for(a, r, tolerance=0.5, max_moved_share_per_rep=0.6)
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    ids = list(problem.account_ids)
    assert (problem.acc_unit == np.arange(7)).all()  # no families: units are the accounts, in order
    adj = Adjacency.from_edges(7, [ids.index(u) for u, _ in EDGES], [ids.index(v) for _, v in EDGES])
    #               A0 A1 A2 A3 A4 A5 A6
    plan = np.array([0, 1, 1, 1, 0, 1, 0])
    centre = np.array([ids.index("A6"), ids.index("A2")])
    assert spec.allowed[np.arange(7), plan].all()
    repaired = contiguous.repair_pieces(spec, adj, plan, centre)
    kept = spec.stay[np.arange(7), repaired]
    assert kept[repaired == 1].sum() >= 0.4 * spec.held[1] - 1e-9
