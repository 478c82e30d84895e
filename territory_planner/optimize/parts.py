"""The parts problem of the flip search (``optimize.flip_search``) and its connected start.

A ``PartProblem`` is plain arrays: a unit graph, each unit's amounts, each part's band and target, the
cost of each unit in each part (inf = not allowed) and the units fixed to a part (homes, locks). The
same arrays serve districts (parts = districts) and territories inside one district (parts = its reps).
The start: each part's seed units joined by cheap paths (``connect_seeds``), then grown unit by unit,
the least-filled part first, each taking its cheapest free neighbouring unit (``grow``), so that every
part is one piece by construction.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from territory_planner.optimize.spec import ModelSpec

VIOLATION_WEIGHT = 1.0  # band excess vs the squared deviation from target
SPREAD_WEIGHT = 100.0  # squared band excess: spreads a surplus over the parts around


@dataclass(frozen=True)
class Groups:
    """A level above the parts: ``of`` (K,) group of each part; each group's band and target; with
    ``whole`` the union of a group's parts must be one piece as well."""

    of: np.ndarray  # (K,)
    lower: np.ndarray  # (M, G)
    upper: np.ndarray  # (M, G)
    target: np.ndarray  # (M, G)
    whole: bool = True  # each group one piece (district contiguity); False: its band alone

    @property
    def g(self) -> int:
        return int(self.lower.shape[1])

    @property
    def scale(self) -> np.ndarray:
        return _scale(self.target, self.upper)


@dataclass(frozen=True)
class PartProblem:
    """``n`` units, ``K`` parts, ``M`` measures. ``cost`` inf = the unit may not join the part;
    ``fixed`` part a unit must keep (its seed: a rep's home, a lock), -1 = free."""

    graph: sp.csr_matrix  # (n, n) unit adjacency, symmetric
    amount: np.ndarray  # (n, M)
    lower: np.ndarray  # (M, K)
    upper: np.ndarray  # (M, K)
    target: np.ndarray  # (M, K)
    cost: np.ndarray  # (n, K)
    fixed: np.ndarray  # (n,)
    groups: Groups | None = None  # parts grouped (districts of territories), each group one piece too

    @property
    def n(self) -> int:
        return int(self.graph.shape[0])

    @property
    def k(self) -> int:
        return int(self.cost.shape[1])

    @property
    def scale(self) -> np.ndarray:
        return _scale(self.target, self.upper)


