"""The time-series layout of a cube, read side: its names and :class:`TimeseriesStore`.

Next to a sealed cube ``<name>.zarr`` lives ``<name>.timeseries`` (a Zarr v3 store): ``emissions`` and
``sigma`` (time, sector, lat, lon) float32 kg CO2 day-1 cell-1 chunked along time, and their float64 cumulative
sums ``emissions_cumsum``/``sigma_cumsum`` (kg cell-1, from the first day through each day), so any window of
days is two reads.  ``pipelines/timeseries.py`` writes it (see its docstring for chunks and shards); the region
queries read it through this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import zarr

from carbonmap import contract as cc
from carbonmap.errors import StorageError
from carbonmap.storage import cube as store
from carbonmap.storage.location import Location, location

SUFFIX = ".timeseries"
SIGMA_VAR = "sigma"
CUMSUM_SUFFIX = "_cumsum"
TS_STATUS_ATTR = "carbonmap_timeseries_status"
TS_FORMAT_VERSION = "2"
"""2: sharded, with cumulative sums (1: one file per chunk, no cumulative sums)."""


def cumsum_var(variable: str) -> str:
    """Name of the cumulative-sum array of a daily variable (``emissions`` -> ``emissions_cumsum``)."""
    return f"{variable}{CUMSUM_SUFFIX}"


class TimeseriesError(StorageError):
    """The time-series store is missing, unfinished or does not match its cube."""


def timeseries_location(cube: Location | Path | str) -> Location:
    """Where the time-series layout of a cube lives, local or on object storage: a sibling named
    ``<name>.timeseries`` (see :func:`timeseries_path`)."""
    loc = location(cube)
    return loc.sibling(loc.name.removesuffix(".zarr") + SUFFIX)


def timeseries_path(cube_path: Path | str) -> Path:
    """Where the time-series layout of the cube directory ``cube_path`` lives: a sibling named
    ``<name>.timeseries`` (``x.zarr`` -> ``x.timeseries``; a release ``r0003`` -> ``r0003.timeseries``).
    Pass the resolved release directory, not the store symlink."""
    cube_path = Path(cube_path)
    return cube_path.with_name(cube_path.name.removesuffix(".zarr") + SUFFIX)


@dataclass
class TimeseriesStore:
    """Read access to a sealed time-series layout (numpy, no Dask): blocks by index ranges."""

    path: Location | Path | str

    def __post_init__(self) -> None:
        self.location = location(self.path)
        text = self.location.read_text("zarr.json")
        if text is None:
            raise TimeseriesError(f"no time-series layout at {self.path}; run build_timeseries on its cube")
        attrs = json.loads(text).get("attributes", {})
        if attrs.get(TS_STATUS_ATTR) != cc.STATUS_COMPLETE:
            raise TimeseriesError(f"the time-series layout at {self.path} is not complete; rebuild it")
        self.attrs = attrs
        self.group = zarr.open_group(self.location.zarr_store(read_only=True), mode="r")

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        days = np.asarray(store.array(self.group, "time")[...])
        return pd.DatetimeIndex(np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]"))

    @cached_property
    def has_cumsum(self) -> bool:
        """True if the layout holds cumulative sums (format 2 on): any window of days is two reads."""
        return self.attrs.get("carbonmap_timeseries_format") == TS_FORMAT_VERSION

    @cached_property
    def sectors(self) -> tuple[str, ...]:
        return tuple(str(s) for s in np.asarray(store.array(self.group, "sector")[...]))

    @cached_property
    def grid(self) -> cc.Grid:
        return cc.Grid.from_coords(np.asarray(store.array(self.group, "lat")[...]),
                                   np.asarray(store.array(self.group, "lon")[...]))

    def read(self, variable: str, index: slice, sectors: list[int] | slice, rows: slice, cols: slice) -> np.ndarray:
        """Block of ``variable`` (e.g. ``emissions``, ``sigma_cumsum``), dims (time, sector, lat, lon)."""
        block = np.asarray(store.array(self.group, variable)[index, :, rows, cols])
        return block if isinstance(sectors, slice) and sectors == slice(None) else np.asarray(block[:, sectors])
