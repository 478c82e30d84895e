"""An area holding named accounts only is drawn (QA6 O9: NC cities planned by county, Guilford, Durham and
New Hanover held only named cities, had no feature in units.geojson and showed as white holes inside the
territories, their cities as dots).

Four 0.1-degree areas (lat up, lon right); Z2 holds the named accounts N1 (potential 30, today R2's) and
N2 (10, today R1's) and nothing else::

    Z3: C        Z4: D
    Z1: A1       Z2: N1, N2 (named)

units.geojson gets a feature for Z2 with ``named_accounts`` (no account_id: it is no unit of the plan);
the map draws it hatched, dashed, in the colour of the rep holding most of its named potential (N1's
rep), in the Current view N1's current rep's, and after an edit the new majority's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from map_fixtures import CHROMIUM

from territory_planner import api
from territory_planner.options import build_options
from territory_planner.render.map import write_map
from territory_planner.render.plan_folder import read_plan_folder


def acc(i: str, lat: float, lon: float, potential: float, current: str, named: bool) -> dict[str, Any]:
    return {
        "account_id": i,
        "name": f"City {i}",
        "lat": lat,
        "lon": lon,
        "potential": potential,
        "workload": 1.0,
        "current_rep": current,
        "named": named,
    }


def solved(folder: Path, names: list[str] | None = None) -> Path:
    """The plan above; ``names``: the areas file's ``NAME`` column (Z1..Z4)."""
    boxes = [shapely.box(0.1 * c, 0.1 * r, 0.1 * (c + 1), 0.1 * (r + 1)) for r in range(2) for c in range(2)]
    areas = folder / "areas.geojson"
    columns: dict[str, Any] = {"area_id": ["Z1", "Z2", "Z3", "Z4"]}
    if names is not None:
        columns["NAME"] = names
    gpd.GeoDataFrame(columns, geometry=boxes, crs="EPSG:4326").to_file(areas)
    rows = [
        acc("A1", 0.05, 0.05, 20, "R1", False),
        acc("N1", 0.05, 0.15, 30, "R2", True),
        acc("N2", 0.06, 0.16, 10, "R1", True),
        acc("C", 0.15, 0.05, 20, "R1", False),
        acc("D", 0.15, 0.15, 20, "R2", False),
    ]
    pd.DataFrame(rows).to_csv(folder / "accounts.csv", index=False)
    reps = [{"rep_id": "R1", "lat": 0.05, "lon": 0.05}, {"rep_id": "R2", "lat": 0.15, "lon": 0.15}]
    pd.DataFrame(reps).to_csv(folder / "reps.csv", index=False)
    options = build_options(
        {
            "accounts": folder / "accounts.csv",
            "reps": folder / "reps.csv",
            "areas": areas,
            "balance": "potential",
            "tolerance": 0.5,
            "time_limit": 20,
        }
    )
    return api.plan(options, folder / "plan").out or folder / "plan"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return solved(tmp_path_factory.mktemp("named"))


