"""The contiguity stage: ``make_contiguous`` runs the cut loop (the neighbourhood search on large
instances, the exact flow model where it fits) from the pipeline's plan and returns the plan, an updated
``SolveResult`` and the ``contiguity`` block of summary.json; with ``--relax`` (or after a proof that no
connected plan meets the bands) the least violation of connected plans."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from territory_planner.geo import adjacency as adjmod
from territory_planner.geo import contiguity, planning
from territory_planner.model.plan import SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import contiguous, contiguous_flow, contiguous_lns, pipeline, repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import home_rule
from territory_planner.solvers.base import Backend

logger = logging.getLogger(__name__)


MAX_CUT_COLUMNS = 150_000  # above this many (unit, rep) pairs, no whole-model cut loop
# --contiguous --relax on a map the flow model fits: the share of the contiguity stage's time kept for the
# least violation of connected plans, and of that, the MIP on the violation's (the rest: its travel)
RELAX_CONNECTED_SHARE = 0.35
RELAX_LEAST_SHARE = 0.75
# after a proof that no connected plan meets the bands (without --relax): the least violation of connected
# plans, for the proof's numbers, in this share of the time left, at most LEAST_AFTER_PROOF_SECONDS, and
# only with LEAST_AFTER_PROOF_MIN left (QA66 F5: London's boroughs, exit 1 at 6.7 s of 20 naming no rep,
# measure or amount, where --relax shows Croydon short on potential and Bromley over on workload)
LEAST_AFTER_PROOF_SHARE = 0.5
LEAST_AFTER_PROOF_SECONDS = 15.0
LEAST_AFTER_PROOF_MIN = 3.0
BAND_VIOLATIONS = ("balance_min", "balance_max")
OPTIMALITY_TOL = 1e-4


def home_pieces(adj: adjmod.Adjacency, plan: np.ndarray, centre: np.ndarray, n_reps: int) -> np.ndarray:
    """Pieces per territory, one more where the rep's home unit went to another rep (the model is "one
    piece holding the home's unit")."""
    pieces: np.ndarray = contiguity.count_pieces(adj, plan, n_reps)
    pieces += np.array([c >= 0 and plan[c] != j for j, c in enumerate(centre.tolist())], dtype=np.int64)
    return pieces


def _split_key(spec: ModelSpec, plan: np.ndarray, pieces: np.ndarray) -> tuple[int, int, float]:
    """How far a plan is from connected, for choosing the least-violation one: stray pieces, territories
    split, then the objective."""
    stray = int(np.maximum(pieces - 1, 0).sum())
    objective = float(spec.objective[np.arange(len(plan)), plan].sum())
    return stray, int((pieces > 1).sum()), objective


def _stray_share(spec: ModelSpec, adj: adjmod.Adjacency, plan: np.ndarray, centre: np.ndarray) -> float:
    """How much of the territories lies outside the piece holding the home unit: per stray piece, its
    largest measure relative to its rep's upper band, summed (a whole territory elsewhere counts 1)."""
    p = spec.problem
    out = 0.0
    for j, units in contiguity.stray_pieces(adj, plan, p.n_reps, centre):
        load = p.unit_amount[units].sum(axis=0)
        out += float((load / np.maximum(spec.upper[:, j], 1.0)).max())
    return out


def _near_is_less(
    spec: ModelSpec, adj: adjmod.Adjacency, plan: np.ndarray, near: np.ndarray, centre: np.ndarray
) -> tuple[bool, float, float]:
    """Whether the flip search's connected plan (``near``, each territory one piece holding its home unit,
    a few out of their bands) breaks less than ``plan`` (split): its band excess over the territories,
    relative to each upper band, against the split plan's stray share plus its own band excess. Both are
    parts of a territory's band: a territory 3% over its band against a county group of 20% of one lying
    apart. Only a plan that keeps every other row (budgets, counts, district bands) is a candidate."""
    apart = (home_pieces(adj, near, centre, spec.problem.n_reps) > 1).any()
    if apart or not all(repair.other_rows(spec, near)):
        return False, np.inf, np.inf
    near_miss = float(repair.band_excess(spec, near).sum())
    split_miss = _stray_share(spec, adj, plan, centre) + float(repair.band_excess(spec, plan).sum())
    return near_miss < split_miss, near_miss, split_miss


