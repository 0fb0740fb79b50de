"""Default colour-scale ranges taken from each layer's own data, over the whole cube.

A fixed range (or whole decades around one day's 1st..99.9th percentile, as the pyramid stores)
spans up to ten decades on real fields, where downscaling leaves a dust of tiny positive values
(1e-6 kg km-2 day-1 and less) around every source: scattered sectors such as power then look
continuous.  The default range of an emission layer is instead the 2nd..99.5th percentile of its
positive values over the cube (:data:`MAX_SAMPLE_DAYS` days spread evenly over it, read from the
pyramid's finest daily level of at most ~2 M cells when the cube has one, else from the cube), rounded
inwards to 1-2-5 steps, so it always lies inside the data's own positive range.  It is computed once per served cube version and layer
and cached by the caller (:class:`tiles.factory.CarbonTilerFactory`).

Units: emissions in kg CO2 km-2 day-1 (display density), uncertainty as relative 1-sigma (its
default stays the fixed 0..1 of :data:`tiles.colormap.DEFAULT_STYLES`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.storage.pyramid import QUANTILE_MAX_CELLS, Pyramid
from tiles.reader import density

LOW_PERCENTILE = 2.0
HIGH_PERCENTILE = 99.5
"""Percentiles of the positive values that bound a layer's default display range."""
MAX_SAMPLE_DAYS = 12
"""Days read (evenly spread over the cube, first and last included)."""
MAX_SAMPLE_CELLS = QUANTILE_MAX_CELLS // 4
"""Cells kept per sampled field (a regular stride over rows and columns beyond this)."""
_NICE = (1.0, 2.0, 5.0)
DISPLAY_FLOOR = 1e-3
"""Lowest default lower bound of a log range, kg CO2 km-2 day-1 (1 g per km2 per day: below it a value is
downscaling dust, not an emission to tell apart; legends print it as ``< 0.001``)."""


def _clean(v: float) -> float:
    return float(f"{v:.12g}")  # 1e-05, not 9.999999999999999e-06


def nice_up(v: float) -> float:
    """The smallest 1-2-5 value (1, 2, 5, 10, 20, ...) >= v (v > 0)."""
    base = 10.0 ** math.floor(math.log10(v))
    for m in (*_NICE, 10.0):
        if m * base >= v * (1 - 1e-12):
            return _clean(m * base)
    return _clean(10.0 * base)


def nice_down(v: float) -> float:
    """The largest 1-2-5 value <= v (v > 0)."""
    base = 10.0 ** math.floor(math.log10(v))
    for m in (10.0, 5.0, 2.0, 1.0):
        if m * base <= v * (1 + 1e-12):
            return _clean(m * base)
    return _clean(base)


def range_of(values: np.ndarray, scale: str = "log") -> tuple[float, float]:
    """Display range of positive values: their 2nd..99.5th percentile rounded inwards to 1-2-5 steps
    (unrounded when rounding would leave less than a factor 2), the lower end raised to
    :data:`DISPLAY_FLOOR` when the upper one is 100 times above it; ``linear``: 0..the 99.5th percentile.

    Always within [min, max] of the positive values; (1, 1e6) / (0, 1) when there are none.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return (1.0, 1.0e6) if scale == "log" else (0.0, 1.0)
    lo, hi = (float(x) for x in np.percentile(v, [LOW_PERCENTILE, HIGH_PERCENTILE]))
    if scale != "log":
        return 0.0, (nice_down(hi) if nice_down(hi) > 0.5 * hi else hi)
    if hi <= lo:  # (nearly) constant field: its own value, one decade wide and inside nothing else
        return float(v.min()), float(v.max()) if v.max() > v.min() else float(v.min()) * 10.0
    nlo, nhi = nice_up(lo), nice_down(hi)
    if nhi / nlo < 2.0:
        nlo, nhi = lo, hi
    if nlo < DISPLAY_FLOOR and nhi >= 100 * DISPLAY_FLOOR:
        nlo = DISPLAY_FLOOR
    return nlo, nhi


def _thin(field: np.ndarray) -> np.ndarray:
    """Every k-th row and column so that at most MAX_SAMPLE_CELLS cells remain."""
    k = max(1, math.ceil(math.sqrt(field.size / MAX_SAMPLE_CELLS)))
    return field[::k, ::k]


def sample_days(n_days: int) -> list[int]:
    """Indices of at most MAX_SAMPLE_DAYS days spread evenly over ``n_days`` (first and last included)."""
    return sorted({round(i) for i in np.linspace(0, n_days - 1, min(n_days, MAX_SAMPLE_DAYS))}) if n_days else []


def _pyramid_fields(pyr: Pyramid, sector: str, variable: str) -> Iterator[np.ndarray]:
    levels = [k for k, g in enumerate(pyr.grids) if g.nlat * g.nlon <= QUANTILE_MAX_CELLS]
    level = levels[0] if levels else len(pyr.grids) - 1
    g = pyr.grids[level]
    layer = pyr.layer_index(variable, sector)
    for step in sample_days(len(pyr.meta.steps.get("day", []))):
        yield _thin(pyr.read("day", level, variable, step, layer, slice(0, g.nlat), slice(0, g.nlon)))


def _cube_fields(cube: Cube, sector: str, variable: str) -> Iterator[np.ndarray]:
    times = cube.times
    for t in sample_days(len(times)):
        f = cube.read_day(times[t].date(), sector, variable)
        yield _thin(density(f, cube.grid) if variable == cc.EMISSIONS_VAR else np.asarray(f))


def data_range(cube: Cube, sector: str, variable: str, pyramid: Pyramid | None, scale: str = "log"
               ) -> tuple[float, float]:
    """The default display range of a layer from its own positive values over the cube (see the module
    docstring); units as displayed (emissions: kg CO2 km-2 day-1)."""
    fields = _pyramid_fields(pyramid, sector, variable) if pyramid is not None else \
        _cube_fields(cube, sector, variable)
    parts = [f[np.isfinite(f) & (f > 0)].astype(np.float32) for f in fields]
    values = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return range_of(values, scale)
