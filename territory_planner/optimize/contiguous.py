"""Contiguous territories: separator cuts added when violated, and re-solve (no lazy callbacks in PuLP).

Every territory j holds a centre unit c_j (the unit nearest its home; the planner's chosen centre for
CTDP). For a piece S of territory j without c_j, any connected territory holding c_j and a unit i of S
must also hold a unit of the boundary N(S), so

    x[i, j] <= sum_{k in N(S)} x[k, j]      for i in S      (Salazar-Aguilar et al. 2011)

is valid. ``solve_contiguous`` uses the cuts in two ways; its ``method`` says which settled the plan:

- "cuts" (small instances, ``exact``): solve the MIP over every allowed pair with the cuts so far
  (warm-started from the best contiguous plan known), separate the pieces of its answer, and repeat
  until the answer is in one piece per territory. The MIP's dual bound and the LP relaxation with the
  cuts (column generation; cut duals enter pricing) are lower bounds on the contiguous model. The rounds
  stop at a loose gap (``ROUND_GAP``) until one settles and in the last part of their time run at the
  run's gap: a round at 0.1% took 21 s on 262 Tokyo municipalities, so its cuts came too late.
- "lns" (large instances, or when the whole-model rounds do not settle in their share of the time): the
  neighbourhood search of ``optimize.contiguous_lns`` mends each split territory together with its
  neighbours, then polishes; every constraint of the full model holds throughout. The bound is the one
  given (the LP of the model without contiguity, a relaxation); no optimality is claimed.

A plan to start from is mended by the LNS first, so the whole-model rounds start from a contiguous
incumbent. When the mend leaves territories split (or there is no plan to start from), the flip search of
``optimize.flip_search`` (method "flips") balances a plan whose territories are one piece from the start:
the graph Voronoi of the centres, each territory kept whole by every move; its plan counts when it meets
every row of the model, and the LNS then polishes it. If territories are still split at the end, stray
pieces are moved to a neighbouring territory wherever both bands allow it (method "repair"), and the
remaining pieces are reported.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import aggregate, background, contiguous_flow, flip_search, parts, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.budget import SHARES
from territory_planner.optimize.contiguous_lns import CutPool, separate
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import home_rule
from territory_planner.solvers.base import Backend, LiveMip, SolveStatus

__all__ = ["ContiguousResult", "CutPool", "centre_units", "repair_pieces", "separate", "solve_contiguous"]

log = logging.getLogger(__name__)
EXACT_SHARE = SHARES["contiguity_cuts"]  # of the time for the whole-model rounds before the LNS takes over
MEND_SHARE = SHARES["contiguity_mend"]  # of the time: the start plan's first mend, when the cut loop runs
FLIP_SHARE = SHARES["contiguity_flips"]  # of the time left: the flip search, when the mend left splits
REBALANCE_SHARE = SHARES["contiguity_rebalance"]  # of the time left: the flips' plan brought into its bands
ELASTIC_SHARE = SHARES["contiguity_elastic"]  # of the time left: the same by the flow model, first
STALL_PER_UNIT = 0.02  # seconds per unit the flip search goes on without progress (at most STALL_SECONDS)
ROUND_GAP = 0.005  # the cut loop's rounds stop at this gap until one settles, then at the run's gap
TIGHT_SHARE = 0.35  # (and in this last part of the cut loop's time)


@dataclass(frozen=True)
class ContiguousResult:
    unit_rep: np.ndarray | None
    objective: float | None
    lower_bound: float
    # "cuts" (the whole-model cut loop settled it) | "lns" (neighbourhood search) | "flips" / "flips+lns"
    # (the flip search found the first connected plan, then the LNS polished it) | "repair" | "flow"
    method: str
    pieces: np.ndarray  # (p,) connected pieces per territory of the returned plan
    rounds: int  # MIP solves
    cuts: int
    proven_optimal: bool
    seconds: float
    neighbourhoods: int = 0  # neighbourhood MIPs accepted by the LNS
    infeasible: bool = False  # the exact flow model is proven infeasible: no connected plan exists
    # no connected plan within the bands: the flip search's connected plan of least band excess, if it
    # ran (``--relax`` may write it: ``contiguity_stage.make_contiguous``)
    near: np.ndarray | None = None
    # after a proof: no connected plan without the rows besides the bands either (True), one exists (False)
    infeasible_without_rows: bool | None = None
    # ``relax_at``: the flow model still running, with neither a plan nor a proof when the search stopped
    late_flow: contiguous_flow.PhasedFlow | None = None


def centre_units(spec: ModelSpec) -> np.ndarray:
    """Per rep, a distinct allowed unit of least cost (the unit at its home); -1 if none is free."""
    p = spec.problem
    cost = np.where(spec.allowed, spec.cost, np.inf)
    centre = np.full(p.n_reps, -1, dtype=np.int64)
    taken = np.zeros(p.n_units, dtype=bool)
    # per-unit cost is workload x distance: compare distances by dividing out the unit's weight
    w = np.maximum(spec.cost.max(axis=1, keepdims=True), 1e-12)
    rel = cost / w
    for j in np.argsort(rel.min(axis=0), kind="stable").tolist():
        order = np.argsort(rel[:, j], kind="stable")
        for u in order.tolist():
            if np.isfinite(rel[u, j]) and not taken[u]:
                centre[j], taken[u] = u, True
                break
    return centre


def with_centres(spec: ModelSpec, centre: np.ndarray) -> ModelSpec:
    allowed = spec.allowed.copy()
    for j, u in enumerate(centre.tolist()):
        if u >= 0:
            allowed[u] = False
            allowed[u, j] = True
    return dataclasses.replace(spec, allowed=allowed)


def repair_pieces(spec: ModelSpec, adj: Adjacency, unit_rep: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Move stray pieces (smallest first) to an adjacent territory when both bands, the district and
    region bands, the account counts and the disruption budgets (overall and per rep) still hold."""
    p = spec.problem
    plan = unit_rep.copy()
    amount = p.unit_amount
    for _ in range(4 * p.n_units):
        loads = np.stack(
            [np.bincount(plan, weights=amount[:, m], minlength=p.n_reps) for m in range(amount.shape[1])]
        )
        stray = sorted(contiguity.stray_pieces(adj, plan, p.n_reps, centre), key=lambda t: len(t[1]))
        moved = False
        for j, piece in stray:
            if (centre[plan[piece]] == piece).any():
                continue
            take = amount[piece].sum(axis=0)
            options = []
            for k in np.unique(plan[contiguity.boundary(adj, piece)]).tolist():
                if k == j or not spec.allowed[piece, k].all():
                    continue
                ok_in = (loads[:, k] + take <= spec.upper[:, k] + 1e-9).all()
                ok_out = (loads[:, j] - take >= spec.lower[:, j] - 1e-9).all()
                if ok_in and ok_out and _rows_hold(spec, plan, piece, k):
                    options.append((float(spec.objective[piece, k].sum()), k))
            if options:
                plan[piece] = min(options)[1]
                moved = True
                break
        if not moved:
            break
    return plan


