"""LP relaxation by column generation over candidate (unit, rep) pairs, with a bound on the FULL model.

Start from a pruned candidate set (nearest reps + current + locked, plus every rep's nearest units so
each band can be met), solve the elastic LP to a vertex (dual simplex), price every allowed pair with
the row duals in numpy, add the pairs with negative reduced cost, repeat. At convergence the LP over
the pool equals the LP over all n x p pairs. Whatever the state, the Lagrangian bound

    L(y) = sum_r b_r y_r + sum_u min_j (c_uj - sum_r A_r,uj y_r)

(balance, count and budget rows dualised with sign-correct multipliers, assignment rows kept) is a
valid lower bound on the full integer model, and ``delta_uj = rc'_uj - min_j rc'_uj`` gives the
reduced-cost fixing rule used by the exact stage (Wolsey, Integer Programming, ch. 10).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from territory_planner.optimize import formulation
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, SolveStatus

log = logging.getLogger(__name__)


@dataclass
class Duals:
    bal_lo: np.ndarray  # (M, p) >= 0
    bal_hi: np.ndarray  # (M, p) <= 0
    cnt_lo: np.ndarray  # (p,) >= 0
    cnt_hi: np.ndarray  # (p,) <= 0
    budget: float  # <= 0
    keep: np.ndarray  # (p,) >= 0

    @classmethod
    def zeros(cls, m: int, p: int) -> Duals:
        return cls(np.zeros((m, p)), np.zeros((m, p)), np.zeros(p), np.zeros(p), 0.0, np.zeros(p))


@dataclass
class LpResult:
    col_unit: np.ndarray
    col_rep: np.ndarray
    x: np.ndarray  # value per pool column
    objective: float  # LP objective over the pool, slacks excluded
    slack_total: float
    slack_by_row: list[tuple[formulation.RowInfo, float]]
    duals: Duals
    rc_lagr: np.ndarray  # (n_units, p) Lagrangian reduced costs rc' (inf where not allowed)
    bound: float  # L(y): valid lower bound on the full integer model
    converged: bool
    rounds: int
    seconds: float


def slack_prices(spec: ModelSpec) -> dict[str, np.ndarray]:
    """Prices per unit of violation, high enough that any feasible fix is cheaper."""
    p = spec.problem
    top = float(np.max(np.where(spec.allowed, spec.objective, 0.0))) + 1.0
    prices = []
    for m in range(len(p.measures)):
        a = p.unit_amount[:, m]
        small = float(np.quantile(a[a > 0], 0.05)) if (a > 0).any() else 1.0
        prices.append(100.0 * top / max(small, 1e-9))
    pot = p.acc_potential[p.acc_potential > 0]
    small_pot = float(np.quantile(pot, 0.05)) if len(pot) else 1.0
    return {
        "balance": np.array(prices),
        "count": np.array([100.0 * top]),
        "budget": np.array([100.0 * top / max(small_pot, 1e-9)]),
    }


def lagrangian(spec: ModelSpec, duals: Duals) -> tuple[np.ndarray, float]:
    """rc'_uj for every pair (inf where not allowed) and the bound L(y)."""
    p = spec.problem
    weight = duals.bal_lo + duals.bal_hi  # (M, p)
    rc = spec.objective - p.unit_amount @ weight
    rc -= p.unit_size[:, None] * (duals.cnt_lo + duals.cnt_hi)[None, :]
    if spec.budget is not None and duals.budget != 0:
        rc -= spec.moved * duals.budget
    if spec.rep_budget_share is not None and duals.keep.any():
        rc -= spec.stay * duals.keep[None, :]
    rc = np.where(spec.allowed, rc, np.inf)
    const = float((spec.lower * duals.bal_lo).sum() + (spec.upper * duals.bal_hi).sum())
    if spec.min_accounts is not None:
        const += spec.min_accounts * float(duals.cnt_lo.sum())
    if spec.max_accounts is not None:
        const += spec.max_accounts * float(duals.cnt_hi.sum())
    if spec.budget is not None:
        const += spec.budget * duals.budget
    if spec.rep_budget_share is not None:
        const += float(((1 - spec.rep_budget_share) * spec.held * duals.keep).sum())
    bound = const + float(rc.min(axis=1).sum())
    return rc, bound


