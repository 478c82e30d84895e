"""The plan's CSVs: sums of measures without binary-fraction noise, spreadsheet-safe text."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from territory_planner.io.writers import csv_text


def test_floats_are_written_without_noise_and_keep_fifteen_digits() -> None:
    frame = pd.DataFrame(
        {
            "workload": [0.1 + 0.2, 171.29999999999998, 306.20000000000005, np.nan],
            "potential": [123_456_789.123_456, 1e20, 38.64654350280762, 5.0],
            "note": ["=SUM(A1)", "plain", "-3.5", ""],
        }
    )
    text = csv_text(frame)
    lines = text.splitlines()
    assert lines[1].startswith("0.3,123456789.123456,")  # 0.30000000000000004 and 15 significant digits
    assert lines[2].startswith("171.3,1e+20,")
    assert lines[3].startswith("306.2,38.6465435028076,")
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert back["note"].tolist()[0] == "'=SUM(A1)"  # a formula is neutralised, a number is not
    assert back["note"].tolist()[2] == "-3.5"
    assert back["workload"].tolist()[3] == ""  # a missing value stays empty
    assert np.allclose(back["potential"].astype(float), frame["potential"], rtol=1e-11)


def test_amounts_keep_their_cents_up_to_1e13_and_no_binary_noise() -> None:
    """QA60: rounded to 12 significant digits, a 1e15 target's quotas summed $1,000 over it and cents were
    lost from 1e10 up. 15 digits keep the cents of 123,456,789,012.34 and still drop the noise."""
    import io

    import pandas as pd

    from territory_planner.io.writers import csv_text

    frame = pd.DataFrame({"amount": [123456789012.34, 1234567890123.45, 171.29999999999998, 0.1 + 0.2]})
    back = pd.read_csv(io.StringIO(csv_text(frame)))["amount"].tolist()
    assert back == [123456789012.34, 1234567890123.45, 171.3, 0.3]
    assert "171.3\n" in csv_text(frame)
