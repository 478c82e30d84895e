"""The plan's currency beyond report.html: the workbook's number formats and the map's legend, popups and
edit panel. Only money (potential, revenue, quotas) carries it; workload, counts and km stay plain.

The plans are the hand-drawn sample of ``map_fixtures`` (three reps, nine accounts, no solver): R1 holds
230,000 of potential (A1 100,000 + A2 50,000 + A3 80,000) and 23 of workload.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from map_fixtures import assignments_frame, sample_plan, summary_dict, territories_frame, three_measure_plan
from map_fixtures import write_plan as write_map_plan

from territory_planner.cli import main
from territory_planner.currency import excel_format, is_money
from territory_planner.render.map import render_map_html
from territory_planner.render.plan_folder import read_plan_folder

NBSP = "\N{NO-BREAK SPACE}"
# --currency value -> (Excel number format of a money cell, how the legend writes R1's 230,000)
CASES = {
    "$": ('"$"#,##0', "$230k"),
    "EUR": ("[$EUR] #,##0", f"EUR{NBSP}230k"),
    "€": ('"€"#,##0', "€230k"),
    "none": ("#,##0", "230k"),
}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def plan_in(folder: Path, currency: str | None) -> Path:
    """The sample plan, made with ``currency`` (summary.json -> config.currency; None: an older plan)."""
    a = assignments_frame()
    summary = summary_dict(len(a), 3, int(a["moved"].sum()))
    if currency is not None:
        summary["config"]["currency"] = currency
    return write_map_plan(folder, a, territories_frame(a), summary)


def sheet_formats(path: Path, sheet: str) -> dict[str, str]:
    """The number format of each column's first data cell on ``sheet``, by header."""
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    return {str(name): ws.cell(2, i + 1).number_format for i, name in enumerate(header)}


def legend_row(html: str, rep: str) -> str:
    legend = html[html.index('<aside id="tp-legend">') : html.index("</aside>")]
    return legend[legend.index(f'data-rep="{rep}"') :].split("</tr>")[0]


def test_money_columns_are_potential_revenue_quotas_and_their_targets() -> None:
    for column in ("potential", "potential_target", "revenue", "Revenue_target", "quota", "suggested_quota"):
        assert is_money(column), column
    for column in ("workload", "workload_target", "accounts", "travel_km", "potential_dev_pct", "moved_in"):
        assert not is_money(column), column


@pytest.mark.parametrize(("currency", "expected"), [(c, fmt) for c, (fmt, _) in CASES.items()])
def test_excel_format_writes_the_currency_as_the_report_does(currency: str, expected: str) -> None:
    canonical = "" if currency == "none" else currency
    assert excel_format(canonical) == expected


@pytest.mark.parametrize("currency", list(CASES))
def test_workbook_money_cells_carry_the_plans_currency(tmp_path: Path, currency: str) -> None:
    plan = plan_in(tmp_path / "plan", currency)
    res = run("export", plan, "--format", "xlsx", "--out", tmp_path / "plan.xlsx")
    assert res.exit_code == 0, res.output
    money = CASES[currency][0]
    territories = sheet_formats(tmp_path / "plan.xlsx", "Territories")
    assert territories["potential"] == money
    assert territories["potential_target"] == money
    assert territories["workload"] == "#,##0.00"
    assert territories["accounts"] == "#,##0"
    assert territories["travel_km"] == "#,##0.0"
    assignments = sheet_formats(tmp_path / "plan.xlsx", "Assignments")
    assert assignments["potential"] == money
    assert assignments["workload"] == "#,##0.00"
    assert assignments["distance_km"] == "#,##0.0"


def test_workbook_of_an_older_plan_uses_dollars_and_export_currency_overrides(tmp_path: Path) -> None:
    old = plan_in(tmp_path / "old", None)  # no config.currency: a plan made before --currency
    assert run("export", old, "--format", "xlsx", "--out", tmp_path / "old.xlsx").exit_code == 0
    assert sheet_formats(tmp_path / "old.xlsx", "Territories")["potential"] == '"$"#,##0'
    euro = plan_in(tmp_path / "eur", "EUR")
    res = run("export", euro, "--format", "xlsx", "--out", tmp_path / "gbp.xlsx", "--currency", "gbp")
    assert res.exit_code == 0, res.output
    assert sheet_formats(tmp_path / "gbp.xlsx", "Territories")["potential"] == "[$GBP] #,##0"


