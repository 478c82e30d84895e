"""--keep-home KM: accounts at a rep's home stay with a rep based there; without it, a plan that gives a
rep's home account away says so (QA10 O7: Guarulhos, R01's home, went to a rep 543 km away)."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import InputError
from territory_planner.model.homes import keep_homes, lost_homes
from territory_planner.model.problem import TerritoryProblem
from territory_planner.options import PlanOptions, build_options
from territory_planner.sweep_grid import relaxes
from tests.conftest import problem_from_rows, write_instance


def _problem(accounts: list[dict], reps: list[dict]) -> TerritoryProblem:
    return problem_from_rows(accounts, reps, ("potential", "workload"), {"potential": 0.1, "workload": 0.1})


def _validate_args(a: Path, r: Path) -> list[str]:
    """`validate` on the instance, balancing potential at +-10%."""
    return [
        "validate",
        "--accounts",
        str(a),
        "--reps",
        str(r),
        "--balance",
        "potential",
        "--tolerance",
        "0.1",
    ]


def test_units_near_homes_are_confined_to_the_reps_based_there() -> None:
    """One rep at a home: a lock. Two reps sharing an office: either of them. A user's lock to a rep based
    elsewhere wins; a unit whose segment no rep based near it serves keeps its reps; a family is kept
    when one of its accounts is near; far units are untouched."""
    acc = [
        {"account_id": "H1", "lat": 0.0, "lon": 0.0},  # at R1's home
        {"account_id": "OF", "lat": 0.0, "lon": 5.0},  # at the office of R2 and R3
        {"account_id": "UL", "lat": 0.0, "lon": 0.003, "locked_rep": "R2"},  # near R1, locked to R2
        {"account_id": "SG", "lat": 0.0, "lon": 5.002, "segment": "gov"},  # R2 and R3 do not serve gov
        {"account_id": "F1", "lat": 0.0, "lon": 0.004, "parent_id": "F"},  # a family: one member near R1
        {"account_id": "F2", "lat": 2.0, "lon": 2.0, "parent_id": "F"},
        {"account_id": "FAR", "lat": 3.0, "lon": 3.0},
    ]
    for row in acc:
        row.update(potential=1.0, workload=1.0)
    reps = [
        {"rep_id": "R1", "lat": 0.0, "lon": 0.0},
        {"rep_id": "R2", "lat": 0.0, "lon": 5.0, "segments": "retail"},
        {"rep_id": "R3", "lat": 0.0, "lon": 5.0, "segments": "retail"},
        {"rep_id": "R4", "lat": 9.0, "lon": 9.0},
    ]
    p = _problem(acc, reps)
    kept, info = keep_homes(p, 1.0)
    unit = {aid: int(p.acc_unit[i]) for i, aid in enumerate(p.account_ids)}
    rows = {aid: kept.allowed[unit[aid]].tolist() for aid in unit}
    assert rows["H1"] == [True, False, False, False]
    assert kept.unit_locked[unit["H1"]] == 0
    assert rows["OF"] == [False, True, True, False]
    assert kept.unit_locked[unit["OF"]] == -1
    assert rows["UL"] == [False, True, False, False]  # the user's lock, as before
    assert rows["SG"] == p.allowed[unit["SG"]].tolist()  # nobody based there serves it
    assert rows["F1"] == [True, False, False, False]
    assert unit["F1"] == unit["F2"]
    assert rows["FAR"] == [True, True, True, True]
    assert (info.units, info.shared, info.user_locked, info.unserved) == (3, 1, 1, 1)
    assert kept.unit_home_kept is not None
    assert sorted(aid for aid in unit if kept.unit_home_kept[unit[aid]]) == ["F1", "F2", "H1", "OF"]
    assert np.array_equal(kept.acc_locked, p.acc_locked)  # the user's locked_rep column is unchanged


def _line(folder: Path, extra: list[dict] | None = None) -> tuple[Path, Path]:
    """R1 at lon 0 with H (R1's home city: potential 6, almost no workload), R2 at lon 1; X at lon 0.1
    (potential 6, workload 10). Balancing potential, each rep needs about 6: the cheapest plan gives H to
    R2 (1.1 km-weighted: H's workload is 0.01) and keeps X with R1, 11 km away; keeping H with R1 sends
    X 100 km to R2 instead."""
    accounts = [
        {"account_id": "H", "name": "Home City", "lat": 0.0, "lon": 0.0, "potential": 6.0, "workload": 0.01},
        {"account_id": "X", "lat": 0.0, "lon": 0.1, "potential": 6.0, "workload": 10.0},
        *(extra or []),
    ]
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0}]
    return write_instance(folder, accounts, reps)


def _plan(folder: Path, a: Path, r: Path, *more: str) -> tuple[int, str]:
    args = ["plan", "--accounts", str(a), "--reps", str(r), "--balance", "potential", "--tolerance", "0.1"]
    args += ["--gap", "0", "--time-limit", "20", "-q", *more, "--out", str(folder)]
    res = CliRunner().invoke(main, args)
    return res.exit_code, res.output


def test_a_home_account_given_away_is_named_and_keep_home_keeps_it(tmp_path: Path) -> None:
    a, r = _line(tmp_path / "in")
    code, out = _plan(tmp_path / "free", a, r)
    assert code == 0, out
    plan = pd.read_csv(tmp_path / "free" / "assignments.csv").set_index("account_id")
    assert plan.loc["H", "rep_id"] == "R2"  # the optimum without the option
    notes = json.loads((tmp_path / "free" / "summary.json").read_text())["notes"]
    lost = [n for n in notes if "at a rep's home (within 1 km) go to a rep based elsewhere" in n]
    assert len(lost) == 1, notes
    assert "R1's home account H (Home City) goes to R2, 111 km from it" in lost[0]
    assert "--keep-home 1 keeps them" in lost[0]

    code, out = _plan(tmp_path / "kept", a, r, "--keep-home", "1")
    assert code == 0, out
    kept = pd.read_csv(tmp_path / "kept" / "assignments.csv").set_index("account_id")
    assert kept.loc["H", "rep_id"] == "R1"
    assert kept.loc["X", "rep_id"] == "R2"
    summary = json.loads((tmp_path / "kept" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["config"]["keep_home"] == 1.0
    assert not any("go to a rep based elsewhere" in n for n in summary["notes"])
    assert any(n.startswith("--keep-home 1: 1 unit(s) within 1 km") for n in summary["notes"])
    free = json.loads((tmp_path / "free" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(10 * 100.07, rel=0.01)  # X goes 0.9 degrees to R2
    assert free["objective"] < summary["objective"] / 5


def test_moved_home_accounts_give_keep_home_as_their_reason(tmp_path: Path) -> None:
    """Today H is R2's: with --keep-home it moves to R1, based there, and the reason says why."""
    a, r = _line(tmp_path / "in")
    frame = pd.read_csv(a)
    frame["current_rep"] = ["R2", "R1"]
    frame.to_csv(a, index=False)
    code, out = _plan(tmp_path / "kept", a, r, "--keep-home", "1")
    assert code == 0, out
    plan = pd.read_csv(tmp_path / "kept" / "assignments.csv").set_index("account_id")
    assert plan.loc["H", "rep_id"] == "R1"
    assert plan.loc["H", "reason"] == "home: at R1's home base (0.0 km), kept by --keep-home"


def test_homes_that_overflow_a_band_are_explained_before_solving(tmp_path: Path) -> None:
    """A second big account at R1's home: kept together they carry 16 potential, above R1's 13.2 (total
    24, +-10%); without the option R1 may take H2 and Y, or H and X."""
    second = {"account_id": "H2", "lat": 0.0, "lon": 0.001, "potential": 10.0, "workload": 1.0}
    far = {"account_id": "Y", "lat": 0.0, "lon": 1.0, "potential": 2.0, "workload": 1.0}
    a, r = _line(tmp_path / "in", [second, far])
    code, out = _plan(tmp_path / "none", a, r, "--keep-home", "1")
    text = " ".join(out.split())
    assert code == 1, out
    assert "accounts locked to R1 (2 of them kept at its home by --keep-home) carry $16 potential" in text
    assert "--keep-home 1 was in force" in text  # named as a lever whatever check found it (QA11 O3)
    assert not (tmp_path / "none").exists()
    code, out = _plan(tmp_path / "some", a, r)
    assert code == 0, out
    check = _validate_args(a, r)
    check = CliRunner().invoke(main, [*check, "--keep-home", "0.01"])  # H and Y, at R1's and R2's homes
    assert check.exit_code == 0, check.output
    assert "units kept near a rep's home (--keep-home) │ 2" in " ".join(check.output.split())


def test_keep_home_as_an_option_and_in_sweeps() -> None:
    assert build_options({"keep_home": 2}).keep_home == 2.0
    with pytest.raises(InputError, match="keep_home must be a distance"):
        build_options({"keep_home": -1})
    for key in ("keep_home", "time_limit"):  # TOML's `true` is no number (QA11 O10)
        with pytest.raises(InputError, match=f"{key} must be a number, not true"):
            build_options({key: True})
    with pytest.raises(InputError, match='keep_home must be a number, not "5" \\(a text\\)'):
        build_options({"keep_home": "5"})  # QA12 N4: was read as 5
    with pytest.raises(InputError, match="seed must be a number, not a list"):
        build_options({"seed": [1]})
    for tolerance in (False, {"potential": True}):
        with pytest.raises(InputError, match="tolerance (for potential )?must be a number, not (false|true)"):
            build_options({"tolerance": tolerance})
    strict, looser = PlanOptions(keep_home=2.0), PlanOptions(keep_home=0.5)
    assert relaxes(looser, strict)
    assert relaxes(PlanOptions(), strict)
    assert not relaxes(strict, looser)
    assert not relaxes(strict, PlanOptions())


def test_lost_homes_ignores_centres_the_planner_chose() -> None:
    """A rep without a given home has no home account to lose, whatever its chosen centre."""
    acc = [{"account_id": "H", "lat": 0.0, "lon": 0.0, "potential": 1.0, "workload": 1.0}]
    p = _problem(acc, [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0}])
    to_r2 = np.array([1])
    lat, lon = p.home_lat, p.home_lon
    assert len(lost_homes(p, to_r2, lat, lon, np.array([True, True]))) == 1
    assert lost_homes(p, to_r2, lat, lon, np.array([False, True])) == []


@pytest.mark.parametrize("km", [0.0, 1.0, 50.0, 900.0])
def test_the_pairs_within_reach_are_those_of_the_full_distance_matrix(km: float) -> None:
    """``within`` (a k-d tree, no accounts x reps matrix) finds exactly the pairs the haversine matrix
    puts within ``km``, for reps given as a subset, with a rep at an account's very spot."""
    from territory_planner.model.geo import haversine_km
    from territory_planner.model.homes import within

    rng = np.random.default_rng(int(km))
    acc = [
        {"account_id": f"A{i}", "lat": float(la), "lon": float(lo), "potential": 1.0, "workload": 1.0}
        for i, (la, lo) in enumerate(zip(rng.uniform(40, 42, 300), rng.uniform(-1, 1, 300), strict=True))
    ]
    homes = zip(rng.uniform(40, 42, 6), rng.uniform(-1, 1, 6), strict=True)
    reps = [{"rep_id": f"R{j}", "lat": float(la), "lon": float(lo)} for j, (la, lo) in enumerate(homes)]
    reps[0].update(lat=acc[7]["lat"], lon=acc[7]["lon"])
    p = _problem(acc, reps)
    subset = np.array([0, 2, 3, 5])
    a, r, d = within(p.acc_lat, p.acc_lon, p.home_lat, p.home_lon, subset, km)
    full = haversine_km(p.acc_lat, p.acc_lon, p.home_lat, p.home_lon)
    want = {(i, j) for i, j in zip(*np.nonzero(full <= km), strict=True) if j in set(subset.tolist())}
    assert set(zip(a.tolist(), r.tolist(), strict=True)) == want
    assert (7, 0) in want
    np.testing.assert_allclose(d, full[a, r], atol=1e-9)


def test_a_home_locked_elsewhere_is_named_with_its_lock_and_no_keep_home_hint() -> None:
    """QA11 O7: the note suggested --keep-home for an account the user locked to another rep, where the
    lock wins anyway. A unit whose polygon holds a home counts as at the home (QA11 O4: a state holding
    R6's home went 1,130 km away unremarked)."""
    import dataclasses

    acc = [
        {"account_id": "H", "lat": 0.0, "lon": 0.0, "potential": 5.0, "workload": 1.0, "locked_rep": "R2"},
        {"account_id": "P", "name": "Big State", "lat": 0.0, "lon": 3.0, "potential": 1.0, "workload": 1.0},
    ]
    p = _problem(acc, [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0},
                       {"rep_id": "R3", "lat": 0.5, "lon": 3.0}])  # fmt: skip
    p = dataclasses.replace(p, home_unit=np.array([-1, -1, 1]))  # R3's home lies in P's polygon, 55 km off
    plan = np.array([1, 1])  # both to R2
    (note,) = lost_homes(p, plan, p.home_lat, p.home_lon, np.ones(3, dtype=bool))
    assert note.startswith(
        "2 unit(s) at a rep's home (its polygon, or within 1 km) go to a rep based elsewhere"
    )
    assert "R1's home account H goes to R2, 111 km from it (locked to R2)" in note
    # P alone (workload 1) is above R3's band (at most 0.7333): forced away too, so no --keep-home hint
    assert note.endswith(
        "R3's home account P (Big State) goes to R2, 222 km from it (alone it is above R3's band: "
        "workload 1, at most 0.7333)"
    )
    plan = np.array([1, 2])
    (note,) = lost_homes(p, plan, p.home_lat, p.home_lon, np.ones(3, dtype=bool))
    assert "--keep-home" not in note  # only the locked one is left: nothing to suggest


