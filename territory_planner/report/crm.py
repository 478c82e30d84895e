"""Load and validate the CRM history folder.

Every table is optional. Each CSV is read as text, column names are matched case-insensitively, and
every value is converted with a vectorised parser; every bad cell becomes a ``Problem`` with file,
1-based data row and column, and all problems of all tables are raised together as one ``InputError``.
Nothing is silently dropped or coerced.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.excel import EXCEL_EXTENSIONS, ExcelInfo, read_sheet, relocate
from territory_planner.io.labels import first_few
from territory_planner.io.numbers import decide, parse_numbers
from territory_planner.io.readers import (
    TEXT_EXTENSIONS,
    canonical_name,
    csv_structure_problems,
    csv_text,
    not_utf8,
)
from territory_planner.options import MAX_NUMBER
from territory_planner.report.formatting import counted

log = logging.getLogger(__name__)

TEXT, NUMBER, DATE = "text", "number", "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    required: bool = True  # the column must exist
    blank_ok: bool = False  # a cell may be empty


#: A CRM export's currency of each amount (Salesforce's CurrencyIsoCode): optional; one value throughout.
CURRENCY_COLUMN = Column("currency", required=False, blank_ok=True)
#: The tables whose numbers are money, checked for one currency.
MONEY_TABLES = ("opportunities", "quotas", "forecasts")


@dataclass(frozen=True)
class TableSpec:
    name: str  # file stem, e.g. "opportunities"
    columns: tuple[Column, ...]
    id_column: str | None = None  # unique, non-empty

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


SPECS: dict[str, TableSpec] = {
    s.name: s
    for s in (
        TableSpec(
            "opportunities",
            (
                Column("opportunity_id"),
                Column("account_id"),
                Column("rep_id"),
                Column("amount", NUMBER),
                Column("status"),
                Column("probability", NUMBER),
                Column("created_date", DATE),
                Column("close_date", DATE, blank_ok=True),  # blank allowed for open deals only
                CURRENCY_COLUMN,
            ),
            id_column="opportunity_id",
        ),
        TableSpec(
            "activities",
            (
                Column("activity_id"),
                Column("rep_id"),
                Column("account_id"),
                Column("date", DATE),
                Column("type"),
            ),
            id_column="activity_id",
        ),
        TableSpec(
            "quotas",
            (
                Column("rep_id"),
                Column("period_start", DATE),
                Column("period_end", DATE),
                Column("quota", NUMBER),
                CURRENCY_COLUMN,
            ),
        ),
        TableSpec(
            "forecasts",
            (
                Column("rep_id"),
                Column("period_start", DATE),
                Column("period_end", DATE),
                Column("forecast", NUMBER),
                CURRENCY_COLUMN,
            ),
        ),
        TableSpec(
            "time_log",
            (
                Column("rep_id"),
                Column("date", DATE),
                Column("selling_hours", NUMBER),
                Column("total_hours", NUMBER),
            ),
        ),
        TableSpec(
            "leads",
            (
                Column("lead_id"),
                Column("rep_id"),
                Column("account_id", blank_ok=True),
                Column("contacted_at", DATE),
                Column("responded_at", DATE, blank_ok=True),
            ),
            id_column="lead_id",
        ),
        TableSpec(
            "reps",
            (
                Column("rep_id"),
                Column("name", required=False, blank_ok=True),
                Column("region", required=False, blank_ok=True),
                Column("district", required=False, blank_ok=True),
                Column("quota", NUMBER, required=False, blank_ok=True),
            ),
            id_column="rep_id",
        ),
        TableSpec(
            "accounts",
            (
                Column("account_id"),
                Column("name", required=False, blank_ok=True),
                Column("potential", NUMBER, required=False, blank_ok=True),
                Column("current_rep", required=False, blank_ok=True),
            ),
            id_column="account_id",
        ),
    )
}

HISTORY_TABLES = ("opportunities", "activities", "quotas", "forecasts", "time_log", "leads")
OPPORTUNITY_STATUSES = ("open", "won", "lost")


@dataclass
class CrmData:
    """The validated CRM tables (``None`` when a table is missing) and why each missing one is missing."""

    tables: dict[str, pd.DataFrame | None]
    missing: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # loaded anyway, but the reader must know
    departed: tuple[str, ...] = ()  # rep_ids in the history but not in the roster
    roster_source: str = "reps.csv"  # where the roster comes from, as the warnings name it

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    @property
    def roster(self) -> pd.DataFrame | None:
        return self.tables.get("reps")


class _Collector:
    """Collects problems, one per bad row of each check."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.sheets: list[ExcelInfo] = []  # tables read from workbooks, to name their sheet, row and cell
        self.written: dict[str, dict[str, pd.Series]] = {}  # file -> column -> its cells as written
        # a table's name in the checks (``opportunities.csv``) -> the path it was read from, as shown
        self.shown: dict[str, str] = {}

    def cells(self, file: str, df: pd.DataFrame, column: str) -> pd.Series:
        """The cells of ``column`` as ``file`` writes them (stripped), to show in a problem; the values
        as read when the file's text is not known."""
        cells = self.written.get(file, {}).get(column)
        return cells if cells is not None else df[column]

    def located(self) -> list[Problem]:
        """The problems with Excel positions for workbooks and each table's path as it was read (QA67:
        ``opportunities.csv`` named, not which of a planner's CRM folders held it)."""
        return [replace(p, file=self.shown.get(p.file, p.file)) for p in relocate(self.problems, self.sheets)]

    def rows(self, file: str, column: str | None, bad: pd.Series, values: pd.Series, message: str) -> None:
        """Add one problem per True row of ``bad`` (index = 0-based data row)."""
        idx = np.flatnonzero(bad.to_numpy(dtype=bool, na_value=False))
        if idx.size == 0:
            return
        # every row, as the README promises of input_errors.csv (QA38 F10: 200 of 3,244 bad amounts listed
        # and "201 problem(s)" on the console); the console shows the first ones
        vals = values.iloc[idx].astype(str).tolist()
        self.problems.extend(
            Problem(file=file, row=int(i) + 1, column=column, message=message, value=v)
            for i, v in zip(idx, vals, strict=True)
        )

    def whole(self, file: str, column: str | None, message: str) -> None:
        self.problems.append(Problem(file=file, row=None, column=column, message=message))


