"""Numbers written as text, read the way the file's locale wrote them, never guessed.

Every cell has a reading under each of the two conventions spreadsheets use: the decimal point (``.``
decimals, ``,`` thousands: ``1,234,567.5``) and the decimal comma (``,`` decimals, ``.`` thousands:
``1.234.567,5``). Grouping must be strict (groups of three digits, the first not starting with 0). A cell
readable under one convention only is evidence for it (``31,79177``, ``3,96``, ``1.188.945`` and
``1.234,5`` for the comma; ``3.96``, ``0.123``, ``1,982,505`` and ``1,234.5`` for the point); a cell both
read alike (``945``) says nothing; a cell they read differently (``21.846``: 21846 or 21.846; ``1,234``:
1.234 or 1234) is decided by the file's convention, and is a problem when the file has none.

The file's convention (``decide``):

- comma-separated: the decimal point (the separator itself rules a decimal comma out); a decimal comma
  such as ``"51,7"`` is a problem with a hint, never 517;
- semicolon- or tab-separated: the evidence in the columns read as numbers decides. Evidence for one
  convention only: that one. No evidence at all: the decimal comma for a semicolon file (Excel writes
  ``;`` where the decimal separator is a comma: de-DE, fr-FR, pt-BR, ...), none for a tab file. Evidence
  for both: none, but a column whose own cells show one convention only is read by it;
- a semicolon file whose point is shown by some columns only (coordinates pasted from a geocoder) and a
  column of whole numbers grouped by points (``92.604``) and nothing else: that column has no convention;
- no convention: cells read alike under both are read, the others are reported as ambiguous with the
  evidence (or its absence) named.

Tables that are not CSV (Excel text cells, Parquet or GeoPackage text columns) use the decimal point.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

POINT, COMMA = ".", ","

_SIGN = r"[+-]?"
_EXP = r"(?:[eE][+-]?\d+)?"
# the decimal point: plain digits or strict comma groups, then an optional point fraction
_POINT_NUMBER = re.compile(
    rf"^{_SIGN}(?:[1-9]\d{{0,2}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d*)?{_EXP}|\.\d+{_EXP})$"
)
# the decimal comma: plain digits or strict dot groups, then an optional comma fraction
_COMMA_NUMBER = re.compile(
    rf"^{_SIGN}(?:[1-9]\d{{0,2}}(?:\.\d{{3}})+(?:,\d+)?|\d+(?:,\d*)?{_EXP}|,\d+{_EXP})$"
)
# thousands written with a space (fr-FR writes a no-break space) or an apostrophe (de-CH): the same under
# both conventions, so they are dropped before reading
_SPACE_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(?:[ \u00a0\u202f'\u2019]\d{3})+(?:[.,]\d+)?$")
_SPACES = re.compile(r"[ \u00a0\u202f'\u2019]")
# a cell holding none of these is read alike by both conventions
_MARKS = "[.,' \u00a0\u202f\u2019]"
_POINT_MARKS = "[,' \u00a0\u202f\u2019]"
_COMMA_DECIMAL_HINT = re.compile(r"^[+-]?\d+,\d+$")


def _readings(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's value under the decimal comma and under the decimal point (NaN: not a number there)."""
    grouped = cells.str.match(_SPACE_GROUPED).to_numpy(dtype=bool)
    if grouped.any():
        cells = cells.where(~grouped, cells.str.replace(_SPACES, "", regex=True))
    comma_text = cells.where(cells.str.match(_COMMA_NUMBER).to_numpy(dtype=bool))
    comma_text = comma_text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    point_text = cells.where(cells.str.match(_POINT_NUMBER).to_numpy(dtype=bool)).str.replace(
        ",", "", regex=False
    )
    return (
        pd.to_numeric(comma_text, errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(point_text, errors="coerce").to_numpy(dtype=float),
    )


def _shown(value: float) -> str:
    return f"{value:.15g}"


@dataclass(frozen=True)
class Seen:
    """A cell that shows a decimal convention: where it is and what it holds."""

    column: str
    row: int  # 1-based data row
    cell: str

    def __str__(self) -> str:
        return f"{self.column} {self.cell!r} on row {self.row}"


@dataclass(frozen=True)
class Convention:
    """The decimal separator a table's numbers use, and why; ``decimal`` None when the file does not say."""

    decimal: str | None
    comma_seen: Seen | None = None
    point_seen: Seen | None = None
    reason: str | None = None  # why the file's convention does not hold for a column (``for_column``)
    # columns the file's decimal point does not decide (``decide``): each column's own convention
    columns: Mapping[str, Convention] = field(default_factory=dict)

    def for_column(self, name: str) -> Convention:
        """The convention of the number column ``name``: the file's, unless ``decide`` found that column
        written otherwise."""
        return self.columns.get(name, self)

    def ambiguity(self) -> str:
        """Why a cell read differently by the two conventions cannot be read (``decimal`` is None)."""
        if self.reason:
            return self.reason
        if self.comma_seen and self.point_seen:
            return (
                f"the file has both decimal commas ({self.comma_seen}) and decimal points ({self.point_seen})"
            )
        return "no number in the file shows its decimal separator (such as 3,5 or 3.5)"


FIXED_POINT = Convention(POINT)


def _marked(cells: pd.Series, marks: str = _MARKS) -> np.ndarray:
    """Positions of the cells the two conventions may read differently (a mark or a group separator)."""
    return np.flatnonzero(cells.str.contains(marks, regex=True).to_numpy(dtype=bool))


def decide(columns: Mapping[str, pd.Series], separator: str | None) -> Convention:
    """The convention of a table whose number columns hold ``columns`` (stripped text cells).

    ``separator`` is the CSV's separator (``,``, ``;`` or a tab), None for a table that is not a CSV.
    """
    if separator in (None, ","):
        return FIXED_POINT
    comma_seen = point_seen = None
    own: dict[str, tuple[Seen | None, Seen | None]] = {}  # each column's first cell of each convention
    for name, cells in columns.items():
        marked = _marked(cells)
        comma, point = _readings(cells.iloc[marked])
        only_comma = np.flatnonzero(~np.isnan(comma) & np.isnan(point))
        only_point = np.flatnonzero(np.isnan(comma) & ~np.isnan(point))
        seen = [
            Seen(name, int(marked[only[0]]) + 1, str(cells.iloc[int(marked[only[0]])])) if only.size else None
            for only in (only_comma, only_point)
        ]
        own[name] = (seen[0], seen[1])
        comma_seen = comma_seen or seen[0]
        point_seen = point_seen or seen[1]
    if comma_seen and not point_seen:
        return Convention(COMMA, comma_seen=comma_seen)
    if point_seen and not comma_seen:
        return Convention(POINT, point_seen=point_seen, columns=_grouped_columns(columns, point_seen))
    if not comma_seen and separator == ";":
        return Convention(COMMA)  # no evidence either way: Excel writes ';' where the decimal is a comma
    # both (or, in a tab file, neither): a column showing one convention only is read by it (QA22 M1:
    # coordinates pasted with points beside potentials Excel wrote 1.234.567); the others' cells the two
    # conventions read differently are ambiguous
    by_column = {
        name: Convention(COMMA, comma_seen=c) if c else Convention(POINT, point_seen=pt)
        for name, (c, pt) in own.items()
        if (c is None) != (pt is None)
    }
    return Convention(None, comma_seen, point_seen, columns=by_column)


# a whole number grouped by points (``92.604``, ``1.234.567``): thousands under the decimal comma
_POINT_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+$")


def _grouped_columns(columns: Mapping[str, pd.Series], point_seen: Seen) -> dict[str, Convention]:
    """QA22 M1: a semicolon file whose decimal point is shown by some columns (coordinates pasted from a
    geocoder, ``52.52437``) and a column whose every cell with a point reads as a whole number grouped
    by points (``92.604``: what de-DE Excel writes for 92,604), with no point of its own that only the
    decimal point reads. The file's point does not decide that column: it read 1,000 times too small,
    silently. Its grouped cells are ambiguous, with the reason (a cell only the decimal comma reads,
    ``1.234.567``, is evidence for both conventions in the file: ``decide`` reads that column by it)."""
    out: dict[str, Convention] = {}
    for name, cells in columns.items():
        if name == point_seen.column:
            continue
        marked = cells.iloc[_marked(cells)]
        if marked.empty or not marked.str.match(_POINT_GROUPED).to_numpy(dtype=bool).all():
            continue
        example = str(marked.iloc[0])
        reason = (
            f"the file's other columns use a decimal point ({point_seen}), but every {name} cell with a "
            f"point, such as {example!r}, reads as a whole number grouped by points, as a semicolon "
            "file's spreadsheet writes it"
        )
        out[name] = Convention(None, point_seen=point_seen, reason=reason)
    return out


def parse_numbers(
    text: pd.Series, convention: Convention | str = FIXED_POINT
) -> tuple[pd.Series, dict[int, str]]:
    """Floats for stripped text cells ('' -> NaN), and a hint per position that could not be read.

    ``convention`` may be given as its decimal separator (``"."`` or ``","``).
    """
    if isinstance(convention, str):
        convention = Convention(convention)
    text = text.astype(str)
    # with the decimal point, a cell whose only mark is a point is what float() reads
    marked = _marked(text, _POINT_MARKS if convention.decimal == POINT else _MARKS)
    plain = text.copy()
    plain.iloc[marked] = ""
    # cells without marks: what float() reads ("12", "-3", "1e5"; "nan" and "inf" are left to the checks)
    values = pd.to_numeric(plain.where(plain != ""), errors="coerce").to_numpy(dtype=float, copy=True)
    comma, point = _readings(text.iloc[marked])
    if convention.decimal == COMMA:
        chosen = comma
    elif convention.decimal == POINT:
        chosen = point
    else:  # the file does not say: a cell is read when the two readings agree or only one exists
        chosen = np.where(np.isnan(comma), point, comma)
    ambiguous = (convention.decimal is None) & ~np.isnan(comma) & ~np.isnan(point) & (comma != point)
    chosen = np.where(ambiguous, np.nan, chosen)
    values[marked] = chosen
    ambiguous_at = set(marked[ambiguous].tolist())
    hints: dict[int, str] = {}
    bad = np.flatnonzero(np.isnan(values) & (text != "").to_numpy(dtype=bool))  # few: read again for a hint
    cells = text.iloc[bad].tolist()
    money = _currency_hints(cells, convention)
    for pos, cell, amount, c, p in zip(bad.tolist(), cells, money, *_readings(text.iloc[bad]), strict=True):
        if pos in ambiguous_at:
            hints[pos] = (
                f"ambiguous: {_shown(c)} if the file's decimal separator is the comma, {_shown(p)} "
                f"if it is the point, and {convention.ambiguity()}; write it without thousands separators"
            )
        elif hint := amount or _hint(cell, convention.decimal, float(c), float(p)):
            hints[pos] = hint
    return pd.Series(values, index=text.index, dtype=float), hints


# EUR 12, 12 USD, 1.5 MIO, 2 Mio.
_CODE = re.compile(r"^([A-Z]{2,4})\s*(?=[+\-\d])|(?<=\d)\s*([A-Z]{2,4}|Mio|Mrd)\.?$")
# ISO 4217: three capitals are a currency only if they are one (QA32 F-a: "1.0 FTE" and "20 HRS" were
# called currency signs and pointed at --currency)
_ISO_4217_TEXT = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW "
    "KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD "
    "NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD "
    "SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES "
    "VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL "
)
ISO_4217 = frozenset(_ISO_4217_TEXT.split())
# multipliers written after an amount ("1.5 MIO", German sheets): the amount in full is meant
MULTIPLIERS = {"MIO": 1e6, "MRD": 1e9, "MM": 1e6, "BN": 1e9, "TEUR": 1e3, "TSD": 1e3, "TUSD": 1e3}
MULTIPLIERS |= {k.title(): v for k, v in MULTIPLIERS.items() if len(k) == 3}  # "Mio.", "Mrd" (QA33 F15)


