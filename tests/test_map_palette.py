"""Territory colouring: neighbours differ, small plans get one distinct colour per rep."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_planner.render.palette import (
    NO_REP_COLOUR,
    PALETTE,
    assign_colours,
    greedy_colouring,
    rep_adjacency,
)


def grid(cols: int, rows: int, per_cell: int = 4):
    """Reps own the cells of a cols x rows grid; each cell holds ``per_cell`` accounts::

    rows-1 | r(0,rows-1) ...
         0 | r(0,0)  r(1,0)  ...
    """
    rng = np.random.default_rng(0)
    lat, lon, lab = [], [], []
    for cx in range(cols):
        for cy in range(rows):
            for _ in range(per_cell):
                lon.append(cx + rng.uniform(0.1, 0.9))
                lat.append(cy + rng.uniform(0.1, 0.9))
                lab.append(cx * rows + cy)
    return np.array(lat), np.array(lon), np.array(lab)


def test_grid_adjacency_joins_touching_cells_only() -> None:
    """In a 3 x 3 grid of territories the centre touches its 4 edge neighbours, never a far corner."""
    lat, lon, lab = grid(3, 3)
    nb = rep_adjacency(9, lat, lon, lab)
    centre = 4  # cell (1, 1)
    assert {1, 3, 5, 7} <= nb[centre]
    assert 8 not in nb[0]
    assert 0 not in nb[8]


def test_neighbours_never_share_a_colour_even_with_many_reps() -> None:
    lat, lon, lab = grid(10, 10, per_cell=3)  # 100 reps > 20 palette colours
    ids = [f"R{k}" for k in range(100)]
    colours = assign_colours(ids, lat=lat, lon=lon, labels=lab)
    nb = rep_adjacency(100, lat, lon, lab)
    for k in range(100):
        for m in nb[k]:
            assert colours[ids[k]] != colours[ids[m]]
    assert set(colours.values()) <= set(PALETTE)
    assert NO_REP_COLOUR not in colours.values()


def test_fewer_reps_than_colours_get_distinct_colours() -> None:
    lat, lon, lab = grid(4, 3)
    ids = [f"R{k}" for k in range(12)]
    assert len(set(assign_colours(ids, lat=lat, lon=lon, labels=lab).values())) == 12


def test_degenerate_inputs_do_not_crash() -> None:
    # All accounts on one spot, a rep without accounts, a single rep.
    assert (
        len(assign_colours(["a", "b", "c", "d"], lat=[1.0] * 5, lon=[2.0] * 5, labels=[0, 0, 1, 2, 2])) == 4
    )
    assert assign_colours(["only"], lat=[1.0], lon=[1.0], labels=[0]) == {"only": PALETTE[0]}
    assert assign_colours(["a", "b"], lat=[], lon=[], labels=[]) == {"a": PALETTE[0], "b": PALETTE[1]}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sets(st.integers(0, 29), max_size=6), min_size=1, max_size=30))
def test_greedy_colouring_is_proper_when_colours_suffice(raw: list[set[int]]) -> None:
    n = len(raw)
    nb: list[set[int]] = [set() for _ in range(n)]
    for a, targets in enumerate(raw):
        for b in targets:
            if b < n and b != a:
                nb[a].add(b)
                nb[b].add(a)
    max_degree = max(len(s) for s in nb)
    colours = greedy_colouring(nb, n_colours=max_degree + 1)
    for a in range(n):
        assert all(colours[a] != colours[b] for b in nb[a])
