"""The command line: files, exit codes, exact error texts, atomic outputs, help everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import line_instance, write_instance

SUMMARY_KEYS = {
    "status",
    "proven_optimal",
    "objective",
    "lower_bound",
    "gap",
    "solve_seconds",
    "solver",
    "accounts",
    "reps",
    "max_abs_dev_pct",
    "moved_accounts",
    "moved_potential_share",
    "config",
    "inputs_sha256",
    "version",
}
ASSIGNMENT_COLUMNS = [
    "account_id",
    "rep_id",
    "current_rep",
    "moved",
    "distance_km",
    "potential",
    "workload",
    "reason",
]
TERRITORY_COLUMNS = [
    "rep_id",
    "name",
    "accounts",
    "potential",
    "workload",
    "potential_target",
    "workload_target",
    "potential_dev_pct",
    "workload_dev_pct",
    "travel_km",
    "moved_in",
    "moved_out",
]


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_plan_writes_the_spec_outputs(line: tuple[Path, Path], tmp_path: Path) -> None:
    a, r = line
    out = tmp_path / "plan"
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "--quiet")
    assert res.exit_code == 0, res.output
    assert "optimal: 6 accounts -> 2 reps" in res.output
    assert {p.name for p in out.iterdir()} >= {
        "assignments.csv",
        "territories.csv",
        "summary.json",
        "map.html",
        "report.html",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["objective"] == pytest.approx(summary["compactness"])  # no disruption penalty
    assert "(travel " not in res.output  # nothing to split

    assignments = pd.read_csv(out / "assignments.csv", keep_default_na=False)
    assert list(assignments.columns[: len(ASSIGNMENT_COLUMNS)]) == ASSIGNMENT_COLUMNS
    territories = pd.read_csv(out / "territories.csv")
    assert list(territories.columns[: len(TERRITORY_COLUMNS)]) == TERRITORY_COLUMNS
    dev = 100 * (territories["potential"] - territories["potential_target"]) / territories["potential_target"]
    assert territories["potential_dev_pct"].tolist() == pytest.approx(dev.tolist(), abs=1e-3)


def test_progress_goes_to_a_log_as_lines_when_stderr_is_no_terminal(
    line: tuple[Path, Path], tmp_path: Path
) -> None:
    """QA5: with stderr in a file the spinner showed nothing until the end; a log gets timestamped lines
    (on stderr, so stdout keeps only the result)."""
    a, r = line
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "plan"))
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("[")]
    assert any("LP relaxation" in ln or "whole model" in ln for ln in lines)
    assert all(ln[1:7].strip().rstrip("s").replace(".", "").isdigit() for ln in lines)
    assert "accounts -> 2 reps" in res.stdout
    assert not any(ln.startswith("[") for ln in res.stdout.splitlines())


def test_existing_plan_is_never_overwritten_without_force(line: tuple[Path, Path], tmp_path: Path) -> None:
    a, r = line
    out = tmp_path / "plan"
    assert run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q").exit_code == 0
    before = (out / "assignments.csv").read_bytes()
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q", "--tolerance", "0.5")
    assert res.exit_code == 2  # a usage error: the inputs are fine
    assert "already holds files; pass --force" in res.output
    assert (out / "assignments.csv").read_bytes() == before
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q", "--force")
    assert res.exit_code == 0


def test_bad_input_exits_1_with_a_table_and_no_plan(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[2]["potential"] = -1
    accounts[4]["lat"] = "north"
    a, r = write_instance(tmp_path, accounts, reps)
    out = tmp_path / "plan"
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q")
    assert res.exit_code == 1
    assert "2 problem(s) in the inputs" in res.output
    assert "potential must be >= 0" in res.output
    assert "lat is not a number" in res.output
    errors = pd.read_csv(out / "input_errors.csv")
    assert errors[["row", "column"]].values.tolist() == [[3, "potential"], [5, "lat"]]
    assert not (out / "assignments.csv").exists()
    assert not (out / "summary.json").exists()
    # the inputs fixed, the same command runs without --force: the failed run's error list is no plan
    a, r = write_instance(tmp_path, *line_instance())
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert (out / "assignments.csv").exists()
    assert not (out / "input_errors.csv").exists()


def test_infeasible_exits_1_with_numbers(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["potential"] = 5000
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "-q")
    assert res.exit_code == 1
    assert "Infeasible" in res.output
    assert "account A1 alone has $5,000 potential" in res.output
    assert "more than any band it may go to holds" in " ".join(res.output.split())  # not "the band it fits"
    assert not (tmp_path / "p" / "summary.json").exists()


def test_an_account_too_big_for_every_band_is_named_by_its_name(tmp_path: Path) -> None:
    """QA6: NC cities with `validate`: "account C4460243 alone has 3.65M potential" (Charlotte) and, on
    the counties, "account 37119" (Mecklenburg): ids a planner has to look up."""
    accounts, reps = line_instance()
    accounts[0]["potential"] = 5000
    for a in accounts:
        a["name"] = "Charlotte" if a["account_id"] == "A1" else ""
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("validate", "--accounts", str(a), "--reps", str(r))
    assert res.exit_code == 1
    assert "account A1 (Charlotte) alone has $5,000 potential" in " ".join(res.output.split())


def test_relaxed_plan_says_its_proof(tmp_path: Path) -> None:
    # one account above every band: a pre-check's proof, so the relaxed plan may say none exists
    accounts, reps = line_instance()
    accounts[0]["potential"] = 5000
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "--relax", "-q")
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "RELAXED PLAN: it breaks" in text
    assert "no plan meeting every constraint exists (proven" in text
    assert "not by itself a proof" not in text
    # the MIP on the violation had every pair and ended optimal: the least violation is proven (QA25 F1)
    assert "; the violation is proven least (HiGHS, within 0.1%)" in text
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["proven_infeasible"] is True
    # the report leadership reads says why too (QA13 13: only the violations table was there)
    report = " ".join((tmp_path / "p" / "report.html").read_text().split())
    why = report.index("Why this plan breaks constraints")
    assert why < report.index("Violated constraints")
    assert "account A1 alone has $5,000 potential" in report[why:]
    assert "RELAXED PLAN" in report[why:]


def test_a_relaxed_plan_without_a_bound_prints_n_a_and_writes_no_nan(tmp_path: Path) -> None:
    """QA3a: the console said "lower bound nan" after a --relax run; summary.json must hold null, never
    NaN (which strict JSON readers reject)."""
    accounts, reps = line_instance()
    accounts[0]["potential"] = 5000
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "--relax", "-q")
    assert res.exit_code == 0, res.output
    assert "lower bound n/a | gap n/a" in res.output
    assert "nan" not in res.output.lower()

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in summary.json")

    summary = json.loads((tmp_path / "p" / "summary.json").read_text(), parse_constant=refuse)
    assert summary["lower_bound"] is None
    assert summary["gap"] is None


def test_a_failed_forced_plan_keeps_the_old_plan_and_puts_its_errors_beside_it(
    line: tuple[Path, Path], tmp_path: Path
) -> None:
    """QA3b: `plan --force` on bad inputs kept the previous plan but added input_errors.csv to it, a stale
    error table inside a valid plan. The list goes beside the folder, and the next good run removes it."""
    a, r = line
    out = tmp_path / "plan"
    assert run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    accounts, reps = line_instance()
    accounts[2]["potential"] = -1
    bad_a, bad_r = write_instance(tmp_path / "bad", accounts, reps)
    res = run("plan", "--accounts", str(bad_a), "--reps", str(bad_r), "--out", str(out), "-q", "--force")
    assert res.exit_code == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    beside = tmp_path / "plan.input_errors.csv"
    assert pd.read_csv(beside)[["row", "column"]].values.tolist() == [[3, "potential"]]
    assert f"problems written to {beside}" in " ".join(res.output.split())
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q", "--force")
    assert res.exit_code == 0, res.output
    assert not beside.exists()


def test_usage_errors_exit_2(line: tuple[Path, Path]) -> None:
    res = run("plan", "--accounts", str(line[0]))
    assert res.exit_code == 2
    assert "Missing option '--out'" in res.output
    assert run("plan", "--solver", "gurobi", "--out", "x").exit_code == 2


def test_missing_tables_exit_1_and_bad_flag_values_exit_2(tmp_path: Path) -> None:
    res = run("plan", "--out", str(tmp_path / "p"), "-q")
    assert res.exit_code == 1
    assert "no accounts table" in res.output
    a, r = write_instance(tmp_path, *line_instance())
    res = run(
        "plan",
        "--accounts",
        str(a),
        "--reps",
        str(r),
        "--tolerance",
        "potential=2",
        "--out",
        str(tmp_path / "p"),
        "-q",
    )
    assert res.exit_code == 2  # a flag's value is a usage error, whether click or the options check it
    assert "--tolerance for potential 2.0 must be in [0, 1)" in " ".join(res.output.split())
    scenario = tmp_path / "s.toml"  # the same value in a scenario file is bad input, named by its file
    scenario.write_text(f'accounts = "{a}"\nreps = "{r}"\ntolerance = "potential=2"\n', encoding="utf-8")
    res = run("plan", str(scenario), "--out", str(tmp_path / "p"), "-q")
    assert res.exit_code == 1
    assert "s.toml" in res.output
    assert "tolerance for potential 2.0 must be in [0, 1)" in " ".join(res.output.split())


def test_scenario_file_and_flag_override(line: tuple[Path, Path], tmp_path: Path) -> None:
    a, r = line
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'accounts = "{a}"\nreps = "{r}"\nbalance = ["potential"]\n[tolerance]\npotential = 0.5\n'
    )
    out = tmp_path / "p"
    assert run("plan", str(scenario), "--out", str(out), "-q", "--tolerance", "0.0").exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["tolerance"] == {"potential": 0.0}
    assert summary["config"]["balance"] == ["potential"]
    scenario.write_text('acounts = "x.csv"\n')
    res = run("plan", str(scenario), "--out", str(tmp_path / "q"), "-q")
    assert res.exit_code == 1
    assert "acounts" in res.output


def test_validate(line: tuple[Path, Path], tmp_path: Path) -> None:
    a, r = line
    res = run("validate", "--accounts", str(a), "--reps", str(r))
    assert res.exit_code == 0
    assert "inputs are valid" in res.output
    # no account of the line is above a target: no floor to tell (the row comes only when one forces it,
    # test_validate_output)
    assert "needs at least" not in res.output
    assert "+-" not in res.output
    accounts, reps = line_instance()
    accounts[0]["locked_rep"] = "R7"
    a2, r2 = write_instance(tmp_path / "bad", accounts, reps)
    res = run("validate", "--accounts", str(a2), "--reps", str(r2))
    assert res.exit_code == 1
    assert "locked_rep 'R7' is not a rep in the reps file" in res.output


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    res = run(name, "--help")
    assert res.exit_code == 0
    cmd = main.commands[name]
    assert cmd.help
    assert len(cmd.help.strip()) > 20
    assert "territory-planner" in res.output


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "territory_planner", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert "territory-planner, version" in done.stdout


def test_ctrl_c_exits_130_and_leaves_the_earlier_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA13 9: Ctrl-C during `plan` exited 1, the code of bad input and infeasibility; now the shell's 130
    for SIGINT, with the earlier plan folder untouched."""
    from territory_planner import api

    a, r = write_instance(tmp_path, *line_instance())
    out = tmp_path / "p"
    assert run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q").exit_code == 0
    before = (out / "assignments.csv").read_bytes()

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "plan", interrupted)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "--force", "-q")
    assert res.exit_code == 130
    assert "Interrupted" in res.output
    assert (out / "assignments.csv").read_bytes() == before


