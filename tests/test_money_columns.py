"""A column of short amounts keeps one unit and one number of decimals (QA8 O7: the map's panel wrote
"€9M" beside "€8.49M", because ``money_short`` drops decimals that round to .00). A single amount in a
sentence is written as before."""

from __future__ import annotations

import math
import re
from pathlib import Path

from map_fixtures import millions_plan

from territory_planner.currency import currency_context
from territory_planner.render.map import write_map
from territory_planner.report import charts
from territory_planner.report import formatting as fm


def test_a_column_shares_the_largest_values_unit_and_decimals() -> None:
    with currency_context("EUR"):
        eur = fm.currency_prefix()
        assert fm.money_short_column([9e6, 8.49e6, 8.81e6]) == [f"{eur}9.00M", f"{eur}8.49M", f"{eur}8.81M"]
    # three significant digits for the largest value, the same decimals for the others
    assert fm.money_short_column([12.3e6, 9e6, -950e3]) == ["$12.3M", "$9.0M", "-$0.9M"]
    assert fm.money_short_column([256e6, 9e6]) == ["$256M", "$9M"]
    # blanks, zero, and a value too small for the column's precision (its own short form, not $0.00M)
    assert fm.money_short_column([9e6, None, math.nan, 0, 2_500]) == ["$9.00M", "n/a", "n/a", "$0", "$2.5k"]
    # the unit of the largest value as it reads: 999,600 is 1.00M, not 1000k
    assert fm.money_short_column([999_600, 450_000]) == ["$1.00M", "$0.45M"]
    # below 1,000: money and whole numbers stay whole; other numbers get three significant digits
    assert fm.money_short_column([512.4, 9.0]) == ["$512", "$9"]
    assert fm.short_column([99, 85, 64]) == ["99", "85", "64"]
    assert fm.short_column([64.1, 9]) == ["64.1", "9.0"]
    # numbers that are not money keep their digits below 10,000 (QA41 F6: "0.47k" beside "520")
    assert fm.short_column([1234.5, 987]) == ["1,234", "987"]
    assert fm.short_column([12_345.0, 987]) == ["12.3k", "1.0k"]


def test_a_single_amount_is_written_as_before() -> None:
    assert [fm.money_short(v) for v in (9e6, 8.49e6, 2.5e6, 12_345, 512.4)] == [
        "$9M",
        "$8.49M",
        "$2.5M",
        "$12.3k",
        "$512",
    ]
    assert fm.money_short(999_600) == "$1M"  # was "$1e+03k"


def test_the_maps_panel_writes_each_money_column_alike(tmp_path: Path) -> None:
    html = write_map(millions_plan(tmp_path / "p")).read_text(encoding="utf-8")
    panel = html[html.index('<aside id="tp-legend">') : html.index("</aside>")]
    potential = [re.findall(r"<td>(\$[^<]*)</td>", row)[0] for row in panel.split('<tr data-rep="')[1:]]
    assert potential == ["$9.00M", "$8.49M", "$4.50M"]


def test_a_charts_value_labels_and_scale_are_columns() -> None:
    svg = str(charts.bar_chart(["R1", "R2"], {"pipeline": [9e6, 8.49e6]}, fmt=fm.money_short, title="t"))
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "$9.00M" in texts
    assert "$8.49M" in texts
    assert "$9M" not in texts  # neither beside the bars nor on the scale (0 ... 9.00M)
    svg = str(
        charts.scatter_chart(
            ["R1", "R2"],
            [0.0, 10e6],  # the x axis runs to 10.5M (+5%), its middle is 5.25M
            [0.2, 0.4],
            x_title="deal size",
            y_title="win rate",
            x_fmt=fm.money_short,
            y_fmt=lambda v: fm.percent(v, 0),
            title="t",
        )
    )
    ticks = re.findall(r'<text class="x-tick" [^>]*>([^<]*)</text>', svg)
    assert ticks == ["$0", "$5.2M", "$10.5M"]  # "$5.25M" beside "$10.5M" before


def test_a_tiny_negative_amount_is_never_a_negative_zero() -> None:
    """QA15: a net of -0.4 was written "-PLN 0" (compare.html guarded its own cells in 07457df; every
    page writes money through ``fm.money``). An amount that reads as zero has no minus; one that does not
    keeps it."""
    with currency_context("PLN"):
        pln = fm.currency_prefix()
        assert fm.money(-0.4) == f"{pln}0"
        assert fm.money(-0.0) == f"{pln}0"
        assert fm.money(-0.5) == f"{pln}0"  # rounds half to even, as the digits do
        assert fm.money(-0.6) == f"-{pln}1"
        assert fm.money(-1_234.4) == f"-{pln}1,234"
        assert fm.money_short(-0.3) == f"{pln}0"
        assert fm.money_short(-2.5e6) == f"-{pln}2.5M"
        assert fm.money_short_column([9e6, -0.2]) == [f"{pln}9.00M", f"{pln}0"]
