"""``export``: a plan folder -> the workbook, the list of changes, or the Salesforce files.

Every file is built in memory (or in a temporary file next to its destination) before anything is
replaced, so bad input never leaves a half-written output; an existing output is only replaced with
``force``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd

from territory_planner.errors import InputError, OutputExistsError
from territory_planner.export import FORMATS, crm_files
from territory_planner.export.plan_tables import PlanTables, read_plan_tables
from territory_planner.export.workbook import write_workbook
from territory_planner.io.writers import atomic_write_file, atomic_write_text, csv_text, refuse_into_plan

WORKBOOK_NAME = "plan.xlsx"


@dataclasses.dataclass(frozen=True)
class Exported:
    paths: list[Path]  # the files written
    notes: list[str] = dataclasses.field(default_factory=list)  # what the planner still has to do


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        verb = "exists" if len(existing) == 1 else "exist"
        raise OutputExistsError(f"{names} already {verb}; pass --force to replace")
    for p in existing:
        if p.is_dir():
            raise OutputExistsError(f"{p} is a folder; give the path of a file to write")


def write_csv_files(
    folder: Path, frames: dict[str, pd.DataFrame], force: bool, *, bom: bool = False
) -> list[Path]:
    """Write CSVs into ``folder``: all texts are built first, then each file replaced atomically.
    ``bom``: UTF-8 with a byte-order mark, for a file people open in Excel, which reads a CSV without
    one in the Windows code page (QA17 F20: San José showed as San JosÃ©)."""
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"{folder} is a file; --out is a folder for this format")
    paths = [folder / name for name in frames]
    _refuse_existing(paths, force)
    texts = {
        path: ("\ufeff" if bom else "") + csv_text(frame)
        for path, frame in zip(paths, frames.values(), strict=True)
    }
    made = not folder.exists()
    try:
        for path, text in texts.items():
            atomic_write_text(path, text)
    except BaseException:
        if made:  # a folder this export made, left empty by a failed write (QA57 F12: a full disk)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return paths


def export_workbook(
    plan: PlanTables, out: Path, *, force: bool = False, currency: str | None = None
) -> list[Path]:
    if out.suffix == "":
        out = out.with_name(out.name + ".xlsx")
    _refuse_existing([out], force)
    atomic_write_file(out, lambda tmp: write_workbook(plan, tmp, currency))
    return [out]


def export_plan(
    plan_dir: Path,
    fmt: str,
    out: Path,
    *,
    force: bool = False,
    effective_date: dt.date | None = None,
    sf_territory_ids: Path | None = None,
    reps: Path | None = None,
    sf_model_id: str = "",
    sf_type_id: str = "",
    currency: str | None = None,
    shared_owners: bool = False,
) -> Exported:
    """Write one hand-off format for the plan in ``plan_dir``: the files written, and notes.

    ``fmt``: ``xlsx`` (``out`` is the workbook), ``changes`` or ``salesforce`` (``out`` is a folder).
    ``currency`` (xlsx; from ``currency.parse_currency``): the money columns' currency, ``None`` for the
    plan's own. The CSV formats hold plain numbers. ``shared_owners`` (salesforce): two reps may have
    the same crm_user_id (refused otherwise).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    plan = read_plan_tables(plan_dir)
    out = Path(out)
    if fmt == "xlsx" or fmt == "changes" and out.suffix.lower() == ".csv":
        targets = [out]
    else:
        targets = [
            out,
            *(out / name for name in (SALESFORCE_FILES if fmt == "salesforce" else ("changes.csv",))),
        ]
    refuse_into_plan(plan_dir, targets, own="plan.xlsx")
    if fmt == "xlsx":
        return Exported(export_workbook(plan, out, force=force, currency=currency))
    if fmt == "changes":
        changes = crm_files.changes_frame(plan, effective_date)
        notes = _broken_note(plan)
        if out.suffix.lower() == ".csv":  # the file itself rather than a folder holding changes.csv
            return Exported(write_csv_files(out.parent, {out.name: changes}, force, bom=True), notes)
        return Exported(write_csv_files(out, {"changes.csv": changes}, force, bom=True), notes)
    roster, excel = None, None
    if reps is not None:
        from territory_planner.io.readers import read_table

        raw = read_table(reps, "reps")
        roster, excel = raw.frame, raw.excel
    mapping = crm_files.read_territory_ids(sf_territory_ids) if sf_territory_ids is not None else None
    areas = _area_note(plan)
    try:
        frames, notes = crm_files.salesforce_frames(
            plan,
            roster=roster,
            territory_ids=mapping,
            ids_source=str(sf_territory_ids or ""),
            model_id=sf_model_id,
            type_id=sf_type_id,
            roster_file=str(reps or "reps"),
            shared_owners=shared_owners,
            account_ids=not areas,
        )
    except InputError as err:  # a workbook roster: its problems name sheet, Excel row and cell
        from territory_planner.io.excel import relocate

        raise InputError(relocate(err.problems, [excel])) from None
    notes = _broken_note(plan) + areas + notes
    lacking = [name for name, given in (("ModelId", sf_model_id), ("TypeId", sf_type_id)) if not given]
    if lacking:  # QA44 F18: both were said to be missing when only the type was
        columns = "/".join(f"Territory2{name}" for name in lacking)
        flags = " and ".join(f"--sf-{name[:-2].lower()}-id" for name in lacking)
        notes.append(f"Territory2.csv has no {columns}: give {flags} (or fill the column) before loading it")
    stale = [out / name for name in SALESFORCE_FILES if name not in frames and (out / name).is_file()]
    _refuse_existing(stale, force)  # before anything is written
    written = write_csv_files(out, frames, force)
    for path in stale:
        # the earlier export's file this one does not write (QA44 F1: a second plan's export kept the first
        # plan's ObjectTerritory2Association.csv, 75 of its 287 rows now wrong, under "not written")
        path.unlink()
        notes.append(f"removed {path.name} of the earlier export in {out}: this export does not write it")
    return Exported(written, notes)


