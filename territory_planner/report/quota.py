"""Suggested quotas for the new territories.

``share_j = (1 - w) * potential_j / sum(potential) + w * inherited_won_j / sum(inherited_won)``

with ``w = history_weight`` (default 0: potential only). ``inherited_won_j`` is the won revenue of the
accounts the territory receives in the plan over the report period (level ``territory``), so a territory
that inherits proven buyers gets a larger share. When the history total is 0 the potential share is used
alone; when the potential total is 0 too, the split follows rep capacity. The quotas are rounded to cents
with the largest-remainder method so that they sum exactly (to the cent) to the company target.

``--quota-method forecast`` uses each territory's forecast won amount for the quota year (the 12 months
from the forecast horizon's start, so one lucky or empty quarter does not split an annual target) in place
of the inherited won revenue, blended the same way (``w`` defaults to ``FORECAST_WEIGHT`` = 0.5 there), and
damped: a territory's share stays within ``1 / MAX_SHARE_RATIO`` to ``MAX_SHARE_RATIO`` (1.5) times its
potential share (the blend scaled to sum to 1 inside those bounds), so no forecast can give a rep twice
the quota its potential would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from territory_planner.errors import InputError, Problem

#: ``--quota-method forecast``: default weight of the forecast share against the potential share.
FORECAST_WEIGHT = 0.5
#: ``--quota-method forecast``: a territory's share stays within this factor of its potential share.
MAX_SHARE_RATIO = 1.5


def default_history_weight(quota_method: str) -> float:
    """The blend weight when none is given: potential only, except half the forecast by forecast."""
    return FORECAST_WEIGHT if quota_method == "forecast" else 0.0


def damped_shares(potential_share: pd.Series, other_share: pd.Series, weight: float) -> pd.Series:
    """``(1 - weight) * potential_share + weight * other_share``, scaled to sum to 1 with each share kept
    within ``[p / MAX_SHARE_RATIO, p * MAX_SHARE_RATIO]`` of its potential share ``p`` (the scale is the
    one that makes the clipped shares sum to 1)."""
    p = potential_share.to_numpy(dtype="float64")
    raw = (1.0 - weight) * p + weight * other_share.to_numpy(dtype="float64")
    lo, hi = p / MAX_SHARE_RATIO, p * MAX_SHARE_RATIO

    def excess(scale: float) -> float:
        return float(np.clip(scale * raw, lo, hi).sum() - 1.0)

    positive = raw > 0
    if not positive.any():
        return potential_share
    top = float(np.max(hi[positive] / raw[positive]))
    if excess(top) <= 0:  # the forecast is 0 where much potential is: those take what is left
        out = np.where(positive, hi, 0.0)
        rest = p * ~positive
        out = out + rest / rest.sum() * (1.0 - out.sum()) if rest.sum() > 0 else out / out.sum()
    else:
        scale = optimize.brentq(excess, 0.0, top, xtol=1e-15, rtol=1e-15)
        out = np.clip(scale * raw, lo, hi)
        out = out / out.sum()
    return pd.Series(out, index=potential_share.index)


def _shares(values: pd.Series) -> pd.Series | None:
    total = float(values.sum())
    return None if total <= 0 else values / total


def allocate_cents(target: float, shares: pd.Series) -> pd.Series:
    """Split ``target`` by ``shares`` (summing to 1) into cent amounts that add up to the target exactly."""
    total_cents = round(target * 100)
    raw = shares.to_numpy(dtype="float64") * total_cents
    floor = np.floor(raw).astype(np.int64)
    remainder = int(total_cents - floor.sum())
    order = np.argsort(-(raw - floor), kind="stable")
    floor[order[:remainder]] += 1
    return pd.Series(floor / 100.0, index=shares.index)


def suggest_quotas(
    territories: pd.DataFrame,
    company_target: float,
    *,
    inherited_won: pd.Series | None = None,
    history_weight: float | None = None,
    forecast: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per territory: rep_id, name, potential, potential_share, history_share, share, suggested_quota.

    ``territories`` needs rep_id and potential (capacity is used only when all potential is 0).
    ``inherited_won`` is indexed by rep_id. With ``forecast`` (each territory's forecast won amount for
    the quota year, indexed by rep_id; ``--quota-method forecast``) the forecast share takes the place of
    the inherited history: blended with the potential share by ``history_weight`` and damped to within
    ``MAX_SHARE_RATIO`` of it (``damped_shares``); ``forecast`` and ``forecast_share`` columns are added
    (potential shares alone when the forecast total is 0). ``history_weight`` None: 0, or
    ``FORECAST_WEIGHT`` with a forecast.
    """
    if history_weight is None:
        history_weight = default_history_weight("forecast" if forecast is not None else "potential")
    if not np.isfinite(company_target) or company_target < 0:
        raise InputError(Problem("", None, "company_target", "must be a number >= 0", str(company_target)))
    if not 0.0 <= history_weight <= 1.0:
        raise InputError(
            Problem("", None, "quota_history_weight", "must be between 0 and 1", str(history_weight))
        )
    reps = territories["rep_id"].astype("string").to_numpy()
    potential = pd.Series(territories["potential"].astype("float64").to_numpy(), index=reps)
    share = _shares(potential)
    if share is None:
        capacity = (
            territories["capacity"]
            if "capacity" in territories.columns
            else pd.Series(1.0, index=territories.index)
        )
        share = _shares(pd.Series(capacity.astype("float64").to_numpy(), index=reps))
    if share is None:
        share = pd.Series(1.0 / len(reps), index=reps)
    potential_share = share
    history_share = pd.Series(np.nan, index=reps)
    if forecast is None and inherited_won is not None and history_weight > 0:
        hist = _shares(inherited_won.reindex(reps, fill_value=0.0).astype("float64"))
        if hist is not None:
            history_share = hist
            share = (1 - history_weight) * potential_share + history_weight * hist
    forecast_share = None
    amounts = None
    if forecast is not None:
        amounts = forecast.reindex(reps, fill_value=0.0).astype("float64").clip(lower=0)
        forecast_share = _shares(amounts)
        if forecast_share is not None and history_weight > 0:
            share = damped_shares(potential_share, forecast_share, history_weight)
    names = territories["name"] if "name" in territories.columns else territories["rep_id"]
    frame = pd.DataFrame(
        {
            "rep_id": reps,
            "name": names.astype("string").to_numpy(),
            "potential": potential.to_numpy(),
            "potential_share": potential_share.to_numpy(),
            "history_share": history_share.to_numpy(),
            "share": share.to_numpy(),
            "suggested_quota": allocate_cents(company_target, share).to_numpy(),
        }
    )
    if amounts is not None:
        frame.insert(5, "forecast", amounts.to_numpy())
        frame.insert(6, "forecast_share", np.nan if forecast_share is None else forecast_share.to_numpy())
    return frame
