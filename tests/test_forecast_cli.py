"""The ``forecast`` command, the forecast in ``report``, ``--quota-method forecast`` and bad input."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.forecast.pipeline import pipeline_signal
from territory_planner.options import build_options
from territory_planner.report.plan import load_plan
from tests.forecast_fixtures import synthetic_crm
from tests.test_forecast import _plan


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_crm(tmp_path_factory.mktemp("crm"), reps=3, years=3.0, regions=2, seed=11)


def test_forecast_command_writes_its_folder(crm: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc"
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q3", "--out", out, "--workers", "1")
    assert code == 0, output
    assert "team forecast" in output
    assert "seasonal naive" in output
    assert sorted(p.name for p in out.iterdir()) == ["forecast.csv", "forecast.html", "forecast_backtest.csv"]
    html = (out / "forecast.html").read_text(encoding="utf-8")
    for fragment in ('id="forecast"', 'id="forecast-accuracy"', 'id="forecast-rep"', "80% band"):
        assert fragment in html
    fc = pd.read_csv(out / "forecast.csv")
    assert fc.loc[fc["level"] == "team", "id"].tolist() == ["all"]
    # the team's method as forecast.html gives it: a reconciled figure is not the method's own (QA67 F5)
    from territory_planner.forecast.html import method_label

    team = fc[fc["level"] == "team"].iloc[0].to_dict()
    assert f"method {method_label(team)}\n" in output


def test_the_console_says_when_the_team_forecast_is_reconciled(
    crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA67 F5: "team forecast $215,650,286 ..., method seasonal_naive" where seasonal naive gave
    $190,716,535 and the reps' reconciled sum was 13.1% above it; forecast.html said so, the console did
    not. Here every change counts as reconciled (the synthetic team moves by 0.3%)."""
    from territory_planner.forecast import html

    monkeypatch.setattr(html, "RECONCILED_TOLERANCE", 0.0)
    out = tmp_path / "fc"
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q3", "--out", out, "--workers", "1")
    assert code == 0, output
    team = pd.read_csv(out / "forecast.csv").query("level == 'team'").iloc[0].to_dict()
    assert team["forecast"] != team["base_forecast"]
    line = next(x for x in output.splitlines() if "team forecast" in x)
    assert ", reconciled " in line
    assert line.endswith(f"(its own forecast {html.fm.money(team['base_forecast'])})")
    code, _ = _run("forecast", "--crm", crm, "--horizon", "2026Q3", "--out", out)
    assert code == 2  # an existing folder needs --force: a usage error
    # in the run's currency, the method's own figure too (QA70 F1: "... CAD 2,536,405 ..., reconciled
    # +14.5% (its own forecast $2,215,826)")
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q3", "--out", tmp_path / "cad",
                        "--workers", "1", "--currency", "CAD")  # fmt: skip
    assert code == 0, output
    line = next(x for x in output.splitlines() if "team forecast" in x)
    assert "$" not in line
    assert line.endswith(f"(its own forecast CAD\xa0{team['base_forecast']:,.0f})"), line


def test_report_gains_the_forecast_and_quotas_follow_it(crm: Path, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "plan", crm, {"R001": "R002"})
    out = tmp_path / "report"
    args = ["report", "--crm", crm, "--period", "2026Q2", "--plan", plan, "--out", out]
    args += ["--forecast-horizon", "2026Q3", "--company-target", "1000000", "--quota-method", "forecast"]
    code, output = _run(*args)
    assert code == 0, output
    names = sorted(p.name for p in out.iterdir())
    assert {"forecast.csv", "forecast_backtest.csv", "report.html", "suggested_quotas.csv"} <= set(names)
    assert 'id="forecast-territory"' in (out / "report.html").read_text(encoding="utf-8")
    quotas = pd.read_csv(out / "suggested_quotas.csv").set_index("rep_id")
    assert quotas["suggested_quota"].sum() == pytest.approx(1_000_000, abs=0.001)
    # the quota year's forecast (12 months from the horizon's start), not one quarter's
    from territory_planner.forecast.api import compute_forecast

    year = compute_forecast(crm, "2026-07-01:2027-06-30", plan=load_plan(plan), workers=1)
    territory = year.level_forecast("territory")
    assert quotas["forecast"].to_numpy() == pytest.approx(
        territory.reindex(quotas.index).to_numpy(), abs=0.01
    )
    share = territory / territory.sum()
    assert quotas["forecast_share"].to_numpy() == pytest.approx(share.reindex(quotas.index).to_numpy())
    assert quotas.loc["R001", "suggested_quota"] == 0  # its accounts all moved to R002 (no potential)
    ratio = quotas["share"] / quotas["potential_share"]
    assert ratio.dropna().between(1 / 1.5 - 1e-9, 1.5 + 1e-9).all()  # damped toward the potential share


