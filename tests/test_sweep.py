"""Sweeps on the tiny instance: local and Dask agree, infeasible points are recorded, resume works."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.sweep import pareto_mask, run_sweep, sweep_table
from territory_planner.sweep_grid import grid_points, parse_grid
from territory_planner.sweep_html import render_html

GRID = {"tolerance": [0.1], "max_moved_share": [0, 0.1, 1]}  # moving nothing is infeasible here
COMPARED = [
    "point",
    "tolerance",
    "max_moved_share",
    "status",
    "objective",
    "max_dev_pct",
    "moved_share",
    "pareto",
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_instance(tmp_path_factory.mktemp("inst"))


@pytest.fixture(scope="module")
def local_sweep(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "local"
    run_sweep(scenario, GRID, out)
    return out


def _rows(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "sweep.csv", keep_default_na=False)[COMPARED]


def test_local_sweep_outputs(local_sweep: Path) -> None:
    table = pd.read_csv(local_sweep / "sweep.csv", keep_default_na=False)
    assert list(table["status"]) == ["infeasible", "optimal", "optimal"]
    assert "disruption" in table.loc[0, "error"]
    assert float(table.loc[1, "moved_share"]) <= 0.1 + 1e-9
    for name in table.loc[1:, "point"]:
        assert (local_sweep / "points" / name / "summary.json").is_file()
        assert (local_sweep / "points" / name / "manifest.json").is_file()
    assert not (local_sweep / "points" / table.loc[0, "point"]).exists()
    page = (local_sweep / "sweep.html").read_text()
    assert "<svg" in page
    assert 'class="pareto"' in page
    # the table names points by their labels, as the chart does; the folders' names are said below it
    # (QA41: the folder names took a third of a 1,940 px table and pushed its last columns out of view)
    body = page.split('<table id="points"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td>([^<]*)</td>", body)
    assert cells == [str(name).split("_", 1)[0] for name in table["point"]]
    # a point with a folder (QA47 F7: the infeasible first point, which has none, was named)
    assert f"<code>points/{table.loc[1, 'point']}</code>" in page
    assert f"points/{table.loc[0, 'point']}" not in page
    pareto = re.findall(r"<td>(yes|)</td><td>[^<]*</td><td>(?:yes|)</td></tr>", body)
    assert pareto == ["yes" if p else "" for p in table["pareto"]]


def test_dask_local_cluster_gives_identical_rows(scenario: Path, local_sweep: Path, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run_sweep(scenario, GRID, tmp_path / "dask", executor="dask", address=cluster.scheduler_address)
    pd.testing.assert_frame_equal(_rows(local_sweep), _rows(tmp_path / "dask"))


def test_resume_recomputes_only_missing_points(scenario: Path, local_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    shutil.copytree(local_sweep, out)
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    shutil.rmtree(out / "points" / table.loc[2, "point"])  # as if the sweep was killed before this point
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "sweep",
            str(scenario),
            "--grid",
            "tolerance=0.1",
            "--grid",
            "max_moved_share=0,0.1,1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    again = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    assert list(again["resumed"]) == [False, True, False]  # the failed point is retried, the kept one skipped
    pd.testing.assert_frame_equal(_rows(local_sweep), _rows(out))


def test_grid_parsing_and_pareto() -> None:
    assert parse_grid(["tolerance=0.03,0.05", "max-moved-share=0,1"]) == {
        "tolerance": [0.03, 0.05],
        "max_moved_share": [0, 1],
    }
    with pytest.raises(InputError):
        parse_grid(["tolerence=0.1"])
    with pytest.raises(InputError):
        parse_grid(["accounts=a.csv"])
    frame = pd.DataFrame(
        {
            "status": ["optimal"] * 3 + ["infeasible"],
            "max_dev_pct": [1.0, 2.0, 2.0, None],
            "moved_share": [0.2, 0.1, 0.3, None],
            "travel": [5.0, 5.0, 6.0, None],
        }
    )
    assert list(pareto_mask(frame)) == [True, True, False, False]


def test_page_reads_well_when_points_fail() -> None:
    """One plan and one point without a plan: amounts with separators (no 2.037e+06), empty cells rather
    than None or <NA>, the failure's reason listed under the table with its options unbroken, and a
    single solved point's axis value written once."""
    grid = {"tolerance": [0.05, 0.1]}
    points = grid_points(grid)
    solved = {
        "status": "feasible",
        "objective": 2036981.6,
        "travel": 2036981.6,
        "gap": 0.0224,
        "max_dev_pct": 4.99,
        "moved_share": 0.516,
        "moved_accounts": 359,
        "seconds": 38.3,
        "error": "",
    }
    failed = {"status": "failed", "error": "no plan found yet: try --time-limit 40 & a wider --tolerance"}
    table = sweep_table(points, {points[0].index: solved, points[1].index: failed}, grid)
    page = render_html(table, list(grid))
    body = page[page.index('<table id="points">') :]
    assert "2,036,982" in body
    assert "e+06" not in body
    assert "None" not in body
    assert "NA&gt;" not in body
    assert "2.24%" in body  # gap
    assert "51.6%" in body  # moved share
    assert "4.99%" in body
    assert "+4.99%" not in body
    assert ">0.05<" in body
    assert ">0.1<" in body
    listed = body[body.index("Points without a plan") :]
    assert f"<b>{points[1].name}</b> (failed)" in listed
    assert "<code>--time-limit</code> 40 &amp; a wider <code>--tolerance</code>" in listed
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert "moved 51.6%, max dev 4.99%" in chart  # the point's values in its tooltip; the axes from 0
    assert chart.count(">0</text>") == 2


