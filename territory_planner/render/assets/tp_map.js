/* territory-planner map: draws the plan from compact JSON onto folium's layers.
 *
 * Every text that comes from the plan (ids, names, segments, reasons) reaches the page through
 * textContent only, never innerHTML. Accounts are canvas circle markers (or canvas polygons for area
 * units), one loop, no per-marker objects in the HTML. The before/after switch is a pair of Leaflet
 * base layers; choosing one recolours the accounts and moves them into the layer of the rep that owns
 * them in that view. URL fragment hooks (for tests and links): #view=before, #probe=<account_id>,
 * #popup=1 (open the probe's popup).
 */
/* exported tpInit */
// the opening view zooms in no closer than a town: accounts that all lie at one point (a single office's
// accounts geocoded to its city centre) opened at the tiles' last zoom, on an empty canvas (QA61 F6)
const OPENING_MAX_ZOOM = 13;
// failed tiles, with none loaded, before the map says that its background could not load
const TILE_ERRORS = 4;
function tpInit(map, L_, refs) {
  "use strict";
  const t0 = performance.now();
  const D = JSON.parse(document.getElementById("tp-data").textContent);
  const A = D.acc;
  const R = D.reps;
  const nReps = R.n;
  const groups = refs.groups;
  const other = refs.other;
  const n = A.id.length;
  const status = document.getElementById("tp-status");

  // An online map whose tiles do not load (a network that lets the page's scripts through but not the
  // tile server) drew the plan on a blank background and said nothing (QA91 F9): after a few failed
  // tiles and none loaded, a notice says why and how to draw a map that needs no network.
  function watchTiles() {
    const notice = document.getElementById("tp-notiles");
    if (!notice) return;
    map.eachLayer(function (layer) {
      if (!(layer instanceof L_.TileLayer)) return;
      let loaded = 0;
      let failed = 0;
      layer.on("tileload", function () {
        loaded += 1;
        notice.hidden = true;
      });
      layer.on("tileerror", function () {
        failed += 1;
        if (loaded || failed < TILE_ERRORS) return;
        notice.hidden = false;
        status.dataset.error = "tiles";
      });
    });
  }

  function pane(name, z) {
    const p = map.createPane(name);
    p.style.zIndex = String(z);
    return p;
  }
  pane("tpUnits", 405);
  pane("tpLines", 420);
  pane("tpPoints", 450);
  const rUnits = L_.canvas({ pane: "tpUnits", padding: 0.3 });
  const rLines = L_.canvas({ pane: "tpLines", padding: 0.3 });
  const rPoints = L_.canvas({ pane: "tpPoints", padding: 0.3, tolerance: 2 });
  // The canvases are stacked and only the top one gets the mouse: the moved lines take none, and a
  // click or hover that hits no point falls through to the area units below.
  map.getPane("tpLines").style.pointerEvents = "none";
  for (const name of ["_onClick", "_onMouseMove"]) {
    const own = rPoints[name];
    rPoints[name] = function (e) {
      if (!rUnits._map) return own.call(this, e);
      const p = map.mouseEventToLayerPoint(e);
      let hit = false;
      for (let o = this._drawFirst; o && !hit; o = o.next) {
        hit = o.layer.options.interactive && o.layer._containsPoint(p);
      }
      if (hit || name === "_onMouseMove") own.call(this, e);
      if (!hit) rUnits[name](e);
    };
  }

  function groupOf(rep) {
    return rep >= 0 && rep < nReps ? groups[rep] : other;
  }
  // Colouring level: "territory" (one colour per rep), "district" or "region" (one per group).
  let level = "territory";
  function colourOf(rep) {
    const lv = D.levels && level !== "territory" ? D.levels[level] : null;
    if (lv && rep >= 0 && rep < nReps) return lv.of[rep] >= 0 ? lv.color[lv.of[rep]] : "#9e9e9e";
    return rep >= 0 ? R.color[rep] : "#9e9e9e";
  }
  function repLabel(rep) {
    if (rep < 0) return "\u2014";
    const name = R.name[rep];
    const suffix = rep >= nReps ? " (no longer a rep)" : "";
    return (name && name !== R.id[rep] ? name + " (" + R.id[rep] + ")" : R.id[rep]) + suffix;
  }
  // A table cell's label: the id first, so that an ellipsis cuts the name, never the id (QA7).
  function repCell(rep) {
    const name = R.name[rep];
    return name && name !== R.id[rep] ? R.id[rep] + " " + name : R.id[rep];
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "n/a";
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits });
  }
  // Money as the report writes it: the plan's currency before the amount ("$1,234", "EUR 1,234",
  // "1,234" for none); D.cur is that prefix, made on the Python side (currency.currency_prefix).
  function money(v, text) {
    if (v === null || v === undefined || !isFinite(v)) return "n/a";
    return (v < 0 ? "-" : "") + (D.cur || "") + text(Math.abs(v));
  }
  function whole(v) {
    return fmt(v, 0);
  }

  // Detach the layers while filling them: adding to a layer that is on the map redraws each time.
  // The layer control leaves the map meanwhile: on the map it rebuilds its whole list each time one of
  // its layers is removed or added, n^2 label rebuilds (QA7: 9 s to open a 200-rep map, now one build).
  refs.control.remove();
  const onMap = new Map();
  for (const g of groups.concat(other ? [other] : [], [refs.moved])) {
    onMap.set(g, map.hasLayer(g));
    map.removeLayer(g);
  }

  const unitRow = new Map();
  const unitCur = new Map(); // an area's current rep as the Current view draws it (most of its potential)
  if (D.units) {
    D.units.row.forEach(function (row, k) {
      unitRow.set(row, D.units.geom[k]);
      if (D.units.cur) unitCur.set(row, D.units.cur[k]);
    });
  }
  function curShown(i) {
    return unitCur.has(i) ? unitCur.get(i) : A.cur[i];
  }
  const rMin = D.radius[0];
  const rMax = D.radius[1];
  const maxPot = D.maxPot > 0 ? D.maxPot : 1;
  const layers = new Array(n);
  let nMarkers = 0;
  let nPolygons = 0;
  for (let i = 0; i < n; i++) {
    const rep = A.rep[i];
    let layer;
    const geom = unitRow.get(i);
    if (geom) {
      layer = L_.polygon(L_.GeoJSON.coordsToLatLngs(geom[1], geom[0]), {
        renderer: rUnits,
        color: "#ffffff",
        weight: 0.6,
        fillColor: colourOf(rep),
        fillOpacity: 0.6,
      });
      nPolygons++;
    } else {
      const pot = A.pot[i] > 0 ? A.pot[i] : 0;
      layer = L_.circleMarker([A.lat[i], A.lon[i]], {
        renderer: rPoints,
        radius: rMin + (rMax - rMin) * Math.sqrt(pot / maxPot),
        color: "#333333",
        weight: 0.7,
        fillColor: colourOf(rep),
        fillOpacity: 0.85,
      });
      nMarkers++;
    }
    layer.tpRow = i;
    layers[i] = layer;
    groupOf(rep).addLayer(layer);
  }

  // Outlines of area plans leave out the parts too small on screen to show their fill inside the stroke
  // (QA92 F5c: at 1400 px the Sulu islands and Fiji were near black under the territory outline): a
  // part narrower or lower than OUTLINE_MIN_PX is drawn again once a zoom makes it that large.
  const OUTLINE_MIN_PX = 8;
  const partOutlines = []; // polygons whose parts are filtered by their size on screen
  function partOutline(o, style) {
    const parts = (o[1] === 2 ? o[2] : [o[2]]).map(function (part) {
      const latlngs = L_.GeoJSON.coordsToLatLngs(part, 1);
      return { latlngs: latlngs, bounds: L_.latLngBounds(latlngs[0]) };
    });
    const line = L_.polygon(
      parts.map(function (q) {
        return q.latlngs;
      }),
      style
    );
    line.tpParts = parts;
    line.tpShown = parts.length;
    partOutlines.push(line);
    return line;
  }
  // a part that is always drawn (``always``: the edges of a redrawn outline that join other units)
  function shownParts(line) {
    return line.tpParts.filter(function (q) {
      if (q.always) return true;
      const a = map.project(q.bounds.getSouthWest());
      const b = map.project(q.bounds.getNorthEast());
      return Math.abs(b.x - a.x) >= OUTLINE_MIN_PX && Math.abs(b.y - a.y) >= OUTLINE_MIN_PX;
    });
  }
  function fitOutline(line) {
    const keep = shownParts(line);
    if (keep.length === line.tpShown) return keep;
    line.tpShown = keep.length;
    const latlngs = keep.map(function (q) {
      return q.latlngs;
    });
    // a redrawn outline (a polyline of edges) takes its parts' edges as one list
    line.setLatLngs(line.tpFlat ? [].concat(...latlngs) : latlngs);
    return keep;
  }
  function fitOutlines() {
    let shown = 0;
    let total = 0;
    let edges = 0; // of the Edit mode's redrawn outlines, drawn now
    for (const line of partOutlines) {
      const keep = fitOutline(line);
      total += line.tpParts.length;
      shown += keep.length;
      if (line.tpFlat) {
        for (const q of keep) edges += q.latlngs.length;
      }
    }
    status.dataset.outlineParts = shown + "/" + total;
    status.dataset.outlineEdges = String(edges);
  }
  // the Edit mode's redrawn outlines (tp_outlines.js) are filtered the same way (QA95 F1: after an edit,
  // even undone, the touched territories' islets were black again), and a replaced one leaves the count
  const outlineParts = {
    add: function (line) {
      line.tpShown = -1; // drawn by the next fit
      partOutlines.push(line);
    },
    remove: function (line) {
      const k = partOutlines.indexOf(line);
      if (k >= 0) partOutlines.splice(k, 1);
    },
    fit: fitOutlines,
  };

  // Territory outlines of area plans, one set per view.
  const outlines = { after: [], before: [] };
  if (D.units) {
    for (const view of ["after", "before"]) {
      for (const o of D.units[view]) {
        const line = partOutline(o, {
          renderer: rUnits,
          color: "#222222",
          weight: 2,
          fill: false,
          interactive: false,
        });
        outlines[view].push([o[0], line]);
      }
    }
    for (const o of outlines.after) groupOf(o[0]).addLayer(o[1]);
  }
  // District outlines of area plans (proposed alignment), drawn over the territory outlines.
  const districtLines = L_.layerGroup();
  if (D.units && D.units.district) {
    for (const o of D.units.district) {
      districtLines.addLayer(
        partOutline(o, {
          renderer: rLines,
          color: "#000000",
          weight: 4,
          fill: false,
          interactive: false,
        })
      );
    }
    districtLines.addTo(map);
  }

  // Rep homes: a diamond in the rep colour; a dashed outline when the planner chose the centre.
  // Its size follows the zoom: homes a few km apart in one city overlapped one another and hid the
  // small tracts downtown at the opening zoom (QA13 12), so a diamond is never wider than the gap to the
  // nearest other home on screen (an 18-px icon at most, 8 px at least).
  let nHomes = 0;
  const homeMarkers = [];
  const HOME_MAX = 18;
  const HOME_MIN = 8;
  let homeSize = HOME_MAX;
  function homeIcon(j) {
    const inner = Math.round((12 * homeSize) / HOME_MAX);
    const margin = Math.max(0, Math.floor((homeSize - inner - 4) / 2));
    return L_.divIcon({
      className: "tp-home" + (R.chosen[j] ? " tp-home-chosen" : ""),
      html:
        '<span style="background:' + colourOf(j) + ";width:" + inner + "px;height:" + inner +
        "px;margin:" + margin + 'px"></span>',
      iconSize: [homeSize, homeSize],
      iconAnchor: [homeSize / 2, homeSize / 2],
    });
  }
  // The opening view keeps every rep's home clear of the map's own controls (QA27 F2: at 1400x900 the
  // Raleigh home sat under the expanded layer list, the Memphis one beside the Edit button): when a home
  // falls under the controls of a side, the plan is fitted again with that side's controls as padding.
  function controlRects() {
    const sides = { left: ".leaflet-top.leaflet-left", right: ".leaflet-top.leaflet-right" };
    const rects = {};
    for (const side in sides) {
      const corner = map.getContainer().querySelector(sides[side]);
      rects[side] = [];
      if (!corner) continue;
      for (const el of corner.children) {
        const r = el.getBoundingClientRect();
        if (r.width && r.height) rects[side].push(r);
      }
    }
    return rects;
  }
  // per side, how many homes the controls of that side cover (8 px around each control)
  function homesUnder(rects, box) {
    const under = { left: 0, right: 0 };
    for (const m of homeMarkers) {
      const p = map.latLngToContainerPoint(m.getLatLng());
      const x = p.x + box.left;
      const y = p.y + box.top;
      for (const side in rects) {
        if (rects[side].some((r) => x >= r.left - 8 && x <= r.right + 8 && y >= r.top - 8 && y <= r.bottom + 8)) {
          under[side]++;
        }
      }
    }
    return under;
  }
  function clearOfControls(bounds) {
    const box = map.getContainer().getBoundingClientRect();
    const rects = controlRects();
    const under = homesUnder(rects, box);
    const report = function () {
      const now = homesUnder(rects, box);
      status.dataset.homesUnderControls = String(now.left + now.right);
    };
    if (!under.left && !under.right) return report();
    const widest = function (side) {
      let w = 0;
      for (const r of rects[side]) w = Math.max(w, side === "left" ? r.right - box.left : box.right - r.left);
      return w + 12;
    };
    // never more than half the map's width for the controls: a small map keeps its fit
    const cap = box.width / 2;
    const sides = { left: !!under.left, right: !!under.right };
    // a fit clear of one side's controls can push a home under the other's: then both sides are padded
    for (let round = 0; round < 2; round++) {
      const left = sides.left ? Math.min(widest("left"), cap) : 30;
      const right = sides.right ? Math.min(widest("right"), cap) : 30;
      map.fitBounds(bounds, {
        paddingTopLeft: [left, 30],
        paddingBottomRight: [right, 30],
        maxZoom: OPENING_MAX_ZOOM,
        animate: false,
      });
      const now = homesUnder(rects, box);
      if ((!now.left || sides.left) && (!now.right || sides.right)) break;
      sides.left = sides.left || !!now.left;
      sides.right = sides.right || !!now.right;
    }
    report();
  }

  function fitHomes() {
    const points = homeMarkers.map(function (m) {
      return map.project(m.getLatLng());  // not rounded to whole pixels, as latLngToLayerPoint is
    });
    let gap = Infinity;
    for (let a = 0; a < points.length; a++) {
      for (let b = a + 1; b < points.length; b++) {
        const d = points[a].distanceTo(points[b]);
        if (d > 0) gap = Math.min(gap, d);  // two reps at one place share it whatever the size
      }
    }
    // the diamond is a square turned 45 degrees: its width on screen is about 1.3 times the icon's
    const size = Math.max(HOME_MIN, Math.min(HOME_MAX, Math.floor(gap / 1.3)));
    if (size === homeSize) return;
    homeSize = size;
    for (const marker of homeMarkers) marker.setIcon(homeIcon(marker.tpHome));
  }
  for (let j = 0; j < nReps; j++) {
    const h = R.home[j];
    if (!h) continue;
    const icon = homeIcon(j);
    const marker = L_.marker(h, { icon: icon, keyboard: false, zIndexOffset: 1000 });
    marker.tpHome = j;
    homeMarkers.push(marker);
    groups[j].addLayer(marker);
    nHomes++;
  }

  // Moved accounts: old rep's home -> account -> new rep's home (one line per account, kept in
  // movedLines so that edits in the map can redraw the line of the accounts they move).
  let nLines = 0;
  const many = A.moved.reduce(function (s, m) {
    return s + m;
  }, 0) > 300;
  const movedLines = new Map();
  function movedLine(i) {
    const old = movedLines.get(i);
    if (old) {
      refs.moved.removeLayer(old);
      movedLines.delete(i);
      nLines--;
    }
    if (!A.moved[i]) return;
    const pts = [];
    const from = A.cur[i] >= 0 ? R.home[A.cur[i]] : null;
    const to = R.home[A.rep[i]];
    if (from) pts.push(from);
    pts.push([A.lat[i], A.lon[i]]);
    if (to) pts.push(to);
    if (pts.length < 2) return;
    const line = L_.polyline(pts, {
      renderer: rLines,
      color: colourOf(A.rep[i]),
      weight: many ? 1.2 : 2,
      opacity: many ? 0.6 : 0.9,
      dashArray: "5 4",
      interactive: false,
    });
    line.tpRow = i;
    refs.moved.addLayer(line);
    movedLines.set(i, line);
    nLines++;
  }
  for (let i = 0; i < n; i++) if (A.moved[i]) movedLine(i);

  // Areas holding named accounts only (--areas with named accounts): no unit of the plan, so no polygon of
  // their own; drawn hatched in the colour of the rep holding most of their named potential, with a dashed
  // outline, so that the county does not read as unassigned (QA6: Guilford, Durham and New Hanover were
  // white holes in the NC cities' map). Recoloured with the view, the level and the editor's changes.
  const namedGroup = L_.featureGroup();
  const namedAreas = ((D.units && D.units.named) || []).map(function (na, k) {
    const layer = L_.polygon(L_.GeoJSON.coordsToLatLngs(na[0][1], na[0][0]), {
      renderer: rUnits,
      color: "#333333",
      weight: 1.2,
      dashArray: "5 4",
      fillOpacity: 1,
    });
    layer.tpNamed = k;
    namedGroup.addLayer(layer);
    return { layer: layer, rows: na[1], area: na[2], name: na[3] || "", owner: -1, share: 0 };
  });
  const hatches = new Map();
  // A canvas pattern as the fill (Leaflet's canvas renderer hands fillColor to fillStyle): the rep's
  // colour, light, crossed by stripes of it.
  function hatch(colour) {
    if (!hatches.has(colour)) {
      const c = document.createElement("canvas");
      c.width = c.height = 8;
      const g = c.getContext("2d");
      g.globalAlpha = 0.3;
      g.fillStyle = colour;
      g.fillRect(0, 0, 8, 8);
      g.globalAlpha = 0.95;
      g.strokeStyle = colour;
      g.lineWidth = 2;
      g.beginPath();
      for (const o of [-8, 0, 8]) {
        g.moveTo(o, 8);
        g.lineTo(o + 8, 0);
      }
      g.stroke();
      hatches.set(colour, g.createPattern(c, "repeat"));
    }
    return hatches.get(colour);
  }
  function namedOwner(rows, before) {
    const pot = new Map();
    let total = 0;
    for (const i of rows) {
      const j = before ? A.cur[i] : A.rep[i];
      const v = Math.max(A.pot[i] || 0, 0);
      pot.set(j, (pot.get(j) || 0) + v);
      total += v;
    }
    let best = -1;
    let most = -1;
    for (const [j, v] of pot) {
      if (v > most || (v === most && j >= 0 && (best < 0 || j < best))) {
        best = j;
        most = v;
      }
    }
    return [best, total > 0 ? most / total : 1];
  }
  function namedCard(k) {
    const na = namedAreas[k];
    const box = document.createElement("div");
    box.className = "tp-card";
    const title = document.createElement("div");
    title.className = "tp-card-title";
    // the areas file's name ("Guilford County") when it has one, its id beside it (polish8: "Area 37081")
    title.textContent = (na.name || "Area " + na.area) + ": named accounts only";
    box.appendChild(title);
    const table = document.createElement("table");
    if (na.name) row(table, "Area", na.area);
    row(
      table,
      "Accounts",
      na.rows
        .map(function (i) {
          return A.name[i] || A.id[i];
        })
        .join(", "),
    );
    row(table, "Coloured as", repLabel(na.owner) + " (" + Math.round(100 * na.share) + "% of their potential)");
    box.appendChild(table);
    return box;
  }
  function refreshNamed() {
    const before = view === "before";
    for (const na of namedAreas) {
      [na.owner, na.share] = namedOwner(na.rows, before);
      na.layer.setStyle({ fillColor: hatch(colourOf(na.owner)) });
    }
    status.dataset.namedAreas = namedAreas
      .map(function (na) {
        return na.area + ":" + (na.owner >= 0 ? R.id[na.owner] : "");
      })
      .join(",");
  }

  // Tooltips and popups: one shared tooltip, content built with textContent.
  function row(table, key, value) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = key;
    td.textContent = value;
    tr.appendChild(th);
    tr.appendChild(td);
    table.appendChild(tr);
  }
  function accountCard(i) {
    const box = document.createElement("div");
    box.className = "tp-card";
    const title = document.createElement("div");
    title.className = "tp-card-title";
    title.textContent = A.name[i] || A.id[i];
    box.appendChild(title);
    const table = document.createElement("table");
    row(table, "Account", A.id[i]);
    row(table, "Potential", money(A.pot[i], whole));
    row(table, "Workload", fmt(A.wl[i], 1));
    if (A.seg) row(table, "Segment", A.seg[i] || "\u2014");
    row(table, "New rep", repLabel(A.rep[i]));
    row(table, "Current rep", repLabel(A.cur[i]));
    const why = D.reasons[A.why[i]];
    row(table, "Moved", A.moved[i] ? "yes" + (why ? " (" + why + ")" : "") : "no");
    if (A.dist[i] !== null) row(table, "To new rep", fmt(A.dist[i], 1) + " km");
    box.appendChild(table);
    return box;
  }
  // The accounts at a rep's home (the same point to 4 decimals): the diamond is drawn over them, so its
  // card shows them too (QA41 F9: Gothenburg, at its rep's home, could not be opened at the default zoom).
  const atHome = new Map();
  for (let j = 0; j < nReps; j++) {
    const h = R.home[j];
    if (h) atHome.set(h[0].toFixed(4) + "," + h[1].toFixed(4), []);
  }
  if (atHome.size && !D.units) {
    for (let i = 0; i < n; i++) {
      if (A.lat[i] === null || A.lon[i] === null) continue;
      const here = atHome.get(A.lat[i].toFixed(4) + "," + A.lon[i].toFixed(4));
      if (here) here.push(i);
    }
  }
  const HOME_ACCOUNTS_SHOWN = 3;
  function homeCard(j) {
    const box = document.createElement("div");
    box.className = "tp-card";
    const title = document.createElement("div");
    title.className = "tp-card-title";
    title.textContent = "Home of " + repLabel(j);
    box.appendChild(title);
    if (R.chosen[j]) {
      const note = document.createElement("div");
      note.textContent = "centre chosen by the planner";
      box.appendChild(note);
    }
    const here = atHome.get(R.home[j][0].toFixed(4) + "," + R.home[j][1].toFixed(4)) || [];
    for (const i of here.slice(0, HOME_ACCOUNTS_SHOWN)) box.appendChild(accountCard(i));
    if (here.length > HOME_ACCOUNTS_SHOWN) {
      const more = document.createElement("div");
      more.textContent = "and " + (here.length - HOME_ACCOUNTS_SHOWN) + " more account(s) here: zoom in";
      box.appendChild(more);
    }
    return box;
  }
  function card(layer) {
    if (layer.tpRow !== undefined) return accountCard(layer.tpRow);
    if (layer.tpHome !== undefined) return homeCard(layer.tpHome);
    if (layer.tpNamed !== undefined) return namedCard(layer.tpNamed);
    return null;
  }
  const tip = L_.tooltip({ direction: "top", offset: [0, -6], opacity: 0.95 });
  function latlngOf(layer) {
    return layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
  }
  function onOver(e) {
    const c = card(e.layer);
    if (!c) return;
    tip.setLatLng(e.layer.getLatLng ? e.layer.getLatLng() : e.latlng);
    tip.setContent(c);
    map.openTooltip(tip);
  }
  function onOut() {
    map.closeTooltip(tip);
  }
  // Popups pan the map so that they are inside it and clear of the controls in its top corners (the
  // view switch, the level switch, Edit, the layer control): Leaflet's own autopan knows only the edges.
  function cornerBox(side) {
    let box = null;
    map
      .getContainer()
      .querySelectorAll(".leaflet-top.leaflet-" + side + " .leaflet-control")
      .forEach(function (c) {
        const r = c.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return;
        box = box
          ? {
              left: Math.min(box.left, r.left),
              right: Math.max(box.right, r.right),
              top: Math.min(box.top, r.top),
              bottom: Math.max(box.bottom, r.bottom),
            }
          : { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      });
    return box;
  }
  function overlaps(p, c) {
    return !(p.left >= c.right || p.right <= c.left || p.top >= c.bottom || p.bottom <= c.top);
  }
  function shifted(r, dx, dy) {
    return { left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy };
  }
  function fitPopup(popup) {
    const el = popup.getElement();
    if (!el) return;
    const m = map.getContainer().getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const gap = 8;
    let dx = 0;
    let dy = 0;
    if (r.top < m.top + gap) dy = m.top + gap - r.top;
    if (r.left < m.left + gap) dx = m.left + gap - r.left;
    else if (r.right > m.right - gap) dx = m.right - gap - r.right;
    const boxes = [];
    for (const side of ["left", "right"]) {
      const c = cornerBox(side);
      if (c) boxes.push(Object.assign({ side: side }, c));
    }
    const p = shifted(r, dx, dy);
    if (boxes.some((c) => overlaps(p, c))) {
      // the shortest move that clears every control: sideways past one corner (staying inside the
      // map), or down below the controls it spans
      const clear = (q) => !boxes.some((c) => overlaps(q, c)) && q.left >= m.left && q.right <= m.right;
      const below = boxes.filter((c) => !(p.left >= c.right || p.right <= c.left));
      const down = Math.max(...below.map((c) => c.bottom)) + gap - p.top;
      let best = [0, down];
      for (const c of boxes) {
        const sx = c.side === "left" ? c.right + gap - p.left : c.left - gap - p.right;
        if (Math.abs(sx) < Math.abs(best[0]) + Math.abs(best[1]) && clear(shifted(p, sx, 0))) best = [sx, 0];
      }
      dx += best[0];
      dy += best[1];
    }
    if (dx || dy) map.panBy([-dx, -dy], { animate: false });
    status.dataset.popupPan = Math.round(dx) + "," + Math.round(dy);
  }
  function openPopup(layer, latlng) {
    const c = card(layer);
    if (!c) return;
    const popup = L_.popup({ maxWidth: 320, autoPan: false });
    popup.setLatLng(latlng || latlngOf(layer)).setContent(c).openOn(map);
    fitPopup(popup);
  }
  // A click opens the popup, unless a handler (the editor) claims it first by returning true.
  const clickHandlers = [];
  for (const g of groups.concat(other ? [other] : [], [namedGroup])) {
    g.on("mouseover", onOver);
    g.on("mouseout", onOut);
    g.on("click", function (e) {
      map.closeTooltip(tip);
      for (const h of clickHandlers) if (h(e)) return;
      openPopup(e.layer, e.latlng);
    });
  }

  for (const [g, was] of onMap) if (was) map.addLayer(g);
  if (namedAreas.length) namedGroup.addTo(map);
  refs.control.addTo(map);

  // Legend rows zoom to their territory: a click on the row, or Enter/Space on the rep's name, a button
  // the keyboard reaches with Tab (QA91 F1: the rows could not be focused).
  function zoomRow(tr, j) {
    tr.style.cursor = "pointer";
    tr.addEventListener("click", function () {
      const b = groups[j].getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [30, 30], maxZoom: 12 });
    });
    const cell = tr.querySelector("td.tp-rep");
    if (!cell) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "tp-zoom";
    button.title = "zoom to this territory";
    button.append.apply(button, Array.from(cell.childNodes));
    cell.appendChild(button);
  }
  document.querySelectorAll("#tp-legend tr[data-rep], #tp-legend tr[data-cur-rep]").forEach(function (tr) {
    const j = R.id.indexOf(tr.dataset.rep || tr.dataset.curRep);
    if (j >= 0 && j < nReps) zoomRow(tr, j);
  });

  // Before/after.
  let view = "after";
  function applyView(next) {
    if (next === view) return;
    for (let i = 0; i < n; i++) {
      const cur = curShown(i);
      if (cur === A.rep[i]) continue;
      const from = next === "before" ? A.rep[i] : cur;
      const to = next === "before" ? cur : A.rep[i];
      const layer = layers[i];
      layer.setStyle({ fillColor: colourOf(to) });
      const gFrom = groupOf(from);
      const gTo = groupOf(to);
      if (gFrom !== gTo) {
        gFrom.removeLayer(layer);
        gTo.addLayer(layer);
      }
    }
    for (const o of outlines[view]) groupOf(o[0]).removeLayer(o[1]);
    for (const o of outlines[next]) groupOf(o[0]).addLayer(o[1]);
    view = next;
    document.body.classList.toggle("tp-view-before", view === "before");
    refreshNamed();
    markButtons();
    report();
  }
  // A visible two-button switch (same effect as the base layers of the layer control).
  const buttons = {};
  const ViewSwitch = L_.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const box = L_.DomUtil.create("div", "leaflet-bar tp-switch");
      for (const [key, label] of [
        ["after", "Proposed"],
        ["before", "Current"],
      ]) {
        const b = L_.DomUtil.create("button", "tp-switch-btn", box);
        b.type = "button";
        b.textContent = label;
        b.title = key === "after" ? "proposed alignment (after)" : "current alignment (before)";
        b.dataset.view = key;
        L_.DomEvent.on(b, "click", function (e) {
          L_.DomEvent.stop(e);
          window.tpSwitch(key);
        });
        buttons[key] = b;
      }
      L_.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  new ViewSwitch().addTo(map);
  function markButtons() {
    for (const key in buttons) pressed(buttons[key], key === view);
  }
  markButtons();
  refreshNamed();

  map.on("baselayerchange", function (e) {
    applyView(e.layer === refs.before ? "before" : "after");
  });
  window.tpSwitch = function (next) {
    const target = next === "before" ? refs.before : refs.after;
    const input = (refs.control._layerControlInputs || []).find(function (el) {
      return el.layerId === L_.stamp(target);
    });
    if (input) {
      if (!input.checked) input.click();
    } else {
      map.removeLayer(next === "before" ? refs.after : refs.before);
      map.addLayer(target);
    }
    return view;
  };

  // Level switch (territory / district / region), when the plan has districts or regions.
  // The legend follows: the panel shows the table of the chosen level (rep, district or region rows);
  // rep homes and moved-account lines take the level's colours too.
  function showLevelLegend() {
    document.querySelectorAll("#tp-legend table[data-level]").forEach(function (table) {
      table.hidden = table.dataset.level !== level;
    });
    for (const marker of homeMarkers) marker.setIcon(homeIcon(marker.tpHome));
    for (const line of movedLines.values()) line.setStyle({ color: colourOf(A.rep[line.tpRow]) });
    // the Edit mode's rep table too (QA41 F8: its swatches kept the territory colours)
    document.querySelectorAll("tr[data-live-rep] .tp-swatch").forEach(function (sw) {
      const j = R.id.indexOf(sw.closest("tr").dataset.liveRep);
      if (j >= 0) sw.style.background = colourOf(j);
    });
    // the layer control's swatches too: a territory's swatch in its district's colour (QA13 12: the
    // map in district colours, the control still in territory colours)
    for (const entry of refs.control._layers || []) {
      const j = groups.indexOf(entry.layer);
      if (j < 0 || typeof entry.name !== "string") continue;
      entry.name = entry.name.replace(/background:[^";]*/, "background:" + colourOf(j));
    }
    if (refs.control._map) refs.control._update();
  }
  window.tpLevel = function (next) {
    if (!D.levels || (next !== "territory" && !D.levels[next])) return level;
    level = next;
    for (let i = 0; i < n; i++) {
      layers[i].setStyle({ fillColor: colourOf(view === "before" ? curShown(i) : A.rep[i]) });
    }
    showLevelLegend();
    refreshNamed();
    if (view === "after" && D.units && D.units.district) {
      if (level === "region") map.removeLayer(districtLines);
      else map.addLayer(districtLines);
    }
    document.body.dataset.tpLevel = level;
    if (levelSelect) levelSelect.value = level;
    report();
    return level;
  };
  let levelSelect = null;
  if (D.levels) {
    const LevelSwitch = L_.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        const box = L_.DomUtil.create("div", "leaflet-bar tp-level");
        const select = L_.DomUtil.create("select", "tp-level-select", box);
        select.title = "colour by territory, district or region";
        for (const key of ["territory", "district", "region"]) {
          if (key !== "territory" && !D.levels[key]) continue;
          const opt = document.createElement("option");
          opt.value = key;
          opt.textContent = "Colour by " + key;
          select.appendChild(opt);
        }
        L_.DomEvent.on(select, "change", function () {
          window.tpLevel(select.value);
        });
        L_.DomEvent.disableClickPropagation(box);
        levelSelect = select;
        return box;
      },
    });
    new LevelSwitch().addTo(map);
    document.body.dataset.tpLevel = level;
  }

  // Status for tests and benchmarks, read back from the rendered DOM.
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const probeId = params.get("probe");
  const probe = probeId === null ? -1 : A.id.indexOf(probeId);
  function countTerritoryLayers() {
    const ctl = refs.control._layers || [];
    return ctl.filter(function (l) {
      return l.overlay && groups.indexOf(l.layer) >= 0;
    }).length;
  }
  function report() {
    status.dataset.ready = "1";
    status.dataset.view = view;
    status.dataset.level = level;
    status.dataset.districtLines = String(map.hasLayer(districtLines) ? districtLines.getLayers().length : 0);
    status.dataset.accounts = String(n);
    // Count what is on the map, not what was created.
    let onMarkers = 0;
    let onPolygons = 0;
    for (const layer of layers) {
      if (!layer || !map.hasLayer(layer)) continue;
      if (layer instanceof L_.CircleMarker) onMarkers++;
      else if (layer instanceof L_.Polygon) onPolygons++;
    }
    status.dataset.markers = String(onMarkers);
    status.dataset.polygons = String(onPolygons);
    status.dataset.created = String(nMarkers + nPolygons);
    status.dataset.homes = String(nHomes);
    status.dataset.homeSize = String(homeSize);
    status.dataset.zoom = String(map.getZoom());
    status.dataset.movedLines = String(nLines);
    status.dataset.layers = String(countTerritoryLayers());
    status.dataset.legendRows = String(document.querySelectorAll("#tp-legend tr[data-rep]").length);
    const shown = document.querySelector('#tp-legend table[data-level]:not([hidden]):not([data-view="before"])');
    status.dataset.legendLevel = shown ? shown.dataset.level : "";
    status.dataset.resources = performance
      .getEntriesByType("resource")
      .map(function (r) {
        return r.name;
      })
      .filter(function (u) {
        return !u.startsWith("data:");
      })
      .join(" ");
    if (probe >= 0) {
      const layer = layers[probe];
      status.dataset.probeFill = layer.options.fillColor;
      let owner = "";
      groups.forEach(function (g, j) {
        if (g.hasLayer(layer)) owner = R.id[j];
      });
      status.dataset.probeLayer = owner;
    }
  }
  function probePixel() {
    if (probe < 0 || !layers[probe].getLatLng || !map.hasLayer(layers[probe])) return;
    const ctx = rPoints._ctx;
    const p = map.latLngToLayerPoint(layers[probe].getLatLng()).subtract(rPoints._bounds.min);
    const k = window.devicePixelRatio || 1;
    const px = ctx.getImageData(Math.round(p.x * k), Math.round(p.y * k), 1, 1).data;
    status.dataset.probePixel = px[0] + "," + px[1] + "," + px[2] + "," + px[3];
  }

  // The editor (tp_edit.js) works on the same layers, through this context.
  const ctx = {
    map: map,
    L: L_,
    D: D,
    layers: layers,
    groups: groups,
    outlines: outlines,
    outlineParts: outlineParts,
    renderers: { units: rUnits, lines: rLines, points: rPoints },
    refreshNamed: refreshNamed,
    colourOf: colourOf,
    groupOf: groupOf,
    repLabel: repLabel,
    repCell: repCell,
    zoomRow: zoomRow,
    fmt: fmt,
    money: money,
    movedLine: movedLine,
    movedCount: function () {
      return nLines;
    },
    probing: probe >= 0,
    clickHandlers: clickHandlers,
    view: function () {
      return view;
    },
    report: report,
    status: status,
    control: refs.control,
    movedGroup: refs.moved,
  };
  if (typeof tpBase === "function") tpBase(ctx);
  if (typeof tpLayout === "function") tpLayout(ctx);
  if (typeof tpEdit === "function") tpEdit(ctx);
  if (typeof tpPrint === "function") tpPrint(ctx);
  if (typeof tpScrollCues === "function") tpScrollCues(ctx);
  watchTiles();

  // a few accounts far from the rest (Alaska, Guam) are left out of the opening view: a button shows them
  const opening = refs.view || refs.bounds;
  map.fitBounds(opening, { padding: [30, 30], maxZoom: OPENING_MAX_ZOOM, animate: false });
  clearOfControls(opening);
  if (refs.view) {
    const title =
      refs.outside + (refs.outside === 1 ? " account lies" : " accounts lie") + " outside the opening view";
    tpButton(L_, "tp-whole", "Whole plan", title, function () {
      map.fitBounds(refs.bounds, { padding: [30, 30], maxZoom: OPENING_MAX_ZOOM, animate: false });
      clearOfControls(refs.bounds);
    })
      .addTo(map)
      .getContainer()
      .querySelector("button")
      .classList.add("tp-whole-btn");
  }
  fitHomes();
  map.on("zoomend", fitHomes);
  fitOutlines();
  map.on("zoomend", fitOutlines);
  // the opening view: a map printed from it is fitted to the whole plan (QA48 F5: a rep's territory left
  // out of the opening view, Hawaii's, was left off the paper without a word), one zoomed keeps its place
  ctx.planBounds = refs.bounds;
  ctx.homeView = { center: map.getCenter(), zoom: map.getZoom() };
  // #view=before clicks the on-map button, which clicks the layer control's radio input: the same
  // path as a user's click.
  if (params.get("view") === "before") buttons.before.click();
  if (params.get("level")) window.tpLevel(params.get("level"));
  report();
  status.dataset.initMs = String(Math.round(performance.now() - t0));
  if (probe >= 0 && params.get("popup") === "1") openPopup(layers[probe]);
  // Canvas layers draw on animation frames, which headless browsers may not run: draw the points now
  // (Leaflet's own drawing code) so the probe reads the pixels a user would see.
  setTimeout(function () {
    if (rPoints._map) rPoints._redraw();
    probePixel();
    status.dataset.drawn = "1";
    status.dataset.drawnMs = String(Math.round(performance.now() - t0));
  }, 50);
}

/* An element with attributes and text (textContent: a plan's names never become markup), for the Edit
 * panel and its Select field. */
/* exported tpEl */
function tpEl(tag, attrs, text) {
  "use strict";
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

/* A toggle button's state: the dark fill, and aria-pressed for assistive technology (QA91 F1). */
/* exported pressed */
function pressed(button, on) {
  "use strict";
  button.classList.toggle("tp-active", on);
  button.setAttribute("aria-pressed", on ? "true" : "false");
}

/* A one-button control at the map's top left ("Whole plan", the phone layout's "Summary"): a Leaflet
 * control whose button runs ``onClick(button)`` and lets no click through to the map. */
/* exported tpButton */
function tpButton(L_, cls, label, title, onClick) {
  "use strict";
  const Button = L_.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const box = L_.DomUtil.create("div", "leaflet-bar " + cls);
      const b = L_.DomUtil.create("button", "tp-switch-btn", box);
      b.type = "button";
      b.textContent = label;
      b.title = title;
      L_.DomEvent.on(b, "click", function (e) {
        L_.DomEvent.stop(e);
        onClick(b);
      });
      L_.DomEvent.disableClickPropagation(box);
      return box;
    },
  });
  return new Button();
}
