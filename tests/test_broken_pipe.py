"""A console reader that stops reading (``plan ... | head -2``, ``plan ... 2>&1 | head``) does not change
the run: the plan is written whole and the exit code is the command's own. Before, click turned the
broken pipe into exit 1 (the code of bad input or a proven infeasibility) and, with the progress lines in
the same pipe, rich ended the solve at its first progress line: exit 1 and no plan folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import random_accounts, write_instance

ENTRY = "import sys; from territory_planner.cli import run; sys.argv[0] = 'territory-planner'; run()"


def _closed_reader(args: list[str], both: bool) -> subprocess.CompletedProcess[str]:
    """Run the console script with its stdout (and its stderr too when ``both``) in a pipe whose reader
    is closed before the command writes anything."""
    stderr: int | None = subprocess.STDOUT if both else subprocess.PIPE
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args], stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away at once, as `| true` or an early `| head`
    err = proc.stderr.read() if proc.stderr is not None else ""
    code = proc.wait(timeout=300)
    return subprocess.CompletedProcess(proc.args, code, "", err)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    reps = [{"rep_id": f"R{j}", "lat": 35 + 2 * j, "lon": -95 + j} for j in range(3)]
    return write_instance(tmp_path_factory.mktemp("pipe"), random_accounts(rng, 60), reps)


@pytest.mark.parametrize("both", [False, True], ids=["stdout", "stdout-and-stderr"])
def test_a_closed_console_pipe_leaves_the_plan_and_its_exit_code(
    instance: tuple[Path, Path], tmp_path: Path, both: bool
) -> None:
    accounts, reps = instance
    out = tmp_path / "plan"
    done = _closed_reader(
        ["plan", "--accounts", str(accounts), "--reps", str(reps), "--out", str(out), "--time-limit", "30"],
        both,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Broken pipe" not in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in {"optimal", "feasible"}
    assert (out / "assignments.csv").read_text().count("\n") == 61  # header + every account


def test_a_closed_pipe_keeps_a_failing_commands_own_code(tmp_path: Path) -> None:
    """The guard does not turn a failure into success: a missing input still ends with exit 1 (bad
    input), its message on the stderr that is still read."""
    done = _closed_reader(
        ["validate", "--accounts", str(tmp_path / "none.csv"), "--reps", str(tmp_path / "r.csv")], False
    )
    assert done.returncode in {1, 2}
    assert "none.csv" in done.stderr


@pytest.mark.parametrize(
    ("closed", "after_start"),
    [((1,), False), ((2,), False), ((1, 2), False), ((2,), True)],
    ids=["stdout", "stderr", "both", "stderr-after-start"],
)
def test_a_console_stream_closed_by_the_shell_leaves_the_plan_and_its_exit_code(
    instance: tuple[Path, Path], tmp_path: Path, closed: tuple[int, ...], after_start: bool
) -> None:
    """QA84 F1, F2: `plan ... 2>&-` ended at its first progress line (a write to a closed descriptor:
    EBADF, where a launcher had given Python a stderr before closing it), `plan ... >&-` with a traceback
    from the solver's flush of a stdout that Python had set to None: exit 1 and no plan, both. The
    descriptors now go to the null device."""
    import os

    accounts, reps = instance
    out = tmp_path / "plan"
    args = ["plan", "--accounts", str(accounts), "--reps", str(reps), "--out", str(out), "--time-limit", "30"]

    def close() -> None:
        for fd in closed:
            os.close(fd)

    # closed once Python has made its sys.stderr on it (as behind a launcher script), or before the exec
    entry = f"import os; os.close({closed[0]}); {ENTRY}" if after_start else ENTRY
    keep = subprocess.PIPE if 2 not in closed else None
    done = subprocess.run(  # noqa: PLW1509 - the child closes its own descriptors before the exec
        [sys.executable, "-c", entry, *args],
        preexec_fn=None if after_start else close,
        stderr=keep,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    if keep is not None:
        assert "Traceback" not in done.stderr
    assert json.loads((out / "summary.json").read_text())["status"] in {"optimal", "feasible"}
    assert (out / "assignments.csv").read_text().count("\n") == 61
