"""``--design-districts`` on maps: are the designed districts connected, and what does it cost?

    python benchmarks/bench_design_map.py [--root DIR] [--time-limit 60] [--cases 'us48-*'] [--json X]

Real polygon maps of the holdout (``benchmarks/holdout.py``: US states, NC counties, Virginia counties and
cities, Tokyo municipalities, St Louis counties, Mexico's states; built there if missing) with
``--design-districts N`` and the adjacency their polygons give. Each case runs the installed CLI once
(``python -m territory_planner plan``; set PYTHONPATH to run another checkout) and prints: exit code,
seconds, objective, lower bound, gap, the districts in one piece (recounted here from the plan's
assignments and the polygons' adjacency, not read from the plan), the territories in several pieces, and
how the design connected its districts (``hierarchy.district.design.connected_by``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import holdout  # noqa: E402

POT = ("--balance", "potential")
# (name, holdout case whose accounts and reps are used, plan options)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("us48-8-d2-pot", "us48-8-design2", (*POT, "--tolerance", "0.1", "--design-districts", "2")),
    ("us48-8-d3-pot", "us48-8-design2", (*POT, "--tolerance", "0.1", "--design-districts", "3")),
    ("us48-8-d3-both-t15", "us48-8-design2", ("--tolerance", "0.15", "--design-districts", "3")),
    ("nc-8-d2-pot-t5", "nc-8-births-contig", (*POT, "--tolerance", "0.05", "--design-districts", "2")),
    (
        "nc-8-d3-pot-contig",
        "nc-8-births-contig",
        (*POT, "--tolerance", "0.1", "--contiguous", "--bridge-islands", "--design-districts", "3"),
    ),
    (
        "virginia-12-d3-pot-t5",
        "virginia-12-contig-pot-t3",
        (*POT, "--tolerance", "0.05", "--bridge-islands", "--design-districts", "3"),
    ),
    ("tokyo-10-d2-pot", "tokyo-10-contig", (*POT, "--tolerance", "0.1", "--design-districts", "2")),
    ("stl-6-d2-pot-t5", "stl-6-district-pot", (*POT, "--tolerance", "0.05", "--design-districts", "2")),
    (
        "mexico-4-d2-pot-contig",
        "mexico-4-contig-t10",
        (*POT, "--tolerance", "0.1", "--contiguous", "--design-districts", "2"),
    ),
]


def _accounts_file(folder: Path) -> Path:
    for name in ("accounts.geojson", "accounts.gpkg"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{folder}: no polygon accounts")


def recount(accounts: Path, plan: Path, bridge: bool) -> dict[str, Any]:
    """Districts in one piece and territories in several, from the plan's assignments and the polygons'
    adjacency (queen contiguity; with ``bridge``, as the case's --bridge-islands, each island joined to
    its nearest other piece of the map by the representative points, as the planner does)."""
    import geopandas as gpd

    from territory_planner.geo import adjacency, contiguity

    gdf = gpd.read_file(accounts)
    ids = gdf["account_id"].astype(str).tolist()
    adj = adjacency.from_geoseries(gdf.geometry)
    if bridge:
        pts = (
            gdf.geometry.to_crs(4326).representative_point()
            if gdf.crs
            else gdf.geometry.representative_point()
        )
        lat, lon = pts.y.to_numpy(), pts.x.to_numpy()
        adj = adjacency.bridge_islands(adj, lat, lon)
    a = pd.read_csv(plan / "assignments.csv", dtype={"account_id": str}, keep_default_na=False)
    t = pd.read_csv(plan / "territories.csv", keep_default_na=False)
    rep_of = dict(zip(a["account_id"], a["rep_id"], strict=True))
    district_of = dict(zip(t["rep_id"], t["district"], strict=True))
    reps = sorted(set(rep_of.values()))
    districts = sorted(set(district_of.values()))
    rep_index = np.array([reps.index(rep_of[i]) for i in ids])
    district_index = np.array([districts.index(district_of[rep_of[i]]) for i in ids])
    territory_pieces = contiguity.count_pieces(adj, rep_index, len(reps))
    district_pieces = contiguity.count_pieces(adj, district_index, len(districts))
    return {
        "districts": len(districts),
        "districts_connected": int((district_pieces == 1).sum()),
        "territories_split": int((territory_pieces > 1).sum()),
    }


def run(name: str, folder: Path, options: tuple[str, ...], limit: float) -> dict[str, Any]:
    accounts = _accounts_file(folder)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        cmd = [sys.executable, "-m", "territory_planner", "plan", "--accounts", str(accounts)]
        cmd += ["--reps", str(folder / "reps.csv"), "--out", str(out), "--quiet", "--time-limit", str(limit)]
        cmd += list(options)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        row: dict[str, Any] = {"case": name, "exit": proc.returncode, "seconds": time.perf_counter() - t0}
        if proc.returncode != 0:
            row["message"] = (proc.stderr.strip().splitlines() or [""])[-1][:160]
            return row
        s = json.loads((out / "summary.json").read_text())
        design = s.get("hierarchy", {}).get("district", {}).get("design", {})
        row.update(
            objective=s["objective"],
            lower_bound=s["lower_bound"],
            gap_pct=100 * s["gap"] if s.get("gap") is not None else None,
            connected_by=design.get("connected_by", "n/a"),
            second_solve=design.get("second_solve"),
            **recount(accounts, out, "--bridge-islands" in options),
        )
        return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=None, help="the holdout's case folders")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--cases", default="*", help="comma-separated globs of case names")
    ap.add_argument("--json", type=Path, default=None, help="append one JSON line per case")
    args = ap.parse_args()
    root = args.root or holdout.holdout_root()
    globs = args.cases.split(",")
    by_name = {c.name: c for c in holdout.CASES}
    header = (
        "| case | exit | s | objective | lower bound | gap % | districts connected | territories split "
        "| connected by |"
    )
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    for name, source, options in CASES:
        if not any(fnmatch.fnmatch(name, g) for g in globs):
            continue
        folder = holdout.build_case(by_name[source], root)
        row = run(name, folder, options, args.time_limit)
        if args.json is not None:
            with args.json.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
        if row["exit"] != 0:
            print(f"| {name} | {row['exit']} | {row['seconds']:.1f} | {row.get('message', '')} | | | | | |")
        else:
            print(
                f"| {name} | 0 | {row['seconds']:.1f} | {row['objective']:,.1f} | "
                f"{row['lower_bound']:,.1f} | {row['gap_pct']:.2f} | "
                f"{row['districts_connected']} of {row['districts']} | {row['territories_split']} | "
                f"{row['connected_by']} |"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
