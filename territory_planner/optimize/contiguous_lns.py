"""Contiguity by neighbourhoods: the cut pool, separation, one MIP with cuts or order rows, and the
large-neighbourhood search (LNS) that ``optimize.contiguous`` runs on large instances.

A neighbourhood is a split territory with the territories touching it (and, when that fails, one or two
more rings): their units are freed, every other unit is fixed, and the small MIP keeps every constraint
of the full model. It is solved either with order rows (Zoltners & Sinha 1983: a unit joins a territory
only through a neighbour that comes before it on the way out from the centre, so the territory is one
piece by construction; one solve) or with the separator-cut loop (exact for the neighbourhood, several
solves). ``Lns.mend`` works through the split territories; ``Lns.rebalance`` through the territories out
of their band in a connected plan (the flip search's best when it stalls just outside the bands);
``Lns.polish`` then re-solves each territory with its neighbours by the cut loop, warm-started, and keeps
what is cheaper.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import formulation, hierarchy, repair
from territory_planner.optimize.formulation import Cut
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, LiveMip, SolveOutcome

# per split territory, the neighbourhoods tried in turn: (rings of touching territories, ordered MIP
# (one solve, contiguous by construction) or cut loop)
ATTEMPTS = ((0, True), (1, True), (0, False), (2, True), (1, False))
# per territory out of band in a connected plan (``Lns.rebalance``): as ATTEMPTS, ring -1 = the chain of
# territories to the nearest with room (``path_neighbourhood``)
REBALANCE_ATTEMPTS = ((0, True), (-1, True), (1, True), (0, False), (-1, False), (2, True), (1, False))
SUB_ROUNDS = 40  # cut rounds per neighbourhood
SUB_TIME_CAP = 30.0  # seconds per neighbourhood MIP
POLISH_ROUNDS, POLISH_GAP, POLISH_TIME_CAP = 4, 1e-3, 10.0  # per neighbourhood in the polishing pass
# a mend that may give up (``Lns.mend``): after this many failed neighbourhoods, or this share of its time,
# without one mended (3,142 counties x 100 reps: 33 neighbourhoods in 200 s, none mended; 50 reps: 19 of 19
# split territories mended)
GIVE_UP_TRIES, GIVE_UP_SHARE = 8, 0.25
SUB_NEAREST = 8  # cluster reps each freed unit may go to (nearest by cost, plus its own)


@dataclass
class CutPool:
    """Every cut found so far: valid for every contiguous plan holding the centres, so shared by all
    (sub-)models."""

    cuts: list[Cut] = field(default_factory=list)
    seen: set[Cut] = field(default_factory=set)

    def add(self, new: list[Cut]) -> list[Cut]:
        fresh = [c for c in new if c not in self.seen]
        self.seen.update(fresh)
        self.cuts.extend(fresh)
        return fresh


def separate(adj: Adjacency, unit_rep: np.ndarray, centre: np.ndarray) -> list[Cut]:
    out: list[Cut] = []
    for j, piece in contiguity.stray_pieces(adj, unit_rep, len(centre), centre):
        nb = tuple(int(k) for k in contiguity.boundary(adj, piece))
        out.extend(Cut(j, int(i), nb) for i in piece.tolist())
    return out


def count_split(adj: Adjacency, plan: np.ndarray, centre: np.ndarray) -> int:
    return len(contiguity.stray_pieces(adj, plan, len(centre), centre))


def split_reps(adj: Adjacency, plan: np.ndarray, centre: np.ndarray) -> list[int]:
    return sorted({j for j, _ in contiguity.stray_pieces(adj, plan, len(centre), centre)})


def objective(spec: ModelSpec, plan: np.ndarray) -> float:
    return float(spec.objective[np.arange(len(plan)), plan].sum())


def solve_mip(
    spec: ModelSpec,
    col_unit: np.ndarray,
    col_rep: np.ndarray,
    cuts: list[Cut],
    backend: Backend,
    *,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    warm: np.ndarray | None = None,
    free: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    reps: np.ndarray | None = None,
    order: tuple[Adjacency, np.ndarray] | None = None,
    live: LiveMip | None = None,
) -> tuple[np.ndarray | None, SolveOutcome]:
    """One MIP with the cuts over the columns (units not in ``free`` fixed to ``fixed``): its plan.
    With ``order`` (adjacency, centres) every territory grows from its centre (``add_order_rows``).
    ``live``: setting its ``cancel`` stops the solve (with its best plan so far)."""
    form = formulation.build(
        spec,
        col_unit,
        col_rep,
        free=free,
        fixed_rep=fixed,
        integer=True,
        name="contiguous",
        reps=reps,
        cuts=cuts,
    )
    if order is not None:
        add_order_rows(form, spec, *order)
    start = None
    if warm is not None:
        start = np.zeros(len(form.variables))
        start[: form.n_cols] = (warm[col_unit] == col_rep).astype(float)
    out = backend.solve(
        form.prob,
        form.variables,
        form.constraints,
        mip=True,
        time_limit=max(time_limit, 0.5),
        gap=gap,
        seed=seed,
        threads=threads,
        start=start,
        live=live,
    )
    if not out.has_solution:
        return None, out
    x = out.values[: form.n_cols] > 0.5
    plan = np.full(spec.problem.n_units, -1, dtype=np.int64) if fixed is None else fixed.copy()
    plan[col_unit[x]] = col_rep[x]
    return plan, out


def centre_distance(spec: ModelSpec) -> np.ndarray:
    """(n_units, p) distance of each unit to each rep's home: the cost per unit of workload (NaN for
    units without workload)."""
    w = spec.problem.unit_sum(spec.problem.acc_workload)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray = np.where(w[:, None] > 0, spec.cost / w[:, None], np.nan)
    return out


def add_order_rows(
    form: formulation.Formulation, spec: ModelSpec, adj: Adjacency, centre: np.ndarray
) -> None:
    """order_<rep>_<unit>: x[i,j] <= sum of x[k,j] over the neighbours k of i that come before i on
    the way out from j's centre (Zoltners & Sinha 1983), so every territory is one piece by construction.

    "Before" is the order of shortest paths from the centre over the units with a column for j, an edge
    weighing the change of distance to j's home along it (plus a tiny constant): a unit never needs a
    neighbour nearer the home when it has none. Units the centre cannot reach get x[i,j] <= 0."""
    dist = centre_distance(spec)
    eps = 1e-6 * max(float(np.nanmax(dist, initial=0.0)), 1.0)
    n = spec.problem.n_units
    x = form.variables[: form.n_cols]
    rid = spec.problem.rep_ids
    for j in np.unique(form.col_rep).tolist():
        cols = np.flatnonzero(form.col_rep == j)
        units = form.col_unit[cols]
        local = np.full(n, -1, dtype=np.int64)
        local[units] = np.arange(len(units))
        inside = (local[adj.u] >= 0) & (local[adj.v] >= 0)
        a, b = local[adj.u[inside]], local[adj.v[inside]]
        key = dist[units, j]
        w = np.nan_to_num(np.abs(key[a] - key[b]), nan=0.0) + eps
        g = sp.csr_matrix(
            (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), (len(units),) * 2
        )
        root = int(local[centre[j]]) if centre[j] >= 0 else -1
        if root < 0:
            continue
        sp_dist = dijkstra(g, indices=root)
        for i in range(len(units)):
            if i == root:
                continue
            row = g.indices[g.indptr[i] : g.indptr[i + 1]]
            pred = row[sp_dist[row] < sp_dist[i]] if np.isfinite(sp_dist[i]) else row[:0]
            terms = [(x[cols[i]], 1.0)] + [(x[cols[k]], -1.0) for k in pred.tolist()]
            name = f"order_{formulation.safe(rid[j])}_{j}_{int(units[i])}"
            con = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense=formulation.LE, rhs=0.0, name=name)
            form.prob.addConstraint(con, name=name)
            form.constraints.append(con)
            form.rows.append(formulation.RowInfo("order", rep=j, unit=int(units[i])))


def _rep_graph(adj: Adjacency, plan: np.ndarray, p: int) -> np.ndarray:
    """(p, p) bool: territories that touch (some unit of one is adjacent to some unit of the other)."""
    g = np.zeros((p, p), dtype=bool)
    g[plan[adj.u], plan[adj.v]] = True
    g |= g.T
    np.fill_diagonal(g, False)
    return g


def neighbourhood(adj: Adjacency, plan: np.ndarray, centre: np.ndarray, j: int, ring: int) -> np.ndarray:
    """Territory j, those touching it, ``ring`` more rings of touching ones, and (so every freed unit
    keeps a column) the holders of the members' centres and the owners of centres they hold."""
    p = len(centre)
    g = _rep_graph(adj, plan, p)
    member = np.zeros(p, dtype=bool)
    member[j] = True
    for _ in range(ring + 1):
        member |= g[member].any(axis=0)
    return _with_centres(plan, centre, member)