def _rows_hold(spec: ModelSpec, plan: np.ndarray, piece: np.ndarray, k: int) -> bool:
    """No row other than the rep bands breaks with ``piece`` moved to rep k that held before: account
    counts, the disruption budget overall and per rep, the district and region bands (a relaxed start
    may break some already). QA9 F1: a repaired plan that took a rep below what
    --max-moved-share-per-rep lets it keep was written as a feasible plan, beside the flow model's
    proof that no connected plan exists."""
    trial = plan.copy()
    trial[piece] = k
    before, after = repair.other_rows(spec, plan), repair.other_rows(spec, trial)
    return all(now or not was for was, now in zip(before, after, strict=True))


# what each of ``repair.other_rows``'s families is, as a progress line names it
OTHER_ROWS = (
    "the minimum accounts per rep (--min-accounts)",
    "the maximum accounts per rep (--max-accounts)",
    "the disruption budget (--max-moved-share)",
    "the per-rep disruption budget (--max-moved-share-per-rep)",
    "the district or region bands",
)


def _broken_rows(spec: ModelSpec, plan: np.ndarray) -> str:
    """The rows besides the rep bands that ``plan`` breaks, named (e.g. "the disruption budget")."""
    held = repair.other_rows(spec, plan)
    return " and ".join(name for name, ok in zip(OTHER_ROWS, held, strict=True) if not ok) or "the model"


