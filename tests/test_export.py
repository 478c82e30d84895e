"""``export`` and ``plan --xlsx``: the workbook, changes.csv and the Salesforce files, checked cell by cell.

The plan is a hand-drawn line (two reps at the ends, accounts in between)::

    R1(0)  A1 A2 A3 A4(0.1-0.4)     A5 007 A7 A8(0.6-0.9)  R2(1.0)      (degrees of longitude)

Today A4 belongs to R2 and A5 to R1, A8 has no rep: the plan gives A1-A4 to R1 and the rest to R2,
so the owner changes are A4 (R2 -> R1), A5 (R1 -> R2) and A8 (none -> R2).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from territory_planner.cli import main
from territory_planner.export.crm_files import (
    ASSOCIATION_COLUMNS,
    CHANGES_COLUMNS,
    OWNER_COLUMNS,
    TERRITORY_COLUMNS,
    developer_name,
)
from territory_planner.export.plan_tables import NEW_OWNER_REASON

HYPERLINK = '=HYPERLINK("http://example.com","click me")'
USERS = {"R1": "005000000000001AAA", "R2": "005000000000002AAA"}
EXPECTED_CHANGES = {"A4": ("R2", "R1"), "A5": ("R1", "R2"), "A8": ("", "R2")}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    ids = ["A1", "A2", "A3", "A4", "A5", "007", "A7", "A8"]
    current = ["R1", "R1", "R1", "R2", "R1", "R2", "R2", ""]
    names = ["Acme", "-5 Corp", "Beta", "Gamma", HYPERLINK, "Bond & Co", "Delta", "New Co"]
    lons = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "name": names,
            "lat": 0.0,
            "lon": lons,
            "potential": 100.0,
            "workload": 1.0,
            "current_rep": current,
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": ["Ann", "Bob"],
            "lat": 0.0,
            "lon": [0.0, 1.0],
            "region": ["East", "West"],
            "crm_user_id": [USERS["R1"], USERS["R2"]],
        }
    )
    accounts.to_csv(folder / "accounts.csv", index=False)
    reps.to_csv(folder / "reps.csv", index=False)
    out = folder / "plan"
    res = run(
        "plan",
        "--accounts",
        str(folder / "accounts.csv"),
        "--reps",
        str(folder / "reps.csv"),
        "--out",
        str(out),
        "--xlsx",
        "-q",
    )
    assert res.exit_code == 0, res.output
    return out


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def export(plan: Path, fmt: str, out: Path, *options: str) -> Result:
    return run("export", str(plan), "--format", fmt, "--out", str(out), *options)


def sheet_frame(book: openpyxl.Workbook, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_plan_xlsx_workbook_has_typed_cells_and_the_plans_numbers(plan_dir: Path) -> None:
    book = openpyxl.load_workbook(plan_dir / "plan.xlsx")
    assert book.sheetnames == ["Summary", "Territories", "Assignments", "Moves", "Regions"]  # reps' regions
    territories = pd.read_csv(plan_dir / "territories.csv", keep_default_na=False)
    sheet = sheet_frame(book, "Territories")
    filled = [c for c in territories.columns if territories[c].astype(str).str.strip().ne("").any()]
    assert list(sheet.columns) == filled  # a column without any value is left out
    assert "district" in territories.columns  # the plan writes the column ...
    assert "district" not in filled  # ... but the reps have no district
    for col in ("accounts", "potential", "workload", "potential_dev_pct", "workload_dev_pct", "travel_km"):
        assert sheet[col].tolist() == pytest.approx(territories[col].tolist())
    ws = book["Territories"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("potential") + 1).data_type == "n"
    assert ws.cell(2, header.index("potential_dev_pct") + 1).number_format == '+0.00"%";-0.00"%";0.00"%"'
    assert ws.cell(2, header.index("home_chosen") + 1).data_type == "b"
    assert ws.freeze_panes == "B2"
    assert ws.cell(1, 1).font.b
    assert ws.column_dimensions["A"].width >= 8

    assignments = book["Assignments"]
    header = [c.value for c in assignments[1]]
    rows = {row[0].value: row for row in assignments.iter_rows(min_row=2)}
    assert rows["007"][0].data_type == "s"  # an id that looks like a number stays text
    # and its cells are Text, so an id typed over one stays text too (QA52 F7: 007 typed into rep_id
    # became the number 7), the column's too for rows typed below
    for column in ("account_id", "rep_id", "current_rep"):
        assert rows["007"][header.index(column)].number_format == "@"
    assert rows["007"][header.index("name")].number_format == "General"
    name = rows["A5"][header.index("name")]
    assert name.data_type == "s"  # not "f": Excel shows the text and never runs it
    assert name.value == HYPERLINK
    assert name.quotePrefix  # and stays text if someone edits it
    assert rows["A2"][header.index("name")].value == "-5 Corp"
    assert rows["A4"][header.index("moved")].value is True
    assert rows["A4"][header.index("distance_km")].data_type == "n"


def test_out_of_band_dev_pct_is_a_conditional_format(plan_dir: Path) -> None:
    ws = openpyxl.load_workbook(plan_dir / "plan.xlsx")["Territories"]
    header = [c.value for c in ws[1]]
    rules = {}
    for fmt in ws.conditional_formatting:
        for rule in fmt.rules:
            rules[str(fmt.sqref)] = (rule.type, rule.operator, [float(f) for f in rule.formula])
    for measure in ("potential", "workload"):
        letter = openpyxl.utils.get_column_letter(header.index(f"{measure}_dev_pct") + 1)
        kind, operator, (low, high) = rules[f"{letter}2:{letter}3"]
        assert (kind, operator) == ("cellIs", "notBetween")
        assert (low, high) == pytest.approx((-5.0, 5.0), abs=1e-3)  # the default 5% band


def test_the_travel_header_says_what_it_sums(plan_dir: Path) -> None:
    """QA27 F1: travel_km keeps its CSV name; a note on its header says it is workload x km."""
    ws = openpyxl.load_workbook(plan_dir / "plan.xlsx")["Territories"]
    notes = {c.value: c.comment.text for c in ws[1] if c.comment is not None}
    assert "workload x km" in notes["travel_km"]
    assert "not kilometres driven" in notes["travel_km"]


def test_summary_sheet_matches_summary_json(plan_dir: Path) -> None:
    summary = json.loads((plan_dir / "summary.json").read_text())
    ws = openpyxl.load_workbook(plan_dir / "plan.xlsx")["Summary"]
    items = {row[0].value: row[1] for row in ws.iter_rows(min_row=2)}
    assert items["status"].value == summary["status"]
    assert items["objective (workload x km)"].value == pytest.approx(summary["objective"])
    assert items["gap"].value == pytest.approx(summary["gap"])
    assert items["gap"].number_format == "0.000%"
    assert items["moved accounts"].value == summary["moved_accounts"] == 2
    assert items["owner changes (Moves sheet)"].value == 3
    assert items["proven optimal"].data_type == "b"
    assert items["plan date"].is_date
    assert items["plan folder"].value == str(plan_dir)  # where the plan is, not its staging folder
    budget = summary["config"].get("max_moved_share")
    assert ("disruption budget (--max-moved-share)" in items) == (budget is not None)


def test_the_summary_sheet_gives_the_disruption_budget(plan_dir: Path, tmp_path: Path) -> None:
    """QA44 F15: the Summary gave the moved share, not the budget it was held to."""
    import shutil

    from territory_planner.export.plan_tables import read_plan_tables
    from territory_planner.export.workbook import summary_rows

    copy = tmp_path / "plan"
    shutil.copytree(plan_dir, copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["config"]["max_moved_share"] = 0.2
    (copy / "summary.json").write_text(json.dumps(summary))
    rows = {item: (value, fmt) for item, value, fmt in summary_rows(read_plan_tables(copy))}
    assert rows["disruption budget (--max-moved-share)"] == (0.2, "0.0%")


def test_changes_match_the_moves_sheet_and_the_assignments(plan_dir: Path, tmp_path: Path) -> None:
    res = export(plan_dir, "changes", tmp_path / "handoff")
    assert res.exit_code == 0, res.output
    changes = read_csv(tmp_path / "handoff" / "changes.csv")
    assert list(changes.columns) == CHANGES_COLUMNS
    assert {r.account_id: (r.from_rep, r.to_rep) for r in changes.itertuples()} == EXPECTED_CHANGES
    assignments = read_csv(plan_dir / "assignments.csv")
    changed = assignments[assignments["current_rep"] != assignments["rep_id"]]
    assert sorted(changed["account_id"]) == sorted(changes["account_id"])
    moves = sheet_frame(openpyxl.load_workbook(plan_dir / "plan.xlsx"), "Moves")
    assert moves[["account_id", "from_rep", "to_rep"]].fillna("").values.tolist() == (
        changes[["account_id", "from_rep", "to_rep"]].values.tolist()
    )
    manifest = json.loads((plan_dir / "manifest.json").read_text())
    assert set(changes["effective_date"]) == {manifest["started_at"][:10]}  # the plan's date
    assert changes.set_index("account_id").loc["A8", "reason"] == NEW_OWNER_REASON
    assert changes.set_index("account_id").loc["A5", "name"] == "'" + HYPERLINK  # CSV stays inert
    res = export(plan_dir, "changes", tmp_path / "handoff", "--effective-date", "2027-01-01", "--force")
    assert res.exit_code == 0, res.output
    assert set(read_csv(tmp_path / "handoff" / "changes.csv")["effective_date"]) == {"2027-01-01"}


def test_salesforce_files(plan_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sf"
    res = export(
        plan_dir, "salesforce", out, "--sf-model-id", "0MCxx0000000001", "--sf-type-id", "0M5xx0000000001"
    )
    assert res.exit_code == 0, res.output
    owners = read_csv(out / "Account_OwnerId_update.csv")
    assert list(owners.columns) == OWNER_COLUMNS
    assert dict(zip(owners["Id"], owners["OwnerId"], strict=True)) == {
        acc: USERS[to] for acc, (_, to) in EXPECTED_CHANGES.items()
    }
    territories = read_csv(out / "Territory2.csv")
    assert list(territories.columns) == TERRITORY_COLUMNS
    assert territories.values.tolist() == [
        ["Region_East", "Region East", "0MCxx0000000001", "0M5xx0000000001", ""],
        ["Region_West", "Region West", "0MCxx0000000001", "0M5xx0000000001", ""],
        ["R1", "R1 - Ann", "0MCxx0000000001", "0M5xx0000000001", "Region_East"],
        ["R2", "R2 - Bob", "0MCxx0000000001", "0M5xx0000000001", "Region_West"],
    ]
    # the associations need the territories' Ids: not before they exist (QA27 F3: DeveloperNames there)
    assert not (out / "ObjectTerritory2Association.csv").exists()
    said = " ".join(res.output.split())
    assert (
        "ObjectTerritory2Association.csv not written: its Territory2Id must be the territories' Ids" in said
    )
    assert "Territory2.csv names parents still to create by DeveloperName" in said
    assert "crm_user_id" not in res.output  # every rep has a User Id: no note
    ids = {"Region_East": "0MI000000000001AAA", "Region_West": "0MI000000000002AAA"}
    ids |= {"R1": "0MI000000000003AAA", "R2": "0MI000000000004AAA"}
    res = export(
        plan_dir, "salesforce", out, "--force", "--sf-territory-ids", str(write_ids(tmp_path / "i.csv", ids))
    )
    assert res.exit_code == 0, res.output
    associations = read_csv(out / "ObjectTerritory2Association.csv")
    assert list(associations.columns) == ASSOCIATION_COLUMNS
    assignments = read_csv(plan_dir / "assignments.csv")
    assert sorted(associations["ObjectId"]) == sorted(assignments["account_id"])  # one per account
    assert associations["ObjectId"].is_unique
    assert set(associations["AssociationCause"]) == {"Territory2Manual"}
    by_account = dict(zip(associations["ObjectId"], associations["Territory2Id"], strict=True))
    assert by_account == dict(zip(assignments["account_id"], assignments["rep_id"].map(ids), strict=True))


def test_salesforce_without_user_ids_says_the_owners_are_rep_ids(plan_dir: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    shutil.copytree(plan_dir, plan)
    territories = read_csv(plan / "territories.csv").drop(columns=["crm_user_id"])
    territories.to_csv(plan / "territories.csv", index=False)
    res = export(
        plan,
        "salesforce",
        tmp_path / "sf",
        "--sf-model-id",
        "0MCxx0000000001",
        "--sf-type-id",
        "0M5xx0000000001",
    )
    assert res.exit_code == 0, res.output
    owners = read_csv(tmp_path / "sf" / "Account_OwnerId_update.csv")
    assert set(owners["OwnerId"]) == {"R1", "R2"}
    assert "OwnerId" in res.output
    assert "crm_user_id" in res.output


def test_a_new_hire_without_a_user_id_is_told_how_to_give_one(plan_dir: Path, tmp_path: Path) -> None:
    """QA6: a rep added by a scenario's [[reps.add]] without crm_user_id got "rep 'R12' gets accounts but
    has no crm_user_id" and no way forward; export --reps can supply the User Ids."""
    plan = tmp_path / "plan"
    shutil.copytree(plan_dir, plan)
    territories = read_csv(plan / "territories.csv")
    territories.loc[territories["rep_id"] == "R2", "crm_user_id"] = ""
    territories.to_csv(plan / "territories.csv", index=False)
    res = export(plan, "salesforce", tmp_path / "sf")
    assert res.exit_code == 1
    assert "--reps" in res.output
    assert "[[reps.add]]" in res.output


