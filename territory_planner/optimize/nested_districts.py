"""Connected districts on large maps, level by level: districts first, then territories inside them.

The whole-model district cut loop (``district_contiguity``) needs a MIP over every (unit, rep) pair:
on 3,100 counties and 100 reps that is 310,000 binaries per round, far too many. Here the plan is built
in two levels that each stay small:

1. **Districts as parts of the map.** A model with one column per (unit, district): the district's band
   (its rows ``district_min/max_*``, intersected with the sum of its reps' bands) as the band, the
   least cost of the unit to any of the district's reps as the cost, every rep's home unit fixed to
   its district. The flip search (``optimize.flip_search``, a connectivity-keeping local search) grows
   the districts from their homes and moves boundary units until every band holds, each district one
   piece after every move (``nested_flips.districts``). (The MIP route, pipeline then the cut loop on
   this 31,000-pair model, did not settle in 160 s on 3,100 counties and was dropped.)
2. **Territories, with the districts' bands and pieces kept.** Without ``--contiguous`` (territories
   free), the districts are first grown again until the balancing search finds every rep's territory
   within its band inside them (``_districts_by_feedback``: a district can meet its own band and still
   leave one of its reps none), then the pipeline on the model with each unit kept in its district and
   each home with its rep (``_within_by_pipeline``), at the run's gap; the flip search below only if it
   finds no plan.
   With ``--contiguous``: one flip search over the whole map
   whose parts are the reps and whose groups are the districts (``nested_flips.territories``): each
   district's territories start as the graph Voronoi of its reps' homes inside it; units then move
   between territories of a district or, when both districts' bands and pieces allow it, between
   districts, until every territory and district band holds; the neighbourhood search's polishing
   pass then lowers the cost, units only moving inside their district, every territory one piece.
   If the flips do not get there but step 1 met the district bands, the districts are kept: each
   territories come from that pipeline inside the districts (every row of the full model, no
   contiguity; seconds on 3,100 counties, where a band MIP per district had no plan for a district of
   16 reps in 20 s), then with ``--contiguous`` the
   neighbourhood search mends as many split territories as the time allows. The plan then has
   connected districts within every band, and the summary counts the territories still split.

The plan meets every constraint of the full model (checked with ``repair.feasible``: the flip search
does not see a disruption budget or region bands, so a plan that breaks one is not returned), the
district contiguity and, with ``--contiguous``, as much territory contiguity as was reached. When the
districts do not reach their bands connected, no plan comes back and the reason gives how far the best
connected plan was from target.
Both levels restrict the model, so no bound comes from them: the bound reported stays the one given
(the LP of the full model without contiguity), a valid lower bound whose gap also holds what the two
levels and contiguity cost.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_planner.errors import InfeasibleError, SolverError
from territory_planner.geo import contiguity
from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import construct, contiguous, nested_flips, pipeline, repair
from territory_planner.optimize import contiguous_lns as lns
from territory_planner.optimize.hierarchy import GroupBands, labels_index, rep_loads
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

LEVEL1_SHARE = 0.3  # of the time: connected districts within their bands (flip search)
#: How the two levels' reason begins when they built no start of connected districts holding their homes
#: (``design_flow`` then tries another grouping).
NO_START = "no connected start"
JOINT_SHARE = 0.5  # of the time left: connected territories and districts within their bands
BAND_MIP_GAP = 0.01  # the solves of territories inside districts stop there: the time left mends them
MIP_SHARE = 0.6  # of the time left then: the territories inside the districts (the rest: mending them)
PIPELINE_CANDIDATES = 8  # the pipeline's candidate reps per unit (``--candidates``' default)
WITHIN_SHARE = 0.7  # territories need not be connected: the pipeline inside the districts (the rest: flips)
# of the time left: districts grown again with their bands moved by what their reps' territories lacked
# (``_districts_by_feedback``), each round's balancing search inside them given FEEDBACK_SEARCH seconds
FEEDBACK_SHARE = 0.5
FEEDBACK_SEARCH = 0.8
FEEDBACK_FLIPS = 2.0  # seconds for level 1's flip search with the moved bands, each round
DISTRICT_ATTEMPTS = (False, True)  # per district: the cut loop, then order rows (one solve)


@dataclass(frozen=True)
class NestedResult:
    unit_rep: np.ndarray | None  # None when a level found no plan in time (``reason`` says which)
    reason: str
    district_pieces: np.ndarray  # (D,)
    territory_pieces: np.ndarray  # (p,)
    solves: int
    seconds: float


def _district_bands(spec: ModelSpec, of: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, D) bands of each district: its rows' band within the sum of its reps' bands."""
    member = np.zeros((n, spec.problem.n_reps))
    member[of, np.arange(len(of))] = 1.0
    lower, upper = spec.lower @ member.T, spec.upper @ member.T
    g = spec.groups
    if g is not None:
        for k, (level, name) in enumerate(zip(g.level, g.names, strict=True)):
            if level != "district":
                continue
            d = int(of[np.flatnonzero(g.member[k])[0]])
            lower[:, d] = np.maximum(lower[:, d], g.lower[:, k])
            upper[:, d] = np.minimum(upper[:, d], g.upper[:, k])
            del name
    return lower, upper