#: Every column name of the CRM tables: a header that is one of them written with spaces or hyphens
#: (``Opportunity ID``, ``Close Date``) reads as it (``io.readers.canonical_name``).
_KNOWN_COLUMNS = frozenset(c.name for spec in SPECS.values() for c in spec.columns)
#: A CRM export's own names for a column (QA29 F15: Salesforce's ``CurrencyIsoCode`` was left unread,
#: EUR amounts shown as $ and mixed currencies summed without a word)
_CRM_ALIASES = {
    "currencyisocode": "currency",
    "currency_iso_code": "currency",
    "currency iso code": "currency",
}


def _crm_name(name: object) -> str:
    """A CRM table's header as read: ``canonical_name``, then a CRM export's own name for the column."""
    canonical = canonical_name(name, _KNOWN_COLUMNS)
    return _CRM_ALIASES.get(canonical, canonical)


def read_text_table(path: Path, file: str, problems: _Collector) -> pd.DataFrame | None:
    """Read a CSV with every cell as text (blank = ""), lower-cased column names; None on failure.

    The separator is the one the header uses (``,``, ``;`` as Excel writes it where the decimal separator
    is a comma, or a tab), kept in ``frame.attrs["separator"]`` for the numbers (``io/numbers.py``); the
    raw rows are checked first (``csv_structure_problems``: a column named twice, which pandas would
    rename and drop, values under no name, a row with more cells than the header)."""
    data = b""
    try:
        data = path.read_bytes()
        text, sep = csv_text(data)
        structure, width = csv_structure_problems(text, sep, file)
        if structure:
            problems.problems.extend(structure)
            return None
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=False,
            usecols=range(width) if width else None,
        )
        frame.attrs["separator"] = sep
    except UnicodeDecodeError as exc:
        problems.problems.append(not_utf8(file, data, exc))  # its row and column (QA67 F1)
        return None
    except pd.errors.EmptyDataError:
        problems.whole(file, None, "the file is empty (no header row)")
        return None
    except pd.errors.ParserError as exc:
        problems.whole(file, None, f"the file is not a readable CSV: {exc}")
        return None
    frame.columns = [_crm_name(c) for c in frame.columns]
    dupes = frame.columns[frame.columns.duplicated()].unique().tolist()
    for col in dupes:
        problems.whole(file, col, "the column appears more than once (names are case-insensitive)")
    if dupes:
        return None
    return frame.reset_index(drop=True)


# the extensions a CRM table may have, in the order they are looked for: CSV first, then a tab-separated
# export, then a workbook
TABLE_EXTENSIONS = (".csv", *sorted(TEXT_EXTENSIONS - {".csv"}), *sorted(EXCEL_EXTENSIONS))


def _table_files(crm_dir: Path, name: str) -> list[Path]:
    """The files table ``name`` may be read from in the folder, in ``TABLE_EXTENSIONS``'s order, whichever
    exist: ``name.csv``, ``name.tab``/``.tsv``/``.txt``, ``name.xlsm``/``.xlsx``. The name and extension
    are matched whatever their case (QA108 F2: ``Opportunities.TSV`` was passed over without a word)."""
    if not crm_dir.is_dir():
        return []
    found = [
        p
        for p in crm_dir.iterdir()
        if p.is_file() and p.stem.lower() == name and p.suffix.lower() in TABLE_EXTENSIONS
    ]
    return sorted(found, key=lambda p: (TABLE_EXTENSIONS.index(p.suffix.lower()), p.name))


def table_files(crm_dir: Path) -> list[Path]:
    """The files in the folder that a CRM table is read from, for each table the reader knows: what the
    folder's hash covers."""
    return [p for name in SPECS for p in _table_files(crm_dir, name)]


def _table_path(crm_dir: Path, name: str, problems: _Collector) -> Path:
    """``name.csv``, else its tab-separated or workbook twin in the folder (the CSV path when none exists)."""
    found = _table_files(crm_dir, name)
    if len(found) > 1:
        problems.whole(
            found[0].name,
            None,
            f"{' and '.join(p.name for p in found)} both exist in {crm_dir.name}/; keep one",
        )
    return found[0] if found else crm_dir / f"{name}.csv"


def read_any_table(path: Path, spec: TableSpec, file: str, problems: _Collector) -> pd.DataFrame | None:
    """A CSV as text, or the table's sheet of a workbook (cells as text, their Excel types checked).

    A sheet's Excel error cells (``#N/A``) and formulas never calculated are reported with the table's
    other problems, not alone (``read_sheet(defer_cells=True)``, as for accounts and reps)."""
    problems.shown.update({spec.file: str(path), file: str(path)})  # named by its path when located
    if path.suffix.lower() not in EXCEL_EXTENSIONS:
        return read_text_table(path, file, problems)
    try:
        frame, info = read_sheet(path, spec.name, source=spec.file, shown=str(path), defer_cells=True)
    except InputError as exc:
        problems.problems.extend(exc.problems)
        return None
    names = {str(c).strip().lower(): _crm_name(c) for c in frame.columns}
    info = info.renamed({k: v for k, v in names.items() if k != v})
    problems.sheets.append(info)
    problems.problems.extend(info.cell_problems({c.name: c.kind for c in spec.columns}))
    frame.columns = [_crm_name(c) for c in frame.columns]
    return frame


