"""Bad CRM rows are all reported at once, with file, 1-based row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_report import TABLES, write_crm

from territory_planner.errors import InputError
from territory_planner.report.crm import load_crm

BAD_OPPS = """opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date
O1,A1,R1,100,won,1,2026-01-01,2026-01-10
O2,A1,R1,100,won,1,2026-01-01,2026-01-10
O3,A1,R1,100,won,1.5,2026-01-01,2026-01-10
O4,A1,R1,100,won,1,2026-02-01,2026-01-10
O5,A1,R1,100,won,1,2026-13-45,2026-01-10
O5,A1,R1,abc,maybe,1,2026-01-01,
O7,A1,R1,-5,lost,0,2026-01-01,2026-01-03
"""


def _problems(tmp_path: Path, **override: str) -> set[tuple[str, int | None, str | None]]:
    crm = write_crm(tmp_path / "crm", override=override)
    with pytest.raises(InputError) as info:
        load_crm(crm)
    return {(Path(p.file).name, p.row, p.column) for p in info.value.problems}


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    found = _problems(tmp_path, **{"opportunities.csv": BAD_OPPS})
    assert found == {
        ("opportunities.csv", 3, "probability"),  # outside 0..1
        ("opportunities.csv", 4, "close_date"),  # close before create
        ("opportunities.csv", 5, "created_date"),  # unparseable date
        ("opportunities.csv", 6, "opportunity_id"),  # duplicate id
        ("opportunities.csv", 6, "amount"),  # not a number
        ("opportunities.csv", 6, "status"),  # not open/won/lost
        ("opportunities.csv", 7, "amount"),  # negative
    }


def test_a_duplicate_id_names_the_row_it_repeats(tmp_path: Path) -> None:
    """QA67 F2: "duplicate id" at row 40,000 of a 250,000-row export, where the accounts say "first seen
    on row N"."""
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": BAD_OPPS})
    with pytest.raises(InputError) as info:
        load_crm(crm)
    [dup] = [p for p in info.value.problems if p.column == "opportunity_id"]
    assert (dup.row, dup.value, dup.message) == (6, "O5", "duplicate id (first seen on row 5)")


def test_problems_from_several_tables_together(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        **{
            "leads.csv": TABLES["leads.csv"] + "L9,R1,A1,2026-02-02T10:00,2026-02-01T10:00\n",
            "time_log.csv": "rep_id,date,selling_hours\nR1,2026-01-05,10\n",
            "quotas.csv": TABLES["quotas.csv"] + "R1,2026-01-01,2026-03-31,-5\n",
        },
    )
    assert ("leads.csv", 5, "responded_at") in found
    assert ("time_log.csv", None, "total_hours") in found  # missing required column
    assert ("quotas.csv", 5, "quota") in found


def test_won_deal_without_close_date_is_a_problem(tmp_path: Path) -> None:
    text = TABLES["opportunities.csv"].replace(
        "O8,A3,R2,60,won,1,2026-01-10,2026-01-20", "O8,A3,R2,60,won,1,2026-01-10,"
    )
    assert _problems(tmp_path, **{"opportunities.csv": text}) == {("opportunities.csv", 8, "close_date")}


def test_column_names_are_case_insensitive(tmp_path: Path) -> None:
    text = TABLES["quotas.csv"].replace("rep_id,period_start", "Rep_ID,PERIOD_START")
    crm = load_crm(write_crm(tmp_path / "crm", override={"quotas.csv": text}))
    quotas = crm.get("quotas")
    assert quotas is not None
    assert list(quotas.columns) == ["rep_id", "period_start", "period_end", "quota"]


def test_empty_file_and_wrong_encoding(tmp_path: Path) -> None:
    crm = write_crm(tmp_path / "crm")
    (crm / "leads.csv").write_text("", encoding="utf-8")
    (crm / "activities.csv").write_bytes(
        "activity_id,rep_id,account_id,date,type\nM1,R1,A1,2026-01-05,r\xe9union\n".encode("latin-1")
    )
    with pytest.raises(InputError) as info:
        load_crm(crm)
    messages = {Path(p.file).name: p.message for p in info.value.problems}
    assert "empty" in messages["leads.csv"]
    assert "UTF-8" in messages["activities.csv"]
    # with its row, column and cell, as for accounts and reps (QA67 F1: "at byte 9550064" of a
    # 300,000-row table); an edits file, a locks file and an edge list say it so too
    [bad] = [p for p in info.value.problems if Path(p.file).name == "activities.csv"]
    assert (bad.row, bad.column, bad.value) == (1, "E (type)", "r\xe9")


