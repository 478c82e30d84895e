"""HiGHS through ``highspy``: the default back-end.

PuLP builds the model; this back-end hands it to HiGHS in one bulk ``passModel`` call (PuLP's own
``HiGHS`` class adds columns and rows one Python call at a time, which dominates the run time at a
million variables), and reads back values, row duals and the proven MIP bound. The status is read
from HiGHS's model status and primal solution status, never from PuLP's optimistic mapping (a
time-limited MIP with an incumbent is FEASIBLE, without one NO_SOLUTION).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pulp

from territory_planner.interrupt import USER_INTERRUPT, raise_if_interrupted
from territory_planner.solvers.base import LiveMip, SolveOutcome, SolveStatus

_BANNER_SHOWN = False
_BANNER_LOCK = threading.Lock()

# HiGHS's feasibility-jump heuristic runs before the root LP and does not stop at the time limit: 25-34 s
# on 400,000-570,000 binaries here (up to 86 us per column), so a whole model started with 14 s left ran
# 42 s. It only runs when the time given leaves it this much per column.
FJ_SECONDS_PER_COLUMN = 1.5e-4


def new_highs() -> object:
    """A silent ``highspy.Highs``: its first construction prints a banner on the C-level stdout, which
    would corrupt the CLI's output; it goes to /dev/null instead. The first construction holds a lock:
    two threads in it at once (the whole model beside and the LP, both started 0.3 s into a run) each
    saved fd 1 and put /dev/null there, and the one that saved /dev/null restored it last, so the run's
    summary lines went nowhere (GB, 865 cities, one run in five)."""
    global _BANNER_SHOWN
    import highspy

    h = None
    if not _BANNER_SHOWN:
        with _BANNER_LOCK:
            if not _BANNER_SHOWN:
                h = _first_highs(highspy)
                _BANNER_SHOWN = True
    if h is None:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _first_highs(highspy: Any) -> Any:
    """The process's first ``Highs``, built with fd 1 on /dev/null (its banner)."""
    import os
    import sys

    if sys.stdout is not None:  # None: Python found descriptor 1 closed (`>&-`, QA84 F2)
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # descriptor 1 closed: there is no banner to hide
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class HighsBackend:
    name = "highs"

    def available(self) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            return False
        return True

    def version(self) -> str:
        import highspy

        return (
            f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
        )

    def solve(
        self,
        prob: pulp.LpProblem,
        variables: list[pulp.LpVariable],
        constraints: list[pulp.LpConstraint],
        *,
        mip: bool,
        time_limit: float | None,
        gap: float | None,
        seed: int,
        threads: int | None,
        lp_method: str = "simplex",
        abs_gap: float | None = None,
        start: np.ndarray | None = None,
        node_limit: int | None = None,
        solution_limit: int | None = None,
        live: LiveMip | None = None,
    ) -> SolveOutcome:
        """``live``: a run in another thread stops (with its best solution and bound) soon after
        ``live.cancel`` is set, as HiGHS polls its interrupt callbacks during simplex, IPM and the MIP
        search; in the MIP search it also reports its dual bound there, and takes up the solutions
        posted to ``live`` whenever it asks for a user solution (before each dive)."""
        import highspy

        begin = time.perf_counter()
        lp, integer = _to_highs_lp(prob, variables, constraints, mip)
        h: Any = new_highs()
        _configure(h, seed, threads)
        if gap is not None:
            h.setOptionValue("mip_rel_gap", float(gap))
        if abs_gap is not None:
            h.setOptionValue("mip_abs_gap", float(abs_gap))
        if node_limit is not None:  # a work limit, unlike time, gives the same answer on any machine
            h.setOptionValue("mip_max_nodes", int(node_limit))
        if solution_limit is not None:
            h.setOptionValue("mip_max_improving_sols", int(solution_limit))
        if not mip:
            h.setOptionValue("solver", lp_method)
        h.passModel(lp)
        if start is not None and mip:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=float)
            sol.value_valid = True
            h.setSolution(sol)
        build_seconds = time.perf_counter() - begin
        if time_limit is not None:  # the caller's limit counts from the call: the transfer used some of it
            seconds = max(0.01, float(time_limit) - build_seconds)
            h.setOptionValue("time_limit", seconds)
            if mip and seconds < FJ_SECONDS_PER_COLUMN * len(variables):
                h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        _connect(h, live)
        _run(h)
        raise_if_interrupted()
        return _outcome(h, len(variables), mip and bool(integer.any()), begin, build_seconds)

    def open_lp(
        self,
        prob: pulp.LpProblem,
        variables: list[pulp.LpVariable],
        constraints: list[pulp.LpConstraint],
        *,
        seed: int,
        threads: int | None,
    ) -> LiveLp:
        """A live LP that keeps its basis between runs while columns are added and bounds or costs change
        (column generation): only the changes cross into HiGHS, and each run is a warm-started simplex."""
        lp, _ = _to_highs_lp(prob, variables, constraints, mip=False)
        h: Any = new_highs()
        _configure(h, seed, threads)
        h.setOptionValue("solver", "simplex")
        h.passModel(lp)
        return LiveLp(h, len(variables))


