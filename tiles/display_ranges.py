"""Display ranges and colour scales of layers, memoised per served cube version.

Default display ranges of emission layers are the layer's own 2nd..99.5th percentile over the cube
(:func:`tiles.scales.data_range`), computed once per served cube version (release included) and layer;
``scale=quantile`` breaks are the layer's percentiles 0..100 (stored in the pyramid, else computed once
from the cube's middle day).  Values are in display units: emissions as density, kg CO2 km-2 day-1;
uncertainty as relative 1-sigma.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

import numpy as np

from carbonmap import contract as cc
from carbonmap.registry import Cube
from carbonmap.storage.pyramid import percentiles
from tiles import colormap as cm
from tiles import scales
from tiles.cache_policy import served_version
from tiles.fields import FieldCache
from tiles.layer import BadTileRequest, Layer
from tiles.reader import density
from tiles.render import PyramidRenderer

_Key = tuple[str, str, str, str]
"""(dataset id, served version, sector, variable)."""


class DisplayRanges:
    """Memo of default display ranges and quantile breaks, and the colour scale of a style request.

    Args:
        pyramid_for: the cube's pyramid renderer or None (then statistics come from the decoded fields).
        fields: decoded whole-field cache, read for the middle day when there is no pyramid.
    """

    def __init__(self, pyramid_for: Callable[[Cube], PyramidRenderer | None], fields: FieldCache) -> None:
        self.pyramid_for = pyramid_for
        self.fields = fields
        self._lock = threading.Lock()
        self._ranges: dict[_Key, tuple[float, float]] = {}
        self._quantiles: dict[_Key, list[float]] = {}

    def middle_field(self, cube: Cube, sector: str, variable: str) -> np.ndarray:
        """The dataset's middle day in display units, dims (lat, lon) (statistics when there is no pyramid)."""
        mid = cube.times[len(cube.times) // 2].date()
        f = self.fields.get(cube, Layer(cube.id, mid, sector, variable))
        return density(f, cube.grid) if variable == cc.EMISSIONS_VAR else f

    def default_range(self, cube: Cube, sector: str, variable: str) -> tuple[float, float]:
        """Display range of a layer: the 2nd..99.5th percentile of its own positive values over the cube
        (:func:`tiles.scales.data_range`), computed once per served cube version and layer."""
        style = cm.DEFAULT_STYLES[variable]
        if style.rescale is not None:
            return style.rescale
        key = (cube.id, served_version(cube), sector, variable)
        with self._lock:
            if key in self._ranges:
                return self._ranges[key]
        renderer = self.pyramid_for(cube)
        rng = scales.data_range(cube, sector, variable, renderer.pyramid if renderer is not None else None,
                                style.scale)
        with self._lock:
            self._ranges[key] = rng
        return rng

    def quantiles(self, cube: Cube, sector: str, variable: str) -> list[float]:
        """Percentiles 0..100 of the layer's positive values (the pyramid's, else the middle day's)."""
        renderer = self.pyramid_for(cube)
        if renderer is not None:
            stored = renderer.pyramid.meta.quantiles.get(variable, {}).get(sector)
            if stored is not None:
                return list(stored)
        key = (cube.id, served_version(cube), sector, variable)
        with self._lock:
            if key in self._quantiles:
                return self._quantiles[key]
        q = percentiles(self.middle_field(cube, sector, variable))
        with self._lock:
            self._quantiles[key] = q
        return q

    def color_scale(self, cube: Cube, sector: str, variable: str, scale: str | None, rescale: str | None,
                    colormap_name: str | None) -> cm.ColorScale:
        """The colour scale of a layer under the request's ``scale``, ``rescale`` and ``colormap_name``
        (None: the variable's default style); BadTileRequest (422) for a bad or conflicting choice."""
        style = cm.DEFAULT_STYLES[variable]
        chosen_scale = scale or style.scale
        if chosen_scale not in cm.SCALES:
            raise BadTileRequest(f"unknown scale {chosen_scale!r}; use scale=log, scale=linear or scale=quantile")
        if chosen_scale == "quantile":
            if rescale is not None and rescale.strip():
                raise BadTileRequest("rescale does not apply to scale=quantile (its breaks are the data's "
                                     "percentiles); drop rescale or use scale=log")
            cm.palette(colormap_name or style.colormap_name)
            return cm.ColorScale.quantile(self.quantiles(cube, sector, variable),
                                          colormap_name or style.colormap_name)
        rng = cm.parse_rescale(rescale)
        from_data = rng is None and style.rescale is None  # the default range, from the layer's own values
        if rng is None:
            rng = self.default_range(cube, sector, variable)
            if chosen_scale == "log" and rng[0] <= 0:
                rng = (max(rng[1] / 1e3, 1e-6), rng[1])
        return cm.ColorScale(cast(cm.Scale, chosen_scale),  # one of cm.SCALES, checked above
                             rng[0], rng[1], colormap_name or style.colormap_name, hide_below=from_data)
