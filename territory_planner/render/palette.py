"""Territory colours: neighbouring territories never share a colour.

Territories are neighbours when two of their accounts are joined by an edge of the Delaunay
triangulation of all account positions (with a fallback to the territory centroids, and to "everyone
touches everyone" for tiny or degenerate plans). The rep graph is then coloured greedily, most
connected rep first, picking among the colours its neighbours do not use the one used least so far, so
that a plan with fewer reps than palette colours gets one distinct colour per rep.

    >>> assign_colours(["a", "b"], lat=[0.0, 0.0, 1.0], lon=[0.0, 0.1, 1.0], labels=[0, 0, 1])
    {'a': '#4e79a7', 'b': '#f28e2b'}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import Delaunay, QhullError

# A qualitative palette of 20 colours that stay apart on a light background (Tableau 10 and the
# darker half of Kelly's colours of maximum contrast); no greys: grey means "no current rep".
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#2f4b7c",
    "#a0cbe8",
    "#8cd17d",
    "#d37295",
    "#86bcb6",
    "#b6992d",
    "#499894",
    "#d4a6c8",
    "#e17c05",
    "#6a3d9a",
    "#1b9e77",
)
NO_REP_COLOUR = "#9e9e9e"


def _project(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Equirectangular projection around the mean latitude: good enough to find neighbours."""
    mean_lat = float(np.nanmean(lat)) if lat.size else 0.0
    return np.column_stack([lon * np.cos(np.radians(mean_lat)), lat])


def _delaunay_edges(points: np.ndarray) -> np.ndarray:
    """Unique undirected edges (k, 2) of the Delaunay triangulation; empty when degenerate."""
    unique = np.unique(points, axis=0)
    if len(unique) < 3:
        return np.empty((0, 2), dtype=int)
    try:
        tri = Delaunay(points, qhull_options="QJ")
    except (QhullError, ValueError):
        return np.empty((0, 2), dtype=int)
    s = tri.simplices
    edges = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    edges.sort(axis=1)
    return np.unique(edges, axis=0)


def rep_adjacency(n_reps: int, lat: ArrayLike, lon: ArrayLike, labels: ArrayLike) -> list[set[int]]:
    """Neighbour sets of the reps 0..n_reps-1, from account positions and their rep index labels."""
    lat_a = np.asarray(lat, dtype=float)
    lon_a = np.asarray(lon, dtype=float)
    lab = np.asarray(labels, dtype=int)
    ok = np.isfinite(lat_a) & np.isfinite(lon_a) & (lab >= 0) & (lab < n_reps)
    lat_a, lon_a, lab = lat_a[ok], lon_a[ok], lab[ok]
    neighbours: list[set[int]] = [set() for _ in range(n_reps)]
    if n_reps <= 3:
        for i in range(n_reps):
            neighbours[i] = set(range(n_reps)) - {i}
        return neighbours
    edges = _delaunay_edges(_project(lat_a, lon_a))
    if len(edges):
        pairs = lab[edges]
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        for a, b in np.unique(np.sort(pairs, axis=1), axis=0):
            neighbours[int(a)].add(int(b))
            neighbours[int(b)].add(int(a))
    # Reps without accounts (or with all accounts in one spot) still get neighbours from the centroids.
    centroids = np.full((n_reps, 2), np.nan)
    for j in range(n_reps):
        mask = lab == j
        if mask.any():
            centroids[j] = [lat_a[mask].mean(), lon_a[mask].mean()]
    have = np.flatnonzero(np.isfinite(centroids[:, 0]))
    if len(have) >= 3:
        for a, b in _delaunay_edges(_project(centroids[have, 0], centroids[have, 1])):
            neighbours[int(have[a])].add(int(have[b]))
            neighbours[int(have[b])].add(int(have[a]))
    return neighbours


def greedy_colouring(neighbours: list[set[int]], n_colours: int = len(PALETTE)) -> list[int]:
    """Colour index per node; adjacent nodes differ whenever n_colours exceeds the degree."""
    n = len(neighbours)
    order = sorted(range(n), key=lambda i: (-len(neighbours[i]), i))
    colour = [-1] * n
    used = [0] * n_colours
    for node in order:
        taken = {colour[m] for m in neighbours[node] if colour[m] >= 0}
        free = [c for c in range(n_colours) if c not in taken] or list(range(n_colours))
        pick = min(free, key=lambda c: (used[c], c))
        colour[node] = pick
        used[pick] += 1
    return colour


def assign_colours(
    rep_ids: Sequence[str],
    *,
    lat: ArrayLike,
    lon: ArrayLike,
    labels: ArrayLike,
    palette: Sequence[str] = PALETTE,
) -> dict[str, str]:
    """Map each rep id to a palette colour so that neighbouring territories differ."""
    neighbours = rep_adjacency(len(rep_ids), lat, lon, labels)
    picks = greedy_colouring(neighbours, len(palette))
    return {rep: palette[c] for rep, c in zip(rep_ids, picks, strict=True)}
