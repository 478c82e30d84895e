"""write_report: files written, escaping, blanks for empty denominators, suggested quotas."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from conftest_report import ASSIGNMENTS, TABLES, TERRITORIES, write_crm, write_plan

from territory_planner.errors import InputError
from territory_planner.report.api import write_report

EVIL = "<img src=x onerror=alert(1)>"


def test_plan_and_crm_report(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm")
    plan = write_plan(tmp_path / "plan")
    written = write_report(plan, plan_dir=plan, crm_dir=crm, period="2026Q1", company_target=1000.0)
    assert {p.name for p in written} == {"report.html", "kpis.csv", "suggested_quotas.csv"}
    html = (plan / "report.html").read_text(encoding="utf-8")
    for fragment in ('id="balance"', 'id="moved"', 'id="kpi-team"', 'id="inherit"', 'id="quotas"', "<svg"):
        assert fragment in html
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "Bolt" in html
    assert "closer to R3" in html
    quotas = pd.read_csv(plan / "suggested_quotas.csv")
    assert quotas["suggested_quota"].tolist() == [100.0, 300.0, 600.0]


def test_blank_value_for_empty_denominator(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_report(out, crm_dir=write_crm(tmp_path / "crm"), period="2026Q1")
    with (out / "kpis.csv").open(encoding="utf-8") as fh:
        rows = {(r["level"], r["id"], r["kpi"]): r["value"] for r in csv.DictReader(fh)}
    assert rows[("rep", "R3", "win_rate")] == ""
    assert rows[("rep", "R3", "won_amount")] in ("0.0", "0")
    assert not (out / "report.html").read_text(encoding="utf-8").count("nan")


def test_names_are_escaped_and_csv_cells_neutralised(tmp_path: Path) -> None:
    reps = TABLES["reps.csv"].replace("Ann East", EVIL)
    crm = write_crm(tmp_path / "crm", override={"reps.csv": reps})
    plan = write_plan(
        tmp_path / "plan",
        assignments=ASSIGNMENTS.replace("Bolt", "=HYPERLINK(1)"),
        territories=TERRITORIES.replace("Cy West", EVIL),
    )
    out = tmp_path / "out"
    write_report(out, plan_dir=plan, crm_dir=crm, period="2026Q1", company_target=10.0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    quotas = (out / "suggested_quotas.csv").read_text(encoding="utf-8")
    assert "'<img" not in quotas
    assert EVIL in quotas
    terr = TERRITORIES.replace("Cy West", "=cmd|calc")
    plan2 = write_plan(tmp_path / "plan2", territories=terr)
    write_report(tmp_path / "out2", plan_dir=plan2, company_target=10.0)
    assert "'=cmd|calc" in (tmp_path / "out2" / "suggested_quotas.csv").read_text(encoding="utf-8")
    # a plan folder's CSV holds the name guarded ('=cmd|calc); the page shows the name (QA17 F11)
    plan3 = write_plan(tmp_path / "plan3", territories=TERRITORIES.replace("Cy West", "'=cmd|calc"))
    write_report(tmp_path / "out3", plan_dir=plan3)
    page = (tmp_path / "out3" / "report.html").read_text(encoding="utf-8")
    assert "=cmd|calc" in page
    assert "&#x27;=cmd" not in page
    assert "'=cmd" not in page


def test_plan_only_report(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan")
    written = write_report(plan, plan_dir=plan)
    assert [p.name for p in written] == ["report.html"]
    html = (plan / "report.html").read_text(encoding="utf-8")
    assert 'id="balance"' in html
    assert 'id="kpi-team"' not in html
    assert "+80.0%" in html  # R3's potential deviation, formatted for people


def test_missing_table_reason_in_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_report(out, crm_dir=write_crm(tmp_path / "crm", skip=("quotas.csv",)), period="2026Q1")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "quotas.csv not found" in html
    kpis = pd.read_csv(out / "kpis.csv")
    attainment = kpis[kpis["kpi"] == "quota_attainment"]
    assert len(attainment) > 0
    assert attainment["value"].isna().all()  # blank: unavailable, never 0


def test_quota_blend_with_history(tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan")
    out = tmp_path / "out"
    write_report(
        out,
        plan_dir=plan,
        crm_dir=write_crm(tmp_path / "crm"),
        period="2026Q1",
        company_target=1000.0,
        quota_history_weight=0.5,
    )
    q = pd.read_csv(out / "suggested_quotas.csv").set_index("rep_id")
    # inherited won revenue: R1 100, R2 60, R3 300 (of 460); potential shares 0.1, 0.3, 0.6
    expected = {
        r: 1000 * (0.5 * p + 0.5 * w / 460)
        for r, p, w in (("R1", 0.1, 100), ("R2", 0.3, 60), ("R3", 0.6, 300))
    }
    for rep, value in expected.items():
        assert q.at[rep, "suggested_quota"] == pytest.approx(value, abs=0.01)
    assert q["suggested_quota"].sum() == pytest.approx(1000.0, abs=1e-9)
    # QA22 M11: the page shows each quota to the cent, as the note says they are rounded, and what it
    # shows adds up to the company target (whole amounts did not)
    html = (out / "report.html").read_text(encoding="utf-8")
    shown = [f"${v:,.2f}" for v in q["suggested_quota"]]
    assert all(text in html for text in shown)
    assert "$1,000.00" in html
    assert sum(float(t[1:].replace(",", "")) for t in shown) == pytest.approx(1000.0, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"crm": True}, "--period"),  # flags that do not go together: the flag's name (QA29 F7)
        ({"crm": True, "period": "2026Q5"}, "period"),
        ({"plan": False, "crm": True, "period": "2026Q1", "company_target": 5.0}, "--company-target"),
    ],
)
def test_bad_arguments_are_input_errors(tmp_path: Path, kwargs: dict[str, object], column: str) -> None:
    crm = write_crm(tmp_path / "crm") if kwargs.pop("crm", False) else None
    kwargs.pop("plan", None)
    with pytest.raises(InputError) as info:
        write_report(tmp_path / "out", crm_dir=crm, **kwargs)  # type: ignore[arg-type]
    assert info.value.problems[0].column == column


def test_missing_plan_files(tmp_path: Path) -> None:
    (tmp_path / "plan").mkdir()
    with pytest.raises(InputError) as info:
        write_report(tmp_path / "out", plan_dir=tmp_path / "plan")
    assert {p.file for p in info.value.problems} == {"assignments.csv", "territories.csv", "summary.json"}


def test_opportunities_outside_the_plan_are_flagged(tmp_path: Path) -> None:
    """The plan lists A4 as A4-OLD: O6 (1000) and O7 (80), 2 of the 8 opportunities and 1080 of their
    2190 amount (49%), are on an account the plan does not have. The matching plan gets no warning."""
    crm = write_crm(tmp_path / "crm")
    renamed = write_plan(tmp_path / "renamed", assignments=ASSIGNMENTS.replace("\nA4,", "\nA4-OLD,"))
    write_report(tmp_path / "out", plan_dir=renamed, crm_dir=crm, period="2026Q1")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert (
        '<p class="warning">2 of 8 opportunities (49.3% of their amount) are on 1 account(s) that are not in '
        "the plan (A4)" in page
    )
    write_report(tmp_path / "same", plan_dir=write_plan(tmp_path / "plan"), crm_dir=crm, period="2026Q1")
    assert 'class="warning"' not in (tmp_path / "same" / "report.html").read_text(encoding="utf-8")


def test_bar_chart_has_a_readable_axis() -> None:
    """Deviation bars within a +-5% band: zero and the band's edges are written under the bars; the
    chart's end at -5.1% is left out, as it would overlap -5.0%."""
    import re

    from territory_planner.report.charts import bar_chart
    from territory_planner.report.formatting import signed_percent

    svg = str(
        bar_chart(
            ["R1", "R2"],
            {"potential": [3.0, -5.1], "workload": [1.0, 2.0]},
            fmt=signed_percent,
            title="deviation",
            band=(-5.0, 5.0),
        )
    )
    ticks = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" fill="#555">([^<]+)</text>', svg)
    assert sorted(label for _, label in ticks) == ["+0.0%", "+5.0%", "-5.0%"]
    xs = sorted(float(x) for x, _ in ticks)
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= 44


