/* territory-planner map: page layout. #embed=1 (compare.html's frames) gives the map the whole frame
 * and folds the summary panel behind a "Summary" button, so that two maps side by side stay legible. */
/* exported tpLayout */
function tpLayout(ctx) {
  "use strict";
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.get("embed") !== "1") return;
  const map = ctx.map;
  const L_ = ctx.L;
  document.body.classList.add("tp-embed");
  const Toggle = L_.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const c = L_.DomUtil.create("div", "leaflet-bar tp-switch");
      const b = L_.DomUtil.create("button", "tp-switch-btn", c);
      b.type = "button";
      b.id = "tp-panel-toggle";
      b.textContent = "Summary";
      b.title = "show or hide the summary panel";
      L_.DomEvent.on(b, "click", function (e) {
        L_.DomEvent.stop(e);
        const open = document.body.classList.toggle("tp-panel-open");
        b.classList.toggle("tp-active", open);
      });
      L_.DomEvent.disableClickPropagation(c);
      return c;
    },
  });
  new Toggle().addTo(map);
  map.invalidateSize({ animate: false });
}
