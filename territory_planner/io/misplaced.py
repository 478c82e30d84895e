"""Coordinates that look typed wrong: lat and lon swapped, or a sign lost, in a row or in a whole file.

Rows: an account over ``MISPLACED_KM`` from every rep home that one typo brings within ``MISPLACED_FIX_KM``
of one (a US account at lat -71.5, lon 41.6 is in the Southern Ocean), and a rep home likewise far from
every account. Such rows pass every range check and the plan would send a rep across the world for them;
they are accepted (a real outpost is possible) but named.

A country-sized data set never reaches ``MISPLACED_KM`` (QA14 8: Glasgow with the sign of its lon lost lies
in the North Sea, 345 km from every account), so the distances are also judged against the data's own
scale: the spacing of the accounts (``SPACING_QUANTILE`` of each account's distance to its nearest other
account) and, for a home, the other homes' typical (median) distance to their nearest account. A home
over ``FAR_FACTOR`` times that scale from every account, or an account that far from every other account
(and further from every rep home than most accounts are), is named when one typo brings it within
``FIX_FACTOR`` times the scale of an account, and at most ``FIX_RATIO`` of the distance it lies at as
written. A point that is far but whose typed-wrong readings are no nearer (an island, a remote town) is not
named.

Files: when a whole file is typed wrong (its lat and lon columns swapped), every row of *both* files is far
from the other file, and naming each correct rep home as well (QA13 10) hides which file to fix. So the
readings "as written", "the accounts file typed wrong as a whole" and "the reps file typed wrong as a
whole" are compared by how many rows of either file they leave far from the other file. A whole-file
reading is taken when it leaves at most half as many; the file is then named once, and the other file's
rows are judged against it read the right way (a correct home is no longer named; a home typed wrong on
its own still is). Of two whole-file readings, the one that leaves fewer points beyond the inhabited
latitudes (``POLAR_LAT``) is taken first (a swap is no isometry: Brazilian cities swapped lie in the
Southern Ocean, and reading the correct homes swapped beside them left fewer rows far). The coordinates
alone cannot tell "the accounts are swapped" from "the homes are swapped" when the two fit equally well
(a sign lost in either file gives the same map mirrored): both files are then named in one line, and no
row of either is named on its own, since which rows are wrong depends on the file that is (a reps file
whose every home lost its sign had each correct account named, "check its coordinates").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from territory_planner.model.geo import EARTH_RADIUS_KM

MISPLACED_KM = 1_000.0  # an account this far from every rep home (a home this far from every account) ...
MISPLACED_FIX_KM = 300.0  # ... that a swap or a sign flip brings this close is warned about
MISPLACED_SHOWN = 5
ALL_FAR_KM = 3_000.0  # a roster whose every home lies this far from every account is warned about, once
SPACING_QUANTILE = 0.9  # the accounts' spacing: this quantile of their distances to the nearest other one
FAR_FACTOR = 5.0  # a point this many times the data's scale from every account is far ...
FAR_MIN_KM = 50.0  # ... and at least this far (a typo that moves a point less is not worth a warning)
FIX_FACTOR = 2.0  # ... and is named when a typo brings it within this many times the scale of an account
FIX_MIN_KM = 10.0
FIX_RATIO = 0.25  # ... and at most this share of its distance as written
NAME_FIX_KM = 2.0  # a home a typo brings this close to the account of its rep's name ...
NAME_FAR_KM = 50.0  # ... while as written it lies this far from it, is named whatever the distances


def _alternatives(lat: np.ndarray, lon: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The coordinates a typo could have turned into these: lat and lon swapped, or a sign lost."""
    swappable = np.abs(lon) <= 90
    return [
        ("with lat and lon swapped", np.where(swappable, lon, np.nan), np.where(swappable, lat, np.nan)),
        ("with the sign of lon flipped", lat, -lon),
        ("with the sign of lat flipped", -lat, lon),
        ("with lat and lon swapped and a sign flipped", np.where(swappable, -lon, np.nan), lat),
        ("with lat and lon swapped and a sign flipped", np.where(swappable, lon, np.nan), -lat),
    ]


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord_km(chord: np.ndarray | float) -> np.ndarray:
    """Great-circle km of a chord between points on the unit sphere (``_xyz``)."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2, 0.0, 1.0))


def _nearest(
    lat: np.ndarray, lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km, great circle) from each point to the nearest target point, and that target; inf
    (target 0) for a point without coordinates (NaN) or when there is no target. A k-d tree over points
    on the unit sphere: the nearest by chord is the nearest on the sphere (100,000 accounts x 500 homes
    took 1.7 s a pass as a distance matrix, and a check runs up to a dozen)."""
    km = np.full(len(lat), np.inf)
    target = np.zeros(len(lat), dtype=int)
    ok = ~(np.isnan(lat) | np.isnan(lon))
    if len(to_lat) == 0 or not ok.any():
        return km, target
    chord, k = cKDTree(_xyz(to_lat, to_lon)).query(_xyz(lat[ok], lon[ok]))
    km[ok] = _chord_km(chord)
    target[ok] = k
    return km, target


