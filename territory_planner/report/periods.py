"""Reporting periods: ``START:END`` (ISO dates, inclusive), or ``2026Q3``, ``2026-07``, ``2026``."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd


class PeriodError(ValueError):
    """The period text cannot be understood."""


@dataclass(frozen=True)
class Period:
    """A closed date interval ``[start, end]``; both days belong to the period."""

    start: date
    end: date
    label: str

    @property
    def start_ts(self) -> pd.Timestamp:
        """First instant of the period."""
        return pd.Timestamp(self.start)

    @property
    def stop_ts(self) -> pd.Timestamp:
        """First instant *after* the period (midnight after ``end``): timestamps use ``< stop_ts``."""
        return pd.Timestamp(self.end + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _iso(text: str, whole: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise PeriodError(f"{text.strip()!r} in period {whole!r} is not an ISO date (YYYY-MM-DD)") from exc


def parse_period(text: str) -> Period:
    """Parse a period.

    >>> parse_period("2026Q3")
    Period(start=datetime.date(2026, 7, 1), end=datetime.date(2026, 9, 30), label='2026Q3')
    >>> parse_period("2026-02").end
    datetime.date(2026, 2, 28)
    >>> parse_period("2026-01-15:2026-03-31").days
    76
    """
    raw = (text or "").strip()
    if not raw:
        raise PeriodError("the period is empty; use START:END, 2026Q3, 2026-07 or 2026")
    if ":" in raw:
        left, _, right = raw.partition(":")
        start, end = _iso(left, raw), _iso(right, raw)
        if end < start:
            raise PeriodError(f"period {raw!r} ends ({end}) before it starts ({start})")
        return Period(start, end, raw)
    if m := _QUARTER.match(raw):
        year, q = int(m[1]), int(m[2])
        first_month = 3 * (q - 1) + 1
        last_month = first_month + 2
        end = date(year, last_month, calendar.monthrange(year, last_month)[1])
        return Period(date(year, first_month, 1), end, f"{year}Q{q}")
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {raw!r}: month {month} is not 1..12")
        end = date(year, month, calendar.monthrange(year, month)[1])
        return Period(date(year, month, 1), end, f"{year}-{month:02d}")
    if m := _YEAR.match(raw):
        year = int(m[1])
        return Period(date(year, 1, 1), date(year, 12, 31), str(year))
    raise PeriodError(
        f"cannot read period {raw!r}; use START:END (ISO dates, inclusive), 2026Q3, 2026-07 or 2026"
    )
