// The analysis part of the side panel: the total with its interval and evidence, the data edge, the sector
// ranking, the annual history with the peak verdict, and the largest facilities (GET /regions/{id}/analysis or
// POST /emissions/analysis).  Pure DOM building from an answer; main.js decides when.
import { drawHistory } from "./chart.js";
import { edgeText, evidenceText, formatPct, formatTonnes, sectorName } from "./format.js";

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** Empty the analysis part (a new selection, or nothing selected). */
export function clearAnalysis() {
  for (const id of ["evidence", "edge", "peak", "facilities", "facilities-closed", "facilities-note"]) $(id).replaceChildren();
  $("analysis").hidden = true;
  $("history-figure").hidden = true;
  delete document.body.dataset.analysis;
}

function verdictText(p) {
  if (!p) return "";
  const sure = p.likelihood ? ` (${p.likelihood}, ${Math.round((p.probability || 0) * 100)}% of draws)` : "";
  if (p.verdict === "peaked") {
    const range = p.peak_year_range ? `, range ${p.peak_year_range[0]}–${p.peak_year_range[1]}` : "";
    return `Peaked in ${p.peak_year}${range}${sure}; ${formatPct(-(p.decline_from_peak_pct || 0))} since.`;
  }
  if (p.verdict === "still rising") {
    return `Still rising: ${formatPct(p.recent_growth_pct)} a year over the last 5 years${sure}.`;
  }
  if (p.verdict === "plateau") return `Plateau: no clear rise or decline yet (${formatPct(p.recent_growth_pct)}/yr)${sure}.`;
  return `No verdict: ${p.reason}`;
}

/** The evidence and data-edge lines of the legend for a sector ("total": all of them). */
export function legendEdge(edge, sector) {
  const lines = Object.entries(edge || {}).filter(([s]) => sector === "total" || s === sector)
    .map(([s, v]) => edgeText(s, v));
  return lines;
}

/** Render an analysis answer; returns GeoJSON features of its facilities for the map. */
export function renderAnalysis(a, label) {
  $("analysis").hidden = false;
  const ev = evidenceText(a.total.evidence);
  $("evidence").replaceChildren(el("strong", { textContent: "Evidence: " }),
    ev ? `${ev}.` : "not recorded in this dataset.");
  const edge = $("edge");
  edge.replaceChildren();
  const lines = legendEdge(a.data_edge, "total");
  if (lines.length) {
    edge.append(el("strong", { textContent: `Where measured data end (${a.region.home_country || "region"}):` }));
    const ul = el("ul");
    for (const [s, v] of Object.entries(a.data_edge)) ul.append(el("li", { textContent: edgeText(s, v), title: v }));
    edge.append(ul);
  }
  // the sector ranking: each bar with its interval and evidence in a tooltip
  for (const li of document.querySelectorAll("#breakdown-list li")) {
    const s = a.sectors.find((x) => x.sector === li.dataset.sector);
    if (s) li.title = `${sectorName(s.sector)}: ${formatTonnes(s.emissions_t)} (90%: ${formatTonnes(s.lower_t)}–` +
      `${formatTonnes(s.upper_t)}); evidence: ${evidenceText(s.evidence) || "–"}`;
  }
  // history and peak
  const h = a.history;
  if (h && h.years && h.years.length) {
    $("history-figure").hidden = false;
    drawHistory($("history-chart"), { years: h.years, total: h.total_t, lower: h.lower_t, upper: h.upper_t,
      basis: h.basis, peakYear: a.peak && a.peak.verdict === "peaked" ? a.peak.peak_year : null });
    const est = h.basis.filter((b) => b === "estimated").length;
    $("history-caption").textContent = `Annual emissions ${h.years[0]}–${h.years[h.years.length - 1]}, t CO2 per year, ` +
      `with the 90% interval${est ? `; dashed: ${est} estimated years (${h.note})` : ""}.`;
  }
  $("peak").replaceChildren(el("strong", { textContent: "Peak: " }), verdictText(a.peak));
  // facilities
  const list = $("facilities");
  list.replaceChildren();
  const features = [];
  const add = (f, ol) => {
    const closed = f.status !== "operating";
    const text = closed
      ? `${f.name} (${f.kind}) — ${f.status}${f.closed_year ? ` in ${f.closed_year}` : ""}, emits nothing` +
        (f.former_t_per_year ? ` (was ${formatTonnes(f.former_t_per_year)} a year)` : "")
      : `${f.name} (${f.kind}) — ${formatTonnes(f.emissions_t)} (${formatTonnes(f.t_per_year)} a year)` +
        (f.share_of_sector !== null ? `, ${Math.round(f.share_of_sector * 100)}% of ${sectorName(f.sector)}` : "") +
        (f.basis === "reported" ? ", reported" : ", estimated");
    const li = el("li", { textContent: text });
    Object.assign(li.dataset, { status: closed ? "closed" : "operating", lon: String(f.lon), lat: String(f.lat),
      name: f.name, sector: f.sector, value: String(f.emissions_t) });
    ol.append(li);
    features.push({ type: "Feature", properties: { name: f.name, status: closed ? "closed" : "operating" },
      geometry: { type: "Point", coordinates: [f.lon, f.lat] } });
  };
  const fac = a.facilities;
  for (const f of fac.operating) add(f, list);
  const closedList = $("facilities-closed");
  closedList.replaceChildren();
  for (const f of fac.closed.slice(0, 5)) add(f, closedList);
  $("facilities-block").hidden = !(fac.operating.length || fac.closed.length);
  $("facilities-note").textContent = fac.available ? fac.method : fac.method;
  document.body.dataset.analysis = label;
  return features;
}
