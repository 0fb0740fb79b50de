// Shared state of the web map and small helpers every part uses: the DOM lookup, the selection tickets, the
// period, the URL hash.  The map and the polygon drawer live here too (set once at start) so that every module
// reads the same instances.
import { formatHash, parseHash } from "./hash.js";
import { RouteMissing, url } from "./api.js";
import { CountryIndex } from "./geo.js";

export const $ = (id) => document.getElementById(id);
export const abs = url; // an app path against the page's <base> (a proxy's prefix), absolute for MapLibre's worker
export const enc = encodeURIComponent;
export const EMPTY = { type: "FeatureCollection", features: [] };
export const TOTAL = "total";
export const NATIONAL_NAMES = { WLD: "World", XIA: "International aviation (XIA)", XIS: "International shipping (XIS)" };

export const state = {
  dataset: null, info: null, days: [], day: 0, sector: TOTAL, region: null, selection: null, period: null,
  caps: {}, countries: new CountryIndex(EMPTY), places: [], templates: new Map(), result: null, analysis: null,
  cellResult: null, idleCount: 0, playing: false, opacity: 0.85,
};
export const hashAtLoad = parseHash(location.hash);
export let map = null;
export let drawer = null;
export const setMap = (m) => { map = m; };
export const setDrawer = (d) => { drawer = d; };

// ---- small helpers -------------------------------------------------------------------------
let selectionTicket = 0; // answers to an older selection (a slow city query, say) must not overwrite a newer one
export const newTicket = () => ++selectionTicket;
export const isCurrent = (ticket) => ticket === selectionTicket;
export const currentTicket = () => selectionTicket;

export function setStatus(el, text, kind = "") {
  el.textContent = text;
  el.className = `status ${kind}`;
}

export function daysBetween(start, end) {
  const out = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export const longDate = (iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB",
  { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

export function period() {
  const p = state.period || {};
  return { start: p.start || state.days[0], end: p.end || state.days[state.days.length - 1] };
}

/** Periods a series is summed over: days up to 4 months, months up to 3 years, then years. */
export function seriesFreq() {
  const { start, end } = period();
  const n = (Date.parse(end) - Date.parse(start)) / 86400000 + 1;
  return n <= 120 ? "day" : n <= 1100 ? "month" : "year";
}

export function writeHash() {
  if (!map) return;
  const c = map.getCenter();
  const p = state.period || {};
  // a full URL: a bare "#..." would resolve against the page's <base>, not the page
  const hash = formatHash({ dataset: state.dataset, date: state.days[state.day], sector: state.sector,
    z: map.getZoom(), lat: c.lat, lon: c.lng, region: state.region, start: p.start, end: p.end });
  history.replaceState(null, "", location.pathname + location.search + hash);
}

export function waitIdle(timeoutMs = 4000) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    map.once("idle", () => { clearTimeout(t); resolve(); });
  });
}

export function missingMessage(err, what) {
  if (err instanceof RouteMissing) {
    return `${what} needs ${err.url.split("?")[0].replace(/\/[A-Z]{3}(?=\/|$)/, "/{id}")}, which this server does ` +
      "not offer yet. Use the search box or click a country instead.";
  }
  return err.message;
}
