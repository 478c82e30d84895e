"""--design-districts on a grid whose best grouping is known."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
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
