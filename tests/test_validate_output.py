"""`validate`'s totals as the report writes them (QA7 O6: "total potential 48,257,455,000.0" for a plan in
yen): money in the scenario's currency (or --currency), whole amounts, no trailing ".0"; other measures
as plain numbers.

The instance: six accounts of 1,000,000,000.25 potential and workload 1 (1.25 for A1 and A4), two reps.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import line_instance, write_instance


def totals(*args: str) -> dict[str, str]:
    res = CliRunner().invoke(main, ["validate", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return dict(re.findall(r"│ total (\w+)\s+│\s+(.+?) │", res.output))


def instance(tmp_path: Path) -> tuple[Path, Path]:
    accounts, reps = line_instance()
    for account in accounts:
        account["potential"] = 1_000_000_000.25
    accounts[0]["workload"] = accounts[3]["workload"] = 1.25
    return write_instance(tmp_path, accounts, reps)


def test_totals_in_the_scenarios_currency_without_a_trailing_zero(tmp_path: Path) -> None:
    a, r = instance(tmp_path)
    scenario = tmp_path / "yen.toml"
    scenario.write_text(f'accounts = "{a.name}"\nreps = "{r.name}"\ncurrency = "¥"\n', encoding="utf-8")
    assert totals(str(scenario)) == {"potential": "¥6,000,000,002", "workload": "6.5"}
    # the flag overrides the scenario, as for plan and report
    assert totals(str(scenario), "--currency", "EUR")["potential"] == "EUR\N{NO-BREAK SPACE}6,000,000,002"
    assert totals(str(scenario), "--currency", "none")["potential"] == "6,000,000,002"


def test_totals_default_to_dollars_and_whole_numbers_stay_whole(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path, accounts, reps)
    assert totals("--accounts", str(a), "--reps", str(r)) == {"potential": "$600", "workload": "6"}


def test_a_tolerance_floor_is_shown_only_when_an_account_forces_one(tmp_path: Path) -> None:
    """QA8 O9: "--tolerance potential needs at least 0.00%" read as a +-0% band. With no account above a
    target there is no floor to tell; an account of 1,000 against targets of 750 (1,500 over two reps)
    forces 33.33% alone, and 46.67% with its workload band held (QA14 9): at +-50% of 3 its rep needs a
    workload of 2 (the band rounded inwards), so one more account of 100. With the potential band held
    (at most 1,100, rounded inwards to whole hundreds) that rep holds at most 2 of workload: 33.33% below
    its workload target."""
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path / "even", accounts, reps)
    res = CliRunner().invoke(main, ["validate", "--accounts", str(a), "--reps", str(r)])
    assert res.exit_code == 0, res.output
    assert "needs at least" not in res.output
    accounts[0]["potential"] = 1000.0
    a, r = write_instance(tmp_path / "big", accounts, reps)
    res = CliRunner().invoke(main, ["validate", "--accounts", str(a), "--reps", str(r), "--tolerance", "0.5"])
    assert res.exit_code == 0, res.output
    assert re.search(r"--tolerance potential needs at least\s+│\s+46\.67%", res.output), res.output
    assert re.search(r"--tolerance workload needs at least\s+│\s+33\.33%", res.output), res.output


def test_validate_errors_never_replaces_a_parent_scenario(tmp_path: Path) -> None:
    """QA44 F3: `validate child.toml --errors base.toml --force` wrote the problems over the scenario the
    child extends."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    base = tmp_path / "base.toml"
    base.write_text('accounts = "a.csv"\nreps = "r.csv"\n', encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\ntolerance = 0.1\n', encoding="utf-8")
    before = base.read_bytes()
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(base), "--force"])
    assert res.exit_code == 2, res.output
    assert "is an input of this run" in " ".join(res.output.split())
    assert base.read_bytes() == before
    # a child that is no valid TOML still names its parent: refused too
    child.write_text('extends = "base.toml"\ntolerance = = 0.1\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(child), "--errors", str(base), "--force"])
    assert res.exit_code == 2, res.output
    assert base.read_bytes() == before