def test_a_family_member_kept_by_its_family_says_so() -> None:
    """QA11 O1: a family with one account at R1's home and one at R2's, 111 km apart, goes to R2; the
    member at R1's home is not "at R2's home base (111 km)": its family is."""
    from territory_planner.model.plan import Plan
    from territory_planner.outputs import move_reasons

    acc = [
        {"account_id": "A", "lat": 0.0, "lon": 0.0, "potential": 1.0, "workload": 1.0, "parent_id": "F",
         "current_rep": "R1"},
        {"account_id": "B", "lat": 0.0, "lon": 1.0, "potential": 1.0, "workload": 1.0, "parent_id": "F",
         "current_rep": "R1"},
    ]  # fmt: skip
    p, _ = keep_homes(_problem(acc, [{"rep_id": "R1", "lat": 0.0, "lon": 0.0},
                                    {"rep_id": "R2", "lat": 0.0, "lon": 1.0}]), 1.0)  # fmt: skip
    plan = Plan(np.array([1]), np.array([1, 1]), p.home_lat, p.home_lon, np.zeros(2, dtype=bool), None)  # type: ignore[arg-type]
    km = p.account_distance(p.home_lat, p.home_lon)
    reasons = move_reasons(p, plan, km, np.array(["R1", "R1"]))
    # the family is at both reps' homes: --keep-home allows either, and the move is balance's (QA50 F3)
    either = " (R1 and R2 are both based there: --keep-home allows either)"
    assert reasons[0] == "balance: R1 held +100% potential vs target, R2 -100%" + either
    assert reasons[1] == "compactness: 111 km -> 0 km" + either


