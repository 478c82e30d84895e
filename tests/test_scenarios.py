"""Scenario inheritance, added/removed reps, and the manifest round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_fixtures import write_instance

from territory_planner import api
from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.io.scenario import load_scenario
from territory_planner.manifest import load_manifest
from territory_planner.options import build_options

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "scenarios"


def test_child_overrides_parent_and_merges_tables(tmp_path: Path) -> None:
    write_instance(tmp_path)
    (tmp_path / "mid.toml").write_text(
        'extends = "base.toml"\nmax_moved_share = 0.2\n[tolerance]\npotential = 0.03\nworkload = 0.08\n'
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "leaf.toml").write_text('extends = "../mid.toml"\nseed = 9\n[tolerance]\nworkload = 0.1\n')
    values = load_scenario(sub / "leaf.toml")
    assert values["seed"] == 9  # child wins
    assert values["max_moved_share"] == 0.2  # inherited from the middle file
    assert values["time_limit"] == 20  # inherited from the root
    assert values["tolerance"] == {"potential": 0.03, "workload": 0.1}  # tables merged key by key
    assert values["accounts"] == (tmp_path / "accounts.csv").resolve()  # resolved against the parent's folder


def test_inheritance_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(InputError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_missing_parent_and_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "nope.toml"\n')
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "a.toml")
    (tmp_path / "b.toml").write_text('reps_remove = ["R1"]\n[reps]\nwho = 1\n')
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "b.toml")
    assert {p.column for p in info.value.problems} == {"reps_remove", "reps.who"}


def test_reps_add_and_remove_accumulate_and_plan(tmp_path: Path) -> None:
    write_instance(tmp_path)
    (tmp_path / "drop.toml").write_text('extends = "base.toml"\n[reps]\nremove = ["R3"]\n')
    (tmp_path / "hire.toml").write_text(
        'extends = "drop.toml"\n[[reps.add]]\nrep_id = "R9"\nname = "New hire"\nlat = 41.0\nlon = -100.0\n'
    )
    values = load_scenario(tmp_path / "hire.toml")
    assert values["reps"] == (tmp_path / "reps.csv").resolve()
    assert values["reps_remove"] == ["R3"]
    assert values["reps_add"][0]["rep_id"] == "R9"
    out = api.solve(build_options(values))
    a = out.assignments
    assert set(a["rep_id"]) == {"R0", "R1", "R2", "R9"}
    left = a[a["current_rep"] == "R3"]
    assert len(left) > 0
    assert left["moved"].all()
    assert left["reason"].str.contains("rep left").all()
    # the departed rep's accounts move, but the budget share counts only moves away from reps who stay
    total = a["potential"].sum()
    stay = a[a["moved"] & (a["current_rep"] != "R3") & (a["current_rep"] != "")]["potential"].sum()
    assert out.summary["moved_potential_share"] == pytest.approx(a[a["moved"]]["potential"].sum() / total)
    assert out.summary["budgeted_moved_share"] == pytest.approx(stay / total)
    assert out.summary["budgeted_moved_share"] < out.summary["moved_potential_share"]


def test_a_child_removing_a_rep_its_parent_adds_withdraws_the_add(tmp_path: Path) -> None:
    """QA62 F7: "what if the hire does not happen" as a what-if of the hiring scenario was refused with two
    rows that contradicted each other ("not in the reps table" and "which reps.remove removes"). A child's
    remove of a rep the chain adds withdraws the add; its remove of a roster rep still joins the parent's."""
    write_instance(tmp_path)
    (tmp_path / "hire.toml").write_text(
        'extends = "base.toml"\n[reps]\nremove = ["R3"]\n'
        '[[reps.add]]\nrep_id = "R9"\nlat = 41.0\nlon = -100.0\n'
    )
    (tmp_path / "no_hire.toml").write_text('extends = "hire.toml"\n[reps]\nremove = [" R9 ", "R2"]\n')
    values = load_scenario(tmp_path / "no_hire.toml")
    assert values.get("reps_add", []) == []
    assert values["reps_remove"] == ["R3", "R2"]
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "no_hire.toml")])
    assert res.exit_code == 0, res.output
    out = api.solve(build_options(values))
    assert set(out.assignments["rep_id"]) == {"R0", "R1"}


