"""Hand-drawn plan folders for the map tests (no solver involved).

The sample plan, three reps and nine accounts (lat up, lon right)::

    41.2 |              A7(R3)   A8(R3, hostile name)
    41.0 |                 [R3 home]
    40.2 | A1(R1)  A2(R1)              A4(R2)  A5(R2)
    40.0 | [R1 home]                   [R2 home]
    39.8 |     A3(R1 <- R2, "balance")         A6(R2)   A9(R2, no current rep)
         +---------------------------------------------------------------
          -75.0   -74.8  -74.6  -74.4  -74.2  -74.0  -73.8

A3 is the only moved account: proposed R1, currently R2. A9 is new (no current rep). R3's name and A8's
name are hostile HTML; R3's home was chosen by the planner.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">'
HOSTILE_REP = "<b onmouseover=alert(1)>Eve</b>"

ACCOUNTS = [
    # account_id, rep_id, current_rep, moved, reason, name, lat, lon, potential, workload
    ("A1", "R1", "R1", False, "", "Acme Corp", 40.2, -75.0, 100_000, 10),
    ("A2", "R1", "R1", False, "", "Beta & Sons", 40.2, -74.8, 50_000, 5),
    ("A3", "R1", "R2", True, "balance", "Gamma Ltd", 39.8, -74.8, 80_000, 8),
    ("A4", "R2", "R2", False, "", "Delta", 40.2, -74.2, 120_000, 12),
    ("A5", "R2", "R2", False, "", "Echo", 40.2, -74.0, 30_000, 3),
    ("A6", "R2", "R2", False, "", "Foxtrot", 39.8, -74.0, 60_000, 6),
    ("A7", "R3", "R3", False, "", "Golf", 41.2, -74.6, 90_000, 9),
    ("A8", "R3", "R3", False, "", HOSTILE, 41.2, -74.4, 70_000, 7),
    ("A9", "R2", "", False, "", "India", 39.8, -73.8, 10_000, 1),
]
REPS = [
    # rep_id, name, home_lat, home_lon, home_chosen
    ("R1", "Alice", 40.0, -75.0, False),
    ("R2", "Bob", 40.0, -74.2, False),
    ("R3", HOSTILE_REP, 41.0, -74.5, True),
]


def assignments_frame() -> pd.DataFrame:
    rows = [
        {
            "account_id": a,
            "rep_id": r,
            "current_rep": c,
            "moved": m,
            "distance_km": 12.5,
            "potential": p,
            "workload": w,
            "reason": why,
            "name": n,
            "lat": lat,
            "lon": lon,
            "segment": "SMB" if a != "A2" else "<i>ent</i>",
        }
        for a, r, c, m, why, n, lat, lon, p, w in ACCOUNTS
    ]
    return pd.DataFrame(rows)


def territories_frame(assignments: pd.DataFrame) -> pd.DataFrame:
    rows = []
    total_p = assignments["potential"].sum()
    total_w = assignments["workload"].sum()
    for rep_id, name, hlat, hlon, chosen in REPS:
        mine = assignments[assignments["rep_id"] == rep_id]
        p_t, w_t = total_p / len(REPS), total_w / len(REPS)
        rows.append(
            {
                "rep_id": rep_id,
                "name": name,
                "accounts": len(mine),
                "potential": mine["potential"].sum(),
                "workload": mine["workload"].sum(),
                "potential_target": p_t,
                "workload_target": w_t,
                "potential_dev_pct": 100 * (mine["potential"].sum() - p_t) / p_t,
                "workload_dev_pct": 100 * (mine["workload"].sum() - w_t) / w_t,
                "travel_km": 100.0,
                "moved_in": int(((assignments["rep_id"] == rep_id) & assignments["moved"]).sum()),
                "moved_out": int(((assignments["current_rep"] == rep_id) & assignments["moved"]).sum()),
                "capacity": 1.0,
                "region": "East",
                "home_lat": hlat,
                "home_lon": hlon,
                "home_chosen": chosen,
            }
        )
    return pd.DataFrame(rows)


def summary_dict(n_accounts: int, n_reps: int, n_moved: int) -> dict[str, Any]:
    return {
        "status": "optimal",
        "proven_optimal": True,
        "objective": 1234.5,
        "lower_bound": 1230.0,
        "gap": 0.0036,
        "solve_seconds": 0.4,
        "solver": "highs",
        "accounts": n_accounts,
        "reps": n_reps,
        "max_abs_dev_pct": {"potential": 4.2, "workload": 3.1},
        "moved_accounts": n_moved,
        "moved_potential_share": 0.129,
        "config": {"tolerance": 0.05},
        "inputs_sha256": "0" * 64,
        "version": "0.1.0",
    }


def write_plan(
    folder: Path,
    assignments: pd.DataFrame,
    territories: pd.DataFrame,
    summary: dict[str, Any] | None = None,
    units: dict[str, Any] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    assignments.to_csv(folder / "assignments.csv", index=False)
    territories.to_csv(folder / "territories.csv", index=False)
    if summary is None:
        summary = summary_dict(len(assignments), len(territories), int(assignments["moved"].sum()))
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    if units is not None:
        (folder / "units.geojson").write_text(json.dumps(units), encoding="utf-8")
    return folder


def sample_plan(folder: Path) -> Path:
    a = assignments_frame()
    return write_plan(folder, a, territories_frame(a))


def editable_plan(folder: Path) -> Path:
    """The sample plan with A7 locked to R3 and a family F1 = {A4, A5} (both with R2)."""
    a = assignments_frame()
    a["locked_rep"] = ["R3" if acc == "A7" else "" for acc in a["account_id"]]
    a["parent_id"] = ["F1" if acc in ("A4", "A5") else "" for acc in a["account_id"]]
    return write_plan(folder, a, territories_frame(a))


def budget_plan(folder: Path, share: float = 0.2, departed: bool = False) -> Path:
    """The editable plan solved with ``--max-moved-share`` ``share``: A3 (80,000 of 610,000) moves, 13.1%.
    ``departed``: A9 (10,000) is today R9's, a rep who left, and moves to R2 (not counted in the budget)."""
    a = assignments_frame()
    if departed:
        a.loc[a["account_id"] == "A9", ["current_rep", "moved", "reason"]] = ["R9", True, "rep left"]
    a["locked_rep"] = ["R3" if acc == "A7" else "" for acc in a["account_id"]]
    a["parent_id"] = ["F1" if acc in ("A4", "A5") else "" for acc in a["account_id"]]
    summary = summary_dict(len(a), len(REPS), int(a["moved"].sum()))
    summary["config"] = {"tolerance": 0.05, "max_moved_share": share}
    return write_plan(folder, a, territories_frame(a), summary)


