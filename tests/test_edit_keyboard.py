"""The map's editor with the keyboard alone (QA91 F1), in a real Chromium driven with Playwright: Tab,
typing, Enter, Space and the arrow keys only, no mouse and no call of ``window.territoryPlanner`` that
selects or edits (it is only read, as are the page's attributes).

The plan is ``map_fixtures.editable_plan`` (nine accounts A1-A9, three reps: R1 Alice holds A1-A3, R2 Bob
A4-A6 and A9, R3 A7-A8; A1 is "Acme Corp", A7 "Golf", A8's name and R3's are hostile HTML).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from map_fixtures import CHROMIUM, HOSTILE, area_plan, checked_map, editable_plan

from territory_planner.render.map import write_map

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]
pytest.importorskip("playwright.sync_api")

# the Leaflet map folium made (a global named map_<hex>): where it looks, to compare zooms
MAP = "window[Object.keys(window).find((k) => /^map_[0-9a-f]+$/.test(k))]"
VIEW = f"""() => {{
  const c = {MAP}.getCenter();
  return [{MAP}.getZoom(), Math.round(c.lat * 1e4) / 1e4, Math.round(c.lng * 1e4) / 1e4];
}}"""


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("keyboard")
    plans = {"plan": editable_plan, "area": area_plan}
    return {key: write_map(make(root / key), offline=True).resolve().as_uri() for key, make in plans.items()}


def view_after(page: Any, action: Any) -> list[float]:
    """Where the map looks once the move ``action()`` starts (zooms are animated) has ended."""
    page.evaluate(f"() => {{ window.tpMoved = new Promise((done) => {MAP}.once('moveend', done)); }}")
    action()
    page.evaluate("() => window.tpMoved")
    view: list[float] = page.evaluate(VIEW)
    return view


@pytest.fixture
def page(browser: Any, maps: dict[str, str]) -> Iterator[Any]:
    with checked_map(browser, maps["plan"]) as pg:
        yield pg


def focus_is(page: Any, selector: str) -> bool:
    return bool(page.evaluate("(s) => document.activeElement?.matches(s) === true", selector))


def tab_to(page: Any, selector: str, *, back: bool = False, limit: int = 60) -> None:
    """Press Tab (Shift+Tab) until the focus is on ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if focus_is(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def start_editing(page: Any) -> None:
    tab_to(page, "#tp-edit-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute("#tp-status", "data-editing") == "1"


def find(page: Any, text: str) -> list[str]:
    """Type into the (focused) find field; the matches listed."""
    page.keyboard.type(text)
    options: list[str] = page.locator("#tp-edit-find-list [role=option]").all_inner_texts()
    return options


def edits(page: Any) -> list[tuple[str, str, str]]:
    return [(e["account_id"], e["from_rep"], e["to_rep"]) for e in page.evaluate("territoryPlanner.edits()")]


def selection(page: Any) -> list[str]:
    return sorted(page.evaluate("territoryPlanner.selection()"))


def give_by_keyboard(page: Any, account: str, rep_steps: int) -> None:
    """Select ``account`` by typing its id, choose the rep ``rep_steps`` below the first, give."""
    tab_to(page, "#tp-edit-find")
    assert find(page, account)[0].startswith(account)
    assert page.get_attribute("#tp-edit-find", "aria-expanded") == "true"
    page.keyboard.press("Enter")
    assert selection(page) == [account]
    tab_to(page, "#tp-edit-rep")
    for _ in range(rep_steps):
        page.keyboard.press("ArrowDown")
    tab_to(page, "#tp-edit-assign")
    page.keyboard.press("Enter")


def test_an_account_typed_by_id_is_given_to_a_rep_and_downloaded(page: Any) -> None:
    start_editing(page)
    tab_to(page, "#tp-edit-find")
    options = find(page, "A1")
    assert options[0].startswith("A1 Acme Corp")  # the id itself first, with its name and rep
    assert "R1 Alice" in options[0]
    page.keyboard.press("Enter")
    assert selection(page) == ["A1"]
    assert "1 selected" in page.inner_text("#tp-edit-selection")
    assert "Added A1 Acme Corp to the selection" in page.inner_text("#tp-edit-find-note")
    assert page.input_value("#tp-edit-find") == ""  # ready for the next one
    tab_to(page, "#tp-edit-rep")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#tp-edit-rep") == "R2"
    tab_to(page, "#tp-edit-assign")
    page.keyboard.press("Enter")
    assert edits(page) == [("A1", "R1", "R2")]
    assert "given to" in page.inner_text("#tp-edit-msg")
    # the focus stays in the panel, on the field that selects the next account (it went to <body>)
    assert focus_is(page, "#tp-edit-find")
    assert page.inner_text("#tp-edit-find-note") == ""  # "Added A1 ..." held before the give only
    tab_to(page, "#tp-edit-download")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text == "account_id,rep_id\nA1,R2\n"


def test_undo_and_redo_keep_the_focus_in_the_panel(page: Any) -> None:
    start_editing(page)
    give_by_keyboard(page, "A2", 2)  # to R3
    assert edits(page) == [("A2", "R1", "R3")]
    assert focus_is(page, "#tp-edit-find")
    # Ctrl+Z in the empty find field undoes the give (the field has nothing of its own to undo)
    page.keyboard.press("Control+z")
    assert page.evaluate("territoryPlanner.edits()") == []
    assert focus_is(page, "#tp-edit-find")
    tab_to(page, "#tp-edit-redo")
    page.keyboard.press("Enter")
    assert len(page.evaluate("territoryPlanner.edits()")) == 1
    assert focus_is(page, "#tp-edit-undo")  # Redo is disabled now: its neighbour takes the focus
    page.keyboard.press("Enter")
    assert page.evaluate("territoryPlanner.edits()") == []
    assert focus_is(page, "#tp-edit-redo")
    page.keyboard.press("Space")
    assert len(page.evaluate("territoryPlanner.edits()")) == 1
    assert not focus_is(page, "body")


def test_a_territory_several_ids_and_taking_one_out(page: Any) -> None:
    start_editing(page)
    tab_to(page, "#tp-edit-find")
    options = find(page, "R3")
    assert options[0].startswith("Territory of R3")
    assert "2 account(s)" in options[0]
    page.keyboard.press("Enter")
    assert selection(page) == ["A7", "A8"]  # R3's whole territory, as a lasso around it selects
    # a match already selected says so, and Enter takes it out (shift-click's remove)
    options = find(page, "golf")
    assert options[0].startswith("A7 Golf")
    assert options[0].endswith("selected")
    page.keyboard.press("Enter")
    assert selection(page) == ["A8"]
    assert "Took A7 Golf out of the selection" in page.inner_text("#tp-edit-find-note")
    # the arrow keys choose among the matches
    find(page, "A")
    page.keyboard.press("ArrowDown")
    active = page.get_attribute("#tp-edit-find", "aria-activedescendant")
    assert active == "tp-edit-find-opt-1"
    page.keyboard.press("Escape")  # closes the list, then empties the field
    assert page.get_attribute("#tp-edit-find", "aria-expanded") == "false"
    page.keyboard.press("Escape")
    assert page.input_value("#tp-edit-find") == ""
    # ids pasted together (a column of a sheet) are added together
    page.keyboard.insert_text("A1, A2\nA3")
    page.keyboard.press("Enter")
    assert selection(page) == ["A1", "A2", "A3", "A8"]
    page.keyboard.press("Escape")  # in the empty field, Esc clears the selection as on the map
    assert selection(page) == []


def test_matches_are_capped_and_names_stay_text(page: Any) -> None:
    start_editing(page)
    tab_to(page, "#tp-edit-find")
    options = find(page, "a")  # every account and more match
    assert len(options) == 8
    assert page.locator("#tp-edit-find-list li").count() == 8
    assert page.inner_text(".tp-find-more").endswith("more: type more of it")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    options = find(page, "onerror")
    assert options == [f"A8 {HOSTILE} \u00b7 R3 <b onmouseover=alert(1)>Eve</b>"]
    assert page.locator("#tp-edit-find-list img, #tp-edit-find-list b").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None


def test_an_area_is_selected_by_its_id(browser: Any, maps: dict[str, str]) -> None:
    with checked_map(browser, maps["area"]) as pg:
        start_editing(pg)
        tab_to(pg, "#tp-edit-find")
        assert find(pg, "u4")[0].startswith("U4 ZIP U4")
        pg.keyboard.press("Enter")
        assert selection(pg) == ["U4"]
        tab_to(pg, "#tp-edit-assign")
        pg.keyboard.press("Enter")
        assert edits(pg) == [("U4", "R2", "R1")]


def test_rep_rows_are_reached_by_tab_and_enter_zooms_as_a_click_does(
    browser: Any, maps: dict[str, str]
) -> None:
    # the view a mouse click on each rep's row gives
    with checked_map(browser, maps["plan"]) as pg:
        opening = pg.evaluate(VIEW)
        clicked = {"R3": view_after(pg, lambda: pg.click('#tp-legend tr[data-rep="R3"] td:nth-child(2)'))}
        pg.click("#tp-edit-toggle")  # the Edit mode's panel is wider: the map, and its fitted view, narrower
        clicked["R2"] = view_after(pg, lambda: pg.click('#tp-live tr[data-live-rep="R2"] td:nth-child(2)'))
    assert clicked["R3"] != opening
    with checked_map(browser, maps["plan"]) as pg:
        r3 = '#tp-legend tr[data-rep="R3"] button.tp-zoom'
        tab_to(pg, r3)
        assert pg.get_attribute(r3, "title") == "zoom to this territory"
        assert view_after(pg, lambda: pg.keyboard.press("Enter")) == clicked["R3"]
        # in the Edit mode, the live table's rows too (Space as well as Enter)
        start_editing(pg)
        tab_to(pg, '#tp-live tr[data-live-rep="R2"] button.tp-zoom')
        assert view_after(pg, lambda: pg.keyboard.press("Space")) == clicked["R2"]


def test_toggle_buttons_say_whether_they_are_pressed(page: Any) -> None:
    proposed = '.tp-switch-btn[data-view="after"]'
    current = '.tp-switch-btn[data-view="before"]'
    assert page.get_attribute(proposed, "aria-pressed") == "true"
    assert page.get_attribute(current, "aria-pressed") == "false"
    assert page.get_attribute("#tp-edit-toggle", "aria-pressed") == "false"
    tab_to(page, current)
    page.keyboard.press("Enter")
    assert page.get_attribute("#tp-status", "data-view") == "before"
    assert page.get_attribute(current, "aria-pressed") == "true"
    assert page.get_attribute(proposed, "aria-pressed") == "false"
    start_editing(page)  # the Edit mode shows the proposed plan
    assert page.get_attribute("#tp-edit-toggle", "aria-pressed") == "true"
    assert page.get_attribute(proposed, "aria-pressed") == "true"
    assert page.get_attribute(current, "aria-pressed") == "false"
    assert page.get_attribute("#tp-tool-pointer", "aria-pressed") == "true"
    tab_to(page, "#tp-tool-lasso")
    page.keyboard.press("Space")
    assert page.get_attribute("#tp-tool-lasso", "aria-pressed") == "true"
    assert page.get_attribute("#tp-tool-pointer", "aria-pressed") == "false"
    assert page.get_attribute("#tp-tool-box", "aria-pressed") == "false"
    tab_to(page, "#tp-edit-toggle", back=True)
    page.keyboard.press("Enter")
    assert page.get_attribute("#tp-edit-toggle", "aria-pressed") == "false"
    assert page.get_attribute("#tp-status", "data-editing") == "0"


def test_the_focus_is_visible(page: Any) -> None:
    start_editing(page)
    for selector in ("#tp-edit-find", "#tp-tool-box", '#tp-live tr[data-live-rep="R1"] button.tp-zoom'):
        tab_to(page, selector)
        style = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert style == "solid", selector
    tab_to(page, "#tp-edit-toggle", back=True)
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth") == "2px"


def test_a_name_of_several_words_picks_its_match_and_pasted_ids_any_case(page: Any) -> None:
    """QA93 F2: Enter on a name of two words ("Avery Brooks", "Beta & Sons") read the words as pasted ids:
    "2 unknown account id(s): Avery, Brooks; nothing was selected". And pasted ids were matched in their
    case only, where a single id is matched in any case."""
    start_editing(page)
    tab_to(page, "#tp-edit-find")
    assert find(page, "Beta & Sons")[0].startswith("A2 Beta & Sons")
    page.keyboard.press("Enter")
    assert selection(page) == ["A2"]
    page.keyboard.insert_text("a4 a5")  # words that are all ids, in another case
    page.keyboard.press("Enter")
    assert selection(page) == ["A2", "A4", "A5"]