def test_added_rep_segments_may_be_a_toml_list(tmp_path: Path) -> None:
    """QA3b: ``segments = ["enterprise", "mid"]`` was turned into the one segment
    "['enterprise', 'mid']", so the hire could serve no account and the plan was "infeasible". A list
    of names is the ``;``-separated cell of reps.csv; any other list or table is an input error."""
    (tmp_path / "hire.toml").write_text(
        '[[reps.add]]\nrep_id = "R9"\nsegments = ["enterprise", " mid "]\n'
        '[[reps.add]]\nrep_id = "R10"\nsegments = "smb"\n'
    )
    added = load_scenario(tmp_path / "hire.toml")["reps_add"]
    assert [r["segments"] for r in added] == ["enterprise;mid", "smb"]
    (tmp_path / "bad.toml").write_text(
        '[[reps.add]]\nrep_id = "R9"\nsegments = ["enterprise", 3]\nquota = [1, 2]\n'
        '[reps.add.region]\nname = "West"\n'
    )
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "bad.toml")
    assert {p.column for p in info.value.problems} == {
        "reps.add[1].segments",
        "reps.add[1].quota",
        "reps.add[1].region",
    }


@pytest.mark.parametrize(
    ("body", "says", "fixed"),
    [
        (  # QA8 O2: what a planner writes first when adding a removal to a scenario naming its reps file
            'accounts = "accounts.csv"\nreps = "reps.csv"\n\n[reps]\nremove = ["R3"]\n',
            "as a value on line 2 and as the table [reps] on line 4; name the file inside the table instead: "
            'delete line 2 and write path = "reps.csv" under [reps], beside add/remove',
            'accounts = "accounts.csv"\n\n[reps]\npath = "reps.csv"\nremove = ["R3"]\n',
        ),
        (
            'accounts = "accounts.csv"\nreps = "reps.csv"  # the roster\n[[reps.add]]\nrep_id = "R9"\n',
            "as a value on line 2 and as the table [[reps.add]] on line 3; name the file in a [reps] table "
            'instead: delete line 2 and write [reps] with path = "reps.csv" under it above line 3',
            'accounts = "accounts.csv"\n[reps]\npath = "reps.csv"\n[[reps.add]]\nrep_id = "R9"\n',
        ),
        (
            'accounts = "accounts.csv"\nreps = "reps.csv"\nreps.remove = ["R3"]\n',
            "as a value on line 2 and as the key reps.remove on line 3; "
            'write the file as reps.path = "reps.csv" on line 2 instead',
            'accounts = "accounts.csv"\nreps.path = "reps.csv"\nreps.remove = ["R3"]\n',
        ),
    ],
    ids=["table", "array_of_tables", "dotted_key"],
)
def test_a_reps_file_beside_a_reps_table_says_what_to_write(
    tmp_path: Path, body: str, says: str, fixed: str
) -> None:
    write_instance(tmp_path)
    (tmp_path / "bad.toml").write_text(body)
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "bad.toml")
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "bad.toml")
    assert problem.column == "reps"
    assert problem.message.startswith(f"reps is given twice: {says}")
    assert "Cannot overwrite" not in problem.message
    (tmp_path / "good.toml").write_text(fixed)  # what the message says to write loads
    values = load_scenario(tmp_path / "good.toml")
    assert values["reps"] == (tmp_path / "reps.csv").resolve()


