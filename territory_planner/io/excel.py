"""Read one table from an Excel workbook (.xlsx/.xlsm) into the raw text cells the validators expect.

The sheet named like the table is read (case-insensitive), else the first sheet. Cells are read with
calamine (``python-calamine``, the Rust reader pandas also uses) and turned into the text a CSV would hold:
numbers in their shortest exact form (``1200``, ``0.35``), dates as Excel stores them as ISO dates
(``2026-03-01``), booleans as ``true``/``false``. The type each cell had in Excel is kept, so that the
validators can report what a CSV cannot show: a number stored as text in a number column, a number where a
date is expected. Nothing is coerced: such cells are problems, not values.

Problems are first raised the way every table reports them (1-based data row, column name); ``relocate``
then names what a planner sees in Excel: the sheet, the row as Excel numbers it, and the column's letter
and name (``accounts.xlsx (sheet 'accounts')``, row 7, ``D (potential)``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem

EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}

# the type a cell had in Excel
EMPTY, TEXT, NUMBER, DATE, TIME, BOOL = range(6)

STORED_AS_TEXT = "a number stored as text; store it as a number (Excel: Convert to Number)"
NUMBER_NOT_DATE = "a number where a date is expected; format the cell as a date"
DATE_NOT_ID = (
    "a date where an id is expected: Excel turned the id into a date (the id it was is lost); format the "
    "column as Text and type the id again"
)
ID_COLUMNS = frozenset({"account_id", "rep_id", "current_rep", "locked_rep", "parent_id"})
EXCEL_ERROR = "the cell holds the Excel error"
_CELL_MESSAGES = (STORED_AS_TEXT, NUMBER_NOT_DATE, DATE_NOT_ID, EXCEL_ERROR)
_ROW_IN_MESSAGE = re.compile(r"\brow (\d+)\b")


def rows_in_message(message: str, where: Callable[[int], str]) -> str:
    """A message whose "row N" (another row it points at: "first seen on row 2") is said as ``where(N)``."""
    return _ROW_IN_MESSAGE.sub(lambda m: where(int(m.group(1))), message)


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index (0 -> A, 25 -> Z, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_ref(row0: int, col0: int) -> str:
    return f"{column_letter(col0)}{row0 + 1}"


@dataclass(frozen=True)
class SheetLocation:
    """Where a table's cells are in its workbook."""

    source: str  # the file name the validators put in their problems (usually str(path))
    shown: str  # the file name shown to the planner
    sheet: str
    rows: np.ndarray  # Excel row number of each data row: data row i (1-based) is Excel row rows[i - 1]
    letters: dict[str, str]  # lower-case column name -> Excel column letter

    @property
    def label(self) -> str:
        return f"{self.shown} (sheet '{self.sheet}')"

    def column(self, name: str | None) -> str | None:
        if name is None or name not in self.letters:
            return name
        return f"{self.letters[name]} ({name})"

    def excel_row(self, row: int) -> int:
        return int(self.rows[row - 1]) if 1 <= row <= len(self.rows) else row

    def locate(self, problem: Problem) -> Problem:
        if problem.file != self.source:
            return problem
        row = None if problem.row is None else self.excel_row(problem.row)
        # messages that point at another row ("first seen on row 2") name it as Excel does too
        message = rows_in_message(problem.message, lambda r: f"row {self.excel_row(r)}")
        return Problem(self.label, row, self.column(problem.column), message, problem.value)


