"""The PuLP formulation: one function per constraint family, every row named from the data.

Columns are (unit, rep) pairs: the candidate set, not the full n x p matrix. Units not in ``free`` are
fixed to a rep; their contribution moves to the right-hand sides. With ``elastic=True`` every balance,
budget and count row gets a priced slack, so the model is always feasible and the slacks say by how
much each row had to give (used for column generation's first rounds and for infeasibility reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pulp

from territory_planner.optimize import hierarchy
from territory_planner.optimize.spec import ModelSpec

GE, LE, EQ = pulp.const.LpConstraintGE, pulp.const.LpConstraintLE, pulp.const.LpConstraintEQ
_SAFE = re.compile(r"[^A-Za-z0-9_]")


def safe(label: str) -> str:
    return _SAFE.sub("_", str(label))[:40]


@dataclass
class RowInfo:
    family: (
        str  # assign | balance_min | balance_max | budget | rep_budget | min_accounts | max_accounts | contig
    )
    rep: int = -1
    measure: int = -1
    unit: int = -1
    cut: int = -1  # index into the ``cuts`` list for family "contig"
    group: int = -1  # district / region index for the ``hierarchy`` families


@dataclass(frozen=True)
class Cut:
    """Contiguity separator cut: x[unit, rep] <= sum_{k in neighbours} x[k, rep] (rhs 0, dual <= 0)."""

    rep: int
    unit: int
    neighbours: tuple[int, ...]
    reps: tuple[int, ...] = ()  # a district cut: every x is the sum over these reps' columns

    @property
    def members(self) -> tuple[int, ...]:
        return self.reps or (self.rep,)


@dataclass
class Formulation:
    prob: pulp.LpProblem
    variables: list[pulp.LpVariable]
    constraints: list[pulp.LpConstraint]
    col_unit: np.ndarray
    col_rep: np.ndarray
    rows: list[RowInfo]
    slack_rows: list[int]  # row index of each slack variable (after the x columns)
    fixed_objective: float
    fixed_counts: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_cols(self) -> int:
        return len(self.col_unit)


class Terms(list[tuple[pulp.LpVariable, float]]):
    """A row's terms over the builder's x columns, as PuLP takes them, with the same terms as arrays
    (``cols``: x indices, distinct; ``vals``): the HiGHS back-end reads the row from the arrays instead of
    walking the PuLP expression term by term (10.5 s of a 22-s build on 3,355 cities x 60 reps with
    district and region rows, QA20 F10)."""

    cols: np.ndarray
    vals: np.ndarray


class _Builder:
    def __init__(
        self,
        spec: ModelSpec,
        col_unit: np.ndarray,
        col_rep: np.ndarray,
        integer: bool,
        name: str,
        reps: np.ndarray | None = None,
    ):
        self.spec = spec
        self.integer = integer
        # reps whose rows are written; the others' rows are constant (no free column) and left out
        self.reps = np.arange(spec.problem.n_reps) if reps is None else np.asarray(reps)
        self.prob = pulp.LpProblem(name, pulp.LpMinimize)
        cat = pulp.const.LpBinary if integer else pulp.const.LpContinuous
        self.x = [
            self.prob.add_variable(f"x_{u}_{j}", 0, 1, cat)
            for u, j in zip(col_unit.tolist(), col_rep.tolist(), strict=False)
        ]
        self.col_unit, self.col_rep = col_unit, col_rep
        self.constraints: list[pulp.LpConstraint] = []
        self.rows: list[RowInfo] = []
        self.slacks: list[pulp.LpVariable] = []
        self.slack_rows: list[int] = []
        self.slack_costs: list[float] = []
        order = np.argsort(col_rep, kind="stable")
        bounds = np.searchsorted(col_rep[order], np.arange(spec.problem.n_reps + 1))
        self.by_rep = [order[bounds[j] : bounds[j + 1]] for j in range(spec.problem.n_reps)]

    def add(
        self,
        terms: list[tuple[pulp.LpVariable, float]],
        sense: int,
        rhs: float,
        name: str,
        info: RowInfo,
        slack_cost: float | None = None,
    ) -> None:
        expr = pulp.LpAffineExpression(terms)
        if slack_cost is not None and sense != EQ:
            s = self.prob.add_variable(f"slack_{len(self.slacks)}", 0, None)
            expr = expr + (s if sense == GE else -1 * s)
            self.slacks.append(s)
            self.slack_rows.append(len(self.constraints))
            self.slack_costs.append(slack_cost)
        con = pulp.LpConstraint(expr, sense=sense, rhs=float(rhs), name=name)
        if isinstance(terms, Terms):  # the row as arrays for the back-end (``solvers.highs``)
            has_slack = self.slack_rows[-1:] == [len(self.constraints)]
            con.tp_x = self.x
            con.tp_cols, con.tp_vals = terms.cols, terms.vals
            con.tp_slack = self.slacks[-1] if has_slack else None
            con.tp_slack_coef = 1.0 if sense == GE else -1.0
        self.prob.addConstraint(con, name=name)
        self.constraints.append(con)
        self.rows.append(info)

    def terms(self, cols: np.ndarray, coefs: np.ndarray) -> Terms:
        x = self.x
        cols, coefs = np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float)
        keep = coefs != 0.0
        out = Terms((x[c], v) for c, v in zip(cols[keep].tolist(), coefs[keep].tolist(), strict=True))
        out.cols, out.vals = cols[keep], coefs[keep]
        return out


def add_assignment(b: _Builder, free: np.ndarray) -> None:
    """assign_<account>: each free unit goes to exactly one rep."""
    order = np.argsort(b.col_unit, kind="stable")
    units_sorted = b.col_unit[order]
    starts = np.searchsorted(units_sorted, free, side="left")
    ends = np.searchsorted(units_sorted, free, side="right")
    ids = b.spec.problem.account_ids
    first_acc = _first_account(b.spec)
    for u, s, e in zip(free.tolist(), starts.tolist(), ends.tolist(), strict=False):
        cols = order[s:e]
        b.add(
            b.terms(cols, np.ones(len(cols))),
            EQ,
            1.0,
            f"assign_{safe(ids[first_acc[u]])}_{u}",
            RowInfo("assign", unit=u),
        )


def _first_account(spec: ModelSpec) -> np.ndarray:
    p = spec.problem
    first = np.full(p.n_units, -1, dtype=np.int64)
    first[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    return first


def add_balance(b: _Builder, offset: np.ndarray, slack_cost: np.ndarray | None) -> None:
    """balance_min/max_<measure>_<rep>: each rep's total within its band (fixed units in the offset)."""
    p = b.spec.problem
    for m, measure in enumerate(p.measures):
        amounts = p.unit_amount[:, m]
        for j in b.reps.tolist():
            cols = b.by_rep[j]
            terms = b.terms(cols, amounts[b.col_unit[cols]])
            cost = None if slack_cost is None else float(slack_cost[m])
            rid = safe(p.rep_ids[j])
            b.add(
                terms,
                GE,
                b.spec.lower[m, j] - offset[m, j],
                f"balance_min_{safe(measure)}_{rid}_{j}",
                RowInfo("balance_min", rep=j, measure=m),
                cost,
            )
            b.add(
                terms,
                LE,
                b.spec.upper[m, j] - offset[m, j],
                f"balance_max_{safe(measure)}_{rid}_{j}",
                RowInfo("balance_max", rep=j, measure=m),
                cost,
            )


