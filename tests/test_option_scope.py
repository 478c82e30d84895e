"""An option that cannot apply to the command as given is a usage error (exit 2), not ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from territory_planner.cli import main


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["edit", "{d}", "--edits", "{f}", "--out", "{tmp}/o", "--time-limit", "5"], "--time-limit"),
        (
            [
                "report",
                "--crm",
                "{d}",
                "--period",
                "2026Q2",
                "--quota-history-weight",
                "0.5",
                "--out",
                "{tmp}/r",
            ],
            "--quota-history-weight",
        ),
        (
            [
                "report",
                "--crm",
                "{d}",
                "--period",
                "2026Q2",
                "--quota-method",
                "forecast",
                "--out",
                "{tmp}/r",
            ],
            "--quota-method",
        ),
        (
            ["export", "{d}", "--format", "xlsx", "--out", "{tmp}/x.xlsx", "--effective-date", "2027-01-01"],
            "--effective-date",
        ),
        (
            ["export", "{d}", "--format", "changes", "--out", "{tmp}/c", "--sf-model-id", "0MCxx0000000001"],
            "--sf-model-id",
        ),
        (["export", "{d}", "--format", "xlsx", "--out", "{tmp}/x.xlsx", "--reps", "{f}"], "--reps"),
    ],
    ids=lambda v: v if isinstance(v, str) else v[0],
)
def test_an_option_that_cannot_apply_is_a_usage_error(tmp_path: Path, args: list[str], flag: str) -> None:
    """QA17 F15: edit's --time-limit without --rebalance, report's quota options without
    --company-target, export's options of another format were ignored without a word (exit 0)."""
    folder, file = tmp_path / "d", tmp_path / "f.csv"
    folder.mkdir()
    file.write_text("account_id,rep_id\n", encoding="utf-8")
    argv = [a.format(d=folder, f=file, tmp=tmp_path) for a in args]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert f"Invalid value for {flag}" in res.output


def test_a_kpi_period_without_crm_history_is_refused() -> None:
    """QA18 F8: plan --period without --crm wrote no KPI report and said nothing."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match="a KPI period needs CRM history"):
        build_options({"accounts": "a.csv", "reps": "r.csv", "period": "2026Q2"})
    build_options({"accounts": "a.csv", "reps": "r.csv", "period": "2026Q2", "crm": "crm"})


def test_a_measure_listed_twice_in_balance_is_a_problem_and_one_set_is_one_point() -> None:
    """QA18 F12: --balance potential,potential crashed the model's build (two band rows of one name);
    balance=potential+workload,workload+potential was solved as two points."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options
    from territory_planner.sweep_grid import dedupe_grid, parse_grid

    with pytest.raises(InputError, match="balance lists 'potential' twice"):
        build_options({"accounts": "a.csv", "reps": "r.csv", "balance": "potential,potential"})
    grid, notes = dedupe_grid(parse_grid(["balance=potential+workload,workload+potential"]))
    assert grid == {"balance": [["potential", "workload"]]}
    assert len(notes) == 1
    assert parse_grid(["balance=potential+"]) == {"balance": ["potential+"]}  # no set: a column it lacks


