"""Speed of the map's Edit mode in headless Chromium (a benchmark, not a test).

    python benchmarks/bench_edit.py [--accounts 33000] [--reps 100] [--repeat 9] [--keep DIR]

Synthesises the same plan as ``bench_map.py`` (33,000 accounts, 100 reps), writes its --offline map and
drives it with Playwright in the system's Chromium:

* assign: 1,000 accounts (the nearest to a rep's home that it does not hold) are selected, then the
  "Give to rep" button is clicked with the mouse. "script" is the time from the click until the
  button's handler returns (the assignment, the recolouring and regrouping of 1,000 canvas markers,
  their moved-account lines, the totals over every account and the balance table redrawn); "+ canvas
  redraw" runs until the next animation frame starts, after Leaflet has redrawn its canvas in it; "next
  frame" until the frame after that, i.e. once the browser has painted the result.
  Then Undo is clicked, and the pair is repeated ``--repeat`` times.
* lasso: the map is zoomed so that a ring around about 5,000 markers fits on screen, and the Lasso tool
  is dragged around them with the mouse (120 mouse moves). "move" is the longest time the page spent
  handling one mouse move (the shape is redrawn each time), "select" the time from releasing the mouse
  until the selection is highlighted, "to frame" until the next painted frame.

Medians and maxima are printed; the machine may be shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_map import add_area_units, synthesise  # noqa: E402

from territory_planner.render.map import write_map  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
NEXT_FRAME = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"
)
TIME_CLICK = """(sel) => {
  window.__tpTimes = null;
  const b = document.querySelector(sel);
  let t0 = 0;
  b.addEventListener("click", () => { t0 = performance.now(); }, { capture: true, once: true });
  b.addEventListener("click", () => {
    const t1 = performance.now();
    requestAnimationFrame(() => {
      const t2 = performance.now();  // Leaflet's canvas redraw ran just before, in this frame
      requestAnimationFrame(() => { window.__tpTimes = [t0, t1, t2, performance.now()]; });
    });
  }, { once: true });
}"""


def pick_accounts(page, k: int) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """The ``k`` accounts nearest to the first rep's home among those it does not hold."""
    return page.evaluate(
        """(k) => {
          const D = JSON.parse(document.getElementById("tp-data").textContent);
          const h = D.reps.home[0];
          const rows = [];
          for (let i = 0; i < D.acc.id.length; i++) if (D.acc.rep[i] !== 0) rows.push(i);
          const d = (i) => (D.acc.lat[i] - h[0]) ** 2 + (D.acc.lon[i] - h[1]) ** 2;
          rows.sort((a, b) => d(a) - d(b));
          return [rows.slice(0, k).map((i) => D.acc.id[i]), D.reps.id[0]];
        }""",
        k,
    )


def time_assign(page, ids: list[str], rep: str, repeat: int) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[float]] = {"script": [], "frame": [], "painted": [], "undo": []}
    page.select_option("#tp-edit-rep", rep)
    for _ in range(repeat):
        page.evaluate("(ids) => territoryPlanner.select(ids)", ids)
        page.evaluate(NEXT_FRAME)
        page.evaluate(TIME_CLICK, "#tp-edit-assign")
        page.click("#tp-edit-assign")
        t0, t1, t2, t3 = page.wait_for_function("() => window.__tpTimes").json_value()
        out["script"].append(t1 - t0)
        out["frame"].append(t2 - t0)
        out["painted"].append(t3 - t0)
        page.evaluate(NEXT_FRAME)
        page.evaluate(TIME_CLICK, "#tp-edit-undo")
        page.click("#tp-edit-undo")
        u0, u1, _, _ = page.wait_for_function("() => window.__tpTimes").json_value()
        out["undo"].append(u1 - u0)
    return out


def ring_around(page, k: int) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """Zoom to the densest place and return a screen circle (x, y, radius) holding about ``k`` markers."""
    return page.evaluate(
        """(k) => {
          const D = JSON.parse(document.getElementById("tp-data").textContent);
          const map = Object.values(window).find((v) => v && v._container && v.getZoom);
          const n = D.acc.id.length;
          // densest 1-degree cell
          const cells = new Map();
          for (let i = 0; i < n; i++) {
            const key = Math.floor(D.acc.lat[i]) + "," + Math.floor(D.acc.lon[i]);
            cells.set(key, (cells.get(key) || 0) + 1);
          }
          let best = null, most = -1;
          for (const [key, c] of cells) if (c > most) { most = c; best = key; }
          const [la, lo] = best.split(",").map(Number);
          let r = Infinity, d = [], c = null;
          for (let zoom = 9; zoom >= 3; zoom--) {
            map.setView([la + 0.5, lo + 0.5], zoom, { animate: false });
            c = map.getSize().divideBy(2);
            d = [];
            for (let i = 0; i < n; i++) {
              d.push(map.latLngToContainerPoint([D.acc.lat[i], D.acc.lon[i]]).distanceTo(c));
            }
            d.sort((a, b) => a - b);
            r = d[Math.min(k, n) - 1] + 0.5;
            if (r < 0.45 * Math.min(map.getSize().x, map.getSize().y)) break;
          }
          const rect = map.getContainer().getBoundingClientRect();
          return [rect.left + c.x, rect.top + c.y, r, d.filter((v) => v <= r).length];
        }""",
        k,
    )


def time_lasso(page, cx: float, cy: float, r: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    page.click("#tp-tool-lasso")
    page.evaluate(NEXT_FRAME)
    steps = 120
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    for s in range(1, steps + 1):
        a = 2 * math.pi * s / steps
        page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a))
    t_up = page.evaluate("() => performance.now()")
    page.mouse.up()
    t_frame = page.evaluate(NEXT_FRAME)
    status = page.evaluate("() => Object.assign({}, document.getElementById('tp-status').dataset)")
    page.click("#tp-tool-pointer")
    return {
        "move": float(status["moveMaxMs"]),
        "select": float(status["selectMs"]),
        "frame": t_frame - t_up,
        "selected": float(status["selected"]),
    }


def stats(values: list[float]) -> str:
    return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=33_000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--assign", type=int, default=1_000)
    parser.add_argument("--lasso", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--areas", action="store_true", help="every account an area polygon (slower)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-edit-"))
    plan = synthesise(
        work / f"plan-{args.accounts}{'-areas' if args.areas else ''}", args.accounts, args.reps
    )
    if args.areas:
        add_area_units(plan)
    html = write_map(plan, plan / "map.html", offline=True)
    print(f"{args.accounts:,} accounts, {args.reps} reps; map {html.stat().st_size / 1e6:.2f} MB")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("#tp-status[data-drawn='1']", state="attached", timeout=120_000)
        page.click("#tp-edit-toggle")
        ids, rep = pick_accounts(page, args.assign)
        t = time_assign(page, ids, rep, args.repeat)
        print(
            f"assign {len(ids):,} accounts + table: script {stats(t['script'])}; "
            f"+ canvas redraw {stats(t['frame'])}; next frame {stats(t['painted'])}"
        )
        print(f"undo of it: script {stats(t['undo'])}")
        cx, cy, r, inside = ring_around(page, args.lasso)
        runs = [time_lasso(page, cx, cy, r) for _ in range(max(3, args.repeat // 3))]
        print(
            f"lasso around {inside:,} markers ({int(runs[0]['selected']):,} selected): "
            f"longest mouse move {stats([x['move'] for x in runs])}; "
            f"select {stats([x['select'] for x in runs])}; to frame {stats([x['frame'] for x in runs])}"
        )
        browser.close()


if __name__ == "__main__":
    main()