def test_an_edit_that_gives_a_home_away_replaces_the_plan_s_home_notes(tmp_path: Path) -> None:
    """QA11 O5: `edit` copied "--keep-home 1: 1 unit(s) ... stay" after H, R1's home account, was given to
    R2 by hand, and did not say so; now the copied home notes go and the edited plan's are written."""
    a, r = _line(tmp_path / "in")
    code, out = _plan(tmp_path / "kept", a, r, "--keep-home", "1")
    assert code == 0, out
    edits = tmp_path / "edits.csv"
    edits.write_text("account_id,rep_id\nH,R2\n", encoding="utf-8")
    res = CliRunner().invoke(
        main, ["edit", str(tmp_path / "kept"), "--edits", str(edits), "--out", str(tmp_path / "e")]
    )
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "e" / "summary.json").read_text())["notes"]
    assert not any(n.startswith("--keep-home") for n in notes), notes
    (lost,) = [n for n in notes if "at a rep's home (within 1 km)" in n]
    assert "in the edited plan: R1's home account H (Home City) goes to R2, 111 km from it" in lost
    assert lost in res.output.splitlines()  # said on the console as `plan` says it (QA50 F4)
    # and what report.html shows (QA12 N1)
    shown = json.loads((tmp_path / "e" / "summary.json").read_text())["input_warnings"]
    assert shown == [lost]
    page = html.unescape((tmp_path / "e" / "report.html").read_text())
    assert "in the edited plan: R1's home account H" in page


