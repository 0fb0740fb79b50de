// carbonmap's web map: MapLibre GL (served from /static/vendor, no CDN) over carbonmap's own tiles.
// State (dataset, date, sector, zoom, centre, region) lives in the URL hash so a view can be shared.
// Optional API routes (region search and shapes, polygon queries, point sources) are found in
// /openapi.json and used when present; when one answers 404 the panel says what is missing.
import { RouteMissing, capabilities, getJSON, listOf, postJSON } from "./api.js";
import { drawSeries, fillTable, formatTonnes } from "./chart.js";
import { PolygonDrawer } from "./draw.js";
import { CountryIndex, bbox, cellPolygon } from "./geo.js";
import { formatHash, parseHash } from "./hash.js";

const maplibregl = window.maplibregl;
const $ = (id) => document.getElementById(id);
const abs = (path) => new URL(path, location.href).href; // MapLibre's worker needs absolute URLs
const enc = encodeURIComponent;
const EMPTY = { type: "FeatureCollection", features: [] };
const TOTAL = "total";

const state = {
  dataset: null, info: null, days: [], day: 0, sector: TOTAL, region: null,
  caps: { regionSearch: false, regionShape: false, query: false, points: null },
  countries: new CountryIndex(EMPTY), places: [], templates: new Map(), result: null, cellResult: null,
  idleCount: 0, playing: false,
};
const hashAtLoad = parseHash(location.hash);
let map = null;
let drawer = null;

// ---- small helpers -------------------------------------------------------------------------
let selectionTicket = 0; // answers to an older selection (a slow city query, say) must not overwrite a newer one
const newTicket = () => ++selectionTicket;
const isCurrent = (ticket) => ticket === selectionTicket;

function setStatus(el, text, kind = "") {
  el.textContent = text;
  el.className = `status ${kind}`;
}

function daysBetween(start, end) {
  const out = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

const longDate = (iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB",
  { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

function writeHash() {
  if (!map) return;
  const c = map.getCenter();
  history.replaceState(null, "", formatHash({ dataset: state.dataset, date: state.days[state.day], sector: state.sector,
    z: map.getZoom(), lat: c.lat, lon: c.lng, region: state.region }));
}

function waitIdle(timeoutMs = 4000) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    map.once("idle", () => { clearTimeout(t); resolve(); });
  });
}

function missingMessage(err, what) {
  if (err instanceof RouteMissing) {
    return `${what} needs ${err.url.split("?")[0].replace(/\/[A-Z]{3}(?=\/|$)/, "/{id}")}, which this server does ` +
      "not offer yet. Use the search box or click a country instead.";
  }
  return err.message;
}

// ---- tiles and legend ----------------------------------------------------------------------
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

async function updateTiles() {
  const tj = await tileTemplate(state.sector);
  const tiles = tj.tiles.map((t) => withDate(t, state.days[state.day]));
  const src = map.getSource("emissions");
  if (src) {
    src.setTiles(tiles);
  } else {
    map.addSource("emissions", { type: "raster", tiles, tileSize: 256, minzoom: tj.minzoom, maxzoom: tj.maxzoom,
      bounds: tj.bounds, attribution: tj.attribution });
    map.addLayer({ id: "emissions", type: "raster", source: "emissions",
      paint: { "raster-opacity": 0.85, "raster-resampling": "nearest", "raster-fade-duration": 0 } }, "borders");
  }
  document.body.dataset.tiles = `${state.days[state.day]}|${state.sector}`; // what the map now shows
}

async function loadLegend() {
  const body = $("legend-body");
  try {
    const lg = await getJSON(`/tiles/${enc(state.dataset)}/legend?${new URLSearchParams({ sector: state.sector })}`);
    body.replaceChildren();
    const ramp = document.createElement("div");
    ramp.className = "ramp";
    ramp.style.background = `linear-gradient(to right, ${lg.classes.map((c) => c.color).join(", ")})`;
    ramp.setAttribute("aria-hidden", "true");
    const ticks = document.createElement("div");
    ticks.className = "ticks";
    for (const b of lg.breaks) {
      const s = document.createElement("span");
      s.textContent = Number(b).toExponential(0).replace("e+", "e");
      ticks.appendChild(s);
    }
    const list = document.createElement("ul");
    list.className = "sr-only";
    for (const c of lg.classes) {
      const li = document.createElement("li");
      li.textContent = `${c.label} ${lg.units}`;
      list.appendChild(li);
    }
    const units = document.createElement("p");
    units.className = "units";
    units.textContent = `${lg.units_long || lg.units}, ${lg.scale} scale; transparent: ${lg.transparent || "zero"}`;
    body.append(ramp, ticks, list, units);
    $("legend-title").textContent = state.sector === TOTAL ? "Emissions, all sectors"
      : `Emissions, ${($("sector").selectedOptions[0] || {}).textContent || state.sector}`;
  } catch (err) {
    body.textContent = `Legend unavailable: ${err.message}`;
  }
}

