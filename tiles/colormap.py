"""Colour scales for heavy-tailed emission fields, tile encoding and legends (pure functions).

A value maps to a palette index: 0 is transparent (zero, negative, NaN or masked = no emissions
or no data), 1..255 run along the colormap from ``vmin`` to ``vmax`` on a log10 (default for
emissions), linear or quantile scale (piecewise linear between the data's percentiles, which the
pyramid stores, so each colour covers an equal share of the emitting cells); values outside the
range are clipped to the end colours, except that a scale with ``hide_below`` (the default, data-derived
range of an emission layer) leaves values below ``vmin`` transparent, so that the dust of tiny values
that downscaling spreads around scattered sources (power plants) is not drawn in the darkest colour.  Emissions are shown as density, kg CO2 km-2 day-1, so
colours do not change with zoom.  Colormaps
are rio-tiler's registry (``rio_tiler.colormap.cmap``).  PNG tiles are paletted with a tRNS alpha
chunk (decodes to RGBA; ~10x faster to encode than RGBA), WebP tiles are RGBA.
"""

from __future__ import annotations

import io
import itertools
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rio_tiler.colormap import cmap as rio_cmaps
from rio_tiler.errors import InvalidColorMapName

from carbonmap import contract as cc
from tiles.layer import BadTileRequest
from tiles.png import encode_paletted

Scale = Literal["log", "linear", "quantile"]
SCALES: tuple[str, ...] = ("log", "linear", "quantile")
DENSITY_UNITS = "kg km-2 day-1"
"""Units of emission tiles and legends: kg CO2 per square kilometre per day."""
FORMATS: dict[str, str] = {"png": "image/png", "webp": "image/webp"}
"""Tile formats and their media types."""

N_COLOURS = 255
"""Palette entries for data (index 0 is transparent)."""


@dataclass(frozen=True)
class LayerStyle:
    """Default look of a variable: scale, colormap and the fixed range (None = from the data)."""

    scale: Scale
    colormap_name: str
    rescale: tuple[float, float] | None
    units: str
    long_units: str


DEFAULT_STYLES: dict[str, LayerStyle] = {
    cc.EMISSIONS_VAR: LayerStyle("log", "inferno", None, DENSITY_UNITS, "kg CO2 per square kilometre per day"),
    cc.UNCERTAINTY_VAR: LayerStyle("linear", "viridis", (0.0, 1.0), cc.UNCERTAINTY_UNITS,
                                   "relative 1-sigma uncertainty (fraction of the estimate)"),
}


