"""The console script's exit while HiGHS still runs in a thread beside it (QA14: a plan written, then the
process killed by SIGABRT, exit 134, because a member cancelled at the deadline was still in its
presolve when the interpreter shut down)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# a MIP HiGHS needs far longer than the test to solve, in a thread named as the planner's members are
SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    import numpy as np, highspy

    def solve():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", 60.0)
        rng = np.random.default_rng(0)
        n, m = 400, 60
        for _ in range(n):
            h.addVar(0, 1)
        cols = np.arange(n, dtype=np.int32)
        h.changeColsIntegrality(n, cols, np.array([highspy.HighsVarType.kInteger] * n))
        h.changeColsCost(n, cols, rng.random(n))
        for _ in range(m):
            idx = rng.choice(n, 40, replace=False).astype(np.int32)
            val = rng.integers(1, 100, 40).astype(float)
            h.addRow(0.45 * val.sum(), 0.46 * val.sum(), 40, idx, val)
        h.run()

    threading.Thread(target=solve, name=sys.argv[1], daemon=True).start()
    time.sleep(3.0)  # in its branch and bound, with HiGHS's worker threads started
    sys.argv = ["territory-planner", *sys.argv[2:]]
    from territory_planner.cli import run
    run()
    """
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_console_script_ends_at_once_while_a_solver_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a thread of the planner's solver members alive, ``run`` ends the process with ``os._exit``
    and the command's code (the interpreter's shutdown would abort it); without one, by ``sys.exit``."""
    import threading

    from territory_planner import cli
    from tests.conftest import ProcessEndedError, ends_by_raising

    ends_by_raising(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["territory-planner", "--version"])
    with pytest.raises(SystemExit) as plain:
        cli.run()
    assert plain.value.code == 0
    release = threading.Event()
    member = threading.Thread(target=release.wait, name="whole-model", daemon=True)
    member.start()
    try:
        monkeypatch.setattr(sys, "argv", ["territory-planner", "plan", "--bogus"])
        with pytest.raises(ProcessEndedError) as ended:
            cli.run()
        assert ended.value.args == (2,)
    finally:
        release.set()
        member.join()


@pytest.mark.parametrize(("args", "code"), [(("--version",), 0), (("plan", "--bogus"), 2)])
def test_the_console_script_keeps_its_exit_code_with_highs_running(args: tuple[str, ...], code: int) -> None:
    res = _run("whole-model", *args)
    assert res.returncode == code, res.stderr
    if code == 0:
        assert "territory-planner, version" in res.stdout  # flushed before the process ended
    else:
        assert "No such option" in res.stderr


def test_a_command_stopped_by_a_signal_after_loading_highs_ends_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA84 F7: a SIGTERM just after the balancing search's plan ended 2 runs of 10 with exit 134
    ("terminate called without an active exception": HiGHS's threads at the interpreter's teardown)
    where 143 is due. A command stopped by a signal once HiGHS is loaded ends by ``os._exit`` with the
    signal's code, as one with a solver thread alive does; stopped before any solver was loaded, or with
    a sweep's worker processes to wait for, it leaves by ``sys.exit``."""
    import signal

    import highspy  # noqa: F401 - loaded, as by any command that solved

    from territory_planner import api, cli, interrupt
    from tests.conftest import ProcessEndedError, ends_by_raising

    def stopped(*_a: object, **_k: object) -> None:
        interrupt.on_sigint(signal.SIGTERM, None)  # what the handler does when the signal comes

    ends_by_raising(monkeypatch)
    monkeypatch.setattr(api, "validate", stopped)
    monkeypatch.setattr(interrupt, "RECEIVED", [])
    monkeypatch.setattr(sys, "argv", ["territory-planner", "validate", "sample_data/scenarios/base.toml"])
    try:
        with pytest.raises(ProcessEndedError) as ended:
            cli.run()
        assert ended.value.args == (128 + signal.SIGTERM,)
        # no signal: the interpreter's own exit, whatever is loaded
        interrupt.RECEIVED.clear()
        monkeypatch.setattr(sys, "argv", ["territory-planner", "--version"])
        with pytest.raises(SystemExit) as plain:
            cli.run()
        assert plain.value.code == 0
    finally:
        interrupt.USER_INTERRUPT.clear()
