"""Load and cross-check accounts and reps: every problem at once, with file, row and column."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.geo.repair import duplicate_polygons, repair_polygons
from territory_planner.io.excel import EMPTY, ExcelInfo, relocate, rows_in_message
from territory_planner.io.labels import alike_ids, did_you_mean, first_few, row_ranges
from territory_planner.io.misplaced import misplaced_coordinates
from territory_planner.io.readers import RawTable, read_table
from territory_planner.io.scenario_lines import ADDED_REPS
from territory_planner.io.schemas import ACCOUNT_FIELDS, REP_FIELDS, parse_table
from territory_planner.model.geo import haversine_km
from territory_planner.options import MAX_NUMBER

log = logging.getLogger(__name__)

WIDE_FAMILY_KM = 1_000.0  # a family whose accounts lie farther apart is warned about (a bad parent_id?)
WIDE_FAMILIES_SHOWN = 5


@dataclass(frozen=True)
class RosterEdits:
    """A scenario's changes to the roster: rep ids dropped (``[reps] remove``) and rows appended
    (``[[reps.add]]``, raw values by column)."""

    remove: tuple[str, ...] = ()
    add: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class _EditedRoster:
    table: RawTable  # the kept rows, then the added ones
    origin: np.ndarray  # per row: its 1-based data row in the file, or -k for the k-th added rep
    problems: list[Problem]  # removals of reps the file does not have; the kept rows' Excel cells


_EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!"}
)


def unknown_removals(rep_ids: Iterable[str], remove: Iterable[str]) -> list[tuple[str, str]]:
    """(rep id, message) for each ``[reps] remove`` entry the roster does not have, with the roster's
    rep it may have meant (another case, spaces, leading zeros: QA27 F9, "se05" for SE05)."""
    ids = {str(r).strip() for r in rep_ids}
    alike = alike_ids(ids)
    return [
        (r, f"reps.remove names {r!r}, which is not in the reps table{did_you_mean(r, alike, 'rep')}")
        for r in sorted(set(remove) - ids)
    ]


def _edit_roster(raw: RawTable, edits: RosterEdits) -> _EditedRoster:
    """The roster with the scenario's removed reps dropped and added reps appended (as raw text cells),
    and where each row came from, so that a problem names the file's own row (or the added rep)."""
    frame, file = raw.frame, str(raw.path)
    ids = frame["rep_id"].astype(str).str.strip() if "rep_id" in frame.columns else pd.Series(dtype=str)
    problems = [
        Problem(file, None, "rep_id", message, r) for r, message in unknown_removals(ids, edits.remove)
    ]
    keep = ~ids.isin(set(edits.remove)).to_numpy() if len(ids) else np.ones(len(frame), dtype=bool)
    kept = frame[keep]
    defaults = {f.name: str(f.default) for f in REP_FIELDS if f.default is not None}
    added = pd.DataFrame(
        [{**defaults, **{str(k).lower(): str(v) for k, v in row.items()}} for row in edits.add]
    )
    for col in set(added.columns) - set(kept.columns):  # a column only the added reps have
        kept = kept.assign(**{col: defaults.get(col, "")})
    edited = pd.concat([kept, added], ignore_index=True).fillna("")
    rows = np.flatnonzero(keep) + 1
    origin = np.concatenate([rows, -np.arange(1, len(added) + 1)])
    excel = None
    if raw.excel is not None:  # cell types of the kept rows; an added rep's cells have none
        kinds = {
            c: np.concatenate([k[keep], np.full(len(added), EMPTY, dtype=k.dtype)])
            for c, k in raw.excel.kinds.items()
        }
        excel = ExcelInfo(raw.excel.location, kinds, edited.reindex(columns=raw.excel.values.columns), ())
        kept_rows = set(rows.tolist())
        problems += [p for p in raw.excel.problems if p.row is None or p.row in kept_rows]
    table = RawTable(raw.path, edited, excel=excel, separator=raw.separator)
    return _EditedRoster(table, origin, problems)


def _in_file_rows(problems: list[Problem], file: str, origin: np.ndarray) -> list[Problem]:
    """Problems of an edited roster (rows numbered as edited) with the file's own rows; a problem of an
    added rep names the scenario's ``[[reps.add]]`` entry instead."""

    def where(row: int) -> str:
        o = int(origin[row - 1]) if 1 <= row <= len(origin) else row
        return f"row {o}" if o > 0 else f"reps.add[{-o}]"

    out = []
    for p in problems:
        if p.file != file or p.row is None or not 1 <= p.row <= len(origin):
            out.append(p)
            continue
        o = int(origin[p.row - 1])
        message = rows_in_message(p.message, where)
        if o > 0:
            out.append(Problem(file, o, p.column, message, p.value))
        else:
            column = f"reps.add[{-o}]" + (f".{p.column}" if p.column else "")
            out.append(Problem(ADDED_REPS, None, column, message, p.value))
    return out


def _same_book(a: ExcelInfo | None, b: ExcelInfo) -> bool:
    return a is not None and a.location.source == b.location.source


@dataclass
class LoadedInputs:
    accounts: pd.DataFrame
    reps: pd.DataFrame
    geometry: Any  # GeoSeries of account polygons (EPSG:4326) or None, invalid polygons repaired
    accounts_path: Path
    reps_path: Path
    repaired: tuple[Problem, ...] = ()  # the rows whose invalid polygon was repaired (``geo.repair``)
    warnings: tuple[str, ...] = ()  # accepted but worth a look (``wide_families``); logged as warnings


