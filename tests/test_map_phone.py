"""The map's summary panel on a 390-px phone (QA7 O5).

Before: the panel's table was cut at its In/out column and scrolled sideways inside the panel with nothing
to say so; in the Edit mode the panel stayed 560 px wide (the page scrolled sideways) and the editing tools
left the live table no height at all. Now the whole panel scrolls as one, the rep column stays in view
while a table scrolls sideways, and while columns lie beyond the right edge a line under the table says
how many ("swipe the table: 4 more columns").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from map_fixtures import CHROMIUM, sample_plan

from territory_planner.render.map import write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

STATE = """() => {
  const scroll = document.querySelector('#tp-live .tp-scroll');
  const hint = scroll.nextElementSibling;
  const box = scroll.getBoundingClientRect();
  const rep = scroll.querySelector('tbody td.tp-rep').getBoundingClientRect();
  return {
    page: document.documentElement.scrollWidth,
    panel: document.getElementById('tp-legend').getBoundingClientRect().width,
    tableHeight: box.height,
    overflow: scroll.scrollWidth - scroll.clientWidth,
    hint: hint && hint.classList.contains('tp-more-hint') && !hint.hidden ? hint.textContent : '',
    repLeft: rep.left - box.left,
  };
}"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_map(sample_plan(tmp_path_factory.mktemp("phone") / "p"), offline=True).resolve().as_uri()


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_editor(browser: Any, url: str, width: int, height: int) -> Any:
    phone = width <= 480  # a touch screen: the hint says "swipe" (a mouse: "scroll")
    page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    page.goto(url)
    page.wait_for_selector('#tp-status[data-ready="1"]', state="attached")
    page.evaluate("document.getElementById('tp-edit-toggle').click()")
    return page


def test_the_live_table_on_a_phone_says_it_scrolls_and_keeps_the_rep_in_view(browser: Any, url: str) -> None:
    page = open_editor(browser, url, 390, 844)
    # the cue follows the Edit mode's layout through a ResizeObserver, one frame after the click (CI once
    # read the state before that frame); wait for it rather than race it, and fail if it never comes
    page.wait_for_function(
        "!document.querySelector('#tp-live .tp-scroll').nextElementSibling.hidden", timeout=10_000
    )
    state = page.evaluate(STATE)
    assert state["page"] <= 390
    assert state["panel"] <= 390
    assert state["tableHeight"] > 40  # three rows and the header, not squeezed out
    assert state["overflow"] > 0
    hidden = page.evaluate(
        """() => {
          const scroll = document.querySelector('#tp-live .tp-scroll');
          const right = scroll.getBoundingClientRect().right;
          return Array.from(scroll.querySelectorAll('thead th'))
            .filter(th => th.getBoundingClientRect().right > right + 1).length;
        }"""
    )
    assert hidden > 0
    assert state["hint"] == f"\u2190 swipe the table: {hidden} more column{'s' if hidden > 1 else ''} \u2192"
    # swiped to the end: the cue goes, the rep column is still at the left edge
    page.evaluate(
        "() => { const s = document.querySelector('#tp-live .tp-scroll'); s.scrollLeft = s.scrollWidth; }"
    )
    page.wait_for_function("document.querySelector('#tp-live .tp-scroll').nextElementSibling.hidden")
    state = page.evaluate(STATE)
    assert state["hint"] == ""
    assert abs(state["repLeft"]) <= 1


def test_no_cue_where_the_table_fits(browser: Any, url: str) -> None:
    page = open_editor(browser, url, 1400, 900)
    state = page.evaluate(STATE)
    assert state["overflow"] <= 0
    assert state["hint"] == ""
    assert page.evaluate("document.getElementById('tp-status').dataset.scrollCues") == "0"
