"""The map of a plan with contiguity: the units' adjacency (and the one --design-districts connects
over), what --bridge-islands joined, the checks that end a run before any solve (pieces no connected
plan covers, reps walled in, district homes walled apart), and the pieces of each district or region.

Split from ``api`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from territory_planner.errors import InfeasibleError
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import prechecks
from territory_planner.optimize.spec import ModelSpec
from territory_planner.options import PlanOptions
from territory_planner.report.formatting import home_rule

log = logging.getLogger(__name__)


def _adjacency(options: PlanOptions, problem: Any, inputs: Any, joined: Any) -> Any:
    """The units' adjacency from ``--adjacency``, the account polygons or the areas, as the options say."""
    from territory_planner.geo import planning

    return planning.unit_adjacency(
        problem,
        inputs.geometry,
        edges=options.adjacency,
        rook=options.rook,
        bridge=options.bridge_islands,
        areas=joined,
        option="--contiguous" if options.contiguous else "--district-contiguous",
    )


def _bridged_note(problem: Any, adj: Any) -> str:
    """What --bridge-islands joined, and how far (QA72 F3: an island 563 km from the rest was joined
    without a word, and summary.json said "islands": 0): each edge between the two units' points, the
    distance the bridge spans."""
    from territory_planner.geo.planning import unit_points
    from territory_planner.io.labels import first_few
    from territory_planner.model.homes import arc_km

    lat, lon = unit_points(problem)
    edges = (
        f"{problem.unit_label(int(u))} - {problem.unit_label(int(v))} "
        f"({float(arc_km(lat[u], lon[u], lat[v], lon[v])):,.0f} km)"
        for u, v in adj.bridged
    )
    n = len(adj.bridged)
    return (
        f"--bridge-islands joined {n} piece{'' if n == 1 else 's'} of the map cut off from the rest, each to "
        f"its nearest unit by one edge that a territory may cross: {first_few(edges, 5)} "
        "(summary.json contiguity.bridged_edges)"
    )


def _design_adjacency(options: PlanOptions, problem: Any, inputs: Any, joined: Any) -> tuple[Any, str | None]:
    """The adjacency that ``--design-districts`` connects its districts over (no territory or district
    contiguity asked), and a note when it bridged islands. An island (a unit or piece with no neighbour in
    the rest of the map) keeps the district that holds it in two pieces whatever the grouping, so HiGHS
    proved every grouping unconnectable and all the districts were left split (QA13 5: Albuquerque's
    tracts, one island, 3 of 3 districts split after 16 groupings): the design joins each island to its
    nearest unit, as --bridge-islands does, and says so."""
    from territory_planner.geo import planning

    adj = _adjacency(options, problem, inputs, joined)
    islands = [] if options.bridge_islands else adj.islands()
    if not islands:
        return adj, None
    units = np.concatenate(islands)
    names = ", ".join(problem.unit_label(int(u)) for u in units[:3])
    more = f" and {len(units) - 3} more unit(s)" if len(units) > 3 else ""
    note = (
        f"the map has {len(islands)} island(s) apart from the rest ({names}{more}): the designed districts "
        "join each to its nearest unit, as --bridge-islands does, so a district holding one is one piece "
        "with it across the gap (districts.csv, column contiguous, counts it so)"
    )
    return planning.bridged(problem, adj), note


def _check_map_pieces(
    spec: ModelSpec, adj: Any, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray, of: str = "territory"
) -> bool:
    """Pieces of the adjacency that no plan of connected territories (``of`` "territory") or districts
    ("district") can cover (``component_conflicts``) and, for territories, reps walled in by other homes
    (``walled_in_conflicts``) end the run at once with exit 1 and the numbers, instead of a search that
    cannot succeed (QA77 F3: Nantucket and Staten Island under --district-contiguous, "proven infeasible"
    by the flow model with the bands blamed, even at +-50%). False when the walled-in check could not run
    (a given home's unit is not its own: another home is nearer that unit)."""
    from territory_planner.geo import home_conflicts, planning

    centre, own = planning.home_units_owned(spec, lat, lon, chosen)
    conflicts = home_conflicts.component_conflicts(spec, adj, centre, chosen, of=of)
    if conflicts:
        _bands_first(spec)
        kinds = {"territory": "territories", "district": "districts"}[of]
        raise InfeasibleError(
            f"no plan of connected {kinds}{home_rule(kinds)} exists: the map is in pieces", conflicts
        )
    if of != "territory" or not own:  # a given home moved to a runner-up unit: the walls are not its own
        return False
    conflicts = home_conflicts.walled_in_conflicts(spec, adj, centre, chosen)
    if conflicts:
        _bands_first(spec)
        raise InfeasibleError(
            f"no plan of connected territories{home_rule('territories')} exists: a rep is walled in",
            conflicts,
        )
    return True


