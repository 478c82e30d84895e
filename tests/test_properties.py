"""The planner against brute force on tiny instances (hypothesis).

Every instance has at most 8 units (accounts after merging families) and at most 4 reps, so all p^n
assignments can be enumerated. The brute force is written here from SPEC's model, independently of the
package (only the great-circle distance is shared): balance bands per measure, locks, families,
segments, min/max accounts per rep, the overall disruption budget (max share of all potential moved)
and the per-rep one (each rep keeps at least (1 - share) of the potential it holds today).

- "infeasible" must be true: if the planner says so, brute force finds no feasible assignment;
- if brute force finds a feasible assignment, the planner returns a plan; that plan satisfies every
  constraint, its objective is its compactness, is >= the brute-force optimum, and equals it when the
  status is "optimal"; its lower bound is <= the optimum.
- an input error is only acceptable when it is one (a segment or lock that leaves a unit no rep).
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from territory_planner import api
from territory_planner.errors import InfeasibleError, InputError
from territory_planner.model.geo import haversine_km
from tests.conftest import options_for, write_instance

MEASURES = ("potential", "workload")
EXACT = 1e-9  # relative slack for "feasible" in brute force (float round-off of the bands only)
LOOSE = 1e-6  # relative slack a solver may use when its plan is checked
REL = 1e-6  # objective / bound comparisons
# the least constraining values first: hypothesis draws and shrinks towards the front of a list
TOLERANCES = [0.5, 0.8, 0.95, 0.5, 0.8, 0.95, 0.35, 0.6, 0.7, 0.9, 0.3, 0.2, 0.15, 0.1, 0.05]


# --- instances ----------------------------------------------------------------------------------------


def _coord(lo: int, hi: int) -> st.SearchStrategy[float]:
    return st.integers(lo * 10, hi * 10).map(lambda v: v / 10)


def _amount(top: int) -> st.SearchStrategy[int]:
    """0..top, 0 for about one account in ten (zeros make bands lumpy fast)."""
    return st.integers(-(top // 9) - 1, top).map(lambda v: max(v, 0))


@st.composite
def tiny_instances(draw: st.DrawFn) -> tuple[list[dict], list[dict], dict[str, Any]]:
    p = draw(st.integers(2, 4))
    n_units = draw(st.integers(p + 1, 8 if p <= 3 else 7))
    uneven = draw(st.booleans())  # capacities other than 1
    reps = [
        {
            "rep_id": f"R{j}",
            "lat": draw(_coord(30, 45)),
            "lon": draw(_coord(-100, -80)),
            "capacity": draw(st.sampled_from([1.0, 0.5, 1.5])) if uneven else 1.0,
            "segments": draw(st.sampled_from(["", "", "", "", "a", "b", "a;b"])),
        }
        for j in range(p)
    ]
    rep_ids = [r["rep_id"] for r in reps]
    # whole numbers (the planner rounds such bands inwards) or not (0.5 / 0.1 multiples)
    scale = draw(st.sampled_from([1.0, 1.0, 0.5, 0.1]))
    maybe_rep = st.one_of(st.just(""), st.sampled_from(rep_ids))
    accounts: list[dict] = []
    for u in range(n_units):
        size = draw(st.sampled_from([1, 1, 1, 2]))
        lock = draw(st.sampled_from(rep_ids)) if draw(st.sampled_from([False] * 7 + [True])) else ""
        for k in range(size):
            accounts.append(
                {
                    "account_id": f"A{len(accounts)}",
                    "lat": draw(_coord(30, 45)),
                    "lon": draw(_coord(-100, -80)),
                    "potential": draw(_amount(60)) * scale,
                    "workload": draw(_amount(9)) * scale,
                    "current_rep": draw(maybe_rep),
                    "locked_rep": lock if k == 0 else "",
                    "parent_id": f"F{u}" if size > 1 else "",
                    "segment": draw(st.sampled_from(["", "", "", "", "", "", "a", "b"])),
                }
            )
    assume(all(sum(a[m] for a in accounts) > 0 for m in MEASURES))
    tol = draw(
        st.one_of(
            st.sampled_from(TOLERANCES),
            st.sampled_from(TOLERANCES),
            st.fixed_dictionaries({m: st.sampled_from(TOLERANCES) for m in MEASURES}),
        )
    )
    options: dict[str, Any] = {"tolerance": tol}
    options["max_moved_share"] = draw(st.sampled_from([None, None, None, 0.5, 0.25, 0.1, 0.0]))
    options["max_moved_share_per_rep"] = draw(st.sampled_from([None, None, None, None, 0.6, 0.3, 0.0]))
    options["min_accounts"] = draw(st.sampled_from([None, None, None, None, 1, 2, 3]))
    options["max_accounts"] = draw(st.sampled_from([None, None, None, None, 6, 4, 3, 2]))
    return accounts, reps, options


# --- brute force ----------------------------------------------------------------------------------------


@dataclass
class Brute:
    unit_of: dict[str, int]  # account_id -> unit
    allowed: np.ndarray  # (U, p)
    assignments: np.ndarray  # (K, U) every rep-per-unit assignment
    cost: np.ndarray  # (K,) compactness
    exact: np.ndarray  # (K,) feasible (bands within round-off)
    loose: np.ndarray  # (K,) feasible within a solver's tolerance

    @property
    def optimum(self) -> float:
        return float(self.cost[self.exact].min())

    @property
    def loose_optimum(self) -> float:
        return float(self.cost[self.loose].min())

    def index_of(self, unit_rep: np.ndarray) -> int:
        p = self.allowed.shape[1]
        return int(np.ravel_multi_index(tuple(unit_rep), (p,) * len(unit_rep)))


def brute_force(accounts: list[dict], reps: list[dict], options: dict[str, Any]) -> Brute:
    rep_ids = [r["rep_id"] for r in reps]
    p = len(reps)
    units: dict[str, int] = {}
    unit_of: dict[str, int] = {}
    for a in accounts:
        key = f"F:{a['parent_id']}" if a["parent_id"] else f"A:{a['account_id']}"
        unit_of[a["account_id"]] = units.setdefault(key, len(units))
    n_units = len(units)
    u_idx = np.array([unit_of[a["account_id"]] for a in accounts])

    amount = np.array([[a[m] for m in MEASURES] for a in accounts], dtype=float)  # (n, M)
    size = np.bincount(u_idx, minlength=n_units).astype(float)
    unit_amount = np.zeros((n_units, len(MEASURES)))
    np.add.at(unit_amount, u_idx, amount)
    km = haversine_km(
        np.array([a["lat"] for a in accounts]),
        np.array([a["lon"] for a in accounts]),
        np.array([r["lat"] for r in reps]),
        np.array([r["lon"] for r in reps]),
    )
    cost = np.zeros((n_units, p))
    np.add.at(cost, u_idx, km * amount[:, 1:2])  # workload x km

    allowed = np.ones((n_units, p), dtype=bool)
    rep_segs = [{s for s in r["segments"].split(";") if s} for r in reps]
    for a, u in zip(accounts, u_idx, strict=True):
        if a["locked_rep"]:
            allowed[u] &= np.array(rep_ids) == a["locked_rep"]
        if a["segment"]:
            allowed[u] &= np.array([not segs or a["segment"] in segs for segs in rep_segs])

    # disruption: potential held today, and what stays if the unit goes to rep j
    pot = amount[:, 0]
    cur = np.array([rep_ids.index(a["current_rep"]) if a["current_rep"] else -1 for a in accounts])
    held = np.bincount(cur[cur >= 0], weights=pot[cur >= 0], minlength=p)
    stay = np.zeros((n_units, p))
    np.add.at(stay, (u_idx[cur >= 0], cur[cur >= 0]), pot[cur >= 0])
    moved = stay.sum(axis=1)[:, None] - stay

    grid = np.array(list(itertools.product(range(p), repeat=n_units)), dtype=np.int64)  # (K, U)
    onehot = grid[:, :, None] == np.arange(p)[None, None, :]  # (K, U, p)
    loads = np.einsum("kuj,um->kmj", onehot, unit_amount)  # (K, M, p)
    counts = np.einsum("kuj,u->kj", onehot, size)
    kept = np.einsum("kuj,uj->kj", onehot, stay)
    total_moved = np.einsum("kuj,uj->k", onehot, moved)
    cap = np.array([r["capacity"] for r in reps])
    tol_opt = options["tolerance"]
    tol = np.array([tol_opt[m] if isinstance(tol_opt, dict) else tol_opt for m in MEASURES])
    target = amount.sum(axis=0)[:, None] * (cap / cap.sum())[None, :]  # (M, p)
    lower, upper = (1 - tol)[:, None] * target, (1 + tol)[:, None] * target
    route = np.take_along_axis(cost.T[None, :, :], grid[:, None, :], axis=1)  # (K, 1, U)
    total_cost = route[:, 0, :].sum(axis=1)
    ok_units = allowed[np.arange(n_units)[None, :], grid].all(axis=1)

    def feasible(rel: float) -> np.ndarray:
        slack = rel * np.maximum(upper, 1.0)
        ok = ok_units & (loads >= lower - slack).all(axis=(1, 2)) & (loads <= upper + slack).all(axis=(1, 2))
        if options.get("min_accounts") is not None:
            ok &= (counts >= options["min_accounts"]).all(axis=1)
        if options.get("max_accounts") is not None:
            ok &= (counts <= options["max_accounts"]).all(axis=1)
        if options.get("max_moved_share") is not None:
            budget = options["max_moved_share"] * pot.sum()
            ok &= total_moved <= budget + rel * max(budget, 1.0)
        if options.get("max_moved_share_per_rep") is not None:
            floor = (1 - options["max_moved_share_per_rep"]) * held
            ok &= (kept >= floor - rel * np.maximum(held, 1.0)).all(axis=1)
        return np.asarray(ok)

    return Brute(unit_of, allowed, grid, total_cost, feasible(EXACT), feasible(LOOSE))


def _case(accounts: list[dict], reps: list[dict], options: dict[str, Any]) -> str:
    return f"accounts={accounts!r}\nreps={reps!r}\noptions={options!r}"


# --- the property -------------------------------------------------------------------------------------


def _at(i: int, potential: float, workload: float, current_rep: str = "") -> dict:
    """An account at (30, -80) with no lock, family or segment."""
    return {
        "account_id": f"A{i}",
        "lat": 30.0,
        "lon": -80.0,
        "potential": potential,
        "workload": workload,
        "current_rep": current_rep,
        "locked_rep": "",
        "parent_id": "",
        "segment": "",
    }


# Found by this test on the pipeline of 54c46ab: "the LP relaxation is feasible but no whole-account plan
# fits every band: the accounts are too lumpy" although units -> reps [0, 0, 2, 0, 2, 1, 2] fits every
# band and moves nothing (the same at tolerance 0.5001; without the 10% budget a plan was found).
LUMPY_WITH_BUDGET = (
    [_at(0, 0, 2), _at(1, 39, 0), _at(2, 11, 0), _at(3, 0, 0), _at(4, 0, 6), _at(5, 26, 4, "R1")]
    + [_at(6, 4, 0)],
    [
        {"rep_id": f"R{j}", "lat": 30.0, "lon": lon, "capacity": 1.0, "segments": ""}
        for j, lon in enumerate((-80.1, -80.0, -80.0))
    ],
    {
        "tolerance": 0.5,
        "max_moved_share": 0.1,
        "max_moved_share_per_rep": None,
        "min_accounts": None,
        "max_accounts": None,
    },
)


# Found by this test (2026-12-05): a budget with no current alignment and an account of a segment no rep
# serves: the segment is the input problem named first, the test expected the budget's alone.
SEGMENT_NOBODY_SERVES_WITH_BUDGET = (
    [_at(0, 0, 0), _at(1, 0, 0), _at(2, 0, 0), {**_at(3, 1, 1), "segment": "b"}],
    [{"rep_id": f"R{j}", "lat": 30.0, "lon": -80.0, "capacity": 1.0, "segments": "a"} for j in range(2)],
    {
        "tolerance": 0.5,
        "max_moved_share": 0.5,
        "max_moved_share_per_rep": None,
        "min_accounts": None,
        "max_accounts": None,
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(tiny_instances())
@example(LUMPY_WITH_BUDGET)
@example(SEGMENT_NOBODY_SERVES_WITH_BUDGET)
def test_planner_agrees_with_brute_force(case: tuple[list[dict], list[dict], dict[str, Any]]) -> None:
    accounts, reps, options = case
    brute = brute_force(accounts, reps, options)
    where = _case(accounts, reps, options)
    failure: InfeasibleError | InputError | None = None
    with tempfile.TemporaryDirectory() as tmp:
        a, r = write_instance(Path(tmp), accounts, reps)
        try:
            out = api.solve(options_for(a, r, gap=0.0, time_limit=20, **options))
        except (InfeasibleError, InputError) as exc:
            failure = exc
    if isinstance(failure, InfeasibleError):
        event("infeasible")
        assert not brute.exact.any(), (
            f"planner says infeasible ({failure}; {[c.family for c in failure.conflicts]}) but brute force "
            f"finds {brute.exact.sum()} feasible assignments, best cost {brute.optimum:.6f}, e.g. "
            f"{brute.assignments[brute.exact][np.argmin(brute.cost[brute.exact])].tolist()}\n{where}"
        )
        assert failure.conflicts, f"an infeasibility claim names the constraints in conflict\n{where}"
        return
    if isinstance(failure, InputError):
        event("input error")
        lo, hi = options.get("min_accounts"), options.get("max_accounts")
        if lo is not None and hi is not None and lo > hi:  # the options contradict each other (QA34 F6)
            assert any("is above the maximum" in p.message for p in failure.problems), where
            assert not brute.exact.any(), where
            return
        budgeted = (
            options.get("max_moved_share") is not None or options.get("max_moved_share_per_rep") is not None
        )
        no_rep = bool((~brute.allowed.any(axis=1)).any())  # a segment or lock leaves a unit no rep at all
        if budgeted and not any(a["current_rep"] for a in accounts):
            # a budget with no current alignment measures nothing: refused (QA22 M21), whatever the bands;
            # a unit no rep may serve is an input problem too, and may be the one named
            # (SEGMENT_NOBODY_SERVES_WITH_BUDGET)
            budget_text = "measures what moves from today's alignment"
            assert all(budget_text in p.message or no_rep for p in failure.problems), (
                f"unexpected input error {[p.message for p in failure.problems]}\n{where}"
            )
            return
        # only a real input contradiction: a segment or lock that leaves some unit no rep at all
        assert no_rep, f"unexpected input error {[p.message for p in failure.problems]}\n{where}"
        assert not brute.exact.any()
        return
    event(f"plan ({out.summary['status']})")
    s = out.summary
    assert s["status"] in {"optimal", "feasible"}, where
    assert sorted(out.assignments["account_id"]) == sorted(acc["account_id"] for acc in accounts)
    # the plan, read back per unit (a family goes to one rep)
    rep_index = {rep["rep_id"]: j for j, rep in enumerate(reps)}
    unit_rep = np.full(len(brute.allowed), -1)
    for acc_id, rep_id in zip(out.assignments["account_id"], out.assignments["rep_id"], strict=True):
        u = brute.unit_of[acc_id]
        assert unit_rep[u] in (-1, rep_index[rep_id]), f"family split\n{where}"
        unit_rep[u] = rep_index[rep_id]
    k = brute.index_of(unit_rep)
    assert brute.loose[k], f"the plan {unit_rep.tolist()} breaks a constraint\n{where}"
    assert s["objective"] == pytest.approx(brute.cost[k], rel=REL, abs=1e-6), where
    scale = max(1.0, abs(brute.loose_optimum))
    assert s["objective"] >= brute.loose_optimum - REL * scale, where
    if brute.exact.any():
        best = brute.optimum
        assert s["lower_bound"] <= best + REL * max(1.0, abs(best)), (
            f"lower bound {s['lower_bound']} above the optimum {best}\n{where}"
        )
        if s["status"] == "optimal":
            assert s["objective"] <= best + REL * max(1.0, abs(best)), (
                f"'optimal' plan costs {s['objective']}, brute force finds {best}\n{where}"
            )
    assert s["lower_bound"] <= s["objective"] * (1 + 1e-9) + 1e-9
    for m in MEASURES:
        assert out.territories[m].sum() == pytest.approx(sum(acc[m] for acc in accounts))


def test_brute_force_on_a_hand_checked_instance() -> None:
    """The brute force itself: two reps on the equator, four accounts, one lock, a family."""
    reps = [
        {"rep_id": "R0", "lat": 0.0, "lon": 0.0, "capacity": 1.0, "segments": ""},
        {"rep_id": "R1", "lat": 0.0, "lon": 1.0, "capacity": 1.0, "segments": ""},
    ]
    base = {"lat": 0.0, "current_rep": "", "locked_rep": "", "parent_id": "", "segment": "", "workload": 1.0}
    accounts = [
        {**base, "account_id": "A0", "lon": 0.1, "potential": 10.0, "locked_rep": "R1"},
        {**base, "account_id": "A1", "lon": 0.2, "potential": 10.0, "parent_id": "F"},
        {**base, "account_id": "A2", "lon": 0.3, "potential": 10.0, "parent_id": "F"},
        {**base, "account_id": "A3", "lon": 0.9, "potential": 10.0},
    ]
    brute = brute_force(accounts, reps, {"tolerance": 0.0})
    # units: A0 (locked to R1), F = {A1, A2}, A3; balanced only as {A0, A3} | F with A0 at R1
    feasible = {tuple(row) for row in brute.assignments[brute.exact].tolist()}
    assert feasible == {(1, 0, 1)}
    km = 111.195  # one degree of longitude on the equator
    assert brute.optimum == pytest.approx(km * (0.9 + 0.2 + 0.3 + 0.1), rel=1e-4)
    assert not brute_force(accounts, reps, {"tolerance": 0.0, "max_accounts": 1}).exact.any()
