"""CTDP peer benchmark: contiguous territories balanced on three measures within +-5%, centres chosen.

Instances: ``/work/shared/benchmarks/ctdp/DU150-*`` and ``DU200-*`` (format in that folder's README).
Distances are Euclidean in the plane; the objective is sum over units of the distance to the territory's
centre unit (p-median compactness). Centres come from the planner's location-allocation
(``territory_planner.optimize.centres`` with the planar metric: balanced LP with centres fixed, each
centre moved to its territory's medoid, until stable, best LP kept); then the contiguous model is solved
by the whole-model separator-cut loop (``territory_planner.optimize.contiguous``). The LP bound is the
bound of the contiguous model with those centres (cuts included).

    python benchmarks/bench_ctdp.py [--folder DIR] [--pattern 'DU150-*.dat'] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territory_planner.geo import contiguity, planning
from territory_planner.geo.adjacency import Adjacency
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import centres, contiguous
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers import get_backend

MEASURES = ("a1", "a2", "a3")


@dataclass
class Instance:
    name: str
    xy: np.ndarray  # (n, 2)
    amount: np.ndarray  # (n, 3)
    adj: Adjacency
    p: int
    tol: np.ndarray  # (3,)


def parse(path: Path) -> Instance:
    tok = path.read_text().split()
    pos = 0

    def nxt() -> str:
        nonlocal pos
        pos += 1
        return tok[pos - 1]

    n = int(nxt())
    rows = np.array([[float(nxt()) for _ in range(7)] for _ in range(n)])
    m = int(nxt())
    edges = np.array([[int(nxt()), int(nxt())] for _ in range(m)], dtype=np.int64)
    p = int(nxt())
    nxt()
    t = [float(nxt()) for _ in range(4)]
    ids = rows[:, 0].astype(np.int64)
    if not (ids == np.arange(n)).all():
        raise ValueError(f"{path}: unit ids are not 0..n-1")
    return Instance(
        path.name.replace("-edited.dat", ""),
        rows[:, 1:3],
        rows[:, 3:6],
        Adjacency.from_edges(n, edges[:, 0], edges[:, 1]),
        p,
        np.array(t[:3]),
    )


def problem_of(inst: Instance) -> TerritoryProblem:
    n = len(inst.xy)
    accounts = pd.DataFrame(
        {
            "account_id": [str(i) for i in range(n)],
            "lat": inst.xy[:, 1] / 1000.0,  # unused: costs are planar (passed to ModelSpec.build)
            "lon": inst.xy[:, 0] / 1000.0,
            "workload": 1.0,
            "potential": inst.amount[:, 0],
            "current_rep": "",
            "locked_rep": "",
            "parent_id": "",
            "segment": "",
            **{m: inst.amount[:, k] for k, m in enumerate(MEASURES)},
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"T{j}" for j in range(inst.p)],
            "name": [f"T{j}" for j in range(inst.p)],
            "region": "",
            "capacity": 1.0,
            "lat": np.nan,
            "lon": np.nan,
            "segments": "",
        }
    )
    return TerritoryProblem.from_frames(accounts, reps, MEASURES, inst.tol)


def plane(problem: TerritoryProblem, xy: np.ndarray):  # noqa: ANN201
    """Centres chosen in the plane (``optimize.centres`` with the planar metric): the model builder, the
    centre positions (y, x) and the centre unit of each territory."""
    points = (xy[:, 1], xy[:, 0])

    def build(cy: np.ndarray, cx: np.ndarray) -> ModelSpec:
        nan = np.full(problem.n_reps, np.nan)
        cost = centres.distance_cost(problem, cy, cx, points, centres.planar_distance)
        return ModelSpec.build(problem, nan, nan, cost=cost)

    return build, points


def choose_centres(  # noqa: ANN201
    problem: TerritoryProblem,
    xy: np.ndarray,
    backend,  # noqa: ANN001
    deadline: float,
    iterations: int,
    candidates: int | None = None,
):
    """Location-allocation in the plane (package code), keeping the centres with the best balanced LP
    value: (model with those centres, centre unit per territory). ``candidates``: nearest centres per
    unit the LP starts from (default all; column generation adds the rest)."""
    build, points = plane(problem, xy)
    cy, cx = centres.choose_centres(
        problem,
        np.ones(problem.n_reps, dtype=bool),
        build,
        backend,
        seed=0,
        threads=1,
        candidates=candidates or problem.n_reps,
        deadline=deadline,
        max_iterations=iterations,
        points=points,
        metric=centres.planar_distance,
    )
    spec = build(cy, cx)
    return spec, planning.home_units(spec, cy, cx, points, centres.planar_distance)


def run(inst: Instance, backend, time_limit: float) -> dict[str, object]:  # noqa: ANN001
    start = time.perf_counter()
    problem = problem_of(inst)
    spec, cen = choose_centres(problem, inst.xy, backend, start + 0.25 * time_limit, 15)
    res = contiguous.solve_contiguous(
        spec,
        inst.adj,
        backend,
        centre=cen,
        time_limit=max(time_limit - (time.perf_counter() - start), 1.0),
        gap=1e-3,
        seed=0,
        threads=1,
    )
    seconds = time.perf_counter() - start
    row: dict[str, object] = {
        "instance": inst.name,
        "n": len(inst.xy),
        "p": inst.p,
        "seconds": round(seconds, 1),
    }
    if res.unit_rep is None or res.objective is None:
        row.update(
            objective="no plan", lower_bound=round(res.lower_bound, 1), gap="", max_dev_pct="", pieces=""
        )
        return row
    plan = res.unit_rep
    loads = np.stack(
        [np.bincount(plan, weights=problem.unit_amount[:, m], minlength=inst.p) for m in range(3)]
    )
    dev = 100 * np.abs(loads - problem.target) / problem.target
    gap = (res.objective - res.lower_bound) / res.objective if np.isfinite(res.lower_bound) else float("nan")
    row.update(
        objective=round(res.objective, 1),
        lower_bound=round(res.lower_bound, 1),
        gap=f"{max(0.0, 100 * gap):.2f}%",
        max_dev_pct=round(float(dev.max()), 2),
        pieces=int(contiguity.count_pieces(inst.adj, plan, inst.p).max()),
        method=res.method,
        rounds=res.rounds,
        cuts=res.cuts,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--folder", type=Path, default=Path("/work/shared/benchmarks/ctdp"))
    ap.add_argument("--pattern", action="append", default=None, help="glob(s); default DU150-* and DU200-*")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args(argv)
    backend = get_backend("highs")
    files: list[Path] = []
    for pat in args.pattern or ["DU150-*.dat", "DU200-*.dat"]:
        files += sorted(args.folder.glob(pat), key=lambda f: (len(f.name), f.name))
    rows = []
    for f in files:
        row = run(parse(f), backend, args.time_limit)
        rows.append(row)
        print(" | ".join(str(v) for v in row.values()), file=sys.stderr, flush=True)
    cols = [
        "instance",
        "n",
        "p",
        "seconds",
        "objective",
        "lower_bound",
        "gap",
        "max_dev_pct",
        "pieces",
        "method",
        "rounds",
        "cuts",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print(f"\nreproduce: python benchmarks/bench_ctdp.py --time-limit {args.time_limit:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
