"""Contiguous territories: separator cuts added when violated, and re-solve (no lazy callbacks in PuLP).

Every territory j holds a centre unit c_j (the unit nearest its home; the planner's chosen centre for
CTDP). For a piece S of territory j without c_j, any connected territory holding c_j and a unit i of S
must also hold a unit of the boundary N(S), so

    x[i, j] <= sum_{k in N(S)} x[k, j]      for i in S      (Salazar-Aguilar et al. 2011)

is valid. Each round solves the MIP over every allowed pair with the cuts so far (warm-started from the
best contiguous plan known), separates the pieces of its answer, and repeats. The LP relaxation with
the cuts (column generation; cut duals enter pricing) is a lower bound on the contiguous model, as is
the MIP's dual bound. When time runs out first, the best plan's stray pieces are moved to a neighbouring
territory wherever both bands allow it (method "repair"), and the remaining pieces are reported.
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
from territory_planner.optimize import formulation
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.formulation import Cut
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContiguousResult:
    unit_rep: np.ndarray | None
    objective: float | None
    lower_bound: float
    method: str  # "cuts" (every territory one piece, from the cut loop) | "repair"
    pieces: np.ndarray  # (p,) connected pieces per territory of the returned plan
    rounds: int
    cuts: int
    proven_optimal: bool
    seconds: float


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


def separate(adj: Adjacency, unit_rep: np.ndarray, centre: np.ndarray) -> list[Cut]:
    out: list[Cut] = []
    for j, piece in contiguity.stray_pieces(adj, unit_rep, len(centre), centre):
        nb = tuple(int(k) for k in contiguity.boundary(adj, piece))
        out.extend(Cut(j, int(i), nb) for i in piece.tolist())
    return out


def repair_pieces(spec: ModelSpec, adj: Adjacency, unit_rep: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Move stray pieces (smallest first) to an adjacent territory when both bands still hold."""
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
                if ok_in and ok_out:
                    options.append((float(spec.objective[piece, k].sum()), k))
            if options:
                plan[piece] = min(options)[1]
                moved = True
                break
        if not moved:
            break
    return plan


def _split(adj: Adjacency, plan: np.ndarray, centre: np.ndarray) -> int:
    return len(contiguity.stray_pieces(adj, plan, len(centre), centre))


def _plan_mask(plan: np.ndarray | None, spec: ModelSpec) -> np.ndarray:
    mask = np.zeros(spec.allowed.shape, dtype=bool)
    if plan is not None:
        mask[np.arange(len(plan)), plan] = True
    return mask


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
    columns: np.ndarray | None = None,
) -> ContiguousResult:
    """Cut loop over the whole candidate set, or over ``columns`` ((n, p) bool; then the plan is optimal
    only for that restricted set and the MIP bounds are not used: ``bound`` stays the lower bound)."""
    start = time.perf_counter()
    deadline = start + time_limit
    p = spec.problem
    centre = centre_units(spec) if centre is None else centre
    spec_c = with_centres(spec, centre)
    cuts: list[Cut] = []
    seen: set[Cut] = set()
    best: np.ndarray | None = None  # best contiguous plan
    best_obj = np.inf
    last_plan = start_plan
    lower = bound
    proven = False
    rounds = 0
    restricted = columns is not None
    mask = spec_c.allowed if columns is None else (columns | _plan_mask(start_plan, spec_c)) & spec_c.allowed
    if columns is not None:
        mask[centre[centre >= 0], :] = spec_c.allowed[centre[centre >= 0], :]
    col_unit, col_rep = np.nonzero(mask)
    if start_plan is not None and contiguity.is_contiguous(adj, start_plan, p.n_reps):
        ok = (start_plan[centre[centre >= 0]] == np.flatnonzero(centre >= 0)).all()
        if ok:
            best, best_obj = start_plan.copy(), float(spec.objective[np.arange(p.n_units), start_plan].sum())
    while time.perf_counter() < deadline - 0.2:
        rounds += 1
        form = formulation.build(spec_c, col_unit, col_rep, integer=True, name="contiguous", cuts=cuts)
        warm = None
        if best is not None:
            warm = np.zeros(len(form.variables))
            warm[: form.n_cols] = (best[col_unit] == col_rep).astype(float)
        out = backend.solve(
            form.prob,
            form.variables,
            form.constraints,
            mip=True,
            time_limit=max((deadline - time.perf_counter()) * (0.4 if restricted else 1.0), 0.5),
            gap=gap,
            seed=seed,
            threads=threads,
            start=warm,
        )
        if not out.has_solution:
            break
        x = out.values[: form.n_cols] > 0.5
        plan = np.full(p.n_units, -1, dtype=np.int64)
        plan[col_unit[x]] = col_rep[x]
        last_plan = plan
        new = [c for c in separate(adj, plan, centre) if c not in seen]
        obj = float(spec.objective[np.arange(p.n_units), plan].sum())
        if not new:
            if obj < best_obj:
                best, best_obj = plan, obj
            if out.bound is not None and not restricted:
                lower = max(lower, float(out.bound))  # the cuts are valid: a bound on the contiguous model
            proven = out.status.name == "OPTIMAL" and not restricted
            break
        if out.bound is not None and not restricted:
            lower = max(lower, min(float(out.bound), best_obj))
        seen.update(new)
        cuts.extend(new)
        progress(
            f"contiguity round {rounds}: objective {obj:,.1f}, {len(new)} cuts added ({len(cuts)} in all)"
        )
    # LP with the cuts: a bound on the contiguous model
    if cuts and not restricted and time.perf_counter() < deadline:
        try:
            res = lpmod.solve_lp(
                spec_c,
                backend,
                lpmod.initial_candidates(spec_c, 8),
                deadline=deadline,
                seed=seed,
                threads=threads,
                cuts=cuts,
            )
            if res.slack_total <= 1e-6:
                lower = max(lower, res.bound)
        except Exception:  # noqa: BLE001 - the bound from the MIP rounds stays valid
            log.warning("cut LP failed", exc_info=True)
    method = "cuts"
    if best is None and last_plan is not None:
        if start_plan is not None and _split(adj, start_plan, centre) <= _split(adj, last_plan, centre):
            last_plan = start_plan  # the cut rounds ended on a worse plan: mend the one we started from
        best = repair_pieces(spec, adj, last_plan, centre)
        best_obj = float(spec.objective[np.arange(p.n_units), best].sum())
        method = "repair"
        proven = False
    pieces = (
        contiguity.count_pieces(adj, best, p.n_reps) if best is not None else np.zeros(p.n_reps, np.int64)
    )
    return ContiguousResult(
        best,
        None if best is None else best_obj,
        lower,
        method,
        pieces,
        rounds,
        len(cuts),
        proven,
        time.perf_counter() - start,
    )
