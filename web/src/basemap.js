// The city-zoom basemap, served by our app from Natural Earth (web/basemap.py writes api/static/basemap/):
// built-up areas under the emissions layer, state/province borders over it (the files of the countries in
// view only), and place names as HTML labels (no glyph server needed). Nothing loads before it is needed.

const URBAN_ZOOM = 5;
const ADMIN1_ZOOM = 4;
const LABEL_ZOOM = 6;
const MAX_LABELS = 60;
const EMPTY = { type: "FeatureCollection", features: [] };

export class Basemap {
  /** `countries`: a CountryIndex (its boxes say which countries are in view). */
  constructor(map, countries, abs) {
    this.map = map;
    this.countries = countries;
    this.abs = abs;
    this.admin1 = new Map(); // iso3 -> features (or null while loading / missing)
    this.places = null;
    this.markers = [];
    this.urban = false;
    map.on("moveend", () => this.update());
    this.update();
  }

  below() {
    return this.map.getLayer("emissions") ? "emissions" : "borders";
  }

  addUrban() {
    if (this.urban) return;
    this.urban = true;
    this.map.addSource("urban", { type: "geojson", data: this.abs("/static/basemap/urban.geojson"),
      attribution: "Natural Earth" });
    this.map.addLayer({ id: "urban", type: "fill", source: "urban", minzoom: URBAN_ZOOM,
      paint: { "fill-color": "#3a4d66", "fill-opacity": 0.75 } }, this.below());
  }

  async addAdmin1() {
    if (!this.map.getSource("admin1")) {
      this.map.addSource("admin1", { type: "geojson", data: EMPTY });
      this.map.addLayer({ id: "admin1", type: "line", source: "admin1", minzoom: ADMIN1_ZOOM,
        paint: { "line-color": "#d8e4f0", "line-opacity": 0.45, "line-width": 0.6, "line-dasharray": [3, 2] } },
      "selected");
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
    const minPop = z >= 9 ? 0 : z >= 8 ? 100_000 : z >= 7 ? 300_000 : 1_000_000;
    let n = 0;
    for (const [name, lon, lat, pop] of this.places) { // largest first
      if (n >= MAX_LABELS) break;
      if (pop < minPop || !b.contains([lon, lat])) continue;
      const el = document.createElement("div");
      el.className = "place-label";
      el.textContent = name;
      this.markers.push(new window.maplibregl.Marker({ element: el, anchor: "left" }).setLngLat([lon, lat]).addTo(this.map));
      n += 1;
    }
  }

  update() {
    const z = this.map.getZoom();
    if (z >= URBAN_ZOOM - 0.5) this.addUrban();
    if (z >= ADMIN1_ZOOM - 0.5) this.addAdmin1();
    this.labels();
  }
}
