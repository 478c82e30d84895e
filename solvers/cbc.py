"""CBC through PuLP's ``COIN_CMD`` (the fallback back-end).

Needs a ``cbc`` binary: Debian/Ubuntu ``apt-get install coinor-cbc``, or ``pip install 'pulp[cbc]'``.
CBC reports a time-limited run with an incumbent as "Optimal"; PuLP exposes the truth in
``sol_status`` (IntegerFeasible), which is what this back-end reads. CBC gives no dual bound for a
stopped MIP, so ``bound`` is only set when optimality was proven.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pulp

from territory_planner.solvers.base import LiveMip, SolveOutcome, SolveStatus


def _cbc_path() -> str | None:
    """``cbc`` on the PATH (e.g. Debian's coinor-cbc), else the binary PuLP's wheel ships (CBC 2.10.3 in
    pulp 3.3 for Linux, macOS and Windows), so the fallback back-end works on a fresh machine too."""
    found = shutil.which("cbc")
    if found:
        return found
    # PULP_CBC_CMD (the wheel's own binary) is deprecated in PuLP 3.3 and gone in 4.0, where COIN_CMD finds
    # the binary `pip install pulp[cbc]` brings: each is asked for only if this PuLP has it
    for name in ("PULP_CBC_CMD", "COIN_CMD"):
        make = getattr(pulp, name, None)
        if make is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                solver = make(msg=False)
            if solver.available() and solver.path:
                return str(solver.path)
        except Exception:  # noqa: BLE001 - an unusable solver is simply "not available"
            continue
    return None


FILES_PREFIX = "territory-planner-cbc-"  # + the process id: the folder of this process's model files
_files: list[str] = []


def _files_dir() -> str:
    """The folder for PuLP's model and solution files, one per process, removed when the process ends.
    PuLP deletes its files after each solve, but a process stopped mid-solve (a sweep's worker ended by
    the pool) left them in /tmp (QA62): each new process also removes the folders of processes that no
    longer run."""
    if _files and os.path.isdir(_files[0]):
        return _files[0]
    base = Path(tempfile.gettempdir())
    for old in base.glob(FILES_PREFIX + "*"):
        pid = old.name.removeprefix(FILES_PREFIX)
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = base / f"{FILES_PREFIX}{os.getpid()}"
    folder.mkdir(exist_ok=True)
    _files[:] = [str(folder)]
    atexit.register(shutil.rmtree, str(folder), True)
    return str(folder)


def remove_files() -> None:
    """This process's model folder removed now: a process that ends with ``os._exit`` (the console
    script stopped in a solve) runs no ``atexit`` (QA90 F9: a Ctrl-C'd ``--solver cbc`` run left 5.7 MB
    of model files behind until the next CBC run)."""
    for folder in _files:
        shutil.rmtree(folder, ignore_errors=True)
    _files.clear()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it runs
        return True
    return True


class CbcBackend:
    name = "cbc"

    def available(self) -> bool:
        return _cbc_path() is not None

    def version(self) -> str:
        path = _cbc_path()
        if path is None:
            return "CBC (not installed)"
        try:
            out = subprocess.run([path, "-quit"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return "CBC"
        for line in out.splitlines():
            if line.startswith("Version:"):
                return "CBC " + line.split(":", 1)[1].strip()
        return "CBC"

    def solve(
        self,
        prob: pulp.LpProblem,
        variables: list[pulp.LpVariable],
        constraints: list[pulp.LpConstraint],
        *,
        mip: bool,
        time_limit: float | None,
        gap: float | None,
        seed: int,
        threads: int | None,
        lp_method: str = "simplex",  # noqa: ARG002 - CBC picks its own LP method
        abs_gap: float | None = None,
        start: np.ndarray | None = None,
        node_limit: int | None = None,
        solution_limit: int | None = None,
        live: LiveMip | None = None,
    ) -> SolveOutcome:
        del start  # COIN_CMD warm starts need files; CBC starts cold
        del live  # a CBC run ends at its time limit (only HiGHS runs beside: ``background.available``)
        begin = time.perf_counter()
        solver = pulp.COIN_CMD(
            path=_cbc_path(),
            mip=mip,
            msg=False,
            timeLimit=None if time_limit is None else max(1, int(np.ceil(time_limit))),
            gapRel=gap,
            gapAbs=abs_gap,
            threads=threads,
            options=([f"maxNodes {int(node_limit)}"] if node_limit is not None else [])
            + ([f"maxSolutions {int(solution_limit)}"] if solution_limit is not None else [])
            + [
                f"randomSeed {int(seed) % 2_147_483_647 or 1}",
                f"randomCbcSeed {int(seed) % 2_147_483_647 or 1}",
            ],
        )
        if hasattr(solver, "tmpDir"):
            with contextlib.suppress(OSError):  # else PuLP's own folder, as before
                solver.tmpDir = _files_dir()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            return SolveOutcome(
                SolveStatus.NO_SOLUTION,
                None,
                None,
                time.perf_counter() - begin,
                np.full(len(variables), np.nan),
                None,
                str(exc),
            )
        st, sol = prob.status, prob.sol_status
        if sol == pulp.const.LpSolutionOptimal:
            status = SolveStatus.OPTIMAL
        elif sol == pulp.const.LpSolutionIntegerFeasible:
            status = SolveStatus.FEASIBLE
        elif st == pulp.const.LpStatusInfeasible or sol == pulp.const.LpSolutionInfeasible:
            status = SolveStatus.INFEASIBLE
        elif st == pulp.const.LpStatusUnbounded:
            status = SolveStatus.UNBOUNDED
        else:
            status = SolveStatus.NO_SOLUTION
        ok = status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
        values = np.array([v.varValue if v.varValue is not None else np.nan for v in variables], dtype=float)
        objective = float(pulp.value(prob.objective)) if ok else None
        duals = None
        if ok and not mip:
            duals = np.array([c.pi if c.pi is not None else 0.0 for c in constraints], dtype=float)
        return SolveOutcome(
            status=status,
            objective=objective,
            bound=objective if status == SolveStatus.OPTIMAL else None,
            seconds=time.perf_counter() - begin,
            values=values if ok else np.full(len(variables), np.nan),
            row_duals=duals,
            message=pulp.LpStatus[st],
        )