def _currency_hints(cells: list[str], convention: Convention) -> list[str]:
    """Per cell, when it holds an amount with its currency (``€2,277,307``, ``2 277 307 €``,
    ``$1,200.00``, ``EUR 12``), the hint: the amount it reads as once the sign is taken out, and where the
    sign belongs; else "" (QA25 F3: 692 rows of "potential is not a number" said nothing of the euro sign
    in each). The bare amounts are read in one pass (a cell at a time took 185 s for 50,000 cells)."""
    signs: list[str] = []
    bare: list[str] = []
    for cell in cells:
        sign = "".join(ch for ch in cell if unicodedata.category(ch) == "Sc")
        code = _CODE.search(cell)
        if not sign and code is None:
            signs.append("")
            bare.append("")
            continue
        word = (code.group(1) or code.group(2)) if code is not None else ""
        # a multiplier wins over a sign beside it: "$1.5MM" is 1,500,000 dollars (QA33 F18)
        signs.append(word if word in MULTIPLIERS else sign or word)
        bare.append(_CODE.sub("", "".join(ch for ch in cell if unicodedata.category(ch) != "Sc")).strip())
    out = [""] * len(cells)
    held = [k for k, b in enumerate(bare) if b]
    if not held:
        return out
    values, _ = parse_numbers(pd.Series([bare[k] for k in held]), convention)
    for k, v in zip(held, values.tolist(), strict=True):
        if math.isnan(v):
            continue
        sign = signs[k]
        if sign in MULTIPLIERS:
            full = _shown(v * MULTIPLIERS[sign])
            out[k] = f"{sign!r} for {MULTIPLIERS[sign]:,.0f}? write the amount in full, {full}"
        elif sign.isalpha() and sign not in ISO_4217:
            out[k] = f"a unit {sign!r} in the cell? write the number alone, {_shown(v)}"
        else:
            out[k] = (
                f"a currency sign {sign!r} in the cell? write the amount alone, {_shown(v)}; "
                "--currency sets the sign the outputs show"
            )
    return out


def _hint(cell: str, decimal: str | None, comma: float, point: float) -> str:
    if decimal == POINT and not math.isnan(comma):
        if _COMMA_DECIMAL_HINT.match(cell):
            return f"a decimal comma? write {_shown(comma)} with a decimal point"
        return f"'.' for thousands or a decimal comma? write {_shown(comma)} with a decimal point"
    if decimal == COMMA and not math.isnan(point):
        written = _shown(point).replace(".", ",")
        return f"a decimal point in a file whose decimal separator is the comma? write {written}"
    return ""
