"""The real-data corpus (benchmarks/corpus.py): our planner vs plain PuLP + HiGHS vs an independent LP bound.

    python benchmarks/bench_real.py --size small,medium --time-limit 60 --json real.jsonl
    python benchmarks/bench_real.py --cases 'ga-*,us-cities-*' [--jobs 1] [--no-reach]

For every case, each in its own subprocess (peak RSS per run):

* ours: ``territory_planner.api.solve`` on the case folder with the case's tolerance and disruption budget
  and ``--time-limit``: wall time, status, objective, lower bound, gap, ``summary["method"]`` and the stage
  timings (which path made the plan), or the exception, its conflict families and the CLI exit code;
* baseline: the whole model (every account x every rep, both balance bands, locks, families as equalities,
  the disruption budget row, objective sum workload x great-circle km) in plain PuLP (``add_variable``,
  ``LpAffineExpression``) solved by ``pulp.HiGHS(timeLimit=limit - build time, msg=False, threads=1)``;
  status from ``prob.sol_status``, HiGHS's own dual bound and gap from its ``getInfo()``;
* LP: the LP relaxation of the whole model by column generation with exact pricing (corpus.solve_lp:
  numpy + highspy, no territory_planner code), computed when the case is built and stored in case.json.

Every plan (ours and the baseline's) is checked independently (corpus.check_plan: bands, locks, families,
budget, and the objective re-evaluated with the planner's haversine). Verdict flags: ``WORSE THAN
BASELINE``, ``NO PLAN WHERE BASELINE HAS ONE``, ``UNPROVEN INFEASIBLE`` (ours says infeasible, nothing
here proves it), ``FALSE INFEASIBLE`` (ours says infeasible, a valid plan exists), ``EXIT 3 ON
INFEASIBLE CASE`` (infeasibility provable, ours gave up), ``PLAN VIOLATES MODEL``, ``OBJECTIVE
MISMATCH`` (summary objective != re-evaluated), ``OBJECTIVE BELOW LP`` / ``BOUND ABOVE PLAN``
(impossible numbers), ``OVER TIME LIMIT`` (api.solve took more than 1.05 x limit + 2 s),
``BUDGET NOT NAMED`` (the LP proves the budget below the least moved share and
the error does not name the disruption budget), ``CRASH``; and, lowercase, ``no plan (a witness
exists)`` (exit 3 while the baseline found nothing either, on a case known to be feasible).
"reach": the time ours needs to reach the baseline's final (self-reported) gap: the first entry of our
run's ``history`` (summary.json: each better plan or bound, with its time) whose gap is as small; if the
run never got there and ended first, a re-run with ``gap`` = the baseline's gap. A baseline proven optimal
(HiGHS stops at a gap below 1e-4, e.g. 9.6e-5) is reached when ours is proven optimal too (gap <= 1e-4).
The last line is the median speed-up, the baseline's time over that reach time (the baseline's time is its
whole run: HiGHS may have found its last plan earlier, so this flatters us where HiGHS stalls; it is the
time a user waits).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402

REL = 1e-6
RESULT_ENV = "BENCH_REAL_RESULT"  # the file a child writes its result line to


# ---------------------------------------------------------------------------------------------- children


def account_rep_index(acc: Any, reps: Any, account_ids: Any, rep_ids: Any) -> np.ndarray:
    rep_index = {r: j for j, r in enumerate(reps["rep_id"].astype(str))}
    got = dict(zip(map(str, account_ids), map(str, rep_ids), strict=True))
    return np.array([rep_index.get(got.get(a, ""), -1) for a in acc["account_id"].astype(str)])


def child_ours(folder: Path, limit: float, gap: float | None) -> dict[str, Any]:
    # the libraries are imported before the clock starts, as the baseline imports PuLP before its clock:
    # the modules the planner loads on first use too (pandera, which imports geopandas when it validates,
    # HiGHS, and what the outputs need: api._preload_outputs), 0.5-0.8 s of a cold process, not solving
    import geopandas  # noqa: F401
    import highspy  # noqa: F401
    import pandera.pandas  # noqa: F401
    import pulp  # noqa: F401

    from territory_planner import api
    from territory_planner.errors import TerritoryPlannerError
    from territory_planner.options import build_options

    acc, reps, meta = corpus.load_case(folder)
    values: dict[str, Any] = {
        "accounts": folder / "accounts.csv",
        "reps": folder / "reps.csv",
        "tolerance": meta["tolerance"],
        "max_moved_share": meta.get("max_moved_share"),
        "time_limit": limit,
        "seed": 0,
    }
    if gap is not None:
        values["gap"] = gap
    with contextlib.suppress(TerritoryPlannerError):  # reported by the solve below, with its time
        api._preload_outputs(build_options(values))
    start = time.perf_counter()
    try:
        out = api.solve(build_options(values))
    except TerritoryPlannerError as exc:
        return {
            "seconds": time.perf_counter() - start,
            "outcome": "error",
            "error": type(exc).__name__,
            "message": str(exc)[:600],
            "exit_code": exc.exit_code,
            "conflicts": [
                {"family": c.family, "message": str(c.message)[:300]} for c in getattr(exc, "conflicts", [])
            ],
        }
    except Exception as exc:  # noqa: BLE001 - a crash is a result here
        return {
            "seconds": time.perf_counter() - start,
            "outcome": "crash",
            "error": type(exc).__name__,
            "message": str(exc)[:600],
            "exit_code": None,
            "traceback": traceback.format_exc()[-1500:],
        }
    seconds = time.perf_counter() - start
    s = out.summary
    r = account_rep_index(acc, reps, out.assignments["account_id"], out.assignments["rep_id"])
    return {
        "seconds": seconds,
        "outcome": "plan",
        "status": s.get("status"),
        "objective": s.get("objective"),
        "lower_bound": s.get("lower_bound"),
        "gap": s.get("gap"),
        "method": s.get("method"),
        "stages_seconds": s.get("stages_seconds"),
        "solve_seconds": s.get("solve_seconds"),
        "moved_share": s.get("moved_potential_share"),
        "history": s.get("history"),
        "check": corpus.check_plan(acc, reps, r, meta["tolerance"], meta.get("max_moved_share")),
    }


def child_baseline(folder: Path, limit: float) -> dict[str, Any]:
    """The whole model in plain PuLP, as a user would write it without this package."""
    import pulp

    start = time.perf_counter()
    acc, reps, meta = corpus.load_case(folder)
    n, p = len(acc), len(reps)
    cost = acc["workload"].to_numpy(float)[:, None] * corpus.haversine_km(
        acc["lat"], acc["lon"], reps["lat"], reps["lon"]
    )
    cap = reps["capacity"].to_numpy(float)
    tol = corpus.tolerances(meta["tolerance"])
    rep_of = {r: j for j, r in enumerate(reps["rep_id"])}
    prob = pulp.LpProblem("territories", pulp.LpMinimize)
    x = [[prob.add_variable(f"x_{i}_{j}", 0, 1, pulp.LpBinary) for j in range(p)] for i in range(n)]
    prob.setObjective(pulp.LpAffineExpression([(x[i][j], cost[i, j]) for i in range(n) for j in range(p)]))
    for i in range(n):
        prob.addConstraint(pulp.LpAffineExpression([(x[i][j], 1) for j in range(p)]) == 1, f"assign_{i}")
    for m, name in enumerate(corpus.MEASURES):
        a = acc[name].to_numpy(float)
        for j in range(p):
            load = pulp.LpAffineExpression([(x[i][j], a[i]) for i in range(n) if a[i] != 0])
            target = a.sum() * cap[j] / cap.sum()
            prob.addConstraint(load >= (1 - tol[m]) * target, f"min_{name}_{j}")
            prob.addConstraint(load <= (1 + tol[m]) * target, f"max_{name}_{j}")
    for i, r in enumerate(acc["locked_rep"]):
        if r:
            prob.addConstraint(pulp.LpAffineExpression([(x[i][rep_of[r]], 1)]) == 1, f"lock_{i}")
    for _, members in acc[acc["parent_id"] != ""].groupby("parent_id").groups.items():
        first, *rest = list(members)
        for k in rest:
            for j in range(p):
                prob.addConstraint(
                    pulp.LpAffineExpression([(x[k][j], 1), (x[first][j], -1)]) == 0, f"fam_{k}_{j}"
                )
    share = meta.get("max_moved_share")
    if share is not None:
        pot = acc["potential"].to_numpy(float)
        cur = [(i, rep_of[r]) for i, r in enumerate(acc["current_rep"]) if r]
        stay = pulp.LpAffineExpression([(x[i][j], pot[i]) for i, j in cur])
        prob.addConstraint(stay >= sum(pot[i] for i, _ in cur) - share * pot.sum(), "disruption_budget")
    build = time.perf_counter() - start
    prob.solve(pulp.HiGHS(timeLimit=max(limit - build, 1.0), msg=False, threads=1))
    seconds = time.perf_counter() - start
    h = prob.solverModel
    info = h.getInfo()
    out: dict[str, Any] = {
        "seconds": seconds,
        "build_seconds": build,
        "sol_status": pulp.LpSolution[prob.sol_status],
        "highs_status": h.modelStatusToString(h.getModelStatus()),
        "dual_bound": float(info.mip_dual_bound),
        "highs_gap": float(info.mip_gap),
    }
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        val = np.array([[x[i][j].varValue or 0.0 for j in range(p)] for i in range(n)])
        r = val.argmax(axis=1)
        out["objective"] = float(pulp.value(prob.objective))
        out["check"] = corpus.check_plan(acc, reps, r, meta["tolerance"], share)
    return out


def child_lp(folder: Path, limit: float) -> dict[str, Any]:
    """The independent LP bound (cached in case.json by corpus.build_case; recomputed if missing)."""
    acc, reps, meta = corpus.load_case(folder)
    model = corpus.full_model(acc, reps, meta["tolerance"], meta.get("max_moved_share"))
    out: dict[str, Any] = {"unit_too_big": corpus.unit_too_big(model)}
    if meta.get("lp_status") in ("optimal", "infeasible"):
        out.update(status=meta["lp_status"], value=meta.get("lp_value"), cached=True, seconds=0.0)
        return out
    res = corpus.solve_lp(model, "travel", time_limit=max(limit, 600.0))
    out.update(status=res.status, value=res.value, bound=res.bound, seconds=res.seconds, rounds=res.rounds)
    return out


def run_child(args: list[str], timeout: float) -> tuple[dict[str, Any], float, float]:
    start = time.perf_counter()
    # faulthandler: a child killed by a signal leaves its Python and thread stacks in stderr, which the
    # crash verdict quotes. The result comes back in a file, not on stdout: twice a child ended with exit 0
    # and no result line on stdout (superstore-10-t10, a fuzz case), which C libraries share with it.
    with tempfile.TemporaryDirectory(prefix="bench_real_") as tmp:
        result_file = Path(tmp) / "result.json"
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", __file__, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, RESULT_ENV: str(result_file)},
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return (
                {"outcome": "killed", "error": f"killed after {timeout:.0f}s"},
                time.perf_counter() - start,
                0.0,
            )
        wall = time.perf_counter() - start
        text = result_file.read_text(encoding="utf-8") if result_file.exists() else ""
    try:
        data = (
            json.loads(text)
            if text
            else {
                "outcome": "crash",
                "error": f"exit {proc.returncode} (negative: killed by that signal), "
                f"no result; stdout: {out.strip()[-300:]!r}; stderr: {err.strip()[-500:]!r}",
            }
        )
    except json.JSONDecodeError:
        data = {"outcome": "crash", "error": f"unreadable result: {text[-300:]!r}"}
    if proc.returncode != 0 and "error" not in data:
        data.update(outcome="crash", error=f"exit {proc.returncode}: {err.strip()[-400:]}")
    return data, wall, float(data.get("peak_rss_mb", 0.0))


# ---------------------------------------------------------------------------------------------- verdicts


def has_plan(d: dict[str, Any] | None) -> bool:
    return bool(d) and d.get("check", {}).get("ok", False)


def verdict(row: dict[str, Any]) -> list[str]:
    o, b, lp, meta = row["ours"], row.get("baseline"), row["lp"], row["meta"]
    flags: list[str] = []
    expect = str(meta.get("expect", "unknown"))
    proven_infeasible = expect.startswith("infeasible") or lp.get("status") == "infeasible"
    if b and b.get("highs_status") == "Infeasible":
        proven_infeasible = True
    base_plan = has_plan(b)
    if b and "objective" in b and not base_plan:
        flags.append("baseline plan violates model")
    limit = float(row.get("time_limit") or 0)
    if limit and o.get("seconds", 0) > 1.05 * limit + 2:
        flags.append("OVER TIME LIMIT")  # SPEC: the limit is kept within 5% + 2 s
    if o.get("outcome") == "plan":
        chk = o.get("check", {})
        obj = o.get("objective")
        if not chk.get("ok"):
            flags.append("PLAN VIOLATES MODEL")
        if obj is None:
            flags.append("NO OBJECTIVE")
            return flags
        if chk.get("objective") is not None and abs(obj - chk["objective"]) > REL * max(1.0, abs(obj)):
            flags.append("OBJECTIVE MISMATCH")
        lb = o.get("lower_bound")
        if lb is not None and lb > obj + REL * max(1.0, abs(obj)):
            flags.append("BOUND ABOVE PLAN")
        if lp.get("status") == "optimal" and obj < lp["value"] - REL * max(1.0, abs(lp["value"])):
            flags.append("OBJECTIVE BELOW LP")
        if base_plan:
            if obj > b["objective"] + REL * max(1.0, abs(b["objective"])):
                flags.append("WORSE THAN BASELINE")
            if lb is not None and lb > b["objective"] + REL * max(1.0, abs(b["objective"])):
                flags.append("BOUND ABOVE PLAN")
        if proven_infeasible and chk.get("ok"):
            flags.append("PLAN IN PROVEN-INFEASIBLE CASE")
    elif o.get("outcome") == "error" and o.get("error") == "InfeasibleError":
        if base_plan or expect == "feasible":
            flags.append("FALSE INFEASIBLE")
        elif not proven_infeasible:
            flags.append("UNPROVEN INFEASIBLE")
        budget, least = meta.get("max_moved_share"), meta.get("least_moved_share_lp")
        if budget is not None and least is not None and budget < least and lp.get("status") == "infeasible":
            named = " ".join([o.get("message", "")] + [c["family"] for c in o.get("conflicts", [])]).lower()
            if "disruption" not in named:
                flags.append("BUDGET NOT NAMED")  # the LP proves the budget below the least share
    else:
        if o.get("outcome") in ("crash", "killed"):
            flags.append("CRASH")
        if base_plan:
            flags.append("NO PLAN WHERE BASELINE HAS ONE")
        elif expect == "feasible":
            flags.append("no plan (a witness exists)")
        elif proven_infeasible:
            flags.append(
                "EXIT 3 ON INFEASIBLE CASE" if o.get("exit_code") == 3 else "NOT REPORTED INFEASIBLE"
            )
    return sorted(set(flags), key=flags.index)


# ---------------------------------------------------------------------------------------------- driver


def _earlier_baselines(paths: list[Path] | None) -> dict[tuple[str, float, str | None], dict[str, Any]]:
    """Baseline runs of earlier ``--json`` files by (case, time limit, recipe key): the same model of the
    same data on the same machine, so a re-run of ours need not repeat it."""
    out: dict[tuple[str, float, str | None], dict[str, Any]] = {}
    for path in paths or []:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row and row.get("baseline") is not None and "baseline_from" not in row:
                key = (row["case"], float(row["time_limit"]), row["meta"].get("recipe_key"))
                out[key] = row
    return out


PROOF_GAP = 1e-4  # HiGHS's default mip_rel_gap and the planner's OPTIMALITY_TOL: "proven optimal"


def first_reach(history: list[dict[str, Any]] | None, gap: float) -> float | None:
    """When our run's own gap (best plan against best bound, from summary.json's ``history``) first
    reached ``gap``; None if it never did or the run kept no history."""
    for event in history or []:
        if event.get("gap") is not None and event["gap"] <= gap + 1e-12:
            return float(event["seconds"])
    return None


def run_case(rec: corpus.Recipe, args: argparse.Namespace) -> dict[str, Any] | None:
    folder = corpus.build_case(rec, log=lambda m: print(m, file=sys.stderr, flush=True))
    _, _, meta = corpus.load_case(folder)
    if args.size and meta["size"] not in args.size.split(","):
        return None
    limit = args.time_limit
    hard = 3 * limit + 300
    row: dict[str, Any] = {"case": rec.name, "meta": meta, "time_limit": limit}
    row["lp"], _, _ = run_child(["--child", "lp", str(folder), str(limit)], hard + 600)
    row["ours"], row["ours_wall"], row["ours_peak_mb"] = run_child(
        ["--child", "ours", str(folder), str(limit)], hard
    )
    pairs = meta["units"] * meta["reps"]
    earlier = args.earlier.get((rec.name, limit, meta.get("recipe_key")))
    if earlier is not None:  # plain PuLP + HiGHS does not change with our code: its earlier run stands
        row["baseline"], row["baseline_wall"] = earlier["baseline"], earlier.get("baseline_wall")
        row["baseline_from"] = str(args.baseline_from)
    elif pairs <= args.baseline_max_pairs:
        row["baseline"], row["baseline_wall"], _ = run_child(
            ["--child", "baseline", str(folder), str(limit)], hard
        )
    else:
        row["baseline"] = None
        row["baseline_skipped"] = f"{pairs:,} binaries > --baseline-max-pairs {args.baseline_max_pairs:,}"
    o, b = row["ours"], row["baseline"]
    if o.get("outcome") == "plan" and has_plan(b) and o.get("gap") is not None:
        gb = b.get("highs_gap")
        if gb is not None and np.isfinite(gb):
            gb = max(gb, PROOF_GAP)  # both prove optimality to 0.01%: 9.6e-5 and 1e-4 are the same proof
            first = first_reach(o.get("history"), gb)
            if first is not None:
                row["reach"] = {"seconds": first, "how": "own run's history"}
            elif o["gap"] <= gb + 1e-12:
                row["reach"] = {"seconds": o["seconds"], "how": "own run"}
            elif o["seconds"] < b["seconds"] and not args.no_reach:
                again, _, _ = run_child(
                    ["--child", "ours", str(folder), str(limit), str(max(gb, 1e-6))], hard
                )
                ok = (
                    again.get("outcome") == "plan"
                    and again.get("gap") is not None
                    and again["gap"] <= gb + 1e-12
                )
                row["reach"] = {
                    "seconds": again.get("seconds") if ok else None,
                    "how": f"re-run with gap={gb:.3g}",
                    "gap": again.get("gap"),
                }
    row["verdict"] = verdict(row)
    return row


def fmt(v: Any, spec: str, none: str = "-") -> str:
    return none if v is None else format(v, spec)


def pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| case | units x reps | tol | budget | known | ours: time | ours: status | ours: gap | ours: path "
        "| baseline: time | baseline: status | baseline: gap vs LP | LP bound | ours obj / baseline obj "
        "| reach | verdict |"
    )
    lines = [head, "|" + "---|" * 16]
    for r in rows:
        meta, o, b, lp = r["meta"], r["ours"], r.get("baseline"), r["lp"]
        tol = meta["tolerance"]
        tol_s = (
            f"{100 * tol:g}%"
            if isinstance(tol, int | float)
            else ",".join(f"{100 * v:g}%" for v in tol.values())
        )
        budget = meta.get("max_moved_share")
        budget_s = "-" if budget is None else f"{100 * budget:.1f}%"
        if o.get("outcome") == "plan":
            status = o.get("status", "?")
            if not o.get("check", {}).get("ok"):
                status += " (INVALID)"
            gap = pct(o.get("gap"))
            path = str(o.get("method") or "")
            stages = o.get("stages_seconds") or {}
            if stages:
                top = max(stages, key=lambda k: stages[k])
                path += f" ({top} {stages[top]:.0f}s)"
        else:
            fams = sorted({c["family"] for c in o.get("conflicts", [])})
            status = f"{o.get('error', o.get('outcome'))} exit {o.get('exit_code')}"
            if fams:
                status += f" [{', '.join(fams)}]"
            gap, path = "-", "-"
        if b is None:
            base_t, base_s, base_g = "not run", r.get("baseline_skipped", ""), "-"
        else:
            base_t = f"{b.get('seconds', 0):.1f}s"
            base_s = str(b.get("sol_status", b.get("error", "?")))
            if b.get("objective") is not None and not has_plan(b):
                base_s += " (INVALID)"
            base_g = "-"
            if b.get("objective") and lp.get("status") == "optimal":
                base_g = pct((b["objective"] - lp["value"]) / b["objective"])
        lp_s = {"optimal": fmt(lp.get("value"), ",.0f"), "infeasible": "infeasible"}.get(
            lp.get("status"), "?"
        )
        ratio = "-"
        if o.get("outcome") == "plan" and has_plan(b) and o.get("objective"):
            ratio = f"{o['objective'] / b['objective']:.4f}"
        reach = r.get("reach")
        reach_s = (
            "-"
            if not reach
            else (fmt(reach.get("seconds"), ".1f", "not reached") + "s" * bool(reach.get("seconds")))
        )
        cells = [
            r["case"],
            f"{meta['units']:,} x {meta['reps']}",
            tol_s,
            budget_s,
            meta.get("expect", "?"),
            f"{o.get('seconds', r.get('ours_wall', 0)):.1f}s",
            status,
            gap,
            path,
            base_t,
            base_s,
            base_g,
            lp_s,
            ratio,
            reach_s,
            ", ".join(r["verdict"]) or "ok",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def speed_summary(rows: list[dict[str, Any]]) -> str:
    """The median of (baseline's time / our time to reach the baseline's final gap) over the cases where
    both have a plan; a case whose gap ours never reached counts as 0x."""
    ratios = []
    for r in rows:
        b, reach = r.get("baseline"), r.get("reach")
        if reach is None or not has_plan(b):
            continue
        t = reach.get("seconds")
        ratios.append(0.0 if t is None else b["seconds"] / max(t, 0.1))
    if not ratios:
        return "speed-up to the baseline's final gap: no case with both plans"
    return (
        f"speed-up to the baseline's final gap (baseline's time / ours to the same gap, {len(ratios)} cases "
        f"with both plans): median {np.median(ratios):.1f}x, lowest {min(ratios):.1f}x, "
        f"{sum(x >= 5 for x in ratios)} of {len(ratios)} at least 5x"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=None, help="comma-separated globs of case names (default: all)")
    ap.add_argument("--size", default=None, help="comma-separated size classes: small,medium,large")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument(
        "--jobs", type=int, default=1, help="cases run in parallel (each case's runs stay sequential)"
    )
    ap.add_argument("--json", type=Path, default=None, help="append one JSON line per case here")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    ap.add_argument(
        "--baseline-max-pairs", type=int, default=2_000_000, help="skip the baseline above this n x p"
    )
    ap.add_argument("--no-reach", action="store_true", help="no re-run of ours to reach the baseline's gap")
    ap.add_argument(
        "--baseline-from",
        type=Path,
        action="append",
        default=None,
        help="reuse the baseline runs of an earlier --json file (same case, time limit and recipe)",
    )
    ap.add_argument("--from-json", type=Path, default=None, help="print the table of an earlier --json file")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, folder, limit, *rest = args.child
        fn = {"ours": child_ours, "baseline": child_baseline, "lp": child_lp}[kind]
        extra = [float(rest[0])] if kind == "ours" and rest else [None] if kind == "ours" else []
        result = fn(Path(folder), float(limit), *extra)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        line = json.dumps(result, default=str)
        if os.environ.get(RESULT_ENV):
            Path(os.environ[RESULT_ENV]).write_text(line, encoding="utf-8")
        print(line)
        return 0
    if args.from_json:
        rows = [json.loads(line) for line in args.from_json.read_text(encoding="utf-8").splitlines() if line]
        for row in rows:
            row["verdict"] = verdict(row)
        print(table(rows))
        print(speed_summary(rows))
        return 0
    args.earlier = _earlier_baselines(args.baseline_from)  # read once, not per case
    recs = corpus.select(args.cases, args.size)  # by the data sets' sizes; the built case decides below
    rows: list[dict[str, Any]] = []

    def one(rec: corpus.Recipe) -> None:
        try:
            row = run_case(rec, args)
        except RuntimeError as exc:  # a recipe the corpus cannot build (e.g. a budget case with no moves)
            print(f"{rec.name}: not built: {exc}", file=sys.stderr, flush=True)
            return
        if row is None:
            return
        rows.append(row)
        print(f"{rec.name}: {', '.join(row['verdict']) or 'ok'}", file=sys.stderr, flush=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, default=str) + "\n")

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, recs))
    order = {r.name: k for k, r in enumerate(recs)}
    rows.sort(key=lambda r: order[r["case"]])
    md = table(rows) + "\n\n" + speed_summary(rows)
    print(md)
    if args.markdown:
        args.markdown.write_text(md + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
