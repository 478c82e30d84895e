"""QA22 M20-M22: a column the planner does not read was left out without a word when its header was
another tool's spelling of an optional column: ``Workload (h)`` (every workload 1), ``Account Owner``
(no current alignment: "moved 0 accounts" under a budget), ``Parent Account ID`` (families split),
``Capacity (FTE)`` (half-time reps planned full-time). Each is now an input problem naming the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_planner import api
from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from tests.conftest import line_instance, options_for, write_instance


def _problems(a: Path, r: Path, balance: tuple[str, ...] = ("potential", "workload")) -> dict[str, str]:
    with pytest.raises(InputError) as exc:
        load_inputs(a, r, balance)
    return {str(p.column): p.message for p in exc.value.problems}


def _rename(path: Path, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [new if c == old else c for c in lines[0].split(",")]
    path.write_text("\n".join([",".join(header), *lines[1:]]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("table", "column", "header", "loss"),
    [
        ("accounts", "workload", "Workload (h)", "every account's workload would be 1"),
        ("accounts", "current_rep", "Account Owner", "nothing counts as moved"),
        ("accounts", "parent_id", "Parent Account ID", "one family could go to different reps"),
        ("accounts", "current_rep", "OwnerId", "a disruption budget means nothing"),
        ("reps", "capacity", "Capacity (FTE)", "every rep's capacity would be 1"),
    ],
)
def test_another_tools_header_for_an_optional_column_is_named(
    tmp_path: Path, table: str, column: str, header: str, loss: str
) -> None:
    accounts, reps = line_instance()
    for row in accounts:
        row.update(current_rep="R1", parent_id="", workload=2.0)
    for row in reps:
        row["capacity"] = 1.0
    a, r = write_instance(tmp_path, accounts, reps)
    load_inputs(a, r)  # with the planner's own headers: read
    _rename(a if table == "accounts" else r, column, header)
    problems = _problems(a, r)
    message = problems[header.lower()]
    assert f"column {header.lower()!r} is not read: the planner reads {column!r}" in message
    assert loss in message


def test_a_balanced_measure_of_that_name_is_read(tmp_path: Path) -> None:
    accounts, reps = line_instance()
    for row in accounts:
        row["hours"] = row.pop("workload") + 2.0
    a, r = write_instance(tmp_path, accounts, reps)
    # "hours" is another tool's workload when the file has no workload column, unless it is balanced
    assert "hours" in _problems(a, r)
    inputs = load_inputs(a, r, ("potential", "hours"))
    assert inputs.accounts["hours"].tolist() == [3.0] * len(accounts)


@pytest.mark.parametrize(
    ("option", "value", "flag"),
    [
        ("max_moved_share", 0.1, "--max-moved-share 0.1"),
        ("max_moved_share_per_rep", 0.2, "--max-moved-share-per-rep 0.2"),
        ("disruption_weight", 2.0, "--disruption-weight 2"),
    ],
)
def test_a_disruption_option_without_any_current_rep_is_refused(
    tmp_path: Path, option: str, value: float, flag: str
) -> None:
    """QA22 M21: with no current alignment a budget measured nothing: "moved 0 accounts (0.0%)"."""
    accounts, reps = line_instance()
    for row in accounts:
        row.pop("current_rep")
    a, r = write_instance(tmp_path, accounts, reps)
    with pytest.raises(InputError) as exc:
        api.solve(options_for(a, r, **{option: value}))
    (problem,) = exc.value.problems
    assert problem.column == "current_rep"
    assert f"{flag} measures what moves from today's alignment, but no account has a current rep" in (
        problem.message
    )
    assert api.solve(options_for(a, r)).summary["status"] in ("optimal", "feasible")  # without it: a plan
