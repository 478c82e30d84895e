"""Reading ``edit``'s edits (``edits.csv`` from the map, or a workbook's sheet) and checking them against
the plan: every bad row at once, with file, row and column, and hints for ids a spreadsheet mangled (leading
zeros dropped, long numbers rounded, case changed)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.excel import EXCEL_EXTENSIONS, relocate
from territory_planner.io.labels import account_label, first_few
from territory_planner.io.readers import canonical_name, read_csv_cells, read_table
from territory_planner.io.writers import (
    unneutralise,
)
from territory_planner.render.plan_folder import (
    PlanFolder,
    served_segments,
    serves,
)
from territory_planner.report.formatting import counted


def workbook_sheet(path: Path) -> str | None:
    """The sheet of an edits workbook that is read (``_edits_sheet``); None for a CSV."""
    return _edits_sheet(Path(path)) if Path(path).suffix.lower() in EXCEL_EXTENSIONS else None


def read_edits(
    path: Path, plan: PlanFolder, *, whole_families: bool = False, sheet: str | None = None
) -> dict[str, str]:
    """``account_id,rep_id`` rows checked against the plan; raises ``InputError`` with every problem.

    ``whole_families``: each edit takes its account's whole family along (``--rebalance`` locks the
    family), so every member's segment must be one the rep serves, not only the edited account's.
    ``sheet``: a workbook's ``workbook_sheet``, when the caller has it."""
    name = str(path)
    if Path(path).suffix.lower() in EXCEL_EXTENSIONS:  # a workbook: problems name sheet, row and cell
        sheet = sheet or _edits_sheet(Path(path))
        if sheet == "assignments":
            _same_plan(Path(path), plan)
        else:
            _assignments_unchanged(Path(path), plan)
        # cells the workbook holds wrong (#N/A) are reported with the rows' other problems, in one run
        # (QA57 F4: a #N/A hid a duplicate row and an unknown account until the next run)
        raw = read_table(path, sheet, defer_cells=True)
        cells = list(raw.excel.problems) if raw.excel is not None else []
        try:
            edits = _check_edits(raw.frame.fillna("").astype(str), name, plan, whole_families)
        except InputError as err:
            raise InputError(relocate([*cells, *err.problems], [raw.excel])) from None
        if cells:
            raise InputError(relocate(cells, [raw.excel]))
        if sheet == "assignments":
            # its changed rows are the edits: the others are no edits, and no locks of a manual plan or of
            # --rebalance (QA52 F3: locks.csv listed all 180 accounts, so a later --rebalance and
            # --from-manifest were infeasible; F2: a split family's unlisted member was never named)
            edits = _changed(edits, plan)
        if sheet == "assignments" and not edits:
            raise InputError(
                Problem(
                    name,
                    None,
                    None,
                    "no edit in the workbook: its Assignments sheet gives every account the plan's rep. Only "
                    "that sheet's rep_id column is read as edits (not the Moves sheet, current_rep or the "
                    "amounts); change rep_id there, or add a sheet 'edits' with account_id,rep_id rows",
                )
            )
        return edits
    long_rows: list[Problem] = []  # reported with the rows' other problems (QA60)
    frame = read_csv_cells(Path(path), "edits", long_rows)
    try:
        edits = _check_edits(frame, name, plan, whole_families)
    except InputError as err:
        raise InputError([*long_rows, *err.problems]) from None
    if long_rows:
        raise InputError(long_rows)
    return edits


def _sheet_rows(path: Path, sheet: str | None) -> tuple[list[str], list[list[Any]]]:
    """The workbook's sheet names (lower case) and the rows of ``sheet`` (matched in any case; [] when it
    has none, or ``sheet`` is None); ([], []) for a workbook that cannot be read, which ``read_table``
    reports with its reason."""
    try:
        import python_calamine

        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets = {str(n).strip().lower(): n for n in book.sheet_names}
        rows = book.get_sheet_by_name(sheets[sheet]).to_python() if sheet in sheets else []
    except Exception:  # noqa: BLE001 - read_table reports an unreadable workbook with its reason
        return [], []
    return list(sheets), rows


