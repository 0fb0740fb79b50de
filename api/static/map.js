// carbonmap's minimal web map: WebMercator tiles in a plain <div>, no dependencies, no CDN.
// State (dataset, date, sector, zoom, centre) lives in the URL hash so a view can be shared.
"use strict";
(function () {
  const TILE = 256, MIN_Z = 0, MAX_Z = 6, TMS = "WebMercatorQuad";
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map"), tilesEl = $("tiles"), canvas = $("graticule");
  const state = { dataset: null, date: null, sector: "total", z: 1, lat: 20, lon: 0, info: null };

  // --- projection: lon/lat <-> world pixels at zoom z ---------------------------------------
  const worldSize = (z) => TILE * Math.pow(2, z);
  const clampLat = (lat) => Math.max(-85.0511, Math.min(85.0511, lat));
  function project(lon, lat, z) {
    const s = Math.sin((clampLat(lat) * Math.PI) / 180);
    const w = worldSize(z);
    return [((lon + 180) / 360) * w, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * w];
  }
  function unproject(x, y, z) {
    const w = worldSize(z);
    const lon = (x / w) * 360 - 180;
    const n = Math.PI - (2 * Math.PI * y) / w;
    return [((((lon + 180) % 360) + 360) % 360) - 180, (180 / Math.PI) * Math.atan(Math.sinh(n))];
  }

  // --- URL hash ------------------------------------------------------------------------------
  function readHash() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (p.get("dataset")) state.dataset = p.get("dataset");
    if (p.get("date")) state.date = p.get("date");
    if (p.get("sector")) state.sector = p.get("sector");
    const z = parseInt(p.get("z"), 10), lat = parseFloat(p.get("lat")), lon = parseFloat(p.get("lon"));
    if (Number.isFinite(z)) state.z = Math.max(MIN_Z, Math.min(MAX_Z, z));
    if (Number.isFinite(lat)) state.lat = clampLat(lat);
    if (Number.isFinite(lon)) state.lon = lon;
  }
  function writeHash() {
    const p = new URLSearchParams({ dataset: state.dataset || "", date: state.date || "", sector: state.sector,
      z: String(state.z), lat: state.lat.toFixed(3), lon: state.lon.toFixed(3) });
    history.replaceState(null, "", "#" + p.toString());
  }

  // --- tiles ---------------------------------------------------------------------------------
  let tileImgs = new Map(); // key "z/x/y" -> <img>
  function tileUrl(z, x, y) {
    const q = new URLSearchParams({ date: state.date, sector: state.sector });
    return `/tiles/${encodeURIComponent(state.dataset)}/${TMS}/${z}/${x}/${y}.png?${q}`;
  }
  function clearTiles() { tilesEl.replaceChildren(); tileImgs = new Map(); }
  function render() {
    const w = mapEl.clientWidth, h = mapEl.clientHeight, z = state.z, n = Math.pow(2, z);
    const [cx, cy] = project(state.lon, state.lat, z);
    const left = cx - w / 2, top = cy - h / 2;
    const wanted = new Set();
    if (state.dataset && state.date) {
      for (let ty = Math.max(0, Math.floor(top / TILE)); ty <= Math.min(n - 1, Math.floor((top + h) / TILE)); ty++) {
        for (let tx = Math.floor(left / TILE); tx <= Math.floor((left + w) / TILE); tx++) {
          const wx = ((tx % n) + n) % n; // wrap around the antimeridian
          const key = `${z}/${tx}/${ty}`;
          wanted.add(key);
          let img = tileImgs.get(key);
          if (!img) {
            img = new Image(TILE, TILE);
            img.alt = "";
            img.draggable = false;
            img.onerror = () => { img.style.visibility = "hidden"; };
            img.src = tileUrl(z, wx, ty);
            tileImgs.set(key, img);
            tilesEl.appendChild(img);
          }
          img.style.left = `${Math.round(tx * TILE - left)}px`;
          img.style.top = `${Math.round(ty * TILE - top)}px`;
        }
      }
    }
    for (const [key, img] of tileImgs) if (!wanted.has(key)) { img.remove(); tileImgs.delete(key); }
    drawGraticule(w, h, left, top, z);
    $("zoom-level").textContent = `z${z}`;
    writeHash();
  }
  function drawGraticule(w, h, left, top, z) {
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.strokeStyle = "rgba(200, 215, 230, 0.25)";
    ctx.lineWidth = 1;
    const W = worldSize(z);
    for (let lon = -180; lon <= 180; lon += 30) {
      const x0 = project(lon, 0, z)[0];
      for (let k = Math.floor(left / W) - 1; k <= Math.ceil((left + w) / W) + 1; k++) {
        const x = x0 + k * W - left;
        if (x >= 0 && x <= w) { ctx.beginPath(); ctx.moveTo(x + 0.5, 0); ctx.lineTo(x + 0.5, h); ctx.stroke(); }
      }
    }
    for (let lat = -60; lat <= 60; lat += 30) {
      const y = project(0, lat, z)[1] - top;
      if (y >= 0 && y <= h) { ctx.beginPath(); ctx.moveTo(0, y + 0.5); ctx.lineTo(w, y + 0.5); ctx.stroke(); }
    }
  }

  // --- pan and zoom --------------------------------------------------------------------------
  function setCentreFromPixels(x, y) {
    const W = worldSize(state.z), h = mapEl.clientHeight;
    const yMin = Math.min(h / 2, W / 2), yMax = Math.max(W - h / 2, W / 2);
    [state.lon, state.lat] = unproject(x, Math.max(yMin, Math.min(yMax, y)), state.z);
  }
  function zoomAt(newZ, px, py) {
    newZ = Math.max(MIN_Z, Math.min(MAX_Z, newZ));
    if (newZ === state.z) return;
    const w = mapEl.clientWidth, h = mapEl.clientHeight;
    const [cx, cy] = project(state.lon, state.lat, state.z);
    const [plon, plat] = unproject(cx - w / 2 + px, cy - h / 2 + py, state.z); // keep this point under the cursor
    state.z = newZ;
    const [qx, qy] = project(plon, plat, newZ);
    setCentreFromPixels(qx - px + w / 2, qy - py + h / 2);
    clearTiles();
    render();
  }
  let drag = null;
  mapEl.addEventListener("pointerdown", (e) => {
    const [cx, cy] = project(state.lon, state.lat, state.z);
    drag = { x: e.clientX, y: e.clientY, cx, cy };
    mapEl.setPointerCapture(e.pointerId);
    mapEl.classList.add("dragging");
  });
  mapEl.addEventListener("pointermove", (e) => {
    const r = mapEl.getBoundingClientRect();
    const [cx, cy] = project(state.lon, state.lat, state.z);
    const [lon, lat] = unproject(cx - r.width / 2 + e.clientX - r.left, cy - r.height / 2 + e.clientY - r.top, state.z);
    $("cursor").textContent = `${lat.toFixed(2)}°, ${lon.toFixed(2)}°`;
    if (!drag) return;
    setCentreFromPixels(drag.cx - (e.clientX - drag.x), drag.cy - (e.clientY - drag.y));
    render();
  });
  const endDrag = () => { drag = null; mapEl.classList.remove("dragging"); };
  mapEl.addEventListener("pointerup", endDrag);
  mapEl.addEventListener("pointercancel", endDrag);
  let wheelLock = 0;
  mapEl.addEventListener("wheel", (e) => {
    e.preventDefault();
    const now = Date.now();
    if (now - wheelLock < 250) return; // one zoom step per gesture
    wheelLock = now;
    const r = mapEl.getBoundingClientRect();
    zoomAt(state.z + (e.deltaY < 0 ? 1 : -1), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  $("zoom-in").onclick = () => zoomAt(state.z + 1, mapEl.clientWidth / 2, mapEl.clientHeight / 2);
  $("zoom-out").onclick = () => zoomAt(state.z - 1, mapEl.clientWidth / 2, mapEl.clientHeight / 2);
  mapEl.addEventListener("keydown", (e) => {
    if (e.key === "+" || e.key === "=") $("zoom-in").onclick();
    else if (e.key === "-") $("zoom-out").onclick();
  });
  window.addEventListener("resize", render);

  // --- dataset description, pickers, legend, provenance ---------------------------------------
  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || `${url}: HTTP ${r.status}`);
    return body;
  }
  function li(parent, html) { const e = document.createElement("li"); e.innerHTML = html; parent.appendChild(e); }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  async function loadLegend() {
    const body = $("legend-body");
    try {
      const q = new URLSearchParams({ sector: state.sector });
      const lg = await getJSON(`/tiles/${encodeURIComponent(state.dataset)}/legend?${q}`);
      body.replaceChildren();
      for (const c of lg.classes || []) {
        const row = document.createElement("div");
        row.className = "legend-row";
        row.innerHTML = `<span class="legend-swatch" style="background:${esc(c.color)}"></span>${esc(c.label)}`;
        body.appendChild(row);
      }
      const u = document.createElement("div");
      u.textContent = `${lg.units_long || lg.units || ""}${lg.scale ? ` (${lg.scale} scale)` : ""}`;
      body.appendChild(u);
    } catch (err) {
      body.textContent = `legend unavailable: ${err.message}`;
    }
  }

  function describe(info) {
    state.info = info;
    const dateEl = $("date");
    dateEl.min = info.time.start; dateEl.max = info.time.end;
    if (!state.date || state.date < info.time.start || state.date > info.time.end) state.date = info.time.start;
    dateEl.value = state.date;
    const sectorEl = $("sector");
    sectorEl.replaceChildren();
    for (const s of [{ id: "total", long_name: "All sectors (total)" }, ...info.sectors]) {
      sectorEl.add(new Option(s.long_name, s.id));
    }
    if (![...sectorEl.options].some((o) => o.value === state.sector)) state.sector = "total";
    sectorEl.value = state.sector;
    $("status").textContent = `${info.title}: ${info.time.start} to ${info.time.end}, daily, ` +
      `${info.grid.resolution_deg}° grid, ${info.sectors.length} sectors. Colours: see the legend.`;
    const prox = $("proxies"); prox.replaceChildren();
    for (const p of info.provenance.proxies) li(prox, esc(p));
    if (!info.provenance.proxies.length) li(prox, "No simplified proxy is declared for this dataset.");
    const inputs = $("inputs"); inputs.replaceChildren();
    for (const i of info.provenance.inputs) {
      li(inputs, `<span class="tag ${i.real ? "real" : "proxy"}">${i.real ? "real" : "proxy"}</span> ` +
        `${esc(i.source)} — ${esc(i.role)} (licence: ${esc(i.license)})`);
    }
    if (!info.provenance.inputs.length) li(inputs, "No input file is listed (synthetic dataset).");
    $("license").textContent = `Licence: ${info.license}`;
    $("citation").textContent = `Cite as: ${info.citation}`;
    $("definition").textContent = "Country totals (GET /regions/{ISO3}/emissions) are national inventory " +
      "territories: the national table the grid conserves.";
    $("dataset-link").href = `/datasets/${encodeURIComponent(info.id)}`;
  }

  async function selectDataset(id) {
    state.dataset = id;
    try {
      describe(await getJSON(`/datasets/${encodeURIComponent(id)}`));
    } catch (err) {
      $("status").textContent = err.message; $("status").className = "error";
      return;
    }
    clearTiles(); render(); loadLegend();
  }

  $("date").addEventListener("change", (e) => {
    const v = e.target.value;
    if (!v || !state.info || v < state.info.time.start || v > state.info.time.end) { e.target.value = state.date; return; }
    state.date = v; clearTiles(); render(); loadLegend();
  });
  $("sector").addEventListener("change", (e) => { state.sector = e.target.value; clearTiles(); render(); loadLegend(); });
  $("dataset").addEventListener("change", (e) => selectDataset(e.target.value));

  window.addEventListener("hashchange", () => { // a pasted or edited link
    const before = state.dataset;
    readHash();
    if (state.dataset !== before) { $("dataset").value = state.dataset; selectDataset(state.dataset); return; }
    if (state.info && (state.date < state.info.time.start || state.date > state.info.time.end)) state.date = state.info.time.start;
    $("date").value = state.date; $("sector").value = state.sector;
    clearTiles(); render(); loadLegend();
  });

  async function start() {
    readHash();
    let list;
    try { list = await getJSON("/datasets"); } catch (err) { $("status").textContent = err.message; return; }
    if (!list.length) { $("status").textContent = "This server serves no dataset yet; build one with `carbonmap build`."; return; }
    const sel = $("dataset");
    for (const d of list) sel.add(new Option(d.title || d.id, d.id));
    if (!list.some((d) => d.id === state.dataset)) state.dataset = list[0].id;
    sel.value = state.dataset;
    await selectDataset(state.dataset);
  }
  render();
  start();
})();
