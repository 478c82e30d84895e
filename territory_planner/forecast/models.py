"""The statistical models: seasonal naive (the baseline) and two exponential smoothing models.

* ``seasonal_naive``: each future month repeats the same month a year before;
* ``seasonal_smoothing``: exponential smoothing of a level and an additive yearly season, no trend
  (ETS(A,N,A));
* ``holt_winters``: the same with an additive damped trend (ETS(A,Ad,A)).

Both smoothing models are ``statsmodels.tsa.holtwinters.ExponentialSmoothing``, smoothing parameters fitted
by least squares from heuristic initial states. So the backtest decides per series whether seasonality
(beyond last year's copy) and trend help; the engine adds the open pipeline to each.

``fit_many`` fits both at several origins of many series (a rolling origin: origin ``T`` means "fit on the
first ``T`` months only") on a process pool, since the fits are independent.
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
FAMILIES = ("seasonal_smoothing", "holt_winters")
#: Months of history a fitted family needs (two full seasons).
MIN_FIT_MONTHS = 2 * SEASON


def seasonal_naive(y: np.ndarray, steps: int) -> np.ndarray:
    """Next ``steps`` months, each equal to the same month one year before (needs 12 months)."""
    if y.size < SEASON:
        raise ValueError("seasonal naive needs at least 12 months")
    last = y[-SEASON:]
    return np.asarray(last[np.arange(steps) % SEASON], dtype="float64")


Params = dict[str, float]
PARAM_NAMES = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")


def smoothing(
    y: np.ndarray, steps: int, *, trend: bool, params: Params | None = None
) -> tuple[np.ndarray, Params]:
    """Forecast ``steps`` months; fits the smoothing parameters unless ``params`` are given."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        y,
        trend="add" if trend else None,
        damped_trend=trend,
        seasonal="add",
        seasonal_periods=SEASON,
        initialization_method="heuristic",  # 2-4 parameters to fit instead of 16-18: 3x faster
    )
    result = model.fit(use_brute=False) if params is None else model.fit(**params, optimized=False)
    values = {k: result.params.get(k) for k in PARAM_NAMES}
    fitted = {k: float(v) for k, v in values.items() if v is not None and np.isfinite(float(v))}
    return np.asarray(result.forecast(steps), dtype="float64"), fitted


def fit_one(y: np.ndarray, origins: Sequence[int], steps: int) -> np.ndarray:
    """Forecasts of every family at every origin: array (len(origins), len(FAMILIES), steps).

    The smoothing parameters are fitted once, at the oldest origin with enough months, and reused at every
    later origin (the forecast's included; only the states are recomputed on each origin's months). So
    nothing after an origin leaks into its forecast, the backtest scores exactly the procedure of the
    forecast, and it costs a fraction of refitting everywhere. An origin with fewer than
    ``MIN_FIT_MONTHS`` months, or a fit that fails or is not finite, gives NaN (the engine then does not
    offer that family at that origin).
    """
    out = np.full((len(origins), len(FAMILIES), steps), np.nan)
    order = sorted((k for k in range(len(origins)) if origins[k] >= MIN_FIT_MONTHS), key=lambda k: origins[k])
    shared: dict[str, Params | None] = {}
    # one BLAS thread: the optimisers make thousands of tiny calls, and threads fighting over two
    # cores made each fit 10x slower on a loaded machine
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimisers on short series
        with np.errstate(all="ignore"):
            for i in order:
                train = np.asarray(y[: origins[i]], dtype="float64")
                scale = float(np.mean(np.abs(train)))
                if scale == 0:
                    out[i] = 0.0
                    continue
                for f, family in enumerate(FAMILIES):
                    params = shared.get(family)
                    try:  # fitted on the series divided by its mean: the optimisers converge far faster
                        fc, fitted = smoothing(
                            train / scale, steps, trend=family == "holt_winters", params=params
                        )
                    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                        continue
                    if family not in shared:
                        shared[family] = fitted
                    if np.all(np.isfinite(fc)):
                        out[i, f] = fc * scale
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