def flip_plan(
    spec_c: ModelSpec,
    adj: Adjacency,
    centre: np.ndarray,
    deadline: float,
    seed: int,
    stop: Callable[[], bool] | None = None,
    near: list[np.ndarray] | None = None,
) -> np.ndarray | None:
    """A connected plan by the flip search (each centre, and each locked unit, fixed to its rep, so every
    territory stays one piece holding its centre) from the graph Voronoi of the centres
    (``parts.connected_start``), then from sectors around the centre of the first measure
    (``parts.sector_start``); None: no such start, or by ``deadline`` no plan that meets every row
    of the model (bands, counts, budgets, district and region bands: ``repair.feasible``); ``stop()``
    ends the search early. ``near``: where none meets the model, the connected plan the searches ended
    with of least band excess is put there (for ``Lns.rebalance``)."""
    p = spec_c.problem
    if (centre < 0).any():
        return None
    pp = _flip_problem(spec_c, adj, centre)
    lat, lon = aggregate.unit_coordinates(spec_c)
    x = (lon - lon.mean()) * np.cos(np.radians(lat.mean()))
    # a small map is searched through sooner: its stall window shrinks with it (1 s for 50 units or fewer)
    stall = max(1.0, min(flip_search.STALL_SECONDS, STALL_PER_UNIT * p.n_units))
    # the graph Voronoi first (on QA10's 761 cities with district bands: in band in 18 s, where the sectors
    # stalled out of band at 25 s; without district bands 12 s from sectors, 20 s from the Voronoi); the
    # sectors with the time left when the first search stalls out of the bands (``STALL_SECONDS``)
    for make in (parts.connected_start, lambda q: parts.sector_start(q, x, lat, centre)):
        if time.perf_counter() >= deadline - 0.5 or (begin := make(pp)) is None:
            continue
        plan = flip_search.balance(pp, begin, deadline, seed, stop=stop, stall=stall)
        if lns.count_split(adj, plan, centre):
            continue
        if repair.feasible(spec_c, plan):
            return plan
        if near is not None:
            miss = repair.band_excess(spec_c, plan).sum()
            if not near or miss < repair.band_excess(spec_c, near[0]).sum():
                near[:] = [plan]
    return None


def _elastic_from(
    spec_c: ModelSpec,
    adj: Adjacency,
    centre: np.ndarray,
    backend: Backend,
    near: list[np.ndarray],
    deadline: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None],
) -> np.ndarray | None:
    """The flips ended connected but out of some bands: HiGHS on the flow model with every band and row
    elastic and the violation as its objective (``contiguous_flow.least_violation_connected`` with the
    model's bands), started from their plan, to ``deadline``. Its plan when it meets every row of the model
    with every territory one piece, else None; a connected plan out of less band than the flips' replaces
    ``near[0]`` (the start of the neighbourhood MIPs after, and ``--relax``'s connected candidate)."""
    progress("contiguity: the flips' connected plan is out of band: the flow model on the violation")
    least = contiguous_flow.least_violation_connected(
        spec_c, adj, centre, backend, deadline=deadline, seed=seed, threads=threads, start=near[0],
        model_bands=True,
    )  # fmt: skip
    if (
        least is None
        or lns.count_split(adj, least.plan, centre)
        or not all(repair.other_rows(spec_c, least.plan))
    ):
        return None
    if repair.feasible(spec_c, least.plan):
        progress("contiguity: the flow model found a connected plan within every band")
        return least.plan
    if repair.band_excess(spec_c, least.plan).sum() < repair.band_excess(spec_c, near[0]).sum() - 1e-12:
        near[0] = least.plan
    return None


def _flip_problem(spec_c: ModelSpec, adj: Adjacency, centre: np.ndarray) -> parts.PartProblem:
    """The flip search's problem: each centre fixed to its rep, the district (or region) bands as groups."""
    fixed = np.full(spec_c.problem.n_units, -1, dtype=np.int64)
    fixed[centre] = np.arange(spec_c.problem.n_reps)
    pp = parts.from_spec(spec_c, adj.csr(), fixed)
    return dataclasses.replace(pp, groups=_band_groups(spec_c, pp.amount.shape[1]))


def cost_flips(
    spec_c: ModelSpec, adj: Adjacency, centre: np.ndarray, plan: np.ndarray, deadline: float, seed: int
) -> np.ndarray:
    """The flip search's cost phase from a connected plan that meets the model (``Lns.rebalance``'s):
    single moves that lower the travel and keep both territories' bands, every territory one piece.
    ``plan`` itself when that breaks a row the flips do not see (counts, budgets) or saves nothing.
    On 3,142 counties x 100 reps the rebalanced plan was 60% above the LP bound (the flips had balanced,
    never yet shortened, it)."""
    out = flip_search.balance(_flip_problem(spec_c, adj, centre), plan, deadline, seed)
    if lns.count_split(adj, out, centre) or not repair.feasible(spec_c, out):
        return plan
    return out if lns.objective(spec_c, out) < lns.objective(spec_c, plan) else plan


