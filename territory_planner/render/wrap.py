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