def _spacing(lat: np.ndarray, lon: np.ndarray) -> float:
    """The points' spacing (km): ``SPACING_QUANTILE`` of each one's distance to its nearest other point."""
    ok = ~(np.isnan(lat) | np.isnan(lon))
    if ok.sum() < 2:
        return 0.0
    chord, _ = cKDTree(_xyz(lat[ok], lon[ok])).query(_xyz(lat[ok], lon[ok]), k=2)
    km = _chord_km(chord[:, 1])
    return float(np.quantile(km, SPACING_QUANTILE))


def _far_km(scale: float) -> float:
    return min(MISPLACED_KM, max(FAR_MIN_KM, FAR_FACTOR * scale))


def _fix_km(scale: float) -> float:
    return min(MISPLACED_FIX_KM, max(FIX_MIN_KM, FIX_FACTOR * scale))


def _misplaced(
    lat: np.ndarray, lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray, scaled: bool = False
) -> list[tuple[int, float, str, float, int]]:
    """Rows (0-based) of the points that look typed wrong against the target points: over
    ``MISPLACED_KM`` from every target point and one typo (``_alternatives``) away from
    ``MISPLACED_FIX_KM`` of one; with ``scaled`` (rep homes against the accounts), also far by the data's
    scale (the targets' spacing, the other points' median distance to a target) and a typo away from
    near one: (row, km, what, km after, target)."""
    if len(lat) == 0 or len(to_lat) == 0:
        return []
    d0, _ = _nearest(lat, lon, to_lat, to_lon)
    finite = np.isfinite(d0)
    spacing = _spacing(to_lat, to_lon) if scaled else np.inf  # inf: MISPLACED_KM alone
    scale = np.full(len(d0), spacing)
    candidates = np.flatnonzero(finite & (d0 > _far_km(spacing))) if scaled else np.zeros(0, dtype=int)
    for i in candidates:  # few rows: the other points' median distance for each
        usual = _others_median(d0, int(i))
        scale[i] = spacing if usual is None else max(spacing, usual)
    far_km = np.array([_far_km(v) for v in scale])
    far = np.flatnonzero(finite & ((d0 > MISPLACED_KM) | (d0 > far_km)))
    if far.size == 0:
        return []
    best = np.full(far.size, np.inf)
    target = np.zeros(far.size, dtype=int)
    what = np.full(far.size, -1)
    alternatives = _alternatives(lat[far], lon[far])
    for n, (_, alat, alon) in enumerate(alternatives):
        dk, k = _nearest(alat, alon, to_lat, to_lon)
        closer = dk < best
        best[closer], what[closer], target[closer] = dk[closer], n, k[closer]
    fix = np.array([_fix_km(v) for v in scale[far]])
    named = ((d0[far] > MISPLACED_KM) & (best <= MISPLACED_FIX_KM)) | (
        (d0[far] > far_km[far]) & (best <= fix) & (best <= FIX_RATIO * d0[far])
    )
    return [
        (int(far[i]), float(d0[far[i]]), alternatives[what[i]][0], float(best[i]), int(target[i]))
        for i in np.flatnonzero(named)
    ]


