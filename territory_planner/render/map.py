"""The plan as one HTML map leadership can open: folium builders plus a small drawing script.

Composition (folium): ``Map -> two base layers (proposed / current alignment) -> FeatureGroup per rep
(+ "no current rep", + "moved accounts") -> LayerControl -> PlanLayer``. ``PlanLayer`` embeds the plan
as compact JSON and the script ``assets/tp_map.js`` that fills the rep layers with canvas circle
markers (or area polygons), rep homes and moved-account lines, so a 33,000-account map stays a few MB.

``offline=True`` inlines Leaflet (from the ``xstatic-leaflet`` package) and draws no tile layer: the file
makes no network request at all. The default keeps Leaflet from its CDN and a light OSM tile layer.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from territory_planner.currency import chosen_currency, currency_context, currency_prefix
from territory_planner.io.writers import atomic_write_text, still_there
from territory_planner.render.boundaries import lines_near
from territory_planner.render.edit_payload import edit_data
from territory_planner.render.legend import _plan_name, legend_html
from territory_planner.render.palette import NO_REP_COLOUR
from territory_planner.render.payload import MapPayload, build_payload, script_json
from territory_planner.render.plan_folder import PlanFolder, read_plan_folder

log = logging.getLogger(__name__)

LEAFLET_JS_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
TILES = "OpenStreetMap"
PROPOSED = "Proposed alignment (after)"
CURRENT = "Current alignment (before)"
NO_CURRENT = "No current rep"
FORMER = "Former rep"


def other_label(no_current: int, former: int) -> str:
    """The layer of the accounts the Current view draws grey, named for what it holds: accounts with no
    current rep, accounts whose current rep left the roster, or both."""
    parts = ([NO_CURRENT] if no_current else []) + (
        [FORMER if former == 1 else "Former reps"] if former else []
    )
    return " / ".join(parts) or NO_CURRENT


# the layer control (a list of reps, top right) starts collapsed above this many reps or with a label this
# long: expanded, 12 reps (one of 70 characters) took 538 x 335 px and hid four moved Swedish accounts
# of the first view (QA41 F3); compare's small maps start with it collapsed (QA41 F4: 75% of each hidden)
COLLAPSE_CONTROL_ABOVE = 8  # reps
COLLAPSE_LABEL_ABOVE = 32  # characters
SHOW_MOVED_UP_TO = 500  # moved accounts: above this the moved-lines overlay starts switched off
# The page's scripts, in order: drawing (tp_map), boundary layer, page layout, the Edit mode, printing.
SCRIPTS = (
    "tp_map.js",
    "tp_base.js",
    "tp_layout.js",
    "tp_edit.js",
    "tp_edit_panel.js",
    "tp_select.js",
    "tp_find.js",
    "tp_outlines.js",
    "tp_print.js",
)


class OnlineMap(folium.Map):
    """A folium Map that loads only Leaflet (folium's default also pulls jQuery, Bootstrap, icons)."""

    default_js = [("leaflet", LEAFLET_JS_CDN)]
    default_css = [("leaflet_css", LEAFLET_CSS_CDN)]


class OfflineMap(folium.Map):
    """A folium Map that references no external asset; ``InlineLeaflet`` provides Leaflet."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


@cache
def _asset(name: str) -> str:
    return resources.files("territory_planner.render").joinpath("assets", name).read_text(encoding="utf-8")


@cache
def leaflet_inline() -> tuple[str, str]:
    """Leaflet's JS and CSS from xstatic-leaflet, the CSS images turned into data: URIs."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        path = base / match.group(1)
        if not path.is_file():
            return "none"
        return "url(data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") + ")"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():
        raise RuntimeError("vendored Leaflet cannot be inlined safely")
    return js, css


