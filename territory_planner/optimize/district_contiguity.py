"""Connected districts: each district's territories together form one piece of the map.

A district's membership of unit i is z[i, D] = sum_{j in D} x[i, j]. Every rep's home unit stays with
its rep (as for ``--contiguous``), so each district holds a known root unit (its first rep's home).
For a piece S of district D without that root, any connected district holding the root and a unit of S
also holds a unit of the boundary N(S):

    z[i, D] <= sum_{k in N(S)} z[k, D]        for i in S

These are ``formulation.Cut`` rows with ``reps`` = the district's reps; they pass through the same
formulation, column entries and Lagrangian terms as the per-territory cuts. Without a connected start
plan, a first one comes from the flow model with its objective dropped (or its proof that none exists)
or from the two levels of ``nested_districts`` (districts grown from their homes by the flip search,
then territories inside them: seconds), which run beside it for a share of its time and, again, after
it. The flow model is started once for the whole stage (``contiguous_flow.PhasedFlow``, feasibility
first): it takes up the objective from the first connected plan anybody finds, and goes on proving
meanwhile. ``solve`` then runs the cut loop
on the whole model (every allowed pair), warm-started from the best connected plan known, separating the
district pieces (and the territory pieces with ``--contiguous``) of each answer. The MIP's dual bound
with the cuts is a lower bound on the model with connected districts; when the loop does not settle in
the time given, the plan with the fewest stray pieces is kept and reported as not connected. Its rounds
stop at ``ROUND_GAP`` until one is connected (then at the run's gap): a round solved to 0.01% took 3 to
14 s on 48 US states x 8 reps, and 13 rounds in 120 s did not settle.

Beside the loop, on a model small enough (``contiguous_flow.FLOW_MAX_ARCS``) and with a second core,
HiGHS solves the exact model: the plan's rows with single-commodity flow rows per district (and per
territory with ``--contiguous``). Its plans are connected, its bound holds for connected districts, and
"infeasible" from it proves that no plan of connected districts (each holding its reps' home units)
meets the bands. Whichever settles first stops the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import background, contiguous_flow, nested_districts, nested_flips, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.contiguous import with_centres
from territory_planner.optimize.formulation import Cut
from territory_planner.optimize.hierarchy import labels_index
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, LiveMip, SolveStatus

ROUND_GAP = 0.005  # the cut loop's rounds stop at this gap until one is connected, then at the run's gap
# a first plan of connected districts: the flow model with no objective (waited for up to a share of the
# stage's time: its plan, or its proof that none exists; it goes on after), then, with neither, the two
# levels of ``nested_districts`` (a share of the time left then: 0.8, where 0.5 left Texas's 254
# counties in 3 designed districts 12.7 s of a 120-s run; its districts, grown again until their reps'
# territories fit, were connected in 2 of 2 offline runs given 25 s and 0 of 2 given 13 s)
FEASIBLE_SHARE = 0.4
TWO_LEVEL_SHARE = 0.8
# of the flow model's share: the two levels beside it, on the core it leaves idle. Their time counts when
# the flow model settles first (a proof that no plan of connected districts exists: 3-7 s on 48 US
# states x 8 reps in 3 districts), as they cannot be stopped
BESIDE_SHARE = 0.25
WITHIN_SHARE = 0.3  # of the time left then: its territories re-solved inside its districts
# a cut round's plan with split districts, mended (``_mend``): of the time left then. QA92 F1: on 402
# German Kreise x 12 reps in 3 districts at 40 s under load, the rounds' plans (533,836 with 6 stray
# units) stayed unused while the run kept the two levels' 551,729 (3.6% above plain's flow model);
# mended, 534,619.6 (the flip search 0.05 s, the territories inside the districts 2.4 s unloaded, more
# than 0.2 of the time left gave them under load)
MEND_SHARE = 0.4
MEND_PASSES = 5  # handing a stray piece to a neighbour may leave another one stray: this many passes
# of the mend's time: the flip search that brings its districts within their bands (0.05 s on Germany's;
# it stops there, and searches to this deadline only for districts out of reach)
MEND_FLIP_SHARE = 0.25


@dataclass(frozen=True)
class DistrictResult:
    unit_rep: np.ndarray
    pieces: dict[str, int]  # per district
    lower_bound: float
    proven_optimal: bool
    rounds: int
    cuts: int
    seconds: float
    infeasible: bool = False  # the exact flow model is proven infeasible: no plan of connected districts
    method: str = "cuts"  # "cuts" (the cut loop settled or stopped) | "flow" (the exact model's plan)
    # why the two levels (``nested_districts``) gave no plan, when they were tried and did not (their
    # "districts connected" progress line is of the districts as parts of the map, before any territory)
    two_levels: str = ""


def district_pieces(adj: Adjacency, unit_rep: np.ndarray, of: np.ndarray, n_districts: int) -> np.ndarray:
    """(D,) connected pieces of each district (reps without a district are left out)."""
    label = np.where(of[unit_rep] >= 0, of[unit_rep], n_districts)
    return contiguity.count_pieces(adj, label, n_districts + 1)[:n_districts]


def separate(
    adj: Adjacency, unit_rep: np.ndarray, of: np.ndarray, root: np.ndarray, members: list[tuple[int, ...]]
) -> list[Cut]:
    """Cuts for every piece of a district that does not hold its root unit."""
    n_d = len(members)
    label = np.where(of[unit_rep] >= 0, of[unit_rep], n_d)
    out: list[Cut] = []
    for d, piece in contiguity.stray_pieces(adj, label, n_d + 1, np.append(root, -1)):
        if d >= n_d:
            continue
        nb = tuple(int(k) for k in contiguity.boundary(adj, piece))
        out.extend(Cut(members[d][0], int(i), nb, members[d]) for i in piece.tolist())
    return out


def _flow_first(flow: contiguous_flow.PhasedFlow, until: float) -> tuple[np.ndarray | None, bool]:
    """(the connected plan of the flow model's feasibility phase, or None; whether none exists, proven),
    waiting for either until ``until`` while the model runs. Without objective any plan is optimal, so
    HiGHS stops at its first: with the objective, HiGHS found no plan in 110 s on 48 US states x 8 reps in
    3 districts (two measures, +-15% / +-40%), and the cut loop none in 120 s; without it, one in 6 s."""
    while flow.found is None and flow.running() and time.perf_counter() < until:
        time.sleep(0.05)
    res = flow.result
    proven = not flow.running() and res is not None and res.status is SolveStatus.INFEASIBLE
    return flow.found, proven and res is not None and res.unit_rep is None


def _two_level_start(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    centre: np.ndarray,
    start_plan: np.ndarray,
    connected: Callable[[np.ndarray], bool],
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    progress: Callable[[str], None],
) -> tuple[np.ndarray | None, str]:
    """A first plan of connected districts by the two levels of ``nested_districts`` (districts grown
    from their homes by the flip search, then territories inside them), or None. It meets every row of
    the model and is ``connected``: the cut loop and the exact flow model then start from it. On tokyo's
    262 municipalities x 10 reps in 2 designed districts (potential +-10%), the flow model without
    objective found no plan in 18 s and the cut loop none in 43 s; the two levels found one in 1.6-5 s.
    They run beside the flow model for ``BESIDE_SHARE`` of its time only, and again after it: its proof
    settles a grouping that cannot be connected in seconds (48 US states x 8 reps in 3 districts: 3-7 s
    per grouping), where the flip search would search until its time is up. With no plan, the reason
    (``NestedResult.reason``, or why the plan was not taken)."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None, "no time left for them"
    res = nested_districts.solve(
        spec, adj, backend, centre, start_plan, time_limit=left, gap=gap, seed=seed, threads=threads,
        territories_too=territories_too, progress=progress,
    )  # fmt: skip
    plan = res.unit_rep
    if plan is None:
        return None, res.reason
    if not repair.feasible(spec, plan):
        return None, "their plan breaks a row of the model"
    if not connected(plan):
        return None, "their plan leaves a district in pieces or a home unit with another rep"
    return plan, ""


def _mend(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    centre: np.ndarray,
    plan: np.ndarray,
    of: np.ndarray,
    names: list[str],
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
) -> np.ndarray | None:
    """A cut round's plan with split districts made a plan of connected districts, or None. The round's
    plan is a relaxation's optimum with a few stray units, so the districts it draws are nearly the best:
    each piece of a district without its root unit goes to the neighbouring district it borders most
    (again, up to ``MEND_PASSES`` times, when that leaves another piece stray); the flip search then
    brings those districts within their bands, each one piece (the stray pieces are often heavy: a city
    enclave), and each district's territories are re-solved inside it (``nested_districts``). None when
    a rep has no district, the districts stay out of their bands, or a row cannot be met inside them."""
    n_d = len(names)
    if (of < 0).any():
        return None
    home = centre
    root = np.array([home[np.flatnonzero(of == d)[0]] for d in range(n_d)], dtype=np.int64)
    label = of[plan].copy()
    for _ in range(MEND_PASSES):
        strays = contiguity.stray_pieces(adj, label, n_d, root)
        if not strays:
            break
        for d, piece in strays:
            near = label[contiguity.boundary(adj, piece)]
            near = near[near != d]
            if len(near):
                label[piece] = int(np.bincount(near).argmax())
    if contiguity.stray_pieces(adj, label, n_d, root) or (label[home[home >= 0]] != of[home >= 0]).any():
        return None
    spec1 = nested_districts.district_level(spec, of, names, home)
    until = time.perf_counter() + MEND_FLIP_SHARE * (deadline - time.perf_counter())
    unit_district, in_band = nested_flips.districts(spec1, adj, home, of, until, seed, start=label)
    if unit_district is None or not in_band:
        return None
    out, _ = nested_districts._within_fixed_districts(
        spec, adj, backend, home, plan, of, unit_district, deadline,
        max(gap, nested_districts.BAND_MIP_GAP), seed, threads, territories_too,
    )  # fmt: skip
    if out is None or not repair.feasible(spec, out):
        return None
    return out


def _within_districts(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    centre: np.ndarray,
    plan: np.ndarray,
    of: np.ndarray,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
) -> np.ndarray:
    """The objective-free plan has connected districts but territories drawn anyhow: each district's
    territories re-solved by the band MIP with its units kept in it (``nested_districts``), so the
    districts stay as they are. The better plan of the two (it must meet every row, and keep its
    territories connected with ``territories_too``)."""
    out, _ = nested_districts._within_fixed_districts(
        spec, adj, backend, centre, plan, of, of[plan], deadline,
        max(gap, nested_districts.BAND_MIP_GAP), seed, threads, territories_too,
    )  # fmt: skip
    if out is None or not repair.feasible(spec, out) or lns.objective(spec, out) >= lns.objective(spec, plan):
        return plan
    if territories_too and lns.separate(adj, out, centre):
        return plan
    return out


@dataclass
class _Stage:
    """The district stage's fixed inputs, and the tests of a plan against its districts."""

    spec: ModelSpec
    spec_c: ModelSpec  # with each rep's centre kept (``with_centres``): the models the stage solves
    adj: Adjacency
    backend: Backend
    centre: np.ndarray
    start_plan: np.ndarray
    of: np.ndarray  # each rep's district index
    names: list[str]  # the districts' names
    root: np.ndarray  # each district's root unit (its first rep's home)
    members: list[tuple[int, ...]]  # each district's reps
    gap: float
    seed: int
    threads: int | None
    territories_too: bool
    progress: Callable[[str], None]

    def stray(self, plan: np.ndarray) -> list[Cut]:
        """The cuts of the plan's stray district pieces (and territory pieces with ``territories_too``)."""
        cuts = separate(self.adj, plan, self.of, self.root, self.members)
        if self.territories_too:
            cuts += lns.separate(self.adj, plan, self.centre)
        return cuts

    def connected(self, plan: np.ndarray) -> bool:
        """Every district (and territory with ``territories_too``) one piece, each rep with its home unit."""
        homes = self.centre >= 0
        return not self.stray(plan) and bool((plan[self.centre[homes]] == np.flatnonzero(homes)).all())

    def two_levels(
        self, plan: np.ndarray, deadline: float, progress: Callable[[str], None]
    ) -> tuple[np.ndarray | None, str]:
        return _two_level_start(
            self.spec, self.adj, self.backend, self.centre, plan, self.connected, deadline, self.gap,
            self.seed, self.threads, self.territories_too, progress,
        )  # fmt: skip


@dataclass
class _Search:
    """What the stage has found so far, passed between its steps."""

    best: np.ndarray | None  # the best connected plan
    last: np.ndarray  # the last plan seen (kept with its pieces when none is connected)
    lower: float  # the bound for connected districts
    deadline: float  # the stage's; moved to its start once nothing is left to do
    proven: bool = False  # ``best`` proven optimal
    infeasible: bool = False  # proven: no plan of connected districts
    rounds: int = 0
    two_levels: str = ""  # why the two levels gave no plan, when they were tried


def solve(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    centre: np.ndarray,
    start_plan: np.ndarray,
    *,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    bound: float,
    progress: Callable[[str], None] = lambda _m: None,
) -> DistrictResult:
    t0 = time.perf_counter()
    of, names = labels_index(spec.problem.districts)
    members = [tuple(np.flatnonzero(of == d).tolist()) for d in range(len(names))]
    root = np.array([centre[m[0]] for m in members], dtype=np.int64)
    st = _Stage(
        spec, with_centres(spec, centre), adj, backend, centre, start_plan, of, names, root, members, gap,
        seed, threads, territories_too, progress,
    )  # fmt: skip
    run = _Search(None, start_plan, bound, t0 + time_limit)
    if st.connected(start_plan):
        run.best = start_plan
        value = lns.objective(spec, start_plan)
        if np.isfinite(bound) and value - bound <= gap * max(abs(value), 1e-9):
            run.deadline = t0  # connected already, and within --gap of the bound: nothing left to do
    parts: list[contiguous_flow.Part] = [
        (np.asarray(m, dtype=np.int64), int(r)) for m, r in zip(members, root.tolist(), strict=True)
    ]
    if territories_too:
        parts += contiguous_flow.territory_parts(centre)
    flow_deadline = run.deadline - background.GRACE
    # the exact model beside for the whole stage: with no connected plan yet, its feasibility phase first
    # (a plan or the proof that none exists), the objective once anybody has a plan (QA92 F3: stopped at
    # a share of the stage and restarted, it proved nothing in 80 s where it needs 26 s alone)
    flow = (
        contiguous_flow.start_phased(
            st.spec_c,
            adj,
            parts,
            backend,
            deadline=flow_deadline,
            gap=gap,
            seed=seed,
            feasibility_first=run.best is None,
        )
        if flow_deadline - time.perf_counter() > background.GRACE
        else None
    )
    _first_connected(st, run, flow, t0, time_limit)
    pool = _cut_rounds(st, run, flow)
    method = "cuts"
    if flow is not None:
        # stopped now when the cut loop proved its plan optimal or that none exists, or the time is up
        stop = run.proven or run.infeasible or time.perf_counter() >= flow_deadline
        merged = contiguous_flow.merge(flow, spec, run.best, run.lower, run.proven, stop=stop)
        run.infeasible = run.infeasible or merged.infeasible
        run.best, run.lower, run.proven = merged.best, merged.lower, merged.proven
        if merged.from_flow:
            method = "flow"
    final = run.best if run.best is not None else run.last
    pieces = district_pieces(adj, final, of, len(names))
    return DistrictResult(
        final,
        {n: int(k) for n, k in zip(names, pieces.tolist(), strict=True)},
        run.lower,
        run.proven and run.best is not None,
        run.rounds,
        len(pool.cuts),
        time.perf_counter() - t0,
        run.infeasible,
        method,
        run.two_levels if run.best is None else "",
    )


def _first_connected(
    st: _Stage, run: _Search, flow: contiguous_flow.PhasedFlow | None, t0: float, time_limit: float
) -> None:
    """With no connected plan yet: the flow model's feasibility phase with the two levels beside it for a
    share of its time, then the two levels alone while it goes on; a plan found is offered to the flow
    model. Sets ``run.best``, or ``run.infeasible`` (and ends the stage) on the flow model's proof."""
    progress = st.progress
    if run.best is None and run.deadline - t0 > 2 * background.GRACE:
        if flow is not None:
            # this core is idle while HiGHS solves: the two levels try meanwhile, for a share of its time
            # (QA72 F0c: 88 Ohio counties x 7 reps in 3 districts, the flow model found no plan in its
            # 10 s where the two levels, after it, found one in 0.1 s)
            # QA10 O1: the stage said nothing for 154 s; each step now says what it is doing
            progress("district contiguity: a plan of connected districts (the flow model without objective, "
                     "the two levels beside it)")  # fmt: skip
            until = t0 + FEASIBLE_SHARE * time_limit
            beside = time.perf_counter() + BESIDE_SHARE * (until - time.perf_counter())
            run.best, run.two_levels = st.two_levels(st.start_plan, beside, lambda _m: None)
            if run.best is not None:
                flow.offer(run.best)
                progress("district contiguity (two levels beside the flow model): connected districts found")
            else:
                found, run.infeasible = _flow_first(flow, until)
                if run.infeasible:
                    run.deadline = t0  # proven: no plan of connected districts; nothing left to search for
                elif found is not None:
                    progress(
                        "district contiguity: connected districts found; territories re-solved inside them"
                    )
                    until = time.perf_counter() + WITHIN_SHARE * (run.deadline - time.perf_counter())
                    run.best = _within_districts(
                        st.spec, st.adj, st.backend, st.centre, found, st.of, until, st.gap, st.seed,
                        st.threads, st.territories_too,
                    )  # fmt: skip
                    flow.offer(run.best)
        else:
            progress("district contiguity: a plan of connected districts (the flow model without objective)")
    if run.best is None and not run.infeasible and run.deadline - time.perf_counter() > 2 * background.GRACE:
        # neither a plan nor a proof from the flow model yet: the two levels, districts first, while it
        # goes on
        progress("district contiguity: a plan of connected districts, districts first (two levels)")
        until = time.perf_counter() + TWO_LEVEL_SHARE * (run.deadline - time.perf_counter())
        run.best, run.two_levels = st.two_levels(st.start_plan, until, progress)
        if run.best is None and flow is not None:
            run.best, run.infeasible = _flow_first(flow, time.perf_counter())
        if (
            run.best is None and not run.infeasible
        ):  # QA92 F2: their "districts connected" line read as a plan
            progress(f"district contiguity: the two levels found no plan ({run.two_levels})")
        elif run.best is not None and flow is not None:
            flow.offer(run.best)


def _cut_rounds(st: _Stage, run: _Search, flow: contiguous_flow.PhasedFlow | None) -> lns.CutPool:
    """The cut loop on the whole model, warm-started from the best connected plan, until a round's plan is
    connected at the run's gap, a proof, the flow model settles or the time is up; a round's plan with
    split districts is mended into connected ones until a mend fails. Returns the cuts found."""
    spec, progress, gap = st.spec, st.progress, st.gap
    spec_c = st.spec_c
    col_unit, col_rep = np.nonzero(spec_c.allowed)
    pool = lns.CutPool()
    cancelled = None
    if flow is not None:
        cancelled = LiveMip()
        cancelled.cancel = flow.proved  # a round's MIP stops when the flow model has proven the answer
    round_gap = max(gap, ROUND_GAP)  # loose first: a round is a relaxation, its cuts and bound hold
    # a round's plan with split districts is mended (``_mend``); after a mend fails, only a plan with
    # fewer stray units than the one it failed on
    mend_below: int | None = None
    while run.best is None or not run.proven:
        if (
            run.infeasible
            or time.perf_counter() > run.deadline - 0.5
            or (flow is not None and flow.settled())
        ):
            break
        run.rounds += 1
        plan, out = lns.solve_mip(
            spec_c, col_unit, col_rep, pool.cuts, st.backend,
            time_limit=run.deadline - time.perf_counter(), gap=round_gap, seed=st.seed, threads=st.threads,
            warm=run.best, live=cancelled,
        )  # fmt: skip
        if flow is not None and flow.proved.is_set():
            break  # the round was cancelled by the flow model's proof: its answer is no answer
        if plan is None:
            # every cut holds for any plan of connected districts: over every allowed pair, none is left
            run.infeasible = out.status is SolveStatus.INFEASIBLE
            break
        if out.bound is not None:
            run.lower = max(run.lower, float(out.bound))
        strays = st.stray(plan)
        new = pool.add(strays)
        progress(
            f"district contiguity round {run.rounds}: objective {lns.objective(spec, plan):,.1f}, "
            + (f"{len(new)} cuts added ({len(pool.cuts)} in the pool)" if new else "every district one piece")
        )
        worth = run.best is None or lns.objective(spec, plan) < (1.0 - gap) * lns.objective(spec, run.best)
        mend = mend_below is None or len(strays) < mend_below
        if new and mend and worth and time.perf_counter() < run.deadline - 1.0:
            until = time.perf_counter() + MEND_SHARE * (run.deadline - time.perf_counter())
            mended = _mend(
                spec, st.adj, st.backend, st.centre, plan, st.of, st.names, until, gap, st.seed, st.threads,
                st.territories_too,
            )  # fmt: skip
            # a mend that fails ends them for plans as far from connected: their districts were out of
            # reach, and the time is the cut loop's and the flow model's (designed districts try grouping
            # after grouping here); a later round's plan with fewer stray units is mended (QA104 F1: 97
            # French departements x 10 reps in 3 districts at 40 s, round 1's plan with 28 stray units
            # failed, rounds 3, 4 and 6 had 3 each and stayed unused, and the run wrote the two levels'
            # 1,158,697 where plain's flow model has 1,098,746)
            if mended is None or not st.connected(mended):
                mend_below = len(strays)
            elif run.best is None or lns.objective(spec, mended) < lns.objective(spec, run.best):
                run.best = mended
                # a step of its own: "district contiguity round N" lines within a second are not printed
                # (QA95 F4: the mended plan that became the run's answer was never said)
                progress(f"district contiguity, round {run.rounds}'s plan mended: connected districts, "
                         f"objective {lns.objective(spec, run.best):,.1f}")  # fmt: skip
                if flow is not None:
                    flow.offer(run.best)
        if not new:
            if run.best is None or lns.objective(spec, plan) <= lns.objective(spec, run.best):
                run.best = plan
                if flow is not None:
                    flow.offer(run.best)
            if round_gap > gap:  # connected within the loose gap: the run's gap, warm-started from it
                round_gap = gap
                continue
            run.proven = out.status.name == "OPTIMAL"
            break
        run.last = plan
    return pool
