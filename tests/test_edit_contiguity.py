"""A hand edit that cuts a territory of a contiguous plan apart is listed as a ``contiguity`` violation
(QA17 F22: 100 North Carolina counties, Tyrrell on the coast given to the Asheville rep, was listed as a
workload band only). Six unit squares in a row, two reps at the ends, ``--contiguous``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from map_fixtures import square

from territory_planner.cli import main


def _squares(n: int) -> str:
    """``n`` unit squares in a row as a GeoJSON of accounts S0.., potential and workload 1 each."""
    features = [
        {
            "type": "Feature",
            "properties": {"account_id": f"S{k}", "potential": 1.0, "workload": 1.0},
            "geometry": square(k, 0.0, 1.0),
        }
        for k in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edit-contiguity")
    (root / "accounts.geojson").write_text(_squares(6))
    pd.DataFrame([{"rep_id": "R1", "lat": 0.5, "lon": 0.5}, {"rep_id": "R2", "lat": 0.5, "lon": 5.5}]).to_csv(
        root / "reps.csv", index=False
    )
    out = root / "plan"
    args = ["plan", "--accounts", str(root / "accounts.geojson"), "--reps", str(root / "reps.csv")]
    res = CliRunner().invoke(
        main, [*args, "--contiguous", "--tolerance", "0.5", "--out", str(out), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    a = pd.read_csv(out / "assignments.csv", dtype=str)
    assert a["rep_id"].tolist() == ["R1"] * 3 + ["R2"] * 3
    return out


def _edit(plan: Path, tmp_path: Path, rows: str) -> tuple[str, list[dict[str, object]]]:
    edits = tmp_path / "e.csv"
    edits.write_text("account_id,rep_id\n" + rows, encoding="utf-8")
    res = CliRunner().invoke(main, ["edit", str(plan), "--edits", str(edits), "--out", str(tmp_path / "ed")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "ed" / "summary.json").read_text(encoding="utf-8"))
    return res.output, [v for v in summary["violations"] if v["constraint"] == "territory_contiguity"]


def test_an_edit_that_cuts_a_territory_apart_is_listed(plan: Path, tmp_path: Path) -> None:
    output, found = _edit(plan, tmp_path, "S0,R2\n")  # R2: S0 and S3-S5, two pieces
    assert found == [
        {"constraint": "territory_contiguity", "rep_id": "R2", "measure": "pieces", "violation": 1.0}
    ]
    assert "territory_contiguity R2: 2 pieces, not one" in output
    assert "2 pieces, not one" in (tmp_path / "ed" / "report.html").read_text(encoding="utf-8")


def test_an_edit_along_the_border_keeps_both_in_one_piece(plan: Path, tmp_path: Path) -> None:
    _, found = _edit(plan, tmp_path, "S2,R2\n")  # R1: S0-S1, R2: S2-S5
    assert found == []


def test_an_edited_plans_districts_are_counted_on_its_map(tmp_path: Path) -> None:
    """QA31 F8: `edit` of a --district-contiguous plan left districts.csv's contiguous column blank and
    summary.json's hierarchy.district.pieces null, though it listed the split. Eight squares in a row,
    four reps in two districts of two."""
    (tmp_path / "a.geojson").write_text(_squares(8))
    reps = [("R1", 0.5, "W"), ("R2", 2.5, "W"), ("R3", 4.5, "E"), ("R4", 6.5, "E")]
    pd.DataFrame([{"rep_id": r, "lat": 0.5, "lon": lon, "district": d} for r, lon, d in reps]).to_csv(
        tmp_path / "r.csv", index=False
    )
    args = ["plan", "--accounts", str(tmp_path / "a.geojson"), "--reps", str(tmp_path / "r.csv")]
    args += ["--district-contiguous", "--tolerance", "0.5", "--out", str(tmp_path / "p"), "--quiet"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    a = pd.read_csv(tmp_path / "p" / "assignments.csv", dtype=str)
    east = a.loc[a["rep_id"].isin(["R3", "R4"]), "account_id"].tolist()
    edits = tmp_path / "e.csv"
    edits.write_text(f"account_id,rep_id\n{sorted(east)[-1]},R1\n", encoding="utf-8")  # W's far outpost
    res = CliRunner().invoke(
        main, ["edit", str(tmp_path / "p"), "--edits", str(edits), "--out", str(tmp_path / "ed")]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "ed" / "summary.json").read_text(encoding="utf-8"))
    assert summary["hierarchy"]["district"]["pieces"] == {"E": 1, "W": 2}
    assert summary["hierarchy"]["district"]["contiguous"] is False
    d = pd.read_csv(tmp_path / "ed" / "districts.csv", keep_default_na=False).set_index("district")
    assert d.loc["W", "contiguous"] in (False, "False")
    assert d.loc["E", "contiguous"] in (True, "True")


def test_the_edit_counts_pieces_on_the_plans_own_graph(plan: Path, tmp_path: Path) -> None:
    """QA45 F1: `edit` and the map rebuilt the graph from units.geojson, whose polygons are simplified for
    display (on 3,142 counties 874 of 9,154 shared borders were lost), so an edit that moved nothing split
    four districts. The plan writes the graph it counted on (adjacency.csv); here the squares of
    units.geojson are shrunk apart, as a simplification that keeps no shared border leaves them."""
    import shutil

    import shapely.geometry

    edges = pd.read_csv(plan / "adjacency.csv", dtype=str)
    pairs = {tuple(sorted(e)) for e in edges[["u", "v"]].itertuples(index=False)}
    assert pairs == {(f"S{k}", f"S{k + 1}") for k in range(5)}  # the plan's queen graph of the row
    apart = tmp_path / "plan"
    shutil.copytree(plan, apart)
    units = json.loads((apart / "units.geojson").read_text(encoding="utf-8"))
    for feature in units["features"]:
        shrunk = shapely.geometry.shape(feature["geometry"]).buffer(-0.05)
        feature["geometry"] = shapely.geometry.mapping(shrunk)
    (apart / "units.geojson").write_text(json.dumps(units), encoding="utf-8")
    _, found = _edit(apart, tmp_path, "S2,R1\n")  # S2 was R1's already: nothing moves
    assert found == []  # each territory one piece, as the plan counted it
    assert (tmp_path / "ed" / "adjacency.csv").is_file()  # an edited plan keeps the graph


def _family_plan(tmp_path: Path, squares: dict, family: tuple[str, ...], second_home: float) -> pd.DataFrame:
    """The contiguous plan of ``squares`` with ``family`` as one family, R1 at the first square and R2 at
    ``second_home`` (lon): its assignments by account."""
    for feature in squares["features"]:
        feature["properties"]["parent_id"] = "F" if feature["properties"]["account_id"] in family else ""
    (tmp_path / "a.geojson").write_text(json.dumps(squares))
    homes = [{"rep_id": "R1", "lat": 0.5, "lon": 0.5}, {"rep_id": "R2", "lat": 0.5, "lon": second_home}]
    pd.DataFrame(homes).to_csv(tmp_path / "r.csv", index=False)
    args = ["plan", "--accounts", str(tmp_path / "a.geojson"), "--reps", str(tmp_path / "r.csv")]
    res = CliRunner().invoke(
        main, [*args, "--contiguous", "--tolerance", "0.5", "--out", str(tmp_path / "p"), "-q"]
    )
    assert res.exit_code == 0, res.output
    return pd.read_csv(tmp_path / "p" / "assignments.csv", dtype=str).set_index("account_id")


def test_an_edit_of_one_member_of_a_family_counts_the_others_on_their_own_borders(tmp_path: Path) -> None:
    """QA48 F1: adjacency.csv gave a unit's borders to its first account only, the other members an edge to
    it: moving that first member by hand left the others as pieces of their own. S3 and S4 are a family
    (one unit) of R2's; S3 given to R1 leaves R2 with S4 and S5, one piece, and R1 with S0-S3, one piece."""
    a = _family_plan(tmp_path, json.loads(_squares(6)), ("S3", "S4"), 5.5)
    assert a.loc[["S3", "S4", "S5"], "rep_id"].tolist() == ["R2"] * 3
    output, found = _edit(tmp_path / "p", tmp_path, "S3,R1\n")
    assert "family F is split" in output
    assert found == []  # no territory in pieces: S4 keeps its border with S5


