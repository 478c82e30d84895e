"""The plan as files a CRM imports: the list of owner changes, and Salesforce Data Loader files.

- ``changes.csv``: one row per account whose owner changes (account_id, name, from_rep, to_rep,
  effective_date, reason). An account that had no rep is listed with an empty from_rep.
- ``Account_OwnerId_update.csv`` (Id, OwnerId) for the same accounts: OwnerId is the rep's
  ``crm_user_id`` (a Salesforce User Id) when the reps carry one, else the rep_id.
- Enterprise Territory Management: ``Territory2.csv`` (DeveloperName, Name, Territory2ModelId,
  Territory2TypeId, ParentTerritory2Id), one territory per rep (under its district and region
  territories when the plan has them, parents first), and ``ObjectTerritory2Association.csv``
  (ObjectId, Territory2Id, AssociationCause = Territory2Manual), one row per account.

Before the territories exist in the org, a parent still to create is referred to by its DeveloperName.
Data Loader needs Ids, so territories are loaded in rounds: load the top level, export the Ids of what
exists (DeveloperName, Id) and pass that file as ``sf_territory_ids``: Territory2.csv then lists only the
territories still to create, with their parents' Ids, and once every territory has an Id the
associations are written with Territory2Id = the Id (never before: a DeveloperName there cannot be
loaded, QA27 F3).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.export.plan_tables import PlanTables
from territory_planner.io.labels import first_few
from territory_planner.report.formatting import counted

CHANGES_COLUMNS = ["account_id", "name", "from_rep", "to_rep", "effective_date", "reason"]
OWNER_COLUMNS = ["Id", "OwnerId"]
TERRITORY_COLUMNS = ["DeveloperName", "Name", "Territory2ModelId", "Territory2TypeId", "ParentTerritory2Id"]
ASSOCIATION_COLUMNS = ["ObjectId", "Territory2Id", "AssociationCause"]
ASSOCIATION_CAUSE = "Territory2Manual"
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def changes_frame(plan: PlanTables, effective_date: dt.date | None = None) -> pd.DataFrame:
    """One row per owner change; ``effective_date`` defaults to the plan's date."""
    moves = plan.moves()
    day = (effective_date or plan.plan_date).isoformat()
    out = moves[["account_id", "name", "from_rep", "to_rep"]].copy()
    out["effective_date"] = day
    out["reason"] = moves["reason"]
    return out[CHANGES_COLUMNS]


def owner_ids(
    plan: PlanTables,
    roster: pd.DataFrame | None = None,
    roster_file: str = "reps",
    *,
    shared_owners: bool = False,
) -> tuple[dict[str, str], list[str]]:
    """rep_id -> the CRM user id that owns its accounts (``crm_user_id``, else the rep_id itself), and
    notes for the planner.

    ``roster`` (rep_id, crm_user_id; read from ``roster_file``) overrides the plan's territories.csv.
    Every problem of the reps that get accounts is an error named by file, row and column, all at once:
    an empty crm_user_id while others have one (the CRM would get an account without owner), a value
    that is not a Salesforce User Id (``user_id_problem``), and two reps with the same User Id (QA15 M3:
    the owner file silently merged PL04's and PL05's books under one User). Unless ``shared_owners``
    (one person knowingly holds both seats: then a note names them), the same User for two reps is
    refused: an owner update is a mass change in the CRM that is hard to undo, and two reps with one Id
    are far more often a row copied in the roster than one person with two territories.
    """
    source, file = plan.territories, "territories.csv"
    if roster is not None:
        source, file = roster, roster_file
    if "crm_user_id" not in source.columns:
        return {r: r for r in plan.territories["rep_id"]}, []
    ids = dict(
        zip(
            source["rep_id"].astype(str).str.strip(),
            source["crm_user_id"].astype(str).str.strip(),
            strict=True,
        )
    )
    needed = sorted(set(plan.assignments["rep_id"]))
    fix = (
        "fill it in that file"
        if roster is not None
        else "give --reps, a table of rep_id and crm_user_id, or put it in the reps table (or the "
        "scenario's [[reps.add]] entry) and plan again"
    )
    keys = source["rep_id"].astype(str).str.strip().tolist()
    row = {rep: keys.index(rep) + 1 for rep in needed if rep in keys}  # data rows from 1, as elsewhere
    problems: list[Problem] = []
    first: dict[str, str] = {}  # User Id (its 15 case-sensitive characters) -> the first rep with it
    shared: list[str] = []
    for rep in sorted(needed, key=lambda r: (row.get(r, len(keys) + 1), r)):
        user = ids.get(rep, "")
        if not user:
            message = f"rep {rep!r} gets accounts but has no crm_user_id: {fix}"
            problems.append(Problem(file, row.get(rep), "crm_user_id", message, rep))
            continue
        bad = user_id_problem(user)
        if bad:
            problems.append(Problem(file, row.get(rep), "crm_user_id", f"rep {rep!r}: {bad}", user))
            continue
        other = first.setdefault(user[:15], rep)
        if other == rep:
            continue
        where = f" (row {row[other]})" if other in row else ""
        if shared_owners:
            shared.append(f"{other} and {rep} ({user})")
            continue
        problems.append(
            Problem(
                file,
                row.get(rep),
                "crm_user_id",
                f"rep {rep!r} has the same Salesforce User as rep {other!r}{where}: both books would go to "
                "one User in Account_OwnerId_update.csv; give each rep its own User Id, or pass "
                "--shared-owners if one person holds both seats",
                user,
            )
        )
    if problems:
        raise InputError(problems)
    notes = (
        [f"one Salesforce User owns the accounts of two reps (--shared-owners): {'; '.join(shared)}"]
        if shared
        else []
    )
    return {r: ids[r] for r in needed}, notes


