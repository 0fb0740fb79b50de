"""The national table of one release in memory, with monthly sums, cached per (store, release) in the app's caches.

Read by the region queries (each country group's whole total, for the allocation interval) and by the
analysis (totals, evidence). Arrays: kg CO2 day-1, dims (time, sector, country).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from cachetools import LRUCache

from api.national_series import period_codes
from carbonmap import contract as cc
from carbonmap.caches import AppCaches
from carbonmap.registry import Cube


@dataclass(frozen=True)
class NationalArrays:
    """The national table of one release in memory: ``nat`` kg CO2 day-1, ``sig`` absolute 1-sigma kg day-1 and
    ``ev`` evidence codes, dims (time, sector, country); and their monthly sums (computed once): ``m_est``,
    ``m_sig`` (month, sector, country) kg, ``m_ev`` (month, sector, country, level) kg per evidence level."""

    times: pd.DatetimeIndex
    countries: tuple[str, ...]
    nat: np.ndarray
    sig: np.ndarray
    ev: np.ndarray | None
    months: pd.DatetimeIndex
    month_start: np.ndarray
    """Index of each month's first day on the time axis (and the number of days at the end)."""
    m_est: np.ndarray
    m_sig: np.ndarray
    m_ev: np.ndarray | None

    def cidx(self, codes: tuple[str, ...]) -> slice | list[int]:
        """Country axis selection (a slice when all countries are asked: no copy)."""
        if len(codes) == len(self.countries) and tuple(codes) == self.countries:
            return slice(None)
        return [self.countries.index(c) for c in codes]

    def sums(self, cidx: slice | list[int], i0: int, i1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Days [i0, i1): (sector, country) emissions and sigma sums (kg) and (sector, level) evidence sums (kg),
        from the whole months inside plus the days around them."""
        ms = self.month_start
        a = int(np.searchsorted(ms, i0, side="left"))
        b = int(np.searchsorted(ms, i1, side="right")) - 1
        e = np.zeros((self.nat.shape[1], len(self.countries) if isinstance(cidx, slice) else len(cidx)))
        s = np.zeros_like(e)
        lv = len(cc.EVIDENCE_LEVELS)
        ev = np.zeros((e.shape[0], lv)) if self.ev is not None else None
        spans = [(i0, i1)] if a >= b else [(i0, int(ms[a])), (int(ms[b]), i1)]
        for lo, hi in spans:
            if hi > lo:
                x = self.nat[lo:hi][:, :, cidx]
                e += x.sum(axis=0)
                s += self.sig[lo:hi][:, :, cidx].sum(axis=0)
                if ev is not None and self.ev is not None:
                    codes = self.ev[lo:hi][:, :, cidx]
                    for k in range(lv):
                        ev[:, k] += np.where(codes == k, x, 0.0).sum(axis=(0, 2))
        if b > a:
            e += self.m_est[a:b][:, :, cidx].sum(axis=0)
            s += self.m_sig[a:b][:, :, cidx].sum(axis=0)
            if ev is not None and self.m_ev is not None:
                ev += self.m_ev[a:b][:, :, cidx].sum(axis=(0, 2))
        return e, s, ev


NATIONAL_ITEMS = 4
"""(store, release) national tables one app keeps in memory (each: days x 7 sectors x countries float64, twice)."""
CACHE_NAME = "api.national_arrays"
"""Name of the :class:`NationalCache` in an app's :class:`~carbonmap.caches.AppCaches`."""


class NationalCache:
    """The :class:`NationalArrays` of one app, an LRU of :data:`NATIONAL_ITEMS` keyed by (store path, release)."""

    def __init__(self, max_items: int = NATIONAL_ITEMS) -> None:
        self.items: LRUCache[tuple[str, str | None], NationalArrays] = LRUCache(maxsize=max_items)
        self._lock = threading.Lock()

    def get(self, cube: Cube) -> NationalArrays:
        key = (str(cube.path), cube.release)
        with self._lock:
            hit = self.items.get(key)  # a hit is the most recently used
        if hit is not None:
            return hit
        value = _read(cube)
        with self._lock:
            self.items[key] = value  # evicts the least recently used beyond max_items
        return value

    def __len__(self) -> int:
        return len(self.items)


def national_arrays(cube: Cube, caches: AppCaches) -> NationalArrays:
    """The national table of ``cube``'s release, from the serving app's ``caches`` (read once per (store, release))."""
    return caches.memo(CACHE_NAME, 1, "national", NationalCache).get(cube)


def _read(cube: Cube) -> NationalArrays:
    """Read the national table of ``cube`` and sum it per month."""
    ds = cube.ds
    nat = np.asarray(ds[cc.NATIONAL_VAR].values, dtype=np.float64)
    sig = np.abs(np.asarray(ds[cc.NATIONAL_UNC_VAR].values, dtype=np.float64)) * nat
    ev = np.asarray(ds[cc.EVIDENCE_VAR].values) if cc.EVIDENCE_VAR in ds else None
    times = cube.times
    codes, labels = period_codes(times, "month")
    starts = np.searchsorted(codes, np.arange(len(labels)))
    m_ev = None
    if ev is not None:
        m_ev = np.stack([np.add.reduceat(np.where(ev == k, nat, 0.0), starts, axis=0)
                         for k in range(len(cc.EVIDENCE_LEVELS))], axis=-1)
    return NationalArrays(times, cube.countries, nat, sig, ev,
                          pd.DatetimeIndex(pd.to_datetime([f"{m}-01" for m in labels])),
                          np.append(starts, len(times)), np.add.reduceat(nat, starts, axis=0),
                          np.add.reduceat(sig, starts, axis=0), m_ev)
