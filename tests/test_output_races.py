"""Output folders when other commands work on them at the same time, and names near the file system's
limit (QA86): a folder replaced while it is read is read again (F1), a map drawn from a folder that was
replaced since is not written into its successor (F1), two writers swapping one folder at once both end
without a bare error (F4), a staging folder left by a killed process is removed by the next run (F5),
a previous plan that is read-only is removed or named (F6), and an --out name of 238 characters or more
is written or refused before the solve (F3)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import OutputPathError
from territory_planner.io import outpaths, writers
from territory_planner.render import map as map_module
from territory_planner.render import plan_folder
from tests.conftest import line_instance, write_instance


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two plans of the line instance that differ: "a" gives A4 to R2 (3 and 3 accounts), "b" keeps
    today's alignment (A4 with R1: 4 and 2)."""
    folder = tmp_path_factory.mktemp("two_plans")
    a, r = write_instance(folder / "in", *line_instance())
    for name, extra in (("a", []), ("b", ["--tolerance", "0.5", "--max-moved-share", "0"])):
        res = CliRunner().invoke(
            main,
            ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(folder / name), "--quiet", *extra],
        )
        assert res.exit_code == 0, res.output
    return folder / "a", folder / "b"


def _rep_of(plan: plan_folder.PlanFolder, account: str) -> str:
    rows = plan.assignments
    return str(rows.loc[rows["account_id"] == account, "rep_id"].iloc[0])


def _replace(folder: Path, by: Path) -> None:
    """What `plan --force` does to ``folder``: the new plan renamed into place, the old moved aside."""
    aside = folder.with_name(folder.name + ".aside")
    os.replace(folder, aside)
    shutil.copytree(by, folder)


