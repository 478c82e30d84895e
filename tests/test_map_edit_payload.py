"""What the map embeds for its Edit mode and for maps without tiles (no browser needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from map_fixtures import area_plan, editable_plan, sample_plan, three_measure_plan

from territory_planner.render.boundaries import boundary_lines
from territory_planner.render.edit_payload import edit_data, plan_hash
from territory_planner.render.map import render_map_html
from territory_planner.render.plan_folder import read_plan_folder


def embedded(html: str) -> dict:
    start = html.index('<script type="application/json" id="tp-data">') + len(
        '<script type="application/json" id="tp-data">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def decode(line: list[int], grid: float) -> np.ndarray:
    xy = np.cumsum(np.asarray(line).reshape(-1, 2), axis=0) * grid
    return xy


def test_locks_families_targets_and_bands(tmp_path: Path) -> None:
    plan = read_plan_folder(editable_plan(tmp_path / "p"))
    data = edit_data(plan)
    assert data["lock"] == {"row": [6], "rep": [2], "id": ["R3"]}  # A7 -> R3
    assert data["fam"] == [["F1", [3, 4]]]  # A4, A5
    pot = data["measures"][0]
    assert pot["key"] == "potential"
    assert pot["target"] == pytest.approx([610_000 / 3] * 3)
    assert pot["tol"] == 5.0  # config tolerance 0.05
    assert pot["balanced"] is True


def test_the_hash_changes_with_any_assignment(tmp_path: Path) -> None:
    one = read_plan_folder(sample_plan(tmp_path / "a"))
    two = read_plan_folder(sample_plan(tmp_path / "b"))
    assert plan_hash(one) == plan_hash(two)
    two.assignments.loc[0, "rep_id"] = "R2"
    assert plan_hash(one) != plan_hash(two)


def test_offline_maps_embed_the_state_lines_near_the_plan(tmp_path: Path) -> None:
    plan = read_plan_folder(sample_plan(tmp_path / "p"))
    offline = embedded(render_map_html(plan, offline=True))
    online = embedded(render_map_html(plan, offline=False))
    assert online["base"] is None  # tiles show the borders
    base = offline["base"]
    assert base["states"]
    assert "counties" not in base  # county lines only for area plans
    pts = np.vstack([decode(line, base["grid"]) for line in base["states"]])
    # every line comes within the padding of the plan (New Jersey / Pennsylvania, lon -75..-73.8)
    assert pts[:, 0].min() < -75 < pts[:, 0].max()
    assert pts[:, 1].min() < 40 < pts[:, 1].max()
    area = embedded(render_map_html(read_plan_folder(area_plan(tmp_path / "a")), offline=True))
    assert area["base"]["counties"]


def test_no_us_line_is_embedded_outside_the_united_states() -> None:
    base = boundary_lines([[48.0, 1.0], [49.0, 3.0]], counties=True)  # Paris
    assert base is not None
    assert "states" not in base
    assert "counties" not in base
    assert base["countries"]  # the world layer: France's borders and coast


def test_the_packaged_layer_is_small_and_in_the_united_states() -> None:
    from importlib import resources

    asset = resources.files("territory_planner.render").joinpath("assets", "us_boundaries.json")
    assert len(asset.read_bytes()) < 300_000
    data = json.loads(asset.read_text(encoding="utf-8"))
    pts = np.vstack([decode(line, data["grid"]) for line in data["states"]])
    assert pts[:, 0].min() >= -180  # Alaska's Aleutians reach 180
    assert pts[:, 0].max() <= 180
    assert pts[:, 1].min() > -15  # American Samoa
    assert pts[:, 1].max() < 72  # Alaska
    assert "ISC" in data["source"]


def test_units_that_almost_tile_are_cleaned_so_neighbours_share_borders() -> None:
    """Two squares side by side; the left one has an extra vertex on the shared edge, so the pair is not
    a clean coverage (edges do not match vertex for vertex) until it is cleaned."""
    import shapely

    from territory_planner.render.payload import simplify_units

    left = shapely.Polygon([(0, 0), (1, 0), (1, 0.5), (1, 1), (0, 1)])
    right = shapely.box(1, 0, 2, 1)
    assert not shapely.coverage_is_valid(np.array([left, right], dtype=object))
    simplified, shared = simplify_units([left, right])
    if not hasattr(shapely, "coverage_clean"):
        pytest.skip("GEOS without coverage cleaning")
    assert shared
    assert shapely.coverage_is_valid(np.array(simplified, dtype=object))
    assert shapely.area(shapely.union_all(simplified)) == pytest.approx(2.0)


def test_a_third_balanced_measure_comes_with_its_values(tmp_path: Path) -> None:
    data = edit_data(read_plan_folder(three_measure_plan(tmp_path / "p")))
    revenue = data["measures"][2]
    assert revenue["key"] == "revenue"
    assert revenue["values"][:3] == [10_000, 5_000, 8_000]  # A1-A3: potential / 10
    assert revenue["target"] == pytest.approx([61_000 / 3] * 3)
    assert revenue["tol"] == 10.0
    assert revenue["balanced"] is True


def _moved_plan(folder: Path, lat: list[float], lon: list[float], current: list[str] | None = None) -> Path:
    """The sample plan with its nine accounts (and the reps' homes) put elsewhere."""
    from map_fixtures import assignments_frame, territories_frame, write_plan

    a = assignments_frame()
    a["lat"], a["lon"] = lat, lon
    if current is not None:
        a["current_rep"] = current
        a["moved"] = a["current_rep"] != a["rep_id"]
    t = territories_frame(a)
    t["home_lat"], t["home_lon"] = lat[:3], lon[:3]
    return write_plan(folder, a, t)


EUROPE = (
    [48.9, 52.5, 41.9, 40.4, 59.3, 55.8, 52.2, 51.5, 38.7],
    [2.3, 13.4, 12.5, -3.7, 18.1, 37.6, 21.0, -0.1, -9.1],
)


def test_an_offline_map_of_europe_draws_no_us_outlines(tmp_path: Path) -> None:
    """QA3a: the offline map of a European plan drew the United States as its only background."""
    lat, lon = EUROPE
    data = embedded(render_map_html(read_plan_folder(_moved_plan(tmp_path / "eu", lat, lon)), offline=True))
    assert "states" not in data["base"]
    pts = np.vstack([decode(line, data["base"]["grid"]) for line in data["base"]["countries"]])
    assert pts[:, 0].min() > -30  # Europe's country lines only (the westernmost account is Lisbon, -9.1)


def test_offline_lines_follow_the_accounts_not_their_bounding_box(tmp_path: Path) -> None:
    """Eight European accounts and one in Honolulu: the bounding box covers the whole United States, but
    only Hawaii's lines are near an account."""
    lat, lon = list(EUROPE[0]), list(EUROPE[1])
    lat[8], lon[8] = 21.3, -157.9  # A9, not a rep's home
    data = embedded(render_map_html(read_plan_folder(_moved_plan(tmp_path / "p", lat, lon)), offline=True))
    base = data["base"]
    pts = np.vstack([decode(line, base["grid"]) for line in base["states"]])
    assert len(pts)
    assert pts[:, 0].max() < -150  # Hawaii only: no line of the lower 48 (east of -125) or Alaska's mainland
    assert pts[:, 1].max() < 25


def test_the_grey_layer_is_named_for_what_it_holds(tmp_path: Path) -> None:
    """QA3a: the layer control listed "No current rep / former rep" for a plan where no account has a current
    rep (so there is no current alignment, and no former rep). Listed only when some account has a current
    rep; named for what the Current view draws grey."""
    import re

    def layer_names(html: str) -> list[str]:
        return re.findall(r'background:#9e9e9e\\"\\u003e\\u003c/span\\u003e([^"]*)"', html)

    lat, lon = EUROPE
    none_current = render_map_html(read_plan_folder(_moved_plan(tmp_path / "n", lat, lon, [""] * 9)))
    assert "former rep" not in none_current.lower()
    assert layer_names(none_current) == []  # nothing listed: there is no current alignment
    assert "no account has a current rep" in none_current
    some = render_map_html(read_plan_folder(sample_plan(tmp_path / "s")))  # A9 alone has no current rep
    assert layer_names(some) == ["No current rep"]
    assert "no account has a current rep" not in some
    left = ["R1", "R1", "R2", "R2", "R2", "R2", "R3", "R3", "R9"]  # R9 left the roster
    former = render_map_html(read_plan_folder(_moved_plan(tmp_path / "f", *EUROPE, left)))
    assert layer_names(former) == ["Former rep"]
