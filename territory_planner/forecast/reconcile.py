"""Coherent totals: weighted least squares reconciliation of the base forecasts.

For the team / region / rep hierarchy with summing matrix ``S`` (nodes x reps) and base forecasts
``y_hat``, the reconciled forecasts are ``S (S' W^-1 S)^-1 S' W^-1 y_hat`` (Wickramasuriya, Athanasopoulos
and Hyndman 2019, "MinT" with a diagonal ``W``): every node's forecast moves in proportion to how
uncertain it is, and the result adds up exactly. ``W`` holds each series' base forecast error variance
over the backtest windows known before the origin (before two are known: the variance of its
year-over-year change of the horizon total). The upper levels are the sums of the reps, so the sums stay
exact.

New territories share the team total (they partition the same deals): each moves from its base forecast
by its share of the difference, weighted the same way.

Reconciliation adjusts, it does not replace: a rep's or a territory's forecast is never cut below
``1 - MAX_CUT`` of its own base forecast (bounded weighted least squares: a series at its floor keeps it
and the rest of the difference goes to the others, by their weights). Without the floor, the series with
the largest error variance took the whole downward adjustment and was clipped at 0 (QA3b: a territory
whose accounts won $195k in the same quarter a year before was reconciled from $41k to $0). Only when the
total is below the sum of the floors are all series cut by the same share.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

#: Weights are floored at this share of the largest, so a series of zeros does not get an infinite weight.
MIN_WEIGHT_SHARE = 1e-9
#: A reconciled forecast below this share of the largest base forecast is the solve's round-off: it is 0.
#: (A rep with no history and a floored weight came out as 7.7e-05 instead of 0; the backtest's relative
#: error over such a window, error / 7.7e-05, gave an 80% interval up to 1.8e22.)
ROUND_OFF_SHARE = 1e-9
#: Reconciliation cuts a rep's or a territory's base forecast by at most this share.
MAX_CUT = 0.5


def _floor(v: np.ndarray) -> np.ndarray:
    top = float(np.max(v)) if v.size and np.isfinite(v).any() else 1.0
    floor = max(top, 1.0) * MIN_WEIGHT_SHARE
    return np.where(np.isfinite(v) & (v > floor), v, floor)


def _snap(values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``values`` clipped at 0, with round-off (below ``ROUND_OFF_SHARE`` of the base scale) set to 0."""
    finite = np.abs(base[np.isfinite(base)])
    scale = max(float(finite.max()) if finite.size else 0.0, 1.0)
    return np.where(values > scale * ROUND_OFF_SHARE, values, 0.0)


def _bounded_bottom(summing: np.ndarray, base: np.ndarray, inv: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """``argmin (base - S b)' diag(inv) (base - S b)`` subject to ``b >= floor``."""
    root = np.sqrt(inv)
    res = optimize.lsq_linear(
        summing * root[:, None], root * base, bounds=(floor, np.inf), method="bvls", tol=1e-12
    )
    return np.maximum(np.asarray(res.x, dtype="float64"), floor)


def reconcile_hierarchy(summing: np.ndarray, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Reconciled forecasts of every hierarchy node (same order as ``base``); each rep kept at or above
    ``1 - MAX_CUT`` of its base forecast (so >= 0)."""
    inv = 1.0 / _floor(variance)
    gram = summing.T @ (summing * inv[:, None])
    rhs = summing.T @ (inv * base)
    try:
        bottom = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        bottom = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    n_reps = summing.shape[1]
    floor = (1.0 - MAX_CUT) * np.clip(base[-n_reps:], 0.0, None)
    tolerance = ROUND_OFF_SHARE * max(float(np.max(np.abs(base))) if base.size else 0.0, 1.0)
    if np.any(bottom < floor - tolerance):
        bottom = _bounded_bottom(summing, base, inv, floor)
    bottom = _snap(bottom, base)
    return np.asarray(summing @ bottom, dtype="float64")


def reconcile_partition(total: float, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Split ``total`` over a partition: ``base + w * (total - sum(base))`` with ``w ~ variance``, each
    kept at or above ``1 - MAX_CUT`` of its base (the others then share the rest, by their weights)."""
    if base.size == 0:
        return base.astype("float64")
    w = _floor(variance)
    base = np.clip(base.astype("float64"), 0.0, None)
    floor = (1.0 - MAX_CUT) * base
    if total < floor.sum():  # the floors cannot all hold: every series cut by the same share
        out = base * (total / base.sum())
    else:
        held = np.zeros(base.size, dtype=bool)  # series held at their floor
        while True:
            free = ~held
            step = (total - floor[held].sum() - base[free].sum()) / w[free].sum()
            out = np.where(held, floor, base + w * step)
            below = free & (out < floor)
            if not below.any():
                break
            held |= below
    out = _snap(out, np.append(base, total))
    s = out.sum()
    if s > 0:
        out = out * (total / s)
    elif total > 0:
        out = np.full(base.size, total / base.size)
    return np.asarray(out, dtype="float64")
