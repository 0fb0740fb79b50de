// Exports of what the panel shows: the series as a tidy CSV, the panel's charts as one PNG.

/** Offer `blob` as a download called `name`. */
export function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

const q = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

/** CSV of a region answer's periods: one row per period, the total with its interval and every sector (t CO2). */
export function seriesCSV(result, regionLabel) {
  const sectors = result.sectors || Object.keys((result.periods[0] || {}).sectors || {});
  const head = ["region", "period", "start", "end", "days", "total_t", "lower_t", "upper_t", ...sectors.map((s) => `${s}_t`)];
  const rows = [head.join(",")];
  for (const p of result.periods || []) {
    rows.push([q(regionLabel), p.period, p.start, p.end, p.days, p.total.emissions, p.total.lower, p.total.upper,
      ...sectors.map((s) => (p.sectors[s] ? p.sectors[s].emissions : ""))].join(","));
  }
  return `${rows.join("\n")}\n`;
}

/** One PNG of the visible canvases (each under its caption), white background, with a title line. */
export function panelPNG(title, canvases) {
  const shown = canvases.filter((c) => c && c.offsetParent !== null && c.width > 0);
  const pad = 12, titleH = 28;
  const width = Math.max(400, ...shown.map((c) => c.width)) + 2 * pad;
  const height = titleH + shown.reduce((h, c) => h + c.height + pad, 0) + pad;
  const out = document.createElement("canvas");
  out.width = width; out.height = height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#1d2330"; ctx.font = "bold 15px system-ui, sans-serif";
  ctx.fillText(title, pad, 20);
  let y = titleH;
  for (const c of shown) {
    ctx.drawImage(c, pad, y);
    y += c.height + pad;
  }
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}
