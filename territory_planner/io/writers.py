"""Atomic writers.

A plan folder is written into a hidden staging folder next to the destination and renamed into place
at the end, so a failed run never leaves a half-written plan and never touches an existing one unless
``force`` is given. Single files are written to a temporary name and ``os.replace``-d.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import OutputExistsError, OutputPathError
from territory_planner.io.outpaths import cannot_write, hidden_prefix, reason

log = logging.getLogger(__name__)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy where text cells starting with ``= + - @`` are prefixed with ``'``.

    Spreadsheets execute such cells as formulas (CSV injection). Numeric columns are untouched, and so
    are text cells that are plain numbers (``-3.5``).
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        as_text = series.astype("string")
        numeric = pd.to_numeric(as_text, errors="coerce").notna()
        risky = as_text.str.startswith(_FORMULA_PREFIXES, na=False) & ~numeric
        if risky.any():
            out[col] = series.astype(object).where(~risky, "'" + as_text.astype(object))
    return out


def unneutralise(value: str) -> str:
    """Undo ``neutralise_formulas`` for one cell read back as text: ``'=x`` was written for ``=x``."""
    if len(value) >= 2 and value[0] == "'" and value.startswith(_FORMULA_PREFIXES, 1):
        return value[1:]
    return value


def _float_text(value: object) -> str:
    """A float as Python writes it once rounded to 15 significant digits, all a float holds for sure: sums
    of measures keep their meaning without the noise of binary fractions (171.29999999999998 is 171.3),
    and quotas their cents up to 1e13 (QA60: at 12 digits a 1e15 target's quotas summed $1,000 over)."""
    return repr(float(f"{float(value):.15g}"))  # type: ignore[arg-type]


def csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of a table: safe for spreadsheets (``neutralise_formulas``), floats without noise."""
    out = neutralise_formulas(frame).to_csv(index=False, lineterminator="\n", float_format=_float_text)
    return str(out)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV safely for spreadsheets, atomically."""
    atomic_write_text(path, csv_text(frame))


def atomic_write_file(
    path: Path, write: Callable[[Path], object], check: Callable[[], None] | None = None
) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it into place; a failure (a full
    disk) leaves nothing, any earlier ``path`` as it was, and raises ``OutputPathError`` naming ``path``.
    ``check``, when given, runs just before the rename and may raise to leave ``path`` as it was."""
    path = Path(path)
    with cannot_write(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=hidden_prefix(path.name, "tmp"), dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            write(tmp)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; shared reports must be readable
            if check is not None:
                check()
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if check is not None and isinstance(exc, OSError):
                # the temporary file went with a folder replaced meanwhile: said as such (QA87 F3: "No
                # such file or directory")
                check()
            raise


def atomic_write_text(path: Path, text: str, check: Callable[[], None] | None = None) -> None:
    """``text`` written by ``atomic_write_file`` (UTF-8, line ends as they are)."""
    atomic_write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""), check)


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf, numpy's too) replaced by None, recursively:
    JSON has no NaN, and a strict reader (JavaScript's JSON.parse, jq) rejects the ``NaN`` Python
    writes by default."""
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # numpy floats are floats too
        return None
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", None) == 0:
        return finite_json(value.item())  # numpy scalars
    return value


def json_text(value: Any) -> str:
    """Indented JSON with no NaN or infinity (they become null), for summary.json and the manifests."""
    return json.dumps(finite_json(value), indent=2, default=str, allow_nan=False) + "\n"


def is_nonempty_dir(path: Path) -> bool:
    """A folder holding files, other than the ``input_errors.csv`` a failed run left in it (so the run
    after the inputs are fixed needs no --force)."""
    try:
        return path.is_dir() and any(p.name != "input_errors.csv" for p in path.iterdir())
    except FileNotFoundError:  # moved away by another writer meanwhile (QA87 F2)
        return False


# what each command writes, by the files that tell its folder apart (a plan folder may hold a report and a
# forecast too: it is a plan)
OUTPUT_KINDS = (
    ("plan", frozenset({"manifest.json", "summary.json", "assignments.csv"})),
    ("comparison", frozenset({"compare.html", "moves.csv"})),
    ("report", frozenset({"report.html", "kpis.csv"})),
    ("forecast", frozenset({"forecast.csv", "forecast.html"})),
)
# a folder holding one of these was written by a command of this tool (a plan, an edit, a report, a
# comparison, a forecast): --force may replace it (with output of the same kind)
OUTPUT_SIGNATURES = frozenset().union(*(files for _, files in OUTPUT_KINDS))


