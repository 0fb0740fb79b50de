// carbonmap's web map: MapLibre GL (served from /static/vendor, no CDN) over carbonmap's own tiles and basemap.
// State (dataset, date, sector, zoom, centre, region, period) lives in the URL hash so a view can be shared.
// A selection (a country, a catalogue region, or a drawn area) fills the panel: its series for the period, its
// analysis (total with interval and evidence, data edge, sectors, history and peak, facilities) and, on demand,
// its target gap and roadmap.  Every answer belongs to one selection: a newer selection discards older answers.
import { ApiError, RouteMissing, capabilities, getJSON, listOf, postJSON } from "./api.js";
import { Basemap } from "./basemap.js";
import { drawSeries, fillTable } from "./chart.js";
import { PolygonDrawer } from "./draw.js";
import { download, panelPNG, seriesCSV } from "./export.js";
import { cellLabel, formatTonnes, linkify, sectorName } from "./format.js";
import { CountryIndex, bbox, cellPolygon, contains } from "./geo.js";
import { formatHash, parseHash } from "./hash.js";
import { clearAnalysis, legendEdge, renderAnalysis } from "./panel.js";
import { buildLevers, clearRoadmap, leverParams, showPathway, showTarget, targetParams } from "./roadmap.js";

const maplibregl = window.maplibregl;
const $ = (id) => document.getElementById(id);
const abs = (path) => new URL(path, location.href).href; // MapLibre's worker needs absolute URLs
const enc = encodeURIComponent;
const EMPTY = { type: "FeatureCollection", features: [] };
const TOTAL = "total";
const NATIONAL_NAMES = { WLD: "World", XIA: "International aviation (XIA)", XIS: "International shipping (XIS)" };

const state = {
  dataset: null, info: null, days: [], day: 0, sector: TOTAL, region: null, selection: null, period: null,
  caps: {}, countries: new CountryIndex(EMPTY), places: [], templates: new Map(), result: null, analysis: null,
  cellResult: null, idleCount: 0, playing: false, opacity: 0.85,
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

function period() {
  const p = state.period || {};
  return { start: p.start || state.days[0], end: p.end || state.days[state.days.length - 1] };
}

/** Periods a series is summed over: days up to 4 months, months up to 3 years, then years. */
function seriesFreq() {
  const { start, end } = period();
  const n = (Date.parse(end) - Date.parse(start)) / 86400000 + 1;
  return n <= 120 ? "day" : n <= 1100 ? "month" : "year";
}

function writeHash() {
  if (!map) return;
  const c = map.getCenter();
  const p = state.period || {};
  history.replaceState(null, "", formatHash({ dataset: state.dataset, date: state.days[state.day], sector: state.sector,
    z: map.getZoom(), lat: c.lat, lon: c.lng, region: state.region, start: p.start, end: p.end }));
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
      paint: { "raster-opacity": state.opacity, "raster-resampling": "nearest", "raster-fade-duration": 0 } },
    map.getLayer("admin1") ? "admin1" : "borders");
  }
  document.body.dataset.tiles = `${state.days[state.day]}|${state.sector}`; // what the map now shows
}

const density = (v) => Number(v).toLocaleString("en-US", { maximumSignificantDigits: 2 });

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
    // the server's readable labels ("< 0.001", "0.24", "1.2k"); older servers send only the numbers
    const tickText = lg.break_labels || lg.breaks.map(density);
    for (const t of tickText) {
      const s = document.createElement("span");
      s.textContent = t;
      ticks.appendChild(s);
    }
    const list = document.createElement("ul");
    list.className = "sr-only";
    for (const c of lg.classes) {
      const li = document.createElement("li");
      li.textContent = c.label_units || `${c.label} ${lg.units}`;
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
  updateLegendEdge();
}