// ---- time -----------------------------------------------------------------------------------
async function setDay(index, { fromHash = false } = {}) {
  state.day = Math.max(0, Math.min(state.days.length - 1, index));
  $("day").value = String(state.day);
  $("date-label").textContent = longDate(state.days[state.day]);
  $("day").setAttribute("aria-valuetext", state.days[state.day]);
  if (!fromHash) writeHash();
  redrawCharts();
  await updateTiles();
}

async function play() {
  state.playing = !state.playing;
  const btn = $("play");
  btn.setAttribute("aria-pressed", String(state.playing));
  btn.textContent = state.playing ? "❚❚" : "▶";
  btn.setAttribute("aria-label", state.playing ? "Pause" : "Play through the days");
  while (state.playing) {
    await setDay((state.day + 1) % state.days.length);
    await waitIdle();
    await new Promise((r) => setTimeout(r, 700));
  }
}

// ---- selection: series, breakdown, numbers -------------------------------------------------
function pick(p) {
  const e = state.sector === TOTAL ? p.total : p.sectors && p.sectors[state.sector];
  return e || { emissions: NaN, lower: NaN, upper: NaN };
}

function seriesOf(result) {
  return (result.periods || []).map((p) => {
    const e = pick(p);
    return { date: String(p.start || p.period), value: e.emissions, lower: e.lower, upper: e.upper };
  });
}

function redrawCharts() {
  const day = state.days[state.day];
  if (state.result) {
    const series = seriesOf(state.result);
    drawSeries($("series-chart"), series, { highlight: day });
    fillTable($("series-table").querySelector("tbody"), series);
    const sectorName = state.sector === TOTAL ? "all sectors" : state.sector.replace(/_/g, " ");
    const today = series.find((d) => d.date === day);
    $("series-caption").textContent = `Daily emissions, ${sectorName}, t CO2 per day with the 90% interval` +
      (today ? `; ${day}: ${formatTonnes(today.value)}` : "");
    $("series-table-caption").textContent = `${state.result.label}: ${sectorName}, t CO2 per day`;
    $("series-chart").setAttribute("aria-label", `Daily emissions of ${state.result.label}, ${sectorName}: ` +
      series.map((d) => `${d.date} ${formatTonnes(d.value)}`).join("; "));
  }
  if (state.cellResult) drawSeries($("cell-chart"), seriesOf(state.cellResult), { highlight: day, color: "#4fd1ff", small: true });
}