HOMES_NOTE = (
    "contiguity: every territory holds the unit at its rep's home (for a rep who may not serve that unit, a "
    "locked or other-segment account, the nearest unit it may serve); the lower bound is valid for "
    "contiguous plans of that kind"
)


def outside_homes(
    spec: ModelSpec, lat: np.ndarray, lon: np.ndarray, centre: np.ndarray, chosen: np.ndarray | None
) -> list[str]:
    """A note naming each given home that no polygon holds and the unit its territory is anchored to, with
    the distance (QA72 F4: a home in Chicago, 214 km outside Iowa's counties, was anchored to the county
    nearest it without a word, and the county its territory had to hold was named nowhere); said on the
    console too."""
    from territory_planner.io.labels import first_few
    from territory_planner.model.homes import arc_km

    p = spec.problem
    if p.home_unit is None:
        return []
    point_lat, point_lon = planning.unit_points(p)
    said = []
    for j in range(p.n_reps):
        c = int(centre[j])
        if p.home_unit[j] >= 0 or c < 0 or not np.isfinite(lat[j]) or (chosen is not None and chosen[j]):
            continue
        km = float(arc_km(lat[j], lon[j], point_lat[c], point_lon[c]))
        said.append(f"{p.rep_ids[j]}'s to {p.unit_label(c)} ({km:,.0f} km from the home)")
    if not said:
        return []
    note = (
        f"contiguity: {len(said)} home(s) lie in no polygon of the map, each territory anchored to the unit "
        f"nearest its home that no other home took: {first_few(said, 5)}"
    )
    logger.warning(note)
    return [note]


