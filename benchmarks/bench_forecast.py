"""Forecast + backtest speed: ``python benchmarks/bench_forecast.py [--reps 200] [--years 5]``.

Generates a seeded CRM history with a known seasonal process (``tests/forecast_fixtures.py``), then
times ``compute_forecast`` (load and validate the CRM, monthly series, every candidate model at every
backtest window, reconciliation, intervals) for a quarter after the export. Prints one README table row.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from forecast_fixtures import synthetic_crm  # noqa: E402

from territory_planner.forecast import layout  # noqa: E402
from territory_planner.forecast.api import compute_forecast  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished workers."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--horizon", default="2026Q3")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--windows", type=int, default=None, help="backtest windows at most")
    args = parser.parse_args()
    if args.windows is not None:
        layout.MAX_WINDOWS = args.windows
    with tempfile.TemporaryDirectory() as tmp:
        crm = synthetic_crm(Path(tmp) / "crm", reps=args.reps, years=args.years, regions=8, seed=1)
        deals = len((crm / "opportunities.csv").read_text(encoding="utf-8").splitlines()) - 1
        start, cpu0 = time.perf_counter(), _cpu()
        report = compute_forecast(crm, args.horizon, workers=args.workers)
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu0
    team = report.accuracy.set_index("level").loc["team"]
    rep = report.accuracy.set_index("level").loc["rep"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"| {args.reps} reps x {args.years:g} years | {deals:,} | {len(report.history.nodes)} | "
        f"{len(report.history.layout.backtest)} | {seconds:.1f} s | {cpu:.1f} s | "
        f"{team['forecast_accuracy']:.1%} vs {team['baseline_accuracy']:.1%} | "
        f"{rep['forecast_accuracy']:.1%} vs {rep['baseline_accuracy']:.1%} | "
        f"{team['interval_coverage']:.0%} / {rep['interval_coverage']:.0%} | {peak:,.0f} MB |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
