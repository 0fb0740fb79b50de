// carbonmap's web map: MapLibre GL (served from /static/vendor, no CDN) over carbonmap's own tiles and basemap.
// State (dataset, date, sector, zoom, centre, region, period) lives in the URL hash so a view can be shared.
// A selection (a country, a catalogue region, or a drawn area) fills the panel: its series for the period, its
// analysis (total with interval and evidence, data edge, sectors, history and peak, facilities) and, on demand,
// its target gap and roadmap.  Every answer belongs to one selection: a newer selection discards older answers.
// The parts: context.js (state, helpers), layers.js (the map and its tiles), legend.js, selection.js (the panel),
// targets.js (target and roadmap), search.js, dataset.js (dataset, days, period), controls.js (the page's controls).
import { capabilities, getJSON } from "./api.js";
import { Basemap } from "./basemap.js";
import { $, EMPTY, TOTAL, abs, hashAtLoad, map, setDrawer, setStatus, state } from "./context.js";
import { wireControls } from "./controls.js";
import { selectDataset } from "./dataset.js";
import { PolygonDrawer } from "./draw.js";
import { CountryIndex } from "./geo.js";
import { createMap } from "./layers.js";
import { buildLevers } from "./roadmap.js";
import { selectShape } from "./selection.js";

async function start() {
  Object.assign(state, { sector: hashAtLoad.sector || TOTAL, region: hashAtLoad.region || null });
  const [caps, list, countries, places] = await Promise.all([
    capabilities(),
    getJSON("/datasets").catch((err) => { setStatus($("status"), err.message, "error"); return []; }),
    getJSON("/static/basemap/countries.geojson").catch(() => EMPTY),
    getJSON("/static/basemap/places.json").catch(() => []),
    createMap(),
  ]);
  state.caps = caps;
  state.countries = new CountryIndex(countries);
  state.places = places;
  state.basemap = new Basemap(map, state.countries, abs);
  buildLevers();
  setDrawer(new PolygonDrawer(map, {
    onDone: (polygon) => selectShape(polygon, "Drawn area"),
    onChange: (active) => {
      $("draw").setAttribute("aria-pressed", String(active));
      $("draw").textContent = active ? "Cancel drawing" : "Draw an area";
      $("draw-help").hidden = !active;
    },
  }));
  wireControls();
  window.carbonmap = { map, state }; // for tests and the console
  if (!list.length) {
    setStatus($("status"), "This server serves no dataset yet; build one with `carbonmap build`.", "error");
    return;
  }
  const sel = $("dataset");
  for (const d of list) sel.add(new Option(d.title || d.id, d.id));
  const id = list.some((d) => d.id === hashAtLoad.dataset) ? hashAtLoad.dataset : list[0].id;
  sel.value = id;
  await selectDataset(id, { date: hashAtLoad.date });
  document.body.dataset.ready = "true";
}

start().catch((err) => {
  console.error(err);
  setStatus($("status"), `The map failed to start: ${err.message}`, "error");
});
