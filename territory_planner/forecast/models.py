"""The statistical models: seasonal naive (the baseline) and two statsmodels families on monthly series.

* ``seasonal_naive``: each future month repeats the same month a year before;
* ``holt_winters``: exponential smoothing with an additive damped trend and additive yearly seasonality
  (``statsmodels.tsa.holtwinters.ExponentialSmoothing``), smoothing parameters fitted by least squares
  from heuristic initial states;
* ``theta``: the Theta method on the seasonally adjusted series (``statsmodels.tsa.forecasting.theta``,
  multiplicative classical decomposition when the series is positive, additive otherwise).

``fit_many`` fits both families at several origins of many series (a rolling origin: origin ``T`` means
"fit on the first ``T`` months only") on a process pool, since the fits are independent and each takes
a few tens of milliseconds.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

SEASON = 12
#: Fitted families, in the order of the last axis of ``fit_many``'s result.
FAMILIES = ("holt_winters", "theta")
#: Months of history a fitted family needs (two full seasons).
MIN_FIT_MONTHS = 2 * SEASON


def seasonal_naive(y: np.ndarray, steps: int) -> np.ndarray:
    """Next ``steps`` months, each equal to the same month one year before (needs 12 months)."""
    if y.size < SEASON:
        raise ValueError("seasonal naive needs at least 12 months")
    last = y[-SEASON:]
    return np.asarray(last[np.arange(steps) % SEASON], dtype="float64")


def _holt_winters(y: np.ndarray, steps: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        y,
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=SEASON,
        initialization_method="heuristic",  # 4 parameters to fit instead of 18: 3x faster, as accurate here
    )
    return np.asarray(model.fit(use_brute=False).forecast(steps), dtype="float64")


def _theta(y: np.ndarray, steps: int) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    model = ThetaModel(y, period=SEASON, deseasonalize=True, use_test=False, method="auto")
    return np.asarray(model.fit().forecast(steps), dtype="float64")


_FITTERS = {"holt_winters": _holt_winters, "theta": _theta}


def fit_one(y: np.ndarray, origins: Sequence[int], steps: int) -> np.ndarray:
    """Forecasts of every family at every origin: array (len(origins), len(FAMILIES), steps).

    An origin with fewer than ``MIN_FIT_MONTHS`` months, or a fit that fails or returns a non-finite
    value, gives NaN (the engine then does not offer that family at that origin).
    """
    out = np.full((len(origins), len(FAMILIES), steps), np.nan)
    # one BLAS thread: the optimisers make thousands of tiny calls, and threads fighting over two
    # cores made each fit 10x slower on a loaded machine
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimisers on short series
        with np.errstate(all="ignore"):
            for i, origin in enumerate(origins):
                if origin < MIN_FIT_MONTHS:
                    continue
                train = np.asarray(y[:origin], dtype="float64")
                scale = float(np.mean(np.abs(train)))
                if scale == 0:
                    out[i] = 0.0
                    continue
                for f, family in enumerate(FAMILIES):
                    try:  # fitted on the series divided by its mean: the optimisers converge far faster
                        fc = _FITTERS[family](train / scale, steps) * scale
                    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                        continue
                    if np.all(np.isfinite(fc)):
                        out[i, f] = fc
    return out


def _fit_chunk(args: tuple[list[np.ndarray], list[list[int]], int]) -> list[np.ndarray]:
    series, origins, steps = args
    return [fit_one(y, o, steps) for y, o in zip(series, origins, strict=True)]


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def fit_many(
    series: Sequence[np.ndarray], origins: Sequence[Sequence[int]], steps: int, *, workers: int | None = None
) -> list[np.ndarray]:
    """``fit_one`` for every series (with its own origins), on ``workers`` processes when worth it."""
    workers = default_workers() if workers is None else max(1, workers)
    fits = sum(sum(1 for o in orig if o >= MIN_FIT_MONTHS) for orig in origins)
    if workers == 1 or fits < 60:
        return [fit_one(y, list(o), steps) for y, o in zip(series, origins, strict=True)]
    n = len(series)
    chunks = max(workers * 4, 1)
    bounds = np.linspace(0, n, min(chunks, n) + 1).astype(int)
    tasks = [
        ([series[i] for i in range(a, b)], [list(origins[i]) for i in range(a, b)], steps)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        if b > a
    ]
    out: list[np.ndarray] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_fit_chunk, tasks):
            out.extend(part)
    return out