def _cross_check(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    afile: str,
    departed: set[str],
    locks_from: tuple[str, dict[str, int]] | None = None,
) -> list[Problem]:
    """Rep references against the roster. ``locks_from``: the locks file and each lock's row there, by
    account_id: a lock's unknown rep is that file's row (it named accounts.csv's, which has no such rep)."""
    problems: list[Problem] = []
    rep_ids = set(reps["rep_id"])
    # a rep's name where its id belongs (QA32 F-y: a CRM's owner column holds names)
    by_name = dict(zip(reps["name"], reps["rep_id"], strict=True)) if "name" in reps else {}
    by_name.pop("", None)
    alike = alike_ids(rep_ids)
    for col in ("current_rep", "locked_rep"):
        vals = accounts[col]
        unknown = (vals != "") & ~vals.isin(rep_ids)
        if col == "current_rep" and departed:
            unknown &= ~vals.isin(departed)
        for idx in np.flatnonzero(unknown.to_numpy()):
            rep = vals.iloc[idx]
            # today's owner who is no longer on the roster: the usual way is a departure, which the
            # scenario says (the accounts then must move and do not count against the budget)
            left = (
                # the same id in other letter case or with spaces (QA13 11: 'es01' for ES01), written
                # as a decimal by a float export (1.0 for 1), without its leading zeros (7 for 007) or in
                # another Unicode form (QA22 M2, M5, M25)
                did_you_mean(rep, alike, "rep")
                or (
                    f" ({rep!r} is the name of rep {by_name[rep]}: {col} takes rep ids, not names)"
                    if rep in by_name
                    else f" ({rep}: an Excel error value, what a formula that found nothing shows; fix the "
                    "formula or leave the cell empty)"
                    if str(rep).strip().upper() in _EXCEL_ERRORS
                    else f" (a rep who left? keep {rep} in the reps file and remove it in the scenario, "
                    f'[reps] remove = ["{rep}"]: its accounts are then reassigned)'
                    if col == "current_rep"
                    else ""
                )
            )
            acc = str(accounts["account_id"].iloc[idx]) if "account_id" in accounts else ""
            if col == "locked_rep" and rep in departed:
                # in the reps file, taken out by the scenario (QA38 F6: "not a rep in the reps file")
                removed = (
                    f"{rep!r} is removed by the scenario's [reps] remove, and the account is locked to it: "
                    f"unlock the account (or lock it to another rep), or keep {rep}"
                )
                in_locks, in_accounts = removed, removed
            else:
                in_locks = f"{rep!r} (the lock of {acc}) is not a rep in the reps file{left}"
                in_accounts = f"{rep!r} is not a rep in the reps file{left}"
            if col == "locked_rep" and locks_from is not None and acc in locks_from[1]:
                problems.append(
                    Problem(locks_from[0], locks_from[1][acc], "rep_id", f"rep_id {in_locks}", rep)
                )
                continue
            problems.append(Problem(afile, int(idx) + 1, col, f"{col} {in_accounts}", rep))
    # a family locked to two different reps
    fam = accounts[(accounts["parent_id"] != "") & (accounts["locked_rep"] != "")]
    for parent, grp in fam.groupby("parent_id", sort=True):
        locks = sorted(set(grp["locked_rep"]))
        if len(locks) > 1:
            for idx in grp.index:
                problems.append(
                    Problem(
                        afile,
                        int(idx) + 1,
                        "locked_rep",
                        f"family {parent!r} is locked to {len(locks)} different reps ({', '.join(locks)}); "
                        "a family goes to one rep",
                        str(accounts.at[idx, "locked_rep"]),
                    )
                )
    # segments: someone must be able to serve each one, and a lock must respect it
    rep_segs = {
        r: {s.strip().lower() for s in str(v).split(";") if s.strip()}
        for r, v in zip(reps["rep_id"], reps["segments"], strict=False)
    }
    seg = accounts["segment"].str.lower()
    for value in sorted(set(seg) - {""}):
        servers = [r for r, s in rep_segs.items() if not s or value in s]
        if not servers:
            for idx in np.flatnonzero((seg == value).to_numpy())[:20]:
                written = str(accounts["segment"].iloc[idx])  # as the file writes it (QA46 F3: "gov")
                message = f"no rep serves segment {written!r}"
                problems.append(Problem(afile, int(idx) + 1, "segment", message, written))
    # a lock to a rep who lists segments, none of them the account's: the lock and the segment rule
    # cannot both hold (whether or not other reps could serve the segment). A family goes where any of
    # its members is locked, so its other members' segments are checked against that lock too.
    locked = accounts["locked_rep"]
    for idx in np.flatnonzero(((locked != "") & (seg != "")).to_numpy()):
        rep = locked.iloc[idx]
        if rep_segs.get(rep) and seg.iloc[idx] not in rep_segs[rep]:
            problems.append(
                Problem(
                    afile,
                    int(idx) + 1,
                    "locked_rep",
                    f"locked to {rep!r}, who does not serve segment {seg.iloc[idx]!r}",
                    rep,
                )
            )
    parents = accounts["parent_id"]
    family_lock: dict[str, tuple[str, int]] = {}
    for idx in np.flatnonzero(((parents != "") & (locked != "")).to_numpy()):
        family_lock.setdefault(parents.iloc[idx], (locked.iloc[idx], int(idx) + 1))
    for idx in np.flatnonzero(((parents != "") & (locked == "") & (seg != "")).to_numpy()):
        if parents.iloc[idx] not in family_lock:
            continue
        rep, row = family_lock[parents.iloc[idx]]
        if rep_segs.get(rep) and seg.iloc[idx] not in rep_segs[rep]:
            problems.append(
                Problem(
                    afile,
                    int(idx) + 1,
                    "segment",
                    f"family {parents.iloc[idx]!r} is locked to {rep!r} (row {row}), who does not serve "
                    f"segment {seg.iloc[idx]!r}",
                    seg.iloc[idx],
                )
            )
    return problems


