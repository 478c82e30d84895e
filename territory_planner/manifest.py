"""``manifest.json``: everything needed to reproduce a plan folder.

The manifest records the fully resolved options (the scenario after inheritance and command-line
overrides, with absolute paths), the SHA-256 of every input file, the package, Python and solver versions,
the seed, the command line and the start time, plus the hash of the assignments written. ``plan
--from-manifest PLAN/manifest.json`` rebuilds the same options from it; ``load_manifest`` reports inputs
or versions that changed since, because those are what make a rerun differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from territory_planner import __version__
from territory_planner.errors import InputError, Problem
from territory_planner.io.writers import atomic_write_text, json_text
from territory_planner.options import PATH_OPTIONS, PlanOptions

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_PACKAGES = ("pulp", "highspy", "numpy", "pandas", "scipy", "geopandas", "folium")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def path_sha256(path: Path) -> str | None:
    """Hash of a file, or of the tables a CRM folder is read from (names and contents, sorted); None
    when missing. The folder's other files are not its contents: an Excel lock file (``~$quotas.xlsx``),
    a ``.DS_Store`` or a notes file beside the tables made ``compare`` list ``--crm`` as differing between
    two plans of the same CRM and a sweep solve its points again."""
    if path.is_file():
        return file_sha256(path)
    if not path.is_dir():
        return None
    from territory_planner.report.crm import table_files

    h = hashlib.sha256()
    for child in sorted(table_files(path)):
        h.update(str(child.relative_to(path)).encode())
        h.update(file_sha256(child).encode())
    return h.hexdigest()


def _all_files_sha256(path: Path) -> str:
    """A folder's hash as manifests recorded it before 2026-12-06: every file in it, subfolders too."""
    h = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(child.relative_to(path)).encode())
        h.update(file_sha256(child).encode())
    return h.hexdigest()


def current_sha256(recorded: object, path: Path, now: str | None = None) -> object:
    """A recorded hash in today's form: a folder's hash recorded the earlier way (every file in it) that
    still matches the folder is its hash now (``path_sha256``, or ``now`` when the caller has it), so that
    a plan, sweep point or report made before the folder hash covered only the CRM tables is not "changed"
    for the files beside them (QA73 F3); any other hash as recorded. Every file is read only when the
    recorded hash is not the folder's hash now."""
    if not isinstance(recorded, str) or not path.is_dir():
        return recorded
    now = path_sha256(path) if now is None else now
    if recorded == now or recorded != _all_files_sha256(path):
        return recorded
    return now


