"""Map size and headless-Chromium render time for synthetic plans (a benchmark, not a test).

    python benchmarks/bench_map.py [--keep DIR]

Synthesises plan folders (accounts clustered around US metro areas, each given to the nearest rep home,
8% of them moved from another rep), writes map.html (online and --offline) and opens the offline map in
headless Chromium. "render" is the wall time of the Chromium process from launch until it has run the
map's script and drawn the canvas (the ``tp-status`` element reports ``drawn``); "chromium idle" is the
same for an empty page, i.e. the browser's own start-up and shutdown. Targets: 2,000 accounts <= 2 MB,
33,000 accounts <= 15 MB, render <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from map_fixtures import CHROMIUM, chromium_command, status_attributes  # noqa: E402

from territory_planner.render.map import write_map  # noqa: E402

CASES = [(2_000, 20), (33_000, 100)]
REASONS = ["balance", "compactness", "family", "segment"]


def synthesise(folder: Path, n_accounts: int, n_reps: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    metros = np.column_stack([rng.uniform(27, 48, 60), rng.uniform(-122, -70, 60)])
    weight = rng.pareto(1.2, len(metros)) + 0.2
    city = rng.choice(len(metros), size=n_accounts, p=weight / weight.sum())
    lat = metros[city, 0] + rng.normal(0, 0.35, n_accounts)
    lon = metros[city, 1] + rng.normal(0, 0.45, n_accounts)
    homes = np.column_stack([lat, lon])[rng.choice(n_accounts, n_reps, replace=False)]
    d2 = (lat[:, None] - homes[None, :, 0]) ** 2 + (lon[:, None] - homes[None, :, 1]) ** 2
    rep = d2.argmin(axis=1)
    moved = rng.random(n_accounts) < 0.08
    second = np.argsort(d2, axis=1)[:, 1]
    current = np.where(moved, second, rep)
    rep_ids = np.array([f"REP{j:03d}" for j in range(n_reps)])
    potential = np.round(rng.lognormal(11, 1.0, n_accounts), 2)
    workload = np.round(rng.uniform(2, 40, n_accounts), 1)
    dist = np.round(np.sqrt(d2[np.arange(n_accounts), rep]) * 90, 1)
    a = pd.DataFrame(
        {
            "account_id": [f"ACC{i:07d}" for i in range(n_accounts)],
            "rep_id": rep_ids[rep],
            "current_rep": rep_ids[current],
            "moved": moved,
            "distance_km": dist,
            "potential": potential,
            "workload": workload,
            "reason": np.where(moved, rng.choice(REASONS, n_accounts), ""),
            "name": [f"Company {i} Holdings" for i in range(n_accounts)],
            "lat": lat.round(6),
            "lon": lon.round(6),
            "segment": rng.choice(["SMB", "MidMarket", "Enterprise"], n_accounts),
        }
    )
    pot_t, wl_t = potential.sum() / n_reps, workload.sum() / n_reps
    rows = []
    for j, rep_id in enumerate(rep_ids):
        mine = rep == j
        rows.append(
            {
                "rep_id": rep_id,
                "name": f"Rep {j}",
                "accounts": int(mine.sum()),
                "potential": potential[mine].sum(),
                "workload": workload[mine].sum(),
                "potential_target": pot_t,
                "workload_target": wl_t,
                "potential_dev_pct": 100 * (potential[mine].sum() - pot_t) / pot_t,
                "workload_dev_pct": 100 * (workload[mine].sum() - wl_t) / wl_t,
                "travel_km": float((workload * dist)[mine].sum()),
                "moved_in": int((mine & moved).sum()),
                "moved_out": int(((current == j) & moved).sum()),
                "capacity": 1.0,
                "region": "West" if homes[j, 1] < -98 else "East",
                "home_lat": homes[j, 0],
                "home_lon": homes[j, 1],
                "home_chosen": False,
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    a.to_csv(folder / "assignments.csv", index=False)
    pd.DataFrame(rows).to_csv(folder / "territories.csv", index=False)
    summary = {
        "status": "feasible",
        "proven_optimal": False,
        "objective": 1.0,
        "lower_bound": 0.99,
        "gap": 0.01,
        "solver": "highs",
        "accounts": n_accounts,
        "reps": n_reps,
        "moved_accounts": int(moved.sum()),
        "moved_potential_share": float(potential[moved].sum() / potential.sum()),
        "config": {"tolerance": 0.05},
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def add_area_units(folder: Path) -> Path:
    """Give every account a Voronoi cell with wiggly, densified borders (ZIP-like polygons)."""
    import shapely
    from shapely.geometry import mapping

    a = pd.read_csv(folder / "assignments.csv")
    pts = shapely.points(a["lon"].to_numpy(), a["lat"].to_numpy())
    box = shapely.box(a["lon"].min() - 0.5, a["lat"].min() - 0.5, a["lon"].max() + 0.5, a["lat"].max() + 0.5)
    cells = shapely.intersection(
        np.array(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box))), box
    )
    cell_of_point = shapely.STRtree(cells).query(pts, predicate="within")
    order = np.full(len(pts), -1)
    order[cell_of_point[0]] = cell_of_point[1]
    cells = shapely.segmentize(cells[order], 0.01)

    def wiggle(c: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [c[:, 0] + 0.004 * np.sin(c[:, 1] * 97.0), c[:, 1] + 0.004 * np.sin(c[:, 0] * 89.0)]
        )

    cells = shapely.transform(cells, wiggle)
    features = [
        {"type": "Feature", "properties": {"account_id": aid}, "geometry": mapping(g)}
        for aid, g in zip(a["account_id"], cells, strict=True)
    ]
    (folder / "units.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return folder


def render_seconds(html: Path, profile: Path) -> tuple[float, dict[str, str]]:
    cmd = chromium_command(html.resolve().as_uri(), profile, budget_ms=30_000)
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False).stdout
    return time.perf_counter() - start, status_attributes(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="keep the plan folders and maps here")
    parser.add_argument("--areas", action="store_true", help="also a 33,000-unit area plan (slower)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-map-"))
    have_browser = os.access(CHROMIUM, os.X_OK)
    try:
        idle = None
        if have_browser:
            blank = work / "blank.html"
            blank.parent.mkdir(parents=True, exist_ok=True)
            blank.write_text("<!DOCTYPE html><html><body>blank</body></html>", encoding="utf-8")
            idle, _ = render_seconds(blank, work / "profile-blank")
        header = (
            "| accounts | reps | map.html (online) | map.html (--offline) | write_map | "
            "render in Chromium | chromium idle | drawn |"
        )
        print(header)
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        cases = [(n, r, False) for n, r in CASES] + ([(33_000, 100, True)] if args.areas else [])
        for n_accounts, n_reps, areas in cases:
            plan = synthesise(work / f"plan-{n_accounts}{'-areas' if areas else ''}", n_accounts, n_reps)
            if areas:
                add_area_units(plan)
            t0 = time.perf_counter()
            online = write_map(plan, plan / "map.html")
            t_write = time.perf_counter() - t0
            offline = write_map(plan, plan / "map-offline.html", offline=True)
            render, status = (
                (None, {}) if not have_browser else render_seconds(offline, work / f"p{n_accounts}")
            )
            drawn = (
                f"{status.get('markers', '?')} markers, {status.get('polygons', '?')} polygons, "
                f"{status.get('layers', '?')} layers"
                if status.get("drawn") == "1"
                else "NOT DRAWN"
            )
            print(
                f"| {n_accounts:,}{' areas' if areas else ''} | {n_reps} "
                f"| {online.stat().st_size / 1e6:.2f} MB "
                f"| {offline.stat().st_size / 1e6:.2f} MB | {t_write:.2f} s "
                f"| {'n/a' if render is None else f'{render:.2f} s'} "
                f"| {'n/a' if idle is None else f'{idle:.2f} s'} | {drawn} |"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
