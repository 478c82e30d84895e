"""--district-contiguous prechecks (QA10 O10): districts cut apart by other districts' homes, proven on the
map, and the distance warning for reps whose district must reach across other districts' homes."""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_planner import api
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import planning
from territory_planner.geo.district_homes import district_home_conflicts, district_home_warnings
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import build_options
from tests.conftest import problem_from_rows
from tests.test_hierarchy_contiguity import _path_case, grid_case


def _loaded(a: Path, r: Path, e: Path) -> tuple[ModelSpec, adjmod.Adjacency, np.ndarray]:
    """The spec, adjacency and home units as `plan --district-contiguous` builds them."""
    opts = build_options(
        {"accounts": a, "reps": r, "adjacency": e, "tolerance": 0.9, "district_contiguous": True}
    )
    _, problem = api.load(opts)
    spec = api.build_spec(problem, opts, problem.home_lat, problem.home_lon)
    adj = planning.unit_adjacency(problem, None, edges=e, rook=False, bridge=False)
    centre, own = planning.home_units_owned(spec, problem.home_lat, problem.home_lon, problem.missing_homes)
    assert own
    return spec, adj, centre


def _problem(n_units: int, districts: list[str], lat: list[float], lon: list[float]) -> TerritoryProblem:
    """Accounts U0..U{n-1} (one unit each) and reps R1..Rp with the given districts and homes."""
    accounts = [
        {"account_id": f"U{k}", "lat": 0.0, "lon": float(k), "workload": 1.0, "potential": 1.0}
        for k in range(n_units)
    ]
    reps = [
        {"rep_id": f"R{j + 1}", "lat": la, "lon": lo, "district": d}
        for j, (d, la, lo) in enumerate(zip(districts, lat, lon, strict=True))
    ]
    return problem_from_rows(accounts, reps, ("potential",), np.array([0.5]))


def _spec(problem: TerritoryProblem) -> ModelSpec:
    cost = np.zeros((problem.n_units, problem.n_reps))
    return ModelSpec.build(problem, problem.home_lat, problem.home_lon, cost=cost)


def test_the_path_whose_middle_home_is_another_district_is_proven(tmp_path: Path) -> None:
    """U0 - U1 - U2 - U3 - U4: A's reps at both ends (R1, R2), B's rep R3 in the middle."""
    spec, adj, centre = _loaded(*_path_case(tmp_path))
    (conflict,) = district_home_conflicts(spec, adj, centre)
    assert conflict.family == "district_contiguity"
    msg = conflict.message
    assert msg.startswith("district A cannot be one piece: R1's home (U0) is cut off from R2's home (U4)")
    assert "by the home units of other districts' reps: R3 (district B, U2)" in msg
    assert "no plan of connected districts exists" in msg
    assert msg.endswith("Move a rep to another district, move a home, or --relax")
    assert conflict.rep_id == "R1, R2"
    assert conflict.extra == {
        "district": "A",
        "parts": [["R1"], ["R2"]],
        "walls": ["R3"],
        "walls_also": [],
        "accounts": ["U0", "U4"],
    }


def test_the_path_with_the_other_district_at_an_end_has_no_conflict(tmp_path: Path) -> None:
    a, r, e = _path_case(tmp_path)
    reps = pd.read_csv(r)
    reps["lon"] = [0.0, 2.0, 4.0]  # A at U0 and U2, B at U4: A is U0..U2 or more, one piece
    reps.to_csv(r, index=False)
    spec, adj, centre = _loaded(a, r, e)
    assert centre.tolist() == [0, 2, 4]
    assert district_home_conflicts(spec, adj, centre) == []


def test_a_home_between_that_can_be_walked_around_is_no_conflict(tmp_path: Path) -> None:
    """The 4 x 3 grid: B's home sits between A's two homes on the bottom row, A goes around it."""
    spec, adj, centre = _loaded(*grid_case(tmp_path))
    assert district_home_conflicts(spec, adj, centre) == []
    # the same map cut down to its bottom row is the walled path: then it is a conflict
    bottom = (adj.u < 3) & (adj.v < 3)
    row = adjmod.Adjacency(adj.n, adj.u[bottom], adj.v[bottom])
    (conflict,) = district_home_conflicts(spec, row, centre)
    assert "R3 (district B, U01)" in conflict.message


