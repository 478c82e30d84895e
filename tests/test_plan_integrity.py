"""A plan folder whose assignments.csv was changed after the plan was written (an account's rep changed in a
spreadsheet) is refused by export, compare, map and report, naming the file (QA17 F8: the workbook's
territories sheet, its assignments sheet and the comparison's balance then contradicted each other, exit
0). manifest.json records the file's SHA-256. ``edit`` refuses it too (QA27 F5: it wrote a "manual" plan in
which the rows changed in the spreadsheet kept their old rep's distance and reason)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner.cli import main


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("integrity")
    scenario = write_instance(root / "inputs")
    plan = root / "plan"
    res = CliRunner().invoke(
        main, ["plan", str(scenario), "--out", str(plan), "--quiet", "--time-limit", "10"]
    )
    assert res.exit_code == 0, res.output
    changed = root / "changed"
    shutil.copytree(plan, changed)
    a = pd.read_csv(changed / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[1, "rep_id"] = "R3" if a.loc[1, "rep_id"] != "R3" else "R2"
    a.to_csv(changed / "assignments.csv", index=False)
    return plan, changed


MESSAGE = "changed after the plan was written"
CRM = Path(__file__).resolve().parents[1] / "sample_data" / "crm"


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{changed}", "--format", "xlsx", "--out", "{tmp}/p.xlsx"],
        ["export", "{changed}", "--format", "salesforce", "--out", "{tmp}/sf"],
        ["compare", "{plan}", "{changed}", "--out", "{tmp}/cmp"],
        ["map", "{changed}", "--out", "{tmp}/map.html"],
        ["report", "--crm", "{crm}", "--period", "2026Q2", "--plan", "{changed}", "--out", "{tmp}/rep"],
    ],
    ids=lambda a: " ".join(a[:3]),
)
def test_a_plan_changed_by_hand_is_refused(plans: tuple[Path, Path], tmp_path: Path, args: list[str]) -> None:
    plan, changed = plans
    argv = [a.format(plan=plan, changed=changed, tmp=tmp_path, crm=CRM) for a in args]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 1, res.output
    assert MESSAGE in res.output
    assert "assignments.csv" in res.output
    written = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert all(name.endswith("input_errors.csv") for name in written), written  # no output


def test_the_plan_as_written_passes_and_edit_refuses_the_changed_one(
    plans: tuple[Path, Path], tmp_path: Path
) -> None:
    plan, changed = plans
    res = CliRunner().invoke(
        main, ["export", str(plan), "--format", "xlsx", "--out", str(tmp_path / "p.xlsx")]
    )
    assert res.exit_code == 0, res.output
    a = pd.read_csv(changed / "assignments.csv", dtype=str, keep_default_na=False)
    rep = "R0" if a.loc[2, "rep_id"] != "R0" else "R1"
    edits = tmp_path / "e.csv"
    edits.write_text(f"account_id,rep_id\n{a.loc[2, 'account_id']},{rep}\n", encoding="utf-8")
    for extra in ([], ["--rebalance", "--time-limit", "5"]):
        out = tmp_path / f"ed{len(extra)}"
        res = CliRunner().invoke(
            main, ["edit", str(changed), "--edits", str(edits), "--out", str(out), *extra]
        )
        assert res.exit_code == 1, res.output
        assert MESSAGE in res.output
        written = [p.name for p in out.rglob("*") if p.is_file()]
        assert written == ["input_errors.csv"]  # the problem, and no plan
        assert "give the changes as edits" in (out / "input_errors.csv").read_text(encoding="utf-8")
    res = CliRunner().invoke(main, ["edit", str(plan), "--edits", str(edits), "--out", str(tmp_path / "ed")])
    assert res.exit_code == 0, res.output
    edited = pd.read_csv(tmp_path / "ed" / "assignments.csv", dtype=str, keep_default_na=False)
    assert edited.loc[2, "rep_id"] == rep


def test_a_file_saved_again_with_the_same_reps_is_read(plans: tuple[Path, Path], tmp_path: Path) -> None:
    """Opened in Excel and saved (other line ends, other quoting): the bytes differ from the recorded
    SHA-256, every rep's count and sums do not, and the plan is read."""
    plan, _ = plans
    resaved = tmp_path / "resaved"
    shutil.copytree(plan, resaved)
    a = pd.read_csv(resaved / "assignments.csv", dtype=str, keep_default_na=False)
    (resaved / "assignments.csv").write_text(
        a.to_csv(index=False, lineterminator="\r\n", quoting=1), encoding="utf-8"
    )
    res = CliRunner().invoke(
        main, ["export", str(resaved), "--format", "xlsx", "--out", str(tmp_path / "p.xlsx")]
    )
    assert res.exit_code == 0, res.output


def test_a_changed_current_rep_is_caught_though_the_totals_agree(
    plans: tuple[Path, Path], tmp_path: Path
) -> None:
    """QA18 F3: per-rep counts and sums let a changed current_rep (or moved, or a swap of like accounts)
    through, and the owner-change files followed it. The manifest records the rows as read; Excel's TRUE
    for True is the same row."""
    plan, _ = plans
    changed = tmp_path / "changed"
    shutil.copytree(plan, changed)
    a = pd.read_csv(changed / "assignments.csv", dtype=str, keep_default_na=False)
    a.loc[0, "current_rep"] = "R3" if a.loc[0, "current_rep"] != "R3" else "R2"
    a.to_csv(changed / "assignments.csv", index=False)
    res = CliRunner().invoke(
        main, ["export", str(changed), "--format", "changes", "--out", str(tmp_path / "ch")]
    )
    assert res.exit_code == 1, res.output
    assert MESSAGE in res.output
    excel = tmp_path / "excel"
    shutil.copytree(plan, excel)
    a = pd.read_csv(excel / "assignments.csv", dtype=str, keep_default_na=False)
    a["moved"] = a["moved"].str.upper()
    (excel / "assignments.csv").write_text(a.to_csv(index=False, lineterminator="\r\n"), encoding="utf-8")
    res = CliRunner().invoke(
        main, ["export", str(excel), "--format", "changes", "--out", str(tmp_path / "ch2")]
    )
    assert res.exit_code == 0, res.output
