"""Cheap proofs of infeasibility, with numbers, before any solver runs."""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from territory_planner.currency import currency_prefix, is_money
from territory_planner.errors import Conflict
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize.spec import ModelSpec, amount_step, holds_no_multiple, inward_steps
from territory_planner.report.formatting import listed

FIT_SECONDS = 1.0  # the unit_fit test's time when the caller gives none (validate)


def fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:,.1f}k"
    return f"{v:,.4g}"


def money(v: float) -> str:
    """``fmt`` in the currency of the current ``currency_context`` (the run's --currency): $1.23M,
    -€450.0k, EUR 12.5k; plain when the currency is none."""
    sign = "-" if v < 0 else ""
    return f"{sign}{currency_prefix()}{fmt(abs(v))}"


def amount(v: float, measure: str) -> str:
    """``fmt``, or ``money`` when the measure holds money (potential, revenue: ``currency.is_money``)."""
    return money(v) if is_money(measure) else fmt(v)


def unit_label(spec: ModelSpec, u: int) -> str:
    return spec.problem.unit_label(u)


def balance_floor(spec: ModelSpec) -> dict[str, float]:
    """Smallest tolerance any plan could reach, per measure (a unit must fit in some rep's band)."""
    p = spec.problem
    out = {}
    for m, measure in enumerate(p.measures):
        tgt = np.where(spec.allowed, p.target[m][None, :], 0.0).max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(tgt > 0, p.unit_amount[:, m] / tgt - 1, 0.0)
        out[measure] = float(max(0.0, ratio.max(initial=0.0)))
    return out


def unique_rows(mask: np.ndarray) -> np.ndarray:
    """``np.unique(mask, axis=0)`` for a boolean (n, p) matrix, its rows packed to bits first: the same
    rows in the same order (packed bytes compare as the bits do), 5 ms on 33,300 ZIPs x 200 reps where
    the rows as they are took 1.4 s."""
    if 0 in mask.shape:
        return np.unique(mask, axis=0)
    packed = np.ascontiguousarray(np.packbits(mask, axis=1))
    keys = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel())
    rows = np.unpackbits(keys.view(np.uint8).reshape(len(keys), -1), axis=1, count=mask.shape[1])
    return rows.astype(bool)


def check(spec: ModelSpec, *, fit_deadline: float | None = None) -> list[Conflict]:
    """Every conflict found, with numbers. ``fit_deadline`` ends the accounts-that-fit-nowhere test
    (``unit_fit``; default: one second from now); the other checks are instant."""
    p = spec.problem
    # a unit no rep may take whole (an area or a family whose accounts' segments no one rep serves, or
    # locked to two reps): said once, not as a band it overflows (QA54 F5: "area 37067 alone has $85.2k
    # potential, more than any band it may go to holds", amount $inf, and "14 units can only go to ;")
    nowhere = np.asarray(~spec.allowed.any(axis=1))
    conflicts = [_nowhere(spec, int(u)) for u in np.flatnonzero(nowhere)[:20]]
    # groups of units confined to the same set of reps (segments, locks): one allowed-row pattern each
    patterns = unique_rows(spec.allowed[~nowhere])
    for m in range(len(p.measures)):
        conflicts += _measure(spec, m, nowhere, patterns)
    conflicts += _account_counts(spec)
    conflicts += _forced_moves(spec)
    conflicts += _rep_budget(spec)
    from territory_planner.optimize import hierarchy, unit_fit

    if not conflicts:  # a unit above every band is already the simpler story
        conflicts += unit_fit.crowded(spec)
    if not conflicts:
        deadline = time.perf_counter() + FIT_SECONDS if fit_deadline is None else fit_deadline
        conflicts += unit_fit.check(spec, deadline=deadline)
    return conflicts + hierarchy.prechecks(spec)


