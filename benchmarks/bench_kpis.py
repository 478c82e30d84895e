"""Benchmark the KPI engine: 1,000,000 opportunities, 2,000,000 activities, 200 reps.

Writes a synthetic CRM folder (not timed), then times loading + validating the CSVs and computing every
KPI at team, rep, region and (with a 50,000-account plan) territory levels. Prints a table; peak memory
is the process's maximum resident set size (``resource.getrusage``), which includes the data generation.

    python benchmarks/bench_kpis.py [--opportunities 1000000] [--activities 2000000] [--reps 200]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from territory_planner.report.api import compute_kpis
from territory_planner.report.crm import load_crm
from territory_planner.report.plan import PlanData


def _dates(rng: np.random.Generator, n: int, start: str = "2024-01-01", days: int = 730) -> pd.Series:
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D"))


def make_crm(folder: Path, n_opps: int, n_acts: int, n_reps: int, n_accounts: int, seed: int = 1) -> PlanData:
    rng = np.random.default_rng(seed)
    reps = [f"R{i:04d}" for i in range(n_reps)]
    accounts = np.array([f"A{i:07d}" for i in range(n_accounts)], dtype=object)
    owner = rng.integers(0, n_reps, n_accounts)
    rep_arr = np.array(reps, dtype=object)
    pd.DataFrame(
        {"rep_id": reps, "name": reps, "region": [f"Region {i % 8}" for i in range(n_reps)], "quota": 1e6}
    ).to_csv(folder / "reps.csv", index=False)
    acc = rng.integers(0, n_accounts, n_opps)
    created = _dates(rng, n_opps)
    close = created + pd.to_timedelta(rng.integers(5, 200, n_opps), unit="D")
    status = rng.choice(["won", "lost", "open"], n_opps, p=[0.3, 0.5, 0.2])
    pd.DataFrame(
        {
            "opportunity_id": np.char.add("O", np.arange(n_opps).astype(str)),
            "account_id": accounts[acc],
            "rep_id": rep_arr[owner[acc]],
            "amount": rng.integers(1_000, 100_000, n_opps),
            "status": status,
            "probability": np.where(status == "won", 1.0, np.where(status == "lost", 0.0, 0.5)),
            "created_date": created.dt.strftime("%Y-%m-%d"),
            "close_date": close.dt.strftime("%Y-%m-%d"),
        }
    ).to_csv(folder / "opportunities.csv", index=False)
    acc = rng.integers(0, n_accounts, n_acts)
    pd.DataFrame(
        {
            "activity_id": np.char.add("T", np.arange(n_acts).astype(str)),
            "rep_id": rep_arr[owner[acc]],
            "account_id": accounts[acc],
            "date": _dates(rng, n_acts).dt.strftime("%Y-%m-%d"),
            "type": rng.choice(["meeting", "call", "email"], n_acts),
        }
    ).to_csv(folder / "activities.csv", index=False)
    quarters = pd.date_range("2024-01-01", periods=8, freq="QS")
    grid = pd.DataFrame({"rep_id": reps}).merge(pd.DataFrame({"period_start": quarters}), how="cross")
    grid["period_end"] = grid["period_start"] + pd.offsets.QuarterEnd(0)
    for col in ("period_start", "period_end"):
        grid[col] = grid[col].dt.strftime("%Y-%m-%d")
    grid.assign(quota=250_000.0).to_csv(folder / "quotas.csv", index=False)
    grid.assign(forecast=240_000.0).to_csv(folder / "forecasts.csv", index=False)
    n_leads = n_opps // 5
    acc = rng.integers(0, n_accounts, n_leads)
    contacted = _dates(rng, n_leads)
    answered = contacted + pd.to_timedelta(rng.integers(1, 72, n_leads), unit="h")
    pd.DataFrame(
        {
            "lead_id": np.char.add("L", np.arange(n_leads).astype(str)),
            "rep_id": rep_arr[owner[acc]],
            "account_id": accounts[acc],
            "contacted_at": contacted.dt.strftime("%Y-%m-%dT%H:%M"),
            "responded_at": np.where(rng.random(n_leads) < 0.6, answered.dt.strftime("%Y-%m-%dT%H:%M"), ""),
        }
    ).to_csv(folder / "leads.csv", index=False)
    weeks = pd.date_range("2024-01-01", periods=104, freq="W-MON").strftime("%Y-%m-%d")
    tl = pd.DataFrame({"rep_id": reps}).merge(pd.DataFrame({"date": weeks}), how="cross")
    tl.assign(selling_hours=15.0, total_hours=40.0).to_csv(folder / "time_log.csv", index=False)
    proposed = np.where(rng.random(n_accounts) < 0.1, rng.integers(0, n_reps, n_accounts), owner)
    assignments = pd.DataFrame(
        {
            "account_id": pd.array(accounts, dtype="string"),
            "rep_id": pd.array(rep_arr[proposed], dtype="string"),
            "current_rep": pd.array(rep_arr[owner], dtype="string"),
            "moved": proposed != owner,
            "potential": rng.integers(0, 100_000, n_accounts).astype(float),
            "workload": 1.0,
        }
    )
    territories = pd.DataFrame({"rep_id": pd.array(reps, dtype="string"), "name": reps})
    return PlanData(assignments=assignments, territories=territories, summary={})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=2_000_000)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--period", default="2025Q2")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        plan = make_crm(folder, args.opportunities, args.activities, args.reps, args.accounts)
        rows.append(("generate synthetic CSVs (not counted)", time.perf_counter() - t0))
        t0 = time.perf_counter()
        crm = load_crm(folder)
        rows.append(("load + validate CRM CSVs", time.perf_counter() - t0))
        t1 = time.perf_counter()
        report = compute_kpis(crm, args.period, plan=plan)
        rows.append(("compute KPIs, all levels", time.perf_counter() - t1))
        rows.append(("total (load + compute)", time.perf_counter() - t0))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    out = sys.stdout
    out.write(
        f"\n{args.opportunities:,} opportunities, {args.activities:,} activities, {args.reps} reps, "
        f"{args.accounts:,} accounts in the plan, period {args.period}\n\n"
    )
    out.write(f"| {'step':40s} | {'seconds':>8s} |\n|{'-' * 42}|{'-' * 9}:|\n")
    for name, sec in rows:
        out.write(f"| {name:40s} | {sec:8.2f} |\n")
    out.write(f"| {'peak resident memory (MB)':40s} | {peak_mb:8.0f} |\n")
    out.write(f"\n{len(report.long):,} KPI values\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
