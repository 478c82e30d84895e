/* territory-planner map: selecting accounts in Edit mode with the mouse.
 *
 * Click an account to select it (shift-click adds or removes it); click empty map to clear. Drag with
 * the Box tool (or shift-drag with Click) for a rectangle, with the Lasso tool for a free shape; holding
 * shift adds to the selection. Click a rep's home to give it the selection. Only accounts shown on the
 * map can be selected (a rep switched off in the layer control keeps its accounts). The hit test first
 * keeps the accounts inside the shape's latitude/longitude box (exact for a rectangle: the map is Web
 * Mercator) and tests only those against the lasso, in screen pixels.
 */
/* exported tpSelect */
function tpSelect(ctx, model, ui) {
  "use strict";
  const map = ctx.map;
  const L_ = ctx.L;
  const A = ctx.D.acc;
  const n = A.id.length;
  const layers = ctx.layers;
  const container = map.getContainer();
  const status = ctx.status;

  // Clicks on accounts and homes (the map script asks us first).
  ctx.clickHandlers.push(function (e) {
    if (!ui.isEditing()) return false;
    L_.DomEvent.stopPropagation(e);
    const shift = !!(e.originalEvent && e.originalEvent.shiftKey);
    if (e.layer.tpRow !== undefined) {
      ui.select([e.layer.tpRow], shift ? "toggle" : "replace");
    } else if (e.layer.tpHome !== undefined) {
      if (model.assignRows(ui.selectionRows(), e.layer.tpHome)) ui.select([], "replace");
    }
    return true;
  });
  map.on("click", function (e) {
    if (ui.isEditing() && ui.tool === "pointer" && !(e.originalEvent && e.originalEvent.shiftKey)) {
      ui.select([], "replace");
    }
  });

  // The shape being drawn, in an SVG layer over the map (no map redraw while dragging).
  const SVG = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "tp-draw");
  const shape = document.createElementNS(SVG, "polygon");
  svg.appendChild(shape);
  container.appendChild(svg);

  ui.onTool = function (tool) {
    container.classList.toggle("tp-drawing-tool", tool !== "pointer");
    if (tool === "pointer" || !ui.isEditing()) map.dragging.enable();
    else map.dragging.disable();
    if (ui.isEditing()) map.boxZoom.disable();
    else map.boxZoom.enable();
  };

  let drag = null;
  let suppressClick = false;
  let maxMoveMs = 0;
  function at(e) {
    const r = container.getBoundingClientRect();
    return L_.point(e.clientX - r.left, e.clientY - r.top);
  }
  function drawShape() {
    let pts = drag.pts;
    if (drag.tool === "box" && pts.length > 1) {
      const a = pts[0];
      const b = pts[pts.length - 1];
      pts = [a, L_.point(b.x, a.y), b, L_.point(a.x, b.y)];
    }
    shape.setAttribute(
      "points",
      pts
        .map(function (p) {
          return p.x + "," + p.y;
        })
        .join(" "),
    );
  }

  container.addEventListener(
    "mousedown",
    function (e) {
      if (!ui.isEditing() || e.button !== 0) return;
      const tool = ui.tool === "pointer" ? (e.shiftKey ? "box" : null) : ui.tool;
      if (!tool || e.target.closest(".leaflet-control, .leaflet-marker-icon, .leaflet-popup")) return;
      e.preventDefault();
      e.stopPropagation();
      drag = { tool: tool, add: e.shiftKey, pts: [at(e)], moved: false };
      svg.classList.add("tp-active");
      drawShape();
    },
    true,
  );
  document.addEventListener("mousemove", function (e) {
    if (!drag) return;
    const t0 = performance.now();
    const p = at(e);
    const last = drag.pts[drag.pts.length - 1];
    if (drag.tool === "box") drag.pts[1] = p;
    else if (p.distanceTo(last) >= 2) drag.pts.push(p);
    drag.moved = drag.moved || p.distanceTo(drag.pts[0]) >= 3;
    drawShape();
    maxMoveMs = Math.max(maxMoveMs, performance.now() - t0);
  });
  document.addEventListener("mouseup", function () {
    if (!drag) return;
    const d = drag;
    drag = null;
    svg.classList.remove("tp-active");
    shape.setAttribute("points", "");
    if (!d.moved) return;
    suppressClick = true;
    setTimeout(function () {
      suppressClick = false;
    }, 0);
    const t0 = performance.now();
    const rows = hits(d.tool, d.tool === "box" ? [d.pts[0], d.pts[d.pts.length - 1]] : d.pts);
    ui.select(rows, d.add ? "add" : "replace");
    status.dataset.selectMs = String(Math.round(performance.now() - t0));
    status.dataset.moveMaxMs = maxMoveMs.toFixed(2);
    maxMoveMs = 0;
  });
  // The click that ends a drag is not a click on an account.
  container.addEventListener(
    "click",
    function (e) {
      if (suppressClick) {
        e.stopPropagation();
        suppressClick = false;
      }
    },
    true,
  );

  function inside(p, poly) {
    let hit = false;
    for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
      const pa = poly[a];
      const pb = poly[b];
      if (pa.y > p.y !== pb.y > p.y && p.x < ((pb.x - pa.x) * (p.y - pa.y)) / (pb.y - pa.y) + pa.x) hit = !hit;
    }
    return hit;
  }

  function hits(tool, pts) {
    if (tool === "lasso" && pts.length < 3) return [];
    const lls = pts.map(function (p) {
      return map.containerPointToLatLng(p);
    });
    let s = Infinity;
    let w = Infinity;
    let nn = -Infinity;
    let e = -Infinity;
    for (const ll of lls) {
      s = Math.min(s, ll.lat);
      nn = Math.max(nn, ll.lat);
      w = Math.min(w, ll.lng);
      e = Math.max(e, ll.lng);
    }
    const out = [];
    for (let i = 0; i < n; i++) {
      const la = A.lat[i];
      const lo = A.lon[i];
      if (la === null || la < s || la > nn || lo < w || lo > e) continue;
      if (!map.hasLayer(layers[i])) continue;
      if (tool === "lasso" && !inside(map.latLngToContainerPoint([la, lo]), pts)) continue;
      out.push(i);
    }
    return out;
  }
}
