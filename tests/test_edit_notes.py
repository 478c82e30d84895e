"""What an edited plan (``edit`` without ``--rebalance``) says of itself: no claim of the run that solved
the plan (optimal, the solver's notes, stages and history) once an account changes rep, its objective
evaluated again above the plan's lower bound, and the home accounts it gives away found by the plan's
own rule, polygons included.

The balance plan is the tiny scenario of ``scenario_fixtures`` (40 accounts, four reps at the corners of a
square, tolerance 10%). The polygon plan is a strip of three polygon accounts:

    lon 0 ............... 10   11   12
        |        A     ◆R1 | B  |◆R2 C |      R1's home lies inside A, 1 degree from B's point and
                                              about 4.5 degrees (500 km) from A's own
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import strip_map, write_instance

from territory_planner import api
from territory_planner.cli import main
from territory_planner.model.homes import lost_homes
from territory_planner.options import build_options

# notes a solver run writes (the words of the pipeline's own notes), added to the plan's summary.json so
# that every kind is there to be dropped, whatever the tiny model needed
SOLVER_NOTES = [
    "HiGHS proved the plan optimal: gap 0.00% at the exact stage",
    "the LP bound was proven in 0.1 s; the rounding MIPs stopped within 1%",
]
INPUT_NOTE = "accounts.csv row 7: lat and lon look swapped (accepted as given)"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario's plan, with the solver notes above beside an input note."""
    root = tmp_path_factory.mktemp("edit-notes")
    scenario = write_instance(root / "inputs")
    out = root / "base"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary["notes"] = [*summary.get("notes", []), *SOLVER_NOTES, INPUT_NOTE]
    summary["input_warnings"] = [*summary.get("input_warnings", []), INPUT_NOTE]
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return out