def _edits_sheet(path: Path) -> str:
    """The sheet of an edits workbook to read: ``edits``, else ``Assignments`` (the sheet of the workbook
    ``export --format xlsx`` writes, whose rep_id cells a planner changes by hand: unchanged rows are no
    edit), else the first sheet (``read_table``'s fallback for a name no sheet has)."""
    names, _ = _sheet_rows(path, None)
    return "assignments" if "edits" not in names and "assignments" in names else "edits"


def _assignments_unchanged(path: Path, plan: PlanFolder) -> None:
    """A workbook read by its ``edits`` sheet whose Assignments sheet also gives accounts other reps than
    the plan's: which is meant cannot be told (QA27 F17: the edits sheet was applied and two changed
    rep_ids of the Assignments sheet dropped without a word)."""
    _, rows = _sheet_rows(path, "assignments")
    if not rows:
        return
    header = [str(c).strip().lower() for c in rows[0]]
    if "account_id" not in header or "rep_id" not in header:
        return
    ia, ir = header.index("account_id"), header.index("rep_id")
    reps = dict(zip(plan.assignments["account_id"], plan.assignments["rep_id"], strict=True))
    changed = [
        str(r[ia]).strip()
        for r in rows[1:]
        if len(r) > max(ia, ir)
        and str(r[ia]).strip() in reps
        and str(r[ir]).strip() != reps[str(r[ia]).strip()]
    ]
    if changed:
        raise InputError(
            Problem(
                str(path),
                None,
                None,
                f"the workbook has an 'edits' sheet, which is what is read, and its Assignments sheet gives "
                f"{len(changed):,} account(s) another rep than the plan ({first_few(changed)}), which would "
                "be dropped: put every edit in one of the two sheets",
            )
        )


def _changed(edits: dict[str, str], plan: PlanFolder) -> dict[str, str]:
    """The edits that give an account another rep than the plan's."""
    reps = dict(zip(plan.assignments["account_id"], plan.assignments["rep_id"], strict=True))
    return {acc: rep for acc, rep in edits.items() if reps.get(acc) != rep}


def _same_plan(path: Path, plan: PlanFolder) -> None:
    """An exported workbook (its Assignments sheet read as edits: every row whose rep differs from the
    plan's is an edit) must be the plan's own: its Summary sheet's plan fingerprint is checked (QA27 F8: a
    workbook of another plan became 102 "hand edits" and left a new rep with almost nothing). A workbook
    without the fingerprint (exported before it was recorded) is read as it is."""
    from territory_planner.export.workbook import FINGERPRINT_ITEM
    from territory_planner.render.edit_payload import plan_hash

    _, rows = _sheet_rows(path, "summary")
    items = {str(r[0]).strip(): str(r[1]).strip() for r in rows if len(r) >= 2}
    recorded, ours = items.get(FINGERPRINT_ITEM), plan_hash(plan)
    if not recorded or recorded == ours:
        return
    folder = items.get("plan folder") or "another folder"
    raise InputError(
        Problem(
            str(path),
            None,
            None,
            f"exported from another plan ({folder}; its Summary sheet's {FINGERPRINT_ITEM} {recorded}, "
            f"this plan's {ours}): every account whose rep differs between the two plans would count as a "
            "hand edit. Export this plan's own workbook and change its rep ids, or give the edits as "
            "account_id,rep_id rows",
        )
    )


_NUMBER_AS_TEXT = re.compile(r"^(\d+)(?:\.0+)?$")  # 3356, or 3356.0 from a number cell


def _unpadded(ids: Iterable[str]) -> dict[str, list[str]]:
    """The ids written with leading zeros (``003356``), by their digits without them (``3356``)."""
    out: dict[str, list[str]] = {}
    for i in ids:
        if len(i) > 1 and i.startswith("0") and i.isdigit():
            out.setdefault(i.lstrip("0") or "0", []).append(i)
    return out


