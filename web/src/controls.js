// The controls of the page: dataset, sector, day, search, drawing, opacity, period, target, roadmap, exports,
// and following an edited URL hash.
import { $, drawer, longDate, map, period, state, writeHash } from "./context.js";
import { download, panelPNG, seriesCSV } from "./export.js";
import { parseHash } from "./hash.js";
import { updateTiles } from "./layers.js";
import { loadLegend } from "./legend.js";
import { applyPeriod, play, selectDataset, setDay } from "./dataset.js";
import { go, onSearchGo, onSearchInput } from "./search.js";
import { redrawCharts, selectCountry } from "./selection.js";
import { runPathway, runTarget } from "./targets.js";

export function wireControls() {
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