def write_ids(path: Path, ids: dict[str, str]) -> Path:
    pd.DataFrame({"DeveloperName": list(ids), "Id": list(ids.values())}).to_csv(path, index=False)
    return path


def test_salesforce_territories_are_loaded_in_rounds_with_the_orgs_ids(
    plan_dir: Path, tmp_path: Path
) -> None:
    """Round 1 names parents by DeveloperName; once the regions exist, round 2 creates the reps'
    territories under the regions' Ids; once every territory exists, the associations use Ids."""
    ids = {"Region_East": "0MI000000000001AAA", "Region_West": "0MI000000000002AAA"}
    out = tmp_path / "sf"
    res = export(plan_dir, "salesforce", out, "--sf-territory-ids", str(write_ids(tmp_path / "ids.csv", ids)))
    assert res.exit_code == 0, res.output
    territories = read_csv(out / "Territory2.csv")
    assert territories[["DeveloperName", "ParentTerritory2Id"]].values.tolist() == [
        ["R1", ids["Region_East"]],
        ["R2", ids["Region_West"]],
    ]
    assert not (out / "ObjectTerritory2Association.csv").exists()
    assert "ObjectTerritory2Association.csv not written: 2 territories have no Id" in res.output

    ids |= {"R1": "0MI000000000003AAA", "R2": "0MI000000000004AAA"}
    res = export(
        plan_dir,
        "salesforce",
        out,
        "--force",
        "--sf-territory-ids",
        str(write_ids(tmp_path / "ids.csv", ids)),
    )
    assert res.exit_code == 0, res.output
    assert read_csv(out / "Territory2.csv").empty  # nothing left to create
    associations = read_csv(out / "ObjectTerritory2Association.csv")
    assignments = read_csv(plan_dir / "assignments.csv")
    assert associations["Territory2Id"].tolist() == assignments["rep_id"].map(ids).tolist()


