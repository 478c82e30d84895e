"""Connected parts of a map, balanced by moves that keep every part in one piece.

Used by ``nested_districts`` for the district level on large maps, where a MIP over every (unit,
district) pair with contiguity rows does not solve in minutes:

- ``grow``: a connected start. Every unit joins the part of the nearest seed over the graph
  (multi-source Dijkstra, edges weighted by the distance between the units' points), so each seed's
  cell is connected to the seed; a part whose cells do not touch is joined along the shortest path
  between its pieces, and a piece without a seed goes to the neighbouring part it shares most edges
  with.
- ``balance``: single-unit moves across part boundaries, each keeping its old part connected (the
  unit's neighbours in it stay linked without it) and never moving a seed. First the moves that most
  reduce the band violation (then the squared relative deviation from the targets) until every part is
  within its bands; then the moves that cut cost while every band holds. Greedy, so it may stop with a
  part outside its band: the caller checks and says so.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency

VIOLATION_WEIGHT = 1e3  # a unit of band violation (relative to the target) outweighs any deviation
CANDIDATES_CHECKED = 400  # best-scoring moves checked for connectivity per step


@dataclass
class Balanced:
    label: np.ndarray  # (n,) part of each unit
    within_bands: bool
    moves: int


def neighbours(adj: Adjacency) -> sp.csr_matrix:
    n = adj.n
    u, v = np.concatenate([adj.u, adj.v]), np.concatenate([adj.v, adj.u])
    return sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))


def _graph(adj: Adjacency, xy: np.ndarray) -> sp.csr_matrix:
    n = adj.n
    w = np.hypot(*(xy[adj.u] - xy[adj.v]).T) + 1e-9
    ends = (np.concatenate([adj.u, adj.v]), np.concatenate([adj.v, adj.u]))
    return sp.csr_matrix((np.concatenate([w, w]), ends), shape=(n, n))


def _cells(g: sp.csr_matrix, seeds: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(n,) index into ``seeds`` of each unit's nearest seed over the graph, seed s starting at
    ``offset[s]`` (a super-source joined to every seed); -1 where none reaches. Each seed's cell is
    connected to it: the shortest path of a unit runs through units of the same cell."""
    n = g.shape[0]
    base = offset - offset.min() + 1e-6
    coo = g.tocoo()
    is_seed = np.zeros(n, dtype=bool)
    is_seed[seeds] = True
    keep = ~is_seed[coo.col]  # a seed is reached only from the super-source: it stays in its own cell
    rows = np.concatenate([coo.row[keep], np.full(len(seeds), n)])
    cols = np.concatenate([coo.col[keep], seeds])
    ext = sp.csr_matrix((np.concatenate([coo.data[keep], base]), (rows, cols)), shape=(n + 1, n + 1))
    _, pred = dijkstra(ext, indices=n, return_predecessors=True)
    pred = pred[:n].astype(np.int64)
    root = np.where(pred == n, np.arange(n), np.where(pred < 0, -1, pred))
    for _ in range(n):  # pointer jumping to the seed at the start of each path
        nxt = np.where(root >= 0, root[np.maximum(root, 0)], -1)
        if (nxt == root).all():
            break
        root = nxt
    index = np.full(n, -1, dtype=np.int64)
    index[seeds] = np.arange(len(seeds))
    return np.where(root >= 0, index[np.maximum(root, 0)], -1)


