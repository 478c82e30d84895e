"""Territory outlines when GEOS cannot snap the units to the map's grid."""

from __future__ import annotations

import shapely
from shapely.geometry import box

from territory_planner.render import payload


def test_outline_union_survives_a_grid_snapping_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # two squares sharing a side; GEOS fails the snapped union (as it did on Florida's counties): the
    # outline is still the union of the two, one 2 x 1 rectangle
    real = shapely.union_all

    def snapped_fails(geoms, grid_size=None, **kw):  # type: ignore[no-untyped-def]
        if grid_size is not None:
            raise shapely.errors.GEOSException("TopologyException: unable to assign free hole to a shell")
        return real(geoms, **kw)

    monkeypatch.setattr(shapely, "union_all", snapped_fails)
    merged = payload._union([box(0, 0, 1, 1), box(1, 0, 2, 1)], 1e-6)
    assert merged.geom_type == "Polygon"
    assert merged.area == 2.0
    assert merged.equals(box(0, 0, 2, 1))
    # an invalid bow-tie member is made valid, not dropped
    bowtie = shapely.Polygon([(2, 0), (3, 1), (3, 0), (2, 1)])
    merged = payload._union([box(0, 0, 1, 1), bowtie], 1e-6)
    assert merged.area == 1.5