class InlineLeaflet(MacroElement):
    """Leaflet's JS and CSS inlined into the page header."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
            <script>{{ this.js }}</script>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "InlineLeaflet"
        self.js, self.css = leaflet_inline()


class PlanLayer(MacroElement):
    """The plan data, the legend, the status element and the call that draws everything."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
            <script>{{ this.js }}</script>
        {% endmacro %}
        {% macro html(this, kwargs) %}
            {{ this.legend }}
            <div id="tp-status"></div>
            <div id="tp-noleaflet" hidden class="tp-notice">The map could not load its drawing library
            (Leaflet) from the internet: this computer is offline or blocks the site. The summary panel
            still holds the plan. For a map that needs no network, draw it again with
            <code>territory-planner map PLAN_DIR --offline</code>.</div>
            {%- if not this.offline %}
            <div id="tp-notiles" hidden class="tp-notice" role="status">The map's background (OpenStreetMap
            tiles) could not load: this computer is offline or blocks the site. The territories are drawn;
            for a map with state outlines that needs no network, draw it again with
            <code>territory-planner map PLAN_DIR --offline</code>.</div>
            {%- endif %}
            <noscript><div class="tp-notice tp-noscript">This map is drawn by JavaScript, which is off in
            this browser. The plan's tables are in the summary panel; report.html and territories.csv in
            the plan's folder hold them too.</div></noscript>
            <script>
            window.addEventListener("load", function () {
                if (typeof L !== "undefined") return;
                document.getElementById("tp-noleaflet").hidden = false;
                document.getElementById("tp-status").dataset.error = "leaflet";
                document.body.classList.add("tp-noleaflet");
            });
            // on paper the folded notes are unfolded (QA91 F8: the handout said "1 note on this plan" and
            // not the note); the screen gets them back as they were
            (function () {
                var opened = [];
                window.addEventListener("beforeprint", function () {
                    document.querySelectorAll("#tp-legend details:not([open])").forEach(function (d) {
                        d.open = true;
                        opened.push(d);
                    });
                });
                window.addEventListener("afterprint", function () {
                    opened.forEach(function (d) { d.open = false; });
                    opened = [];
                });
            })();
            </script>
            <script type="application/json" id="tp-data">{{ this.data_json }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            {%- if this.offline %}
            {{ this._parent.get_name() }}.getContainer().classList.add("tp-offline");
            {%- endif %}
            tpInit({{ this._parent.get_name() }}, L, {
                groups: [{% for g in this.groups %}{{ g.get_name() }}, {% endfor %}],
                other: {{ this.other.get_name() if this.other else "null" }},
                moved: {{ this.moved.get_name() }},
                after: {{ this.after.get_name() }},
                before: {{ this.before.get_name() }},
                control: {{ this.control.get_name() }},
                bounds: {{ this.bounds|tojson }},
                view: {{ this.view|tojson }},
                outside: {{ this.outside }},
            });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: MapPayload,
        legend: str,
        *,
        groups: list[folium.FeatureGroup],
        other: folium.FeatureGroup | None,
        moved: folium.FeatureGroup,
        after: folium.FeatureGroup,
        before: folium.FeatureGroup,
        control: folium.LayerControl,
        offline: bool,
    ) -> None:
        super().__init__()
        self._name = "PlanLayer"
        self.css = _asset("tp_map.css")
        self.js = "\n".join(_asset(name) for name in SCRIPTS)
        self.legend = legend
        self.data_json = script_json(payload.data)
        self.groups = groups
        self.other = other
        self.moved = moved
        self.after = after
        self.before = before
        self.control = control
        self.bounds = payload.bounds
        self.view = payload.view
        self.outside = payload.outside_view
        self.offline = offline


def swatch_label(text: str, colour: str) -> str:
    """A layer-control label: Leaflet inserts it as HTML, so the text is escaped here."""
    return f'<span class="tp-swatch" style="background:{colour}"></span>{escape(text)}'


def base_map(payload: MapPayload, *, offline: bool) -> folium.Map:
    (south, west), (north, east) = payload.bounds
    centre = [(south + north) / 2, (west + east) / 2]
    if offline:
        m: folium.Map = OfflineMap(
            location=centre, zoom_start=6, tiles=None, prefer_canvas=True, zoom_snap=0.25
        )
        InlineLeaflet().add_to(m)
    else:
        m = OnlineMap(location=centre, zoom_start=6, tiles=None, prefer_canvas=True, zoom_snap=0.25)
        folium.TileLayer(TILES, control=False).add_to(m)
    return m


def view_layers(m: folium.Map) -> tuple[folium.FeatureGroup, folium.FeatureGroup]:
    """The before/after switch: two (empty) base layers; the script recolours on change."""
    after = folium.FeatureGroup(name=PROPOSED, overlay=False, show=True)
    before = folium.FeatureGroup(name=CURRENT, overlay=False, show=False)
    after.add_to(m)
    before.add_to(m)
    return after, before


def territory_layers(m: folium.Map, payload: MapPayload) -> list[folium.FeatureGroup]:
    groups = []
    for rep_id, name, colour in zip(payload.rep_ids, payload.rep_names, payload.colours, strict=True):
        label = f"{name} ({rep_id})" if name and name != rep_id else rep_id
        group = folium.FeatureGroup(name=swatch_label(label, colour), overlay=True)
        group.add_to(m)
        groups.append(group)
    return groups


