"""``ModelSpec``: the numbers of one model instance (costs, bands, budgets) derived from a problem."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import hierarchy
from territory_planner.optimize.hierarchy import GroupBands


@dataclass(frozen=True)
class ModelSpec:
    problem: TerritoryProblem
    cost: np.ndarray  # (n_units, p) compactness: workload x km
    moved: np.ndarray  # (n_units, p) potential that moves if the unit goes to that rep
    stay: np.ndarray  # (n_units, p) potential that stays with its current rep
    held: np.ndarray  # (p,) potential each rep holds today
    disruption_price: float  # objective units per unit of moved potential
    lower: np.ndarray  # (M, p) band
    upper: np.ndarray  # (M, p)
    budget: float | None  # max moved potential overall
    rep_budget_share: float | None  # max share of held potential each rep may lose
    min_accounts: int | None
    max_accounts: int | None
    allowed: np.ndarray  # (n_units, p) bool
    groups: GroupBands | None = None  # district / region band rows (``optimize.hierarchy``)

    @property
    def objective(self) -> np.ndarray:
        if self.disruption_price > 0:
            out: np.ndarray = self.cost + self.disruption_price * self.moved
            return out
        return self.cost

    def as_given(self) -> ModelSpec:
        """The same model with the user's bands for reps, districts and regions, not the model's rounded
        inwards to a whole-number measure's step (``integral_bands``): what a relaxed plan's violation is
        measured against (rounding keeps every plan, but a band with no whole total inside is empty, and
        every plan then broke it by a whole step)."""
        p = self.problem
        return dataclasses.replace(
            self,
            lower=p.lower_band.copy(),
            upper=p.upper_band.copy(),
            groups=None if self.groups is None else self.groups.as_given(),
        )

    def without_objective(self) -> ModelSpec:
        """The same rows with every plan of cost 0: a solve stops at its first plan (a feasibility
        question: whether any plan, or any connected plan, exists)."""
        return dataclasses.replace(self, cost=np.zeros_like(self.cost), disruption_price=0.0)

    @classmethod
    def build(
        cls,
        problem: TerritoryProblem,
        home_lat: np.ndarray,
        home_lon: np.ndarray,
        *,
        max_moved_share: float | None = None,
        max_moved_share_per_rep: float | None = None,
        disruption_weight: float = 0.0,
        min_accounts: int | None = None,
        max_accounts: int | None = None,
        cost: np.ndarray | None = None,
        group_tolerance: dict[str, dict[str, float]] | None = None,
    ) -> ModelSpec:
        """``cost`` (n_units, p) replaces the great-circle compactness cost (e.g. planar distances);
        ``group_tolerance`` {"district" | "region": {measure or "*": tol}} adds the hierarchy's bands."""
        cost = problem.unit_cost(home_lat, home_lon) if cost is None else np.asarray(cost, dtype=float)
        stay = problem.stay_potential()
        unit_cur_pot = stay.sum(axis=1)
        moved = unit_cur_pot[:, None] - stay
        held = problem.held_potential()
        total_pot = float(problem.acc_potential.sum())
        price = 0.0
        if disruption_weight > 0 and total_pot > 0:
            # W = 1 prices moving 1% of all potential like 1% of the current alignment's travel
            has = problem.acc_current >= 0
            cur_travel = (
                float(
                    (
                        problem.acc_workload[has]
                        * problem.account_distance(home_lat, home_lon)[
                            np.flatnonzero(has), problem.acc_current[has]
                        ]
                    ).sum()
                )
                if has.any()
                else float(cost.min(axis=1).sum())
            )
            price = disruption_weight * max(cur_travel, 1e-9) / total_pot
        lower, upper = integral_bands(problem.unit_amount, problem.lower_band, problem.upper_band)
        return cls(
            problem=problem,
            cost=cost,
            moved=moved,
            stay=stay,
            held=held,
            disruption_price=price,
            lower=lower,
            upper=upper,
            budget=None if max_moved_share is None else max_moved_share * total_pot,
            rep_budget_share=max_moved_share_per_rep,
            min_accounts=min_accounts,
            max_accounts=max_accounts,
            allowed=problem.allowed,
            groups=hierarchy.build(
                problem.unit_amount,
                problem.target,
                {"district": problem.districts, "region": problem.rep_regions},
                group_tolerance or {},
                problem.measures,
            ),
        )