@dataclass(frozen=True)
class ExcelInfo:
    """What the reader knows beyond the text cells: where they are and which type each had in Excel."""

    location: SheetLocation
    kinds: dict[str, np.ndarray]  # lower-case column -> Excel type of each data row's cell
    values: pd.DataFrame  # the text cells, lower-case column names
    # cells found wrong while reading (Excel errors, formulas never calculated), already located, when
    # the reader was asked to leave them to the table's validation (``read_sheet(defer_cells=True)``)
    problems: tuple[Problem, ...] = ()

    def renamed(self, names: dict[str, str]) -> ExcelInfo:
        """The same cells under other lower-case column names (``{"current rep": "current_rep"}``)."""
        if not names:
            return self
        location = replace(
            self.location, letters={names.get(k, k): v for k, v in self.location.letters.items()}
        )
        kinds = {names.get(k, k): v for k, v in self.kinds.items()}
        problems = tuple(_renamed_column(p, names) for p in self.problems)
        return ExcelInfo(location, kinds, self.values.rename(columns=names), problems)

    def cell_problems(self, column_kinds: dict[str, str]) -> list[Problem]:
        """Cells whose Excel type contradicts the column: ``{"potential": "number", "close_date": "date"}``,
        after the cells found wrong while reading (``problems``).

        A number stored as text would pass a CSV-style parser unnoticed; it is reported instead.
        Other wrong cells (a word in a number column) are left to the column's own validator.
        """
        problems: list[Problem] = list(self.problems)
        source = self.location.source
        for name, kind in column_kinds.items():
            cells = self.kinds.get(name)
            if cells is None:
                continue
            if kind == "number":
                texts = np.flatnonzero(cells == TEXT)
                if texts.size == 0:
                    continue
                problems += _stored_as_text(source, name, texts, self.values[name])
            elif kind == "date":
                for idx in np.flatnonzero(cells == NUMBER):
                    problems.append(
                        Problem(source, int(idx) + 1, name, NUMBER_NOT_DATE, self.values[name].iloc[idx])
                    )
            if name in ID_COLUMNS:  # QA22 M6: ids typed 1-1 or MAR1 that Excel made dates
                for idx in np.flatnonzero(cells == DATE):
                    problems.append(
                        Problem(source, int(idx) + 1, name, DATE_NOT_ID, self.values[name].iloc[idx])
                    )
        return problems


def _renamed_column(problem: Problem, names: dict[str, str]) -> Problem:
    """A located problem's column ``F (current rep)`` as ``F (current_rep)``, the name its table uses."""
    column = problem.column or ""
    letter, _, rest = column.partition(" (")
    name = rest.removesuffix(")")
    if not rest or name not in names:
        return problem
    return replace(problem, column=f"{letter} ({names[name]})")


def _stored_as_text(source: str, name: str, rows: np.ndarray, values: pd.Series) -> list[Problem]:
    text = values.iloc[rows].astype(str).str.strip()
    numeric = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").notna()
    return [
        Problem(source, int(idx) + 1, name, STORED_AS_TEXT, value)
        for idx, value, bad in zip(rows, text, numeric, strict=True)
        if bad
    ]


def relocate(problems: Iterable[Problem], infos: Iterable[ExcelInfo | None]) -> list[Problem]:
    """Problems with Excel positions for the tables read from workbooks; others unchanged.

    When an Excel cell check (a number stored as text, an Excel error) and a column validator report the
    same cell, only the Excel check is kept: it says what is wrong with the cell.
    """
    locations = [info.location for info in infos if info is not None]
    out = list(problems)
    for location in locations:
        out = [location.locate(p) for p in out]
    cell = (*_CELL_MESSAGES, UNSAVED_FORMULA)  # a formula never calculated reads as empty to a validator
    flagged = {(p.file, p.row, p.column) for p in out if p.message.startswith(cell)}
    return [p for p in out if p.message.startswith(cell) or (p.file, p.row, p.column) not in flagged]


# ---------------------------------------------------------------- reading


def _pick_sheet(names: list[str], table: str | None, path: Path) -> str:
    wanted = (table or path.stem).strip().lower()
    for name in names:
        if name.strip().lower() == wanted:
            return name
    return names[0]


def _cell_text(value: Any) -> tuple[str, int]:
    """The text a CSV would hold for a cell, and the cell's Excel type."""
    if isinstance(value, str):
        return value, (TEXT if value != "" else EMPTY)
    if isinstance(value, bool):
        return ("true" if value else "false"), BOOL
    if isinstance(value, int):
        return str(value), NUMBER
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), NUMBER
        return repr(value), NUMBER
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat(), DATE
        return value.isoformat(sep=" "), DATE
    if isinstance(value, date):
        return value.isoformat(), DATE
    if isinstance(value, time | timedelta):
        return str(value), TIME
    return str(value), TEXT


def _column_text(values: tuple[Any, ...]) -> tuple[list[str], np.ndarray]:
    """A column's text cells and Excel types (a column of text alone takes the fast path)."""
    if all(type(v) is str for v in values):
        return list(values), np.fromiter((v != "" for v in values), dtype=bool, count=len(values)).astype(
            np.uint8
        ) * np.uint8(TEXT)
    pairs = [_cell_text(v) for v in values]
    return [p[0] for p in pairs], np.fromiter((p[1] for p in pairs), dtype=np.uint8, count=len(pairs))


