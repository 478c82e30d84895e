"""Rep homes in the map in a real headless Chromium: a home's diamond is never wider than the gap to the
nearest other home on screen (QA13 12: eight Albuquerque homes within a few km overlapped one another and
hid the small downtown tracts at the opening zoom)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from map_fixtures import (
    CHROMIUM,
    assignments_frame,
    chromium_command,
    status_attributes,
    territories_frame,
    write_plan,
)

from territory_planner.render.map import write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]


def _dump(root: Path, name: str, close_km: float | None) -> str:
    """The dumped DOM of the sample map, with R2's home ``close_km`` north of R1's when given."""
    a = assignments_frame()
    t = territories_frame(a)
    if close_km is not None:
        r1 = t["rep_id"] == "R1"
        t.loc[t["rep_id"] == "R2", "home_lat"] = float(t.loc[r1, "home_lat"].iloc[0]) + close_km / 111.2
        t.loc[t["rep_id"] == "R2", "home_lon"] = float(t.loc[r1, "home_lon"].iloc[0])
    page = write_map(write_plan(root / name, a, t), offline=True).resolve()
    cmd = chromium_command(page.as_uri(), root / f"profile-{name}")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout


def _diamond_sizes(dom: str) -> list[int]:
    """The width in px of each home diamond's icon in the dumped DOM."""
    icons = re.findall(r'<div class="[^"]*tp-home[^"]*"[^>]*style="([^"]*)"', dom)
    return [int(re.search(r"width: (\d+)px", style).group(1)) for style in icons]  # type: ignore[union-attr]


def test_homes_close_together_get_small_diamonds_and_far_apart_full_ones(tmp_path: Path) -> None:
    far = _dump(tmp_path, "far", None)
    near = _dump(tmp_path, "near", 0.5)  # R1 and R2 half a km apart on a map 150 km wide
    assert status_attributes(far)["homes"] == "3"
    assert status_attributes(near)["homes"] == "3"
    assert status_attributes(far)["home-size"] == "18"
    assert status_attributes(near)["home-size"] == "8"
    assert _diamond_sizes(far) == [18, 18, 18]
    assert _diamond_sizes(near) == [8, 8, 8]


def test_no_home_opens_under_the_maps_controls(tmp_path: Path) -> None:
    """QA27 F2: at 1400x900 a rep's home at the plan's north-east corner opened under the expanded layer
    list. The opening view is fitted again with that side's controls as padding."""
    a = assignments_frame()
    t = territories_frame(a)
    t.loc[t["rep_id"] == "R3", ["home_lat", "home_lon"]] = [41.3, -73.7]  # beyond every account, north-east
    page = write_map(write_plan(tmp_path / "corner", a, t), offline=True).resolve()
    cmd = chromium_command(page.as_uri(), tmp_path / "profile")
    cmd.insert(-1, "--window-size=1400,900")  # the size QA27 saw it at; the layer list is expanded
    status = status_attributes(
        subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
    )
    assert status["homes"] == "3"
    assert status["homes-under-controls"] == "0"


def test_accounts_all_at_one_point_open_at_a_town_s_zoom(tmp_path: Path) -> None:
    """QA61 F6: 200 accounts geocoded to one point with every home there opened the map at the tiles'
    last zoom, an empty canvas with one diamond. The opening view zooms no closer than a town (13)."""
    a = assignments_frame()
    t = territories_frame(a)
    a["lat"], a["lon"] = 40.0, -75.0
    t["home_lat"], t["home_lon"] = 40.0, -75.0
    page = write_map(write_plan(tmp_path / "one", a, t), offline=True).resolve()
    cmd = chromium_command(page.as_uri(), tmp_path / "profile")
    status = status_attributes(
        subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
    )
    assert status["ready"] == "1"
    assert float(status["zoom"]) == 13
    spread_a = assignments_frame()
    far = write_map(write_plan(tmp_path / "far", spread_a, territories_frame(spread_a)), offline=True)
    spread = status_attributes(
        subprocess.run(
            chromium_command(far.resolve().as_uri(), tmp_path / "p2"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    )
    assert float(spread["zoom"]) < 13  # a plan spread over a region opens as before