def add_counts(b: _Builder, fixed_counts: np.ndarray, slack_cost: float | None) -> None:
    """min_accounts_<rep> / max_accounts_<rep>: number of accounts per rep."""
    spec, p = b.spec, b.spec.problem
    sizes = p.unit_size.astype(float)
    for j in b.reps.tolist():
        cols = b.by_rep[j]
        terms = b.terms(cols, sizes[b.col_unit[cols]])
        rid = safe(p.rep_ids[j])
        if spec.min_accounts is not None:
            b.add(
                terms,
                GE,
                spec.min_accounts - fixed_counts[j],
                f"min_accounts_{rid}_{j}",
                RowInfo("min_accounts", rep=j),
                slack_cost,
            )
        if spec.max_accounts is not None:
            b.add(
                terms,
                LE,
                spec.max_accounts - fixed_counts[j],
                f"max_accounts_{rid}_{j}",
                RowInfo("max_accounts", rep=j),
                slack_cost,
            )


def add_disruption_budget(
    b: _Builder,
    fixed_moved: float,
    fixed_stay: np.ndarray,
    slack_cost: float | None,
    free: np.ndarray | None = None,
) -> None:
    """disruption_budget (overall moved potential) and keep_<rep> (share each rep keeps).

    In a MIP the budget is written as the potential that stays: each free unit is assigned once, so
    moved = (its current potential) - (what stays), and sum(moved x) <= B is sum(stay x) >= (the free
    units' current potential) - B. The row then has one term per unit (its current rep's column) where
    "moved" has one per other rep: on 507 Canadian cities x 12 reps (--max-moved-share 0.5) HiGHS found
    no plan in 13 s with the dense row (seeds 0 and 1), 963,333-1,014,368 with the sparse one (QA13 1).
    An LP keeps the "moved" row: column generation prices columns with its dual."""
    spec, p = b.spec, b.spec.problem
    if spec.budget is not None:
        all_cols = np.arange(len(b.x))
        if b.integer and free is not None and np.isin(b.col_unit, free).all():  # each column's unit: once
            current = float(spec.stay[free].sum())  # the free units' current potential
            stay = spec.stay[b.col_unit, b.col_rep]
            cols = np.flatnonzero(stay != 0)
            rhs = current - (spec.budget - fixed_moved)
            b.add(b.terms(cols, stay[cols]), GE, rhs, "disruption_budget", RowInfo("budget"), slack_cost)
        else:
            terms = b.terms(all_cols, spec.moved[b.col_unit, b.col_rep])
            b.add(terms, LE, spec.budget - fixed_moved, "disruption_budget", RowInfo("budget"), slack_cost)
    if spec.rep_budget_share is not None:
        for j in b.reps.tolist():
            if spec.held[j] <= 0:
                continue
            cols = b.by_rep[j]
            terms = b.terms(cols, spec.stay[b.col_unit[cols], j])
            rhs = (1 - spec.rep_budget_share) * spec.held[j] - fixed_stay[j]
            b.add(terms, GE, rhs, f"keep_{safe(p.rep_ids[j])}_{j}", RowInfo("rep_budget", rep=j), slack_cost)


