// Talking to the carbonmap API: JSON helpers that tell a missing route (404 "no endpoint", 405)
// apart from an answer that says the request was wrong.

export class ApiError extends Error {
  constructor(status, detail, url) {
    super(detail);
    this.status = status;
    this.url = url;
  }
}

/** The route does not exist on this server (yet): the page degrades and says so. */
export class RouteMissing extends ApiError {}

/**
 * A root-relative app path ("/datasets", "/static/...") resolved against the page's base: the server writes
 * `<base href="{root_path}/">` into the page, so behind a proxy that serves carbonmap under `/carbonmap/` this
 * gives `https://host/carbonmap/datasets`.  An absolute URL (a TileJSON tile template, a blob:) is returned as is.
 * Always absolute, because MapLibre's worker cannot resolve relative URLs.
 */
export function url(path) {
  const p = String(path);
  if (!p.startsWith("/") || p.startsWith("//")) return new URL(p, document.baseURI).href;
  return new URL(`.${p}`, document.baseURI).href;
}

async function send(path, init) {
  const r = await fetch(url(path), { ...init, headers: { Accept: "application/json", ...(init && init.headers) } });
  const body = await r.json().catch(() => ({}));
  if (r.ok) return body;
  const detail = typeof body.detail === "string" ? body.detail : `${path}: HTTP ${r.status}`;
  const missing = r.status === 405 || (r.status === 404 && /^(no endpoint at|Not Found$)/.test(detail));
  throw new (missing ? RouteMissing : ApiError)(r.status, detail, path); // the app path, for messages
}

export const getJSON = (url) => send(url, { method: "GET" });

export const postJSON = (url, body) =>
  send(url, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });

/**
 * Which optional routes this server has, from its OpenAPI document: {regionSearch, regionShape, query, analysis,
 * geometryAnalysis, pathway, geometryPathway}.
 */
export async function capabilities() {
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
    geometryPathway: has("/emissions/pathway", "post"),
  };
}

/** A `GET /regions?q=` answer may be a list or {results|regions|features: [...]}: a list of items. */
export function listOf(body) {
  if (Array.isArray(body)) return body;
  for (const key of ["regions", "results", "point_sources", "items", "features"]) if (Array.isArray(body && body[key])) return body[key];
  return [];
}