def _measure(spec: ModelSpec, m: int, nowhere: np.ndarray, patterns: np.ndarray) -> list[Conflict]:
    """The conflicts of measure ``m``'s bands: bands no whole accounts can fill, band totals, a unit above
    every band it may go to, the pigeonhole, locks above a band, a rep that cannot reach its band, a band
    below every account, and groups of units confined to reps whose bands cannot hold them."""
    p = spec.problem
    # a band rounded inwards to whole multiples (``spec.integral_bands``) that holds none; or, for
    # amounts with decimals (potential to the cent, QA20 F5), a band holding no multiple of their step
    step = amount_step(p.unit_amount[:, m])
    empty = spec.lower[m] > spec.upper[m] + 1e-9
    bands = zip(spec.lower[m], spec.upper[m], strict=True)
    empty |= np.array([holds_no_multiple(lo, hi, step) for lo, hi in bands], dtype=bool)
    conflicts = _empty_bands(spec, m, empty, step)
    total_conflict = _band_sums(spec, m, step)
    if total_conflict is not None and not empty.any():
        conflicts.append(total_conflict)
    conflicts += _above_every_band(spec, m, nowhere)
    # more units each above half the widest band than there are reps: no rep can hold two of them
    pigeons = _pigeonhole(spec, m)
    if pigeons is not None:
        conflicts.append(pigeons)
    # locked units above a rep's band
    locked = p.unit_locked >= 0
    per_rep = np.bincount(p.unit_locked[locked], weights=p.unit_amount[locked, m], minlength=p.n_reps)
    conflicts += _locks_over(spec, m, per_rep)
    # a rep cannot reach its lower band with everything it may serve
    reachable = (spec.allowed * p.unit_amount[:, m][:, None]).sum(axis=0)
    conflicts += _out_of_reach(spec, m, reachable)
    # units that can only go to a group of reps must fit in the group's bands (Hall's condition)
    if len(patterns) <= 200:
        for pattern in patterns:
            if not pattern.all():
                conflicts += _confined(spec, m, pattern, nowhere, per_rep)
    return conflicts


def _empty_bands(spec: ModelSpec, m: int, empty: np.ndarray, step: float) -> list[Conflict]:
    """The reps whose band (``empty``) holds no total whole accounts can make (``step``: their amounts'
    common step)."""
    p, measure = spec.problem, spec.problem.measures[m]
    conflicts = []
    for j in np.flatnonzero(empty)[:20]:
        lo, hi = p.lower_band[m, j], p.upper_band[m, j]
        conflicts.append(
            Conflict(
                "balance",
                f"{p.rep_ids[j]}'s {measure} band {exact(lo, measure)} to {exact(hi, measure)} holds "
                f"no total that whole accounts can make (their {measure} values are whole multiples of "
                f"{exact(step, measure)}); widen --tolerance",
                rep_id=str(p.rep_ids[j]),
                measure=measure,
                amount=float(inward_steps(spec.lower[m, j], hi, step)[0] * step - hi) if step else 0.0,
            )
        )
    return conflicts


def _above_every_band(spec: ModelSpec, m: int, nowhere: np.ndarray) -> list[Conflict]:
    """One unit alone above every band it could go to."""
    p, measure = spec.problem, spec.problem.measures[m]
    amt = partial(amount, measure=measure)
    conflicts = []
    cap = np.where(spec.allowed, spec.upper[m][None, :], -np.inf).max(axis=1)
    for u in np.flatnonzero((p.unit_amount[:, m] > cap + 1e-9) & ~nowhere)[:20]:
        jb = int(np.argmax(np.where(spec.allowed[u], spec.upper[m], -np.inf)))
        fam = "family" if p.unit_size[u] > 1 else "balance"
        conflicts.append(
            Conflict(
                fam,
                f"{unit_label(spec, u)} alone has {amt(p.unit_amount[u, m])} {measure}, more than any "
                f"band it may go to holds: the widest is {p.rep_ids[jb]}'s, {amt(p.lower_band[m, jb])} "
                f"to {amt(p.upper_band[m, jb])}",
                rep_id=str(p.rep_ids[jb]),
                measure=measure,
                amount=float(p.unit_amount[u, m] - cap[u]),
            )
        )
    return conflicts


