"""``--currency``: money in report.html / forecast.html as "$1,234" (default), "€1,234", "EUR 1,234" or a
plain "1,234"; bad values fail naming the option; plan folders remember their currency when re-rendered.

The plans are the tiny scenario of ``scenario_fixtures`` (40 accounts, four reps), each solved once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest_report import write_crm, write_plan
from scenario_fixtures import write_instance

from territory_planner import api
from territory_planner.cli import main
from territory_planner.currency import currency_context, currency_prefix, parse_currency
from territory_planner.errors import InputError
from territory_planner.options import build_options
from territory_planner.report import formatting as fm

NBSP = "\N{NO-BREAK SPACE}"


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def report_of(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def potentials(folder: Path) -> list[str]:
    """Each territory's potential as the report writes it without a currency ("13,431")."""
    t = pd.read_csv(folder / "territories.csv")
    return [f"{v:,.0f}" for v in t["potential"]]


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three plans of one scenario: default, ``--currency EUR --xlsx``, scenario key ``currency = "none"``."""
    root = tmp_path_factory.mktemp("currency")
    scenario = write_instance(root / "inputs")
    plain = write_instance(root / "plain", extra='currency = "none"\n')
    out = {"default": root / "default", "eur": root / "eur", "none": root / "none"}
    for args in (
        (scenario, "--out", out["default"]),
        (scenario, "--out", out["eur"], "--currency", "EUR", "--xlsx"),
        (plain, "--out", out["none"]),
    ):
        code, output = run("plan", *args, "--quiet")
        assert code == 0, output
    return out


@pytest.mark.parametrize(
    ("value", "canonical", "written"),
    [
        ("$", "$", "$1,235"),
        ("€", "€", "€1,235"),
        (" £ ", "£", "£1,235"),
        ("R$", "R$", "R$1,235"),
        ("EUR", "EUR", f"EUR{NBSP}1,235"),
        ("inr", "INR", f"INR{NBSP}1,235"),
        ("none", "", "1,235"),
        ("None", "", "1,235"),
        ("", "", "1,235"),
    ],
)
def test_accepted_values_and_how_amounts_are_written(value: str, canonical: str, written: str) -> None:
    assert parse_currency(value) == canonical
    with currency_context(canonical):
        assert fm.money(1234.6) == written
        assert fm.money(-1234.6) == "-" + written
        assert fm.money(None) == "n/a"
    assert fm.money(1234.6) == "$1,235"  # restored after the block


def test_short_amounts_and_velocity_follow_the_currency() -> None:
    with currency_context("EUR"):
        assert fm.money_short(2_500_000) == f"EUR{NBSP}2.5M"
        assert fm.format_kpi("pipeline_velocity", 1500.0) == f"EUR{NBSP}1,500/day"
        assert fm.format_kpi("avg_deal_size", 1500.0) == f"EUR{NBSP}1,500"
    with currency_context(""):
        assert fm.money_short(2_500_000) == "2.5M"
        assert fm.format_kpi("pipeline_velocity", 1500.0) == "1,500/day"
    assert fm.money_short(2_500_000) == "$2.5M"


@pytest.mark.parametrize("value", ["EURO", "XYZ", "euros", "12", "$$", "<b>", "E$UR", "dollar"])
def test_odd_values_are_refused_naming_the_option(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_currency(value, source="base.toml")
    problem = info.value.problems[0]
    assert (problem.file, problem.column) == ("base.toml", "currency")
    assert "--currency" in problem.message


def _fail_inside(currency: str, seen: list[str]) -> None:
    """A render in ``currency`` that fails half-way, after a thread of its own looked at the currency."""
    with currency_context(currency):
        worker = threading.Thread(target=lambda: seen.append(currency_prefix()))
        worker.start()
        worker.join()
        seen.append(currency_prefix())
        raise RuntimeError("a failed render")


def test_the_currency_does_not_leak_out_of_its_block_or_into_other_threads() -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError):
        _fail_inside("€", seen)
    assert seen == ["$", "€"]  # another thread keeps the default; the block itself sees its currency
    assert currency_prefix() == "$"


def test_default_report_keeps_dollars(plans: dict[str, Path]) -> None:
    html = report_of(plans["default"])
    for amount in potentials(plans["default"]):
        assert f"${amount}" in html
    config = json.loads((plans["default"] / "summary.json").read_text(encoding="utf-8"))["config"]
    assert config["currency"] == "$"


def test_eur_report_has_eur_amounts_and_no_dollar(plans: dict[str, Path]) -> None:
    html = report_of(plans["eur"])
    for amount in potentials(plans["eur"]):
        assert f"EUR{NBSP}{amount}" in html
    assert "$" not in html
    summary = json.loads((plans["eur"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["currency"] == "EUR"


def test_eur_plan_writes_its_workbook_and_map_in_eur(plans: dict[str, Path]) -> None:
    import openpyxl

    ws = openpyxl.load_workbook(plans["eur"] / "plan.xlsx")["Territories"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("potential") + 1).number_format == "[$EUR] #,##0"
    assert ws.cell(2, header.index("workload") + 1).number_format == "#,##0.00"
    page = (plans["eur"] / "map.html").read_text(encoding="utf-8")
    legend = page[page.index('<aside id="tp-legend">') : page.index("</aside>")]
    # each rep's potential, nothing else: in the proposed plan's table and in the Current view's
    assert legend.count(f"<td>EUR{NBSP}") == 8
    assert "$" not in legend


def test_scenario_key_none_gives_plain_numbers(plans: dict[str, Path]) -> None:
    html = report_of(plans["none"])
    for amount in potentials(plans["none"]):
        assert f">{amount}<" in html  # the balance table's cell holds the bare number
    assert "$" not in html
    assert "EUR" not in html
    config = json.loads((plans["none"] / "summary.json").read_text(encoding="utf-8"))["config"]
    assert config["currency"] == ""


def test_bad_value_is_refused_naming_the_option_and_writes_no_plan(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inputs")
    out = tmp_path / "bad"
    code, output = run("plan", scenario, "--out", out, "--currency", "EURO", "--quiet")
    assert code == 2  # a flag's value: a usage error
    assert "--currency" in output
    assert "EURO" in output
    assert not (out / "report.html").exists()
    assert not (out / "summary.json").exists()
    bad_key = write_instance(tmp_path / "key", extra='currency = "bucks"\n')
    code, output = run("validate", bad_key)
    assert code == 1
    assert "--currency" in output
    assert "bucks" in output
    code, output = run("demo", "--out", tmp_path / "demo", "--currency", "bogus", "--quiet")
    assert code == 2  # checked before the demo solves
    assert "--currency" in output
    assert not (tmp_path / "demo" / "report.html").exists()


def test_api_calls_in_one_process_do_not_share_a_currency(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inputs")
    base = {"accounts": tmp_path / "inputs" / "accounts.csv", "reps": tmp_path / "inputs" / "reps.csv"}
    assert scenario.is_file()
    api.plan(build_options({**base, "currency": "£", "tolerance": 0.1}), tmp_path / "gbp")
    api.plan(build_options({**base, "tolerance": 0.1}), tmp_path / "usd")
    assert "£" in report_of(tmp_path / "gbp")
    assert "$" not in report_of(tmp_path / "gbp")
    assert "£" not in report_of(tmp_path / "usd")
    assert "$" in report_of(tmp_path / "usd")


def test_edit_re_renders_in_the_plans_currency(plans: dict[str, Path], tmp_path: Path) -> None:
    a = pd.read_csv(plans["eur"] / "assignments.csv", dtype={"account_id": str, "rep_id": str})
    row = a.iloc[0]
    other = next(r for r in ("R0", "R1", "R2", "R3") if r != row["rep_id"])
    edits = tmp_path / "edits.csv"
    pd.DataFrame({"account_id": [row["account_id"]], "rep_id": [other]}).to_csv(edits, index=False)
    for out, more in ((tmp_path / "edited", ()), (tmp_path / "rebalanced", ("--rebalance",))):
        code, output = run("edit", plans["eur"], "--edits", edits, "--out", out, *more)
        assert code == 0, output
        html = report_of(out)
        assert "$" not in html
        for amount in potentials(out):
            assert f"EUR{NBSP}{amount}" in html


def test_report_command_keeps_the_plans_currency_unless_told(tmp_path: Path) -> None:
    crm, plan = write_crm(tmp_path / "crm"), write_plan(tmp_path / "plan")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["config"]["currency"] = "INR"
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    common = ("report", "--crm", crm, "--period", "2026Q1", "--plan", plan, "--company-target", "1000")
    code, output = run(*common, "--out", tmp_path / "kept")
    assert code == 0, output
    html = report_of(tmp_path / "kept")
    assert f"INR{NBSP}1,000" in html  # the suggested quotas' total
    assert f"company target of INR{NBSP}1,000.00" in html
    assert "$" not in html
    code, output = run(*common, "--out", tmp_path / "told", "--currency", "€")
    assert code == 0, output
    assert "€1,000" in report_of(tmp_path / "told")
    assert "INR" not in report_of(tmp_path / "told")
    code, output = run(*common, "--out", tmp_path / "bad", "--currency", "Rupees")
    assert code == 2
    assert "--currency" in output
    assert not (tmp_path / "bad" / "report.html").exists()


def test_forecast_page_follows_the_option_and_the_plans_currency(tmp_path: Path) -> None:
    from tests.forecast_fixtures import synthetic_crm
    from tests.test_forecast import _plan

    crm = synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=2, seed=11)
    common = ("forecast", "--crm", crm, "--horizon", "2026Q3", "--workers", "1")
    code, output = run(*common, "--out", tmp_path / "usd")
    assert code == 0, output
    assert "$" in (tmp_path / "usd" / "forecast.html").read_text(encoding="utf-8")
    code, output = run(*common, "--out", tmp_path / "gbp", "--currency", "£")
    assert code == 0, output
    html = (tmp_path / "gbp" / "forecast.html").read_text(encoding="utf-8")
    assert "£" in html
    assert "$" not in html
    plan = _plan(tmp_path / "plan", crm, {})
    (plan / "summary.json").write_text(json.dumps({"config": {"currency": "CHF"}}), encoding="utf-8")
    code, output = run(*common, "--plan", plan, "--out", tmp_path / "chf")
    assert code == 0, output
    html = (tmp_path / "chf" / "forecast.html").read_text(encoding="utf-8")
    assert f"CHF{NBSP}" in html
    assert "$" not in html
    code, output = run(*common, "--out", tmp_path / "bad", "--currency", "pounds")
    assert code == 2
    assert "--currency" in output
    assert not (tmp_path / "bad" / "forecast.html").exists()


def test_a_sweep_can_vary_the_currency(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path / "inputs")
    out = tmp_path / "sweep"
    code, output = run("sweep", scenario, "--grid", "currency=EUR,none", "--out", out, "--quiet")
    assert code == 0, output
    reports = {
        json.loads((p / "summary.json").read_text(encoding="utf-8"))["config"]["currency"]: report_of(p)
        for p in (out / "points").iterdir()
    }
    assert sorted(reports) == ["", "EUR"]
    assert f"EUR{NBSP}" in reports["EUR"]
    assert "EUR" not in reports[""]
    assert "$" not in reports[""]
    code, output = run("sweep", scenario, "--grid", "currency=EUR,euro", "--out", tmp_path / "bad", "-q")
    assert code == 2, output  # a bad grid value is a usage error, found before any point is solved
    assert "euro" in output
    assert "currency" in output
    assert not (tmp_path / "bad" / "sweep.csv").exists()
