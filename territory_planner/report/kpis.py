"""The standard sales KPIs as small, pure, vectorised functions.

Every function takes frames that already carry a ``group`` column (the level's key: a rep, a region,
a territory, or one constant for the team) plus the list of group ids to report, and returns a float
Series indexed by those ids. Ratios use the pooled rows of each group (the team win rate is won /
(won + lost) over all rows, not a mean of rep rates). An empty denominator gives NaN, which the writers
show as blank ("n/a"), never 0.

The period slices (``closed_in_period``, ``open_at_end``, ...) do not depend on the grouping and are
computed once per report by ``slice_period``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory_planner.report.periods import Period

GROUP = "group"
CLOSED = ("won", "lost")
DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------- helpers
def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is 0 or missing (an empty denominator is not a zero KPI)."""
    num = num.astype("float64")
    den = den.astype("float64")
    return num.div(den.where(den != 0))


def group_sum(frame: pd.DataFrame, column: str, ids: pd.Index) -> pd.Series:
    return frame.groupby(GROUP, observed=True)[column].sum().reindex(ids, fill_value=0.0).astype("float64")


def group_count(frame: pd.DataFrame, ids: pd.Index) -> pd.Series:
    return frame.groupby(GROUP, observed=True).size().reindex(ids, fill_value=0).astype("float64")


def group_mean(values: pd.Series, groups: pd.Series, ids: pd.Index) -> pd.Series:
    return values.groupby(groups, observed=True).mean().reindex(ids).astype("float64")


def in_period(ts: pd.Series, period: Period) -> pd.Series:
    """Timestamps inside the closed period (any time of day on ``end`` counts)."""
    return (ts >= period.start_ts) & (ts < period.stop_ts)


def prorate(rows: pd.DataFrame, value: str, period: Period) -> pd.DataFrame:
    """Share of each (period_start, period_end, value) row that falls in ``period``, pro rata by days.

    A quarterly quota row counts in full for that quarter, a third for one of its months, and not at all
    outside it. Returns ``rep_id`` and ``value`` (prorated) for rows that overlap the period.
    """
    overlap, length = _days_in(rows, period)
    share = overlap / length
    out = pd.DataFrame({"rep_id": rows["rep_id"], value: rows[value] * share})
    return out[overlap > 0]


def _days_in(rows: pd.DataFrame, period: Period) -> tuple[pd.Series, pd.Series]:
    """Per (period_start, period_end) row: its days inside ``period`` (0 outside it) and its length."""
    ps = rows["period_start"].dt.normalize()
    pe = rows["period_end"].dt.normalize()
    lo = ps.clip(lower=period.start_ts)
    hi = pe.clip(upper=period.stop_ts - DAY)
    return ((hi - lo) / DAY + 1).clip(lower=0), (pe - ps) / DAY + 1


def prorated_notes(tables: dict[str, pd.DataFrame | None], period: Period) -> list[str]:
    """A note per table (quotas, forecasts) whose rows the period holds only part of: their targets are
    taken pro rata by days (QA17 F7: a month's report used 28/90 of the quarter's quota without a word)."""
    out = []
    for name, value in (("quotas", "quota"), ("forecasts", "forecast")):
        rows = tables.get(name)
        if rows is None or rows.empty:
            continue
        overlap, length = _days_in(rows, period)
        part = (overlap > 0) & (overlap < length)
        if not part.any():
            continue
        k = part.to_numpy().nonzero()[0][0]
        first = (
            f"{rows['rep_id'].iloc[k]}'s {rows['period_start'].iloc[k].date()} to "
            f"{rows['period_end'].iloc[k].date()}: "
            f"{int(overlap.iloc[k])} of {int(length.iloc[k])} days"
        )
        out.append(
            f"{name}.csv: {period.label} holds only part of {int(part.sum())} {value} row(s), counted "
            f"pro rata by days (e.g. {first})"
        )
    return out