def test_a_reps_file_without_names_shows_no_none_in_the_report(tmp_path: Path) -> None:
    """The balance table's Name column read "None" for every rep of a reps file without a name column."""
    accounts, reps = line_instance()
    for rep in reps:
        rep.pop("name", None)
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "-q")
    assert res.exit_code == 0, res.output
    report = (tmp_path / "p" / "report.html").read_text()
    balance = report[report.index('<table id="balance">') :]
    balance = balance[: balance.index("</table>")]
    assert "None" not in balance
    assert "<td>R1</td>" in balance.replace(' class=""', "")


def test_force_replaces_a_folder_of_an_earlier_run_only(line: tuple[Path, Path], tmp_path: Path) -> None:
    """QA22 M10: `plan --out myfolder --force` deleted the user's own files in that folder (the output
    replaces the folder whole). --force replaces a folder an earlier command wrote; any other is kept."""
    a, r = line
    mine = tmp_path / "myfolder"
    mine.mkdir()
    (mine / "important.txt").write_text("my notes")
    # without --force the refusal already says that --force cannot help here (QA29 F17: it said "pass
    # --force to replace it (the previous plan is kept)", and --force was then refused)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(mine), "-q")
    assert res.exit_code == 2
    assert "did not write (important.txt)" in " ".join(res.output.split())
    assert "pass --force" not in res.output
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(mine), "-q", "--force")
    assert res.exit_code == 2
    assert "holds files territory-planner did not write (important.txt)" in " ".join(res.output.split())
    assert [p.name for p in mine.iterdir()] == ["important.txt"]
    # a report's folder is refused the same way
    crm = Path(__file__).resolve().parents[1] / "sample_data" / "crm"
    res = run("report", "--crm", str(crm), "--period", "2026Q1", "--out", str(mine), "--force")
    assert res.exit_code == 2
    assert "holds files territory-planner did not write" in " ".join(res.output.split())
    assert (mine / "important.txt").read_text() == "my notes"
    # an earlier plan is replaced, even with a file of the user's added to it
    out = tmp_path / "plan"
    assert run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q").exit_code == 0
    (out / "notes.txt").write_text("draft")
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q", "--force")
    assert res.exit_code == 0
    assert (out / "summary.json").is_file()
    assert not (out / "notes.txt").exists()


