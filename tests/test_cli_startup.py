"""``--help`` and usage errors answer without loading the numerical stack (pandas, numpy, the solvers,
folium): it took 3.3 s of imports before a help text could print. Checked in a fresh interpreter, by
the modules loaded, not by a timing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = (
    "numpy",
    "pandas",
    "pandera",
    "scipy",
    "folium",
    "pulp",
    "highspy",
    "geopandas",
    "shapely",
    "openpyxl",
)

# through the console script's own entry (``cli.run``, which also installs the Ctrl-C handler: it had
# loaded numpy and PuLP for --help through solvers.base)
SCRIPT = """
import json, sys
from territory_planner.cli import run
sys.argv = ["territory-planner", *sys.argv[1:]]
try:
    run()
except SystemExit as exc:
    code = exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def _run(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(heavy=HEAVY), *args], capture_output=True, text=True, check=False
    )
    last = out.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(last)
    return result


def _commands() -> list[str]:
    from territory_planner.cli import main

    return sorted(main.commands)


def test_the_command_list_is_complete() -> None:
    assert {
        "plan",
        "validate",
        "demo",
        "map",
        "report",
        "forecast",
        "export",
        "edit",
        "compare",
        "sweep",
    } <= set(_commands())


@pytest.mark.parametrize("args", [["--help"], *[[c, "--help"] for c in _commands()]], ids=" ".join)
def test_help_loads_no_numerical_stack(args: list[str]) -> None:
    result = _run(*args)
    assert result == {"code": 0, "heavy": []}


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--tolerance"],  # an option without its value
        ["report", "--crm", "no/such/folder"],  # a folder that does not exist
        ["export", ".", "--format", "pdf", "--out", "x"],  # a format that does not exist
        ["nosuch"],
    ],
    ids=" ".join,
)
def test_usage_errors_load_no_numerical_stack(args: list[str]) -> None:
    result = _run(*args)
    assert result["code"] == 2
    assert result["heavy"] == []


def test_the_console_script_counts_the_time_limit_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA17 F16: the solver's imports (about 2 s) came before the clock of --time-limit started, so the
    whole command overran "limit x 1.05 + 2 s". The console script hands the time it started to the plan;
    a caller of the click group (a test's CliRunner, a library) counts from the command itself."""
    from click.testing import CliRunner

    from territory_planner import api, cli

    seen: list[float | None] = []

    def fake_plan(*_args: object, begun: float | None = None, **_kw: object) -> object:
        seen.append(begun)
        raise SystemExit(0)

    monkeypatch.setattr(api, "plan", fake_plan)
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    argv = ["plan", "--accounts", str(sample / "accounts.csv"), "--reps", str(sample / "reps.csv")]
    argv += ["--out", str(tmp_path / "p"), "--quiet"]
    monkeypatch.setattr(cli, "COMMAND_BEGUN", None)
    CliRunner().invoke(cli.main, argv)
    monkeypatch.setattr(sys, "argv", ["territory-planner", *argv])
    monkeypatch.setattr(cli, "_RUNS", 0)  # the process's first command
    with pytest.raises(SystemExit):
        cli.run()
    assert seen == [None, cli.IMPORTED]
    assert cli.COMMAND_BEGUN is None  # a later command in the process does not count from this one's start
    before = time.perf_counter()
    with pytest.raises(SystemExit):
        cli.run()
    assert seen[2] is not None
    assert before <= seen[2] <= time.perf_counter()
