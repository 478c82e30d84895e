/* territory-planner map: territory outlines of area plans that follow the edits.
 *
 * The planner's outlines (dissolved in Python) are right for the plan as written. Once an edit touches a
 * rep, that rep's outline is redrawn from the units' borders: every edge of a unit polygon is shared by
 * at most two units (the units are simplified as one coverage, so shared edges have the same vertices);
 * an edge is on a territory's outline when the unit on its other side belongs to another rep, or to
 * none. When the units are not a clean coverage (D.units.shared false) the edges cannot be matched: the
 * touched reps' outlines are then hidden rather than drawn wrong (the fill colours still show them).
 */
/* exported tpOutlines */
function tpOutlines(ctx, model) {
  "use strict";
  const U = ctx.D.units;
  if (!U) return;
  const L_ = ctx.L;
  const A = ctx.D.acc;
  const outlines = ctx.outlines;
  let edges = null; // [rowA, rowB (-1: none), [lat, lon], [lat, lon]]
  // Redrawn outlines get a canvas of their own, above the units: replacing one redraws lines only,
  // not the thousands of polygons under it.
  let renderer = null;
  function canvas() {
    if (!renderer) {
      const pane = ctx.map.createPane("tpOutlines");
      pane.style.zIndex = "410";
      pane.style.pointerEvents = "none";
      renderer = L_.canvas({ pane: "tpOutlines", padding: 0.3 });
    }
    return renderer;
  }
  let ringsOfRow = null; // per row, its rings, each as the indices of its edges

  function build() {
    edges = [];
    ringsOfRow = new Map();
    const seen = new Map();
    U.row.forEach(function (row, k) {
      const g = U.geom[k];
      const polys = g[0] === 1 ? [g[1]] : g[1];
      if (!ringsOfRow.has(row)) ringsOfRow.set(row, []);
      for (const poly of polys) {
        for (const ring of poly) {
          const own = [];
          for (let t = 0; t + 1 < ring.length; t++) {
            const p = ring[t];
            const q = ring[t + 1];
            const fwd = p[0] < q[0] || (p[0] === q[0] && p[1] < q[1]);
            const key = fwd ? p[0] + "," + p[1] + "," + q[0] + "," + q[1] : q[0] + "," + q[1] + "," + p[0] + "," + p[1];
            const e = seen.get(key);
            if (e === undefined) {
              seen.set(key, edges.length);
              edges.push([row, -1, [p[1], p[0]], [q[1], q[0]]]);
            } else if (edges[e][0] !== row) edges[e][1] = row;
            own.push(e === undefined ? edges.length - 1 : e);
          }
          ringsOfRow.get(row).push(own);
        }
      }
    });
  }

  // The outline's edges as parts (ctx.outlineParts): a ring of a unit none of whose edges meets another
  // unit of the rep (an islet of a province of islands, an enclave) is a part of its own, left out while
  // it is small on screen; the other edges are one part, always drawn.
  function outlineOf(j, rows) {
    const joined = { latlngs: [], always: true };
    const parts = [joined];
    for (const row of rows) {
      for (const ring of ringsOfRow.get(row) || []) {
        const own = []; // the ring's outline edges
        let alone = true; // no edge of the ring meets another unit of the rep
        for (const e of ring) {
          const edge = edges[e];
          const other = edge[0] === row ? edge[1] : edge[0];
          if (other < 0 || A.rep[other] !== j) own.push([edge[2], edge[3]]);
          else alone = false;
        }
        if (!own.length) continue;
        if (alone) parts.push({ latlngs: own, bounds: L_.latLngBounds([].concat(...own)) });
        else joined.latlngs.push(...own);
      }
    }
    return parts.some(function (q) {
      return q.latlngs.length;
    })
      ? parts
      : [];
  }

  // Matching the edges takes a moment on large plans (1.5 s for 33,000 units): do it when the planner
  // opens the Edit mode, not on the first edit.
  ctx.map.on("tpediton", function () {
    if (!edges && U.shared) setTimeout(build, 0);
  });

  model.on(function (what, reps) {
    if (what !== "change" || !reps || !reps.length) return;
    const after = ctx.view() === "after";
    const touched = new Set(reps);
    for (const o of outlines.after) if (touched.has(o[0]) && after) ctx.groupOf(o[0]).removeLayer(o[1]);
    const kept = outlines.after.filter(function (o) {
      if (touched.has(o[0])) ctx.outlineParts.remove(o[1]);
      return !touched.has(o[0]);
    });
    outlines.after.length = 0;
    outlines.after.push(...kept);
    if (!U.shared) return;
    if (!edges) build();
    const rowsOf = new Map();
    for (const row of U.row) {
      const j = A.rep[row];
      if (!touched.has(j)) continue;
      if (!rowsOf.has(j)) rowsOf.set(j, []);
      rowsOf.get(j).push(row);
    }
    for (const j of touched) {
      if (j < 0 || j >= ctx.D.reps.n) continue;
      const parts = outlineOf(j, rowsOf.get(j) || []);
      if (!parts.length) continue;
      const line = L_.polyline([], {
        renderer: canvas(),
        color: "#222222",
        weight: 2,
        interactive: false,
      });
      line.tpParts = parts;
      line.tpFlat = true;
      ctx.outlineParts.add(line);
      outlines.after.push([j, line]);
      if (after) ctx.groupOf(j).addLayer(line);
    }
    ctx.outlineParts.fit();
    const counts = {};
    for (const o of outlines.after) {
      if (!o[1].tpFlat) continue; // the planner's outlines (parts), not redrawn edges
      counts[ctx.D.reps.id[o[0]]] = o[1].tpParts.reduce(function (n, q) {
        return n + q.latlngs.length;
      }, 0);
    }
    ctx.status.dataset.outlineSegments = JSON.stringify(counts);
  });
}