def test_quota_method_forecast_splits_the_year_blended_and_damped() -> None:
    """QA3b N4: one quarter's forecast split an annual target, with no damping toward potential and the
    history weight ignored (R05 got 15.5% of the target for a 7.3% potential share, R08 0.87% for 3.4%)."""
    from territory_planner.forecast.api import quota_year
    from territory_planner.report.periods import parse_period
    from territory_planner.report.quota import suggest_quotas

    year = quota_year(parse_period("2026Q3"))
    assert (year.start.isoformat(), year.end.isoformat()) == ("2026-07-01", "2027-06-30")
    assert quota_year(parse_period("2027")) == parse_period("2027")
    terr = pd.DataFrame({"rep_id": ["R05", "R08", "R01", "R02"], "potential": [73.0, 34.0, 446.5, 446.5]})
    lucky = pd.Series({"R05": 155.0, "R08": 8.7, "R01": 418.15, "R02": 418.15})  # one quarter's shares
    q = suggest_quotas(terr, 120e6, forecast=lucky).set_index("rep_id")
    ratio = q["share"] / q["potential_share"]
    assert ratio.max() <= 1.5 + 1e-9
    assert ratio.min() >= 1 / 1.5 - 1e-9
    assert ratio["R05"] == pytest.approx(1.5)
    assert ratio["R08"] == pytest.approx(1 / 1.5)
    assert q["suggested_quota"].sum() == pytest.approx(120e6, abs=0.001)
    potential_only = suggest_quotas(terr, 120e6, forecast=lucky, history_weight=0.0).set_index("rep_id")
    assert potential_only["share"].to_numpy() == pytest.approx(potential_only["potential_share"].to_numpy())
    mild = pd.Series({"R05": 80.0, "R08": 30.0, "R01": 445.0, "R02": 445.0})
    q = suggest_quotas(terr, 100.0, forecast=mild, history_weight=0.2).set_index("rep_id")
    blend = 0.8 * q["potential_share"] + 0.2 * q["forecast_share"]  # inside the bounds: the plain blend
    assert q["share"].to_numpy() == pytest.approx(blend.to_numpy())


