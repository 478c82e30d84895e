"""The CBC back-end finds a binary on a fresh machine: ``cbc`` on the PATH first, else the one PuLP's wheel
ships (the README's test command skipped the CBC tests on a machine without Debian's coinor-cbc)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pulp
import pytest

from solvers import cbc
from tests.conftest import ProcessEndedError, ends_by_raising


def test_cbc_on_the_path_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/opt/cbc/bin/cbc" if name == "cbc" else None)
    assert cbc._cbc_path() == "/opt/cbc/bin/cbc"


def test_without_cbc_on_the_path_pulps_own_binary_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    make = getattr(pulp, "PULP_CBC_CMD", None)  # deprecated in PuLP 3.3, gone in 4.0
    if make is None:
        pytest.skip("this PuLP has no PULP_CBC_CMD (4.x: COIN_CMD with pulp[cbc])")
    with pytest.warns(DeprecationWarning, match="PULP_CBC_CMD"):
        bundled = make(msg=False)
    if not bundled.available():
        pytest.skip("this PuLP build ships no CBC binary")
    real = shutil.which
    # no "cbc" on the PATH; PuLP's own check of its binary (a full path) still answers
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "cbc" else real(name, *a, **k))
    path = cbc._cbc_path()
    assert path is not None
    assert os.path.samefile(path, bundled.path)
    backend = cbc.CbcBackend()
    assert backend.available()
    assert backend.version().startswith("CBC ")
    prob = pulp.LpProblem("tiny", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 3, cat="Integer")
    prob += -x
    row = x <= 2.5
    prob += row
    out = backend.solve(prob, [x], [row], mip=True, time_limit=10, gap=0.0, seed=0, threads=1)
    assert out.has_solution
    assert out.values[0] == pytest.approx(2.0)


def test_no_binary_anywhere_means_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    for name in ("PULP_CBC_CMD", "COIN_CMD"):  # PULP_CBC_CMD: PuLP 3.x only
        if hasattr(pulp, name):
            monkeypatch.setattr(getattr(pulp, name), "available", lambda _self: False)
    assert cbc._cbc_path() is None
    assert not cbc.CbcBackend().available()


def test_model_files_go_to_a_folder_of_the_process_and_dead_processes_folders_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA62: a sweep point stopped while CBC solved left PuLP's ``*-pulp.mps`` files in /tmp. The files
    now go to one folder per process, removed when it ends, and each new process removes the folders of
    processes that no longer run (one stopped by its pool runs no exit handler)."""
    import subprocess
    import sys
    import tempfile

    if not cbc.CbcBackend().available():
        pytest.skip("no CBC binary")
    root = tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setattr(cbc, "_files", [])
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = root / f"{cbc.FILES_PREFIX}{int(dead.stdout)}"
    stale.mkdir()
    (stale / "0f95-pulp.mps").write_text("NAME\n")
    alive = root / f"{cbc.FILES_PREFIX}{os.getppid()}"  # a running process's folder is its own
    alive.mkdir()
    seen: list[str] = []
    real = pulp.LpProblem.solve

    def solve(prob: pulp.LpProblem, solver: object = None, **kw: object) -> int:
        seen.append(str(getattr(solver, "tmpDir", "")))
        return real(prob, solver, **kw)

    monkeypatch.setattr(pulp.LpProblem, "solve", solve)
    prob = pulp.LpProblem("tiny", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 3, cat="Integer")
    prob += -x
    row = x <= 2.5
    prob += row
    out = cbc.CbcBackend().solve(prob, [x], [row], mip=True, time_limit=10, gap=0.0, seed=0, threads=1)
    assert out.values[0] == pytest.approx(2.0)
    assert seen == [str(root / f"{cbc.FILES_PREFIX}{os.getpid()}")]
    assert not stale.exists()
    assert alive.exists()
    assert list(Path(seen[0]).iterdir()) == []  # PuLP removed its files after the solve


def test_a_command_stopped_in_a_solve_removes_its_model_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA90 F9: the console script stopped in a solve ends with ``os._exit``, which runs no ``atexit``:
    a Ctrl-C'd ``--solver cbc`` run left its 5.7 MB folder of model files until the next CBC run."""
    import signal
    import sys
    import tempfile

    import highspy  # noqa: F401 - loaded, as in a run stopped in a solve

    from territory_planner import cli, interrupt
    from territory_planner.solvers import cbc as shipped  # the module as the product imports it

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(shipped, "_files", [])
    folder = Path(shipped._files_dir())
    (folder / "model.mps").write_text("NAME x\n", encoding="ascii")
    monkeypatch.setattr(interrupt, "RECEIVED", [int(signal.SIGINT)])

    ends_by_raising(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["territory-planner", "--version"])
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(ProcessEndedError):
            cli.run()
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    assert not folder.exists()
