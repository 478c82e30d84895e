"""A rep's home unit for --contiguous is the polygon that holds its home, not the unit whose account
point lies nearest (QA4: on the lower-48 states, Chicago's rep was anchored to Indiana and Dallas's to
Oklahoma, whose representative points are nearer than Illinois's and Texas's)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from territory_planner import api
from territory_planner.geo import planning
from territory_planner.options import build_options


def _reps(path: Path, r1: tuple[float, float]) -> None:
    """R1 at ``r1`` (lat, lon), R2 inside C."""
    rows = [{"rep_id": "R1", "lat": r1[0], "lon": r1[1]}, {"rep_id": "R2", "lat": 0.5, "lon": 11.5}]
    pd.DataFrame(rows).to_csv(path, index=False)


def _strip_map(folder: Path) -> tuple[Path, Path]:
    """Three polygon accounts in a row: a long strip A (lon 0-10), then B (10-11) and C (11-12).
    R1's home (lon 9.5) lies inside A, 1 degree from B's point and about 4.5 from A's."""
    features = []
    for name, (x0, x1) in {"A": (0.0, 10.0), "B": (10.0, 11.0), "C": (11.0, 12.0)}.items():
        ring = [[x0, 0.0], [x1, 0.0], [x1, 1.0], [x0, 1.0], [x0, 0.0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"account_id": name, "potential": 1.0, "workload": 1.0},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    acc = folder / "accounts.geojson"
    acc.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    reps = folder / "reps.csv"
    _reps(reps, (0.5, 9.5))
    return acc, reps


def test_the_polygon_holding_a_home_is_its_unit(tmp_path: Path) -> None:
    acc, reps = _strip_map(tmp_path)
    options = build_options({"accounts": acc, "reps": reps, "tolerance": 0.9})
    _, problem = api.load(options)
    spec = api.build_spec(problem, options, problem.home_lat, problem.home_lon)
    ids = [str(problem.account_ids[u]) for u in planning.home_units(spec, problem.home_lat, problem.home_lon)]
    assert ids == ["A", "C"]  # R1's home lies in A, though B's point is nearer it
    centre, own = planning.home_units_owned(spec, problem.home_lat, problem.home_lon)
    assert own
    assert [str(problem.account_ids[u]) for u in centre] == ids


def test_a_home_outside_every_polygon_takes_the_nearest_unit(tmp_path: Path) -> None:
    acc, reps = _strip_map(tmp_path)
    _reps(reps, (5.0, 10.4))
    options = build_options({"accounts": acc, "reps": reps, "tolerance": 0.9})
    _, problem = api.load(options)
    assert problem.home_unit is not None
    assert problem.home_unit[0] == -1
    spec = api.build_spec(problem, options, problem.home_lat, problem.home_lon)
    centre = planning.home_units(spec, problem.home_lat, problem.home_lon)
    assert str(problem.account_ids[centre[0]]) == "B"  # north of B: its point is the nearest
    assert np.all(centre >= 0)