def test_quota_method_forecast_needs_a_horizon(crm: Path, tmp_path: Path) -> None:
    plan = _plan(tmp_path / "plan", crm, {})
    code, output = _run(
        "report", "--crm", crm, "--period", "2026Q2", "--plan", plan, "--company-target", "10",
        "--quota-method", "forecast", "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 2  # a usage error, as plan's (QA29 F7: exit 1, bad input)
    assert "--forecast-horizon" in output
    code, output = _run(
        "report", "--crm", crm, "--period", "2026Q2", "--company-target", "10", "--out", tmp_path / "r2"
    )
    assert code == 2
    assert "suggested quotas need a plan (--plan)" in output


def test_plan_options_are_checked_before_solving() -> None:
    with pytest.raises(InputError) as err:
        build_options({"crm": "crm", "forecast_horizon": "2026Q5"})
    assert err.value.problems[0].column == "forecast_horizon"
    with pytest.raises(InputError) as err:
        build_options({"quota_method": "forecast"})
    assert err.value.problems[0].column == "quota_method"
    with pytest.raises(InputError) as err:
        build_options({"quota_history_weight": 1.5})
    assert err.value.problems[0].column == "quota_history_weight"
    assert build_options({"quota_history_weight": 0.25}).quota_history_weight == 0.25
    opts = build_options(
        {
            "crm": "crm",
            "period": "2026Q2",
            "forecast_horizon": "2026q3",
            "company_target": 5,
            "quota_method": "forecast",
        }
    )
    assert opts.forecast_horizon == "2026Q3"


def test_a_bad_table_the_forecast_does_not_read_does_not_stop_it(crm: Path, tmp_path: Path) -> None:
    """QA67: a Latin-1 byte in activities.csv, which the forecast never reads, refused the forecast (exit
    1). Now the forecast is written; the KPI report, which reads the activities, still names the cell,
    with the CRM folder it is in."""
    import shutil

    copy = tmp_path / "crm"
    shutil.copytree(crm, copy)
    rep = pd.read_csv(copy / "reps.csv", dtype=str)["rep_id"].iloc[0]
    (copy / "activities.csv").write_bytes(
        b"activity_id,rep_id,account_id,date,type\nX1," + rep.encode() + b",A1,2026-01-05,caf\xe9\n"
    )
    code, output = _run("forecast", "--crm", copy, "--horizon", "2026Q3", "--out", tmp_path / "fc")
    assert code == 0, output
    assert (tmp_path / "fc" / "forecast.csv").is_file()
    code, output = _run("report", "--crm", copy, "--period", "2026Q2", "--out", tmp_path / "rep")
    assert code == 1
    errors = pd.read_csv(tmp_path / "rep" / "input_errors.csv", dtype=str)
    assert errors["file"].tolist() == [str(copy / "activities.csv")]
    assert "UTF-8" in errors["message"].iloc[0]


def test_bad_crm_rows_are_all_reported(crm: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "reps.csv").write_bytes((crm / "reps.csv").read_bytes())
    opps = pd.read_csv(crm / "opportunities.csv", dtype=str, keep_default_na=False)
    opps.loc[2, "amount"] = "lots"
    opps.loc[4, "status"] = "maybe"
    opps.loc[6, "close_date"] = "31/12/2025"
    opps.to_csv(bad / "opportunities.csv", index=False)
    out = tmp_path / "out"
    code, output = _run("forecast", "--crm", bad, "--horizon", "2026Q3", "--out", out)
    assert code == 1
    errors = pd.read_csv(out / "input_errors.csv")
    found = set(zip(errors["row"], errors["column"], strict=True))
    assert {(3, "amount"), (5, "status"), (7, "close_date")} <= found
    assert (errors["file"] == str(bad / "opportunities.csv")).all()  # the folder named too
    assert not (out / "forecast.csv").exists()


def test_missing_opportunities_and_bad_horizon(tmp_path: Path) -> None:
    empty = tmp_path / "crm"
    empty.mkdir()
    code, output = _run("forecast", "--crm", empty, "--horizon", "2026Q3", "--out", tmp_path / "o")
    assert code == 1
    assert "opportunities.csv" in output
    code, output = _run("forecast", "--crm", empty, "--horizon", "2026Q9", "--out", tmp_path / "o2")
    assert code == 2


def test_live_pipeline_is_amount_times_probability_by_expected_close(crm: Path) -> None:
    from territory_planner.forecast.api import compute_forecast

    report = compute_forecast(crm, "2026Q3", workers=1)
    history = report.history
    window = history.layout.windows[0]
    d = history.deals
    inside = d["status"].eq("open") & d["close_date"].between(
        pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30")
    )
    expected = float((d.loc[inside, "amount"] * d.loc[inside, "probability"]).sum())
    assert pipeline_signal(history, window)[0][0] == pytest.approx(expected)
    assert expected > 0


def test_forecast_command_with_too_short_a_history_for_any_backtest(tmp_path: Path) -> None:
    """Ten months of history (QA2 E1): no backtest period at all. The command used to print the forecast
    and then crash (KeyError 'level' on the empty accuracy table, exit 1); it must exit 0 and say that the
    forecast fell back to the mean month and that there is no backtest."""
    crm = synthetic_crm(tmp_path / "crm", reps=2, years=10 / 12, regions=1, seed=3, as_of="2026-03-31")
    out = tmp_path / "fc"
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q2", "--out", out, "--workers", "1")
    assert code == 0, output
    assert "method mean month (short history: 10 months)" in output
    assert "note: the team forecast falls back to mean month (short history: 10 months" in output
    assert "note: no backtest" in output
    assert pd.read_csv(out / "forecast_backtest.csv").empty
    html = (out / "forecast.html").read_text(encoding="utf-8")
    assert "Note: the team forecast falls back to mean month" in html
    assert "did not beat the seasonal naive" not in html  # nothing was compared


def test_reconciled_forecasts_are_labelled_as_reconciled(crm: Path) -> None:
    """QA2 E10: a region's row read 'seasonal_naive' beside a number 27% away from seasonal naive's own
    forecast (reconciliation moved it). A moved number is labelled with the move and its base figure."""
    from territory_planner.forecast.api import compute_forecast
    from territory_planner.forecast.html import method_label, render_forecast_section

    assert (
        method_label({"method": "holt_winters", "forecast": 100.0, "base_forecast": 100.2}) == "holt_winters"
    )
    assert (
        method_label({"method": "seasonal_naive", "forecast": 314_051.0, "base_forecast": 246_901.0})
        == "seasonal_naive, reconciled +27.2% (its own forecast $246,901)"
    )
    report = compute_forecast(crm, "2026Q3", workers=1)
    fc = report.forecast
    moved = fc[(fc["forecast"] - fc["base_forecast"]).abs() > 0.005 * fc["base_forecast"].abs().clip(lower=1)]
    assert len(moved), "the fixture should have a series moved by reconciliation"
    html = str(render_forecast_section(report))
    for rec in moved.to_dict("records"):
        assert f"{rec['method']}, reconciled" in html


def _axis(svg: str) -> list[str]:
    """The chart's period labels, left to right (the notes under a label are ``class="partial"``)."""
    return re.findall(r'<text x="[\d.]+" y="270" text-anchor="middle">([^<]+)</text>', svg)


def test_the_period_the_export_ends_in_is_drawn_partial_and_explained(tmp_path: Path) -> None:
    """QA8 O8: a CRM ending 2026-09-29 and --horizon 2026Q4: 2026Q3 was neither a backtest period nor on
    the chart (the actual line ended at 2026Q2, the axis jumped to 2026Q4). Its known days are drawn as a
    hollow dot marked partial, off the line, and the page says what is known and what is forecast."""
    crm = synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=1, seed=11, as_of="2026-09-29")
    out = tmp_path / "fc"
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q4", "--out", out, "--workers", "1")
    assert code == 0, output
    opps = pd.read_csv(crm / "opportunities.csv", parse_dates=["close_date"])
    won = opps[(opps["status"] == "won") & opps["close_date"].between("2026-07-01", "2026-09-29")]
    so_far = won["amount"].sum()
    assert so_far > 0
    assert (
        f"note: 2026Q3 is only partly known: the CRM export ends 2026-09-29, and ${so_far:,.0f} was won from "
        "2026-07-01 to 2026-09-29 (the chart marks it partial); it is no backtest period until it ends"
    ) in output
    assert (
        "note: the models learn from whole months only, up to 2026-08; 2026-09 (known only to 2026-09-29) "
        "is forecast too, outside the 2026Q4 figure"
    ) in output
    assert "2026Q3" not in set(pd.read_csv(out / "forecast_backtest.csv")["period"])
    html = (out / "forecast.html").read_text(encoding="utf-8")
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :]
    svg = svg[: svg.index("</svg>")]
    assert _axis(svg)[-3:] == ["2026Q2", "2026Q3", "2026Q4"]  # no jump from 2026Q2 to 2026Q4
    assert re.findall(r'<text class="partial"[^>]*>([^<]+)<title>', svg) == ["partial"]
    (dot,) = re.findall(r'<circle class="partial"[^>]*><title>([^<]+)</title>', svg)
    assert html_module.unescape(dot) == (
        f"2026Q3 (2026-07-01 to 2026-09-30) partial: ${so_far:,.0f} won to 2026-09-29, the CRM export's "
        "latest date; the rest is not known yet"
    )
    line = re.search(r'<polyline points="([^"]+)"', svg)
    assert line is not None
    assert len(line.group(1).split()) == len(_axis(svg)) - 2  # the line stops at 2026Q2: 2026Q3 is off it
    assert f"2026Q3 is only partly known: the CRM export ends 2026-09-29, and ${so_far:,.0f} was won" in html
    assert "won so far (partial)" in svg