def _band_groups(spec: ModelSpec, n_measures: int) -> parts.Groups | None:
    """The district bands (else the region bands) as the flip search's groups, without their being one
    piece: the search keeps one level; a plan it finds is checked against every level's rows after."""
    gb = spec.groups
    if gb is None:
        return None
    li = gb.levels.index("district") if "district" in gb.levels else 0
    row = gb.group_of[li]
    ids = np.unique(row[row >= 0])
    of = np.searchsorted(ids, row)
    lower, upper, target = gb.lower[:, ids], gb.upper[:, ids], gb.target[:, ids]
    loners = np.flatnonzero(row < 0)  # a rep outside every group of the level: a group of its own
    of[loners] = len(ids) + np.arange(len(loners))
    m = len(spec.problem.measures)
    wide = np.full((m, len(loners)), np.inf)
    lower, upper = np.hstack([lower, -wide]), np.hstack([upper, wide])
    target = np.hstack([target, np.full((m, len(loners)), np.nan)])
    extra = n_measures - m
    if extra:  # the account counts as one more measure (``parts.from_spec``): no group band on them
        lower = np.vstack([lower, np.full((extra, lower.shape[1]), -np.inf)])
        upper = np.vstack([upper, np.full((extra, upper.shape[1]), np.inf)])
        target = np.vstack([target, np.full((extra, target.shape[1]), np.nan)])
    return parts.Groups(of.astype(np.int64), lower, upper, target, whole=False)


@dataclass
class _Stage:
    """What the steps of ``solve_contiguous`` share and hand on: the model, the clock, the members (the
    flow model beside, the neighbourhood search, the cut pool) and the plans and bound found so far."""

    spec: ModelSpec
    spec_c: ModelSpec  # with each rep's centre unit kept for it
    adj: Adjacency
    backend: Backend
    centre: np.ndarray
    start: float
    time_limit: float
    gap: float
    seed: int
    threads: int | None
    progress: Callable[[str], None]
    exact: bool
    flow: contiguous_flow.PhasedFlow | None
    # a cut round's or neighbourhood's MIP stops when the flow model proves it
    cancelled_by_flow: LiveMip | None
    pool: CutPool
    search: lns.Lns
    lower: float
    best: np.ndarray | None = None  # best contiguous plan
    last_plan: np.ndarray | None = None  # the LNS's fallback start: the plan with fewest stray pieces
    proven: bool = False
    settled: bool = False
    cut_infeasible: bool = False  # the cut loop's MIP over every allowed pair has no plan: a proof
    twin_infeasible: bool = False  # the flow model's twin proved that no connected plan exists
    from_twin: bool = False  # the best plan is the twin's
    rounds: int = 0
    flipped: bool = False  # the first connected plan came from the flip search
    flip_ran: bool = False
    near: list[np.ndarray] = dataclasses.field(default_factory=list)  # the flips' plan of least excess

    @property
    def deadline(self) -> float:
        return self.start + self.time_limit

    def done(self) -> bool:
        """The flow model settled the question (a plan proven optimal, or none exists)."""
        return self.flow.settled() if self.flow is not None else False

    def offer(self, plan: np.ndarray) -> None:
        if self.flow is not None:
            self.flow.offer(plan)


