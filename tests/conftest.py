"""Shared fixtures for the core planner tests: tiny hand-drawn instances written to tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from territory_planner.model.problem import TerritoryProblem
from territory_planner.options import PlanOptions, build_options


@pytest.fixture(autouse=True)
def _one_copy_beside(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs start one copy of the whole model beside the search, as on the 2-core machines
    the suite is run and measured on, whatever cores the machine running it has (copies with other
    seeds on spare cores, ``background.Portfolio``). Tests marked ``portfolio`` lift it."""
    from territory_planner.optimize import background

    if request.node.get_closest_marker("portfolio") is None:
        monkeypatch.setattr(background, "PORTFOLIO_MOST", 1)
    # a core to spare for the flow model's phase without objective, whatever else runs on the machine
    # (the tests of a busy machine say so)
    monkeypatch.setattr(background, "core_to_spare", lambda: True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium (Playwright) per module, for the map editor's browser tests."""
    from map_fixtures import playwright_chromium

    with playwright_chromium() as b:
        yield b


class ProcessEndedError(Exception):
    """``os._exit(code)`` was called (``ends_by_raising``): the code is its argument."""


def ends_by_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    """``os._exit`` raises ``ProcessEndedError`` instead of ending the test's process."""
    import os

    def ended(code: int) -> None:
        raise ProcessEndedError(code)

    monkeypatch.setattr(os, "_exit", ended)


def run_child(code: str, *args: object) -> dict[str, Any]:
    """``code`` run by a fresh interpreter with this checkout's package (``python -c code *args``): the JSON
    object its last line of output prints."""
    import json
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def write_instance(folder: Path, accounts: list[dict], reps: list[dict]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    a, r = folder / "accounts.csv", folder / "reps.csv"
    pd.DataFrame(accounts).to_csv(a, index=False)
    pd.DataFrame(reps).to_csv(r, index=False)
    return a, r


def problem_from_rows(
    accounts: list[dict],
    reps: list[dict],
    measures: tuple[str, ...],
    tolerance: dict[str, float] | np.ndarray,
) -> TerritoryProblem:
    """A ``TerritoryProblem`` from account and rep rows, the optional columns filled as ``io.load`` fills
    them (no lock, family, segment or current rep; capacity 1)."""
    a = pd.DataFrame(accounts)
    for col in ("current_rep", "locked_rep", "parent_id", "segment"):
        if col not in a:
            a[col] = ""
    r = pd.DataFrame(reps)
    for col, default in (("capacity", 1.0), ("segments", ""), ("name", ""), ("region", "")):
        if col not in r:
            r[col] = default
    return TerritoryProblem.from_frames(a.fillna(""), r, measures, tolerance)


def options_for(a: Path, r: Path, **kw: object) -> PlanOptions:
    values: dict[str, object] = {"accounts": a, "reps": r, "time_limit": 30, "gap": 0.0}
    values.update(kw)
    return build_options(values)


def km_line_options(
    folder: Path, towns: list[tuple[str, float, float]], reps: list[tuple[str, float]], **kw: object
) -> PlanOptions:
    """A --relax instance on the equator, positions in km: ``towns`` (id, km, potential; workload 1
    each), ``reps`` (id, km); ``kw`` the options (tolerance, time_limit)."""
    accounts = [
        {"account_id": a, "lat": 0.0, "lon": km / 111.0, "potential": pot, "workload": 1.0}
        for a, km, pot in towns
    ]
    people = [{"rep_id": r, "lat": 0.0, "lon": km / 111.0} for r, km in reps]
    return options_for(*write_instance(folder, accounts, people), relax=True, **kw)


def targets_violation(spec: Any, plan: np.ndarray) -> float:
    """Targets of violation of the user's bands (as --relax counts them): each band's excess over the
    mean rep's amount of its measure, summed."""
    p = spec.problem
    out = 0.0
    for m in range(len(p.measures)):
        load = np.bincount(plan, weights=p.unit_amount[:, m], minlength=p.n_reps)
        over = np.maximum(np.maximum(p.lower_band[m] - load, load - p.upper_band[m]), 0.0)
        out += float(over.sum()) / (p.unit_amount[:, m].sum() / p.n_reps)
    return out


def random_accounts(rng: np.random.Generator, n: int, current_reps: int = 0) -> list[dict]:
    """``n`` accounts spread over the central US with integer potential and workload; with
    ``current_reps`` > 0 each gets a random current rep R0..R{current_reps-1}."""
    out = []
    for i in range(n):
        row = {
            "account_id": f"A{i}",
            "lat": float(rng.uniform(30, 45)),
            "lon": float(rng.uniform(-100, -80)),
            "potential": float(rng.integers(10, 100)),
            "workload": float(rng.integers(1, 9)),
        }
        if current_reps:
            row["current_rep"] = f"R{int(rng.integers(0, current_reps))}"
        out.append(row)
    return out


def line_instance() -> tuple[list[dict], list[dict]]:
    """Six accounts on the equator, two reps at the ends::

        R1(0)  A1(0.1) A2(0.2) A3(0.3)   A4(0.7) A5(0.8) A6(0.9)  R2(1.0)   (degrees of longitude)

    Equal potential and workload: the optimum gives A1-A3 to R1 and A4-A6 to R2.
    """
    accounts = [
        {
            "account_id": f"A{i}",
            "lat": 0.0,
            "lon": lon,
            "potential": 100.0,
            "workload": 1.0,
            "current_rep": cur,
        }
        for i, (lon, cur) in enumerate(
            [(0.1, "R1"), (0.2, "R1"), (0.3, "R1"), (0.7, "R1"), (0.8, "R2"), (0.9, "R2")], start=1
        )
    ]
    reps = [{"rep_id": "R1", "lat": 0.0, "lon": 0.0}, {"rep_id": "R2", "lat": 0.0, "lon": 1.0}]
    return accounts, reps


@pytest.fixture
def line(tmp_path: Path) -> tuple[Path, Path]:
    accounts, reps = line_instance()
    return write_instance(tmp_path / "line", accounts, reps)


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def assignment_mip(
    seed: int, n: int, m: int, room: float
) -> tuple[Any, list[Any], list[Any], tuple[np.ndarray, np.ndarray]]:
    """A generalised assignment MIP in PuLP: ``n`` items of random weight to ``m`` bins of capacity
    ``room`` x the mean load, random integer costs. (problem, columns item-major, rows, (weight, cost))."""
    import pulp

    rng = np.random.default_rng(seed)
    weight, cost = rng.integers(5, 30, n), rng.integers(1, 100, (n, m))
    prob = pulp.LpProblem("assignment", pulp.LpMinimize)
    x = [[prob.add_variable(f"x_{i}_{j}", 0, 1, pulp.const.LpBinary) for j in range(m)] for i in range(n)]
    prob.setObjective(pulp.lpSum(int(cost[i, j]) * x[i][j] for i in range(n) for j in range(m)))
    rows = [pulp.LpConstraint(pulp.lpSum(x[i]), sense=pulp.const.LpConstraintEQ, rhs=1) for i in range(n)]
    cap = float(weight.sum() / m * room)
    rows += [
        pulp.LpConstraint(
            pulp.lpSum(int(weight[i]) * x[i][j] for i in range(n)), sense=pulp.const.LpConstraintLE, rhs=cap
        )
        for j in range(m)
    ]
    for k, row in enumerate(rows):
        prob.addConstraint(row, name=f"r{k}")
    return prob, [v for row in x for v in row], rows, (weight, cost)