def test_a_period_wholly_after_the_export_has_its_place_on_the_axis(tmp_path: Path) -> None:
    crm = synthetic_crm(tmp_path / "crm", reps=2, years=3.0, regions=1, seed=11, as_of="2026-06-30")
    out = tmp_path / "fc"
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q4", "--out", out, "--workers", "1")
    assert code == 0, output
    assert "note: 2026Q3 is not in the CRM export (its latest date is 2026-06-30)" in output
    assert (
        "note: the models learn from whole months only, up to 2026-06; 2026-07 to 2026-09 are forecast"
        in (output)
    )
    html = (out / "forecast.html").read_text(encoding="utf-8")
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :]
    svg = svg[: svg.index("</svg>")]
    assert _axis(svg)[-3:] == ["2026Q2", "2026Q3", "2026Q4"]
    assert re.findall(r'<text class="partial"[^>]*>([^<]+)<title>', svg) == ["no data"]
    assert '<circle class="partial"' not in svg  # nothing known: no dot
    assert "won so far (partial)" not in svg


def test_an_export_with_no_opportunities_or_no_won_deal(crm: Path, tmp_path: Path) -> None:
    """QA17 F12: opportunities.csv with a header and no rows (an export filtered to nothing) crashed the
    forecast with a traceback; it is a problem naming the file. QA17 F13: with no won deal, the backtest's
    accuracy printed as "nan%"; it is n/a."""
    import shutil

    headed = tmp_path / "headed"
    shutil.copytree(crm, headed)
    opps = headed / "opportunities.csv"
    opps.write_text(opps.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    code, output = _run("forecast", "--crm", headed, "--horizon", "2026Q3", "--out", tmp_path / "o")
    assert code == 1, output
    assert "no opportunities: nothing to forecast from" in output
    assert "Traceback" not in output
    lost = tmp_path / "lost"
    shutil.copytree(crm, lost)
    table = pd.read_csv(crm / "opportunities.csv", dtype=str, keep_default_na=False)
    table["status"] = table["status"].replace("won", "lost")
    table.to_csv(lost / "opportunities.csv", index=False)
    code, output = _run(
        "forecast", "--crm", lost, "--horizon", "2026Q3", "--out", tmp_path / "o2", "--workers", "1"
    )
    assert code == 0, output
    assert "nan" not in output
    assert re.search(r"accuracy n/a vs seasonal naive n/a", output)


def test_an_accuracy_below_minus_100_percent_is_named_not_printed() -> None:
    """QA22 M11: the demo's new hire won $6,272 in the backtest against forecasts of more, and the report
    printed -1449.2%: below -100% the figure says nothing a reader can use."""
    from territory_planner.forecast.html import accuracy_text

    assert accuracy_text(-14.492) == "below -100%"
    assert accuracy_text(-1.0) != "below -100%"
    assert "88.8" in accuracy_text(0.888)
    assert accuracy_text(float("nan")) == "n/a"


def test_stale_open_deals_are_left_out_of_the_live_pipeline_and_named(tmp_path: Path) -> None:
    """QA25: 95 of 196 open deals of a CRM export were over a year old, each "expected at the cut-off",
    and the forecast was twice the best quarter ever. An open deal past its expected close date and older
    than 98% of the recent cycles is stale: left out of the live pipeline (as the backtest's rebuilt
    pipeline already counts it), and named in a note with its amount. The synthetic CRM's cycles are
    gamma (mean 50 days); ten open deals 500 days old, overdue since last year, are added."""
    from territory_planner.forecast.api import compute_forecast

    crm = synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=2, seed=11)
    deals = pd.read_csv(crm / "opportunities.csv")
    before = compute_forecast(crm, "2026Q3", workers=1)
    old = deals[deals["status"] == "open"].head(10).copy()
    old["opportunity_id"] = [f"STALE{i}" for i in range(len(old))]
    old["created_date"] = "2025-02-15"
    old["close_date"] = "2025-06-30"
    old["amount"] = 100000.0
    old["probability"] = 0.5
    pd.concat([deals, old]).to_csv(crm / "opportunities.csv", index=False)
    after = compute_forecast(crm, "2026Q3", workers=1)
    window = after.history.layout.windows[0]
    # the 500,000 of weighted stale amount is not in the pipeline signal (the window's own deals are)
    assert pipeline_signal(after.history, window)[0][0] == pytest.approx(
        pipeline_signal(before.history, before.history.layout.windows[0])[0][0]
    )
    notes = [n for n in after.fallback_notes() if "stale" in n]
    assert len(notes) == 1
    assert notes[0].startswith("10 open deals (1,000,000 in all, 500,000 weighted by their probability)")
    assert not [n for n in before.fallback_notes() if "stale" in n]


