"""Start plans that need no MIP: today's alignment, and a balancing search from any assignment.

``balance_search`` is a tabu local search (single moves, then pair swaps between reps) on the total band
violation of the balance rows, the account-count rows and the disruption budget, with travel as the
tie-breaker. Started from the LP's rounding it usually has a few reps to fix; started from the nearest
rep it builds a plan from nothing. Whatever it returns is checked by ``repair.feasible`` before anyone
calls it a plan; an infeasible result is still a useful MIP start.
"""

from __future__ import annotations

import time

import numpy as np

from territory_planner.optimize.spec import BandRows, ModelSpec, band_rows, reach_pairs

TABU_TENURE = 12
EPS = 1e-9
REACH = 2.0  # each rep's candidate units hold this many times its upper band


def _viol(load: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scaled band violation, elementwise; ``scale`` broadcasts over the row axis (first)."""
    out: np.ndarray = (np.maximum(lo - load, 0.0) + np.maximum(load - hi, 0.0)) / scale
    return out


def _shift_delta(
    load_from: np.ndarray,
    load_to: np.ndarray,
    amount: np.ndarray,
    band_from: tuple[np.ndarray, np.ndarray],
    band_to: tuple[np.ndarray, np.ndarray],
    scale: np.ndarray,
) -> np.ndarray:
    """Change of violation, summed over the rows (first axis), when ``amount`` leaves one rep for
    another (a move, or the net amount of a swap)."""
    out: np.ndarray = (
        _viol(load_from - amount, *band_from, scale)
        - _viol(load_from, *band_from, scale)
        + _viol(load_to + amount, *band_to, scale)
        - _viol(load_to, *band_to, scale)
    ).sum(axis=0)
    return out


def candidate_reps(
    spec: ModelSpec, k: int, extra: np.ndarray | None = None, *, reach: bool = True
) -> np.ndarray:
    """(n, p) bool: each unit's k cheapest allowed reps, with ``reach`` each rep's cheapest units until
    they hold ``REACH`` times its upper band on every measure (a rep far from everything, a home on an
    island or in a thin region, can still fill its band), plus ``extra`` pairs (LP support, current rep)."""
    p = spec.problem
    cost = np.where(spec.allowed, spec.cost, np.inf)
    k = min(k, p.n_reps)
    cand = np.zeros((p.n_units, p.n_reps), dtype=bool)
    if k < p.n_reps:
        near = np.argpartition(cost, k - 1, axis=1)[:, :k]
        cand[np.arange(p.n_units)[:, None], near] = True
    else:
        cand[:] = True
    if reach and k < p.n_reps and p.unit_amount.shape[1]:
        cand |= reach_pairs(spec, cost, REACH)
    if extra is not None:
        cand |= extra
    cand &= spec.allowed
    return cand


def nearest_plan(spec: ModelSpec) -> np.ndarray:
    """Every unit to its cheapest allowed rep (locks and segments respected)."""
    out: np.ndarray = np.argmin(np.where(spec.allowed, spec.objective, np.inf), axis=1).astype(np.int64)
    return out


def greedy_plan(spec: ModelSpec, rank: np.ndarray | None = None) -> np.ndarray:
    """Capacity-aware nearest assignment: units from the heaviest (relative to a target) down, each to its
    cheapest allowed rep that still has room under every upper band, else to the rep with the most room
    left. Locked units go first to their rep. No band is exceeded while room exists anywhere nearby, so
    on heavy-tailed data this is a far better start (and LP pool) than the nearest rep. ``rank`` (n, p)
    replaces the objective as each unit's order of preference (e.g. reduced costs at estimated prices)."""
    p = spec.problem
    a = p.unit_amount
    scale = np.maximum(a.sum(axis=0) / max(p.n_reps, 1), 1e-12)
    weight = (a / scale).max(axis=1) if a.shape[1] else np.zeros(p.n_units)
    cost = np.where(spec.allowed, spec.objective if rank is None else rank, np.inf)
    order_reps = np.argsort(cost, axis=1, kind="stable")
    load = np.zeros((a.shape[1], p.n_reps))
    plan = np.full(p.n_units, -1, dtype=np.int64)
    locked = np.flatnonzero(p.unit_locked >= 0)
    plan[locked] = p.unit_locked[locked]
    for m in range(a.shape[1]):
        load[m] = np.bincount(plan[locked], weights=a[locked, m], minlength=p.n_reps)
    upper = spec.upper
    for u in np.argsort(-weight, kind="stable").tolist():
        if plan[u] >= 0:
            continue
        au = a[u][:, None]
        ok = np.flatnonzero(np.all(load + au <= upper + 1e-9, axis=0) & spec.allowed[u])
        if len(ok):
            rank = np.empty(p.n_reps, dtype=np.int64)
            rank[order_reps[u]] = np.arange(p.n_reps)
            j = int(ok[np.argmin(rank[ok])])
        else:
            room = np.where(spec.allowed[u], ((upper - load) / scale[:, None]).min(axis=0), -np.inf)
            j = int(np.argmax(room))
        plan[u] = j
        load[:, j] += a[u]
    return plan


def current_plan(spec: ModelSpec, current_unit_rep: np.ndarray | None) -> np.ndarray | None:
    """Today's alignment as a plan, when every unit has a current rep it may keep."""
    if current_unit_rep is None or len(current_unit_rep) != spec.problem.n_units:
        return None
    if (current_unit_rep < 0).any():
        return None
    idx = np.arange(spec.problem.n_units)
    if not spec.allowed[idx, current_unit_rep].all():
        return None
    return current_unit_rep.astype(np.int64).copy()


class _State:
    def __init__(self, spec: ModelSpec, rows: BandRows, plan: np.ndarray):
        p = spec.problem
        self.spec, self.rows, self.plan = spec, rows, plan.copy()
        self.load = np.vstack(
            [
                np.bincount(plan, weights=rows.amount[:, r], minlength=p.n_reps)
                for r in range(rows.amount.shape[1])
            ]
        )
        idx = np.arange(p.n_units)
        self.has_budget = spec.budget is not None
        self.budget = float(spec.budget) if spec.budget is not None else 0.0
        self.budget_scale = max(float(p.acc_potential.sum()) / max(p.n_reps, 1), 1e-12)
        self.moved = float(spec.moved[idx, plan].sum()) if self.has_budget else 0.0
        self.groups = _GroupState(spec, rows, plan)

    def violation(self) -> float:
        r = self.rows
        v = float(_viol(self.load, r.lower, r.upper, r.scale[:, None]).sum())
        if self.has_budget:
            v += max(self.moved - self.budget, 0.0) / self.budget_scale
        return v + self.groups.violation()

    def rep_violation(self) -> np.ndarray:
        """Per rep: its own rows' violation plus that of every district/region it belongs to."""
        r = self.rows
        out: np.ndarray = _viol(self.load, r.lower, r.upper, r.scale[:, None]).sum(axis=0)
        return out + self.groups.rep_violation()

    def budget_delta(self, new_moved: np.ndarray) -> np.ndarray:
        if not self.has_budget:
            return np.zeros_like(new_moved)
        before = max(self.moved - self.budget, 0.0)
        out: np.ndarray = (np.maximum(self.moved + new_moved - self.budget, 0.0) - before) / self.budget_scale
        return out

    def move_delta(self, units: np.ndarray, to: np.ndarray) -> np.ndarray:
        """Change of total violation when each units[i] moves to rep to[i]."""
        r = self.rows
        frm = self.plan[units]
        a = r.amount[units].T  # (R, k)
        lo_f, hi_f = r.lower[:, frm], r.upper[:, frm]
        lo_t, hi_t = r.lower[:, to], r.upper[:, to]
        s = r.scale[:, None]
        d = _shift_delta(self.load[:, frm], self.load[:, to], a, (lo_f, hi_f), (lo_t, hi_t), s)
        if self.has_budget:
            spec = self.spec
            d = d + self.budget_delta(spec.moved[units, to] - spec.moved[units, frm])
        out: np.ndarray = d + self.groups.shift_delta(frm, to, a)
        return out

    def swap_delta(self, j: int, k: int, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
        """(|us|, |vs|): change of total violation when us[a] (held by j) goes to k and vs[b] (held by k)
        goes to j."""
        r = self.rows
        diff = r.amount[us].T[:, :, None] - r.amount[vs].T[:, None, :]  # (R, |us|, |vs|)
        lj, lk = self.load[:, j][:, None, None], self.load[:, k][:, None, None]
        band_j = (r.lower[:, j][:, None, None], r.upper[:, j][:, None, None])
        band_k = (r.lower[:, k][:, None, None], r.upper[:, k][:, None, None])
        dv = _shift_delta(lj, lk, diff, band_j, band_k, r.scale[:, None, None])
        dv = dv + self.groups.shift_delta(np.array([j]), np.array([k]), diff)
        if self.has_budget:
            moved = self.spec.moved
            dm = (moved[us, k] - moved[us, j])[:, None] + (moved[vs, j] - moved[vs, k])[None, :]
            dv = dv + self.budget_delta(dm)
        out: np.ndarray = dv
        return out

    def apply(self, u: int, to: int) -> None:
        frm = int(self.plan[u])
        a = self.rows.amount[u]
        self.load[:, frm] -= a
        self.load[:, to] += a
        self.groups.apply(frm, to, a)
        if self.has_budget:
            self.moved += float(self.spec.moved[u, to] - self.spec.moved[u, frm])
        self.plan[u] = to


def violation_of(spec: ModelSpec, plan: np.ndarray) -> float:
    """Targets of violation of ``plan`` as the balancing search counts them (0: every balance, count and
    budget row holds)."""
    return _State(spec, band_rows(spec), plan).violation()


# how long the balancing search's steps may run past its deadline, or past its start when it begins
# with the deadline passed (see ``balance_search``): a small model's sixteen steps end well within it
OVERRUN = 0.5


def balance_search(
    spec: ModelSpec,
    start: np.ndarray,
    cand: np.ndarray,
    *,
    deadline: float,
    max_iters: int | None = None,
) -> tuple[np.ndarray, float]:
    """Tabu search from ``start`` towards zero band violation over the pairs in ``cand``.

    Returns the best plan seen (least violation, then least objective) and its violation (0: every
    balance, count and budget row holds; the per-rep disruption budgets are left to the caller's check).
    """
    begun = time.perf_counter()
    p = spec.problem
    n = p.n_units
    rows = band_rows(spec)
    state = _State(spec, rows, start.astype(np.int64))
    obj = spec.objective
    idx = np.arange(n)
    mean_cost = float(np.mean(obj[idx, state.plan])) + 1e-9
    mu = 1e-3 / mean_cost  # one unit's average travel weighs 0.1% of a target's violation
    locked = p.unit_locked >= 0
    cand = cand & ~locked[:, None]
    cu, cr = np.nonzero(cand)
    tabu = np.zeros(n, dtype=np.int64)
    best_plan, best_v = state.plan.copy(), state.violation()
    best_obj = float(obj[idx, best_plan].sum())
    max_iters = max_iters if max_iters is not None else 50 * n + 1000
    it = 0
    stalls = 0
    while it < max_iters and best_v > EPS:
        it += 1
        # past the deadline a few steps still end (a small model's take microseconds, and may find the
        # plan: a search begun with its deadline passed mends what it is given), but never more than
        # ``OVERRUN`` seconds of them: one step over 20,000 ZIPs x 100 reps takes 0.13 s, and sixteen ran
        # 2 s past a deadline already passed (QA77, --time-limit 8)
        now = time.perf_counter()
        if now > deadline and (it % 16 == 0 or now > max(deadline, begun) + OVERRUN):
            break
        viol_rep = state.rep_violation() > EPS
        if state.has_budget and state.moved > state.budget + EPS:
            viol_rep[:] = True  # the budget is a global row: any move may help
        touch = (viol_rep[state.plan[cu]] | viol_rep[cr]) & (cr != state.plan[cu])
        mu_, mr = cu[touch], cr[touch]
        current_v = state.violation()
        if len(mu_):
            dv = state.move_delta(mu_, mr)
            dc = obj[mu_, mr] - obj[mu_, state.plan[mu_]]
            allowed_move = ((tabu[mu_] < it) | (current_v + dv < best_v - EPS)) & (dv < -EPS)
            score = np.where(allowed_move, dv + mu * dc, np.inf)
            if _apply_batch(state, mu_, mr, score, tabu, it):
                stalls = 0
                best_plan, best_v, best_obj = _keep_best(state, obj, best_plan, best_v, best_obj)
                continue
        if _best_swap(state, cand, tabu, it, mu, obj):
            stalls = 0
            best_plan, best_v, best_obj = _keep_best(state, obj, best_plan, best_v, best_obj)
            continue
        # stuck: take the least bad non-tabu move out of or into a violating rep (tabu keeps it from
        # being undone at once), and give up after a long run of such steps
        stalls += 1
        if stalls > 200 or not len(mu_):
            break
        dv = state.move_delta(mu_, mr)
        dc = obj[mu_, mr] - obj[mu_, state.plan[mu_]]
        score = np.where(tabu[mu_] < it, dv + mu * dc, np.inf)
        k = int(np.argmin(score))
        if not np.isfinite(score[k]):
            break
        state.apply(int(mu_[k]), int(mr[k]))
        tabu[mu_[k]] = it + TABU_TENURE + int(it % 7)
    return best_plan, best_v


def travel_descent(
    spec: ModelSpec, plan: np.ndarray, cand: np.ndarray, *, deadline: float, max_rounds: int = 200
) -> np.ndarray:
    """Shorter travel for a plan that meets every row: single moves, then pair swaps between reps, each
    kept only if no balance, count, district, region or budget row breaks (the violation stays 0), and
    applied many at a time between reps a step has not touched. The balancing search stops at the
    first balanced plan; on 131 to 631 real units this takes its 1.4-7% gap to the LP to a fraction of
    that in milliseconds, before any MIP. Returns ``plan`` itself when it breaks a row, or with per-rep
    disruption budgets (rows this search does not see)."""
    rows = band_rows(spec)
    state = _State(spec, rows, plan.astype(np.int64))
    if state.violation() > EPS or spec.rep_budget_share is not None:
        return plan
    p = spec.problem
    obj = spec.objective
    cand = cand & spec.allowed & ~(p.unit_locked >= 0)[:, None]
    cu, cr = np.nonzero(cand)
    for _ in range(max_rounds):
        if time.perf_counter() > deadline:
            break
        frm = state.plan[cu]
        dc = obj[cu, cr] - obj[cu, frm]
        better = np.flatnonzero((cr != frm) & (dc < -1e-9 * (np.abs(obj[cu, frm]) + 1.0)))
        moved = 0
        if len(better):
            dv = state.move_delta(cu[better], cr[better])
            ok = better[dv <= EPS]
            order = np.argsort(dc[ok], kind="stable")  # most travel saved first
            moved = len(_apply_disjoint(state, cu[ok], cr[ok], order, improve=False, cap=len(ok)))
        if not moved and not _swap_round(state, cand, obj):
            break
    return state.plan if state.violation() <= EPS else plan


def _apply_disjoint(
    state: _State, units: np.ndarray, to: np.ndarray, order: np.ndarray, *, improve: bool, cap: int
) -> list[int]:
    """Apply the moves ``units[i] -> to[i]`` in ``order``, at most one per rep (a move whose rep, either
    end, an earlier move touched is skipped), at most ``cap`` of them. The first move's change of
    violation is the caller's, exact; each later one is re-checked on the loads so far (district, region
    and budget rows are shared by several reps, so its gain may have changed) and kept only if it still
    lowers the violation (``improve``) or leaves it at 0. Returns the units moved."""
    touched = np.zeros(state.load.shape[1], dtype=bool)
    moved: list[int] = []
    for i in order.tolist():
        u, r = int(units[i]), int(to[i])
        frm = int(state.plan[u])
        if touched[frm] or touched[r]:
            continue
        if moved:
            dv = float(state.move_delta(np.array([u]), np.array([r]))[0])
            if (dv >= -EPS) if improve else (dv > EPS):
                continue
        state.apply(u, r)
        touched[frm] = touched[r] = True
        moved.append(u)
        if len(moved) >= cap:
            break
    return moved


def _swap_round(state: _State, cand: np.ndarray, obj: np.ndarray, per_side: int = 60) -> bool:
    """For each pair of reps that share candidates, the swap of one unit each way that saves the most
    travel and keeps every row; the best swaps over disjoint pairs of reps are applied."""
    plan = state.plan
    p = state.spec.problem
    found: list[tuple[float, int, int, int, int]] = []
    for j in range(p.n_reps):
        mine = np.flatnonzero((plan == j) & cand.any(axis=1))
        if not len(mine):
            continue
        for k in np.flatnonzero(cand[mine].any(axis=0)).tolist():
            if k <= j:
                continue
            us = mine[cand[mine, k]]
            vs = np.flatnonzero((plan == k) & cand[:, j])
            if not len(us) or not len(vs):
                continue
            gu = obj[us, k] - obj[us, j]
            gv = obj[vs, j] - obj[vs, k]
            us, gu = us[np.argsort(gu)[:per_side]], np.sort(gu)[:per_side]
            vs, gv = vs[np.argsort(gv)[:per_side]], np.sort(gv)[:per_side]
            dc = gu[:, None] + gv[None, :]
            if dc.min() >= -1e-9:
                continue
            dv = state.swap_delta(j, k, us, vs)
            score = np.where((dv <= EPS) & (dc < -1e-9), dc, np.inf)
            a, b = np.unravel_index(int(np.argmin(score)), score.shape)
            if np.isfinite(score[a, b]):
                found.append((float(score[a, b]), int(us[a]), int(vs[b]), j, k))
    touched = np.zeros(p.n_reps, dtype=bool)
    applied = 0
    for _, u, v, j, k in sorted(found):
        if touched[j] or touched[k]:
            continue
        state.apply(u, k)
        state.apply(v, j)
        if applied and state.violation() > EPS:  # a shared district, region or budget row broke
            state.apply(u, j)
            state.apply(v, k)
            continue
        touched[j] = touched[k] = True
        applied += 1
    return applied > 0


def _apply_batch(
    state: _State,
    units: np.ndarray,
    to: np.ndarray,
    score: np.ndarray,
    tabu: np.ndarray,
    it: int,
) -> bool:
    """Apply the best move, then the next best ones between reps no earlier move of this step touched,
    each only if it still lowers the violation (``_apply_disjoint``), as many as reps break a band. On a
    large map many reps break their band at once, far apart: one move per step took 33,791 ZIPs x 200
    reps 23 s to balance. Returns whether any move was applied."""
    finite = np.flatnonzero(np.isfinite(score))
    if not len(finite):
        return False
    cap = int(np.count_nonzero(state.rep_violation() > EPS)) + 1
    order = finite[np.argsort(score[finite], kind="stable")]
    moved = _apply_disjoint(state, units, to, order, improve=True, cap=cap)
    tabu[moved] = it + TABU_TENURE
    return bool(moved)


def _keep_best(
    state: _State, obj: np.ndarray, plan: np.ndarray, v: float, o: float
) -> tuple[np.ndarray, float, float]:
    cur_v = state.violation()
    if cur_v < v - EPS or (cur_v <= v + EPS and cur_v <= EPS):
        cur_o = float(obj[np.arange(len(state.plan)), state.plan].sum())
        if cur_v < v - EPS or cur_o < o:
            return state.plan.copy(), cur_v, cur_o
    return plan, v, o


def _best_swap(
    state: _State, cand: np.ndarray, tabu: np.ndarray, it: int, mu: float, obj: np.ndarray
) -> bool:
    """Apply the best improving swap between the most violated rep and a rep it shares candidates with."""
    rv = state.rep_violation()
    if rv.max() <= EPS:
        return False
    plan = state.plan
    for j in np.argsort(-rv)[:3]:
        if rv[j] <= EPS:
            break
        mine = np.flatnonzero((plan == j) & (tabu < it))
        if not len(mine):
            continue
        partners = np.flatnonzero(cand[mine].any(axis=0))
        partners = partners[partners != j]
        best = (np.inf, -1, -1, -1)
        for k in partners.tolist():
            us = mine[cand[mine, k]]
            vs = np.flatnonzero((plan == k) & (tabu < it) & cand[:, j])
            if not len(us) or not len(vs):
                continue
            if len(us) * len(vs) > 250_000:  # keep each step cheap: the units that matter most first
                us, vs = us[:500], vs[:500]
            dv = state.swap_delta(int(j), k, us, vs)
            dc = (obj[us, k] - obj[us, j])[:, None] + (obj[vs, j] - obj[vs, k])[None, :]
            score = dv + mu * dc
            score = np.where(dv < -EPS, score, np.inf)
            flat = int(np.argmin(score))
            a, b = np.unravel_index(flat, score.shape)
            if np.isfinite(score[a, b]) and score[a, b] < best[0]:
                best = (float(score[a, b]), int(us[a]), int(vs[b]), int(k))
        if best[1] >= 0:
            _, u, v, k = best
            state.apply(u, k)
            state.apply(v, int(j))
            tabu[u] = tabu[v] = it + TABU_TENURE
            return True
    return False


class _GroupState:
    """District / region totals under the search's plan: their band violation joins the search's."""

    def __init__(self, spec: ModelSpec, rows: BandRows, plan: np.ndarray):
        g = spec.groups
        self.on = g is not None
        if g is None:
            return
        p = spec.problem
        self.m = len(p.measures)  # group rows cover the balance measures (the first rows)
        self.group_of = g.group_of
        self.member = g.member
        self.lower, self.upper = g.lower, g.upper
        self.scale = rows.scale[: self.m]
        rep_load = np.vstack(
            [np.bincount(plan, weights=p.unit_amount[:, m], minlength=p.n_reps) for m in range(self.m)]
        )
        self.load = rep_load @ self.member.T.astype(float)  # (M, G)

    def _viol(self, load: np.ndarray, g: np.ndarray) -> np.ndarray:
        return _viol(load, self.lower[:, g], self.upper[:, g], self.scale[:, None])

    def violation(self) -> float:
        if not self.on:
            return 0.0
        return float(self._viol(self.load, np.arange(self.load.shape[1])).sum())

    def rep_violation(self) -> np.ndarray | float:
        if not self.on:
            return 0.0
        per_group = self._viol(self.load, np.arange(self.load.shape[1])).sum(axis=0)  # (G,)
        out: np.ndarray = per_group @ self.member.astype(float)
        return out

    def shift_delta(self, frm: np.ndarray, to: np.ndarray, amount: np.ndarray) -> np.ndarray | float:
        """Change of group violation when ``amount`` leaves reps ``frm`` for reps ``to``: moves
        (``amount`` (R, K), one rep pair per column) or swaps (``amount`` (R, U, V), one rep pair)."""
        if not self.on:
            return 0.0
        a = amount[: self.m]
        swap = a.ndim == 3
        shape = (self.m, 1, 1) if swap else (self.m, -1)
        sc = self.scale.reshape((-1,) + (1,) * (a.ndim - 1))
        out: np.ndarray | float = 0.0
        for row in self.group_of:
            gf, gt = row[frm], row[to]
            for g, sign in ((gf, -1.0), (gt, 1.0)):
                use = (g >= 0) & (gf != gt)
                if not use.any():
                    continue
                gs = np.maximum(g, 0)
                base = self.load[:, gs].reshape(shape)
                lo, hi = self.lower[:, gs].reshape(shape), self.upper[:, gs].reshape(shape)
                d = (_viol(base + sign * a, lo, hi, sc) - _viol(base, lo, hi, sc)).sum(axis=0)
                out = out + (d if swap else np.where(use, d, 0.0))
        return out

    def apply(self, frm: int, to: int, amount: np.ndarray) -> None:
        if not self.on:
            return
        a = amount[: self.m]
        for row in self.group_of:
            if row[frm] != row[to]:
                if row[frm] >= 0:
                    self.load[:, row[frm]] -= a
                if row[to] >= 0:
                    self.load[:, row[to]] += a
