"""report.html's "Violated constraints" table for a relaxed plan (QA7).

A relaxed Tokyo plan (+-2% bands, a 10% disruption budget, yen) listed "balance_min | R01 | potential |
300,699,509.68 |" and "budget | | | 7,228,201,500.00 |": amounts with cents and no currency, and an empty
detail column, so leadership could not tell where R01 stood or what the budget was.

The plan is map_fixtures' sample plan (R1 holds A1-A3, 230,000 of 610,000 potential, target 203,333.33;
+-5%: band 193,166.67 to 213,500), relaxed, in euro.
"""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path

from map_fixtures import sample_plan

from territory_planner.report.api import write_report


def test_a_relaxed_plans_violations_read_in_money_with_the_band_and_budget(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "p")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["status"] = "relaxed"
    summary["config"] = {"tolerance": 0.05, "max_moved_share": 0.1, "currency": "€"}
    summary["moved_potential_share"] = 0.25
    summary["violations"] = [
        {"constraint": "balance_max", "rep_id": "R1", "measure": "potential", "violation": 16500.0},
        {"constraint": "budget", "rep_id": "", "measure": "", "violation": 91500.0},
    ]
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    write_report(tmp_path / "out", plan_dir=plan)
    html = unescape((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    table = html[html.index('<table id="violations">') :]
    table = table[: table.index("</table>")]
    assert (
        '<td>balance_max</td><td>R1</td><td>potential</td><td class="num">€16,500</td>'
        "<td>€230,000, +13.1% vs target (band €193,167 to €213,500)</td>"
    ) in table
    assert (
        '<td>budget</td><td></td><td></td><td class="num">€91,500</td>'
        "<td>moved 25.0% of potential; the budget is 10.0%</td>"
    ) in table


def test_a_hand_edited_plans_budget_limit_carries_the_currency(tmp_path: Path) -> None:
    """QA15 L7: an edited plan's budget row read "By PLN 192,500 ... limit 10,066,200": the limit (the
    potential that may move) is money too."""
    plan = sample_plan(tmp_path / "p")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["status"] = "manual"
    summary["config"] = {"tolerance": 0.05, "currency": "PLN"}
    summary["violations"] = [
        {
            "constraint": "budget",
            "rep_id": "",
            "measure": "potential",
            "violation": 192500.0,
            "limit": 10066200.0,
        }
    ]
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    write_report(tmp_path / "out", plan_dir=plan)
    html = unescape((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    table = html[html.index('<table id="violations">') :]
    table = table[: table.index("</table>")].replace("\xa0", " ")
    assert '<td class="num">PLN 192,500</td><td>limit PLN 10,066,200</td>' in table


def test_a_value_just_past_its_band_reads_outside_it() -> None:
    """QA30 F11: "98, +10.7% vs target (band 80 to 98)" for a workload of 98.2 against a band edge of
    97.6: the digits now show the value outside the edge it crossed; whole numbers stay whole."""
    import pandas as pd

    from territory_planner.report.html import _band_detail

    terr = pd.DataFrame({"rep_id": ["R3"], "workload": [98.2], "workload_target": [88.7272727]})
    v = {"constraint": "balance_max", "rep_id": "R3", "measure": "workload"}
    assert _band_detail(v, terr, {"workload": 0.1}) == "98.2, +10.7% vs target (band 79.9 to 97.6)"
    terr["workload"] = [120.0]
    assert _band_detail(v, terr, {"workload": 0.1}) == "120, +35.2% vs target (band 80 to 98)"


def test_a_band_is_broken_beyond_the_planners_own_slack_only() -> None:
    """QA39 F1: `plan` wrote a plan meeting a zero-width band to $0.012 of $769,254 (within its 1e-6 slack)
    and `edit` listed it as broken (1e-9): both now use the planner's slack."""
    from territory_planner.edit_violations import _band

    target = 769_254.305
    assert _band("balance", "W", "potential", target + 0.012, target, 0.0, 0.0) is None
    broken = _band("balance", "W", "potential", target + 2.0, target, 0.0, 0.0)
    assert broken is not None
    assert broken["constraint"] == "balance_max"


def test_a_split_territory_of_a_hand_edited_plan_counts_its_pieces_alone() -> None:
    """QA70: every split territory of an edited plan read "2 pieces, not one (one more when its rep's
    home unit went to another rep)", its home unit kept: an edit counts the pieces alone. A relaxed plan's
    count may hold that one more (QA26), and says so."""
    from territory_planner.report.html import violation_rows

    v = {"constraint": "territory_contiguity", "rep_id": "C6", "measure": "pieces", "violation": 1.0}
    edited = violation_rows({"status": "manual", "violations": [v]})
    relaxed = violation_rows({"status": "relaxed", "violations": [v]})
    assert edited[0][-1] == "2 pieces, not one"
    assert relaxed[0][-1] == "2 pieces, not one (one more when its rep's home unit went to another rep)"