def make_contiguous(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    unit_rep: np.ndarray,
    result: SolveResult,
    backend: Backend,
    *,
    lat: np.ndarray,
    lon: np.ndarray,
    time_limit: float,
    gap: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None] = lambda _m: None,
    chosen: np.ndarray | None = None,
    relax: bool = False,
) -> tuple[np.ndarray, SolveResult, dict[str, Any]]:
    """``chosen``: reps whose centre the planner chose (``lat``/``lon`` hold it): a proof that no connected
    plan exists then holds for those centres only. ``relax`` (``--relax``): when no connected plan meets
    the bands, the least-violation plan is the split one or the flip search's connected one out of a few
    bands, whichever breaks less (``_near_is_less``); the latter comes back with status ``relaxed``."""
    p = spec.problem
    start = time.perf_counter()
    centre, own = planning.home_units_owned(spec, lat, lon)
    islands = adj.islands()
    info: dict[str, Any] = {
        "islands": len(islands) + len(adj.bridged),  # the map's, bridged or not (QA72 F3: 0 of 1)
        "bridged_edges": [
            [str(p.account_ids[np.flatnonzero(p.acc_unit == a)[0]]) for a in e] for e in adj.bridged
        ],
    }
    before = contiguity.count_pieces(adj, unit_rep, p.n_reps)
    if (before <= 1).all() and all(unit_rep[c] == j for j, c in enumerate(centre.tolist()) if c >= 0):
        # nothing to do: said as it is, not as the cut loop's (QA26 F3: --design-districts made the
        # territories connected with the flow model, and summary.json said "cuts", 0 rounds)
        info.update(method="already connected", rounds=0, cuts=0, neighbourhoods=0)
        if planning.anchored_elsewhere(spec, lat, lon):  # said on this path too (QA9 O1's note)
            result = dataclasses.replace(result, notes=(*result.notes, HOMES_NOTE))
        outside = outside_homes(spec, lat, lon, centre, chosen)
        result = dataclasses.replace(result, notes=(*result.notes, *outside))
        return unit_rep, result, with_pieces(info, p, before)
    # small: the cut loop over the whole model first; large: straight to the neighbourhood search
    exact = int(spec.allowed.sum()) <= MAX_CUT_COLUMNS
    progress("enforcing contiguity (" + ("separator cuts" if exact else "neighbourhood search") + ")")
    # --relax on a small map: the end of the time is kept for the least violation of connected plans
    elastic = bool(relax and (centre >= 0).all() and contiguous_flow.fits_beside(adj, p.n_reps, backend))
    res = contiguous.solve_contiguous(
        spec,
        adj,
        backend,
        centre=centre,
        time_limit=time_limit,
        gap=gap,
        seed=seed,
        threads=threads,
        start_plan=unit_rep,
        bound=result.lower_bound,
        progress=progress,
        exact=exact,
        relax=relax,
        relax_at=start + (1.0 - RELAX_CONNECTED_SHARE) * time_limit if elastic else None,
    )
    least: _Least | None = None
    if res.late_flow is not None:
        res, least = _beside_late_flow(
            spec, adj, centre, backend, res, deadline=start + time_limit, seed=seed, threads=threads,
            progress=progress,
        )  # fmt: skip
    plan, method = res.unit_rep, res.method
    if plan is None:
        plan = contiguous.repair_pieces(spec, adj, unit_rep, centre)
        method = "repair"
    if res.infeasible:
        # HiGHS's proof holds for the centres the model used: it is the user's model when each is the
        # unit at its rep's home (two homes nearest one unit: one rep got the runner-up, no proof)
        own = own and (chosen is None or not chosen.any())
        info.update(
            _proof_info(spec, adj, centre, backend, res, own, relax, start + time_limit, seed, threads)
        )
        if not own:  # which reps' centres are not their homes' units, and why (QA100 F2)
            info["centres"] = [list(entry) for entry in planning.centres_moved(spec, centre, chosen)]
        progress(
            f"contiguity: no plan of connected territories{home_rule('territories')} meets the bands (proven)"
            if own
            else "contiguity: no connected plan with the centres chosen (chosen by the planner, or two homes "
            "nearest one unit)"
        )
    # a territory without its home's unit misses the piece that must hold it: one more piece (the model
    # is "one piece holding the home's unit", and its bounds and proofs are for that model)
    pieces = home_pieces(adj, plan, centre, p.n_reps)
    if (pieces > 1).any():
        # no connected plan: the least-violation plan is the one with the fewest stray pieces, then split
        # territories, then travel, and the plan before the stage may be it (QA14: 48 US states, the
        # stage's plan split 7 territories at 410,622 where the plan before it split 6 at 368,778)
        at_start = home_pieces(adj, unit_rep, centre, p.n_reps)
        if _split_key(spec, unit_rep, at_start) < _split_key(spec, plan, pieces):
            plan, pieces, method = unit_rep, at_start, "start-kept"
    kept = _Kept(plan, pieces, method)
    near_note = _least_violation(
        spec, adj, centre, backend, res, kept, info, elastic=elastic, relax=relax,
        deadline=start + time_limit, seed=seed, threads=threads, progress=progress, least=least,
    )  # fmt: skip
    new = _with_contiguity(spec, result, res, kept, near_note, lat, lon, centre, chosen, start)
    info.update(method=kept.method, rounds=res.rounds, cuts=res.cuts, neighbourhoods=res.neighbourhoods)
    return kept.plan, new, with_pieces(info, p, kept.pieces)


@dataclass(frozen=True)
class _Least:
    """The least violation of connected plans looked for beside the flow model (``_beside_late_flow``):
    its plan and note (``_least_connected``'s answer), or None when it found none."""

    found: tuple[np.ndarray, str] | None


def _beside_late_flow(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    res: contiguous.ContiguousResult,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None],
) -> tuple[contiguous.ContiguousResult, _Least]:
    """--contiguous --relax, no connected plan by the search's end (``relax_at``): the least violation of
    connected plans on this thread while the flow model goes on beside to the stage's end, as it does
    without --relax; its answer then wins: a connected plan (within every band: nothing to relax) or a
    proof that none exists (the least violation is then the plan to write). A plan of the flow model's
    ends the search for the least violation, which has nothing left to find."""
    flow = res.late_flow
    assert flow is not None
    progress(
        "contiguity: no connected plan yet: the least violation of connected plans (--relax), the flow model "
        "going on beside"
    )
    found = threading.Event()

    def watch() -> None:
        while not found.is_set() and flow.running() and time.perf_counter() < deadline:
            if flow.has_plan():
                found.set()
            time.sleep(0.1)

    threading.Thread(target=watch, name="late-flow-watch", daemon=True).start()
    least = _least_connected(
        spec, adj, centre, backend, res.near, deadline=deadline, seed=seed, threads=threads, cancel=found
    )  # fmt: skip
    spec_c = contiguous.with_centres(spec, centre)
    merged = contiguous_flow.merge(flow, spec_c, None, res.lower_bound, False, stop=False)
    found.set()
    res = dataclasses.replace(res, late_flow=None, lower_bound=merged.lower, infeasible=merged.infeasible)
    plan = merged.best
    connected = plan is not None and not (home_pieces(adj, plan, centre, spec.problem.n_reps) > 1).any()
    if plan is not None and connected and repair.feasible(spec_c, plan):
        value = contiguous_lns.objective(spec, plan)
        progress(f"contiguity: connected plan found by the flow model: objective {value:,.1f}")
        pieces = contiguity.count_pieces(adj, plan, spec.problem.n_reps)
        res = dataclasses.replace(
            res, unit_rep=plan, objective=value, method="flow", pieces=pieces,
            proven_optimal=merged.proven, near=None,
        )  # fmt: skip
    return res, _Least(least)


