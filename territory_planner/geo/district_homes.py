"""--district-contiguous before any solve: districts that the homes of other districts' reps cut apart.

With connected districts each district's territories together are one piece of the map; each rep keeps the
unit of its home, so that piece holds every home unit of its reps and none of another district's reps.
``district_home_conflicts`` proves on the adjacency that no plan of connected districts exists when those
other home units cut a district's homes apart (QA10 O10); ``district_home_warnings`` flags, from the homes'
distances alone, reps whose district must reach across other districts' homes, the likely cause of a
district stage that runs out of time.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_planner.errors import Conflict
from territory_planner.geo import adjacency as adjmod
from territory_planner.geo.home_conflicts import listed, unit_names, unit_titles
from territory_planner.model.geo import haversine_km
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize.hierarchy import labels_index
from territory_planner.optimize.spec import ModelSpec

HINT = "Move a rep to another district, move a home, or --relax"


def district_home_conflicts(
    spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray, chosen: np.ndarray | None = None
) -> list[Conflict]:
    """Districts whose reps' home units lie in different pieces of the map once the home units of other
    districts' reps are taken out, one ``Conflict`` each, naming the reps cut apart and the reps whose
    home units wall them off: a connected district holds all its reps' home units and none of another
    district's, so no plan of connected districts exists. ``centre[j]``: the unit of rep j's home (-1
    none); only given homes count (``chosen``: the planner's centres, which can move, are no walls, and a
    district with one is skipped); empty without districts."""
    p = spec.problem
    if p.rep_districts is None:
        return []
    chosen = np.zeros(p.n_reps, dtype=bool) if chosen is None else np.asarray(chosen, dtype=bool)
    of, names = labels_index(p.districts)
    fixed = ~chosen & (centre >= 0)
    unit_name = unit_names(p)
    out: list[Conflict] = []
    for d, name in enumerate(names):
        members = np.flatnonzero(of == d)
        homes = members[fixed[members]]
        if chosen[members].any() or len(homes) < 2:
            continue
        walls = np.zeros(p.n_units, dtype=bool)
        walls[centre[fixed & (of != d)]] = True
        apart = _apart(adj, walls, centre[homes])
        if apart < 2:
            continue
        every = walls.copy()
        _cutting(adj, walls, centre[homes], apart)
        label = _pieces(adj, walls)
        piece = label[centre[homes]]
        order = piece[np.sort(np.unique(piece, return_index=True)[1])]  # in the order of their first rep
        on_home = np.maximum(centre, 0)
        wall_reps = np.flatnonzero(fixed & (of != d) & walls[on_home])
        # the homes left out may wall the district apart on their own as well (QA95 F3: two columns of
        # another district's homes, either one enough): then moving the named reps alone would not do
        rest = every & ~walls
        also = np.zeros(0, dtype=np.int64)
        rest_apart = _apart(adj, rest, centre[homes]) if rest.any() else 1
        if rest_apart >= 2:
            _cutting(adj, rest, centre[homes], rest_apart)
            also = np.flatnonzero(fixed & (of != d) & rest[on_home])
        parts = [homes[piece == k] for k in order.tolist()]
        out.append(_conflict(p, str(name), parts, wall_reps, centre, unit_name, of, names, also))
    return out


def _cutting(adj: adjmod.Adjacency, walls: np.ndarray, homes: np.ndarray, apart: int) -> None:
    """Keep in ``walls`` (in place) only walls that cut: each left out in turn while the ``homes`` units
    stay in ``apart`` parts without it (QA94 F4: of Sassari, Cosenza and Udine, only Cosenza cuts Catania
    off from Cuneo, Parma and Rome)."""
    for w in np.flatnonzero(walls).tolist():
        walls[w] = False
        if _apart(adj, walls, homes) < apart:
            walls[w] = True


def _apart(adj: adjmod.Adjacency, walls: np.ndarray, homes: np.ndarray) -> int:
    """How many pieces the ``homes`` units lie in once the ``walls`` units are taken out of the map."""
    return len(np.unique(_pieces(adj, walls)[homes]))


def _pieces(adj: adjmod.Adjacency, walls: np.ndarray) -> np.ndarray:
    """(n,) the piece of each unit once the ``walls`` units are taken out of the map."""
    keep = ~walls[adj.u] & ~walls[adj.v]
    return connected_components(adjmod.Adjacency(adj.n, adj.u[keep], adj.v[keep]).csr(), directed=False)[1]


def _conflict(
    p: TerritoryProblem,
    name: str,
    parts: list[np.ndarray],
    wall_reps: np.ndarray,
    centre: np.ndarray,
    unit_name: np.ndarray,
    of: np.ndarray,
    names: list[str],
    also: np.ndarray,
) -> Conflict:
    """``also``: reps whose homes, besides ``wall_reps``', wall the district apart on their own."""
    rep_ids = np.asarray(p.rep_ids).astype(str)
    unit_title = unit_titles(p)  # names in the text, ids in ``extra``

    def walling(reps: np.ndarray) -> str:
        def one(j: int) -> str:
            return (
                f"{rep_ids[j]} ({f'district {names[of[j]]}, ' if of[j] >= 0 else ''}{unit_title[centre[j]]})"
            )

        return listed(np.array([one(j) for j in reps.tolist()]))

    def homes(reps: np.ndarray) -> str:
        if len(reps) == 1:
            return f"{rep_ids[reps[0]]}'s home ({unit_title[centre[reps[0]]]})"
        return "the homes of " + ", ".join(f"{rep_ids[j]} ({unit_title[centre[j]]})" for j in reps.tolist())

    if len(parts) == 2:
        verb = "is" if len(parts[0]) == 1 else "are"
        cut = f"{homes(parts[0])} {verb} cut off from {homes(parts[1])}"
    else:
        cut = f"its reps' homes fall into {len(parts)} parts: " + " | ".join(homes(r) for r in parts)
    if len(wall_reps):
        cut += f" by the home units of other districts' reps: {walling(wall_reps)}"
        if len(also):
            cut += f" (and, on their own, by those of {walling(also)})"
        why = "a connected district holds its reps' home units and no home unit of another district's rep"
        hint = HINT
    else:
        cut += ": no edge of the map joins them"
        why = "a connected district holds its reps' home units"
        hint = "--bridge-islands joins each piece of the map to its nearest neighbour (or give --adjacency)"
    cut_reps = np.concatenate(parts)
    return Conflict(
        "district_contiguity",
        f"district {name} cannot be one piece: {cut}. As {why}, no plan of connected districts exists. "
        + hint,
        rep_id=", ".join(rep_ids[cut_reps]),
        extra={
            "district": name,
            "parts": [rep_ids[r].tolist() for r in parts],
            "walls": rep_ids[wall_reps].tolist(),
            "walls_also": rep_ids[also].tolist(),
            "accounts": unit_name[centre[cut_reps]].tolist(),
        },
    )


