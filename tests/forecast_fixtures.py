"""A CRM history with a known seasonal process, for the forecast tests and benchmark.

Each rep's deals are created at a daily rate ``base x growth^(years) x (1 + amplitude x sin(...))`` (one
yearly cycle), close after a gamma-distributed sales cycle (mean 50 days), and are won with probability
``WIN_RATE``. Deals that close after the export date are open, with the true win rate as probability and
their true close date as expected close date. So the team's won amount per month is seasonal with a
steady trend, and the open pipeline at the export holds most of the next quarter's won deals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WIN_RATE = 0.4


def synthetic_crm(
    out: Path,
    *,
    reps: int = 12,
    years: float = 4.0,
    as_of: str = "2026-06-30",
    seed: int = 0,
    deals_per_month: float = 25.0,
    regions: int = 3,
    growth: float = 0.12,
    amplitude: float = 0.45,
    accounts_per_rep: int = 15,
) -> Path:
    """Write opportunities.csv, reps.csv and accounts.csv into ``out``; returns ``out``."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    export = pd.Timestamp(as_of)
    start = export - pd.DateOffset(months=round(years * 12)) + pd.Timedelta(days=1)
    days = pd.date_range(start - pd.Timedelta(days=120), export, freq="D")
    t_years = (days - start).days.to_numpy() / 365.25
    season = 1.0 + amplitude * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 80) / 365.25)
    rep_ids = [f"R{r + 1:03d}" for r in range(reps)]
    scale = rng.lognormal(0.0, 0.3, reps)
    rate = deals_per_month / 30.4 * scale[:, None] * ((1 + growth) ** t_years * season)[None, :]
    counts = rng.poisson(rate)  # reps x days
    rep_idx, day_idx = np.nonzero(counts)
    rep_idx = np.repeat(rep_idx, counts[rep_idx, day_idx])
    day_idx = np.repeat(day_idx, counts[counts > 0])
    n = rep_idx.size
    created = days[day_idx]
    cycle = np.maximum(rng.gamma(3.0, 50.0 / 3.0, n).round(), 1)
    close = created + pd.to_timedelta(cycle, unit="D")
    won = rng.random(n) < WIN_RATE
    amount = (rng.lognormal(np.log(8000), 0.5, n)).round(-1)
    account = rep_idx * accounts_per_rep + rng.integers(0, accounts_per_rep, n)
    is_open = close > export
    keep = (close >= start) & (created <= export)
    frame = pd.DataFrame(
        {
            "account_id": [f"A{a:05d}" for a in account],
            "rep_id": np.array(rep_ids)[rep_idx],
            "amount": amount,
            "status": np.where(is_open, "open", np.where(won, "won", "lost")),
            "probability": np.where(is_open, WIN_RATE, np.where(won, 1.0, 0.0)),
            "created_date": created.strftime("%Y-%m-%d"),
            "close_date": close.strftime("%Y-%m-%d"),
        }
    )[keep]
    frame = frame.sort_values("created_date", kind="stable").reset_index(drop=True)
    frame.insert(0, "opportunity_id", [f"O{i:07d}" for i in range(1, len(frame) + 1)])
    frame.to_csv(out / "opportunities.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": rep_ids,
            "name": [f"Rep {r}" for r in rep_ids],
            "region": [f"Region {k % regions + 1}" for k in range(reps)],
        }
    ).to_csv(out / "reps.csv", index=False)
    accounts = np.arange(reps * accounts_per_rep)
    pd.DataFrame(
        {
            "account_id": [f"A{a:05d}" for a in accounts],
            "current_rep": np.array(rep_ids)[accounts // accounts_per_rep],
        }
    ).to_csv(out / "accounts.csv", index=False)
    return out