def _convert(frame: pd.DataFrame, spec: TableSpec, problems: _Collector) -> pd.DataFrame:
    """Typed frame with the spec's columns (others kept as text); bad cells reported. Numbers are read
    in the file's decimal convention (``io/numbers.py``): a comma-separated file's ``1,234`` is 1234, a
    semicolon file's ``1.234,5`` is 1234.5; workbooks and other tables use the decimal point.

    The cells as written (stripped) are kept in ``problems.written``, so that the later rules show a
    bad cell as the file has it (``Closed Won``, ``-500``), not as read."""
    out: dict[str, pd.Series] = {}
    written: dict[str, pd.Series] = {}
    convention = decide(
        {
            c.name: frame[c.name].astype("string").fillna("").str.strip().astype(str)
            for c in spec.columns
            if c.kind == NUMBER and c.name in frame.columns
        },
        frame.attrs.get("separator"),
    )
    for col in spec.columns:
        if col.name not in frame.columns:
            if col.required:
                problems.whole(spec.file, col.name, "required column is missing")
            continue
        text = frame[col.name].astype("string").str.strip()
        written[col.name] = text
        blank = text.eq("")
        if not col.blank_ok:
            problems.rows(spec.file, col.name, blank, text, "empty value")
        if col.kind == NUMBER:
            numbers, hints = parse_numbers(text.fillna(""), convention.for_column(col.name))
            unread = numbers.isna() & ~blank
            problems.rows(spec.file, col.name, unread & ~_hinted(hints, text.index), text, "not a number")
            for hint in sorted(set(hints.values())):
                at = _hinted({k: v for k, v in hints.items() if v == hint}, text.index)
                problems.rows(spec.file, col.name, unread & at, text, f"not a number ({hint})")
            infinite = numbers.isin([np.inf, -np.inf])
            problems.rows(spec.file, col.name, infinite, text, "not a finite number")
            # as the accounts' numbers: two amounts of 1e308 summed to inf KPIs (QA59)
            huge = numbers.abs().gt(MAX_NUMBER) & ~infinite
            problems.rows(spec.file, col.name, huge, text, "too large: at most 1e15 in size")
            out[col.name] = numbers
        elif col.kind == DATE:
            # a stamp with an offset (2025-04-01T17:30:00Z, +02:00: Salesforce's and HubSpot's exports;
            # QA17 F2: an offset crashed every period comparison). An instant (a lead's contacted_at,
            # responded_at: durations) is read on one clock, UTC; a date (close_date, period_start, a
            # time log's day) keeps its writer's calendar day, the offset dropped (QA18 F6: a quota
            # period written 2023-04-01T00:00:00+02:00 became 2023-03-31 in UTC)
            if col.name.endswith("_at"):
                stamps = pd.to_datetime(text.mask(blank), format="ISO8601", errors="coerce", utc=True)
                stamps = stamps.dt.tz_localize(None)
            else:
                # only stamps with a time can carry an offset: the regex on those alone (a million
                # plain dates took seconds through pandas' per-cell replace, QA81 F3)
                timed = text.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
                local = text.copy()
                if timed.any():
                    local[timed] = text[timed].str.replace(LOCAL_OFFSET, r"\1", regex=True)
                stamps = pd.to_datetime(local.mask(blank), format="ISO8601", errors="coerce")
            bad = stamps.isna() & ~blank
            problems.rows(spec.file, col.name, bad, text, "not a date (use ISO 8601, e.g. 2026-07-31)")
            out[col.name] = stamps
        else:
            out[col.name] = text
    if spec.id_column and spec.id_column in out:
        ids = out[spec.id_column]
        dup = (ids.duplicated(keep="first") & ids.ne("")).to_numpy()
        # each repeat with the row it repeats, as the accounts say it (QA67 F2: "duplicate id" at row
        # 40,000 of a 250,000-row export, the other row left to find)
        first = pd.Series(np.arange(len(ids)), index=ids.index).groupby(ids.to_numpy()).transform("min")
        problems.problems.extend(
            Problem(spec.file, int(i) + 1, spec.id_column, f"duplicate id (first seen on row {f + 1})", v)
            for i, f, v in zip(
                np.flatnonzero(dup), first.to_numpy()[dup], ids.to_numpy()[dup].astype(str), strict=True
            )
        )
    problems.written[spec.file] = written
    return pd.DataFrame(out, index=frame.index)


def _hinted(hints: dict[int, str], index: pd.Index) -> pd.Series:
    """True at the positions ``hints`` has (positions of a frame with ``index``)."""
    mask = np.zeros(len(index), dtype=bool)
    mask[list(hints)] = True
    return pd.Series(mask, index=index)


