"""Cross-table problems (references to reps, families, segments) are reported in the same run as the
per-table problems: one InputError, every problem with its file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import api
from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from tests.conftest import line_instance, options_for, write_instance


def _bad_instance(folder: Path) -> tuple[Path, Path]:
    """Row 3: negative potential (per table); row 5: unknown current_rep (cross table)."""
    accounts, reps = line_instance()
    accounts[2]["potential"] = -5.0
    accounts[4]["current_rep"] = "R9"
    return write_instance(folder, accounts, reps)


def _where(problems: list) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.row, p.column) for p in problems}


def test_load_reports_per_table_and_cross_table_problems_together(tmp_path: Path) -> None:
    a, r = _bad_instance(tmp_path)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {(str(a), 3, "potential"), (str(a), 5, "current_rep")}
    unknown = next(p for p in exc.value.problems if p.column == "current_rep")
    assert unknown.value == "R9"
    assert "not a rep in the reps file" in unknown.message


def test_api_validate_reports_both(tmp_path: Path) -> None:
    a, r = _bad_instance(tmp_path)
    with pytest.raises(InputError) as exc:
        api.validate(options_for(a, r))
    assert _where(exc.value.problems) == {(str(a), 3, "potential"), (str(a), 5, "current_rep")}


def test_api_plan_reports_both_and_writes_no_plan(tmp_path: Path) -> None:
    a, r = _bad_instance(tmp_path)
    out = tmp_path / "plan"
    with pytest.raises(InputError) as exc:
        api.plan(options_for(a, r), out)
    assert _where(exc.value.problems) == {(str(a), 3, "potential"), (str(a), 5, "current_rep")}
    assert not (out / "summary.json").exists()


def test_cli_validate_lists_both_and_exits_1(tmp_path: Path) -> None:
    a, r = _bad_instance(tmp_path)
    res = CliRunner().invoke(main, ["validate", "--accounts", str(a), "--reps", str(r)])
    assert res.exit_code == 1, res.output
    assert "2 problem(s) in the inputs" in res.output
    assert "potential must be >= 0" in res.output
    assert "current_rep 'R9' is not a rep in the reps file" in res.output


def test_cli_plan_writes_both_to_input_errors_csv(tmp_path: Path) -> None:
    a, r = _bad_instance(tmp_path)
    out = tmp_path / "plan"
    res = CliRunner().invoke(main, ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "-q"])
    assert res.exit_code == 1, res.output
    table = pd.read_csv(out / "input_errors.csv", keep_default_na=False)
    got = {(f, int(row), c) for f, row, c in zip(table["file"], table["row"], table["column"], strict=True)}
    assert got == {(str(a), 3, "potential"), (str(a), 5, "current_rep")}


def test_unknown_locked_rep_with_problems_in_both_tables(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[0]["lat"] = 95.0  # accounts, row 1
    accounts[3]["locked_rep"] = "R7"  # cross table, row 4
    reps[1]["capacity"] = 0.0  # reps, row 2 (capacity must be > 0); R1 has the default
    reps[0]["capacity"] = ""
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {
        (str(a), 1, "lat"),
        (str(a), 4, "locked_rep"),
        (str(r), 2, "capacity"),
    }


def test_family_and_segment_checks_run_despite_per_table_problems(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    accounts[5]["workload"] = "lots"  # row 6, not a number
    for k, lock in ((0, "R1"), (1, "R2")):  # rows 1, 2: one family locked to two reps
        accounts[k]["parent_id"] = "F1"
        accounts[k]["locked_rep"] = lock
    accounts[2]["segment"] = "mining"  # row 3: nobody serves it
    reps[0]["segments"] = "retail"
    reps[1]["segments"] = "retail;health"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {
        (str(a), 6, "workload"),
        (str(a), 1, "locked_rep"),
        (str(a), 2, "locked_rep"),
        (str(a), 3, "segment"),
    }


def test_bad_cells_in_a_measure_do_not_also_claim_it_sums_to_zero(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    for row in accounts:
        row["potential"] = 0.0
    accounts[0]["potential"] = "n/a"
    accounts[1]["current_rep"] = "R9"
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {(str(a), 1, "potential"), (str(a), 2, "current_rep")}


def test_a_table_missing_its_id_column_still_reports_the_other_table(tmp_path: Path) -> None:
    """When the reps table cannot be parsed at all, references cannot be checked, but the accounts'
    own problems and the reps' missing column are still reported together."""
    accounts, reps = line_instance()
    accounts[2]["potential"] = -1.0
    accounts[4]["current_rep"] = "R9"
    for rep in reps:
        rep["id"] = rep.pop("rep_id")
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {(str(a), 3, "potential"), (str(r), None, "rep_id")}