def test_workbook_column_is_wide_enough_for_the_currency_code(tmp_path: Path) -> None:
    widths = {}
    for currency in ("none", "EUR"):
        plan = plan_in(tmp_path / currency, currency)
        out = tmp_path / f"{currency}.xlsx"
        assert run("export", plan, "--format", "xlsx", "--out", out).exit_code == 0
        ws = openpyxl.load_workbook(out)["Assignments"]
        column = [c.value for c in ws[1]].index("potential")
        widths[currency] = ws.column_dimensions[openpyxl.utils.get_column_letter(column + 1)].width
    assert widths["EUR"] > widths["none"]
    assert widths["EUR"] - 0.72 >= len("EUR 100,000") + 1  # openpyxl reads XlsxWriter's padding too


def test_export_refuses_a_bad_currency_and_a_currency_for_csv_formats(tmp_path: Path) -> None:
    plan = plan_in(tmp_path / "plan", "EUR")
    res = run("export", plan, "--format", "xlsx", "--out", tmp_path / "x.xlsx", "--currency", "EURO")
    assert res.exit_code == 2
    assert "--currency" in res.output
    assert not (tmp_path / "x.xlsx").exists()
    res = run("export", plan, "--format", "changes", "--out", tmp_path / "changes", "--currency", "EUR")
    assert res.exit_code == 2
    assert "--currency" in res.output
    assert not (tmp_path / "changes").exists()


@pytest.mark.parametrize("currency", list(CASES))
def test_map_legend_writes_potential_in_the_plans_currency(tmp_path: Path, currency: str) -> None:
    html = render_map_html(read_plan_folder(plan_in(tmp_path / "plan", currency)))
    row = legend_row(html, "R1")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    # accounts, potential, its deviation, workload, its deviation, moved in/out
    assert cells[1] == CASES[currency][1]
    assert cells[3] == "23"  # workload: no currency
    data = json.loads(html.split('<script type="application/json" id="tp-data">')[1].split("</script>")[0])
    assert data["cur"] == {"$": "$", "EUR": f"EUR{NBSP}", "€": "€", "none": ""}[currency]


def test_map_command_currency_overrides_the_plans(tmp_path: Path) -> None:
    plan = plan_in(tmp_path / "plan", "EUR")
    res = run("map", plan, "--currency", "₹", "--out", tmp_path / "inr.html")
    assert res.exit_code == 0, res.output
    assert "₹230k" in legend_row((tmp_path / "inr.html").read_text(encoding="utf-8"), "R1")
    res = run("map", plan, "--currency", "rupees", "--out", tmp_path / "bad.html")
    assert res.exit_code == 2
    assert "--currency" in res.output
    assert not (tmp_path / "bad.html").exists()


def test_map_edit_panel_knows_which_measures_are_money(tmp_path: Path) -> None:
    html = render_map_html(read_plan_folder(three_measure_plan(tmp_path / "plan")))
    data = json.loads(html.split('<script type="application/json" id="tp-data">')[1].split("</script>")[0])
    money = {m["key"]: m["money"] for m in data["edit"]["measures"]}
    assert money == {"potential": True, "workload": False, "revenue": True}


def test_default_map_keeps_dollars(tmp_path: Path) -> None:
    html = render_map_html(read_plan_folder(sample_plan(tmp_path / "plan")))
    assert "$230k" in legend_row(html, "R1")


def test_a_crm_in_another_currency_than_the_page_is_warned_about(tmp_path: Path) -> None:
    """QA27 F18: a plan made in € and a CRM whose currency column says USD: report.html wrote the USD
    amounts with € without a word (nothing converts them)."""
    import shutil

    import pandas as pd

    from territory_planner.currency import mismatch
    from territory_planner.report.api import write_report

    assert mismatch("€", "EUR", "x") is None
    assert mismatch("EUR", "eur", "x") is None
    assert mismatch("$", "CAD", "x") is None  # a dollar sign stands for every dollar
    assert mismatch("€", None, "x") is None  # a CRM without a currency column: nothing to compare
    assert "give --currency USD" in (mismatch("€", "USD", "x") or "")
    assert "are in GBP" in (mismatch("USD", "GBP", "x") or "")
    crm = tmp_path / "crm"
    shutil.copytree(Path(__file__).resolve().parents[1] / "sample_data" / "crm", crm)
    opps = pd.read_csv(crm / "opportunities.csv", dtype=str)
    opps["currency"] = "USD"
    opps.to_csv(crm / "opportunities.csv", index=False)
    for currency, warned in (("€", True), ("USD", False)):
        out = tmp_path / f"rep-{currency}"
        out.mkdir()
        write_report(out, crm_dir=crm, period="2026Q2", currency=currency)
        page = (out / "report.html").read_text(encoding="utf-8")
        assert ("are in USD, and money is written with €" in page) is warned