def test_a_backtest_that_never_used_the_forecasts_method_says_so(tmp_path: Path) -> None:
    """QA25 F8: the page showed "holt_winters+pipeline" as the team's method beside a backtest accuracy
    that six periods of seasonal naive made (the history at their cut-offs was too short for the model).
    With 2.5 years of history the forecast uses Holt-Winters and no backtest period does: a note says
    whose accuracy it is; with 3 years the last two periods use the forecast's method: no note."""
    from territory_planner.forecast.api import compute_forecast

    short = compute_forecast(synthetic_crm(tmp_path / "a", reps=3, years=2.5, regions=2, seed=11), "2026Q3")
    assert str(short.forecast.iloc[0]["method"]) == "holt_winters"
    assert short.backtest_method_notes() == [
        "the team's backtest accuracy is that of seasonal naive in 6 of 6 past periods, not of holt winters, "
        "the forecast's method, which no past period used"
    ]
    assert short.backtest_method_notes()[0] in short.fallback_notes()
    longer = compute_forecast(synthetic_crm(tmp_path / "b", reps=3, years=3.0, regions=2, seed=11), "2026Q3")
    assert longer.backtest_method_notes() == []


def test_a_horizon_the_export_reaches_into_says_what_was_won_so_far(crm: Path, tmp_path: Path) -> None:
    """QA27 F19: the current quarter, forecast as of its start, left out what was already won in it,
    and nothing said so (the export of the fixture ends 2026-06-30: 2026Q2 has all but ended)."""
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q2", "--out", tmp_path / "fc")
    assert code == 0, output
    opps = pd.read_csv(crm / "opportunities.csv", parse_dates=["close_date"])
    won = opps[(opps["status"] == "won") & opps["close_date"].between("2026-04-01", "2026-06-30")][
        "amount"
    ].sum()
    said = " ".join(output.split())
    assert "2026Q2 has begun in the CRM export (its latest date is 2026-06-30)" in said
    assert f"${won:,.0f} was already won from 2026-04-01 to 2026-06-30" in said
    page = html_module.unescape((tmp_path / "fc" / "forecast.html").read_text(encoding="utf-8"))
    assert "2026Q2 has begun in the CRM export" in page
    code, output = _run("forecast", "--crm", crm, "--horizon", "2026Q4", "--out", tmp_path / "later")
    assert code == 0, output
    assert "has begun" not in output