def _region_groups(spec: ModelSpec, of: np.ndarray, n: int) -> GroupBands | None:
    """The region rows of ``spec`` over districts (a district's region is its reps' region)."""
    g = spec.groups
    if g is None or "region" not in g.levels:
        return None
    keep = [k for k, lv in enumerate(g.level) if lv == "region"]
    row = g.group_of[g.levels.index("region")]
    of_district = np.full(n, -1, dtype=np.int64)
    of_district[of] = row
    first = min(keep)  # region groups are numbered after the district groups
    given = g.as_given()
    return GroupBands(
        ("region",),
        np.where(of_district >= 0, of_district - first, -1)[None, :],
        tuple(g.level[k] for k in keep),
        tuple(g.names[k] for k in keep),
        g.target[:, keep],
        g.lower[:, keep],
        g.upper[:, keep],
        given.lower[:, keep],
        given.upper[:, keep],
    )


def district_level(spec: ModelSpec, of: np.ndarray, names: list[str], home: np.ndarray) -> ModelSpec:
    """Level 1: the model whose "reps" are the districts (``of`` (p,) district of each rep, ``home``
    (p,) each rep's home unit, kept in its district)."""
    p, n = spec.problem, len(names)
    member = np.zeros((n, p.n_reps), dtype=bool)
    member[of, np.arange(p.n_reps)] = True
    allowed = (spec.allowed.astype(np.int64) @ member.T.astype(np.int64)) > 0
    cost = np.stack([np.where(spec.allowed[:, m], spec.cost[:, m], np.inf).min(axis=1) for m in member], 1)
    cost = np.where(allowed, cost, 0.0)
    stay = spec.stay @ member.T.astype(float)
    for j, u in enumerate(home.tolist()):
        if u >= 0:
            allowed[u] = False
            allowed[u, of[j]] = True
    lower, upper = _district_bands(spec, of, n)
    first = [int(np.flatnonzero(m)[0]) for m in member]
    problem = dataclasses.replace(
        p,
        acc_current=np.where(p.acc_current >= 0, of[np.maximum(p.acc_current, 0)], -1),
        acc_locked=np.where(p.acc_locked >= 0, of[np.maximum(p.acc_locked, 0)], -1),
        unit_locked=np.where(p.unit_locked >= 0, of[np.maximum(p.unit_locked, 0)], -1),
        allowed=allowed,
        rep_ids=np.array(names, dtype=str),
        rep_names=np.array(names, dtype=str),
        rep_regions=p.rep_regions[first],
        capacity=member.astype(float) @ p.capacity,
        home_lat=p.home_lat[first],
        home_lon=p.home_lon[first],
        rep_segments=tuple(
            frozenset().union(*(p.rep_segments[j] for j in np.flatnonzero(m))) for m in member
        ),
        target=p.target @ member.T.astype(float),
        rep_districts=None,
    )
    return ModelSpec(
        problem=problem,
        cost=cost,
        moved=stay.sum(axis=1, keepdims=True) - stay,
        stay=stay,
        held=member.astype(float) @ spec.held,
        disruption_price=spec.disruption_price,
        lower=lower,
        upper=upper,
        budget=spec.budget,  # moves between districts are a part of all moves: a relaxation
        rep_budget_share=None,  # per rep: kept by level 2
        min_accounts=None,
        max_accounts=None,
        allowed=allowed,
        groups=_region_groups(spec, of, n),
    )


def within_districts(spec: ModelSpec, of: np.ndarray, unit_district: np.ndarray) -> ModelSpec:
    """Level 2: the full model with each unit allowed only to the reps of its district."""
    return dataclasses.replace(spec, allowed=spec.allowed & (of[None, :] == unit_district[:, None]))


def _start_within(spec2: ModelSpec, plan: np.ndarray | None) -> np.ndarray:
    """Each unit with its rep in ``plan`` when allowed, else with its cheapest allowed rep."""
    cost = np.where(spec2.allowed, spec2.objective, np.inf)
    out = cost.argmin(axis=1)
    if plan is not None:
        ok = spec2.allowed[np.arange(len(plan)), plan]
        out[ok] = plan[ok]
    return out.astype(np.int64)


