"""A measure the plan does not balance has no band (QA8 O1): with ``balance = ["potential"]`` the map's
panel shaded workload's deviations red, as if they broke a 5% band the plan never had.

The plan is ``map_fixtures.potential_only_plan``: R1 is +13.1% on potential (band +-10%: shaded) and on
workload (no band: muted, never shaded)."""

from __future__ import annotations

import re
from pathlib import Path

from map_fixtures import potential_only_plan, sample_plan

from territory_planner.render.edit_payload import edit_data
from territory_planner.render.map import write_map
from territory_planner.render.plan_folder import read_plan_folder


def legend(html: str) -> str:
    return html[html.index('<aside id="tp-legend">') : html.index("</aside>")]


def dev_cells(table: str, key: str, value: str) -> list[str]:
    """The two deviation cells (potential, workload) of the row ``data-{key}="{value}"``."""
    row = table[table.index(f'data-{key}="{value}"') :].split("</tr>")[0]
    return re.findall(r"<td[^>]*>[+-]\d+\.\d</td>", row)


def test_the_rep_table_shades_the_balanced_measure_only(tmp_path: Path) -> None:
    panel = legend(write_map(potential_only_plan(tmp_path / "p")).read_text(encoding="utf-8"))
    pot, wl = dev_cells(panel, "rep", "R1")
    assert pot == '<td class="tp-off">+13.1</td>'  # outside potential's +-10%
    assert wl == '<td class="tp-unbal">+13.1</td>'  # workload: no band, muted
    head = panel[panel.index("<thead>") : panel.index("</thead>")]
    assert re.search(
        r'<th class="tp-unbal" title="[^"]*workload is not balanced in this plan: no band">', head
    )
    assert head.count('class="tp-unbal"') == 1  # potential's header is as before
    key = panel[panel.index('<div class="tp-key">') :]
    assert "workload is not balanced in this plan (no band; shown for information)" in key
    assert "outside the band (potential &plusmn;10%)" in key


def test_a_plan_balancing_both_measures_has_no_muted_column(tmp_path: Path) -> None:
    panel = legend(write_map(sample_plan(tmp_path / "p")).read_text(encoding="utf-8"))
    assert "tp-unbal" not in panel
    assert "not balanced" not in panel
    assert dev_cells(panel, "rep", "R1") == ['<td class="tp-off">+13.1</td>'] * 2  # both outside 5%


def test_a_district_band_for_every_measure_leaves_the_unbalanced_one_alone(tmp_path: Path) -> None:
    # "*" names every measure, but the plan's district rows cover the balanced measures only
    html = write_map(potential_only_plan(tmp_path / "p", district_band=0.05)).read_text(encoding="utf-8")
    table = (
        legend(html).split('<table data-level="district" data-view="after" hidden>')[1].split("</table>")[0]
    )
    pot, wl = dev_cells(table, "group", "D1")  # +10.7% on both
    assert pot == '<td class="tp-off">+10.7</td>'
    assert wl == '<td class="tp-unbal">+10.7</td>'


def test_the_edit_payload_gives_the_unbalanced_measure_no_band(tmp_path: Path) -> None:
    specs = {
        m["key"]: m for m in edit_data(read_plan_folder(potential_only_plan(tmp_path / "p")))["measures"]
    }
    assert (specs["potential"]["tol"], specs["potential"]["balanced"]) == (10.0, True)
    assert (specs["workload"]["tol"], specs["workload"]["balanced"]) == (None, False)
