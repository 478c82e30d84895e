"""Large models, the same answers faster. ``spec.reach_pairs`` sorts each rep's cheapest units only as far
as its goal needs (a partial sort, the full sort for a rep whose goal lies beyond it): the same pairs as
sorting every unit for every rep, ties and units no rep may take included. ``prechecks.unique_rows``: the
rows of ``np.unique(axis=0)``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_planner.optimize import prechecks
from territory_planner.optimize import spec as specmod


def _every_unit_sorted(amount: np.ndarray, upper: np.ndarray, cost: np.ndarray, reach: float) -> np.ndarray:
    """The pairs by the definition: every rep's units in the stable order of cost, as many of the first
    as reach the goal on every measure."""
    n, reps = cost.shape
    order = np.argsort(cost, axis=0, kind="stable")
    out = np.zeros((n, reps), dtype=bool)
    need = np.zeros(reps, dtype=np.int64)
    for m in range(amount.shape[1]):
        cum = np.cumsum(amount[:, m][order], axis=0)
        # an open band: the mean share, the total summed in unit order (QA80 F1: summed in each rep's cost
        # order, as the code before did, it may differ in the last bit, and so may the units it takes)
        goal = np.where(np.isfinite(upper[m]), reach * upper[m], reach * amount[:, m].sum() / reps)
        need = np.maximum(need, (cum < goal[None, :]).sum(axis=0) + 1)
    need = np.minimum(need, n)
    take = np.arange(n)[:, None] < need[None, :]
    out[order[take], np.nonzero(take)[1]] = True
    return out


def _case(seed: int, n: int, reps: int, levels: int, blocked: float, open_band: bool):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    # few cost levels: many ties, at the partial sort's edge too
    cost = rng.integers(0, levels, (n, reps)).astype(float)
    cost[rng.random((n, reps)) < blocked] = np.inf
    amount = np.stack([rng.pareto(1.2, n) * (rng.random(n) < 0.9), np.ones(n)], axis=1)
    share = amount.sum(axis=0) / reps
    # an open band on the heavy-tailed measure too, whose sums are not exact (QA80 F1)
    upper = np.stack([np.full(reps, np.inf if open_band else 1.05 * share[0]), np.full(reps, 1.1 * share[1])])
    spec = SimpleNamespace(problem=SimpleNamespace(unit_amount=amount), upper=upper)
    return spec, cost, amount, upper


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 900),
    reps=st.integers(1, 40),
    levels=st.sampled_from([2, 5, 50, 10_000]),
    blocked=st.sampled_from([0.0, 0.3, 0.95]),
    open_band=st.booleans(),
    reach=st.sampled_from([0.5, 1.5, 3.0, 50.0]),
)
def test_the_partial_sort_picks_the_pairs_of_the_full_sort(
    seed: int, n: int, reps: int, levels: int, blocked: float, open_band: bool, reach: float
) -> None:
    spec, cost, amount, upper = _case(seed, n, reps, levels, blocked, open_band)
    got = specmod.reach_pairs(spec, cost, reach)  # type: ignore[arg-type]
    assert (got == _every_unit_sorted(amount, upper, cost, reach)).all()


def test_a_large_model_takes_the_partial_sort_and_a_far_rep_the_full_one() -> None:
    """Both paths on one model: 3,000 units x 30 reps (the partial sort covers 864 units per rep); 2,000
    tiny units are the cheapest of rep 0 alone, so that its goal lies beyond the partial sort."""
    rng = np.random.default_rng(7)
    n, reps = 3_000, 30
    cost = rng.integers(0, 1_000, (n, reps)).astype(float)
    amount = np.ones((n, 2))
    tiny = rng.permutation(n)[:2_000]
    amount[tiny] = 1e-6
    cost[tiny, 0] = rng.integers(0, 5, len(tiny))
    cost[tiny, 1:] += 2_000
    share = amount.sum(axis=0) / reps
    upper = np.repeat((1.05 * share)[:, None], reps, axis=1)
    spec = SimpleNamespace(problem=SimpleNamespace(unit_amount=amount), upper=upper)
    got = specmod.reach_pairs(spec, cost, 1.5)  # type: ignore[arg-type]
    want = _every_unit_sorted(amount, upper, cost, 1.5)
    assert (got == want).all()
    partial = specmod.REACH_PREFIX * n // reps + 64
    assert want[:, 0].sum() > partial  # rep 0 needed the full sort
    assert want[:, 1:].sum(axis=0).max() < partial  # the others did not


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 300),
    p=st.integers(0, 70),
    density=st.sampled_from([0.02, 0.5, 0.98]),
    copies=st.integers(0, 5),
)
def test_unique_rows_of_a_mask_are_numpys_in_numpys_order(
    seed: int, n: int, p: int, density: float, copies: int
) -> None:
    """The prechecks' allowed-row patterns (``prechecks.unique_rows``, rows packed to bits): the rows and
    the order of ``np.unique(axis=0)``, repeated rows and widths that are not a multiple of 8 included."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, p)) < density
    if n > copies:
        mask[:copies] = mask[n - 1]
    got = prechecks.unique_rows(mask)
    want = np.unique(mask, axis=0)
    assert got.dtype == bool
    assert got.shape == want.shape
    assert np.array_equal(got, want)