/** The selection's data edge for the picked sector ("power: measured through …; after that, a model"). */
function updateLegendEdge() {
  const ul = $("legend-edge");
  ul.replaceChildren();
  const a = state.analysis;
  if (!a || !a.data_edge) return;
  const lines = legendEdge(a.data_edge, state.sector);
  for (const line of lines) {
    const li = document.createElement("li");
    li.textContent = line;
    ul.appendChild(li);
  }
  if (lines.length) ul.title = `Where measured data end for ${a.region.home_country}`;
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

const FREQ_WORD = { day: ["Daily", "day"], month: ["Monthly", "month"], year: ["Annual", "year"] };

function redrawCharts() {
  const day = state.days[state.day];
  if (state.result) {
    const series = seriesOf(state.result);
    const [word, unit] = FREQ_WORD[state.result.freq] || FREQ_WORD.day;
    drawSeries($("series-chart"), series, { highlight: day });
    fillTable($("series-table").querySelector("tbody"), series);
    const name = state.sector === TOTAL ? "all sectors" : sectorName(state.sector);
    const now = [...series].reverse().find((d) => d.date <= day);
    $("series-caption").textContent = `${word} emissions, ${name}, t CO2 per ${unit} with the 90% interval` +
      (now ? `; ${now.date}: ${formatTonnes(now.value)}` : "");
    $("series-table-caption").textContent = `${state.result.label}: ${name}, t CO2 per ${unit}`;
    $("series-chart").setAttribute("aria-label", `${word} emissions of ${state.result.label}, ${name}: ` +
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
    name.textContent = sectorName(s);
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
  if (!state.analysis) {
    setStatus($("selection-status"), first
      ? `${formatTonnes(total)} CO2 from ${first.start} to ${last.end}, all sectors.` : "No days in this answer.");
  }
  $("selection-definition").textContent = result.region && result.region.definition
    ? `Region: ${result.region.definition}.` : "";
  for (const id of ["series-figure", "numbers", "exports"]) $(id).hidden = false;
  renderBreakdown(result);
  redrawCharts();
  document.body.dataset.selection = label;
}

function showAnalysis(a, label) {
  state.analysis = a;
  const features = renderAnalysis(a, label);
  const st = $("selection-status");
  setStatus(st, `${formatTonnes(a.total.emissions_t)} CO2 from ${a.start} to ${a.end} (90% interval ` +
    `${formatTonnes(a.total.lower_t)}–${formatTonnes(a.total.upper_t)}), all sectors.`);
  st.dataset.total = String(a.total.emissions_t);
  map.getSource("points").setData({ type: "FeatureCollection", features });
  $("roadmap").hidden = false;
  if (a.target) showTarget(a.target);
  updateLegendEdge();
}

function clearSelection(title, message, kind = "") {
  state.result = null;
  state.analysis = null;
  state.selection = null;
  state.region = null;
  writeHash();
  $("selection-definition").textContent = "";
  $("selection-title").textContent = title;
  const st = $("selection-status");
  setStatus(st, message, kind);
  delete st.dataset.total;
  for (const id of ["series-figure", "numbers", "breakdown", "exports", "roadmap"]) $(id).hidden = true;
  clearAnalysis();
  clearRoadmap();
  $("facilities-block").hidden = true;
  if (map) {
    map.getSource("points").setData(EMPTY);
    map.getSource("shape").setData(EMPTY);
    highlightCountry(null);
  }
  updateLegendEdge();
  delete document.body.dataset.selection;
}

function highlightCountry(iso3) {
  map.setFilter("selected", ["==", ["get", "iso3"], iso3 || ""]);
}

// ---- fetching a selection's answers ---------------------------------------------------------
function regionPath(sel, what) {
  return `/regions/${enc(sel.id)}/${what}`;
}

async function fetchSeries(sel) {
  const { start, end } = period();
  const freq = seriesFreq();
  if (sel.kind === "geometry") {
    return postJSON("/emissions/query", { geometry: sel.geometry, dataset: state.dataset, start, end, freq,
      sectors: state.info.sectors.map((s) => s.id) });
  }
  const q = new URLSearchParams({ dataset: state.dataset, start, end, freq });
  try {
    return await getJSON(`${regionPath(sel, "emissions")}?${q}`);
  } catch (err) {
    if (err instanceof RouteMissing && sel.geometry && state.caps.query) {
      return postJSON("/emissions/query", { geometry: sel.geometry, dataset: state.dataset, start, end, freq });
    }
    throw err;
  }
}

function numbers(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) out[k] = Number(v);
  return out;
}

async function fetchAnalysis(sel, target = {}) {
  const { start, end } = period();
  if (sel.kind === "geometry") {
    if (!state.caps.geometryAnalysis) return null;
    return postJSON("/emissions/analysis", { geometry: sel.geometry, dataset: state.dataset, start, end, top: 10,
      ...numbers(target) });
  }
  if (!state.caps.analysis) return null;
  const q = new URLSearchParams({ dataset: state.dataset, start, end, top: "10", ...target });
  return getJSON(`${regionPath(sel, "analysis")}?${q}`);
}

/** Show a selection: its outline, its series and its analysis (answers of older selections are dropped). */
async function select(sel, { fly = false } = {}) {
  const ticket = newTicket();
  state.selection = sel;
  state.region = sel.kind === "geometry" ? null : sel.id;
  state.analysis = null;
  state.result = null;
  writeHash();
  clearAnalysis();
  clearRoadmap();
  $("facilities-block").hidden = true;
  map.getSource("points").setData(EMPTY);
  highlightCountry(sel.kind === "national" ? sel.id : null);
  map.getSource("shape").setData(sel.kind !== "national" && sel.geometry
    ? { type: "Feature", properties: {}, geometry: sel.geometry } : EMPTY);
  if (fly && sel.bounds) map.fitBounds(sel.bounds, { padding: 40, maxZoom: sel.kind === "national" ? 6 : 9, duration: 0 });
  $("selection-title").textContent = sel.label;
  const st = $("selection-status");
  delete st.dataset.total;
  setStatus(st, sel.kind === "geometry" ? `Summing ${sel.label}…` : `Loading ${sel.label}…`);
  $("series-table").querySelector("tbody").replaceChildren();
  const series = fetchSeries(sel).then((r) => { if (isCurrent(ticket)) showResult(r, sel.label); })
    .catch((err) => { if (isCurrent(ticket)) clearSelectionKeep(sel, missingMessage(err, "Showing this region")); });
  const analysis = fetchAnalysis(sel).then((a) => { if (a && isCurrent(ticket)) showAnalysis(a, sel.label); })
    .catch((err) => { if (isCurrent(ticket)) console.info("no analysis", err); });
  await Promise.all([series, analysis]);
}

function clearSelectionKeep(sel, message) {
  const keep = state.selection;
  clearSelection(sel.label, message, "error");
  state.selection = keep;
}

function countryLabel(iso3) {
  if (NATIONAL_NAMES[iso3]) return NATIONAL_NAMES[iso3];
  const f = state.countries.byIso3.get(iso3);
  return f ? `${f.properties.name} (${iso3})` : iso3;
}

async function selectCountry(iso3, { fly = false } = {}) {
  const feature = state.countries.byIso3.get(iso3);
  const known = NATIONAL_NAMES[iso3] || (state.info && state.info.countries.includes(iso3));
  if (!known) {
    if (state.caps.regionShape) return go({ kind: "region", id: iso3, label: feature ? feature.properties.name : iso3 });
    newTicket();
    clearSelection(countryLabel(iso3), `${iso3} is not in dataset ${state.dataset}'s national table.`, "error");
    return undefined;
  }
  return select({ kind: "national", id: iso3, label: countryLabel(iso3), geometry: feature ? feature.geometry : null,
    bounds: feature ? bbox(feature) : null }, { fly });
}

async function selectShape(geometry, label) {
  return select({ kind: "geometry", id: null, label, geometry, bounds: bbox(geometry) });
}

async function clickCell(lngLat) {
  const cell = $("cell");
  cell.hidden = false;
  const res = state.info.grid.resolution_deg;
  const geometry = cellPolygon(lngLat.lng, lngLat.lat, res);
  const [w, s] = geometry.coordinates[0][0];
  const [e, n] = geometry.coordinates[0][2];
  $("cell-title").textContent = cellLabel(w, s, e, n);
  state.cellResult = null;
  $("cell-chart").hidden = true;
  if (!state.caps.query) {
    setStatus($("cell-status"), "A single cell's series needs POST /emissions/query, which this server does not offer yet.");
    return;
  }
  try {
    const { start, end } = period();
    state.cellResult = await postJSON("/emissions/query", { geometry, dataset: state.dataset, start, end,
      freq: seriesFreq(), sectors: state.info.sectors.map((x) => x.id) });
    $("cell-chart").hidden = false;
    const total = (state.cellResult.periods || []).reduce((a, p) => a + p.total.emissions, 0);
    setStatus($("cell-status"), `${formatTonnes(total)} CO2 over the period in this cell.`);
    redrawCharts();
  } catch (err) {
    setStatus($("cell-status"), missingMessage(err, "A single cell's series"), "error");
  }
}

// ---- target and roadmap -------------------------------------------------------------------------
async function runTarget() {
  const sel = state.selection;
  if (!sel) return;
  const target = targetParams();
  if (!Object.keys(target).length) {
    showTarget(null, $("target-kind").value === "peak" ? "Give the year by which emissions should peak."
      : "Give the cut in %, the target year and the base year.");
    return;
  }
  const ticket = selectionTicket;
  setStatus($("target-result"), "Checking the target…");
  try {
    const a = await fetchAnalysis(sel, target);
    if (a && ticket === selectionTicket) showAnalysis(a, sel.label);
  } catch (err) {
    if (ticket === selectionTicket) showTarget(null, err.message);
  }
}

async function runPathway() {
  const sel = state.selection;
  if (!sel) return;
  const target = targetParams();
  const levers = leverParams();
  const ticket = selectionTicket;
  setStatus($("pathway-status"), "Computing the roadmap…");
  try {
    let p, href = null;
    if (sel.kind === "geometry") {
      const body = { geometry: sel.geometry, dataset: state.dataset, ...numbers(target), levers };
      p = await postJSON("/emissions/pathway", body);
      const r = await fetch("/emissions/pathway?format=csv", { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" } });
      href = URL.createObjectURL(await r.blob());
    } else {
      const q = new URLSearchParams({ dataset: state.dataset, ...target, ...Object.fromEntries(
        Object.entries(levers).map(([k, v]) => [k, String(v)])) });
      p = await getJSON(`${regionPath(sel, "pathway")}?${q}`);
      q.set("format", "csv");
      href = `${regionPath(sel, "pathway")}?${q}`;
    }
    if (ticket !== selectionTicket) return;
    setStatus($("pathway-status"), p.reaches_target ? "This roadmap reaches the target." : "Even this roadmap misses the target.",
      p.reaches_target ? "ok" : "note");
    showPathway(p, href);
  } catch (err) {
    if (ticket === selectionTicket) setStatus($("pathway-status"), err instanceof ApiError ? err.message : String(err), "error");
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
  add("World (WLD)", { kind: "country", id: "WLD" });
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
  if (/^[A-Z]{3}$/.test(code) && (NATIONAL_NAMES[code] || state.countries.byIso3.has(code)
    || (state.info && state.info.countries.includes(code)))) {
    return { kind: "country", id: code };
  }
  const low = t.toLowerCase();
  for (const [text2, target] of searchTargets) if (text2.toLowerCase().startsWith(low)) return target;
  return null;
}

async function go(target) {
  if (target.kind === "country") return selectCountry(target.id, { fly: true });
  if (target.kind === "place") {
    if (state.caps.regionSearch) { // the catalogue knows the city's polygon: use it
      try {
        const q = new URLSearchParams({ q: target.name, type: "urban_area", limit: "5" });
        const hits = listOf(await getJSON(`/regions?${q}`)).filter((h) => !h.iso3 || h.iso3 === target.iso3);
        if (hits.length) return go(regionTarget(hits[0]));
      } catch (err) {
        console.info("region search failed", err);
      }
    }
    map.flyTo({ center: [target.lon, target.lat], zoom: Math.max(map.getZoom(), 6), duration: 0 });
    await selectCountry(target.iso3);
    return undefined;
  }
  // a region from GET /regions?q= (or a link): its outline and name from GET /regions/{id}
  const code = String(target.id).toUpperCase();
  if (/^[A-Z]{3}$/.test(code) && state.info && (state.info.countries.includes(code) || NATIONAL_NAMES[code])) {
    return selectCountry(code, { fly: true });
  }
  const ticket = newTicket();
  $("selection-title").textContent = target.label || target.id;
  setStatus($("selection-status"), `Loading ${target.label || target.id}…`);
  let shape = null;
  try {
    shape = await getJSON(`/regions/${enc(target.id)}`);
  } catch (err) {
    if (isCurrent(ticket)) clearSelection("Not found", missingMessage(err, "Showing this region"), "error");
    return undefined;
  }
  if (!isCurrent(ticket)) return undefined;
  const geometry = shape.type === "Feature" ? shape.geometry : shape;
  const props = shape.properties || {};
  return select({ kind: "region", id: props.id || target.id, label: props.name || target.label || target.id, geometry,
    bounds: shape.bbox || bbox(geometry) }, { fly: true });
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
async function onSearchGo(force = false) {
  const value = $("search").value;
  if (!force && value === lastSearched) return;
  lastSearched = value;
  let target = resolveSearch(value);
  if (!target && state.caps.regionSearch && value.trim().length >= 2) { // ask the catalogue before giving up
    try {
      const hits = listOf(await getJSON(`/regions?${new URLSearchParams({ q: value.trim(), limit: "1" })}`));
      if (hits.length) target = regionTarget(hits[0]);
    } catch (err) {
      console.info("region search failed", err);
    }
  }
  if (target) go(target);
  else {
    newTicket();
    clearSelection("Not found", `No place matches “${value}”. Try a country, a state or a city name, or an ISO code ` +
      "such as DEU.", "error");
  }
}

// ---- dataset description, period and provenance ---------------------------------------------
function li(parent, build) {
  const e = document.createElement("li");
  build(e);
  parent.appendChild(e);
}

function fillPeriod() {
  const { start, end } = period();
  for (const [id, v] of [["period-start", start], ["period-end", end]]) {
    const input = $(id);
    input.min = state.days[0];
    input.max = state.days[state.days.length - 1];
    input.value = v;
  }
  const sel = $("period-preset");
  const first = state.days[0], last = state.days[state.days.length - 1];
  const opts = [["", "Presets…"], [`${first}|${last}`, "Whole dataset"]];
  const years = [...new Set(state.days.map((d) => d.slice(0, 4)))];
  for (const y of years) {
    const a = `${y}-01-01` < first ? first : `${y}-01-01`, b = `${y}-12-31` > last ? last : `${y}-12-31`;
    opts.push([`${a}|${b}`, a.endsWith("01-01") && b.endsWith("12-31") ? y : `${y} (part)`]);
  }
  if (state.days.length > 365) opts.push([`${state.days[state.days.length - 365]}|${last}`, "Last 365 days"]);
  sel.replaceChildren(...opts.map(([v, t]) => new Option(t, v)));
}

function applyPeriod(start, end) {
  const first = state.days[0], last = state.days[state.days.length - 1];
  start = start && start >= first && start <= last ? start : first;
  end = end && end >= start && end <= last ? end : last;
  state.period = start === first && end === last ? null : { start, end };
  fillPeriod();
  writeHash();
  if (state.selection) select(state.selection);
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
      e.append(tag, " ");
      linkify(e, `${i.source} — ${i.role} (licence: ${i.license})`);
    });
  }
  if (!info.provenance.inputs.length) li(inputs, (e) => { e.textContent = "No input file is listed (synthetic dataset)."; });
  const prox = $("proxies");
  prox.replaceChildren();
  for (const p of info.provenance.proxies) li(prox, (e) => linkify(e, p));
  if (!info.provenance.proxies.length) li(prox, (e) => { e.textContent = "No simplified proxy is declared."; });
  $("license").replaceChildren();
  linkify($("license"), `Licence: ${info.license}`);
  $("citation").replaceChildren();
  linkify($("citation"), `Cite as: ${info.citation}`);
  if (info.references) {
    $("citation").append(" References: ");
    linkify($("citation"), info.references);
  }
  $("dataset-link").href = `/datasets/${enc(info.id)}`;
  const now = new Date(`${info.time.end}T00:00:00Z`).getUTCFullYear();
  $("peak-year").placeholder = String(now + 2);
  $("target-year").min = String(now + 1);
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
  if (hashAtLoad.start || hashAtLoad.end) {
    const first = state.days[0], last = state.days[state.days.length - 1];
    const s = hashAtLoad.start && hashAtLoad.start >= first ? hashAtLoad.start : first;
    const e = hashAtLoad.end && hashAtLoad.end <= last ? hashAtLoad.end : last;
    state.period = s === first && e === last ? null : { start: s, end: e };
  }
  fillPeriod();
  const wanted = date ? state.days.indexOf(date) : -1;
  fillSearchOptions();
  await setDay(wanted >= 0 ? wanted : state.days.length - 1);
  loadLegend();
  const r = state.region;
  if (r && (/^[A-Z]{3}$/.test(r) && (state.info.countries.includes(r) || NATIONAL_NAMES[r]))) await selectCountry(r);
  else if (r && state.caps.regionShape) await go({ kind: "region", id: r, label: null });
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
  });
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
  $("opacity").addEventListener("input", (e) => {
    state.opacity = Number(e.target.value);
    if (map.getLayer("emissions")) map.setPaintProperty("emissions", "raster-opacity", state.opacity);
  });
  $("period-apply").addEventListener("click", () => applyPeriod($("period-start").value, $("period-end").value));
  $("period-preset").addEventListener("change", (e) => {
    if (!e.target.value) return;
    const [s, t] = e.target.value.split("|");
    applyPeriod(s, t);
  });
  $("target-apply").addEventListener("click", runTarget);
  $("pathway-run").addEventListener("click", runPathway);
  $("export-csv").addEventListener("click", () => {
    if (!state.result) return;
    const { start, end } = period();
    const name = `carbonmap_${(state.region || "area").replace(/[^A-Za-z0-9-]/g, "_")}_${start}_${end}.csv`;
    download(new Blob([seriesCSV(state.result, state.result.label)], { type: "text/csv" }), name);
  });
  $("export-png").addEventListener("click", async () => {
    const { start, end } = period();
    const blob = await panelPNG(`${$("selection-title").textContent}, ${start} to ${end} (t CO2)`,
      [$("series-chart"), $("history-chart"), $("pathway-chart")]);
    download(blob, `carbonmap_${(state.region || "area").replace(/[^A-Za-z0-9-]/g, "_")}.png`);
  });
  window.addEventListener("hashchange", async () => { // a pasted or edited link
    const h = parseHash(location.hash);
    if (h.dataset && h.dataset !== state.dataset) return selectDataset(h.dataset, { date: h.date });
    if (h.sector && h.sector !== state.sector) { state.sector = h.sector; $("sector").value = h.sector; loadLegend(); }
    if (h.lon !== undefined && h.lat !== undefined) map.jumpTo({ center: [h.lon, h.lat], zoom: h.z ?? map.getZoom() });
    const i = h.date ? state.days.indexOf(h.date) : -1;
    if (h.region && h.region !== state.region) {
      if (/^[A-Z]{3}$/.test(h.region)) selectCountry(h.region);
      else go({ kind: "region", id: h.region, label: null });
    }
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
  state.basemap = new Basemap(map, state.countries, abs);
  buildLevers();
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