@pytest.mark.parametrize("what", ["edits", "locks", "edges"])
def test_a_latin_1_byte_in_any_csv_is_named_by_row_and_column(tmp_path: Path, what: str) -> None:
    from territory_planner.geo.adjacency import read_edge_list
    from territory_planner.io.readers import read_csv_cells

    rows = ["account_id,rep_id", *(f"A{k},R1" for k in range(1, 40)), "Caf\xe9,R2"]
    if what == "edges":
        rows = ["source,target", *(f"A{k},A{k + 1}" for k in range(1, 40)), "A1,Caf\xe9"]
    path = tmp_path / f"{what}.csv"
    path.write_bytes("\n".join(rows).encode("latin-1"))

    def read() -> object:
        if what == "edges":
            return read_edge_list(path, [f"A{k}" for k in range(1, 41)])
        return read_csv_cells(path, what)

    with pytest.raises(InputError) as info:
        read()
    [bad] = info.value.problems
    column = "B (target)" if what == "edges" else "A (account_id)"
    assert (bad.row, bad.column, bad.value) == (40, column, "Caf\xe9")
    assert "line 41" in bad.message


def test_missing_tables_are_not_errors(tmp_path: Path) -> None:
    crm = load_crm(write_crm(tmp_path / "crm", skip=("leads.csv", "forecasts.csv")))
    assert crm.get("leads") is None
    assert set(crm.missing) == {"leads", "forecasts"}


def _amounts(tmp_path: Path, opportunities: str) -> list[float]:
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opportunities})
    frame = load_crm(crm).get("opportunities")
    assert frame is not None
    return frame["amount"].tolist()


def test_a_crm_export_from_a_european_excel_is_read_in_its_convention(tmp_path: Path) -> None:
    """QA5: an opportunities.csv saved by Excel in de-DE / fr-FR (';' separator, decimal comma, '.' for
    thousands, a BOM) was read as one column: eight 'required column is missing' problems. Comma files
    with thousands separators ('9,010', as the accounts table already reads them) were 'not a number'."""
    semicolon = (
        "\ufeffopportunity_id;account_id;rep_id;amount;status;probability;created_date;close_date\n"
        "O1;A1;R1;1.234,50;won;1;2026-01-01;2026-01-10\nO2;A1;R1;980;open;0,25;2026-01-01;\n"
    )
    assert _amounts(tmp_path / "a", semicolon) == [1234.5, 980.0]
    comma = (
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        'O1,A1,R1,"9,010",won,1,2026-01-01,2026-01-10\nO2,A1,R1,"1,234,567.5",open,0.25,2026-01-01,\n'
    )
    assert _amounts(tmp_path / "b", comma) == [9010.0, 1234567.5]


def test_a_decimal_comma_in_a_comma_file_is_reported_with_a_hint(tmp_path: Path) -> None:
    crm = write_crm(
        tmp_path / "crm",
        override={
            "opportunities.csv": "opportunity_id,account_id,rep_id,amount,status,probability,created_date,"
            'close_date\nO1,A1,R1,"51,7",won,1,2026-01-01,2026-01-10\nO2,A1,R1,abc,won,1,2026-01-01,2026-01-10\n'
        },
    )
    with pytest.raises(InputError) as info:
        load_crm(crm)
    got = {(p.row, p.column): p.message for p in info.value.problems}
    assert got[(1, "amount")] == "not a number (a decimal comma? write 51.7 with a decimal point)"
    assert got[(2, "amount")] == "not a number"


def test_a_crm_column_named_twice_is_reported_not_renamed(tmp_path: Path) -> None:
    """QA5: pandas renamed the second rep_id column rep_id.1 and the first, blank one was read: 200 'empty
    value' rows (and had the blank one come second, it would have been dropped without a word)."""
    found = _problems(
        tmp_path,
        **{
            "opportunities.csv": "opportunity_id,account_id,rep_id,Rep_ID,amount,status,probability,"
            "created_date,close_date\nO1,A1,,R1,100,won,1,2026-01-01,2026-01-10\n"
        },
    )
    assert found == {("opportunities.csv", None, "D (Rep_ID)")}


def test_won_deals_closing_after_the_export_are_warned_about(tmp_path: Path) -> None:
    """QA5: won deals with a close_date months after every opportunity's creation (an expected close date
    on a deal marked won) stretched the history: a later --period got a 100% win rate from them alone,
    with no word. They are kept and named (rows, dates); a close within a month of the last creation
    (an export taken a few weeks after it) is not."""
    opps = (
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A1,R1,100,won,1,2026-01-01,2026-01-10\nO2,A1,R1,100,won,1,2026-06-30,2026-07-20\n"
        "O3,A1,R1,100,won,1,2026-02-01,2026-11-15\nO4,A1,R1,100,open,0.5,2026-02-01,2027-03-01\n"
    )
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    warnings = [w for w in load_crm(crm).warnings if "cannot close after the export" in w]
    assert len(warnings) == 1
    assert "1 won/lost deal(s) close after 2026-07-31" in warnings[0]
    assert (
        "latest opportunity was created (2026-06-30), from 2026-11-15 to 2026-11-15 (rows 3)" in warnings[0]
    )


