"""A scenario or a sweep point that narrows what is balanced, and every band problem at once (QA44 F7, F9).

F7: a child scenario with ``balance = ["potential"]`` below a parent whose ``[tolerance]`` names workload
was refused, the parent's line blamed, with the hint to balance workload again; ``--grid
balance=potential`` was refused the same way. Now the inherited band goes, said, as under ``--balance``.
F9: ``[tolerance] segment = 0.1, workload = 1.5`` reported the 1.5 only; the unbalanced segment came out
on the next run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from territory_planner.errors import InputError
from territory_planner.io.scenario import load_scenario
from territory_planner.options import build_options
from territory_planner.sweep import prepare_sweep
from territory_planner.sweep_grid import check_grid, point_options

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
BASE = f"""accounts = "{SAMPLE / "accounts.csv"}"
reps = "{SAMPLE / "reps.csv"}"
balance = ["potential", "workload"]
[tolerance]
potential = 0.05
workload = 0.08
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_child_narrowing_balance_drops_the_inherited_band_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path, "base.toml", BASE)
    child = _write(tmp_path, "child.toml", 'extends = "base.toml"\nbalance = ["potential"]\n')
    with caplog.at_level(logging.WARNING):
        values = load_scenario(child)
    options = build_options(values, source=str(child))
    assert options.balance == ("potential",)
    assert options.tolerance == {"potential": pytest.approx(0.05)}
    said = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
    assert len(said) == 1
    assert "workload" in said[0]
    assert "child.toml" in said[0]
    # the parent itself is as it was
    assert build_options(load_scenario(tmp_path / "base.toml")).tolerance == {
        "potential": pytest.approx(0.05),
        "workload": pytest.approx(0.08),
    }


def test_a_band_the_child_writes_on_a_measure_it_leaves_out_stays_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "base.toml", BASE)
    text = 'extends = "base.toml"\nbalance = ["potential"]\n[tolerance]\nworkload = 0.2\n'
    child = _write(tmp_path, "child.toml", text)
    with pytest.raises(InputError) as err:
        build_options(load_scenario(child), source=str(child))
    (problem,) = err.value.problems
    assert "'workload', which is not a balance measure" in problem.message


def test_every_band_problem_of_a_table_is_said_at_once() -> None:
    values = {
        "balance": ["potential", "workload"],
        "tolerance": {"potential": 0.1, "segment": 0.1, "workload": 1.5},
    }
    with pytest.raises(InputError) as err:
        build_options(values, source="s.toml")
    messages = sorted(p.message for p in err.value.problems)
    assert len(messages) == 2
    assert "tolerance for workload 1.5 must be in [0, 1)" in messages
    assert any("'segment', which is not a balance measure" in m for m in messages)


def test_a_flags_bad_measures_are_each_named() -> None:
    with pytest.raises(InputError) as err:
        build_options(
            {"balance": "potential,workload", "tolerance": "potential=2,workload=x"},
            source="s.toml",
            flags=frozenset({"tolerance"}),
        )
    assert [p.message for p in err.value.problems] == [
        "--tolerance for potential 2.0 must be in [0, 1)",
        "--tolerance for workload 'x' is not a number",
    ]


def test_a_sweeps_balance_grid_drops_the_scenarios_band_on_what_it_leaves_out(tmp_path: Path) -> None:
    base = _write(tmp_path, "base.toml", BASE)
    grid = {"balance": [["potential"], ["potential", "workload"]]}
    values = load_scenario(base)
    assert check_grid(values, grid, str(base)) == []
    _, _, notes = prepare_sweep(base, grid)
    assert len(notes) == 1
    assert "tolerance for workload is not used at balance=potential" in notes[0]
    narrow = point_options(values, {"balance": ["potential"]}, "p000")
    assert narrow.tolerance == {"potential": pytest.approx(0.05)}
    both = point_options(values, {"balance": ["potential", "workload"]}, "p001")
    assert both.tolerance == {"potential": pytest.approx(0.05), "workload": pytest.approx(0.08)}