def solve_contiguous(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    *,
    centre: np.ndarray | None = None,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    start_plan: np.ndarray | None = None,
    bound: float = -np.inf,
    progress: Callable[[str], None] = lambda _m: None,
    exact: bool = True,
    relax: bool = False,
    relax_at: float | None = None,
) -> ContiguousResult:
    """Mend ``start_plan`` by the LNS (a contiguous incumbent), then the whole-model cut loop warm-started
    from it (``exact``; at most ``EXACT_SHARE`` of the time when there is a start plan), then, unless the
    cut loop settled it, the LNS again from the plan with fewest stray pieces and the polishing pass;
    the piece repair if territories are still split.

    ``relax_at`` (``--relax``, a moment before the end): the search's steps end then, and the flow model
    runs to the end as it does without --relax; still running then with neither a connected plan nor a
    proof, it is handed on (``late_flow``) to run beside the least violation of connected plans, which
    the caller looks for in the rest of the time. QA102 F2: 78 Thai provinces x 8 reps with a budget,
    the flow model stopped at 65% of the stage for that search, and --relax wrote a plan in pieces where
    the flow model proves a connected plan optimal in 11-23 s of the 30.

    ``bound`` is a lower bound on the model without contiguity (e.g. its LP); the result's bound is the
    best of it and the whole-model MIP / cut-LP bounds."""
    start = time.perf_counter()
    p = spec.problem
    centre = centre_units(spec) if centre is None else centre
    spec_c = with_centres(spec, centre)
    search_limit = time_limit if relax_at is None else min(max(relax_at - start, 0.0), time_limit)
    # it ends a grace period before the stage, as HiGHS may take a moment to stop and hand its answer back
    flow_deadline = start + time_limit - background.GRACE
    flow = (
        contiguous_flow.start_phased(
            spec_c,
            adj,
            contiguous_flow.territory_parts(centre),
            backend,
            deadline=flow_deadline,
            gap=gap,
            seed=seed,
        )
        if exact and flow_deadline - start > background.GRACE
        else None
    )
    cancelled_by_flow = None
    if flow is not None and background.available(backend):
        cancelled_by_flow = LiveMip()
        cancelled_by_flow.cancel = flow.proved
    done = flow.settled if flow is not None else (lambda: False)  # the flow model proved it either way
    pool = CutPool()
    search = lns.Lns(
        spec_c, adj, backend, centre, pool, gap, seed, threads, progress, stop=done, live=cancelled_by_flow
    )
    st = _Stage(
        spec, spec_c, adj, backend, centre, start, search_limit, gap, seed, threads, progress, exact, flow,
        cancelled_by_flow, pool, search, bound, last_plan=start_plan,
    )  # fmt: skip
    if start_plan is not None:
        _mend_start(st, start_plan)
    if st.best is None and not st.done() and time.perf_counter() < st.deadline - 1.0:
        _flips(st)
    if not _flow_twin(st, from_start=start_plan is not None):
        _cut_loop(st, from_start=start_plan is not None)
    _cut_bound(st)
    method = _lns_finish(st)
    infeasible = st.cut_infeasible or st.twin_infeasible
    best, lower, proven, deadline = st.best, st.lower, st.proven, st.deadline
    late = None
    unsettled = best is None and not proven and not infeasible
    if relax_at is not None and flow is not None and unsettled and flow.running() and not flow.has_plan():
        late, flow = flow, None  # beside the least violation, to the end
    if flow is not None:
        # stopped now when the cut loop proved its plan optimal or infeasible or the time is up, else its
        # own deadline
        stop = proven or infeasible or time.perf_counter() >= flow_deadline
        merged = contiguous_flow.merge(flow, spec, best, lower, proven, stop=stop)
        best, lower, proven = merged.best, merged.lower, merged.proven
        infeasible = infeasible or merged.infeasible
        if merged.from_flow:
            method = "flow"
        if infeasible:
            progress(
                "contiguity: the exact flow model is infeasible: no plan of connected territories"
                f"{home_rule('territories')} exists"
            )
    without_rows = None  # the proof holds without the budgets, counts and group bands (True) or not
    if infeasible and contiguous_flow.bare(spec_c) is not None and time.perf_counter() < flow_deadline:
        progress("contiguity: is there a connected plan without the budgets, account counts and group bands?")
        without_rows = contiguous_flow.settle_without_rows(
            spec_c, adj, contiguous_flow.territory_parts(centre), backend, deadline=flow_deadline, seed=seed
        )
    near = st.near
    if (
        relax
        and best is None
        and not near
        and not st.flip_ran
        and (now := time.perf_counter()) < deadline - 1.0
    ):
        # --relax, the question settled before the flips ran (a proof: e.g. an account above every band):
        # their connected plan of least band excess, for ``--relax`` to weigh against the split one (QA26:
        # 159 Georgia counties x 12 reps, Fulton above every band, a plan with all 12 territories in 4 to
        # 15 pieces at 8 s of 40)
        progress("contiguity: flip search for the connected plan of least band excess (--relax)")
        flip_plan(spec_c, adj, centre, now + FLIP_SHARE * (deadline - now), seed, near=near)
    if best is None and st.last_plan is not None:  # no connected plan (proven or not): its pieces marked
        best, method = repair_pieces(spec, adj, st.last_plan, centre), "repair"
    pieces = (
        contiguity.count_pieces(adj, best, p.n_reps) if best is not None else np.zeros(p.n_reps, np.int64)
    )
    return ContiguousResult(
        best,
        None if best is None else lns.objective(spec, best),
        lower,
        method,
        pieces,
        st.rounds + st.search.solves,
        len(st.pool.cuts),
        proven,  # the cut loop settled, or the flow model's optimum is no better than this plan
        time.perf_counter() - start,
        st.search.accepted,
        infeasible,
        near[0] if near and (pieces > 1).any() else None,
        without_rows,
        late,
    )


