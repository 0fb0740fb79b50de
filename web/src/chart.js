// Dependency-free charts on <canvas>: a time series (line, 90% band, the map's current day), the annual history
// (band, estimated years dashed) and the roadmap (stacked sectors, the current trend, the target).
// Numbers are in t CO2 per period; `formatTonnes` picks t, kt or Mt.
import { formatTonnes } from "./format.js";

export { formatTonnes };

function niceTicks(lo, hi, n) {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
  return ticks;
}

/**
 * Draw `series` ([{date: "YYYY-MM-DD", value, lower, upper}], t CO2 day-1) into `canvas`.
 * `highlight` is a date to mark (the map's day). Returns the drawn y range.
 */
export function drawSeries(canvas, series, { highlight = null, color = "#ff9f43", small = false } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.font = `${small ? 10 : 11}px system-ui, sans-serif`;
  if (!series.length) return null;
  const lows = series.map((d) => (Number.isFinite(d.lower) ? d.lower : d.value));
  const highs = series.map((d) => (Number.isFinite(d.upper) ? d.upper : d.value));
  let lo = Math.min(0, ...lows), hi = Math.max(...highs);
  if (hi <= lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi, small ? 2 : 4);
  hi = Math.max(hi, ticks[ticks.length - 1]);
  const left = 52, right = 8, top = 8, bottom = 22;
  const W = cssW - left - right, H = cssH - top - bottom;
  const n = series.length;
  const x = (i) => left + (n === 1 ? W / 2 : (i * W) / (n - 1));
  const y = (v) => top + H - ((v - lo) / (hi - lo)) * H;

  ctx.strokeStyle = "#d5dae3"; ctx.fillStyle = "#4a5568"; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of ticks) {
    const yy = Math.round(y(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + W, yy); ctx.stroke();
    ctx.fillText(formatTonnes(t), left - 4, yy);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  const every = Math.max(1, Math.ceil(n / (small ? 3 : 5)));
  for (let i = 0; i < n; i += every) ctx.fillText(series[i].date.slice(5), x(i), top + H + 5);

  const hiIdx = highlight ? series.findIndex((d, i) => d.date <= highlight
    && (i === series.length - 1 || series[i + 1].date > highlight)) : -1;
  if (hiIdx >= 0) {
    ctx.strokeStyle = "#7c8594"; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x(hiIdx), top); ctx.lineTo(x(hiIdx), top + H); ctx.stroke();
    ctx.setLineDash([]);
  }
  if (series.some((d) => Number.isFinite(d.lower) && Number.isFinite(d.upper))) {
    ctx.fillStyle = color + "33";
    ctx.beginPath();
    series.forEach((d, i) => ctx.lineTo(x(i), y(highs[i])));
    for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(i), y(lows[i]));
    ctx.closePath(); ctx.fill();
  }
  ctx.strokeStyle = color; ctx.lineWidth = 2;
  ctx.beginPath();
  series.forEach((d, i) => (i ? ctx.lineTo(x(i), y(d.value)) : ctx.moveTo(x(i), y(d.value))));
  ctx.stroke();
  ctx.fillStyle = color;
  series.forEach((d, i) => { ctx.beginPath(); ctx.arc(x(i), y(d.value), i === hiIdx ? 4 : 2, 0, 2 * Math.PI); ctx.fill(); });
  return [lo, hi];
}

