"""Coherent totals: weighted least squares reconciliation of the base forecasts.

For the team / region / rep hierarchy with summing matrix ``S`` (nodes x reps) and base forecasts
``y_hat``, the reconciled forecasts are ``S (S' W^-1 S)^-1 S' W^-1 y_hat`` (Wickramasuriya, Athanasopoulos
and Hyndman 2019, "MinT" with a diagonal ``W``): every node's forecast moves in proportion to how
uncertain it is, and the result adds up exactly. ``W`` holds each series' base forecast error variance
over the backtest windows known before the origin (before two are known: the variance of its
year-over-year change of the horizon total). Reps are then kept non-negative and the upper levels are
re-added from them, so the sums stay exact.

New territories share the team total (they partition the same deals): each moves from its base forecast
by its share of the difference, weighted the same way.
"""

from __future__ import annotations

import numpy as np

#: Weights are floored at this share of the largest, so a series of zeros does not get an infinite weight.
MIN_WEIGHT_SHARE = 1e-9


def _floor(v: np.ndarray) -> np.ndarray:
    top = float(np.max(v)) if v.size and np.isfinite(v).any() else 1.0
    floor = max(top, 1.0) * MIN_WEIGHT_SHARE
    return np.where(np.isfinite(v) & (v > floor), v, floor)


def reconcile_hierarchy(summing: np.ndarray, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Reconciled forecasts of every hierarchy node (same order as ``base``); reps kept >= 0."""
    inv = 1.0 / _floor(variance)
    gram = summing.T @ (summing * inv[:, None])
    rhs = summing.T @ (inv * base)
    try:
        bottom = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        bottom = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    bottom = np.clip(bottom, 0.0, None)
    return np.asarray(summing @ bottom, dtype="float64")


def reconcile_partition(total: float, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Split ``total`` over a partition: ``base + w * (total - sum(base))`` with ``w ~ variance``, >= 0."""
    if base.size == 0:
        return base.astype("float64")
    w = _floor(variance)
    out = base + w / w.sum() * (total - base.sum())
    out = np.clip(out, 0.0, None)
    s = out.sum()
    if s > 0:
        out = out * (total / s)
    elif total > 0:
        out = np.full(base.size, total / base.size)
    return np.asarray(out, dtype="float64")