def _header_names(header: list[Any]) -> list[str]:
    return [_cell_text(v)[0].strip() for v in header]


def _structure_problems(
    label: str, header: list[str], start: tuple[int, int], body: list[list[Any]], merged: list[Any]
) -> list[Problem]:
    """Merged cells, data under an empty header, duplicate names: all found at once."""
    problems: list[Problem] = []
    top, left = start
    names = {left + j: name.lower() for j, name in enumerate(header) if name}
    for (r0, c0), (r1, c1) in merged:
        ref = f"{_cell_ref(r0, c0)}:{_cell_ref(r1, c1)}"
        if r0 <= top <= r1:
            problems.append(
                Problem(
                    label,
                    top + 1,
                    _named(c0, names),
                    f"the header has merged cells {ref}; unmerge them so that every column has its own name",
                )
            )
        else:
            problems.append(
                Problem(
                    label,
                    r0 + 1,
                    _named(c0, names),
                    f"merged cells {ref}: only the first cell holds a value; unmerge them and fill each cell",
                )
            )
    seen: dict[str, str] = {}
    for j, name in enumerate(header):
        letter = column_letter(left + j)
        if not name:
            if any(j < len(row) and row[j] not in ("", None) for row in body):
                problems.append(
                    Problem(label, top + 1, letter, "the column has values but no name in the header row")
                )
            continue
        key = name.lower()
        if key in seen:
            problems.append(
                Problem(
                    label,
                    top + 1,
                    f"{letter} ({key})",
                    f"column {key!r} appears twice ({seen[key]} and {letter}; names are case-insensitive)",
                )
            )
        else:
            seen[key] = letter
    return problems


def _named(col0: int, names: dict[int, str]) -> str:
    letter = column_letter(col0)
    return f"{letter} ({names[col0]})" if col0 in names else letter


_ERROR_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)