def stale_pipeline_notes(tables: dict[str, pd.DataFrame | None], period: Period) -> list[str]:
    """A note on the open deals of the period's weighted pipeline that the forecast calls stale (still
    open, past their expected close date at the period's end and older than nearly every deal closed in
    the two years before: ``forecast.pipeline.stale_deals``). The KPI keeps them, as its definition says;
    the note says how much of it they are (QA27 F10: 103 deals over a year past their close date, 16% of
    the weighted pipeline, without a word where the forecast named them)."""
    from territory_planner.forecast.pipeline import STALE_TAIL, stale_deals

    opps = tables.get("opportunities")
    needed = {"status", "created_date", "close_date", "amount", "probability"}
    if opps is None or opps.empty or not needed <= set(opps.columns):
        return []
    cutoff = period.stop_ts
    stale, oldest = stale_deals(opps, cutoff)
    stale &= (opps["created_date"] < cutoff).to_numpy(bool)
    if not stale.any():
        return []
    amount = opps["amount"].to_numpy(dtype="float64")[stale]
    weighted = np.nansum(amount * opps["probability"].to_numpy(dtype="float64")[stale])
    return [
        f"weighted pipeline: {int(stale.sum()):,} open deal(s) ({np.nansum(amount):,.0f} in all, "
        f"{weighted:,.0f} weighted) were past their expected close date at the period's end and older "
        f"than {oldest:,.0f} days, longer than {100 * (1 - STALE_TAIL):g}% of the deals closed in the two "
        "years before took: stale, they are counted here (open at the period's end) but the forecast leaves "
        "them out (close or update them in the CRM)"
    ]


# --------------------------------------------------------------------------- period slices
@dataclass(frozen=True)
class PeriodSlices:
    """The rows each KPI looks at, cut once for the period (``None`` when the table is missing)."""

    closed: pd.DataFrame | None  # won/lost, closed in the period
    open_at_end: pd.DataFrame | None  # created <= end and not closed by end
    meetings: pd.DataFrame | None  # meetings in the period, with a boolean ``prospect`` column
    leads: pd.DataFrame | None  # leads contacted in the period (responded or not)
    time_log: pd.DataFrame | None
    quotas: pd.DataFrame | None  # rep_id, quota (prorated to the period)
    forecasts: pd.DataFrame | None  # rep_id, forecast (prorated to the period)
    #: The export was taken after the period ended: its probabilities are today's, not the period end's
    #: (``hindsight``); ``open_at_end`` then carries ``rebuilt_probability``.
    past: bool = False
    #: How many of the deals open at the end have closed since (their probability now 1 or 0).
    closed_since: int = 0


#: Pseudo-deals of the team's win rate added to each rep's when a probability is rebuilt (here and in the
#: forecast's backtest pipeline, ``forecast/pipeline.py``, which takes both constants from here).
SHRINK_DEALS = 10.0
#: The win rate that stands in for a past period's probabilities is the one of the deals closed this long
#: before the period's end.
RATE_DAYS = 365


def export_date(opps: pd.DataFrame) -> pd.Timestamp | None:
    """The day the export was taken, as far as it says: its latest creation, or close of a won/lost deal
    (an open deal's close date is a plan)."""
    closed = opps["status"].isin(CLOSED)
    dates = pd.concat([opps["created_date"], opps.loc[closed, "close_date"]]).dropna()
    return None if dates.empty else pd.Timestamp(dates.max()).normalize()


def hindsight(opps: pd.DataFrame, period: Period) -> bool:
    """Whether the export postdates the period's end: a CRM export keeps only today's stage and
    probability, so a deal open at the end and won since shows probability 1 (QA15 M5: the "pipeline at
    the end of 2025Q4" was the amount later won)."""
    last = export_date(opps)
    return last is not None and last >= period.stop_ts


