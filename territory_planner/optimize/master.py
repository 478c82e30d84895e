"""The restricted master LP of column generation, grown in place between rounds.

PuLP builds the first master (every row named from the data, every unit's assignment row present, units
fixed by the caller held at 1 by their column bounds). With a back-end that can keep a model alive
(HiGHS: ``open_lp``), later rounds only send the new columns, the freed bounds and changed slack prices,
and each round is a simplex warm-started from the last basis; any other back-end gets the model rebuilt
by PuLP each round. Both give the same LP.
"""

from __future__ import annotations

import numpy as np

from territory_planner.optimize import formulation
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, SolveOutcome


class Master:
    def __init__(
        self,
        spec: ModelSpec,
        backend: Backend,
        col_unit: np.ndarray,
        col_rep: np.ndarray,
        fixed: np.ndarray,
        prices: dict[str, np.ndarray],
        *,
        cuts: list[formulation.Cut] | None,
        seed: int,
        threads: int | None,
    ):
        self.spec, self.backend, self.cuts = spec, backend, cuts
        self.seed, self.threads = seed, threads
        col_unit = np.asarray(col_unit, dtype=np.int64)
        col_rep = np.asarray(col_rep, dtype=np.int64)
        open_lp = getattr(backend, "open_lp", None)
        # a large first master: PuLP builds the rows with a cover of the columns, the rest go in as arrays
        rest = (
            ~_row_cover(spec, col_unit, col_rep)
            if open_lp is not None and not cuts and len(col_unit) > ARRAY_COLUMNS_ABOVE
            else np.zeros(len(col_unit), dtype=bool)
        )
        self.col_unit, self.col_rep = col_unit[~rest], col_rep[~rest]
        self.prices = prices
        p = spec.problem
        self.key = np.full((p.n_units, p.n_reps), -1, dtype=np.int32)  # column of (unit, rep), -1 if none
        self.key[self.col_unit, self.col_rep] = np.arange(len(self.col_unit))
        self.fixed = np.asarray(fixed, dtype=np.int64).copy()
        self.form = formulation.build(
            spec, self.col_unit, self.col_rep, elastic=True, slack_price=prices, name="lp", cuts=cuts
        )
        self.n_slack = len(self.form.slack_rows)
        self.slack_cost = np.array(_slack_costs(self.form, prices))
        self.live = None
        if open_lp is not None:
            self._fix_pulp_bounds()
            self.live = open_lp(
                self.form.prob, self.form.variables, self.form.constraints, seed=seed, threads=threads
            )
            self.rows = formulation.RowIndex.of(spec, self.form, cuts)
            self.add(col_unit[rest], col_rep[rest])

    @property
    def n_cols(self) -> int:
        return len(self.col_unit)

    def _position(self, cols: np.ndarray) -> np.ndarray:
        """Model column of each x column: the first build's x columns, then its slacks, then added ones."""
        n0 = self.form.n_cols
        return np.where(cols < n0, cols, cols + self.n_slack)

    def _fix_pulp_bounds(self) -> None:
        fixed_cols = self.key[np.flatnonzero(self.fixed >= 0), self.fixed[self.fixed >= 0]]
        for c in fixed_cols.tolist():
            if c < self.form.n_cols:
                self.form.variables[c].lowBound = 1

    def add(self, unit: np.ndarray, rep: np.ndarray) -> None:
        """Add columns (unit, rep) not already in the master."""
        unit, rep = np.asarray(unit, dtype=np.int64), np.asarray(rep, dtype=np.int64)
        new = self.key[unit, rep] < 0
        unit, rep = unit[new], rep[new]
        if not len(unit):
            return
        first = self.n_cols
        self.col_unit = np.concatenate([self.col_unit, unit])
        self.col_rep = np.concatenate([self.col_rep, rep])
        self.key[unit, rep] = np.arange(first, self.n_cols)
        if self.live is not None:
            cost, starts, index, value = formulation.column_entries(self.spec, self.rows, unit, rep)
            lower = (self.fixed[unit] == rep).astype(float)
            self.live.add_columns(cost, lower, np.ones(len(unit)), starts, index, value)

    def unfix(self, units: np.ndarray) -> None:
        """Free fixed units: their fixed column may now take any value in [0, 1]."""
        units = np.asarray(units, dtype=np.int64)
        if not len(units):
            return
        cols = self.key[units, self.fixed[units]]
        self.fixed[units] = -1
        if self.live is not None:
            self.live.set_bounds(self._position(cols), np.zeros(len(cols)), np.ones(len(cols)))

    def set_prices(self, prices: dict[str, np.ndarray]) -> None:
        self.prices = prices
        self.slack_cost = np.array(_slack_costs(self.form, prices))
        if self.live is not None:
            pos = self.form.n_cols + np.arange(self.n_slack)
            self.live.set_costs(pos, self.slack_cost)

    def hold_slacks(self) -> bool:
        """Hold every slack at 0: the LP is then infeasible where it would have needed slack. On a whole
        LP (every pair a column) the simplex takes another path without them: the least-moved LP over
        2,223 European cities x 80 reps solved in 6 s without, and not in 60 s with (QA21 Q1); 11.4 s
        against 4.4 s on 3,142 counties x 40 reps; 1.7 s against 2.3 s, and 4.0 against 5.3 with
        district rows, on 3,407 cities x 60 reps. Only with a live model (HiGHS); False when the back-end
        has none, and the slacks stay free."""
        if self.live is None:
            return False
        pos = self.form.n_cols + np.arange(self.n_slack)
        self.live.set_bounds(pos, np.zeros(len(pos)), np.zeros(len(pos)))
        return True

    def retry(self, time_limit: float) -> tuple[SolveOutcome, np.ndarray, np.ndarray]:
        """After a failed run: the same LP from scratch (no basis), by interior point then by the dual
        simplex, and finally rebuilt by PuLP and handed over whole (no live model)."""
        import time

        end = time.perf_counter() + time_limit
        out: tuple[SolveOutcome, np.ndarray, np.ndarray] | None = None
        if self.live is not None:
            for method in ("ipm", "simplex"):
                self.live.clear()
                out = self.solve(max(end - time.perf_counter(), 0.5), method)
                if out[0].row_duals is not None:
                    return out
            self.live = None  # rebuild: the next solves go through PuLP
        out = self.solve(max(end - time.perf_counter(), 0.5), "ipm")
        return out

    def solve(
        self, time_limit: float, method: str = "simplex"
    ) -> tuple[SolveOutcome, np.ndarray, np.ndarray]:
        """Run the master; returns the outcome and, in column order, x and the slack values."""
        if self.live is not None:
            out = self.live.run(time_limit, method)
            pos = self._position(np.arange(self.n_cols))
            n0 = self.form.n_cols
            return out, out.values[pos], out.values[n0 : n0 + self.n_slack]
        self.form = formulation.build(
            self.spec,
            self.col_unit,
            self.col_rep,
            elastic=True,
            slack_price=self.prices,
            name="lp",
            cuts=self.cuts,
        )
        self.n_slack = len(self.form.slack_rows)
        self._fix_pulp_bounds()
        out = self.backend.solve(
            self.form.prob,
            self.form.variables,
            self.form.constraints,
            mip=False,
            time_limit=time_limit,
            gap=None,
            seed=self.seed,
            threads=self.threads,
            lp_method=method,
        )
        n = self.n_cols
        return out, out.values[:n], out.values[n : n + self.n_slack]


ARRAY_COLUMNS_ABOVE = 30_000  # a first master with more columns than this is built by PuLP in part


def _row_cover(spec: ModelSpec, col_unit: np.ndarray, col_rep: np.ndarray) -> np.ndarray:
    """Columns that give ``formulation.build`` every row the whole set gives it: each unit's first
    column (its assignment row) and, for each rep and measure, its column of the largest amount (a
    district or region row is left out when none of its reps' columns has an amount; every other row is
    written whether it has terms or not). The rest can then enter as arrays (``Master.add``): on
    178,000 pairs PuLP took 7 s to build them all."""
    p = spec.problem
    cover = np.zeros(len(col_unit), dtype=bool)
    order = np.lexsort((np.arange(len(col_unit)), col_unit))
    first = order[np.r_[True, col_unit[order][1:] != col_unit[order][:-1]]] if len(order) else order
    cover[first] = True
    for m in range(len(p.measures)):
        amount = p.unit_amount[col_unit, m]
        by_rep = np.lexsort((-amount, col_rep))
        top = by_rep[np.r_[True, col_rep[by_rep][1:] != col_rep[by_rep][:-1]]] if len(by_rep) else by_rep
        cover[top] = True
    return cover


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
