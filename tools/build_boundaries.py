"""Build ``territory_planner/render/assets/us_boundaries.json`` from the us-atlas package (ISC licence).

us-atlas (https://github.com/topojson/us-atlas, Mike Bostock, ISC) ships the US Census Bureau's
cartographic boundary files as TopoJSON. This script keeps only what an offline map needs to show where
things are: the state borders and the county borders, as lines (each border once), simplified and
quantised to a 0.01 degree grid (about 1 km), delta-encoded. The result is a few hundred kB and is read
by ``territory_planner.render.boundaries``.

    npm pack us-atlas && tar xzf us-atlas-3.0.1.tgz
    python tools/build_boundaries.py package/counties-10m.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely

OUT = (
    Path(__file__).resolve().parent.parent / "territory_planner" / "render" / "assets" / "us_boundaries.json"
)
GRID = 0.01  # degrees per quantisation step
TOLERANCE = {"states": 0.02, "counties": 0.025}  # Douglas-Peucker tolerance, degrees


def decode_arcs(topo: dict) -> list[np.ndarray]:
    scale = np.array(topo["transform"]["scale"])
    translate = np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(arc, dtype=float), axis=0) * scale + translate for arc in topo["arcs"]]


def arcs_of(obj: dict) -> set[int]:
    found: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, int):
            found.add(node if node >= 0 else ~node)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for geom in obj["geometries"]:
        walk(geom.get("arcs", []))
    return found


def encode(line: np.ndarray, tolerance: float) -> list[int] | None:
    simple = shapely.simplify(shapely.LineString(line), tolerance, preserve_topology=False)
    q = np.round(np.asarray(simple.coords) / GRID).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.any(q[1:] != q[:-1], axis=1)
    q = q[keep]
    if len(q) < 2:
        return None
    delta = np.vstack([q[:1], np.diff(q, axis=0)])
    return [int(v) for v in delta.ravel()]


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="us-atlas counties-10m.json")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = build(args.source)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