def wide_families(accounts: pd.DataFrame, file: str, limit_km: float = WIDE_FAMILY_KM) -> list[str]:
    """A warning for the families (``parent_id``) whose accounts lie more than ``limit_km`` apart: one
    rep gets all of them, so a key that joins unrelated accounts (a city name shared by Portland, Maine
    and Portland, Oregon) sends that rep across the country. Each names the family, the distance and two
    rows that far apart (the farthest member from the family's centre, and the farthest from that one:
    at least half the family's true span, usually all of it)."""
    if accounts.empty or "parent_id" not in accounts:
        return []
    fam = accounts[(accounts["parent_id"] != "") & accounts["lat"].notna() & accounts["lon"].notna()]
    wide: list[tuple[float, str, int, int]] = []
    for parent, grp in fam.groupby("parent_id", sort=True):
        if len(grp) < 2:
            continue
        lat, lon = grp["lat"].to_numpy(float), grp["lon"].to_numpy(float)
        lat_r, lon_r = np.radians(lat), np.radians(lon)
        xyz = np.column_stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])
        c = xyz.mean(axis=0)
        if np.linalg.norm(c) < 1e-9:  # antipodal members: any one will do as the start
            c = xyz[0]
        c_lat, c_lon = np.degrees(np.arctan2(c[2], np.hypot(c[0], c[1]))), np.degrees(np.arctan2(c[1], c[0]))
        a = int(np.argmax(haversine_km(lat, lon, np.array([c_lat]), np.array([c_lon]))[:, 0]))
        d = haversine_km(lat, lon, lat[a : a + 1], lon[a : a + 1])[:, 0]
        b = int(np.argmax(d))
        if d[b] > limit_km:
            rows = sorted((int(grp.index[a]) + 1, int(grp.index[b]) + 1))
            wide.append((float(d[b]), str(parent), rows[0], rows[1]))
    wide.sort(key=lambda w: (-w[0], w[1]))
    out = [
        f"{file}: family {parent!r} (parent_id) spans {km:,.0f} km (rows {r1} and {r2}): one rep gets all "
        "of it; check that the key does not join unrelated accounts"
        for km, parent, r1, r2 in wide[:WIDE_FAMILIES_SHOWN]
    ]
    if len(wide) > WIDE_FAMILIES_SHOWN:
        out.append(f"{file}: {len(wide) - WIDE_FAMILIES_SHOWN} more families span over {limit_km:,.0f} km")
    return out


def blank_current_reps(accounts: pd.DataFrame, file: str) -> list[str]:
    """A warning when some accounts have a current_rep and others none: the blank ones count as new
    accounts (never moved, outside the disruption budget). A spreadsheet's merged cells (one rep written
    once for a block of its accounts) save as exactly that (QA5: five accounts under a merged current_rep
    cell were planned as new, without a word)."""
    if accounts.empty or "current_rep" not in accounts:
        return []
    blank = accounts["current_rep"].eq("").to_numpy()
    if not blank.any() or blank.all():
        return []
    rows = [int(i) + 1 for i in np.flatnonzero(blank)]
    return [
        f"{file}: {len(rows):,} of {len(blank):,} accounts have no current_rep (rows {row_ranges(rows)}): "
        "they are planned as new accounts, never counted as moved nor against --max-moved-share; if a "
        "spreadsheet had merged cells there, fill every cell"
    ]


def spaced_ids(raw: pd.DataFrame, column: str, file: str) -> list[str]:
    """A warning naming the rows whose id has spaces around it, read without them: ids are matched as
    written, and a planner should know that ``" 77"`` became ``77`` (QA44 F20: trimmed without a word)."""
    if column not in raw.columns:
        return []
    cells = raw[column]
    text = cells.map(lambda v: v if isinstance(v, str) else "")
    spaced = (text != text.str.strip()) & (text.str.strip() != "")
    if not spaced.any():
        return []
    rows = [int(i) + 1 for i in np.flatnonzero(spaced.to_numpy())]
    shown = first_few(repr(v) for v in text[spaced])
    n = len(set(text[spaced].str.strip()))  # values, not cells (QA53 F9: 'E1 ' and ' E1' are one district)
    return [
        f"{file}: {n:,} {column}(s) with spaces around them ({'rows' if len(rows) > 1 else 'row'} "
        f"{row_ranges(rows)}: {shown}) read without the spaces"
    ]


_AREAS = ("Polygon", "MultiPolygon")
_POINTS = ("Point", "MultiPoint")


def _polygon_collections(geometry: Any) -> Any:
    """A GeometryCollection of polygons only (some exports write a multipart area so) as the MultiPolygon
    it is (QA33 F20: told to "keep its polygon(s) only")."""
    import shapely

    kind = geometry.geom_type
    rows = np.flatnonzero((kind == "GeometryCollection").to_numpy())
    if not len(rows):
        return geometry
    out = geometry.copy()
    for i in rows.tolist():
        parts = [p for g in out.iloc[i].geoms for p in getattr(g, "geoms", [g])]
        if parts and all(p.geom_type == "Polygon" for p in parts):
            out.iloc[i] = shapely.MultiPolygon(parts)
    return out