@dataclass(frozen=True)
class BandRows:
    """Every per-rep band row of a model: the balance measures, then the account count when --min-accounts
    or --max-accounts is set; amounts (n_units, R), bands (R, p), the rows' names, and each row's mean
    amount per rep (``scale``: violation counted in targets, as the balancing search and --relax do)."""

    amount: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    names: tuple[str, ...]
    scale: np.ndarray  # (R,)


def band_rows(spec: ModelSpec) -> BandRows:
    p = spec.problem
    amount = [p.unit_amount[:, m] for m in range(len(p.measures))]
    lower = [spec.lower[m] for m in range(len(p.measures))]
    upper = [spec.upper[m] for m in range(len(p.measures))]
    names = list(p.measures)
    if spec.min_accounts is not None or spec.max_accounts is not None:
        amount.append(p.unit_size.astype(float))
        lower.append(np.full(p.n_reps, -np.inf if spec.min_accounts is None else float(spec.min_accounts)))
        upper.append(np.full(p.n_reps, np.inf if spec.max_accounts is None else float(spec.max_accounts)))
        names.append("accounts")
    a = np.column_stack(amount)
    scale = np.maximum(a.sum(axis=0) / max(p.n_reps, 1), 1e-12)
    return BandRows(a, np.vstack(lower), np.vstack(upper), tuple(names), scale)


def integral_bands(amount: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bands of measures whose unit amounts are whole multiples of some g (account counts, visits) rounded
    inwards to multiples of g: every integer plan's total is such a multiple, so no plan is lost, while
    the LP's fractional vertex can no longer sit between two reachable totals (a rep at 40.46 accounts
    that no whole plan can have). A band with no multiple of g inside stays empty (lower > upper), which
    the pre-checks report."""
    lower, upper = lower.copy(), upper.copy()
    for m in range(amount.shape[1]):
        a = amount[:, m]
        if not len(a) or a.max() > 1e12 or not np.allclose(a, np.round(a), rtol=0.0, atol=1e-9):
            continue
        g = int(np.gcd.reduce(np.round(a).astype(np.int64)))
        if g <= 0:
            continue
        first, last = inward_steps(lower[m], upper[m], g)
        lower[m], upper[m] = first * g, last * g
    return lower, upper


def amount_step(a: np.ndarray, max_decimals: int = 4) -> float:
    """The largest step g (a whole number times 10^-d, d <= ``max_decimals``) of which every amount is a
    whole multiple: every plan's total is then one too. 0 when there is none (amounts such as square
    roots of populations)."""
    a = np.asarray(a, dtype=float)
    if not len(a) or not np.isfinite(a).all():
        return 0.0
    for d in range(max_decimals + 1):
        scaled = a * 10.0**d
        if np.abs(scaled).max() > 1e15:
            return 0.0
        whole = np.round(scaled)
        # only float noise apart from whole, a few units in the last place (a value such as 1.0000001 is
        # not taken for 1; nor, at 1e12 after scaling, a fifth decimal: a relative tolerance was too wide)
        if (np.abs(scaled - whole) <= 1e-9 + 8 * np.spacing(np.abs(whole))).all():
            g = int(np.gcd.reduce(np.abs(whole).astype(np.int64)))
            return g / 10.0**d if g > 0 else 0.0
    return 0.0


def _in_steps(value: float | np.ndarray) -> float | np.ndarray:
    """How far a band's end, counted in steps, may be off a whole number of steps by float error alone:
    the ends come from float sums of many amounts (865 three-decimal potentials: 1.7e-7 steps off at a
    total of 92,780,656 steps, which a fixed 1e-9 took for a band holding no multiple; QA37 F1), so the
    allowance grows with the number of steps (1e-12 of it: far below the step itself)."""
    return 1e-9 + 1e-12 * np.abs(value)


def inward_steps(
    lower: float | np.ndarray, upper: float | np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last whole number of ``step``s (> 0) within [lower, upper], float error allowed
    (``_in_steps``); the first is above the last when the band holds none. Scalars or arrays."""
    lo, hi = np.asarray(lower) / step, np.asarray(upper) / step
    return np.ceil(lo - _in_steps(lo)), np.floor(hi + _in_steps(hi))


