"""Which file has its coordinates typed wrong (QA13 10: every account of a file with lat and lon swapped was
named, and so was every correct rep home, "check its home's coordinates").

Three reps in Spain, two accounts near each::

        A3 A4
          R2 Barcelona (41.4, 2.2)
    A1
    R1 A2 Madrid (40.4, -3.7)

    A5 R3 A6 Sevilla (37.4, -6.0)

Typed with lat and lon swapped, a point lies in East Africa, over 5,000 km from Spain.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner.io.load import load_inputs
from territory_planner.io.misplaced import misplaced_coordinates

REPS = [("R1", 40.42, -3.70), ("R2", 41.39, 2.17), ("R3", 37.39, -5.98)]
ACCOUNTS = [
    ("A1", 40.45, -3.60),
    ("A2", 40.30, -3.80),
    ("A3", 41.40, 2.10),
    ("A4", 41.50, 2.25),
    ("A5", 37.40, -5.90),
    ("A6", 37.20, -6.00),
]


def _swap(
    rows: list[tuple[str, float, float]], ids: set[str] | None = None
) -> list[tuple[str, float, float]]:
    return [(i, lon, lat) if ids is None or i in ids else (i, lat, lon) for i, lat, lon in rows]


def _accounts(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "lat", "lon"])


def _reps(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "lat", "lon"])


def warnings(accounts: list, reps: list, has_geometry: bool = False) -> list[str]:
    return misplaced_coordinates(_accounts(accounts), _reps(reps), "a.csv", "r.csv", has_geometry)


def test_both_files_right_no_warning() -> None:
    assert warnings(ACCOUNTS, REPS) == []


def test_accounts_swapped_names_both_files_and_no_row() -> None:
    """Spain read swapped lies in East Africa, where the homes read swapped lie too: either file may be
    the one typed wrong, so both are named and no row (the accounts file alone was named before, and its
    rows; the reps file when it was the wrong one, QA95)."""
    found = warnings(_swap(ACCOUNTS), REPS)
    assert len(found) == 1
    assert found[0].startswith(
        "a.csv or r.csv: the coordinates of one of the two files look typed wrong as a whole"
    )
    assert "with lat and lon swapped in either file 6 do" in found[0]


def test_accounts_swapped_and_one_home_swapped_too_names_no_row() -> None:
    """R3's home typed swapped lies near the swapped accounts. The mirror case, every home but R3's
    swapped, fits as well, so the coordinates cannot tell R3 from the other homes: both files are named
    and R3 is not, until the files agree."""
    found = warnings(_swap(ACCOUNTS), _swap(REPS, {"R3"}))
    assert len(found) == 1
    assert found[0].startswith("a.csv or r.csv: ")
    assert "as written 4 of the 6 accounts lie within 1,000 km of a rep home" in found[0]


def test_one_home_swapped_accounts_right_names_only_that_home() -> None:
    found = warnings(ACCOUNTS, _swap(REPS, {"R3"}))
    assert len(found) == 1
    assert found[0].startswith("r.csv: row 3 (rep R3, lat -5.98, lon 37.39) lies ")
    assert "with lat and lon swapped it would lie" in found[0]


def test_every_home_swapped_against_polygon_accounts_names_the_reps_file() -> None:
    """Polygon accounts' points come from their polygons, so only the homes can be typed wrong."""
    found = warnings(ACCOUNTS, _swap(REPS), has_geometry=True)
    assert found[0].startswith("r.csv: the file's coordinates look typed wrong as a whole")
    assert "as written 0 of its 3 rep homes lie within 1,000 km of an account in a.csv" in found[0]
    assert "with lat and lon swapped 3 do" in found[0]
    assert not [w for w in found if w.startswith("a.csv")]
    assert len([w for w in found if w.startswith("r.csv: row ")]) == 3


def test_every_home_swapped_names_both_files_and_no_row() -> None:
    """Swapping either file makes the two agree: the coordinates cannot tell which one is wrong, so both
    files are named in one line and no row of either (each correct account was named before)."""
    found = warnings(ACCOUNTS, _swap(REPS))
    assert len(found) == 1
    assert found[0].startswith(
        "a.csv or r.csv: the coordinates of one of the two files look typed wrong as a whole"
    )
    assert "as written 0 of the 6 accounts lie within 1,000 km of a rep home" in found[0]
    assert "with lat and lon swapped in either file 6 do" in found[0]
    assert "account A1 at lat 40.45, lon -3.6; rep R1's home at lat -3.7, lon 40.42" in found[0]