def rebuilt_probability(opps: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Each deal's probability as it could be known at ``cutoff``: its rep's win rate over the deals closed
    in the ``RATE_DAYS`` before, shrunk toward the team's by ``SHRINK_DEALS`` (a rep with few closed deals
    gets nearly the team's rate). NaN for every deal when no deal closed in that year."""
    close, status = opps["close_date"], opps["status"]
    recent = status.isin(CLOSED) & (close < cutoff) & (close >= cutoff - pd.Timedelta(days=RATE_DAYS))
    tries = recent.groupby(opps["rep_id"]).sum().astype("float64")
    wins = (recent & status.eq("won")).groupby(opps["rep_id"]).sum().astype("float64")
    if tries.sum() == 0:
        return pd.Series(float("nan"), index=opps.index)
    team = float(wins.sum() / tries.sum())
    rate = (wins + SHRINK_DEALS * team) / (tries + SHRINK_DEALS)
    return opps["rep_id"].map(rate).astype("float64").fillna(team)


def closed_in_period(opps: pd.DataFrame, period: Period) -> pd.DataFrame:
    mask = opps["status"].isin(CLOSED) & in_period(opps["close_date"], period)
    return opps.loc[mask, ["account_id", "rep_id", "amount", "status", "created_date", "close_date"]]


def open_at_end(opps: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Open at the end of the period: created by ``end`` and not won/lost by ``end``.

    A deal won or lost *after* the period was still open at its end and counts here; the probability
    recorded in the export is today's (see ``hindsight``).
    """
    stop = period.stop_ts
    closed_by_end = opps["status"].isin(CLOSED) & (opps["close_date"] < stop)
    mask = (opps["created_date"] < stop) & ~closed_by_end
    return opps.loc[mask, ["account_id", "rep_id", "amount", "probability", "status"]]


def prospect_flags(meetings: pd.DataFrame, opps: pd.DataFrame) -> pd.Series:
    """True for meetings with an account that had no won deal closed strictly before the meeting date."""
    won = opps.loc[opps["status"].eq("won"), ["account_id", "close_date"]]
    first_won = won.groupby("account_id")["close_date"].min()
    first = meetings["account_id"].map(first_won)
    return (first.isna() | (first.dt.normalize() >= meetings["date"].dt.normalize())).astype(bool)


def slice_period(tables: dict[str, pd.DataFrame | None], period: Period) -> PeriodSlices:
    opps = tables.get("opportunities")
    acts = tables.get("activities")
    leads = tables.get("leads")
    tlog = tables.get("time_log")
    quotas = tables.get("quotas")
    forecasts = tables.get("forecasts")
    meetings = None
    if acts is not None and opps is not None:
        m = acts.loc[acts["meeting"] & in_period(acts["date"], period), ["rep_id", "account_id", "date"]]
        meetings = m.assign(prospect=prospect_flags(m, opps))
    open_rows, past = None, False
    if opps is not None:
        open_rows = open_at_end(opps, period)
        past = hindsight(opps, period)
        if past:
            rebuilt = rebuilt_probability(opps, period.stop_ts)
            open_rows = open_rows.assign(rebuilt_probability=rebuilt.reindex(open_rows.index))
    return PeriodSlices(
        closed=None if opps is None else closed_in_period(opps, period),
        open_at_end=open_rows,
        meetings=meetings,
        leads=None if leads is None else leads[in_period(leads["contacted_at"], period)],
        time_log=None if tlog is None else tlog[in_period(tlog["date"], period)],
        quotas=None if quotas is None else prorate(quotas, "quota", period),
        forecasts=None if forecasts is None else prorate(forecasts, "forecast", period),
        past=past,
        closed_since=0 if open_rows is None else int(open_rows["status"].isin(CLOSED).sum()),
    )


# --------------------------------------------------------------------------- KPIs on grouped rows
def won_amount(closed: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Sum of won amounts closed in the period."""
    return group_sum(closed[closed["status"].eq("won")], "amount", ids)


def win_rate(closed: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """won / (won + lost), count based, deals closed in the period."""
    won = group_count(closed[closed["status"].eq("won")], ids)
    return ratio(won, group_count(closed, ids))


def avg_deal_size(closed: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Mean amount of won deals closed in the period."""
    won = closed[closed["status"].eq("won")]
    return group_mean(won["amount"], won[GROUP], ids)


def avg_sales_cycle_days(closed: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Mean days from created_date to close_date, won deals closed in the period."""
    won = closed[closed["status"].eq("won")]
    days = (won["close_date"] - won["created_date"]).dt.total_seconds() / 86_400.0
    return group_mean(days, won[GROUP], ids)


def open_opportunities(open_rows: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Number of deals open at the end of the period."""
    return group_count(open_rows, ids)


def weighted_pipeline(open_rows: pd.DataFrame, ids: pd.Index, probability: str = "probability") -> pd.Series:
    """Sum of amount x probability over deals open at the end of the period (``probability``: the export's,
    or ``rebuilt_probability`` for a past period). A group whose open deals have no probability is NaN;
    one without open deals 0."""
    weighted = open_rows.assign(weighted=open_rows["amount"] * open_rows[probability])
    sums = weighted.groupby(GROUP, observed=True)["weighted"].sum(min_count=1)
    return sums.reindex(ids, fill_value=0.0).astype("float64")


def pipeline_velocity(closed: pd.DataFrame, open_rows: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """open deals x win rate x average deal size / average sales cycle (currency per day)."""
    num = open_opportunities(open_rows, ids) * win_rate(closed, ids) * avg_deal_size(closed, ids)
    return ratio(num, avg_sales_cycle_days(closed, ids))


def selling_time_share(time_log: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """sum selling_hours / sum total_hours over time-log rows in the period."""
    return ratio(group_sum(time_log, "selling_hours", ids), group_sum(time_log, "total_hours", ids))


def lead_response_hours(leads: pd.DataFrame, ids: pd.Index) -> pd.Series:
    """Mean hours from contacted_at to responded_at, leads contacted in the period that responded."""
    answered = leads[leads["responded_at"].notna()]
    hours = (answered["responded_at"] - answered["contacted_at"]).dt.total_seconds() / 3_600.0
    return group_mean(hours, answered[GROUP], ids)


def prospect_meetings(meetings: pd.DataFrame, ids: pd.Index, reps_per_group: pd.Series | None) -> pd.Series:
    """Meetings with prospects; divided by the number of reps in the group when ``reps_per_group`` is given
    (team and region: mean per rep)."""
    count = group_count(meetings[meetings["prospect"]], ids)
    if reps_per_group is None:
        return count
    return ratio(count, reps_per_group.reindex(ids, fill_value=0))


def quota_attainment(
    won_by_rep: pd.Series, quota_by_rep: pd.Series, rep_group: pd.Series, ids: pd.Index
) -> pd.Series:
    """Won amount / quota, both summed over the group's reps *with a quota* (> 0) for the period (team:
    their won / their summed quota). A rep without a quota adds to neither side (its won revenue has no
    target to count against), so the group's figure and ``quota_attainment_rate`` use the same reps.

    ``won_by_rep``/``quota_by_rep`` are indexed by rep_id; ``rep_group`` maps rep_id -> group.
    """
    quota_by_rep = quota_by_rep[quota_by_rep > 0]
    won_by_rep = won_by_rep.reindex(quota_by_rep.index, fill_value=0.0)
    won = won_by_rep.groupby(rep_group.reindex(won_by_rep.index)).sum().reindex(ids, fill_value=0.0)
    quota = quota_by_rep.groupby(rep_group.reindex(quota_by_rep.index)).sum().reindex(ids, fill_value=0.0)
    return ratio(won, quota)


def quota_attainment_rate(
    won_by_rep: pd.Series, quota_by_rep: pd.Series, rep_group: pd.Series, ids: pd.Index
) -> pd.Series:
    """Share of the group's reps with a quota whose attainment is >= 1."""
    quota = quota_by_rep[quota_by_rep > 0]
    attained = won_by_rep.reindex(quota.index, fill_value=0.0) >= quota
    groups = rep_group.reindex(quota.index)
    hit = attained.groupby(groups).sum().reindex(ids, fill_value=0)
    n = attained.groupby(groups).size().reindex(ids, fill_value=0)
    return ratio(hit, n)


def forecast_accuracy(
    forecast_by_rep: pd.Series, won_by_rep: pd.Series, rep_group: pd.Series, ids: pd.Index
) -> pd.Series:
    """1 - sum |forecast - actual| / sum actual over the group's reps that forecast (rep: 1 - |F - A| / A)."""
    actual = won_by_rep.reindex(forecast_by_rep.index, fill_value=0.0)
    error = (forecast_by_rep - actual).abs()
    groups = rep_group.reindex(forecast_by_rep.index)
    err = error.groupby(groups).sum().reindex(ids, fill_value=0.0)
    act = actual.groupby(groups).sum().reindex(ids, fill_value=0.0)
    return 1.0 - ratio(err, act)


def per_rep_sum(frame: pd.DataFrame, column: str) -> pd.Series:
    """Sum of ``column`` per rep_id (for the rep-keyed KPIs)."""
    return frame.groupby("rep_id", observed=True)[column].sum().astype("float64")


__all__ = [
    "PeriodSlices",
    "avg_deal_size",
    "avg_sales_cycle_days",
    "forecast_accuracy",
    "lead_response_hours",
    "open_opportunities",
    "pipeline_velocity",
    "prospect_meetings",
    "quota_attainment",
    "quota_attainment_rate",
    "selling_time_share",
    "slice_period",
    "weighted_pipeline",
    "win_rate",
    "won_amount",
]