def edit(plan: Path, rows: list[tuple[str, str]], out: Path) -> dict:
    edits = out.parent / f"{out.name}-edits.csv"
    pd.DataFrame(rows, columns=["account_id", "rep_id"]).to_csv(edits, index=False)
    result = CliRunner().invoke(main, ["edit", str(plan), "--edits", str(edits), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary: dict = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary


def moves(plan: Path) -> list[tuple[str, str]]:
    """Two accounts of R0's given to R1."""
    a = pd.read_csv(plan / "assignments.csv", dtype=str)
    return [(acc, "R1") for acc in a.loc[a["rep_id"] == "R0", "account_id"].head(2)]


def test_an_edited_plan_claims_nothing_of_the_run_that_solved_the_plan(base: Path, tmp_path: Path) -> None:
    before = json.loads((base / "summary.json").read_text(encoding="utf-8"))
    assert before["status"] == "optimal"
    assert before["proven_optimal"] is True
    assert before["history"]
    assert before["stages"]
    s = edit(base, moves(base), tmp_path / "m")
    assert s["status"] == "manual"
    assert s["proven_optimal"] is False
    assert not [n for n in s["notes"] if "optimal" in n.lower() or "proven" in n.lower()], s["notes"]
    solved = [n for n in before["notes"] if n not in before["input_warnings"]]
    assert set(solved) >= set(SOLVER_NOTES)
    assert not set(solved) & set(s["notes"])
    assert (s["solver"], s["history"], s["stages"], s["stages_seconds"]) == (None, [], [], {})
    assert s["method"] == s["plan_source"] == "manual"
    # what still holds stays: the note on the inputs, and where the plan and its notes are
    assert INPUT_NOTE in s["notes"]
    assert s["input_warnings"] == [INPUT_NOTE]
    assert any(n.startswith("hand-edited: 2 account(s) given to another rep by hand") for n in s["notes"])
    said = f"the plan's {len(solved)} note{'' if len(solved) == 1 else 's'} on how it was made"
    assert any(said in n for n in s["notes"])
    assert s["edited_from"]["status"] == "optimal"
    # the map's status line names no solver and claims no optimum
    page = (tmp_path / "m" / "map.html").read_text(encoding="utf-8")
    assert "Status <b>manual</b>" in page
    assert "(proven optimal)" not in page
    assert "solver " + str(before["solver"]) not in page


def test_edits_that_change_nothing_keep_the_plan_s_optimum(base: Path, tmp_path: Path) -> None:
    a = pd.read_csv(base / "assignments.csv", dtype=str)
    s = edit(base, list(zip(a["account_id"].head(3), a["rep_id"].head(3), strict=True)), tmp_path / "same")
    assert s["status"] == "manual"
    assert s["proven_optimal"] is True  # the same assignment: what the solver proved still holds
    assert any(
        n.startswith("the edits change no account's rep: this is the plan as solved (optimal")
        for n in s["notes"]
    )


def test_a_plan_without_notes_on_its_solve_is_not_said_to_have_0(base: Path, tmp_path: Path) -> None:
    """QA45 F6: "the plan's 0 note(s) on how it was made ... hold for that plan, not this one"."""
    import shutil

    plan = tmp_path / "plan"
    shutil.copytree(base, plan)
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["notes"] = list(summary["input_warnings"])  # only notes on the inputs
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    moved = edit(plan, moves(plan), tmp_path / "m")
    assert not [n for n in moved["notes"] if "on how it was made" in n], moved["notes"]
    a = pd.read_csv(plan / "assignments.csv", dtype=str)
    same = edit(plan, list(zip(a["account_id"].head(1), a["rep_id"].head(1), strict=True)), tmp_path / "s")
    (note,) = [n for n in same["notes"] if n.startswith("the edits change no account's rep")]
    assert note.endswith(")")  # "... as solved (optimal, gap 0.00%)", no "its 0 notes ..."
    assert "note" not in note.split("(", 1)[1]


def test_the_edited_objective_lies_above_the_plan_s_lower_bound(base: Path, tmp_path: Path) -> None:
    before = json.loads((base / "summary.json").read_text(encoding="utf-8"))
    s = edit(base, moves(base), tmp_path / "m")
    lower, objective = s["lower_bound"], s["objective"]
    assert lower == before["lower_bound"]  # a bound on every plan of the model, kept
    assert objective > before["objective"]  # evaluated again: the plan was optimal, the edits cost
    assert lower <= objective
    assert s["gap"] == pytest.approx((objective - lower) / objective)
    assert s["gap"] > 0
    (note,) = [n for n in s["notes"] if "lower bound" in n]
    assert f"objective {objective:,.1f} evaluated again" in note
    assert f"lower bound {lower:,.1f}" in note
    assert note.endswith(f"the objective is {100 * s['gap']:.2f}% above it")
    broken = len(s["violations"])
    assert (f"the edits break {broken} of its constraint(s)" in note) == (broken > 0)


def test_edit_finds_a_home_by_its_polygon_as_plan_does(tmp_path: Path) -> None:
    accounts, reps = strip_map(tmp_path / "in")
    plan = tmp_path / "plan"
    args = ["plan", "--accounts", str(accounts), "--reps", str(reps), "--tolerance", "0.9", "-q"]
    result = CliRunner().invoke(main, [*args, "--out", str(plan)])
    assert result.exit_code == 0, result.output
    a = pd.read_csv(plan / "assignments.csv", dtype=str).set_index("account_id")
    assert a.loc["A", "rep_id"] == "R1"
    # the plan's rule on the edited assignment: A's polygon holds R1's home, its point is 500 km away
    _, problem = api.load(build_options({"accounts": accounts, "reps": reps, "tolerance": 0.9}))
    rep_index = {r: j for j, r in enumerate(problem.rep_ids)}
    edited = {**a["rep_id"].to_dict(), "A": "R2"}
    unit_rep = np.array([rep_index[edited[str(i)]] for i in problem.account_ids])
    given = np.ones(problem.n_reps, dtype=bool)
    (by_plan,) = lost_homes(problem, unit_rep, problem.home_lat, problem.home_lon, given)
    line = "R1's home account A goes to R2, "
    assert line in by_plan
    said = by_plan[by_plan.index(line) :].split(". --keep-home")[0]
    # edit reads the plan folder's polygons (units.geojson) and says the same of the same assignment
    s = edit(plan, [("A", "R2")], tmp_path / "edited")
    (by_edit,) = [n for n in s["notes"] if "at a rep's home (" in n]
    assert "1 unit(s) at a rep's home (its polygon, or within 1 km) go to a rep based elsewhere" in by_edit
    assert by_edit.endswith(said)
    assert s["input_warnings"] == [by_edit]
    shutil.rmtree(tmp_path / "in")  # edit needs the plan folder only, not the inputs
    s = edit(plan, [("A", "R2")], tmp_path / "again")
    assert [n for n in s["notes"] if "at a rep's home (" in n] == [by_edit]