def _locks_over(spec: ModelSpec, m: int, per_rep: np.ndarray) -> list[Conflict]:
    """Accounts locked to a rep that alone carry more than its band (``per_rep``: their sums)."""
    p, measure = spec.problem, spec.problem.measures[m]
    amt = partial(amount, measure=measure)
    locked = p.unit_locked >= 0
    conflicts = []
    for j in np.flatnonzero(per_rep > spec.upper[m] + 1e-9):
        conflicts.append(
            Conflict(
                "lock",
                f"accounts locked to {p.rep_ids[j]}{_kept_of(p, locked & (p.unit_locked == j))} carry "
                f"{amt(per_rep[j])} {measure}, above the band's maximum {amt(p.upper_band[m, j])}",
                rep_id=str(p.rep_ids[j]),
                measure=measure,
                amount=float(per_rep[j] - spec.upper[m, j]),
            )
        )
    return conflicts


def _out_of_reach(spec: ModelSpec, m: int, reachable: np.ndarray) -> list[Conflict]:
    """A rep that cannot reach its lower band with everything it may serve (``reachable``), and a rep
    whose band lies below every account it may take."""
    p, measure = spec.problem, spec.problem.measures[m]
    amt = partial(amount, measure=measure)
    conflicts = []
    for j in np.flatnonzero(reachable < spec.lower[m] - 1e-9):
        conflicts.append(
            Conflict(
                "segment",
                f"{p.rep_ids[j]} may serve only {amt(reachable[j])} {measure} in total "
                f"({_restricted_by(p)}), below the band's minimum {amt(p.lower_band[m, j])}",
                rep_id=str(p.rep_ids[j]),
                measure=measure,
                amount=float(spec.lower[m, j] - reachable[j]),
            )
        )
    # a rep whose band lies below every account it may take: it can hold none with any of the measure
    # and must hold some (QA61 F3: a capacity of 0.01, typed for 1.0, and "no plan of whole accounts
    # satisfies the model" with an empty conflict row)
    positive = spec.allowed & (p.unit_amount[:, m] > 1e-12)[:, None]
    smallest = np.where(positive, p.unit_amount[:, m][:, None], np.inf).min(axis=0)
    below = (spec.lower[m] > 1e-9) & (smallest > spec.upper[m] + 1e-9) & (reachable >= spec.lower[m] - 1e-9)
    for j in np.flatnonzero(below)[:20]:
        u = int(np.argmin(np.where(positive[:, j], p.unit_amount[:, m], np.inf)))
        capacity = f" (capacity {p.capacity[j]:g})" if p.capacity[j] != 1 else ""
        conflicts.append(
            Conflict(
                "balance",
                f"{p.rep_ids[j]}'s {measure} band{capacity}, {amt(p.lower_band[m, j])} to "
                f"{amt(p.upper_band[m, j])}, lies below every account it may take: the smallest is "
                f"{unit_label(spec, u)} with {amt(smallest[j])}, so its territory is empty or over the "
                "band; raise its capacity or widen --tolerance",
                rep_id=str(p.rep_ids[j]),
                measure=measure,
                amount=float(smallest[j] - spec.upper[m, j]),
            )
        )
    return conflicts