USER_PREFIX = "005"  # the key prefix of Salesforce User records (Account.OwnerId must be a User)
# the records the export's options name, with their key prefixes
SF_RECORDS = {"--sf-model-id": ("Territory2Model", "0MC"), "--sf-type-id": ("Territory2Type", "0M5")}


def user_id_problem(value: str) -> str | None:
    """Why ``value`` is not a Salesforce User Id, or None. A record Id has 15 case-sensitive letters and
    digits, or 18 (the 15 plus 3 characters that encode their case), and its first three characters,
    the key prefix, name the object: 005 for User."""
    shape = id_shape_problem(value, "User", USER_PREFIX)
    if shape is not None:
        return shape
    if not value.startswith(USER_PREFIX):
        return (
            f"not a Salesforce User Id: it starts with {value[:3]}, the key prefix of another kind of "
            f"record (a User Id starts with {USER_PREFIX})"
        )
    return None


def id_shape_problem(value: str, kind: str, prefix: str) -> str | None:
    """Why ``value`` cannot be the Id of a Salesforce ``kind`` record (not 15 or 18 letters and digits), or
    None. An Id of only digits shorter than 15 is most likely one read as a number by a spreadsheet,
    which drops the leading zeros; a placeholder copied from an example (``0MC...``) is named as such."""
    if _SF_ID.match(value):
        return None
    if value.isascii() and value.isdigit() and len(value) < 15:  # not ١٢٣ (QA84 F3)
        return (
            f"not a Salesforce {kind} Id: {len(value)} digits; a spreadsheet drops an Id's leading zeros "
            f"when it reads the column as numbers ({'0' * (15 - len(value))}{value}?): keep the column "
            "as text"
        )
    example = " (an example's placeholder: give the Id from the org)" if "..." in value else ""
    return (
        f"not a Salesforce {kind} Id{example}: {len(value)} characters; a {kind} Id has 15 or 18 letters "
        f"and digits and starts with {prefix}"
    )


ACCOUNT_PREFIX = "001"  # the key prefix of Salesforce Account records


def account_id_note(account_ids: pd.Series, associations: bool) -> list[str]:
    """A note when the plan's account ids are not Salesforce Account Ids (15 or 18 letters and digits
    starting with 001): the owner file's Id, and the associations' ObjectId, must be, or Data Loader
    rejects every such row (QA44 F13: the OwnerIds were checked, the account Ids not)."""
    ids = account_ids.astype(str)
    bad = ids[~ids.map(lambda v: bool(_SF_ID.match(v)) and v.startswith(ACCOUNT_PREFIX))]
    if bad.empty:
        return []
    files = "Account_OwnerId_update.csv's Id (the accounts that change owner)" + (
        " and ObjectTerritory2Association.csv's ObjectId" if associations else ""
    )
    return [
        f"{len(bad):,} of the plan's {len(ids):,} account ids are not Salesforce Account Ids (15 or 18 "
        f"letters and digits starting with {ACCOUNT_PREFIX}; e.g. {first_few(bad.tolist())}): {files} must "
        "be the org's Account Ids; map them (e.g. VLOOKUP on an Id,account_id export of Account) before "
        "loading"
    ]


