"""Generate four years of seeded CRM history for the sample accounts and reps (re-runnable).

Reads ``sample_data/accounts.csv`` and ``sample_data/reps.csv`` and writes ``sample_data/crm/``:
opportunities, activities, quotas, forecasts, time_log, leads, plus copies of reps.csv and accounts.csv.
Opportunities run from 2022-07-01 to the export date 2026-06-30 (four years, for the forecast and its
backtest); activities, time log and leads cover the last two years. ``--period 2026Q2`` is the natural
KPI period and ``--forecast-horizon 2026Q3`` the natural forecast. Realism, all vectorised and seeded:

* seasonality: more deals are created in spring and autumn and fewer in August and late December;
* growth: the rate of new deals grows by ``GROWTH`` a year, and quotas grow with it;
* open pipeline at the export: deals that close after it are open, with their expected close date and a
  probability that starts at the rep's win rate and moves toward the deal's fate as it progresses
  (calibrated on average); won = 1.0, lost = 0.0;
* rep skill: each rep has a win-rate multiplier, so some finish above quota and some below;
* quotas are the reps' annual quota split by quarter; forecasts are per quarter with per-rep bias and noise;
* leads: about two thirds respond (some within hours, some after days), the rest never do.

Usage: ``python sample_data/generate_crm.py [--seed 7] [--out sample_data/crm]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
START = pd.Timestamp("2022-07-01")  # opportunities
RECENT = pd.Timestamp("2024-07-01")  # activities, quotas, forecasts, time log, leads
EXPORT = pd.Timestamp("2026-06-30")
GROWTH = 0.12  # per year


def seasonal_dates(rng: np.random.Generator, n: int, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    days = pd.date_range(start, end, freq="D")
    doy = days.day_of_year.to_numpy()
    weight = 1.0 + 0.25 * np.sin(2 * np.pi * (doy - 60) / 182.5)  # peaks in spring and autumn
    weight[(days.month == 8)] *= 0.7
    weight[(days.month == 12) & (days.day > 20)] *= 0.3
    weight[days.day_of_week >= 5] *= 0.15  # weekends are quiet
    weight *= (1 + GROWTH) ** ((days - EXPORT).days.to_numpy() / 365.25)  # the business grows
    pick = rng.choice(len(days), size=n, p=weight / weight.sum())
    return pd.Series(days[pick])


def opportunities(rng: np.random.Generator, accounts: pd.DataFrame, skill: pd.Series) -> pd.DataFrame:
    pot = accounts["potential"].to_numpy(dtype=float)
    per_account = rng.poisson(2.0 * (1.0 + 4.0 * pot / pot.mean()))  # four years: twice the old two
    idx = np.repeat(np.arange(len(accounts)), per_account)
    n = idx.size
    acc = accounts.iloc[idx].reset_index(drop=True)
    rep = acc["current_rep"].to_numpy(dtype=object).copy()
    other = rng.random(n) < 0.04  # a few deals were worked by another rep (hand-overs, overlays)
    rep[other] = rng.choice(skill.index.to_numpy(), size=int(other.sum()))
    created = seasonal_dates(rng, n, START - pd.Timedelta(days=90), EXPORT)
    cycle = np.maximum(rng.gamma(3.0, 22.0, n).round(), 3)
    close = created + pd.to_timedelta(cycle, unit="D")
    amount = (acc["potential"].to_numpy(dtype=float) * 0.18 * rng.lognormal(0, 0.55, n)).round(-1) + 500
    p_win = np.clip(0.36 * skill.reindex(rep).to_numpy(), 0.05, 0.85)
    won = rng.random(n) < p_win
    is_open = (close > EXPORT).to_numpy()
    status = np.where(is_open, "open", np.where(won, "won", "lost"))
    elapsed = np.clip((EXPORT - created).dt.days.to_numpy() / cycle, 0, 0.999)
    stage = np.clip(p_win + (won - p_win) * 0.8 * elapsed, 0.05, 0.95)  # fate shows as the deal advances
    probability = np.where(is_open, np.round(stage / 0.05) * 0.05, np.where(won, 1.0, 0.0)).round(2)
    frame = pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "rep_id": rep,
            "amount": amount,
            "status": status,
            "probability": probability,
            "created_date": created.dt.strftime("%Y-%m-%d"),
            "close_date": close.dt.strftime("%Y-%m-%d"),
        }
    )
    keep = (close >= START).to_numpy()  # the export holds deals still relevant in its window
    frame = frame[keep].sort_values("created_date", kind="stable").reset_index(drop=True)
    frame.insert(0, "opportunity_id", [f"O{i:06d}" for i in range(1, len(frame) + 1)])
    return frame


def calibrate(opps: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Scale amounts so that the team wins about 97% of its quota over the last two years."""
    won = opps["status"].eq("won") & (opps["close_date"] >= RECENT.strftime("%Y-%m-%d"))
    target = float(quarters()["growth"].sum()) / 4 * reps["quota"].sum() * 0.97
    factor = target / opps.loc[won, "amount"].sum()
    return opps.assign(amount=(opps["amount"] * factor).round(-1))


