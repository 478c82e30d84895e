"""The map's Edit mode counts the pieces of each territory (district) of a contiguous plan as ``edit``
does (QA26 F7: a hand edit that cut a territory of a ``--contiguous`` plan in two was flagged by the
``edit`` command and not in the map). Eight unit squares in a row, four reps: R1 and R2 in district D1 at
the west end, R3 and R4 in D2 at the east end, planned with ``--contiguous --district-contiguous``; and
the same squares as points with an ``--adjacency`` edge list that then goes missing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from map_fixtures import CHROMIUM, square

from territory_planner.cli import main
from territory_planner.render.edit_payload import edit_data
from territory_planner.render.map import write_map
from territory_planner.render.plan_folder import read_plan_folder

READY = "#tp-status[data-drawn='1']"
REPS = pd.DataFrame(
    [
        {"rep_id": "R1", "lat": 0.5, "lon": 0.5, "district": "D1"},
        {"rep_id": "R2", "lat": 0.5, "lon": 2.5, "district": "D1"},
        {"rep_id": "R3", "lat": 0.5, "lon": 5.5, "district": "D2"},
        {"rep_id": "R4", "lat": 0.5, "lon": 7.5, "district": "D2"},
    ]
)


def _squares(root: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"account_id": f"S{k}", "potential": 1.0, "workload": 1.0},
            "geometry": square(k, 0.0, 1.0),
        }
        for k in range(8)
    ]
    path = root / "accounts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _plan(root: Path, accounts: Path, *extra: str) -> Path:
    REPS.to_csv(root / "reps.csv", index=False)
    out = root / "plan"
    args = ["plan", "--accounts", str(accounts), "--reps", str(root / "reps.csv"), "--tolerance", "0.01"]
    res = CliRunner().invoke(main, [*args, *extra, "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(out / "assignments.csv", dtype=str)
    assert a["rep_id"].tolist() == ["R1", "R1", "R2", "R2", "R3", "R3", "R4", "R4"]
    return out


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contig-map")
    return _plan(root, _squares(root), "--contiguous", "--district-contiguous")


def test_the_map_embeds_the_plans_adjacency_and_districts(area: Path) -> None:
    contig = edit_data(read_plan_folder(area))["contig"]
    assert contig["levels"] == ["territory", "district"]
    assert contig["note"] == ""
    # a row of squares: seven shared edges between neighbours, none other (queen adds no corner here)
    edges = sorted(tuple(sorted(e)) for e in zip(contig["u"], contig["v"], strict=True))
    assert edges == [(k, k + 1) for k in range(7)]
    assert contig["districts"] == ["D1", "D2"]
    assert contig["district"] == [0, 0, 1, 1]


def test_a_plan_without_contiguity_embeds_none(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _squares(tmp_path))
    assert edit_data(read_plan_folder(plan))["contig"] is None


def test_a_missing_edge_list_is_said_not_guessed(tmp_path: Path) -> None:
    rows = [
        {"account_id": f"S{k}", "lat": 0.5, "lon": k + 0.5, "potential": 1, "workload": 1} for k in range(8)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "accounts.csv", index=False)
    edges = tmp_path / "edges.csv"
    pd.DataFrame({"u": [f"S{k}" for k in range(7)], "v": [f"S{k + 1}" for k in range(7)]}).to_csv(
        edges, index=False
    )
    plan = _plan(tmp_path, tmp_path / "accounts.csv", "--contiguous", "--adjacency", str(edges))
    contig = edit_data(read_plan_folder(plan))["contig"]
    assert contig["levels"] == ["territory"]
    assert len(contig["u"]) == 7
    edges.unlink()  # the plan's own adjacency.csv still gives the graph it counted on
    contig = edit_data(read_plan_folder(plan))["contig"]
    assert len(contig["u"]) == 7
    (plan / "adjacency.csv").unlink()  # a folder written before it: the edge list it named is gone too
    contig = edit_data(read_plan_folder(plan))["contig"]
    assert contig["levels"] == []
    assert "not checked" in contig["note"]
    assert "--adjacency" in contig["note"]


@pytest.fixture(scope="module")
def page(area: Path) -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    url = write_map(area, offline=True).resolve().as_uri()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url)
        pg.wait_for_selector(READY, state="attached")
        pg.evaluate("window.territoryPlanner.setEditing(true)")
        yield pg
        browser.close()
        assert not errors


def _state(page: Any) -> tuple[dict[str, Any], str, dict[str, str], dict[str, str]]:
    pieces = page.evaluate("window.territoryPlanner.pieces()")
    summary = page.evaluate("document.querySelector('.tp-live-summary').textContent")
    cells = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('tr[data-live-rep]'), tr =>"
        " [tr.dataset.liveRep, tr.querySelector('td[data-pieces]').textContent]))"
    )
    shaded = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('tr[data-live-rep]'), tr =>"
        " [tr.dataset.liveRep, String(tr.querySelector('td[data-pieces]').classList.contains('tp-out'))]))"
    )
    return pieces, summary, cells, shaded


@pytest.mark.browser
def test_an_edit_that_cuts_a_territory_and_a_district_apart_is_flagged(page: Any) -> None:
    pieces, summary, cells, _ = _state(page)
    assert pieces == {"territory": dict.fromkeys(("R1", "R2", "R3", "R4"), 1), "district": {"D1": 1, "D2": 1}}
    assert "in pieces" not in summary
    assert "travel (workload \u00d7 km) " in summary  # not km driven (QA27 F1)
    assert page.evaluate("window.territoryPlanner.assign(['S0'], 'R3')") is True
    pieces, summary, cells, shaded = _state(page)
    # R3: S0 and S4-S5; D2: S0 and S4-S7; R1 keeps S1 alone, one piece
    assert pieces["territory"] == {"R1": 1, "R2": 1, "R3": 2, "R4": 1}
    assert pieces["district"] == {"D1": 1, "D2": 2}
    assert cells == {"R1": "1", "R2": "1", "R3": "2", "R4": "1"}
    assert shaded == {"R1": "false", "R2": "false", "R3": "true", "R4": "false"}
    assert "1 territory in pieces" in summary
    assert "district D2 in 2 pieces" in summary
    status = page.evaluate("Object.assign({}, document.querySelector('#tp-status').dataset)")
    assert (status["split"], status["districtsSplit"]) == ("1", "1")
    # the header's status and deviations are the solved plan's: said while edits exist (QA27 F13)
    note = "document.querySelector('#tp-as-solved')"
    assert page.evaluate(f"{note}.hidden") is False
    assert page.evaluate(f"{note}.textContent").startswith(
        "As solved, before your 1 hand edit(s): the edited"
    )
    page.evaluate("window.territoryPlanner.undo()")
    # along the border: S3 to R3 keeps every territory and district in one piece
    assert page.evaluate("window.territoryPlanner.assign(['S3'], 'R3')") is True
    pieces, summary, cells, _ = _state(page)
    assert set(pieces["territory"].values()) == {1}
    assert set(pieces["district"].values()) == {1}
    assert "in pieces" not in summary
    page.evaluate("window.territoryPlanner.undo()")
    assert page.evaluate("document.querySelector('#tp-as-solved').hidden") is True


@pytest.mark.browser
def test_the_map_and_the_edit_command_agree(page: Any, area: Path, tmp_path: Path) -> None:
    assert page.evaluate("window.territoryPlanner.assign(['S0', 'S7'], 'R2')") is True
    in_map = page.evaluate("window.territoryPlanner.pieces()")
    (tmp_path / "edits.csv").write_text(
        page.evaluate("window.territoryPlanner.exportEdits()"), encoding="utf-8"
    )
    page.evaluate("window.territoryPlanner.undo()")
    res = CliRunner().invoke(
        main, ["edit", str(area), "--edits", str(tmp_path / "edits.csv"), "--out", str(tmp_path / "ed")]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "ed" / "summary.json").read_text(encoding="utf-8"))
    by_cli = {
        (v["constraint"], v["rep_id"]): v["violation"] + 1
        for v in summary["violations"]
        if v["constraint"].endswith("_contiguity")
    }
    by_map = {("territory_contiguity", r): p for r, p in in_map["territory"].items() if p > 1}
    by_map |= {("district_contiguity", d): p for d, p in in_map["district"].items() if p > 1}
    assert by_map == by_cli
    assert by_map[("territory_contiguity", "R2")] == 3  # S0, S2-S3, S7
