"""A command line outside ASCII where Python reads it as ASCII.

With ``LC_ALL=C`` and both of Python's fixes for that locale turned off (``PYTHONCOERCECLOCALE=0``,
``PYTHONUTF8=0``), Python decodes the command line as ASCII: ``--out "runs/plän"`` or ``--currency €``
arrive as lone surrogates ("pl\\udcc3\\udca4n"), which no UTF-8 file, no pandas text column and no
HTML page can hold (QA86 F2: tracebacks from `plan` after the whole solve, and from `compare`). Those
bytes are the terminal's UTF-8, and the file system holds the same bytes: the console script runs
itself again at once in Python's UTF-8 mode (``-X utf8``), where both read as typed.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Sequence


def _undecoded(text: str) -> bool:
    """Whether ``text`` holds bytes Python could not decode (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def needs_utf8_mode(argv: Sequence[str], utf8_mode: bool, fs_encoding: str) -> bool:
    """Whether a process read ``argv`` as ASCII where its bytes are UTF-8: outside UTF-8 mode, with an
    ASCII file system encoding, an argument Python could not decode, and every argument valid UTF-8."""
    if utf8_mode or codecs.lookup(fs_encoding).name != "ascii":
        return False
    if not any(_undecoded(a) for a in argv):
        return False
    try:
        for a in argv:
            os.fsencode(a).decode("utf-8")
    except UnicodeDecodeError:  # not UTF-8 either: running again would read them no better
        return False
    return True


def rerun_in_utf8_mode() -> None:
    """Replace this process by the same command in UTF-8 mode when its arguments need it (it returns
    otherwise). Called first by the console script, before anything is printed or read."""
    if not sys.executable or len(sys.orig_argv) < 2:  # an embedded interpreter: nothing to run again
        return
    if needs_utf8_mode(sys.argv[1:], bool(sys.flags.utf8_mode), sys.getfilesystemencoding()):
        os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])