def test_a_won_deal_dated_years_ahead_does_not_move_the_exports_date(tmp_path: Path) -> None:
    """QA40 F3: one won deal dated 2040 (a typo; the run warns of its row) made the export's date 2040,
    so the next quarter counted as begun and its open deals' probabilities went unused (+13.6% on the
    team). The forecast is now the one the export gives without that deal's date."""
    from territory_planner.forecast.api import compute_forecast

    crm = synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=2, seed=5)
    opps = pd.read_csv(crm / "opportunities.csv", dtype=str, keep_default_na=False)
    won = opps.index[opps["status"] == "won"][0]
    clean = compute_forecast(crm, "2026Q3")
    far = opps.copy()
    far.loc[won, "close_date"] = "2040-03-01"
    far.to_csv(crm / "opportunities.csv", index=False)
    late = compute_forecast(crm, "2026Q3")
    assert late.history.layout.as_of == clean.history.layout.as_of
    gone = opps.drop(index=won)  # the deal in no month of the history at all
    gone.to_csv(crm / "opportunities.csv", index=False)
    without = compute_forecast(crm, "2026Q3")
    team = {r: float(r_.forecast.iloc[0]["forecast"]) for r, r_ in (("late", late), ("without", without))}
    assert team["late"] == pytest.approx(team["without"], rel=1e-9)
    assert not any("has begun" in note for note in late.fallback_notes())