# Latin letters that Unicode does not decompose into a base letter and a mark
_LATIN_LETTERS = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l",
     "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th", "ı": "i"}
)  # fmt: skip


def ascii_letters(text: str) -> str:
    """Accented Latin letters as their base letters (Île -> Ile, Zoë -> Zoe, Łódź -> Lodz, Straße ->
    Strasse); other characters that are not ASCII are dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN_LETTERS))
    return "".join(c for c in decomposed if c.isascii())


def developer_name(text: str, prefix: str = "") -> str:
    """A Salesforce API name: letters, digits and single underscores, a letter first, at most 80.
    Accented letters keep their base letter: ``District Île-de-France`` -> ``District_Ile_de_France``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", ascii_letters(f"{prefix}{text}")).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name or not name[0].isalpha():
        name = f"T_{name}".rstrip("_")
    return name[:80].rstrip("_")


@dataclass(frozen=True)
class Territory:
    developer_name: str
    name: str
    parent: str  # DeveloperName of the parent territory, "" at the top


def territory_tree(plan: PlanTables) -> tuple[list[Territory], dict[str, str]]:
    """Territories, parents first, and each rep's territory DeveloperName."""
    terr = plan.territories
    used: set[str] = set()

    def unique(name: str) -> str:
        candidate, k = name, 2
        while candidate.lower() in used:
            suffix = f"_{k}"
            candidate, k = name[: 80 - len(suffix)] + suffix, k + 1
        used.add(candidate.lower())
        return candidate

    out: list[Territory] = []
    parent_of_level: dict[tuple[str, str], str] = {}
    for level in ("region", "district"):
        if level not in terr.columns:
            continue
        for value in sorted(set(terr[level]) - {""}):
            parent = ""
            if level == "district" and "region" in terr.columns:
                regions = sorted(set(terr.loc[terr["district"] == value, "region"]) - {""})
                parent = parent_of_level.get(("region", regions[0]), "") if regions else ""
            dev = unique(developer_name(value, f"{level.title()}_"))
            parent_of_level[(level, value)] = dev
            out.append(Territory(dev, f"{level.title()} {value}"[:80], parent))
    rep_territory: dict[str, str] = {}
    names = terr["name"] if "name" in terr.columns else pd.Series("", index=terr.index)
    for idx, rep in enumerate(terr["rep_id"]):
        parent = ""
        for level in ("district", "region"):
            if level in terr.columns and terr[level].iloc[idx]:
                parent = parent_of_level[(level, terr[level].iloc[idx])]
                break
        dev = unique(developer_name(rep))
        rep_territory[rep] = dev
        label = f"{rep} - {names.iloc[idx]}" if names.iloc[idx] else rep
        out.append(Territory(dev, label[:80], parent))
    return out, rep_territory


def read_territory_ids(path: Path) -> dict[str, str]:
    """DeveloperName -> Id, from a CSV or workbook exported from the org (columns DeveloperName, Id).
    Problems name the columns as the file writes them (QA15 L6: ``id``/``developername`` for a file
    headed ``Id,DeveloperName``)."""
    from territory_planner.io.excel import relocate
    from territory_planner.io.readers import read_table

    raw = read_table(path, "Territory2")
    frame, file = raw.frame, str(path)
    written = {"developername": "DeveloperName", "id": "Id", **_written_headers(path, raw.separator)}

    def report(problems: list[Problem]) -> InputError:
        located = relocate(problems, [raw.excel])
        return InputError([_renamed_column(p, written) for p in located])

    problems = [
        Problem(file, None, col, f"required column {written[col]!r} is missing")
        for col in ("developername", "id")
        if col not in frame.columns
    ]
    if problems:
        raise report(problems)
    names = frame["developername"].astype(str).str.strip()
    ids = frame["id"].astype(str).str.strip()
    for idx, (name, sf_id) in enumerate(zip(names, ids, strict=True), start=1):
        if not name:
            problems.append(Problem(file, idx, "developername", "empty DeveloperName"))
        if not _SF_ID.match(sf_id):
            problems.append(
                Problem(file, idx, "id", "not a Salesforce Id (15 or 18 letters and digits)", sf_id)
            )
    duplicated = names.duplicated(keep="first") & names.ne("")
    problems += [
        Problem(file, row, "developername", "duplicate DeveloperName", name)
        for row, (name, dup) in enumerate(zip(names, duplicated, strict=True), start=1)
        if dup
    ]
    if problems:
        raise report(problems)
    return dict(zip(names, ids, strict=True))


