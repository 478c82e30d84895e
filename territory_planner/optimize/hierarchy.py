"""District and region band rows: one more family of rows, and every place it must reach.

A *group* is a district or a region: a set of reps. With a tolerance T for a level, each of its groups
must hold, per measure m,

    (1 - T[m]) * sum_{j in g} target[m, j]  <=  sum_{j in g} sum_u a[u, m] x[u, j]  <=  (1 + T[m]) * ...

These rows are linear in the same x as the rep bands, so they enter

- the formulation (``add_group_rows``, rows ``district_min_potential_<name>_<g>``), every MIP and LP the
  pipeline builds, and the elastic LP with the balance slack price of the measure;
- the Lagrangian bound: a group row's dual weighs the amount of every member rep's columns, exactly like
  a rep band's dual (``rep_weight``), and adds ``band * dual`` to the constant (``constant``), so the bound
  stays a valid lower bound on the model with the district rows;
- ``repair.feasible`` (``feasible``): no plan that breaks a group band is ever kept;
- the pre-checks (``prechecks``): locked accounts over a group's maximum, a group that cannot reach its
  minimum with every account its reps may serve, bands its reps' own bands cannot meet, with numbers;
- the balancing search (``construct``), which adds the group violation to the rep violation.

Pure functions over arrays; ``GroupBands`` is built once per model by ``build``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from territory_planner.errors import Conflict

if TYPE_CHECKING:
    from territory_planner.optimize.spec import ModelSpec

LEVELS = ("district", "region")
FAMILY_MIN, FAMILY_MAX = "balance_group_min", "balance_group_max"


@dataclass(frozen=True)
class GroupBands:
    """Groups of every level with a tolerance, flattened: group g is ``names[g]`` at ``level[g]``."""

    levels: tuple[str, ...]  # (L,) levels with rows, e.g. ("district",)
    group_of: np.ndarray  # (L, p) group index of each rep at each level, -1 = none
    level: tuple[str, ...]  # (G,)
    names: tuple[str, ...]  # (G,)
    target: np.ndarray  # (M, G) sum of the members' targets
    lower: np.ndarray  # (M, G); -inf where the level has no tolerance for that measure
    upper: np.ndarray  # (M, G); +inf likewise
    # the user's bands, before ``integral_bands`` rounded whole-number measures' ends inwards (None: the
    # same as lower / upper): what a relaxed plan's violation is measured against (``as_given``)
    given_lower: np.ndarray | None = None
    given_upper: np.ndarray | None = None

    def as_given(self) -> GroupBands:
        """The groups with the user's bands, not the model's rounded inwards to a measure's step: a band
        with no whole total inside (217.83 to 217.88 of whole visits) is empty once rounded, so every plan
        broke it by a whole step and the least violation was missed (QA110 F2: districts reported 1.0
        visit over where 0.832 was the amount, 1.77 in all where 0.211 is least)."""
        if self.given_lower is None or self.given_upper is None:
            return self
        return dataclasses.replace(self, lower=self.given_lower, upper=self.given_upper)

    @property
    def n_groups(self) -> int:
        return len(self.names)

    @property
    def member(self) -> np.ndarray:
        """(G, p) bool."""
        p = self.group_of.shape[1]
        out = np.zeros((self.n_groups, p), dtype=bool)
        for row in self.group_of:
            has = row >= 0
            out[row[has], np.flatnonzero(has)] = True
        return out

    @property
    def active(self) -> np.ndarray:
        """(M, G) bool: rows that exist."""
        out: np.ndarray = np.isfinite(self.lower) | np.isfinite(self.upper)
        return out


def labels_index(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Group index per rep (-1 for an empty label) and the group names in order of first appearance."""
    names: list[str] = []
    index: dict[str, int] = {}
    out = np.full(len(labels), -1, dtype=np.int64)
    for j, lab in enumerate(str(v).strip() for v in labels):
        if not lab:
            continue
        if lab not in index:
            index[lab] = len(names)
            names.append(lab)
        out[j] = index[lab]
    return out, names