def _zeros_hint(value: str, padded: dict[str, list[str]]) -> str:
    """ " (did you mean 003356? ...)" when ``value`` is a padded id that lost its leading zeros (a
    spreadsheet reads 003356 as the number 3356 and writes it back so), else ""."""
    m = _NUMBER_AS_TEXT.match(value)
    found = padded.get(m.group(1).lstrip("0") or "0", []) if m else []
    if not found:
        return ""
    shown = " or ".join(found[:3])
    return (
        f" (did you mean {shown}? a spreadsheet drops an id's leading zeros when it reads the column as "
        "numbers: keep the column as text)"
    )


def _long_numbers(ids: Iterable[str]) -> dict[float, list[str]]:
    """The ids of 16 or more digits, by the float a spreadsheet keeps of them (15 significant digits)."""
    out: dict[float, list[str]] = {}
    for i in ids:
        if len(i) >= 16 and i.isdigit():
            out.setdefault(float(f"{float(i):.15g}"), []).append(i)
    return out


def _rounded_hint(value: str, long_ids: dict[float, list[str]]) -> str:
    """ " (did you mean 1000000000293003? ...)" when ``value`` is a long id a spreadsheet rounded to 15
    significant digits (QA44 F11: 1000000000293003 came back from a workbook as 1000000000293000.0 with no
    hint, where the accounts reader names it), else ""."""
    try:
        number = float(value)
    except ValueError:
        return ""
    found = long_ids.get(float(f"{number:.15g}"), []) if number >= 1e15 else []
    if not found:
        return ""
    return (
        f" (did you mean {' or '.join(found[:3])}? a spreadsheet keeps 15 significant digits of a number: "
        "keep the id column as text)"
    )


def _by_case(ids: Iterable[str]) -> dict[str, list[str]]:
    """The ids by their lower-case spelling, for the hint on an id written in another case."""
    out: dict[str, list[str]] = {}
    for i in ids:
        out.setdefault(i.lower(), []).append(i)
    return out


def _case_hint(value: str, by_case: dict[str, list[str]]) -> str:
    """ " (did you mean PLA0032? ...)" when ``value`` differs from ids of the plan only in case (ids are
    compared as written: a CRM's 15-character Ids differ by case alone), else ""."""
    found = [i for i in by_case.get(value.lower(), []) if i != value]
    if not found:
        return ""
    return f" (did you mean {' or '.join(found[:3])}? ids are compared with their case)"


def _segment_problem(
    plan: PlanFolder,
    segments: list[frozenset[str]],
    row: int,
    rep: str,
    families: dict[str, list[int]] | None,
) -> str | None:
    """Why ``rep`` may not have the account on ``row`` of the plan (nor, when ``families`` is given, the
    rest of its family: parent_id -> rows), or None."""
    a = plan.assignments
    rep_ids = list(plan.territories["rep_id"])
    served = segments[rep_ids.index(rep)]
    barred = [row] if not serves(served, a["segment"].iloc[row]) else []
    parent = a["parent_id"].iloc[row]
    if not barred and families is not None and parent:
        barred = [k for k in families.get(parent, []) if not serves(served, a["segment"].iloc[k])]
    if not barred:
        return None
    segment = a["segment"].iloc[barred[0]]
    others = [r for r, s in zip(rep_ids, segments, strict=True) if serves(s, segment)]
    who = (
        f"reps who serve it: {', '.join(others[:6])}{', ...' if len(others) > 6 else ''}"
        if others
        else "no rep of the plan serves it"
    )
    what = f"{rep} serves only {', '.join(sorted(served))}; {who}"
    if barred[0] == row:
        return f"{rep} does not serve segment {segment!r} of {_label(a, row)}: {what}"
    more = f" (and {len(barred) - 1} more member(s))" if len(barred) > 1 else ""
    member = _label(a, barred[0]).removeprefix("account ")
    return (
        f"{_label(a, row)} belongs to family {parent!r}, which --rebalance locks to {rep} as a whole, and "
        f"{rep} does not serve segment {segment!r} of its member {member}{more}: {what}"
    )


def _label(assignments: pd.DataFrame, row: int) -> str:
    """``account FR2988507 (Paris)``: the plan's account on ``row`` with its name when it has one (QA8:
    edit problems named accounts by id only, where the optimiser's messages give the name too)."""
    return account_label(assignments["account_id"].iloc[row], assignments["name"].iloc[row])


