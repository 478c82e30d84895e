"""Connected, balanced parts of a unit graph by local search: boundary flips from a connected start.

The standard heuristic of political districting and territory design (the flip chain of GerryChain,
the local search of Ricca & Simeone 2008), on a ``PartProblem`` (``optimize.parts``) whose parts are
each one piece (the start of ``parts.grow``). A move takes a boundary unit of part A to an adjacent part
B. A must stay one piece: when the unit's neighbours in A are linked among themselves (a ring check) or a
search over A finds them linked without it, the unit moves alone; otherwise the pieces it would cut off
(none holding a fixed unit, together at most half of A) move with it, as one chunk that is connected to
B through the unit. A fixed unit (a rep's home, a lock) never moves. So every part stays one piece after
every move. Two phases:

1. **Balance.** The score is the band excess of every part on every measure (relative to the target,
   linear and squared, weighted) plus the squared relative deviation from the target (the pressure
   that pushes a surplus through parts already inside their band). Each round computes the score change
   of every single-unit move at once (numpy), then applies the best while they still improve on the
   current loads. When none does: the best exchange of two units between adjacent parts (it trades one
   measure against another, e.g. potential for workload), else a short random walk of the least bad
   moves (tabu for a few rounds) out of the local minimum.
2. **Cost.** With every band held, the moves that lower the cost and keep both parts' bands, until none
   is left or the time is up.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.sparse.csgraph import connected_components, dijkstra

from territory_planner.optimize.parts import PartProblem, connect_seeds, excess, grow, loads, score

ROUND_MOVES = 64  # moves applied per round before the candidates are recomputed
ROUND_TRIES = 512  # candidates tried per round (the best first)
STUCK_ROUNDS = 3000  # escape walks without a better plan before the search gives up
SWAP_TRIES = 32  # best exchanges tried per round when no single move helps
WALK_MOVES = 30  # random moves of an escape walk
WALK_TEMPERATURE = 0.2  # of the score: how much worse an escape move may be
TABU_ROUNDS = 5  # a unit moved by a walk or an exchange stays put this many rounds
MAX_CHUNK_SHARE = 1.0  # pieces cut off by a move may go with it up to this share of the part's units
EPS = 1e-12
REGROW_SECONDS = 0.5  # flips on a recombined pair of parts
CORRIDOR_TRIES = 6  # units of a part tried for a corridor move to each neighbouring part


def pieces_of(pp: PartProblem, assign: np.ndarray) -> int:
    """Total number of connected pieces over all parts."""
    g = pp.graph.tocoo()
    same = assign[g.row] == assign[g.col]
    m = type(pp.graph)((g.data[same], (g.row[same], g.col[same])), shape=g.shape)
    return int(connected_components(m, directed=False)[0])


class Search:
    """The plan being searched: assignment, loads and the move primitives."""

    def __init__(self, pp: PartProblem, assign: np.ndarray) -> None:
        self.pp = pp
        self.assign = assign.astype(np.int64).copy()
        self.load = loads(pp, self.assign)
        self.lo = np.where(np.isfinite(pp.lower), pp.lower, -np.inf)
        self.hi = np.where(np.isfinite(pp.upper), pp.upper, np.inf)
        self.target, self.scale = pp.target, pp.scale
        self.ptr, self.idx = pp.graph.indptr, pp.graph.indices
        self.size = np.bincount(self.assign[self.assign >= 0], minlength=pp.k)
        self.anchor = np.full(pp.k, -1, dtype=np.int64)
        has = pp.fixed >= 0
        self.anchor[pp.fixed[has]] = np.flatnonzero(has)
        gr = pp.groups
        self.group = np.zeros(pp.k, dtype=np.int64) if gr is None else gr.of.astype(np.int64)
        n_g = 1 if gr is None else gr.g
        m = pp.amount.shape[1]
        self.gload = np.zeros((m, n_g))
        np.add.at(self.gload.T, self.group, self.load.T)
        self.glo = (
            np.full((m, n_g), -np.inf) if gr is None else np.where(np.isfinite(gr.lower), gr.lower, -np.inf)
        )
        self.ghi = (
            np.full((m, n_g), np.inf) if gr is None else np.where(np.isfinite(gr.upper), gr.upper, np.inf)
        )
        self.gtarget = np.full((m, n_g), np.nan) if gr is None else gr.target
        self.gscale = np.ones((m, n_g)) if gr is None else gr.scale

    # ------------------------------------------------------------------------------------ measures

    def violation(self) -> float:
        own = excess(self.load, self.lo, self.hi, self.scale).sum()
        return float(own + excess(self.gload, self.glo, self.ghi, self.gscale).sum())

    def score(self) -> float:
        own = score(self.load, self.lo, self.hi, self.target, self.scale).sum()
        return float(own + score(self.gload, self.glo, self.ghi, self.gtarget, self.gscale).sum())

    def part_scores(self) -> np.ndarray:
        """(K,) each part's score plus its group's."""
        gs = score(self.gload, self.glo, self.ghi, self.gtarget, self.gscale)
        out: np.ndarray = score(self.load, self.lo, self.hi, self.target, self.scale) + gs[self.group]
        return out

    def cost(self) -> float:
        return float(self.pp.cost[np.arange(self.pp.n), self.assign].sum())

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Boundary moves (unit, new part): free units next to another part they may join."""
        row = np.repeat(np.arange(self.pp.n), np.diff(self.ptr))
        a, b = self.assign[row], self.assign[self.idx]
        ok = (a != b) & (a >= 0) & (b >= 0) & (self.pp.fixed[row] < 0)
        u, k = row[ok], b[ok]
        ok = np.isfinite(self.pp.cost[u, k])
        key = np.unique(u[ok] * self.pp.k + k[ok])
        return key // self.pp.k, key % self.pp.k

    def deltas(self, amt: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score change and band excess after (of the two parts) of moving amounts ``amt`` (M, C) from
        parts ``a`` (C,) to parts ``b`` (C,)."""
        la, lb = self.load[:, a], self.load[:, b]
        na, nb = la - amt, lb + amt
        ta = (self.lo[:, a], self.hi[:, a], self.target[:, a], self.scale[:, a])
        tb = (self.lo[:, b], self.hi[:, b], self.target[:, b], self.scale[:, b])
        ds = score(na, *ta) + score(nb, *tb) - score(la, *ta) - score(lb, *tb)
        ex = excess(na, ta[0], ta[1], ta[3]).sum(axis=0) + excess(nb, tb[0], tb[1], tb[3]).sum(axis=0)
        ga, gb = self.group[a], self.group[b]
        cross = ga != gb
        if cross.any():
            la, lb = self.gload[:, ga], self.gload[:, gb]
            na, nb = la - amt, lb + amt
            ta = (self.glo[:, ga], self.ghi[:, ga], self.gtarget[:, ga], self.gscale[:, ga])
            tb = (self.glo[:, gb], self.ghi[:, gb], self.gtarget[:, gb], self.gscale[:, gb])
            dg = score(na, *ta) + score(nb, *tb) - score(la, *ta) - score(lb, *tb)
            eg = excess(na, ta[0], ta[1], ta[3]).sum(axis=0) + excess(nb, tb[0], tb[1], tb[3]).sum(axis=0)
            ds = ds + np.where(cross, dg, 0.0)
            ex = ex + np.where(cross, eg, 0.0)
        return ds, ex

    # ------------------------------------------------------------------------------------ moves

    def chunk(self, u: int) -> np.ndarray | None:
        """The units that leave with ``u`` so that its part stays one piece (``[u]`` alone when it
        does anyway), or None when the part would lose a fixed unit, too much, or everything."""
        a = self.assign[u]
        nb = self.idx[self.ptr[u] : self.ptr[u + 1]]
        same = nb[self.assign[nb] == a].tolist()
        if not same:
            return None
        if len(same) == 1 or self._linked(u, same, local=True) or self._linked(u, same, local=False):
            return np.array([u])
        seen = {u}
        comps = [self._flood(s, a, seen) for s in same if s not in seen]
        anchor = int(self.anchor[a])
        keep = next((i for i, c in enumerate(comps) if anchor in c), None) if anchor >= 0 else None
        if keep is None:
            keep = int(np.argmax([len(c) for c in comps]))
        out = np.array([u] + [x for i, c in enumerate(comps) if i != keep for x in c], dtype=np.int64)
        if (self.pp.fixed[out] >= 0).any() or len(out) > MAX_CHUNK_SHARE * self.size[a]:
            return None
        return out

    def _linked(self, u: int, same: list[int], local: bool) -> bool:
        """Whether ``same`` (u's neighbours in its part) are linked without ``u``: through each other
        only (``local``) or through the whole part."""
        a, want = self.assign[u], set(same)
        seen, stack = {same[0]}, [same[0]]
        while stack:
            w = stack.pop()
            for x in self.idx[self.ptr[w] : self.ptr[w + 1]].tolist():
                if x == u or x in seen or self.assign[x] != a or (local and x not in want):
                    continue
                seen.add(x)
                stack.append(x)
                if want <= seen:
                    return True
        return want <= seen

    def _flood(self, s: int, a: int, seen: set[int]) -> list[int]:
        out, stack = [s], [s]
        seen.add(s)
        while stack:
            w = stack.pop()
            for x in self.idx[self.ptr[w] : self.ptr[w + 1]].tolist():
                if x not in seen and self.assign[x] == a:
                    seen.add(x)
                    out.append(x)
                    stack.append(x)
        return out

    def movable(self, u: int, b: int) -> np.ndarray | None:
        """The units that would move with ``u`` to part ``b`` (``chunk``), or None when the move is not
        possible: ``u`` not next to ``b``, a unit not allowed in ``b``, or ``u``'s group split."""
        units = self.chunk(u) if self.touches(u, b) else None
        if units is None or not np.isfinite(self.pp.cost[units, b]).all():
            return None
        ga = int(self.group[self.assign[u]])
        if ga != self.group[b] and not self.group_whole(units, ga):
            return None
        return units

    def group_whole(self, units: np.ndarray, ga: int) -> bool:
        """Whether group ``ga`` stays one piece without ``units`` (a search over the group)."""
        label = self.group[self.assign]
        gone = set(units.tolist())
        want: set[int] = set()
        for x in units.tolist():
            nb = self.idx[self.ptr[x] : self.ptr[x + 1]]
            want.update(y for y in nb[label[nb] == ga].tolist() if y not in gone)
        if len(want) <= 1:
            return bool(want) or not (label == ga).sum() > len(units)
        start = next(iter(want))
        seen, stack = {start}, [start]
        while stack:
            w = stack.pop()
            for y in self.idx[self.ptr[w] : self.ptr[w + 1]].tolist():
                if y in seen or y in gone or label[y] != ga:
                    continue
                seen.add(y)
                stack.append(y)
                if want <= seen:
                    return True
        return want <= seen

    def try_move(self, u: int, b: int, in_band: bool) -> np.ndarray | None:
        """Move ``u`` (with the pieces it cuts off) to ``b`` if that improves: the score, or with
        ``in_band`` the cost with both bands kept. The units moved, or None. The unit alone is priced
        first (cheap); the connectivity search only for moves that still improve."""
        if not self._improves(np.array([u]), b, in_band):
            return None
        units = self.movable(u, b)
        if units is None or (len(units) > 1 and not self._improves(units, b, in_band)):
            return None
        self.move(units, b)
        return units

    def _improves(self, units: np.ndarray, b: int, in_band: bool) -> bool:
        a = int(self.assign[units[0]])
        ds, ex = self.deltas(self.pp.amount[units].sum(axis=0)[:, None], np.array([a]), np.array([b]))
        if in_band:
            dc = float(self.pp.cost[units, b].sum() - self.pp.cost[units, a].sum())
            return bool(ex[0] <= 0.0 and dc < -1e-9)
        return bool(ds[0] < -EPS)

    def touches(self, u: int, b: int) -> bool:
        """Whether ``u`` has a neighbour in part ``b`` (candidates go stale as moves are applied)."""
        return bool((self.assign[self.idx[self.ptr[u] : self.ptr[u + 1]]] == b).any())

    def move(self, units: np.ndarray, b: int) -> None:
        self.reassign(units, np.full(len(units), b, dtype=np.int64))

    def reassign(self, units: np.ndarray, new: np.ndarray) -> None:
        """Units ``units`` to parts ``new`` at once (loads, group loads, sizes kept up to date)."""
        a, amt = self.assign[units], self.pp.amount[units]
        np.subtract.at(self.load.T, a, amt)
        np.subtract.at(self.gload.T, self.group[a], amt)
        np.add.at(self.load.T, new, amt)
        np.add.at(self.gload.T, self.group[new], amt)
        np.subtract.at(self.size, a, 1)
        np.add.at(self.size, new, 1)
        self.assign[units] = new


def balance(
    pp: PartProblem, assign: np.ndarray, deadline: float, seed: int = 0, *, recombine: bool = True
) -> np.ndarray:
    """The best plan the flips find from ``assign`` (every part one piece) by ``deadline``: least band
    violation, then least cost. Every part stays one piece; the caller checks the bands."""
    rng = np.random.default_rng(seed)
    s = Search(pp, assign)
    best, best_key = s.assign.copy(), (s.violation(), s.cost())
    tabu = np.zeros(pp.n, dtype=np.int64)
    rounds = stuck = 0
    while time.perf_counter() < deadline:
        rounds += 1
        in_band = s.violation() <= 0.0
        u, b = s.candidates()
        if not len(u):
            break
        a = s.assign[u]
        ds, ex = s.deltas(pp.amount[u].T, a, b)
        if in_band:
            dc = pp.cost[u, b] - pp.cost[u, a]
            gain = np.where((ex <= 0.0) & (dc < -1e-9), dc, np.inf)
        else:
            gain = np.where(ds < -EPS, ds, np.inf)
        order = np.argsort(gain, kind="stable")
        order = order[np.isfinite(gain[order])]
        applied = _apply(s, u[order], b[order], in_band, tabu, rounds)
        key = (s.violation(), s.cost())
        if key < best_key:
            best, best_key, stuck = s.assign.copy(), key, 0
        if applied:
            continue
        if in_band:
            break  # no cheaper move keeps the bands
        if _swap(s, u, b, tabu, rounds):
            continue
        if _corridor(s, rng):
            continue
        if recombine and _regrow(s, rng, deadline):
            continue
        stuck += 1
        if stuck > STUCK_ROUNDS:
            break
        _walk(s, u, b, ds, tabu, rounds, rng)
    return best


def _apply(s: Search, u: np.ndarray, b: np.ndarray, in_band: bool, tabu: np.ndarray, rounds: int) -> int:
    """Apply the candidates in order while each still improves on the current loads; count applied."""
    applied = 0
    moved = np.zeros(s.pp.n, dtype=bool)
    for tried, (x, k) in enumerate(zip(u.tolist(), b.tolist(), strict=True)):
        if applied >= ROUND_MOVES or tried >= ROUND_TRIES:
            break
        if moved[x] or tabu[x] > rounds or s.assign[x] == k:
            continue
        units = s.try_move(x, k, in_band)
        if units is not None:
            moved[units] = True
            applied += 1
    return applied


def _swap(s: Search, u: np.ndarray, b: np.ndarray, tabu: np.ndarray, rounds: int) -> bool:
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


def _corridor(s: Search, rng: np.random.Generator) -> bool:
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
    return out if len(out) <= MAX_CHUNK_SHARE * len(units) else None


def _regrow(s: Search, rng: np.random.Generator, deadline: float) -> bool:
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


def _walk(
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
    pick = rng.choice(
        len(u), size=min(4 * WALK_MOVES, int((weight > 0).sum())), replace=False, p=weight / weight.sum()
    )
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