def build(
    amount: np.ndarray,
    target: np.ndarray,
    labels: dict[str, np.ndarray],
    tolerance: dict[str, dict[str, float]],
    measures: tuple[str, ...],
) -> GroupBands | None:
    """``labels[level]`` (p,) the group label of each rep; ``tolerance[level]`` {measure or "*": tol}.
    Levels without a tolerance get no rows. Bands of whole-number measures are rounded inwards."""
    from territory_planner.optimize.spec import integral_bands

    levels = [lv for lv in LEVELS if tolerance.get(lv) and lv in labels]
    if not levels:
        return None
    group_of, level, names, lows, highs, targets = [], [], [], [], [], []
    offset = 0
    for lv in levels:
        idx, lv_names = labels_index(labels[lv])
        group_of.append(np.where(idx >= 0, idx + offset, -1))
        offset += len(lv_names)
        tol = tolerance[lv]
        t = np.array([tol.get(m, tol.get("*", np.inf)) for m in measures], dtype=float)
        for g, name in enumerate(lv_names):
            tg = target[:, idx == g].sum(axis=1)
            level.append(lv)
            names.append(name)
            targets.append(tg)
            lows.append(np.where(np.isfinite(t), (1 - t) * tg, -np.inf))
            highs.append(np.where(np.isfinite(t), (1 + t) * tg, np.inf))
    if not names:
        return None
    given_lower, given_upper = np.column_stack(lows), np.column_stack(highs)
    lower, upper = integral_bands(amount, given_lower, given_upper)
    return GroupBands(
        tuple(levels),
        np.vstack(group_of),
        tuple(level),
        tuple(names),
        np.column_stack(targets),
        lower,
        upper,
        given_lower,
        given_upper,
    )


# ------------------------------------------------------------------------- model transformations


def scaled(groups: GroupBands | None, scale: np.ndarray) -> GroupBands | None:
    """The bands scaled per measure (a sampled LP over a share ``scale`` of each measure's total)."""
    if groups is None:
        return None
    s = scale[:, None]
    given = groups.as_given()
    return dataclasses.replace(
        groups,
        lower=groups.lower * s,
        upper=groups.upper * s,
        target=groups.target * s,
        given_lower=given.lower * s,
        given_upper=given.upper * s,
    )


def narrowed(groups: GroupBands | None, margin: float) -> GroupBands | None:
    """Every finite band narrowed by ``margin`` of its width on each side (a restriction)."""
    if groups is None:
        return None
    both = np.isfinite(groups.lower) & np.isfinite(groups.upper)
    width = np.where(both, groups.upper - groups.lower, 0.0)
    return dataclasses.replace(
        groups, lower=groups.lower + margin * width, upper=groups.upper - margin * width
    )


# ------------------------------------------------------------------------- Lagrangian bound


