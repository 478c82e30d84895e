"""Contiguity at county scale: p territories, two lognormal measures balanced within +-10%, centres by
location-allocation in the plane (``optimize.centres``), a balanced plan from the pipeline, then
contiguity as ``plan --contiguous`` does it: the whole-model cut loop when the model is small, else the
neighbourhood search (``optimize.contiguous``).

Map: a W x H grid of square cells (rook adjacency), or with ``--counties`` the 3,142 US county polygons
of the npm package us-atlas 3.0.1 (``counties-albers-10m.json``, planar Albers coordinates; fetched once
with ``npm pack`` into ``~/.cache/territory-planner``, never committed), queen adjacency built by
``territory_planner.geo.adjacency`` and islands (Hawaii, Alaska, coastal islands) bridged to their nearest
county. County measures are synthetic (us-atlas ships shapes, not data).

    python benchmarks/bench_contiguity_scale.py [--width 64] [--height 50] [--reps 50] [--time-limit 300]
    python benchmarks/bench_contiguity_scale.py --counties --reps 50 --time-limit 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_ctdp import choose_centres

from territory_planner.geo import contiguity, contiguity_stage
from territory_planner.geo.adjacency import Adjacency
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import contiguous, pipeline, repair
from territory_planner.solvers import get_backend


def grid(width: int, height: int) -> tuple[np.ndarray, Adjacency]:
    xy = np.array([(c, r) for r in range(height) for c in range(width)], dtype=float)
    idx = np.arange(width * height).reshape(height, width)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return xy, Adjacency.from_edges(width * height, u, v)


US_ATLAS = "us-atlas@3.0.1"


def fetch_counties() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "territory-planner" / "us-atlas"
    target = cache / "counties-albers-10m.json"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", US_ATLAS], cwd=cache, check=True, capture_output=True, text=True)
        with tarfile.open(cache / out.stdout.strip().splitlines()[-1]) as tar:
            member = tar.getmember("package/counties-albers-10m.json")
            member.name = target.name
            tar.extract(member, cache, filter="data")
    return target


def decode_topojson(path: Path, name: str = "counties") -> tuple[list[str], list]:
    """Polygons of one TopoJSON object (quantized, delta-encoded arcs)."""
    import shapely

    topo = json.loads(path.read_text(encoding="utf-8"))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([a[:, 0] * sx + tx, a[:, 1] * sy + ty]))

    def ring(idx: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in idx]
        return np.concatenate([parts[0]] + [q[1:] for q in parts[1:]])

    ids, geoms = [], []
    for g in topo["objects"][name]["geometries"]:
        polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        shapes = []
        for p in polys:
            shell = ring(p[0])
            if len(shell) < 4:  # a degenerate sliver after quantization
                continue
            shapes.append(shapely.Polygon(shell, [h for h in (ring(q) for q in p[1:]) if len(h) >= 4]))
        if not shapes:
            shapes = [shapely.Point(ring(polys[0][0])[0]).buffer(1e-3)]
        ids.append(str(g["id"]))
        geoms.append(shapes[0] if len(shapes) == 1 else shapely.MultiPolygon(shapes))
    return ids, geoms


def counties() -> tuple[np.ndarray, Adjacency, int]:
    """Representative points (planar), bridged queen adjacency, and the number of bridges added."""
    import shapely

    from territory_planner.geo import adjacency as adjmod

    _, geoms = decode_topojson(fetch_counties())
    geoms = [shapely.make_valid(g) for g in geoms]
    adj = adjmod.from_geometries(geoms, tolerance=0.01)
    pts = np.array([[q.x, q.y] for q in (g.representative_point() for g in geoms)])
    bridged = adjmod.bridge_islands(adj, pts[:, 1], pts[:, 0])  # lat, lon
    return pts, bridged, len(bridged.bridged)


def make_problem(n: int, p: int, tol: float, seed: int) -> TerritoryProblem:
    rng = np.random.default_rng(seed)
    accounts = pd.DataFrame(
        {
            "account_id": [str(i) for i in range(n)],
            "lat": 0.0,
            "lon": 0.0,
            "workload": rng.lognormal(0.0, 0.5, n),
            "potential": rng.lognormal(0.0, 0.8, n),
            "current_rep": "",
            "locked_rep": "",
            "parent_id": "",
            "segment": "",
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"T{j}" for j in range(p)],
            "name": "",
            "region": "",
            "capacity": 1.0,
            "lat": np.nan,
            "lon": np.nan,
            "segments": "",
        }
    )
    return TerritoryProblem.from_frames(accounts, reps, ("potential", "workload"), np.array([tol, tol]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=50)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--counties", action="store_true", help="US counties (us-atlas) instead of a grid")
    args = ap.parse_args()
    bridges = 0
    if args.counties:
        t0 = time.perf_counter()
        xy, adj, bridges = counties()
        print(
            f"counties: {len(xy)} units, {len(adj.u)} edges, {bridges} island bridges, "
            f"{time.perf_counter() - t0:.1f}s"
        )
    else:
        xy, adj = grid(args.width, args.height)
    start = time.perf_counter()
    backend = get_backend("highs")
    n, p = len(xy), args.reps
    problem = make_problem(n, p, args.tolerance, args.seed)
    spec, centre = choose_centres(problem, xy, backend, start + 0.2 * args.time_limit, 8, candidates=8)
    t_centres = time.perf_counter() - start
    remaining = args.time_limit - t_centres
    plan0, result = pipeline.solve(
        spec,
        backend,
        time_limit=0.3 * remaining,
        gap=0.005,
        seed=0,
        threads=1,
        candidates=8,
        relax=False,
    )
    t_pipeline = time.perf_counter() - start
    pieces0 = contiguity.count_pieces(adj, plan0, p)
    res_c = contiguous.solve_contiguous(
        spec,
        adj,
        backend,
        centre=centre,
        time_limit=args.time_limit - (time.perf_counter() - start),
        gap=0.005,
        seed=0,
        threads=1,
        start_plan=plan0,
        bound=result.lower_bound,
        exact=n * p <= contiguity_stage.MAX_CUT_COLUMNS,  # as ``plan --contiguous`` decides
        progress=lambda m: print(f"{time.perf_counter() - start:6.1f}s {m}", file=sys.stderr, flush=True),
    )
    seconds = time.perf_counter() - start
    plan = res_c.unit_rep if res_c.unit_rep is not None else plan0
    obj = float(spec.objective[np.arange(n), plan].sum())
    loads = np.stack([np.bincount(plan, weights=problem.unit_amount[:, m], minlength=p) for m in range(2)])
    dev = 100 * np.abs(loads - problem.target) / problem.target
    pieces = contiguity.count_pieces(adj, plan, p)
    print(
        f"centres {t_centres:.0f}s, balanced plan {t_pipeline - t_centres:.0f}s, "
        f"contiguity {res_c.seconds:.0f}s",
        file=sys.stderr,
    )
    cols_out = [
        "units", "territories", "tolerance", "seconds", "objective", "lower bound", "gap", "max dev %",
        "split territories (before -> after)", "model check", "method", "MIP solves", "cuts",
        "neighbourhoods",
    ]  # fmt: skip
    gap = 100 * (obj - res_c.lower_bound) / obj
    values = [
        n,
        p,
        f"+-{100 * args.tolerance:g}%",
        f"{seconds:.0f}",
        f"{obj:,.0f}",
        f"{res_c.lower_bound:,.0f}",
        f"{gap:.2f}%",
        f"{dev.max():.3f}",
        f"{int((pieces0 > 1).sum())} -> {int((pieces > 1).sum())}",
        "pass" if repair.feasible(spec, plan) else "FAIL",  # every constraint of the full model
        res_c.method if res_c.unit_rep is not None else "none",
        res_c.rounds,
        res_c.cuts,
        res_c.neighbourhoods,
    ]
    print("| " + " | ".join(cols_out) + " |")
    print("|" + "---|" * len(cols_out))
    print("| " + " | ".join(str(v) for v in values) + " |")
    cmd = "python benchmarks/bench_contiguity_scale.py"
    size = "--counties" if args.counties else f"--width {args.width} --height {args.height}"
    size += f" --reps {p}"
    print(f"\nreproduce: {cmd} {size} --time-limit {args.time_limit:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
