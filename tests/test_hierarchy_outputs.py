"""Hierarchy outputs: districts.csv / regions.csv, the CLI and scenario keys, the map's level switch
(in the real browser, skipped without chromium)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from map_fixtures import CHROMIUM, chromium_command, status_attributes

from territory_planner.cli import main
from territory_planner.io.hierarchy import lone_labels
from tests.hierarchy_fixtures import write_grid

FLAGS = ["--tolerance", "potential=0.7,workload=0", "--quiet", "--time-limit", "30"]


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hier")
    a, r = write_grid(root)
    out = root / "plan"
    res = CliRunner().invoke(
        main,
        [
            "plan",
            "--accounts",
            str(a),
            "--reps",
            str(r),
            "--out",
            str(out),
            "--district-tolerance",
            "potential=0.1",
        ]
        + FLAGS,
    )
    assert res.exit_code == 0, res.output
    assert "2 districts | max deviation" in res.output
    # the closing line names every file written, the level files too
    assert "summary.json, map.html, report.html, districts.csv," in " ".join(res.output.split())
    return out


def test_districts_and_regions_files(grid_plan: Path) -> None:
    t = pd.read_csv(grid_plan / "territories.csv", keep_default_na=False)
    assert list(t["district"]) == ["West", "West", "East", "East"]
    d = pd.read_csv(grid_plan / "districts.csv", keep_default_na=False).set_index("district")
    assert list(d.index) == ["East", "West"]  # by label, not the roster's order (QA102 F5)
    assert d.loc["West", "region"] == "All"
    assert d.loc["West", "reps"] == 2
    assert d.loc["West", "potential"] == t[t["district"] == "West"]["potential"].sum()
    assert d.loc["West", "potential_target"] == pytest.approx(20.0)
    assert abs(d.loc["West", "potential_dev_pct"]) <= 10.0 + 1e-9
    assert d["accounts"].sum() == 16
    reg = pd.read_csv(grid_plan / "regions.csv", keep_default_na=False)
    assert list(reg["region"]) == ["All"]
    assert reg["potential"].iloc[0] == 40.0
    s = json.loads((grid_plan / "summary.json").read_text())
    assert s["hierarchy"]["district"]["tolerance"] == {"potential": 0.1}
    assert s["config"]["district_tolerance"] == {"potential": 0.1}
    html = (grid_plan / "report.html").read_text()
    assert 'id="balance-district"' in html
    assert "Deviation from target per district" in html


def test_scenario_keys(tmp_path: Path) -> None:
    a, r = write_grid(tmp_path)
    scen = tmp_path / "s.toml"
    scen.write_text(
        'accounts = "accounts.csv"\nreps = "reps.csv"\ndistrict_tolerance = 0.1\nregion_tolerance = 0.2\n'
        "[tolerance]\npotential = 0.7\nworkload = 0.0\n"
    )
    res = CliRunner().invoke(main, ["plan", str(scen), "--out", str(tmp_path / "p"), "--quiet"])
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "p" / "summary.json").read_text())["config"]
    assert cfg["district_tolerance"] == {"*": 0.1}
    assert cfg["region_tolerance"] == {"*": 0.2}
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'accounts = "accounts.csv"\nreps = "reps.csv"\ndistrict_tolerance = "x"\ndesign_districts = 0\n'
    )
    res = CliRunner().invoke(main, ["validate", str(bad)])
    assert res.exit_code == 1
    assert "district_tolerance" in res.output
    assert "design_districts" in res.output


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
def test_map_level_switch_in_the_browser(grid_plan: Path, tmp_path: Path) -> None:
    from territory_planner.render.map import write_map

    page = write_map(grid_plan, tmp_path / "map.html", offline=True).resolve()  # no CDN in tests
    data = page.read_text()
    assert '"levels":{"district":{"names":["West","East"]' in data
    procs = {
        lv: subprocess.Popen(
            chromium_command(page.as_uri() + f"#probe=A00&level={lv}", tmp_path / f"prof-{lv}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for lv in ("territory", "district", "region")
    }
    status = {lv: status_attributes(p.communicate(timeout=60)[0]) for lv, p in procs.items()}
    assert [status[lv]["level"] for lv in procs] == ["territory", "district", "region"]
    # territory view: R1 a shade of West's hue (not West's own colour); district view: West's colour
    assert status["district"]["probe-fill"] == "#4e79a7"
    assert status["territory"]["probe-fill"] not in ("#4e79a7", "#f28e2b")
    r, g, b = (int(status["territory"]["probe-fill"][i : i + 2], 16) for i in (1, 3, 5))
    assert b > r  # a blue shade, like West
    px = status["district"]["probe-pixel"].split(",")
    assert (int(px[0]), int(px[1]), int(px[2])) == (0x4E, 0x79, 0xA7)  # drawn on the canvas


def test_compare_shows_moves_between_districts(grid_plan: Path, tmp_path: Path) -> None:
    a, r = write_grid(tmp_path)
    free = tmp_path / "free"
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(free), *FLAGS]
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["compare", str(free), str(grid_plan), "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    moves = pd.read_csv(tmp_path / "cmp" / "moves.csv", keep_default_na=False)
    cross = moves[moves["district_a"] != moves["district_b"]]
    # the quadrants put 32 potential in West; the district band (18 to 22) moves at least 10 of it east
    west_out = cross[cross["district_a"] == "West"]["potential"].sum()
    east_out = cross[cross["district_a"] == "East"]["potential"].sum()
    assert west_out - east_out >= 10.0
    table = pd.read_csv(tmp_path / "cmp" / "district_moves.csv", keep_default_na=False)
    assert set(zip(table["district_a"], table["district_b"], strict=True)) <= {
        ("West", "East"),
        ("East", "West"),
    }
    assert table["accounts"].sum() == len(cross)
    assert "Moves between districts" in (tmp_path / "cmp" / "compare.html").read_text()


def test_level_table_of_a_hand_written_territories_table_without_derived_columns() -> None:
    import pandas as pd

    from territory_planner.level_outputs import level_frame

    terr = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "district": ["East", "East", "West"],
            "region": ["North", "North", "North"],
            "potential": [10.0, 12.0, 9.0],
            "potential_target": [10.0, 10.0, 10.0],
        }
    )
    out = level_frame(terr, "district").set_index("district")
    assert out.loc["East", "reps"] == 2
    assert out.loc["East", "potential"] == 22.0
    assert out.loc["East", "potential_dev_pct"] == 10.0
    assert out.loc["West", "accounts"] == ""
    assert out.loc["West", "travel_km"] == ""


def test_an_edit_that_breaks_a_district_band_lists_it(grid_plan: Path, tmp_path: Path) -> None:
    a = pd.read_csv(grid_plan / "assignments.csv", keep_default_na=False)
    t = pd.read_csv(grid_plan / "territories.csv", keep_default_na=False)
    district = dict(zip(t["rep_id"], t["district"], strict=True))
    east = a[a["rep_id"].map(district) == "East"].sort_values("potential", ascending=False)
    moved = east.iloc[0]  # East's heaviest account goes to R1 in the West
    west = float(t[t["district"] == "West"]["potential"].sum()) + float(moved["potential"])
    assert west > 22.0  # the band is 18 to 22 (20 +- 10%): the edit breaks it on both sides
    edits = tmp_path / "edits.csv"
    edits.write_text(f"account_id,rep_id\n{moved['account_id']},R1\n")
    res = CliRunner().invoke(
        main, ["edit", str(grid_plan), "--edits", str(edits), "--out", str(tmp_path / "e")]
    )
    assert res.exit_code == 0, res.output
    assert "district_max West potential" in res.output
    assert "district_min East potential" in res.output
    s = json.loads((tmp_path / "e" / "summary.json").read_text())
    broken = {(v["constraint"], v.get("group")): v for v in s["violations"]}
    assert broken[("district_max", "West")]["violation"] == pytest.approx(west - 22.0)
    assert broken[("district_min", "East")]["violation"] == pytest.approx(18.0 - (40.0 - west))
    html = (tmp_path / "e" / "report.html").read_text()
    assert "<td>district_max</td><td>West</td>" in html
    assert 'class="k">Edited from</div>' in html  # no solver ran: not "HiGHS in 0.0 s"
    assert 'class="k">Solver</div>' not in html


def test_a_district_name_typo_for_one_rep_is_warned(tmp_path: Path) -> None:
    """A district typed differently for one rep ('Esat' beside 'East') makes a district of that rep
    alone, which every band accepts: the plan warns with the file, row and column, in summary.json's
    notes too (QA10); one-rep districts whose names differ by a digit only (D1, D2) are not warned."""
    a, r = write_grid(tmp_path)
    reps = pd.read_csv(r)
    reps["district"] = ["D1", "D2", "East", "Esat"]
    reps.to_csv(r, index=False)
    # the lone labels alone, each with the close one
    assert lone_labels(reps.fillna(""), "reps.csv") == [
        "reps.csv: row 3, column district: district 'East' has one rep (R3); 'Esat' (1 rep) is close: "
        "a typo?",
        "reps.csv: row 4, column district: district 'Esat' has one rep (R4); 'East' (1 rep) is close: "
        "a typo?",
    ]
    # Oeste and Leste (west and east in Portuguese) differ in their first letter: two names
    assert lone_labels(reps.assign(district=["Oeste", "Leste", "Leste", "Leste"]).fillna(""), "r") == []
    assert lone_labels(reps.assign(district=["D-Nvoa", "D-Nova", "D-Nova", "D-Noav"]).fillna(""), "r")
    reps["district"] = ["West", "West", "East", "Eats"]
    reps.to_csv(r, index=False)
    out = tmp_path / "p"
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), *FLAGS]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    notes = json.loads((out / "summary.json").read_text())["notes"]
    warned = "row 4, column district: district 'Eats' has one rep (R4); 'East' (1 rep) is close"
    assert any(warned in n for n in notes)


def test_report_level_table_shows_the_pieces_of_split_districts() -> None:
    """With a known map the report's district table has a Pieces column, a split district's cell
    shaded (QA10: designed districts in 5 and 9 pieces read like connected ones)."""
    from territory_planner.report.level_balance import level_tables

    terr = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "district": ["East", "East", "West"],
            "potential": [10.0, 12.0, 9.0],
            "potential_target": [10.0, 10.0, 10.0],
            "potential_dev_pct": [0.0, 20.0, -10.0],
        }
    )
    summary = {"hierarchy": {"district": {"tolerance": {"*": 0.2}, "pieces": {"East": 3, "West": 1}}}}
    (table,) = level_tables(terr, summary)
    assert table["columns"][-1] == "Pieces"
    assert [row[-1] for row in table["rows"]] == [("3", "num below"), ("1", "num")]
    del summary["hierarchy"]["district"]["pieces"]  # no map: no column
    assert level_tables(terr, summary)[0]["columns"][-1] == "Travel (workload \u00d7 km)"


def test_map_level_legend_names_the_split_districts() -> None:
    """The map's "Colour by district" table ends with the districts the map splits (QA10)."""
    from territory_planner.render.legend import level_table

    terr = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "district": ["East", "East", "West"],
            "potential": [10.0, 12.0, 9.0],
            "potential_target": [10.0, 10.0, 10.0],
        }
    )
    summary = {"hierarchy": {"district": {"tolerance": {"*": 0.2}, "pieces": {"East": 3, "West": 1}}}}
    html = level_table(terr, "district", ["East", "West"], ["#111111", "#222222"], summary)
    assert '<tfoot><tr><td colspan="7">In several pieces on the map: East (3)</td></tr></tfoot>' in html
    summary["hierarchy"]["district"]["pieces"] = {"East": 1, "West": 1}
    assert "tfoot" not in level_table(terr, "district", ["East", "West"], ["#111111", "#222222"], summary)


def test_groups_are_listed_by_label_numbers_by_value() -> None:
    """QA102 F5: districts came in the roster's order of first appearance ("D1, D3, D2") in
    districts.csv, the report and the map's panel; they are listed by label, D2 before D10."""
    from territory_planner.level_outputs import level_frame

    t = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4", "R5"],
            "district": ["D1", "D10", "D3", "D2", "d1 "],
            "potential": [1.0, 2.0, 3.0, 4.0, 5.0],
            "potential_target": [3.0] * 5,
        }
    )
    assert list(level_frame(t, "district")["district"]) == ["D1", "d1", "D2", "D3", "D10"]
