"""A plan folder argument that does not exist is a usage error (exit 2) naming the path, in every command
that reads a plan folder (QA13 9: `map nonexist` exited 1 where `compare it1 nonexist` exited 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from territory_planner.cli import main

MISSING = "no_such_plan"
PLAN_PARAMS = {"plan_dir", "plans", "plan", "from_manifest"}  # the parameters naming a plan folder


def commands(tmp: Path) -> dict[str, list[str]]:
    missing = str(tmp / MISSING)
    there = tmp / "there"  # an existing folder: the other plan of compare, the CRM folder
    there.mkdir(exist_ok=True)
    out = str(tmp / "out")
    return {
        "map": ["map", missing],
        "edit": ["edit", missing, "--edits", str(tmp / "edits.csv"), "--out", out],
        "export": ["export", missing, "--format", "xlsx", "--out", str(tmp / "plan.xlsx")],
        "compare second": ["compare", str(there), missing, "--out", out],
        "compare first": ["compare", missing, str(there), "--out", out],
        "report": ["report", "--crm", str(there), "--period", "2026Q2", "--plan", missing, "--out", out],
        "forecast": ["forecast", "--crm", str(there), "--horizon", "2026Q3", "--plan", missing, "--out", out],
        "plan": ["plan", "--from-manifest", missing, "--out", out],
    }


CASES = ["map", "edit", "export", "compare second", "compare first", "report", "forecast", "plan"]


@pytest.mark.parametrize("name", CASES)
def test_a_missing_plan_folder_is_a_usage_error(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(main, commands(tmp_path)[name])
    assert result.exit_code == 2, result.output
    assert MISSING in result.output
    assert "does not exist" in result.output
    assert not (tmp_path / "out").exists()  # nothing written, not even input_errors.csv
    assert not (tmp_path / "plan.xlsx").exists()


def test_every_command_reading_a_plan_folder_is_covered() -> None:
    """A new command taking a plan folder must be added to CASES (and exit 2 when it is missing)."""
    takes_plan = {
        name for name, command in main.commands.items() if any(p.name in PLAN_PARAMS for p in command.params)
    }
    assert takes_plan == {case.split()[0] for case in CASES}
