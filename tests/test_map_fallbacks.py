"""map.html where it cannot draw everything, and as a page (QA91 F7-F9):

* tiles blocked while Leaflet loads: the plan was drawn on a blank background and nothing said why;
* JavaScript off: a blank map and no word;
* printed without Leaflet: the notice saying why was hidden on paper, under an empty frame;
* printed with folded notes: the handout said "1 note on this plan" and not the note;
* the page had no language and no title, and its viewport forbade zooming the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from map_fixtures import CHROMIUM, sample_plan

from territory_planner.render.map import leaflet_inline, write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]

NOTE = "Home account A1 of rep R1 goes to R2, 129 km from its home"


def _plan(folder: Path) -> Path:
    plan = sample_plan(folder)
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["input_warnings"] = [NOTE]
    summary["plan"] = {"name": "spring-2027"}
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return plan


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("fallbacks")
    online = write_map(_plan(root / "online"), offline=False).resolve()
    offline = write_map(_plan(root / "offline"), offline=True).resolve()
    js, css = leaflet_inline()
    out: dict[str, Any] = {"online_html": online.read_text(encoding="utf-8")}
    visible = "(id) => { const e = document.getElementById(id); return !!e && !e.hidden && !!e.offsetParent }"

    def leaflet_only(route: Any) -> None:  # Leaflet from "its CDN", every tile refused
        url = route.request.url
        if url.endswith("leaflet.js"):
            route.fulfill(body=js, content_type="application/javascript")
        elif url.endswith("leaflet.css"):
            route.fulfill(body=css, content_type="text/css")
        elif url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1400, "height": 800})
        page.route("**/*", leaflet_only)
        page.goto(online.as_uri())
        page.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
        with contextlib.suppress(sync_api.TimeoutError):  # the tiles fail at once: the notice follows
            page.wait_for_selector('#tp-status[data-error="tiles"]', state="attached", timeout=9000)
        out["tiles"] = {
            "notice": page.evaluate(visible, "tp-notiles"),
            "text": page.evaluate("(document.getElementById('tp-notiles') || {}).innerText || ''"),
        }
        page.close()
        # the offline map draws no tiles: no notice
        page = b.new_page(viewport={"width": 1400, "height": 800})
        page.goto(offline.as_uri())
        page.wait_for_selector('#tp-status[data-drawn="1"]', state="attached")
        out["offline_notice"] = page.evaluate(visible, "tp-notiles")
        # printed: the folded notes open for the print, and fold again after it
        out["notes_screen"] = page.evaluate("document.querySelector('.tp-notes').open")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.emulate_media(media="print")
        out["notes_print"] = page.evaluate("document.querySelector('.tp-notes').open")
        out["note_printed"] = page.evaluate("document.querySelector('.tp-notes ul').offsetParent !== null")
        page.emulate_media(media="screen")
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        out["notes_after"] = page.evaluate("document.querySelector('.tp-notes').open")
        page.close()
        # no network at all, printed: the notice, not an empty frame
        page = b.new_page(viewport={"width": 1400, "height": 800})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto(online.as_uri())
        page.wait_for_selector('#tp-status[data-error="leaflet"]', state="attached")
        page.emulate_media(media="print")
        out["no_leaflet_print"] = {
            "notice": page.evaluate(visible, "tp-noleaflet"),
            "frame": page.evaluate("getComputedStyle(document.querySelector('.folium-map')).display"),
        }
        page.close()
        # JavaScript off
        context = b.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 800})
        page = context.new_page()
        page.goto(offline.as_uri())
        out["no_js"] = page.inner_text("body")
        context.close()
        b.close()
    return out


def test_blocked_tiles_are_said_with_the_offline_map_as_the_way_out(pages: dict[str, Any]) -> None:
    assert pages["tiles"]["notice"] is True
    assert "--offline" in pages["tiles"]["text"]
    assert pages["offline_notice"] is False  # a map without tiles has nothing to say


def test_a_page_without_javascript_says_why_the_map_is_blank(pages: dict[str, Any]) -> None:
    text = pages["no_js"]
    assert "JavaScript" in text
    assert "report.html" in text
    assert "R1" in text  # the summary panel's table is there


def test_a_map_without_leaflet_prints_its_notice_not_an_empty_frame(pages: dict[str, Any]) -> None:
    assert pages["no_leaflet_print"] == {"notice": True, "frame": "none"}


def test_folded_notes_print_open_and_fold_again(pages: dict[str, Any]) -> None:
    assert pages["notes_screen"] is False
    assert pages["notes_print"] is True
    assert pages["note_printed"] is True
    assert pages["notes_after"] is False


def test_the_page_has_a_language_a_title_and_a_zoomable_viewport(pages: dict[str, Any]) -> None:
    page = pages["online_html"]
    assert re.search(r"<html lang=\"en\">", page)
    assert "<title>Map of territory plan spring-2027</title>" in page
    viewport = re.findall(r'<meta name="viewport" content="([^"]*)"', page)
    assert viewport == ["width=device-width, initial-scale=1.0"]
