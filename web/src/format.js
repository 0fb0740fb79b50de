// Text for people: tonnes with thousands separators ("12,300 Mt", "1.2 Mt"), coordinates with hemispheres,
// evidence shares and data edges in words, and links in plain text made clickable.

const three = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });

/** "12,300 Mt", "1.23 Mt", "456 kt", "12 t" for a value in tonnes (3 significant digits, no exponents). */
export function formatTonnes(t) {
  if (!Number.isFinite(t)) return "–";
  if (t === 0) return "0 t";
  const a = Math.abs(t);
  if (a >= 1e6) return `${three.format(t / 1e6)} Mt`;
  if (a >= 1e3) return `${three.format(t / 1e3)} kt`;
  return `${three.format(t)} t`;
}

/** "+2.1%" style text for a percentage. */
export function formatPct(p, digits = 1) {
  if (!Number.isFinite(p)) return "–";
  return `${p > 0 ? "+" : ""}${p.toFixed(digits)}%`;
}

function deg(v, pos, neg) {
  const h = v > 0 ? pos : v < 0 ? neg : "";
  return { text: Math.abs(v).toFixed(2), h };
}

/** "29.50–29.75°N" (or "0.25°S–0.25°N" across the equator) for a span of latitude or longitude. */
export function span(lo, hi, pos, neg) {
  const a = deg(lo, pos, neg), b = deg(hi, pos, neg);
  if ((a.h === b.h) || !a.h || !b.h) {
    const h = a.h || b.h;
    const [x, y] = lo < 0 && hi <= 0 ? [b, a] : [a, b]; // west/south: the smaller magnitude first
    return `${x.text}–${y.text}°${h}`;
  }
  return `${a.text}°${a.h}–${b.text}°${b.h}`;
}

/** "Grid cell 29.50–29.75°N, 97.75–98.00°W". */
export function cellLabel(w, s, e, n) {
  return `Grid cell ${span(s, n, "N", "S")}, ${span(w, e, "E", "W")}`;
}

const LEVEL_WORDS = {
  "daily-activity": "measured daily activity",
  "monthly-statistics": "monthly statistics",
  "annual-inventory": "the annual inventory",
  model: "a model",
};

/** "63% monthly statistics, 30% a model, 7% the annual inventory" (largest first). */
export function evidenceText(shares) {
  if (!shares) return "";
  return Object.entries(shares).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${Math.round(v * 100)}% ${LEVEL_WORDS[k] || k}`).join(", ");
}

/** "power: measured through 2026-03-31; after that, a model" from the dataset's data-edge sentence. */
export function edgeText(sector, sentence) {
  const s = String(sentence || "");
  const m = s.match(/^([a-z-]+) through (\d{4}-\d{2}-\d{2})/);
  const after = /after that, (.*)$/.exec(s);
  const how = m ? (m[1] === "daily-activity" ? "measured daily" : m[1] === "monthly-statistics"
    ? "measured (monthly statistics)" : m[1]) : "";
  const name = sector.replace(/_/g, " ");
  if (!m) return `${name}: ${s}`;
  return `${name}: ${how} through ${m[2]}; after that, ${after ? after[1] : "a model"}`;
}

/** Append ``text`` to ``el``, turning "<https://…>" and bare http(s) URLs into links. */
export function linkify(el, text) {
  const re = /<?(https?:\/\/[^\s<>]+[^\s<>.,;)])>?/g;
  let last = 0;
  for (const m of String(text).matchAll(re)) {
    if (m.index > last) el.append(String(text).slice(last, m.index));
    const a = document.createElement("a");
    a.href = m[1];
    a.textContent = m[1].replace(/^https?:\/\//, "");
    a.rel = "noopener";
    el.appendChild(a);
    last = m.index + m[0].length;
  }
  if (last < String(text).length) el.append(String(text).slice(last));
}

export const sectorName = (s) => String(s).replace(/_/g, " ");
