// The map state kept in the URL hash: #dataset=&date=&sector=&z=&lat=&lon=&region=&start=&end=
// Pure functions: parse a hash string into a partial state, format a state into a hash string.

const NUMERIC = { z: [0, 22], lat: [-85.05, 85.05], lon: [-180, 180] };

/** Parse "#date=2024-03-05&z=3..." into {date: "2024-03-05", z: 3, ...}; drops malformed values. */
export function parseHash(hash) {
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

/** Format the state as "#dataset=..&date=..&sector=..&z=..&lat=..&lon=..[&region=..]". */
export function formatHash(s) {
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
