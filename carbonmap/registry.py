"""The serving side's catalogue of cubes: dataset id -> a sealed store that carbonmap built.

Tiles and the API look datasets up here by id.  Clients never supply a path or URL; the
only paths come from settings or the ``serve --store`` option, read at start-up.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from carbonmap import contract as cc
from pipelines.store import open_cube


class DatasetNotFound(LookupError):
    """No dataset with that id is served here."""


class DateOutOfRange(LookupError):
    """A date the dataset does not cover."""


@dataclass
class Cube:
    """One served dataset: its id, store path and the opened (Dask-free) dataset."""

    id: str
    path: Path
    ds: xr.Dataset
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def grid(self) -> cc.Grid:
        return cc.Grid.from_coords(self.ds["lat"].values, self.ds["lon"].values)

    @cached_property
    def times(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.ds["time"].values)

    @cached_property
    def sectors(self) -> tuple[str, ...]:
        return tuple(str(s) for s in self.ds["sector"].values)

    @cached_property
    def countries(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.ds["country"].values)

    @property
    def attrs(self) -> dict:
        return dict(self.ds.attrs)

    @property
    def start(self) -> dt.date:
        return self.times[0].date()

    @property
    def end(self) -> dt.date:
        return self.times[-1].date()

    def day_index(self, day: dt.date) -> int:
        """Index of ``day`` on the time axis; DateOutOfRange with the covered range otherwise."""
        pos = self.times.get_indexer([pd.Timestamp(day)])[0]
        if pos < 0:
            raise DateOutOfRange(f"date {day.isoformat()} is outside dataset {self.id!r}, which covers "
                                 f"{self.start.isoformat()} to {self.end.isoformat()}")
        return int(pos)

    def period_slice(self, start: dt.date, end: dt.date) -> slice:
        """Time slice for [start, end] inclusive; errors name the problem."""
        if end < start:
            raise cc.ContractError(f"end {end.isoformat()} is before start {start.isoformat()}")
        i0, i1 = self.day_index(start), self.day_index(end)
        return slice(i0, i1 + 1)

    def sector_indices(self, sectors: tuple[str, ...]) -> list[int]:
        return [self.sectors.index(cc.validate_sector(s, allow_total=False)) for s in sectors]

    def read_day(self, day: dt.date, sector: str, variable: str = cc.EMISSIONS_VAR) -> np.ndarray:
        """One day's field, dims (lat, lon): kg CO2 day-1 cell-1 (``total`` = sum of sectors)."""
        cc.validate_sector(sector)
        t = self.day_index(day)
        var = self.ds[variable]
        if sector == cc.TOTAL:
            if variable != cc.EMISSIONS_VAR:
                raise cc.ContractError("the total is defined for emissions only; pick a sector for uncertainty")
            return np.asarray(var.isel(time=t).values, dtype=np.float64).sum(axis=0)
        return np.asarray(var.isel(time=t, sector=self.sectors.index(sector)).values)


class Registry:
    """Dataset id -> Cube, filled once at start-up from trusted paths."""

    def __init__(self) -> None:
        self._cubes: dict[str, Cube] = {}

    def add(self, path: Path) -> Cube:
        """Open a sealed store and serve it under the id recorded in its metadata."""
        path = Path(path).resolve()
        ds = open_cube(path)
        cube_id = str(ds.attrs["carbonmap_dataset_id"])
        cube = Cube(cube_id, path, ds)
        self._cubes[cube_id] = cube
        return cube

    def get(self, dataset_id: str) -> Cube:
        try:
            return self._cubes[dataset_id]
        except KeyError:
            known = ", ".join(sorted(self._cubes)) or "none"
            raise DatasetNotFound(f"unknown dataset {dataset_id!r}; served datasets: {known}") from None

    def ids(self) -> list[str]:
        return sorted(self._cubes)

    def __len__(self) -> int:
        return len(self._cubes)

    @property
    def default_id(self) -> str | None:
        return self.ids()[0] if self._cubes else None
