"""An output folder that is, or holds, one of the run's inputs is refused before anything runs (QA17 F1:
``report --plan p --out p --force`` replaced the plan folder it reported on by report.html and
kpis.csv; ``plan --out data --force`` would have deleted ``data/accounts.csv``). A usage error, exit 2,
with --force too; the inputs stay as they were. ``edit PLAN --out PLAN --force`` too (QA27 F21: the
solved plan was gone, its edited self said it was edited from itself). And --force replaces an earlier
output of the same command only (QA27 F15: ``report --out PLAN --force`` deleted the plan)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import OutputExistsError
from territory_planner.io.writers import refuse_replacing_inputs, staged_output_dir

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_rule(tmp_path: Path) -> None:
    plan = tmp_path / "plans" / "2026"
    plan.mkdir(parents=True)
    with pytest.raises(OutputExistsError, match="the output folder .* is also an input of this run"):
        refuse_replacing_inputs(plan, [None, plan])
    with pytest.raises(OutputExistsError, match="holds .*2026, an input of this run"):
        refuse_replacing_inputs(tmp_path / "plans", [plan])
    with pytest.raises(OutputExistsError, match="is also an input"):  # the same folder written otherwise
        refuse_replacing_inputs(tmp_path / "plans" / "x" / "..", [tmp_path / "plans"])
    refuse_replacing_inputs(plan / "report", [plan])  # a folder inside the input: nothing of it is replaced
    refuse_replacing_inputs(tmp_path / "plans" / "2026-report", [plan])  # a sibling
    with pytest.raises(OutputExistsError), staged_output_dir(plan, force=True, kind="plan", inputs=[plan]):
        pass
    assert plan.is_dir()


def test_plan_into_the_folder_of_its_accounts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("accounts.csv", "reps.csv"):
        shutil.copy(SAMPLE / name, data / name)
    before = _files(data)
    args = ["plan", "--accounts", str(data / "accounts.csv"), "--reps", str(data / "reps.csv")]
    res = CliRunner().invoke(main, [*args, "--out", str(data), "--force", "--time-limit", "5", "--quiet"])
    assert res.exit_code == 2, res.output
    assert "accounts.csv, an input of this run" in res.output
    assert _files(data) == before


@pytest.mark.parametrize("command", ["report", "forecast"])
def test_report_and_forecast_into_their_crm_folder(tmp_path: Path, command: str) -> None:
    crm = tmp_path / "crm"
    shutil.copytree(SAMPLE / "crm", crm)
    before = _files(crm)
    period = ["--period", "2026Q2"] if command == "report" else ["--horizon", "2026Q3"]
    res = CliRunner().invoke(main, [command, "--crm", str(crm), *period, "--out", str(crm), "--force"])
    assert res.exit_code == 2, res.output
    assert "is also an input of this run" in res.output
    assert _files(crm) == before


def test_compare_and_edit_into_a_plan_they_read(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "assignments.csv").write_text("account_id,rep_id\n", encoding="utf-8")
    edits = tmp_path / "edits.csv"
    edits.write_text("account_id,rep_id\n", encoding="utf-8")
    before = _files(tmp_path)
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(a), "--force"])
    assert res.exit_code == 2, res.output
    # an edit may not replace its own plan, nor a folder that holds it or its edits
    for out in (b, tmp_path):
        res = CliRunner().invoke(main, ["edit", str(b), "--edits", str(edits), "--out", str(out), "--force"])
        assert res.exit_code == 2, res.output
        assert "an input of this run" in " ".join(res.output.split())
    assert _files(tmp_path) == before


def test_force_replaces_an_output_of_the_same_command_only(tmp_path: Path) -> None:
    """QA27 F15: ``report --out PLAN --force`` deleted the plan (assignments, summary, manifest, map) and
    left report.html and kpis.csv, without a word."""
    from territory_planner.io.writers import check_replace, output_kind

    plan = tmp_path / "plan"
    plan.mkdir()
    for name in ("assignments.csv", "summary.json", "manifest.json", "report.html", "kpis.csv"):
        (plan / name).write_text("x", encoding="utf-8")
    assert output_kind(p.name for p in plan.iterdir()) == "plan"  # a plan may hold its report too
    before = _files(plan)
    crm = SAMPLE / "crm"
    res = CliRunner().invoke(
        main, ["report", "--crm", str(crm), "--period", "2026Q2", "--out", str(plan), "--force"]
    )
    assert res.exit_code == 2, res.output
    said = " ".join(res.output.split())
    assert "holds a plan" in said
    assert "this command writes a report" in said
    assert _files(plan) == before
    check_replace(plan, True, "kept", "plan")  # a plan over a plan: allowed with --force
    report = tmp_path / "report"
    report.mkdir()
    (report / "kpis.csv").write_text("x", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="holds a report"):
        check_replace(report, True, "kept", "forecast")
    check_replace(report, True, "kept", "report")


def test_a_rebalance_into_the_folder_of_the_plan_s_inputs_is_refused(tmp_path: Path) -> None:
    """QA18 F11: edit --rebalance --force --out the folder holding the accounts and reps the plan's
    manifest names deleted them; they are the rebalance's inputs too."""
    from scenario_fixtures import write_instance

    data = tmp_path / "data"
    write_instance(data)  # 40 accounts, 4 reps: a plan in well under a second, on a loaded machine too
    plan = tmp_path / "plan"
    args = ["plan", "--accounts", str(data / "accounts.csv"), "--reps", str(data / "reps.csv")]
    res = CliRunner().invoke(main, [*args, "--out", str(plan), "--time-limit", "20", "--quiet"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    a = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    other = next(r for r in sorted(set(a["rep_id"])) if r != a.loc[0, "rep_id"])
    edits = tmp_path / "e.csv"
    edits.write_text(f"account_id,rep_id\n{a.loc[0, 'account_id']},{other}\n", encoding="utf-8")
    before = _files(data)
    argv = ["edit", str(plan), "--edits", str(edits), "--out", str(data), "--force", "--rebalance", "-q"]
    res = CliRunner().invoke(main, argv)
    assert res.exit_code == 2, res.output
    assert "accounts.csv, an input of this run" in res.output
    assert _files(data) == before
