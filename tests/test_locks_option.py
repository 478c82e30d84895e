"""`plan --locks FILE` / `validate --locks FILE` (scenario key ``locks``): a table of account_id, rep_id
laid over the accounts' locked_rep (QA29 F2: the README named the flag, which did not exist)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import line_instance, write_instance


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    accounts, reps = line_instance()
    return write_instance(tmp_path, accounts, reps)


def test_locks_flag_locks_the_accounts(tmp_path: Path) -> None:
    a, r = _inputs(tmp_path)
    accounts = pd.read_csv(a, dtype=str)
    reps = pd.read_csv(r, dtype=str)["rep_id"].tolist()
    first = accounts["account_id"].iloc[0]
    locks = tmp_path / "locks.csv"
    locks.write_text(f"account_id,rep_id\n{first},{reps[-1]}\n", encoding="utf-8")  # the far rep
    out = tmp_path / "plan"
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(a), "--reps", str(r), "--locks", str(locks), "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False).set_index("account_id")
    assert got.loc[first, "rep_id"] == reps[-1]
    assert got.loc[first, "locked_rep"] == reps[-1]


def test_a_locks_rep_not_on_the_roster_is_the_locks_files_row(tmp_path: Path) -> None:
    """The unknown rep is blamed on the locks file's row and column, where it is written (it was blamed
    on accounts.csv, which names no such rep)."""
    a, r = _inputs(tmp_path)
    first, second = pd.read_csv(a, dtype=str)["account_id"].iloc[:2]
    locks = tmp_path / "locks.csv"
    locks.write_text(f"account_id,rep_id\n{first},R1\n{second},R99\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    res = CliRunner().invoke(
        main,
        ["validate", "--accounts", str(a), "--reps", str(r), "--locks", str(locks), "--errors", str(errors)],
    )
    assert res.exit_code == 1, res.output
    table = pd.read_csv(errors, dtype=str, keep_default_na=False)
    assert table[["file", "row", "column", "value"]].values.tolist() == [[str(locks), "2", "rep_id", "R99"]]
