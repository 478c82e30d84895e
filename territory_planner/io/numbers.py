"""Numbers written as text, read the way the file's locale wrote them, never guessed.

A comma-separated (or tab-separated) file writes numbers with a decimal point; a comma in a number is
accepted only as strict thousands grouping (``1,234,567.5``), so a decimal comma (``"51,7"``) is a
problem with a hint rather than 517. A semicolon-separated file is what Excel writes where the decimal
separator is a comma (de-DE, fr-FR, pt-BR, ...): there ``51,7`` is 51.7 and dots in such a cell must be
strict grouping (``1.234,5``). A cell without a comma keeps its point as the decimal point, except that a
strictly grouped ``1.234`` next to decimal commas in the same column is ambiguous and reported.
"""

from __future__ import annotations

import re

import pandas as pd

_COMMA_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DOT_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+([eE][+-]?\d+)?$")


def _point_text(cell: str, decimal: str) -> str | None:
    """The cell rewritten with a decimal point and no grouping, or None when it cannot be read."""
    if "," not in cell:
        return cell
    if decimal == "," and _DECIMAL_COMMA.match(cell):
        return cell.replace(".", "").replace(",", ".")
    if _COMMA_GROUPED.match(cell):
        return cell.replace(",", "")
    return None


def parse_numbers(text: pd.Series, decimal: str = ".") -> tuple[pd.Series, dict[int, str]]:
    """Floats for stripped text cells ('' -> NaN), and a hint per position that could not be read."""
    hints: dict[int, str] = {}
    rewritten: list[str | None] = []
    for cell in text.tolist():
        rewritten.append(None if cell == "" else _point_text(cell, decimal))
    values = pd.to_numeric(pd.Series(rewritten, index=text.index, dtype=object), errors="coerce").astype(
        float
    )
    comma_decimals = decimal == "," and any("," in c for c in text.tolist())
    for pos, (cell, new) in enumerate(zip(text.tolist(), rewritten, strict=True)):
        if cell == "":
            continue
        if new is None:
            hints[pos] = (
                "a decimal comma? in a comma-separated file write 51.7"
                if decimal == "." and re.fullmatch(r"[+-]?\d+,\d+", cell)
                else ""
            )
        elif comma_decimals and _DOT_GROUPED.match(cell):
            hints[pos] = "ambiguous next to decimal commas in this column: write 1234 or 1,234"
            values.iloc[pos] = float("nan")
    return values, hints