def _mend_start(st: _Stage, start_plan: np.ndarray) -> None:
    """The start plan mended by the neighbourhood search. On a model the cut loop can take whole, the
    mend leaves it part of the share: its rounds raise the bound on the contiguous model even when they
    do not settle. On a large one it gives up when its first neighbourhoods all fail: the flips then have
    the time (3,142 counties x 100 reps, 43 split: the mend's 106 s accepted no neighbourhood)."""
    share = MEND_SHARE if st.exact else EXACT_SHARE
    st.last_plan = st.search.mend(start_plan, st.start + share * st.time_limit, give_up=not st.exact)
    if not lns.count_split(st.adj, st.last_plan, st.centre):
        st.best = st.last_plan
        st.offer(st.best)


def _flips(st: _Stage) -> None:
    """No connected plan yet: the flip search from connected territories, then, where its plan is
    connected but out of band, the flow model on the violation (maps it fits) and the neighbourhood
    MIPs around the territories out of band; a plan brought within the bands has its travel cut."""
    spec, spec_c, adj, centre, progress = st.spec, st.spec_c, st.adj, st.centre, st.progress
    deadline, seed, near = st.deadline, st.seed, st.near
    # a map the flow model fits: the flow model on the violation can bring the flips' plan within its bands
    elastic = (
        st.exact
        and contiguous_flow.fits_beside(adj, spec.problem.n_reps, st.backend)
        and bool((centre >= 0).all())
    )
    if st.flow is not None and st.flow.wants_core():
        _yield_to_flow(st)
        if st.best is not None or st.done():
            return
    now = time.perf_counter()
    st.flip_ran = True
    progress("contiguity: flip search from connected territories")
    # it stops when the flow model settles the question (a tiny map's proof comes in a second)
    best = flip_plan(spec_c, adj, centre, now + FLIP_SHARE * (deadline - now), seed, stop=st.done, near=near)
    stalled = best is None  # the flips ended out of band: a plan brought within after has its travel cut
    if best is None and near and elastic and not st.done() and (now := time.perf_counter()) < deadline - 1.0:
        # a map the flow model fits: the least violation of connected plans from the flips' plan, first
        # (78 St Louis counties x 5 reps: after the neighbourhood MIPs' share it found no plan in 60,
        # 90 or 120 s, first it found one each time; where those MIPs succeed they take a second)
        until = now + ELASTIC_SHARE * (deadline - now)
        best = _elastic_from(spec_c, adj, centre, st.backend, near, until, seed, st.threads, progress)
    miss = int((repair.band_excess(spec_c, near[0]) > 0).sum()) if near else 0
    if best is None and near and not miss:
        # within every band, but another row broken: the neighbourhood MIPs below mend bands only
        # (QA76: "has 0 territories out of band: rebalancing", and nothing to rebalance)
        broken = _broken_rows(spec_c, near[0])
        progress(f"contiguity: the flips' connected plan meets every band but not {broken}")
    if best is None and miss and not st.done() and (now := time.perf_counter()) < deadline - 1.0:
        # connected, a few territories just outside their bands: neighbourhood MIPs around them, with
        # the share of the time the cut loop would have (all of it on a model too large for the loop)
        progress(f"contiguity: the flips' connected plan has {miss} territories out of band: rebalancing")
        best = st.search.rebalance(near[0], now + (REBALANCE_SHARE if st.exact else 1.0) * (deadline - now))
    if stalled and best is not None:  # brought within the bands by either: the flips shorten its travel
        shorter = cost_flips(spec_c, adj, centre, best, deadline, seed)
        progress(
            f"contiguity: every band met; travel shortened by the flips from "
            f"{lns.objective(spec, best):,.1f} to {lns.objective(spec, shorter):,.1f}"
        )
        best = shorter
    if best is not None:
        st.best, st.flipped = best, True
        progress(
            f"contiguity: connected plan found by the flip search: objective {lns.objective(spec, best):,.1f}"
        )
        st.offer(best)


