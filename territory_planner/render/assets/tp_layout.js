/* territory-planner map: page layout. #embed=1 (compare.html's frames) gives the map the whole frame
 * and folds the summary panel behind a "Summary" button, so that two maps side by side stay legible. */
/* exported tpLayout */
/* global pressed */
function tpLayout(ctx) {
  "use strict";
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.get("embed") !== "1") return;
  const map = ctx.map;
  const L_ = ctx.L;
  document.body.classList.add("tp-embed");
  const toggle = tpButton(L_, "tp-switch", "Summary", "show or hide the summary panel", function (b) {
    pressed(b, document.body.classList.toggle("tp-panel-open"));
  });
  const button = toggle.addTo(map).getContainer().querySelector("button");
  button.id = "tp-panel-toggle";
  pressed(button, document.body.classList.contains("tp-panel-open"));
  map.invalidateSize({ animate: false });
}

/* The panel's tables on a narrow screen (QA7 O5: at 390 px the table was cut at its In/out column, and
 * nothing said it scrolled sideways): the rep column stays in view while the table scrolls, and while
 * columns lie beyond the panel's right edge that edge fades and a line under the table says so. */
/* exported tpScrollCues */
function tpScrollCues(ctx) {
  "use strict";
  const legend = document.getElementById("tp-legend");
  if (!legend) return;
  const cues = [];
  legend.querySelectorAll(".tp-scroll").forEach(function (scroll) {
    const hint = document.createElement("div");
    hint.className = "tp-more-hint";
    hint.hidden = true;
    scroll.parentNode.insertBefore(hint, scroll.nextSibling);
    cues.push([scroll, hint]);
  });
  function update() {
    for (const [scroll, hint] of cues) {
      const hidden = scroll.scrollWidth - scroll.clientWidth - scroll.scrollLeft;
      const more = scroll.offsetParent !== null && hidden > 1;
      scroll.classList.toggle("tp-more-right", more);
      if (more) {
        const right = scroll.getBoundingClientRect().right;
        const head = scroll.querySelector("table:not([hidden]) thead tr");
        const cut = head
          ? Array.from(head.children).filter(function (th) {
              return th.getBoundingClientRect().right > right + 1;
            }).length
          : 0;
        // "swipe" on a touch screen, "scroll" with a mouse (QA27 F20)
        const verb = window.matchMedia && window.matchMedia("(pointer: fine)").matches ? "scroll" : "swipe";
        hint.textContent = "\u2190 " + verb + " the table: " + cut + " more column" + (cut === 1 ? "" : "s") + " \u2192";
      }
      hint.hidden = !more;
    }
    ctx.status.dataset.scrollCues = cues
      .filter(function (c) {
        return !c[1].hidden;
      })
      .length.toString();
  }
  const watch = typeof ResizeObserver === "function" ? new ResizeObserver(update) : null;
  for (const [scroll] of cues) {
    scroll.addEventListener("scroll", update, { passive: true });
    if (watch) {
      watch.observe(scroll);
      scroll.querySelectorAll("table").forEach(function (t) {
        watch.observe(t);
      });
    }
  }
  window.addEventListener("resize", update);
  update();
}