def output_kind(names: Iterable[str]) -> str | None:
    """Which command's output a folder holding ``names`` is (``OUTPUT_KINDS``), None for none."""
    found = set(names)
    return next((kind for kind, files in OUTPUT_KINDS if files & found), None)


def check_replace(out: Path, force: bool, kept: str, kind: str | None = None) -> None:
    """Raise ``OutputExistsError`` when writing ``out`` would replace files: without ``force`` always
    (``kept`` says what is kept), and with it when the folder holds none of this tool's outputs (QA22
    M10: ``--out myfolder --force`` deleted the user's own files in it; a typo of ``--out ~/Documents``
    would have deleted the documents), or (``kind``: what this command writes) another command's output
    (QA27 F15: ``report --out PLAN --force`` deleted the plan and left report.html and kpis.csv)."""
    from territory_planner.io.labels import first_few

    if not is_nonempty_dir(out):
        return
    try:
        names = sorted(p.name for p in out.iterdir())
    except FileNotFoundError:  # moved away by another writer since it was seen (QA87 F2)
        return
    if not names:  # emptied since: nothing to replace
        return
    if not OUTPUT_SIGNATURES.intersection(names):  # --force could not help: said at once (QA29 F17)
        raise OutputExistsError(
            f"{out} holds files territory-planner did not write ({first_few(names)}): --force replaces a "
            "folder of an earlier run only, and this one would be deleted whole; choose another folder"
        )
    held = output_kind(names)
    # another command's output: said at once too, not "pass --force" that would then be refused (QA68 F4)
    if kind is not None and held is not None and held != kind:
        shown = first_few(sorted(dict(OUTPUT_KINDS)[held].intersection(names)))
        raise OutputExistsError(
            f"{out} holds a {held} ({shown}), and this command writes a {kind}: --force replaces an earlier "
            f"{kind} only, and the {held} would be deleted whole; choose another folder"
        )
    if not force:
        raise OutputExistsError(f"{out} already holds files; pass --force to replace it ({kept})")


