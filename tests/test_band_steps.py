"""A band's ends come from float sums of many amounts, so they are off a whole number of steps by float
error that grows with the total: a zero-width band holding the exact half of 865 three-decimal
potentials was "proven" to hold no multiple of $0.001 (QA37 F1: 1.7e-7 steps off, against a fixed 1e-9),
and the run ended in exit 1 where a plan meeting it exactly exists."""

from __future__ import annotations

import numpy as np

from territory_planner.optimize.spec import holds_no_multiple, integral_bands


def _half_of_a_float_sum(seed: int) -> tuple[float, np.ndarray]:
    rng = np.random.default_rng(seed)
    milli = rng.integers(20_000, 2_000_000, 865)
    milli[0] += milli.sum() % 2  # the exact total splits in two whole thousandths
    values = milli / 1000.0
    return float(values.sum()) / 2, milli


def test_the_half_of_a_float_sum_holds_a_multiple_of_the_step() -> None:
    misses = 0
    for seed in range(20):
        half, milli = _half_of_a_float_sum(seed)
        assert int(milli.sum()) % 2 == 0
        assert not holds_no_multiple(half, half, 0.001)
        misses += abs(half / 0.001 - round(half / 0.001)) > 1e-9  # what the fixed tolerance took for a gap
    assert misses > 0  # the float error is there: the test means something


def test_a_band_between_two_multiples_still_holds_none() -> None:
    assert holds_no_multiple(0.0003, 0.0007, 0.001)
    big = 92_780_656.3  # steps of 1: a third of a step away from each side at 9e7 steps
    assert holds_no_multiple(big, big + 0.4, 1.0)
    assert not holds_no_multiple(big, big + 0.7, 1.0)


def test_integral_bands_keep_a_band_float_noise_puts_just_past_a_multiple() -> None:
    amount = np.ones((10, 1))
    target = 3.0 * (1 + 3e-15)  # 3 accounts, the target a few ulps above 3
    lower, upper = integral_bands(amount, np.array([[target]]), np.array([[target]]))
    assert lower[0, 0] == upper[0, 0] == 3.0


def test_a_band_end_is_printed_to_every_digit_it_has() -> None:
    """QA39 F8: "band $769,254.306 to $769,254.306" for a band of .3055, which looked like a multiple of
    the step it was said to hold none of."""
    from territory_planner.optimize.prechecks import exact

    assert exact(769_254.3055, "workload") == "769,254.3055"
    assert exact(34_279.455, "workload") == "34,279.455"
    assert exact(0.1 + 0.2, "workload") == "0.3"  # float noise is not a digit
    assert exact(2.0, "workload") == "2"