def test_bar_chart_shades_each_series_in_its_own_band() -> None:
    """Potential at +-5% and workload at +-10%: each bar is shaded in its own measure's band (one band
    for all drew the tightest, so a workload bar at +8% looked out of band); a measure without a band
    (not balanced) gets no shade; the same band for every series is one shade behind the chart."""
    import re

    from territory_planner.report.charts import bar_chart
    from territory_planner.report.formatting import signed_percent

    def strips(svg: str) -> list[tuple[float, float, str]]:
        found = re.findall(
            r'<rect class="tp-band" x="([\d.]+)" y="[\d.-]+" width="([\d.]+)"[^>]*><title>(\w+)', svg
        )
        return [(float(x), float(w), name) for x, w, name in found]

    args = (
        ["R1", "R2", "R3"],
        {"potential": [3.0, -4.0, 1.0], "workload": [8.0, -9.0, 0.0], "pipeline": [20.0, 1.0, 0.0]},
    )
    svg = str(
        bar_chart(
            *args, fmt=signed_percent, title="d", band={"potential": (-5.0, 5.0), "workload": (-10.0, 10.0)}
        )
    )
    got = strips(svg)
    assert sorted(name for _, _, name in got) == ["potential"] * 3 + ["workload"] * 3
    width = {name: w for _, w, name in got}
    assert width["workload"] == pytest.approx(2 * width["potential"], rel=1e-2)
    assert 'fill="#e8f3e8"/>' not in svg  # no shade behind the whole chart
    ticks = re.findall(r'text-anchor="middle" fill="#555">([^<]+)</text>', svg)
    assert {"+10.0%", "-10.0%"} <= set(ticks)
    same = str(bar_chart(*args, fmt=signed_percent, title="d", band=dict.fromkeys(args[1], (-5.0, 5.0))))
    assert not strips(same)
    assert same.count('fill="#e8f3e8"/>') == 1


