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

import time
from collections.abc import Callable

import numpy as np

from territory_planner.optimize import flip_escapes as escapes
from territory_planner.optimize.parts import PartProblem, excess, loads, score

ROUND_MOVES = 64  # moves applied per round before the candidates are recomputed
ROUND_TRIES = 512  # candidates tried per round (the best first)
STUCK_ROUNDS = 3000  # escape walks without a better plan before the search gives up
TABU_ROUNDS = 5  # a unit moved by a walk or an exchange stays put this many rounds
# the search stops when no better plan has come for this long and for as long as the last one took to
# find: on 3,142 counties the territories' joint search had its best at 0.5 s and went on for 100 s to
# the same band excess, while the districts' search improved at least every 1.7 s until in band
STALL_SECONDS = 15.0
STALL_PROGRESS = 1e-4  # out of the bands, only this much less violation counts as progress (not less cost)
EPS = 1e-12
# band excess (relative, summed) that counts as within the bands: a plan from a MIP sits on band edges
# within the solver's tolerance, and loads kept move by move drift in the last bits
BAND_TOL = 1e-9


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
        self.whole_groups = gr is not None and gr.whole
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
        # the connectivity searches walk the graph unit by unit in Python: plain lists (neighbours, each
        # unit's part and group), kept in step with ``assign`` by ``reassign``, are several times faster
        # there than numpy indexing (45 s to balance 10 districts over 3,142 counties, most of it in
        # the floods)
        self.nb: list[list[int]] = [
            self.idx[self.ptr[i] : self.ptr[i + 1]].tolist() for i in range(len(self.ptr) - 1)
        ]
        self.part_of: list[int] = self.assign.tolist()
        self.group_list: list[int] = self.group.tolist()
        self.group_of: list[int] = [self.group_list[a] if a >= 0 else -1 for a in self.part_of]

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
        part = (self.load, self.lo, self.hi, self.target, self.scale)
        ds, ex, _ = _move_delta(part, amt, a, b)
        ga, gb = self.group[a], self.group[b]
        cross = ga != gb
        if cross.any():
            group = (self.gload, self.glo, self.ghi, self.gtarget, self.gscale)
            dg, eg, eg0 = _move_delta(group, amt, ga, gb)
            # a group (district) holds many parts: its excess never grows for the parts' sake
            ds = ds + np.where(cross, np.where(eg > eg0 + EPS, np.inf, dg), 0.0)
            ex = ex + np.where(cross, eg, 0.0)
        return ds, ex

    # ------------------------------------------------------------------------------------ moves

    def chunk(self, u: int) -> np.ndarray | None:
        """The units that leave with ``u`` so that its part stays one piece (``[u]`` alone when it
        does anyway), or None when the part would lose a fixed unit, too much, or everything."""
        a = self.part_of[u]
        same = [x for x in self.nb[u] if self.part_of[x] == a]
        if not same:
            return None
        if len(same) == 1 or self._linked(same):
            return np.array([u])
        split = self._split(same, self.part_of, a, {u})
        if split is None:
            return np.array([u])
        anchor = int(self.anchor[a])
        comps = [c for c, _ in split]
        # the piece still growing when the others were closed is the largest; it stays unless the part's
        # anchor lies in a closed one (then it leaves, and is grown to the end)
        keep = next((i for i, (_, done) in enumerate(split) if not done), None)
        if anchor >= 0:
            keep = next((i for i, c in enumerate(comps) if anchor in c), keep)
        if keep is None:
            keep = int(np.argmax([len(c) for c in comps]))
        for i, (c, done) in enumerate(split):
            if i != keep and not done:
                comps[i] = self._flood(c, a, {u})
        out = np.array([u] + [x for i, c in enumerate(comps) if i != keep for x in c], dtype=np.int64)
        if (self.pp.fixed[out] >= 0).any():
            return None
        return out

    def _linked(self, same: list[int]) -> bool:
        """Whether ``same`` (a unit's neighbours in its part) are linked through each other alone, not
        through the unit (the ring check: the usual case, and cheap; ``_split`` searches the part)."""
        want = set(same)
        start = same[0]
        seen, stack = {start}, [start]
        nb = self.nb
        while stack:
            w = stack.pop()
            for x in nb[w]:
                if x in seen or x not in want:  # the unit itself is not in want: never crossed
                    continue
                seen.add(x)
                stack.append(x)
                if want <= seen:
                    return True
        return want <= seen

    def _split(
        self, seeds: list[int], label: list[int], value: int, gone: set[int]
    ) -> list[tuple[list[int], bool]] | None:
        """The pieces the ``seeds`` fall into among the units with ``label == value`` less ``gone``: None
        when they are all one piece, else each piece's units and whether it is complete.

        One search grows from every seed in turn, a unit each, and pieces that meet merge. It stops when
        all have met, or when at most one piece is still growing: the others are then closed pieces, and
        the one still growing is the largest, only partly listed. So the cost is that of the small
        pieces cut off, not of the whole part (a flood of the whole part per move made most of the
        search's time on 3,142 counties in 10 districts)."""
        nb = self.nb
        owner: dict[int, int] = {}
        parent = list(range(len(seeds)))
        members: list[list[int]] = []
        queue: list[list[int]] = []
        head: list[int] = []
        for i, x in enumerate(seeds):
            members.append([x])
            queue.append([x])
            head.append(0)
            if x in owner:
                parent[i] = owner[x]
            else:
                owner[x] = i

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        roots = {find(i) for i in range(len(seeds))}
        while len(roots) > 1:
            live = [r for r in roots if head[r] < len(queue[r])]
            if len(live) <= 1 and len(roots) > 1:
                return [(members[r], r not in live) for r in sorted(roots)]
            for r0 in live:
                r = find(r0)
                if head[r] >= len(queue[r]):
                    continue
                w = queue[r][head[r]]
                head[r] += 1
                for x in nb[w]:
                    if label[x] != value or x in gone:
                        continue
                    o = owner.get(x)
                    if o is None:
                        owner[x] = r
                        members[r].append(x)
                        queue[r].append(x)
                        continue
                    ro = find(o)
                    if ro == r:
                        continue
                    # two pieces meet: the smaller joins the larger
                    big, small = (r, ro) if len(members[r]) >= len(members[ro]) else (ro, r)
                    parent[small] = big
                    members[big].extend(members[small])
                    queue[big].extend(queue[small][head[small] :])
                    roots.discard(small)
                    r = big
            roots = {find(r) for r in roots}
        return None

    def _flood(self, piece: list[int], a: int, gone: set[int]) -> list[int]:
        """The whole piece of part ``a`` (less ``gone``) that holds the units ``piece``."""
        out = list(piece)
        seen = set(piece) | gone
        stack = list(piece)
        nb, part_of = self.nb, self.part_of
        while stack:
            w = stack.pop()
            for x in nb[w]:
                if x not in seen and part_of[x] == a:
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
        if ga != self.group[b] and self.whole_groups and not self.group_whole(units, ga):
            return None
        return units

    def group_whole(self, units: np.ndarray, ga: int) -> bool:
        """Whether group ``ga`` stays one piece without ``units`` (a search over the group)."""
        label = self.group_of
        gone = set(units.tolist())
        want: set[int] = set()
        for x in units.tolist():
            want.update(y for y in self.nb[x] if label[y] == ga and y not in gone)
        if len(want) <= 1:
            return bool(want) or not (self.group[self.assign] == ga).sum() > len(units)
        return self._split(list(want), label, ga, gone) is None

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
            return bool(ex[0] <= BAND_TOL and dc < -1e-9)
        return bool(ds[0] < -EPS)

    def touches(self, u: int, b: int) -> bool:
        """Whether ``u`` has a neighbour in part ``b`` (candidates go stale as moves are applied)."""
        part_of = self.part_of
        return any(part_of[x] == b for x in self.nb[u])

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
        for x, k in zip(units.tolist(), new.tolist(), strict=True):
            self.part_of[x] = k
            self.group_of[x] = self.group_list[k] if k >= 0 else -1