def _confined(
    spec: ModelSpec, m: int, pattern: np.ndarray, nowhere: np.ndarray, per_rep: np.ndarray
) -> list[Conflict]:
    """Hall's condition for the units that can only go to the reps of ``pattern``: they must fit in
    those reps' bands (said with what confines them: segments, locks, --keep-home)."""
    p, measure = spec.problem, spec.problem.measures[m]
    amt = partial(amount, measure=measure)
    locked = p.unit_locked >= 0
    conflicts: list[Conflict] = []
    inside = (spec.allowed & ~pattern[None, :]).sum(axis=1) == 0  # units confined to the pattern
    inside &= ~nowhere  # (said apart: no rep may take them)
    demand = float(p.unit_amount[inside, m].sum())
    room = float(spec.upper[m, pattern].sum())
    # one rep alone: said already when locks alone overflow it, not when segments confine
    # units to it (QA28 F14: 33 enterprise accounts only R00 serves, explained as 20 rows
    # of LP slack)
    single = int(np.flatnonzero(pattern)[0]) if pattern.sum() == 1 else -1
    if single >= 0 and per_rep[single] > spec.upper[m, single] + 1e-9:
        # its locked units are said: the others confined to it, when they alone overflow it
        # too (QA48 F3: locks alone and segments alone each overflowed R1, and only the locks'
        # row was shown, so mending the locks as it said left the model infeasible)
        inside &= ~locked
        demand = float(p.unit_amount[inside, m].sum())
        shown = float(p.upper_band[m, single])  # the band as the locks' row gives it
        if 1e-9 < demand <= room + 1e-9:
            # they fit alone, not beside the locked ones: the room the locks then have (QA53
            # F2: unlocking down to the band's maximum, as the locks' row alone said, left it
            # infeasible)
            conflicts.append(
                Conflict(
                    "segment",
                    f"{int(inside.sum())} other accounts can only go to {p.rep_ids[single]}; "
                    f"they carry {amt(demand)} {measure}, so its band ({amt(shown)} at most) "
                    f"leaves {amt(shown - demand)} for its locked accounts",
                    rep_id=str(p.rep_ids[single]),
                    measure=measure,
                    amount=demand,
                )
            )
            return conflicts
    if demand > room + 1e-9:
        names = ", ".join(p.rep_ids[pattern][:8]) + ("..." if pattern.sum() > 8 else "")
        kept = _kept_of(p, inside).replace("its home", "their reps' homes")
        there = _locked_of(p, inside)
        kept = kept[:-1] + ", " + there[2:] if kept and there else kept + there
        # --keep-home is the cause only where the group fits its bands with its kept units
        # free to go where their segments and locks let them (QA48 F2: it was named where the
        # segments alone overflowed the group)
        by_keep = False
        if p.unit_home_kept is not None and (inside & p.unit_home_kept).any():
            free = segment_allowed(p)
            user = (p.unit_locked >= 0) & ~p.unit_home_kept  # a kept unit's lock is keep-home's
            free[user] = spec.allowed[user]
            confined = inside & ((free & ~pattern[None, :]).sum(axis=1) == 0)
            by_keep = float(p.unit_amount[confined, m].sum()) <= room + 1e-9
        what = "units" if (p.unit_size[inside] > 1).any() else "accounts"
        holds = "its band holds" if single >= 0 else "those reps' bands hold"
        conflicts.append(
            Conflict(
                # QA11 O8: "segment" with no segments
                "keep_home" if by_keep else "segment",
                f"{int(inside.sum())} {what}{kept} can only go to {names}; they carry "
                f"{amt(demand)} {measure} but {holds} at most {amt(room)}",
                measure=measure,
                amount=demand - room,
            )
        )
    return conflicts


def _account_counts(spec: ModelSpec) -> list[Conflict]:
    """--min-accounts a rep cannot reach, and account counts no plan can meet over all reps."""
    p = spec.problem
    conflicts = []
    if spec.min_accounts is not None:
        reach = (spec.allowed * p.unit_size[:, None]).sum(axis=0)
        for j in np.flatnonzero(reach < spec.min_accounts):
            conflicts.append(
                Conflict(
                    "min_accounts",
                    f"{p.rep_ids[j]} may serve only {int(reach[j])} accounts, "
                    f"fewer than --min-accounts {spec.min_accounts}",
                    rep_id=str(p.rep_ids[j]),
                    amount=float(spec.min_accounts - reach[j]),
                )
            )
        if spec.min_accounts * p.n_reps > p.n_accounts:
            conflicts.append(
                Conflict(
                    "min_accounts",
                    f"{p.n_reps} reps x {spec.min_accounts} accounts = "
                    f"{spec.min_accounts * p.n_reps} > {p.n_accounts} accounts",
                )
            )
    if spec.max_accounts is not None and spec.max_accounts * p.n_reps < p.n_accounts:
        conflicts.append(
            Conflict(
                "max_accounts",
                f"{p.n_reps} reps x {spec.max_accounts} accounts = "
                f"{spec.max_accounts * p.n_reps} < {p.n_accounts} accounts",
            )
        )
    return conflicts