function renderBreakdown(result) {
  const totals = new Map();
  for (const p of result.periods || []) {
    for (const [s, e] of Object.entries(p.sectors || {})) totals.set(s, (totals.get(s) || 0) + e.emissions);
  }
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  const sum = rows.reduce((a, [, v]) => a + v, 0) || 1;
  const list = $("breakdown-list");
  list.replaceChildren();
  for (const [s, v] of rows) {
    const li = document.createElement("li");
    li.dataset.sector = s;
    li.dataset.value = String(v);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = s.replace(/_/g, " ");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(100 * v) / (rows[0][1] || 1)}%`;
    const num = document.createElement("span");
    num.className = "num";
    num.textContent = `${formatTonnes(v)} (${((100 * v) / sum).toFixed(0)}%)`;
    li.append(name, bar, num);
    list.appendChild(li);
  }
  $("breakdown").hidden = rows.length === 0;
}

function showResult(result, label) {
  state.result = { ...result, label };
  $("selection-title").textContent = label;
  const first = result.periods && result.periods[0], last = result.periods && result.periods[result.periods.length - 1];
  const total = (result.periods || []).reduce((a, p) => a + p.total.emissions, 0);
  setStatus($("selection-status"), first
    ? `${formatTonnes(total)} CO2 from ${first.start} to ${last.end}, all sectors.` : "No days in this answer.");
  $("selection-definition").textContent = result.region && result.region.definition
    ? `Region: ${result.region.definition}.` : "";
  for (const id of ["series-figure", "numbers"]) $(id).hidden = false;
  renderBreakdown(result);
  redrawCharts();
  document.body.dataset.selection = label;
}

function clearSelection(title, message, kind = "") {
  state.result = null;
  $("selection-definition").textContent = "";
  $("selection-title").textContent = title;
  setStatus($("selection-status"), message, kind);
  for (const id of ["series-figure", "numbers", "breakdown"]) $(id).hidden = true;
}

function highlightCountry(iso3) {
  map.setFilter("selected", ["==", ["get", "iso3"], iso3 || ""]);
}

async function selectCountry(iso3, { fly = false } = {}) {
  const feature = state.countries.byIso3.get(iso3);
  const name = feature ? feature.properties.name : iso3;
  state.region = iso3;
  writeHash();
  highlightCountry(iso3);
  map.getSource("shape").setData(EMPTY);
  if (fly && feature) map.fitBounds(bbox(feature), { padding: 40, maxZoom: 6, duration: 800 });
  if (state.info && !state.info.countries.includes(iso3)) {
    newTicket();
    clearSelection(name, `${name} (${iso3}) is not in dataset ${state.dataset}'s national table.`, "error");
    return;
  }
  setStatus($("selection-status"), `Loading ${name}…`);
  const ticket = newTicket();
  try {
    const q = new URLSearchParams({ dataset: state.dataset, freq: "day" });
    const result = await getJSON(`/regions/${enc(iso3)}/emissions?${q}`);
    if (isCurrent(ticket)) showResult(result, `${name} (${iso3})`);
  } catch (err) {
    if (isCurrent(ticket)) clearSelection(name, err.message, "error");
  }
  if (isCurrent(ticket)) loadPointSources(iso3);
}

async function queryGeometry(geometry, label, ticket = null) {
  const body = { geometry, dataset: state.dataset, start: state.days[0], end: state.days[state.days.length - 1],
    freq: "day", sectors: state.info.sectors.map((s) => s.id) };
  return postJSON("/emissions/query", body).catch((err) => {
    if (ticket !== null && isCurrent(ticket)) clearSelection(label, missingMessage(err, "An area query"), "error");
    throw err;
  });
}

async function selectShape(geometry, label, id = null) {
  state.region = id;
  writeHash();
  highlightCountry(null);
  map.getSource("shape").setData({ type: "Feature", properties: {}, geometry });
  setStatus($("selection-status"), `Summing ${label}…`);
  $("selection-title").textContent = label;
  const ticket = newTicket();
  try {
    const result = await queryGeometry(geometry, label, ticket);
    if (isCurrent(ticket)) showResult(result, label);
  } catch (err) {
    console.info("area query failed", err);
  }
}

async function clickCell(lngLat) {
  const cell = $("cell");
  cell.hidden = false;
  const res = state.info.grid.resolution_deg;
  const geometry = cellPolygon(lngLat.lng, lngLat.lat, res);
  const [w, s] = geometry.coordinates[0][0];
  $("cell-title").textContent = `Grid cell ${s.toFixed(2)}°…${(s + res).toFixed(2)}°N, ${w.toFixed(2)}°…${(w + res).toFixed(2)}°E`;
  state.cellResult = null;
  $("cell-chart").hidden = true;
  if (!state.caps.query) {
    setStatus($("cell-status"), "A single cell's series needs POST /emissions/query, which this server does not offer yet.");
    return;
  }
  try {
    state.cellResult = await queryGeometry(geometry, "cell");
    $("cell-chart").hidden = false;
    const total = (state.cellResult.periods || []).reduce((a, p) => a + p.total.emissions, 0);
    setStatus($("cell-status"), `${formatTonnes(total)} CO2 over the period in this cell.`);
    redrawCharts();
  } catch (err) {
    setStatus($("cell-status"), missingMessage(err, "A single cell's series"), "error");
  }
}