/** Fill a <tbody> with one row per day; full-precision numbers are kept in data-* attributes. */
export function fillTable(tbody, series) {
  tbody.replaceChildren();
  for (const d of series) {
    const tr = document.createElement("tr");
    tr.dataset.date = d.date;
    tr.dataset.value = String(d.value);
    tr.dataset.lower = String(d.lower);
    tr.dataset.upper = String(d.upper);
    const cells = [d.date, formatTonnes(d.value), `${formatTonnes(d.lower)} – ${formatTonnes(d.upper)}`];
    for (const [k, text] of cells.entries()) {
      const td = document.createElement(k ? "td" : "th");
      if (!k) td.scope = "row";
      td.textContent = text;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
}

function frame(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.font = "11px system-ui, sans-serif";
  return { ctx, cssW, cssH };
}

function axes(ctx, x0, x1, lo, hi, box) {
  const { left, top, W, H } = box;
  const x = (v) => left + ((v - x0) / Math.max(x1 - x0, 1)) * W;
  const y = (v) => top + H - ((v - lo) / (hi - lo)) * H;
  ctx.strokeStyle = "#d5dae3"; ctx.fillStyle = "#4a5568"; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of niceTicks(lo, hi, 4)) {
    const yy = Math.round(y(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + W, yy); ctx.stroke();
    ctx.fillText(formatTonnes(t), left - 4, yy);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  const step = Math.max(1, Math.ceil((x1 - x0) / 6));
  for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) ctx.fillText(String(v), x(v), top + H + 5);
  return { x, y };
}

/** The annual history: `years`, `total`, `lower`, `upper` (t CO2 yr-1) and `basis` per year ('estimated' dashed). */
export function drawHistory(canvas, h, { color = "#ff9f43" } = {}) {
  const { ctx, cssW, cssH } = frame(canvas);
  const n = (h.years || []).length;
  if (!n) return null;
  const hiv = Math.max(...h.upper, ...h.total);
  const ticks = niceTicks(0, hiv, 4);
  const box = { left: 56, top: 8, W: cssW - 64, H: cssH - 30 };
  const { x, y } = axes(ctx, h.years[0], h.years[n - 1], 0, Math.max(hiv, ticks[ticks.length - 1]), box);
  ctx.fillStyle = color + "33";
  ctx.beginPath();
  h.years.forEach((yr, i) => ctx.lineTo(x(yr), y(h.upper[i])));
  for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(h.years[i]), y(h.lower[i]));
  ctx.closePath(); ctx.fill();
  ctx.strokeStyle = color; ctx.lineWidth = 2;
  for (let i = 1; i < n; i++) {
    ctx.setLineDash(h.basis[i] === "estimated" || h.basis[i - 1] === "estimated" ? [4, 3] : []);
    ctx.beginPath(); ctx.moveTo(x(h.years[i - 1]), y(h.total[i - 1])); ctx.lineTo(x(h.years[i]), y(h.total[i]));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  if (h.peakYear) {
    const i = h.years.indexOf(h.peakYear);
    if (i >= 0) {
      ctx.fillStyle = "#a01818"; ctx.beginPath(); ctx.arc(x(h.peakYear), y(h.total[i]), 4, 0, 2 * Math.PI); ctx.fill();
    }
  }
  return true;
}

export const SECTOR_COLORS = {
  power: "#e8590c", industry: "#845ef7", ground_transport: "#1c7ed6", residential: "#2b8a3e",
  domestic_aviation: "#f59f00", international_aviation: "#868e96", international_shipping: "#0b7285",
};

/** The roadmap: history totals (grey), stacked sector pathway, the current trend (dashed) and the target (dot). */
export function drawPathway(canvas, p) {
  const { ctx, cssW, cssH } = frame(canvas);
  const years = p.years.map((y) => y.year);
  const hist = (p.history.years || []).map((yr, i) => [yr, p.history.total_t[i]]).filter(([yr]) => yr >= years[0] - 15);
  const x0 = hist.length ? hist[0][0] : years[0], x1 = years[years.length - 1];
  const top = Math.max(...p.years.map((y) => Math.max(y.total_t, y.trend_t)), ...hist.map((h) => h[1]));
  const ticks = niceTicks(0, top, 4);
  const box = { left: 56, top: 8, W: cssW - 64, H: cssH - 30 };
  const { x, y } = axes(ctx, x0, x1, 0, Math.max(top, ticks[ticks.length - 1]), box);
  const sectors = Object.keys(p.years[0].sectors).filter((s) => p.years.some((yy) => yy.sectors[s] > 0));
  const base = years.map(() => 0);
  for (const s of sectors) {
    const upper = p.years.map((yy, i) => base[i] + yy.sectors[s]);
    ctx.fillStyle = (SECTOR_COLORS[s] || "#999") + "cc";
    ctx.beginPath();
    years.forEach((yr, i) => ctx.lineTo(x(yr), y(upper[i])));
    for (let i = years.length - 1; i >= 0; i--) ctx.lineTo(x(years[i]), y(base[i]));
    ctx.closePath(); ctx.fill();
    upper.forEach((v, i) => { base[i] = v; });
  }
  if (hist.length) {
    ctx.strokeStyle = "#4a5568"; ctx.lineWidth = 2; ctx.beginPath();
    hist.forEach(([yr, v], i) => (i ? ctx.lineTo(x(yr), y(v)) : ctx.moveTo(x(yr), y(v))));
    ctx.stroke();
  }
  ctx.strokeStyle = "#1d2330"; ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5; ctx.beginPath();
  p.years.forEach((yy, i) => (i ? ctx.lineTo(x(yy.year), y(yy.trend_t)) : ctx.moveTo(x(yy.year), y(yy.trend_t))));
  ctx.stroke(); ctx.setLineDash([]);
  ctx.fillStyle = "#a01818"; ctx.beginPath(); ctx.arc(x(x1), y(p.target_t), 5, 0, 2 * Math.PI); ctx.fill();
  return sectors;
}