def test_territory_ids_file_is_validated(plan_dir: Path, tmp_path: Path) -> None:
    mapping = write_ids(tmp_path / "ids.csv", {"R1": "0MI000000000003AAA", "R2": "bad id"})
    res = export(plan_dir, "salesforce", tmp_path / "sf", "--sf-territory-ids", str(mapping))
    assert res.exit_code == 1
    assert "not a Salesforce Id" in res.output
    assert not (tmp_path / "sf").exists()


def test_territory_ids_problems_name_the_columns_as_the_file_writes_them(
    plan_dir: Path, tmp_path: Path
) -> None:
    """QA15 L6: a file headed DeveloperName,Id had its problems under ``developername`` and ``id``."""
    from territory_planner.errors import InputError
    from territory_planner.export.api import export_plan

    mapping = write_ids(tmp_path / "ids.csv", {"R1": "0MI0001", "R2": "0MI000000000003AAA"})
    text = mapping.read_text(encoding="utf-8").replace("R2,", "R1,")  # R1 twice
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        export_plan(plan_dir, "salesforce", tmp_path / "sf", sf_territory_ids=mapping)
    assert [(p.row, p.column) for p in exc.value.problems] == [(1, "Id"), (2, "DeveloperName")]


def _roster(path: Path, users: list[str]) -> Path:
    pd.DataFrame({"rep_id": ["R1", "R2"], "crm_user_id": users}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ("abc", "3 characters; a User Id has 15 or 18 letters and digits and starts with 005"),
        ("0MI000000000003", "it starts with 0MI, the key prefix of another kind of record"),
        ("5000000000003", "(005000000000003?)"),  # read as a number by a spreadsheet
        ("005-00000000003", "15 characters"),
    ],
)
def test_a_crm_user_id_that_is_no_salesforce_user_id_is_refused(
    plan_dir: Path, tmp_path: Path, user: str, says: str
) -> None:
    """QA15 M3: crm_user_id 'abc' went into OwnerId as it was; Account.OwnerId takes a User Id: 15 or 18
    letters and digits with the User key prefix 005. Reported with file, row and column, nothing written."""
    from territory_planner.errors import InputError
    from territory_planner.export.api import export_plan

    roster = _roster(tmp_path / "reps.csv", [USERS["R1"], user])
    with pytest.raises(InputError) as exc:
        export_plan(plan_dir, "salesforce", tmp_path / "sf", reps=roster)
    (problem,) = exc.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (str(roster), 2, "crm_user_id", user)
    assert problem.message.startswith("rep 'R2': not a Salesforce User Id")
    assert says in problem.message
    assert not (tmp_path / "sf").exists()