def _shape_rows(geometry: Any, path: str) -> list[Problem]:
    """A geometry that is neither an area nor a point: a line (a digitising slip, a broken export) or a
    collection (a polygon with a label point). QA32 F-w: validate said "inputs are valid", and plan failed
    after its solve naming units.geojson, a file it writes itself."""
    kind = geometry.geom_type
    odd = (kind.notna() & ~geometry.is_empty & ~kind.isin([*_AREAS, *_POINTS])).to_numpy()
    return [
        Problem(
            path,
            int(i) + 1,
            "geometry",
            f"a {kind.iloc[i]} where an account's area (Polygon, MultiPolygon) or point belongs: "
            + (
                "keep its polygon(s) only"
                if kind.iloc[i] == "GeometryCollection"
                else "a line has no area; draw the account's polygon, or give a point"
            ),
            str(kind.iloc[i]),
        )
        for i in np.flatnonzero(odd)
    ]


def _outside_polygons(accounts: pd.DataFrame, geometry: Any, path: str) -> tuple[list[Problem], list[str]]:
    """A polygon file's own lat/lon columns are used for distances in place of the polygons' points (a
    county layer with centroid columns): each should lie in its polygon. QA32 F-g: joined one row off, 0
    of 100 inside their counties, an "optimal" plan 143 km off on average. Points more than
    ``OUTSIDE_KM`` out are problems when they are at least ``OUTSIDE_SHARE`` of the rows (the columns are
    wrong), else a warning naming them (a coastal point on a coarse polygon)."""
    import shapely

    areas = geometry.geom_type.isin(_AREAS).to_numpy()
    if not areas.any() or len(accounts) != len(geometry):
        return [], []
    pts = shapely.points(accounts["lon"].to_numpy(float), accounts["lat"].to_numpy(float))
    # degrees to km, roughly (a test for far off, not a measurement)
    km = np.nan_to_num(shapely.distance(pts, np.asarray(geometry, dtype=object)), nan=0.0) * 111.0
    out = np.flatnonzero(areas & (km > OUTSIDE_KM))
    if not len(out):
        return [], []
    fix = (
        "the file's lat and lon columns are used for distances in place of the polygons' own points; fix "
        "them, or delete both columns to use the polygons' points"
    )
    if len(out) >= max(OUTSIDE_SHARE * int(areas.sum()), OUTSIDE_ROWS):
        return [
            Problem(
                path, int(i) + 1, "lat/lon", f"lat/lon lie {km[i]:,.0f} km outside the row's polygon: {fix}"
            )
            for i in out
        ], []
    rows = row_ranges([int(i) + 1 for i in out])
    return [], [f"{path}: the lat/lon of {len(out)} row(s) ({rows}) lie outside their polygons: {fix}"]


def _overlapping_polygons(accounts: pd.DataFrame, geometry: Any, path: str) -> list[str]:
    """A warning per pair of account polygons of which one holds the other's inner point (shapely's
    ``point_on_surface``): one drawn over the other (a county drawn with the city it should leave out as
    a hole: us-atlas's 10m Fairfax County covers 78.9% of Falls Church). The map draws one over the
    other and the two count as neighbours; which account a spot belongs to is the file's to fix."""
    import shapely
    from shapely.strtree import STRtree

    from territory_planner.geo.areas import grouped_pairs, overlap_share
    from territory_planner.io.labels import first_few

    geoms = np.asarray(geometry, dtype=object)
    areas = geometry.geom_type.isin(_AREAS).to_numpy()
    if areas.sum() < 2 or len(accounts) != len(geoms):
        return []
    rows = np.flatnonzero(areas)
    shapes = geoms[rows]
    inner, holder = STRtree(shapes).query(shapely.point_on_surface(shapes), predicate="within")
    ids = accounts["account_id"].astype(str).to_numpy()
    out: list[str] = []
    pairs = {(min(i, j), max(i, j)) for i, j in zip(inner.tolist(), holder.tolist(), strict=True) if i != j}
    # the same polygon twice is said as such (``geo.repair.duplicate_polygons``)
    hubs, single, more = grouped_pairs([(a, b) for a, b in pairs if not shapely.equals(shapes[a], shapes[b])])

    def named(k: int) -> str:
        return f"{ids[rows[k]]} (row {int(rows[k]) + 1})"

    for hub, others in hubs:
        out.append(
            f"{path}: the polygon of account {named(hub)} overlaps those of {len(others)} accounts "
            f"({first_few([named(k) for k in others], 3)}): the map draws one over the other and they count "
            "as neighbours; check the polygons"
        )
    for a, b in single:
        out.append(
            f"{path}: the polygons of accounts {named(a)} and {named(b)} overlap "
            f"({overlap_share(shapes[a], shapes[b]):.1%} of the smaller one): the map draws one over the "
            "other and they count as neighbours; check the polygons"
        )
    if more:
        out.append(f"{path}: {more} more pairs of account polygons overlap: check the polygons")
    return out


OUTSIDE_KM = 1.0
OUTSIDE_SHARE = 0.1
OUTSIDE_ROWS = 3  # and at least this many rows (QA33 F4: one point in a hole of 9 polygons was refused)


