"""Whether an output can be written where it was asked for (standard library only: the ``--out``
callbacks run before a command loads pandas or reads an input)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from territory_planner.errors import OutputPathError


def reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] No space left on device: '/x/.tmp123'``."""
    return exc.strerror or str(exc)


@contextlib.contextmanager
def cannot_write(path: Path) -> Iterator[None]:
    """An ``OSError`` while writing ``path`` (a full disk, a permission) becomes ``OutputPathError``
    naming ``path`` and the reason."""
    try:
        yield
    except OSError as exc:
        raise OutputPathError(path, reason(exc)) from exc
    except Exception as exc:
        # a writer's own error around the OSError (xlsxwriter's FileCreateError on a full disk: QA57 F12,
        # a 20-frame traceback where every other output says "cannot write ...: No space left on device")
        cause = _os_error(exc)
        if cause is None:
            raise
        raise OutputPathError(path, reason(cause)) from exc


def _os_error(exc: BaseException) -> OSError | None:
    """The ``OSError`` among an exception's arguments, causes and contexts, if any."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError):
            return e
        todo += [a for a in e.args if isinstance(a, BaseException)]
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
    return None


def check_writable(path: Path) -> None:
    """Raise ``OutputPathError`` when ``path`` (a file or folder to write) cannot be created: a parent is a
    file, or the nearest folder that exists takes no new entry. Tried as the writers do it: a folder is
    made there (the staging folder, a file's temporary name) and removed at once."""
    path = Path(path)
    if path.name in ("", ".", ".."):  # the folder cannot be replaced by its own name (QA33 F9: at the end)
        raise OutputPathError(path, "name the output itself, e.g. --out plans/2027, not '.' or '..'")
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(path, f"{parent} is a file, not a folder")
    with cannot_write(path):
        os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.probe.", dir=parent))