def test_stamps_with_an_offset_are_read_on_one_clock(tmp_path: Path) -> None:
    """QA17 F2: Salesforce and HubSpot export stamps with an offset (``Z``, ``+02:00``); they crashed every
    period comparison. They are read in UTC, mixed offsets in one column too: R1's lead L2, contacted at
    23:00 on 31 March at -01:00, is contacted on 1 April in UTC (out of 2026Q1), so R1's Q1 response time
    is L1's alone, 09:00Z to 14:00+02:00 = 3 h (2.5 h with the stamps as written)."""
    import csv

    from territory_planner.report.api import write_report

    leads = TABLES["leads.csv"].replace(
        "2026-01-01T09:00,2026-01-01T12:00", "2026-01-01T09:00:00Z,2026-01-01T14:00:00+02:00"
    )
    leads = leads.replace(
        "2026-03-31T23:00,2026-04-01T01:00", "2026-03-31T23:00:00-01:00,2026-04-01T02:00:00.000+01:00"
    )
    opps = TABLES["opportunities.csv"].replace(
        "2025-12-01,2026-01-10", "2025-12-01T08:00:00.000Z,2026-01-10T17:30:00.000Z"
    )
    # a date keeps its writer's calendar day (QA18 F6): O3, closed 23:30 on 31 March in New York, is Q1's
    opps = opps.replace("2026-03-01,2026-03-31", "2026-03-01,2026-03-31T23:30:00-05:00")
    quotas = TABLES["quotas.csv"].replace(
        "R1,2026-01-01,2026-03-31,800", "R1,2026-01-01T00:00:00+02:00,2026-03-31T23:59:59+02:00,800"
    )
    crm = write_crm(
        tmp_path / "crm", override={"leads.csv": leads, "opportunities.csv": opps, "quotas.csv": quotas}
    )
    out = tmp_path / "out"
    write_report(out, crm_dir=crm, period="2026Q1")
    with (out / "kpis.csv").open(encoding="utf-8") as fh:
        rows = {(r["level"], r["id"], r["kpi"]): r["value"] for r in csv.DictReader(fh)}
    assert float(rows[("rep", "R1", "lead_response_hours")]) == pytest.approx(3.0)
    assert float(rows[("rep", "R1", "won_amount")]) == pytest.approx(400.0)  # O1 (stamped) and O3
    assert float(rows[("rep", "R1", "quota_attainment")]) == pytest.approx(400 / 800)  # the quarter's quota


def test_a_close_date_that_is_no_date_is_reported_once(tmp_path: Path) -> None:
    """QA17 F6: an unreadable close_date of a won deal was reported again as "a won or lost deal needs a
    close_date", with the status as the cell's value."""
    text = TABLES["opportunities.csv"].replace("2026-01-10,2026-01-20", "2026-01-10,01/20/2026")
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": text})
    with pytest.raises(InputError) as info:
        load_crm(crm)
    found = [(p.row, p.column, p.value) for p in info.value.problems]
    assert found == [(8, "close_date", "01/20/2026")]


def test_a_closed_deal_without_close_date_shows_the_blank_cell(tmp_path: Path) -> None:
    """QA97 F7: a won deal with its close_date emptied was shown with the status ("won") as the value
    under the close_date column; the value is the cell (blank) and the message names the status."""
    text = TABLES["opportunities.csv"].replace("2026-01-10,2026-01-20", "2026-01-10,")
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": text})
    with pytest.raises(InputError) as info:
        load_crm(crm)
    found = [(p.row, p.column, p.value, p.message) for p in info.value.problems]
    assert found == [(8, "close_date", "", "a won deal needs a close_date")]


