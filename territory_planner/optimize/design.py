"""``--design-districts N``: group the reps into N districts around seat reps.

Given a territory plan, the grouping is a capacitated p-median over reps (PuLP, any back-end):

    y[j, s] = 1 when rep j joins the district seated at rep s;  y[s, s] = 1 when s is a seat
    sum_s y[j, s] = 1,  y[j, s] <= y[s, s],  sum_s y[s, s] = N
    capacity of a district within 1 of the mean capacity C / N (rep counts, by capacity)
    (1 - T) sum_j target[j] y[j, s] <= sum_j load[j] y[j, s] <= (1 + T) sum_j target[j] y[j, s]
    minimise  sum_js travel[j, s] y[j, s]   (the workload-weighted km of j's accounts to s's home)

so each district is compact around its seat (the rep that minimises the district's travel) and its
potential lies within the band the final territory model enforces. Up to ``DENSE_REPS`` reps every
(rep, seat) pair is in the model; above, each rep may join only its nearest seats (``candidate_seats``:
200 reps give 8,000 pairs instead of 40,000), which keeps the MIP small enough to solve in seconds.
``design_flow`` alternates: territories without district rows, this grouping, territories again with
the district rows.

Connected districts (an adjacency known): the plan's territories are cut into their connected pieces
(``Pieces``: a piece graph, each piece owned by one rep), and a district is connected when its reps'
pieces are. The grouping MIP is solved in rounds: each district of the round's grouping that falls in
several components gets, for each component C away from the seat's piece d, the cuts

    y[j, s'] (+ y[owner(d), s'] - 1) <= sum over the reps r owning a piece next to C of y[r, s']

for every rep j with a piece in C and every seat s' (the pieces next to C separate C from d, so a
connected district holding both holds one of them; the bracket is dropped when the seat owns d or j
does). The rounds end when every district is connected, or when the cuts leave no grouping (none is
connected for this plan) or the time is up: then the first round's grouping is kept, marked not
connected. On a small piece graph (``FLOW_ARCS``) the rounds get ``CUT_SHARE`` of the time, and a
grouping still split then is solved again with each district's flows (``_flow_rows``: from its seat's
largest piece, one unit to each other piece of the district, on arcs inside it), exact for the rest of
the time: 16 Texas reps' home cells into 4 districts took 13 cut rounds and the whole time without a
connected grouping where 57 exist (QA96 F2); the flows alone, first, found nothing in 1.7 s on 92
Indiana counties x 10 reps where 3 to 5 cut rounds connect the districts (QA99 F1).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pulp

from territory_planner.geo.adjacency import Adjacency
from territory_planner.geo.contiguity import boundary, piece_labels
from territory_planner.solvers.base import Backend, SolveStatus

DENSE_REPS = 50  # up to this many reps every rep may be seat of any rep's district
FLOW_ARCS = 60_000  # up to this many (arc, seat) pairs the grouping MIP holds the districts' flows
CUT_SHARE = 0.25  # of the grouping's time: the cut rounds, before the flows (when they fit)
SEATS_PER_REP = 40  # above: the seats a rep may join, its nearest by travel (at least 4 districts' worth)


@dataclass(frozen=True)
class Grouping:
    district: np.ndarray  # (p,) district index of each rep
    seats: np.ndarray  # (N,) the seat rep of each district
    travel: float
    status: SolveStatus
    pairs: int  # (rep, seat) pairs in the model: p * p when dense
    connected: bool | None = None  # every district in one piece (None: no adjacency asked for)
    rounds: int = 1  # MIP solves (connectivity cut rounds)
    basis: str = "plan"  # whose pieces the cuts were over: the plan's, or the homes' cells ("homes")
    # a grouping of the homes' cells made without the district band on the first plan's loads: the band's
    # grouping of the first plan (its districts in pieces), written instead when these cannot be connected
    kept: Grouping | None = None


@dataclass(frozen=True)
class Pieces:
    """A territory plan's connected pieces on the units' adjacency, as a graph: ``owner`` (k,) the rep
    of each piece, ``graph`` the pieces' adjacency, ``root`` (p,) each rep's largest piece (-1: none)."""

    owner: np.ndarray
    graph: Adjacency
    root: np.ndarray

    @classmethod
    def of_plan(cls, adj: Adjacency, unit_rep: np.ndarray, p: int) -> Pieces:
        labels = piece_labels(adj, unit_rep)
        _, labels = np.unique(labels, return_inverse=True)  # 0..k-1
        k = int(labels.max(initial=-1)) + 1
        owner = np.zeros(k, dtype=np.int64)
        owner[labels] = unit_rep
        size = np.bincount(labels, minlength=k)
        root = np.full(p, -1, dtype=np.int64)
        for piece in np.argsort(size, kind="stable"):  # the largest piece written last
            root[owner[piece]] = piece
        return cls(owner, Adjacency.from_edges(k, labels[adj.u], labels[adj.v]), root)

    def split_districts(self, seat_of: np.ndarray) -> list[tuple[int, np.ndarray, int]]:
        """For a grouping (seat of each rep): (seat, pieces of one component, root piece) for each
        component of a district that does not hold the district's root (the seat's largest piece, or
        the district's largest component when the seat has no piece)."""
        district = seat_of[self.owner]
        comp = piece_labels(self.graph, district)
        out: list[tuple[int, np.ndarray, int]] = []
        for s in np.unique(district).tolist():
            mine = np.flatnonzero(district == s)
            labels = np.unique(comp[mine])
            if len(labels) <= 1:
                continue
            root = int(self.root[s])
            if root < 0:
                big = np.bincount(comp[mine]).argmax()
                root = int(mine[comp[mine] == big][0])
            for c in labels.tolist():
                if c != comp[root]:
                    out.append((s, mine[comp[mine] == c], root))
        return out


