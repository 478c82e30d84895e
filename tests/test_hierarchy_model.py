"""District and region bands in the model: the optimum, the bound, feasibility and pre-checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from territory_planner import api
from territory_planner.errors import InfeasibleError, InputError
from territory_planner.optimize import hierarchy, lp, repair
from tests.conftest import options_for, write_instance
from tests.hierarchy_fixtures import brute_force, grid_rows, write_grid

TOL = {"potential": 0.7, "workload": 0.0}


def _opts(folder: Path, **kw: object):  # noqa: ANN202 - PlanOptions
    a, r = write_grid(folder)
    return options_for(a, r, tolerance="potential=0.7,workload=0", **kw)


def test_grid_optimum_without_district_rows(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    out = api.solve(_opts(tmp_path))
    s = out.summary
    assert s["status"] == "optimal"
    assert s["objective"] == pytest.approx(brute_force(accounts, reps, TOL, None), rel=1e-9)
    west = out.territories[out.territories["rep_id"].isin(["R1", "R2"])]["potential"].sum()
    assert west == 32.0  # the quadrants: the district band below is binding


def test_grid_optimum_with_district_rows(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    free = brute_force(accounts, reps, TOL, None)
    best = brute_force(accounts, reps, TOL, 0.1)
    assert best > free + 1.0  # the district rows change the optimum
    out = api.solve(_opts(tmp_path, district_tolerance="potential=0.1"))
    s = out.summary
    assert s["status"] == "optimal"
    assert s["objective"] == pytest.approx(best, rel=1e-9)
    assert s["lower_bound"] <= best * (1 + 1e-9)
    assert s["lower_bound"] > free  # the bound knows about the district rows
    t = out.territories.set_index("rep_id")
    west = t.loc[["R1", "R2"], "potential"].sum()
    assert 18.0 - 1e-9 <= west <= 22.0 + 1e-9


def test_region_rows_over_one_region_change_nothing(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    out = api.solve(_opts(tmp_path, region_tolerance=0.01))
    assert out.summary["objective"] == pytest.approx(brute_force(accounts, reps, TOL, None), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_lagrangian_bound_with_group_duals_is_a_lower_bound(tmp_path: Path, seed: int) -> None:
    """Any sign-correct duals (group rows included) give a bound below the brute-force optimum."""
    accounts, reps = grid_rows()
    best = brute_force(accounts, reps, TOL, 0.1)
    opts = _opts(tmp_path, district_tolerance="potential=0.1")
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    assert spec.groups is not None
    rng = np.random.default_rng(seed)
    m, p, g = len(problem.measures), problem.n_reps, spec.groups.n_groups
    for _ in range(50):
        d = lp.Duals.zeros(m, p, g)
        d.bal_lo[:] = rng.exponential(50, (m, p))
        d.bal_hi[:] = -rng.exponential(50, (m, p))
        d.grp_lo[:] = rng.exponential(200, (m, g))
        d.grp_hi[:] = -rng.exponential(200, (m, g))
        _, bound = lp.lagrangian(spec, d)
        assert bound <= best + 1e-6


def test_feasible_rejects_a_plan_that_breaks_a_district_band(tmp_path: Path) -> None:
    opts = _opts(tmp_path, district_tolerance="potential=0.1")
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    # the quadrants: every rep band holds, West holds 32 > 22
    quadrants = np.array([[0, 0, 2, 2], [0, 0, 2, 2], [1, 1, 3, 3], [1, 1, 3, 3]]).ravel()
    assert repair.feasible(dataclasses.replace(spec, groups=None), quadrants)
    assert not repair.feasible(spec, quadrants)
    v = hierarchy.violations(spec, quadrants)
    assert {x["constraint"] for x in v} == {"district_max", "district_min"}
    assert max(float(x["violation"]) for x in v) == pytest.approx(10.0)  # 32 vs 22, 8 vs 18


def test_precheck_locked_account_overflows_its_district(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    accounts[0]["potential"] = 100.0  # total 136: West's band is 68 +- 10%: 62 to 74 in whole units
    accounts[0]["locked_rep"] = "R1"
    a, r = write_instance(tmp_path / "x", accounts, reps)
    with pytest.raises(InfeasibleError) as exc:
        api.solve(options_for(a, r, tolerance="potential=0.99,workload=0", district_tolerance=0.1))
    msgs = [c.message for c in exc.value.conflicts if c.family == "district"]
    assert any(
        "account A00 (locked to R1) alone has $100 potential" in m and "West is $62 to $74" in m for m in msgs
    ), msgs


def test_a_districts_locked_units_name_only_the_restrictions_the_model_has(tmp_path: Path) -> None:
    """QA51 F5: "2 units must go to reps of district West (locks and segments)" in a model without a
    segment. Two accounts of 40 locked to R1 (total 116, West's band 52.2 to 63.8): each fits, both do not."""
    accounts, reps = grid_rows()
    for k in (0, 1):
        accounts[k]["potential"], accounts[k]["locked_rep"] = 40.0, "R1"
    a, r = write_instance(tmp_path / "x", accounts, reps)
    with pytest.raises(InfeasibleError) as exc:
        api.solve(options_for(a, r, tolerance="potential=0.99,workload=0", district_tolerance=0.1))
    msgs = [c.message for c in exc.value.conflicts if c.family == "district"]
    assert any(m.startswith("2 units must go to reps of district West (locks); they carry") for m in msgs), (
        msgs
    )


def test_infeasible_district_band_is_proven_not_guessed(tmp_path: Path) -> None:
    """No pre-check catches it, the LP does: West's reps can hold at most 2 x 17 = 34 potential in
    rep bands, but with +-0 on workload and 16 accounts the district band 19.9-20.1 cannot be met by
    whole accounts with potentials 4 and 1 (20 = 4a + b with a + b = 8: a = 4, b = 4 works) ->
    feasible; tighten to potentials 4 and 2: 4a + 2b with a + b = 8 is even, 15 +- 1% is not."""
    accounts, reps = grid_rows()
    for row in accounts:
        row["potential"] = 4.0 if row["lon"] < 1.5 else 2.0  # total 48, West target 24 -> 23.76..24.24
    a, r = write_instance(tmp_path / "y", accounts, reps)
    out = api.solve(options_for(a, r, tolerance="potential=0.7,workload=0", district_tolerance=0.01))
    west = out.territories.set_index("rep_id").loc[["R1", "R2"], "potential"].sum()
    assert west == 24.0
    assert out.summary["objective"] == pytest.approx(brute_force(accounts, reps, TOL, 0.01), rel=1e-9)


def test_district_in_two_regions_is_an_input_error(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    reps[1]["region"] = "Other"
    a, r = write_instance(tmp_path / "z", accounts, reps)
    with pytest.raises(InputError) as exc:
        api.solve(options_for(a, r))
    p = exc.value.problems[0]
    assert (p.row, p.column) == (2, "region")
    assert "'West'" in p.message
    assert "one region" in p.message


def test_district_tolerance_needs_every_rep_to_have_a_district(tmp_path: Path) -> None:
    accounts, reps = grid_rows()
    reps[2]["district"] = ""
    a, r = write_instance(tmp_path / "w", accounts, reps)
    with pytest.raises(InputError) as exc:
        api.solve(options_for(a, r, district_tolerance=0.1))
    assert [(p.row, p.column) for p in exc.value.problems] == [(3, "district")]


def test_lp_proves_a_district_band_infeasible_that_no_precheck_sees(tmp_path: Path) -> None:
    """Twelve accounts of segment a (potential 4) that R1-R3 serve, four of segment b (potential 1)
    that only R4 serves; every rep holds exactly 4 accounts. West (R1, R2) must then hold 8 a-accounts,
    32 potential, above its band 26 +- 10%, although a-accounts may also go to R3 (no pre-check
    sees it: nothing is confined to West). The phase-1 LP proves it and names the district rows."""
    accounts, reps = grid_rows()
    for row in accounts:
        b = row["lon"] == 3.0
        row["segment"] = "b" if b else "a"
        row["potential"] = 1.0 if b else 4.0
    for rep in reps:
        rep["segments"] = "b" if rep["rep_id"] == "R4" else "a"
    a, r = write_instance(tmp_path / "seg", accounts, reps)
    opts = options_for(a, r, tolerance="potential=0.7,workload=0", district_tolerance="potential=0.1")
    assert api.solve(options_for(a, r, tolerance="potential=0.7,workload=0")).summary["status"] == "optimal"
    with pytest.raises(InfeasibleError) as exc:
        api.solve(opts)
    assert "district/region bands" in str(exc.value)
    assert any(c.family == "district" and "West" in c.message for c in exc.value.conflicts)
