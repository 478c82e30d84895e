"""QA91 F6: sweep.html had no print styles and no cue for its wide table: printed, its table was cut (the
`pareto` column, the text of the chart's orange circles, lost even on A4 landscape); at 320 px it showed 3
of 13 columns and nothing said more lay to the right."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from map_fixtures import CHROMIUM

from tests.test_sweep import four_point_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

MEASURE = """() => {
  const table = document.querySelector('table');
  const head = Array.from(table.querySelectorAll('thead tr:last-child th'));
  const hint = document.querySelector('.more-hint');
  return {
    width: document.documentElement.clientWidth,
    cut: head.filter(th => th.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .map(th => th.textContent),
    hint: hint && !hint.hidden && hint.offsetParent !== null ? hint.textContent : null,
  };
}"""


def _page(tmp_path: Path) -> Path:
    page = tmp_path / "sweep.html"
    page.write_text(four_point_page(), encoding="utf-8")
    return page


def test_the_table_prints_whole_and_says_on_a_phone_that_it_scrolls(tmp_path: Path, browser: Any) -> None:
    url = _page(tmp_path).resolve().as_uri()
    page = browser.new_page(viewport={"width": 1047, "height": 740})  # A4 landscape less 10-mm margins
    page.goto(url)
    page.emulate_media(media="print")
    printed = page.evaluate(MEASURE)
    phone = browser.new_page(viewport={"width": 320, "height": 640})
    phone.goto(url)
    small = phone.evaluate(MEASURE)
    assert printed["cut"] == []  # every column within the printed page, `pareto` too
    assert small["cut"]  # on a phone the table is wider than the screen ...
    assert small["hint"] is not None  # ... and a line says so
    assert "more column" in small["hint"]