def test_every_home_with_its_sign_lost_names_both_files_and_no_row() -> None:
    """A US reps file whose every home lost the sign of its lon lies in Central Asia: the map mirrored
    fits either way, and no correct account is named as typed wrong (each was, "check its
    coordinates")."""
    homes = [("R1", 40.71, -74.01), ("R2", 41.88, -87.63), ("R3", 34.05, -118.24)]
    accounts = [
        (f"A{k}{i}", lat + 0.3 * (k - 1), lon + 0.4 * (k - 1)) for i, lat, lon in homes for k in range(3)
    ]
    found = warnings(accounts, [(i, lat, -lon) for i, lat, lon in homes])
    assert len(found) == 1
    assert found[0].startswith("a.csv or r.csv: ")
    assert "as written 0 of the 9 accounts lie within 1,000 km of a rep home" in found[0]
    assert "with the sign of lon flipped in either file 9 do" in found[0]
    assert "rep R1's home at lat 40.71, lon 74.01" in found[0]


def test_the_load_warns_once_for_the_file(tmp_path: Path) -> None:
    accounts, reps = tmp_path / "acc.csv", tmp_path / "reps.csv"
    _accounts(_swap(ACCOUNTS)).assign(potential=10, workload=1).to_csv(accounts, index=False)
    _reps(REPS).to_csv(reps, index=False)
    loaded = load_inputs(accounts, reps)
    assert sum("look typed wrong as a whole" in w for w in loaded.warnings) == 1
    assert not [w for w in loaded.warnings if "check its home's coordinates" in w]


TURKEY = [
    ("Istanbul", 41.01, 28.95),
    ("Ankara", 39.92, 32.85),
    ("Izmir", 38.41, 27.14),
    ("Gaziantep", 37.06, 37.38),
    ("Diyarbakir", 37.91, 40.22),
    ("Adana", 36.99, 35.33),
    ("Kayseri", 38.73, 35.49),
    ("Konya", 37.87, 32.48),
]


def test_one_account_swapped_names_that_row_not_the_reps_file() -> None:
    """QA14: Turkey's lat and lon ranges overlap, so every home read swapped lies within 1,000 km of an
    account, and the one account typed swapped lies on Izmir's home read swapped. That reading left no
    row far where the file as written left one, and a whole file was named as typed wrong (the reps file
    on the QA data, the accounts file here, as either file read swapped fits); a whole-file reading now
    needs to bring at least two rows near, and the row alone is named."""
    reps = [(f"R{i}", lat, lon) for i, (_, lat, lon) in enumerate(TURKEY)]
    accounts = [(f"A{i}", lat + 0.05, lon + 0.05) for i, (_, lat, lon) in enumerate(TURKEY)]
    found = warnings(_swap(accounts, {"A2"}), reps)
    assert len(found) == 1
    assert found[0].startswith("a.csv: row 3 (account A2, lat 27.19, lon 38.46) lies ")
    assert "with lat and lon swapped it would lie 7 km from R2's" in found[0]


def test_the_file_whose_swapped_reading_lies_in_the_southern_ocean_is_named() -> None:
    """QA57 F11: 300 Brazilian cities with lat and lon swapped as a whole (all at lat -74 to -34): read
    with the correct homes swapped beside them, fewer rows lay far (a swap is no isometry of the sphere),
    so the correct reps file was named and the accounts file never. The reading that puts the points at
    inhabited latitudes wins."""
    cities = [  # real Brazilian cities (lat, lon) with homes at the first four
        (-23.55, -46.64), (-22.91, -43.18), (-19.92, -43.94), (-12.98, -38.49), (-3.72, -38.54),
        (-15.78, -47.93), (-3.12, -60.02), (-25.43, -49.27), (-8.05, -34.90), (-30.03, -51.23),
        (-1.46, -48.50), (-16.68, -49.25), (-2.53, -44.30), (-9.67, -35.74), (-5.09, -42.80),
        (-20.32, -40.34), (-10.91, -37.07), (-7.12, -34.86), (-27.60, -48.55), (-5.79, -35.21),
    ]  # fmt: skip
    reps = [(f"R{k}", lat, lon) for k, (lat, lon) in enumerate(cities[:4])]
    accounts = _swap([(f"A{k}", lat, lon) for k, (lat, lon) in enumerate(cities)])
    found = warnings(accounts, reps)
    assert found[0].startswith("a.csv: the file's coordinates look typed wrong as a whole"), found
    assert not any(w.startswith("r.csv") for w in found), found