def balance(
    pp: PartProblem,
    assign: np.ndarray,
    deadline: float,
    seed: int = 0,
    *,
    recombine: bool = True,
    stop: Callable[[], bool] | None = None,
    stall: float | None = None,
) -> np.ndarray:
    """The best plan the flips find from ``assign`` (every part one piece) by ``deadline``, or earlier
    when the search stalls (no progress for ``stall`` seconds, default ``STALL_SECONDS``, and for as
    long as the last progress took) or ``stop()`` says so (checked every round): least band
    violation, then least cost. Every part stays one piece; the caller checks the bands."""
    stall = STALL_SECONDS if stall is None else stall
    rng = np.random.default_rng(seed)
    s = Search(pp, assign)
    best, best_key = s.assign.copy(), (s.violation(), s.cost())
    tabu = np.zeros(pp.n, dtype=np.int64)
    rounds = stuck = 0
    began = found = time.perf_counter()
    while (now := time.perf_counter()) < deadline:
        if recombine and now - found > max(stall, found - began):
            break  # stalled (a recombination's own two-part search has a short deadline instead)
        if stop is not None and stop():
            break
        rounds += 1
        in_band = s.violation() <= BAND_TOL
        u, b = s.candidates()
        if not len(u):
            break
        a = s.assign[u]
        ds, ex = s.deltas(pp.amount[u].T, a, b)
        if in_band:
            dc = pp.cost[u, b] - pp.cost[u, a]
            gain = np.where((ex <= BAND_TOL) & (dc < -1e-9), dc, np.inf)
        else:
            gain = np.where(ds < -EPS, ds, np.inf)
        order = np.argsort(gain, kind="stable")
        order = order[np.isfinite(gain[order])]
        applied = _apply(s, u[order], b[order], in_band, tabu, rounds)
        key = (s.violation(), s.cost())
        if _better(key, best_key):
            if key[0] <= BAND_TOL or key[0] < best_key[0] * (1.0 - STALL_PROGRESS):
                found = time.perf_counter()  # progress: less violation, or less cost within the bands
            best, best_key, stuck = s.assign.copy(), key, 0
        if applied:
            continue
        if in_band:
            break  # no cheaper move keeps the bands
        if escapes.swap(s, u, b, tabu, rounds):
            continue
        if escapes.corridor(s, rng):
            continue
        if recombine and escapes.regrow(s, rng, deadline):
            continue
        stuck += 1
        if stuck > STUCK_ROUNDS:
            break
        escapes.walk(s, u, b, ds, tabu, rounds, rng)
    return best


