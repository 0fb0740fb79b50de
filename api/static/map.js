// Built by web/build.mjs from web/src/*.js — edit those, then `npm run build` in web/.
(() => {
  // src/api.js
  var ApiError = class extends Error {
    constructor(status, detail, url2) {
      super(detail);
      this.status = status;
      this.url = url2;
    }
  };
  var RouteMissing = class extends ApiError {
  };
  function url(path) {
    const p = String(path);
    if (!p.startsWith("/") || p.startsWith("//")) return new URL(p, document.baseURI).href;
    return new URL(`.${p}`, document.baseURI).href;
  }
  async function send(path, init) {
    const r = await fetch(url(path), { ...init, headers: { Accept: "application/json", ...init && init.headers } });
    const body = await r.json().catch(() => ({}));
    if (r.ok) return body;
    const detail = typeof body.detail === "string" ? body.detail : `${path}: HTTP ${r.status}`;
    const missing = r.status === 405 || r.status === 404 && /^(no endpoint at|Not Found$)/.test(detail);
    throw new (missing ? RouteMissing : ApiError)(r.status, detail, path);
  }
  var getJSON = (url2) => send(url2, { method: "GET" });
  var postJSON = (url2, body) => send(url2, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  async function capabilities() {
    let paths = {};
    try {
      paths = (await getJSON("/openapi.json")).paths || {};
    } catch (err) {
      console.warn("no OpenAPI document; optional features are probed on use", err);
    }
    const has = (path, method) => Boolean(paths[path] && paths[path][method]);
    const template = (re) => Object.keys(paths).some((p) => re.test(p) && paths[p].get);
    return {
      regionSearch: has("/regions", "get"),
      regionShape: template(/^\/regions\/\{[^}]+\}$/),
      query: has("/emissions/query", "post"),
      analysis: template(/^\/regions\/\{[^}]+\}\/analysis$/),
      geometryAnalysis: has("/emissions/analysis", "post"),
      pathway: template(/^\/regions\/\{[^}]+\}\/pathway$/),
      geometryPathway: has("/emissions/pathway", "post")
    };
  }
  function listOf(body) {
    if (Array.isArray(body)) return body;
    for (const key of ["regions", "results", "point_sources", "items", "features"]) if (Array.isArray(body && body[key])) return body[key];
    return [];
  }

  // src/basemap.js
  var URBAN_ZOOM = 5;
  var ADMIN1_ZOOM = 4;
  var LABEL_ZOOM = 6;
  var MAX_LABELS = 60;
  var EMPTY = { type: "FeatureCollection", features: [] };
  var Basemap = class {
    /** `countries`: a CountryIndex (its boxes say which countries are in view). */
    constructor(map2, countries, abs2) {
      this.map = map2;
      this.countries = countries;
      this.abs = abs2;
      this.admin1 = /* @__PURE__ */ new Map();
      this.places = null;
      this.markers = [];
      this.urban = false;
      map2.on("moveend", () => this.update());
      this.update();
    }
    below() {
      return this.map.getLayer("emissions") ? "emissions" : "borders";
    }
    addUrban() {
      if (this.urban) return;
      this.urban = true;
      this.map.addSource("urban", {
        type: "geojson",
        data: this.abs("/static/basemap/urban.geojson"),
        attribution: "Natural Earth"
      });
      this.map.addLayer({
        id: "urban",
        type: "fill",
        source: "urban",
        minzoom: URBAN_ZOOM,
        paint: { "fill-color": "#3a4d66", "fill-opacity": 0.75 }
      }, this.below());
    }
    async addAdmin1() {
      if (!this.map.getSource("admin1")) {
        this.map.addSource("admin1", { type: "geojson", data: EMPTY });
        this.map.addLayer(
          {
            id: "admin1",
            type: "line",
            source: "admin1",
            minzoom: ADMIN1_ZOOM,
            paint: { "line-color": "#d8e4f0", "line-opacity": 0.45, "line-width": 0.6, "line-dasharray": [3, 2] }
          },
          "selected"
        );
      }
      const b = this.map.getBounds();
      const wanted = [];
      this.countries.features.forEach((f, i) => {
        const [w, s, e, n] = this.countries.boxes[i];
        if (e >= b.getWest() && w <= b.getEast() && n >= b.getSouth() && s <= b.getNorth()) wanted.push(f.properties.iso3);
      });
      const todo = wanted.filter((c) => !this.admin1.has(c)).slice(0, 12);
      if (!todo.length) return;
      todo.forEach((c) => this.admin1.set(c, null));
      await Promise.all(todo.map(async (c) => {
        try {
          const r = await fetch(this.abs(`/static/basemap/admin1/${encodeURIComponent(c)}.geojson`));
          if (r.ok) this.admin1.set(c, (await r.json()).features);
        } catch (err) {
          console.info("no admin-1 borders for", c, err);
        }
      }));
      const features = [...this.admin1.values()].filter(Boolean).flat();
      this.map.getSource("admin1").setData({ type: "FeatureCollection", features });
    }
    async labels() {
      const z = this.map.getZoom();
      this.markers.forEach((m) => m.remove());
      this.markers = [];
      if (z < LABEL_ZOOM) return;
      if (!this.places) {
        try {
          this.places = await (await fetch(this.abs("/static/basemap/places_city.json"))).json();
        } catch (err) {
          this.places = [];
        }
      }
      const b = this.map.getBounds();
      const minPop = z >= 9 ? 0 : z >= 8 ? 1e5 : z >= 7 ? 3e5 : 1e6;
      let n = 0;
      for (const [name, lon, lat, pop] of this.places) {
        if (n >= MAX_LABELS) break;
        if (pop < minPop || !b.contains([lon, lat])) continue;
        const el2 = document.createElement("div");
        el2.className = "place-label";
        el2.textContent = name;
        this.markers.push(new window.maplibregl.Marker({ element: el2, anchor: "left" }).setLngLat([lon, lat]).addTo(this.map));
        n += 1;
      }
    }
    update() {
      const z = this.map.getZoom();
      if (z >= URBAN_ZOOM - 0.5) this.addUrban();
      if (z >= ADMIN1_ZOOM - 0.5) this.addAdmin1();
      this.labels();
    }
  };

  // src/hash.js
  var NUMERIC = { z: [0, 22], lat: [-85.05, 85.05], lon: [-180, 180] };
  function parseHash(hash) {
    const p = new URLSearchParams(String(hash || "").replace(/^#/, ""));
    const out = {};
    for (const key of ["dataset", "sector", "region"]) {
      const v = p.get(key);
      if (v && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(v)) out[key] = v;
    }
    for (const key of ["date", "start", "end"]) {
      const v = p.get(key);
      if (v && /^\d{4}-\d{2}-\d{2}$/.test(v)) out[key] = v;
    }
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
    if (s.start) p.set("start", s.start);
    if (s.end) p.set("end", s.end);
    return "#" + p.toString();
  }

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

  // src/context.js
  var $ = (id) => document.getElementById(id);
  var abs = url;
  var enc = encodeURIComponent;
  var EMPTY2 = { type: "FeatureCollection", features: [] };
  var TOTAL = "total";
  var NATIONAL_NAMES = { WLD: "World", XIA: "International aviation (XIA)", XIS: "International shipping (XIS)" };
  var state = {
    dataset: null,
    info: null,
    days: [],
    day: 0,
    sector: TOTAL,
    region: null,
    selection: null,
    period: null,
    caps: {},
    countries: new CountryIndex(EMPTY2),
    places: [],
    templates: /* @__PURE__ */ new Map(),
    result: null,
    analysis: null,
    cellResult: null,
    idleCount: 0,
    playing: false,
    opacity: 0.85
  };
  var hashAtLoad = parseHash(location.hash);
  var map = null;
  var drawer = null;
  var setMap = (m) => {
    map = m;
  };
  var setDrawer = (d) => {
    drawer = d;
  };
  var selectionTicket = 0;
  var newTicket = () => ++selectionTicket;
  var isCurrent = (ticket) => ticket === selectionTicket;
  var currentTicket = () => selectionTicket;
  function setStatus(el2, text, kind = "") {
    el2.textContent = text;
    el2.className = `status ${kind}`;
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
  function period() {
    const p = state.period || {};
    return { start: p.start || state.days[0], end: p.end || state.days[state.days.length - 1] };
  }
  function seriesFreq() {
    const { start: start2, end } = period();
    const n = (Date.parse(end) - Date.parse(start2)) / 864e5 + 1;
    return n <= 120 ? "day" : n <= 1100 ? "month" : "year";
  }
  function writeHash() {
    if (!map) return;
    const c = map.getCenter();
    const p = state.period || {};
    const hash = formatHash({
      dataset: state.dataset,
      date: state.days[state.day],
      sector: state.sector,
      z: map.getZoom(),
      lat: c.lat,
      lon: c.lng,
      region: state.region,
      start: p.start,
      end: p.end
    });
    history.replaceState(null, "", location.pathname + location.search + hash);
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

  // src/export.js
  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1e3);
  }
  var q = (v) => /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
  function seriesCSV(result, regionLabel) {
    const sectors = result.sectors || Object.keys((result.periods[0] || {}).sectors || {});
    const head = ["region", "period", "start", "end", "days", "total_t", "lower_t", "upper_t", ...sectors.map((s) => `${s}_t`)];
    const rows = [head.join(",")];
    for (const p of result.periods || []) {
      rows.push([
        q(regionLabel),
        p.period,
        p.start,
        p.end,
        p.days,
        p.total.emissions,
        p.total.lower,
        p.total.upper,
        ...sectors.map((s) => p.sectors[s] ? p.sectors[s].emissions : "")
      ].join(","));
    }
    return `${rows.join("\n")}
`;
  }
  function panelPNG(title, canvases) {
    const shown = canvases.filter((c) => c && c.offsetParent !== null && c.width > 0);
    const pad = 12, titleH = 28;
    const width = Math.max(400, ...shown.map((c) => c.width)) + 2 * pad;
    const height = titleH + shown.reduce((h, c) => h + c.height + pad, 0) + pad;
    const out = document.createElement("canvas");
    out.width = width;
    out.height = height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#1d2330";
    ctx.font = "bold 15px system-ui, sans-serif";
    ctx.fillText(title, pad, 20);
    let y = titleH;
    for (const c of shown) {
      ctx.drawImage(c, pad, y);
      y += c.height + pad;
    }
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  // src/format.js
  var three = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });
  function formatTonnes(t) {
    if (!Number.isFinite(t)) return "\u2013";
    if (t === 0) return "0 t";
    const a = Math.abs(t);
    if (a >= 1e6) return `${three.format(t / 1e6)} Mt`;
    if (a >= 1e3) return `${three.format(t / 1e3)} kt`;
    return `${three.format(t)} t`;
  }
  function formatPct(p, digits = 1) {
    if (!Number.isFinite(p)) return "\u2013";
    return `${p > 0 ? "+" : ""}${p.toFixed(digits)}%`;
  }
  function deg(v, pos, neg) {
    const h = v > 0 ? pos : v < 0 ? neg : "";
    return { text: Math.abs(v).toFixed(2), h };
  }
  function span(lo, hi, pos, neg) {
    const a = deg(lo, pos, neg), b = deg(hi, pos, neg);
    if (a.h === b.h || !a.h || !b.h) {
      const h = a.h || b.h;
      const [x, y] = lo < 0 && hi <= 0 ? [b, a] : [a, b];
      return `${x.text}\u2013${y.text}\xB0${h}`;
    }
    return `${a.text}\xB0${a.h}\u2013${b.text}\xB0${b.h}`;
  }
  function cellLabel(w, s, e, n) {
    return `Grid cell ${span(s, n, "N", "S")}, ${span(w, e, "E", "W")}`;
  }
  var LEVEL_WORDS = {
    "daily-activity": "measured daily activity",
    "monthly-statistics": "monthly statistics",
    "annual-inventory": "the annual inventory",
    model: "a model"
  };
  function evidenceText(shares) {
    if (!shares) return "";
    return Object.entries(shares).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${Math.round(v * 100)}% ${LEVEL_WORDS[k] || k}`).join(", ");
  }
  function edgeText(sector, sentence) {
    const s = String(sentence || "");
    const m = s.match(/^([a-z-]+) through (\d{4}-\d{2}-\d{2})/);
    const after = /after that, (.*)$/.exec(s);
    const how = m ? m[1] === "daily-activity" ? "measured daily" : m[1] === "monthly-statistics" ? "measured (monthly statistics)" : m[1] : "";
    const name = sector.replace(/_/g, " ");
    if (!m) return `${name}: ${s}`;
    return `${name}: ${how} through ${m[2]}; after that, ${after ? after[1] : "a model"}`;
  }
  function linkify(el2, text) {
    const re = /<?(https?:\/\/[^\s<>]+[^\s<>.,;)])>?/g;
    let last = 0;
    for (const m of String(text).matchAll(re)) {
      if (m.index > last) el2.append(String(text).slice(last, m.index));
      const a = document.createElement("a");
      a.href = m[1];
      a.textContent = m[1].replace(/^https?:\/\//, "");
      a.rel = "noopener";
      el2.appendChild(a);
      last = m.index + m[0].length;
    }
    if (last < String(text).length) el2.append(String(text).slice(last));
  }
  var sectorName = (s) => String(s).replace(/_/g, " ");

  // src/chart.js
  function niceTicks(lo, hi, n) {
    const span2 = hi - lo || Math.abs(hi) || 1;
    const step0 = span2 / n;
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
    const hiIdx = highlight ? series.findIndex((d, i) => d.date <= highlight && (i === series.length - 1 || series[i + 1].date > highlight)) : -1;
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
  function frame(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx, cssW, cssH };
  }
  function axes(ctx, x0, x1, lo, hi, box) {
    const { left, top, W, H } = box;
    const x = (v) => left + (v - x0) / Math.max(x1 - x0, 1) * W;
    const y = (v) => top + H - (v - lo) / (hi - lo) * H;
    ctx.strokeStyle = "#d5dae3";
    ctx.fillStyle = "#4a5568";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of niceTicks(lo, hi, 4)) {
      const yy = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, yy);
      ctx.lineTo(left + W, yy);
      ctx.stroke();
      ctx.fillText(formatTonnes(t), left - 4, yy);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const step = Math.max(1, Math.ceil((x1 - x0) / 6));
    for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) ctx.fillText(String(v), x(v), top + H + 5);
    return { x, y };
  }
  function drawHistory(canvas, h, { color = "#ff9f43" } = {}) {
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
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    for (let i = 1; i < n; i++) {
      ctx.setLineDash(h.basis[i] === "estimated" || h.basis[i - 1] === "estimated" ? [4, 3] : []);
      ctx.beginPath();
      ctx.moveTo(x(h.years[i - 1]), y(h.total[i - 1]));
      ctx.lineTo(x(h.years[i]), y(h.total[i]));
      ctx.stroke();
    }
    ctx.setLineDash([]);
    if (h.peakYear) {
      const i = h.years.indexOf(h.peakYear);
      if (i >= 0) {
        ctx.fillStyle = "#a01818";
        ctx.beginPath();
        ctx.arc(x(h.peakYear), y(h.total[i]), 4, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    return true;
  }
  var SECTOR_COLORS = {
    power: "#e8590c",
    industry: "#845ef7",
    ground_transport: "#1c7ed6",
    residential: "#2b8a3e",
    domestic_aviation: "#f59f00",
    international_aviation: "#868e96",
    international_shipping: "#0b7285"
  };
  function drawPathway(canvas, p) {
    const { ctx, cssW, cssH } = frame(canvas);
    const years = p.years.map((y2) => y2.year);
    const hist = (p.history.years || []).map((yr, i) => [yr, p.history.total_t[i]]).filter(([yr]) => yr >= years[0] - 15);
    const x0 = hist.length ? hist[0][0] : years[0], x1 = years[years.length - 1];
    const top = Math.max(...p.years.map((y2) => Math.max(y2.total_t, y2.trend_t)), ...hist.map((h) => h[1]));
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
      ctx.closePath();
      ctx.fill();
      upper.forEach((v, i) => {
        base[i] = v;
      });
    }
    if (hist.length) {
      ctx.strokeStyle = "#4a5568";
      ctx.lineWidth = 2;
      ctx.beginPath();
      hist.forEach(([yr, v], i) => i ? ctx.lineTo(x(yr), y(v)) : ctx.moveTo(x(yr), y(v)));
      ctx.stroke();
    }
    ctx.strokeStyle = "#1d2330";
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    p.years.forEach((yy, i) => i ? ctx.lineTo(x(yy.year), y(yy.trend_t)) : ctx.moveTo(x(yy.year), y(yy.trend_t)));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#a01818";
    ctx.beginPath();
    ctx.arc(x(x1), y(p.target_t), 5, 0, 2 * Math.PI);
    ctx.fill();
    return sectors;
  }

  // src/panel.js
  var $2 = (id) => document.getElementById(id);
  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    Object.assign(e, props);
    for (const c of children) if (c !== null && c !== void 0) e.append(c);
    return e;
  }
  function clearAnalysis() {
    for (const id of ["evidence", "edge", "peak", "facilities", "facilities-closed", "facilities-note"]) $2(id).replaceChildren();
    $2("analysis").hidden = true;
    $2("history-figure").hidden = true;
    delete document.body.dataset.analysis;
  }
  function verdictText(p) {
    if (!p) return "";
    const sure = p.likelihood ? ` (${p.likelihood}, ${Math.round((p.probability || 0) * 100)}% of draws)` : "";
    if (p.verdict === "peaked") {
      const range = p.peak_year_range ? `, range ${p.peak_year_range[0]}\u2013${p.peak_year_range[1]}` : "";
      return `Peaked in ${p.peak_year}${range}${sure}; ${formatPct(-(p.decline_from_peak_pct || 0))} since.`;
    }
    if (p.verdict === "still rising") {
      return `Still rising: ${formatPct(p.recent_growth_pct)} a year over the last 5 years${sure}.`;
    }
    if (p.verdict === "plateau") return `Plateau: no clear rise or decline yet (${formatPct(p.recent_growth_pct)}/yr)${sure}.`;
    return `No verdict: ${p.reason}`;
  }
  function legendEdge(edge, sector) {
    const lines = Object.entries(edge || {}).filter(([s]) => sector === "total" || s === sector).map(([s, v]) => edgeText(s, v));
    return lines;
  }
  function renderAnalysis(a, label) {
    $2("analysis").hidden = false;
    const ev = evidenceText(a.total.evidence);
    $2("evidence").replaceChildren(
      el("strong", { textContent: "Evidence: " }),
      ev ? `${ev}.` : "not recorded in this dataset."
    );
    const edge = $2("edge");
    edge.replaceChildren();
    const lines = legendEdge(a.data_edge, "total");
    if (lines.length) {
      edge.append(el("strong", { textContent: `Where measured data end (${a.region.home_country || "region"}):` }));
      const ul = el("ul");
      for (const [s, v] of Object.entries(a.data_edge)) ul.append(el("li", { textContent: edgeText(s, v), title: v }));
      edge.append(ul);
    }
    for (const li2 of document.querySelectorAll("#breakdown-list li")) {
      const s = a.sectors.find((x) => x.sector === li2.dataset.sector);
      if (s) li2.title = `${sectorName(s.sector)}: ${formatTonnes(s.emissions_t)} (90%: ${formatTonnes(s.lower_t)}\u2013${formatTonnes(s.upper_t)}); evidence: ${evidenceText(s.evidence) || "\u2013"}`;
    }
    const h = a.history;
    if (h && h.years && h.years.length) {
      $2("history-figure").hidden = false;
      drawHistory($2("history-chart"), {
        years: h.years,
        total: h.total_t,
        lower: h.lower_t,
        upper: h.upper_t,
        basis: h.basis,
        peakYear: a.peak && a.peak.verdict === "peaked" ? a.peak.peak_year : null
      });
      const est = h.basis.filter((b) => b === "estimated").length;
      $2("history-caption").textContent = `Annual emissions ${h.years[0]}\u2013${h.years[h.years.length - 1]}, t CO2 per year, with the 90% interval${est ? `; dashed: ${est} estimated years (${h.note})` : ""}.`;
    }
    $2("peak").replaceChildren(el("strong", { textContent: "Peak: " }), verdictText(a.peak));
    const list = $2("facilities");
    list.replaceChildren();
    const features = [];
    const add = (f, ol) => {
      const closed = f.status !== "operating";
      const text = closed ? `${f.name} (${f.kind}) \u2014 ${f.status}${f.closed_year ? ` in ${f.closed_year}` : ""}, emits nothing` + (f.former_t_per_year ? ` (was ${formatTonnes(f.former_t_per_year)} a year)` : "") : `${f.name} (${f.kind}) \u2014 ${formatTonnes(f.emissions_t)} (${formatTonnes(f.t_per_year)} a year)` + (f.share_of_sector !== null ? `, ${Math.round(f.share_of_sector * 100)}% of ${sectorName(f.sector)}` : "") + (f.basis === "reported" ? ", reported" : ", estimated");
      const li2 = el("li", { textContent: text });
      Object.assign(li2.dataset, {
        status: closed ? "closed" : "operating",
        lon: String(f.lon),
        lat: String(f.lat),
        name: f.name,
        sector: f.sector,
        value: String(f.emissions_t)
      });
      ol.append(li2);
      features.push({
        type: "Feature",
        properties: { name: f.name, status: closed ? "closed" : "operating" },
        geometry: { type: "Point", coordinates: [f.lon, f.lat] }
      });
    };
    const fac = a.facilities;
    for (const f of fac.operating) add(f, list);
    const closedList = $2("facilities-closed");
    closedList.replaceChildren();
    for (const f of fac.closed.slice(0, 5)) add(f, closedList);
    $2("facilities-block").hidden = !(fac.operating.length || fac.closed.length);
    $2("facilities-note").textContent = fac.available ? fac.method : fac.method;
    document.body.dataset.analysis = label;
    return features;
  }

  // src/legend.js
  var density = (v) => Number(v).toLocaleString("en-US", { maximumSignificantDigits: 2 });
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
      const tickText = lg.break_labels || lg.breaks.map(density);
      for (const t of tickText) {
        const s = document.createElement("span");
        s.textContent = t;
        ticks.appendChild(s);
      }
      const list = document.createElement("ul");
      list.className = "sr-only";
      for (const c of lg.classes) {
        const li2 = document.createElement("li");
        li2.textContent = c.label_units || `${c.label} ${lg.units}`;
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
    updateLegendEdge();
  }
  function updateLegendEdge() {
    const ul = $("legend-edge");
    ul.replaceChildren();
    const a = state.analysis;
    if (!a || !a.data_edge) return;
    const lines = legendEdge(a.data_edge, state.sector);
    for (const line of lines) {
      const li2 = document.createElement("li");
      li2.textContent = line;
      ul.appendChild(li2);
    }
    if (lines.length) ul.title = `Where measured data end for ${a.region.home_country}`;
  }

  // src/roadmap.js
  var $3 = (id) => document.getElementById(id);
  var LEVERS = {
    coal_share_power: {
      label: "Coal share of electricity",
      unit: "% of generation",
      min: 0,
      max: 100,
      value: 0,
      help: "coal generation above or below today's share is replaced by (replaces) non-fossil generation"
    },
    industry_energy_intensity_pct: {
      label: "Industrial energy intensity",
      unit: "% change",
      min: -80,
      max: 50,
      value: 0,
      help: "energy per unit of output; process CO2 (cement, flaring) does not change"
    },
    electric_share_road: {
      label: "Electric share of road transport",
      unit: "% of vehicle-km",
      min: 0,
      max: 100,
      value: 0,
      help: "tailpipe CO2 falls; the electricity they use is added to power"
    },
    building_heat_demand_pct: {
      label: "Building heat demand",
      unit: "% change",
      min: -80,
      max: 50,
      value: 0,
      help: "space and water heating, 80% of buildings' direct CO2"
    }
  };
  function buildLevers() {
    const box = $3("levers-body");
    box.replaceChildren();
    for (const [name, l] of Object.entries(LEVERS)) {
      const id = `lever-${name}`;
      const row = document.createElement("div");
      row.className = "lever";
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = `${l.label} (${l.unit})`;
      label.title = l.help;
      const input = Object.assign(document.createElement("input"), {
        type: "range",
        id,
        min: l.min,
        max: l.max,
        step: 1,
        value: l.value
      });
      input.dataset.lever = name;
      const out = Object.assign(document.createElement("output"), { htmlFor: id, textContent: "off" });
      input.addEventListener("input", () => {
        input.dataset.touched = "true";
        out.textContent = input.value;
      });
      row.append(label, input, out);
      box.appendChild(row);
    }
    $3("levers-reset").addEventListener("click", () => {
      for (const input of document.querySelectorAll("#levers-body input")) {
        delete input.dataset.touched;
        input.value = LEVERS[input.dataset.lever].value;
        input.nextElementSibling.textContent = "off";
      }
    });
    const sync = () => {
      const kind = $3("target-kind").value;
      for (const e of document.querySelectorAll(".peak-only")) e.hidden = kind !== "peak";
      for (const e of document.querySelectorAll(".cut-only")) e.hidden = kind !== "cut";
    };
    $3("target-kind").addEventListener("change", sync);
    sync();
  }
  function targetParams() {
    const out = {};
    const put = (key, id) => {
      const v = $3(id).value.trim();
      if (v !== "") out[key] = v;
    };
    if ($3("target-kind").value === "peak") put("peak_year", "peak-year");
    else if ($3("target-kind").value === "cut") {
      put("target_year", "target-year");
      put("cut_pct", "cut-pct");
      put("base_year", "base-year");
    }
    return out;
  }
  function leverParams() {
    const out = {};
    for (const input of document.querySelectorAll("#levers-body input[data-touched='true']")) {
      out[input.dataset.lever] = Number(input.value);
    }
    return out;
  }
  function showTarget(t, error = null) {
    const p = $3("target-result");
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
    const rate = t.kind === "cut" ? `It needs ${formatPct(t.required_annual_change_pct)} a year from ${t.now_year} to ${t.year}` : t.met ? "Met" : `Growth must slow by ${t.required_slowdown_pp_per_year.toFixed(2)} percentage points a year (${formatPct(t.required_annual_change_pct)} next year)`;
    const gap = t.kind === "cut" ? ` ${t.now_year}: ${formatTonnes(t.now_t)}, ${formatTonnes(Math.abs(t.gap_t))} ${t.gap_t > 0 ? "above" : "below"} the straight path (${formatTonnes(t.path_t_now)}); target ${formatTonnes(t.target_t)}.` : "";
    p.textContent = `${t.description[0].toUpperCase()}${t.description.slice(1)}: ${t.on_track ? "on track" : "not on track"} (current trend ${formatPct(t.trend_growth_pct)} a year).${gap} ${rate}.`;
  }
  function showPathway(p, csvHref) {
    $3("pathway-figure").hidden = false;
    const sectors = drawPathway($3("pathway-chart"), p);
    $3("pathway-caption").textContent = `Roadmap to "${p.target.description}": sectors stacked (t CO2 per year), grey: the past, dashed: the current trend, red dot: the target. Implied peak: ${p.implied_peak_year}; ${formatTonnes(p.cumulative_t)} emitted ${p.years[1] ? p.years[1].year : ""}\u2013${p.target.year} (${formatTonnes(p.cumulative_trend_t - p.cumulative_t)} less than on the trend); ${formatTonnes(p.gap_to_trend_t)} below the trend in ${p.target.year}.`;
    const req = $3("pathway-required");
    req.replaceChildren();
    for (const s of sectors) {
      const li2 = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = SECTOR_COLORS[s] || "#999";
      li2.append(sw, `${sectorName(s)}: ${formatPct(p.required_annual_change_pct[s])} a year (trend ${formatPct(p.trend_growth_pct[s])})`);
      req.appendChild(li2);
    }
    $3("pathway-levers").textContent = p.levers.length ? p.levers.map((l) => l.effect).join("; ") : "No lever moved.";
    const body = $3("pathway-table").querySelector("tbody");
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
    $3("pathway-details").hidden = false;
    const a = $3("pathway-csv");
    a.href = csvHref || "";
    a.hidden = !csvHref;
  }
  function clearRoadmap() {
    showTarget(null);
    $3("pathway-figure").hidden = true;
    $3("pathway-details").hidden = true;
    $3("pathway-csv").hidden = true;
    $3("pathway-status").textContent = "";
  }

  // src/search.js
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
    add("World (WLD)", { kind: "country", id: "WLD" });
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
    if (/^[A-Z]{3}$/.test(code) && (NATIONAL_NAMES[code] || state.countries.byIso3.has(code) || state.info && state.info.countries.includes(code))) {
      return { kind: "country", id: code };
    }
    const low = t.toLowerCase();
    for (const [text2, target] of searchTargets) if (text2.toLowerCase().startsWith(low)) return target;
    return null;
  }
  async function go(target) {
    if (target.kind === "country") return selectCountry(target.id, { fly: true });
    if (target.kind === "place") {
      if (state.caps.regionSearch) {
        try {
          const q2 = new URLSearchParams({ q: target.name, type: "urban_area", limit: "5" });
          const hits = listOf(await getJSON(`/regions?${q2}`)).filter((h) => !h.iso3 || h.iso3 === target.iso3);
          if (hits.length) return go(regionTarget(hits[0]));
        } catch (err) {
          console.info("region search failed", err);
        }
      }
      map.flyTo({ center: [target.lon, target.lat], zoom: Math.max(map.getZoom(), 6), duration: 0 });
      await selectCountry(target.iso3);
      return void 0;
    }
    const code = String(target.id).toUpperCase();
    if (/^[A-Z]{3}$/.test(code) && state.info && (state.info.countries.includes(code) || NATIONAL_NAMES[code])) {
      return selectCountry(code, { fly: true });
    }
    const ticket = newTicket();
    $("selection-title").textContent = target.label || target.id;
    setStatus($("selection-status"), `Loading ${target.label || target.id}\u2026`);
    let shape = null;
    try {
      shape = await getJSON(`/regions/${enc(target.id)}`);
    } catch (err) {
      if (isCurrent(ticket)) clearSelection("Not found", missingMessage(err, "Showing this region"), "error");
      return void 0;
    }
    if (!isCurrent(ticket)) return void 0;
    const geometry = shape.type === "Feature" ? shape.geometry : shape;
    const props = shape.properties || {};
    return select({
      kind: "region",
      id: props.id || target.id,
      label: props.name || target.label || target.id,
      geometry,
      bounds: shape.bbox || bbox(geometry)
    }, { fly: true });
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
    const q2 = $("search").value.trim();
    if (q2.length < 2 || searchTargets.has(q2)) return;
    searchTimer = setTimeout(async () => {
      try {
        const items = listOf(await getJSON(`/regions?${new URLSearchParams({ q: q2, limit: "20" })}`));
        fillSearchOptions(items.slice(0, 20).map(regionTarget));
      } catch (err) {
        if (err instanceof RouteMissing) state.caps.regionSearch = false;
      }
    }, 250);
  }
  var lastSearched = null;
  async function onSearchGo(force = false) {
    const value = $("search").value;
    if (!force && value === lastSearched) return;
    lastSearched = value;
    let target = resolveSearch(value);
    if (!target && state.caps.regionSearch && value.trim().length >= 2) {
      try {
        const hits = listOf(await getJSON(`/regions?${new URLSearchParams({ q: value.trim(), limit: "1" })}`));
        if (hits.length) target = regionTarget(hits[0]);
      } catch (err) {
        console.info("region search failed", err);
      }
    }
    if (target) go(target);
    else {
      newTicket();
      clearSelection("Not found", `No place matches \u201C${value}\u201D. Try a country, a state or a city name, or an ISO code such as DEU.`, "error");
    }
  }

  // src/selection.js
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
  var FREQ_WORD = { day: ["Daily", "day"], month: ["Monthly", "month"], year: ["Annual", "year"] };
  function redrawCharts() {
    const day = state.days[state.day];
    if (state.result) {
      const series = seriesOf(state.result);
      const [word, unit] = FREQ_WORD[state.result.freq] || FREQ_WORD.day;
      drawSeries($("series-chart"), series, { highlight: day });
      fillTable($("series-table").querySelector("tbody"), series);
      const name = state.sector === TOTAL ? "all sectors" : sectorName(state.sector);
      const now = [...series].reverse().find((d) => d.date <= day);
      $("series-caption").textContent = `${word} emissions, ${name}, t CO2 per ${unit} with the 90% interval` + (now ? `; ${now.date}: ${formatTonnes(now.value)}` : "");
      $("series-table-caption").textContent = `${state.result.label}: ${name}, t CO2 per ${unit}`;
      $("series-chart").setAttribute("aria-label", `${word} emissions of ${state.result.label}, ${name}: ` + series.map((d) => `${d.date} ${formatTonnes(d.value)}`).join("; "));
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
      name.textContent = sectorName(s);
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
    if (!state.analysis) {
      setStatus($("selection-status"), first ? `${formatTonnes(total)} CO2 from ${first.start} to ${last.end}, all sectors.` : "No days in this answer.");
    }
    $("selection-definition").textContent = result.region && result.region.definition ? `Region: ${result.region.definition}.` : "";
    for (const id of ["series-figure", "numbers", "exports"]) $(id).hidden = false;
    renderBreakdown(result);
    redrawCharts();
    document.body.dataset.selection = label;
  }
  function showAnalysis(a, label) {
    state.analysis = a;
    const features = renderAnalysis(a, label);
    const st = $("selection-status");
    setStatus(st, `${formatTonnes(a.total.emissions_t)} CO2 from ${a.start} to ${a.end} (90% interval ${formatTonnes(a.total.lower_t)}\u2013${formatTonnes(a.total.upper_t)}), all sectors.`);
    st.dataset.total = String(a.total.emissions_t);
    map.getSource("points").setData({ type: "FeatureCollection", features });
    $("roadmap").hidden = false;
    if (a.target) showTarget(a.target);
    updateLegendEdge();
  }
  function clearSelection(title, message, kind = "") {
    state.result = null;
    state.analysis = null;
    state.selection = null;
    state.region = null;
    writeHash();
    $("selection-definition").textContent = "";
    $("selection-title").textContent = title;
    const st = $("selection-status");
    setStatus(st, message, kind);
    delete st.dataset.total;
    for (const id of ["series-figure", "numbers", "breakdown", "exports", "roadmap"]) $(id).hidden = true;
    clearAnalysis();
    clearRoadmap();
    $("facilities-block").hidden = true;
    if (map) {
      map.getSource("points").setData(EMPTY2);
      map.getSource("shape").setData(EMPTY2);
      highlightCountry(null);
    }
    updateLegendEdge();
    delete document.body.dataset.selection;
  }
  function regionPath(sel, what) {
    return `/regions/${enc(sel.id)}/${what}`;
  }
  async function fetchSeries(sel) {
    const { start: start2, end } = period();
    const freq = seriesFreq();
    if (sel.kind === "geometry") {
      return postJSON("/emissions/query", {
        geometry: sel.geometry,
        dataset: state.dataset,
        start: start2,
        end,
        freq,
        sectors: state.info.sectors.map((s) => s.id)
      });
    }
    const q2 = new URLSearchParams({ dataset: state.dataset, start: start2, end, freq });
    try {
      return await getJSON(`${regionPath(sel, "emissions")}?${q2}`);
    } catch (err) {
      if (err instanceof RouteMissing && sel.geometry && state.caps.query) {
        return postJSON("/emissions/query", { geometry: sel.geometry, dataset: state.dataset, start: start2, end, freq });
      }
      throw err;
    }
  }
  function numbers(obj) {
    const out = {};
    for (const [k, v] of Object.entries(obj)) out[k] = Number(v);
    return out;
  }
  async function fetchAnalysis(sel, target = {}) {
    const { start: start2, end } = period();
    if (sel.kind === "geometry") {
      if (!state.caps.geometryAnalysis) return null;
      return postJSON("/emissions/analysis", {
        geometry: sel.geometry,
        dataset: state.dataset,
        start: start2,
        end,
        top: 10,
        ...numbers(target)
      });
    }
    if (!state.caps.analysis) return null;
    const q2 = new URLSearchParams({ dataset: state.dataset, start: start2, end, top: "10", ...target });
    return getJSON(`${regionPath(sel, "analysis")}?${q2}`);
  }
  async function select(sel, { fly = false } = {}) {
    const ticket = newTicket();
    state.selection = sel;
    state.region = sel.kind === "geometry" ? null : sel.id;
    state.analysis = null;
    state.result = null;
    writeHash();
    clearAnalysis();
    clearRoadmap();
    $("facilities-block").hidden = true;
    map.getSource("points").setData(EMPTY2);
    highlightCountry(sel.kind === "national" ? sel.id : null);
    map.getSource("shape").setData(sel.kind !== "national" && sel.geometry ? { type: "Feature", properties: {}, geometry: sel.geometry } : EMPTY2);
    if (fly && sel.bounds) map.fitBounds(sel.bounds, { padding: 40, maxZoom: sel.kind === "national" ? 6 : 9, duration: 0 });
    $("selection-title").textContent = sel.label;
    const st = $("selection-status");
    delete st.dataset.total;
    setStatus(st, sel.kind === "geometry" ? `Summing ${sel.label}\u2026` : `Loading ${sel.label}\u2026`);
    $("series-table").querySelector("tbody").replaceChildren();
    const series = fetchSeries(sel).then((r) => {
      if (isCurrent(ticket)) showResult(r, sel.label);
    }).catch((err) => {
      if (isCurrent(ticket)) clearSelectionKeep(sel, missingMessage(err, "Showing this region"));
    });
    const analysis = fetchAnalysis(sel).then((a) => {
      if (a && isCurrent(ticket)) showAnalysis(a, sel.label);
    }).catch((err) => {
      if (isCurrent(ticket)) console.info("no analysis", err);
    });
    await Promise.all([series, analysis]);
  }
  function clearSelectionKeep(sel, message) {
    const keep = state.selection;
    clearSelection(sel.label, message, "error");
    state.selection = keep;
  }
  function countryLabel(iso3) {
    if (NATIONAL_NAMES[iso3]) return NATIONAL_NAMES[iso3];
    const f = state.countries.byIso3.get(iso3);
    return f ? `${f.properties.name} (${iso3})` : iso3;
  }
  async function selectCountry(iso3, { fly = false } = {}) {
    const feature = state.countries.byIso3.get(iso3);
    const known = NATIONAL_NAMES[iso3] || state.info && state.info.countries.includes(iso3);
    if (!known) {
      if (state.caps.regionShape) return go({ kind: "region", id: iso3, label: feature ? feature.properties.name : iso3 });
      newTicket();
      clearSelection(countryLabel(iso3), `${iso3} is not in dataset ${state.dataset}'s national table.`, "error");
      return void 0;
    }
    return select({
      kind: "national",
      id: iso3,
      label: countryLabel(iso3),
      geometry: feature ? feature.geometry : null,
      bounds: feature ? bbox(feature) : null
    }, { fly });
  }
  async function selectShape(geometry, label) {
    return select({ kind: "geometry", id: null, label, geometry, bounds: bbox(geometry) });
  }
  async function clickCell(lngLat) {
    const cell = $("cell");
    cell.hidden = false;
    const res = state.info.grid.resolution_deg;
    const geometry = cellPolygon(lngLat.lng, lngLat.lat, res);
    const [w, s] = geometry.coordinates[0][0];
    const [e, n] = geometry.coordinates[0][2];
    $("cell-title").textContent = cellLabel(w, s, e, n);
    state.cellResult = null;
    $("cell-chart").hidden = true;
    if (!state.caps.query) {
      setStatus($("cell-status"), "A single cell's series needs POST /emissions/query, which this server does not offer yet.");
      return;
    }
    try {
      const { start: start2, end } = period();
      state.cellResult = await postJSON("/emissions/query", {
        geometry,
        dataset: state.dataset,
        start: start2,
        end,
        freq: seriesFreq(),
        sectors: state.info.sectors.map((x) => x.id)
      });
      $("cell-chart").hidden = false;
      const total = (state.cellResult.periods || []).reduce((a, p) => a + p.total.emissions, 0);
      setStatus($("cell-status"), `${formatTonnes(total)} CO2 over the period in this cell.`);
      redrawCharts();
    } catch (err) {
      setStatus($("cell-status"), missingMessage(err, "A single cell's series"), "error");
    }
  }

  // src/layers.js
  var maplibregl = window.maplibregl;
  async function tileTemplate(sector) {
    const key = `${state.dataset}|${sector}`;
    if (!state.templates.has(key)) {
      const q2 = new URLSearchParams({ sector, date: state.days[state.day] });
      const tj = await getJSON(`/tiles/${enc(state.dataset)}/WebMercatorQuad/tilejson.json?${q2}`);
      state.templates.set(key, tj);
    }
    return state.templates.get(key);
  }
  function withDate(template, date) {
    const [path, query = ""] = template.split("?");
    const q2 = new URLSearchParams(query);
    q2.set("date", date);
    return `${path}?${q2}`;
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
      map.addLayer(
        {
          id: "emissions",
          type: "raster",
          source: "emissions",
          paint: { "raster-opacity": state.opacity, "raster-resampling": "nearest", "raster-fade-duration": 0 }
        },
        map.getLayer("admin1") ? "admin1" : "borders"
      );
    }
    document.body.dataset.tiles = `${state.days[state.day]}|${state.sector}`;
  }
  function highlightCountry(iso3) {
    map.setFilter("selected", ["==", ["get", "iso3"], iso3 || ""]);
  }
  function createMap() {
    const start2 = hashAtLoad;
    setMap(new maplibregl.Map({
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
            paint: {
              "circle-radius": 5,
              "circle-color": ["match", ["get", "status"], "operating", "#ffffff", "#0a1624"],
              "circle-stroke-color": ["match", ["get", "status"], "operating", "#0b6e99", "#9aa5b4"],
              "circle-stroke-width": 2
            }
          }
        ]
      },
      center: [start2.lon ?? 10, start2.lat ?? 30],
      zoom: start2.z ?? 1.4,
      minZoom: 0,
      maxZoom: 12,
      renderWorldCopies: true,
      attributionControl: { compact: true },
      canvasContextAttributes: { preserveDrawingBuffer: true }
      // lets tests and users export the canvas
    }));
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    map.on("idle", () => {
      state.idleCount += 1;
      document.body.dataset.idle = String(state.idleCount);
    });
    map.on("moveend", writeHash);
    map.on("click", (e) => {
      if (drawer && drawer.active) return;
      const sel = state.selection;
      const inside = sel && sel.kind !== "national" && sel.geometry && contains(sel.geometry, e.lngLat.lng, e.lngLat.lat);
      if (!inside) {
        const country = state.countries.at(e.lngLat.lng, e.lngLat.lat);
        if (country) selectCountry(country.properties.iso3);
        else {
          newTicket();
          clearSelection("Open sea or no country", "No country here: international shipping and aviation are in the XIS/XIA bunkers. Search for a country, or draw an area.");
        }
      }
      if (state.info) clickCell(e.lngLat);
    });
    return new Promise((resolve) => map.once("load", resolve));
  }

  // src/dataset.js
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
  function li(parent, build) {
    const e = document.createElement("li");
    build(e);
    parent.appendChild(e);
  }
  function fillPeriod() {
    const { start: start2, end } = period();
    for (const [id, v] of [["period-start", start2], ["period-end", end]]) {
      const input = $(id);
      input.min = state.days[0];
      input.max = state.days[state.days.length - 1];
      input.value = v;
    }
    const sel = $("period-preset");
    const first = state.days[0], last = state.days[state.days.length - 1];
    const opts = [["", "Presets\u2026"], [`${first}|${last}`, "Whole dataset"]];
    const years = [...new Set(state.days.map((d) => d.slice(0, 4)))];
    for (const y of years) {
      const a = `${y}-01-01` < first ? first : `${y}-01-01`, b = `${y}-12-31` > last ? last : `${y}-12-31`;
      opts.push([`${a}|${b}`, a.endsWith("01-01") && b.endsWith("12-31") ? y : `${y} (part)`]);
    }
    if (state.days.length > 365) opts.push([`${state.days[state.days.length - 365]}|${last}`, "Last 365 days"]);
    sel.replaceChildren(...opts.map(([v, t]) => new Option(t, v)));
  }
  function applyPeriod(start2, end) {
    const first = state.days[0], last = state.days[state.days.length - 1];
    start2 = start2 && start2 >= first && start2 <= last ? start2 : first;
    end = end && end >= start2 && end <= last ? end : last;
    state.period = start2 === first && end === last ? null : { start: start2, end };
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
    setStatus($("status"), `${info.title}. ${state.days.length} days (${info.time.start} to ${info.time.end}), ${info.grid.resolution_deg}\xB0 grid, ${info.sectors.length} sectors. Map colours show emission density (see the legend); country numbers are national inventory territories.`);
    const inputs = $("inputs");
    inputs.replaceChildren();
    for (const i of info.provenance.inputs) {
      li(inputs, (e) => {
        const tag = document.createElement("span");
        tag.className = `tag ${i.real ? "real" : "proxy"}`;
        tag.textContent = i.real ? "real" : "proxy";
        e.append(tag, " ");
        linkify(e, `${i.source} \u2014 ${i.role} (licence: ${i.license})`);
      });
    }
    if (!info.provenance.inputs.length) li(inputs, (e) => {
      e.textContent = "No input file is listed (synthetic dataset).";
    });
    const prox = $("proxies");
    prox.replaceChildren();
    for (const p of info.provenance.proxies) li(prox, (e) => linkify(e, p));
    if (!info.provenance.proxies.length) li(prox, (e) => {
      e.textContent = "No simplified proxy is declared.";
    });
    $("license").replaceChildren();
    linkify($("license"), `Licence: ${info.license}`);
    $("citation").replaceChildren();
    linkify($("citation"), `Cite as: ${info.citation}`);
    if (info.references) {
      $("citation").append(" References: ");
      linkify($("citation"), info.references);
    }
    $("dataset-link").href = abs(`/datasets/${enc(info.id)}`);
    const now = (/* @__PURE__ */ new Date(`${info.time.end}T00:00:00Z`)).getUTCFullYear();
    $("peak-year").placeholder = String(now + 2);
    $("target-year").min = String(now + 1);
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

  // src/targets.js
  async function runTarget() {
    const sel = state.selection;
    if (!sel) return;
    const target = targetParams();
    if (!Object.keys(target).length) {
      showTarget(null, $("target-kind").value === "peak" ? "Give the year by which emissions should peak." : "Give the cut in %, the target year and the base year.");
      return;
    }
    const ticket = currentTicket();
    setStatus($("target-result"), "Checking the target\u2026");
    try {
      const a = await fetchAnalysis(sel, target);
      if (a && isCurrent(ticket)) showAnalysis(a, sel.label);
    } catch (err) {
      if (isCurrent(ticket)) showTarget(null, err.message);
    }
  }
  async function runPathway() {
    const sel = state.selection;
    if (!sel) return;
    const target = targetParams();
    const levers = leverParams();
    const ticket = currentTicket();
    setStatus($("pathway-status"), "Computing the roadmap\u2026");
    try {
      let p, href = null;
      if (sel.kind === "geometry") {
        const body = { geometry: sel.geometry, dataset: state.dataset, ...numbers(target), levers };
        p = await postJSON("/emissions/pathway", body);
        const r = await fetch(url("/emissions/pathway?format=csv"), {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "Content-Type": "application/json" }
        });
        href = URL.createObjectURL(await r.blob());
      } else {
        const q2 = new URLSearchParams({ dataset: state.dataset, ...target, ...Object.fromEntries(
          Object.entries(levers).map(([k, v]) => [k, String(v)])
        ) });
        p = await getJSON(`${regionPath(sel, "pathway")}?${q2}`);
        q2.set("format", "csv");
        href = url(`${regionPath(sel, "pathway")}?${q2}`);
      }
      if (!isCurrent(ticket)) return;
      setStatus(
        $("pathway-status"),
        p.reaches_target ? "This roadmap reaches the target." : "Even this roadmap misses the target.",
        p.reaches_target ? "ok" : "note"
      );
      showPathway(p, href);
    } catch (err) {
      if (isCurrent(ticket)) setStatus($("pathway-status"), err instanceof ApiError ? err.message : String(err), "error");
    }
  }

  // src/controls.js
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
      const { start: start2, end } = period();
      const name = `carbonmap_${(state.region || "area").replace(/[^A-Za-z0-9-]/g, "_")}_${start2}_${end}.csv`;
      download(new Blob([seriesCSV(state.result, state.result.label)], { type: "text/csv" }), name);
    });
    $("export-png").addEventListener("click", async () => {
      const { start: start2, end } = period();
      const blob = await panelPNG(
        `${$("selection-title").textContent}, ${start2} to ${end} (t CO2)`,
        [$("series-chart"), $("history-chart"), $("pathway-chart")]
      );
      download(blob, `carbonmap_${(state.region || "area").replace(/[^A-Za-z0-9-]/g, "_")}.png`);
    });
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
      if (h.region && h.region !== state.region) {
        if (/^[A-Z]{3}$/.test(h.region)) selectCountry(h.region);
        else go({ kind: "region", id: h.region, label: null });
      }
      return setDay(i >= 0 ? i : state.day, { fromHash: true });
    });
  }

  // src/draw.js
  var EMPTY3 = { type: "FeatureCollection", features: [] };
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
      map2.addSource("draw", { type: "geojson", data: EMPTY3 });
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
      this.map.getSource("draw").setData(EMPTY3);
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

  // src/main.js
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
    state.basemap = new Basemap(map, state.countries, abs);
    buildLevers();
    setDrawer(new PolygonDrawer(map, {
      onDone: (polygon) => selectShape(polygon, "Drawn area"),
      onChange: (active) => {
        $("draw").setAttribute("aria-pressed", String(active));
        $("draw").textContent = active ? "Cancel drawing" : "Draw an area";
        $("draw-help").hidden = !active;
      }
    }));
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
