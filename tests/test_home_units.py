"""A rep's home unit for --contiguous is the polygon that holds its home, not the unit whose account
point lies nearest (QA4: on the lower-48 states, Chicago's rep was anchored to Indiana and Dallas's to
Oklahoma, whose representative points are nearer than Illinois's and Texas's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scenario_fixtures import strip_map

from territory_planner import api
from territory_planner.geo import planning
from territory_planner.options import build_options


def test_the_polygon_holding_a_home_is_its_unit(tmp_path: Path) -> None:
    acc, reps = strip_map(tmp_path)
    options = build_options({"accounts": acc, "reps": reps, "tolerance": 0.9})
    _, problem = api.load(options)
    spec = api.build_spec(problem, options, problem.home_lat, problem.home_lon)
    ids = [str(problem.account_ids[u]) for u in planning.home_units(spec, problem.home_lat, problem.home_lon)]
    assert ids == ["A", "C"]  # R1's home lies in A, though B's point is nearer it
    centre, own = planning.home_units_owned(spec, problem.home_lat, problem.home_lon)
    assert own
    assert [str(problem.account_ids[u]) for u in centre] == ids


def test_a_home_outside_every_polygon_takes_the_nearest_unit(tmp_path: Path) -> None:
    acc, reps = strip_map(tmp_path, r1=(5.0, 10.4))
    options = build_options({"accounts": acc, "reps": reps, "tolerance": 0.9})
    _, problem = api.load(options)
    assert problem.home_unit is not None
    assert problem.home_unit[0] == -1
    spec = api.build_spec(problem, options, problem.home_lat, problem.home_lon)
    centre = planning.home_units(spec, problem.home_lat, problem.home_lon)
    assert str(problem.account_ids[centre[0]]) == "B"  # north of B: its point is the nearest
    assert np.all(centre >= 0)