def _check_rules(name: str, df: pd.DataFrame, problems: _Collector) -> None:
    """Table-specific rules beyond types. A bad cell is shown as written (``written_cells``)."""
    file = SPECS[name].file
    has = df.columns.__contains__

    def rows(column: str, bad: pd.Series, message: str) -> None:
        problems.rows(file, column, bad, problems.cells(file, df, column), message)

    if name == "opportunities":
        if has("status"):
            status = df["status"].str.lower()
            df["status"] = status
            bad = ~status.isin(OPPORTUNITY_STATUSES) & status.ne("")
            # QA22 M13: a CRM's own spellings (Salesforce's Closed Won / Closed Lost) get the one meant
            for spelled, meant in (("closed won", "won"), ("closed lost", "lost")):
                rows("status", bad & status.eq(spelled), f"status must be open, won or lost (write {meant})")
                bad &= status.ne(spelled)
            # a stage name (Salesforce's Prospecting, Negotiation/Review): the deal is open (QA38 F10)
            stage = bad & ~status.str.contains("clos|won|lost|win|los", regex=True, na=False)
            still_open = "status must be open, won or lost (a stage of a deal still open: write open)"
            rows("status", stage, still_open)
            rows("status", bad & ~stage, "status must be open, won or lost")
            if has("close_date"):
                # a close_date that is written but no date is reported once, as such (QA17 F6)
                written = problems.written.get(file, {}).get("close_date")
                blank = df["close_date"].isna() if written is None else written.fillna("").eq("")
                # the close_date cell shown (blank), the status in the message (QA97 F7: the value column
                # showed "won" under close_date)
                for closed in ("won", "lost"):
                    rows("close_date", status.eq(closed) & blank, f"a {closed} deal needs a close_date")
        if has("probability"):
            p = df["probability"]
            scale_100 = bool(p.dropna().between(0, 100).all())  # a CRM's Probability (%) field: 0 to 100
            percent = (p > 1) & (p <= 100) & scale_100
            rows("probability", percent, "probability must be between 0 and 1 (a percentage? divide by 100)")
            rows("probability", ((p < 0) | (p > 1)) & ~percent, "probability must be between 0 and 1")
        if has("amount"):
            rows("amount", df["amount"] < 0, "amount must be >= 0")
        if has("created_date") and has("close_date"):
            # both dates shown: the wrong one may be either (QA40 F7: a created_date typed a year late
            # was reported as the close_date's value alone)
            both = problems.cells(file, df, "close_date").astype(str) + " (created_date "
            both += problems.cells(file, df, "created_date").astype(str) + ")"
            early = df["close_date"] < df["created_date"]
            problems.rows(file, "close_date", early, both, "close_date is before created_date")
    elif name == "activities" and has("type"):
        df["type"] = df["type"].str.lower()
        # a CRM's activity types are a free picklist: "Customer Meeting", "Meeting - onsite" are meetings
        # too (QA17 F9: prospect_meetings was 0 everywhere, without a word); ``meeting_notes`` says which
        df["meeting"] = df["type"].fillna("").map(is_meeting).astype(bool)
    elif name in ("quotas", "forecasts"):
        value = "quota" if name == "quotas" else "forecast"
        if has("period_start") and has("period_end"):
            rows("period_end", df["period_end"] < df["period_start"], "period_end is before period_start")
            if has("rep_id"):
                problems.problems.extend(
                    overlapping_periods(df, file, value, problems.cells(file, df, "period_start"))
                )
        if has(value):
            rows(value, df[value] < 0, f"{value} must be >= 0")
    elif name == "time_log" and has("selling_hours") and has("total_hours"):
        for col in ("selling_hours", "total_hours"):
            rows(col, df[col] < 0, f"{col} must be >= 0")
        rows("selling_hours", df["selling_hours"] > df["total_hours"], "selling_hours exceed total_hours")
    elif name == "leads" and has("contacted_at") and has("responded_at"):
        rows("responded_at", df["responded_at"] < df["contacted_at"], "responded_at is before contacted_at")
    elif name == "accounts" and has("potential"):
        rows("potential", df["potential"] < 0, "potential must be >= 0")


def _day(ts: pd.Timestamp) -> str:
    return str(pd.Timestamp(ts).date())


def overlapping_periods(df: pd.DataFrame, file: str, value: str, shown: pd.Series) -> list[Problem]:
    """A rep's quota (or forecast) rows must not cover a day twice: the report sums every row that
    overlaps the period (pro rata), so a row written twice, or a month's quota next to the quarter's that
    holds it, would silently double the target. One problem per such row (the later one of the pair,
    periods ordered by start, then file order), naming the row it overlaps; dates are inclusive, so
    ``2026-04-01 to 2026-06-30`` and ``2026-06-30 to 2026-09-30`` share one day. ``shown``: the
    period_start cells as written.
    """
    ok = (
        df["rep_id"].ne("")
        & df["period_start"].notna()
        & df["period_end"].notna()
        & (df["period_end"] >= df["period_start"])
    ).to_numpy(dtype=bool, na_value=False)
    pos = np.flatnonzero(ok)
    if pos.size < 2:
        return []
    rows = pd.DataFrame(
        {
            "rep": df["rep_id"].to_numpy()[pos],
            "start": df["period_start"].dt.normalize().to_numpy()[pos],
            "end": df["period_end"].dt.normalize().to_numpy()[pos],
            "pos": pos,
        }
    ).sort_values(["rep", "start", "pos"], kind="mergesort")
    amounts = df[value] if value in df.columns else None
    problems: list[Problem] = []
    # rep -> the period seen so far that ends last: (start, end, position)
    widest: dict[str, tuple[pd.Timestamp, pd.Timestamp, int]] = {}
    for rep, start, end, at in rows.itertuples(index=False, name=None):
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        seen = widest.get(rep)
        if seen is not None and start <= seen[1]:
            o_start, o_end, other = seen
            problems.append(
                Problem(
                    file=file,
                    row=int(at) + 1,
                    column="period_start",
                    message=_overlap_message(
                        rep, value, (start, end), (o_start, o_end), other + 1, amounts, int(at), other
                    ),
                    value=str(shown.iloc[at]),
                )
            )
        if seen is None or end > seen[1]:
            widest[rep] = (start, end, int(at))
    return problems