def _by_name(
    flags: list[tuple[int, float, str, float, int]],
    h: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    a: tuple[np.ndarray, np.ndarray, np.ndarray | None],
) -> tuple[list[tuple[int, float, str, float, int]], set[int]]:
    """``flags`` (homes named by distance) and the homes a typo brings onto (``NAME_FIX_KM``) an account of
    their rep's name that they lie ``NAME_FAR_KM`` from as written (QA14 8: Birmingham's home with its lon
    sign lost lies among the towns of East Anglia; flipped back, it is on the account named Birmingham).
    ``h`` and ``a``: lat, lon and names (None when the file has no name column). The rows added carry
    the distance to the account of their name as written, and are returned apart too."""
    (h_lat, h_lon, h_names), (a_lat, a_lon, a_names) = h, a
    if h_names is None or a_names is None or len(a_lat) == 0:
        return flags, set()
    keys = np.array([_key(v) for v in h_names], dtype=object)
    account_keys = np.array([_key(v) for v in a_names], dtype=object)
    done = {row for row, *_ in flags}
    out = list(flags)
    added: set[int] = set()
    alike = np.isin(account_keys, [k for k in keys.tolist() if k])
    if not alike.any():
        return flags, set()
    # an account of that name lying far from every other account is the one typed wrong, not the home
    tree = cKDTree(_xyz(a_lat, a_lon))
    chord, _ = tree.query(_xyz(a_lat[alike], a_lon[alike]), k=min(2, len(a_lat)))
    nn = _chord_km(np.atleast_2d(chord)[:, -1])
    alike[np.flatnonzero(alike)[nn > _far_km(_spacing(a_lat, a_lon))]] = False
    for i, key in enumerate(keys.tolist()):
        same = np.flatnonzero(alike & (account_keys == key)) if key and i not in done else np.zeros(0, int)
        if same.size == 0:
            continue
        for label, alat, alon in _alternatives(h_lat[i : i + 1], h_lon[i : i + 1]):
            km, k = _nearest(alat, alon, a_lat[same], a_lon[same])
            target = int(same[k[0]])
            written = _nearest(h_lat[i : i + 1], h_lon[i : i + 1], a_lat[[target]], a_lon[[target]])[0][0]
            if km[0] <= NAME_FIX_KM and written >= NAME_FAR_KM:
                out.append((i, float(written), label, float(km[0]), target))
                added.add(i)
                break
    return sorted(out), added


def _key(name: object) -> str:
    text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    return text.strip().casefold()


def _isolated(
    lat: np.ndarray, lon: np.ndarray, h_lat: np.ndarray, h_lon: np.ndarray
) -> list[tuple[int, float, str, float, int, float]]:
    """Rows (0-based) of the accounts that lie far from every other account by the accounts' spacing,
    further from every rep home than most accounts, and that one typo brings among the other accounts:
    (row, km from the nearest other account, what, km after, that account, km from the nearest home)."""
    if len(lat) < 3:
        return []
    xyz = _xyz(lat, lon)
    chord, _ = cKDTree(xyz).query(xyz, k=2)
    nn0 = _chord_km(chord[:, 1])
    spacing = float(np.quantile(nn0, SPACING_QUANTILE))
    d_home, _ = _nearest(lat, lon, h_lat, h_lon)
    usual = float(np.quantile(d_home, SPACING_QUANTILE)) if np.isfinite(d_home).all() else np.inf
    far = (nn0 > _far_km(spacing)) & (d_home > usual)
    # "among the others": a typo's reading is judged against the accounts that are not far themselves
    # (QA19 F3: Leticia and Cumaribo, two real remote Colombian towns 30 km apart once Leticia's lat
    # sign is flipped, each named the other as the company it would be in)
    others = np.flatnonzero(~far)
    if len(others) == 0:
        return []
    among = cKDTree(_xyz(lat[others], lon[others]))
    out = []
    for i in np.flatnonzero(far).tolist():
        best, what, target = np.inf, "", 0
        for label, alat, alon in _alternatives(lat[i : i + 1], lon[i : i + 1]):
            if np.isnan(alat[0]):
                continue
            c, k = among.query(_xyz(alat, alon), k=1)
            km = float(_chord_km(c[0]))
            if km < best:
                best, what, target = km, label, int(others[int(k[0])])
        if best <= _fix_km(spacing) and best <= FIX_RATIO * nn0[i]:
            out.append((i, float(nn0[i]), what, best, target, float(d_home[i])))
    return out


