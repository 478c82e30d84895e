"""Proofs and explanations of an infeasible model, each backed by an LP that was solved to the end.

"Infeasible" is said only with a proof: a pre-check (``prechecks``), a phase-1 LP over every allowed
(unit, rep) pair whose least violation is positive (column generation converged: no pair prices in), a
Lagrangian bound on the least moved potential above the disruption budget, or a MIP over the whole
model that HiGHS proves infeasible. A stage that stopped early proves nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import time

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError
from territory_planner.optimize import hierarchy, repair
from territory_planner.optimize import lp as lpmod
from territory_planner.optimize.prechecks import amount as money_or
from territory_planner.optimize.prechecks import fmt, money, segment_allowed
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import listed
from territory_planner.solvers.base import Backend, SolveStatus

log = logging.getLogger(__name__)
FEASIBILITY_TOL = 1e-6  # least violation (in targets) below which the LP counts as feasible


def explain_slack(spec: ModelSpec, lp: lpmod.LpResult) -> list[Conflict]:
    p = spec.problem
    out = []
    for info, amount in sorted(lp.slack_by_row, key=lambda t: -t[1])[:30]:
        rep = str(p.rep_ids[info.rep]) if info.rep >= 0 else None
        if info.family in (hierarchy.FAMILY_MIN, hierarchy.FAMILY_MAX) and spec.groups is not None:
            out.append(hierarchy.explain(spec, info, amount))
        elif info.family.startswith("balance"):
            m = p.measures[info.measure]
            lo, hi = spec.lower[info.measure, info.rep], spec.upper[info.measure, info.rep]
            side = "short of the minimum" if info.family == "balance_min" else "above the maximum"
            msg = (
                f"{rep} {m}: band {money_or(lo, m)} to {money_or(hi, m)}; the best fractional plan is "
                f"{money_or(amount, m)} {side}"
            )
            out.append(Conflict(info.family, msg, rep_id=rep, measure=m, amount=amount))
        elif info.family == "budget" and spec.budget is not None:
            total = float(p.acc_potential.sum())
            msg = (
                f"at most {money(spec.budget)} potential may move ({100 * spec.budget / total:.1f}%); the "
                f"least-violation fractional plan exceeds that by {money(amount)}"
            )
            out.append(Conflict("disruption_budget", msg, amount=amount))
        elif info.family == "rep_budget" and spec.rep_budget_share is not None:
            msg = (
                f"{rep} may lose at most {100 * spec.rep_budget_share:.0f}% of the "
                f"{money(spec.held[info.rep])} potential it holds; balance needs {money(amount)} more to move"
            )
            out.append(Conflict("disruption_budget", msg, rep_id=rep, amount=amount))
        else:
            limit = spec.min_accounts if info.family == "min_accounts" else spec.max_accounts
            msg = f"{rep}: {info.family.replace('_', ' ')} {limit} missed by {fmt(amount)} accounts"
            out.append(Conflict(info.family, msg, rep_id=rep, amount=amount))
    return out


WHOLE_LP_PAIRS = 400_000  # up to this many allowed pairs a proof LP starts with all of them (one solve)
# the least-moved LP is over every pair up to this many (its columns enter as arrays, its slacks held at
# 0): QA21's 4,031 African cities x 100 reps (403,100 pairs) got no bound in 23 s by columns
LEAST_MOVED_WHOLE_PAIRS = 1_000_000
# a budget proven too small: HiGHS seeks the least share of plans of whole accounts on models of at most
# this many pairs, for at most this long, to this gap (``whole_least_moved``)
WHOLE_LEAST_PAIRS = 100_000
WHOLE_LEAST_SECONDS = 10.0
WHOLE_LEAST_GAP = 1e-4
LEAST_MOVED_NEAREST = 8  # above WHOLE_LP_PAIRS the least-moved LP's first columns: current and nearest reps


def _pool(spec: ModelSpec) -> np.ndarray:
    if int(spec.allowed.sum()) <= WHOLE_LP_PAIRS:
        out: np.ndarray = spec.allowed.copy()
        return out
    return lpmod.initial_candidates(spec, 8)


def _phase1_prices(spec: ModelSpec) -> dict[str, np.ndarray]:
    """One unit of violation of any row costs 1 / (that row's typical right-hand side)."""
    p = spec.problem
    target = np.maximum(np.abs(spec.upper).mean(axis=1), 1e-12)  # (M,)
    count = max(p.n_accounts / max(p.n_reps, 1), 1.0)
    pot = max(float(p.acc_potential.sum()), 1e-12)
    return {"balance": 1.0 / target, "count": np.array([1.0 / count]), "budget": np.array([1.0 / pot])}


def phase1(
    spec: ModelSpec, backend: Backend, *, deadline: float, seed: int, threads: int | None
) -> lpmod.LpResult | None:
    """The least total violation of the bands, counts and budgets over every allowed pair (objective 0,
    unit-priced slacks). Converged with positive slack: the model is infeasible even fractionally.
    None when it could not be solved before ``deadline``."""
    zero = np.zeros_like(spec.cost)
    test = dataclasses.replace(spec, cost=zero, disruption_price=0.0)
    prices = _phase1_prices(spec)
    return _proof_lp(
        "phase-1", test, backend, prices, deadline=deadline, seed=seed, threads=threads, escalate=False
    )


def _proof_lp(
    what: str,
    test: ModelSpec,
    backend: Backend,
    prices: dict[str, np.ndarray],
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    escalate: bool = True,
    stop_at: float | None = None,
    pool: np.ndarray | None = None,
    hard: bool = False,
) -> lpmod.LpResult | None:
    """Column generation for a proof LP over ``test`` (from ``pool``, by default every pair when that
    is affordable), or None when it could not be solved in time."""
    try:
        return lpmod.solve_lp(
            test,
            backend,
            _pool(test) if pool is None else pool,
            deadline=deadline,
            seed=seed,
            threads=threads,
            prices=prices,
            escalate=escalate,
            max_rounds=200,
            stop_at=stop_at,
            hard=hard,
        )
    except Exception as err:  # noqa: BLE001 - a proof that could not be computed proves nothing
        log.info("%s LP failed: %s", what, err)
        return None


def _least_moved_prices(spec: ModelSpec) -> dict[str, np.ndarray]:
    """Slack prices on the scale of the min-moved LP's duals: moving one unit of a measure moves about
    potential / amount of potential. The generic prices (built for travel costs, divided by the smallest
    amounts) reach 1e12 on sales data and stall HiGHS on a 600 x 20 LP."""
    p = spec.problem
    prices = lpmod.slack_prices(spec)
    pot = np.bincount(p.acc_unit, weights=p.acc_potential, minlength=p.n_units)
    for m in range(len(p.measures)):
        a = p.unit_amount[:, m]
        use = (a > 0) & (pot > 0)
        if use.any():
            prices["balance"][m] = 10.0 * float(np.quantile(pot[use] / a[use], 0.95)) + 1.0
    prices["count"] = np.array([10.0 * float(np.quantile(pot, 0.95)) + 1.0]) if len(pot) else prices["count"]
    return prices


def scaled_violation(spec: ModelSpec, res: lpmod.LpResult) -> float:
    """The LP's slack in targets: each row's violation over that row's typical right-hand side."""
    prices = _phase1_prices(spec)
    total = 0.0
    for info, amount in res.slack_by_row:
        if info.family.startswith("balance"):
            total += amount * float(prices["balance"][info.measure])
        elif info.family in ("min_accounts", "max_accounts"):
            total += amount * float(prices["count"][0])
        else:
            total += amount * float(prices["budget"][0])
    return total


def least_moved(
    spec: ModelSpec, backend: Backend, *, deadline: float, seed: int, threads: int | None
) -> tuple[float, lpmod.LpResult] | None:
    """(a lower bound on the potential any plan meeting the other constraints must move, the LP).
    The bound is the Lagrangian bound of the min-moved LP (valid whether or not it converged); the LP's
    solution is a start for plans that must move little."""
    test = dataclasses.replace(spec, cost=spec.moved.copy(), disruption_price=0.0, budget=None)
    whole = int(spec.allowed.sum()) <= LEAST_MOVED_WHOLE_PAIRS
    # Over every pair: one solve, exact, with the slacks held at 0 (QA21 Q1: with them the simplex took
    # over 60 s on 2,223 European cities x 80 reps, 6 s without; an LP with no solution is what a slack
    # would have shown: balance alone is infeasible). Above that size, column generation from each unit's
    # current rep and its nearest reps by travel (the moved potential ties every other rep, so it cannot
    # pick them).
    pool = test.allowed.copy() if whole else lpmod.initial_candidates(spec, LEAST_MOVED_NEAREST)
    # only the budget's side of the LP value matters: no need to converge once that is settled
    res = _proof_lp(
        "least-moved",
        test,
        backend,
        _least_moved_prices(spec),
        deadline=deadline,
        seed=seed,
        threads=threads,
        stop_at=spec.budget,
        pool=pool,
        hard=whole,
    )
    if res is None:
        return None
    if scaled_violation(spec, res) > FEASIBILITY_TOL or not np.isfinite(res.bound):
        return None  # balance alone is infeasible (the phase-1 proof says so) or no bound yet
    return float(res.bound), res


def families_in_conflict(spec: ModelSpec, backend: Backend, seed: int, deadline: float) -> list[str]:
    """Which optional families, when dropped, make the LP feasible (each test is one more LP)."""

    tests: dict[str, ModelSpec] = {}
    if spec.budget is not None or spec.rep_budget_share is not None:
        tests["disruption budget"] = dataclasses.replace(spec, budget=None, rep_budget_share=None)
    if spec.min_accounts is not None or spec.max_accounts is not None:
        tests["min/max accounts"] = dataclasses.replace(spec, min_accounts=None, max_accounts=None)
    if spec.groups is not None:
        tests["district/region bands"] = dataclasses.replace(spec, groups=None)
    found = []

    def feasible(test: ModelSpec) -> bool:
        res = phase1(test, backend, deadline=deadline, seed=seed, threads=1)
        return res is not None and scaled_violation(test, res) <= FEASIBILITY_TOL

    for name, test in tests.items():
        if time.perf_counter() > deadline:
            break
        if feasible(test):
            found.append(name)
    # who may take a unit: each restriction dropped alone, then two together, then all three, the first
    # round that makes the LP feasible named (QA46 F2, QA47 F4: "locks and segments", "segments and
    # --keep-home" were named together where the model had no lock, or --keep-home played no part)
    restrictions = _restrictions(spec)
    for size in range(1, len(restrictions) + 1):
        named = []
        for dropped in itertools.combinations(restrictions, size):
            if time.perf_counter() > deadline:
                break
            if feasible(dataclasses.replace(spec, allowed=_allowed_without(spec, restrictions, dropped))):
                named.append(_together(dropped))
        if named:
            found += named
            break
    return found


_LOCKS, _SEGMENTS, _KEEP_HOME = "locks", "segments", "--keep-home"


def keep_home_cleared(spec: ModelSpec, backend: Backend, *, deadline: float, seed: int) -> tuple[str, ...]:
    """``("--keep-home",)`` when the pre-checks' model, with ``--keep-home``'s confinement lifted, is still
    infeasible even as an LP (phase 1): the option plays no part, and no lever is offered for it (QA48 F3:
    "a smaller --keep-home frees them" beside a lock and a segment overflow that involve no account near a
    home), or when it confines no account. Nothing when it may play a part, or the LP does not settle
    before ``deadline``."""
    restrictions = _restrictions(spec)
    if _KEEP_HOME not in restrictions:  # it confines no account (none near a home, or all locked anyway)
        return (_KEEP_HOME,)
    test = dataclasses.replace(spec, allowed=_allowed_without(spec, restrictions, (_KEEP_HOME,)))
    res = phase1(test, backend, deadline=deadline, seed=seed, threads=1)
    return (_KEEP_HOME,) if res is not None and scaled_violation(test, res) > FEASIBILITY_TOL else ()


def _restrictions(spec: ModelSpec) -> dict[str, np.ndarray]:
    """The restrictions on which rep may take a unit that the model has, each as the (units, reps) pairs it
    allows (the locks: the locked units, as a column): a user's lock, segments, ``--keep-home``'s
    confinement near the homes (its locks of a unit near one home only are its own)."""
    p = spec.problem
    user = p.unit_user_lock() >= 0
    by_segment = segment_allowed(p)
    near = np.ones_like(spec.allowed)
    if p.unit_home_kept is not None and p.home_km is not None and p.unit_home_kept.any():
        from territory_planner.model.homes import near_homes

        near = ~p.unit_home_kept[:, None] | near_homes(p, p.home_km)
    out = {}
    if user.any():
        out[_LOCKS] = user[:, None]
    if (~by_segment[~user]).any():
        out[_SEGMENTS] = by_segment
    if (~near[~user]).any():
        out[_KEEP_HOME] = near
    return out


def _allowed_without(
    spec: ModelSpec, restrictions: dict[str, np.ndarray], dropped: tuple[str, ...]
) -> np.ndarray:
    """The pairs allowed with the restrictions ``dropped`` lifted and the others kept."""
    free = np.ones_like(spec.allowed)
    for name in (_SEGMENTS, _KEEP_HOME):
        if name in restrictions and name not in dropped:
            free &= restrictions[name]
    if _LOCKS in restrictions and _LOCKS not in dropped:
        locked = restrictions[_LOCKS][:, 0]
        free[locked] = spec.allowed[locked]  # a locked unit keeps its rep
    return free


def _together(dropped: tuple[str, ...]) -> str:
    """``locks``; ``locks and segments together``; ``locks, segments and --keep-home together``."""
    return dropped[0] if len(dropped) == 1 else f"{listed(list(dropped))} together"


def above_budget(spec: ModelSpec, moved: float) -> bool:
    """``moved`` potential (a plan's, or a proven least) is beyond the disruption budget, past rounding."""
    return spec.budget is not None and moved > spec.budget * (1 + 1e-9) + 1e-9


def budget_error(
    spec: ModelSpec,
    least: float,
    backend: Backend | None = None,
    *,
    deadline: float = 0.0,
    seed: int = 0,
    threads: int | None = None,
) -> InfeasibleError:
    """The disruption budget is below ``least``, a proven lower bound on the potential to move. With a
    ``backend`` and time left before ``deadline``, locks and segments are named too when the bound rests
    on them (``_locks_too``)."""
    whole = None
    if backend is not None and time.perf_counter() < deadline:
        whole = whole_least_moved(spec, backend, deadline=deadline, seed=seed, threads=threads)
    err = _budget_error(spec, least, whole)
    if backend is not None:
        err.conflicts.extend(_locks_too(spec, backend, deadline=deadline, seed=seed, threads=threads))
    return err


def _locks_too(
    spec: ModelSpec, backend: Backend, *, deadline: float, seed: int, threads: int | None
) -> list[Conflict]:
    """QA9 O4: a budget proof whose bound needs the locks or segments (dropped, the least moved share is
    within the budget) names them as well. Nothing when the model has none, or the LP without them says
    nothing in time."""

    p = spec.problem
    locked = p.unit_locked >= 0
    # a lock forbids its unit's other reps; a segment restriction forbids a pair of an unlocked unit
    families = (["lock"] if locked.any() else []) + ([] if spec.allowed[~locked].all() else ["segment"])
    if spec.budget is None or not families or time.perf_counter() >= deadline:
        return []
    free = dataclasses.replace(spec, allowed=np.ones_like(spec.allowed))
    least = least_moved(free, backend, deadline=deadline, seed=seed, threads=threads)
    if least is None or above_budget(spec, least[0]):
        return []
    total = float(p.acc_potential.sum())
    share = f" ({100 * least[0] / total:.1f}%)" if total > 0 else ""
    # the families the model has, not both whatever it has (QA113 F4: "the locks and segments" of a
    # roster with no segments)
    dropped = " and ".join({"lock": "the locks", "segment": "the reps' segments"}[f] for f in families)
    text = (
        f"with {dropped} dropped, balancing needs only {money(least[0])}{share} to move, within the "
        "budget: the bound above rests on them"
    )
    return [Conflict(family, text) for family in families]


def _share_up(share: float) -> str:
    """A share for --max-moved-share, rounded up to three significant digits: never below ``share``
    (0.1674 -> "0.168", 5.365e-08 -> "0.0000000537")."""
    if share <= 0:
        return "0"
    exponent = math.floor(math.log10(share)) - 2
    up = math.ceil(share / 10**exponent - 1e-9) * 10**exponent
    text = f"{up:.{max(-exponent, 0)}f}"  # a decimal, as the flag is written ("0.0000537", not "5.37e-05")
    return text.rstrip("0").rstrip(".") if "." in text else text


def whole_least_moved(
    spec: ModelSpec, backend: Backend, *, deadline: float, seed: int, threads: int | None
) -> tuple[float, float | None] | None:
    """(a lower bound, the least found or None) on the potential a plan of whole accounts meeting every
    row but the budget must move: HiGHS on the whole model with the budget dropped and the moved
    potential as its objective, until ``deadline`` (at most ``WHOLE_LEAST_SECONDS``). The LP's least
    share, where an account may be split, can be well below it (QA102 F4: 78 Thai provinces x 8 reps,
    "raise it to at least 0.421", where plans of whole accounts need 0.4696, found by HiGHS in 0.4 s).
    None on a model above ``WHOLE_LEAST_PAIRS`` pairs, or with neither a plan nor a bound in time."""
    if int(spec.allowed.sum()) > WHOLE_LEAST_PAIRS:
        return None
    test = dataclasses.replace(spec, cost=spec.moved.copy(), disruption_price=0.0, budget=None)
    n = spec.problem.n_units
    res = repair._solve_restricted(
        test, backend, test.allowed, np.full(n, -1, dtype=np.int64), np.arange(n), deadline=deadline,
        gap=WHOLE_LEAST_GAP, seed=seed, threads=threads, name="whole_least_moved",
        time_cap=WHOLE_LEAST_SECONDS,
    )  # fmt: skip
    found = None if res.unit_rep is None else float(spec.moved[np.arange(n), res.unit_rep].sum())
    bound = float(res.bound) if res.bound is not None and np.isfinite(res.bound) else -np.inf
    if res.status is SolveStatus.INFEASIBLE or (found is None and bound <= 0):
        return None  # infeasible without the budget: another proof's to tell
    return max(bound, 0.0), found


def _budget_error(
    spec: ModelSpec, least: float, whole: tuple[float, float | None] | None = None
) -> InfeasibleError:
    """The disruption budget is below ``least``, a proven lower bound on the potential to move (the LP's);
    ``whole``: ``whole_least_moved``'s bound and plan for plans of whole accounts, when it has them."""
    assert spec.budget is not None
    total = float(spec.problem.acc_potential.sum())
    found = None if whole is None else whole[1]
    by = "LP bound"
    if whole is not None and whole[0] > least:
        least, by = whole[0], "MIP bound"
    proven = found is not None and found - least <= WHOLE_LEAST_GAP * max(found, 1e-9) + 1e-9
    need_pct, budget_pct = 100 * least / total, 100 * spec.budget / total
    # as many decimals as it takes to tell them apart (QA28 F13: "needs 19.4%, allows 19.4%"; QA42 F4:
    # "needs at least 0.0000% ..., allows 0.0000%; raise it to at least 0.0000" for a budget of 0)
    digits = next((d for d in range(1, 13) if f"{need_pct:.{d}f}" != f"{budget_pct:.{d}f}"), 12)
    if 0 < need_pct < 1:  # and two significant digits of a small need ("0.0000054", not "0.00001")
        digits = min(max(digits, 1 - math.floor(math.log10(need_pct))), 12)
    need, budget = f"{need_pct:.{digits}f}", f"{budget_pct:.{digits}f}"
    if found is not None and proven:
        advice = (
            f"raise it to at least {_share_up(found / total)} (the least share of any plan of whole "
            "accounts within the bands, proven by HiGHS) or widen --tolerance"
        )
        by = "MIP"
    elif found is not None:
        advice = (
            f"raise it to {_share_up(found / total)} (a plan of whole accounts within the bands moves "
            f"{100 * found / total:.{digits}f}%; the least lies between that and {need}%) or widen "
            "--tolerance"
        )
    else:  # a bound only
        source = (
            "the LP, where an account may be split: a plan of whole accounts can need markedly more (a "
            "third more on some real data sets)"
            if by == "LP bound"
            else "HiGHS's search over plans of whole accounts, which found none in its time"
        )
        advice = (
            f"raise it to at least {_share_up(least / total)} or widen --tolerance (a bound from {source})"
        )
    extra: dict[str, object] = {"least_moved_share": least / total, "proven_by": by}
    if found is not None:
        extra["whole_plan_moved_share"] = found / total
    return InfeasibleError(
        f"the disruption budget is too small: balancing needs at least {need}% of the potential "
        f"to move, the budget allows {budget}% (--max-moved-share {spec.budget / total:.4g}); " + advice,
        [
            Conflict(
                "disruption_budget",
                f"at most {money(spec.budget)} potential may move ({budget}%); every plan within "
                f"the bands moves at least {money(least)} ({need}%)",
                amount=least - spec.budget,
                extra=extra,
            )
        ],
    )


def connected_caveat(err: InfeasibleError, contiguous: bool, district_contiguous: bool) -> InfeasibleError:
    """A budget proof whose advice is the least share of plans of whole accounts, in a run that asks for
    connected territories (``contiguous``) or districts: that share does not count connectivity, so a
    connected plan may need more (QA103 F1: "raise it to at least 0.47", and at 0.47 HiGHS proved that no
    connected plan meets the bands). Other errors, and runs asking for neither, as they are (``err``)."""
    budget = next((c for c in err.conflicts if c.family == "disruption_budget"), None)
    if (
        not (contiguous or district_contiguous)
        or budget is None
        or budget.extra.get("proven_by") == "LP bound"
    ):
        return err
    option, what = ("--contiguous", "territories") if contiguous else ("--district-contiguous", "districts")
    out = InfeasibleError(
        f"{err}; with {option} that share does not count connectivity: a plan of connected {what} may "
        "need more",
        err.conflicts,
        err.cleared,
    )
    out.money_prefix = err.money_prefix
    return out


def prove_infeasible(
    spec: ModelSpec, backend: Backend, lp: lpmod.LpResult, *, deadline: float, seed: int, threads: int | None
) -> str:
    """Called when the LP needed slack. Raises ``InfeasibleError`` with a proof and the numbers, or
    returns why no proof was reached (the model may still be feasible)."""
    p = spec.problem
    total = float(p.acc_potential.sum())
    if spec.budget is not None and total > 0:
        least = least_moved(spec, backend, deadline=deadline, seed=seed, threads=threads)
        if least is not None and above_budget(spec, least[0]):
            raise budget_error(spec, least[0], backend, deadline=deadline, seed=seed, threads=threads)
    return prove_by_phase1(spec, backend, lp, deadline=deadline, seed=seed, threads=threads)


def prove_by_phase1(
    spec: ModelSpec,
    backend: Backend,
    lp: lpmod.LpResult | None,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
) -> str:
    """The phase-1 LP (least total violation over every pair): raises ``InfeasibleError`` with the rows in
    conflict and the families whose dropping makes it feasible when it needs slack, else returns why there
    is no proof. ``lp``: a slack LP whose rows explain it when the phase-1 LP's do not."""
    res = phase1(spec, backend, deadline=deadline, seed=seed, threads=threads)
    if res is None:
        return "the LP needed slack, and the phase-1 LP that would prove infeasibility did not finish"
    if scaled_violation(spec, res) <= FEASIBILITY_TOL:
        return "the LP needed slack only because of its prices: the phase-1 LP is feasible"
    if not res.converged:
        return "the phase-1 LP still needed slack when it stopped, before converging: no proof"
    conflicts = explain_slack(spec, res) or (explain_slack(spec, lp) if lp is not None else [])
    fams = families_in_conflict(spec, backend, seed, deadline)
    msg = "the model is infeasible even as a fractional LP (least total violation over every pair > 0)"
    cleared: tuple[str, ...] = ()
    if fams:
        msg += "; dropping any of these makes it feasible: " + ", ".join(fams)
        cleared = () if any(_KEEP_HOME in f for f in fams) else (_KEEP_HOME,)
    raise InfeasibleError(msg, conflicts + _named_families(spec, fams, conflicts), cleared)


# families_in_conflict's names -> the conflict families that stand for them (the first is used)
_FAMILY_OF = {
    "disruption budget": ("disruption_budget",),
    "min/max accounts": ("min_accounts", "max_accounts"),
    "district/region bands": ("district", "region"),
    _LOCKS: ("lock",),
    _SEGMENTS: ("segment",),
    _KEEP_HOME: ("keep_home",),
}


def _named_families(spec: ModelSpec, fams: list[str], conflicts: list[Conflict]) -> list[Conflict]:
    """A conflict for each family the headline names that no conflict of the proof stands for (QA9 O3:
    "dropping any of these makes it feasible: disruption budget, district/region bands" with a budget
    conflict only), so the list of families in conflict agrees with the headline."""
    have = {c.family for c in conflicts}
    out = []
    for name in fams:
        # restrictions dropped together: the first one's family stands for them
        first = name.split(",")[0].split(" and ")[0] if name.endswith(" together") else name
        families = _FAMILY_OF.get(first, ())
        if not families or have & set(families):
            continue
        family = families[0]
        if (
            name == "district/region bands"
            and spec.groups is not None
            and "district" not in spec.groups.levels
        ):
            family = "region"
        out.append(Conflict(family, f"without the {name} the fractional LP is feasible"))
    return out
