// Drawing a polygon on the map: click to add corners, double-click or Enter to close, Escape to cancel.
// The sketch lives in a GeoJSON source "draw" with fill, line and corner layers.

const EMPTY = { type: "FeatureCollection", features: [] };

export class PolygonDrawer {
  /** `onDone(polygon)` gets a closed GeoJSON Polygon; `onChange(active)` hears when drawing starts/stops. */
  constructor(map, { onDone, onChange }) {
    this.map = map;
    this.onDone = onDone;
    this.onChange = onChange || (() => {});
    this.points = [];
    this.active = false;
    this.cursor = null;
    map.addSource("draw", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "draw-fill", type: "fill", source: "draw", filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#4fd1ff", "fill-opacity": 0.15 } });
    map.addLayer({ id: "draw-line", type: "line", source: "draw",
      paint: { "line-color": "#4fd1ff", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({ id: "draw-corners", type: "circle", source: "draw", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#0b6e99", "circle-stroke-width": 2 } });
    this._click = (e) => { this.points.push([e.lngLat.lng, e.lngLat.lat]); this.render(); };
    this._move = (e) => { this.cursor = [e.lngLat.lng, e.lngLat.lat]; this.render(); };
    this._dbl = (e) => { e.preventDefault(); this.finish(); };
    this._key = (e) => {
      if (e.key === "Escape") this.cancel();
      else if (e.key === "Enter") { e.preventDefault(); this.finish(); }
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
    setTimeout(() => this.map.doubleClickZoom.enable(), 0); // after this dblclick's own zoom handler
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
    if (pts.length < 3) return; // keep drawing: a polygon needs three corners
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
}