def test_a_sweep_with_no_plan_at_all_fails(scenario: Path, tmp_path: Path) -> None:
    """Every point infeasible (moving nothing cannot balance this instance): the sweep still writes its
    table with the reasons, but exits 1 as `plan` would, not 0; one point with a plan is success."""
    args = ["sweep", str(scenario), "--grid", "tolerance=0.1", "-q"]
    res = CliRunner().invoke(main, [*args, "--grid", "max_moved_share=0", "--out", str(tmp_path / "none")])
    assert res.exit_code == 1, res.output
    assert "no point of the sweep has a plan" in res.output
    table = pd.read_csv(tmp_path / "none" / "sweep.csv", keep_default_na=False)
    assert list(table["status"]) == ["infeasible"]
    res = CliRunner().invoke(main, [*args, "--grid", "max_moved_share=0,1", "--out", str(tmp_path / "one")])
    assert res.exit_code == 0, res.output


def test_sweep_exit_code_follows_plan_s_codes() -> None:
    from territory_planner.scenario_cli import sweep_exit_code

    assert sweep_exit_code(pd.Series(["infeasible", "feasible"])) == 0
    assert sweep_exit_code(pd.Series(["infeasible", "input_error"])) == 1
    assert sweep_exit_code(pd.Series(["infeasible", "failed"])) == 3


def test_a_departed_reps_accounts_are_told_apart_from_the_budgeted_moves(tmp_path: Path) -> None:
    """QA6 (NC counties, R07 leaving): a point with --max-moved-share 0.2 showed 'moved share 31.2%', as
    if the budget were broken; the departed rep's accounts must move and are outside the budget. The
    sweep now shows the share the budget limits beside the total, and says why they differ."""
    base = write_instance(tmp_path / "inst")
    scenario = base.with_name("departure.toml")
    scenario.write_text('extends = "base.toml"\n[reps]\nremove = ["R3"]\n', encoding="utf-8")
    out = tmp_path / "sweep"
    run_sweep(scenario, {"max_moved_share": [0.2]}, out)
    row = pd.read_csv(out / "sweep.csv").iloc[0]
    assert row["status"] in ("optimal", "feasible")
    assert float(row["moved_share"]) > 0.2  # R3's quarter of the accounts all move
    assert float(row["budgeted_share"]) <= 0.2 + 1e-9
    page = (out / "sweep.html").read_text()
    assert "budgeted share" in page
    assert "reps no longer in the roster" in page


def four_point_page() -> str:
    """sweep.html of a 2 x 2 grid whose four points have plans (their numbers made up)."""
    grid = {"tolerance": [0.05, 0.1], "max_moved_share": [0.2, 0.3]}
    points = grid_points(grid)
    results = {
        p.index: {
            "status": "feasible",
            "objective": 1000.0 + 10 * p.index,
            "travel": 1000.0 + 10 * p.index,
            "gap": 0.01,
            "max_dev_pct": 5.0 + p.index,
            "moved_share": 0.2 + 0.05 * p.index,
            "moved_accounts": 10,
            "seconds": 1.0,
            "error": "",
        }
        for p in points
    }
    return render_html(sweep_table(points, results, grid), list(grid))


