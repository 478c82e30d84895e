"""CRM edge cases from QA2: a period outside the history (E4), mixed currencies (E5), departed reps (E10).

The CRM is the hand-computed fixture of ``conftest_report``: opportunities created from 2025-10-01 (O4) to
2026-04-02 (O7), closed up to 2026-04-01 (O5), so its history runs from 2025-10-01 to 2026-04-02.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest_report import TABLES, write_crm, write_plan

from territory_planner.errors import InputError
from territory_planner.report.api import compute_kpis
from territory_planner.report.cli import report_command
from territory_planner.report.crm import load_crm


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(report_command, [str(a) for a in args])
    return result.exit_code, result.output


def _values(long: pd.DataFrame, level: str, ident: str) -> dict[str, float]:
    rows = long[(long["level"] == level) & (long["id"] == ident)]
    return dict(zip(rows["kpi"], rows["value"], strict=True))


# --------------------------------------------------------------------------- E4: period outside the data
@pytest.mark.parametrize(("period", "side"), [("2026Q3", "after"), ("2025Q2", "before")])
def test_period_outside_the_history_is_na_and_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, period: str, side: str
) -> None:
    """2026Q3: every rep has a quota (R2's yearly 146) but no deal can be known: attainment n/a, not 0%;
    R2's deals open at the export would otherwise count as open at 2026-09-30. 2025Q2: nothing existed."""
    crm = write_crm(tmp_path / "crm")
    with caplog.at_level(logging.WARNING):
        report = compute_kpis(crm, period)
    expected = f"lies {side} the CRM data (the CRM history runs from 2025-10-01 to 2026-04-02)"
    assert any(expected in w for w in report.section.warnings), report.section.warnings
    assert expected in caplog.text
    for level, ident in (("team", "all"), ("rep", "R1"), ("rep", "R2"), ("region", "East")):
        values = _values(report.long, level, ident)
        assert values, (level, ident)
        assert all(math.isnan(v) for v in values.values()), (level, ident, values)


def test_period_outside_the_history_in_the_report_folder(tmp_path: Path) -> None:
    crm, plan, out = write_crm(tmp_path / "crm"), write_plan(tmp_path / "plan"), tmp_path / "out"
    code, output = _run("--crm", crm, "--period", "2026Q3", "--plan", plan, "--out", out)
    assert code == 0, output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "lies after the CRM data" in html
    kpis = pd.read_csv(out / "kpis.csv")
    team = kpis[kpis["level"] == "team"]
    assert team["value"].isna().all()  # blank, never 0
    territory = kpis[(kpis["level"] == "territory") & kpis["kpi"].isin(["accounts", "potential"])]
    assert territory["value"].notna().all()  # the plan's own numbers stay


def test_period_partly_after_the_history_is_warned_but_computed(tmp_path: Path) -> None:
    report = compute_kpis(write_crm(tmp_path / "crm"), "2026-03-01:2026-04-30")
    assert any("its last 28 day(s) have no data yet" in w for w in report.section.warnings)
    assert _values(report.long, "rep", "R1")["won_amount"] == 300  # O3, won 2026-03-31


def test_period_inside_the_history_has_no_warning(tmp_path: Path) -> None:
    assert compute_kpis(write_crm(tmp_path / "crm"), "2026Q1").section.warnings == []


# --------------------------------------------------------------------------- E5: currencies
def _with_currency(codes: list[str], header: str = "currency") -> str:
    lines = TABLES["opportunities.csv"].strip().split("\n")
    return "\n".join([f"{lines[0]},{header}"] + [f"{ln},{c}" for ln, c in zip(lines[1:], codes, strict=True)])


@pytest.mark.parametrize("header", ["currency", "CurrencyIsoCode", "Currency ISO Code"])
def test_mixed_currencies_are_refused_with_their_rows(tmp_path: Path, header: str) -> None:
    """A CRM export's own header for the column reads as ``currency`` (QA29 F15: Salesforce's
    CurrencyIsoCode was left unread and mixed currencies summed)."""
    codes = ["USD", "usd", "EUR", "USD", "USD", "USD", "USD", "EUR"]
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": _with_currency(codes, header)})
    with pytest.raises(InputError) as info:
        load_crm(crm)
    found = {(Path(p.file).name, p.row, p.column, p.value) for p in info.value.problems}
    assert found == {
        ("opportunities.csv", 3, "currency", "EUR"),
        ("opportunities.csv", 8, "currency", "EUR"),
    }
    assert all(
        "mixed currencies EUR, USD (most rows USD); convert to one currency first" in p.message
        for p in info.value.problems
    )


def test_quotas_in_another_currency_than_the_deals_are_refused(tmp_path: Path) -> None:
    quotas = TABLES["quotas.csv"].strip().split("\n")
    text = "\n".join([quotas[0] + ",currency"] + [f"{ln},EUR" for ln in quotas[1:]]) + "\n"
    crm = write_crm(
        tmp_path / "crm",
        override={"opportunities.csv": _with_currency(["USD"] * 8), "quotas.csv": text},
    )
    with pytest.raises(InputError) as info:
        load_crm(crm)
    found = {(Path(p.file).name, p.row) for p in info.value.problems}
    assert found == {("quotas.csv", r) for r in (1, 2, 3, 4)}


def test_one_currency_loads_and_names_the_report_currency(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": _with_currency(["EUR"] * 8)})
    out = tmp_path / "out"
    code, output = _run("--crm", crm, "--period", "2026Q1", "--out", out)
    assert code == 0, output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "EUR\xa0460" in html  # the team's won amount, in the CRM's own currency
    code, output = _run("--crm", crm, "--period", "2026Q1", "--out", out, "--force", "--currency", "$")
    assert code == 0, output
    assert "$460" in (out / "report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- E10: departed reps
def test_a_departed_rep_is_warned_and_kept_on_its_own_row(tmp_path: Path) -> None:
    """R9 (not in reps.csv) won O1 (100) and has a meeting: the report runs, says so, and R9's history
    stays in the team totals and on R9's own rep row, in no region, outside the roster's quota figures."""
    opps = TABLES["opportunities.csv"].replace(
        "O1,A1,R1,100,won,1,2025-12-01,2026-01-10", "O1,A1,R9,100,won,1,2025-12-01,2026-01-10"
    )
    acts = TABLES["activities.csv"] + "M8,R9,A3,2026-02-02,meeting\n"
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps, "activities.csv": acts})
    report = compute_kpis(crm, "2026Q1")
    warning = next(w for w in report.section.warnings if "rep R9" in w)
    assert "crm/opportunities.csv 1 row(s), crm/activities.csv 1 row(s)" in warning  # the folder's tables
    assert "departed" in warning
    # the rep row is the KPI report's; the forecast gives the deals to the accounts' reps (QA3b)
    assert "in the KPI report" in warning
    assert "the forecast instead gives its deals" in warning
    long = report.long
    assert _values(long, "team", "all")["won_amount"] == 460
    assert _values(long, "rep", "R9")["won_amount"] == 100
    assert _values(long, "rep", "R1")["won_amount"] == 300
    assert _values(long, "region", "(no region)")["won_amount"] == 100
    assert math.isnan(_values(long, "rep", "R9")["quota_attainment"])  # no quota
    # team attainment pools the reps with a quota: R1 300 + R2 60 + R3 0 over 800 + 36 + 100
    assert _values(long, "team", "all")["quota_attainment"] == pytest.approx(360 / 936, rel=1e-12)
    assert report.section.names["R9"] == "(departed: not in the roster)"


def test_a_departed_rep_does_not_stop_the_command(tmp_path: Path) -> None:
    opps = TABLES["opportunities.csv"].replace("O2,A1,R1,", "O2,A1,X99,")
    crm, out = write_crm(tmp_path / "crm", override={"opportunities.csv": opps}), tmp_path / "out"
    code, output = _run("--crm", crm, "--period", "2026Q1", "--out", out)
    assert code == 0, output
    assert "rep X99" in (out / "report.html").read_text(encoding="utf-8")


def test_an_account_owned_by_a_rep_not_in_the_roster_is_a_departed_reps(tmp_path: Path) -> None:
    """QA29 F11: the CRM export names a rep who left as the owner of its accounts until someone gives
    them away; the report runs (it was refused whole, one problem per account), with a warning naming
    the rep and how many accounts it still owns."""
    accounts = TABLES["accounts.csv"].replace("A4,Dyna,40,R2", "A4,Dyna,40,R7")
    crm = write_crm(tmp_path / "crm", override={"accounts.csv": accounts})
    data = load_crm(crm)
    # the table named with its folder, as the roster is; one from elsewhere by its path (QA71 F4)
    assert [w for w in data.warnings if w.startswith(f"rep R7 owns 1 account(s) in {crm.name}/accounts.csv ")]
    code, output = _run("--crm", crm, "--period", "2026Q1", "--out", tmp_path / "out")
    assert code == 0, output
    elsewhere = tmp_path / "ext" / "my_accounts.csv"  # --accounts: that file, not the folder's
    elsewhere.parent.mkdir()
    elsewhere.write_text(accounts, encoding="utf-8")
    data = load_crm(crm, accounts_path=elsewhere)
    assert [w for w in data.warnings if w.startswith(f"rep R7 owns 1 account(s) in {elsewhere} ")]