def test_lock_to_a_rep_who_does_not_serve_the_segment(tmp_path: Path) -> None:
    """Reported even when another rep could serve the segment: the lock and the segment rule clash."""
    accounts, reps = line_instance()
    reps.append({"rep_id": "R3", "lat": 0.0, "lon": 0.5})  # serves any segment
    reps[0]["segments"] = "retail"
    reps[1]["segments"] = ""
    reps[2]["segments"] = ""
    accounts[0]["segment"] = "Health"
    accounts[0]["locked_rep"] = "R1"  # row 1: R1 serves retail only
    accounts[1]["segment"] = "retail"
    accounts[1]["locked_rep"] = "R1"  # fine
    accounts[2]["segment"] = "health"
    accounts[2]["locked_rep"] = "R2"  # fine: R2 serves any segment
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {(str(a), 1, "locked_rep")}
    assert "does not serve segment 'health'" in exc.value.problems[0].message


def test_family_lock_and_a_members_segment(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    reps[0]["segments"] = "retail"
    reps[1]["segments"] = ""
    for k in (0, 1, 2):
        accounts[k]["parent_id"] = "F1"
    accounts[0]["locked_rep"] = "R1"
    accounts[0]["segment"] = "retail"
    accounts[2]["segment"] = "health"  # row 3: goes to R1 with its family, R1 does not serve health
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    assert _where(exc.value.problems) == {(str(a), 3, "segment")}
    assert "family 'F1' is locked to 'R1' (row 1)" in exc.value.problems[0].message


def test_an_unknown_current_rep_says_how_to_plan_a_departure(tmp_path: Path) -> None:
    """A current_rep missing from this year's roster is usually a rep who left (QA8, Texas counties: 26 rows
    'current_rep 'R12' is not a rep in the reps file' and no word of the way a departure is planned). The
    message names it: keep the rep in the reps file and remove it in the scenario; an unknown locked_rep
    (no departure makes a lock to a stranger right) gets no such hint."""
    a, r = _bad_instance(tmp_path)
    acc = pd.read_csv(a, dtype=str, keep_default_na=False)
    acc.loc[1, "locked_rep"] = "R7"
    acc.to_csv(a, index=False)
    with pytest.raises(InputError) as exc:
        api.validate(options_for(a, r))
    by_column = {p.column: p.message for p in exc.value.problems}
    assert '[reps] remove = ["R9"]' in by_column["current_rep"]
    assert "keep R9 in the reps file" in by_column["current_rep"]
    assert by_column["locked_rep"] == "locked_rep 'R7' is not a rep in the reps file"


def test_a_rep_id_in_other_letter_case_gets_did_you_mean(tmp_path: Path) -> None:
    """QA13 11: current_rep 'es01' where the reps file has ES01 got the "a rep who left?" hint; the same
    id in other case (or with spaces) is named instead, for current_rep and locked_rep alike."""
    accounts, reps = line_instance()
    rep = str(reps[0]["rep_id"])
    accounts[1]["current_rep"] = rep.lower()
    accounts[2]["locked_rep"] = f" {rep.lower()} "
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    by_col = {p.column: p for p in exc.value.problems}
    assert f"did you mean {rep!r}?" in by_col["current_rep"].message
    assert "a rep who left" not in by_col["current_rep"].message
    assert f"did you mean {rep!r}?" in by_col["locked_rep"].message


def test_a_balance_measure_whose_column_is_missing_says_so(tmp_path: Path) -> None:
    """QA13 11: an accounts file without a potential column (it defaults to 0), balanced on potential,
    read "balance measure 'potential' sums to 0: nothing to balance" with no word of the missing column;
    a column present but all zeros keeps the short message."""
    accounts, reps = line_instance()
    for row in accounts:
        del row["potential"]
    a, r = write_instance(tmp_path / "missing", accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (problem,) = [p for p in exc.value.problems if p.column == "potential"]
    assert "the file has no 'potential' column" in problem.message
    for row in accounts:
        row["potential"] = 0.0
    a, r = write_instance(tmp_path / "zeros", accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (problem,) = [p for p in exc.value.problems if p.column == "potential"]
    assert "sums to 0" in problem.message
    assert "has no 'potential' column" not in problem.message


def test_a_rep_id_typed_in_full_width_characters_gets_did_you_mean(tmp_path: Path) -> None:
    """QA61 F9: current_rep 'Ｒ１' (full-width, as an East Asian input method types it) where the reps file
    has R1 got the "a rep who left?" hint, which a case difference no longer gets."""
    accounts, reps = line_instance()
    accounts[1]["current_rep"] = "\uff32\uff11"  # Ｒ１
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        load_inputs(a, r)
    (problem,) = [p for p in exc.value.problems if p.column == "current_rep"]
    assert "did you mean 'R1'?" in problem.message
    assert "a rep who left" not in problem.message