def _point_rows(geometry: Any, path: str) -> tuple[bool, list[Problem]]:
    """(whether every account with a geometry is a point: a layer of point accounts, planned as points
    at those coordinates; the problems of points among areas, one per row). QA14: a GeoPackage of 324
    Soho addresses passed validate, then plan solved it and exited 1 on units.geojson, a file it writes
    itself, 'expected a Polygon or MultiPolygon'."""
    kind = geometry.geom_type
    present = (kind.notna() & ~geometry.is_empty & kind.isin([*_AREAS, *_POINTS])).to_numpy()
    point = kind.isin(_POINTS).to_numpy() & present
    if not present.any() or not point.any():
        return False, []
    if point[present].all():
        return True, []
    # the fewer kind is the one named (QA25 F6: one polygon among 690 points named the 690 points)
    areas = present & ~point
    if areas.sum() < point.sum():
        fix = (
            f"every account of a file is an area or every one a point, and {int(point.sum()):,} of this "
            "file's are points: draw this account as a point too, or every account as an area"
        )
        return False, [
            Problem(path, int(i) + 1, "geometry", f"an area among points: {fix}", str(kind.iloc[i]))
            for i in np.flatnonzero(areas)
        ]
    fix = "every account of a file is an area (polygon) or every one a point: draw its area, or give points"
    rows = np.flatnonzero(point)
    return False, [
        Problem(path, int(i) + 1, "geometry", f"a point among areas: {fix}", "Point") for i in rows
    ]


TOTAL_WORDS = frozenset({"total", "totals", "subtotal", "grand total", "summe", "gesamt", "somme", "totale"})
CAPACITY_OUTLIER = 10.0  # a capacity this many times the roster's median is questioned


def roster_checks(reps: pd.DataFrame, file: str) -> tuple[list[Problem], list[str]]:
    """What a roster typed in a spreadsheet may hold besides reps (QA32 F-u, F-k): a total row (an
    input problem: it was planned as a 7th rep of 6 FTE taking 46% of the potential), a capacity that is
    the sum of the others' or far above the median (80 typed for 80%), and two ids differing only in
    letter case (R01 and r01, two seats); the last three are warnings."""
    problems: list[Problem] = []
    warnings: list[str] = []
    ids = reps["rep_id"].astype(str)
    for t in np.flatnonzero(ids.str.casefold().isin(TOTAL_WORDS).to_numpy()).tolist():
        total = "a total row of the spreadsheet, not a rep: delete the row"
        problems.append(Problem(file, t + 1, "rep_id", total, ids.iloc[t]))
    capacity = reps["capacity"].to_numpy(float)
    # a capacity the schema refused (inf, 1e308) is reported there: no sums of it here (QA57 F5)
    if len(capacity) >= 3 and bool((np.abs(capacity) <= MAX_NUMBER).all()):
        median = float(np.median(capacity))
        others = capacity.sum() - capacity
        homeless = reps["lat"].isna().to_numpy() if "lat" in reps else np.ones(len(capacity), dtype=bool)
        for i in range(len(capacity)):
            rep, cap = ids.iloc[i], capacity[i]
            where = f"{file} row {i + 1}: rep {rep}'s capacity"
            if rep.casefold() in TOTAL_WORDS:
                continue
            if homeless[i] and cap > 1 and abs(cap - others[i]) <= 1e-9 * max(others[i], 1.0):
                warnings.append(
                    f"{where} ({cap:g}) is the sum of the other reps' capacities and it has no home: a total "
                    "row? capacity is each rep's share of a full-time rep (1 = full time)"
                )
            elif median > 0 and cap >= CAPACITY_OUTLIER * median and cap > 2:  # 1 among 0.1s: QA33 F14
                warnings.append(
                    f"{where} {cap:g} is {cap / median:g} times the roster's median ({median:g}): capacity "
                    f"is a share of one full-time rep (0.8 for 80%); {rep}'s targets are "
                    f"{cap / capacity.sum():.0%} of every total"
                )
    first: dict[str, int] = {}
    for row, rid in enumerate(ids.tolist(), start=1):
        key = rid.casefold()
        if key in first and ids.iloc[first[key] - 1] != rid:
            warnings.append(
                f"{file}: rep ids {ids.iloc[first[key] - 1]!r} (row {first[key]}) and {rid!r} (row {row}) "
                "differ only in letter case: one rep twice? ids are matched exactly, so they are two reps"
            )
        first.setdefault(key, row)
    return problems, warnings


def _segment_lists(accounts: pd.DataFrame, reps: pd.DataFrame, file: str) -> list[Problem]:
    """A rep's segments written with commas ("commercial, public") are one segment no account has:
    segments are separated by ';' (QA32 F-aa: "Infeasible: R01 may serve only $0 potential")."""
    have = set(accounts["segment"].str.strip().str.lower()) - {""}
    out = []
    for i, value in enumerate(reps["segments"].tolist()):
        for part in str(value).split(";"):
            words = [w.strip() for w in part.split(",") if w.strip()]
            if len(words) > 1 and part.strip().lower() not in have and {w.lower() for w in words} <= have:
                fix = ";".join(words)
                message = f"segment {part.strip()!r} is no account's: segments are separated by ';' ({fix})"
                out.append(Problem(file, i + 1, "segments", message, str(value)))
    return out


