// The legend: the colour ramp, its readable ticks and units from the server's legend JSON, and the selection's
// data edge for the picked sector.
import { getJSON } from "./api.js";
import { $, TOTAL, enc, state } from "./context.js";
import { legendEdge } from "./panel.js";

const density = (v) => Number(v).toLocaleString("en-US", { maximumSignificantDigits: 2 });

export async function loadLegend() {
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
export function updateLegendEdge() {
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
