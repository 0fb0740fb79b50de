"""The small tables of a release, read side: national history, sector history, facilities, power mix.

A release holds them under ``tables/<name>`` as Parquet bytes in a one-dimensional uint8 Zarr array (so they are
copied, linked and pruned with the release and its answers are pinned to it).  ``pipelines/release_tables.py``
builds and writes them; the analysis routes read them through this module.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

TABLES_DIR = "tables"
HISTORY = "national_history"
SECTOR_HISTORY = "national_sector_history"
FACILITIES = "facilities"
POWER_MIX = "power_mix"
HISTORY_FIRST_YEAR = 1970
FUELS = ("total", "coal", "oil", "gas", "cement", "flaring", "other")


def history_table(gcb: pd.DataFrame, first_year: int = HISTORY_FIRST_YEAR) -> pd.DataFrame:
    """GCB rows from ``first_year`` to the last year with a total: iso3, year, FUELS (Mt CO2 yr-1)."""
    last = int(gcb.loc[gcb["total"].notna(), "year"].max())
    g = gcb[(gcb["year"] >= first_year) & (gcb["year"] <= last) & gcb["iso3"].notna()]
    out = g[["iso3", "year", *FUELS]].copy()
    out["iso3"] = out["iso3"].astype(str)
    out["year"] = out["year"].astype(np.int16)
    for c in FUELS:
        out[c] = out[c].astype(np.float64)
    return out.sort_values(["iso3", "year"]).reset_index(drop=True)


def read_table(release: str | Path, name: str) -> pd.DataFrame | None:
    """A table of a release (None if the release has none: built before these tables existed)."""
    import zarr

    from carbonmap.storage import cube as store

    try:
        arr = zarr.open_array(store=store.zarr_store(release, read_only=True), path=f"{TABLES_DIR}/{name}", mode="r")
    except FileNotFoundError:  # zarr's ArrayNotFoundError / NodeNotFoundError are FileNotFoundErrors
        return None
    return pd.read_parquet(io.BytesIO(np.asarray(arr[:]).tobytes()))