def district_home_warnings(problem: TerritoryProblem) -> list[str]:
    """A line per rep with a home in a district of at least two reps with homes, when the homes of reps
    of at least two other districts lie nearer to it than the nearest home of its own district: a
    connected district must then reach across them (QA10 O10: R15 moved into a district whose other
    homes lie ~820 km east, two districts' homes between; the district stage ran out of time). A
    heuristic on great-circle distances, no proof; sorted by district and rep."""
    if problem.rep_districts is None:
        return []
    of, names = labels_index(problem.districts)
    rep_ids = np.asarray(problem.rep_ids).astype(str)
    given = np.flatnonzero(~problem.missing_homes & (of >= 0))
    if len(given) < 3:
        return []
    lat, lon = problem.home_lat[given], problem.home_lon[given]
    dist = haversine_km(lat, lon, lat, lon)
    label = of[given]
    found: list[tuple[str, str, str]] = []
    for a, j in enumerate(given.tolist()):
        own = np.flatnonzero((label == label[a]) & (np.arange(len(given)) != a))
        if not len(own):
            continue
        b = own[int(np.argmin(dist[a, own]))]
        nearer = np.flatnonzero((label != label[a]) & (dist[a] < dist[a, b]))
        between = sorted({names[k] for k in label[nearer].tolist()})
        if len(between) < 2:
            continue
        district = names[label[a]]
        found.append(
            (
                district,
                rep_ids[j],
                f"district {district}: {rep_ids[j]}'s home is {dist[a, b]:,.0f} km from the nearest home "
                f"of its district ({rep_ids[given[b]]}); homes of districts {', '.join(between)} "
                f"({len(nearer)} reps) are nearer: a connected district must reach across them",
            )
        )
    return [line for _, _, line in sorted(found)]
