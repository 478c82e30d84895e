"""The time layout of a forecast: cut-off, monthly axis, horizon months and the backtest windows.

Months are integers (``year * 12 + month - 1``). The cut-off is the first instant that is *not* known:
the horizon's start, or the day after the CRM's latest date when the export is older than that. Only
months wholly before the cut-off enter the monthly series. When the export ends more than a month before
the horizon, the months in between are a ``gap`` that every forecast (and every backtest window) steps
over, so that the backtest asks the same question as the forecast.

Backtest window ``j`` is the horizon moved back by ``j * step`` months (``step`` = the horizon's length in
whole months): its training data end ``j * step`` months before the forecast's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territory_planner.report.periods import Period

#: Backtest windows at most (newest first); at least ``MIN_WINDOWS`` are reported when history allows.
MAX_WINDOWS = 8
MIN_WINDOWS = 4
#: A window needs this many months of training history to be scored (the seasonal naive baseline's).
MIN_TRAIN_MONTHS = 12


def month_of(ts: pd.Timestamp) -> int:
    return int(ts.year) * 12 + int(ts.month) - 1


def month_start(m: int) -> pd.Timestamp:
    return pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1)


@dataclass(frozen=True)
class Window:
    """One forecast question: training months ``< origin``, the answer summed over ``[start, end]``."""

    index: int  # 0 = the horizon itself, j >= 1 = backtest window j periods back
    origin: int  # month index: training months are < origin
    start: pd.Timestamp  # first day of the window
    end: pd.Timestamp  # last day of the window (inclusive)
    cutoff: pd.Timestamp  # first instant not known at this origin (for the open pipeline)
    label: str
    # share of each of its months inside the window, when it differs from the horizon's (a START:END
    # horizon's window shifted into months of other lengths); None: the horizon's
    weights: np.ndarray | None = field(default=None, compare=False)

    @property
    def stop(self) -> pd.Timestamp:
        return self.end + pd.Timedelta(days=1)


@dataclass(frozen=True)
class Layout:
    horizon: Period
    as_of: pd.Timestamp  # latest date in the opportunities
    cutoff: pd.Timestamp  # first instant not known for the forecast itself
    first_month: int  # first month of the history (team)
    end_month: int  # exclusive: months < end_month are fully known
    gap: int  # months between end_month and the horizon's first month
    weights: np.ndarray  # share of each horizon month inside the horizon (1.0 for whole months)
    step: int  # months between backtest windows
    windows: tuple[Window, ...]  # index 0 (the horizon) then backtest windows, newest first

    @property
    def steps(self) -> int:
        """Months each model forecasts: the gap plus the horizon's months."""
        return self.gap + len(self.weights)

    @property
    def backtest(self) -> tuple[Window, ...]:
        return self.windows[1:]

    def total(self, monthly: np.ndarray, window: Window | None = None) -> np.ndarray:
        """Total of monthly forecasts (last axis = ``steps`` months) over the horizon, or over ``window``'s
        own days (QA97 F5: the window 2025-04-15:2025-05-14 was given the horizon's January and February
        shares, 17/31 and 14/28, where its own are 16/30 and 14/31: 6.4% on its baseline)."""
        return np.asarray(monthly[..., self.gap :] @ self.window_weights(window), dtype="float64")

    def window_weights(self, window: Window | None) -> np.ndarray:
        """The share of each month inside ``window`` (the horizon's when None)."""
        return self.weights if window is None or window.weights is None else window.weights

    def scored_before(self, window: Window) -> list[Window]:
        """Backtest windows whose actuals were fully known at ``window``'s origin."""
        return [w for w in self.backtest if w.end < window.cutoff and w.index > window.index]


def _label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    months = month_of(end) - month_of(start) + 1
    whole = start.day == 1 and (end + pd.Timedelta(days=1)).day == 1
    if whole and months == 1:
        return f"{start.year}-{start.month:02d}"
    if whole and months == 3 and start.month % 3 == 1:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if whole and months == 12 and start.month == 1:
        return str(start.year)
    return f"{start.date().isoformat()}:{end.date().isoformat()}"


