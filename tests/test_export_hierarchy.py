"""The hand-off of a plan with districts and regions, on plan folders the planner itself wrote.

Eight reps in four districts and two regions (reps.csv ``district``/``region``)::

    lat 42-43   R1 R2 (North West)          R5 R6 (North East)
    lat 32-33   R3 R4 (South West)          R7 R8 (South East)
                region West (lon -98..-95)  region East (lon -86..-83)

planned with a district band on potential only and a region band on every measure, so the workbook must
shade districts against +-5% potential (and nothing on district workload), regions against +-5% on both.
A second, smaller plan asks for a district band no plan can meet (``--relax``): the districts the
planner lists as violated in summary.json are exactly the cells the workbook shades.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from territory_planner.cli import main
from territory_planner.export.crm_files import developer_name

DISTRICTS = ("North West",) * 2 + ("South West",) * 2 + ("North East",) * 2 + ("South East",) * 2
REGIONS = ("West",) * 4 + ("East",) * 4


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_inputs(folder: Path, n: int, seed: int, reps: pd.DataFrame) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(n)],
            "lat": rng.uniform(30, 45, n).round(4),
            "lon": rng.uniform(-100, -80, n).round(4),
            "potential": rng.integers(10, 100, n).astype(float),
            "workload": rng.integers(1, 9, n).astype(float),
        }
    )
    accounts["current_rep"] = rng.choice(reps["rep_id"].to_numpy(), n)
    if accounts["potential"].sum() % 2 == 0:  # an odd total: two equal districts cannot split it evenly
        accounts.loc[0, "potential"] += 1
    a, r = folder / "accounts.csv", folder / "reps.csv"
    accounts.to_csv(a, index=False)
    reps.to_csv(r, index=False)
    return a, r


def plan(accounts: Path, reps: Path, out: Path, *flags: str) -> Path:
    """A plan folder written by ``territory-planner plan`` (the command must succeed)."""
    res = run("plan", "--accounts", str(accounts), "--reps", str(reps), "--out", str(out), "-q", *flags)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hierarchy_export")
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{k}" for k in range(1, 9)],
            "name": ["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"],
            "lat": [42, 43, 32, 33, 42, 43, 32, 33.0],
            "lon": [-98, -95, -98, -95, -86, -83, -86, -83.0],
            "district": DISTRICTS,
            "region": REGIONS,
        }
    )
    a, r = write_inputs(folder, 60, 7, reps)
    return plan(
        a,
        r,
        folder / "plan",
        "--tolerance",
        "0.25",
        "--district-tolerance",
        "potential=0.05",
        "--region-tolerance",
        "0.05",
        "--time-limit",
        "30",
        "--xlsx",
    )


@pytest.fixture(scope="module")
def relaxed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hierarchy_relaxed")
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4"],
            "lat": [42, 32, 42, 32.0],
            "lon": [-96, -96, -84, -84.0],
            "district": ["West", "West", "East", "East"],
            "region": "All",
        }
    )
    a, r = write_inputs(folder, 24, 3, reps)
    return plan(
        a,
        r,
        folder / "plan",
        "--tolerance",
        "0.3",
        "--district-tolerance",
        "potential=0.0005",
        "--relax",
        "--time-limit",
        "10",
    )


def sheet_frame(book: openpyxl.Workbook, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def shaded(ws: openpyxl.worksheet.worksheet.Worksheet, column: str) -> tuple[list[bool], list[tuple]]:
    """Which cells of ``column`` the workbook's conditional formats shade (evaluated here, as Excel
    would: ``notBetween lo hi``), and the (lo, hi) of the rules on that column."""
    header = [c.value for c in ws[1]]
    letter = openpyxl.utils.get_column_letter(header.index(column) + 1)
    bounds = [
        (float(rule.formula[0]), float(rule.formula[1]))
        for fmt in ws.conditional_formatting
        if str(fmt.sqref).startswith(f"{letter}2:")
        for rule in fmt.rules
        if rule.type == "cellIs" and rule.operator == "notBetween"
    ]
    values = [row[0] for row in ws.iter_rows(min_row=2, min_col=header.index(column) + 1, values_only=True)]
    return [any(not lo <= v <= hi for lo, hi in bounds) for v in values], bounds


def test_plan_xlsx_holds_the_plans_districts_and_regions(plan_dir: Path) -> None:
    book = openpyxl.load_workbook(plan_dir / "plan.xlsx")
    assert book.sheetnames == ["Summary", "Territories", "Assignments", "Moves", "Districts", "Regions"]
    for sheet, file, key in (
        ("Districts", "districts.csv", "district"),
        ("Regions", "regions.csv", "region"),
    ):
        csv = pd.read_csv(plan_dir / file, keep_default_na=False)
        frame = sheet_frame(book, sheet)
        assert "contiguous" not in frame.columns  # no adjacency: unknown, so not shown as FALSE
        assert list(frame.columns) == [c for c in csv.columns if c != "contiguous"]
        assert frame[key].tolist() == csv[key].astype(str).tolist()
        for col in frame.columns:
            if col not in (key, "region"):
                assert frame[col].tolist() == pytest.approx(csv[col].tolist()), col
        assert book[sheet]["A2"].data_type == "s"
        assert book[sheet].freeze_panes in ("A2", "B2")
    districts = sheet_frame(book, "Districts").set_index("district")
    territories = pd.read_csv(plan_dir / "territories.csv", keep_default_na=False)
    assert sorted(districts.index) == sorted(set(DISTRICTS))
    for name, group in territories.groupby("district"):
        assert districts.loc[name, "reps"] == len(group) == 2
        assert districts.loc[name, "potential"] == pytest.approx(group["potential"].sum())


def test_district_and_region_bands_are_the_plans_tolerances(plan_dir: Path) -> None:
    summary = json.loads((plan_dir / "summary.json").read_text())
    assert summary["hierarchy"]["district"]["tolerance"] == {"potential": 0.05}
    assert summary["hierarchy"]["region"]["tolerance"] == {"*": 0.05}
    book = openpyxl.load_workbook(plan_dir / "plan.xlsx")
    flags, bounds = shaded(book["Districts"], "potential_dev_pct")
    assert bounds == [pytest.approx((-5.0, 5.0), abs=1e-3)]
    assert not any(flags)  # the plan meets its district band
    flags, bounds = shaded(book["Districts"], "workload_dev_pct")
    assert bounds == []  # no district band on workload: nothing to shade, whatever the deviation
    for measure in ("potential", "workload"):
        _, bounds = shaded(book["Regions"], f"{measure}_dev_pct")
        assert bounds == [pytest.approx((-5.0, 5.0), abs=1e-3)]  # "*": every measure
    _, bounds = shaded(book["Territories"], "potential_dev_pct")
    assert bounds == [pytest.approx((-25.0, 25.0), abs=1e-3)]  # the reps' own band
    items = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=2)}
    assert items["districts"] == 4
    assert items["regions"] == 2
    assert items["district tolerance potential"] == pytest.approx(0.05)
    assert "district tolerance workload" not in items
    assert items["region tolerance workload"] == pytest.approx(0.05)
    block = summary["hierarchy"]["district"]["max_abs_dev_pct"]
    assert items["max |dev| district workload (%)"] == pytest.approx(block["workload"])


def test_out_of_band_districts_of_a_relaxed_plan_are_the_shaded_cells(
    relaxed_dir: Path, tmp_path: Path
) -> None:
    summary = json.loads((relaxed_dir / "summary.json").read_text())
    assert summary["status"] == "relaxed"
    violated = {
        v["group"]
        for v in summary["violations"]
        if v["constraint"] in ("district_min", "district_max") and v["measure"] == "potential"
    }
    assert violated  # the band (+-0.05% of an odd total split in two) cannot be met
    res = run("export", str(relaxed_dir), "--format", "xlsx", "--out", str(tmp_path / "relaxed.xlsx"))
    assert res.exit_code == 0, res.output
    book = openpyxl.load_workbook(tmp_path / "relaxed.xlsx")
    districts = sheet_frame(book, "Districts")
    flags, bounds = shaded(book["Districts"], "potential_dev_pct")
    assert bounds == [pytest.approx((-0.05, 0.05), abs=1e-3)]
    assert set(districts.loc[flags, "district"]) == violated
    assert not any(shaded(book["Districts"], "workload_dev_pct")[0])  # workload has no district band
    csv = pd.read_csv(relaxed_dir / "districts.csv")
    assert (csv["workload_dev_pct"].abs() > 5).all()  # though far from the district's workload target
    items = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_row=2)}
    assert items["status"] == "relaxed"
    assert items["violated constraints"] == len(summary["violations"])


def test_salesforce_tree_has_the_plans_regions_and_districts(plan_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sf"
    res = run("export", str(plan_dir), "--format", "salesforce", "--out", str(out))
    assert res.exit_code == 0, res.output
    tree = pd.read_csv(out / "Territory2.csv", dtype=str, keep_default_na=False)
    parent = dict(zip(tree["DeveloperName"], tree["ParentTerritory2Id"], strict=True))
    districts = pd.read_csv(plan_dir / "districts.csv", keep_default_na=False)
    territories = pd.read_csv(plan_dir / "territories.csv", keep_default_na=False)
    regions = sorted(set(districts["region"]))
    assert tree["DeveloperName"].tolist()[: len(regions)] == [f"Region_{r}" for r in regions]
    for r in regions:
        assert parent[f"Region_{r}"] == ""
    for d, r in zip(districts["district"], districts["region"], strict=True):
        assert parent[developer_name(d, "District_")] == f"Region_{r}"
    for rep, d in zip(territories["rep_id"], territories["district"], strict=True):
        assert parent[rep] == developer_name(d, "District_")
    order = {name: k for k, name in enumerate(tree["DeveloperName"])}
    assert all(order[p] < order[c] for c, p in parent.items() if p)  # parents first, for Data Loader
    assert len(tree) == len(regions) + len(districts) + len(territories)
    assert not (out / "ObjectTerritory2Association.csv").exists()  # no territory has an Id yet

    # round 2: the regions exist in the org; the districts are created under the regions' Ids
    def round_with(ids: dict[str, str]) -> None:
        """The export again with the Ids the org has now."""
        pd.DataFrame({"DeveloperName": list(ids), "Id": list(ids.values())}).to_csv(
            tmp_path / "ids.csv", index=False
        )
        args = ["--format", "salesforce", "--out", str(out), "--force", "--sf-territory-ids"]
        res = run("export", str(plan_dir), *args, str(tmp_path / "ids.csv"))
        assert res.exit_code == 0, res.output

    ids = {f"Region_{r}": f"0MI00000000000{k}AAA" for k, r in enumerate(regions, start=1)}
    round_with(ids)
    tree = pd.read_csv(out / "Territory2.csv", dtype=str, keep_default_na=False)
    level = tree[tree["DeveloperName"].str.startswith("District_")]
    assert len(level) == len(districts)
    expected = {
        developer_name(d, "District_"): ids[f"Region_{r}"]
        for d, r in districts[["district", "region"]].values
    }
    assert dict(zip(level["DeveloperName"], level["ParentTerritory2Id"], strict=True)) == expected

    # last round: every territory has an Id; each account goes to its rep's territory, never a group's
    ids |= {name: f"0MI{k:012d}AAA" for k, name in enumerate(tree["DeveloperName"], start=100)}
    round_with(ids)
    associations = pd.read_csv(out / "ObjectTerritory2Association.csv", dtype=str)
    assignments = pd.read_csv(plan_dir / "assignments.csv", dtype=str)
    assert sorted(associations["ObjectId"]) == sorted(assignments["account_id"])
    by_account = dict(zip(associations["ObjectId"], associations["Territory2Id"], strict=True))
    assert by_account == {
        a: ids[r] for a, r in zip(assignments["account_id"], assignments["rep_id"], strict=True)
    }
