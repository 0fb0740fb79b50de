// The search box: countries, places and (when the server has a region catalogue) admin-1 units and cities;
// going to what it names.
import { RouteMissing, getJSON, listOf } from "./api.js";
import { $, NATIONAL_NAMES, enc, isCurrent, map, missingMessage, newTicket, setStatus, state } from "./context.js";
import { bbox } from "./geo.js";
import { clearSelection, select, selectCountry } from "./selection.js";

const searchTargets = new Map(); // option text -> {kind, id, lon, lat, iso3}

export function fillSearchOptions(extra = []) {
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

export async function go(target) {
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
export function onSearchInput() {
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
export async function onSearchGo(force = false) {
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
