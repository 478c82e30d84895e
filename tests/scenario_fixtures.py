"""A tiny territory instance for the scenario, compare and sweep tests (solves in well under a second).

Four reps sit at the corners of a 2x2 degree square; 40 accounts are scattered on a deterministic grid
with current reps given by quadrant, so the base plan is close to the status quo.

    R2 (north-west)   R3 (north-east)
    R0 (south-west)   R1 (south-east)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

REPS = pd.DataFrame(
    {
        "rep_id": ["R0", "R1", "R2", "R3"],
        "name": ["South West", "South East", "North West", "North East"],
        "lat": [40.5, 40.5, 41.5, 41.5],
        "lon": [-100.5, -99.5, -100.5, -99.5],
        "capacity": [1.0, 1.0, 1.0, 1.0],
    }
)


def accounts(n: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = 40.0 + 2.0 * rng.random(n)
    lon = -101.0 + 2.0 * rng.random(n)
    quadrant = (lat > 41.0).astype(int) * 2 + (lon > -100.0).astype(int)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "lat": lat.round(5),
            "lon": lon.round(5),
            "potential": (1000 + 1000 * rng.random(n)).round(0),
            "workload": (5 + 10 * rng.random(n)).round(1),
            "current_rep": [f"R{q}" for q in quadrant],
        }
    )


def write_instance(folder: Path, *, tolerance: float = 0.1, extra: str = "") -> Path:
    """Write accounts.csv, reps.csv and base.toml into ``folder``; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts().to_csv(folder / "accounts.csv", index=False)
    REPS.to_csv(folder / "reps.csv", index=False)
    scenario = folder / "base.toml"
    scenario.write_text(
        'accounts = "accounts.csv"\nreps = "reps.csv"\ntime_limit = 20\ngap = 0.0\nseed = 1\n'
        f"tolerance = {tolerance}\n{extra}",
        encoding="utf-8",
    )
    return scenario


def strip_map(folder: Path, r1: tuple[float, float] = (0.5, 9.5)) -> tuple[Path, Path]:
    """Three polygon accounts in a row: a long strip A (lon 0-10), then B (10-11) and C (11-12); R1's
    home at ``r1`` (lat, lon; by default inside A, 1 degree from B's point and about 4.5 from A's), R2's
    inside C. The keep-home and edit tests of a home held by a polygon far from its point."""
    features = []
    for name, (x0, x1) in {"A": (0.0, 10.0), "B": (10.0, 11.0), "C": (11.0, 12.0)}.items():
        ring = [[x0, 0.0], [x1, 0.0], [x1, 1.0], [x0, 1.0], [x0, 0.0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"account_id": name, "potential": 1.0, "workload": 1.0},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    accounts = folder / "accounts.geojson"
    accounts.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    reps = folder / "reps.csv"
    rows = [{"rep_id": "R1", "lat": r1[0], "lon": r1[1]}, {"rep_id": "R2", "lat": 0.5, "lon": 11.5}]
    pd.DataFrame(rows).to_csv(reps, index=False)
    return accounts, reps
