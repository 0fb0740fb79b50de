"""Simple daily profiles: annual national sector totals -> daily values (skeleton method).

These are the walking skeleton's temporal profiles: a weekday cycle times a seasonal
cosine, per sector, normalised so each year's days sum to the annual total exactly.
They are named as such in the dataset metadata (``PROFILE_METHOD``).  Issue 4's
indicator-driven disaggregation replaces them sector by sector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap.contract import SECTORS

PROFILE_METHOD = "skeleton profiles: weekday factors x seasonal cosine by hemisphere, normalised per year"


@dataclass(frozen=True)
class SectorProfile:
    """Weekday factors (Mon..Sun) and a seasonal amplitude; peak day-of-year for the north."""

    weekday: tuple[float, float, float, float, float, float, float]
    seasonal_amplitude: float
    north_peak_doy: int = 15


PROFILES: dict[str, SectorProfile] = {
    # power: weekday load cycle, winter and summer peaks approximated by a winter cosine
    "power": SectorProfile((1.03, 1.04, 1.04, 1.04, 1.02, 0.95, 0.88), 0.10, 15),
    "industry": SectorProfile((1.06, 1.07, 1.07, 1.07, 1.05, 0.90, 0.78), 0.03, 15),
    "ground_transport": SectorProfile((1.02, 1.03, 1.03, 1.04, 1.08, 0.98, 0.82), 0.05, 196),
    "residential": SectorProfile((1.0, 1.0, 1.0, 1.0, 1.0, 1.02, 1.02), 0.45, 15),
    "domestic_aviation": SectorProfile((1.02, 0.97, 0.97, 1.0, 1.04, 0.96, 1.04), 0.08, 196),
    "international_aviation": SectorProfile((1.0,) * 7, 0.08, 196),
    "international_shipping": SectorProfile((1.0,) * 7, 0.0, 15),
}


def year_days(year: int) -> pd.DatetimeIndex:
    """All days of a calendar year (365 or 366)."""
    return pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")


def shape(days: pd.DatetimeIndex, sector: str, south: bool = False) -> np.ndarray:
    """Unnormalised daily shape for a sector, dims (day,), dimensionless and > 0."""
    p = PROFILES[sector]
    weekday = np.asarray(p.weekday)[days.dayofweek]
    peak = p.north_peak_doy + (182 if south else 0)
    season = 1.0 + p.seasonal_amplitude * np.cos(2 * np.pi * (days.dayofyear.values - peak) / 365.25)
    return weekday * season


def disaggregate_annual(annual: np.ndarray, days: pd.DatetimeIndex, sector: str,
                        south: np.ndarray | None = None) -> np.ndarray:
    """Spread annual totals over the days of their year.

    annual: (country,) kg CO2 yr-1 for the year of ``days`` (all days of one calendar year).
    south: (country,) bool, True where the country's seasons follow the southern hemisphere.
    Returns (day, country) kg CO2 day-1 whose sum over days equals ``annual`` (float64 exact
    up to rounding, ~1e-15 relative).
    """
    years = np.unique(days.year)
    if len(years) != 1 or len(days) != len(year_days(int(years[0]))):
        raise ValueError("disaggregate_annual needs exactly the days of one calendar year")
    if sector not in SECTORS:
        raise ValueError(f"unknown sector {sector!r}")
    annual = np.asarray(annual, dtype=np.float64)
    south = np.zeros(annual.shape, bool) if south is None else np.asarray(south, bool)
    north_shape = shape(days, sector, south=False)
    south_shape = shape(days, sector, south=True)
    shapes = np.where(south[None, :], south_shape[:, None], north_shape[:, None])
    weights = shapes / shapes.sum(axis=0, keepdims=True)
    return weights * annual[None, :]
