"""Read and check a plan folder (the planner's outputs) before drawing it.

Every problem is collected and raised at once as an ``InputError`` whose ``Problem`` rows name the
file, the 1-based data row and the column, so ``territory-planner map`` can print one readable table.
Values are read as text and parsed explicitly: nothing is silently coerced or dropped.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.writers import folder_identity, unneutralise

log = logging.getLogger(__name__)

ASSIGNMENTS = "assignments.csv"
TERRITORIES = "territories.csv"
SUMMARY = "summary.json"
UNITS = "units.geojson"
ADJACENCY = "adjacency.csv"  # the edges between accounts the plan counted pieces over (``api.account_edges``)
SEGMENTS = "segments"  # territories.csv: the segments each rep serves (";"-separated, empty = all)

ASSIGNMENT_REQUIRED = ("account_id", "rep_id", "lat", "lon")
TERRITORY_REQUIRED = ("rep_id",)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True)
class NamedArea:
    """An area (``--areas``) that holds named accounts only: it is no unit of the plan, but the map draws
    it, in the colour of the rep holding most of its named potential (units.geojson ``named_accounts``)."""

    area_id: str
    geometry: dict[str, Any]  # GeoJSON
    accounts: tuple[str, ...]  # the named accounts in it
    name: str = ""  # the areas file's name for it ("Guilford County"), "" without one


@dataclass(frozen=True)
class PlanFolder:
    """The parts of a plan the map needs, validated."""

    assignments: pd.DataFrame  # one row per account; text columns as str, numbers as float
    territories: pd.DataFrame  # one row per rep
    summary: dict[str, Any]
    units: dict[str, Any] | None  # GeoJSON geometry (dict) per account_id, or None
    named_areas: tuple[NamedArea, ...] = ()
    folder: Path | None = None  # where it was read from (its adjacency.csv)
    identity: tuple[int, int] | None = None  # the folder read (``writers.folder_identity``)


def _read_csv(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    if not path.is_file():
        problems.append(Problem(path.name, None, None, f"missing from the plan folder {path.parent}"))
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(path.name, None, None, f"not UTF-8 text ({exc.reason})"))
        return None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(path.name, None, None, f"not a readable CSV: {exc}"))
        return None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        problems.append(Problem(path.name, None, ",".join(dup), "duplicate column names"))
        return None
    for col in frame.columns:
        frame[col] = frame[col].astype(str).map(unneutralise)
    return frame


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...], problems: list[Problem]) -> bool:
    missing = [c for c in columns if c not in frame.columns]
    for col in missing:
        problems.append(Problem(name, None, col, "required column is missing"))
    return not missing


def _numbers(
    frame: pd.DataFrame,
    name: str,
    col: str,
    problems: list[Problem],
    *,
    default: float | None,
    lo: float = -math.inf,
    hi: float = math.inf,
) -> pd.Series:
    """Parse a numeric column; blanks become ``default`` (a problem when default is None)."""
    if col not in frame.columns:
        return pd.Series(default if default is not None else math.nan, index=frame.index, dtype=float)
    text = frame[col].str.strip()
    values = pd.to_numeric(text, errors="coerce").astype(float)
    blank = text == ""
    for idx in frame.index[blank]:
        if default is None:
            problems.append(Problem(name, int(idx) + 1, col, "empty value", ""))
    values = values.where(~blank, default if default is not None else math.nan)
    bad = ~blank & (values.isna() | ~values.between(lo, hi))
    for idx in frame.index[bad]:
        problems.append(
            Problem(name, int(idx) + 1, col, f"not a number between {lo:g} and {hi:g}", text[idx])
        )
    return values


def _booleans(frame: pd.DataFrame, name: str, col: str, problems: list[Problem]) -> pd.Series | None:
    if col not in frame.columns:
        return None
    text = frame[col].str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    for idx in frame.index[bad]:
        problems.append(Problem(name, int(idx) + 1, col, "not true/false", frame[col][idx]))
    return text.isin(_TRUE)


def _ids(frame: pd.DataFrame, name: str, col: str, problems: list[Problem]) -> None:
    ids = frame[col].str.strip()
    frame[col] = ids
    for idx in frame.index[ids == ""]:
        problems.append(Problem(name, int(idx) + 1, col, "empty id"))
    dup = ids.duplicated(keep="first") & (ids != "")
    for idx in frame.index[dup]:
        problems.append(Problem(name, int(idx) + 1, col, "duplicate id", ids[idx]))


def _read_territories(plan_dir: Path, problems: list[Problem]) -> pd.DataFrame | None:
    frame = _read_csv(plan_dir / TERRITORIES, problems)
    if frame is None or not _require(frame, TERRITORIES, TERRITORY_REQUIRED, problems):
        return None
    if frame.empty:
        problems.append(Problem(TERRITORIES, None, None, "no reps in the plan"))
    _ids(frame, TERRITORIES, "rep_id", problems)
    out = pd.DataFrame({"rep_id": frame["rep_id"]})
    out["name"] = frame["name"].str.strip() if "name" in frame.columns else ""
    for col in ("accounts", "potential", "workload", "potential_target", "workload_target", "travel_km"):
        out[col] = _numbers(frame, TERRITORIES, col, problems, default=math.nan, lo=0)
    for col in ("potential_dev_pct", "workload_dev_pct"):
        out[col] = _numbers(frame, TERRITORIES, col, problems, default=math.nan)
    for col in ("moved_in", "moved_out"):
        out[col] = _numbers(frame, TERRITORIES, col, problems, default=math.nan, lo=0)
    out["home_lat"] = _numbers(frame, TERRITORIES, "home_lat", problems, default=math.nan, lo=-90, hi=90)
    out["home_lon"] = _numbers(frame, TERRITORIES, "home_lon", problems, default=math.nan, lo=-180, hi=180)
    chosen = _booleans(frame, TERRITORIES, "home_chosen", problems)
    out["home_chosen"] = chosen if chosen is not None else False
    out["capacity"] = _numbers(frame, TERRITORIES, "capacity", problems, default=1.0, lo=0)
    for m in extra_measures(frame):  # other balanced measures: value, target, deviation
        for col in (m, f"{m}_target", f"{m}_dev_pct"):
            out[col] = _numbers(frame, TERRITORIES, col, problems, default=math.nan)
    for col in ("district", "region"):  # hierarchy labels for the map's level switch
        out[col] = frame[col].fillna("").astype(str).str.strip() if col in frame.columns else ""
    if SEGMENTS in frame.columns:  # absent from folders written before it was recorded: not checked
        out[SEGMENTS] = frame[SEGMENTS].fillna("").astype(str).str.strip()
    return out


def served_segments(territories: pd.DataFrame) -> list[frozenset[str]] | None:
    """Each rep's served segments, lower case (an empty set serves every segment), from territories.csv's
    ``segments`` column; None when the plan folder does not record them (written before the column was)."""
    if SEGMENTS not in territories.columns:
        return None
    return [
        frozenset(s.strip().lower() for s in str(v).split(";") if s.strip()) for v in territories[SEGMENTS]
    ]


def serves(segments: frozenset[str], segment: str) -> bool:
    """Whether a rep serving ``segments`` may have an account of ``segment`` (as the model decides it:
    a rep listing no segment serves all, an account without a segment goes to anyone, case ignored)."""
    segment = str(segment).strip().lower()
    return not segments or not segment or segment in segments


def unchecked_segments_note(plan: PlanFolder) -> str | None:
    """Why hand edits of this plan are not checked against segments, when its accounts have segments
    but its territories.csv does not say which segments each rep serves; else None."""
    if served_segments(plan.territories) is not None or not (plan.assignments["segment"] != "").any():
        return None
    return (
        "segments not checked: this plan's territories.csv has no segments column (the plan was written "
        "before plans recorded which segments each rep serves); run plan again to have edits checked"
    )


def extra_measures(territories: pd.DataFrame) -> list[str]:
    """Measures other than potential and workload that territories.csv gives a target for."""
    return [
        c[: -len("_target")]
        for c in territories.columns
        if c.endswith("_target") and c[: -len("_target")] not in ("potential", "workload")
    ]


def _read_assignments(
    plan_dir: Path, reps: set[str] | None, problems: list[Problem], measures: tuple[str, ...] = ()
) -> pd.DataFrame | None:
    frame = _read_csv(plan_dir / ASSIGNMENTS, problems)
    if frame is None or not _require(frame, ASSIGNMENTS, ASSIGNMENT_REQUIRED, problems):
        return None
    if frame.empty:
        problems.append(Problem(ASSIGNMENTS, None, None, "no accounts in the plan"))
    _ids(frame, ASSIGNMENTS, "account_id", problems)
    out = pd.DataFrame({"account_id": frame["account_id"], "rep_id": frame["rep_id"].str.strip()})
    out["current_rep"] = frame["current_rep"].str.strip() if "current_rep" in frame.columns else ""
    if reps is not None:
        unknown = out["rep_id"] != ""
        unknown &= ~out["rep_id"].isin(reps)
        for idx in frame.index[unknown]:
            problems.append(
                Problem(
                    ASSIGNMENTS, int(idx) + 1, "rep_id", f"rep is not in {TERRITORIES}", out["rep_id"][idx]
                )
            )
    for idx in frame.index[out["rep_id"] == ""]:
        problems.append(Problem(ASSIGNMENTS, int(idx) + 1, "rep_id", "empty rep"))
    out["lat"] = _numbers(frame, ASSIGNMENTS, "lat", problems, default=None, lo=-90, hi=90)
    out["lon"] = _numbers(frame, ASSIGNMENTS, "lon", problems, default=None, lo=-180, hi=180)
    out["potential"] = _numbers(frame, ASSIGNMENTS, "potential", problems, default=0.0, lo=0)
    out["workload"] = _numbers(frame, ASSIGNMENTS, "workload", problems, default=1.0, lo=0)
    out["distance_km"] = _numbers(frame, ASSIGNMENTS, "distance_km", problems, default=math.nan, lo=0)
    for m in measures:
        if m in frame.columns and m not in out.columns:
            out[m] = _numbers(frame, ASSIGNMENTS, m, problems, default=0.0)
    moved = _booleans(frame, ASSIGNMENTS, "moved", problems)
    derived = (out["current_rep"] != "") & (out["current_rep"] != out["rep_id"])
    out["moved"] = moved if moved is not None else derived
    for col in ("reason", "name", "segment", "locked_rep", "parent_id"):
        out[col] = frame[col].str.strip() if col in frame.columns else ""
    return out


def _read_summary(plan_dir: Path, problems: list[Problem]) -> dict[str, Any]:
    path = plan_dir / SUMMARY
    if not path.is_file():
        problems.append(Problem(SUMMARY, None, None, f"missing from the plan folder {plan_dir}"))
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(SUMMARY, None, None, f"not valid JSON: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(SUMMARY, None, None, "must hold a JSON object"))
        return {}
    return data


def _read_units(
    plan_dir: Path, accounts: set[str] | None, problems: list[Problem], named: list[NamedArea]
) -> dict[str, Any] | None:
    """GeoJSON geometry per account_id; the areas holding named accounts only go to ``named``."""
    path = plan_dir / UNITS
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(UNITS, None, None, f"not valid GeoJSON: {exc}"))
        return None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        problems.append(Problem(UNITS, None, None, "not a GeoJSON FeatureCollection"))
        return None
    geoms: dict[str, Any] = {}
    for row, feat in enumerate(features, start=1):
        props = (feat or {}).get("properties") or {}
        geom = (feat or {}).get("geometry") or {}
        account = str(props.get("account_id", "")).strip()
        members = props.get("named_accounts")  # an area holding named accounts only (no account_id)
        listed = [str(m) for m in members] if isinstance(members, list) and not account else []
        named_area = bool(listed)
        unknown = [m for m in listed if accounts is not None and m not in accounts]
        if named_area and unknown:
            problems.append(
                Problem(UNITS, row, "named_accounts", f"account is not in {ASSIGNMENTS}", unknown[0])
            )
        elif not account and not named_area:
            problems.append(Problem(UNITS, row, "account_id", "feature has no account_id property"))
        elif accounts is not None and account and account not in accounts:
            problems.append(Problem(UNITS, row, "account_id", f"account is not in {ASSIGNMENTS}", account))
        elif geom.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(UNITS, row, "geometry", "expected a Polygon or MultiPolygon", str(geom.get("type")))
            )
        elif named_area:
            name = props.get("name")
            named.append(
                NamedArea(
                    str(props.get("area_id", "")),
                    geom,
                    tuple(listed),
                    name.strip() if isinstance(name, str) else "",
                )
            )
        elif account in geoms:
            problems.append(Problem(UNITS, row, "account_id", "duplicate account_id", account))
        else:
            geoms[account] = geom
    return geoms


# a folder another command replaced while it was read (`plan --force` into it) is read again, at most
# this many times in all
READ_TRIES = 3


def read_plan_folder(plan_dir: Path) -> PlanFolder:
    """Read ``assignments.csv``, ``territories.csv``, ``summary.json`` (and ``units.geojson`` if present).
    An assignments.csv changed after the plan was written is a problem (``manifest.changed_by_hand``), for
    ``edit`` too (QA27 F5: it read such a folder and wrote a "manual" plan whose hand-changed rows kept
    their old rep's distance and reason, and whose objective was not the sum of its rows).

    The files are one plan's: a folder replaced while it was read (``plan --force`` writes a new folder
    and renames it into place) is read again (QA86 F1: ``map`` beside ``plan --force`` drew the old
    plan's accounts into the new plan's map.html)."""
    plan_dir = Path(plan_dir)
    for _ in range(READ_TRIES):
        before = folder_identity(plan_dir)
        try:
            plan = _read_once(plan_dir)
        except InputError:
            if folder_identity(plan_dir) == before:
                raise
            continue
        if folder_identity(plan_dir) == before:
            return dataclasses.replace(plan, identity=before)
    raise InputError(
        Problem(
            str(plan_dir),
            None,
            None,
            f"another command replaced the plan folder each of the {READ_TRIES} times it was read: run "
            "this command again once that one has ended",
        )  # fmt: skip
    )


def _read_once(plan_dir: Path) -> PlanFolder:
    from territory_planner.manifest import changed_by_hand

    if not plan_dir.is_dir():
        raise InputError(Problem(str(plan_dir), None, None, "plan folder not found"))
    problems: list[Problem] = [] if not (p := changed_by_hand(plan_dir)) else [p]
    territories = _read_territories(plan_dir, problems)
    reps = None if territories is None else set(territories["rep_id"])
    measures = () if territories is None else tuple(extra_measures(territories))
    assignments = _read_assignments(plan_dir, reps, problems, measures)
    summary = _read_summary(plan_dir, problems)
    accounts = None if assignments is None else set(assignments["account_id"])
    named: list[NamedArea] = []
    units = _read_units(plan_dir, accounts, problems, named)
    if problems or territories is None or assignments is None:
        raise InputError(problems or "the plan folder could not be read")
    return PlanFolder(
        assignments=assignments,
        territories=territories,
        summary=summary,
        units=units,
        named_areas=tuple(named),
        folder=plan_dir,
    )


_LAST_GRAPH: list[Any] = []  # [(SHA-256, ids), graph]: the last adjacency.csv parsed (a million pairs, once)


def _written_adjacency(path: Path, ids: list[str], sha256: object = None) -> Any:
    """adjacency.csv as the plan wrote it (u,v account ids), or None when it is not: its SHA-256 is not the
    one summary.json records (``sha256``; a cut or edited file, QA49 F3), or it names an account the plan
    does not have."""
    import hashlib

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        return None
    key = (digest, tuple(ids))
    if not _LAST_GRAPH or _LAST_GRAPH[0] != key:  # `edit` asks for the plan's graph, then for its copy's
        _LAST_GRAPH[:] = [key, _parsed_adjacency(data, ids)]
    return _LAST_GRAPH[1]


def _parsed_adjacency(data: bytes, ids: list[str]) -> Any:
    from territory_planner.geo import adjacency as adjmod

    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if list(frame.columns[:2]) != ["u", "v"]:
        return None
    index = {a: k for k, a in enumerate(ids)}
    u = [index.get(unneutralise(a), -1) for a in frame["u"]]
    v = [index.get(unneutralise(b), -1) for b in frame["v"]]
    if min(u + v, default=0) < 0:
        return None
    return adjmod.Adjacency.from_edges(len(ids), u, v)


_SAID: set[str] = set()  # a damaged adjacency.csv is said once per process (an edit reads it twice)


def usable_adjacency(plan: PlanFolder, summary: dict[str, Any]) -> Path | None:
    """The folder's adjacency.csv when it is the graph the plan wrote, else None, said when the file is
    there (QA48 F7: ignored without a word); ``edit`` copies it only then (QA49 F2: a damaged file went on
    into every edited plan)."""
    found = _usable_graph(plan, summary)
    return None if found is None else found[0]


def _usable_graph(plan: PlanFolder, summary: dict[str, Any]) -> tuple[Path, Any] | None:
    """(the folder's adjacency.csv, its graph) when it is the graph the plan wrote, read once."""
    written = None if plan.folder is None else plan.folder / ADJACENCY
    if written is None or not written.is_file():
        return None
    ids = [str(a) for a in plan.assignments["account_id"]]
    adj = _written_adjacency(written, ids, summary.get("adjacency_sha256"))
    if adj is not None:
        return written, adj
    message = f"{written} is not the graph the plan wrote (changed or cut since): it is not used"
    if message not in _SAID:
        _SAID.add(message)
        log.warning("%s", message)
    return None


def plan_adjacency(plan: PlanFolder, summary: dict[str, Any]) -> Any:
    """The adjacency between the plan's accounts (``geo.adjacency.Adjacency`` over assignments.csv's
    rows), or None when the folder cannot give it (no edge list, no polygon for every account): the
    folder's adjacency.csv (the graph the plan itself counted over), else the plan's ``--adjacency`` edge
    list when that file is still there, else units.geojson's polygons, queen or rook as the plan had it;
    with the edges the plan bridged islands by (``summary``'s contiguity)."""
    import geopandas as gpd
    import shapely.geometry

    from territory_planner.geo import adjacency as adjmod

    config = summary.get("config") or {}
    ids = [str(a) for a in plan.assignments["account_id"]]
    edges = config.get("adjacency")
    found = _usable_graph(plan, summary)
    adj = None if found is None else found[1]  # read once: the check is the reading
    if adj is None and edges and Path(str(edges)).is_file():
        try:
            adj = adjmod.read_edge_list(Path(str(edges)), ids)
        except InputError:
            return None
    elif adj is None and plan.units is not None and all(a in plan.units for a in ids):
        shapes = gpd.GeoSeries([shapely.geometry.shape(plan.units[a]) for a in ids], crs="EPSG:4326")
        adj = adjmod.from_geoseries(shapes, rook=bool(config.get("rook")), tolerance_m=1.0)
    if adj is None:
        return None
    index = {a: k for k, a in enumerate(ids)}
    bridged = (summary.get("contiguity") or {}).get("bridged_edges") or []
    pairs = [
        (index[a], index[b]) for a, b in (e for e in bridged if len(e) == 2) if a in index and b in index
    ]
    if pairs:
        adj = adjmod.Adjacency.from_edges(
            adj.n, [*adj.u.tolist(), *(p[0] for p in pairs)], [*adj.v.tolist(), *(p[1] for p in pairs)]
        )
    return adj