def add_cuts(b: _Builder, cuts: list[Cut], fixed_rep: np.ndarray) -> None:
    """contig_<rep>_<n>: x[i,j] - sum_{k in N(S)} x[k,j] <= 0, fixed units moved to the right-hand side."""
    p = b.spec.problem
    col = {
        (int(u), int(j)): c
        for c, (u, j) in enumerate(zip(b.col_unit.tolist(), b.col_rep.tolist(), strict=True))
    }
    for n, cut in enumerate(cuts):
        j = cut.rep
        group = set(cut.members)
        rhs = float(sum(1 for k in cut.neighbours if fixed_rep[k] in group))
        rhs -= 1.0 if fixed_rep[cut.unit] in group else 0.0
        terms: list[tuple[pulp.LpVariable, float]] = []
        for r in cut.members:
            c = col.get((cut.unit, r))
            if c is not None:
                terms.append((b.x[c], 1.0))
            for k in cut.neighbours:
                ck = col.get((int(k), r))
                if ck is not None:
                    terms.append((b.x[ck], -1.0))
        if not terms and rhs >= 0:
            continue
        b.add(
            terms, LE, rhs, f"contig_{safe(p.rep_ids[j])}_{n}", RowInfo("contig", rep=j, unit=cut.unit, cut=n)
        )


