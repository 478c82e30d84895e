"""The console's streams when their reader goes away.

``territory-planner plan ... | head -2`` closes the pipe after two lines; the next write to it raises
``BrokenPipeError``. Click answers that with exit 1 (the code of a proven infeasibility or bad input) and
rich with ``SystemExit(1)`` from inside a progress line, which would end a solve half-way. A reader that
stops reading chose to see less, not to change the run: from the first broken write on, the stream's
output goes to the null device and the command runs on to its own end and its own exit code.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import Any, TextIO

# a write that finds its reader gone (EPIPE) or its descriptor closed (`2>&-`: EBADF)
GONE = {errno.EPIPE, errno.EBADF}


class PipeSafe:
    """A text stream that stops writing, without an error, once its reader has closed the pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except OSError as exc:
                if exc.errno not in GONE:
                    raise
                self._to_null()
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except OSError as exc:
                if exc.errno not in GONE:
                    raise
                self._to_null()

    def _to_null(self) -> None:
        """The stream's descriptor now points at the null device, so that what its buffer still holds
        (and the interpreter's last flush at exit) goes nowhere instead of failing again."""
        self.reader_gone = True
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self._stream.fileno())
            finally:
                os.close(null)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer, ...: the stream's own
        return getattr(self._stream, name)


def guard_console_streams() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` (once) so that a closed pipe ends their output, not the run.

    A stream the shell closed before the start (``>&-``, ``2>&-``) is ``None`` in Python, or a stream on a
    closed descriptor: its descriptor is opened on the null device first, so that neither Python's writes
    nor the C solvers' (HiGHS writes to descriptor 1) fail, and no file opened later (a plan's CSV) takes
    that descriptor number and receives the console's lines."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:  # closed: the null device takes its number (os.open returns the lowest free one)
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if getattr(sys, name) is None:
                setattr(sys, name, open(fd, "w", encoding="utf-8", errors="replace", closefd=False))  # noqa: SIM115
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PipeSafe):
            setattr(sys, name, PipeSafe(stream))