def holds_no_multiple(lower: float, upper: float, step: float) -> bool:
    """Whether the band [lower, upper] holds no whole multiple of ``step`` (> 0)."""
    if step <= 0 or not (np.isfinite(lower) and np.isfinite(upper)):
        return False
    first, last = inward_steps(lower, upper, step)
    return bool(first > last)


def reach_pairs(spec: ModelSpec, cost: np.ndarray, reach: float) -> np.ndarray:
    """(n, p) bool: for each rep, its cheapest units (by ``cost``, inf = not allowed; ties by unit order)
    whose amounts add up to ``reach`` times its upper band on every measure (where a band has no upper end,
    ``reach`` times the mean share: the measure's total, summed in unit order, over the reps).

    Each rep needs a few times its share of the units, not all of them: the ``REACH_PREFIX`` x n / p
    cheapest units of every rep are found by a partial sort, and a rep whose goal lies beyond them is
    sorted in full (on 33,300 ZIPs x 200 reps, 0.7 to 2.4 s for the full sort of every rep)."""
    p = spec.problem
    n, reps = cost.shape
    total = p.unit_amount.sum(axis=0)
    goal = np.array(
        [
            np.where(np.isfinite(spec.upper[m]), reach * spec.upper[m], reach * total[m] / reps)
            for m in range(p.unit_amount.shape[1])
        ]
    ).reshape(-1, reps)
    out = np.zeros((n, reps), dtype=bool)
    k = min(n, REACH_PREFIX * -(-n // max(reps, 1)) + 64)
    if k < n:
        near = np.sort(np.argpartition(cost, k - 1, axis=0)[:k], axis=0)  # (k, p): unit order kept
        cols = np.arange(reps)[None, :]
        within = cost[near, cols]
        edge = within.max(axis=0)  # the k-th cheapest cost: units at it may lie outside ``near``
        by_cost = np.argsort(within, axis=0, kind="stable")
        order = near[by_cost, cols]  # the stable order's first units, up to ties at ``edge``
        sure = (within < edge[None, :]).sum(axis=0)  # how many of them are surely in that order
        need, done = _needed(p.unit_amount, order, goal, len(order))
        done &= need <= sure
        take = (np.arange(k)[:, None] < need[None, :]) & done[None, :]
        out[order[take], np.nonzero(take)[1]] = True
        rest = np.flatnonzero(~done)
    else:
        rest = np.arange(reps)
    if len(rest):  # reps whose goal lies beyond the partial sort: every unit sorted
        order = np.argsort(cost[:, rest], axis=0, kind="stable")
        need, _ = _needed(p.unit_amount, order, goal[:, rest], n)
        take = np.arange(n)[:, None] < np.minimum(need, n)[None, :]
        out[order[take], rest[np.nonzero(take)[1]]] = True
    return out


REACH_PREFIX = 8  # reach_pairs: each rep's first this many times n / p cheapest units, partially sorted


def _needed(
    amount: np.ndarray, order: np.ndarray, goal: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each column of ``order`` (units, cheapest first): how many of its first units reach ``goal``
    on every measure, and whether they do within its ``length`` units."""
    need = np.zeros(order.shape[1], dtype=np.int64)
    done = np.ones(order.shape[1], dtype=bool)
    for m in range(amount.shape[1]):
        cum = np.cumsum(amount[:, m][order], axis=0)
        short = (cum < goal[m][None, :]).sum(axis=0)
        need = np.maximum(need, short + 1)
        done &= short < length
    return need, done
