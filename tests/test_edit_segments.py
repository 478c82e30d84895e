"""Hand edits and the segments each rep serves (QA4 O2: an edit giving an account to a rep who does not
serve its segment was not reported, because the plan folder did not record the reps' segments).

The plan is the tiny scenario of ``scenario_fixtures`` with segments: even accounts "ent", odd ones "smb";
R0 serves "ENT" (spelled in capitals in reps.csv), R1 "smb", R2 and R3 every segment. A001 (smb) and A002
(ent) are one family, which only R2 or R3 can take whole. Accounts are named "Clinique <n>" (A001
"Hôpital Nord", A002 no name), so problems can name them as the optimiser's messages do (QA8 O6).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from map_fixtures import segment_plan
from scenario_fixtures import write_instance

from territory_planner.cli import main
from territory_planner.render.edit_payload import edit_data
from territory_planner.render.plan_folder import read_plan_folder

SERVES = {"R0": "ENT", "R1": "smb", "R2": "", "R3": ""}
NAMES = {"A001": "Hôpital Nord", "A002": ""}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edit-segments")
    scenario = write_instance(root / "inputs", tolerance=0.3)
    accounts = pd.read_csv(root / "inputs" / "accounts.csv", dtype=str)
    accounts["segment"] = ["ent" if k % 2 == 0 else "smb" for k in range(len(accounts))]
    accounts["parent_id"] = ["F1" if acc in ("A001", "A002") else "" for acc in accounts["account_id"]]
    accounts["name"] = [NAMES.get(acc, f"Clinique {int(acc[1:])}") for acc in accounts["account_id"]]
    accounts.to_csv(root / "inputs" / "accounts.csv", index=False)
    reps = pd.read_csv(root / "inputs" / "reps.csv", dtype=str)
    reps["segments"] = reps["rep_id"].map(SERVES)
    reps.to_csv(root / "inputs" / "reps.csv", index=False)
    out = root / "base"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["edit", *args])
    return result.exit_code, result.output


def assignments(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)


def write_edits(path: Path, rows: list[tuple[str, str]]) -> Path:
    pd.DataFrame(rows, columns=["account_id", "rep_id"]).to_csv(path, index=False)
    return path


def a_free(a: pd.DataFrame, segment: str, not_with: str) -> str:
    """An account of ``segment``, outside the family, not with rep ``not_with``."""
    pick = a[(a["segment"] == segment) & (a["parent_id"] == "") & (a["rep_id"] != not_with)]
    return str(pick["account_id"].iloc[0])


def test_the_plan_records_the_segments_each_rep_serves(base: Path) -> None:
    t = pd.read_csv(base / "territories.csv", dtype=str, keep_default_na=False)
    # spelled as the accounts spell them ("ENT" in reps.csv, "ent" in accounts.csv); empty = every segment
    assert dict(zip(t["rep_id"], t["segments"], strict=True)) == {
        "R0": "ent",
        "R1": "smb",
        "R2": "",
        "R3": "",
    }
    a = assignments(base)
    assert not ((a["rep_id"] == "R0") & (a["segment"] == "smb")).any()  # the planner never crosses one


def test_an_edit_to_a_rep_who_does_not_serve_the_segment_is_refused(base: Path, tmp_path: Path) -> None:
    a = assignments(base)
    smb, ent = a_free(a, "smb", "R0"), a_free(a, "ent", "R1")
    edits = write_edits(tmp_path / "e.csv", [(smb, "R0"), (ent, "R2")])
    out = tmp_path / "out"
    code, output = run(str(base), "--edits", str(edits), "--out", str(out))
    assert code == 1, output
    errors = pd.read_csv(out / "input_errors.csv", dtype=str, keep_default_na=False)
    assert list(errors["row"].astype(int)) == [1]  # row 2: R2 serves every segment
    assert errors["column"].iloc[0] == "rep_id"
    assert errors["file"].iloc[0].endswith("e.csv")
    assert errors["message"].iloc[0] == (
        f"R0 does not serve segment 'smb' of account {smb} (Clinique {int(smb[1:])}): R0 serves only ent; "
        "reps who serve it: R1, R2, R3"
    )
    assert not (out / "assignments.csv").exists()


def test_segments_compare_without_case_and_a_served_edit_goes_through(base: Path, tmp_path: Path) -> None:
    a = assignments(base)
    ent = a_free(a, "ent", "R0")
    edits = write_edits(tmp_path / "e.csv", [(ent, "R0")])  # R0 serves "ENT"
    code, output = run(str(base), "--edits", str(edits), "--out", str(tmp_path / "m"))
    assert code == 0, output
    edited = assignments(tmp_path / "m")
    assert edited.loc[edited["account_id"] == ent, "rep_id"].iloc[0] == "R0"
    summary = json.loads((tmp_path / "m" / "summary.json").read_text(encoding="utf-8"))
    assert not [v for v in summary["violations"] if v["constraint"] == "segment"]
    assert not [n for n in summary["notes"] if "segments not checked" in n]
    # the edited plan keeps the column, so its own edits are checked too
    t = pd.read_csv(tmp_path / "m" / "territories.csv", dtype=str, keep_default_na=False)
    assert list(t["segments"]) == ["ent", "smb", "", ""]


def test_rebalance_refuses_it_naming_the_edits_file(base: Path, tmp_path: Path) -> None:
    a = assignments(base)
    smb = a_free(a, "smb", "R0")
    edits = write_edits(tmp_path / "e.csv", [(smb, "R0")])
    code, output = run(str(base), "--edits", str(edits), "--out", str(tmp_path / "r"), "--rebalance", "-q")
    assert code == 1, output
    errors = pd.read_csv(tmp_path / "r" / "input_errors.csv", dtype=str, keep_default_na=False)
    assert errors["file"].tolist() == [str(edits)]  # not accounts.csv's locked_rep
    assert "does not serve segment 'smb'" in errors["message"].iloc[0]


def test_rebalance_locks_the_whole_family_so_every_members_segment_counts(base: Path, tmp_path: Path) -> None:
    a = assignments(base)
    assert a.loc[a["account_id"] == "A002", "rep_id"].iloc[0] != "R0"
    edits = write_edits(tmp_path / "e.csv", [("A002", "R0")])  # A002 is ent (R0 serves it), A001 smb
    # as it is, the edit moves A002 alone: the family split is a violation of the manual plan
    code, output = run(str(base), "--edits", str(edits), "--out", str(tmp_path / "m"))
    assert code == 0, output
    summary = json.loads((tmp_path / "m" / "summary.json").read_text(encoding="utf-8"))
    assert [v["constraint"] for v in summary["violations"] if v["constraint"] == "family"] == ["family"]
    held = a.loc[a["account_id"] == "A001", "rep_id"].iloc[0]
    assert f"family F1 split between {', '.join(sorted({'R0', held}))}" in output  # as report.html says it
    # the map moves a family whole, an edits file the rows it lists: the split is explained (QA17 F21)
    assert (
        "the edits file moves only the rows it lists (A001 not listed); the map moves a family whole"
        in output
    )
    assert any("family F1 is split" in n for n in summary["notes"])
    # --rebalance locks the family to R0 whole: A001 (smb) cannot go there
    code, output = run(str(base), "--edits", str(edits), "--out", str(tmp_path / "r"), "--rebalance", "-q")
    assert code == 1, output
    errors = pd.read_csv(tmp_path / "r" / "input_errors.csv", dtype=str, keep_default_na=False)
    message = errors["message"].iloc[0]
    assert message.startswith("account A002 belongs to family 'F1'")  # no name: no parentheses
    assert "R0 does not serve segment 'smb' of its member A001 (Hôpital Nord): R0 serves only ent" in message


def test_an_older_plan_folder_loads_and_says_segments_are_not_checked(base: Path, tmp_path: Path) -> None:
    import shutil

    old = tmp_path / "old"
    shutil.copytree(base, old)
    t = pd.read_csv(old / "territories.csv", dtype=str, keep_default_na=False)
    t.drop(columns=["segments"]).to_csv(old / "territories.csv", index=False)
    a = assignments(old)
    smb = a_free(a, "smb", "R0")
    edits = write_edits(tmp_path / "e.csv", [(smb, "R0")])
    code, output = run(str(old), "--edits", str(edits), "--out", str(tmp_path / "m"))
    assert code == 0, output
    assert "segments not checked" in output
    summary = json.loads((tmp_path / "m" / "summary.json").read_text(encoding="utf-8"))
    assert any("segments not checked" in n for n in summary["notes"])
    data = edit_data(read_plan_folder(old))
    assert data["seg"] is None
    assert "segments not checked" in data["segNote"]


def test_a_plan_folder_changed_by_other_means_lists_the_segment_violation(base: Path, tmp_path: Path) -> None:
    """An account already with a rep who does not serve it (assignments.csv changed in a spreadsheet, in
    a folder without the manifest that would tell: a folder with it is refused, QA27 F5): the edited plan
    lists it as a ``segment`` violation of that rep."""
    import shutil

    changed = tmp_path / "changed"
    shutil.copytree(base, changed)
    (changed / "manifest.json").unlink()
    a = assignments(changed)
    smb = a_free(a, "smb", "R0")
    a.loc[a["account_id"] == smb, "rep_id"] = "R0"
    a.to_csv(changed / "assignments.csv", index=False)
    other = a_free(a, "ent", "R2")
    edits = write_edits(tmp_path / "e.csv", [(other, "R2")])
    code, output = run(str(changed), "--edits", str(edits), "--out", str(tmp_path / "m"))
    assert code == 0, output
    summary = json.loads((tmp_path / "m" / "summary.json").read_text(encoding="utf-8"))
    segment = [v for v in summary["violations"] if v["constraint"] == "segment"]
    assert len(segment) == 1
    assert segment[0]["rep_id"] == "R0"
    assert segment[0]["accounts"] == [smb]
    assert segment[0]["serves"] == ["ent"]
    assert (
        f"segment R0: 1 account(s) of a segment the rep does not serve: {smb} (Clinique {int(smb[1:])})"
        in (output)
    )


def test_the_map_payload_carries_the_segments_each_rep_serves(tmp_path: Path) -> None:
    data = edit_data(read_plan_folder(segment_plan(tmp_path / "p")))
    assert data["seg"] == [[], ["<i>ent</i>", "ent", "smb"], ["smb"]]
    assert data["segNote"] == ""
    old = edit_data(read_plan_folder(segment_plan(tmp_path / "o", recorded=False)))
    assert old["seg"] is None
    assert "segments not checked" in old["segNote"]