def test_activity_types_that_hold_the_word_meeting_are_meetings(tmp_path: Path) -> None:
    """QA17 F9: a CRM's activity types are a free picklist; "Customer Meeting" was not counted, and
    prospect_meetings read 0 without a word. It is counted, and a warning says which types were."""
    from territory_planner.report.kpis import slice_period
    from territory_planner.report.periods import parse_period

    plain = load_crm(write_crm(tmp_path / "plain"))
    acts = TABLES["activities.csv"].replace("2026-02-01,Meeting", "2026-02-01,Customer Meeting")
    acts = acts.replace("2026-01-01,meeting", "2026-01-01,Meeting - onsite")
    acts = acts.replace("2026-03-31,call", "2026-03-31,Meeting request email")  # not a meeting (QA18 F7)
    custom = load_crm(write_crm(tmp_path / "custom", override={"activities.csv": acts}))
    period = parse_period("2026Q1")
    count = [len(slice_period(crm.tables, period).meetings) for crm in (plain, custom)]  # type: ignore[arg-type]
    assert count[0] == count[1] > 0
    assert any(
        "counted as meetings besides 'meeting': 'customer meeting' (1), 'meeting - onsite' (1)" in w
        for w in custom.warnings
    )
    assert not any("meeting" in w for w in plain.warnings)
    calls = (
        "\n".join(
            ",".join([*line.split(",")[:4], "call"]) if i else line
            for i, line in enumerate(TABLES["activities.csv"].strip().splitlines())
        )
        + "\n"
    )
    none = load_crm(write_crm(tmp_path / "none", override={"activities.csv": calls}))
    assert any("no activity is a meeting (types: 'call' (" in w for w in none.warnings)


def test_warnings_are_said_before_the_problems_stop_the_run_and_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA40 F8: with a bad row, the CRM's warnings (a won deal closing after the export) were said only
    once the errors were fixed; F9: `report --forecast-horizon` loads the CRM again and said each warning
    twice. They are logged before the problems are raised, and a load given the warnings said (``said``)
    does not say them again."""
    import logging

    late = (
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A1,R1,100,won,1,2026-01-01,2026-01-10\nO2,A1,R1,100,won,1,2026-06-30,2026-07-20\n"
        "O3,A1,R1,100,won,1,2026-02-01,2026-11-15\n"
    )
    bad = late + "O4,A1,R1,-5,lost,0,2026-01-01,2026-01-03\n"
    crm = write_crm(tmp_path / "bad", override={"opportunities.csv": bad})
    with caplog.at_level(logging.WARNING), pytest.raises(InputError) as info:
        load_crm(crm)
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "amount")]
    assert sum("cannot close after the export" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    good = write_crm(tmp_path / "good", override={"opportunities.csv": late})
    with caplog.at_level(logging.WARNING):
        first = load_crm(good)
        again = load_crm(good, said=first.warnings)
    assert again.warnings == first.warnings  # still carried for the report
    assert sum("cannot close after the export" in r.getMessage() for r in caplog.records) == 1


def test_a_close_before_its_creation_shows_both_dates(tmp_path: Path) -> None:
    """QA40 F7: a created_date typed a year late was reported with the close_date's value alone."""
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": BAD_OPPS})
    with pytest.raises(InputError) as info:
        load_crm(crm)
    (early,) = [p for p in info.value.problems if p.message == "close_date is before created_date"]
    assert (early.row, early.column, early.value) == (4, "close_date", "2026-01-10 (created_date 2026-02-01)")


def test_deals_on_accounts_the_crm_does_not_list_and_won_deals_of_nothing_are_named(tmp_path: Path) -> None:
    """QA40 F4: an opportunity on an account missing from accounts.csv, and a won deal of amount 0,
    passed without a word (both count in the KPIs as they stand)."""
    opps = (
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A1,R1,100,won,1,2026-01-01,2026-01-10\nO2,Z99,R1,100,won,1,2026-01-02,2026-01-20\n"
        "O3,A1,R1,0,won,1,2026-02-01,2026-02-15\nO4,Z99,R1,50,open,0.5,2026-02-01,2026-04-01\n"
    )
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    said = load_crm(crm).warnings
    assert (
        "crm/opportunities.csv: 2 opportunities on 1 account not in crm/accounts.csv (Z99; rows 2, 4): "
        "counted in their rep's and the team's KPIs; with a plan, in no territory"
    ) in said
    assert any(w.startswith("crm/opportunities.csv: 1 won deal(s) of amount 0 (rows 3)") for w in said)
    assert not any(
        "not in accounts.csv" in w or "amount 0" in w for w in load_crm(write_crm(tmp_path / "ok")).warnings
    )


def test_a_latin_1_byte_after_a_byte_order_mark_is_found_where_it_is() -> None:
    """QA68 F1: Excel's "CSV UTF-8" (a byte-order mark) with a Latin-1 byte: the byte, its offset and cell
    were read 3 bytes off, and a byte beginning its row was put in the row before."""
    import codecs

    from territory_planner.io.readers import csv_text, not_utf8

    for bom in (b"", codecs.BOM_UTF8):
        data = bom + "a,b\n1,x\n\xe9t\xe9,2\n".encode("latin-1")
        with pytest.raises(UnicodeDecodeError) as err:
            csv_text(data)
        problem = not_utf8("f.csv", data, err.value)
        assert (problem.row, problem.column, problem.value) == (2, "A (a)", "\xe9")
        assert f"byte 0xe9 at offset {len(bom) + 8}, line 3" in problem.message