def test_two_reps_with_one_user_id_are_refused_unless_shared_owners(plan_dir: Path, tmp_path: Path) -> None:
    """QA15 M3: PL05 with PL04's User Id merged both books under one owner silently. The 18-character
    form of the same Id is the same User."""
    roster = _roster(tmp_path / "reps.csv", ["005000000000001", USERS["R1"]])
    res = export(plan_dir, "salesforce", tmp_path / "sf", "--reps", str(roster))
    assert res.exit_code == 1, res.output
    assert "rep 'R2' has the same Salesforce User as rep 'R1' (row 1)" in " ".join(res.output.split())
    assert not (tmp_path / "sf").exists()
    res = export(plan_dir, "salesforce", tmp_path / "sf", "--reps", str(roster), "--shared-owners")
    assert res.exit_code == 0, res.output
    assert "one Salesforce User owns the accounts of two reps" in res.output
    owners = read_csv(tmp_path / "sf" / "Account_OwnerId_update.csv")
    assert set(owners["OwnerId"]) <= {"005000000000001", USERS["R1"]}


def test_owner_ids_from_a_roster_and_a_rep_without_one(plan_dir: Path, tmp_path: Path) -> None:
    roster = tmp_path / "reps.csv"
    pd.DataFrame({"rep_id": ["R1", "R2"], "crm_user_id": ["005000000000009AAA", ""]}).to_csv(
        roster, index=False
    )
    res = export(plan_dir, "salesforce", tmp_path / "sf", "--reps", str(roster))
    assert res.exit_code == 1
    assert "rep 'R2' gets accounts but has no crm_user_id" in res.output
    # named by the file given and R2's row in it (QA13 11: file "reps", no row)
    from territory_planner.errors import InputError
    from territory_planner.export.api import export_plan

    with pytest.raises(InputError) as exc:
        export_plan(plan_dir, "salesforce", tmp_path / "sf2", reps=roster)
    (problem,) = exc.value.problems
    assert (problem.file, problem.row, problem.column) == (str(roster), 2, "crm_user_id")