def read_duals(spec: ModelSpec, form: formulation.Formulation, row_duals: np.ndarray) -> tuple[Duals, np.ndarray]:
    p = spec.problem
    d = Duals.zeros(len(p.measures), p.n_reps)
    y_assign = np.zeros(p.n_units)
    for r, info in enumerate(form.rows):
        y = float(row_duals[r])
        fam = info.family
        if fam == "assign":
            y_assign[info.unit] = y
        elif fam == "balance_min":
            d.bal_lo[info.measure, info.rep] = max(y, 0.0)
        elif fam == "balance_max":
            d.bal_hi[info.measure, info.rep] = min(y, 0.0)
        elif fam == "min_accounts":
            d.cnt_lo[info.rep] = max(y, 0.0)
        elif fam == "max_accounts":
            d.cnt_hi[info.rep] = min(y, 0.0)
        elif fam == "budget":
            d.budget = min(y, 0.0)
        elif fam == "rep_budget":
            d.keep[info.rep] = max(y, 0.0)
    return d, y_assign


def initial_candidates(spec: ModelSpec, k: int, current_unit_rep: np.ndarray | None = None) -> np.ndarray:
    """(n_units, p) bool: k cheapest allowed reps per unit, current and locked reps, and for every rep
    its cheapest units (about 3 territories' worth) so that each band can be reached."""
    p = spec.problem
    n, reps = p.n_units, p.n_reps
    cost = np.where(spec.allowed, spec.cost, np.inf)
    k = min(k, reps)
    pool = np.zeros((n, reps), dtype=bool)
    nearest = np.argpartition(cost, k - 1, axis=1)[:, :k] if k < reps else np.tile(np.arange(reps), (n, 1))
    pool[np.arange(n)[:, None], nearest] = True
    has_cur = p.acc_current >= 0
    pool[p.acc_unit[has_cur], p.acc_current[has_cur]] = True
    if current_unit_rep is not None:
        ok = current_unit_rep >= 0
        pool[np.flatnonzero(ok), current_unit_rep[ok]] = True
    per_rep = min(n, int(np.ceil(3 * n * p.capacity.max() / p.capacity.sum())) + 1)
    by_rep = np.argpartition(cost, per_rep - 1, axis=0)[:per_rep, :] if per_rep < n else None
    if by_rep is not None:
        pool[by_rep, np.arange(reps)[None, :]] = True
    else:
        pool[:] = True
    pool &= spec.allowed
    return pool


