"""The world layer of offline maps: country borders and coasts (world-atlas, Natural Earth 1:50m) near the
plan, beside the US layer's state lines, never drawn twice over the United States nor across the world at
the antimeridian (QA: a plan in Europe, Japan or Brazil had a blank offline background)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from map_fixtures import assignments_frame, sample_plan, territories_frame, write_plan

from territory_planner.render.boundaries import PAD_DEGREES, lines_near
from territory_planner.render.map import render_map_html
from territory_planner.render.plan_folder import read_plan_folder


def embedded(html: str) -> dict:
    tag = '<script type="application/json" id="tp-data">'
    start = html.index(tag) + len(tag)
    return json.loads(html[start : html.index("</script>", start)])


def decode(line: list[int], grid: float) -> np.ndarray:
    return np.cumsum(np.asarray(line).reshape(-1, 2), axis=0) * grid


def points(base: dict, kind: str) -> np.ndarray:
    return np.vstack([decode(line, base["grid"]) for line in base[kind]])


def plan_at(folder: Path, lat: list[float], lon: list[float]) -> Path:
    """The nine-account sample plan, its accounts (and the reps' homes, the first three) moved."""
    a = assignments_frame()
    a["lat"], a["lon"] = lat, lon
    t = territories_frame(a)
    t["home_lat"], t["home_lon"] = lat[:3], lon[:3]
    return write_plan(folder, a, t)


def offline_base(folder: Path) -> dict:
    base: dict = embedded(render_map_html(read_plan_folder(folder), offline=True))["base"]
    return base


EUROPE = (  # Paris, Berlin, Rome, Madrid, Stockholm, Vienna, Warsaw, London, Lisbon
    [48.9, 52.5, 41.9, 40.4, 59.3, 48.2, 52.2, 51.5, 38.7],
    [2.3, 13.4, 12.5, -3.7, 18.1, 16.4, 21.0, -0.1, -9.1],
)
JAPAN = (  # Tokyo, Osaka, Sapporo, Fukuoka, Sendai, Nagoya, Hiroshima, Niigata, Kagoshima
    [35.7, 34.7, 43.1, 33.6, 38.3, 35.2, 34.4, 37.9, 31.6],
    [139.7, 135.5, 141.4, 130.4, 140.9, 136.9, 132.5, 139.0, 130.6],
)


@pytest.fixture(scope="module")
def world() -> dict:
    asset = resources.files("territory_planner.render").joinpath("assets", "world_boundaries.json")
    assert len(asset.read_bytes()) < 500_000
    data: dict = json.loads(asset.read_text(encoding="utf-8"))
    return data


def test_the_world_layer_is_small_sane_and_says_where_it_comes_from(world: dict) -> None:
    assert "world-atlas" in world["source"]
    assert "ISC" in world["source"]
    assert "Natural Earth" in world["source"]
    assert world["grid"] == 0.01
    assert len(world["countries"]) > 1000
    pts = points(world, "countries")
    assert pts[:, 0].min() >= -180
    assert pts[:, 0].max() <= 180
    assert pts[:, 1].min() >= -90
    assert pts[:, 1].max() < 84  # Greenland's north coast
    licence = resources.files("territory_planner.render").joinpath("assets", "world_boundaries.LICENSE")
    assert "Natural Earth" in licence.read_text(encoding="utf-8")


def test_no_world_line_crosses_or_runs_along_the_antimeridian(world: dict) -> None:
    """A stitched ring (Russia, Fiji) crossing 180 would be drawn as a line across the whole world; the
    edges Natural Earth's cut left along 180 and along the South Pole are not borders."""
    for line in world["countries"]:
        xy = decode(line, world["grid"])
        step = np.diff(xy, axis=0)
        assert np.abs(step[:, 0]).max() < 180
        along = (np.abs(xy[:-1, 0]) >= 179.99) & (np.abs(xy[1:, 0]) >= 179.99)
        assert not along.any()
        assert not ((xy[:-1, 1] <= -89.98) & (xy[1:, 1] <= -89.98)).any()


def test_the_world_layer_leaves_the_united_states_to_the_us_layer(world: dict) -> None:
    """No line over Florida, Hawaii or Puerto Rico (US coasts, drawn by the state lines in more detail),
    but Cuba, the Bahamas and Canada are there."""
    pts = points(world, "countries")

    def inside(west: float, south: float, east: float, north: float) -> int:
        x, y = pts[:, 0], pts[:, 1]
        return int(((x > west) & (x < east) & (y > south) & (y < north)).sum())

    assert inside(-82.5, 25.0, -80.0, 30.5) == 0  # Florida
    assert inside(-161.0, 18.5, -154.5, 22.5) == 0  # Hawaii
    assert inside(-67.5, 17.8, -65.5, 18.6) == 0  # Puerto Rico
    assert inside(-85.0, 21.5, -74.0, 23.5) > 0  # Cuba
    assert inside(-80.0, 23.0, -72.0, 27.5) > 0  # the Bahamas
    assert inside(-70.0, 44.0, -60.0, 50.0) > 0  # New Brunswick, Nova Scotia


@pytest.mark.parametrize(("name", "where"), [("europe", EUROPE), ("japan", JAPAN)])
def test_an_offline_map_abroad_draws_the_country_lines_near_it(
    tmp_path: Path, name: str, where: tuple[list[float], list[float]]
) -> None:
    lat, lon = where
    base = offline_base(plan_at(tmp_path / name, lat, lon))
    assert "states" not in base  # no US line near Europe or Japan
    assert "counties" not in base
    pts = points(base, "countries")
    assert len(base["countries"]) > 20
    # near the accounts: within the padding plus the size of a piece (3 degrees), nowhere near the US
    reach = PAD_DEGREES + 3.0 + 0.01
    assert pts[:, 0].min() >= min(lon) - reach
    assert pts[:, 0].max() <= max(lon) + reach
    assert pts[:, 1].min() >= min(lat) - reach
    assert pts[:, 1].max() <= max(lat) + reach
    # and around each account: a coast or border within 4 degrees of every one of them (Madrid's nearest
    # is about 3 degrees away)
    for y, x in zip(lat, lon, strict=True):
        assert (np.hypot(pts[:, 0] - x, pts[:, 1] - y) < 4.0).any(), (name, y, x)


def test_a_us_plan_keeps_its_state_lines_and_gets_no_world_line_over_the_us(tmp_path: Path) -> None:
    """Accounts along the border (Detroit, Buffalo, Seattle, San Diego, El Paso) with Windsor and Tijuana:
    the state lines are there, and the world lines near them are Canada's and Mexico's."""
    lat = [42.33, 42.89, 47.61, 32.72, 31.76, 42.30, 32.52, 45.50, 49.28]
    lon = [-83.05, -78.88, -122.33, -117.16, -106.49, -83.02, -117.04, -73.57, -123.12]
    base = offline_base(plan_at(tmp_path / "us", lat, lon))
    states = points(base, "states")
    assert len(states) > 100
    world = points(base, "countries")
    assert len(world) > 50
    # no world line point in the middle of the US near the accounts: Ohio and Michigan's interior and
    # southern California's coast are the state lines'
    x, y = world[:, 0], world[:, 1]
    assert not ((x > -84.5) & (x < -82.6) & (y > 39.0) & (y < 41.6)).any()  # Ohio, south of Lake Erie
    assert not ((x > -118.5) & (x < -117.3) & (y > 33.0) & (y < 34.0)).any()  # Los Angeles to San Diego


def test_the_demo_like_sample_plan_still_gets_its_state_lines(tmp_path: Path) -> None:
    base = offline_base(sample_plan(tmp_path / "p"))  # New Jersey / Pennsylvania
    assert base["states"]
    assert "countries" not in base  # Canada is over 2 degrees away


def test_lines_a_turn_away_are_moved_beside_a_plan_across_the_antimeridian() -> None:
    """Fiji drawn across 180 (render.wrap: Lakeba at 181.2, not -178.8): its eastern islands' lines come
    back at 180-182, next to it, not at -180 on the far side of the world."""
    fiji = [(178.4, -18.1), (179.4, -16.4), (180.0, -16.8), (181.2, -18.2)]
    boxes = np.array([[x, y, x, y] for x, y in fiji])
    base = lines_near(boxes, counties=False)
    assert base is not None
    pts = points(base, "countries")
    assert pts[:, 0].max() > 180.5  # Lau islands, east of the line, drawn a turn east
    assert pts[:, 0].min() > 170  # nothing at -180
    for line in base["countries"]:
        assert np.abs(np.diff(decode(line, base["grid"])[:, 0])).max() < 180


def test_a_us_plan_across_the_antimeridian_gets_guam_beside_the_aleutians() -> None:
    """The US layer is wrapped too: Guam drawn at -215.2 (render.wrap) gets its coast there."""
    base = lines_near(np.array([[-215.2, 13.4, -215.2, 13.4], [-176.6, 51.9, -176.6, 51.9]]), counties=False)
    assert base is not None
    pts = points(base, "states")
    guam = pts[(pts[:, 0] > -216) & (pts[:, 0] < -214.5)]
    assert len(guam) > 5
    assert (np.abs(guam[:, 1] - 13.4) < 1.0).all()  # Guam and Rota
