"""Connected pieces of each territory on a unit adjacency graph, and enclaves.

Pure functions over arrays (``Adjacency`` + rep per unit); the same functions feed the optimiser's cut
separation, the repair step, ``summary.json`` and the tests.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_planner.geo.adjacency import Adjacency


def bound_and_gap(lower: float, objective: float, *, connected: bool) -> tuple[float, float]:
    """The lower bound and gap of a plan after a contiguity stage, whose bound holds for connected plans.
    A connected plan's objective caps the bound (the bound is the least a connected plan can cost); a plan
    still in several pieces, or connected but out of some bands (``connected`` False for both), is no plan
    of that model (written only with ``--relax``): its objective may lie below the bound, which is kept as
    it is, and it has no gap to it (n/a, as the other relaxed plans; before, the bound was cut down to the
    plan's objective and the report said gap 0.000%, or gave the plan's objective as its lower bound)."""
    if not np.isfinite(lower):
        return float("nan"), float("nan")
    if not connected:
        return lower, float("nan")
    lower = min(lower, objective)
    return lower, max(0.0, (objective - lower) / objective) if objective > 0 else 0.0


def below_bound(stage: str, before: float | None, lower: float, what: str) -> list[str]:
    """The note for a plan made before a contiguity stage whose objective lies below that stage's bound
    (QA12 N7: the notes called the whole model's 187,664.4 "better", and the plan's bound was 188,289.2):
    that plan is no plan of the stage's model, which ``what`` names."""
    if before is None or not np.isfinite(lower) or before >= lower - 1e-9 * max(1.0, abs(lower)):
        return []
    return [
        f"{stage}: the plan before this stage ({before:,.1f}) lies below its lower bound ({lower:,.1f}): "
        f"it {what}, so it is no plan of the connected model and the bound is not contradicted"
    ]


def piece_labels(adj: Adjacency, unit_rep: np.ndarray) -> np.ndarray:
    """Label per unit of its piece: connected component of the subgraph of same-rep edges."""
    same = unit_rep[adj.u] == unit_rep[adj.v]
    u, v = adj.u[same], adj.v[same]
    m = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(adj.n, adj.n))
    _, labels = connected_components(m, directed=False)
    return np.asarray(labels, dtype=np.int64)


def pieces(adj: Adjacency, unit_rep: np.ndarray, n_reps: int) -> list[list[np.ndarray]]:
    """Per rep, its pieces (arrays of units), largest first (ties: lowest unit first)."""
    labels = piece_labels(adj, unit_rep)
    out: list[list[np.ndarray]] = [[] for _ in range(n_reps)]
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for grp in np.split(order, bounds):
        if len(grp):
            out[int(unit_rep[grp[0]])].append(np.sort(grp))
    for lst in out:
        lst.sort(key=lambda a: (-len(a), int(a[0])))
    return out


def count_pieces(adj: Adjacency, unit_rep: np.ndarray, n_reps: int) -> np.ndarray:
    """(p,) number of connected pieces per territory (0 for an empty territory)."""
    return np.array([len(x) for x in pieces(adj, unit_rep, n_reps)], dtype=np.int64)


def is_contiguous(adj: Adjacency, unit_rep: np.ndarray, n_reps: int) -> bool:
    return bool((count_pieces(adj, unit_rep, n_reps) <= 1).all())


def boundary(adj: Adjacency, units: np.ndarray) -> np.ndarray:
    """N(S): units outside S adjacent to some unit of S."""
    inside = np.zeros(adj.n, dtype=bool)
    inside[units] = True
    a = np.concatenate([adj.u, adj.v])
    b = np.concatenate([adj.v, adj.u])
    hit = inside[a] & ~inside[b]
    return np.unique(b[hit])


def stray_pieces(
    adj: Adjacency, unit_rep: np.ndarray, n_reps: int, centre: np.ndarray
) -> list[tuple[int, np.ndarray]]:
    """(rep, units) of every piece that does not hold the rep's centre unit (all but the largest piece
    when the rep has no centre, ``centre[j] < 0``)."""
    out = []
    for j, lst in enumerate(pieces(adj, unit_rep, n_reps)):
        if len(lst) <= 1 and (centre[j] < 0 or (lst and centre[j] in lst[0])):
            continue
        for k, piece in enumerate(lst):
            holds = centre[j] in piece if centre[j] >= 0 else k == 0
            if not holds:
                out.append((j, piece))
    return out


def enclaves(adj: Adjacency, unit_rep: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """(rep, surrounding rep, units): pieces other than a territory's main (largest) piece whose whole
    boundary belongs to a single other territory."""
    n_reps = int(unit_rep.max()) + 1 if len(unit_rep) else 0
    out = []
    for j, lst in enumerate(pieces(adj, unit_rep, n_reps)):
        for piece in lst[1:]:
            nb = boundary(adj, piece)
            owners = np.unique(unit_rep[nb])
            if len(owners) == 1:
                out.append((j, int(owners[0]), piece))
    return out
