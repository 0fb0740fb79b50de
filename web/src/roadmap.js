// Target and roadmap inputs of the panel: a peak year, or a cut of X% by year Y against base year B; the four
// what-if levers; the answers of the analysis (target gap) and of the pathway endpoint (chart, table, CSV).
import { SECTOR_COLORS, drawPathway } from "./chart.js";
import { formatPct, formatTonnes, sectorName } from "./format.js";

const $ = (id) => document.getElementById(id);

export const LEVERS = {
  coal_share_power: { label: "Coal share of electricity", unit: "% of generation", min: 0, max: 100, value: 0,
    help: "coal generation above or below today's share is replaced by (replaces) non-fossil generation" },
  industry_energy_intensity_pct: { label: "Industrial energy intensity", unit: "% change", min: -80, max: 50, value: 0,
    help: "energy per unit of output; process CO2 (cement, flaring) does not change" },
  electric_share_road: { label: "Electric share of road transport", unit: "% of vehicle-km", min: 0, max: 100, value: 0,
    help: "tailpipe CO2 falls; the electricity they use is added to power" },
  building_heat_demand_pct: { label: "Building heat demand", unit: "% change", min: -80, max: 50, value: 0,
    help: "space and water heating, 80% of buildings' direct CO2" },
};

/** Build the lever inputs once (range + number output; a lever counts only once it has been moved). */
export function buildLevers() {
  const box = $("levers-body");
  box.replaceChildren();
  for (const [name, l] of Object.entries(LEVERS)) {
    const id = `lever-${name}`;
    const row = document.createElement("div");
    row.className = "lever";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `${l.label} (${l.unit})`;
    label.title = l.help;
    const input = Object.assign(document.createElement("input"), { type: "range", id, min: l.min, max: l.max,
      step: 1, value: l.value });
    input.dataset.lever = name;
    const out = Object.assign(document.createElement("output"), { htmlFor: id, textContent: "off" });
    input.addEventListener("input", () => { input.dataset.touched = "true"; out.textContent = input.value; });
    row.append(label, input, out);
    box.appendChild(row);
  }
  $("levers-reset").addEventListener("click", () => {
    for (const input of document.querySelectorAll("#levers-body input")) {
      delete input.dataset.touched;
      input.value = LEVERS[input.dataset.lever].value;
      input.nextElementSibling.textContent = "off";
    }
  });
  const sync = () => {
    const kind = $("target-kind").value;
    for (const e of document.querySelectorAll(".peak-only")) e.hidden = kind !== "peak";
    for (const e of document.querySelectorAll(".cut-only")) e.hidden = kind !== "cut";
  };
  $("target-kind").addEventListener("change", sync);
  sync();
}

/** The target as query parameters (only what the user filled in: the API says what is missing). */
export function targetParams() {
  const out = {};
  const put = (key, id) => { const v = $(id).value.trim(); if (v !== "") out[key] = v; };
  if ($("target-kind").value === "peak") put("peak_year", "peak-year");
  else if ($("target-kind").value === "cut") {
    put("target_year", "target-year"); put("cut_pct", "cut-pct"); put("base_year", "base-year");
  }
  return out;
}

/** The levers the user moved, as {name: number}. */
export function leverParams() {
  const out = {};
  for (const input of document.querySelectorAll("#levers-body input[data-touched='true']")) {
    out[input.dataset.lever] = Number(input.value);
  }
  return out;
}

export function showTarget(t, error = null) {
  const p = $("target-result");
  if (error) {
    p.textContent = error;
    p.className = "status error";
    return;
  }
  if (!t) {
    p.textContent = "";
    return;
  }
  p.className = `status ${t.on_track ? "ok" : "note"}`;
  const rate = t.kind === "cut"
    ? `It needs ${formatPct(t.required_annual_change_pct)} a year from ${t.now_year} to ${t.year}`
    : t.met ? "Met" : `Growth must slow by ${t.required_slowdown_pp_per_year.toFixed(2)} percentage points a year ` +
      `(${formatPct(t.required_annual_change_pct)} next year)`;
  const gap = t.kind === "cut"
    ? ` ${t.now_year}: ${formatTonnes(t.now_t)}, ${formatTonnes(Math.abs(t.gap_t))} ${t.gap_t > 0 ? "above" : "below"} ` +
      `the straight path (${formatTonnes(t.path_t_now)}); target ${formatTonnes(t.target_t)}.`
    : "";
  p.textContent = `${t.description[0].toUpperCase()}${t.description.slice(1)}: ${t.on_track ? "on track" : "not on track"}` +
    ` (current trend ${formatPct(t.trend_growth_pct)} a year).${gap} ${rate}.`;
}

/** Draw a pathway answer: chart, legend of sectors, required change per sector, yearly table. */
export function showPathway(p, csvHref) {
  $("pathway-figure").hidden = false;
  const sectors = drawPathway($("pathway-chart"), p);
  $("pathway-caption").textContent = `Roadmap to "${p.target.description}": sectors stacked (t CO2 per year), ` +
    `grey: the past, dashed: the current trend, red dot: the target. Implied peak: ${p.implied_peak_year}; ` +
    `${formatTonnes(p.cumulative_t)} emitted ${p.years[1] ? p.years[1].year : ""}–${p.target.year} ` +
    `(${formatTonnes(p.cumulative_trend_t - p.cumulative_t)} less than on the trend); ` +
    `${formatTonnes(p.gap_to_trend_t)} below the trend in ${p.target.year}.`;
  const req = $("pathway-required");
  req.replaceChildren();
  for (const s of sectors) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = SECTOR_COLORS[s] || "#999";
    li.append(sw, `${sectorName(s)}: ${formatPct(p.required_annual_change_pct[s])} a year ` +
      `(trend ${formatPct(p.trend_growth_pct[s])})`);
    req.appendChild(li);
  }
  $("pathway-levers").textContent = p.levers.length ? p.levers.map((l) => l.effect).join("; ") : "No lever moved.";
  const body = $("pathway-table").querySelector("tbody");
  body.replaceChildren();
  for (const y of p.years) {
    const tr = document.createElement("tr");
    for (const [k, v] of [["th", String(y.year)], ["td", formatTonnes(y.total_t)], ["td", formatTonnes(y.trend_t)]]) {
      const c = document.createElement(k);
      if (k === "th") c.scope = "row";
      c.textContent = v;
      tr.appendChild(c);
    }
    body.appendChild(tr);
  }
  $("pathway-details").hidden = false;
  const a = $("pathway-csv");
  a.href = csvHref || "";
  a.hidden = !csvHref;
}

export function clearRoadmap() {
  showTarget(null);
  $("pathway-figure").hidden = true;
  $("pathway-details").hidden = true;
  $("pathway-csv").hidden = true;
  $("pathway-status").textContent = "";
}