def sampled_duals(
    spec: ModelSpec, backend: Backend, *, sample_units: int, seed: int, threads: int | None, deadline: float,
    candidates: int,
) -> Duals | None:
    """Balance-row duals from the LP of a random sample of units with proportionally scaled bands.

    On large instances these approximate the full LP's duals well (each rep's band is a sum over many
    units), so pricing every pair with them picks a small pool that already holds the LP's support."""
    import dataclasses

    p = spec.problem
    if p.n_units <= sample_units or spec.min_accounts is not None or spec.max_accounts is not None:
        return None
    rng = np.random.default_rng(seed)
    units = np.sort(rng.choice(p.n_units, size=sample_units, replace=False))
    scale = p.unit_amount[units].sum(axis=0) / np.maximum(p.unit_amount.sum(axis=0), 1e-12)  # (M,)
    first = np.full(p.n_units, -1, dtype=np.int64)
    first[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    rep_acc = first[units]  # one representative account per sampled unit (names and potentials)
    sub_problem = dataclasses.replace(
        p, unit_amount=p.unit_amount[units], unit_size=p.unit_size[units], unit_locked=p.unit_locked[units],
        allowed=p.allowed[units], acc_unit=np.arange(len(units)), acc_current=np.full(len(units), -1),
        account_ids=p.account_ids[rep_acc], acc_potential=p.acc_potential[rep_acc],
    )
    sub = dataclasses.replace(
        spec, problem=sub_problem, cost=spec.cost[units], moved=spec.moved[units], stay=spec.stay[units],
        lower=spec.lower * scale[:, None], upper=spec.upper * scale[:, None], allowed=spec.allowed[units],
        budget=None, rep_budget_share=None, disruption_price=spec.disruption_price,
    )
    pool = initial_candidates(sub, candidates)
    try:
        res = solve_lp(sub, backend, pool, deadline=deadline, seed=seed, threads=threads, max_rounds=6)
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the speed-up
        log.warning("sampled LP failed", exc_info=True)
        return None
    return res.duals


def priced_candidates(spec: ModelSpec, duals: Duals, k_priced: int, k_near: int,
                      current_unit_rep: np.ndarray | None = None) -> np.ndarray:
    """Pool from (approximate) duals: the k cheapest pairs by Lagrangian reduced cost, plus nearest reps."""
    p = spec.problem
    rc, _ = lagrangian(spec, duals)
    pool = initial_candidates(spec, k_near, current_unit_rep)
    k = min(k_priced, p.n_reps)
    best = np.argpartition(rc, k - 1, axis=1)[:, :k] if k < p.n_reps else np.tile(np.arange(p.n_reps), (p.n_units, 1))
    pool[np.arange(p.n_units)[:, None], best] = True
    pool &= spec.allowed
    return pool


def solve_lp(
    spec: ModelSpec,
    backend: Backend,
    pool: np.ndarray,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    progress: Callable[[str], None] = lambda _m: None,
    max_add_per_unit: int = 4,
    max_rounds: int = 30,
) -> LpResult:
    start = time.perf_counter()
    p = spec.problem
    prices = slack_prices(spec)
    pool = pool.copy()
    best_bound = -np.inf
    escalations = 0
    rounds = 0
    prev: tuple[np.ndarray, np.ndarray] | None = None  # basis of the last round, by (unit, rep) key
    status_of = np.zeros(pool.shape, dtype=np.int8)
    while True:
        rounds += 1
        col_unit, col_rep = np.nonzero(pool)
        form = formulation.build(spec, col_unit, col_rep, elastic=True, slack_price=prices, name="lp")
        remaining = max(deadline - time.perf_counter(), 0.5)
        warm = None
        if prev is not None:  # warm start: old columns keep their status, new ones enter at their bound 0
            warm = (np.concatenate([status_of[col_unit, col_rep], prev[0]]), prev[1])
        out = backend.solve(form.prob, form.variables, form.constraints, mip=False, time_limit=remaining,
                            gap=None, seed=seed, threads=threads, basis=warm)
        if out.basis is not None:
            status_of[:] = 0
            status_of[col_unit, col_rep] = out.basis[0][: form.n_cols]
            prev = (out.basis[0][form.n_cols :], out.basis[1])
        else:
            prev = None
        if out.status != SolveStatus.OPTIMAL or out.row_duals is None:
            from territory_planner.errors import SolverError

            raise SolverError(f"the LP relaxation did not solve ({out.message}); try a longer --time-limit")
        duals, y_assign = read_duals(spec, form, out.row_duals)
        rc_l, bound = lagrangian(spec, duals)
        best_bound = max(best_bound, bound)
        x = out.values[: form.n_cols]
        slack = out.values[form.n_cols :]
        slack_total = float(slack.sum())
        objective = float(out.objective or 0.0) - float(
            sum(s * c for s, c in zip(slack, _slack_costs(form, prices)))
        )
        rc = rc_l - y_assign[:, None]
        scale = max(1.0, abs(objective) / max(p.n_units, 1))
        neg = (rc < -1e-7 * scale) & ~pool
        n_neg = int(neg.sum())
        progress(f"LP round {rounds}: {len(col_unit):,} columns, objective {objective:,.1f}, "
                 f"bound {best_bound:,.1f}, {n_neg:,} columns priced in")
        log.debug("LP round %d: cols=%d obj=%.6g slack=%.3g neg=%d", rounds, len(col_unit), objective,
                  slack_total, n_neg)
        # the Lagrangian bound meeting the pool LP proves the pool LP optimal for the full model
        converged = n_neg == 0 or (slack_total <= 1e-6 and objective - best_bound <= 1e-7 * max(abs(objective), 1.0))
        if converged and slack_total > 1e-6 and escalations < 2:
            # slack left at convergence: either truly infeasible or prices too low; raise them and check
            escalations += 1
            prices = {k: v * 1e3 for k, v in prices.items()}
            continue
        if converged or rounds >= max_rounds or time.perf_counter() > deadline:
            slack_rows = [(form.rows[r], float(v)) for r, v in zip(form.slack_rows, slack) if v > 1e-7]
            return LpResult(col_unit, col_rep, x, objective, slack_total, slack_rows, duals, rc_l,
                            best_bound if slack_total <= 1e-6 else -np.inf, converged, rounds,
                            time.perf_counter() - start)
        # add the most negative columns of each unit
        rc_neg = np.where(neg, rc, np.inf)
        kk = min(max_add_per_unit, p.n_reps)
        idx = np.argpartition(rc_neg, kk - 1, axis=1)[:, :kk] if kk < p.n_reps else np.tile(
            np.arange(p.n_reps), (p.n_units, 1))
        rows = np.repeat(np.arange(p.n_units), idx.shape[1])
        cols = idx.ravel()
        take = np.isfinite(rc_neg[rows, cols])
        pool[rows[take], cols[take]] = True


def _slack_costs(form: formulation.Formulation, prices: dict[str, np.ndarray]) -> list[float]:
    out = []
    for r in form.slack_rows:
        info = form.rows[r]
        if info.family.startswith("balance"):
            out.append(float(prices["balance"][info.measure]))
        elif info.family in ("min_accounts", "max_accounts"):
            out.append(float(prices["count"][0]))
        else:
            out.append(float(prices["budget"][0]))
    return out