def test_every_circle_is_labelled_and_the_chart_fits_a_phone() -> None:
    """QA7, a 20-point Tokyo sweep: the chart's circles said which point they were only in a tooltip (not
    on paper, not at a glance among 20), and its fixed 640-px width, with no viewport tag, made the page
    scroll sideways on a 390-px phone. Each circle now carries its point's number as the table's first
    column starts (p000, p001, ...); the chart scales down to the page."""
    import re

    page = four_point_page()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'viewBox="0 0 640 400"' in svg
    assert "max-width: 100%" in svg
    labels = re.findall(r'<text class="point-label"[^>]*>([^<]+)</text>', svg)
    assert labels == ["p000", "p001", "p002", "p003"]
    assert len(re.findall(r'<circle class="(?:pareto|dominated)"', svg)) == 4
    assert len(re.findall(r'<circle class="size-key"', svg)) == 2


def test_the_chart_starts_its_axes_at_zero_and_sizes_circles_by_area() -> None:
    """QA17 F14: axes from the smallest to the largest value made a one-point difference in moved
    potential span the whole chart, and radii scaled from 5 to 14 px gave a circle 7% less travel one
    eighth of the area. Both axes start at 0 with round ticks; a circle's area is proportional to its
    travel; a size key shows the largest travel and half of it."""
    import re

    grid = {"tolerance": [0.05, 0.1]}
    points = grid_points(grid)
    results = {
        p.index: {
            "status": "feasible",
            "objective": t,
            "travel": t,
            "gap": 0.01,
            "max_dev_pct": d,
            "moved_share": m,
            "moved_accounts": 10,
            "seconds": 1.0,
            "error": "",
        }  # fmt: skip
        for p, t, d, m in zip(points, (653_658.0, 609_219.0), (4.9, 9.8), (0.335, 0.325), strict=True)
    }
    svg = render_html(sweep_table(points, results, grid), list(grid))
    svg = svg[svg.index("<svg") : svg.index("</svg>")]
    r = [float(v) for v in re.findall(r'<circle class="(?:pareto|dominated)"[^>]* r="([0-9.]+)"', svg)]
    assert (r[1] / r[0]) ** 2 == pytest.approx(609_219 / 653_658, rel=0.02)
    ticks = re.findall(r'text-anchor="middle">([0-9.]+)</text>', svg)
    assert ticks[0] == "0"
    assert ">travel</text>" in svg
    assert "653,658" in svg


