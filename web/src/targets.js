// The target check and the roadmap of the selection (the forms are built by roadmap.js).
import { ApiError, getJSON, postJSON, url } from "./api.js";
import { $, currentTicket, isCurrent, setStatus, state } from "./context.js";
import { leverParams, showPathway, showTarget, targetParams } from "./roadmap.js";
import { fetchAnalysis, numbers, regionPath, showAnalysis } from "./selection.js";

export async function runTarget() {
  const sel = state.selection;
  if (!sel) return;
  const target = targetParams();
  if (!Object.keys(target).length) {
    showTarget(null, $("target-kind").value === "peak" ? "Give the year by which emissions should peak."
      : "Give the cut in %, the target year and the base year.");
    return;
  }
  const ticket = currentTicket();
  setStatus($("target-result"), "Checking the target…");
  try {
    const a = await fetchAnalysis(sel, target);
    if (a && isCurrent(ticket)) showAnalysis(a, sel.label);
  } catch (err) {
    if (isCurrent(ticket)) showTarget(null, err.message);
  }
}

export async function runPathway() {
  const sel = state.selection;
  if (!sel) return;
  const target = targetParams();
  const levers = leverParams();
  const ticket = currentTicket();
  setStatus($("pathway-status"), "Computing the roadmap…");
  try {
    let p, href = null;
    if (sel.kind === "geometry") {
      const body = { geometry: sel.geometry, dataset: state.dataset, ...numbers(target), levers };
      p = await postJSON("/emissions/pathway", body);
      const r = await fetch(url("/emissions/pathway?format=csv"), { method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" } });
      href = URL.createObjectURL(await r.blob());
    } else {
      const q = new URLSearchParams({ dataset: state.dataset, ...target, ...Object.fromEntries(
        Object.entries(levers).map(([k, v]) => [k, String(v)])) });
      p = await getJSON(`${regionPath(sel, "pathway")}?${q}`);
      q.set("format", "csv");
      href = url(`${regionPath(sel, "pathway")}?${q}`);
    }
    if (!isCurrent(ticket)) return;
    setStatus($("pathway-status"), p.reaches_target ? "This roadmap reaches the target." : "Even this roadmap misses the target.",
      p.reaches_target ? "ok" : "note");
    showPathway(p, href);
  } catch (err) {
    if (isCurrent(ticket)) setStatus($("pathway-status"), err instanceof ApiError ? err.message : String(err), "error");
  }
}
