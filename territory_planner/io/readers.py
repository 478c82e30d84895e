"""Read tables by extension: CSV, Parquet, Excel, GeoJSON, GeoPackage, Shapefile.

Every reader returns a frame of raw cells with lower-cased column names; parsing and validation
happen in ``schemas``. CSV cells are read as text so nothing is coerced behind the user's back; the
separator is the one the header line uses (comma, semicolon or tab), and it is kept with the table: the
decimal separator of its numbers depends on it (``io/numbers.py``).
Geometries are reprojected to WGS84; a file without a CRS is refused with a hint on how to set one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.excel import EXCEL_EXTENSIONS, ExcelInfo, column_letter, read_sheet

GEO_EXTENSIONS = {".geojson", ".gpkg", ".shp", ".fgb"}
# delimited text, read alike whatever the extension: the separator is the header's (comma, semicolon or
# tab: ``header_separator``), so a CRM's or a BI tool's tab-separated export loads as it is saved
TEXT_EXTENSIONS = {".csv", ".tsv", ".tab", ".txt"}
SUPPORTED = {*TEXT_EXTENSIONS, ".parquet", ".pq", ".json", *GEO_EXTENSIONS, *EXCEL_EXTENSIONS}


@dataclass
class RawTable:
    path: Path
    frame: pd.DataFrame  # raw cells, lower-cased unique column names, RangeIndex
    geometry: Any = None  # geopandas.GeoSeries in EPSG:4326, aligned with frame, or None
    excel: ExcelInfo | None = None  # sheet, Excel rows and cell types, for tables read from a workbook
    separator: str | None = None  # a CSV's column separator (",", ";" or a tab; see io/numbers.py)
    # a CSV's rows longer than its header, read without their extra cells when the caller reports them
    # with the table's other problems (``read_table(defer_cells=True)``; QA57 F6: they hid the rest)
    problems: tuple[Problem, ...] = ()


def _problem(path: Path, message: str, row: int | None = None, column: str | None = None) -> InputError:
    return InputError([Problem(file=str(path), row=row, column=column, message=message)])


_NAME_GAPS = re.compile(r"[\s\-]+")


def canonical_name(name: object, known: Iterable[str]) -> str:
    """A header as the product reads it: stripped, lower-cased, and written with ``_`` when it is one of
    the ``known`` column names spelled with spaces or hyphens (a CRM's ``Account ID``, ``Current Rep``,
    ``Close Date``). Other names keep their spaces (a balanced measure is named as its header)."""
    lowered = str(name).strip().lower()
    joined = _NAME_GAPS.sub("_", lowered)
    return joined if joined != lowered and joined in set(known) else lowered


def _known_columns() -> frozenset[str]:
    from territory_planner.io.schemas import ACCOUNT_FIELDS, REP_FIELDS

    return frozenset(f.name for f in (*ACCOUNT_FIELDS, *REP_FIELDS)) | {"crm_user_id"}


def _lower_columns(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    known = _known_columns()
    lowered = [canonical_name(c, known) for c in frame.columns]
    seen: dict[str, int] = {}
    problems = []
    for c in lowered:
        seen[c] = seen.get(c, 0) + 1
    for c, count in seen.items():
        if count > 1:
            problems.append(
                Problem(
                    str(path), None, c, f"column {c!r} appears {count} times (names are case-insensitive)"
                )
            )
    if problems:
        raise InputError(problems)
    frame = frame.copy()
    frame.columns = lowered
    return frame.reset_index(drop=True)


_SEP_LINE = re.compile(r"^sep=(.)[ \t]*$")
# the part of a first line before a damaged byte that can only be Excel's ``sep=`` line (QA111 O2)
_SEP_LINE_START = re.compile(r"sep=.?[ \t]*")  # the whole text before the byte (``fullmatch``)


def csv_text(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """A CSV file's text as every reader parses it, and its separator (``UnicodeDecodeError`` is the
    caller's to report); line ends as ``\n`` whatever wrote them: CRLF, CR
    alone (Excel for Mac's "CSV (Macintosh)") or a mix of files pasted together, as Python's text mode
    and Excel read them (QA22 M23: the csv module stopped on a CR inside what it took as one line, a
    traceback in every reader). Excel's ``sep=;`` first line, which Excel honours and some CRMs and BI
    tools write, names the separator and is dropped (QA22 M12: it was taken for the header); else the
    header's separator (``header_separator``). The bytes are decoded in ``text_encoding``'s encoding:
    UTF-8, or UTF-16 as Excel's "Unicode Text (*.txt)", its tab-separated export, writes it (``encoding``:
    the whole file's, for a part of it)."""
    text = data.decode(encoding or text_encoding(data)).replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    named = _SEP_LINE.match(first)
    return (rest, named.group(1)) if named else (text, header_separator(text))


def text_encoding(data: bytes) -> str:
    """The encoding a CSV file's bytes are read in: UTF-32 or UTF-16 after their byte-order mark (UTF-32's
    first, as it opens with UTF-16's: QA108 F3), UTF-16 without one when the file's first characters have
    a zero byte beside them (QA108 F1: such a file, ASCII only, was read as UTF-8 with a NUL in every column
    name, and one with a "Zürich" as not UTF-8 at the wrong row), else UTF-8 (a byte-order mark dropped)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:200]
    head = head[: len(head) - len(head) % 2]
    if len(head) >= 4:  # a zero byte beside nine characters in ten at least (a CJK name has none)
        even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
        if odd >= 0.9 and even <= 0.1:
            return "utf-16-le"
        if even >= 0.9 and odd <= 0.1:
            return "utf-16-be"
    return "utf-8-sig"


def header_separator(text: str) -> str:
    """The separator the header line uses most: ',' (default), ';' (Excel where the decimal separator is
    a comma) or a tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _column_label(index: int, name: str) -> str:
    return f"{column_letter(index)} ({name})" if name else f"{column_letter(index)} (no name)"


def csv_structure_problems(text: str, sep: str, file: str, limit: int = 20) -> tuple[list[Problem], int]:
    """What pandas would read wrongly without a word, found on the raw rows: a column name used twice
    (pandas renames the second ``potential.1`` and the first alone is read), values under a column with
    no name, and a row with more cells than the header has names (pandas would take the first column as
    the row index and shift every column by one; a trailing separator, blank cells, is accepted).
    Returns the problems and the header's width. Rows are data rows as in every other problem: 1 is the
    first row under the header, completely empty lines not counted."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header: list[str] | None = None
    problems: list[Problem] = []
    unnamed_with_values: dict[int, int] = {}
    long_rows: list[tuple[int, int]] = []
    first_long: list[str] = []
    first_row: list[str] = []  # the first data row with a value, and its number
    first_row_no = 0
    multiline: list[tuple[str, int, str]] = []  # quoted cells with line breaks: (text, row, column)
    unnamed: list[int] = []  # the header's columns with no name, until a value is found under each
    quoted = '"' in text  # only a quoted cell holds a line break
    data_row = 0
    # one pass in C's csv reader, with per-row work only where a row may hold a problem: 3 million CRM
    # rows took 45 s when each cell was looked at and each first value's shape taken (QA81 F3)
    for row in rows:
        if _blank(row):
            continue  # a blank line: pandas skips it
        if header is None:
            header = [c.strip() for c in row]
            unnamed = [j for j, name in enumerate(header) if not name]
            continue
        data_row += 1
        if not first_row and any(c.strip() for c in row):
            first_row, first_row_no = row, data_row
        if unnamed:
            for j in [j for j in unnamed if j < len(row) and row[j].strip()]:
                unnamed_with_values[j] = data_row
                unnamed.remove(j)
        if quoted and len(multiline) < limit and "\n" in sep.join(row):
            for j in range(min(len(row), len(header))):
                if "\n" in row[j] and len(multiline) < limit:
                    multiline.append((row[j], data_row, _column_label(j, header[j])))
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            long_rows.append((data_row, len(row)))
            if len(long_rows) == 1:
                first_long = row
    if header is None:
        return [], 0
    first: dict[str, int] = {}
    for j, name in enumerate(header):
        key = name.lower()
        if not key:
            continue
        if key in first:
            problems.append(
                Problem(
                    file,
                    None,
                    _column_label(j, name),
                    f"the header names column {name!r} twice (columns {column_letter(first[key])} and "
                    f"{column_letter(j)}; names are case-insensitive): keep one",
                )
            )
        else:
            first[key] = j
    for j, row_no in sorted(unnamed_with_values.items()):
        problems.append(
            Problem(
                file,
                row_no,
                _column_label(j, ""),
                "the column has values but no name in the header row: name it or delete it",
            )
        )
    ids = _usual_first_shapes(text, sep, data_row) if multiline else set()
    for cell, row_no, column in multiline:
        problems += _swallowed_rows(cell, sep, len(header), file, row_no, column, ids)

    # a title line above the header (a CRM report's "Accounts by Owner - FY27"): one problem, not one per
    # data row (QA32 F-v: 400 rows "a separator too many"), also when Excel padded it with separators to
    # the table's width (QA33 F19: "values but no name" for every other column)
    def header_like(cells: list[str]) -> bool:  # names, not values: no cell is a number
        words = [c.strip() for c in cells if c.strip()]
        return len(words) >= 2 and not any(re.fullmatch(r"[-+\d.,\s]+", w) for w in words)

    padded = len(header) > 1 and bool(unnamed_with_values) and header_like(first_row)
    mostly_long = len(long_rows) * 2 >= data_row
    # a title with a comma in it ("Accounts export, Q3 2026") names two columns (QA33): the first data
    # row, wider than it and all names, is then the header
    titled = bool(long_rows) and mostly_long and long_rows[0][0] == first_row_no and header_like(first_long)
    if (sum(1 for name in header if name) == 1 and (mostly_long or padded)) or titled:
        first_long = first_long or first_row
        shown = ", ".join(c.strip() for c in first_long[:4])
        line = ", ".join(n for n in header if n)[:50]
        title = Problem(
            file,
            None,
            None,
            f"the first line ({line!r}) is taken as the header, but data row "
            f"{long_rows[0][0] if long_rows and not padded else first_row_no} "
            f"({shown}, ...) looks like it: delete the lines above the header",
        )
        return [title], len(header)  # the other problems are this one's consequences
    for row_no, count in long_rows[:limit]:
        problems.append(
            Problem(
                file,
                row_no,
                # the first cell beyond the header (QA57 F7: README promised the column's letter)
                column_letter(len(header)),
                f"the row has {count} cells but the header names {len(header)} columns: a separator too "
                "many, or a value with the separator in it that is not in quotes",
            )
        )
    if len(long_rows) > limit:
        problems.append(
            Problem(
                file,
                None,
                None,
                f"... and {len(long_rows) - limit} more rows with more cells than the header",
            )
        )
    return problems, len(header)


def _blank(row: list[str]) -> bool:
    """A blank line as the csv reader gives it (pandas skips it): no cell, or one empty cell."""
    return not row or (len(row) == 1 and not row[0].strip())


def _usual_first_shapes(text: str, sep: str, data_rows: int) -> set[str]:
    """The shapes ("A9999") that at least half the data rows' first values have: an id column's."""
    shapes: Counter[str] = Counter()
    header = True
    for row in csv.reader(io.StringIO(text), delimiter=sep):
        if _blank(row):
            continue
        if header:
            header = False
        elif row[0].strip():
            shapes[_shape(row[0])] += 1
    return {k for k, n in shapes.items() if n * 2 >= data_rows}


def _shape(value: str) -> str:
    """A value's shape: each letter a, each digit 9 (``A0201`` -> ``a9999``)."""
    return re.sub(r"[A-Za-z]", "a", re.sub(r"\d", "9", value.strip()))


def _swallowed_rows(
    cell: str, sep: str, width: int, file: str, row: int, column: str, ids: set[str]
) -> list[Problem]:
    """A quoted cell with line breaks whose lines look like whole rows: as many separators as a row has,
    and a first value of the shape most rows' first values have (``ids``: an id like ``A0201``). A stray
    double quote opened it and the rows up to the next one are read as this cell's text (QA32 F-s: two
    stray quotes ten rows apart, ten accounts gone and the first taking the last one's values, "inputs
    are valid"). A multi-line address or note, even with commas in its lines, starts no line with an id
    (QA33 F1: "Industriepark Nord, Halle 3, Tor 2, Rampe 5" in a 4-column file was refused)."""
    lines = cell.split("\n")
    whole = [
        line
        for line in lines[1:]
        if line.count(sep) >= max(width - 1, 1) and _shape(line.split(sep, 1)[0].strip('"')) in ids
    ]
    if not whole:
        return []
    return [
        Problem(
            file,
            row,
            column,
            f"a quoted cell runs over {len(lines)} lines and holds what look like {len(whole)} whole rows "
            f'(the first: {whole[0][:60]!r}): a stray double quote (") in this row opens it, and the rows '
            'up to the next quote are read as its text; remove the stray quote, or double it ("") to keep it',
            cell[:40],
        )
    ]


def not_utf8(name: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """The problem of a CSV file ``name`` (bytes ``data``) that is not UTF-8: the data row and column of
    its first bad byte, and the cell as the Windows code page reads it, up to the bad byte and one past it
    ("Café"). Every CSV the planner reads says it so: accounts and reps, the CRM's tables, edits and
    locks files (QA67 F1: a CRM table said "at byte 9550064" of 300,000 rows, an edits file nothing)."""
    encoding = text_encoding(data)
    if encoding.startswith(("utf-16", "utf-32")):  # read as such (``csv_text``): the row too (QA108 O1)
        kind = "UTF-32" if encoding == "utf-32" else "UTF-16"
        line, record, column, cell = _where(data[: exc.start], encoding)
        return Problem(
            name,
            record or None,
            column,
            f"not valid {kind} (byte offset {exc.start}, line {line}: the file is cut short or damaged); "
            "save it again (Excel: 'CSV UTF-8' or 'Unicode Text')"
            + _place(record, data[: exc.start], encoding),
            cell + "\ufffd" if record else "",  # the cell up to the damaged character
        )
    # the bytes the decoder saw: after a byte-order mark (QA68 F1: Excel's "CSV UTF-8" with a Latin-1 byte
    # was reported 3 bytes off, in the row before when the byte began its row)
    body = exc.object if isinstance(exc.object, bytes) and data.endswith(exc.object) else data
    line, record, column, cell = _where(body[: exc.start], "utf-8-sig")
    shown = cell + body[exc.start : exc.start + 1].decode("cp1252", errors="replace")
    offset = exc.start + len(data) - len(body)  # in the file
    return Problem(
        name,
        record or None,  # the header has no data row (QA29 F13)
        column,
        f"not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {offset}, line {line}); "
        "save the file as UTF-8 (Excel: 'CSV UTF-8')" + _place(record, body[: exc.start], "utf-8-sig"),
        shown if record else "",
    )


def _place(record: int, before: bytes, encoding: str) -> str:
    """Where a damaged byte of no data row is: in Excel's ``sep=`` first line or in the header (QA111 O2:
    a bad byte in ``sep=;`` was said to be in the header, the line after it)."""
    if record:
        return ""
    text = before.decode(encoding)
    # fullmatch: "sep=;\n" before the byte puts it at the header's start (QA112 F2: "$" matched before
    # the line end, and a bad first byte of the header was put in the sep= line)
    return (
        " (in the first line, Excel's 'sep=' line)" if _SEP_LINE_START.fullmatch(text) else " (in the header)"
    )


def _where(before: bytes, encoding: str) -> tuple[int, int, str | None, str]:
    """(line, data row, column, the cell's text so far) of the byte after ``before`` (valid text in the
    file's ``encoding`` up to that byte): lines ended by LF,
    CRLF or CR alone (QA32 F-c: an Excel-for-Mac file's bad byte was put "in the header"), data rows
    counted as records, a quoted cell's line breaks inside its row (F-d: row 499 for data row 299), blank
    lines not counted; 0 for the header. The column is the header's name of the cell the byte is in, with
    its letter (QA57 F7: "Caf\xe9" in `name` was reported with no column), None in the header."""
    line = before.decode(encoding).replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    text, sep = csv_text(before, encoding)  # a sep= line is no record
    rows = [row for row in csv.reader(io.StringIO(text + "x"), delimiter=sep) if any(c.strip() for c in row)]
    if len(rows) < 2:
        return line, 0, None, ""
    header, cells = rows[0], rows[-1]
    k = len(cells) - 1
    name = header[k].strip() if k < len(header) else ""
    column = f"{column_letter(k)} ({name})" if name else column_letter(k)
    return line, len(rows) - 1, column, cells[-1][:-1]


def _checked_frame(text: str, sep: str, name: str) -> pd.DataFrame:
    """A CSV's cells as text, once ``csv_structure_problems`` finds nothing (raised as ``InputError``);
    pandas' own errors are the caller's to word. ``usecols``: a row's extra cells (checked blank: a
    trailing separator) are not read, and pandas never takes a first column as the index when the rows
    are longer than the header."""
    frame, deferred = _frame_and_long_rows(text, sep, name)
    if deferred:
        raise InputError(list(deferred))
    return frame


def _frame_and_long_rows(text: str, sep: str, name: str) -> tuple[pd.DataFrame, tuple[Problem, ...]]:
    """``_checked_frame``, with rows longer than the header returned as problems (the frame read
    without their extra cells) when they are the only structure problems; any other raises."""
    structure, width = csv_structure_problems(text, sep, name)
    if structure and not all(_long_row(p) for p in structure):
        raise InputError(structure)
    usecols = range(width) if width else None
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, usecols=usecols)
    return frame, tuple(structure)


def _long_row(problem: Problem) -> bool:
    return problem.message.startswith("the row has ") or problem.message.endswith(
        "more rows with more cells than the header"
    )


def read_csv_cells(path: Path, what: str, deferred: list[Problem] | None = None) -> pd.DataFrame:
    """A small CSV's cells as text (an ``edit --edits`` file, a locks file), read by the rules of every
    table: ``csv_text`` (a byte-order mark, CRLF or CR line ends, Excel's ``sep=`` line, ``;`` or a tab)
    and ``csv_structure_problems`` (a trailing separator is accepted, a longer row reported). A header
    without rows is an empty frame, for the caller to judge; headers are as written. Raises
    ``InputError`` (``what`` names the file: "edits file not found"). ``deferred``: rows longer than the
    header go there (the frame read without their extra cells), for the caller to report with the file's
    other problems (QA60: they hid an unknown rep until the next run)."""
    name = str(path)
    data = b""
    try:
        data = Path(path).read_bytes()
        text, sep = csv_text(data)
        if deferred is None:
            return _checked_frame(text, sep, name)
        frame, long_rows = _frame_and_long_rows(text, sep, name)
        deferred += long_rows
        return frame
    except FileNotFoundError:
        raise InputError(Problem(name, None, None, f"{what} file not found")) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(name, data, exc)) from None
    except pd.errors.EmptyDataError:  # QA57 F3: pandas' "No columns to parse from file"
        raise InputError(
            Problem(name, None, None, f"the file is empty: the {what} file needs a header row")
        ) from None
    except pd.errors.ParserError as exc:
        raise InputError(Problem(name, None, None, f"not a readable CSV: {exc}")) from None