@dataclass(frozen=True)
class _Reading:
    """The coordinates of the two files as one reading takes them: ``side`` ("accounts" or "reps") is the
    file read ``label`` as a whole, None for both as written; ``far_accounts`` / ``far_homes``: the rows
    of each file left over ``MISPLACED_KM`` from every point of the other file."""

    side: str | None
    label: str
    a_lat: np.ndarray
    a_lon: np.ndarray
    h_lat: np.ndarray
    h_lon: np.ndarray
    far_accounts: int
    far_homes: int

    @property
    def far(self) -> int:
        """Rows of either file far from every point of the other."""
        return self.far_accounts + self.far_homes

    def far_of(self, side: str | None) -> int:
        """The rows of file ``side`` ("accounts" or "reps") far from every point of the other."""
        return self.far_accounts if side == "accounts" else self.far_homes

    @property
    def polar(self) -> int:
        """Points of both files beyond the inhabited latitudes (``POLAR_LAT``): where a reading of a whole
        file puts them tells which file is typed wrong when distances alone cannot (QA57 F11)."""
        lat = np.concatenate([self.a_lat, self.h_lat])
        return int(((lat < POLAR_LAT[0]) | (lat > POLAR_LAT[1])).sum())


# south of Cape Horn (55.98 S: nothing but Antarctica's stations beyond) and north of every settlement
# (Alert, 82.5 N; Svalbard's towns at 78 N count as inhabited: QA59): Brazilian cities with lat and lon
# swapped lie at -34 to -74, in the Southern Ocean
POLAR_LAT = (-56.0, 83.0)


def _far(lat: np.ndarray, lon: np.ndarray, to_lat: np.ndarray, to_lon: np.ndarray) -> int:
    ok = ~(np.isnan(to_lat) | np.isnan(to_lon))
    return int((_nearest(lat, lon, to_lat[ok], to_lon[ok])[0] > MISPLACED_KM).sum())


def _reading(
    side: str | None, label: str, a: tuple[np.ndarray, np.ndarray], h: tuple[np.ndarray, np.ndarray]
) -> _Reading:
    return _Reading(side, label, a[0], a[1], h[0], h[1], _far(*a, *h), _far(*h, *a))


def _readings(
    a_lat: np.ndarray, a_lon: np.ndarray, h_lat: np.ndarray, h_lon: np.ndarray, accounts_checked: bool
) -> tuple[_Reading, list[_Reading]]:
    """The reading as written and the best whole-file reading of each file (accounts first), each kept
    only when it leaves at most half as many rows far (and at least two fewer), best first."""
    written = _reading(None, "", (a_lat, a_lon), (h_lat, h_lon))
    best: list[_Reading] = []
    if written.far == 0:
        return written, best
    for side in ("accounts", "reps") if accounts_checked else ("reps",):
        lat, lon = (a_lat, a_lon) if side == "accounts" else (h_lat, h_lon)
        options = [
            _reading(side, label, (alat, alon), (h_lat, h_lon))
            if side == "accounts"
            else _reading(side, label, (a_lat, a_lon), (alat, alon))
            for label, alat, alon in _alternatives(lat, lon)
        ]
        top = min(options, key=lambda r: r.far)  # the first of equals: a swap before a sign
        # and it must bring at least two rows near: one row typed wrong is that row's (QA14: a Turkish
        # account with lat and lon swapped named the reps file, whose homes read swapped lay near it);
        # and the file's own rows must come nearer the other's, not only the other's rows nearer it
        # (QA92 F4: three homes, each at a province of Indonesia, "typed wrong as a whole": read with
        # the sign of lat flipped they left fewer of the 35 provinces beyond 1,000 km of a home, while
        # every home as written lay at an account)
        if (
            top.far < written.far - 1
            and 2 * top.far <= written.far
            and top.far_of(side) < written.far_of(side)
        ):
            best.append(top)
    # fewest points beyond the inhabited latitudes first, then fewest far (stable: the accounts file first
    # on a tie): a swapped accounts file of 300 Brazilian cities left fewer rows far when the correct
    # homes were read swapped into the Southern Ocean beside them, so the reps file was blamed (QA57 F11)
    return written, sorted(best, key=lambda r: (r.polar, r.far))


