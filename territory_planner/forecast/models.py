"""The statistical models: seasonal naive (the baseline) and two exponential smoothing models.

* ``seasonal_naive``: each future month repeats the same month a year before;
* ``seasonal_smoothing``: exponential smoothing of a level and an additive yearly season, no trend
  (ETS(A,N,A));
* ``holt_winters``: the same with an additive damped trend (ETS(A,Ad,A)).

Both smoothing models are ``statsmodels.tsa.holtwinters.ExponentialSmoothing``, smoothing parameters fitted
by least squares from heuristic initial states. So the backtest decides per series whether seasonality
(beyond last year's copy) and trend help; the engine adds the open pipeline to each.

``fit_many`` forecasts both at several origins of many series (a rolling origin: origin ``T`` means "from
the first ``T`` months only") on a process pool, since the series are independent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

SEASON = 12
#: Fitted families, in the order of the last axis of ``fit_many``'s result.
FAMILIES = ("seasonal_smoothing", "holt_winters")
#: Months of history a fitted family needs (two full seasons).
MIN_FIT_MONTHS = 2 * SEASON
#: The parameters are fitted again at an origin whose history is at least this many times that of the
#: last fit (QA97 F1: a year horizon's oldest origin has 24 months, on which the heuristic initial
#: states take up every month and the least squares leave every smoothing parameter at 0: fitted there
#: once, the team's forecast stayed at the mean of its first two years, 21.6M at every origin from 2018 to
#: 2026 while the years moved from 15.5M to 32.7M). Growing by half keeps the fits few (24, 36, 60, 96
#: months for ten years of yearly windows; one for quarterly windows over the last two years).
FIT_GROWTH = 1.5


def seasonal_naive(y: np.ndarray, steps: int) -> np.ndarray:
    """Next ``steps`` months, each equal to the same month one year before (needs 12 months)."""
    if y.size < SEASON:
        raise ValueError("seasonal naive needs at least 12 months")
    last = y[-SEASON:]
    return np.asarray(last[np.arange(steps) % SEASON], dtype="float64")


SMOOTHING_PARAMS = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")


@dataclass(frozen=True)
class States:
    """A smoothing model run over a whole series: its states after each month, and its damping."""

    level: np.ndarray
    trend: np.ndarray | None  # None without a trend
    season: np.ndarray
    damping: float

    def forecast(self, origin: int, steps: int) -> np.ndarray:
        """The model's forecast of the ``steps`` months after the first ``origin`` months: the states
        after month ``origin - 1`` carried forward (the ETS forecast equations; the recursion only looks
        back). For the first 11 months this is exactly what statsmodels' ``forecast`` returns for a model
        run on those months alone (a test checks); from the 12th on, statsmodels reuses the season of a
        year before the last month, which its own state update had replaced, and this does not."""
        j = np.arange(1, steps + 1)
        out = self.level[origin - 1] + self.season[origin - SEASON + (j - 1) % SEASON]
        if self.trend is not None:
            out = out + self.trend[origin - 1] * np.cumsum(self.damping**j)
        return np.asarray(out, dtype="float64")


def _model(y: np.ndarray, trend: bool, **init: Any) -> Any:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    return ExponentialSmoothing(
        y,
        trend="add" if trend else None,
        damped_trend=trend,
        seasonal="add",
        seasonal_periods=SEASON,
        **init,
    )


def smoothing_states(y: np.ndarray, fit_months: int, *, trend: bool) -> States:
    """Fit the smoothing parameters and initial states on the first ``fit_months`` months (heuristic
    initial states, least squares), then run the model with them, unchanged, over all of ``y``."""
    fitted = _model(y[:fit_months], trend, initialization_method="heuristic").fit(use_brute=False)
    params = {k: float(fitted.params[k]) for k in SMOOTHING_PARAMS if fitted.params.get(k) is not None}
    known = {
        "initialization_method": "known",
        "initial_level": fitted.params["initial_level"],
        "initial_seasonal": fitted.params["initial_seasons"],
    }
    if trend:
        known["initial_trend"] = fitted.params["initial_trend"]
    run = _model(y, trend, **known).fit(**params, optimized=False)
    return States(
        level=np.asarray(run.level, dtype="float64"),
        trend=np.asarray(run.trend, dtype="float64") if trend else None,
        season=np.asarray(run.season, dtype="float64"),
        damping=float(params.get("damping_trend", 1.0)),
    )


def fit_points(origins: Sequence[int]) -> list[int]:
    """The origins (months of history, at least ``MIN_FIT_MONTHS``) at which the parameters are fitted:
    the oldest, then each one with at least ``FIT_GROWTH`` times the history of the last fit."""
    points: list[int] = []
    for o in sorted(o for o in origins if o >= MIN_FIT_MONTHS):
        if not points or o >= FIT_GROWTH * points[-1]:
            points.append(o)
    return points


def fit_one(y: np.ndarray, origins: Sequence[int], steps: int) -> np.ndarray:
    """Forecasts of every family at every origin: array (len(origins), len(FAMILIES), steps).

    Each family's smoothing parameters and initial states are fitted at the oldest origin with enough
    months and again wherever the history has grown by ``FIT_GROWTH`` (``fit_points``); the model then
    runs with each fit's parameters over the months up to the origins that fit serves (the origins
    before the next fit), and the forecast at an origin is carried forward from the states after that
    origin's last month. So nothing after an origin reaches its forecast, the backtest scores exactly
    the procedure of the forecast (whose origin is the newest), and each series costs two statsmodels
    runs per family and fit, however many windows a fit serves. An origin with fewer than
    ``MIN_FIT_MONTHS`` months, or a fit that fails or is not finite, gives NaN (the engine then does not
    offer that family at that origin).
    """
    out = np.full((len(origins), len(FAMILIES), steps), np.nan)
    points = fit_points(origins)
    if not points:
        return out
    # one BLAS thread: the optimisers make thousands of tiny calls, and threads fighting over two
    # cores made each fit 10x slower on a loaded machine
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the optimisers on short series
        with np.errstate(all="ignore"):
            for n, first in enumerate(points):
                until = points[n + 1] if n + 1 < len(points) else None
                served = [k for k, o in enumerate(origins) if o >= first and (until is None or o < until)]
                train = np.asarray(y[: max(origins[k] for k in served)], dtype="float64")
                scale = float(np.mean(np.abs(train[:first]))) or float(np.mean(np.abs(train)))
                if scale == 0:
                    out[served] = 0.0
                    continue
                for f, family in enumerate(FAMILIES):
                    try:  # fitted on the series divided by its mean: the optimisers converge far faster
                        states = smoothing_states(train / scale, first, trend=family == "holt_winters")
                    except (ValueError, KeyError, np.linalg.LinAlgError, ZeroDivisionError):
                        continue
                    for k in served:
                        fc = states.forecast(origins[k], steps) * scale
                        if np.all(np.isfinite(fc)):
                            out[k, f] = fc
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
