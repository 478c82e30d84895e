/* territory-planner map: selecting from the keyboard in Edit mode (QA91 F1: nothing on the map can be
 * focused, so without a mouse nothing could be selected).
 *
 * A field in the Edit panel (an ARIA combobox): type an account's id or name, an area's, or a rep's (for
 * the rep's whole territory, as a lasso around it would select); up to CAP matches are listed, the first
 * highlighted; the arrow keys move the highlight and Enter adds the match to the selection, or takes it out
 * when it is all selected already (shift-click's add or remove). Several ids pasted at once (a column of
 * a sheet) are added together. The list is built from the plan's arrays on each keystroke, never a node
 * per account, so a 33,000-account plan costs a scan of two strings per account (a few ms).
 */
/* exported tpFind */
/* global tpEl */
function tpFind(ctx, model, ui) {
  "use strict";
  const CAP = 8; // matches listed
  const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const map = ctx.map;
  const L_ = ctx.L;
  const A = ctx.D.acc;
  const R = ctx.D.reps;
  const n = A.id.length;
  const nReps = R.n;
  const named = (ctx.D.units && ctx.D.units.named) || []; // [shape, rows, area id, name]

  const el = tpEl;
  const label = el("label", { for: "tp-edit-find" }, "Select");
  const input = el("input", {
    id: "tp-edit-find",
    type: "text",
    role: "combobox",
    autocomplete: "off",
    spellcheck: "false",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "tp-edit-find-list",
    "aria-describedby": "tp-edit-find-note",
    placeholder: "account id or name, area, or rep (whole territory)",
    title: "\u2191/\u2193 choose a match, Enter adds it to the selection (or takes it out); paste several ids at once",
  });
  const pop = el("div", { class: "tp-find-pop", hidden: "" });
  const list = el("ul", { id: "tp-edit-find-list", role: "listbox", "aria-label": "matches" });
  const more = el("div", { class: "tp-find-more" });
  pop.append(list, more);
  const field = el("span", { class: "tp-find-box" });
  field.append(input, pop);
  const note = el("div", { id: "tp-edit-find-note", class: "tp-edit-hint", "aria-live": "polite" }, "");
  ui.findLine.append(label, field);
  ui.findLine.parentNode.insertBefore(note, ui.findLine.nextSibling);
  ui.findInput = input;

  // lower-case ids and names, made at the first keystroke
  let ids = null;
  let names = null;
  function index() {
    if (ids) return;
    ids = new Array(n);
    names = new Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = String(A.id[i]).toLowerCase();
      names[i] = String(A.name[i] || "").toLowerCase();
    }
  }
  // 0: the id itself, 1: the id's start, 2: a word of the name starts so, 3: inside either; -1: no match
  function score(q, id, name) {
    if (id === q) return 0;
    if (id.startsWith(q)) return 1;
    if (name.startsWith(q) || name.indexOf(" " + q) >= 0) return 2;
    return id.indexOf(q) >= 0 || name.indexOf(q) >= 0 ? 3 : -1;
  }
  function rowsOf(kind, k) {
    if (kind === "account") return [k];
    if (kind === "area") return named[k][1].slice();
    const out = [];
    for (let i = 0; i < n; i++) if (A.rep[i] === k) out.push(i);
    return out;
  }
  // the best CAP matches (territories, then areas, then accounts within a rank) and how many match in all
  function search(text) {
    index();
    const q = text.trim().toLowerCase();
    const ranks = [[], [], [], []];
    let total = 0;
    function consider(kind, k, id, name) {
      const s = score(q, id, name);
      if (s < 0) return;
      total++;
      if (ranks[s].length < CAP) ranks[s].push({ kind: kind, k: k });
    }
    if (q) {
      for (let j = 0; j < nReps; j++) consider("rep", j, String(R.id[j]).toLowerCase(), String(R.name[j] || "").toLowerCase());
      named.forEach(function (na, k) {
        consider("area", k, String(na[2]).toLowerCase(), String(na[3] || "").toLowerCase());
      });
      for (let i = 0; i < n; i++) consider("account", i, ids[i], names[i]);
    }
    return { found: [].concat.apply([], ranks).slice(0, CAP), total: total };
  }
  function describe(m, rows) {
    if (m.kind === "rep") return "Territory of " + ctx.repCell(m.k) + " \u00b7 " + nf.format(rows.length) + " account(s)";
    if (m.kind === "area") {
      const na = named[m.k];
      return "Area " + (na[3] || na[2]) + " \u00b7 " + nf.format(rows.length) + " named account(s)";
    }
    const i = m.k;
    return String(A.id[i]) + (A.name[i] ? " " + A.name[i] : "") + " \u00b7 " + ctx.repCell(A.rep[i]);
  }
  function allSelected(rows) {
    return rows.length > 0 && rows.every(ui.isSelected);
  }

  let matches = [];
  let active = -1;
  function open(on) {
    pop.hidden = !on;
    input.setAttribute("aria-expanded", on ? "true" : "false");
    if (!on) input.removeAttribute("aria-activedescendant");
  }
  function highlight(k) {
    active = k;
    Array.prototype.forEach.call(list.children, function (li, m) {
      li.classList.toggle("tp-current", m === k);
      li.setAttribute("aria-selected", m === k ? "true" : "false");
    });
    if (k >= 0) {
      input.setAttribute("aria-activedescendant", list.children[k].id);
      list.children[k].scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }
  function refresh() {
    const r = search(input.value);
    matches = r.found.map(function (m) {
      return Object.assign(m, { rows: rowsOf(m.kind, m.k) });
    });
    list.replaceChildren.apply(
      list,
      matches.map(function (m, k) {
        const li = el("li", { id: "tp-edit-find-opt-" + k, role: "option" }, describe(m, m.rows));
        if (allSelected(m.rows)) li.appendChild(el("span", { class: "tp-find-on" }, " \u00b7 selected"));
        li.addEventListener("mousedown", function (e) {
          e.preventDefault(); // the field keeps the focus
        });
        li.addEventListener("click", function () {
          choose(m);
        });
        return li;
      }),
    );
    more.textContent = r.total > matches.length ? nf.format(r.total - matches.length) + " more: type more of it" : "";
    more.hidden = !more.textContent;
    const text = input.value.trim();
    note.textContent = text && !matches.length ? "nothing matches \u201c" + text + "\u201d" : "";
    open(matches.length > 0);
    highlight(matches.length ? 0 : -1);
  }

  function say(text) {
    note.textContent = text + " (" + nf.format(ui.selectionRows().length) + " selected)";
  }
  // add the match's accounts to the selection, or take them out when all are in it already
  function choose(m) {
    const out = allSelected(m.rows);
    ui.select(m.rows, out ? "remove" : "add");
    const what =
      m.kind === "account"
        ? describe(m, m.rows).split(" \u00b7 ")[0]
        : describe(m, m.rows).replace(/^(\w+)( of)? (.*) \u00b7 (.*)$/, function (all, kind, of, who, count) {
            return (of ? "the territory of " : "area ") + who + " (" + count + ")";
          });
    say((out ? "Took " : "Added ") + what + (out ? " out of" : " to") + " the selection");
    if (!out) show(m.rows);
    input.value = "";
    open(false);
  }
  // what was added comes into view, at the zoom the planner chose (never closer)
  function show(rows) {
    const lls = [];
    for (const i of rows) if (A.lat[i] !== null && A.lat[i] !== undefined) lls.push([A.lat[i], A.lon[i]]);
    if (!lls.length) return;
    const b = L_.latLngBounds(lls);
    if (map.getBounds().contains(b)) return;
    if (lls.length === 1) map.panTo(lls[0]);
    else map.fitBounds(b, { padding: [30, 30], maxZoom: map.getZoom() });
  }
  // an id as written, else in any case (as a single id is matched: QA93 F2)
  let lower = null;
  function rowOfId(t) {
    const r = model.rowOf.get(t);
    if (r !== undefined) return r;
    if (lower === null) {
      lower = new Map();
      for (const [id, row] of model.rowOf) if (!lower.has(id.toLowerCase())) lower.set(id.toLowerCase(), row);
    }
    return lower.get(t.toLowerCase());
  }
  // several ids at once ("A1, A2" or a pasted column): every one must be an account of the plan
  function chooseMany(tokens) {
    const rows = [];
    const unknown = [];
    for (const t of tokens) {
      const r = rowOfId(t);
      if (r === undefined) unknown.push(t);
      else rows.push(r);
    }
    if (unknown.length) {
      note.textContent =
        nf.format(unknown.length) +
        " unknown account id(s): " +
        unknown.slice(0, 5).join(", ") +
        (unknown.length > 5 ? ", ..." : "") +
        "; nothing was selected";
      return;
    }
    ui.select(rows, "add");
    say("Added " + nf.format(rows.length) + " account(s) to the selection");
    show(rows);
    input.value = "";
    open(false);
  }

  input.addEventListener("input", refresh);
  // an edit empties or changes the selection: the last "Added ..." no longer holds
  model.on(function (what) {
    if (what === "change") note.textContent = "";
  });
  input.addEventListener("focus", function () {
    if (input.value.trim()) refresh();
  });
  input.addEventListener("blur", function () {
    open(false);
  });
  input.addEventListener("keydown", function (e) {
    const shown = !pop.hidden && matches.length > 0;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!shown) return refresh();
      const step = e.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + matches.length) % matches.length);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const text = input.value.trim();
      const tokens = text.split(/[\s,;]+/).filter(Boolean);
      // a list of ids: separated by commas, semicolons, tabs or lines, or words that are all ids; words
      // of a name ("Avery Brooks", QA93 F2: "2 unknown account id(s)") pick the highlighted match
      const listed =
        /[,;\t\n]/.test(text) || tokens.every(function (t) { return rowOfId(t) !== undefined; });
      if (tokens.length > 1 && listed && !model.rowOf.has(text)) return chooseMany(tokens);
      if (!shown) refresh();
      if (active >= 0) choose(matches[active]);
    } else if (e.key === "Escape" && (shown || input.value)) {
      // first closes the list, then empties the field; in the empty field Esc clears the selection
      e.stopPropagation();
      if (shown) open(false);
      else input.value = "";
    }
  });
}