def build_map(
    plan: PlanFolder,
    *,
    offline: bool = False,
    colours: Mapping[str, str] | None = None,
    small: bool = False,
) -> folium.Map:
    """The map, money in the currency of the current ``currency_context``; ``colours`` (rep id ->
    colour) fixes the colours of the reps it names (compare draws every plan in the baseline's);
    ``small``: drawn in a small frame (compare's), its layer control collapsed."""
    payload = build_payload(plan, colours)
    payload.data["edit"] = edit_data(plan)
    payload.data["cur"] = currency_prefix()  # what the script writes before an amount: "€", "EUR " or ""
    # without tiles, a packaged boundary layer shows where things are (county lines for area plans)
    payload.data["base"] = lines_near(payload.places, counties=bool(plan.units)) if offline else None
    m = base_map(payload, offline=offline)
    after, before = view_layers(m)
    groups = territory_layers(m, payload)
    other = None
    if payload.has_other:
        # the accounts drawn grey in the Current view; listed in the layer control only when some
        # account has a current rep (else the plan has no current alignment: the legend says so)
        label = other_label(payload.no_current, len(payload.former))
        listed = payload.no_current < payload.n_accounts or bool(payload.former)
        other = folium.FeatureGroup(name=swatch_label(label, NO_REP_COLOUR), overlay=True, control=listed)
        other.add_to(m)
    moved = folium.FeatureGroup(
        name=f"Moved accounts ({payload.n_moved:,})", overlay=True, show=payload.n_moved <= SHOW_MOVED_UP_TO
    )
    moved.add_to(m)
    longest = max(
        (len(f"{n} ({r})") for r, n in zip(payload.rep_ids, payload.rep_names, strict=True)), default=0
    )
    collapsed = small or len(groups) > COLLAPSE_CONTROL_ABOVE or longest > COLLAPSE_LABEL_ABOVE
    control = folium.LayerControl(collapsed=collapsed)
    control.add_to(m)
    legend = legend_html(
        plan.territories,
        payload.colours,
        plan.summary,
        n_accounts=payload.n_accounts,
        n_moved=payload.n_moved,
        no_current_alignment=payload.n_accounts > 0 and payload.no_current == payload.n_accounts,
        levels=payload.data.get("levels"),
        named_areas=bool(payload.data["units"] and payload.data["units"].get("named")),
        assignments=plan.assignments,
    )
    PlanLayer(
        payload,
        legend,
        groups=groups,
        other=other,
        moved=moved,
        after=after,
        before=before,
        control=control,
        offline=offline,
    ).add_to(m)
    return m


def render_map_html(
    plan: PlanFolder,
    *,
    offline: bool = False,
    currency: str | None = None,
    colours: Mapping[str, str] | None = None,
    small: bool = False,
) -> str:
    """The map page; money in ``currency`` (from ``currency.parse_currency``), ``None``: the plan's own
    (summary.json -> config.currency, ``$`` for older plans); ``small`` as in ``build_map``."""
    with currency_context(chosen_currency(currency, plan.summary)):
        html: str = build_map(plan, offline=offline, colours=colours, small=small).get_root().render()
    return _page_head(html, plan.summary)


# folium's page: no language, no title, and a viewport that forbids zooming the page (QA91 F7)
_FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport" content="width=device-width,\s*initial-scale=1\.0,'
                              r'\s*maximum-scale=1\.0,\s*user-scalable=no"\s*/>')  # fmt: skip
_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1.0" />'


def _page_head(html: str, summary: dict[str, Any]) -> str:
    """The map page with a language, a title naming the plan, and a viewport a reader can zoom (the map
    itself zooms with Leaflet's own gestures)."""
    title = f"<title>Map of territory plan{_plan_name(summary)}</title>"
    html = html.replace("<html>", '<html lang="en">', 1)
    html = html.replace("<head>", f"<head>\n    {title}", 1)
    return _FOLIUM_VIEWPORT.sub(_VIEWPORT, html)


def write_map(
    plan_dir: Path,
    out_html: Path | None = None,
    *,
    offline: bool = False,
    currency: str | None = None,
    colours: Mapping[str, str] | None = None,
    small: bool = False,
) -> Path:
    """Read the plan folder and write its map atomically (default ``plan_dir/map.html``); money in
    ``currency``, ``None`` for the plan's own; ``colours`` and ``small`` as in ``build_map``.

    Raises ``InputError`` (with every problem found) before anything is written.
    """
    plan_dir = Path(plan_dir)
    out = Path(out_html) if out_html is not None else plan_dir / "map.html"
    plan = read_plan_folder(plan_dir)
    html = render_map_html(plan, offline=offline, currency=currency, colours=colours, small=small)
    atomic_write_text(out, html, check=still_there(plan_dir, plan.identity, out))
    log.info("wrote %s (%d bytes)", out, len(html.encode("utf-8")))
    return out
