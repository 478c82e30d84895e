"""Build the packaged boundary layers of offline maps (``territory_planner/render/assets``).

``us_boundaries.json`` from the us-atlas package, ``world_boundaries.json`` from world-atlas (both ISC
licence, Mike Bostock).

us-atlas (https://github.com/topojson/us-atlas, Mike Bostock, ISC) ships the US Census Bureau's
cartographic boundary files as TopoJSON. This script keeps only what an offline map needs to show where
things are: the state borders and the county borders, as lines (each border once), simplified and
quantised to a 0.01 degree grid (about 1 km), delta-encoded. The result is a few hundred kB and is read
by ``territory_planner.render.boundaries``.

    npm pack us-atlas && tar xzf us-atlas-3.0.1.tgz
    python tools/build_boundaries.py package/counties-10m.json

world-atlas (https://github.com/topojson/world-atlas) ships Natural Earth's 1:50m admin-0 country
boundaries (public domain) as TopoJSON. ``--world`` keeps every country border and coastline once, except
those of the United States and its territories (the US layer draws them in more detail: a line of each
would be drawn twice, a little apart), cut at the antimeridian (a line that crosses it is ended at 180 and
resumed at -180; the cut edges Natural Earth draws along it and along the South Pole are dropped),
simplified to about 3 km, quantised to the same grid and split into pieces at most ``PIECE_DEGREES`` across,
so that a map embeds only the pieces near its plan, not a whole coastline.

    npm pack world-atlas && tar xzf world-atlas-2.0.2.tgz
    python tools/build_boundaries.py --world package/countries-50m.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely

ASSETS = Path(__file__).resolve().parent.parent / "territory_planner" / "render" / "assets"
OUT = ASSETS / "us_boundaries.json"
WORLD_OUT = ASSETS / "world_boundaries.json"
GRID = 0.01  # degrees per quantisation step
TOLERANCE = {"states": 0.02, "counties": 0.025, "countries": 0.03}  # Douglas-Peucker tolerance, degrees
PIECE_DEGREES = 3.0  # a world line is split into pieces no wider or taller than this
# ISO 3166-1 numeric ids whose borders the US layer draws: the United States, Puerto Rico, Guam, American
# Samoa, the Northern Mariana Islands and the US Virgin Islands
US_LAYER_IDS = {"840", "630", "316", "016", "580", "850"}


def decode_arcs(topo: dict) -> list[np.ndarray]:
    scale = np.array(topo["transform"]["scale"])
    translate = np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(arc, dtype=float), axis=0) * scale + translate for arc in topo["arcs"]]


def arcs_of(obj: dict, ids: set[str] | None = None) -> set[int]:
    """The arcs of ``obj``'s geometries (of those whose id is in ``ids``, when given)."""
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, int):
            found.add(node if node >= 0 else ~node)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for geom in obj["geometries"]:
        if ids is None or str(geom.get("id")) in ids:
            walk(geom.get("arcs", []))
    return found


def quantise(line: np.ndarray, tolerance: float) -> np.ndarray | None:
    """The line simplified and on the grid (grid steps, repeated points dropped); None when it vanishes."""
    simple = shapely.simplify(shapely.LineString(line), tolerance, preserve_topology=False)
    q = np.round(np.asarray(simple.coords) / GRID).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.any(q[1:] != q[:-1], axis=1)
    q = q[keep]
    return q if len(q) >= 2 else None


def delta_encode(q: np.ndarray) -> list[int]:
    delta = np.vstack([q[:1], np.diff(q, axis=0)])
    return [int(v) for v in delta.ravel()]


def encode(line: np.ndarray, tolerance: float) -> list[int] | None:
    q = quantise(line, tolerance)
    return None if q is None else delta_encode(q)


