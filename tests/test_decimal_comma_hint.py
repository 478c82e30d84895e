"""QA13 item 8: the decimal-comma hint quotes the cell's own value with a dot, not a fixed "51.7"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from territory_planner.io.numbers import parse_numbers
from tests.conftest import line_instance, write_instance


def test_the_hint_names_each_cells_own_value_with_a_dot() -> None:
    values, hints = parse_numbers(pd.Series(["3,25", "12,7", "1.5", "-0,5"]), ".")  # a comma-separated file
    assert values.isna().tolist() == [True, True, False, True]
    assert values.iloc[2] == 1.5
    assert hints[0] == "a decimal comma? write 3.25 with a decimal point"
    assert hints[1] == "a decimal comma? write 12.7 with a decimal point"
    assert hints[3] == "a decimal comma? write -0.5 with a decimal point"


def test_each_problem_quotes_its_own_corrected_cell(tmp_path: Path) -> None:
    """/tmp/qa13/bad/acc_eurodec2.csv: workload "3,25" and "12,7" both said "write 51.7"."""
    reps = write_instance(tmp_path, [], line_instance()[1])[1]
    accounts = tmp_path / "acc_eurodec2.csv"
    accounts.write_text(
        'account_id,lat,lon,potential,workload\nA1,0,0.1,5,"3,25"\nA2,0,0.5,5,2\nA3,0,0.9,5,"12,7"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_inputs(accounts, reps)
    assert [(p.row, p.value, p.message) for p in exc.value.problems] == [
        (1, "3,25", "workload is not a number (a decimal comma? write 3.25 with a decimal point)"),
        (3, "12,7", "workload is not a number (a decimal comma? write 12.7 with a decimal point)"),
    ]


def test_an_amount_with_its_currency_is_refused_with_the_bare_amount() -> None:
    """QA25 F3: 692 rows of "potential is not a number" said nothing of the euro sign in each. The cell
    is still refused (nothing is coerced), and the hint gives the amount it holds once the sign is out."""
    cells = ["€2,277,307", "2 277 307 €", "$1,200.50", "EUR 12", "12 USD", "£", "abc €", "12"]
    values, hints = parse_numbers(pd.Series(cells), ".")
    assert values.isna().tolist() == [True] * 7 + [False]
    said = "in the cell? write the amount alone, {}; --currency sets the sign the outputs show"
    assert hints[0] == "a currency sign '€' " + said.format("2277307")
    assert hints[1] == "a currency sign '€' " + said.format("2277307")
    assert hints[2] == "a currency sign '$' " + said.format("1200.5")
    assert hints[3] == "a currency sign 'EUR' " + said.format("12")
    assert hints[4] == "a currency sign 'USD' " + said.format("12")
    assert 5 not in hints  # a sign alone, or with words, holds no amount
    assert 6 not in hints
    # a decimal-comma file: the amount read by its own convention
    _, hints = parse_numbers(pd.Series(["1.234,5 €"]), ",")
    assert hints[0] == "a currency sign '€' " + said.format("1234.5")
