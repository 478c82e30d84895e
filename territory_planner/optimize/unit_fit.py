"""Accounts that fit in no territory: a pre-check that looks at what must come with a big account.

The single-unit check in ``prechecks`` asks whether an account alone overflows every band. On real data
with two balance measures of different shapes that is rarely the problem; the problem is what the rest of
the territory must be. Los Angeles County as one account (sqrt of the labour force as potential, its log
as workload) fills 91% of a potential band at +-2% but only 10% of the workload band, so whichever rep
holds it needs 127 more workload from accounts carrying at most 323 potential; the least potential that
much workload comes with, even taking fractions of accounts, is 399. No plan exists, and the LP relaxation
cannot see it (it splits the county between reps).

For an account u and a rep j it may go to, the test is the LP "some fraction of each other account j may
serve, plus j's locked accounts, plus u, meets every one of j's band rows". When that LP is infeasible for
every rep u may go to, no plan exists: that is a proof. Reps with the same bands, the same allowed accounts
and the same locks are tested once. Accounts are tested from the largest share of a band down, within a
time cap; when the cap runs out, nothing is claimed about the accounts not tested.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.optimize import OptimizeResult, linprog

from territory_planner.errors import Conflict
from territory_planner.io.labels import first_few
from territory_planner.optimize.prechecks import amount, balance_floor, unit_label
from territory_planner.optimize.spec import BandRows, ModelSpec, band_rows

MIN_SHARE = 0.2  # accounts below this share of every band they may go to are not tested
RUN_OF_FITS = 30  # accounts are tested largest first; this many fitting in a row ends the test
MARGIN = 1e-6  # a claim needs the forced total beyond the band by this much (relative to the band)


def _classes(spec: ModelSpec, rows: BandRows) -> np.ndarray:
    """(p,) class id per rep: reps with the same bands, allowed accounts and locks are the same test."""
    p = spec.problem
    keys: dict[bytes, int] = {}
    out = np.empty(p.n_reps, dtype=np.int64)
    for j in range(p.n_reps):
        key = (
            np.round(rows.lower[:, j], 9).tobytes()
            + np.round(rows.upper[:, j], 9).tobytes()
            + np.packbits(spec.allowed[:, j]).tobytes()
            + np.packbits(p.unit_locked == j).tobytes()
        )
        out[j] = keys.setdefault(key, len(keys))
    return out


def _complement(
    spec: ModelSpec, rows: BandRows, u: int, j: int, within: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The free accounts' amounts (k, R), the room (R,) each row leaves them, low and high, when rep j
    holds u and its locked accounts, and what u and those locked accounts bring (R,). ``within`` (bool per
    unit) limits the free accounts further (e.g. the part of the map a home can reach)."""
    p = spec.problem
    locked_j = p.unit_locked == j
    free = spec.allowed[:, j] & (p.unit_locked < 0)
    if within is not None:
        free &= within
    free[u] = False
    fixed = rows.amount[locked_j].sum(axis=0) + (0.0 if locked_j[u] else rows.amount[u])
    return rows.amount[free], rows.lower[:, j] - fixed, rows.upper[:, j] - fixed, fixed


def _solve(
    a: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    objective: np.ndarray,
    skip: int = -1,
    deadline: float | None = None,
) -> OptimizeResult:
    """linprog over x in [0, 1]^k with lo <= a.T x <= hi on every row but ``skip`` (an infinite side or a
    lower side at or below 0 is no row); stopped at ``deadline`` (then not solved: no claim)."""
    a_ub, b_ub = [], []
    for r in range(a.shape[1]):
        if r == skip:
            continue
        if np.isfinite(hi[r]):
            a_ub.append(a[:, r])
            b_ub.append(hi[r])
        if np.isfinite(lo[r]) and lo[r] > 0:
            a_ub.append(-a[:, r])
            b_ub.append(-lo[r])
    return linprog(
        objective,
        A_ub=np.vstack(a_ub) if a_ub else None,
        b_ub=np.array(b_ub) if b_ub else None,
        bounds=(0.0, 1.0),
        method="highs",
        options=None if deadline is None else {"time_limit": max(deadline - time.perf_counter(), 0.01)},
    )