def grow(
    adj: Adjacency,
    xy: np.ndarray,
    seeds: np.ndarray,
    seed_part: np.ndarray,
    n_parts: int,
    amount: np.ndarray | None = None,
    target: np.ndarray | None = None,
    *,
    rounds: int = 0,
) -> np.ndarray:
    """(n,) part of each unit: ``seeds`` (s,) units with their part ``seed_part`` (s,); ``xy`` (n, 2)
    planar points of the units for the edge weights. With ``amount`` (n, M), ``target`` (M, K) and
    ``rounds``, each part's seeds start farther (or nearer) the more its load is above (below) its
    target (additively weighted graph Voronoi), keeping the most balanced cells whose parts are each one
    piece (the first round's, unweighted, when none is). Parts still split are joined (``_join``)."""
    g = _graph(adj, xy)
    offset = np.zeros(n_parts)
    span = float(np.ptp(xy, axis=0).max()) / max(np.sqrt(n_parts), 1.0)
    best, best_dev = None, np.inf
    for r in range(max(rounds, 1)):
        cell = _cells(g, seeds, offset[seed_part])
        if (cell < 0).any():  # a piece of the map no seed reaches: its nearest seed by the points
            lost = np.flatnonzero(cell < 0)
            d = np.hypot(*(xy[lost][:, None, :] - xy[seeds][None, :, :]).transpose(2, 0, 1))
            cell[lost] = d.argmin(axis=1)
        label = seed_part[cell].astype(np.int64)
        if amount is None or target is None or rounds <= 0:
            best = label
            break
        load = np.stack(
            [np.bincount(label, weights=amount[:, m], minlength=n_parts) for m in range(amount.shape[1])]
        )
        rel = load / np.maximum(target, 1e-12) - 1.0
        dev = float(np.abs(rel).max())
        if (dev < best_dev and contiguity.is_contiguous(adj, label, n_parts)) or best is None:
            best, best_dev = label, dev
        offset += span * 0.5 * (1.0 - r / rounds) * np.clip(rel.mean(axis=0), -0.5, 0.5)
    assert best is not None
    label = best
    fixed = np.zeros(adj.n, dtype=bool)
    fixed[seeds] = True
    for _ in range(4 * n_parts):
        if not _join(adj, g, label, fixed, n_parts):
            break
    return label


def _join(adj: Adjacency, g: sp.csr_matrix, label: np.ndarray, fixed: np.ndarray, n_parts: int) -> bool:
    """One repair of a split part; False when every part is one piece."""
    for k, pieces in enumerate(contiguity.pieces(adj, label, n_parts)):
        if len(pieces) <= 1:
            continue
        main = pieces[0] if not any(fixed[q].any() for q in pieces[1:]) else _seeded_main(pieces, fixed)
        for piece in pieces:
            if piece is main:
                continue
            if not fixed[piece].any():  # no seed: to the neighbouring part it touches most
                nb = label[contiguity.boundary(adj, piece)]
                nb = nb[nb != k]
                if len(nb):
                    label[piece] = np.bincount(nb).argmax()
                    return True
                continue
            # a seeded piece: joined to the main one along a path that avoids other parts' seeds
            keep = sp.diags((~fixed | (label == k)).astype(float))
            path = _path((keep @ g @ keep).tocsr(), piece, main)
            if len(path):
                label[path] = k
                return True
    return False


def _seeded_main(pieces: list[np.ndarray], fixed: np.ndarray) -> np.ndarray:
    seeded = [q for q in pieces if fixed[q].any()]
    return max(seeded, key=len)