def test_existing_output_needs_force_and_is_replaced_atomically(plan_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"previous")
    res = export(plan_dir, "xlsx", target)
    assert res.exit_code == 2
    assert "pass --force" in res.output
    assert target.read_bytes() == b"previous"
    res = export(plan_dir, "xlsx", target, "--force")
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]  # no temporary file left behind


def test_out_paths_by_format(plan_dir: Path, tmp_path: Path) -> None:
    res = export(plan_dir, "changes", tmp_path / "moves.csv")
    assert res.exit_code == 0, res.output
    assert list(read_csv(tmp_path / "moves.csv").columns) == CHANGES_COLUMNS
    res = export(plan_dir, "xlsx", tmp_path / "book")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "book.xlsx").is_file()
    assert export(plan_dir, "xlsx", tmp_path / "x.csv").exit_code == 2
    assert export(plan_dir, "salesforce", tmp_path / "s.csv").exit_code == 2
    # a folder, new with a trailing "/" or already there, holds plan.xlsx (QA44 F17: wrote newdir.xlsx)
    res = run("export", str(plan_dir), "--format", "xlsx", "--out", f"{tmp_path / 'newdir'}/")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "newdir" / "plan.xlsx").is_file()
    assert not (tmp_path / "newdir.xlsx").exists()
    (tmp_path / "there").mkdir()
    assert export(plan_dir, "xlsx", tmp_path / "there").exit_code == 0
    assert (tmp_path / "there" / "plan.xlsx").is_file()


def test_broken_plan_folder_is_reported_with_file_and_row(plan_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "plan"
    shutil.copytree(plan_dir, copy)
    assignments = read_csv(copy / "assignments.csv")
    assignments.loc[2, "rep_id"] = "R9"
    assignments.loc[3, "moved"] = "maybe"
    assignments.to_csv(copy / "assignments.csv", index=False)
    (copy / "territories.csv").unlink()
    res = export(copy, "changes", tmp_path / "c")
    assert res.exit_code == 1
    assert "territories.csv" in res.output
    assert "not true/false" in res.output
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("R01", "R01"),
        ("01 North-East", "T_01_North_East"),
        ("a__b_", "a_b"),
        ("x" * 90, "x" * 80),
        # accented letters keep their base letter (QA8: 'District Île-de-France' was District_le_de_France)
        ("Île-de-France", "Ile_de_France"),
        ("Zoë Ørsted", "Zoe_Orsted"),
        ("Łódź Straße", "Lodz_Strasse"),
        ("Ñuñoa", "Nunoa"),
    ],
)
def test_developer_names_are_salesforce_api_names(text: str, name: str) -> None:
    assert developer_name(text) == name
    assert re.fullmatch(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*", name)


def test_xlsx_is_a_scenario_key_for_plans_and_sweeps(tmp_path: Path) -> None:
    """``xlsx = true`` in a scenario (or inherited through ``extends``) writes plan.xlsx like ``--xlsx``;
    a sweep over such a scenario writes one workbook per point; a value that is not true/false is refused."""
    from scenario_fixtures import write_instance

    from territory_planner.sweep import run_sweep

    base = write_instance(tmp_path / "inst", extra="xlsx = true\n")
    child = base.with_name("child.toml")
    child.write_text('extends = "base.toml"\ntolerance = 0.2\n', encoding="utf-8")
    res = run("plan", str(child), "--out", str(tmp_path / "plan"), "-q")
    assert res.exit_code == 0, res.output
    assert "plan.xlsx" in res.output
    book = openpyxl.load_workbook(tmp_path / "plan" / "plan.xlsx")
    assert (
        sheet_frame(book, "Territories")["rep_id"].tolist()
        == read_csv(tmp_path / "plan" / "territories.csv")["rep_id"].tolist()
    )
    assert json.loads((tmp_path / "plan" / "summary.json").read_text())["config"]["xlsx"] is True

    table = run_sweep(base, {"tolerance": [0.1, 0.2]}, tmp_path / "sweep")
    assert list(table["status"]) == ["optimal", "optimal"]
    for point in table["point"]:
        assert (
            openpyxl.load_workbook(tmp_path / "sweep" / "points" / point / "plan.xlsx").sheetnames[0]
            == "Summary"
        )

    plain = write_instance(tmp_path / "plain")
    res = run("plan", str(plain), "--out", str(tmp_path / "no_book"), "-q")
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "no_book" / "plan.xlsx").exists()

    bad = write_instance(tmp_path / "bad", extra='xlsx = "yes"\n')
    res = run("plan", str(bad), "--out", str(tmp_path / "bad_plan"), "-q")
    assert res.exit_code == 1
    assert "xlsx must be true or false" in res.output
    assert [p.name for p in (tmp_path / "bad_plan").iterdir()] == ["input_errors.csv"]  # and no plan


