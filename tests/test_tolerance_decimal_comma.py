"""QA22 M9: a tolerance written with a decimal comma (``0,05``, as a German or French user types it) was
split at the comma, and the message quoted a number never written ("tolerance 5.0 must be in [0, 1)")."""

from __future__ import annotations

import pytest

from territory_planner.errors import InputError
from territory_planner.options import COMMAND_LINE, parse_tolerance


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("0,05", "write 0.05"),
        ("potential=0,05,workload=0,1", "write potential=0.05,workload=0.1"),
        ("potential=0.05,workload=0,1", "write potential=0.05,workload=0.1"),
    ],
)
def test_a_decimal_comma_is_named_with_the_value_as_it_should_be_written(written: str, hint: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_tolerance(written, COMMAND_LINE, "--tolerance")
    message = exc.value.problems[0].message
    assert f"--tolerance {written!r} has a decimal comma: {hint}" == message


def test_commas_between_measures_are_read() -> None:
    both = parse_tolerance("potential=0.05,workload=0.1", COMMAND_LINE)
    assert both == {"potential": 0.05, "workload": 0.1}
    assert parse_tolerance("0.05", COMMAND_LINE) == {"*": 0.05}
