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


def test_a_unit_the_antimeridian_cuts_is_drawn_in_one_piece() -> None:
    """Aleutians West (us-atlas): islands at 172-179.9 E and at 179.9-178 W in one unit. Its larger side
    stays, the other moves by 360 degrees (the Near Islands at -188 to -180.1); a single ring whose
    vertices jump across the line is mended vertex by vertex; a unit that does not cross is unchanged."""
    from territory_planner.render.wrap import unwrap

    east = shapely.box(172.0, 52.0, 179.9, 53.0)  # 7.9 degrees wide
    west = shapely.box(-179.9, 51.0, -166.0, 52.5)  # 13.9 degrees wide, more area
    moved = unwrap(shapely.MultiPolygon([east, west]))
    xmin, _, xmax, _ = moved.bounds
    assert (xmin, xmax) == pytest.approx((-188.0, -166.0))
    assert moved.area == pytest.approx(east.area + west.area)
    ring = shapely.Polygon([(179.0, 0.0), (-179.0, 0.0), (-179.0, 1.0), (-178.0, 1.0), (179.0, 1.0)])
    mended = unwrap(ring)
    assert mended.bounds[2] - mended.bounds[0] == pytest.approx(3.0)
    assert mended.bounds[0] == pytest.approx(-181.0)
    alone = shapely.box(-150.0, 60.0, -140.0, 61.0)
    assert unwrap(alone).equals(alone)


def test_a_county_plan_with_the_aleutians_opens_on_the_states(tmp_path: Path) -> None:
    """A plan of polygon units, one of them cut by the antimeridian: the map's bounds are those of the
    states and Alaska (about 120 degrees), not the whole world."""
    a = assignments_frame()
    lons = [-176.0, -150.0, -149.0, -120.0, -100.0, -80.0, -70.0, -90.0, -95.0][: len(a)]
    a["lon"] = lons
    t = territories_frame(a)
    features = []
    for r in a.itertuples():
        geom = square(r.lon, r.lat)
        if r.lon == -176.0:  # the Aleutians: a part either side of the line
            geom = shapely.geometry.mapping(
                shapely.MultiPolygon(
                    [shapely.box(172.0, 52.0, 179.9, 52.5), shapely.box(-179.9, 51.0, -170.0, 52.5)]
                )
            )
        features.append({"type": "Feature", "properties": {"account_id": r.account_id}, "geometry": geom})
    units = {"type": "FeatureCollection", "features": features}
    payload = build_payload(read_plan_folder(write_plan(tmp_path / "plan", a, t, units=units)))
    (_, west), (_, east) = payload.bounds
    assert east - west < 130
    xs = [c[0] for g in payload.data["units"]["geom"] for c in _coords(g)]
    assert min(xs) > -190
    assert max(xs) < -60


def test_a_unit_cut_at_the_antimeridian_is_drawn_whole_and_valid() -> None:
    """QA30 F6: Russia as Natural Earth ships it, split at 180 into parts that meet again once moved,
    was an invalid MultiPolygon, its simplification a collection holding it, and the map drew nothing of
    the largest unit of the plan."""
    from territory_planner.render.payload import _geom_json, simplify_units
    from territory_planner.render.wrap import unwrap

    east = shapely.box(30.0, 50.0, 180.0, 70.0)
    chukotka = shapely.box(-180.0, 64.0, -170.0, 68.0)  # the same land on the other side of the line
    russia = unwrap(shapely.MultiPolygon([east, chukotka]))
    assert russia.is_valid
    assert russia.geom_type == "Polygon"  # one piece again across 180
    assert russia.bounds[2] == pytest.approx(190.0)
    assert russia.area == pytest.approx(east.area + chukotka.area)
    simplified, _ = simplify_units([russia, shapely.box(20.0, 50.0, 30.0, 60.0)])
    assert _geom_json(simplified[0]) is not None
    nested = shapely.GeometryCollection([shapely.MultiPolygon([east, shapely.box(0, 0, 1, 1)])])
    drawn = _geom_json(nested)
    assert drawn is not None
    assert drawn[0] == 2
    assert len(drawn[1]) == 2
