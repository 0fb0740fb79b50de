// Build the web map into api/static/ (committed, so a fresh clone needs no npm):
//   api/static/map.js, map.css, index.html, favicon.svg  <- web/src (our code, bundled by esbuild)
//   api/static/vendor/maplibre-gl.{js,css}, LICENSE      <- node_modules/maplibre-gl/dist (already minified)
//   api/static/vendor/docs/swagger-ui*                   <- node_modules/swagger-ui-dist (offline /docs)
// Usage: `npm ci && npm run build` in web/;  `node build.mjs --check` fails if api/static is stale.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "api", "static");
const check = process.argv.includes("--check");

const copies = [
  ["src/index.html", "index.html"],
  ["src/map.css", "map.css"],
  ["src/favicon.svg", "favicon.svg"],
  ["node_modules/maplibre-gl/dist/maplibre-gl.js", "vendor/maplibre-gl.js"],
  ["node_modules/maplibre-gl/dist/maplibre-gl.css", "vendor/maplibre-gl.css"],
  ["node_modules/maplibre-gl/LICENSE.txt", "vendor/maplibre-gl.LICENSE.txt"],
  ["node_modules/swagger-ui-dist/swagger-ui-bundle.js", "vendor/docs/swagger-ui-bundle.js"],
  ["node_modules/swagger-ui-dist/swagger-ui.css", "vendor/docs/swagger-ui.css"],
  ["node_modules/swagger-ui-dist/LICENSE", "vendor/docs/swagger-ui.LICENSE"],
  ["node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt", "vendor/docs/swagger-ui-bundle.js.LICENSE.txt"],
];

const sha = (buf) => createHash("sha256").update(buf).digest("hex");
let stale = [];

function writeAtomic(dest, data) {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, dest);
}

function emit(rel, data) {
  const dest = join(out, rel);
  let old = null;
  try { old = readFileSync(dest); } catch { /* new file */ }
  if (old && sha(old) === sha(Buffer.from(data))) return;
  if (check) { stale.push(rel); return; }
  writeAtomic(dest, data);
}

const bundle = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: false,
  legalComments: "inline",
  write: false,
  banner: { js: "// Built by web/build.mjs from web/src/*.js — edit those, then `npm run build` in web/." },
});
emit("map.js", bundle.outputFiles[0].contents);
// drop "//# sourceMappingURL=..." so browser devtools do not ask for maps that are not shipped
const noMap = (buf, dst) => (dst.endsWith(".js") ? Buffer.from(buf.toString("utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n")) : buf);
for (const [src, dst] of copies) emit(dst, noMap(readFileSync(join(here, src)), dst));

if (check) {
  if (stale.length) {
    console.error(`api/static is out of date with web/ (${stale.join(", ")}); run \`npm run build\` in web/`);
    process.exit(1);
  }
  console.log("api/static is up to date with web/");
} else {
  const files = ["map.js", "map.css", "index.html", ...copies.slice(3).map(([, d]) => d)];
  for (const f of files) console.log(`${(statSync(join(out, f)).size / 1024).toFixed(0).padStart(6)} KiB  ${relative(join(here, ".."), join(out, f))}`);
}
