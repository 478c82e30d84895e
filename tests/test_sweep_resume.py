"""Resuming a sweep, and the grid checked before anything is solved (QA15).

- H2: a point is only complete for this run when it was solved from the same options (the scenario after
  inheritance, the grid values, the base options such as --time-limit) and the same input files (their
  SHA-256 in the point's manifest.json); otherwise it is solved again and a note says why. The stale plan
  does not stay behind when the new solve fails.
- M1: a grid key or value that is not valid is a usage error (exit 2) before any point is solved, with a
  "did you mean" for a misspelt key.
- L2: a value listed twice is one point, solved once, and the run says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.sweep import run_sweep, sweep_table
from territory_planner.sweep_grid import dedupe_grid, grid_points, parse_grid

POINT = "p000_max_moved_share-1"


def _sweep(scenario: Path, out: Path, **kw: object) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    table = run_sweep(scenario, {"max_moved_share": [1]}, out, on_note=notes.append, **kw)  # type: ignore[arg-type]
    return table, notes


def _config(out: Path, point: str = POINT) -> dict[str, object]:
    summary = json.loads((out / "points" / point / "summary.json").read_text(encoding="utf-8"))
    return dict(summary["config"])


def test_a_point_solved_from_another_scenario_or_inputs_is_solved_again(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    first, notes = _sweep(scenario, out)
    assert list(first["resumed"]) == [False]
    assert notes == []

    again, notes = _sweep(scenario, out)  # the identical run: resumed, nothing said
    assert list(again["resumed"]) == [True]
    assert notes == []
    pd.testing.assert_frame_equal(first.drop(columns="resumed"), again.drop(columns="resumed"))

    # the scenario's band widened: the old plan (10% band) is not this scenario's point
    scenario.write_text(scenario.read_text().replace("tolerance = 0.1", "tolerance = 0.3"))
    wider, notes = _sweep(scenario, out)
    assert list(wider["resumed"]) == [False]
    assert len(notes) == 1
    assert notes[0].startswith(f"{POINT}: options changed since it was solved (tolerance ")
    assert notes[0].endswith("; solved again")
    assert _config(out)["tolerance"] == {"potential": 0.3, "workload": 0.3}

    # an input file changed (same path): solved again
    accounts = scenario.parent / "accounts.csv"
    frame = pd.read_csv(accounts)
    frame.loc[0, "potential"] += 500
    frame.to_csv(accounts, index=False)
    _, notes = _sweep(scenario, out)
    assert notes == [
        f"{POINT}: inputs changed since it was solved (accounts {accounts.resolve()}); solved again"
    ]

    # a base option of the run (--time-limit) changed: solved again; then the same run resumes
    _, notes = _sweep(scenario, out, overrides={"time_limit": 7})
    assert len(notes) == 1
    assert "time_limit 20.0 then, 7.0 now" in notes[0]
    table, notes = _sweep(scenario, out, overrides={"time_limit": 7})
    assert (list(table["resumed"]), notes) == ([True], [])


def test_a_stale_plan_does_not_stay_when_its_new_solve_fails(tmp_path: Path) -> None:
    """Moving nothing cannot balance the tiny instance: after the scenario says so, the point is
    infeasible and its folder no longer holds the plan of the old scenario."""
    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    table = run_sweep(scenario, {"tolerance": [0.1]}, out)
    assert list(table["status"]) == ["optimal"]
    scenario.write_text(scenario.read_text() + "max_moved_share = 0\n")
    notes: list[str] = []
    table = run_sweep(scenario, {"tolerance": [0.1]}, out, on_note=notes.append)
    assert list(table["status"]) == ["infeasible"]
    assert list(table["resumed"]) == [False]
    assert "max_moved_share null then, 0.0 now" in notes[0]
    assert not (out / "points" / table.loc[0, "point"]).exists()


def test_the_cli_says_which_point_is_solved_again_and_how_many_were_resumed(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inst")
    args = ["sweep", str(scenario), "--grid", "max_moved_share=1", "--out", str(tmp_path / "sw"), "-q"]
    assert CliRunner().invoke(main, args).exit_code == 0
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "1 resumed (solved earlier from the same scenario, inputs and options)" in res.stdout
    scenario.write_text(scenario.read_text().replace("seed = 1", "seed = 2"))
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert (
        f"note: {POINT}: options changed since it was solved (seed 1 then, 2 now); solved again" in res.stderr
    )
    assert "resumed" not in res.stdout


def test_bad_grid_keys_and_values_are_usage_errors_before_any_solve(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    res = CliRunner().invoke(main, ["sweep", str(scenario), "--grid", "tolerence=0.1,0.2", "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "'tolerence' is not an option that can be swept (did you mean 'tolerance'?)" in res.output
    grid = ["--grid", "max_moved_share=1,abc,2", "--grid", "tolerance=x", "--grid", "solver=highs,gurobi"]
    res = CliRunner().invoke(main, ["sweep", str(scenario), *grid, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert 'max_moved_share must be a number, not "abc"' in res.output
    assert "max_moved_share must be in [0, 1]" in res.output
    assert "tolerance 'x' is not a number" in res.output
    assert "unknown solver 'gurobi'; choose one of: cbc, highs" in res.output
    assert not out.exists()  # nothing solved, nothing written
    with pytest.raises(InputError) as caught:
        run_sweep(scenario, {"max_moved_share": [1, "abc"]}, out)
    assert caught.value.exit_code == 2
    assert [(p.column, p.value) for p in caught.value.problems] == [("--grid max_moved_share", "abc")]
    assert not out.exists()
    with pytest.raises(InputError) as caught:
        parse_grid(["accounts=a.csv"])
    assert caught.value.exit_code == 2


def test_balance_values_are_checked_against_the_accounts_and_the_scenario(tmp_path: Path) -> None:
    """A balance measure the accounts file has no column for is a usage error before any point is solved
    (it was recorded as an input_error row after the other points were solved, exit 0); a balance value
    that leaves a measure of the scenario's [tolerance] table unbalanced drops that band at its points,
    said once, as ``--balance`` does (it ended the sweep at its first point with exit 1; then it was
    refused, QA44 F7). ``+`` joins a value's measures."""
    grid = parse_grid(["balance=potential,potential+workload"])
    assert grid == {"balance": ["potential", ["potential", "workload"]]}
    points = grid_points(grid)
    assert [p.name for p in points] == ["p000_balance-potential", "p001_balance-potential+workload"]
    assert sweep_table(points, {}, grid)["balance"].tolist() == ["potential", "potential+workload"]
    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    flags = ["--grid", "balance=potential,potential+revenu"]
    res = CliRunner().invoke(main, ["sweep", str(scenario), *flags, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert "accounts.csv has no column 'revenu' to balance" in res.output
    assert "potential+revenu" in res.output
    table = scenario.with_name("table.toml")
    text = scenario.read_text(encoding="utf-8").replace("tolerance = 0.1\n", "")
    table.write_text(text + "[tolerance]\npotential = 0.1\nworkload = 0.1\n", encoding="utf-8")
    res = CliRunner().invoke(
        main, ["sweep", str(table), "--grid", "balance=potential+workload,workload", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert said.count("tolerance for potential is not used at balance=workload") == 1
    rows = pd.read_csv(out / "sweep.csv")
    assert rows["status"].tolist() == ["optimal", "optimal"]
    narrow = json.loads((out / "points" / "p001_balance-workload" / "summary.json").read_text())
    assert narrow["config"]["tolerance"] == {"workload": 0.1}
    res = CliRunner().invoke(
        main, ["sweep", str(table), "--grid", "balance=revenu", "--out", str(tmp_path / "s2")]
    )
    assert res.exit_code == 2, res.output
    assert "accounts.csv has no column 'revenu' to balance" in " ".join(res.output.split())


def test_a_value_listed_twice_is_solved_once(tmp_path: Path) -> None:
    assert dedupe_grid({"max_moved_share": [0.3, 0.3, 0.5, 0.30], "seed": [1, 1.0, True]}) == (
        {"max_moved_share": [0.3, 0.5], "seed": [1, True]},
        [
            "--grid max_moved_share lists 0.3 3 times: its points are solved once",
            "--grid seed lists 1 2 times: its points are solved once",
        ],
    )
    scenario = write_instance(tmp_path / "inst")
    args = ["sweep", str(scenario), "--grid", "max_moved_share=1,1", "--out", str(tmp_path / "sw"), "-q"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "note: --grid max_moved_share lists 1 2 times: its points are solved once" in res.stderr
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert list(table["point"]) == [POINT]
    assert [p.name for p in (tmp_path / "sw" / "points").iterdir()] == [POINT]


def test_a_folder_that_is_not_a_sweep_s_is_refused_and_stale_points_are_named(tmp_path: Path) -> None:
    """QA17 F18: sweep --out a plan folder added the sweep's files among the plan's (exit 0); a sweep
    folder of an earlier grid kept that grid's points beside the new one's without a word."""
    scenario = write_instance(tmp_path / "inst")
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "assignments.csv").write_text("account_id,rep_id\n", encoding="utf-8")
    res = CliRunner().invoke(
        main, ["sweep", str(scenario), "--grid", "max_moved_share=1", "--out", str(plan)]
    )
    assert res.exit_code == 2, res.output
    assert "holds files that are not a sweep's (assignments.csv)" in res.output
    assert sorted(p.name for p in plan.iterdir()) == ["assignments.csv"]
    out = tmp_path / "sw"
    stale = out / "points" / "p000_tolerance-0.05"
    stale.mkdir(parents=True)
    table, notes = _sweep(scenario, out)
    assert table["status"].tolist() == ["optimal"] or table["status"].tolist() == ["feasible"]
    assert any(
        "holds 1 point(s) of an earlier grid that this sweep does not list (p000_tolerance-0.05)" in n
        for n in notes
    )
    assert stale.is_dir()  # left as it is: the note says so


def test_a_point_whose_folder_lost_its_files_is_solved_again_and_said(tmp_path: Path) -> None:
    """QA38 F7: a point folder without its summary.json (or assignments.csv) was solved again silently."""
    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    _sweep(scenario, out)
    (out / "points" / POINT / "summary.json").unlink()
    table, notes = _sweep(scenario, out)
    assert list(table["resumed"]) == [False]
    assert notes == [f"{POINT}: its folder has no summary.json (damaged, or edited by hand); solved again"]
    (out / "points" / POINT / "assignments.csv").unlink()
    _, notes = _sweep(scenario, out)
    assert notes == [f"{POINT}: its folder has no assignments.csv (damaged, or edited by hand); solved again"]


def test_a_point_being_solved_when_the_sweep_stops_is_not_said_to_have_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA44 F16: Ctrl-C during a point's solve wrote "interrupted before this point ran" for it; the finished
    point keeps its row, every other says the sweep stopped before it finished, and how to go on."""
    import territory_planner.sweep as sweep

    scenario = write_instance(tmp_path / "inst")
    out = tmp_path / "sw"
    solve = sweep.run_point
    calls: list[str] = []

    def stopped_at_the_second(*args: object) -> dict[str, object]:
        calls.append(str(args[2]))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return solve(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep, "run_point", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, {"max_moved_share": [1, 0.9, 0.8]}, out)
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    done = table["status"].isin(["optimal", "feasible"])
    assert done.sum() == 1  # the strictest point runs first, the second stops
    assert (table.loc[~done, "status"] == "not_run").all()
    for error in table.loc[~done, "error"]:
        assert "stopped before this point finished" in error
        assert "before this point ran" not in error


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(2, 130, "interrupted"), (15, 143, "terminated (SIGTERM)")]
)
def test_a_stopped_sweep_says_which_signal_with_its_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: int, code: int, said: str
) -> None:
    """QA59: a sweep stopped by SIGTERM said "interrupted" and exited 130, as after Ctrl-C."""
    from territory_planner import interrupt, sweep

    scenario = write_instance(tmp_path / "inst")

    def stopped(*_a: object, **_k: object) -> None:
        monkeypatch.setattr(interrupt, "RECEIVED", [signum])
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "run_sweep", stopped)
    res = CliRunner().invoke(
        main, ["sweep", str(scenario), "--grid", "tolerance=0.1", "--out", str(tmp_path / "s")]
    )
    assert res.exit_code == code, res.output
    assert f"{said}: finished points are kept in" in res.output


def test_a_sweep_stopped_by_sigterm_stops_its_running_points(tmp_path: Path) -> None:
    """QA59: `sweep --workers 2` stopped by SIGTERM waited for its running points to finish (some 13 s on
    the sample data), and their folders were written though sweep.csv said not_run. Now the workers are
    stopped with it: no point written, no staged folder left, exit 143."""
    import signal
    import subprocess
    import sys
    import time

    data = Path(__file__).resolve().parents[1] / "sample_data"
    scenario = tmp_path / "sw.toml"
    scenario.write_text(
        f'accounts = "{data / "accounts.csv"}"\nreps = "{data / "reps.csv"}"\ntime_limit = 60\ngap = 0\n',
        encoding="utf-8",
    )
    out = tmp_path / "swo"
    args = ["sweep", str(scenario), "--grid", "tolerance=0.05,0.08", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from territory_planner.cli import run; run()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out / "points").is_dir() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)  # the sweep has begun: its points folder is made before any point is solved
    time.sleep(5.0)  # the workers are solving (60 s each at gap 0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    points = out / "points"
    assert not list(points.glob("*/summary.json"))  # stopped, not waited for (60 s each at gap 0)
    assert not [p for p in points.iterdir() if p.name.startswith(".")] if points.is_dir() else True


def test_a_sweep_in_the_callers_process_leaves_its_signal_handlers_alone(tmp_path: Path) -> None:
    """QA60: run_sweep(workers=1) runs its points in the caller's process, and installed the console's
    SIGINT/SIGTERM handler there for good (a host's SIGTERM then became a KeyboardInterrupt)."""
    import signal

    scenario = write_instance(tmp_path / "inst")
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    table, _ = _sweep(scenario, tmp_path / "s")
    assert set(table["status"]) <= {"feasible", "optimal"}
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