// ---- point sources (issue 6), used when the server lists such a route ------------------------
async function loadPointSources(regionId) {
  const old = $("points");
  if (old) old.remove();
  map.getSource("points").setData(EMPTY);
  if (!state.caps.points) return;
  const path = state.caps.points.replace(/\{[^}]+\}/, enc(regionId));
  try {
    const body = await getJSON(`${path}?${new URLSearchParams({ dataset: state.dataset })}`);
    if (state.region !== regionId) return; // the user moved on
    const items = listOf(body).slice(0, 8);
    const box = document.createElement("div");
    box.id = "points";
    if (body.trend && body.trend.verdict) {
      const p = document.createElement("p");
      p.className = "definition";
      p.textContent = `Peak verdict: ${body.trend.verdict}${body.trend.reason ? ` (${body.trend.reason})` : ""}.`;
      box.appendChild(p);
    }
    const features = [];
    if (items.length) {
      const h = document.createElement("h3");
      h.textContent = "Largest point sources (power plants)";
      const ol = document.createElement("ol");
      for (const it of items) {
        const p = it.properties || it;
        const coords = (it.geometry && it.geometry.coordinates) || [p.lon, p.lat];
        const value = p.estimated_t_per_year ?? p.emissions_t ?? p.emissions;
        const li = document.createElement("li");
        li.textContent = `${p.name || p.plant_id || "plant"}${p.primary_fuel ? ` (${p.primary_fuel})` : ""}` +
          (Number.isFinite(value) ? `: ${formatTonnes(value)}${p.estimated_t_per_year !== undefined ? " per year" : ""}` : "");
        ol.appendChild(li);
        if (Number.isFinite(coords[0]) && Number.isFinite(coords[1])) {
          features.push({ type: "Feature", properties: { name: String(p.name || "") }, geometry: { type: "Point", coordinates: coords } });
        }
      }
      box.append(h, ol);
      if (body.point_source_method) {
        const m = document.createElement("p");
        m.className = "definition";
        m.textContent = body.point_source_method;
        box.appendChild(m);
      }
    }
    if (box.childElementCount) $("breakdown").after(box);
    map.getSource("points").setData({ type: "FeatureCollection", features });
  } catch (err) {
    console.info("no point sources", err);
  }
}

// ---- search ---------------------------------------------------------------------------------
const searchTargets = new Map(); // option text -> {kind, id, lon, lat, iso3}

function fillSearchOptions(extra = []) {
  const dl = $("search-options");
  dl.replaceChildren();
  searchTargets.clear();
  const add = (text, target) => {
    if (searchTargets.has(text)) return;
    searchTargets.set(text, target);
    dl.appendChild(new Option(text));
  };
  for (const t of extra) add(t.text, t);
  const inDataset = new Set(state.info ? state.info.countries : []);
  for (const f of state.countries.features) {
    const { iso3, name } = f.properties;
    if (inDataset.has(iso3)) add(`${name} (${iso3})`, { kind: "country", id: iso3 });
  }
  for (const [name, iso3, lon, lat] of state.places) {
    const country = state.countries.byIso3.get(iso3);
    add(`${name}, ${country ? country.properties.name : iso3}`, { kind: "place", iso3, lon, lat, name });
  }
}

function resolveSearch(text) {
  const t = text.trim();
  if (!t) return null;
  if (searchTargets.has(t)) return searchTargets.get(t);
  const code = t.toUpperCase();
  if (/^[A-Z]{3}$/.test(code) && (state.countries.byIso3.has(code) || (state.info && state.info.countries.includes(code)))) {
    return { kind: "country", id: code };
  }
  const low = t.toLowerCase();
  for (const [text2, target] of searchTargets) if (text2.toLowerCase().startsWith(low)) return target;
  return null;
}