def _path(g: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units on a shortest path from set ``a`` to set ``b`` (ends excluded)."""
    dist, pred, src = dijkstra(g, indices=a, min_only=True, return_predecessors=True)
    if not np.isfinite(dist[b]).any():
        return np.zeros(0, dtype=np.int64)
    end = int(b[np.argmin(dist[b])])
    out = []
    node = int(pred[end])
    inside = set(a.tolist())
    while node >= 0 and node not in inside:
        out.append(node)
        node = int(pred[node])
    del src
    return np.array(out, dtype=np.int64)


def _still_connected(nbr: sp.csr_matrix, label: np.ndarray, u: int) -> bool:
    """Part label[u] without u stays connected (u's neighbours in it reach each other without u)."""
    k = label[u]
    row = nbr.indices[nbr.indptr[u] : nbr.indptr[u + 1]]
    same = [int(v) for v in row if label[v] == k]
    if len(same) <= 1:
        return True
    targets = set(same[1:])
    seen = {u, same[0]}
    queue = deque([same[0]])
    while queue and targets:
        x = queue.popleft()
        for y in nbr.indices[nbr.indptr[x] : nbr.indptr[x + 1]].tolist():
            if y not in seen and label[y] == k:
                seen.add(y)
                targets.discard(y)
                queue.append(y)
    return not targets


def balance(
    adj: Adjacency,
    label: np.ndarray,
    amount: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    target: np.ndarray,
    cost: np.ndarray,
    allowed: np.ndarray,
    fixed: np.ndarray,
    *,
    deadline: float,
) -> Balanced:
    """Moves from ``label`` (every part connected) until every part is within [lower, upper] (M, K),
    then cheaper moves within the bands. ``amount`` (n, M), ``target`` (M, K), ``cost``/``allowed``
    (n, K), ``fixed`` (n,) units that stay."""
    label = label.copy()
    k_parts = lower.shape[1]
    nbr = neighbours(adj)
    load = np.stack(
        [np.bincount(label, weights=amount[:, m], minlength=k_parts) for m in range(amount.shape[1])]
    )
    moves = 0
    u_all, v_all = np.concatenate([adj.u, adj.v]), np.concatenate([adj.v, adj.u])

    phase = "balance"
    while time.perf_counter() < deadline:
        a, b = label[u_all], label[v_all]
        ok = (a != b) & ~fixed[u_all] & allowed[u_all, b]
        cu, cb, ca = u_all[ok], b[ok], a[ok]
        if not len(cu):
            break
        amt = amount[cu].T  # (M, c)
        new_a, new_b = load[:, ca] - amt, load[:, cb] + amt
        if phase == "balance":
            before = score_cols(load, np.arange(k_parts), lower, upper, target)
            delta = (score_cols(new_a, ca, lower, upper, target) - before[ca]) + (
                score_cols(new_b, cb, lower, upper, target) - before[cb]
            )
        else:
            keeps = ((new_a >= lower[:, ca] - 1e-9) & (new_a <= upper[:, ca] + 1e-9)).all(axis=0)
            keeps &= ((new_b >= lower[:, cb] - 1e-9) & (new_b <= upper[:, cb] + 1e-9)).all(axis=0)
            delta = np.where(keeps, cost[cu, cb] - cost[cu, ca], np.inf)
        order = np.argsort(delta, kind="stable")[:CANDIDATES_CHECKED]
        moved = False
        cut_vertex: set[int] = set()
        for c in order.tolist():
            if not delta[c] < -1e-12:
                break
            u = int(cu[c])
            if u in cut_vertex:
                continue
            if not _still_connected(nbr, label, u):
                cut_vertex.add(u)
            else:
                load[:, ca[c]] -= amount[u]
                load[:, cb[c]] += amount[u]
                label[u] = cb[c]
                moves += 1
                moved = True
                break
        if moved:
            continue
        if phase == "balance" and _within(load, lower, upper):
            phase = "cost"
            continue
        break
    return Balanced(label, _within(load, lower, upper), moves)


def score_cols(
    ld: np.ndarray, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """The score of part ``cols[i]`` with load ``ld[:, i]``."""
    scale = np.maximum(np.abs(target[:, cols]), 1e-12)
    viol = (np.maximum(lower[:, cols] - ld, 0) + np.maximum(ld - upper[:, cols], 0)) / scale
    out: np.ndarray = VIOLATION_WEIGHT * viol.sum(axis=0) + (((ld - target[:, cols]) / scale) ** 2).sum(
        axis=0
    )
    return out


def _within(load: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    slack = 1e-9 * np.maximum(np.abs(upper), 1.0)
    return bool(((load >= lower - slack) & (load <= upper + slack)).all())