def _forced_moves(spec: ModelSpec) -> list[Conflict]:
    """Moves that locks and segments force, above the disruption budget, and the families they rest on."""
    p = spec.problem
    conflicts: list[Conflict] = []
    if spec.budget is not None:
        # moves that are forced: locks and segments the current rep may not serve
        forced_units = ~spec.allowed[np.arange(p.n_units), np.maximum(_unit_current(spec), 0)] & (
            _unit_current(spec) >= 0
        )
        # the least each such unit moves, over the reps it may go to (its current rep is not one of them)
        least_move = np.where(spec.allowed, spec.moved, np.inf)[forced_units].min(axis=1)
        forced = float(least_move[np.isfinite(least_move)].sum()) if forced_units.any() else 0.0
        if forced > spec.budget + 1e-9:
            conflicts.append(
                Conflict(
                    "disruption_budget",
                    f"locks{', --keep-home' if _kept_any(p) else ''} and segments force {money(forced)} "
                    f"potential to move, above the budget {money(spec.budget)}",
                    amount=forced - spec.budget,
                )
            )
            # the families it rests on (QA9 O4): a lock away from the current rep, a segment it lacks
            by_lock = forced_units & (p.unit_locked >= 0)
            for family, units in (("lock", by_lock), ("segment", forced_units & ~by_lock)):
                if units.any():
                    names = ", ".join(unit_label(spec, int(u)) for u in np.flatnonzero(units)[:3])
                    more = f" and {int(units.sum()) - 3} more" if units.sum() > 3 else ""
                    whose = "its" if units.sum() == 1 else "their"
                    conflicts.append(Conflict(family, f"{names}{more} must leave {whose} current rep"))
    return conflicts


def _rep_budget(spec: ModelSpec) -> list[Conflict]:
    """--max-moved-share-per-rep: each rep keeps at least (1 - share) of the potential it holds today. A
    rep that may keep less of it (locks, segments), or whose potential band ends below that, has no plan
    (QA25 F4: a Brazilian rep holding 2.43 times its target, which must give away 57.3% where the option
    allows 50%, was blamed on "integer rounding" by the MIP's proof after 21 s)."""
    share = spec.rep_budget_share
    if share is None:
        return []
    p = spec.problem
    need = (1 - share) * spec.held
    out = []
    may_keep = np.where(spec.allowed, spec.stay, 0.0).sum(axis=0)
    for j in np.flatnonzero(may_keep < need - 1e-6 * np.maximum(spec.held, 1.0))[:20]:
        out.append(
            Conflict(
                "disruption_budget",
                f"{p.rep_ids[j]} holds {money(spec.held[j])} potential today and --max-moved-share-per-rep "
                f"{share:g} has it keep at least {money(need[j])}, but locks and segments let it keep only "
                f"{money(may_keep[j])}",
                rep_id=str(p.rep_ids[j]),
                amount=float(need[j] - may_keep[j]),
            )
        )
    if "potential" in p.measures:
        m = list(p.measures).index("potential")
        top = p.upper_band[m]  # the user's band: the message's numbers prove it alone
        for j in np.flatnonzero(need > top + 1e-6 * np.maximum(top, 1.0))[:20]:
            must = 1 - top[j] / spec.held[j]
            out.append(
                Conflict(
                    "disruption_budget",
                    f"{p.rep_ids[j]} holds {money(spec.held[j])} potential today, and its potential band "
                    f"ends at {money(top[j])}: it must give away at least {100 * must:.1f}% of "
                    f"it, where --max-moved-share-per-rep {share:g} lets a rep give away "
                    f"{100 * share:g}%",
                    rep_id=str(p.rep_ids[j]),
                    measure="potential",
                    amount=float(need[j] - top[j]),
                )
            )
    return out