def _bands_first(spec: ModelSpec) -> None:
    """Before a map check's proof: the model's own pre-checks, which need no map. When the bands alone
    leave no plan, that is the cause to name (QA19 F4: Mecklenburg, a rep's home county, above every
    territory's potential band, was reported as "a rep is walled in ... reaches only 89 unit(s)", 89 being
    every county but the other homes, and the user told to move a home), as ``validate`` does."""
    conflicts = prechecks.check(spec)
    if conflicts:
        raise InfeasibleError("no plan can satisfy the model (found before solving)", conflicts)


def _check_district_homes(
    spec: ModelSpec, adj: Any, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray, relax: bool = False
) -> list[str]:
    """``--district-contiguous``: a district whose reps' home units the other districts' homes cut apart
    ends the run at once with exit 1, naming the reps and the walls (``district_home_conflicts``: a
    connected district holds its reps' home units and none of another district's), instead of a search
    that cannot succeed (QA10 O10: the plan ran 60 s into exit 3). Not when a given home's unit is not
    its own (another home is nearer it), as for the territories' walls. With ``relax`` the conflicts
    are returned as notes for the least-violation plan (QA11 O2: its notes did not say why)."""
    from territory_planner.geo import planning
    from territory_planner.geo.district_homes import district_home_conflicts

    centre, own = planning.home_units_owned(spec, lat, lon, chosen)
    conflicts = district_home_conflicts(spec, adj, centre, chosen) if own else []
    shared = [] if own else _shared_home_units(spec, lat, lon, chosen)
    for note in shared:
        log.warning(note)
    if conflicts and not relax:
        raise InfeasibleError(
            f"no plan of connected districts{home_rule('districts')} exists: a district's homes are walled "
            "apart",
            conflicts,
        )
    proofs = [
        f"no plan of connected districts{home_rule('districts')} exists (proven before solving): {c.message}"
        for c in conflicts
    ]
    return proofs + shared


def _shared_home_units(spec: ModelSpec, lat: np.ndarray, lon: np.ndarray, chosen: np.ndarray) -> list[str]:
    """Reps of different districts whose given homes are nearest the same unit (QA11 O12: R13 of
    D-Ribeirão based on Guarulhos, R01's home of D-Guarulhos, passed `validate` in silence and the plan
    ran into exit 3): a connected district holds its reps' home units and no other district's, so one of
    them is planned from a runner-up unit and the walls are not checked."""
    from territory_planner.geo import planning

    p = spec.problem
    nearest = planning._home_distance(spec, lat, lon).argmin(axis=0)
    districts = p.districts
    out = []
    for u in np.unique(nearest[~chosen]).tolist():
        reps = np.flatnonzero((nearest == u) & ~chosen)
        if len({str(districts[j]) for j in reps.tolist()}) > 1:
            who = ", ".join(f"{p.rep_ids[j]} ({districts[j]})" for j in reps.tolist())
            out.append(
                f"the homes of {who} lie nearest one unit ({p.unit_label(u)}): a connected district holds "
                "its reps' home units and no other district's, so one of them is planned from the next "
                "nearest unit and the districts' walls are not checked; give those reps one district or "
                "move a home"
            )
    return out


def _district_home_notes(problem: TerritoryProblem, options: PlanOptions) -> list[str]:
    """Reps whose district's nearest home lies beyond the homes of two other districts (QA10 O10: R15
    moved into a district 820 km east, and validate said nothing): logged, and in the notes."""
    if not options.district_contiguous or options.design_districts:
        return []
    from territory_planner.geo.district_homes import district_home_warnings

    notes = district_home_warnings(problem)
    for note in notes:
        log.warning(note)
    return notes


def _level_shape(labels: np.ndarray, adj: Any, unit_rep: np.ndarray) -> dict[str, Any]:
    """Pieces of each district (or region: ``labels`` per rep) on the units' adjacency, for a plan that did
    not ask for connected ones: districts.csv's (regions.csv's) ``contiguous`` column then says what the
    plan is instead of staying blank."""
    from territory_planner.optimize.district_contiguity import district_pieces
    from territory_planner.optimize.hierarchy import labels_index

    of, names = labels_index(labels)
    pieces = district_pieces(adj, unit_rep, of, len(names))
    return {
        "pieces": {n: int(k) for n, k in zip(names, pieces.tolist(), strict=True)},
        "contiguous": bool((pieces <= 1).all()),
    }