def test_the_summary_sheet_notes_give_repaired_polygons_as_one_note(plan_dir: Path, tmp_path: Path) -> None:
    """QA7, Tokyo: the workbook's "notes" cell held ten "/tmp/qa7/tokyo/accounts.gpkg row 3: invalid
    polygon (Ring Self-intersection[140.153190404306 35.8960078280465]) repaired with ..." lines; it now
    says it once per file, as report.html does."""
    plan = tmp_path / "plan"
    shutil.copytree(plan_dir, plan)
    summary = json.loads((plan / "summary.json").read_text())
    message = "invalid polygon (Ring Self-intersection[1 2]) repaired with make_valid into 1 part: kept"
    repaired = [{"file": "/home/x/accounts.gpkg", "row": r, "message": message} for r in (3, 10)]
    summary["repaired_geometries"] = repaired
    summary["notes"] = [
        "a solver note",
        *(f"/home/x/accounts.gpkg row {r['row']}: {message}" for r in repaired),
    ]
    (plan / "summary.json").write_text(json.dumps(summary))
    res = export(plan, "xlsx", tmp_path / "p.xlsx")
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")["Summary"]
    notes = {row[0].value: row[1].value for row in ws.iter_rows(min_row=2)}["notes"]
    assert notes == (
        "a solver note; 2 invalid polygons in accounts.gpkg (rows 3, 10) repaired with shapely.make_valid: "
        "kept; each row's reason is in summary.json (repaired_geometries)"
    )


