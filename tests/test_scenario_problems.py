"""Every problem of a scenario file in one run, each with its file and line (QA13 7: unknown keys first,
then a bad value in a second run, then a tolerance for a measure that is not balanced in a third; the row
column was empty for scenario keys)."""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.scenario import load_scenario
from territory_planner.io.scenario_lines import key_lines


def problems_of(tmp_path: Path, scenario: Path, *flags: str) -> tuple[int, pd.DataFrame]:
    errors = tmp_path / "problems.csv"
    res = CliRunner().invoke(main, ["validate", str(scenario), *flags, "--errors", str(errors)])
    table = pd.read_csv(errors, dtype=str, keep_default_na=False)
    return res.exit_code, table


def test_typos_bad_values_and_unknown_measures_come_in_one_run(tmp_path: Path) -> None:
    scenario = tmp_path / "it.toml"
    scenario.write_text(
        'accounts = "accounts.csv"\n'  # 1
        'reps = "reps.csv"\n'  # 2
        "max_move_share = 0.3\n"  # 3
        "time_limt = 20\n"  # 4
        'seed = "7"\n'  # 5
        "[tolerance]\n"  # 6
        "potental = 0.25\n"  # 7
        "workload = 0.08\n",  # 8
        encoding="utf-8",
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    assert set(table["file"]) == {str(scenario)}
    rows = list(zip(table["row"], table["column"], table["value"], strict=True))
    assert rows == [  # an unknown key's value as written (QA15 M7: the cell was empty)
        ("3", "max_move_share", "0.3"),
        ("4", "time_limt", "20"),
        ("5", "seed", "7"),
        ("7", "tolerance", "0.25"),  # the line's value; the message names the measure
    ]
    messages = list(table["message"])
    assert "did you mean 'max_moved_share'?" in messages[0]
    assert "did you mean 'time_limit'?" in messages[1]
    assert 'seed must be a number, not "7" (a text)' in messages[2]
    assert messages[3] == (
        "tolerance given for 'potental', which is not a balance measure (potential, workload): "
        "did you mean 'potential'?"
    )


def test_a_tolerance_per_measure_written_as_one_key_says_to_write_a_table(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        'max_moved_share = "30%"\ntolerance = 0.05\ntolerance_potential = 0.2\n', encoding="utf-8"
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    assert list(table["row"]) == ["1", "3"]
    assert list(table["column"]) == ["max_moved_share", "tolerance_potential"]
    assert table["message"][1] == (
        "unknown scenario key 'tolerance_potential' (a tolerance per measure is a table: write [tolerance] "
        "with potential = 0.2 and the other measures, in place of tolerance = 0.05 on line 2)"
    )


def test_problems_along_an_extends_chain_name_the_file_that_writes_the_key(tmp_path: Path) -> None:
    parent = tmp_path / "base.toml"
    parent.write_text("seed = 1\n\nkeep_home = -3\n[tolerance]\nworkload = 0.1\nrevenue = 0.2\n")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nseeds = 3\n[tolerance]\nworkload = 0.2\n')
    code, table = problems_of(tmp_path, child)
    assert code == 1
    rows = list(zip(table["file"], table["row"], table["column"], strict=True))
    assert rows == [
        (str(child), "2", "seeds"),  # the file as given first, then its parent
        (str(parent.resolve()), "3", "keep_home"),
        (str(parent.resolve()), "6", "tolerance"),  # revenue: the parent's table, merged into the child's
    ]
    assert "add it to balance to balance it" in table["message"][2]


def test_a_flag_s_unknown_measure_is_the_command_line_s(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("seed = 1\n")
    code, table = problems_of(tmp_path, scenario, "--district-tolerance", "potental=0.1")
    assert code == 2  # only a flag is wrong: a usage error
    column = table["column"].str.removeprefix("'")  # the CSV guards a cell starting with '-'
    assert list(zip(table["file"], table["row"], column, strict=True)) == [
        ("command line", "", "--district-tolerance")
    ]


def test_load_scenario_raises_every_key_of_the_chain_at_once(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text("time_limt = 3\n")
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\nmax_move_share = 0.1\n[[reps.add]]\nrep_id = "R9"\nsegments = [1]\n'
    )
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "child.toml")
    found = [(p.row, p.column) for p in info.value.problems]
    assert found == [(2, "max_move_share"), (5, "reps.add[1].segments"), (1, "time_limt")]


def test_key_lines_follow_tables_arrays_and_skip_strings() -> None:
    text = (
        "a = 1\n"  # 1
        'b = """\n'  # 2
        "c = 2\n"  # 3: inside a string
        '"""\n'  # 4
        "grid = [\n"  # 5
        "  [1],\n"  # 6: inside an array, not a table
        "]\n"  # 7
        "tolerance.potential = 0.1  # [x]\n"  # 8
        "[[reps.add]]\n"  # 9
        'rep_id = "x"\n'  # 10
        "[[reps.add]]\n"  # 11
        '"rep_id" = "y"\n'  # 12
        "[ district_tolerance ]\n"  # 13
        "workload = 0.2\n"  # 14
    )
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("b",)] == 2
    assert ("c",) not in lines
    assert lines[("grid",)] == 5
    assert ("1",) not in lines
    assert lines[("tolerance",)] == lines[("tolerance", "potential")] == 8
    assert lines[("reps", "add", "[1]", "rep_id")] == 10
    assert lines[("reps", "add", "[2]", "rep_id")] == 12
    assert lines[("district_tolerance", "workload")] == 14


def test_a_value_the_options_cannot_read_is_shown_as_the_file_writes_it(tmp_path: Path) -> None:
    """QA15 M7: `validate bad_child.toml` left the value cell empty for `time_limt = 10` (an unknown key)
    and `district_tolerance = "abc"` (a value that is no number); a comment after the value is not part
    of it, a value over several lines has no single cell."""
    (tmp_path / "base.toml").write_text('accounts = "accounts.csv"\nreps = "reps.csv"\n', encoding="utf-8")
    scenario = tmp_path / "child.toml"
    scenario.write_text(
        'extends = "base.toml"\n'  # 1
        "time_limt = 10  # seconds\n"  # 2
        'district_tolerance = "abc" # "#" in a comment\n'  # 3
        "balance = [\n"  # 4
        '  "potential",\n'  # 5
        "]\n"  # 6
        "[tolerence]\n"  # 7
        "potential = 0.1\n",  # 8
        encoding="utf-8",
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    rows = list(zip(table["row"], table["column"], table["value"], strict=True))
    assert rows == [("2", "time_limt", "10"), ("3", "district_tolerance", '"abc"'), ("7", "tolerence", "")]


@pytest.mark.parametrize("written", ["abc", "potential=abc", "potential=0.1,workload=abc", "2"])
def test_a_tolerance_flag_the_options_cannot_read_is_shown_as_written(tmp_path: Path, written: str) -> None:
    """`plan --tolerance abc` left the value cell empty (a flag has no line to show it from); the value
    is shown as the command line writes it, per-measure forms too, over a scenario's tolerance or not."""
    scenario = write_instance(tmp_path / "in")
    out = tmp_path / "plan"
    for given in (["--accounts", "in/accounts.csv", "--reps", "in/reps.csv"], [str(scenario)]):
        args = ["plan", *given, "--tolerance", written, "--out", str(out), "--force", "-q"]
        with chdir(tmp_path):
            res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, res.output  # only a flag is wrong: a usage error
        table = pd.read_csv(out / "input_errors.csv", dtype=str, keep_default_na=False)
        column = table["column"].str.removeprefix("'")  # the CSV guards a cell starting with '-'
        assert list(zip(table["file"], column, table["value"], strict=True)) == [
            ("command line", "--tolerance", written)
        ]


@pytest.mark.parametrize(
    ("table", "row", "value"),
    [
        ('potential = 0.05\nworkload = "abc"\n', "5", '"abc"'),  # no number
        ("potential = 1.5\nworkload = 0.1\n", "4", "1.5"),  # out of [0, 1)
        ("potential = 0.05\nrevenue = 0.1\n", "5", "0.1"),  # a measure that is not balanced
    ],
)
def test_a_bad_measure_of_a_tolerance_table_points_at_its_line_with_its_value(
    tmp_path: Path, table: str, row: str, value: str
) -> None:
    """A [tolerance] table's bad entry: its own line and its value as written (the value cell was empty,
    or showed the measure's name, and the row was the [tolerance] line's)."""
    (tmp_path / "base.toml").write_text('accounts = "accounts.csv"\nreps = "reps.csv"\n', encoding="utf-8")
    scenario = tmp_path / "it.toml"
    scenario.write_text('extends = "base.toml"\ntime_limit = 10\n[tolerance]\n' + table, encoding="utf-8")
    code, problems = problems_of(tmp_path, scenario)
    assert code == 1
    rows = list(zip(problems["row"], problems["column"], problems["value"], strict=True))
    assert rows == [(row, "tolerance", value)]


def test_a_scenario_saved_by_notepad_is_read_and_utf16_is_named(tmp_path: Path) -> None:
    """QA22 M24: a scenario saved as "UTF-8 with BOM" with CRLF (Windows Notepad) was refused as "Invalid
    statement (at line 1, column 1)"; one saved as UTF-16 got Python's codec text."""
    text = 'accounts = "accounts.csv"\r\nreps = "reps.csv"\r\ntolerance = 0.1\r\n'
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    values = load_scenario(bom)
    assert values["tolerance"] == pytest.approx(0.1)
    assert Path(values["accounts"]).name == "accounts.csv"
    utf16 = tmp_path / "utf16.toml"
    utf16.write_bytes(text.encode("utf-16"))
    with pytest.raises(InputError) as exc:
        load_scenario(utf16)
    assert "scenario file is not UTF-8: it is UTF-16" in str(exc.value.problems[0].message)


def test_a_flag_alone_wrong_is_titled_a_command_line_problem(tmp_path: Path) -> None:
    """QA25 F9: `--time-limit 0` was listed under "1 problem(s) in the inputs"; no input file is wrong."""
    scenario = write_instance(tmp_path / "in")
    res = CliRunner().invoke(main, ["plan", str(scenario), "--time-limit", "0", "--out", str(tmp_path / "p")])
    assert res.exit_code == 2, res.output
    assert "1 problem(s) on the command line" in res.output
    assert "in the inputs" not in res.output


def test_an_unknown_rep_to_remove_is_the_scenarios_line_with_a_hint(tmp_path: Path) -> None:
    """QA27 F9: ``[reps] remove`` naming reps the roster does not have was blamed on reps.csv, with no
    line, and "se05" for SE05 got no hint."""
    base = write_instance(tmp_path / "inputs")
    scenario = tmp_path / "rm.toml"
    scenario.write_text(
        f'extends = "{base.as_posix()}"\n[reps]\nremove = ["R9", "r1", "R2"]\n', encoding="utf-8"
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    rows = list(zip(table["file"], table["row"], table["value"], strict=True))
    assert rows == [(str(scenario), "3", "R9"), (str(scenario), "3", "r1")]
    assert "did you mean 'R1'?" in table["message"].iloc[1]
    assert "did you mean" not in table["message"].iloc[0]


def test_a_balance_flag_over_a_scenario_banding_another_measure_drops_that_band(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA27 F24: `plan base.toml --balance potential` over a scenario with a workload band was refused,
    the message suggesting to add workload back; the what-if runs, the workload band unused and said."""
    base = write_instance(tmp_path / "inputs")
    text = base.read_text(encoding="utf-8").replace("tolerance = 0.1\n", "")
    scenario = tmp_path / "inputs" / "table.toml"
    scenario.write_text(text + "[tolerance]\npotential = 0.1\nworkload = 0.2\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(scenario), "--balance", "potential"])
    assert res.exit_code == 0, res.output
    said = " ".join(caplog.text.split())
    assert (
        "the scenario's tolerance for workload is not used: --balance potential leaves workload unbalanced"
        in said
    )
    # without the flag, a band for a measure the scenario itself does not balance is still a problem
    scenario.write_text(
        text + 'balance = ["potential"]\n[tolerance]\npotential = 0.1\nworkload = 0.2\n', encoding="utf-8"
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    assert table["message"].str.contains("not a balance measure").any()


def test_an_added_rep_already_on_the_roster_or_removed_is_the_scenarios_line(tmp_path: Path) -> None:
    """QA27 F26: a duplicate rep in [[reps.add]] was reported without the scenario's file or line, and a
    rep removed and added again passed without a word on how its accounts count."""
    base = write_instance(tmp_path / "inputs")
    scenario = tmp_path / "readd.toml"
    scenario.write_text(
        f'extends = "{base.as_posix()}"\n'  # 1
        "[reps]\n"  # 2
        'remove = ["R2"]\n'  # 3
        "[[reps.add]]\n"  # 4
        'rep_id = "R2"\nlat = 0.5\nlon = 0.5\n'  # 5-7
        "[[reps.add]]\n"  # 8
        'rep_id = "R1"\nlat = 0.5\nlon = 0.5\n',  # 9-11
        encoding="utf-8",
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    rows = list(zip(table["file"], table["row"], table["value"], strict=True))
    # each entry's own rep_id line (QA44 F10: both named the first table's header)
    assert rows == [(str(scenario), "5", "R2"), (str(scenario), "9", "R1")]
    assert "which reps.remove removes" in table["message"].iloc[0]
    assert "which reps.csv already has (row 2)" in table["message"].iloc[1]


def test_an_added_rep_already_on_the_roster_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    """An added rep already on the roster was said alone: the next entry's latitude of 140 and capacity
    of -1 came only once it was renamed. Now one run says them all, the duplicate id once."""
    base = write_instance(tmp_path / "inputs")
    scenario = tmp_path / "hire.toml"
    scenario.write_text(
        f'extends = "{base.as_posix()}"\n'  # 1
        "[[reps.add]]\n"  # 2
        'rep_id = "R1"\nlat = 0.5\nlon = 0.5\n'  # 3-5
        "[[reps.add]]\n"  # 6
        'rep_id = "N2"\nlat = 140.0\nlon = 0.5\ncapacity = -1\n',  # 7-10
        encoding="utf-8",
    )
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    said = sorted(zip(table["row"], table["column"], strict=True))
    assert said == [("10", "reps.add[2].capacity"), ("3", "reps.add[1].rep_id"), ("8", "reps.add[2].lat")]
    (dup,) = table["message"][table["column"] == "reps.add[1].rep_id"]
    assert "which reps.csv already has (row 2)" in dup


def test_a_scenarios_bad_keys_do_not_hide_the_tables_problems(tmp_path: Path) -> None:
    """QA113 F1: a misspelt key hid every problem of the accounts table (21 of them) and bad keys hid an
    unknown `[reps] remove` entry: each came only once the keys were fixed. The tables are read with the
    keys that read them when those are good, in the same run."""
    scenario = write_instance(tmp_path / "in")
    scenario.write_text(
        'accounts = "accounts.csv"\n'  # 1
        "max_moved_shar = 0.3\n"  # 2
        "[reps]\n"  # 3
        'path = "reps.csv"\n'  # 4
        'remove = ["R77"]\n',  # 5
        encoding="utf-8",
    )
    accounts = pd.read_csv(tmp_path / "in" / "accounts.csv")
    accounts.loc[1, "potential"] = -5
    accounts.to_csv(tmp_path / "in" / "accounts.csv", index=False)
    code, table = problems_of(tmp_path, scenario)
    assert code == 1
    rows = {
        (Path(f).name, r, c) for f, r, c in zip(table["file"], table["row"], table["column"], strict=True)
    }
    assert ("base.toml", "2", "max_moved_shar") in rows
    assert ("base.toml", "5", "reps_remove") in rows
    assert ("accounts.csv", "2", "potential") in rows
