"""With polygon accounts, the polygon holding a rep's home is its home unit: a neighbouring polygon whose
point lies within 1 km is not "R06's home account" in the note on homes given away (QA30 F7)."""

from __future__ import annotations

import numpy as np

from territory_planner.model.homes import home_pairs


def test_the_polygon_holding_the_home_is_the_home_unit_of_the_note() -> None:
    # unit 0 holds R0's home; unit 1's point lies 0.5 km east of it (a neighbouring polygon)
    acc_lat, acc_lon = np.array([40.0, 40.0, 41.0]), np.array([-83.0, -82.9941, -83.0])
    acc_unit = np.array([0, 1, 2])
    home_lat, home_lon = np.array([40.0, 41.0]), np.array([-83.0, -83.0])
    reps = np.array([0, 1])
    home_unit = np.array([0, -1])  # R1's home lies in no polygon: its point within 1 km counts
    both = home_pairs(acc_lat, acc_lon, acc_unit, home_lat, home_lon, reps, 1.0, home_unit)
    assert set(both) == {0, 1, 2}  # --keep-home's rule: every unit within the km
    held = home_pairs(acc_lat, acc_lon, acc_unit, home_lat, home_lon, reps, 1.0, home_unit, held_only=True)
    assert set(held) == {0, 2}
    assert [j for _, j, _ in held[0]] == [0]
    assert [j for _, j, _ in held[2]] == [1]
