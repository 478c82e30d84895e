/* territory-planner map: Edit mode (the model of the edits, the live balance table, the public API).
 *
 * The plan's assignment is A.rep (rep index per account row); an edit changes it in place, recolours the
 * account, moves it into its new rep's layer and redraws its moved-account line, exactly as the
 * before/after switch does. Every change is an action (rows, reps before, reps after) on an undo stack;
 * the stacks are saved in localStorage under the plan's hash, so a reload replays them. The buttons and
 * window.territoryPlanner call the same functions. Texts from the plan reach the page as textContent only.
 */
/* exported tpEdit */
/* global tpSelect, tpFind, tpEditPanel, tpOutlines */
function tpEdit(ctx) {
  "use strict";
  const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const D = ctx.D;
  const E = D.edit;
  if (!E) return;
  const map = ctx.map;
  const L_ = ctx.L;
  const A = D.acc;
  const R = D.reps;
  const n = A.id.length;
  const nReps = R.n;
  const storageKey = "territory-planner:edits:" + E.hash;

  // ---- the plan as written (never changes) --------------------------------------------------------
  const orig = Int32Array.from(A.rep);
  const origMoved = A.moved.slice();
  const origWhy = A.why.slice();
  const origDist = A.dist.slice();
  D.reasons.push("manual edit in the map");
  const manualWhy = D.reasons.length - 1;
  const rowOf = new Map();
  for (let i = 0; i < n; i++) rowOf.set(String(A.id[i]), i);
  const repOf = new Map();
  for (let j = 0; j < nReps; j++) repOf.set(String(R.id[j]), j);
  const lockRep = new Int32Array(n).fill(-1); // -1 free, >= 0 locked to that rep, -2 locked elsewhere
  const lockText = new Map();
  E.lock.row.forEach(function (row, k) {
    lockRep[row] = E.lock.rep[k];
    lockText.set(row, E.lock.id[k]);
  });
  // The segments each rep serves (lower case; an empty set serves all). Null when the plan folder does not
  // record them (E.segNote then says so) or no account has a segment: nothing is checked.
  const repSegs =
    E.seg && A.seg
      ? E.seg.map(function (s) {
          return new Set(s);
        })
      : null;
  function segmentOf(i) {
    return String(A.seg[i] || "").trim();
  }
  function serves(j, i) {
    if (!repSegs || !repSegs[j] || !repSegs[j].size) return true;
    const s = segmentOf(i).toLowerCase();
    return s === "" || repSegs[j].has(s);
  }
  const famOf = new Int32Array(n).fill(-1);
  E.fam.forEach(function (f, k) {
    for (const row of f[1]) famOf[row] = k;
  });
  // [{key, label, short, col (a column of A) or values (per account), target: [per rep], tol (%), balanced}]
  const measures = E.measures;

  // ---- contiguity (--contiguous, --district-contiguous) ----------------------------------------------
  // Each territory's (district's) pieces over the plan's adjacency between account rows, counted as the
  // `edit` command counts them (QA26 F7: a hand edit that cut a territory in two was not flagged here).
  const C = E.contig && E.contig.levels && E.contig.levels.length ? E.contig : null;
  const contigLevels = C ? C.levels : [];
  const group = new Int32Array(n);
  const parent = new Int32Array(n);
  function root(x) {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
  // pieces per group, groups given per account row (-1: in no group, not counted)
  function countPieces(nGroups) {
    for (let i = 0; i < n; i++) parent[i] = i;
    for (let k = 0; k < C.u.length; k++) {
      const a = C.u[k];
      const b = C.v[k];
      if (group[a] < 0 || group[a] !== group[b]) continue;
      const ra = root(a);
      const rb = root(b);
      if (ra !== rb) parent[ra] = rb;
    }
    const counts = new Int32Array(nGroups);
    for (let i = 0; i < n; i++) if (group[i] >= 0 && root(i) === i) counts[group[i]]++;
    return counts;
  }
  // {territory: {rep id: pieces}, district: {district: pieces}} for the levels the plan asked to be
  // connected; {} when it asked for none
  function pieces() {
    const out = {};
    if (contigLevels.indexOf("territory") >= 0) {
      for (let i = 0; i < n; i++) group[i] = A.rep[i] < nReps ? A.rep[i] : -1;
      const c = countPieces(nReps);
      out.territory = {};
      for (let j = 0; j < nReps; j++) out.territory[R.id[j]] = c[j];
    }
    if (contigLevels.indexOf("district") >= 0) {
      for (let i = 0; i < n; i++) group[i] = A.rep[i] < nReps ? C.district[A.rep[i]] : -1;
      const c = countPieces(C.districts.length);
      out.district = {};
      C.districts.forEach(function (name, g) {
        out.district[name] = c[g];
      });
    }
    return out;
  }

  // ---- distances (great-circle, as the planner computes them) -------------------------------------
  const RAD = Math.PI / 180;
  const EARTH_KM = 6371.0088;
  function km(i, j) {
    const h = R.home[j];
    if (!h || A.lat[i] === null) return NaN;
    const p1 = A.lat[i] * RAD;
    const p2 = h[0] * RAD;
    const a =
      Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(((h[1] - A.lon[i]) * RAD) / 2) ** 2;
    return 2 * EARTH_KM * Math.asin(Math.sqrt(Math.min(1, Math.max(0, a))));
  }
  const distNow = new Float64Array(n);
  for (let i = 0; i < n; i++) distNow[i] = km(i, A.rep[i]);
  const travel0 = new Float64Array(nReps);
  for (let i = 0; i < n; i++) if (A.rep[i] < nReps) travel0[A.rep[i]] += (A.wl[i] || 0) * distNow[i];
  const travelPlan = travel0.reduce(function (s, v) {
    return s + v;
  }, 0);

  // ---- state ---------------------------------------------------------------------------------------
  const done = []; // actions: {rows: Int32Array, from: Int32Array, to: Int32Array}
  const undone = [];
  const touchedReps = new Set();
  const listeners = [];

  function setRep(i, j) {
    const old = A.rep[i];
    if (old === j) return;
    A.rep[i] = j;
    A.moved[i] = A.cur[i] >= 0 && A.cur[i] !== j ? 1 : 0;
    A.why[i] = j === orig[i] ? origWhy[i] : A.moved[i] ? manualWhy : 0;
    distNow[i] = km(i, j);
    A.dist[i] = j === orig[i] ? origDist[i] : Math.round(distNow[i] * 10) / 10;
    if (j === orig[i]) A.moved[i] = origMoved[i];
    touchedReps.add(old);
    touchedReps.add(j);
    if (ctx.view() === "after") {
      const layer = ctx.layers[i];
      layer.setStyle({ fillColor: ctx.colourOf(j) });
      regroup(layer, ctx.groupOf(old), ctx.groupOf(j));
    }
    ctx.movedLine(i);
  }

  // Move a layer to another rep's group. When both groups are shown (or both hidden) the layer stays
  // where it is on the canvas and only changes membership (what FeatureGroup.add/removeLayer do,
  // without taking it off the map and projecting it again: 1,000 moves in a few ms instead of ~100).
  function regroup(layer, gFrom, gTo) {
    if (gFrom === gTo) return;
    if (map.hasLayer(gFrom) !== map.hasLayer(gTo) || !gFrom.hasLayer(layer)) {
      gFrom.removeLayer(layer);
      gTo.addLayer(layer);
      return;
    }
    const id = L_.stamp(layer);
    delete gFrom._layers[id];
    layer.removeEventParent(gFrom);
    gTo._layers[id] = layer;
    layer.addEventParent(gTo);
  }

  function applyAction(rows, to) {
    for (let k = 0; k < rows.length; k++) setRep(rows[k], to[k]);
  }

  // ---- messages ------------------------------------------------------------------------------------
  let lastMessage = { text: "", refused: false };
  function say(text, refused) {
    lastMessage = { text: text, refused: !!refused };
    for (const f of listeners) f("message");
  }
  function accountLabel(i) {
    return A.name[i] ? A.name[i] + " (" + A.id[i] + ")" : String(A.id[i]);
  }

  // ---- assign / undo / redo -------------------------------------------------------------------------
  function withFamilies(rows) {
    const seen = new Uint8Array(n);
    const out = [];
    let grew = 0;
    for (const i of rows) {
      if (seen[i]) continue;
      seen[i] = 1;
      out.push(i);
      const f = famOf[i];
      if (f < 0) continue;
      for (const k of E.fam[f][1]) {
        if (seen[k]) continue;
        seen[k] = 1;
        out.push(k);
        grew++;
      }
    }
    return { rows: out, grew: grew };
  }

  // the accounts behind the last refusal: locked ones, or ones whose segment the rep does not serve, and
  // (leave) the accounts of the selection that bring them in: themselves, or a member of their family
  // (QA52 F9: the button left out the barred accounts selected, and a selected account whose family
  // member was barred kept the next give refused, with no button)
  let lastBlocked = { rows: [], why: "", leave: [] };
  function blocked(found, rows, why) {
    const fams = new Set();
    for (const k of found) if (famOf[k] >= 0) fams.add(famOf[k]);
    const mine = new Set(found);
    const leave = rows.filter(function (i) {
      return mine.has(i) || (famOf[i] >= 0 && fams.has(famOf[i]));
    });
    return { rows: found, why: why, leave: leave };
  }
  function assignRows(rows, j) {
    lastBlocked = { rows: [], why: "", leave: [] };
    if (!(j >= 0 && j < nReps)) return refuse("choose a rep of this plan");
    if (!rows.length) return refuse("select accounts first (click, shift-click, box or lasso)");
    const fam = withFamilies(rows);
    const locked = fam.rows.filter(function (i) {
      return lockRep[i] !== -1 && lockRep[i] !== j;
    });
    lastBlocked = blocked(locked, rows, "locked");
    if (locked.length) {
      const i = locked[0];
      const more = locked.length > 1 ? " (and " + nf.format(locked.length - 1) + " more)" : "";
      return refuse(
        accountLabel(i) + " is locked to " + lockText.get(i) + more + ": a locked account cannot be moved. " +
          "Nothing was changed.",
      );
    }
    // A segment decides who may serve an account at all (the planner never crosses one): refused like a
    // lock, with the segment, what the rep serves and who serves it.
    const barred = fam.rows.filter(function (i) {
      return !serves(j, i);
    });
    if (barred.length) {
      lastBlocked = blocked(barred, rows, "segment");
      const i = barred[0];
      const seg = segmentOf(i);
      const others = [];
      for (let k = 0; k < nReps; k++) if (k !== j && serves(k, i)) others.push(String(R.id[k]));
      const picked = rows.indexOf(i) >= 0 ? "" : " (family of the selection)";
      const more = barred.length > 1 ? " (and " + nf.format(barred.length - 1) + " more)" : "";
      const who = others.length
        ? "reps who serve it: " + others.slice(0, 6).join(", ") + (others.length > 6 ? ", ..." : "")
        : "no other rep of this plan serves it";
      return refuse(
        ctx.repLabel(j) + " does not serve segment \u201c" + seg + "\u201d of " + accountLabel(i) + picked + more +
          ": it serves " + Array.from(repSegs[j]).sort().join(", ") + "; " + who + ". Nothing was changed.",
      );
    }
    const change = fam.rows.filter(function (i) {
      return A.rep[i] !== j;
    });
    if (!change.length) {
      say("already with " + ctx.repLabel(j) + ": nothing to change", false);
      return true;
    }
    const action = {
      rows: Int32Array.from(change),
      from: Int32Array.from(change, function (i) {
        return A.rep[i];
      }),
      to: new Int32Array(change.length).fill(j),
    };
    applyAction(action.rows, action.to);
    done.push(action);
    undone.length = 0;
    const famNote = fam.grew ? " (with " + nf.format(fam.grew) + " family members)" : "";
    say(nf.format(change.length) + " account(s) given to " + ctx.repLabel(j) + famNote, false);
    commit();
    return true;
  }

  function refuse(text) {
    say(text, true);
    ctx.status.dataset.refused = String(Number(ctx.status.dataset.refused || 0) + 1);
    return false;
  }

  function assign(ids, repId) {
    const list = typeof ids === "string" ? [ids] : Array.from(ids || []);
    const j = repOf.get(String(repId));
    if (j === undefined) return refuse(JSON.stringify(String(repId)) + " is not a rep of this plan");
    const rows = [];
    const unknown = [];
    for (const id of list) {
      const r = rowOf.get(String(id));
      if (r === undefined) unknown.push(String(id));
      else rows.push(r);
    }
    if (unknown.length) {
      return refuse(
        unknown.length + " unknown account id(s): " + unknown.slice(0, 5).join(", ") + (unknown.length > 5 ? ", ..." : ""),
      );
    }
    return assignRows(rows, j);
  }

  // Undo takes the last action back to its reps before; redo applies it again.
  function replay(from, to, forward) {
    const action = from.pop();
    if (!action) return false;
    applyAction(action.rows, forward ? action.to : action.from);
    to.push(action);
    say((forward ? "redone: " : "undone: ") + nf.format(action.rows.length) + " account(s)", false);
    commit();
    return true;
  }
  function undo() {
    return replay(done, undone, false);
  }
  function redo() {
    return replay(undone, done, true);
  }

  function reset() {
    const rows = [];
    for (let i = 0; i < n; i++) if (A.rep[i] !== orig[i]) rows.push(i);
    if (!rows.length) return false;
    const action = {
      rows: Int32Array.from(rows),
      from: Int32Array.from(rows, function (i) {
        return A.rep[i];
      }),
      to: Int32Array.from(rows, function (i) {
        return orig[i];
      }),
    };
    applyAction(action.rows, action.to);
    done.push(action);
    undone.length = 0;
    say("every edit discarded (undo brings them back)", false);
    commit();
    return true;
  }

  // ---- what the edits amount to ---------------------------------------------------------------------
  function editedRows() {
    const out = [];
    for (let i = 0; i < n; i++) if (A.rep[i] !== orig[i]) out.push(i);
    return out;
  }

  function edits() {
    return editedRows().map(function (i) {
      return { account_id: String(A.id[i]), from_rep: String(R.id[orig[i]]), to_rep: String(R.id[A.rep[i]]) };
    });
  }

  function csvCell(value) {
    let s = String(value);
    if (/^[=+\-@\t\r]/.test(s) && !(s.trim() !== "" && isFinite(Number(s)))) s = "'" + s;
    return /[",\r\n]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function exportEdits() {
    const lines = ["account_id,rep_id"];
    for (const i of editedRows()) lines.push(csvCell(A.id[i]) + "," + csvCell(R.id[A.rep[i]]));
    return lines.join("\n") + "\n";
  }

  function totals() {
    const out = {};
    const acc = new Float64Array(nReps);
    const sums = measures.map(function () {
      return new Float64Array(nReps);
    });
    const travel = new Float64Array(nReps);
    const movedIn = new Float64Array(nReps);
    const movedOut = new Float64Array(nReps);
    const cols = measures.map(function (m) {
      return m.values || A[m.col];
    });
    for (let i = 0; i < n; i++) {
      const j = A.rep[i];
      acc[j] += 1;
      for (let k = 0; k < cols.length; k++) sums[k][j] += cols[k][i] || 0;
      travel[j] += (A.wl[i] || 0) * distNow[i];
      if (A.moved[i]) {
        movedIn[j] += 1;
        const c = A.cur[i];
        if (c >= 0 && c < nReps) movedOut[c] += 1;
      }
    }
    for (let j = 0; j < nReps; j++) {
      const t = { accounts: acc[j] };
      measures.forEach(function (m, k) {
        const target = m.target[j];
        t[m.key] = sums[k][j];
        t[m.key + "_target"] = target;
        t[m.key + "_dev_pct"] = target > 0 ? (100 * (sums[k][j] - target)) / target : null;
      });
      t.travel_km = travel[j];
      t.moved_in = movedIn[j];
      t.moved_out = movedOut[j];
      out[R.id[j]] = t;
    }
    return out;
  }

  // ---- persistence ----------------------------------------------------------------------------------
  function encode(list) {
    return list.map(function (a) {
      return [Array.from(a.rows), Array.from(a.to)];
    });
  }
  function save() {
    try {
      if (!done.length && !undone.length) localStorage.removeItem(storageKey);
      else localStorage.setItem(storageKey, JSON.stringify({ v: 1, done: encode(done), undone: encode(undone) }));
    } catch (err) {
      ctx.status.dataset.storage = "unavailable";
    }
  }
  function valid(entry) {
    return (
      Array.isArray(entry) &&
      Array.isArray(entry[0]) &&
      Array.isArray(entry[1]) &&
      entry[0].length === entry[1].length &&
      entry[0].every(function (r) {
        return Number.isInteger(r) && r >= 0 && r < n;
      }) &&
      entry[1].every(function (j) {
        return Number.isInteger(j) && j >= 0 && j < nReps;
      })
    );
  }
  function restore() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch (err) {
      saved = null;
    }
    if (!saved || saved.v !== 1 || !Array.isArray(saved.done) || !Array.isArray(saved.undone)) return;
    if (!saved.done.every(valid) || !saved.undone.every(valid)) return;
    for (const [rows, to] of saved.done) {
      const action = {
        rows: Int32Array.from(rows),
        from: Int32Array.from(rows, function (i) {
          return A.rep[i];
        }),
        to: Int32Array.from(to),
      };
      applyAction(action.rows, action.to);
      done.push(action);
    }
    // Redo entries: the reps each one starts from are those left by the entries redone before it.
    const applied = [];
    for (let k = saved.undone.length - 1; k >= 0; k--) {
      const [rows, to] = saved.undone[k];
      const action = {
        rows: Int32Array.from(rows),
        from: Int32Array.from(rows, function (i) {
          return A.rep[i];
        }),
        to: Int32Array.from(to),
      };
      applyAction(action.rows, action.to);
      applied.push(action);
    }
    for (let k = applied.length - 1; k >= 0; k--) applyAction(applied[k].rows, applied[k].from);
    for (let k = applied.length - 1; k >= 0; k--) undone.push(applied[k]);
    const count = editedRows().length;
    if (count) say(nf.format(count) + " edited account(s) restored from this browser", false);
  }

  // ---- after every change ---------------------------------------------------------------------------
  function commit() {
    const reps = Array.from(touchedReps);
    touchedReps.clear();
    ctx.refreshNamed(); // areas of named accounts only take the colour of their new majority rep
    for (const f of listeners) f("change", reps);
    save();
    // the status element (tests, benchmarks) describes the map as it now is; the full count of what
    // is on the map walks every layer, so it is only redone for a probed account (#probe=)
    ctx.status.dataset.movedLines = String(ctx.movedCount());
    if (ctx.probing) ctx.report();
  }

  // the disruption budget as `edit` checks it: the potential of accounts moved from a current rep of the
  // plan (not from a rep who left: QA52 F1, every plan with a departure read "over budget"), against
  // E.budget (--max-moved-share) of the total potential; null when the plan has none
  function budget() {
    if (E.budget === null || E.budget === undefined) return null;
    let moved = 0;
    let total = 0;
    let departed = false;
    for (let i = 0; i < n; i++) {
      const p = A.pot[i] || 0;
      total += p;
      if (A.cur[i] >= nReps) departed = true;
      else if (A.moved[i]) moved += p;
    }
    const share = total > 0 ? moved / total : 0;
    const over = moved > E.budget * total * (1 + 1e-9) + 1e-9;
    return { moved: moved, total: total, share: share, limit: E.budget, over: over, departed: departed };
  }

  const api = {
    assign: assign,
    totals: totals,
    budget: budget,
    pieces: pieces,
    edits: edits,
    exportEdits: exportEdits,
    undo: undo,
    redo: redo,
    reset: reset,
  };
  const model = {
    api: api,
    assignRows: assignRows,
    rowOf: rowOf,
    repOf: repOf,
    lockRep: lockRep,
    measures: measures,
    travelPlan: travelPlan,
    editedRows: editedRows,
    canUndo: function () {
      return done.length > 0;
    },
    canRedo: function () {
      return undone.length > 0;
    },
    message: function () {
      return lastMessage;
    },
    on: function (f) {
      listeners.push(f);
    },
    refuse: refuse,
    lastBlocked: function () {
      return lastBlocked;
    },
    segNote: E.segNote || "",
    contigLevels: contigLevels,
    contigNote: (E.contig && E.contig.note) || "",
    say: say,
  };
  const ui = tpEditPanel(ctx, model);
  tpSelect(ctx, model, ui);
  tpFind(ctx, model, ui);
  tpOutlines(ctx, model);
  restore();
  if (done.length) commit();
  window.territoryPlanner = Object.assign(api, {
    select: ui.selectIds,
    selection: ui.selectionIds,
    point: ui.point,
    setEditing: ui.setEditing,
  });
}
