"""Rep colours that stay apart: every pair of reps in one legend as far apart in ΔE00 as the grid allows.

The palette's graph colouring (render.palette) makes neighbouring territories differ, but a 20-colour
qualitative palette holds look-alikes (two teals, two oranges) and district shading used to put the
dark shade of one red district next to the dark shade of another (QA E8). Here each rep gets a colour
from a grid of sRGB colours (no greys, none too light or too dark for a light background), chosen
greedily to be as far as possible, in CIEDE2000, from the colours already given: from every other rep
in plans of up to ``ALL_PAIRS_UP_TO`` reps (they share one legend), from the neighbours and the
district's other reps in larger plans. Once a candidate is ``ENOUGH`` away from all of them, the one
closest to the rep's preferred colour wins (its palette colour, or its district's colour).

With districts, a rep may only take a colour that is closer to its own district's colour than to any
other district's (and at most ``MAX_FROM_DISTRICT`` from it): a rep's colour reads as its district's
family in the territory view, and two districts' families never overlap. The family's room then bounds
the separation: five reps in each of eight districts are not all ``ENOUGH`` apart (QA70 F7: 40 Canadian
reps, the closest pair of one district 14.4 apart), the price of reading districts by hue.

Neighbours also stay apart for the colour-blind (QA91 F3: under protanopia an orange, a green and an
olive territory in Ohio read as one olive, ΔE00 3.3). Between neighbours the separation is the least
ΔE00 over normal vision and simulated protanopia, deuteranopia and tritanopia
(colour_space.vision_lab), and the neighbours of neighbours count too, at ``SECOND_RING`` times their
least ΔE00: the neighbour graph joins rep homes, and territories whose homes are two steps apart often
touch. Normal vision comes first: a candidate scores ``_FLOOR_WEIGHT`` points per unit of
normal-vision separation up to ``FLOOR``, then one per unit of the least separation over all visions
up to ``ENOUGH``, so every pair in one legend keeps about the normal-vision separation it had, and the
room left is spent on the colour-blind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from territory_planner.render.colour_space import delta_e00, hex_to_lab, hex_to_rgb, rgb_to_hex, vision_lab

ENOUGH = 22.0  # ΔE00: farther than this from every other rep counts as "clearly different"
MAX_FROM_DISTRICT = 28.0  # ΔE00: a rep's colour stays in its district's family
ALL_PAIRS_UP_TO = 80  # reps: up to this many, every pair is kept apart; above, neighbours and districts
_GRID = 16  # levels per sRGB channel of the candidate grid
_L_RANGE = (30.0, 84.0)  # CIELAB lightness: readable on white, not black
_MIN_CHROMA = 22.0  # no greys: grey means "no current rep"
REFINE_PASSES = 4
FLOOR = 20.0  # ΔE00: normal-vision separation that comes before the colour-blind's
_FLOOR_WEIGHT = 3.0
SECOND_RING = 1.5  # a neighbour's neighbour at ΔE00 d counts as a neighbour at 1.5 d
_PULL = 0.15  # weight of the distance to the preferred colour against the separation


@cache
def _candidates() -> tuple[np.ndarray, np.ndarray]:
    """The candidate colours: rgb (m, 3) and CIELAB as each vision sees them (visions, m, 3; float32,
    for speed), greys and extremes of lightness (in normal vision) left out."""
    steps = np.linspace(0.0, 1.0, _GRID)
    rgb = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    seen = vision_lab(rgb)
    lab = seen[0]
    light = (lab[:, 0] >= _L_RANGE[0]) & (lab[:, 0] <= _L_RANGE[1])
    keep = light & (np.hypot(lab[:, 1], lab[:, 2]) >= _MIN_CHROMA)
    return rgb[keep], np.ascontiguousarray(seen[:, keep], dtype=np.float32)


def _separation(seen: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """ΔE00 of every candidate to ``colour`` (visions, 3): in normal vision and the least over all
    visions, shape (2, m)."""
    d = delta_e00(seen, colour[:, None, :])
    return np.stack([d[0], d.min(axis=0)])


def _order(
    n: int, groups: Sequence[int], neighbours: Sequence[set[int]], fixed: Mapping[int, str]
) -> list[int]:
    """Free items round-robin over the groups (each district's first rep, then each one's second ...),
    the most connected first within a round."""
    rank: dict[int, int] = {}
    seen: dict[int, int] = {}
    for i in sorted(range(n), key=lambda k: (-len(neighbours[k]), k)):
        g = groups[i] if groups[i] >= 0 else -1 - i
        rank[i] = seen.get(g, 0)
        seen[g] = rank[i] + 1
    return sorted((i for i in range(n) if i not in fixed), key=lambda k: (rank[k], -len(neighbours[k]), k))


def distinct_colours(
    preferred: Sequence[str],
    *,
    neighbours: Sequence[set[int]] | None = None,
    groups: Sequence[int] | None = None,
    centres: Sequence[str] = (),
    fixed: Mapping[int, str] | None = None,
) -> list[str]:
    """One colour per item, apart from the others' (see the module text).

    ``preferred``: a colour per item (palette pick or district colour); ``neighbours``: item indices
    per item; ``groups``: group index per item (-1 none) into ``centres`` (one colour per group);
    ``fixed``: item -> colour kept as given (colours drawn in another map).
    """
    n = len(preferred)
    nb: Sequence[set[int]] = neighbours if neighbours is not None else [set() for _ in range(n)]
    grp: Sequence[int] = groups if groups is not None else [-1] * n
    fixed = dict(fixed or {})
    if n == 0:
        return []
    rgb, seen = _candidates()
    lab = seen[0]
    centre_lab = hex_to_lab(list(centres)) if len(centres) else np.empty((0, 3))
    # d_centre[g]: each candidate's distance to group g's colour; a group's cell is where it is nearest
    d_centre = delta_e00(lab[None, :, :], centre_lab[:, None, :]) if len(centres) else np.empty((0, len(lab)))
    nearest = d_centre.argmin(axis=0) if len(centres) else np.empty(0, dtype=int)
    pref_lab = hex_to_lab(list(preferred))
    pull = delta_e00(lab[None, :, :], pref_lab[:, None, :])  # (items, candidates)
    colour: dict[int, str] = {}
    # item -> ΔE00 of every candidate to its colour, (normal vision, least over the visions)
    column: dict[int, np.ndarray] = {}
    by_candidate: dict[int, np.ndarray] = {}  # the same per candidate picked (passes pick them again)

    def place(i: int, hex_colour: str, col: np.ndarray) -> None:
        colour[i] = hex_colour
        column[i] = col

    for i, c in fixed.items():
        place(i, c, _separation(seen, vision_lab(hex_to_rgb(c))))
    everyone = n <= ALL_PAIRS_UP_TO
    second = [set().union(*(nb[m] for m in nb[i])) - nb[i] - {i} for i in range(n)]
    free = _order(n, grp, nb, fixed)
    # one greedy pass, then passes that pick each colour again against all the others: the closest pair
    # of the greedy pass gets pulled apart
    for _ in range(1 + REFINE_PASSES):
        for i in free:
            g = grp[i]
            allowed = np.ones(len(lab), dtype=bool)
            if 0 <= g < len(centres):
                cell = (nearest == g) & (d_centre[g] <= MAX_FROM_DISTRICT)
                if cell.any():
                    allowed = cell
            others = [
                j
                for j in column
                if j != i and (everyone or j in nb[i] or (g >= 0 and grp[j] == g) or j in fixed)
            ]
            none = np.full(len(lab), np.inf)
            sep = np.min([column[j][0] for j in others], axis=0) if others else none
            # neighbours: the least ΔE00 over all visions; their neighbours: SECOND_RING times that
            near = [column[j][1] for j in nb[i] if j in column]
            near += [SECOND_RING * column[j][1] for j in second[i] if j in column]
            seen_sep = np.min(near, axis=0) if near else none
            score = (
                _FLOOR_WEIGHT * np.minimum(sep, FLOOR)
                + np.minimum(np.minimum(sep, seen_sep), ENOUGH)
                - _PULL * pull[i]
            )
            score[~allowed] = -np.inf
            k = int(np.argmax(score))
            if k not in by_candidate:
                by_candidate[k] = _separation(seen, seen[:, k])
            place(i, rgb_to_hex(rgb[k]), by_candidate[k])
    return [colour[i] for i in range(n)]