def segment_plan(folder: Path, *, recorded: bool = True) -> Path:
    """The editable plan with segments: every account "SMB" except A2 (a hostile "<i>ent</i>") and A5 ("ent",
    in family F1 with A4). R1 serves every segment (empty), R2 "SMB;<i>ent</i>;ent", R3 only "smb".
    ``recorded=False``: territories.csv has no ``segments`` column (a plan folder written before it)."""
    a = assignments_frame()
    a["locked_rep"] = ["R3" if acc == "A7" else "" for acc in a["account_id"]]
    a["parent_id"] = ["F1" if acc in ("A4", "A5") else "" for acc in a["account_id"]]
    a.loc[a["account_id"] == "A5", "segment"] = "ent"
    t = territories_frame(a)
    if recorded:
        t["segments"] = ["", "SMB;<i>ent</i>;ent", "smb"]
    return write_plan(folder, a, t)


def three_measure_plan(folder: Path) -> Path:
    """The sample plan balancing a third measure, ``revenue`` (each account's potential / 10)."""
    a = assignments_frame()
    a["revenue"] = a["potential"] / 10
    t = territories_frame(a)
    t["revenue"] = [a.loc[a["rep_id"] == r, "revenue"].sum() for r in t["rep_id"]]
    t["revenue_target"] = a["revenue"].sum() / len(t)
    t["revenue_dev_pct"] = 100 * (t["revenue"] - t["revenue_target"]) / t["revenue_target"]
    summary = summary_dict(len(a), len(t), int(a["moved"].sum()))
    summary["config"] = {"balance": ["potential", "workload", "revenue"], "tolerance": {"revenue": 0.1}}
    return write_plan(folder, a, t, summary)


def potential_only_plan(folder: Path, *, district_band: float | None = None) -> Path:
    """The sample plan balancing potential only, at +-10% (``balance = ["potential"]``): workload has no
    band. R1 is +13.1% on both measures (230k and 23 against 203,333 and 20.33). ``district_band``: every
    rep in district D1, with a district band for every measure (``"*"``)."""
    a = assignments_frame()
    t = territories_frame(a)
    summary = summary_dict(len(a), len(t), int(a["moved"].sum()))
    summary["config"] = {"balance": ["potential"], "tolerance": {"potential": 0.1}}
    summary["max_abs_dev_pct"] = {"potential": 13.1}
    if district_band is not None:
        t["district"] = ["D1", "D1", "D2"]
        summary["hierarchy"] = {"district": {"tolerance": {"*": district_band}}}
    return write_plan(folder, a, t, summary)


