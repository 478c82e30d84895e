"""``--design-districts N``: group the reps into N districts around seat reps.

Given a territory plan, the grouping is a capacitated p-median over reps (PuLP, any back-end):

    y[j, s] = 1 when rep j joins the district seated at rep s;  z[s] = 1 when s is a seat
    sum_s y[j, s] = 1,  y[j, s] <= z[s],  sum_s z[s] = N
    capacity of a district within 1 of the mean capacity C / N (rep counts, by capacity)
    (1 - T) sum_j target[j] y[j, s] <= sum_j load[j] y[j, s] <= (1 + T) sum_j target[j] y[j, s]
    minimise  sum_js travel[j, s] y[j, s]   (the workload-weighted km of j's accounts to s's home)

so each district is compact around its seat (the rep that minimises the district's travel) and its
potential lies within the band the final territory model enforces. ``api`` alternates: territories
without district rows, this grouping, territories again with the district rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from territory_planner.solvers.base import Backend, SolveStatus


@dataclass(frozen=True)
class Grouping:
    district: np.ndarray  # (p,) district index of each rep
    seats: np.ndarray  # (N,) the seat rep of each district
    travel: float
    status: SolveStatus


def group_reps(
    travel: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    target: np.ndarray,
    tolerance: np.ndarray,
    n: int,
    backend: Backend,
    *,
    time_limit: float,
    seed: int,
    threads: int | None,
) -> Grouping | None:
    """``travel`` (p, p) cost of rep j in seat s's district; ``load``/``target`` (M, p) per rep;
    ``tolerance`` (M,) (inf: no band). None when no grouping exists or none was found in time."""
    p = len(capacity)
    prob = pulp.LpProblem("districts", pulp.LpMinimize)
    y = [[prob.add_variable(f"y_{j}_{s}", 0, 1, pulp.const.LpBinary) for s in range(p)] for j in range(p)]
    z = [prob.add_variable(f"seat_{s}", 0, 1, pulp.const.LpBinary) for s in range(p)]
    rows: list[pulp.LpConstraint] = []

    def add(expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str) -> None:
        con = pulp.LpConstraint(expr, sense=sense, rhs=rhs, name=name)
        prob.addConstraint(con, name=name)
        rows.append(con)

    le, ge, eq = pulp.const.LpConstraintLE, pulp.const.LpConstraintGE, pulp.const.LpConstraintEQ
    mean = float(capacity.sum()) / n
    for j in range(p):
        add(pulp.LpAffineExpression([(y[j][s], 1.0) for s in range(p)]), eq, 1.0, f"one_district_{j}")
        for s in range(p):
            add(pulp.LpAffineExpression([(y[j][s], 1.0), (z[s], -1.0)]), le, 0.0, f"open_{j}_{s}")
    add(pulp.LpAffineExpression([(v, 1.0) for v in z]), eq, float(n), "districts")
    for s in range(p):
        cap = [(y[j][s], float(capacity[j])) for j in range(p)]
        add(pulp.LpAffineExpression([*cap, (z[s], -(mean + 1.0))]), le, 0.0, f"reps_max_{s}")
        add(pulp.LpAffineExpression([*cap, (z[s], -max(mean - 1.0, 0.0))]), ge, 0.0, f"reps_min_{s}")
        for m in range(load.shape[0]):
            if not np.isfinite(tolerance[m]):
                continue
            lo = [(y[j][s], float(load[m, j] - (1 - tolerance[m]) * target[m, j])) for j in range(p)]
            hi = [(y[j][s], float(load[m, j] - (1 + tolerance[m]) * target[m, j])) for j in range(p)]
            add(pulp.LpAffineExpression(lo), ge, 0.0, f"band_min_{m}_{s}")
            add(pulp.LpAffineExpression(hi), le, 0.0, f"band_max_{m}_{s}")
    prob.setObjective(
        pulp.LpAffineExpression([(y[j][s], float(travel[j, s])) for j in range(p) for s in range(p)])
    )
    variables = [v for row in y for v in row] + z
    out = backend.solve(
        prob, variables, rows, mip=True, time_limit=max(time_limit, 1.0), gap=1e-4, seed=seed, threads=threads
    )
    if not out.has_solution:
        return None
    x = out.values[: p * p].reshape(p, p) > 0.5
    seat_of = x.argmax(axis=1)
    seats = np.unique(seat_of)
    district = np.searchsorted(seats, seat_of)
    return Grouping(district, seats, float(travel[np.arange(p), seat_of].sum()), out.status)


def rep_travel(unit_cost_to_reps: np.ndarray, unit_rep: np.ndarray, p: int) -> np.ndarray:
    """(p, p): sum over rep j's units of the unit's cost to rep s's home (workload x km)."""
    out = np.zeros((p, p))
    np.add.at(out, unit_rep, unit_cost_to_reps)
    return out
