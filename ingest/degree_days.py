"""Population-weighted heating and cooling degree days per country per day (pure functions).

Definitions (base temperature ``base_c``, default :data:`BASE_C` = 18 degC for both):

- per cell and day, from the daily mean temperature T (degC):
  ``HDD = max(0, base - T)``, ``CDD = max(0, T - base)``, degC day day-1;
- per country and day, the weighted mean over cells, weights ``w = population x coverage``, where
  coverage is the exact share of the cell inside the country (:class:`ingest.boundaries.Coverage`)::

      HDD(country, day) = sum_cells w * HDD(cell, day) / sum_cells w

  Degree days are computed per cell *before* averaging (averaging temperatures first would cancel
  warm and cold regions).  A country with no population on the grid (uninhabited islands, grids
  too coarse) falls back to area weights ``coverage x cell area``, flagged by ``weighting='area'``.

Monthly country means (:func:`daily_from_monthly`): daily mean temperatures inside a month are
modelled as normal with mean ``mu(day)`` and standard deviation ``sigma`` (default
:data:`DAILY_SIGMA_C` = 3 degC).  ``mu`` interpolates linearly between mid-month values and is then
shifted within each month so its monthly mean equals the published monthly mean exactly.  Expected
degree days are then ``E[max(0, base - T)] = sigma * phi(z) + (base - mu) * Phi(z)``, with
``z = (base - mu) / sigma`` (and symmetrically for CDD).  This keeps the monthly HDD sum right even
in shoulder months where a step function of monthly means would give 0.

The canonical ``indicators`` table is long: ``country, indicator, day, value, units, weighting, source``
with indicators ``hdd`` and ``cdd`` (see :func:`to_indicator_table`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from carbonmap.contract import Grid
from carbonmap.settings import Settings
from ingest.base import IngestError
from ingest.boundaries import Coverage

BASE_C = 18.0
"""Base temperature of heating and cooling degree days, degC."""
DAILY_SIGMA_C = 3.0
"""Assumed day-to-day standard deviation of daily mean temperature inside a month, degC."""
DD_UNITS = "degC day day-1"


def cell_degree_days(tmean_c: np.ndarray, base_c: float = BASE_C) -> tuple[np.ndarray, np.ndarray]:
    """(HDD, CDD) per cell and day from daily mean temperature (degC), same shape; NaN stays NaN."""
    t = np.asarray(tmean_c, dtype=np.float64)
    return np.maximum(base_c - t, 0.0), np.maximum(t - base_c, 0.0)


def regrid_population(population: xr.DataArray, grid: Grid) -> np.ndarray:
    """Population count (persons per cell) on ``grid``, dims (lat, lon), conserving the total.

    ``population`` must be on a regular north-up lattice aligned with ``grid`` (GPW's 1 degree is):
    finer target cells split a source cell evenly, coarser target cells sum whole source cells.
    """
    src = Grid.from_coords(population["lat"].values, population["lon"].values)
    pop = np.asarray(population.values, dtype=np.float64)
    if src.bounds != grid.bounds and not (src.west <= grid.west and src.east >= grid.east
                                          and src.south <= grid.south and src.north >= grid.north):
        raise IngestError(f"population grid {src.bounds} does not cover the target {grid.bounds}")
    ratio = src.resolution / grid.resolution
    if abs(ratio - round(ratio)) < 1e-9 and round(ratio) >= 1:
        k = round(ratio)
        fine = np.repeat(np.repeat(pop, k, axis=0), k, axis=1) / (k * k)
        fine_grid = Grid(grid.resolution, src.west, src.south, src.east, src.north)
        rs, cs = fine_grid.slices_of(grid)
        return fine[rs, cs]
    inv = grid.resolution / src.resolution
    if abs(inv - round(inv)) < 1e-9:
        k = round(inv)
        sub = src.subset(*grid.bounds)
        rs, cs = src.slices_of(sub)
        block = pop[rs, cs]
        if block.shape != (grid.nlat * k, grid.nlon * k):
            raise IngestError("population grid is not aligned with the target grid")
        return block.reshape(grid.nlat, k, grid.nlon, k).sum(axis=(1, 3))
    raise IngestError(f"population at {src.resolution} degree cannot be regridded to {grid.resolution} degree "
                      f"(resolutions must be integer multiples)")


def country_weights(coverage: Coverage, population: np.ndarray):  # -> (csr (country, cell), weighting array)
    """Sparse (country, cell) weights ``population x coverage``; area weights where a country has no people."""
    from scipy.sparse import csr_array

    grid = coverage.grid
    pop = np.asarray(population, dtype=np.float64)
    if pop.shape != grid.shape:
        raise IngestError(f"population has shape {pop.shape}, the coverage grid is {grid.shape}")
    if (pop < 0).any() or not np.isfinite(pop).all():
        raise IngestError("population must be finite and >= 0")
    w = coverage.fraction * pop.ravel()[coverage.cell]
    tot = np.bincount(coverage.region, weights=w, minlength=len(coverage.ids))
    no_people = tot[coverage.region] <= 0
    area = grid.cell_area_m2()[coverage.cell // grid.nlon]
    w = np.where(no_people, coverage.fraction * area, w)
    weighting = np.where(tot > 0, "population", "area")
    mat = csr_array((w, (coverage.region, coverage.cell)), shape=(len(coverage.ids), grid.nlat * grid.nlon))
    return mat, weighting


def population_weighted_degree_days(tmean_c: xr.DataArray, population: np.ndarray, coverage: Coverage,
                                    base_c: float = BASE_C) -> xr.Dataset:
    """Daily population-weighted HDD and CDD per country.

    ``tmean_c``: daily mean temperature, degC, dims (day, lat, lon) on ``coverage.grid`` (use
    :func:`ingest.era5.to_grid`); ``population``: persons per cell, (lat, lon) on the same grid
    (use :func:`regrid_population`).  Returns ``hdd(country, day)`` and ``cdd(country, day)`` in
    degC day day-1, plus ``weighting(country)`` ('population' or 'area').  Cells with NaN temperature
    are left out of the weights of that day.
    """
    grid = coverage.grid
    if tuple(tmean_c.dims) != ("day", "lat", "lon"):
        raise IngestError(f"temperature must have dims (day, lat, lon), got {tmean_c.dims}")
    if tmean_c.shape[1:] != grid.shape:
        raise IngestError(f"temperature grid {tmean_c.shape[1:]} differs from the coverage grid {grid.shape}")
    if not np.allclose(tmean_c["lat"].values, grid.lat) or not np.allclose(tmean_c["lon"].values, grid.lon):
        raise IngestError("temperature coordinates are not the coverage grid's cell centres")
    mat, weighting = country_weights(coverage, population)
    t = np.asarray(tmean_c.values, dtype=np.float64).reshape(tmean_c.shape[0], -1)  # (day, cell)
    valid = np.isfinite(t)
    hdd, cdd = cell_degree_days(np.where(valid, t, base_c), base_c)
    wsum = (mat @ valid.T.astype(np.float64))  # (country, day)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = (mat @ hdd.T) / wsum
        c = (mat @ cdd.T) / wsum
    coords = {"country": list(coverage.ids), "day": tmean_c["day"].values}
    attrs = {"units": DD_UNITS, "base_temperature_c": base_c,
             "weighting": "population x exact country coverage (area where a country has no population)"}
    return xr.Dataset({"hdd": (("country", "day"), h, {**attrs, "long_name": "heating degree days"}),
                       "cdd": (("country", "day"), c, {**attrs, "long_name": "cooling degree days"}),
                       "weighting": (("country",), weighting.astype(str))}, coords=coords)


def mean_preserving_daily(monthly_mean: np.ndarray, months: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Daily values whose monthly means equal ``monthly_mean`` exactly, shaped by linear interpolation.

    ``months``: consecutive month starts; returns (days, values), dims (day,).
    """
    months = pd.DatetimeIndex(months)
    m = np.asarray(monthly_mean, dtype=np.float64)
    if len(months) != len(m) or len(m) == 0:
        raise IngestError("monthly values and months must have the same non-zero length")
    if len(months) > 1 and not (months[1:] == months[:-1] + pd.offsets.MonthBegin(1)).all():
        raise IngestError("months must be consecutive month starts (no gaps, no duplicates)")
    days = pd.date_range(months[0], months[-1] + pd.offsets.MonthEnd(0), freq="D")
    mid = months + pd.to_timedelta((months.days_in_month - 1) / 2.0, unit="D")
    x = (days - days[0]) / pd.Timedelta(days=1)
    xm = (mid - days[0]) / pd.Timedelta(days=1)
    shape = np.interp(np.asarray(x, dtype=np.float64), np.asarray(xm, dtype=np.float64), m)
    key = days.year * 12 + days.month
    codes, _ = pd.factorize(key)
    shift = m - np.bincount(codes, weights=shape) / np.bincount(codes)
    return days, shape + shift[codes]


def expected_degree_days(mu_c: np.ndarray, sigma_c: float = DAILY_SIGMA_C,
                         base_c: float = BASE_C) -> tuple[np.ndarray, np.ndarray]:
    """Expected (HDD, CDD) of a normal daily mean temperature N(mu, sigma^2), degC day day-1."""
    if sigma_c <= 0:
        raise IngestError("sigma must be positive")
    mu = np.asarray(mu_c, dtype=np.float64)
    z = (base_c - mu) / sigma_c
    hdd = sigma_c * norm.pdf(z) + (base_c - mu) * norm.cdf(z)
    cdd = hdd - (base_c - mu)  # E[max(0, T-b)] - E[max(0, b-T)] = mu - b
    return hdd, np.maximum(cdd, 0.0)


def daily_from_monthly(monthly: pd.DataFrame, sigma_c: float = DAILY_SIGMA_C, base_c: float = BASE_C) -> pd.DataFrame:
    """Daily HDD/CDD per country from monthly mean temperatures (:func:`ingest.era5.read_era5_monthly_country`).

    Returns ``iso3, day, tmean_c, hdd, cdd`` (degC, degC day day-1); see the module docstring.
    """
    need = {"iso3", "month", "tmean_c"}
    if not need <= set(monthly.columns):
        raise IngestError(f"monthly temperature table lacks {sorted(need - set(monthly.columns))}")
    out = []
    for iso, g in monthly.sort_values("month").groupby("iso3", sort=True):
        days, mu = mean_preserving_daily(g["tmean_c"].to_numpy(), pd.DatetimeIndex(g["month"]))
        h, c = expected_degree_days(mu, sigma_c, base_c)
        out.append(pd.DataFrame({"iso3": iso, "day": days, "tmean_c": mu, "hdd": h, "cdd": c}))
    df = pd.concat(out, ignore_index=True)
    df.attrs.update({"units": DD_UNITS, "base_temperature_c": base_c, "daily_sigma_c": sigma_c,
                     "method": "mean-preserving daily interpolation + expected degree days of N(mu, sigma)"})
    return df


def to_indicator_table(dd: xr.Dataset | pd.DataFrame, source: str, weighting: str | None = None) -> pd.DataFrame:
    """The canonical long ``indicators`` rows: ``country, indicator, day, value, units, weighting, source``."""
    if isinstance(dd, xr.Dataset):
        frames = []
        for ind in ("hdd", "cdd"):
            s = dd[ind].to_series().rename("value").reset_index()
            s["weighting"] = s["country"].map(dict(zip(dd["country"].values, dd["weighting"].values, strict=True)))
            frames.append(s.assign(indicator=ind))
        df = pd.concat(frames, ignore_index=True)
    else:
        df = pd.concat([dd[["iso3", "day", ind]].rename(columns={"iso3": "country", ind: "value"})
                        .assign(indicator=ind) for ind in ("hdd", "cdd")], ignore_index=True)
        df["weighting"] = weighting or "area"
    df["units"] = DD_UNITS
    df["source"] = source
    df["day"] = pd.to_datetime(df["day"])
    df = df[["country", "indicator", "day", "value", "units", "weighting", "source"]]
    if df.duplicated(["country", "indicator", "day"]).any():
        raise IngestError("indicator table has duplicate (country, indicator, day) rows")
    return df.sort_values(["country", "indicator", "day"]).reset_index(drop=True)


def era5_country_degree_days(era5_paths, gpw_path, grid: Grid, base_c: float = BASE_C, *,
                             settings: Settings) -> xr.Dataset:
    """Thin I/O wrapper: ERA5 NetCDF files + GPW ASCII grid -> :func:`population_weighted_degree_days` on ``grid``.

    Temperature: UTC-day means of the ERA5 samples, bilinear to ``grid``; population: GPW regridded
    (conserving) to ``grid``; coverage: cached exact Natural Earth country fractions on ``grid`` (the caller's
    ``settings``: data and cache dirs).
    """
    from ingest.boundaries import cached_country_coverage
    from ingest.era5 import ERA5Adapter, to_grid
    from ingest.gpw import read_gpw_ascii

    daily = ERA5Adapter(settings).read(list(era5_paths))
    t = to_grid(daily, grid).transpose("day", "lat", "lon")
    pop = regrid_population(read_gpw_ascii(gpw_path), grid)
    out = population_weighted_degree_days(t, pop, cached_country_coverage(grid, settings=settings), base_c)
    out = out.assign_coords(n_samples=("day", daily["n_samples"].values))
    out.attrs.update({"temperature": "ERA5 2 m temperature, UTC-day mean of the available samples",
                      "population": "GPW v4.11 2020", "grid_resolution": grid.resolution})
    return out