def misplaced_coordinates(
    accounts: pd.DataFrame, reps: pd.DataFrame, afile: str, rfile: str, has_geometry: bool = False
) -> list[str]:
    """Warnings for coordinates that look typed wrong (see the module's text): a whole file, then up to
    ``MISPLACED_SHOWN`` rows of each file and how many more. Polygon accounts are not checked (their
    points come from the polygons), but the rep homes are checked against them."""
    if accounts.empty or reps.empty:
        return []
    homes = reps[reps["lat"].notna() & reps["lon"].notna()]
    if homes.empty:
        return []
    h_lat, h_lon = homes["lat"].to_numpy(float), homes["lon"].to_numpy(float)
    pts = accounts[accounts["lat"].notna() & accounts["lon"].notna()]
    a_lat, a_lon = pts["lat"].to_numpy(float), pts["lon"].to_numpy(float)
    if len(a_lat) == 0:
        return []
    h_names = homes["name"].to_numpy(object) if "name" in homes.columns else None
    a_names = pts["name"].to_numpy(object) if "name" in pts.columns else None
    written, better = _readings(a_lat, a_lon, h_lat, h_lon, not has_geometry)
    tied = _tied(better)
    if tied is not None:
        return [_either_file(*tied, written, pts, homes, afile, rfile)] + _null_island_warning(
            pts, homes, afile, rfile
        )
    reading = better[0] if better else written
    head: list[str] = []
    account_rows = range(len(a_lat))
    home_rows = range(len(h_lat))
    note_a = note_h = ""
    if reading.side is not None:
        head.append(_whole_file(reading, written, better, afile, rfile))
    isolated: list[tuple[int, float, str, float, int, float]] = []
    if reading.side == "accounts":
        # the homes judged against the accounts read the right way; the accounts against the homes
        # that fit them (a home typed wrong on its own would otherwise hide the accounts near it)
        home_flags = _misplaced(h_lat, h_lon, reading.a_lat, reading.a_lon, scaled=True)
        home_flags, by_name = _by_name(
            home_flags, (h_lat, h_lon, h_names), (reading.a_lat, reading.a_lon, a_names)
        )
        wrong = {row for row, *_ in home_flags}
        kept = [i for i in home_rows if i not in wrong] or list(home_rows)
        account_flags = _misplaced(a_lat, a_lon, h_lat[kept], h_lon[kept])
        account_flags = [(row, km, what, after, kept[k]) for row, km, what, after, k in account_flags]
        note_h = f" (the accounts read {reading.label})"
        left_out = [f"{homes['rep_id'].iloc[i]}'s" for i in home_rows if i not in kept]
        if left_out:
            names = ", ".join(left_out[:3]) + (f" and {len(left_out) - 3} more" if len(left_out) > 3 else "")
            note_a = f" but {names}, named below"
    elif reading.side == "reps":
        account_flags = _misplaced(a_lat, a_lon, reading.h_lat, reading.h_lon)
        isolated = _isolated_rows(a_lat, a_lon, reading.h_lat, reading.h_lon, account_flags, has_geometry)
        wrong = {row for row, *_ in account_flags} | {row for row, *_ in isolated}
        if has_geometry:  # a polygon's point comes from the polygon: never left out
            account_flags, wrong = [], set()
        kept = [i for i in account_rows if i not in wrong] or list(account_rows)
        home_flags = _misplaced(h_lat, h_lon, a_lat[kept], a_lon[kept], scaled=True)
        kept_names = None if a_names is None else a_names[kept]
        home_flags, by_name = _by_name(
            home_flags, (h_lat, h_lon, h_names), (a_lat[kept], a_lon[kept], kept_names)
        )
        home_flags = [(row, km, what, after, kept[k]) for row, km, what, after, k in home_flags]
        note_a = f" (the rep homes read {reading.label})"
        if len(kept) < len(account_rows):
            note_h = f" but the {len(account_rows) - len(kept):,} named above"
    else:
        # the accounts judged against the homes not named (a home typed wrong leaves the accounts near
        # its true place far from every home; their typos would be sought near the wrong place)
        home_flags = _misplaced(h_lat, h_lon, a_lat, a_lon, scaled=True)
        home_flags, by_name = _by_name(home_flags, (h_lat, h_lon, h_names), (a_lat, a_lon, a_names))
        wrong = {row for row, *_ in home_flags}
        kept = [i for i in home_rows if i not in wrong] or list(home_rows)
        account_flags = [] if has_geometry else _misplaced(a_lat, a_lon, h_lat[kept], h_lon[kept])
        account_flags = [(row, km, what, after, kept[k]) for row, km, what, after, k in account_flags]
        isolated = _isolated_rows(a_lat, a_lon, h_lat[kept], h_lon[kept], account_flags, has_geometry)
    found_a = [
        f"{afile}: row {int(pts.index[row]) + 1} (account {pts['account_id'].iloc[row]}, lat "
        f"{a_lat[row]:g}, lon {a_lon[row]:g}) lies {km:,.0f} km from every rep home{note_a}; {what} it "
        f"would lie {after:,.0f} km from {homes['rep_id'].iloc[k]}'s: check its coordinates"
        for row, km, what, after, k in account_flags[:MISPLACED_SHOWN]
    ]
    shown = MISPLACED_SHOWN - len(found_a)
    found_a += [
        f"{afile}: row {int(pts.index[row]) + 1} (account {pts['account_id'].iloc[row]}, lat "
        f"{a_lat[row]:g}, lon {a_lon[row]:g}) lies {km:,.0f} km from every other account and "
        f"{home_km:,.0f} km from every rep home; {what} it would lie {after:,.0f} km from account "
        f"{pts['account_id'].iloc[k]}, among the others: check its coordinates"
        for row, km, what, after, k, home_km in isolated[: max(0, shown)]
    ]
    found_h = [
        f"{rfile}: row {int(homes.index[row]) + 1} (rep {homes['rep_id'].iloc[row]}, lat {h_lat[row]:g}, "
        + (
            f"lon {h_lon[row]:g}) lies {km:,.0f} km from account {pts['account_id'].iloc[k]}"
            f"{_same_name(homes, row, pts, k)}{note_h}; {what} it would lie {after:,.0f} km from it"
            if row in by_name
            else f"lon {h_lon[row]:g}) lies {km:,.0f} km from every account{note_h}; {what} it would lie "
            f"{after:,.0f} km from account {pts['account_id'].iloc[k]}{_same_name(homes, row, pts, k)}"
        )
        + ": check its home's coordinates"
        for row, km, what, after, k in home_flags[:MISPLACED_SHOWN]
    ]
    home_km, _ = _nearest(reading.h_lat, reading.h_lon, reading.a_lat, reading.a_lon)  # each home's nearest
    named = {row for row, *_ in home_flags} | {
        int(i) for i in np.flatnonzero((reading.h_lat == 0) & (reading.h_lon == 0))
    }  # at (0, 0): named by the null-island check
    found_h += [
        f"{rfile}: row {int(homes.index[row]) + 1} (rep {homes['rep_id'].iloc[row]}, lat {h_lat[row]:g}, "
        f"lon {h_lon[row]:g}) lies {km:,.0f} km from every account{note_h}, where the other homes lie "
        + ("at an account" if usual < 0.5 else f"{usual:,.0f} km from their nearest one (median)")
        + ", and no swap or lost sign brings it near one: the rep would travel that far for every "
        "account; check its home's coordinates"
        for row, km, usual in _remote_homes(home_km)
        if row not in named
    ][: max(0, MISPLACED_SHOWN - len(found_h))]
    out = head + _null_island_warning(pts, homes, afile, rfile) + found_a + found_h
    if not head:
        out += _all_homes_far(home_km, rfile)
    if len(account_flags) + len(isolated) > MISPLACED_SHOWN:
        more = len(account_flags) + len(isolated) - MISPLACED_SHOWN
        out.append(f"{afile}: {more} more accounts whose coordinates look typed wrong")
    if len(home_flags) > MISPLACED_SHOWN:
        more = len(home_flags) - MISPLACED_SHOWN
        out.append(f"{rfile}: {more} more rep homes whose coordinates look typed wrong")
    return out