def solve(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    home: np.ndarray,
    start_plan: np.ndarray | None,
    *,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
    progress: Callable[[str], None] = lambda _m: None,
) -> NestedResult:
    """Connected districts (and with ``territories_too`` connected territories) by the two levels;
    ``home`` (p,) each rep's home unit (kept by its rep)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    p = spec.problem
    of, names = labels_index(p.districts)
    n = len(names)

    def result(plan: np.ndarray | None, reason: str, solves: int) -> NestedResult:
        ref = plan if plan is not None else (start_plan if start_plan is not None else home[:0])
        dp = np.zeros(n, np.int64)
        tp = np.zeros(p.n_reps, np.int64)
        if len(ref):
            dp = contiguity.count_pieces(adj, of[ref], n)
            tp = contiguity.count_pieces(adj, ref, p.n_reps)
        return NestedResult(plan, reason, dp, tp, solves, time.perf_counter() - t0)

    spec1 = district_level(spec, of, names, home)
    progress(f"districts first: {n} districts as parts of the map, flip search")
    unit_district, in_band = nested_flips.districts(
        spec1, adj, home, of, t0 + LEVEL1_SHARE * time_limit, seed, cost=spec.cost
    )
    if unit_district is None:
        # QA94 F3: "some home cannot be joined" read as a fact about the map; two constructions failed
        return result(
            None,
            f"{NO_START}: neither the graph Voronoi of the homes nor paths grown between them gave "
            "every district one piece holding its homes (a heuristic's failure, not a proof)",
            0,
        )
    # the districts as parts of the map, their totals only: no plan yet (QA92 F2: read as a plan of
    # connected districts, and none came)
    progress(
        f"districts as parts of the map connected"
        f"{' and within their bands' if in_band else ', not yet within their bands'} "
        f"in {time.perf_counter() - t0:.1f} s (no plan yet); now the territories inside them (districts "
        "may still trade units)"
    )
    pp = nested_flips.joint_problem(contiguous.with_centres(spec, home), adj, home, of, spec1)
    plan = best = None
    left = float("inf")
    solves = 0
    free_first = in_band and not territories_too
    if free_first:
        # territories need not be one piece: the whole pipeline on the model with each unit kept in its
        # district, before any flip search (which keeps every territory one piece, more than is asked);
        # first the districts are made to hold territories that can meet their bands
        until = time.perf_counter() + FEEDBACK_SHARE * (deadline - time.perf_counter())
        unit_district, start = _districts_by_feedback(spec, spec1, adj, home, of, unit_district, until, seed)
        progress("territories inside the connected districts (the model with each unit kept in its district)")
        until = time.perf_counter() + WITHIN_SHARE * (deadline - time.perf_counter())
        plan = _within_by_pipeline(spec, backend, home, of, unit_district, until, gap, seed, threads, start)
        if plan is None:
            plan = start
    if plan is None:
        joint_end = time.perf_counter() + JOINT_SHARE * (deadline - time.perf_counter())
        best, left = nested_flips.territories(pp, of, unit_district, joint_end, seed)
        plan = best if best is not None and left <= 0.0 else None
    if plan is None and in_band and not free_first:  # (not the same pipeline twice)
        # districts connected and within their bands: keep them; territories by the pipeline on the
        # model with each unit kept in its district, then as many made one piece as the time allows
        progress(f"the joint flip search left {left:.4f} band excess; territories inside the districts")
        until = time.perf_counter() + MIP_SHARE * (deadline - time.perf_counter())
        loose = max(gap, BAND_MIP_GAP)  # the time left mends territories
        plan = _within_by_pipeline(spec, backend, home, of, unit_district, until, loose, seed, threads)
        if plan is not None and territories_too:
            spec2 = contiguous.with_centres(within_districts(spec, of, unit_district), home)
            search = lns.Lns(spec2, adj, backend, home, lns.CutPool(), gap, seed, threads, progress)
            plan = search.mend(plan, deadline)
            solves += search.solves
    if plan is None:
        why = (
            "no connected territories within their bands inside the connected districts" if in_band
            else "the districts could not be brought within their bands connected"
        )  # fmt: skip
        if best is not None:
            t_off, d_off = nested_flips.off_target(pp, best)
            why += (
                f" (the best connected plan found is up to {100 * t_off:.1f}% from a territory's target "
                f"and {100 * d_off:.1f}% from a district's)"
            )
        return result(None, f"{why} in the time given", solves)
    progress(f"districts connected and every band held in {time.perf_counter() - t0:.1f} s")
    spec2 = contiguous.with_centres(within_districts(spec, of, of[plan]), home)
    whole = bool((contiguity.count_pieces(adj, plan, p.n_reps) <= 1).all())
    if territories_too and whole and time.perf_counter() < deadline - 1.0:
        search = lns.Lns(spec2, adj, backend, home, lns.CutPool(), gap, seed, threads, progress)
        plan = search.polish(plan, deadline)
        solves += search.solves
    if not repair.feasible(spec, plan):
        return result(None, "the connected plan breaks a row the flip search does not see (a disruption "
                      "budget or a region band)", solves)  # fmt: skip
    return result(plan, "", solves)


def _districts_by_feedback(
    spec: ModelSpec,
    spec1: ModelSpec,
    adj: Adjacency,
    home: np.ndarray,
    of: np.ndarray,
    unit_district: np.ndarray,
    deadline: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Connected districts whose reps' territories can meet their bands, and a plan inside them that
    meets every row of the model (None when no round found one: then the districts of the round that
    came nearest). Level 1 holds each district's totals within the sum of its reps' bands, which a
    district can meet while one of its reps cannot: on Texas's 254 counties (11 reps, 3 districts, both
    measures +-10%), Houston's rep holds Harris County (79.3M of a 74.3M-90.8M potential band) and needs
    workload from counties of little potential, which its district, grown around the Gulf, lacked (the
    model inside the districts was infeasible before solving).

    Each round: the balancing search inside the districts (``FEEDBACK_SEARCH`` seconds); what its best
    assignment leaves a rep short of (or over) in a measure moves its district's band that way, and
    level 1 grows the districts again with those bands. Two series of rounds take turns from the first
    bands: in one, a measure the rep meets also moves the other way, in target proportion (a rep over
    on potential with its workload met needs more workload per unit of potential); in the other it
    stays (a district short of potential that must take a unit with both measures: the strip of the
    test). Texas offline: a plan inside connected districts after 4.5-13.6 s, by either series."""
    if time.perf_counter() >= deadline:
        return unit_district, None
    first = _feedback_search(spec, unit_district, home, of, deadline)  # the same for both series
    best: tuple[float, np.ndarray] = (np.inf, unit_district)
    Round = tuple[ModelSpec, np.ndarray, bool, tuple[ModelSpec, np.ndarray, float] | None]
    series: list[Round] = [(spec1, unit_district, True, first), (spec1, unit_district, False, first)]
    while series and time.perf_counter() < deadline:
        bands, ud, opposite, searched = series.pop(0)
        spec2, plan, violation = searched or _feedback_search(spec, ud, home, of, deadline)
        if violation <= 0.0 and repair.feasible(spec, plan):
            return ud, plan
        if violation < best[0]:
            best = (violation, ud)
        moved = _moved_bands(spec, bands, spec2, plan, of, opposite)
        if moved is None:  # the moves crossed a band: no district map meets them
            continue
        until = min(deadline, time.perf_counter() + FEEDBACK_FLIPS)  # bands it cannot meet: not all the time
        grown, _ = nested_flips.districts(moved, adj, home, of, until, seed)
        if grown is not None:
            series.append((moved, grown, opposite, None))
    return best[1], None


