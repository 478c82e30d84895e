"""Load and cross-check accounts and reps: every problem at once, with file, row and column."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.geo.repair import repair_polygons
from territory_planner.io.excel import relocate
from territory_planner.io.misplaced import misplaced_coordinates
from territory_planner.io.readers import RawTable, csv_separator, read_table
from territory_planner.io.schemas import ACCOUNT_FIELDS, REP_FIELDS, parse_table
from territory_planner.model.geo import haversine_km

log = logging.getLogger(__name__)

WIDE_FAMILY_KM = 1_000.0  # a family whose accounts lie farther apart is warned about (a bad parent_id?)
WIDE_FAMILIES_SHOWN = 5


@dataclass
class LoadedInputs:
    accounts: pd.DataFrame
    reps: pd.DataFrame
    geometry: Any  # GeoSeries of account polygons (EPSG:4326) or None, invalid polygons repaired
    accounts_path: Path
    reps_path: Path
    repaired: tuple[Problem, ...] = ()  # the rows whose invalid polygon was repaired (``geo.repair``)
    warnings: tuple[str, ...] = ()  # accepted but worth a look (``wide_families``); logged as warnings


def _cross_check(accounts: pd.DataFrame, reps: pd.DataFrame, afile: str, departed: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    rep_ids = set(reps["rep_id"])
    folded: dict[str, list[str]] = {}  # rep ids by their case-folded, trimmed spelling
    for rid in sorted(rep_ids):
        folded.setdefault(str(rid).strip().casefold(), []).append(str(rid))
    for col in ("current_rep", "locked_rep"):
        vals = accounts[col]
        unknown = (vals != "") & ~vals.isin(rep_ids)
        if col == "current_rep" and departed:
            unknown &= ~vals.isin(departed)
        for idx in np.flatnonzero(unknown.to_numpy()):
            rep = vals.iloc[idx]
            # today's owner who is no longer on the roster: the usual way is a departure, which the
            # scenario says (the accounts then must move and do not count against the budget)
            alike = folded.get(str(rep).strip().casefold(), [])
            left = (
                # the same id in other letter case or with spaces (QA13 11: 'es01' for ES01)
                f" (did you mean {' or '.join(repr(a) for a in alike)}? rep ids are matched exactly)"
                if alike
                else f" (a rep who left? keep {rep} in the reps file and remove it in the scenario, "
                f'[reps] remove = ["{rep}"]: its accounts are then reassigned)'
                if col == "current_rep"
                else ""
            )
            problems.append(
                Problem(afile, int(idx) + 1, col, f"{col} {rep!r} is not a rep in the reps file{left}", rep)
            )
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
                problems.append(
                    Problem(afile, int(idx) + 1, "segment", f"no rep serves segment {value!r}", value)
                )
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


def _row_ranges(rows: list[int], shown: int = 5) -> str:
    """``2-6, 9, 14-15, ...``: 1-based rows as ranges, the first ``shown`` ranges."""
    ranges: list[list[int]] = []
    for r in rows:
        if ranges and r == ranges[-1][1] + 1:
            ranges[-1][1] = r
        else:
            ranges.append([r, r])
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:shown])
    return text + (", ..." if len(ranges) > shown else "")


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
        f"{file}: {len(rows):,} of {len(blank):,} accounts have no current_rep (rows {_row_ranges(rows)}): "
        "they are planned as new accounts, never counted as moved nor against --max-moved-share; if a "
        "spreadsheet had merged cells there, fill every cell"
    ]


def _point_rows(geometry: Any, path: str) -> tuple[bool, list[Problem]]:
    """(whether every account with a geometry is a point: a layer of point accounts, planned as points
    at those coordinates; the problems of points among areas, one per row). QA14: a GeoPackage of 324
    Soho addresses passed validate, then plan solved it and exited 1 on units.geojson, a file it writes
    itself, 'expected a Polygon or MultiPolygon'."""
    kind = geometry.geom_type
    present = (kind.notna() & ~geometry.is_empty).to_numpy()
    point = kind.isin(["Point", "MultiPoint"]).to_numpy() & present
    if not present.any() or not point.any():
        return False, []
    if point[present].all():
        return True, []
    fix = "every account of a file is an area (polygon) or every one a point: draw its area, or give points"
    rows = np.flatnonzero(point)
    return False, [
        Problem(path, int(i) + 1, "geometry", f"a point among areas: {fix}", "Point") for i in rows
    ]


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
    reps_frame: pd.DataFrame | None = None,
    hierarchy_needs: dict[str, str] | None = None,
    locks: Path | None = None,
) -> LoadedInputs:
    """Read, parse and cross-check the two tables. Raises ``InputError`` with every problem found.

    ``reps_frame`` replaces the reps file's content (scenarios that add or remove reps); it is still
    validated with the same contract. ``departed_reps`` may appear as ``current_rep`` only.
    ``hierarchy_needs`` {column: option}: hierarchy columns every rep must carry for the options given.
    ``locks`` (a CSV of account_id,rep_id) overrides ``locked_rep`` before the checks.
    """
    accounts_path, reps_path = Path(accounts_path), Path(reps_path)
    problems: list[Problem] = []
    accounts = reps = pd.DataFrame()
    geometry = None
    repaired: tuple[Problem, ...] = ()
    raw_a = raw_r = None
    try:
        raw_a = read_table(accounts_path, "accounts", defer_cells=True)
        if locks is not None:
            from territory_planner.io.locks import apply_locks

            apply_locks(raw_a.frame, Path(locks), str(accounts_path), problems)
        geometry = raw_a.geometry
        points_layer = False
        if geometry is not None:
            points_layer, mixed = _point_rows(geometry, str(accounts_path))
            problems += mixed
        if geometry is not None and not points_layer:  # repaired before its points are taken: an invalid
            try:  # ring's point can lie outside the area (a bow-tie's is a corner), a wrapped ring's far off
                fixed = repair_polygons(geometry, str(accounts_path))
                geometry, repaired = fixed.geometry, fixed.repaired
            except InputError as exc:
                problems += exc.problems
        has_coords = {"lat", "lon"} <= set(raw_a.frame.columns)
        no_geometry: dict[int, str] = {}  # data row -> problem, for rows whose lat/lon come from nothing
        if geometry is not None and not has_coords:
            pts = geometry.representative_point()
            raw_a.frame["lat"] = pts.y.to_numpy()
            raw_a.frame["lon"] = pts.x.to_numpy()
            no_geometry = _missing_geometries(geometry)
        accounts, found = parse_table(
            raw_a,
            ACCOUNT_FIELDS,
            extra_numbers=[m for m in measures if m not in ("potential", "workload")],
            require_coordinates=True,
        )
        if no_geometry:  # lat/lon were taken from the geometry: the geometry is what is missing
            found = [p for p in found if not (p.row in no_geometry and p.column in ("lat", "lon"))]
            found += [Problem(str(accounts_path), row, "geometry", m) for row, m in no_geometry.items()]
            found.sort(key=lambda p: (p.row or 0, p.column or ""))
        problems += found
        if points_layer:  # a layer of points: point accounts at those points (their lat/lon), no areas
            geometry = None
    except InputError as exc:
        problems += exc.problems
    n_accounts = len(problems)  # problems[:n_accounts] are the accounts table's
    try:
        if reps_frame is not None:
            raw_r = RawTable(
                reps_path,
                reps_frame.rename(columns=str.lower).reset_index(drop=True),
                separator=csv_separator(reps_path),  # the roster's numbers keep its decimal separator
            )
        else:
            raw_r = read_table(reps_path, "reps", defer_cells=True)
        reps, found = parse_table(raw_r, REP_FIELDS)
        problems += found
        if not reps.empty:
            half = reps["lat"].isna() ^ reps["lon"].isna()
            for idx in np.flatnonzero(half.to_numpy()):
                col = "lat" if pd.isna(reps["lat"].iloc[idx]) else "lon"
                problems.append(
                    Problem(
                        str(reps_path),
                        int(idx) + 1,
                        col,
                        "home base needs both lat and lon (leave both empty to let the planner choose)",
                    )
                )
    except InputError as exc:
        problems += exc.problems
    n_reps = len(problems)  # then the reps table's; every later problem is about the accounts
    # Cross-table checks run even when the per-table checks found problems, so that one run reports
    # everything: they only need the text columns (ids, references, families, segments), which every
    # row of a parsed table has. A table that could not be parsed at all (unreadable, a required column
    # missing) comes back empty and its references cannot be checked.
    if not reps.empty:
        from territory_planner.io.hierarchy import check_reps

        problems += check_reps(reps, str(reps_path), hierarchy_needs or {})
    if not accounts.empty and not reps.empty:
        problems += _cross_check(accounts, reps, str(accounts_path), departed_reps or set())
    if not accounts.empty:
        afile = str(accounts_path)
        for m in measures:
            # a column with bad cells is already reported; its sum would say nothing
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
                problems.append(
                    Problem(
                        str(accounts_path),
                        None,
                        m,
                        f"balance measure {m!r} sums to 0: nothing to balance{why}",
                    )
                )
    if problems:  # tables read from workbooks (maybe both from one): sheet, Excel row, column letter
        sheet_a, sheet_r = (t.excel if t is not None else None for t in (raw_a, raw_r))
        raise InputError(
            relocate(problems[:n_accounts], [sheet_a])
            + relocate(problems[n_accounts:n_reps], [sheet_r])
            + relocate(problems[n_reps:], [sheet_a])
        )
    from territory_planner.io.hierarchy import lone_labels

    warnings = tuple(
        wide_families(accounts, str(accounts_path))
        + blank_current_reps(accounts, str(accounts_path))
        + misplaced_coordinates(accounts, reps, str(accounts_path), str(reps_path), geometry is not None)
        + lone_labels(reps, str(reps_path))
    )
    for warning in warnings:
        log.warning("%s", warning)
    return LoadedInputs(accounts, reps, geometry, accounts_path, reps_path, repaired, warnings)
