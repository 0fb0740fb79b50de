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

async function send(url, init) {
  const r = await fetch(url, { ...init, headers: { Accept: "application/json", ...(init && init.headers) } });
  const body = await r.json().catch(() => ({}));
  if (r.ok) return body;
  const detail = typeof body.detail === "string" ? body.detail : `${url}: HTTP ${r.status}`;
  const missing = r.status === 405 || (r.status === 404 && /^(no endpoint at|Not Found$)/.test(detail));
  throw new (missing ? RouteMissing : ApiError)(r.status, detail, url);
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
