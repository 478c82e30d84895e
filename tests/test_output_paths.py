"""An output that cannot be written where it was asked for (QA32 F-e): a usage error, exit 2, naming the
path and the reason, found before anything is read or solved; a failure while writing (a full disk) is
one line, not a traceback, and leaves any earlier output as it was. ``validate --errors`` never replaces
one of the run's inputs, nor another file without --force (QA32 F-n).

Unwritable places are made with a parent that is a file: permissions do not stop root, and CI runs as root.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import OutputPathError
from territory_planner.io.writers import atomic_write_text
from tests.conftest import SAMPLE, line_instance, write_instance


def run(*args: str | Path) -> click.testing.Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.csv"
    path.write_text("mine\n", encoding="utf-8")
    return path


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file the atomic writers create fails as on a full disk."""

    def mkstemp(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("territory_planner.io.writers.tempfile.mkstemp", mkstemp)


def test_plan_out_under_a_file_is_refused_before_the_inputs_are_read(tmp_path: Path, a_file: Path) -> None:
    accounts = [{"account_id": "A1", "lat": 0.0, "lon": 0.5, "potential": -1, "workload": 1}] * 2
    a, r = write_instance(tmp_path, accounts, line_instance()[1])  # a duplicated id, a negative potential
    res = run("plan", "--accounts", a, "--reps", r, "--out", a_file / "x", "-q")
    assert res.exit_code == 2
    assert f"cannot write {a_file / 'x'}: {a_file} is a file, not a folder" in res.output
    assert "Invalid value for '--out'" in res.output
    assert "problem(s) in the inputs" not in res.output  # the usage error comes first, nothing was read
    assert a_file.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(
    "command",
    [
        ["export", "{plan}", "--format", "xlsx", "--out", "{bad}.xlsx"],
        ["export", "{plan}", "--format", "changes", "--out", "{bad}"],
        ["map", "{plan}", "--out", "{bad}.html"],
        ["report", "--crm", "{crm}", "--period", "2026Q1", "--out", "{bad}"],
        ["forecast", "--crm", "{crm}", "--horizon", "2026Q3", "--out", "{bad}"],
        ["compare", "{plan}", "{plan}", "--out", "{bad}"],
        ["edit", "{plan}", "--edits", "{file}", "--out", "{bad}"],
        ["sweep", "{file}", "--grid", "tolerance=0.1", "--out", "{bad}"],
        ["validate", "--accounts", "{file}", "--reps", "{file}", "--errors", "{bad}.csv"],
    ],
    ids=["xlsx", "changes", "map", "report", "forecast", "compare", "edit", "sweep", "validate"],
)
def test_every_output_under_a_file_is_a_usage_error(tmp_path: Path, a_file: Path, command: list[str]) -> None:
    plan = tmp_path / "plan"
    plan.mkdir()  # the check runs before the plan is read: an empty folder does
    args = [
        a.format(plan=plan, bad=a_file / "deeper" / "x", crm=SAMPLE / "crm", file=a_file) for a in command
    ]
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert f"cannot write {a_file / 'deeper' / 'x'}" in res.output
    assert f"{a_file} is a file, not a folder" in res.output
    assert a_file.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.csv", "plan"]


@pytest.mark.usefixtures("disk_full")
def test_a_full_disk_keeps_the_previous_plan(tmp_path: Path, line: tuple[Path, Path]) -> None:
    a, r = line
    out = tmp_path / "plans" / "p"
    out.mkdir(parents=True)
    for name in ("summary.json", "manifest.json", "assignments.csv"):  # an earlier plan
        (out / name).write_text(f"earlier {name}\n", encoding="utf-8")
    before = _files(out)
    res = run("plan", "--accounts", a, "--reps", r, "--out", out, "--force", "-q")
    assert res.exit_code == 2
    assert f"cannot write {out}: No space left on device; the previous plan is kept" in res.output
    assert "Traceback" not in res.output
    assert _files(out) == before
    assert [p.name for p in out.parent.iterdir()] == ["p"]  # no staging folder left


@pytest.mark.usefixtures("disk_full")
def test_input_problems_are_shown_when_their_list_cannot_be_written(tmp_path: Path) -> None:
    accounts = [{"account_id": "A1", "lat": 0.0, "lon": 0.5, "potential": -1, "workload": 1}]
    a, r = write_instance(tmp_path, accounts, line_instance()[1])
    out = tmp_path / "p"
    res = run("plan", "--accounts", a, "--reps", r, "--out", out, "-q")
    assert res.exit_code == 1
    assert "1 problem(s) in the inputs" in res.output
    assert "potential must be >= 0" in res.output
    assert "the problems could not be written: cannot write" in res.output
    assert f"{out / 'input_errors.csv'}: No space left on device" in res.output
    assert not (out / "input_errors.csv").exists()


@pytest.mark.usefixtures("disk_full")
def test_atomic_write_text_on_a_full_disk(tmp_path: Path) -> None:
    path = tmp_path / "map.html"
    path.write_text("earlier", encoding="utf-8")
    with pytest.raises(OutputPathError, match=r"cannot write .*map\.html: No space left on device"):
        atomic_write_text(path, "new")
    assert path.read_text(encoding="utf-8") == "earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_validate_errors_never_replaces_an_input(tmp_path: Path) -> None:
    a, r = write_instance(tmp_path, *line_instance())
    before = a.read_bytes()
    for force in ([], ["--force"]):
        res = run("validate", "--accounts", a, "--reps", r, "--errors", a, *force)
        assert res.exit_code == 2
        assert f"{a} is an input of this run" in res.output
        assert a.read_bytes() == before
    # an input a scenario names, and the scenario itself
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'accounts = "{a}"\nreps = "{r}"\n', encoding="utf-8")
    scenario_text = scenario.read_text(encoding="utf-8")
    for errors in (a, scenario):
        res = run("validate", scenario, "--errors", errors, "--force")
        assert res.exit_code == 2
        assert "is an input of this run" in res.output
    assert a.read_bytes() == before
    assert scenario.read_text(encoding="utf-8") == scenario_text