@dataclass(frozen=True)
class ColorScale:
    """How values become colours: ``scale`` between ``vmin`` and ``vmax`` on a named colormap.

    A ``quantile`` scale also carries ``breaks``: increasing values placed at equal steps along
    the ramp (the data's percentiles); ``vmin``/``vmax`` are its first and last break.  ``hide_below``:
    values below ``vmin`` are not drawn (transparent); otherwise they take the lowest colour.
    """

    scale: Scale
    vmin: float
    vmax: float
    colormap_name: str
    breaks: tuple[float, ...] = ()
    hide_below: bool = False
    """Values below ``vmin`` are transparent (palette index 0) instead of the lowest colour."""

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise BadTileRequest(f"unknown scale {self.scale!r}; use scale=log, scale=linear or scale=quantile")
        if self.scale == "quantile":
            b = np.asarray(self.breaks, dtype=np.float64)
            if b.size < 2 or not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
                raise BadTileRequest("a quantile scale needs at least two increasing finite breaks")
        if not (math.isfinite(self.vmin) and math.isfinite(self.vmax) and self.vmin < self.vmax):
            raise BadTileRequest(f"rescale needs two finite numbers min < max, got {self.vmin},{self.vmax}; "
                                 "e.g. rescale=1000,1000000")
        if self.scale == "log" and self.vmin <= 0:
            raise BadTileRequest(f"a log scale needs rescale min > 0, got {self.vmin}; e.g. rescale=1000,1000000 "
                                 "or use scale=linear")
        palette(self.colormap_name)  # validates the name

    @classmethod
    def quantile(cls, pcts: list[float] | tuple[float, ...], colormap_name: str) -> ColorScale:
        """A quantile scale from percentiles 0..100 of the data (ties merged; no data -> 1..10)."""
        b = np.unique(np.asarray([v for v in pcts if math.isfinite(v) and v > 0], dtype=np.float64))
        if b.size < 2:
            b = np.array([b[0], b[0] * 10.0]) if b.size == 1 else np.array([1.0, 10.0])
        return cls("quantile", float(b[0]), float(b[-1]), colormap_name, tuple(float(v) for v in b))

    def _transform(self, v: np.ndarray | float) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if self.scale == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log10(v)
        return v

    def position(self, values: np.ndarray | float) -> np.ndarray:
        """Position 0..1 of values along the colour ramp (clipped)."""
        if self.scale == "quantile":
            b = np.asarray(self.breaks)
            return np.interp(np.asarray(values, dtype=np.float64), b, np.linspace(0.0, 1.0, b.size))
        lo, hi = self._transform(self.vmin), self._transform(self.vmax)
        return np.clip((self._transform(values) - lo) / (hi - lo), 0.0, 1.0)

    def value_at(self, position: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`position`: the value at a ramp position 0..1."""
        p = np.asarray(position, dtype=np.float64)
        if self.scale == "quantile":
            b = np.asarray(self.breaks)
            return np.interp(p, np.linspace(0.0, 1.0, b.size), b)
        if self.scale == "log":
            lo, hi = math.log10(self.vmin), math.log10(self.vmax)
            return 10 ** (lo + p * (hi - lo))
        return self.vmin + p * (self.vmax - self.vmin)

    def key(self) -> str:
        extra = ":" + ",".join(f"{b:.6g}" for b in self.breaks) if self.breaks else ""
        hide = ":hide-below" if self.hide_below else ""
        return f"{self.scale}:{self.vmin!r}:{self.vmax!r}:{self.colormap_name}{extra}{hide}"

    def below_label(self) -> str | None:
        """``below 0.002: not drawn`` when values below ``vmin`` are transparent, else None."""
        return f"below {readable(self.vmin)}: not drawn" if self.hide_below and self.vmin > 0 else None


def parse_rescale(text: str | None) -> tuple[float, float] | None:
    """``"min,max"`` -> (min, max); None passes through."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise BadTileRequest(f"rescale {text!r} is not two numbers 'min,max'; e.g. rescale=1000,1000000") from None
    return lo, hi


def nice_range(field: np.ndarray, scale: Scale) -> tuple[float, float]:
    """A display range from a field's positive values: decades around the 1st..99.9th percentile
    (log) or 0..the 99.9th percentile (linear).  Units are the field's."""
    v = np.asarray(field, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return (1.0, 1.0e6) if scale == "log" else (0.0, 1.0)
    lo, hi = np.percentile(v, [1.0, 99.9])
    if scale == "log":
        vmin = 10.0 ** math.floor(math.log10(lo))
        vmax = 10.0 ** math.ceil(math.log10(hi))
        if vmax <= vmin:
            vmax = vmin * 10.0
        return float(vmin), float(vmax)
    vmax = float(hi) if hi > 0 else 1.0
    return 0.0, vmax


@lru_cache(maxsize=1024)
def palette(colormap_name: str) -> np.ndarray:
    """(256, 4) uint8 RGBA palette: entry 0 transparent, 1..255 the colormap's ramp."""
    try:
        cm = rio_cmaps.get(colormap_name)
    except InvalidColorMapName:
        raise BadTileRequest(f"unknown colormap_name {colormap_name!r}; use a rio-tiler colormap such as "
                             "inferno, viridis, magma, ylorrd or rdylgn_r (see /tiles/colormaps)") from None
    if not isinstance(cm, dict) or not all(isinstance(k, int) for k in cm):
        raise BadTileRequest(f"colormap {colormap_name!r} is not a 256-entry ramp; pick another colormap_name")
    ramp = np.zeros((256, 4), np.uint8)
    for k, rgba in cm.items():
        if 0 <= k < 256:
            ramp[int(k)] = tuple(rgba)[:4] if len(rgba) == 4 else (*rgba[:3], 255)
    out = np.zeros((256, 4), np.uint8)
    src = np.round(np.arange(N_COLOURS) * 255 / (N_COLOURS - 1)).astype(int)
    out[1:] = ramp[src]
    out[1:, 3] = 255
    out.flags.writeable = False
    return out


def colormap_names() -> list[str]:
    return sorted(rio_cmaps.list())


_WARMING = threading.Lock()
_WARMED = False


def warm_palettes() -> None:
    """Decode every registered colormap's palette once per process, in a background thread.

    rio-tiler reads a colormap from its ``.npy`` file on first use (milliseconds on a small machine);
    a server warms them at start so the first tile of each colormap costs what later tiles cost.
    """
    global _WARMED
    with _WARMING:
        if _WARMED:
            return
        _WARMED = True

    def run() -> None:
        for name in colormap_names():
            try:
                palette(name)
            except BadTileRequest:  # not a 256-entry ramp: refused per request as before
                pass

    threading.Thread(target=run, name="carbonmap-palettes", daemon=True).start()


def to_indices(values: np.ndarray, scale: ColorScale, mask: np.ndarray | None = None) -> np.ndarray:
    """Palette indices (uint8, same shape): 0 where value <= 0, NaN or masked (and below ``scale.vmin`` when
    ``scale.hide_below``); else 1..255.

    ``1 + rint(scale.position(v) * 254)``, computed in place on one float32 buffer (natural log:
    numpy vectorises it in float32, not log10 in float64) without boolean gathers, because it runs
    on every rendered tile: ~0.3 ms for 256 x 256 instead of ~6 ms.  float32 rounding can move a
    value lying within ~1e-6 of a class edge to the neighbouring palette entry; nothing else changes.
    """
    src = np.asarray(values)
    valid = src > 0  # False for NaN
    valid &= np.isfinite(src)
    if scale.hide_below and scale.vmin > 0:
        valid &= src >= scale.vmin
    if mask is not None:
        valid &= ~np.asarray(mask, dtype=bool)
    if not valid.any():
        return np.zeros(src.shape, np.uint8)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = src.astype(np.float32)  # a private copy, transformed in place below (huge finite -> inf -> 255)
        if scale.scale == "quantile":
            b = np.asarray(scale.breaks, dtype=np.float64)
            pos = np.interp(v, b, np.linspace(0.0, 1.0, b.size)).astype(np.float32)
        else:
            if scale.scale == "log":
                pos = np.log(v, out=v)
                lo, hi = math.log(scale.vmin), math.log(scale.vmax)
            else:
                pos, lo, hi = v, scale.vmin, scale.vmax
            pos -= np.float32(lo)
            pos *= np.float32(1.0 / (hi - lo))
            np.clip(pos, 0.0, 1.0, out=pos)
        pos *= N_COLOURS - 1
        np.rint(pos, out=pos)
        pos += 1  # invalid cells hold NaN or +-inf here: their index is zeroed below
        idx = pos.astype(np.uint8)
    idx *= valid
    return idx


def encode(indices: np.ndarray, colormap_name: str, fmt: str) -> bytes:
    """Encode a (rows, cols) index image: paletted PNG with transparency (:mod:`tiles.png`), or RGBA WebP."""
    pal = palette(colormap_name)
    buf = io.BytesIO()
    if fmt == "png":
        return encode_paletted(np.asarray(indices, dtype=np.uint8), pal)
    elif fmt == "webp":
        Image.fromarray(pal[indices], mode="RGBA").save(buf, format="WEBP", quality=90, method=0)
    else:
        raise BadTileRequest(f"unknown tile format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return buf.getvalue()


SMALLEST_SHOWN = 1e-3
"""Legend numbers below this read ``< 0.001`` (rounding noise of the downscaling, not a quantity to read)."""
_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _digits(v: float, sig: int = 2) -> str:
    """``v`` rounded to ``sig`` significant digits, positional (no exponent), trailing zeros dropped."""
    text = np.format_float_positional(float(f"{v:.{sig}g}"), trim="-")
    return text


def readable(v: float, *, sig: int = 2) -> str:
    """A number as people read it on a legend: 2 significant digits, no exponent, SI prefixes from a
    thousand up (``1.5k``, ``24M``), ``< 0.001`` for tiny positive values, ``0`` for zero.

    >>> [readable(x) for x in (3.69e-11, 0.238, 7.0, 1234.0, 2.5e7)]
    ['< 0.001', '0.24', '7', '1.2k', '25M']
    """
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    sign = "-" if v < 0 else ""
    if a < SMALLEST_SHOWN:
        return f"> -{SMALLEST_SHOWN:g}" if v < 0 else f"< {SMALLEST_SHOWN:g}"
    a = float(f"{a:.{sig}g}")  # round first: 999.6 -> 1000 -> "1k", not "1e3"
    for factor, prefix in _SI:
        if a >= factor:
            return f"{sign}{_digits(a / factor, sig)}{prefix}"
    return f"{sign}{_digits(a, sig)}"


def range_label(lo: float, hi: float) -> str:
    """A class label, e.g. ``0.24 – 1.2k``; ``< 0.24`` when the class starts below :data:`SMALLEST_SHOWN`."""
    if 0 <= lo < SMALLEST_SHOWN:
        return f"< {readable(max(hi, SMALLEST_SHOWN))}"
    return f"{readable(lo)} – {readable(hi)}"



def class_breaks(scale: ColorScale, n_classes: int = 6) -> list[float]:
    """n_classes + 1 break values from vmin to vmax, equal steps on the scale (log: in log10;
    quantile: the data's quantiles at i / n_classes)."""
    if not 1 <= n_classes <= 64:
        raise BadTileRequest(f"classes must be between 1 and 64, got {n_classes}")
    return [float(v) for v in scale.value_at(np.linspace(0.0, 1.0, n_classes + 1))]


def legend(scale: ColorScale, *, units: str, long_units: str, n_classes: int = 6) -> dict[str, Any]:
    """Legend as JSON: breaks, one colour per class (at its middle), units and the scale.

    ``below`` says what happens to values under the first break: ``"not drawn"`` (transparent, the default
    data-derived scale of emissions, with ``below_label`` such as ``below 0.002 kg km-2 day-1: not drawn``)
    or ``"lowest colour"`` (clamped, as with an explicit ``rescale``)."""
    breaks = class_breaks(scale, n_classes)
    pal = palette(scale.colormap_name)
    classes = []
    for lo, hi in itertools.pairwise(breaks):
        mid = scale.value_at((scale.position(lo) + scale.position(hi)) / 2)
        rgba = pal[to_indices(np.array([mid]), scale)[0]]
        classes.append({"min": lo, "max": hi, "label": range_label(lo, hi),
                        "label_units": f"{range_label(lo, hi)} {units}",
                        "color": "#{:02x}{:02x}{:02x}".format(*rgba[:3])})
    hidden = scale.below_label()
    out: dict[str, Any] = {
        "scale": scale.scale, "colormap_name": scale.colormap_name, "rescale": [scale.vmin, scale.vmax],
        "units": units, "units_long": long_units, "breaks": breaks,
        "break_labels": [readable(b) for b in breaks], "classes": classes,
        "below": "not drawn" if hidden else "lowest colour",
        "transparent": "zero emissions or no data",
        "clipped": "values outside rescale take the end colours"}
    if hidden:
        out["below_label"] = f"below {readable(scale.vmin)} {units}: not drawn"
        out["transparent"] = f"zero emissions, no data, or below {readable(scale.vmin)} {units}"
        out["clipped"] = ("values above rescale take the top colour; values below it are not drawn (the default "
                          "scale; pass rescale=min,max to draw them in the lowest colour)")
    return out


LEGEND_PNG_SIZE = (400, 78)
"""Width and height (pixels) of :func:`legend_png` images (the WMTS ``LegendURL`` declares them)."""


def legend_png(scale: ColorScale, *, units: str, n_classes: int = 6, width: int = LEGEND_PNG_SIZE[0],
               height: int = LEGEND_PNG_SIZE[1]) -> bytes:
    """A colour bar with readable break labels (:func:`readable`) and the units, PNG (RGBA); under them,
    for a ``hide_below`` scale, the line ``below 0.002: not drawn (transparent)``.

    A label that would overlap its left neighbour is left out (the end labels are always drawn).
    """
    pal = palette(scale.colormap_name)
    im = Image.new("RGBA", (width, height), (255, 255, 255, 235))
    pad, top, bar_h = 14, 4, 18
    ramp = np.linspace(0.0, 1.0, width - 2 * pad)
    cols = pal[1 + np.rint(ramp * (N_COLOURS - 1)).astype(int)]
    bar = np.repeat(cols[None, :, :], bar_h, axis=0)
    im.paste(Image.fromarray(bar, mode="RGBA"), (pad, top))
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=12)
    breaks = class_breaks(scale, n_classes)
    placed: list[tuple[float, float, str]] = []
    for i, b in enumerate(breaks):
        x = pad + float(scale.position(b)) * (width - 2 * pad - 1)
        draw.line([(x, top + bar_h), (x, top + bar_h + 4)], fill=(0, 0, 0, 255))
        label = readable(b)
        tw = draw.textlength(label, font=font)
        left = min(max(x - tw / 2, 0.0), width - tw)
        if placed and label == placed[-1][2]:
            continue
        if placed and left < placed[-1][1] + 4:
            if i < len(breaks) - 1:
                continue
            placed.pop()  # the last label wins over its neighbour
        placed.append((left, left + tw, label))
    for left, _, label in placed:
        draw.text((left, top + bar_h + 5), label, fill=(0, 0, 0, 255), font=font)
    draw.text((pad, top + bar_h + 22), f"{units} ({scale.scale} scale)", fill=(0, 0, 0, 255), font=font)
    if (hidden := scale.below_label()) is not None:
        draw.text((pad, top + bar_h + 38), f"{hidden} (transparent)", fill=(0, 0, 0, 255), font=font)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