def test_the_hand_off_says_when_the_plan_breaks_its_bands_and_changes_open_in_excel(
    plan_dir: Path, tmp_path: Path
) -> None:
    """QA17 F19: a manual plan breaking its bands went to the CRM files without a word. QA17 F20:
    changes.csv, the list people open in Excel, had no byte-order mark (San José read as San JosÃ©)."""
    edits = tmp_path / "e.csv"
    edits.write_text("account_id,rep_id\nA1,R2\nA2,R2\nA3,R2\n", encoding="utf-8")
    res = run("edit", str(plan_dir), "--edits", str(edits), "--out", str(tmp_path / "manual"))
    assert res.exit_code == 0, res.output
    assert "constraint(s) broken" in res.output
    for fmt, out in (("changes", tmp_path / "ch"), ("salesforce", tmp_path / "sf")):
        res = export(tmp_path / "manual", fmt, out)
        assert res.exit_code == 0, res.output
        assert "the plan (manual) breaks" in res.output
        assert "these files hand it over as it is" in res.output
    assert (tmp_path / "ch" / "changes.csv").read_bytes().startswith(b"\xef\xbb\xbfaccount_id,")
    assert not (tmp_path / "sf" / "Territory2.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    res = export(plan_dir, "changes", tmp_path / "ch2")
    assert "breaks" not in res.output  # the solved plan keeps its bands
    assert "accounts are areas" not in export(plan_dir, "salesforce", tmp_path / "sf2").output


def test_the_salesforce_files_of_an_area_plan_say_its_accounts_are_areas(tmp_path: Path) -> None:
    """QA17 F23: counties as accounts went out as Account Ids without a word."""
    from scenario_fixtures import strip_map

    accounts, reps = strip_map(tmp_path / "in")
    res = run(
        "plan",
        "--accounts",
        str(accounts),
        "--reps",
        str(reps),
        "--tolerance",
        "0.9",
        "--out",
        str(tmp_path / "p"),
        "-q",
    )
    assert res.exit_code == 0, res.output
    res = export(tmp_path / "p", "salesforce", tmp_path / "sf")
    assert res.exit_code == 0, res.output
    assert "the plan's accounts are areas (polygons in units.geojson" in res.output


def test_a_salesforce_export_leaves_no_file_of_an_earlier_export(plan_dir: Path, tmp_path: Path) -> None:
    """QA44 F1: an export of another plan into the same folder said "ObjectTerritory2Association.csv not
    written" and left the earlier plan's file there (75 of its 287 rows now wrong for Data Loader). It is
    removed with --force, with a note, and without --force the export is refused before writing."""
    ids = {"Region_East": "0MI000000000001AAA", "Region_West": "0MI000000000002AAA"}
    ids |= {"R1": "0MI000000000003AAA", "R2": "0MI000000000004AAA"}
    out = tmp_path / "sf"
    res = export(plan_dir, "salesforce", out, "--sf-territory-ids", str(write_ids(tmp_path / "i.csv", ids)))
    assert res.exit_code == 0, res.output
    assert (out / "ObjectTerritory2Association.csv").exists()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = export(plan_dir, "salesforce", out)  # no Ids this time, no --force
    assert res.exit_code != 0
    assert "ObjectTerritory2Association.csv" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing written
    res = export(plan_dir, "salesforce", out, "--force")
    assert res.exit_code == 0, res.output
    assert not (out / "ObjectTerritory2Association.csv").exists()
    assert "removed ObjectTerritory2Association.csv of the earlier export" in " ".join(res.output.split())


def test_no_hand_off_file_is_written_into_the_plan_folder(plan_dir: Path) -> None:
    """QA44 F4/F5: `export --format changes --out PLAN/assignments.csv --force` replaced the plan's own
    file (every later command then failed), and hand-off files written into the plan folder were deleted
    by the next `plan --force`. Refused, with --force too; plan.xlsx (the plan's own workbook) may be
    written again, and map.html by `map`."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    before = {p.name: p.read_bytes() for p in plan_dir.iterdir() if p.is_file()}
    for fmt, out in (
        ("changes", plan_dir / "assignments.csv"),
        ("changes", plan_dir),
        ("salesforce", plan_dir),
    ):
        res = export(plan_dir, fmt, out, "--force")
        assert res.exit_code == 2, res.output
        assert "plan folder" in res.output
    res = CliRunner().invoke(main, ["map", str(plan_dir), "--out", str(plan_dir / "summary.json"), "--force"])
    assert res.exit_code == 2, res.output
    assert {p.name: p.read_bytes() for p in plan_dir.iterdir() if p.is_file()} == before
    assert export(plan_dir, "xlsx", plan_dir / "plan.xlsx", "--force").exit_code == 0
    res = CliRunner().invoke(
        main, ["map", str(plan_dir), "--out", str(plan_dir / "map.html"), "--force", "--offline"]
    )
    assert res.exit_code == 0, res.output


def test_salesforce_notes_name_what_is_missing_and_account_ids_that_are_no_account_ids(
    plan_dir: Path, tmp_path: Path
) -> None:
    """QA44 F18: with --sf-model-id given the note said both ids were missing; F13: account ids that are no
    Salesforce Account Ids went into the files without a word, while the OwnerIds were checked."""
    res = export(plan_dir, "salesforce", tmp_path / "sf", "--sf-model-id", "0MCxx0000000001")
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "Territory2.csv has no Territory2TypeId: give --sf-type-id" in said
    assert "Territory2ModelId" not in said
    assert "8 of the plan's 8 account ids are not Salesforce Account Ids" in said
    # Account Ids (001 and 12 or 15 more letters and digits): no note
    accounts = read_csv(plan_dir.parent / "accounts.csv")
    accounts["account_id"] = [f"001xx{k:010d}" for k in range(len(accounts) - 1)] + ["001xx0000000000AAA"]
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    plan = tmp_path / "plan"
    reps = str(plan_dir.parent / "reps.csv")
    res = run("plan", "--accounts", str(tmp_path / "accounts.csv"), "--reps", reps, "--out", str(plan), "-q")
    assert res.exit_code == 0, res.output
    res = export(
        plan,
        "salesforce",
        tmp_path / "sf2",
        "--sf-model-id",
        "0MCxx0000000001",
        "--sf-type-id",
        "0M5xx0000000001",
    )
    assert res.exit_code == 0, res.output
    assert "Account Ids" not in res.output
    assert "Territory2ModelId" not in res.output


def test_no_hand_off_file_or_map_replaces_an_input_the_plan_was_made_from(
    plan_dir: Path, tmp_path: Path
) -> None:
    """QA57 F8: `map PLAN --out accounts.csv --force` replaced the plan's own accounts file with HTML,
    exit 0 (and `export --format changes --out accounts.csv --force` would have done the same with the
    changes list). The plan's recorded inputs are refused, with --force too; a map is an .html file."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    config = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["config"]
    accounts = Path(config["accounts"])
    before = accounts.read_bytes()
    res = export(plan_dir, "changes", accounts, "--force")
    assert res.exit_code == 2, res.output
    assert "the accounts file the plan was made from" in " ".join(res.output.split())
    assert accounts.read_bytes() == before
    for out in (accounts, tmp_path / "map.txt"):
        res = CliRunner().invoke(main, ["map", str(plan_dir), "--out", str(out), "--force"])
        assert res.exit_code == 2, res.output
        assert "the map is an .html file" in " ".join(res.output.split())
    assert accounts.read_bytes() == before
    assert not (tmp_path / "map.txt").exists()


def test_a_full_disk_is_one_line_and_leaves_no_folder_behind(
    plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA57 F12: on a full disk `export --format xlsx` ended in a 20-frame traceback (xlsxwriter's
    FileCreateError around the OSError), exit 1; `export --format changes` left its new --out folder
    behind, empty. Now one line naming the path, exit 2, and nothing left."""
    import errno

    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    from territory_planner.export import api as export_api

    def full(_self: object) -> None:
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(xlsxwriter.Workbook, "close", full)
    res = export(plan_dir, "xlsx", tmp_path / "plan.xlsx")
    assert res.exit_code == 2, res.output
    assert f"cannot write {tmp_path / 'plan.xlsx'}: No space left on device" in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert not list(tmp_path.iterdir())

    def no_space(path: Path, _text: str) -> None:  # as atomic_write_text says a full disk
        from territory_planner.errors import OutputPathError

        raise OutputPathError(path, "No space left on device")

    monkeypatch.setattr(export_api, "atomic_write_text", no_space)
    res = export(plan_dir, "changes", tmp_path / "handoff")
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "handoff").exists()


def test_a_plans_inputs_are_guarded_from_any_folder_and_an_unrelated_file_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA59: summary.json records the paths as typed: a plan made with `--accounts acc.csv` was guarded
    only from the folder it was made in, and from another folder an unrelated acc.csv was refused."""
    from click.testing import CliRunner

    from territory_planner.cli import main
    from tests.conftest import line_instance, write_instance

    made = tmp_path / "made"
    a, r = write_instance(made, *line_instance())
    monkeypatch.chdir(made)
    res = CliRunner().invoke(main, ["plan", "--accounts", a.name, "--reps", r.name, "--out", "p", "-q"])
    assert res.exit_code == 0, res.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    before = a.read_bytes()
    res = CliRunner().invoke(
        main, ["export", str(made / "p"), "--format", "changes", "--out", str(a), "--force"]
    )
    assert res.exit_code == 2, res.output
    assert a.read_bytes() == before
    monkeypatch.chdir(made)  # a folder without manifest.json: summary.json's paths, from where it was made
    (made / "p" / "manifest.json").unlink()
    res = CliRunner().invoke(main, ["export", "p", "--format", "changes", "--out", a.name, "--force"])
    assert res.exit_code == 2, res.output  # QA60: no longer guarded after QA59's change
    assert a.read_bytes() == before
    monkeypatch.chdir(elsewhere)
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(made / "p"), "-q", "--force"]
    )
    assert res.exit_code == 0, res.output
    (elsewhere / a.name).write_text("mine\n", encoding="utf-8")  # same name, another file
    res = CliRunner().invoke(
        main, ["export", str(made / "p"), "--format", "changes", "--out", a.name, "--force"]
    )
    assert res.exit_code == 0, res.output