def test_a_wall_of_several_homes_names_each() -> None:
    """A 3 x 3 grid (rook), units numbered row by row; B's homes fill the middle column but for its top,
    C's home is at the top right; A has homes on both sides::

        6  7  8        A  .  C
        3  4  5        A  B  A
        0  1  2        .  B  .

    Without 1, 4 and 8 the left column and 7 are one piece, 2 and 5 another: R3 is cut off."""
    problem = _problem(9, ["A", "A", "A", "B", "B", "C"], [0.0] * 6, [0.0] * 6)
    adj = adjmod.Adjacency.from_edges(
        9, [0, 1, 3, 4, 6, 7, 0, 1, 2, 3, 4, 5], [1, 2, 4, 5, 7, 8, 3, 4, 5, 6, 7, 8]
    )
    spec = _spec(problem)
    centre = np.array([3, 6, 5, 1, 4, 8])
    (conflict,) = district_home_conflicts(spec, adj, centre)
    assert conflict.extra["parts"] == [["R1", "R2"], ["R3"]]
    assert conflict.extra["walls"] == ["R4", "R5", "R6"]
    assert "the homes of R1 (U3), R2 (U6) are cut off from R3's home (U5)" in conflict.message
    assert "R4 (district B, U1), R5 (district B, U4), R6 (district C, U8)" in conflict.message
    centre[5] = 7  # C's home at the top middle: the same cut, by 1, 4 and 7
    (conflict,) = district_home_conflicts(spec, adj, centre)
    assert conflict.extra["walls"] == ["R4", "R5", "R6"]
    centre[1:3] = [2, 6]  # R2's home at the bottom right, R3's at the top left: R2 is the one cut off
    (conflict,) = district_home_conflicts(spec, adj, centre)
    assert conflict.extra["parts"] == [["R1", "R3"], ["R2"]]
    assert "R1 (U3), R3 (U6) are cut off from R2's home (U2)" in conflict.message
    centre[5] = 0  # C's home at the bottom left: A joins over the top row, 6 - 7 - 8 - 5 - 2
    assert district_home_conflicts(spec, adj, centre) == []


def test_three_parts_of_a_district_are_each_named() -> None:
    """U0 - U1 - U2 - U3 - U4 with A's homes at U0, U2 and U4 and B's at U1 and U3: both are cut."""
    problem = _problem(5, ["A", "B", "A", "B", "A"], [0.0] * 5, [0.0] * 5)
    adj = adjmod.Adjacency.from_edges(5, [0, 1, 2, 3], [1, 2, 3, 4])
    a, b = district_home_conflicts(_spec(problem), adj, np.arange(5))
    assert "its reps' homes fall into 3 parts: R1's home (U0) | R3's home (U2) | R5's home (U4)" in a.message
    assert a.extra["walls"] == ["R2", "R4"]
    assert b.message.startswith("district B cannot be one piece: R2's home (U1) is cut off from R4's home")
    assert b.extra["walls"] == ["R3"]  # B is cut too, by A's middle home


def test_only_the_homes_that_cut_are_named() -> None:
    """QA94 F4: Catania was "cut off ... by the home units of other districts' reps: Sassari, Cosenza,
    Udine", where Cosenza alone cuts it off. Here A's homes U0 and U4 are cut apart by B's home U2 alone;
    B's other home U5 walls off the dead end U6 (its neighbours lie in two pieces), which joins nothing::

        U0(A) - U1 - U2(B) - U3 - U4(A)
                 |
                U5(B) - U6
    """
    problem = _problem(7, ["A", "B", "A", "B"], [0.0] * 4, [0.0] * 4)
    adj = adjmod.Adjacency.from_edges(7, [0, 1, 2, 3, 1, 5], [1, 2, 3, 4, 5, 6])
    (a,) = district_home_conflicts(_spec(problem), adj, np.array([0, 2, 4, 5]))
    assert a.extra["walls"] == ["R2"]
    assert a.message.startswith(
        "district A cannot be one piece: R1's home (U0) is cut off from R3's home (U4) by"
    )