def cut_antimeridian(line: np.ndarray) -> list[np.ndarray]:
    """``line`` (lon, lat) as pieces that never cross the antimeridian and draw no cut edge.

    A step of more than 180 degrees in longitude crosses the antimeridian (a ring stitched across it, as
    Russia's and Fiji's are): the line ends where the step meets 180 (or -180) and resumes on the other
    side. A step along the antimeridian itself, or along the South Pole, is an edge Natural Earth's cut
    made, not a border: it is left out.
    """
    pieces: list[list[np.ndarray]] = [[line[0]]]
    for a, b in zip(line[:-1], line[1:], strict=True):
        dx = b[0] - a[0]
        if abs(dx) > 180:
            edge = 180.0 if dx < 0 else -180.0  # a is near `edge`, b near the opposite one
            b_unwrapped = b[0] + (360.0 if dx < 0 else -360.0)
            t = (edge - a[0]) / (b_unwrapped - a[0]) if b_unwrapped != a[0] else 0.0
            y = a[1] + t * (b[1] - a[1])
            pieces[-1].append(np.array([edge, y]))
            pieces.append([np.array([-edge, y])])
        on_cut = (abs(a[0]) >= 179.999 and abs(b[0]) >= 179.999) or (a[1] <= -89.99 and b[1] <= -89.99)
        if on_cut:
            pieces.append([])
        pieces[-1].append(b)
    out = []
    for piece in pieces:
        arr = np.unique(np.asarray(piece), axis=0) if len(piece) else np.empty((0, 2))
        if len(piece) >= 2 and len(arr) >= 2:
            out.append(np.asarray(piece))
    return out


def drop_cut_steps(q: np.ndarray) -> list[np.ndarray]:
    """``q`` (grid steps) without the steps that quantising put on the antimeridian or the South Pole
    (a sliver of an island beside 180 simplified to a line along it)."""
    edge = round(180 / GRID)
    pole = round(-89.99 / GRID)
    on_meridian = (np.abs(q[:-1, 0]) >= edge) & (np.abs(q[1:, 0]) >= edge)
    cut = on_meridian | ((q[:-1, 1] <= pole) & (q[1:, 1] <= pole))
    out = []
    start = 0
    for k in np.flatnonzero(cut):
        out.append(q[start : k + 1])
        start = k + 1
    out.append(q[start:])
    return [part for part in out if len(part) >= 2]


def split_pieces(q: np.ndarray, size: int) -> list[np.ndarray]:
    """``q`` (grid steps) as consecutive pieces sharing their end points, each at most ``size`` steps
    across in x and in y (a single longer step stays one piece)."""
    pieces = []
    start = 0
    lo = q[0].copy()
    hi = q[0].copy()
    for k in range(1, len(q)):
        lo2 = np.minimum(lo, q[k])
        hi2 = np.maximum(hi, q[k])
        if np.any(hi2 - lo2 > size) and k - start >= 1:
            pieces.append(q[start:k])
            start = k - 1
            lo = np.minimum(q[k - 1], q[k])
            hi = np.maximum(q[k - 1], q[k])
        else:
            lo, hi = lo2, hi2
    pieces.append(q[start:])
    return [p for p in pieces if len(p) >= 2]


def build(source: Path) -> dict:
    topo = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)
    state = arcs_of(topo["objects"]["states"])
    county = arcs_of(topo["objects"]["counties"]) - state
    out: dict = {
        "source": "us-atlas 3.0.1 counties-10m (US Census Bureau cartographic boundaries), ISC licence",
        "grid": GRID,
    }
    for name, ids in (("states", state), ("counties", county)):
        lines = [encode(arcs[i], TOLERANCE[name]) for i in sorted(ids)]
        out[name] = [line for line in lines if line]
    return out


def build_world(source: Path) -> dict:
    topo = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)
    countries = topo["objects"]["countries"]
    keep = arcs_of(countries) - arcs_of(countries, US_LAYER_IDS)
    size = round(PIECE_DEGREES / GRID)
    lines: list[list[int]] = []
    for i in sorted(keep):
        for part in cut_antimeridian(arcs[i]):
            q = quantise(part, TOLERANCE["countries"])
            for kept in drop_cut_steps(q) if q is not None else []:
                lines += [delta_encode(p) for p in split_pieces(kept, size)]
    return {
        "source": (
            f"world-atlas 2.0.2 {source.name} (Natural Earth 1:50m admin-0 countries, public domain), "
            "ISC licence; without the borders of the United States and its territories (us_boundaries.json)"
        ),
        "grid": GRID,
        "countries": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "source", type=Path, help="us-atlas counties-10m.json (with --world: world-atlas countries-50m.json)"
    )
    parser.add_argument("--world", action="store_true", help="build world_boundaries.json from world-atlas")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.out is None:
        args.out = WORLD_OUT if args.world else OUT
    data = build_world(args.source) if args.world else build(args.source)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
