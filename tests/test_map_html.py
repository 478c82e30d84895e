"""Fragments of the generated map HTML (element ids are random: never compare whole files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from map_fixtures import HOSTILE, HOSTILE_REP, REPS, area_plan, sample_plan

from territory_planner.render.map import CURRENT, PROPOSED, write_map
from territory_planner.render.payload import script_json


def embedded_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="tp-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


@pytest.fixture
def sample_html(tmp_path: Path) -> str:
    return write_map(sample_plan(tmp_path / "plan")).read_text(encoding="utf-8")


@pytest.fixture
def offline_html(tmp_path: Path) -> str:
    return write_map(sample_plan(tmp_path / "plan"), offline=True).read_text(encoding="utf-8")


def test_default_output_path_and_custom_out(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    assert write_map(plan) == plan / "map.html"
    other = write_map(plan, tmp_path / "elsewhere" / "m.html")
    assert other == tmp_path / "elsewhere" / "m.html"
    assert other.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_one_layer_per_rep_plus_views_and_moved_overlay(sample_html: str) -> None:
    assert sample_html.count("L.featureGroup(") == len(REPS) + 4  # + proposed, current, no-rep, moved
    assert f'"{PROPOSED}" :' in sample_html
    assert f'"{CURRENT}" :' in sample_html
    assert "Moved accounts (1)" in sample_html
    assert "L.control.layers(" in sample_html
    assert re.search(r"\"?preferCanvas\"?: true", sample_html)  # folium 0.17 writes the key bare


def test_embedded_data_has_every_account_once(sample_html: str) -> None:
    data = embedded_data(sample_html)
    acc = data["acc"]
    assert acc["id"] == [f"A{i}" for i in range(1, 10)]
    assert data["reps"]["id"] == ["R1", "R2", "R3"]
    a3 = acc["id"].index("A3")
    assert (acc["rep"][a3], acc["cur"][a3], acc["moved"][a3]) == (0, 1, 1)
    assert data["reasons"][acc["why"][a3]] == "balance"
    assert acc["cur"][acc["id"].index("A9")] == -1
    # Only what the tooltips need: no travel, capacity or region columns.
    assert set(acc) == {"id", "name", "lat", "lon", "pot", "wl", "dist", "rep", "cur", "moved", "why", "seg"}


def test_neighbouring_reps_get_distinct_colours(sample_html: str) -> None:
    colours = embedded_data(sample_html)["reps"]["color"]
    assert len(set(colours)) == len(REPS)
    for colour in colours:
        assert re.fullmatch(r"#[0-9a-f]{6}", colour)


def test_input_text_is_escaped_everywhere(sample_html: str) -> None:
    # No raw hostile markup anywhere in the file: not in the legend, the layer names or the JSON.
    assert HOSTILE not in sample_html
    assert HOSTILE_REP not in sample_html
    assert "<i>ent</i>" not in sample_html
    assert "<img" not in sample_html
    # Legend and layer-control labels carry HTML-escaped text; the JSON carries \u003c escapes.
    assert "&lt;b onmouseover=alert(1)&gt;Eve&lt;/b&gt;" in sample_html
    assert "\\u003cimg src=x onerror=" in sample_html
    assert HOSTILE in embedded_data(sample_html)["acc"]["name"]


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"name": "</script><script>alert(1)</script>&\u2028"})
    assert "</" not in text
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\u2028" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>&\u2028"


def test_legend_has_status_gap_and_a_row_per_rep(sample_html: str) -> None:
    legend = sample_html[sample_html.index('<aside id="tp-legend">') : sample_html.index("</aside>")]
    assert "Status <b>optimal</b> (proven optimal)" in legend
    assert "gap <b>0.36%</b>" in legend
    assert "Moved <b>1</b> of 9 accounts (12.9% of potential)" in legend
    assert list(re.findall(r'<tr data-rep="([^"]+)"', legend)) == ["R1", "R2", "R3"]
    # R1: 230k potential, +13.1% over target, one account moved in.
    row = legend[legend.index('data-rep="R1"') :].split("</tr>")[0]
    assert "230k" in row
    assert '<td class="tp-off">+13.1</td>' in row
    assert "<td>1/0</td>" in row


def test_online_map_uses_cdn_leaflet_and_osm_tiles_only(sample_html: str) -> None:
    srcs = re.findall(r'<script src="([^"]+)"', sample_html)
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', sample_html)
    assert srcs == ["https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"]
    assert links == ["https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"]
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in sample_html
    assert "jquery" not in sample_html
    assert "bootstrap" not in sample_html


def test_offline_map_inlines_leaflet_and_loads_nothing(offline_html: str) -> None:
    assert "<script src=" not in offline_html
    assert "<link" not in offline_html
    assert "L.tileLayer(" not in offline_html
    assert "openstreetmap" not in offline_html.lower()
    assert "url(images/" not in offline_html  # Leaflet CSS images inlined as data: URIs
    assert "url(data:image/png;base64," in offline_html
    assert "* Leaflet 1.9.3, a JS library for interactive maps." in offline_html  # Leaflet is in the page
    assert 'classList.add("tp-offline")' in offline_html


def test_area_plan_embeds_simplified_polygons_and_outlines(tmp_path: Path) -> None:
    html = write_map(area_plan(tmp_path / "plan")).read_text(encoding="utf-8")
    units = embedded_data(html)["units"]
    assert sorted(units["row"]) == list(range(6))
    depth, rings = units["geom"][0]
    assert depth == 1
    assert rings[0][0] == rings[0][-1]
    # Dissolved outlines: proposed R1 = U1+U2 (one 0.4 x 0.2 rectangle), current R1 = U1+U2+U3.
    after = {rep: geom for rep, _, geom in units["after"]}
    before = {rep: geom for rep, _, geom in units["before"]}
    xs_after = {pt[0] for pt in after[0][0]}
    xs_before = {pt[0] for pt in before[0][0]}
    assert min(xs_after) == pytest.approx(-75.0)
    assert max(xs_after) == pytest.approx(-74.6)
    assert max(xs_before) == pytest.approx(-74.4)
    # Coordinates are rounded to 5 decimals.
    assert all(len(str(v).split(".")[-1]) <= 5 for ring in rings for pt in ring for v in pt)


def test_big_plan_stays_compact(tmp_path: Path) -> None:
    """No per-marker folium objects: bytes per account stay small."""
    import numpy as np
    import pandas as pd
    from map_fixtures import summary_dict, write_plan

    rng = np.random.default_rng(1)
    n, reps = 3000, 10
    rep_ids = [f"R{j:02d}" for j in range(reps)]
    lat = rng.uniform(30, 45, n)
    lon = rng.uniform(-120, -75, n)
    owner = np.minimum(((lon + 120) / 45 * reps).astype(int), reps - 1)
    a = pd.DataFrame(
        {
            "account_id": [f"ACC{i:06d}" for i in range(n)],
            "rep_id": [rep_ids[k] for k in owner],
            "current_rep": [rep_ids[k] for k in owner],
            "moved": False,
            "potential": rng.uniform(0, 1e6, n).round(2),
            "workload": rng.uniform(1, 20, n).round(1),
            "lat": lat,
            "lon": lon,
            "name": [f"Company {i}" for i in range(n)],
        }
    )
    t = pd.DataFrame({"rep_id": rep_ids, "home_lat": 38.0, "home_lon": np.linspace(-118, -77, reps)})
    plan = write_plan(tmp_path / "plan", a, t, summary_dict(n, reps, 0))
    html = write_map(plan).read_text(encoding="utf-8")
    assert "L.circleMarker(" not in html.replace("L_.circleMarker(", "")
    assert (len(html.encode()) - 40_000) / n < 150


def test_outlines_keep_enclaves_and_drop_gaps_between_units(tmp_path: Path) -> None:
    """A 3x3 block of 0.2-degree squares: the centre C is R2's, the other eight are R1's, and the
    top-middle square has a small hole that no unit fills (a gap in the data, as between census tracts
    digitised apart). R1's outline keeps the hole around C (another territory's unit) and draws nothing
    around the gap::

        N1 N2(with a gap) N3
        W  C(R2)          E
        S1 S2             S3
    """
    from map_fixtures import square, write_plan

    cells = {"S1": (0, 0), "S2": (1, 0), "S3": (2, 0), "W": (0, 1), "C": (1, 1), "E": (2, 1)}
    cells |= {"N1": (0, 2), "N2": (1, 2), "N3": (2, 2)}
    geoms = {name: square(-75.0 + 0.2 * i, 40.0 + 0.2 * j) for name, (i, j) in cells.items()}
    gap = [[-74.72, 40.48], [-74.72, 40.50], [-74.70, 40.50], [-74.70, 40.48], [-74.72, 40.48]]
    geoms["N2"]["coordinates"].append(gap)
    reps = {name: "R2" if name == "C" else "R1" for name in cells}
    a = pd.DataFrame(
        {
            "account_id": list(cells),
            "rep_id": [reps[n] for n in cells],
            "current_rep": [reps[n] for n in cells],
            "moved": False,
            "distance_km": 5.0,
            "potential": 1000.0,
            "workload": 1.0,
            "reason": "",
            "name": list(cells),
            "lat": [40.1 + 0.2 * j for i, j in cells.values()],
            "lon": [-74.9 + 0.2 * i for i, j in cells.values()],
        }
    )
    t = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["Ring", "Core"],
            "accounts": [8, 1],
            "potential": [8000.0, 1000.0],
            "workload": [8.0, 1.0],
            "potential_target": [4500.0, 4500.0],
            "workload_target": [4.5, 4.5],
            "potential_dev_pct": [77.8, -77.8],
            "workload_dev_pct": [77.8, -77.8],
            "travel_km": [10.0, 1.0],
            "moved_in": [0, 0],
            "moved_out": [0, 0],
            "home_lat": [40.1, 40.3],
            "home_lon": [-74.9, -74.7],
            "home_chosen": [False, False],
        }
    )
    features = [{"type": "Feature", "properties": {"account_id": n}, "geometry": g} for n, g in geoms.items()]
    units = {"type": "FeatureCollection", "features": features}
    plan = write_plan(tmp_path / "plan", a, t, units=units)
    data = embedded_data(write_map(plan).read_text(encoding="utf-8"))["units"]
    for view in ("after", "before"):
        ring = next(coords for rep, depth, coords in data[view] if rep == 0)
        assert len(ring) == 2, view  # the outer boundary and C's hole; no stroke around the gap
        xs = sorted({round(pt[0], 3) for pt in ring[1]})
        assert xs == [-74.8, -74.6]  # the hole is C


def test_a_large_moved_count_has_thousands_separators() -> None:
    """QA5: on 33,791 ZIPs the map panel said 'Moved 20820 of 33,791 accounts' (and the console 'moved
    20820 accounts')."""
    from territory_planner.render.legend import _moved_line

    line = _moved_line({"moved_accounts": 20820, "moved_potential_share": 0.635}, 0, 33791)
    assert line.startswith("Moved <b>20,820</b> of 33,791 accounts (63.5% of potential)")


def test_a_plan_without_a_current_alignment_moves_none_on_the_map() -> None:
    """QA70 F3: "Moved 0 of 507 accounts (0.0% of potential)" on the map of a plan whose accounts had no
    current rep, where the console and report.html say that no current alignment was given."""
    from territory_planner.render.legend import _moved_line

    summary = {"moved_accounts": 0, "moved_potential_share": 0.0, "current_accounts": 0}
    line = _moved_line({**summary, "max_abs_dev_pct": {"potential": 2.5}}, 0, 507)
    assert (
        line
        == "Moved accounts: <b>none: no current alignment given</b> &middot; max deviation potential 2.5%"
    )
    aligned = _moved_line({**summary, "current_accounts": 507}, 0, 507)
    assert aligned.startswith("Moved <b>0</b> of 507 accounts (0.0% of potential)")  # a stable plan


def test_the_maps_amounts_add_up_to_the_plans_totals(tmp_path: Path) -> None:
    """Edit mode sums the embedded amounts into its band checks: at two decimals a rep 0.0024 points inside
    its band read as out of it before any edit (QA20 F8: 629.31 against the plan's 629.285)."""
    from map_fixtures import assignments_frame, territories_frame, write_plan

    a = assignments_frame()
    a["workload"] = [15.047, 14.496, 14.224, 9.0015, 1.25, 3.333333, 7.1, 2.0, 11.875]
    a["potential"] = a["potential"] + 0.004567
    data = embedded_data(write_map(write_plan(tmp_path / "plan", a, territories_frame(a))).read_text())
    acc = data["acc"]
    for column, key in (("workload", "wl"), ("potential", "pot")):
        sums = pd.Series(acc[key], index=acc["id"]).groupby(a.set_index("account_id")["rep_id"]).sum()
        exact = a.groupby("rep_id")[column].sum()
        assert (sums - exact).abs().max() < 1e-5, (column, sums, exact)


def test_current_view_tables_sum_todays_owners_against_the_plans_targets() -> None:
    """The Current view's rep table: each plan rep's accounts under ``current_rep``, against the plan's
    targets; accounts of no current rep and of reps the plan no longer has in rows of their own (no
    target); none at all when no account has a current rep or the folder gives no targets."""
    from territory_planner.render.legend import current_territories

    t = pd.DataFrame(
        {"rep_id": ["R1", "R2"], "name": ["Ann", "Bo"], "potential_target": [100.0, 100.0],
         "workload_target": [10.0, 0.0], "district": ["D1", "D1"]}
    )  # fmt: skip
    a = pd.DataFrame(
        {"current_rep": ["R1", "R1", "", "OLD", " R2 "], "potential": [60.0, 70.0, 5.0, 40.0, 25.0],
         "workload": [4.0, 3.0, 1.0, 2.0, 1.0]}
    )  # fmt: skip
    cur = current_territories(t, a)
    assert cur is not None
    assert list(cur["rep_id"]) == ["R1", "R2", "", ""]
    assert list(cur["name"]) == ["Ann", "Bo", "no current rep", "reps no longer in the plan"]
    assert list(cur["accounts"]) == [2, 1, 1, 1]
    assert list(cur["potential"]) == pytest.approx([130, 25, 5, 40])
    assert cur["potential_dev_pct"].iloc[0] == pytest.approx(30.0)
    assert cur["potential_dev_pct"].iloc[1] == pytest.approx(-75.0)
    assert cur["workload_dev_pct"].iloc[0] == pytest.approx(-30.0)
    assert pd.isna(cur["workload_dev_pct"].iloc[1])  # a zero target: no deviation
    assert list(cur["district"].iloc[:2]) == ["D1", "D1"]
    assert cur["potential"].sum() == pytest.approx(a["potential"].sum())  # nothing dropped
    assert current_territories(t, a.assign(current_rep="")) is None
    assert current_territories(t.drop(columns="workload_target"), a) is None


def test_the_layer_control_starts_collapsed_when_it_would_hide_the_map(tmp_path: Path) -> None:
    """QA41 F3/F4: expanded, the layer control of 12 reps (one named in 70 characters) took 538 x 335 px
    and hid moved accounts of the first view; in compare's small maps it hid three quarters of each. It
    starts collapsed above 8 reps, with a label over 32 characters, and in a small frame."""
    from map_fixtures import assignments_frame, territories_frame, write_plan

    a = assignments_frame()
    t = territories_frame(a)
    t["name"] = ["Alice", "Bob", "Eve"]
    plan = write_plan(tmp_path / "short", a, t)

    def collapsed(html: str) -> bool:
        found = re.findall(r'"collapsed": (true|false)', html)
        assert len(found) == 1
        return found[0] == "true"

    assert not collapsed(write_map(plan, tmp_path / "a.html").read_text(encoding="utf-8"))
    assert collapsed(write_map(plan, tmp_path / "b.html", small=True).read_text(encoding="utf-8"))
    t["name"] = ["Alice", "Bob", "Maximiliana Charlotta von Ekensteen"]  # 40 characters with its id
    long = write_plan(tmp_path / "long", a, t)
    assert collapsed(write_map(long, tmp_path / "c.html").read_text(encoding="utf-8"))


def test_designed_districts_say_what_the_gap_is_measured_against(tmp_path: Path) -> None:
    """QA41 F1: with designed districts the bound is the model's without district rows (valid for any
    grouping): map and report said "gap 20.45%" alone where the plan is 0.82% from the bound for its own
    districts (summary.json's notes said so). F6/F9: "-0.0" and "1 reps"."""
    from map_fixtures import assignments_frame, summary_dict, territories_frame, write_plan

    from territory_planner.report.formatting import design_gap_note, signed_percent

    a = assignments_frame()
    t = territories_frame(a)
    t["potential_dev_pct"] = [-0.04, 3.0, -2.96]
    summary = summary_dict(len(a), 3, int(a["moved"].sum()))
    summary.update(objective=466_965.5, lower_bound=371_479.6, gap=0.20448)
    summary["hierarchy"] = {"district": {"design": {"grouping_lower_bound": 463_119.0}}}
    note = design_gap_note(summary)
    assert note == (
        " to the bound for any grouping of the reps into districts; 0.82% to the bound for the chosen "
        "districts"
    )
    html = write_map(write_plan(tmp_path / "p", a, t, summary), tmp_path / "m.html").read_text(
        encoding="utf-8"
    )
    assert f"gap <b>20.45%</b>{note}" in html
    panel = html[html.index('<aside id="tp-legend">') :].split("</aside>")[0]
    assert "<td>+0.0</td>" in panel
    assert "-0.0" not in panel
    # no note when the bound already is the chosen districts' (or there is no design)
    summary["hierarchy"]["district"]["design"]["grouping_lower_bound"] = 371_479.6
    assert design_gap_note(summary) == ""
    assert design_gap_note({"objective": 1.0, "lower_bound": 0.5}) == ""
    assert signed_percent(-0.04) == "+0.0%"
    assert signed_percent(-0.06) == "-0.1%"
    one = t.iloc[:1].copy()
    solo = write_plan(tmp_path / "one", a.assign(rep_id="R1", current_rep="R1"), one)
    assert ": 1 rep, 9 accounts</h1>" in write_map(solo, tmp_path / "o.html").read_text(encoding="utf-8")


def test_the_plans_notes_are_in_the_panel_folded(tmp_path: Path) -> None:
    """QA41 F1: the map gave none of the plan's notes (a relaxed plan's why, a home account sent 3,410 km
    away): now under one folded line, as report.html gives them, open for a relaxed plan."""
    from map_fixtures import assignments_frame, summary_dict, territories_frame, write_plan

    a = assignments_frame()
    summary = summary_dict(len(a), 3, int(a["moved"].sum()))
    summary["input_warnings"] = ["R1's home account A1 <Acme> goes to R2, 3,410 km from it"]
    html = write_map(write_plan(tmp_path / "p", a, territories_frame(a), summary), tmp_path / "m.html")
    panel = html.read_text(encoding="utf-8").split('<aside id="tp-legend">')[1].split("</aside>")[0]
    assert '<details class="tp-notes"><summary>1 note on this plan</summary>' in panel
    assert "<li>R1&#x27;s home account A1 &lt;Acme&gt; goes to R2, 3,410 km from it</li>" in panel
    notes = [
        "RELAXED PLAN: no plan meets every band",
        "balance: A1 alone is above every band",
        "the whole model ran",
    ]
    summary.update(status="relaxed", notes=notes)
    html = write_map(write_plan(tmp_path / "r", a, territories_frame(a), summary), tmp_path / "r.html")
    panel = html.read_text(encoding="utf-8").split('<aside id="tp-legend">')[1].split("</aside>")[0]
    assert '<details class="tp-notes" open><summary>3 notes on this plan</summary>' in panel
    assert "<li>RELAXED PLAN: no plan meets every band</li><li>balance: A1 alone is above every band" in panel
    assert "the whole model ran" not in panel  # the solver's notes stay in summary.json
    plain = write_map(write_plan(tmp_path / "q", a, territories_frame(a)), tmp_path / "q.html")
    assert "tp-notes" not in plain.read_text(encoding="utf-8").split('<aside id="tp-legend">')[1]
