"""The open pipeline as a signal: expected won amount, inside a window, of the deals open at its cut-off.

A window's won amount is what closes from deals already open at the cut-off plus what closes from deals
created after it. ``pipeline_signal`` estimates the first part, ``pipeline_share`` says how large that part
usually is, and the engine's pipeline candidates are ``signal + (1 - share) * time-series forecast``.

* At a cut-off after the export's date (the live forecast) the CRM's own fields are what is known:
  amount x probability of each open deal whose expected close date falls in the window (an overdue deal
  is expected at the cut-off, unless it is stale: older than all but ``STALE_TAIL`` of the recent
  cycles, as the rebuilt pipeline below counts it; ``stale_open``).
* At an earlier cut-off (a backtest window) the export only holds today's stage, so the pipeline is
  rebuilt from what was known then: the deals created before the cut-off and not closed by it, each with
  its rep's win rate over the year before (shrunk toward the team's) as probability, and the chance that
  a deal of its age closes inside the window from the sales cycles of the deals closed in the two years
  before. Nothing closed after the cut-off is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_planner.forecast.history import History
from territory_planner.forecast.layout import Window, month_start
from territory_planner.report.kpis import RATE_DAYS, SHRINK_DEALS  # the report's rebuilt probability too

#: A deal older than all but this share of past cycles is stale: not expected to close.
STALE_TAIL = 0.02
#: Past windows pooled into the pipeline share.
SHARE_WINDOWS = 4


def stale_open(history: History, cutoff: pd.Timestamp) -> tuple[np.ndarray, float]:
    """Open deals the live forecast leaves out as stale: overdue at ``cutoff`` (their expected close
    date before it, or none) and older than all but ``STALE_TAIL`` of the cycles of the deals closed in
    the two years before it, as the backtest's rebuilt pipeline counts them (QA25: 95 of 196 open deals of
    a CRM export were over a year old and all "expected at the cut-off", and the forecast was twice the
    best quarter ever). Also the age in days beyond which a deal is that old."""
    return stale_deals(history.deals, cutoff)


def stale_deals(d: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[np.ndarray, float]:
    """``stale_open`` over an opportunities table (``status``, ``created_date``, ``close_date``): the
    report's note on its weighted pipeline counts them by the same rule (QA27 F10)."""
    open_now = d["status"].eq("open").to_numpy(bool)
    close, created = d["close_date"], d["created_date"]
    recent = (close < cutoff) & (close >= cutoff - pd.Timedelta(days=730)) & d["status"].isin(("won", "lost"))
    cycles = (close[recent] - created[recent]).dt.days.to_numpy(dtype="float64")
    if cycles.size == 0:
        return np.zeros(len(d), dtype=bool), np.inf
    oldest = float(np.quantile(cycles, 1.0 - STALE_TAIL))
    overdue = (close.isna() | (close < cutoff)).to_numpy(bool)
    age = (cutoff - created).dt.days.to_numpy(dtype="float64")
    out: np.ndarray = open_now & overdue & (age > oldest)
    return out, oldest


def _live(history: History, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """The open deals expected to close inside ``window`` and each deal's probability (the CRM's)."""
    d = history.deals
    c = window.cutoff
    open_now = d["status"].eq("open").to_numpy(bool) & ~stale_open(history, c)[0]
    closed = d["status"].isin(("won", "lost")) & d["close_date"].notna()
    cycle = (d.loc[closed, "close_date"] - d.loc[closed, "created_date"]).dt.days
    typical = pd.Timedelta(days=float(cycle.median()) if len(cycle) else 90.0)
    expected = d["close_date"].fillna(d["created_date"] + typical)
    expected = expected.where(expected >= c, c)  # an overdue deal is expected at the cut-off
    inside = ((expected >= window.start) & (expected < window.stop)).to_numpy(bool)
    return open_now & inside, d["probability"].to_numpy(dtype="float64")


def _rebuilt(history: History, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """The deals open at ``window``'s cut-off and each one's chance, as known then, of being won inside it."""
    d = history.deals
    c = window.cutoff
    created, close = d["created_date"], d["close_date"]
    before = (created < c).to_numpy(bool)
    open_at = before & (d["status"].eq("open") | close.ge(c)).to_numpy(bool)
    year_before = close >= c - pd.Timedelta(days=RATE_DAYS)
    closed_recent = (close < c) & year_before & d["status"].isin(("won", "lost"))
    won = (closed_recent & d["status"].eq("won")).to_numpy(float)
    n_rep = history.nodes.n_reps
    codes = d["rep_code"].to_numpy()
    wins = np.bincount(codes, weights=won, minlength=n_rep)
    tries = np.bincount(codes, weights=closed_recent.to_numpy(float), minlength=n_rep)
    team_rate = wins.sum() / tries.sum() if tries.sum() else 0.0
    rate = (wins + SHRINK_DEALS * team_rate) / (tries + SHRINK_DEALS)
    cycles_mask = (close < c) & (close >= c - pd.Timedelta(days=730)) & d["status"].isin(("won", "lost"))
    cycles = np.sort((close[cycles_mask] - created[cycles_mask]).dt.days.to_numpy(dtype="float64"))
    if cycles.size == 0 or not open_at.any():
        return np.zeros(len(d), bool), np.zeros(len(d))

    def cdf(x: np.ndarray) -> np.ndarray:
        return np.searchsorted(cycles, x, side="right") / cycles.size

    age = (c - created).dt.days.to_numpy(dtype="float64")
    lo = float((window.start - c).days)
    hi = float((window.stop - c).days)
    alive = 1.0 - cdf(age)
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = np.where(alive > STALE_TAIL, (cdf(age + hi) - cdf(age + lo)) / alive, 0.0)
    return open_at, rate[codes] * np.clip(chance, 0.0, 1.0)


def pipeline_signal(history: History, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Expected won amount inside ``window`` from deals open at its cut-off, per node, and its variance
    (each deal won or not: amount squared x p x (1 - p), summed), the spread of a forecast made of the
    pipeline alone."""
    live = window.cutoff > history.layout.as_of
    counted, chance = _live(history, window) if live else _rebuilt(history, window)
    amount = history.deals["amount"].to_numpy(dtype="float64")
    chance = np.clip(np.nan_to_num(chance), 0.0, 1.0)
    expected = history.node_sums(counted, np.nan_to_num(amount * chance))
    variance = history.node_sums(counted, np.nan_to_num(amount**2 * chance * (1.0 - chance)))
    return expected, variance


def pipeline_share(history: History, window: Window) -> float:
    """Share of the won amount of past windows (fully known at ``window``'s origin) that came from deals
    already open when their window's forecast would have been made (team, pooled)."""
    layout = history.layout
    d = history.deals
    won = d["status"].eq("won") & d["close_date"].notna()
    close = d.loc[won, "close_date"]
    created = d.loc[won, "created_date"]
    amount = d.loc[won, "amount"].to_numpy(dtype="float64")
    span = layout.steps
    from_pipeline = total = 0.0
    for i in range(SHARE_WINDOWS):
        origin = window.origin - span - i * layout.step
        lo, hi = month_start(origin + layout.gap), month_start(origin + span)
        if origin <= layout.first_month:
            break
        inside = ((close >= lo) & (close < hi)).to_numpy(bool)
        old = inside & (created < month_start(origin)).to_numpy(bool)
        total += float(amount[inside].sum())
        from_pipeline += float(amount[old].sum())
    return from_pipeline / total if total > 0 else 0.0