def test_a_bad_flag_beside_a_scenario_names_the_command_line(tmp_path: Path) -> None:
    """QA11 O9: `validate base.toml --keep-home nan` blamed base.toml, which has no keep_home."""
    a, r = _line(tmp_path)
    scenario = tmp_path / "base.toml"
    scenario.write_text('accounts = "accounts.csv"\nreps = "reps.csv"\nkeep_home = -3\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(scenario), "--keep-home", "nan"])
    assert res.exit_code == 2, res.output  # a flag's value: a usage error, as click's own checks
    text = " ".join(res.output.split())
    # click refuses it before the scenario is read (QA57 F1: no number flag takes nan), naming the flag
    assert "Invalid value for '--keep-home': 'nan' is not a finite number" in text
    assert "base.toml" not in text
    res = CliRunner().invoke(main, ["validate", str(scenario)])  # the scenario's own bad value is its own
    assert res.exit_code == 1, res.output
    assert "base.toml │ 3 │ keep_home │ -3" in " ".join(res.output.split())  # its line (QA13 7)


def test_a_shared_office_overflowing_its_reps_is_put_on_keep_home(tmp_path: Path) -> None:
    """QA11 O8: units confined to a group of reps by --keep-home alone were reported as family "segment"
    with no segment in the data. Three accounts at the office of R1 and R2 carry 30 potential; their
    bands (+-10% of 10, in whole accounts of 10) hold at most 20."""
    accounts = [
        {"account_id": f"O{k}", "lat": 0.0, "lon": 0.001 * k, "potential": 10.0, "workload": 1.0}
        for k in range(3)
    ]
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 0.0},
            {"rep_id": "R3", "lat": 0.0, "lon": 2.0}]  # fmt: skip
    a, r = write_instance(tmp_path, accounts, reps)
    args = _validate_args(a, r)
    res = CliRunner().invoke(main, [*args, "--keep-home", "1"])
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "3 accounts (3 of them kept at their reps' homes by --keep-home) can only go to R1, R2" in text
    assert "│ keep_home │ │ potential │ $10 │" in text  # money in the run's currency (QA38 F8)
    assert CliRunner().invoke(main, args).exit_code == 0