def test_svalbard_counts_as_inhabited_when_either_file_is_swapped() -> None:
    """QA59: with a bound at 75 N, Norwegian towns on Svalbard (78 N) made the right reading look polar,
    and the correct file was named in either direction."""
    towns = [  # Norwegian towns (lat, lon), Svalbard's among them
        (59.91, 10.75), (60.39, 5.32), (63.43, 10.39), (58.97, 5.73), (69.65, 18.96), (67.28, 14.40),
        (62.47, 6.15), (58.15, 7.99), (70.66, 23.68), (69.73, 30.05), (68.44, 17.43), (66.31, 14.14),
        (78.22, 15.65), (78.92, 11.93), (78.06, 14.21), (70.07, 29.75), (61.12, 10.47), (59.41, 5.27),
    ]  # fmt: skip
    import numpy as np

    rng = np.random.default_rng(0)  # 90 accounts around the towns, as QA59's
    pick = rng.integers(0, len(towns), 90)
    accounts = [
        (f"A{k}", towns[t][0] + rng.normal(0, 0.1), towns[t][1] + rng.normal(0, 0.2))
        for k, t in enumerate(pick)
    ]
    reps = [(f"R{k}", *towns[i]) for k, i in enumerate((0, 4, 9, 12, 17))]
    for found in (warnings(_swap(accounts), reps), warnings(accounts, _swap(reps))):
        # either reading fits here, in the Arabian Sea and India: both files named, neither left out
        assert found[0].startswith("a.csv or r.csv: the coordinates of one of the two files"), found


# the 35 provinces of Indonesia (a point inside each) and three reps, each based at one of them (QA92 F4)
PROVINCES = [
    (-3.95, 134.12), (3.9, 97.15), (-7.33, 109.91), (-3.58, 102.5), (-6.45, 106.11), (-0.54, 111.07),
    (-2.89, 107.94), (-8.44, 115.26), (-7.75, 112.25), (-2.75, 115.54), (-8.5, 120.59), (-3.83, 119.96),
    (3.94, 108.21), (-1.87, 130.08), (2.26, 99.21), (0.73, 101.5), (1.01, 124.59), (2.68, 116.43),
    (-1.8, 124.82), (-0.76, 100.78), (-3.49, 126.68), (-8.59, 117.27), (-3.85, 121.9), (-0.95, 120.02),
    (-5.28, 139.36), (-6.89, 107.64), (0.2, 116.24), (-4.85, 105.09), (-6.22, 106.85), (0.65, 122.29),
    (-7.88, 110.41), (-3.32, 104.4), (-2.19, 119.39), (-1.77, 102.74), (-1.4, 113.42),
]  # fmt: skip


def test_homes_at_accounts_are_not_a_reps_file_typed_wrong() -> None:
    """QA92 F4: three homes across Indonesia, each at a province's own point, were "typed wrong as a
    whole: as written 3 of its 3 rep homes lie within 1,000 km of an account, with the sign of lat flipped
    2 do": read flipped, fewer provinces lay beyond 1,000 km of a home. A file is suspected only when its
    own rows come nearer the other file's read another way."""
    accounts = [(f"P{i:02d}", lat, lon) for i, (lat, lon) in enumerate(PROVINCES)]
    reps = [("R01", -5.28, 139.36), ("R02", 2.26, 99.21), ("R03", 2.68, 116.43)]
    assert warnings(accounts, reps, has_geometry=True) == []
    # the same homes typed with lat and lon swapped are still named, as a file
    said = warnings(accounts, _swap(reps), has_geometry=True)
    assert any("r.csv: the file's coordinates look typed wrong as a whole" in w for w in said), said
