"""Coordinates typed wrong in a country-sized data set, where no distance reaches 1,000 km (QA14 8: a rep
home in Glasgow with the sign of its lon lost lies in the North Sea, 345 km from every account, and was
accepted without a word).

Forty-five towns on a grid over Great Britain, 0.5 degrees apart (33 km east-west, 56 km north-south),
three rep homes on towns::

    56.0  T . . . .
    55.5  R1. . . .
    55.0  . . . . .          lon -4.0 (left) to -2.0 (right), R1 on the town at (55.5, -4.0),
    ...   . . R3. .          R3 on (54.0, -3.0), R2 on (53.0, -2.0)
    53.0  . . . . R2
    52.0  . . . . .

Read with the sign of lon flipped, R1 lies at (55.5, +4.0), 380 km from every town: far beyond the
towns' spacing, while flipping it back puts it on a town of the same name. A genuinely remote home
(Lerwick, 60.15, -1.15) and a remote account (Stornoway, 58.2, -6.4) are as far, but no typo brings
them nearer: they are not named.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner.io.load import load_inputs
from territory_planner.io.misplaced import misplaced_coordinates

TOWNS = [
    (f"T{i}{j}", f"Town {i}{j}", 52.0 + 0.5 * i, -4.0 + 0.5 * j) for i in range(9) for j in range(5)
]  # T70 is at (55.5, -4.0), T40 at (54.0, -4.0), T42 at (54.0, -3.0), T24 at (53.0, -2.0)
REPS = [("R1", "Town 70", 55.5, -4.0), ("R2", "Town 24", 53.0, -2.0), ("R3", "Town 42", 54.0, -3.0)]


def _accounts(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "name", "lat", "lon"])


def _reps(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["rep_id", "name", "lat", "lon"])


def _flip(rows: list[tuple[str, str, float, float]], ident: str) -> list[tuple[str, str, float, float]]:
    return [(i, n, lat, -lon if i == ident else lon) for i, n, lat, lon in rows]


def warnings(towns: list, reps: list) -> list[str]:
    return misplaced_coordinates(_accounts(towns), _reps(reps), "a.csv", "r.csv")


def test_the_grid_as_written_has_no_warning() -> None:
    assert warnings(TOWNS, REPS) == []


def test_a_home_with_its_lon_sign_flipped_is_named_with_the_fix() -> None:
    found = warnings(TOWNS, _flip(REPS, "R1"))
    assert found == [
        "r.csv: row 1 (rep R1, lat 55.5, lon 4) lies 378 km from every account; with the sign of lon "
        "flipped it would lie 0 km from account T70, named Town 70 as the rep is: check its home's "
        "coordinates"
    ]


def test_an_account_with_its_lon_sign_flipped_is_named_with_the_fix() -> None:
    found = warnings(_flip(TOWNS, "T40"), REPS)  # (54.0, +4.0): in the North Sea
    assert found == [
        "a.csv: row 21 (account T40, lat 54, lon 4) lies 392 km from every other account and 412 km from "
        "every rep home; with the sign of lon flipped it would lie 33 km from account T41, among the "
        "others: check its coordinates"
    ]


def test_remote_but_correct_points_are_not_named() -> None:
    """Lerwick's home and Stornoway's account lie further from the others than the flipped home does,
    but no typo brings them nearer; the flipped home in the same data is still named."""
    towns = [*TOWNS, ("S1", "Stornoway", 58.2, -6.4)]
    reps = [*_flip(REPS, "R1"), ("R4", "Lerwick", 60.15, -1.15)]
    found = warnings(towns, reps)
    assert len(found) == 1
    assert found[0].startswith("r.csv: row 1 (rep R1, ")


def test_two_remote_points_that_mirror_each_other_do_not_vouch_for_each_other() -> None:
    """QA19 F3: Leticia (-4.21, -69.94) and Cumaribo (4.45, -69.80), two real remote Colombian towns,
    each lay 30 km from the other once its lat sign was flipped, and each was named with the other as
    the company it would be in. Here two towns far south of the grid sit at (48.0, -3.0) and (48.0,
    3.1): flipping one's lon brings it near the other, which is as far from the grid; not named. An
    account typed wrong in the same data (T40) is still named, near the grid."""
    towns = [*TOWNS, ("F1", "Far 1", 48.0, -3.0), ("F2", "Far 2", 48.0, 3.1)]
    found = warnings(towns, REPS)
    assert found == []
    found = warnings(_flip(towns, "T40"), REPS)
    assert len(found) == 1
    assert "account T40" in found[0]
    assert "among the others" in found[0]


def test_the_load_warns_of_the_flipped_home(tmp_path: Path) -> None:
    accounts, reps = tmp_path / "acc.csv", tmp_path / "reps.csv"
    _accounts(TOWNS).assign(potential=10, workload=1).to_csv(accounts, index=False)
    _reps(_flip(REPS, "R1")).to_csv(reps, index=False)
    loaded = load_inputs(accounts, reps)
    assert [w for w in loaded.warnings if "rep R1" in w and "sign of lon flipped" in w]


def test_an_account_typed_wrong_does_not_name_the_home_of_its_name() -> None:
    """The account of a rep's name typed wrong lies far from every other account: it is the one named,
    not the home that a sign flip would bring onto it (QA14: GB03 Glasgow was named for account Glasgow's
    typo)."""
    reps = [*REPS, ("R4", "Town 40", 54.0, -4.0)]
    found = warnings(_flip(TOWNS, "T40"), reps)
    assert len(found) == 1
    assert found[0].startswith("a.csv: row 21 (account T40, ")


# East of the grid's towns, a row of towns across the prime meridian: a home with its lon sign flipped
# lands on another town there, so no distance tells; the account of its rep's name does.
ROW = [(f"E{j}", f"East {j}", 52.5, -2.0 + 0.5 * j) for j in range(9)]  # lon -2.0 to +2.0


def test_a_flipped_home_among_the_towns_is_named_by_its_reps_name() -> None:
    reps = [("R1", "East 1", 52.5, 1.5), ("R2", "East 8", 52.5, 2.0)]  # East 1 is at lon -1.5
    found = warnings(ROW, reps)
    assert found == [
        "r.csv: row 1 (rep R1, lat 52.5, lon 1.5) lies 203 km from account E1, named East 1 as the rep is; "
        "with the sign of lon flipped it would lie 0 km from it: check its home's coordinates"
    ]
    # without a name to tell, a home on a town is not named
    assert warnings(ROW, [("R1", "Ann", 52.5, 1.5), ("R2", "East 8", 52.5, 2.0)]) == []


def test_a_home_across_the_world_is_named_though_no_typo_brings_it_near() -> None:
    """QA25 F2: a rep row pasted from another roster (Noumea, New Caledonia) beside homes on the accounts
    got 52 accounts and 91% of the travel without a word: no swap or sign flip brings it near them."""
    found = warnings(TOWNS, [*REPS, ("R9", "Noumea", -22.27, 166.44)])
    assert len(found) == 1
    assert found[0].startswith("r.csv: row 4 (rep R9, lat -22.27, lon 166.44) lies 16,")
    assert "the other homes lie at an account" in found[0]
    assert "no swap or lost sign brings it near one" in found[0]


def test_homes_that_all_lie_far_are_not_named() -> None:
    """Every home 1,100 to 1,400 km from the towns (a team based abroad): far, but as far as each other,
    so no home is named for it."""
    abroad = [("R1", "A", 64.1, -21.9), ("R2", "B", 64.2, -21.5), ("R3", "C", 63.9, -22.4)]  # Iceland
    assert not any("every account" in w for w in warnings(TOWNS, abroad))


def test_homes_that_all_lie_an_ocean_away_are_said_once() -> None:
    """QA61 F2: every home in Australia for French accounts, 15,000 km away, passed without a word. No
    home is named as a typo (none brings it near), but the roster gets one line; a team some 1,200 km
    away (above) gets none."""
    sydney = [("R1", "A", -33.87, 151.21), ("R2", "B", -37.81, 144.96), ("R3", "C", -27.47, 153.03)]
    found = warnings(TOWNS, sydney)
    assert len(found) == 1
    assert found[0].startswith("r.csv: every rep home lies over 3,000 km from every account (the nearest 1")
    assert "Leave a rep's lat and lon empty" in found[0]
