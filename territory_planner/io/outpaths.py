"""Whether an output can be written where it was asked for (standard library only: the ``--out``
callbacks run before a command loads pandas or reads an input)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from territory_planner.errors import OutputPathError

# of an output's name in the names of its hidden siblings (the staging folder, the previous folder, a
# file's temporary name, the probe): mkdtemp adds 8 characters, and the whole must stay within the file
# system's limit on one name (255 bytes) however long the output's own (QA86 F3: a 238-character --out
# passed the probe and failed at the staging folder once the solve had run)
HIDDEN_NAME_BYTES = 100


def cut_name(name: str, size: int) -> str:
    """``name``, or when it is longer than ``size`` bytes in the file system's encoding, its first ``size``
    bytes, cut at a whole character."""
    raw = os.fsencode(name)
    return name if len(raw) <= size else raw[:size].decode(sys.getfilesystemencoding(), errors="ignore")


def hidden_prefix(name: str, what: str) -> str:
    """``.{name}.{what}.``, the prefix of a hidden sibling of ``name``: its name cut to
    ``HIDDEN_NAME_BYTES`` bytes (``cut_name``)."""
    return f".{cut_name(name, HIDDEN_NAME_BYTES)}.{what}."


def name_max(folder: Path) -> int:
    """The longest name (in bytes) the file system holding ``folder`` allows (255 where it cannot say)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def reason(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] No space left on device: '/x/.tmp123'``."""
    return exc.strerror or str(exc)


@contextlib.contextmanager
def cannot_write(path: Path) -> Iterator[None]:
    """An ``OSError`` while writing ``path`` (a full disk, a permission) becomes ``OutputPathError``
    naming ``path`` and the reason."""
    try:
        yield
    except OutputPathError:  # already says the path and why (e.g. a folder replaced meanwhile)
        raise
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
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # bytes Python could not read as text: no UTF-8 page or file can name it
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise OutputPathError(
            shown, "its name holds bytes that are not UTF-8 text (a name in another encoding); choose another"
        ) from None
    if path.name in ("", ".", ".."):  # the folder cannot be replaced by its own name (QA33 F9: at the end)
        raise OutputPathError(path, "name the output itself, e.g. --out plans/2027, not '.' or '..'")
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(path, f"{parent} is a file, not a folder")
    limit, size = name_max(parent), len(os.fsencode(path.name))
    if size > limit:
        raise OutputPathError(path, f"its name is {size} bytes long; this file system takes at most {limit}")
    with cannot_write(path):
        os.rmdir(tempfile.mkdtemp(prefix=hidden_prefix(path.name, "probe"), dir=parent))