_CELL = re.compile(rb"<c\b([^>]*?)(?<!/)>(.*?)</c>", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_SAVED_VALUE = re.compile(rb"<v>[^<]|<is>", re.S)
UNSAVED_FORMULA = (
    "the cell holds a formula with no saved value (the workbook was written by a program and never "
    "saved by a spreadsheet, which computes it): open and save it in Excel or LibreOffice, or write the "
    "value instead of the formula"
)


def unsaved_formulas(path: Path, sheet: str) -> list[tuple[str, int]]:
    """(column letter, Excel row) of every formula cell without a saved value. calamine reads such a cell
    as empty, and a validator would say only that it is empty (QA5: ``=1000*2`` written by openpyxl)."""
    xml = _read_sheet_xml(path, sheet)
    if xml is None or b"<f" not in xml:
        return []
    out = []
    for match in _CELL.finditer(xml):
        inner = match.group(2)
        if b"<f" in inner and not _SAVED_VALUE.search(inner):
            ref = _REF.search(match.group(1))
            if ref:
                out.append((ref.group(1).decode(), int(ref.group(2))))
    return out


def _read_sheet_xml(path: Path, sheet: str) -> bytes | None:
    """``_sheet_xml`` of the workbook at ``path``; None when it is no readable zip archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _sheet_xml(archive, sheet)
    except (zipfile.BadZipFile, OSError):
        return None


def _sheet_xml(archive: zipfile.ZipFile, sheet: str) -> bytes | None:
    """The worksheet part of ``sheet`` (calamine reads error cells as empty: we look at the XML)."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rid = None
    for match in re.finditer(rb"<sheet\b[^>]*>", book):
        tag = match.group(0)
        name = re.search(rb'\bname="([^"]*)"', tag)
        if name and _unescape(name.group(1)) == sheet:
            found = re.search(rb'\br:id="([^"]*)"', tag) or re.search(rb'\bid="([^"]*)"', tag)
            rid = found.group(1) if found else None
    if rid is None:
        return None
    for match in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = match.group(0)
        if re.search(rb'\bId="' + re.escape(rid) + rb'"', tag):
            target = re.search(rb'\bTarget="([^"]*)"', tag)
            if target is None:
                return None
            part = target.group(1).decode()
            part = part.lstrip("/") if part.startswith("/") else f"xl/{part}"
            try:
                return archive.read(part)
            except KeyError:
                return None
    return None


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def error_cells(path: Path, sheet: str) -> list[tuple[str, int, str]]:
    """(column letter, Excel row, error text) of every cell holding an Excel error such as ``#N/A``."""
    xml = _read_sheet_xml(path, sheet)
    if xml is None or b't="e"' not in xml:
        return []
    out = []
    for match in _ERROR_CELL.finditer(xml):
        value = _VALUE.search(match.group(3))
        out.append(
            (match.group(1).decode(), int(match.group(2)), _unescape(value.group(1)) if value else "#ERROR")
        )
    return out


_NUM_FMT = re.compile(rb'<numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)")
_FMT_ID = re.compile(rb'\bnumFmtId="(\d+)"')
_STYLE = re.compile(rb'\bs="(\d+)"')
_NUMBER_CELL = re.compile(rb'<c\b([^>]*?\bs="[1-9]\d*"[^>]*?)(?<!/)>\s*<v>([^<]*)</v>')
_PADDED = re.compile(r"^[0\-\s]*0[0\-\s]*$")  # digit placeholders only, with - or space between


def _padding(code: str) -> str | None:
    """The digit pattern of a number format that pads with zeros ("00000" for ZIP codes, "00000-0000" for
    ZIP+4, "000-00-0000"), else None. Quotes and backslash escapes around the separators are dropped."""
    plain = code.replace("\\", "").replace('"', "")
    return plain if _PADDED.match(plain) and plain.count("0") >= 2 else None


def zero_padded_cells(path: Path, sheet: str) -> dict[tuple[str, int], str]:
    """(column letter, Excel row) -> the text Excel shows, for every whole-number cell whose number
    format pads it with zeros: a ZIP code 00501 typed in a cell formatted "00000" (Excel's Special > Zip
    Code) is stored as the number 501, shown and exported to CSV as 00501. calamine gives the number only
    (QA22: such ids were read as 501, and matched no other table's 00501)."""
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                styles = archive.read("xl/styles.xml")
            except KeyError:
                return {}
            codes = {int(i): _padding(_unescape(c)) for i, c in _NUM_FMT.findall(styles)}
            if not any(codes.values()):
                return {}
            xfs = _CELL_XFS.search(styles)
            if xfs is None:
                return {}
            pattern: dict[int, str] = {}
            for k, attrs in enumerate(_XF.findall(xfs.group(1))):
                fid = _FMT_ID.search(attrs)
                code = codes.get(int(fid.group(1))) if fid else None
                if code:
                    pattern[k] = code
            xml = _sheet_xml(archive, sheet) if pattern else None
    except (zipfile.BadZipFile, OSError):
        return {}
    if xml is None:
        return {}
    out: dict[tuple[str, int], str] = {}
    for attrs, value in _NUMBER_CELL.findall(xml):
        style, ref = _STYLE.search(attrs), _REF.search(attrs)
        # text, bool, error are no numbers; t="n" is one (openpyxl writes it on every number: QA44 F2, ids
        # 000050 and 00501 read as 50 and 501)
        if style is None or ref is None or (b' t="' in attrs and b' t="n"' not in attrs):
            continue
        code = pattern.get(int(style.group(1)))
        text = _padded_text(value.decode(), code) if code else None
        if text is not None:
            out[(ref.group(1).decode(), int(ref.group(2)))] = text
    return out


def _padded_text(value: str, code: str) -> str | None:
    """``value`` (a stored number) laid into ``code``'s digit placeholders; None unless it is a whole,
    non-negative number with no more digits than the pattern has (Excel then shows it otherwise)."""
    try:
        number = float(value)
    except ValueError:
        return None
    if number < 0 or not number.is_integer():
        return None
    digits = str(int(number))
    width = code.count("0")
    if len(digits) > width:
        return None
    it = iter(digits.zfill(width))
    return "".join(next(it) if ch == "0" else ch for ch in code)


def _open_sheet(path: Path, table: str | None, label: str) -> tuple[Any, str]:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine's message says what is wrong with the file
        raise InputError(Problem(label, None, None, f"cannot read as an Excel workbook: {exc}")) from exc
    names = [
        m.name
        for m in book.sheets_metadata
        if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        and m.visible == python_calamine.SheetVisibleEnum.Visible
    ] or list(book.sheet_names)
    if not names:
        raise InputError(Problem(label, None, None, "the workbook has no sheets"))
    name = _pick_sheet(names, table, path)
    return book.get_sheet_by_name(name), name


def _title_above_header(label: str, header: list[str], body: list[list[Any]], top: int) -> None:
    """QA22 M7: a title in the first row ("Accounts FY2027 (EUR)") with the header a row or two below was
    reported as every other column having "values but no name in the header row". A first row of one cell
    above a row of several text cells (within the next 10) is named as such."""
    filled = [h for h in header if h]
    if len(filled) != 1:
        return
    for i, row in enumerate(body[:10]):
        cells = [v for v in row if v not in ("", None)]
        if len(cells) >= 2 and all(isinstance(v, str) for v in cells):
            names = ", ".join(str(v).strip() for v in cells[:6]) + (", ..." if len(cells) > 6 else "")
            raise InputError(
                Problem(
                    label,
                    top + 1,
                    None,
                    f"row {top + 1} ({filled[0]!r}) is taken as the header, but the header seems to be row "
                    f"{top + 2 + i} ({names}): delete the rows above it",
                )
            )


def read_sheet(
    path: Path,
    table: str | None = None,
    *,
    source: str | None = None,
    shown: str | None = None,
    defer_cells: bool = False,
) -> tuple[pd.DataFrame, ExcelInfo]:
    """Read the table's sheet as text cells (original header names) plus the ``ExcelInfo`` of its cells.

    ``source`` is the file name the caller's validators will put in their problems (default
    ``str(path)``), ``shown`` the one to show the planner instead (default ``source``).

    Raises ``InputError`` with every structural problem at once: an empty sheet, a header without data,
    merged cells, a column with values but no name, a name used twice, cells holding Excel errors.
    ``defer_cells``: a sheet whose only problems are cells (Excel errors, formulas never calculated) is
    read, those problems kept in ``ExcelInfo.problems`` for the caller's validation to report with the
    table's own (``cell_problems``), so that every problem comes in one run (QA15 M4: a number stored as
    text went unreported while the sheet held a #N/A).
    """
    source = source or str(path)
    shown = shown or source
    sheet, name = _open_sheet(path, table, shown)
    label = f"{shown} (sheet '{name}')"
    rows = sheet.to_python(skip_empty_area=True)
    start = sheet.start
    if not rows or start is None or not any(v not in ("", None) for row in rows for v in row):
        raise InputError(Problem(label, None, None, "the sheet is empty"))
    top, left = start
    header = _header_names(rows[0])
    body = rows[1:]
    _title_above_header(label, header, body, top)
    problems = _structure_problems(label, header, (top, left), body, sheet.merged_cell_ranges or [])
    structural = bool(problems)
    errors = error_cells(path, name)
    keep = [j for j, h in enumerate(header) if h]
    letters = {header[j].lower(): column_letter(left + j) for j in keep}
    by_letter = {v: k for k, v in letters.items()}
    for letter, row, text in errors:
        column = f"{letter} ({by_letter[letter]})" if letter in by_letter else letter
        problems.append(Problem(label, row, column, f"{EXCEL_ERROR} {text}", text))
    for letter, row in unsaved_formulas(path, name):
        column = f"{letter} ({by_letter[letter]})" if letter in by_letter else letter
        problems.append(Problem(label, row, column, UNSAVED_FORMULA))
    nonempty = [i for i, row in enumerate(body) if any(v not in ("", None) for v in row)]
    if not nonempty and not problems:
        raise InputError(Problem(label, top + 1, None, "the sheet has a header but no data rows"))
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    if problems and (structural or not defer_cells or not nonempty):
        raise InputError(problems)
    width = len(header)
    columns = list(zip(*(body[i] + [""] * (width - len(body[i])) for i in nonempty), strict=True))
    cells: dict[str, list[str]] = {}
    kinds: dict[str, np.ndarray] = {}
    padded = zero_padded_cells(path, name)
    excel_rows = np.asarray(nonempty, dtype=np.int64) + top + 2
    for j in keep:
        cells[header[j]], kinds[header[j].lower()] = _column_text(columns[j])
        letter = column_letter(left + j)
        for i in np.flatnonzero(kinds[header[j].lower()] == NUMBER) if padded else ():
            shown_text = padded.get((letter, int(excel_rows[i])))
            if shown_text is not None:
                cells[header[j]][i] = shown_text
    frame = pd.DataFrame(cells, dtype=object)
    location = SheetLocation(source, shown, name, excel_rows, letters)
    lowered = frame.set_axis([c.lower() for c in frame.columns], axis=1)
    return frame, ExcelInfo(location, kinds, lowered, tuple(problems))