async function go(target) {
  if (target.kind === "country") return selectCountry(target.id, { fly: true });
  if (target.kind === "place") {
    map.flyTo({ center: [target.lon, target.lat], zoom: Math.max(map.getZoom(), 6), duration: 800 });
    if (state.caps.regionSearch) { // the catalogue knows the city's polygon: use it
      try {
        const q = new URLSearchParams({ q: target.name, type: "urban_area", limit: "5" });
        const hits = listOf(await getJSON(`/regions?${q}`)).filter((h) => !h.iso3 || h.iso3 === target.iso3);
        if (hits.length) return go(regionTarget(hits[0]));
      } catch (err) {
        console.info("region search failed", err);
      }
    }
    await selectCountry(target.iso3);
    setStatus($("selection-status"), `${target.name} is in ${$("selection-title").textContent}; city totals need ` +
      "the region catalogue (GET /regions?q=), so the country's series is shown. Draw an area around the city " +
      "for its own numbers.", "note");
    return undefined;
  }
  // a region from GET /regions?q=: its outline from GET /regions/{id}, its numbers from /regions/{id}/emissions
  // (or, failing that, from POST /emissions/query with its polygon)
  if (/^[A-Z]{3}$/.test(target.id) && state.info.countries.includes(target.id)) return selectCountry(target.id, { fly: true });
  state.region = target.id;
  writeHash();
  highlightCountry(null);
  $("selection-title").textContent = target.label;
  setStatus($("selection-status"), `Loading ${target.label}…`);
  const ticket = newTicket();
  let geometry = null;
  try {
    const shape = await getJSON(`/regions/${enc(target.id)}`);
    if (!isCurrent(ticket)) return undefined;
    geometry = shape.type === "Feature" ? shape.geometry : shape.type === "FeatureCollection" ? shape.features[0].geometry : shape;
    map.getSource("shape").setData({ type: "Feature", properties: {}, geometry });
    map.fitBounds(shape.bbox || bbox(geometry), { padding: 40, maxZoom: 9, duration: 800 });
  } catch (err) {
    console.info("no region outline", err);
  }
  try {
    const q = new URLSearchParams({ dataset: state.dataset, freq: "day" });
    const result = await getJSON(`/regions/${enc(target.id)}/emissions?${q}`);
    if (!isCurrent(ticket)) return undefined;
    showResult(result, target.label);
  } catch (err) {
    if (!isCurrent(ticket)) return undefined;
    if (!(err instanceof RouteMissing) || !geometry) {
      clearSelection(target.label, missingMessage(err, "Showing this region"), "error");
      return undefined;
    }
    try {
      const result = await queryGeometry(geometry, target.label, ticket);
      if (isCurrent(ticket)) showResult(result, target.label);
    } catch (err2) {
      return undefined;
    }
  }
  if (isCurrent(ticket)) loadPointSources(target.id);
  return undefined;
}

/** A GET /regions hit as a search target. */
function regionTarget(hit) {
  const p = hit.properties || hit;
  const id = String(p.id || hit.id);
  const label = String(p.name || id);
  return { kind: "region", id, label, text: `${label} · ${String(p.type || "region").replace(/_/g, " ")} ${id}` };
}

let searchTimer = 0;
function onSearchInput() {
  if (!state.caps.regionSearch) return;
  clearTimeout(searchTimer);
  const q = $("search").value.trim();
  if (q.length < 2 || searchTargets.has(q)) return;
  searchTimer = setTimeout(async () => {
    try {
      const items = listOf(await getJSON(`/regions?${new URLSearchParams({ q, limit: "20" })}`));
      fillSearchOptions(items.slice(0, 20).map(regionTarget));
    } catch (err) {
      if (err instanceof RouteMissing) state.caps.regionSearch = false;
    }
  }, 250);
}

let lastSearched = null;
/** Go to what the search box names; `force` (Enter) goes again, a `change` (blur, picked option) only if new. */
function onSearchGo(force = false) {
  const value = $("search").value;
  if (!force && value === lastSearched) return;
  lastSearched = value;
  const target = resolveSearch(value);
  if (target) go(target);
  else clearSelection("Not found", `No country or city matches “${$("search").value}”. Try an ISO code such as DEU.`, "error");
}

// ---- dataset description and provenance ---------------------------------------------------
function li(parent, build) {
  const e = document.createElement("li");
  build(e);
  parent.appendChild(e);
}

function describe(info) {
  state.info = info;
  state.days = daysBetween(info.time.start, info.time.end);
  const day = $("day");
  day.max = String(state.days.length - 1);
  const sectorEl = $("sector");
  sectorEl.replaceChildren(new Option("All sectors (total)", TOTAL), ...info.sectors.map((s) => new Option(s.long_name, s.id)));
  if (![...sectorEl.options].some((o) => o.value === state.sector)) state.sector = TOTAL;
  sectorEl.value = state.sector;
  setStatus($("status"), `${info.title}. ${state.days.length} days (${info.time.start} to ${info.time.end}), ` +
    `${info.grid.resolution_deg}° grid, ${info.sectors.length} sectors. Map colours show emission density (see the legend); country numbers are national ` +
    "inventory territories.");
  const inputs = $("inputs");
  inputs.replaceChildren();
  for (const i of info.provenance.inputs) {
    li(inputs, (e) => {
      const tag = document.createElement("span");
      tag.className = `tag ${i.real ? "real" : "proxy"}`;
      tag.textContent = i.real ? "real" : "proxy";
      e.append(tag, ` ${i.source} — ${i.role} (licence: ${i.license})`);
    });
  }
  if (!info.provenance.inputs.length) li(inputs, (e) => { e.textContent = "No input file is listed (synthetic dataset)."; });
  const prox = $("proxies");
  prox.replaceChildren();
  for (const p of info.provenance.proxies) li(prox, (e) => { e.textContent = p; });
  if (!info.provenance.proxies.length) li(prox, (e) => { e.textContent = "No simplified proxy is declared."; });
  $("license").textContent = `Licence: ${info.license}`;
  $("citation").textContent = `Cite as: ${info.citation}`;
  $("dataset-link").href = `/datasets/${enc(info.id)}`;
}