def test_another_value_opened_as_a_table_names_both_lines(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("seed = 1\ntolerance = 0.05\n[tolerance]\npotential = 0.1\n")
    with pytest.raises(InputError) as info:
        load_scenario(tmp_path / "bad.toml")
    (problem,) = info.value.problems
    assert problem.column == "tolerance"
    assert "tolerance is given twice: as a value on line 2 and as the table [tolerance] on line 3" in (
        problem.message
    )
    (tmp_path / "other.toml").write_text("[x]\na = 1\na.b = 2\n")  # an unknown shape keeps TOML's words
    with pytest.raises(InputError, match="not valid TOML: Cannot overwrite a value"):
        load_scenario(tmp_path / "other.toml")


def test_removing_an_unknown_rep_is_an_input_error(tmp_path: Path) -> None:
    write_instance(tmp_path)
    (tmp_path / "bad.toml").write_text('extends = "base.toml"\n[reps]\nremove = ["R77"]\n')
    with pytest.raises(InputError, match="R77"):
        api.solve(build_options(load_scenario(tmp_path / "bad.toml")))


def test_manifest_round_trip_gives_identical_assignments(tmp_path: Path) -> None:
    write_instance(tmp_path / "inst")
    scenario = tmp_path / "inst" / "drop.toml"
    scenario.write_text('extends = "base.toml"\n[reps]\nremove = ["R2"]\n')
    runner = CliRunner()
    first = runner.invoke(main, ["plan", str(scenario), "--out", str(tmp_path / "p1"), "-q"])
    assert first.exit_code == 0, first.output
    manifest = json.loads((tmp_path / "p1" / "manifest.json").read_text())
    assert manifest["seed"] == 1
    assert manifest["scenario"] == str(scenario.resolve())
    assert manifest["options"]["reps_remove"] == ["R2"]
    assert set(manifest["inputs"]) == {"accounts", "reps"}
    assert manifest["versions"]["pulp"]
    assert manifest["versions"]["solver"]
    assert "plan" in manifest["command_line"]
    assert manifest["started_at"]
    second = runner.invoke(
        main,
        [
            "plan",
            "--from-manifest",
            str(tmp_path / "p1" / "manifest.json"),
            "--out",
            str(tmp_path / "p2"),
            "-q",
        ],
    )
    assert second.exit_code == 0, second.output
    a1 = pd.read_csv(tmp_path / "p1" / "assignments.csv")
    a2 = pd.read_csv(tmp_path / "p2" / "assignments.csv")
    pd.testing.assert_frame_equal(a1, a2)
    m2 = json.loads((tmp_path / "p2" / "manifest.json").read_text())
    assert m2["result"]["assignments_sha256"] == manifest["result"]["assignments_sha256"]
    # the rerun records the scenario it was made from (compare reads it) and the manifest it came by
    assert m2["scenario"] == str(scenario.resolve())
    assert m2["from_manifest"] == str((tmp_path / "p1" / "manifest.json").resolve())
    s2 = json.loads((tmp_path / "p2" / "summary.json").read_text())
    assert s2["scenario"] == str(scenario.resolve())
    assert manifest["from_manifest"] is None


def test_manifest_warns_when_an_input_changed(tmp_path: Path) -> None:
    scenario = write_instance(tmp_path)
    api.plan(build_options(load_scenario(scenario)), tmp_path / "p")
    _, warnings = load_manifest(tmp_path / "p")
    assert warnings == []
    with open(tmp_path / "reps.csv", "a") as fh:
        fh.write("R5,Extra,41,-100,1\n")
    _, warnings = load_manifest(tmp_path / "p" / "manifest.json")
    assert any("reps" in w and "changed" in w for w in warnings)


@pytest.mark.parametrize(
    "name", ["base", "two_new_reps_texas", "tight_tolerance", "low_disruption", "rep_departure"]
)
def test_sample_scenarios_load(name: str) -> None:
    options = build_options(load_scenario(SAMPLE / f"{name}.toml"))
    assert options.accounts is not None
    assert options.accounts.is_file()


def test_a_per_measure_tolerance_flag_overrides_only_the_measures_it_names(tmp_path: Path) -> None:
    """QA6: base.toml had [tolerance] potential = 0.10, workload = 0.15; `plan base.toml --tolerance
    potential=0.05` (tighten potential only) planned workload at the default 0.05, silently. A flag naming
    measures now overrides those measures; a bare value still sets every measure."""
    write_instance(tmp_path / "inst", extra="[tolerance]\npotential = 0.3\nworkload = 0.4\n")
    scenario = tmp_path / "inst" / "base.toml"
    scenario.write_text(scenario.read_text().replace("tolerance = 0.1\n", ""))
    runner = CliRunner()

    def tolerance(*args: str) -> dict[str, float]:
        out = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
        res = runner.invoke(main, ["plan", *args, "--out", str(out), "-q", "--time-limit", "10"])
        assert res.exit_code == 0, res.output
        return json.loads((out / "summary.json").read_text())["config"]["tolerance"]

    assert tolerance(str(scenario)) == {"potential": 0.3, "workload": 0.4}
    assert tolerance(str(scenario), "--tolerance", "potential=0.2") == {"potential": 0.2, "workload": 0.4}
    assert tolerance(str(scenario), "--tolerance", "0.35") == {"potential": 0.35, "workload": 0.35}
    manifest = str(tmp_path / "p1" / "manifest.json")
    assert tolerance("--from-manifest", manifest, "--tolerance", "workload=0.25") == {
        "potential": 0.3,
        "workload": 0.25,
    }


def test_a_departed_reps_account_says_why_it_did_not_go_to_the_nearest_rep(tmp_path: Path) -> None:
    """QA6: Gaston County (next to Charlotte) went 318 km to Wilmington with only "rep left" as its
    reason. Here A4 (60 potential) of the departed R9 lies nearest R1, who ends at its target with the
    band +-10%: taking A4 would put R1 18% over, so A4 goes to R2, and its reason says so."""
    from tests.conftest import write_instance as write_rows

    pot = {"A1": 110.0, "A2": 110.0, "A3": 110.0, "A4": 60.0, "A5": 90.0, "A6": 90.0, "A7": 90.0}
    lon = {"A1": 0.1, "A2": 0.2, "A3": 0.3, "A4": 0.35, "A5": 0.7, "A6": 0.8, "A7": 0.9}
    cur = {"A1": "R1", "A2": "R1", "A3": "R1", "A4": "R9", "A5": "R2", "A6": "R2", "A7": "R2"}
    accounts = [
        {
            "account_id": k,
            "lat": 0.0,
            "lon": lon[k],
            "potential": pot[k],
            "workload": 1.0,
            "current_rep": cur[k],
        }
        for k in pot
    ]
    reps = [
        {"rep_id": "R1", "lat": 0.0, "lon": 0.0},
        {"rep_id": "R2", "lat": 0.0, "lon": 1.0},
        {"rep_id": "R9", "lat": 0.0, "lon": 0.4},
    ]
    a, r = write_rows(tmp_path, accounts, reps)
    values = {"accounts": a, "reps": r, "reps_remove": ["R9"], "balance": "potential", "tolerance": 0.1}
    out = api.solve(build_options({**values, "time_limit": 30, "gap": 0.0}))
    row = out.assignments.set_index("account_id").loc["A4"]
    assert row["rep_id"] == "R2"
    assert row["reason"].startswith("rep left: R9 is not in the roster; to R2 (")
    assert "not the nearest rep R1 (" in row["reason"]
    assert "who ends at potential +0.0% (band +-10.0%; this account is 18.2% of its target)" in row["reason"]
    assert row["reason"].endswith("; with it R1 would end at potential +18.2%, past its band's +10.0%")
    near = out.assignments.set_index("account_id").loc["A1"]
    assert near["reason"] == ""  # not moved


def test_a_reason_never_says_minus_zero() -> None:
    """QA43 F8: "-0.0%" in the reason of a departed rep's account that went past its nearest rep."""
    from types import SimpleNamespace

    import numpy as np

    from territory_planner.outputs import _why_not_nearest

    problem = SimpleNamespace(
        allowed=np.ones((1, 2), dtype=bool), acc_unit=np.array([0]), measures=["potential"],
        target=np.array([[100.0, 100.0]]), lower_band=np.array([[90.0, 90.0]]),
        upper_band=np.array([[110.0, 110.0]]), acc_amount=np.array([[5.0]]), rep_ids=["R1", "R2"],
    )  # fmt: skip
    km = np.array([[10.0, 50.0]])
    said = _why_not_nearest(problem, 0, 1, km, {"potential": np.array([-0.04, 3.0])})  # type: ignore[arg-type]
    assert "who ends at potential +0.0% (band +-10.0%" in said
    assert "-0.0" not in said


def test_the_reason_names_the_band_that_keeps_an_account_from_its_nearest_rep() -> None:
    """QA50 F1: "not the nearest rep R06 (156 km), who ends at potential -9.7%" where R06 could take the
    account within its band: the receiver's band was the reason (without it R02 would have ended at
    workload -13.3%, past its -10%). Here the nearest rep R1 ends at -5% and the account is 3% of a target;
    the receiver R2 ends at -8% and would end at -13% without it: its band is named."""
    from types import SimpleNamespace

    import numpy as np

    from territory_planner.outputs import _why_not_nearest

    problem = SimpleNamespace(
        allowed=np.ones((1, 2), dtype=bool), acc_unit=np.array([0]), measures=["workload"],
        target=np.array([[100.0, 100.0]]), lower_band=np.array([[90.0, 90.0]]),
        upper_band=np.array([[110.0, 110.0]]), acc_amount=np.array([[5.0]]), rep_ids=["R1", "R2"],
    )  # fmt: skip
    km = np.array([[10.0, 50.0]])
    said = _why_not_nearest(problem, 0, 1, km, {"workload": np.array([-5.0, -8.0])})  # type: ignore[arg-type]
    assert said.endswith("; without it R2 would end at workload -13.0%, past its band's -10.0%")
    # neither band keeps it: no band is named
    said = _why_not_nearest(problem, 0, 1, km, {"workload": np.array([-5.0, 0.0])})  # type: ignore[arg-type]
    assert "would end at" not in said


def test_a_compactness_reason_tells_its_distances_apart() -> None:
    """QA50 F5: "compactness: 1 km -> 1 km" for 1.48 -> 0.89 km at city scale."""
    from territory_planner.outputs import _km_change

    assert _km_change(412.4, 35.2) == "412 km -> 35 km"
    assert _km_change(1.48, 0.89) == "1.5 km -> 0.9 km"
    assert _km_change(1.234, 1.232) == "1 km -> 1 km"  # the same to 2 decimals: shown as the same
    assert _km_change(1234.4, 1233.6) == "1,234.4 km -> 1,233.6 km"
