"""``compare`` sets the options the plans were made with side by side: ``options.csv`` (every option),
``plans.csv`` (an ``option_<name>`` column per option that differs) and compare.html's "Options that
differ" table.

The plans are real ``plan`` runs on the six-account line of ``conftest.line_instance``::

    tight   --tolerance 0.05
    home    --tolerance potential=0.05,workload=0.1 --keep-home 1
    same    --tolerance potential=0.05,workload=0.05      (tight's bands, given per measure)
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import line_instance, write_instance

from territory_planner.cli import main
from territory_planner.compare import compare, compare_plans
from territory_planner.compare_options import plan_settings

FLAGS = {
    "tight": ["--tolerance", "0.05"],
    "home": ["--tolerance", "potential=0.05,workload=0.1", "--keep-home", "1"],
    "same": ["--tolerance", "potential=0.05,workload=0.05"],
}


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("plans")
    a, r = write_instance(root / "line", *line_instance())
    out = {}
    for name, flags in FLAGS.items():
        args = ["plan", "--accounts", str(a), "--reps", str(r), "--time-limit", "30", "-q", *flags]
        result = CliRunner().invoke(main, [*args, "--out", str(root / name)])
        assert result.exit_code == 0, result.output
        out[name] = root / name
    return out


def _options_rows(page: str) -> list[list[str]]:
    """compare.html's "Options that differ" table as text cells, header row first ([] when absent)."""
    found = re.search(r'<table id="options">(.*?)</table>', page, re.S)
    if found is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def _options_section(page: str) -> str:
    return page.split("<h2>Options that differ</h2>", 1)[1].split("<h2>", 1)[0]


def _old_copy(plan: Path, folder: Path, drop: tuple[str, ...] = ()) -> Path:
    """``plan`` as an older version wrote it: no options at all, or without the config keys ``drop``."""
    shutil.copytree(plan, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if drop:
        for key in drop:
            del summary["config"][key]
    else:
        del summary["config"]
        summary.pop("command_line", None)
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_the_options_that_differ_are_in_the_csvs_the_page_and_the_console_line(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(plans["tight"]), str(plans["home"]), "--out", str(out)])
    assert result.exit_code == 0, result.output

    overview = pd.read_csv(out / "plans.csv", keep_default_na=False, dtype=str)
    options = [c for c in overview.columns if c.startswith("option_")]
    assert options == ["option_tolerance", "option_keep_home"]  # only those; seed, gap, balance are equal
    assert overview["option_tolerance"].tolist() == [
        "potential=0.05,workload=0.05",
        "potential=0.05,workload=0.1",
    ]
    assert overview["option_keep_home"].tolist() == ["", "1"]

    table = pd.read_csv(out / "options.csv", keep_default_na=False, dtype=str).set_index("option")
    assert set(table.index[table["differs"] == "True"]) == {"tolerance", "keep_home"}
    assert {"seed", "gap", "balance", "time_limit", "solver", "max_moved_share"} <= set(table.index)
    assert table.loc["keep_home", ["tight", "home"]].tolist() == ["", "1"]
    assert table.loc["time_limit", ["tight", "home"]].tolist() == ["30", "30"]

    page = (out / "compare.html").read_text(encoding="utf-8")
    assert _options_rows(page) == [
        ["option", "tight", "home"],
        ["--tolerance", "potential ±5%, workload ±5%", "potential ±5%, workload ±10%"],
        ["--keep-home", "off", "1 km"],
    ]
    assert "All options are equal" not in page
    plans_table = page.split('<table id="plans">', 1)[1].split("</table>", 1)[0]
    assert "option" not in plans_table  # the options have their own table, not the plans table's columns

    comparison = compare_plans([plans["tight"], plans["home"]])
    assert comparison.differing_options() == ["tolerance", "keep_home"]
    assert comparison.options_line() == "options that differ: --tolerance, --keep-home"