def test_bar_chart_labels_fit_their_column() -> None:
    """QA3b: the quota chart's label column was a fixed 170 px, so "R16 (departed: not in the roster)"
    showed as "6 (departed: not in the roster)", its start cut off at the chart's left edge. The column
    now widens for long labels; a label longer than its maximum is cut with an ellipsis, and every
    label keeps its full text as a tooltip."""
    import re

    from territory_planner.report.charts import CHAR_W, bar_chart
    from territory_planner.report.formatting import percent

    departed = "R16 (departed: not in the roster)"
    huge = "R17 " + "Maximilian-Alexander von Hohenzollern-Sigmaringen " * 3
    svg = str(
        bar_chart([departed, "R01 Ana", huge], {"quota attainment": [0.5, 1.2, 0.9]}, fmt=percent, title="t")
    )
    labels = re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"><title>([^<]+)</title>([^<]+)</text>', svg
    )
    assert [full for _, full, _ in labels] == [departed, "R01 Ana", huge]
    for x, _full, shown in labels:
        assert CHAR_W * len(shown) <= float(x), shown  # the text ends at x: it starts inside the chart
    assert labels[0][2] == departed
    assert labels[2][2].endswith("\u2026")
    assert len(labels[2][2]) < len(huge)


def test_bar_chart_labels_in_japanese_fit_their_column() -> None:
    """QA7, Tokyo: "R12 吉田 一郎兵衛左衛門之助 (首都圏第二営業本部 特別法人営業部 部長代理)" was measured as
    42 characters of 6.2 px, drawn at twice that (a CJK glyph is a whole 11-px em), and showed as
    "兵衛左衛門之助 (首都圏第二営業本部 ...": its start, the rep id included, off the chart's left edge.
    Now a wide character counts 11 px: the label is cut at its end, and a short one is kept whole."""
    import re
    import unicodedata

    from territory_planner.report.charts import CHAR_W, bar_chart
    from territory_planner.report.formatting import percent

    long_jp = "R12 吉田 一郎兵衛左衛門之助 (首都圏第二営業本部 特別法人営業部 部長代理)"
    short_jp = "R01 佐藤 健太"
    svg = str(bar_chart([long_jp, short_jp], {"potential": [0.05, -0.02]}, fmt=percent, title="t"))
    labels = re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end"><title>([^<]+)</title>([^<]+)</text>', svg
    )

    def drawn(text: str) -> float:
        return sum(11.0 if unicodedata.east_asian_width(c) in ("W", "F") else CHAR_W for c in text)

    assert [full for _, full, _ in labels] == [long_jp, short_jp]
    for x, _full, shown in labels:
        assert drawn(shown) <= float(x), shown
    assert labels[0][2].startswith("R12 吉田")
    assert labels[0][2].endswith("\u2026")
    assert labels[1][2] == short_jp