def _remote_homes(d0: np.ndarray) -> list[tuple[int, float, float]]:
    """Of the homes' distances to their nearest account ``d0``: the homes over ``MISPLACED_KM`` from every
    account and over ``FAR_FACTOR`` times as far as the other homes lie from their nearest account
    (median), whatever a typo would give: (row, km, that median). QA25 F2: a home pasted from another
    roster in Noumea, 16,514 km from the French accounts, was given 52 of them and 91% of the plan's
    travel without a word. A roster whose homes all lie far (an inside-sales team abroad) names none."""
    out = []
    for i in np.flatnonzero(np.isfinite(d0) & (d0 > MISPLACED_KM)).tolist():
        usual = _others_median(d0, i)
        if usual is not None and d0[i] > FAR_FACTOR * usual:
            out.append((i, float(d0[i]), usual))
    return out


def _all_homes_far(d0: np.ndarray, rfile: str) -> list[str]:
    """One warning when every rep home lies over ``ALL_FAR_KM`` from every account (``d0``: each home's
    distance to its nearest account) and no typo brings them near (``_remote_homes`` names none then: a
    team based abroad is a roster like that, and one an ocean away still gets this one line). The plan's
    travel is then measured from another continent (QA61 F2: homes in Australia for French accounts,
    15,000 km away, planned without a word)."""
    finite = d0[np.isfinite(d0)]
    if not finite.size or finite.min() <= ALL_FAR_KM:
        return []
    return [
        f"{rfile}: every rep home lies over {ALL_FAR_KM:,.0f} km from every account (the nearest "
        f"{finite.min():,.0f} km, the median home {float(np.median(finite)):,.0f} km from its nearest "
        "account): the plan's travel is measured from there. Homes from another roster? Leave a rep's "
        "lat and lon empty for a home the planner chooses among the accounts"
    ]