def _better(key: tuple[float, float], best: tuple[float, float]) -> bool:
    """Less violation, then less cost. The loads are updated move by move, so a violation equal to the
    best's may differ from it in the last bits: within ``EPS`` (relative) it counts as equal, and the
    cost decides (a plan of more travel once replaced the start on round-off alone)."""
    tol = EPS * max(1.0, abs(best[0]))
    if key[0] < best[0] - tol:
        return True
    return key[0] <= best[0] + tol and key[1] < best[1]


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


def _move_delta(
    level: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    amt: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On one level (load, lo, hi, target, scale, each (M, K)): the score change of moving ``amt`` from
    ``a`` to ``b``, and the two sides' band excess after and before."""
    load, lo, hi, target, scale = level
    la, lb = load[:, a], load[:, b]
    na, nb = la - amt, lb + amt
    ta = (lo[:, a], hi[:, a], target[:, a], scale[:, a])
    tb = (lo[:, b], hi[:, b], target[:, b], scale[:, b])
    ds = score(na, *ta) + score(nb, *tb) - score(la, *ta) - score(lb, *tb)
    after = excess(na, ta[0], ta[1], ta[3]).sum(axis=0) + excess(nb, tb[0], tb[1], tb[3]).sum(axis=0)
    before = excess(la, ta[0], ta[1], ta[3]).sum(axis=0) + excess(lb, tb[0], tb[1], tb[3]).sum(axis=0)
    return ds, after, before