EDIT_COLUMNS = ("account_id", "rep_id")


def _check_edits(
    frame: pd.DataFrame, name: str, plan: PlanFolder, whole_families: bool = False
) -> dict[str, str]:
    # "Account ID", "Rep-ID" as a CRM or Excel export heads them, read as accounts and CRM files are (QA27 F7)
    frame.columns = [canonical_name(c, EDIT_COLUMNS) for c in frame.columns]
    missing = [c for c in EDIT_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(repr(str(c)) for c in frame.columns[:8]) or "none"
        raise InputError(
            [Problem(name, None, c, f"required column is missing (the header has {found})") for c in missing]
        )
    a = plan.assignments
    rep_ids = set(plan.territories["rep_id"])
    row_of = {acc: k for k, acc in enumerate(a["account_id"])}
    padded_accounts, padded_reps = _unpadded(row_of), _unpadded(rep_ids)
    cased_accounts, cased_reps = _by_case(row_of), _by_case(rep_ids)
    long_accounts = _long_numbers(row_of)
    segments = served_segments(plan.territories)  # None: the plan folder does not record them
    families: dict[str, list[int]] | None = None
    if whole_families and segments is not None:
        families = {}
        for k, parent in enumerate(a["parent_id"]):
            if parent:
                families.setdefault(parent, []).append(k)
    departed = set(a["current_rep"]) - rep_ids - {""}
    problems: list[Problem] = []
    edits: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for k, (raw_acc, raw_rep) in enumerate(zip(frame["account_id"], frame["rep_id"], strict=True), start=1):
        acc, rep = unneutralise(raw_acc.strip()), unneutralise(raw_rep.strip())
        bad = False
        if acc in first_row:  # said whatever else is wrong on either row (QA44 F9: only once both were good)
            label = _label(a, row_of[acc]) if acc in row_of else f"account {acc}"
            # "listed", not "edited": a row of an exported workbook's Assignments sheet may give the plan's
            # own rep (QA52 F6: "already edited on row 4" of a row that edits nothing)
            again = f"{label} is listed twice (first on row {first_row[acc]}): one row per account"
            problems.append(Problem(name, k, "account_id", again, acc))
            bad = True
        elif acc:
            first_row[acc] = k
        if not acc:
            problems.append(Problem(name, k, "account_id", "empty account id"))
            bad = True
        elif acc not in row_of:
            rounded = _rounded_hint(acc, long_accounts)
            hint = _zeros_hint(acc, padded_accounts) or _case_hint(acc, cased_accounts) or rounded
            shown = f"{float(acc):.0f}" if rounded else acc  # a rounded long id as Excel shows it
            problems.append(Problem(name, k, "account_id", "account is not in the plan" + hint, shown))
            bad = True
        if not rep:
            problems.append(Problem(name, k, "rep_id", "empty rep id"))
            bad = True
        elif rep in departed:  # QA44 F22: "rep is not in the plan" of a rep the scenario removed
            n = int((a["current_rep"] == rep).sum())
            message = (
                f"{rep} is no rep of this plan: the current rep of {counted(n, 'account')} it reassigned "
                "(a rep who left, or one its scenario removes); give the account to a rep of the plan"
            )
            problems.append(Problem(name, k, "rep_id", message, rep))
            bad = True
        elif rep not in rep_ids:
            hint = _zeros_hint(rep, padded_reps) or _case_hint(rep, cased_reps)
            problems.append(Problem(name, k, "rep_id", "rep is not in the plan" + hint, rep))
            bad = True
        if bad:
            continue
        lock = a["locked_rep"].iloc[row_of[acc]]
        if lock and lock != rep:
            message = f"{_label(a, row_of[acc])} is locked to {lock}: it cannot be moved"
            problems.append(Problem(name, k, "rep_id", message, rep))
            continue
        barred = None if segments is None else _segment_problem(plan, segments, row_of[acc], rep, families)
        if barred:
            problems.append(Problem(name, k, "rep_id", barred, rep))
            continue
        edits[acc] = rep
    if frame.empty:
        problems.append(Problem(name, None, None, "no edits in the file"))
    if problems:
        raise InputError(problems)
    return edits