def path_neighbourhood(
    adj: Adjacency, plan: np.ndarray, centre: np.ndarray, j: int, room: np.ndarray
) -> np.ndarray | None:
    """Territory j and the territories on a shortest path (through touching territories) to the
    nearest one with ``room`` (True: it can take what j must pass on), with the touching ones of both
    ends: a surplus is passed along a chain (3,142 counties: a territory ringed by full ones, that no ring
    of neighbours fixed in 150 s). None when no territory has room."""
    p = len(centre)
    g = _rep_graph(adj, plan, p)
    parent = np.full(p, -1)
    parent[j] = j
    frontier = [j]
    while frontier:
        nxt = []
        for x in frontier:
            for y in np.flatnonzero(g[x] & (parent < 0)).tolist():
                parent[y] = x
                if room[y]:
                    member = np.zeros(p, dtype=bool)
                    member[j] = member[y] = True
                    member |= g[j] | g[y]
                    while y != j:
                        y = int(parent[y])
                        member[y] = True
                    return _with_centres(plan, centre, member)
                nxt.append(y)
        frontier = nxt
    return None


def _with_centres(plan: np.ndarray, centre: np.ndarray, member: np.ndarray) -> np.ndarray:
    """``member`` (p,) grown until it holds every rep whose centre a member holds and every holder of a
    member's centre (so every freed unit keeps a column): the reps, sorted."""
    member = member.copy()
    has = centre >= 0
    while True:
        grown = member.copy()
        grown[plan[centre[member & has]]] = True  # whoever holds a member's centre
        grown[has & member[plan[np.maximum(centre, 0)]]] = True  # reps whose centre a member holds
        if (grown == member).all():
            return np.flatnonzero(member)
        member = grown


