"""`territory-planner map` and the plan-folder checks: clear errors, exit 1, no half-written map."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from map_fixtures import area_plan, sample_plan

from territory_planner.errors import InputError
from territory_planner.render.cli import map_command
from territory_planner.render.plan_folder import read_plan_folder

OLD_MAP = "<html>previous map</html>"


def invoke(*args: str):
    return CliRunner().invoke(map_command, list(args))


def problems_of(plan: Path) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(InputError) as info:
        read_plan_folder(plan)
    return [(p.file, p.row, p.column) for p in info.value.problems]


def test_map_command_writes_the_map(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    result = invoke(str(plan))
    assert result.exit_code == 0, result.output
    assert "map written to" in result.output
    assert 'id="tp-data"' in (plan / "map.html").read_text(encoding="utf-8")


def test_map_command_offline_and_out(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    out = tmp_path / "share" / "board.html"
    result = invoke(str(plan), "--offline", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "<script src=" not in out.read_text(encoding="utf-8")
    assert not (plan / "map.html").exists()


def test_a_file_at_out_is_replaced_only_with_force(tmp_path: Path) -> None:
    """QA29 F16: `map --out notes.html` replaced the user's file without a word."""
    plan = sample_plan(tmp_path / "plan")
    out = tmp_path / "notes.html"
    out.write_text("my notes", encoding="utf-8")
    result = invoke(str(plan), "--out", str(out))
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.output
    assert out.read_text(encoding="utf-8") == "my notes"
    result = invoke(str(plan), "--out", str(tmp_path))  # a folder is no map file
    assert result.exit_code == 2
    assert "is a directory" in result.output
    result = invoke(str(plan), "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert 'id="tp-data"' in out.read_text(encoding="utf-8")
    result = invoke(str(plan))  # the plan's own map.html is the command's to replace
    assert result.exit_code == 0, result.output
    assert invoke(str(plan)).exit_code == 0


def test_help_has_an_example() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "territory-planner map plans/2025 --offline" in result.output


@pytest.mark.parametrize("missing", ["assignments.csv", "territories.csv", "summary.json"])
def test_missing_file_is_exit_1_and_keeps_the_old_map(tmp_path: Path, missing: str) -> None:
    plan = sample_plan(tmp_path / "plan")
    (plan / missing).unlink()
    (plan / "map.html").write_text(OLD_MAP, encoding="utf-8")
    result = invoke(str(plan))
    assert result.exit_code == 1
    assert missing in result.output
    assert "missing from the plan folder" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert (plan / "map.html").read_text(encoding="utf-8") == OLD_MAP
    assert [p.name for p in plan.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_missing_plan_folder(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope"))
    assert result.exit_code == 2  # a usage error, as in compare (QA13 9)
    assert "'" + str(tmp_path / "nope") + "' does not exist" in result.output


def test_unknown_reps_are_reported_with_row_and_column(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[1, "rep_id"] = "R99"
    a.loc[4, "rep_id"] = "GHOST"
    a.to_csv(plan / "assignments.csv", index=False)
    (plan / "map.html").write_text(OLD_MAP, encoding="utf-8")
    assert problems_of(plan) == [("assignments.csv", 2, "rep_id"), ("assignments.csv", 5, "rep_id")]
    result = invoke(str(plan))
    assert result.exit_code == 1
    assert "R99" in result.output
    assert "GHOST" in result.output
    assert "rep is not in territories.csv" in result.output
    assert (plan / "map.html").read_text(encoding="utf-8") == OLD_MAP


def test_malformed_columns_are_all_reported_at_once(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[0, "lat"] = "north"
    a.loc[1, "lon"] = "200"
    a.loc[2, "potential"] = "-5"
    a.loc[3, "moved"] = "maybe"
    a.loc[4, "account_id"] = "A1"
    a.loc[5, "account_id"] = ""
    a.to_csv(plan / "assignments.csv", index=False)
    t = pd.read_csv(plan / "territories.csv", dtype=str, keep_default_na=False)
    t.loc[2, "rep_id"] = "R1"
    t.to_csv(plan / "territories.csv", index=False)
    (plan / "summary.json").write_text("{not json", encoding="utf-8")
    found = problems_of(plan)
    for expected in [
        ("assignments.csv", 1, "lat"),
        ("assignments.csv", 2, "lon"),
        ("assignments.csv", 3, "potential"),
        ("assignments.csv", 4, "moved"),
        ("assignments.csv", 5, "account_id"),
        ("assignments.csv", 6, "account_id"),
        ("territories.csv", 3, "rep_id"),
        ("summary.json", None, None),
    ]:
        assert expected in found
    result = invoke(str(plan))
    assert result.exit_code == 1
    assert "problem(s) in the inputs" in result.output


def test_missing_required_column(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    a = pd.read_csv(plan / "assignments.csv").drop(columns=["lat"])
    a.columns = [c.upper() for c in a.columns]  # column names are case-insensitive
    a.to_csv(plan / "assignments.csv", index=False)
    assert problems_of(plan) == [("assignments.csv", None, "lat")]


def test_bad_units_geojson(tmp_path: Path) -> None:
    plan = area_plan(tmp_path / "plan")
    units = json.loads((plan / "units.geojson").read_text(encoding="utf-8"))
    units["features"][0]["properties"]["account_id"] = "NOPE"
    units["features"][1]["geometry"] = {"type": "Point", "coordinates": [0, 0]}
    (plan / "units.geojson").write_text(json.dumps(units), encoding="utf-8")
    assert problems_of(plan) == [("units.geojson", 1, "account_id"), ("units.geojson", 2, "geometry")]


def test_csv_injection_guard_is_undone_for_display(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "plan")
    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[0, "name"] = "'=HYPERLINK()"
    a.to_csv(plan / "assignments.csv", index=False)
    assert read_plan_folder(plan).assignments.loc[0, "name"] == "=HYPERLINK()"


def test_former_current_rep_is_not_an_error(tmp_path: Path) -> None:
    """A rep who left still shows as the current owner in the before view (grey)."""
    plan = sample_plan(tmp_path / "plan")
    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[0, ["current_rep", "moved"]] = ["R_LEFT", "True"]
    a.to_csv(plan / "assignments.csv", index=False)
    result = invoke(str(plan))
    assert result.exit_code == 0, result.output
    html = (plan / "map.html").read_text(encoding="utf-8")
    assert '"R_LEFT"' in html