def refuse_replacing_inputs(out: Path, inputs: Iterable[Path | str | None]) -> None:
    """Raise ``OutputExistsError`` when ``out`` is one of the run's inputs or holds one: the output
    replaces the folder whole, so ``report --plan p --out p --force`` deleted the plan it reported on
    (QA17 F1), and ``plan --out data --force`` would delete ``data/accounts.csv``. An edit into the plan
    it edits too (QA27 F21: the solved plan was gone, and the edited one said it was edited from itself)."""
    target = Path(out).resolve()
    for p in inputs:
        if p is None:
            continue
        source = Path(p).resolve()
        if source == target:
            what = f"the output folder {out} is also an input of this run"
        elif target in source.parents:
            what = f"the output folder {out} holds {p}, an input of this run"
        else:
            continue
        raise OutputExistsError(
            f"{what}: the output replaces that folder whole, so writing it there would delete the input "
            "(with --force too); choose another folder"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a link to it too
    except OSError:
        return a.resolve() == b.resolve()


def check_replace_file(path: Path, force: bool, inputs: Iterable[Path | str | None] = ()) -> None:
    """Raise ``OutputExistsError`` when writing the file ``path`` would replace one of the run's
    ``inputs`` (with ``force`` too: QA32 F-n, ``validate --errors`` named the accounts file replaced it
    with the problems), or, without ``force``, any file already there (QA29 F16: ``map --out``)."""
    path = Path(path)
    for p in inputs:
        if p is not None and _same_file(path, Path(p)):
            named = "" if str(p) == str(path) else f" ({p})"
            raise OutputExistsError(
                f"{path} is an input of this run{named}: writing there would replace it (with --force too); "
                "choose another file"
            )
    # an empty file (a script's mktemp) holds nothing to lose (QA33 F13)
    if path.exists() and not force and not (path.is_file() and path.stat().st_size == 0):
        raise OutputExistsError(f"{path} already exists; pass --force to replace it")


def refuse_into_plan(plan_dir: Path, targets: Iterable[Path], own: str) -> None:
    """Raise ``OutputExistsError`` when a command reading the plan folder ``plan_dir`` would write a file
    into it other than its own output there (``own``: map.html, plan.xlsx; with --force too): QA44 F4/F5,
    `map --out PLAN/assignments.csv --force` broke the plan for every later command, and hand-off files
    written into it were deleted by the next `plan --force`."""
    home = Path(plan_dir).resolve()
    for target in targets:
        target = Path(target)
        if target.resolve() == home:
            raise OutputExistsError(
                f"{target} is the plan folder: its files are the plan's own (with --force too); write these "
                "files to another folder"
            )
        if target.resolve().parent == home and target.name != own:
            raise OutputExistsError(
                f"{target} is in the plan folder {plan_dir}: writing there would replace or add to the "
                "plan's own files (with --force too); choose a path outside it"
            )
    for target in targets:
        for key, source in _recorded_inputs(home):
            if source.is_file() and _same_file(Path(target), source):
                # QA57 F8: `map PLAN --out accounts.csv --force` replaced the plan's accounts with HTML
                named = "" if str(source) == str(target) else f" ({source})"
                raise OutputExistsError(
                    f"{target} is the {key} file the plan was made from{named}: writing there would replace "
                    "it (with --force too); choose another path"
                )


# summary.json's config keys that name an input file (``options.PATH_OPTIONS``; the scenario too)
_INPUT_KEYS = ("accounts", "reps", "crm", "adjacency", "areas", "locks")


def _recorded_inputs(plan_dir: Path) -> list[tuple[str, Path]]:
    """The input files a plan folder records (accounts, reps, areas, ..., its scenario), as (what, path):
    manifest.json's, absolute (QA59: summary.json's as typed, relative to the folder the plan was made
    in, guarded nothing from any other, and named an unrelated file of the same name), else
    summary.json's, as the current folder reads them."""
    found: list[tuple[str, object]] = []
    for name in ("manifest.json", "summary.json"):
        try:
            record = json.loads((plan_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict):
            continue
        for block in ("options", "config"):
            options = record.get(block)
            if isinstance(options, dict):
                found += [(k, options.get(k)) for k in _INPUT_KEYS]
        plan = record.get("plan")
        found += [("scenario", record.get("scenario"))]
        found += [("scenario", plan.get("scenario"))] if isinstance(plan, dict) else []
        if found:
            # the manifest's, absolute: summary.json's relative paths are relative to where the plan was
            # made, and would name an unrelated file of the same name in the current folder; a folder
            # without a manifest has only those, taken from the current folder (QA60)
            break
    return [(k, Path(f)) for k, f in found if isinstance(f, str) and f]


def folder_identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder at ``folder`` (a link followed), None when there is none: a folder
    ``staged_output_dir`` replaced since has another."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def still_there(folder: Path, identity: tuple[int, int] | None, out: Path) -> Callable[[], None] | None:
    """For a file written into a folder that was read (``map`` writes the plan's map.html): a check that
    raises ``OutputPathError`` when the folder is no longer the one read (another command replaced it),
    so that no file drawn from one plan lands in another's folder. None when ``out`` is elsewhere."""
    if identity is None or Path(out).absolute().parent.resolve() != Path(folder).absolute().resolve():
        return None

    def check() -> None:
        if folder_identity(folder) != identity:
            raise OutputPathError(
                out,
                f"another command replaced the plan folder {folder} while this one read it",
                "nothing was written; run the command again",
            )

    return check


@contextlib.contextmanager
def staged_output_dir(
    out: Path, *, force: bool, kind: str, inputs: Iterable[Path | str | None] = ()
) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out`` in one rename, on failure it vanishes.

    Raises ``OutputExistsError`` up front when ``out`` exists with content and ``force`` is false, when
    it holds another command's output than ``kind``, or when it is or holds one of ``inputs``
    (``refuse_replacing_inputs``). A symlink is followed: the folder it points to is replaced and the
    link kept (QA33 F10: the link was replaced by a folder, a hidden ``.old`` link left beside it).
    """
    out = Path(out)
    if out.is_symlink():
        out = out.resolve()
    refuse_replacing_inputs(out, inputs)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder")
    check_replace(out, force, f"the previous {kind} is kept otherwise", kind)
    # what a failure to write leaves (QA32 F-e: a full disk was a traceback)
    left = f"the previous {kind} is kept" if is_nonempty_dir(out) else "nothing was written"
    with cannot_write(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(out)
        stage = Path(tempfile.mkdtemp(prefix=_staging_prefix(out.name), dir=out.parent))
        os.chmod(stage, 0o777 & ~_umask())
    try:
        yield stage
    except OutputPathError as exc:  # a file of the folder: named by the folder
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputPathError(out, exc.reason, left) from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    olds: list[Path] = []
    try:
        _swap_in(stage, out, olds)
    except BaseException as exc:
        if olds and not out.exists():
            os.replace(olds.pop(0), out)
        for old in olds:  # other writers' folders, moved aside in the tries: not left hidden (QA87 F2)
            _remove_folder(old, f"an earlier {kind} of {out}")
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputPathError(out, reason(exc), left) from exc
        raise
    for old in olds:
        _remove_folder(old, f"the previous {kind} of {out}")


# another writer may rename the same folder between this one's two renames (two `plan --force` runs
# into one folder): each rename is tried again this many times
SWAP_TRIES = 5


def _swap_in(stage: Path, out: Path, olds: list[Path]) -> None:
    """``stage`` renamed to ``out``, whatever is at ``out`` moved aside first (appended to ``olds``). A
    folder another writer moved away meanwhile, or put there meanwhile, is taken as it comes (QA86 F4: of
    3,000 swaps by two processes at once, 49 ended in a bare ``FileNotFoundError``); the last writer's
    folder is the one left, always whole."""
    for _ in range(SWAP_TRIES):
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=hidden_prefix(out.name, "old"), dir=out.parent))
            old.rmdir()
            try:
                os.replace(out, old)
                olds.append(old)
            except FileNotFoundError:  # moved away by another writer since: nothing of ours to keep
                pass
        try:
            os.replace(stage, out)
            return
        except OSError as exc:  # another writer's folder put at ``out`` since: moved aside in turn
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    os.replace(stage, out)  # the last try: its error is the one said


def _staging_of_host(name: str) -> str:
    """The prefix of this host's staging folders of ``name``, up to the process id."""
    return f"{hidden_prefix(name, 'staging')}{socket.gethostname()[:32]}."


def _staging_prefix(name: str) -> str:
    """A staging folder's prefix names the host and the process writing it (``_remove_orphans``)."""
    return f"{_staging_of_host(name)}{os.getpid()}."


def _remove_orphans(out: Path) -> None:
    """Staging folders of ``out`` left by a process of this host that no longer runs (QA86 F5: after a
    ``kill -9`` in the output phase, a hidden half-written plan stayed beside the folder for good).
    Only while ``out`` holds its folder: a process killed between its two renames leaves the previous
    folder and the new one both aside, and neither is removed then."""
    if not out.is_dir():
        return
    mine = _staging_of_host(out.name)
    # exactly a staging folder's name: the prefix, a process id and mkdtemp's 8 characters (an output
    # named "k.staging.HOST.12" has staging folders that begin like those of "k")
    name = re.compile(rf"{re.escape(mine)}([0-9]{{1,10}})\.[a-z0-9_]{{8}}")
    for entry in out.parent.iterdir():
        found = name.fullmatch(entry.name)
        if found is None or entry.is_symlink() or not entry.is_dir():
            continue
        pid = int(found.group(1))
        if not _running(pid):
            _remove_folder(entry, f"a staging folder of {out} left by a process that ended (pid {pid})")
            log.info("removed %s, left by a process that ended (pid %s)", entry, pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # another user's process, or no process id: let be
        return True
    return True


def _remove_folder(folder: Path, what: str) -> None:
    """``folder`` removed, read-only entries too (QA86 F6: ``--force`` over a read-only plan left the
    previous plan in a hidden folder, without a word); when it cannot be, a warning names it."""

    def writable_then_retry(func: Callable[..., Any], path: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if not os.path.islink(path) and os.path.isdir(path):
                os.chmod(path, 0o700)
        func(path)

    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(folder, onexc=writable_then_retry)
        else:
            shutil.rmtree(folder, onerror=writable_then_retry)
    except OSError as exc:
        log.warning(
            "%s is left at %s: it could not be removed (%s); remove it by hand", what, folder, reason(exc)
        )
