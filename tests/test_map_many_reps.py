"""A map for a large sales team, as leadership opens it (QA7: 200 reps on the US cities).

- The legend and the editor's live table lead with the rep id: a long name is cut with an ellipsis, and
  "José Álvarez – Sen..." hid which of two José Álvarez a row was.
- The page opens without rebuilding the layer control once per rep (the 200-rep map took 9 s to open,
  most of it Leaflet's layer control relisting 200 labels each time one of its layers left or joined
  the map). Counted, not timed: the number of labels the control inserts while the page loads.

The plan: ``n`` reps in a row, each with two accounts beside its home (lat up, lon right)::

    40.1 | a0b      a1b      a2b     ...
    40.0 | a0a [R0] a1a [R1] a2a [R2] ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from map_fixtures import CHROMIUM, write_plan

from territory_planner.render.legend import legend_html
from territory_planner.render.plan_folder import read_plan_folder

LONG = "José Álvarez – Senior Strategic Account Executive, Enterprise & Public Sector (Mountain West)"


def many_rep_plan(folder: Path, n: int) -> Path:
    rows, reps = [], []
    for k in range(n):
        rep = f"R{k:03d}"
        for s, dlat in (("a", 0.0), ("b", 0.1)):
            rows.append(
                {
                    "account_id": f"A{k}{s}",
                    "rep_id": rep,
                    "current_rep": rep if s == "a" else f"R{(k + 1) % n:03d}",
                    "moved": s == "b",
                    "distance_km": 5.0,
                    "potential": 1000.0,
                    "workload": 1.0,
                    "reason": "balance" if s == "b" else "",
                    "name": f"Account {k}{s}",
                    "lat": 40.0 + dlat,
                    "lon": -100.0 + 0.3 * k,
                }
            )
        reps.append(
            {
                "rep_id": rep,
                "name": LONG if k % 2 == 0 else "Zoë Ørsted",
                "accounts": 2,
                "potential": 2000.0,
                "workload": 2.0,
                "potential_target": 2000.0,
                "workload_target": 2.0,
                "potential_dev_pct": 0.0,
                "workload_dev_pct": 0.0,
                "travel_km": 10.0,
                "moved_in": 1,
                "moved_out": 1,
                "capacity": 1.0,
                "home_lat": 40.0,
                "home_lon": -100.0 + 0.3 * k + 0.1,
                "home_chosen": False,
            }
        )
    return write_plan(folder, pd.DataFrame(rows), pd.DataFrame(reps))


def test_legend_rows_lead_with_the_rep_id(tmp_path: Path) -> None:
    plan = read_plan_folder(many_rep_plan(tmp_path / "p", 4))
    html = legend_html(plan.territories, ["#111111"] * 4, plan.summary, n_accounts=8, n_moved=4)
    assert '<span class="tp-swatch" style="background:#111111"></span>R000 José Álvarez – Senior' in html
    assert "</span>R001 Zoë Ørsted</td>" in html
    # the tooltip keeps the full label
    assert f'title="{LONG.replace("&", "&amp;")} (R000)"' in html


# ---- browser -----------------------------------------------------------------------------------------

N_REPS = 60
COUNT_LABELS = """
window.tpLabelsInserted = 0;
new MutationObserver(function (records) {
  for (const r of records) for (const node of r.addedNodes) {
    const list = r.target.closest && r.target.closest(".leaflet-control-layers-overlays");
    if (node.nodeName === "LABEL" && list) {
      window.tpLabelsInserted++;
    }
  }
}).observe(document, { childList: true, subtree: true });
"""

MARKERS_ON_MAP = """(() => {
  let n = 0;
  for (const k in window) {
    const m = window[k];
    if (k.startsWith("map_") && m && m.eachLayer) m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; });
  }
  return n;
})()"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    from territory_planner.render.map import write_map

    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed")
    url = write_map(many_rep_plan(tmp_path_factory.mktemp("many") / "p", N_REPS), offline=True).resolve()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = b.new_page(viewport={"width": 1100, "height": 620})
        pg.add_init_script(COUNT_LABELS)
        pg.goto(url.as_uri())
        pg.wait_for_selector('#tp-status[data-ready="1"]', state="attached")
        yield pg
        b.close()


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_the_layer_control_is_listed_a_few_times_not_once_per_rep(page: Any) -> None:
    """Before: each of the 60 territory layers leaving and rejoining the map relisted every label
    (60 x 2 x 60 = 7,200 label insertions and more); now the list is built when the control is added and
    once more when it returns after the layers are filled."""
    listed = page.evaluate("document.querySelectorAll('.leaflet-control-layers-overlays label').length")
    assert listed >= N_REPS
    inserted = page.evaluate("window.tpLabelsInserted")
    assert inserted <= 3 * listed, inserted
    # the control still works: unticking a rep's layer takes its accounts off the map
    before = page.evaluate(MARKERS_ON_MAP)
    page.evaluate("document.querySelector('.leaflet-control-layers-overlays input').click()")
    assert page.evaluate(MARKERS_ON_MAP) == before - 2
    page.evaluate("document.querySelector('.leaflet-control-layers-overlays input').click()")
    assert page.evaluate(MARKERS_ON_MAP) == before


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_the_editors_live_table_leads_with_the_rep_id(page: Any) -> None:
    page.evaluate("document.getElementById('tp-edit-toggle').click()")
    first = page.inner_text("#tp-live tbody tr:first-child td.tp-rep").strip()
    assert first.startswith("R000 José Álvarez"), first
    legend = page.inner_text('#tp-legend tr[data-rep="R001"] td.tp-rep').strip()
    assert legend == "R001 Zoë Ørsted"
