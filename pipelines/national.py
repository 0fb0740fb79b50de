"""National daily sector totals for a period: annual totals x daily profiles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap import contract as cc
from nowcast.baseline import PERSISTENCE_METHOD, annual_sector_totals, national_rel_sigma, regions_of
from nowcast.profiles import PROFILE_METHOD, disaggregate_annual, year_days
from pipelines.inputs import BuildInputs


@dataclass(frozen=True)
class NationalDaily:
    """Daily national totals, (time, sector, region) kg CO2 day-1, and their relative 1-sigma."""

    times: pd.DatetimeIndex
    regions: tuple[str, ...]
    values: np.ndarray
    rel_sigma: np.ndarray
    methods: dict[str, str]


def national_daily(inputs: BuildInputs, times: pd.DatetimeIndex) -> NationalDaily:
    """National daily sector totals for ``times`` (any span of whole or partial years)."""
    regions = regions_of(inputs.gcb)
    south = np.array([inputs.south.get(r, False) for r in regions])
    values = np.zeros((len(times), len(cc.SECTORS), len(regions)))
    sigma = np.zeros_like(values)
    methods = {"temporal": PROFILE_METHOD, "baseline": "GCB national totals x inventory sector shares"}
    for year in sorted(set(times.year)):
        annual = annual_sector_totals(inputs.gcb, inputs.shares, int(year), regions)
        past = int(year) - annual.inventory_year
        if past > 0:
            methods["extrapolation"] = PERSISTENCE_METHOD
        days = year_days(int(year))
        take = days.isin(times)
        rows = times.get_indexer(days[take])
        for s, sector in enumerate(cc.SECTORS):
            daily = disaggregate_annual(annual.values[s], days, sector, south)
            values[rows, s, :] = daily[take]
            sigma[rows, s, :] = national_rel_sigma(sector, past)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        t, s, r = (int(x[0]) for x in np.nonzero(bad))
        raise ValueError(f"national emissions must be finite and >= 0; {regions[r]} {cc.SECTORS[s]} on "
                         f"{times[t]:%Y-%m-%d} is {values[t, s, r]!r}: check the inventory input")
    sigma = np.where(values > 0, sigma, 0.0)
    return NationalDaily(times, regions, values, sigma, methods)