def _yield_to_flow(st: _Stage) -> None:
    """No connected plan yet, past the flow model's switch: this thread gives its core to the flow
    model's phase without objective (``PhasedFlow.take_core``) for the flips' share of the time, and takes
    its connected plan; the flips follow when it has neither a plan nor a proof by then. On two cores
    the search's heuristics had kept that phase from starting, or run with it and the costed phase on
    two cores (each at two thirds of one: QA102 F1, 78 Thai provinces x 8 reps, a budget, exit 3 at
    30 s where the costed phase alone proves in 11-23 s), and they find no plan where none exists
    (Virginia's 136 units x 8 reps: the phase without objective proves it in 12.9 s alone)."""
    flow = st.flow
    assert flow is not None
    now = time.perf_counter()
    until = now + FLIP_SHARE * (st.deadline - now)
    st.progress("contiguity: no connected plan yet: the flow model without objective takes this core")
    flow.take_core()
    while time.perf_counter() < until and not st.done() and not flow.has_plan():
        if not flow.feasibility_running() and not flow.wants_core():
            # it ended: its plan (``found``) is set as the costed phase starts again from it
            grace = time.perf_counter() + 0.5
            while flow.found is None and flow.running() and time.perf_counter() < grace:
                time.sleep(0.02)
            break
        time.sleep(0.05)
    plan = flow.found
    if plan is not None and repair.feasible(st.spec_c, plan) and not lns.count_split(st.adj, plan, st.centre):
        st.best = plan
        st.progress(
            f"contiguity: connected plan found by the flow model without objective: objective "
            f"{lns.objective(st.spec, plan):,.1f}"
        )


def _cut_deadline(st: _Stage, *, from_start: bool) -> float:
    """The end of the share of the whole-model stage after the mend and the flips: ``EXACT_SHARE`` of the
    time with a start plan, all of it without; at least that share of what the flips left."""
    cut_deadline = st.start + (EXACT_SHARE * st.time_limit if from_start else st.time_limit)
    if st.flip_ran:  # the rounds keep their share of what the flips left (a proof on a tiny map needs them)
        now = time.perf_counter()
        cut_deadline = max(cut_deadline, now + EXACT_SHARE * (st.deadline - now))
    return cut_deadline


def _flow_twin(st: _Stage, *, from_start: bool) -> bool:
    """On a map the exact flow model fits (it runs beside): a second copy of it with another seed in
    the cut loop's share of the time, in place of the loop (to the end when it has a connected plan by
    then: the neighbourhood search after it would only polish), the first to settle (a proven optimum,
    or no connected plan) ending both. Both copies answer the same question exactly, and which one's path
    reaches it first is HiGHS's luck (QA82 F1: 78 St Louis counties x 5 reps at +-5%, the flow model with
    seed 0 stuck at 12,762.2 for 12 s where seeds 1, 2 and 3 proved 12,517.1 in 4.6 to 8.8 s, and plain
    PuLP + HiGHS in 4.5 s); the cut loop's rounds are a relaxation of the same model. Returns whether the
    twin ran. It takes no plan of the search: a plan handed at its root would turn off HiGHS's own root
    heuristics (QA76 F3), the copy beside has them."""
    if st.flow is None or not st.exact or st.done():
        return False
    cut_deadline = _cut_deadline(st, from_start=from_start)
    if cut_deadline - time.perf_counter() <= background.GRACE:
        return False
    twin = contiguous_flow.start_phased(
        st.spec_c,
        st.adj,
        contiguous_flow.territory_parts(st.centre),
        st.backend,
        deadline=st.deadline - background.GRACE,
        gap=st.gap,
        seed=st.seed + 1,
    )
    if twin is None:
        return False
    st.progress(f"contiguity: a second copy of the exact flow model (seed {st.seed + 1}) races the first")
    while twin.running() and not st.done() and time.perf_counter() < cut_deadline:
        time.sleep(0.05)
    if twin.has_plan():  # both copies have the rest of the time (the search would only polish)
        while twin.running() and not st.done() and time.perf_counter() < st.deadline - background.GRACE:
            time.sleep(0.05)
    merged = contiguous_flow.merge(twin, st.spec, st.best, st.lower, st.proven, stop=True)
    if merged.infeasible:
        st.twin_infeasible = True
        return True
    st.lower = merged.lower
    if merged.from_flow and merged.best is not None:
        st.best, st.flipped, st.from_twin = merged.best, False, True
        st.offer(merged.best)
    if merged.proven:
        st.proven = st.settled = True
    return True