def test_a_damaged_adjacency_csv_is_said_and_the_polygons_count(
    plan: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """QA48 F7: an adjacency.csv naming an account the plan does not have was ignored without a word."""
    import logging
    import shutil

    from territory_planner.render.plan_folder import plan_adjacency, read_plan_folder

    damaged = tmp_path / "plan"
    shutil.copytree(plan, damaged)
    edges = damaged / "adjacency.csv"
    edges.write_text(edges.read_text(encoding="utf-8") + "S0,NOPE\n", encoding="utf-8")
    folder = read_plan_folder(damaged)
    with caplog.at_level(logging.WARNING):
        adj = plan_adjacency(folder, folder.summary)
    assert adj is not None
    assert len(adj.u) == 5  # the row of squares, from the polygons
    assert any("is not the graph the plan wrote" in r.getMessage() for r in caplog.records)


def test_a_family_whose_polygons_do_not_touch_is_one_piece(tmp_path: Path) -> None:
    """QA49 F1: the accounts' own graph left a family's members unlinked, so a plan of connected territories
    showed a territory of a family with an island member in 2 pieces in edit and the editor, before any
    edit. S0-S3 in a row, S9 apart, S3 and S9 a family."""
    squares = json.loads(_squares(4))
    squares["features"].append(json.loads(_squares(10))["features"][9])
    rep = _family_plan(tmp_path, squares, ("S3", "S9"), 3.5).loc["S3", "rep_id"]
    _, found = _edit(tmp_path / "p", tmp_path, f"S3,{rep}\n")  # nothing moves
    assert found == []


def test_a_cut_adjacency_csv_is_not_used_and_an_area_plan_says_pieces_are_not_counted(
    plan: Path, tmp_path: Path
) -> None:
    """QA49 F3: adjacency.csv cut to its header was used (every territory in pieces); F2: without a graph an
    area plan's edit counted no piece and said nothing. Here the squares' plan with its file cut: the
    polygons count, and the cut file is not copied into the edited plan."""
    import shutil

    cut = tmp_path / "plan"
    shutil.copytree(plan, cut)
    (cut / "adjacency.csv").write_text("u,v\n", encoding="utf-8")
    _, found = _edit(cut, tmp_path, "S2,R1\n")
    assert found == []  # counted on the polygons: both territories one piece
    assert not (tmp_path / "ed" / "adjacency.csv").exists()


def test_an_edit_reads_the_plans_adjacency_csv_once(
    plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`edit` asks for the plan's graph (to count pieces, whether to hand adjacency.csv on) and for its
    copy's (the edited map): a file of a million pairs was parsed each time. Now once."""
    from territory_planner.render import plan_folder

    parsed: list[int] = []
    real = plan_folder._parsed_adjacency

    def counted(data: bytes, ids: list[str]) -> object:
        parsed.append(len(data))
        return real(data, ids)

    monkeypatch.setattr(plan_folder, "_parsed_adjacency", counted)
    monkeypatch.setattr(plan_folder, "_LAST_GRAPH", [])
    _, found = _edit(plan, tmp_path, "S0,R2\n")
    assert len(found) == 1  # the pieces were counted on the graph
    assert len(parsed) == 1
    assert (tmp_path / "ed" / "adjacency.csv").is_file()  # and it was handed on
