"""Which measures a plan balances, and the band of each in percent of the target (summary.json).

A measure outside the plan's balance set (``config.balance``) has no band: its deviation is shown for
information and never shaded (QA8 O1: with ``balance = ["potential"]`` the map shaded workload's +54% as
if it broke a 5% band that the plan never had).
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

#: The band of a balanced measure that the plan's tolerance does not name (the planner's default).
DEFAULT_TOLERANCE_PCT = 5.0
#: The balance set of a plan folder that does not record one (the planner's default).
DEFAULT_BALANCE = frozenset({"potential", "workload"})


def balanced_measures(summary: dict[str, Any]) -> set[str]:
    """The measures the plan balances: ``config.balance``, else potential and workload."""
    balance = (summary.get("config") or {}).get("balance")
    if isinstance(balance, list | tuple) and balance:
        return {str(m) for m in balance}
    if isinstance(balance, str) and balance.strip():
        return {m.strip() for m in balance.split(",") if m.strip()}
    return set(DEFAULT_BALANCE)


def band_pct(summary: dict[str, Any], measure: str) -> float:
    """The band of ``measure`` in percent of the target: summary ``tolerance``, else the config's, else the
    default. For a measure the plan balances (see ``measure_band_pct`` for one it may not)."""
    for source in (summary.get("tolerance"), (summary.get("config") or {}).get("tolerance")):
        tol = source.get(measure, source.get("*")) if isinstance(source, dict) else source
        if _valid(tol):
            return 100.0 * float(tol)
    return DEFAULT_TOLERANCE_PCT


def measure_band_pct(summary: dict[str, Any], measure: str) -> float | None:
    """The rep band of ``measure`` in percent, None when the plan does not balance it."""
    return band_pct(summary, measure) if measure in balanced_measures(summary) else None


def group_band_pct(summary: dict[str, Any], level: str, measure: str) -> float | None:
    """The band of a hierarchy level (summary.json -> hierarchy -> level -> tolerance) in percent; None
    without one, or when the plan does not balance ``measure`` (the level's bands cover balanced measures
    only, so a ``"*"`` band does not reach it)."""
    if measure not in balanced_measures(summary):
        return None
    block = summary.get("hierarchy")
    block = block.get(level) if isinstance(block, dict) else None
    tol = block.get("tolerance") if isinstance(block, dict) else None
    value = tol.get(measure, tol.get("*")) if isinstance(tol, dict) else None
    return 100.0 * float(value) if _valid(value) else None


def _valid(tol: object) -> TypeGuard[float]:
    return isinstance(tol, int | float) and not isinstance(tol, bool) and math.isfinite(tol) and tol >= 0