def test_a_map_in_pieces_is_named_without_a_wall() -> None:
    problem = _problem(4, ["A", "A"], [0.0, 0.0], [0.0, 3.0])
    adj = adjmod.Adjacency.from_edges(4, [0, 2], [1, 3])  # U0 - U1   U2 - U3
    (conflict,) = district_home_conflicts(_spec(problem), adj, np.array([0, 3]))
    assert "no edge of the map joins them" in conflict.message
    assert "--bridge-islands" in conflict.message
    assert conflict.extra["walls"] == []


def test_chosen_centres_are_no_walls_and_their_districts_are_skipped(tmp_path: Path) -> None:
    spec, adj, centre = _loaded(*_path_case(tmp_path))
    assert district_home_conflicts(spec, adj, centre, np.array([False, False, False])) != []
    # R3's centre was chosen by the planner: it can move, so it walls nothing off
    assert district_home_conflicts(spec, adj, centre, np.array([False, False, True])) == []
    # R1's centre was chosen: A keeps one given home, nothing to join
    assert district_home_conflicts(spec, adj, centre, np.array([True, False, False])) == []
    # a rep without a home unit counts for nothing
    assert district_home_conflicts(spec, adj, np.array([0, 4, -1])) == []
    # without districts there is nothing to check
    problem = _problem(5, ["", "", ""], [0.0] * 3, [0.0, 4.0, 2.0])
    assert district_home_conflicts(_spec(problem), adj, centre) == []


def _home_line(districts: list[str], lat: list[float] | None = None) -> TerritoryProblem:
    """One rep per degree of longitude on the equator (111 km apart), in the given districts."""
    n = len(districts)
    return _problem(2, districts, [0.0] * n if lat is None else lat, [float(k) for k in range(n)])


def test_the_warning_names_a_rep_whose_district_lies_across_two_others() -> None:
    """Homes A B B C A, a degree apart: each of A's homes has B's and C's nearer than the other A."""
    lines = district_home_warnings(_home_line(["A", "B", "B", "C", "A"]))
    assert lines == [
        "district A: R1's home is 445 km from the nearest home of its district (R5); homes of districts B, C "
        "(3 reps) are nearer: a connected district must reach across them",
        "district A: R5's home is 445 km from the nearest home of its district (R1); homes of districts B, C "
        "(3 reps) are nearer: a connected district must reach across them",
    ]
    assert district_home_warnings(_home_line(["A", "A", "B", "B", "C", "C"])) == []  # compact districts
    assert district_home_warnings(_home_line(["A", "B", "B", "A"])) == []  # one district between: quiet
    assert len(district_home_warnings(_home_line(["A", "B", "C", "A"]))) == 2  # two lone reps between


def test_the_warning_counts_only_given_homes_and_labelled_districts() -> None:
    no_home = [0.0, 0.0, 0.0, 0.0, np.nan]  # R5 has no home: A has one rep with a home, nothing to reach
    assert district_home_warnings(_home_line(["A", "B", "B", "C", "A"], no_home)) == []
    problem = _home_line(["A", "B", "", "C", "A"])  # a rep without a district is no district between
    assert len(district_home_warnings(problem)) == 2
    problem = _home_line(["A", "B", "", "", "A"])
    assert district_home_warnings(problem) == []
    assert district_home_warnings(_problem(2, ["A", "B"], [0.0, 0.0], [0.0, 1.0])) == []


def _connected(units: list[int], nb: list[set[int]]) -> bool:
    if not units:
        return True
    want, seen = set(units), {units[0]}
    queue = deque([units[0]])
    while queue:
        for w in nb[queue.popleft()] & want:
            if w not in seen:
                seen.add(w)
                queue.append(w)
    return seen == want


