"""QA91 F2: printed, compare.html showed each plan's map as the screen had fitted it, cut to the West of
the US, and the second frame ran off the page: the frames' maps kept their screen view (only a page's own
map was fitted to its printed box). Now the page gives each frame its printed size on beforeprint
(two frames a row within A4 landscape) and each frame's map is fitted to it before the print."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from map_fixtures import CHROMIUM, sample_plan

from territory_planner.compare import compare

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

MM = 96 / 25.4  # CSS px per mm
STATUS = "(() => Object.assign({}, document.getElementById('tp-status').dataset))()"


def test_each_frame_prints_the_whole_plan_within_the_page(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    compare([sample_plan(tmp_path / "a"), sample_plan(tmp_path / "b")], tmp_path / "cmp")
    url = (tmp_path / "cmp" / "compare.html").resolve().as_uri()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1900, "height": 1000})  # a wide screen: wide frames
        page.goto(url)
        frames = [f for f in page.frames if f != page.main_frame]
        assert len(frames) == 2
        for f in frames:
            f.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
        screen = [f.evaluate("[innerWidth, innerHeight]") for f in frames]
        page.pdf(format="A4", landscape=True)
        printed = [f.evaluate(STATUS) for f in frames]
        after = [f.evaluate("[innerWidth, innerHeight]") for f in frames]
        b.close()
    for status in printed:
        assert status.get("printed") == "1"  # each frame's map was laid out for the print ...
        assert status["printedWhole"] == "1"  # ... showing the whole plan
        width, height = map(int, status["printedSize"].split("x"))
        # two frames a row within the 277 mm between A4 landscape's margins, not the screen's width
        assert width <= 277 * MM / 2
        assert width == pytest.approx(134 * MM - 2, abs=3)  # the frame less its border
        assert height == pytest.approx(110 * MM - 2, abs=3)
    assert screen[0][0] > 277 * MM / 2 + 50  # (on this screen the frames are wider than that)
    assert after == screen  # the screen's frames come back after the print
