"""Planner speed, memory and quality against the plain PuLP + HiGHS MIP, side by side.

    python benchmarks/bench_planner.py                       # 2,000x20, 10,000x50, 50,000x200
    python benchmarks/bench_planner.py --sizes 2000x20 --baseline-limit 120

For every size: a seeded clustered instance (benchmarks/generate.py), two balance measures at +-5%.
"ours" is `territory_planner.api.solve` with --gap set to the size's target; "baseline" hands the whole
n x p MIP to PuLP's own HiGHS class with the same gap and a time limit. Each run is a separate process so
peak memory (max RSS) is per run. Prints a Markdown table; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_GAP = {2000: 0.005, 10000: 0.01, 50000: 0.02}


def run_child(args: list[str]) -> tuple[dict, float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    peak_mb = usage.ru_maxrss / 1024
    try:
        data = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except json.JSONDecodeError:
        data = {"error": out[-300:]}
    if os.waitstatus_to_exitcode(status) != 0 and "error" not in data:
        data["error"] = f"exit {os.waitstatus_to_exitcode(status)}"
    return data, wall, peak_mb


def ours(folder: Path, gap: float, time_limit: float) -> dict:
    from territory_planner import api
    from territory_planner.options import build_options

    opts = build_options(
        {
            "accounts": folder / "accounts.csv",
            "reps": folder / "reps.csv",
            "gap": gap,
            "time_limit": time_limit,
            "seed": 1,
        }
    )
    start = time.perf_counter()
    out = api.solve(opts)
    s = out.summary
    return {
        "seconds": time.perf_counter() - start,
        "status": s["status"],
        "objective": s["objective"],
        "bound": s["lower_bound"],
        "gap": s["gap"],
        "dev": max(s["max_abs_dev_pct"].values()),
        "stages": s["stages_seconds"],
    }


def baseline(folder: Path, gap: float, time_limit: float) -> dict:
    """The whole model handed to PuLP + HiGHS, as a user would write it without this package."""
    import pandas as pd
    import pulp

    from territory_planner.model.geo import haversine_km

    start = time.perf_counter()
    acc, reps = pd.read_csv(folder / "accounts.csv"), pd.read_csv(folder / "reps.csv")
    n, p = len(acc), len(reps)
    cost = (
        haversine_km(
            acc["lat"].to_numpy(), acc["lon"].to_numpy(), reps["lat"].to_numpy(), reps["lon"].to_numpy()
        )
        * acc["workload"].to_numpy()[:, None]
    )
    cap = reps["capacity"].to_numpy() / reps["capacity"].sum()
    prob = pulp.LpProblem("baseline", pulp.LpMinimize)
    x = {(i, j): prob.add_variable(f"x_{i}_{j}", 0, 1, pulp.LpBinary) for i in range(n) for j in range(p)}
    prob.setObjective(
        pulp.LpAffineExpression([(x[i, j], float(cost[i, j])) for i in range(n) for j in range(p)])
    )
    for i in range(n):
        prob.addConstraint(pulp.LpAffineExpression([(x[i, j], 1.0) for j in range(p)]) == 1, f"assign_{i}")
    for m in ("potential", "workload"):
        a = acc[m].to_numpy(float)
        for j in range(p):
            expr = pulp.LpAffineExpression([(x[i, j], float(a[i])) for i in range(n)])
            t = a.sum() * cap[j]
            prob.addConstraint(expr >= 0.95 * t, f"lo_{m}_{j}")
            prob.addConstraint(expr <= 1.05 * t, f"hi_{m}_{j}")
    build = time.perf_counter() - start
    solver = pulp.HiGHS(msg=False, timeLimit=max(time_limit - build, 1.0), gapRel=gap, threads=1)
    prob.solve(solver)
    seconds = time.perf_counter() - start
    ok = prob.sol_status in (pulp.const.LpSolutionOptimal, pulp.const.LpSolutionIntegerFeasible)
    objective = float(pulp.value(prob.objective)) if ok else None
    return {
        "seconds": seconds,
        "build": build,
        "status": pulp.LpSolution[prob.sol_status],
        "objective": objective,
    }


def fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="2000x20,10000x50,50000x200")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--baseline-limit", type=float, default=120.0)
    parser.add_argument(
        "--no-baseline-above",
        type=int,
        default=20000,
        help="skip the baseline above this many accounts (n x p binaries do not fit in memory)",
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("KIND", "FOLDER", "GAP", "LIMIT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        kind, folder, gap, limit = args.child
        fn = ours if kind == "ours" else baseline
        try:
            print(json.dumps(fn(Path(folder), float(gap), float(limit))))
        except Exception as exc:  # noqa: BLE001 - reported in the table
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:200]}))
        return

    sys.path.insert(0, str(HERE))
    from generate import write

    rows = []
    for size in args.sizes.split(","):
        n, p = (int(v) for v in size.split("x"))
        folder = HERE / "data" / f"{n // 1000}k_{p}"
        write(n, p, 1, folder)
        gap = TARGET_GAP.get(n, 0.01)
        mine, wall, peak = run_child(["--child", "ours", str(folder), str(gap), str(args.time_limit)])
        row = {
            "size": f"{n:,} x {p}",
            "target_gap": gap,
            "ours": mine,
            "ours_wall": wall,
            "ours_peak_mb": peak,
        }
        if n <= args.no_baseline_above:
            base, bwall, bpeak = run_child(
                ["--child", "baseline", str(folder), str(gap), str(args.baseline_limit)]
            )
            row.update(baseline=base, base_wall=bwall, base_peak_mb=bpeak)
        rows.append(row)
        print(f"done {size}: {json.dumps(row)}", file=sys.stderr, flush=True)

    print(
        "| accounts x reps | target gap | ours: time | ours: peak RSS | ours: status | objective | LP bound "
        "| proven gap | max dev | baseline (PuLP+HiGHS, whole MIP): time | baseline status "
        "| baseline objective "
        "| baseline gap vs our bound | baseline peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o = r["ours"]
        b = r.get("baseline")
        if "error" in o:
            ours_cells = (
                f"{r['ours_wall']:.1f} s | {r['ours_peak_mb']:,.0f} MB | failed: {o['error']} | | | | "
            )
        else:
            ours_cells = (
                f"{o['seconds']:.1f} s | {r['ours_peak_mb']:,.0f} MB | {o['status']} | "
                f"{o['objective']:,.0f} | {o['bound']:,.0f} | {100 * o['gap']:.3f}% | {o['dev']:.2f}% "
            )
        if b is None:
            base_cells = f"not run (above --no-baseline-above {args.no_baseline_above:,} accounts) | | | | "
        elif "error" in b:
            base_cells = f"{r['base_wall']:.1f} s | failed: {b['error']} | | | {r['base_peak_mb']:,.0f} MB"
        else:
            bgap = None
            if b.get("objective") and "bound" in o:
                bgap = 100 * (b["objective"] - o["bound"]) / b["objective"]
            base_cells = (
                f"{b['seconds']:.1f} s | {b['status']} | {fmt(b.get('objective'), ',.0f')} | "
                f"{fmt(bgap, '.3f')}{'%' if bgap is not None else ''} | {r['base_peak_mb']:,.0f} MB"
            )
        print(f"| {r['size']} | {100 * r['target_gap']:.1f}% | {ours_cells}| {base_cells} |")


if __name__ == "__main__":
    main()
