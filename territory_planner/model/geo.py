"""Great-circle distances."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088


ROWS = 2048  # haversine_km works through this many points 1 at a time (its temporaries stay in cache)


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Pairwise great-circle distance in km between points 1 (rows) and points 2 (columns).

    Computed ``ROWS`` rows at a time, in place: on 33,300 ZIPs x 200 reps, 0.18 s where the whole matrix
    at once (a dozen temporaries of 53 MB each) took 0.6 s, and 2.3 s in a fresh process."""
    p1 = np.radians(np.asarray(lat1, dtype=float)).reshape(-1)
    l1 = np.radians(np.asarray(lon1, dtype=float)).reshape(-1)
    p2 = np.radians(np.asarray(lat2, dtype=float)).reshape(-1)
    l2 = np.radians(np.asarray(lon2, dtype=float)).reshape(-1)
    if p1.shape != l1.shape or p2.shape != l2.shape:  # as the whole-matrix formula's broadcast refused
        raise ValueError(
            f"latitudes and longitudes differ in length: {p1.shape} / {l1.shape}, {p2.shape} / {l2.shape}"
        )
    c1, c2 = np.cos(p1), np.cos(p2)
    out = np.empty((len(p1), len(p2)))
    for s in range(0, len(p1), ROWS):
        e = min(s + ROWS, len(p1))
        a = np.subtract(p2[None, :], p1[s:e, None])  # sin(dphi / 2) ** 2
        a /= 2
        np.sin(a, out=a)
        a **= 2
        b = np.subtract(l2[None, :], l1[s:e, None])  # cos(phi1) cos(phi2) sin(dlambda / 2) ** 2
        b /= 2
        np.sin(b, out=b)
        b **= 2
        cc = np.multiply(c1[s:e, None], c2[None, :])
        cc *= b
        a += cc
        np.clip(a, 0.0, 1.0, out=a)
        np.sqrt(a, out=a)
        np.arcsin(a, out=a)
        a *= 2 * EARTH_RADIUS_KM
        out[s:e] = a
    return out
