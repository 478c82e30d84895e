"""The HiGHS back-end reads a formulation's rows from the arrays they were written from
(``formulation.Terms``) instead of walking each PuLP expression: the same matrix, row bounds and costs as
the term-by-term path, on models with every family of rows (bands, district and region bands, counts,
the disruption budget in its MIP and LP forms, elastic slacks, separator cuts and extra rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pulp
import pytest

from territory_planner import api
from territory_planner.optimize import formulation
from territory_planner.solvers.highs import _to_highs_lp
from tests.conftest import options_for, random_accounts, write_instance


def _spec(tmp_path: Path):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    accounts = random_accounts(rng, 40, current_reps=4)
    reps = [
        {"rep_id": f"R{j}", "lat": 35.0 + j, "lon": -95.0 + 2 * j, "district": f"D{j // 2}", "region": "X"}
        for j in range(4)
    ]
    a, r = write_instance(tmp_path, accounts, reps)
    opts = options_for(
        a, r, tolerance=0.3, max_moved_share=0.6, district_tolerance=0.2, max_accounts=20, min_accounts=2
    )
    _, problem = api.load(opts)
    return api.build_spec(problem, opts, problem.home_lat, problem.home_lon)


def _matrix(form: formulation.Formulation, integer: bool) -> tuple:  # type: ignore[type-arg]
    lp, _ = _to_highs_lp(form.prob, form.variables, form.constraints, integer)
    a = lp.a_matrix_
    start, index, value = np.asarray(a.start_), np.asarray(a.index_), np.asarray(a.value_)
    rows = []
    for r in range(lp.num_row_):
        s, e = start[r], start[r + 1]
        order = np.argsort(index[s:e])
        rows.append((tuple(index[s:e][order]), tuple(np.round(value[s:e][order], 12))))
    return (
        rows,
        tuple(np.asarray(lp.row_lower_)),
        tuple(np.asarray(lp.row_upper_)),
        tuple(np.asarray(lp.col_cost_)),
    )


def _without_arrays(form: formulation.Formulation) -> None:
    for con in form.constraints:
        con.tp_x = None


@pytest.mark.parametrize(("integer", "elastic"), [(True, False), (False, False), (False, True)])
def test_rows_read_from_arrays_equal_the_pulp_rows(tmp_path: Path, integer: bool, elastic: bool) -> None:
    spec = _spec(tmp_path)
    unit, rep = np.nonzero(spec.allowed)
    price = None
    if elastic:
        k = len(spec.problem.measures)
        price = {"balance": np.full(k, 7.0), "count": np.array([3.0]), "budget": np.array([5.0])}
    cuts = [formulation.Cut(rep=1, unit=0, neighbours=(1, 2))]  # written term by term
    form = formulation.build(spec, unit, rep, integer=integer, elastic=elastic, slack_price=price, cuts=cuts)
    # an extra variable and row after the model's own, as ``extend`` callers add them
    extra = form.prob.add_variable("extra", 0, 1, pulp.const.LpContinuous)
    expr = pulp.LpAffineExpression([(form.variables[0], 1.0), (extra, -1.0)])
    con = pulp.LpConstraint(expr, sense=-1, rhs=0.0)
    form.prob.addConstraint(con, name="extra_row")
    form.variables.append(extra)
    form.constraints.append(con)
    assert sum(getattr(c, "tp_x", None) is not None for c in form.constraints) > len(form.constraints) // 2
    fast = _matrix(form, integer)
    _without_arrays(form)
    assert fast == _matrix(form, integer)


def test_variables_in_another_order_fall_back_to_the_terms(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    unit, rep = np.nonzero(spec.allowed)
    form = formulation.build(spec, unit, rep, integer=False)
    reordered = formulation.Formulation(
        **{**form.__dict__, "variables": list(reversed(form.variables))}  # type: ignore[arg-type]
    )
    fast = _matrix(reordered, False)
    _without_arrays(reordered)
    assert fast == _matrix(reordered, False)
