"""Ctrl-C during a solve: the flag the console script's SIGINT handler leaves and every HiGHS solve's
interrupt callbacks answer. Threads only, nothing numerical: the console script installs the handler
before it knows whether the command solves anything (``--help`` loads no solver)."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# Ctrl-C seen by the console script (``cli.run`` installs ``on_sigint``). HiGHS runs Python callbacks
# (the interrupt check, the solutions handed over): a KeyboardInterrupt raised in one is swallowed by
# HiGHS, which then went on to its time limit, and the command wrote its plan over the earlier one 20 s
# after the Ctrl-C (QA29 F8). The flag stays: the callbacks stop HiGHS, and the main thread raises
# KeyboardInterrupt again as soon as the solve returns (``raise_if_interrupted``).
USER_INTERRUPT = threading.Event()


# the signal that stopped the command (SIGINT or SIGTERM), for its message and exit code (128 + it)
RECEIVED: list[int] = []


def on_sigint(signum: int, _frame: object) -> None:
    """SIGINT (and SIGTERM) handler: remember it, then raise KeyboardInterrupt as Python's own SIGINT
    handler does, so that a SIGTERM (a scheduler, ``kill``, a container stopping) stops the command the
    same way: staged outputs dropped, an earlier plan as it was, a line saying so (QA57 F15: exit 143 and
    not a word)."""
    RECEIVED[:] = [signum]
    USER_INTERRUPT.set()
    raise KeyboardInterrupt


def stopped_by() -> tuple[str, int]:
    """How the message names the signal that stopped the command, and the exit code shells report."""
    import signal

    signum = RECEIVED[0] if RECEIVED else int(signal.SIGINT)
    return ("Terminated (SIGTERM)" if signum == signal.SIGTERM else "Interrupted"), 128 + signum


def raise_if_interrupted() -> None:
    """After a solve: the Ctrl-C its callbacks swallowed, raised in the main thread (a solver thread
    beside it just returns: the main thread ends the command)."""
    if USER_INTERRUPT.is_set() and threading.current_thread() is threading.main_thread():
        raise KeyboardInterrupt


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """A solve called from a library (a script, a notebook): in the main thread, a flag cleared of an
    earlier Ctrl-C (QA90 F2: after one interrupt every later solve in the process raised
    KeyboardInterrupt at its first HiGHS run) and, while SIGINT has Python's own handler (a script,
    Jupyter's kernel while a cell runs), ``on_sigint`` in its place for the call, the previous handler
    back after it (QA90 F1: only the console script installed it, and a Ctrl-C that came while HiGHS
    ran was swallowed in its callbacks: the solve ran to its limit and ``plan`` wrote its folder). A
    handler of the caller's own, or the console script's, is left as it is; other threads change
    nothing (signals reach the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import signal

    USER_INTERRUPT.clear()
    RECEIVED.clear()
    previous = signal.getsignal(signal.SIGINT)
    ours = previous is signal.default_int_handler
    if ours:
        signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


def stoppable(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run ``handled()``: a library entry point that solves stops at a Ctrl-C."""

    @functools.wraps(fn)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with handled():
            return fn(*args, **kwargs)

    return wrapped
