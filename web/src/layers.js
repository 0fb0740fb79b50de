// The map and its layers: the MapLibre map with carbonmap's basemap, the emission tiles of the picked day and
// sector (from the server's TileJSON), the selected country's outline, and what a click on the map does.
import { getJSON } from "./api.js";
import { $, EMPTY, abs, enc, hashAtLoad, map, setMap, state, drawer, writeHash, newTicket } from "./context.js";
import { contains } from "./geo.js";
import { clearSelection, clickCell, selectCountry } from "./selection.js";

const maplibregl = window.maplibregl;

// ---- tiles ----------------------------------------------------------------------------------
async function tileTemplate(sector) {
  const key = `${state.dataset}|${sector}`;
  if (!state.templates.has(key)) {
    const q = new URLSearchParams({ sector, date: state.days[state.day] });
    const tj = await getJSON(`/tiles/${enc(state.dataset)}/WebMercatorQuad/tilejson.json?${q}`);
    state.templates.set(key, tj);
  }
  return state.templates.get(key);
}

/** The TileJSON template with its `date` replaced (string surgery: the path holds {z}/{x}/{y}). */
function withDate(template, date) {
  const [path, query = ""] = template.split("?");
  const q = new URLSearchParams(query);
  q.set("date", date);
  return `${path}?${q}`;
}

export async function updateTiles() {
  const tj = await tileTemplate(state.sector);
  const tiles = tj.tiles.map((t) => withDate(t, state.days[state.day]));
  const src = map.getSource("emissions");
  if (src) {
    src.setTiles(tiles);
  } else {
    map.addSource("emissions", { type: "raster", tiles, tileSize: 256, minzoom: tj.minzoom, maxzoom: tj.maxzoom,
      bounds: tj.bounds, attribution: tj.attribution });
    map.addLayer({ id: "emissions", type: "raster", source: "emissions",
      paint: { "raster-opacity": state.opacity, "raster-resampling": "nearest", "raster-fade-duration": 0 } },
    map.getLayer("admin1") ? "admin1" : "borders");
  }
  document.body.dataset.tiles = `${state.days[state.day]}|${state.sector}`; // what the map now shows
}

export function highlightCountry(iso3) {
  map.setFilter("selected", ["==", ["get", "iso3"], iso3 || ""]);
}

// ---- the map ----------------------------------------------------------------------------------
export function createMap() {
  const start = hashAtLoad;
  setMap(new maplibregl.Map({
    container: "map",
    style: {
      version: 8,
      sources: {
        countries: { type: "geojson", data: abs("/static/basemap/countries.geojson"), attribution: "Natural Earth" },
        shape: { type: "geojson", data: EMPTY },
        points: { type: "geojson", data: EMPTY },
      },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#0a1624" } },
        { id: "land", type: "fill", source: "countries", paint: { "fill-color": "#1b2838" } },
        { id: "borders", type: "line", source: "countries", paint: { "line-color": "#d8e4f0", "line-opacity": 0.55, "line-width": 0.7 } },
        { id: "selected", type: "line", source: "countries", filter: ["==", ["get", "iso3"], ""],
          paint: { "line-color": "#4fd1ff", "line-width": 2.5 } },
        { id: "shape-line", type: "line", source: "shape", paint: { "line-color": "#4fd1ff", "line-width": 2.5 } },
        { id: "points", type: "circle", source: "points",
          paint: { "circle-radius": 5, "circle-color": ["match", ["get", "status"], "operating", "#ffffff", "#0a1624"],
            "circle-stroke-color": ["match", ["get", "status"], "operating", "#0b6e99", "#9aa5b4"], "circle-stroke-width": 2 } },
      ],
    },
    center: [start.lon ?? 10, start.lat ?? 30],
    zoom: start.z ?? 1.4,
    minZoom: 0,
    maxZoom: 12,
    renderWorldCopies: true,
    attributionControl: { compact: true },
    canvasContextAttributes: { preserveDrawingBuffer: true }, // lets tests and users export the canvas
  }));
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.on("idle", () => { state.idleCount += 1; document.body.dataset.idle = String(state.idleCount); });
  map.on("moveend", writeHash);
  map.on("click", (e) => {
    if (drawer && drawer.active) return;
    const sel = state.selection;
    const inside = sel && sel.kind !== "national" && sel.geometry && contains(sel.geometry, e.lngLat.lng, e.lngLat.lat);
    if (!inside) { // a click inside the selected city or area keeps it (and shows the cell)
      const country = state.countries.at(e.lngLat.lng, e.lngLat.lat);
      if (country) selectCountry(country.properties.iso3);
      else {
        newTicket();
        clearSelection("Open sea or no country", "No country here: international shipping and aviation are in " +
          "the XIS/XIA bunkers. Search for a country, or draw an area.");
      }
    }
    if (state.info) clickCell(e.lngLat);
  });
  return new Promise((resolve) => map.once("load", resolve));
}