def test_a_long_command_shows_it_is_working_on_a_terminal_only(
    plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA67 F4: `export`, `report`, `forecast` and `compare` of 33,300 accounts said nothing for 8 to 28 s.
    On a terminal a spinner names the work and its seconds, then goes; in a log or a pipe, nothing."""
    import io

    from rich.console import Console

    from territory_planner import cli_support

    for terminal in (True, False):
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=terminal, width=100)
        monkeypatch.setattr(cli_support, "stderr_console", lambda console=console: console)
        out = tmp_path / f"changes-{terminal}"
        res = run("export", str(plan_dir), "--format", "changes", "--out", str(out))
        assert res.exit_code == 0, res.output
        assert (out / "changes.csv").exists()
        assert ("writing the changes hand-off" in screen.getvalue()) is terminal


def test_salesforce_ids_given_on_the_command_line_are_checked_for_shape(
    plan_dir: Path, tmp_path: Path
) -> None:
    """QA81: `--sf-model-id 0MC...` copied from the README went into every row of Territory2.csv; an Id
    that cannot be one (not 15 or 18 letters and digits) is a usage error and nothing is written, an Id
    of another kind of record (the model's and the type's swapped) a note."""
    out = tmp_path / "sf"
    res = export(plan_dir, "salesforce", out, "--sf-model-id", "0MC...", "--sf-type-id", "0M5xx0000000001")
    assert res.exit_code == 2
    said = " ".join(res.output.split())
    assert "--sf-model-id" in said
    assert "placeholder" in said
    assert "15 or 18" in said
    assert not out.exists()
    res = export(plan_dir, "salesforce", out, "--sf-model-id", "0MCxx0000000001", "--sf-type-id", "12345")
    assert res.exit_code == 2
    assert "leading zeros" in " ".join(res.output.split())
    # both wrong: both said in one run (QA84 F4); digits of another script are no spreadsheet's (F3)
    res = export(plan_dir, "salesforce", out, "--sf-model-id", "0MC...", "--sf-type-id", "\u0661\u0662\u0663")
    assert res.exit_code == 2
    said = " ".join(res.output.split())
    assert "--sf-model-id: '0MC...'" in said
    assert "--sf-type-id:" in said
    assert "leading zeros" not in said
    res = export(
        plan_dir, "salesforce", out, "--sf-model-id", "0M5xx0000000001", "--sf-type-id", "0MCxx0000000001"
    )
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "--sf-model-id 0M5xx0000000001 does not start with 0MC" in said
    assert "--sf-type-id 0MCxx0000000001 does not start with 0M5" in said
    territories = read_csv(out / "Territory2.csv")
    assert set(territories["Territory2ModelId"]) == {"0M5xx0000000001"}


@pytest.mark.parametrize(
    ("zone", "day"),
    [("America/St_Johns", "2026-12-06"), ("UTC", "2026-12-07"), ("Pacific/Kiritimati", "2026-12-07")],
)
def test_the_plan_date_is_the_planner_s_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, day: str
) -> None:
    """QA86 F9: the manifest records when the plan was made in UTC, and the default effective_date of the
    changes file was that UTC day: 2026-12-07 for a plan made at 20:35 on the 6th in St John's."""
    import json
    import time

    from territory_planner.export import plan_tables

    (tmp_path / "manifest.json").write_text(json.dumps({"started_at": "2026-12-07T00:05:02+00:00"}))
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert plan_tables._plan_date(tmp_path).isoformat() == day
    finally:
        monkeypatch.undo()
        time.tzset()
