// Small geometry helpers on GeoJSON in lon/lat degrees (EPSG:4326).

function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(lon, lat, rings) {
  if (!rings.length || !inRing(lon, lat, rings[0])) return false;
  for (let k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false; // a hole
  return true;
}

/** True if (lon, lat) lies in a Polygon or MultiPolygon geometry (holes respected). */
export function contains(geometry, lon, lat) {
  if (!geometry) return false;
  if (geometry.type === "Polygon") return inPolygon(lon, lat, geometry.coordinates);
  if (geometry.type === "MultiPolygon") return geometry.coordinates.some((rings) => inPolygon(lon, lat, rings));
  return false;
}

/** [west, south, east, north] of any GeoJSON geometry, feature or feature collection. */
export function bbox(obj) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
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

/** Index of countries (GeoJSON features with properties iso3, name): the one under a point. */
export class CountryIndex {
  constructor(collection) {
    this.features = (collection && collection.features) || [];
    this.boxes = this.features.map((f) => bbox(f));
    this.byIso3 = new Map(this.features.map((f) => [f.properties.iso3, f]));
  }

  at(lon, lat) {
    lon = ((((lon + 180) % 360) + 360) % 360) - 180;
    for (let i = 0; i < this.features.length; i++) {
      const [w, s, e, n] = this.boxes[i];
      if (lon >= w && lon <= e && lat >= s && lat <= n && contains(this.features[i].geometry, lon, lat)) {
        return this.features[i];
      }
    }
    return null;
  }
}

/** The grid cell holding (lon, lat) as a GeoJSON Polygon, for a global grid of `res` degrees. */
export function cellPolygon(lon, lat, res) {
  lon = ((((lon + 180) % 360) + 360) % 360) - 180;
  const w = Math.max(-180, Math.floor((lon + 180) / res) * res - 180);
  const s = Math.max(-90, Math.floor((lat + 90) / res) * res - 90);
  const e = Math.min(180, w + res), n = Math.min(90, s + res);
  const r = (v) => Math.round(v * 1e9) / 1e9;
  return { type: "Polygon", coordinates: [[[r(w), r(s)], [r(e), r(s)], [r(e), r(n)], [r(w), r(n)], [r(w), r(s)]]] };
}