def test_an_objective_with_a_disruption_penalty_shows_its_parts() -> None:
    """QA28 F6: with --disruption-weight the console's objective held the penalty without a word."""
    from territory_planner.cli import _objective_parts

    s = {"objective": 116_338.0, "compactness": 113_924.0, "disruption_price": 0.339}
    assert _objective_parts(s) == " (travel 113,924.0 + disruption 2,414.0)"
    assert _objective_parts({**s, "disruption_price": 0.0}) == ""
    assert _objective_parts({**s, "compactness": None}) == ""


def test_the_pages_name_the_plan_and_its_scenario(line: tuple[Path, Path], tmp_path: Path) -> None:
    """QA27 F27: report.html and map.html of three scenarios' plans could not be told apart."""
    accounts, reps = line
    scenario = tmp_path / "leave.toml"
    scenario.write_text(f'accounts = "{accounts.as_posix()}"\nreps = "{reps.as_posix()}"\n', encoding="utf-8")
    out = tmp_path / "leave-2027"
    res = run("plan", str(scenario), "--out", str(out), "--quiet", "--time-limit", "10")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plan"] == {"name": "leave-2027", "scenario": str(scenario)}
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<h1>Territory plan leave-2027: " in page
    assert '<p class="tp-origin">scenario leave.toml</p>' in page
    report = (out / "report.html").read_text(encoding="utf-8")
    assert '<div class="k">Plan</div><div class="v">leave-2027</div>' in report
    assert '<div class="k">Scenario</div><div class="v">leave.toml</div>' in report
    a = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    other = next(r for r in sorted(set(a["rep_id"])) if r != a.loc[0, "rep_id"])
    (tmp_path / "e.csv").write_text(
        f"account_id,rep_id\n{a.loc[0, 'account_id']},{other}\n", encoding="utf-8"
    )
    res = run("edit", str(out), "--edits", str(tmp_path / "e.csv"), "--out", str(tmp_path / "leave-edited"))
    assert res.exit_code == 0, res.output
    page = (tmp_path / "leave-edited" / "map.html").read_text(encoding="utf-8")
    assert "<h1>Territory plan leave-edited: " in page
    assert "scenario leave.toml · edited by hand from leave-2027" in page


