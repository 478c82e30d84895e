"""Plans that cross the antimeridian drawn in one piece.

A US plan with Guam (144.8 E) and the Aleutians (176.6 W), or a plan of Fiji, New Zealand or the Russian
Far East, spans almost the whole world when longitudes stay in [-180, 180]: the map zooms out to a strip of
ocean. Leaflet draws longitudes beyond 180 where they belong, so the smaller side of the widest gap between
longitudes is moved by 360 degrees when that makes the plan narrower (Guam at -215.2, next to Alaska).
Distances are unchanged (a haversine does not see a whole turn), and nothing outside the map's payload moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class Shift:
    """Longitudes above ``cut`` move by ``delta`` (-360), or those at or below it (+360)."""

    cut: float
    delta: float

    def applies(self, lon: float) -> bool:
        return lon > self.cut if self.delta < 0 else lon <= self.cut

    def lon(self, values: Iterable[float]) -> list[float]:
        return [v + self.delta if np.isfinite(v) and self.applies(v) else v for v in values]

    def geometry(self, geom: shapely.Geometry) -> shapely.Geometry:
        """A whole unit moves with its representative point (its parts are never torn apart)."""
        if geom is None or geom.is_empty or not self.applies(shapely.get_x(geom.representative_point())):
            return geom
        return shapely.transform(geom, lambda c: c + np.array([self.delta, 0.0]))


def antimeridian_shift(lons: Iterable[float]) -> Shift | None:
    """The shift that draws these longitudes in the narrowest span, or None when [-180, 180] is it."""
    finite = np.asarray([v for v in lons if np.isfinite(v)], dtype=float)
    x = np.unique(finite)
    if len(x) < 2:
        return None
    gaps = np.diff(x)
    k = int(np.argmax(gaps))
    if gaps[k] <= 360.0 - (x[-1] - x[0]):  # the gap across the antimeridian is already the widest
        return None
    cut = float(x[k] + x[k + 1]) / 2  # mid-gap: a unit's representative point falls on its point's side
    west, east = int((finite <= cut).sum()), int((finite > cut).sum())  # move the side with fewer points
    return Shift(cut, -360.0) if east <= west else Shift(cut, 360.0)


def unwrap(geom: shapely.Geometry) -> shapely.Geometry:
    """One unit that the antimeridian cuts (Alaska's Aleutians West: islands at 172 E to 180 and at 180 to
    167 W) drawn in one piece: the parts on the side of less area move by 360 degrees to lie next to the
    others. In [-180, 180] its bounds spanned the world, so the map of a US county plan opened zoomed out
    to a strip of ocean with the Near Islands at its right edge. A polygon that itself crosses the line
    (its vertices jump from 179 to -179) has its vertices on the smaller side moved instead."""
    if geom is None or geom.is_empty:
        return geom
    xmin, _, xmax, _ = geom.bounds
    if xmax - xmin <= 180.0:
        return geom
    parts = list(getattr(geom, "geoms", [geom]))
    if len(parts) == 1:
        coords = shapely.get_coordinates(geom)
        east = coords[:, 0] > 0
        delta = -360.0 if east.sum() <= (~east).sum() else 360.0
        step = np.array([delta, 0.0])
        return shapely.transform(geom, lambda c: c + np.where((c[:, :1] > 0) == (delta < 0), step, 0.0))
    x = np.array([shapely.get_x(p.representative_point()) for p in parts])
    area = np.array([p.area for p in parts])
    east = x > 0
    delta = -360.0 if area[east].sum() <= area[~east].sum() else 360.0
    moved = [
        shapely.transform(p, lambda c, d=delta: c + np.array([d, 0.0])) if (xe > 0) == (delta < 0) else p
        for p, xe in zip(parts, x, strict=True)
    ]
    if isinstance(geom, shapely.MultiPolygon):  # parts cut at 180 meet again there: one shape (QA30 F6)
        return shapely.union_all(moved)
    return shapely.GeometryCollection(moved)
