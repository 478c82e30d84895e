"""Neighbouring territories stay apart for the colour-blind too (QA91 F3: under simulated protanopia the
demo's Ohio and Michigan territories, orange, green and olive, were 3.3 ΔE00 apart).

Colours come as payload._rep_colours makes them for a point plan without districts. The simulation here
is the QA's (Machado, Oliveira and Fernandes 2009, severity 1.0, on linear RGB), written out again so
that it checks colour_space.vision_lab.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_map_palette import grid

from territory_planner.render.colour_space import (
    delta_e00,
    hex_to_lab,
    hex_to_rgb,
    min_pairwise_delta_e,
    rgb_to_lab,
)
from territory_planner.render.levels import grouped_colours
from territory_planner.render.palette import NO_REP_COLOUR, PALETTE, greedy_colouring, rep_adjacency

VISIONS = ("normal", "protanopia", "deuteranopia", "tritanopia")
MACHADO = {
    "normal": np.eye(3),
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def simulated_lab(colours: list[str]) -> np.ndarray:
    """CIELAB of ``colours`` as each of VISIONS sees them, shape (4, n, 3)."""
    rgb = hex_to_rgb(colours)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    out = []
    for vision in VISIONS:
        sim = np.clip(lin @ np.asarray(MACHADO[vision]).T, 0, 1)
        out.append(rgb_to_lab(np.where(sim <= 0.0031308, 12.92 * sim, 1.055 * sim ** (1 / 2.4) - 0.055)))
    return np.stack(out)


def colours_and_neighbours(cols: int, rows: int) -> tuple[list[str], list[set[int]]]:
    lat, lon, lab = grid(cols, rows, per_cell=3)
    neighbours = rep_adjacency(cols * rows, lat, lon, lab)
    preferred = [PALETTE[c] for c in greedy_colouring(neighbours)]
    return grouped_colours(None, preferred, neighbours), neighbours


def least_neighbour_delta_e(colours: list[str], neighbours: list[set[int]]) -> dict[str, float]:
    seen = simulated_lab(colours)
    pairs = np.array([(i, j) for i, nb in enumerate(neighbours) for j in nb if i < j])
    d = delta_e00(seen[:, pairs[:, 0]], seen[:, pairs[:, 1]])
    return dict(zip(VISIONS, d.min(axis=1).tolist(), strict=True))


def test_the_simulation_merges_red_and_green_for_the_red_green_blind() -> None:
    """Tableau's red and green: far apart in normal vision and for tritans, one colour for deutans; the
    map's simulation (colour_space.vision_lab) agrees with the one written out here."""
    from territory_planner.render.colour_space import VISIONS as MAP_VISIONS
    from territory_planner.render.colour_space import vision_lab

    assert MAP_VISIONS == VISIONS
    some = [f"#{k:06x}" for k in np.random.default_rng(3).integers(0, 0xFFFFFF, 200)]
    assert np.abs(vision_lab(hex_to_rgb(some)) - simulated_lab(some)).max() < 1e-6
    seen = vision_lab(hex_to_rgb(["#e15759", "#59a14f"]))
    d = dict(zip(VISIONS, delta_e00(seen[:, 0], seen[:, 1]).tolist(), strict=True))
    assert d["normal"] > 50
    assert d["tritanopia"] > 50
    assert d["deuteranopia"] < 2
    assert d["protanopia"] < 20
    # black and white stay black and white in every vision
    bw = vision_lab(hex_to_rgb(["#000000", "#ffffff"]))
    assert np.allclose(bw[:, 0], [0, 0, 0], atol=1e-6)
    assert np.allclose(bw[:, 1], [100, 0, 0], atol=0.05)


@pytest.mark.parametrize(("cols", "rows", "least"), [(5, 4, 12.0), (12, 10, 12.0)])
def test_neighbours_stay_apart_in_every_vision(cols: int, rows: int, least: float) -> None:
    """A grid of territories, each touching up to 8 others (the grid's diagonals touch as well): every
    pair of neighbours at least ``least`` ΔE00 apart in normal vision and under simulated protanopia,
    deuteranopia and tritanopia. The colours chosen for normal vision alone gave 3.7, 3.3 and 4.9 for
    the 20 reps, 1.8, 1.7 and 6.1 for the 120."""
    colours, neighbours = colours_and_neighbours(cols, rows)
    worst = least_neighbour_delta_e(colours, neighbours)
    assert min(worst.values()) >= least, worst


def test_normal_vision_guarantees_hold() -> None:
    """20 reps in one legend: distinct colours, every pair at least 18 apart in normal vision, none grey
    (grey means "no rep") and none too light or too dark for black outlines and text."""
    colours, _ = colours_and_neighbours(5, 4)
    assert len(set(colours)) == 20
    assert NO_REP_COLOUR not in colours
    assert min_pairwise_delta_e(colours) >= 18.0
    lab = hex_to_lab(colours)
    assert (np.hypot(lab[:, 1], lab[:, 2]) >= 22).all()
    assert ((lab[:, 0] >= 30) & (lab[:, 0] <= 84)).all()
    assert min_pairwise_delta_e(colours, "normal") == min_pairwise_delta_e(colours)