def build(
    spec: ModelSpec,
    col_unit: np.ndarray,
    col_rep: np.ndarray,
    *,
    free: np.ndarray | None = None,
    fixed_rep: np.ndarray | None = None,
    integer: bool = False,
    elastic: bool = False,
    slack_price: dict[str, np.ndarray] | None = None,
    name: str = "territories",
    reps: np.ndarray | None = None,
    cuts: list[Cut] | None = None,
) -> Formulation:
    """Build the model over candidate columns. ``fixed_rep[u] >= 0`` fixes unit u (not in ``free``).

    ``reps`` limits the per-rep rows to those reps; the caller guarantees that every other rep's rows
    hold with the fixed units alone (they have no free column)."""
    p = spec.problem
    if free is None:
        free = np.arange(p.n_units)
    if fixed_rep is None:
        fixed_rep = np.full(p.n_units, -1, dtype=np.int64)
    fixed_units = np.flatnonzero(fixed_rep >= 0)
    fr = fixed_rep[fixed_units]
    offset = np.zeros((len(p.measures), p.n_reps))
    for m in range(len(p.measures)):
        offset[m] = np.bincount(fr, weights=p.unit_amount[fixed_units, m], minlength=p.n_reps)
    fixed_counts = np.bincount(fr, weights=p.unit_size[fixed_units], minlength=p.n_reps)
    fixed_moved = float(spec.moved[fixed_units, fr].sum())
    fixed_stay = np.bincount(fr, weights=spec.stay[fixed_units, fr], minlength=p.n_reps)
    fixed_objective = float(spec.objective[fixed_units, fr].sum())

    b = _Builder(spec, col_unit, col_rep, integer, name, reps)
    add_assignment(b, free)
    price = slack_price if elastic else None
    add_balance(b, offset, None if price is None else price["balance"])
    hierarchy.add_group_rows(b, offset, None if price is None else price["balance"])
    add_counts(b, fixed_counts, None if price is None else float(price["count"][0]))
    add_disruption_budget(
        b, fixed_moved, fixed_stay, None if price is None else float(price["budget"][0]), free
    )
    if cuts:
        add_cuts(b, cuts, fixed_rep)
    obj = spec.objective[col_unit, col_rep]
    terms = [(v, float(c)) for v, c in zip(b.x, obj.tolist(), strict=False)]
    terms += [(s, c) for s, c in zip(b.slacks, b.slack_costs, strict=False)]
    b.prob.setObjective(pulp.LpAffineExpression(terms))
    return Formulation(
        prob=b.prob,
        variables=b.x + b.slacks,
        constraints=b.constraints,
        col_unit=col_unit,
        col_rep=col_rep,
        rows=b.rows,
        slack_rows=b.slack_rows,
        fixed_objective=fixed_objective,
        fixed_counts=fixed_counts,
    )