def test_a_tolerance_as_one_number_equals_the_same_bands_given_per_measure(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    comparison = compare([plans["tight"], plans["same"]], tmp_path / "cmp")
    assert comparison.differing_options() == []
    assert comparison.options_line() == "all options are equal"
    assert not [c for c in comparison.overview.columns if str(c).startswith("option_")]
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert _options_rows(page) == []
    assert "All options are equal: the plans were made with the same settings." in _options_section(page)

    # summaries written by hand or by older versions keep a bare number as "*"
    def settings(**config: object) -> dict[str, str]:
        return {
            k: s.key
            for k, s in plan_settings({"config": {"balance": ["potential", "workload"], **config}}).items()
        }

    one, per = settings(tolerance={"*": 0.05}), settings(tolerance={"potential": 0.05, "workload": 0.05})
    assert one["tolerance"] == per["tolerance"]
    assert settings(tolerance={"*": 0.05})["tolerance"] != settings(tolerance={"*": 0.06})["tolerance"]
    assert settings(tolerance={})["tolerance"] == one["tolerance"]  # the default band, 5%
    # what is written beside the plan is not a setting of the plan (QA41 F7: --offline "differed")
    assert settings(offline=True, xlsx=True)["offline"] == settings(offline=False, xlsx=False)["offline"]
    assert settings(offline=True, xlsx=True)["xlsx"] == settings(offline=False, xlsx=False)["xlsx"]
    assert (
        settings(district_tolerance={"*": 0.1})["district_tolerance"]
        == settings(district_tolerance={"potential": 0.1, "workload": 0.1})["district_tolerance"]
    )
    # designed districts without a band get the model's +-10% potential
    designed = settings(design_districts=3, district_tolerance={})["district_tolerance"]
    assert (
        designed == settings(design_districts=3, district_tolerance={"potential": 0.1})["district_tolerance"]
    )
    assert designed != settings(district_tolerance={})["district_tolerance"]


def test_plans_without_recorded_options_still_compare_and_say_not_recorded(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    old = _old_copy(plans["tight"], tmp_path / "old")
    comparison = compare([old, plans["home"]], tmp_path / "cmp")
    assert comparison.differing_options() == []  # nothing known to differ
    table = pd.read_csv(tmp_path / "cmp" / "options.csv", keep_default_na=False, dtype=str)
    assert set(table["old"]) == {"not recorded"}
    assert "1" in table["home"].tolist()
    section = _options_section((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    assert "All recorded options are equal." in section
    assert "Not recorded in summary.json" in section
    assert "old: every option" in section
    assert comparison.options_line() == "all recorded options are equal"

    # an older plan that records options, but not --keep-home: tight and home still differ on it
    partial = _old_copy(plans["tight"], tmp_path / "partial", drop=("keep_home",))
    comparison = compare([plans["tight"], partial, plans["home"]], tmp_path / "cmp3")
    assert comparison.differing_options() == ["tolerance", "keep_home"]
    page = (tmp_path / "cmp3" / "compare.html").read_text(encoding="utf-8")
    assert ["--keep-home", "off", "not recorded", "1 km"] in _options_rows(page)
    assert "partial: --keep-home" in _options_section(page)
    overview = pd.read_csv(tmp_path / "cmp3" / "plans.csv", keep_default_na=False, dtype=str)
    assert overview["option_keep_home"].tolist() == ["", "not recorded", "1"]


def test_input_tables_compare_by_content_and_the_scenario_by_file(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    def variant(name: str, **changes: object) -> Path:
        folder = tmp_path / name
        shutil.copytree(plans["tight"], folder)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        for key, value in changes.items():
            if key == "accounts":
                summary["config"]["accounts"] = value
            elif key == "accounts_sha":
                summary["inputs_sha256"]["accounts"] = value
            else:
                summary[key] = value
        (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        return folder

    moved = variant("moved", accounts="/elsewhere/accounts.csv")  # the same table under another path
    assert compare_plans([plans["tight"], moved]).differing_options() == []

    changed = variant("changed", accounts_sha="0" * 64)  # the same path, another table
    comparison = compare([plans["tight"], changed], tmp_path / "cmp")
    assert comparison.differing_options() == ["accounts"]
    rows = _options_rows((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8"))
    assert rows[1][0] == "--accounts"
    assert rows[1][1] != rows[1][2]
    assert rows[1][2].endswith("(sha256 000000000000)")

    scenario = variant("scenario", scenario="/work/scenarios/low_disruption.toml")
    comparison = compare([plans["tight"], scenario], tmp_path / "cmp2")
    assert comparison.differing_options() == ["scenario"]
    rows = _options_rows((tmp_path / "cmp2" / "compare.html").read_text(encoding="utf-8"))
    assert rows[1] == ["scenario", "none (flags only)", "low_disruption.toml"]


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("tolerance", {"potential": 0.05, "workload": 0.125}, "potential ±5%, workload ±12.5%"),
        ("district_tolerance", {}, "none"),
        ("max_moved_share", None, "no limit"),
        ("max_moved_share", 0.2, "20%"),
        ("gap", 0.001, "0.1%"),
        ("keep_home", 2.5, "2.5 km"),
        ("time_limit", 120.0, "120 s"),
        ("contiguous", True, "yes"),
        ("relax", False, "no"),
        ("reps_add", [{"rep_id": "R21", "lat": 32.8}], "R21"),
        ("reps_remove", ["R07", "R08"], "R07, R08"),
        ("balance", ["potential", "workload"], "potential, workload"),
        ("currency", "", "none"),
        ("company_target", 36000000.0, "$36,000,000"),
        ("scenario", "C:\\plans\\low.toml", "low.toml"),
    ],
)
def test_a_setting_reads_as_a_planner_would_say_it(name: str, value: object, text: str) -> None:
    from territory_planner.compare_html import setting_text

    assert setting_text(name, value) == text


def test_the_compare_command_prints_the_options_that_differ(plans: dict[str, Path], tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["compare", str(plans["tight"]), str(plans["home"]), "--out", str(tmp_path / "cli")]
    )
    assert res.exit_code == 0, res.output
    assert "options that differ: --tolerance, --keep-home" in res.output
    res = CliRunner().invoke(
        main, ["compare", str(plans["tight"]), str(plans["same"]), "--out", str(tmp_path / "same")]
    )
    assert res.exit_code == 0, res.output
    assert "all options are equal" in res.output


def test_a_blank_option_equals_the_value_it_took(plans: dict[str, Path], tmp_path: Path) -> None:
    """QA15 L10: `plan` records --threads blank by default, a sweep point 1; both ran one solver thread,
    yet compare listed --threads among the options that differ. A blank quota history weight is its
    quota method's default likewise."""
    point = shutil.copytree(plans["tight"], tmp_path / "point")
    summary = json.loads((point / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["threads"] is None
    summary["config"]["threads"] = 1
    summary["config"]["quota_history_weight"] = 0.0
    (point / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    comparison = compare([plans["tight"], point], tmp_path / "cmp")
    assert comparison.differing_options() == []
    table = comparison.options.set_index("option")
    assert list(table.loc["threads", ["tight", "point"]]) == ["1", "1"]
    summary["config"]["threads"] = 2
    (point / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert compare([plans["tight"], point], tmp_path / "cmp2").differing_options() == ["threads"]

    def weight(**config: object) -> str:
        return plan_settings({"config": {"quota_history_weight": None, **config}})["quota_history_weight"].key

    assert weight(quota_method="forecast") == weight(quota_method="forecast", quota_history_weight=0.5)
    assert weight() == weight(quota_history_weight=0.0)
    assert weight() != weight(quota_method="forecast")


def test_an_added_reps_name_is_written_as_typed() -> None:
    """QA52 F5: options.csv and plans.csv wrote a scenario's [[reps.add]] with JSON escapes
    ("Nerea Ort\\u00fazar"): the CSVs are UTF-8."""
    from territory_planner.compare_options import csv_text

    text = csv_text([{"rep_id": "R06", "name": "Nerea Ortúzar"}])
    assert "Nerea Ortúzar" in text
    assert "\\u" not in text


def test_a_rep_in_one_plan_only_has_blank_cells_in_compare_html() -> None:
    """QA52 F8: compare.html showed "<NA>" (pandas' missing integer) under the accounts of a rep that left,
    and of one that was added; balance.csv had blank cells."""
    import pandas as pd

    from territory_planner.compare_html import table_html

    frame = pd.DataFrame({"rep_id": ["R03", "R06"], "accounts_a": pd.array([30, None], dtype="Int64")})
    page = table_html(frame, "balance")
    assert "NA" not in page
    assert ">30<" in page