def test_bar_chart_lines_stop_above_the_tick_labels() -> None:
    """QA7: the zero line (and the dashed reference line) ran down through the "+0.0%" tick label."""
    import re

    from territory_planner.report.charts import bar_chart
    from territory_planner.report.formatting import percent

    svg = str(bar_chart(["a", "b"], {"x": [0.5, 1.2]}, fmt=percent, title="t", reference=1.0))
    ticks = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="middle"', svg)]
    lines = [float(y) for y in re.findall(r'<line [^>]*y2="([\d.]+)"', svg)]
    assert ticks
    assert len(lines) == 2
    assert max(lines) <= min(ticks) - 11  # the labels' 11-px glyphs sit above their baseline


def test_a_tall_bar_chart_shows_its_scale_above_the_bars_too() -> None:
    """QA7, 200 reps: the deviation chart was 6,400 px tall with its only scale (-15%, 0, +15%) under the
    last bar. A chart of more than 25 rows repeats the tick labels above the first bar, clear of the
    legend; a short chart keeps one scale."""
    import re

    from territory_planner.report.charts import bar_chart
    from territory_planner.report.formatting import signed_percent

    def ticks(n: int) -> list[tuple[str, float]]:
        labels = [f"R{k:03d}" for k in range(n)]
        svg = str(
            bar_chart(
                labels,
                {"potential": [(-1) ** k * 5.0 for k in range(n)], "workload": [3.0] * n},
                fmt=signed_percent,
                title="t",
                band=(-15.0, 15.0),
            )
        )
        bars = re.findall(
            r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="10" fill="#\w+"><title>', svg
        )
        first_bar = min(float(y) for y in bars)
        legend = max(
            float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)">(?:potential|workload)<', svg)
        )
        found = re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="middle" fill="#555">([^<]+)<', svg)
        above = [(t, float(y)) for y, t in found if float(y) < first_bar]
        assert all(legend + 11 <= y for _, y in above)  # clear of the legend's line
        return above

    assert ticks(10) == []
    assert sorted(t for t, _ in ticks(200)) == sorted(["-15.0%", "+0.0%", "+15.0%"])


def test_a_period_without_data_draws_no_chart_of_nothing(tmp_path: Path) -> None:
    """QA27 F14: a period before the CRM history drew eleven "n/a" bars and an empty scatter; one line
    says there is nothing to chart instead."""
    out = tmp_path / "out"
    write_report(out, crm_dir=write_crm(tmp_path / "crm"), period="2021Q1")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "No chart of quota attainment" in page
    assert "Quota attainment per rep</h3>" not in page
    assert "Win rate vs average deal size</h3>" not in page
    out = tmp_path / "q1"
    write_report(out, crm_dir=write_crm(tmp_path / "crm2"), period="2026Q1")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "No chart of" not in page
    assert "Win rate vs average deal size</h3>" in page


def test_an_objective_with_a_disruption_penalty_is_not_called_km(tmp_path: Path) -> None:
    """QA28 F6: report.html labelled travel + disruption penalty "workload-weighted km"."""
    import json

    plan = write_plan(tmp_path / "plan")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary.update(objective=116_338.0, compactness=113_924.0, disruption_price=0.339)
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    write_report(tmp_path / "out", plan_dir=plan)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'Objective (travel + disruption penalty)</div><div class="v">116,338' in page
    assert 'Travel (workload-weighted km)</div><div class="v">113,924' in page