def _pigeonhole(spec: ModelSpec, m: int) -> Conflict | None:
    """More units each holding more than half of the widest band than there are reps: two of them
    together overflow every band, so each needs a rep of its own (QA28 F12: 13 families of 30 accounts,
    workload bands up to 57.6, 12 reps, proven by the MIP and explained without a number)."""
    p = spec.problem
    measure = p.measures[m]
    widest = float(spec.upper[m].max()) if p.n_reps else 0.0
    if not np.isfinite(widest) or widest <= 0:
        return None
    amounts = p.unit_amount[:, m]
    big = np.flatnonzero(amounts > widest / 2 + 1e-9 * max(widest, 1.0))
    if len(big) <= p.n_reps:
        return None
    order = big[np.argsort(amounts[big])]
    names = ", ".join(unit_label(spec, int(u)) for u in order[:3]) + (" and more" if len(big) > 3 else "")
    what = "families or accounts" if (p.unit_size[big] > 1).any() else "accounts"
    smallest = exact(round(float(amounts[order[0]]), 2), measure)
    return Conflict(
        "family" if (p.unit_size[big] > 1).any() else "balance",
        f"{len(big):,} {what} each hold more than half of the widest {measure} band "
        f"({exact(round(widest, 2), measure)} at most): no rep can hold two of them, and there are "
        f"{p.n_reps} reps (the smallest of them: {names}, {smallest} {measure})",
        measure=measure,
        amount=float(len(big) - p.n_reps),
    )


def _band_sums(spec: ModelSpec, m: int, step: float) -> Conflict | None:
    """The reps' bands together cannot hold the accounts' total: every account goes to one rep, so the
    reps' totals sum to it, and the bands' minimums sum above it (or their maximums below it). Bands
    rounded inwards to whole multiples of the amounts' step (``spec.integral_bands``) do this where the
    bands as given do not (QA28 F1: 237 Egyptian cities of workload 1, 10 reps at +-2%: each band 23.2 to
    24.2 holds only 24, 240 in all; the LP's proof named one rep "3 short" and a fractional plan)."""
    p = spec.problem
    measure = p.measures[m]
    total = float(p.unit_amount[:, m].sum())
    lower, upper = float(spec.lower[m].sum()), float(spec.upper[m].sum())
    eps = 1e-9 * max(abs(total), 1.0)
    if lower <= total + eps and upper >= total - eps:
        return None
    short = lower > total + eps
    bound = lower if short else upper
    moved = spec.lower[m] - p.lower_band[m] if short else p.upper_band[m] - spec.upper[m]
    j = int(np.argmax(moved))
    rounded = step > 0 and moved[j] > eps
    why = (
        f" (the {measure} values are whole multiples of {exact(step, measure)}, so each rep's total is one "
        f"too: {p.rep_ids[j]}'s band {exact(p.lower_band[m, j], measure)} to "
        f"{exact(p.upper_band[m, j], measure)} allows {_allowed(spec, m, j)})"
        if rounded
        else ""
    )
    return Conflict(
        "balance",
        f"the {p.n_reps} reps' {measure} bands hold {'at least' if short else 'at most'} "
        f"{exact(bound, measure)} in all{why}, {'above' if short else 'below'} the "
        f"{exact(total, measure)} the accounts hold: widen --tolerance or change the number of reps",
        measure=measure,
        amount=abs(bound - total),
    )


def _nowhere(spec: ModelSpec, u: int) -> Conflict:
    """The conflict of a unit that no rep may take whole, with what keeps each rep from it."""
    p = spec.problem
    members = np.flatnonzero(np.asarray(p.acc_unit) == u)
    segments = sorted({str(p.acc_segment[i]) for i in members if str(p.acc_segment[i]).strip()})
    locks = sorted({str(p.rep_ids[p.acc_locked[i]]) for i in members if p.acc_locked[i] >= 0})
    why = []
    if len(segments) > 1:
        why.append(f"its accounts are of segments {listed(segments)}, which no one rep serves")
    if len(locks) > 1:
        why.append(f"its accounts are locked to {listed(locks)}")
    names = restrictions_named(p)
    text = "; ".join(why) or (f"what {names} allow leaves no rep for it" if names else "no rep is allowed it")
    return Conflict("segment", f"no rep may take {unit_label(spec, u)} whole: {text}", amount=0.0)