def _weights(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    out = []
    for m in range(month_of(start), month_of(end) + 1):
        first = month_start(m)
        last = month_start(m + 1) - pd.Timedelta(days=1)
        lo, hi = max(first, start), min(last, end)
        out.append(((hi - lo).days + 1) / ((last - first).days + 1))
    return np.asarray(out, dtype="float64")


def shifted(start: pd.Timestamp, end: pd.Timestamp, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end]`` moved back by ``months`` (a quarter stays a quarter, a month a whole month)."""
    ws = start - pd.DateOffset(months=months)
    we = end + pd.Timedelta(days=1) - pd.DateOffset(months=months) - pd.Timedelta(days=1)
    return ws, we


def past_periods(layout: Layout, count: int) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Up to ``count`` whole past periods like the horizon, known before the cut-off, oldest first."""
    start, end = pd.Timestamp(layout.horizon.start), pd.Timestamp(layout.horizon.end)
    out: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    for j in range(1, 400):
        ws, we = shifted(start, end, j * layout.step)
        if month_of(ws) < layout.first_month or len(out) == count:
            break
        if we < layout.cutoff:
            out.append((_label(ws, we), ws, we))
    return out[::-1]


@dataclass(frozen=True)
class OpenPeriod:
    """A period like the horizon between the last whole past period and the horizon, when the export ends
    before the horizon: partly known (``known_to`` its last known day) or not known at all (None). It is
    no backtest period (its actual is not whole); the chart shows what is known of it, marked so."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    known_to: pd.Timestamp | None


def open_periods(layout: Layout) -> list[OpenPeriod]:
    """The periods like the horizon that end on or after the cut-off and start before the horizon,
    oldest first (QA8: a CRM ending 2026-09-29 and horizon 2026Q4 left 2026Q3 out of the chart, whose
    axis went from 2026Q2 to 2026Q4)."""
    start, end = pd.Timestamp(layout.horizon.start), pd.Timestamp(layout.horizon.end)
    out: list[OpenPeriod] = []
    for j in range(1, 400):
        ws, we = shifted(start, end, j * layout.step)
        if we < layout.cutoff:
            break
        if we < start:  # a shifted window reaching into the horizon is not a period before it
            known = layout.cutoff - pd.Timedelta(days=1) if ws < layout.cutoff else None
            out.append(OpenPeriod(_label(ws, we), ws, we, known))
    return out[::-1]


def month_label(m: int) -> str:
    return f"{m // 12}-{m % 12 + 1:02d}"


def build_layout(horizon: Period, first_date: pd.Timestamp, as_of: pd.Timestamp) -> Layout:
    """The layout for ``horizon`` given the CRM's first close date and its latest date."""
    start, end = pd.Timestamp(horizon.start), pd.Timestamp(horizon.end)
    cutoff = min(start, as_of.normalize() + pd.Timedelta(days=1))
    end_month = month_of(cutoff)  # a cut-off inside a month leaves that month out (it is partial)
    first_month = month_of(first_date)
    gap = max(month_of(start) - end_month, 0)
    weights = _weights(start, end)
    whole = start.day == 1 and (end + pd.Timedelta(days=1)).day == 1
    step = len(weights) if whole else max(1, round(horizon.days / 30.44))
    windows = [Window(0, end_month, start, end, cutoff, horizon.label)]
    j = 0
    while len(windows) <= MAX_WINDOWS:
        j += 1
        origin = end_month - j * step
        if origin - first_month < MIN_TRAIN_MONTHS:
            break
        ws, we = shifted(start, end, j * step)
        if we >= cutoff:  # its actuals are not known yet (the export ends before the horizon)
            continue
        own = _weights(ws, we)
        kept = own if len(own) == len(weights) and not np.allclose(own, weights) else None
        windows.append(Window(j, origin, ws, we, month_start(origin), _label(ws, we), kept))
    return Layout(
        horizon=horizon,
        as_of=as_of,
        cutoff=cutoff,
        first_month=first_month,
        end_month=end_month,
        gap=gap,
        weights=weights,
        step=step,
        windows=tuple(windows),
    )
