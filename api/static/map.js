// Built by web/build.mjs from web/src/*.js — edit those, then `npm run build` in web/.
(() => {
  // src/api.js
  var ApiError = class extends Error {
    constructor(status, detail, url) {
      super(detail);
      this.status = status;
      this.url = url;
    }
  };
  var RouteMissing = class extends ApiError {
  };
  async function send(url, init) {
    const r = await fetch(url, { ...init, headers: { Accept: "application/json", ...init && init.headers } });
    const body = await r.json().catch(() => ({}));
    if (r.ok) return body;
    const detail = typeof body.detail === "string" ? body.detail : `${url}: HTTP ${r.status}`;
    const missing = r.status === 405 || r.status === 404 && /^(no endpoint at|Not Found$)/.test(detail);
    throw new (missing ? RouteMissing : ApiError)(r.status, detail, url);
  }
  var getJSON = (url) => send(url, { method: "GET" });
  var postJSON = (url, body) => send(url, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  async function capabilities() {
    let paths = {};
    try {
      paths = (await getJSON("/openapi.json")).paths || {};
    } catch (err) {
      console.warn("no OpenAPI document; optional features are probed on use", err);
    }
    const has = (path, method) => Boolean(paths[path] && paths[path][method]);
    const pointPath = Object.keys(paths).find((p) => /point.?sources|power.?plants|^\/regions\/\{[^}]+\}\/analysis$/.test(p) && paths[p].get);
    return {
      regionSearch: has("/regions", "get"),
      regionShape: Object.keys(paths).some((p) => /^\/regions\/\{[^}]+\}$/.test(p) && paths[p].get),
      query: has("/emissions/query", "post"),
      points: pointPath || null
    };
  }
  function listOf(body) {
    if (Array.isArray(body)) return body;
    for (const key of ["regions", "results", "point_sources", "items", "features"]) if (Array.isArray(body && body[key])) return body[key];
    return [];
  }

  // src/chart.js
  function formatTonnes(t) {
    const a = Math.abs(t);
    if (!Number.isFinite(t)) return "\u2013";
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
  function drawSeries(canvas, series, { highlight = null, color = "#ff9f43", small = false } = {}) {
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.font = `${small ? 10 : 11}px system-ui, sans-serif`;
    if (!series.length) return null;
    const lows = series.map((d) => Number.isFinite(d.lower) ? d.lower : d.value);
    const highs = series.map((d) => Number.isFinite(d.upper) ? d.upper : d.value);
    let lo = Math.min(0, ...lows), hi = Math.max(...highs);
    if (hi <= lo) hi = lo + 1;
    const ticks = niceTicks(lo, hi, small ? 2 : 4);
    hi = Math.max(hi, ticks[ticks.length - 1]);
    const left = 52, right = 8, top = 8, bottom = 22;
    const W = cssW - left - right, H = cssH - top - bottom;
    const n = series.length;
    const x = (i) => left + (n === 1 ? W / 2 : i * W / (n - 1));
    const y = (v) => top + H - (v - lo) / (hi - lo) * H;
    ctx.strokeStyle = "#d5dae3";
    ctx.fillStyle = "#4a5568";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of ticks) {
      const yy = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(left + W, yy);
      ctx.stroke();
      ctx.fillText(formatTonnes(t), left - 4, yy);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const every = Math.max(1, Math.ceil(n / (small ? 3 : 5)));
    for (let i = 0; i < n; i += every) ctx.fillText(series[i].date.slice(5), x(i), top + H + 5);
    const hiIdx = series.findIndex((d) => d.date === highlight);
    if (hiIdx >= 0) {
      ctx.strokeStyle = "#7c8594";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x(hiIdx), top);
      ctx.lineTo(x(hiIdx), top + H);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (series.some((d) => Number.isFinite(d.lower) && Number.isFinite(d.upper))) {
      ctx.fillStyle = color + "33";
      ctx.beginPath();
      series.forEach((d, i) => ctx.lineTo(x(i), y(highs[i])));
      for (let i = n - 1; i >= 0; i--) ctx.lineTo(x(i), y(lows[i]));
      ctx.closePath();
      ctx.fill();
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    series.forEach((d, i) => i ? ctx.lineTo(x(i), y(d.value)) : ctx.moveTo(x(i), y(d.value)));
    ctx.stroke();
    ctx.fillStyle = color;
    series.forEach((d, i) => {
      ctx.beginPath();
      ctx.arc(x(i), y(d.value), i === hiIdx ? 4 : 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    return [lo, hi];
  }
  function fillTable(tbody, series) {
    tbody.replaceChildren();
    for (const d of series) {
      const tr = document.createElement("tr");
      tr.dataset.date = d.date;
      tr.dataset.value = String(d.value);
      tr.dataset.lower = String(d.lower);
      tr.dataset.upper = String(d.upper);
      const cells = [d.date, formatTonnes(d.value), `${formatTonnes(d.lower)} \u2013 ${formatTonnes(d.upper)}`];
      for (const [k, text] of cells.entries()) {
        const td = document.createElement(k ? "td" : "th");
        if (!k) td.scope = "row";
        td.textContent = text;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  // src/draw.js
  var EMPTY = { type: "FeatureCollection", features: [] };
  var PolygonDrawer = class {
    /** `onDone(polygon)` gets a closed GeoJSON Polygon; `onChange(active)` hears when drawing starts/stops. */
    constructor(map2, { onDone, onChange }) {
      this.map = map2;
      this.onDone = onDone;
      this.onChange = onChange || (() => {
      });
      this.points = [];
      this.active = false;
      this.cursor = null;
      map2.addSource("draw", { type: "geojson", data: EMPTY });
      map2.addLayer({
        id: "draw-fill",
        type: "fill",
        source: "draw",
        filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": "#4fd1ff", "fill-opacity": 0.15 }
      });
      map2.addLayer({
        id: "draw-line",
        type: "line",
        source: "draw",
        paint: { "line-color": "#4fd1ff", "line-width": 2, "line-dasharray": [2, 1] }
      });
      map2.addLayer({
        id: "draw-corners",
        type: "circle",
        source: "draw",
        filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#0b6e99", "circle-stroke-width": 2 }
      });
      this._click = (e) => {
        this.points.push([e.lngLat.lng, e.lngLat.lat]);
        this.render();
      };
      this._move = (e) => {
        this.cursor = [e.lngLat.lng, e.lngLat.lat];
        this.render();
      };
      this._dbl = (e) => {
        e.preventDefault();
        this.finish();
      };
      this._key = (e) => {
        if (e.key === "Escape") this.cancel();
        else if (e.key === "Enter") {
          e.preventDefault();
          this.finish();
        }
      };
    }
    start() {
      if (this.active) return;
      this.active = true;
      this.points = [];
      this.map.doubleClickZoom.disable();
      this.map.getCanvas().style.cursor = "crosshair";
      this.map.on("click", this._click);
      this.map.on("mousemove", this._move);
      this.map.on("dblclick", this._dbl);
      window.addEventListener("keydown", this._key);
      this.onChange(true);
    }
    stop() {
      if (!this.active) return;
      this.active = false;
      this.map.off("click", this._click);
      this.map.off("mousemove", this._move);
      this.map.off("dblclick", this._dbl);
      window.removeEventListener("keydown", this._key);
      this.map.getCanvas().style.cursor = "";
      setTimeout(() => this.map.doubleClickZoom.enable(), 0);
      this.onChange(false);
    }
    cancel() {
      this.points = [];
      this.cursor = null;
      this.map.getSource("draw").setData(EMPTY);
      this.stop();
    }
    /** Close the ring (a double-click also fired two clicks: drop the repeated last corner). */
    finish() {
      const pts = this.points.filter((p, i, a) => i === 0 || Math.hypot(p[0] - a[i - 1][0], p[1] - a[i - 1][1]) > 1e-9);
      if (pts.length < 3) return;
      const polygon = { type: "Polygon", coordinates: [[...pts, pts[0]]] };
      this.points = [];
      this.cursor = null;
      this.map.getSource("draw").setData({ type: "Feature", properties: {}, geometry: polygon });
      this.stop();
      this.onDone(polygon);
    }
    render() {
      const pts = this.cursor && this.active ? [...this.points, this.cursor] : this.points;
      const features = this.points.map((p) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: p } }));
      if (pts.length >= 3) {
        features.push({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[...pts, pts[0]]] } });
      } else if (pts.length === 2) {
        features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: pts } });
      }
      this.map.getSource("draw").setData({ type: "FeatureCollection", features });
    }
  };

  // src/geo.js
  function inRing(lon, lat, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if (yi > lat !== yj > lat && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inPolygon(lon, lat, rings) {
    if (!rings.length || !inRing(lon, lat, rings[0])) return false;
    for (let k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false;
    return true;
  }
  function contains(geometry, lon, lat) {
    if (!geometry) return false;
    if (geometry.type === "Polygon") return inPolygon(lon, lat, geometry.coordinates);
    if (geometry.type === "MultiPolygon") return geometry.coordinates.some((rings) => inPolygon(lon, lat, rings));
    return false;
  }
  function bbox(obj) {
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    const walk = (c) => {
      if (typeof c[0] === "number") {
        b[0] = Math.min(b[0], c[0]);
        b[1] = Math.min(b[1], c[1]);
        b[2] = Math.max(b[2], c[0]);
        b[3] = Math.max(b[3], c[1]);
      } else c.forEach(walk);
    };
    const visit = (o) => {
      if (!o) return;
      if (o.type === "FeatureCollection") o.features.forEach(visit);
      else if (o.type === "Feature") visit(o.geometry);
      else if (o.type === "GeometryCollection") o.geometries.forEach(visit);
      else if (o.coordinates) walk(o.coordinates);
    };
    visit(obj);
    return b;
  }
  var CountryIndex = class {
    constructor(collection) {
      this.features = collection && collection.features || [];
      this.boxes = this.features.map((f) => bbox(f));
      this.byIso3 = new Map(this.features.map((f) => [f.properties.iso3, f]));
    }
    at(lon, lat) {
      lon = ((lon + 180) % 360 + 360) % 360 - 180;
      for (let i = 0; i < this.features.length; i++) {
        const [w, s, e, n] = this.boxes[i];
        if (lon >= w && lon <= e && lat >= s && lat <= n && contains(this.features[i].geometry, lon, lat)) {
          return this.features[i];
        }
      }
      return null;
    }
  };
  function cellPolygon(lon, lat, res) {
    lon = ((lon + 180) % 360 + 360) % 360 - 180;
    const w = Math.max(-180, Math.floor((lon + 180) / res) * res - 180);
    const s = Math.max(-90, Math.floor((lat + 90) / res) * res - 90);
    const e = Math.min(180, w + res), n = Math.min(90, s + res);
    const r = (v) => Math.round(v * 1e9) / 1e9;
    return { type: "Polygon", coordinates: [[[r(w), r(s)], [r(e), r(s)], [r(e), r(n)], [r(w), r(n)], [r(w), r(s)]]] };
  }

  // src/hash.js
  var NUMERIC = { z: [0, 22], lat: [-85.05, 85.05], lon: [-180, 180] };
  function parseHash(hash) {
    const p = new URLSearchParams(String(hash || "").replace(/^#/, ""));
    const out = {};
    for (const key of ["dataset", "sector", "region"]) {
      const v = p.get(key);
      if (v && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(v)) out[key] = v;
    }
    const date = p.get("date");
    if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) out.date = date;
    for (const [key, [lo, hi]] of Object.entries(NUMERIC)) {
      const v = parseFloat(p.get(key));
      if (Number.isFinite(v)) out[key] = Math.max(lo, Math.min(hi, v));
    }
    return out;
  }
  function formatHash(s) {
    const p = new URLSearchParams();
    if (s.dataset) p.set("dataset", s.dataset);
    if (s.date) p.set("date", s.date);
    p.set("sector", s.sector || "total");
    p.set("z", Number(s.z).toFixed(2));
    p.set("lat", Number(s.lat).toFixed(3));
    p.set("lon", Number(s.lon).toFixed(3));
    if (s.region) p.set("region", s.region);
    return "#" + p.toString();
  }

  // src/main.js
  var maplibregl = window.maplibregl;
  var $ = (id) => document.getElementById(id);
  var abs = (path) => new URL(path, location.href).href;
  var enc = encodeURIComponent;
  var EMPTY2 = { type: "FeatureCollection", features: [] };
  var TOTAL = "total";
  var state = {
    dataset: null,
    info: null,
    days: [],
    day: 0,
    sector: TOTAL,
    region: null,
    caps: { regionSearch: false, regionShape: false, query: false, points: null },
    countries: new CountryIndex(EMPTY2),
    places: [],
    templates: /* @__PURE__ */ new Map(),
    result: null,
    cellResult: null,
    idleCount: 0,
    playing: false
  };
  var hashAtLoad = parseHash(location.hash);
  var map = null;
  var drawer = null;
  var selectionTicket = 0;
  var newTicket = () => ++selectionTicket;
  var isCurrent = (ticket) => ticket === selectionTicket;
  function setStatus(el, text, kind = "") {
    el.textContent = text;
    el.className = `status ${kind}`;
  }
  function daysBetween(start2, end) {
    const out = [];
    for (let t = Date.parse(`${start2}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 864e5) {
      out.push(new Date(t).toISOString().slice(0, 10));
    }
    return out;
  }
  var longDate = (iso) => (/* @__PURE__ */ new Date(`${iso}T00:00:00Z`)).toLocaleDateString(
    "en-GB",
    { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }
  );
  function writeHash() {
    if (!map) return;
    const c = map.getCenter();
    history.replaceState(null, "", formatHash({
      dataset: state.dataset,
      date: state.days[state.day],
      sector: state.sector,
      z: map.getZoom(),
      lat: c.lat,
      lon: c.lng,
      region: state.region
    }));
  }
  function waitIdle(timeoutMs = 4e3) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      map.once("idle", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  function missingMessage(err, what) {
    if (err instanceof RouteMissing) {
      return `${what} needs ${err.url.split("?")[0].replace(/\/[A-Z]{3}(?=\/|$)/, "/{id}")}, which this server does not offer yet. Use the search box or click a country instead.`;
    }
    return err.message;
  }
  async function tileTemplate(sector) {
    const key = `${state.dataset}|${sector}`;
    if (!state.templates.has(key)) {
      const q = new URLSearchParams({ sector, date: state.days[state.day] });
      const tj = await getJSON(`/tiles/${enc(state.dataset)}/WebMercatorQuad/tilejson.json?${q}`);
      state.templates.set(key, tj);
    }
    return state.templates.get(key);
  }
  function withDate(template, date) {
    const [path, query = ""] = template.split("?");
    const q = new URLSearchParams(query);
    q.set("date", date);
    return `${path}?${q}`;
  }
  async function updateTiles() {
    const tj = await tileTemplate(state.sector);
    const tiles = tj.tiles.map((t) => withDate(t, state.days[state.day]));
    const src = map.getSource("emissions");
    if (src) {
      src.setTiles(tiles);
    } else {
      map.addSource("emissions", {
        type: "raster",
        tiles,
        tileSize: 256,
        minzoom: tj.minzoom,
        maxzoom: tj.maxzoom,
        bounds: tj.bounds,
        attribution: tj.attribution
      });
      map.addLayer({
        id: "emissions",
        type: "raster",
        source: "emissions",
        paint: { "raster-opacity": 0.85, "raster-resampling": "nearest", "raster-fade-duration": 0 }
      }, "borders");
    }
    document.body.dataset.tiles = `${state.days[state.day]}|${state.sector}`;
  }
  async function loadLegend() {
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
      for (const b of lg.breaks) {
        const s = document.createElement("span");
        s.textContent = Number(b).toExponential(0).replace("e+", "e");
        ticks.appendChild(s);
      }
      const list = document.createElement("ul");
      list.className = "sr-only";
      for (const c of lg.classes) {
        const li2 = document.createElement("li");
        li2.textContent = `${c.label} ${lg.units}`;
        list.appendChild(li2);
      }
      const units = document.createElement("p");
      units.className = "units";
      units.textContent = `${lg.units_long || lg.units}, ${lg.scale} scale; transparent: ${lg.transparent || "zero"}`;
      body.append(ramp, ticks, list, units);
      $("legend-title").textContent = state.sector === TOTAL ? "Emissions, all sectors" : `Emissions, ${($("sector").selectedOptions[0] || {}).textContent || state.sector}`;
    } catch (err) {
      body.textContent = `Legend unavailable: ${err.message}`;
    }
  }
  async function setDay(index, { fromHash = false } = {}) {
    state.day = Math.max(0, Math.min(state.days.length - 1, index));
    $("day").value = String(state.day);
    $("date-label").textContent = longDate(state.days[state.day]);
    $("day").setAttribute("aria-valuetext", state.days[state.day]);
    if (!fromHash) writeHash();
    redrawCharts();
    await updateTiles();
  }
  async function play() {
    state.playing = !state.playing;
    const btn = $("play");
    btn.setAttribute("aria-pressed", String(state.playing));
    btn.textContent = state.playing ? "\u275A\u275A" : "\u25B6";
    btn.setAttribute("aria-label", state.playing ? "Pause" : "Play through the days");
    while (state.playing) {
      await setDay((state.day + 1) % state.days.length);
      await waitIdle();
      await new Promise((r) => setTimeout(r, 700));
    }
  }
  function pick(p) {
    const e = state.sector === TOTAL ? p.total : p.sectors && p.sectors[state.sector];
    return e || { emissions: NaN, lower: NaN, upper: NaN };
  }
  function seriesOf(result) {
    return (result.periods || []).map((p) => {
      const e = pick(p);
      return { date: String(p.start || p.period), value: e.emissions, lower: e.lower, upper: e.upper };
    });
  }
  function redrawCharts() {
    const day = state.days[state.day];
    if (state.result) {
      const series = seriesOf(state.result);
      drawSeries($("series-chart"), series, { highlight: day });
      fillTable($("series-table").querySelector("tbody"), series);
      const sectorName = state.sector === TOTAL ? "all sectors" : state.sector.replace(/_/g, " ");
      const today = series.find((d) => d.date === day);
      $("series-caption").textContent = `Daily emissions, ${sectorName}, t CO2 per day with the 90% interval` + (today ? `; ${day}: ${formatTonnes(today.value)}` : "");
      $("series-table-caption").textContent = `${state.result.label}: ${sectorName}, t CO2 per day`;
      $("series-chart").setAttribute("aria-label", `Daily emissions of ${state.result.label}, ${sectorName}: ` + series.map((d) => `${d.date} ${formatTonnes(d.value)}`).join("; "));
    }
    if (state.cellResult) drawSeries($("cell-chart"), seriesOf(state.cellResult), { highlight: day, color: "#4fd1ff", small: true });
  }
  function renderBreakdown(result) {
    const totals = /* @__PURE__ */ new Map();
    for (const p of result.periods || []) {
      for (const [s, e] of Object.entries(p.sectors || {})) totals.set(s, (totals.get(s) || 0) + e.emissions);
    }
    const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]);
    const sum = rows.reduce((a, [, v]) => a + v, 0) || 1;
    const list = $("breakdown-list");
    list.replaceChildren();
    for (const [s, v] of rows) {
      const li2 = document.createElement("li");
      li2.dataset.sector = s;
      li2.dataset.value = String(v);
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = s.replace(/_/g, " ");
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${100 * v / (rows[0][1] || 1)}%`;
      const num = document.createElement("span");
      num.className = "num";
      num.textContent = `${formatTonnes(v)} (${(100 * v / sum).toFixed(0)}%)`;
      li2.append(name, bar, num);
      list.appendChild(li2);
    }
    $("breakdown").hidden = rows.length === 0;
  }
  function showResult(result, label) {
    state.result = { ...result, label };
    $("selection-title").textContent = label;
    const first = result.periods && result.periods[0], last = result.periods && result.periods[result.periods.length - 1];
    const total = (result.periods || []).reduce((a, p) => a + p.total.emissions, 0);
    setStatus($("selection-status"), first ? `${formatTonnes(total)} CO2 from ${first.start} to ${last.end}, all sectors.` : "No days in this answer.");
    $("selection-definition").textContent = result.region && result.region.definition ? `Region: ${result.region.definition}.` : "";
    for (const id of ["series-figure", "numbers"]) $(id).hidden = false;
    renderBreakdown(result);
    redrawCharts();
    document.body.dataset.selection = label;
  }
  function clearSelection(title, message, kind = "") {
    state.result = null;
    $("selection-definition").textContent = "";
    $("selection-title").textContent = title;
    setStatus($("selection-status"), message, kind);
    for (const id of ["series-figure", "numbers", "breakdown"]) $(id).hidden = true;
  }
  function highlightCountry(iso3) {
    map.setFilter("selected", ["==", ["get", "iso3"], iso3 || ""]);
  }
  async function selectCountry(iso3, { fly = false } = {}) {
    const feature = state.countries.byIso3.get(iso3);
    const name = feature ? feature.properties.name : iso3;
    state.region = iso3;
    writeHash();
    highlightCountry(iso3);
    map.getSource("shape").setData(EMPTY2);
    if (fly && feature) map.fitBounds(bbox(feature), { padding: 40, maxZoom: 6, duration: 800 });
    if (state.info && !state.info.countries.includes(iso3)) {
      newTicket();
      clearSelection(name, `${name} (${iso3}) is not in dataset ${state.dataset}'s national table.`, "error");
      return;
    }
    setStatus($("selection-status"), `Loading ${name}\u2026`);
    const ticket = newTicket();
    try {
      const q = new URLSearchParams({ dataset: state.dataset, freq: "day" });
      const result = await getJSON(`/regions/${enc(iso3)}/emissions?${q}`);
      if (isCurrent(ticket)) showResult(result, `${name} (${iso3})`);
    } catch (err) {
      if (isCurrent(ticket)) clearSelection(name, err.message, "error");
    }
    if (isCurrent(ticket)) loadPointSources(iso3);
  }
  async function queryGeometry(geometry, label, ticket = null) {
    const body = {
      geometry,
      dataset: state.dataset,
      start: state.days[0],
      end: state.days[state.days.length - 1],
      freq: "day",
      sectors: state.info.sectors.map((s) => s.id)
    };
    return postJSON("/emissions/query", body).catch((err) => {
      if (ticket !== null && isCurrent(ticket)) clearSelection(label, missingMessage(err, "An area query"), "error");
      throw err;
    });
  }
  async function selectShape(geometry, label, id = null) {
    state.region = id;
    writeHash();
    highlightCountry(null);
    map.getSource("shape").setData({ type: "Feature", properties: {}, geometry });
    setStatus($("selection-status"), `Summing ${label}\u2026`);
    $("selection-title").textContent = label;
    const ticket = newTicket();
    try {
      const result = await queryGeometry(geometry, label, ticket);
      if (isCurrent(ticket)) showResult(result, label);
    } catch (err) {
      console.info("area query failed", err);
    }
  }
  async function clickCell(lngLat) {
    const cell = $("cell");
    cell.hidden = false;
    const res = state.info.grid.resolution_deg;
    const geometry = cellPolygon(lngLat.lng, lngLat.lat, res);
    const [w, s] = geometry.coordinates[0][0];
    $("cell-title").textContent = `Grid cell ${s.toFixed(2)}\xB0\u2026${(s + res).toFixed(2)}\xB0N, ${w.toFixed(2)}\xB0\u2026${(w + res).toFixed(2)}\xB0E`;
    state.cellResult = null;
    $("cell-chart").hidden = true;
    if (!state.caps.query) {
      setStatus($("cell-status"), "A single cell's series needs POST /emissions/query, which this server does not offer yet.");
      return;
    }
    try {
      state.cellResult = await queryGeometry(geometry, "cell");
      $("cell-chart").hidden = false;
      const total = (state.cellResult.periods || []).reduce((a, p) => a + p.total.emissions, 0);
      setStatus($("cell-status"), `${formatTonnes(total)} CO2 over the period in this cell.`);
      redrawCharts();
    } catch (err) {
      setStatus($("cell-status"), missingMessage(err, "A single cell's series"), "error");
    }
  }
  async function loadPointSources(regionId) {
    const old = $("points");
    if (old) old.remove();
    map.getSource("points").setData(EMPTY2);
    if (!state.caps.points) return;
    const path = state.caps.points.replace(/\{[^}]+\}/, enc(regionId));
    try {
      const body = await getJSON(`${path}?${new URLSearchParams({ dataset: state.dataset })}`);
      if (state.region !== regionId) return;
      const items = listOf(body).slice(0, 8);
      const box = document.createElement("div");
      box.id = "points";
      if (body.trend && body.trend.verdict) {
        const p = document.createElement("p");
        p.className = "definition";
        p.textContent = `Peak verdict: ${body.trend.verdict}${body.trend.reason ? ` (${body.trend.reason})` : ""}.`;
        box.appendChild(p);
      }
      const features = [];
      if (items.length) {
        const h = document.createElement("h3");
        h.textContent = "Largest point sources (power plants)";
        const ol = document.createElement("ol");
        for (const it of items) {
          const p = it.properties || it;
          const coords = it.geometry && it.geometry.coordinates || [p.lon, p.lat];
          const value = p.estimated_t_per_year ?? p.emissions_t ?? p.emissions;
          const li2 = document.createElement("li");
          li2.textContent = `${p.name || p.plant_id || "plant"}${p.primary_fuel ? ` (${p.primary_fuel})` : ""}` + (Number.isFinite(value) ? `: ${formatTonnes(value)}${p.estimated_t_per_year !== void 0 ? " per year" : ""}` : "");
          ol.appendChild(li2);
          if (Number.isFinite(coords[0]) && Number.isFinite(coords[1])) {
            features.push({ type: "Feature", properties: { name: String(p.name || "") }, geometry: { type: "Point", coordinates: coords } });
          }
        }
        box.append(h, ol);
        if (body.point_source_method) {
          const m = document.createElement("p");
          m.className = "definition";
          m.textContent = body.point_source_method;
          box.appendChild(m);
        }
      }
      if (box.childElementCount) $("breakdown").after(box);
      map.getSource("points").setData({ type: "FeatureCollection", features });
    } catch (err) {
      console.info("no point sources", err);
    }
  }
  var searchTargets = /* @__PURE__ */ new Map();
  function fillSearchOptions(extra = []) {
    const dl = $("search-options");
    dl.replaceChildren();
    searchTargets.clear();
    const add = (text, target) => {
      if (searchTargets.has(text)) return;
      searchTargets.set(text, target);
      dl.appendChild(new Option(text));
    };
    for (const t of extra) add(t.text, t);
    const inDataset = new Set(state.info ? state.info.countries : []);
    for (const f of state.countries.features) {
      const { iso3, name } = f.properties;
      if (inDataset.has(iso3)) add(`${name} (${iso3})`, { kind: "country", id: iso3 });
    }
    for (const [name, iso3, lon, lat] of state.places) {
      const country = state.countries.byIso3.get(iso3);
      add(`${name}, ${country ? country.properties.name : iso3}`, { kind: "place", iso3, lon, lat, name });
    }
  }
  function resolveSearch(text) {
    const t = text.trim();
    if (!t) return null;
    if (searchTargets.has(t)) return searchTargets.get(t);
    const code = t.toUpperCase();
    if (/^[A-Z]{3}$/.test(code) && (state.countries.byIso3.has(code) || state.info && state.info.countries.includes(code))) {
      return { kind: "country", id: code };
    }
    const low = t.toLowerCase();
    for (const [text2, target] of searchTargets) if (text2.toLowerCase().startsWith(low)) return target;
    return null;
  }
  async function go(target) {
    if (target.kind === "country") return selectCountry(target.id, { fly: true });
    if (target.kind === "place") {
      map.flyTo({ center: [target.lon, target.lat], zoom: Math.max(map.getZoom(), 6), duration: 800 });
      if (state.caps.regionSearch) {
        try {
          const q = new URLSearchParams({ q: target.name, type: "urban_area", limit: "5" });
          const hits = listOf(await getJSON(`/regions?${q}`)).filter((h) => !h.iso3 || h.iso3 === target.iso3);
          if (hits.length) return go(regionTarget(hits[0]));
        } catch (err) {
          console.info("region search failed", err);
        }
      }
      await selectCountry(target.iso3);
      setStatus($("selection-status"), `${target.name} is in ${$("selection-title").textContent}; city totals need the region catalogue (GET /regions?q=), so the country's series is shown. Draw an area around the city for its own numbers.`, "note");
      return void 0;
    }
    if (/^[A-Z]{3}$/.test(target.id) && state.info.countries.includes(target.id)) return selectCountry(target.id, { fly: true });
    state.region = target.id;
    writeHash();
    highlightCountry(null);
    $("selection-title").textContent = target.label;
    setStatus($("selection-status"), `Loading ${target.label}\u2026`);
    const ticket = newTicket();
    let geometry = null;
    try {
      const shape = await getJSON(`/regions/${enc(target.id)}`);
      if (!isCurrent(ticket)) return void 0;
      geometry = shape.type === "Feature" ? shape.geometry : shape.type === "FeatureCollection" ? shape.features[0].geometry : shape;
      map.getSource("shape").setData({ type: "Feature", properties: {}, geometry });
      map.fitBounds(shape.bbox || bbox(geometry), { padding: 40, maxZoom: 9, duration: 800 });
    } catch (err) {
      console.info("no region outline", err);
    }
    try {
      const q = new URLSearchParams({ dataset: state.dataset, freq: "day" });
      const result = await getJSON(`/regions/${enc(target.id)}/emissions?${q}`);
      if (!isCurrent(ticket)) return void 0;
      showResult(result, target.label);
    } catch (err) {
      if (!isCurrent(ticket)) return void 0;
      if (!(err instanceof RouteMissing) || !geometry) {
        clearSelection(target.label, missingMessage(err, "Showing this region"), "error");
        return void 0;
      }
      try {
        const result = await queryGeometry(geometry, target.label, ticket);
        if (isCurrent(ticket)) showResult(result, target.label);
      } catch (err2) {
        return void 0;
      }
    }
    if (isCurrent(ticket)) loadPointSources(target.id);
    return void 0;
  }
  function regionTarget(hit) {
    const p = hit.properties || hit;
    const id = String(p.id || hit.id);
    const label = String(p.name || id);
    return { kind: "region", id, label, text: `${label} \xB7 ${String(p.type || "region").replace(/_/g, " ")} ${id}` };
  }
  var searchTimer = 0;
  function onSearchInput() {
    if (!state.caps.regionSearch) return;
    clearTimeout(searchTimer);
    const q = $("search").value.trim();
    if (q.length < 2 || searchTargets.has(q)) return;
    searchTimer = setTimeout(async () => {
      try {
        const items = listOf(await getJSON(`/regions?${new URLSearchParams({ q, limit: "20" })}`));
        fillSearchOptions(items.slice(0, 20).map(regionTarget));
      } catch (err) {
        if (err instanceof RouteMissing) state.caps.regionSearch = false;
      }
    }, 250);
  }
  var lastSearched = null;
  function onSearchGo(force = false) {
    const value = $("search").value;
    if (!force && value === lastSearched) return;
    lastSearched = value;
    const target = resolveSearch(value);
    if (target) go(target);
    else clearSelection("Not found", `No country or city matches \u201C${$("search").value}\u201D. Try an ISO code such as DEU.`, "error");
  }
  function li(parent, build) {
    const e = document.createElement("li");
    build(e);
    parent.appendChild(e);
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
    setStatus($("status"), `${info.title}. ${state.days.length} days (${info.time.start} to ${info.time.end}), ${info.grid.resolution_deg}\xB0 grid, ${info.sectors.length} sectors. Map colours show emission density (see the legend); country numbers are national inventory territories.`);
    const inputs = $("inputs");
    inputs.replaceChildren();
    for (const i of info.provenance.inputs) {
      li(inputs, (e) => {
        const tag = document.createElement("span");
        tag.className = `tag ${i.real ? "real" : "proxy"}`;
        tag.textContent = i.real ? "real" : "proxy";
        e.append(tag, ` ${i.source} \u2014 ${i.role} (licence: ${i.license})`);
      });
    }
    if (!info.provenance.inputs.length) li(inputs, (e) => {
      e.textContent = "No input file is listed (synthetic dataset).";
    });
    const prox = $("proxies");
    prox.replaceChildren();
    for (const p of info.provenance.proxies) li(prox, (e) => {
      e.textContent = p;
    });
    if (!info.provenance.proxies.length) li(prox, (e) => {
      e.textContent = "No simplified proxy is declared.";
    });
    $("license").textContent = `Licence: ${info.license}`;
    $("citation").textContent = `Cite as: ${info.citation}`;
    $("dataset-link").href = `/datasets/${enc(info.id)}`;
  }
  async function selectDataset(id, { date = null } = {}) {
    state.dataset = id;
    state.templates.clear();
    try {
      describe(await getJSON(`/datasets/${enc(id)}`));
    } catch (err) {
      setStatus($("status"), err.message, "error");
      return;
    }
    const wanted = date ? state.days.indexOf(date) : -1;
    fillSearchOptions();
    await setDay(wanted >= 0 ? wanted : state.days.length - 1);
    loadLegend();
    if (state.region && /^[A-Z]{3}$/.test(state.region)) selectCountry(state.region);
    else if (state.region && state.caps.regionShape) go({ kind: "region", id: state.region, label: state.region, text: state.region });
  }
  function createMap() {
    const start2 = hashAtLoad;
    map = new maplibregl.Map({
      container: "map",
      style: {
        version: 8,
        sources: {
          countries: { type: "geojson", data: abs("/static/basemap/countries.geojson"), attribution: "Natural Earth" },
          shape: { type: "geojson", data: EMPTY2 },
          points: { type: "geojson", data: EMPTY2 }
        },
        layers: [
          { id: "background", type: "background", paint: { "background-color": "#0a1624" } },
          { id: "land", type: "fill", source: "countries", paint: { "fill-color": "#1b2838" } },
          { id: "borders", type: "line", source: "countries", paint: { "line-color": "#d8e4f0", "line-opacity": 0.55, "line-width": 0.7 } },
          {
            id: "selected",
            type: "line",
            source: "countries",
            filter: ["==", ["get", "iso3"], ""],
            paint: { "line-color": "#4fd1ff", "line-width": 2.5 }
          },
          { id: "shape-line", type: "line", source: "shape", paint: { "line-color": "#4fd1ff", "line-width": 2.5 } },
          {
            id: "points",
            type: "circle",
            source: "points",
            paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": "#0b6e99", "circle-stroke-width": 2 }
          }
        ]
      },
      center: [start2.lon ?? 10, start2.lat ?? 30],
      zoom: start2.z ?? 1.4,
      minZoom: 0,
      maxZoom: 10,
      renderWorldCopies: true,
      attributionControl: { compact: true },
      canvasContextAttributes: { preserveDrawingBuffer: true }
      // lets tests and users export the canvas
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    map.on("idle", () => {
      state.idleCount += 1;
      document.body.dataset.idle = String(state.idleCount);
    });
    map.on("moveend", writeHash);
    map.on("click", (e) => {
      if (drawer && drawer.active) return;
      const country = state.countries.at(e.lngLat.lng, e.lngLat.lat);
      if (country) selectCountry(country.properties.iso3);
      else newTicket(), clearSelection("Open sea or no country", "No country here: international shipping and aviation are in the XIS/XIA bunkers. Search for a country, or draw an area.");
      if (state.info) clickCell(e.lngLat);
    });
    return new Promise((resolve) => map.once("load", resolve));
  }
  function wireControls() {
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
    $("search").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        onSearchGo(true);
      }
    });
    $("draw").addEventListener("click", () => drawer.active ? drawer.cancel() : drawer.start());
    window.addEventListener("hashchange", async () => {
      const h = parseHash(location.hash);
      if (h.dataset && h.dataset !== state.dataset) return selectDataset(h.dataset, { date: h.date });
      if (h.sector && h.sector !== state.sector) {
        state.sector = h.sector;
        $("sector").value = h.sector;
        loadLegend();
      }
      if (h.lon !== void 0 && h.lat !== void 0) map.jumpTo({ center: [h.lon, h.lat], zoom: h.z ?? map.getZoom() });
      const i = h.date ? state.days.indexOf(h.date) : -1;
      if (h.region && h.region !== state.region && /^[A-Z]{3}$/.test(h.region)) selectCountry(h.region);
      return setDay(i >= 0 ? i : state.day, { fromHash: true });
    });
  }
  async function start() {
    Object.assign(state, { sector: hashAtLoad.sector || TOTAL, region: hashAtLoad.region || null });
    const [caps, list, countries, places] = await Promise.all([
      capabilities(),
      getJSON("/datasets").catch((err) => {
        setStatus($("status"), err.message, "error");
        return [];
      }),
      getJSON("/static/basemap/countries.geojson").catch(() => EMPTY2),
      getJSON("/static/basemap/places.json").catch(() => []),
      createMap()
    ]);
    state.caps = caps;
    state.countries = new CountryIndex(countries);
    state.places = places;
    drawer = new PolygonDrawer(map, {
      onDone: (polygon) => selectShape(polygon, "Drawn area"),
      onChange: (active) => {
        $("draw").setAttribute("aria-pressed", String(active));
        $("draw").textContent = active ? "Cancel drawing" : "Draw an area";
        $("draw-help").hidden = !active;
      }
    });
    wireControls();
    window.carbonmap = { map, state };
    if (!list.length) {
      setStatus($("status"), "This server serves no dataset yet; build one with `carbonmap build`.", "error");
      return;
    }
    const sel = $("dataset");
    for (const d of list) sel.add(new Option(d.title || d.id, d.id));
    const id = list.some((d) => d.id === hashAtLoad.dataset) ? hashAtLoad.dataset : list[0].id;
    sel.value = id;
    await selectDataset(id, { date: hashAtLoad.date });
    document.body.dataset.ready = "true";
  }
  start().catch((err) => {
    console.error(err);
    setStatus($("status"), `The map failed to start: ${err.message}`, "error");
  });
})();
