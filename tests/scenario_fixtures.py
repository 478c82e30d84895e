"""A tiny territory instance for the scenario, compare and sweep tests (solves in well under a second).

Four reps sit at the corners of a 2x2 degree square; 40 accounts are scattered on a deterministic grid
with current reps given by quadrant, so the base plan is close to the status quo.

    R2 (north-west)   R3 (north-east)
    R0 (south-west)   R1 (south-east)
"""

from __future__ import annotations

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