def _written_headers(path: Path, separator: str | None) -> dict[str, str]:
    """A CSV's header names as written, by the lower-case name the readers give them ({} for a
    workbook or a file whose header cannot be read again)."""
    import csv

    if separator is None:
        return {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            line = next((text for text in fh if text.strip()), "")
    except (OSError, UnicodeDecodeError):
        return {}
    header = next(csv.reader([line], delimiter=separator), [])
    return {name.strip().lower(): name.strip() for name in header if name.strip()}


def _renamed_column(problem: Problem, written: dict[str, str]) -> Problem:
    """``problem`` with its column as the file writes it: ``id`` -> ``Id``, ``B (id)`` -> ``B (Id)``."""
    column = problem.column
    if column is None:
        return problem
    for low, name in written.items():
        if column == low:
            column = name
        elif column.endswith(f"({low})"):
            column = column[: -len(low) - 1] + f"{name})"
    return dataclasses.replace(problem, column=column)


def salesforce_frames(
    plan: PlanTables,
    *,
    roster: pd.DataFrame | None = None,
    territory_ids: dict[str, str] | None = None,
    ids_source: str = "",
    model_id: str = "",
    type_id: str = "",
    roster_file: str = "reps",
    shared_owners: bool = False,
    account_ids: bool = True,
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The Salesforce files by file name, and notes for the planner.

    With ``territory_ids`` (the territories already in the org), Territory2.csv lists only the
    territories still to create, their parents by Id where the parent exists; the associations are
    written once every rep's territory has an Id (until then a note says which are missing).
    ``account_ids``: say when the account ids are no Salesforce Account Ids (not for areas, which a note
    of their own covers).
    """
    owners, notes = owner_ids(plan, roster, roster_file, shared_owners=shared_owners)
    moves = plan.moves()
    owner = pd.DataFrame({"Id": moves["account_id"], "OwnerId": moves["to_rep"].map(owners)})
    ids = territory_ids or {}
    tree, rep_territory = territory_tree(plan)
    to_create = [t for t in tree if t.developer_name not in ids]
    territories = pd.DataFrame(
        {
            "DeveloperName": [t.developer_name for t in to_create],
            "Name": [t.name for t in to_create],
            "Territory2ModelId": model_id,
            "Territory2TypeId": type_id,
            "ParentTerritory2Id": [ids.get(t.parent, t.parent) for t in to_create],
        },
        columns=TERRITORY_COLUMNS,
    )
    frames = {"Account_OwnerId_update.csv": owner[OWNER_COLUMNS], "Territory2.csv": territories}
    if "crm_user_id" not in (plan.territories if roster is None else roster).columns:
        notes.append(
            "Account_OwnerId_update.csv holds rep_ids as OwnerId (the reps have no crm_user_id): give --reps "
            "with each rep's Salesforce User Id in a crm_user_id column before loading it"
        )
    target = plan.assignments["rep_id"].map(rep_territory)
    missing = sorted(set(target) - set(ids))
    if (
        missing and territory_ids is None
    ):  # QA27 F3: written with DeveloperNames, which Data Loader cannot load
        notes.append(
            "ObjectTerritory2Association.csv not written: its Territory2Id must be the territories' Ids, "
            "which exist once Territory2.csv is loaded; load its top level (no ParentTerritory2Id), export "
            "DeveloperName,Id of Territory2 from the org and re-run with --sf-territory-ids until every "
            "territory has an Id"
        )
    elif missing:
        have = "has" if len(missing) == 1 else "have"
        notes.append(
            "ObjectTerritory2Association.csv not written: "
            f"{counted(len(missing), 'territory', 'territories')} {have} no Id in "
            f"{ids_source} yet ({first_few(missing)}); load "
            "Territory2.csv, export the Ids again and re-run"
        )
    else:
        frames["ObjectTerritory2Association.csv"] = pd.DataFrame(
            {
                "ObjectId": plan.assignments["account_id"],
                "Territory2Id": target.map(lambda name: ids.get(name, name)),
                "AssociationCause": ASSOCIATION_CAUSE,
            },
            columns=ASSOCIATION_COLUMNS,
        )
    if account_ids:
        notes += account_id_note(plan.assignments["account_id"], "ObjectTerritory2Association.csv" in frames)
    if any(t.parent and t.parent not in ids for t in to_create):
        notes.append(
            "Territory2.csv names parents still to create by DeveloperName (its ParentTerritory2Id): only "
            "the rows whose parent is blank or an Id load now; load it level by level"
        )
    return frames, notes
