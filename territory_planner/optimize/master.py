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
        self.col_unit = np.asarray(col_unit, dtype=np.int64)
        self.col_rep = np.asarray(col_rep, dtype=np.int64)
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
        open_lp = getattr(backend, "open_lp", None)
        if open_lp is not None:
            self._fix_pulp_bounds()
            self.live = open_lp(
                self.form.prob, self.form.variables, self.form.constraints, seed=seed, threads=threads
            )
            self.rows = formulation.RowIndex.of(spec, self.form, cuts)

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
