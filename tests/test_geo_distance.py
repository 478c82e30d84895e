"""``geo.haversine_km`` works through the points in blocks of ``ROWS`` rows, in place: the same numbers as
the formula over the whole matrix at once, bit for bit, across block edges."""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner.model import geo


def _whole(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: np.ndarray = 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


@pytest.mark.parametrize("n", [0, 1, geo.ROWS - 1, geo.ROWS, geo.ROWS + 1, 2 * geo.ROWS + 17])
def test_blocks_give_the_whole_matrix_bit_for_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    lat1, lon1 = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    # poles, antipodes, the date line and the points themselves among the columns
    lat2 = np.concatenate([[90.0, -90.0, 0.0, 0.0], -lat1[:3], lat1[:2]])
    lon2 = np.concatenate([[0.0, 0.0, 180.0, -180.0], lon1[:3] + 180.0, lon1[:2]])
    got = geo.haversine_km(lat1, lon1, lat2, lon2)
    assert got.shape == (n, len(lat2))
    assert np.array_equal(got, _whole(lat1, lon1, lat2, lon2))
    if n >= 3:
        half = np.pi * geo.EARTH_RADIUS_KM  # an antipode is half the circumference away
        assert got[np.arange(3), 4 + np.arange(3)] == pytest.approx(half, rel=1e-7)  # arcsin near 1: 0.2 m


def test_known_distances() -> None:
    # one degree of longitude on the equator, and Paris to London (about 343.5 km)
    got = geo.haversine_km(
        np.array([0.0, 48.8566]), np.array([0.0, 2.3522]), np.array([0.0, 51.5074]), np.array([1.0, -0.1278])
    )
    assert got[0, 0] == pytest.approx(2 * np.pi * geo.EARTH_RADIUS_KM / 360, rel=1e-12)
    assert got[1, 1] == pytest.approx(343.5, abs=0.5)


def test_coordinates_of_different_lengths_are_refused() -> None:
    """As the whole-matrix formula's broadcast did (QA80 F2: blocks cut a longer list short)."""
    lat, lon = np.zeros(3), np.zeros(4)
    with pytest.raises(ValueError, match="differ in length"):
        geo.haversine_km(lat, lon, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="differ in length"):
        geo.haversine_km(np.zeros(5_000), np.zeros(1), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="differ in length"):
        geo.haversine_km(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(3))