def test_a_parents_tolerance_written_as_text_is_narrowed_too(tmp_path: Path) -> None:
    """QA47 F1: `tolerance = "potential=0.1,workload=0.15"` in the parent, a child balancing potential:
    refused, the parent's line blamed (only a [tolerance] table was narrowed)."""
    text = BASE.split("[tolerance]")[0] + 'tolerance = "potential=0.1,workload=0.15"\n'
    _write(tmp_path, "base.toml", text)
    child = _write(tmp_path, "child.toml", 'extends = "base.toml"\nbalance = ["potential"]\n')
    assert build_options(load_scenario(child), source=str(child)).tolerance == {
        "potential": pytest.approx(0.1)
    }
    _, _, notes = prepare_sweep(tmp_path / "base.toml", {"balance": [["potential"]]})
    assert any("tolerance for workload is not used at balance=potential" in n for n in notes)


def test_a_band_left_out_by_a_middle_file_comes_back_where_the_measure_is_balanced_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA47 F2: base bands workload at 15%, the middle file balances potential only, the last one potential
    and workload again: workload was held within the default 5%, without a word."""
    import pandas as pd

    accounts = pd.read_csv(SAMPLE / "accounts.csv", dtype={"account_id": str})
    accounts.assign(revenue=accounts["potential"] * 0.3).to_csv(tmp_path / "accounts.csv", index=False)
    base = BASE.replace(
        'balance = ["potential", "workload"]', 'balance = ["potential", "workload", "revenue"]'
    ).replace(str(SAMPLE / "accounts.csv"), str(tmp_path / "accounts.csv"))
    _write(tmp_path, "base.toml", base.replace("workload = 0.08", "Workload = 0.15\nrevenue = 0.2"))
    _write(tmp_path, "mid.toml", 'extends = "base.toml"\nbalance = ["potential"]\n')
    leaf = _write(tmp_path, "leaf.toml", 'extends = "mid.toml"\nbalance = ["potential", "workload"]\n')
    with caplog.at_level(logging.WARNING):
        options = build_options(load_scenario(leaf), source=str(leaf))
    assert options.tolerance == {"potential": pytest.approx(0.05), "workload": pytest.approx(0.15)}
    said = [r.getMessage() for r in caplog.records if "is not used" in r.getMessage()]
    assert len(said) == 1  # revenue only, named with the file that left it out
    assert said[0].startswith(f"{(tmp_path / 'mid.toml').resolve()} leaves revenue out of its balance")
    # a sweep point over the middle file balancing revenue again gets the chain's band too (QA48 F4: the
    # default 5%, where a child file gets 0.2), and a measure no file bands is said to be held at the default
    values, _, notes = prepare_sweep(tmp_path / "mid.toml", {"balance": [["potential", "revenue"]]})
    assert not [n for n in notes if "no band for revenue" in n]
    point = point_options(values, {"balance": ["potential", "revenue"]}, "p000")
    assert point.tolerance == {"potential": pytest.approx(0.05), "revenue": pytest.approx(0.2)}
    assert point_options(values, {"balance": ["potential"]}, "p001").tolerance == {
        "potential": pytest.approx(0.05)
    }
    accounts.assign(margin=1.0).to_csv(tmp_path / "accounts.csv", index=False)
    _, _, notes = prepare_sweep(tmp_path / "mid.toml", {"balance": [["potential", "margin"]]})
    assert any("no band for margin" in n and "default 5%" in n for n in notes)


def test_a_balance_written_with_the_grids_plus_names_its_measures() -> None:
    """QA47 F9: `balance = "potential+workload"` in a scenario was one measure, "potential+workload"."""
    assert build_options({"balance": "potential+workload"}).balance == ("potential", "workload")
    assert build_options({"balance": "potential, workload"}).balance == ("potential", "workload")