def rep_weight(
    groups: GroupBands | None, lo: np.ndarray, hi: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """(M, p): what the group duals ``lo`` (>= 0) and ``hi`` (<= 0), each (M, G), add to each rep's
    weight of its units' amounts in the reduced costs (a unit in rep j counts in every group of j)."""
    if groups is None or lo.size == 0:
        return np.zeros(shape)
    out: np.ndarray = np.where(groups.active, lo + hi, 0.0) @ groups.member.astype(float)
    return out


def constant(groups: GroupBands | None, lo: np.ndarray, hi: np.ndarray) -> float:
    """The bound's constant term from the group rows: sum lower * lo + upper * hi over existing rows."""
    if groups is None or lo.size == 0:
        return 0.0
    lo_part = np.where(np.isfinite(groups.lower), groups.lower, 0.0) * lo
    hi_part = np.where(np.isfinite(groups.upper), groups.upper, 0.0) * hi
    return float(lo_part.sum() + hi_part.sum())


def n_groups(spec: ModelSpec) -> int:
    return 0 if spec.groups is None else spec.groups.n_groups


# ------------------------------------------------------------------------- checks of a plan


def rep_loads(unit_amount: np.ndarray, unit_rep: np.ndarray, n_reps: int) -> np.ndarray:
    """(M, p) each rep's totals under a plan (``unit_amount`` (n, M), ``unit_rep`` (n,))."""
    return np.stack([np.bincount(unit_rep, weights=a, minlength=n_reps) for a in unit_amount.T])


def loads(groups: GroupBands, unit_amount: np.ndarray, unit_rep: np.ndarray) -> np.ndarray:
    """(M, G) each group's totals under a plan."""
    rep_load = rep_loads(unit_amount, unit_rep, groups.group_of.shape[1])
    out: np.ndarray = rep_load @ groups.member.T.astype(float)
    return out


def feasible(spec: ModelSpec, unit_rep: np.ndarray, tol: float = 1e-6) -> bool:
    """Every group band holds (the same tolerance as the rep bands in ``repair.feasible``)."""
    g = spec.groups
    if g is None:
        return True
    load = loads(g, spec.problem.unit_amount, unit_rep)
    slack = tol * np.maximum(np.where(np.isfinite(g.upper), g.upper, g.target), 1.0)
    return bool(((load >= g.lower - slack) & (load <= g.upper + slack)).all())


def violations(spec: ModelSpec, unit_rep: np.ndarray) -> list[dict[str, object]]:
    """Every group band the plan breaks, by how much (for --relax): the user's bands (``as_given``)."""
    if spec.groups is None:
        return []
    g = spec.groups.as_given()
    p = spec.problem
    load = loads(g, p.unit_amount, unit_rep)
    out: list[dict[str, object]] = []
    for m, measure in enumerate(p.measures):
        for k in range(g.n_groups):
            slack = 1e-6 * max(abs(float(g.target[m, k])), 1.0)
            if load[m, k] < g.lower[m, k] - slack:
                out.append(_violation(f"{g.level[k]}_min", g.names[k], measure, g.lower[m, k] - load[m, k]))
            elif load[m, k] > g.upper[m, k] + slack:
                out.append(_violation(f"{g.level[k]}_max", g.names[k], measure, load[m, k] - g.upper[m, k]))
    return out


def _violation(family: str, group: str, measure: str, amount: float) -> dict[str, object]:
    return {
        "constraint": family,
        "rep_id": "",
        "group": group,
        "measure": measure,
        "violation": float(amount),
    }


# ------------------------------------------------------------------------- pre-checks


def prechecks(spec: ModelSpec) -> list[Conflict]:
    """Group bands no plan can meet, each with its numbers."""
    from territory_planner.optimize.spec import amount_step

    g = spec.groups
    if g is None:
        return []
    p = spec.problem
    member = g.member.astype(float)  # (G, p)
    allowed = spec.allowed.astype(float)
    confined = allowed @ (1.0 - member).T == 0  # (n, G): every rep the unit may go to is in the group
    reach = allowed @ member.T > 0  # (n, G): some rep of the group may serve it
    locked = p.unit_locked >= 0
    out: list[Conflict] = []
    for m, measure in enumerate(p.measures):
        a = p.unit_amount[:, m]
        step = amount_step(a)  # every total is a multiple of it: once per measure, not per group
        for k in range(g.n_groups):
            out += _group_checks(
                spec, k, m, measure, a, step, confined[:, k] | _locked_in(p, member[k], locked), reach[:, k]
            )
    return out


def _locked_in(p: Any, member_k: np.ndarray, locked: np.ndarray) -> np.ndarray:
    out: np.ndarray = locked & (member_k[np.maximum(p.unit_locked, 0)] > 0)
    return out


def _group_checks(
    spec: ModelSpec,
    k: int,
    m: int,
    measure: str,
    a: np.ndarray,
    step: float,
    confined: np.ndarray,
    reach: np.ndarray,
) -> list[Conflict]:
    """``step``: the measure's ``spec.amount_step``."""
    from territory_planner.optimize.prechecks import amount, exact
    from territory_planner.optimize.spec import holds_no_multiple, inward_steps

    fmt = partial(amount, measure=measure)
    g = spec.groups
    assert g is not None
    p = spec.problem
    lo, hi, what = g.lower[m, k], g.upper[m, k], f"{g.level[k]} {g.names[k]}"
    if not (np.isfinite(lo) or np.isfinite(hi)):
        return []
    band = f"the {measure} band of {what} is {fmt(lo)} to {fmt(hi)}"
    flag = f"--{g.level[k]}-tolerance"
    if lo > hi + 1e-9 or holds_no_multiple(lo, hi, step):
        # the band's ends to every digit: "34,279.455 to 34,279.455", not "34.3k to 34.3k" (QA20 F5)
        ends = f"the {measure} band of {what} is {exact(lo, measure)} to {exact(hi, measure)}"
        if lo > hi + 1e-9:  # rounded inwards to whole steps, the ends crossed: "$191,227 to $191,226" (QA64)
            ends = (
                f"the {measure} band of {what} lies between {exact(hi, measure)} and {exact(lo, measure)} "
                f"(its target is {exact(float(g.target[m, k]), measure)})"
            )
        msg = (
            f"{ends}, which holds no total whole accounts can make (their {measure} values are whole "
            f"multiples of {exact(step, measure)}); widen {flag}"
        )
        over = float(inward_steps(lo, hi, step)[0] * step - hi) if step else 0.0  # the nearest total's
        return [_conflict(g, k, measure, msg, over)]
    out: list[Conflict] = []
    heavy = np.flatnonzero(confined & (a > hi + 1e-9))
    for u in heavy[:5].tolist():
        whom = f"locked to {p.rep_ids[p.unit_locked[u]]}" if p.unit_locked[u] >= 0 else "only allowed there"
        msg = f"{_unit(p, u)} ({whom}) alone has {fmt(a[u])} {measure}; {band}"
        out.append(_conflict(g, k, measure, msg, a[u] - hi))
    forced = float(a[confined].sum())
    if not len(heavy) and forced > hi + 1e-9:
        from territory_planner.optimize.prechecks import restrictions_named

        by = restrictions_named(p) or "who may take them"
        msg = (
            f"{int(confined.sum())} units must go to reps of {what} ({by}); they carry "
            f"{fmt(forced)} {measure}, above its maximum {fmt(hi)}"
        )
        out.append(_conflict(g, k, measure, msg, forced - hi))
    possible = float(a[reach].sum())
    if possible < lo - 1e-9:
        msg = f"the reps of {what} may serve only {fmt(possible)} {measure}, below its minimum {fmt(lo)}"
        out.append(_conflict(g, k, measure, msg, lo - possible))
    inside = g.member[k]
    rep_lo, rep_hi = float(spec.lower[m, inside].sum()), float(spec.upper[m, inside].sum())
    if rep_lo > hi + 1e-9 or rep_hi < lo - 1e-9:
        msg = f"{band}, but its reps' own {measure} bands add up to {fmt(rep_lo)} to {fmt(rep_hi)}"
        out.append(_conflict(g, k, measure, msg, rep_lo - hi if rep_lo > hi else lo - rep_hi))
    return out


def _unit(p: Any, u: int) -> str:
    return str(p.unit_label(u))


def _conflict(g: GroupBands, k: int, measure: str, message: str, amount: float) -> Conflict:
    return Conflict(
        g.level[k], message, measure=measure, amount=float(amount), extra={g.level[k]: g.names[k]}
    )


# ------------------------------------------------------------------------- rows of the formulation


def add_group_rows(b: Any, offset: np.ndarray, slack_cost: np.ndarray | None) -> None:
    """district_min/max_<measure>_<name>_<g> (region_... likewise) on the builder ``b`` of
    ``formulation.build``: the group's total over its reps' columns, fixed units in ``offset`` (M, p).
    A row without a free column is constant and left out (``repair.feasible`` checks it)."""
    from territory_planner.optimize.formulation import GE, LE, RowInfo, safe

    g = b.spec.groups
    if g is None:
        return
    p = b.spec.problem
    fixed = offset @ g.member.T.astype(float)  # (M, G)
    written = np.zeros(p.n_reps, dtype=bool)
    written[b.reps] = True
    for k in range(g.n_groups):
        cols = np.concatenate([b.by_rep[j] for j in np.flatnonzero(g.member[k] & written).tolist()] or [[]])
        cols = cols.astype(np.int64)
        if not len(cols):
            continue
        name = f"{g.level[k]}_{{}}_{{}}_{safe(g.names[k])}_{k}"
        for m, measure in enumerate(p.measures):
            terms = b.terms(cols, p.unit_amount[b.col_unit[cols], m])
            if not terms:
                continue
            cost = None if slack_cost is None else float(slack_cost[m])
            if np.isfinite(g.lower[m, k]):
                info = RowInfo(FAMILY_MIN, measure=m, group=k)
                b.add(terms, GE, g.lower[m, k] - fixed[m, k], name.format("min", safe(measure)), info, cost)
            if np.isfinite(g.upper[m, k]):
                info = RowInfo(FAMILY_MAX, measure=m, group=k)
                b.add(terms, LE, g.upper[m, k] - fixed[m, k], name.format("max", safe(measure)), info, cost)


def row_index(groups: GroupBands | None, rows: list[Any], m: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, G) row of each group band in a formulation's rows (-1: none)."""
    n = 0 if groups is None else groups.n_groups
    lo, hi = np.full((m, n), -1, dtype=np.int64), np.full((m, n), -1, dtype=np.int64)
    for r, info in enumerate(rows):
        if info.family == FAMILY_MIN:
            lo[info.measure, info.group] = r
        elif info.family == FAMILY_MAX:
            hi[info.measure, info.group] = r
    return lo, hi


def column_parts(
    groups: GroupBands | None,
    lo: np.ndarray,
    hi: np.ndarray,
    amount: np.ndarray,
    unit: np.ndarray,
    rep: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Entries (column, row, value) of new columns (unit[k], rep[k]) in the group rows."""
    if groups is None or lo.size == 0:
        return []
    k = np.arange(len(unit))
    out = []
    for level_row in groups.group_of:
        grp = level_row[rep]
        has = grp >= 0
        for m in range(amount.shape[1]):
            a = amount[unit[has], m]
            out.append((k[has], lo[m, grp[has]], a))
            out.append((k[has], hi[m, grp[has]], a))
    return out


def read_dual(lo: np.ndarray, hi: np.ndarray, info: Any, y: float) -> None:
    """Store a group row's dual with its sign condition (>= 0 for a minimum, <= 0 for a maximum)."""
    if info.family == FAMILY_MIN:
        lo[info.measure, info.group] = max(y, 0.0)
    else:
        hi[info.measure, info.group] = min(y, 0.0)


def narrowed_spec(spec: ModelSpec, margin: float) -> ModelSpec:
    """``spec`` with its group bands narrowed too (the pipeline's rounding LP)."""
    if spec.groups is None:
        return spec
    return dataclasses.replace(spec, groups=narrowed(spec.groups, margin))


def explain(spec: ModelSpec, info: Any, amount: float) -> Conflict:
    """A group row that needed slack in a proof LP, with its numbers."""
    from territory_planner.optimize.prechecks import amount as money_or

    g = spec.groups
    assert g is not None
    k, m = info.group, info.measure
    measure = spec.problem.measures[m]
    side = "short of the minimum" if info.family == FAMILY_MIN else "above the maximum"
    msg = (
        f"{g.level[k]} {g.names[k]} {measure}: band {money_or(g.lower[m, k], measure)} to "
        f"{money_or(g.upper[m, k], measure)}; the best fractional plan is {money_or(amount, measure)} {side}"
    )
    return _conflict(g, k, measure, msg, amount)