def test_an_area_unit_is_named_as_an_area() -> None:
    """QA12 N7: the accounts --areas merged into one unit were named "family area:MXMX06 (5 accounts)"."""
    acc = [
        {"account_id": f"C{k}", "lat": 0.0, "lon": 0.1 * k, "potential": 1.0, "workload": 1.0,
         "parent_id": "area:MXMX06" if k < 2 else "F"}
        for k in range(4)
    ]  # fmt: skip
    p = _problem(acc, [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}])
    assert p.unit_label(int(p.acc_unit[0])) == "area MXMX06 (2 accounts)"
    assert p.unit_label(int(p.acc_unit[2])) == "family F (2 accounts)"


def test_the_home_note_scales_with_the_accounts_spacing() -> None:
    """QA15 L8: 2,203 Berlin listings some 25 m apart; 2,090 lay within 1 km of a rep's home and the note
    named 59 'home accounts' given away. The note's distance is the accounts' typical spacing when that is
    under 1 km; a country's cities keep 1 km."""
    from territory_planner.model.homes import HOME_KM, note_km

    lon = np.arange(40) * 0.0009  # a street of accounts 100 m apart on the equator
    assert note_km(np.zeros(40), lon) == pytest.approx(0.1)
    assert note_km(np.zeros(3), np.array([0.0, 1.0, 2.0])) == HOME_KM  # cities 111 km apart
    assert note_km(np.zeros(3), np.zeros(3)) == HOME_KM  # one location: no spacing to go by
    # R1's home on the street, by S20 (17 m) and H (13 m), 83 m from S21: 3 within 100 m, 21 within 1 km
    acc = [{"account_id": f"S{k}", "lat": 0.0, "lon": float(x)} for k, x in enumerate(lon)]
    acc.append({"account_id": "H", "name": "Home", "lat": 0.0, "lon": 0.01827})
    for row in acc:
        row.update(potential=1.0, workload=1.0)
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.01815}, {"rep_id": "R2", "lat": 0.0, "lon": 0.0}]
    p = _problem(acc, reps)
    rep = np.ones(p.n_units, dtype=np.int64)  # everything to R2, based 2 km away
    given = np.ones(2, dtype=bool)
    km = note_km(p.acc_lat, p.acc_lon)
    assert km == pytest.approx(0.1)
    (note,) = lost_homes(p, rep, p.home_lat, p.home_lon, given, km=km)
    assert note.startswith("3 account(s) at a rep's home (within 100 m) go to a rep based elsewhere: ")
    assert "R1's home account H (Home) goes to R2, 2.0 km from it" in note  # one decimal under 10 km
    assert "--keep-home 0.1 keeps them" in note
    (wide,) = lost_homes(p, rep, p.home_lat, p.home_lon, given, km=HOME_KM)
    assert wide.startswith("21 account(s) at a rep's home (within 1 km)")


