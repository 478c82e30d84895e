"""A proof that no connected plan holds the centres used, when a centre is not its rep's home's unit: the
reps concerned and why are named, with what would make the proof the user's (QA100 F2)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_contiguous_flow import grid
from test_geo_contiguity import planar_problem

from territory_planner import api, plan_endings
from territory_planner.errors import SolverError
from territory_planner.geo import contiguity_stage, planning
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import pipeline
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import build_options
from territory_planner.solvers import get_backend


def _line(homes: list[float]) -> tuple[ModelSpec, np.ndarray, np.ndarray]:
    """Six units on a line (longitude 0 to 5), one account each of equal potential, a rep per home
    (longitude), each rep's band two units."""
    xy, _ = grid(6, 1)
    problem = planar_problem(np.ones(6), len(homes), 0.01)
    lat, lon = np.zeros(len(homes)), np.array(homes)
    problem = dataclasses.replace(problem, acc_lon=xy[:, 0].copy(), home_lat=lat.copy(), home_lon=lon.copy())
    cost = np.abs(xy[:, :1] - lon[None, :])
    return ModelSpec.build(problem, lat, lon, cost=cost), lat, lon


def test_the_reps_whose_centres_are_not_their_homes_are_named_with_the_reason() -> None:
    spec, lat, lon = _line([0.0, 0.0, 5.0])
    centre, own = planning.home_units_owned(spec, lat, lon)
    assert not own
    assert centre.tolist() == [0, 1, 5]  # T1 shares T0's home unit: the runner-up
    [(kind, text, who)] = planning.centres_moved(spec, centre)
    assert kind == "shared"
    assert who == "T0 and T1"
    assert text.startswith("T1's home is in ")
    assert "as T0's" in text
    assert text.endswith(spec.problem.unit_label(1))
    # --choose-centres: a rep anchored at its own home's unit is not named, one anchored elsewhere is
    chosen = np.array([False, False, True])
    assert [k for k, _, _ in planning.centres_moved(spec, centre, chosen)] == ["shared"]
    option = planning.centres_moved(spec, np.array([0, 1, 4]), chosen)
    assert [(k, w) for k, _, w in option] == [("shared", "T0 and T1"), ("option", "T2")]
    # a rep without a home base: the planner chose its centre
    homeless = dataclasses.replace(
        spec, problem=dataclasses.replace(spec.problem, home_lat=np.array([0.0, 0.0, np.nan]))
    )
    moved = planning.centres_moved(homeless, centre, chosen)
    assert [(k, w) for k, _, w in moved] == [("shared", "T0 and T1"), ("chosen", "T2")]
    barred = dataclasses.replace(spec, allowed=spec.allowed.copy())
    barred.allowed[5, 2] = False  # T2 may not serve its home's unit
    moved = planning.centres_moved(barred, np.array([0, 1, 4]))
    assert [(k, w) for k, _, w in moved] == [("shared", "T0 and T1"), ("barred", "T2")]


def test_three_reps_sharing_one_home_are_named_together_once() -> None:
    """T0, T1 and T2 live in unit 0, T0 holds it: both moved reps' entries name all three, and the
    proof's advice names them once ("T0, T1 and T2"), not pair by pair ("T0 and T1, T0 and T2")."""
    spec, _, _ = _line([0.0, 0.0, 0.0, 5.0])
    moved = planning.centres_moved(spec, np.array([0, 1, 2, 5]))
    assert [(k, w) for k, _, w in moved] == [("shared", "T0, T1 and T2"), ("shared", "T0, T1 and T2")]
    assert [text.split("'s")[0] for _, text, _ in moved] == ["T1", "T2"]
    split = plan_endings._Split([], 2, 0, "2 territories", "in 2 pieces", "proven for the centres chosen",
                                "territories", False)  # fmt: skip
    error = plan_endings._proof_for_less(split, 4, moved)
    assert error is not None
    text = str(error)
    assert "give T0, T1 and T2 homes in different units, " in text
    assert "T0 and T1" not in text


def test_a_proof_for_a_shared_home_names_the_twins_not_missing_home_bases() -> None:
    """T0 and T1 share the home unit 0: T1 is anchored to unit 1, which walls T0 in at one unit where its
    band needs two: no connected plan holds these centres (T1 anchored at unit 2 would have one). The
    run's error says the proof is for those centres, names the twins and the fix, and not "home bases"."""
    spec, lat, lon = _line([0.0, 0.0, 5.0])
    backend = get_backend("highs")
    unit_rep, result = pipeline.solve(
        spec, backend, time_limit=10, gap=0.0, seed=0, threads=1, candidates=3, relax=False
    )
    adj = grid(6, 1)[1]
    _, _, info = contiguity_stage.make_contiguous(
        spec, adj, unit_rep, result, backend, lat=lat, lon=lon, time_limit=10, gap=0.0, seed=0, threads=1
    )
    assert info["infeasible"] == "proven for the centres chosen"
    assert [entry[0] for entry in info["centres"]] == ["shared"]
    options = build_options({"contiguous": True, "time_limit": 60})
    plan = SolveResult("feasible", False, 1.0, 1.0, 1.0, 0.0, 1.0, "HiGHS", "round")
    with pytest.raises(SolverError) as err:
        api._connected_or_relaxed(plan, info, None, options, 3)
    text = str(err.value)
    assert "for the centres used" in text
    assert "T1's home is in " in text
    assert "give T0 and T1 homes in different units" in text
    assert "home bases" not in text