def _others_median(d0: np.ndarray, i: int) -> float | None:
    """The median of the finite distances ``d0`` of every point but ``i``; None when there is none."""
    others = np.delete(d0, i)
    others = others[np.isfinite(others)]
    return float(np.median(others)) if others.size else None


def _null_island(
    lat: np.ndarray, lon: np.ndarray, others: tuple[np.ndarray, np.ndarray], scale: float
) -> tuple[np.ndarray, float]:
    """Rows at lat 0, lon 0 (a geocoder's missing value: nothing lies there but sea) and how far every
    other point lies, when that is far by the data's own scale (QA22 M3: Bilbao at (0, 0), 4,406 km from
    every other account, went to another rep "for compactness" and no check named it: no typo of
    (0, 0) brings it anywhere)."""
    at = np.flatnonzero((lat == 0) & (lon == 0))
    o_lat, o_lon = others
    keep = ~((o_lat == 0) & (o_lon == 0))
    if not at.size or not keep.any():
        return at[:0], 0.0
    km = float(_nearest(np.zeros(1), np.zeros(1), o_lat[keep], o_lon[keep])[0][0])
    return (at, km) if km > _far_km(scale) else (at[:0], 0.0)


def _null_island_warning(pts: pd.DataFrame, homes: pd.DataFrame, afile: str, rfile: str) -> list[str]:
    a_lat, a_lon = pts["lat"].to_numpy(float), pts["lon"].to_numpy(float)
    h_lat, h_lon = homes["lat"].to_numpy(float), homes["lon"].to_numpy(float)
    every = (np.concatenate([a_lat, h_lat]), np.concatenate([a_lon, h_lon]))
    scale = _spacing(a_lat, a_lon)
    out = []
    for frame, file, what, (lat, lon) in (
        (pts, afile, "account", (a_lat, a_lon)),
        (homes, rfile, "rep", (h_lat, h_lon)),
    ):
        rows, km = _null_island(lat, lon, every, scale)
        if rows.size:
            ids = frame["account_id" if what == "account" else "rep_id"].iloc[rows]
            named = ", ".join(
                f"row {int(frame.index[r]) + 1} ({what} {i})" for r, i in zip(rows[:5], ids[:5], strict=False)
            ) + (f" and {rows.size - 5} more" if rows.size > 5 else "")
            out.append(
                f"{file}: {named} at lat 0, lon 0, {km:,.0f} km from every other point: a geocoder's "
                "missing value? give the coordinates"
            )
    return out


