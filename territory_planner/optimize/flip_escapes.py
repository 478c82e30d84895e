"""The escape moves of the flip search (``optimize.flip_search``), tried in turn when no single move
improves: an exchange of two boundary units between adjacent parts, a corridor (a unit deep inside a
part moved with the path that joins it to the neighbour), a recombination of two parts of one group
(grown again from their fixed units, as ReCom does), and a short random walk. Each keeps every part and
group one piece and every fixed unit in place, like the single moves.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import connected_components, dijkstra

from territory_planner.optimize.parts import PartProblem, connect_seeds, excess, grow, pieces_of, score

if TYPE_CHECKING:
    from territory_planner.optimize.flip_search import Search

SWAP_TRIES = 32  # best exchanges tried per round when no single move helps
WALK_MOVES = 30  # random moves of an escape walk
WALK_TEMPERATURE = 0.2  # of the score: how much worse an escape move may be
REGROW_SECONDS = 0.5  # flips on a recombined pair of parts
CORRIDOR_TRIES = 6  # units of a part tried for a corridor move to each neighbouring part
TABU_ROUNDS = 5  # a unit moved by a walk or an exchange stays put this many rounds
EPS = 1e-12


def swap(s: Search, u: np.ndarray, b: np.ndarray, tabu: np.ndarray, rounds: int) -> bool:
    """The best improving exchange of two boundary units between two adjacent parts (x: A -> B with
    y: B -> A), which trades one measure for another where no single move helps; True if applied."""
    a = s.assign[u]
    free = tabu[u] <= rounds
    found: list[tuple[float, int, int]] = []
    amt = s.pp.amount
    for pa, pb in np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)], 1)[free], axis=0).tolist():
        fwd = np.flatnonzero(free & (a == pa) & (b == pb))
        bwd = np.flatnonzero(free & (a == pb) & (b == pa))
        if not len(fwd) or not len(bwd):
            continue
        d = (amt[u[bwd]][None, :, :] - amt[u[fwd]][:, None, :]).transpose(2, 0, 1)  # (M, F, B): to pa
        g = _pair_change(s, pa, pb, d)
        i, j = np.nonzero(g < -EPS)
        top = np.argsort(g[i, j])[:SWAP_TRIES]
        found.extend((float(g[i[t], j[t]]), int(u[fwd[i[t]]]), int(u[bwd[j[t]]])) for t in top)
    found.sort()
    for _, x, y in found[:SWAP_TRIES]:
        if _try_swap(s, x, y):
            tabu[[x, y]] = rounds + TABU_ROUNDS
            return True
    return False


def _pair_change(s: Search, pa: int, pb: int, d: np.ndarray) -> np.ndarray:
    """Score change when part ``pa``'s load changes by ``d`` (M, ...) and ``pb``'s by ``-d`` (and their
    groups' loads, when they differ)."""
    shape = (-1,) + (1,) * (d.ndim - 1)
    zero = np.zeros((d.shape[0],) + (1,) * (d.ndim - 1))

    def at(load: np.ndarray, cols: tuple[np.ndarray, ...], k: int, dd: np.ndarray) -> np.ndarray:
        return score(load[:, k].reshape(shape) + dd, *(c[:, k].reshape(shape) for c in cols))

    own = (s.lo, s.hi, s.target, s.scale)
    out = (
        at(s.load, own, pa, d)
        + at(s.load, own, pb, -d)
        - at(s.load, own, pa, zero)
        - at(s.load, own, pb, zero)
    )
    ga, gb = int(s.group[pa]), int(s.group[pb])
    if ga != gb:
        grp = (s.glo, s.ghi, s.gtarget, s.gscale)
        out = out + at(s.gload, grp, ga, d) + at(s.gload, grp, gb, -d)
        out = out - at(s.gload, grp, ga, zero) - at(s.gload, grp, gb, zero)

        def ex(k: int, dd: np.ndarray) -> np.ndarray:
            lo, hi, sc = (c[:, k].reshape(shape) for c in (s.glo, s.ghi, s.gscale))
            return excess(s.gload[:, k].reshape(shape) + dd, lo, hi, sc).sum(axis=0)

        grows = ex(ga, d) + ex(gb, -d) > ex(ga, zero) + ex(gb, zero) + EPS
        out = np.where(grows, np.inf, out)  # as for single moves: a group's excess never grows
    return out


def _try_swap(s: Search, x: int, y: int) -> bool:
    """x to y's part and y to x's part, each alone and each part staying one piece; else undone."""
    pa, pb = int(s.assign[x]), int(s.assign[y])
    ux = s.movable(x, pb) if pa != pb else None
    if ux is None or len(ux) > 1:
        return False
    s.move(ux, pb)
    uy = s.movable(y, pa)
    if uy is not None and len(uy) == 1:
        s.move(uy, pa)
        return True
    s.move(ux, pa)
    return False


def corridor(s: Search, rng: np.random.Generator) -> bool:
    """A unit deep inside part A whose move to an adjacent part B would help most, moved together with
    the cheapest path of A's units that joins it to B (and the pieces of A this cuts off, when they hold
    no fixed unit): crosses the barrier of single moves that each make things worse. True if applied."""
    pp = s.pp
    g = pp.graph.tocoo()
    a, b = s.assign[g.row], s.assign[g.col]
    pairs = np.unique(np.stack([a, b], 1)[(a != b) & (a >= 0) & (b >= 0)], axis=0)
    rng.shuffle(pairs)
    for pa, pb in pairs.tolist():
        inside = np.flatnonzero((s.assign == pa) & (pp.fixed < 0) & np.isfinite(pp.cost[:, pb]))
        if not len(inside):
            continue
        ds, _ = s.deltas(pp.amount[inside].T, np.full(len(inside), pa), np.full(len(inside), pb))
        best = inside[np.argsort(ds)[:CORRIDOR_TRIES]][np.sort(ds)[:CORRIDOR_TRIES] < -EPS]
        if not len(best):
            continue
        units = np.flatnonzero(s.assign == pa)
        local = np.full(pp.n, -1)
        local[units] = np.arange(len(units))
        sub = pp.graph[units][:, units].tocoo()
        step, _ = s.deltas(pp.amount[units].T, np.full(len(units), pa), np.full(len(units), pb))
        w = np.maximum(step, 0.0) + 1e-6
        w = np.where(pp.fixed[units] >= 0, np.inf, w)
        wm = type(pp.graph)(((w[sub.row] + w[sub.col]) / 2, (sub.row, sub.col)), shape=sub.shape)
        src = local[[x for x in units.tolist() if s.touches(x, pb) and pp.fixed[x] < 0]]
        if not len(src):
            continue
        dist, pred, _ = dijkstra(wm, directed=False, indices=src, return_predecessors=True, min_only=True)
        for u in best.tolist():
            v = int(local[u])
            if not np.isfinite(dist[v]):
                continue
            path = [v]
            while pred[v] >= 0:
                v = int(pred[v])
                path.append(v)
            moved = _with_cut_off(s, units, np.array(path))
            if moved is None or not np.isfinite(pp.cost[moved, pb]).all():
                continue
            if s.group[pa] != s.group[pb] and not s.group_whole(moved, int(s.group[pa])):
                continue
            d, _ = s.deltas(pp.amount[moved].sum(axis=0)[:, None], np.array([pa]), np.array([pb]))
            if d[0] < -EPS:
                s.move(moved, pb)
                return True
    return False


def _with_cut_off(s: Search, units: np.ndarray, path: np.ndarray) -> np.ndarray | None:
    """Global ids of ``path`` (local to ``units``, one part) plus the pieces its removal cuts off
    from the part's fixed units; None if a fixed unit would go or the part would lose half its units."""
    keep = np.ones(len(units), dtype=bool)
    keep[path] = False
    sub = s.pp.graph[units][:, units].tocoo()
    ok = keep[sub.row] & keep[sub.col]
    m = type(s.pp.graph)((sub.data[ok], (sub.row[ok], sub.col[ok])), shape=sub.shape)
    _, label = connected_components(m, directed=False)
    anchor = s.pp.fixed[units] >= 0
    if not anchor.any():
        return None
    main = label[np.flatnonzero(anchor)[0]]
    if (label[anchor] != main).any() or anchor[path].any():
        return None
    out = units[~keep | (label != main)]
    return out


def regrow(s: Search, rng: np.random.Generator, deadline: float) -> bool:
    """Recombination (as ReCom) of two adjacent parts, the worst scoring with a neighbour: their units
    are grown again from their fixed units, the less filled first (``parts.grow``, costs jittered), then
    flipped between the two alone; kept if the two score better. True if kept."""
    pp = s.pp
    per = s.part_scores()
    g = pp.graph.tocoo()
    a, b = s.assign[g.row], s.assign[g.col]
    ok = (a != b) & (a >= 0) & (b >= 0)
    ok[ok] &= s.group[a[ok]] == s.group[b[ok]]  # within a group: its load stays as it is
    pairs = np.unique(np.stack([a, b], 1)[ok], axis=0)
    if not len(pairs):
        return False
    w = per[pairs[:, 0]] + per[pairs[:, 1]]
    pick = pairs[rng.choice(len(pairs), p=w / w.sum())] if w.sum() > 0 else pairs[0]
    pa, pb = int(pick[0]), int(pick[1])
    units = np.flatnonzero((s.assign == pa) | (s.assign == pb))
    cols = np.array([pa, pb])
    sub = PartProblem(
        pp.graph[units][:, units].tocsr(), pp.amount[units], pp.lower[:, cols], pp.upper[:, cols],
        pp.target[:, cols], pp.cost[units][:, cols] * rng.uniform(0.7, 1.3, (len(units), 2)),
        np.where(pp.fixed[units] == pa, 0, np.where(pp.fixed[units] == pb, 1, -1)),
    )  # fmt: skip
    seeds = [np.flatnonzero(sub.fixed == k) for k in range(2)]
    if not len(seeds[0]) or not len(seeds[1]):
        return False
    local = grow(sub, connect_seeds(sub, seeds))
    if (local < 0).any():
        return False
    from territory_planner.optimize.flip_search import balance

    local = balance(
        dataclasses.replace(sub, cost=pp.cost[units][:, cols]),
        local,
        min(deadline, time.perf_counter() + REGROW_SECONDS),
        recombine=False,
    )
    own = score(s.load[:, cols], s.lo[:, cols], s.hi[:, cols], s.target[:, cols], s.scale[:, cols])
    before = float(own.sum())
    load = np.stack([np.bincount(local, weights=m, minlength=2) for m in sub.amount.T])
    after = float(score(load, s.lo[:, cols], s.hi[:, cols], s.target[:, cols], s.scale[:, cols]).sum())
    if after >= before - EPS or pieces_of(sub, local) > 2:
        return False
    s.reassign(units, np.where(local == 0, pa, pb))
    return True


def walk(
    s: Search,
    u: np.ndarray,
    b: np.ndarray,
    ds: np.ndarray,
    tabu: np.ndarray,
    rounds: int,
    rng: np.random.Generator,
) -> None:
    """A few non-improving moves among the least bad (not tabu): out of a local minimum."""
    temp = max(s.score(), 1e-9) * WALK_TEMPERATURE
    weight = np.where(tabu[u] > rounds, 0.0, np.exp(-np.maximum(ds, 0.0) / temp))
    if weight.sum() <= 0:
        return
    p = weight / weight.sum()  # a weight of 1e-320 is > 0 but its share is 0: count the shares
    pick = rng.choice(len(u), size=min(4 * WALK_MOVES, int((p > 0).sum())), replace=False, p=p)
    done = 0
    for i in pick.tolist():
        x, k = int(u[i]), int(b[i])
        units = s.movable(x, k) if s.assign[x] != k else None
        if units is None or len(units) > 1:
            continue
        s.move(units, k)
        tabu[x] = rounds + TABU_ROUNDS
        done += 1
        if done >= WALK_MOVES:
            break
