"""--design-districts on a grid whose best grouping is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.optimize import design
from territory_planner.solvers import get_backend
from tests.conftest import write_instance
from tests.hierarchy_fixtures import brute_force, grid_rows, write_grid


def test_design_districts_pairs_the_reps_known_to_be_best(tmp_path: Path) -> None:
    """The 4 x 4 grid of ``hierarchy_fixtures`` (its district column is ignored): the quadrants give
    R1, R2 (west) 16 potential each and R3, R4 (east) 4 each. Two districts of two reps within +-10% of
    20 must pair a west rep with an east rep; the most compact pairs are the rows, {R1, R3} (south) and
    {R2, R4} (north). The quadrants then meet the district band, so the plan is the free optimum."""
    accounts, reps = grid_rows()
    a, r = write_grid(tmp_path)
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "--quiet"]
    args += ["--tolerance", "potential=0.7,workload=0", "--design-districts", "2"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out / "territories.csv", keep_default_na=False).set_index("rep_id")
    assert t.loc["R1", "district"] == t.loc["R3", "district"]
    assert t.loc["R2", "district"] == t.loc["R4", "district"]
    assert t.loc["R1", "district"] != t.loc["R2", "district"]
    s = json.loads((out / "summary.json").read_text())
    design = s["hierarchy"]["district"]["design"]
    assert design["method"] == "alternating"
    assert set(design["seats"]) == {"D01", "D02"}
    assert s["objective"] == pytest.approx(
        brute_force(accounts, reps, {"potential": 0.7, "workload": 0.0}, None)
    )
    assert s["lower_bound"] == pytest.approx(design["joint_lower_bound"])
    assert s["status"] == "optimal"
    d = pd.read_csv(out / "districts.csv", keep_default_na=False)
    assert (d["potential_dev_pct"].abs() <= 10.0 + 1e-9).all()
    assert list(d["reps"]) == [2, 2]


def test_design_districts_scenario_key(tmp_path: Path) -> None:
    write_grid(tmp_path)
    scen = tmp_path / "s.toml"
    scen.write_text(
        'accounts = "accounts.csv"\nreps = "reps.csv"\ndesign_districts = 2\ndistrict_tolerance = 0.1\n'
        "[tolerance]\npotential = 0.7\nworkload = 0.0\n"
    )
    res = CliRunner().invoke(main, ["plan", str(scen), "--out", str(tmp_path / "p"), "--quiet"])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert s["config"]["design_districts"] == 2
    assert s["hierarchy"]["district"]["groups"] == 2


# ------------------------------------------------------------------------ the grouping MIP on its own


def _line_travel(x: list[float]) -> np.ndarray:
    """travel[j, s] = |x_j - x_s|: reps on a line, each rep's cost in seat s's district."""
    pos = np.array(x)
    return np.abs(pos[:, None] - pos[None, :])


def test_candidate_seats_are_the_nearest_and_every_pair_when_few_reps() -> None:
    travel = _line_travel([0, 1, 2, 3, 10, 11])
    cand = design.candidate_seats(travel, 2, k=2)
    assert cand.sum(axis=1).tolist() == [2] * 6  # itself and its nearest
    assert cand[0, 1]
    assert cand[3, 2]
    assert cand[4, 5]
    assert not cand[3, 4]
    assert design.candidate_seats(travel, 2).all()  # few reps: dense


def test_sparse_grouping_finds_the_two_clusters() -> None:
    """Reps at 0..3 and 100..103, two districts of 4 (capacity within 1 of 4): the clusters, each rep
    at most 2 from its seat; travel 1 + 0 + 1 + 2 per cluster. Each rep sees only its 3 nearest seats."""
    travel = _line_travel([0, 1, 2, 3, 100, 101, 102, 103])
    ones = np.ones((1, 8))
    g = design.group_reps(
        travel, np.ones(8), ones, ones, np.array([np.inf]), 2, get_backend("highs"),
        time_limit=30, seed=0, threads=1, candidates=design.candidate_seats(travel, 2, k=3),
    )  # fmt: skip
    assert g is not None
    assert 24 <= g.pairs <= 24 + 8  # 3 seats per rep, plus the greedy start's pair of each rep
    assert g.travel == pytest.approx(8.0)
    assert len(set(g.district[:4].tolist())) == 1
    assert len(set(g.district[4:].tolist())) == 1
    assert g.district[0] != g.district[4]
    assert set(g.seats.tolist()) <= {1, 2, 5, 6}  # a median of each cluster


def test_grouping_falls_back_to_every_pair_when_the_nearest_seats_admit_none() -> None:
    """Reps at 0, 1 carry 1.5 x their target, reps at 10, 11 carry 0.5 x: within +-10%, each of the two
    districts needs one of each. With each rep's own and nearest seat only, no grouping mixes them; over
    every pair the best ones cost 20 ({0, 10} + {1, 11} or {0, 11} + {1, 10})."""
    travel = _line_travel([0, 1, 10, 11])
    load = np.array([[1.5, 1.5, 0.5, 0.5]])
    target = np.ones((1, 4))
    args = (travel, np.ones(4), load, target, np.array([0.1]), 2, get_backend("highs"))
    near = design.candidate_seats(travel, 2, k=2)
    assert design.group_reps(*args, time_limit=30, seed=0, threads=1, candidates=near) is None
    g = design.group_nearest_first(*args, time_limit=30, seed=0, threads=1, k=2)
    assert g is not None
    assert g.travel == pytest.approx(20.0)
    assert g.pairs == 16
    for d in range(2):
        assert load[0, g.district == d].sum() == pytest.approx(2.0)


def test_second_solve_is_skipped_when_the_district_band_is_implied(tmp_path: Path) -> None:
    """Territories within +-10% potential (9 to 11: two 4s and two 1s each) and exactly 4 accounts: any
    two reps together are within +-10% of their district target, so the district rows of every grouping
    are redundant. The plan is the free optimum (brute force) and its bound stands."""
    accounts, reps = grid_rows()
    a, r = write_grid(tmp_path)
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "--quiet"]
    args += ["--tolerance", "potential=0.1,workload=0", "--design-districts", "2"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    s = json.loads((out / "summary.json").read_text())
    design_info = s["hierarchy"]["district"]["design"]
    assert design_info["second_solve"] == "skipped (district band implied)"
    assert s["objective"] == pytest.approx(
        brute_force(accounts, reps, {"potential": 0.1, "workload": 0.0}, None)
    )
    assert s["status"] == "optimal"
    assert s["lower_bound"] == pytest.approx(design_info["grouping_lower_bound"])


def test_greedy_grouping_is_a_valid_start_or_none() -> None:
    """Two clusters of 4 on a line: farthest-first seats land in both, and the greedy grouping is the
    clusters (capacity 4 each, within 1 of the mean). With the high/low loads of the fallback case, its
    greedy districts pair two high reps: outside the +-10% band, so no start is offered."""
    travel = _line_travel([0, 1, 2, 3, 100, 101, 102, 103])
    ones = np.ones((1, 8))
    seat_of = design.greedy_grouping(travel, np.ones(8), ones, ones, np.array([np.inf]), 2)
    assert seat_of is not None
    assert len(set(seat_of[:4].tolist())) == 1
    assert len(set(seat_of[4:].tolist())) == 1
    assert seat_of[0] != seat_of[4]
    load = np.array([[1.5, 1.5, 0.5, 0.5]])
    none = design.greedy_grouping(
        _line_travel([0, 1, 10, 11]), np.ones(4), load, np.ones((1, 4)), np.array([0.1]), 2
    )
    assert none is None


def test_greedy_grouping_fills_an_outlier_seat() -> None:
    """Reps at 0..7 and 100, three districts of 3 +- 1: farthest-first makes the outlier a seat, and the
    regret assignment fills the two cluster seats to 4 first, leaving the outlier alone (1 < 2). The fill
    step moves the cluster rep nearest the outlier (at 7) to it: districts of 4, 3, 2 reps."""
    travel = _line_travel([0, 1, 2, 3, 4, 5, 6, 7, 100])
    ones = np.ones((1, 9))
    seat_of = design.greedy_grouping(travel, np.ones(9), ones, ones, np.array([np.inf]), 3)
    assert seat_of is not None
    sizes = sorted(np.unique(seat_of, return_counts=True)[1].tolist())
    assert sizes == [2, 3, 4]
    assert seat_of[7] == seat_of[8] == 8


def test_designed_districts_nest_in_the_reps_regions() -> None:
    """Reps at 0, 1, 10, 11: the cheapest two districts are {0, 1} and {10, 11}, but 0 and 10 are in
    region North, 1 and 11 in South, so nested districts are {0, 10} and {1, 11} (travel 20)."""
    travel = _line_travel([0, 1, 10, 11])
    ones = np.ones((1, 4))
    regions = np.array(["North", "South", "North", "South"])
    args = (travel, np.ones(4), ones, ones, np.array([np.inf]), 2, get_backend("highs"))
    free = design.group_nearest_first(*args, time_limit=30, seed=0, threads=1)
    assert free is not None
    assert free.district[0] == free.district[1]  # without regions: the two clusters
    same = regions[:, None] == regions[None, :]
    g = design.group_nearest_first(*args, time_limit=30, seed=0, threads=1, allowed=same)
    assert g is not None
    assert g.district[0] == g.district[2]
    assert g.district[1] == g.district[3]
    assert g.travel == pytest.approx(20.0)
    # 17 reps (one half-time) in regions of 4, 4, 4 and 4.5 capacity: 4 or 8 districts can nest, 5 cannot
    capacity = np.array([1.0] * 16 + [0.5])
    by_region = np.array(["C"] * 4 + ["E"] * 4 + ["S"] * 4 + ["W"] * 5)
    counts = design.nesting_counts(capacity, by_region)
    assert counts[:2] == [4, 8]
    assert 5 not in counts
    assert 6 not in counts


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_a_district_count_the_regions_cannot_nest_is_proven_infeasible_before_solving(
    tmp_path: Path, command: str
) -> None:
    """Reps in three regions (West R1, R2; South R3; North R4) cannot make two districts that each lie in
    one region: every region needs a district of its own. ``design.nesting_counts`` proves it before any
    solve, so the run says "infeasible" (exit 1) with the numbers it allows, not "no grouping found, not
    a proof" (exit 3) after a solve (QA3a: 6 St. Louis-area reps in regions of 5.3 and 1.7 capacity)."""
    accounts, reps = grid_rows()
    for rep, region in zip(reps, ["West", "West", "South", "North"], strict=True):
        rep["region"] = region
        del rep["district"]  # the grid's own districts would straddle these regions
    a, r = write_instance(tmp_path, accounts, reps)
    out = tmp_path / "plan"
    args = [command, "--accounts", str(a), "--reps", str(r), "--tolerance", "potential=0.7,workload=0"]
    args += ["--design-districts", "2"] + (["--out", str(out), "--quiet"] if command == "plan" else [])
    res = CliRunner().invoke(main, args, terminal_width=250)
    assert res.exit_code == 1, res.output
    assert "district_design" in res.output
    assert "numbers of districts they allow: 3, 4" in res.output
    assert "not a proof" not in res.output
    assert not (out / "summary.json").exists()
    # three districts can nest (West 2 reps, South 1, North 1): the same reps make a plan
    if command == "plan":
        args[args.index("--design-districts") + 1] = "3"
        args += ["--district-tolerance", "0.99"]  # the quadrants hold 16, 16, 4, 4: no tight band here
        res = CliRunner().invoke(main, args, terminal_width=250)
        assert res.exit_code == 0, res.output