def _isolated_rows(
    a_lat: np.ndarray,
    a_lon: np.ndarray,
    h_lat: np.ndarray,
    h_lon: np.ndarray,
    flagged: list[tuple[int, float, str, float, int]],
    has_geometry: bool,
) -> list[tuple[int, float, str, float, int, float]]:
    """``_isolated``'s accounts not already named (polygon accounts are not checked)."""
    if has_geometry:
        return []
    named = {row for row, *_ in flagged}
    return [f for f in _isolated(a_lat, a_lon, h_lat, h_lon) if f[0] not in named]


def _same_name(homes: pd.DataFrame, row: int, pts: pd.DataFrame, k: int) -> str:
    """ ", named X as the rep is" when the home's rep and the account share a name (both files have one)."""
    if "name" not in homes.columns or "name" not in pts.columns:
        return ""
    rep, account = str(homes["name"].iloc[row]).strip(), str(pts["name"].iloc[k]).strip()
    if not rep or rep.lower() in {"nan", "none"} or rep.casefold() != account.casefold():
        return ""
    return f", named {account} as the rep is"


def _tied(better: list[_Reading]) -> tuple[_Reading, _Reading] | None:
    """The accounts' and the homes' whole-file readings when they fit equally well, at the same inhabited
    latitudes: the coordinates cannot tell which file is typed wrong."""
    if len(better) < 2:
        return None
    first, second = better[0], better[1]
    if first.side == second.side or (first.polar, first.far) != (second.polar, second.far):
        return None
    return (first, second) if first.side == "accounts" else (second, first)


def _either_file(
    accounts: _Reading,
    reps: _Reading,
    written: _Reading,
    pts: pd.DataFrame,
    homes: pd.DataFrame,
    afile: str,
    rfile: str,
) -> str:
    """The line naming both files when either, read another way as a whole, fits the other as well, with
    a row of each as written."""
    n = len(accounts.a_lat)
    before, after = n - written.far_accounts, n - accounts.far_accounts
    a_typo, h_typo = accounts.label.removeprefix("with "), reps.label.removeprefix("with ")
    read = (
        f"with {a_typo} in either file"
        if a_typo == h_typo
        else f"with {a_typo} in the accounts or {h_typo} in the rep homes"
    )
    a, h = pts.iloc[0], homes.iloc[0]
    return (
        f"{afile} or {rfile}: the coordinates of one of the two files look typed wrong as a whole: as "
        f"written {before:,} of the {n:,} accounts lie within {MISPLACED_KM:,.0f} km of a rep home, {read} "
        f"{after:,} do, and the coordinates cannot tell which file it is: check the lat and lon columns of "
        f"both (account {a['account_id']} at lat {float(a['lat']):g}, lon {float(a['lon']):g}; rep "
        f"{h['rep_id']}'s home at lat {float(h['lat']):g}, lon {float(h['lon']):g}); no row of either file "
        "is named on its own until they agree"
    )


def _whole_file(reading: _Reading, written: _Reading, better: list[_Reading], afile: str, rfile: str) -> str:
    """The line naming the file that looks typed wrong as a whole, with the rows near the other file as
    written and as read; says so when the other file read the same way would fit as well."""
    if reading.side == "accounts":
        file, other, rows, near = afile, rfile, "accounts", "a rep home"
        n = len(reading.a_lat)
    else:
        file, other, rows, near = rfile, afile, "rep homes", "an account"
        n = len(reading.h_lat)
    before, after = n - written.far_of(reading.side), n - reading.far_of(reading.side)
    text = (
        f"{file}: the file's coordinates look typed wrong as a whole: as written {before:,} of its {n:,} "
        f"{rows} lie within {MISPLACED_KM:,.0f} km of {near} in {other}, {reading.label} {after:,} do; "
        f"check its lat and lon columns"
    )
    rival = [r for r in better if r.side != reading.side and r.far == reading.far]
    if rival:
        text += f" ({other} is taken as right: read {rival[0].label}, it would fit as well)"
    return text