def versions(solver: str | None = None) -> dict[str, str | None]:
    out: dict[str, str | None] = {"territory_planner": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["solver"] = solver
    return out


def resolved_options(options: PlanOptions) -> dict[str, Any]:
    """``options.to_json()`` with every path made absolute, so the manifest works from any folder."""
    data = options.to_json()
    for key in PATH_OPTIONS:
        if data.get(key):
            data[key] = str(Path(data[key]).resolve())
    return data


def build_manifest(
    options: PlanOptions,
    summary: dict[str, Any],
    folder: Path,
    *,
    started: dt.datetime,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a plan written into ``folder`` (assignments.csv must already be there)."""
    context = context or {}
    data = resolved_options(options)
    inputs = {
        key: {"path": data[key], "sha256": path_sha256(Path(data[key]))}
        for key in sorted(PATH_OPTIONS)
        if data.get(key)
    }
    assignments = folder / "assignments.csv"
    return {
        "manifest_version": MANIFEST_VERSION,
        "started_at": started.isoformat(timespec="seconds"),
        "command_line": context.get("command_line"),
        "scenario": str(context["scenario"]) if context.get("scenario") else None,
        "from_manifest": context.get("from_manifest"),  # the manifest a --from-manifest rerun came from
        "seed": options.seed,
        "options": data,
        "inputs": inputs,
        "versions": versions(summary.get("solver")),
        "result": {
            "status": summary.get("status"),
            "objective": summary.get("objective"),
            "assignments_sha256": file_sha256(assignments) if assignments.is_file() else None,
            "assignments_rows_sha256": rows_sha256(assignments) if assignments.is_file() else None,
        },
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(folder / MANIFEST_NAME, json_text(manifest))


def manifest_path(path: Path | str) -> Path:
    """The manifest file itself, given the file or the plan folder holding it."""
    path = Path(path)
    return path / MANIFEST_NAME if path.is_dir() else path


def recorded_scenario(path: Path | str) -> str | None:
    """The scenario file a manifest's plan was made from (None: flags only, or an unreadable manifest,
    which ``load_manifest`` reports)."""
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    scenario = data.get("scenario") if isinstance(data, dict) else None
    return str(scenario) if scenario else None


def _own_locks(data: dict[str, Any], folder: Path) -> None:
    """A folder's own locks.csv (an edited or rebalanced plan's) when the path its manifest records is
    gone or holds another file and the folder's copy is the one hashed then: a plan folder renamed, copied
    or shared keeps its hand edits (QA18 F10: a renamed folder was rebalanced without them)."""
    entry = (data.get("inputs") or {}).get("locks")
    if not isinstance(entry, dict) or Path(str(entry.get("path", ""))).name != "locks.csv":
        return
    own = folder / "locks.csv"
    if Path(str(entry["path"])) == own or not own.is_file():
        return
    if path_sha256(Path(str(entry["path"]))) != entry.get("sha256") and path_sha256(own) == entry.get(
        "sha256"
    ):
        entry["path"] = str(own.resolve())
        data["options"]["locks"] = str(own.resolve())


def changed_inputs(
    inputs: object, sha: Callable[[Path], str | None] = path_sha256
) -> list[tuple[str, str, bool]]:
    """The inputs a manifest records (``inputs``: {key: {path, sha256}}) whose file is not the one
    hashed then: (key, path, whether it still exists). ``sha``: the hash of a path (a cache of
    ``path_sha256`` when many manifests name the same files)."""
    out = []
    for key, entry in inputs.items() if isinstance(inputs, dict) else ():
        where = str(entry.get("path")) if isinstance(entry, dict) else ""
        now = sha(Path(where)) if where else None
        recorded = entry.get("sha256") if isinstance(entry, dict) else None
        if now is None or (now != recorded and now != current_sha256(recorded, Path(where), now)):
            out.append((str(key), where, now is not None))
    return out


ROW_COLUMNS = ("account_id", "rep_id", "current_rep", "moved", "locked_rep")  # what a hand change alters


def rows_sha256(assignments: Path) -> str | None:
    """SHA-256 of assignments.csv's rows as the planner reads them: each account's rep, current rep, moved
    and lock, the cells stripped and true/false in one spelling, so that Excel saving the file again
    (other line ends, quoting, TRUE) keeps it and any change of those cells does not (QA18 F3: per-rep
    totals let a changed current_rep through). None when the file cannot be read."""
    import pandas as pd

    try:
        frame = pd.read_csv(assignments, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError):
        return None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    cols = [c for c in ROW_COLUMNS if c in frame.columns]
    cells = frame[cols].apply(lambda s: s.str.strip())
    if "moved" in cells:
        cells["moved"] = (
            cells["moved"].str.lower().replace({"1": "true", "0": "false", "1.0": "true", "0.0": "false"})
        )
    text = "\n".join(
        [",".join(cols), *("\x1f".join(row) for row in cells.itertuples(index=False, name=None))]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def assignment_fingerprint(
    territory_reps: Iterable[str], accounts: Iterable[str], reps: Iterable[str]
) -> str:
    """A short fingerprint of a plan's assignment: its reps (territories.csv's order) and every account's
    rep. The map keeps its edits under it; the workbook's Summary sheet records it, so that ``edit`` can
    tell a workbook exported from another plan (QA27 F8)."""
    h = hashlib.sha256()
    h.update("\x1f".join(territory_reps).encode("utf-8"))
    h.update(b"\x1e")
    for account, rep in zip(accounts, reps, strict=True):
        h.update(f"{account}\x1f{rep}\x1e".encode())
    return h.hexdigest()[:32]


def changed_by_hand(folder: Path | str) -> Problem | None:
    """A problem when the folder's assignments.csv is not the one its run wrote (its SHA-256 differs
    from ``manifest.json``'s ``assignments_sha256``): territories.csv, summary.json and the map no longer
    describe it, so the workbook, the comparison and the map would contradict each other (QA17 F8: an
    account's rep changed in a spreadsheet). None without a manifest that records it. ``edit`` refuses
    it too (QA27 F5); its edits file (or the exported workbook) is the way to change a plan by hand."""
    folder = Path(folder)
    try:
        result = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["result"]
        recorded, rows = result["assignments_sha256"], result.get("assignments_rows_sha256")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    assignments = folder / "assignments.csv"
    if not isinstance(recorded, str) or not assignments.is_file() or file_sha256(assignments) == recorded:
        return None
    if isinstance(rows, str):  # the rows as read: saved again by Excel with the same cells, it is the plan's
        if rows_sha256(assignments) == rows:
            return None
    elif _same_totals(assignments, folder / "territories.csv"):
        return None  # a manifest from before the rows' hash: per-rep counts and sums are what can be told
    return Problem(
        str(assignments),
        None,
        None,
        "changed after the plan was written (its SHA-256 is not the one manifest.json records): "
        "territories.csv, summary.json and the map no longer describe it. Changes by hand go through "
        "`territory-planner edit PLAN --edits EDITS.csv --out NEW` (a row account_id,rep_id per account), "
        "which recounts every territory and band: restore the plan's assignments.csv and give the "
        "changes as edits",
    )


def _same_totals(assignments: Path, territories: Path) -> bool:
    """Whether each rep's account count and measure sums in ``assignments`` are those ``territories``
    lists (within 1e-6); False when either cannot be read."""
    import numpy as np
    import pandas as pd

    try:
        a = pd.read_csv(assignments, dtype={"rep_id": str}, keep_default_na=False)
        t = pd.read_csv(territories, dtype={"rep_id": str}, keep_default_na=False).set_index("rep_id")
        counted = a.groupby("rep_id").size().reindex(t.index, fill_value=0)
        if len(set(a["rep_id"]) - set(t.index)) or not np.array_equal(
            counted.to_numpy(), t["accounts"].to_numpy()
        ):
            return False
        for m in ("potential", "workload"):
            if m in a.columns and m in t.columns:
                sums = pd.to_numeric(a[m]).groupby(a["rep_id"]).sum().reindex(t.index, fill_value=0.0)
                if not np.allclose(
                    sums.to_numpy(float), pd.to_numeric(t[m]).to_numpy(float), rtol=1e-6, atol=1e-6
                ):
                    return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def load_manifest(path: Path | str) -> tuple[dict[str, Any], list[str]]:
    """Read a manifest: the option mapping for ``build_options`` and warnings about what changed since.

    ``path`` is the manifest file or the plan folder holding it.
    """
    path = manifest_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem(str(path), None, None, "manifest not found")) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Problem(str(path), None, None, f"not a valid manifest: {exc}")) from None
    if not isinstance(data, dict) or not isinstance(data.get("options"), dict):
        raise InputError(Problem(str(path), None, "options", "manifest has no options table"))
    _own_locks(data, path.parent)
    warnings: list[str] = []
    for key, where, exists in changed_inputs(data.get("inputs")):
        if not exists:
            warnings.append(f"input {key} {where} no longer exists")
        else:
            warnings.append(f"input {key} {where} changed since the plan was made (hash differs)")
    recorded = data.get("versions") or {}
    current = versions(recorded.get("solver"))
    for name, version in recorded.items():
        if name != "solver" and current.get(name) != version:
            warnings.append(f"{name} is {current.get(name)} now, the plan was made with {version}")
    options = {k: v for k, v in data["options"].items() if v is not None}
    return options, warnings