def _read_csv(path: Path, defer: bool = False) -> tuple[pd.DataFrame, str, tuple[Problem, ...]]:
    """A CSV table's cells, its separator and, with ``defer``, the rows longer than its header as
    problems (``RawTable.problems``) rather than raised."""
    data = path.read_bytes()
    if not data.strip():
        raise _problem(path, "the file is empty")
    try:
        text, sep = csv_text(data)
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(str(path), data, exc)) from exc
    try:
        frame, deferred = _frame_and_long_rows(text, sep, str(path))
    except pd.errors.ParserError as exc:
        raise _problem(path, f"cannot parse as CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise _problem(path, "the file has no header row") from exc
    if deferred and not defer:
        raise InputError(list(deferred))
    if frame.empty:
        raise _problem(path, "the file has a header but no data rows")
    if len(frame.columns) == 1 and any(c in str(frame.columns[0]) for c in "|:"):
        raise _problem(
            path,
            f"the header is one column ({str(frame.columns[0])[:60]!r}); "
            "separate the columns with commas (or semicolons, or tabs)",
        )
    return frame, sep, deferred


def _layer(path: Path, table: str | None) -> str | None:
    """The layer to read from a file of several (a GeoPackage keeping versions): the one named like the
    table (``accounts``, ``reps``, ...), as a workbook's sheet; more than one and none so named is a
    problem naming them (QA32 F-f: the first layer, an older cut of 90 counties, was read in place of the
    100 of the layer ``accounts``, with pyogrio's warning the only trace). None: the file's only layer."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # noqa: BLE001 - not a multi-layer source: read_file reports what is wrong
        return None
    # tables without geometry (QGIS's layer_styles, saved with a style: QA33 F3) are no candidates
    names = [str(n) for n, kind in layers if kind is not None]
    if len(names) <= 1:
        return names[0] if names and len(layers) > 1 else None
    wanted = [w.lower() for w in (table, path.stem) if w]
    match = next((n for w in wanted for n in names if n.lower() == w), None)
    if match is not None:
        return match
    raise _problem(
        path,
        f"the file holds {len(names)} layers ({', '.join(repr(n) for n in names)}) and none is named "
        f"{wanted[0]!r}: name the layer to read {wanted[0]!r}, or save it to a file of its own",
    )


def _fits_degrees(gdf: Any) -> bool:
    """Every coordinate of the layer fits longitude/latitude."""
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    return -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90


def _projected_range(gdf: Any) -> str:
    """'run from (x0, y0) to (x1, y1), so they are projected (metres or feet)'."""
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    return (
        f"run from ({x0:,.0f}, {y0:,.0f}) to ({x1:,.0f}, {y1:,.0f}), so they are projected (metres or feet)"
    )


def _projected_as_degrees(path: Path, gdf: Any) -> None:
    """A layer said to be in longitude/latitude whose coordinates cannot be degrees: metres of a
    projection in a GeoJSON without a ``crs`` member, which GDAL takes as EPSG:4326 (QA32 F-r: 136
    "crosses the antimeridian" problems and 272 out-of-range coordinates, never "projected")."""
    if gdf.crs is None or not gdf.crs.is_geographic:
        return
    x0, y0, x1, y1 = (float(v) for v in gdf.total_bounds)
    if _fits_degrees(gdf) or (min(abs(x0), abs(x1)) <= 360 and min(abs(y0), abs(y1)) <= 180):
        return  # in range, or a few coordinates out of range: reported by row later
    raise _problem(
        path,
        f"the file's coordinates {_projected_range(gdf)}, but the file says they are longitude/latitude "
        f"({gdf.crs.name}; a "
        "GeoJSON without a 'crs' member is taken as such): save it with its projection's EPSG code, e.g. "
        f"`ogr2ogr -a_srs EPSG:<its code> out.gpkg {path.name}`, or as longitude/latitude (EPSG:4326)",
    )


def _latin1_repair(value: object) -> str | None:
    """The text of UTF-8 decoded as Latin-1 ("Zürich" for "ZÃ¼rich"): its Latin-1 bytes are UTF-8 with a
    letter beyond ASCII; None for anything else. Genuine Latin-1 text ("Zürich" itself) is no UTF-8."""
    if not isinstance(value, str) or value.isascii():
        return None
    try:
        fixed = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    # the repaired letters are Latin ones (U+00C0 to U+024F): "JOSÉ\u00a0SILVA" would become "JOSɠSILVA",
    # an IPA letter, so it is no mojibake (QA33 F8)
    latin = all("\u00c0" <= c <= "\u024f" for c in fixed if not c.isascii())
    return fixed if fixed != value and latin else None


def _mojibake(path: Path, gdf: Any) -> None:
    """A shapefile without its .cpg is read as Latin-1 by GDAL: UTF-8 ids become "ZÃ¼rich" and match
    no lock or CRM (QA32 F-z, exit 0). Refused with the first such cell and the fix."""
    if path.suffix.lower() not in (".shp", ".dbf", ".zip"):  # GeoJSON is UTF-8 by definition (QA33 F8)
        return
    for column in gdf.columns:
        if column == gdf.geometry.name or gdf[column].dtype.kind != "O":
            continue
        bad, fixed = next(((v, f) for v in gdf[column].tolist() if (f := _latin1_repair(v))), (None, None))
        if bad is not None:
            hint = (
                f"add {path.with_suffix('.cpg').name} holding the word UTF-8 beside it"
                if path.suffix.lower() == ".shp"
                else "save the file as UTF-8"
            )
            raise _problem(
                path,
                f"the text is UTF-8 read as Latin-1 ({bad!r} for {fixed!r}): {hint}",
                column=str(column),
            )


def _read_geo(path: Path, table: str | None = None) -> tuple[pd.DataFrame, Any]:
    import geopandas as gpd

    layer = _layer(path, table)
    try:
        gdf = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - the driver's message is what the user needs
        raise _problem(path, f"cannot read as a geographic file: {exc}") from exc
    if gdf.empty:
        raise _problem(path, "the file has no features")
    _projected_as_degrees(path, gdf)
    _mojibake(path, gdf)
    if gdf.crs is None:
        degrees = _fits_degrees(gdf)
        what = (
            "its coordinates fit longitude/latitude: if they are, set EPSG:4326"
            if degrees
            else f"its coordinates {_projected_range(gdf)}: set the EPSG code of that projection, "
            "not EPSG:4326"
        )
        # the examples name the code to set, or say where it goes (QA36 F6: "EPSG:XXXX" after "set EPSG:4326")
        code = "EPSG:4326" if degrees else "EPSG:<its code>"
        err = _problem(
            path,
            f"the file has no coordinate reference system (CRS); {what}, e.g. "
            f"`ogr2ogr -a_srs {code} out.gpkg {path.name}` or in Python gdf.set_crs('{code}')",
        )
        # its columns can still be checked, in the same run (QA37 F4: a missing account_id came only
        # once the CRS was set)
        err.frame = _lower_columns(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), path)
        raise err
    gdf = gdf.to_crs(4326)
    geometry = gdf.geometry.reset_index(drop=True)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    return frame, geometry


def read_table(path: Path | str, table: str | None = None, *, defer_cells: bool = False) -> RawTable:
    """Raw cells of one table; ``table`` names the sheet to read in a workbook (default: the file's stem;
    a workbook without such a sheet is read from its first sheet). ``defer_cells``: a workbook's error
    cells are left in ``excel.problems`` for the table's validation (``read_sheet``), and a CSV's rows
    longer than its header in ``problems`` (the caller reports them with the table's others)."""
    path = Path(path)
    if not path.exists():
        raise _problem(path, "file not found")
    if path.is_dir():
        raise _problem(path, "expected a file, found a folder")
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise _problem(path, f"unsupported file type {ext!r}; use one of {', '.join(sorted(SUPPORTED))}")
    geometry = None
    separator = None
    if ext in EXCEL_EXTENSIONS:
        frame, excel = read_sheet(path, table, defer_cells=defer_cells)
        known = _known_columns()
        names = {str(c).strip().lower(): canonical_name(c, known) for c in frame.columns}
        return RawTable(
            path=path,
            frame=_lower_columns(frame, path),
            excel=excel.renamed({k: v for k, v in names.items() if k != v}),
        )
    deferred: tuple[Problem, ...] = ()
    if ext in TEXT_EXTENSIONS:
        frame, separator, deferred = _read_csv(path, defer=defer_cells)
    elif ext in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001
            raise _problem(path, f"cannot read as Parquet: {exc}") from exc
        if frame.empty:
            raise _problem(path, "the file has no rows")
        if "geometry" in frame.columns:
            frame = frame.drop(columns=["geometry"])
    else:
        frame, geometry = _read_geo(path, table)
    frame = _lower_columns(frame, path)
    return RawTable(path=path, frame=frame, geometry=geometry, separator=separator, problems=deferred)
