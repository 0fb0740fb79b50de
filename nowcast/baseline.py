"""Annual national sector totals: GCB national totals split by inventory sector shares.

Pure functions over tables.  GCB's national fossil CO2 (territorial, bunkers excluded) is
split into the 5 national sectors with per-country shares; GCB's International Aviation
(XIA) and International Shipping (XIS) rows become the two international sectors.  Years
past the last inventory year are carried forward by persistence here (the skeleton rule,
named in metadata); issue 4's nowcast replaces that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonmap.contract import INTERNATIONAL_SECTORS, KG_PER_MT, NATIONAL_SECTORS, SECTORS

AGGREGATE_CODES = frozenset({"WLD"})
PERSISTENCE_METHOD = "persistence: years after the last inventory year repeat the last year's totals"


@dataclass(frozen=True)
class AnnualTotals:
    """Annual emissions by sector and region for one year, (sector, region), kg CO2 yr-1."""

    year: int
    regions: tuple[str, ...]
    values: np.ndarray
    inventory_year: int
    """The inventory year the values come from (== year unless carried forward)."""

    def total(self) -> float:
        return float(self.values.sum())


def regions_of(gcb: pd.DataFrame) -> tuple[str, ...]:
    """All GCB entity codes that carry emissions: countries plus XIA and XIS (not WLD)."""
    codes = sorted(c for c in gcb["iso3"].dropna().unique() if c not in AGGREGATE_CODES)
    intl = [c for c in INTERNATIONAL_SECTORS.values() if c in codes]
    return tuple([c for c in codes if c not in intl] + intl)


NATIONAL_REL_SIGMA: dict[str, float] = {
    "power": 0.05,
    "industry": 0.10,
    "ground_transport": 0.08,
    "residential": 0.12,
    "domestic_aviation": 0.10,
    "international_aviation": 0.08,
    "international_shipping": 0.10,
}
"""Relative 1-sigma of an inventory year's national sector totals (skeleton values in the range
GCB and Carbon Monitor report: about 5% for national fossil totals, more for sector splits)."""

PERSISTENCE_SIGMA_PER_YEAR = 0.02
"""Extra relative 1-sigma per year of persistence past the last inventory year, added in quadrature."""


def national_rel_sigma(sector: str, years_past_inventory: int) -> float:
    """Relative 1-sigma of a national sector total ``years_past_inventory`` after the inventory."""
    base = NATIONAL_REL_SIGMA[sector]
    return float(np.hypot(base, PERSISTENCE_SIGMA_PER_YEAR * max(0, years_past_inventory)))


def annual_sector_table(gcb: pd.DataFrame, shares: pd.DataFrame, years: list[int],
                        regions: tuple[str, ...]) -> np.ndarray:
    """Inventory years' sector totals, dims (year, sector, region), kg CO2 yr-1 (vectorised
    :func:`annual_sector_totals`; NaN GCB values become 0).  ``years`` must not pass the last
    inventory year."""
    last = int(gcb.loc[gcb["total"].notna(), "year"].max())
    if years and max(years) > last:
        raise ValueError(f"year {max(years)} is past the last inventory year {last}; nowcast it instead")
    wide = gcb.pivot_table(index="year", columns="iso3", values="total", aggfunc="first")
    tot = wide.reindex(index=years, columns=list(regions)).fillna(0.0).to_numpy(np.float64) * KG_PER_MT
    return split_by_shares(tot, shares, regions)


def split_by_shares(totals: np.ndarray, shares: pd.DataFrame, regions: tuple[str, ...]) -> np.ndarray:
    """Region totals (year, region) -> (year, sector, region) with inventory shares; XIA/XIS to their sector."""
    intl_of = {code: sector for sector, code in INTERNATIONAL_SECTORS.items()}
    national = [r for r in regions if r not in intl_of]
    missing = [r for r in national if r not in shares.index]
    if missing:
        raise ValueError(f"no sector shares for {', '.join(missing[:10])}")
    sh = np.zeros((len(SECTORS), len(regions)))
    cols = shares.reindex(index=national, columns=list(NATIONAL_SECTORS)).to_numpy(np.float64)
    if not np.allclose(cols.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("sector shares must sum to 1 per country")
    pos = {r: j for j, r in enumerate(regions)}
    for i, sector in enumerate(NATIONAL_SECTORS):
        sh[SECTORS.index(sector), [pos[r] for r in national]] = cols[:, i]
    for code, sector in intl_of.items():
        if code in pos:
            sh[SECTORS.index(sector), pos[code]] = 1.0
    return np.asarray(totals, dtype=np.float64)[:, None, :] * sh[None, :, :]