def test_an_input_error_cell_names_its_place_and_is_not_quoted(scenario: Path, tmp_path: Path) -> None:
    """QA10 O9: a point whose option needs a column the reps table lacks ("--region-tolerance needs a
    'region' column") is recorded with its file and column first, as `plan` reports it; the cell no
    longer starts with "-", which the CSV's formula guard quoted ("'--region-tolerance needs ...")."""
    from territory_planner.io.scenario import load_scenario
    from territory_planner.sweep import run_point

    row = run_point(load_scenario(scenario), {"region_tolerance": 0.1}, str(tmp_path / "p"))
    assert row["status"] == "input_error"
    assert row["error"].startswith("reps.csv, column region: --region-tolerance needs"), row["error"]
    # a problem of the tables every point reads is said once, before any point is solved (QA62 F6)
    args = ["sweep", str(scenario), "--grid", "region_tolerance=0.1", "-q", "--out", str(tmp_path / "s")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    assert "--region-tolerance needs" in res.output
    assert not (tmp_path / "s" / "sweep.csv").exists()


def test_a_band_value_that_names_its_measures_changes_those_only_as_its_flag_does() -> None:
    """QA62 F2: ``--grid tolerance=potential=0.05`` over a [tolerance] table with workload 0.10 solved
    workload at the default 5% (and a district band named per measure dropped the other's altogether),
    where ``plan --tolerance potential=0.05`` keeps workload at 10%."""
    from territory_planner.sweep_grid import point_options

    values = {
        "accounts": "a.csv",
        "reps": "r.csv",
        "balance": ["potential", "workload"],
        "tolerance": {"potential": 0.08, "workload": 0.10},
        "district_tolerance": {"potential": 0.05, "workload": 0.02},
    }
    o = point_options(values, {"tolerance": "potential=0.05"}, "p000")
    assert o.tolerance == {"potential": 0.05, "workload": 0.10}
    o = point_options(values, {"district_tolerance": "potential=0.03"}, "p001")
    assert o.district_tolerance == {"potential": 0.03, "workload": 0.02}
    o = point_options(values, {"tolerance": 0.2}, "p002")
    assert (o.tol("potential"), o.tol("workload")) == (0.2, 0.2)
    # with a balance value too: the measures it keeps keep their scenario bands
    o = point_options(values, {"balance": ["potential"], "tolerance": "potential=0.04"}, "p003")
    assert o.tolerance == {"potential": 0.04}
    o = point_options({**values, "tolerance": "workload=0.15"}, {"tolerance": "potential=0.04"}, "p004")
    assert o.tolerance == {"potential": 0.04, "workload": 0.15}


def test_resume_solves_again_a_point_changed_damaged_or_written_after_the_sweep_stopped(
    scenario: Path, local_sweep: Path, tmp_path: Path
) -> None:
    """QA62 F4: a point whose assignments.csv was changed by hand, or whose folder had lost its map and
    report, was resumed with the numbers of the plan it no longer held. QA62 F1: a Dask worker stopped
    with the sweep wrote its point after the signal; sweep.csv listed it as not run, and the next run
    resumed it. Each is solved again, with a note saying why; an intact point is resumed."""
    out = tmp_path / "resumed"
    shutil.copytree(local_sweep, out)
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    edited, stopped = table.loc[1, "point"], table.loc[2, "point"]
    a = out / "points" / edited / "assignments.csv"
    frame = pd.read_csv(a, dtype=str, keep_default_na=False)
    other = sorted(set(frame["rep_id"]) - {frame.loc[0, "rep_id"]})[0]
    frame.loc[0, "rep_id"] = other
    frame.to_csv(a, index=False)
    notes: list[str] = []
    again = run_sweep(scenario, GRID, out, on_note=notes.append)
    assert list(again["resumed"]) == [False, False, True]
    assert any(edited in n and "changed after its plan was written" in n for n in notes)
    pd.testing.assert_frame_equal(_rows(local_sweep), _rows(out))
    # a folder that lost files a plan writes
    (out / "points" / stopped / "map.html").unlink()
    notes.clear()
    again = run_sweep(scenario, GRID, out, on_note=notes.append)
    assert list(again["resumed"]) == [False, True, False]
    assert any(stopped in n and "has no map.html" in n for n in notes)
    # a point the last sweep.csv lists as not run, whose folder is there all the same
    listed = pd.read_csv(out / "sweep.csv", dtype=str, keep_default_na=False)
    listed.loc[listed["point"] == stopped, "status"] = "not_run"
    listed.to_csv(out / "sweep.csv", index=False)
    notes.clear()
    again = run_sweep(scenario, GRID, out, on_note=notes.append)
    assert list(again["resumed"]) == [False, True, False]
    assert any(stopped in n and "written after the sweep that ran it had stopped" in n for n in notes)
    pd.testing.assert_frame_equal(_rows(local_sweep), _rows(out))


def test_a_bad_dask_address_is_a_usage_error_and_points_go_to_an_absolute_folder(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA62 F10: ``--address notaurl`` ended in a traceback, exit 1. QA62 F5: with a relative --out the
    workers of a Dask cluster wrote the points under their own working folder; the folder each point is
    written to is absolute."""
    with pytest.raises(InputError) as err:
        run_sweep(scenario, {"tolerance": [0.1]}, tmp_path / "bad", executor="dask", address="notaurl")
    assert err.value.exit_code == 2
    assert "--address" in str(err.value)
    import territory_planner.sweep as sweep_module

    seen: list[Path] = []

    def capture(*args: object, **_kw: object) -> Iterator[object]:
        seen.append(Path(str(args[2])))  # (todo, values, points_dir, ...)
        return iter(())

    monkeypatch.setattr(sweep_module, "_executor_results", capture)
    monkeypatch.chdir(tmp_path)
    run_sweep(scenario, {"tolerance": [0.1]}, Path("relative"))
    assert seen == [tmp_path.resolve() / "relative" / "points"]


def test_an_address_that_never_answers_or_is_a_worker_is_a_usage_error(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA63 F5's rest: a port where another service accepts connections and never replies held the
    sweep past Dask's own connect timeout without a word (minutes, until stopped). A worker's address
    is said to be a worker's."""
    import socket
    import threading

    from dask.distributed import LocalCluster

    import territory_planner.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "DASK_CONNECT_SECONDS", 1.0)
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(mute.accept()[0]), daemon=True).start()
    address = f"tcp://127.0.0.1:{mute.getsockname()[1]}"
    try:
        with pytest.raises(InputError) as err:
            run_sweep(scenario, {"tolerance": [0.1]}, tmp_path / "mute", executor="dask", address=address)
    finally:
        mute.close()
    assert err.value.exit_code == 2
    assert f"the Dask scheduler {address} did not answer in 1 s" in str(err.value)
    # nothing listens (the port just closed): said at once, not "something listens there" (QA65 F2)
    with pytest.raises(InputError) as err:
        run_sweep(scenario, {"tolerance": [0.1]}, tmp_path / "closed", executor="dask", address=address)
    assert f"the Dask scheduler {address} cannot be reached" in str(err.value)
    assert "something listens" not in str(err.value)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        worker = next(iter(cluster.scheduler.workers))
        with pytest.raises(InputError) as err:
            run_sweep(scenario, {"tolerance": [0.1]}, tmp_path / "w", executor="dask", address=worker)
    assert f"{worker} is a Dask Worker, not a scheduler" in str(err.value)