def _feedback_search(
    spec: ModelSpec, ud: np.ndarray, home: np.ndarray, of: np.ndarray, deadline: float
) -> tuple[ModelSpec, np.ndarray, float]:
    """One round's balancing search inside the districts ``ud``: (the model inside them, the best
    assignment, its violation)."""
    spec2 = contiguous.with_centres(within_districts(spec, of, ud), home)
    plan, violation = construct.balance_search(
        spec2,
        construct.greedy_plan(spec2),
        construct.candidate_reps(spec2, PIPELINE_CANDIDATES),
        deadline=min(deadline, time.perf_counter() + FEEDBACK_SEARCH),
    )
    return spec2, plan, violation


def _moved_bands(
    spec: ModelSpec, spec1: ModelSpec, spec2: ModelSpec, plan: np.ndarray, of: np.ndarray, opposite: bool
) -> ModelSpec | None:
    """The district model ``spec1`` with each district's bands moved by what ``plan`` (inside the
    districts, model ``spec2``) leaves its reps short of or over; None when a band would cross."""
    p = spec.problem
    scale = p.target.sum(axis=1)  # (M,) measure totals, for moving a met measure's band in proportion
    load = rep_loads(p.unit_amount, plan, p.n_reps)
    lower, upper = spec1.lower.copy(), spec1.upper.copy()
    need = np.maximum(spec2.lower - load, 0.0) - np.maximum(load - spec2.upper, 0.0)  # (M, p)
    for r in np.flatnonzero((need != 0).any(axis=0)):
        d = of[r]
        lower[:, d] += np.maximum(need[:, r], 0.0)  # short of a measure: the district needs more
        upper[:, d] += np.minimum(need[:, r], 0.0)  # over: less
        if opposite:
            met = need[:, r] == 0
            push = float((need[~met, r] / np.maximum(scale[~met], 1e-12)).sum()) * scale[met]
            upper[met, d] -= np.maximum(push, 0.0)
            lower[met, d] -= np.minimum(push, 0.0)
    if (lower > upper).any():
        return None
    return dataclasses.replace(spec1, lower=lower, upper=upper)