@dataclass
class _Kept:
    """The plan ``make_contiguous`` keeps so far, its pieces per territory and the method that made it."""

    plan: np.ndarray
    pieces: np.ndarray
    method: str


def _proof_info(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    res: contiguous.ContiguousResult,
    own: bool,
    relax: bool,
    deadline: float,
    seed: int,
    threads: int | None,
) -> dict[str, Any]:
    """summary.json's account of a proof that no connected plan exists: for whose centres, whether it
    holds without the other rows, and (the user's own centres, no --relax) the least band violation of
    connected plans, with numbers."""
    info: dict[str, Any] = {"infeasible": "proven" if own else "proven for the centres chosen"}
    if res.infeasible_without_rows is not None:
        info["infeasible_without_other_rows"] = res.infeasible_without_rows
    if own and not relax:  # the proof with numbers: which bands the connected plans break least
        numbers = _least_after_proof(spec, adj, centre, backend, res.near, deadline, seed, threads)
        if numbers is not None:
            info["least_violation"] = numbers
    return info


def _least_violation(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    res: contiguous.ContiguousResult,
    kept: _Kept,
    info: dict[str, Any],
    *,
    elastic: bool,
    relax: bool,
    deadline: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None],
    least: _Least | None = None,
) -> str | None:
    """Territories still split: with --relax on a small map, the flow model's least violation of connected
    plans (a connected plan within every band, when it finds one, is kept as such); the connected plan
    out of the fewest bands is named (``info``) and, with --relax, kept when it breaks less than the split
    one. Updates ``kept``; returns the note of a connected plan kept out of some bands, else None.
    ``least``: that least violation, looked for already (beside the flow model: ``_beside_late_flow``)."""
    p = spec.problem
    near, least_note = res.near, None
    if elastic and (kept.pieces > 1).any():
        if least is None:
            least = _Least(
                _least_connected(
                    spec, adj, centre, backend, near, deadline=deadline, seed=seed, threads=threads
                )
            )
        if least.found is not None:
            near, least_note = least.found
            near_pieces = home_pieces(adj, near, centre, p.n_reps)
            if (near_pieces <= 1).all() and repair.feasible(spec, near):
                # no violation at all: a connected plan within every band, which the stage's share of the
                # time had not found; written as such, not as a relaxed plan
                kept.plan, kept.pieces, kept.method, least_note = (
                    near,
                    near_pieces,
                    "flow-least-violation",
                    None,
                )
                progress("contiguity: the flow model found a connected plan within every band")
            else:
                progress(least_note)
    if not (kept.pieces > 1).any() or near is None:
        return None
    # named when the run ends without a plan (QA25); with --relax, the plan written if it breaks less
    n_out = info["near_out_of_band"] = int((repair.band_excess(spec, near) > 0).sum())
    less, near_miss, split_miss = (
        _near_is_less(spec, adj, kept.plan, near, centre) if relax else (False, 0.0, 0.0)
    )
    if not less:
        return None
    n_split = int((kept.pieces > 1).sum())
    # the split plan meets the bands, unless the plan before the stage broke them (QA26)
    split_bands = float(repair.band_excess(spec, kept.plan).sum())
    # the flow model's, when it broke less than the flips' plan it started from
    lowered = res.near is None or (
        repair.band_excess(spec, near).sum() < repair.band_excess(spec, res.near).sum() - 1e-9
    )
    kept.method = "flow-least-violation" if least_note is not None and lowered else "flips-near"
    kept.plan, kept.pieces = near, home_pieces(adj, near, centre, p.n_reps)
    # amounts in shares of a band's maximum, summed (QA26: "of a band" read as of its width)
    top = "of a territory's band maximum"
    broke = f" and broke bands by {split_bands:.1%} {top}" if split_bands > 0 else ""
    near_note = (
        f"relaxed: every territory is one piece and {n_out} break their bands by {near_miss:.1%} "
        f"{top} in all (see violations), where the best plan in pieces split {n_split} "
        f"territories with {split_miss - split_bands:.1%} {top} outside their home pieces{broke}"
        + (
            f"; no plan of connected territories{home_rule('territories')} within every band exists (proven)"
            if res.infeasible
            else ""
        )
        + (f"; {least_note}" if least_note is not None else "")
    )
    progress(near_note)
    return near_note


