/* territory-planner map: country, state (and county) outlines from the packaged boundary layers, for
 * maps without tiles. D.base holds delta-encoded lines on a grid (see render/boundaries.py); they are
 * drawn under everything else, on their own canvas, and take no clicks. The country lines hold no US
 * border or coast (the state lines draw them), so nothing is drawn twice. */
/* exported tpBase */
function tpBase(ctx) {
  "use strict";
  const B = ctx.D.base;
  if (!B) return;
  const map = ctx.map;
  const L_ = ctx.L;
  const p = map.createPane("tpBase");
  p.style.zIndex = "350";
  p.style.pointerEvents = "none";
  const renderer = L_.canvas({ pane: "tpBase", padding: 0.3 });
  function decode(line) {
    const out = [];
    let x = 0;
    let y = 0;
    for (let k = 0; k < line.length; k += 2) {
      x += line[k];
      y += line[k + 1];
      out.push([y * B.grid, x * B.grid]);
    }
    return out;
  }
  const styles = {
    counties: { color: "#b9c2cc", weight: 0.6, opacity: 0.9 },
    states: { color: "#7d8894", weight: 1.3, opacity: 0.9 },
    countries: { color: "#7d8894", weight: 1.3, opacity: 0.9 },
  };
  let drawn = 0;
  for (const kind of ["countries", "counties", "states"]) {
    if (!B[kind] || !B[kind].length) continue;
    L_.polyline(B[kind].map(decode), Object.assign({ renderer: renderer, interactive: false }, styles[kind])).addTo(
      map,
    );
    drawn += B[kind].length;
  }
  ctx.status.dataset.baseLines = String(drawn);
}
