"""Suggested quotas for the new territories.

``share_j = (1 - w) * potential_j / sum(potential) + w * inherited_won_j / sum(inherited_won)``

with ``w = history_weight`` (default 0: potential only). ``inherited_won_j`` is the won revenue of the
accounts the territory receives in the plan over the report period (level ``territory``), so a territory
that inherits proven buyers gets a larger share. When the history total is 0 the potential share is used
alone; when the potential total is 0 too, the split follows rep capacity. The quotas are rounded to cents
with the largest-remainder method so that they sum exactly (to the cent) to the company target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem


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
    history_weight: float = 0.0,
    forecast: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per territory: rep_id, name, potential, potential_share, history_share, share, suggested_quota.

    ``territories`` needs rep_id and potential (capacity is used only when all potential is 0).
    ``inherited_won`` is indexed by rep_id. With ``forecast`` (each territory's forecast won amount,
    indexed by rep_id; ``--quota-method forecast``) the share is the territory's share of the forecast
    instead, and a ``forecast_share`` column is added (potential shares when the forecast total is 0).
    """
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
    if inherited_won is not None and history_weight > 0:
        hist = _shares(inherited_won.reindex(reps, fill_value=0.0).astype("float64"))
        if hist is not None:
            history_share = hist
            share = (1 - history_weight) * potential_share + history_weight * hist
    forecast_share = None
    if forecast is not None:
        forecast_share = _shares(forecast.reindex(reps, fill_value=0.0).astype("float64").clip(lower=0))
        share = forecast_share if forecast_share is not None else potential_share
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
    if forecast is not None:
        frame.insert(5, "forecast_share", np.nan if forecast_share is None else forecast_share.to_numpy())
    return frame