@pytest.fixture(scope="module")
def county_plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The areas file names its areas (as a county file does): Z2 is "Guilford County"."""
    return solved(
        tmp_path_factory.mktemp("county"), ["Alamance County", " Guilford County ", "", "Durham County"]
    )


def test_units_geojson_holds_the_area_of_named_accounts_only(plan_dir: Path) -> None:
    features = json.loads((plan_dir / "units.geojson").read_text(encoding="utf-8"))["features"]
    props = {f["properties"]["area_id"]: f["properties"] for f in features}
    assert set(props) == {"Z1", "Z2", "Z3", "Z4"}
    assert props["Z2"] == {"area_id": "Z2", "named_accounts": ["N1", "N2"]}
    assert {props[z]["account_id"] for z in ("Z1", "Z3", "Z4")} == {"A1", "C", "D"}
    plan = read_plan_folder(plan_dir)
    assert [(n.area_id, n.accounts) for n in plan.named_areas] == [("Z2", ("N1", "N2"))]
    assert set(plan.units or {}) == {"A1", "C", "D"}


def test_it_carries_the_areas_name_when_the_areas_file_has_one(county_plan_dir: Path) -> None:
    # polish8: the tooltip said "Area 37081", not "Guilford County"
    features = json.loads((county_plan_dir / "units.geojson").read_text(encoding="utf-8"))["features"]
    props = {f["properties"]["area_id"]: f["properties"] for f in features}
    assert props["Z2"] == {"area_id": "Z2", "name": "Guilford County", "named_accounts": ["N1", "N2"]}
    plan = read_plan_folder(county_plan_dir)
    assert [(n.area_id, n.name) for n in plan.named_areas] == [("Z2", "Guilford County")]


def test_an_area_without_a_name_keeps_its_id(plan_dir: Path) -> None:
    assert [(n.area_id, n.name) for n in read_plan_folder(plan_dir).named_areas] == [("Z2", "")]


def test_a_plan_folder_naming_an_unknown_account_in_a_named_area_is_refused(
    plan_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from territory_planner.errors import InputError

    bad = tmp_path / "bad"
    shutil.copytree(plan_dir, bad)
    data = json.loads((bad / "units.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        if "named_accounts" in f["properties"]:
            f["properties"]["named_accounts"] = ["N1", "X9"]
    (bad / "units.geojson").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_plan_folder(bad)
    assert [(p.column, p.value) for p in exc.value.problems] == [("named_accounts", "X9")]


PIXEL = """() => {
  let map = null;
  for (const k in window) if (k.startsWith('map_') && window[k] && window[k].eachLayer) map = window[k];
  const p = map.latLngToContainerPoint([0.05, 0.15]);  // Z2's centre
  const box = map.getContainer().getBoundingClientRect();
  const canvas = document.querySelector('.leaflet-tpUnits-pane canvas');
  const r = canvas.getBoundingClientRect();
  const k = canvas.width / r.width;
  const ctx = canvas.getContext('2d');
  // a few pixels around the centre, off the named accounts' own circles (drawn on another canvas)
  const out = [];
  for (const [dx, dy] of [[-20, -20], [20, -20], [-20, 20], [20, 20], [-12, 0], [12, 0]]) {
    const x = Math.round((box.left + p.x + dx - r.left) * k);
    const y = Math.round((box.top + p.y + dy - r.top) * k);
    out.push(Array.from(ctx.getImageData(x, y, 1, 1).data));
  }
  return out;
}"""


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_the_map_draws_it_in_the_majority_reps_colour(plan_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    page_url = write_map(plan_dir, offline=True).resolve().as_uri()
    rep_of = dict(pd.read_csv(plan_dir / "assignments.csv", dtype=str)[["account_id", "rep_id"]].values)
    other = "R1" if rep_of["N1"] == "R2" else "R2"
    html = (plan_dir / "map.html").read_text(encoding="utf-8")
    assert "hatched area, dashed outline: it holds named accounts only" in html
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page: Any = b.new_page(viewport={"width": 1200, "height": 800})
        page.goto(page_url)
        page.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
        owners = page.evaluate("document.getElementById('tp-status').dataset.namedAreas")
        colours = page.evaluate("JSON.parse(document.getElementById('tp-data').textContent).reps")
        pixels = page.evaluate(PIXEL)
        page.evaluate("window.tpSwitch('before')")
        before = page.evaluate("document.getElementById('tp-status').dataset.namedAreas")
        page.evaluate("window.tpSwitch('after')")
        page.evaluate(f"window.territoryPlanner.assign(['N1'], '{other}')")
        edited = page.evaluate("document.getElementById('tp-status').dataset.namedAreas")
        b.close()
    # N1 (30 of the area's 40) decides: its proposed rep, its current rep R2, then the rep it was given
    assert owners == f"Z2:{rep_of['N1']}"
    assert before == "Z2:R2"
    assert edited == f"Z2:{other}"
    # painted, not a hole: in the owner's colour (stripes) and its light shade between them
    colour = hex_rgb(colours["color"][colours["id"].index(rep_of["N1"])])
    assert all(px[3] > 0 for px in pixels), pixels
    assert any(max(abs(c - e) for c, e in zip(px[:3], colour, strict=True)) <= 12 for px in pixels), pixels


def hover_card(page: Any, lat: float, lon: float) -> str:
    """The tooltip's text with the mouse on (lat, lon)."""
    pt = page.evaluate(
        """([lat, lon]) => {
  let map = null;
  for (const k in window) if (k.startsWith('map_') && window[k] && window[k].eachLayer) map = window[k];
  const p = map.latLngToContainerPoint([lat, lon]);
  const box = map.getContainer().getBoundingClientRect();
  return {x: box.left + p.x, y: box.top + p.y};
}""",
        [lat, lon],
    )
    page.mouse.move(pt["x"] - 3, pt["y"] - 3)
    page.mouse.move(pt["x"], pt["y"])
    page.wait_for_selector(".leaflet-tooltip .tp-card-title")
    text: str = page.inner_text(".leaflet-tooltip")
    return text


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_its_tooltip_names_the_area(plan_dir: Path, county_plan_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        cards = []
        for folder in (county_plan_dir, plan_dir):
            page: Any = b.new_page(viewport={"width": 1200, "height": 800})
            page.goto(write_map(folder, offline=True).resolve().as_uri())
            page.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
            cards.append(hover_card(page, 0.015, 0.185))  # Z2's corner, off N1's and N2's circles
            page.close()
        b.close()
    named, plain = cards
    assert named.splitlines()[0] == "Guilford County: named accounts only"
    assert "Area\tZ2" in named  # the id beside the name
    assert plain.splitlines()[0] == "Area Z2: named accounts only"
