"""`plan --locks FILE` / `validate --locks FILE` (scenario key ``locks``): a table of account_id, rep_id
laid over the accounts' locked_rep (QA29 F2: the README named the flag, which did not exist)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
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


def _problems(a: Path, r: Path, locks: Path) -> list[tuple[int | None, str | None, str, str]]:
    with pytest.raises(InputError) as exc:
        load_inputs(a, r, locks=locks)
    assert all(p.file == str(locks) for p in exc.value.problems)
    return [(p.row, p.column, p.value, p.message) for p in exc.value.problems]


def test_a_locks_problems_name_its_row(tmp_path: Path) -> None:
    """QA32 F-h 1: an unknown account had no row, a duplicate lock said "on an earlier row"."""
    a, r = _inputs(tmp_path)
    locks = tmp_path / "locks.csv"
    locks.write_text("account_id,rep_id\nA1,R1\nA99,R2\nA1,R2\n", encoding="utf-8")
    assert _problems(a, r, locks) == [
        (3, "account_id", "A1", "locked to R1 on row 1"),
        (2, "account_id", "A99", f"account is not in {a}"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfaccount_id;rep_id\r\nA1;R2\r\nA6;R1\r\n",  # QA32 F-h 2: Excel where decimals are commas
        b"Account ID,Rep ID\nA1,R2\nA6,R1\n",  # F-h 3: a CRM's headers
        b"account_id,rep_id\nA1,R2,\nA6,R1,\n",  # F-h 4: a trailing separator (A1 was taken as the index)
        b"sep=;\naccount_id;rep_id\rA1;R2\rA6;R1\r",  # Excel's sep= line, CR line ends (Excel for Mac)
    ],
)
def test_locks_are_read_like_every_other_csv(tmp_path: Path, data: bytes) -> None:
    a, r = _inputs(tmp_path)
    locks = tmp_path / "locks.csv"
    locks.write_bytes(data)
    locked = load_inputs(a, r, locks=locks).accounts.set_index("account_id")["locked_rep"]
    assert locked.to_dict() == {"A1": "R2", "A2": "", "A3": "", "A4": "", "A5": "", "A6": "R1"}


def test_a_row_longer_than_the_header_is_its_row(tmp_path: Path) -> None:
    """A note with an unquoted comma: reported on its row, not read shifted by a column."""
    a, r = _inputs(tmp_path)
    locks = tmp_path / "locks.csv"
    locks.write_text("account_id,rep_id,note\nA1,R2\nA6,R1,keep: CEO, do not move\n", encoding="utf-8")
    [(row, column, _, message)] = _problems(a, r, locks)
    assert (row, column) == (2, "D")  # the first cell past the header
    assert message.startswith("the row has 4 cells but the header names 3 columns")


def test_a_leading_apostrophe_is_kept_as_the_accounts_reader_keeps_it(tmp_path: Path) -> None:
    """QA32 F-h 6: the lock 'A1 was read as A1 where the accounts table reads 'A1 as 'A1: an account
    'A1 could not be locked, and A1 was locked by a cell that does not name it. The lock of a cell the
    planner's own writer guarded (locks.csv of `edit`: '-A2 for -A2) reads back as written."""
    accounts, reps = line_instance()
    accounts[0]["account_id"], accounts[1]["account_id"] = "'A1", "-A2"
    a, r = write_instance(tmp_path, accounts, reps)
    locks = tmp_path / "locks.csv"
    locks.write_text("account_id,rep_id\n'A1,R2\n'-A2,R2\n", encoding="utf-8")
    got = load_inputs(a, r, locks=locks).accounts.set_index("account_id")["locked_rep"]
    assert (got["'A1"], got["-A2"]) == ("R2", "R2")
    locks.write_text("account_id,rep_id\nA3,R2\n'A4,R2\n", encoding="utf-8")
    hint = "(did you mean 'A4'? account ids are matched exactly)"
    assert _problems(a, r, locks) == [(2, "account_id", "'A4", f"account is not in {a} {hint}")]


def test_a_lock_of_an_id_that_lost_its_zeros_names_the_account(tmp_path: Path) -> None:
    """QA32 F-x: "did you mean" for a lock's account written without (or with) the leading zeros."""
    accounts, reps = line_instance()
    accounts[0]["account_id"], accounts[1]["account_id"] = "01003", "1025"
    a, r = write_instance(tmp_path, accounts, reps)
    locks = tmp_path / "locks.csv"
    locks.write_text("account_id,rep_id\n1003,R2\n01025,R2\n", encoding="utf-8")
    assert [(row, message.split(" (")[1]) for row, _, _, message in _problems(a, r, locks)] == [
        (1, "did you mean '01003'? account ids are matched exactly)"),
        (2, "did you mean '1025'? account ids are matched exactly)"),
    ]


def test_an_empty_locks_or_edits_file_is_said_to_be_empty(tmp_path: Path) -> None:
    """QA57 F3: an empty edits or locks file read "not a readable CSV: No columns to parse from file"
    (pandas' own text), where an empty accounts file reads "the file is empty"."""
    from territory_planner.io.readers import read_csv_cells

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for what in ("locks", "edits"):
        with pytest.raises(InputError) as info:
            read_csv_cells(empty, what)
        (problem,) = info.value.problems
        assert problem.message == f"the file is empty: the {what} file needs a header row"


def test_a_long_locks_row_comes_with_the_files_other_problems(tmp_path: Path) -> None:
    """QA60: a locks row with a cell too many hid an unknown rep on another row until the next run."""
    a, r = _inputs(tmp_path)
    locks = tmp_path / "locks.csv"
    locks.write_text("account_id,rep_id\nA1,R2\nA2,R1\nA3,R2,extra\nA6,R9\n", encoding="utf-8")
    found = {(row, column) for row, column, _, _ in _problems(a, r, locks)}
    assert {(3, "C"), (4, "rep_id")} <= found
