// A selection (a country, a catalogue region, a drawn area) and the panel it fills: its series for the period,
// the sector breakdown, its analysis, and a clicked cell's series.  Every answer belongs to one selection (its
// ticket): a newer selection discards older answers.
import { RouteMissing, getJSON, postJSON } from "./api.js";
import { drawSeries, fillTable } from "./chart.js";
import { $, EMPTY, NATIONAL_NAMES, TOTAL, enc, isCurrent, map, missingMessage, newTicket, period, seriesFreq, setStatus,
  state, writeHash } from "./context.js";
import { cellLabel, formatTonnes, sectorName } from "./format.js";
import { bbox, cellPolygon } from "./geo.js";
import { highlightCountry } from "./layers.js";
import { updateLegendEdge } from "./legend.js";
import { clearAnalysis, renderAnalysis } from "./panel.js";
import { clearRoadmap, showTarget } from "./roadmap.js";
import { go } from "./search.js";

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

export function redrawCharts() {
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

export function showAnalysis(a, label) {
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

export function clearSelection(title, message, kind = "") {
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

// ---- fetching a selection's answers ---------------------------------------------------------
export function regionPath(sel, what) {
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

export function numbers(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) out[k] = Number(v);
  return out;
}

export async function fetchAnalysis(sel, target = {}) {
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
export async function select(sel, { fly = false } = {}) {
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

export async function selectCountry(iso3, { fly = false } = {}) {
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

export async function selectShape(geometry, label) {
  return select({ kind: "geometry", id: null, label, geometry, bounds: bbox(geometry) });
}

export async function clickCell(lngLat) {
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
