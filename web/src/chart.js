// A dependency-free time-series chart on <canvas>: line, 90% band, axes, and the map's current day.
// Numbers are in t CO2 per day; `formatTonnes` picks t, kt or Mt.

/** "12.3 kt" style text for a value in tonnes. */
export function formatTonnes(t) {
  const a = Math.abs(t);
  if (!Number.isFinite(t)) return "–";
  if (t === 0) return "0";
  if (a >= 1e6) return `${(t / 1e6).toPrecision(3)} Mt`;
  if (a >= 1e3) return `${(t / 1e3).toPrecision(3)} kt`;
  return `${t.toPrecision(3)} t`;
}

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

  const hiIdx = series.findIndex((d) => d.date === highlight);
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