def candidate_seats(travel: np.ndarray, n: int, k: int | None = None) -> np.ndarray:
    """(p, p) bool: the seats rep j may join. Every pair up to ``DENSE_REPS`` reps; above, each rep's
    ``k`` nearest seats by ``travel[j, s]`` (default the larger of ``SEATS_PER_REP`` and four districts'
    worth of reps), itself included. A grouping that needs a farther seat is not seen: the grouping is
    a heuristic step of the alternating design, and no bound rests on it."""
    p = travel.shape[0]
    if k is None:
        k = p if p <= DENSE_REPS else max(SEATS_PER_REP, 4 * -(-p // n))
    if k >= p:
        return np.ones((p, p), dtype=bool)
    out = np.zeros((p, p), dtype=bool)
    near = np.argpartition(travel, k - 1, axis=1)[:, :k]
    out[np.arange(p)[:, None], near] = True
    np.fill_diagonal(out, True)
    return out


def greedy_grouping(
    travel: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    target: np.ndarray,
    tolerance: np.ndarray,
    n: int,
    spread: float = 1.0,
) -> np.ndarray | None:
    """(p,) seat of each rep, or None: seats by farthest-first on travel (from the rep of least total
    travel), reps by largest regret to their cheapest seat with room (capacity at most mean + ``spread``),
    the districts below mean - ``spread`` filled by the cheapest moves (``_fill``), every district then
    checked against the capacity and potential bands. A start for ``group_reps``."""
    p = len(capacity)
    mean = float(capacity.sum()) / n
    seats = [int(travel.sum(axis=0).argmin())]
    while len(seats) < n:
        far = travel[:, seats].min(axis=1).astype(float)
        far[seats] = -np.inf
        seats.append(int(far.argmax()))
    seat_of = np.full(p, -1, dtype=np.int64)
    seat_of[seats] = seats
    used = {s: float(capacity[s]) for s in seats}
    cost = travel[:, seats]
    order = np.argsort(
        -(np.sort(cost, axis=1)[:, 1] - cost.min(axis=1)) if n > 1 else np.arange(p), kind="stable"
    )
    for j in order.tolist():
        if seat_of[j] >= 0:
            continue
        for k in np.argsort(cost[j], kind="stable").tolist():
            if used[seats[k]] + capacity[j] <= mean + spread + 1e-9:
                seat_of[j] = seats[k]
                used[seats[k]] += float(capacity[j])
                break
        if seat_of[j] < 0:
            return None
    _fill(travel, capacity, seat_of, used, mean - spread)
    for s in seats:
        members = seat_of == s
        if used[s] < mean - spread - 1e-9:
            return None
        tot, tgt = load[:, members].sum(axis=1), target[:, members].sum(axis=1)
        finite = np.isfinite(tolerance)
        if ((tot < (1 - tolerance) * tgt - 1e-9) & finite).any() or (
            (tot > (1 + tolerance) * tgt + 1e-9) & finite
        ).any():
            return None
    return seat_of


def _fill(
    travel: np.ndarray, capacity: np.ndarray, seat_of: np.ndarray, used: dict[int, float], floor: float
) -> None:
    """Move reps (never a seat) into districts below ``floor`` capacity, each time the one whose move
    adds least travel among those whose district stays at or above the floor."""
    seats = list(used)
    for _ in range(len(seat_of)):
        short = [s for s in seats if used[s] < floor - 1e-9]
        if not short:
            return
        s = short[0]
        movable = [
            j
            for j in range(len(seat_of))
            if seat_of[j] != s and seat_of[j] != j and used[int(seat_of[j])] - capacity[j] >= floor - 1e-9
        ]
        if not movable:
            return
        j = min(movable, key=lambda r: travel[r, s] - travel[r, seat_of[r]])
        used[int(seat_of[j])] -= float(capacity[j])
        used[s] += float(capacity[j])
        seat_of[j] = s


def group_reps(
    travel: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    target: np.ndarray,
    tolerance: np.ndarray,
    n: int,
    backend: Backend,
    *,
    time_limit: float,
    seed: int,
    threads: int | None,
    candidates: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    pieces: Pieces | None = None,
    exclude: tuple[np.ndarray, ...] = (),
    spread: float = 1.0,
    regions: np.ndarray | None = None,
) -> Grouping | None:
    """``travel`` (p, p) cost of rep j in seat s's district; ``load``/``target`` (M, p) per rep;
    ``tolerance`` (M,) (inf: no band); ``candidates`` (p, p) bool the pairs (j, s) in the model (default
    ``candidate_seats``); ``allowed`` (p, p) bool the only pairs there may be (e.g. the same region). None
    when no grouping exists among them or none was found in time. ``pieces`` (a plan's pieces on an
    adjacency): connectivity cut rounds until every district is connected (module docstring); a grouping
    not connected when the rounds find none (``connected`` False). ``exclude``: groupings (a district
    label per rep) the answer must not be, whatever its seats (``_no_good``). ``spread``: a district holds
    mean +- spread reps by capacity (SPEC: 1; wider only for ``--relax`` when regions allow no such
    grouping). ``regions`` (p,): districts may span regions (``--relax`` with more regions than
    districts), and the regions each district spans beyond one are priced above any travel, so the
    fewest spans come first (QA51 F8: a two-rep region split across both districts, 2 spans where 1
    did, at the same travel).

    y[s, s] = 1 when s is a seat: y[j, s] <= y[s, s], so a seat is in its own district."""
    p = len(capacity)
    cand = candidate_seats(travel, n) if candidates is None else candidates | np.eye(p, dtype=bool)
    if allowed is not None:
        cand = cand & (allowed | np.eye(p, dtype=bool))
        # the greedy start sees a pair across regions as very far, and is dropped if it still uses one
        travel_g = np.where(allowed, travel, travel.max(initial=0.0) * 1e3 + 1.0)
    greedy = greedy_grouping(
        travel if allowed is None else travel_g, capacity, load, target, tolerance, n, spread
    )
    if greedy is not None and allowed is not None and not allowed[np.arange(p), greedy].all():
        greedy = None
    if greedy is not None and any(same_grouping(greedy, old) for old in exclude):
        greedy = None
    if greedy is not None:  # its pairs join the model, so the start is one of its points
        cand = cand.copy()
        cand[np.arange(p), greedy] = True
    model = _grouping_model(cand, travel, capacity, load, target, tolerance, n, exclude, spread, regions)
    start = None if greedy is None else model.start_of(greedy, capacity, n)
    return _grouping_rounds(model, travel, backend, start, pieces, time_limit, seed, threads)


@dataclass
class _GroupingModel:
    """The grouping MIP: y[j, s] per candidate pair (``col``), then each seat's capacity beyond the widened
    spread (``excess``) and each region a seat's district spans (``spans``, ``span_of``)."""

    prob: pulp.LpProblem
    y: list[pulp.LpVariable]
    col: dict[tuple[int, int], int]
    pj: np.ndarray
    ps: np.ndarray
    rows: list[pulp.LpConstraint]
    excess: list[pulp.LpVariable]
    spans: list[pulp.LpVariable]
    span_of: list[tuple[int, str]]
    labels: np.ndarray  # each rep's region (empty without regions)

    def add(self, expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str) -> None:
        con = pulp.LpConstraint(expr, sense=sense, rhs=rhs, name=name)
        self.prob.addConstraint(con, name=name)
        self.rows.append(con)

    @property
    def columns(self) -> list[pulp.LpVariable]:
        return self.y + self.excess + self.spans

    def start_of(self, greedy: np.ndarray, capacity: np.ndarray, n: int) -> np.ndarray:
        """The values of the columns for a grouping (a seat per rep): the MIP's start."""
        p = len(greedy)
        y, excess = self.y, self.excess
        start = np.zeros(len(self.columns))
        start[[self.col[(j, int(s))] for j, s in enumerate(greedy.tolist())]] = 1.0
        if excess:  # each seat's excess as the grouping has it
            mean = float(capacity.sum()) / n
            used = np.bincount(greedy, weights=capacity, minlength=p)
            over = np.maximum(np.abs(used - mean) - 1.0, 0.0)
            start[len(y) : len(y) + len(excess)] = np.where(np.isin(np.arange(p), greedy), over, 0.0)
        if self.spans:  # the regions each seat's district spans in the grouping
            held = {(int(greedy[j]), str(self.labels[j])) for j in range(p)}
            start[len(y) + len(excess) :] = [1.0 if key in held else 0.0 for key in self.span_of]
        return start


def _grouping_model(
    cand: np.ndarray,
    travel: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    target: np.ndarray,
    tolerance: np.ndarray,
    n: int,
    exclude: tuple[np.ndarray, ...],
    spread: float,
    regions: np.ndarray | None,
) -> _GroupingModel:
    """The grouping MIP over the candidate pairs ``cand`` (``group_reps``'s arguments)."""
    p = len(capacity)
    pj, ps = np.nonzero(cand)
    prob = pulp.LpProblem("districts", pulp.LpMinimize)
    y = [prob.add_variable(f"y_{j}_{s}", 0, 1, pulp.const.LpBinary) for j, s in zip(pj, ps, strict=True)]
    col = {(int(j), int(s)): c for c, (j, s) in enumerate(zip(pj, ps, strict=True))}
    labels = np.asarray(regions if regions is not None else [], dtype=str)
    model = _GroupingModel(prob, y, col, pj, ps, [], [], [], [], labels)
    add = model.add
    seat = [y[col[(s, s)]] for s in range(p)]
    le, ge, eq = pulp.const.LpConstraintLE, pulp.const.LpConstraintGE, pulp.const.LpConstraintEQ
    mean = float(capacity.sum()) / n
    widened = spread > 1.0 + 1e-9
    excess = model.excess  # with ``widened``: each seat's district's capacity beyond mean +- 1
    by_rep: list[list[int]] = [[] for _ in range(p)]
    by_seat: list[list[int]] = [[] for _ in range(p)]
    for c, (j, s) in enumerate(zip(pj.tolist(), ps.tolist(), strict=True)):
        by_rep[j].append(c)
        by_seat[s].append(c)
        if j != s:
            add(pulp.LpAffineExpression([(y[c], 1.0), (seat[s], -1.0)]), le, 0.0, f"open_{j}_{s}")
    for j in range(p):
        add(pulp.LpAffineExpression([(y[c], 1.0) for c in by_rep[j]]), eq, 1.0, f"one_district_{j}")
    add(pulp.LpAffineExpression([(v, 1.0) for v in seat]), eq, float(n), "districts")
    for s in range(p):
        members = [(c, int(pj[c])) for c in by_seat[s]]
        cap = [(y[c], float(capacity[j])) for c, j in members if c != col[(s, s)]]
        own = float(capacity[s])
        widths: list[tuple[float, str, pulp.LpVariable | None]] = [(spread, "reps", None)]
        if widened:  # the capacity beyond mean +- 1, priced above any travel (QA35 F1: 4.5 + 3, not 4 + 3.5)
            excess.append(prob.add_variable(f"excess_{s}", 0, None))
            widths.append((1.0, "excess", excess[-1]))
        for width, name, slack in widths:  # mean +- width reps by capacity, give or take the slack
            give = [] if slack is None else [(slack, 1.0)]
            hi = [*cap, (seat[s], own - (mean + width)), *((v, -c) for v, c in give)]
            lo = [*cap, (seat[s], own - max(mean - width, 0.0)), *give]
            add(pulp.LpAffineExpression(hi), le, 0.0, f"{name}_max_{s}")
            add(pulp.LpAffineExpression(lo), ge, 0.0, f"{name}_min_{s}")
        for m in range(load.shape[0]):
            if not np.isfinite(tolerance[m]):
                continue
            lo = [(y[c], float(load[m, j] - (1 - tolerance[m]) * target[m, j])) for c, j in members]
            hi = [(y[c], float(load[m, j] - (1 + tolerance[m]) * target[m, j])) for c, j in members]
            add(pulp.LpAffineExpression(lo), ge, 0.0, f"band_min_{m}_{s}")
            add(pulp.LpAffineExpression(hi), le, 0.0, f"band_max_{m}_{s}")
    for k, old in enumerate(exclude):
        add(_no_good(old, col, y), le, float(p - 1), f"not_grouping_{k}")
    price = 100.0 * (float(np.abs(travel).sum()) + 1.0)  # a hundredth of a rep outweighs all travel
    spans, span_of = model.spans, model.span_of  # with ``regions``: z[s, r] >= y[j, s], j of region r
    if regions is not None:
        for s_ in range(p):
            for r in np.unique(labels[pj[by_seat[s_]]]).tolist() if by_seat[s_] else []:
                z = prob.add_variable(f"span_{s_}_{len(spans)}", 0, 1)
                spans.append(z)
                span_of.append((s_, r))
                for c in by_seat[s_]:
                    if labels[pj[c]] == r:
                        add(
                            pulp.LpAffineExpression([(y[c], 1.0), (z, -1.0)]),
                            le,
                            0.0,
                            f"span_{c}_{len(spans)}",
                        )
    prob.setObjective(
        pulp.LpAffineExpression(
            [(y[c], float(travel[pj[c], ps[c]])) for c in range(len(y))]
            + [(e, price) for e in excess]
            + [(z, price) for z in spans]
        )
    )
    return model


def _grouping_rounds(
    model: _GroupingModel,
    travel: np.ndarray,
    backend: Backend,
    start: np.ndarray | None,
    pieces: Pieces | None,
    time_limit: float,
    seed: int,
    threads: int | None,
) -> Grouping | None:
    """The grouping MIP solved, with connectivity cut rounds (then flows) until every district is one
    piece of ``pieces``; the first grouping when the rounds find none connected in time."""
    prob, y, col, pj, ps, add = model.prob, model.y, model.col, model.pj, model.ps, model.add
    p = len(travel)
    columns = model.columns
    rows = model.rows
    le = pulp.const.LpConstraintLE
    deadline = time.perf_counter() + max(time_limit, 1.0)
    # the cut rounds first, as many as fit in CUT_SHARE of the time; a grouping still split then gets the
    # flows (exact) for the rest, on a piece graph small enough (QA96 F2: 16 Texas home cells, 13 rounds
    # and the whole time without a connected grouping where 57 exist; QA99 F1: 92 Indiana counties x 10
    # reps, the flows first found nothing in 1.7 s where 3 to 5 cut rounds connect the districts)
    flowing = pieces is not None and _flows_fit(pieces, col)
    cut_end = time.perf_counter() + CUT_SHARE * max(time_limit, 1.0) if flowing else deadline
    flows: list[pulp.LpVariable] = []
    first: Grouping | None = None
    rounds = 0
    while True:
        rounds += 1
        end = deadline if flows else cut_end
        out = backend.solve(
            prob, columns, rows, mip=True, time_limit=max(end - time.perf_counter(), 1.0), gap=1e-4,
            seed=seed, threads=threads, start=start,
        )  # fmt: skip
        if not out.has_solution:  # the cuts or the flows left no grouping (or none in time): the first one
            return None if first is None else dataclasses.replace(first, rounds=rounds)
        chosen = out.values[: len(y)] > 0.5
        seat_of = np.full(p, -1, dtype=np.int64)
        seat_of[pj[chosen]] = ps[chosen]
        # districts numbered as the reps come (D01 holds the first rep), as districts.csv lists them
        seats = seat_of[np.sort(np.unique(seat_of, return_index=True)[1])]
        district = np.argsort(seats)[np.searchsorted(np.sort(seats), seat_of)]
        travel_sum = float(travel[np.arange(p), seat_of].sum())
        split = pieces.split_districts(seat_of) if pieces is not None else []
        grouping = Grouping(
            district, seats, travel_sum, out.status, len(y),
            connected=None if pieces is None else not split, rounds=rounds,
        )  # fmt: skip
        if pieces is None or not split:
            return grouping
        first = first or grouping
        if time.perf_counter() >= deadline - 1.0 or flows:
            return dataclasses.replace(first, rounds=rounds)
        start = None  # the round's grouping breaks the new cuts
        if flowing and time.perf_counter() >= cut_end - 0.5:
            assert pieces is not None
            flows = _flow_rows(prob, pieces, col, y, add)  # with the cuts so far: valid rows all
            columns = columns + flows
            continue
        for k, (_, comp, root) in enumerate(split):
            for row, (expr, rhs) in enumerate(_separator_cuts(pieces, comp, root, col, y, p)):
                add(expr, le, rhs, f"connect_{rounds}_{k}_{row}")


def _flows_fit(pieces: Pieces, col: dict[tuple[int, int], int]) -> bool:
    """Whether the grouping MIP can hold the districts' flows: every rep has a piece and the piece graph's
    arcs times the seats are at most ``FLOW_ARCS``."""
    seats = len({s for (_, s) in col})
    return bool((pieces.root >= 0).all()) and 2 * len(pieces.graph.u) * seats <= FLOW_ARCS


def _flow_rows(
    prob: pulp.LpProblem,
    pieces: Pieces,
    col: dict[tuple[int, int], int],
    y: list[pulp.LpVariable],
    add: Callable[[pulp.LpAffineExpression, int, float, str], None],
) -> list[pulp.LpVariable]:
    """Connected districts in the MIP itself (``_flows_fit``): for each seat s a flow from s's root piece
    along the pieces' adjacency, each other piece of s's district taking one unit, on arcs between pieces
    of that district only (capacity k y), so every piece of the district is reached from the root through
    the district. Returns the flow columns."""
    k = len(pieces.owner)
    g = pieces.graph
    tail = np.concatenate([g.u, g.v]).astype(np.int64)
    head = np.concatenate([g.v, g.u]).astype(np.int64)
    seats = sorted({s for (_, s) in col})
    owner = pieces.owner.astype(np.int64).tolist()
    le, eq = pulp.const.LpConstraintLE, pulp.const.LpConstraintEQ
    out: list[pulp.LpVariable] = []
    for s in seats:
        # arcs whose both ends' reps may join s's district
        keep = [a for a in range(len(tail)) if (owner[tail[a]], s) in col and (owner[head[a]], s) in col]
        f = {a: prob.add_variable(f"flow_{s}_{a}", 0, None) for a in keep}
        out.extend(f.values())
        into: list[list[int]] = [[] for _ in range(k)]
        outof: list[list[int]] = [[] for _ in range(k)]
        for a in keep:
            outof[int(tail[a])].append(a)
            into[int(head[a])].append(a)
            for end in (int(tail[a]), int(head[a])):
                member = y[col[(owner[end], s)]]
                add(
                    pulp.LpAffineExpression([(f[a], 1.0), (member, -float(k))]),
                    le,
                    0.0,
                    f"fcap_{s}_{a}_{end}",
                )
        root = int(pieces.root[s])
        for q in range(k):
            if q == root or (owner[q], s) not in col:
                continue
            net = [(f[a], 1.0) for a in into[q]] + [(f[a], -1.0) for a in outof[q]]
            add(pulp.LpAffineExpression([*net, (y[col[(owner[q], s)]], -1.0)]), eq, 0.0, f"fnode_{s}_{q}")
    return out


def same_grouping(a: np.ndarray, b: np.ndarray) -> bool:
    """The same partition of the reps, whatever the labels (seat ids or district numbers)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    pairs = np.unique(np.column_stack([ia, ib]), axis=0)
    return bool(len(pairs) == len(np.unique(ia)) == len(np.unique(ib)))


def _no_good(
    old: np.ndarray, col: dict[tuple[int, int], int], y: list[pulp.LpVariable]
) -> pulp.LpAffineExpression:
    """sum of y[j, s] over the pairs whose rep and seat share a district of ``old`` (a label per rep):
    at most p - 1 excludes that partition with any seats and nothing else. Each rep adds at most 1 (it has
    one seat); p means every district of the answer lies inside one of ``old``'s, and a refinement into
    as many districts is the partition itself."""
    return pulp.LpAffineExpression([(y[c], 1.0) for (j, s), c in col.items() if old[j] == old[s]])


def _separator_cuts(
    pieces: Pieces,
    comp: np.ndarray,
    root: int,
    col: dict[tuple[int, int], int],
    y: list[pulp.LpVariable],
    p: int,
) -> list[tuple[pulp.LpAffineExpression, float]]:
    """The cuts that keep the pieces ``comp`` from sharing a district with the piece ``root`` unless a
    piece next to ``comp`` joins them, for every seat (module docstring)."""
    near = np.unique(pieces.owner[boundary(pieces.graph, comp)]).tolist()
    jd = int(pieces.owner[root])
    out = []
    for j in np.unique(pieces.owner[comp]).tolist():
        for s in range(p):
            if (j, s) not in col:
                continue
            strong = j == jd or s == jd
            if not strong and (jd, s) not in col:
                continue  # d's owner cannot join s's district: the cut holds trivially
            terms = [(y[col[(j, s)]], 1.0)] + ([] if strong else [(y[col[(jd, s)]], 1.0)])
            terms += [(y[col[(r, s)]], -1.0) for r in near if (r, s) in col]
            out.append((pulp.LpAffineExpression(terms), 0.0 if strong else 1.0))
    return out


def group_nearest_first(
    travel: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    target: np.ndarray,
    tolerance: np.ndarray,
    n: int,
    backend: Backend,
    *,
    time_limit: float,
    seed: int,
    threads: int | None,
    k: int | None = None,
    allowed: np.ndarray | None = None,
    pieces: Pieces | None = None,
    exclude: tuple[np.ndarray, ...] = (),
    spread: float = 1.0,
    regions: np.ndarray | None = None,
) -> Grouping | None:
    """``group_reps`` over each rep's nearest seats (``candidate_seats``), then over every pair if that
    finds no grouping, or with ``pieces`` no connected one (each attempt gets ``time_limit``; the first
    grouping found is the answer when neither is connected); ``allowed`` as in ``group_reps``. Measured at
    200 reps and 20 districts (benchmarks/bench_hierarchy.py --grouping): in 10 s the nearest seats find
    a grouping of 22.5M travel against 35.4M over every pair; given a minute, every pair proves 21.3M,
    5% below the nearest seats' best (22.4M). The planner gives the grouping seconds, not minutes."""
    p = len(capacity)
    sparse = candidate_seats(travel, n, k)
    fallback = None
    for cand in (sparse, np.ones((p, p), dtype=bool)) if not sparse.all() else (sparse,):
        grouping = group_reps(
            travel, capacity, load, target, tolerance, n, backend,
            time_limit=time_limit, seed=seed, threads=threads, candidates=cand, allowed=allowed,
            pieces=pieces, exclude=exclude, spread=spread, regions=regions,
        )  # fmt: skip
        if grouping is not None and grouping.connected is not False:
            return grouping
        fallback = fallback or grouping
    return fallback


def home_cells(adj: Adjacency, centre: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(n,) a rep per unit: the graph Voronoi of the reps' home units (``centre``, -1: none), grown
    cheapest first by ``cost`` (n, p) along the adjacency, so each rep's cell is one piece around its home;
    units no home reaches go to their cheapest rep. The map's own shape of the reps, for grouping them
    into connected districts when a plan's scattered territories admit none."""
    import heapq

    n, p = cost.shape
    out = np.full(n, -1, dtype=np.int64)
    heap = [(0.0, int(u), j) for j, u in enumerate(centre.tolist()) if u >= 0]
    heapq.heapify(heap)
    nbrs = adj.neighbours()
    while heap:
        _, u, j = heapq.heappop(heap)
        if out[u] >= 0:
            continue
        out[u] = j
        for v in nbrs[u].tolist():
            if out[v] < 0 and np.isfinite(cost[v, j]):
                heapq.heappush(heap, (float(cost[v, j]), v, j))
    left = out < 0
    out[left] = np.argmin(cost[left], axis=1)
    return out


def nesting_counts(capacity: np.ndarray, regions: np.ndarray, spread: float = 1.0) -> list[int]:
    """The numbers of districts N for which each region's reps can make whole districts of mean +-
    ``spread`` capacity (mean = total / N): ``nests`` for every N from 1 to the number of reps."""
    return [n for n in range(1, len(capacity) + 1) if nests(capacity, regions, n, spread)]


def nests(
    capacity: np.ndarray,
    regions: np.ndarray,
    n: int,
    spread: float = 1.0,
    admit: Callable[[float], bool] | None = None,
) -> bool:
    """Whether each region's reps can make whole districts of mean +- ``spread`` capacity (mean = total /
    ``n``), ``n`` districts in all. Exact when a region's capacities take few values (every rep 1, or 1 and
    0.5: ``_district_counts``): QA31 F1, 13 reps in regions of 5 and 8 at N = 4 (3 or 4 reps a district)
    passed the continuous test k (mean - 1) <= C <= k (mean + 1), though 5 reps make neither one district
    nor two, and the run ended in exit 3 "not a proof" after 27 s. Else that continuous test, a necessary
    condition. ``admit``: only districts of a capacity it admits count (True when that cannot be
    followed exactly: too many capacity mixes)."""
    total = float(capacity.sum())
    lo, hi = max(total / n - spread, 0.0), total / n + spread
    if len(capacity) and float(capacity.max()) > hi + 1e-9:
        return False  # a rep alone above mean + spread fits no district (QA53 F1: many capacity values)
    reachable = {0}
    for r in np.unique(regions).tolist():
        caps = capacity[regions == r]
        ks = _district_counts(caps, lo, hi, n, admit)
        if ks is None and admit is not None:
            return True  # no proof either way
        if ks is None:
            c = float(caps.sum())
            ks = {k for k in range(1, n + 1) if k * lo <= c + 1e-9 and c <= k * hi + 1e-9}
        reachable = {a + k for a in reachable for k in ks if a + k <= n}
    return n in reachable


def least_spread(capacity: np.ndarray, regions: np.ndarray, n: int) -> float | None:
    """The least ``spread`` (within 1e-6 of the rep capacities' total) for which ``n`` districts of mean
    +- spread reps by capacity nest in the regions, by bisection (a wider spread allows every grouping a
    narrower one does); None when no spread does (more regions than districts: each region needs a
    district of its own)."""
    total = float(capacity.sum())
    if not nests(capacity, regions, n, total):
        return None
    lo, hi = 1.0, total
    while hi - lo > 1e-6 * max(total, 1.0):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if nests(capacity, regions, n, mid) else (mid, hi)
    return hi


MAX_COUNT_STATES = 300  # rosters whose capacity mix has more states get the continuous test


def _shapes(
    caps: np.ndarray, lo: float, hi: float, admit: Callable[[float], bool] | None = None
) -> list[tuple[int, ...]] | None:
    """Every district the reps ``caps`` can make with a capacity in [lo, hi] (and one ``admit`` admits),
    as how many reps of each capacity value (ascending) it takes; None when the capacities take too many
    values to list them (``MAX_COUNT_STATES``)."""
    values, counts = np.unique(np.round(caps, 9), return_counts=True)
    if int(np.prod(counts + 1)) > MAX_COUNT_STATES:
        return None
    out = []
    for x in itertools.product(*(range(c + 1) for c in counts.tolist())):
        size = float(np.dot(x, values))
        if any(x) and lo - 1e-9 <= size <= hi + 1e-9 and (admit is None or admit(size)):
            out.append(x)
    return out


def district_sizes(caps: np.ndarray, lo: float, hi: float) -> list[float] | None:
    """The capacities (ascending, to 1e-9) a district of the reps ``caps`` can have in [lo, hi], or None
    when there are too many capacity mixes to list (``_shapes``)."""
    shapes = _shapes(caps, lo, hi)
    if shapes is None:
        return None
    values = np.unique(np.round(caps, 9))
    return sorted({round(float(np.dot(x, values)), 9) for x in shapes})


def _district_counts(
    caps: np.ndarray, lo: float, hi: float, n: int, admit: Callable[[float], bool] | None = None
) -> set[int] | None:
    """The numbers k of districts of capacity in [lo, hi] (and, with ``admit``, of a capacity it admits)
    the reps ``caps`` can be cut into, exactly (a walk over how many reps of each capacity the districts
    have taken), or None when the capacities take too many values for it (``MAX_COUNT_STATES``)."""
    values, counts = np.unique(np.round(caps, 9), return_counts=True)
    if len(values) == 1 and admit is None:  # reps alike: a district holds s of them, s whole in [lo, hi] / c
        c, m = float(values[0]), int(counts[0])
        smin, smax = max(math.ceil(lo / c - 1e-9), 1), math.floor(hi / c + 1e-9)
        return {k for k in range(1, n + 1) if smin <= smax and k * smin <= m <= k * smax}
    shapes = _shapes(caps, lo, hi, admit)
    if shapes is None:
        return None
    whole = tuple(counts.tolist())
    out: set[int] = set()
    limit = np.array(whole)
    steps = [np.array(x) for x in shapes]
    taken = {tuple(0 for _ in whole)}
    for k in range(1, n + 1):
        grown = (np.array(a) + x for a in taken for x in steps)
        taken = {tuple(t.tolist()) for t in grown if (t <= limit).all()}
        if not taken:
            break
        if whole in taken:
            out.add(k)
    return out


def rep_travel(unit_cost_to_reps: np.ndarray, unit_rep: np.ndarray, p: int) -> np.ndarray:
    """(p, p): sum over rep j's units of the unit's cost to rep s's home (workload x km)."""
    out = np.zeros((p, p))
    np.add.at(out, unit_rep, unit_cost_to_reps)
    return out