def _overlap_message(
    rep: str,
    value: str,
    this: tuple[pd.Timestamp, pd.Timestamp],
    that: tuple[pd.Timestamp, pd.Timestamp],
    that_row: int,
    amounts: pd.Series | None,
    this_pos: int,
    that_pos: int,
) -> str:
    """Why two of a rep's period rows cannot both count (see ``overlapping_periods``)."""
    (s, e), (os_, oe) = this, that
    span = f"{_day(s)} to {_day(e)}"
    other = f"{_day(os_)} to {_day(oe)} (row {that_row})"
    fix = f"keep one {value} per rep and day (delete or split a row)"
    if (s, e) == (os_, oe):
        same = (
            amounts is not None
            and float(amounts.iloc[this_pos]) == float(amounts.iloc[that_pos])  # both read
        )
        what = "the same row written twice" if same else f"two {value}s for one period"
        return (
            f"duplicate {value}: rep {rep} already has a {value} for {span} in row {that_row} ({what}); "
            f"the report would add them up, so {fix}"
        )
    days = (min(e, oe) - max(s, os_)).days + 1
    if os_ <= s and e <= oe:
        how = f"lies inside its {value} for {other}"
    elif s <= os_ and oe <= e:
        how = f"contains its {value} for {other}"
    else:
        how = f"overlaps its {value} for {other} on {days} day(s), {_day(max(s, os_))} to {_day(min(e, oe))}"
    hint = ""
    if days == 1 and s == oe:
        hint = " (is period_end the next period's first day? Dates are inclusive: write the last day)"
    return (
        f"overlapping {value} periods: rep {rep}'s {value} for {span} {how}; the days in both would "
        f"count twice{hint}, so {fix}"
    )


def _check_currencies(tables: dict[str, pd.DataFrame | None], problems: _Collector) -> None:
    """Amounts in several currencies cannot be summed: every row whose currency differs from the one most
    rows use (over opportunities, quotas and forecasts together) is a problem, and so is an empty currency
    among filled ones. The product has no exchange rates; the planner converts first."""
    codes = {
        name: frame["currency"].str.upper()
        for name in MONEY_TABLES
        if (frame := tables.get(name)) is not None and "currency" in frame.columns
    }
    filled = pd.concat([c[c.ne("")] for c in codes.values()]) if codes else pd.Series(dtype="string")
    if filled.empty:
        return
    counts = filled.value_counts()
    main = str(counts.index[0])
    if len(counts) > 1:
        listed = ", ".join(sorted(map(str, counts.index)))
        message = f"mixed currencies {listed} (most rows {main}); convert to one currency first"
        for name, code in codes.items():
            frame = tables[name]
            shown = code if frame is None else problems.cells(SPECS[name].file, frame, "currency")
            problems.rows(SPECS[name].file, "currency", code.ne(main) & code.ne(""), shown, message)
    for name, code in codes.items():
        problems.rows(
            SPECS[name].file,
            "currency",
            code.eq(""),
            code,
            f"empty currency while other rows give {main}: fill it in",
        )


def crm_currency(crm: CrmData) -> str | None:
    """The one currency code of the CRM's money tables, or None when they carry no currency column."""
    for name in MONEY_TABLES:
        frame = crm.get(name)
        if frame is not None and "currency" in frame.columns:
            filled = frame["currency"][frame["currency"].ne("")]
            if len(filled):
                return str(filled.iloc[0]).upper()
    return None


#: Dated columns of the history tables: what the CRM's date range is made of (an open deal's close date
#: is a plan, not data; quotas and forecasts are targets, not activity). The opportunities come first:
#: their first creation to their latest creation or close is the export's span (the forecast's "latest
#: date"); the other tables give the span only without them (activities often hold meetings planned
#: after the export).
DATED_COLUMNS = {
    "opportunities": ("created_date", "close_date"),
    "activities": ("date",),
    "time_log": ("date",),
    "leads": ("contacted_at", "responded_at"),
}