def _with_contiguity(
    spec: ModelSpec,
    result: SolveResult,
    res: contiguous.ContiguousResult,
    kept: _Kept,
    near_note: str | None,
    lat: np.ndarray,
    lon: np.ndarray,
    centre: np.ndarray,
    chosen: np.ndarray | None,
    start: float,
) -> SolveResult:
    """The run's result after the contiguity stage: the kept plan's objective, the bound and gap for
    connected plans, the notes, the stage's time and outcome; relaxed when ``near_note`` (a connected plan
    out of some bands)."""
    p, plan, pieces, method = spec.problem, kept.plan, kept.pieces, kept.method
    objective = float(spec.objective[np.arange(p.n_units), plan].sum())
    compact = float(spec.cost[np.arange(p.n_units), plan].sum())
    # a connected plan out of some bands (``near_note``) is no plan of the model either: its objective
    # does not cap the bound (QA72 F1: "lower bound 933,956" of a relaxed plan, its own objective)
    lower, g = contiguity.bound_and_gap(
        res.lower_bound, objective, connected=bool((pieces <= 1).all()) and near_note is None
    )
    notes = list(result.notes)
    notes.append(HOMES_NOTE)
    notes += outside_homes(spec, lat, lon, centre, chosen)
    notes += contiguity.below_bound(
        "contiguity", result.objective, lower, "splits a territory or gives a rep's home unit away"
    )
    if (pieces > 1).any():
        notes.append(
            f"contiguity not reached for {int((pieces > 1).sum())} territories "
            + (
                f"(no plan of connected territories{home_rule('territories')} exists)"
                if res.infeasible
                else "within the time limit"
            )
            + " (see contiguity.pieces)"
        )
    # a gap within the tolerance to a valid bound is a proof however the plan came (QA14: a plan equal to
    # its bound was "feasible, gap 0.000%")
    optimal = bool((pieces <= 1).all() and np.isfinite(g) and g <= OPTIMALITY_TOL)
    stages = dict(result.stages)
    stages["contiguity"] = time.perf_counter() - start
    outcome = (
        (
            f"{method}: {int((pieces > 1).sum())} of {p.n_reps} territories split"
            if (pieces > 1).any()
            else f"{method}: every territory one piece"
        )
        + f", objective {result.objective:,.1f} -> {objective:,.1f}, "
        + (
            f"gap {100 * g:.3f}%"
            if np.isfinite(g)
            # QA112 O7: "every territory one piece, ..., no gap: the plan is split" of a relaxed plan
            else "no gap: the plan is split"
            if (pieces > 1).any()
            else "no gap: no lower bound holds for this plan"
        )
    )
    log = (
        *result.stage_log,
        {"stage": "contiguity", "seconds": round(stages["contiguity"], 3), "outcome": outcome},
    )
    new = dataclasses.replace(
        result,
        status="optimal" if optimal else "feasible",
        proven_optimal=bool(optimal),
        objective=objective,
        compactness=compact,
        lower_bound=lower,
        gap=g,
        method=f"{result.method}+contiguity-{method}",
        stages=stages,
        stage_log=log,
        notes=tuple(notes),
    )
    if near_note is not None:  # connected, out of some bands: the least violation, marked
        new = new.relaxed(violations=tuple(pipeline._violations(spec, plan)), notes=(*new.notes, near_note))
    return new