def test_a_tolerance_given_twice_for_one_measure_is_a_problem() -> None:
    """QA18 F12: --tolerance potential=0.05,potential=0.1 kept the last value without a word."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match=r"tolerance gives 'potential' twice \(0.05 and 0.1\)"):
        build_options({"accounts": "a.csv", "reps": "r.csv", "tolerance": "potential=0.05,potential=0.1"})
    build_options({"accounts": "a.csv", "reps": "r.csv", "tolerance": "potential=0.05,workload=0.1"})


def test_a_flag_s_cross_option_problem_is_the_command_line_s(tmp_path: Path) -> None:
    """QA18 F8: plan --quota-method forecast (without a target) was exit 1, blamed on the scenario file,
    which did not set it; report's same mistake is a usage error."""
    scenario = tmp_path / "s.toml"
    scenario.write_text('accounts = "a.csv"\nreps = "r.csv"\n', encoding="utf-8")
    res = CliRunner().invoke(
        main, ["plan", str(scenario), "--quota-method", "forecast", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2, res.output
    assert "command line" in res.output
    assert "--quota-method" in res.output


def test_a_minimum_of_accounts_above_the_maximum_is_a_usage_error(tmp_path: Path) -> None:
    """QA34 F6: --min-accounts 120 --max-accounts 100 was "infeasible" (exit 1), citing the minimum alone;
    the two options contradict each other, whatever the data. A scenario file's values likewise."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError) as exc:
        build_options({"accounts": "a.csv", "reps": "r.csv", "min_accounts": 120, "max_accounts": 100})
    ((problem,),) = [exc.value.problems]
    assert "minimum number of accounts per rep (120) is above the maximum (100)" in problem.message
    build_options({"accounts": "a.csv", "reps": "r.csv", "min_accounts": 100, "max_accounts": 100})
    args = ["plan", "--accounts", "a.csv", "--reps", "r.csv", "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(main, [*args, "--min-accounts", "120", "--max-accounts", "100"])
    assert res.exit_code == 2, res.output
    assert "is above the maximum (100)" in res.output


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [
        ("plan", "--time-limit", "nan"),
        ("plan", "--company-target", "nan"),
        ("plan", "--max-moved-share", "nan"),
        ("plan", "--keep-home", "inf"),
        ("plan", "--gap", "-inf"),
        ("report", "--company-target", "nan"),
    ],
)
def test_a_flag_that_is_no_finite_number_is_a_usage_error(
    command: str, flag: str, value: str, tmp_path: Path
) -> None:
    """QA57 F1/F2: `--time-limit nan` passed every range check (nan compares false) and the run planned
    with no time limit and no lower bound, exit 0; `--company-target nan` failed later with exit 1."""
    res = CliRunner().invoke(main, [command, flag, value, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert f"'{value}' is not a finite number" in res.output
    assert flag in res.output


@pytest.mark.parametrize("key", ["time_limit", "company_target"])
def test_a_scenario_number_that_is_nan_is_named_by_file_and_key(key: str) -> None:
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match=f"{key} must be a finite number, not nan"):
        build_options({key: float("nan")})
    with pytest.raises(InputError, match=f"{key} must be a number > 0"):
        build_options({key: -1.0})


@pytest.mark.parametrize(("key", "value"), [("reps", True), ("crm", 5), ("accounts", ["a.csv"])])
def test_a_scenario_path_that_is_no_text_is_named(key: str, value: object) -> None:
    """QA57 F13: `crm = 5` failed with Python's "expected str, bytes or os.PathLike object, not int", and
    `reps = true` became a file named "True", reported as not found."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match=f"{key} must be a file path \\(a text in quotes\\), not"):
        build_options({key: value})


def test_a_scenario_reps_key_that_is_no_text_is_named_with_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "b.toml"
    scenario.write_text('accounts = "a.csv"\nreps = true\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(scenario)])
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "reps must be a file path (a text in quotes) or a [reps] table, not true" in text
    assert "True" not in text


@pytest.mark.parametrize("key", ["disruption_weight", "keep_home", "gap", "max_accounts", "seed"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_scenario_number_that_is_not_finite_is_refused(key: str, value: float) -> None:
    """QA59: `disruption_weight = inf` passed its range check (0 to inf) in a scenario and a sweep grid,
    and the run failed on numpy's warnings."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match=f"{key} must be a finite number, not {value}"):
        build_options({key: value})


def test_a_company_target_beyond_any_sum_of_cents_is_refused(tmp_path: Path) -> None:
    """QA59: `--company-target 1e20` passed the finite-number check and crashed after the solve with
    an OverflowError in the quotas' split in cents."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match="company_target must be at most 1e\\+15"):
        build_options({"company_target": 1e20})
    res = CliRunner().invoke(main, ["report", "--plan", str(tmp_path), "--company-target", "1e20"])
    assert res.exit_code == 2, res.output
    assert "--company-target" in res.output


@pytest.mark.parametrize("key", ["max_accounts", "min_accounts", "seed", "candidates", "threads"])
def test_a_whole_number_beyond_any_solver_integer_is_refused(key: str) -> None:
    """QA60: `max_accounts = 10**30` passed validate and the plan crashed with an OverflowError."""
    from territory_planner.errors import InputError
    from territory_planner.options import build_options

    with pytest.raises(InputError, match=f"{key} must be at most 2,147,483,647"):
        build_options({key: 10**30})
    assert getattr(build_options({key: 2**31 - 1}), key) == 2**31 - 1