def test_sigterm_stops_a_plan_with_a_line_and_leaves_the_earlier_plan(tmp_path: Path) -> None:
    """QA57 F15: a SIGTERM (a scheduler, `kill`, a container stopping) ended `plan` with exit 143 and not a
    word. Now it stops as Ctrl-C does: the line, 143 (128 + SIGTERM), the earlier plan as it was."""
    import signal
    import subprocess
    import sys
    import time

    data = Path(__file__).resolve().parents[1] / "sample_data"
    out = tmp_path / "p"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")  # an earlier plan's folder
    (out / "assignments.csv").write_text("account_id,rep_id\nA,R\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["plan", "--accounts", str(data / "accounts.csv"), "--reps", str(data / "reps.csv")]
    args += ["--out", str(out), "--force", "--gap", "0", "--time-limit", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from territory_planner.cli import run; run()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line: the inputs are read, the solve begins
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    err = first + rest
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Terminated (SIGTERM): the command stopped before it finished" in " ".join(err.split())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not list(tmp_path.glob(".p.*"))  # no staging folder left


def test_a_signal_outside_a_commands_own_handling_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA60: a SIGTERM arriving after `forecast` had written its folder (outside the command's handler)
    ended the process with 143 and no word."""
    import signal

    from territory_planner import cli, interrupt

    def stopped(*_a: object, **_k: object) -> None:
        monkeypatch.setattr(interrupt, "RECEIVED", [int(signal.SIGTERM)])
        raise KeyboardInterrupt

    def ended(code: int) -> None:  # a run stopped once HiGHS is loaded ends by os._exit (QA84 F7)
        raise SystemExit(code)

    monkeypatch.setattr(cli.main, "main", stopped)
    monkeypatch.setattr(cli.threading, "active_count", lambda: 1)
    monkeypatch.setattr(cli.signal, "signal", lambda *_a: None)  # pytest's own handlers stay
    monkeypatch.setattr(cli.os, "_exit", ended)  # not this test process's end
    with pytest.raises(SystemExit) as exc:
        cli.run()
    assert exc.value.code == 143
    assert "Terminated (SIGTERM): the command was stopped" in capsys.readouterr().err


def test_a_plan_without_a_current_alignment_says_so_instead_of_moved_0(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    # "moved 0 accounts (0.0% of potential)" read as a perfectly stable plan where there was nothing to keep
    no_current = [{k: v for k, v in row.items() if k != "current_rep"} for row in accounts]
    a, r = write_instance(tmp_path / "new", no_current, reps)
    out = str(tmp_path / "p")
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", out, "--quiet", "--xlsx")
    assert res.exit_code == 0, res.output
    assert "no current alignment given" in res.output
    # and report.html and the workbook's Summary (QA63 F2: "Moved accounts 0" there)
    page = (tmp_path / "p" / "report.html").read_text(encoding="utf-8")
    assert "none: no current alignment given" in page
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "p" / "plan.xlsx")["Summary"]
    summary = {row[0]: row[1] for row in sheet.values}
    assert summary["moved accounts"] == "none: no current alignment given"
    assert "moved potential share" not in summary
    # nor all-0 moved_in/moved_out on Territories and an all-false moved on Assignments beside the Moves
    # sheet's first owners; the plan with an alignment keeps them
    book = openpyxl.load_workbook(tmp_path / "p" / "plan.xlsx")
    for name, gone in (("Territories", {"moved_in", "moved_out"}), ("Assignments", {"moved"})):
        header = set(next(book[name].values))
        assert "rep_id" in header, (name, header)
        assert not header & gone, (name, header)
    assert "moved 0 accounts" not in res.output
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["current_accounts"] == 0
    a, r = write_instance(tmp_path / "old", accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "q"), "--quiet")
    assert "moved 1 account (" in res.output
    assert "no current alignment" not in res.output
    assert json.loads((tmp_path / "q" / "summary.json").read_text())["current_accounts"] == 6
    res = run("export", str(tmp_path / "q"), "--format", "xlsx", "--out", str(tmp_path / "q.xlsx"))
    assert res.exit_code == 0, res.output
    book = openpyxl.load_workbook(tmp_path / "q.xlsx")
    assert {"moved_in", "moved_out"} <= set(next(book["Territories"].values))
    assert "moved" in set(next(book["Assignments"].values))
    # the report's rep table and its moved-accounts section, and compare's plans table: no "0 moved"
    # for the plan without an alignment (the leftover of QA63 F2), the counts kept for the other
    assert "<th>Moved in</th>" not in page
    assert "0 accounts move" not in page
    assert "No current alignment was given (no account has a current_rep)" in page
    other = (tmp_path / "q" / "report.html").read_text(encoding="utf-8")
    assert "<th>Moved in</th>" in other
    assert "1 account moves, carrying" in other
    res = run("compare", out, str(tmp_path / "q"), "--out", str(tmp_path / "cmp"))
    assert res.exit_code == 0, res.output
    plans = pd.read_csv(tmp_path / "cmp" / "plans.csv").set_index("plan")
    assert plans.loc["p", ["moved_accounts", "moved_potential_share"]].isna().all()
    assert plans.loc["q", "moved_accounts"] == 1
    cmp_page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "Moved: blank for p, made without a current alignment" in cmp_page
    # a folder written before summary.json had current_accounts: told by its assignments (QA65 F3)
    import shutil

    shutil.copytree(out, tmp_path / "older")
    old = json.loads((tmp_path / "older" / "summary.json").read_text())
    del old["current_accounts"]
    (tmp_path / "older" / "summary.json").write_text(json.dumps(old))
    res = run("compare", str(tmp_path / "older"), str(tmp_path / "q"), "--out", str(tmp_path / "cmp2"))
    assert res.exit_code == 0, res.output
    plans = pd.read_csv(tmp_path / "cmp2" / "plans.csv").set_index("plan")
    assert plans.loc["older", ["moved_accounts", "moved_potential_share"]].isna().all()
    assert plans.loc["q", "moved_accounts"] == 1


def test_one_rep_and_one_account_are_said_in_the_singular(tmp_path: Path) -> None:
    """QA61 F1: "200 accounts -> 1 reps" on the console, "1 reps" in compare's lines."""
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path / "one", accounts[:1], reps[:1])
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "--quiet")
    assert res.exit_code == 0, res.output
    assert ": 1 account -> 1 rep |" in res.output
    a, r = write_instance(tmp_path / "two", accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "q"), "--quiet")
    res = run("compare", str(tmp_path / "q"), str(tmp_path / "p"), "--out", str(tmp_path / "c"))
    assert ", 1 rep, objective" in res.output
    assert ", 2 reps, objective" in res.output