def test_an_export_without_open_deals_is_forecast_without_the_pipeline_methods(tmp_path: Path) -> None:
    """QA40 F1: an order history exported without its open deals kept "+pipeline" methods, which the
    backtest had scored on rebuilt pipelines of some half of a quarter's won amount, with $0 of pipeline:
    a quarter's team forecast fell below half of last year's, unsaid. The methods with the pipeline are
    left out when the export's pipeline is under half of what the backtest rebuilt, and a note says so."""
    from territory_planner.forecast.api import compute_forecast

    crm = synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=2, seed=11)
    full = compute_forecast(crm, "2026Q3")
    assert full.result.thin_pipeline is None
    assert str(full.forecast.iloc[0]["method"]).endswith("+pipeline")  # the case where it matters
    assert full.thin_pipeline_notes() == []
    opps = pd.read_csv(crm / "opportunities.csv", dtype=str, keep_default_na=False)
    opps[opps["status"] != "open"].to_csv(crm / "opportunities.csv", index=False)
    bare = compute_forecast(crm, "2026Q3")
    assert bare.result.thin_pipeline is not None
    amount, share, typical = bare.result.thin_pipeline
    assert amount == 0
    assert share == 0
    assert typical > 0.2
    methods = bare.forecast["method"].astype(str)
    assert not methods.str.contains("+pipeline", regex=False).any()  # no series uses the empty pipeline
    # the forecast is then one of the methods without it, at least the level of last year's quarter's
    assert float(bare.forecast.iloc[0]["forecast"]) >= 0.8 * float(bare.forecast.iloc[0]["baseline_forecast"])
    (note,) = bare.thin_pipeline_notes()
    assert note.startswith("the CRM export's open deals are expected to bring 0 in 2026Q3")
    assert f"brought {100 * typical:.0f}% (median)" in note
    assert note in bare.fallback_notes()
    # a quarter further ahead: the rebuilt pipelines brought little there, so an empty one says nothing
    # (QA43 F3: "0% ... brought 0% (median)" on the sample CRM two quarters out)
    assert compute_forecast(crm, "2027Q1").result.thin_pipeline is None


def test_the_backtest_table_says_when_reconciliation_moved_a_number_and_regions_have_no_name_column(
    tmp_path: Path,
) -> None:
    """QA40 F6: the backtest table gave "seasonal_naive" beside a forecast reconciliation had moved (a
    rep's cut to half of seasonal naive's); forecast_backtest.csv now has each method's own number
    (``base_forecast``) and the page labels a moved one as the live tables do. F10: the region table had an
    empty Name column (regions have no names)."""
    from territory_planner.forecast.api import compute_forecast
    from territory_planner.forecast.html import (
        RECONCILED_TOLERANCE,
        forecast_context,
        render_forecast_section,
    )

    report = compute_forecast(
        synthetic_crm(tmp_path / "crm", reps=3, years=3.0, regions=2, seed=11), "2026Q3"
    )
    team = report.backtest[report.backtest["level"] == "team"]
    moved = (team["forecast"] - team["base_forecast"]).abs() > RECONCILED_TOLERANCE * team[
        "base_forecast"
    ].abs()
    assert moved.any()
    assert not moved.all()
    ctx = forecast_context(report)
    cells = [row[-1] for row in ctx["team_rows"]]
    assert ["reconciled" in cell for cell in cells] == moved.tolist()
    for cell, base in zip(cells, team["base_forecast"], strict=True):
        if "reconciled" in cell:
            assert f"(its own forecast ${base:,.0f})" in cell
    page = str(render_forecast_section(report))
    region = page[page.index('id="forecast-region"') :].split("</table>")[0]
    rep = page[page.index('id="forecast-rep"') :].split("</table>")[0]
    assert "<th>Name</th>" not in region
    assert "<th>Name</th>" in rep
    head = region[region.index("<thead>") : region.index("</thead>")].count("<th>")
    first = region[region.index("<tbody>") :].split("</tr>")[0].count("<td")
    assert head == first == 8
