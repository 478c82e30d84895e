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
#: A reconciled forecast below this share of the largest base forecast is the solve's round-off: it is 0.
#: (A rep with no history and a floored weight came out as 7.7e-05 instead of 0; the backtest's relative
#: error over such a window, error / 7.7e-05, gave an 80% interval up to 1.8e22.)
ROUND_OFF_SHARE = 1e-9


def _floor(v: np.ndarray) -> np.ndarray:
    top = float(np.max(v)) if v.size and np.isfinite(v).any() else 1.0
    floor = max(top, 1.0) * MIN_WEIGHT_SHARE
    return np.where(np.isfinite(v) & (v > floor), v, floor)


def _snap(values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``values`` clipped at 0, with round-off (below ``ROUND_OFF_SHARE`` of the base scale) set to 0."""
    finite = np.abs(base[np.isfinite(base)])
    scale = max(float(finite.max()) if finite.size else 0.0, 1.0)
    return np.where(values > scale * ROUND_OFF_SHARE, values, 0.0)


def reconcile_hierarchy(summing: np.ndarray, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Reconciled forecasts of every hierarchy node (same order as ``base``); reps kept >= 0."""
    inv = 1.0 / _floor(variance)
    gram = summing.T @ (summing * inv[:, None])
    rhs = summing.T @ (inv * base)
    try:
        bottom = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        bottom = np.linalg.lstsq(gram, rhs, rcond=None)[0]
    bottom = _snap(bottom, base)
    return np.asarray(summing @ bottom, dtype="float64")


def reconcile_partition(total: float, base: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Split ``total`` over a partition: ``base + w * (total - sum(base))`` with ``w ~ variance``, >= 0."""
    if base.size == 0:
        return base.astype("float64")
    w = _floor(variance)
    out = base + w / w.sum() * (total - base.sum())
    out = _snap(out, np.append(base, total))
    s = out.sum()
    if s > 0:
        out = out * (total / s)
    elif total > 0:
        out = np.full(base.size, total / base.size)
    return np.asarray(out, dtype="float64")
