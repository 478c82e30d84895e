"""The offline map in a real headless Chromium: it initialises, draws every account, switches views,
and runs no script smuggled in through account or rep names.

All browser runs of the module start together (one fixture) to keep the suite fast.
"""

from __future__ import annotations

import html
import os
import subprocess
from pathlib import Path

import pytest
from map_fixtures import (
    ACCOUNTS,
    CHROMIUM,
    HOSTILE,
    HOSTILE_REP,
    REPS,
    area_plan,
    chromium_command,
    sample_plan,
    status_attributes,
)

from territory_planner.render.map import write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_S = 60


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Dumped DOMs of several views of the sample and area maps, plus a screenshot."""
    root = tmp_path_factory.mktemp("browser")
    sample = write_map(sample_plan(root / "sample"), offline=True).resolve()
    area = write_map(area_plan(root / "area"), offline=True).resolve()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n", encoding="utf-8")
    shot = ARTIFACTS / "map_sample.png"
    shot.unlink(missing_ok=True)
    jobs = {
        "after": sample.as_uri() + "#probe=A3&view=after",
        "before": sample.as_uri() + "#probe=A3&view=before",
        "hostile": sample.as_uri() + "#probe=A8&popup=1",
        "area": area.as_uri() + "#probe=U3&view=before",
        "shot": sample.as_uri(),
    }
    # the online map with every host unreachable: Leaflet cannot load from its CDN
    online = write_map(sample_plan(root / "online"), offline=False).resolve()
    jobs["no_network"] = online.as_uri()
    procs = {}
    for name, url in jobs.items():
        cmd = chromium_command(url, root / f"profile-{name}", screenshot=shot if name == "shot" else None)
        if name == "no_network":
            cmd.insert(-1, "--host-resolver-rules=MAP * ~NOTFOUND")
        procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = {}
    for name, proc in procs.items():
        stdout, _ = proc.communicate(timeout=TIMEOUT_S)
        out[name] = stdout
    out["shot_path"] = str(shot)
    return out


def test_map_initialises_with_one_layer_per_rep(runs: dict[str, str]) -> None:
    status = status_attributes(runs["after"])
    assert status["ready"] == "1"
    assert status["drawn"] == "1"
    assert status["view"] == "after"
    assert int(status["layers"]) == len(REPS)
    assert int(status["legend-rows"]) == len(REPS)
    assert int(status["homes"]) == len(REPS)


def test_every_account_is_drawn_and_moved_lines_exist(runs: dict[str, str]) -> None:
    status = status_attributes(runs["after"])
    assert int(status["markers"]) + int(status["polygons"]) == len(ACCOUNTS)
    assert int(status["markers"]) == len(ACCOUNTS)
    assert int(status["moved-lines"]) == sum(1 for a in ACCOUNTS if a[3])


def test_legend_lists_every_rep(runs: dict[str, str]) -> None:
    for rep_id, *_ in REPS:
        assert f'data-rep="{rep_id}"' in runs["after"]


def test_offline_map_makes_no_network_request(runs: dict[str, str]) -> None:
    assert status_attributes(runs["after"])["resources"] == ""


def test_before_after_switch_recolours_and_regroups_a_moved_account(runs: dict[str, str]) -> None:
    after = status_attributes(runs["after"])
    before = status_attributes(runs["before"])
    assert before["view"] == "before"
    assert 'class="tp-view-before"' in runs["before"]
    # A3 is proposed for R1 and currently with R2.
    assert after["probe-layer"] == "R1"
    assert before["probe-layer"] == "R2"
    assert after["probe-fill"] != before["probe-fill"]
    # What is on screen: the canvas pixel at A3's centre has the fill colour of its owner in each view.
    for status in (after, before):
        r, g, b, alpha = (int(v) for v in status["probe-pixel"].split(","))
        assert alpha > 0, "nothing drawn at the probe"
        expected = hex_to_rgb(status["probe-fill"])
        assert max(abs(x - y) for x, y in zip((r, g, b), expected, strict=True)) <= 8
    assert after["probe-pixel"] != before["probe-pixel"]


def test_hostile_names_show_as_text_and_run_nothing(runs: dict[str, str]) -> None:
    dom = runs["hostile"]
    assert status_attributes(dom)["ready"] == "1"
    assert "data-pwned" not in dom
    # The popup of the hostile account is open and shows its name as text.
    assert 'class="tp-card-title">' + html.escape(HOSTILE, quote=False) in dom
    # The rep name is text in the layer control and the legend, never an element.
    assert "<b onmouseover" not in dom
    assert html.escape(HOSTILE_REP, quote=False) in dom
    assert "<img src" not in dom.replace(html.escape(HOSTILE, quote=False), "")


def test_area_plan_draws_polygons_and_switches(runs: dict[str, str]) -> None:
    status = status_attributes(runs["area"])
    assert status["ready"] == "1"
    assert int(status["polygons"]) == 6
    assert int(status["markers"]) == 0
    assert int(status["layers"]) == 2
    assert status["view"] == "before"
    assert status["probe-layer"] == "R1"  # U3 is currently R1's, proposed for R2


def test_screenshot_is_saved(runs: dict[str, str]) -> None:
    shot = Path(runs["shot_path"])
    assert shot.is_file()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank 1400x900 page compresses to a few kB


def test_online_map_without_network_says_so_and_how_to_draw_it_offline(runs: dict[str, str]) -> None:
    dom = runs["no_network"]
    assert status_attributes(dom).get("error") == "leaflet"
    note = dom[dom.index('<div id="tp-noleaflet"') :].split("</div>")[0]
    assert "hidden" not in note.split(">")[0]
    assert "--offline" in note
    assert 'data-rep="R1"' in dom  # the summary panel is still there
    offline = runs["after"]
    assert status_attributes(offline).get("error") is None
    assert 'id="tp-noleaflet" hidden' in offline
