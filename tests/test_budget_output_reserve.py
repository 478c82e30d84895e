"""The time kept for writing the outputs grows with the map's polygons (no timings asserted)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from territory_planner.geo.areas import units_geojson
from territory_planner.optimize.budget import (
    MAX_RESERVE_SHARE,
    TimeBudget,
    output_reserve,
)


def _star(x: float, points: int) -> shapely.Polygon:
    """A star around (x, 0) whose spikes (2 km deep) no display simplification removes."""
    angle = np.linspace(0, 2 * np.pi, 2 * points, endpoint=False)
    radius = np.where(np.arange(2 * points) % 2 == 0, 0.04, 0.02)
    return shapely.Polygon(np.c_[x + radius * np.cos(angle), radius * np.sin(angle)])


def _shapes(points: int) -> tuple[int, int]:
    """Polygons and vertices units.geojson writes for 20 stars of ``points`` spikes, 0.1 degree apart."""
    stars = {u: _star(0.1 * u, points) for u in range(20)}
    ids = np.array([f"A{u}" for u in range(20)])
    shapes = units_geojson(ids, np.arange(20), stars, {})
    return shapes.polygons, shapes.vertices


def test_reserve_grows_with_the_vertices_written() -> None:
    coarse, fine = _shapes(5), _shapes(100)
    assert coarse[0] == fine[0] == 20
    assert (coarse[1], fine[1]) == (20 * 11, 20 * 201)  # closed rings: first point twice
    assert output_reserve(20, polygons=fine[0], vertices=fine[1]) > output_reserve(
        20, polygons=coarse[0], vertices=coarse[1]
    )
    assert output_reserve(20, polygons=20) > output_reserve(20)  # points only: the old reserve


def test_the_budget_keeps_the_reserve_up_to_its_share() -> None:
    small = output_reserve(3_000, polygons=3_000, vertices=10_000)
    big = output_reserve(3_000, polygons=3_000, vertices=250_000)
    assert small < big
    b_small = TimeBudget.for_command(60.0, started=0.0, reserve=small)
    b_big = TimeBudget.for_command(60.0, started=0.0, reserve=big)
    assert b_big.deadline < b_small.deadline
    assert b_small.deadline == pytest.approx(60.0 - small)
    capped = TimeBudget.for_command(30.0, started=0.0, reserve=1e6)
    assert capped.deadline == pytest.approx(30.0 * (1 - MAX_RESERVE_SHARE))
    # without a reserve given, the point-account reserve as before
    assert TimeBudget.for_command(60.0, started=0.0, accounts=3_000).deadline == pytest.approx(
        60.0 - output_reserve(3_000)
    )