def activities(rng: np.random.Generator, accounts: pd.DataFrame, n: int) -> pd.DataFrame:
    pot = accounts["potential"].to_numpy(dtype=float)
    pick = rng.choice(len(accounts), size=n, p=(pot + pot.mean()) / (pot + pot.mean()).sum())
    date = seasonal_dates(rng, n, RECENT, EXPORT)
    frame = pd.DataFrame(
        {
            "rep_id": accounts["current_rep"].to_numpy()[pick],
            "account_id": accounts["account_id"].to_numpy()[pick],
            "date": date.dt.strftime("%Y-%m-%d"),
            "type": rng.choice(["meeting", "call", "email", "demo"], size=n, p=[0.22, 0.38, 0.34, 0.06]),
        }
    ).sort_values("date", kind="stable")
    frame.insert(0, "activity_id", [f"T{i:07d}" for i in range(1, n + 1)])
    return frame


def quarters() -> pd.DataFrame:
    """The quarters of the last two years, each with the growth factor of its quota (1 in the last year)."""
    starts = pd.date_range(RECENT, EXPORT, freq="QS")
    years_back = np.floor((EXPORT - starts).days.to_numpy() / 365.25)
    return pd.DataFrame(
        {
            "period_start": starts,
            "period_end": starts + pd.offsets.QuarterEnd(0),
            "growth": (1 + GROWTH) ** -years_back,
        }
    )