@pytest.mark.parametrize("quiet", [False, True])
def test_a_quiet_sweep_leaves_each_points_home_note_in_its_summary(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, quiet: bool
) -> None:
    """`sweep --quiet` printed every point's "account(s) at a rep's home ... go to a rep based elsewhere"
    note on stderr; it prints only its table, the notes being in each point's summary.json. Without
    --quiet the notes are said as before."""
    a, r = _line(tmp_path / "in")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'accounts = "{a.as_posix()}"\nreps = "{r.as_posix()}"\nbalance = ["potential"]\ngap = 0\n',
        encoding="utf-8",
    )
    out = tmp_path / "sw"
    args = ["sweep", str(scenario), "--grid", "tolerance=0.1", "--out", str(out), "--time-limit", "20"]
    with caplog.at_level("WARNING"):
        res = CliRunner().invoke(main, [*args, *(["--quiet"] if quiet else [])])
    assert res.exit_code == 0, res.output
    said = [rec.getMessage() for rec in caplog.records if "go to a rep based elsewhere" in rec.getMessage()]
    assert len(said) == (0 if quiet else 1), said
    summary = json.loads((out / "points" / "p000_tolerance-0.1" / "summary.json").read_text())
    assert any("R1's home account H (Home City) goes to R2" in n for n in summary["notes"])
    assert logging.getLogger("territory_planner").level == logging.NOTSET  # the level comes back


def test_a_family_holding_two_reps_homes_names_both() -> None:
    """QA28 F3: a family holding Naples and Genoa, R02's and R05's homes, locked to R07, was named as
    R02's home alone."""
    acc = [
        {"account_id": "N", "lat": 0.0, "lon": 0.0, "potential": 1.0, "workload": 1.0, "parent_id": "F"},
        {"account_id": "G", "lat": 0.0, "lon": 1.0, "potential": 1.0, "workload": 1.0, "parent_id": "F"},
        {"account_id": "C", "lat": 0.0, "lon": 3.0, "potential": 1.0, "workload": 1.0, "parent_id": "F",
         "locked_rep": "R3"},
    ]  # fmt: skip
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0},
            {"rep_id": "R3", "lat": 0.0, "lon": 5.0}]  # fmt: skip
    p = _problem(acc, reps)
    (note,) = lost_homes(p, np.array([2]), p.home_lat, p.home_lon, np.ones(3, dtype=bool))
    assert "R1's and R2's home family F (3 accounts) goes to R3" in note
    assert "(locked to R3)" in note


def test_a_move_between_reps_sharing_the_office_is_not_put_down_to_keep_home(tmp_path: Path) -> None:
    """QA50 F3: R1 and R2 share the office at H; X is locked to R1, so balance takes H from R1 to R2,
    which --keep-home allows as it allows R1: the reason is balance, not "kept by --keep-home"."""
    accounts = [
        {"account_id": "H", "lat": 0.0, "lon": 0.0, "potential": 6.0, "workload": 1.0, "current_rep": "R1"},
        {"account_id": "X", "lat": 0.0, "lon": 0.01, "potential": 6.0, "workload": 1.0, "current_rep": "R1",
         "locked_rep": "R1"},
        {"account_id": "Y", "lat": 0.0, "lon": 1.0, "potential": 6.0, "workload": 1.0, "current_rep": "R3"},
    ]  # fmt: skip
    reps = [{"rep_id": r, "lat": 0.0, "lon": lon} for r, lon in (("R1", 0.0), ("R2", 0.0), ("R3", 1.0))]
    a, r = write_instance(tmp_path / "in", accounts, reps)
    code, out = _plan(tmp_path / "kept", a, r, "--keep-home", "1")
    assert code == 0, out
    plan = pd.read_csv(tmp_path / "kept" / "assignments.csv").set_index("account_id")
    assert plan.loc["H", "rep_id"] == "R2"
    reason = plan.loc["H", "reason"]
    assert reason.startswith("balance: R1 held +100% potential vs target, R2 -100%"), reason
    assert reason.endswith("(R1 and R2 are both based there: --keep-home allows either)")
    assert "kept by --keep-home" not in reason