async function selectDataset(id, { date = null } = {}) {
  state.dataset = id;
  state.templates.clear();
  try {
    describe(await getJSON(`/datasets/${enc(id)}`));
  } catch (err) {
    setStatus($("status"), err.message, "error");
    return;
  }
  const wanted = date ? state.days.indexOf(date) : -1;
  fillSearchOptions();
  await setDay(wanted >= 0 ? wanted : state.days.length - 1);
  loadLegend();
  if (state.region && /^[A-Z]{3}$/.test(state.region)) selectCountry(state.region);
  else if (state.region && state.caps.regionShape) go({ kind: "region", id: state.region, label: state.region, text: state.region });
}

// ---- the map ----------------------------------------------------------------------------------
function createMap() {
  const start = hashAtLoad;
  map = new maplibregl.Map({
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
          paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": "#0b6e99", "circle-stroke-width": 2 } },
      ],
    },
    center: [start.lon ?? 10, start.lat ?? 30],
    zoom: start.z ?? 1.4,
    minZoom: 0,
    maxZoom: 10,
    renderWorldCopies: true,
    attributionControl: { compact: true },
    canvasContextAttributes: { preserveDrawingBuffer: true }, // lets tests and users export the canvas
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  map.on("idle", () => { state.idleCount += 1; document.body.dataset.idle = String(state.idleCount); });
  map.on("moveend", writeHash);
  map.on("click", (e) => {
    if (drawer && drawer.active) return;
    const country = state.countries.at(e.lngLat.lng, e.lngLat.lat);
    if (country) selectCountry(country.properties.iso3);
    else newTicket(), clearSelection("Open sea or no country", "No country here: international shipping and aviation are in the " +
      "XIS/XIA bunkers. Search for a country, or draw an area.");
    if (state.info) clickCell(e.lngLat);
  });
  return new Promise((resolve) => map.once("load", resolve));
}

function wireControls() {
  $("dataset").addEventListener("change", (e) => selectDataset(e.target.value));
  $("sector").addEventListener("change", async (e) => {
    state.sector = e.target.value;
    writeHash();
    redrawCharts();
    loadLegend();
    await updateTiles();
  });
  let slideTimer = 0;
  $("day").addEventListener("input", (e) => {
    const i = Number(e.target.value);
    $("date-label").textContent = longDate(state.days[i]);
    clearTimeout(slideTimer);
    slideTimer = setTimeout(() => setDay(i), 120);
  });
  $("play").addEventListener("click", play);
  $("search").addEventListener("input", onSearchInput);
  $("search").addEventListener("change", () => onSearchGo(false));
  $("search").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); onSearchGo(true); } });
  $("draw").addEventListener("click", () => (drawer.active ? drawer.cancel() : drawer.start()));
  window.addEventListener("hashchange", async () => { // a pasted or edited link
    const h = parseHash(location.hash);
    if (h.dataset && h.dataset !== state.dataset) return selectDataset(h.dataset, { date: h.date });
    if (h.sector && h.sector !== state.sector) { state.sector = h.sector; $("sector").value = h.sector; loadLegend(); }
    if (h.lon !== undefined && h.lat !== undefined) map.jumpTo({ center: [h.lon, h.lat], zoom: h.z ?? map.getZoom() });
    const i = h.date ? state.days.indexOf(h.date) : -1;
    if (h.region && h.region !== state.region && /^[A-Z]{3}$/.test(h.region)) selectCountry(h.region);
    return setDay(i >= 0 ? i : state.day, { fromHash: true });
  });
}

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
  drawer = new PolygonDrawer(map, {
    onDone: (polygon) => selectShape(polygon, "Drawn area"),
    onChange: (active) => {
      $("draw").setAttribute("aria-pressed", String(active));
      $("draw").textContent = active ? "Cancel drawing" : "Draw an area";
      $("draw-help").hidden = !active;
    },
  });
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