OWNER_WORDS = ("owner", "rep", "manager", "salesperson", "seller", "assigned", "user", "agent", "betreuer")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def _owner_columns(raw: pd.DataFrame, rep_ids: Iterable[str], file: str, named: set[str]) -> list[Problem]:
    """A column not read whose name speaks of a person (``OWNER_WORDS``) and whose every value is a rep id
    of the roster, in a table with no current_rep: today's owner (QA32 F-p: HubSpot's "Company owner",
    "moved 0 accounts" and a disruption budget that limits nothing). Numbers are never taken for it (QA33
    F2: rep ids 1, 2, 3 beside a priority column of 1 to 3). ``named``: columns the run reads or another
    problem already names (a --balance measure: QA33 F12)."""
    if "current_rep" in raw.columns:
        return []
    known = {f.name for f in ACCOUNT_FIELDS} | named
    ids = set(rep_ids)
    out = []
    for column in raw.columns:
        words = re.sub(r"[^a-z]", "", str(column).lower())
        if column in known or raw[column].dtype.kind not in "OSU" or not any(w in words for w in OWNER_WORDS):
            continue
        values = raw[column].astype(str).str.strip()
        values = values[values != ""]
        if values.str.match(_NUMBER).all():
            continue
        if len(values) >= max(1, len(raw) // 2) and set(values) <= ids:
            out.append(
                Problem(
                    file,
                    None,
                    str(column),
                    f"column {column!r} holds rep ids of the reps file ({', '.join(sorted(set(values))[:3])}"
                    ", ...) and is not read: the planner takes today's owner from 'current_rep', and without "
                    "it no account has a current rep (nothing counts as moved); rename the column to "
                    "'current_rep' (or drop it, if it holds something else)",
                )
            )
    return out


def _rep_homes(raw: RawTable, path: str) -> list[Problem]:
    """A reps table from a layer of points (rep offices exported from a GIS): the points are the homes,
    unless the table has lat/lon columns (QA32 F-l: the points were dropped and the planner chose every
    home, the Raleigh rep's near Asheville). A row with no point has no home (the planner chooses one)."""
    geometry = raw.geometry
    kind = geometry.geom_type
    if {"lat", "lon"} & set(raw.frame.columns):
        return []
    # a point, or a multipoint of one point (QA33 F11); a layer of territory polygons gives no homes: the
    # planner chooses them, as before (QA33 F17)
    one = [_single_point(g) for g in geometry]
    point = np.array([g is not None for g in one], dtype=bool)
    raw.frame["lat"] = [g.y if g is not None else np.nan for g in one]
    raw.frame["lon"] = [g.x if g is not None else np.nan for g in one]
    odd = (kind == "MultiPoint").to_numpy() & ~point  # several points: which is the home?
    fix = "give the home as one point, or lat and lon columns"
    message = f"a rep's home is one point, not several: {fix}"
    return [Problem(path, int(i) + 1, "geometry", message, "MultiPoint") for i in np.flatnonzero(odd)]


def _single_point(g: Any) -> Any:
    """The point of a Point or of a MultiPoint of one point, else None."""
    if g is None or g.is_empty:
        return None
    if g.geom_type == "MultiPoint" and len(g.geoms) == 1:
        return g.geoms[0]
    return g if g.geom_type == "Point" else None


def _missing_geometries(geometry: Any) -> dict[int, str]:
    """Rows (1-based) of a geographic file with no geometry or an empty one, and what to say about each."""
    missing = geometry.isna().to_numpy()
    empty = ~missing & geometry.is_empty.to_numpy()
    fix = "draw the account's polygon or point, or give the file lat and lon columns"
    out = {int(i) + 1: f"the geometry is missing (the row has none): {fix}" for i in np.flatnonzero(missing)}
    out.update({int(i) + 1: f"the geometry is empty: {fix}" for i in np.flatnonzero(empty)})
    return dict(sorted(out.items()))


def load_inputs(
    accounts_path: Path | str,
    reps_path: Path | str,
    measures: tuple[str, ...] = ("potential", "workload"),
    departed_reps: set[str] | None = None,
    roster_edits: RosterEdits | None = None,
    hierarchy_needs: dict[str, str] | None = None,
    locks: Path | None = None,
    districts_ignored: bool = False,
) -> LoadedInputs:
    """Read, parse and cross-check the two tables. Raises ``InputError`` with every problem found.

    ``roster_edits`` (a scenario that adds or removes reps) changes the reps file's rows before they are
    validated with the same contract; every problem still names the file's own row (or the added rep).
    ``departed_reps`` may appear as ``current_rep`` only.
    ``hierarchy_needs`` {column: option}: hierarchy columns every rep must carry for the options given.
    ``locks`` (a CSV of account_id,rep_id) overrides ``locked_rep`` before the checks.
    ``districts_ignored`` (``--design-districts``): the reps' district column is not checked.
    """
    accounts_path, reps_path = Path(accounts_path), Path(reps_path)
    problems: list[Problem] = []
    acc = _read_accounts(accounts_path, measures, locks, problems)
    n_accounts = len(problems)  # problems[:n_accounts] are the accounts table's
    rep = _read_reps(reps_path, roster_edits, problems)
    n_reps = len(problems)  # then the reps table's; every later problem is about the accounts
    accounts, reps, raw_a = acc.frame, rep.frame, acc.raw
    # Cross-table checks run even when the per-table checks found problems, so that one run reports
    # everything: they only need the text columns (ids, references, families, segments), which every
    # row of a parsed table has. A table that could not be parsed at all (unreadable, a required column
    # missing) comes back empty and its references cannot be checked.
    roster_warnings: list[str] = []
    if not reps.empty:
        from territory_planner.io.hierarchy import check_reps

        problems += check_reps(
            reps, str(reps_path), hierarchy_needs or {}, districts_ignored=districts_ignored
        )
        found, roster_warnings = roster_checks(reps, str(reps_path))
        problems += found
    if not accounts.empty and not reps.empty:
        problems += _cross_check(accounts, reps, str(accounts_path), departed_reps or set(), acc.locks_from)
        problems += _segment_lists(accounts, reps, str(reps_path))
    if raw_a is not None and not reps.empty:
        named = {str(p.column) for p in problems if p.file == str(accounts_path)} | set(measures)
        problems += _owner_columns(raw_a.frame, reps["rep_id"], str(accounts_path), named)
    if not accounts.empty:
        problems += _nothing_to_balance(accounts, raw_a, measures, problems, str(accounts_path))
    if rep.edited is not None:  # rows as the reps file numbers them, then the edit's own problems
        file, origin = str(reps_path), rep.edited.origin
        own = _in_file_rows(problems[n_accounts:n_reps], file, origin) + rep.edited.problems
        problems = problems[:n_accounts] + own + _in_file_rows(problems[n_reps:], file, origin)
        n_reps = n_accounts + len(own)
    # what is accepted but worth a look; with problems too, over the rows that parsed, so that one round
    # of fixes covers both (QA113 F2: a row with lat and lon swapped, beside 10 bad rows, was named only
    # once they were fixed); the problems come first whatever these checks make of a table with bad cells
    try:
        warnings = _load_warnings(acc, rep, accounts_path, reps_path, roster_warnings, districts_ignored)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        if not problems:
            raise
        log.debug("warnings left out beside the input problems: %s", exc)
        warnings = ()
    for warning in warnings:
        log.warning("%s", warning)
    if problems:  # tables read from workbooks (maybe both from one): sheet, Excel row, column letter
        sheet_a, sheet_r = (t.excel if t is not None else None for t in (raw_a, rep.raw))
        # the cross-table checks name either file; one workbook holding both tables is located once
        both = [sheet_a] + ([sheet_r] if sheet_r is not None and not _same_book(sheet_a, sheet_r) else [])
        error = InputError(
            relocate(problems[:n_accounts], [sheet_a])
            + relocate(problems[n_accounts:n_reps], [sheet_r])
            + relocate(problems[n_reps:], both)
        )
        error.warnings = warnings
        raise error
    return LoadedInputs(accounts, reps, acc.geometry, accounts_path, reps_path, acc.repaired, warnings)


@dataclass
class _AccountsRead:
    """The accounts table as ``_read_accounts`` read it (empty when it could not be parsed)."""

    raw: RawTable | None = None
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    geometry: Any = None  # the account polygons (repaired), None for points
    points_layer: bool = False  # a layer of points: point accounts at those points, no areas
    repaired: tuple[Problem, ...] = ()
    warnings: list[str] = field(default_factory=list)  # accounts outside or overlapping polygons
    locks_from: tuple[str, dict[str, int]] | None = None  # the --locks file and its rows


def _read_accounts(
    path: Path, measures: tuple[str, ...], locks: Path | None, problems: list[Problem]
) -> _AccountsRead:
    """Read and parse the accounts table (a CSV, a workbook's sheet or a geospatial layer), its polygons
    repaired and their points taken as lat/lon when it has none; its problems go to ``problems``."""
    out = _AccountsRead()
    extra = [m for m in measures if m not in ("potential", "workload")]
    try:
        raw_a = out.raw = read_table(path, "accounts", defer_cells=True)
        problems += raw_a.problems  # rows longer than the header, with every other problem (QA57 F6)
        if locks is not None:
            from territory_planner.io.locks import apply_locks

            out.locks_from = (str(locks), apply_locks(raw_a.frame, Path(locks), str(path), problems))
        geometry = raw_a.geometry
        if geometry is not None:
            geometry = _polygon_collections(geometry)
            problems += _shape_rows(geometry, str(path))
            out.points_layer, mixed = _point_rows(geometry, str(path))
            problems += mixed
        # repaired before its points are taken: an invalid ring's point can lie outside the area (a
        # bow-tie's is a corner), a wrapped ring's far off
        if geometry is not None and not out.points_layer:
            try:
                fixed = repair_polygons(geometry, str(path))
                geometry, out.repaired = fixed.geometry, fixed.repaired
            except InputError as exc:
                problems += exc.problems
        out.geometry = geometry
        has_coords = {"lat", "lon"} <= set(raw_a.frame.columns)
        no_geometry: dict[int, str] = {}  # data row -> problem, for rows whose lat/lon come from nothing
        if geometry is not None and not has_coords:
            pts = geometry.representative_point()
            raw_a.frame["lat"] = pts.y.to_numpy()
            raw_a.frame["lon"] = pts.x.to_numpy()
            no_geometry = _missing_geometries(geometry)
        accounts, found = parse_table(raw_a, ACCOUNT_FIELDS, extra_numbers=extra, require_coordinates=True)
        out.frame = accounts
        if no_geometry:  # lat/lon were taken from the geometry: the geometry is what is missing
            found = [p for p in found if not (p.row in no_geometry and p.column in ("lat", "lon"))]
            found += [Problem(str(path), row, "geometry", m) for row, m in no_geometry.items()]
            found.sort(key=lambda p: (p.row or 0, p.column or ""))
        problems += found
        areas = geometry is not None and not out.points_layer and not found and not accounts.empty
        if areas and has_coords:
            outside, out.warnings = _outside_polygons(accounts, geometry, str(path))
            problems += outside
        if areas:
            out.warnings += _overlapping_polygons(accounts, geometry, str(path))
        if out.points_layer:  # a layer of points: point accounts at those points (their lat/lon), no areas
            out.geometry = None
    except InputError as exc:
        problems += exc.problems
        if exc.frame is not None:  # unusable (no CRS), its table read: it is checked now too
            columns = RawTable(Path(path), exc.frame)
            # every column and cell but lat/lon, which come from the polygons (QA39 F5: a negative
            # potential came only once the CRS was set)
            found = parse_table(columns, ACCOUNT_FIELDS, extra_numbers=extra)[1]
            problems += [p for p in found if p.column not in ("lat", "lon")]
    return out


@dataclass
class _RepsRead:
    """The reps table as ``_read_reps`` read it (empty when it could not be parsed)."""

    raw: RawTable | None = None  # after a scenario's roster edits
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    edited: _EditedRoster | None = None
    written: pd.DataFrame | None = None  # the reps file's own rows, when a scenario edits them


def _read_reps(path: Path, roster_edits: RosterEdits | None, problems: list[Problem]) -> _RepsRead:
    """Read and parse the reps table, a scenario's roster edits applied; its problems go to
    ``problems`` (a home base needs both lat and lon)."""
    out = _RepsRead()
    try:
        raw_r = out.raw = read_table(path, "reps", defer_cells=True)
        problems += raw_r.problems
        if raw_r.geometry is not None:
            problems += _rep_homes(raw_r, str(path))
        if roster_edits is not None:
            out.written = raw_r.frame
            out.edited = _edit_roster(raw_r, roster_edits)
            raw_r = out.raw = out.edited.table
        reps, found = parse_table(raw_r, REP_FIELDS)
        out.frame = reps
        problems += found
        if not reps.empty:
            half = reps["lat"].isna() ^ reps["lon"].isna()
            said = {(p.row, p.column) for p in found}  # a cell that is no number was said (QA44 F10)
            for idx in np.flatnonzero(half.to_numpy()):
                col = "lat" if pd.isna(reps["lat"].iloc[idx]) else "lon"
                if (int(idx) + 1, col) in said:
                    continue
                problems.append(
                    Problem(
                        str(path),
                        int(idx) + 1,
                        col,
                        "home base needs both lat and lon (leave both empty to let the planner choose)",
                    )
                )
    except InputError as exc:
        problems += exc.problems
    return out


def _nothing_to_balance(
    accounts: pd.DataFrame,
    raw_a: RawTable | None,
    measures: tuple[str, ...],
    problems: list[Problem],
    afile: str,
) -> list[Problem]:
    """A balance measure that sums to 0 (a column with bad cells, already in ``problems``, is skipped:
    its sum would say nothing)."""
    out = []
    for m in measures:
        if any(p.file == afile and p.column == m for p in problems):
            continue
        if float(accounts[m].sum()) <= 0:
            header = {str(c).strip().lower() for c in raw_a.frame.columns} if raw_a is not None else {m}
            why = (
                f": the file has no {m!r} column, so every account's is 0 (add the column, or drop "
                f"{m} from --balance)"  # QA13 11: the column was missing, the message did not say so
                if m not in header
                else " (drop it from --balance)"
            )
            out.append(Problem(afile, None, m, f"balance measure {m!r} sums to 0: nothing to balance{why}"))
    return out


def _load_warnings(
    acc: _AccountsRead,
    rep: _RepsRead,
    accounts_path: Path,
    reps_path: Path,
    roster_warnings: list[str],
    districts_ignored: bool,
) -> tuple[str, ...]:
    """What the inputs have that is accepted but worth a look, in the order they are logged."""
    from territory_planner.io.hierarchy import blank_labels, lone_labels

    raw_a, raw_r, accounts, reps = acc.raw, rep.raw, acc.frame, rep.frame
    afile, rfile = str(accounts_path), str(reps_path)
    # the reps' ids in accounts too (QA47 F6); the reps' district and region labels too (QA51 F7: "NE "
    # counted in NE without a word)
    account_columns = ("account_id", "current_rep", "locked_rep")
    rep_columns = ("rep_id", "region") if districts_ignored else ("rep_id", "district", "region")
    rep_frame = rep.written if rep.written is not None else (raw_r.frame if raw_r is not None else None)
    return tuple(
        acc.warnings
        + roster_warnings
        + [w for c in account_columns if raw_a is not None for w in spaced_ids(raw_a.frame, c, afile)]
        + [w for c in rep_columns if rep_frame is not None for w in spaced_ids(rep_frame, c, rfile)]
        + wide_families(accounts, afile)
        + (
            duplicate_polygons(acc.geometry, raw_a.frame["account_id"], afile)
            if raw_a is not None and not acc.points_layer and "account_id" in raw_a.frame.columns
            else []
        )
        + blank_current_reps(accounts, afile)
        + misplaced_coordinates(accounts, reps, afile, rfile, acc.geometry is not None)
        + lone_labels(reps, rfile, rep.written, None if rep.edited is None else rep.edited.origin)
        + blank_labels(reps, rfile, ("region",) if districts_ignored else ("district", "region"))
    )