def _whole(adj: Adjacency, plan: np.ndarray, centre: np.ndarray, reps: np.ndarray) -> bool:
    inside = np.zeros(len(centre), dtype=bool)
    inside[reps] = True
    return not any(inside[j] for j, _ in contiguity.stray_pieces(adj, plan, len(centre), centre))


def solve_neighbourhood(
    spec_c: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    plan: np.ndarray,
    reps: np.ndarray,
    centre: np.ndarray,
    pool: CutPool,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    ordered: bool = False,
    rounds: int = SUB_ROUNDS,
    time_cap: float = SUB_TIME_CAP,
    live: LiveMip | None = None,
) -> tuple[np.ndarray | None, int]:
    """Re-solve the units of ``reps`` (all others fixed) with the cut loop until each of those
    territories is one piece: (plan, MIP solves); plan None when there is none (or no time)."""
    p = spec_c.problem
    inside = np.zeros(p.n_reps, dtype=bool)
    inside[reps] = True
    free = np.flatnonzero(inside[plan])
    fixed = plan.copy()
    fixed[free] = -1
    cost = np.where(spec_c.allowed[free][:, reps], spec_c.objective[free][:, reps], np.inf)
    k = min(SUB_NEAREST, len(reps))
    keep = np.zeros(cost.shape, dtype=bool)
    keep[np.arange(len(free))[:, None], np.argpartition(cost, k - 1, axis=1)[:, :k]] = True
    keep[np.arange(len(free)), np.searchsorted(reps, plan[free])] = True
    keep &= np.isfinite(cost)
    fu, fr = np.nonzero(keep)
    col_unit, col_rep = free[fu], reps[fr]
    warm = plan if _whole(adj, plan, centre, reps) else None
    for solves in range(1, rounds + 1):
        left = deadline - time.perf_counter()
        if left < 0.5:
            return None, solves - 1
        cand, _ = solve_mip(
            spec_c,
            col_unit,
            col_rep,
            [c for c in pool.cuts if inside[c.rep]],
            backend,
            time_limit=min(left, time_cap),
            gap=gap,
            seed=seed,
            threads=threads,
            warm=warm,
            free=free,
            fixed=fixed,
            reps=reps,
            order=(adj, centre) if ordered else None,
            live=live,
        )
        if cand is None:
            return None, solves
        if _whole(adj, cand, centre, reps):
            return cand, solves
        pool.add([c for c in separate(adj, cand, centre) if inside[c.rep]])
    return None, rounds


_Changes = tuple[np.ndarray, np.ndarray]  # the units a neighbourhood's plan changed, and their reps