def data_range(tables: dict[str, pd.DataFrame | None]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last day of the CRM history (see ``DATED_COLUMNS``); None when it has no dated row."""
    for names in (("opportunities",), ("activities", "time_log", "leads")):
        parts = []
        for name in names:
            frame = tables.get(name)
            for col in DATED_COLUMNS[name] if frame is not None else ():
                if frame is None or col not in frame.columns:
                    continue
                dates = frame[col]
                if col == "close_date" and "status" in frame.columns:
                    dates = dates[frame["status"].isin(("won", "lost"))]
                parts.append(dates.dropna())
        dates = pd.concat(parts) if parts else pd.Series(dtype="datetime64[ns]")
        if not dates.empty:
            return pd.Timestamp(dates.min()).normalize(), pd.Timestamp(dates.max()).normalize()
    return None


def _owners_outside(accounts: pd.DataFrame, known_reps: pd.Index, roster_source: str) -> list[str]:
    """accounts.csv's owners missing from the roster are reps who left (the CRM's own roster dropped
    them: QA29 F11, 207 accounts of a departed R16 made report and forecast refuse the whole CRM), or
    reps a plan's scenario removed: one warning per rep, never an error (`report --plan` of a plan
    without R008 refused a roster-less CRM whose accounts R008 still owns)."""
    if "current_rep" not in accounts.columns:
        return []
    reps = accounts["current_rep"]
    unknown = reps[~reps.isin(known_reps) & reps.ne("")]
    return [
        f"rep {rep} owns {count:,} account(s) in {SPECS['accounts'].file} but is not in the reps roster "
        f"({roster_source}): taken as a rep who left"
        for rep, count in unknown.value_counts(sort=False).sort_index().items()
    ]


def departed_reps(
    tables: dict[str, pd.DataFrame | None], known_reps: pd.Index, roster_source: str
) -> tuple[tuple[str, ...], list[str]]:
    """Reps in the history tables but not in the roster: reps who left (every CRM has them). Their history
    is kept (it is the team's), under their own rep row; one warning per rep says where they appear."""
    rows: dict[str, list[str]] = {}
    for name in HISTORY_TABLES:
        frame = tables.get(name)
        if frame is None or "rep_id" not in frame.columns:
            continue
        reps = frame["rep_id"]
        unknown = reps[~reps.isin(known_reps) & reps.ne("")]
        for rep, count in unknown.value_counts(sort=False).sort_index().items():
            rows.setdefault(str(rep), []).append(f"{SPECS[name].file} {count:,} row(s)")
    warnings = [
        f"rep {rep} ({', '.join(where)}) is not in the reps roster ({roster_source}): taken as a departed "
        "rep; in the KPI report its history counts in the team's KPIs and shows on its own rep row, in "
        "no region or district (the forecast instead gives its deals to its accounts' reps). Add the rep "
        "to the roster (or give --reps) to place it."
        for rep, where in rows.items()
    ]
    return tuple(rows), warnings


#: A won or lost deal closing this long after the latest opportunity was created is warned about.
LATE_CLOSE_DAYS = 31


LOCAL_OFFSET = r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$"  # a time's offset

# a meeting's type: "meeting", qualified before ("customer meeting") or after a dash, colon or bracket
# ("meeting - onsite"), but not an email, a request or a cancellation about one (QA18 F7)
MEETING_TYPE = re.compile(r"^(?:[\w&/ ]+\s)?meetings?(?:\s*[-:(/,].*)?$")
NOT_A_MEETING = re.compile(r"\b(?:cancel\w*|no[- ]show|request\w*|e-?mails?|reschedul\w*|invit\w*)\b")


def is_meeting(activity_type: str) -> bool:
    """Whether an activity type (lower case, stripped) names a meeting held."""
    text = activity_type.strip()
    return bool(MEETING_TYPE.match(text)) and not NOT_A_MEETING.search(text)


def meeting_notes(tables: dict[str, pd.DataFrame | None], shown: int = 5) -> list[str]:
    """What prospect_meetings counts, when it is not plain: the activity types other than ``meeting``
    counted as meetings, or, when no activity is a meeting, the types there are (its 0 is then a
    naming question as much as a fact)."""
    acts = tables.get("activities")
    if acts is None or acts.empty or "meeting" not in acts.columns:
        return []
    counts = acts["type"].fillna("").value_counts()
    meetings = counts[[is_meeting(t) for t in counts.index]]

    def listed(c: pd.Series) -> str:
        return first_few((f"{t!r} ({n:,})" for t, n in c.items()), shown)

    if meetings.empty:
        return [
            f"activities.csv: no activity is a meeting (types: {listed(counts)}): prospect_meetings is 0 "
            "everywhere; a meeting's type is 'meeting', qualified or detailed (Customer Meeting, "
            "Meeting - onsite)"
        ]
    other = meetings.drop("meeting", errors="ignore")
    if other.empty:
        return []
    return [f"activities.csv: activity types counted as meetings besides 'meeting': {listed(other)}"]


def late_closes(tables: dict[str, pd.DataFrame | None], shown: int = 5) -> list[str]:
    """A warning for won/lost deals closing over ``LATE_CLOSE_DAYS`` after the latest creation of any
    opportunity (the nearest the export says of its own date): a closed deal cannot close after the
    export, so such a close_date is an expected date typed on a deal marked won (or a typo, 2062). They
    are kept (counted as closed on that date) but named: they stretch the CRM history's span past the
    export, so a later --period gets KPIs from them alone (QA5: 20 such deals made 2026Q4's win rate
    100% where the history ended in June)."""
    opps = tables.get("opportunities")
    if opps is None or not {"status", "created_date", "close_date"} <= set(opps.columns):
        return []
    latest = opps["created_date"].max()
    if pd.isna(latest):
        return []
    limit = pd.Timestamp(latest).normalize() + pd.Timedelta(days=LATE_CLOSE_DAYS)
    late = opps["status"].isin(("won", "lost")) & (opps["close_date"] > limit)
    idx = np.flatnonzero(late.to_numpy(dtype=bool, na_value=False))
    if idx.size == 0:
        return []
    closes = opps["close_date"].iloc[idx]
    rows = first_few((int(i) + 1 for i in idx), shown)
    return [
        f"{SPECS['opportunities'].file}: {idx.size:,} won/lost deal(s) close after {limit.date()}, over "
        f"{LATE_CLOSE_DAYS} days after the latest opportunity was created ({pd.Timestamp(latest).date()}), "
        f"from {closes.min().date()} to {closes.max().date()} (rows {rows}): a deal cannot close after "
        "the export was taken. If these are expected close dates the deals are open; as they stand they "
        "count as closed on those dates, and the KPI report's history is taken to run until the last of "
        "them (the forecast takes the export's date from the other deals)."
    ]


def unknown_accounts(tables: dict[str, pd.DataFrame | None], shown: int = 5) -> list[str]:
    """A warning for opportunities on accounts that accounts.csv does not list (an account deleted or
    merged since, or a typo): they count in the rep's and the team's KPIs as they stand, but belong to
    no account's owner and, under a plan, to no territory (QA40 F4: none was said). Also won deals of
    amount 0, which count in the win rate and lower the average deal size."""
    opps, accounts = tables.get("opportunities"), tables.get("accounts")
    out = []
    file = SPECS["opportunities"].file
    if (
        opps is not None
        and accounts is not None
        and {"account_id"} <= set(opps.columns) & set(accounts.columns)
    ):
        known = set(accounts["account_id"].dropna().astype(str))
        ids = opps["account_id"].astype(str)
        unknown = opps["account_id"].notna() & ids.ne("") & ~ids.isin(known)
        idx = np.flatnonzero(unknown.to_numpy(dtype=bool, na_value=False))
        if idx.size:
            names = sorted(set(ids.iloc[idx]))
            out.append(
                f"{file}: {idx.size:,} opportunit{'y' if idx.size == 1 else 'ies'} on "
                f"{counted(len(names), 'account')} not in {SPECS['accounts'].file} "
                f"({first_few(names, shown)}; "
                f"rows {first_few((int(i) + 1 for i in idx), shown)}): counted in their rep's and the "
                "team's KPIs; with a plan, in no territory"
            )
    if opps is not None and {"status", "amount"} <= set(opps.columns):
        zero = opps["status"].eq("won") & opps["amount"].eq(0)
        idx = np.flatnonzero(zero.to_numpy(dtype=bool, na_value=False))
        if idx.size:
            rows = first_few((int(i) + 1 for i in idx), shown)
            out.append(
                f"{file}: {idx.size:,} won deal(s) of amount 0 (rows {rows}): they count in the win rate "
                "and lower the average deal size"
            )
    return out


def read_opportunities(crm_dir: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The folder's opportunities table alone, read and typed by the rules ``load_crm`` reads it with
    (separator, decimal convention, thousands groups, header aliases, workbook sheet; statuses in lower
    case), and its problems; (None, []) when the folder has none. For ``compare``'s pipeline columns
    (QA27 F4: a bare CSV read turned "9,521.53" into no amount and every rep's pipeline into 0)."""
    problems = _Collector()
    path = _table_path(Path(crm_dir), "opportunities", problems)
    if not path.is_file():
        return None, problems.located()
    spec = SPECS["opportunities"]
    raw = read_any_table(path, spec, spec.file, problems)
    if raw is None:
        return None, problems.located()
    typed = _convert(raw, spec, problems)
    _check_rules("opportunities", typed, problems)
    return (None if problems.problems else typed), problems.located()


def load_crm(
    crm_dir: Path,
    *,
    reps: pd.DataFrame | None = None,
    reps_source: str = "reps.csv",
    accounts_path: Path | None = None,
    roster_of_plan: bool = False,
    said: Collection[str] = (),
    only: Collection[str] | None = None,
) -> CrmData:
    """Load every CRM table found in ``crm_dir``, or the tables named in ``only`` (those a command uses:
    the forecast reads no activities, and a bad byte there must not stop it; QA67), the others left as
    ``None`` and not listed as missing.

    Warnings are logged (before the problems, if any, are raised), those in ``said`` (a load of the same
    folder earlier in the command) not again.
    ``reps`` is the roster used to check ``rep_id`` references when the folder has no ``reps.csv``
    (from ``--reps`` or the plan; ``roster_of_plan``: the plan's, so an account owner missing from it is
    a rep the plan's scenario dropped, warned about, not an error); a ``--reps`` roster the folder's own
    overrides is warned about, naming both files. ``accounts_path`` overrides
    ``crm_dir/accounts.csv``.
    Raises ``InputError`` listing every problem in every table.
    """
    crm_dir = Path(crm_dir)
    problems = _Collector()
    if not crm_dir.is_dir():
        raise InputError(
            Problem(file=str(crm_dir), row=None, column=None, message="the CRM folder does not exist")
        )
    tables: dict[str, pd.DataFrame | None] = {}
    missing: dict[str, str] = {}
    paths = {name: _table_path(crm_dir, name, problems) for name in SPECS if only is None or name in only}
    if accounts_path is not None:
        paths["accounts"] = Path(accounts_path)
    for name, path in paths.items():
        if not path.is_file():
            tables[name] = None
            others = ", ".join(f"{name}{ext}" for ext in TABLE_EXTENSIONS[1:])
            missing[name] = f"{SPECS[name].file} not found in {crm_dir.name}/ (nor {others})"
            continue
        raw = read_any_table(path, SPECS[name], SPECS[name].file, problems)
        if raw is None:
            tables[name] = None
            continue
        typed = _convert(raw, SPECS[name], problems)
        _check_rules(name, typed, problems)
        tables[name] = typed
    _check_currencies(tables, problems)
    roster = tables.get("reps")
    borrowed = roster is None and reps is not None
    # the CRM's own roster wins over --reps and the plan's
    source = f"{crm_dir.name}/{paths.get('reps', crm_dir / 'reps.csv').name}"
    if borrowed:
        roster = reps
        tables["reps"] = reps
        missing.pop("reps", None)
        source = reps_source
        log.info("rep roster taken from %s", reps_source)
    departed: tuple[str, ...] = ()
    warnings: list[str] = []
    if reps is not None and not borrowed and roster is not None:
        roster, note = districts_from_other_roster(roster, source, reps, reps_source)
        tables["reps"] = roster
        if not note and not roster_of_plan:  # documented, but said: --reps is unused
            note = [
                f"--reps {reps_source} is not used: the CRM folder has its own roster {source}, which is "
                f"used (remove it from the folder to use {reps_source})"
            ]
        warnings += note
    if roster is not None and "rep_id" in roster.columns:
        known = pd.Index(roster["rep_id"].astype("string"))
        accounts = tables.get("accounts")
        if accounts is not None:  # owners the roster lacks left the team (QA29 F11), never typing errors
            warnings += _owners_outside(accounts, known, source)
        departed, notes = departed_reps(tables, known, source)
        warnings += notes
    else:
        log.warning("no reps roster: rep references in the CRM tables are not checked")
    # said before the problems stop the run (QA40 F8: a close date in 2027 and an unknown rep were shown
    # only once the run's errors were fixed), and once per command (F9: `report --forecast-horizon` loads
    # the CRM again for the forecast and printed each warning twice)
    warnings = [*warnings, *late_closes(tables), *unknown_accounts(tables), *meeting_notes(tables)]
    # a table of the folder as the roster is named (crm/opportunities.csv), one from elsewhere by its path
    named = {
        SPECS[name].file: f"{crm_dir.name}/{path.name}" if path.parent == crm_dir else str(path)
        for name, path in paths.items()
        if path.is_file()
    }
    warnings = [_named(w, named) for w in warnings]
    for warning in warnings:
        if warning not in said:
            log.warning("%s", warning)
    if problems.problems:
        raise InputError(problems.located())
    return CrmData(tables=tables, missing=missing, warnings=warnings, departed=departed, roster_source=source)


def _named(warning: str, shown: Mapping[str, str]) -> str:
    """A warning's bare table names (``accounts.csv``) as ``shown`` names them (QA71 F4: "in accounts.csv"
    for the accounts of ``--accounts ext/my_accounts.csv``); a name already in a path (the roster's
    ``crm/reps.csv``) is left as it is."""
    for bare, path in shown.items():
        if path != bare:  # the path as a literal replacement (a Windows path's backslashes kept)
            warning = re.sub(rf"(?<![\w/.\\-]){re.escape(bare)}\b", path.replace("\\", "\\\\"), warning)
    return warning


def _labels(frame: pd.DataFrame, column: str) -> pd.Series:
    """rep_id -> the column's label (``level_outputs.level_labels``; "" for a blank cell or no such
    column), the first row of a rep listed twice."""
    from territory_planner.level_outputs import level_labels

    values = level_labels(frame, column).to_numpy() if column in frame else [""] * len(frame)
    out = pd.Series(values, index=frame["rep_id"].astype("string").to_numpy(), dtype=object)
    return out[~out.index.duplicated()]


def districts_from_other_roster(
    roster: pd.DataFrame, source: str, other: pd.DataFrame, other_source: str
) -> tuple[pd.DataFrame, list[str]]:
    """The CRM's own roster (``source``) when it has no districts and the other roster (``--reps`` or the
    plan's, ``other_source``) has them for the same reps: their districts, so that ``kpis.csv`` has its
    district level (QA20 F1: reps.csv with 7 districts and the sample CRM's roster without the column:
    no district KPIs and no word why). Not when the two rosters put a rep in different regions: the
    districts would then not add up to the CRM's regions (QA15 H3); a warning says so. Returns the roster
    and the warnings."""
    if "rep_id" not in roster or "rep_id" not in other:
        return roster, []
    if (_labels(roster, "district") != "").any() or not (_labels(other, "district") != "").any():
        return roster, []
    filled = roster["rep_id"].astype("string").map(_labels(other, "district")).fillna("")
    if not (filled != "").any():
        return roster, []
    if "region" in roster and "region" in other:
        ours_r, theirs_r = _labels(roster, "region"), _labels(other, "region")
        common = ours_r.index.intersection(theirs_r.index)
        a, b = ours_r.reindex(common), theirs_r.reindex(common)
        differ = common[(a != "").to_numpy() & (b != "").to_numpy() & (a != b).to_numpy()]
        if len(differ):
            first = str(differ[0])
            return roster, [
                f"the CRM's roster {source} has no district column, and the districts of {other_source} "
                f"are not used for it: the two rosters put {len(differ)} rep(s) in different regions "
                f"(e.g. {first}: {a[first]} in {source}, {b[first]} in {other_source}), so their districts "
                f"would not add up to the regions. kpis.csv has no district level: add a district column "
                f"to {source}"
            ]
    out = roster.copy()
    out["district"] = pd.array(filled.to_numpy(), dtype="string")
    missing = int((filled == "").sum())
    tail = f"; {missing} of its reps have none there" if missing else ""
    return out, [
        f"the CRM's roster {source} is used and has no district column: the districts of {other_source} "
        f"are used for its reps (kpis.csv level district){tail}"
    ]


def load_roster(path: Path) -> pd.DataFrame:
    """Read a reps table (rep_id, optional name, region, quota) to check CRM rep references against."""
    problems = _Collector()
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(path.name, None, None, f"file not found: {path}"))
    raw = read_any_table(path, SPECS["reps"], path.name, problems)
    frame = None if raw is None else _convert(raw, SPECS["reps"], problems)
    if problems.problems or frame is None:
        raise InputError(problems.located())
    return frame


def roster_from_plan(assignments: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """The plan's reps plus every current rep of its accounts, as a roster."""
    cols = [c for c in ("rep_id", "name", "region", "district") if c in territories.columns]
    roster = territories[cols].astype("string")
    current = assignments["current_rep"].dropna().astype("string")
    extra = pd.Index(current[current.ne("")].unique()).difference(pd.Index(roster["rep_id"]))
    if len(extra):
        roster = pd.concat([roster, pd.DataFrame({"rep_id": extra.astype("string")})], ignore_index=True)
    return roster