@dataclass
class RowIndex:
    """Where each family's rows sit in a formulation (-1: no such row), for adding columns in place."""

    assign: np.ndarray  # (n_units,)
    bal_lo: np.ndarray  # (M, p)
    bal_hi: np.ndarray  # (M, p)
    cnt_lo: np.ndarray  # (p,)
    cnt_hi: np.ndarray  # (p,)
    keep: np.ndarray  # (p,)
    budget: int
    cut_terms: dict[tuple[int, int], list[tuple[int, float]]]  # (unit, rep) -> [(row, coefficient)]
    grp_lo: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))  # (M, G)
    grp_hi: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

    @classmethod
    def of(cls, spec: ModelSpec, form: Formulation, cuts: list[Cut] | None = None) -> RowIndex:
        p = spec.problem
        m, reps = len(p.measures), p.n_reps
        ix = cls(
            np.full(p.n_units, -1, dtype=np.int64),
            np.full((m, reps), -1, dtype=np.int64),
            np.full((m, reps), -1, dtype=np.int64),
            np.full(reps, -1, dtype=np.int64),
            np.full(reps, -1, dtype=np.int64),
            np.full(reps, -1, dtype=np.int64),
            -1,
            {},
        )
        for r, info in enumerate(form.rows):
            fam = info.family
            if fam == "assign":
                ix.assign[info.unit] = r
            elif fam == "balance_min":
                ix.bal_lo[info.measure, info.rep] = r
            elif fam == "balance_max":
                ix.bal_hi[info.measure, info.rep] = r
            elif fam == "min_accounts":
                ix.cnt_lo[info.rep] = r
            elif fam == "max_accounts":
                ix.cnt_hi[info.rep] = r
            elif fam == "rep_budget":
                ix.keep[info.rep] = r
            elif fam == "budget":
                ix.budget = r
            elif fam == "contig" and cuts is not None:
                cut = cuts[info.cut]
                for j in cut.members:
                    ix.cut_terms.setdefault((cut.unit, j), []).append((r, 1.0))
                    for k in cut.neighbours:
                        ix.cut_terms.setdefault((int(k), j), []).append((r, -1.0))
        ix.grp_lo, ix.grp_hi = hierarchy.row_index(spec.groups, form.rows, m)
        return ix


def column_entries(
    spec: ModelSpec, rows: RowIndex, unit: np.ndarray, rep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Objective and compressed-column matrix entries (starts, row index, value) of the columns
    (unit[k], rep[k]): the same coefficients ``build`` writes, computed in numpy."""
    p = spec.problem
    k = np.arange(len(unit))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(k, rows.assign[unit], np.ones(len(unit)))]
    for m in range(len(p.measures)):
        a = p.unit_amount[unit, m]
        parts.append((k, rows.bal_lo[m, rep], a))
        parts.append((k, rows.bal_hi[m, rep], a))
    size = p.unit_size[unit].astype(float)
    parts.append((k, rows.cnt_lo[rep], size))
    parts.append((k, rows.cnt_hi[rep], size))
    if rows.budget >= 0:
        parts.append((k, np.full(len(unit), rows.budget), spec.moved[unit, rep]))
    parts.append((k, rows.keep[rep], spec.stay[unit, rep]))
    parts += hierarchy.column_parts(spec.groups, rows.grp_lo, rows.grp_hi, p.unit_amount, unit, rep)
    if rows.cut_terms:
        extra = [
            (c, r, v)
            for c, (u, j) in enumerate(zip(unit.tolist(), rep.tolist(), strict=True))
            for r, v in rows.cut_terms.get((u, j), ())
        ]
        if extra:
            cc, rr, vv = (np.array(t) for t in zip(*extra, strict=True))
            parts.append((cc.astype(np.int64), rr.astype(np.int64), vv.astype(float)))
    col = np.concatenate([c for c, _, _ in parts])
    row = np.concatenate([r for _, r, _ in parts])
    val = np.concatenate([v for _, _, v in parts])
    keep = (row >= 0) & (val != 0.0)
    col, row, val = col[keep], row[keep], val[keep]
    order = np.lexsort((row, col))
    col, row, val = col[order], row[order], val[order]
    starts = np.searchsorted(col, k)
    return spec.objective[unit, rep].astype(float), starts, row, val


def elastic_start(form: Formulation, x: np.ndarray) -> np.ndarray:
    """Values of every variable of an elastic model for column values ``x``: each slack takes what its
    row needs, so the start is feasible for the elastic model whatever ``x`` is."""
    values = np.zeros(len(form.variables))
    values[: form.n_cols] = x
    index = {id(v): i for i, v in enumerate(form.variables[: form.n_cols])}
    for k, r in enumerate(form.slack_rows):
        con = form.constraints[r]
        slack = form.variables[form.n_cols + k]
        activity = sum(c * x[index[id(v)]] for v, c in con.items() if v is not slack and id(v) in index)
        rhs = -float(con.constant)
        need = rhs - activity if con.sense == GE else activity - rhs
        values[form.n_cols + k] = max(float(need), 0.0)
    return values