def test_validate_errors_replaces_another_file_only_with_force(tmp_path: Path, a_file: Path) -> None:
    a, r = write_instance(tmp_path, *line_instance())
    res = run("validate", "--accounts", a, "--reps", r, "--errors", a_file)
    assert res.exit_code == 2
    assert f"{a_file} already exists; pass --force to replace it" in res.output
    assert a_file.read_text(encoding="utf-8") == "mine\n"
    res = run("validate", "--accounts", a, "--reps", r, "--errors", a_file, "--force")
    assert res.exit_code == 0, res.output
    assert a_file.read_text(encoding="utf-8").splitlines() == ["file,row,column,value,message"]
    # an earlier list of problems is this command's own: the next run rewrites it without --force
    res = run("validate", "--accounts", a, "--reps", r, "--errors", a_file)
    assert res.exit_code == 0, res.output


def test_an_output_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    """QA33 F10: --out naming a symlink to a folder replaced the link with a folder of its own and left a
    hidden '.linkdir.old.*' link beside it. The folder the link points to is replaced; the link stays."""
    from territory_planner.io.writers import staged_output_dir

    real = tmp_path / "real"
    real.mkdir()
    (real / "summary.json").write_text("{}")
    link = tmp_path / "linkdir"
    link.symlink_to(real, target_is_directory=True)
    with staged_output_dir(link, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text('{"new": true}')
    assert link.is_symlink()
    assert (real / "summary.json").read_text() == '{"new": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linkdir", "real"]


@pytest.mark.parametrize("kind", ["plan", "report", "forecast", "comparison"])
def test_a_refused_folder_names_what_it_keeps(tmp_path: Path, kind: str) -> None:
    """QA67 F7: `report`, `forecast` and `compare` into a folder holding their own earlier output said "the
    previous plan is kept otherwise"."""
    from territory_planner.errors import OutputExistsError
    from territory_planner.io.writers import OUTPUT_KINDS, staged_output_dir

    out = tmp_path / "out"
    out.mkdir()
    signature = sorted(dict(OUTPUT_KINDS)[kind])[0]  # a file only that command writes
    (out / signature).write_text("earlier output", encoding="utf-8")
    with pytest.raises(OutputExistsError) as err, staged_output_dir(out, force=False, kind=kind):
        pass
    assert f"the previous {kind} is kept otherwise" in str(err.value)
    assert (out / signature).read_text(encoding="utf-8") == "earlier output"


def test_a_folder_of_another_commands_output_is_refused_without_offering_force(tmp_path: Path) -> None:
    """QA68 F4: `report --out PLAN` said "pass --force to replace it (the previous report is kept
    otherwise)", and --force was then refused: the folder holds a plan."""
    from territory_planner.errors import OutputExistsError
    from territory_planner.io.writers import staged_output_dir

    out = tmp_path / "plan"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(OutputExistsError) as err, staged_output_dir(out, force=force, kind="report"):
            pass
        assert "holds a plan (summary.json), and this command writes a report" in str(err.value)
        assert "pass --force" not in str(err.value)