def test_a_scenario_s_problems_are_said_at_once_with_lines_and_grid_combinations_as_usage(
    scenario: Path, tmp_path: Path
) -> None:
    """QA62 F3: a sweep over a scenario with an unknown key and a bad value said the unknown key only
    (`validate` said both); a bad value alone was blamed on "options" with no line. QA62 F9: a
    tolerance for a measure that only the grid's balance value leaves out was an input error of
    "options", exit 1, not the grid's usage error."""
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{scenario.as_posix()}"\nmax_moved_shar = 0.3\ndistrict_tolerance = 1.5\n')
    with pytest.raises(InputError) as err:
        run_sweep(bad, {"tolerance": [0.05]}, tmp_path / "s1")
    said = {(Path(p.file).name, p.row, p.column) for p in err.value.problems}
    assert said == {("bad.toml", 2, "max_moved_shar"), ("bad.toml", 3, "district_tolerance")}
    bad.write_text(f'extends = "{scenario.as_posix()}"\ndistrict_tolerance = 1.5\n')
    with pytest.raises(InputError) as err:
        run_sweep(bad, {"tolerance": [0.05]}, tmp_path / "s2")
    assert [(Path(p.file).name, p.row) for p in err.value.problems] == [("bad.toml", 2)]
    with pytest.raises(InputError) as err:
        run_sweep(scenario, {"tolerance": ["workload=0.2"], "balance": [["potential"]]}, tmp_path / "s3")
    assert err.value.exit_code == 2
    assert [p.column for p in err.value.problems] == ["--grid tolerance"]


def test_a_stopped_worker_ends_the_solver_process_it_started() -> None:
    """QA62 F8: a sweep with solver=cbc stopped by SIGTERM left the worker's cbc running at full load
    until its own time limit. ``end_children`` (called by a stopped worker) ends the processes the
    worker started; checked in a process of its own, with a child that would run for a minute."""
    import subprocess
    import sys

    code = (
        "import subprocess, sys, time\n"
        "from territory_planner.sweep import end_children\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "time.sleep(0.5)\n"
        "end_children()\n"
        "print(child.wait(timeout=10))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "-15"  # ended by SIGTERM, not after its minute


def test_a_problem_of_an_added_rep_is_said_once_with_its_scenario_line(
    scenario: Path, tmp_path: Path
) -> None:
    """QA62 F6: an added rep without a district failed every point of a ``district_tolerance`` grid,
    each recorded in sweep.csv as "scenario [[reps.add]]", without the file and line validate names."""
    reps = pd.read_csv(scenario.parent / "reps.csv", dtype=str)
    reps["district"] = ["D1", "D1", "D2", "D2"]
    reps.to_csv(tmp_path / "reps_d.csv", index=False)
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{scenario.as_posix()}"\n\n[reps]\npath = "reps_d.csv"\n\n'
        '[[reps.add]]\nrep_id = "R9"\nlat = 41.0\nlon = -100.0\n'
    )
    with pytest.raises(InputError) as err:
        run_sweep(child, {"district_tolerance": [0.05, 0.1]}, tmp_path / "s")
    added = [p for p in err.value.problems if "R9" in p.message]
    assert added, err.value.problems
    assert Path(added[0].file).name == "child.toml"
    assert added[0].row is not None
    assert not (tmp_path / "s" / "sweep.csv").exists()