def _least_after_proof(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    near: np.ndarray | None,
    deadline: float,
    seed: int,
    threads: int | None,
) -> dict[str, Any] | None:
    """After HiGHS proved that no plan of connected territories meets the bands: the bands the connected
    plan of least violation breaks (``contiguous_flow.least_violation_connected``), each rep, measure and
    amount, and whether that violation is proven least; None without the time or a model that fits."""
    left = deadline - time.perf_counter()
    if left < LEAST_AFTER_PROOF_MIN or (centre < 0).any():
        return None
    if not contiguous_flow.fits_beside(adj, spec.problem.n_reps, backend):
        return None
    least = contiguous_flow.least_violation_connected(
        spec, adj, centre, backend, seed=seed, threads=threads, start=near,
        deadline=time.perf_counter() + min(LEAST_AFTER_PROOF_SHARE * left, LEAST_AFTER_PROOF_SECONDS),
    )  # fmt: skip
    if least is None or not all(repair.other_rows(spec, least.plan)):
        return None
    broken = [v for v in pipeline._violations(spec, least.plan) if v["constraint"] in BAND_VIOLATIONS]
    return {"proven": least.proven, "violations": broken} if broken else None


def _least_connected(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    backend: Backend,
    near: np.ndarray | None,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, str] | None:
    """--contiguous --relax when no connected plan within the bands was found: the connected plan of least
    violation (``contiguous_flow.least_violation_connected``, started from the flip search's ``near``) in
    ``RELAX_LEAST_SHARE`` of the time left, then its travel: the flow model with the objective, each band
    widened just enough for that plan, to ``deadline``. The plan and a note saying whether its violation is
    proven least; None when the flow model found no connected plan keeping the other rows. ``cancel`` ends
    both solves (with the violation's best plan so far)."""
    from territory_planner.optimize.contiguous_lns import objective
    from territory_planner.optimize.design import home_cells

    now = time.perf_counter()
    centred = contiguous.with_centres(spec, centre)
    if near is None:  # HiGHS alone found no plan of this model in 15 s on a 10 x 10 grid: the homes' cells
        near = home_cells(adj, centre, centred.cost)
    least = contiguous_flow.least_violation_connected(
        spec, adj, centre, backend, deadline=now + RELAX_LEAST_SHARE * max(deadline - now, 0.0),
        seed=seed, threads=threads, start=near, cancel=cancel,
    )  # fmt: skip
    if least is None or not all(repair.other_rows(spec, least.plan)):
        return None
    if least.proven:
        note = "the violation is the least of any plan of connected territories (proven, HiGHS within 0.1%)"
    else:
        share = 0.0 if least.violation <= 0 else max(least.bound, 0.0) / least.violation
        note = "the violation is the least found for connected plans in the time, not proven least"
        if share >= 0.001:  # the elastic LP's bound is often 0: said only when it says something
            note += f": every such plan's violation is at least {100 * share:.1f}% of it (HiGHS's bound)"
    plan = least.plan
    wide = pipeline._widened(centred, plan)
    stopped = cancel is not None and cancel.is_set()
    if wide is not None and not stopped and deadline - time.perf_counter() > 1.0:  # travel within them
        flow = contiguous_flow.start(
            wide, adj, contiguous_flow.territory_parts(centre), backend, deadline=deadline, gap=1e-4,
            seed=seed,
        )  # fmt: skip
        if flow is not None:
            while flow.running() and not flow.built():  # HiGHS takes a plan once its model is built
                time.sleep(0.05)
            flow.offer(plan)
            found = flow.finish(stop=False)
            shorter = None if found is None else found.unit_rep
            if (
                shorter is not None
                and (shorter >= 0).all()
                and objective(spec, shorter) < objective(spec, plan)
            ):
                plan = shorter
    return plan, note


def with_pieces(info: dict[str, Any], p: TerritoryProblem, pieces: np.ndarray) -> dict[str, Any]:
    info["pieces"] = {str(r): int(k) for r, k in zip(p.rep_ids, pieces.tolist(), strict=True)}
    info["contiguous"] = bool((pieces <= 1).all())
    return info