def _allowed(spec: ModelSpec, m: int, j: int) -> str:
    lo, hi, measure = spec.lower[m, j], spec.upper[m, j], spec.problem.measures[m]
    return (
        f"only {exact(lo, measure)}"
        if hi - lo <= 1e-9 * max(abs(hi), 1.0)
        else f"{exact(lo, measure)} to {exact(hi, measure)}"
    )


def exact(v: float, measure: str) -> str:
    """An amount as the step argument needs it: every digit up to the last that is not zero (34,279.455,
    not 34.3k), at most six decimals; in the run's currency when the measure holds money."""
    text = f"{abs(v):,.6f}"
    for d in range(7):
        # float noise only: 1e-9 of 769,254.3055 let it read "769,254.306", a multiple of the step the
        # message says it holds none of (QA39 F8)
        if abs(v - round(v, d)) <= 1e-12 * max(1.0, abs(v)):
            text = f"{abs(v):,.{d}f}"
            break
    return ("-" if v < 0 else "") + (currency_prefix() if is_money(measure) else "") + text


def _unit_current(spec: ModelSpec) -> np.ndarray:
    p = spec.problem
    cur = np.full(p.n_units, -1, dtype=np.int64)
    has = p.acc_current >= 0
    cur[p.acc_unit[has]] = p.acc_current[has]
    return cur


def _kept_of(p: TerritoryProblem, units: np.ndarray) -> str:
    """ " (3 of them kept at its home by --keep-home)" when some of ``units`` are, else ""."""
    if p.unit_home_kept is None:
        return ""
    k = int((units & p.unit_home_kept).sum())
    return f" ({k} of them kept at its home by --keep-home)" if k else ""


def _locked_of(p: TerritoryProblem, units: np.ndarray) -> str:
    """ " (11 of them locked there)" when some of ``units`` are locked by the user (QA47 F5: a group
    confined by segments and locks was put down to the segments alone)."""
    k = int((units & (p.unit_user_lock() >= 0)).sum())
    return f" ({k} of them locked there)" if k else ""  # joined to _kept_of's in one parenthesis


def _restricted_by(p: TerritoryProblem) -> str:
    """What restricts the reps a unit may go to in this model, for "may serve only ... (segments and
    locks)" (QA47 F5: "segments and locks" on a model without a lock)."""
    names = restrictions_named(p)
    return f"what {names} allow" if names else "what it may be given"


def restrictions_named(p: TerritoryProblem) -> str:
    """ "segments and locks", "locks", ...: the restrictions on who may take a unit that the model has
    ("" when none: QA51 F5, "(locks and segments)" in a model without a segment)."""
    names = [
        name
        for name, there in (
            ("segments", any(p.rep_segments)),
            ("locks", bool((np.asarray(p.acc_locked) >= 0).any())),
            ("--keep-home", _kept_any(p)),
        )
        if there
    ]
    return listed(names) if names else ""


def _kept_any(p: TerritoryProblem) -> bool:
    """--keep-home confined some unit: its rows act as locks, and the messages say so."""
    return p.unit_home_kept is not None and bool(p.unit_home_kept.any())


def segment_allowed(p: TerritoryProblem) -> np.ndarray:
    """(units, reps): the pairs the segments allow, locks aside (as ``Problem.build`` makes them)."""
    out = np.ones(p.allowed.shape, dtype=bool)
    lower = np.char.lower(np.asarray(p.acc_segment, dtype=str))
    for j, served in enumerate(p.rep_segments):
        if served:
            barred = (lower != "") & ~np.isin(lower, list(served))
            out[p.acc_unit[barred], j] = False
    return out