def _within_by_pipeline(
    spec: ModelSpec,
    backend: Backend,
    home: np.ndarray,
    of: np.ndarray,
    unit_district: np.ndarray,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    start: np.ndarray | None = None,
) -> np.ndarray | None:
    """The pipeline's plan for the model with each unit kept in its district (``unit_district``) and
    each rep's home unit kept by it (from ``start`` when given, a plan inside those districts); None
    when it finds none in time. A proof that this restricted model is infeasible says nothing of the
    full model, so it is only a reason to return None.

    It replaced a band MIP per district: on 3,142 counties in 10 districts, the district of 16 reps had
    no plan from HiGHS in 20 s (one came at 120 s), where the pipeline's balancing search had every
    district's territories within their bands in 3 s."""
    spec2 = contiguous.with_centres(within_districts(spec, of, unit_district), home)
    limit = deadline - time.perf_counter()
    if limit <= 1.0:
        return None
    try:
        plan, _ = pipeline.solve(
            spec2, backend, time_limit=limit, gap=gap, seed=seed,
            threads=threads, candidates=PIPELINE_CANDIDATES, relax=False, start_plan=start,
        )  # fmt: skip
    except (InfeasibleError, SolverError):
        return None
    return plan if repair.feasible(spec, plan) else None


def _within_fixed_districts(
    spec: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    home: np.ndarray,
    start_plan: np.ndarray | None,
    of: np.ndarray,
    unit_district: np.ndarray,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
    territories_too: bool,
) -> tuple[np.ndarray | None, int]:
    """Each district's territories re-solved with every other unit fixed (the neighbourhood MIP, with
    ``territories_too`` its cut loop, then order rows): (plan or None, MIP solves)."""
    spec2 = contiguous.with_centres(within_districts(spec, of, unit_district), home)
    plan = _start_within(spec2, start_plan)
    pool = lns.CutPool()
    n = int(of.max()) + 1
    solves = 0
    for d in range(n):
        reps = np.flatnonzero(of == d)
        share = (deadline - time.perf_counter()) / (n - d)
        out = None
        for ordered in DISTRICT_ATTEMPTS if territories_too else (False,):
            out, k = _district_step(
                spec2, adj, backend, plan, reps, home, pool, territories_too, ordered,
                deadline=time.perf_counter() + share, gap=gap, seed=seed, threads=threads,
            )  # fmt: skip
            solves += k
            if out is not None:
                break
        if out is None:
            return None, solves
        plan = out
    return plan, solves


def _district_step(
    spec2: ModelSpec,
    adj: Adjacency,
    backend: Backend,
    plan: np.ndarray,
    reps: np.ndarray,
    home: np.ndarray,
    pool: lns.CutPool,
    territories_too: bool,
    ordered: bool,
    *,
    deadline: float,
    gap: float,
    seed: int,
    threads: int | None,
) -> tuple[np.ndarray | None, int]:
    """Re-solve the units of one district (its reps' units) with every other unit fixed."""
    if territories_too:
        return lns.solve_neighbourhood(
            spec2, adj, backend, plan, reps, home, pool,
            deadline=deadline, gap=gap, seed=seed, threads=threads, ordered=ordered,
            time_cap=max(deadline - time.perf_counter(), 1.0),
        )  # fmt: skip
    inside = np.zeros(spec2.problem.n_reps, dtype=bool)
    inside[reps] = True
    free = np.flatnonzero(inside[plan])
    fixed = plan.copy()
    fixed[free] = -1
    cu, cr = np.nonzero(spec2.allowed[free][:, reps])
    out, _ = lns.solve_mip(
        spec2, free[cu], reps[cr], [], backend,
        time_limit=deadline - time.perf_counter(), gap=gap, seed=seed, threads=threads,
        free=free, fixed=fixed, reps=reps,
    )  # fmt: skip
    return out, 1
