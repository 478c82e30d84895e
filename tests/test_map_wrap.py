"""Plans across the antimeridian are drawn in one piece (found on the holdout's US airports with Guam).

    lon:  -176.6 (Adak)  -150 (Anchorage) ... -66 (Puerto Rico)          144.8 (Guam)

Drawn in [-180, 180] the map spans 321 degrees of ocean; moving Guam (the side with fewer points) by -360
to -215.2 makes it 152 degrees wide, next to the Aleutians.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from map_fixtures import assignments_frame, square, territories_frame, write_plan

from territory_planner.render.payload import build_payload
from territory_planner.render.plan_folder import read_plan_folder
from territory_planner.render.wrap import antimeridian_shift


def test_no_shift_when_the_plain_range_is_narrowest() -> None:
    assert antimeridian_shift([-75.0, -74.2, -70.0]) is None
    assert antimeridian_shift([-120.0, 0.0, 120.0]) is None  # round the world: nothing to gain
    assert antimeridian_shift([-170.0, 0.0, 170.0]) is not None  # 190 degrees wide when 170 E moves
    assert antimeridian_shift([5.0]) is None


def test_the_smaller_side_of_the_widest_gap_moves() -> None:
    shift = antimeridian_shift([-176.6, -150.0, -120.0, -66.0, 144.8])
    assert shift is not None
    assert shift.lon([-176.6, -66.0, 144.8]) == pytest.approx([-176.6, -66.0, -215.2])
    fiji = antimeridian_shift([178.4, 179.9, -179.8, 177.0])  # most points east of the line stay
    assert fiji is not None
    assert fiji.lon([178.4, -179.8]) == pytest.approx([178.4, 180.2])


def test_a_unit_moves_whole() -> None:
    shift = antimeridian_shift([178.0, 179.5, -179.5])
    assert shift is not None
    box = shapely.box(-179.9, -17.0, -179.1, -16.0)
    moved = shift.geometry(box)
    assert moved.bounds == pytest.approx((180.1, -17.0, 180.9, -16.0))
    assert shift.geometry(shapely.box(178.0, -17.0, 178.5, -16.0)).bounds[0] == pytest.approx(178.0)


def _pacific_plan(folder: Path, with_units: bool) -> Path:
    a = assignments_frame()
    a["lon"] = [-176.6, -150.0, -149.0, -120.0, -100.0, -80.0, -66.0, 144.8, 145.7][: len(a)]
    t = territories_frame(a)
    t["home_lon"] = [-150.0, -80.0, 144.8]
    units = None
    if with_units:
        units = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"account_id": r.account_id},
                    "geometry": square(r.lon, r.lat),
                }
                for r in a.itertuples()
            ],
        }
    return write_plan(folder, a, t, units=units)


@pytest.mark.parametrize("with_units", [False, True])
def test_payload_draws_guam_next_to_the_aleutians(tmp_path: Path, with_units: bool) -> None:
    payload = build_payload(read_plan_folder(_pacific_plan(tmp_path / "plan", with_units)))
    lon = payload.data["acc"]["lon"]
    assert lon[-2:] == pytest.approx([-215.2, -214.3])
    assert lon[0] == pytest.approx(-176.6)  # the majority keeps its longitudes
    assert payload.data["reps"]["home"][2][1] == pytest.approx(-215.2)
    (south, west), (north, east) = payload.bounds
    assert east - west < 160
    if with_units:
        xs = [c[0] for g in payload.data["units"]["geom"] for c in _coords(g)]
        assert min(xs) < -214  # Guam's square moved with its point
        assert max(xs) < -60


def _coords(encoded: object) -> list[list[float]]:
    """Every [x, y] pair in a nested encoded geometry."""
    out: list[list[float]] = []
    stack = [encoded]
    while stack:
        item = stack.pop()
        if (
            isinstance(item, (list, tuple))
            and len(item) == 2
            and all(isinstance(v, (int, float)) for v in item)
        ):
            out.append([float(item[0]), float(item[1])])
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return out
