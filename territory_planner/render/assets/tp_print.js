/* territory-planner map: printing. On paper the map is a handout: the map at a fixed size at the top of
 * the page, the summary panel's whole table under it, no buttons (tp_map.css, @media print). Leaflet lays
 * the map out for the screen, so before the print the map's box takes its printed size (body.tp-printing)
 * and the map is fitted to the plan (or to what the screen showed, when the planner zoomed or panned);
 * after it the screen view comes back. Chromium fires beforeprint for its print dialog and for
 * print-to-PDF (headless --print-to-pdf, page.pdf()).
 *
 * A canvas redrawn while the page is being printed prints from Chromium's record of its drawing calls,
 * and a canvas with many calls (262 Tokyo municipalities, the county lines) printed blank: each canvas is
 * copied, in one drawImage call, onto a canvas that prints in its place until afterprint. */
/* exported tpPrint */
function tpPrint(ctx) {
  "use strict";
  const map = ctx.map;
  const caption = document.getElementById("tp-print-view");
  let saved = null;

  function describe() {
    const level = document.body.dataset.tpLevel || "territory";
    const view = ctx.view() === "before" ? "current alignment (before the plan)" : "proposed alignment (the plan)";
    return "Map: " + view + ", coloured by " + (level === "territory" ? "rep" : level) + ".";
  }
  function copyCanvases() {
    map.getContainer().querySelectorAll("canvas:not(.tp-print-copy)").forEach(function (c) {
      if (!c.width || !c.height) return;
      const copy = document.createElement("canvas");
      copy.width = c.width;
      copy.height = c.height;
      copy.style.cssText = c.style.cssText;
      copy.className = c.className + " tp-print-copy";
      copy.getContext("2d").drawImage(c, 0, 0);
      c.classList.add("tp-print-source");
      c.parentNode.insertBefore(copy, c);
    });
  }
  function dropCopies() {
    map.getContainer().querySelectorAll("canvas.tp-print-copy").forEach(function (c) {
      c.remove();
    });
    map.getContainer().querySelectorAll("canvas.tp-print-source").forEach(function (c) {
      c.classList.remove("tp-print-source");
    });
  }
  function before() {
    if (saved) return;
    // compare.html's frames: the page gives each frame its printed size first (parents get beforeprint
    // before their frames), and the map is fitted to it as a page's map is to its printed box
    const embed = document.body.classList.contains("tp-embed");
    const home = ctx.homeView;
    // the opening view (the Edit panel's resize may have moved the centre by a fraction of a pixel)
    const atHome =
      home && map.getZoom() === home.zoom && map.project(map.getCenter()).distanceTo(map.project(home.center)) < 2;
    saved = { center: map.getCenter(), zoom: map.getZoom(), bounds: map.getBounds() };
    if (caption && !embed) caption.textContent = describe();
    if (!embed) document.body.classList.add("tp-printing");
    map.invalidateSize({ pan: false });
    if (atHome) map.fitBounds(ctx.planBounds, { padding: [12, 12], animate: false });
    else map.fitBounds(saved.bounds, { animate: false });
    // the view change redraws the canvases; draw them now, not on an animation frame after the print
    for (const key in ctx.renderers) if (ctx.renderers[key]._map) ctx.renderers[key]._redraw();
    copyCanvases();
    ctx.status.dataset.printed = String(Number(ctx.status.dataset.printed || "0") + 1);
    // whether the printed view holds the whole plan, and the map's printed size (the tests read them)
    ctx.status.dataset.printedWhole = map.getBounds().pad(1e-6).contains(ctx.planBounds) ? "1" : "0";
    const size = map.getSize();
    ctx.status.dataset.printedSize = size.x + "x" + size.y;
  }
  function after() {
    if (!saved) return;
    dropCopies();
    document.body.classList.remove("tp-printing");
    map.invalidateSize({ pan: false });
    map.setView(saved.center, saved.zoom, { animate: false });
    saved = null;
  }
  window.addEventListener("beforeprint", before);
  window.addEventListener("afterprint", after);
}
