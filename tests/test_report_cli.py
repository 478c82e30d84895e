"""The ``report`` command: outputs, atomic folder, --force, exit codes, help text."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest_report import TABLES, write_crm, write_plan

from territory_planner.report.cli import report_command


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(report_command, [str(a) for a in args])
    return result.exit_code, result.output


def test_writes_report_folder(tmp_path: Path) -> None:
    crm, plan, out = write_crm(tmp_path / "crm"), write_plan(tmp_path / "plan"), tmp_path / "out"
    code, output = _run(
        "--crm", crm, "--period", "2026Q1", "--plan", plan, "--company-target", "1000", "--out", out
    )
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["kpis.csv", "report.html", "suggested_quotas.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no staging left behind


def test_existing_folder_needs_force(tmp_path: Path) -> None:
    crm, out = write_crm(tmp_path / "crm"), tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous", encoding="utf-8")
    code, _ = _run("--crm", crm, "--period", "2026-01", "--out", out)
    assert code == 2  # a usage error
    assert (out / "keep.txt").read_text(encoding="utf-8") == "previous"
    # QA22 M10: --force replaces the folder of an earlier run only, never the user's own files
    code, _ = _run("--crm", crm, "--period", "2026-01", "--out", out, "--force")
    assert code == 2
    assert (out / "keep.txt").read_text(encoding="utf-8") == "previous"
    (out / "keep.txt").unlink()
    assert _run("--crm", crm, "--period", "2026-01", "--out", out)[0] == 0
    (out / "keep.txt").write_text("previous", encoding="utf-8")  # a file added to the report's folder
    code, _ = _run("--crm", crm, "--period", "2026-01", "--out", out, "--force")
    assert code == 0
    assert not (out / "keep.txt").exists()
    assert (out / "kpis.csv").is_file()


def test_bad_period_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _run(
        "--crm", write_crm(tmp_path / "crm"), "--period", "2026-03-31:2026-01-01", "--out", tmp_path / "o"
    )
    assert code == 2
    assert "ends" in output


def test_bad_rows_exit_1_with_error_table(tmp_path: Path) -> None:
    opps = TABLES["opportunities.csv"] + "O9,A1,R1,10,won,7,2026-01-01,2026-01-02\n"
    crm = write_crm(tmp_path / "crm", override={"opportunities.csv": opps})
    out = tmp_path / "out"
    code, _ = _run("--crm", crm, "--period", "2026Q1", "--out", out)
    assert code == 1
    errors = (out / "input_errors.csv").read_text(encoding="utf-8")
    assert "opportunities.csv,9,probability" in errors
    assert not (out / "report.html").exists()


def test_help_has_an_example() -> None:
    code, output = _run("--help")
    assert code == 0
    assert "Example" in output
    assert "--period" in output