def _cut_loop(st: _Stage, *, from_start: bool) -> None:
    """The whole-model cut loop (``exact``): the MIP over every allowed pair with the cuts so far, warm
    from the best connected plan, its pieces separated, until a round's plan is connected (settled,
    proven when at the run's gap) or its share of the time is over; "infeasible" from a round is a proof
    that no connected plan exists."""
    spec, spec_c, adj, centre, gap = st.spec, st.spec_c, st.adj, st.centre, st.gap
    cut_deadline = _cut_deadline(st, from_start=from_start)
    col_unit, col_rep = np.nonzero(spec_c.allowed)
    round_gap = max(gap, ROUND_GAP)  # loose first: a round is a relaxation, its cuts and bound hold
    tight_from = cut_deadline - TIGHT_SHARE * max(0.0, cut_deadline - time.perf_counter())
    while st.exact and time.perf_counter() < cut_deadline - 0.2 and not st.done():
        st.rounds += 1
        if time.perf_counter() >= tight_from:  # the last rounds at the run's gap: the strongest bound
            round_gap = gap
        plan, out = lns.solve_mip(
            spec_c, col_unit, col_rep, st.pool.cuts, st.backend,
            time_limit=cut_deadline - time.perf_counter(), gap=round_gap, seed=st.seed, threads=st.threads,
            warm=st.best, live=st.cancelled_by_flow,
        )  # fmt: skip
        if plan is None:
            # every cut holds for any connected plan holding the centres; over every allowed pair, HiGHS's
            # "infeasible" proves that none exists (QA9 O6: 6 accounts, exit 3 at 1.8 s of 5)
            st.cut_infeasible = out.status is SolveStatus.INFEASIBLE
            break
        new = st.pool.add(separate(adj, plan, centre))
        if out.bound is not None:  # the cuts are valid: a bound on the contiguous model
            st.lower = max(st.lower, float(out.bound))
        log.debug(
            "cut round %d (gap %g): %s, bound %s, %d new cuts",
            st.rounds,
            round_gap,
            out.status,
            out.bound,
            len(new),
        )
        if not new:
            if st.best is None or lns.objective(spec, plan) < lns.objective(spec, st.best):
                st.best, st.flipped = plan, False
                st.offer(plan)
            if round_gap > gap:  # connected within the loose gap: the run's gap, warm-started from it
                round_gap = gap
                continue
            st.proven, st.settled = out.status.name == "OPTIMAL", True
            break
        if st.last_plan is None or lns.count_split(adj, plan, centre) <= lns.count_split(
            adj, st.last_plan, centre
        ):
            st.last_plan = plan  # the LNS's fallback start: the plan with fewest stray pieces
        # the round's plan is a relaxation's, in pieces, at the round's loose gap: its objective may lie
        # far from the stage's plan; the pool also holds the neighbourhood search's cuts (QA26: "round 1
        # ... 80 cuts added (122 in all)" beside an objective 2.3x the plan's)
        st.progress(
            f"contiguity round {st.rounds}: its plan in pieces, objective {lns.objective(spec, plan):,.1f}; "
            f"{len(new)} cuts added ({len(st.pool.cuts)} in the pool)"
        )
    if st.cut_infeasible:
        st.progress(
            f"contiguity: the cut loop's model is infeasible: no plan of connected territories"
            f"{home_rule('territories')} exists"
        )


def _cut_bound(st: _Stage) -> None:
    """The LP with the cut loop's cuts (column generation): a bound on the contiguous model."""
    if not (st.exact and st.pool.cuts and time.perf_counter() < st.deadline and not st.done()):
        return
    if st.proven or st.twin_infeasible:  # settled: no bound to raise
        return
    try:
        res = lpmod.solve_lp(
            st.spec_c,
            st.backend,
            lpmod.initial_candidates(st.spec_c, 8),
            deadline=st.deadline,
            seed=st.seed,
            threads=st.threads,
            cuts=st.pool.cuts,
        )
        if res.slack_total <= 1e-6:
            st.lower = max(st.lower, res.bound)
    except Exception as exc:  # noqa: BLE001 - the bound from the MIP rounds stays valid
        log.info("the LP with the contiguity cuts gave no bound: %s", exc)


def _lns_finish(st: _Stage) -> str:
    """Unless the cut loop settled it: the neighbourhood search from the plan with fewest stray pieces
    when no connected plan is known, then the polishing pass. Returns the method that made the plan.
    Not when the flow model has settled the question (QA102 F3: 6.7 s of neighbourhoods after its proof
    that no connected plan exists)."""
    if (
        st.settled
        or st.cut_infeasible
        or st.twin_infeasible
        or st.done()
        or (st.best is None and st.last_plan is None)
    ):
        return "flow" if st.from_twin else "cuts"
    if st.best is None:
        assert st.last_plan is not None
        st.progress("contiguity: neighbourhood search (LNS)")
        st.last_plan = st.search.mend(st.last_plan, st.deadline)
        st.best = None if lns.count_split(st.adj, st.last_plan, st.centre) else st.last_plan
    if st.best is None:
        return "cuts"
    st.offer(st.best)
    # no whole-model cut loop (a large model): neighbourhoods with order rows, one solve each
    st.best = st.search.polish(st.best, st.deadline, ordered=not st.exact)
    return "flips+lns" if st.flipped else "lns"