class LiveLp:
    """A HiGHS LP kept in memory between runs (see ``HighsBackend.open_lp``)."""

    def __init__(self, h: Any, n_cols: int):
        self._h = h
        self.n_cols = n_cols

    def add_columns(
        self,
        cost: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        starts: np.ndarray,
        index: np.ndarray,
        value: np.ndarray,
    ) -> None:
        """Columns in compressed-column form (``starts`` has one entry per column); new columns enter
        nonbasic, so the current basis stays valid."""
        k = len(cost)
        if k == 0:
            return
        self._h.addCols(
            k,
            np.asarray(cost, dtype=float),
            np.asarray(lower, dtype=float),
            np.asarray(upper, dtype=float),
            len(index),
            np.asarray(starts, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.asarray(value, dtype=float),
        )
        self.n_cols += k

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        if len(cols):
            self._h.changeColsBounds(
                len(cols),
                np.asarray(cols, dtype=np.int32),
                np.asarray(lower, float),
                np.asarray(upper, float),
            )

    def set_costs(self, cols: np.ndarray, cost: np.ndarray) -> None:
        if len(cols):
            self._h.changeColsCost(len(cols), np.asarray(cols, dtype=np.int32), np.asarray(cost, float))

    def clear(self) -> None:
        """Forget the basis and any solver state (after a failed run)."""
        self._h.clearSolver()

    def run(self, time_limit: float | None, method: str = "simplex") -> SolveOutcome:
        """Solve from the current basis; ``method`` "ipm" (interior point, then crossover to a vertex)
        is faster than the simplex for a large first solve with no basis to start from."""
        begin = time.perf_counter()
        h = self._h
        h.setOptionValue("solver", method)
        # HiGHS measures its time limit over the object's whole life, not per run
        limit = np.inf if time_limit is None else h.getRunTime() + max(0.01, float(time_limit))
        h.setOptionValue("time_limit", float(limit))
        _run(h)
        raise_if_interrupted()
        return _outcome(h, self.n_cols, False, begin, 0.0)


def _connect(h: Any, live: LiveMip | None) -> None:
    """The interrupt, user-solution and improving-solution callbacks that serve ``live``; without it,
    the interrupt callbacks alone, so that a Ctrl-C stops the solve at once (the signal's handler runs
    in the next callback; without one it waited for the solve's own time cap: QA29 F8)."""

    def interrupt(event: Any) -> None:
        if USER_INTERRUPT.is_set() or (live is not None and live.cancel.is_set()):
            event.interrupt()

    if live is None:
        h.cbSimplexInterrupt += interrupt
        h.cbIpmInterrupt += interrupt
        h.cbMipInterrupt += interrupt
        return

    def mip_interrupt(event: Any) -> None:
        live.report_bound(float(event.data_out.mip_dual_bound))
        interrupt(event)

    def user_solution(event: Any) -> None:
        values = live.take()
        if values is not None:
            event.data_in.setSolution(values)

    def improving(event: Any) -> None:
        live.report_solution(event.data_out.mip_solution)

    h.cbSimplexInterrupt += interrupt
    h.cbIpmInterrupt += interrupt
    h.cbMipInterrupt += mip_interrupt
    h.cbMipUserSolution += user_solution
    h.cbMipImprovingSolution += improving


def _configure(h: Any, seed: int, threads: int | None) -> None:
    h.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    if threads is not None:
        h.setOptionValue("threads", int(threads))


def _run(h: Any) -> None:
    """``h.run()``, again with the process's thread count when that is not the one asked for.

    HiGHS's threads live in one scheduler per process, made by its first run: a later run asking for
    another number of threads ends at once in an error, its model status "Not Set". A PuLP model solved
    with HiGHS's defaults before the planner in the same process (a notebook, a test), or this planner's
    own runs at ``--threads 2`` beside its flow model's one thread, made every such run fail: "the LP
    relaxation did not solve (Not Set)". The run is made again with ``threads`` 0, which takes the
    scheduler as it is, rather than resetting a scheduler another solve may be using."""
    import highspy

    status = h.run()
    if status != highspy.HighsStatus.kError or h.getModelStatus() != highspy.HighsModelStatus.kNotset:
        return
    asked = h.getOptionValue("threads")  # (status, value) in highspy 1.16, the value in others
    if (asked[1] if isinstance(asked, tuple) else asked) != 0:
        h.setOptionValue("threads", 0)
        h.run()


def _ranged(
    idx: list[np.ndarray], val: list[np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """A ">=" row and a "<=" row with the same terms (PuLP has no ranged rows: a band is written as
    two) become one ranged row. HiGHS's MIP search is far weaker on the split form: on 1,300 Japanese
    cities x 40 reps (bands and a disruption budget) it found no plan in 30 s with the bands as 160
    rows, and 944,897 (1.2% from the bound) with them as 80 ranged rows (QA13 1: plain PuLP + HiGHS
    had 946,026 where the planner's whole model had none). Only for a MIP: an LP's duals are per row."""
    first: dict[tuple[bytes, bytes], int] = {}
    drop = np.zeros(len(lo), dtype=bool)
    lo, hi = lo.copy(), hi.copy()
    for r in range(len(lo)):
        ge, le = np.isfinite(lo[r]) and np.isinf(hi[r]), np.isinf(lo[r]) and np.isfinite(hi[r])
        if not (ge or le):
            continue
        order = np.argsort(idx[r], kind="stable")
        key = (idx[r][order].tobytes(), val[r][order].tobytes())
        other = first.get(key)
        if other is None:
            first[key] = r
            continue
        if ge and np.isinf(lo[other]) and np.isfinite(hi[other]):
            lo[other] = lo[r]
        elif le and np.isfinite(lo[other]) and np.isinf(hi[other]):
            hi[other] = hi[r]
        else:
            continue  # two rows of one sense: both kept
        drop[r] = True
        del first[key]  # a third row with these terms pairs anew
    keep = np.flatnonzero(~drop)
    return [idx[r] for r in keep], [val[r] for r in keep], lo[keep], hi[keep]


def _to_highs_lp(
    prob: pulp.LpProblem,
    variables: list[pulp.LpVariable],
    constraints: list[pulp.LpConstraint],
    mip: bool,
) -> tuple[Any, np.ndarray]:
    """The PuLP model as one ``HighsLp`` (row-wise matrix) and the integrality flags."""
    import highspy

    n = len(variables)
    index = {id(v): k for k, v in enumerate(variables)}
    cost = np.zeros(n)
    for var, coef in prob.objective.items():
        cost[index[id(var)]] = coef
    lower = np.array([0.0 if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    upper = np.array([np.inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    lower[np.isinf(lower)] = -highspy.kHighsInf
    integer = np.array([v.cat == pulp.const.LpInteger for v in variables], dtype=bool)

    rows_lo = np.empty(len(constraints))
    rows_hi = np.empty(len(constraints))
    starts = np.zeros(len(constraints) + 1, dtype=np.int64)
    idx_chunks: list[np.ndarray] = []
    val_chunks: list[np.ndarray] = []
    leading: dict[int, bool] = {}  # id of a formulation's x list -> whether ``variables`` starts with it
    for r, con in enumerate(constraints):
        arrays = _row_arrays(con, variables, leading)
        if arrays is None:  # a row written without arrays (cuts, flow rows): term by term
            items = list(con.items())
            cols = np.fromiter((index[id(v)] for v, _ in items), dtype=np.int64, count=len(items))
            vals = np.fromiter((c for _, c in items), dtype=float, count=len(items))
        else:
            cols, vals = arrays
            if getattr(con, "tp_slack", None) is not None:
                cols = np.append(cols, index[id(con.tp_slack)])
                vals = np.append(vals, con.tp_slack_coef)
        idx_chunks.append(cols)
        val_chunks.append(vals)
        starts[r + 1] = starts[r] + len(cols)
        lb, ub = con.getLb(), con.getUb()
        rows_lo[r] = -highspy.kHighsInf if lb is None else lb
        rows_hi[r] = highspy.kHighsInf if ub is None else ub
    if mip and integer.any():
        idx_chunks, val_chunks, rows_lo, rows_hi = _ranged(idx_chunks, val_chunks, rows_lo, rows_hi)
        starts = np.concatenate([[0], np.cumsum([len(c) for c in idx_chunks])]).astype(np.int64)
    a_index = np.concatenate(idx_chunks) if idx_chunks else np.zeros(0, dtype=np.int64)
    a_value = np.concatenate(val_chunks) if val_chunks else np.zeros(0)

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows_lo)
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = np.where(np.isinf(upper), highspy.kHighsInf, upper)
    lp.row_lower_ = rows_lo
    lp.row_upper_ = rows_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = a_index
    lp.a_matrix_.value_ = a_value
    if mip and integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
        ]
    return lp, integer


def _row_arrays(
    con: Any, variables: list[pulp.LpVariable], leading: dict[int, bool]
) -> tuple[np.ndarray, np.ndarray] | None:
    """A formulation row's x terms as the arrays it was written from (``formulation.Terms``), when the
    variables passed begin with that formulation's x columns in order; None otherwise."""
    x = getattr(con, "tp_x", None)
    if x is None:
        return None
    ok = leading.get(id(x))
    if ok is None:
        ok = len(variables) >= len(x) and all(a is b for a, b in zip(variables, x, strict=False))
        leading[id(x)] = ok
    if not ok:
        return None
    return con.tp_cols, con.tp_vals


def _outcome(h: Any, n: int, is_mip: bool, begin: float, build_seconds: float) -> SolveOutcome:
    """Status, values, duals and bound of the last run, read from HiGHS's own statuses."""
    import highspy

    model_status = h.getModelStatus()
    info = h.getInfo()
    solution = h.getSolution()
    ms = highspy.HighsModelStatus
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if model_status == ms.kOptimal:
        status = SolveStatus.OPTIMAL
    elif model_status in (ms.kInfeasible,):
        status = SolveStatus.INFEASIBLE
    elif model_status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        status = SolveStatus.UNBOUNDED if model_status == ms.kUnbounded else SolveStatus.INFEASIBLE
    elif has_primal:
        status = SolveStatus.FEASIBLE
    else:
        status = SolveStatus.NO_SOLUTION
    solved = status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    values = np.asarray(solution.col_value, dtype=float) if solved else np.full(n, np.nan)
    duals = None
    if not is_mip and status == SolveStatus.OPTIMAL and solution.dual_valid:
        duals = np.asarray(solution.row_dual, dtype=float)
    objective = float(info.objective_function_value) if solved else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    else:
        bound = objective if status == SolveStatus.OPTIMAL else None
    return SolveOutcome(
        status=status,
        objective=objective,
        bound=bound,
        seconds=time.perf_counter() - begin,
        values=values,
        row_duals=duals,
        message=h.modelStatusToString(model_status),
        extra={
            "build_seconds": build_seconds,
            "mip_gap": float(info.mip_gap) if is_mip else 0.0,
            "iterations": float(info.simplex_iteration_count),
        },
    )