@dataclass
class Lns:
    """The neighbourhood search over one model: mend split territories, then polish (see the module
    docstring). Counts the MIP solves and the neighbourhoods accepted."""

    spec_c: ModelSpec
    adj: Adjacency
    backend: Backend
    centre: np.ndarray
    pool: CutPool
    gap: float
    seed: int
    threads: int | None
    progress: Callable[[str], None] = lambda _m: None
    stop: Callable[[], bool] = lambda: False  # another member settled the question (e.g. the flow model)
    live: LiveMip | None = None  # its ``cancel`` stops a neighbourhood's MIP solving then (``solve_mip``)
    solves: int = 0
    accepted: int = 0
    repeats: int = 0  # neighbourhoods answered from ``_done`` rather than solved again
    # each neighbourhood solved: (the plan's digest, its reps, ordered, polish, the cuts in the pool then)
    # -> (the seconds it had, whether it ended before them, its answer as the units it changed and their
    # reps, None for no plan): a few bytes per step, not two copies of the plan per step (a large map's
    # polishing runs one step per territory and pass)
    _done: dict[tuple[bytes, bytes, bool, bool, int], tuple[float, bool, _Changes | None]] = field(
        default_factory=dict
    )

    def _step(
        self, plan: np.ndarray, reps: np.ndarray, ordered: bool, deadline: float, polish: bool = False
    ) -> np.ndarray | None:
        """The neighbourhood of ``reps`` re-solved from ``plan``. The same neighbourhood of the same plan
        with the same cuts is the same MIP (HiGHS's path is fixed by its seed): once it ended on its own,
        or had at least the time it would have now, its answer is given again without solving. With
        few reps the rings of several territories are the same reps, often all of them: on a 10 x 10
        grid x 5 reps at +-0.01%, ``rebalance`` solved the whole map 5 times over, 10.5 s each, to the
        same "no plan"."""
        began = time.perf_counter()
        digest = hashlib.blake2b(np.ascontiguousarray(plan).tobytes(), digest_size=16).digest()
        key = (digest, np.sort(reps).tobytes(), ordered, polish, len(self.pool.cuts))
        seen = self._done.get(key)
        if seen is not None and (seen[1] or deadline - began <= seen[0]):
            self.repeats += 1
            if seen[2] is None:
                return None
            again = plan.copy()
            again[seen[2][0]] = seen[2][1]
            return again
        out, solves = solve_neighbourhood(
            self.spec_c, self.adj, self.backend, plan, reps, self.centre, self.pool,
            deadline=deadline, seed=self.seed, threads=self.threads, ordered=ordered,
            gap=min(self.gap, POLISH_GAP) if polish else self.gap,
            rounds=POLISH_ROUNDS if polish else SUB_ROUNDS,
            time_cap=POLISH_TIME_CAP if polish else SUB_TIME_CAP, live=self.live,
        )  # fmt: skip
        self.solves += solves
        if not self.stop():  # a step cancelled by another member's answer is no answer of its own
            ended = time.perf_counter()
            answer = None
            if out is not None:
                changed = np.flatnonzero(out != plan)
                answer = (changed, out[changed])
            self._done[key] = (deadline - began, ended < deadline - 1.0, answer)
        return out

    def mend(self, plan: np.ndarray, deadline: float, give_up: bool = False) -> np.ndarray:
        """Each split territory (lowest index first) with its neighbours, through ``ATTEMPTS``.
        ``give_up``: each try at most ``SUB_TIME_CAP`` seconds, and stop when the first ``GIVE_UP_TRIES``
        neighbourhoods, or the first ``GIVE_UP_SHARE`` of the time, mended none (something else may use
        the time better: on 3,142 counties x 100 reps the first tries took 105 s and mended none)."""
        p = len(self.centre)
        plan = plan.copy()
        tried = np.zeros(p, dtype=np.int64)
        began, accepted = time.perf_counter(), self.accepted
        while time.perf_counter() < deadline - 0.5 and not self.stop():
            if give_up and self.accepted == accepted:
                spent = time.perf_counter() - began
                if tried.sum() >= GIVE_UP_TRIES or spent > GIVE_UP_SHARE * (deadline - began):
                    self.progress(f"contiguity LNS: none mended in {spent:.0f} s ({tried.sum()} tries)")
                    break
            split = [j for j in split_reps(self.adj, plan, self.centre) if tried[j] < len(ATTEMPTS)]
            if not split:
                break
            j = split[0]
            ring, ordered = ATTEMPTS[tried[j]]
            reps = neighbourhood(self.adj, plan, self.centre, j, ring)
            # one neighbourhood's cut loop may run many rounds: one that may give up caps each try
            out = self._step(
                plan,
                reps,
                ordered,
                min(deadline, time.perf_counter() + SUB_TIME_CAP) if give_up else deadline,
            )
            if out is None:
                tried[j] += 1
                continue
            plan, self.accepted = out, self.accepted + 1
            left = len(split_reps(self.adj, plan, self.centre))
            self.progress(
                f"contiguity LNS: territory {j} mended with {len(reps) - 1} neighbours, {left} still split"
            )
        return plan

    def rebalance(self, plan: np.ndarray, deadline: float) -> np.ndarray | None:
        """A connected plan with territories out of their band (the flip search's best, whose moves of
        single counties could not pass a metro's surplus on) made one that meets the model: each
        territory out of band with its neighbours or its chain to room, through ``REBALANCE_ATTEMPTS``
        (each attempt at most ``SUB_TIME_CAP`` seconds; every territory's first attempt before any one's
        second), the neighbourhood's bands hard and each of its territories one piece.
        On 3,142 counties x 100 reps (+-5%, potential alone) the flips stalled with one or two
        territories up to 0.9% over the band; a ring of 4 territories and a chain of 6 put both within
        it in 7 s. None when a territory stays out of its band (no neighbourhood solved, or no time)."""
        plan = plan.copy()
        tried = np.zeros(len(self.centre), dtype=np.int64)
        while time.perf_counter() < deadline - 0.5 and not self.stop():
            miss = repair.band_excess(self.spec_c, plan)
            if not (miss > 0).any():
                break
            open_ = np.flatnonzero((miss > 0) & (tried < len(REBALANCE_ATTEMPTS)))
            if not len(open_):
                return None
            # round robin over the attempts: a territory no neighbourhood mends does not keep the others
            # waiting (the first that fails every attempt would take 5 x 30 s); the worst first per round
            j = int(open_[np.lexsort((-miss[open_], tried[open_]))[0]])
            ring, ordered = REBALANCE_ATTEMPTS[tried[j]]
            reps = (
                neighbourhood(self.adj, plan, self.centre, j, ring)
                if ring >= 0
                else path_neighbourhood(self.adj, plan, self.centre, j, self._room(plan, j))
            )
            if reps is None:
                tried[j] += 1
                continue
            out = self._step(plan, reps, ordered, min(deadline, time.perf_counter() + SUB_TIME_CAP))
            if out is None:
                tried[j] += 1
                continue
            plan, self.accepted = out, self.accepted + 1
            left = int((repair.band_excess(self.spec_c, plan) > 0).sum())
            self.progress(
                f"contiguity: territory {j} brought within its band with {len(reps) - 1} neighbours, "
                f"{left} still out of band"
            )
        whole = not count_split(self.adj, plan, self.centre)
        return plan if whole and repair.feasible(self.spec_c, plan) else None

    def _room(self, plan: np.ndarray, j: int) -> np.ndarray:
        """(p,) territories that can take territory j's excess over its band (or give its shortfall)
        on every measure where j is out, within their own bands."""
        p = self.spec_c.problem
        load = hierarchy.rep_loads(p.unit_amount, plan, p.n_reps)
        lower, upper = self.spec_c.lower, self.spec_c.upper
        over, under = load[:, j] - upper[:, j], lower[:, j] - load[:, j]
        room = np.ones(p.n_reps, dtype=bool)
        for m in np.flatnonzero(over > 0):
            room &= upper[m] - load[m] >= over[m]
        for m in np.flatnonzero(under > 0):
            room &= load[m] - lower[m] >= under[m]
        room[j] = False
        return room

    def polish(self, plan: np.ndarray, deadline: float, ordered: bool = False) -> np.ndarray:
        """One pass: each territory with its neighbours re-solved (cut loop, warm start; ``ordered``:
        one solve with order rows), kept if cheaper; every territory stays one piece. On 3,142 counties
        x 100 reps the cut loop's neighbourhoods (4 rounds) were still split when they stopped: none of
        the first 9 kept in 90 s, where the ordered ones lowered the travel in 17 of the first 20."""
        for j in range(len(self.centre)):
            if time.perf_counter() > deadline - 0.5 or self.stop():
                break
            reps = neighbourhood(self.adj, plan, self.centre, j, 0)
            out = self._step(plan, reps, ordered, deadline, polish=True)
            if out is not None and objective(self.spec_c, out) < objective(self.spec_c, plan) - 1e-9:
                plan, self.accepted = out, self.accepted + 1
        return plan