#: Every file ``--format salesforce`` may write (a round without the territories' Ids writes no associations).
SALESFORCE_FILES = ("Account_OwnerId_update.csv", "Territory2.csv", "ObjectTerritory2Association.csv")


def _broken_note(plan: PlanTables) -> list[str]:
    """A plan that breaks constraints of its own model (a manual or a relaxed plan) said before its owner
    changes go out (QA17 F19: only the workbook shaded the cells)."""
    broken = [v for v in plan.summary.get("violations") or [] if isinstance(v, dict)]
    if not broken:
        return []
    shown = "; ".join(
        " ".join(str(v[k]) for k in ("constraint", "rep_id", "group", "measure") if v.get(k))
        for v in broken[:3]
    ) + ("; ..." if len(broken) > 3 else "")
    return [
        f"the plan ({plan.summary.get('status')}) breaks {len(broken)} of its constraint(s) ({shown}, in "
        "summary.json): these files hand it over as it is"
    ]


def _area_note(plan: PlanTables) -> list[str]:
    """The accounts of an area plan (counties, ZIPs as polygons) are no CRM accounts (QA17 F23)."""
    if not (plan.folder / "units.geojson").is_file() or (plan.summary.get("config") or {}).get("areas"):
        return []
    first = str(plan.assignments["account_id"].iloc[0]) if len(plan.assignments) else ""
    return [
        f"the plan's accounts are areas (polygons in units.geojson, e.g. {first}), not CRM accounts: "
        "Account_OwnerId_update.csv and ObjectTerritory2Association.csv hold their ids as Account Ids; "
        "put each area's Salesforce accounts in their place before loading"
    ]


def write_plan_workbook(plan_dir: Path, final_dir: Path | None = None) -> Path:
    """``plan.xlsx`` inside a plan folder (``plan --xlsx``, the demo); ``final_dir`` is where a staged
    folder will end up, the folder the workbook names."""
    path = Path(plan_dir) / WORKBOOK_NAME
    plan = read_plan_tables(plan_dir)
    if final_dir is not None:
        plan = dataclasses.replace(plan, folder=Path(final_dir))
    atomic_write_file(path, lambda tmp: write_workbook(plan, tmp))
    return path