def test_a_folder_replaced_while_it_is_read_is_read_again_whole(
    tmp_path: Path, two_plans: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_plans
    assert _rep_of(plan_folder.read_plan_folder(a), "A4") == "R2"
    assert _rep_of(plan_folder.read_plan_folder(b), "A4") == "R1"
    p = tmp_path / "p"
    shutil.copytree(a, p)
    real = plan_folder._read_territories
    swapped: list[bool] = []

    def read_then_swap(folder: Path, problems: list) -> object:  # type: ignore[type-arg]
        out = real(folder, problems)
        if not swapped:  # the folder is replaced once its territories were read
            swapped.append(True)
            _replace(p, b)
        return out

    monkeypatch.setattr(plan_folder, "_read_territories", read_then_swap)
    read = plan_folder.read_plan_folder(p)
    assert swapped
    expected = plan_folder.read_plan_folder(b)
    assert _rep_of(read, "A4") == "R1"
    assert read.territories.equals(expected.territories)  # not the first folder's 3 and 3
    assert read.identity == writers.folder_identity(p)


def test_a_map_drawn_from_a_folder_replaced_since_is_not_written_into_the_new_one(
    tmp_path: Path, two_plans: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two_plans
    p = tmp_path / "p"
    shutil.copytree(a, p)
    real = map_module.render_map_html

    def render_then_swap(*args: object, **kw: object) -> str:
        html = real(*args, **kw)  # type: ignore[arg-type]
        _replace(p, b)  # `plan --force` ends while the map is drawn
        return html

    monkeypatch.setattr(map_module, "render_map_html", render_then_swap)
    with pytest.raises(OutputPathError, match="another command replaced the plan folder"):
        map_module.write_map(p)
    assert (p / "map.html").read_bytes() == (b / "map.html").read_bytes()  # the new plan's own map
    assert not [x.name for x in p.iterdir() if x.name.startswith(".")]  # no temporary file left
    # a map written elsewhere (--out) is not a file of the folder: written whatever happens to it
    shutil.rmtree(p)
    shutil.rmtree(p.with_name("p.aside"))
    shutil.copytree(a, p)
    map_module.write_map(p, tmp_path / "board.html")
    assert (tmp_path / "board.html").is_file()


def _earlier_output(tmp_path: Path, name: str = "out") -> Path:
    """A folder an earlier run wrote (its summary.json: --force may replace it)."""
    out = tmp_path / name
    out.mkdir()
    (out / "summary.json").write_text("old")
    return out


def test_a_folder_moved_away_by_another_writer_between_the_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _earlier_output(tmp_path)
    real = os.replace
    calls: list[tuple[str, str]] = []

    def racing(src: str | Path, dst: str | Path) -> None:
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 1 and Path(src) == out:  # the other writer moves the folder away first
            real(out, tmp_path / "theirs")
        real(src, dst)

    monkeypatch.setattr(writers.os, "replace", racing)
    with writers.staged_output_dir(out, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text("new")
    assert (out / "summary.json").read_text() == "new"


def test_a_folder_put_in_place_by_another_writer_between_the_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _earlier_output(tmp_path)
    real = os.replace
    put: list[bool] = []

    def racing(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == out and not put:  # the other writer's folder lands first
            put.append(True)
            theirs = tmp_path / "theirs"
            theirs.mkdir()
            (theirs / "summary.json").write_text("theirs")
            real(theirs, out)
        real(src, dst)

    monkeypatch.setattr(writers.os, "replace", racing)
    with writers.staged_output_dir(out, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text("new")
    assert put
    assert (out / "summary.json").read_text() == "new"  # the last writer's, whole
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]  # both earlier folders removed


def _ended_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def test_a_staging_folder_of_a_process_that_ended_is_removed_by_the_next_run(tmp_path: Path) -> None:
    out = _earlier_output(tmp_path, "k")
    host = socket.gethostname()[:32]
    prefix = outpaths.hidden_prefix("k", "staging")
    dead = tmp_path / f"{prefix}{host}.{_ended_pid()}.abcd1234"
    alive = tmp_path / f"{prefix}{host}.{os.getpid()}.abcd1234"  # a run of this process: still writing
    elsewhere = tmp_path / f"{prefix}otherhost.{_ended_pid()}.abcd1234"  # another host's: not ours to judge
    # a staging folder of an output named "k.staging.HOST.PID": its name begins like one of "k"'s
    other_output = tmp_path / f"{prefix}{host}.{_ended_pid()}.staging.{host}.{_ended_pid()}.abcd1234"
    for folder in (dead, alive, elsewhere, other_output):
        folder.mkdir()
        (folder / "assignments.csv").write_text("half")
    with writers.staged_output_dir(out, force=True, kind="plan") as stage:
        assert stage.name.startswith(f"{prefix}{host}.{os.getpid()}.")
        (stage / "summary.json").write_text("new")
    assert not dead.exists()
    assert alive.exists()
    assert elsewhere.exists()
    assert other_output.exists()
    assert (out / "summary.json").read_text() == "new"


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to drop the capabilities",
)
def test_a_read_only_previous_folder_is_removed(tmp_path: Path) -> None:
    """QA86 F6, as QA ran it: a user without root's override of permissions (setpriv drops it)."""
    old = tmp_path / "old"
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "summary.json").write_text("x")
    (old / "g.txt").write_text("y")
    os.chmod(old / "sub", 0o555)
    os.chmod(old, 0o555)
    code = (
        "from pathlib import Path; from territory_planner.io import writers; "
        f"writers._remove_folder(Path({str(old)!r}), 'x')"
    )
    res = subprocess.run(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--inh-caps", "-all",
         sys.executable, "-c", code],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert not old.exists()


def test_a_previous_folder_that_cannot_be_removed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    out = _earlier_output(tmp_path, "p")

    def refuse(path: object, **_kw: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(writers.shutil, "rmtree", refuse)
    with caplog.at_level(logging.WARNING), writers.staged_output_dir(out, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text("new")
    [old] = [x for x in tmp_path.iterdir() if x.name.startswith(".p.old.")]
    assert f"the previous plan of {out} is left at {old}" in caplog.text
    assert "Permission denied" in caplog.text
    assert "remove it by hand" in caplog.text


def test_an_out_name_near_the_limit_is_written_and_one_over_it_refused_up_front(tmp_path: Path) -> None:
    limit = outpaths.name_max(tmp_path)
    for size in (238, 250, limit):
        out = tmp_path / ("p" * size)
        outpaths.check_writable(out)
        with writers.staged_output_dir(out, force=False, kind="plan") as stage:
            writers.atomic_write_text(stage / "summary.json", "x")
        assert (out / "summary.json").read_text() == "x"
        writers.atomic_write_text(out / ("m" * limit), "y")  # a file's temporary name too
    too_long = tmp_path / ("ä" * (limit // 2 + 1))  # 2 bytes each in UTF-8
    with pytest.raises(OutputPathError, match=f"bytes long; this file system takes at most {limit}"):
        outpaths.check_writable(too_long)


def test_the_problems_of_a_run_with_a_long_out_name_are_listed(tmp_path: Path) -> None:
    """QA86 F3: with a 239-character --out holding a plan and bad inputs, the list of problems beside the
    folder (``NAME.input_errors.csv``) was over the limit: a traceback in place of the problems."""
    from territory_planner.cli_support import beside

    accounts, reps = line_instance()
    accounts[0]["lat"] = "x"
    a, r = write_instance(tmp_path / "in", accounts, reps)
    out = _earlier_output(tmp_path, "r" * 250)  # an earlier plan: the list goes beside it
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(out), "--force"]
    )
    assert res.exit_code == 1, res.output
    assert "lat is not a number" in res.output
    listed = beside(out)
    assert listed.is_file()
    assert listed.name.endswith(".input_errors.csv")
    assert len(os.fsencode(listed.name)) <= outpaths.name_max(tmp_path)
    assert "lat is not a number" in listed.read_text(encoding="utf-8")
    assert beside(tmp_path / "plans") == tmp_path / "plans.input_errors.csv"  # a usual name as it was


def test_a_name_like_a_staging_folder_with_a_huge_process_id_is_let_be(tmp_path: Path) -> None:
    """QA87 F1: `.p.staging.HOST.99999999999.abcdefgh` beside the output ended `plan --force` in an
    OverflowError after the solve (os.kill of a number no process id can be)."""
    out = _earlier_output(tmp_path, "p")
    host = socket.gethostname()[:32]
    odd = tmp_path / f"{outpaths.hidden_prefix('p', 'staging')}{host}.99999999999.abcdefgh"
    odd.mkdir()
    with writers.staged_output_dir(out, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text("new")
    assert odd.exists()
    assert writers._running(2**70)  # no process id: never taken for an ended process


def test_folders_moved_aside_in_failed_tries_are_not_left_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA87 F2: when every try of the swap met another writer's folder, the folders moved aside in the
    tries stayed as hidden `.p.old.*` copies for good."""
    out = _earlier_output(tmp_path)
    real = os.replace
    landed = [0]

    def always_theirs(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == out and Path(src).name.startswith(".out.staging.") and not out.exists():
            # theirs lands first, each time there is room
            landed[0] += 1
            theirs = tmp_path / f"theirs{landed[0]}"
            theirs.mkdir()
            (theirs / "summary.json").write_text(f"theirs {landed[0]}")
            real(theirs, out)
        real(src, dst)

    monkeypatch.setattr(writers.os, "replace", always_theirs)
    with pytest.raises(OutputPathError), writers.staged_output_dir(out, force=True, kind="plan") as stage:
        (stage / "summary.json").write_text("new")
    assert (out / "summary.json").read_text().startswith("theirs")  # one whole folder
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out"]  # nothing hidden left beside it


def test_a_folder_that_vanishes_while_it_is_checked_is_nothing_to_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA87 F2: `check_replace` saw the folder, then listed it after another writer had moved it away: a
    bare FileNotFoundError."""
    monkeypatch.setattr(writers, "is_nonempty_dir", lambda _p: True)
    writers.check_replace(tmp_path / "gone", True, "kept", "plan")


def test_a_map_whose_temporary_file_went_with_the_folder_says_why(
    tmp_path: Path, two_plans: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA87 F3: the folder replaced after the map's temporary file was made in it: "No such file or
    directory", where the reason (another command replaced the folder) is due."""
    a, b = two_plans
    p = tmp_path / "p"
    shutil.copytree(a, p)
    real = os.chmod

    def swap_then_chmod(path: str | Path, mode: int, **kw: bool) -> None:
        if Path(path).name.startswith(".map.html.tmp."):
            os.chmod = real  # type: ignore[assignment]  # the copy below chmods too
            _replace(p, b)
        real(path, mode, **kw)

    monkeypatch.setattr(writers.os, "chmod", swap_then_chmod)
    with pytest.raises(OutputPathError, match="another command replaced the plan folder"):
        map_module.write_map(p)
    assert (p / "map.html").read_bytes() == (b / "map.html").read_bytes()


def test_an_out_name_that_is_not_utf8_is_refused_up_front(tmp_path: Path) -> None:
    """QA87 F4: `--out $'pl\\xe4n'` (a Latin-1 name in a UTF-8 locale) ended after the solve in a
    traceback: map.html cannot name it."""
    name = os.fsdecode(b"pl\xe4n")
    with pytest.raises(OutputPathError, match=r"pl\\xe4n: its name holds bytes that are not UTF-8"):
        outpaths.check_writable(tmp_path / name)
    accounts, reps = line_instance()
    a, r = write_instance(tmp_path / "in", accounts, reps)
    res = CliRunner().invoke(
        main, ["plan", "--accounts", str(a), "--reps", str(r), "--out", str(tmp_path / name)]
    )
    assert res.exit_code == 2, res.output
    assert "not UTF-8" in res.output