def _scale(target: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(M, K) the measure's size for relative terms (target, else the band's upper end, else 1)."""
    s = np.where(np.isfinite(target) & (target > 0), target, np.nan)
    s = np.where(np.isnan(s) & np.isfinite(upper) & (upper > 0), upper, s)
    out: np.ndarray = np.where(np.isnan(s), 1.0, s)
    return out


def loads(pp: PartProblem, assign: np.ndarray) -> np.ndarray:
    """(M, K) totals of each part."""
    return np.stack([np.bincount(assign, weights=a, minlength=pp.k) for a in pp.amount.T])


def violation(pp: PartProblem, load: np.ndarray) -> np.ndarray:
    """Relative excess outside the band, same shape as ``load`` ((M, K) or (M, C))."""
    lo = np.where(np.isfinite(pp.lower), pp.lower, -np.inf)
    hi = np.where(np.isfinite(pp.upper), pp.upper, np.inf)
    return excess(load, lo, hi, pp.scale)


def excess(load: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out: np.ndarray = (np.maximum(load - hi, 0.0) + np.maximum(lo - load, 0.0)) / scale
    return out


def score(
    load: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """Summed over the first (measure) axis: the band excess (linear and squared, weighted) plus the
    squared relative deviation from the target; the other arrays broadcast against ``load``."""
    dev = np.where(np.isfinite(target), (load - target) / scale, 0.0)
    ex = excess(load, lo, hi, scale)
    out: np.ndarray = (VIOLATION_WEIGHT * ex + SPREAD_WEIGHT * ex**2 + dev**2).sum(axis=0)
    return out


# ---------------------------------------------------------------------------------------------- start


def connect_seeds(pp: PartProblem, seeds: list[np.ndarray]) -> np.ndarray:
    """(n,) part of each unit, -1 = not yet assigned: each part's seed units joined by cheap paths.

    Seeds of one part (several homes of a district) are linked one by one along the shortest path,
    weighted by the unit's cost to that part, through units no other part holds yet. A part whose seeds
    cannot be linked keeps them apart (the growth may still join them; ``balance`` reports pieces)."""
    assign = np.full(pp.n, -1, dtype=np.int64)
    for k, s in enumerate(seeds):
        assign[s] = k
    g = pp.graph.tocoo()
    for k, s in enumerate(seeds):
        if len(s) <= 1:
            continue
        c = np.where(np.isfinite(pp.cost[:, k]), pp.cost[:, k], np.nan)
        unit_w = np.nan_to_num(c, nan=0.0)
        unit_w = unit_w / max(float(unit_w.max()), 1e-12) + 1e-3
        open_ = ((assign == -1) | (assign == k)) & np.isfinite(pp.cost[:, k])
        keep = open_[g.row] & open_[g.col]
        w = sp.csr_matrix(((unit_w[g.row] + unit_w[g.col])[keep] / 2, (g.row[keep], g.col[keep])), g.shape)
        comp = np.zeros(pp.n, dtype=bool)
        comp[int(s[0])] = True
        for t in s[1:].tolist():
            if comp[t]:
                continue
            dist, pred = dijkstra(
                w, directed=False, indices=np.flatnonzero(comp), return_predecessors=True, min_only=True
            )[:2]
            if not np.isfinite(dist[t]):
                continue  # unreachable through free units: the growth may still join it
            u, path = int(t), [int(t)]
            while not comp[u]:
                u = int(pred[u])
                path.append(u)
            assign[path] = k
            comp[path] = True
    return assign


def grow(pp: PartProblem, assign: np.ndarray) -> np.ndarray:
    """Every unit assigned: the least-filled part (by its fullest measure against its target) takes its
    cheapest free neighbouring unit, so each connected part stays connected. Units no part can reach
    (no allowed adjacent part) stay -1."""
    assign = assign.copy()
    ptr, idx = pp.graph.indptr, pp.graph.indices
    load = np.zeros((pp.amount.shape[1], pp.k))
    has = assign >= 0
    np.add.at(load.T, assign[has], pp.amount[has])
    scale = pp.scale
    heaps: list[list[tuple[float, int]]] = [[] for _ in range(pp.k)]
    for u in np.flatnonzero(has).tolist():
        _push_neighbours(pp, heaps, assign, ptr, idx, u, int(assign[u]))
    fill = (load / scale).max(axis=0)
    active = [k for k in range(pp.k) if heaps[k]]
    queue = [(float(fill[k]), k) for k in active]
    heapq.heapify(queue)
    while queue:
        _, k = heapq.heappop(queue)
        h = heaps[k]
        while h and assign[h[0][1]] >= 0:
            heapq.heappop(h)
        if not h:
            continue
        _, u = heapq.heappop(h)
        assign[u] = k
        load[:, k] += pp.amount[u]
        _push_neighbours(pp, heaps, assign, ptr, idx, u, k)
        heapq.heappush(queue, (float((load[:, k] / scale[:, k]).max()), k))
    return assign


def _push_neighbours(
    pp: PartProblem,
    heaps: list[list[tuple[float, int]]],
    assign: np.ndarray,
    ptr: np.ndarray,
    idx: np.ndarray,
    u: int,
    k: int,
) -> None:
    for v in idx[ptr[u] : ptr[u + 1]].tolist():
        if assign[v] < 0 and np.isfinite(pp.cost[v, k]):
            heapq.heappush(heaps[k], (float(pp.cost[v, k]), v))


def from_spec(spec: ModelSpec, graph: sp.csr_matrix, fixed: np.ndarray) -> PartProblem:
    """The parts problem of a model: its reps are the parts, its bands (with account-count bounds as one
    more measure), its objective as the cost (inf where not allowed); ``fixed`` (n,) part or -1."""
    p = spec.problem
    amount, lower, upper, target = p.unit_amount, spec.lower, spec.upper, p.target
    if spec.min_accounts is not None or spec.max_accounts is not None:
        lo = -np.inf if spec.min_accounts is None else float(spec.min_accounts)
        hi = np.inf if spec.max_accounts is None else float(spec.max_accounts)
        amount = np.column_stack([amount, p.unit_size.astype(float)])
        lower = np.vstack([lower, np.full(p.n_reps, lo)])
        upper = np.vstack([upper, np.full(p.n_reps, hi)])
        target = np.vstack([target, np.full(p.n_reps, np.nan)])
    fixed = fixed.copy()
    locked = p.unit_locked >= 0
    fixed[locked] = p.unit_locked[locked]
    cost = np.where(spec.allowed, spec.objective, np.inf)
    return PartProblem(graph.tocsr(), amount, lower, upper, target, cost, fixed)


def nearest_start(pp: PartProblem, seeds: list[np.ndarray]) -> np.ndarray:
    """Each unit to the part of its nearest seed on the graph by cost (multi-source growth, cheapest
    first: a graph Voronoi), then every piece of a part without a fixed unit merged into the adjacent
    part it shares most edges with. Parts with fixed units in two pieces stay split (the caller checks)."""
    assign = np.full(pp.n, -1, dtype=np.int64)
    heap: list[tuple[float, int, int]] = []
    for k, s in enumerate(seeds):
        for u in s.tolist():
            heap.append((0.0, u, k))
    heapq.heapify(heap)
    ptr, idx = pp.graph.indptr, pp.graph.indices
    while heap:
        _, u, k = heapq.heappop(heap)
        if assign[u] >= 0:
            continue
        assign[u] = k
        for v in idx[ptr[u] : ptr[u + 1]].tolist():
            if assign[v] < 0 and np.isfinite(pp.cost[v, k]):
                heapq.heappush(heap, (float(pp.cost[v, k]), v, k))
    return merge_strays(pp, assign)


def merge_strays(pp: PartProblem, assign: np.ndarray) -> np.ndarray:
    """Pieces holding no fixed unit of their part, other than each part's largest piece when it has no
    fixed unit at all, go to the adjacent part they share most edges with (repeated until none moves)."""
    from territory_planner.geo.adjacency import Adjacency
    from territory_planner.geo.contiguity import piece_labels

    g = sp.triu(pp.graph, k=1).tocoo()
    adj = Adjacency(pp.n, g.row.astype(np.int64), g.col.astype(np.int64))
    assign = assign.copy()
    for _ in range(pp.n):
        label = piece_labels(adj, np.where(assign >= 0, assign, pp.k))
        held = np.zeros(label.max() + 1, dtype=bool)
        has = pp.fixed >= 0
        held[label[has]] = True
        size = np.bincount(label)
        for k in range(pp.k):
            own = np.unique(label[assign == k])
            if len(own) and not held[own].any():
                held[own[np.argmax(size[own])]] = True
        stray = ~held[label] & (assign >= 0)
        if not stray.any():
            break
        piece = label[np.flatnonzero(stray)[0]]
        units = np.flatnonzero(label == piece)
        a, b = np.concatenate([g.row, g.col]), np.concatenate([g.col, g.row])
        out = np.isin(a, units) & ~np.isin(b, units) & (assign[b] >= 0)
        ok = [k for k in np.unique(assign[b[out]]).tolist() if np.isfinite(pp.cost[units, k]).all()]
        if not ok:
            break
        count = np.bincount(assign[b[out]], minlength=pp.k)
        assign[units] = max(ok, key=lambda k: count[k])
    return assign


def restrict(pp: PartProblem, units: np.ndarray, cols: np.ndarray) -> PartProblem:
    """The problem of ``units`` and parts ``cols`` alone (fixed units renumbered; fixed to another
    part = not allowed anywhere, so the caller passes only units whose part is among ``cols``)."""
    pos = np.full(pp.k, -1, dtype=np.int64)
    pos[cols] = np.arange(len(cols))
    fixed = pp.fixed[units]
    return PartProblem(
        pp.graph[units][:, units].tocsr(),
        pp.amount[units],
        pp.lower[:, cols],
        pp.upper[:, cols],
        pp.target[:, cols],
        pp.cost[units][:, cols],
        np.where(fixed >= 0, pos[np.maximum(fixed, 0)], -1),
    )  # groups dropped: the caller keeps the group's units and loads as they are


def connected_start(pp: PartProblem) -> np.ndarray | None:
    """A start with every part one piece holding its fixed units: the graph Voronoi of the fixed units
    (``nearest_start``), else their linking paths grown (``connect_seeds`` + ``grow``); None when
    neither assigns every unit with every part one piece."""
    seeds = [np.flatnonzero(pp.fixed == k) for k in range(pp.k)]
    if any(not len(s) for s in seeds):
        return None
    for make in (lambda: nearest_start(pp, seeds), lambda: grow(pp, connect_seeds(pp, seeds))):
        assign = make()
        if (assign >= 0).all() and pieces_of(pp, assign) == pp.k:
            return assign
    return None


def sector_start(
    pp: PartProblem, x: np.ndarray, y: np.ndarray, anchor: np.ndarray | None = None
) -> np.ndarray | None:
    """Sectors around the centre of the first measure (x, y: each unit's planar position): each unit to
    the part whose anchor lies nearest in angle, stray pieces merged (``merge_strays``); None unless
    every part is one piece holding its fixed units. ``anchor`` (K,) the unit each part's angle is
    measured from (a rep's centre: a locked account far from the home would turn its sector); by default
    one of the part's fixed units. Where one measure crowds into a centre and the other
    spreads out (a metro's potential, its hinterland's workload), sectors from the centre to the edge
    hold both in proportion, where the graph Voronoi's compact parts hold one or the other (QA10 O1: 761
    Brazilian cities x 16 reps at +-8%, the flip search in band in 8 s from sectors, 20 s from the
    Voronoi)."""
    has = pp.fixed >= 0
    owner = np.full(pp.k, -1, dtype=np.int64)
    owner[pp.fixed[has]] = np.flatnonzero(has)  # a fixed unit of each part (with locks, its last one)
    if anchor is not None:
        owner = np.where(anchor >= 0, anchor, owner)
    if (owner < 0).any():
        return None
    w = np.maximum(pp.amount[:, 0], 0.0)
    if w.sum() <= 0:
        return None
    angle = np.arctan2(y - np.average(y, weights=w), x - np.average(x, weights=w))
    apart = np.abs((angle[:, None] - angle[owner][None, :] + np.pi) % (2 * np.pi) - np.pi)
    apart[~np.isfinite(pp.cost)] = np.inf
    assign = np.argmin(apart, axis=1).astype(np.int64)
    assign[has] = pp.fixed[has]
    assign = merge_strays(pp, assign)
    if not np.isfinite(pp.cost[np.arange(pp.n), assign]).all() or pieces_of(pp, assign) != pp.k:
        return None
    return assign


def pieces_of(pp: PartProblem, assign: np.ndarray) -> int:
    """Total number of connected pieces over all parts."""
    g = pp.graph.tocoo()
    same = assign[g.row] == assign[g.col]
    m = sp.csr_matrix((g.data[same], (g.row[same], g.col[same])), shape=g.shape)
    return int(connected_components(m, directed=False)[0])