def test_an_edits_own_home_given_away_comes_first_and_a_family_is_named_as_one() -> None:
    """QA53 F3: the edit's own given-away home (small) was inside "and 4 more" behind the plan's larger
    ones, and a family read as one of its accounts ("R04's home account A01128")."""
    from territory_planner.model.homes import edited_notes

    a = pd.DataFrame(
        {
            "account_id": ["H1", "F1", "F2"],
            "name": ["", "", ""],
            "lat": [0.0, 0.0, 0.0],
            "lon": [0.0, 1.0, 1.0],
            "potential": [1.0, 100.0, 100.0],
            "parent_id": ["", "F", "F"],
            "rep_id": ["R1", "R1", "R1"],  # the plan gave R2's home family F to R1
            "locked_rep": ["", "", ""],
            "segment": ["", "", ""],
        }
    )
    t = pd.DataFrame(
        {"rep_id": ["R1", "R2"], "home_lat": [0.0, 0.0], "home_lon": [0.0, 1.0], "home_chosen": False}
    )
    owner = np.array([1, 0, 0])  # the edit gives H1, R1's home, to R2
    (note,) = edited_notes([], a, t, owner, 1.0)
    first, second = note.split(": ", 1)[1].split("; ")[:2]
    assert first.startswith("R1's home account H1 goes to R2")
    assert second.startswith("R2's home family F (2 accounts) goes to R1")
    a["parent_id"] = ["", "area:37067", "area:37067"]  # an area plan's unit: named as an area
    (note,) = edited_notes([], a, t, owner, 1.0)
    assert "R2's home area 37067 (2 accounts) goes to R1" in note, note


def test_an_area_member_joining_its_area_says_area_not_family() -> None:
    """QA54 F3: "family: joins family area:37067 with R3" for an account --areas merged into its county."""
    from territory_planner.model.plan import Plan
    from territory_planner.outputs import move_reasons

    area = "area:37067"
    acc = [
        {"account_id": k, "lat": 0.0, "lon": lon, "potential": 1.0, "workload": 1.0, "parent_id": area,
         "current_rep": cur}
        for k, lon, cur in (("A", 0.0, "R1"), ("B", 0.1, "R2"))
    ]  # fmt: skip
    p = _problem(acc, [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0}])
    plan = Plan(np.array([1]), np.array([1, 1]), p.home_lat, p.home_lon, np.zeros(2, dtype=bool), None)  # type: ignore[arg-type]
    reasons = move_reasons(p, plan, p.account_distance(p.home_lat, p.home_lon), np.array(["R1", "R2"]))
    assert reasons[0] == "family: joins area 37067 with R2"


def test_a_home_account_above_its_reps_band_is_said_and_not_offered_to_keep_home() -> None:
    """QA56 F3: the note offered --keep-home 1 for São Paulo, R01's home, which alone is above R01's band
    (following it ended in exit 1). Such a unit is forced away: said, and left out of the hint."""
    acc = [
        {"account_id": "BIG", "lat": 0.0, "lon": 0.0, "potential": 30.0, "workload": 1.0},
        {"account_id": "S", "lat": 0.0, "lon": 2.0, "potential": 5.0, "workload": 1.0},
        {"account_id": "T", "lat": 0.0, "lon": 1.0, "potential": 5.0, "workload": 1.0},
    ]
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 2.0}]
    p = _problem(acc, reps)  # target 20 each, +-10%: BIG (30) is above R1's 22
    (note,) = lost_homes(p, np.array([1, 0, 0]), p.home_lat, p.home_lon, np.ones(2, dtype=bool))
    assert "R1's home account BIG goes to R2, 222 km from it (alone it is above R1's band: potential" in note
    assert "$30, at most $22)" in note
    assert "R2's home account S goes to R1" in note
    assert note.endswith(
        "--keep-home 1 keeps the 1 not forced away (a lock, a segment, a band) with a rep based there"
    )
