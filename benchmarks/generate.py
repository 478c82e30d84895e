"""Seeded synthetic instances for the benchmarks: clustered accounts over the continental US.

    python benchmarks/generate.py --accounts 10000 --reps 50 --out benchmarks/data/10k

Accounts: a mixture of metro clusters (lognormal sizes) plus rural background; potential lognormal,
workload correlated with potential. Reps: homes drawn among accounts (weighted by workload, spread by
a farthest-point pass), capacity 1 (10% half-time). Current alignment: nearest rep with 10% drift.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

LAT = (25.0, 49.0)
LON = (-124.0, -67.0)


def generate(n: int, p: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_metros = max(10, p * 2)
    metro_lat = rng.uniform(*LAT, n_metros)
    metro_lon = rng.uniform(*LON, n_metros)
    metro_w = rng.lognormal(0, 1.0, n_metros)
    rural = rng.random(n) < 0.15
    which = rng.choice(n_metros, size=n, p=metro_w / metro_w.sum())
    lat = np.where(rural, rng.uniform(*LAT, n), metro_lat[which] + rng.normal(0, 0.35, n))
    lon = np.where(rural, rng.uniform(*LON, n), metro_lon[which] + rng.normal(0, 0.45, n))
    lat, lon = np.clip(lat, *LAT), np.clip(lon, *LON)
    potential = np.round(np.minimum(rng.lognormal(10.3, 0.8, n), 12 * np.exp(10.3)), 0)
    workload = np.round(10 + potential / 5000 + rng.gamma(2.0, 5.0, n), 1)
    # rep homes: weighted farthest-point spread over accounts
    w = workload / workload.sum()
    homes = [int(rng.choice(n, p=w))]
    d = np.full(n, np.inf)
    for _ in range(p - 1):
        h = homes[-1]
        d = np.minimum(d, np.hypot(lat - lat[h], (lon - lon[h]) * 0.78))
        score = d * np.sqrt(workload) * rng.uniform(0.8, 1.2, n)
        homes.append(int(np.argmax(score)))
    rep_lat, rep_lon = lat[homes], lon[homes]
    capacity = np.where(rng.random(p) < 0.1, 0.5, 1.0)
    dist = np.hypot(lat[:, None] - rep_lat[None, :], (lon[:, None] - rep_lon[None, :]) * 0.78)
    order = np.argsort(dist, axis=1)[:, :2]
    cur = np.where(rng.random(n) < 0.1, order[:, 1], order[:, 0])
    rep_ids = np.array([f"R{j:03d}" for j in range(p)])
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:06d}" for i in range(n)],
            "lat": np.round(lat, 5),
            "lon": np.round(lon, 5),
            "potential": potential,
            "workload": workload,
            "current_rep": rep_ids[cur],
        }
    )
    reps = pd.DataFrame(
        {"rep_id": rep_ids, "lat": np.round(rep_lat, 5), "lon": np.round(rep_lon, 5), "capacity": capacity}
    )
    return accounts, reps


def write(n: int, p: int, seed: int, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    a, r = out / "accounts.csv", out / "reps.csv"
    if not (a.exists() and r.exists()):
        accounts, reps = generate(n, p, seed)
        accounts.to_csv(a, index=False)
        reps.to_csv(r, index=False)
    return a, r


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--reps", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    a, r = write(args.accounts, args.reps, args.seed, args.out)
    print(f"wrote {a} and {r}")


if __name__ == "__main__":
    main()
