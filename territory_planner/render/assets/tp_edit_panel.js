/* territory-planner map: the Edit mode's controls, selection and live balance table.
 *
 * The panel sits in the summary panel (#tp-legend): tools, the selection, "give to rep", undo/redo,
 * "Download edits.csv", the last message (a refusal is shown in red, with its reason) and a balance table
 * that is redrawn after every change: accounts, each measure with its target and deviation (cells outside
 * the band shaded), moved in/out (against the current reps) and travel. Everything is built with
 * createElement/textContent.
 */
/* exported tpEditPanel */
/* global pressed, tpEl */
function tpEditPanel(ctx, model) {
  "use strict";
  const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const map = ctx.map;
  const L_ = ctx.L;
  const D = ctx.D;
  const A = D.acc;
  const R = D.reps;
  const n = A.id.length;
  const nReps = R.n;
  const legend = document.getElementById("tp-legend");
  const staticTable = legend ? legend.querySelector(".tp-scroll") : null;
  const status = ctx.status;

  const el = tpEl;
  function compact(v) {
    if (v === null || v === undefined || !isFinite(v)) return "n/a";
    const a = Math.abs(v);
    for (const [size, suffix] of [
      [1e9, "B"],
      [1e6, "M"],
      [1e3, "k"],
    ]) {
      if (a >= size) return String(Number((v / size).toPrecision(3))) + suffix;
    }
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  }
  function amount(measure, v) {
    return measure.money ? ctx.money(v, compact) : compact(v); // money measures carry the currency
  }
  // One column of the table: one unit (the largest value's) and one number of decimals (three
  // significant digits for the largest value) in every row, "$9.00M" beside "$8.49M" (QA8 O7); below
  // 1,000 money and whole numbers stay whole; a value too small for the column's precision keeps its own
  // short form. As formatting.short_column on the Python side.
  function columnTexts(measure, values) {
    const finite = values.filter(function (v) {
      return v !== null && v !== undefined && isFinite(v);
    });
    let top = 0;
    for (const v of finite) top = Math.max(top, Math.abs(v));
    top = Number(top.toPrecision(3)); // as it reads: 999,600 is 1.00M
    let size = 1;
    let suffix = "";
    for (const [s, x] of [
      [1e9, "B"],
      [1e6, "M"],
      [1e3, "k"],
    ]) {
      // a count or workload below 10,000 keeps its digits, as formatting.short_column (QA41 F6)
      if (top >= s && (measure.money || top >= 1e4)) {
        size = s;
        suffix = x;
        break;
      }
    }
    const whole = size === 1 && (measure.money || finite.every(Number.isInteger));
    const digits = whole || top <= 0 ? 0 : Math.min(Math.max(2 - Math.floor(Math.log10(top / size)), 0), 3);
    return values.map(function (v) {
      if (v === null || v === undefined || !isFinite(v)) return "n/a";
      const text = size === 1 ? grouped(pyFixed(Math.abs(v), digits)) : pyFixed(Math.abs(v) / size, digits);
      if (v !== 0 && Number(text.replace(/,/g, "")) === 0) return amount(measure, v);
      const shown = v === 0 ? "0" : text + suffix;
      return measure.money
        ? ctx.money(v, function () {
            return shown;
          })
        : (v < 0 ? "-" : "") + shown;
    });
  }
  // A number with d decimals as Python's format writes it, so that the panel's and report.html's
  // numbers and this table's agree: the double's exact value rounded (2.675 is 2.67499...: "2.67"), an
  // exact tie to even (372.5: "372"). QA70 F4, QA71 F2: 372 beside 373, 2.67 beside 2.68.
  function pyFixed(x, d) {
    const exact = x.toFixed(100); // the double's exact decimal digits (a table's amounts end within 100)
    const dot = exact.indexOf(".");
    if (/^50*$/.test(exact.slice(dot + 1 + d))) {
      const kept = exact.slice(0, d ? dot + 1 + d : dot); // an exact tie: to the even neighbour
      return Number(kept[kept.length - 1]) % 2 === 0 ? kept : (Number(kept) + Math.pow(10, -d)).toFixed(d);
    }
    return x.toFixed(d); // otherwise the exact value's nearest (ECMAScript's toFixed)
  }
  function grouped(text) {
    const parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }
  function pct(v) {
    if (v === null || !isFinite(v)) return "n/a";
    const s = v.toFixed(1);
    return s === "-0.0" ? "+0.0" : (v >= 0 ? "+" : "") + s; // never "-0.0" (QA41 F6), as the panel
  }

  // ---- selection -----------------------------------------------------------------------------------
  const selected = new Uint8Array(n);
  let nSelected = 0;
  const isPolygon = ctx.layers.map(function (l) {
    return !l.getLatLng;
  });
  function highlight(i, on) {
    const layer = ctx.layers[i];
    if (isPolygon[i]) layer.setStyle(on ? { color: "#ffd400", weight: 3 } : { color: "#ffffff", weight: 0.6 });
    else layer.setStyle(on ? { color: "#111111", weight: 3 } : { color: "#333333", weight: 0.7 });
    if (on && isPolygon[i]) layer.bringToFront();
  }
  function select(rows, mode) {
    if (mode === "replace") {
      for (let i = 0; i < n; i++) {
        if (selected[i]) {
          selected[i] = 0;
          highlight(i, false);
        }
      }
      nSelected = 0;
    }
    for (const i of rows) {
      const on = mode === "toggle" ? !selected[i] : mode !== "remove";
      if (on === !!selected[i]) continue;
      selected[i] = on ? 1 : 0;
      nSelected += on ? 1 : -1;
      highlight(i, on);
    }
    showSelection();
  }
  function selectionRows() {
    const out = [];
    for (let i = 0; i < n; i++) if (selected[i]) out.push(i);
    return out;
  }

  // ---- the controls --------------------------------------------------------------------------------
  const box = el("section", { id: "tp-edit", hidden: "" });
  const tools = el("div", { class: "tp-edit-tools", role: "group", "aria-label": "selection tool" });
  const toolButtons = {};
  for (const [key, label, title] of [
    ["pointer", "Click", "click an account to select it, shift-click to add or remove; shift-drag draws a box"],
    ["box", "Box", "drag a rectangle to select (shift: add to the selection)"],
    ["lasso", "Lasso", "draw around accounts to select them (shift: add to the selection)"],
  ]) {
    const b = el("button", { type: "button", id: "tp-tool-" + key, title: title, "aria-pressed": "false" }, label);
    b.dataset.tool = key;
    tools.appendChild(b);
    toolButtons[key] = b;
  }
  const clearBtn = el("button", { type: "button", id: "tp-edit-clear" }, "Clear");
  tools.appendChild(clearBtn);
  // the keyboard's way to select (tp_find.js fills it): an account, area or territory by id or name
  const findLine = el("div", { class: "tp-edit-line tp-find" });
  const selInfo = el("div", { id: "tp-edit-selection", class: "tp-edit-line" }, "");
  const assignLine = el("div", { class: "tp-edit-line" });
  const repSelect = el("select", { id: "tp-edit-rep", "aria-label": "rep to give the selection to" });
  for (let j = 0; j < nReps; j++) repSelect.appendChild(el("option", { value: String(R.id[j]) }, ctx.repLabel(j)));
  const assignBtn = el("button", { type: "button", id: "tp-edit-assign" }, "Give to rep");
  assignLine.append(el("span", {}, "Give the selection to "), repSelect, assignBtn);
  const hint = el("div", { class: "tp-edit-hint" }, "or click a rep's home (\u25c6) on the map");
  // an older plan folder does not say which segments each rep serves: say that they are not checked
  const segNote = el("div", { class: "tp-edit-hint", id: "tp-edit-seg-note" }, model.segNote);
  if (!model.segNote) segNote.hidden = true;
  // a contiguous plan whose adjacency the folder no longer holds: say that pieces are not counted
  const contigNote = el("div", { class: "tp-edit-hint", id: "tp-edit-contig-note" }, model.contigNote);
  if (!model.contigNote) contigNote.hidden = true;
  const actions = el("div", { class: "tp-edit-line" });
  const undoBtn = el("button", { type: "button", id: "tp-edit-undo", title: "Ctrl+Z" }, "Undo");
  const redoBtn = el("button", { type: "button", id: "tp-edit-redo", title: "Ctrl+Shift+Z" }, "Redo");
  const downloadBtn = el("button", { type: "button", id: "tp-edit-download" }, "Download edits.csv");
  const resetBtn = el("button", { type: "button", id: "tp-edit-reset" }, "Discard edits");
  actions.append(undoBtn, redoBtn, downloadBtn, resetBtn);
  const msg = el("div", { id: "tp-edit-msg", role: "status", "aria-live": "polite" });
  const dropLocked = el("button", { type: "button", id: "tp-edit-drop-locked", hidden: "" }, "");
  box.append(tools, findLine, selInfo, assignLine, hint, segNote, contigNote, actions, msg, dropLocked);

  // ---- the live balance table ----------------------------------------------------------------------
  const live = el("div", { id: "tp-live", hidden: "" });
  const liveSummary = el("div", { class: "tp-live-summary" });
  const scroll = el("div", { class: "tp-scroll" });
  const table = el("table");
  const head = el("tr");
  head.appendChild(el("th", { class: "tp-rep" }, "Rep"));
  head.appendChild(el("th", { title: "accounts" }, "Accts"));
  for (const m of model.measures) {
    head.appendChild(el("th", { title: m.label }, m.short));
    head.appendChild(el("th", { title: m.label + " target" }, "target"));
    // a measure the plan does not balance has no band (tol null): muted, never shaded (QA8 O1)
    head.appendChild(
      m.balanced && m.tol !== null
        ? el("th", { title: "deviation from target, % (band \u00b1" + m.tol + "%)" }, "\u0394%")
        : el(
            "th",
            { class: "tp-unbal", title: "deviation from target, %; " + m.label + " is not balanced in this plan: no band" },
            "\u0394%"
          )
    );
  }
  head.appendChild(el("th", { title: "accounts moved in from another current rep" }, "In"));
  head.appendChild(el("th", { title: "accounts moved out to another rep" }, "Out"));
  head.appendChild(el("th", { title: "workload x km to the rep's home" }, "Travel"));
  const countsPieces = model.contigLevels.indexOf("territory") >= 0;
  if (countsPieces) {
    head.appendChild(el("th", { title: "connected pieces of the territory (the plan asks for one)" }, "Pieces"));
  }
  const thead = el("thead");
  thead.appendChild(head);
  const tbody = el("tbody");
  const cells = [];
  for (let j = 0; j < nReps; j++) {
    const tr = el("tr");
    tr.dataset.liveRep = String(R.id[j]);
    const name = el("td", { class: "tp-rep", title: ctx.repLabel(j) });
    const sw = el("span", { class: "tp-swatch" });
    sw.style.background = R.color[j];
    name.append(sw, document.createTextNode(ctx.repCell(j)));
    tr.appendChild(name);
    const row = { accounts: el("td"), m: [], moved_in: el("td"), moved_out: el("td"), travel: el("td") };
    tr.appendChild(row.accounts);
    for (let k = 0; k < model.measures.length; k++) {
      const c = { value: el("td"), target: el("td"), dev: el("td") };
      c.dev.dataset.measure = model.measures[k].key;
      if (!model.measures[k].balanced || model.measures[k].tol === null) c.dev.className = "tp-unbal";
      tr.append(c.value, c.target, c.dev);
      row.m.push(c);
    }
    tr.append(row.moved_in, row.moved_out, row.travel);
    if (countsPieces) {
      row.pieces = el("td");
      row.pieces.dataset.pieces = "";
      tr.appendChild(row.pieces);
    }
    ctx.zoomRow(tr, j);
    tbody.appendChild(tr);
    cells.push(row);
  }
  table.append(thead, tbody);
  scroll.appendChild(table);
  live.append(liveSummary, scroll);

  // while hand edits exist, the header's status, gap, moves and deviations are the solved plan's: said
  // above them, with the count (QA27 F13: a screenshot of an edited map claimed the solved plan's 7.7%)
  const asSolved = el("div", { class: "tp-edit-hint", id: "tp-as-solved", hidden: "" }, "");
  if (legend) {
    const meta = legend.querySelector(".tp-meta");
    if (meta) meta.parentNode.insertBefore(asSolved, meta);
    legend.insertBefore(box, meta ? meta.nextSibling : legend.firstChild);
    legend.insertBefore(live, box.nextSibling);
  }

  function put(cell, text) {
    if (cell.textContent !== text) cell.textContent = text; // unchanged cells keep the layout valid
  }
  // The level tables of the summary panel (district, region: legend.level_table) follow the edits: per
  // group its accounts, potential and workload summed over its reps, against the sum of their targets,
  // shaded outside the level's band (QA20 F9: they kept their values from before the edits).
  // the level tables (district, region) redrawn from the live totals; returns each level's count of
  // cells outside its band, for the status line (QA31 F7: it counted the territories' cells only)
  function drawLevels(t) {
    const offCount = {};
    if (!D.levels || !legend) return offCount;
    const tolOf = (D.edit && D.edit.levelTol) || {};
    const keys = ["potential", "workload"];
    const measures = keys.map(function (key) {
      return model.measures.find(function (m) {
        return m.key === key;
      });
    });
    for (const level in D.levels) {
      const lv = D.levels[level];
      const tableEl = legend.querySelector('table[data-level="' + level + '"]:not([data-view="before"])');
      if (!tableEl || !tableEl.tBodies.length) continue;
      const G = lv.names.length;
      const accounts = new Array(G).fill(0);
      const sums = keys.map(function () {
        return new Array(G).fill(0);
      });
      const targets = keys.map(function () {
        return new Array(G).fill(0);
      });
      for (let j = 0; j < nReps; j++) {
        const g = lv.of[j];
        if (g === undefined || g < 0) continue;
        const r = t[R.id[j]];
        accounts[g] += r.accounts;
        keys.forEach(function (key, k) {
          sums[k][g] += r[key] || 0;
          targets[k][g] += r[key + "_target"] || 0;
        });
      }
      const texts = keys.map(function (key, k) {
        return measures[k] ? columnTexts(measures[k], sums[k]) : sums[k].map(compact);
      });
      const tol = tolOf[level] || {};
      // a level without a band (no tolerance given for it) has no cell to count
      const banded = Object.values(tol).some(function (b) {
        return b !== null && b !== undefined;
      });
      if (banded) offCount[level] = 0;
      for (const tr of tableEl.tBodies[0].rows) {
        const g = lv.names.indexOf(tr.dataset.group);
        if (g < 0 || tr.cells.length < 7) continue;
        put(tr.cells[2], nf.format(accounts[g]));
        keys.forEach(function (key, k) {
          const dev = targets[k][g] > 0 ? (100 * (sums[k][g] - targets[k][g])) / targets[k][g] : null;
          const cell = tr.cells[4 + 2 * k];
          put(tr.cells[3 + 2 * k], texts[k][g]);
          put(cell, pct(dev));
          const band = tol[key];
          const off = band !== null && band !== undefined && dev !== null && Math.abs(dev) > band + 1e-4;
          if (cell.classList.contains("tp-unbal")) return;
          cell.classList.toggle("tp-off", off);
          if (off && banded) offCount[level]++;
        });
      }
    }
    return offCount;
  }
  function drawTable() {
    const t = model.api.totals();
    const levelsOff = drawLevels(t);
    const columns = model.measures.map(function (m) {
      const of = function (key) {
        // the plan's reps: R.id also lists reps the plan no longer has (the Current view colours their
        // accounts), which have no totals (QA43 F6: the editor was dead on the rep-departure example)
        return R.id.slice(0, nReps).map(function (id) {
          return t[id][key];
        });
      };
      return { value: columnTexts(m, of(m.key)), target: columnTexts(m, of(m.key + "_target")) };
    });
    let out = 0;
    let travel = 0;
    let moved = 0;
    const pieces = model.api.pieces();
    let split = 0;
    for (let j = 0; j < nReps; j++) {
      const r = t[R.id[j]];
      const c = cells[j];
      put(c.accounts, nf.format(r.accounts));
      model.measures.forEach(function (m, k) {
        const dev = r[m.key + "_dev_pct"];
        put(c.m[k].value, columns[k].value[j]);
        put(c.m[k].target, columns[k].target[j]);
        put(c.m[k].dev, pct(dev));
        // the planner's own check allows 1e-6 of a band's end (float sums): 1e-4 of a percent here
        const off = m.balanced && m.tol !== null && dev !== null && Math.abs(dev) > m.tol + 1e-4;
        c.m[k].dev.classList.toggle("tp-out", off);
        if (off) out++;
      });
      put(c.moved_in, nf.format(r.moved_in));
      put(c.moved_out, nf.format(r.moved_out));
      put(c.travel, nf.format(Math.round(r.travel_km)));
      if (c.pieces) {
        const p = pieces.territory[R.id[j]];
        put(c.pieces, nf.format(p));
        c.pieces.dataset.pieces = String(p);
        c.pieces.classList.toggle("tp-out", p > 1);
        if (p > 1) split++;
      }
      travel += r.travel_km;
      moved += r.moved_in;
    }
    const edited = model.editedRows().length;
    const change = model.travelPlan > 0 ? (100 * (travel - model.travelPlan)) / model.travelPlan : 0;
    const b = model.api.budget();
    const budgetText = b
      ? " (" +
        (100 * b.share).toFixed(1) +
        "% of potential" +
        (b.departed ? " from reps who stay" : "") +
        "; budget " +
        (100 * b.limit).toFixed(1) +
        "%" +
        (b.over ? ": over budget" : "") +
        ")"
      : "";
    status.dataset.budgetOver = b && b.over ? "1" : "0";
    // without a current alignment nothing can be said to move, not "0 moved" (QA70 F3)
    const aligned = A.cur.some(function (c) {
      return c >= 0;
    });
    liveSummary.textContent =
      nf.format(edited) +
      " account(s) edited by hand \u00b7 " +
      (aligned ? nf.format(moved) + " moved from their current rep" : "no current alignment, so no moves") +
      budgetText +
      " \u00b7 travel (workload \u00d7 km) " +
      nf.format(Math.round(travel)) +
      " (" +
      (change >= 0 ? "+" : "") +
      change.toFixed(1) +
      "% vs the plan) \u00b7 " +
      out +
      " territory cell(s) out of band" +
      Object.keys(levelsOff)
        .map(function (level) {
          return " \u00b7 " + levelsOff[level] + " " + level + " cell(s) out of band";
        })
        .join("") +
      piecesText(split, pieces.district);
    status.dataset.edits = String(edited);
    status.dataset.split = String(split);
    asSolved.hidden = edited === 0;
    asSolved.textContent = edited
      ? "As solved, before your " +
        nf.format(edited) +
        " hand edit(s): the edited plan's balance, moves and travel are in the table below"
      : "";
    status.dataset.outOfBand = String(out);
    for (const level in levelsOff) status.dataset[level + "OutOfBand"] = String(levelsOff[level]);
    updateMovedLabel(moved);
  }

  // " · 2 territories in pieces · district D01 in 3 pieces" (nothing when every one is connected)
  function piecesText(split, districts) {
    let text = "";
    if (split) text += " \u00b7 " + nf.format(split) + (split === 1 ? " territory" : " territories") + " in pieces";
    let districtsSplit = 0;
    for (const name in districts || {}) {
      if (districts[name] > 1) {
        text += " \u00b7 district " + name + " in " + nf.format(districts[name]) + " pieces";
        districtsSplit++;
      }
    }
    status.dataset.districtsSplit = String(districtsSplit);
    return text;
  }

  function updateMovedLabel(moved) {
    const labels = ctx.control.getContainer().querySelectorAll(".leaflet-control-layers-overlays label span");
    for (const s of labels) {
      // the label's own text span (the outer span also holds the checkbox)
      if (s.children.length === 0 && /^\s*Moved accounts \(/.test(s.textContent)) {
        s.textContent = " Moved accounts (" + nf.format(moved) + ")";
      }
    }
  }

  function showSelection() {
    const rows = selectionRows();
    let pot = 0;
    let wl = 0;
    for (const i of rows) {
      pot += A.pot[i] || 0;
      wl += A.wl[i] || 0;
    }
    selInfo.textContent = nSelected
      ? nf.format(nSelected) + " selected \u00b7 potential " + ctx.money(pot, compact) + " \u00b7 workload " + compact(wl)
      : "nothing selected";
    status.dataset.selected = String(nSelected);
    assignBtn.disabled = nSelected === 0;
    clearBtn.disabled = nSelected === 0;
  }

  function showMessage() {
    const m = model.message();
    msg.textContent = m.text;
    msg.classList.toggle("tp-refused", m.refused);
    status.dataset.message = m.text;
    // A refusal because of locked accounts, or accounts of a segment the rep does not serve, in the
    // selection: offer to leave them out.
    const blocked = model.lastBlocked();
    const leave = m.refused ? leaving(blocked) : [];
    const inRows = new Set(m.refused && blocked ? blocked.rows : []); // a Set: no quadratic scan of a big selection
    const own = leave.filter(function (i) {
      return inRows.has(i);
    }).length;
    dropLocked.hidden = leave.length === 0;
    dropLocked.textContent =
      "Leave the " +
      nf.format(leave.length) +
      (blocked.why === "segment" ? " account(s) of a segment this rep does not serve" : " locked account(s)") +
      (own < leave.length ? " or of their families" : "") +
      " out of the selection";
  }
  // the selected accounts a refusal rests on: barred or locked themselves, or through a family member
  function leaving(blocked) {
    return blocked.leave.filter(function (i) {
      return selected[i];
    });
  }
  dropLocked.addEventListener("click", function () {
    select(leaving(model.lastBlocked()), "toggle");
    dropLocked.hidden = true;
    keepFocus(dropLocked, [assignBtn]);
  });

  let editing = false;
  // the district and region tables (shown by the level switch) stay in view while the live table
  // replaces the rep table: they move under it, and back when the edits are gone (QA20 F9)
  const levelTables = staticTable
    ? Array.prototype.filter.call(staticTable.querySelectorAll("table[data-level]"), function (tbl) {
        // the Current view's tables (today's alignment) stay behind: the live tables are the edited plan's
        return tbl.dataset.level !== "territory" && tbl.dataset.view !== "before";
      })
    : [];
  let levelsLive = false;
  function showLive() {
    const on = editing || model.editedRows().length > 0;
    live.hidden = !on;
    // the live table is wider than the plan's: the panel keeps the Edit mode's width while it shows
    // (QA27 F20: outside the Edit mode, with edits kept, its In/Out columns were cut at the panel's edge)
    if (document.body.classList.contains("tp-edited") !== on) {
      document.body.classList.toggle("tp-edited", on);
      map.invalidateSize({ animate: false }); // the map is narrower (or wider) now
    }
    if (staticTable) staticTable.hidden = on;
    if (on !== levelsLive) {
      for (const tbl of levelTables) (on ? scroll : staticTable).appendChild(tbl);
      levelsLive = on;
    }
    undoBtn.disabled = !model.canUndo();
    redoBtn.disabled = !model.canRedo();
    resetBtn.disabled = model.editedRows().length === 0;
  }

  model.on(function (what) {
    if (what === "message") showMessage();
    else {
      drawTable();
      showLive();
    }
  });

  // ---- edit mode on/off ----------------------------------------------------------------------------
  let toggleBtn = null;
  const EditToggle = L_.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      const c = L_.DomUtil.create("div", "leaflet-bar tp-switch");
      toggleBtn = L_.DomUtil.create("button", "tp-switch-btn", c);
      toggleBtn.type = "button";
      toggleBtn.id = "tp-edit-toggle";
      toggleBtn.textContent = "\u270e Edit";
      toggleBtn.title = "edit the plan: select accounts and give them to a rep";
      toggleBtn.setAttribute("aria-pressed", "false");
      L_.DomEvent.on(toggleBtn, "click", function (e) {
        L_.DomEvent.stop(e);
        setEditing(!editing);
      });
      L_.DomEvent.disableClickPropagation(c);
      return c;
    },
  });
  new EditToggle().addTo(map);

  const ui = {
    select: select,
    selectionRows: selectionRows,
    tool: "pointer",
    isEditing: function () {
      return editing;
    },
    onTool: null,
    isSelected: function (i) {
      return selected[i] === 1;
    },
    findLine: findLine,
    findInput: null, // the find field (tp_find.js): where focus goes when its control is gone
  };

  // Focus never drops to the page (QA91 F1: after "Give to rep" it went to <body>, the next Tab started
  // again at the zoom buttons): when the control that had it is disabled or hidden by what it did, the
  // first usable of `others` takes it, else the find field.
  function usable(c) {
    return c && !c.disabled && !c.hidden && c.getClientRects().length > 0;
  }
  function keepFocus(control, others) {
    if (document.activeElement !== control && document.activeElement !== document.body) return;
    if (usable(control)) return;
    const next = others.concat([ui.findInput]).find(usable);
    if (next) next.focus();
  }
  // run an action from a panel button, keeping the focus in the panel
  function act(button, others, action) {
    button.addEventListener("click", function () {
      const had = document.activeElement === button;
      action();
      if (had) keepFocus(button, others);
    });
  }

  function setTool(key) {
    ui.tool = key;
    for (const k in toolButtons) pressed(toolButtons[k], k === key);
    if (ui.onTool) ui.onTool(key);
  }
  function setEditing(on) {
    editing = !!on;
    document.body.classList.toggle("tp-editing", editing);
    if (editing) document.body.classList.add("tp-panel-open"); // embedded maps fold the panel away
    box.hidden = !editing;
    pressed(toggleBtn, editing);
    if (editing && ctx.view() !== "after" && window.tpSwitch) window.tpSwitch("after");
    if (!editing) select([], "replace");
    setTool("pointer");
    showLive();
    drawTable();
    showSelection();
    map.invalidateSize({ animate: false });
    status.dataset.editing = editing ? "1" : "0";
    if (editing) map.fire("tpediton");
    return editing;
  }
  ui.setEditing = setEditing;

  for (const key in toolButtons) {
    toolButtons[key].addEventListener("click", function () {
      setTool(key);
    });
  }
  act(clearBtn, [], function () {
    select([], "replace");
  });
  // after a give the selection is empty and the button disabled: the find field takes the focus, ready
  // for the next account
  act(assignBtn, [], function () {
    const j = model.repOf.get(repSelect.value);
    if (model.assignRows(selectionRows(), j)) select([], "replace");
  });
  act(undoBtn, [redoBtn], function () {
    model.api.undo();
  });
  act(redoBtn, [undoBtn], function () {
    model.api.redo();
  });
  act(resetBtn, [undoBtn], function () {
    model.api.reset();
  });
  downloadBtn.addEventListener("click", function () {
    const blob = new Blob([model.api.exportEdits()], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: "edits.csv" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
    model.say(nf.format(model.editedRows().length) + " edit(s) downloaded as edits.csv", false);
  });
  // Ctrl+Z, Ctrl+Shift+Z and Esc, except in a field that has its own use for them (the empty find field
  // has none: focus lands there after a give, and Ctrl+Z then undoes the give)
  document.addEventListener("keydown", function (e) {
    const field = e.target instanceof HTMLInputElement && !(e.target === ui.findInput && e.target.value === "");
    if (!editing || field || e.target instanceof HTMLSelectElement) return;
    const had = document.activeElement;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") {
      e.preventDefault();
      if (e.shiftKey) model.api.redo();
      else model.api.undo();
    } else if (e.key === "Escape") select([], "replace");
    if (box.contains(had)) keepFocus(had, e.key === "Escape" ? [] : e.shiftKey ? [undoBtn] : [redoBtn]);
  });

  // Ids for scripts: select by account id, read the selection, and where an account or a rep's home is
  // on the screen (page pixels), so that a test can click it with the mouse.
  ui.selectIds = function (ids, mode) {
    const rows = [];
    for (const id of typeof ids === "string" ? [ids] : ids) {
      const r = model.rowOf.get(String(id));
      if (r !== undefined) rows.push(r);
    }
    select(rows, mode || "replace");
    return nSelected;
  };
  ui.selectionIds = function () {
    return selectionRows().map(function (i) {
      return String(A.id[i]);
    });
  };
  ui.point = function (id, kind) {
    let ll;
    if (kind === "home") {
      const j = model.repOf.get(String(id));
      if (j === undefined || !R.home[j]) return null;
      ll = L_.latLng(R.home[j][0], R.home[j][1]);
    } else {
      const i = model.rowOf.get(String(id));
      if (i === undefined) return null;
      const layer = ctx.layers[i];
      ll = layer.getLatLng ? layer.getLatLng() : L_.latLng(A.lat[i], A.lon[i]);
    }
    const p = map.latLngToContainerPoint(ll);
    const r = map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  };

  showSelection();
  showLive();
  status.dataset.editing = "0";
  return ui;
}