def test_the_summary_line_counts_thousands_with_separators(tmp_path: Path) -> None:
    """The sample plan said "feasible: 2000 accounts -> 20 reps" where every other count on the console
    has its thousands separated ("1,910 free units", "moved 730 accounts")."""
    accounts = [
        {"account_id": f"A{i}", "lat": 35.0 + 0.001 * (i % 40), "lon": -90.0 + 0.001 * (i // 40),
         "potential": 1.0, "workload": 1.0}
        for i in range(1200)
    ]  # fmt: skip
    reps = [{"rep_id": "R0", "lat": 35.0, "lon": -90.0}]
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"), "--quiet")
    assert res.exit_code == 0, res.output
    assert ": 1,200 accounts -> 1 rep |" in res.output


def test_a_dumb_terminal_gets_the_progress_lines_a_pipe_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA86 F7: TERM=dumb on a terminal showed no progress at all (rich draws no spinner there), where a
    pipe or a file gets timestamped lines. FORCE_COLOR makes the test's stderr a terminal to rich."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    a, r = write_instance(tmp_path, *line_instance())
    res = run("plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / "p"))
    assert res.exit_code == 0, res.output
    assert "s] solving the LP relaxation" in res.stderr


def test_a_narrow_terminal_shows_every_problem_s_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA86 F8: at 21 columns or fewer the problem table gave its message column no width: file, row,
    column and value one character a line, and no message. Below 60 columns each problem is a line."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "20")
    accounts, reps = line_instance()
    accounts[0]["lat"] = "x"
    accounts[2]["account_id"] = "A2"
    a, r = write_instance(tmp_path, accounts, reps)
    res = run("validate", "--accounts", str(a), "--reps", str(r))
    assert res.exit_code == 1, res.output
    text = " ".join(click.unstyle(res.stderr).split())
    assert "accounts.csv, row 1, column lat, value x: lat is not a number" in text
    assert "duplicate account_id" in text