def _fits(a: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Is there x in [0, 1]^k with lo <= a.T x <= hi?"""
    top = a.sum(axis=0)
    if np.any(lo > top) or np.any(hi < 0):
        return False
    if not len(a):
        return True  # no free account, and 0 is within every row's room
    return bool(_solve(a, lo, hi, np.zeros(len(a))).status != 2)  # solved, or not settled: no claim


def _extreme(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, r: int, sign: float) -> float | None:
    """min (sign=1) or max (sign=-1) of row r's total over the other rows' bands; None if not solved."""
    if not len(a):
        others = [q for q in range(a.shape[1]) if q != r]
        return 0.0 if all(lo[q] <= 0 <= hi[q] for q in others) else None
    res = _solve(a, lo, hi, sign * a[:, r], skip=r)
    return float(sign * res.fun) if res.status == 0 else None


def _shares(spec: ModelSpec, rows: BandRows) -> np.ndarray:
    """(n_units,) each unit's largest share of the narrowest band it may go to."""
    share = np.zeros(spec.problem.n_units)
    for r in range(rows.amount.shape[1]):
        narrowest = np.where(spec.allowed, rows.upper[r][None, :], np.inf).min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(narrowest > 0, rows.amount[:, r] / narrowest, 0.0)
        share = np.maximum(share, np.nan_to_num(s, nan=0.0, posinf=0.0, neginf=0.0))
    return share


# above this many units the LPs of ``least_tolerance`` take seconds each whatever their time limit (33,791
# ZIPs: 2 s per LP, validate 29 s instead of 5), so validate shows the floor of the unit alone
LEAST_TOLERANCE_UNITS = 5_000


def least_tolerance(spec: ModelSpec, *, deadline: float) -> dict[str, float]:
    """Per measure, a least tolerance no plan can go below with the other rows' bands as they are (QA14 9:
    validate's table said Mumbai alone needs +-3.97% of potential, where Mumbai with its workload band met
    needs +-27.6%, as the same tool proves when the tolerance is below that). For the largest units, as
    in ``check``: whichever rep u goes to, the least and the most of the measure its territory can hold
    (fractions of the other accounts, the other rows in their bands) set how far from the target it must
    be; the bound is the smallest over u's reps, and the largest over the units tested. Starts from
    ``prechecks.balance_floor`` (the unit alone); units not tested by ``deadline`` add nothing."""
    p = spec.problem
    out = balance_floor(spec)
    if p.n_units < 2 or p.n_reps < 1 or not len(p.measures) or p.n_units > LEAST_TOLERANCE_UNITS:
        return out
    rows = band_rows(spec)
    share = _shares(spec, rows)
    classes = _classes(spec, rows)
    run = 0
    for u in np.argsort(-share, kind="stable").tolist():
        if share[u] < MIN_SHARE or run >= RUN_OF_FITS or time.perf_counter() > deadline:
            break
        firsts: dict[int, int] = {}
        for j in np.flatnonzero(spec.allowed[u]).tolist():
            firsts.setdefault(int(classes[j]), j)
        raised = False
        for m, measure in enumerate(p.measures):
            need = _least_need(spec, rows, u, list(firsts.values()), m, deadline)
            if need is not None and need > out[measure]:
                out[measure], raised = need, True
        run = 0 if raised else run + 1
    return out


def _least_need(
    spec: ModelSpec, rows: BandRows, u: int, reps: list[int], m: int, deadline: float
) -> float | None:
    """The least tolerance of measure ``m`` over ``reps`` (one per class) that lets some rep's territory
    hold u with the other rows in their bands; None when an LP is not settled or time runs out (no
    claim), and not counted for a rep whose other rows cannot be met at all (no tolerance of m helps)."""
    p = spec.problem
    best = np.inf
    for j in reps:
        if time.perf_counter() > deadline:
            return None
        target = float(p.target[m, j])
        if target <= 0:
            return None
        a, lo, hi, base = _complement(spec, rows, u, j)
        if not len(a):
            if all(lo[q] <= 0 <= hi[q] for q in range(a.shape[1]) if q != m):
                best = min(best, abs(base[m] / target - 1))
            continue
        least = _solve(a, lo, hi, a[:, m], skip=m, deadline=deadline)
        if least.status == 2:
            continue  # the other rows alone cannot be met at j
        most = _solve(a, lo, hi, -a[:, m], skip=m, deadline=deadline)
        if least.status != 0 or most.status != 0:
            return None
        low, high = base[m] + float(least.fun), base[m] - float(most.fun)
        best = min(best, max(0.0, low / target - 1, 1 - high / target))
    return float(best) if np.isfinite(best) else None


def check(spec: ModelSpec, *, deadline: float) -> list[Conflict]:
    """Accounts (units) that fit in no band they may go to, each with the numbers of one rep's band."""
    p = spec.problem
    if p.n_units < 2 or p.n_reps < 1 or not len(p.measures):
        return []
    rows = band_rows(spec)
    share = _shares(spec, rows)
    classes = _classes(spec, rows)
    size = p.target.sum(axis=0)  # the widest bands first: one fit ends the test of u
    conflicts: list[Conflict] = []
    run = 0
    for u in np.argsort(-share, kind="stable").tolist():
        if (
            share[u] < MIN_SHARE
            or time.perf_counter() > deadline
            or len(conflicts) >= 10
            or run >= RUN_OF_FITS
        ):
            break
        reps = np.flatnonzero(spec.allowed[u])
        reps = reps[np.argsort(-size[reps], kind="stable")]
        firsts: dict[int, int] = {}
        for j in reps.tolist():
            firsts.setdefault(int(classes[j]), j)
        fits = False
        for j in firsts.values():
            if time.perf_counter() > deadline:
                return conflicts  # not every class tested: nothing claimed for u
            if _fits(*_complement(spec, rows, u, j)[:3]):
                fits = True
                break
        # a claim needs every class's "infeasible" confirmed by a row forced out of its band
        confirmed: list[Conflict] = []
        for j in [] if fits else firsts.values():
            if time.perf_counter() > deadline:
                return conflicts  # not every class confirmed: nothing claimed for u
            told = _conflict(spec, rows, u, j)
            if told is None:
                break
            confirmed.append(told)
        if confirmed and len(confirmed) == len(firsts):
            run = 0
            conflicts.append(confirmed[0])
            conflicts += _count_families(spec, rows, u, list(firsts.values()), deadline)
        else:
            run += 1
    return conflicts


def _count_families(
    spec: ModelSpec, rows: BandRows, u: int, reps: list[int], deadline: float
) -> list[Conflict]:
    """The account-count limits as families in conflict when the proof for ``u`` needs them: without the
    count row, ``u`` fits some class's territory (QA9 O2: the proof rested on --min-accounts /
    --max-accounts, and only ``balance`` was named). Nothing added once ``deadline`` has passed."""
    if rows.names[-1] != "accounts" or len(rows.names) < 2:
        return []
    kept = slice(0, len(rows.names) - 1)
    plain = BandRows(
        rows.amount[:, kept], rows.lower[kept], rows.upper[kept], rows.names[kept], rows.scale[kept]
    )
    if not any(time.perf_counter() < deadline and _fits(*_complement(spec, plain, u, j)[:3]) for j in reps):
        return []
    label = unit_label(spec, u)
    out = []
    for family, limit in (("min_accounts", spec.min_accounts), ("max_accounts", spec.max_accounts)):
        if limit is not None:
            flag = "--" + family.replace("_", "-")
            out.append(Conflict(family, f"{label} fits in no territory only with {flag} {limit}: without "
                                "the account-count limits it fits"))  # fmt: skip
    return out


@dataclass(frozen=True)
class Shortfall:
    """Why rep j's territory holding a unit cannot meet its bands: with the other rows in their bands, row
    ``name``'s total is at least (``side`` "above") or at most ("below") ``total``, beyond ``bound``."""

    row: int
    name: str
    others: str  # the rows held in their bands, "" when there are none
    side: str
    total: float
    bound: float
    needed_tolerance: float | None  # the tolerance of that measure that would admit ``total``

    @property
    def amount(self) -> float:
        return abs(self.total - self.bound)

    def text(self, where: str) -> str:
        met = f"with its {self.others} band met, " if self.others else ""
        least = "at least" if self.side == "above" else "at most"
        limit = "maximum" if self.side == "above" else "minimum"
        out = (
            f"{met}{where} holds {least} {amount(self.total, self.name)} {self.name}, {self.side} the "
            f"band's {limit} {amount(self.bound, self.name)}"
        )
        if self.needed_tolerance is not None:
            out += (
                f"; with the other tolerances as they are, it needs a {self.name} tolerance of at least "
                f"{100 * self.needed_tolerance:.1f}%"
            )
        return out


def shortfall(spec: ModelSpec, u: int, j: int, within: np.ndarray | None = None) -> Shortfall | None:
    """The proof that rep j's territory cannot hold unit u (and j's locked units) within its bands, using
    only the units in ``within``: a row the other rows' bands force out of its own band by a clear
    margin. None when it fits, or when no single row shows it (then nothing is claimed)."""
    rows = band_rows(spec)
    a, lo, hi, base = _complement(spec, rows, u, j, within)
    if _fits(a, lo, hi):
        return None
    return _shortfall(spec, rows, j, a, lo, hi, base)


def _shortfall(
    spec: ModelSpec, rows: BandRows, j: int, a: np.ndarray, lo: np.ndarray, hi: np.ndarray, base: np.ndarray
) -> Shortfall | None:
    p = spec.problem
    for r in range(a.shape[1]):
        others = " and ".join(rows.names[q] for q in range(a.shape[1]) if q != r)
        for sign, side in ((1.0, "above"), (-1.0, "below")):
            bound = rows.upper[r, j] if side == "above" else rows.lower[r, j]
            room = hi[r] if side == "above" else lo[r]
            if not np.isfinite(room):
                continue
            value = _extreme(a, lo, hi, r, sign)
            if value is None or sign * (value - room) <= MARGIN * max(1.0, abs(bound)):
                continue
            total = float(base[r] + value)
            target = float(p.target[r, j]) if r < len(p.measures) else 0.0
            need = abs(total / target - 1) if target > 0 else None
            return Shortfall(r, rows.names[r], others, side, total, float(bound), need)
    return None


def _conflict(spec: ModelSpec, rows: BandRows, u: int, j: int) -> Conflict | None:
    """The proof for u, told with rep j's band (the widest u may go to); None when not confirmed."""
    p = spec.problem
    why = _shortfall(spec, rows, j, *_complement(spec, rows, u, j))
    if why is None:
        return None
    amounts = ", ".join(f"{amount(rows.amount[u, r], name)} {name}" for r, name in enumerate(rows.names))
    rid = p.rep_ids[j]
    where = (
        f"any territory it may go to (e.g. {rid}'s)" if spec.allowed[u].sum() > 1 else f"{rid}'s territory"
    )
    text = why.text(where) + (" (or a rep with more capacity)" if why.needed_tolerance is not None else "")
    text += _locks_text(spec, u, j)
    return Conflict(
        "balance",
        f"{unit_label(spec, u)} ({amounts}) fits in no territory: {text}",
        rep_id=str(p.rep_ids[j]),
        measure=why.name if why.row < len(p.measures) else None,
        amount=why.amount,
    )


def _locks_text(spec: ModelSpec, u: int, j: int) -> str:
    """What locks put into rep j's territory in a proof about unit u: u's own lock and the other units
    locked to j count in it whatever the plan (QA19 F10: Bogota, Cali and Medellin, locked to one rep,
    were explained as Bogota fitting nowhere, with tolerance and capacity as the fixes)."""
    p = spec.problem
    others = [int(k) for k in np.flatnonzero(p.unit_locked == j) if k != u]
    if p.unit_locked[u] != j and not others:
        return ""
    rid = p.rep_ids[j]
    parts = [f"it is locked to {rid}"] if p.unit_locked[u] == j else []
    if others:
        named = first_few((unit_label(spec, k).removeprefix("account ") for k in others), 3)
        parts.append(f"{len(others)} other account(s) locked to {rid} count in that territory too ({named})")
    return f"; {' and '.join(parts)}: unlocking some of them is another way out"


def crowded(spec: ModelSpec) -> list[Conflict]:
    """Big accounts that only a few reps' bands are wide enough for, more than those bands hold together.

    Hall's condition on the reps each unit's size leaves it: a unit fits (alone) only the bands at least as
    large as it on every row; the units confined that way to a set of reps must fit in those reps' bands
    together. (The segment pre-check does the same on the reps segments and locks allow; this one only
    reports sets that size narrowed.) Harris County (1.98M) and Dallas County (1.19M) both fit only the one
    capacity-2 rep's band (2.09M to 2.30M) of ten Texas reps: together they overflow it."""
    p = spec.problem
    rows = band_rows(spec)
    fit = spec.allowed.copy()
    for r in range(rows.amount.shape[1]):
        fit &= rows.amount[:, r][:, None] <= rows.upper[r][None, :] * (1 + 1e-12) + 1e-12
    placed = fit.any(axis=1)  # a unit no band holds is the single-unit check's
    narrowed = placed & (fit.sum(axis=1) < spec.allowed.sum(axis=1))
    if not narrowed.any():
        return []
    patterns = np.unique(fit[narrowed], axis=0)
    if len(patterns) > 200:
        patterns = patterns[np.argsort(patterns.sum(axis=1), kind="stable")[:200]]  # the tightest sets
    out: list[Conflict] = []
    for pattern in patterns:
        confined = placed & ~(fit & ~pattern[None, :]).any(axis=1)
        if not (confined & narrowed).any():
            continue
        for r in range(rows.amount.shape[1]):
            demand = float(rows.amount[confined, r].sum())
            room = float(rows.upper[r, pattern].sum())
            if not np.isfinite(room) or demand <= room * (1 + MARGIN) + MARGIN:
                continue
            big = np.flatnonzero(confined & narrowed)
            big = big[np.argsort(-rows.amount[big, r], kind="stable")]
            fmt = partial(amount, measure=rows.names[r])
            named = ", ".join(f"{unit_label(spec, u)} ({fmt(rows.amount[u, r])})" for u in big[:5].tolist())
            named += f" and {len(big) - 5} more" if len(big) > 5 else ""
            reps = [str(x) for x in p.rep_ids[pattern]]
            band = [
                f"{fmt(rows.lower[r, j])} to {fmt(rows.upper[r, j])}" for j in np.flatnonzero(pattern)[:5]
            ]
            others = int(confined.sum()) - len(big)
            extra = f", with {others} account(s) only they may serve," if others else ""
            if len(reps) == 1:
                where, limit, advice = f"{reps[0]}'s ({band[0]})", "its maximum", reps[0]
            else:
                listed = "; ".join(f"{rid}'s {b}" for rid, b in zip(reps[:5], band[:5], strict=True))
                where, limit, advice = f"those of {listed}", "the most those bands hold,", "those reps"
            out.append(
                Conflict(
                    "balance",
                    f"{named}: too big in {rows.names[r]} for any band but {where}; together{extra} they "
                    f"hold {fmt(demand)} {rows.names[r]}, above {limit} {fmt(room)}; widen --tolerance or "
                    f"give {advice} more capacity",
                    rep_id=reps[0] if len(reps) == 1 else None,
                    measure=rows.names[r] if r < len(p.measures) else None,
                    amount=demand - room,
                )
            )
            break
    return out
