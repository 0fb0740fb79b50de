// The dataset: its description and provenance, its days (the day slider and playing through them) and the
// period the panel sums over.
import { getJSON } from "./api.js";
import { $, NATIONAL_NAMES, TOTAL, abs, daysBetween, enc, hashAtLoad, longDate, period, setStatus, state, waitIdle,
  writeHash } from "./context.js";
import { linkify } from "./format.js";
import { updateTiles } from "./layers.js";
import { loadLegend } from "./legend.js";
import { redrawCharts, select, selectCountry } from "./selection.js";
import { fillSearchOptions, go } from "./search.js";

// ---- time -----------------------------------------------------------------------------------
export async function setDay(index, { fromHash = false } = {}) {
  state.day = Math.max(0, Math.min(state.days.length - 1, index));
  $("day").value = String(state.day);
  $("date-label").textContent = longDate(state.days[state.day]);
  $("day").setAttribute("aria-valuetext", state.days[state.day]);
  if (!fromHash) writeHash();
  redrawCharts();
  await updateTiles();
}

export async function play() {
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

export function applyPeriod(start, end) {
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
  $("dataset-link").href = abs(`/datasets/${enc(info.id)}`);
  const now = new Date(`${info.time.end}T00:00:00Z`).getUTCFullYear();
  $("peak-year").placeholder = String(now + 2);
  $("target-year").min = String(now + 1);
}

export async function selectDataset(id, { date = null } = {}) {
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