def test_a_scenario_band_s_bad_measure_is_the_scenario_s_when_a_grid_value_names_another(
    scenario: Path, tmp_path: Path
) -> None:
    """QA63 F7: over a scenario [tolerance] with workload 1.5, ``--grid tolerance=potential=0.05`` solved
    workload at the default 5% without a word (plan --tolerance potential=0.05 refuses the 1.5)."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{scenario.as_posix()}"\nbalance = ["potential", "workload"]\n\n'
        "[tolerance]\npotential = 0.1\nworkload = 1.5\n"
    )
    with pytest.raises(InputError) as err:
        run_sweep(bad, {"tolerance": ["potential=0.05"]}, tmp_path / "s")
    (problem,) = err.value.problems
    assert (Path(problem.file).name, problem.row) == ("bad.toml", 6)
    assert "workload 1.5 must be in [0, 1)" in problem.message


def test_a_damaged_point_is_removed_before_it_is_solved_again(
    scenario: Path, local_sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA63 F4: a damaged point's folder stayed when its re-solve failed: points/ kept the old plan as
    the point's while sweep.csv said it failed."""
    import territory_planner.sweep as sweep_module

    out = tmp_path / "resumed"
    shutil.copytree(local_sweep, out)
    name = pd.read_csv(out / "sweep.csv", keep_default_na=False).loc[1, "point"]
    (out / "points" / name / "map.html").unlink()

    def fails(*_a: object, **_kw: object) -> dict:
        return {"status": "failed", "seconds": 0.0, "error": "no plan found yet"}

    monkeypatch.setattr(sweep_module, "run_point", fails)
    table = run_sweep(scenario, GRID, out)
    assert table.loc[1, "status"] == "failed"
    assert not (out / "points" / name).exists()


def test_a_band_value_a_grid_balance_value_makes_good_is_no_grid_problem(
    scenario: Path, tmp_path: Path
) -> None:
    """QA63 F1: ``--grid balance=potential+workload --grid tolerance=workload=0.2`` over a scenario that
    balances potential alone was refused (each grid key was checked against the scenario's balance);
    plan --balance potential,workload --tolerance workload=0.2 gives potential 0.1, workload 0.2."""
    child = tmp_path / "pot.toml"
    child.write_text(
        f'extends = "{scenario.as_posix()}"\nbalance = ["potential"]\n\n[tolerance]\npotential = 0.1\n'
    )
    table = run_sweep(
        child, {"balance": [["potential", "workload"]], "tolerance": ["workload=0.2"]}, tmp_path / "s"
    )
    assert table.loc[0, "status"] in ("optimal", "feasible")
    import json

    (summary,) = (tmp_path / "s" / "points").glob("*/summary.json")
    assert json.loads(summary.read_text())["config"]["tolerance"] == {"potential": 0.1, "workload": 0.2}


@pytest.mark.portfolio
def test_a_sweeps_points_run_one_copy_of_the_whole_model_beside_whatever_the_cores(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each point is solved with one solver thread while other points share the machine (a pool's
    workers, a Dask worker's threads): no point starts copies of the whole model for the spare cores a
    plan of its own would use, and the machine's runs outside a sweep still do."""
    from territory_planner.optimize import background

    monkeypatch.setattr(background, "cores", lambda: 8)
    sizes: list[int] = []
    size = background.portfolio_size

    def recorded(threads: int | None) -> int:
        sizes.append(size(threads))
        return sizes[-1]

    monkeypatch.setattr(background, "portfolio_size", recorded)
    table = run_sweep(scenario, {"tolerance": [0.1, 0.2]}, tmp_path / "s")
    assert list(table["status"]) == ["optimal", "optimal"]
    assert sizes
    assert set(sizes) == {1}
    assert size(1) == 4  # outside the sweep