def test_every_conflict_is_confirmed_by_brute_force() -> None:
    """Random maps of 5 to 7 units with 3 or 4 reps in 2 or 3 districts: whenever a district is named,
    no connected set of units holds its given homes without another district's, no assignment of the
    units to districts makes every district one piece, and the named walls alone cut the parts apart."""
    rng = np.random.default_rng(10)
    claims = 0
    for _ in range(400):
        n, p = int(rng.integers(5, 8)), int(rng.integers(3, 5))
        k = int(rng.integers(2, 4))
        labels = [f"D{d}" for d in rng.permutation(np.arange(p) % k)]
        pairs = [(a, b) for a, b in itertools.combinations(range(n), 2) if rng.random() < 0.4]
        adj = adjmod.Adjacency.from_edges(n, [a for a, _ in pairs], [b for _, b in pairs])
        centre = rng.choice(n, size=p, replace=False)
        chosen = rng.random(p) < 0.1
        problem = _problem(n, labels, [0.0] * p, [0.0] * p)
        found = district_home_conflicts(_spec(problem), adj, centre, chosen)
        if not found:
            continue
        claims += len(found)
        nb: list[set[int]] = [set(x.tolist()) for x in adj.neighbours()]
        fixed = {int(centre[j]): labels[j] for j in range(p) if not chosen[j]}
        free = [u for u in range(n) if u not in fixed]
        for conflict in found:
            d = conflict.extra["district"]
            own = [u for u, lab in fixed.items() if lab == d]
            for r in range(len(free) + 1):
                for extra in itertools.combinations(free, r):
                    assert not _connected([*own, *extra], nb), (d, own, extra)
            # the walls named are enough: with only their units taken out the parts stay apart
            rep_at = {f"R{j + 1}": int(centre[j]) for j in range(p)}
            named, parts = conflict.extra["walls"], conflict.extra["parts"]
            assert isinstance(named, list)
            assert isinstance(parts, list)
            walls = {rep_at[w] for w in named}
            first, second = (rep_at[part[0]] for part in parts[:2])
            part = {first}
            queue = deque([first])
            while queue:
                for w in nb[queue.popleft()] - walls - part:
                    part.add(w)
                    queue.append(w)
            assert second not in part
        names = sorted(set(labels))
        for choice in itertools.product(names, repeat=len(free)):
            district = {**fixed, **dict(zip(free, choice, strict=True))}
            assert not all(_connected([u for u in range(n) if district[u] == name], nb) for name in names), (
                labels,
                pairs,
                centre.tolist(),
                choice,
            )
    assert claims >= 30, claims  # the maps do give the check something to prove


@pytest.mark.parametrize("chosen", [None, np.array([False, False, False, True])])
def test_a_district_with_a_chosen_centre_is_skipped(chosen: np.ndarray | None) -> None:
    """The walled path with a third rep of A (at U3): once its centre is the planner's, A is skipped."""
    problem = _problem(5, ["A", "A", "B", "A"], [0.0] * 4, [0.0, 4.0, 2.0, 3.0])
    adj = adjmod.Adjacency.from_edges(5, [0, 1, 2, 3], [1, 2, 3, 4])
    found = district_home_conflicts(_spec(problem), adj, np.array([0, 4, 2, 3]), chosen)
    assert len(found) == (chosen is None)


def test_the_walls_are_named_with_the_accounts_names(tmp_path: Path) -> None:
    """QA11 O13: "A1's home (MXMX03)"; other pre-checks give the name too ("VA51059 (Fairfax)")."""
    a, r, e = _path_case(tmp_path)
    accounts = pd.read_csv(a)
    accounts["name"] = ["West End", "Mill", "Centre", "Ford", "East End"]
    accounts.to_csv(a, index=False)
    spec, adj, centre = _loaded(a, r, e)
    (conflict,) = district_home_conflicts(spec, adj, centre)
    assert "R1's home (U0 (West End))" in conflict.message
    assert "R3 (district B, U2 (Centre))" in conflict.message
    assert conflict.extra["accounts"] == ["U0", "U4"]  # ids, not names, for whoever reads them


def test_homes_that_wall_a_district_apart_on_their_own_are_said_too() -> None:
    """QA95 F3: with two rows of another district's homes between a district's two homes, either row cuts
    it; only one row was named, and moving its reps alone would not join the district. The other row is
    named as walling it apart on its own::

        U0(A) - U1(B) - U2(B) - U3(A)       (one path: U1 alone or U2 alone cuts it)
    """
    problem = _problem(4, ["A", "B", "B", "A"], [0.0] * 4, [0.0] * 4)
    adj = adjmod.Adjacency.from_edges(4, [0, 1, 2], [1, 2, 3])
    conflicts = district_home_conflicts(_spec(problem), adj, np.arange(4))
    (a,) = [c for c in conflicts if c.extra["district"] == "A"]
    assert a.extra["walls"] == ["R3"]
    assert a.extra["walls_also"] == ["R2"]
    assert "(and, on their own, by those of R2 (district B, U1))" in a.message