def millions_plan(folder: Path) -> Path:
    """The sample plan in millions: R1 9.00M (A1 5M, A2 2.5M, A3 1.5M), R2 8.49M (A4 5M, A5 2M, A6 1.49M,
    A9 0), R3 4.50M (A7 4M, A8 0.5M); targets 7.33M. Short amounts read 9M beside 8.49M."""
    a = assignments_frame()
    millions = {"A1": 5, "A2": 2.5, "A3": 1.5, "A4": 5, "A5": 2, "A6": 1.49, "A7": 4, "A8": 0.5, "A9": 0}
    a["potential"] = [millions[acc] * 1e6 for acc in a["account_id"]]
    return write_plan(folder, a, territories_frame(a))


def square(lon: float, lat: float, size: float = 0.2) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def area_plan(folder: Path, *, island: bool = False) -> Path:
    """A 3x2 grid of square units::

    lat 40.2 | U4(R2) U5(R2) U6(R2)
    lat 40.0 | U1(R1) U2(R1) U3(R2 <- R1, "compactness")
               -75.0  -74.8  -74.6

    With ``island``, U7 (R1), a square of 0.005 degrees (about 500 m) off the grid's east side at lat
    40.1, lon -74.0: a part of R1's outline a few pixels wide at the opening zoom.
    """
    cells = [
        ("U1", "R1", "R1", 40.0, -75.0),
        ("U2", "R1", "R1", 40.0, -74.8),
        ("U3", "R2", "R1", 40.0, -74.6),
        ("U4", "R2", "R2", 40.2, -75.0),
        ("U5", "R2", "R2", 40.2, -74.8),
        ("U6", "R2", "R2", 40.2, -74.6),
    ]
    if island:
        cells.append(("U7", "R1", "R1", 40.1, -74.0))
    a = pd.DataFrame(
        {
            "account_id": [c[0] for c in cells],
            "rep_id": [c[1] for c in cells],
            "current_rep": [c[2] for c in cells],
            "moved": [c[1] != c[2] for c in cells],
            "distance_km": 5.0,
            "potential": 1000.0,
            "workload": 1.0,
            "reason": ["compactness" if c[1] != c[2] else "" for c in cells],
            "name": [f"ZIP {c[0]}" for c in cells],
            "lat": [c[3] + 0.1 for c in cells],
            "lon": [c[4] + 0.1 for c in cells],
        }
    )
    t = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["North", "South"],
            "accounts": [2, 4],
            "potential": [2000.0, 4000.0],
            "workload": [2.0, 4.0],
            "potential_target": [3000.0, 3000.0],
            "workload_target": [3.0, 3.0],
            "potential_dev_pct": [-33.3, 33.3],
            "workload_dev_pct": [-33.3, 33.3],
            "travel_km": [10.0, 20.0],
            "moved_in": [0, 1],
            "moved_out": [1, 0],
            "home_lat": [40.1, 40.3],
            "home_lon": [-74.9, -74.7],
            "home_chosen": [False, True],
        }
    )
    units = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"account_id": c[0]},
                "geometry": square(c[4], c[3], 0.005 if c[0] == "U7" else 0.2),
            }
            for c in cells
        ],
    }
    return write_plan(folder, a, t, units=units)


# --- headless Chromium -------------------------------------------------------------------------------

# the browser the tests drive: $CHROMIUM, else chromium (or chromium-browser) on PATH, else Debian's path;
# the browser tests skip when it is not there
CHROMIUM = (
    os.environ.get("CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "/usr/bin/chromium"
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def chromium_command(
    url: str, profile: Path, *, screenshot: Path | None = None, budget_ms: int = 5000
) -> list[str]:
    """Argument list for one headless run: ``--dump-dom`` unless a screenshot path is given."""
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}"]
    if screenshot is not None:
        cmd += ["--window-size=1400,900", f"--screenshot={screenshot}"]
    else:
        cmd += ["--dump-dom"]
    return [*cmd, url]


def status_attributes(dom: str) -> dict[str, str]:
    """The ``data-*`` attributes of ``<div id="tp-status">`` in a dumped DOM."""
    import re

    match = re.search(r'<div id="tp-status"([^>]*)>', dom)
    if match is None:
        return {}
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1)))


@contextmanager
def playwright_chromium() -> Iterator[Any]:
    """One headless Chromium driven by Playwright (a module's browser fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def open_map(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    """A fresh context (empty local storage) at 1400x900 with ``url`` drawn: (context, page, the page's
    uncaught errors, for the test to check at its end)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#tp-status[data-drawn='1']", state="attached")
    return context, page, errors


@contextmanager
def checked_map(browser: Any, url: str) -> Iterator[Any]:
    """``open_map``'s page, its context closed at the end, which checks that the page raised no error."""
    context, page, errors = open_map(browser, url)
    try:
        yield page
    finally:
        context.close()
    assert not errors