def quotas_and_forecasts(
    rng: np.random.Generator, reps: pd.DataFrame, opps: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    q = quarters()
    grid = reps[["rep_id", "quota"]].merge(q, how="cross")
    quotas = grid.assign(quota=(grid["quota"] / 4 * grid["growth"]).round(-2))[
        ["rep_id", "period_start", "period_end", "quota"]
    ]
    won = opps[opps["status"].eq("won")].assign(close=pd.to_datetime(opps["close_date"]))
    won["period_start"] = won["close"].dt.to_period("Q").dt.start_time
    actual = won.groupby(["rep_id", "period_start"])["amount"].sum()
    bias = pd.Series(rng.normal(0.03, 0.08, len(reps)), index=reps["rep_id"])
    fc = grid[["rep_id", "period_start", "period_end"]].copy()
    act = actual.reindex(pd.MultiIndex.from_frame(fc[["rep_id", "period_start"]]), fill_value=0).to_numpy()
    noise = rng.normal(0, 0.12, len(fc))
    fc["forecast"] = (act * (1 + bias.reindex(fc["rep_id"]).to_numpy() + noise)).clip(0).round(-2)
    for frame in (quotas, fc):
        for col in ("period_start", "period_end"):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    return quotas, fc


def time_log(rng: np.random.Generator, reps: pd.DataFrame) -> pd.DataFrame:
    weeks = pd.date_range(RECENT, EXPORT, freq="W-MON")
    grid = reps[["rep_id", "capacity"]].merge(pd.DataFrame({"date": weeks}), how="cross")
    share = (
        pd.Series(rng.uniform(0.25, 0.45, len(reps)), index=reps["rep_id"]).reindex(grid["rep_id"]).to_numpy()
    )
    total = (40 * grid["capacity"].to_numpy() + rng.normal(0, 3, len(grid))).clip(4).round(1)
    selling = (total * np.clip(share + rng.normal(0, 0.05, len(grid)), 0.05, 0.9)).round(1)
    return pd.DataFrame(
        {
            "rep_id": grid["rep_id"],
            "date": grid["date"].dt.strftime("%Y-%m-%d"),
            "selling_hours": selling,
            "total_hours": total,
        }
    )


def leads(rng: np.random.Generator, accounts: pd.DataFrame, reps: pd.DataFrame, n: int) -> pd.DataFrame:
    pick = rng.integers(0, len(accounts), n)
    contacted = seasonal_dates(rng, n, RECENT, EXPORT) + pd.to_timedelta(
        rng.integers(8 * 60, 18 * 60, n), unit="min"
    )
    rep = accounts["current_rep"].to_numpy()[pick]
    speed = pd.Series(rng.uniform(6, 60, len(reps)), index=reps["rep_id"]).reindex(rep).to_numpy()
    responded = rng.random(n) < 0.65
    lag = pd.to_timedelta(rng.exponential(speed).round(2), unit="h")
    answer = (contacted + lag).dt.strftime("%Y-%m-%dT%H:%M")
    account = np.where(rng.random(n) < 0.1, "", accounts["account_id"].to_numpy()[pick])  # new prospects
    frame = pd.DataFrame(
        {
            "rep_id": rep,
            "account_id": account,
            "contacted_at": contacted.dt.strftime("%Y-%m-%dT%H:%M"),
            "responded_at": np.where(responded & ((contacted + lag) <= EXPORT).to_numpy(), answer, ""),
        }
    ).sort_values("contacted_at", kind="stable")
    frame.insert(0, "lead_id", [f"L{i:06d}" for i in range(1, n + 1)])
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=HERE, help="folder with accounts.csv and reps.csv")
    parser.add_argument("--out", type=Path, default=HERE / "crm")
    args = parser.parse_args(argv)
    missing = [name for name in ("accounts.csv", "reps.csv") if not (args.data / name).is_file()]
    if missing:
        sys.stderr.write(
            f"error: {', '.join(missing)} not found in {args.data}; generate the sample accounts and reps "
            "first (python sample_data/generate_sample.py)\n"
        )
        return 1
    rng = np.random.default_rng(args.seed)
    accounts = pd.read_csv(args.data / "accounts.csv", dtype={"account_id": str, "current_rep": str})
    reps = pd.read_csv(args.data / "reps.csv", dtype={"rep_id": str})
    accounts["current_rep"] = accounts["current_rep"].fillna(reps["rep_id"].iloc[0])
    skill = pd.Series(rng.lognormal(0, 0.22, len(reps)), index=reps["rep_id"].to_numpy())
    opps = calibrate(opportunities(rng, accounts, skill), reps)
    quotas, forecasts = quotas_and_forecasts(rng, reps, opps)
    tables = {
        "opportunities": opps,
        "activities": activities(rng, accounts, 24_000),
        "quotas": quotas,
        "forecasts": forecasts,
        "time_log": time_log(rng, reps),
        "leads": leads(rng, accounts, reps, 3_000),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(args.out / f"{name}.csv", index=False, lineterminator="\n")
    for name in ("reps.csv", "accounts.csv"):
        shutil.copyfile(args.data / name, args.out / name)
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.glob("*.csv"))}
    sys.stdout.write("".join(f"{k:20s} {v / 1e6:6.2f} MB\n" for k, v in sizes.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
