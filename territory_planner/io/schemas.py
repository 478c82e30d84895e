"""Input contracts for accounts and reps, checked with pandera (``lazy=True``: every failure at once).

Parsing is explicit: numbers are parsed from text cell by cell and a cell that is not a number is a
problem, never a silent NaN or 0. Defaults from SPEC apply only when a whole optional column is
absent; an empty cell in a numeric column that is present is reported.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from territory_planner.errors import InputError, Problem
from territory_planner.io.excel import ID_COLUMNS
from territory_planner.io.numbers import FIXED_POINT, Convention, decide, parse_numbers
from territory_planner.io.readers import RawTable
from territory_planner.options import MAX_NUMBER


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "id" | "text" | "number"
    required: bool = False
    default: float | None = None  # numbers only: value used when the column is absent
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    unique: bool = False
    allow_empty: bool = False  # numbers only: an empty cell is allowed (and stays NaN)
    empty_is_default: bool = False  # numbers only: an empty cell takes ``default`` (documented convention)


ACCOUNT_FIELDS = (
    Field("account_id", "id", required=True, unique=True),
    Field("lat", "number", ge=-90, le=90),
    Field("lon", "number", ge=-180, le=180),
    Field("potential", "number", default=0.0, ge=0),
    Field("workload", "number", default=1.0, ge=0),
    Field("current_rep", "text"),
    Field("locked_rep", "text"),
    Field("parent_id", "text"),
    Field("segment", "text"),
    Field("name", "text"),
)

REP_FIELDS = (
    Field("rep_id", "id", required=True, unique=True),
    Field("lat", "number", ge=-90, le=90, allow_empty=True),
    Field("lon", "number", ge=-180, le=180, allow_empty=True),
    Field("capacity", "number", default=1.0, gt=0, empty_is_default=True),
    Field("segments", "text"),
    Field("region", "text"),
    Field("district", "text"),
    Field("name", "text"),
    Field("quota", "number", ge=0, allow_empty=True),
)

# Column names other tools use for coordinates: named in the message, never read silently.
COORDINATE_ALIASES = {
    "lat": ("latitude", "y", "lat_dd", "ycoord", "intptlat"),
    "lon": ("longitude", "lng", "long", "x", "lon_dd", "xcoord", "intptlong", "intptlon"),
}

# Headers other tools write for an optional column (compared as letters and digits only, a trailing
# unit in brackets dropped: ``Workload (h)``, ``Parent Account ID``, ``OwnerId``), with what the plan
# would lose without the column. A column read as none of them would be left out without a word (QA22
# M20-M22: every workload 1, families split, "moved 0 accounts" with an owner column in the file).
NEAR_NAMES = {
    "workload": (
        {"workload", "workloadhours", "hours", "visitsperyear", "callsperyear"},
        "every account's workload would be 1",
    ),
    "potential": ({"potential"}, "every account's potential would be 0"),
    "capacity": ({"capacity", "fte"}, "every rep's capacity would be 1"),
    "current_rep": (
        {
            "currentrep",
            "accountowner",
            "accountownerid",
            "ownerid",
            "owner",
            "currentowner",
            "repid",
            "companyowner",
            "salesrep",
            "accountmanager",
            "assignedrep",
            "rep",
            "territoryowner",
        },
        "no account would have a current rep: nothing counts as moved, and a disruption budget means nothing",
    ),
    "locked_rep": ({"lockedrep", "lock", "locked"}, "no account would be locked"),
    "parent_id": (
        {"parentid", "parentaccountid", "parentaccount", "parent"},
        "the accounts of one family could go to different reps",
    ),
    "segment": ({"segment"}, "every account would be of no segment"),
    "segments": ({"segments", "segment"}, "every rep would serve every segment"),
    # a rep's home (optional there: an account's lat/lon are required, and named by COORDINATE_ALIASES);
    # home_lat/home_lon are territories.csv's own columns (QA32 F-q: every home chosen by the planner)
    "lat": (
        {"latitude", "homelat", "homelatitude", "latdd", "ycoord", "intptlat"},
        "every rep's home would be chosen by the planner",
    ),
    "lon": (
        {
            "longitude",
            "lng",
            "long",
            "homelon",
            "homelng",
            "homelongitude",
            "londd",
            "xcoord",
            "intptlong",
            "intptlon",
        },
        "every rep's home would be chosen by the planner",
    ),
}
_UNIT = re.compile(r"\s*[(\[][^)\]]*[)\]]\s*$")


def _letters(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", _UNIT.sub("", name.lower()))


_SCIENTIFIC = re.compile(r"^[+-]?\d[.,]\d+[eE]\+\d{2,}$")  # as Excel shows a long number: 1.23457E+11
_LONG_FLOAT = re.compile(
    r"^[+-]?\d{16,}\.0$|^[+-]?\d\.\d+e\+\d{2,}$"
)  # a float of 16+ digits, as Python writes it


def _scientific_ids(ids: pd.Series, name: str, file: str) -> list[Problem]:
    """Ids whose digits a spreadsheet or a float dropped: QA22 M15, a 12-digit id shown and saved as
    ``1.23457E+11``, which matches nothing in the CRM (when two collided only "duplicate" was said); QA32
    F-m, a number cell of 16 or more digits (a workbook's, a Parquet float), past a float's 15 significant
    digits, read as "4000000000000000.0" with exit 0."""
    fix = "format the column as Text and export it again"
    long = (
        "is a number of 16 or more digits, past the 15 a spreadsheet or a float keeps: the id's last digits"
    )
    why = [
        (_LONG_FLOAT, f"{long} are lost"),
        (_SCIENTIFIC, "is in scientific notation: a spreadsheet dropped the id's digits"),
    ]
    return [
        Problem(file, int(i) + 1, name, f"{name} {ids.iloc[i]!r} {text}; {fix}", str(ids.iloc[i]))
        for pattern, text in why
        for i in np.flatnonzero(ids.str.match(pattern).to_numpy(dtype=bool))
    ]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # not tab, LF, CR


def _control_characters(
    cells: pd.Series, name: str, file: str, pattern: re.Pattern[str] = _CONTROL
) -> list[Problem]:
    """Cells holding a control character (a NUL, a vertical tab pasted from a database or a PDF): invisible
    on screen, matched by nothing in the CRM, and rewritten by the workbook as ``_x0000_`` (QA57 F10:
    accepted without a word). ``pattern``: every control character for ids; in other text a tab and a
    line break are text."""
    out = []
    for i in np.flatnonzero(cells.str.contains(pattern).to_numpy(dtype=bool)):
        text = str(cells.iloc[i])
        found = sorted({f"\\x{ord(c):02x}" for c in pattern.findall(text)})
        shown = pattern.sub("?", text)
        message = f"{name} {shown!r} holds a control character ({', '.join(found)}): remove it"
        out.append(Problem(file, int(i) + 1, name, message, shown))
    return out


def near_miss_columns(columns: Iterable[str], fields: Iterable[Field], file: str) -> list[Problem]:
    """A problem for each column that is not read but looks like an optional column the table lacks."""
    columns = [str(c) for c in columns]
    names = {f.name for f in fields}
    out = []
    for name in names - set(columns):
        if name not in NEAR_NAMES:
            continue
        spellings, loss = NEAR_NAMES[name]
        for c in columns:
            if c not in names and _letters(c) in spellings:
                out.append(
                    Problem(
                        file,
                        None,
                        c,
                        f"column {c!r} is not read: the planner reads {name!r}, and without it {loss}; "
                        f"rename the column to {name!r} (or drop it, if it holds something else)",
                    )
                )
                break
    return out


_CHECK_TEXT = {
    "not_nullable": "is empty or not a number",
    "field_uniqueness": "is a duplicate id",
}


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))  # zero-width, pasted from web pages
# in a display name the zero-width non-joiner and joiner are spelling (Persian and Urdu word-internal
# non-joiners, Indic half forms, Malayalam chillu: QA61 F5, "إلٰه‌آباد" lost its U+200C): kept
_INVISIBLE_IN_NAMES = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))


def _cell(v: object, invisible: dict[int, None] = _INVISIBLE) -> str:
    """One cell as text: stripped, in composed Unicode form without zero-width characters (QA32 F-t: a
    Mac tool's decomposed "Müller" was no rep "Müller"; F-b: a zero-width space pasted with "R03"), a
    whole float as a whole number (F-i: Parquet ids stored as 1000.0 were written "1000.0", an Excel
    cell's 1000.0 is read "1000")."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = v if isinstance(v, str) else str(v)
    return unicodedata.normalize("NFC", text.translate(invisible)).strip()


def _text(series: pd.Series, invisible: dict[int, None] = _INVISIBLE) -> pd.Series:
    """Cells as text (``_cell``); missing cells become ''."""
    out = series.astype(object).where(series.notna(), "")
    return out.map(lambda v: _cell(v, invisible)).astype(str)


def _parse_number(
    raw: pd.Series, field: Field, file: str, problems: list[Problem], convention: Convention = FIXED_POINT
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype(float)
        bad_empty = values.isna() & (not field.allow_empty)
        for idx in np.flatnonzero(bad_empty.to_numpy()):
            problems.append(Problem(file, int(idx) + 1, field.name, f"{field.name} is empty"))
        return values
    text = _text(raw)
    values, hints = parse_numbers(text, convention)
    empty = (text == "").to_numpy()
    unparsed = (~empty) & values.isna().to_numpy()
    for idx in np.flatnonzero(unparsed):
        hint = hints.get(int(idx), "")
        message = f"{field.name} is not a number" + (f" ({hint})" if hint else "")
        problems.append(Problem(file, int(idx) + 1, field.name, message, value=str(text.iloc[idx])))
    if field.empty_is_default and field.default is not None:
        values = values.where(~empty, field.default)
    elif not field.allow_empty:
        for idx in np.flatnonzero(empty):
            problems.append(Problem(file, int(idx) + 1, field.name, f"{field.name} is empty"))
    return values


def _as_written(raw: pd.Series, idx: Any, parsed: str) -> str:
    """The cell of a number column as the file holds it (``1e400``, not the ``inf`` it reads as; ``91``,
    not ``91.0``); ``parsed`` when the file stores numbers (Excel, Parquet), whose text is the number."""
    try:
        cell = raw.loc[idx]
    except KeyError:
        return parsed
    return cell.strip() if isinstance(cell, str) and cell.strip() else parsed


def _pandera_schema(fields: Iterable[Field], present: set[str]) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for f in fields:
        if f.name not in present:
            continue
        if f.kind == "number":
            checks = []
            if f.ge is not None and f.le is not None:
                checks.append(pa.Check.in_range(f.ge, f.le))
            elif f.ge is not None:
                checks.append(pa.Check.ge(f.ge))
            if f.gt is not None:
                checks.append(pa.Check.gt(f.gt))
            checks.append(
                pa.Check(lambda s: (s.abs() <= MAX_NUMBER) | s.isna(), element_wise=False, name="finite")
            )
            columns[f.name] = pa.Column(float, checks, nullable=True)
        elif f.kind == "id":
            columns[f.name] = pa.Column(
                str, [pa.Check.str_length(min_value=1, name="non_empty")], unique=f.unique, nullable=False
            )
        else:
            columns[f.name] = pa.Column(str, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _spaced(raw: pd.DataFrame, col: str, rows: tuple[int, ...]) -> str:
    """For a duplicate id: "; row 3's ' A1' read without its spaces" when the rows (1-based) only
    collide once their ids are trimmed, which the warning on spaced ids says apart from this problem."""
    if col not in raw.columns:
        return ""
    said = []
    for r in rows:
        cell = raw[col].iloc[r - 1]
        if isinstance(cell, str) and cell != cell.strip():
            said.append(f"row {r}'s {cell!r}")
    return (
        f"; {' and '.join(said)} read without {'its' if len(said) == 1 else 'their'} spaces" if said else ""
    )


def _describe(check: str, field: Field) -> str:
    if check in _CHECK_TEXT:
        return f"{field.name} {_CHECK_TEXT[check]}"
    if check == "non_empty" or check.startswith("str_length"):  # pandera may report the built-in name
        return f"{field.name} is empty"
    if check == "finite":
        return f"{field.name} must be a finite number of at most 1e15 in size"
    if check.startswith("in_range"):
        return f"{field.name} must be between {field.ge:g} and {field.le:g}"
    if check.startswith("greater_than_or_equal_to"):
        return f"{field.name} must be >= {field.ge:g}"
    if check.startswith("greater_than"):
        return f"{field.name} must be > {field.gt:g}"
    return f"{field.name} fails check {check}"


def parse_table(
    table: RawTable,
    fields: tuple[Field, ...],
    *,
    extra_numbers: Iterable[str] = (),
    require_coordinates: bool = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse and validate one table. Returns the typed frame and every problem found."""
    file = str(table.path)
    raw = table.frame
    problems: list[Problem] = []
    declared = {f.name: f for f in fields}
    extra = [m for m in extra_numbers if m not in declared]
    all_fields = list(fields) + [Field(m, "number", ge=0) for m in extra]
    for f in all_fields:
        if f.name not in raw.columns and (f.required or f.name in extra):
            problems.append(
                Problem(file, None, f.name, f"required column {f.name!r} is missing ({_found(raw)})")
            )
    # with coordinates required, a missing lat/lon is named below (with its alias, if any)
    near = [f for f in all_fields if not (require_coordinates and f.name in ("lat", "lon"))]
    problems += near_miss_columns(raw.columns, near, file)
    if require_coordinates:
        for c in ("lat", "lon"):
            if c not in raw.columns:
                alias = next((a for a in COORDINATE_ALIASES[c] if a in raw.columns), None)
                hint = (
                    f"found {alias!r}: rename it to {c!r}"
                    if alias
                    else "give lat/lon or a file with geometries"
                )
                problems.append(Problem(file, None, c, f"column {c!r} is missing ({hint})"))
    if problems:  # the cells found wrong while reading the sheet, too (every problem in one run)
        return pd.DataFrame(), [*(table.excel.problems if table.excel is not None else ()), *problems]

    if table.excel is not None:  # what only the cell types show: numbers stored as text
        problems += table.excel.cell_problems({f.name: f.kind for f in all_fields if f.name in raw.columns})
    out = pd.DataFrame(index=raw.index)
    numbers = [f for f in all_fields if f.kind == "number" and f.name in raw.columns]
    convention = decide(
        {f.name: _text(raw[f.name]) for f in numbers if not pd.api.types.is_numeric_dtype(raw[f.name])},
        table.separator,
    )
    for f in all_fields:
        if f.name in raw.columns:
            if f.kind == "number":
                out[f.name] = _parse_number(raw[f.name], f, file, problems, convention.for_column(f.name))
            else:
                out[f.name] = _text(raw[f.name], _INVISIBLE_IN_NAMES if f.name == "name" else _INVISIBLE)
                if f.name in ID_COLUMNS:
                    problems += _scientific_ids(out[f.name], f.name, file)
                    problems += _control_characters(out[f.name], f.name, file)
                else:  # a name, a region, a segment: line breaks and tabs are text, a NUL is not (QA59)
                    problems += _control_characters(out[f.name], f.name, file, _CONTROL_IN_TEXT)
        elif f.kind == "number":
            out[f.name] = np.nan if f.default is None else f.default
        elif f.kind == "text":
            out[f.name] = ""
    # columns we do not know are kept (as raw cells) for the outputs, never interpreted
    for c in raw.columns:
        if c not in out.columns:
            out[c] = raw[c]

    schema = _pandera_schema(all_fields, set(out.columns))
    try:
        schema.validate(out, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for rec in cases.itertuples(index=False):
            col = str(rec.column)
            field = next((f for f in all_fields if f.name == col), Field(col, "text"))
            idx = rec.index
            if pd.isna(idx):
                problems.append(Problem(file, None, col, _describe(str(rec.check), field)))
                continue
            row = int(idx) + 1
            value = "" if pd.isna(rec.failure_case) else str(rec.failure_case)
            if field.kind == "number" and col in raw.columns:
                value = _as_written(raw[col], idx, value)
            if str(rec.check) == "not_nullable" and field.kind == "number":
                continue  # already reported while parsing (empty or not a number)
            if str(rec.check) == "field_uniqueness":
                first = int(np.flatnonzero((out[col] == rec.failure_case).to_numpy())[0]) + 1
                if first == row:
                    continue
                problems.append(
                    Problem(
                        file,
                        row,
                        col,
                        f"duplicate {col} (first seen on row {first}{_spaced(raw, col, (first, row))})",
                        value,
                    )
                )
                continue
            message = _describe(str(rec.check), field)
            if (
                str(rec.check).startswith("in_range")
                and convention.for_column(col).decimal == ","
                and re.fullmatch(r"[+-]?\d{1,3}\.\d{3}", value.strip())
            ):
                # read with the file's decimal comma, the point was a thousands group (QA32 F-o: "lat must
                # be between -90 and 90" for 52.524, read as 52,524)
                read = value.strip().replace(".", "")
                message += (
                    f" (read as {int(read)}: the file's decimal separator is taken to be the comma, "
                    f"so '.' groups thousands; write {value.strip().replace('.', ',')} for {value.strip()})"
                )
            problems.append(Problem(file, row, col, message, value))
    problems = _blank_rows_once(raw, file, problems)
    problems = _swapped_coordinates(out, problems)
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return out, problems


def _swapped_coordinates(out: pd.DataFrame, problems: list[Problem]) -> list[Problem]:
    """A lat outside -90..90 whose lon would be a valid latitude (and itself a valid longitude) reads like
    the two columns swapped: say so next to the range message."""
    if "lat" not in out.columns or "lon" not in out.columns:
        return problems
    fixed = []
    for p in problems:
        if p.column == "lat" and p.row is not None and "between" in p.message:
            lat, lon = out["lat"].get(p.row - 1), out["lon"].get(p.row - 1)  # rows are index + 1
            if pd.notna(lat) and pd.notna(lon) and abs(float(lat)) <= 180 and abs(float(lon)) <= 90:
                p = dataclasses.replace(
                    p, message=f"{p.message} (lat and lon swapped? this row's lon is {float(lon):g})"
                )
        fixed.append(p)
    return fixed


def _found(raw: pd.DataFrame, shown: int = 8) -> str:
    """The columns the file has, for a message about one it lacks."""
    names = [str(c) for c in raw.columns]
    more = f", ... {len(names) - shown} more" if len(names) > shown else ""
    return "the file has " + ", ".join(repr(n) for n in names[:shown]) + more


def _blank_rows_once(raw: pd.DataFrame, file: str, problems: list[Problem]) -> list[Problem]:
    """A row whose every cell is blank (Excel's trailing ',,,,' rows) is one problem, not one per column."""
    cells = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip())
    blank = {int(i) + 1 for i in np.flatnonzero((cells == "").all(axis=1).to_numpy())}
    if not blank:
        return problems
    kept = [p for p in problems if p.row not in blank]
    kept += [
        Problem(file, row, None, "the row is empty (every cell blank): delete it") for row in sorted(blank)
    ]
    return kept


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)
